/*
 * store_int.h - what store.c (the API: statements, transactions, rows), store_season.c (declared
 * crops, the season walk, samples, assessments), store_assess.c (a season's results and limits)
 * store_schema.c (what is in the file: identity, schema versions, migrations) and store_obs.c (an
 * observation's compact form) share. Not part of the public API.
 */
#ifndef PARUS_STORE_INT_H
#define PARUS_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store_db.h"

#include <stddef.h>

#include "parus/store.h"
#include "parus/zonal.h"

/* 'PRUS' in PRAGMA application_id: tells a parus store from any other SQLite file. */
#define PARUS__STORE_APPLICATION_ID 0x50525553

/* Upper bound of the statement cache. store.c uses the slots below PARUS__STORE_STMT_SEASON,
 * store_season.c those from it to PARUS__STORE_STMT_RESULTS, store_assess.c those from it to
 * PARUS__STORE_STMT_WEATHER, store_weather.c the rest; each file checks its statement list
 * fits. */
#define PARUS__STORE_MAX_STMTS 100
#define PARUS__STORE_STMT_SEASON 40
#define PARUS__STORE_STMT_RESULTS 64
#define PARUS__STORE_STMT_WEATHER 96

/* The tables an assessment writes in bulk on PostgreSQL (store_bulk.c). */
enum parus__bulk_table {
    PARUS__BULK_ASSESS,  /* assessments */
    PARUS__BULK_RESULTS, /* parcel_results */
    PARUS__BULK_CREDITS, /* their credit verdicts */
    PARUS__BULK_FLAGS,   /* parcel_flags */
    PARUS__BULK_LIMITS,  /* limits */
    PARUS__BULK_N
};

/* Bytes of rows a table keeps before it sends them (COPY) to its temporary table. */
#define PARUS__BULK_SEND_BYTES ((size_t)1 << 20)

/* What a table's rows are sent into: the temporary table (created when missing, emptied at each
 * commit) and the COPY that fills it, its columns those of the row in order, the sequence number
 * last. */
struct parus__bulk_spec {
    const char *what;   /* for messages: "the results" */
    const char *create; /* CREATE TEMP TABLE IF NOT EXISTS ... ON COMMIT DELETE ROWS */
    const char *copy;   /* COPY ... (..., seq) FROM STDIN (FORMAT binary) */
    int n_fields;       /* of a row, its sequence number included */
};

/* A table's rows not yet sent, in COPY's binary form. */
struct parus__bulk {
    const struct parus__bulk_spec *spec;
    unsigned char *buf;
    size_t n, cap;
    size_t row_at; /* where the row being filled begins */
    int n_fields;  /* its fields so far */
    int rc;        /* its first failure (SQLITE_NOMEM, SQLITE_TOOBIG) */
    size_t n_rows; /* rows given since the season was opened, sent or not */
};

/* Milliseconds a call waits for another process's write lock before E_BUSY. */
#define PARUS__STORE_BUSY_TIMEOUT_MS 5000

struct parus_store {
    parus__db *db;
    char *path;  /* as given, for messages */
    int version; /* PRAGMA user_version as of the last check or migration */
    parus__stmt *stmt[PARUS__STORE_MAX_STMTS]; /* prepared on first use, finalized on close */
    int64_t open_tile;  /* the tile between parus_store_tile_begin and commit/abort, else 0 */
    size_t open_tile_n; /* observations added to it so far */
    bool obs_copy;      /* its optical observations stream through COPY (PostgreSQL) */
    bool radar_copy;    /* its radar observations go in bulk (PostgreSQL, store_bulk.c) */
    struct parus__bulk radar_in; /* and those not yet sent */
    /* its radar rows not yet inserted (SQLite: a batch of them a statement, store.c) */
    struct parus__radar_row *radar_rows;
    size_t n_radar_rows;
    parus__stmt *radar_batch; /* the INSERT of a full batch, prepared on first use */
    char open_tile_at[32];
    /* ingest's candidate walk (parus__store_parcels_in_box_num): PRAGMA data_version read before
     * it, and whether the open tile may take the walk's parcel numbers as they are, because no
     * other connection committed between the walk and the tile's BEGIN IMMEDIATE (SQLite) */
    bool walk_known;
    int64_t walk_version;
    bool tile_nums;
    bool open_tile_extend;       /* the open tile is a stored one taking the observations of parcels
                                    registered since (parus__store_tile_extend_begin) */
    bool open_assess;            /* between parus_store_assessments_begin and commit/abort */
    char open_assess_season[22]; /* its season, canonical "YYYY-MM-DD/YYYY-MM-DD" */
    char open_assess_at[32];     /* the time stamped on its rows */
    bool open_results;           /* between parus_store_results_begin and commit/abort (with
                                    open_assess: one transaction) */
    int64_t open_results_run;    /* the run stamped on its rows */
    bool bulk_on;                /* the season's rows go in bulk (PostgreSQL, store_bulk.c) */
    struct parus__bulk bulk[PARUS__BULK_N];
    int64_t bulk_seq;       /* the next row's sequence number */
    size_t bulk_send_bytes; /* PARUS__BULK_SEND_BYTES; a test may lower it */
    char note[512]; /* how a read-only store was opened, when the user should know; "" none */
};

/* The statement in cache slot `slot` (prepared from sql on first use, then reset and unbound);
 * NULL with err set when it cannot be prepared. A slot always holds the same sql. */
parus__stmt *parus__store_stmt(parus_store *store, size_t slot, const char *sql, parus_error *err);
/* st, checked by the backend now (parus__stmt_check); NULL with err set when st is NULL or the
 * backend refuses it. */
parus__stmt *parus__store_checked(parus_store *store, parus__stmt *st, parus_error *err);
/* The code to return after parus__store_stmt gave NULL (err may be NULL). */
parus_status parus__store_prepare_failed(parus_error *err);
/* E_SCHEMA unless the store is at this build's schema version (opened read-only and older). */
parus_status parus__store_require_current(const parus_store *store, parus_error *err);
/* BEGIN IMMEDIATE; COMMIT (rolled back on failure); ROLLBACK when a transaction is open. */
parus_status parus__store_tx_begin(parus_store *store, parus_error *err);
parus_status parus__store_tx_commit(parus_store *store, parus_error *err);
/* Commit the open assessments; without results (parus classify alone), a season that has
 * results is marked owed in the same transaction. */
parus_status parus__store_assessments_commit(parus_store *store, bool with_results,
                                             parus_error *err);
/* BEGIN for a write that must be the store's only one and read one snapshot throughout (an
 * assessment): BEGIN IMMEDIATE on SQLite; on PostgreSQL REPEATABLE READ after a lock of
 * season_state that every write making a season stale needs. */
parus_status parus__store_tx_begin_alone(parus_store *store, parus_error *err);
void parus__store_tx_rollback(parus_store *store);
/* UTC now, ISO 8601 to the second: "2026-11-23T10:14:08Z". */
void parus__store_utc_now(char out[32]);
/* head followed by n_rows groups "(?,...,?)" of n_cols parameters, comma-separated: a multi-row
 * INSERT ("INSERT INTO t (a, b) VALUES "); malloc'ed, NULL when out of memory or n is 0. */
char *parus__values_sql(const char *head, size_t n_cols, size_t n_rows);

/* Fill err from SQLite's last error on store->db: "<what>: <sqlite's reason>", where what is the
 * printf-style fmt. rc is the failing call's result: BUSY and LOCKED become E_BUSY, NOMEM E_NOMEM,
 * everything else E_STORE. Call it before anything else touches the connection (a ROLLBACK would
 * replace the message). */
parus_status parus__store_sql_fail(parus_store *store, int rc, parus_error *err, const char *fmt,
                                   ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Read the file's identity and version into store->version. Refuses (E_STORE) a SQLite file that
 * is not a parus store and (E_SCHEMA) one newer than this build; a database with no tables and
 * no identity is fresh (version 0), which open_existing (allow_fresh false) refuses. Reads only. */
parus_status parus__store_check_identity(parus_store *store, bool allow_fresh, parus_error *err);

/* Remove the recorded inputs of season (store_audit.c), inside the results transaction. */
parus_status parus__store_audit_clear(parus_store *store, const char *season, parus_error *err);

/* Remove the outliers of season (store_outlier.c), inside the results transaction. */
parus_status parus__store_outliers_clear(parus_store *store, const char *season, parus_error *err);

/* The columns of a radar observation row, as parus__store_radar_row reads them (o: the
 * radar_observations row, t: its tile, r: its radar_tiles row). */
#define PARUS__RADAR_ROW_COLUMNS                                                                   \
    "t.id, t.date, r.orbit_direction, r.relative_orbit, o.w_total_px, o.w_valid_px, "              \
    "o.valid_fraction, o.vv, o.vh, o.vh_vv, o.rvi, o.water_fraction, o.looks_vv, o.looks_vh, "     \
    "o.se_vv, o.se_vh, o.n_pixels, o.n_pure, r.coefficient"
/* Columns col0.. of such a row as a radar point. */
void parus__store_radar_row(parus__stmt *st, int col0, parus_radar_point *pt);

/* Prepare every statement of the statement cache (each module's list), so that a backend that
 * cannot take one says so now, naming it: for tests of a backend. */
parus_status parus__store_prepare_all(parus_store *store, parus_error *err);
/* The statements sql[0..n) of a module's cache slots from first_slot, each checked by the backend;
 * the first refused is named with what ("season", ...). */
parus_status parus__store_prepare_list(parus_store *store, size_t first_slot,
                                       const char *const *sql, size_t n, const char *what,
                                       parus_error *err);
parus_status parus__store_season_prepare_all(parus_store *store, parus_error *err);
parus_status parus__store_results_prepare_all(parus_store *store, parus_error *err);
parus_status parus__store_weather_prepare_all(parus_store *store, parus_error *err);

/* A statement's single integer into *out (-1 for NULL): SQLITE_OK, or the failing code. */
int parus__store_one_int(parus_store *store, const char *sql, int64_t *out);

/* What the identity read from a store says, on either backend: ours (its id is parus's) at
 * version; empty (no tables, no id) is a new store, accepted when allow_fresh; else not a parus
 * store, why_not added to the message. Sets store->version when accepted. */
parus_status parus__store_identity_verdict(parus_store *store, bool ours, int64_t version,
                                           bool empty, bool allow_fresh, const char *why_not,
                                           parus_error *err);

/* The PostgreSQL forms of check_identity and migrate (store_pg_schema.c): the identity is a row
 * of parus_meta; a fresh database gets the current schema in one transaction. */
parus_status parus__store_pg_identity(parus_store *store, bool allow_fresh, parus_error *err);
parus_status parus__store_pg_migrate(parus_store *store, parus_error *err);

/* Bring the store from store->version to PARUS_STORE_SCHEMA_VERSION, one transaction per step. */
parus_status parus__store_migrate(parus_store *store, parus_error *err);

/* Inside a load's transaction (store_retire.c): reinstate the retired parcels the set holds and,
 * whole, retire the stored parcels it does not; counts into st. */
parus_status parus__store_retire_in_load(parus_store *store, const parus_parcel_set *set,
                                         const char *source, const char *now, bool whole,
                                         parus_parcel_load_stats *st, parus_error *err);

/* The per-parcel statistics of an observation beyond the weights, one column each: X(column, member
 * of parus_observation as an offset). Version 2 had the NDVI columns; version 3 added the rest;
 * version 6 the own (unmixed) values, version 7 the own vegetated fraction.
 * This one list drove the migrations up to 18; since schema 19 the values are stored in their
 * compact form (store_obs.c), PARUS__OBS_PACKED below giving the packed order. Append only: a
 * new statistic needs a new migration step and a new packed format. */
#define PARUS__OBS_IDX(X, name, k)                                                                 \
    X(name##_mean, offsetof(parus_observation, mean) + (k) * sizeof(double))                       \
    X(name##_std, offsetof(parus_observation, std) + (k) * sizeof(double))                         \
    X(name##_min, offsetof(parus_observation, min) + (k) * sizeof(double))                         \
    X(name##_max, offsetof(parus_observation, max) + (k) * sizeof(double))
#define PARUS__OBS_BAND(X, name, role)                                                             \
    X(name##_mean, offsetof(parus_observation, band_mean) + (role) * sizeof(double))
#define PARUS__OBS_COLUMNS_V2(X)                                                                   \
    X(valid_fraction, offsetof(parus_observation, valid_fraction))                                 \
    PARUS__OBS_IDX(X, ndvi, PARUS_INDEX_NDVI)
#define PARUS__OBS_COLUMNS_V3(X)                                                                   \
    PARUS__OBS_IDX(X, evi, PARUS_INDEX_EVI)                                                        \
    PARUS__OBS_IDX(X, ndwi, PARUS_INDEX_NDWI)                                                      \
    PARUS__OBS_IDX(X, mndwi, PARUS_INDEX_MNDWI)                                                    \
    PARUS__OBS_IDX(X, ndmi, PARUS_INDEX_NDMI)                                                      \
    PARUS__OBS_BAND(X, blue, PARUS_ROLE_BLUE)                                                      \
    PARUS__OBS_BAND(X, green, PARUS_ROLE_GREEN)                                                    \
    PARUS__OBS_BAND(X, red, PARUS_ROLE_RED)                                                        \
    PARUS__OBS_BAND(X, re1, PARUS_ROLE_RE1)                                                        \
    PARUS__OBS_BAND(X, re2, PARUS_ROLE_RE2)                                                        \
    PARUS__OBS_BAND(X, re3, PARUS_ROLE_RE3)                                                        \
    PARUS__OBS_BAND(X, nir, PARUS_ROLE_NIR)                                                        \
    PARUS__OBS_BAND(X, nir_narrow, PARUS_ROLE_NIR_NARROW)                                          \
    PARUS__OBS_BAND(X, swir1, PARUS_ROLE_SWIR1)                                                    \
    PARUS__OBS_BAND(X, swir2, PARUS_ROLE_SWIR2)                                                    \
    X(ndvi_p10, offsetof(parus_observation, ndvi_p10))                                             \
    X(ndvi_p50, offsetof(parus_observation, ndvi_p50))                                             \
    X(ndvi_p90, offsetof(parus_observation, ndvi_p90))                                             \
    X(veg_fraction, offsetof(parus_observation, veg_fraction))                                     \
    X(water_fraction, offsetof(parus_observation, water_fraction))                                 \
    X(edge_share, offsetof(parus_observation, edge_share))
#define PARUS__OBS_OWN_IDX(X, name, k)                                                             \
    X(own_##name, offsetof(parus_observation, own_mean) + (k) * sizeof(double))
#define PARUS__OBS_OWN_BAND(X, name, role)                                                         \
    X(own_##name##_mean, offsetof(parus_observation, own_band_mean) + (role) * sizeof(double))
/* Version 6: the parcel's own (unmixed) values beside the mixed ones (zonal.h). */
#define PARUS__OBS_COLUMNS_V6(X)                                                                   \
    PARUS__OBS_OWN_IDX(X, ndvi, PARUS_INDEX_NDVI)                                                  \
    PARUS__OBS_OWN_IDX(X, evi, PARUS_INDEX_EVI)                                                    \
    PARUS__OBS_OWN_IDX(X, ndwi, PARUS_INDEX_NDWI)                                                  \
    PARUS__OBS_OWN_IDX(X, mndwi, PARUS_INDEX_MNDWI)                                                \
    PARUS__OBS_OWN_IDX(X, ndmi, PARUS_INDEX_NDMI)                                                  \
    PARUS__OBS_OWN_BAND(X, blue, PARUS_ROLE_BLUE)                                                  \
    PARUS__OBS_OWN_BAND(X, green, PARUS_ROLE_GREEN)                                                \
    PARUS__OBS_OWN_BAND(X, red, PARUS_ROLE_RED)                                                    \
    PARUS__OBS_OWN_BAND(X, re1, PARUS_ROLE_RE1)                                                    \
    PARUS__OBS_OWN_BAND(X, re2, PARUS_ROLE_RE2)                                                    \
    PARUS__OBS_OWN_BAND(X, re3, PARUS_ROLE_RE3)                                                    \
    PARUS__OBS_OWN_BAND(X, nir, PARUS_ROLE_NIR)                                                    \
    PARUS__OBS_OWN_BAND(X, nir_narrow, PARUS_ROLE_NIR_NARROW)                                      \
    PARUS__OBS_OWN_BAND(X, swir1, PARUS_ROLE_SWIR1)                                                \
    PARUS__OBS_OWN_BAND(X, swir2, PARUS_ROLE_SWIR2)                                                \
    X(own_unmixed_share, offsetof(parus_observation, own_unmixed_share))
/* Version 7: the vegetated fraction with each pixel judged on its own value. */
#define PARUS__OBS_COLUMNS_V7(X) X(own_veg_fraction, offsetof(parus_observation, own_veg_fraction))
#define PARUS__OBS_COLUMNS(X)                                                                      \
    PARUS__OBS_COLUMNS_V2(X)                                                                       \
    PARUS__OBS_COLUMNS_V3(X) PARUS__OBS_COLUMNS_V6(X) PARUS__OBS_COLUMNS_V7(X)

/* Schema 19: the same values in the compact form (store_obs.c): valid_fraction and ndvi_mean in
 * INTEGER columns x 10^4, the others packed into one BLOB in this order. */
#define PARUS__OBS_PACKED(X)                                                                       \
    X(ndvi_std, offsetof(parus_observation, std) + PARUS_INDEX_NDVI * sizeof(double))              \
    X(ndvi_min, offsetof(parus_observation, min) + PARUS_INDEX_NDVI * sizeof(double))              \
    X(ndvi_max, offsetof(parus_observation, max) + PARUS_INDEX_NDVI * sizeof(double))              \
    PARUS__OBS_COLUMNS_V3(X) PARUS__OBS_COLUMNS_V6(X) PARUS__OBS_COLUMNS_V7(X)
#define PARUS__OBS_PACKED_N 52
#define PARUS__OBS_PACK_FORMAT 1
#define PARUS__OBS_PACK_MAX 600
/* The columns of observation_values after its keys, in the order parus__obs_bind binds them and
 * parus__obs_read reads them. */
#define PARUS__OBS_ROW_COLUMNS                                                                     \
    "w_total_mpx, w_valid_mpx, n_pixels, n_pure, valid_fraction_e4, ndvi_mean_e4, vals"
#define PARUS__OBS_ROW_COLUMNS_O                                                                   \
    "o.w_total_mpx, o.w_valid_mpx, o.n_pixels, o.n_pure, o.valid_fraction_e4, o.ndvi_mean_e4, "    \
    "o.vals"
#define PARUS__OBS_ROW_N 7

/* Pack o's packed values into buf (PARUS__OBS_PACK_MAX bytes); its length. n_exact (may be NULL)
 * counts the values kept as doubles because they do not fit the 1e-4 form. */
size_t parus__obs_pack(const parus_observation *o, unsigned char *buf, size_t *n_exact);
/* Unpack into o's packed values (all NaN first); false when the BLOB is not one (damaged). A
 * NULL blob of length 0 is an observation with no packed value. */
bool parus__obs_unpack(const void *blob, size_t len, parus_observation *o);
/* The name of the k-th packed value, NULL past the last. */
const char *parus__obs_packed_name(size_t k);
/* An observation's row of observation_values after its keys (PARUS__OBS_ROW_COLUMNS). */
struct parus__obs_row {
    int64_t w_total_mpx, w_valid_mpx, n_pixels, n_pure, vf_e4, ndvi_e4;
    bool has_vf, has_ndvi; /* valid_fraction_e4 and ndvi_mean_e4 are not NULL */
    unsigned char vals[PARUS__OBS_PACK_MAX];
    size_t len; /* of vals */
};
/* o's row; false with *bad naming the value when the compact form cannot hold it (a weight
 * that is negative, not finite or over 10^12 px; valid_fraction or ndvi_mean not finite or over
 * 10^9). */
bool parus__obs_row(const parus_observation *o, struct parus__obs_row *row, size_t *n_exact,
                    const char **bad);
/* Bind o's row to parameters first.. of st: SQLITE_RANGE with *bad set as parus__obs_row says;
 * else the binding's code. */
int parus__obs_bind(parus__stmt *st, int first, const parus_observation *o,
                    struct parus__obs_row *row, size_t *n_exact, const char **bad);
/* Read columns first.. (PARUS__OBS_ROW_COLUMNS) of st into o; false when its values are damaged. */
bool parus__obs_read(parus__stmt *st, int first, parus_observation *o);
/* Set the k-th statistic of o (parus_observation_stat's numbering: PARUS__OBS_COLUMNS order). */
void parus__obs_set_stat(parus_observation *o, size_t k, double v);
/* Register parus_obs_value(vals, name) on db: a packed value of an observation (NULL: none). */
int parus__obs_register_sql(sqlite3 *db);

/* ---- rows in bulk (store_bulk.c) ----
 *
 * A binder fills the parameters of a statement (st, from parameter 1) or, when bulk is set, a row
 * of a table's bulk; the same calls fill either. Text NULL and real NaN are NULL. On a statement
 * the first failure is kept in rc and the rest are skipped; a bulk row keeps its own. */
typedef struct parus__binder {
    parus__stmt *st;
    struct parus__bulk *bulk;
    int i;
    int rc;
} parus__binder;
void parus__b_text(parus__binder *b, const char *s);
void parus__b_real(parus__binder *b, double v);
void parus__b_int(parus__binder *b, int64_t v);
void parus__b_null(parus__binder *b);

/* COPY's binary format (store_bulk.c; the optical observations in store.c stream it too): the
 * stream's header and trailer, and an unsigned value as n bytes big-endian at p. */
extern const unsigned char parus__copy_header[19];
extern const unsigned char parus__copy_trailer[2];
/* The end of a binary COPY whose rows went well so far (rc SQLITE_OK): the trailer put and the
 * COPY ended, the server's verdict returned; else the COPY abandoned and rc returned. */
int parus__copy_finish(parus__db *db, int rc);
static inline void parus__put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* Begin a row of b, a table of spec. */
void parus__bulk_row(struct parus__bulk *b, const struct parus__bulk_spec *spec);
/* End it: its sequence number added, its fields counted (E_INTERNAL when they are not the
 * table's), sent with the rows before it when they fill PARUS__BULK_SEND_BYTES. subject names
 * the row in messages. */
parus_status parus__bulk_row_end(parus_store *store, struct parus__bulk *b, const char *subject,
                                 parus_error *err);
/* Send b's rows to its temporary table now (nothing to do when none is waiting). */
parus_status parus__bulk_send(parus_store *store, struct parus__bulk *b, parus_error *err);
/* Forget every table's rows not yet sent (the transaction is rolled back: those sent go with it).
 */
void parus__bulk_discard(parus_store *store);
/* Free the buffers (the store closes). */
void parus__bulk_release(parus_store *store);
/* The first column of the first row of sql into out ("" when there is no row): SQLITE_OK or the
 * failing code. */
int parus__bulk_first(parus_store *store, const char *sql, char *out, size_t cap);
/* Run sql, a statement without rows (INSERT OR forms rewritten as for a cached statement):
 * SQLITE_OK or the failing code; parus__db_changes then counts its rows. */
int parus__bulk_run(parus_store *store, const char *sql);
/* Move a season's results, credit verdicts, flags and limits sent in bulk into their tables,
 * after the checks that stand for the per-row ones (store_assess.c). */
parus_status parus__store_results_bulk_move(parus_store *store, parus_error *err);

/* Test hook: the connection, for PRAGMAs a test needs (busy timeout, max_page_count). */
sqlite3 *parus__store_handle(parus_store *store);

#endif

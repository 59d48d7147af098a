/*
 * store.c - the store: one SQLite file, the only state that outlives a run and the only module
 * that knows SQL (schema and migrations: store_schema.c; declared crops, the season walk, samples
 * and assessments: store_season.c; a season's results and limits: store_assess.c; tables:
 * docs/store.md).
 *
 * Workload: a load of up to a few hundred thousand parcels at a time (one transaction), a tile
 * with its observations now and then (one transaction each), R-tree lookups of the parcels under
 * a tile, and small reads for people. One writer at a time; readers and the writer do not block
 * each other (WAL). Every statement is prepared once per connection, on first use, and kept
 * (SQLITE_PREPARE_PERSISTENT); values only ever enter SQL as bound parameters.
 *
 * Durability: synchronous=FULL. Commits are rare here (one per parcel load, one per tile), so the
 * fsync each costs is nothing next to the seconds a tile takes, and it buys what the nightly job
 * relies on: once parus says a tile is stored (and moves it out of the inbox) it is stored, even
 * if the machine loses power a second later. NORMAL would keep the store consistent too, but a
 * power cut could silently lose the last commits.
 *
 * Errors: every SQLite failure becomes a parus_error naming the store file with SQLite's reason;
 * a write that fails is rolled back before the call returns, so what was stored before stays.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "parus/zonal.h"
#include "ingest_int.h"
#include "store_int.h"
#include "util_int.h"

/* ---- statements ---- */

enum stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_PARCEL_LOOKUP,
    STMT_PARCEL_INSERT,
    STMT_PARCEL_UPDATE,
    STMT_RTREE_INSERT,
    STMT_RTREE_UPDATE,
    STMT_REJECTS_CLEAR,
    STMT_REJECT_INSERT,
    STMT_REJECT_GET,
    STMT_PARCEL_GET,
    STMT_PARCELS_IN_BOX,
    STMT_PARCEL_NUM,
    STMT_TILE_FIND,
    STMT_TILES_ON_DATE,
    STMT_TILE_INSERT,
    STMT_TILES_ALL,
    STMT_OBS_INSERT,
    STMT_TILE_SET_COUNT,
    STMT_PARCEL_SERIES,
    STMT_RUN_INSERT,
    STMT_RUN_END,
    STMT_COUNTS,
    STMT_OBS_DROP_PARCEL,
    STMT_CHANGE_INSERT,
    STMT_RADAR_TILE_INSERT,
    STMT_RADAR_OBS_DROP_PARCEL,
    STMT_PARCEL_RADAR_SERIES,
    STMT_TILE_OBSERVED_NUMS,
    STMT_TILE_ADD_COUNT,
    STMT_TILE_EXTEND_STALE,
    STMT_TILE_READING,
    STMT_N_
};

_Static_assert(STMT_N_ <= PARUS__STORE_STMT_SEASON, "statement cache too small");

#define PARCEL_COLUMNS                                                                             \
    "p.id, p.farmer_id, p.declared_area_m2, p.area_m2, p.lon_min_deg, p.lat_min_deg, "             \
    "p.lon_max_deg, p.lat_max_deg, p.wkb, p.repaired"

#define TILE_COLUMNS                                                                               \
    "id, hash, path, sensor, date, epsg, width, height, gt0, gt1, gt2, gt3, gt4, gt5, "            \
    "lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, n_parcels, status, processed_at"

static const char *const stmt_sql[STMT_N_] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_PARCEL_LOOKUP] = "SELECT num, farmer_id, declared_area_m2, area_m2, wkb, repaired "
                           "FROM parcels WHERE id = ?1",
    [STMT_PARCEL_INSERT] =
        "INSERT INTO parcels (id, farmer_id, declared_area_m2, area_m2, lon_min_deg, "
        "lat_min_deg, lon_max_deg, lat_max_deg, wkb, repaired, source, loaded_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING num",
    [STMT_PARCEL_UPDATE] =
        "UPDATE parcels SET farmer_id = ?2, declared_area_m2 = ?3, area_m2 = ?4, "
        "lon_min_deg = ?5, lat_min_deg = ?6, lon_max_deg = ?7, lat_max_deg = ?8, wkb = ?9, "
        "repaired = ?10, source = ?11, loaded_at = ?12 WHERE num = ?1",
    [STMT_RTREE_INSERT] = "INSERT INTO parcels_rtree (id, lon_min, lon_max, lat_min, lat_max) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_RTREE_UPDATE] = "UPDATE parcels_rtree SET lon_min = ?2, lon_max = ?3, lat_min = ?4, "
                          "lat_max = ?5 WHERE id = ?1",
    [STMT_REJECTS_CLEAR] = "DELETE FROM parcel_rejects WHERE source = ?1",
    [STMT_REJECT_INSERT] = "INSERT INTO parcel_rejects (source, feature_index, parcel_id, code, "
                           "reason, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [STMT_REJECT_GET] = "SELECT source, feature_index, code, reason FROM parcel_rejects "
                        "WHERE parcel_id = ?1 ORDER BY id DESC LIMIT 1",
    [STMT_PARCEL_GET] = "SELECT " PARCEL_COLUMNS " FROM parcels p WHERE p.id = ?1",
    /* CROSS JOIN keeps the R-tree as the outer loop; the second set of conditions drops the
     * near-misses of its 32-bit boxes */
    [STMT_PARCELS_IN_BOX] =
        "SELECT " PARCEL_COLUMNS ", p.num FROM parcels_rtree r CROSS JOIN parcels p "
        "ON p.num = r.id WHERE r.lon_max >= ?1 AND r.lon_min <= ?3 AND r.lat_max >= ?2 "
        "AND r.lat_min <= ?4 AND p.lon_max_deg >= ?1 AND p.lon_min_deg <= ?3 "
        "AND p.lat_max_deg >= ?2 AND p.lat_min_deg <= ?4 ORDER BY p.id",
    [STMT_PARCEL_NUM] = "SELECT num FROM parcels WHERE id = ?1",
    [STMT_TILE_FIND] = "SELECT " TILE_COLUMNS " FROM tiles WHERE hash = ?1",
    [STMT_TILES_ON_DATE] =
        "SELECT " TILE_COLUMNS " FROM tiles WHERE date = ?1 AND sensor = ?2 ORDER BY id",
    [STMT_TILE_INSERT] =
        "INSERT INTO tiles (hash, path, sensor, date, epsg, width, height, gt0, gt1, gt2, gt3, "
        "gt4, gt5, lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, n_parcels, status, "
        "processed_at, reading) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    [STMT_TILES_ALL] = "SELECT " TILE_COLUMNS " FROM tiles ORDER BY date, id",
    [STMT_OBS_INSERT] =
        "INSERT INTO observation_values (tile_id, parcel_num, " PARUS__OBS_ROW_COLUMNS
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [STMT_TILE_SET_COUNT] = "UPDATE tiles SET n_parcels = ?2 WHERE id = ?1",
    /* the parcels a stored tile measured (optical or radar), and the tile extended by more */
    [STMT_TILE_OBSERVED_NUMS] = "SELECT parcel_num, coalesce(valid_fraction_e4, 0) < 9990 FROM "
                                "observation_values WHERE tile_id = ?1 UNION ALL SELECT "
                                "parcel_num, coalesce(valid_fraction, 0) < 0.999 FROM "
                                "radar_observations WHERE tile_id = ?1 ORDER BY 1",
    [STMT_TILE_ADD_COUNT] = "UPDATE tiles SET n_parcels = n_parcels + ?2 WHERE id = ?1",
    [STMT_TILE_READING] = "SELECT reading FROM tiles WHERE id = ?1",
    /* a tile's new observations owe the seasons whose window holds its date, as a new tile's
     * do (the tiles_insert trigger), and say so */
    [STMT_TILE_EXTEND_STALE] = "UPDATE season_state SET stale = 1, stale_since = ?2, "
                               "stale_cause = ?3 WHERE stale = 0 AND ?1 BETWEEN first_date AND "
                               "last_date",
    [STMT_PARCEL_SERIES] = "SELECT t.id, t.date, t.sensor, " PARUS__OBS_ROW_COLUMNS_O
                           " FROM parcels p JOIN observation_values o ON o.parcel_num = p.num "
                           "JOIN tiles t ON t.id = o.tile_id WHERE p.id = ?1 "
                           "ORDER BY t.date, t.id",
    [STMT_RUN_INSERT] = "INSERT INTO runs (command, args, parus_version, started_at) "
                        "VALUES (?1, ?2, ?3, ?4)",
    [STMT_RUN_END] = "UPDATE runs SET ended_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1",
    [STMT_OBS_DROP_PARCEL] = "DELETE FROM observation_values WHERE parcel_num = ?1",
    [STMT_RADAR_OBS_DROP_PARCEL] = "DELETE FROM radar_observations WHERE parcel_num = ?1",
    [STMT_PARCEL_RADAR_SERIES] =
        "SELECT " PARUS__RADAR_ROW_COLUMNS " FROM parcels p "
        "JOIN radar_observations o ON o.parcel_num = p.num JOIN tiles t ON t.id = o.tile_id "
        "LEFT JOIN radar_tiles r ON r.tile_id = t.id WHERE p.id = ?1 ORDER BY t.date, t.id",
    [STMT_RADAR_TILE_INSERT] = "INSERT INTO radar_tiles (tile_id, mission, orbit_direction, "
                               "relative_orbit, coefficient, polarisations, looks) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_CHANGE_INSERT] =
        "INSERT INTO parcel_changes (parcel_id, changed_at, source, what, old_area_m2, "
        "new_area_m2, n_observations_removed) VALUES (?1, ?2, ?3, 'geometry', ?4, ?5, ?6)",
    [STMT_COUNTS] =
        "SELECT (SELECT count(*) FROM parcels),"
        " (SELECT count(DISTINCT farmer_id) FROM parcels),"
        " (SELECT coalesce(sum(area_m2), 0.0) FROM parcels),"
        " (SELECT count(*) FROM parcel_rejects),"
        " (SELECT count(*) FROM tiles),"
        " (SELECT count(*) FROM observations),"
        " (SELECT count(*) FROM runs),"
        " (SELECT count(*) FROM parcel_crops),"
        " (SELECT count(*) FROM samples),"
        " (SELECT count(*) FROM sample_points),"
        " (SELECT count(*) FROM assessments),"
        " (SELECT count(*) FROM parcel_results),"
        " (SELECT count(*) FROM parcel_flags),"
        " (SELECT count(*) FROM (SELECT DISTINCT season, crop, grp FROM peer_curves) AS c),"
        " (SELECT count(*) FROM limits)",
};

parus_status parus__store_sql_fail(parus_store *store, int rc, parus_error *err, const char *fmt,
                                   ...)
{
    char what[768];
    const char *reason = parus__db_errmsg(store->db);
    parus_status code = PARUS_E_STORE;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = PARUS_E_BUSY;
        break;
    case SQLITE_NOMEM:
        code = PARUS_E_NOMEM;
        break;
    default:
        break;
    }
    if (!reason || !*reason || strcmp(reason, "not an error") == 0)
        reason = sqlite3_errstr(rc);
    if (code == PARUS_E_BUSY)
        return parus_fail(err, code, "%s: %s (another process is writing to it; waited %d s)", what,
                          reason, PARUS__STORE_BUSY_TIMEOUT_MS / 1000);
    return parus_fail(err, code, "%s: %s", what, reason);
}

sqlite3 *parus__store_handle(parus_store *store)
{
    return parus__db_sqlite(store->db);
}

parus__stmt *parus__store_stmt(parus_store *store, size_t slot, const char *sql, parus_error *err)
{
    parus__stmt *st = store->stmt[slot];
    if (!st) {
        int rc = parus__db_prepare(store->db, sql, true, &st);
        if (rc != SQLITE_OK) {
            parus__store_sql_fail(store, rc, err, "cannot prepare a statement on '%s'",
                                  store->path);
            return NULL;
        }
        store->stmt[slot] = st;
    } else {
        parus__reset(st);
        parus__clear_bindings(st);
    }
    return st;
}

parus_status parus__store_prepare_list(parus_store *store, size_t first_slot,
                                       const char *const *sql, size_t n, const char *what,
                                       parus_error *err)
{
    for (size_t id = 0; id < n; id++)
        if (!parus__store_checked(store, parus__store_stmt(store, first_slot + id, sql[id], err),
                                  err)) {
            parus_error_prefix(err, "%s statement %zu (%.60s...)", what, id, sql[id]);
            return parus__store_prepare_failed(err);
        }
    return PARUS_OK;
}

parus__stmt *parus__store_checked(parus_store *store, parus__stmt *st, parus_error *err)
{
    int rc;
    if (!st)
        return NULL;
    rc = parus__stmt_check(st);
    if (rc != SQLITE_OK) {
        parus__store_sql_fail(store, rc, err, "cannot prepare a statement on '%s'", store->path);
        return NULL;
    }
    return st;
}

/* PostgreSQL's text where it differs from SQLite's: parcels_rtree is a table with a GiST index
 * on its box (store_pg_schema.c), which the box operator && uses; CROSS JOIN takes no ON there. */
static const char *const stmt_sql_pg[STMT_N_] = {
    [STMT_PARCELS_IN_BOX] =
        "SELECT " PARCEL_COLUMNS ", p.num FROM parcels_rtree r JOIN parcels p ON p.num = r.id "
        "WHERE box(point(r.lon_min, r.lat_min), point(r.lon_max, r.lat_max)) && "
        "box(point(?1, ?2), point(?3, ?4)) "
        "AND p.lon_max_deg >= ?1 AND p.lon_min_deg <= ?3 AND p.lat_max_deg >= ?2 "
        "AND p.lat_min_deg <= ?4 ORDER BY p.id",
};

/* The cached statement, reset and unbound; NULL with err set when it cannot be prepared (a
 * schema that is not what this build wrote). */
static parus__stmt *stmt_get(parus_store *store, enum stmt_id id, parus_error *err)
{
    const char *sql = stmt_sql[id];
    if (stmt_sql_pg[id] && parus__db_is_pg(store->db))
        sql = stmt_sql_pg[id];
    return parus__store_stmt(store, (size_t)id, sql, err);
}

/* Step a statement whose row, if any, is not wanted: SQLITE_DONE on success. The caller resets
 * it right after, so that it holds no read snapshot. */
static int stmt_run(parus__stmt *st)
{
    int rc = parus__step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE;
    return rc;
}

static int bind_text(parus__stmt *st, int i, const char *s)
{
    return s ? parus__bind_text(st, i, s, -1) : parus__bind_null(st, i);
}

/* NaN (no value) is stored as NULL, read back as NaN */
static int bind_real(parus__stmt *st, int i, double v)
{
    return isnan(v) ? parus__bind_null(st, i) : parus__bind_double(st, i, v);
}

static double column_real(parus__stmt *st, int i)
{
    return parus__column_type(st, i) == SQLITE_NULL ? (double)NAN : parus__column_double(st, i);
}

static const char *column_text(parus__stmt *st, int i)
{
    return (const char *)parus__column_text(st, i);
}

static size_t column_size(parus__stmt *st, int i)
{
    int64_t v = parus__column_int64(st, i);
    return v > 0 ? (size_t)v : 0;
}

parus_status parus__store_prepare_all(parus_store *store, parus_error *err)
{
    parus_status code;
    for (int id = 0; id < STMT_N_; id++)
        if (!parus__store_checked(store, stmt_get(store, (enum stmt_id)id, err), err)) {
            parus_error_prefix(err, "store statement %d (%.60s...)", id, stmt_sql[id]);
            return parus__store_prepare_failed(err);
        }
    code = parus__store_season_prepare_all(store, err);
    if (code == PARUS_OK)
        code = parus__store_results_prepare_all(store, err);
    if (code == PARUS_OK)
        code = parus__store_weather_prepare_all(store, err);
    return code;
}

/* ---- transactions ---- */

/* stmt_get failed with err possibly NULL: the code to return */
static parus_status prepare_failed(parus_error *err)
{
    return err ? err->code : PARUS_E_STORE;
}

parus_status parus__store_prepare_failed(parus_error *err)
{
    return prepare_failed(err);
}

static parus_status tx_begin(parus_store *store, parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_BEGIN, err);
    int rc;
    if (!st)
        return prepare_failed(err);
    rc = stmt_run(st);
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot write to '%s'", store->path);
    return PARUS_OK;
}

parus_status parus_store_snapshot_begin(parus_store *store, parus_error *err)
{
    int rc;
    if (!parus__db_autocommit(store->db))
        return parus_fail(err, PARUS_E_INVALID,
                          "store '%s': a transaction is open, no snapshot can begin", store->path);
    /* BEGIN DEFERRED takes its snapshot at the first read: read once, now */
    rc = parus__db_exec(store->db, parus__db_is_pg(store->db)
                                       ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                                         "SELECT count(*) FROM parus_meta"
                                       : "BEGIN DEFERRED; SELECT count(*) FROM sqlite_master");
    if (rc != SQLITE_OK) {
        if (!parus__db_autocommit(store->db))
            parus__db_exec(store->db, "ROLLBACK");
        return parus__store_sql_fail(store, rc, err, "cannot read '%s'", store->path);
    }
    return PARUS_OK;
}

void parus_store_snapshot_end(parus_store *store)
{
    if (store && !parus__db_autocommit(store->db))
        parus__db_exec(store->db, "COMMIT");
}

/* Undo the open transaction, if SQLite has not already done so after the error. */
static void tx_rollback(parus_store *store)
{
    parus__stmt *st;
    if (parus__db_autocommit(store->db))
        return;
    st = stmt_get(store, STMT_ROLLBACK, NULL);
    if (st) {
        stmt_run(st);
        parus__reset(st);
    } else {
        parus__db_exec(store->db, "ROLLBACK");
    }
}

static parus_status tx_commit(parus_store *store, parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_COMMIT, err);
    int rc;
    if (!st) {
        tx_rollback(store);
        return prepare_failed(err);
    }
    rc = stmt_run(st);
    parus__reset(st);
    if (rc != SQLITE_DONE) {
        parus_status code =
            parus__store_sql_fail(store, rc, err, "cannot commit to '%s'", store->path);
        tx_rollback(store);
        return code;
    }
    return PARUS_OK;
}

/* ---- open, close ---- */

static parus_status require_current(const parus_store *store, parus_error *err)
{
    if (store->version == PARUS_STORE_SCHEMA_VERSION)
        return PARUS_OK;
    return parus_fail(err, PARUS_E_SCHEMA,
                      "'%s' has schema version %d, older than this parus (%d): run 'parus --db "
                      "%s store upgrade' (any command that writes upgrades it too)",
                      store->path, store->version, PARUS_STORE_SCHEMA_VERSION, store->path);
}

parus_status parus__store_require_current(const parus_store *store, parus_error *err)
{
    return require_current(store, err);
}

parus_status parus__store_tx_begin(parus_store *store, parus_error *err)
{
    return tx_begin(store, err);
}

parus_status parus__store_tx_begin_alone(parus_store *store, parus_error *err)
{
    int rc;
    if (!parus__db_is_pg(store->db))
        return tx_begin(store, err);
    /* SQLite's BEGIN IMMEDIATE makes the writer the only one; on PostgreSQL every write that
     * can make a season stale (tiles, weather, parcels, declared crops) goes through
     * season_state's triggers, so holding that table against writers does the same, and the
     * snapshot, taken after the lock, holds for the whole transaction */
    rc = parus__db_exec(store->db, "BEGIN ISOLATION LEVEL REPEATABLE READ; "
                                   "LOCK TABLE season_state IN SHARE ROW EXCLUSIVE MODE");
    if (rc != SQLITE_OK) {
        parus_status code =
            parus__store_sql_fail(store, rc, err, "cannot write to '%s'", store->path);
        if (!parus__db_autocommit(store->db))
            parus__db_exec(store->db, "ROLLBACK");
        return code;
    }
    return PARUS_OK;
}

parus_status parus__store_tx_commit(parus_store *store, parus_error *err)
{
    return tx_commit(store, err);
}

void parus__store_tx_rollback(parus_store *store)
{
    tx_rollback(store);
}

/* A PRAGMA that sets a value; its result row (journal_mode returns one) is not needed. */
static parus_status set_pragma(parus_store *store, const char *sql, parus_error *err)
{
    int rc = parus__db_exec(store->db, sql);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot open store '%s'", store->path);
    return PARUS_OK;
}

/* Open the SQLite file (a path or a "file:" URI, as flags say) into store->db: extended result
 * codes, the busy timeout and parus_obs_value() set. On failure store->db is NULL. */
static parus_status open_sqlite(parus_store *store, const char *name, int flags, parus_error *err)
{
    sqlite3 *lite = NULL;
    struct stat sb;
    int rc;
    /* SQLite would say "disk I/O error" at the first read */
    if (stat(name, &sb) == 0 && S_ISDIR(sb.st_mode))
        return parus_fail(err, PARUS_E_STORE,
                          "cannot open store '%s': it is a directory, not a store file",
                          store->path);
    rc = sqlite3_open_v2(name, &lite, flags, NULL);
    if (rc != SQLITE_OK) {
        parus_status code =
            lite ? parus_fail(err, PARUS_E_STORE, "cannot open store '%s': %s", store->path,
                              sqlite3_errmsg(lite))
                 : parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", store->path);
        sqlite3_close_v2(lite);
        return code;
    }
    sqlite3_extended_result_codes(lite, 1);
    sqlite3_busy_timeout(lite, PARUS__STORE_BUSY_TIMEOUT_MS);
    parus__obs_register_sql(lite); /* for SQL that reads a packed value; optional */
    store->db = parus__db_wrap_sqlite(lite);
    if (!store->db) {
        sqlite3_close_v2(lite);
        return parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", store->path);
    }
    return PARUS_OK;
}

/* target as messages show it: a SQLite path as it is; a PostgreSQL connection string, URI or
 * keywords, as "postgresql://user@host:port/dbname" from libpq's own parse of it, so that no
 * password in it, however quoted or placed, is ever shown. */
void parus_store_display_name(const char *target, char *out, size_t cap)
{
    if (parus__db_target_is_pg(target))
        parus__db_display(target, out, cap);
    else
        snprintf(out, cap, "%s", target);
}

bool parus_store_is_server(const char *path)
{
    return parus__db_target_is_pg(path);
}

/* A store in PostgreSQL (target: a URI or a libpq keyword string): connect, check the identity,
 * create the schema in a fresh database when create is set; read_only makes every transaction
 * of the connection read-only. */
static parus_status store_open_pg(const char *target, bool create, bool read_only,
                                  parus_store **out, parus_error *err)
{
    char shown[512], *reason = NULL;
    parus_store *store = calloc(1, sizeof *store);
    parus_status code;
    int rc;

    parus_store_display_name(target, shown, sizeof shown);
    if (!store)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", shown);
    store->bulk_send_bytes = PARUS__BULK_SEND_BYTES;
    rc = parus__db_open_pg(target, read_only, &store->db, &reason);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            code = parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", shown);
        else if (rc == SQLITE_NOTFOUND) /* as an absent file is: no store */
            code = parus_fail(err, PARUS_E_NOT_FOUND,
                              "store '%s' does not exist: the server has no such database "
                              "(create it with createdb, or check the name)",
                              shown);
        else
            code = parus_fail(err, PARUS_E_STORE, "cannot connect to the PostgreSQL store '%s': %s",
                              shown, reason ? reason : "unknown reason");
        free(reason);
        free(store);
        return code;
    }
    store->path = parus__strdup(shown); /* parus_store_display_name's, above */
    if (!store->path) {
        code = parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", shown);
        goto out_close;
    }
    /* An empty database is to open_existing what an absent file is: no store, "not found" (a
     * nightly shard given the wrong database must not lay a store into it). The readers say
     * what the database is instead. */
    code = parus__store_check_identity(store, create || !read_only, err);
    if (code == PARUS_OK && !create && store->version == 0)
        code = parus_fail(err, PARUS_E_NOT_FOUND,
                          "store '%s' does not exist (the database holds no parus store)", shown);
    if (code == PARUS_OK && create)
        code = parus__store_migrate(store, err);
    if (code != PARUS_OK)
        goto out_close;
    *out = store;
    return PARUS_OK;

out_close:
    parus__db_close(store->db);
    free(store->path);
    free(store);
    return code;
}

static parus_status store_open(const char *path, bool create, parus_store **out, parus_error *err)
{
    parus_store *store;
    parus_status code;
    struct stat sb;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    if (!path || !*path || !out)
        return parus_fail(err, PARUS_E_INVALID, "no store path given");
    if (parus__db_target_is_pg(path))
        return store_open_pg(path, create, false, out, err);
    if (!create && stat(path, &sb) != 0 && errno == ENOENT)
        return parus_fail(err, PARUS_E_NOT_FOUND, "store '%s' does not exist", path);
    if (create)
        flags |= SQLITE_OPEN_CREATE;

    store = calloc(1, sizeof *store);
    if (!store)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", path);
    store->path = parus__strdup(path);
    if (!store->path) {
        code = parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", path);
        goto out_free;
    }
    code = open_sqlite(store, path, flags, err);
    if (code != PARUS_OK)
        goto out_free;
    /* SQLite quietly opens a file it may not write read-only; a writer must know now */
    if (create && sqlite3_db_readonly(parus__db_sqlite(store->db), "main") == 1) {
        code = parus_fail(err, PARUS_E_STORE, "cannot open store '%s' for writing: read-only file",
                          path);
        goto out_close;
    }

    /* identity first: nothing is written to a file that is not ours or is newer than us */
    code = parus__store_check_identity(store, create, err);
    if (code != PARUS_OK)
        goto out_close;
    code = set_pragma(store, "PRAGMA foreign_keys = ON", err);
    if (code == PARUS_OK)
        code = set_pragma(store, "PRAGMA journal_mode = WAL", err);
    if (code == PARUS_OK)
        code = set_pragma(store, "PRAGMA synchronous = FULL", err);
    if (code != PARUS_OK)
        goto out_close;
    if (create) {
        code = parus__store_migrate(store, err);
        if (code != PARUS_OK)
            goto out_close;
    }
    *out = store;
    return PARUS_OK;

out_close:
    parus__db_close(store->db);
out_free:
    free(store->path);
    free(store);
    return code;
}

/* "file:" URI of a path: '%', '?' and '#' escaped; an absolute path gets an empty authority. */
static char *path_uri(const char *path, const char *query)
{
    size_t n = strlen(path) * 3 + strlen(query) + 16, o = 0;
    char *uri = malloc(n);
    const char *p;
    if (!uri)
        return NULL;
    o += (size_t)snprintf(uri, n, "file:%s", path[0] == '/' ? "//" : "");
    for (p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            o += (size_t)snprintf(uri + o, n - o, "%%%02X", (unsigned)(unsigned char)*p);
        else
            uri[o++] = *p;
    }
    snprintf(uri + o, n - o, "?%s", query);
    return uri;
}

/* One read-only connection to uri, its identity checked. */
static parus_status open_ro_uri(parus_store *store, const char *uri, parus_error *err)
{
    parus_status code =
        open_sqlite(store, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, err);
    if (code != PARUS_OK)
        return code;
    code = parus__store_check_identity(store, false, err);
    if (code == PARUS_OK)
        code = set_pragma(store, "PRAGMA foreign_keys = ON", err);
    if (code != PARUS_OK) {
        parus__db_close(store->db);
        store->db = NULL;
    }
    return code;
}

/* The directory of path, malloc'ed ("." for a bare name). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return parus__strdup(".");
    return parus__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static bool sibling_exists(const char *path, const char *suffix, off_t *size)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *name = malloc(n);
    struct stat sb;
    bool there;
    if (!name)
        return false;
    snprintf(name, n, "%s%s", path, suffix);
    there = stat(name, &sb) == 0;
    if (there && size)
        *size = sb.st_size;
    free(name);
    return there;
}

/*
 * Read-only, for the readers (query, export, store info, parcels show): mode=ro first, which
 * shares locks with writers through the -shm index (SQLite 3.22+ reads a WAL store through an
 * existing -shm even when neither it nor the -wal may be written). When that fails because the
 * -shm cannot be created (the directory may not be written: read-only media, a user who may only
 * read), and there is no -wal (nothing committed beyond the main file), the file is opened with
 * immutable=1: no locks, no -shm. Immutable is right only while nobody writes; on a read-only
 * file system nobody can, elsewhere the store's note says so. A -wal without a -shm in such a
 * directory is refused: reading the main file alone would silently miss committed data.
 */
static parus_status store_open_ro(const char *path, parus_store **out, parus_error *err)
{
    parus_store *store;
    parus_status code;
    struct stat sb;
    struct statvfs vfs;
    off_t wal_size = 0;
    char *uri = NULL, *dir = NULL;

    if (!path || !*path || !out)
        return parus_fail(err, PARUS_E_INVALID, "no store path given");
    if (parus__db_target_is_pg(path))
        return store_open_pg(path, false, true, out, err);
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return parus_fail(err, PARUS_E_NOT_FOUND, "store '%s' does not exist", path);
        return parus_fail(err, PARUS_E_STORE, "cannot open store '%s': %s", path, strerror(errno));
    }
    store = calloc(1, sizeof *store);
    if (!store)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", path);
    store->path = parus__strdup(path);
    uri = path_uri(path, "mode=ro");
    dir = dir_of(path);
    if (!store->path || !uri || !dir) {
        code = parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", path);
        goto out_free;
    }
    code = open_ro_uri(store, uri, err);
    if (code == PARUS_OK || access(dir, W_OK) == 0 || sibling_exists(path, "-shm", NULL))
        goto out_free; /* opened, or failed for a reason of its own */
    if (sibling_exists(path, "-wal", &wal_size) && wal_size > 0) {
        code = parus_fail(err, PARUS_E_STORE,
                          "cannot read store '%s' read-only: it has a write-ahead log '%s-wal' "
                          "but no '%s-shm', and its directory cannot be written; a user who may "
                          "write it should run 'parus --db %s store info' once (which folds the "
                          "log into the store)",
                          path, path, path, path);
        goto out_free;
    }
    free(uri);
    if (!(uri = path_uri(path, "immutable=1"))) {
        code = parus_fail(err, PARUS_E_NOMEM, "cannot open store '%s'", path);
        goto out_free;
    }
    code = open_ro_uri(store, uri, err);
    if (code == PARUS_OK && !(statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)))
        snprintf(store->note, sizeof store->note,
                 "'%s' is read as an unchanging file (its directory cannot be written, so no "
                 "lock can be shared): a run writing it at the same time would not be seen",
                 path);

out_free:
    free(uri);
    free(dir);
    if (code == PARUS_OK) {
        *out = store;
        return PARUS_OK;
    }
    free(store->path);
    free(store);
    return code;
}

parus_status parus_store_open_readonly(const char *path, parus_store **out, parus_error *err)
{
    return store_open_ro(path, out, err);
}

const char *parus_store_note(const parus_store *store)
{
    return store && store->note[0] ? store->note : NULL;
}

parus_status parus_store_open(const char *path, parus_store **out, parus_error *err)
{
    return store_open(path, true, out, err);
}

parus_status parus_store_open_existing(const char *path, parus_store **out, parus_error *err)
{
    return store_open(path, false, out, err);
}

void parus_store_close(parus_store *store)
{
    size_t i;
    if (!store)
        return;
    parus_store_tile_abort(store); /* a tile left open is not half-stored */
    parus_store_results_abort(store);
    parus_store_assessments_abort(store);
    parus__db_closing(store->db);
    for (i = 0; i < PARUS__STORE_MAX_STMTS; i++)
        parus__finalize(store->stmt[i]);
    parus__finalize(store->radar_batch);
    free(store->radar_rows);
    parus__db_close(store->db);
    parus__bulk_release(store);
    free(store->path);
    free(store);
}

/* page_count and freelist_count of the main database; on PostgreSQL the database's size in bytes
 * as pages of one byte, always with free pages (its VACUUM is cheap when there is nothing to do) */
static int page_counts(parus_store *store, int64_t *pages, int64_t *free_pages, int64_t *page_size)
{
    parus__stmt *st;
    int rc = parus__db_prepare(store->db,
                               parus__db_is_pg(store->db)
                                   ? "SELECT pg_database_size(current_database()), 1, 1"
                                   : "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT "
                                     "freelist_count FROM pragma_freelist_count()), (SELECT "
                                     "page_size FROM pragma_page_size())",
                               false, &st);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        *pages = parus__column_int64(st, 0);
        *free_pages = parus__column_int64(st, 1);
        *page_size = parus__column_int64(st, 2);
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    return rc;
}

parus_status parus_store_reclaim(parus_store *store, uint64_t *bytes_before, uint64_t *bytes_after,
                                 parus_error *err)
{
    int64_t pages = 0, free_pages = 0, page_size = 0;
    parus_status code;
    int rc;

    parus_error_init(err);
    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "reclaim: missing store");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (store->open_tile || store->open_assess)
        return parus_fail(err, PARUS_E_INVALID, "reclaim: a write is open in '%s'", store->path);
    rc = page_counts(store, &pages, &free_pages, &page_size);
    if (rc == SQLITE_OK && bytes_before)
        *bytes_before = (uint64_t)(pages * page_size);
    /* PostgreSQL's plain VACUUM marks dead rows' space for reuse (autovacuum does the same); only
     * VACUUM FULL, which locks every table, would give it to the system */
    if (rc == SQLITE_OK && free_pages > 0)
        rc = parus__db_exec(store->db, parus__db_is_pg(store->db) ? "VACUUM (ANALYZE)" : "VACUUM");
    if (rc == SQLITE_OK)
        rc = page_counts(store, &pages, &free_pages, &page_size);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot give the free space of '%s' back",
                                     store->path);
    if (bytes_after)
        *bytes_after = (uint64_t)(pages * page_size);
    return PARUS_OK;
}

int parus_store_schema_version(const parus_store *store)
{
    return store ? store->version : 0;
}

/* ---- small helpers ---- */

/* UTC, ISO 8601, to the second: "2026-11-23T10:14:08Z" */
static void utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void parus__store_utc_now(char out[32])
{
    utc_now(out);
}

/* The R-tree keeps 32-bit floats: round each edge outward so the stored box holds the parcel. */
static double float_down(double x)
{
    float f = (float)x;
    if ((double)f > x)
        f = nextafterf(f, -INFINITY);
    return (double)f;
}

static double float_up(double x)
{
    float f = (float)x;
    if ((double)f < x)
        f = nextafterf(f, INFINITY);
    return (double)f;
}

static bool box_ok(double lon_min, double lat_min, double lon_max, double lat_max)
{
    return isfinite(lon_min) && isfinite(lat_min) && isfinite(lon_max) && isfinite(lat_max) &&
           lon_min <= lon_max && lat_min <= lat_max;
}

/* ---- parcels ---- */

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Everything that would make the load fail part way is checked before the first write. */
static parus_status check_parcels(const parus_store *store, const parus_parcel_set *set,
                                  const char *source, parus_error *err)
{
    const char **ids;
    size_t i, bytes;
    parus_status code = PARUS_OK;

    for (i = 0; i < set->n_parcels; i++) {
        const parus_parcel *p = &set->parcels[i];
        if (!p->id || !*p->id)
            return parus_fail(err, PARUS_E_INVALID,
                              "parcel %zu of '%s' has no id: nothing stored in '%s'", i, source,
                              store->path);
        if (!p->wkb || p->wkb_size == 0)
            return parus_fail(err, PARUS_E_INVALID,
                              "parcel '%s' of '%s' has no geometry: nothing stored in '%s'", p->id,
                              source, store->path);
        if (!box_ok(p->lon_min_deg, p->lat_min_deg, p->lon_max_deg, p->lat_max_deg) ||
            !isfinite(p->area_m2) || p->area_m2 < 0.0 ||
            (!isnan(p->declared_area_m2) &&
             (!isfinite(p->declared_area_m2) || p->declared_area_m2 < 0.0)))
            return parus_fail(err, PARUS_E_INVALID,
                              "parcel '%s' of '%s' has a bad footprint or area: nothing stored "
                              "in '%s'",
                              p->id, source, store->path);
    }
    if (set->n_parcels < 2)
        return PARUS_OK;
    if (!parus__mul_size(set->n_parcels, sizeof *ids, &bytes) || !(ids = malloc(bytes)))
        return parus_fail(err, PARUS_E_NOMEM, "cannot check the ids of %zu parcels",
                          set->n_parcels);
    for (i = 0; i < set->n_parcels; i++)
        ids[i] = set->parcels[i].id;
    qsort(ids, set->n_parcels, sizeof *ids, compare_ids);
    for (i = 1; i < set->n_parcels; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            code = parus_fail(err, PARUS_E_DUPLICATE,
                              "parcel id '%s' appears twice in '%s': nothing stored in '%s'",
                              ids[i], source, store->path);
            break;
        }
    }
    free(ids);
    return code;
}

static bool same_text(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* A parcel's columns after its id, parameters at + 2 .. at + 12 (at: the row's offset in a
 * statement of several rows). */
static int bind_parcel_at(parus__stmt *st, int at, const parus_parcel *p, const char *source,
                          const char *now)
{
    int rc = bind_text(st, at + 2, p->farmer_id);
    if (rc == SQLITE_OK)
        rc = bind_real(st, at + 3, p->declared_area_m2);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 4, p->area_m2);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 5, p->lon_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 6, p->lat_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 7, p->lon_max_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 8, p->lat_max_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_blob(st, at + 9, p->wkb, (size_t)p->wkb_size);
    if (rc == SQLITE_OK)
        rc = parus__bind_int(st, at + 10, p->repaired ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = bind_text(st, at + 11, source);
    if (rc == SQLITE_OK)
        rc = bind_text(st, at + 12, now);
    return rc;
}

static int bind_parcel(parus__stmt *st, const parus_parcel *p, const char *source, const char *now)
{
    return bind_parcel_at(st, 0, p, source, now);
}

static int bind_rtree_at(parus__stmt *st, int at, int64_t num, const parus_parcel *p)
{
    int rc = parus__bind_int64(st, at + 1, num);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 2, float_down(p->lon_min_deg));
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 3, float_up(p->lon_max_deg));
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 4, float_down(p->lat_min_deg));
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, at + 5, float_up(p->lat_max_deg));
    return rc;
}

static int bind_rtree(parus__stmt *st, int64_t num, const parus_parcel *p)
{
    return bind_rtree_at(st, 0, num, p);
}

enum parcel_change { PARCEL_NEW, PARCEL_CHANGED, PARCEL_SAME };

/* A parcel's shape changed: the observations measured over the old shape describe other land, so
 * they are removed, and the change is recorded (parcel_changes) with how many went. */
static parus_status drop_old_observations(parus_store *store, int64_t num, const parus_parcel *p,
                                          double old_area_m2, const char *source, const char *now,
                                          size_t *n_dropped, parus_error *err)
{
    /* optical, then radar (schema 13) observations of the old shape */
    static const enum stmt_id drops[2] = {STMT_OBS_DROP_PARCEL, STMT_RADAR_OBS_DROP_PARCEL};
    parus__stmt *st;
    int64_t n = 0;
    int rc;
    for (size_t k = 0; k < 2; k++) {
        st = stmt_get(store, drops[k], err);
        if (!st)
            return prepare_failed(err);
        rc = parus__bind_int64(st, 1, num);
        if (rc == SQLITE_OK)
            rc = stmt_run(st);
        parus__reset(st);
        if (rc != SQLITE_DONE)
            return parus__store_sql_fail(store, rc, err,
                                         "cannot remove the %sobservations of reshaped parcel '%s' "
                                         "in '%s'",
                                         k ? "radar " : "", p->id, store->path);
        n += parus__db_changes(store->db);
    }
    st = stmt_get(store, STMT_CHANGE_INSERT, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, p->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, now);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, source);
    if (rc == SQLITE_OK)
        rc = bind_real(st, 4, old_area_m2);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 5, p->area_m2);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 6, n);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot record the new shape of parcel '%s' in '%s'", p->id,
                                     store->path);
    *n_dropped += (size_t)n;
    return PARUS_OK;
}

/* Insert, update or leave one parcel, inside the load's transaction. */
static parus_status put_parcel(parus_store *store, const parus_parcel *p, const char *source,
                               const char *now, enum parcel_change *change,
                               parus_parcel_load_stats *stats, parus_error *err)
{
    parus__stmt *look, *write, *tree;
    int64_t num = 0;
    enum parcel_change what = PARCEL_NEW;
    bool reshaped = false;
    double old_area_m2 = NAN;
    int rc;

    look = stmt_get(store, STMT_PARCEL_LOOKUP, err);
    if (!look)
        return prepare_failed(err);
    rc = bind_text(look, 1, p->id);
    if (rc == SQLITE_OK)
        rc = parus__step(look);
    if (rc == SQLITE_ROW) {
        const void *wkb = parus__column_blob(look, 4);
        size_t wkb_size = (size_t)parus__column_bytes(look, 4);
        num = parus__column_int64(look, 0);
        old_area_m2 = column_real(look, 3);
        reshaped = !(wkb_size == p->wkb_size && wkb && memcmp(wkb, p->wkb, wkb_size) == 0);
        what = same_text(column_text(look, 1), p->farmer_id) &&
                       same_real(column_real(look, 2), p->declared_area_m2) &&
                       same_real(column_real(look, 3), p->area_m2) &&
                       (parus__column_int(look, 5) != 0) == p->repaired &&
                       wkb_size == p->wkb_size && wkb && memcmp(wkb, p->wkb, wkb_size) == 0
                   ? PARCEL_SAME
                   : PARCEL_CHANGED;
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot look up parcel '%s' in '%s'", p->id, store->path);
        parus__reset(look);
        return code;
    }
    parus__reset(look);
    if (what == PARCEL_SAME) {
        *change = what;
        return PARUS_OK;
    }

    write = stmt_get(store, what == PARCEL_NEW ? STMT_PARCEL_INSERT : STMT_PARCEL_UPDATE, err);
    if (!write)
        return prepare_failed(err);
    rc = what == PARCEL_NEW ? bind_text(write, 1, p->id) : parus__bind_int64(write, 1, num);
    if (rc == SQLITE_OK)
        rc = bind_parcel(write, p, source, now);
    if (rc == SQLITE_OK)
        rc = parus__step(write);
    if (rc == SQLITE_ROW) { /* the insert's RETURNING num: no lastval() round trip */
        if (what == PARCEL_NEW)
            num = parus__column_int64(write, 0);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE && what == PARCEL_NEW) {
        rc = SQLITE_ERROR; /* an insert that returned no row */
    }
    if (rc != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(store, rc, err, "cannot %s parcel '%s' %s '%s'",
                                                  what == PARCEL_NEW ? "insert" : "update", p->id,
                                                  what == PARCEL_NEW ? "into" : "in", store->path);
        parus__reset(write);
        return code;
    }
    parus__reset(write);
    if (reshaped) {
        parus_status code = drop_old_observations(store, num, p, old_area_m2, source, now,
                                                  &stats->n_observations_dropped, err);
        if (code != PARUS_OK)
            return code;
        stats->n_reshaped++;
    }

    tree = stmt_get(store, what == PARCEL_NEW ? STMT_RTREE_INSERT : STMT_RTREE_UPDATE, err);
    if (!tree)
        return prepare_failed(err);
    rc = bind_rtree(tree, num, p);
    if (rc == SQLITE_OK)
        rc = stmt_run(tree);
    if (rc != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot index parcel '%s' in '%s'", p->id, store->path);
        parus__reset(tree);
        return code;
    }
    parus__reset(tree);
    *change = what;
    return PARUS_OK;
}

static parus_status put_rejects(parus_store *store, const parus_parcel_set *set, const char *source,
                                const char *now, parus_error *err)
{
    parus__stmt *st;
    size_t i;
    int rc;

    /* a load describes the file as it is now: its rejects replace the last load's */
    st = stmt_get(store, STMT_REJECTS_CLEAR, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, source);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot clear the set-aside parcels of '%s' in '%s'", source,
            store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);

    for (i = 0; i < set->n_rejects; i++) {
        const parus_parcel_reject *r = &set->rejects[i];
        st = stmt_get(store, STMT_REJECT_INSERT, err);
        if (!st)
            return prepare_failed(err);
        rc = bind_text(st, 1, source);
        if (rc == SQLITE_OK)
            rc = r->feature_index > (size_t)INT64_MAX
                     ? SQLITE_RANGE
                     : parus__bind_int64(st, 2, (int64_t)r->feature_index);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 3, r->id);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 4, parus_status_name(r->code));
        if (rc == SQLITE_OK)
            rc = bind_text(st, 5, r->reason ? r->reason : parus_status_text(r->code));
        if (rc == SQLITE_OK)
            rc = bind_text(st, 6, now);
        if (rc == SQLITE_OK)
            rc = stmt_run(st);
        if (rc != SQLITE_DONE) {
            parus_status code = parus__store_sql_fail(
                store, rc, err, "cannot record set-aside feature %zu of '%s' in '%s'",
                r->feature_index, source, store->path);
            parus__reset(st);
            return code;
        }
        parus__reset(st);
    }
    return PARUS_OK;
}

/* The parcels of a load into a store that held none, FRESH_BATCH a statement: their rows, then
 * their R-tree boxes (a statement a parcel was two round trips on a server, 7.9 s for 19,672
 * parcels against SQLite's 2.4 s). Their numbers are given in the order of the rows, as one at a
 * time gives them; RETURNING names each with its id, in whatever order it comes. */
#define FRESH_BATCH 64

static parus_status put_fresh_batch(parus_store *store, const parus_parcel *p, size_t n,
                                    const char *source, const char *now, parus__stmt **full,
                                    parus__stmt **full_tree, parus_error *err)
{
    parus__stmt *ins = NULL, *tree = NULL;
    int64_t num[FRESH_BATCH];
    bool got[FRESH_BATCH] = {false};
    size_t r, k, n_got = 0;
    int rc = SQLITE_OK;

    if (n == FRESH_BATCH && *full) {
        ins = *full;
        parus__reset(ins);
    } else {
        char *sql = parus__values_sql("INSERT INTO parcels (id, farmer_id, declared_area_m2, "
                                      "area_m2, lon_min_deg, lat_min_deg, lon_max_deg, "
                                      "lat_max_deg, wkb, repaired, source, loaded_at) VALUES ",
                                      12, n);
        char *full_sql = sql ? malloc(strlen(sql) + 32) : NULL;
        if (full_sql)
            sprintf(full_sql, "%s RETURNING num, id", sql);
        rc = full_sql ? parus__db_prepare(store->db, full_sql, false, &ins) : SQLITE_NOMEM;
        free(sql);
        free(full_sql);
        if (rc == SQLITE_OK && n == FRESH_BATCH)
            *full = ins;
    }
    for (r = 0; r < n && rc == SQLITE_OK; r++) {
        rc = bind_text(ins, (int)(12 * r) + 1, p[r].id);
        if (rc == SQLITE_OK)
            rc = bind_parcel_at(ins, (int)(12 * r), &p[r], source, now);
    }
    while (rc == SQLITE_OK && (rc = parus__step(ins)) == SQLITE_ROW) {
        const char *id = (const char *)parus__column_text(ins, 1);
        for (k = 0; id && k < n && (got[k] || strcmp(p[k].id, id) != 0); k++)
            ;
        if (!id || k == n) {
            rc = SQLITE_ERROR;
            break;
        }
        num[k] = parus__column_int64(ins, 0);
        got[k] = true;
        n_got++;
        rc = SQLITE_OK;
    }
    if (ins && ins != *full)
        parus__finalize(ins);
    else if (ins)
        parus__reset(ins);
    if (rc == SQLITE_DONE && n_got != n)
        rc = SQLITE_ERROR;
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot insert parcels '%s' .. '%s' into '%s'",
                                     p[0].id, p[n - 1].id, store->path);

    rc = SQLITE_OK;
    if (n == FRESH_BATCH && *full_tree) {
        tree = *full_tree;
        parus__reset(tree);
    } else {
        char *sql = parus__values_sql(
            "INSERT INTO parcels_rtree (id, lon_min, lon_max, lat_min, lat_max) VALUES ", 5, n);
        rc = sql ? parus__db_prepare(store->db, sql, false, &tree) : SQLITE_NOMEM;
        free(sql);
        if (rc == SQLITE_OK && n == FRESH_BATCH)
            *full_tree = tree;
    }
    for (r = 0; r < n && rc == SQLITE_OK; r++)
        rc = bind_rtree_at(tree, (int)(5 * r), num[r], &p[r]);
    if (rc == SQLITE_OK)
        rc = stmt_run(tree);
    if (tree && tree != *full_tree)
        parus__finalize(tree);
    else if (tree)
        parus__reset(tree);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot index parcels '%s' .. '%s' in '%s'",
                                     p[0].id, p[n - 1].id, store->path);
    return PARUS_OK;
}

static parus_status put_parcels(parus_store *store, const parus_parcel_set *set, const char *source,
                                bool whole, parus_parcel_load_stats *stats, parus_error *err)
{
    parus_parcel_load_stats st;
    parus_status code;
    char now[32];
    size_t i;
    bool fresh;

    if (!store || !set || !source || (set->n_parcels && !set->parcels) ||
        (set->n_rejects && !set->rejects))
        return parus_fail(err, PARUS_E_INVALID, "put_parcels: missing store, set or source");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    code = check_parcels(store, set, source, err);
    if (code != PARUS_OK)
        return code;

    memset(&st, 0, sizeof st);
    utc_now(now);
    code = tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    {
        char any[8];
        int rc = parus__bulk_first(store, "SELECT 1 FROM parcels LIMIT 1", any, sizeof any);
        if (rc != SQLITE_OK) {
            code = parus__store_sql_fail(store, rc, err, "cannot read the parcels of '%s'",
                                         store->path);
            goto out_rollback;
        }
        fresh = any[0] == '\0'; /* ids are unique in the set (checked above): all new */
    }
    if (fresh) {
        parus__stmt *full = NULL, *full_tree = NULL;
        for (i = 0; i < set->n_parcels && code == PARUS_OK; i += FRESH_BATCH) {
            size_t n = set->n_parcels - i < FRESH_BATCH ? set->n_parcels - i : FRESH_BATCH;
            code = put_fresh_batch(store, set->parcels + i, n, source, now, &full, &full_tree, err);
            st.n_inserted += code == PARUS_OK ? n : 0;
        }
        parus__finalize(full);
        parus__finalize(full_tree);
        if (code != PARUS_OK)
            goto out_rollback;
    }
    for (i = 0; !fresh && i < set->n_parcels; i++) {
        enum parcel_change change = PARCEL_SAME;
        code = put_parcel(store, &set->parcels[i], source, now, &change, &st, err);
        if (code != PARUS_OK)
            goto out_rollback;
        if (change == PARCEL_NEW)
            st.n_inserted++;
        else if (change == PARCEL_CHANGED)
            st.n_updated++;
        else
            st.n_unchanged++;
    }
    code = put_rejects(store, set, source, now, err);
    if (code != PARUS_OK)
        goto out_rollback;
    {
        /* the parcels stored before that this set does not hold: every id of the set is stored
         * now, so the rest of the count */
        char count[32];
        int rc = parus__bulk_first(store, "SELECT count(*) FROM parcels", count, sizeof count);
        size_t here = st.n_inserted + st.n_updated + st.n_unchanged, total;
        if (rc != SQLITE_OK) {
            code = parus__store_sql_fail(store, rc, err, "cannot count the parcels of '%s'",
                                         store->path);
            goto out_rollback;
        }
        total = (size_t)strtoull(count, NULL, 10);
        st.n_absent = total > here ? total - here : 0;
    }
    code = parus__store_retire_in_load(store, set, source, now, whole, &st, err);
    if (code != PARUS_OK)
        goto out_rollback;
    code = tx_commit(store, err);
    if (code != PARUS_OK)
        return code;
    st.n_rejected = set->n_rejects;
    if (stats)
        *stats = st;
    return PARUS_OK;

out_rollback:
    tx_rollback(store);
    return code;
}

parus_status parus_store_put_parcels(parus_store *store, const parus_parcel_set *set,
                                     const char *source, parus_parcel_load_stats *stats,
                                     parus_error *err)
{
    return put_parcels(store, set, source, false, stats, err);
}

parus_status parus_store_put_registry(parus_store *store, const parus_parcel_set *set,
                                      const char *source, parus_parcel_load_stats *stats,
                                      parus_error *err)
{
    return put_parcels(store, set, source, true, stats, err);
}

/* A row of PARCEL_COLUMNS as a parcel whose pointers borrow the statement's memory. */
static void row_parcel(parus__stmt *st, parus_parcel *p)
{
    p->id = (char *)parus__column_text(st, 0);
    p->farmer_id = (char *)parus__column_text(st, 1);
    p->declared_area_m2 = column_real(st, 2);
    p->area_m2 = column_real(st, 3);
    p->lon_min_deg = column_real(st, 4);
    p->lat_min_deg = column_real(st, 5);
    p->lon_max_deg = column_real(st, 6);
    p->lat_max_deg = column_real(st, 7);
    p->wkb = (unsigned char *)parus__column_blob(st, 8);
    p->wkb_size = (size_t)parus__column_bytes(st, 8);
    p->repaired = parus__column_int(st, 9) != 0;
}

parus_status parus_store_parcel_set_aside(parus_store *store, const char *id, char why[512],
                                          bool *found, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !id || !why || !found)
        return parus_fail(err, PARUS_E_INVALID, "parcel_set_aside: missing store, id or output");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    *found = false;
    why[0] = '\0';
    st = stmt_get(store, STMT_REJECT_GET, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        snprintf(why, 512, "'%s' feature %lld: %s: %s", (const char *)parus__column_text(st, 0),
                 (long long)parus__column_int64(st, 1), (const char *)parus__column_text(st, 2),
                 (const char *)parus__column_text(st, 3));
    } else if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot read the set-aside parcels of '%s'",
                                     store->path);
    }
    parus__reset(st);
    return code;
}

parus_status parus_store_get_parcel(parus_store *store, const char *id, parus_parcel *out,
                                    parus_error *err)
{
    parus__stmt *st;
    parus_parcel row, copy;
    parus_status code;
    int rc;

    if (!store || !id || !out)
        return parus_fail(err, PARUS_E_INVALID, "get_parcel: missing store, id or output");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_PARCEL_GET, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_DONE) {
        parus__reset(st);
        return parus_fail(err, PARUS_E_NOT_FOUND, "parcel '%s' is not in '%s'", id, store->path);
    }
    if (rc != SQLITE_ROW) {
        code = parus__store_sql_fail(store, rc, err, "cannot read parcel '%s' from '%s'", id,
                                     store->path);
        parus__reset(st);
        return code;
    }
    row_parcel(st, &row);
    copy = row;
    copy.id = parus__strdup(row.id);
    copy.farmer_id = parus__strdup(row.farmer_id);
    copy.wkb = row.wkb_size ? malloc(row.wkb_size) : NULL;
    if (!copy.id || (row.farmer_id && !copy.farmer_id) || (row.wkb_size && !copy.wkb)) {
        parus__reset(st);
        parus_parcel_release(&copy);
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold parcel '%s'", id);
    }
    if (row.wkb_size)
        memcpy(copy.wkb, row.wkb, row.wkb_size);
    parus__reset(st);
    *out = copy;
    return PARUS_OK;
}

/* The walk of parus_store_parcels_in_box, handing each parcel to fn or, with its row number, to
 * fn_num (one of them is NULL). */
static parus_status parcels_in_box(parus_store *store, double lon_min_deg, double lat_min_deg,
                                   double lon_max_deg, double lat_max_deg, parus_parcel_visit_fn fn,
                                   parus__parcel_num_visit_fn fn_num, void *ctx, size_t *n_visited,
                                   parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    size_t n = 0;
    int rc;

    parus_error_init(err);
    if (!store || (!fn && !fn_num))
        return parus_fail(err, PARUS_E_INVALID, "parcels_in_box: missing store or function");
    if (!box_ok(lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg))
        return parus_fail(err, PARUS_E_INVALID,
                          "bad lon/lat box %g..%g, %g..%g for the parcels of '%s'", lon_min_deg,
                          lon_max_deg, lat_min_deg, lat_max_deg, store->path);
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_PARCELS_IN_BOX, err);
    if (!st)
        return prepare_failed(err);
    rc = parus__bind_double(st, 1, lon_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 2, lat_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 3, lon_max_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 4, lat_max_deg);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_parcel p;
        int stop;
        row_parcel(st, &p);
        stop = fn ? fn(&p, ctx) : fn_num(&p, parus__column_int64(st, 10), ctx);
        n++;
        if (stop) {
            /* p borrows the row: the message is written before the reset frees it */
            code = err && err->code != PARUS_OK
                       ? err->code
                       : parus_fail(err, PARUS_E_INTERNAL,
                                    "the walk over the parcels of '%s' stopped at parcel '%s' (%d)",
                                    store->path, p.id ? p.id : "?", stop);
            parus__reset(st);
            return code;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        code =
            parus__store_sql_fail(store, rc, err, "cannot search the parcels of '%s'", store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    if (n_visited)
        *n_visited = n;
    return PARUS_OK;
}

parus_status parus_store_parcels_in_box(parus_store *store, double lon_min_deg, double lat_min_deg,
                                        double lon_max_deg, double lat_max_deg,
                                        parus_parcel_visit_fn fn, void *ctx, size_t *n_visited,
                                        parus_error *err)
{
    return parcels_in_box(store, lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, fn, NULL, ctx,
                          n_visited, err);
}

/* SQLite's count of commits by other connections (PRAGMA data_version); -1 when it cannot be
 * read or the store is on PostgreSQL, where no walk's numbers are trusted. Not among the cached
 * statements, which PostgreSQL must take too: prepared twice per tile. */
static int64_t data_version(parus_store *store)
{
    parus__stmt *st = NULL;
    int64_t v = -1;
    if (parus__db_is_pg(store->db) ||
        parus__db_prepare(store->db, "PRAGMA data_version", false, &st) != SQLITE_OK)
        return -1;
    if (parus__step(st) == SQLITE_ROW)
        v = parus__column_int64(st, 0);
    parus__finalize(st);
    return v;
}

parus_status parus__store_parcels_in_box_num(parus_store *store, double lon_min_deg,
                                             double lat_min_deg, double lon_max_deg,
                                             double lat_max_deg, parus__parcel_num_visit_fn fn,
                                             void *ctx, size_t *n_visited, parus_error *err)
{
    int64_t version;
    parus_status code;

    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "parcels_in_box: missing store or function");
    /* read before the walk: a commit between this and the walk's snapshot only makes the numbers
     * look stale, never the other way round */
    version = data_version(store);
    store->walk_known = false;
    code = parcels_in_box(store, lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, NULL, fn, ctx,
                          n_visited, err);
    if (code == PARUS_OK && version >= 0) {
        store->walk_version = version;
        store->walk_known = true;
    }
    return code;
}

/* ---- tiles ---- */

static bool is_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return s[64] == '\0';
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void row_tile(parus__stmt *st, parus_tile_record *rec)
{
    int i;
    memset(rec, 0, sizeof *rec);
    rec->id = parus__column_int64(st, 0);
    copy_text(rec->hash, sizeof rec->hash, column_text(st, 1));
    copy_text(rec->path, sizeof rec->path, column_text(st, 2));
    copy_text(rec->sensor, sizeof rec->sensor, column_text(st, 3));
    copy_text(rec->date, sizeof rec->date, column_text(st, 4));
    rec->epsg = parus__column_int(st, 5);
    rec->width = column_size(st, 6);
    rec->height = column_size(st, 7);
    for (i = 0; i < 6; i++)
        rec->geotransform[i] = column_real(st, 8 + i);
    rec->lon_min_deg = column_real(st, 14);
    rec->lat_min_deg = column_real(st, 15);
    rec->lon_max_deg = column_real(st, 16);
    rec->lat_max_deg = column_real(st, 17);
    rec->n_parcels = column_size(st, 18);
    copy_text(rec->status, sizeof rec->status, column_text(st, 19));
    copy_text(rec->processed_at, sizeof rec->processed_at, column_text(st, 20));
}

parus_status parus_store_find_tile(parus_store *store, const char *hash, parus_tile_record *out,
                                   bool *found, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !hash || !out || !found)
        return parus_fail(err, PARUS_E_INVALID, "find_tile: missing store, hash or output");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_TILE_FIND, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, hash);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        row_tile(st, out);
        parus__reset(st);
        *found = true;
        return PARUS_OK;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot look up tile %.12s... in '%s'", hash,
                                     store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    *found = false;
    return PARUS_OK;
}

/* Two grid values the same to a millionth of a millimetre (or both unknown): a server may give
 * back a double through its text form. */
static bool same_value(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-9 * (fabs(a) > 1.0 ? fabs(a) : 1.0);
}

static bool same_grid(const parus_tile_record *a, const parus_tile_record *b)
{
    int i;
    if (a->epsg != b->epsg || a->width != b->width || a->height != b->height)
        return false;
    for (i = 0; i < 6; i++)
        if (!same_value(a->geotransform[i], b->geotransform[i]))
            return false;
    return same_value(a->lon_min_deg, b->lon_min_deg) &&
           same_value(a->lat_min_deg, b->lat_min_deg) &&
           same_value(a->lon_max_deg, b->lon_max_deg) && same_value(a->lat_max_deg, b->lat_max_deg);
}

static bool is_radar(const parus_tile_record *rec);

/* An optical tile of the same sensor and date whose footprint covers most of the other's (four
 * fifths of the smaller box, lon/lat): the same acquisition on another grid (reprojected,
 * resampled, shifted). Neighbouring tiles of one date (MGRS, WRS-2) share a tenth; radar passes
 * of one day (ascending, descending) are kept apart, so radar is left to the grid rule. */
static bool same_scene_regridded(const parus_tile_record *a, const parus_tile_record *b)
{
    double w = fmin(a->lon_max_deg, b->lon_max_deg) - fmax(a->lon_min_deg, b->lon_min_deg);
    double h = fmin(a->lat_max_deg, b->lat_max_deg) - fmax(a->lat_min_deg, b->lat_min_deg);
    double area_a = (a->lon_max_deg - a->lon_min_deg) * (a->lat_max_deg - a->lat_min_deg);
    double area_b = (b->lon_max_deg - b->lon_min_deg) * (b->lat_max_deg - b->lat_min_deg);
    if (is_radar(a) || is_radar(b) || !(w > 0.0) || !(h > 0.0))
        return false;
    return w * h >= 0.8 * fmin(area_a, area_b);
}

parus_status parus_store_find_same_acquisition(parus_store *store, const parus_tile_record *rec,
                                               parus_tile_record *out, bool *found,
                                               parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !rec || !out || !found)
        return parus_fail(err, PARUS_E_INVALID,
                          "find_same_acquisition: missing store, record or output");
    *found = false;
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_TILES_ON_DATE, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, rec->date);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, rec->sensor);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_tile_record t;
        row_tile(st, &t);
        if (strcmp(t.hash, rec->hash) != 0 &&
            (same_grid(&t, rec) || same_scene_regridded(&t, rec))) {
            *out = t;
            *found = true;
            parus__reset(st);
            return PARUS_OK;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot look up the tiles of %s in '%s'",
                                     rec->date, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    return PARUS_OK;
}

static parus_status check_tile(const parus_store *store, const parus_tile_record *rec,
                               parus_error *err)
{
    char date[11];
    if (!memchr(rec->path, '\0', sizeof rec->path) || !rec->path[0])
        return parus_fail(err, PARUS_E_INVALID, "tile record for '%s' has no path", store->path);
    if (!memchr(rec->hash, '\0', sizeof rec->hash) || !is_hex64(rec->hash))
        return parus_fail(err, PARUS_E_INVALID, "tile '%s' has no content hash", rec->path);
    if (!memchr(rec->sensor, '\0', sizeof rec->sensor) || !rec->sensor[0])
        return parus_fail(err, PARUS_E_INVALID, "tile '%s' has no sensor name", rec->path);
    if (!memchr(rec->date, '\0', sizeof rec->date) || !parus__parse_date(rec->date, date) ||
        strcmp(date, rec->date) != 0)
        return parus_fail(err, PARUS_E_INVALID, "tile '%s' has no date of the form YYYY-MM-DD",
                          rec->path);
    if (!memchr(rec->status, '\0', sizeof rec->status) || !rec->status[0])
        return parus_fail(err, PARUS_E_INVALID, "tile '%s' has no status", rec->path);
    if (rec->epsg < 0 || rec->width > (size_t)INT64_MAX || rec->height > (size_t)INT64_MAX ||
        rec->n_parcels > (size_t)INT64_MAX ||
        !box_ok(rec->lon_min_deg, rec->lat_min_deg, rec->lon_max_deg, rec->lat_max_deg))
        return parus_fail(err, PARUS_E_INVALID, "tile '%s' has a bad grid or footprint", rec->path);
    return PARUS_OK;
}

static bool is_radar(const parus_tile_record *rec)
{
    return strcmp(rec->sensor, "sentinel-1") == 0;
}

/* A radar tile's pass and values (schema version 13), inside the tile's transaction. */
static parus_status insert_radar_tile(parus_store *store, const parus_tile_record *rec, int64_t id,
                                      parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_RADAR_TILE_INSERT, err);
    parus_status code;
    int rc;

    if (!st)
        return prepare_failed(err);
    rc = parus__bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = rec->mission[0] ? bind_text(st, 2, rec->mission) : parus__bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = rec->orbit_direction[0] ? bind_text(st, 3, rec->orbit_direction)
                                     : parus__bind_null(st, 3);
    if (rc == SQLITE_OK)
        rc = rec->relative_orbit ? parus__bind_int(st, 4, rec->relative_orbit)
                                 : parus__bind_null(st, 4);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, rec->coefficient);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, rec->polarisations);
    if (rc == SQLITE_OK)
        rc = bind_real(st, 7, rec->looks);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot insert radar tile '%s' into '%s'",
                                     rec->path, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    return PARUS_OK;
}

static parus_status insert_tile(parus_store *store, const parus_tile_record *rec, const char *now,
                                int64_t *id, parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_TILE_INSERT, err);
    parus_status code;
    int rc, i;

    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, rec->hash);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, rec->path);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, rec->sensor);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, rec->date);
    if (rc == SQLITE_OK)
        rc = rec->epsg ? parus__bind_int(st, 5, rec->epsg) : parus__bind_null(st, 5);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 6, (int64_t)rec->width);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 7, (int64_t)rec->height);
    for (i = 0; i < 6 && rc == SQLITE_OK; i++)
        rc = bind_real(st, 8 + i, rec->geotransform[i]);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 14, rec->lon_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 15, rec->lat_min_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 16, rec->lon_max_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 17, rec->lat_max_deg);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 18, (int64_t)rec->n_parcels);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 19, rec->status);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 20, now);
    if (rc == SQLITE_OK)
        rc = rec->reading[0] ? bind_text(st, 21, rec->reading) : parus__bind_null(st, 21);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        parus__reset(st);
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "tile '%s' is already in '%s' (same content hash %.12s...)", rec->path,
                          store->path, rec->hash);
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot insert tile '%s' into '%s'", rec->path,
                                     store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    *id = parus__db_last_insert_rowid(store->db);
    return is_radar(rec) ? insert_radar_tile(store, rec, *id, err) : PARUS_OK;
}

/* ---- observations through COPY (PostgreSQL) ----
 *
 * On PostgreSQL a tile's optical observations are not inserted one statement a row (a round trip
 * each, and one more to look up the parcel's number): they stream through COPY (binary) into a
 * temporary table keyed by parcel id, and one INSERT ... SELECT at the tile's commit moves them
 * into observation_values, joined to the parcels, all inside the tile's transaction. */

#define OBS_COPY_TABLE                                                                             \
    "CREATE TEMP TABLE IF NOT EXISTS parus_obs_in (parcel_id TEXT NOT NULL, w_total_mpx BIGINT, "  \
    "w_valid_mpx BIGINT, n_pixels BIGINT, n_pure BIGINT, valid_fraction_e4 BIGINT, "               \
    "ndvi_mean_e4 BIGINT, vals BYTEA) ON COMMIT DELETE ROWS"
#define OBS_COPY_MOVE                                                                              \
    "INSERT INTO observation_values (tile_id, parcel_num, " PARUS__OBS_ROW_COLUMNS ") "            \
    "SELECT ?1, p.num, i.w_total_mpx, i.w_valid_mpx, i.n_pixels, i.n_pure, "                       \
    "i.valid_fraction_e4, i.ndvi_mean_e4, i.vals FROM parus_obs_in i JOIN parcels p ON "           \
    "p.id = i.parcel_id ORDER BY p.num"
#define OBS_COPY_MISSING                                                                           \
    "SELECT i.parcel_id FROM parus_obs_in i WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE "      \
    "p.id = i.parcel_id) LIMIT 1"

/* Open the COPY of the tile's observations (in its transaction). */
static int obs_copy_begin(parus_store *store)
{
    int rc = parus__db_exec(store->db, OBS_COPY_TABLE);
    if (rc == SQLITE_OK)
        rc = parus__db_copy_begin(store->db, "COPY parus_obs_in FROM STDIN (FORMAT binary)");
    if (rc == SQLITE_OK)
        rc = parus__db_copy_put(store->db, parus__copy_header, sizeof parus__copy_header);
    if (rc == SQLITE_OK)
        store->obs_copy = true;
    return rc;
}

static parus_status copy_observation(parus_store *store, const parus_tile_record *rec,
                                     const char *parcel_id, const parus_observation *o,
                                     parus_error *err)
{
    struct parus__obs_row row;
    const char *bad = NULL;
    unsigned char head[2 + 4], num[8 * (4 + 8) + 4];
    size_t id_len = strlen(parcel_id), n = 0;
    int64_t ints[6];
    bool has[6] = {true, true, true, true, false, false};
    int rc;

    if (!parus__obs_row(o, &row, NULL, &bad))
        return parus_fail(err, PARUS_E_INVALID,
                          "parcel '%s' in tile '%s': its %s is not a value the store can hold "
                          "(docs/store.md): tile not stored",
                          parcel_id, rec->path, bad);
    ints[0] = row.w_total_mpx;
    ints[1] = row.w_valid_mpx;
    ints[2] = row.n_pixels;
    ints[3] = row.n_pure;
    ints[4] = row.vf_e4;
    ints[5] = row.ndvi_e4;
    has[4] = row.has_vf;
    has[5] = row.has_ndvi;
    /* a row: its number of fields, then each as its length and its bytes (-1: NULL), integers
     * as 8 bytes big-endian */
    parus__put_be(head, 8, 2);
    parus__put_be(head + 2, id_len, 4);
    for (int i = 0; i < 6; i++) {
        parus__put_be(num + n, has[i] ? 8 : (uint64_t)0xffffffffu, 4);
        n += 4;
        if (has[i]) {
            parus__put_be(num + n, (uint64_t)ints[i], 8);
            n += 8;
        }
    }
    parus__put_be(num + n, row.len, 4);
    n += 4;
    rc = parus__db_copy_put(store->db, head, sizeof head);
    if (rc == SQLITE_OK)
        rc = parus__db_copy_put(store->db, parcel_id, id_len);
    if (rc == SQLITE_OK)
        rc = parus__db_copy_put(store->db, num, n);
    if (rc == SQLITE_OK)
        rc = parus__db_copy_put(store->db, row.vals, row.len);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot send the observation of parcel '%s' in tile '%s' to "
                                     "'%s'",
                                     parcel_id, rec->path, store->path);
    return PARUS_OK;
}

/* Move the open tile's rows from a COPY's temporary table into their own (sql, its tile id the
 * parameter), the parcels they join locked until the commit (what the foreign keys guarantee on
 * SQLite, there row by row): the statement's result. */
static int copy_move(parus_store *store, const char *sql)
{
    parus__stmt *st = NULL;
    int rc = parus__db_exec(store->db, "LOCK TABLE parcels IN SHARE MODE");
    if (rc == SQLITE_OK)
        rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 1, store->open_tile);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    parus__finalize(st);
    return rc;
}

/* End the COPY and move its rows into observation_values: every one, or the tile fails. */
static parus_status obs_copy_finish(parus_store *store, const parus_tile_record *rec,
                                    parus_error *err)
{
    parus__stmt *st = NULL;
    int rc = parus__db_copy_put(store->db, parus__copy_trailer, sizeof parus__copy_trailer);
    int64_t moved;

    store->obs_copy = false;
    if (rc == SQLITE_OK)
        rc = parus__db_copy_end(store->db, true);
    else
        parus__db_copy_end(store->db, false); /* the put's error is the one to say */
    if (rc == SQLITE_OK)
        rc = copy_move(store, OBS_COPY_MOVE);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "a parcel is observed twice in tile '%s': tile not stored", rec->path);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot insert the observations of tile '%s' into '%s'",
                                     rec->path, store->path);
    moved = parus__db_changes(store->db);
    if (moved != (int64_t)store->open_tile_n) {
        char id[160] = "?";
        if (parus__db_prepare(store->db, OBS_COPY_MISSING, false, &st) == SQLITE_OK) {
            if (parus__step(st) == SQLITE_ROW)
                snprintf(id, sizeof id, "%s", (const char *)parus__column_text(st, 0));
            parus__finalize(st);
        }
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' observed in tile '%s' is not in '%s': tile not stored", id,
                          rec->path, store->path);
    }
    return PARUS_OK;
}

/* ---- radar observations in bulk (PostgreSQL) ----
 *
 * A radar tile is a row a parcel too (143,000 on a county's tile): on PostgreSQL its rows are
 * encoded by store_bulk.c in COPY's binary format, sent a megabyte at a time into a temporary
 * table keyed by parcel id, and moved into radar_observations by one INSERT ... SELECT at the
 * tile's commit, inside the tile's transaction, as the optical ones above. The per-row checks
 * stand as one query run only when the move did not take every row: the first row given whose
 * parcel is not in the store, or that repeats a parcel given before it, fails the tile as the
 * per-row statement would have failed it. */

#define RADAR_COLUMNS                                                                              \
    "w_total_px, w_valid_px, valid_fraction, vv, vh, vh_vv, rvi, water_fraction, looks_vv, "       \
    "looks_vh, se_vv, se_vh, n_pixels, n_pure"

static const struct parus__bulk_spec radar_bulk = {
    "the radar observations",
    "CREATE TEMP TABLE IF NOT EXISTS parus_radar_in (parcel_id TEXT NOT NULL, w_total_px "
    "DOUBLE PRECISION, w_valid_px DOUBLE PRECISION, valid_fraction DOUBLE PRECISION, vv DOUBLE "
    "PRECISION, vh DOUBLE PRECISION, vh_vv DOUBLE PRECISION, rvi DOUBLE PRECISION, "
    "water_fraction DOUBLE PRECISION, looks_vv DOUBLE PRECISION, looks_vh DOUBLE PRECISION, "
    "se_vv DOUBLE PRECISION, se_vh DOUBLE PRECISION, n_pixels BIGINT, n_pure BIGINT, seq BIGINT "
    "NOT NULL) ON COMMIT DELETE ROWS",
    "COPY parus_radar_in (parcel_id, " RADAR_COLUMNS ", seq) FROM STDIN (FORMAT binary)", 16};

/* ON CONFLICT DO NOTHING: a parcel given twice leaves the transaction usable, so that the check
 * below can name it */
#define RADAR_COPY_MOVE                                                                            \
    "INSERT INTO radar_observations (tile_id, parcel_num, " RADAR_COLUMNS ") SELECT ?1, p.num, "   \
    "i.w_total_px, i.w_valid_px, i.valid_fraction, i.vv, i.vh, i.vh_vv, i.rvi, "                   \
    "i.water_fraction, i.looks_vv, i.looks_vh, i.se_vv, i.se_vh, i.n_pixels, i.n_pure FROM "       \
    "parus_radar_in i JOIN parcels p ON p.id = i.parcel_id ORDER BY p.num ON CONFLICT DO NOTHING"
#define RADAR_COPY_FIRST_BAD                                                                       \
    "SELECT s.parcel_id, CASE WHEN s.num IS NULL THEN 1 ELSE 0 END FROM (SELECT i.seq, "           \
    "i.parcel_id, p.num, row_number() OVER (PARTITION BY i.parcel_id ORDER BY i.seq) AS k "        \
    "FROM parus_radar_in i LEFT JOIN parcels p ON p.id = i.parcel_id) s "                          \
    "WHERE s.num IS NULL OR s.k > 1 ORDER BY s.seq LIMIT 1"

static void radar_values(parus__binder *b, const parus_observation *o)
{
    const double v[] = {o->valid_fraction,       o->vv,       o->vh,       o->vh_vv, o->rvi,
                        o->radar_water_fraction, o->looks_vv, o->looks_vh, o->se_vv, o->se_vh};
    parus__b_real(b, isnan(o->w_total_px) ? 0.0 : o->w_total_px);
    parus__b_real(b, isnan(o->w_valid_px) ? 0.0 : o->w_valid_px);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        parus__b_real(b, v[k]);
    parus__b_int(b, (int64_t)o->n_pixels);
    parus__b_int(b, (int64_t)o->n_pure);
}

static parus_status bulk_radar_observation(parus_store *store, const char *parcel_id,
                                           const parus_observation *o, parus_error *err)
{
    parus__binder b = {NULL, &store->radar_in, 0, SQLITE_OK};
    parus__bulk_row(b.bulk, &radar_bulk);
    parus__b_text(&b, parcel_id);
    radar_values(&b, o);
    return parus__bulk_row_end(store, b.bulk, parcel_id, err);
}

/* Send the rows left and move them all into radar_observations, or fail the tile. */
static parus_status radar_copy_finish(parus_store *store, const parus_tile_record *rec,
                                      parus_error *err)
{
    parus__stmt *st = NULL;
    parus_status code;
    int64_t moved;
    int rc;

    store->radar_copy = false;
    if (store->radar_in.n_rows == 0)
        return PARUS_OK;
    code = parus__bulk_send(store, &store->radar_in, err);
    if (code != PARUS_OK)
        return code;
    rc = copy_move(store, RADAR_COPY_MOVE);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot insert the radar observations of tile '%s' into '%s'",
                                     rec->path, store->path);
    moved = parus__db_changes(store->db);
    if (moved == (int64_t)store->radar_in.n_rows)
        return PARUS_OK;
    {
        char id[256] = "?";
        bool missing = false;
        rc = parus__db_prepare(store->db, RADAR_COPY_FIRST_BAD, false, &st);
        if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
            const char *t = (const char *)parus__column_text(st, 0);
            snprintf(id, sizeof id, "%s", t ? t : "?");
            missing = parus__column_int(st, 1) != 0;
        }
        parus__finalize(st);
        if (rc == SQLITE_DONE)
            return parus_fail(err, PARUS_E_INTERNAL,
                              "%lld of the %zu radar observations of tile '%s' went into '%s', "
                              "and no row says why: tile not stored",
                              (long long)moved, store->radar_in.n_rows, rec->path, store->path);
        if (rc != SQLITE_ROW)
            return parus__store_sql_fail(store, rc, err,
                                         "cannot check the radar observations of tile '%s' in "
                                         "'%s'",
                                         rec->path, store->path);
        if (missing)
            return parus_fail(err, PARUS_E_NOT_FOUND,
                              "parcel '%s' observed in tile '%s' is not in '%s': tile not stored",
                              id, rec->path, store->path);
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "parcel '%s' is observed twice in tile '%s': tile not stored", id,
                          rec->path);
    }
}

char *parus__values_sql(const char *head, size_t n_cols, size_t n_rows)
{
    size_t len = strlen(head), row = 2 * n_cols + 2, at = len, r, c; /* ",(?,?)" */
    char *sql;
    if (n_cols == 0 || n_rows == 0 || n_rows > (SIZE_MAX - len - 1) / (row + 1))
        return NULL;
    if (!(sql = malloc(len + n_rows * row + 1)))
        return NULL;
    memcpy(sql, head, len);
    for (r = 0; r < n_rows; r++) {
        if (r > 0)
            sql[at++] = ',';
        sql[at++] = '(';
        for (c = 0; c < n_cols; c++) {
            if (c > 0)
                sql[at++] = ',';
            sql[at++] = '?';
        }
        sql[at++] = ')';
    }
    sql[at] = '\0';
    return sql;
}

/* ---- radar observations in batches (SQLite) ----
 *
 * A radar tile is a row a parcel, 143,046 rows on the 10980² bench tile: each row is held until
 * RADAR_BATCH of them are, then all go in one INSERT of as many VALUES, so the statement's cost
 * (its reset, its cursors on the table and its two indexes, the foreign keys' set-up) is paid once
 * a batch instead of once a row (0.44 s of CPU for those rows one a statement, 0.29 s 54 a
 * statement). The rows go in the order given, so they get the rowids the row-by-row inserts gave.
 * The rest are inserted at the tile's commit by a statement prepared for their number, and dropped
 * with the transaction on abort; a batch the table refuses is undone as one statement and fails
 * the tile, naming the parcel given twice as the row-by-row insert did. */

/* 960 parameters a statement: under the 999 that SQLite allowed before 3.32 */
#define RADAR_BATCH 60
#define RADAR_ROW_PARAMS 16

struct parus__radar_row {
    int64_t num; /* the parcel's row number */
    parus_observation obs;
};

/* "INSERT ... VALUES (?, ...), ..." for n rows; NULL when out of memory. */
static char *radar_batch_sql(size_t n)
{
    return parus__values_sql("INSERT INTO radar_observations (tile_id, parcel_num, " RADAR_COLUMNS
                             ") VALUES ",
                             RADAR_ROW_PARAMS, n);
}

/* After a batch was refused as a whole (and rolled back by SQLite, as one statement): the first of
 * its rows whose parcel the tile already has, from an earlier batch or an earlier row of this one,
 * as the parcel's id in id; false when none is. */
static bool radar_batch_repeat(parus_store *store, const struct parus__radar_row *rows, size_t n,
                               char *id, size_t cap)
{
    parus__stmt *st = NULL;
    bool found = false;
    size_t r;

    if (parus__db_prepare(store->db,
                          "SELECT 1 FROM radar_observations WHERE parcel_num = ?1 AND tile_id = ?2",
                          false, &st) != SQLITE_OK)
        return false;
    for (r = 0; r < n && !found; r++) {
        for (size_t q = 0; q < r && !found; q++)
            found = rows[q].num == rows[r].num;
        if (!found && parus__bind_int64(st, 1, rows[r].num) == SQLITE_OK &&
            parus__bind_int64(st, 2, store->open_tile) == SQLITE_OK)
            found = parus__step(st) == SQLITE_ROW;
        parus__reset(st);
    }
    parus__finalize(st);
    if (!found)
        return false;
    st = NULL;
    snprintf(id, cap, "?");
    if (parus__db_prepare(store->db, "SELECT id FROM parcels WHERE num = ?1", false, &st) ==
            SQLITE_OK &&
        parus__bind_int64(st, 1, rows[r - 1].num) == SQLITE_OK && parus__step(st) == SQLITE_ROW) {
        const char *t = (const char *)parus__column_text(st, 0);
        snprintf(id, cap, "%s", t ? t : "?");
    }
    parus__finalize(st);
    return true;
}

/* Insert the rows held, in one statement. */
static parus_status radar_flush(parus_store *store, const parus_tile_record *rec, parus_error *err)
{
    const struct parus__radar_row *rows = store->radar_rows;
    size_t n = store->n_radar_rows;
    parus__stmt *st = NULL;
    parus_status code = PARUS_OK;
    char id[256];
    int rc = SQLITE_OK;

    if (n == 0)
        return PARUS_OK;
    store->n_radar_rows = 0;
    if (n == RADAR_BATCH && store->radar_batch) {
        st = store->radar_batch;
        parus__clear_bindings(st);
    } else {
        char *sql = radar_batch_sql(n);
        rc = sql ? parus__db_prepare(store->db, sql, n == RADAR_BATCH, &st) : SQLITE_NOMEM;
        free(sql);
        if (rc == SQLITE_OK && n == RADAR_BATCH)
            store->radar_batch = st;
    }
    for (size_t r = 0; r < n && rc == SQLITE_OK; r++) {
        int at = (int)(r * RADAR_ROW_PARAMS);
        parus__binder b = {st, NULL, at + 2, SQLITE_OK};
        rc = parus__bind_int64(st, at + 1, store->open_tile);
        if (rc == SQLITE_OK)
            rc = parus__bind_int64(st, at + 2, rows[r].num);
        if (rc == SQLITE_OK) {
            radar_values(&b, &rows[r].obs);
            rc = b.rc;
        }
    }
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    /* SQLite's reason is read before anything else touches the connection */
    if (rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot insert the radar observations of tile '%s' into '%s'",
                                     rec->path, store->path);
    if (st && st == store->radar_batch)
        parus__reset(st);
    else
        parus__finalize(st);
    if ((rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) &&
        radar_batch_repeat(store, rows, n, id, sizeof id))
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "parcel '%s' is observed twice in tile '%s': tile not stored", id,
                          rec->path);
    return code;
}

/* Hold the row, inserting the batch when it is full. */
static parus_status radar_add(parus_store *store, const parus_tile_record *rec, int64_t num,
                              const parus_observation *o, parus_error *err)
{
    if (!store->radar_rows) {
        store->radar_rows = malloc(RADAR_BATCH * sizeof *store->radar_rows);
        if (!store->radar_rows)
            return parus_fail(err, PARUS_E_NOMEM, "cannot hold the radar observations of '%s'",
                              rec->path);
    }
    store->radar_rows[store->n_radar_rows].num = num;
    store->radar_rows[store->n_radar_rows].obs = *o;
    store->n_radar_rows++;
    return store->n_radar_rows == RADAR_BATCH ? radar_flush(store, rec, err) : PARUS_OK;
}

/* The parcel's row number: walk_num's when the open tile may take the walk's numbers, else
 * looked up by its id. */
static parus_status parcel_num(parus_store *store, const parus_tile_record *rec,
                               const char *parcel_id, const int64_t *walk_num, int64_t *num,
                               parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (walk_num && store->tile_nums) {
        *num = *walk_num;
        return PARUS_OK;
    }
    st = stmt_get(store, STMT_PARCEL_NUM, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, parcel_id);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_DONE) {
        parus__reset(st);
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' observed in tile '%s' is not in '%s': tile not stored",
                          parcel_id, rec->path, store->path);
    }
    if (rc != SQLITE_ROW) {
        code = parus__store_sql_fail(store, rc, err, "cannot look up parcel '%s' in '%s'",
                                     parcel_id, store->path);
        parus__reset(st);
        return code;
    }
    *num = parus__column_int64(st, 0);
    parus__reset(st);
    return PARUS_OK;
}

/* walk_num: the parcel's row number from ingest's walk, or NULL. */
static parus_status insert_observation(parus_store *store, const parus_tile_record *rec,
                                       int64_t tile_id, const char *parcel_id,
                                       const int64_t *walk_num, const parus_observation *o,
                                       parus_error *err)
{
    parus__stmt *st;
    int64_t num = 0;
    parus_status code;
    int rc;

    if (store->obs_copy)
        return copy_observation(store, rec, parcel_id, o, err);
    if (store->radar_copy)
        return bulk_radar_observation(store, parcel_id, o, err);
    code = parcel_num(store, rec, parcel_id, walk_num, &num, err);
    if (code != PARUS_OK && is_radar(rec)) {
        /* a row held from before may repeat a parcel: that failure is said first, as it was row
         * by row */
        parus_error held;
        parus_status first = radar_flush(store, rec, &held);
        if (first != PARUS_OK && err)
            *err = held;
        return first != PARUS_OK ? first : code;
    }
    if (code != PARUS_OK)
        return code;
    if (is_radar(rec))
        return radar_add(store, rec, num, o, err);
    st = stmt_get(store, STMT_OBS_INSERT, err);
    if (!st)
        return prepare_failed(err);
    rc = parus__bind_int64(st, 1, tile_id);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 2, num);
    if (rc == SQLITE_OK) {
        struct parus__obs_row row;
        const char *bad = NULL;
        rc = parus__obs_bind(st, 3, o, &row, NULL, &bad);
        if (rc == SQLITE_RANGE && bad) {
            parus__reset(st);
            return parus_fail(err, PARUS_E_INVALID,
                              "parcel '%s' in tile '%s': its %s is not a value the store can hold "
                              "(docs/store.md): tile not stored",
                              parcel_id, rec->path, bad);
        }
    }
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        parus__reset(st);
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "parcel '%s' is observed twice in tile '%s': tile not stored", parcel_id,
                          rec->path);
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot insert the observation of parcel '%s' in tile '%s' "
                                     "into '%s'",
                                     parcel_id, rec->path, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    return PARUS_OK;
}

/* Inside the tile's transaction: no other writer's tile of the same acquisition in other bytes
 * (ingest looks before the pass, outside any transaction; two writers given a scene and its
 * re-encoded copy at once would each find none there). SQLite's BEGIN IMMEDIATE already holds
 * the write lock, so every tile committed before it is seen and none can commit until this one
 * ends; PostgreSQL takes a transaction lock on the acquisition (sensor and date) first, so the
 * second writer waits for the first's commit and then sees its tile. */
static parus_status acquisition_claim(parus_store *store, const parus_tile_record *rec,
                                      parus_error *err)
{
    parus_tile_record twin;
    parus_status code;
    bool found = false;

    if (parus__db_is_pg(store->db)) {
        uint64_t key[4];
        char text[64];
        parus__stmt *st;
        int rc;
        int n = snprintf(text, sizeof text, "parus acquisition %s %s", rec->sensor, rec->date);
        parus__fingerprint(text, (size_t)n, key);
        rc = parus__db_prepare(store->db, "SELECT pg_advisory_xact_lock(?1)", false, &st);
        if (rc == SQLITE_OK) {
            rc = parus__bind_int64(st, 1, (int64_t)key[0]);
            if (rc == SQLITE_OK)
                rc = parus__step(st);
            rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
            parus__finalize(st);
        }
        if (rc != SQLITE_OK)
            return parus__store_sql_fail(store, rc, err,
                                         "cannot claim the acquisition of '%s' in '%s'", rec->path,
                                         store->path);
    }
    code = parus_store_find_same_acquisition(store, rec, &twin, &found, err);
    if (code == PARUS_OK && found)
        code = parus_fail(err, PARUS_E_DUPLICATE,
                          "tile '%s' is the same acquisition as tile %lld ('%s': %s, %s, the same "
                          "grid or most of its footprint) in other bytes, stored by another "
                          "writer a moment ago: its "
                          "observations would count the same pixels twice; nothing of it is "
                          "stored, the stored tile stays",
                          rec->path, (long long)twin.id, twin.path, twin.sensor, twin.date);
    return code;
}

enum tile_open { TILE_NEW, TILE_NEW_TWIN, TILE_EXTEND };

/* A stored tile, looked up again inside the transaction that extends it: still there, with the
 * same bytes (a concurrent removal would leave the new observations without their tile). */
static parus_status extend_check(parus_store *store, const parus_tile_record *rec, parus_error *err)
{
    parus_tile_record now;
    bool found = false;
    parus_status code = parus_store_find_tile(store, rec->hash, &now, &found, err);
    if (code == PARUS_OK && (!found || now.id != rec->id))
        code = parus_fail(err, PARUS_E_NOT_FOUND,
                          "tile %lld ('%s') was removed from '%s' while its new parcels were "
                          "measured: nothing of them is stored",
                          (long long)rec->id, rec->path, store->path);
    return code;
}

static parus_status tile_begin(parus_store *store, parus_tile_record *rec, enum tile_open how,
                               parus_error *err)
{
    int64_t id = 0;
    parus_status code;

    if (!store || !rec)
        return parus_fail(err, PARUS_E_INVALID, "tile_begin: missing store or record");
    if (store->open_tile)
        return parus_fail(err, PARUS_E_INVALID, "tile_begin: tile %lld of '%s' is still open",
                          (long long)store->open_tile, store->path);
    if (store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "tile_begin: the assessments of season %s are open in '%s'",
                          store->open_assess_season, store->path);
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    code = check_tile(store, rec, err);
    if (code != PARUS_OK)
        return code;
    utc_now(store->open_tile_at);
    code = tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    code = how == TILE_NEW ? acquisition_claim(store, rec, err) : PARUS_OK;
    if (code != PARUS_OK) {
        tx_rollback(store);
        return code;
    }
    if (how == TILE_EXTEND) {
        code = extend_check(store, rec, err);
        id = rec->id;
    } else {
        code = insert_tile(store, rec, store->open_tile_at, &id, err);
    }
    if (code == PARUS_OK && parus__db_is_pg(store->db) && !is_radar(rec)) {
        int rc = obs_copy_begin(store);
        if (rc != SQLITE_OK)
            code = parus__store_sql_fail(store, rc, err, "cannot write tile '%s' into '%s'",
                                         rec->path, store->path);
    }
    if (code == PARUS_OK && parus__db_is_pg(store->db) && is_radar(rec)) {
        store->radar_in.n = 0;
        store->radar_in.n_rows = 0;
        store->radar_in.rc = SQLITE_OK;
        store->radar_copy = true;
    }
    if (code != PARUS_OK) {
        tx_rollback(store);
        return code;
    }
    /* BEGIN IMMEDIATE holds the write lock: if no other connection committed between the walk
     * and now, none can until the commit, and the walk's parcel numbers stand */
    store->tile_nums = store->walk_known && data_version(store) == store->walk_version;
    store->walk_known = false;
    store->open_tile = id;
    store->open_tile_n = 0;
    store->open_tile_extend = how == TILE_EXTEND;
    rec->id = id;
    return PARUS_OK;
}

parus_status parus_store_tile_begin(parus_store *store, parus_tile_record *rec, parus_error *err)
{
    return tile_begin(store, rec, TILE_NEW, err);
}

parus_status parus__store_tile_begin_twin(parus_store *store, parus_tile_record *rec,
                                          parus_error *err)
{
    return tile_begin(store, rec, TILE_NEW_TWIN, err);
}

parus_status parus__store_tile_extend_begin(parus_store *store, parus_tile_record *rec,
                                            parus_error *err)
{
    if (!rec || rec->id <= 0)
        return parus_fail(err, PARUS_E_INVALID, "tile_extend_begin: not a stored tile");
    return tile_begin(store, rec, TILE_EXTEND, err);
}

parus_status parus__store_tile_reading(parus_store *store, int64_t tile_id, char out[17],
                                       parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_TILE_READING, err);
    int rc;
    out[0] = '\0';
    if (!st)
        return prepare_failed(err);
    rc = parus__bind_int64(st, 1, tile_id);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *r = (const char *)parus__column_text(st, 0);
        if (r)
            snprintf(out, 17, "%.16s", r);
        rc = SQLITE_DONE;
    }
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot read tile %lld of '%s'",
                                     (long long)tile_id, store->path);
    return PARUS_OK;
}

parus_status parus__store_tile_observed_nums(parus_store *store, int64_t tile_id, int64_t **nums,
                                             bool **masked, size_t *n, parus_error *err)
{
    parus__stmt *st = stmt_get(store, STMT_TILE_OBSERVED_NUMS, err);
    int64_t *v = NULL;
    bool *m = NULL;
    size_t cap = 0, k = 0;
    int rc;
    *nums = NULL;
    *masked = NULL;
    *n = 0;
    if (!st)
        return prepare_failed(err);
    rc = parus__bind_int64(st, 1, tile_id);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        if (k == cap) {
            int64_t *g = realloc(v, (cap ? 2 * cap : 1024) * sizeof *g);
            bool *gm = g ? realloc(m, (cap ? 2 * cap : 1024) * sizeof *gm) : NULL;
            if (g)
                v = g;
            if (gm)
                m = gm;
            if (!g || !gm) {
                parus__reset(st);
                free(v);
                free(m);
                return parus_fail(err, PARUS_E_NOMEM,
                                  "cannot hold the parcels tile %lld measured in '%s'",
                                  (long long)tile_id, store->path);
            }
            cap = cap ? 2 * cap : 1024;
        }
        v[k] = parus__column_int64(st, 0);
        m[k] = parus__column_int64(st, 1) != 0;
        k++;
        rc = SQLITE_OK;
    }
    parus__reset(st);
    if (rc != SQLITE_DONE) {
        free(v);
        free(m);
        return parus__store_sql_fail(store, rc, err,
                                     "cannot read the parcels tile %lld measured in '%s'",
                                     (long long)tile_id, store->path);
    }
    *nums = v;
    *masked = m;
    *n = k;
    return PARUS_OK;
}

static parus_status tile_add(parus_store *store, const parus_tile_record *rec,
                             const char *parcel_id, const int64_t *walk_num,
                             const struct parus_observation *obs, parus_error *err)
{
    parus_status code;

    if (!store || !rec || !store->open_tile || rec->id != store->open_tile)
        return parus_fail(err, PARUS_E_INVALID, "tile_add: no tile open for '%s'",
                          rec ? rec->path : "?");
    if (!parcel_id || !obs) {
        parus_store_tile_abort(store);
        return parus_fail(err, PARUS_E_INVALID, "observation %zu of tile '%s' is missing",
                          store->open_tile_n, rec->path);
    }
    code = insert_observation(store, rec, store->open_tile, parcel_id, walk_num, obs, err);
    if (code != PARUS_OK) {
        parus_store_tile_abort(store);
        return code;
    }
    store->open_tile_n++;
    return PARUS_OK;
}

parus_status parus_store_tile_add(parus_store *store, const parus_tile_record *rec,
                                  const char *parcel_id, const struct parus_observation *obs,
                                  parus_error *err)
{
    return tile_add(store, rec, parcel_id, NULL, obs, err);
}

parus_status parus__store_tile_add_num(parus_store *store, const parus_tile_record *rec,
                                       const char *parcel_id, int64_t num,
                                       const struct parus_observation *obs, parus_error *err)
{
    return tile_add(store, rec, parcel_id, &num, obs, err);
}

/* An extended tile: its count grows by the observations added, and the seasons whose window
 * holds its date are owed their assessment (a new tile's trigger does that for a new tile). */
static parus_status extend_count(parus_store *store, parus_tile_record *rec, parus_error *err)
{
    char cause[160];
    parus__stmt *st = stmt_get(store, STMT_TILE_ADD_COUNT, err);
    int rc;
    if (!st)
        return prepare_failed(err);
    rc = parus__bind_int64(st, 1, store->open_tile);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 2, (int64_t)store->open_tile_n);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    parus__reset(st);
    if (rc == SQLITE_DONE) {
        st = stmt_get(store, STMT_TILE_EXTEND_STALE, err);
        if (!st)
            return prepare_failed(err);
        snprintf(cause, sizeof cause, "tile %.16s of %s measured %zu parcels registered since",
                 rec->hash, rec->date, store->open_tile_n);
        rc = parus__bind_text(st, 1, rec->date, -1);
        if (rc == SQLITE_OK)
            rc = parus__bind_text(st, 2, store->open_tile_at, -1);
        if (rc == SQLITE_OK)
            rc = parus__bind_text(st, 3, cause, -1);
        if (rc == SQLITE_OK)
            rc = stmt_run(st);
        parus__reset(st);
    }
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot update tile '%s' in '%s'", rec->path,
                                     store->path);
    rec->n_parcels += store->open_tile_n;
    return PARUS_OK;
}

parus_status parus_store_tile_commit(parus_store *store, parus_tile_record *rec, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !rec || !store->open_tile || rec->id != store->open_tile)
        return parus_fail(err, PARUS_E_INVALID, "tile_commit: no tile open for '%s'",
                          rec ? rec->path : "?");
    if (store->obs_copy && (code = obs_copy_finish(store, rec, err)) != PARUS_OK) {
        parus_store_tile_abort(store);
        return code;
    }
    if (store->radar_copy && (code = radar_copy_finish(store, rec, err)) != PARUS_OK) {
        parus_store_tile_abort(store);
        return code;
    }
    if ((code = radar_flush(store, rec, err)) != PARUS_OK) {
        parus_store_tile_abort(store);
        return code;
    }
    /* the count is known only now: the row was inserted with the caller's estimate (a tile
     * stored without observations keeps it) */
    if (store->open_tile_n == 0)
        goto commit;
    if (store->open_tile_extend) {
        code = extend_count(store, rec, err);
        if (code != PARUS_OK) {
            parus_store_tile_abort(store);
            return code;
        }
        goto commit;
    }
    st = stmt_get(store, STMT_TILE_SET_COUNT, err);
    if (!st) {
        parus_store_tile_abort(store);
        return prepare_failed(err);
    }
    rc = parus__bind_int64(st, 1, store->open_tile);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 2, (int64_t)store->open_tile_n);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot update tile '%s' in '%s'", rec->path,
                                     store->path);
        parus__reset(st);
        parus_store_tile_abort(store);
        return code;
    }
    parus__reset(st);
    rec->n_parcels = store->open_tile_n;
commit:
    code = tx_commit(store, err);
    store->open_tile = 0;
    if (code == PARUS_OK && !store->open_tile_extend) /* an extended tile keeps its time */
        copy_text(rec->processed_at, sizeof rec->processed_at, store->open_tile_at);
    store->open_tile_extend = false;
    if (code != PARUS_OK)
        return code;
    return PARUS_OK;
}

void parus_store_tile_abort(parus_store *store)
{
    if (!store || !store->open_tile)
        return;
    if (store->obs_copy) {
        parus__db_copy_end(store->db, false);
        store->obs_copy = false;
    }
    /* the rows sent go with the transaction */
    store->radar_copy = false;
    store->radar_in.n = 0;
    store->radar_in.n_rows = 0;
    store->radar_in.rc = SQLITE_OK;
    store->n_radar_rows = 0;
    tx_rollback(store);
    store->open_tile = 0;
    store->open_tile_n = 0;
    store->open_tile_extend = false;
}

parus_status parus_store_put_tile_observations(parus_store *store, parus_tile_record *rec,
                                               const char *const *parcel_ids,
                                               const struct parus_observation *const *obs,
                                               size_t n_obs, parus_error *err)
{
    parus_tile_record saved;
    parus_status code;
    size_t i;

    if (!store || !rec || (n_obs && (!parcel_ids || !obs)))
        return parus_fail(err, PARUS_E_INVALID, "put_tile: missing store, record or observations");
    for (i = 0; i < n_obs; i++)
        if (!parcel_ids[i] || !obs[i])
            return parus_fail(err, PARUS_E_INVALID, "observation %zu of tile '%s' is missing", i,
                              rec->path);
    saved = *rec; /* the record is written only on success */
    code = parus_store_tile_begin(store, rec, err);
    for (i = 0; code == PARUS_OK && i < n_obs; i++)
        code = parus_store_tile_add(store, rec, parcel_ids[i], obs[i], err);
    if (code == PARUS_OK)
        code = parus_store_tile_commit(store, rec, err);
    if (code != PARUS_OK)
        *rec = saved; /* begin, add and commit leave nothing open on error */
    return code;
}

parus_status parus_store_put_tile(parus_store *store, parus_tile_record *rec, parus_error *err)
{
    return parus_store_put_tile_observations(store, rec, NULL, NULL, 0, err);
}

parus_status parus_store_tiles_foreach(parus_store *store, parus_tile_visit_fn fn, void *ctx,
                                       parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    parus_error_init(err);
    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "tiles_foreach: missing store or function");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_TILES_ALL, err);
    if (!st)
        return prepare_failed(err);
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        parus_tile_record rec;
        int stop;
        row_tile(st, &rec);
        stop = fn(&rec, ctx);
        if (stop) {
            parus__reset(st);
            if (err && err->code != PARUS_OK)
                return err->code;
            return parus_fail(err, PARUS_E_INTERNAL,
                              "the walk over the tiles of '%s' stopped at tile %lld (%d)",
                              store->path, (long long)rec.id, stop);
        }
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot read the tiles of '%s'", store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    return PARUS_OK;
}

parus_status parus_store_parcel_series(parus_store *store, const char *parcel_id,
                                       parus_series_fn fn, void *ctx, size_t *n_points,
                                       parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    size_t n = 0;
    int rc;

    parus_error_init(err);
    if (!store || !parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "parcel_series: missing store, id or function");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_PARCEL_SERIES, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, parcel_id);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_series_point pt;
        int stop;
        memset(&pt, 0, sizeof pt);
        pt.tile_id = parus__column_int64(st, 0);
        copy_text(pt.date, sizeof pt.date, column_text(st, 1));
        copy_text(pt.sensor, sizeof pt.sensor, column_text(st, 2));
        if (!parus__obs_read(st, 3, &pt.obs)) {
            parus__reset(st);
            return parus_fail(err, PARUS_E_STORE,
                              "'%s' is damaged: the observation of parcel '%s' in tile %lld "
                              "cannot be read (observation_values.vals)",
                              store->path, parcel_id, (long long)pt.tile_id);
        }
        n++;
        stop = fn(&pt, ctx);
        if (stop) {
            parus__reset(st);
            if (err && err->code != PARUS_OK)
                return err->code;
            return parus_fail(err, PARUS_E_INTERNAL, "the walk over the series of '%s' stopped",
                              parcel_id);
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        code =
            parus__store_sql_fail(store, rc, err, "cannot read the series of parcel '%s' in '%s'",
                                  parcel_id, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    if (n_points)
        *n_points = n;
    return PARUS_OK;
}

/* Columns col0.. of a radar observation row (RADAR_ROW_COLUMNS order: tile id, date, orbit
 * direction, relative orbit, the twelve figures, n_pixels, n_pure, coefficient) as a radar point:
 * every figure NaN first (radar observations have no optical ones), then the stored ones. */
void parus__store_radar_row(parus__stmt *st, int col0, parus_radar_point *pt)
{
    parus_observation *o = &pt->obs;
    double *const dst[] = {
        &o->w_total_px, &o->w_valid_px, &o->valid_fraction,       &o->vv,       &o->vh,
        &o->vh_vv,      &o->rvi,        &o->radar_water_fraction, &o->looks_vv, &o->looks_vh,
        &o->se_vv,      &o->se_vh};
    parus_zonal empty;
    size_t k;
    memset(pt, 0, sizeof *pt);
    parus_zonal_init(&empty);
    parus_zonal_finish(&empty, o);
    pt->tile_id = parus__column_int64(st, col0);
    copy_text(pt->date, sizeof pt->date, column_text(st, col0 + 1));
    copy_text(pt->orbit_direction, sizeof pt->orbit_direction, column_text(st, col0 + 2));
    pt->relative_orbit = parus__column_int(st, col0 + 3);
    for (k = 0; k < sizeof dst / sizeof dst[0]; k++)
        *dst[k] = column_real(st, col0 + 4 + (int)k);
    o->n_pixels = column_size(st, col0 + 16);
    o->n_pure = column_size(st, col0 + 17);
    copy_text(pt->coefficient, sizeof pt->coefficient, column_text(st, col0 + 18));
}

parus_status parus_store_parcel_radar_series(parus_store *store, const char *parcel_id,
                                             parus_radar_series_fn fn, void *ctx, size_t *n_points,
                                             parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    size_t n = 0;
    int rc;

    parus_error_init(err);
    if (!store || !parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "radar_series: missing store, id or function");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_PARCEL_RADAR_SERIES, err);
    if (!st)
        return prepare_failed(err);
    rc = bind_text(st, 1, parcel_id);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_radar_point pt;
        parus__store_radar_row(st, 0, &pt);
        n++;
        if (fn(&pt, ctx)) {
            parus__reset(st);
            if (err && err->code != PARUS_OK)
                return err->code;
            return parus_fail(err, PARUS_E_INTERNAL,
                              "the walk over the radar series of '%s' stopped", parcel_id);
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot read the radar series of parcel '%s' in '%s'",
                                     parcel_id, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    if (n_points)
        *n_points = n;
    return PARUS_OK;
}

/* ---- runs ---- */

parus_status parus_store_run_begin(parus_store *store, const char *command, const char *args,
                                   int64_t *run_id, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    char now[32];
    int rc;

    if (!store || !command || !run_id)
        return parus_fail(err, PARUS_E_INVALID, "run_begin: missing store, command or output");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_RUN_INSERT, err);
    if (!st)
        return prepare_failed(err);
    utc_now(now);
    rc = bind_text(st, 1, command);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, args);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, parus_version());
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, now);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot record the run of '%s' in '%s'",
                                     command, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    *run_id = parus__db_last_insert_rowid(store->db);
    return PARUS_OK;
}

parus_status parus_store_run_end(parus_store *store, int64_t run_id, const char *outcome,
                                 const char *summary, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    char now[32];
    int rc;

    if (!store || !outcome)
        return parus_fail(err, PARUS_E_INVALID, "run_end: missing store or outcome");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_RUN_END, err);
    if (!st)
        return prepare_failed(err);
    utc_now(now);
    rc = parus__bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, now);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, outcome);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, summary);
    if (rc == SQLITE_OK)
        rc = stmt_run(st);
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot record the end of run %lld in '%s'",
                                     (long long)run_id, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    if (parus__db_changes(store->db) == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND, "run %lld is not in '%s'", (long long)run_id,
                          store->path);
    return PARUS_OK;
}

/* ---- summary ---- */

parus_status parus_store_get_counts(parus_store *store, parus_store_counts *out, parus_error *err)
{
    parus__stmt *st;
    parus_store_counts c;
    parus_status code;
    int rc;

    if (!store || !out)
        return parus_fail(err, PARUS_E_INVALID, "get_counts: missing store or output");
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, STMT_COUNTS, err);
    if (!st)
        return prepare_failed(err);
    rc = parus__step(st);
    if (rc != SQLITE_ROW) {
        code =
            parus__store_sql_fail(store, rc, err, "cannot count the contents of '%s'", store->path);
        parus__reset(st);
        return code;
    }
    c.n_parcels = column_size(st, 0);
    c.n_farmers = column_size(st, 1);
    c.parcel_area_m2 = parus__column_double(st, 2);
    c.n_parcel_rejects = column_size(st, 3);
    c.n_tiles = column_size(st, 4);
    c.n_observations = column_size(st, 5);
    c.n_runs = column_size(st, 6);
    c.n_parcel_crops = column_size(st, 7);
    c.n_samples = column_size(st, 8);
    c.n_sample_points = column_size(st, 9);
    c.n_assessments = column_size(st, 10);
    c.n_parcel_results = column_size(st, 11);
    c.n_parcel_flags = column_size(st, 12);
    c.n_peer_curves = column_size(st, 13);
    c.n_limits = column_size(st, 14);
    parus__reset(st);
    *out = c;
    return PARUS_OK;
}

/* ---- merging stores ---- */

/* The merge is a handful of set statements over the attached source, run once per merge, so
 * they go through sqlite3_exec rather than the statement cache. The temp tables name what this
 * merge adds, so counts and the R-tree follow exactly the rows inserted or updated. */
static parus_status merge_exec(parus_store *store, const char *src, const char *sql,
                               size_t *changes, parus_error *err)
{
    int rc = parus__db_exec(store->db, sql);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot merge '%s' into '%s'", src,
                                     store->path);
    if (changes)
        *changes = (size_t)parus__db_changes(store->db);
    return PARUS_OK;
}

#define MERGE_SAME_PARCEL                                                                          \
    "s.farmer_id IS p.farmer_id AND s.declared_area_m2 IS p.declared_area_m2 AND "                 \
    "s.area_m2 = p.area_m2 AND s.wkb = p.wkb AND s.repaired = p.repaired"
#define MERGE_PARCEL_COLUMNS                                                                       \
    "farmer_id, declared_area_m2, area_m2, lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, "   \
    "wkb, repaired, source, loaded_at"
/* a grid value of both tiles the same to a billionth of itself, or unknown in both (as
 * same_grid does for ingest) */
#define MERGE_NEAR(c)                                                                              \
    "(t." #c " IS s." #c " OR abs(t." #c " - s." #c ") <= 1e-9 * max(1.0, abs(s." #c ")))"
/* the same acquisition as ingest judges it (same_grid, same_scene_regridded): the same sensor and
 * date, and the same grid, or (optical) four fifths of the smaller footprint shared */
/* clang-format off */
#define MERGE_SAME_GRID                                                                            \
    "t.sensor = s.sensor AND t.date = s.date AND ((t.epsg IS s.epsg AND t.width = s.width AND "    \
    "t.height = s.height AND "                                                                     \
    MERGE_NEAR(gt0) " AND " MERGE_NEAR(gt1) " AND " MERGE_NEAR(gt2) " AND "                        \
    MERGE_NEAR(gt3) " AND " MERGE_NEAR(gt4) " AND " MERGE_NEAR(gt5) " AND "                        \
    MERGE_NEAR(lon_min_deg) " AND " MERGE_NEAR(lat_min_deg) " AND "                                \
    MERGE_NEAR(lon_max_deg) " AND " MERGE_NEAR(lat_max_deg) ") OR (t.sensor <> 'sentinel-1' AND "  \
    "min(t.lon_max_deg, s.lon_max_deg) > max(t.lon_min_deg, s.lon_min_deg) AND "                   \
    "min(t.lat_max_deg, s.lat_max_deg) > max(t.lat_min_deg, s.lat_min_deg) AND "                   \
    "(min(t.lon_max_deg, s.lon_max_deg) - max(t.lon_min_deg, s.lon_min_deg)) * "                   \
    "(min(t.lat_max_deg, s.lat_max_deg) - max(t.lat_min_deg, s.lat_min_deg)) >= 0.8 * min("        \
    "(t.lon_max_deg - t.lon_min_deg) * (t.lat_max_deg - t.lat_min_deg), "                          \
    "(s.lon_max_deg - s.lon_min_deg) * (s.lat_max_deg - s.lat_min_deg))))"
/* clang-format on */
#define MERGE_TILE_COLUMNS                                                                         \
    "hash, path, sensor, date, epsg, width, height, gt0, gt1, gt2, gt3, gt4, gt5, lon_min_deg, "   \
    "lat_min_deg, lon_max_deg, lat_max_deg, n_parcels, status, processed_at, reading"
#define MERGE_TILE_COLUMNS_S                                                                       \
    "s.hash, s.path, s.sensor, s.date, s.epsg, s.width, s.height, s.gt0, s.gt1, s.gt2, s.gt3, "    \
    "s.gt4, s.gt5, s.lon_min_deg, s.lat_min_deg, s.lon_max_deg, s.lat_max_deg, s.n_parcels, "      \
    "s.status, s.processed_at, s.reading"

#define MERGE_RADAR_COLUMNS                                                                        \
    "w_total_px, w_valid_px, valid_fraction, vv, vh, vh_vv, rvi, water_fraction, looks_vv, "       \
    "looks_vh, se_vv, se_vh, n_pixels, n_pure"
#define MERGE_RADAR_COLUMNS_O                                                                      \
    "o.w_total_px, o.w_valid_px, o.valid_fraction, o.vv, o.vh, o.vh_vv, o.rvi, o.water_fraction, " \
    "o.looks_vv, o.looks_vh, o.se_vv, o.se_vh, o.n_pixels, o.n_pure"

static const char *const merge_sql[] = {
    /* parcels that differ and are newer in the source */
    "CREATE TEMP TABLE merge_upd AS SELECT p.num AS dnum, s.num AS snum FROM merge_src.parcels s "
    "JOIN main.parcels p ON p.id = s.id WHERE s.loaded_at > p.loaded_at AND NOT "
    "(" MERGE_SAME_PARCEL ")",
    /* of them, those whose shape changed: the destination's observations measured the old shape
     * (other land) and go, recorded, as a load does */
    "INSERT INTO main.parcel_changes (parcel_id, changed_at, source, what, old_area_m2, "
    "new_area_m2, n_observations_removed) SELECT p.id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
    "'merge', 'geometry', p.area_m2, s.area_m2, (SELECT count(*) FROM main.observations o WHERE "
    "o.parcel_num = p.num) FROM temp.merge_upd u JOIN main.parcels p ON p.num = u.dnum JOIN "
    "merge_src.parcels s ON s.num = u.snum WHERE p.wkb IS NOT s.wkb ORDER BY p.id",
    "DELETE FROM main.observation_values WHERE parcel_num IN (SELECT u.dnum FROM temp.merge_upd u "
    "JOIN "
    "main.parcels p ON p.num = u.dnum JOIN merge_src.parcels s ON s.num = u.snum WHERE p.wkb IS "
    "NOT s.wkb)",
    "UPDATE main.parcels SET (" MERGE_PARCEL_COLUMNS ") = (SELECT " MERGE_PARCEL_COLUMNS
    " FROM merge_src.parcels s JOIN temp.merge_upd u ON u.snum = s.num "
    "WHERE u.dnum = main.parcels.num) WHERE num IN (SELECT dnum FROM temp.merge_upd)",
    "DELETE FROM main.parcels_rtree WHERE id IN (SELECT dnum FROM temp.merge_upd)",
    "INSERT INTO main.parcels_rtree (id, lon_min, lon_max, lat_min, lat_max) SELECT u.dnum, "
    "r.lon_min, r.lon_max, r.lat_min, r.lat_max FROM temp.merge_upd u "
    "JOIN merge_src.parcels_rtree r ON r.id = u.snum",
    /* parcels the destination does not have */
    "CREATE TEMP TABLE merge_newp AS SELECT s.num AS snum, s.id AS id FROM merge_src.parcels s "
    "WHERE NOT EXISTS (SELECT 1 FROM main.parcels p WHERE p.id = s.id)",
    "INSERT INTO main.parcels (id, " MERGE_PARCEL_COLUMNS ") SELECT s.id, " MERGE_PARCEL_COLUMNS
    " FROM merge_src.parcels s JOIN temp.merge_newp n ON n.snum = s.num ORDER BY s.num",
    "INSERT INTO main.parcels_rtree (id, lon_min, lon_max, lat_min, lat_max) SELECT p.num, "
    "r.lon_min, r.lon_max, r.lat_min, r.lat_max FROM temp.merge_newp n "
    "JOIN merge_src.parcels_rtree r ON r.id = n.snum JOIN main.parcels p ON p.id = n.id",
    /* tiles by content, then their observations */
    "CREATE TEMP TABLE merge_newt AS SELECT s.id AS sid, s.hash AS hash FROM merge_src.tiles s "
    "WHERE NOT EXISTS (SELECT 1 FROM main.tiles t WHERE t.hash = s.hash)",
    /* of them, those of an acquisition the destination holds in other bytes (the same sensor,
     * date and grid: ingest's same-acquisition rule): not merged, their pixels would count twice */
    "CREATE TEMP TABLE merge_twin AS SELECT s.id AS sid, min(t.id) AS did FROM temp.merge_newt n "
    "JOIN merge_src.tiles s ON s.id = n.sid JOIN main.tiles t ON " MERGE_SAME_GRID " GROUP BY s.id",
    "DELETE FROM temp.merge_newt WHERE sid IN (SELECT sid FROM temp.merge_twin)",
    /* and those holding a destination tile's pixels under another date, as ingest judges them
     * (ingest.c, "the pixels of another date"): 64 clear parcels of each new optical tile, by
     * parcel number, against the destination's observations of them on every tile of the same
     * sensor whose footprint meets it; the same weights and an NDVI mean within 0.002 on eight
     * and half of those compared */
    "CREATE TEMP TABLE merge_redated AS WITH probe AS (SELECT o.tile_id AS sid, p.num AS dnum, "
    "o.w_total_mpx AS wt, o.w_valid_mpx AS wv, o.ndvi_mean_e4 AS ndvi FROM temp.merge_newt n "
    "JOIN merge_src.observation_values o ON o.tile_id = n.sid AND o.parcel_num IN (SELECT "
    "q.parcel_num FROM merge_src.observation_values q WHERE q.tile_id = n.sid AND q.w_valid_mpx > "
    "0 AND q.ndvi_mean_e4 IS NOT NULL ORDER BY q.parcel_num LIMIT 64) JOIN merge_src.parcels sp "
    "ON sp.num = o.parcel_num JOIN main.parcels p ON p.id = sp.id AND p.wkb = sp.wkb) SELECT "
    "pr.sid AS sid, t.id AS did, sum(abs(pr.ndvi - d.ndvi_mean_e4) <= 20 AND abs(pr.wt - "
    "d.w_total_mpx) <= 1 AND abs(pr.wv - d.w_valid_mpx) <= 1) AS n_eq, count(*) AS n_cmp FROM "
    "probe pr JOIN merge_src.tiles s ON s.id = pr.sid JOIN main.tiles t ON t.sensor = s.sensor "
    "AND t.date <> s.date AND t.lon_min_deg <= s.lon_max_deg AND s.lon_min_deg <= t.lon_max_deg "
    "AND t.lat_min_deg <= s.lat_max_deg AND s.lat_min_deg <= t.lat_max_deg JOIN "
    "main.observation_values d ON d.tile_id = t.id AND d.parcel_num = pr.dnum AND d.w_valid_mpx > "
    "0 AND d.ndvi_mean_e4 IS NOT NULL GROUP BY pr.sid, t.id HAVING n_eq >= 8 AND 2 * n_eq >= n_cmp",
    "DELETE FROM temp.merge_newt WHERE sid IN (SELECT sid FROM temp.merge_redated)",
    "INSERT INTO main.tiles (" MERGE_TILE_COLUMNS ") SELECT " MERGE_TILE_COLUMNS_S
    " FROM merge_src.tiles s JOIN temp.merge_newt n ON n.sid = s.id ORDER BY s.date, s.id",
    /* an observation describes the land under the parcel's shape where it was measured: only
     * where the destination holds the parcel with that very shape (after the updates above) */
    "INSERT INTO main.observation_values (tile_id, parcel_num, " PARUS__OBS_ROW_COLUMNS
    ") SELECT t.id, p.num, " PARUS__OBS_ROW_COLUMNS_O " FROM temp.merge_newt n "
    "JOIN merge_src.observation_values o ON o.tile_id = n.sid JOIN main.tiles t ON t.hash = n.hash "
    "JOIN merge_src.parcels sp ON sp.num = o.parcel_num JOIN main.parcels p ON p.id = sp.id "
    "AND p.wkb = sp.wkb",
    /* a new radar tile's pass and its radar observations (schema 13), mapped the same way:
     * without them the tile's fingerprint would be in the destination and its evidence not,
     * and a later ingest of the tile would skip it as stored */
    "INSERT INTO main.radar_tiles (tile_id, mission, orbit_direction, relative_orbit, "
    "coefficient, polarisations, looks) SELECT t.id, r.mission, r.orbit_direction, "
    "r.relative_orbit, r.coefficient, r.polarisations, r.looks FROM temp.merge_newt n "
    "JOIN merge_src.radar_tiles r ON r.tile_id = n.sid JOIN main.tiles t ON t.hash = n.hash",
    "INSERT INTO main.radar_observations (tile_id, parcel_num, " MERGE_RADAR_COLUMNS
    ") SELECT t.id, p.num, " MERGE_RADAR_COLUMNS_O " FROM temp.merge_newt n "
    "JOIN merge_src.radar_observations o ON o.tile_id = n.sid JOIN main.tiles t ON t.hash = n.hash "
    "JOIN merge_src.parcels sp ON sp.num = o.parcel_num JOIN main.parcels p ON p.id = sp.id "
    "AND p.wkb = sp.wkb",
    /* a parcel reshaped by the source: its old shape's observations went above; the source's of
     * the new shape on tiles the destination already had come with it (a known tile is never
     * measured again, so they could not be had later) */
    "INSERT INTO main.observation_values (tile_id, parcel_num, " PARUS__OBS_ROW_COLUMNS
    ") SELECT t.id, p.num, " PARUS__OBS_ROW_COLUMNS_O " FROM temp.merge_upd u "
    "JOIN main.parcels p ON p.num = u.dnum JOIN merge_src.parcels sp ON sp.num = u.snum AND "
    "sp.wkb = p.wkb JOIN merge_src.observation_values o ON o.parcel_num = sp.num "
    "JOIN merge_src.tiles st ON st.id = o.tile_id JOIN main.tiles t ON t.hash = st.hash "
    "WHERE NOT EXISTS (SELECT 1 FROM temp.merge_newt n WHERE n.sid = st.id) AND NOT EXISTS "
    "(SELECT 1 FROM main.observation_values d WHERE d.tile_id = t.id AND d.parcel_num = p.num)",
    "INSERT INTO main.radar_observations (tile_id, parcel_num, " MERGE_RADAR_COLUMNS
    ") SELECT t.id, p.num, " MERGE_RADAR_COLUMNS_O " FROM temp.merge_upd u "
    "JOIN main.parcels p ON p.num = u.dnum JOIN merge_src.parcels sp ON sp.num = u.snum AND "
    "sp.wkb = p.wkb JOIN merge_src.radar_observations o ON o.parcel_num = sp.num "
    "JOIN merge_src.tiles st ON st.id = o.tile_id JOIN main.tiles t ON t.hash = st.hash "
    "WHERE NOT EXISTS (SELECT 1 FROM temp.merge_newt n WHERE n.sid = st.id) AND NOT EXISTS "
    "(SELECT 1 FROM main.radar_observations d WHERE d.tile_id = t.id AND d.parcel_num = p.num)",
    /* a parcel the source retired is retired here too (schema 20), and the seasons whose
     * results rest on it are owed: a shard told the registry lost it, the merged store lends on
     * it no longer */
    "CREATE TEMP TABLE merge_ret AS SELECT r.parcel_id, r.retired_at, r.source FROM "
    "merge_src.parcel_retirements r WHERE EXISTS (SELECT 1 FROM main.parcels p WHERE p.id = "
    "r.parcel_id) AND NOT EXISTS (SELECT 1 FROM main.parcel_retirements d WHERE d.parcel_id = "
    "r.parcel_id)",
    "INSERT INTO main.parcel_retirements (parcel_id, retired_at, source) SELECT parcel_id, "
    "retired_at, source FROM temp.merge_ret ORDER BY parcel_id", /* its trigger owes the seasons */
};

/* the statement before each counted one: the parcels updated (after the two reshape statements),
 * the new parcels, the new tiles; and the observations statements themselves */
enum {
    MERGE_UPD = 2,
    MERGE_NEWP = 6,
    MERGE_TWIN = 11,    /* the deletion of the twins from the new tiles */
    MERGE_REDATED = 13, /* the deletion of the re-dated copies */
    MERGE_NEWT = 13,
    MERGE_OBS = 15,
    MERGE_RADAR_OBS = 17,
    MERGE_RESHAPED_OBS = 18,
    MERGE_RESHAPED_RADAR_OBS = 19,
    MERGE_RETIRED = 21
};

/* "'SRC PATH' VERB tile N ('PATH')" of the first row of table (sid, did) into out. */
static int merge_name_first(parus_store *store, const char *table, const char *verb, char *out,
                            size_t cap)
{
    char sql[256];
    parus__stmt *st;
    int rc;
    snprintf(sql, sizeof sql,
             "SELECT s.path, t.id, t.path FROM %s w JOIN merge_src.tiles s ON s.id = w.sid JOIN "
             "main.tiles t ON t.id = w.did ORDER BY s.date, s.id LIMIT 1",
             table);
    rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *sp = (const char *)parus__column_text(st, 0);
        const char *dp = (const char *)parus__column_text(st, 2);
        snprintf(out, cap, "'%.200s' %s tile %lld ('%.200s')", sp ? sp : "?", verb,
                 (long long)parus__column_int64(st, 1), dp ? dp : "?");
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void merge_cleanup(parus_store *store)
{
    parus__db_exec(store->db,
                   "DROP TABLE IF EXISTS temp.merge_upd; DROP TABLE IF EXISTS temp.merge_newp; "
                   "DROP TABLE IF EXISTS temp.merge_newt; DROP TABLE IF EXISTS temp.merge_twin; "
                   "DROP TABLE IF EXISTS temp.merge_ret; DROP TABLE IF EXISTS temp.merge_redated");
    parus__db_exec(store->db, "DETACH DATABASE merge_src");
}

parus_status parus_store_merge(parus_store *store, const char *src_path,
                               parus_store_merge_stats *stats, parus_error *err)
{
    char shown_src[512];
    parus_store_merge_stats ms;
    parus_store *src;
    struct stat a, b;
    parus__stmt *st;
    parus_status code;
    size_t i, n = 0, n_src_parcels = 0, n_src_tiles = 0;
    int rc;

    if (!store || !src_path || !*src_path)
        return parus_fail(err, PARUS_E_INVALID, "merge: missing store or source");
    parus_store_display_name(src_path, shown_src, sizeof shown_src);
    if (parus__db_is_pg(store->db) || parus__db_target_is_pg(src_path))
        return parus_fail(err, PARUS_E_INVALID,
                          "merge: '%s' and '%s': merge joins SQLite stores (it attaches one "
                          "file to another); a PostgreSQL store needs no merge: point every "
                          "nightly run at it, each tile is claimed in the database",
                          store->path, shown_src);
    code = require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (store->open_tile || store->open_assess)
        return parus_fail(err, PARUS_E_INVALID, "merge: a write is open in '%s'", store->path);
    /* the source must be a parus store of this version; this also keeps other files out */
    code = parus_store_open_existing(src_path, &src, err);
    if (code != PARUS_OK)
        return code;
    code = require_current(src, err);
    parus_store_close(src);
    if (code != PARUS_OK)
        return code;
    if (stat(src_path, &a) == 0 && stat(store->path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return parus_fail(err, PARUS_E_INVALID, "cannot merge '%s' into itself", src_path);

    rc = parus__db_prepare(store->db, "ATTACH DATABASE ?1 AS merge_src", false, &st);
    if (rc == SQLITE_OK) {
        rc = parus__bind_text(st, 1, src_path, -1);
        if (rc == SQLITE_OK) {
            rc = parus__step(st);
            rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
        }
    }
    if (rc != SQLITE_OK) {
        code = parus__store_sql_fail(store, rc, err, "cannot attach '%s' to '%s'", src_path,
                                     store->path);
        parus__finalize(st);
        return code;
    }
    parus__finalize(st);

    memset(&ms, 0, sizeof ms);
    code = tx_begin(store, err);
    if (code != PARUS_OK)
        goto out_detach;
    /* the source's counts from the same snapshot as the copy */
    rc = parus__db_prepare(store->db,
                           "SELECT (SELECT count(*) FROM merge_src.parcels), "
                           "(SELECT count(*) FROM merge_src.tiles)",
                           false, &st);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        n_src_parcels = column_size(st, 0);
        n_src_tiles = column_size(st, 1);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        code = parus__store_sql_fail(store, rc, err, "cannot count the contents of '%s'", src_path);
        parus__finalize(st);
        tx_rollback(store);
        goto out_detach;
    }
    parus__finalize(st);
    for (i = 0; i < sizeof merge_sql / sizeof merge_sql[0]; i++) {
        code = merge_exec(store, src_path, merge_sql[i], &n, err);
        if (code != PARUS_OK) {
            tx_rollback(store);
            goto out_detach;
        }
        if (i == MERGE_UPD + 1)
            ms.n_parcels_updated = n;
        else if (i == MERGE_NEWP + 1)
            ms.n_parcels_new = n;
        else if (i == MERGE_TWIN)
            ms.n_tiles_same_acquisition = n;
        else if (i == MERGE_REDATED)
            ms.n_tiles_redated = n;
        else if (i == MERGE_RETIRED)
            ms.n_parcels_retired = n;
        else if (i == MERGE_NEWT + 1)
            ms.n_tiles_new = n;
        else if (i == MERGE_OBS || i == MERGE_RESHAPED_OBS)
            ms.n_observations += n;
        else if (i == MERGE_RADAR_OBS || i == MERGE_RESHAPED_RADAR_OBS)
            ms.n_radar_observations += n;
    }
    /* what of the source's evidence describes a shape the destination does not hold */
    rc = parus__db_prepare(
        store->db,
        "SELECT (SELECT count(*) FROM merge_src.observation_values o JOIN merge_src.parcels sp ON "
        "sp.num = o.parcel_num JOIN main.parcels p ON p.id = sp.id WHERE p.wkb IS NOT sp.wkb) + "
        "(SELECT count(*) FROM merge_src.radar_observations o JOIN merge_src.parcels sp ON sp.num "
        "= o.parcel_num JOIN main.parcels p ON p.id = sp.id WHERE p.wkb IS NOT sp.wkb)",
        false, &st);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        ms.n_observations_other_shape = column_size(st, 0);
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    if (rc != SQLITE_OK) {
        code = parus__store_sql_fail(store, rc, err, "cannot count what '%s' holds of other shapes",
                                     src_path);
        tx_rollback(store);
        goto out_detach;
    }
    /* the first of each kind set aside, to name it */
    if (ms.n_tiles_same_acquisition)
        rc = merge_name_first(store, "temp.merge_twin", "is the same acquisition as",
                              ms.same_acquisition, sizeof ms.same_acquisition);
    if (rc == SQLITE_OK && ms.n_tiles_redated)
        rc = merge_name_first(store, "temp.merge_redated", "holds the pixels of", ms.redated,
                              sizeof ms.redated);
    if (rc != SQLITE_OK) {
        code = parus__store_sql_fail(store, rc, err, "cannot name the tiles of '%s' not merged",
                                     src_path);
        tx_rollback(store);
        goto out_detach;
    }
    code = tx_commit(store, err);
    if (code != PARUS_OK)
        goto out_detach;
    ms.n_parcels_unchanged = n_src_parcels >= ms.n_parcels_new + ms.n_parcels_updated
                                 ? n_src_parcels - ms.n_parcels_new - ms.n_parcels_updated
                                 : 0;
    ms.n_tiles_known =
        n_src_tiles >= ms.n_tiles_new + ms.n_tiles_same_acquisition + ms.n_tiles_redated
            ? n_src_tiles - ms.n_tiles_new - ms.n_tiles_same_acquisition - ms.n_tiles_redated
            : 0;
    if (stats)
        *stats = ms;
out_detach:
    merge_cleanup(store);
    return code;
}

/*
 * parus/store.h - the store: the only state that outlives a run, and the only module that knows
 * SQL.
 *
 * One SQLite file (WAL journal, foreign keys on, prepared statements only). The schema carries a
 * version (PRAGMA user_version); opening a store of an older version migrates it inside one
 * transaction, and a store written by a newer parus is refused (E_SCHEMA) without being touched.
 *
 * Tables (docs/store.md has every column, the versions and the error mapping): parcels (+
 * parcels_rtree, an R-tree over lon/lat footprints), parcel_rejects, tiles, observations, runs;
 * since version 4 parcel_crops (declared crops per season), samples and sample_points (external
 * time series), assessments (a parcel's crop in a season); since version 5 what `parus assess`
 * makes of a season: parcel_results, parcel_flags, peer_curves and limits; since version 9
 * season_state (which seasons are owed an assessment, kept by triggers on tiles, weather files,
 * parcels and declared crops).
 * Every write that belongs together is one transaction: a load of parcels, a tile with all its
 * observations. After a crash the store holds the state before or after, never between.
 *
 * Errors common to every call: E_STORE for any SQLite failure (the message names the store file
 * and carries SQLite's reason, "database or disk is full" included), E_BUSY when another process
 * holds the write lock past the busy timeout (5 s), E_NOMEM. A store opened with
 * parus_store_open_existing at an older schema version answers every call but
 * parus_store_schema_version and parus_store_close with E_SCHEMA (it is not migrated).
 *
 * Threads: a parus_store is one SQLite connection; use it from one thread at a time.
 */
#ifndef PARUS_STORE_H
#define PARUS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"
#include "parus/parcels.h"
#include "parus/zonal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema this build writes. */
#define PARUS_STORE_SCHEMA_VERSION 21

typedef struct parus_store parus_store;

/* A named point in a long write (ingest, nightly, assess): "tile:written", "assess:peers", ... It
 * is called on the calling thread, between two steps, with the store in a consistent state as far
 * as the transactions already committed go. For progress reports and for crash tests, which kill
 * the process at the n-th call and check what the next run makes of it (docs/operations.md). */
typedef void (*parus_checkpoint_fn)(void *ctx, const char *where);

/* True when the store's name is a PostgreSQL database rather than a SQLite file: a
 * postgresql:// (or postgres://) URI or a libpq keyword string ("host=... dbname=parus"). Such a
 * store is a server's: no file to stat, lock or copy; several hosts may write it at once. */
PARUS_API bool parus_store_is_server(const char *path);

/* The store's name for messages and output, with no password: path itself for a SQLite file; a
 * PostgreSQL connection string (URI or keywords) as "postgresql://user@host:port/dbname", from
 * libpq's own parse of it. */
PARUS_API void parus_store_display_name(const char *path, char *out, size_t cap);

/* Open (creating if absent) and migrate. Errors: E_STORE (cannot open, not a database, not a
 * parus store, corrupt, a migration that failed: the store is then left at its old version),
 * E_SCHEMA (newer schema: the file is not modified), E_BUSY (locked by another writer past the
 * busy timeout). */
PARUS_API parus_status parus_store_open(const char *path, parus_store **out, parus_error *err);
/* Open an existing store without creating or migrating it (E_NOT_FOUND when absent; the other
 * errors as parus_store_open). An older store opens, but only its version can be read. */
PARUS_API parus_status parus_store_open_existing(const char *path, parus_store **out,
                                                 parus_error *err);
/* Open an existing store for reading only, for commands that only read (query, export, store
 * info and tiles, parcels show): nothing is created, migrated or written, not even a journal
 * mode. Works on a store the user may only read and on read-only media: SQLite's mode=ro first;
 * when that cannot create the -shm index (the directory cannot be written) and the store has no
 * -wal, the file is read as immutable (parus_store_note then says so unless the file system is
 * read-only). A -wal without a -shm in a directory that cannot be written is refused (E_STORE):
 * the committed data in it could not be seen. Writes through this handle fail with E_STORE.
 * Errors as parus_store_open_existing. */
PARUS_API parus_status parus_store_open_readonly(const char *path, parus_store **out,
                                                 parus_error *err);
/* A note on how the store was opened that the user should see (one line, no final full stop),
 * or NULL: a read-only store read as immutable; an upgrade that moved the observations to their
 * compact form. Valid while the store is open. */
PARUS_API const char *parus_store_note(const parus_store *store);
PARUS_API void parus_store_close(parus_store *store);
PARUS_API int parus_store_schema_version(const parus_store *store);
/* Give the file's free pages back to the file system (VACUUM: the store is rewritten, which
 * needs as much free disk as the store and no other connection writing). *bytes_before and
 * *bytes_after (either may be NULL): the file's size. Nothing is done when no page is free. */
PARUS_API parus_status parus_store_reclaim(parus_store *store, uint64_t *bytes_before,
                                           uint64_t *bytes_after, parus_error *err);

/* ---- parcels ---- */

typedef struct parus_parcel_load_stats {
    size_t n_inserted;  /* new ids */
    size_t n_updated;   /* known ids whose geometry, farmer or declared area changed */
    size_t n_unchanged; /* known ids, identical */
    size_t n_rejected;  /* set aside by validation, recorded in parcel_rejects */
    size_t n_reshaped;  /* of the updated, those whose geometry changed: their observations were
                           removed and the change recorded in parcel_changes */
    size_t n_observations_dropped; /* observations removed with those old shapes */
    size_t n_overlaps;             /* pairs of parcels in parcel_overlaps after the load */
    size_t n_absent;     /* parcels the store holds and lends on (not retired) that the set does not
                            hold (a load never removes; a registry load retires them) */
    size_t n_reinstated; /* retired parcels the set holds again: no longer retired */
    size_t n_retired;    /* parus_store_put_registry: parcels absent from the set, retired now */
} parus_parcel_load_stats;

/* Register or refresh every parcel of the set and record its rejects, in one transaction: on any
 * error nothing of this load is stored. source names the file (kept with each parcel). A retired
 * parcel the set holds is reinstated (n_reinstated). */
PARUS_API parus_status parus_store_put_parcels(parus_store *store, const parus_parcel_set *set,
                                               const char *source, parus_parcel_load_stats *stats,
                                               parus_error *err);
/* The same for a registry sent whole: in the same transaction, every stored parcel the set does
 * not hold is retired (n_retired; those retired before stay as they were). */
PARUS_API parus_status parus_store_put_registry(parus_store *store, const parus_parcel_set *set,
                                                const char *source, parus_parcel_load_stats *stats,
                                                parus_error *err);

/* ---- retired parcels (schema 20) ---- */

/* Retire the parcels ids (each must be stored: E_NOT_FOUND names the first that is not, and
 * nothing is retired), in one transaction; one already retired stays as it was. Every season
 * whose results rest on a parcel retired is owed an assessment; the assessment holds a retired
 * parcel (reason RETIRED: no value, no credit). *n_retired (may be NULL): how many were retired
 * now. source says by what (a file, "parcels retire"). */
PARUS_API parus_status parus_store_retire_parcels(parus_store *store, const char *const *ids,
                                                  size_t n, const char *source, size_t *n_retired,
                                                  parus_error *err);
/* Call fn for each retired parcel in id order: its id, when (UTC, ISO 8601) and by what. A
 * non-zero return stops the walk (E_INTERNAL). */
typedef int (*parus_retired_fn)(const char *parcel_id, const char *retired_at, const char *source,
                                void *ctx);
PARUS_API parus_status parus_store_retired_foreach(parus_store *store, parus_retired_fn fn,
                                                   void *ctx, parus_error *err);

/* ---- overlaps: land two parcels claim ---- */

typedef struct parus_overlap {
    const char *parcel_a; /* registered first (the lower store number) */
    const char *parcel_b;
    const char *farmer_a; /* NULL: none */
    const char *farmer_b;
    double overlap_m2; /* geodesic area of the common land */
    double share_a;    /* overlap_m2 / parcel a's area, in (0, 1] */
    double share_b;
} parus_overlap;

typedef int (*parus_overlap_visit_fn)(const parus_overlap *o, void *ctx);

/* Find every pair of stored parcels whose common land is at least min_share (0 < min_share <= 1)
 * of either parcel's area, and replace the store's parcel_overlaps with them in one transaction.
 * Candidates come from the parcel R-tree; each is intersected exactly (GEOS through OGR) and the
 * common land measured geodesically. A shared edge or vertex is no overlap. docs/parcels.md,
 * "Overlaps". Errors: E_INVALID, E_STORE, E_NOMEM, E_GEOMETRY (GEOS failed on a pair). */
PARUS_API parus_status parus_store_find_overlaps(parus_store *store, double min_share,
                                                 size_t *n_overlaps, parus_error *err);
/* The stored overlaps, all (parcel_id NULL) or those of one parcel, by (parcel_a, parcel_b).
 * Pointers in *o live for the call of fn only. fn returning non-zero stops the walk (E_INTERNAL).
 */
PARUS_API parus_status parus_store_overlaps_foreach(parus_store *store, const char *parcel_id,
                                                    parus_overlap_visit_fn fn, void *ctx,
                                                    size_t *n_visited, parus_error *err);

/* Whether the parcel id was set aside at load (its last record in parcel_rejects): *found, and
 * in why "'SOURCE' feature N: CODE: REASON". A parcel set aside once and loaded since is still
 * found here: ask parus_store_get_parcel first. */
PARUS_API parus_status parus_store_parcel_set_aside(parus_store *store, const char *id,
                                                    char why[512], bool *found, parus_error *err);

/* One parcel by id; *out owns its strings and WKB (parus_parcel_release). E_NOT_FOUND. */
PARUS_API parus_status parus_store_get_parcel(parus_store *store, const char *id, parus_parcel *out,
                                              parus_error *err);

/* Call fn for each parcel whose lon/lat footprint intersects the box (R-tree query), in id
 * order (byte order of the UTF-8 ids). The footprint is the parcel's bounding box, edges
 * included: a parcel whose box meets the query box while its polygon does not is visited too
 * (these are candidates, to be measured exactly). The R-tree holds 32-bit floats rounded outward;
 * the candidates it returns are filtered again on the exact (double) boxes, so float near-misses
 * are not visited. The box must not cross the antimeridian (lon_min_deg <= lon_max_deg).
 * The parcel passed to fn is borrowed for the call; fn may read the store through the other
 * calls, but not walk it again or write to it. err is reset on entry; a non-zero return from fn
 * stops the walk and is returned as E_INTERNAL unless fn set err itself (through ctx). *n_visited
 * (may be NULL) is written on success. E_INVALID for a box that is not finite or has min > max. */
typedef int (*parus_parcel_visit_fn)(const parus_parcel *parcel, void *ctx);
PARUS_API parus_status parus_store_parcels_in_box(parus_store *store, double lon_min_deg,
                                                  double lat_min_deg, double lon_max_deg,
                                                  double lat_max_deg, parus_parcel_visit_fn fn,
                                                  void *ctx, size_t *n_visited, parus_error *err);

/* ---- tiles ---- */

typedef struct parus_tile_record {
    int64_t id;      /* assigned by the store */
    char hash[65];   /* content fingerprint, 64 hex digits (parus_tile_content_hash) */
    char path[4096]; /* as given; several files joined with ';' */
    char sensor[32];
    char date[11];
    int epsg; /* 0 when none */
    size_t width, height;
    double geotransform[6];
    double lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg;
    size_t n_parcels;      /* parcels whose footprint meets the tile */
    char status[16];       /* "registered" (inspected), "ingested" (observations stored) */
    char processed_at[32]; /* UTC, ISO 8601; set by the store */
    /* Sentinel-1 tiles (sensor "sentinel-1"; parus_radar_info): stored in radar_tiles, with the
     * radar observations in radar_observations, so passes are never pooled blindly */
    char mission[16];
    char orbit_direction[12]; /* "ASCENDING", "DESCENDING", "" unknown */
    int relative_orbit;       /* 0 unknown */
    char coefficient[8];      /* "sigma0", "gamma0", "beta0" */
    char polarisations[8];    /* "VV+VH", "VV" */
    double looks;             /* ENL of one pixel */
    /* how its pixels were read (schema 21; ingest.c): sensor profile, date, validity rule, each
     * band's role, file, index, scale, offset and nodata, the radar scale; 16 hex digits, "" not
     * recorded (a tile stored before, or by a merge). Written with a new tile; read by
     * parus__store_tile_reading */
    char reading[17];
} parus_tile_record;

/* Look a tile up by content hash: *found false (and *out untouched) when absent. */
PARUS_API parus_status parus_store_find_tile(parus_store *store, const char *hash,
                                             parus_tile_record *out, bool *found, parus_error *err);
/* A stored tile of the same acquisition as rec with other bytes: the same sensor and date, the
 * same CRS, size, geotransform and footprint (a re-encoded, re-delivered or reprocessed copy),
 * into *out; *found false when none. Its observations would count the same pixels twice. */
PARUS_API parus_status parus_store_find_same_acquisition(parus_store *store,
                                                         const parus_tile_record *rec,
                                                         parus_tile_record *out, bool *found,
                                                         parus_error *err);
/* Insert a tile record (rec->id and rec->processed_at are set on success). E_DUPLICATE when the
 * hash is already stored; E_INVALID when the hash is not 64 hex digits, the date is not
 * YYYY-MM-DD, or path, sensor or status is empty. */
PARUS_API parus_status parus_store_put_tile(parus_store *store, parus_tile_record *rec,
                                            parus_error *err);

/* Insert a tile record and one observation per parcel (parcel_ids[i] observed as *obs[i]), all
 * in one transaction: after an error or a crash the store holds the tile with every observation
 * or neither. Stored today (schema 2): total and valid weight, valid fraction and NDVI mean,
 * standard deviation, minimum and maximum; NaN is stored as NULL. Errors as parus_store_put_tile,
 * and E_NOT_FOUND for a parcel id that is not stored, E_DUPLICATE for a parcel given twice. */
PARUS_API parus_status parus_store_put_tile_observations(parus_store *store, parus_tile_record *rec,
                                                         const char *const *parcel_ids,
                                                         const struct parus_observation *const *obs,
                                                         size_t n_obs, parus_error *err);
/* The same, written observation by observation, for a kernel that finishes parcels as it goes
 * (so no caller has to hold a tile's observations in memory): begin checks the record, opens the
 * write transaction and inserts the tile row (rec->id set); add inserts one observation; commit
 * sets the tile's n_parcels to the number added (when any was) and makes the tile and all its
 * observations visible at once. An error from begin, add or commit, or abort, rolls back: nothing
 * of the tile stays. A radar tile's observations are inserted a batch at a time (docs/store.md),
 * so a parcel given twice fails the add that fills its batch, the add of an unknown parcel after
 * it, or the commit, not the add that repeats it. The store holds its write lock from begin to
 * commit or abort; nothing else may write through this store in between. Closing the store aborts
 * an open tile. */
PARUS_API parus_status parus_store_tile_begin(parus_store *store, parus_tile_record *rec,
                                              parus_error *err);
PARUS_API parus_status parus_store_tile_add(parus_store *store, const parus_tile_record *rec,
                                            const char *parcel_id,
                                            const struct parus_observation *obs, parus_error *err);
PARUS_API parus_status parus_store_tile_commit(parus_store *store, parus_tile_record *rec,
                                               parus_error *err);
PARUS_API void parus_store_tile_abort(parus_store *store);

/* Call fn for every tile in (date, id) order; rec is borrowed for the call. A non-zero return
 * from fn stops the walk (E_INTERNAL, as for parcels_in_box; err is reset on entry). */
typedef int (*parus_tile_visit_fn)(const parus_tile_record *rec, void *ctx);
PARUS_API parus_status parus_store_tiles_foreach(parus_store *store, parus_tile_visit_fn fn,
                                                 void *ctx, parus_error *err);

/* ---- a parcel's observations ---- */

typedef struct parus_series_point {
    int64_t tile_id;
    char date[11]; /* the tile's acquisition date */
    char sensor[32];
    struct parus_observation obs; /* as stored; NaN where the column is NULL */
} parus_series_point;

/* The statistics of an optical observation as the store keeps them (docs/store.md): their number,
 * the k-th one's column name ("valid_fraction", "ndvi_mean", ..., "own_veg_fraction"; NULL past
 * the last) and its value in o (NaN: none, or k past the last). The weights and pixel counts are
 * not among them. */
PARUS_API size_t parus_observation_n_stats(void);
PARUS_API const char *parus_observation_stat_name(size_t k);
PARUS_API double parus_observation_stat(const struct parus_observation *o, size_t k);

/* Call fn for each observation of the parcel, in (date, tile) order; pt is borrowed for the
 * call. *n_points (may be NULL) is the number of points. A parcel with no observation, or an
 * unknown id, gives none (check parus_store_get_parcel to tell them apart). */
typedef int (*parus_series_fn)(const parus_series_point *pt, void *ctx);
PARUS_API parus_status parus_store_parcel_series(parus_store *store, const char *parcel_id,
                                                 parus_series_fn fn, void *ctx, size_t *n_points,
                                                 parus_error *err);

/* One radar observation of a parcel (schema 13) with its tile's pass. obs holds w_total_px,
 * w_valid_px, valid_fraction, vv, vh, vh_vv, rvi, radar_water_fraction, looks_vv, looks_vh,
 * se_vv, se_vh, n_pixels and n_pure (NaN where NULL); its optical fields are NaN. */
typedef struct parus_radar_point {
    int64_t tile_id;
    char date[11];
    char orbit_direction[12]; /* "ASCENDING", "DESCENDING", "" unknown */
    int relative_orbit;       /* 0 unknown */
    struct parus_observation obs;
    char coefficient[8]; /* the tile's backscatter: "sigma0", "gamma0", "beta0" */
} parus_radar_point;

/* Call fn for each radar observation of the parcel, in (date, tile) order, as
 * parus_store_parcel_series does for the optical ones. */
typedef int (*parus_radar_series_fn)(const parus_radar_point *pt, void *ctx);
PARUS_API parus_status parus_store_parcel_radar_series(parus_store *store, const char *parcel_id,
                                                       parus_radar_series_fn fn, void *ctx,
                                                       size_t *n_points, parus_error *err);

/* ---- seasons: declared crops and the season walk ---- */

/* A season is named by its window, first and last day included, in canonical text
 * "YYYY-MM-DD/YYYY-MM-DD" (21 characters, real dates, first <= last). True when season is one. */
PARUS_API bool parus_store_season_valid(const char *season);

/* Store the crop declared (or a label) for each parcel in the season: parcel_ids[i] grows
 * crops[i]. One transaction; a (parcel, season) stored before is replaced. source (may be NULL)
 * names the file, kept with each row. Errors: E_INVALID (a season that is not canonical, a
 * missing or empty id or crop, a crop of 64 bytes or more), E_DUPLICATE (a parcel given twice),
 * E_NOT_FOUND naming the first unknown parcel id in the order given; on any error nothing is
 * stored. n == 0 stores nothing and succeeds. */
PARUS_API parus_status parus_store_put_parcel_crops(parus_store *store, const char *season,
                                                    const char *const *parcel_ids,
                                                    const char *const *crops, size_t n,
                                                    const char *source, parus_error *err);
/* The crop declared for the parcel in the season: *found false (crop untouched) when none. */
PARUS_API parus_status parus_store_parcel_crop(parus_store *store, const char *season,
                                               const char *parcel_id, char crop[64], bool *found,
                                               parus_error *err);

/* A parcel as the season walk gives it; pointers borrowed for the call. */
typedef struct parus_parcel_brief {
    const char *id;
    const char *farmer_id;     /* NULL when none */
    const char *declared_crop; /* NULL when none is declared for this season */
    double area_m2;            /* geodesic */
    double declared_area_m2;   /* NaN when not declared */
    double lon_deg, lat_deg;   /* the centre of its footprint's bounding box; NaN when none */
} parus_parcel_brief;

typedef int (*parus_season_visit_fn)(const parus_parcel_brief *p, const parus_series_point *pts,
                                     size_t n_pts, void *ctx);

/* Call fn for EVERY parcel of the store in id order (byte order of the UTF-8 ids), with its
 * observations from tiles whose date lies in the season's window, in (date, tile id) order; a
 * parcel with none is visited with n_pts 0. p and pts are borrowed for the call. The walk
 * streams: two ordered queries (parcels; observations in the window) merged as they go, so
 * memory holds one parcel's points (140,000 parcels x 30 observations: docs/store.md has the
 * time). fn may read the store and write assessments (open them with
 * parus_store_assessments_begin before the walk), but not write parcels, tiles or observations,
 * nor start another season walk. err is reset on entry; a non-zero return from fn stops
 * the walk (E_INTERNAL unless fn set err itself, through ctx). *n_parcels (may be NULL) is the
 * number visited, written on success. E_INVALID for a season that is not canonical. */
PARUS_API parus_status parus_store_season_walk(parus_store *store, const char *season,
                                               parus_season_visit_fn fn, void *ctx,
                                               size_t *n_parcels, parus_error *err);

/* A parcel of the season with both sensor families: its optical observations (pts, as
 * parus_store_season_walk gives them) and its radar observations (schema 13) from tiles whose
 * date lies in the window, in (date, tile id) order, each with its pass. Borrowed for the call. */
typedef struct parus_season_parcel {
    const parus_parcel_brief *parcel;
    const parus_series_point *pts;
    size_t n_pts;
    const parus_radar_point *radar;
    size_t n_radar;
} parus_season_parcel;

typedef int (*parus_season_visit_all_fn)(const parus_season_parcel *sp, void *ctx);

/* parus_store_season_walk with, when with_radar, the radar observations too (a third ordered
 * query merged as the walk goes): every parcel in id order, n_radar 0 where it has none (always
 * without with_radar: the radar table is then not read). The same rules, errors and memory (one
 * parcel's points of each kind). */
PARUS_API parus_status parus_store_season_walk_all(parus_store *store, const char *season,
                                                   bool with_radar, parus_season_visit_all_fn fn,
                                                   void *ctx, size_t *n_parcels, parus_error *err);

/* The number of radar observations (schema 13) from tiles whose date lies in the season's
 * window, into *n. E_INVALID for a season that is not canonical. */
PARUS_API parus_status parus_store_radar_count(parus_store *store, const char *season, size_t *n,
                                               parus_error *err);

/* ---- samples: external per-sample time series ---- */

typedef struct parus_sample_point {
    char date[11];   /* YYYY-MM-DD */
    const char *var; /* variable name, e.g. "ndvi" */
    double value;    /* NaN when missing (stored as NULL) */
} parus_sample_point;

typedef struct parus_sample {
    const char *id;
    const char *label;                 /* the class, NULL when none */
    const char *group;                 /* a fold or location group, NULL when none */
    char start_date[11], end_date[11]; /* "" when none */
    const parus_sample_point *points;
    size_t n_points;
} parus_sample;

/* Store samples with their points, in one transaction: a sample id already stored is replaced,
 * its old points removed. source (may be NULL) names the file. *n_new and *n_replaced (each may
 * be NULL) are written on success. Errors: E_INVALID (a missing or empty id, a var missing or
 * empty, a date or start/end date that is not YYYY-MM-DD), E_DUPLICATE (an id given twice, or a
 * (date, var) twice in one sample); on any error nothing is stored. */
PARUS_API parus_status parus_store_put_samples(parus_store *store, const parus_sample *s, size_t n,
                                               const char *source, size_t *n_new,
                                               size_t *n_replaced, parus_error *err);

/* Call fn for each stored sample in id order (byte order), its points in (date, var) order; s and
 * everything it points to are borrowed for the call. A non-zero return from fn stops the walk
 * (E_INTERNAL unless fn set err itself; err is reset on entry). */
typedef int (*parus_sample_visit_fn)(const parus_sample *s, void *ctx);
PARUS_API parus_status parus_store_samples_walk(parus_store *store, parus_sample_visit_fn fn,
                                                void *ctx, parus_error *err);

/* ---- assessments: a parcel's crop in a season ---- */

typedef enum parus_assess_method {
    PARUS_ASSESS_NONE = 0, /* could not be classified: reason says why, no crop */
    PARUS_ASSESS_MODEL,    /* a trained model */
    PARUS_ASSESS_CALENDAR  /* no model: nearest crop-table calendar curve, low confidence */
} parus_assess_method;

typedef enum parus_assess_confidence {
    PARUS_CONFIDENCE_NONE = 0, /* method none */
    PARUS_CONFIDENCE_NORMAL,
    PARUS_CONFIDENCE_LOW
} parus_assess_confidence;

/* "none", "model", "calendar" / "none", "normal", "low" (the stored text); "?" when out of range.
 */
PARUS_API const char *parus_assess_method_name(parus_assess_method m);
PARUS_API const char *parus_assess_confidence_name(parus_assess_confidence c);

/* One row of assessments. On put the strings are borrowed for the call; on read everything is
 * borrowed for the callback. NULL (strings) and NaN (numbers) mean no value. */
typedef struct parus_assessment {
    const char *season;    /* on put: NULL, or the season given to _begin */
    const char *parcel_id; /* a stored parcel */
    int64_t run_id;        /* the run that assessed it; 0 when none */
    parus_assess_method method;
    const char *crop;   /* crop code; NULL exactly when method is none */
    double probability; /* of crop, in [0, 1] */
    const char *crop2;  /* the runner-up */
    double margin;      /* probability of crop minus that of crop2, in [0, 1] */
    parus_assess_confidence confidence;
    const char *model_version;
    const char *declared_crop; /* as declared for the season (parcel_crops) */
    int agrees;                /* 1 crop == declared crop, 0 differs, -1 unknown (no declaration) */
    const char *reason;        /* why: required for method none ("no clear observation in the
                                  season"), free otherwise */
    size_t n_clear_obs;        /* observations used */
    const char *first_date, *last_date; /* YYYY-MM-DD of the first and last used; NULL when none */
    const char *assessed_at;            /* on read: when stored (UTC, ISO 8601); ignored on put */
} parus_assessment;

/* Write a season's assessments as one transaction, row by row, like the tile API: begin opens the
 * write transaction (E_INVALID for a season that is not canonical, or when a tile or another
 * season is open); put inserts or replaces the row of (season, parcel); commit makes them all
 * visible at once; abort (or an error from put or commit, or closing the store) rolls back every
 * row of this begin. Between begin and commit the store holds the write lock; the store may be
 * read meanwhile (the season walk included), but nothing else may write through it. Rows of the
 * season not put again are kept.
 * put checks the row first (E_INVALID: a season other than the open one, an empty parcel id, a
 * method or confidence out of range, method none with a crop, crop2 or without a reason, a
 * classified row without a crop or with confidence none, calendar with confidence other than low,
 * a probability or margin outside [0, 1], agrees not -1, 0 or 1, a date not YYYY-MM-DD) and
 * E_NOT_FOUND for a parcel that is not stored. Every row of the begin is stamped with the time of
 * the begin. */
PARUS_API parus_status parus_store_assessments_begin(parus_store *store, const char *season,
                                                     parus_error *err);
PARUS_API parus_status parus_store_assessments_put(parus_store *store, const parus_assessment *a,
                                                   parus_error *err);
PARUS_API parus_status parus_store_assessments_commit(parus_store *store, parus_error *err);
PARUS_API void parus_store_assessments_abort(parus_store *store);

/* Called with one stored assessment, borrowed for the call; non-zero stops a walk. */
typedef int (*parus_assessment_fn)(const parus_assessment *a, void *ctx);
/* The assessment of one parcel in a season: fn is called once. E_NOT_FOUND when there is none,
 * E_INVALID for a season that is not canonical. */
PARUS_API parus_status parus_store_get_assessment(parus_store *store, const char *season,
                                                  const char *parcel_id, parus_assessment_fn fn,
                                                  void *ctx, parus_error *err);
/* Every assessment of the season in parcel id order. A non-zero return from fn stops the walk
 * (E_INTERNAL unless fn set err itself; err is reset on entry). */
PARUS_API parus_status parus_store_assessments_foreach(parus_store *store, const char *season,
                                                       parus_assessment_fn fn, void *ctx,
                                                       parus_error *err);

/* ---- assessment results (schema 5): what `parus assess` stores for a season ---- */

/* A parcel's season as `parus assess` judged it: its crop, condition, planted area, yield and
 * value, and what the credit rule made of it. On put the strings are borrowed for the call; on
 * read everything is borrowed for the callback. NULL (strings) and NaN (numbers) mean no value;
 * money is integer fen. */
typedef struct parus_parcel_result {
    const char *season;    /* on read (on put: NULL or the season open) */
    const char *parcel_id; /* a stored parcel */
    const char *farmer_id; /* on read: the parcel's farmer (parcels table), NULL when none */
    int64_t run_id;        /* on read: the run given to parus_store_results_begin */
    /* crop, as in assessments: crop is NULL exactly when crop_method is none */
    const char *crop;
    parus_assess_method crop_method;
    parus_assess_confidence crop_confidence;
    double crop_probability; /* in [0, 1]; a calendar match's is a ranking aid, not calibrated */
    size_t n_clear_obs;      /* clear optical observations (radar ones are not counted here) */
    const char *first_date, *last_date; /* YYYY-MM-DD of the first and last clear observation */
    /* the sensors the result rests on (schema 14): the optical sensors of its clear observations
     * ("sentinel-2", "landsat-8", ...) and "sentinel-1" where radar observations entered its
     * crop's features, in that order, joined with '+'; NULL: none, or stored before schema 14 */
    const char *sensors;
    /* the season's weather as the yield model reads it (schema 16; parus_yield_weather in
     * parus/climate.h): rain over the crop's sensitive window (mm), its normal over the previous
     * years (mm), the deficit (share of the normal missing), heat days around the crop's peak;
     * NaN: no weather for the parcel, or stored before schema 16 */
    double weather_rain_mm, weather_rain_normal_mm, weather_rain_deficit, weather_heat_days;
    /* condition (parus/health.h) */
    const char *peer_group;       /* the group whose peer curve was the reference (peer_curves) */
    const char *health_class;     /* "good", "fair", "poor" or "unknown" (NULL: "unknown") */
    double health_score;          /* 0..1 */
    const char *health_reference; /* "peers", "curve" or "none" (NULL: "none") */
    size_t n_peers;               /* parcels in the peer group */
    double green_ratio;           /* the parcel's greenness over the reference's */
    /* area */
    double planted_fraction; /* 0..1 */
    double planted_area_m2;
    /* the interval of planted_area_m2 the evidence allows (parus_planted_area), which area_check
     * judged; NaN when none */
    double planted_area_lo_m2, planted_area_hi_m2;
    double area_m2;          /* geodesic */
    double declared_area_m2; /* NaN when none */
    const char *area_check;  /* "ok", "shortfall", "excess", "undeclared"; NULL: not checked */
    /* yield and value (parus/yield.h) */
    double ndvi_integral_10d, ndvi_peak;
    double yield_expected_kg_per_mu, yield_p10_kg_per_mu;
    double price_cny_per_kg;
    bool valued;                /* false: no value, and reason says why */
    int64_t value_expected_fen; /* when valued: >= value_p10_fen >= 0 */
    int64_t value_p10_fen;
    const char *flags;  /* codes joined by ';' ("" or NULL: none) */
    const char *reason; /* why there is no value; required when !valued */
    /* the credit rule's verdict, set by parus_store_results_put_credit (on read: counted -1 and
     * value -1 until then) */
    int credit_counted;         /* 1 counted, 0 not (thin evidence), -1 not set */
    int64_t credit_value_fen;   /* its value after the haircuts; -1 not set */
    const char *credit_reasons; /* reason codes joined by ';' */
    const char *assessed_at;    /* on read: the time of the begin (UTC, ISO 8601) */
} parus_parcel_result;

/* An event flag of a parcel in a season (parus/health.h): the flag's code, the first and last
 * date it shows, its size in the flag's own unit, a confidence in [0, 1] and a one-line reason. */
typedef struct parus_result_flag {
    const char *season;    /* on read */
    const char *parcel_id; /* on put: a parcel put in this begin */
    const char *flag;      /* "FLOOD", ...: upper-case letters, digits and '_' */
    const char *first_date, *last_date;
    double size, confidence;
    const char *reason;
} parus_result_flag;

/* One step of a peer curve: the NDVI median and quartiles of the peers with a value at the step
 * (NaN where fewer than the health options' min_peers had one). */
typedef struct parus_peer_step {
    size_t step;  /* 0.. in step order */
    char day[11]; /* the step's centre, YYYY-MM-DD */
    size_t n;     /* peers with a value */
    double ndvi_median, ndvi_p25, ndvi_p75;
} parus_peer_step;

/* A farmer's limit for the season, with what it was built from. */
typedef struct parus_limit {
    const char *season;    /* on read */
    const char *farmer_id; /* required */
    int64_t run_id;        /* on read */
    int64_t limit_cny;     /* >= 0 */
    const char *currency;  /* "CNY" */
    size_t n_parcels, n_parcels_valued;
    double planted_area_m2, declared_area_m2;  /* sums; declared NaN when none declared */
    const char *main_crop;                     /* the crop of the largest planted area; NULL none */
    int64_t value_expected_fen, value_p10_fen; /* sums over the valued parcels, >= 0 */
    const char *health;                        /* "good", "fair", "poor" or "unknown" */
    const char *flags;       /* the parcels' flag codes, distinct, joined by ';' */
    const char *reasons;     /* reason codes joined by ';' ("" none) */
    const char *confidence;  /* "normal", "low" or "none" */
    const char *latest_date; /* the latest imagery date used, YYYY-MM-DD; NULL when none */
    const char *model_version, *policy_hash;
    const char *repayment_date; /* YYYY-MM-DD; NULL when there is nothing to repay */
    int64_t debt_fen;           /* >= 0 */
    const char *parts;          /* the credit parts as key=value;... */
    /* the sensors its counted parcels rest on (schema 14; parus_parcel_result.sensors, their
     * union); NULL: none, or stored before schema 14 */
    const char *sensors;
    const char *assessed_at; /* on read */
} parus_limit;

/* Write a season's results as ONE transaction, like the assessments: begin opens the write
 * transaction and removes every row of the season from parcel_results, parcel_flags, peer_curves
 * and limits (an assess replaces the season's results entirely); the puts add rows; commit makes
 * the new results visible at once, abort (or an error from any put or the commit, or closing
 * the store) rolls everything back, the old results included. Every row is stamped with run_id
 * (> 0, a run of the runs table; 0 allowed: none) and the time of the begin.
 * The begin also opens the season's assessments (parus_store_assessments_put writes into the
 * same transaction: a crop and the results it led to commit together); do not call
 * parus_store_assessments_commit or _abort in between: they would end the transaction, and the
 * results calls then refuse (E_INVALID). Errors of begin: E_INVALID (a season that is not
 * canonical, a negative run id, a tile, assessments or results already open). */
PARUS_API parus_status parus_store_results_begin(parus_store *store, const char *season,
                                                 int64_t run_id, parus_error *err);
/* Insert a parcel's result. E_INVALID (no parcel id, a crop/method/confidence mismatch as for
 * assessments, a class, reference or area check not in its list, a probability, fraction or score
 * outside [0, 1], a negative area, value or count, value_p10_fen above value_expected_fen, no
 * reason without a value, a date not YYYY-MM-DD), E_NOT_FOUND (a parcel not stored),
 * E_DUPLICATE (the parcel twice). */
PARUS_API parus_status parus_store_results_put(parus_store *store, const parus_parcel_result *r,
                                               parus_error *err);
/* Record the credit rule's verdict on a parcel put before in this begin: counted or not, its
 * value after haircuts (>= 0) and its reason codes (may be NULL). E_NOT_FOUND when the parcel has
 * no result in this begin. */
PARUS_API parus_status parus_store_results_put_credit(parus_store *store, const char *parcel_id,
                                                      bool counted, int64_t value_fen,
                                                      const char *reasons, parus_error *err);
/* Insert a flag of a parcel. E_INVALID (an empty or malformed code, a bad date, a last date
 * before the first, a confidence outside [0, 1]), E_NOT_FOUND (a parcel not stored),
 * E_DUPLICATE (the same flag of the parcel with the same first date twice). */
PARUS_API parus_status parus_store_results_put_flag(parus_store *store, const parus_result_flag *f,
                                                    parus_error *err);
/* Insert the peer curve of (crop, grp): n steps, in step order, each step number once.
 * E_INVALID (an empty crop or group, n 0, a step given twice, a bad day or a quartile out of
 * order), E_DUPLICATE (the curve of (crop, grp) twice). */
PARUS_API parus_status parus_store_results_put_peer_curve(parus_store *store, const char *crop,
                                                          const char *grp,
                                                          const parus_peer_step *steps, size_t n,
                                                          parus_error *err);
/* Insert a farmer's limit. E_INVALID (no farmer id, a negative limit, value, debt or area, p10
 * above expected, a health or confidence not in its list, a bad date), E_DUPLICATE (the farmer
 * twice). */
PARUS_API parus_status parus_store_results_put_limit(parus_store *store, const parus_limit *l,
                                                     parus_error *err);
PARUS_API parus_status parus_store_results_commit(parus_store *store, parus_error *err);
PARUS_API void parus_store_results_abort(parus_store *store);

/* What the season's limits were computed with (schema 8, table assessment_inputs; one row per
 * season, written in the results transaction and removed by the next begin of the season): the
 * model's identity and the files' SHA-256 and bytes, so that each limit can be identified and
 * re-derived (parus/verify.h). On put the pointers are borrowed for the call; on read everything
 * is borrowed for the callback. A file not recorded has NULL bytes. */
typedef struct parus_assess_inputs {
    const char *season;          /* on read */
    int64_t run_id;              /* on read; 0 none */
    const char *model_version;   /* "xgb:<SHA-256 of the model file>" or "calendar:<SHA-256 of the
                                    crop table>" (or "calendar" without a crop table file) */
    const char *model_data_hash; /* the model's training-data hash; NULL for the calendar */
    const char *crops_hash;      /* SHA-256 (64 hex digits) of the crop table file; NULL none */
    const void *crops;
    size_t crops_size;
    const char *policy_hash; /* SHA-256 of the policy file, or "builtin" (then policy is NULL) */
    const void *policy;
    size_t policy_size;
    const char *debts_hash; /* SHA-256 of the debts file; NULL when there was none */
    const void *debts;
    size_t debts_size;
    const char *assessed_at; /* on read */
    /* on read (schema 21): the digest of the season's evidence as the assessment read it
     * (parus_store_season_evidence, computed by parus_store_results_put_inputs in the results
     * transaction); NULL: assessed before schema 21 */
    const char *evidence_digest;
} parus_assess_inputs;

/* The digest (64 hex digits) of the evidence a season's assessment reads from the store: per tile
 * of its window, its fingerprint, date, sensor and its observations' number and integer sums
 * (store_audit.c says which). *n_tiles and *n_observations (may be NULL): how many. */
PARUS_API parus_status parus_store_season_evidence(parus_store *store, const char *season,
                                                   char hex[65], size_t *n_tiles,
                                                   size_t *n_observations, parus_error *err);

/* Record the inputs of the season open in this results transaction (replacing any). E_INVALID (no
 * results open, no model version, a hash that is not 64 hex digits, a file without its hash). */
PARUS_API parus_status parus_store_results_put_inputs(parus_store *store,
                                                      const parus_assess_inputs *in,
                                                      parus_error *err);
typedef int (*parus_assess_inputs_fn)(const parus_assess_inputs *in, void *ctx);
/* The recorded inputs of a season: fn is called once. E_NOT_FOUND when the season has none (not
 * assessed, or assessed before schema 8, or a store older than 8 opened read-only). */
PARUS_API parus_status parus_store_get_assess_inputs(parus_store *store, const char *season,
                                                     parus_assess_inputs_fn fn, void *ctx,
                                                     parus_error *err);

/* ---- what a season is owed (schema 9) ---- */

/* A season's standing in the store (season_state, docs/store.md): whether its stored results
 * still rest on every tile of its window, the weather within its reach and the parcels and
 * declared crops they were computed from. A tile of the window or weather file within its reach
 * stored or removed, a parcel of its results (or of its farmers, or next to one of its parcels)
 * registered, changed or removed, a crop declared for one of its parcels unlike the one its
 * assessment saw (by any command, in the change's own transaction: schema 9, 17, 18) makes the
 * season stale; only the transaction that commits the
 * season's results (parus_store_results_commit) makes it current again. A stale season is owed
 * an assessment: the nightly job runs it even when no tile is new. */
typedef struct parus_season_state {
    char season[22];       /* "YYYY-MM-DD/YYYY-MM-DD" */
    bool stale;            /* owed an assessment */
    char stale_since[32];  /* UTC, when it became stale; "" when current */
    char stale_cause[160]; /* e.g. "tile 3f2a9c0d1e2f3a4b of 2024-06-01 stored"; "" when current */
    int64_t assessed_run_id; /* the run whose results are stored; 0: none (or no run) */
    char assessed_at[32];    /* when they were written; "" never */
} parus_season_state;

/* The state of a season: *found false (out untouched) when the store does not track it. */
PARUS_API parus_status parus_store_season_state_get(parus_store *store, const char *season,
                                                    parus_season_state *out, bool *found,
                                                    parus_error *err);
/* Track a season (one autocommit write; nothing when it is tracked already) and give its state. A
 * season tracked for the first time is stale when a tile of its window was stored at or after its
 * results were written, or it has none. E_INVALID for a season that is not canonical or while a
 * transaction is open. */
PARUS_API parus_status parus_store_season_track(parus_store *store, const char *season,
                                                parus_season_state *out, parus_error *err);
/* Every tracked season in order; a non-zero return from fn stops the walk (E_INTERNAL unless fn
 * set err). */
typedef int (*parus_season_state_fn)(const parus_season_state *s, void *ctx);
PARUS_API parus_status parus_store_season_states_foreach(parus_store *store,
                                                         parus_season_state_fn fn, void *ctx,
                                                         parus_error *err);

/* An observation the assessment left out of a parcel's season as an outlier (schema 12,
 * observation_outliers; include/parus/outlier.h has the rule): its NDVI, the value the series
 * expected there, its jump, the median residual of its neighbours on the same tile and their
 * number, and the reason in words. */
typedef struct parus_outlier_row {
    const char *parcel_id;
    int64_t tile_id;
    char date[11];
    double ndvi, expected_ndvi, jump, neighbours_residual;
    size_t n_neighbours;
    const char *reason;
} parus_outlier_row;
typedef int (*parus_outlier_row_fn)(const parus_outlier_row *o, void *ctx);

/* Store one, between parus_store_results_begin and commit; the season's rows are cleared with its
 * other results. E_INVALID for a row without parcel, tile, date, finite figures or reason. */
PARUS_API parus_status parus_store_results_put_outlier(parus_store *store,
                                                       const parus_outlier_row *o,
                                                       parus_error *err);
/* The outliers of one parcel in the season in (date, tile) order; none is not an error (nor a
 * store older than schema 12, opened read-only). *n_rows (may be NULL) is written on success. */
PARUS_API parus_status parus_store_parcel_outliers(parus_store *store, const char *season,
                                                   const char *parcel_id, parus_outlier_row_fn fn,
                                                   void *ctx, size_t *n_rows, parus_error *err);

/* Readers, for export and query. Each answers one parcel or farmer through the tables' keys
 * (well under a millisecond on a county's store). The walks stop on a non-zero return from fn
 * (E_INTERNAL unless fn set err itself; err is reset on entry); the one-row readers call fn once.
 * E_INVALID for a season that is not canonical. */
typedef int (*parus_parcel_result_fn)(const parus_parcel_result *r, void *ctx);
typedef int (*parus_result_flag_fn)(const parus_result_flag *f, void *ctx);
typedef int (*parus_peer_step_fn)(const parus_peer_step *s, void *ctx);
typedef int (*parus_limit_fn)(const parus_limit *l, void *ctx);
typedef int (*parus_id_fn)(const char *id, void *ctx);

/* One parcel's result; E_NOT_FOUND when the season has none for it. */
PARUS_API parus_status parus_store_get_parcel_result(parus_store *store, const char *season,
                                                     const char *parcel_id,
                                                     parus_parcel_result_fn fn, void *ctx,
                                                     parus_error *err);
/* Every result of the season in parcel id order (byte order). */
PARUS_API parus_status parus_store_results_foreach(parus_store *store, const char *season,
                                                   parus_parcel_result_fn fn, void *ctx,
                                                   parus_error *err);
/* The flags of one parcel in (first date, flag) order; none is not an error. *n_flags (may be
 * NULL) is written on success. */
PARUS_API parus_status parus_store_parcel_flags(parus_store *store, const char *season,
                                                const char *parcel_id, parus_result_flag_fn fn,
                                                void *ctx, size_t *n_flags, parus_error *err);
/* The peer curve of (season, crop, grp) in step order; E_NOT_FOUND when there is none. */
PARUS_API parus_status parus_store_get_peer_curve(parus_store *store, const char *season,
                                                  const char *crop, const char *grp,
                                                  parus_peer_step_fn fn, void *ctx, size_t *n_steps,
                                                  parus_error *err);
/* One farmer's limit; E_NOT_FOUND when the season has none for the farmer. */
PARUS_API parus_status parus_store_get_limit(parus_store *store, const char *season,
                                             const char *farmer_id, parus_limit_fn fn, void *ctx,
                                             parus_error *err);
/* Every limit of the season in farmer id order (byte order). */
PARUS_API parus_status parus_store_limits_foreach(parus_store *store, const char *season,
                                                  parus_limit_fn fn, void *ctx, parus_error *err);
/* The ids of a farmer's parcels in id order (none: *n_parcels 0, not an error). */
PARUS_API parus_status parus_store_farmer_parcels(parus_store *store, const char *farmer_id,
                                                  parus_id_fn fn, void *ctx, size_t *n_parcels,
                                                  parus_error *err);
/* Every farmer id of the parcels, distinct, in byte order (parcels without one are skipped). */
PARUS_API parus_status parus_store_farmers_foreach(parus_store *store, parus_id_fn fn, void *ctx,
                                                   size_t *n_farmers, parus_error *err);

/* ---- runs ---- */

/* Record the start of a run (command line, parus version); returns its id. */
PARUS_API parus_status parus_store_run_begin(parus_store *store, const char *command,
                                             const char *args, int64_t *run_id, parus_error *err);
/* Record its end: outcome ("ok", "partial", "failed", "noop") and a free-form key=value summary
 * (may be NULL). E_NOT_FOUND for an unknown run id. */
PARUS_API parus_status parus_store_run_end(parus_store *store, int64_t run_id, const char *outcome,
                                           const char *summary, parus_error *err);

/* ---- merging stores ---- */

typedef struct parus_store_merge_stats {
    size_t n_parcels_new;        /* ids the destination did not have */
    size_t n_parcels_updated;    /* differing, and loaded later in the source: the source's wins */
    size_t n_parcels_unchanged;  /* identical, or differing but not newer in the source */
    size_t n_tiles_new;          /* content hashes the destination did not have */
    size_t n_tiles_known;        /* already in the destination: skipped with their observations */
    size_t n_observations;       /* observations copied (those of the new tiles) */
    size_t n_radar_observations; /* radar observations copied (those of the new radar tiles) */
    /* observations (optical and radar) the source holds of a parcel whose shape there is not the
     * destination's: measured over other land, never copied */
    size_t n_observations_other_shape;
    /* tiles of the source of an acquisition the destination holds in other bytes (the same
     * sensor, date and grid, as ingest refuses them): not merged, nor their observations; the
     * first named in same_acquisition ("'SRC PATH' is the same acquisition as tile N ('PATH')") */
    size_t n_tiles_same_acquisition;
    char same_acquisition[512];
    /* new optical tiles holding a destination tile's pixels under another date (as ingest
     * judges them: 64 clear parcels, the same weights and NDVI within 0.002 on eight and half):
     * not merged; the first named in redated ("'SRC PATH' holds the pixels of tile N ('PATH')") */
    size_t n_tiles_redated;
    char redated[512];
    /* parcels the source retired (schema 20) that the destination holds and lent on: retired
     * there too, their seasons owed */
    size_t n_parcels_retired;
} parus_store_merge_stats;

/* Copy what the store at src_path holds and store does not, in one transaction: parcels by id
 * (a parcel in both is taken from the source only when it differs and was loaded later there),
 * tiles by content hash (a tile already in store is skipped), and the observations of the new
 * tiles, mapped through parcel ids and tile hashes (a radar tile's pass and radar observations
 * too), each only where the destination holds the parcel with the shape it was measured over; a
 * parcel the source reshapes brings its observations of known tiles too. A new tile of an
 * acquisition the destination holds in other bytes is not merged (n_tiles_same_acquisition). A
 * parcel the source retired is retired in the destination too (n_parcels_retired).
 * Parcel rejects, runs,
 * declared crops, samples, weather and assessments are not copied. The source is only read; it must
 * be a parus store at this build's schema version (E_SCHEMA otherwise: open it for writing with
 * this parus first). Merging is idempotent: a second merge of the same source adds nothing. *stats
 * (may be NULL) is written on success. Errors: E_NOT_FOUND (no source), E_INVALID (the source is
 * the destination), E_INVALID (a write is open in store), the store errors. */
PARUS_API parus_status parus_store_merge(parus_store *store, const char *src_path,
                                         parus_store_merge_stats *stats, parus_error *err);

/* ---- copying a store ---- */

typedef struct parus_store_copy_stats {
    size_t n_tables;       /* tables copied (every table of the schema) */
    size_t n_rows;         /* rows copied, all tables together */
    size_t n_parcels;      /* of them parcels */
    size_t n_observations; /* and optical observations */
} parus_store_copy_stats;

/* Copy the whole store at src_path into a new store at dst_path, between any two backends (a
 * SQLite file, a PostgreSQL database: parus_store_is_server): every table, every row, every
 * column as stored, in one transaction of the destination read from one snapshot of the source;
 * before the commit each table is read back and checked against the source's rows (count and
 * an order-free digest of the values, reals bit for bit): a difference rolls everything back.
 * The destination is created when absent and must hold nothing (E_INVALID otherwise: copy never
 * merges). The source is only read and must be at this build's schema version (E_SCHEMA).
 * *stats (may be NULL) is written on success. Errors: E_INVALID, E_NOT_FOUND (no source),
 * E_SCHEMA, E_STORE (cannot read or write; a table that does not read back alike; a value the
 * destination cannot hold, such as text in a number column of a SQLite file), the store errors. */
PARUS_API parus_status parus_store_copy(const char *src_path, const char *dst_path,
                                        parus_store_copy_stats *stats, parus_error *err);

/* ---- consistent reads ---- */

/* A read snapshot: from begin to end every read through this store sees the same committed state
 * (an assess or a tile committed by another process meanwhile is not seen), so that several
 * reads that belong together (an export's farmers, parcels and GeoPackage) come from one run.
 * No write through this store may happen in between. E_INVALID when a transaction is open;
 * E_STORE. end accepts NULL and a store without a snapshot. */
PARUS_API parus_status parus_store_snapshot_begin(parus_store *store, parus_error *err);
PARUS_API void parus_store_snapshot_end(parus_store *store);

/* ---- summary ---- */

typedef struct parus_store_counts {
    size_t n_parcels;
    size_t n_farmers;
    size_t n_parcel_rejects;
    size_t n_tiles;
    size_t n_observations;
    size_t n_runs;
    size_t n_parcel_crops;   /* (parcel, season) declared crops */
    size_t n_samples;        /* external samples */
    size_t n_sample_points;  /* their (date, var) values */
    size_t n_assessments;    /* (season, parcel) */
    size_t n_parcel_results; /* (season, parcel) */
    size_t n_parcel_flags;   /* (season, parcel, flag, first date) */
    size_t n_peer_curves;    /* distinct (season, crop, group) */
    size_t n_limits;         /* (season, farmer) */
    double parcel_area_m2;   /* sum of geodesic areas */
} parus_store_counts;

PARUS_API parus_status parus_store_get_counts(parus_store *store, parus_store_counts *out,
                                              parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * store_season.c - what a season adds to the store (schema version 4): the crop each parcel was
 * declared with (or labelled as) per season, the season walk that feeds the classifier, external
 * per-sample time series, and the assessment of every parcel in a season.
 *
 * Workload: a season walk reads every parcel once with its observations in the season's window:
 * 140,000 parcels x 30 observations on a county, in one pass. It is two ordered queries (the
 * parcels with their declared crop; the observations in the window) merged as they stream, both
 * in parcel id order: no query per parcel, no sort of the whole season (the observations query
 * walks parcels in id order through their index; each parcel's few points are put in date order
 * here), memory for one parcel's points. The observation query joins parcels to observations to
 * tiles with CROSS JOIN so that SQLite keeps that loop order instead of scanning tiles by date and
 * sorting millions of rows. Observations are stored tile by tile, so a parcel's rows lie in as
 * many places of the file as it has tiles and the walk reads the file in no sequential order:
 * through read() that is one system call and one page copy per row, a third of the time measured,
 * so the walk maps the file into memory (PRAGMA mmap_size) while it runs and unmaps it after
 * (mapped reads are kept to this read-only pass: an I/O error under a mapping is a signal, not an
 * error code). Assessments are written like a tile: begin, one row at a time, commit, so the
 * classifier never holds a season's results in memory. Samples (a few thousand series) are put and
 * read in one transaction or one query each.
 *
 * A season is named by its window, "YYYY-MM-DD/YYYY-MM-DD", the text that keys parcel_crops and
 * assessments; dates compare as text in that form, so the window is a range on tiles.date.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"

/* ---- statements ---- */

enum season_stmt {
    S_CROP_PUT,
    S_CROP_GET,
    S_WALK_PARCELS,
    S_WALK_OBS,
    S_WALK_RADAR,
    S_RADAR_COUNT,
    S_SAMPLE_FIND,
    S_SAMPLE_INSERT,
    S_SAMPLE_UPDATE,
    S_SAMPLE_POINTS_CLEAR,
    S_SAMPLES_WALK,
    S_ASSESS_PUT,
    S_ASSESS_GET,
    S_ASSESS_ALL,
    S_CLASSIFIED_STALE,
    S_N_
};

_Static_assert(PARUS__STORE_STMT_SEASON + S_N_ <= PARUS__STORE_MAX_STMTS,
               "statement cache too small");

#define ASSESS_COLUMNS                                                                             \
    "season, parcel_id, run_id, method, crop, probability, crop2, margin, confidence, "            \
    "model_version, declared_crop, agrees, reason, n_clear_obs, first_date, last_date, "           \
    "assessed_at"

static const char *const season_sql[S_N_] = {
    [S_CROP_PUT] = "INSERT OR REPLACE INTO parcel_crops (parcel_id, season, crop, source, "
                   "loaded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_CROP_GET] = "SELECT crop FROM parcel_crops WHERE parcel_id = ?1 AND season = ?2",
    [S_WALK_PARCELS] = "SELECT p.num, p.id, p.farmer_id, p.area_m2, p.declared_area_m2, c.crop, "
                       "(r.lon_min + r.lon_max) / 2, (r.lat_min + r.lat_max) / 2 "
                       "FROM parcels p LEFT JOIN parcel_crops c ON c.parcel_id = p.id AND "
                       "c.season = ?1 LEFT JOIN parcels_rtree r ON r.id = p.num ORDER BY p.id",
    [S_WALK_OBS] = "SELECT p.num, t.id, t.date, t.sensor, " PARUS__OBS_ROW_COLUMNS_O
                   " FROM parcels p CROSS JOIN observation_values o ON o.parcel_num = p.num "
                   "CROSS JOIN tiles t ON t.id = o.tile_id WHERE t.date >= ?1 AND t.date <= ?2 "
                   "ORDER BY p.id",
    [S_WALK_RADAR] = "SELECT p.num, " PARUS__RADAR_ROW_COLUMNS
                     " FROM parcels p CROSS JOIN radar_observations o ON o.parcel_num = p.num "
                     "CROSS JOIN tiles t ON t.id = o.tile_id LEFT JOIN radar_tiles r ON "
                     "r.tile_id = t.id WHERE t.date >= ?1 AND t.date <= ?2 ORDER BY p.id",
    [S_RADAR_COUNT] = "SELECT count(*) FROM radar_observations o CROSS JOIN tiles t ON "
                      "t.id = o.tile_id WHERE t.date >= ?1 AND t.date <= ?2",
    [S_SAMPLE_FIND] = "SELECT 1 FROM samples WHERE id = ?1",
    [S_SAMPLE_INSERT] = "INSERT INTO samples (id, label, grp, start_date, end_date, source, "
                        "loaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_SAMPLE_UPDATE] = "UPDATE samples SET label = ?2, grp = ?3, start_date = ?4, end_date = ?5, "
                        "source = ?6, loaded_at = ?7 WHERE id = ?1",
    [S_SAMPLE_POINTS_CLEAR] = "DELETE FROM sample_points WHERE sample_id = ?1",
    [S_SAMPLES_WALK] = "SELECT s.id, s.label, s.grp, s.start_date, s.end_date, p.date, p.var, "
                       "p.value FROM samples s LEFT JOIN sample_points p ON p.sample_id = s.id "
                       "ORDER BY s.id, p.date, p.var",
    [S_ASSESS_PUT] = "INSERT OR REPLACE INTO assessments (" ASSESS_COLUMNS
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                     "?16, ?17)",
    [S_ASSESS_GET] =
        "SELECT " ASSESS_COLUMNS " FROM assessments WHERE season = ?1 AND parcel_id = ?2",
    [S_ASSESS_ALL] = "SELECT " ASSESS_COLUMNS " FROM assessments WHERE season = ?1 "
                     "ORDER BY parcel_id",
    /* crops classified again by themselves: the season's results rest on the crops before */
    [S_CLASSIFIED_STALE] = "UPDATE season_state SET stale = 1, stale_since = ?2, stale_cause = ?3 "
                           "WHERE season = ?1 AND stale = 0 AND EXISTS (SELECT 1 FROM "
                           "parcel_results r WHERE r.season = ?1)",
};

static parus__stmt *stmt_get(parus_store *store, enum season_stmt id, parus_error *err)
{
    return parus__store_stmt(store, PARUS__STORE_STMT_SEASON + (size_t)id, season_sql[id], err);
}

parus_status parus__store_season_prepare_all(parus_store *store, parus_error *err)
{
    return parus__store_prepare_list(store, PARUS__STORE_STMT_SEASON, season_sql, S_N_, "season",
                                     err);
}

/* ---- small helpers ---- */

static int bind_text(parus__stmt *st, int i, const char *s)
{
    return s ? parus__bind_text(st, i, s, -1) : parus__bind_null(st, i);
}

/* NaN (no value) is stored as NULL, read back as NaN */
static int bind_real(parus__stmt *st, int i, double v)
{
    return isnan(v) ? parus__bind_null(st, i) : parus__bind_double(st, i, v);
}

/* A NULL reads as 0.0, so the type is asked only then (half the calls on a walk's rows). */
static double column_real(parus__stmt *st, int i)
{
    double v = parus__column_double(st, i);
    return v == 0.0 && parus__column_type(st, i) == SQLITE_NULL ? (double)NAN : v;
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

/* src (NULL as "") into dst[cap], cut at cap - 1 bytes; the walks copy millions of dates. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A real calendar date in canonical form, "YYYY-MM-DD" and nothing more. */
static bool is_date(const char *s)
{
    char canon[11];
    return s && strlen(s) == 10 && parus__parse_date(s, canon) && strcmp(canon, s) == 0;
}

static bool is_empty(const char *s)
{
    return !s || !*s;
}

bool parus_store_season_valid(const char *season)
{
    char first[11], last[11];
    if (!season || strlen(season) != 21 || season[10] != '/')
        return false;
    memcpy(first, season, 10);
    first[10] = '\0';
    memcpy(last, season + 11, 10);
    last[10] = '\0';
    return is_date(first) && is_date(last) && strcmp(first, last) <= 0;
}

static parus_status bad_season(const parus_store *store, const char *season, parus_error *err)
{
    return parus_fail(err, PARUS_E_INVALID,
                      "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD' with first <= last "
                      "(store '%s')",
                      season ? season : "", store->path);
}

/* A stop requested by a walk's callback: the callback's own error, else E_INTERNAL. */
static parus_status stopped(parus_error *err, int stop, const char *what, const char *where)
{
    if (err && err->code != PARUS_OK)
        return err->code;
    return parus_fail(err, PARUS_E_INTERNAL, "the walk over %s stopped at '%s' (%d)", what, where,
                      stop);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first string given twice, or NULL (err set on allocation failure: *failed). */
static const char *first_duplicate(const char *const *s, size_t n, bool *failed)
{
    const char **sorted;
    const char *dup = NULL;
    size_t i, bytes;

    *failed = false;
    if (n < 2)
        return NULL;
    if (!parus__mul_size(n, sizeof *sorted, &bytes) || !(sorted = malloc(bytes))) {
        *failed = true;
        return NULL;
    }
    memcpy(sorted, s, bytes);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    for (i = 1; i < n && !dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            dup = sorted[i];
    free(sorted);
    return dup;
}

/* ---- declared crops ---- */

parus_status parus_store_put_parcel_crops(parus_store *store, const char *season,
                                          const char *const *parcel_ids, const char *const *crops,
                                          size_t n, const char *source, parus_error *err)
{
    const char *dup;
    parus_status code;
    char now[32];
    bool failed;
    size_t i;
    int rc;

    if (!store || (n && (!parcel_ids || !crops)))
        return parus_fail(err, PARUS_E_INVALID, "put_parcel_crops: missing store, ids or crops");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    for (i = 0; i < n; i++) {
        if (is_empty(parcel_ids[i]))
            return parus_fail(err, PARUS_E_INVALID,
                              "declared crop %zu has no parcel id: nothing stored in '%s'", i,
                              store->path);
        if (is_empty(crops[i]) || strlen(crops[i]) >= 64)
            return parus_fail(err, PARUS_E_INVALID,
                              "parcel '%s' has %s crop: nothing stored in '%s'", parcel_ids[i],
                              is_empty(crops[i]) ? "no" : "a too long (64 bytes or more)",
                              store->path);
    }
    dup = first_duplicate(parcel_ids, n, &failed);
    if (failed)
        return parus_fail(err, PARUS_E_NOMEM, "cannot check %zu parcel ids", n);
    if (dup)
        return parus_fail(err, PARUS_E_DUPLICATE,
                          "parcel '%s' is given twice for season %s: nothing stored in '%s'", dup,
                          season, store->path);
    if (n == 0)
        return PARUS_OK;

    parus__store_utc_now(now);
    code = parus__store_tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    for (i = 0; i < n; i++) {
        parus__stmt *st = stmt_get(store, S_CROP_PUT, err);
        if (!st) {
            code = parus__store_prepare_failed(err);
            goto out_rollback;
        }
        rc = bind_text(st, 1, parcel_ids[i]);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 2, season);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 3, crops[i]);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 4, source);
        if (rc == SQLITE_OK)
            rc = bind_text(st, 5, now);
        if (rc == SQLITE_OK)
            rc = parus__step(st);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            parus__reset(st);
            code = parus_fail(err, PARUS_E_NOT_FOUND,
                              "parcel '%s' is not in '%s': no declared crop stored", parcel_ids[i],
                              store->path);
            goto out_rollback;
        }
        if (rc != SQLITE_DONE) {
            code = parus__store_sql_fail(store, rc, err,
                                         "cannot store the crop of parcel '%s' in '%s'",
                                         parcel_ids[i], store->path);
            parus__reset(st);
            goto out_rollback;
        }
        parus__reset(st);
    }
    return parus__store_tx_commit(store, err);

out_rollback:
    parus__store_tx_rollback(store);
    return code;
}

parus_status parus_store_parcel_crop(parus_store *store, const char *season, const char *parcel_id,
                                     char crop[64], bool *found, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !parcel_id || !crop || !found)
        return parus_fail(err, PARUS_E_INVALID, "parcel_crop: missing store, id or output");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    st = stmt_get(store, S_CROP_GET, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, parcel_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, season);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        copy_text(crop, 64, column_text(st, 0));
        parus__reset(st);
        *found = true;
        return PARUS_OK;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot read the crop of parcel '%s' in '%s'",
                                     parcel_id, store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    *found = false;
    return PARUS_OK;
}

/* ---- the season walk ---- */

/* How much of the file the walk maps (SQLite caps it at its compile-time limit, 2 GB by
 * default; past it, reads go through read() again), unless PARUS_STORE_MMAP_MB says. */
#define WALK_MMAP_BYTES ((int64_t)1 << 34)
#define WALK_MMAP_ENV "PARUS_STORE_MMAP_MB"

/* The bytes the walk maps: PARUS_STORE_MMAP_MB MiB (a whole number, 0: none) where set, else
 * WALK_MMAP_BYTES. The mapped pages are the store file's, in the OS page cache: they count in the
 * process's resident size (as file pages, which the kernel takes back under pressure, not as its
 * private memory), up to this size; a smaller one bounds that, at the cost of a read() per page
 * beyond it. */
static parus_status walk_mmap_bytes(parus_store *store, int64_t *bytes, parus_error *err)
{
    const char *env = getenv(WALK_MMAP_ENV);
    char *end;
    unsigned long long mb;
    *bytes = WALK_MMAP_BYTES;
    if (!env || !*env)
        return PARUS_OK;
    errno = 0;
    mb = strtoull(env, &end, 10);
    if (errno || *end || env[0] == '-' || mb > ((unsigned long long)1 << 24))
        return parus_fail(err, PARUS_E_CONFIG,
                          "%s='%s' is not a whole number of MiB from 0 to 16777216 (reading "
                          "season data of '%s')",
                          WALK_MMAP_ENV, env, store->path);
    *bytes = (int64_t)(mb << 20);
    return PARUS_OK;
}

/* Memory-map up to bytes of the store for reading (0: stop). Only speed depends on it: a refusal
 * leaves reads as they were. */
static void set_mmap(parus_store *store, int64_t bytes)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA mmap_size = %lld", (long long)bytes);
    parus__db_exec(store->db, sql);
}

static int compare_points(const void *a, const void *b)
{
    const parus_series_point *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    if (c)
        return c;
    return x->tile_id < y->tile_id ? -1 : x->tile_id > y->tile_id;
}

/* A parcel's points in (date, tile id) order. They come in tile id order (the observations'
 * key), which is date order unless tiles were ingested out of date order: check before sorting. */
static void sort_points(parus_series_point *pts, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++)
        if (compare_points(&pts[i - 1], &pts[i]) > 0) {
            qsort(pts, n, sizeof *pts, compare_points);
            return;
        }
}

/* One observation row of S_WALK_OBS (after the parcel num in column 0) as a series point; false
 * when its values are damaged. */
static bool row_point(parus__stmt *st, parus_series_point *pt)
{
    pt->tile_id = parus__column_int64(st, 1);
    copy_text(pt->date, sizeof pt->date, column_text(st, 2));
    copy_text(pt->sensor, sizeof pt->sensor, column_text(st, 3));
    memset(&pt->obs, 0, sizeof pt->obs);
    return parus__obs_read(st, 4, &pt->obs);
}

/* The radar points of a parcel in (date, tile id) order: they come in tile id order. */
static int compare_radar(const void *a, const void *b)
{
    const parus_radar_point *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    if (c)
        return c;
    return x->tile_id < y->tile_id ? -1 : x->tile_id > y->tile_id;
}

static void sort_radar(parus_radar_point *pts, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++)
        if (compare_radar(&pts[i - 1], &pts[i]) > 0) {
            qsort(pts, n, sizeof *pts, compare_radar);
            return;
        }
}

/* Room for one more element in *buf (cap elements of size each). */
static bool room_for_one(void **buf, size_t n, size_t *cap, size_t size)
{
    size_t new_cap, bytes;
    void *grown;
    if (n < *cap)
        return true;
    new_cap = *cap ? 2 * *cap : 64;
    if (!parus__mul_size(new_cap, size, &bytes) || !(grown = realloc(*buf, bytes)))
        return false;
    *buf = grown;
    *cap = new_cap;
    return true;
}

/* The old visitor under the new walk. */
struct optical_only {
    parus_season_visit_fn fn;
    void *ctx;
};

static int visit_optical_only(const parus_season_parcel *sp, void *ctx)
{
    struct optical_only *o = ctx;
    return o->fn(sp->parcel, sp->pts, sp->n_pts, o->ctx);
}

/* The season walk; with_radar: the third stream (radar observations) too. */
static parus_status walk(parus_store *store, const char *season, bool with_radar,
                         parus_season_visit_all_fn fn, void *ctx, size_t *n_parcels,
                         parus_error *err)
{
    parus__stmt *pq, *oq, *rq = NULL;
    parus_series_point *pts = NULL;
    parus_radar_point *rad = NULL;
    parus_status code = PARUS_OK;
    size_t n = 0, cap = 0, cap_rad = 0;
    int64_t mmap_bytes;
    char first[11], last[11];
    int rc, orc, rrc = SQLITE_DONE;
    bool own_tx = false;

    parus_error_init(err);
    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "season_walk: missing store or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    memcpy(first, season, 10);
    first[10] = '\0';
    memcpy(last, season + 11, 10);
    last[10] = '\0';

    pq = stmt_get(store, S_WALK_PARCELS, err);
    if (!pq)
        return parus__store_prepare_failed(err);
    oq = stmt_get(store, S_WALK_OBS, err);
    if (!oq)
        return parus__store_prepare_failed(err);
    if (with_radar && !(rq = stmt_get(store, S_WALK_RADAR, err)))
        return parus__store_prepare_failed(err);
    /* a season's observations stream (PostgreSQL: through cursors, which live in a
     * transaction: the walk reads in one of its own when none is open) */
    parus__stmt_stream(pq);
    parus__stmt_stream(oq);
    if (rq)
        parus__stmt_stream(rq);
    if (parus__db_is_pg(store->db) && parus__db_autocommit(store->db)) {
        rc = parus__db_exec(store->db, "BEGIN ISOLATION LEVEL REPEATABLE READ");
        if (rc != SQLITE_OK)
            return parus__store_sql_fail(store, rc, err, "cannot read '%s'", store->path);
        own_tx = true;
    }
    code = walk_mmap_bytes(store, &mmap_bytes, err);
    if (code != PARUS_OK)
        goto out_reset;
    set_mmap(store, mmap_bytes);
    rc = bind_text(pq, 1, season);
    orc = bind_text(oq, 1, first);
    if (orc == SQLITE_OK)
        orc = bind_text(oq, 2, last);
    if (orc == SQLITE_OK)
        orc = parus__step(oq);
    if (rq) {
        rrc = bind_text(rq, 1, first);
        if (rrc == SQLITE_OK)
            rrc = bind_text(rq, 2, last);
        if (rrc == SQLITE_OK)
            rrc = parus__step(rq);
    }
    /* All streams are in parcel id order, so an observation row belongs to the current parcel
     * exactly when its parcel num is the current one; otherwise it belongs to a later parcel. */
    while (rc == SQLITE_OK && (orc == SQLITE_ROW || orc == SQLITE_DONE) &&
           (rrc == SQLITE_ROW || rrc == SQLITE_DONE) && (rc = parus__step(pq)) == SQLITE_ROW) {
        int64_t num = parus__column_int64(pq, 0);
        parus_parcel_brief p;
        parus_season_parcel sp;
        size_t n_pts = 0, n_rad = 0;
        int stop;

        while (orc == SQLITE_ROW && parus__column_int64(oq, 0) == num) {
            if (!room_for_one((void **)&pts, n_pts, &cap, sizeof *pts)) {
                code = parus_fail(err, PARUS_E_NOMEM, "cannot hold the observations of parcel '%s'",
                                  column_text(pq, 1));
                goto out_reset;
            }
            if (!row_point(oq, &pts[n_pts++])) {
                code =
                    parus_fail(err, PARUS_E_STORE,
                               "'%s' is damaged: the observation of parcel '%s' in tile %lld "
                               "cannot be read (observation_values.vals)",
                               store->path, column_text(pq, 1), (long long)pts[n_pts - 1].tile_id);
                goto out_reset;
            }
            orc = parus__step(oq);
        }
        while (rrc == SQLITE_ROW && parus__column_int64(rq, 0) == num) {
            if (!room_for_one((void **)&rad, n_rad, &cap_rad, sizeof *rad)) {
                code = parus_fail(err, PARUS_E_NOMEM,
                                  "cannot hold the radar observations of parcel '%s'",
                                  column_text(pq, 1));
                goto out_reset;
            }
            parus__store_radar_row(rq, 1, &rad[n_rad++]);
            rrc = parus__step(rq);
        }
        if ((orc != SQLITE_ROW && orc != SQLITE_DONE) || (rrc != SQLITE_ROW && rrc != SQLITE_DONE))
            break;
        sort_points(pts, n_pts);
        sort_radar(rad, n_rad);
        p.id = column_text(pq, 1);
        p.farmer_id = column_text(pq, 2);
        p.area_m2 = column_real(pq, 3);
        p.declared_area_m2 = column_real(pq, 4);
        p.declared_crop = column_text(pq, 5);
        p.lon_deg = column_real(pq, 6);
        p.lat_deg = column_real(pq, 7);
        sp.parcel = &p;
        sp.pts = pts;
        sp.n_pts = n_pts;
        sp.radar = rad;
        sp.n_radar = n_rad;
        n++;
        stop = fn(&sp, ctx);
        if (stop) {
            code = stopped(err, stop, "the parcels of the season", p.id ? p.id : "?");
            goto out_reset;
        }
        rc = SQLITE_OK;
    }
    if (orc != SQLITE_ROW && orc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, orc, err,
                                     "cannot read the observations of season %s in '%s'", season,
                                     store->path);
        goto out_reset;
    }
    if (rrc != SQLITE_ROW && rrc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rrc, err,
                                     "cannot read the radar observations of season %s in '%s'",
                                     season, store->path);
        goto out_reset;
    }
    if (rc != SQLITE_DONE) {
        code =
            parus__store_sql_fail(store, rc, err, "cannot read the parcels of '%s'", store->path);
        goto out_reset;
    }
    if (orc == SQLITE_ROW || rrc == SQLITE_ROW) {
        /* an observation of no parcel: the streams disagree on the order */
        code = parus_fail(err, PARUS_E_INTERNAL,
                          "the season walk of '%s' left %sobservations of parcel %lld unread",
                          store->path, orc == SQLITE_ROW ? "" : "radar ",
                          (long long)parus__column_int64(orc == SQLITE_ROW ? oq : rq, 0));
        goto out_reset;
    }
    if (n_parcels)
        *n_parcels = n;
out_reset:
    if (rq)
        parus__reset(rq);
    parus__reset(oq);
    parus__reset(pq);
    set_mmap(store, 0);
    if (own_tx && !parus__db_autocommit(store->db))
        parus__db_exec(store->db, "COMMIT");
    free(pts);
    free(rad);
    return code;
}

parus_status parus_store_season_walk(parus_store *store, const char *season,
                                     parus_season_visit_fn fn, void *ctx, size_t *n_parcels,
                                     parus_error *err)
{
    struct optical_only o;
    o.fn = fn;
    o.ctx = ctx;
    if (!fn) {
        parus_error_init(err);
        return parus_fail(err, PARUS_E_INVALID, "season_walk: missing store or function");
    }
    return walk(store, season, false, visit_optical_only, &o, n_parcels, err);
}

parus_status parus_store_season_walk_all(parus_store *store, const char *season, bool with_radar,
                                         parus_season_visit_all_fn fn, void *ctx, size_t *n_parcels,
                                         parus_error *err)
{
    return walk(store, season, with_radar, fn, ctx, n_parcels, err);
}

parus_status parus_store_radar_count(parus_store *store, const char *season, size_t *n,
                                     parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    char first[11], last[11];
    int rc;

    if (!store || !n)
        return parus_fail(err, PARUS_E_INVALID, "radar_count: missing store or output");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    memcpy(first, season, 10);
    first[10] = '\0';
    memcpy(last, season + 11, 10);
    last[10] = '\0';
    st = stmt_get(store, S_RADAR_COUNT, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, first);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, last);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc != SQLITE_ROW) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot count the radar observations of season %s in '%s'",
                                     season, store->path);
        parus__reset(st);
        return code;
    }
    *n = column_size(st, 0);
    parus__reset(st);
    return PARUS_OK;
}

/* ---- samples ---- */

static parus_status check_sample(const parus_store *store, const parus_sample *s, size_t i,
                                 parus_error *err)
{
    size_t k;
    if (is_empty(s->id))
        return parus_fail(err, PARUS_E_INVALID, "sample %zu has no id: nothing stored in '%s'", i,
                          store->path);
    if ((s->start_date[0] && !is_date(s->start_date)) || (s->end_date[0] && !is_date(s->end_date)))
        return parus_fail(err, PARUS_E_INVALID,
                          "sample '%s' has a start or end date that is not YYYY-MM-DD: nothing "
                          "stored in '%s'",
                          s->id, store->path);
    if (s->n_points && !s->points)
        return parus_fail(err, PARUS_E_INVALID, "sample '%s' has no points: nothing stored in '%s'",
                          s->id, store->path);
    for (k = 0; k < s->n_points; k++) {
        const parus_sample_point *pt = &s->points[k];
        if (!memchr(pt->date, '\0', sizeof pt->date) || !is_date(pt->date))
            return parus_fail(err, PARUS_E_INVALID,
                              "point %zu of sample '%s' has no date of the form YYYY-MM-DD: "
                              "nothing stored in '%s'",
                              k, s->id, store->path);
        if (is_empty(pt->var))
            return parus_fail(err, PARUS_E_INVALID,
                              "point %zu of sample '%s' has no variable name: nothing stored in "
                              "'%s'",
                              k, s->id, store->path);
    }
    return PARUS_OK;
}

/* Insert or replace one sample and its points, inside the put's transaction. */
/* A sample's points go into sample_points POINT_BATCH rows a statement, across samples (each
 * sample's row is in before its points are sent): on a server a statement a point was a round
 * trip each, 15.6 s for Mato Grosso's 291,870 values against SQLite's 0.7 s. */
#define POINT_BATCH 64

struct point_batch {
    parus__stmt *full;
    size_t n;
    const char *sample[POINT_BATCH];
    const parus_sample_point *pt[POINT_BATCH];
};

static parus_status points_flush(parus_store *store, struct point_batch *b, parus_error *err)
{
    parus__stmt *st = NULL;
    size_t r;
    int rc = SQLITE_OK, p = 1;
    if (b->n == 0)
        return PARUS_OK;
    if (b->n < POINT_BATCH || !b->full) {
        char *sql = parus__values_sql(
            "INSERT INTO sample_points (sample_id, date, var, value) VALUES ", 4, b->n);
        rc = sql ? parus__db_prepare(store->db, sql, false, &st) : SQLITE_NOMEM;
        free(sql);
        if (rc == SQLITE_OK && b->n == POINT_BATCH)
            b->full = st;
    } else {
        st = b->full;
        parus__reset(st);
    }
    for (r = 0; r < b->n && rc == SQLITE_OK; r++) {
        rc = bind_text(st, p++, b->sample[r]);
        if (rc == SQLITE_OK)
            rc = bind_text(st, p++, b->pt[r]->date);
        if (rc == SQLITE_OK)
            rc = bind_text(st, p++, b->pt[r]->var);
        if (rc == SQLITE_OK)
            rc = bind_real(st, p++, b->pt[r]->value);
    }
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (st != b->full)
        parus__finalize(st);
    r = b->n;
    b->n = 0;
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc == SQLITE_OK ? SQLITE_ERROR : rc, err,
                                     "cannot store the points of samples '%s' .. '%s' in '%s'",
                                     b->sample[0], b->sample[r - 1], store->path);
    return PARUS_OK;
}

static int cmp_point(const void *x, const void *y)
{
    const parus_sample_point *a = *(const parus_sample_point *const *)x;
    const parus_sample_point *b = *(const parus_sample_point *const *)y;
    int c = strcmp(a->date, b->date);
    return c ? c : strcmp(a->var, b->var);
}

/* A variable given twice on one date of a sample (the table's key would refuse it, but only as a
 * whole batch). */
static parus_status points_twice(parus_store *store, const parus_sample *s, parus_error *err)
{
    const parus_sample_point **by;
    parus_status code = PARUS_OK;
    size_t k;
    if (s->n_points < 2)
        return PARUS_OK;
    if (!(by = malloc(s->n_points * sizeof *by)))
        return parus_fail(err, PARUS_E_NOMEM, "cannot check the points of sample '%s'", s->id);
    for (k = 0; k < s->n_points; k++)
        by[k] = &s->points[k];
    qsort(by, s->n_points, sizeof *by, cmp_point);
    for (k = 1; k < s->n_points; k++)
        if (cmp_point(&by[k - 1], &by[k]) == 0) {
            code = parus_fail(err, PARUS_E_DUPLICATE,
                              "sample '%s' has '%s' on %s twice: nothing stored in '%s'", s->id,
                              by[k]->var, by[k]->date, store->path);
            break;
        }
    free(by);
    return code;
}

static parus_status put_sample(parus_store *store, struct point_batch *b, const parus_sample *s,
                               const char *source, const char *now, bool *replaced,
                               parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    bool exists;
    size_t k;
    int rc;

    st = stmt_get(store, S_SAMPLE_FIND, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, s->id);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    exists = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot look up sample '%s' in '%s'", s->id,
                                     store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);

    if (exists) {
        st = stmt_get(store, S_SAMPLE_POINTS_CLEAR, err);
        if (!st)
            return parus__store_prepare_failed(err);
        rc = bind_text(st, 1, s->id);
        if (rc == SQLITE_OK)
            rc = parus__step(st);
        if (rc != SQLITE_DONE) {
            code = parus__store_sql_fail(store, rc, err,
                                         "cannot remove the old points of sample '%s' in '%s'",
                                         s->id, store->path);
            parus__reset(st);
            return code;
        }
        parus__reset(st);
    }
    st = stmt_get(store, exists ? S_SAMPLE_UPDATE : S_SAMPLE_INSERT, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, s->id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, s->label);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, s->group);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, s->start_date[0] ? s->start_date : NULL);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, s->end_date[0] ? s->end_date : NULL);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, source);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 7, now);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot store sample '%s' in '%s'", s->id,
                                     store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);

    code = points_twice(store, s, err);
    for (k = 0; code == PARUS_OK && k < s->n_points; k++) {
        b->sample[b->n] = s->id;
        b->pt[b->n] = &s->points[k];
        if (++b->n == POINT_BATCH)
            code = points_flush(store, b, err);
    }
    if (code != PARUS_OK)
        return code;
    *replaced = exists;
    return PARUS_OK;
}

parus_status parus_store_put_samples(parus_store *store, const parus_sample *s, size_t n,
                                     const char *source, size_t *n_new, size_t *n_replaced,
                                     parus_error *err)
{
    const char **ids = NULL;
    const char *dup;
    struct point_batch *batch;
    size_t i, bytes, fresh = 0, again = 0;
    parus_status code;
    char now[32];
    bool failed;

    if (!store || (n && !s))
        return parus_fail(err, PARUS_E_INVALID, "put_samples: missing store or samples");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    for (i = 0; i < n; i++) {
        code = check_sample(store, &s[i], i, err);
        if (code != PARUS_OK)
            return code;
    }
    if (n > 1) {
        if (!parus__mul_size(n, sizeof *ids, &bytes) || !(ids = malloc(bytes)))
            return parus_fail(err, PARUS_E_NOMEM, "cannot check the ids of %zu samples", n);
        for (i = 0; i < n; i++)
            ids[i] = s[i].id;
        dup = first_duplicate(ids, n, &failed);
        if (failed || dup) {
            code = failed ? parus_fail(err, PARUS_E_NOMEM, "cannot check the ids of %zu samples", n)
                          : parus_fail(err, PARUS_E_DUPLICATE,
                                       "sample '%s' is given twice: nothing stored in '%s'", dup,
                                       store->path);
            free(ids);
            return code;
        }
        free(ids);
    }

    parus__store_utc_now(now);
    code = parus__store_tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    if (!(batch = calloc(1, sizeof *batch))) {
        parus__store_tx_rollback(store);
        return parus_fail(err, PARUS_E_NOMEM, "cannot store %zu samples", n);
    }
    for (i = 0; i < n && code == PARUS_OK; i++) {
        bool replaced = false;
        code = put_sample(store, batch, &s[i], source, now, &replaced, err);
        if (replaced)
            again++;
        else
            fresh++;
    }
    if (code == PARUS_OK)
        code = points_flush(store, batch, err);
    parus__finalize(batch->full);
    free(batch);
    if (code != PARUS_OK) {
        parus__store_tx_rollback(store);
        return code;
    }
    code = parus__store_tx_commit(store, err);
    if (code != PARUS_OK)
        return code;
    if (n_new)
        *n_new = fresh;
    if (n_replaced)
        *n_replaced = again;
    return PARUS_OK;
}

/* What a samples walk holds for the sample being read: its text (owned copies, since the
 * statement moves on) and its points, whose variable names point into a list of the distinct
 * names seen, kept for the whole walk. */
struct sample_walk {
    char *id, *label, *group;
    parus_sample s;
    parus_sample_point *pts;
    size_t n_pts, cap;
    char **vars;
    size_t n_vars, cap_vars;
};

static const char *intern_var(struct sample_walk *w, const char *name)
{
    size_t i;
    char *copy;
    for (i = w->n_vars; i-- > 0;)
        if (strcmp(w->vars[i], name) == 0)
            return w->vars[i];
    if (w->n_vars == w->cap_vars) {
        size_t new_cap = w->cap_vars ? 2 * w->cap_vars : 16, bytes;
        char **grown;
        if (!parus__mul_size(new_cap, sizeof *grown, &bytes) || !(grown = realloc(w->vars, bytes)))
            return NULL;
        w->vars = grown;
        w->cap_vars = new_cap;
    }
    copy = parus__strdup(name);
    if (copy)
        w->vars[w->n_vars++] = copy;
    return copy;
}

static bool start_sample(struct sample_walk *w, parus__stmt *st)
{
    const char *label = column_text(st, 1), *group = column_text(st, 2);
    free(w->id);
    free(w->label);
    free(w->group);
    w->id = parus__strdup(column_text(st, 0));
    w->label = label ? parus__strdup(label) : NULL;
    w->group = group ? parus__strdup(group) : NULL;
    if (!w->id || (label && !w->label) || (group && !w->group))
        return false;
    memset(&w->s, 0, sizeof w->s);
    w->s.id = w->id;
    w->s.label = w->label;
    w->s.group = w->group;
    copy_text(w->s.start_date, sizeof w->s.start_date, column_text(st, 3));
    copy_text(w->s.end_date, sizeof w->s.end_date, column_text(st, 4));
    w->n_pts = 0;
    return true;
}

static bool add_point(struct sample_walk *w, parus__stmt *st)
{
    parus_sample_point *pt;
    if (parus__column_type(st, 5) == SQLITE_NULL)
        return true; /* a sample with no points: the LEFT JOIN's empty row */
    if (w->n_pts == w->cap) {
        size_t new_cap = w->cap ? 2 * w->cap : 256, bytes;
        parus_sample_point *grown;
        if (!parus__mul_size(new_cap, sizeof *grown, &bytes) || !(grown = realloc(w->pts, bytes)))
            return false;
        w->pts = grown;
        w->cap = new_cap;
    }
    pt = &w->pts[w->n_pts];
    copy_text(pt->date, sizeof pt->date, column_text(st, 5));
    pt->var = intern_var(w, column_text(st, 6) ? column_text(st, 6) : "");
    pt->value = column_real(st, 7);
    if (!pt->var)
        return false;
    w->n_pts++;
    return true;
}

static int visit_sample(struct sample_walk *w, parus_sample_visit_fn fn, void *ctx)
{
    w->s.points = w->pts;
    w->s.n_points = w->n_pts;
    return fn(&w->s, ctx);
}

parus_status parus_store_samples_walk(parus_store *store, parus_sample_visit_fn fn, void *ctx,
                                      parus_error *err)
{
    struct sample_walk w;
    parus__stmt *st;
    parus_status code = PARUS_OK;
    bool open = false;
    size_t i;
    int rc, stop;

    parus_error_init(err);
    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "samples_walk: missing store or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, S_SAMPLES_WALK, err);
    if (!st)
        return parus__store_prepare_failed(err);
    memset(&w, 0, sizeof w);
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        const char *id = column_text(st, 0);
        if (!open || strcmp(id ? id : "", w.id) != 0) {
            if (open && (stop = visit_sample(&w, fn, ctx)) != 0) {
                code = stopped(err, stop, "the samples", w.id);
                goto out_free;
            }
            if (!start_sample(&w, st))
                goto out_nomem;
            open = true;
        }
        if (!add_point(&w, st))
            goto out_nomem;
    }
    if (rc != SQLITE_DONE) {
        code =
            parus__store_sql_fail(store, rc, err, "cannot read the samples of '%s'", store->path);
        goto out_free;
    }
    if (open && (stop = visit_sample(&w, fn, ctx)) != 0)
        code = stopped(err, stop, "the samples", w.id);
    goto out_free;

out_nomem:
    code = parus_fail(err, PARUS_E_NOMEM, "cannot hold a sample of '%s'", store->path);
out_free:
    parus__reset(st);
    free(w.id);
    free(w.label);
    free(w.group);
    free(w.pts);
    for (i = 0; i < w.n_vars; i++)
        free(w.vars[i]);
    free(w.vars);
    return code;
}

/* ---- assessments ---- */

static const char *const method_names[] = {"none", "model", "calendar"};
static const char *const confidence_names[] = {"none", "normal", "low"};

const char *parus_assess_method_name(parus_assess_method m)
{
    return (unsigned)m < sizeof method_names / sizeof method_names[0] ? method_names[m] : "?";
}

const char *parus_assess_confidence_name(parus_assess_confidence c)
{
    return (unsigned)c < sizeof confidence_names / sizeof confidence_names[0] ? confidence_names[c]
                                                                              : "?";
}

parus_status parus_store_assessments_begin(parus_store *store, const char *season, parus_error *err)
{
    parus_status code;

    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "assessments_begin: missing store");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    if (store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "assessments_begin: the assessments of season %s are still open in '%s'",
                          store->open_assess_season, store->path);
    if (store->open_tile)
        return parus_fail(err, PARUS_E_INVALID, "assessments_begin: tile %lld of '%s' is open",
                          (long long)store->open_tile, store->path);
    code = parus__store_tx_begin_alone(store, err);
    if (code != PARUS_OK)
        return code;
    copy_text(store->open_assess_season, sizeof store->open_assess_season, season);
    parus__store_utc_now(store->open_assess_at);
    store->open_assess = true;
    parus__bulk_discard(store);
    store->bulk_on = parus__db_is_pg(store->db);
    return PARUS_OK;
}

static bool in_unit(double v)
{
    return isnan(v) || (v >= 0.0 && v <= 1.0);
}

static parus_status check_assessment(const parus_store *store, const parus_assessment *a,
                                     parus_error *err)
{
    const char *id = a->parcel_id;
    const char *why = NULL;

    if (is_empty(id))
        return parus_fail(err, PARUS_E_INVALID, "an assessment of season %s has no parcel id",
                          store->open_assess_season);
    if (a->season && strcmp(a->season, store->open_assess_season) != 0)
        why = "is for another season than the one open";
    else if ((unsigned)a->method > PARUS_ASSESS_CALENDAR)
        why = "has an unknown method";
    else if ((unsigned)a->confidence > PARUS_CONFIDENCE_LOW)
        why = "has an unknown confidence";
    else if (a->method == PARUS_ASSESS_NONE &&
             (a->crop || a->crop2 || a->confidence != PARUS_CONFIDENCE_NONE))
        why = "is unclassified (method none) but carries a crop or a confidence";
    else if (a->method == PARUS_ASSESS_NONE && is_empty(a->reason))
        why = "is unclassified (method none) without a reason";
    else if (a->method != PARUS_ASSESS_NONE &&
             (is_empty(a->crop) || a->confidence == PARUS_CONFIDENCE_NONE))
        why = "is classified without a crop or a confidence";
    else if (a->method == PARUS_ASSESS_CALENDAR && a->confidence != PARUS_CONFIDENCE_LOW)
        why = "is a calendar match with a confidence other than low";
    else if (!in_unit(a->probability) || !in_unit(a->margin))
        why = "has a probability or margin outside [0, 1]";
    else if (a->agrees < -1 || a->agrees > 1)
        why = "has agrees other than -1, 0 or 1";
    else if ((a->first_date && !is_date(a->first_date)) || (a->last_date && !is_date(a->last_date)))
        why = "has a first or last date that is not YYYY-MM-DD";
    else if (a->n_clear_obs > (size_t)INT64_MAX || a->run_id < 0)
        why = "has a count or run id out of range";
    if (why)
        return parus_fail(err, PARUS_E_INVALID, "the assessment of parcel '%s' for season %s %s",
                          id, store->open_assess_season, why);
    return PARUS_OK;
}

/* An assessment's values in ASSESS_COLUMNS' order. */
static void assessment_fields(const parus_store *store, const parus_assessment *a, parus__binder *b)
{
    parus__b_text(b, store->open_assess_season);
    parus__b_text(b, a->parcel_id);
    if (a->run_id)
        parus__b_int(b, a->run_id);
    else
        parus__b_null(b);
    parus__b_text(b, parus_assess_method_name(a->method));
    parus__b_text(b, a->crop);
    parus__b_real(b, a->probability);
    parus__b_text(b, a->crop2);
    parus__b_real(b, a->margin);
    parus__b_text(b, parus_assess_confidence_name(a->confidence));
    parus__b_text(b, a->model_version);
    parus__b_text(b, a->declared_crop);
    if (a->agrees < 0)
        parus__b_null(b);
    else
        parus__b_int(b, a->agrees);
    parus__b_text(b, a->reason);
    parus__b_int(b, (int64_t)a->n_clear_obs);
    parus__b_text(b, a->first_date);
    parus__b_text(b, a->last_date);
    parus__b_text(b, store->open_assess_at);
}

/* ---- the assessments in bulk (PostgreSQL, store_bulk.c) ---- */

static const struct parus__bulk_spec assess_bulk = {
    "the assessments",
    "CREATE TEMP TABLE IF NOT EXISTS parus_assess_in (LIKE assessments, seq BIGINT) "
    "ON COMMIT DELETE ROWS",
    "COPY parus_assess_in (" ASSESS_COLUMNS ", seq) FROM STDIN (FORMAT binary)", 18};

/* Into assessments, the last of a parcel's rows replacing what was there (INSERT OR REPLACE as
 * the per-row statement), after the check of the parcels that its foreign key would make. */
static parus_status assessments_bulk_move(parus_store *store, parus_error *err)
{
    static const char missing[] =
        "SELECT parcel_id FROM parus_assess_in i WHERE NOT EXISTS (SELECT 1 FROM parcels p "
        "WHERE p.id = i.parcel_id) ORDER BY seq LIMIT 1";
    static const char move[] = "INSERT OR REPLACE INTO assessments (" ASSESS_COLUMNS
                               ") SELECT DISTINCT ON (parcel_id) " ASSESS_COLUMNS
                               " FROM parus_assess_in ORDER BY parcel_id, seq DESC";
    struct parus__bulk *b = &store->bulk[PARUS__BULK_ASSESS];
    char id[256];
    int rc;
    parus_status code;

    if (b->n_rows == 0)
        return PARUS_OK;
    code = parus__bulk_send(store, b, err);
    if (code != PARUS_OK)
        return code;
    rc = parus__bulk_first(store, missing, id, sizeof id);
    if (rc == SQLITE_OK && id[0])
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' is not in '%s': the assessments of season %s are not stored",
                          id, store->path, store->open_assess_season);
    if (rc == SQLITE_OK)
        rc = parus__bulk_run(store, move);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot store the assessments of season %s in '%s'",
                                     store->open_assess_season, store->path);
    return PARUS_OK;
}

parus_status parus_store_assessments_put(parus_store *store, const parus_assessment *a,
                                         parus_error *err)
{
    parus__stmt *st;
    parus__binder b = {NULL, NULL, 0, SQLITE_OK};
    parus_status code;
    int rc;

    if (!store || !store->open_assess)
        return parus_fail(err, PARUS_E_INVALID, "assessments_put: no season is open in '%s'",
                          store ? store->path : "?");
    if (!a) {
        parus_store_assessments_abort(store);
        return parus_fail(err, PARUS_E_INVALID, "assessments_put: missing assessment");
    }
    code = check_assessment(store, a, err);
    if (code != PARUS_OK)
        goto out_abort;
    if (store->bulk_on) {
        b.bulk = &store->bulk[PARUS__BULK_ASSESS];
        parus__bulk_row(b.bulk, &assess_bulk);
        assessment_fields(store, a, &b);
        code = parus__bulk_row_end(store, b.bulk, a->parcel_id, err);
        if (code != PARUS_OK)
            goto out_abort;
        return PARUS_OK;
    }
    st = stmt_get(store, S_ASSESS_PUT, err);
    if (!st) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    b.st = st;
    assessment_fields(store, a, &b);
    rc = b.rc;
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        parus__reset(st);
        code = parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' is not in '%s': the assessments of season %s are not stored",
                          a->parcel_id, store->path, store->open_assess_season);
        goto out_abort;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot store the assessment of parcel '%s' in '%s'",
                                     a->parcel_id, store->path);
        parus__reset(st);
        goto out_abort;
    }
    parus__reset(st);
    return PARUS_OK;

out_abort:
    parus_store_assessments_abort(store);
    return code;
}

/* Classification alone (no results open): a season whose results were computed on the crops
 * before is owed an assessment from this commit on, in its transaction. */
static parus_status classified_stale(parus_store *store, parus_error *err)
{
    parus__stmt *st = stmt_get(store, S_CLASSIFIED_STALE, err);
    int rc;
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, store->open_assess_season);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, store->open_assess_at);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, "crops classified again (parus classify) after its results");
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot mark season %s owed in '%s'",
                                     store->open_assess_season, store->path);
    return PARUS_OK;
}

parus_status parus__store_assessments_commit(parus_store *store, bool with_results,
                                             parus_error *err)
{
    parus_status code;

    if (!store || !store->open_assess)
        return parus_fail(err, PARUS_E_INVALID, "assessments_commit: no season is open in '%s'",
                          store ? store->path : "?");
    if (!with_results && (code = classified_stale(store, err)) != PARUS_OK) {
        parus_store_assessments_abort(store);
        return code;
    }
    if (store->bulk_on) {
        /* what was given in bulk goes into its tables first (the results too, when this commit
         * ends their transaction), or nothing commits */
        code = store->open_results ? parus__store_results_bulk_move(store, err) : PARUS_OK;
        if (code == PARUS_OK)
            code = assessments_bulk_move(store, err);
        if (code != PARUS_OK) {
            parus_store_assessments_abort(store);
            return code;
        }
        parus__bulk_discard(store);
        store->bulk_on = false;
    }
    store->open_assess = false;
    return parus__store_tx_commit(store, err);
}

parus_status parus_store_assessments_commit(parus_store *store, parus_error *err)
{
    return parus__store_assessments_commit(store, store && store->open_results, err);
}

void parus_store_assessments_abort(parus_store *store)
{
    if (!store || !store->open_assess)
        return;
    parus__store_tx_rollback(store);
    parus__bulk_discard(store);
    store->bulk_on = false;
    store->open_assess = false;
}

static parus_assess_method method_of(const char *s)
{
    size_t i;
    for (i = 0; s && i < sizeof method_names / sizeof method_names[0]; i++)
        if (strcmp(s, method_names[i]) == 0)
            return (parus_assess_method)i;
    return PARUS_ASSESS_NONE;
}

static parus_assess_confidence confidence_of(const char *s)
{
    size_t i;
    for (i = 0; s && i < sizeof confidence_names / sizeof confidence_names[0]; i++)
        if (strcmp(s, confidence_names[i]) == 0)
            return (parus_assess_confidence)i;
    return PARUS_CONFIDENCE_NONE;
}

/* A row of ASSESS_COLUMNS; pointers borrow the statement's memory. */
static void row_assessment(parus__stmt *st, parus_assessment *a)
{
    a->season = column_text(st, 0);
    a->parcel_id = column_text(st, 1);
    a->run_id = parus__column_int64(st, 2);
    a->method = method_of(column_text(st, 3));
    a->crop = column_text(st, 4);
    a->probability = column_real(st, 5);
    a->crop2 = column_text(st, 6);
    a->margin = column_real(st, 7);
    a->confidence = confidence_of(column_text(st, 8));
    a->model_version = column_text(st, 9);
    a->declared_crop = column_text(st, 10);
    a->agrees = parus__column_type(st, 11) == SQLITE_NULL ? -1 : parus__column_int(st, 11);
    a->reason = column_text(st, 12);
    a->n_clear_obs = column_size(st, 13);
    a->first_date = column_text(st, 14);
    a->last_date = column_text(st, 15);
    a->assessed_at = column_text(st, 16);
}

parus_status parus_store_get_assessment(parus_store *store, const char *season,
                                        const char *parcel_id, parus_assessment_fn fn, void *ctx,
                                        parus_error *err)
{
    parus_assessment a;
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "get_assessment: missing store, id or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    st = stmt_get(store, S_ASSESS_GET, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, season);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, parcel_id);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_DONE) {
        parus__reset(st);
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' has no assessment for season %s in '%s'", parcel_id, season,
                          store->path);
    }
    if (rc != SQLITE_ROW) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot read the assessment of parcel '%s' in '%s'", parcel_id,
                                     store->path);
        parus__reset(st);
        return code;
    }
    row_assessment(st, &a);
    fn(&a, ctx);
    parus__reset(st);
    return PARUS_OK;
}

parus_status parus_store_assessments_foreach(parus_store *store, const char *season,
                                             parus_assessment_fn fn, void *ctx, parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    parus_error_init(err);
    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "assessments_foreach: missing store or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    st = stmt_get(store, S_ASSESS_ALL, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = bind_text(st, 1, season);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_assessment a;
        int stop;
        row_assessment(st, &a);
        stop = fn(&a, ctx);
        if (stop) {
            code = stopped(err, stop, "the assessments", a.parcel_id ? a.parcel_id : "?");
            parus__reset(st);
            return code;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err,
                                     "cannot read the assessments of season %s in '%s'", season,
                                     store->path);
        parus__reset(st);
        return code;
    }
    parus__reset(st);
    return PARUS_OK;
}

/*
 * store_outlier.c - the observations an assessment left out as outliers (schema version 12): one
 * row per (season, parcel, tile) with what the rule saw, so that an analyst can see why a value
 * of the parcel's series was not used (include/parus/outlier.h; docs/method.md, section 6a).
 * Written in the results transaction and cleared with the season's other results
 * (store_assess.c), so the rows always describe the run whose limits are stored.
 *
 * A season has a few outliers per hundred parcels: the statements are prepared per call, not
 * cached.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"

#define OUTLIER_COLUMNS                                                                            \
    "season, parcel_id, tile_id, date, ndvi, expected_ndvi, jump, neighbours_residual, "           \
    "n_neighbours, reason, run_id"

static parus_status finish(parus_store *store, parus__stmt *st, int rc, parus_error *err,
                           const char *what, const char *season)
{
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        parus_status code = parus__store_sql_fail(store, rc, err, "cannot %s of season %s in '%s'",
                                                  what, season, store->path);
        parus__finalize(st);
        return code;
    }
    parus__finalize(st);
    return PARUS_OK;
}

parus_status parus__store_outliers_clear(parus_store *store, const char *season, parus_error *err)
{
    parus__stmt *st = NULL;
    int rc = parus__db_prepare(store->db, "DELETE FROM observation_outliers WHERE season = ?1",
                               false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, season, -1);
    return finish(store, st, rc, err, "clear the outliers", season);
}

static bool is_date(const char *s)
{
    return s && strlen(s) == 10 && s[4] == '-' && s[7] == '-';
}

parus_status parus_store_results_put_outlier(parus_store *store, const parus_outlier_row *o,
                                             parus_error *err)
{
    static const char sql[] = "INSERT INTO observation_outliers (" OUTLIER_COLUMNS
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    parus__stmt *st = NULL;
    int rc;

    if (!store || !o)
        return parus_fail(err, PARUS_E_INVALID, "results_put_outlier: missing argument");
    if (!store->open_results || !store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "results_put_outlier: no season's results are open in '%s'", store->path);
    if (!o->parcel_id || !*o->parcel_id || o->tile_id <= 0 || !is_date(o->date) ||
        !isfinite(o->ndvi) || !isfinite(o->expected_ndvi) || !isfinite(o->jump) ||
        !isfinite(o->neighbours_residual) || !o->reason || !*o->reason)
        return parus_fail(err, PARUS_E_INVALID,
                          "an outlier of parcel '%s' for season %s is incomplete (store '%s')",
                          o->parcel_id ? o->parcel_id : "", store->open_assess_season, store->path);
    rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, store->open_assess_season, -1);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 2, o->parcel_id, -1);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 3, o->tile_id);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 4, o->date, 10);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 5, o->ndvi);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 6, o->expected_ndvi);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 7, o->jump);
    if (rc == SQLITE_OK)
        rc = parus__bind_double(st, 8, o->neighbours_residual);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, 9, (int64_t)o->n_neighbours);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 10, o->reason, -1);
    if (rc == SQLITE_OK)
        rc = store->open_results_run > 0 ? parus__bind_int64(st, 11, store->open_results_run)
                                         : parus__bind_null(st, 11);
    return finish(store, st, rc, err, "store an outlier", store->open_assess_season);
}

parus_status parus_store_parcel_outliers(parus_store *store, const char *season,
                                         const char *parcel_id, parus_outlier_row_fn fn, void *ctx,
                                         size_t *n_rows, parus_error *err)
{
    static const char sql[] = "SELECT " OUTLIER_COLUMNS " FROM observation_outliers "
                              "WHERE season = ?1 AND parcel_id = ?2 ORDER BY date, tile_id";
    parus__stmt *st = NULL;
    size_t n = 0;
    int rc;

    parus_error_init(err);
    if (!store || !parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "parcel_outliers: missing argument");
    if (!parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID, "'%s' is not a season window YYYY-MM-DD/YYYY-MM-DD",
                          season ? season : "");
    if (store->version < 12) /* a read-only store of an older schema has none */
        return PARUS_OK;
    rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, season, -1);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 2, parcel_id, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_outlier_row o;
        const unsigned char *date = parus__column_text(st, 3);
        memset(&o, 0, sizeof o);
        o.parcel_id = (const char *)parus__column_text(st, 1);
        o.tile_id = parus__column_int64(st, 2);
        snprintf(o.date, sizeof o.date, "%s", date ? (const char *)date : "");
        o.ndvi = parus__column_double(st, 4);
        o.expected_ndvi = parus__column_double(st, 5);
        o.jump = parus__column_double(st, 6);
        o.neighbours_residual = parus__column_double(st, 7);
        o.n_neighbours = (size_t)parus__column_int64(st, 8);
        o.reason = (const char *)parus__column_text(st, 9);
        n++;
        if (fn(&o, ctx)) {
            parus__finalize(st);
            if (err && err->code == PARUS_OK)
                parus_fail(err, PARUS_E_INTERNAL, "reading the outliers of parcel '%s' stopped",
                           parcel_id);
            return err ? err->code : PARUS_E_INTERNAL;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        parus_status code =
            parus__store_sql_fail(store, rc, err, "cannot read the outliers of parcel '%s' in '%s'",
                                  parcel_id, store->path);
        parus__finalize(st);
        return code;
    }
    parus__finalize(st);
    if (n_rows)
        *n_rows = n;
    return PARUS_OK;
}

/*
 * store_audit.c - what an assessment of a season was computed with (schema version 8): the model
 * version (the SHA-256 of the model file, or of the crop table for the calendar fallback) with the
 * model's training-data hash beside it, and the SHA-256 and the very bytes of the crop table,
 * credit policy and debts file the limits came from. One row per season, written in the results
 * transaction (store_assess.c clears it with the season's other results), so it always describes
 * the run whose limits are stored. `parus verify` re-reads the recorded files to re-derive every
 * limit; `parus query` and the export show the hashes.
 *
 * Written once per assessment and read once per query or verify: the statements are prepared
 * for the call, not cached.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"

#define INPUT_COLUMNS                                                                              \
    "season, run_id, model_version, model_data_hash, crops_hash, crops, policy_hash, policy, "     \
    "debts_hash, debts, assessed_at"

parus_status parus__store_audit_clear(parus_store *store, const char *season, parus_error *err)
{
    parus__stmt *st;
    int rc =
        parus__db_prepare(store->db, "DELETE FROM assessment_inputs WHERE season = ?1", false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, season, -1);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot clear the recorded inputs of season %s in '%s'", season,
            store->path);
        parus__finalize(st);
        return code;
    }
    parus__finalize(st);
    return PARUS_OK;
}

/* A hash: 64 lower-case hex digits. */
static bool is_hash(const char *s)
{
    size_t n;
    if (!s || strlen(s) != 64)
        return false;
    for (n = 0; n < 64; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return true;
}

static int bind_blob(parus__stmt *st, int i, const void *data, size_t n)
{
    if (!data)
        return parus__bind_null(st, i);
    return parus__bind_blob(st, i, n ? data : "", (size_t)n);
}

static int bind_text(parus__stmt *st, int i, const char *s)
{
    return s ? parus__bind_text(st, i, s, -1) : parus__bind_null(st, i);
}

/* ---- the evidence (schema 21) ----
 *
 * What a season's limits rest on in the store beyond the files above: the observations of every
 * tile of its window. The triggers owe the season its assessment when a tile, a parcel or weather
 * changes (store_schema.c), but no trigger watches single observations (a row trigger would cost
 * every ingest its rows twice): a DBA deleting one tile's observations, or re-dating a tile row,
 * left the limits current (round 7, finding 6). So the assessment records, in its transaction, a
 * digest of the evidence as it read it, and `parus verify` computes it again. Per tile of the
 * window, in the order of their content fingerprints: the fingerprint, date and sensor, the
 * number of optical observations and the sums of their integer columns (weights in thousandths
 * of a pixel, pixels, the clear fraction and NDVI mean in ten-thousandths), and of radar
 * observations their number and pixels. Integer sums: the same on both backends and in any row
 * order. An edit inside an observation's other index means (its vals blob) is not seen. */
static const char evidence_sql[] =
    "SELECT t.hash, t.date, t.sensor, count(o.tile_id), coalesce(sum(o.w_total_mpx), 0), "
    "coalesce(sum(o.w_valid_mpx), 0), coalesce(sum(o.n_pixels), 0), "
    "coalesce(sum(o.valid_fraction_e4), 0), coalesce(sum(o.ndvi_mean_e4), 0), "
    "(SELECT count(*) FROM radar_observations r WHERE r.tile_id = t.id), "
    "(SELECT coalesce(sum(r.n_pixels), 0) FROM radar_observations r WHERE r.tile_id = t.id) "
    "FROM tiles t LEFT JOIN observation_values o ON o.tile_id = t.id "
    "WHERE t.date >= ?1 AND t.date <= ?2 GROUP BY t.id, t.hash, t.date, t.sensor "
    "ORDER BY t.hash, t.id";

parus_status parus_store_season_evidence(parus_store *store, const char *season, char hex[65],
                                         size_t *n_tiles, size_t *n_observations, parus_error *err)
{
    parus__stmt *st;
    char first[11], last[11], *text = NULL;
    size_t len = 0, cap = 0, tiles = 0, obs = 0;
    uint64_t fp[4];
    int rc;

    if (!store || !hex || !parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID, "season_evidence: missing store or bad season");
    memcpy(first, season, 10);
    first[10] = '\0';
    memcpy(last, season + 11, 10);
    last[10] = '\0';
    rc = parus__db_prepare(store->db, evidence_sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, first, -1);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 2, last, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        char line[256];
        const char *h = (const char *)parus__column_text(st, 0),
                   *d = (const char *)parus__column_text(st, 1),
                   *s = (const char *)parus__column_text(st, 2);
        int64_t v[8];
        int k, n;
        for (k = 0; k < 8; k++)
            v[k] = parus__column_int64(st, 3 + k);
        n = snprintf(line, sizeof line,
                     "%.64s|%.10s|%.40s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64
                     "|%" PRId64 "|%" PRId64 "|%" PRId64 "\n",
                     h ? h : "", d ? d : "", s ? s : "", v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                     v[7]);
        if (n < 0 || (size_t)n >= sizeof line)
            n = (int)strlen(line);
        if (len + (size_t)n + 1 > cap) {
            char *g = realloc(text, cap = 2 * (len + (size_t)n + 1) + 4096);
            if (!g) {
                free(text);
                parus__finalize(st);
                return parus_fail(err, PARUS_E_NOMEM, "cannot hold the evidence of season %s",
                                  season);
            }
            text = g;
        }
        memcpy(text + len, line, (size_t)n);
        len += (size_t)n;
        tiles++;
        obs += (size_t)(v[0] + v[6]);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot read the evidence of season %s in '%s'", season, store->path);
        parus__finalize(st);
        free(text);
        return code;
    }
    parus__finalize(st);
    parus__fingerprint(text ? text : "", len, fp);
    free(text);
    for (int i = 0; i < 4; i++)
        snprintf(hex + 16 * i, 17, "%016" PRIx64, fp[i]);
    if (n_tiles)
        *n_tiles = tiles;
    if (n_observations)
        *n_observations = obs;
    return PARUS_OK;
}

parus_status parus_store_results_put_inputs(parus_store *store, const parus_assess_inputs *in,
                                            parus_error *err)
{
    static const char sql[] = "INSERT OR REPLACE INTO assessment_inputs (" INPUT_COLUMNS
                              ", evidence_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                              "?10, ?11, ?12)";
    parus__stmt *st;
    char evidence[65];
    int rc;
    parus_status ecode;

    if (!store || !in)
        return parus_fail(err, PARUS_E_INVALID, "results_put_inputs: missing argument");
    if (!store->open_results || !store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "results_put_inputs: no season's results are open in '%s'", store->path);
    if (!in->model_version || !*in->model_version)
        return parus_fail(err, PARUS_E_INVALID,
                          "the inputs of season %s have no model version (store '%s')",
                          store->open_assess_season, store->path);
    if ((in->model_data_hash && !is_hash(in->model_data_hash)) ||
        (in->crops_hash && !is_hash(in->crops_hash)) ||
        (in->debts_hash && !is_hash(in->debts_hash)) ||
        !(in->policy_hash && (is_hash(in->policy_hash) || strcmp(in->policy_hash, "builtin") == 0)))
        return parus_fail(err, PARUS_E_INVALID,
                          "the inputs of season %s: a hash is not 64 hex digits (store '%s')",
                          store->open_assess_season, store->path);
    if ((in->crops && !in->crops_hash) || (in->debts && !in->debts_hash) ||
        (in->policy && !is_hash(in->policy_hash)))
        return parus_fail(err, PARUS_E_INVALID,
                          "the inputs of season %s: a recorded file without its hash (store '%s')",
                          store->open_assess_season, store->path);
    /* in the results transaction: the evidence as this assessment read it */
    ecode =
        parus_store_season_evidence(store, store->open_assess_season, evidence, NULL, NULL, err);
    if (ecode != PARUS_OK)
        return ecode;
    rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 1, store->open_assess_season);
    if (rc == SQLITE_OK)
        rc = store->open_results_run > 0 ? parus__bind_int64(st, 2, store->open_results_run)
                                         : parus__bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, in->model_version);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, in->model_data_hash);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, in->crops_hash);
    if (rc == SQLITE_OK)
        rc = bind_blob(st, 6, in->crops, in->crops_size);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 7, in->policy_hash);
    if (rc == SQLITE_OK)
        rc = bind_blob(st, 8, in->policy, in->policy_size);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 9, in->debts_hash);
    if (rc == SQLITE_OK)
        rc = bind_blob(st, 10, in->debts, in->debts_size);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 11, store->open_assess_at);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 12, evidence);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        parus_status code =
            parus__store_sql_fail(store, rc, err, "cannot store the inputs of season %s in '%s'",
                                  store->open_assess_season, store->path);
        parus__finalize(st);
        return code;
    }
    parus__finalize(st);
    return PARUS_OK;
}

static const void *col_blob(parus__stmt *st, int i, size_t *n)
{
    const void *p;
    *n = 0;
    if (parus__column_type(st, i) == SQLITE_NULL)
        return NULL;
    p = parus__column_blob(st, i);
    *n = (size_t)parus__column_bytes(st, i);
    return p ? p : "";
}

parus_status parus_store_get_assess_inputs(parus_store *store, const char *season,
                                           parus_assess_inputs_fn fn, void *ctx, parus_error *err)
{
    static const char sql[] =
        "SELECT " INPUT_COLUMNS ", evidence_digest FROM assessment_inputs WHERE season = ?1";
    static const char sql_20[] =
        "SELECT " INPUT_COLUMNS ", NULL FROM assessment_inputs WHERE season = ?1";
    parus_assess_inputs in;
    parus__stmt *st;
    int rc, stop;

    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "get_assess_inputs: missing argument");
    if (!parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD' with first <= last "
                          "(store '%s')",
                          season ? season : "", store->path);
    if (store->version < 8)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "'%s' (schema version %d) records no inputs of an assessment: assess "
                          "season %s again with this parus",
                          store->path, store->version, season);
    rc = parus__db_prepare(store->db, store->version >= 21 ? sql : sql_20, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, season, -1);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_DONE) {
        parus__finalize(st);
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "season %s has no recorded inputs in '%s' (not assessed, or assessed "
                          "before schema version 8)",
                          season, store->path);
    }
    if (rc != SQLITE_ROW) {
        parus_status code = parus__store_sql_fail(
            store, rc, err, "cannot read the inputs of season %s in '%s'", season, store->path);
        parus__finalize(st);
        return code;
    }
    memset(&in, 0, sizeof in);
    in.season = (const char *)parus__column_text(st, 0);
    in.run_id = parus__column_int64(st, 1);
    in.model_version = (const char *)parus__column_text(st, 2);
    in.model_data_hash = (const char *)parus__column_text(st, 3);
    in.crops_hash = (const char *)parus__column_text(st, 4);
    in.crops = col_blob(st, 5, &in.crops_size);
    in.policy_hash = (const char *)parus__column_text(st, 6);
    in.policy = col_blob(st, 7, &in.policy_size);
    in.debts_hash = (const char *)parus__column_text(st, 8);
    in.debts = col_blob(st, 9, &in.debts_size);
    in.assessed_at = (const char *)parus__column_text(st, 10);
    in.evidence_digest = (const char *)parus__column_text(st, 11);
    if (err)
        parus_error_init(err);
    stop = fn(&in, ctx);
    parus__finalize(st);
    if (stop) {
        if (err && err->code != PARUS_OK)
            return err->code;
        return parus_fail(err, PARUS_E_INTERNAL, "the read of season %s's inputs was stopped",
                          season);
    }
    return PARUS_OK;
}

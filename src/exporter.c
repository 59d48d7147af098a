/*
 * exporter.c - the two CSV exports of a season (parus/exporter.h; docs/export.md is the schema):
 * the credit desk's one row per farmer, from the limits table, and the analyst's one row per
 * parcel, from parcel_results with each parcel's farmer's limit.
 *
 * Both stream: a record is formatted and handed to the writer as the store's walk yields it, so
 * memory does not grow with the season (the limits index of the per-parcel export, a farmer id
 * and a number per farmer, is the exception). Column order and names live in one table per
 * export; the per-parcel table is shared with the GeoPackage writer (export_gpkg.c).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "parus/exporter.h"
#include "parus/parcels.h"
#include "parus/verify.h"

#include "exporter_int.h"
#include "util_int.h"

/* ---- the credit desk's CSV ---- */

enum farmer_col {
    F_FARMER_ID,
    F_SEASON,
    F_LIMIT_CNY,
    F_CURRENCY,
    F_N_PARCELS,
    F_N_PARCELS_VALUED,
    F_PLANTED_AREA_MU,
    F_DECLARED_AREA_MU,
    F_MAIN_CROP,
    F_VALUE_EXPECTED,
    F_VALUE_CONSERVATIVE,
    F_DEBT,
    F_HEALTH,
    F_FLAGS,
    F_REASONS,
    F_CONFIDENCE,
    F_REPAYMENT_DATE,
    F_LATEST_DATE,
    F_MODEL_VERSION,
    F_POLICY_VERSION,
    F_RUN_ID,
    F_ASSESSED_AT,
    F_PARTS,
    F_MODEL_DATA_HASH,
    F_CROPS_VERSION,
    F_DEBTS_VERSION,
    F_OVERLAP_HELD,
    F_SENSORS,
    F_N_
};

static const char *const farmer_names[F_N_] = {
    [F_FARMER_ID] = "farmer_id",
    [F_SEASON] = "season",
    [F_LIMIT_CNY] = "limit_cny",
    [F_CURRENCY] = "currency",
    [F_N_PARCELS] = "n_parcels",
    [F_N_PARCELS_VALUED] = "n_parcels_valued",
    [F_PLANTED_AREA_MU] = "planted_area_mu",
    [F_DECLARED_AREA_MU] = "declared_area_mu",
    [F_MAIN_CROP] = "main_crop",
    [F_VALUE_EXPECTED] = "value_expected_cny",
    [F_VALUE_CONSERVATIVE] = "value_conservative_cny",
    [F_DEBT] = "debt_cny",
    [F_HEALTH] = "health",
    [F_FLAGS] = "flags",
    [F_REASONS] = "reasons",
    [F_CONFIDENCE] = "confidence",
    [F_REPAYMENT_DATE] = "repayment_date",
    [F_LATEST_DATE] = "latest_imagery_date",
    [F_MODEL_VERSION] = "model_version",
    [F_POLICY_VERSION] = "policy_version",
    [F_RUN_ID] = "run_id",
    [F_ASSESSED_AT] = "assessed_at",
    [F_PARTS] = "limit_parts",
    [F_MODEL_DATA_HASH] = "model_data_hash",
    [F_CROPS_VERSION] = "crops_version",
    [F_DEBTS_VERSION] = "debts_version",
    [F_OVERLAP_HELD] = "overlap_held_cny",
    [F_SENSORS] = "sensors",
};

const char *const *parus_export_farmer_columns(size_t *n_columns)
{
    if (n_columns)
        *n_columns = F_N_;
    return farmer_names;
}

/* What every CSV export needs before it reads anything. */
static parus_status check_args(const parus_store *store, const char *season, const parus_csvout *w,
                               parus_error *err)
{
    if (!store || !season || !w)
        return parus_fail(err, PARUS_E_INVALID, "export: missing store, season or writer");
    if (!parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD'", season);
    return PARUS_OK;
}

static parus_status put_header(parus_csvout *w, const char *const *names, size_t n,
                               parus_error *err)
{
    size_t i;
    parus_status st = PARUS_OK;
    for (i = 0; i < n && st == PARUS_OK; i++)
        st = parus_csvout_put_text(w, names[i], err);
    return st == PARUS_OK ? parus_csvout_end_row(w, err) : st;
}

/* The season's recorded inputs (the same for every farmer): the hashes the CSV repeats. */
struct season_audit {
    char model_data_hash[65], crops_hash[65], debts_hash[65];
};

static int take_audit(const parus_assess_inputs *in, void *ctx)
{
    struct season_audit *a = ctx;
    snprintf(a->model_data_hash, sizeof a->model_data_hash, "%s",
             in->model_data_hash ? in->model_data_hash : "");
    snprintf(a->crops_hash, sizeof a->crops_hash, "%s", in->crops_hash ? in->crops_hash : "");
    snprintf(a->debts_hash, sizeof a->debts_hash, "%s", in->debts_hash ? in->debts_hash : "");
    return 0;
}

struct farmer_walk {
    parus_csvout *w;
    struct season_audit audit;
    const char *season;
    size_t n;
    parus_error *err;
};

static parus_status put_farmer_cell(parus_csvout *w, const parus_limit *l,
                                    const struct season_audit *au, const char *season, int col,
                                    parus_error *err)
{
    switch ((enum farmer_col)col) {
    case F_FARMER_ID:
        return parus_csvout_put_text(w, l->farmer_id, err);
    case F_SEASON:
        return parus_csvout_put_text(w, l->season ? l->season : season, err);
    case F_LIMIT_CNY:
        return parus_csvout_put_int(w, l->limit_cny, err);
    case F_CURRENCY:
        return parus_csvout_put_text(w, l->currency, err);
    case F_N_PARCELS:
        return parus_csvout_put_int(w, (int64_t)l->n_parcels, err);
    case F_N_PARCELS_VALUED:
        return parus_csvout_put_int(w, (int64_t)l->n_parcels_valued, err);
    case F_PLANTED_AREA_MU:
        return parus_csvout_put_fixed(w, l->planted_area_m2 / PARUS_M2_PER_MU, 2, err);
    case F_DECLARED_AREA_MU:
        return parus_csvout_put_fixed(w, l->declared_area_m2 / PARUS_M2_PER_MU, 2, err);
    case F_MAIN_CROP:
        return parus_csvout_put_text(w, l->main_crop, err);
    case F_VALUE_EXPECTED:
        return parus_csvout_put_fen(w, l->value_expected_fen, err);
    case F_VALUE_CONSERVATIVE:
        return parus_csvout_put_fen(w, l->value_p10_fen, err);
    case F_DEBT:
        return parus_csvout_put_fen(w, l->debt_fen, err);
    case F_HEALTH:
        return parus_csvout_put_text(w, l->health, err);
    case F_FLAGS:
        return parus_csvout_put_text(w, l->flags, err);
    case F_REASONS:
        return parus_csvout_put_text(w, l->reasons, err);
    case F_CONFIDENCE:
        return parus_csvout_put_text(w, l->confidence, err);
    case F_REPAYMENT_DATE:
        return parus_csvout_put_text(w, l->repayment_date, err);
    case F_LATEST_DATE:
        return parus_csvout_put_text(w, l->latest_date, err);
    case F_MODEL_VERSION:
        return parus_csvout_put_text(w, l->model_version, err);
    case F_POLICY_VERSION:
        return parus_csvout_put_text(w, l->policy_hash, err);
    case F_RUN_ID:
        return l->run_id > 0 ? parus_csvout_put_int(w, l->run_id, err)
                             : parus_csvout_put_empty(w, err);
    case F_ASSESSED_AT:
        return parus_csvout_put_text(w, l->assessed_at, err);
    case F_PARTS:
        return parus_csvout_put_text(w, l->parts, err);
    case F_MODEL_DATA_HASH:
        return parus_csvout_put_text(w, au->model_data_hash, err);
    case F_CROPS_VERSION:
        return parus_csvout_put_text(w, au->crops_hash, err);
    case F_DEBTS_VERSION:
        return parus_csvout_put_text(w, au->debts_hash, err);
    case F_OVERLAP_HELD: {
        /* the stored part, as the assessment wrote it; empty for a limit from before overlaps
         * were counted */
        const char *at = l->parts ? strstr(l->parts, "haircut_overlap_fen=") : NULL;
        char *end;
        long long fen;
        if (!at)
            return parus_csvout_put_empty(w, err);
        errno = 0;
        fen = strtoll(at + strlen("haircut_overlap_fen="), &end, 10);
        if (errno || (*end && *end != ';') || fen < 0)
            return parus_fail(err, PARUS_E_STORE, "farmer '%s': bad limit part '%.40s'",
                              l->farmer_id, at);
        return parus_csvout_put_fen(w, (int64_t)fen, err);
    }
    case F_SENSORS:
        return parus_csvout_put_text(w, l->sensors, err);
    case F_N_:
        break;
    }
    return parus_fail(err, PARUS_E_INTERNAL, "farmer column %d out of range", col);
}

static int farmer_row(const parus_limit *l, void *arg)
{
    struct farmer_walk *fw = arg;
    parus_status st = PARUS_OK;
    int col;
    for (col = 0; col < F_N_ && st == PARUS_OK; col++)
        st = put_farmer_cell(fw->w, l, &fw->audit, fw->season, col, fw->err);
    if (st == PARUS_OK)
        st = parus_csvout_end_row(fw->w, fw->err);
    if (st != PARUS_OK) {
        parus_error_prefix(fw->err, "farmer '%s', column %s", l->farmer_id,
                           col > 0 ? farmer_names[col - 1] : farmer_names[0]);
        return 1;
    }
    fw->n++;
    return 0;
}

parus_status parus_export_farmers_csv(parus_store *store, const char *season, parus_csvout *w,
                                      size_t *n_rows, parus_error *err)
{
    struct farmer_walk fw;
    parus_status st;

    if ((st = check_args(store, season, w, err)) != PARUS_OK)
        return st;
    memset(&fw.audit, 0, sizeof fw.audit);
    st = parus_store_get_assess_inputs(store, season, take_audit, &fw.audit, err);
    if (st != PARUS_OK && st != PARUS_E_NOT_FOUND) /* none recorded: empty cells */
        return st;
    st = put_header(w, farmer_names, F_N_, err);
    if (st != PARUS_OK)
        return st;
    fw.w = w;
    fw.season = season;
    fw.n = 0;
    fw.err = err;
    st = parus_store_limits_foreach(store, season, farmer_row, &fw, err);
    if (st != PARUS_OK)
        return st;
    if (fw.n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "no farmer's limit for season %s in the store: run 'parus assess "
                          "--season %s' first",
                          season, season);
    if (n_rows)
        *n_rows = fw.n;
    return PARUS_OK;
}

/* ---- the season's limits by farmer ---- */

struct limit_walk {
    parus__limit_index *idx;
    size_t cap;
    parus_error *err;
};

static int limit_add(const parus_limit *l, void *arg)
{
    struct limit_walk *lw = arg;
    parus__limit_index *idx = lw->idx;
    if (idx->n == lw->cap) {
        size_t cap = lw->cap ? lw->cap * 2 : 256;
        char **f = realloc(idx->farmer_id, cap * sizeof *f);
        int64_t *v;
        if (!f)
            goto nomem;
        idx->farmer_id = f;
        if (!(v = realloc(idx->limit_cny, cap * sizeof *v)))
            goto nomem;
        idx->limit_cny = v;
        lw->cap = cap;
    }
    if (!(idx->farmer_id[idx->n] = parus__strdup(l->farmer_id)))
        goto nomem;
    idx->limit_cny[idx->n++] = l->limit_cny;
    return 0;
nomem:
    parus_fail(lw->err, PARUS_E_NOMEM, "out of memory reading the season's limits");
    return 1;
}

void parus__limit_index_release(parus__limit_index *idx)
{
    size_t i;
    if (!idx)
        return;
    for (i = 0; i < idx->n; i++)
        free(idx->farmer_id[i]);
    free(idx->farmer_id);
    free(idx->limit_cny);
    memset(idx, 0, sizeof *idx);
}

parus_status parus__limit_index_load(parus_store *store, const char *season,
                                     parus__limit_index *idx, parus_error *err)
{
    struct limit_walk lw;
    parus__limit_index tmp;
    parus_status st;

    memset(&tmp, 0, sizeof tmp);
    lw.idx = &tmp;
    lw.cap = 0;
    lw.err = err;
    st = parus_store_limits_foreach(store, season, limit_add, &lw, err);
    if (st != PARUS_OK) {
        parus__limit_index_release(&tmp);
        return st;
    }
    *idx = tmp;
    return PARUS_OK;
}

static bool limit_find(const parus__limit_index *idx, const char *farmer_id, int64_t *limit_cny)
{
    size_t lo = 0, hi = idx ? idx->n : 0;
    if (!farmer_id)
        return false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(idx->farmer_id[mid], farmer_id);
        if (c == 0) {
            *limit_cny = idx->limit_cny[mid];
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- the per-parcel columns ---- */

/* X(ENUM, csv name, gpkg name, type, decimals): the order is the schema's. */
#define PARCEL_COLUMNS(X)                                                                          \
    X(P_PARCEL_ID, "parcel_id", "parcel_id", TEXT, 0)                                              \
    X(P_FARMER_ID, "farmer_id", "farmer_id", TEXT, 0)                                              \
    X(P_SEASON, "season", "season", TEXT, 0)                                                       \
    X(P_CROP, "crop", "crop", TEXT, 0)                                                             \
    X(P_CROP_METHOD, "crop_method", "crop_method", TEXT, 0)                                        \
    X(P_CROP_CONFIDENCE, "crop_confidence", "crop_confidence", TEXT, 0)                            \
    X(P_CROP_PROBABILITY, "crop_probability", "crop_probability", FIXED, 4)                        \
    X(P_N_CLEAR_OBS, "n_clear_obs", "n_clear_obs", INT, 0)                                         \
    X(P_FIRST_DATE, "first_clear_date", "first_clear_date", DATE, 0)                               \
    X(P_LAST_DATE, "last_clear_date", "last_clear_date", DATE, 0)                                  \
    X(P_SENSORS, "sensors", "sensors", TEXT, 0)                                                    \
    X(P_AREA_M2, "area_m2", "area_m2", FIXED, 1)                                                   \
    X(P_AREA_MU, "area_mu", "area_mu", FIXED, 3)                                                   \
    X(P_DECLARED_AREA_MU, "declared_area_mu", "declared_area_mu", FIXED, 3)                        \
    X(P_PLANTED_FRACTION, "planted_fraction", "planted_fraction", FIXED, 3)                        \
    X(P_PLANTED_AREA_MU, "planted_area_mu", "planted_area_mu", FIXED, 3)                           \
    X(P_AREA_CHECK, "area_check", "area_check", TEXT, 0)                                           \
    X(P_HEALTH_CLASS, "health_class", "health_class", TEXT, 0)                                     \
    X(P_HEALTH_SCORE, "health_score", "health_score", FIXED, 3)                                    \
    X(P_HEALTH_REFERENCE, "health_reference", "health_reference", TEXT, 0)                         \
    X(P_PEER_GROUP, "peer_group", "peer_group", TEXT, 0)                                           \
    X(P_N_PEERS, "n_peers", "n_peers", INT, 0)                                                     \
    X(P_GREEN_RATIO, "green_ratio", "green_ratio", FIXED, 3)                                       \
    X(P_FLAGS, "flags", "flags", TEXT, 0)                                                          \
    X(P_NDVI_PEAK, "ndvi_peak", "ndvi_peak", FIXED, 4)                                             \
    X(P_NDVI_INTEGRAL, "ndvi_integral_10d", "ndvi_integral_10d", FIXED, 4)                         \
    X(P_YIELD_EXPECTED, "yield_expected_kg_per_mu", "yield_expected_kg_per_mu", FIXED, 1)          \
    X(P_YIELD_P10, "yield_p10_kg_per_mu", "yield_p10_kg_per_mu", FIXED, 1)                         \
    X(P_PRICE, "price_cny_per_kg", "price_cny_per_kg", FIXED, 4)                                   \
    X(P_VALUE_EXPECTED, "value_expected_cny", "value_expected_fen", FEN, 2)                        \
    X(P_VALUE_CONSERVATIVE, "value_conservative_cny", "value_conservative_fen", FEN, 2)            \
    X(P_CREDIT_COUNTED, "credit_counted", "credit_counted", INT, 0)                                \
    X(P_CREDIT_VALUE, "credit_value_cny", "credit_value_fen", FEN, 2)                              \
    X(P_CREDIT_REASONS, "credit_reasons", "credit_reasons", TEXT, 0)                               \
    X(P_REASON, "no_value_reason", "no_value_reason", TEXT, 0)                                     \
    X(P_FARMER_LIMIT, "farmer_limit_cny", "farmer_limit_cny", INT, 0)                              \
    X(P_RUN_ID, "run_id", "run_id", INT, 0)                                                        \
    X(P_ASSESSED_AT, "assessed_at", "assessed_at", TEXT, 0)                                        \
    X(P_WEATHER_RAIN, "weather_rain_mm", "weather_rain_mm", FIXED, 1)                              \
    X(P_WEATHER_NORMAL, "weather_rain_normal_mm", "weather_rain_normal_mm", FIXED, 1)              \
    X(P_WEATHER_DEFICIT, "weather_rain_deficit", "weather_rain_deficit", FIXED, 3)                 \
    X(P_WEATHER_HEAT, "weather_heat_days", "weather_heat_days", FIXED, 0)

enum parcel_col {
#define PARCEL_ENUM_(e, name, gpkg, type, dec) e,
    PARCEL_COLUMNS(PARCEL_ENUM_)
#undef PARCEL_ENUM_
        P_N_
};

static const parus__col parcel_cols[P_N_] = {
#define PARCEL_COL_(e, name, gpkg, type, dec) [e] = {name, gpkg, PARUS__COL_##type, dec},
    PARCEL_COLUMNS(PARCEL_COL_)
#undef PARCEL_COL_
};

static const char *const parcel_names[P_N_] = {
#define PARCEL_NAME_(e, name, gpkg, type, dec) [e] = name,
    PARCEL_COLUMNS(PARCEL_NAME_)
#undef PARCEL_NAME_
};

const parus__col *parus__parcel_cols(size_t *n)
{
    *n = P_N_;
    return parcel_cols;
}

const char *const *parus_export_parcel_columns(size_t *n_columns)
{
    if (n_columns)
        *n_columns = P_N_;
    return parcel_names;
}

static void text_cell(parus__cell *c, const char *s)
{
    c->null = !s || !*s;
    c->text = s;
}

static void fixed_cell(parus__cell *c, double x)
{
    c->null = !isfinite(x);
    c->x = x;
}

static void int_cell(parus__cell *c, int64_t i)
{
    c->null = false;
    c->i = i;
}

void parus__parcel_cell(const parus_parcel_result *r, const parus__limit_index *idx, size_t col,
                        parus__cell *c)
{
    int64_t limit_cny;
    memset(c, 0, sizeof *c);
    switch ((enum parcel_col)col) {
    case P_PARCEL_ID:
        text_cell(c, r->parcel_id);
        break;
    case P_FARMER_ID:
        text_cell(c, r->farmer_id);
        break;
    case P_SEASON:
        text_cell(c, r->season);
        break;
    case P_CROP:
        text_cell(c, r->crop);
        break;
    case P_CROP_METHOD:
        text_cell(c, parus_assess_method_name(r->crop_method));
        break;
    case P_CROP_CONFIDENCE:
        text_cell(c, parus_assess_confidence_name(r->crop_confidence));
        break;
    case P_CROP_PROBABILITY:
        fixed_cell(c, r->crop_probability);
        break;
    case P_N_CLEAR_OBS:
        int_cell(c, (int64_t)r->n_clear_obs);
        break;
    case P_FIRST_DATE:
        text_cell(c, r->first_date);
        break;
    case P_LAST_DATE:
        text_cell(c, r->last_date);
        break;
    case P_SENSORS:
        text_cell(c, r->sensors);
        break;
    case P_AREA_M2:
        fixed_cell(c, r->area_m2);
        break;
    case P_AREA_MU:
        fixed_cell(c, r->area_m2 / PARUS_M2_PER_MU);
        break;
    case P_DECLARED_AREA_MU:
        fixed_cell(c, r->declared_area_m2 / PARUS_M2_PER_MU);
        break;
    case P_PLANTED_FRACTION:
        fixed_cell(c, r->planted_fraction);
        break;
    case P_PLANTED_AREA_MU:
        fixed_cell(c, r->planted_area_m2 / PARUS_M2_PER_MU);
        break;
    case P_AREA_CHECK:
        text_cell(c, r->area_check);
        break;
    case P_HEALTH_CLASS:
        text_cell(c, r->health_class ? r->health_class : "unknown");
        break;
    case P_HEALTH_SCORE:
        fixed_cell(c, r->health_score);
        break;
    case P_HEALTH_REFERENCE:
        text_cell(c, r->health_reference ? r->health_reference : "none");
        break;
    case P_PEER_GROUP:
        text_cell(c, r->peer_group);
        break;
    case P_N_PEERS:
        int_cell(c, (int64_t)r->n_peers);
        break;
    case P_GREEN_RATIO:
        fixed_cell(c, r->green_ratio);
        break;
    case P_FLAGS:
        text_cell(c, r->flags);
        break;
    case P_NDVI_PEAK:
        fixed_cell(c, r->ndvi_peak);
        break;
    case P_NDVI_INTEGRAL:
        fixed_cell(c, r->ndvi_integral_10d);
        break;
    case P_YIELD_EXPECTED:
        fixed_cell(c, r->yield_expected_kg_per_mu);
        break;
    case P_YIELD_P10:
        fixed_cell(c, r->yield_p10_kg_per_mu);
        break;
    case P_PRICE:
        fixed_cell(c, r->price_cny_per_kg);
        break;
    case P_VALUE_EXPECTED:
        int_cell(c, r->value_expected_fen);
        c->null = !r->valued;
        break;
    case P_VALUE_CONSERVATIVE:
        int_cell(c, r->value_p10_fen);
        c->null = !r->valued;
        break;
    case P_CREDIT_COUNTED:
        int_cell(c, r->credit_counted);
        c->null = r->credit_counted < 0;
        break;
    case P_CREDIT_VALUE:
        int_cell(c, r->credit_value_fen);
        c->null = r->credit_value_fen < 0;
        break;
    case P_CREDIT_REASONS:
        text_cell(c, r->credit_reasons);
        break;
    case P_REASON:
        text_cell(c, r->reason);
        break;
    case P_FARMER_LIMIT:
        c->null = !limit_find(idx, r->farmer_id, &limit_cny);
        c->i = c->null ? 0 : limit_cny;
        break;
    case P_RUN_ID:
        int_cell(c, r->run_id);
        c->null = r->run_id <= 0;
        break;
    case P_ASSESSED_AT:
        text_cell(c, r->assessed_at);
        break;
    case P_WEATHER_RAIN:
        fixed_cell(c, r->weather_rain_mm);
        break;
    case P_WEATHER_NORMAL:
        fixed_cell(c, r->weather_rain_normal_mm);
        break;
    case P_WEATHER_DEFICIT:
        fixed_cell(c, r->weather_rain_deficit);
        break;
    case P_WEATHER_HEAT:
        fixed_cell(c, r->weather_heat_days);
        break;
    case P_N_:
        c->null = true;
        break;
    }
}

/* ---- the per-parcel CSV ---- */

struct parcel_walk {
    parus_csvout *w;
    const parus__limit_index *idx;
    size_t n;
    parus_error *err;
};

static int parcel_row(const parus_parcel_result *r, void *arg)
{
    struct parcel_walk *pw = arg;
    parus_status st = PARUS_OK;
    size_t col;
    for (col = 0; col < P_N_ && st == PARUS_OK; col++) {
        parus__cell c;
        parus__parcel_cell(r, pw->idx, col, &c);
        if (c.null) {
            st = parus_csvout_put_empty(pw->w, pw->err);
            continue;
        }
        switch (parcel_cols[col].type) {
        case PARUS__COL_TEXT:
        case PARUS__COL_DATE:
            st = parus_csvout_put_text(pw->w, c.text, pw->err);
            break;
        case PARUS__COL_INT:
            st = parus_csvout_put_int(pw->w, c.i, pw->err);
            break;
        case PARUS__COL_FEN:
            st = parus_csvout_put_fen(pw->w, c.i, pw->err);
            break;
        case PARUS__COL_FIXED:
            st = parus_csvout_put_fixed(pw->w, c.x, parcel_cols[col].decimals, pw->err);
            break;
        }
    }
    if (st == PARUS_OK)
        st = parus_csvout_end_row(pw->w, pw->err);
    if (st != PARUS_OK) {
        parus_error_prefix(pw->err, "parcel '%s', column %s", r->parcel_id,
                           parcel_cols[col > 0 ? col - 1 : 0].name);
        return 1;
    }
    pw->n++;
    return 0;
}

parus_status parus_export_parcels_csv(parus_store *store, const char *season, parus_csvout *w,
                                      size_t *n_rows, parus_error *err)
{
    parus__limit_index idx;
    struct parcel_walk pw;
    const char *const *names;
    size_t n_names;
    parus_status st;

    if ((st = check_args(store, season, w, err)) != PARUS_OK)
        return st;
    names = parus_export_parcel_columns(&n_names);
    st = put_header(w, names, n_names, err);
    if (st != PARUS_OK)
        return st;
    st = parus__limit_index_load(store, season, &idx, err);
    if (st != PARUS_OK)
        return st;
    pw.w = w;
    pw.idx = &idx;
    pw.n = 0;
    pw.err = err;
    st = parus_store_results_foreach(store, season, parcel_row, &pw, err);
    parus__limit_index_release(&idx);
    if (st != PARUS_OK)
        return st;
    if (pw.n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "no parcel result for season %s in the store: run 'parus assess "
                          "--season %s' first",
                          season, season);
    if (n_rows)
        *n_rows = pw.n;
    return PARUS_OK;
}

/* ---- does the season have results ---- */

static int stop_at_first(const parus_parcel_result *r, void *arg)
{
    (void)r;
    *(bool *)arg = true;
    return 1;
}

parus_status parus__season_has_results(parus_store *store, const char *season, bool *any,
                                       parus_error *err)
{
    bool found = false;
    parus_error e;
    parus_status st = parus_store_results_foreach(store, season, stop_at_first, &found, &e);
    if (found) {
        *any = true;
        return PARUS_OK;
    }
    if (st != PARUS_OK) {
        if (err)
            *err = e;
        return st;
    }
    *any = false;
    return PARUS_OK;
}

/* ---- the observations of a season's window ---- */

struct obs_walk {
    parus_csvout *w;
    size_t n;
    parus_error *err;
};

/* A statistic: to its decimals (the store keeps 1e-4), or in full for a value the fixed form cannot
 * hold (one the store keeps exactly: beyond +-10^14, an infinity). */
static parus_status put_stat(parus_csvout *w, double v, int decimals, parus_error *err)
{
    if (isnan(v) || fabs(v) < 1e14)
        return parus_csvout_put_fixed(w, v, decimals, err);
    return parus_csvout_put_real(w, v, err);
}

static int obs_rows(const parus_parcel_brief *p, const parus_series_point *pts, size_t n_pts,
                    void *ctx)
{
    struct obs_walk *ow = ctx;
    size_t i, k, n_stats = parus_observation_n_stats();
    parus_status st = PARUS_OK;

    for (i = 0; i < n_pts && st == PARUS_OK; i++) {
        const parus_series_point *pt = &pts[i];
        st = parus_csvout_put_text(ow->w, p->id, ow->err);
        if (st == PARUS_OK)
            st = p->farmer_id ? parus_csvout_put_text(ow->w, p->farmer_id, ow->err)
                              : parus_csvout_put_empty(ow->w, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_put_text(ow->w, pt->date, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_put_int(ow->w, pt->tile_id, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_put_text(ow->w, pt->sensor, ow->err);
        if (st == PARUS_OK)
            st = put_stat(ow->w, pt->obs.w_total_px, 3, ow->err);
        if (st == PARUS_OK)
            st = put_stat(ow->w, pt->obs.w_valid_px, 3, ow->err);
        for (k = 0; k < n_stats && st == PARUS_OK; k++)
            st = put_stat(ow->w, parus_observation_stat(&pt->obs, k), 4, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_put_int(ow->w, (int64_t)pt->obs.n_pixels, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_put_int(ow->w, (int64_t)pt->obs.n_pure, ow->err);
        if (st == PARUS_OK)
            st = parus_csvout_end_row(ow->w, ow->err);
        if (st == PARUS_OK)
            ow->n++;
    }
    return st != PARUS_OK;
}

/* room for the header's cells: the seven before the statistics, the statistics, the two counts */
#define N_OBS_HEADER 96

parus_status parus_export_observations_csv(parus_store *store, const char *season, parus_csvout *w,
                                           size_t *n_rows, parus_error *err)
{
    static const char *const head[] = {"parcel_id", "farmer_id",  "date",      "tile_id",
                                       "sensor",    "w_total_px", "w_valid_px"};
    const char *names[N_OBS_HEADER];
    struct obs_walk ow;
    size_t k, n_names;
    parus_status st;

    if ((st = check_args(store, season, w, err)) != PARUS_OK)
        return st;
    if (sizeof head / sizeof head[0] + parus_observation_n_stats() + 2 > N_OBS_HEADER)
        return parus_fail(err, PARUS_E_INTERNAL, "export: more statistics than header room");
    n_names = 0;
    for (k = 0; k < sizeof head / sizeof head[0]; k++)
        names[n_names++] = head[k];
    for (k = 0; k < parus_observation_n_stats(); k++)
        names[n_names++] = parus_observation_stat_name(k);
    names[n_names++] = "n_pixels";
    names[n_names++] = "n_pure";
    st = put_header(w, names, n_names, err);
    if (st != PARUS_OK)
        return st;
    ow.w = w;
    ow.n = 0;
    ow.err = err;
    st = parus_store_season_walk(store, season, obs_rows, &ow, NULL, err);
    if (st != PARUS_OK)
        return st;
    if (ow.n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND, "no optical observation in season %s", season);
    if (n_rows)
        *n_rows = ow.n;
    return PARUS_OK;
}

/* ---- an output that would replace an input ---- */

struct recorded_inputs {
    char crops[65], policy[65], debts[65], model[80];
};

static int take_inputs(const parus_assess_inputs *in, void *ctx)
{
    struct recorded_inputs *r = ctx;
    snprintf(r->crops, sizeof r->crops, "%s", in->crops_hash ? in->crops_hash : "");
    snprintf(r->policy, sizeof r->policy, "%s", in->policy_hash ? in->policy_hash : "");
    snprintf(r->debts, sizeof r->debts, "%s", in->debts_hash ? in->debts_hash : "");
    snprintf(r->model, sizeof r->model, "%s", in->model_version ? in->model_version : "");
    return 0;
}

/* The inputs recorded with the season's limits; *found false when it records none. */
static parus_status read_recorded(parus_store *store, const char *season,
                                  struct recorded_inputs *rec, bool *found, parus_error *err)
{
    parus_status code;
    memset(rec, 0, sizeof *rec);
    *found = false;
    code = parus_store_get_assess_inputs(store, season, take_inputs, rec, err);
    if (code == PARUS_E_NOT_FOUND)
        return PARUS_OK;
    *found = code == PARUS_OK;
    return code;
}

parus_status parus_export_output_is_input(parus_store *store, const char *season, const char *path,
                                          const char **what, parus_error *err)
{
    struct recorded_inputs rec;
    struct stat sb;
    char hex[65], *bytes = NULL;
    size_t n = 0;
    parus_error ignored;
    parus_status code;
    bool found;
    if (!store || !season || !path || !what)
        return parus_fail(err, PARUS_E_INVALID, "output_is_input: missing argument");
    *what = NULL;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uintmax_t)sb.st_size > (uintmax_t)256 << 20)
        return PARUS_OK;
    code = read_recorded(store, season, &rec, &found, err);
    if (code != PARUS_OK || !found)
        return code;
    if (parus__read_file(path, (size_t)256 << 20, &bytes, &n, &ignored) != PARUS_OK)
        return PARUS_OK; /* unreadable: the write will say why */
    parus__sha256(bytes, n, hex);
    free(bytes);
    if (strcmp(hex, rec.crops) == 0)
        *what = "crop table";
    else if (strcmp(hex, rec.policy) == 0)
        *what = "policy";
    else if (strcmp(hex, rec.debts) == 0)
        *what = "debts file";
    else if (strncmp(rec.model, "xgb:", 4) == 0 && strcmp(hex, rec.model + 4) == 0)
        *what = "model";
    return PARUS_OK;
}

static int take_evidence(const parus_assess_inputs *in, void *ctx)
{
    snprintf(ctx, 65, "%s", in->evidence_digest ? in->evidence_digest : "");
    return 0;
}

parus_status parus_export_evidence_differs(parus_store *store, const char *season, bool *differs,
                                           parus_error *err)
{
    char recorded[65] = "", now[65];
    parus_status code;
    if (!store || !season || !differs)
        return parus_fail(err, PARUS_E_INVALID, "evidence_differs: missing argument");
    *differs = false;
    code = parus_store_get_assess_inputs(store, season, take_evidence, recorded, err);
    if (code == PARUS_E_NOT_FOUND)
        return PARUS_OK;
    if (code != PARUS_OK || !recorded[0])
        return code;
    code = parus_store_season_evidence(store, season, now, NULL, NULL, err);
    if (code == PARUS_OK)
        *differs = strcmp(recorded, now) != 0;
    return code;
}

/* One named input against its recorded SHA-256 (rec: "" none recorded; model: "xgb:" first). */
static void input_differs(const char *path, const char *what, const char *rec, bool model,
                          char *out, size_t cap)
{
    char hex[65];
    size_t len = strlen(out);
    parus_error ignored;
    bool differs;
    if (!path || !*path || !rec[0])
        return;
    if (parus_file_sha256(path, hex, &ignored) != PARUS_OK)
        snprintf(hex, sizeof hex, "unreadable"); /* differs: nothing vouches for the file */
    differs =
        model ? strncmp(rec, "xgb:", 4) != 0 || strcmp(hex, rec + 4) != 0 : strcmp(hex, rec) != 0;
    if (differs && len < cap)
        snprintf(out + len, cap - len, "%s%s '%s'", len ? ", " : "", what, path);
}

parus_status parus_export_inputs_differ(parus_store *store, const char *season,
                                        const char *crops_path, const char *policy_path,
                                        const char *debts_path, const char *model_path, char *what,
                                        size_t cap, parus_error *err)
{
    struct recorded_inputs rec;
    parus_status code;
    bool found;
    if (!store || !season || !what || cap == 0)
        return parus_fail(err, PARUS_E_INVALID, "inputs_differ: missing argument");
    what[0] = '\0';
    code = read_recorded(store, season, &rec, &found, err);
    if (code != PARUS_OK || !found)
        return code;
    input_differs(crops_path, "crop table", rec.crops, false, what, cap);
    input_differs(policy_path, "policy", rec.policy, false, what, cap);
    input_differs(model_path, "model", rec.model, true, what, cap);
    if (debts_path && *debts_path && !rec.debts[0]) {
        /* assessed without debts: every debt the file names was left out of the limits */
        size_t len = strlen(what);
        if (len < cap)
            snprintf(what + len, cap - len, "%sdebts file '%s' (assessed without one)",
                     len ? ", " : "", debts_path);
    } else {
        input_differs(debts_path, "debts file", rec.debts, false, what, cap);
    }
    return PARUS_OK;
}

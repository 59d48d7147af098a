/*
 * calibrate.c - yields calibrated on harvests (contract in parus/calibrate.h, method in
 * docs/method.md "Calibration on harvests").
 *
 * The workload is small: a bank's harvest records for a season, thousands of rows per crop at
 * most. Everything is held in memory and fitted exactly (at most 5 x 5 normal equations); the
 * place groups are dealt round to the folds in the order of a hash of each group, so the result
 * depends neither on the samples' order nor on the thread count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/calibrate.h"
#include "parus/outfile.h"
#include "parus/store.h"
#include "parus/yield.h"
#include "csvin_int.h"
#include "util_int.h"

/* No field crop yields this much in a season (kg/mu: 300 t/ha); a record above it is a unit
 * slip (grams, a whole farm's kg given as per mu), refused. */
#define MAX_YIELD_KG_PER_MU 20000.0

void parus_harvest_set_release(parus_harvest_set *set)
{
    size_t i;
    if (!set)
        return;
    for (i = 0; i < set->n; i++)
        free(set->harvests[i].parcel_id);
    free(set->harvests);
    set->harvests = NULL;
    set->n = 0;
}

/* ---- reading harvests ---- */

enum hcol { H_PARCEL, H_SEASON, H_CROP, H_QTY, H_AREA, N_HCOLS };

/* The quantity columns: name, and the factor to kg/mu (harvest_kg: 0, a total). */
static const struct {
    const char *name;
    double to_kg_per_mu;
} qty_cols[] = {
    {"yield_kg_per_mu", 1.0},        {"yield_jin_per_mu", 0.5}, /* 市斤, half a kilogram: how yields
                                                                   are often told in China */
    {"yield_kg_per_ha", 1.0 / 15.0}, {"yield_t_per_ha", 1000.0 / 15.0}, {"harvest_kg", 0.0},
};
static const struct {
    const char *name;
    double to_m2;
} area_cols[] = {
    {"area_mu", 10000.0 / 15.0},
    {"area_m2", 1.0},
    {"area_ha", 10000.0},
    {"planted_area_m2", 1.0},
};
#define N_QTY (sizeof qty_cols / sizeof qty_cols[0])
#define N_AREA (sizeof area_cols / sizeof area_cols[0])

static void trim_copy(char *dst, size_t cap, const char *src)
{
    size_t n;
    while (*src == ' ' || *src == '\t')
        src++;
    n = strlen(src);
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int cmp_harvest(const void *a, const void *b)
{
    const parus_harvest *x = a, *y = b;
    int c = strcmp(x->parcel_id, y->parcel_id);
    return c ? c : strcmp(x->season, y->season);
}

/* A number in a cell, or false. */
static bool cell_number(const char *cell, double *out)
{
    char buf[64], *end;
    double v;
    trim_copy(buf, sizeof buf, cell);
    if (!buf[0])
        return false;
    v = parus__strtod_c(buf, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static parus_status map_columns(parus__csv *csv, const char *path, int idx[N_HCOLS],
                                size_t *qty_kind, size_t *area_kind, char *qty_name,
                                parus_error *err)
{
    char name[64];
    size_t j, k;
    for (k = 0; k < N_HCOLS; k++)
        idx[k] = -1;
    for (j = 0; j < csv->n_cells && j < 4096; j++) {
        trim_copy(name, sizeof name, csv->cells[j]);
        for (k = 0; name[k]; k++)
            name[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
        if (!strcmp(name, "parcel_id") || !strcmp(name, "season") || !strcmp(name, "crop")) {
            int c = name[0] == 'p' ? H_PARCEL : name[0] == 's' ? H_SEASON : H_CROP;
            if (idx[c] >= 0)
                return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: column '%s' twice", path,
                                  name);
            idx[c] = (int)j;
            continue;
        }
        if (!strcmp(name, "yield") || !strcmp(name, "harvest") || !strcmp(name, "production"))
            return parus_fail(
                err, PARUS_E_FORMAT,
                "'%s' line 1 column '%s': a quantity without its unit; name the "
                "column yield_kg_per_mu, yield_jin_per_mu, yield_kg_per_ha, yield_t_per_ha or "
                "harvest_kg",
                path, name);
        for (k = 0; k < N_QTY; k++)
            if (!strcmp(name, qty_cols[k].name)) {
                /* a yield column wins over harvest_kg (a file may give both, the second as
                 * information); two yield columns contradict each other or repeat */
                if (idx[H_QTY] >= 0 && qty_cols[k].to_kg_per_mu > 0 &&
                    qty_cols[*qty_kind].to_kg_per_mu > 0)
                    return parus_fail(err, PARUS_E_FORMAT,
                                      "'%s' line 1: two yield columns ('%s' and '%s'); keep one",
                                      path, qty_cols[*qty_kind].name, name);
                if (idx[H_QTY] < 0 || qty_cols[k].to_kg_per_mu > 0) {
                    idx[H_QTY] = (int)j;
                    *qty_kind = k;
                }
            }
        for (k = 0; k < N_AREA; k++)
            if (!strcmp(name, area_cols[k].name)) {
                if (idx[H_AREA] >= 0)
                    return parus_fail(err, PARUS_E_FORMAT,
                                      "'%s' line 1: two area columns ('%s' and '%s'); keep one",
                                      path, area_cols[*area_kind].name, name);
                idx[H_AREA] = (int)j;
                *area_kind = k;
            }
    }
    if (idx[H_PARCEL] < 0 || idx[H_SEASON] < 0)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: missing column '%s'", path,
                          idx[H_PARCEL] < 0 ? "parcel_id" : "season");
    if (idx[H_QTY] < 0)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line 1: no yield column (yield_kg_per_mu, yield_jin_per_mu, "
                          "yield_kg_per_ha, yield_t_per_ha or harvest_kg)",
                          path);
    snprintf(qty_name, 32, "%s", qty_cols[*qty_kind].name);
    return PARUS_OK;
}

parus_status parus_harvests_load(const char *path, parus_harvest_set *out, parus_error *err)
{
    parus__csv csv;
    parus_harvest_set set = {0};
    parus_status rc;
    int idx[N_HCOLS];
    size_t qty_kind = 0, area_kind = 0, cap = 0, i;
    bool done;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "harvests: NULL argument");
    if ((rc = parus__csv_open(&csv, path, err)) != PARUS_OK)
        return rc;
    if ((rc = parus__csv_next(&csv, &done, err)) != PARUS_OK)
        goto out_close;
    if (done) {
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s': empty file (no header)", path);
        goto out_close;
    }
    if ((rc = map_columns(&csv, path, idx, &qty_kind, &area_kind, set.yield_column, err)) !=
        PARUS_OK)
        goto out_close;
    for (;;) {
        parus_harvest h = {0};
        char id[256];
        double q, a;
        if ((rc = parus__csv_next(&csv, &done, err)) != PARUS_OK)
            goto out_fail;
        if (done)
            break;
        h.line = csv.line;
        trim_copy(id, sizeof id, csv.cells[idx[H_PARCEL]]);
        if (!id[0] || strlen(csv.cells[idx[H_PARCEL]]) > 200 || !parus__utf8_valid(id)) {
            rc = parus_fail(err, PARUS_E_FORMAT,
                            "'%s' line %zu column 'parcel_id': empty, over 200 bytes or not UTF-8",
                            path, csv.line);
            goto out_fail;
        }
        trim_copy(h.season, sizeof h.season, csv.cells[idx[H_SEASON]]);
        if (!parus_store_season_valid(h.season)) {
            rc = parus_fail(err, PARUS_E_FORMAT,
                            "'%s' line %zu column 'season': '%s' is not a season "
                            "(YYYY-MM-DD/YYYY-MM-DD)",
                            path, csv.line, csv.cells[idx[H_SEASON]]);
            goto out_fail;
        }
        if (idx[H_CROP] >= 0)
            trim_copy(h.crop, sizeof h.crop, csv.cells[idx[H_CROP]]);
        if (!cell_number(csv.cells[idx[H_QTY]], &q) || q < 0.0) {
            rc = parus_fail(err, PARUS_E_FORMAT,
                            "'%s' line %zu column '%s': '%s' is not a number >= 0", path, csv.line,
                            qty_cols[qty_kind].name, csv.cells[idx[H_QTY]]);
            goto out_fail;
        }
        h.yield_kg_per_mu = h.harvest_kg = h.area_m2 = NAN;
        if (qty_cols[qty_kind].to_kg_per_mu > 0.0)
            h.yield_kg_per_mu = q * qty_cols[qty_kind].to_kg_per_mu;
        else
            h.harvest_kg = q;
        if (idx[H_AREA] >= 0 && csv.cells[idx[H_AREA]][0]) {
            if (!cell_number(csv.cells[idx[H_AREA]], &a) || !(a > 0.0)) {
                rc = parus_fail(err, PARUS_E_FORMAT,
                                "'%s' line %zu column '%s': '%s' is not an area > 0", path,
                                csv.line, area_cols[area_kind].name, csv.cells[idx[H_AREA]]);
                goto out_fail;
            }
            h.area_m2 = a * area_cols[area_kind].to_m2;
            if (isnan(h.yield_kg_per_mu))
                h.yield_kg_per_mu = h.harvest_kg / (h.area_m2 * 15.0 / 10000.0);
        }
        if (h.yield_kg_per_mu > MAX_YIELD_KG_PER_MU) {
            rc = parus_fail(err, PARUS_E_FORMAT,
                            "'%s' line %zu: %.0f kg/mu is no field's yield (above %.0f: grams, "
                            "or a total given as per mu?)",
                            path, csv.line, h.yield_kg_per_mu, MAX_YIELD_KG_PER_MU);
            goto out_fail;
        }
        if (set.n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            parus_harvest *g = realloc(set.harvests, nc * sizeof *g);
            if (!g) {
                rc = parus_fail(err, PARUS_E_NOMEM, "'%s': out of memory", path);
                goto out_fail;
            }
            set.harvests = g;
            cap = nc;
        }
        if (!(h.parcel_id = parus__strdup(id))) {
            rc = parus_fail(err, PARUS_E_NOMEM, "'%s': out of memory", path);
            goto out_fail;
        }
        set.harvests[set.n++] = h;
    }
    if (set.n == 0) {
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s': no harvest records", path);
        goto out_fail;
    }
    qsort(set.harvests, set.n, sizeof *set.harvests, cmp_harvest);
    for (i = 1; i < set.n; i++)
        if (!cmp_harvest(&set.harvests[i - 1], &set.harvests[i])) {
            size_t l1 = set.harvests[i - 1].line, l2 = set.harvests[i].line;
            rc = parus_fail(err, PARUS_E_FORMAT,
                            "'%s' lines %zu and %zu: parcel '%s' harvested twice in season %s",
                            path, l1 < l2 ? l1 : l2, l1 < l2 ? l2 : l1, set.harvests[i].parcel_id,
                            set.harvests[i].season);
            goto out_fail;
        }
    parus__csv_close(&csv);
    *out = set;
    return PARUS_OK;
out_fail:
    parus_harvest_set_release(&set);
out_close:
    parus__csv_close(&csv);
    return rc;
}

/* ---- fitting ---- */

void parus_yield_calibrate_options_init(parus_yield_calibrate_options *opt)
{
    opt->folds = 5;
    opt->min_harvests = 30;
}

/* The predictors: integrated NDVI, peak NDVI, and the season's weather (rain deficit, heat
 * days) where the crop's samples all have it. */
enum { X_I, X_P, X_D, X_H, N_X };

static double xval(const parus_yield_sample *s, int j)
{
    switch (j) {
    case X_I:
        return s->integral_10d;
    case X_P:
        return s->peak_ndvi;
    case X_D:
        return s->rain_deficit;
    default:
        return s->heat_days;
    }
}

/* Solve the k x k system m x = v (k <= N_X) by Gaussian elimination with partial pivoting;
 * false when singular. */
static bool solve(double m[N_X][N_X], double v[N_X], int k, double x[N_X])
{
    int i, j, r;
    for (i = 0; i < k; i++) {
        int p = i;
        for (r = i + 1; r < k; r++)
            if (fabs(m[r][i]) > fabs(m[p][i]))
                p = r;
        if (!(fabs(m[p][i]) > 1e-9 * (1.0 + fabs(m[i][i]))))
            return false;
        if (p != i) {
            double t;
            for (j = 0; j < k; j++) {
                t = m[i][j];
                m[i][j] = m[p][j];
                m[p][j] = t;
            }
            t = v[i];
            v[i] = v[p];
            v[p] = t;
        }
        for (r = i + 1; r < k; r++) {
            double f = m[r][i] / m[i][i];
            for (j = i; j < k; j++)
                m[r][j] -= f * m[i][j];
            v[r] -= f * v[i];
        }
    }
    for (i = k - 1; i >= 0; i--) {
        double t = v[i];
        for (j = i + 1; j < k; j++)
            t -= m[i][j] * x[j];
        x[i] = t / m[i][i];
    }
    return true;
}

/* Least squares of yield on 1 and the predictors in `on` over the samples with use[i] (all when
 * NULL), centred for conditioning. A predictor that does not vary is left out; the slope on the
 * integral may not be negative (more green, not less: the crop table's rule), nor those on the
 * rain deficit and the heat days positive (a drought or a heat wave never adds grain: a fit that
 * says so has learnt the harvests' noise, and would lend more in a dry year), and a slope that
 * comes out on the wrong side is left out and the fit redone without it; a singular system drops
 * the last predictor and tries again. coef[0] is the intercept, coef[1 + j] predictor j's slope (0
 * when left out). */
static void fit(const parus_yield_sample *s, size_t n, const bool *use, const bool on[N_X],
                double coef[1 + N_X])
{
    double mean[N_X] = {0}, my = 0, cnt = 0, sxx[N_X][N_X] = {{0}}, sxy[N_X] = {0};
    bool act[N_X];
    size_t i;
    int j, l;
    for (i = 0; i < n; i++)
        if (!use || use[i]) {
            for (j = 0; j < N_X; j++)
                mean[j] += on[j] ? xval(&s[i], j) : 0.0;
            my += s[i].yield_kg_per_mu;
            cnt++;
        }
    for (j = 0; j < N_X; j++)
        mean[j] /= cnt;
    my /= cnt;
    for (i = 0; i < n; i++)
        if (!use || use[i]) {
            double d[N_X], dy = s[i].yield_kg_per_mu - my;
            for (j = 0; j < N_X; j++)
                d[j] = on[j] ? xval(&s[i], j) - mean[j] : 0.0;
            for (j = 0; j < N_X; j++) {
                sxy[j] += d[j] * dy;
                for (l = 0; l < N_X; l++)
                    sxx[j][l] += d[j] * d[l];
            }
        }
    for (j = 0; j < N_X; j++)
        act[j] = on[j] && sxx[j][j] > 1e-12 * cnt;
    for (;;) {
        double m[N_X][N_X], v[N_X], x[N_X] = {0};
        int idx[N_X], k = 0, last = -1;
        for (j = 0; j < N_X; j++)
            if (act[j])
                idx[k++] = j;
        for (j = 0; j < k; j++) {
            v[j] = sxy[idx[j]];
            for (l = 0; l < k; l++)
                m[j][l] = sxx[idx[j]][idx[l]];
        }
        for (j = 0; j < 1 + N_X; j++)
            coef[j] = 0.0;
        if (k == 0 || solve(m, v, k, x)) {
            bool wrong_side = false;
            for (j = 0; j < k; j++) {
                bool wrong = (idx[j] == X_I && x[j] < 0.0) ||
                             ((idx[j] == X_D || idx[j] == X_H) && x[j] > 0.0);
                coef[1 + idx[j]] = x[j];
                if (wrong)
                    act[idx[j]] = false;
                wrong_side |= wrong;
            }
            if (!wrong_side)
                break;
            continue;
        }
        for (j = 0; j < N_X; j++)
            if (act[j])
                last = j;
        act[last] = false;
    }
    coef[0] = my;
    for (j = 0; j < N_X; j++)
        coef[0] -= coef[1 + j] * mean[j];
}

static double predict(const double coef[1 + N_X], const parus_yield_sample *s, double lo, double hi)
{
    double y = coef[0];
    int j;
    for (j = 0; j < N_X; j++)
        if (coef[1 + j] != 0.0)
            y += coef[1 + j] * xval(s, j);
    return y < lo ? lo : y > hi ? hi : y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-quantile of sorted v[0..n) (linear between order statistics, R's type 7). */
static double quantile(const double *v, size_t n, double p)
{
    double h = p * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* A mix of a place key's 64 bits (splitmix64's finaliser). */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct place_fold {
    uint64_t place, mix;
    size_t fold;
};

static int cmp_mix(const void *a, const void *b)
{
    const struct place_fold *x = a, *y = b;
    if (x->mix != y->mix)
        return x->mix < y->mix ? -1 : 1;
    return (x->place > y->place) - (x->place < y->place);
}

static int cmp_place(const void *a, const void *b)
{
    const struct place_fold *x = a, *y = b;
    return (x->place > y->place) - (x->place < y->place);
}

/* A total order of samples, so that every sum runs in the same order whatever the caller's. */
static int cmp_sample(const void *a, const void *b)
{
    const parus_yield_sample *x = a, *y = b;
    if (x->place != y->place)
        return x->place < y->place ? -1 : 1;
    if (x->integral_10d != y->integral_10d)
        return x->integral_10d < y->integral_10d ? -1 : 1;
    if (x->peak_ndvi != y->peak_ndvi)
        return x->peak_ndvi < y->peak_ndvi ? -1 : 1;
    if (x->yield_kg_per_mu != y->yield_kg_per_mu)
        return x->yield_kg_per_mu < y->yield_kg_per_mu ? -1 : 1;
    if (x->rain_deficit != y->rain_deficit && !isnan(x->rain_deficit) && !isnan(y->rain_deficit))
        return x->rain_deficit < y->rain_deficit ? -1 : 1;
    if (x->heat_days != y->heat_days && !isnan(x->heat_days) && !isnan(y->heat_days))
        return x->heat_days < y->heat_days ? -1 : 1;
    return (x->n_clear_obs > y->n_clear_obs) - (x->n_clear_obs < y->n_clear_obs);
}

parus_status parus_yield_calibrate(const parus_crop *crop, const parus_yield_sample *given,
                                   size_t n, const parus_yield_calibrate_options *opt,
                                   parus_yield_calibration *out, parus_error *err)
{
    parus_yield_sample *s = NULL;
    parus_yield_calibrate_options defaults;
    parus_yield_calibration c = {0};
    struct place_fold *places = NULL;
    double *pred = NULL, *rel = NULL, *nclear = NULL, ss_res = 0, ss_tot = 0, bias = 0, m = 0,
           sd = 0;
    bool *use = NULL, weather, on[N_X];
    size_t i, k, n_places = 0, *fold = NULL;
    parus_status rc = PARUS_OK;

    if (!crop || (!given && n) || !out)
        return parus_fail(err, PARUS_E_INVALID, "calibrate: NULL argument");
    if (!opt) {
        parus_yield_calibrate_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->folds < 2 || opt->folds > 64)
        return parus_fail(err, PARUS_E_INVALID, "calibrate: %zu folds (2..64)", opt->folds);
    for (i = 0; i < n; i++)
        if (!isfinite(given[i].integral_10d) || !isfinite(given[i].peak_ndvi) ||
            !(given[i].yield_kg_per_mu > 0.0) || !isfinite(given[i].yield_kg_per_mu))
            return parus_fail(err, PARUS_E_INVALID,
                              "calibrate: crop '%s': sample %zu is not finite or yields <= 0",
                              crop->code, i);
    if (n > 0 && !(s = malloc(n * sizeof *s)))
        return parus_fail(err, PARUS_E_NOMEM, "calibrate: out of memory");
    if (n > 0) {
        memcpy(s, given, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_sample); /* by place first */
    }
    for (i = 0; i < n; i++)
        n_places += i == 0 || s[i].place != s[i - 1].place;
    if (n < opt->min_harvests || n_places < opt->folds) {
        size_t need = opt->min_harvests > n ? opt->min_harvests - n : 0;
        free(s);
        if (need > 0)
            return parus_fail(err, PARUS_E_RANGE,
                              "crop '%s': %zu harvests; calibration needs at least %zu (%zu more)",
                              crop->code, n, opt->min_harvests, need);
        return parus_fail(err, PARUS_E_RANGE,
                          "crop '%s': harvests from %zu places; calibration needs at least %zu "
                          "(one per fold; a larger area or smaller places)",
                          crop->code, n_places, opt->folds);
    }

    pred = malloc(n * sizeof *pred);
    rel = malloc(n * sizeof *rel);
    nclear = malloc(n * sizeof *nclear);
    use = calloc(n, sizeof *use);
    fold = malloc(n * sizeof *fold);
    places = malloc(n_places * sizeof *places);
    if (!pred || !rel || !nclear || !use || !fold || !places) {
        rc = parus_fail(err, PARUS_E_NOMEM, "calibrate: out of memory");
        goto out_free;
    }
    /* folds of places: the places in the order of a hash of their key (so that folds do not
     * follow the grid's rows), dealt round, so every fold has at least one place */
    for (i = 0, k = 0; i < n; i++)
        if (i == 0 || s[i].place != s[i - 1].place) {
            places[k].place = s[i].place;
            places[k].mix = mix64(s[i].place);
            k++;
        }
    qsort(places, n_places, sizeof *places, cmp_mix);
    for (k = 0; k < n_places; k++)
        places[k].fold = k % opt->folds;
    qsort(places, n_places, sizeof *places, cmp_place);
    for (i = 0, k = 0; i < n; i++) {
        if (i > 0 && s[i].place != s[i - 1].place)
            k++;
        fold[i] = places[k].fold;
    }
    for (i = 0, weather = n > 0; i < n; i++)
        weather &= isfinite(s[i].rain_deficit) && isfinite(s[i].heat_days);
    on[X_I] = on[X_P] = true;
    on[X_D] = on[X_H] = weather;
    for (k = 0; k < opt->folds; k++) {
        double coef[1 + N_X];
        for (i = 0; i < n; i++)
            use[i] = fold[i] != k;
        fit(s, n, use, on, coef);
        for (i = 0; i < n; i++)
            if (fold[i] == k)
                pred[i] =
                    predict(coef, &s[i], crop->yield_min_kg_per_mu, crop->yield_max_kg_per_mu);
    }
    for (i = 0; i < n; i++)
        m += s[i].yield_kg_per_mu;
    m /= (double)n;
    for (i = 0; i < n; i++) {
        double r = pred[i] - s[i].yield_kg_per_mu;
        ss_res += r * r;
        ss_tot += (s[i].yield_kg_per_mu - m) * (s[i].yield_kg_per_mu - m);
        bias += r;
        rel[i] = pred[i] > 0.0 ? s[i].yield_kg_per_mu / pred[i] - 1.0 : 0.0;
        nclear[i] = (double)s[i].n_clear_obs;
    }
    c.n_harvests = n;
    c.n_places = n_places;
    c.mean_kg_per_mu = m;
    c.rmse_kg_per_mu = sqrt(ss_res / (double)n);
    c.bias_kg_per_mu = bias / (double)n;
    c.r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : (double)NAN;
    {
        double mr = 0;
        for (i = 0; i < n; i++)
            mr += rel[i];
        mr /= (double)n;
        for (i = 0; i < n; i++)
            sd += (rel[i] - mr) * (rel[i] - mr);
        c.rel_sd = n > 1 ? sqrt(sd / (double)(n - 1)) : 0.0;
    }
    qsort(rel, n, sizeof *rel, cmp_double);
    qsort(nclear, n, sizeof *nclear, cmp_double);
    c.q10_rel = quantile(rel, n, 0.10);
    c.n_clear_median = quantile(nclear, n, 0.5);
    if (c.n_clear_median < 1.0)
        c.n_clear_median = 1.0;
    c.yield_cv = -c.q10_rel / PARUS_YIELD_Z_P10;
    if (c.yield_cv < 0.005)
        c.yield_cv = 0.005;
    if (c.yield_cv > 1.0)
        c.yield_cv = 1.0;
    {
        double coef[1 + N_X];
        fit(s, n, NULL, on, coef);
        c.a_kg_per_mu = coef[0];
        c.b_kg_per_mu_per_ndvi = coef[1 + X_I];
        c.c_kg_per_mu_per_ndvi_peak = coef[1 + X_P];
        c.d_kg_per_mu_per_rain_deficit = coef[1 + X_D];
        c.e_kg_per_mu_per_heat_day = coef[1 + X_H];
        c.weather = weather;
        c.rain_deficit_max = c.heat_days_max = NAN;
        if (weather) {
            c.rain_deficit_max = c.heat_days_max = 0.0;
            for (i = 0; i < n; i++) {
                c.rain_deficit_max = fmax(c.rain_deficit_max, s[i].rain_deficit);
                c.heat_days_max = fmax(c.heat_days_max, s[i].heat_days);
            }
        }
    }
    *out = c;
out_free:
    free(s);
    free(places);
    free(pred);
    free(rel);
    free(nclear);
    free(use);
    free(fold);
    return rc;
}

void parus_yield_calibration_apply(const parus_yield_calibration *cal, parus_crop *crop)
{
    crop->yield_a_kg_per_mu = cal->a_kg_per_mu;
    crop->yield_b_kg_per_mu_per_ndvi = cal->b_kg_per_mu_per_ndvi;
    crop->yield_c_kg_per_mu_per_ndvi_peak = cal->c_kg_per_mu_per_ndvi_peak;
    crop->yield_d_kg_per_mu_per_rain_deficit = cal->d_kg_per_mu_per_rain_deficit;
    crop->yield_e_kg_per_mu_per_heat_day = cal->e_kg_per_mu_per_heat_day;
    crop->yield_rain_deficit_max = cal->rain_deficit_max;
    crop->yield_heat_days_max = cal->heat_days_max;
    crop->yield_cv = cal->yield_cv;
    crop->yield_cv_n_clear = cal->n_clear_median;
    crop->yield_n_harvests = cal->n_harvests;
}

/* ---- writing a crop table ---- */

static parus_status put_text(parus_outfile *o, const char *s, parus_error *err)
{
    parus_status rc;
    if (!strpbrk(s, ",\"\r\n"))
        return parus_outfile_printf(o, err, "%s", s);
    if ((rc = parus_outfile_write(o, "\"", 1, err)) != PARUS_OK)
        return rc;
    for (; *s; s++)
        if ((rc = parus_outfile_write(o, s, 1, err)) != PARUS_OK ||
            (*s == '"' && (rc = parus_outfile_write(o, "\"", 1, err)) != PARUS_OK))
            return rc;
    return parus_outfile_write(o, "\"", 1, err);
}

static parus_status put_cycle(parus_outfile *o, const parus_crop *c, int i, parus_error *err)
{
    if (i >= c->n_cycles)
        return parus_outfile_printf(o, err, ",,,");
    return parus_outfile_printf(o, err, ",%d,%d,%d", c->cycle[i].sow_doy, c->cycle[i].peak_doy,
                                c->cycle[i].harvest_doy);
}

parus_status parus_crop_table_write(const parus_crop_table *table, const char *path,
                                    parus_error *err)
{
    parus_outfile *o;
    parus_status rc;
    size_t i;
    if (!table || !path)
        return parus_fail(err, PARUS_E_INVALID, "crop table: NULL argument");
    if ((rc = parus_outfile_open(path, &o, err)) != PARUS_OK)
        return rc;
    rc = parus_outfile_printf(
        o, err,
        "code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"
        "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
        "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg,yield_cv,yield_c_kg_per_mu_per_ndvi_peak,"
        "yield_cv_n_clear,yield_n_harvests,tbase_c,theat_c,yield_d_kg_per_mu_per_rain_deficit,"
        "yield_e_kg_per_mu_per_heat_day,yield_rain_deficit_max,yield_heat_days_max,paddy\n");
    for (i = 0; rc == PARUS_OK && i < table->n_crops; i++) {
        const parus_crop *c = &table->crops[i];
        if ((rc = put_text(o, c->code, err)) != PARUS_OK ||
            (rc = parus_outfile_write(o, ",", 1, err)) != PARUS_OK ||
            (rc = put_text(o, c->name_en, err)) != PARUS_OK ||
            (rc = parus_outfile_write(o, ",", 1, err)) != PARUS_OK ||
            (rc = put_text(o, c->name_zh, err)) != PARUS_OK ||
            (rc = parus_outfile_printf(o, err, ",%s", parus_crop_kind_name(c->kind))) != PARUS_OK ||
            (rc = put_cycle(o, c, 0, err)) != PARUS_OK ||
            (rc = put_cycle(o, c, 1, err)) != PARUS_OK)
            break;
        rc = parus_outfile_printf(o, err, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,",
                                  c->ndvi_base, c->ndvi_peak, c->yield_min_kg_per_mu,
                                  c->yield_max_kg_per_mu, c->yield_a_kg_per_mu,
                                  c->yield_b_kg_per_mu_per_ndvi, c->price_cny_per_kg, c->yield_cv,
                                  c->yield_c_kg_per_mu_per_ndvi_peak);
        if (rc == PARUS_OK && c->yield_cv_n_clear > 0.0)
            rc = parus_outfile_printf(o, err, "%.10g", c->yield_cv_n_clear);
        if (rc == PARUS_OK)
            rc = parus_outfile_printf(o, err, ",%zu,%.10g,%.10g,%.10g,%.10g,", c->yield_n_harvests,
                                      c->tbase_c, c->theat_c, c->yield_d_kg_per_mu_per_rain_deficit,
                                      c->yield_e_kg_per_mu_per_heat_day);
        if (rc == PARUS_OK && isfinite(c->yield_rain_deficit_max))
            rc = parus_outfile_printf(o, err, "%.10g", c->yield_rain_deficit_max);
        if (rc == PARUS_OK)
            rc = parus_outfile_write(o, ",", 1, err);
        if (rc == PARUS_OK && isfinite(c->yield_heat_days_max))
            rc = parus_outfile_printf(o, err, "%.10g", c->yield_heat_days_max);
        if (rc == PARUS_OK)
            rc = parus_outfile_printf(o, err, ",%d\n", c->paddy ? 1 : 0);
    }
    if (rc != PARUS_OK) {
        parus_outfile_abort(o);
        return rc;
    }
    return parus_outfile_commit(o, err);
}

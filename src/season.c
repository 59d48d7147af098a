/*
 * season.c - a parcel's season as classifier features (regular series, summaries, phenology),
 * the calendar-matching fallback, and the season spec kept in a model file.
 *
 * Workload: every parcel of a region every season (e.g. 140,000 parcels x 15 variables x 24
 * steps), in parallel over parcels, and every labelled sample at training time. Per parcel the
 * cost is a sort of its few dozen observations and, per variable, the series module's composite,
 * gap filling and O(n) Whittaker solve (parus/series.h): no file, no global, and a
 * parus_season_work reused by one thread allocates only when a parcel brings more observations
 * than any before.
 *
 * Assumptions: a season has tens to hundreds of steps and a parcel at most a few hundred
 * observations; variable names are short ASCII. The observations are sorted (day, valid
 * fraction, values) before compositing, so the floating-point sums of a mean composite, and
 * therefore every feature, are the same whatever order the store or an import delivered them in.
 */
#include "parus/season.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>

#include "parus/indices.h"
#include "parus/raster.h"
#include "parus/series.h"
#include "util_int.h"

#define MAX_STEPS 1000
#define MAX_LENGTH_DAYS 3660

static const char *const summary_names[PARUS_SEASON_N_SUMMARIES] = {"mean", "std", "min", "max",
                                                                    "argmax"};
static const char *const pheno_names[PARUS_SEASON_N_PHENO] = {
    "n_cycles", "peak", "base", "amplitude", "integral", "start", "peak_day", "end", "length"};

/* ---- the spec ---- */

static void set_name(char *dst, const char *src)
{
    snprintf(dst, PARUS_SEASON_VAR_NAME_MAX, "%s", src);
}

void parus_season_spec_init(parus_season_spec *spec)
{
    parus_series_options sopt;
    size_t i;
    parus_series_options_init(&sopt);
    memset(spec, 0, sizeof *spec);
    spec->start_day = parus__date_days("2024-03-01");
    spec->length_days = 240;
    spec->step_days = sopt.step_days;
    spec->min_valid_fraction = sopt.min_valid_fraction;
    spec->max_gap_steps = sopt.max_gap_steps;
    spec->lambda = sopt.lambda;
    for (i = 0; i < PARUS_INDEX_N_; i++)
        set_name(spec->vars[spec->n_vars++], parus_index_name((parus_index)i));
    for (i = 0; i < PARUS_ROLE_N_SPECTRAL_ && spec->n_vars < PARUS_SEASON_MAX_VARS; i++)
        set_name(spec->vars[spec->n_vars++], parus_role_name((parus_band_role)i));
    set_name(spec->phenology_var, parus_index_name(PARUS_INDEX_NDVI));
}

static bool var_name_ok(const char *name)
{
    size_t n = 0;
    for (; n < PARUS_SEASON_VAR_NAME_MAX && name[n]; n++)
        if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9') ||
              name[n] == '_'))
            return false;
    return n > 0 && n < PARUS_SEASON_VAR_NAME_MAX;
}

size_t parus_season_var_index(const parus_season_spec *spec, const char *name)
{
    size_t i;
    for (i = 0; name && i < spec->n_vars && i < PARUS_SEASON_MAX_VARS; i++)
        if (strncmp(spec->vars[i], name, PARUS_SEASON_VAR_NAME_MAX) == 0)
            return i;
    return SIZE_MAX;
}

size_t parus_season_n_steps(const parus_season_spec *spec)
{
    if (spec->step_days == 0 || spec->length_days == 0)
        return 0;
    return (spec->length_days - 1) / spec->step_days + 1;
}

parus_status parus_season_spec_check(const parus_season_spec *spec, parus_error *err)
{
    size_t i, j, n_steps;
    if (!spec)
        return parus_fail(err, PARUS_E_INVALID, "no season spec");
    if (spec->step_days == 0)
        return parus_fail(err, PARUS_E_INVALID, "season step_days must be positive");
    if (spec->length_days > MAX_LENGTH_DAYS)
        return parus_fail(err, PARUS_E_INVALID,
                          "season length_days %zu is longer than %d days (ten years)",
                          spec->length_days, MAX_LENGTH_DAYS);
    n_steps = parus_season_n_steps(spec);
    if (n_steps < 4 || n_steps > MAX_STEPS)
        return parus_fail(err, PARUS_E_INVALID,
                          "season of %zu days in %zu-day steps has %zu steps (4 to %d needed)",
                          spec->length_days, spec->step_days, n_steps, MAX_STEPS);
    if (!isfinite(spec->lambda) || spec->lambda < 0.0)
        return parus_fail(err, PARUS_E_INVALID, "season lambda '%g' is not a finite value >= 0",
                          spec->lambda);
    if (!(spec->min_valid_fraction >= 0.0 && spec->min_valid_fraction <= 1.0))
        return parus_fail(err, PARUS_E_INVALID, "season min_valid_fraction '%g' is not in [0, 1]",
                          spec->min_valid_fraction);
    if (spec->n_vars == 0 || spec->n_vars > PARUS_SEASON_MAX_VARS)
        return parus_fail(err, PARUS_E_INVALID, "season has %zu variables (1 to %d)", spec->n_vars,
                          PARUS_SEASON_MAX_VARS);
    for (i = 0; i < spec->n_vars; i++) {
        if (!var_name_ok(spec->vars[i]))
            return parus_fail(err, PARUS_E_INVALID,
                              "season variable %zu is not a name of [a-z0-9_] (at most %d bytes)",
                              i + 1, PARUS_SEASON_VAR_NAME_MAX - 1);
        for (j = 0; j < i; j++)
            if (strcmp(spec->vars[i], spec->vars[j]) == 0)
                return parus_fail(err, PARUS_E_INVALID, "season variable '%s' appears twice",
                                  spec->vars[i]);
    }
    if (memchr(spec->phenology_var, '\0', PARUS_SEASON_VAR_NAME_MAX) == NULL)
        return parus_fail(err, PARUS_E_INVALID, "season phenology variable is not terminated");
    if (spec->phenology_var[0] && parus_season_var_index(spec, spec->phenology_var) == SIZE_MAX)
        return parus_fail(err, PARUS_E_INVALID,
                          "season phenology variable '%s' is not one of the variables",
                          spec->phenology_var);
    return PARUS_OK;
}

/* ---- features: names and layout ---- */

static size_t var_block(size_t n_steps)
{
    return n_steps + PARUS_SEASON_N_SUMMARIES;
}

static bool has_pheno(const parus_season_spec *spec)
{
    return spec->phenology_var[0] != '\0';
}

size_t parus_season_n_features(const parus_season_spec *spec)
{
    return spec->n_vars * var_block(parus_season_n_steps(spec)) +
           (has_pheno(spec) ? PARUS_SEASON_N_PHENO : 0) + 1;
}

size_t parus_season_series_offset(const parus_season_spec *spec, size_t var)
{
    return var * var_block(parus_season_n_steps(spec));
}

bool parus_season_feature_name(const parus_season_spec *spec, size_t i, char *buf, size_t n)
{
    size_t n_steps = parus_season_n_steps(spec), block = var_block(n_steps);
    size_t n_var_feat = spec->n_vars * block;
    if (i >= parus_season_n_features(spec) || !buf || n == 0)
        return false;
    if (i < n_var_feat) {
        size_t v = i / block, j = i % block;
        if (j < n_steps)
            snprintf(buf, n, "%s_s%02zu", spec->vars[v], j);
        else
            snprintf(buf, n, "%s_%s", spec->vars[v], summary_names[j - n_steps]);
    } else if (has_pheno(spec) && i < n_var_feat + PARUS_SEASON_N_PHENO) {
        snprintf(buf, n, "%s_pheno_%s", spec->phenology_var, pheno_names[i - n_var_feat]);
    } else {
        snprintf(buf, n, "n_clear_obs");
    }
    return true;
}

/* ---- observations ---- */

enum {
    SRC_NONE = 0,
    SRC_INDEX,
    SRC_BAND,
    SRC_OWN_INDEX,
    SRC_OWN_BAND,
    SRC_P10,
    SRC_P50,
    SRC_P90,
    SRC_VEG,
    SRC_WATER,
    SRC_S1_VV, /* radar (parus_season_radar_obs); NaN in an optical observation */
    SRC_S1_VH,
    SRC_S1_VH_VV,
    SRC_S1_RVI,
    SRC_S1_WATER
};

/* The radar variables, in the order parus_season_spec_add_radar appends them. */
static const char *const radar_var_names[PARUS_SEASON_N_RADAR_VARS] = {"s1_vv", "s1_vh", "s1_vh_vv",
                                                                       "s1_rvi", "s1_water"};

/* Where a stored observation gives variable v its value (SRC_NONE: nowhere), and the index or
 * band it reads. */
static unsigned char source_of(const char *v, unsigned char *index)
{
    /* "own_" + an index or band: the parcel's own (unmixed) value (parus/zonal.h) */
    bool own = strncmp(v, "own_", 4) == 0;
    const char *name = own ? v + 4 : v;
    size_t i;
    *index = 0;
    for (i = 0; i < PARUS_INDEX_N_; i++)
        if (strcmp(name, parus_index_name((parus_index)i)) == 0) {
            *index = (unsigned char)i;
            return own ? SRC_OWN_INDEX : SRC_INDEX;
        }
    for (i = 0; i < PARUS_ROLE_N_SPECTRAL_; i++)
        if (strcmp(name, parus_role_name((parus_band_role)i)) == 0) {
            *index = (unsigned char)i;
            return own ? SRC_OWN_BAND : SRC_BAND;
        }
    if (strcmp(v, "ndvi_p10") == 0)
        return SRC_P10;
    if (strcmp(v, "ndvi_p50") == 0)
        return SRC_P50;
    if (strcmp(v, "ndvi_p90") == 0)
        return SRC_P90;
    if (strcmp(v, "veg_fraction") == 0)
        return SRC_VEG;
    if (strcmp(v, "water_fraction") == 0)
        return SRC_WATER;
    for (i = 0; i < PARUS_SEASON_N_RADAR_VARS; i++)
        if (strcmp(v, radar_var_names[i]) == 0)
            return (unsigned char)(SRC_S1_VV + i);
    return SRC_NONE;
}

void parus_season_sources_init(const parus_season_spec *spec, parus_season_sources *src)
{
    size_t k;
    memset(src, 0, sizeof *src);
    src->n_vars = spec->n_vars < PARUS_SEASON_MAX_VARS ? spec->n_vars : PARUS_SEASON_MAX_VARS;
    for (k = 0; k < src->n_vars; k++)
        src->kind[k] = source_of(spec->vars[k], &src->index[k]);
}

bool parus_season_var_known(const char *name)
{
    unsigned char index;
    return name && strlen(name) < PARUS_SEASON_VAR_NAME_MAX && source_of(name, &index) != SRC_NONE;
}

void parus_season_spec_use_own(parus_season_spec *spec)
{
    size_t k;
    char name[PARUS_SEASON_VAR_NAME_MAX];
    for (k = 0; k < spec->n_vars; k++) {
        unsigned char index, kind = source_of(spec->vars[k], &index);
        if ((kind != SRC_INDEX && kind != SRC_BAND) ||
            (size_t)snprintf(name, sizeof name, "own_%s", spec->vars[k]) >= sizeof name)
            continue;
        if (strcmp(spec->phenology_var, spec->vars[k]) == 0)
            set_name(spec->phenology_var, name);
        set_name(spec->vars[k], name);
    }
}

void parus_season_obs_from_sources(const parus_season_sources *src, int64_t day,
                                   const parus_observation *o, parus_season_obs *out)
{
    size_t k;
    out->day = day;
    out->valid_fraction = o->valid_fraction;
    for (k = 0; k < PARUS_SEASON_MAX_VARS; k++) {
        double v = NAN;
        if (k < src->n_vars)
            switch (src->kind[k]) {
            case SRC_INDEX:
                v = o->mean[src->index[k]];
                break;
            case SRC_BAND:
                v = o->band_mean[src->index[k]];
                break;
            case SRC_OWN_INDEX: /* an observation stored before the own values: the mixed one */
                v = o->own_mean[src->index[k]];
                if (!isfinite(v))
                    v = o->mean[src->index[k]];
                break;
            case SRC_OWN_BAND:
                v = o->own_band_mean[src->index[k]];
                if (!isfinite(v))
                    v = o->band_mean[src->index[k]];
                break;
            case SRC_P10:
                v = o->ndvi_p10;
                break;
            case SRC_P50:
                v = o->ndvi_p50;
                break;
            case SRC_P90:
                v = o->ndvi_p90;
                break;
            case SRC_VEG:
                v = o->veg_fraction;
                break;
            case SRC_WATER:
                v = o->water_fraction;
                break;
            default:
                break;
            }
        out->value[k] = v;
    }
}

bool parus_season_spec_has_radar(const parus_season_spec *spec)
{
    size_t k;
    unsigned char index;
    for (k = 0; k < spec->n_vars && k < PARUS_SEASON_MAX_VARS; k++)
        if (source_of(spec->vars[k], &index) >= SRC_S1_VV)
            return true;
    return false;
}

parus_status parus_season_spec_add_radar(parus_season_spec *spec, parus_error *err)
{
    size_t i;
    for (i = 0; i < PARUS_SEASON_N_RADAR_VARS; i++) {
        if (parus_season_var_index(spec, radar_var_names[i]) != SIZE_MAX)
            continue;
        if (spec->n_vars >= PARUS_SEASON_MAX_VARS)
            return parus_fail(err, PARUS_E_INVALID,
                              "no room for the radar variable '%s': a season has at most %d "
                              "variables",
                              radar_var_names[i], PARUS_SEASON_MAX_VARS);
        set_name(spec->vars[spec->n_vars++], radar_var_names[i]);
    }
    return PARUS_OK;
}

int parus_season_radar_pass(const parus_radar_point *pt)
{
    static const char *const coefficients[] = {"sigma0", "gamma0", "beta0"};
    int geometry = -3, c = 0;
    if (pt->relative_orbit > 0)
        geometry = pt->relative_orbit;
    else if (strcmp(pt->orbit_direction, "ASCENDING") == 0)
        geometry = -1;
    else if (strcmp(pt->orbit_direction, "DESCENDING") == 0)
        geometry = -2;
    while (c < 3 && strcmp(pt->coefficient, coefficients[c]) != 0)
        c++;
    return 4 * geometry + c;
}

static int cmp_log(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the natural logarithms of the positive finite values among v (NaN when none);
 * tmp holds n doubles. */
static double median_log(const double *v, size_t n, double *tmp)
{
    size_t i, m = 0;
    for (i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > 0.0)
            tmp[m++] = log(v[i]);
    if (m == 0)
        return NAN;
    qsort(tmp, m, sizeof *tmp, cmp_log);
    return m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
}

parus_status parus_season_radar_obs(const parus_season_sources *src, const parus_radar_point *pts,
                                    size_t n, parus_season_obs *out, size_t *n_out,
                                    parus_season_work *work, parus_error *err)
{
    size_t i, t, k, m, bytes, n_tracks = 0, ref = 0, *count, *tix;
    double *vals, *tmp, *med_vv, *med_vh;
    int *key;

    *n_out = 0;
    if (n == 0)
        return PARUS_OK;
    /* scratch: per point a value, a sort slot and its track; per track (at most n) its key,
     * count and medians */
    if (!parus__mul_size(n, 4 * sizeof(double) + 2 * sizeof(size_t) + sizeof(int), &bytes))
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold %zu radar observations", n);
    if (bytes > work->cap_bytes_) {
        void *nb = realloc(work->buf_, bytes);
        if (!nb)
            return parus_fail(err, PARUS_E_NOMEM, "cannot hold %zu radar observations", n);
        work->buf_ = nb;
        work->cap_bytes_ = bytes;
    }
    vals = work->buf_;
    tmp = vals + n;
    med_vv = tmp + n;
    med_vh = med_vv + n;
    count = (size_t *)(med_vh + n);
    tix = count + n;
    key = (int *)(tix + n);
    for (i = 0; i < n; i++) {
        int kk = parus_season_radar_pass(&pts[i]);
        for (t = 0; t < n_tracks && key[t] != kk; t++)
            ;
        if (t == n_tracks) {
            key[t] = kk;
            count[t] = 0;
            n_tracks++;
        }
        tix[i] = t;
        count[t] += isfinite(pts[i].obs.vv) && pts[i].obs.vv > 0.0;
    }
    /* the reference track: the most observations with a VV value (ties: the smaller key) */
    for (t = 1; t < n_tracks; t++)
        if (count[t] > count[ref] || (count[t] == count[ref] && key[t] < key[ref]))
            ref = t;
    for (t = 0; t < n_tracks; t++) {
        for (i = 0, m = 0; i < n; i++)
            if (tix[i] == t)
                vals[m++] = pts[i].obs.vv;
        med_vv[t] = median_log(vals, m, tmp);
        for (i = 0, m = 0; i < n; i++)
            if (tix[i] == t)
                vals[m++] = pts[i].obs.vh;
        med_vh[t] = median_log(vals, m, tmp);
    }
    for (i = 0; i < n; i++) {
        parus_season_obs *o = &out[*n_out];
        double vv = NAN, vh = NAN;
        parus_status st;
        t = tix[i];
        /* a pass seen too seldom to be scaled to the reference is left out, never pooled */
        if (t != ref && (count[t] < PARUS_SEASON_RADAR_MIN_TRACK_OBS || !isfinite(med_vv[t]) ||
                         !isfinite(med_vv[ref])))
            continue;
        st = parus_series_parse_day(pts[i].date, &o->day, err);
        if (st != PARUS_OK)
            return st;
        o->valid_fraction = pts[i].obs.valid_fraction;
        if (isfinite(pts[i].obs.vv) && pts[i].obs.vv > 0.0)
            vv = pts[i].obs.vv * exp(med_vv[ref] - med_vv[t]);
        if (isfinite(pts[i].obs.vh) && pts[i].obs.vh > 0.0 && isfinite(med_vh[t]) &&
            isfinite(med_vh[ref]))
            vh = pts[i].obs.vh * exp(med_vh[ref] - med_vh[t]);
        for (k = 0; k < PARUS_SEASON_MAX_VARS; k++) {
            double v = NAN;
            if (k < src->n_vars)
                switch (src->kind[k]) {
                case SRC_S1_VV:
                    v = vv;
                    break;
                case SRC_S1_VH:
                    v = vh;
                    break;
                case SRC_S1_VH_VV:
                    v = vh / vv;
                    break;
                case SRC_S1_RVI:
                    v = 4.0 * vh / (vv + vh);
                    break;
                case SRC_S1_WATER:
                    v = pts[i].obs.radar_water_fraction;
                    break;
                default:
                    break;
                }
            o->value[k] = v;
        }
        (*n_out)++;
    }
    return PARUS_OK;
}

void parus_season_obs_from_observation(const parus_season_spec *spec, int64_t day,
                                       const parus_observation *o, parus_season_obs *out)
{
    parus_season_sources src;
    parus_season_sources_init(spec, &src);
    parus_season_obs_from_sources(&src, day, o, out);
}

/* ---- features: computation ---- */

void parus_season_work_init(parus_season_work *work)
{
    memset(work, 0, sizeof *work);
}

void parus_season_work_release(parus_season_work *work)
{
    if (!work)
        return;
    free(work->buf_);
    parus_season_work_init(work);
}

/* A total order on doubles: numbers ascending, -0 before +0, NaN last. */
static int cmp_double(double a, double b)
{
    bool na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return (int)(signbit(b) != 0) - (int)(signbit(a) != 0);
}

static int cmp_obs(const void *pa, const void *pb)
{
    const parus_season_obs *a = pa, *b = pb;
    size_t k;
    int c;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if ((c = cmp_double(a->valid_fraction, b->valid_fraction)) != 0)
        return c;
    for (k = 0; k < PARUS_SEASON_MAX_VARS; k++)
        if ((c = cmp_double(a->value[k], b->value[k])) != 0)
            return c;
    return 0;
}

/* Maximum-value compositing for vegetation indices (Holben 1986), the valid-fraction weighted
 * mean for the rest: the header says why. */
static parus_series_method composite_method(const char *var)
{
    return strcmp(var, "ndvi") == 0 || strcmp(var, "evi") == 0 || strncmp(var, "ndvi_p", 6) == 0
               ? PARUS_SERIES_COMPOSITE_MAX
               : PARUS_SERIES_COMPOSITE_MEAN;
}

static void summarise(const double *z, size_t n, double *out)
{
    size_t i, k = 0, imax = 0;
    double sum = 0.0, sq = 0.0, mn = INFINITY, mx = -INFINITY, mean;
    for (i = 0; i < n; i++) {
        if (!isfinite(z[i]))
            continue;
        k++;
        sum += z[i];
        if (z[i] < mn)
            mn = z[i];
        if (z[i] > mx) {
            mx = z[i];
            imax = i;
        }
    }
    if (k == 0) {
        for (i = 0; i < PARUS_SEASON_N_SUMMARIES; i++)
            out[i] = NAN;
        return;
    }
    mean = sum / (double)k;
    for (i = 0; i < n; i++)
        if (isfinite(z[i]))
            sq += (z[i] - mean) * (z[i] - mean);
    out[0] = mean;
    out[1] = sqrt(sq / (double)k);
    out[2] = mn;
    out[3] = mx;
    out[4] = (double)imax;
}

/* The buffers of one call, carved from the work's single allocation. */
typedef struct bufs {
    parus_season_obs *obs;  /* n_obs: the clear observations, sorted */
    int64_t *day;           /* n_obs */
    double *value, *weight; /* n_obs */
    double *z, *w, *work;   /* n_steps, n_steps, 3 n_steps */
    unsigned char *flag;    /* n_steps */
} bufs;

static parus_status carve(parus_season_work *wk, size_t n_obs, size_t n_steps, bufs *b,
                          parus_error *err)
{
    size_t per_obs = sizeof(parus_season_obs) + sizeof(int64_t) + 2 * sizeof(double);
    size_t a, c, bytes;
    char *p;
    if (!parus__mul_size(n_obs ? n_obs : 1, per_obs, &a) ||
        !parus__mul_size(n_steps, 5 * sizeof(double) + 1, &c) || a > SIZE_MAX - c)
        return parus_fail(err, PARUS_E_NOMEM, "season with %zu observations is too large", n_obs);
    bytes = a + c;
    if (bytes > wk->cap_bytes_) {
        void *nb = realloc(wk->buf_, bytes);
        if (!nb)
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate season buffers of %zu bytes",
                              bytes);
        wk->buf_ = nb;
        wk->cap_bytes_ = bytes;
    }
    /* every piece is a multiple of 8 bytes up to the flags, so each stays aligned */
    p = wk->buf_;
    b->obs = (parus_season_obs *)(void *)p;
    p += (n_obs ? n_obs : 1) * sizeof(parus_season_obs);
    b->day = (int64_t *)(void *)p;
    p += (n_obs ? n_obs : 1) * sizeof(int64_t);
    b->value = (double *)(void *)p;
    p += (n_obs ? n_obs : 1) * sizeof(double);
    b->weight = (double *)(void *)p;
    p += (n_obs ? n_obs : 1) * sizeof(double);
    b->z = (double *)(void *)p;
    b->w = b->z + n_steps;
    b->work = b->w + n_steps;
    b->flag = (unsigned char *)(b->work + 3 * n_steps);
    return PARUS_OK;
}

static bool is_clear(const parus_season_obs *o, size_t n_vars, int64_t start_day,
                     size_t length_days, double min_valid_fraction)
{
    size_t k;
    if (o->day < start_day || (uint64_t)(o->day - start_day) >= (uint64_t)length_days)
        return false;
    if (!(o->valid_fraction >= min_valid_fraction))
        return false;
    for (k = 0; k < n_vars; k++)
        if (isfinite(o->value[k]))
            return true;
    return false;
}

/* One variable's regular series into z (NaN at missing steps) and flags; the step counts. */
static parus_status regular_series(const parus_season_spec *spec, const parus_series_options *sopt,
                                   int64_t start_day, size_t var, size_t n_clear, size_t n_steps,
                                   bufs *b, size_t counts[3], parus_error *err)
{
    size_t i;
    parus_error e2;
    parus_status st;
    for (i = 0; i < n_clear; i++) {
        b->day[i] = b->obs[i].day;
        b->value[i] = b->obs[i].value[var];
        b->weight[i] = b->obs[i].valid_fraction;
    }
    parus_series_composite(b->day, b->value, b->weight, n_clear, spec->min_valid_fraction,
                           start_day, spec->step_days, n_steps, composite_method(spec->vars[var]),
                           b->z);
    parus_series_fill_gaps(b->z, b->flag, n_steps, spec->max_gap_steps);
    counts[0] = counts[1] = counts[2] = 0;
    for (i = 0; i < n_steps; i++) {
        counts[0] += b->flag[i] == PARUS_SERIES_OBSERVED;
        counts[1] += b->flag[i] == PARUS_SERIES_INTERPOLATED;
        counts[2] += b->flag[i] == PARUS_SERIES_MISSING;
        b->w[i] = b->flag[i] == PARUS_SERIES_OBSERVED       ? 1.0
                  : b->flag[i] == PARUS_SERIES_INTERPOLATED ? sopt->interpolated_weight
                                                            : 0.0;
    }
    /* fewer than two observed steps cannot be smoothed (a line through them is undetermined):
     * the composite stands as it is */
    if (counts[0] >= 2) {
        st = parus_whittaker_smooth(b->z, b->w, n_steps, spec->lambda, b->z, b->work, &e2);
        if (st != PARUS_OK && st != PARUS_E_RANGE) {
            if (err)
                *err = e2;
            return st;
        }
    }
    for (i = 0; i < n_steps; i++)
        if (b->flag[i] == PARUS_SERIES_MISSING)
            b->z[i] = NAN;
    return PARUS_OK;
}

size_t parus_season_count_clear(const parus_season_spec *spec, int64_t start_day,
                                const parus_season_obs *obs, size_t n_obs)
{
    size_t i, n = 0;
    int64_t last = INT64_MIN;
    for (i = 0; obs && i < n_obs; i++)
        if (obs[i].day != last && is_clear(&obs[i], spec->n_vars, start_day, spec->length_days,
                                           spec->min_valid_fraction)) {
            n++;
            last = obs[i].day;
        }
    return n;
}

parus_status parus_season_features(const parus_season_spec *spec, int64_t start_day,
                                   const parus_season_obs *obs, size_t n_obs, double *features,
                                   parus_season_info *info, parus_season_work *work,
                                   parus_error *err)
{
    parus_series_options sopt;
    parus_season_info in;
    size_t n_steps, n_clear = 0, n_window = 0, i, v, pvar, block, counts[3];
    bufs b;
    parus_status st;
    char window[PARUS_SEASON_WINDOW_TEXT];

    memset(&b, 0, sizeof b);
    if ((st = parus_season_spec_check(spec, err)) != PARUS_OK)
        return st;
    if ((n_obs > 0 && !obs) || !features || !info || !work)
        return parus_fail(err, PARUS_E_INVALID, "season features: missing argument");
    n_steps = parus_season_n_steps(spec);
    block = var_block(n_steps);
    if ((st = carve(work, n_obs, n_steps, &b, err)) != PARUS_OK)
        return st;
    for (i = 0; i < n_obs; i++) {
        if (obs[i].day >= start_day &&
            (uint64_t)(obs[i].day - start_day) < (uint64_t)spec->length_days)
            n_window++;
        if (is_clear(&obs[i], spec->n_vars, start_day, spec->length_days, spec->min_valid_fraction))
            b.obs[n_clear++] = obs[i];
    }
    if (n_clear == 0)
        return parus_fail(
            err, PARUS_E_RANGE,
            "no clear observation in season '%s': %zu observations, %zu in the "
            "window, none with a valid fraction of at least %g and a value",
            parus_season_window_text(start_day, spec->length_days, window, sizeof window), n_obs,
            n_window, spec->min_valid_fraction);
    qsort(b.obs, n_clear, sizeof *b.obs, cmp_obs);

    parus_series_options_init(&sopt);
    sopt.min_valid_fraction = spec->min_valid_fraction;
    sopt.step_days = spec->step_days;
    sopt.max_gap_steps = spec->max_gap_steps;
    sopt.lambda = spec->lambda;

    memset(&in, 0, sizeof in);
    in.n_obs_used = n_clear;
    in.n_steps = n_steps;
    pvar = has_pheno(spec) ? parus_season_var_index(spec, spec->phenology_var) : 0;
    for (v = 0; v < spec->n_vars; v++) {
        double *out = features + v * block;
        if ((st = regular_series(spec, &sopt, start_day, v, n_clear, n_steps, &b, counts, err)) !=
            PARUS_OK)
            return st;
        memcpy(out, b.z, n_steps * sizeof *out);
        summarise(b.z, n_steps, out + n_steps);
        if (v != pvar)
            continue;
        in.n_observed = counts[0];
        in.n_interpolated = counts[1];
        in.n_missing = counts[2];
        if (has_pheno(spec)) {
            double *ph_out = features + spec->n_vars * block;
            parus_phenology ph;
            for (i = 0; i < PARUS_SEASON_N_PHENO; i++)
                ph_out[i] = NAN;
            if (counts[0] >= PARUS_SEASON_MIN_PHENO_STEPS &&
                parus_series_phenology(b.z, n_steps, start_day, spec->step_days, &sopt, &ph,
                                       NULL) == PARUS_OK) {
                double t0 = (double)start_day;
                ph_out[0] = (double)ph.n_cycles;
                ph_out[1] = ph.peak_value;
                ph_out[2] = ph.base;
                ph_out[3] = ph.amplitude;
                ph_out[4] = ph.integral_10d;
                ph_out[5] = ph.start_day - t0;
                ph_out[6] = ph.peak_day - t0;
                ph_out[7] = ph.end_day - t0;
                ph_out[8] = ph.length_days;
                in.phenology = true;
                in.n_cycles = ph.n_cycles;
            }
        }
    }
    features[parus_season_n_features(spec) - 1] = (double)n_clear;
    *info = in;
    return PARUS_OK;
}

/* ---- calendar fallback ---- */

parus_status parus_season_calendar_match(const parus_crop_table *t, const parus_season_spec *spec,
                                         int64_t start_day, const double *ndvi_regular,
                                         size_t n_steps, parus_calendar_match *out,
                                         parus_error *err)
{
    parus_calendar_match res;
    size_t i, k, n_used = 0;
    double *sq, sum_w = 0.0;
    const double s2 = 2.0 * PARUS_CALENDAR_SCALE_NDVI * PARUS_CALENDAR_SCALE_NDVI;

    if (!t || !spec || !ndvi_regular || !out)
        return parus_fail(err, PARUS_E_INVALID, "calendar match: missing argument");
    if (t->n_crops < 2)
        return parus_fail(err, PARUS_E_INVALID,
                          "calendar match needs a crop table of at least two crops, got %zu",
                          t->n_crops);
    if (spec->step_days == 0 || n_steps != parus_season_n_steps(spec))
        return parus_fail(err, PARUS_E_INVALID,
                          "calendar match: %zu steps given, the season has %zu", n_steps,
                          parus_season_n_steps(spec));
    for (i = 0; i < n_steps; i++)
        n_used += isfinite(ndvi_regular[i]) != 0;
    if (n_used < PARUS_CALENDAR_MIN_STEPS)
        return parus_fail(err, PARUS_E_RANGE,
                          "only %zu of %zu steps have an NDVI value; the calendar match needs %d",
                          n_used, n_steps, PARUS_CALENDAR_MIN_STEPS);
    if (!(sq = calloc(t->n_crops, sizeof *sq)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory matching calendars");
    for (i = 0; i < n_steps; i++) {
        int64_t day;
        int doy;
        if (!isfinite(ndvi_regular[i]))
            continue;
        day = start_day + (int64_t)(i * spec->step_days) + (int64_t)((spec->step_days - 1) / 2);
        doy = parus_series_day_of_year(day);
        for (k = 0; k < t->n_crops; k++) {
            double d = ndvi_regular[i] - parus_crop_expected_ndvi(&t->crops[k], doy);
            sq[k] += d * d;
        }
    }
    memset(&res, 0, sizeof res);
    res.best = 0;
    res.second = 1;
    for (k = 0; k < t->n_crops; k++)
        sq[k] = sqrt(sq[k] / (double)n_used);
    if (sq[1] < sq[0]) {
        res.best = 1;
        res.second = 0;
    }
    for (k = 2; k < t->n_crops; k++) {
        if (sq[k] < sq[res.best]) {
            res.second = res.best;
            res.best = k;
        } else if (sq[k] < sq[res.second]) {
            res.second = k;
        }
    }
    res.rmse_best = sq[res.best];
    res.rmse_second = sq[res.second];
    res.margin = res.rmse_second - res.rmse_best;
    /* relative to the best, so the largest term is exactly 1 and nothing underflows to 0/0 */
    for (k = 0; k < t->n_crops; k++)
        sum_w += exp(-(sq[k] * sq[k] - res.rmse_best * res.rmse_best) / s2);
    res.pseudo_probability = 1.0 / sum_w;
    res.n_steps_used = n_used;
    free(sq);
    *out = res;
    return PARUS_OK;
}

/* ---- the spec in a model file ---- */

/* The shortest decimal text that reads back as exactly v (locale-independent). */
static void exact_double(double v, char *buf, size_t n)
{
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        CPLsnprintf(buf, n, "%.*g", prec, v);
        if (CPLStrtod(buf, NULL) == v)
            return;
    }
}

static parus_status set_meta_size(parus_model *m, const char *key, size_t v, parus_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", v);
    return parus_model_set_meta(m, key, buf, err);
}

static parus_status set_meta_double(parus_model *m, const char *key, double v, parus_error *err)
{
    char buf[64];
    exact_double(v, buf, sizeof buf);
    return parus_model_set_meta(m, key, buf, err);
}

parus_status parus_season_spec_to_model(const parus_season_spec *spec, parus_model *m,
                                        parus_error *err)
{
    char buf[PARUS_SEASON_MAX_VARS * PARUS_SEASON_VAR_NAME_MAX + 1];
    char window[PARUS_SEASON_WINDOW_TEXT];
    size_t i, len = 0;
    parus_status st;
    if (!m)
        return parus_fail(err, PARUS_E_INVALID, "season spec to model: no model");
    if ((st = parus_season_spec_check(spec, err)) != PARUS_OK)
        return st;
    buf[0] = '\0';
    for (i = 0; i < spec->n_vars; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "", spec->vars[i]);
    if ((st = set_meta_size(m, "season_features", PARUS_SEASON_FEATURES_VERSION, err)) ||
        (st = parus_model_set_meta(
             m, "season_window",
             parus_season_window_text(spec->start_day, spec->length_days, window, sizeof window),
             err)) ||
        (st = set_meta_size(m, "season_length_days", spec->length_days, err)) ||
        (st = set_meta_size(m, "season_step_days", spec->step_days, err)) ||
        (st = set_meta_double(m, "season_min_valid_fraction", spec->min_valid_fraction, err)) ||
        (st = set_meta_size(m, "season_max_gap_steps", spec->max_gap_steps, err)) ||
        (st = set_meta_double(m, "season_lambda", spec->lambda, err)) ||
        (st = parus_model_set_meta(m, "season_variables", buf, err)) ||
        (st = parus_model_set_meta(m, "season_phenology_variable", spec->phenology_var, err)))
        return st;
    return PARUS_OK;
}

static parus_status meta_text(const parus_model *m, const char *key, const char **out,
                              parus_error *err)
{
    if (!(*out = parus_model_meta(m, key)))
        return parus_fail(err, PARUS_E_CONFIG,
                          "the model has no '%s': it was not trained on season features", key);
    return PARUS_OK;
}

static parus_status meta_size(const parus_model *m, const char *key, size_t *out, parus_error *err)
{
    const char *s;
    char *end;
    unsigned long long v;
    parus_status st;
    if ((st = meta_text(m, key, &s, err)) != PARUS_OK)
        return st;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > SIZE_MAX)
        return parus_fail(err, PARUS_E_CONFIG, "model meta '%s' is not a count: '%s'", key, s);
    *out = (size_t)v;
    return PARUS_OK;
}

static parus_status meta_double(const parus_model *m, const char *key, double *out,
                                parus_error *err)
{
    const char *s;
    char *end;
    double v;
    parus_status st;
    if ((st = meta_text(m, key, &s, err)) != PARUS_OK)
        return st;
    v = CPLStrtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return parus_fail(err, PARUS_E_CONFIG, "model meta '%s' is not a number: '%s'", key, s);
    *out = v;
    return PARUS_OK;
}

parus_status parus_season_spec_from_model(const parus_model *m, parus_season_spec *spec,
                                          parus_error *err)
{
    parus_season_spec sp;
    const char *s, *p;
    size_t version = 0, length, i, n_feat;
    char name[128];
    parus_error e2;
    parus_status st;

    if (!m || !spec)
        return parus_fail(err, PARUS_E_INVALID, "season spec from model: missing argument");
    memset(&sp, 0, sizeof sp);
    if ((st = meta_size(m, "season_features", &version, err)) != PARUS_OK)
        return st;
    if (version != PARUS_SEASON_FEATURES_VERSION)
        return parus_fail(err, PARUS_E_CONFIG,
                          "the model's season features are version %zu, this parus computes "
                          "version %d: retrain the model",
                          version, PARUS_SEASON_FEATURES_VERSION);
    if ((st = meta_text(m, "season_window", &s, err)) != PARUS_OK)
        return st;
    if (parus_season_parse_window(s, &sp.start_day, &length, &e2) != PARUS_OK)
        return parus_fail(err, PARUS_E_CONFIG, "model meta 'season_window': %s", e2.msg);
    if ((st = meta_size(m, "season_length_days", &sp.length_days, err)) ||
        (st = meta_size(m, "season_step_days", &sp.step_days, err)) ||
        (st = meta_double(m, "season_min_valid_fraction", &sp.min_valid_fraction, err)) ||
        (st = meta_size(m, "season_max_gap_steps", &sp.max_gap_steps, err)) ||
        (st = meta_double(m, "season_lambda", &sp.lambda, err)))
        return st;
    if (length != sp.length_days)
        return parus_fail(err, PARUS_E_CONFIG,
                          "model meta 'season_window' '%s' is %zu days, 'season_length_days' %zu",
                          s, length, sp.length_days);
    if ((st = meta_text(m, "season_variables", &s, err)) != PARUS_OK)
        return st;
    for (p = s; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (sp.n_vars == PARUS_SEASON_MAX_VARS || len == 0 || len >= PARUS_SEASON_VAR_NAME_MAX)
            return parus_fail(err, PARUS_E_CONFIG,
                              "model meta 'season_variables' is malformed: "
                              "'%s'",
                              s);
        memcpy(sp.vars[sp.n_vars], p, len);
        sp.vars[sp.n_vars][len] = '\0';
        sp.n_vars++;
        p = end ? end + 1 : p + len;
    }
    if ((st = meta_text(m, "season_phenology_variable", &s, err)) != PARUS_OK)
        return st;
    if (strlen(s) >= PARUS_SEASON_VAR_NAME_MAX)
        return parus_fail(err, PARUS_E_CONFIG,
                          "model meta 'season_phenology_variable' is too "
                          "long");
    set_name(sp.phenology_var, s);
    if (parus_season_spec_check(&sp, &e2) != PARUS_OK)
        return parus_fail(err, PARUS_E_CONFIG, "the model's season spec is invalid: %s", e2.msg);

    n_feat = parus_season_n_features(&sp);
    if (parus_model_n_features(m) != n_feat)
        return parus_fail(err, PARUS_E_CONFIG,
                          "the model has %zu features, its season spec gives %zu",
                          parus_model_n_features(m), n_feat);
    for (i = 0; i < n_feat; i++) {
        parus_season_feature_name(&sp, i, name, sizeof name);
        if (strcmp(name, parus_model_feature_name(m, i)) != 0)
            return parus_fail(err, PARUS_E_CONFIG,
                              "feature %zu is '%s' in the model but '%s' in its season spec", i + 1,
                              parus_model_feature_name(m, i), name);
    }
    *spec = sp;
    return PARUS_OK;
}

/*
 * health.c - a parcel's condition and event flags over a season, and its planted area.
 *
 * Workload: every parcel of a region once per assessment (140,000 parcels x 20-40 steps), after
 * the series of each crop group is built and its peer reference taken. Everything is O(n_steps)
 * per parcel (O(n_members log n_members) per step for the peers), touches no file and no global,
 * and allocates a few arrays of n_steps per call.
 *
 * Assumptions: one observation per step is what the rules see (step = the revisit), so an
 * event's date is an acquisition date; indices are the parcel's coverage-weighted means
 * (zonal.h), so mixed edge pixels carry some of the neighbours' signal, which the peer and
 * seasonal baselines absorb when it is steady. The header states every rule and default;
 * docs/method.md says why each is what it is and where it comes from.
 */
#include "parus/area.h"
#include "parus/health.h"
#include "parus/climate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/parcels.h"
#include "health_int.h"
#include "util_int.h"

/* ---- names ---- */

struct flag_info {
    parus_health_flag flag;
    const char *code, *text;
};

static const struct flag_info flag_table[] = {
#define PARUS_HEALTH_FLAG_ROW_(name, value, code, text) {PARUS_HEALTH_##name, code, text},
    PARUS_HEALTH_FLAG_MAP(PARUS_HEALTH_FLAG_ROW_)
#undef PARUS_HEALTH_FLAG_ROW_
};
#define N_FLAGS (sizeof flag_table / sizeof flag_table[0])

const char *parus_health_flag_code(parus_health_flag flag)
{
    if (flag == PARUS_HEALTH_NONE)
        return "NONE";
    for (size_t i = 0; i < N_FLAGS; i++)
        if (flag_table[i].flag == flag)
            return flag_table[i].code;
    return "UNKNOWN";
}

const char *parus_health_flag_text(parus_health_flag flag)
{
    if (flag == PARUS_HEALTH_NONE)
        return "no flag";
    for (size_t i = 0; i < N_FLAGS; i++)
        if (flag_table[i].flag == flag)
            return flag_table[i].text;
    return "unknown flag";
}

parus_health_flag parus_health_flag_from_code(const char *code)
{
    if (!code)
        return PARUS_HEALTH_NONE;
    for (size_t i = 0; i < N_FLAGS; i++)
        if (strcmp(flag_table[i].code, code) == 0)
            return flag_table[i].flag;
    return PARUS_HEALTH_NONE;
}

const char *parus_health_class_name(parus_health_class cls)
{
    switch (cls) {
    case PARUS_HEALTH_GOOD:
        return "good";
    case PARUS_HEALTH_FAIR:
        return "fair";
    case PARUS_HEALTH_POOR:
        return "poor";
    case PARUS_HEALTH_UNKNOWN:
        break;
    }
    return "unknown";
}

void parus_health_options_init(parus_health_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->step_days = 10;
    opt->min_valid_fraction = 0.6;
    opt->haze_blue_rise = 0.03;
    opt->max_gap_steps = 3;
    opt->lambda = 2.0;
    opt->min_peers = 5;
    opt->season_start_days = 15.0;
    opt->season_end_days = 10.0;
    opt->harvest_before_days = 20.0;
    opt->harvest_after_days = 40.0;
    opt->good_score = 0.85;
    opt->fair_score = 0.6;
    opt->poor_fence_iqr = 1.5;
    opt->flood_mndwi_rise = 0.1;
    opt->flood_ndwi_rise = 0.2;
    opt->flood_water_excess = 0.2;
    opt->flood_min_share = 0.25;
    opt->water_swir1 = 0.015;
    opt->radar_flood_min_share = 0.3;
    opt->radar_flood_rise = 0.25;
    opt->radar_paddy_days = 30.0;
    opt->radar_floods = false;
    opt->radar_losses = false;
    opt->radar_dip_db = 2.5;
    opt->radar_dip_days = 36.0;
    opt->radar_flood_vh_db = 0.0;
    opt->radar_flood_dip_db = 1.5;
    opt->radar_flood_dip_se = 2.0;
    opt->radar_flood_min_looks = 20.0;
    opt->radar_flood_run_looks = 6.0;
    opt->radar_veto_days = 3.0;
    opt->radar_veto_share = 0.1;
    opt->radar_loss_vh_db = 2.0;
    opt->radar_loss_se = 3.0;
    opt->radar_loss_days = 36.0;
    opt->radar_loss_min_looks = 10.0;
    opt->radar_loss_dates = 3.0;
    opt->radar_loss_own_share = 0.25;
    opt->loss_min_drop = 0.15;
    opt->loss_min_relative = 0.3;
    opt->loss_min_fall = 0.0;
    opt->loss_peer_max_drop = 0.1;
    opt->loss_peer_share = 0.5;
    opt->loss_recover_steps = 2;
    opt->loss_max_steps = 3;
    opt->loss_recover_share = 0.5;
    opt->loss_share_peer_veg = 0.5;
    opt->loss_perennial_fall_share = 0.5;
    opt->drought_min_steps = 3;
    opt->drought_iqr = 1.0;
    opt->drought_min_deficit = 0.05;
    opt->drought_moisture_gap = 0.03;
    opt->drought_max_veg_gap = 0.15;
    opt->not_planted_share = 0.35;
    opt->not_planted_min_ndvi = 0.4;
    opt->not_planted_amplitude = 0.15;
    opt->late_tolerance_days = 30.0;
    opt->late_sow_lag_days = 25.0;
    opt->area_tolerance = 0.15;
    opt->area_z = 1.0;
    opt->canopy_ndvi = 0.5;
    opt->canopy_margin_days = 10.0;
}

void parus_health_format_day(int64_t day, char out[11])
{
    parus__format_day(day, out);
}

/* ---- small numeric helpers ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted x[n] (n >= 1), linear between order statistics (R type 7). */
static double quantile_sorted(const double *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* Median of the finite values of v[n] at steps whose flag is OBSERVED (all steps when flag is
 * NULL); tmp holds n doubles. NaN when none. */
static double observed_median(const double *v, const unsigned char *flag, size_t n, double *tmp)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (!flag || flag[i] == PARUS_SERIES_OBSERVED))
            tmp[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(tmp, k, sizeof *tmp, cmp_double);
    return quantile_sorted(tmp, k, 0.5);
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* 0.5 at the threshold, 1 when the margin beyond it equals scale. */
static double confidence(double margin, double scale)
{
    if (!(scale > 0.0))
        return 1.0;
    return 0.5 + 0.5 * clamp(margin / scale, 0.0, 1.0);
}

static double step_centre(int64_t start_day, size_t step_days, size_t i)
{
    return (double)start_day + (double)i * (double)step_days + ((double)step_days - 1.0) / 2.0;
}

/* Smooth v[n] (NaN or weight 0 = no value) with weights from flags into z; work: 4 n doubles.
 * Falls back to the raw values when the system cannot be solved. Missing steps stay NaN. */
static void smooth_flagged(const double *v, const unsigned char *flag, size_t n, double lambda,
                           double *z, double *work)
{
    double *w = work, *wk = work + n;
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        bool ok = isfinite(v[i]) && (!flag || flag[i] != PARUS_SERIES_MISSING);
        w[i] = !ok ? 0.0 : (!flag || flag[i] == PARUS_SERIES_OBSERVED) ? 1.0 : 0.5;
        n_pos += w[i] > 0.0;
    }
    parus_status st = PARUS_E_RANGE;
    if (n_pos >= 2 && n >= 3 && isfinite(lambda) && lambda >= 0.0)
        st = parus_whittaker_smooth(v, w, n, lambda, z, wk, NULL);
    for (size_t i = 0; i < n; i++) {
        if (st != PARUS_OK)
            z[i] = w[i] > 0.0 ? v[i] : (double)NAN;
        else if (!(w[i] > 0.0))
            z[i] = NAN;
    }
}

static void empty_pheno(parus_phenology *ph)
{
    memset(ph, 0, sizeof *ph);
    ph->start_day = ph->peak_day = ph->end_day = ph->length_days = NAN;
    ph->base = ph->peak_value = ph->amplitude = NAN;
}

static void take_pheno(const double *z, size_t n, int64_t start_day, size_t step_days,
                       const parus_health_options *opt, parus_phenology *out)
{
    parus_series_options so;
    parus_series_options_init(&so);
    so.step_days = step_days;
    so.lambda = opt->lambda;
    if (parus_series_phenology(z, n, start_day, step_days, &so, out, NULL) != PARUS_OK)
        empty_pheno(out);
}

/* ---- 1. the regular series ---- */

void parus_health_series_init(parus_health_series *s)
{
    memset(s, 0, sizeof *s);
    empty_pheno(&s->pheno);
}

void parus_health_series_release(parus_health_series *s)
{
    if (!s)
        return;
    free(s->buf_);
    parus_health_series_init(s);
}

/* Per step: N_VARS values, ndvi_smooth, 4 work doubles, the day, the flag. */
#define SERIES_DOUBLES (PARUS_HEALTH_N_VARS_ + 1 + 4)

parus_status parus_health_series_alloc(parus_health_series *s, int64_t start_day, size_t step_days,
                                       size_t n_steps, parus_error *err)
{
    if (step_days == 0)
        return parus_fail(err, PARUS_E_INVALID, "health series step of 0 days");
    if (n_steps < 4)
        return parus_fail(err, PARUS_E_INVALID,
                          "health series of %zu steps is too short (at least 4)", n_steps);
    size_t per = SERIES_DOUBLES * sizeof(double) + sizeof(int64_t) + 1, bytes;
    if (!parus__mul_size(n_steps, per, &bytes))
        return parus_fail(err, PARUS_E_NOMEM, "health series of %zu steps is too long", n_steps);
    void *buf = malloc(bytes);
    if (!buf)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a health series of %zu steps",
                          n_steps);
    free(s->buf_);
    parus_health_series_init(s);
    s->buf_ = buf;
    double *d = buf;
    for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++)
        s->v[v] = d + (size_t)v * n_steps;
    s->ndvi_smooth = d + (size_t)PARUS_HEALTH_N_VARS_ * n_steps;
    s->day = (int64_t *)(d + SERIES_DOUBLES * n_steps);
    s->flag = (unsigned char *)(s->day + n_steps);
    s->start_day = start_day;
    s->step_days = step_days;
    s->n_steps = n_steps;
    for (size_t i = 0; i < n_steps; i++) {
        for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++)
            s->v[v][i] = NAN;
        s->ndvi_smooth[i] = NAN;
        s->day[i] = (int64_t)floor(step_centre(start_day, step_days, i));
        s->flag[i] = PARUS_SERIES_MISSING;
    }
    return PARUS_OK;
}

static double *series_work(const parus_health_series *s)
{
    return (double *)s->buf_ + (size_t)(PARUS_HEALTH_N_VARS_ + 1) * s->n_steps;
}

void parus_health_series_finish(parus_health_series *s, const parus_health_options *opt)
{
    size_t n = s->n_steps;
    s->n_observed = 0;
    for (size_t i = 0; i < n; i++)
        s->n_observed += s->flag[i] == PARUS_SERIES_OBSERVED;
    smooth_flagged(s->v[PARUS_HEALTH_NDVI], s->flag, n, opt->lambda, s->ndvi_smooth,
                   series_work(s));
    take_pheno(s->ndvi_smooth, n, s->start_day, s->step_days, opt, &s->pheno);
}

static double own_var(const parus_observation *o, int var)
{
    switch (var) {
    case PARUS_HEALTH_NDVI:
        return o->own_mean[PARUS_INDEX_NDVI];
    case PARUS_HEALTH_NDWI:
        return o->own_mean[PARUS_INDEX_NDWI];
    case PARUS_HEALTH_MNDWI:
        return o->own_mean[PARUS_INDEX_MNDWI];
    case PARUS_HEALTH_NDMI:
        return o->own_mean[PARUS_INDEX_NDMI];
    case PARUS_HEALTH_SWIR1:
        return o->own_band_mean[PARUS_ROLE_SWIR1];
    default:
        return NAN; /* the water fraction: the coverage-weighted one */
    }
}

/* The standard error of a vegetated fraction from its pixel count (docs/method.md, section 10):
 * each pixel straddling a boundary is counted whole or not at all, an error of variance 1/12 of
 * a pixel's area (Sheppard 1898) for a covered share spread evenly; the boundaries are the cut
 * between the sown and the bare part (about sqrt(W) pixels across a parcel of W pixels) and the
 * parcel's own edge (e W of its weight). */
static double veg_se(const parus_observation *o)
{
    double w = o->w_valid_px, e = isfinite(o->edge_share) ? o->edge_share : 1.0;
    if (!(w > 0.0) || !isfinite(w))
        return NAN;
    return sqrt((sqrt(w) + e * w) / 12.0) / w;
}

static double obs_var(const parus_observation *o, int var, bool own)
{
    if (var == PARUS_HEALTH_VEG_SE)
        return veg_se(o);
    if (var == PARUS_HEALTH_VEG_NDVI)
        return isfinite(o->own_veg_fraction) && isfinite(o->own_mean[PARUS_INDEX_NDVI])
                   ? o->own_mean[PARUS_INDEX_NDVI]
                   : o->mean[PARUS_INDEX_NDVI];
    /* the vegetated fraction is always the own one where measured: a parcel's bare edge beside a
     * green neighbour is not sown (docs/method.md, planted area) */
    if (var == PARUS_HEALTH_VEG && isfinite(o->own_veg_fraction))
        return o->own_veg_fraction;
    if (own) {
        double x = own_var(o, var);
        if (isfinite(x))
            return x;
    }
    switch (var) {
    case PARUS_HEALTH_NDVI:
        return o->mean[PARUS_INDEX_NDVI];
    case PARUS_HEALTH_NDWI:
        return o->mean[PARUS_INDEX_NDWI];
    case PARUS_HEALTH_MNDWI:
        return o->mean[PARUS_INDEX_MNDWI];
    case PARUS_HEALTH_NDMI:
        return o->mean[PARUS_INDEX_NDMI];
    case PARUS_HEALTH_VEG:
        return o->veg_fraction;
    case PARUS_HEALTH_WATER:
        return o->water_fraction;
    case PARUS_HEALTH_SWIR1:
        return o->band_mean[PARUS_ROLE_SWIR1];
    default:
        return NAN;
    }
}

static bool counts(const parus_observation *o, int64_t d, int64_t start_day, int64_t end_day,
                   double min_valid_fraction)
{
    return d >= start_day && d <= end_day && o->valid_fraction >= min_valid_fraction &&
           isfinite(o->mean[PARUS_INDEX_NDVI]);
}

/* Is observation a a better pick for its step than b? */
static bool better(const parus_observation *obs, const int64_t *day, size_t a, size_t b)
{
    if (b == SIZE_MAX)
        return true;
    if (obs[a].valid_fraction != obs[b].valid_fraction)
        return obs[a].valid_fraction > obs[b].valid_fraction;
    if (obs[a].mean[PARUS_INDEX_NDVI] != obs[b].mean[PARUS_INDEX_NDVI])
        return obs[a].mean[PARUS_INDEX_NDVI] > obs[b].mean[PARUS_INDEX_NDVI];
    return day[a] < day[b];
}

struct by_day {
    int64_t day;
    size_t i;
};

static int cmp_by_day(const void *a, const void *b)
{
    const struct by_day *x = a, *y = b;
    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return (x->i > y->i) - (x->i < y->i);
}

/* Residual haze (a cloud fringe the mask missed): thin cloud raises the blue reflectance more than
 * any other band, and clear land's blue is low and changes slowly (vegetation about 0.03, bare soil
 * about 0.09, open water about 0.065). An observation is hazy when its blue stands more than rise
 * above the nearest counting observations before and after it (a transient spike), or above the
 * parcel's seasonal median blue. */
static bool hazy(const parus_observation *obs, const struct by_day *cand, size_t n_cand, size_t c,
                 double blue_med, double rise)
{
    double b = obs[cand[c].i].band_mean[PARUS_ROLE_BLUE];
    if (!isfinite(b))
        return false;
    if (isfinite(blue_med) && b - blue_med > rise)
        return true;
    double around = NAN;
    for (size_t k = c; k-- > 0;)
        if (isfinite(obs[cand[k].i].band_mean[PARUS_ROLE_BLUE])) {
            around = obs[cand[k].i].band_mean[PARUS_ROLE_BLUE];
            break;
        }
    for (size_t k = c + 1; k < n_cand; k++)
        if (isfinite(obs[cand[k].i].band_mean[PARUS_ROLE_BLUE])) {
            double nb = obs[cand[k].i].band_mean[PARUS_ROLE_BLUE];
            around = isfinite(around) ? fmax(around, nb) : nb;
            break;
        }
    return isfinite(around) && b - around > rise;
}

parus_status parus_health_series_build(parus_health_series *s, const parus_health_options *opt,
                                       const int64_t *day, const parus_observation *obs,
                                       size_t n_obs, int64_t start_day, int64_t end_day,
                                       parus_error *err)
{
    if (opt->step_days == 0 || end_day < start_day)
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%lld..%lld' step %zu days is not a valid window",
                          (long long)start_day, (long long)end_day, opt->step_days);
    if (n_obs > 0 && (!day || !obs))
        return parus_fail(err, PARUS_E_INVALID, "series has %zu observations but no arrays", n_obs);
    uint64_t n64 = (uint64_t)(end_day - start_day) / opt->step_days + 1;
    if (n64 > SIZE_MAX / 256)
        return parus_fail(err, PARUS_E_RANGE, "season of %llu steps is too long",
                          (unsigned long long)n64);
    size_t n = (size_t)n64;
    if (n < 4)
        return parus_fail(err, PARUS_E_RANGE, "season of %zu steps is too short (at least 4)", n);

    parus_health_series t;
    parus_health_series_init(&t);
    parus_status st = parus_health_series_alloc(&t, start_day, opt->step_days, n, err);
    if (st != PARUS_OK)
        return st;
    size_t *pick = malloc(n * sizeof *pick);
    double *blue = malloc((n_obs > 0 ? n_obs : 1) * sizeof *blue);
    struct by_day *cand = malloc((n_obs > 0 ? n_obs : 1) * sizeof *cand);
    if (!pick || !blue || !cand) {
        st = parus_fail(err, PARUS_E_NOMEM, "cannot allocate a health series of %zu steps", n);
        goto out_free;
    }

    /* the observations that count, in date order */
    size_t n_cand = 0, k = 0;
    for (size_t i = 0; i < n_obs; i++) {
        if (!counts(&obs[i], day[i], start_day, end_day, opt->min_valid_fraction))
            continue;
        cand[n_cand].day = day[i];
        cand[n_cand++].i = i;
        if (isfinite(obs[i].band_mean[PARUS_ROLE_BLUE]))
            blue[k++] = obs[i].band_mean[PARUS_ROLE_BLUE];
    }
    qsort(cand, n_cand, sizeof *cand, cmp_by_day);
    double blue_med = NAN;
    if (k > 0) {
        qsort(blue, k, sizeof *blue, cmp_double);
        blue_med = quantile_sorted(blue, k, 0.5);
    }

    for (size_t i = 0; i < n; i++)
        pick[i] = SIZE_MAX;
    for (size_t c = 0; c < n_cand; c++) {
        size_t i = cand[c].i;
        if (hazy(obs, cand, n_cand, c, blue_med, opt->haze_blue_rise)) {
            t.n_hazy++;
            continue;
        }
        size_t j = (size_t)((uint64_t)(day[i] - start_day) / opt->step_days);
        if (better(obs, day, i, pick[j]))
            pick[j] = i;
    }
    for (size_t j = 0; j < n; j++) {
        if (pick[j] == SIZE_MAX)
            continue;
        t.day[j] = day[pick[j]];
        for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++)
            t.v[v][j] = obs_var(&obs[pick[j]], v, opt->own_values);
    }

    /* gaps: NDVI decides the flags; every variable is interpolated over the same steps */
    parus_series_fill_gaps(t.v[PARUS_HEALTH_NDVI], t.flag, n, opt->max_gap_steps);
    for (size_t j = 0; j < n; j++) {
        if (t.flag[j] != PARUS_SERIES_INTERPOLATED)
            continue;
        size_t l = j, r = j; /* an interpolated step has an observed one on each side */
        while (t.flag[l] != PARUS_SERIES_OBSERVED)
            l--;
        while (t.flag[r] != PARUS_SERIES_OBSERVED)
            r++;
        double f = (double)(j - l) / (double)(r - l);
        for (int v = 1; v < PARUS_HEALTH_N_VARS_; v++)
            t.v[v][j] = t.v[v][l] + f * (t.v[v][r] - t.v[v][l]);
    }
    parus_health_series_finish(&t, opt);

    parus_health_series_release(s);
    *s = t;
    t.buf_ = NULL;
out_free:
    free(pick);
    free(blue);
    free(cand);
    parus_health_series_release(&t);
    return st;
}

/* ---- 2. the peer reference ---- */

void parus_health_peers_init(parus_health_peers *p)
{
    memset(p, 0, sizeof *p);
    p->ratio_p25 = p->ratio_p75 = NAN;
    empty_pheno(&p->pheno);
}

void parus_health_peers_release(parus_health_peers *p)
{
    if (!p)
        return;
    free(p->buf_);
    parus_health_peers_init(p);
}

/* Per step: median, p25, p75 per variable, ndvi_smooth, 4 work; then a count per variable. */
#define PEERS_DOUBLES (3 * PARUS_HEALTH_N_VARS_ + 1 + 4)

/* The members of a peer reference: series, or compact rows (member m's variable v at step i is
 * values[(m * N_VARS + v) * n_steps + i], its flag flags[m * n_steps + i]). A value read from a row
 * is the float widened, exactly as a series filled from that row holds it. */
typedef struct peer_members {
    const parus_health_series *const *series; /* NULL: rows */
    const float *values;
    const unsigned char *flags;
    size_t n_members, n_steps;
} peer_members;

static double member_value(const peer_members *pm, size_t m, int v, size_t i)
{
    return pm->series
               ? pm->series[m]->v[v][i]
               : (double)pm->values[(m * PARUS_HEALTH_N_VARS_ + (size_t)v) * pm->n_steps + i];
}

static unsigned char member_flag(const peer_members *pm, size_t m, size_t i)
{
    return pm->series ? pm->series[m]->flag[i] : pm->flags[m * pm->n_steps + i];
}

/* Member m's green over its peers' median, on the steps where both have an NDVI, above the
 * median's lowest value (the group's bare level): the spread of this ratio over the members is
 * what makes a parcel an outlier among them. NaN without such steps. */
static double member_ratio(const peer_members *pm, size_t m, const parus_health_peers *p)
{
    const double *med = p->median[PARUS_HEALTH_NDVI];
    double base = HUGE_VAL, num = 0.0, den = 0.0;
    for (size_t i = 0; i < p->n_steps; i++)
        if (isfinite(med[i]) && med[i] < base)
            base = med[i];
    for (size_t i = 0; i < p->n_steps; i++) {
        double x = member_value(pm, m, PARUS_HEALTH_NDVI, i);
        if (member_flag(pm, m, i) == PARUS_SERIES_MISSING || !isfinite(x) || !isfinite(med[i]))
            continue;
        num += fmax(x - base, 0.0);
        den += fmax(med[i] - base, 0.0);
    }
    return den > 0.0 ? num / den : (double)NAN;
}

/* The same ratio of a parcel's own series. */
static double peer_ratio(const parus_health_series *s, const parus_health_peers *p)
{
    const parus_health_series *one[1] = {s};
    peer_members pm = {.series = one, .n_members = 1, .n_steps = p->n_steps};
    return member_ratio(&pm, 0, p);
}

/* parus_health_peers_build and _build_rows once their members are checked. */
static parus_status peers_build(parus_health_peers *p, const peer_members *pm, int64_t start_day,
                                size_t step_days, const parus_health_options *opt, parus_error *err)
{
    size_t n = pm->n_steps, n_members = pm->n_members,
           per = PEERS_DOUBLES * sizeof(double) + PARUS_HEALTH_N_VARS_ * sizeof(size_t), bytes;
    if (!parus__mul_size(n, per, &bytes))
        return parus_fail(err, PARUS_E_NOMEM, "peer reference of %zu steps is too long", n);
    void *buf = malloc(bytes);
    double *tmp = malloc(n_members * sizeof *tmp);
    if (!buf || !tmp) {
        free(buf);
        free(tmp);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a peer reference of %zu members",
                          n_members);
    }
    parus_health_peers t;
    parus_health_peers_init(&t);
    t.buf_ = buf;
    t.start_day = start_day;
    t.step_days = step_days;
    t.n_steps = n;
    t.n_members = n_members;
    double *d = buf;
    size_t *c = (size_t *)(d + PEERS_DOUBLES * n);
    size_t min_peers = opt->min_peers > 0 ? opt->min_peers : 1;
    for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++) {
        t.median[v] = d + (size_t)(3 * v) * n;
        t.p25[v] = d + (size_t)(3 * v + 1) * n;
        t.p75[v] = d + (size_t)(3 * v + 2) * n;
        t.n[v] = c + (size_t)v * n;
        for (size_t i = 0; i < n; i++) {
            size_t k = 0;
            for (size_t m = 0; m < n_members; m++) {
                double x = member_value(pm, m, v, i);
                if (member_flag(pm, m, i) != PARUS_SERIES_MISSING && isfinite(x))
                    tmp[k++] = x;
            }
            t.n[v][i] = k;
            if (k < min_peers) {
                t.median[v][i] = t.p25[v][i] = t.p75[v][i] = NAN;
                continue;
            }
            qsort(tmp, k, sizeof *tmp, cmp_double);
            t.median[v][i] = quantile_sorted(tmp, k, 0.5);
            t.p25[v][i] = quantile_sorted(tmp, k, 0.25);
            t.p75[v][i] = quantile_sorted(tmp, k, 0.75);
        }
    }
    for (size_t i = 0; i < n; i++)
        t.n_steps_with_ref += isfinite(t.median[PARUS_HEALTH_NDVI][i]);
    size_t k = 0;
    for (size_t m = 0; m < n_members; m++) {
        double r = member_ratio(pm, m, &t);
        if (isfinite(r))
            tmp[k++] = r;
    }
    t.ratio_p25 = t.ratio_p75 = NAN;
    if (k >= min_peers) {
        qsort(tmp, k, sizeof *tmp, cmp_double);
        t.ratio_p25 = quantile_sorted(tmp, k, 0.25);
        t.ratio_p75 = quantile_sorted(tmp, k, 0.75);
    }
    free(tmp);
    t.ndvi_smooth = d + (size_t)(3 * PARUS_HEALTH_N_VARS_) * n;
    smooth_flagged(t.median[PARUS_HEALTH_NDVI], NULL, n, opt->lambda, t.ndvi_smooth,
                   t.ndvi_smooth + n);
    take_pheno(t.ndvi_smooth, n, t.start_day, t.step_days, opt, &t.pheno);
    parus_health_peers_release(p);
    *p = t;
    return PARUS_OK;
}

parus_status parus_health_peers_build(parus_health_peers *p,
                                      const parus_health_series *const *members, size_t n_members,
                                      const parus_health_options *opt, parus_error *err)
{
    if (!members || n_members == 0)
        return parus_fail(err, PARUS_E_INVALID, "peer reference needs at least one series");
    for (size_t m = 0; m < n_members; m++) {
        const parus_health_series *s = members[m];
        if (!s || !s->buf_)
            return parus_fail(err, PARUS_E_INVALID, "peer series %zu is empty", m);
        if (s->start_day != members[0]->start_day || s->step_days != members[0]->step_days ||
            s->n_steps != members[0]->n_steps)
            return parus_fail(err, PARUS_E_INVALID,
                              "peer series %zu has other steps (%zu x %zu days from day %lld) than "
                              "the first (%zu x %zu days from day %lld)",
                              m, s->n_steps, s->step_days, (long long)s->start_day,
                              members[0]->n_steps, members[0]->step_days,
                              (long long)members[0]->start_day);
    }
    peer_members pm = {.series = members, .n_members = n_members, .n_steps = members[0]->n_steps};
    return peers_build(p, &pm, members[0]->start_day, members[0]->step_days, opt, err);
}

parus_status parus_health_peers_build_rows(parus_health_peers *p, const float *values,
                                           const unsigned char *flags, size_t n_members,
                                           int64_t start_day, size_t step_days, size_t n_steps,
                                           const parus_health_options *opt, parus_error *err)
{
    if (!values || !flags || n_members == 0)
        return parus_fail(err, PARUS_E_INVALID, "peer reference needs at least one series");
    if (n_steps < 4 || step_days == 0)
        return parus_fail(err, PARUS_E_INVALID,
                          "peer rows of %zu steps of %zu days: at least 4 steps of a day or more",
                          n_steps, step_days);
    peer_members pm = {
        .values = values, .flags = flags, .n_members = n_members, .n_steps = n_steps};
    return peers_build(p, &pm, start_day, step_days, opt, err);
}

/* ---- 3. condition and events ---- */

static int cyc365(int x)
{
    return ((x % 365) + 365) % 365;
}

/* doy inside [a + from, b + to] on the 365-day circle (a == b: the whole year). */
static bool in_doy_window(int doy, int a, int b, double from, double to)
{
    if (a == b)
        return true;
    int len = cyc365(b - a) + (int)lround(to) - (int)lround(from);
    if (len >= 364)
        return true;
    return len >= 0 && cyc365(doy - (a + (int)lround(from))) <= len;
}

/* doy inside [h - before, h + after] on the circle. */
static bool near_doy(int doy, int h, double before, double after)
{
    double off = (double)cyc365(doy - h);
    return off <= after || off - 365.0 >= -before;
}

/* The crop calendar's windows at day of year doy. */
static void calendar_windows(const parus_crop *crop, int doy, const parus_health_options *opt,
                             bool *season, bool *harvest)
{
    bool in = crop->kind != PARUS_CROP_NONCROP && crop->n_cycles == 0, planting = false;
    *harvest = false;
    for (int k = 0; k < crop->n_cycles && k < 2; k++) {
        const parus_crop_cycle *cy = &crop->cycle[k];
        bool whole_year = cy->sow_doy == cy->harvest_doy;
        in = in || in_doy_window(doy, cy->sow_doy, cy->harvest_doy, opt->season_start_days,
                                 opt->season_end_days);
        /* a cycle's planting weeks are no other cycle's season (double rice is transplanted
         * into the flooded paddy days after the first harvest) */
        planting = planting || (!whole_year && near_doy(doy, cy->sow_doy, opt->season_start_days,
                                                        opt->season_start_days));
        *harvest =
            *harvest || (!whole_year && near_doy(doy, cy->harvest_doy, opt->harvest_before_days,
                                                 opt->harvest_after_days));
    }
    *season = crop->kind != PARUS_CROP_NONCROP && in && !planting;
}

/* day in a cycle's planting weeks of the crop: from season_start_days before sowing to
 * radar_paddy_days after it. */
static bool in_planting_weeks(const parus_crop *crop, int64_t day, const parus_health_options *opt)
{
    int doy = parus_series_day_of_year(day);
    if (!crop || crop->kind == PARUS_CROP_NONCROP)
        return false;
    for (int k = 0; k < crop->n_cycles && k < 2; k++) {
        const parus_crop_cycle *cy = &crop->cycle[k];
        if (cy->sow_doy != cy->harvest_doy &&
            near_doy(doy, cy->sow_doy, opt->season_start_days, opt->radar_paddy_days))
            return true;
    }
    return false;
}

bool parus_health_growing_season(const parus_crop *crop, int64_t day,
                                 const parus_health_options *opt)
{
    bool season, harvest;
    if (!crop || !opt)
        return false;
    calendar_windows(crop, parus_series_day_of_year(day), opt, &season, &harvest);
    return season;
}

typedef struct assess_ctx {
    const parus_health_series *s;
    const parus_crop *crop;
    const parus_health_peers *peers;
    const double *expected;
    const parus_health_options *opt;
    parus_health_result *res;
    size_t n;
    /* work, n each */
    double *ref_ndvi, *tmp, *z, *work;
    unsigned char *season, *harvest, *flood;
} assess_ctx;

static double peer(const assess_ctx *c, int var, size_t i)
{
    return c->peers ? c->peers->median[var][i] : (double)NAN;
}

/* The peers give a reference for at least half of the season's steps. */
static bool peers_cover(const assess_ctx *c)
{
    return c->peers && 2 * c->peers->n_steps_with_ref >= c->n;
}

static void add_event(parus_health_result *res, parus_health_flag flag, int64_t day,
                      int64_t last_day, double size, double conf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

static void add_event(parus_health_result *res, parus_health_flag flag, int64_t day,
                      int64_t last_day, double size, double conf, const char *fmt, ...)
{
    if (res->n_events >= PARUS_HEALTH_MAX_EVENTS) {
        res->n_dropped++;
        return;
    }
    parus_health_event *e = &res->event[res->n_events++];
    e->flag = flag;
    e->day = day;
    e->last_day = last_day;
    e->size = size;
    e->confidence = clamp(conf, 0.0, 1.0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
}

static void mark_windows(assess_ctx *c)
{
    const parus_health_series *s = c->s;
    const parus_crop *crop = c->crop;
    const parus_health_options *opt = c->opt;
    for (size_t i = 0; i < c->n; i++) {
        bool season = false, harvest = false;
        if (crop) {
            calendar_windows(crop, parus_series_day_of_year(s->day[i]), opt, &season, &harvest);
        } else {
            const parus_phenology *ph = &s->pheno;
            double d = (double)s->day[i];
            for (size_t k = 0; k < ph->n_cycles && k < PARUS_SERIES_MAX_CYCLES; k++) {
                const parus_series_cycle *cy = &ph->cycle[k];
                season = season || (d >= cy->start_day && d <= cy->end_day + opt->season_end_days);
                harvest = harvest || (d >= cy->end_day - opt->harvest_before_days &&
                                      d <= cy->end_day + opt->harvest_after_days);
            }
        }
        c->season[i] = season;
        c->harvest[i] = harvest;
    }
}

static bool full_canopy(const parus_health_series *s, const parus_crop *crop,
                        const parus_health_options *opt, size_t i);

/* NOT_PLANTED; returns whether it was raised. */
static bool rule_not_planted(assess_ctx *c)
{
    const parus_health_series *s = c->s;
    const parus_crop *crop = c->crop;
    const parus_health_options *opt = c->opt;
    double peak = s->pheno.peak_value;
    char from[11];
    parus_health_format_day(s->start_day, from);
    if (crop && crop->kind == PARUS_CROP_NONCROP) {
        add_event(c->res, PARUS_HEALTH_NOT_PLANTED, s->start_day, s->day[c->n - 1], peak, 1.0,
                  "crop '%s' is not a crop (fallow or not planted); ndvi peaked at %.2f",
                  crop->code, peak);
        return true;
    }
    if (!isfinite(peak))
        return false;
    /* a parcel never seen while its crop stands at full canopy (cloud at the peak) shows no
     * evidence of being bare: a low peak then says nothing */
    if (crop) {
        bool seen = false;
        for (size_t i = 0; i < c->n && !seen; i++)
            seen = s->flag[i] == PARUS_SERIES_OBSERVED && full_canopy(s, crop, opt, i);
        if (!seen)
            return false;
    }
    double base = crop ? crop->ndvi_base : 0.0;
    double thr =
        crop ? crop->ndvi_base + opt->not_planted_share * (crop->ndvi_peak - crop->ndvi_base)
             : opt->not_planted_min_ndvi;
    if (peak < thr) {
        add_event(c->res, PARUS_HEALTH_NOT_PLANTED, s->start_day, s->day[c->n - 1], peak,
                  confidence(thr - peak, thr - base),
                  "ndvi peaked at %.2f from %s, below %.2f expected of %s", peak, from, thr,
                  crop ? crop->code : "a crop");
        return true;
    }
    /* no cycle seen and a flat series: bare land, unless it stood at a canopy's NDVI (then the
     * rise was not seen, under cloud or before the record, and something grew) */
    if (crop && crop->kind == PARUS_CROP_ANNUAL && s->pheno.n_cycles == 0 &&
        s->pheno.amplitude < opt->not_planted_amplitude && !(peak >= opt->canopy_ndvi)) {
        add_event(
            c->res, PARUS_HEALTH_NOT_PLANTED, s->start_day, s->day[c->n - 1], peak,
            confidence(opt->not_planted_amplitude - s->pheno.amplitude, opt->not_planted_amplitude),
            "no growth cycle from %s: ndvi varied by %.2f only (%s needs %.2f)", from,
            s->pheno.amplitude, crop->code, opt->not_planted_amplitude);
        return true;
    }
    return false;
}

/* FLOOD and WATER_OFF_SEASON; marks c->flood. */
static void rule_flood(assess_ctx *c)
{
    const parus_health_series *s = c->s;
    const parus_health_options *opt = c->opt;
    size_t n = c->n;
    const double *mndwi = s->v[PARUS_HEALTH_MNDWI], *ndwi = s->v[PARUS_HEALTH_NDWI],
                 *water = s->v[PARUS_HEALTH_WATER], *swir = s->v[PARUS_HEALTH_SWIR1];
    double own_m = observed_median(mndwi, s->flag, n, c->tmp);
    double own_w = observed_median(water, s->flag, n, c->tmp);
    double own_swir = observed_median(swir, s->flag, n, c->tmp);
    /* the parcel's usual MNDWI offset from its peers (its soil, its mixed edges) */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double pm = peer(c, PARUS_HEALTH_MNDWI, i);
        if (s->flag[i] == PARUS_SERIES_OBSERVED && isfinite(mndwi[i]) && isfinite(pm))
            c->tmp[k++] = mndwi[i] - pm;
    }
    double offset_m = NAN;
    if (k > 0) {
        qsort(c->tmp, k, sizeof *c->tmp, cmp_double);
        offset_m = quantile_sorted(c->tmp, k, 0.5);
    }
    /* the parcel's dry SWIR1 at a step: the peers' median there times the parcel's usual ratio to
     * it (soil and canopy brightness differ from field to field), else its own seasonal median */
    k = 0;
    for (size_t i = 0; i < n; i++) {
        double ps = peer(c, PARUS_HEALTH_SWIR1, i);
        if (s->flag[i] == PARUS_SERIES_OBSERVED && isfinite(swir[i]) && ps > 0.0)
            c->tmp[k++] = swir[i] / ps;
    }
    double ratio = NAN;
    if (k > 0) {
        qsort(c->tmp, k, sizeof *c->tmp, cmp_double);
        ratio = quantile_sorted(c->tmp, k, 0.5);
    }
    double *share = c->z, *conf = c->work;
    for (size_t i = 0; i < n; i++) {
        c->flood[i] = 0;
        share[i] = conf[i] = 0.0;
        /* with peers, a step they do not cover is not judged: the crop may be wet by design
         * there (a paddy before transplanting), which only its peers can tell */
        if (s->flag[i] != PARUS_SERIES_OBSERVED ||
            (peers_cover(c) && !isfinite(peer(c, PARUS_HEALTH_NDVI, i))))
            continue;
        /* a crop grown under water is flooded for planting, its peers on other days: its
         * planting weeks are not judged (as the radar rule does not judge them) */
        if (c->crop && c->crop->paddy && in_planting_weeks(c->crop, s->day[i], opt))
            continue;
        bool has_peer = false;
        double rise = NAN, thr = opt->flood_mndwi_rise;
        if (isfinite(mndwi[i]) && isfinite(own_m)) {
            double base = own_m, pm = peer(c, PARUS_HEALTH_MNDWI, i);
            double p75 = c->peers ? c->peers->p75[PARUS_HEALTH_MNDWI][i] : (double)NAN;
            if (isfinite(pm) && isfinite(p75) && isfinite(offset_m)) {
                /* the peers' upper quartile: water a quarter of them show is the crop's own
                 * (a paddy at transplanting), not a flood */
                has_peer = true;
                base = p75 + offset_m;
            }
            rise = mndwi[i] - base;
        } else if (isfinite(ndwi[i]) && isfinite(peer(c, PARUS_HEALTH_NDWI, i))) {
            has_peer = true;
            rise = ndwi[i] - peer(c, PARUS_HEALTH_NDWI, i);
            thr = opt->flood_ndwi_rise;
        }
        /* the share under water from SWIR1, where reflectances mix linearly */
        double m_swir = NAN;
        if (isfinite(swir[i])) {
            double ps = peer(c, PARUS_HEALTH_SWIR1, i);
            double dry = isfinite(ratio) && ps > 0.0 ? ratio * ps : own_swir;
            if (dry > opt->water_swir1)
                m_swir = (dry - swir[i]) / (dry - opt->water_swir1);
        }
        double ex = NAN;
        if (isfinite(water[i]) && isfinite(own_w)) {
            double bw = own_w, pw = peer(c, PARUS_HEALTH_WATER, i);
            if (isfinite(pw)) {
                has_peer = true;
                bw = fmax(bw, pw);
            }
            ex = water[i] - bw;
        }
        bool by_index =
            isfinite(rise) && rise >= thr && (!isfinite(m_swir) || m_swir >= opt->flood_min_share);
        bool by_water = isfinite(ex) && ex >= opt->flood_water_excess;
        if (!by_index && !by_water)
            continue;
        c->flood[i] = 1;
        share[i] = clamp(fmax(isfinite(m_swir) ? m_swir : 0.0, by_water ? ex : 0.0), 0.0, 1.0);
        double kc = fmax(
            by_index ? confidence(rise - thr, thr) : 0.0,
            by_water ? confidence(ex - opt->flood_water_excess, opt->flood_water_excess) : 0.0);
        conf[i] = kc * (has_peer ? 1.0 : 0.75);
    }
    /* runs of flooded observed steps (steps with no observation in between do not break one) */
    for (size_t i = 0; i < n; i++) {
        if (!c->flood[i])
            continue;
        size_t last = i, j;
        bool season = c->season[i];
        double size = share[i], kc = conf[i];
        for (j = i + 1; j < n; j++) {
            if (s->flag[j] != PARUS_SERIES_OBSERVED)
                continue;
            if (!c->flood[j])
                break;
            last = j;
            season = season || c->season[j];
            size = fmax(size, share[j]);
            kc = fmax(kc, conf[j]);
        }
        char d0[11], d1[11];
        parus_health_format_day(s->day[i], d0);
        parus_health_format_day(s->day[last], d1);
        if (season)
            add_event(c->res, PARUS_HEALTH_FLOOD, s->day[i], s->day[last], size, kc,
                      "water on %s..%s in the growing season: about %.0f %% of the parcel "
                      "(mndwi %+.2f, water fraction %.2f)",
                      d0, d1, 100.0 * size, mndwi[i] - own_m, water[i]);
        else
            add_event(c->res, PARUS_HEALTH_WATER_OFF_SEASON, s->day[i], s->day[last], size, kc,
                      "water on %s..%s outside the growing season: about %.0f %% of the parcel "
                      "(mndwi %+.2f, water fraction %.2f)",
                      d0, d1, 100.0 * size, mndwi[i] - own_m, water[i]);
        i = last;
    }
}

/* The reference NDVI at steps i and j from one source for both: the peers' median (1), else the
 * expected curve (2), else none (0: both 0, so anomalies are the raw NDVI). */
static int reference_pair(const assess_ctx *c, size_t i, size_t j, double *ri, double *rj)
{
    if (isfinite(peer(c, PARUS_HEALTH_NDVI, i)) && isfinite(peer(c, PARUS_HEALTH_NDVI, j))) {
        *ri = peer(c, PARUS_HEALTH_NDVI, i);
        *rj = peer(c, PARUS_HEALTH_NDVI, j);
        return 1;
    }
    if (c->expected && isfinite(c->expected[i]) && isfinite(c->expected[j])) {
        *ri = c->expected[i];
        *rj = c->expected[j];
        return 2;
    }
    *ri = *rj = 0.0;
    return 0;
}

/* The sown share of the parcel up to step j, against its peers: the highest ratio of its
 * vegetated fraction to the peers' median at the observed steps up to j where the peers cover at
 * least loss_share_peer_veg of their parcels (at green-up the ratio says nothing), at most 1; 1
 * when there is none. A partly sown parcel's NDVI is its sown part's diluted by bare soil. */
static double sown_share(const assess_ctx *c, size_t j)
{
    const parus_health_series *s = c->s;
    double f = -1.0;
    for (size_t k = 0; k <= j; k++) {
        double pv = peer(c, PARUS_HEALTH_VEG, k), v = s->v[PARUS_HEALTH_VEG][k];
        if (s->flag[k] == PARUS_SERIES_OBSERVED && isfinite(v) && pv >= c->opt->loss_share_peer_veg)
            f = fmax(f, clamp(v / pv, 0.0, 1.0));
    }
    return f >= 0.0 ? f : 1.0;
}

/* SUDDEN_LOSS on the NDVI anomaly (parcel minus reference); returns the step of the first loss
 * (n when none). */
/* The first day after day on which another cycle of a crop of two is sown (day in neither of
 * its cycles: the next sowing of either); INT64_MAX for a crop of one cycle. */
static int64_t next_sowing_day(const parus_crop *crop, int64_t day)
{
    int64_t next = INT64_MAX;
    int doy = parus_series_day_of_year(day);
    for (int k = 0; crop && crop->n_cycles >= 2 && k < crop->n_cycles && k < 2; k++) {
        const parus_crop_cycle *cy = &crop->cycle[k];
        if (cy->sow_doy == cy->harvest_doy ||
            in_doy_window(doy, cy->sow_doy, cy->harvest_doy, 0, 0))
            continue;
        int ahead = cyc365(cy->sow_doy - doy);
        if (ahead > 0 && day + ahead < next)
            next = day + ahead;
    }
    return next;
}

static size_t rule_loss(assess_ctx *c)
{
    const parus_health_series *s = c->s;
    const parus_health_options *opt = c->opt;
    size_t n = c->n, first = n;
    const double *ndvi = s->v[PARUS_HEALTH_NDVI];
    double floor_a = -HUGE_VAL; /* after a loss: no new one until the anomaly is back above this */
    double bare = c->crop ? c->crop->ndvi_base : s->pheno.base;
    if (!isfinite(bare))
        bare = 0.0;
    bool perennial = c->crop && c->crop->kind == PARUS_CROP_PERENNIAL;
    size_t prev = SIZE_MAX; /* last observed, non-flooded step */
    for (size_t i = 0; i < n; i++) {
        if (s->flag[i] != PARUS_SERIES_OBSERVED || c->flood[i])
            continue;
        size_t j = prev;
        prev = i;
        if (j == SIZE_MAX || i - j > opt->loss_max_steps)
            continue;
        double ri, rj;
        int src = reference_pair(c, i, j, &ri, &rj);
        if (!src)
            continue; /* nothing to compare with: a loss and the crop's own ripening look alike */
        double a_i = ndvi[i] - ri, a_j = ndvi[j] - rj;
        if (a_i >= floor_a)
            floor_a = -HUGE_VAL;
        if (floor_a > -HUGE_VAL)
            continue;
        double drop = a_j - a_i, raw = ndvi[j] - ndvi[i], dref = rj - ri;
        if (!(drop >= opt->loss_min_drop) || !(raw >= opt->loss_min_fall) || !(ndvi[j] > 0.0) ||
            drop / ndvi[j] < opt->loss_min_relative || c->harvest[i])
            continue;
        /* there was a crop to lose: an annual crop stood above its bare level (a perennial
         * stands all year, but its loss is a fall of its own canopy, not a stalled green-up) */
        if (perennial ? raw < opt->loss_perennial_fall_share * drop
                      : ndvi[j] - bare < opt->loss_min_drop)
            continue;
        /* ... near its reference, scaled to the share of the parcel that is sown (one already
         * far below is in poor condition, not suddenly lost); a crop that is lost ends below it
         * (green that only ever stood above it, weeds or a neighbour's crop seen through mixed
         * edge pixels, is not the crop's, and a partly sown parcel lags its peers in proportion) */
        double f = src == 1 ? sown_share(c, j) : 1.0;
        double sr_i = bare + f * (ri - bare), sr_j = bare + f * (rj - bare);
        if (ndvi[j] - sr_j < -opt->loss_min_drop || ndvi[i] - sr_i > -opt->loss_min_drop)
            continue;
        /* the reference fell too: harvest, senescence or a regional event, not this parcel's */
        if (dref >= opt->loss_peer_max_drop && dref >= opt->loss_peer_share * fmax(raw, drop))
            continue;
        /* does it come back? at least one later observation must say no (of this cycle: the
         * green-up of the crop's next cycle, the maize sown after a lost wheat, is no recovery) */
        size_t seen = 0;
        bool recovered = false;
        int64_t next_sowing = next_sowing_day(c->crop, s->day[i]);
        for (size_t k = i + 1; k < n && seen < opt->loss_recover_steps; k++) {
            if (s->day[k] >= next_sowing)
                break;
            if (s->flag[k] != PARUS_SERIES_OBSERVED || c->flood[k])
                continue;
            seen++;
            /* its own NDVI regains a share of what it lost against the reference: a parcel that
             * is only late catches up, a lost one stays flat (a loss during green-up stalls the
             * curve rather than dropping it) or bare (after a loss late in the cycle, the peers'
             * harvest brings them down to it, which is no recovery) */
            if (ndvi[k] >= ndvi[i] + opt->loss_recover_share * drop)
                recovered = true;
        }
        if (seen == 0 || recovered)
            continue;
        char d0[11];
        parus_health_format_day(s->day[i], d0);
        double k = confidence(drop - opt->loss_min_drop, opt->loss_min_drop);
        add_event(c->res, PARUS_HEALTH_SUDDEN_LOSS, s->day[i], s->day[n - 1], drop / ndvi[j], k,
                  "ndvi fell from %.2f to %.2f by %s while %s went %.2f to %.2f: -%.0f %% "
                  "against them, not recovered",
                  ndvi[j], ndvi[i], d0, src == 1 ? "peers" : "the expected curve", rj, ri,
                  100.0 * drop / ndvi[j]);
        if (first == n)
            first = i;
        floor_a = a_i + opt->loss_recover_share * drop;
    }
    return first;
}

/* Reference cycles for LATE_PLANTING: the peers' median curve, else the expected curve. */
static const parus_phenology *reference_pheno(assess_ctx *c, parus_phenology *tmp, bool *by_peers)
{
    *by_peers = false;
    if (c->peers && c->peers->pheno.n_cycles > 0) {
        *by_peers = true;
        return &c->peers->pheno;
    }
    if (c->expected) {
        smooth_flagged(c->expected, NULL, c->n, c->opt->lambda, c->z, c->work);
        take_pheno(c->z, c->n, c->s->start_day, c->s->step_days, c->opt, tmp);
        if (tmp->n_cycles > 0)
            return tmp;
    }
    return NULL;
}

/* LATE_PLANTING; returns the day until which the parcel is judged late (NaN when not). */
static double rule_late(assess_ctx *c)
{
    const parus_health_series *s = c->s;
    const parus_crop *crop = c->crop;
    const parus_health_options *opt = c->opt;
    const parus_phenology *ph = &s->pheno;
    double late_until = NAN;
    if (crop && crop->kind != PARUS_CROP_ANNUAL)
        return late_until;
    parus_phenology tmp;
    bool by_peers;
    const parus_phenology *ref = reference_pheno(c, &tmp, &by_peers);
    double first_day = (double)s->start_day + (double)s->step_days;
    double last_day = (double)s->start_day + (double)(s->step_days * c->n);
    for (size_t k = 0; k < ph->n_cycles && k < PARUS_SERIES_MAX_CYCLES; k++) {
        const parus_series_cycle *cy = &ph->cycle[k];
        if (!(cy->start_day > first_day)) /* the rise began before the season: not seen */
            continue;
        double ref_start = NAN;
        const char *what = "peers";
        if (ref) {
            double best = 61.0;
            for (size_t r = 0; r < ref->n_cycles && r < PARUS_SERIES_MAX_CYCLES; r++) {
                double dp = fabs(ref->cycle[r].peak_day - cy->peak_day);
                if (dp < best && ref->cycle[r].start_day > first_day) {
                    best = dp;
                    ref_start = ref->cycle[r].start_day;
                }
            }
            what = by_peers ? "peers" : "the expected curve";
        } else if (crop) {
            /* the crop's sowing + the usual lag to a visible start, on the date nearest */
            for (int r = 0; r < crop->n_cycles && r < 2; r++) {
                int doy = parus_series_day_of_year((int64_t)floor(cy->start_day));
                double target = (double)crop->cycle[r].sow_doy + opt->late_sow_lag_days;
                double diff = target - (double)doy;
                diff -= 365.0 * floor((diff + 182.5) / 365.0); /* into -182.5..182.5 */
                double cand = cy->start_day + diff;
                if (cand > first_day && cand < last_day &&
                    (!isfinite(ref_start) ||
                     fabs(cand - cy->start_day) < fabs(ref_start - cy->start_day)))
                    ref_start = cand;
            }
            what = "the crop's sowing";
        }
        if (!isfinite(ref_start))
            continue;
        double late = cy->start_day - ref_start;
        if (late <= opt->late_tolerance_days)
            continue;
        char d0[11], d1[11];
        parus_health_format_day((int64_t)floor(cy->start_day), d0);
        parus_health_format_day((int64_t)floor(ref_start), d1);
        add_event(c->res, PARUS_HEALTH_LATE_PLANTING, (int64_t)floor(cy->start_day),
                  (int64_t)floor(cy->peak_day), late,
                  confidence(late - opt->late_tolerance_days, opt->late_tolerance_days) *
                      (by_peers ? 1.0 : 0.75),
                  "season started on %s, %.0f days after %s (%s)", d0, late, what, d1);
        if (!isfinite(late_until) || cy->peak_day > late_until)
            late_until = cy->peak_day;
    }
    return late_until;
}

/* DROUGHT_STRESS (needs peers). Steps from first_loss on, and before late_until, are skipped. */
static void rule_drought(assess_ctx *c, size_t first_loss, double late_until)
{
    const parus_health_series *s = c->s;
    const parus_health_options *opt = c->opt;
    const parus_health_peers *p = c->peers;
    if (!p || opt->drought_min_steps == 0)
        return;
    const double *ndvi = s->v[PARUS_HEALTH_NDVI], *ndmi = s->v[PARUS_HEALTH_NDMI];
    size_t run = 0, run_start = 0;
    double sum_def = 0.0, sum_margin = 0.0;
    for (size_t i = 0; i <= c->n; i++) {
        bool stressed = false;
        double dm = 0.0, thr_m = 0.0;
        if (i < c->n && i < first_loss && c->season[i] && !c->flood[i] &&
            s->flag[i] != PARUS_SERIES_MISSING &&
            !(isfinite(late_until) && (double)s->day[i] <= late_until)) {
            int V = PARUS_HEALTH_NDVI, M = PARUS_HEALTH_NDMI;
            double iqr_v = p->p75[V][i] - p->p25[V][i], iqr_m = p->p75[M][i] - p->p25[M][i];
            double dv = p->median[V][i] - ndvi[i];
            dm = p->median[M][i] - ndmi[i];
            double thr_v = fmax(opt->drought_iqr * iqr_v, opt->drought_min_deficit);
            thr_m = fmax(opt->drought_iqr * iqr_m, opt->drought_min_deficit);
            double slope = iqr_v > 1e-6 ? clamp(iqr_m / iqr_v, 0.0, 2.0) : 1.0;
            /* the stand covers the parcel as its peers' do: a thin or partly planted stand is
             * green and dry in proportion, and its area is measured elsewhere */
            double veg_gap = p->median[PARUS_HEALTH_VEG][i] - s->v[PARUS_HEALTH_VEG][i];
            stressed = isfinite(dv) && isfinite(dm) && isfinite(iqr_v) && isfinite(iqr_m) &&
                       !(veg_gap > opt->drought_max_veg_gap) && dv >= thr_v && dm >= thr_m &&
                       dm - slope * dv >= opt->drought_moisture_gap;
        }
        if (stressed) {
            if (run == 0) {
                run_start = i;
                sum_def = sum_margin = 0.0;
            }
            run++;
            sum_def += dm;
            sum_margin += (dm - thr_m) / thr_m;
            continue;
        }
        if (run >= opt->drought_min_steps) {
            size_t last = i - 1;
            char d0[11], d1[11];
            parus_health_format_day(s->day[run_start], d0);
            parus_health_format_day(s->day[last], d1);
            add_event(c->res, PARUS_HEALTH_DROUGHT_STRESS, s->day[run_start], s->day[last],
                      sum_def / (double)run, confidence(sum_margin / (double)run, 1.0),
                      "ndmi %.2f and ndvi below peers' band from %s to %s (%zu steps), canopy "
                      "drier than its greenness explains",
                      -sum_def / (double)run, d0, d1, run);
        }
        run = 0;
    }
}

static void score(assess_ctx *c, bool not_planted)
{
    const parus_health_series *s = c->s;
    parus_health_result *res = c->res;
    size_t n = c->n;
    const double *ndvi = s->v[PARUS_HEALTH_NDVI];
    bool any_peer = false, any_curve = false, any_season = false;
    for (size_t i = 0; i < n; i++) {
        double r = peer(c, PARUS_HEALTH_NDVI, i);
        if (isfinite(r)) {
            any_peer = true;
        } else if (c->expected && isfinite(c->expected[i])) {
            r = c->expected[i];
            any_curve = true;
        }
        c->ref_ndvi[i] = r;
        any_season = any_season || c->season[i];
    }
    res->reference = any_peer    ? PARUS_HEALTH_REF_PEERS
                     : any_curve ? PARUS_HEALTH_REF_CURVE
                                 : PARUS_HEALTH_REF_NONE;
    double base = HUGE_VAL;
    if (c->crop) {
        base = c->crop->ndvi_base;
    } else {
        for (size_t i = 0; i < n; i++)
            if (isfinite(c->ref_ndvi[i]) && c->ref_ndvi[i] < base)
                base = c->ref_ndvi[i];
    }
    double num = 0.0, den = 0.0;
    res->n_season_steps = 0;
    for (size_t i = 0; i < n; i++) {
        if ((any_season && !c->season[i]) || s->flag[i] == PARUS_SERIES_MISSING ||
            !isfinite(ndvi[i]))
            continue;
        res->n_season_steps++;
        if (!isfinite(c->ref_ndvi[i]))
            continue;
        num += fmax(ndvi[i] - base, 0.0);
        den += fmax(c->ref_ndvi[i] - base, 0.0);
    }
    res->green_ratio = res->score = NAN;
    res->cls = PARUS_HEALTH_UNKNOWN;
    if (not_planted) {
        res->green_ratio = den > 0.0 ? num / den : (double)NAN;
        res->score = 0.0;
        res->cls = PARUS_HEALTH_POOR;
        return;
    }
    if (!(den > 0.0))
        return;
    res->green_ratio = num / den;
    res->score = clamp(res->green_ratio, 0.0, 1.0);
    res->cls = res->score >= c->opt->good_score   ? PARUS_HEALTH_GOOD
               : res->score >= c->opt->fair_score ? PARUS_HEALTH_FAIR
                                                  : PARUS_HEALTH_POOR;
    /* POOR needs the parcel outside its peers' own spread: its peer ratio below Tukey's lower
     * fence of the members' (q25 - k IQR). A group whose members differ widely (a class that
     * gathers parcels of several crops) does not vouch for a parcel being weak: FAIR. */
    if (res->cls == PARUS_HEALTH_POOR && res->reference == PARUS_HEALTH_REF_PEERS &&
        peers_cover(c) && isfinite(c->peers->ratio_p25) && isfinite(c->peers->ratio_p75)) {
        double fence = c->peers->ratio_p25 -
                       c->opt->poor_fence_iqr * (c->peers->ratio_p75 - c->peers->ratio_p25);
        if (!(peer_ratio(s, c->peers) < fence))
            res->cls = PARUS_HEALTH_FAIR;
    }
}

static void sort_events(parus_health_result *res)
{
    for (size_t i = 1; i < res->n_events; i++) {
        parus_health_event e = res->event[i];
        size_t j = i;
        while (j > 0 && (res->event[j - 1].day > e.day ||
                         (res->event[j - 1].day == e.day && res->event[j - 1].flag > e.flag))) {
            res->event[j] = res->event[j - 1];
            j--;
        }
        res->event[j] = e;
    }
}

void parus_health_add_weather_events(parus_health_result *res, const char *crop_code,
                                     double theat_c, double heat_days, int64_t first_day,
                                     int64_t last_day)
{
    if (!res || !(heat_days >= PARUS_HEALTH_HEAT_MIN_DAYS))
        return;
    add_event(res, PARUS_HEALTH_HEAT_STRESS, first_day, last_day, heat_days,
              heat_days / (2.0 * PARUS_HEALTH_HEAT_MIN_DAYS),
              "%.0f days above %.1f degC within 10 days of the %s peak", heat_days, theat_c,
              crop_code ? crop_code : "crop's");
    sort_events(res);
}

void parus_health_add_frost(parus_health_result *res, const char *crop_code, double frost_days,
                            double min_tmin_c, int64_t first_day, int64_t last_day)
{
    char d0[11], d1[11];
    if (!res || !(frost_days >= 1.0))
        return;
    parus_health_format_day(first_day, d0);
    parus_health_format_day(last_day, d1);
    add_event(res, PARUS_HEALTH_FROST, first_day, last_day, frost_days,
              fmin(1.0, 0.5 + 0.25 * frost_days),
              "%.0f nights below %.0f degC from %s to %s (coldest %.1f degC) around the %s peak",
              frost_days, PARUS_CLIMATE_DAMAGING_FROST_C, d0, d1, min_tmin_c,
              crop_code ? crop_code : "crop's");
    sort_events(res);
}

void parus_health_add_drought(parus_health_result *res, const parus_crop *crop,
                              const parus_health_drought_input *in, size_t min_peers)
{
    double typical, peers_amp, own_amp, conf_rain, conf_canopy;
    char d0[11], d1[11];
    size_t i, kept = 0;
    if (!res || !in)
        return;
    /* the rain is known and was not short: the canopy's dryness against the peers is not a
     * drought (the health score keeps the shortfall) */
    if (in->rain_ratio > PARUS_HEALTH_DROUGHT_RAIN_RATIO) {
        for (i = 0; i < res->n_events; i++)
            if (res->event[i].flag != PARUS_HEALTH_DROUGHT_STRESS)
                res->event[kept++] = res->event[i];
        res->n_events = kept;
    }
    if (!crop || crop->kind != PARUS_CROP_ANNUAL ||
        !(in->rain_ratio <= PARUS_HEALTH_DROUGHT_RAIN_RATIO) ||
        in->n_peers < (min_peers > 0 ? min_peers : 1))
        return;
    typical = crop->ndvi_peak - crop->ndvi_base;
    if (!(typical > 0.0))
        return;
    peers_amp = (in->peers_peak_ndvi - crop->ndvi_base) / typical;
    own_amp = (in->peak_ndvi - crop->ndvi_base) / typical;
    if (!(peers_amp + PARUS_HEALTH_DROUGHT_SE_Z * in->peers_peak_se / typical <=
          PARUS_HEALTH_DROUGHT_PEERS_AMPLITUDE) ||
        !(own_amp <= PARUS_HEALTH_DROUGHT_PARCEL_AMPLITUDE))
        return;
    conf_rain = confidence(PARUS_HEALTH_DROUGHT_RAIN_RATIO - in->rain_ratio,
                           PARUS_HEALTH_DROUGHT_RAIN_RATIO);
    conf_canopy = confidence(PARUS_HEALTH_DROUGHT_PEERS_AMPLITUDE - peers_amp, 0.1);
    parus_health_format_day(in->first_day, d0);
    parus_health_format_day(in->last_day, d1);
    add_event(res, PARUS_HEALTH_DROUGHT, in->first_day, in->last_day, 1.0 - in->rain_ratio,
              fmin(conf_rain, conf_canopy),
              "rain %.0f mm from %s to %s, %.0f %% of its %zu-year normal %.0f mm; %s peers "
              "(%zu) peak at %.0f %% of the crop's typical canopy, this parcel at %.0f %%",
              in->rain_mm, d0, d1, 100.0 * in->rain_ratio, in->n_years, in->normal_mm, crop->code,
              in->n_peers, 100.0 * peers_amp, 100.0 * own_amp);
    sort_events(res);
}

void parus_health_add_waterlogging(parus_health_result *res, const parus_crop *crop,
                                   const parus_health_series *s, const parus_health_peers *peers,
                                   const parus_health_waterlog_input *in)
{
    double before = NAN, stage = NAN, pk = -INFINITY, pk_peers = -INFINITY, after, base;
    double conf_rain, conf_canopy, need_mm;
    int64_t a1 = 0, end;
    size_t i, n_after = 0;
    char d0[11], d1[11], seen_before[32] = "not seen";
    if (!res || !crop || !s || !peers || !in || crop->kind != PARUS_CROP_ANNUAL || crop->paddy ||
        !peers->median[PARUS_HEALTH_NDVI] || peers->n_steps != s->n_steps ||
        peers->start_day != s->start_day || peers->step_days != s->step_days)
        return;
    /* without a climatology the storm is not judged: the floor alone was not measured */
    need_mm =
        fmax(PARUS_HEALTH_WATERLOG_MIN_MM, PARUS_HEALTH_WATERLOG_CLIM_RATIO * in->clim_max_mm);
    if (!isfinite(in->clim_max_mm) || !(in->rain_mm >= need_mm))
        return;
    base = crop->ndvi_base;
    end = in->last_day + PARUS_HEALTH_WATERLOG_AFTER_MAX_DAYS;
    /* open water over the parcel then is a flood, the flood rules' event */
    for (i = 0; i < res->n_events; i++)
        if (res->event[i].flag == PARUS_HEALTH_FLOOD && res->event[i].day <= end &&
            res->event[i].last_day >= in->first_day)
            return;
    for (i = 0; i < s->n_steps; i++) {
        int64_t d = s->day[i];
        double med = peers->median[PARUS_HEALTH_NDVI][i], v = s->v[PARUS_HEALTH_NDVI][i];
        bool seen = s->flag[i] == PARUS_SERIES_OBSERVED && isfinite(v);
        if (!isfinite(med))
            continue;
        if (d <= in->first_day && d >= in->first_day - PARUS_HEALTH_WATERLOG_BEFORE_DAYS) {
            stage = med; /* the crop's canopy at the storm: the last step before it */
            before = seen && med > base ? (v - base) / (med - base) : (double)NAN;
        } else if (seen && d >= in->last_day + PARUS_HEALTH_WATERLOG_AFTER_MIN_DAYS && d <= end) {
            pk = fmax(pk, v);
            pk_peers = fmax(pk_peers, med);
            if (n_after++ == 0)
                a1 = d;
        }
    }
    if (!(stage >= base + PARUS_HEALTH_WATERLOG_GREEN) || n_after == 0 || !(pk_peers > base))
        return;
    after = (pk - base) / (pk_peers - base);
    if (!(after <= PARUS_HEALTH_WATERLOG_PEAK_SHARE) || (isfinite(before) && !(before >= after)))
        return;
    conf_rain = confidence(in->rain_mm - need_mm, need_mm);
    conf_canopy = confidence(PARUS_HEALTH_WATERLOG_PEAK_SHARE - after, 0.1);
    parus_health_format_day(in->first_day, d0);
    parus_health_format_day(a1, d1);
    if (isfinite(before))
        snprintf(seen_before, sizeof seen_before, "%.0f %%", 100.0 * before);
    add_event(res, PARUS_HEALTH_WATERLOGGING, in->first_day, in->last_day, 1.0 - after,
              fmin(conf_rain, conf_canopy),
              "%.0f mm in %d days from %s (the wettest of %zu years before %.0f mm, mean %.0f); "
              "canopy from %s at %.0f %% of its peers' (before: %s)",
              in->rain_mm, (int)(in->last_day - in->first_day + 1), d0, in->n_years,
              in->clim_max_mm, in->clim_mean_mm, d1, 100.0 * after, seen_before);
    sort_events(res);
}

parus_status parus_health_assess(const parus_health_series *s, const parus_crop *crop,
                                 const parus_health_peers *peers, const double *expected_ndvi,
                                 const parus_health_options *opt, parus_health_result *out,
                                 parus_error *err)
{
    if (!s || !s->buf_ || !opt || !out)
        return parus_fail(err, PARUS_E_INVALID, "health assessment needs a built series");
    if (peers && (!peers->buf_ || peers->n_steps != s->n_steps ||
                  peers->start_day != s->start_day || peers->step_days != s->step_days))
        return parus_fail(err, PARUS_E_INVALID,
                          "peer reference (%zu x %zu days from day %lld) does not match the series "
                          "(%zu x %zu days from day %lld)",
                          peers->n_steps, peers->step_days, (long long)peers->start_day, s->n_steps,
                          s->step_days, (long long)s->start_day);
    size_t n = s->n_steps, bytes;
    if (!parus__mul_size(n, 8 * sizeof(double) + 3, &bytes))
        return parus_fail(err, PARUS_E_NOMEM, "health assessment of %zu steps is too long", n);
    double *buf = malloc(bytes);
    parus_health_result *res = calloc(1, sizeof *res);
    if (!buf || !res) {
        free(buf);
        free(res);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a health assessment of %zu steps",
                          n);
    }
    assess_ctx c = {.s = s,
                    .crop = crop,
                    .peers = peers,
                    .expected = expected_ndvi,
                    .opt = opt,
                    .res = res,
                    .n = n,
                    .ref_ndvi = buf,
                    .tmp = buf + n,
                    .z = buf + 2 * n,
                    .work = buf + 3 * n,
                    .season = (unsigned char *)(buf + 8 * n),
                    .harvest = (unsigned char *)(buf + 8 * n) + n,
                    .flood = (unsigned char *)(buf + 8 * n) + 2 * n};
    mark_windows(&c);
    rule_flood(&c);
    /* a crop lost in the season was planted: the loss explains its low peak */
    size_t first_loss = crop && crop->kind == PARUS_CROP_NONCROP ? n : rule_loss(&c);
    bool not_planted = s->n_observed > 0 && first_loss == n && rule_not_planted(&c);
    if (!not_planted) {
        double late_until = rule_late(&c);
        rule_drought(&c, first_loss, late_until);
    }
    score(&c, not_planted);
    sort_events(res);
    *out = *res;
    free(res);
    free(buf);
    return PARUS_OK;
}

/* ---- 4. planted area ---- */

/* doy + off on the circle 1..365 */
static int doy_add(int doy, int off)
{
    return 1 + cyc365(doy - 1 + off);
}

/* Step i is at its crop's full canopy (the crop calendar says so). For no crop, the parcel's
 * green part must be at a canopy's NDVI: the parcel's NDVI n mixes its vegetated share v (NDVI
 * >= 0.3 per pixel) at some NDVI g with the rest below 0.3, so g >= (n - 0.3 (1 - v)) / v, and
 * this lower bound must reach canopy_ndvi; judged only where v is clearly above zero (more than
 * two of its standard errors). A partly sown field's mean NDVI stays low while its green part is
 * a canopy; weeds on fallow land and plastic film put most pixels just above 0.3, never at a
 * canopy's NDVI. */
static bool full_canopy(const parus_health_series *s, const parus_crop *crop,
                        const parus_health_options *opt, size_t i)
{
    if (!crop) {
        double v = s->v[PARUS_HEALTH_VEG][i], se = s->v[PARUS_HEALTH_VEG_SE][i];
        double ndvi = s->v[PARUS_HEALTH_VEG_NDVI][i];
        if (!isfinite(v) || !isfinite(ndvi) || !(v > 2.0 * (isfinite(se) ? se : 0.0)) || !(v > 0.0))
            return false;
        return (ndvi - PARUS_NDVI_VEGETATED * (1.0 - v)) / v >= opt->canopy_ndvi;
    }
    int doy = parus_series_day_of_year(s->day[i]), m = (int)lround(opt->canopy_margin_days);
    for (int k = -1; k <= 1; k++) {
        double e = parus_crop_expected_ndvi(crop, doy_add(doy, k * m));
        if (!(e >= opt->canopy_ndvi))
            return false;
    }
    return true;
}

/* Whether an observed step shows an open canopy (full_canopy without a crop): plastic film never
 * does (a covered crop's NDVI peaks near 0.35, crops.md). */
static bool canopy_seen(const parus_health_series *s, const parus_health_options *opt)
{
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->flag[i] == PARUS_SERIES_OBSERVED && full_canopy(s, NULL, opt, i))
            return true;
    return false;
}

/* The interval of r->planted_share (parus_planted_area): the greenest observed full-canopy step
 * plus area_z standard errors above, the share less area_z of that standard error below. */
static void share_interval(const parus_health_series *s, const parus_crop *crop,
                           const parus_health_options *opt, const unsigned char *season,
                           bool any_season, bool every_step, parus_planted_area *r)
{
    double best = -1.0, se = NAN;
    r->n_canopy = 0;
    for (size_t i = 0; i < s->n_steps; i++) {
        double v = s->v[PARUS_HEALTH_VEG][i];
        if (s->flag[i] != PARUS_SERIES_OBSERVED || !isfinite(v))
            continue;
        /* a full-canopy step by the crop's calendar (in its season), or by the parcel's own
         * green part on any date: a class can be wrong, and then its calendar's canopy dates
         * find the parcel bare while its own canopy stood on others */
        bool calendar = crop && !(any_season && !season[i]) && full_canopy(s, crop, opt, i);
        if (!every_step && !calendar && !full_canopy(s, NULL, opt, i))
            continue;
        r->n_canopy++;
        if (v > best) {
            best = v;
            se = s->v[PARUS_HEALTH_VEG_SE][i];
        }
    }
    double z = opt->area_z >= 0.0 ? opt->area_z : 0.0, margin = isfinite(se) ? z * se : 0.0;
    r->share_se = se;
    r->planted_share_hi = r->n_canopy ? clamp(best + margin, 0.0, 1.0) : 1.0;
    if (r->planted_share_hi < r->planted_share)
        r->planted_share_hi = r->planted_share;
    r->planted_share_lo = clamp(r->planted_share - margin, 0.0, r->planted_share);
}

parus_status parus_health_planted_area(const parus_health_series *s, const parus_crop *crop,
                                       double area_m2, double declared_area_mu,
                                       const parus_health_options *opt, parus_planted_area *out,
                                       parus_error *err)
{
    if (!s || !s->buf_ || !opt || !out)
        return parus_fail(err, PARUS_E_INVALID, "planted area needs a built series");
    if (!isfinite(area_m2) || area_m2 < 0.0)
        return parus_fail(err, PARUS_E_INVALID, "parcel area '%g' m2 is not a finite value >= 0",
                          area_m2);
    size_t n = s->n_steps;
    parus_planted_area r;
    memset(&r, 0, sizeof r);
    r.share_day = s->start_day;
    r.share_se = NAN;
    if (crop && crop->kind == PARUS_CROP_NONCROP) {
        /* nothing sown, by the class; but a class can be wrong (the calendar fallback calls a
         * crop hidden by cloud at its peak fallow), and a parcel seen green was sown over at
         * least what was green then: the greenest step observed on any date is the upper end.
         * Weeds look the same on one date, so a weedy fallow parcel keeps its hi. */
        r.planted_share = 0.0;
        share_interval(s, NULL, opt, NULL, false, true, &r);
        if (r.n_canopy == 0)
            r.planted_share_hi = 0.0;
    } else if (crop && crop->kind == PARUS_CROP_COVERED && !canopy_seen(s, opt)) {
        r.planted_share = 1.0;
        r.planted_share_lo = r.planted_share_hi = 1.0;
    } else {
        /* a covered crop seen at an open canopy's NDVI is not under plastic (or not only): its
         * vegetated fraction is a measurement, read without the covered crop's calendar */
        if (crop && crop->kind == PARUS_CROP_COVERED)
            crop = NULL;
        unsigned char *season = malloc(2 * n);
        if (!season)
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a planted area of %zu steps", n);
        unsigned char *harvest = season + n;
        assess_ctx c = {
            .s = s, .crop = crop, .opt = opt, .n = n, .season = season, .harvest = harvest};
        mark_windows(&c);
        bool any_season = false;
        for (size_t i = 0; i < n; i++)
            any_season = any_season || (season[i] && isfinite(s->v[PARUS_HEALTH_VEG][i]) &&
                                        s->flag[i] == PARUS_SERIES_OBSERVED);
        /* the mean of the three highest observed values: at full canopy the vegetated fraction
         * stays on a plateau for several steps, so one noisy step does not set the share */
        double top[3] = {-1.0, -1.0, -1.0};
        for (size_t i = 0; i < n; i++) {
            double v = s->v[PARUS_HEALTH_VEG][i];
            if (s->flag[i] != PARUS_SERIES_OBSERVED || !isfinite(v) || (any_season && !season[i]))
                continue;
            if (v > top[0])
                r.share_day = s->day[i];
            for (int q = 0; q < 3; q++)
                if (v > top[q]) {
                    for (int m = 2; m > q; m--)
                        top[m] = top[m - 1];
                    top[q] = v;
                    break;
                }
        }
        double best = NAN, sum = 0.0;
        int n_top = 0;
        for (int q = 0; q < 3; q++)
            if (top[q] >= 0.0) {
                sum += top[q];
                n_top++;
            }
        if (n_top > 0)
            best = sum / n_top;
        if (!isfinite(best)) {
            free(season);
            return parus_fail(err, PARUS_E_RANGE,
                              "no vegetated fraction observed over the season: planted area "
                              "unknown");
        }
        r.planted_share = clamp(best, 0.0, 1.0);
        share_interval(s, crop, opt, season, any_season, false, &r);
        free(season);
    }
    r.planted_area_m2 = r.planted_share * area_m2;
    r.planted_area_mu = r.planted_area_m2 / PARUS_M2_PER_MU;
    r.planted_area_lo_m2 = r.planted_share_lo * area_m2;
    r.planted_area_hi_m2 = r.planted_share_hi * area_m2;
    r.declared_area_m2 = r.relative_difference = NAN;
    if (isfinite(declared_area_mu) && declared_area_mu > 0.0) {
        r.declared_area_m2 = declared_area_mu * PARUS_M2_PER_MU;
        r.relative_difference = (r.planted_area_m2 - r.declared_area_m2) / r.declared_area_m2;
        double tol = opt->area_tolerance;
        /* the check the stored area_check and the credit haircut make (parus/area.h) */
        parus_area_check ac = parus_area_compare_interval(
            r.planted_area_lo_m2, r.planted_area_hi_m2, r.declared_area_m2, tol);
        if (parus_area_is_mismatch(ac)) {
            parus_health_result tmp;
            tmp.n_events = tmp.n_dropped = 0;
            bool short_ = ac == PARUS_AREA_SHORTFALL;
            add_event(&tmp, short_ ? PARUS_HEALTH_AREA_SHORTFALL : PARUS_HEALTH_AREA_EXCESS,
                      s->start_day, s->day[n - 1], r.relative_difference,
                      confidence(fabs(r.relative_difference) - tol, tol),
                      "planted %.2f mu (%.0f %% of %.2f mu measured) against %.2f mu declared: "
                      "%+.0f %%",
                      r.planted_area_mu, 100.0 * r.planted_share, area_m2 / PARUS_M2_PER_MU,
                      declared_area_mu, 100.0 * r.relative_difference);
            r.has_event = true;
            r.event = tmp.event[0];
        }
    }
    *out = r;
    return PARUS_OK;
}

/* ---- radar floods ---- */

/* The radar series of one parcel (parus_health_radar_floods). */
typedef struct radar_in {
    const int64_t *day;
    const double *water, *vv, *vh, *looks, *peer_vv, *peer;
    const int *pass;
    size_t n;
} radar_in;

/* VV at date i in dB, over the peers' where given; NaN when none. */
static double radar_vv_db(const radar_in *r, size_t i)
{
    double v = r->vv[i];
    if (r->peer_vv && isfinite(r->peer_vv[i]))
        v = r->peer_vv[i] > 0.0 ? v / r->peer_vv[i] : (double)NAN;
    return v > 0.0 ? 10.0 * log10(v) : (double)NAN;
}

/* The highest VV (dB) of date i's pass over the dates in (day_i, day_i + days] (dir 1) or
 * [day_i - days, day_i) (dir -1); NaN when none. *n_dates (may be NULL): how many it is the
 * highest of. */
static double radar_vv_high(const radar_in *r, size_t i, int dir, double days, size_t *n_dates)
{
    double hi = NAN;
    size_t k = 0;
    for (size_t j = i;;) {
        if (dir < 0 ? j == 0 : j + 1 >= r->n)
            break;
        j = dir < 0 ? j - 1 : j + 1;
        if ((double)llabs(r->day[j] - r->day[i]) > days)
            break;
        double db = radar_vv_db(r, j);
        if ((r->pass && r->pass[j] != r->pass[i]) || !isfinite(db))
            continue;
        k++;
        if (!(db <= hi))
            hi = db;
    }
    if (n_dates)
        *n_dates = k;
    return hi;
}

/* The VV dip of date i below its pass's highest before and after (dB, >= 0); 0 when none.
 * *n_before, *n_after (may be NULL): how many dates each highest is taken over (0 when none). */
static double radar_dip_of(const radar_in *r, size_t i, const parus_health_options *opt,
                           size_t *n_before, size_t *n_after)
{
    double db = r->vv ? radar_vv_db(r, i) : (double)NAN;
    size_t nb = 0, na = 0;
    double dip = 0.0;
    if (isfinite(db)) {
        double before = radar_vv_high(r, i, -1, opt->radar_dip_days, &nb);
        double after = radar_vv_high(r, i, 1, opt->radar_dip_days, &na);
        if (isfinite(before) && isfinite(after))
            dip = (before < after ? before : after) - db;
    }
    if (n_before)
        *n_before = nb;
    if (n_after)
        *n_after = na;
    return dip > 0.0 ? dip : 0.0;
}

static double radar_dip(const radar_in *r, size_t i, const parus_health_options *opt)
{
    return radar_dip_of(r, i, opt, NULL, NULL);
}

/* The dip's mean and standard deviation, in standard deviations of one date's VV, when nothing
 * happened: min(highest of kb dates before, highest of ka after) - the date, every date
 * independent and alike (normal). The reference is the highest of its dates, so a dip is
 * expected of pure speckle: 0.43 sd with three dates each side. Indexed [kb - 1][ka - 1], up
 * to 6 (more count as 6); computed by integrating the reference's distribution, P(R > x) =
 * (1 - Phi(x)^kb)(1 - Phi(x)^ka), on a 0.001 grid over [-10, 10] (tests/test_health.c checks
 * it so). */
/* clang-format off */
static const double radar_dip_null[6][6][2] = {
    {{-0.5642, 1.2968}, {-0.2821, 1.2825}, {-0.1831, 1.3003},
     {-0.1336, 1.3166}, {-0.1042, 1.3294}, {-0.0850, 1.3395}},
    {{-0.2821, 1.2825}, {0.0990, 1.1995}, {0.2475, 1.1893},
     {0.3264, 1.1929}, {0.3750, 1.1996}, {0.4078, 1.2066}},
    {{-0.1831, 1.3003}, {0.2475, 1.1893}, {0.4254, 1.1613},
     {0.5235, 1.1544}, {0.5856, 1.1546}, {0.6285, 1.1575}},
    {{-0.1336, 1.3166}, {0.3264, 1.1929}, {0.5235, 1.1544},
     {0.6352, 1.1400}, {0.7073, 1.1351}, {0.7578, 1.1343}},
    {{-0.1042, 1.3294}, {0.3750, 1.1996}, {0.5856, 1.1546},
     {0.7073, 1.1351}, {0.7872, 1.1262}, {0.8437, 1.1224}},
    {{-0.0850, 1.3395}, {0.4078, 1.2066}, {0.6285, 1.1575},
     {0.7578, 1.1343}, {0.8437, 1.1224}, {0.9052, 1.1163}},
};
/* clang-format on */

/* Whether VH at date i is radar_flood_vh_db below the median VH of its pass (true without VH). */
static bool radar_vh_dark(const radar_in *r, size_t i, const parus_health_options *opt)
{
    double v[512];
    size_t k = 0;
    if (opt->radar_flood_vh_db <= 0.0)
        return true;
    if (!r->vh || !(r->vh[i] > 0.0))
        return !r->vh;
    for (size_t j = 0; j < r->n && k < sizeof v / sizeof v[0]; j++)
        if ((!r->pass || r->pass[j] == r->pass[i]) && r->vh[j] > 0.0)
            v[k++] = r->vh[j];
    qsort(v, k, sizeof v[0], cmp_double);
    return 10.0 * log10(quantile_sorted(v, k, 0.5) / r->vh[i]) >= opt->radar_flood_vh_db;
}

static double speckle_var_db(double looks);

void parus__radar_dip_null(size_t n_before, size_t n_after, double *mean_sd, double *spread_sd)
{
    const double *ms =
        radar_dip_null[(n_before < 6 ? n_before : 6) - 1][(n_after < 6 ? n_after : 6) - 1];
    *mean_sd = ms[0];
    *spread_sd = ms[1];
}

/* Date i's dip (radar_dip, into *dip) and how far it stands beyond what speckle alone gives, in
 * standard errors: (dip - m sd) / (s sd), at least 0, where sd is the standard error of one
 * date's VV in dB on its looks (speckle_var_db) and m, s the dip's mean and spread without a
 * change (radar_dip_null: the reference being the highest of the dates around it, speckle alone
 * makes a dip). Infinite without VV or looks. */
static double radar_dip_z(const radar_in *r, size_t i, double looks,
                          const parus_health_options *opt, double *dip)
{
    size_t nb, na;
    double m, s;
    *dip = radar_dip_of(r, i, opt, &nb, &na);
    if (!r->vv || !(looks > 0.0) || isinf(looks))
        return (double)INFINITY;
    if (nb == 0 || na == 0)
        return 0.0;
    parus__radar_dip_null(nb, na, &m, &s);
    double sd = sqrt(speckle_var_db(looks)), z = (*dip - m * sd) / (s * sd);
    return z > 0.0 ? z : 0.0;
}

/* Whether date i darkened as the water rule asks of a share: VV radar_flood_dip_db below its
 * pass before and after, and radar_flood_dip_se standard errors beyond speckle (radar_dip_z)
 * where the looks are known: a parcel of a few pixels has a few speckled values, whose share
 * below -18 dB swings by chance. Always without VV. */
static bool radar_dip_enough(const radar_in *r, double dip, double z,
                             const parus_health_options *opt)
{
    return !r->vv || (dip >= opt->radar_flood_dip_db && z >= opt->radar_flood_dip_se);
}

/* How radar date i looks (parus_health_radar_floods): not wet; wet, and vouched for alone; or
 * wet on evidence too weak alone (fewer looks than radar_flood_min_looks, a VV dip short of its
 * speckle standard errors, or a dip without water below the water level) that counts in a run
 * of wet dates. *z: the dip in speckle standard errors of VV (infinite without looks). */
enum { RADAR_DRY, RADAR_WET, RADAR_WET_WEAK };

static int radar_wet(const radar_in *r, size_t i, double dry, const parus_crop *crop,
                     const parus_health_options *opt, double *z)
{
    double w = r->water[i], p = r->peer ? r->peer[i] : (double)NAN;
    /* the crop's own water at planting shows in its peers too; without them, or for a crop
     * grown under water, its planting weeks are not judged */
    bool planting =
        (!isfinite(p) || (crop && crop->paddy)) && in_planting_weeks(crop, r->day[i], opt);
    /* no looks given: as many as it takes; given but not positive (no value): not judged */
    double looks = r->looks ? r->looks[i] : (double)INFINITY;
    bool run_only = opt->radar_flood_run_looks < opt->radar_flood_min_looks;
    *z = 0.0;
    if (planting || !(looks > 0.0))
        return RADAR_DRY;
    if (opt->radar_flood_min_looks > 0.0 && !(looks >= opt->radar_flood_min_looks) &&
        !(run_only && looks >= opt->radar_flood_run_looks))
        return RADAR_DRY; /* too few independent looks to vouch for a share */
    double dip;
    bool weak = !(looks >= opt->radar_flood_min_looks);
    *z = radar_dip_z(r, i, looks, opt, &dip);
    if (w >= opt->radar_flood_min_share && w - dry >= opt->radar_flood_rise &&
        !(w - p < opt->radar_flood_rise) && radar_vh_dark(r, i, opt)) {
        if (radar_dip_enough(r, dip, *z, opt))
            return weak ? RADAR_WET_WEAK : RADAR_WET;
        if (run_only && dip >= opt->radar_flood_dip_db)
            return RADAR_WET_WEAK;
    }
    /* a parcel of mixed pixels (a strip a pixel or two wide) darkens without a pixel below the
     * water level: its VV dip alone, in a run; not in its planting weeks (a field sown later
     * than its peers is darker than theirs until its canopy catches up), nor for a crop grown
     * under water, whose VV follows its paddy's level */
    if (opt->radar_dip_db > 0.0 && dip >= opt->radar_dip_db && !(crop && crop->paddy) &&
        !in_planting_weeks(crop, r->day[i], opt))
        return RADAR_WET_WEAK;
    return RADAR_DRY;
}

/* One radar water event [i0, i1] into res: merged with an overlapping optical water event. */
static void radar_water_event(parus_health_result *res, const int64_t *day, const double *water,
                              size_t i0, size_t i1, double dry, double dip, bool in_season,
                              double size, double conf, const parus_health_options *opt)
{
    char first[11], last_seen[11], what[96];
    int64_t slack = (int64_t)opt->step_days;
    parus_health_format_day(day[i0], first);
    if (water[i0] >= opt->radar_flood_min_share || !(dip > 0.0))
        snprintf(what, sizeof what,
                 "%.0f %% of the parcel below %.0f db vv on %s, dry level %.0f %%",
                 100.0 * water[i0], PARUS_RADAR_WATER_VV_DB, first, 100.0 * dry);
    else
        snprintf(what, sizeof what, "vv %.1f db below its pass before and after on %s", dip, first);
    for (size_t e = 0; e < res->n_events; e++) {
        parus_health_event *ev = &res->event[e];
        char opt_first[11];
        if (ev->flag != PARUS_HEALTH_FLOOD && ev->flag != PARUS_HEALTH_WATER_OFF_SEASON)
            continue;
        if (ev->day > day[i1] + slack || ev->last_day + slack < day[i0])
            continue;
        if (in_season)
            ev->flag = PARUS_HEALTH_FLOOD;
        if (day[i1] > ev->last_day)
            ev->last_day = day[i1];
        if (size > ev->size)
            ev->size = size;
        if (day[i0] < ev->day) {
            parus_health_format_day(ev->day, opt_first);
            ev->day = day[i0];
            ev->confidence = conf > ev->confidence ? conf : ev->confidence;
            snprintf(ev->reason, sizeof ev->reason, "radar: %s; optical water from %s", what,
                     opt_first);
        }
        return;
    }
    parus_health_format_day(day[i1], last_seen);
    add_event(res, in_season ? PARUS_HEALTH_FLOOD : PARUS_HEALTH_WATER_OFF_SEASON, day[i0], day[i1],
              size, conf, "radar: %s%s%s", what, i1 > i0 ? ", wet to " : "",
              i1 > i0 ? last_seen : "");
}

/* Whether radar saw the parcel dry around an optical water event ev: a date within
 * radar_veto_days of it on enough looks to vouch for a share (radar_flood_min_looks), every
 * such date with less than radar_veto_share of the parcel below the water level and VV no
 * radar_flood_dip_db below its pass before and after, and no wet date (radar_wet) within
 * step_days of it. */
static bool radar_saw_dry(const radar_in *r, const parus_health_event *ev, double dry,
                          const parus_crop *crop, const parus_health_options *opt)
{
    size_t seen = 0;
    for (size_t i = 0; i < r->n; i++) {
        double before = (double)(ev->day - r->day[i]), after = (double)(r->day[i] - ev->last_day);
        double z;
        if (before > (double)opt->step_days || after > (double)opt->step_days)
            continue;
        if (radar_wet(r, i, dry, crop, opt, &z) != RADAR_DRY)
            return false;
        if (before > opt->radar_veto_days || after > opt->radar_veto_days)
            continue;
        if (!isfinite(r->water[i]) || (r->looks && !(r->looks[i] >= opt->radar_flood_min_looks)))
            continue;
        if (r->water[i] >= opt->radar_veto_share || radar_dip(r, i, opt) >= opt->radar_flood_dip_db)
            return false;
        seen++;
    }
    return seen > 0;
}

parus_status parus_health_radar_floods(const parus_health_radar_series *s, const parus_crop *crop,
                                       const parus_health_options *opt, parus_health_result *res,
                                       parus_error *err)
{
    double *tmp, dry;
    size_t i, k = 0, n = s ? s->n : 0;
    const int64_t *day = s ? s->day : NULL;
    const double *water = s ? s->water : NULL;
    radar_in r;
    if (!s || !opt || !res || (n > 0 && (!day || !water)))
        return parus_fail(err, PARUS_E_INVALID, "radar floods: NULL argument");
    for (i = 1; i < n; i++)
        if (day[i] < day[i - 1])
            return parus_fail(err, PARUS_E_INVALID, "radar floods: dates not in ascending order");
    if (n == 0)
        return PARUS_OK;
    if (!(tmp = malloc(n * sizeof *tmp)))
        return parus_fail(err, PARUS_E_NOMEM, "radar floods: out of memory");
    dry = observed_median(water, NULL, n, tmp);
    free(tmp);
    if (!isfinite(dry))
        dry = 0.0;
    r.day = day;
    r.water = water;
    r.vv = s->vv;
    r.vh = s->vh;
    r.looks = s->looks_vv;
    r.peer_vv = s->peer_vv;
    r.peer = s->peer_water;
    r.pass = s->pass;
    r.n = n;
    /* optical water that radar, looking through the cloud at the same time, saw dry: haze or
     * shadow read as water */
    for (size_t e = 0; opt->radar_veto_days > 0.0 && e < res->n_events;) {
        parus_health_event *ev = &res->event[e];
        if ((ev->flag == PARUS_HEALTH_FLOOD || ev->flag == PARUS_HEALTH_WATER_OFF_SEASON) &&
            radar_saw_dry(&r, ev, dry, crop, opt)) {
            memmove(ev, ev + 1, (res->n_events - e - 1) * sizeof *ev);
            res->n_events--;
            continue;
        }
        e++;
    }
    while (k < n) {
        size_t i0 = k, i1;
        bool in_season = false;
        double size = 0.0, margin = 0.0, dip = 0.0;
        double z, z_sum = 0.0;
        int look = radar_wet(&r, k, dry, crop, opt, &z);
        bool vouched = false;
        if (look == RADAR_DRY) {
            k++;
            continue;
        }
        for (i1 = k; i1 < n && (look = radar_wet(&r, i1, dry, crop, opt, &z)) != RADAR_DRY; i1++) {
            /* one date vouched for alone, or two or more whose dips together stand
             * radar_flood_dip_se standard errors clear of the speckle */
            z_sum += z;
            vouched = vouched || look == RADAR_WET ||
                      (i1 > i0 && z_sum / sqrt((double)(i1 - i0 + 1)) >= opt->radar_flood_dip_se);
            double m = water[i1] - dry - opt->radar_flood_rise, d = radar_dip(&r, i1, opt);
            double md = opt->radar_dip_db > 0.0
                            ? opt->radar_flood_rise * (d - opt->radar_dip_db) / opt->radar_dip_db
                            : 0.0;
            in_season = in_season || parus_health_growing_season(crop, day[i1], opt);
            /* the share under water by linear mixing with open water 10 db darker or more */
            double share = d > 0.0 ? (1.0 - pow(10.0, -d / 10.0)) / (1.0 - 0.1) : 0.0;
            share = clamp(share, 0.0, 1.0);
            if (isfinite(water[i1]) && water[i1] > share)
                share = water[i1];
            size = share > size ? share : size;
            margin = m > margin ? m : margin;
            margin = md > margin ? md : margin;
            if (i1 == i0)
                dip = d;
        }
        k = i1;
        if (!vouched)
            continue;
        radar_water_event(res, day, water, i0, i1 - 1, dry, dip, in_season, size,
                          confidence(margin, opt->radar_flood_rise), opt);
    }
    sort_events(res);
    return PARUS_OK;
}

/* ---- sudden losses from radar ---- */

/* VH at date i in dB over the peers' median VH there; NaN without either. */
static double radar_vh_anomaly(const parus_health_radar_series *s, size_t i)
{
    if (!s->vh || !s->peer_vh || !(s->vh[i] > 0.0) || !(s->peer_vh[i] > 0.0))
        return (double)NAN;
    return 10.0 * log10(s->vh[i] / s->peer_vh[i]);
}

/* The variance of 10 log10 of a mean of `looks` independent exponential looks (speckle): that of
 * 10 log10 of a Gamma(L, L) variate, (10 / ln 10)^2 trigamma(L) (about (10 / ln 10)^2 / L for
 * many looks; more for few, which the 1 / L form understates). NaN when looks is not positive. */
static double speckle_var_db(double looks)
{
    if (!(looks > 0.0))
        return (double)NAN;
    double x = looks, t = 0.0;
    while (x < 6.0) { /* trigamma(x) = trigamma(x + 1) + 1 / x^2 */
        t += 1.0 / (x * x);
        x += 1.0;
    }
    double x2 = x * x;
    t += 1.0 / x + 1.0 / (2.0 * x2) + 1.0 / (6.0 * x2 * x) - 1.0 / (30.0 * x2 * x2 * x);
    double k = 10.0 / log(10.0);
    return k * k * t;
}

/* Date j is one the loss rule reads: its anomaly known and the parcel not wet (flooded water
 * darkens VH too: that is the flood rule's). */
static bool radar_loss_usable(const parus_health_radar_series *s, size_t j,
                              const parus_health_options *opt)
{
    return isfinite(radar_vh_anomaly(s, j)) &&
           !(s->water && s->water[j] >= opt->radar_flood_min_share);
}

/* The parcel's own date-to-date scatter of its VH anomaly beyond what a step explains: from the
 * median absolute difference of successive usable anomalies (a step is one difference of many,
 * which the median passes over), as a variance for one date (dB^2); 0 with fewer than 4 usable
 * dates. d: work, s->n values. */
static double radar_own_var(const parus_health_radar_series *s, const parus_health_options *opt,
                            double *d)
{
    size_t k = 0;
    double prev = (double)NAN;
    for (size_t j = 0; j < s->n; j++) {
        if (!radar_loss_usable(s, j, opt))
            continue;
        double a = radar_vh_anomaly(s, j);
        if (isfinite(prev))
            d[k++] = fabs(a - prev);
        prev = a;
    }
    if (k < 3)
        return 0.0;
    qsort(d, k, sizeof *d, cmp_double);
    /* for normal differences of variance 2 sigma^2, the median of |d| is 0.6745 sqrt(2) sigma */
    double sigma = quantile_sorted(d, k, 0.5) / (0.6745 * sqrt(2.0));
    return sigma * sigma;
}

/* Up to `want` usable dates from index `from` on, going dir (1 or -1), within radar_loss_days
 * of day[i]: their mean anomaly in *mean, their mean own VH in dB in *own, the variance of the
 * mean anomaly in *var (each date's speckle variance, at least own_var), the sum of their looks
 * in *looks (NaN when a date's looks are unknown), the index of the last where last is not
 * NULL; returns how many (NaN means when none). */
static size_t radar_loss_side(const parus_health_radar_series *s, size_t i, size_t from, int dir,
                              size_t want, double own_var, const parus_health_options *opt,
                              double *mean, double *own, double *var, double *looks, size_t *last)
{
    size_t k = 0;
    double sa = 0.0, so = 0.0, sv = 0.0, sl = 0.0;
    for (size_t j = from; k < want && j < s->n; j += (size_t)(ptrdiff_t)dir) {
        if ((double)llabs(s->day[j] - s->day[i]) > opt->radar_loss_days)
            break;
        if (radar_loss_usable(s, j, opt)) {
            double lk = s->looks_vh ? s->looks_vh[j] : (double)NAN;
            double v = speckle_var_db(lk);
            sa += radar_vh_anomaly(s, j);
            so += 10.0 * log10(s->vh[j]);
            sv += isfinite(v) && v > own_var ? v : own_var;
            sl += lk;
            if (last)
                *last = j;
            k++;
        }
        if (dir < 0 && j == 0)
            break;
    }
    *mean = k ? sa / (double)k : (double)NAN;
    *own = k ? so / (double)k : (double)NAN;
    *var = k ? sv / ((double)k * (double)k) : (double)NAN;
    *looks = sl;
    return k;
}

/* One radar loss on date i into res: merged with an optical SUDDEN_LOSS within step_days. */
static void radar_loss_event(parus_health_result *res, const parus_health_radar_series *s, size_t i,
                             double drop_db, double z, double conf, const parus_health_options *opt)
{
    char d0[11], what[128];
    int64_t slack = (int64_t)opt->step_days;
    /* the share of VH lost, as a size like the optical rule's share of NDVI */
    double size = 1.0 - pow(10.0, -drop_db / 10.0);
    parus_health_format_day(s->day[i], d0);
    snprintf(what, sizeof what,
             "vh fell %.1f db against its peers from %s (%.1f standard errors), not recovered",
             clamp(drop_db, 0.0, 99.0), d0, clamp(z, 0.0, 99.0));
    for (size_t e = 0; e < res->n_events; e++) {
        parus_health_event *ev = &res->event[e];
        if (ev->flag != PARUS_HEALTH_SUDDEN_LOSS || llabs(ev->day - s->day[i]) > slack)
            continue;
        if (s->day[i] < ev->day) {
            char opt_first[11];
            parus_health_format_day(ev->day, opt_first);
            ev->day = s->day[i];
            ev->confidence = conf > ev->confidence ? conf : ev->confidence;
            snprintf(ev->reason, sizeof ev->reason, "radar: %s; optical loss from %s", what,
                     opt_first);
        }
        return;
    }
    add_event(res, PARUS_HEALTH_SUDDEN_LOSS, s->day[i], s->day[s->n - 1], size, conf, "radar: %s",
              what);
}

/* A water event of res (FLOOD, WATER_OFF_SEASON) within step_days of day: a flood darkens VH
 * too, and the fall is the flood's. */
static bool near_water_event(const parus_health_result *res, int64_t day,
                             const parus_health_options *opt)
{
    int64_t slack = (int64_t)opt->step_days;
    for (size_t e = 0; e < res->n_events; e++) {
        const parus_health_event *ev = &res->event[e];
        if ((ev->flag == PARUS_HEALTH_FLOOD || ev->flag == PARUS_HEALTH_WATER_OFF_SEASON) &&
            day + slack >= ev->day && day <= ev->last_day + slack)
            return true;
    }
    return false;
}

/* The loss test at date i: the step of the anomaly from the dates before i to i and after, in
 * dB (*drop) and in standard errors (*z); false when i cannot be judged or the step falls short
 * or the parcel's own VH came back. */
static bool radar_loss_at(const parus_health_radar_series *s, const parus_crop *crop, size_t i,
                          double own_var, const parus_health_options *opt, double *drop, double *z)
{
    bool season, harvest;
    calendar_windows(crop, parus_series_day_of_year(s->day[i]), opt, &season, &harvest);
    if (!season || harvest)
        return false;
    size_t want = opt->radar_loss_dates >= 1.0 ? (size_t)opt->radar_loss_dates : 1;
    double mb, ob, vb, lb, ma, oa, va, la;
    size_t end = i; /* the last of the step's dates after */
    if (i == 0 || !radar_loss_usable(s, i, opt))
        return false;
    size_t nb = radar_loss_side(s, i, i - 1, -1, want, own_var, opt, &mb, &ob, &vb, &lb, NULL);
    size_t na = radar_loss_side(s, i, i, 1, want, own_var, opt, &ma, &oa, &va, &la, &end);
    /* a step needs dates on both sides; the dates after say it stayed down */
    if (nb == 0 || na < 2 || (isfinite(la) && la < opt->radar_loss_min_looks))
        return false;
    *drop = mb - ma;
    *z = *drop / sqrt(vb + va);
    if (!(*drop >= opt->radar_loss_vh_db) || !(*z >= opt->radar_loss_se))
        return false;
    /* the step is at i: the first date after is already down by a share of it, and the last one
     * before is not yet (a step read again from the next date is not a second step) */
    size_t prev = i - 1;
    while (prev > 0 && !radar_loss_usable(s, prev, opt))
        prev--;
    if (!(mb - radar_vh_anomaly(s, i) >= opt->loss_recover_share * *drop) ||
        !(radar_vh_anomaly(s, prev) - ma >= opt->loss_recover_share * *drop))
        return false;
    /* ... and it ends below its peers (a crop ahead of its peers that they catch up with falls
     * back to them, not below), its own VH falling too (a late or weak crop only rises slower
     * than its peers; one beaten down loses its own volume) */
    if (!(ma <= -opt->loss_recover_share * *drop) ||
        !(ob - oa >= opt->radar_loss_own_share * *drop))
        return false;
    /* not recovered: its own VH over the dates beyond the step's does not regain a share of what
     * it lost against the peers (a late crop catches up; a lost one stays flat or bare, and the
     * peers' ripening that brings them down to it is no recovery) */
    double ml, ol, vl, ll;
    if (end + 1 < s->n &&
        radar_loss_side(s, i, end + 1, 1, want, own_var, opt, &ml, &ol, &vl, &ll, NULL) > 0 &&
        ol >= oa + opt->loss_recover_share * *drop)
        return false;
    return true;
}

parus_status parus_health_radar_losses(const parus_health_radar_series *s, const parus_crop *crop,
                                       const parus_health_options *opt, parus_health_result *res,
                                       parus_error *err)
{
    if (!s || !opt || !res || (s->n > 0 && !s->day))
        return parus_fail(err, PARUS_E_INVALID, "radar losses: NULL argument");
    for (size_t i = 1; i < s->n; i++)
        if (s->day[i] < s->day[i - 1])
            return parus_fail(err, PARUS_E_INVALID, "radar losses: dates not in ascending order");
    if (!s->vh || !s->peer_vh || !crop || crop->kind == PARUS_CROP_NONCROP)
        return PARUS_OK; /* without peers a loss and the crop's own ripening look alike */
    double *work = malloc((s->n > 0 ? s->n : 1) * sizeof *work);
    if (!work)
        return parus_fail(err, PARUS_E_NOMEM, "radar losses: out of memory");
    double own_var = radar_own_var(s, opt, work);
    free(work);
    int64_t last = INT64_MIN; /* one loss a cycle: none again within radar_loss_days */
    for (size_t i = 0; i < s->n; i++) {
        double drop, z;
        if (near_water_event(res, s->day[i], opt) ||
            (last != INT64_MIN && s->day[i] - last <= opt->radar_loss_days) ||
            !radar_loss_at(s, crop, i, own_var, opt, &drop, &z))
            continue;
        /* the step's date: the strongest of the dates that pass within the next revisit */
        size_t best = i;
        for (size_t j = i + 1; j < s->n && s->day[j] - s->day[i] <= (int64_t)opt->step_days; j++) {
            double d2, z2;
            if (radar_loss_at(s, crop, j, own_var, opt, &d2, &z2) && z2 > z) {
                best = j;
                drop = d2;
                z = z2;
            }
        }
        radar_loss_event(res, s, best, drop, z,
                         confidence(drop - opt->radar_loss_vh_db, opt->radar_loss_vh_db), opt);
        last = s->day[best];
        i = best;
    }
    sort_events(res);
    return PARUS_OK;
}

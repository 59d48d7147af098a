/*
 * climate.c - a season's weather against its climate (parus/climate.h): totals, normals,
 * percentile, SPI, degree-days, heat and frost days, dry spells. Pure functions over daily
 * arrays; the store helper that feeds them is climate_parcel.c.
 *
 * Workload: one parcel at a time for `parus query` (a season of a few hundred days and up to a
 * few dozen climatology years: microseconds), so clarity wins over speed. Every figure is
 * computed the same way for the season and for each climatology year, so a normal is the mean
 * of exactly what the season's figure is.
 *
 * The SPI follows McKee, Doesken & Kleist (1993) and the WMO's Standardized Precipitation Index
 * User Guide (WMO-No. 1090, 2012): a gamma distribution fitted to the climatology's totals by
 * maximum likelihood with Thom's (1958) shape estimate, the probability of no rain as a mixed
 * distribution, the cumulative probability carried to the standard normal. The incomplete gamma
 * function (series below shape + 1, Lentz's continued fraction above, as Numerical Recipes
 * describes them), the log-gamma function (Stirling's series after shifting the argument past 8;
 * glibc's lgamma writes the global signgam and is not reentrant) and the normal quantile
 * (Acklam's rational approximation, polished by a Halley step on erfc) are written here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/climate.h"

#include "util_int.h"

/* ---- names of the reasons ---- */

static const char *const why_names[PARUS_CLIMATE_N_WHY_] = {
    "OK",           "MISSING_DAYS", "FEW_YEARS",      "WINDOW_SHORT",     "FEW_WET_YEARS",
    "EQUAL_TOTALS", "NO_CROP",      "NOT_FIELD_CROP", "OUTSIDE_CALENDAR", "NOT_YET",
    "DRY_NORMAL",
};

static const char *const why_texts[PARUS_CLIMATE_N_WHY_] = {
    "computed",
    "more than 5 % of the days have no value",
    "fewer than 8 years of climatology",
    "the season is shorter than this span",
    "fewer than 3 climatology years with rain in this span",
    "the climatology's totals are all equal",
    "no crop known",
    "not an open-field crop (covered, fallow or no calendar)",
    "the season lies outside the crop's calendar",
    "the span begins after the season's last day",
    "the span's normal rain is too little to judge a shortfall",
};

const char *parus_climate_why_name(parus_climate_why why)
{
    return (unsigned)why < PARUS_CLIMATE_N_WHY_ ? why_names[why] : NULL;
}

const char *parus_climate_why_text(parus_climate_why why)
{
    return (unsigned)why < PARUS_CLIMATE_N_WHY_ ? why_texts[why] : NULL;
}

/* ---- the distributions ---- */

#define LN_SQRT_2PI 0.91893853320467274178
#define SQRT_2PI 2.50662827463100050242
#define SQRT_2 1.41421356237309504880

/* ln Gamma(x) for x > 0: shift x to 10 or more by Gamma(x + 1) = x Gamma(x), then Stirling's
 * series to the x^-13 term, B_2k / (2k (2k - 1) x^(2k - 1)) for k = 1..7 (the next term, below
 * 3e-2 / x^15, is under 1e-16 at x >= 10). */
static double log_gamma(double x)
{
    double shift = 0.0, z, z2;
    while (x < 10.0) {
        shift += log(x);
        x += 1.0;
    }
    z = 1.0 / x;
    z2 = z * z;
    return (x - 0.5) * log(x) - x + LN_SQRT_2PI +
           z * (1.0 / 12.0 + z2 * (-1.0 / 360.0 +
                                   z2 * (1.0 / 1260.0 +
                                         z2 * (-1.0 / 1680.0 +
                                               z2 * (1.0 / 1188.0 + z2 * (-691.0 / 360360.0 +
                                                                          z2 * (1.0 / 156.0))))))) -
           shift;
}

#define GAMMA_EPS 1e-15
#define GAMMA_MAX_ITER 100000
#define TINY 1e-300

double parus_climate_gamma_cdf(double shape, double scale, double x)
{
    double a = shape, t, front;
    int i;
    if (!(shape > 0.0) || !(scale > 0.0) || isnan(x) || !isfinite(shape) || !isfinite(scale))
        return NAN;
    if (x <= 0.0)
        return 0.0;
    if (isinf(x))
        return 1.0;
    t = x / scale;
    front = exp(-t + a * log(t) - log_gamma(a));
    if (t < a + 1.0) {
        /* P(a, t) = e^-t t^a / Gamma(a) * sum_n t^n / (a (a + 1) ... (a + n)) */
        double term = 1.0 / a, sum = term;
        for (i = 1; i < GAMMA_MAX_ITER; i++) {
            term *= t / (a + i);
            sum += term;
            if (fabs(term) < fabs(sum) * GAMMA_EPS)
                break;
        }
        return fmin(1.0, sum * front);
    }
    {
        /* Q(a, t) = e^-t t^a / Gamma(a) * 1 / (t + 1 - a - 1 (1 - a) / (t + 3 - a - ...)),
           evaluated by the modified Lentz method */
        double b = t + 1.0 - a, c = 1.0 / TINY, d = 1.0 / b, h = d;
        for (i = 1; i < GAMMA_MAX_ITER; i++) {
            double an = -i * (i - a), del;
            b += 2.0;
            d = an * d + b;
            if (fabs(d) < TINY)
                d = TINY;
            c = b + an / c;
            if (fabs(c) < TINY)
                c = TINY;
            d = 1.0 / d;
            del = d * c;
            h *= del;
            if (fabs(del - 1.0) < GAMMA_EPS)
                break;
        }
        return fmax(0.0, 1.0 - front * h);
    }
}

double parus_climate_normal_quantile(double p)
{
    /* Acklam's rational approximation (relative error below 1.2e-9): a central rational
       function for 0.02425 <= p <= 0.97575, a tail one in sqrt(-2 ln p) outside */
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    const double p_low = 0.02425;
    double x, e, u;

    if (isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    if (p < p_low || p > 1.0 - p_low) {
        double q = sqrt(-2.0 * log(p < p_low ? p : 1.0 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
        if (p > 1.0 - p_low)
            x = -x;
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    /* one Halley step on Phi(x) - p, Phi through erfc (accurate in both tails): the error
       becomes about the rounding of erfc */
    e = 0.5 * erfc(-x / SQRT_2) - p;
    u = e * SQRT_2PI * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}

/* Thom's shape from the sums of n positive values and of their logarithms. */
static parus_climate_why fit_sums(size_t n, double sum, double sum_log, double *shape,
                                  double *scale)
{
    double mean, A;
    if (n < PARUS_CLIMATE_MIN_WET_YEARS)
        return PARUS_CLIMATE_FEW_WET_YEARS;
    mean = sum / (double)n;
    A = log(mean) - sum_log / (double)n;
    /* A >= 0 by Jensen's inequality; equal values leave only rounding */
    if (!(A > 1e-12))
        return PARUS_CLIMATE_EQUAL_TOTALS;
    *shape = (1.0 + sqrt(1.0 + 4.0 * A / 3.0)) / (4.0 * A);
    *scale = mean / *shape;
    return PARUS_CLIMATE_OK;
}

parus_climate_why parus_climate_gamma_fit(const double *x, size_t n, double *shape, double *scale)
{
    double sum = 0.0, sum_log = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (!(x[i] > 0.0) || !isfinite(x[i]))
            return PARUS_CLIMATE_FEW_WET_YEARS;
        sum += x[i];
        sum_log += log(x[i]);
    }
    return fit_sums(n, sum, sum_log, shape, scale);
}

void parus_climate_spi_of(double x, const double *clim, size_t n, parus_climate_spi *out)
{
    double sum = 0.0, sum_log = 0.0, q, g;
    size_t i, n_wet = 0;

    out->rain_mm = x;
    out->spi = out->probability = out->gamma_shape = out->gamma_scale_mm = NAN;
    out->n_years = n;
    out->n_zero_years = 0;
    out->short_climatology = n < PARUS_CLIMATE_FULL_YEARS;
    for (i = 0; i < n; i++) {
        if (clim[i] > 0.0) {
            sum += clim[i];
            sum_log += log(clim[i]);
            n_wet++;
        } else {
            out->n_zero_years++;
        }
    }
    if (n < PARUS_CLIMATE_MIN_YEARS) {
        out->why = PARUS_CLIMATE_FEW_YEARS;
        return;
    }
    out->why = fit_sums(n_wet, sum, sum_log, &out->gamma_shape, &out->gamma_scale_mm);
    if (out->why != PARUS_CLIMATE_OK)
        return;
    if (!isfinite(x)) {
        out->why = PARUS_CLIMATE_MISSING_DAYS;
        return;
    }
    q = (double)out->n_zero_years / (double)n;
    g = x > 0.0 ? parus_climate_gamma_cdf(out->gamma_shape, out->gamma_scale_mm, x) : 0.0;
    out->probability = q + (1.0 - q) * g;
    out->spi = parus_climate_normal_quantile(out->probability);
    out->spi = fmax(-PARUS_CLIMATE_SPI_LIMIT, fmin(PARUS_CLIMATE_SPI_LIMIT, out->spi));
}

/* ---- the crop's dates ---- */

/* Day number of 1 January of year. */
static int64_t jan1(int64_t year)
{
    char text[11];
    snprintf(text, sizeof text, "%04d-01-01", (int)year);
    return parus__date_days(text);
}

static int64_t year_of(int64_t day)
{
    int64_t y;
    int m, d;
    parus__civil_from_days(day, &y, &m, &d);
    return y;
}

/* The day numbered doy in year, the year's last day for a doy past it. */
static int64_t day_of(int64_t year, int doy)
{
    int64_t len = jan1(year + 1) - jan1(year);
    return jan1(year) + (doy > len ? len : doy) - 1;
}

parus_climate_why parus_climate_find_crop_dates(const parus_crop *crop, int64_t first_day,
                                                int64_t last_day, parus_climate_crop_dates *out)
{
    parus_climate_crop_dates best = {0};
    int64_t best_overlap = 0, y, y0 = year_of(first_day) - 1, y1 = year_of(last_day);
    int k;
    if (!crop)
        return PARUS_CLIMATE_NO_CROP;
    if ((crop->kind != PARUS_CROP_ANNUAL && crop->kind != PARUS_CROP_PERENNIAL) ||
        crop->n_cycles < 1)
        return PARUS_CLIMATE_NOT_FIELD_CROP;
    for (y = y0; y <= y1; y++)
        for (k = 0; k < crop->n_cycles && k < 2; k++) {
            const parus_crop_cycle *c = &crop->cycle[k];
            parus_climate_crop_dates d;
            int64_t overlap;
            d.cycle = k;
            d.sow_day = day_of(y, c->sow_doy);
            d.peak_day = day_of(c->peak_doy >= c->sow_doy ? y : y + 1, c->peak_doy);
            /* a harvest day of year at or before sowing's is next year's (a whole-year cycle
               when equal, sugarcane's ratoon) */
            d.harvest_day = day_of(c->harvest_doy > c->sow_doy ? y : y + 1, c->harvest_doy);
            d.overwinters = c->peak_doy < c->sow_doy;
            overlap = (d.harvest_day < last_day ? d.harvest_day : last_day) -
                      (d.sow_day > first_day ? d.sow_day : first_day) + 1;
            if (overlap > best_overlap) {
                best_overlap = overlap;
                best = d;
            }
        }
    if (best_overlap <= 0)
        return PARUS_CLIMATE_OUTSIDE_CALENDAR;
    *out = best;
    return PARUS_CLIMATE_OK;
}

size_t parus_climate_crop_peaks(const parus_crop *crop, int64_t first_day, int64_t last_day,
                                int64_t before_days, int64_t after_days, int64_t *out,
                                size_t max_out)
{
    int64_t y, y0 = year_of(first_day) - 1, y1 = year_of(last_day);
    size_t n = 0, i, j;
    int k;
    if (!crop || !out || (crop->kind != PARUS_CROP_ANNUAL && crop->kind != PARUS_CROP_PERENNIAL))
        return 0;
    for (y = y0; y <= y1; y++)
        for (k = 0; k < crop->n_cycles && k < 2; k++) {
            const parus_crop_cycle *c = &crop->cycle[k];
            int64_t p = day_of(c->peak_doy >= c->sow_doy ? y : y + 1, c->peak_doy);
            if (p < first_day - before_days || p > last_day + after_days || n == max_out)
                continue;
            for (i = 0; i < n && out[i] != p; i++)
                ;
            if (i < n)
                continue;
            for (j = n++; j > 0 && out[j - 1] > p; j--)
                out[j] = out[j - 1];
            out[j] = p;
        }
    return n;
}

/* ---- figures over spans ---- */

static double at(const parus_climate_window *w, const double *a, int64_t day)
{
    if (!a || day < w->data_first_day || day - w->data_first_day >= (int64_t)w->n_data_days)
        return NAN;
    return a[day - w->data_first_day];
}

/* A day's contribution to a figure, NaN when the day lacks what it needs. */
typedef double (*day_fn)(const parus_climate_window *w, const parus_crop *crop, int64_t day);

static double rain_of(const parus_climate_window *w, const parus_crop *crop, int64_t day)
{
    (void)crop;
    return at(w, w->precip_mm, day);
}

/* McMaster & Wilhelm (1997), method 1: the daily mean (tmin + tmax) / 2 (else the stored daily
 * mean) less the base, 0 when below it. */
static double gdd_of(const parus_climate_window *w, const parus_crop *crop, int64_t day)
{
    double lo = at(w, w->tmin_c, day), hi = at(w, w->tmax_c, day);
    double t = isfinite(lo) && isfinite(hi) ? (lo + hi) / 2.0 : at(w, w->tmean_c, day);
    return isfinite(t) ? fmax(0.0, t - crop->tbase_c) : (double)NAN;
}

static double heat_of(const parus_climate_window *w, const parus_crop *crop, int64_t day)
{
    double hi = at(w, w->tmax_c, day);
    return isfinite(hi) ? (double)(hi > crop->theat_c) : (double)NAN;
}

static double frost_of(const parus_climate_window *w, const parus_crop *crop, int64_t day)
{
    double lo = at(w, w->tmin_c, day);
    (void)crop;
    return isfinite(lo) ? (double)(lo < PARUS_CLIMATE_FROST_C) : (double)NAN;
}

static void figure_init(parus_climate_figure *f, int64_t first, int64_t last)
{
    f->value = NAN;
    f->why = PARUS_CLIMATE_OK;
    f->first_day = first;
    f->last_day = last;
    f->n_missing_days = 0;
    f->first_missing_day = 0;
}

static bool too_many_missing(size_t n_missing, size_t n)
{
    return n_missing * 100 > (size_t)PARUS_CLIMATE_MAX_MISSING_PERCENT * n;
}

/* Sum fn over [first, last]; scaled: the known days' sum times n / n_known (a total), else the
 * plain sum (a count of days seen). An empty span is NOT_YET. */
static void sum_span(const parus_climate_window *w, const parus_crop *crop, day_fn fn,
                     int64_t first, int64_t last, bool scaled, parus_climate_figure *f)
{
    double sum = 0.0;
    size_t n, n_known = 0;
    int64_t day;
    figure_init(f, first, last);
    if (first > last) {
        f->why = PARUS_CLIMATE_NOT_YET;
        return;
    }
    n = (size_t)(last - first + 1);
    for (day = first; day <= last; day++) {
        double v = fn(w, crop, day);
        if (isnan(v)) {
            if (f->n_missing_days++ == 0)
                f->first_missing_day = day;
            continue;
        }
        sum += v;
        n_known++;
    }
    if (too_many_missing(f->n_missing_days, n)) {
        f->why = PARUS_CLIMATE_MISSING_DAYS;
        return;
    }
    f->value = scaled ? sum * (double)n / (double)n_known : sum;
}

/* The longest run of dry days in [first, last]; a missing day ends a run. */
static void dry_spell(const parus_climate_window *w, int64_t first, int64_t last,
                      parus_climate_figure *f, int64_t *run_first)
{
    int64_t day, run = 0, best = 0, start = first;
    figure_init(f, first, last);
    *run_first = first;
    if (first > last) {
        f->why = PARUS_CLIMATE_NOT_YET;
        return;
    }
    for (day = first; day <= last; day++) {
        double p = at(w, w->precip_mm, day);
        if (isnan(p) && f->n_missing_days++ == 0)
            f->first_missing_day = day;
        if (p < PARUS_CLIMATE_DRY_MM) {
            if (run++ == 0)
                start = day;
            if (run > best) {
                best = run;
                *run_first = start;
            }
        } else {
            run = 0;
        }
    }
    if (too_many_missing(f->n_missing_days, (size_t)(last - first + 1))) {
        f->why = PARUS_CLIMATE_MISSING_DAYS;
        return;
    }
    f->value = (double)best;
}

static void crop_figure_none(parus_climate_figure *f, parus_climate_why why)
{
    figure_init(f, 0, -1);
    f->why = why;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Every figure of one window; crop_why OK: on the crop's dates d. */
static void window_figures(const parus_climate_window *w, const parus_crop *crop,
                           parus_climate_why crop_why, const parus_climate_crop_dates *d,
                           parus_climate_figures *f)
{
    int64_t end;
    sum_span(w, NULL, rain_of, w->first_day, w->last_day, true, &f->rain_mm);
    if (crop_why != PARUS_CLIMATE_OK) {
        crop_figure_none(&f->gdd_degc_days, crop_why);
        crop_figure_none(&f->heat_days, crop_why);
        crop_figure_none(&f->frost_days, crop_why);
        dry_spell(w, w->first_day, w->last_day, &f->dry_spell_days, &f->dry_spell_first_day);
        return;
    }
    end = min64(d->harvest_day, w->last_day);
    sum_span(w, crop, gdd_of, d->sow_day, end, true, &f->gdd_degc_days);
    sum_span(w, crop, heat_of, max64(d->peak_day - PARUS_CLIMATE_HEAT_HALF_DAYS, d->sow_day),
             min64(d->peak_day + PARUS_CLIMATE_HEAT_HALF_DAYS, end), false, &f->heat_days);
    sum_span(w, crop, frost_of,
             d->overwinters ? max64(d->sow_day, d->peak_day - PARUS_CLIMATE_GREENUP_DAYS)
                            : d->sow_day,
             end, false, &f->frost_days);
    dry_spell(w, max64(d->sow_day, w->first_day), end, &f->dry_spell_days, &f->dry_spell_first_day);
}

/* ---- normals ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean and median of the finite values of v[0..n) (reordered). */
static void normal_of(double *v, size_t n, parus_climate_normal *out)
{
    size_t i, m = 0;
    double sum = 0.0;
    for (i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    out->n_years = m;
    out->mean = out->median = NAN;
    if (m < PARUS_CLIMATE_MIN_YEARS)
        return;
    qsort(v, m, sizeof *v, cmp_double);
    for (i = 0; i < m; i++)
        sum += v[i];
    out->mean = sum / (double)m;
    out->median = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2.0;
}

/* The SPI over the last n_days of each window. */
static void spi_span(const parus_climate_window *season, const parus_climate_window *years,
                     size_t n_years, size_t n_days, double *scratch, parus_climate_spi *out)
{
    parus_climate_figure f;
    size_t i, m = 0;
    int64_t back = (int64_t)n_days - 1;
    if ((int64_t)n_days > season->last_day - season->first_day + 1) {
        memset(out, 0, sizeof *out);
        out->n_days = n_days;
        out->rain_mm = out->spi = out->probability = out->gamma_shape = out->gamma_scale_mm = NAN;
        out->why = PARUS_CLIMATE_WINDOW_SHORT;
        return;
    }
    for (i = 0; i < n_years; i++) {
        sum_span(&years[i], NULL, rain_of, years[i].last_day - back, years[i].last_day, true, &f);
        if (isfinite(f.value))
            scratch[m++] = f.value;
    }
    sum_span(season, NULL, rain_of, season->last_day - back, season->last_day, true, &f);
    parus_climate_spi_of(f.value, scratch, m, out);
    out->n_days = n_days;
}

/* Percentile of x among the finite v[0..n): share below, equal ones counted half. */
static double percentile_of(double x, const double *v, size_t n)
{
    double below = 0.0;
    size_t i, m = 0;
    if (!isfinite(x))
        return NAN;
    for (i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        m++;
        below += v[i] < x ? 1.0 : v[i] == x ? 0.5 : 0.0;
    }
    return m >= PARUS_CLIMATE_MIN_YEARS ? 100.0 * below / (double)m : (double)NAN;
}

enum { F_RAIN, F_GDD, F_HEAT, F_FROST, F_DRY, F_SCRATCH, F_N_ };

parus_status parus_climate_season(const parus_climate_window *season,
                                  const parus_climate_window *years, size_t n_years,
                                  const parus_crop *crop, parus_climate *out, parus_error *err)
{
    parus_climate c;
    double *v;
    size_t i, n;

    if (!season || !out || (n_years && !years))
        return parus_fail(err, PARUS_E_INVALID, "climate: missing season, years or output");
    if (season->last_day < season->first_day || season->last_day - season->first_day >= 3660)
        return parus_fail(err, PARUS_E_INVALID,
                          "climate: a season window of 1 to 3660 days is needed");
    for (i = 0; i < n_years; i++)
        if (years[i].last_day - years[i].first_day != season->last_day - season->first_day)
            return parus_fail(err, PARUS_E_INVALID,
                              "climate: climatology year %zu is not as long as the season", i);
    memset(&c, 0, sizeof c);
    c.first_day = season->first_day;
    c.last_day = season->last_day;
    n = c.n_days = (size_t)(season->last_day - season->first_day + 1);
    c.n_years_given = n_years;
    c.crop_why = parus_climate_find_crop_dates(crop, c.first_day, c.last_day, &c.crop_dates);
    window_figures(season, crop, c.crop_why, &c.crop_dates, &c.season);

    v = malloc((n_years ? n_years : 1) * F_N_ * sizeof *v);
    if (!v)
        return parus_fail(err, PARUS_E_NOMEM, "climate: cannot hold %zu years", n_years);
    for (i = 0; i < n_years; i++) {
        parus_climate_crop_dates d;
        parus_climate_figures f;
        parus_climate_why why =
            parus_climate_find_crop_dates(crop, years[i].first_day, years[i].last_day, &d);
        window_figures(&years[i], crop, why, &d, &f);
        v[F_RAIN * n_years + i] = f.rain_mm.value;
        v[F_GDD * n_years + i] = f.gdd_degc_days.value;
        v[F_HEAT * n_years + i] = f.heat_days.value;
        v[F_FROST * n_years + i] = f.frost_days.value;
        v[F_DRY * n_years + i] = f.dry_spell_days.value;
    }
    c.rain_percentile = percentile_of(c.season.rain_mm.value, v + F_RAIN * n_years, n_years);
    normal_of(v + F_RAIN * n_years, n_years, &c.rain_mm_normal);
    normal_of(v + F_GDD * n_years, n_years, &c.gdd_degc_days_normal);
    normal_of(v + F_HEAT * n_years, n_years, &c.heat_days_normal);
    normal_of(v + F_FROST * n_years, n_years, &c.frost_days_normal);
    normal_of(v + F_DRY * n_years, n_years, &c.dry_spell_days_normal);
    c.climatology_why = c.rain_mm_normal.n_years >= PARUS_CLIMATE_MIN_YEARS
                            ? PARUS_CLIMATE_OK
                            : PARUS_CLIMATE_FEW_YEARS;
    c.short_climatology = c.rain_mm_normal.n_years < PARUS_CLIMATE_FULL_YEARS;
    c.rain_pct_of_normal = c.rain_mm_normal.mean > 0.0
                               ? 100.0 * c.season.rain_mm.value / c.rain_mm_normal.mean
                               : (double)NAN;
    spi_span(season, years, n_years, 30, v + F_SCRATCH * n_years, &c.spi_30d);
    spi_span(season, years, n_years, 90, v + F_SCRATCH * n_years, &c.spi_90d);
    spi_span(season, years, n_years, n, v + F_SCRATCH * n_years, &c.spi_season);
    free(v);
    *out = c;
    return PARUS_OK;
}

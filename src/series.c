/*
 * series.c - one parcel's season: filter, composite to a regular step, fill short gaps, smooth
 * (Whittaker), phenology.
 *
 * Workload: every parcel of a region every season, e.g. 140,000 parcels x 36 ten-day steps,
 * run in parallel over parcels. So everything here is O(n_obs + n_steps) per parcel (the
 * prominence walks are O(n_steps^2) in the worst case, at 36 steps nothing), touches no file and
 * no global, and a parus_series reused by one thread allocates only when a season grows.
 *
 * Assumptions: values are NDVI-like (higher is greener, clouds lower them), seasons are short
 * (tens to a few hundred steps), observation days are day numbers. The header states every rule.
 */
#include "parus/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util_int.h"

void parus_series_options_init(parus_series_options *opt)
{
    opt->min_valid_fraction = 0.6;
    opt->step_days = 10;
    opt->composite = PARUS_SERIES_COMPOSITE_MAX;
    opt->max_gap_steps = 3;
    opt->lambda = 2.0;
    opt->interpolated_weight = 0.5;
    opt->min_observed_steps = 6;
    opt->sos_fraction = 0.2;
    opt->eos_fraction = 0.2;
    opt->min_prominence = 0.1;
    opt->min_prominence_fraction = 0.25;
}

void parus_series_init(parus_series *s)
{
    memset(s, 0, sizeof *s);
}

void parus_series_release(parus_series *s)
{
    if (!s)
        return;
    free(s->buf_);
    parus_series_init(s);
}

static bool counts(double value, const double *weight, size_t i, double min_valid_fraction)
{
    if (!isfinite(value))
        return false;
    return !weight || weight[i] >= min_valid_fraction;
}

size_t parus_series_filter(int64_t *day, double *value, double *weight, size_t n_obs,
                           double min_valid_fraction)
{
    size_t k = 0;
    for (size_t i = 0; i < n_obs; i++) {
        if (!counts(value[i], weight, i, min_valid_fraction))
            continue;
        day[k] = day[i];
        value[k] = value[i];
        if (weight)
            weight[k] = weight[i];
        k++;
    }
    return k;
}

size_t parus_series_composite(const int64_t *day, const double *value, const double *weight,
                              size_t n_obs, double min_valid_fraction, int64_t start_day,
                              size_t step_days, size_t n_steps, parus_series_method method,
                              double *out)
{
    size_t n_used = 0;
    for (size_t i = 0; i < n_steps; i++)
        out[i] = NAN;
    if (step_days == 0)
        return 0;
    for (size_t i = 0; i < n_obs; i++) {
        if (!counts(value[i], weight, i, min_valid_fraction) || day[i] < start_day)
            continue;
        uint64_t off = (uint64_t)(day[i] - start_day) / step_days;
        if (off >= n_steps)
            continue;
        size_t b = (size_t)off;
        n_used++;
        if (method == PARUS_SERIES_COMPOSITE_MAX) {
            if (isnan(out[b]) || value[i] > out[b])
                out[b] = value[i];
        }
    }
    if (method == PARUS_SERIES_COMPOSITE_MAX)
        return n_used;
    /* weighted mean: one pass over the observations per step, O(n_obs n_steps), which at tens
     * of observations and 36 steps costs less than the per-step sums' buffer would */
    for (size_t b = 0; b < n_steps; b++) {
        double sw = 0.0, swv = 0.0, sv = 0.0;
        size_t k = 0;
        int64_t lo = start_day + (int64_t)(b * step_days);
        int64_t hi = lo + (int64_t)step_days;
        for (size_t i = 0; i < n_obs; i++) {
            if (day[i] < lo || day[i] >= hi || !counts(value[i], weight, i, min_valid_fraction))
                continue;
            double w = weight ? weight[i] : 1.0;
            sw += w;
            swv += w * value[i];
            sv += value[i];
            k++;
        }
        if (k > 0)
            out[b] = sw > 0.0 ? swv / sw : sv / (double)k;
    }
    return n_used;
}

size_t parus_series_fill_gaps(double *value, unsigned char *flag, size_t n, size_t max_gap_steps)
{
    size_t n_filled = 0;
    size_t i = 0;
    while (i < n) {
        if (isfinite(value[i])) {
            flag[i++] = PARUS_SERIES_OBSERVED;
            continue;
        }
        size_t j = i;
        while (j < n && !isfinite(value[j]))
            j++;
        /* gap [i, j) */
        bool inner = i > 0 && j < n;
        if (inner && j - i <= max_gap_steps) {
            double a = value[i - 1], b = value[j];
            double len = (double)(j - i + 1);
            for (size_t k = i; k < j; k++) {
                value[k] = a + (b - a) * (double)(k - i + 1) / len;
                flag[k] = PARUS_SERIES_INTERPOLATED;
            }
            n_filled += j - i;
        } else {
            for (size_t k = i; k < j; k++) {
                value[k] = NAN;
                flag[k] = PARUS_SERIES_MISSING;
            }
        }
        i = j;
    }
    return n_filled;
}

/* Entries of D'D for second differences of length n (D has rows (1, -2, 1) at k, k+1, k+2 for
 * k = 0..n-3): the diagonal, the first and the second off-diagonal at row i. */
static double dd0(size_t i, size_t n)
{
    static const double sq[3] = {1.0, 4.0, 1.0};
    double s = 0.0;
    for (size_t k = i >= 2 ? i - 2 : 0; k <= i && k + 2 < n; k++)
        s += sq[i - k];
    return s;
}

static double dd1(size_t i, size_t n)
{
    double s = 0.0;
    for (size_t k = i >= 1 ? i - 1 : 0; k <= i && k + 2 < n; k++)
        s += -2.0; /* c0 c1 = c1 c2 = -2 */
    return s;
}

parus_status parus_whittaker_smooth(const double *y, const double *w, size_t n, double lambda,
                                    double *z, double *work, parus_error *err)
{
    if (n < 3)
        return parus_fail(err, PARUS_E_INVALID,
                          "whittaker smoother needs at least 3 steps, got %zu", n);
    if (!isfinite(lambda) || lambda < 0.0)
        return parus_fail(err, PARUS_E_INVALID, "whittaker lambda '%g' is not a finite value >= 0",
                          lambda);
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0.0)
            return parus_fail(err, PARUS_E_INVALID, "whittaker weight '%g' at step %zu is not >= 0",
                              w[i], i);
        if (w[i] > 0.0) {
            if (!isfinite(y[i]))
                return parus_fail(err, PARUS_E_INVALID,
                                  "whittaker value at step %zu is not finite but has weight %g", i,
                                  w[i]);
            n_pos++;
        }
    }
    if (n_pos < 2)
        return parus_fail(err, PARUS_E_RANGE,
                          "whittaker smoother needs at least 2 weighted steps, got %zu", n_pos);

    /* banded LDL' of A = W + lambda D'D: A is pentadiagonal, L unit lower with two
     * sub-diagonals l1 (i, i-1) and l2 (i, i-2) */
    double *d = work, *l1 = work + n, *l2 = work + 2 * n;
    for (size_t i = 0; i < n; i++) {
        double a0 = w[i] + lambda * dd0(i, n);
        double di = a0;
        l2[i] = 0.0;
        l1[i] = 0.0;
        if (i >= 2) {
            l2[i] = lambda / d[i - 2]; /* A(i, i-2) = lambda */
            di -= l2[i] * l2[i] * d[i - 2];
        }
        if (i >= 1) {
            double a1 = lambda * dd1(i - 1, n);
            double t = a1 - (i >= 2 ? l2[i] * l1[i - 1] * d[i - 2] : 0.0);
            l1[i] = t / d[i - 1];
            di -= l1[i] * l1[i] * d[i - 1];
        }
        /* a pivot that vanishes relative to the row's scale means the weights leave a
         * straight line (D'D's null space) undetermined */
        if (!(di > 1e-12 * (a0 > 1.0 ? a0 : 1.0)))
            return parus_fail(err, PARUS_E_RANGE,
                              "whittaker system is singular at step %zu (weights too sparse)", i);
        d[i] = di;
    }
    /* forward: L u = W y (u in z), then D v = u, then backward: L' z = v */
    for (size_t i = 0; i < n; i++) {
        double b = w[i] > 0.0 ? w[i] * y[i] : 0.0;
        if (i >= 1)
            b -= l1[i] * z[i - 1];
        if (i >= 2)
            b -= l2[i] * z[i - 2];
        z[i] = b;
    }
    for (size_t i = 0; i < n; i++)
        z[i] /= d[i];
    for (size_t k = n; k-- > 0;) {
        if (k + 1 < n)
            z[k] -= l1[k + 1] * z[k + 1];
        if (k + 2 < n)
            z[k] -= l2[k + 2] * z[k + 2];
    }
    return PARUS_OK;
}

/* Hinnant's days_from_civil and civil_from_days (year only), proleptic Gregorian */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int parus_series_day_of_year(int64_t day)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy_mar = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy_mar + 2) / 153;
    int64_t y = yoe + era * 400 + (mp >= 10); /* January and February end the shifted year */
    return (int)(day - days_from_civil(y, 1, 1) + 1);
}

parus_status parus_series_parse_day(const char *date, int64_t *day, parus_error *err)
{
    char canon[11];
    if (!date || !parus__parse_date(date, canon) ||
        (date[4] == '-' ? date[10] != '\0' : date[8] != '\0'))
        return parus_fail(err, PARUS_E_INVALID, "'%s' is not a date (YYYY-MM-DD)",
                          date ? date : "(null)");
    *day = parus__date_days(canon);
    return PARUS_OK;
}

static double step_day(int64_t start_day, size_t step_days, double i)
{
    return (double)start_day + i * (double)step_days + ((double)step_days - 1.0) / 2.0;
}

static bool fin(const double *z, size_t n, size_t i)
{
    return i < n && isfinite(z[i]);
}

/* Topographic prominence of the peak at p. */
static double prominence(const double *z, size_t n, size_t p)
{
    double lmin = z[p], rmin = z[p];
    for (size_t i = p; i-- > 0 && isfinite(z[i]) && z[i] <= z[p];)
        if (z[i] < lmin)
            lmin = z[i];
    for (size_t i = p + 1; i < n && isfinite(z[i]) && z[i] <= z[p]; i++)
        if (z[i] < rmin)
            rmin = z[i];
    return z[p] - (lmin > rmin ? lmin : rmin);
}

/* Index of the minimum from the peak 'from' towards 'to' (either side, 'to' included), stopping
 * at the first missing step. */
static size_t min_toward(const double *z, size_t from, size_t to)
{
    size_t best = from;
    if (to < from) {
        for (size_t i = from; i-- > to && isfinite(z[i]);)
            if (z[i] < z[best])
                best = i;
    } else {
        for (size_t i = from + 1; i <= to && isfinite(z[i]); i++)
            if (z[i] < z[best])
                best = i;
    }
    return best;
}

/* Where the curve, leaving the peak at p towards 'to', first falls below th: the fractional
 * step, interpolated between centres. */
static double crossing(const double *z, size_t p, size_t to, double th)
{
    if (to < p) {
        for (size_t i = p; i > to; i--)
            if (z[i - 1] < th && z[i] >= th)
                return (double)(i - 1) + (th - z[i - 1]) / (z[i] - z[i - 1]);
    } else {
        for (size_t i = p; i < to; i++)
            if (z[i + 1] < th && z[i] >= th)
                return (double)i + (z[i] - th) / (z[i] - z[i + 1]);
    }
    return (double)to;
}

static void finish_cycle(const double *z, size_t p, size_t left_to, size_t right_to,
                         int64_t start_day, size_t step_days, const parus_series_options *opt,
                         parus_series_cycle *c)
{
    size_t lb = min_toward(z, p, left_to), rb = min_toward(z, p, right_to);
    double pk = z[p];
    double th_l = z[lb] + opt->sos_fraction * (pk - z[lb]);
    double th_r = z[rb] + opt->eos_fraction * (pk - z[rb]);
    c->peak_value = pk;
    c->base_left = z[lb];
    c->base_right = z[rb];
    c->peak_day = step_day(start_day, step_days, (double)p);
    c->start_day = step_day(start_day, step_days, crossing(z, p, lb, th_l));
    c->end_day = step_day(start_day, step_days, crossing(z, p, rb, th_r));
}

parus_status parus_series_phenology(const double *z, size_t n, int64_t start_day, size_t step_days,
                                    const parus_series_options *opt, parus_phenology *out,
                                    parus_error *err)
{
    parus_phenology ph;
    memset(&ph, 0, sizeof ph);
    ph.start_day = ph.peak_day = ph.end_day = ph.length_days = NAN;
    ph.base = ph.peak_value = NAN;
    double scale = (double)step_days / 10.0;
    size_t n_fin = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(z[i]))
            continue;
        if (n_fin == 0 || z[i] < ph.base)
            ph.base = z[i];
        if (n_fin == 0 || z[i] > ph.peak_value)
            ph.peak_value = z[i];
        ph.integral_10d += z[i] * scale;
        n_fin++;
    }
    if (n_fin == 0)
        return parus_fail(err, PARUS_E_RANGE, "series has no value to take phenology from");
    ph.amplitude = ph.peak_value - ph.base;
    ph.integral_above_base_10d = ph.integral_10d - (double)n_fin * ph.base * scale;
    double min_prom = opt->min_prominence;
    if (opt->min_prominence_fraction * ph.amplitude > min_prom)
        min_prom = opt->min_prominence_fraction * ph.amplitude;

    /* cycles in time order; each is finished once the next one (or the end) bounds its fall */
    size_t prev = SIZE_MAX, pend = SIZE_MAX, highest = SIZE_MAX;
    double last_end = NAN;
    for (size_t p = 1; p + 1 <= n; p++) {
        bool cand = p + 1 < n && fin(z, n, p) && fin(z, n, p - 1) && fin(z, n, p + 1) &&
                    z[p] > z[p - 1] && z[p] >= z[p + 1];
        if (cand && !(prominence(z, n, p) >= min_prom))
            cand = false;
        if (!cand && p + 1 < n)
            continue;
        if (!cand && pend == SIZE_MAX)
            break;
        /* finish the pending cycle: its fall ends at this cycle's peak, or at the end */
        if (pend != SIZE_MAX) {
            size_t right_to = cand ? p : n - 1;
            size_t left_to = prev == SIZE_MAX ? 0 : prev;
            parus_series_cycle c;
            finish_cycle(z, pend, left_to, right_to, start_day, step_days, opt, &c);
            c.prominence = prominence(z, n, pend);
            if (ph.n_cycles < PARUS_SERIES_MAX_CYCLES)
                ph.cycle[ph.n_cycles] = c;
            if (ph.n_cycles == 0)
                ph.start_day = c.start_day;
            if (highest == SIZE_MAX || z[pend] > z[highest]) {
                highest = pend;
                ph.peak_day = c.peak_day;
            }
            last_end = c.end_day;
            ph.n_cycles++;
            prev = pend;
        }
        pend = cand ? p : SIZE_MAX;
        if (!cand)
            break;
    }
    if (ph.n_cycles > 0) {
        ph.end_day = last_end;
        ph.length_days = ph.end_day - ph.start_day;
        ph.start_doy = parus_series_day_of_year((int64_t)floor(ph.start_day));
        ph.peak_doy = parus_series_day_of_year((int64_t)floor(ph.peak_day));
        ph.end_doy = parus_series_day_of_year((int64_t)floor(ph.end_day));
    }
    *out = ph;
    return PARUS_OK;
}

parus_status parus_series_run(parus_series *s, const parus_series_options *opt, const int64_t *day,
                              const double *value, const double *weight, size_t n_obs,
                              int64_t start_day, int64_t end_day, parus_error *err)
{
    if (opt->step_days == 0 || end_day < start_day)
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%lld..%lld' step %zu days is not a valid window",
                          (long long)start_day, (long long)end_day, opt->step_days);
    if (n_obs > 0 && (!day || !value))
        return parus_fail(err, PARUS_E_INVALID, "series has %zu observations but no arrays", n_obs);
    if (!isfinite(opt->lambda) || opt->lambda < 0.0)
        return parus_fail(err, PARUS_E_INVALID, "whittaker lambda '%g' is not a finite value >= 0",
                          opt->lambda);
    uint64_t span = (uint64_t)(end_day - start_day);
    uint64_t n64 = span / opt->step_days + 1;
    if (n64 > SIZE_MAX / 64)
        return parus_fail(err, PARUS_E_RANGE, "season of %llu steps is too long",
                          (unsigned long long)n64);
    size_t n = (size_t)n64;
    if (n < 4)
        return parus_fail(err, PARUS_E_RANGE, "season of %zu steps is too short (at least 4)", n);

    if (n > s->cap_steps_) {
        /* composite, value, weight, 3 work: 6 doubles per step, then the flags */
        size_t bytes;
        if (!parus__mul_size(n, 6 * sizeof(double) + 1, &bytes))
            return parus_fail(err, PARUS_E_NOMEM, "season of %zu steps is too long", n);
        void *buf = realloc(s->buf_, bytes);
        if (!buf)
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a series of %zu steps", n);
        s->buf_ = buf;
        s->cap_steps_ = n;
    }
    double *base = s->buf_;
    double *wts = base + 2 * n, *work = base + 3 * n;
    s->composite = base;
    s->value = base + n;
    s->flag = (unsigned char *)(base + 6 * n);
    s->start_day = start_day;
    s->step_days = opt->step_days;
    s->n_steps = n;
    memset(&s->pheno, 0, sizeof s->pheno);

    s->n_obs_used =
        parus_series_composite(day, value, weight, n_obs, opt->min_valid_fraction, start_day,
                               opt->step_days, n, opt->composite, s->composite);
    memcpy(s->value, s->composite, n * sizeof(double));
    s->n_interpolated = parus_series_fill_gaps(s->value, s->flag, n, opt->max_gap_steps);
    s->n_observed = s->n_missing = 0;
    for (size_t i = 0; i < n; i++) {
        s->n_observed += s->flag[i] == PARUS_SERIES_OBSERVED;
        s->n_missing += s->flag[i] == PARUS_SERIES_MISSING;
        wts[i] = s->flag[i] == PARUS_SERIES_OBSERVED       ? 1.0
                 : s->flag[i] == PARUS_SERIES_INTERPOLATED ? opt->interpolated_weight
                                                           : 0.0;
    }
    if (s->n_observed < opt->min_observed_steps || s->n_observed < 2)
        return parus_fail(err, PARUS_E_RANGE,
                          "too few clear observations: %zu of %zu steps observed, %zu needed",
                          s->n_observed, n, opt->min_observed_steps);
    parus_status st = parus_whittaker_smooth(s->value, wts, n, opt->lambda, s->value, work, err);
    if (st != PARUS_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (s->flag[i] == PARUS_SERIES_MISSING)
            s->value[i] = NAN;
    return parus_series_phenology(s->value, n, start_day, opt->step_days, opt, &s->pheno, err);
}

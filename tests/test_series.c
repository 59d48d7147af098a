/* test_series.c - the season's series: filter, composite, gap filling, Whittaker smoothing and
 * phenology, on hand-checkable series, synthetic double-logistic seasons and the real Mato Grosso
 * MODIS samples. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/series.h"

static void test_options__defaults(void **state)
{
    (void)state;
    parus_series_options o;
    parus_series_options_init(&o);
    assert_close(o.min_valid_fraction, 0.6, 0, 0);
    assert_int_equal(o.step_days, 10);
    assert_int_equal(o.composite, PARUS_SERIES_COMPOSITE_MAX);
    assert_int_equal(o.max_gap_steps, 3);
    assert_true(o.lambda > 0.0);
}

static void test_filter__drops_low_valid_fraction_and_nan(void **state)
{
    (void)state;
    int64_t day[5] = {1, 2, 3, 4, 5};
    double v[5] = {0.1, 0.2, NAN, 0.4, 0.5};
    double w[5] = {1.0, 0.5, 1.0, 0.6, 0.9};
    size_t k = parus_series_filter(day, v, w, 5, 0.6);
    assert_int_equal(k, 3);
    assert_int_equal(day[0], 1);
    assert_int_equal(day[1], 4);
    assert_int_equal(day[2], 5);
    assert_close(v[1], 0.4, 0, 0);
    assert_close(w[2], 0.9, 0, 0);
}

static void test_composite__max_and_mean_by_hand(void **state)
{
    (void)state;
    /* steps of 10 days from day 100: [100,110) [110,120) [120,130) */
    int64_t day[7] = {95, 100, 105, 109, 121, 129, 130};
    double v[7] = {9.0, 0.2, 0.6, 0.4, 0.3, 0.5, 9.0};
    double w[7] = {1.0, 1.0, 0.7, 1.0, 0.2, 0.8, 1.0};
    double out[3];
    size_t used =
        parus_series_composite(day, v, w, 7, 0.6, 100, 10, 3, PARUS_SERIES_COMPOSITE_MAX, out);
    assert_int_equal(used, 4); /* 95 and 130 outside, 121 too cloudy */
    assert_close(out[0], 0.6, 0, 0);
    assert_true(isnan(out[1]));
    assert_close(out[2], 0.5, 0, 0);
    used = parus_series_composite(day, v, w, 7, 0.6, 100, 10, 3, PARUS_SERIES_COMPOSITE_MEAN, out);
    assert_int_equal(used, 4);
    /* (1 * 0.2 + 0.7 * 0.6 + 1 * 0.4) / 2.7 */
    assert_close(out[0], (0.2 + 0.42 + 0.4) / 2.7, 1e-15, 0);
    assert_true(isnan(out[1]));
    assert_close(out[2], 0.5, 1e-15, 0);
}

static void test_fill_gaps__short_interpolated_long_missing(void **state)
{
    (void)state;
    double v[12] = {NAN, 1.0, NAN, NAN, 4.0, NAN, NAN, NAN, NAN, 9.0, 10.0, NAN};
    unsigned char f[12];
    size_t k = parus_series_fill_gaps(v, f, 12, 3);
    assert_int_equal(k, 2);
    assert_int_equal(f[0], PARUS_SERIES_MISSING); /* leading: no left side */
    assert_true(isnan(v[0]));
    assert_int_equal(f[1], PARUS_SERIES_OBSERVED);
    assert_int_equal(f[2], PARUS_SERIES_INTERPOLATED);
    assert_close(v[2], 2.0, 1e-15, 0);
    assert_close(v[3], 3.0, 1e-15, 0);
    for (size_t i = 5; i < 9; i++) { /* 4 steps > 3 */
        assert_int_equal(f[i], PARUS_SERIES_MISSING);
        assert_true(isnan(v[i]));
    }
    assert_int_equal(f[10], PARUS_SERIES_OBSERVED);
    assert_int_equal(f[11], PARUS_SERIES_MISSING); /* trailing */
}

static void test_whittaker__lambda_zero_returns_data(void **state)
{
    (void)state;
    double y[6] = {0.1, 0.5, 0.2, 0.9, 0.3, 0.4}, w[6] = {1, 0.5, 2, 1, 1, 0.1}, z[6], work[18];
    assert_int_equal(parus_whittaker_smooth(y, w, 6, 0.0, z, work, NULL), PARUS_OK);
    for (size_t i = 0; i < 6; i++)
        assert_close(z[i], y[i], 1e-14, 0);
}

static void test_whittaker__line_unchanged(void **state)
{
    (void)state;
    double y[9], w[9], z[9], work[27];
    for (size_t i = 0; i < 9; i++) {
        y[i] = 0.3 + 0.05 * (double)i;
        w[i] = (i % 3 == 1) ? 0.0 : 1.0; /* some steps weigh nothing: still the line */
    }
    y[4] = NAN; /* weight 0 there: never read */
    const double lambdas[3] = {0.5, 10.0, 1e5};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(parus_whittaker_smooth(y, w, 9, lambdas[k], z, work, NULL), PARUS_OK);
        for (size_t i = 0; i < 9; i++)
            assert_close(z[i], 0.3 + 0.05 * (double)i, 1e-9, 0);
    }
}

/* (W + lambda D'D) z = W y by Gaussian elimination on the dense matrix, for comparison */
static void dense_whittaker(const double *y, const double *w, size_t n, double lambda, double *z)
{
    double a[8][9];
    memset(a, 0, sizeof a);
    for (size_t k = 0; k + 2 < n; k++) {
        const double c[3] = {1.0, -2.0, 1.0};
        for (size_t r = 0; r < 3; r++)
            for (size_t s = 0; s < 3; s++)
                a[k + r][k + s] += lambda * c[r] * c[s];
    }
    for (size_t i = 0; i < n; i++) {
        a[i][i] += w[i];
        a[i][n] = w[i] > 0 ? w[i] * y[i] : 0.0;
    }
    for (size_t c = 0; c < n; c++)
        for (size_t r = c + 1; r < n; r++) {
            double f = a[r][c] / a[c][c];
            for (size_t k = c; k <= n; k++)
                a[r][k] -= f * a[c][k];
        }
    for (size_t r = n; r-- > 0;) {
        double s = a[r][n];
        for (size_t k = r + 1; k < n; k++)
            s -= a[r][k] * z[k];
        z[r] = s / a[r][r];
    }
}

static void test_whittaker__matches_dense_solve(void **state)
{
    (void)state;
    double y[8] = {0.2, 0.35, NAN, 0.7, 0.65, 0.8, 0.4, 0.3};
    double w[8] = {1.0, 0.5, 0.0, 1.0, 0.2, 1.0, 0.0, 0.7};
    double z[8], zd[8], work[24];
    for (size_t n = 3; n <= 8; n++) {
        const double lambdas[3] = {0.1, 3.0, 200.0};
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(parus_whittaker_smooth(y, w, n, lambdas[k], z, work, NULL), PARUS_OK);
            dense_whittaker(y, w, n, lambdas[k], zd);
            for (size_t i = 0; i < n; i++)
                assert_close(z[i], zd[i], 1e-12, 1e-10);
        }
    }
}

static void test_whittaker__singular_and_bad_input(void **state)
{
    (void)state;
    double y[5] = {1, 2, 3, 4, 5}, w[5] = {0, 0, 1, 0, 0}, z[5], work[15];
    parus_error err;
    parus_error_init(&err);
    assert_int_equal(parus_whittaker_smooth(y, w, 5, 1.0, z, work, &err), PARUS_E_RANGE);
    w[0] = 1.0;
    assert_int_equal(parus_whittaker_smooth(y, w, 5, -1.0, z, work, &err), PARUS_E_INVALID);
    assert_int_equal(parus_whittaker_smooth(y, w, 5, NAN, z, work, &err), PARUS_E_INVALID);
    y[0] = NAN;
    assert_int_equal(parus_whittaker_smooth(y, w, 5, 1.0, z, work, &err), PARUS_E_INVALID);
    assert_int_equal(parus_whittaker_smooth(y, w, 2, 1.0, z, work, &err), PARUS_E_INVALID);
}

static void test_day__parse_and_day_of_year(void **state)
{
    (void)state;
    int64_t d;
    assert_int_equal(parus_series_parse_day("1970-01-01", &d, NULL), PARUS_OK);
    assert_int_equal(d, 0);
    assert_int_equal(parus_series_parse_day("2024-03-01", &d, NULL), PARUS_OK);
    assert_int_equal(parus_series_day_of_year(d), 61);
    assert_int_equal(parus_series_day_of_year(d - 1), 60); /* 29 February */
    assert_int_equal(parus_series_parse_day("2023-12-31", &d, NULL), PARUS_OK);
    assert_int_equal(parus_series_day_of_year(d), 365);
    assert_int_equal(parus_series_day_of_year(d + 1), 1);
    assert_int_equal(parus_series_day_of_year(-1), 365); /* 1969-12-31 */
    assert_int_equal(parus_series_parse_day("2023-02-29", &d, NULL), PARUS_E_INVALID);
    assert_int_equal(parus_series_parse_day("2023-02-01x", &d, NULL), PARUS_E_INVALID);
}

/* ---- synthetic seasons ---- */

typedef struct cycle_def {
    double up_doy, down_doy, k_days, amp;
} cycle_def;

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* base + the highest of the cycles' double-logistic curves */
static double curve(const cycle_def *c, size_t n_c, double base, double doy)
{
    double g = 0.0;
    for (size_t i = 0; i < n_c; i++) {
        double v = c[i].amp * (logistic((doy - c[i].up_doy) / c[i].k_days) -
                               logistic((doy - c[i].down_doy) / c[i].k_days));
        if (v > g)
            g = v;
    }
    return base + g;
}

/* The truth by the header's definitions, on the daily noise-free curve over [a, b] (doy). */
static void truth(const cycle_def *c, size_t n_c, double base, int a, int b, double f, double *sos,
                  double *pos, double *eos)
{
    int p = a;
    for (int t = a; t <= b; t++)
        if (curve(c, n_c, base, t) > curve(c, n_c, base, p))
            p = t;
    double lmin = curve(c, n_c, base, p), rmin = lmin, pk = lmin;
    for (int t = a; t <= p; t++)
        lmin = fmin(lmin, curve(c, n_c, base, t));
    for (int t = p; t <= b; t++)
        rmin = fmin(rmin, curve(c, n_c, base, t));
    int t = p;
    while (t > a && curve(c, n_c, base, t) >= lmin + f * (pk - lmin))
        t--;
    *sos = t;
    t = p;
    while (t < b && curve(c, n_c, base, t) >= rmin + f * (pk - rmin))
        t++;
    *eos = t;
    *pos = p;
}

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Observations every 5 days over 2021 with noise, 30 % cloudy (valid fraction 0.2, value
 * depressed), a 20-day outage, and a few clear-enough observations with residual haze. */
static size_t make_obs(const cycle_def *c, size_t n_c, double base, uint64_t seed, int64_t day0,
                       int outage_doy, int64_t *day, double *v, double *w)
{
    size_t n = 0;
    rng_state = seed;
    for (int doy = 3; doy <= 363; doy += 5) {
        double clean = curve(c, n_c, base, doy);
        if (doy >= outage_doy && doy < outage_doy + 20)
            continue;
        day[n] = day0 + doy - 1;
        v[n] = clean + 0.04 * (urand() - 0.5);
        w[n] = 0.8 + 0.2 * urand();
        double r = urand();
        if (r < 0.3) {
            w[n] = 0.2;
            v[n] = clean - 0.3;
        } else if (r < 0.35) {
            w[n] = 0.65;
            v[n] = clean - 0.1;
        } else if (r < 0.37) {
            v[n] = NAN;
        }
        n++;
    }
    return n;
}

static void check_cycle(const parus_series_cycle *got, double t_sos, double t_pos, double t_eos,
                        int64_t day0)
{
    double sos = got->start_day - (double)day0 + 1, pos = got->peak_day - (double)day0 + 1;
    double eos = got->end_day - (double)day0 + 1;
    print_message("  cycle: start %.1f (truth %.0f) peak %.1f (%.0f) end %.1f (%.0f)\n", sos, t_sos,
                  pos, t_pos, eos, t_eos);
    assert_true(fabs(sos - t_sos) <= 10.0);
    assert_true(fabs(pos - t_pos) <= 10.0);
    assert_true(fabs(eos - t_eos) <= 10.0);
}

static void test_phenology__single_maize(void **state)
{
    (void)state;
    const cycle_def maize = {150, 240, 10, 0.65};
    int64_t day0, day[80];
    double v[80], w[80];
    assert_int_equal(parus_series_parse_day("2021-01-01", &day0, NULL), PARUS_OK);
    parus_series_options o;
    parus_series_options_init(&o);
    parus_series s;
    parus_series_init(&s);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        size_t n = make_obs(&maize, 1, 0.2, seed, day0, 150 + (int)seed * 7, day, v, w);
        parus_error err;
        parus_error_init(&err);
        assert_int_equal(parus_series_run(&s, &o, day, v, w, n, day0, day0 + 359, &err), PARUS_OK);
        assert_int_equal(s.n_steps, 36);
        assert_int_equal(s.pheno.n_cycles, 1);
        double t_sos, t_pos, t_eos;
        truth(&maize, 1, 0.2, 1, 365, 0.2, &t_sos, &t_pos, &t_eos);
        check_cycle(&s.pheno.cycle[0], t_sos, t_pos, t_eos, day0);
        assert_close(s.pheno.start_day, s.pheno.cycle[0].start_day, 0, 0);
        assert_close(s.pheno.length_days, s.pheno.end_day - s.pheno.start_day, 1e-9, 0);
        assert_close(s.pheno.peak_value, 0.84, 0.05, 0);
        /* a hazy observation that passes the filter can lower the base alone in its step */
        assert_close(s.pheno.amplitude, 0.65, 0.1, 0);
        assert_true(abs(s.pheno.peak_doy - (int)t_pos) <= 10);
        assert_true(s.pheno.integral_10d > s.pheno.integral_above_base_10d);
    }
    parus_series_release(&s);
}

static void test_phenology__wheat_maize_rotation(void **state)
{
    (void)state;
    /* winter wheat greening up in March, peak in April, harvest early June; summer maize sown
     * mid June, peak in August, harvest late September */
    const cycle_def rot[2] = {{75, 150, 7, 0.6}, {190, 258, 7, 0.55}};
    int64_t day0, day[80];
    double v[80], w[80];
    assert_int_equal(parus_series_parse_day("2021-01-01", &day0, NULL), PARUS_OK);
    parus_series_options o;
    parus_series_options_init(&o);
    parus_series s;
    parus_series_init(&s);
    /* 20-day outages: in winter, at the trough between the crops, at the maize peak, at the wheat
     * peak (one that hides a whole green-up, with clouds around it, moves the start by two steps:
     * no method sees a rise it was not shown) */
    const int outages[4] = {30, 160, 230, 120};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        size_t n = make_obs(rot, 2, 0.25, seed * 11, day0, outages[seed - 1], day, v, w);
        assert_int_equal(parus_series_run(&s, &o, day, v, w, n, day0, day0 + 359, NULL), PARUS_OK);
        assert_int_equal(s.pheno.n_cycles, 2);
        double t_sos, t_pos, t_eos;
        truth(rot, 2, 0.25, 1, 170, 0.2, &t_sos, &t_pos, &t_eos);
        check_cycle(&s.pheno.cycle[0], t_sos, t_pos, t_eos, day0);
        truth(rot, 2, 0.25, 170, 365, 0.2, &t_sos, &t_pos, &t_eos);
        check_cycle(&s.pheno.cycle[1], t_sos, t_pos, t_eos, day0);
        assert_true(s.pheno.peak_doy >= 91 && s.pheno.peak_doy <= 130); /* April: wheat higher */
        assert_true(s.pheno.end_doy > 240);
    }
    parus_series_release(&s);
}

static void test_run__too_few_observations(void **state)
{
    (void)state;
    int64_t day[5] = {5, 15, 25, 200, 300};
    double v[5] = {0.3, 0.4, 0.5, 0.6, 0.3};
    parus_series_options o;
    parus_series_options_init(&o);
    parus_series s;
    parus_series_init(&s);
    parus_error err;
    parus_error_init(&err);
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 5, 0, 359, &err), PARUS_E_RANGE);
    assert_non_null(strstr(err.msg, "too few clear observations"));
    assert_int_equal(s.n_observed, 5);
    /* none at all, and NaN only */
    assert_int_equal(parus_series_run(&s, &o, NULL, NULL, NULL, 0, 0, 359, NULL), PARUS_E_RANGE);
    double nan5[5] = {NAN, NAN, NAN, NAN, NAN};
    assert_int_equal(parus_series_run(&s, &o, day, nan5, NULL, 5, 0, 359, NULL), PARUS_E_RANGE);
    assert_int_equal(s.n_obs_used, 0);
    /* bad windows and options */
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 5, 359, 0, NULL), PARUS_E_INVALID);
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 5, 0, 25, NULL), PARUS_E_RANGE);
    o.step_days = 0;
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 5, 0, 359, NULL), PARUS_E_INVALID);
    parus_series_options_init(&o);
    o.lambda = -1;
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 5, 0, 359, NULL), PARUS_E_INVALID);
    parus_series_release(&s);
    parus_series_release(NULL);
}

static void test_run__nan_and_long_gap(void **state)
{
    (void)state;
    /* 36 steps, one observation per step, NaN at some, and a long gap (steps 14..19) */
    int64_t day[36];
    double v[36];
    for (size_t i = 0; i < 36; i++) {
        day[i] = (int64_t)(i * 10 + 4);
        v[i] = 0.5 + 0.3 * sin((double)i / 36.0 * 3.14159);
    }
    v[3] = NAN;
    for (size_t i = 14; i < 20; i++)
        v[i] = NAN;
    parus_series_options o;
    parus_series_options_init(&o);
    parus_series s;
    parus_series_init(&s);
    assert_int_equal(parus_series_run(&s, &o, day, v, NULL, 36, 0, 359, NULL), PARUS_OK);
    assert_int_equal(s.n_obs_used, 29);
    assert_int_equal(s.flag[3], PARUS_SERIES_INTERPOLATED);
    assert_int_equal(s.n_interpolated, 1);
    assert_int_equal(s.n_missing, 6);
    assert_int_equal(s.n_observed, 29);
    for (size_t i = 14; i < 20; i++) {
        assert_int_equal(s.flag[i], PARUS_SERIES_MISSING);
        assert_true(isnan(s.value[i]));
    }
    assert_true(isfinite(s.value[3]));
    /* the hump's top sits in the gap: its rise and fall are seen apart, no cycle is made up */
    assert_int_equal(s.pheno.n_cycles, 0);
    assert_true(isnan(s.pheno.start_day));
    assert_int_equal(s.pheno.start_doy, 0);
    parus_series_release(&s);
}

/* ---- real data: Mato Grosso MODIS samples ---- */

typedef struct class_count {
    char label[32];
    size_t n, n_err, cycles[4]; /* 0, 1, 2, 3+ */
} class_count;

static void add_sample(class_count *cls, size_t *n_cls, const char *label, const int64_t *day,
                       const double *v, size_t n, parus_series *s, const parus_series_options *o)
{
    size_t k = 0;
    while (k < *n_cls && strcmp(cls[k].label, label) != 0)
        k++;
    if (k == *n_cls) {
        if (k == 16)
            return;
        snprintf(cls[k].label, sizeof cls[k].label, "%s", label);
        (*n_cls)++;
    }
    cls[k].n++;
    if (n == 0 || parus_series_run(s, o, day, v, NULL, n, day[0], day[n - 1], NULL) != PARUS_OK) {
        cls[k].n_err++;
        return;
    }
    cls[k].cycles[s->pheno.n_cycles > 3 ? 3 : s->pheno.n_cycles]++;
}

static const class_count *find_class(const class_count *cls, size_t n_cls, const char *label)
{
    for (size_t k = 0; k < n_cls; k++)
        if (strcmp(cls[k].label, label) == 0)
            return &cls[k];
    return NULL;
}

static double share(const class_count *c, size_t lo, size_t hi)
{
    size_t m = 0;
    for (size_t i = lo; i <= hi; i++)
        m += c->cycles[i];
    return c->n ? (double)m / (double)c->n : 0.0;
}

static void test_real__matogrosso_cycles(void **state)
{
    (void)state;
    const char *dir = parus_test_data_dir("matogrosso-modis");
    if (!dir)
        skip();
    char *path = parus_test_path(dir, "matogrosso-modis/samples_mt_9classes_long.csv");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    parus_series_options o;
    parus_series_options_init(&o);
    o.step_days = 16; /* MOD13Q1 16-day composites */
    parus_series s;
    parus_series_init(&s);
    class_count cls[16];
    memset(cls, 0, sizeof cls);
    size_t n_cls = 0, n = 0, n_samples = 0;
    int64_t day[64];
    double v[64];
    char line[512], cur_id[32] = "", cur_label[32] = "";
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    /* sample_id,label,fold,t,date,ndvi,...; every 3rd sample, rows of a sample are together */
    while (fgets(line, sizeof line, fp)) {
        char *f[6];
        char *p = line;
        size_t nf = 0;
        while (nf < 6) {
            f[nf++] = p;
            p = strchr(p, ',');
            if (!p)
                break;
            *p++ = '\0';
        }
        assert_int_equal(nf, 6);
        if (strcmp(f[0], cur_id) != 0) {
            if (cur_id[0] && n_samples % 3 == 0)
                add_sample(cls, &n_cls, cur_label, day, v, n, &s, &o);
            if (cur_id[0])
                n_samples++;
            snprintf(cur_id, sizeof cur_id, "%s", f[0]);
            snprintf(cur_label, sizeof cur_label, "%s", f[1]);
            n = 0;
        }
        if (n < 64 && parus_series_parse_day(f[4], &day[n], NULL) == PARUS_OK) {
            v[n] = strtod(f[5], NULL);
            n++;
        }
    }
    if (cur_id[0] && n_samples % 3 == 0)
        add_sample(cls, &n_cls, cur_label, day, v, n, &s, &o);
    fclose(fp);
    free(path);
    parus_series_release(&s);

    size_t total = 0;
    for (size_t k = 0; k < n_cls; k++) {
        const class_count *c = &cls[k];
        total += c->n;
        print_message("  %-14s n %3zu  err %zu  cycles 0:%3zu 1:%3zu 2:%3zu 3+:%3zu\n", c->label,
                      c->n, c->n_err, c->cycles[0], c->cycles[1], c->cycles[2], c->cycles[3]);
    }
    assert_true(total > 600);
    /* a soy-fallow season is one crop: measured 28 of 29 */
    const class_count *fallow = find_class(cls, n_cls, "Soy_Fallow");
    assert_non_null(fallow);
    assert_true(share(fallow, 1, 1) >= 0.8);
    const char *doubles[2] = {"Soy_Corn", "Soy_Cotton"};
    const char *singles[3] = {"Cerrado", "Pasture", "Forest"};
    for (size_t i = 0; i < 2; i++) {
        const class_count *c = find_class(cls, n_cls, doubles[i]);
        assert_non_null(c);
        assert_int_equal(c->n_err, 0);
        assert_true(share(c, 2, 2) >= 0.7); /* measured: 0.82 and 0.90 (every 3rd sample) */
    }
    for (size_t i = 0; i < 3; i++) {
        const class_count *c = find_class(cls, n_cls, singles[i]);
        assert_non_null(c);
        assert_true(share(c, 0, 1) >= 0.7); /* measured: 0.78, 0.85, 1.00 */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__defaults),
        cmocka_unit_test(test_filter__drops_low_valid_fraction_and_nan),
        cmocka_unit_test(test_composite__max_and_mean_by_hand),
        cmocka_unit_test(test_fill_gaps__short_interpolated_long_missing),
        cmocka_unit_test(test_whittaker__lambda_zero_returns_data),
        cmocka_unit_test(test_whittaker__line_unchanged),
        cmocka_unit_test(test_whittaker__matches_dense_solve),
        cmocka_unit_test(test_whittaker__singular_and_bad_input),
        cmocka_unit_test(test_day__parse_and_day_of_year),
        cmocka_unit_test(test_phenology__single_maize),
        cmocka_unit_test(test_phenology__wheat_maize_rotation),
        cmocka_unit_test(test_run__too_few_observations),
        cmocka_unit_test(test_run__nan_and_long_gap),
        cmocka_unit_test(test_real__matogrosso_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

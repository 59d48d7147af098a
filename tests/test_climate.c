/*
 * test_climate.c - a season's weather against its climate (src/climate.c, climate_parcel.c) and
 * `parus query`'s weather block.
 *
 * The distributions are checked three ways: against values from mpmath at 40 digits (scipy is
 * not installed here; the script is in each case's comment), against a quadrature of the gamma
 * density and a bisection of erfc written here, and on a climatology drawn at the quantiles of a
 * known gamma, where the SPI of its median is 0 and of its 10 % point -1.28. The season's
 * figures are checked on hand-made series whose answers are worked out in the comments: missing
 * days never counted as dry or as no rain, degree-days, heat and frost days and dry spells for
 * summer maize and for winter wheat across the year end. The end-to-end case imports twelve
 * years of GeoTIFF weather for a parcel whose last year is dry and reads `parus query`, its
 * daily rain beside each day's normal, and the rain panel of `parus query --chart`.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <gdal.h>

#include "chart_int.h"
#include "parus/climate.h"
#include "parus/crops.h"
#include "parus/series.h"
#include "parus/store.h"
#include "parus/weather.h"
#include "test_support.h"

static char *dir_;

static int setup(void **state)
{
    (void)state;
    dir_ = parus_test_tmpdir("climate");
    GDALAllRegister();
    return dir_ ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(dir_);
    free(dir_);
    return 0;
}

static int64_t day(const char *date)
{
    int64_t d;
    parus_error err;
    assert_int_equal(parus_series_parse_day(date, &d, &err), PARUS_OK);
    return d;
}

/* ---- independent references ---- */

/* P(a, t) by composite Simpson: the density s^(a-1) e^-s / Gamma(a) on [0, t] for a >= 1, and
 * for a < 1 (a singular density) the same integral after u = s^a: (1 / Gamma(a + 1)) times the
 * integral of exp(-u^(1/a)) over [0, t^a]. */
static double quad_gamma_p(double a, double t)
{
    const int n = 20000;
    double hi = a >= 1.0 ? t : pow(t, a), h = hi / n, sum = 0.0;
    int i;
    for (i = 0; i <= n; i++) {
        double s = i * h, f, w = (i == 0 || i == n) ? 1.0 : (i % 2 ? 4.0 : 2.0);
        if (a >= 1.0)
            f = s > 0.0 ? exp((a - 1.0) * log(s) - s - lgamma(a)) : (a == 1.0 ? 1.0 : 0.0);
        else
            f = exp(-pow(s, 1.0 / a)) / tgamma(a + 1.0);
        sum += w * f;
    }
    return sum * h / 3.0;
}

/* Phi^-1(p) by bisection on Phi(x) = erfc(-x / sqrt 2) / 2. */
static double bisect_normal_quantile(double p)
{
    double lo = -40.0, hi = 40.0;
    int i;
    for (i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2.0;
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0;
}

/* ---- the distributions ---- */

static void test_gamma_cdf__against_mpmath_and_quadrature(void **state)
{
    /* mpmath.gammainc(a, 0, x, regularized=True) at mp.dps = 40 */
    static const struct {
        double a, x, p;
    } ref[] = {
        {0.5, 0.1, 0.34527915398142297956},   {0.5, 3.0, 0.98569412156457036047},
        {2.5, 1.0, 0.15085496391539036377},   {2.5, 7.0, 0.98439058389973308527},
        {3.0, 2.0, 0.32332358381693654053},   {50.0, 45.0, 0.24680203440017027271},
        {50.0, 60.0, 0.91559331890630817038}, {120.0, 110.0, 0.18170529367601880593},
        {0.8, 25.0, 0.99999999999378161131},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double got = parus_climate_gamma_cdf(ref[i].a, 1.0, ref[i].x);
        assert_close(got, ref[i].p, 1e-13, 1e-12);
        assert_close(got, quad_gamma_p(ref[i].a, ref[i].x), 1e-8, 0);
        /* the scale divides x */
        assert_close(parus_climate_gamma_cdf(ref[i].a, 40.0, 40.0 * ref[i].x), ref[i].p, 1e-13,
                     1e-12);
    }
    /* shape 1 is the exponential; shape 3 has a closed form */
    assert_close(parus_climate_gamma_cdf(1.0, 2.0, 3.0), 1.0 - exp(-1.5), 1e-15, 0);
    assert_close(parus_climate_gamma_cdf(3.0, 1.0, 4.0), 1.0 - exp(-4.0) * (1.0 + 4.0 + 8.0), 1e-15,
                 0);
    assert_true(parus_climate_gamma_cdf(2.0, 1.0, 0.0) == 0.0);
    assert_true(parus_climate_gamma_cdf(2.0, 1.0, -1.0) == 0.0);
    assert_true(parus_climate_gamma_cdf(2.0, 1.0, INFINITY) == 1.0);
    assert_true(isnan(parus_climate_gamma_cdf(0.0, 1.0, 1.0)));
    assert_true(isnan(parus_climate_gamma_cdf(2.0, -1.0, 1.0)));
    assert_true(isnan(parus_climate_gamma_cdf(2.0, 1.0, NAN)));
}

static void test_normal_quantile__against_mpmath_and_erfc(void **state)
{
    /* mpmath: sqrt(2) * erfinv(2 p - 1) at mp.dps = 40 */
    static const struct {
        double p, x;
    } ref[] = {
        {1e-10, -6.3613409024040562047}, {0.001, -3.0902323061678135415},
        {0.02, -2.0537489106318230529},  {0.1, -1.281551565544600467},
        {0.3, -0.52440051270804078404},  {0.5, 0.0},
        {0.9, 1.281551565544600467},     {0.975, 1.9599639845400542355},
        {0.999, 3.0902323061678135415},  {0.999999999, 5.9978070150076868716},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double got = parus_climate_normal_quantile(ref[i].p);
        /* near 1, p itself carries only 1e-16 / density of absolute precision */
        assert_close(got, ref[i].x, ref[i].p > 0.99 ? 1e-7 : 1e-13, 1e-13);
        assert_close(got, bisect_normal_quantile(ref[i].p), ref[i].p > 0.99 ? 1e-7 : 1e-13, 0);
    }
    /* the whole range, through both branches and their seams */
    for (i = 1; i < 1000; i++) {
        double p = (double)i / 1000.0;
        assert_close(parus_climate_normal_quantile(p), bisect_normal_quantile(p), 1e-12, 0);
    }
    assert_true(isinf(parus_climate_normal_quantile(0.0)));
    assert_true(parus_climate_normal_quantile(0.0) < 0);
    assert_true(isinf(parus_climate_normal_quantile(1.0)));
    assert_true(isnan(parus_climate_normal_quantile(1.5)));
    assert_true(isnan(parus_climate_normal_quantile(NAN)));
}

/* ---- the gamma fit and the SPI ---- */

/* The t at which Gamma(3, scale)'s CDF, 1 - e^-u (1 + u + u^2 / 2) with u = t / scale, is p. */
static double gamma3_quantile(double scale, double p)
{
    double lo = 0.0, hi = 100.0 * scale;
    int i;
    for (i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2.0, u = mid / scale;
        if (1.0 - exp(-u) * (1.0 + u + u * u / 2.0) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0;
}

static void test_spi__known_gamma_median_is_zero_and_p10_is_minus_1_28(void **state)
{
    double clim[30], shape, scale, median, p10;
    parus_climate_spi s;
    size_t i;
    (void)state;
    /* 30 years at the quantiles (i + 0.5) / 30 of a gamma of shape 3 and scale 50 mm */
    for (i = 0; i < 30; i++)
        clim[i] = gamma3_quantile(50.0, ((double)i + 0.5) / 30.0);
    assert_int_equal(parus_climate_gamma_fit(clim, 30, &shape, &scale), PARUS_CLIMATE_OK);
    /* Thom's estimate recovers the distribution the totals come from */
    assert_close(shape, 3.0, 0, 0.05);
    assert_close(scale, 50.0, 0, 0.05);
    median = gamma3_quantile(50.0, 0.5);
    p10 = gamma3_quantile(50.0, 0.1);
    assert_close(median, 133.7030156861780159, 1e-9, 0); /* mpmath.findroot */
    assert_close(p10, 55.103266412466053705, 1e-9, 0);
    parus_climate_spi_of(median, clim, 30, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_OK);
    assert_false(s.short_climatology);
    assert_close(s.spi, 0.0, 0.03, 0);
    assert_close(s.gamma_shape, shape, 1e-12, 0);
    parus_climate_spi_of(p10, clim, 30, &s);
    assert_close(s.spi, -1.2816, 0.03, 0);
    /* exactly: Phi^-1 of the fitted gamma's CDF, by quadrature and bisection */
    for (i = 0; i < 6; i++) {
        double x = 20.0 + 60.0 * (double)i;
        parus_climate_spi_of(x, clim, 30, &s);
        assert_close(s.probability, quad_gamma_p(shape, x / scale), 1e-9, 0);
        assert_close(s.spi, bisect_normal_quantile(quad_gamma_p(shape, x / scale)), 1e-7, 0);
    }
}

static void test_spi__zeros_in_the_climatology_against_mpmath(void **state)
{
    /* two dry years of twelve: q = 1/6, a gamma on the other ten. mpmath at 40 digits:
       A = ln(mean) - mean(ln x); shape = (1 + sqrt(1 + 4A/3)) / 4A; H = q + (1 - q) P(shape,
       x / scale); SPI = sqrt(2) erfinv(2H - 1) */
    static const double clim[12] = {0,    0,    12.5,  30.2,  45.0,  60.1,
                                    75.3, 88.8, 102.4, 150.0, 210.7, 33.3};
    static const struct {
        double x, h, spi;
    } ref[] = {
        {0.0, 0.16666666666666666667, -0.96742156610170103955},
        {20.0, 0.24375290455923109205, -0.69428131076969779475},
        {80.0, 0.65806804771730409807, 0.40719618334810857796},
        {300.0, 0.99546475266249734513, 2.6093856832935685511},
    };
    parus_climate_spi s;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        parus_climate_spi_of(ref[i].x, clim, 12, &s);
        assert_int_equal(s.why, PARUS_CLIMATE_OK);
        assert_int_equal(s.n_years, 12);
        assert_int_equal(s.n_zero_years, 2);
        assert_true(s.short_climatology);
        assert_close(s.gamma_shape, 1.9496098781353840651, 1e-12, 0);
        assert_close(s.gamma_scale_mm, 41.459576557596326453, 1e-10, 0);
        assert_close(s.probability, ref[i].h, 1e-13, 0);
        assert_close(s.spi, ref[i].spi, 1e-11, 0);
    }
}

static void test_spi__too_few_years_no_spread_and_the_clip(void **state)
{
    double clim[30];
    parus_climate_spi s;
    size_t i;
    (void)state;
    for (i = 0; i < 30; i++)
        clim[i] = 100.0 + 10.0 * (double)i;
    /* 7 years: refused; 8: a number, with the note; 30: no note */
    parus_climate_spi_of(150.0, clim, 7, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_FEW_YEARS);
    assert_true(isnan(s.spi));
    assert_int_equal(s.n_years, 7);
    parus_climate_spi_of(150.0, clim, 8, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_OK);
    assert_true(isfinite(s.spi));
    assert_true(s.short_climatology);
    parus_climate_spi_of(150.0, clim, 30, &s);
    assert_false(s.short_climatology);
    /* a season without a total: no SPI, although the fit is there */
    parus_climate_spi_of(NAN, clim, 30, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_MISSING_DAYS);
    assert_true(isnan(s.spi));
    assert_true(isfinite(s.gamma_shape));
    /* no rain this season where every year had some: the clip, not -inf */
    parus_climate_spi_of(0.0, clim, 30, &s);
    assert_close(s.spi, -PARUS_CLIMATE_SPI_LIMIT, 0, 0);
    parus_climate_spi_of(1e6, clim, 30, &s);
    assert_close(s.spi, PARUS_CLIMATE_SPI_LIMIT, 0, 0);
    /* ten years of which eight dry: too few wet years to fit */
    for (i = 0; i < 10; i++)
        clim[i] = i < 8 ? 0.0 : 5.0 + (double)i;
    parus_climate_spi_of(3.0, clim, 10, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_FEW_WET_YEARS);
    assert_int_equal(s.n_zero_years, 8);
    /* every year the same total: nothing to fit */
    for (i = 0; i < 10; i++)
        clim[i] = 300.0;
    parus_climate_spi_of(300.0, clim, 10, &s);
    assert_int_equal(s.why, PARUS_CLIMATE_EQUAL_TOTALS);
    {
        double shape = -1, scale = -1;
        const double bad[3] = {1.0, 0.0, 2.0};
        assert_int_equal(parus_climate_gamma_fit(bad, 3, &shape, &scale),
                         PARUS_CLIMATE_FEW_WET_YEARS);
        assert_close(shape, -1, 0, 0); /* untouched */
    }
}

/* ---- the season's figures on hand-made series ---- */

#define MAX_DAYS 800

/* One window's arrays: rain 2 mm, tmin 15, tmax 25 degC every day, no daily mean. */
struct series {
    double p[MAX_DAYS], lo[MAX_DAYS], hi[MAX_DAYS], mean[MAX_DAYS];
    parus_climate_window w;
};

static void series_init(struct series *s, const char *first, const char *last,
                        const char *data_first)
{
    size_t i;
    memset(s, 0, sizeof *s);
    s->w.first_day = day(first);
    s->w.last_day = day(last);
    s->w.data_first_day = day(data_first ? data_first : first);
    s->w.n_data_days = (size_t)(s->w.last_day - s->w.data_first_day + 1);
    assert_true(s->w.n_data_days <= MAX_DAYS);
    for (i = 0; i < s->w.n_data_days; i++) {
        s->p[i] = 2.0;
        s->lo[i] = 15.0;
        s->hi[i] = 25.0;
        s->mean[i] = NAN;
    }
    s->w.precip_mm = s->p;
    s->w.tmin_c = s->lo;
    s->w.tmax_c = s->hi;
    s->w.tmean_c = s->mean;
}

/* The array index of a date. */
static size_t at(const struct series *s, const char *date)
{
    int64_t d = day(date) - s->w.data_first_day;
    assert_true(d >= 0 && (size_t)d < s->w.n_data_days);
    return (size_t)d;
}

/* Set one array from date a to date b inclusive. */
static void set(struct series *s, double *v, const char *a, const char *b, double x)
{
    size_t i;
    for (i = at(s, a); i <= at(s, b); i++)
        v[i] = x;
}

static parus_crop crop_of(const char *code, int sow, int peak, int harvest, double tbase,
                          double theat)
{
    parus_crop c;
    memset(&c, 0, sizeof c);
    snprintf(c.code, sizeof c.code, "%s", code);
    c.kind = PARUS_CROP_ANNUAL;
    c.n_cycles = 1;
    c.cycle[0].sow_doy = sow;
    c.cycle[0].peak_doy = peak;
    c.cycle[0].harvest_doy = harvest;
    c.tbase_c = tbase;
    c.theat_c = theat;
    return c;
}

static void test_season__missing_days_are_never_dry(void **state)
{
    static struct series s;
    parus_climate c;
    parus_error err;
    (void)state;
    /* 100 days of 1 mm: 4 missing (4 %) give 100 mm from the 96 known, never 96 */
    series_init(&s, "2023-04-01", "2023-07-09", NULL);
    set(&s, s.p, "2023-04-01", "2023-07-09", 1.0);
    set(&s, s.p, "2023-05-10", "2023-05-13", NAN);
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.n_days, 100);
    assert_close(c.season.rain_mm.value, 100.0, 1e-9, 0);
    assert_int_equal(c.season.rain_mm.n_missing_days, 4);
    assert_int_equal(c.season.rain_mm.first_missing_day, day("2023-05-10"));
    /* the missing days break the dry spell and count as none of it; nothing here is dry */
    assert_close(c.season.dry_spell_days.value, 0.0, 0, 0);
    assert_int_equal(c.season.dry_spell_days.n_missing_days, 4);
    /* 6 missing (6 %): no total at all */
    set(&s, s.p, "2023-05-14", "2023-05-15", NAN);
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_true(isnan(c.season.rain_mm.value));
    assert_int_equal(c.season.rain_mm.why, PARUS_CLIMATE_MISSING_DAYS);
    assert_int_equal(c.season.rain_mm.n_missing_days, 6);
    assert_true(isnan(c.spi_season.spi));
    assert_true(isnan(c.rain_percentile));
    /* no climatology: no normal, said so */
    assert_int_equal(c.climatology_why, PARUS_CLIMATE_FEW_YEARS);
    assert_true(isnan(c.rain_mm_normal.mean));
    /* data that ends before the window does: the rest is missing, not dry */
    series_init(&s, "2023-04-01", "2023-07-09", NULL);
    s.w.n_data_days = 90;
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.season.rain_mm.n_missing_days, 10);
    assert_true(isnan(c.season.rain_mm.value));
    /* no precipitation at all */
    s.w.precip_mm = NULL;
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.season.rain_mm.n_missing_days, 100);
    assert_int_equal(c.season.dry_spell_days.why, PARUS_CLIMATE_MISSING_DAYS);
}

static void test_season__dry_spell_broken_by_a_missing_day(void **state)
{
    static struct series s;
    parus_climate c;
    parus_error err;
    (void)state;
    series_init(&s, "2023-05-01", "2023-06-29", NULL); /* 60 days of 2 mm */
    set(&s, s.p, "2023-05-11", "2023-05-20", 0.0);     /* 10 dry days */
    set(&s, s.p, "2023-05-21", "2023-05-21", NAN);     /* unknown */
    set(&s, s.p, "2023-05-22", "2023-05-26", 0.0);     /* 5 more */
    set(&s, s.p, "2023-06-10", "2023-06-21", 0.9);     /* 12 days below 1 mm */
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_close(c.season.dry_spell_days.value, 12.0, 0, 0);
    assert_int_equal(c.season.dry_spell_first_day, day("2023-06-10"));
    /* a second unknown day inside the 12: 5 and 6 remain, and the 10 before the first gap win,
       never 16 across it */
    set(&s, s.p, "2023-06-15", "2023-06-15", NAN);
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_close(c.season.dry_spell_days.value, 10.0, 0, 0);
    assert_int_equal(c.season.dry_spell_first_day, day("2023-05-11"));
    assert_int_equal(c.season.dry_spell_days.n_missing_days, 2);
    assert_int_equal(c.season.dry_spell_days.first_missing_day, day("2023-05-21"));
}

static void test_season__summer_maize_degree_days_heat_frost_dry_spell(void **state)
{
    /* summer maize: sown day 165, peak 228, harvest 270; in 2023 (a common year) 14 June,
       16 August, 27 September. Base 10 degC, heat above 35 degC. */
    parus_crop maize = crop_of("summer_maize", 165, 228, 270, 10.0, 35.0);
    static struct series s;
    parus_climate c;
    parus_error err;
    (void)state;
    series_init(&s, "2023-04-01", "2023-09-30", NULL);
    /* heat: three days within 6..26 August, one outside */
    set(&s, s.hi, "2023-08-10", "2023-08-10", 36.0);
    set(&s, s.hi, "2023-08-16", "2023-08-16", 36.0);
    set(&s, s.hi, "2023-08-26", "2023-08-26", 36.0);
    set(&s, s.hi, "2023-08-30", "2023-08-30", 36.0);
    /* frost: two in the crop's span, one before sowing */
    set(&s, s.lo, "2023-06-20", "2023-06-20", -1.0);
    set(&s, s.lo, "2023-09-20", "2023-09-20", -1.0);
    set(&s, s.lo, "2023-05-01", "2023-05-01", -1.0);
    /* a day with only the daily mean: 30 degC */
    set(&s, s.lo, "2023-07-15", "2023-07-15", NAN);
    set(&s, s.hi, "2023-07-15", "2023-07-15", NAN);
    set(&s, s.mean, "2023-07-15", "2023-07-15", 30.0);
    /* dry: 20 days before sowing, 12 after */
    set(&s, s.p, "2023-04-10", "2023-04-29", 0.0);
    set(&s, s.p, "2023-06-20", "2023-07-01", 0.0);

    assert_int_equal(parus_climate_season(&s.w, NULL, 0, &maize, &c, &err), PARUS_OK);
    assert_int_equal(c.crop_why, PARUS_CLIMATE_OK);
    assert_int_equal(c.crop_dates.sow_day, day("2023-06-14"));
    assert_int_equal(c.crop_dates.peak_day, day("2023-08-16"));
    assert_int_equal(c.crop_dates.harvest_day, day("2023-09-27"));
    assert_false(c.crop_dates.overwinters);
    /* 106 days of (15 + 25) / 2 - 10 = 10; the 4 hot days in the span add 5.5 each, the 2
       frosts take 8 each, the mean-only day adds 10: 1060 + 22 - 16 + 10 */
    assert_close(c.season.gdd_degc_days.value, 1076.0, 1e-9, 0);
    assert_int_equal(c.season.gdd_degc_days.first_day, day("2023-06-14"));
    assert_int_equal(c.season.gdd_degc_days.last_day, day("2023-09-27"));
    assert_int_equal(c.season.gdd_degc_days.n_missing_days, 0);
    assert_close(c.season.heat_days.value, 3.0, 0, 0);
    assert_int_equal(c.season.heat_days.first_day, day("2023-08-06"));
    assert_int_equal(c.season.heat_days.last_day, day("2023-08-26"));
    assert_close(c.season.frost_days.value, 2.0, 0, 0);
    assert_int_equal(c.season.frost_days.n_missing_days, 1); /* 15 July had no minimum */
    assert_close(c.season.dry_spell_days.value, 12.0, 0, 0);
    assert_int_equal(c.season.dry_spell_first_day, day("2023-06-20"));
    /* without a crop: no crop figures, the dry spell over the whole window */
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.crop_why, PARUS_CLIMATE_NO_CROP);
    assert_true(isnan(c.season.gdd_degc_days.value));
    assert_int_equal(c.season.gdd_degc_days.why, PARUS_CLIMATE_NO_CROP);
    assert_close(c.season.dry_spell_days.value, 20.0, 0, 0);
    assert_int_equal(c.season.dry_spell_first_day, day("2023-04-10"));
    /* a window that ends before the peak: the heat span has not begun */
    s.w.last_day = day("2023-07-31");
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, &maize, &c, &err), PARUS_OK);
    assert_int_equal(c.season.heat_days.why, PARUS_CLIMATE_NOT_YET);
    assert_int_equal(c.season.gdd_degc_days.last_day, day("2023-07-31"));
    /* a greenhouse has no open-field figures */
    maize.kind = PARUS_CROP_COVERED;
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, &maize, &c, &err), PARUS_OK);
    assert_int_equal(c.crop_why, PARUS_CLIMATE_NOT_FIELD_CROP);
}

static void test_season__winter_wheat_across_the_year_end(void **state)
{
    /* winter wheat: sown day 272 (29 September 2023), peak day 115 of leap 2024 (24 April),
       harvest day 157 (5 June 2024); base 0, heat above 32 degC */
    parus_crop wheat = crop_of("winter_wheat", 272, 115, 157, 0.0, 32.0);
    parus_climate_crop_dates d;
    static struct series s;
    parus_climate c;
    parus_error err;
    (void)state;

    assert_int_equal(
        parus_climate_find_crop_dates(&wheat, day("2024-01-01"), day("2024-12-31"), &d),
        PARUS_CLIMATE_OK);
    /* 157 days of the 2023 sowing in 2024 against 95 of the 2024 sowing */
    assert_int_equal(d.sow_day, day("2023-09-29"));
    assert_true(d.overwinters);
    assert_int_equal(
        parus_climate_find_crop_dates(&wheat, day("2024-07-01"), day("2024-08-31"), &d),
        PARUS_CLIMATE_OUTSIDE_CALENDAR);

    /* the season from 1 October; its data from sowing, two days before */
    series_init(&s, "2023-10-01", "2024-06-30", "2023-09-29");
    set(&s, s.lo, "2023-09-29", "2024-06-30", 2.0);
    set(&s, s.hi, "2023-09-29", "2024-06-30", 12.0); /* 7 degree-days a day */
    set(&s, s.lo, "2023-12-01", "2024-02-29", -5.0); /* dormancy: frost, no degree-days */
    set(&s, s.hi, "2023-12-01", "2024-02-29", 3.0);
    set(&s, s.lo, "2024-03-20", "2024-03-20", -1.0); /* before green-up (25 March) */
    set(&s, s.lo, "2024-04-01", "2024-04-01", -2.0); /* counted */
    set(&s, s.lo, "2024-04-05", "2024-04-05", -2.0); /* counted */
    set(&s, s.lo, "2024-06-10", "2024-06-10", -1.0); /* after harvest */
    set(&s, s.hi, "2024-04-20", "2024-04-20", 33.0); /* heat within 14 April .. 4 May */
    set(&s, s.hi, "2024-05-04", "2024-05-04", 33.0);
    set(&s, s.hi, "2024-05-05", "2024-05-05", 33.0); /* outside */

    assert_int_equal(parus_climate_season(&s.w, NULL, 0, &wheat, &c, &err), PARUS_OK);
    assert_int_equal(c.crop_dates.sow_day, day("2023-09-29"));
    assert_int_equal(c.crop_dates.peak_day, day("2024-04-24"));
    assert_int_equal(c.crop_dates.harvest_day, day("2024-06-05"));
    /* 251 days from sowing to harvest; the 91 of December..February give none; of the other
       160, 157 give 7, the two April frosts 5 each, 20 March 5.5: 1114.5; the three hot days
       add (2 + 33) / 2 - 7 = 10.5 each: 1146 */
    assert_close(c.season.gdd_degc_days.value, 1146.0, 1e-9, 0);
    assert_int_equal(c.season.gdd_degc_days.first_day, day("2023-09-29"));
    assert_close(c.season.frost_days.value, 2.0, 0, 0);
    assert_int_equal(c.season.frost_days.first_day, day("2024-03-25"));
    assert_int_equal(c.season.frost_days.last_day, day("2024-06-05"));
    assert_close(c.season.heat_days.value, 2.0, 0, 0);
    /* the dry spell inside the window and the crop's span: none (2 mm every day) */
    assert_close(c.season.dry_spell_days.value, 0.0, 0, 0);
    assert_int_equal(c.season.dry_spell_days.first_day, day("2023-10-01"));
    /* data only from the window's first day: two of 251 days unknown, the total scaled */
    s.w.data_first_day = day("2023-10-01");
    s.w.n_data_days -= 2;
    memmove(s.lo, s.lo + 2, s.w.n_data_days * sizeof *s.lo);
    memmove(s.hi, s.hi + 2, s.w.n_data_days * sizeof *s.hi);
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, &wheat, &c, &err), PARUS_OK);
    assert_int_equal(c.season.gdd_degc_days.n_missing_days, 2);
    assert_close(c.season.gdd_degc_days.value, (1146.0 - 14.0) * 251.0 / 249.0, 1e-9, 0);
}

static void test_season__normals_percentile_and_spi_of_a_dry_season(void **state)
{
    static struct series s, y[11];
    parus_climate_window w[11];
    parus_climate c;
    parus_error err;
    size_t k;
    (void)state;
    /* ten years of r_k = 1 + 0.2 k mm every day of 183 days; the season 0.5 mm a day */
    series_init(&s, "2024-04-01", "2024-09-30", NULL);
    set(&s, s.p, "2024-04-01", "2024-09-30", 0.5);
    for (k = 0; k < 11; k++) {
        char a[11], b[11];
        snprintf(a, sizeof a, "%d-04-01", 2013 + (int)k);
        snprintf(b, sizeof b, "%d-09-30", 2013 + (int)k);
        series_init(&y[k], a, b, NULL);
        set(&y[k], y[k].p, a, b, 1.0 + 0.2 * (double)k);
        w[k] = y[k].w;
    }
    /* an eleventh year with 20 days unknown: not a climatology year */
    set(&y[10], y[10].p, "2023-05-01", "2023-05-20", NAN);
    w[10] = y[10].w;
    assert_int_equal(parus_climate_season(&s.w, w, 11, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.n_years_given, 11);
    assert_int_equal(c.rain_mm_normal.n_years, 10);
    assert_int_equal(c.climatology_why, PARUS_CLIMATE_OK);
    assert_true(c.short_climatology);
    /* mean and median of 183 (1 + 0.2 k), k = 0..9: 183 x 1.9 */
    assert_close(c.rain_mm_normal.mean, 183.0 * 1.9, 1e-9, 0);
    assert_close(c.rain_mm_normal.median, 183.0 * 1.9, 1e-9, 0);
    assert_close(c.season.rain_mm.value, 91.5, 1e-9, 0);
    assert_close(c.rain_pct_of_normal, 100.0 * 0.5 / 1.9, 1e-9, 0);
    assert_close(c.rain_percentile, 0.0, 0, 0);
    assert_int_equal(c.spi_30d.n_days, 30);
    /* the gap is in May: the 90 days to 30 September have all eleven years, the season ten */
    assert_int_equal(c.spi_90d.n_years, 11);
    assert_int_equal(c.spi_season.n_years, 10);
    assert_true(c.spi_30d.spi < -2.0);
    assert_true(c.spi_90d.spi < -2.0);
    assert_true(c.spi_season.spi < -2.0);
    assert_close(c.spi_season.spi, c.spi_30d.spi, 1e-9, 0); /* constant rain: the same ratio */
    /* the dry spell's normal: none in any year */
    assert_close(c.dry_spell_days_normal.mean, 0.0, 0, 0);
    /* a season as wet as the 2017 year sits at its rank, ties counted half */
    set(&s, s.p, "2024-04-01", "2024-09-30", 1.8);
    assert_int_equal(parus_climate_season(&s.w, w, 11, NULL, &c, &err), PARUS_OK);
    assert_close(c.rain_percentile, 45.0, 1e-9, 0);
    /* seven years: no normal, no percentile, no SPI, the season's own total still */
    assert_int_equal(parus_climate_season(&s.w, w, 7, NULL, &c, &err), PARUS_OK);
    assert_int_equal(c.climatology_why, PARUS_CLIMATE_FEW_YEARS);
    assert_true(isnan(c.rain_mm_normal.mean));
    assert_true(isnan(c.rain_percentile));
    assert_int_equal(c.spi_season.why, PARUS_CLIMATE_FEW_YEARS);
    assert_close(c.season.rain_mm.value, 183.0 * 1.8, 1e-9, 0);
    /* a window shorter than 90 days has no 90-day SPI */
    {
        parus_climate_window sw = s.w, yw[10];
        sw.first_day = day("2024-08-01");
        for (k = 0; k < 10; k++) {
            yw[k] = w[k];
            yw[k].first_day = yw[k].last_day - (sw.last_day - sw.first_day);
        }
        assert_int_equal(parus_climate_season(&sw, yw, 10, NULL, &c, &err), PARUS_OK);
        assert_int_equal(c.spi_90d.why, PARUS_CLIMATE_WINDOW_SHORT);
        assert_true(isfinite(c.spi_30d.spi));
        /* a year of another length is refused */
        yw[3].first_day--;
        assert_int_equal(parus_climate_season(&sw, yw, 10, NULL, &c, &err), PARUS_E_INVALID);
    }
    s.w.last_day = s.w.first_day - 1;
    assert_int_equal(parus_climate_season(&s.w, NULL, 0, NULL, &c, &err), PARUS_E_INVALID);
}

/* ---- the store and `parus query` ---- */

/* A GeoTIFF stack on a 2 x 2 grid of 1 degree cells from (100, 31) to (102, 32): one band per
 * day from first (DATE metadata), every cell the same value. */
static char *make_tif(const char *name, const char *variable, const char *unit, int64_t first,
                      const double *values, int n_days)
{
    char *path = parus_test_path(dir_, name);
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, 2, 2, n_days, GDT_Float32, NULL);
    double gt[6] = {100, 1, 0, 32, 0, -1};
    int b;
    assert_non_null(ds);
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,"
                          "298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\","
                          "0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]");
    GDALSetMetadataItem(ds, "VARIABLE", variable, NULL);
    for (b = 0; b < n_days; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        float buf[4];
        char date[11];
        int k;
        for (k = 0; k < 4; k++)
            buf[k] = (float)values[b];
        parus_weather_day_text(first + b, date);
        GDALSetMetadataItem(band, "DATE", date, NULL);
        GDALSetRasterUnitType(band, unit);
        assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, 2, 2, buf, 2, 2, GDT_Float32, 0, 0),
                         CE_None);
    }
    GDALClose(ds);
    return path;
}

static void put_parcel(parus_parcel *p, const char *id, double x0, double y0)
{
    memset(p, 0, sizeof *p);
    p->id = malloc(strlen(id) + 1);
    assert_non_null(p->id);
    memcpy(p->id, id, strlen(id) + 1);
    p->lon_min_deg = x0;
    p->lat_min_deg = y0;
    p->lon_max_deg = x0 + 0.01;
    p->lat_max_deg = y0 + 0.01;
    p->area_m2 = 1e4;
    p->declared_area_m2 = NAN;
    p->wkb = parus_test_rect_wkb(x0, y0, x0 + 0.01, y0 + 0.01, &p->wkb_size);
}

/* A deterministic day of rain: 35 % of days wet, amounts exponential with mean 8 mm. */
static double rain_day(uint32_t *state)
{
    double u, v;
    *state = *state * 1664525u + 1013904223u;
    u = (double)(*state >> 8) / 16777216.0;
    *state = *state * 1664525u + 1013904223u;
    v = ((double)(*state >> 8) + 0.5) / 16777216.0;
    return u < 0.35 ? -8.0 * log(v) : 0.0;
}

/* Twelve years of April..September weather (2013..2024) for a grid that covers parcel A, not B;
 * 2024 has half its rain. */
static char *build_store(void)
{
    char *db = parus_test_store(dir_, "weather.db"); /* a fresh database on PostgreSQL */
    parus_store *s = NULL;
    parus_parcel_set set;
    parus_error err;
    const char *ids[1] = {"A"}, *crops[1] = {"summer_maize"};
    int year;

    if (!parus_test_on_pg())
        remove(db);
    assert_int_equal(parus_store_open(db, &s, &err), PARUS_OK);
    memset(&set, 0, sizeof set);
    set.parcels = calloc(2, sizeof *set.parcels);
    assert_non_null(set.parcels);
    set.n_parcels = 2;
    put_parcel(&set.parcels[0], "A", 100.3, 31.3);
    put_parcel(&set.parcels[1], "B", 120.0, 10.0);
    assert_int_equal(parus_store_put_parcels(s, &set, "test", NULL, &err), PARUS_OK);
    parus_parcel_set_release(&set);
    assert_int_equal(
        parus_store_put_parcel_crops(s, "2024-04-01/2024-09-30", ids, crops, 1, "test", &err),
        PARUS_OK);
    for (year = 2013; year <= 2024; year++) {
        char first[11], name[32];
        double p[183], lo[183], hi[183];
        uint32_t seed = (uint32_t)year * 2654435761u, tseed = (uint32_t)year * 40503u + 7u;
        int64_t d0;
        int i;
        char *path;
        snprintf(first, sizeof first, "%d-04-01", year);
        d0 = day(first);
        for (i = 0; i < 183; i++) {
            p[i] = rain_day(&seed) * (year == 2024 ? 0.5 : 1.0);
            /* each year's own day-to-day weather (a few tenths of a degree), on the same
             * seasonal curve: a year that repeats another's is refused as a re-dated copy */
            lo[i] = 14.0 + 6.0 * sin(3.14159265 * i / 183.0) + 0.3 * (rain_day(&tseed) > 2.0);
            hi[i] = lo[i] + 11.0;
        }
        snprintf(name, sizeof name, "pr_%d.tif", year);
        path = make_tif(name, "precip", "mm", d0, p, 183);
        if (parus_weather_import(s, path, NULL, NULL, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
        free(path);
        snprintf(name, sizeof name, "tn_%d.tif", year);
        path = make_tif(name, "tmin", "degC", d0, lo, 183);
        assert_int_equal(parus_weather_import(s, path, NULL, NULL, &err), PARUS_OK);
        free(path);
        snprintf(name, sizeof name, "tx_%d.tif", year);
        path = make_tif(name, "tmax", "degC", d0, hi, 183);
        assert_int_equal(parus_weather_import(s, path, NULL, NULL, &err), PARUS_OK);
        free(path);
    }
    assert_int_equal(parus_weather_weights_update(s, NULL, &err), PARUS_OK);
    parus_store_close(s);
    return db;
}

/* The number after key in text, NaN when the key is absent. */
static double number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : (double)NAN;
}

static void test_query__weather_of_a_dry_season(void **state)
{
    char *db = build_store(), *out;
    char crops[1024];
    parus_store *s;
    parus_climate c;
    parus_error err;
    const char *spi;
    (void)state;
    snprintf(crops, sizeof crops, "%s/data-samples/crops.csv", parus_test_source_dir());

    /* the library: eleven climatology years of the thirty asked, none before 2013 */
    assert_int_equal(parus_store_open_readonly(db, &s, &err), PARUS_OK);
    assert_int_equal(
        parus_climate_parcel_season(s, "A", "2024-04-01/2024-09-30", NULL, 30, &c, &err), PARUS_OK);
    assert_int_equal(c.n_years_given, 11);
    assert_int_equal(c.rain_mm_normal.n_years, 11);
    assert_true(c.spi_season.spi < -1.5);
    assert_int_equal(
        parus_climate_parcel_season(s, "B", "2024-04-01/2024-09-30", NULL, 30, &c, &err),
        PARUS_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no weather is stored for parcel 'B'"));
    assert_int_equal(
        parus_climate_parcel_season(s, "Z", "2024-04-01/2024-09-30", NULL, 30, &c, &err),
        PARUS_E_NOT_FOUND);
    parus_store_close(s);

    /* `parus query`: not assessed (exit 6), its weather shown */
    out = parus_test_run_expect(6,
                                "'%s' --db '%s' query A --season 2024-04-01/2024-09-30 "
                                "--crops '%s'",
                                parus_test_bin(), db, crops);
    assert_non_null(strstr(out, "weather      2024-04-01..2024-09-30 (183 days) against 11 "
                                "earlier years (short climatology: WMO recommends 30)"));
    assert_non_null(strstr(out, "percentile 0\n"));
    spi = strstr(out, "SPI          30 days ");
    assert_non_null(spi);
    assert_true(number_after(spi, "season ") < -1.5);
    assert_true(number_after(spi, "90 days ") < 0.0);
    assert_non_null(strstr(out, "crop         summer_maize sown 2024-06-13, peak 2024-08-15, "
                                "harvest 2024-09-26"));
    assert_non_null(strstr(out, "GDD          "));
    assert_non_null(strstr(out, "heat days    0 with tmax above 35 degC"));
    assert_non_null(strstr(out, "frost days   0 with tmin below 0 degC"));
    assert_non_null(strstr(out, "dry spell    "));
    free(out);
    out = parus_test_run_expect(6,
                                "'%s' --db '%s' query A --season 2024-04-01/2024-09-30 "
                                "--crops '%s' --json",
                                parus_test_bin(), db, crops);
    assert_true(number_after(out, "\"spi_season\":{\"n_days\":183,\"spi\":") < -1.5);
    assert_close(number_after(out, "\"rain_percentile\":"), 0.0, 0, 0);
    assert_close(number_after(out, "\"n_climate_years\":"), 11.0, 0, 0);
    assert_non_null(strstr(out, "\"crop\":\"summer_maize\""));
    assert_non_null(strstr(out, "\"weather_note\":null"));
    free(out);
    /* a parcel no grid covers: one line */
    out = parus_test_run_expect(6,
                                "'%s' --db '%s' query B --season 2024-04-01/2024-09-30 "
                                "--crops '%s'",
                                parus_test_bin(), db, crops);
    assert_non_null(strstr(out, "\nweather      none stored for this parcel\n"));
    assert_null(strstr(out, "SPI"));
    free(out);
    out = parus_test_run_expect(6, "'%s' --db '%s' query B --season 2024-04-01/2024-09-30 --json",
                                parus_test_bin(), db);
    assert_non_null(strstr(out, "\"weather\":null,\"weather_note\":\"no weather is stored for "
                                "parcel 'B'\""));
    free(out);
    /* a season before the weather begins */
    out = parus_test_run_expect(6, "'%s' --db '%s' query A --season 2010-04-01/2010-09-30",
                                parus_test_bin(), db);
    assert_non_null(strstr(out, "weather      none stored for this season or the 30 years before"));
    free(out);
    free(db);
}

/* build_store's rain of a year's window day k (0 = 1 April), as the GeoTIFF holds it. */
static double stored_rain(int year, int k)
{
    uint32_t seed = (uint32_t)year * 2654435761u;
    double x = 0.0;
    int i;
    for (i = 0; i <= k; i++)
        x = rain_day(&seed) * (year == 2024 ? 0.5 : 1.0);
    return (double)(float)x;
}

/* The season's rain day by day from the same read as the figures: the days imported, and each
 * day's mean over the eleven earlier years; no normal from five years; the same days whether
 * the read begins at the crop's sowing (winter wheat: the October before) or at the window. */
static void test_parcel_days__rain_and_each_days_normal(void **state)
{
    char *db = build_store();
    parus_store *s;
    parus_climate c, c_days;
    parus_climate_rain_days d, dw;
    parus_crop_table crops;
    parus_error err;
    char crops_path[1024];
    int k, year;
    (void)state;
    snprintf(crops_path, sizeof crops_path, "%s/data-samples/crops.csv", parus_test_source_dir());
    if (parus_crop_table_load(crops_path, &crops, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(parus_store_open_readonly(db, &s, &err), PARUS_OK);
    assert_int_equal(
        parus_climate_parcel_season(s, "A", "2024-04-01/2024-09-30", NULL, 30, &c, &err), PARUS_OK);
    assert_int_equal(parus_climate_parcel_season_days(s, "A", "2024-04-01/2024-09-30", NULL, 30,
                                                      &c_days, &d, &err),
                     PARUS_OK);
    assert_close(c_days.season.rain_mm.value, c.season.rain_mm.value, 0, 0);
    assert_close(c_days.rain_mm_normal.mean, c.rain_mm_normal.mean, 0, 0);
    assert_true(d.first_day == day("2024-04-01"));
    assert_int_equal(d.n_days, 183);
    assert_int_equal(d.n_years, 11);
    assert_non_null(d.normal_mm);
    for (k = 0; k < 183; k++) {
        double sum = 0.0;
        for (year = 2013; year <= 2023; year++)
            sum += stored_rain(year, k);
        assert_close(d.rain_mm[k], stored_rain(2024, k), 1e-9, 0);
        assert_close(d.normal_mm[k], sum / 11.0, 1e-9, 1e-12);
    }
    /* winter wheat's read begins at its sowing the October before: the same season's days */
    assert_int_equal(parus_climate_parcel_season_days(s, "A", "2024-04-01/2024-09-30",
                                                      parus_crop_table_find(&crops, "winter_wheat"),
                                                      30, &c_days, &dw, &err),
                     PARUS_OK);
    assert_int_equal(dw.n_days, 183);
    for (k = 0; k < 183; k++) {
        assert_close(dw.rain_mm[k], d.rain_mm[k], 0, 0);
        assert_close(dw.normal_mm[k], d.normal_mm[k], 0, 0);
    }
    parus_climate_rain_days_release(&dw);
    parus_climate_rain_days_release(&d);
    assert_null(d.rain_mm);
    parus_climate_rain_days_release(NULL);

    /* 2018 has five earlier years (2013..2017): the rain, no normal */
    assert_int_equal(
        parus_climate_parcel_season_days(s, "A", "2018-04-01/2018-09-30", NULL, 30, &c, &d, &err),
        PARUS_OK);
    assert_int_equal(c.climatology_why, PARUS_CLIMATE_FEW_YEARS);
    assert_int_equal(d.n_years, 5);
    assert_null(d.normal_mm);
    assert_close(d.rain_mm[10], stored_rain(2018, 10), 1e-9, 0);
    parus_climate_rain_days_release(&d);

    /* no weather for B: not found, nothing written */
    memset(&d, 0, sizeof d);
    assert_int_equal(
        parus_climate_parcel_season_days(s, "B", "2024-04-01/2024-09-30", NULL, 30, &c, &d, &err),
        PARUS_E_NOT_FOUND);
    assert_null(d.rain_mm);
    parus_store_close(s);
    parus_crop_table_release(&crops);
    free(db);
}

/* Pixels of a PNG's rectangle {x, y, w, h} near rgb (within 40 a channel). */
static int png_hits(cairo_surface_t *png, const double box[4], unsigned rgb)
{
    int stride = cairo_image_surface_get_stride(png), x, y, hits = 0;
    const unsigned char *data = cairo_image_surface_get_data(png);
    for (y = (int)ceil(box[1]) + 2; y < (int)floor(box[1] + box[3]) - 2; y++)
        for (x = (int)ceil(box[0]) + 2; x < (int)floor(box[0] + box[2]) - 2; x++) {
            uint32_t px = *(const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride +
                                                            (size_t)x * 4);
            int r = (int)((px >> 16) & 0xff), g = (int)((px >> 8) & 0xff), b = (int)(px & 0xff);
            if (abs(r - (int)((rgb >> 16) & 0xff)) < 40 && abs(g - (int)((rgb >> 8) & 0xff)) < 40 &&
                abs(b - (int)(rgb & 0xff)) < 40)
                hits++;
        }
    return hits;
}

/* `parus query --chart` on a store with weather draws the rain panel under the NDVI plot: the
 * picture grows from 700 to 972 pixels, the panel has bars and its normal; with five earlier
 * years the rain without a normal; a parcel without weather keeps the 700-pixel chart. */
static void test_query__chart_draws_the_rain(void **state)
{
    char *db = build_store(), *out, *png = parus_test_path(dir_, "rain.png");
    double ndvi[4], rain[4];
    cairo_surface_t *s;
    (void)state;
    parus__chart_plots(1200, 972, true, ndvi, rain);

    out = parus_test_run_expect(
        6, "'%s' --db '%s' query A --season 2024-04-01/2024-09-30 --chart '%s'", parus_test_bin(),
        db, png);
    free(out);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), 1200);
    assert_int_equal(cairo_image_surface_get_height(s), 972);
    cairo_surface_flush(s);
    assert_true(png_hits(s, rain, 0x74a9cf) > 200); /* bars */
    assert_true(png_hits(s, rain, 0x045a8d) > 200); /* the season's running total */
    assert_true(png_hits(s, rain, 0x636363) > 100); /* the normal's */
    cairo_surface_destroy(s);

    out = parus_test_run_expect(
        6, "'%s' --db '%s' query A --season 2018-04-01/2018-09-30 --chart '%s'", parus_test_bin(),
        db, png);
    free(out);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_image_surface_get_height(s), 972);
    cairo_surface_flush(s);
    assert_true(png_hits(s, rain, 0x74a9cf) > 200);
    assert_int_equal(png_hits(s, rain, 0x636363), 0);
    cairo_surface_destroy(s);

    out = parus_test_run_expect(
        6, "'%s' --db '%s' query B --season 2024-04-01/2024-09-30 --chart '%s'", parus_test_bin(),
        db, png);
    free(out);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_image_surface_get_height(s), 700);
    cairo_surface_destroy(s);
    free(png);
    free(db);
}

/* The peaks of a crop's cycles near a window: winter wheat's (24 April, day 115) once in a
 * March-October season; wheat_maize's two cycles in date order; none for a window far from them,
 * none for fallow. */
static void test_crop_peaks__cycles_near_the_window(void **state)
{
    parus_crop c;
    int64_t p[4], first, last;
    (void)state;
    memset(&c, 0, sizeof c);
    c.kind = PARUS_CROP_ANNUAL;
    c.n_cycles = 1;
    c.cycle[0].sow_doy = 272;
    c.cycle[0].peak_doy = 115;
    c.cycle[0].harvest_doy = 157;
    first = day("2024-03-01");
    last = day("2024-10-31");
    assert_int_equal(parus_climate_crop_peaks(&c, first, last, 10, 25, p, 4), 1);
    assert_int_equal(p[0], first + 54); /* 2024-04-24 */
    c.n_cycles = 2;
    c.cycle[1].sow_doy = 165;
    c.cycle[1].peak_doy = 228;
    c.cycle[1].harvest_doy = 270;
    assert_int_equal(parus_climate_crop_peaks(&c, first, last, 10, 25, p, 4), 2);
    assert_true(p[0] < p[1]);
    assert_int_equal(p[1], first + 54 + 113); /* 2024-08-15 */
    assert_int_equal(parus_climate_crop_peaks(&c, first, first + 20, 10, 25, p, 4), 0);
    assert_int_equal(parus_climate_crop_peaks(&c, first, last, 10, 25, p, 1), 1);
    c.kind = PARUS_CROP_NONCROP;
    assert_int_equal(parus_climate_crop_peaks(&c, first, last, 10, 25, p, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_peaks__cycles_near_the_window),
        cmocka_unit_test(test_gamma_cdf__against_mpmath_and_quadrature),
        cmocka_unit_test(test_normal_quantile__against_mpmath_and_erfc),
        cmocka_unit_test(test_spi__known_gamma_median_is_zero_and_p10_is_minus_1_28),
        cmocka_unit_test(test_spi__zeros_in_the_climatology_against_mpmath),
        cmocka_unit_test(test_spi__too_few_years_no_spread_and_the_clip),
        cmocka_unit_test(test_season__missing_days_are_never_dry),
        cmocka_unit_test(test_season__dry_spell_broken_by_a_missing_day),
        cmocka_unit_test(test_season__summer_maize_degree_days_heat_frost_dry_spell),
        cmocka_unit_test(test_season__winter_wheat_across_the_year_end),
        cmocka_unit_test(test_season__normals_percentile_and_spi_of_a_dry_season),
        cmocka_unit_test(test_query__weather_of_a_dry_season),
        cmocka_unit_test(test_parcel_days__rain_and_each_days_normal),
        cmocka_unit_test(test_query__chart_draws_the_rain),
    };
    return cmocka_run_backend_group_tests(tests, setup, teardown);
}

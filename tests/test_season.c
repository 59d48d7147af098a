/* test_season.c - a parcel's season as features: the spec and its window text, feature names,
 * hand-made double-logistic seasons with cloudy dates (regular values checked against the
 * composite worked out by hand, phenology against the curve's own dates), no clear observation,
 * independence from the observation order, the calendar fallback on wheat- and maize-shaped
 * seasons against the shipped crop table, and the spec kept in a model file. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/classify.h"
#include "parus/crops.h"
#include "parus/season.h"
#include "parus/series.h"

static int64_t day_of(const char *date)
{
    int64_t d;
    parus_error err;
    if (parus_series_parse_day(date, &d, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return d;
}

/* A double-logistic NDVI season in days of year: base, amplitude, green-up and senescence
 * midpoints and widths (Beck et al. 2006 form). */
typedef struct shape {
    double base, amp, up, k_up, down, k_down;
} shape;

static double shape_ndvi(const shape *s, double doy)
{
    return s->base + s->amp * (1.0 / (1.0 + exp(-(doy - s->up) / s->k_up)) -
                               1.0 / (1.0 + exp(-(doy - s->down) / s->k_down)));
}

static uint64_t rng_next(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return *st >> 11;
}

static double rng_unit(uint64_t *st)
{
    return (double)rng_next(st) / 9007199254740992.0;
}

/* Observations every 5 days from 10 days before the season to 10 days after it; every third one
 * is cloudy (valid fraction 0.2, NDVI pulled down by 0.3), the rest clear with noise of +-noise.
 * Variables: ndvi, evi = 0.8 ndvi, red and nir from the NDVI, the rest NaN (a sensor without
 * them). Returns the number written (at most cap). */
static size_t make_obs(const parus_season_spec *spec, int64_t start_day, const shape *s,
                       double noise, uint64_t seed, parus_season_obs *obs, size_t cap)
{
    size_t n = 0, k;
    size_t v_ndvi = parus_season_var_index(spec, "ndvi"),
           v_evi = parus_season_var_index(spec, "evi");
    size_t v_red = parus_season_var_index(spec, "red"), v_nir = parus_season_var_index(spec, "nir");
    uint64_t st = seed;
    int64_t d;
    for (d = start_day - 10; d < start_day + (int64_t)spec->length_days + 10 && n < cap; d += 5) {
        parus_season_obs *o = &obs[n];
        double ndvi = shape_ndvi(s, (double)parus_series_day_of_year(d));
        bool cloudy = n % 3 == 2;
        ndvi += noise * (2.0 * rng_unit(&st) - 1.0);
        if (cloudy)
            ndvi -= 0.3;
        o->day = d;
        o->valid_fraction = cloudy ? 0.2 : 0.95;
        for (k = 0; k < PARUS_SEASON_MAX_VARS; k++)
            o->value[k] = NAN;
        o->value[v_ndvi] = ndvi;
        if (v_evi != SIZE_MAX)
            o->value[v_evi] = 0.8 * ndvi;
        if (v_red != SIZE_MAX && v_nir != SIZE_MAX) {
            o->value[v_red] = 0.12 - 0.08 * ndvi;
            o->value[v_nir] = o->value[v_red] * (1.0 + ndvi) / (1.0 - ndvi);
        }
        n++;
    }
    return n;
}

static void test_spec__defaults_names_and_count(void **state)
{
    parus_season_spec sp;
    parus_error err;
    size_t i, j, n;
    char **names;
    char buf[64];
    (void)state;
    parus_season_spec_init(&sp);
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_OK);
    assert_int_equal(sp.n_vars, 15);
    assert_string_equal(sp.vars[0], "ndvi");
    assert_string_equal(sp.vars[4], "ndmi");
    assert_string_equal(sp.vars[5], "blue");
    assert_string_equal(sp.vars[14], "swir2");
    assert_string_equal(sp.phenology_var, "ndvi");
    assert_int_equal(sp.step_days, 10);
    assert_int_equal(sp.length_days, 240);
    assert_int_equal(parus_season_n_steps(&sp), 24);
    n = parus_season_n_features(&sp);
    assert_int_equal(n, 15 * (24 + 5) + 9 + 1);

    /* every index has a name, all distinct; none past the end */
    names = calloc(n, sizeof *names);
    for (i = 0; i < n; i++) {
        assert_true(parus_season_feature_name(&sp, i, buf, sizeof buf));
        names[i] = strdup(buf);
        for (j = 0; j < i; j++)
            assert_string_not_equal(names[i], names[j]);
    }
    assert_false(parus_season_feature_name(&sp, n, buf, sizeof buf));
    assert_string_equal(names[0], "ndvi_s00");
    assert_string_equal(names[23], "ndvi_s23");
    assert_string_equal(names[24], "ndvi_mean");
    assert_string_equal(names[28], "ndvi_argmax");
    assert_string_equal(names[29], "evi_s00");
    assert_string_equal(names[15 * 29], "ndvi_pheno_n_cycles");
    assert_string_equal(names[15 * 29 + 8], "ndvi_pheno_length");
    assert_string_equal(names[n - 1], "n_clear_obs");
    assert_int_equal(parus_season_series_offset(&sp, 1), 29);
    assert_string_equal(names[parus_season_series_offset(&sp, 14) + 24 + 4], "swir2_argmax");
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);

    /* no phenology variable: no phenology block */
    sp.phenology_var[0] = '\0';
    assert_int_equal(parus_season_n_features(&sp), 15 * 29 + 1);
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_OK);
}

static void test_spec__refusals(void **state)
{
    parus_season_spec sp;
    parus_error err;
    (void)state;
    parus_season_spec_init(&sp);
    sp.step_days = 0;
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    parus_season_spec_init(&sp);
    sp.length_days = 30; /* 3 steps */
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    parus_season_spec_init(&sp);
    sp.lambda = -1;
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    parus_season_spec_init(&sp);
    sp.min_valid_fraction = NAN;
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    parus_season_spec_init(&sp);
    snprintf(sp.vars[3], sizeof sp.vars[3], "ndvi");
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'ndvi' appears twice"));
    parus_season_spec_init(&sp);
    snprintf(sp.vars[3], sizeof sp.vars[3], "NDWI");
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    parus_season_spec_init(&sp);
    snprintf(sp.phenology_var, sizeof sp.phenology_var, "lai");
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'lai'"));
    parus_season_spec_init(&sp);
    sp.n_vars = 0;
    assert_int_equal(parus_season_spec_check(&sp, &err), PARUS_E_INVALID);
}

static void test_window__parse_and_text(void **state)
{
    int64_t start;
    size_t len;
    char buf[PARUS_SEASON_WINDOW_TEXT];
    parus_error err;
    (void)state;
    assert_int_equal(parus_season_parse_window("2024-03-01/2024-10-26", &start, &len, &err),
                     PARUS_OK);
    assert_int_equal(start, day_of("2024-03-01"));
    assert_int_equal(len, 240);
    assert_string_equal(parus_season_window_text(start, len, buf, sizeof buf),
                        "2024-03-01/2024-10-26");
    /* over a year end and a leap day */
    assert_int_equal(parus_season_parse_window("2023-10-01/2024-06-30", &start, &len, &err),
                     PARUS_OK);
    assert_int_equal(len, 92 + 182);
    assert_string_equal(parus_season_window_text(start, len, buf, sizeof buf),
                        "2023-10-01/2024-06-30");
    assert_int_equal(parus_season_parse_window("2024-05-05/2024-05-05", &start, &len, &err),
                     PARUS_OK);
    assert_int_equal(len, 1);
    assert_string_equal(parus_season_window_text(day_of("1969-12-31"), 2, buf, sizeof buf),
                        "1969-12-31/1970-01-01");

    assert_int_equal(parus_season_parse_window("2024-10-27/2024-03-01", &start, &len, &err),
                     PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "ends before it starts"));
    assert_int_equal(parus_season_parse_window("2024-02-30/2024-10-27", &start, &len, &err),
                     PARUS_E_INVALID);
    assert_int_equal(parus_season_parse_window("2024-03-01", &start, &len, &err), PARUS_E_INVALID);
    assert_int_equal(parus_season_parse_window("2024-03-01/2024-10-26x", &start, &len, &err),
                     PARUS_E_INVALID);
    assert_int_equal(parus_season_parse_window(NULL, &start, &len, &err), PARUS_E_INVALID);
}

static void test_obs__from_observation(void **state)
{
    parus_season_spec sp;
    parus_observation o;
    parus_season_obs so;
    size_t i;
    (void)state;
    parus_season_spec_init(&sp);
    snprintf(sp.vars[14], sizeof sp.vars[14], "lai"); /* not a stored field */
    memset(&o, 0, sizeof o);
    o.valid_fraction = 0.75;
    for (i = 0; i < PARUS_INDEX_N_; i++)
        o.mean[i] = 0.1 * (double)(i + 1);
    for (i = 0; i < PARUS_ROLE_N_SPECTRAL_; i++)
        o.band_mean[i] = 0.01 * (double)(i + 1);
    parus_season_obs_from_observation(&sp, 19800, &o, &so);
    assert_int_equal(so.day, 19800);
    assert_close(so.valid_fraction, 0.75, 0, 0);
    assert_close(so.value[parus_season_var_index(&sp, "ndvi")], o.mean[PARUS_INDEX_NDVI], 0, 0);
    assert_close(so.value[parus_season_var_index(&sp, "ndmi")], o.mean[PARUS_INDEX_NDMI], 0, 0);
    assert_close(so.value[parus_season_var_index(&sp, "red")], o.band_mean[PARUS_ROLE_RED], 0, 0);
    assert_close(so.value[parus_season_var_index(&sp, "nir_narrow")],
                 o.band_mean[PARUS_ROLE_NIR_NARROW], 0, 0);
    assert_true(isnan(so.value[14]));
    assert_true(isnan(so.value[15])); /* past n_vars */

    /* own_ takes the parcel's own (unmixed) value of the same index or band */
    for (i = 0; i < PARUS_INDEX_N_; i++)
        o.own_mean[i] = 0.2 * (double)(i + 1);
    for (i = 0; i < PARUS_ROLE_N_SPECTRAL_; i++)
        o.own_band_mean[i] = 0.02 * (double)(i + 1);
    snprintf(sp.vars[0], sizeof sp.vars[0], "own_ndvi");
    snprintf(sp.vars[1], sizeof sp.vars[1], "own_red");
    snprintf(sp.vars[2], sizeof sp.vars[2], "own_lai");
    parus_season_obs_from_observation(&sp, 19800, &o, &so);
    assert_close(so.value[0], o.own_mean[PARUS_INDEX_NDVI], 0, 0);
    assert_close(so.value[1], o.own_band_mean[PARUS_ROLE_RED], 0, 0);
    assert_true(isnan(so.value[2]));
    assert_true(parus_season_var_known("own_ndvi"));
    assert_true(parus_season_var_known("own_swir1"));
    assert_true(parus_season_var_known("ndvi_p10"));
    assert_true(parus_season_var_known("veg_fraction"));
    assert_true(parus_season_var_known("nir"));
    assert_false(parus_season_var_known("own_lai"));
    assert_false(parus_season_var_known("own_"));
    assert_false(parus_season_var_known("own_ndvi_p10"));
    assert_false(parus_season_var_known("lai"));
    assert_false(parus_season_var_known(""));
    assert_false(parus_season_var_known(NULL));

    /* the default spec's indices and bands, and its phenology, become own values; others stay */
    parus_season_spec_init(&sp);
    snprintf(sp.vars[14], sizeof sp.vars[14], "veg_fraction");
    parus_season_spec_use_own(&sp);
    assert_string_equal(sp.vars[0], "own_ndvi");
    assert_string_equal(sp.vars[parus_season_var_index(&sp, "own_red")], "own_red");
    assert_string_equal(sp.vars[14], "veg_fraction");
    assert_string_equal(sp.phenology_var, "own_ndvi");
    assert_int_equal(parus_season_spec_check(&sp, NULL), PARUS_OK);
    parus_season_spec_use_own(&sp); /* own_ndvi is not an index name: nothing doubles */
    assert_string_equal(sp.vars[0], "own_ndvi");
}

#define CAP_OBS 80

/* lambda 0 leaves the composite as it is: the regular values are then exactly the maximum of
 * the clear NDVI values of each step (mean for red), and a step with only cloudy dates is
 * interpolated between its neighbours. */
static void test_features__regular_values_by_hand(void **state)
{
    parus_season_spec sp;
    parus_season_obs obs[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_error err;
    shape maize = {0.18, 0.65, 190, 8, 255, 9};
    double *f;
    size_t n_obs, i, j, v_ndvi, v_red, v_re1, n_steps, n_clear = 0;
    int64_t start = day_of("2024-03-01");
    (void)state;
    parus_season_spec_init(&sp);
    sp.lambda = 0.0;
    n_steps = parus_season_n_steps(&sp);
    v_ndvi = parus_season_var_index(&sp, "ndvi");
    v_red = parus_season_var_index(&sp, "red");
    v_re1 = parus_season_var_index(&sp, "re1");
    n_obs = make_obs(&sp, start, &maize, 0.02, 7, obs, CAP_OBS);
    for (i = 0; i < n_obs; i++)
        if (obs[i].day - start >= 70 && obs[i].day - start < 80)
            obs[i].valid_fraction = 0.3; /* step 7 seen only through cloud */
    f = malloc(parus_season_n_features(&sp) * sizeof *f);
    parus_season_work_init(&wk);
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err), PARUS_OK);

    for (i = 0; i < n_obs; i++)
        n_clear += obs[i].valid_fraction >= 0.6 && obs[i].day >= start && obs[i].day < start + 240;
    assert_int_equal(info.n_obs_used, n_clear);
    assert_close(f[parus_season_n_features(&sp) - 1], (double)n_clear, 0, 0);
    assert_int_equal(info.n_steps, n_steps);
    assert_int_equal(info.n_observed + info.n_interpolated + info.n_missing, n_steps);
    assert_int_equal(info.n_interpolated, 1);
    assert_int_equal(info.n_missing, 0);

    for (i = 0; i < n_steps; i++) {
        double mx = -INFINITY, sw = 0, swv = 0;
        for (j = 0; j < n_obs; j++) {
            int64_t off = obs[j].day - start;
            if (off < 0 || off / 10 != (int64_t)i || obs[j].valid_fraction < 0.6)
                continue;
            if (obs[j].value[v_ndvi] > mx)
                mx = obs[j].value[v_ndvi];
            sw += obs[j].valid_fraction;
            swv += obs[j].valid_fraction * obs[j].value[v_red];
        }
        if (isfinite(mx)) {
            assert_close(f[parus_season_series_offset(&sp, v_ndvi) + i], mx, 0, 0);
            assert_close(f[parus_season_series_offset(&sp, v_red) + i], swv / sw, 1e-15, 0);
        } else {
            /* the cloudy step is interpolated between its neighbours */
            double a = f[parus_season_series_offset(&sp, v_ndvi) + i - 1];
            double b = f[parus_season_series_offset(&sp, v_ndvi) + i + 1];
            assert_true(i > 0 && i + 1 < n_steps);
            assert_close(f[parus_season_series_offset(&sp, v_ndvi) + i], (a + b) / 2, 1e-15, 0);
        }
        /* a band the sensor lacks is NaN throughout */
        assert_true(isnan(f[parus_season_series_offset(&sp, v_re1) + i]));
    }
    assert_true(isnan(f[parus_season_series_offset(&sp, v_re1) + n_steps])); /* re1_mean */
    parus_season_work_release(&wk);
    free(f);
}

/* Smoothed, with noise: the regular series follows the curve and the phenology finds the
 * season's one cycle where the curve has it. */
static void test_features__double_logistic_phenology(void **state)
{
    parus_season_spec sp;
    parus_season_obs obs[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_error err;
    shape maize = {0.18, 0.65, 190, 8, 255, 9};
    double *f, t0, peak_doy = 0, peak_v = -1, sos_doy = 0, eos_doy = 0, *ph;
    size_t n_obs, i, v_ndvi, n_steps;
    int64_t start = day_of("2024-03-01");
    int doy0 = parus_series_day_of_year(start);
    (void)state;
    parus_season_spec_init(&sp);
    n_steps = parus_season_n_steps(&sp);
    v_ndvi = parus_season_var_index(&sp, "ndvi");
    n_obs = make_obs(&sp, start, &maize, 0.02, 11, obs, CAP_OBS);
    f = malloc(parus_season_n_features(&sp) * sizeof *f);
    parus_season_work_init(&wk);
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err), PARUS_OK);
    assert_true(info.phenology);
    assert_int_equal(info.n_cycles, 1);
    assert_int_equal(info.n_missing, 0);

    /* each step's value against the curve over the step: a maximum composite takes the higher
     * end of a slope, the smoother rounds the peak */
    for (i = 0; i < n_steps; i++) {
        double lo = INFINITY, hi = -INFINITY, d, z = f[parus_season_series_offset(&sp, v_ndvi) + i];
        for (d = 0; d < 10; d++) {
            double v = shape_ndvi(&maize, doy0 + 10.0 * (double)i + d);
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        assert_true(z > lo - 0.06 && z < hi + 0.06);
    }
    /* the curve's own peak and 20 % crossings, in days from the season start */
    for (t0 = doy0; t0 < doy0 + 240; t0 += 0.25) {
        double v = shape_ndvi(&maize, t0);
        if (v > peak_v) {
            peak_v = v;
            peak_doy = t0;
        }
    }
    for (t0 = doy0; t0 < peak_doy; t0 += 0.25)
        if (shape_ndvi(&maize, t0) < 0.18 + 0.2 * (peak_v - 0.18))
            sos_doy = t0;
    for (t0 = doy0 + 239; t0 > peak_doy; t0 -= 0.25)
        if (shape_ndvi(&maize, t0) < 0.18 + 0.2 * (peak_v - 0.18))
            eos_doy = t0;
    ph = f + 15 * 29;
    assert_close(ph[0], 1.0, 0, 0);
    assert_close(ph[1], peak_v, 0.05, 0);
    assert_close(ph[2], 0.18, 0.05, 0);
    assert_close(ph[6], peak_doy - doy0, 10.0, 0); /* within one step */
    assert_close(ph[5], sos_doy - doy0, 10.0, 0);
    assert_close(ph[7], eos_doy - doy0, 12.0, 0);
    assert_close(ph[8], ph[7] - ph[5], 1e-9, 0);
    /* the summaries of the regular series */
    assert_close(f[parus_season_series_offset(&sp, v_ndvi) + n_steps + 3], ph[1], 1e-12, 0);
    assert_close(f[parus_season_series_offset(&sp, v_ndvi) + n_steps + 2], ph[2], 1e-12, 0);

    /* the same season shifted to its own start date gives the same features (imported samples
     * with their own start dates) */
    {
        double *g = malloc(parus_season_n_features(&sp) * sizeof *g);
        parus_season_info info2;
        for (i = 0; i < n_obs; i++)
            obs[i].day += 3650;
        assert_int_equal(parus_season_features(&sp, start + 3650, obs, n_obs, g, &info2, &wk, &err),
                         PARUS_OK);
        assert_memory_equal(f, g, parus_season_n_features(&sp) * sizeof *f);
        free(g);
    }
    parus_season_work_release(&wk);
    free(f);
}

static void test_features__no_clear_observation(void **state)
{
    parus_season_spec sp;
    parus_season_obs obs[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_error err;
    shape maize = {0.18, 0.65, 190, 8, 255, 9};
    double *f;
    size_t n_obs, i, n;
    int64_t start = day_of("2024-03-01");
    (void)state;
    parus_season_spec_init(&sp);
    n = parus_season_n_features(&sp);
    n_obs = make_obs(&sp, start, &maize, 0.0, 3, obs, CAP_OBS);
    for (i = 0; i < n_obs; i++)
        obs[i].valid_fraction = i % 2 ? 0.1 : (double)NAN;
    obs[0].valid_fraction = 1.0; /* clear but before the season */
    obs[0].day = start - 1;
    f = malloc(n * sizeof *f);
    for (i = 0; i < n; i++)
        f[i] = -7.0;
    memset(&info, 0xab, sizeof info);
    parus_season_work_init(&wk);
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err),
                     PARUS_E_RANGE);
    assert_true(strncmp(err.msg, "no clear observation", 20) == 0);
    assert_non_null(strstr(err.msg, "2024-03-01/2024-10-26"));
    for (i = 0; i < n; i++)
        assert_close(f[i], -7.0, 0, 0); /* nothing written */
    /* no observation at all */
    assert_int_equal(parus_season_features(&sp, start, NULL, 0, f, &info, &wk, &err),
                     PARUS_E_RANGE);
    /* clear dates without any value */
    n_obs = make_obs(&sp, start, &maize, 0.0, 3, obs, CAP_OBS);
    for (i = 0; i < n_obs; i++) {
        size_t k;
        for (k = 0; k < PARUS_SEASON_MAX_VARS; k++)
            obs[i].value[k] = NAN;
    }
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err),
                     PARUS_E_RANGE);

    /* one clear observation: features, mostly missing, but no phenology made up */
    n_obs = make_obs(&sp, start, &maize, 0.0, 3, obs, CAP_OBS);
    for (i = 0; i < n_obs; i++)
        obs[i].valid_fraction = i == 20 ? 1.0 : 0.0;
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err), PARUS_OK);
    assert_int_equal(info.n_obs_used, 1);
    assert_int_equal(info.n_observed, 1);
    assert_false(info.phenology);
    for (i = 0; i < 9; i++)
        assert_true(isnan(f[15 * 29 + i]));
    assert_close(f[n - 1], 1.0, 0, 0);
    parus_season_work_release(&wk);
    free(f);
}

/* Several dates per step (mean composites are sums): any order of the observations gives the
 * same features, bit for bit, with one work buffer reused across calls. */
static void test_features__order_independent(void **state)
{
    parus_season_spec sp;
    parus_season_obs obs[CAP_OBS], shuffled[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_error err;
    shape wheat = {0.2, 0.6, 80, 9, 150, 7};
    double *f, *g;
    size_t n_obs, i, n, round;
    uint64_t st = 99;
    int64_t start = day_of("2024-03-01");
    (void)state;
    parus_season_spec_init(&sp);
    n = parus_season_n_features(&sp);
    n_obs = make_obs(&sp, start, &wheat, 0.03, 5, obs, CAP_OBS);
    /* duplicate dates with other values and valid fractions */
    for (i = 0; i + 1 < n_obs && n_obs < CAP_OBS; i += 4) {
        obs[n_obs] = obs[i];
        obs[n_obs].valid_fraction = 0.7;
        obs[n_obs].value[0] -= 0.01;
        obs[n_obs].value[parus_season_var_index(&sp, "red")] += 0.003;
        n_obs++;
    }
    f = malloc(n * sizeof *f);
    g = malloc(n * sizeof *g);
    parus_season_work_init(&wk);
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err), PARUS_OK);
    for (round = 0; round < 5; round++) {
        memcpy(shuffled, obs, n_obs * sizeof *obs);
        for (i = n_obs; i > 1; i--) {
            size_t j = (size_t)(rng_next(&st) % i);
            parus_season_obs t = shuffled[i - 1];
            shuffled[i - 1] = shuffled[j];
            shuffled[j] = t;
        }
        assert_int_equal(parus_season_features(&sp, start, shuffled, n_obs, g, &info, &wk, &err),
                         PARUS_OK);
        assert_memory_equal(f, g, n * sizeof *f);
    }
    parus_season_work_release(&wk);
    free(f);
    free(g);
}

static void load_crops(parus_crop_table *t)
{
    char path[4096];
    parus_error err;
    snprintf(path, sizeof path, "%s/data-samples/crops.csv", parus_test_source_dir());
    if (parus_crop_table_load(path, t, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
}

static const char *match_season(const parus_crop_table *t, const shape *s, uint64_t seed,
                                parus_calendar_match *m)
{
    parus_season_spec sp;
    parus_season_obs obs[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_error err;
    double *f;
    size_t n_obs;
    int64_t start = day_of("2024-03-01");
    parus_season_spec_init(&sp);
    n_obs = make_obs(&sp, start, s, 0.03, seed, obs, CAP_OBS);
    f = malloc(parus_season_n_features(&sp) * sizeof *f);
    parus_season_work_init(&wk);
    assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err), PARUS_OK);
    if (parus_season_calendar_match(
            t, &sp, start, f + parus_season_series_offset(&sp, parus_season_var_index(&sp, "ndvi")),
            parus_season_n_steps(&sp), m, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_season_work_release(&wk);
    free(f);
    return t->crops[m->best].code;
}

static void test_calendar__wheat_and_maize_shaped_seasons(void **state)
{
    parus_crop_table t = {0};
    parus_calendar_match m;
    /* drawn by hand, not from the table's curve: wheat greens up in March and is cut in June;
     * summer maize is sown after it and peaks in August */
    shape wheat = {0.2, 0.62, 78, 10, 148, 6};
    shape maize = {0.2, 0.62, 195, 7, 258, 8};
    shape spring_maize = {0.2, 0.64, 165, 8, 235, 8};
    uint64_t seed;
    (void)state;
    load_crops(&t);
    for (seed = 1; seed <= 5; seed++) {
        assert_string_equal(match_season(&t, &wheat, seed, &m), "winter_wheat");
        assert_true(m.rmse_best <= m.rmse_second);
        assert_close(m.margin, m.rmse_second - m.rmse_best, 0, 0);
        assert_true(m.pseudo_probability > 1.0 / (double)t.n_crops && m.pseudo_probability <= 1.0);
        assert_int_equal(m.n_steps_used, 24);
        assert_true(m.best != m.second);
        assert_string_equal(match_season(&t, &maize, seed, &m), "summer_maize");
        assert_string_equal(match_season(&t, &spring_maize, seed, &m), "spring_maize");
    }
    parus_crop_table_release(&t);
}

static void test_calendar__refusals(void **state)
{
    parus_crop_table t = {0}, one;
    parus_season_spec sp;
    parus_calendar_match m;
    parus_error err;
    double z[24];
    size_t i;
    int64_t start = day_of("2024-03-01");
    (void)state;
    load_crops(&t);
    parus_season_spec_init(&sp);
    for (i = 0; i < 24; i++)
        z[i] = i < 5 || i > 18 ? 0.3 : (double)NAN; /* 10 steps */
    assert_int_equal(parus_season_calendar_match(&t, &sp, start, z, 24, &m, &err), PARUS_OK);
    assert_int_equal(m.n_steps_used, 10);
    for (i = 5; i < 24; i++)
        z[i] = NAN; /* 5 steps */
    memset(&m, 0xcd, sizeof m);
    assert_int_equal(parus_season_calendar_match(&t, &sp, start, z, 24, &m, &err), PARUS_E_RANGE);
    assert_non_null(strstr(err.msg, "only 5 of 24 steps"));
    assert_int_equal(m.n_steps_used, (size_t)0xcdcdcdcdcdcdcdcdULL);
    assert_int_equal(parus_season_calendar_match(&t, &sp, start, z, 23, &m, &err), PARUS_E_INVALID);
    one.crops = t.crops;
    one.n_crops = 1;
    assert_int_equal(parus_season_calendar_match(&one, &sp, start, z, 24, &m, &err),
                     PARUS_E_INVALID);
    parus_crop_table_release(&t);
}

/* A model trained on season features carries its spec: the spec read back is the one it was
 * trained with, and a model without it, or with a spec that does not give its features, is
 * refused. */
static void test_model__spec_round_trip(void **state)
{
    parus_season_spec sp, back;
    parus_season_obs obs[CAP_OBS];
    parus_season_info info;
    parus_season_work wk;
    parus_dataset ds;
    parus_classify_options opt;
    parus_model *m = NULL, *loaded = NULL;
    parus_error err;
    const char *classes[] = {"summer_maize", "winter_wheat"};
    char **names;
    double *f;
    size_t n, i, n_obs;
    uint64_t seed;
    int64_t start = day_of("2024-03-01");
    char *dir = parus_test_tmpdir("season"), *path = parus_test_path(dir, "season.model");
    (void)state;

    parus_season_spec_init(&sp);
    sp.length_days = 235; /* a short last step */
    sp.min_valid_fraction = 0.55;
    sp.lambda = 3.7;
    sp.n_vars = 4;
    n = parus_season_n_features(&sp);
    names = calloc(n, sizeof *names);
    for (i = 0; i < n; i++) {
        char buf[64];
        parus_season_feature_name(&sp, i, buf, sizeof buf);
        names[i] = strdup(buf);
    }
    assert_int_equal(
        parus_dataset_setup(&ds, (const char *const *)names, n, classes, 2, false, &err), PARUS_OK);
    f = malloc(n * sizeof *f);
    parus_season_work_init(&wk);
    for (seed = 0; seed < 40; seed++) {
        shape s =
            seed % 2 ? (shape){0.2, 0.62, 78, 10, 148, 6} : (shape){0.2, 0.62, 195, 7, 258, 8};
        n_obs = make_obs(&sp, start, &s, 0.04, seed, obs, CAP_OBS);
        assert_int_equal(parus_season_features(&sp, start, obs, n_obs, f, &info, &wk, &err),
                         PARUS_OK);
        assert_int_equal(parus_dataset_add_row(&ds, f, seed % 2, 0, &err), PARUS_OK);
    }
    assert_int_equal(ds.n_samples, 40);
    parus_classify_options_init(&opt);
    opt.n_rounds = 5;
    opt.n_threads = 1;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m, &err), PARUS_OK);

    /* no meta yet */
    assert_int_equal(parus_season_spec_from_model(m, &back, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "not trained on season features"));

    assert_int_equal(parus_season_spec_to_model(&sp, m, &err), PARUS_OK);
    assert_string_equal(parus_model_meta(m, "season_window"), "2024-03-01/2024-10-21");
    assert_string_equal(parus_model_meta(m, "season_length_days"), "235");
    assert_string_equal(parus_model_meta(m, "season_lambda"), "3.7");
    assert_string_equal(parus_model_meta(m, "season_variables"), "ndvi,evi,ndwi,mndwi");
    assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
    assert_int_equal(parus_model_load(path, &loaded, &err), PARUS_OK);
    memset(&back, 0, sizeof back);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_OK);
    assert_int_equal(back.start_day, sp.start_day);
    assert_int_equal(back.length_days, 235);
    assert_int_equal(back.step_days, sp.step_days);
    assert_int_equal(back.max_gap_steps, sp.max_gap_steps);
    assert_true(back.min_valid_fraction == sp.min_valid_fraction);
    assert_true(back.lambda == sp.lambda);
    assert_int_equal(back.n_vars, 4);
    for (i = 0; i < 4; i++)
        assert_string_equal(back.vars[i], sp.vars[i]);
    assert_string_equal(back.phenology_var, "ndvi");
    /* the rebuilt spec gives the training features exactly */
    {
        double *g = malloc(n * sizeof *g);
        assert_int_equal(parus_season_features(&back, start, obs, n_obs, g, &info, &wk, &err),
                         PARUS_OK);
        assert_memory_equal(f, g, n * sizeof *f);
        free(g);
    }

    /* a spec that does not give the model's features */
    assert_int_equal(parus_model_set_meta(loaded, "season_step_days", "15", &err), PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_E_CONFIG);
    assert_int_equal(parus_model_set_meta(loaded, "season_step_days", "10", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(loaded, "season_variables", "ndvi,evi,mndwi,ndwi", &err),
                     PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "'ndwi_s00'"));
    assert_int_equal(parus_model_set_meta(loaded, "season_variables", "ndvi,evi,ndwi,mndwi", &err),
                     PARUS_OK);
    assert_int_equal(parus_model_set_meta(loaded, "season_features", "99", &err), PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "retrain"));
    assert_int_equal(parus_model_set_meta(loaded, "season_features", "1", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(loaded, "season_lambda", "2,5", &err), PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_E_CONFIG);
    assert_int_equal(parus_model_set_meta(loaded, "season_lambda", "3.7", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(loaded, "season_length_days", "240", &err), PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_E_CONFIG);
    assert_int_equal(parus_model_set_meta(loaded, "season_length_days", "235", &err), PARUS_OK);
    assert_int_equal(parus_season_spec_from_model(loaded, &back, &err), PARUS_OK);

    parus_season_work_release(&wk);
    parus_model_free(m);
    parus_model_free(loaded);
    parus_dataset_release(&ds);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(f);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec__defaults_names_and_count),
        cmocka_unit_test(test_spec__refusals),
        cmocka_unit_test(test_window__parse_and_text),
        cmocka_unit_test(test_obs__from_observation),
        cmocka_unit_test(test_features__regular_values_by_hand),
        cmocka_unit_test(test_features__double_logistic_phenology),
        cmocka_unit_test(test_features__no_clear_observation),
        cmocka_unit_test(test_features__order_independent),
        cmocka_unit_test(test_calendar__wheat_and_maize_shaped_seasons),
        cmocka_unit_test(test_calendar__refusals),
        cmocka_unit_test(test_model__spec_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_yield.c - a parcel's expected and conservative yield and its value in fen: hand-computed
 * cases, the clamps, thin evidence, no canopy, exact money (2.35 CNY/kg is 2.35, not 2.3499...),
 * overflow, the exact 128-bit multiply-divide against the compiler's __int128, and the crop table's
 * optional yield_cv column. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "money_int.h"
#include "parus/crops.h"
#include "parus/yield.h"

/* A wheat row as in data-samples/crops.csv. */
static parus_crop wheat(void)
{
    parus_crop c;
    memset(&c, 0, sizeof c);
    snprintf(c.code, sizeof c.code, "winter_wheat");
    c.kind = PARUS_CROP_ANNUAL;
    c.n_cycles = 1;
    c.ndvi_base = 0.18;
    c.ndvi_peak = 0.85;
    c.yield_min_kg_per_mu = 130;
    c.yield_max_kg_per_mu = 650;
    c.yield_a_kg_per_mu = 76;
    c.yield_b_kg_per_mu_per_ndvi = 31.04;
    c.price_cny_per_kg = 2.4;
    c.yield_cv = 0.15;
    return c;
}

static parus_yield_input input(double integral, double peak, double area_m2, size_t n_clear)
{
    parus_yield_input in;
    in.integral_10d = integral;
    in.peak_ndvi = peak;
    in.planted_area_m2 = area_m2;
    in.n_clear_observations = n_clear;
    in.rain_deficit = NAN;
    in.heat_days = NAN;
    in.season_weather_absent = false;
    return in;
}

static void test_options__defaults(void **state)
{
    parus_yield_options o;
    (void)state;
    parus_yield_options_init(&o);
    assert_close(o.z, 1.2815515655446004, 0, 0);
    assert_close(o.evidence_obs, 8, 0, 0);
    assert_close(o.no_canopy_fraction, 0.25, 0, 0);
}

/* I = 9.8 (the typical wheat curve), 3 mu, 8 clear observations: worked by hand. */
static void test_estimate__hand_case(void **state)
{
    parus_crop c = wheat();
    parus_yield_input in = input(9.8, 0.84, 2000.0, 8);
    parus_yield y;
    parus_error err;
    double spread = 0.15 * sqrt(2.0);
    double cons = 380.192 * (1.0 - 1.2815515655446004 * spread);
    (void)state;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_close(y.model_kg_per_mu, 380.192, 1e-9, 0);
    assert_close(y.expected_kg_per_mu, 380.192, 1e-9, 0);
    assert_close(y.spread, spread, 1e-12, 0);
    assert_close(y.conservative_kg_per_mu, cons, 1e-9, 0); /* 276.83 */
    assert_close(y.planted_area_mu, 3.0, 1e-12, 0);
    /* 380.192 kg/mu x 3 mu x 2.4 CNY/kg = 2737.3824 CNY -> 273738 fen, floored */
    assert_int_equal(y.expected_value_fen, 273738);
    /* whole grams x 3 mu x 240 fen/kg / 1000 g/kg = grams x 72 / 100, floored */
    assert_int_equal(y.conservative_value_fen, (int64_t)floor(cons * 1000) * 72 / 100);
    assert_int_equal(y.flags, 0);
}

/* The season's weather never delivered while the parcel's cell holds earlier years': its
 * drought, frost and waterlogging cannot be judged, which read as none (round 8: 119,400 ->
 * 139,800 CNY); the conservative yield is the crop's minimum, the expected one unchanged. */
static void test_estimate__season_weather_absent_is_not_vouched_for(void **state)
{
    parus_crop c = wheat();
    parus_yield_input in = input(9.8, 0.84, 2000.0, 8);
    parus_yield y;
    parus_error err;
    (void)state;
    in.season_weather_absent = true;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_close(y.expected_kg_per_mu, 380.192, 1e-9, 0);
    assert_close(y.conservative_kg_per_mu, c.yield_min_kg_per_mu, 1e-9, 0);
    assert_true(y.flags & PARUS_YIELD_NO_WEATHER);
}

static void test_estimate__clamps_to_the_crop_bounds(void **state)
{
    parus_crop c = wheat();
    parus_yield y;
    parus_error err;
    parus_yield_input in = input(0.0, 0.8, 666.0, 20);
    (void)state;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_close(y.model_kg_per_mu, 76, 0, 0);
    assert_close(y.expected_kg_per_mu, 130, 0, 0);
    assert_close(y.conservative_kg_per_mu, 130, 0, 0);
    assert_int_equal(y.flags, PARUS_YIELD_CLAMPED_LOW);

    in.integral_10d = 100.0;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_close(y.expected_kg_per_mu, 650, 0, 0);
    assert_true(y.conservative_kg_per_mu < 650);
    assert_int_equal(y.flags, PARUS_YIELD_CLAMPED_HIGH);
}

static void test_estimate__thin_evidence_widens_the_spread(void **state)
{
    parus_crop c = wheat();
    parus_yield y;
    parus_error err;
    double last = -1.0;
    size_t n;
    (void)state;
    /* the conservative figure rises with every added observation, towards the n -> inf P10 */
    for (n = 1; n <= 200; n++) {
        parus_yield_input in = input(9.8, 0.84, 1000.0, n);
        assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
        assert_true(y.conservative_kg_per_mu >= last);
        assert_true(y.conservative_kg_per_mu <= y.expected_kg_per_mu);
        assert_true(y.conservative_value_fen <= y.expected_value_fen);
        assert_int_equal((y.flags & PARUS_YIELD_THIN_EVIDENCE) != 0, n < 8);
        last = y.conservative_kg_per_mu;
    }
    assert_true(last < 380.192 * (1 - 1.2815 * 0.15));
    /* one observation: 0.15 x 3 = 0.45 s.d.: 380.192 x (1 - 1.2816 x 0.45) = 160.9 */
    {
        parus_yield_input in = input(9.8, 0.84, 1000.0, 1);
        assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
        assert_close(y.conservative_kg_per_mu, 380.192 * (1 - PARUS_YIELD_Z_P10 * 0.45), 1e-9, 0);
        /* with a crop twice as variable the P10 falls below the crop's minimum: held at it */
        c.yield_cv = 0.3;
        assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
        assert_close(y.conservative_kg_per_mu, 130, 0, 0);
        c.yield_cv = 0.15;
    }
    /* none: the spread is infinite, the conservative yield the crop's minimum */
    {
        parus_yield_input in = input(9.8, 0.84, 1000.0, 0);
        assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
        assert_true(isinf(y.spread));
        assert_close(y.conservative_kg_per_mu, 130, 0, 0);
    }
}

static void test_estimate__no_canopy_gives_no_conservative_value(void **state)
{
    parus_crop c = wheat();
    parus_yield y;
    parus_error err;
    /* bare soil integrates too: 26 steps of 0.2 -> I = 5.2 -> 237 kg/mu from the line */
    parus_yield_input in = input(5.2, 0.30, 1000.0, 20);
    (void)state;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_true(y.flags & PARUS_YIELD_NO_CANOPY);
    assert_close(y.conservative_kg_per_mu, 0, 0, 0);
    assert_int_equal(y.conservative_value_fen, 0);
    assert_true(y.expected_value_fen > 0);
    /* just below the line (0.3475): still no canopy */
    in.peak_ndvi = 0.345;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_true(y.flags & PARUS_YIELD_NO_CANOPY);
    assert_int_equal(y.conservative_value_fen, 0);
    /* just above a quarter of the way from 0.18 to 0.85 (0.3475): a canopy */
    in.peak_ndvi = 0.35;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_false(y.flags & PARUS_YIELD_NO_CANOPY);
    assert_true(y.conservative_value_fen > 0);
}

static void test_estimate__refuses_bad_input(void **state)
{
    parus_crop c = wheat();
    parus_yield y;
    parus_error err;
    parus_yield_input in = input(NAN, 0.8, 1000.0, 10);
    parus_yield_options o;
    (void)state;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_E_INVALID);
    in = input(9.8, 0.8, -1.0, 10);
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_E_INVALID);
    in = input(9.8, INFINITY, 1.0, 10);
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_E_INVALID);
    in = input(9.8, 0.8, 1000.0, 10);
    c.yield_cv = 1.5;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'winter_wheat'"));
    c = wheat();
    parus_yield_options_init(&o);
    o.z = -1;
    assert_int_equal(parus_yield_estimate(&c, &o, &in, &y, &err), PARUS_E_INVALID);
    assert_int_equal(parus_yield_estimate(NULL, NULL, &in, &y, &err), PARUS_E_INVALID);
}

static void test_value__exact_decimal_price_and_floor(void **state)
{
    int64_t fen = -1;
    parus_error err;
    (void)state;
    /* 500 kg/mu x 666.67 m2 (1.000005 mu) x 2.35 = 1175.005875 CNY: 117500 fen. A price read as
     * 2.3499999 would give 117495. */
    assert_int_equal(parus_yield_value_fen(500, 666.67, 2.35, &fen, &err), PARUS_OK);
    assert_int_equal(fen, 117500);
    /* exactly one mu: 10000/15 m2 -> floored to 666.66 m2 (whole dm2) */
    assert_int_equal(parus_yield_value_fen(380, 10000.0 / 15.0, 2.4, &fen, &err), PARUS_OK);
    assert_int_equal(fen, 91199); /* 380 x 0.99999 x 2.4 = 911.99088 */
    assert_int_equal(parus_yield_value_fen(0, 1000, 2.4, &fen, &err), PARUS_OK);
    assert_int_equal(fen, 0);
    assert_int_equal(parus_yield_value_fen(380, 0, 2.4, &fen, &err), PARUS_OK);
    assert_int_equal(fen, 0);
    /* a sugarcane farm of 10 km2: 8000 kg/mu x 15000 mu x 0.5 = 60 000 000 CNY */
    assert_int_equal(parus_yield_value_fen(8000, 1e7, 0.5, &fen, &err), PARUS_OK);
    assert_int_equal(fen, 6000000000);
}

static void test_value__overflow_and_bad_factors(void **state)
{
    int64_t fen = 7;
    parus_error err;
    (void)state;
    assert_int_equal(parus_yield_value_fen(1e6, 1e12, 1e4, &fen, &err), PARUS_E_RANGE);
    assert_int_equal(parus_yield_value_fen(1e30, 1, 1, &fen, &err), PARUS_E_RANGE);
    assert_int_equal(parus_yield_value_fen(-1, 1, 1, &fen, &err), PARUS_E_INVALID);
    assert_int_equal(parus_yield_value_fen(1, NAN, 1, &fen, &err), PARUS_E_INVALID);
    assert_int_equal(parus_yield_value_fen(1, 1, -0.5, &fen, &err), PARUS_E_INVALID);
    assert_int_equal(fen, 7);
}

/* The portable 128-bit multiply-divide against the compiler's __int128. */
static void test_mul_div_floor__matches_int128(void **state)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    uint64_t s = 12345;
    int i;
    (void)state;
    for (i = 0; i < 200000; i++) {
        int64_t a, b, d, q = -1, rem = -1;
        u128 p, qq;
        bool ok;
        s = s * 6364136223846793005u + 1442695040888963407u;
        a = (int64_t)(s >> (1 + (s & 31)));
        s = s * 6364136223846793005u + 1442695040888963407u;
        b = (int64_t)(s >> (1 + (s & 31)));
        s = s * 6364136223846793005u + 1442695040888963407u;
        d = (int64_t)(s >> (1 + (s & 63) % 63)) + 1;
        ok = parus__mul_div_floor(a, b, d, &q, &rem);
        p = (u128)a * (u128)b;
        qq = p / (u128)d;
        if (qq > (u128)INT64_MAX) {
            assert_false(ok);
        } else {
            assert_true(ok);
            assert_true((u128)q == qq);
            assert_true((u128)rem == p % (u128)d);
        }
    }
    assert_false(parus__mul_div_floor(-1, 1, 1, &(int64_t){0}, NULL));
    assert_false(parus__mul_div_floor(1, 1, 0, &(int64_t){0}, NULL));
#else
    (void)state;
    skip();
#endif
}

static void test_ratio_ppm__decimal_ratios_are_exact(void **state)
{
    int64_t ppm;
    int k;
    (void)state;
    for (k = 0; k <= 1000000; k += 7) {
        double x = (double)k / 1e6;
        assert_true(parus__ratio_ppm(x, &ppm));
        assert_int_equal(ppm, k);
    }
    assert_true(parus__ratio_ppm(0.6, &ppm));
    assert_int_equal(ppm, 600000);
    assert_false(parus__ratio_ppm(1.0000001, &ppm));
    assert_false(parus__ratio_ppm(NAN, &ppm));
    /* the directed forms: exact on six decimals, in the lender's favour beyond */
    for (k = 0; k <= 1000000; k += 7) {
        double x = (double)k / 1e6;
        assert_true(parus__ratio_ppm_down(x, &ppm));
        assert_int_equal(ppm, k);
        assert_true(parus__ratio_ppm_up(x, &ppm));
        assert_int_equal(ppm, k);
    }
    assert_true(parus__ratio_ppm_down(0.6000004, &ppm)); /* nearest would be 600000 too */
    assert_int_equal(ppm, 600000);
    assert_true(parus__ratio_ppm_down(0.6000006, &ppm)); /* nearest: 600001, more lent */
    assert_int_equal(ppm, 600000);
    assert_true(parus__ratio_ppm_up(0.2000004, &ppm)); /* nearest: 200000, less cut */
    assert_int_equal(ppm, 200001);
    assert_false(parus__ratio_ppm_up(-0.1, &ppm));
    assert_false(parus__ratio_ppm_down(NAN, &ppm));
}

static parus_status load_table(const char *text, parus_crop_table *t, parus_error *err)
{
    char *dir = parus_test_tmpdir("yield");
    char *path = parus_test_path(dir, "crops.csv");
    parus_status rc;
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    rc = parus_crop_table_load(path, t, err);
    free(path);
    parus_test_rmtree(dir);
    free(dir);
    return rc;
}

#define HEADER                                                                                     \
    "code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"      \
    "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"               \
    "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg"
#define ROW "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.3"

/* Weather terms: applied where the parcel's weather is known; where the crop's model needs it
 * and it is not, NO_WEATHER and the conservative yield at the crop's minimum. */
static void test_yield__weather_terms(void **state)
{
    parus_crop c = wheat();
    parus_yield y, dry;
    parus_error err;
    parus_yield_input in = input(9.8, 0.84, 2000.0, 8);
    (void)state;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &y, &err), PARUS_OK);
    assert_int_equal(y.flags & PARUS_YIELD_NO_WEATHER, 0); /* no terms: weather not needed */
    c.yield_d_kg_per_mu_per_rain_deficit = -200.0;
    c.yield_e_kg_per_mu_per_heat_day = -10.0;
    in.rain_deficit = 0.5;
    in.heat_days = 2.0;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &dry, &err), PARUS_OK);
    assert_close(dry.model_kg_per_mu, y.model_kg_per_mu - 100.0 - 20.0, 1e-9, 0);
    assert_int_equal(dry.flags & PARUS_YIELD_NO_WEATHER, 0);
    in.heat_days = NAN;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &dry, &err), PARUS_OK);
    assert_true(dry.flags & PARUS_YIELD_NO_WEATHER);
    assert_close(dry.model_kg_per_mu, y.model_kg_per_mu - 100.0, 1e-9, 0);
    assert_close(dry.conservative_kg_per_mu, c.yield_min_kg_per_mu, 0, 0);
    c.yield_e_kg_per_mu_per_heat_day = NAN;
    assert_int_equal(parus_yield_estimate(&c, NULL, &in, &dry, &err), PARUS_E_INVALID);
}

static void test_crop_table__yield_cv_is_optional(void **state)
{
    parus_crop_table t = {0};
    parus_error err;
    (void)state;
    assert_int_equal(load_table(HEADER "\n" ROW "\n", &t, &err), PARUS_OK);
    assert_close(t.crops[0].yield_cv, PARUS_CROP_DEFAULT_YIELD_CV, 0, 0);
    parus_crop_table_release(&t);
    assert_int_equal(load_table(HEADER ",yield_cv\n" ROW ",0.2\n", &t, &err), PARUS_OK);
    assert_close(t.crops[0].yield_cv, 0.2, 0, 0);
    parus_crop_table_release(&t);
    assert_int_equal(load_table(HEADER ",yield_cv\n" ROW ",\n", &t, &err), PARUS_OK);
    assert_close(t.crops[0].yield_cv, PARUS_CROP_DEFAULT_YIELD_CV, 0, 0);
    parus_crop_table_release(&t);
    assert_int_equal(load_table(HEADER ",yield_cv\n" ROW ",1.5\n", &t, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "column 'yield_cv'"));
    assert_int_equal(load_table(HEADER ",yield_cv\n" ROW ",-0.1\n", &t, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "negative"));
    assert_int_equal(load_table(HEADER ",yield_cv\n" ROW ",abc\n", &t, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 2 column 'yield_cv'"));
}

/* The shipped table: every crop's typical curve gives its typical yield (docs/crops.md), inside
 * the clamp, with a conservative figure below it and a positive value. */
static void test_shipped_table__typical_integral_gives_typical_yield(void **state)
{
    static const struct {
        const char *code;
        double integral, typical;
    } rows[] = {
        {"winter_wheat", 9.80, 380}, {"summer_maize", 6.08, 420}, {"spring_maize", 7.26, 450},
        {"single_rice", 6.84, 470},  {"double_rice", 11.61, 800}, {"soybean", 8.68, 130},
        {"cotton", 8.68, 120},       {"rapeseed", 7.37, 130},     {"peanut", 7.88, 250},
        {"potato", 5.23, 1500},      {"sugarcane", 21.13, 5000},  {"vegetables", 7.83, 3000},
        {"greenhouse", 6.47, 5000},  {"orchard", 12.62, 1500},    {"tea", 16.10, 60},
        {"wheat_maize", 15.93, 800},
    };
    char path[4096];
    parus_crop_table t = {0};
    parus_error err;
    size_t i;
    (void)state;
    snprintf(path, sizeof path, "%s/data-samples/crops.csv", parus_test_source_dir());
    if (parus_crop_table_load(path, &t, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const parus_crop *c = parus_crop_table_find(&t, rows[i].code);
        parus_yield_input in = input(rows[i].integral, c ? c->ndvi_peak : 0, 10000.0 / 15.0, 12);
        parus_yield y;
        assert_non_null(c);
        assert_true(c->yield_cv > 0.0 && c->yield_cv <= 0.3);
        assert_int_equal(parus_yield_estimate(c, NULL, &in, &y, &err), PARUS_OK);
        assert_close(y.expected_kg_per_mu, rows[i].typical, 0, 0.01);
        assert_int_equal(y.flags & (PARUS_YIELD_CLAMPED_LOW | PARUS_YIELD_CLAMPED_HIGH), 0);
        assert_true(y.conservative_kg_per_mu < y.expected_kg_per_mu);
        assert_true(y.conservative_kg_per_mu >= c->yield_min_kg_per_mu);
        assert_true(y.conservative_value_fen > 0);
    }
    parus_crop_table_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__defaults),
        cmocka_unit_test(test_estimate__hand_case),
        cmocka_unit_test(test_estimate__season_weather_absent_is_not_vouched_for),
        cmocka_unit_test(test_estimate__clamps_to_the_crop_bounds),
        cmocka_unit_test(test_estimate__thin_evidence_widens_the_spread),
        cmocka_unit_test(test_estimate__no_canopy_gives_no_conservative_value),
        cmocka_unit_test(test_estimate__refuses_bad_input),
        cmocka_unit_test(test_value__exact_decimal_price_and_floor),
        cmocka_unit_test(test_value__overflow_and_bad_factors),
        cmocka_unit_test(test_mul_div_floor__matches_int128),
        cmocka_unit_test(test_ratio_ppm__decimal_ratios_are_exact),
        cmocka_unit_test(test_yield__weather_terms),
        cmocka_unit_test(test_crop_table__yield_cv_is_optional),
        cmocka_unit_test(test_shipped_table__typical_integral_gives_typical_yield),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

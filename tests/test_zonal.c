/* test_zonal.c - weighted accumulators: by hand, against a two-pass computation, merging, and
 * the no-valid-pixel case. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "test_support.h"

#include "parus/zonal.h"
#include "zonal_int.h"

static void pixel(parus_zonal *z, double w, bool valid, float ndvi, float ndwi)
{
    float idx[PARUS_INDEX_N_], band[PARUS_ROLE_N_SPECTRAL_];
    size_t k;
    for (k = 0; k < PARUS_INDEX_N_; k++)
        idx[k] = NAN;
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        band[k] = NAN;
    idx[PARUS_INDEX_NDVI] = ndvi;
    idx[PARUS_INDEX_NDWI] = ndwi;
    band[PARUS_ROLE_RED] = 0.1f;
    band[PARUS_ROLE_NIR] = ndvi;
    parus_zonal_add(z, w, valid, w >= 1.0, idx, band);
}

static void test_add__weighted_by_hand(void **state)
{
    parus_zonal z;
    parus_observation o;
    (void)state;
    parus_zonal_init(&z);
    pixel(&z, 1.0, true, 0.5f, -0.3f);
    pixel(&z, 0.5, true, 0.2f, 0.1f);
    pixel(&z, 0.25, false, 0.9f, 0.0f); /* cloud: counts only in the total */
    parus_zonal_finish(&z, &o);
    assert_close(o.w_total_px, 1.75, 1e-15, 0);
    assert_close(o.w_valid_px, 1.5, 1e-15, 0);
    assert_close(o.valid_fraction, 1.5 / 1.75, 1e-15, 0);
    /* mean = (1*0.5 + 0.5*0.2) / 1.5 = 0.4; var = (1*0.01 + 0.5*0.04) / 1.5 = 0.02 */
    assert_close(o.mean[PARUS_INDEX_NDVI], 0.4, 1e-7, 0);
    assert_close(o.std[PARUS_INDEX_NDVI], sqrt(0.02), 1e-7, 0);
    assert_close(o.min[PARUS_INDEX_NDVI], 0.2, 1e-7, 0);
    assert_close(o.max[PARUS_INDEX_NDVI], 0.5, 1e-7, 0);
    assert_close(o.veg_fraction, 1.0 / 1.5, 1e-15, 0);
    assert_close(o.water_fraction, 0.5 / 1.5, 1e-15, 0);
    assert_close(o.edge_share, 0.5 / 1.5, 1e-15, 0);
    assert_int_equal(o.n_pixels, 3);
    assert_int_equal(o.n_pure, 1);
    assert_close(o.band_mean[PARUS_ROLE_RED], 0.1, 1e-7, 0);
    assert_true(isnan(o.band_mean[PARUS_ROLE_SWIR1]));
    assert_true(isnan(o.mean[PARUS_INDEX_EVI]));
}

/* The 3 x 3 case by hand: a 2 x 2 px square from (0.5, 0.5) to (2.5, 2.5) covers the corners a
 * quarter, the edges a half and the centre fully (test_coverage checks those fractions). NDVI:
 * corners 0.2 (bare), edges 0.6, centre 0.8; red: corners 0.10, edges 0.05, centre 0.04; the
 * bottom-right corner is cloud. Every figure is a coverage-weighted one:
 *   total 4, valid 3.75, of which 1 pure and 2.75 on partly covered pixels;
 *   mean NDVI (3 x 0.25 x 0.2 + 4 x 0.5 x 0.6 + 0.8) / 3.75 = 2.15 / 3.75;
 *   vegetated (NDVI >= 0.3) 4 x 0.5 + 1 = 3 of 3.75 = 0.8;
 *   mean red (3 x 0.25 x 0.10 + 4 x 0.5 x 0.05 + 0.04) / 3.75 = 0.215 / 3.75. */
static void test_add__three_by_three_square_by_hand(void **state)
{
    static const double frac[3][3] = {{0.25, 0.5, 0.25}, {0.5, 1.0, 0.5}, {0.25, 0.5, 0.25}};
    parus_zonal z, a, b;
    parus_observation o, om;
    double mean = 2.15 / 3.75, var;
    size_t r, c, k;
    (void)state;
    parus_zonal_init(&z);
    parus_zonal_init(&a);
    parus_zonal_init(&b);
    /* the weighted variance by hand: sum w (x - mean)^2 / sum w */
    var = (3 * 0.25 * (0.2 - mean) * (0.2 - mean) + 4 * 0.5 * (0.6 - mean) * (0.6 - mean) +
           1.0 * (0.8 - mean) * (0.8 - mean)) /
          3.75;
    for (r = 0; r < 3; r++)
        for (c = 0; c < 3; c++) {
            float idx[PARUS_INDEX_N_], band[PARUS_ROLE_N_SPECTRAL_];
            bool corner = r != 1 && c != 1, centre = r == 1 && c == 1;
            bool valid = !(r == 2 && c == 2);
            for (k = 0; k < PARUS_INDEX_N_; k++)
                idx[k] = NAN;
            for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
                band[k] = NAN;
            idx[PARUS_INDEX_NDVI] = corner ? 0.2f : centre ? 0.8f : 0.6f;
            band[PARUS_ROLE_RED] = corner ? 0.10f : centre ? 0.04f : 0.05f;
            parus_zonal_add(&z, frac[r][c], valid, frac[r][c] >= 1.0, idx, band);
            /* the same pixels in two accumulators, merged: the same figures */
            parus_zonal_add(r < 2 ? &a : &b, frac[r][c], valid, frac[r][c] >= 1.0, idx, band);
        }
    parus_zonal_merge(&a, &b);
    parus_zonal_finish(&z, &o);
    parus_zonal_finish(&a, &om);
    assert_close(o.w_total_px, 4.0, 1e-15, 0);
    assert_close(o.w_valid_px, 3.75, 1e-15, 0);
    assert_close(o.valid_fraction, 3.75 / 4.0, 1e-15, 0);
    assert_int_equal(o.n_pixels, 9);
    assert_int_equal(o.n_pure, 1);
    assert_close(o.edge_share, 2.75 / 3.75, 1e-15, 0);
    assert_close(o.mean[PARUS_INDEX_NDVI], mean, 1e-7, 0);
    assert_close(o.std[PARUS_INDEX_NDVI], sqrt(var), 1e-7, 0);
    assert_close(o.veg_fraction, 0.8, 1e-15, 0);
    assert_close(o.band_mean[PARUS_ROLE_RED], 0.215 / 3.75, 1e-8, 0);
    assert_close(om.w_valid_px, 3.75, 1e-15, 0);
    assert_close(om.mean[PARUS_INDEX_NDVI], mean, 1e-7, 0);
    assert_close(om.std[PARUS_INDEX_NDVI], sqrt(var), 1e-7, 0);
    assert_close(om.veg_fraction, 0.8, 1e-15, 0);
    assert_close(om.band_mean[PARUS_ROLE_RED], 0.215 / 3.75, 1e-8, 0);
}

static void test_finish__no_valid_pixel_gives_nan(void **state)
{
    parus_zonal z;
    parus_observation o;
    (void)state;
    parus_zonal_init(&z);
    pixel(&z, 0.7, false, 0.5f, 0.0f);
    parus_zonal_finish(&z, &o);
    assert_close(o.w_total_px, 0.7, 1e-15, 0);
    assert_close(o.w_valid_px, 0.0, 0, 0);
    assert_close(o.valid_fraction, 0.0, 0, 0);
    assert_true(isnan(o.mean[PARUS_INDEX_NDVI]));
    assert_true(isnan(o.std[PARUS_INDEX_NDVI]));
    assert_true(isnan(o.ndvi_p50));
    assert_true(isnan(o.veg_fraction));
}

static uint64_t rs = 42;
static double rnd(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) * (1.0 / 9007199254740992.0);
}

static void test_merge__equals_two_pass(void **state)
{
    enum { N = 5000 };
    static float x[N];
    static double w[N];
    parus_zonal whole, parts[7], merged;
    parus_observation a, b;
    double sw = 0, swx = 0, swd = 0, mean;
    size_t i;
    (void)state;
    parus_zonal_init(&whole);
    for (i = 0; i < 7; i++)
        parus_zonal_init(&parts[i]);
    for (i = 0; i < N; i++) {
        x[i] = (float)(0.3 + 0.4 * rnd() - 0.2 * rnd());
        w[i] = rnd() < 0.3 ? 1.0 : rnd();
        if (w[i] == 0.0)
            w[i] = 0.5;
        pixel(&whole, w[i], true, x[i], -0.5f);
        pixel(&parts[i % 7], w[i], true, x[i], -0.5f);
        sw += w[i];
        swx += w[i] * (double)x[i];
    }
    mean = swx / sw;
    for (i = 0; i < N; i++)
        swd += w[i] * ((double)x[i] - mean) * ((double)x[i] - mean);
    parus_zonal_init(&merged);
    for (i = 0; i < 7; i++)
        parus_zonal_merge(&merged, &parts[i]);
    parus_zonal_finish(&whole, &a);
    parus_zonal_finish(&merged, &b);
    assert_close(a.mean[PARUS_INDEX_NDVI], mean, 0, 1e-12);
    assert_close(b.mean[PARUS_INDEX_NDVI], mean, 0, 1e-12);
    assert_close(a.std[PARUS_INDEX_NDVI], sqrt(swd / sw), 0, 1e-10);
    assert_close(b.std[PARUS_INDEX_NDVI], sqrt(swd / sw), 0, 1e-10);
    assert_close(b.w_valid_px, sw, 0, 1e-12);
    assert_int_equal(b.n_pixels, N);
    assert_close(a.ndvi_p50, b.ndvi_p50, 1e-6, 0);
}

static void test_merge__fixed_order_is_bitwise_repeatable(void **state)
{
    parus_zonal parts[4], m1, m2;
    size_t i;
    (void)state;
    for (i = 0; i < 4; i++) {
        parus_zonal_init(&parts[i]);
        for (int j = 0; j < 100; j++)
            pixel(&parts[i], rnd(), rnd() < 0.9, (float)rnd(), (float)(rnd() - 0.5));
    }
    parus_zonal_init(&m1);
    parus_zonal_init(&m2);
    for (i = 0; i < 4; i++) {
        parus_zonal_merge(&m1, &parts[i]);
        parus_zonal_merge(&m2, &parts[i]);
    }
    assert_memory_equal(&m1, &m2, sizeof m1);
}

static void test_percentiles__uniform_ndvi(void **state)
{
    parus_zonal z;
    parus_observation o;
    int i;
    (void)state;
    parus_zonal_init(&z);
    /* 1000 values spread evenly over [0, 0.8) */
    for (i = 0; i < 1000; i++)
        pixel(&z, 1.0, true, (float)(0.8 * (i + 0.5) / 1000.0), -0.2f);
    parus_zonal_finish(&z, &o);
    assert_close(o.ndvi_p10, 0.08, 0.02, 0);
    assert_close(o.ndvi_p50, 0.40, 0.02, 0);
    assert_close(o.ndvi_p90, 0.72, 0.02, 0);
}

static void test_add_sparse__same_as_dense(void **state)
{
    /* a tile with red, NIR and green: NDVI and NDWI exist, the rest are NaN in the dense call */
    const int index_id[2] = {PARUS_INDEX_NDVI, PARUS_INDEX_NDWI};
    const int band_id[3] = {PARUS_ROLE_GREEN, PARUS_ROLE_RED, PARUS_ROLE_NIR};
    parus_zonal dense, sparse;
    int i;
    size_t k;
    (void)state;
    parus_zonal_init(&dense);
    parus_zonal_init(&sparse);
    for (i = 0; i < 500; i++) {
        float idx[PARUS_INDEX_N_], band[PARUS_ROLE_N_SPECTRAL_], si[2], sb[3];
        double w = rnd();
        bool valid = rnd() < 0.8;
        for (k = 0; k < PARUS_INDEX_N_; k++)
            idx[k] = NAN;
        for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
            band[k] = NAN;
        si[0] = idx[PARUS_INDEX_NDVI] = (float)(rnd() - 0.2);
        si[1] = idx[PARUS_INDEX_NDWI] = rnd() < 0.1 ? NAN : (float)(rnd() - 0.6);
        for (k = 0; k < 3; k++)
            sb[k] = band[band_id[k]] = (float)rnd();
        parus_zonal_add(&dense, w, valid, w > 0.9, idx, band);
        parus__zonal_add_sparse(&sparse, w, valid, w > 0.9, si, index_id, 2, sb, band_id, 3);
    }
    assert_memory_equal(&dense, &sparse, sizeof dense);
}

static void own_pixel(parus_zonal *z, double w, float red, float nir, float bg_red, float bg_nir)
{
    float band[PARUS_ROLE_N_SPECTRAL_], bg[PARUS_ROLE_N_SPECTRAL_];
    size_t k;
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        band[k] = bg[k] = NAN;
    band[PARUS_ROLE_RED] = red;
    band[PARUS_ROLE_NIR] = nir;
    bg[PARUS_ROLE_RED] = bg_red;
    bg[PARUS_ROLE_NIR] = bg_nir;
    parus_zonal_add_own(z, w, band, isnan(bg_red) && isnan(bg_nir) ? NULL : bg);
}

static void test_add_own__unmixed_by_hand(void **state)
{
    parus_zonal z, half;
    parus_observation o;
    (void)state;
    parus_zonal_init(&z);
    /* the parcel's own red 0.04, NIR 0.5; its neighbour red 0.14, NIR 0.2 */
    own_pixel(&z, 1.0, 0.04f, 0.5f, NAN, NAN);     /* pure: weight 1 / 0.1 = 10 */
    own_pixel(&z, 0.5, 0.09f, 0.35f, 0.14f, 0.2f); /* half: 0.25 / 0.35 */
    own_pixel(&z, 0.2, 0.12f, 0.26f, 0.14f, 0.2f); /* a fifth: 0.04 / 0.74 */
    parus_zonal_finish(&z, &o);
    /* every pixel's own value is the parcel's: the mixed mean is not */
    assert_close(o.own_band_mean[PARUS_ROLE_RED], 0.04, 1e-6, 0);
    assert_close(o.own_band_mean[PARUS_ROLE_NIR], 0.5, 1e-6, 0);
    assert_close(o.own_mean[PARUS_INDEX_NDVI], 0.46 / 0.54, 1e-6, 0);
    assert_true(isnan(o.own_mean[PARUS_INDEX_NDWI])); /* no green */
    assert_true(isnan(o.own_band_mean[PARUS_ROLE_SWIR1]));
    /* own_unmixed_share is of the valid weight, which parus_zonal_add counts (none here) */
    assert_true(isnan(o.own_unmixed_share));
    assert_close(o.own_veg_fraction, 1.0, 0, 0); /* every pixel's own NDVI is 0.85 */

    /* inverse-variance weights: a pure pixel 10, a half-covered one 0.25 / 0.35 */
    parus_zonal_init(&half);
    own_pixel(&half, 1.0, 0.1f, 0.6f, NAN, NAN);
    own_pixel(&half, 0.5, 0.2f, 0.4f, 0.1f, 0.2f); /* own red 0.3, NIR 0.6 */
    parus_zonal_finish(&half, &o);
    assert_close(o.own_band_mean[PARUS_ROLE_RED],
                 (10 * 0.1 + 0.25 / 0.35 * 0.3) / (10 + 0.25 / 0.35), 1e-7, 0);
    assert_close(o.own_band_mean[PARUS_ROLE_NIR], 0.6, 1e-7, 0);
    /* a bare parcel (red 0.15, NIR 0.2) half in a green pixel: mixed NDVI 0.59 counts as
     * vegetated, its own value (0.14) does not */
    parus_zonal_init(&half);
    own_pixel(&half, 1.0, 0.15f, 0.2f, NAN, NAN);
    own_pixel(&half, 0.5, 0.09f, 0.35f, 0.03f, 0.5f);
    parus_zonal_finish(&half, &o);
    assert_close(o.own_veg_fraction, 0.0, 0, 0);
    assert_close(o.own_band_mean[PARUS_ROLE_RED], 0.15, 1e-6, 0);
    /* no background: the pixel counts as its own value */
    parus_zonal_init(&half);
    own_pixel(&half, 0.5, 0.2f, 0.4f, NAN, NAN);
    parus_zonal_finish(&half, &o);
    assert_close(o.own_band_mean[PARUS_ROLE_RED], 0.2, 1e-7, 0);
    /* merging partials gives the same sums */
    {
        parus_zonal a, b;
        parus_zonal_init(&a);
        parus_zonal_init(&b);
        own_pixel(&a, 1.0, 0.04f, 0.5f, NAN, NAN);
        own_pixel(&b, 0.5, 0.09f, 0.35f, 0.14f, 0.2f);
        own_pixel(&b, 0.2, 0.12f, 0.26f, 0.14f, 0.2f);
        parus_zonal_merge(&a, &b);
        for (size_t k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++) {
            assert_close(a.own_wsum[k], z.own_wsum[k], 1e-15, 1e-12);
            assert_close(a.own_w[k], z.own_w[k], 1e-15, 1e-12);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add__weighted_by_hand),
        cmocka_unit_test(test_add__three_by_three_square_by_hand),
        cmocka_unit_test(test_finish__no_valid_pixel_gives_nan),
        cmocka_unit_test(test_merge__equals_two_pass),
        cmocka_unit_test(test_merge__fixed_order_is_bitwise_repeatable),
        cmocka_unit_test(test_percentiles__uniform_ndvi),
        cmocka_unit_test(test_add_sparse__same_as_dense),
        cmocka_unit_test(test_add_own__unmixed_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

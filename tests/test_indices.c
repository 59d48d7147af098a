/* test_indices.c - index kernels: values by hand, and the NaN / zero-denominator rule. */
#include <math.h>

#include "test_support.h"

#include "parus/indices.h"

static void test_nd__values_by_hand(void **state)
{
    const float nir[] = {0.5f, 0.3f, 0.1f, 0.2f};
    const float red[] = {0.1f, 0.3f, 0.3f, 0.0f};
    float out[4];
    (void)state;
    parus_index_normalized_difference(nir, red, out, 4);
    assert_close(out[0], 0.4 / 0.6, 1e-7, 0);
    assert_close(out[1], 0.0, 1e-7, 0);
    assert_close(out[2], -0.5, 1e-7, 0);
    assert_close(out[3], 1.0, 1e-7, 0);
}

static void test_nd__matches_dn_formula(void **state)
{
    /* Landsat-8 Alabama pixel (300, 300): DN4 10296, DN5 18355; NDVI on DN (no offset) */
    const float nir[] = {18355.0f}, red[] = {10296.0f};
    float out[1];
    (void)state;
    parus_index_normalized_difference(nir, red, out, 1);
    assert_close(out[0], (18355.0 - 10296.0) / (18355.0 + 10296.0), 1e-7, 0);
}

static void test_nd__nan_and_zero_rule(void **state)
{
    const float a[] = {NAN, 0.2f, 0.0f, -0.1f, INFINITY, 0.3f, 0.05f};
    const float b[] = {0.2f, NAN, 0.0f, 0.05f, 0.2f, -INFINITY, -0.01f};
    float out[7];
    (void)state;
    parus_index_normalized_difference(a, b, out, 7);
    for (int i = 0; i < 6; i++)
        if (!isnan(out[i]))
            fail_msg("element %d: expected NaN, got %g", i, (double)out[i]);
    /* a small negative reflectance with a positive sum: a value, outside [-1, 1], not clamped */
    assert_close(out[6], 0.06 / 0.04, 1e-6, 0);
}

static void test_evi__values_and_rule(void **state)
{
    const float nir[] = {0.4f, 0.1f, NAN};
    const float red[] = {0.05f, 0.1f, 0.1f};
    const float blue[] = {0.03f, 1.0f, 0.1f};
    float out[3];
    (void)state;
    parus_index_evi(nir, red, blue, out, 3);
    assert_close(out[0], 2.5 * 0.35 / (0.4 + 0.3 - 0.225 + 1.0), 1e-6, 0);
    assert_true(isnan(out[1])); /* 0.1 + 0.6 - 7.5 + 1 < 0 */
    assert_true(isnan(out[2]));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(parus_index_name(PARUS_INDEX_NDVI), "ndvi");
    assert_string_equal(parus_index_name(PARUS_INDEX_NDMI), "ndmi");
    assert_string_equal(parus_index_name(PARUS_INDEX_N_), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nd__values_by_hand),
        cmocka_unit_test(test_nd__matches_dn_formula),
        cmocka_unit_test(test_nd__nan_and_zero_rule),
        cmocka_unit_test(test_evi__values_and_rule),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

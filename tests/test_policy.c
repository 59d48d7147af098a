/* test_policy.c - the credit policy file: the shipped default, strictness, consistency checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/policy.h"

static void test_load__shipped_policy_equals_defaults(void **state)
{
    char path[4096];
    parus_policy p, d;
    parus_error err;
    (void)state;
    snprintf(path, sizeof path, "%s/data-samples/policy.ini", parus_test_source_dir());
    assert_int_equal(parus_policy_load(path, &p, &err), PARUS_OK);
    parus_policy_init(&d);
    assert_string_equal(p.currency, "CNY");
    assert_close(p.loan_to_value, d.loan_to_value, 0, 0);
    assert_int_equal(p.cap_cny, d.cap_cny);
    assert_int_equal(p.floor_cny, d.floor_cny);
    assert_int_equal(p.round_down_cny, d.round_down_cny);
    assert_int_equal(p.min_clear_observations, d.min_clear_observations);
    assert_close(p.haircut_event, d.haircut_event, 0, 0);
    assert_int_equal(parus_policy_validate(&d, &err), PARUS_OK);
}

static parus_status load_text(const char *text, parus_policy *p, parus_error *err)
{
    char *dir = parus_test_tmpdir("policy");
    char *path = parus_test_path(dir, "policy.ini");
    parus_status rc;
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    rc = parus_policy_load(path, p, err);
    if (rc != PARUS_OK)
        assert_non_null(strstr(err->msg, path));
    free(path);
    parus_test_rmtree(dir);
    free(dir);
    return rc;
}

/* A directory is no policy, and a line inih would cut is refused at its line. */
static void test_load__not_a_file_or_a_cut_line(void **state)
{
    char *dir = parus_test_tmpdir("policy-strict"), *path = NULL;
    char text[400];
    parus_policy p;
    parus_error err;
    (void)state;
    assert_int_equal(parus_policy_load(dir, &p, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "is a directory"));
    path = malloc(strlen(dir) + 16);
    assert_non_null(path);
    snprintf(path, strlen(dir) + 16, "%s/p.ini", dir);
    snprintf(text, sizeof text, "[credit]\n; %0300d\n", 1);
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    assert_int_equal(parus_policy_load(path, &p, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 2: longer than"));
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_load__a_missing_key_is_refused(void **state)
{
    parus_policy p;
    parus_error err;
    (void)state;
    /* the default would have lent at 0.6 of value: a bank's policy must say so itself */
    assert_int_equal(load_text("[credit]\nloan_to_value = 0.5\ncap_cny = 50000\n", &p, &err),
                     PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "missing key 'currency' in section [credit]"));
}

/* [evidence] overlap may be left out (hold, the default, lends the least); when given, it is one
 * of the three rules */
static void test_load__overlap_rule(void **state)
{
    char path[4096];
    char *text, *dir;
    FILE *f;
    size_t n;
    parus_policy p;
    parus_error err;
    (void)state;
    snprintf(path, sizeof path, "%s/data-samples/policy.ini", parus_test_source_dir());
    assert_int_equal(parus_policy_load(path, &p, &err), PARUS_OK);
    assert_int_equal(p.overlap, PARUS_OVERLAP_HOLD);
    f = fopen(path, "rb");
    assert_non_null(f);
    text = calloc(1, 8192);
    assert_non_null(text);
    n = fread(text, 1, 8000, f);
    fclose(f);
    snprintf(text + n, 8192 - n, "\n[evidence]\noverlap = split\n");
    /* a second [evidence] section is fine for inih; the key itself is new */
    dir = parus_test_tmpdir("policy");
    snprintf(path, sizeof path, "%s/split.ini", dir);
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    assert_int_equal(parus_policy_load(path, &p, &err), PARUS_OK);
    assert_int_equal(p.overlap, PARUS_OVERLAP_SPLIT);
    assert_string_equal(parus_overlap_rule_name(p.overlap), "split");
    free(text);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_load__refuses_what_would_lend_wrongly(void **state)
{
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"[credit]\ncap_cny = 500\nfloor_cny = 1000\n", "below floor_cny"},
        {"[credit]\nloan_to_value = 1.5\n", "loan_to_value"},
        {"[credit]\nloan_to_value = 0\n", "loan_to_value"},
        /* a share below the millionth the limits keep: every limit 0; just above 1: shown */
        {"[credit]\nloan_to_value = 0.0000001\n", "loan_to_value is 1e-07, outside"},
        {"[credit]\nloan_to_value = 1.0000001\n", "loan_to_value is 1.0000001, outside"},
        /* a repayment date past any calendar a harvest has: refused here, not at assessment */
        {"[repayment]\ndays_after_harvest = 65000\n", "days_after_harvest is 65000, above 3660"},
        {"[credit]\nfloor_cny = -5\n", "negative"},
        {"[credit]\nround_down_cny = 0\n", "round_down_cny"},
        {"[haircuts]\nevent = -0.1\n", "haircuts.event"},
        {"[haircuts]\npoor_health = 0.1\nfair_health = 0.2\n", "fair_health"},
        {"[credit]\nloan_to_valeu = 0.5\n", "unknown key 'loan_to_valeu'"},
        {"[credit]\ncap_cny = 3e5\n", "bad value '3e5'"},
        {"[credit]\ncap_cny = 300000.50\n", "bad value"},
        {"[credit]\nloan_to_value = nan\n", "bad value 'nan'"},
        {"[credit]\nloan_to_value = 0x0.8p0\n", "bad value '0x0.8p0'"},
        {"[credit]\nloan_to_value = 5e-400\n", "bad value '5e-400'"},
        {"[credit]\ncurrency = yuan\n", "bad value 'yuan'"},
        /* a currency code that is not the one every amount is computed in: the limits would be
         * yuan labelled as dollars */
        {"[credit]\ncurrency = USD\n",
         "bad value 'USD' for [credit] currency: parus computes in yuan"},
        {"[credit]\ncurrency = cny\n", "only currency it can state is CNY"},
        {"[evidence]\noverlap = both\n", "bad value 'both' for [evidence] overlap"},
        {"[credit]\nloan_to_value = 0.5\n[haircuts]\nevent = 0.3\n[credit]\nloan_to_value = 0.9\n",
         "duplicate key 'loan_to_value' in section [credit]"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_policy p;
        parus_error err;
        parus_status rc = load_text(cases[i].text, &p, &err);
        if (rc != PARUS_E_CONFIG || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: rc %d, message '%s'", i, (int)rc, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load__shipped_policy_equals_defaults),
        cmocka_unit_test(test_load__a_missing_key_is_refused),
        cmocka_unit_test(test_load__overlap_rule),
        cmocka_unit_test(test_load__not_a_file_or_a_cut_line),
        cmocka_unit_test(test_load__refuses_what_would_lend_wrongly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

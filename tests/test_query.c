/*
 * test_query.c - a parcel's and a farmer's season from the store (parus/query.h) and `parus
 * query`: the view holds what the store holds (result, assessment, flags, limit, observations,
 * the rebuilt series, the peer curve on its steps), a parcel without a result still shows its
 * observations, unknown ids are "not found", the chart is a PNG, the text names what an analyst
 * needs, and --json is well-formed JSON with the documented keys.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parus/crops.h"
#include "parus/query.h"
#include "parus/series.h"
#include "parus/store.h"

#include "fixture_results.h"
#include "test_support.h"

/* ---- the library's views ---- */

static void test_parcel_view__holds_what_the_store_holds(void **state)
{
    parus_store *s = fx_open(fx_db);
    parus_parcel_view v;
    parus_error err;
    size_t i, n_used = 0, n_peer = 0;
    int64_t first;
    (void)state;

    parus_parcel_view_init(&v);
    if (parus_parcel_view_load(s, FX_SEASON, "P01", NULL, &v, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_store_close(s); /* the view owns what it holds */

    assert_string_equal(v.parcel.id, "P01");
    assert_string_equal(v.parcel.farmer_id, fx_farmers[0]);
    assert_true(v.assessed);
    assert_string_equal(v.result.crop, "summer_maize");
    assert_close(v.result.crop_probability, 0.9125, 1e-12, 0);
    assert_string_equal(v.result.health_class, "poor");
    assert_int_equal(v.result.value_expected_fen, 734567);
    assert_int_equal(v.result.credit_value_fen, 734567 * 4 / 5 / 2);
    assert_string_equal(v.result.credit_reasons, "POOR_HEALTH;EVENT_FLAG");
    assert_true(v.has_assessment);
    assert_string_equal(v.assessment.crop2, "soybean");
    assert_close(v.assessment.margin, 0.61, 1e-12, 0);
    assert_int_equal(v.n_flags, 1);
    assert_string_equal(v.flags[0].flag, "SUDDEN_LOSS");
    assert_string_equal(v.flags[0].first_date, "2024-06-12");
    assert_close(v.flags[0].size, 0.42, 1e-12, 0);
    assert_true(v.has_limit);
    assert_int_equal(v.limit.limit_cny, 12300);
    assert_string_equal(v.limit.reasons, "POOR_HEALTH;EVENT_FLAG;DEBT");
    assert_int_equal(v.n_farmer_parcels, 2);

    /* 48 observations in the window, in date order; the series holds one clear scene a step */
    assert_int_equal(v.n_obs, FX_N_TILES);
    assert_string_equal(v.obs[0].date, "2024-03-03");
    for (i = 0; i < v.n_obs; i++) {
        if (i > 0)
            assert_true(v.obs[i].day > v.obs[i - 1].day);
        if (v.obs[i].used) {
            n_used++;
            assert_close(v.obs[i].valid_fraction, 0.95, 1e-12, 0);
        }
    }
    assert_int_equal(n_used, v.n_obs_used);
    assert_int_equal(v.n_steps, 24);
    assert_int_equal(v.step_days, 10);
    assert_int_equal(n_used, 24);
    assert_int_equal(parus_series_parse_day("2024-03-01", &first, &err), PARUS_OK);
    assert_close(v.step_first_day, (double)first + 4.5, 1e-12, 0);
    for (i = 0; i < v.n_steps; i++) {
        assert_true(isfinite(v.ndvi[i]));
        /* the smoothed series follows the clear observations */
        assert_close(v.ndvi[i], fx_ndvi(0, 10.0 * (double)i + 4.5), 0.06, 0);
    }
    /* the peer curve as stored, on the same steps */
    assert_non_null(v.peer_median);
    for (i = 0; i < v.n_steps; i++)
        if (isfinite(v.peer_median[i])) {
            n_peer++;
            assert_close(v.peer_median[i], fx_ndvi(1, 10.0 * (double)i + 4.5), 1e-12, 0);
            assert_close(v.peer_p75[i] - v.peer_p25[i], 0.08, 1e-12, 0);
        }
    assert_int_equal(n_peer, 24);
    assert_int_equal(v.peer_curve_n, 7);
    parus_parcel_view_release(&v);
    parus_parcel_view_release(&v); /* twice is fine */
}

static void test_parcel_view__not_assessed_still_has_observations(void **state)
{
    parus_store *s = fx_open(fx_bare_db);
    parus_parcel_view v;
    parus_error err;
    (void)state;
    parus_parcel_view_init(&v);
    assert_int_equal(parus_parcel_view_load(s, FX_SEASON, "P03", NULL, &v, &err), PARUS_OK);
    assert_false(v.assessed);
    assert_false(v.has_assessment);
    assert_false(v.has_limit);
    assert_int_equal(v.n_flags, 0);
    assert_int_equal(v.n_obs, FX_N_TILES);
    assert_int_equal(v.n_steps, 24);
    assert_null(v.peer_median);
    /* another season's window: no observation in it */
    assert_int_equal(parus_parcel_view_load(s, FX_OTHER_SEASON, "P03", NULL, &v, &err), PARUS_OK);
    assert_int_equal(v.n_obs, 0);
    assert_int_equal(v.n_obs_used, 0);
    parus_parcel_view_release(&v);
    parus_store_close(s);
}

static void test_parcel_view__unknown_parcel_and_bad_season(void **state)
{
    parus_store *s = fx_open(fx_db);
    parus_parcel_view v;
    parus_error err;
    (void)state;
    parus_parcel_view_init(&v);
    assert_int_equal(parus_parcel_view_load(s, FX_SEASON, "P404", NULL, &v, &err),
                     PARUS_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'P404'"));
    assert_null(v.parcel.id);
    assert_int_equal(parus_parcel_view_load(s, "2024-03-01", "P01", NULL, &v, &err),
                     PARUS_E_INVALID);
    parus_store_close(s);
}

static void test_farmer_view__limit_and_parcels(void **state)
{
    parus_store *s = fx_open(fx_db), *b = fx_open(fx_bare_db);
    parus_farmer_view v;
    parus_error err;
    (void)state;
    parus_farmer_view_init(&v);
    assert_int_equal(parus_farmer_view_load(s, FX_SEASON, fx_farmers[0], &v, &err), PARUS_OK);
    assert_string_equal(v.farmer_id, fx_farmers[0]);
    assert_true(v.has_limit);
    assert_int_equal(v.limit.limit_cny, 12300);
    assert_int_equal(v.limit.debt_fen, 5);
    assert_int_equal(v.n_parcels, 2);
    assert_int_equal(v.n_assessed, 2);
    assert_string_equal(v.parcels[0].parcel_id, "P01");
    assert_string_equal(v.parcels[1].parcel_id, "P02");
    assert_true(v.parcels[1].assessed);
    assert_string_equal(v.parcels[1].result.area_check, "undeclared");
    assert_int_equal(parus_farmer_view_load(s, FX_SEASON, "F404", &v, &err), PARUS_E_NOT_FOUND);
    /* the earlier view is kept on failure */
    assert_int_equal(v.n_parcels, 2);
    assert_int_equal(parus_farmer_view_load(b, FX_SEASON, fx_farmers[0], &v, &err), PARUS_OK);
    assert_false(v.has_limit);
    assert_int_equal(v.n_parcels, 2);
    assert_int_equal(v.n_assessed, 0);
    parus_farmer_view_release(&v);
    parus_store_close(s);
    parus_store_close(b);
}

static void test_reason_text__every_kind_of_code(void **state)
{
    (void)state;
    assert_string_equal(parus_query_reason_text("DEBT"), "existing debt is deducted");
    assert_non_null(strstr(parus_query_reason_text("UNKNOWN_CROP"), "crop table"));
    assert_non_null(strstr(parus_query_reason_text("FLOOD"), "water"));
    assert_null(parus_query_reason_text("NO_SUCH_CODE"));
    assert_null(parus_query_reason_text(NULL));
}

static bool is_png(const char *path)
{
    unsigned char sig[8];
    FILE *f = fopen(path, "rb");
    bool ok;
    if (!f)
        return false;
    ok = fread(sig, 1, 8, f) == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
    fclose(f);
    return ok;
}

static void test_parcel_view__chart_is_a_png(void **state)
{
    char *png = parus_test_path(fx_dir, "view.png");
    char *crops_path = parus_test_path(parus_test_source_dir(), "data-samples/crops.csv");
    parus_store *s = fx_open(fx_db);
    parus_crop_table crops;
    parus_parcel_view v;
    parus_error err;
    (void)state;
    if (parus_crop_table_load(crops_path, &crops, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_parcel_view_init(&v);
    assert_int_equal(parus_parcel_view_load(s, FX_SEASON, "P01", NULL, &v, &err), PARUS_OK);
    if (parus_parcel_view_chart(&v, parus_crop_table_find(&crops, "summer_maize"), png, 900, 500,
                                &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    assert_true(is_png(png));
    /* a season owed an assessment is said on the picture: the same view draws otherwise */
    {
        char *stale = parus_test_path(fx_dir, "view-stale.png"), cmd[8300];
        snprintf(v.owed_since, sizeof v.owed_since, "2026-12-06T10:00:00Z");
        if (parus_parcel_view_chart(&v, parus_crop_table_find(&crops, "summer_maize"), stale, 900,
                                    500, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
        v.owed_since[0] = '\0';
        assert_true(is_png(stale));
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", png, stale);
        assert_int_equal(parus_test_run(cmd, NULL, NULL), 1);
        free(stale);
    }
    assert_int_equal(parus_parcel_view_chart(&v, NULL, png, 10, 500, &err), PARUS_E_INVALID);
    parus_parcel_view_release(&v);
    parus_crop_table_release(&crops);
    parus_store_close(s);
    free(crops_path);
    free(png);
}

/* ---- a small JSON checker: is the text one well-formed JSON value ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (!isxdigit((unsigned char)p[k]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *json_number(const char *p)
{
    const char *s = p;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p > s ? p : NULL;
}

static const char *json_list(const char *p, char close, bool object)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            if (!(p = json_string(json_ws(p))))
                return NULL;
            p = json_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        if (!(p = json_value(p)))
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{')
        return json_list(p, '}', true);
    if (*p == '[')
        return json_list(p, ']', false);
    if (*p == '"')
        return json_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return json_number(p);
}

static void assert_json(const char *text)
{
    const char *end = json_value(text);
    if (!end || *json_ws(end) != '\0')
        fail_msg("not one JSON value (at offset %ld):\n%s", end ? (long)(end - text) : -1L, text);
}

static void test_json_checker__refuses_what_is_not_json(void **state)
{
    (void)state;
    assert_json("{\"a\":[1,-2.5e3,true,null,\"x\\n\"],\"b\":{}}");
    assert_null(json_value("{\"a\":1,}"));
    assert_null(json_value("{\"a\":nan}"));
    assert_null(json_value("[\"a\nb\"]"));
    assert_null(json_value("{a:1}"));
}

/* ---- the command ---- */

static void expect_has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("expected '%s' in:\n%s", want, text);
}

static void test_cmd_query__parcel_text_json_and_chart(void **state)
{
    char *png = parus_test_path(fx_dir, "cli.png"), *out, *errs;
    (void)state;

    fx_run(0, &out, NULL, "'%s' --db '%s' query P01 --season %s", fx_bin(), fx_db, FX_SEASON);
    expect_has(out, "summer_maize  p 0.91");
    expect_has(out, "runner-up soybean");
    expect_has(out, "1.20 mu declared");
    expect_has(out, "poor");
    expect_has(out, "SUDDEN_LOSS     2024-06-12..2024-10-26  size 0.42");
    expect_has(out, "7345.67 CNY expected");
    expect_has(out, "12300 CNY for farmer");
    expect_has(out, "DEBT                 existing debt is deducted");
    expect_has(out, "observations 48 in the season, 24 used");
    expect_has(out, "2024-03-03  0.182");
    free(out);

    /* the calendar fallback is called out */
    fx_run(0, &out, NULL, "'%s' --db '%s' query P05 --season %s", fx_bin(), fx_db, FX_SEASON);
    expect_has(out, "calendar fallback");
    free(out);

    fx_run(0, &out, NULL, "'%s' --db '%s' query P01 --season %s --json", fx_bin(), fx_db,
           FX_SEASON);
    assert_json(out);
    expect_has(out, "\"parcel_id\":\"P01\"");
    expect_has(out, "\"farmer_id\":\"李明, \\\"老李\\\"\"");
    expect_has(out, "\"assessed\":true");
    expect_has(out, "\"crop\":\"summer_maize\"");
    expect_has(out, "\"crop_runner_up\":\"soybean\"");
    expect_has(out, "\"value_expected_fen\":734567");
    expect_has(out, "\"flag\":\"SUDDEN_LOSS\",\"first_date\":\"2024-06-12\"");
    expect_has(out, "\"limit_cny\":12300");
    expect_has(out, "{\"code\":\"DEBT\",\"text\":\"existing debt is deducted\"}");
    expect_has(out, "\"observations\":[{\"date\":\"2024-03-03\"");
    expect_has(out, "\"step_days\":10");
    free(out);

    /* a parcel without crop: nulls, not made-up numbers */
    fx_run(0, &out, NULL, "'%s' --db '%s' query P06 --season %s --json", fx_bin(), fx_db,
           FX_SEASON);
    assert_json(out);
    expect_has(out, "\"crop\":null");
    expect_has(out, "\"value_expected_fen\":null");
    free(out);

    fx_run(0, NULL, &errs, "'%s' --db '%s' query P01 --season %s --chart '%s'", fx_bin(), fx_db,
           FX_SEASON, png);
    assert_true(is_png(png));
    free(errs);
    free(png);
}

static void test_cmd_query__not_found_and_not_assessed(void **state)
{
    char *out, *errs, *png = parus_test_path(fx_dir, "bare.png");
    (void)state;
    fx_run(6, &out, &errs, "'%s' --db '%s' query P404 --season %s", fx_bin(), fx_db, FX_SEASON);
    assert_string_equal(out, "");
    expect_has(errs, "'P404'");
    free(out);
    free(errs);

    /* not assessed: what there is, exit 6 */
    fx_run(6, &out, &errs, "'%s' --db '%s' query P03 --season %s --chart '%s'", fx_bin(),
           fx_bare_db, FX_SEASON, png);
    expect_has(out, "assessment   none for this season");
    expect_has(out, "observations 48 in the season");
    expect_has(errs, "parus assess");
    assert_true(is_png(png));
    free(out);
    free(errs);
    fx_run(6, &out, NULL, "'%s' --db '%s' query P03 --season %s --json", fx_bin(), fx_bare_db,
           FX_SEASON);
    assert_json(out);
    expect_has(out, "\"assessed\":false,\"result\":null");
    free(out);
    free(png);
}

static void test_cmd_query__farmer(void **state)
{
    char *out, *errs;
    (void)state;
    fx_run(0, &out, NULL,
           "'%s' --db '%s' query --farmer '=HYPERLINK(\"http://evil.example\","
           "\"点我\")' --season %s",
           fx_bin(), fx_db, FX_SEASON);
    expect_has(out, "limit        0 CNY for farmer =HYPERLINK(");
    expect_has(out, "P03");
    expect_has(out, "FLOOD");
    free(out);
    /* a line break in an id is shown, not acted on */
    fx_run(0, &out, NULL,
           "'%s' --db '%s' query --farmer \"$(printf '王芳\\n第二行')\" "
           "--season %s",
           fx_bin(), fx_db, FX_SEASON);
    expect_has(out, "farmer       王芳\\n第二行  season");
    free(out);
    fx_run(0, &out, NULL, "'%s' --db '%s' query --farmer '-F4' --season %s --json", fx_bin(), fx_db,
           FX_SEASON);
    assert_json(out);
    expect_has(out, "\"limit_cny\":1000000");
    expect_has(out, "\"parcels\":[{\"parcel_id\":\"P06\",\"assessed\":true");
    free(out);
    fx_run(6, &out, &errs, "'%s' --db '%s' query --farmer F404 --season %s", fx_bin(), fx_db,
           FX_SEASON);
    assert_string_equal(out, "");
    expect_has(errs, "farmer 'F404' has no parcel");
    free(out);
    free(errs);
    /* known farmer, no limit this season */
    fx_run(6, &out, &errs, "'%s' --db '%s' query --farmer '-F4' --season %s", fx_bin(), fx_bare_db,
           FX_SEASON);
    expect_has(out, "limit        none this season");
    expect_has(errs, "parus assess");
    free(out);
    free(errs);
}

static void test_cmd_query__usage(void **state)
{
    char *out, *absent;
    (void)state;
    fx_run(2, NULL, NULL, "'%s' --db '%s' query --season %s", fx_bin(), fx_db, FX_SEASON);
    fx_run(2, NULL, NULL, "'%s' --db '%s' query P01 --farmer F --season %s", fx_bin(), fx_db,
           FX_SEASON);
    fx_run(2, NULL, NULL, "'%s' --db '%s' query --farmer F --chart x.png --season %s", fx_bin(),
           fx_db, FX_SEASON);
    fx_run(2, NULL, NULL, "'%s' --db '%s' query P01 --season 2024", fx_bin(), fx_db);
    fx_run(2, NULL, NULL, "'%s' --db '%s' query P01 P02 --season %s", fx_bin(), fx_db, FX_SEASON);
    absent = parus_test_store_at(fx_dir, "absent.db");
    fx_run(6, NULL, NULL, "'%s' --db '%s' query P01 --season %s", fx_bin(), absent, FX_SEASON);
    free(absent);
    fx_run(0, &out, NULL, "'%s' query --help", fx_bin());
    expect_has(out, "--chart");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parcel_view__holds_what_the_store_holds),
        cmocka_unit_test(test_parcel_view__not_assessed_still_has_observations),
        cmocka_unit_test(test_parcel_view__unknown_parcel_and_bad_season),
        cmocka_unit_test(test_farmer_view__limit_and_parcels),
        cmocka_unit_test(test_reason_text__every_kind_of_code),
        cmocka_unit_test(test_parcel_view__chart_is_a_png),
        cmocka_unit_test(test_json_checker__refuses_what_is_not_json),
        cmocka_unit_test(test_cmd_query__parcel_text_json_and_chart),
        cmocka_unit_test(test_cmd_query__not_found_and_not_assessed),
        cmocka_unit_test(test_cmd_query__farmer),
        cmocka_unit_test(test_cmd_query__usage),
    };
    return cmocka_run_backend_group_tests(tests, fx_setup, fx_teardown);
}

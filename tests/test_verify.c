/*
 * test_verify.c - every limit can be re-derived (parus/verify.h, `parus verify`), on a season
 * built by hand: five parcels of three farmers with hand-written per-parcel evidence, the
 * sample policy and a debts file recorded with it, and limits computed by hand below. Checked:
 * the credit rule on the stored evidence gives exactly the hand-computed fen and yuan; verify
 * agrees with what is stored (exit 0); a limit edited by hand in the store (an SQL UPDATE) and a
 * parcel's evidence edited after the fact are reported with the farmer, the stored and the
 * recomputed value (exit 13); a policy file changed after the assessment is said to differ while
 * the recorded one is used; recorded bytes that no longer match their hash are reported; a season
 * without recorded inputs exits 6.
 *
 * The hand computation (data-samples/policy.ini: loan-to-value 0.6, cap 300,000, floor 1,000,
 * rounding 100; haircuts poor 0.5, fair 0.2, low confidence 0.3, event 0.3, area mismatch 0.2;
 * min confidence 0.6, area tolerance 0.1, min 4 clear observations; repayment 30 days after
 * harvest). Every parcel is winter wheat (harvest day of year 157: 2024-06-05 in this season, so
 * a repayment on 2024-07-05). Money in fen.
 *
 *   F1, debt 1,200.50 CNY = 120,050 fen:
 *     P1 good, p 0.90, 10 obs, planted 1000 m2 of 1000 declared      1,000,000 -> 1,000,000
 *     P2 poor, p 0.50, FLOOD, 10 obs, planted 800 of 1000 declared     500,000
 *        poor x0.5 -> 250,000 (-250,000); p < 0.6 x0.7 -> 175,000 (-75,000);
 *        event x0.7 -> 122,500 (-52,500); |800-1000| = 200 > 100: area x0.8 -> 98,000 (-24,500)
 *     P3 good, 3 obs (< 4): thin evidence, not counted                  300,000 -> 0
 *     gross 1,800,000; net 1,098,000; lendable floor(1,098,000 x 0.6) = 658,800;
 *     after debt 538,750; 5,387 CNY; no cap; rounded to 5,300 (-87); >= floor: LIMIT 5,300 CNY
 *   F2, no debt:
 *     P4 good, p 0.95, 12 obs, no declared area                     60,000,000 -> 60,000,000
 *     lendable 36,000,000; 360,000 CNY; cap 300,000 (-60,000): LIMIT 300,000 CNY
 *   F3, no debt:
 *     P5 fair, calendar fallback (p 0.70), 8 obs, planted 1000 of 1050   150,000
 *        fair x0.8 -> 120,000 (-30,000); calendar x0.7 -> 84,000 (-36,000); |50| <= 105: no cut
 *     lendable 50,400; 504 CNY; rounded 500 (-4); below the floor (-500): LIMIT 0, no repayment
 */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/credit.h"
#include "parus/policy.h"
#include "parus/store.h"
#include "parus/verify.h"

#include "util_int.h"

#define SEASON "2024-03-01/2024-10-31"

static void expect_has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("expected '%s' in:\n%s", want, text);
}

static char *g_dir, *g_db;

static char *read_all(const char *path, size_t *n)
{
    char *data = NULL;
    parus_error err;
    if (parus__read_file(path, (size_t)1 << 26, &data, n, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return data;
}

/* A small square parcel at column i. */
static void feature(FILE *f, int i, const char *id, const char *farmer)
{
    double x = 114.5 + 0.001 * i, y = 30.5;
    fprintf(f,
            "%s{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"%s\",\"farmer_id\":\"%s\"},"
            "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.4f,%.4f],[%.4f,%.4f],"
            "[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]]}}",
            i ? "," : "", id, farmer, x, y, x + 0.0003, y, x + 0.0003, y + 0.0003, x, y + 0.0003, x,
            y);
}

typedef struct hand_parcel {
    const char *id, *farmer, *health;
    parus_assess_method method;
    double prob;
    const char *flags;
    int64_t value_fen;
    double planted_m2, declared_m2;
    size_t n_clear;
    /* the verdict, by hand */
    int counted;
    int64_t credit_value_fen;
    const char *credit_reasons;
} hand_parcel;

static const hand_parcel parcels[] = {
    {"P1", "F1", "good", PARUS_ASSESS_MODEL, 0.90, "", 1000000, 1000, 1000, 10, 1, 1000000, ""},
    {"P2", "F1", "poor", PARUS_ASSESS_MODEL, 0.50, "FLOOD", 500000, 800, 1000, 10, 1, 98000,
     "POOR_HEALTH;LOW_CONFIDENCE;EVENT_FLAG;AREA_MISMATCH"},
    {"P3", "F1", "good", PARUS_ASSESS_MODEL, 0.90, "", 300000, 1000, 1000, 3, 0, 0,
     "THIN_EVIDENCE"},
    {"P4", "F2", "good", PARUS_ASSESS_MODEL, 0.95, "", 60000000, 2000, NAN, 12, 1, 60000000, ""},
    {"P5", "F3", "fair", PARUS_ASSESS_CALENDAR, 0.70, "", 150000, 1000, 1050, 8, 1, 84000,
     "FAIR_HEALTH;CALENDAR_FALLBACK"},
};
#define N_PARCELS (sizeof parcels / sizeof parcels[0])

typedef struct hand_limit {
    const char *farmer;
    int64_t limit_cny, debt_fen;
    const char *reasons, *repayment, *parts;
} hand_limit;

static const hand_limit limits[] = {
    {"F1", 5300, 120050, "THIN_EVIDENCE;POOR_HEALTH;LOW_CONFIDENCE;EVENT_FLAG;AREA_MISMATCH;DEBT",
     "2024-07-05",
     "gross_value_fen=1800000;thin_evidence_fen=300000;haircut_poor_health_fen=250000;"
     "haircut_fair_health_fen=0;haircut_low_confidence_fen=75000;haircut_event_fen=52500;"
     "haircut_area_mismatch_fen=24500;net_value_fen=1098000;loan_to_value_ppm=600000;"
     "lendable_fen=658800;debt_fen=120050;after_debt_fen=538750;before_cap_cny=5387;"
     "cap_removed_cny=0;rounding_removed_cny=87;floor_removed_cny=0;limit_cny=5300"},
    {"F2", 300000, 0, "CAP", "2024-07-05",
     "gross_value_fen=60000000;thin_evidence_fen=0;haircut_poor_health_fen=0;"
     "haircut_fair_health_fen=0;haircut_low_confidence_fen=0;haircut_event_fen=0;"
     "haircut_area_mismatch_fen=0;net_value_fen=60000000;loan_to_value_ppm=600000;"
     "lendable_fen=36000000;debt_fen=0;after_debt_fen=36000000;before_cap_cny=360000;"
     "cap_removed_cny=60000;rounding_removed_cny=0;floor_removed_cny=0;limit_cny=300000"},
    {"F3", 0, 0, "FAIR_HEALTH;CALENDAR_FALLBACK;FLOOR", NULL,
     "gross_value_fen=150000;thin_evidence_fen=0;haircut_poor_health_fen=0;"
     "haircut_fair_health_fen=30000;haircut_low_confidence_fen=36000;haircut_event_fen=0;"
     "haircut_area_mismatch_fen=0;net_value_fen=84000;loan_to_value_ppm=600000;"
     "lendable_fen=50400;debt_fen=0;after_debt_fen=50400;before_cap_cny=504;"
     "cap_removed_cny=0;rounding_removed_cny=4;floor_removed_cny=500;limit_cny=0"},
};
#define N_LIMITS (sizeof limits / sizeof limits[0])

/* The hand-built season in a fresh store at g_db, as an assessment would have stored it. */
static void build_season(void)
{
    static const char debts[] = "farmer_id,debt_cny\nF1,1200.50\n";
    char *geo = parus_test_path(g_dir, "p.geojson"), *policy_path, *crops_path;
    char *policy, *crops, policy_hash[65], crops_hash[65], debts_hash[65], mv[80];
    size_t policy_n, crops_n, i;
    parus_assess_inputs in;
    parus_policy pol;
    parus_store *s = NULL;
    parus_error err;
    FILE *f;

    free(g_db); /* a fresh store: a new file, or the database dropped and made again */
    g_db = parus_test_store(g_dir, "hand.db");
    if (!parus_test_on_pg())
        remove(g_db);
    f = fopen(geo, "w");
    assert_non_null(f);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
    for (i = 0; i < N_PARCELS; i++)
        feature(f, (int)i, parcels[i].id, parcels[i].farmer);
    fputs("]}\n", f);
    fclose(f);
    free(parus_test_run_expect(0, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(), g_db,
                               geo));
    free(geo);

    /* the policy the figures above were computed with */
    policy_path = parus_test_path(parus_test_source_dir(), "data-samples/policy.ini");
    crops_path = parus_test_path(parus_test_source_dir(), "data-samples/crops.csv");
    assert_int_equal(parus_policy_load(policy_path, &pol, &err), PARUS_OK);
    assert_true(pol.loan_to_value == 0.6 && pol.cap_cny == 300000 && pol.floor_cny == 1000 &&
                pol.round_down_cny == 100 && pol.haircut_poor_health == 0.5 &&
                pol.haircut_fair_health == 0.2 && pol.haircut_low_confidence == 0.3 &&
                pol.haircut_event == 0.3 && pol.haircut_area_mismatch == 0.2 &&
                pol.min_confidence == 0.6 && pol.area_tolerance == 0.1 &&
                pol.min_clear_observations == 4 && pol.repayment_days_after_harvest == 30);
    policy = read_all(policy_path, &policy_n);
    crops = read_all(crops_path, &crops_n);
    parus__sha256(policy, policy_n, policy_hash);
    parus__sha256(crops, crops_n, crops_hash);
    parus__sha256(debts, strlen(debts), debts_hash);
    snprintf(mv, sizeof mv, "calendar:%s", crops_hash);

    assert_int_equal(parus_store_open(g_db, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    for (i = 0; i < N_PARCELS; i++) {
        const hand_parcel *h = &parcels[i];
        parus_parcel_result r;
        memset(&r, 0, sizeof r);
        r.parcel_id = h->id;
        r.crop = "winter_wheat";
        r.crop_method = h->method;
        r.crop_confidence =
            h->method == PARUS_ASSESS_CALENDAR ? PARUS_CONFIDENCE_LOW : PARUS_CONFIDENCE_NORMAL;
        r.crop_probability = h->prob;
        r.n_clear_obs = h->n_clear;
        r.health_class = h->health;
        r.health_reference = "peers";
        r.health_score = r.green_ratio = NAN;
        r.planted_fraction = 1.0;
        r.planted_area_m2 = h->planted_m2;
        r.area_m2 = h->planted_m2;
        r.declared_area_m2 = h->declared_m2;
        r.ndvi_integral_10d = r.ndvi_peak = NAN;
        r.yield_expected_kg_per_mu = r.yield_p10_kg_per_mu = NAN;
        r.price_cny_per_kg = 2.4;
        r.valued = true;
        r.value_expected_fen = h->value_fen;
        r.value_p10_fen = h->value_fen;
        r.flags = h->flags;
        if (parus_store_results_put(s, &r, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(parus_store_results_put_credit(s, h->id, h->counted != 0,
                                                        h->credit_value_fen, h->credit_reasons,
                                                        &err),
                         PARUS_OK);
    }
    for (i = 0; i < N_LIMITS; i++) {
        parus_limit l;
        memset(&l, 0, sizeof l);
        l.farmer_id = limits[i].farmer;
        l.limit_cny = limits[i].limit_cny;
        l.currency = "CNY";
        l.health = "good";
        l.flags = "";
        l.reasons = limits[i].reasons;
        l.confidence = "normal";
        l.declared_area_m2 = NAN;
        l.repayment_date = limits[i].repayment;
        l.debt_fen = limits[i].debt_fen;
        l.parts = limits[i].parts;
        l.model_version = mv;
        l.policy_hash = policy_hash;
        if (parus_store_results_put_limit(s, &l, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
    }
    memset(&in, 0, sizeof in);
    in.model_version = mv;
    in.crops_hash = crops_hash;
    in.crops = crops;
    in.crops_size = crops_n;
    in.policy_hash = policy_hash;
    in.policy = policy;
    in.policy_size = policy_n;
    in.debts_hash = debts_hash;
    in.debts = debts;
    in.debts_size = strlen(debts);
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    parus_store_close(s);
    free(policy);
    free(crops);
    free(policy_path);
    free(crops_path);
}

/* ---- what verify says ---- */

typedef struct seen {
    size_t n_farmers, n_diffs;
    parus_credit_result f[N_LIMITS];
    char diffs[4096];
} seen;

static int on_farmer(const parus_verify_farmer *f, void *ctx)
{
    seen *s = ctx;
    size_t i;
    for (i = 0; i < N_LIMITS; i++)
        if (strcmp(limits[i].farmer, f->farmer_id) == 0)
            s->f[i] = *f->recomputed;
    s->n_farmers++;
    return 0;
}

static int on_diff(const parus_verify_diff *d, void *ctx)
{
    seen *s = ctx;
    size_t n = strlen(s->diffs);
    snprintf(s->diffs + n, sizeof s->diffs - n, "%s|%s|%s|%s|%s\n",
             d->farmer_id ? d->farmer_id : "-", d->parcel_id ? d->parcel_id : "-", d->item,
             d->stored, d->recomputed);
    s->n_diffs++;
    return 0;
}

static parus_verify_stats verify_lib(seen *s, const char *policy_path)
{
    parus_verify_options opt;
    parus_verify_stats st;
    parus_store *store = NULL;
    parus_error err;
    memset(s, 0, sizeof *s);
    parus_verify_options_init(&opt);
    opt.season = SEASON;
    opt.policy_path = policy_path;
    opt.on_farmer = on_farmer;
    opt.on_diff = on_diff;
    opt.ctx = s;
    assert_int_equal(parus_store_open_existing(g_db, &store, &err), PARUS_OK);
    if (parus_verify_season(store, &opt, &st, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_store_close(store);
    return st;
}

static void test_verify__hand_built_season_has_the_hand_computed_limits(void **state)
{
    parus_verify_stats st;
    seen s;
    char *log;
    (void)state;
    build_season();
    st = verify_lib(&s, NULL);
    if (st.n_diffs)
        fail_msg("differences on the hand-built season:\n%s", s.diffs);
    assert_int_equal(st.n_farmers, 3);
    assert_int_equal(st.n_parcels, 5);
    assert_int_equal(s.n_farmers, 3);
    assert_int_equal(st.stored_total_cny, 305300);
    assert_int_equal(st.recomputed_total_cny, 305300);
    /* F1, every step */
    assert_int_equal(s.f[0].gross_value_fen, 1800000);
    assert_int_equal(s.f[0].thin_evidence_fen, 300000);
    assert_int_equal(s.f[0].haircut_poor_health_fen, 250000);
    assert_int_equal(s.f[0].haircut_low_confidence_fen, 75000);
    assert_int_equal(s.f[0].haircut_event_fen, 52500);
    assert_int_equal(s.f[0].haircut_area_mismatch_fen, 24500);
    assert_int_equal(s.f[0].net_value_fen, 1098000);
    assert_int_equal(s.f[0].lendable_fen, 658800);
    assert_int_equal(s.f[0].debt_fen, 120050);
    assert_int_equal(s.f[0].after_debt_fen, 538750);
    assert_int_equal(s.f[0].before_cap_cny, 5387);
    assert_int_equal(s.f[0].rounding_removed_cny, 87);
    assert_int_equal(s.f[0].limit_cny, 5300);
    /* F2 at the cap, F3 below the floor */
    assert_int_equal(s.f[1].lendable_fen, 36000000);
    assert_int_equal(s.f[1].cap_removed_cny, 60000);
    assert_int_equal(s.f[1].limit_cny, 300000);
    assert_int_equal(s.f[2].haircut_fair_health_fen, 30000);
    assert_int_equal(s.f[2].haircut_low_confidence_fen, 36000);
    assert_int_equal(s.f[2].lendable_fen, 50400);
    assert_int_equal(s.f[2].floor_removed_cny, 500);
    assert_int_equal(s.f[2].limit_cny, 0);

    log =
        parus_test_run_expect(0, "'%s' --db '%s' verify --season " SEASON, parus_test_bin(), g_db);
    expect_has(log, "0 of 3 farmers differ, 0 differences; limits stored 305300 CNY, "
                    "recomputed 305300 CNY");
    free(log);
}

static void test_verify__a_limit_edited_by_hand_is_reported(void **state)
{
    parus_verify_stats st;
    seen s;
    char *log;
    (void)state;
    build_season();
    free(parus_test_sql(g_db, "UPDATE limits SET limit_cny = 6300 WHERE farmer_id = 'F1'"));
    st = verify_lib(&s, NULL);
    assert_int_equal(st.n_diffs, 1);
    assert_int_equal(st.n_farmers_differ, 1);
    assert_string_equal(s.diffs, "F1|-|limit_cny|6300|5300\n");
    log =
        parus_test_run_expect(13, "'%s' --db '%s' verify --season " SEASON, parus_test_bin(), g_db);
    expect_has(log, "differs  farmer F1: limit_cny stored 6300, recomputed 5300");
    expect_has(log, "DIFFERS   1 of 3 farmers differ");
    free(log);

    /* evidence edited after the assessment: the limit no longer follows from it */
    build_season();
    free(parus_test_sql(g_db, "UPDATE parcel_results SET value_p10_fen = 2000000, "
                              "value_expected_fen = 2000000 WHERE parcel_id = 'P1'"));
    st = verify_lib(&s, NULL);
    assert_true(st.n_diffs >= 3); /* the limit, its parts, the parcel's credit value */
    expect_has(s.diffs, "F1|-|limit_cny|5300|11300\n");
    expect_has(s.diffs, "F1|P1|credit_value_fen|1000000|2000000\n");
    free(parus_test_run_expect(13, "'%s' --db '%s' verify --season " SEASON, parus_test_bin(),
                               g_db));

    /* a debt edited in the limit row */
    build_season();
    free(parus_test_sql(g_db, "UPDATE limits SET debt_fen = 0 WHERE farmer_id = 'F1'"));
    st = verify_lib(&s, NULL);
    assert_int_equal(st.n_diffs, 1);
    assert_string_equal(s.diffs, "F1|-|debt_fen|0|120050\n");
}

static void test_verify__a_changed_policy_file_is_said_and_the_recorded_one_used(void **state)
{
    parus_verify_stats st;
    seen s;
    char *log, *cur = parus_test_path(g_dir, "current-policy.ini");
    (void)state;
    build_season();
    free(parus_test_run_expect(
        0, "sed 's/^cap_cny = .*/cap_cny = 200000/' '%s/data-samples/policy.ini' > '%s'",
        parus_test_source_dir(), cur));
    st = verify_lib(&s, cur);
    assert_int_equal(st.n_diffs, 0);
    assert_int_equal(st.policy_file, PARUS_VERIFY_FILE_DIFFERS);
    assert_int_equal(s.f[1].limit_cny, 300000); /* the recorded cap, not the current one */
    log = parus_test_run_expect(0, "'%s' --db '%s' verify --season " SEASON " --policy '%s'",
                                parus_test_bin(), g_db, cur);
    expect_has(log, "note     the current policy '");
    expect_has(log, "differs from the one recorded with the assessment");
    free(log);
    st = verify_lib(&s, NULL);
    assert_int_equal(st.policy_file, PARUS_VERIFY_FILE_NOT_COMPARED);

    /* the recorded policy itself altered in the store: its bytes no longer match their hash,
     * and the limits it now gives differ */
    free(parus_test_sql(
        g_db, parus_test_on_pg()
                  ? "UPDATE assessment_inputs SET policy = convert_to(replace(convert_from(policy, "
                    "'UTF8'), 'cap_cny = 300000', 'cap_cny = 900000'), 'UTF8')"
                  : "UPDATE assessment_inputs SET policy = CAST(replace(CAST(policy AS TEXT), "
                    "'cap_cny = 300000', 'cap_cny = 900000') AS BLOB)"));
    st = verify_lib(&s, NULL);
    expect_has(s.diffs, "-|-|recorded policy (SHA-256 of its bytes)|");
    expect_has(s.diffs, "F2|-|limit_cny|300000|360000\n");
    free(cur);
}

static void test_verify__a_season_without_recorded_inputs_exits_6(void **state)
{
    char *log;
    (void)state;
    build_season();
    log = parus_test_run_expect(6, "'%s' --db '%s' verify --season 2023-03-01/2023-10-31",
                                parus_test_bin(), g_db);
    expect_has(log, "no recorded inputs");
    free(log);
    free(parus_test_run_expect(0, "'%s' verify --help", parus_test_bin()));
    free(parus_test_run_expect(2, "'%s' --db '%s' verify --season " SEASON " --bogus",
                               parus_test_bin(), g_db));
}

static int setup(void **state)
{
    (void)state;
    g_dir = parus_test_tmpdir("verify");
    g_db = NULL; /* build_season makes it */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(g_dir);
    free(g_dir);
    free(g_db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify__hand_built_season_has_the_hand_computed_limits),
        cmocka_unit_test(test_verify__a_limit_edited_by_hand_is_reported),
        cmocka_unit_test(test_verify__a_changed_policy_file_is_said_and_the_recorded_one_used),
        cmocka_unit_test(test_verify__a_season_without_recorded_inputs_exits_6),
    };
    return cmocka_run_backend_group_tests(tests, setup, teardown);
}

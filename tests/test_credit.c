/* test_credit.c - a farmer's limit: hand-computed cases for every step and reason, bad input,
 * property checks over 20,000 random policies and farmers (bounds, floor, rounding, monotone in
 * value, health and debt, independent of parcel order, parts that add up), and the debts file. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/area.h"
#include "parus/credit.h"
#include "parus/policy.h"

#define BIT PARUS_CREDIT_BIT

static parus_credit_parcel parcel(int64_t value_fen)
{
    parus_credit_parcel c;
    memset(&c, 0, sizeof c);
    c.conservative_value_fen = value_fen;
    c.health = PARUS_CREDIT_HEALTH_GOOD;
    c.crop_probability = 0.9;
    c.planted_area_m2 = 2000;
    c.declared_area_m2 = 2000;
    c.n_clear_observations = 10;
    c.harvest_day = 19888; /* 2024-06-13 */
    return c;
}

static parus_credit_result limit(const parus_policy *p, const parus_credit_parcel *c, size_t n,
                                 int64_t debt_fen)
{
    parus_credit_result r;
    parus_error err;
    if (parus_credit_limit(p, c, n, debt_fen, &r, NULL, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return r;
}

/* The parts add up: the identities stated in credit.h. */
static void assert_parts_add_up(const parus_policy *p, const parus_credit_result *r)
{
    int64_t haircuts = r->haircut_poor_health_fen + r->haircut_fair_health_fen +
                       r->haircut_low_confidence_fen + r->haircut_event_fen +
                       r->haircut_area_mismatch_fen + r->haircut_overlap_fen;
    assert_int_equal(r->net_value_fen, r->gross_value_fen - r->thin_evidence_fen - haircuts);
    assert_int_equal(r->limit_cny, r->before_cap_cny - r->cap_removed_cny -
                                       r->rounding_removed_cny - r->floor_removed_cny);
    assert_true(r->limit_cny >= 0 && r->limit_cny <= p->cap_cny);
    assert_true(r->limit_cny == 0 || r->limit_cny >= p->floor_cny);
    assert_int_equal(r->limit_cny % p->round_down_cny, 0);
    assert_true(r->lendable_fen <= r->net_value_fen);
    assert_true(r->after_debt_fen >= 0);
}

static void assert_same_result(const parus_credit_result *a, const parus_credit_result *b)
{
    assert_int_equal(a->limit_cny, b->limit_cny);
    assert_int_equal(a->reasons, b->reasons);
    assert_int_equal(a->n_parcels, b->n_parcels);
    assert_int_equal(a->n_parcels_counted, b->n_parcels_counted);
    assert_int_equal(a->gross_value_fen, b->gross_value_fen);
    assert_int_equal(a->thin_evidence_fen, b->thin_evidence_fen);
    assert_int_equal(a->haircut_poor_health_fen, b->haircut_poor_health_fen);
    assert_int_equal(a->haircut_fair_health_fen, b->haircut_fair_health_fen);
    assert_int_equal(a->haircut_low_confidence_fen, b->haircut_low_confidence_fen);
    assert_int_equal(a->haircut_event_fen, b->haircut_event_fen);
    assert_int_equal(a->haircut_area_mismatch_fen, b->haircut_area_mismatch_fen);
    assert_int_equal(a->net_value_fen, b->net_value_fen);
    assert_int_equal(a->lendable_fen, b->lendable_fen);
    assert_int_equal(a->after_debt_fen, b->after_debt_fen);
    assert_int_equal(a->before_cap_cny, b->before_cap_cny);
    assert_int_equal(a->cap_removed_cny, b->cap_removed_cny);
    assert_int_equal(a->rounding_removed_cny, b->rounding_removed_cny);
    assert_int_equal(a->floor_removed_cny, b->floor_removed_cny);
    assert_int_equal(a->repayment_day, b->repayment_day);
}

/* Two parcels by hand: A 10,000.00 CNY in good health, B 5,000.00 CNY in poor health with a flood;
 * a debt of 1,000.50 CNY; the default policy (LTV 0.6, poor 0.5, event 0.3, round 100). */
static void test_limit__hand_case(void **state)
{
    parus_policy p;
    parus_credit_parcel c[2];
    parus_credit_parcel_result pr[2];
    parus_credit_result r;
    parus_error err;
    char reasons[128];
    (void)state;
    parus_policy_init(&p);
    c[0] = parcel(1000000);
    c[1] = parcel(500000);
    c[1].health = PARUS_CREDIT_HEALTH_POOR;
    c[1].n_event_flags = 2;
    c[1].harvest_day = 19900;
    assert_int_equal(parus_credit_limit(&p, c, 2, 100050, &r, pr, &err), PARUS_OK);
    assert_int_equal(r.gross_value_fen, 1500000);
    assert_int_equal(r.haircut_poor_health_fen, 250000); /* 500000 x 0.5 */
    assert_int_equal(r.haircut_event_fen, 75000);        /* 250000 x 0.3, once */
    assert_int_equal(r.net_value_fen, 1175000);          /* 1000000 + 175000 */
    assert_int_equal(r.loan_to_value_ppm, 600000);
    assert_int_equal(r.lendable_fen, 705000);   /* x 0.6 */
    assert_int_equal(r.after_debt_fen, 604950); /* - 100050 */
    assert_int_equal(r.before_cap_cny, 6049);
    assert_int_equal(r.cap_removed_cny, 0);
    assert_int_equal(r.rounding_removed_cny, 49);
    assert_int_equal(r.floor_removed_cny, 0);
    assert_int_equal(r.limit_cny, 6000);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_POOR_HEALTH) | BIT(PARUS_CREDIT_EVENT_FLAG) |
                                    BIT(PARUS_CREDIT_DEBT));
    assert_int_equal(r.n_parcels, 2);
    assert_int_equal(r.n_parcels_counted, 2);
    assert_int_equal(r.repayment_day, 19930);
    assert_true(pr[0].counted);
    assert_int_equal(pr[0].value_fen, 1000000);
    assert_int_equal(pr[0].reasons, 0);
    assert_int_equal(pr[1].value_fen, 175000);
    parus_credit_reasons_format(r.reasons, reasons, sizeof reasons);
    assert_string_equal(reasons, "POOR_HEALTH;EVENT_FLAG;DEBT");
    assert_parts_add_up(&p, &r);
}

static void test_limit__thin_evidence_is_not_counted(void **state)
{
    parus_policy p;
    parus_credit_parcel c[2];
    parus_credit_parcel_result pr[2];
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p); /* min_clear_observations 4 */
    c[0] = parcel(1000000);
    c[1] = parcel(9000000);
    c[1].n_clear_observations = 3;
    c[1].harvest_day = 20000; /* later, but not counted: no effect on the repayment day */
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(r.thin_evidence_fen, 9000000);
    assert_int_equal(r.net_value_fen, 1000000);
    assert_int_equal(r.limit_cny, 6000);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_THIN_EVIDENCE));
    assert_false(pr[1].counted);
    assert_int_equal(pr[1].value_fen, 0);
    assert_int_equal(r.repayment_day, 19888 + 30);

    /* every parcel thin: zero, with the reason */
    c[0].n_clear_observations = 2;
    r = limit(&p, c, 2, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.n_parcels_counted, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_THIN_EVIDENCE));
    assert_int_equal(r.repayment_day, PARUS_CREDIT_NO_DAY);
}

static void test_limit__nothing_observed_is_zero(void **state)
{
    parus_policy p;
    parus_credit_parcel c[2];
    parus_credit_result r;
    (void)state;
    parus_policy_init(&p);
    r = limit(&p, NULL, 0, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_NO_PARCEL_OBSERVED));
    /* parcels never seen count for nothing, even under a policy that asks for no observation */
    p.min_clear_observations = 0;
    c[0] = parcel(1000000);
    c[1] = parcel(2000000);
    c[0].n_clear_observations = 0;
    c[1].n_clear_observations = 0;
    r = limit(&p, c, 2, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.thin_evidence_fen, 3000000);
    assert_true(r.reasons & BIT(PARUS_CREDIT_NO_PARCEL_OBSERVED));
    assert_true(r.reasons & BIT(PARUS_CREDIT_THIN_EVIDENCE));
}

static void test_limit__cap_floor_and_rounding(void **state)
{
    parus_policy p;
    parus_credit_parcel c = parcel(0);
    parus_credit_result r;
    (void)state;
    parus_policy_init(&p);                   /* cap 300000, floor 1000, round 100 */
    c.conservative_value_fen = 100000000000; /* 1e9 CNY */
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 300000);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_CAP));
    assert_int_equal(r.cap_removed_cny, 600000000 - 300000);
    assert_parts_add_up(&p, &r);

    /* 1,666.66 CNY x 0.6 = 999.99 -> 999 -> 900 < floor 1000: zero */
    c.conservative_value_fen = 166666;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.before_cap_cny, 999);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.floor_removed_cny, 900);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_FLOOR));
    assert_parts_add_up(&p, &r);

    /* rounding happens before the floor test: 1050 -> 1000 with a floor of 1010 is 0 */
    p.floor_cny = 1010;
    c.conservative_value_fen = 175000; /* x 0.6 = 1050.00 */
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.rounding_removed_cny, 50);
    assert_int_equal(r.floor_removed_cny, 1000);

    /* a cap that is not a multiple of the rounding unit is never exceeded */
    parus_policy_init(&p);
    p.cap_cny = 12345;
    c.conservative_value_fen = 100000000;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 12300);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_CAP));
}

static void test_limit__confidence_fallback_and_unknown_health(void **state)
{
    parus_policy p;
    parus_credit_parcel c[3];
    parus_credit_parcel_result pr[3];
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p); /* low_confidence 0.3, min_confidence 0.6, fair 0.2 */
    c[0] = parcel(1000000);
    c[0].crop_probability = 0.59;
    c[1] = parcel(1000000);
    c[1].calendar_fallback = true;
    c[2] = parcel(1000000);
    c[2].crop_probability = 0.1;
    c[2].calendar_fallback = true;
    c[2].health = PARUS_CREDIT_HEALTH_UNKNOWN;
    assert_int_equal(parus_credit_limit(&p, c, 3, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(pr[0].value_fen, 700000);
    assert_int_equal(pr[0].reasons, BIT(PARUS_CREDIT_LOW_CONFIDENCE));
    assert_int_equal(pr[1].value_fen, 700000);
    assert_int_equal(pr[1].reasons, BIT(PARUS_CREDIT_CALENDAR_FALLBACK));
    /* unknown health: the fair haircut; low confidence and fallback: one haircut */
    assert_int_equal(pr[2].value_fen, 560000);
    assert_int_equal(pr[2].reasons, BIT(PARUS_CREDIT_UNKNOWN_HEALTH) |
                                        BIT(PARUS_CREDIT_LOW_CONFIDENCE) |
                                        BIT(PARUS_CREDIT_CALENDAR_FALLBACK));
    assert_int_equal(r.haircut_fair_health_fen, 200000);
    assert_int_equal(r.haircut_low_confidence_fen, 300000 + 300000 + 240000);
    /* exactly at the minimum is not low */
    c[0].crop_probability = 0.6;
    assert_int_equal(parus_credit_limit(&p, c, 1, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(pr[0].reasons, 0);
}

static void test_limit__area_mismatch_is_exact(void **state)
{
    static const struct {
        double planted, declared;
        bool mismatch;
    } cases[] = {
        {1100.00, 1000, false}, /* exactly 10 % */
        {1100.01, 1000, true},  {900.00, 1000, false}, {899.99, 1000, true}, {5000, NAN, false},
        {5000, 0, false},       {5000, -1, false},     {0, 1000, true},
    };
    parus_policy p;
    size_t i;
    (void)state;
    parus_policy_init(&p); /* area_tolerance 0.1, area_mismatch 0.2 */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_credit_parcel c = parcel(1000000);
        parus_credit_parcel_result pr;
        parus_credit_result r;
        parus_error err;
        c.planted_area_m2 = cases[i].planted;
        c.declared_area_m2 = cases[i].declared;
        assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
        if (((pr.reasons & BIT(PARUS_CREDIT_AREA_MISMATCH)) != 0) != cases[i].mismatch)
            fail_msg("case %zu: planted %g declared %g", i, cases[i].planted, cases[i].declared);
        assert_int_equal(pr.value_fen, cases[i].mismatch ? 800000 : 1000000);
        /* the check the stored result and the health flag use says the same */
        assert_int_equal(parus_area_is_mismatch(parus_area_compare(
                             cases[i].planted, cases[i].declared, p.area_tolerance)),
                         cases[i].mismatch);
    }
}

/* Each rule at its edge, by hand (docs/method.md section 12): one event flag is enough for the
 * event haircut; a parcel seen exactly min_clear_observations times counts; a loan-to-value with
 * more than six decimals is rounded down to whole ppm, never up. */
static void test_limit__rules_at_their_edges(void **state)
{
    parus_policy p;
    parus_credit_parcel c;
    parus_credit_parcel_result pr;
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p); /* event 0.3, min_clear_observations 4, LTV 0.6 */

    /* one flood flag: 10,000.00 CNY -> 7,000.00; x 0.6 = 4,200 CNY */
    c = parcel(1000000);
    c.n_event_flags = 1;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_int_equal(pr.reasons, BIT(PARUS_CREDIT_EVENT_FLAG));
    assert_int_equal(pr.value_fen, 700000);
    assert_int_equal(r.haircut_event_fen, 300000);
    assert_int_equal(r.limit_cny, 4200);
    /* three flags: still one haircut */
    c.n_event_flags = 3;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_int_equal(pr.value_fen, 700000);

    /* exactly the minimum of clear observations: counted; one fewer: not */
    c = parcel(1000000);
    c.n_clear_observations = (size_t)p.min_clear_observations;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_true(pr.counted);
    assert_int_equal(r.limit_cny, 6000);
    c.n_clear_observations = (size_t)p.min_clear_observations - 1;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_false(pr.counted);
    assert_int_equal(r.limit_cny, 0);

    /* LTV 0.6000004: 600000 ppm (down), so 1,000,000.00 CNY lends 600,000, not 600,001 */
    parus_policy_init(&p);
    p.loan_to_value = 0.6000004;
    p.cap_cny = 10000000;
    p.round_down_cny = 1;
    c = parcel(100000000);
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_int_equal(r.loan_to_value_ppm, 600000);
    assert_int_equal(r.lendable_fen, 60000000);
    assert_int_equal(r.limit_cny, 600000);
}

/* The area haircut judges the planted area's interval: a shortfall only when even its upper end
 * is more than the tolerance below the declared area, an excess only when even its lower end is
 * above; margins that are not numbers in range are refused. */
static void test_limit__area_mismatch_judges_the_interval(void **state)
{
    static const struct {
        double planted, down, up, declared;
        bool mismatch;
    } cases[] = {
        {850.00, 0, 0, 1000, true},         /* the point alone: 15 % short */
        {850.00, 0, 50.00, 1000, false},    /* up to 900: exactly 10 % */
        {850.00, 0, 49.99, 1000, true},     /* up to 899.99 */
        {850.00, 850, 150, 1000, false},    /* [0, 1000]: nothing known */
        {1150.00, 0, 0, 1000, true},        /* 15 % over */
        {1150.00, 50.00, 0, 1000, false},   /* down to 1100: exactly 10 % */
        {1150.00, 49.99, 0, 1000, true},    /* down to 1100.01 */
        {1150.00, 50.00, 500, 1000, false}, /* the upper end does not make an excess */
    };
    parus_policy p;
    size_t i;
    (void)state;
    parus_policy_init(&p); /* area_tolerance 0.1, area_mismatch 0.2 */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_credit_parcel c = parcel(1000000);
        parus_credit_parcel_result pr;
        parus_credit_result r;
        parus_error err;
        c.planted_area_m2 = cases[i].planted;
        c.planted_area_margin_down_m2 = cases[i].down;
        c.planted_area_margin_up_m2 = cases[i].up;
        c.declared_area_m2 = cases[i].declared;
        assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
        if (((pr.reasons & BIT(PARUS_CREDIT_AREA_MISMATCH)) != 0) != cases[i].mismatch)
            fail_msg("case %zu: planted %g -%g/+%g declared %g", i, cases[i].planted, cases[i].down,
                     cases[i].up, cases[i].declared);
        assert_int_equal(pr.value_fen, cases[i].mismatch ? 800000 : 1000000);
        assert_int_equal(parus_area_is_mismatch(parus_area_compare_interval(
                             cases[i].planted - cases[i].down, cases[i].planted + cases[i].up,
                             cases[i].declared, p.area_tolerance)),
                         cases[i].mismatch);
    }
    /* margins refused: negative, NaN, infinite, below zero area */
    {
        static const double bad[][2] = {{-1, 0},  {0, -1},       {NAN, 0},
                                        {0, NAN}, {0, INFINITY}, {850.01, 0}};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            parus_credit_parcel c = parcel(1000000);
            parus_credit_parcel_result pr;
            parus_credit_result r;
            parus_error err;
            c.planted_area_m2 = 850.0;
            c.declared_area_m2 = 1000.0;
            c.planted_area_margin_down_m2 = bad[i][0];
            c.planted_area_margin_up_m2 = bad[i][1];
            assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_E_INVALID);
            assert_non_null(strstr(err.msg, "margins"));
        }
    }
    /* an interval that is reversed or not numbers is not compared */
    assert_int_equal(parus_area_compare_interval(900.0, 899.0, 1000.0, 0.1), PARUS_AREA_UNKNOWN);
    assert_int_equal(parus_area_compare_interval(NAN, 900.0, 1000.0, 0.1), PARUS_AREA_UNKNOWN);
    assert_int_equal(parus_area_compare_interval(0.0, INFINITY, 1000.0, 0.1), PARUS_AREA_UNKNOWN);
    assert_int_equal(parus_area_compare_interval(0.0, 900.0, NAN, 0.1), PARUS_AREA_UNDECLARED);
}

/* parus_area_compare: the verdict and its direction, exactly at the tolerance, and what it does
 * not compare. */
static void test_area__compare_exact_and_named(void **state)
{
    static const struct {
        double planted, declared, tolerance;
        parus_area_check want;
    } cases[] = {
        {1150.0, 1000.0, 0.15, PARUS_AREA_OK},        /* exactly 15 % above */
        {850.0, 1000.0, 0.15, PARUS_AREA_OK},         /* exactly 15 % below */
        {1150.01, 1000.0, 0.15, PARUS_AREA_EXCESS},   /* one dm2 more */
        {849.99, 1000.0, 0.15, PARUS_AREA_SHORTFALL}, /* one dm2 less */
        {0.0, 1000.0, 0.15, PARUS_AREA_SHORTFALL},    /* nothing planted */
        {1000.0, 1000.0, 0.0, PARUS_AREA_OK},         /* no tolerance, equal */
        {1000.01, 1000.0, 0.0, PARUS_AREA_EXCESS},    /* no tolerance, one dm2 */
        {1000.0, NAN, 0.15, PARUS_AREA_UNDECLARED},   /* nothing declared */
        {1000.0, 0.0, 0.15, PARUS_AREA_UNDECLARED},   /* declared 0 */
        {1000.0, 0.001, 0.15, PARUS_AREA_UNDECLARED}, /* below one dm2 */
        {NAN, 1000.0, 0.15, PARUS_AREA_UNKNOWN},      /* no planted area */
        {-1.0, 1000.0, 0.15, PARUS_AREA_UNKNOWN},     /* negative planted area */
        {1000.0, 1000.0, -0.1, PARUS_AREA_UNKNOWN},   /* negative tolerance */
        {1e12, 1.0, 0.15, PARUS_AREA_EXCESS},         /* a ratio beyond 2^63 ppm */
        {1150.0, 1000.0, 0.1500009, PARUS_AREA_OK},   /* ppm rounded down: 150000 */
        {1150.01, 1000.0, 0.1500009, PARUS_AREA_EXCESS},
        /* beyond the tolerance by less than a ppm is beyond it: 20,000 m2 declared, 10 %, one
         * dm2 more than 22,000 m2 is 100000.5 ppm */
        {22000.0, 20000.0, 0.1, PARUS_AREA_OK},
        {22000.01, 20000.0, 0.1, PARUS_AREA_EXCESS},
        {17999.99, 20000.0, 0.1, PARUS_AREA_SHORTFALL},
        /* the areas are in m2 throughout: 1 mu (666.67 m2) declared, 666.67 m2 planted is ok */
        {666.67, 10000.0 / 15.0, 0.0, PARUS_AREA_OK},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_area_check got =
            parus_area_compare(cases[i].planted, cases[i].declared, cases[i].tolerance);
        if (got != cases[i].want)
            fail_msg("case %zu: planted %g declared %g tolerance %g: %s, expected %s", i,
                     cases[i].planted, cases[i].declared, cases[i].tolerance,
                     parus_area_check_name(got), parus_area_check_name(cases[i].want));
    }
    assert_string_equal(parus_area_check_name(PARUS_AREA_OK), "ok");
    assert_string_equal(parus_area_check_name(PARUS_AREA_SHORTFALL), "shortfall");
    assert_string_equal(parus_area_check_name(PARUS_AREA_EXCESS), "excess");
    assert_string_equal(parus_area_check_name(PARUS_AREA_UNDECLARED), "undeclared");
    assert_string_equal(parus_area_check_name((parus_area_check)99), "unknown");
}

static void test_limit__debt_above_value_is_zero(void **state)
{
    parus_policy p;
    parus_credit_parcel c = parcel(1000000);
    parus_credit_result r;
    (void)state;
    parus_policy_init(&p);
    r = limit(&p, &c, 1, 600001); /* lendable 600000 fen */
    assert_int_equal(r.after_debt_fen, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_DEBT));
}

static void test_limit__no_value_is_a_reason(void **state)
{
    parus_policy p;
    parus_credit_parcel c = parcel(0);
    parus_credit_result r;
    (void)state;
    parus_policy_init(&p);
    c.harvest_day = PARUS_CREDIT_NO_DAY; /* a fallow parcel has no harvest: fine with no value */
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_NO_VALUE));
    assert_int_equal(r.repayment_day, PARUS_CREDIT_NO_DAY);
}

/* The weather's findings: a drought is an event (one event haircut with a flood) and says so;
 * hot days, no weather and weather beyond the calibration are reasons without a haircut (the
 * conservative yield already carries them); a parcel that does not count shows none of them. */
static void test_limit__weather_reasons(void **state)
{
    parus_policy p;
    parus_credit_parcel c = parcel(1000000); /* 10,000.00 CNY */
    parus_credit_parcel_result pr;
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p);
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 6000);
    c.drought = true;
    c.n_event_flags = 1;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.haircut_event_fen, 300000);
    assert_int_equal(r.limit_cny, 4200); /* 10,000 x 0.7 x 0.6 */
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_EVENT_FLAG) | BIT(PARUS_CREDIT_DROUGHT));
    c.n_event_flags = 2; /* and a frost: still one haircut */
    c.frost = true;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.limit_cny, 4200);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_EVENT_FLAG) | BIT(PARUS_CREDIT_DROUGHT) |
                                    BIT(PARUS_CREDIT_FROST));
    assert_parts_add_up(&p, &r);
    c = parcel(1000000);
    c.heat_stress = c.no_weather = c.beyond_calibration = true;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, &pr, &err), PARUS_OK);
    assert_int_equal(r.limit_cny, 6000);
    assert_int_equal(r.haircut_event_fen, 0);
    assert_int_equal(pr.reasons, BIT(PARUS_CREDIT_HEAT_STRESS) | BIT(PARUS_CREDIT_NO_WEATHER) |
                                     BIT(PARUS_CREDIT_BEYOND_CALIBRATION));
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_DROUGHT), "DROUGHT");
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_BEYOND_CALIBRATION),
                        "BEYOND_CALIBRATION");
    /* waterlogging alone: the event haircut and its own reason */
    c = parcel(1000000);
    c.waterlogging = true;
    c.n_event_flags = 1;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.haircut_event_fen, 300000);
    assert_int_equal(r.limit_cny, 4200);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_EVENT_FLAG) | BIT(PARUS_CREDIT_WATERLOGGING));
    assert_parts_add_up(&p, &r);
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_WATERLOGGING), "WATERLOGGING");
    c.n_clear_observations = 1; /* not counted: thin evidence only */
    c.drought = true;
    r = limit(&p, &c, 1, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_THIN_EVIDENCE));
}

/* A parcel retired from the registry is never counted, whatever value it carries, and says so:
 * a farmer whose parcels are all retired gets 0 with RETIRED, not NO_VALUE (before: a retired
 * parcel counted with no value, and the farmer's reason was NO_VALUE). */
static void test_credit__retired_parcels_are_not_counted(void **state)
{
    parus_policy p;
    parus_credit_parcel c[2];
    parus_credit_parcel_result pr[2];
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p);
    c[0] = parcel(1000000);
    c[1] = parcel(0);
    c[1].retired = true;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(r.limit_cny, 6000);
    assert_int_equal(r.n_parcels_counted, 1);
    assert_false(pr[1].counted);
    assert_int_equal(pr[1].reasons, BIT(PARUS_CREDIT_RETIRED));
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_RETIRED));
    assert_parts_add_up(&p, &r);
    /* a value given with it is not lent on, nor in the gross */
    c[1].conservative_value_fen = 500000;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(r.limit_cny, 6000);
    assert_int_equal(r.gross_value_fen, 1000000);
    assert_parts_add_up(&p, &r);
    /* every parcel retired: 0, RETIRED alone */
    c[0].retired = true;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(r.limit_cny, 0);
    assert_int_equal(r.reasons, BIT(PARUS_CREDIT_RETIRED));
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_RETIRED), "RETIRED");
}

/* Land another parcel claims: its share comes off first, with OVERLAP; held (share 1), nothing. */
static void test_limit__overlap_counts_the_land_once(void **state)
{
    parus_policy p;
    parus_credit_parcel c[2] = {parcel(1000000), parcel(1000000)};
    parus_credit_parcel_result pr[2];
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p);
    assert_int_equal(p.overlap, PARUS_OVERLAP_HOLD);
    r = limit(&p, c, 2, 0);
    assert_int_equal(r.haircut_overlap_fen, 0);
    assert_false(r.reasons & BIT(PARUS_CREDIT_OVERLAP));
    /* 10000 yuan x 2 x 0.6 = 12000 */
    assert_int_equal(r.limit_cny, 12000);

    c[0].overlap_share = 1.0; /* held */
    c[1].overlap_share = 0.25;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_OK);
    assert_int_equal(pr[0].value_fen, 0);
    assert_true(pr[0].reasons & BIT(PARUS_CREDIT_OVERLAP));
    assert_int_equal(pr[1].value_fen, 750000);
    assert_int_equal(r.haircut_overlap_fen, 1250000);
    assert_true(r.reasons & BIT(PARUS_CREDIT_OVERLAP));
    assert_int_equal(r.limit_cny, 4500);
    assert_parts_add_up(&p, &r);
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_OVERLAP), "OVERLAP");

    c[1].overlap_share = NAN;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_E_INVALID);
    c[1].overlap_share = 1.5;
    assert_int_equal(parus_credit_limit(&p, c, 2, 0, &r, pr, &err), PARUS_E_INVALID);
}

static void test_limit__refuses_bad_input(void **state)
{
    parus_policy p;
    parus_credit_parcel c = parcel(1000);
    parus_credit_result r;
    parus_error err;
    (void)state;
    parus_policy_init(&p);
    assert_int_equal(parus_credit_limit(&p, &c, 1, -1, &r, NULL, &err), PARUS_E_INVALID);
    assert_int_equal(parus_credit_limit(&p, NULL, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c.conservative_value_fen = -5;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c = parcel(1000);
    c.crop_probability = 1.5;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c = parcel(1000);
    c.crop_probability = NAN;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c = parcel(1000);
    c.health = (parus_credit_health)7;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c = parcel(1000);
    c.planted_area_m2 = NAN;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    c = parcel(1000);
    c.harvest_day = PARUS_CREDIT_NO_DAY;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "harvest"));
    /* a policy that would lend wrongly: refused before anything is computed */
    c = parcel(1000);
    p.cap_cny = 500;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "below floor_cny"));
    parus_policy_init(&p);
    p.haircut_fair_health = 0.6; /* above poor: health would not be monotone */
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_CONFIG);
    parus_policy_init(&p);
    p.min_clear_observations = -1;
    assert_int_equal(parus_credit_limit(&p, &c, 1, 0, &r, NULL, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "min_clear_observations"));
    /* sums that overflow are refused, not wrapped */
    parus_policy_init(&p);
    {
        parus_credit_parcel big[2] = {parcel(INT64_MAX), parcel(1)};
        assert_int_equal(parus_credit_limit(&p, big, 2, 0, &r, NULL, &err), PARUS_E_RANGE);
    }
}

static void test_reasons__names_and_format(void **state)
{
    char buf[256], small[8];
    size_t need;
    int k;
    (void)state;
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_THIN_EVIDENCE), "THIN_EVIDENCE");
    assert_string_equal(parus_credit_reason_name(PARUS_CREDIT_NO_PARCEL_OBSERVED),
                        "NO_PARCEL_OBSERVED");
    assert_string_equal(parus_credit_reason_name((parus_credit_reason)99), "unknown");
    assert_int_equal(PARUS_CREDIT_NO_PARCEL_OBSERVED, 0);
    assert_int_equal(PARUS_CREDIT_UNKNOWN_HEALTH, 12);
    for (k = 0; k < PARUS_CREDIT_N_REASONS; k++)
        assert_true(strlen(parus_credit_reason_text((parus_credit_reason)k)) > 10);
    assert_int_equal(parus_credit_reasons_format(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    need = parus_credit_reasons_format(BIT(PARUS_CREDIT_DEBT) | BIT(PARUS_CREDIT_CAP), buf,
                                       sizeof buf);
    assert_string_equal(buf, "DEBT;CAP");
    assert_int_equal(need, 8);
    need = parus_credit_reasons_format(BIT(PARUS_CREDIT_THIN_EVIDENCE) | BIT(PARUS_CREDIT_CAP),
                                       small, sizeof small);
    assert_int_equal(need, strlen("THIN_EVIDENCE;CAP"));
    assert_string_equal(small, "THIN_EV");
    need = parus_credit_reasons_format(0xFFFFFFFFu, NULL, 0);
    assert_true(need > 100);
}

/* ---- properties over random policies ---- */

static uint64_t rng_state = 0x853C49E6748FEA9Bu;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static double rnd_unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void random_policy(parus_policy *p)
{
    parus_policy_init(p);
    p->loan_to_value = (double)rnd_range(1, 1000000) / 1e6;
    p->floor_cny = rnd() % 4 == 0 ? 0 : rnd_range(0, 20000);
    p->cap_cny = p->floor_cny + rnd_range(0, 500000);
    p->round_down_cny = rnd() % 5 == 0 ? 1 : rnd_range(1, 5000);
    p->haircut_poor_health = rnd_unit();
    p->haircut_fair_health = p->haircut_poor_health * rnd_unit();
    p->haircut_low_confidence = rnd_unit();
    p->haircut_event = rnd_unit();
    p->haircut_area_mismatch = rnd_unit();
    p->min_confidence = rnd_unit();
    p->area_tolerance = rnd_unit() * 0.5;
    p->min_clear_observations = (int)rnd_range(0, 8);
    p->repayment_days_after_harvest = (int)rnd_range(0, 90);
}

static parus_credit_parcel random_parcel(void)
{
    parus_credit_parcel c = parcel(0);
    c.conservative_value_fen = rnd() % 8 == 0 ? 0 : rnd_range(0, 200000000);
    c.health = (parus_credit_health)rnd_range(0, 3);
    c.crop_probability = rnd_unit();
    c.calendar_fallback = rnd() % 5 == 0;
    c.n_event_flags = (size_t)(rnd() % 4 == 0 ? rnd_range(1, 3) : 0);
    c.declared_area_m2 = rnd() % 6 == 0 ? (double)NAN : (double)rnd_range(100, 20000);
    c.planted_area_m2 = (double)rnd_range(0, 25000) + rnd_unit();
    c.n_clear_observations = (size_t)rnd_range(0, 20);
    c.harvest_day = rnd_range(19800, 20200);
    return c;
}

static void test_properties__random_policies(void **state)
{
    enum { N_CASES = 20000, MAX_PARCELS = 6 };
    int i;
    size_t n_positive = 0, n_capped = 0, n_floored = 0;
    (void)state;
    for (i = 0; i < N_CASES; i++) {
        parus_policy p;
        parus_credit_parcel c[MAX_PARCELS], d[MAX_PARCELS];
        parus_credit_result r, r2;
        size_t n = (size_t)rnd_range(0, MAX_PARCELS), k, j;
        int64_t debt = rnd() % 3 == 0 ? rnd_range(0, 50000000) : 0;
        random_policy(&p);
        for (k = 0; k < n; k++)
            c[k] = random_parcel();
        r = limit(&p, c, n, debt);
        assert_parts_add_up(&p, &r);
        n_positive += r.limit_cny > 0;
        n_capped += (r.reasons & BIT(PARUS_CREDIT_CAP)) != 0;
        n_floored += (r.reasons & BIT(PARUS_CREDIT_FLOOR)) != 0;
        if (r.limit_cny > 0)
            assert_true(r.repayment_day != PARUS_CREDIT_NO_DAY);

        /* the order of the parcels does not matter */
        for (k = 0; k < n; k++)
            d[k] = c[n - 1 - k];
        r2 = limit(&p, d, n, debt);
        assert_same_result(&r, &r2);

        /* more debt: never more */
        r2 = limit(&p, c, n, debt + rnd_range(0, 5000000));
        assert_true(r2.limit_cny <= r.limit_cny);
        if (n == 0)
            continue;
        j = (size_t)rnd_range(0, (int64_t)n - 1);

        /* more value on one parcel: never less */
        memcpy(d, c, sizeof c[0] * n);
        d[j].conservative_value_fen += rnd_range(0, 100000000);
        r2 = limit(&p, d, n, debt);
        assert_true(r2.limit_cny >= r.limit_cny);

        /* better health on one parcel: never less (POOR -> FAIR/UNKNOWN -> GOOD) */
        memcpy(d, c, sizeof c[0] * n);
        d[j].health = PARUS_CREDIT_HEALTH_POOR;
        r = limit(&p, d, n, debt);
        d[j].health = PARUS_CREDIT_HEALTH_FAIR;
        r2 = limit(&p, d, n, debt);
        assert_true(r2.limit_cny >= r.limit_cny);
        d[j].health = PARUS_CREDIT_HEALTH_UNKNOWN;
        assert_int_equal(limit(&p, d, n, debt).limit_cny, r2.limit_cny);
        d[j].health = PARUS_CREDIT_HEALTH_GOOD;
        r = limit(&p, d, n, debt);
        assert_true(r.limit_cny >= r2.limit_cny);

        /* removing a finding (an event flag, a low probability) never lowers the limit */
        r2 = r;
        d[j].n_event_flags = 0;
        d[j].crop_probability = 1.0;
        d[j].calendar_fallback = false;
        r = limit(&p, d, n, debt);
        assert_true(r.limit_cny >= r2.limit_cny);
    }
    /* the random policies reach every branch */
    assert_true(n_positive > N_CASES / 10);
    assert_true(n_capped > 100);
    assert_true(n_floored > 100);
}

/* ---- debts file ---- */

static parus_status load_debts(const char *text, const char *const *known, size_t n_known,
                               parus_debts *d, parus_error *err)
{
    char *dir = parus_test_tmpdir("debts");
    char *path = parus_test_path(dir, "debts.csv");
    parus_status rc;
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    rc = parus_debts_load(path, known, n_known, d, err);
    if (rc != PARUS_OK)
        assert_non_null(strstr(err->msg, path));
    free(path);
    parus_test_rmtree(dir);
    free(dir);
    return rc;
}

static void test_cny_parse__exact(void **state)
{
    static const struct {
        const char *text;
        bool ok;
        int64_t fen;
    } cases[] = {
        {"1200", true, 120000},
        {"1200.5", true, 120050},
        {"1200.10", true, 120010},
        {"0.1", true, 10},
        {"0.05", true, 5},
        {" 7 ", true, 700},
        {"0", true, 0},
        {"007.00", true, 700},
        {"92233720368547757.99", true, INT64_MAX - 8},
        {"92233720368547758", false, 0},
        {"-5", false, 0},
        {"+5", false, 0},
        {"1e3", false, 0},
        {"12.345", false, 0},
        {"1,200", false, 0},
        {"12.", false, 0},
        {".5", false, 0},
        {"", false, 0},
        {"abc", false, 0},
        {"12 34", false, 0},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t fen = -1;
        bool ok = parus_cny_parse_fen(cases[i].text, &fen);
        if (ok != cases[i].ok)
            fail_msg("'%s': %d", cases[i].text, ok);
        if (ok)
            assert_int_equal(fen, cases[i].fen);
        else
            assert_int_equal(fen, -1);
    }
}

static void test_debts__load_and_find(void **state)
{
    static const char *const known[] = {"F1", "张三", "Li, Si", "F4", "F5"};
    parus_debts d = {0};
    parus_error err;
    (void)state;
    assert_int_equal(load_debts("\xEF\xBB\xBF"
                                "farmer_id,note,debt_cny\r\n"
                                "F1,,1200\r\n"
                                "\r\n"
                                "张三,\"two\nlines\",1200.5\r\n"
                                "\"Li, Si\",,0.05\r\n"
                                " F4 ,, 0 \r\n",
                                known, 5, &d, &err),
                     PARUS_OK);
    assert_int_equal(d.n, 4);
    assert_int_equal(parus_debts_find(&d, "F1"), 120000);
    assert_int_equal(parus_debts_find(&d, "张三"), 120050);
    assert_int_equal(parus_debts_find(&d, "Li, Si"), 5);
    assert_int_equal(parus_debts_find(&d, "F4"), 0);
    assert_int_equal(parus_debts_find(&d, "F5"), 0);
    assert_int_equal(parus_debts_find(&d, "nobody"), 0);
    parus_debts_release(&d);
    parus_debts_release(&d);
    parus_debts_release(NULL);
    assert_int_equal(parus_debts_find(NULL, "F1"), 0);

    /* header only: no debts; no known set: no check */
    assert_int_equal(load_debts("farmer_id,debt_cny\n", NULL, 0, &d, &err), PARUS_OK);
    assert_int_equal(d.n, 0);
    parus_debts_release(&d);
    assert_int_equal(load_debts("farmer_id,debt_cny\nX,1\n", NULL, 0, &d, &err), PARUS_OK);
    assert_int_equal(parus_debts_find(&d, "X"), 100);
    parus_debts_release(&d);
    /* the blanks no one sees around an id (ideographic, no-break, zero-width space), as the
       parcels' reader drops them: the farmer F1, not a farmer nobody has */
    assert_int_equal(load_debts("farmer_id,debt_cny\nF1\xE3\x80\x80,7\n\xC2\xA0"
                                "F4\xE2\x80\x8B,8\n",
                                known, 5, &d, &err),
                     PARUS_OK);
    assert_int_equal(parus_debts_find(&d, "F1"), 700);
    assert_int_equal(parus_debts_find(&d, "F4"), 800);
    parus_debts_release(&d);
}

static void test_debts__refuses_bad_rows(void **state)
{
    static const char *const known[] = {"F1", "F2", "F3"};
    static const struct {
        const char *text;
        const char *needles[2];
    } cases[] = {
        {"farmer_id,debt_cny\nF1,100\nF2,5\nF1,100\n",
         {"line 4: duplicate farmer 'F1'", "first on line 2"}},
        {"farmer_id,debt_cny\nF1,100\nF9,5\n", {"line 3: unknown farmer 'F9'", NULL}},
        {"farmer_id,debt_cny\nF1,-100\n", {"line 2 column 'debt_cny'", "negative"}},
        {"farmer_id,debt_cny\nF1,1e3\n", {"line 2 column 'debt_cny'", "'1e3'"}},
        {"farmer_id,debt_cny\nF1,12.345\n", {"'12.345' is not an amount", NULL}},
        {"farmer_id,debt_cny\nF1,\n", {"line 2 column 'debt_cny'", NULL}},
        {"farmer_id,debt_cny\nF1,1,200\n", {"line 2: 3 cells where the header has 2", NULL}},
        {"farmer_id,debt_cny\n,100\n", {"line 2 column 'farmer_id': empty", NULL}},
        {"farmer_id,debt_cny\n\xD5\xC5\xC8\xFD,100\n", {"not UTF-8", NULL}},
        /* one farmer in another spelling: decomposed (NFD) e-acute, full-width F1, an invisible
           mark inside the id */
        {"farmer_id,debt_cny\nF1,1\nFe\xCC\x81,100\n", {"line 3", "U+0301, a combining mark"}},
        {"farmer_id,debt_cny\n\xEF\xBC\xA6\xEF\xBC\x91,100\n", {"U+FF26", "full-width"}},
        {"farmer_id,debt_cny\nF\xE2\x80\x8B"
         "1,100\n",
         {"U+200B", "invisible"}},
        {"farmer,debt_cny\nF1,100\n", {"line 1: missing column 'farmer_id'", NULL}},
        {"farmer_id,debt\nF1,100\n", {"line 1: missing column 'debt_cny'", NULL}},
        {"farmer_id,debt_cny,debt_cny\nF1,0,2000\n", {"line 1: column 'debt_cny' twice", NULL}},
        {"farmer_id,farmer_id,debt_cny\nF1,F2,100\n", {"line 1: column 'farmer_id' twice", NULL}},
        {"", {"missing column 'farmer_id'", NULL}},
        /* physical lines: a quoted amount over two lines counts two */
        {"farmer_id,debt_cny\nF1,\"5\n\"\nF2,x\n", {"line 4 column 'debt_cny'", NULL}},
        /* a line break inside an id is no farmer's */
        {"farmer_id,debt_cny\n\"F\n1\",5\n", {"line 2 column 'farmer_id'", "U+000A"}},
        /* cut short: 15000 read as 150 before */
        {"farmer_id,debt_cny\nF1,100\nF2,150", {"line 3: the last line has no line end", NULL}},
    };
    size_t i, j;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_debts d = {0};
        parus_error err;
        parus_status rc = load_debts(cases[i].text, known, 3, &d, &err);
        if (rc != PARUS_E_CONFIG)
            fail_msg("case %zu: status %d, message '%s'", i, (int)rc, err.msg);
        for (j = 0; j < 2 && cases[i].needles[j]; j++)
            if (!strstr(err.msg, cases[i].needles[j]))
                fail_msg("case %zu: '%s' not in '%s'", i, cases[i].needles[j], err.msg);
        assert_null(d.items);
    }
}

/* A line longer than any reader keeps is an error naming it, never a silent end of the file: on
 * the old code (GDAL's tokenizer, 1 MiB a line) a long line dropped that debt and every one after
 * it, and the load succeeded with the debts before it. */
static void test_debts__over_long_line_is_an_error(void **state)
{
    size_t n = (1u << 20) + 4096, k = 0, id_len = (1u << 20) + 100;
    char *text = malloc(n + 64);
    parus_debts d = {0};
    parus_error err;
    (void)state;
    assert_non_null(text);
    k += (size_t)snprintf(text, 64, "farmer_id,debt_cny\nF1,100\n");
    memset(text + k, 'X', id_len);
    k += id_len;
    k += (size_t)snprintf(text + k, 64, ",5\nF2,200\n");
    assert_int_equal(load_debts(text, NULL, 0, &d, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "longer than"));
    assert_null(d.items);
    /* a quote left open swallows the rest of the file: refused at its line */
    assert_int_equal(
        load_debts("farmer_id,debt_cny\nF1,100\n\"F2,200\nF3,300\n", NULL, 0, &d, &err),
        PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 3"));
    free(text);
}

static void test_debts__unreadable_file(void **state)
{
    parus_debts d = {0};
    parus_error err;
    (void)state;
    assert_int_equal(parus_debts_load("/nonexistent/debts.csv", NULL, 0, &d, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, "'/nonexistent/debts.csv'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit__hand_case),
        cmocka_unit_test(test_limit__thin_evidence_is_not_counted),
        cmocka_unit_test(test_limit__nothing_observed_is_zero),
        cmocka_unit_test(test_limit__cap_floor_and_rounding),
        cmocka_unit_test(test_limit__confidence_fallback_and_unknown_health),
        cmocka_unit_test(test_limit__area_mismatch_is_exact),
        cmocka_unit_test(test_limit__rules_at_their_edges),
        cmocka_unit_test(test_limit__area_mismatch_judges_the_interval),
        cmocka_unit_test(test_area__compare_exact_and_named),
        cmocka_unit_test(test_limit__debt_above_value_is_zero),
        cmocka_unit_test(test_limit__no_value_is_a_reason),
        cmocka_unit_test(test_limit__weather_reasons),
        cmocka_unit_test(test_credit__retired_parcels_are_not_counted),
        cmocka_unit_test(test_limit__overlap_counts_the_land_once),
        cmocka_unit_test(test_limit__refuses_bad_input),
        cmocka_unit_test(test_reasons__names_and_format),
        cmocka_unit_test(test_properties__random_policies),
        cmocka_unit_test(test_cny_parse__exact),
        cmocka_unit_test(test_debts__load_and_find),
        cmocka_unit_test(test_debts__refuses_bad_rows),
        cmocka_unit_test(test_debts__unreadable_file),
        cmocka_unit_test(test_debts__over_long_line_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * credit.c - a farmer's credit limit from the evidence of their parcels (the rule is in
 * parus/credit.h, the reasoning in docs/method.md, "Credit"), and the debts file.
 *
 * Everything after the policy's ratios is integer arithmetic on fen: the ratios become whole parts
 * per million once, each multiply-and-divide is an exact floor through a 128-bit product
 * (money_int.h), and every sum is checked. The only doubles compared are the classifier's
 * probability against the policy's minimum (an exact comparison). The result therefore does not
 * depend on the machine, the compiler's floating-point contraction or the order of the parcels.
 *
 * Amounts are parsed from their digits (parus_cny_parse_fen), never through strtod, so "1200.10"
 * is exactly 120010 fen. The debts file is read in debts.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/area.h"
#include "parus/credit.h"
#include "money_int.h"
#include "util_int.h"

#define PPM 1000000

const char *parus_credit_reason_name(parus_credit_reason reason)
{
    switch (reason) {
#define PARUS_CREDIT_REASON_NAME_(name, bit, text)                                                 \
    case PARUS_CREDIT_##name:                                                                      \
        return #name;
        PARUS_CREDIT_REASON_MAP(PARUS_CREDIT_REASON_NAME_)
#undef PARUS_CREDIT_REASON_NAME_
    case PARUS_CREDIT_N_REASONS:
        break;
    }
    return "unknown";
}

const char *parus_credit_reason_text(parus_credit_reason reason)
{
    switch (reason) {
#define PARUS_CREDIT_REASON_TEXT_(name, bit, text)                                                 \
    case PARUS_CREDIT_##name:                                                                      \
        return text;
        PARUS_CREDIT_REASON_MAP(PARUS_CREDIT_REASON_TEXT_)
#undef PARUS_CREDIT_REASON_TEXT_
    case PARUS_CREDIT_N_REASONS:
        break;
    }
    return "unknown";
}

size_t parus_credit_reasons_format(uint32_t mask, char *buf, size_t cap)
{
    size_t need = 0;
    int r;
    if (buf && cap > 0)
        buf[0] = '\0';
    for (r = 0; r < PARUS_CREDIT_N_REASONS; r++) {
        const char *name;
        size_t len;
        if (!(mask & PARUS_CREDIT_BIT(r)))
            continue;
        name = parus_credit_reason_name((parus_credit_reason)r);
        len = strlen(name);
        if (need > 0) {
            if (buf && need + 1 < cap) {
                buf[need] = ';';
                buf[need + 1] = '\0';
            }
            need++;
        }
        if (buf && need < cap) {
            size_t k = len < cap - need - 1 ? len : cap - need - 1;
            memcpy(buf + need, name, k);
            buf[need + k] = '\0';
        }
        need += len;
    }
    return need;
}

/* The policy's ratios in ppm. */
struct terms {
    int64_t ltv, poor, fair, low_conf, event, area;
};

static parus_status policy_terms(const parus_policy *p, struct terms *t, parus_error *err)
{
    parus_status rc = parus_policy_validate(p, err);
    if (rc != PARUS_OK)
        return rc;
    /* rounded in the lender's favour beyond six decimals: less lent, more cut, fewer spared */
    if (!parus__ratio_ppm_down(p->loan_to_value, &t->ltv) ||
        !parus__ratio_ppm_up(p->haircut_poor_health, &t->poor) ||
        !parus__ratio_ppm_up(p->haircut_fair_health, &t->fair) ||
        !parus__ratio_ppm_up(p->haircut_low_confidence, &t->low_conf) ||
        !parus__ratio_ppm_up(p->haircut_event, &t->event) ||
        !parus__ratio_ppm_up(p->haircut_area_mismatch, &t->area))
        return parus_fail(err, PARUS_E_CONFIG, "policy ratio outside [0, 1]");
    return PARUS_OK;
}

/* v <- floor(v x (1e6 - h) / 1e6); the amount removed is added to *total. */
static parus_status haircut(int64_t *v, int64_t h_ppm, int64_t *total, parus_error *err)
{
    int64_t kept;
    if (!parus__mul_div_floor(*v, PPM - h_ppm, PPM, &kept, NULL) ||
        !parus__add_i64(*total, *v - kept, total))
        return parus_fail(err, PARUS_E_RANGE, "credit: haircut total above 2^63 fen");
    *v = kept;
    return PARUS_OK;
}

static parus_status check_parcel(const parus_credit_parcel *c, size_t i, parus_error *err)
{
    if (c->conservative_value_fen < 0)
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: parcel %zu has a negative value (%lld fen)", i,
                          (long long)c->conservative_value_fen);
    if ((int)c->health < PARUS_CREDIT_HEALTH_GOOD || (int)c->health > PARUS_CREDIT_HEALTH_UNKNOWN)
        return parus_fail(err, PARUS_E_INVALID, "credit: parcel %zu has an unknown health class %d",
                          i, (int)c->health);
    if (!(c->crop_probability >= 0.0 && c->crop_probability <= 1.0))
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: parcel %zu crop probability %g is outside [0, 1]", i,
                          c->crop_probability);
    if (!(c->overlap_share >= 0.0 && c->overlap_share <= 1.0))
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: parcel %zu overlap share %g is outside [0, 1]", i,
                          c->overlap_share);
    if (!(c->planted_area_m2 >= 0.0) || !isfinite(c->planted_area_m2))
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: parcel %zu planted area %g m2 is not a number >= 0", i,
                          c->planted_area_m2);
    if (!(c->planted_area_margin_down_m2 >= 0.0) ||
        !(c->planted_area_margin_down_m2 <= c->planted_area_m2) ||
        !(c->planted_area_margin_up_m2 >= 0.0) || !isfinite(c->planted_area_margin_up_m2))
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: parcel %zu planted area margins -%g/+%g m2 are not numbers in "
                          "[0, planted area] and >= 0",
                          i, c->planted_area_margin_down_m2, c->planted_area_margin_up_m2);
    return PARUS_OK;
}

parus_status parus_credit_limit(const parus_policy *policy, const parus_credit_parcel *parcels,
                                size_t n_parcels, int64_t debt_fen, parus_credit_result *out,
                                parus_credit_parcel_result *per_parcel, parus_error *err)
{
    parus_credit_result r;
    struct terms t = {0, 0, 0, 0, 0, 0};
    parus_status rc;
    size_t i, n_observed = 0;
    int64_t latest_harvest = PARUS_CREDIT_NO_DAY, capped, rounded;
    bool has_value_without_day = false;

    if (!policy || !out || (n_parcels > 0 && !parcels))
        return parus_fail(err, PARUS_E_INVALID, "credit: NULL argument");
    if (debt_fen < 0)
        return parus_fail(err, PARUS_E_INVALID, "credit: negative debt (%lld fen)",
                          (long long)debt_fen);
    if ((rc = policy_terms(policy, &t, err)) != PARUS_OK)
        return rc;
    for (i = 0; i < n_parcels; i++)
        if ((rc = check_parcel(&parcels[i], i, err)) != PARUS_OK)
            return rc;

    memset(&r, 0, sizeof r);
    r.n_parcels = n_parcels;
    r.loan_to_value_ppm = t.ltv;
    r.debt_fen = debt_fen;
    r.repayment_day = PARUS_CREDIT_NO_DAY;

    for (i = 0; i < n_parcels; i++) {
        const parus_credit_parcel *c = &parcels[i];
        parus_credit_parcel_result pr = {false, 0, 0};
        int64_t v = c->conservative_value_fen;

        if (c->n_clear_observations > 0)
            n_observed++;
        if (c->retired) {
            /* the bank no longer lends on it, whatever it shows: not even in the gross value */
            pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_RETIRED);
            r.reasons |= pr.reasons;
            if (per_parcel)
                per_parcel[i] = pr;
            continue;
        }
        if (!parus__add_i64(r.gross_value_fen, v, &r.gross_value_fen))
            return parus_fail(err, PARUS_E_RANGE, "credit: gross value above 2^63 fen");
        if (c->n_clear_observations == 0 ||
            c->n_clear_observations < (size_t)policy->min_clear_observations) {
            pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_THIN_EVIDENCE);
            if (!parus__add_i64(r.thin_evidence_fen, v, &r.thin_evidence_fen))
                return parus_fail(err, PARUS_E_RANGE, "credit: value above 2^63 fen");
        } else {
            pr.counted = true;
            r.n_parcels_counted++;
            rc = PARUS_OK;
            if (c->overlap_share > 0.0) {
                /* land pledged twice counts once: the share of it this parcel may not lend on */
                int64_t h_ppm;
                if (!parus__ratio_ppm_up(c->overlap_share, &h_ppm))
                    return parus_fail(err, PARUS_E_INVALID, "credit: bad overlap share");
                if ((rc = haircut(&v, h_ppm, &r.haircut_overlap_fen, err)) != PARUS_OK)
                    return rc;
            }
            if (c->health == PARUS_CREDIT_HEALTH_POOR) {
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_POOR_HEALTH);
                rc = haircut(&v, t.poor, &r.haircut_poor_health_fen, err);
            } else if (c->health == PARUS_CREDIT_HEALTH_FAIR ||
                       c->health == PARUS_CREDIT_HEALTH_UNKNOWN) {
                pr.reasons |= PARUS_CREDIT_BIT(c->health == PARUS_CREDIT_HEALTH_FAIR
                                                   ? PARUS_CREDIT_FAIR_HEALTH
                                                   : PARUS_CREDIT_UNKNOWN_HEALTH);
                rc = haircut(&v, t.fair, &r.haircut_fair_health_fen, err);
            }
            if (rc != PARUS_OK)
                return rc;
            if (c->crop_probability < policy->min_confidence || c->calendar_fallback) {
                if (c->crop_probability < policy->min_confidence)
                    pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_LOW_CONFIDENCE);
                if (c->calendar_fallback)
                    pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_CALENDAR_FALLBACK);
                if ((rc = haircut(&v, t.low_conf, &r.haircut_low_confidence_fen, err)) != PARUS_OK)
                    return rc;
            }
            if (c->drought)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_DROUGHT);
            if (c->frost)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_FROST);
            if (c->waterlogging)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_WATERLOGGING);
            if (c->heat_stress)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_HEAT_STRESS);
            if (c->no_weather)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_NO_WEATHER);
            if (c->beyond_calibration)
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_BEYOND_CALIBRATION);
            if (c->n_event_flags > 0) {
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_EVENT_FLAG);
                if ((rc = haircut(&v, t.event, &r.haircut_event_fen, err)) != PARUS_OK)
                    return rc;
            }
            if (parus_area_is_mismatch(
                    parus_area_compare_interval(c->planted_area_m2 - c->planted_area_margin_down_m2,
                                                c->planted_area_m2 + c->planted_area_margin_up_m2,
                                                c->declared_area_m2, policy->area_tolerance))) {
                pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_AREA_MISMATCH);
                if ((rc = haircut(&v, t.area, &r.haircut_area_mismatch_fen, err)) != PARUS_OK)
                    return rc;
            }
            pr.value_fen = v;
            if (!parus__add_i64(r.net_value_fen, v, &r.net_value_fen))
                return parus_fail(err, PARUS_E_RANGE, "credit: net value above 2^63 fen");
            if (v > 0) {
                if (c->harvest_day == PARUS_CREDIT_NO_DAY)
                    has_value_without_day = true;
                else if (c->harvest_day > latest_harvest)
                    latest_harvest = c->harvest_day;
            }
        }
        if (c->overlap_share > 0.0) /* shown whether or not the parcel counted */
            pr.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_OVERLAP);
        r.reasons |= pr.reasons;
        if (per_parcel)
            per_parcel[i] = pr;
    }
    if (has_value_without_day)
        return parus_fail(err, PARUS_E_INVALID,
                          "credit: a parcel with value has no harvest day: no repayment date");
    if (latest_harvest != PARUS_CREDIT_NO_DAY &&
        !parus__add_i64(latest_harvest, policy->repayment_days_after_harvest, &r.repayment_day))
        return parus_fail(err, PARUS_E_RANGE, "credit: repayment day out of range");

    if (n_observed == 0) {
        /* nothing seen: no limit, whatever the policy's minimum of observations */
        r.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_NO_PARCEL_OBSERVED);
    } else if (r.n_parcels_counted > 0 && r.net_value_fen == 0) {
        r.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_NO_VALUE);
    }

    if (!parus__mul_div_floor(r.net_value_fen, t.ltv, PPM, &r.lendable_fen, NULL))
        return parus_fail(err, PARUS_E_RANGE, "credit: lendable value above 2^63 fen");
    if (debt_fen > 0)
        r.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_DEBT);
    r.after_debt_fen = r.lendable_fen > debt_fen ? r.lendable_fen - debt_fen : 0;
    r.before_cap_cny = r.after_debt_fen / 100;
    capped = r.before_cap_cny;
    if (capped > policy->cap_cny) {
        capped = policy->cap_cny;
        r.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_CAP);
    }
    r.cap_removed_cny = r.before_cap_cny - capped;
    rounded = capped - capped % policy->round_down_cny;
    r.rounding_removed_cny = capped - rounded;
    r.limit_cny = rounded;
    if (rounded < policy->floor_cny) {
        r.floor_removed_cny = rounded;
        r.limit_cny = 0;
    }
    if (capped > 0 && r.limit_cny == 0)
        r.reasons |= PARUS_CREDIT_BIT(PARUS_CREDIT_FLOOR);

    *out = r;
    return PARUS_OK;
}

/* ---- amounts ---- */

bool parus_cny_parse_fen(const char *text, int64_t *fen)
{
    const char *s = text;
    int64_t yuan = 0, cents = 0;
    size_t n_int = 0, n_dec = 0;
    if (!s || !fen)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s >= '0' && *s <= '9'; s++, n_int++) {
        /* yuan x 100 + 99 must fit */
        if (yuan > ((INT64_MAX - 99) / 100 - (*s - '0')) / 10)
            return false;
        yuan = yuan * 10 + (*s - '0');
    }
    if (n_int == 0)
        return false;
    if (*s == '.') {
        s++;
        for (; *s >= '0' && *s <= '9'; s++, n_dec++) {
            if (n_dec >= 2)
                return false;
            cents = cents * 10 + (*s - '0');
        }
        if (n_dec == 0)
            return false;
        if (n_dec == 1)
            cents *= 10;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0')
        return false;
    *fen = yuan * 100 + cents;
    return true;
}

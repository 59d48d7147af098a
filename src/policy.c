/*
 * policy.c - the credit policy file (INI, read with inih) and its validation.
 *
 * A policy decides how much money is lent, so the reader is strict: every key is known, every
 * value parses completely, and the whole policy is checked for consistency (a cap below the floor,
 * a loan-to-value above 1) before anyone uses it. Money is whole yuan in int64_t.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "parus/policy.h"
#include "util_int.h"

void parus_policy_init(parus_policy *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->currency, sizeof p->currency, "CNY");
    p->loan_to_value = 0.6;
    p->cap_cny = 300000;
    p->floor_cny = 1000;
    p->round_down_cny = 100;
    p->haircut_poor_health = 0.5;
    p->haircut_fair_health = 0.2;
    p->haircut_low_confidence = 0.3;
    p->min_confidence = 0.6;
    p->haircut_event = 0.3;
    p->haircut_area_mismatch = 0.2;
    p->area_tolerance = 0.1;
    p->min_clear_observations = 4;
    p->repayment_days_after_harvest = 30;
}

enum field_kind { F_RATIO, F_MONEY, F_COUNT, F_CURRENCY, F_OVERLAP };

struct field_def {
    const char *section;
    const char *name;
    enum field_kind kind;
    size_t offset;
};

#define FIELD(sec, key, kind, member)                                                              \
    {                                                                                              \
        sec, key, kind, offsetof(parus_policy, member)                                             \
    }

static const struct field_def fields[] = {
    FIELD("credit", "currency", F_CURRENCY, currency),
    FIELD("credit", "loan_to_value", F_RATIO, loan_to_value),
    FIELD("credit", "cap_cny", F_MONEY, cap_cny),
    FIELD("credit", "floor_cny", F_MONEY, floor_cny),
    FIELD("credit", "round_down_cny", F_MONEY, round_down_cny),
    FIELD("haircuts", "poor_health", F_RATIO, haircut_poor_health),
    FIELD("haircuts", "fair_health", F_RATIO, haircut_fair_health),
    FIELD("haircuts", "low_confidence", F_RATIO, haircut_low_confidence),
    FIELD("haircuts", "event", F_RATIO, haircut_event),
    FIELD("haircuts", "area_mismatch", F_RATIO, haircut_area_mismatch),
    FIELD("evidence", "min_confidence", F_RATIO, min_confidence),
    FIELD("evidence", "area_tolerance", F_RATIO, area_tolerance),
    FIELD("evidence", "min_clear_observations", F_COUNT, min_clear_observations),
    FIELD("repayment", "days_after_harvest", F_COUNT, repayment_days_after_harvest),
    /* optional (the last): its default lends the least, so leaving it out cannot lend more */
    FIELD("evidence", "overlap", F_OVERLAP, overlap),
};

#define N_REQUIRED_FIELDS (sizeof fields / sizeof fields[0] - 1)

const char *parus_overlap_rule_name(parus_overlap_rule rule)
{
    switch (rule) {
    case PARUS_OVERLAP_HOLD:
        return "hold";
    case PARUS_OVERLAP_FIRST:
        return "first";
    case PARUS_OVERLAP_SPLIT:
        return "split";
    }
    return "unknown";
}

_Static_assert(sizeof fields / sizeof fields[0] <= 32, "the seen mask holds one bit per field");

struct load_ctx {
    parus_policy policy;
    parus_error detail;
    int failed;
    unsigned seen; /* bit i: fields[i] was given (a key given twice is refused, not overridden) */
};

static int parse_field(struct load_ctx *ctx, const struct field_def *f, const char *value)
{
    char *p = (char *)&ctx->policy + f->offset;
    char *end;

    errno = 0;
    switch (f->kind) {
    case F_RATIO: {
        double v;
        if (!parus__parse_decimal(value, &v))
            break;
        memcpy(p, &v, sizeof v);
        return 1;
    }
    case F_MONEY: {
        long long v = strtoll(value, &end, 10);
        int64_t v64 = (int64_t)v;
        if (errno || end == value || *end)
            break;
        memcpy(p, &v64, sizeof v64);
        return 1;
    }
    case F_COUNT: {
        long v = strtol(value, &end, 10);
        int vi;
        if (errno || end == value || *end || v < 0 || v > 100000)
            break;
        vi = (int)v;
        memcpy(p, &vi, sizeof vi);
        return 1;
    }
    case F_OVERLAP: {
        parus_overlap_rule r;
        for (r = PARUS_OVERLAP_HOLD; r <= PARUS_OVERLAP_SPLIT; r++) {
            if (strcmp(value, parus_overlap_rule_name(r)) == 0) {
                ctx->policy.overlap = r;
                return 1;
            }
        }
        parus_fail(&ctx->detail, PARUS_E_CONFIG,
                   "bad value '%s' for [%s] %s (expected hold, first or split)", value, f->section,
                   f->name);
        return 0;
    }
    case F_CURRENCY:
        /* every amount parus computes with is in yuan: the crop table's price_cny_per_kg, the
         * debts' debt_cny, this policy's _cny terms; another code would only relabel them */
        if (strcmp(value, "CNY") != 0) {
            parus_fail(&ctx->detail, PARUS_E_CONFIG,
                       "bad value '%s' for [%s] %s: parus computes in yuan (the crop table's "
                       "price_cny_per_kg, the debts' debt_cny, this policy's _cny terms), so the "
                       "only currency it can state is CNY",
                       value, f->section, f->name);
            return 0;
        }
        snprintf(ctx->policy.currency, sizeof ctx->policy.currency, "%s", value);
        return 1;
    }
    parus_fail(&ctx->detail, PARUS_E_CONFIG, "bad value '%s' for [%s] %s", value, f->section,
               f->name);
    return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    size_t i;

    if (ctx->failed)
        return 1;
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(fields[i].section, section) == 0 && strcmp(fields[i].name, name) == 0) {
            if (ctx->seen & (1u << i)) {
                ctx->failed = 1;
                parus_fail(&ctx->detail, PARUS_E_CONFIG,
                           "duplicate key '%s' in section [%s]: which value to lend by is not "
                           "clear",
                           name, section);
                return 0;
            }
            ctx->seen |= 1u << i;
            if (!parse_field(ctx, &fields[i], value)) {
                ctx->failed = 1;
                return 0;
            }
            return 1;
        }
    }
    ctx->failed = 1;
    parus_fail(&ctx->detail, PARUS_E_CONFIG, "unknown key '%s' in section [%s]", name, section);
    return 0;
}

static parus_status check_ratio(double v, const char *name, parus_error *err)
{
    if (!(v >= 0.0 && v <= 1.0))
        return parus_fail(err, PARUS_E_CONFIG, "%s is %g, outside [0, 1]", name, v);
    return PARUS_OK;
}

parus_status parus_policy_validate(const parus_policy *p, parus_error *err)
{
    parus_status rc;

    /* kept in millionths (the limits' loan_to_value_ppm): below one it would lend nothing */
    if (!(p->loan_to_value >= 1e-6 && p->loan_to_value <= 1.0))
        return parus_fail(err, PARUS_E_CONFIG,
                          "loan_to_value is %.10g, outside [0.000001, 1] (a share kept in "
                          "millionths)",
                          p->loan_to_value);
    if (p->cap_cny < 0 || p->floor_cny < 0)
        return parus_fail(err, PARUS_E_CONFIG, "cap_cny and floor_cny must not be negative");
    if (p->cap_cny < p->floor_cny)
        return parus_fail(err, PARUS_E_CONFIG, "cap_cny (%lld) is below floor_cny (%lld)",
                          (long long)p->cap_cny, (long long)p->floor_cny);
    if (p->min_clear_observations < 0 || p->repayment_days_after_harvest < 0)
        return parus_fail(err, PARUS_E_CONFIG,
                          "evidence.min_clear_observations (%d) and repayment.days_after_harvest "
                          "(%d) must not be negative",
                          p->min_clear_observations, p->repayment_days_after_harvest);
    /* the repayment date is a calendar date: ten years after a harvest is no crop loan's */
    if (p->repayment_days_after_harvest > 3660)
        return parus_fail(err, PARUS_E_CONFIG,
                          "repayment.days_after_harvest is %d, above 3660 (ten years): a crop "
                          "loan is repaid from its harvest",
                          p->repayment_days_after_harvest);
    if (p->round_down_cny <= 0)
        return parus_fail(err, PARUS_E_CONFIG, "round_down_cny must be positive, not %lld",
                          (long long)p->round_down_cny);
    if ((rc = check_ratio(p->haircut_poor_health, "haircuts.poor_health", err)) ||
        (rc = check_ratio(p->haircut_fair_health, "haircuts.fair_health", err)) ||
        (rc = check_ratio(p->haircut_low_confidence, "haircuts.low_confidence", err)) ||
        (rc = check_ratio(p->haircut_event, "haircuts.event", err)) ||
        (rc = check_ratio(p->haircut_area_mismatch, "haircuts.area_mismatch", err)) ||
        (rc = check_ratio(p->min_confidence, "evidence.min_confidence", err)) ||
        (rc = check_ratio(p->area_tolerance, "evidence.area_tolerance", err)))
        return rc;
    if (p->overlap != PARUS_OVERLAP_HOLD && p->overlap != PARUS_OVERLAP_FIRST &&
        p->overlap != PARUS_OVERLAP_SPLIT)
        return parus_fail(err, PARUS_E_CONFIG, "evidence.overlap is not hold, first or split");
    if (p->haircut_fair_health > p->haircut_poor_health)
        return parus_fail(err, PARUS_E_CONFIG,
                          "haircuts.fair_health (%g) is larger than haircuts.poor_health (%g)",
                          p->haircut_fair_health, p->haircut_poor_health);
    return PARUS_OK;
}

parus_status parus_policy_load(const char *path, parus_policy *out, parus_error *err)
{
    struct load_ctx ctx;
    char *text;
    int line;
    parus_status rc;

    memset(&ctx, 0, sizeof ctx);
    parus_policy_init(&ctx.policy);
    parus_error_init(&ctx.detail);
    if ((rc = parus__read_ini_text(path, "policy", &text, err)) != PARUS_OK)
        return rc;
    line = ini_parse_string(text, on_entry, &ctx);
    free(text);
    if (line != 0 || ctx.failed) {
        if (ctx.detail.code != PARUS_OK)
            return parus_fail(err, PARUS_E_CONFIG, "'%s' line %d: %s", path, line, ctx.detail.msg);
        return parus_fail(err, PARUS_E_CONFIG, "'%s' line %d: syntax error", path, line);
    }
    rc = parus_policy_validate(&ctx.policy, err);
    if (rc != PARUS_OK) {
        parus_error_prefix(err, "'%s'", path);
        return rc;
    }
    /* A term the file leaves out is not silently lent by the built-in default. */
    {
        size_t i;
        for (i = 0; i < N_REQUIRED_FIELDS; i++)
            if (!(ctx.seen & (1u << i)))
                return parus_fail(err, PARUS_E_CONFIG,
                                  "'%s': missing key '%s' in section [%s]: a policy states "
                                  "every term (docs/formats.md)",
                                  path, fields[i].name, fields[i].section);
    }
    *out = ctx.policy;
    return PARUS_OK;
}

bool parus_policy_equal(const parus_policy *a, const parus_policy *b)
{
    size_t i;
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *pa = (const char *)a + fields[i].offset,
                   *pb = (const char *)b + fields[i].offset;
        size_t n = fields[i].kind == F_RATIO   ? sizeof(double)
                   : fields[i].kind == F_MONEY ? sizeof(int64_t)
                   : fields[i].kind == F_COUNT ? sizeof(int)
                                               : sizeof a->currency;
        if (fields[i].kind == F_RATIO) {
            double x, y;
            memcpy(&x, pa, sizeof x);
            memcpy(&y, pb, sizeof y);
            if (!(x == y))
                return false;
        } else if (fields[i].kind == F_CURRENCY) {
            if (strcmp(a->currency, b->currency) != 0)
                return false;
        } else if (memcmp(pa, pb, n) != 0) {
            return false;
        }
    }
    return true;
}

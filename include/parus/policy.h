/*
 * parus/policy.h - the credit policy: how a value becomes a limit.
 *
 * An INI file (data-samples/policy.ini, documented in docs/formats.md), read with inih. Money is in
 * whole yuan (int64_t, *_cny); ratios are fractions in [0, 1]. Validation refuses a policy that
 * could lend money it should not: a cap below the floor, a loan-to-value outside (0, 1], a negative
 * haircut or one above 1, a rounding unit <= 0, a negative count of observations or days, an
 * unknown section or key (a typo must not silently fall back to a default), a key given twice
 * (the file would not say which value lends). Each error names the file, the line and the key.
 */
#ifndef PARUS_POLICY_H
#define PARUS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How land two parcels both claim counts for credit ([evidence] overlap, docs/formats.md): HOLD
 * lends on neither parcel until the registry is corrected (the default: it can only lend less),
 * FIRST leaves the land to the parcel registered first and takes its share off the later one,
 * SPLIT takes half the shared land's share off each. */
typedef enum parus_overlap_rule {
    PARUS_OVERLAP_HOLD = 0,
    PARUS_OVERLAP_FIRST = 1,
    PARUS_OVERLAP_SPLIT = 2,
} parus_overlap_rule;

typedef struct parus_policy {
    char currency[8];           /* "CNY" */
    double loan_to_value;       /* share of the conservative output value lent */
    int64_t cap_cny;            /* per-farmer maximum */
    int64_t floor_cny;          /* limits below this become 0 (not worth a loan) */
    int64_t round_down_cny;     /* limits are rounded down to a multiple of this */
    double haircut_poor_health; /* fraction removed for a parcel in poor condition */
    double haircut_fair_health;
    double haircut_low_confidence; /* classification probability below min_confidence */
    double min_confidence;
    double haircut_event; /* per parcel with a flood or sudden-loss flag */
    double haircut_area_mismatch;
    double area_tolerance;      /* |planted - declared| / declared beyond this is a mismatch */
    int min_clear_observations; /* fewer: the parcel gives no value (reason THIN_EVIDENCE) */
    int repayment_days_after_harvest;
    parus_overlap_rule overlap; /* [evidence] overlap; optional, default hold */
} parus_policy;

/* "hold", "first", "split"; "unknown" outside the enum. */
PARUS_API const char *parus_overlap_rule_name(parus_overlap_rule rule);

/* The built-in defaults (documented; the same values as data-samples/policy.ini). */
PARUS_API void parus_policy_init(parus_policy *policy);
/* Read a policy file: every key of every section must be given (E_CONFIG naming a missing one:
 * a term the bank did not state is never lent by a default), none twice, none unknown. */
PARUS_API parus_status parus_policy_load(const char *path, parus_policy *out, parus_error *err);
/* True when the two policies state the same terms (every key of the file format). */
PARUS_API bool parus_policy_equal(const parus_policy *a, const parus_policy *b);
/* Check a policy's values (also done by load). */
PARUS_API parus_status parus_policy_validate(const parus_policy *policy, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

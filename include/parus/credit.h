/*
 * parus/credit.h - a farmer's credit limit from the evidence of their parcels, with the parts it
 * was built from and the reasons behind it; and the optional file of existing debts.
 *
 * The rule (docs/method.md, "Credit", walks through it with an example). All money is integer fen
 * (int64_t, 1 yuan = 100 fen) until the last step, which gives whole yuan; every ratio of the
 * policy (parus/policy.h) is converted once to whole parts per million (ppm), rounded to the
 * nearest, so a ratio written with at most six decimals is used exactly; every step that divides
 * rounds down (floor), through an exact 128-bit product, so the limit is the same on every machine
 * and is never rounded up.
 *
 *   1. Evidence. A parcel counts when it has at least min_clear_observations clear observations
 *      in the season, and never when it has none (whatever the policy says). A parcel that does
 *      not count adds its value to thin_evidence_fen and nothing to the limit (THIN_EVIDENCE).
 *      No parcel, or no parcel with any clear observation: the limit is 0 (NO_PARCEL_OBSERVED).
 *   2. Haircuts, per counted parcel, one after the other in this fixed order, each
 *      v <- floor(v x (10^6 - h_ppm) / 10^6), the amount removed added to that haircut's total:
 *        overlap    the share of the parcel's land counted elsewhere or held because another
 *                   parcel claims it (overlap_share, from the policy's overlap rule; 1 holds
 *                   the parcel): OVERLAP;
 *        health     POOR: haircuts.poor_health, FAIR and UNKNOWN: haircuts.fair_health,
 *                   GOOD: none;
 *        confidence crop probability below evidence.min_confidence, or a crop from the calendar
 *                   fallback rather than the model: haircuts.low_confidence (once);
 *        event      one or more event flags (flood, sudden loss, drought, frost, waterlogging):
 *                   haircuts.event (once); a drought's, frost's or waterlogging's reason
 *                   (DROUGHT, FROST, WATERLOGGING) beside EVENT_FLAG;
 *        area       the planted area's interval [planted - margin_down, planted + margin_up]
 *                   lies wholly beyond area_tolerance x declared of the declared area
 *                   (parus_area_compare_interval: areas rounded to whole dm2, compared exactly
 *                   in integers; no check when no area is declared): haircuts.area_mismatch.
 *      net_value_fen = gross - thin evidence - all haircuts (exactly: each removed fen is
 *      counted once). The weather's other findings on a counted parcel are reasons without a
 *      haircut of their own, since the conservative yield already carries them: HEAT_STRESS (the
 *      yield's heat term), NO_WEATHER and BEYOND_CALIBRATION (the yield held at the crop's
 *      minimum).
 *   3. lendable_fen = floor(net_value_fen x loan_to_value_ppm / 10^6).
 *   4. after_debt_fen = max(0, lendable_fen - debt_fen) (DEBT when the debt is not 0).
 *   5. before_cap_cny = floor(after_debt_fen / 100).
 *   6. capped = min(before_cap_cny, cap_cny) (CAP when it bites).
 *   7. rounded = capped rounded down to a multiple of round_down_cny.
 *   8. limit_cny = rounded when rounded >= floor_cny, else 0 (FLOOR when a positive amount became 0
 *      through steps 7-8).
 * So the limit is never negative, never above the cap, either 0 or at least the floor, a multiple
 * of round_down_cny, non-decreasing in every parcel's value and health (the policy refuses
 * fair_health > poor_health) and non-increasing in the debt.
 *
 * Repayment: the latest harvest day of the counted parcels that have value after their haircuts,
 * plus repayment.days_after_harvest.
 *
 * Pure: no I/O except parus_debts_load; no global state; reentrant.
 */
#ifndef PARUS_CREDIT_H
#define PARUS_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"
#include "parus/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A day number (days since 1970-01-01) that is not known. */
#define PARUS_CREDIT_NO_DAY INT64_MIN

/* A parcel's condition as the credit policy sees it (the health stage's class). */
typedef enum parus_credit_health {
    PARUS_CREDIT_HEALTH_GOOD = 0,
    PARUS_CREDIT_HEALTH_FAIR = 1,
    PARUS_CREDIT_HEALTH_POOR = 2,
    PARUS_CREDIT_HEALTH_UNKNOWN = 3, /* no peers or curve to compare with: the FAIR haircut */
} parus_credit_health;

/* Reason codes: X(NAME, bit, text). Stable: appended, never renumbered (they are stored with every
 * limit and written in the export). A limit's reasons are a bit mask, 1u << bit. */
#define PARUS_CREDIT_REASON_MAP(X)                                                                 \
    X(NO_PARCEL_OBSERVED, 0, "no parcel of the farmer has a clear observation this season")        \
    X(THIN_EVIDENCE, 1, "a parcel has fewer clear observations than the policy asks: not counted") \
    X(POOR_HEALTH, 2, "a parcel is in poor condition")                                             \
    X(FAIR_HEALTH, 3, "a parcel is in fair condition")                                             \
    X(LOW_CONFIDENCE, 4, "a parcel's crop probability is below the policy's minimum")              \
    X(CALENDAR_FALLBACK, 5, "a parcel's crop comes from the calendar fallback, not the model")     \
    X(EVENT_FLAG, 6, "a parcel has an event flag (flood, sudden loss, drought, frost, ...)")       \
    X(AREA_MISMATCH, 7, "a parcel's planted area differs from its declared area")                  \
    X(DEBT, 8, "existing debt is deducted")                                                        \
    X(CAP, 9, "the limit is held at the policy's cap")                                             \
    X(FLOOR, 10, "the limit came out below the policy's floor or rounding unit: 0")                \
    X(NO_VALUE, 11, "the counted parcels have no conservative value")                              \
    X(UNKNOWN_HEALTH, 12, "a parcel's condition is unknown: treated as fair")                      \
    X(OVERLAP, 13, "a parcel's land overlaps another parcel's: counted once (policy overlap)")     \
    X(DROUGHT, 14, "a parcel's season had a drought: rain far below normal, canopy held back")     \
    X(HEAT_STRESS, 15, "a parcel's crop had hot days around its peak (its yield counts them)")     \
    X(NO_WEATHER, 16,                                                                              \
      "a parcel lacks weather its yield model reads, or its cell has earlier "                     \
      "years but not this season's: the crop's minimum yield")                                     \
    X(BEYOND_CALIBRATION, 17, "a parcel's weather lies beyond its yield model's: minimum yield")   \
    X(FROST, 18, "a parcel's crop had damaging frost around its heading: counted as an event")     \
    X(WATERLOGGING, 19, "a parcel's crop was waterlogged by a rainstorm: counted as an event")     \
    X(RETIRED, 20, "a parcel is retired from the registry: not counted, not lent on")

typedef enum parus_credit_reason {
#define PARUS_CREDIT_REASON_ENUM_(name, bit, text) PARUS_CREDIT_##name = bit,
    PARUS_CREDIT_REASON_MAP(PARUS_CREDIT_REASON_ENUM_)
#undef PARUS_CREDIT_REASON_ENUM_
        PARUS_CREDIT_N_REASONS
} parus_credit_reason;

#define PARUS_CREDIT_BIT(reason) (1u << (reason))

/* "THIN_EVIDENCE", ... and the reason's text; "unknown" outside the map. */
PARUS_API const char *parus_credit_reason_name(parus_credit_reason reason);
PARUS_API const char *parus_credit_reason_text(parus_credit_reason reason);
/* The names of the bits set in mask, in code order, joined by ';' ("POOR_HEALTH;DEBT"; "" for 0),
 * into buf (always NUL-terminated when cap > 0). Returns the length the full text needs, as
 * snprintf does. */
PARUS_API size_t parus_credit_reasons_format(uint32_t mask, char *buf, size_t cap);

/* One parcel's evidence. */
typedef struct parus_credit_parcel {
    int64_t conservative_value_fen; /* parus_yield.conservative_value_fen; >= 0 */
    parus_credit_health health;
    double crop_probability; /* the classifier's probability of the crop, in [0, 1] */
    bool calendar_fallback;  /* the crop comes from the calendar fallback, not the model */
    size_t n_event_flags;    /* flood, sudden-loss, drought, frost, waterlogging (event) flags */
    /* the weather's findings, shown as reasons (DROUGHT also counts as an event above) */
    bool drought, heat_stress, frost, waterlogging;
    bool no_weather, beyond_calibration; /* the yield's notes YIELD_NO_WEATHER, ..._CALIBRATION */
    double planted_area_m2;              /* >= 0 */
    /* the uncertainty of planted_area_m2 (parus_planted_area's interval), finite and >= 0, at
     * most planted_area_m2 below; 0 and 0: the area is taken as exact */
    double planted_area_margin_down_m2, planted_area_margin_up_m2;
    double declared_area_m2;     /* the land-rights area; NaN or <= 0: none declared, no check */
    size_t n_clear_observations; /* clear observations behind the series */
    int64_t harvest_day;         /* day number of the crop's harvest; PARUS_CREDIT_NO_DAY */
    double overlap_share;        /* share of its value not counted because another parcel
                                    claims the land, in [0, 1]; 0 none, 1 held (OVERLAP) */
    bool retired;                /* retired from the registry: never counted (RETIRED) */
} parus_credit_parcel;

/* What became of one parcel. */
typedef struct parus_credit_parcel_result {
    bool counted;      /* enough clear observations */
    int64_t value_fen; /* after its haircuts; 0 when not counted */
    uint32_t reasons;  /* PARUS_CREDIT_BIT(...) of the findings on this parcel */
} parus_credit_parcel_result;

/* A farmer's limit and the parts it was built from (the steps in the header comment). */
typedef struct parus_credit_result {
    int64_t limit_cny;
    uint32_t reasons; /* PARUS_CREDIT_BIT(...) */
    size_t n_parcels, n_parcels_counted;
    int64_t gross_value_fen;   /* sum of the parcels' conservative values */
    int64_t thin_evidence_fen; /* the value of the parcels that did not count */
    int64_t haircut_poor_health_fen, haircut_fair_health_fen, haircut_low_confidence_fen,
        haircut_event_fen, haircut_area_mismatch_fen;
    int64_t net_value_fen; /* gross - thin evidence - haircuts (haircut_overlap_fen included) */
    int64_t loan_to_value_ppm;
    int64_t lendable_fen;   /* floor(net x loan_to_value) */
    int64_t debt_fen;       /* as given */
    int64_t after_debt_fen; /* max(0, lendable - debt) */
    int64_t before_cap_cny; /* floor(after_debt / 100) */
    int64_t cap_removed_cny, rounding_removed_cny, floor_removed_cny;
    /* limit_cny = before_cap_cny - cap_removed - rounding_removed - floor_removed */
    int64_t repayment_day; /* day number; PARUS_CREDIT_NO_DAY when no counted parcel has value */
    int64_t haircut_overlap_fen; /* removed for land another parcel claims (applied first) */
} parus_credit_result;

/* The limit for a farmer with n_parcels parcels (0 allowed: limit 0, NO_PARCEL_OBSERVED) and an
 * existing debt in fen (>= 0). per_parcel, when not NULL, receives n_parcels results. *out and
 * per_parcel are written only on success. Errors: E_CONFIG (the policy fails
 * parus_policy_validate), E_INVALID (a NULL array with n_parcels > 0, a negative value or debt, a
 * health class out of range, a probability outside [0, 1], a negative or NaN planted area, a
 * parcel with value after haircuts but no harvest day), E_RANGE (a sum above 2^63 fen, a
 * repayment day that overflows). */
PARUS_API parus_status parus_credit_limit(const parus_policy *policy,
                                          const parus_credit_parcel *parcels, size_t n_parcels,
                                          int64_t debt_fen, parus_credit_result *out,
                                          parus_credit_parcel_result *per_parcel, parus_error *err);

/* ---- existing debts (docs/formats.md, "Debts file") ---- */

typedef struct parus_debt {
    char *farmer_id;
    int64_t debt_fen;
    size_t line; /* physical line in the file */
} parus_debt;

/* Sorted by farmer_id (byte order). */
typedef struct parus_debts {
    parus_debt *items;
    size_t n;
} parus_debts;

/* Read a debts file: CSV, UTF-8, a header row with the columns farmer_id and debt_cny (found by
 * name, others ignored), one row per farmer; debt_cny whole or decimal yuan with at most two
 * decimals ("1200", "1200.5", "1200.50"), parsed exactly into fen (never through a double).
 * known_farmers (n_known ids, any order), when not NULL, is the set of farmers parus knows: a
 * farmer not in it is refused. Errors, each naming the file and the physical line: E_IO (cannot
 * read), E_CONFIG (a missing column, a record with a different number of cells than the header,
 * an empty or non-UTF-8 farmer id, a malformed, negative or too large amount, a duplicate farmer,
 * an unknown farmer). An empty file (header only) is fine: no debts. */
PARUS_API parus_status parus_debts_load(const char *path, const char *const *known_farmers,
                                        size_t n_known, parus_debts *out, parus_error *err);
PARUS_API void parus_debts_release(parus_debts *debts);
/* The farmer's debt in fen, 0 when the farmer has no row. */
PARUS_API int64_t parus_debts_find(const parus_debts *debts, const char *farmer_id);

/* Parse a yuan amount ("1200", "1200.5", "0.05"; spaces around allowed; no sign, no exponent, no
 * thousands separator, at most two decimals) exactly into fen. false (nothing written) otherwise
 * or when it exceeds 2^63 fen. */
PARUS_API bool parus_cny_parse_fen(const char *text, int64_t *fen);

#ifdef __cplusplus
}
#endif
#endif

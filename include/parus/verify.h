/*
 * parus/verify.h - every stored limit re-derived: each farmer's limit recomputed from the stored
 * per-parcel evidence of a season (parcel_results: conservative value, condition, crop
 * probability and method, event flags, planted and declared area, clear observations) with the
 * policy, debts and crop table RECORDED with the assessment (docs/store.md, assessment_inputs),
 * through the same credit code and the same mapping `parus assess` used (so a change of the
 * credit rule is followed, never re-implemented), and compared with what is stored: the limit,
 * every part of it, the debt, the reasons, the repayment date, each parcel's credit verdict.
 * A limit edited by hand in the store, a parcel result edited after the fact, recorded files whose
 * bytes no longer match their hashes, a farmer with evidence but no limit or a limit without
 * evidence: each is a difference, named with the farmer (and parcel) and both values.
 *
 * The current policy, debts and crop table files, when given, are compared (by SHA-256) with the
 * recorded ones and the result reported; the recorded ones are used either way.
 *
 * Reads only; memory: one record per parcel and per farmer of the season.
 */
#ifndef PARUS_VERIFY_H
#define PARUS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/credit.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One difference: borrowed for the callback. */
typedef struct parus_verify_diff {
    const char *farmer_id;  /* NULL: the season's recorded inputs */
    const char *parcel_id;  /* NULL: the farmer's limit (or the inputs) */
    const char *item;       /* what differs: "limit_cny", "parts.net_value_fen", "debt_fen",
                               "reasons", "repayment_date", "credit_value_fen", "credit_counted",
                               "credit_reasons", "limit" (one side missing), "policy", ... */
    const char *stored;     /* the stored value ("(none)" when absent) */
    const char *recomputed; /* the recomputed value ("(none)" when absent) */
} parus_verify_diff;

/* One farmer re-derived: borrowed for the callback. */
typedef struct parus_verify_farmer {
    const char *farmer_id;
    size_t n_parcels;                      /* with a stored result */
    bool has_stored;                       /* a stored limit */
    int64_t stored_limit_cny;              /* when has_stored */
    const parus_credit_result *recomputed; /* the credit rule's result on the stored evidence */
    size_t n_diffs;                        /* differences found for this farmer */
} parus_verify_farmer;

/* Non-zero from a callback stops the verification (E_INTERNAL unless it set err). */
typedef int (*parus_verify_diff_fn)(const parus_verify_diff *d, void *ctx);
typedef int (*parus_verify_farmer_fn)(const parus_verify_farmer *f, void *ctx);

typedef struct parus_verify_options {
    const char *season; /* the window; required */
    /* the current files, compared with the recorded ones by SHA-256; NULL: not compared */
    const char *policy_path, *debts_path, *crops_path;
    parus_verify_diff_fn on_diff;     /* each difference, farmers in byte order; may be NULL */
    parus_verify_farmer_fn on_farmer; /* each farmer after its differences; may be NULL */
    void *ctx;
} parus_verify_options;

/* A current file against the recorded one. */
typedef enum parus_verify_file {
    PARUS_VERIFY_FILE_NOT_COMPARED = 0,
    PARUS_VERIFY_FILE_SAME = 1,
    PARUS_VERIFY_FILE_DIFFERS = 2,
} parus_verify_file;

typedef struct parus_verify_stats {
    size_t n_farmers;         /* with a stored limit or stored evidence */
    size_t n_parcels;         /* stored results with a farmer */
    size_t n_farmers_differ;  /* farmers with at least one difference */
    size_t n_diffs;           /* all differences, the inputs' included */
    int64_t stored_total_cny; /* sums of the limits */
    int64_t recomputed_total_cny;
    /* recorded */
    char model_version[80];
    char policy_hash[65], debts_hash[65], crops_hash[65]; /* "" none ("builtin" policy) */
    /* the current files (when given) */
    parus_verify_file policy_file, debts_file, crops_file;
    char current_policy_hash[65], current_debts_hash[65], current_crops_hash[65];
    /* the season's evidence (schema 21, parus_store_season_evidence): the digest recorded with
     * the limits ("" when assessed before schema 21: not compared) and the store's now, with the
     * tiles and observations it covers now; a digest that differs is one of n_diffs */
    char evidence_recorded[65], evidence_now[65];
    size_t evidence_tiles, evidence_observations;
} parus_verify_stats;

PARUS_API void parus_verify_options_init(parus_verify_options *opt);

/* Verify the season (above). *stats (may be NULL) written on success, which means the
 * verification ran: n_diffs says whether anything differs. Errors: E_INVALID (no season, a
 * malformed one), E_NOT_FOUND (the season has no recorded inputs: not assessed, or assessed
 * before schema 8), E_CONFIG (a recorded file that does not load: its message), E_IO (a current
 * file that cannot be read), the store's errors, E_NOMEM. */
PARUS_API parus_status parus_verify_season(parus_store *store, const parus_verify_options *opt,
                                           parus_verify_stats *stats, parus_error *err);

/* SHA-256 (64 hex digits) of a regular file's bytes, as assessments record them. E_IO. */
PARUS_API parus_status parus_file_sha256(const char *path, char hex[65], parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * parus/assess.h - a season end to end, from the store's observations to every farmer's limit:
 * series -> crop -> condition -> planted area -> yield and value -> credit, written back to the
 * store as one transaction.
 *
 * The stages are the modules of parus/season.h (features, calendar fallback), parus/classify.h
 * (the model), parus/health.h (series, peers, condition, events, planted area), parus/yield.h and
 * parus/credit.h; this module only walks the season and carries each parcel from one to the next.
 *
 * parus_assess_run, over the season walk (parus/store.h), in two passes:
 *   1. every parcel: its season features, its crop (the model, predicted in batches, or the
 *      nearest crop calendar when there is no model: low confidence), stored in assessments; and
 *      its health series, kept compactly (single precision) for the peers, with its peer group:
 *      the tile grid that holds most of its observations (docs/store.md, "Peer groups");
 *   2. peers per (crop, group), from the kept series: the median and quartiles per step; a crop
 *      with fewer than min_peers parcels in a grid is judged against all its parcels ("all");
 *   3. every parcel again (its series rebuilt exactly): condition and events against its peers
 *      (else its crop's expected curve), planted area, yield and value from its crop's row of the
 *      crop table; a crop that is not in the table (a model class or a declared crop) gives no
 *      value, reason UNKNOWN_CROP, never a default price;
 *   4. every farmer: the credit rule over their parcels, minus their debt.
 * Everything (assessments, results, flags, peer curves, limits) is written between
 * parus_store_results_begin and _commit: a season's results are always one run's, and a failure
 * leaves the previous ones.
 *
 * Threads: per-parcel work runs in batches over n_threads (OpenMP), each parcel on its own, and
 * the results are written in parcel id order, so every figure is the same for any thread count.
 * Memory: the kept series (n_steps x 29 bytes per parcel: 0.7 KB for a 240-day season) and one
 * batch of observations.
 */
#ifndef PARUS_ASSESS_H
#define PARUS_ASSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/classify.h"
#include "parus/credit.h"
#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/health.h"
#include "parus/outlier.h"
#include "parus/policy.h"
#include "parus/store.h"
#include "parus/yield.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_assess_options {
    const char *season; /* the window "YYYY-MM-DD/YYYY-MM-DD" (both days included); required */
    /* The crop model (parus_model_load); its season spec (parus_season_spec_from_model) gives the
     * features and its season length must be the window's. NULL: the calendar fallback. */
    parus_model *model;
    const parus_crop_table *crops; /* required by run; by classify only without a model */
    const char *crops_path;        /* the table's file, hashed and recorded (the calendar's
                                      model version is its SHA-256) */
    const parus_policy *policy;    /* required by run */
    const char *policy_path;       /* its file, hashed and recorded for the audit; NULL: only
                                      the built-in policy (parus_policy_init), "builtin" */
    /* The crop table or the policy is the shipped sample (data-samples/), taken because no
     * option and no configuration named one: a nightly run does not put it in place of the
     * file a season's limits rest on (parus_nightly_run). */
    bool crops_fallback, policy_fallback;
    const parus_debts *debts;    /* NULL: no debts; a farmer without parcels is refused */
    const char *debts_path;      /* its file, hashed and recorded; required with debts */
    parus_health_options health; /* parus_health_options_init; area_tolerance is taken from
                                    the policy so that the flag and the haircut agree */
    parus_yield_options yield;   /* parus_yield_options_init */
    int n_threads;               /* 0: all cores */
    int64_t run_id;              /* stamped on the rows (a runs row); 0: none */
    /* Called between the stages of parus_assess_run: "assess:begun" (the write transaction open,
     * the season's old rows removed), "assess:classified", "assess:crops", "assess:peers",
     * "assess:judged", "assess:credit", "assess:audited", "assess:inputs" (all inside the
     * transaction) and
     * "assess:committed"; NULL: none. */
    parus_checkpoint_fn checkpoint;
    void *checkpoint_ctx;
    parus_outlier_options outlier; /* single observations left out of the season
                                      (include/parus/outlier.h); parus_outlier_options_init */
    double overlap_min_share;      /* run: overlaps are found again from this share of either
                                      parcel (parus_store_find_overlaps); 0: the default
                                      PARUS_OVERLAP_MIN_SHARE */
    bool season_overlap_ok;        /* run: assess the season even where the store holds the
                                      limits of another season covering more than half of it
                                      (else PARUS_E_DUPLICATE naming it: the same harvest lent
                                      on twice, a window mistyped by a day) */
    bool weights_current;          /* run: the caller has just brought every parcel's weather
                                      weights up to date (nightly); else the run does it first
                                      (parus_weather_weights_update), so that a parcel loaded
                                      after the weather is read with it */
} parus_assess_options;

/* Everything NULL or default; n_threads 0. */
PARUS_API void parus_assess_options_init(parus_assess_options *opt);

/* Reason codes of an assessment beyond the credit rule's (stored in parcel_results.reason as
 * "<CODE>: <sentence>", and in limits.reasons when a farmer's parcel has one). */
#define PARUS_ASSESS_REASON_NO_CLEAR "NO_CLEAR_OBSERVATION" /* no clear observation */
#define PARUS_ASSESS_REASON_NOT_CLASSIFIED "NOT_CLASSIFIED" /* seen, but no crop found */
#define PARUS_ASSESS_REASON_UNKNOWN_CROP "UNKNOWN_CROP"     /* crop not in the crop table */
#define PARUS_ASSESS_REASON_NO_AREA "NO_PLANTED_AREA"       /* no vegetated fraction measured */
#define PARUS_ASSESS_REASON_NO_METRICS "NO_SEASON_METRICS"  /* too little NDVI for a yield */
#define PARUS_ASSESS_REASON_RETIRED "RETIRED" /* retired from the registry (schema 20) */

typedef struct parus_assess_stats {
    size_t n_parcels;
    /* crops */
    size_t n_model, n_calendar, n_not_classified;
    size_t n_declared, n_agree; /* classified parcels with a declared crop, and agreeing */
    /* results (run only) */
    size_t n_valued;       /* parcels with a value */
    size_t n_unknown_crop; /* parcels without value because their crop is not in the table */
    size_t n_retired;      /* parcels retired from the registry: assessed, never valued */
    size_t n_flags;        /* flags stored */
    size_t n_peer_curves;  /* (crop, group) curves stored */
    /* limits (run only) */
    size_t n_farmers;
    size_t n_farmers_zero; /* with a limit of 0 */
    int64_t total_limit_cny;
    size_t n_reason[PARUS_CREDIT_N_REASONS]; /* farmers whose limit carries each reason */
    size_t n_farmers_unknown_crop;           /* ... a parcel with UNKNOWN_CROP */
    size_t n_overlaps;    /* pairs of parcels whose land overlaps (parcel_overlaps), found again */
    size_t n_outliers;    /* observations left out as outliers (observation_outliers) */
    char latest_date[11]; /* the latest imagery date used; "" none */
    /* run only: the tiles the season's observations came from, and a fingerprint of their content
     * fingerprints in sorted order (64 hex digits; "" when none): an audit of the imagery the
     * limits rest on, recorded with the run */
    size_t n_tiles_used;
    char tiles_digest[65];
    /* what the limits were computed with (recorded in assessment_inputs by run): the model
     * version "xgb:<SHA-256 of the model file>" or "calendar:<SHA-256 of the crop table>", the
     * model's training-data hash ("" for the calendar), and the SHA-256 of the crop table, the
     * policy ("builtin" for the built-in one) and the debts file ("" when none) */
    char model_version[80];
    char model_data_hash[65];
    char crops_hash[65];
    char policy_hash[65];
    char debts_hash[65];
    double seconds;
} parus_assess_stats;

/* The crop of every parcel of the season into assessments (one transaction), as `parus classify`:
 * the model's crop with its probability, runner-up and margin, or without a model the nearest
 * crop calendar (low confidence), or no crop with the reason. *stats (may be NULL) written on
 * success. Errors: E_INVALID (no season or a malformed one, no crop table without a model, a
 * window whose length is not the model's season), E_CONFIG (a model without season metadata),
 * E_NOT_FOUND (no parcel in the store: nothing is written), the store's errors, E_NOMEM. */
PARUS_API parus_status parus_assess_classify(parus_store *store, const parus_assess_options *opt,
                                             parus_assess_stats *stats, parus_error *err);

/* The whole season (above) into the store, in one transaction, with what it was computed with
 * (parus_store_results_put_inputs: model version and training-data hash, the crop table's, policy's
 * and debts file's SHA-256 and bytes). Errors: those of classify, and E_INVALID (no crop table or
 * policy, a model not loaded from a file, a policy other than the built-in one without its file,
 * debts without their file), E_IO (a recorded file cannot be read), E_CONFIG (a policy that
 * parus_policy_validate refuses, a debt of a farmer who has no parcel in the store: named with the
 * debts file's line), E_RANGE (a sum of values above 2^63 fen), the store's errors. On error
 * nothing of this run is stored. */
PARUS_API parus_status parus_assess_run(parus_store *store, const parus_assess_options *opt,
                                        parus_assess_stats *stats, parus_error *err);

/* The peer group key of a tile grid: "EPSG:<epsg>/<x>/<y>" (the upper-left corner in the CRS's
 * units, whole units) into buf; "grid:<x>/<y>" without an EPSG code. */
PARUS_API void parus_assess_grid_key(int epsg, const double geotransform[6], char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

/*
 * parus/classify.h - crop type from a sample's features: a gradient-boosted tree classifier
 * (XGBoost, multi-class soft probabilities), optionally with a temporal convolutional network
 * over the series (parus_learner), its model file, derived features, grouped k-fold evaluation
 * and nested selection of a configuration inside the training folds.
 *
 * A dataset is a dense n_samples x n_features matrix of doubles (row-major; NaN = missing, which
 * the trees route on their own), a class index per sample, optionally a fold (location group) per
 * sample, and the names of the classes and features. parus_dataset_read_csv builds one from a wide
 * CSV (one row per sample) and adds series summaries and phenology (parus/series.h) for the
 * date-indexed columns it recognises.
 *
 * Determinism: training uses the "hist" tree method with a fixed seed, so the same data and
 * options give the same model and the same probabilities for any n_threads.
 *
 * Threads: a model may be used for prediction from one thread at a time; prediction parallelises
 * inside each call (n_threads). The evaluations fit their models side by side on n_threads
 * worker threads. No global state of parus's own.
 */
#ifndef PARUS_CLASSIFY_H
#define PARUS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-owned; every array is malloc'ed and freed by parus_dataset_release. */
typedef struct parus_dataset {
    size_t n_samples, n_features, n_classes;
    double *x;            /* n_samples x n_features, row-major; NaN = missing */
    size_t *label;        /* class index per sample, < n_classes */
    int *fold;            /* fold (group) per sample, >= 0; NULL when none */
    char **class_names;   /* n_classes names */
    char **feature_names; /* n_features names */
    /* Text folds (a group column holding names such as "farmA"): fold f is the group named
     * fold_names[f], the names sorted; NULL (and n_fold_names 0) when the folds are numbers. */
    char **fold_names;
    size_t n_fold_names;
    size_t cap_samples_; /* private: rows allocated (parus_dataset_add_row) */
} parus_dataset;

PARUS_API void parus_dataset_init(parus_dataset *ds);
PARUS_API void parus_dataset_release(parus_dataset *ds);

/* A growable dataset, for callers that stream samples in (parcels of a season, imported series):
 * setup gives an initialised (or released) *ds its feature and class names (copied) and no
 * samples, with folds when with_folds; add_row appends one sample, growing the arrays
 * geometrically (amortised O(n_features) per row). add_row copies x (n_features values, NaN
 * missing); label must be < n_classes; fold must be >= 0 when the dataset has folds and is ignored
 * otherwise. On error the dataset is unchanged. Errors: E_INVALID (no features, a NULL or
 * duplicate name, a bad label or fold), E_NOMEM. Rows can also be added to a dataset read by
 * parus_dataset_read_csv. */
PARUS_API parus_status parus_dataset_setup(parus_dataset *ds, const char *const *feature_names,
                                           size_t n_features, const char *const *class_names,
                                           size_t n_classes, bool with_folds, parus_error *err);
PARUS_API parus_status parus_dataset_add_row(parus_dataset *ds, const double *x, size_t label,
                                             int fold, parus_error *err);

/* Derived features: computed from each sample's own series, never from other samples, so they
 * can be computed once for a whole dataset before it is cut into folds. A series is a band's
 * features named <band>_<digits> or <band>_s<digits> (at least 4 of one band, ordered by the
 * digits; the CSV reader's and the season's names). Derived features follow the input ones, in
 * this order:
 *   nd_pairs "a:b,...": for each pair whose two bands are series with the same steps, the
 *     normalised difference per step, nd_<a>_<b>_<step> = (a - b) / (a + b) (NaN where a value
 *     is missing or a + b is 0), then its summaries nd_<a>_<b>_mean, _std, _min, _max, _argmax
 *     (as the CSV reader's). Such a series is a band for the next two groups. A pair whose bands
 *     are absent (or whose steps differ) is skipped.
 *   differences: for every series band, <band>_diff<step> = value at step - value at the step
 *     before (NaN where either is missing): the slope, which tells green-up and harvest dates
 *     apart independently of the level.
 *   smooth_bands "a,...": for each listed series band, <band>_ws<step>: the series smoothed by
 *     the Whittaker smoother (parus_whittaker_smooth, lambda smooth_lambda) as an upper envelope:
 *     three passes, each weighting a value below the last curve by 1 - its distance below over
 *     the largest such distance (Chen et al. 2004, Remote Sens. Environ. 91:332), because cloud
 *     and haze only lower a vegetation index. NaN where the value is missing; all NaN with fewer
 *     than 3 values. Absent bands are skipped.
 * A derived name already among the input features is not derived again. */
typedef struct parus_derive_options {
    const char *nd_pairs;     /* NULL: none */
    bool differences;         /* false */
    const char *smooth_bands; /* NULL: none */
    double smooth_lambda;     /* 2 */
} parus_derive_options;

/* Nothing derived; smooth_lambda 2. */
PARUS_API void parus_derive_options_init(parus_derive_options *opt);

/* A plan: which derived features come from which input features. Immutable once made, so one
 * plan serves any number of threads. */
typedef struct parus_derive parus_derive;

/* The plan for rows whose features are named feature_names[0..n_features). Errors: E_INVALID
 * (a malformed nd pair or band list, a negative or non-finite lambda, a series longer than
 * PARUS_DERIVE_MAX_STEPS), E_NOMEM. */
#define PARUS_DERIVE_MAX_STEPS 400
PARUS_API parus_status parus_derive_new(const char *const *feature_names, size_t n_features,
                                        const parus_derive_options *opt, parus_derive **out,
                                        parus_error *err);
PARUS_API void parus_derive_free(parus_derive *d);
/* Features of an output row (the input ones first, then the derived), and their names (valid
 * while the plan lives). */
PARUS_API size_t parus_derive_n_features(const parus_derive *d);
PARUS_API const char *parus_derive_feature_name(const parus_derive *d, size_t i);
/* One sample: in holds the n_features input values, out receives parus_derive_n_features values
 * (in may not alias out). Allocates nothing; reentrant. */
PARUS_API void parus_derive_row(const parus_derive *d, const double *in, double *out);

/* *out (initialised or released by the caller; written only on success) gets ds's samples,
 * labels, folds and classes with the derived features appended. Errors: those of
 * parus_derive_new, E_NOMEM. */
PARUS_API parus_status parus_dataset_derive(const parus_dataset *ds,
                                            const parus_derive_options *opt, parus_dataset *out,
                                            parus_error *err);

/* How a wide CSV becomes a dataset (parus_dataset_read_csv). */
typedef struct parus_csv_options {
    const char *class_column; /* required: "label" */
    const char *fold_column;  /* NULL: no folds */
    /* Comma-separated columns left out of the features; an entry ending in '*' is a prefix
     * ("evi_*"). Identifiers, coordinates and dates belong here. NULL: none. */
    const char *exclude_columns;
    /* Comma-separated columns that are features although the leak rules below would leave them
     * out (exact names). A name that is not a column of the file is an error. NULL: none. */
    const char *include_columns;
    /* When set (parus predict: the model's feature names), the raw features are exactly the
     * columns of these names, in the file's order, and no rule applies; others are left out. */
    const char *const *only_columns;
    size_t n_only_columns;
    /* Called once for each column that a leak rule leaves out (or, with only_columns, that is
     * not among them), with the reason in words; not for those of exclude_columns. NULL: not
     * told. */
    void (*on_exclude)(void *arg, const char *column, const char *reason);
    void *on_exclude_arg;
    /* Series: columns named <band>_<digits> (at least 4 of one band), ordered by the digits, are
     * one band's regular series with step_days between steps. Each such band also gets the
     * summaries <band>_mean, _std, _min, _max, _argmax (step index of the maximum). */
    bool series_summaries; /* true */
    /* The band whose series also gets phenology (parus_series_run with its default options, the
     * season starting at step 0): pheno_n_cycles, _peak, _base, _amplitude, _integral,
     * _start, _peak_day, _end, _length (days from the first step; NaN when no cycle). NULL or a
     * band that is not there: no phenology. Default "ndvi". */
    const char *phenology_band;
    size_t step_days; /* 16 (MODIS MOD13Q1) */
    /* Derived features (parus_dataset_derive) appended after the summaries and phenology: none by
     * default. */
    parus_derive_options derive;
} parus_csv_options;

PARUS_API void parus_csv_options_init(parus_csv_options *opt);

/* Read a wide CSV (GDAL's CSV driver, every field as text) into *ds (initialised or released by
 * the caller; written only on success). Classes are numbered in order of first appearance of
 * their sorted names (alphabetical). The fold column holds non-negative integers, or names
 * (any other text): then the folds are the names' ranks in sorted order (ds->fold_names).
 *
 * Leak rules (docs/cli.md, "Which columns are features"): besides the class, the fold and the
 * excluded columns, a column is left out when its name marks an identifier, a coordinate, a
 * date or time, a group or fold, or a label (parus_csv_leak_name), or, with at least
 * PARUS_LEAK_MIN_SAMPLES samples, when its values are integers unique per row that are dense or
 * in row order (a row identifier), one value per fold group (a group attribute) or one value per
 * class (a copy of the label); include_columns overrides the rules by name. Every other column
 * is a feature and must be numeric (an empty cell, "NA" or "NaN" is missing). Errors: E_IO
 * (cannot open), E_INVALID (no such class, fold or included column, a non-numeric feature cell,
 * an empty fold, no feature), E_RANGE (classes with fewer than two samples, all of them named;
 * fewer than two classes), E_NOMEM. */
#define PARUS_LEAK_MIN_SAMPLES 20

/* Why the leak rules leave a column out by its name alone ("its name marks an identifier", ...),
 * or NULL when the name is no reason. The name is cut into lower-case words at every character
 * that is not a letter or digit and where a lower-case letter meets an upper-case one
 * ("plotId" -> plot, id); a word of the list in docs/cli.md marks the column. */
PARUS_API const char *parus_csv_leak_name(const char *column);

PARUS_API parus_status parus_dataset_read_csv(parus_dataset *ds, const char *path,
                                              const parus_csv_options *opt, parus_error *err);

/* Content hash (64 hex digits) of the features, labels and names: the "training data" a model
 * file records. rows: the samples to hash (NULL: all, in order). */
PARUS_API void parus_dataset_hash(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                                  char hex[65]);

/* What a model is made of. TREES: gradient-boosted trees alone (XGBoost). TCNN: a small
 * temporal convolutional network alone (TempCNN, Pelletier et al. 2019; plain C, src/tcnn.c:
 * three convolutions of 32 filters of width 5 over the steps of the features' series, a dense
 * layer of 64 units, dropout 0.2, Adam, 20 epochs of batches of 32, the class balance's weights).
 * ENSEMBLE: both, their class probabilities averaged, the network's weighing tcnn_weight. The
 * network reads the bands whose series (features <band>_<digits> or <band>_s<digits>) have the
 * most steps, those with the same steps as the first; training a TCNN or ENSEMBLE model on data
 * without such a series is E_INVALID. */
typedef enum parus_learner {
    PARUS_LEARNER_TREES = 0,
    PARUS_LEARNER_TCNN = 1,
    PARUS_LEARNER_ENSEMBLE = 2
} parus_learner;

/* "trees", "tcnn", "ensemble"; NULL for another value. */
PARUS_API const char *parus_learner_name(parus_learner l);
/* The learner of that name; false when there is none. */
PARUS_API bool parus_learner_parse(const char *name, parus_learner *out);

/* Training parameters (XGBoost names in brackets). */
typedef struct parus_classify_options {
    size_t n_rounds;         /* boosting rounds: 300 */
    int max_depth;           /* [max_depth] 6 */
    double eta;              /* [eta] learning rate 0.1 */
    double subsample;        /* [subsample] rows per tree 0.8 */
    double colsample;        /* [colsample_bytree] features per tree 0.8 */
    double min_child_weight; /* [min_child_weight] 1 */
    double lambda;           /* [lambda] L2 on leaf weights 1 */
    int max_bin;             /* [max_bin] histogram bins per feature 64 (XGBoost's 256 costs
                                4x the split search for no gain on a few thousand samples) */
    int n_threads;           /* [nthread] 0: XGBoost's default (all cores) */
    uint64_t seed;           /* [seed] 20240601 */
    /* class balance: each training sample weighted (n / (k n_c))^class_balance, n the samples,
     * k the classes present, n_c the sample's class's count, then scaled to a mean weight of 1;
     * 0 weights every sample 1, 1 gives every class the same total weight: 1 */
    double class_balance;
    parus_learner learner; /* TREES */
    double tcnn_weight;    /* ENSEMBLE: the network's share of the averaged probabilities, 0.5 */
    size_t tcnn_epochs;    /* the network's passes over the training samples: 20 */
} parus_classify_options;

PARUS_API void parus_classify_options_init(parus_classify_options *opt);

typedef struct parus_model parus_model;

/* Train on the samples rows[0..n_rows) of ds (rows NULL: all). Every class of ds is a class of
 * the model, even one absent from rows. Errors: E_INVALID (bad options, n_rows 0, a row or label
 * out of range), E_RANGE (fewer than two classes), E_NOMEM, E_INTERNAL (XGBoost's message), and
 * those of parus_model_set_predictor (the model's predictor is chosen as it is made). */
PARUS_API parus_status parus_model_train(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                                         const parus_classify_options *opt, parus_model **out,
                                         parus_error *err);
PARUS_API void parus_model_free(parus_model *m);

PARUS_API size_t parus_model_n_classes(const parus_model *m);
PARUS_API size_t parus_model_n_features(const parus_model *m);
PARUS_API const char *parus_model_class_name(const parus_model *m, size_t i);
PARUS_API const char *parus_model_feature_name(const parus_model *m, size_t i);
/* Hash of the training data (parus_dataset_hash) and the parus version that trained it. The
 * training data does not identify a model: two models trained on the same data with other rounds
 * or parameters share it. */
PARUS_API const char *parus_model_data_hash(const parus_model *m);
/* The model's identity: SHA-256 (64 hex digits) of every byte of the file it was loaded from
 * (parus_model_load); "" for a model that was not loaded from a file (trained in this process).
 * An assessment records "xgb:<this>" as its model version. */
PARUS_API const char *parus_model_file_hash(const parus_model *m);
PARUS_API const char *parus_model_parus_version(const parus_model *m);
/* What the model is made of, and the network's share of its probabilities (0 for TREES, 1 for
 * TCNN). */
PARUS_API parus_learner parus_model_learner(const parus_model *m);
PARUS_API double parus_model_tcnn_weight(const parus_model *m);

/* Metadata: key/value text pairs saved with the model (what the features were computed from:
 * the season window and step, the variables; parus/season.h writes and reads its own). A key is
 * 1..64 characters of [A-Za-z0-9_.-]; a value is text of at most 4096 bytes without a line break
 * (it may be empty). Setting a key again replaces its value; keys keep the order in which they
 * were first set. Errors: E_INVALID (a bad key or value), E_NOMEM. */
PARUS_API parus_status parus_model_set_meta(parus_model *m, const char *key, const char *value,
                                            parus_error *err);
/* The value of key, or NULL when the model has none. Valid until the key is set again or the
 * model is freed. */
PARUS_API const char *parus_model_meta(const parus_model *m, const char *key);
/* The number of metadata pairs and the i-th key (NULL when out of range), in order. */
PARUS_API size_t parus_model_n_meta(const parus_model *m);
PARUS_API const char *parus_model_meta_key(const parus_model *m, size_t i);

/* Class probabilities for n_samples rows of x (n_samples x n_features, row-major, NaN missing)
 * into prob (n_samples x n_classes; each row sums to 1). n_features must be the model's.
 * n_threads 0: all cores. A row's probabilities depend on that row only, not on n_threads or the
 * other rows. Errors: E_INVALID, E_NOMEM, E_INTERNAL. */
PARUS_API parus_status parus_model_predict(parus_model *m, const double *x, size_t n_samples,
                                           size_t n_features, int n_threads, double *prob,
                                           parus_error *err);

/* Which code computes a model's probabilities (parus_model_predict and the evaluations).
 * FOREST: parus's own evaluator of the model's trees, rebuilt from the booster when a model is
 * trained or loaded (nothing more is stored in the model file): the trees are scored many parcels
 * at a time with vector instructions (AVX-512, AVX2 or SSE2, whichever the CPU has), about 45
 * times faster than XGBoost's predictor on the crop classifier's 4,800 trees. It gives XGBoost's
 * probabilities (the same float margins summed in the same order and the same softmax; the tests
 * hold it to 1e-5 and the same most probable class). It holds trees of at most 64 leaves, so every
 * model of max_depth 6 or less; a model with a larger tree stays with XGBOOST: XGBoost's own
 * predictor (XGBoosterPredictFromDense).
 * A trained or loaded model uses FOREST where it can, or XGBOOST when the environment variable
 * PARUS_PREDICTOR is "xgboost". */
typedef enum parus_predictor {
    PARUS_PREDICTOR_FOREST = 0,
    PARUS_PREDICTOR_XGBOOST = 1
} parus_predictor;

/* Switch m's predictor. Errors: E_INVALID (FOREST for a model it does not represent, or an
 * unknown value; the message says why), E_NOMEM, E_INTERNAL (XGBoost cannot export the model),
 * E_FORMAT (parus cannot read XGBoost's export). */
PARUS_API parus_status parus_model_set_predictor(parus_model *m, parus_predictor p,
                                                 parus_error *err);
/* The predictor m uses. */
PARUS_API parus_predictor parus_model_predictor(const parus_model *m);

/* The two most probable classes of one probability row and their margin (p[best] - p[second]);
 * ties go to the lower index. n_classes >= 2. */
PARUS_API void parus_classify_top2(const double *prob, size_t n_classes, size_t *best,
                                   size_t *second, double *margin);

/* E_CONFIG unless ds has the model's features (same names, same order) and classes; the message
 * names the first difference. */
PARUS_API parus_status parus_model_check_dataset(const parus_model *m, const parus_dataset *ds,
                                                 parus_error *err);

/* Model file, format version 2: a text header ("parus-model 2", "parus-version V", "data-hash H",
 * zero or more "meta <key> <value>" lines, "classes N" and the N classes one per line, "features
 * M" and the M features one per line, then "xgboost-ubj <bytes>") followed by XGBoost's model
 * (UBJSON). Version 1 is the same without meta lines; it still loads (no metadata). Version 3
 * (a model with a network) adds, after the features, "learner <trees|tcnn|ensemble> <weight>",
 * then "tcnn-bytes <bytes>" and the network's bytes (src/tcnn.c: shape, the series' feature
 * indices, the input standardisation and the float weights, little-endian), then, unless the
 * learner is tcnn, "xgboost-ubj" as in version 2. Save writes version 2 for a model of trees alone
 * (byte for byte what it wrote before), version 3 otherwise, beside path, and renames it into
 * place (parus/outfile.h: a failed save leaves the previous model byte-identical): E_IO,
 * E_INVALID (a name with a line break), E_NOMEM. Load: E_IO, E_FORMAT (not a parus model, a
 * format version other than 1 to 3, truncated, a malformed meta or learner line, a malformed
 * network part, XGBoost refuses the model bytes), E_NOMEM, and those of
 * parus_model_set_predictor. */
PARUS_API parus_status parus_model_save(const parus_model *m, const char *path, parus_error *err);
PARUS_API parus_status parus_model_load(const char *path, parus_model **out, parus_error *err);

/* A confusion matrix and the figures computed from it. count[t * n_classes + p]: samples of true
 * class t predicted as p. */
typedef struct parus_confusion {
    size_t n_classes, n_total;
    size_t *count;
    double *precision, *recall, *f1; /* per class; NaN when undefined (no prediction / sample) */
    size_t *support;                 /* true samples per class */
    double overall_accuracy, kappa, macro_f1; /* macro-F1 over classes with support */
} parus_confusion;

/* Zeroed matrix for n_classes. E_NOMEM. */
PARUS_API parus_status parus_confusion_init(parus_confusion *c, size_t n_classes, parus_error *err);
PARUS_API void parus_confusion_release(parus_confusion *c);
/* The figures from count: overall accuracy, Cohen's kappa (p_o - p_e) / (1 - p_e) with p_e the
 * agreement by chance from the margins, precision, recall, F1 per class, macro-F1. */
PARUS_API void parus_confusion_compute(parus_confusion *c);

/* Grouped k-fold evaluation: for each fold value f, train on the samples of the other folds with
 * opt (nothing is tuned) and predict the samples of fold f; *out (initialised by this function)
 * gets the pooled confusion matrix and its figures. ds->fold is required. opt->n_threads is the
 * number of cores (0: all): the folds' models are fitted that many at a time, each with its share
 * for XGBoost; the figures do not depend on it. Errors: E_INVALID (no folds, fewer than two
 * folds), and those of train and predict (the message names the fold). */
PARUS_API parus_status parus_classify_evaluate(const parus_dataset *ds,
                                               const parus_classify_options *opt,
                                               parus_confusion *out, parus_error *err);
/* The same, and pred (n_samples, or NULL) gets each sample's predicted class, by the model that
 * did not see its fold. */
PARUS_API parus_status parus_classify_evaluate_predict(const parus_dataset *ds,
                                                       const parus_classify_options *opt,
                                                       parus_confusion *out, size_t *pred,
                                                       parus_error *err);

/* ---- nested selection ---- */

/* One configuration that nested selection may choose: features derived on top of the dataset's
 * and the classifier's options. Its rounds are scored at every multiple of round_step up to
 * opt.n_rounds (round_step 0: at opt.n_rounds only), all from one model per training set, so the
 * number of rounds is chosen too at the cost of predictions only. */
#define PARUS_SELECT_MAX_WEIGHTS 8

typedef struct parus_classify_candidate {
    const char *name; /* shown in reports; borrowed */
    parus_derive_options derive;
    parus_classify_options opt;
    size_t round_step;
    /* opt.learner ENSEMBLE: the network's weights to score (each, at each number of rounds, from
     * the same model: predictions only), in order; the first of equal scores is chosen, so list
     * them from least network to most. A chosen weight of 0 retrains trees alone. 0 weights:
     * opt.tcnn_weight only. */
    double tcnn_weights[PARUS_SELECT_MAX_WEIGHTS];
    size_t n_tcnn_weights;
} parus_classify_candidate;

#define PARUS_SELECT_MAX_CANDIDATES 16

/* The built-in grid of `parus evaluate --select`, fixed before any data was scored with it (the
 * reasons are in docs/method.md, "Crop classifier"): feature sets base (the dataset's own),
 * deriv (+ nd(nir, mir) with summaries and the first differences of every series) and smooth
 * (deriv + the upper-envelope Whittaker NDVI and EVI series), each with the default trees
 * (depth 6, colsample 0.8) and with shallower, more column-sampled ones (depth 4, colsample 0.4);
 * eta 0.1, subsample 0.8, rounds scored at 100, 200 and 300. Writes at most cap candidates into
 * out (each with n_threads) and returns how many the grid has. */
PARUS_API size_t parus_classify_select_grid(parus_classify_candidate *out, size_t cap,
                                            int n_threads);

/* What nested selection did for one outer fold. */
typedef struct parus_select_fold {
    int fold;           /* the outer fold's value in ds->fold */
    size_t n_test;      /* its samples */
    size_t chosen;      /* the candidate chosen on the inner folds (index into the list) */
    size_t n_rounds;    /* ... and its rounds */
    double tcnn_weight; /* ... and the network's weight (0 for trees alone) */
    /* Each candidate's pooled inner macro-F1 at its best rounds, and those rounds. */
    double inner_macro_f1[PARUS_SELECT_MAX_CANDIDATES];
    size_t inner_rounds[PARUS_SELECT_MAX_CANDIDATES];
    double inner_tcnn_weight[PARUS_SELECT_MAX_CANDIDATES]; /* ... and network weights */
    /* A candidate with network weights: each weight's best pooled inner macro-F1 over rounds. */
    double inner_weight_macro_f1[PARUS_SELECT_MAX_CANDIDATES][PARUS_SELECT_MAX_WEIGHTS];
    double accuracy; /* the chosen model's overall accuracy on this outer fold */
} parus_select_fold;

typedef struct parus_selection {
    size_t n_folds;
    parus_select_fold *fold; /* n_folds, in fold order */
    size_t n_samples;
    size_t *pred; /* n_samples: each sample's predicted class, by its outer fold's chosen model */
} parus_selection;

PARUS_API void parus_selection_release(parus_selection *s);

/* Nested grouped cross-validation: for each outer fold f, an inner grouped k-fold over the other
 * folds (each inner fold scored by a model trained on the remaining ones) scores every candidate
 * at each of its rounds by the macro-F1 of the pooled inner predictions; the best (ties: the
 * earlier candidate, then fewer rounds) is retrained on all folds but f and scores f. Fold f's
 * samples take no part in choosing its configuration. An ENSEMBLE candidate with tcnn_weights
 * is scored at every (rounds, weight) pair. *out gets the pooled outer confusion
 * matrix and *sel (both initialised by this function) what each fold chose. Needs at least three
 * folds. Threads: the largest n_threads of the candidates (0, all cores, above any), used as in
 * parus_classify_evaluate. Deterministic: the same data and candidates give the same result for
 * any thread count. Errors: E_INVALID (no folds, fewer than three, no candidate or more than
 * PARUS_SELECT_MAX_CANDIDATES, a round_step above n_rounds, a weight outside 0..1 or more than
 * PARUS_SELECT_MAX_WEIGHTS, weights for a learner that is not ENSEMBLE), and those of
 * parus_dataset_derive,
 * train and predict. */
PARUS_API parus_status parus_classify_evaluate_select(const parus_dataset *ds,
                                                      const parus_classify_candidate *cand,
                                                      size_t n_cand, parus_confusion *out,
                                                      parus_selection *sel, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * forest_int.h - an XGBoost multi-class tree ensemble re-laid out for fast prediction (forest.c
 * says how). Built from the booster's JSON model; predicts the same probabilities as XGBoost's
 * own predictor (the same float margins, summed tree by tree in the same order, and the same
 * softmax). Not part of the public API: parus_model_predict uses it (classify.c).
 */
#ifndef PARUS_FOREST_INT_H
#define PARUS_FOREST_INT_H

#include <stddef.h>

#include "parus/error.h"

typedef struct parus__forest parus__forest;

/* The forest of an XGBoost model given as its JSON text (XGBoosterSaveModelToBuffer with
 * {"format": "json"}; json[0..len), need not end in NUL), for n_features features and n_classes
 * classes. *out gets NULL (and PARUS_OK) when the model is one the forest does not represent:
 * another booster than gbtree, another objective than multi:softprob, a categorical split, a tree
 * with more than PARUS__FOREST_MAX_LEAVES leaves; *why (when not NULL) then says which. Errors:
 * E_FORMAT (not the JSON of such a model: malformed, a feature or class out of range, arrays of
 * different lengths, a tree that is not a tree), E_NOMEM. */
#define PARUS__FOREST_MAX_LEAVES 64
parus_status parus__forest_from_json(const char *json, size_t len, size_t n_features,
                                     size_t n_classes, parus__forest **out, const char **why,
                                     parus_error *err);
void parus__forest_free(parus__forest *f);

/* Boosting rounds and trees in the forest. */
size_t parus__forest_n_rounds(const parus__forest *f);
size_t parus__forest_n_trees(const parus__forest *f);

/* Class probabilities of n rows of x (n x n_features doubles, row-major, NaN missing) from the
 * first n_rounds boosting rounds (0: all) into prob (n x n_classes). n_threads 0: OpenMP's
 * default. Each row's result depends on that row only, never on n_threads or on the other rows.
 * Errors: E_INVALID (n_rounds above the forest's), E_NOMEM. */
parus_status parus__forest_predict(const parus__forest *f, const double *x, size_t n,
                                   size_t n_rounds, int n_threads, double *prob, parus_error *err);

#endif

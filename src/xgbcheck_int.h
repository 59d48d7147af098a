/*
 * xgbcheck_int.h - a check of an XGBoost model's bytes before XGBoost reads them (xgbcheck.c says
 * why and what). Not part of the public API: parus_model_load uses it (classify.c).
 */
#ifndef PARUS_XGBCHECK_INT_H
#define PARUS_XGBCHECK_INT_H

#include <stddef.h>

#include "parus/error.h"

/* PARUS_OK when bytes[0..n_bytes) is the UBJSON model of a gbtree multi:softprob booster over
 * n_features features and n_classes classes whose every count, length, index and reference
 * XGBoost 1.7 trusts is consistent (xgbcheck.c lists them). Errors: E_FORMAT, the message a
 * phrase saying what is wrong (e.g. "tree 3: node 8's parent 327685 is not a node of the tree";
 * the caller prefixes the file), E_NOMEM, E_INVALID (no features or fewer than 2 classes). Reads
 * only bytes[0..n_bytes); allocates a few times the largest tree's node count; thread-safe. */
parus_status parus__xgb_model_check(const void *bytes, size_t n_bytes, size_t n_features,
                                    size_t n_classes, parus_error *err);

#endif

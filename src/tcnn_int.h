/*
 * tcnn_int.h - a small temporal convolutional network over the series among a dataset's features
 * (tcnn.c says what and why). Not part of the public API: the classifier's model (classify.c)
 * holds one beside its trees when trained with learner tcnn or ensemble.
 */
#ifndef PARUS_TCNN_INT_H
#define PARUS_TCNN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/classify.h"
#include "parus/error.h"

typedef struct parus__tcnn parus__tcnn;

typedef struct parus__tcnn_options {
    size_t n_filters;     /* per convolution layer: 32 */
    size_t kernel;        /* convolution width in steps, odd: 5 */
    size_t n_hidden;      /* units of the dense layer: 64 */
    size_t n_epochs;      /* passes over the training samples: 20 */
    size_t batch;         /* samples per Adam step: 32 */
    double learning_rate; /* Adam's step size: 1e-3 */
    double dropout;       /* after every hidden layer: 0.2 */
    uint64_t seed;        /* initial weights, sample order and dropout: 20240601 */
    int n_threads;        /* 0: OpenMP's default; the result does not depend on it */
} parus__tcnn_options;

void parus__tcnn_options_init(parus__tcnn_options *opt);

/* "<band>_<digits>" (and "<band>_s<digits>" when s_too): the band's length and the step number,
 * or false (classify.c). */
bool parus__series_name(const char *name, bool s_too, size_t *band_len, long *step);

/* Train on rows[0..n_rows) of ds (rows NULL: all) with per-row weights (NULL: all 1; the
 * classifier's class balance). The network's input is every band whose series (features named
 * <band>_<digits> or <band>_s<digits>) has the most steps, those with the same steps as the first
 * such band, one channel each. Errors: E_INVALID (bad options, no series of at least 4 steps, a
 * row or label out of range), E_NOMEM. Deterministic: the same for any n_threads. */
parus_status parus__tcnn_train(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                               const float *weight, const parus__tcnn_options *opt,
                               parus__tcnn **out, parus_error *err);

/* Class probabilities of n rows of x (n x the n_features the network was trained with) into prob
 * (n x n_classes). Each row depends on that row only. Errors: E_NOMEM. */
parus_status parus__tcnn_predict(const parus__tcnn *net, const double *x, size_t n, int n_threads,
                                 double *prob, parus_error *err);

void parus__tcnn_free(parus__tcnn *net);

/* The network's input: channels and steps. */
size_t parus__tcnn_n_channels(const parus__tcnn *net);
size_t parus__tcnn_n_steps(const parus__tcnn *net);

/* The network as bytes (little-endian, exact floats) into *buf (malloc'ed). E_NOMEM. */
parus_status parus__tcnn_encode(const parus__tcnn *net, unsigned char **buf, size_t *len,
                                parus_error *err);
/* The network of buf[0..len) for a model of n_features features and n_classes classes. Every
 * count, index and value is checked before use. Errors: E_FORMAT (the message says what is
 * wrong; the caller names the file), E_NOMEM. */
parus_status parus__tcnn_decode(const unsigned char *buf, size_t len, size_t n_features,
                                size_t n_classes, parus__tcnn **out, parus_error *err);

#endif

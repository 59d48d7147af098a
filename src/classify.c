/*
 * classify.c - crop type from a sample's features: datasets from wide CSVs (with series summaries
 * and phenology), features derived from each sample's own series, XGBoost training through its C
 * API, prediction by the same trees re-laid for speed (forest.c; XGBoost's in-place prediction
 * over the caller's doubles on request), the model file, grouped k-fold evaluation with the usual
 * figures, and nested selection of a configuration inside the training folds. An evaluation's
 * models are independent jobs fitted side by side on worker threads, each with its share of the
 * threads for XGBoost, and merged in job order.
 *
 * Workload: thousands to tens of thousands of labelled samples with a few hundred features for
 * training (a season's: up to hundreds of thousands with their thinned copies); up to millions of
 * parcels for prediction. Data is held densely as doubles in parus; XGBoost, which works in single
 * precision, is handed the training rows a block at a time and keeps only their bin indices.
 *
 * Assumptions: class and feature names are single-line text; the feature matrix fits in memory;
 * XGBoost >= 1.6 (UBJSON model buffers). Determinism comes from XGBoost's "hist" method with a
 * fixed seed: its histogram sums are reduced in a fixed order, so results do not depend on the
 * thread count (the tests check it).
 */
#include "parus/classify.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>
#include <xgboost/c_api.h>

#include "forest_int.h"
#include "omp_int.h"
#include "outfile_int.h"
#include "tcnn_int.h"
#include "parus/series.h"
#include "util_int.h"
#include "xgbcheck_int.h"

#ifndef PARUS_VERSION_STRING
#define PARUS_VERSION_STRING "unknown"
#endif

#define MODEL_MAGIC "parus-model"
#define MODEL_FORMAT_VERSION 3L
#define MODEL_FORMAT_TREES 2L /* what a model of trees alone is written as */
#define MODEL_FORMAT_OLDEST 1L
#define META_KEY_MAX 64
#define META_VALUE_MAX 4096
#define META_MAX_PAIRS 10000
#define MIN_SERIES_STEPS 4

struct parus_model {
    BoosterHandle booster;
    size_t n_classes, n_features;
    char **class_names;
    char **feature_names;
    char data_hash[65];
    char file_hash[65]; /* SHA-256 of the file the model was loaded from; "" when not loaded */
    char version[64];
    size_t n_meta;
    char **meta_key, **meta_value; /* n_meta each, in the order first set */
    int nthread;                   /* the booster's nthread as last set; -1 not set */
    parus_predictor predictor;
    parus__forest *forest; /* the trees re-laid for prediction (forest.c); NULL when not built
                              (PARUS_PREDICTOR=xgboost) or when it cannot hold the model */
    parus_learner learner;
    parus__tcnn *net;   /* the network (tcnn.c); NULL for TREES; booster NULL for TCNN */
    double tcnn_weight; /* the network's share of the probabilities */
};

/* ---- dataset ---- */

void parus_dataset_init(parus_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
}

static void free_names(char **names, size_t n)
{
    size_t i;
    if (!names)
        return;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void parus_dataset_release(parus_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->label);
    free(ds->fold);
    free_names(ds->class_names, ds->n_classes);
    free_names(ds->feature_names, ds->n_features);
    free_names(ds->fold_names, ds->n_fold_names);
    parus_dataset_init(ds);
}

static parus_status check_names(const char *const *names, size_t n, const char *what,
                                parus_error *err)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        if (!names[i] || !*names[i])
            return parus_fail(err, PARUS_E_INVALID, "%s name %zu is missing", what, i + 1);
        for (j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return parus_fail(err, PARUS_E_INVALID, "%s name '%s' appears twice", what,
                                  names[i]);
    }
    return PARUS_OK;
}

static char **copy_names(char *const *names, size_t n);

parus_status parus_dataset_setup(parus_dataset *ds, const char *const *feature_names,
                                 size_t n_features, const char *const *class_names,
                                 size_t n_classes, bool with_folds, parus_error *err)
{
    parus_dataset d;
    parus_status st;
    if (!ds || !feature_names || (!class_names && n_classes > 0) || n_features == 0)
        return parus_fail(err, PARUS_E_INVALID, "dataset setup: missing argument or no features");
    if ((st = check_names(feature_names, n_features, "feature", err)) != PARUS_OK ||
        (st = check_names(class_names, n_classes, "class", err)) != PARUS_OK)
        return st;
    parus_dataset_init(&d);
    d.n_features = n_features;
    d.n_classes = n_classes;
    /* copy_names only reads the strings */
    if (!(d.feature_names = copy_names((char *const *)feature_names, n_features)) ||
        !(d.class_names = copy_names((char *const *)class_names, n_classes)) ||
        (with_folds && !(d.fold = malloc(sizeof *d.fold)))) {
        parus_dataset_release(&d);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory setting up a dataset");
    }
    *ds = d;
    return PARUS_OK;
}

parus_status parus_dataset_add_row(parus_dataset *ds, const double *x, size_t label, int fold,
                                   parus_error *err)
{
    if (!ds || !x || ds->n_features == 0 || !ds->feature_names)
        return parus_fail(err, PARUS_E_INVALID, "add row: missing argument or no features");
    if (label >= ds->n_classes)
        return parus_fail(err, PARUS_E_INVALID, "add row: label %zu out of range (%zu classes)",
                          label, ds->n_classes);
    if (ds->fold && fold < 0)
        return parus_fail(err, PARUS_E_INVALID, "add row: fold %d is negative", fold);
    if (ds->n_samples == SIZE_MAX)
        return parus_fail(err, PARUS_E_NOMEM, "dataset too large");
    if (ds->n_samples + 1 > ds->cap_samples_) {
        size_t cap = ds->n_samples < 32 ? 64 : ds->n_samples * 2, nx;
        double *nxp;
        size_t *nl;
        if (cap < ds->n_samples || !parus__mul_size(cap, ds->n_features, &nx) ||
            !parus__mul_size(nx, sizeof *ds->x, &nx))
            return parus_fail(err, PARUS_E_NOMEM, "dataset too large");
        /* each realloc keeps the old block on failure, so the dataset stays consistent */
        if (!(nxp = realloc(ds->x, nx)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory growing the dataset");
        ds->x = nxp;
        if (!(nl = realloc(ds->label, cap * sizeof *nl)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory growing the dataset");
        ds->label = nl;
        if (ds->fold) {
            int *nf = realloc(ds->fold, cap * sizeof *nf);
            if (!nf)
                return parus_fail(err, PARUS_E_NOMEM, "out of memory growing the dataset");
            ds->fold = nf;
        }
        ds->cap_samples_ = cap;
    }
    memcpy(ds->x + ds->n_samples * ds->n_features, x, ds->n_features * sizeof *x);
    ds->label[ds->n_samples] = label;
    if (ds->fold)
        ds->fold[ds->n_samples] = fold;
    ds->n_samples++;
    return PARUS_OK;
}

void parus_csv_options_init(parus_csv_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->class_column = "label";
    opt->series_summaries = true;
    opt->phenology_band = "ndvi";
    opt->step_days = 16;
    parus_derive_options_init(&opt->derive);
}

/* True when name matches one entry of the comma-separated list (an entry ending in '*' is a
 * prefix). */
static bool in_list(const char *list, const char *name)
{
    const char *p = list;
    size_t n_name = strlen(name);
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[len - 1] == '*') {
            if (n_name >= len - 1 && strncmp(name, p, len - 1) == 0)
                return true;
        } else if (len == n_name && strncmp(name, p, len) == 0) {
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* "<band>_<digits>" (and "<band>_s<digits>" when s_too): the band's length and the step number,
 * or false. */
bool parus__series_name(const char *name, bool s_too, size_t *band_len, long *step)
{
    const char *us = strrchr(name, '_'), *digits;
    char *end;
    long v;
    if (!us || us == name)
        return false;
    digits = s_too && us[1] == 's' ? us + 2 : us + 1;
    if (*digits < '0' || *digits > '9')
        return false;
    errno = 0;
    v = strtol(digits, &end, 10);
    if (*end != '\0' || errno != 0 || v < 0)
        return false;
    *band_len = (size_t)(us - name);
    *step = v;
    return true;
}

static bool parse_cell(const char *s, double *out)
{
    char *end;
    double v;
    while (*s == ' ')
        s++;
    if (*s == '\0' || strcmp(s, "NA") == 0 || parus__strcasecmp(s, "nan") == 0) {
        *out = NAN;
        return true;
    }
    errno = 0;
    v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One band's series among the raw feature columns: feature indices ordered by step. */
typedef struct band_series {
    char name[128];
    size_t n;
    size_t *col;
    long *step;
} band_series;

static const char *const summary_names[] = {"mean", "std", "min", "max", "argmax"};
#define N_SUMMARIES 5
static const char *const pheno_names[] = {"n_cycles", "peak",     "base", "amplitude", "integral",
                                          "start",    "peak_day", "end",  "length"};
#define N_PHENO 9

/* The summaries of n series values: row[col[i]] (col NULL: row[i]). */
static void summarise(const double *row, const size_t *col, size_t n_steps, double *out)
{
    size_t i, n = 0, imax = 0;
    double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
    for (i = 0; i < n_steps; i++) {
        double v = row[col ? col[i] : i];
        if (!isfinite(v))
            continue;
        n++;
        sum += v;
        if (v < mn)
            mn = v;
        if (v > mx) {
            mx = v;
            imax = i;
        }
    }
    if (n == 0) {
        for (i = 0; i < N_SUMMARIES; i++)
            out[i] = NAN;
        return;
    }
    out[0] = sum / (double)n;
    for (i = 0; i < n_steps; i++) {
        double v = row[col ? col[i] : i];
        if (isfinite(v))
            sq += (v - out[0]) * (v - out[0]);
    }
    out[1] = sqrt(sq / (double)n);
    out[2] = mn;
    out[3] = mx;
    out[4] = (double)imax;
}

static parus_status phenology(parus_series *s, const double *row, const band_series *b,
                              size_t step_days, int64_t *day, double *value, double *out,
                              parus_error *err)
{
    parus_series_options sopt;
    parus_status st;
    const parus_phenology *p;
    size_t i;
    for (i = 0; i < b->n; i++) {
        day[i] = (int64_t)(i * step_days);
        value[i] = row[b->col[i]];
    }
    parus_series_options_init(&sopt);
    sopt.step_days = step_days;
    st =
        parus_series_run(s, &sopt, day, value, NULL, b->n, 0, (int64_t)(b->n * step_days - 1), err);
    if (st == PARUS_E_RANGE) {
        for (i = 0; i < N_PHENO; i++)
            out[i] = NAN;
        return PARUS_OK;
    }
    if (st != PARUS_OK)
        return st;
    p = &s->pheno;
    out[0] = (double)p->n_cycles;
    out[1] = p->peak_value;
    out[2] = p->base;
    out[3] = p->amplitude;
    out[4] = p->integral_10d;
    out[5] = p->start_day;
    out[6] = p->peak_day;
    out[7] = p->end_day;
    out[8] = p->length_days;
    return PARUS_OK;
}

/* What the reader collects before the derived features are known. */
typedef struct csv_rows {
    size_t n, cap, n_raw;
    double *x;         /* n x n_raw */
    char **label;      /* n */
    int *fold;         /* n */
    char **fold_text;  /* n: the fold cells, until they are numbered */
    char **fold_names; /* n_fold_names: text folds, sorted */
    size_t n_fold_names;
} csv_rows;

static void csv_rows_release(csv_rows *r)
{
    free(r->x);
    free_names(r->label, r->n);
    free(r->fold);
    free_names(r->fold_text, r->n);
    free_names(r->fold_names, r->n_fold_names);
}

static parus_status csv_rows_grow(csv_rows *r, parus_error *err)
{
    size_t cap = r->cap ? r->cap * 2 : 1024, nx;
    double *x;
    char **label;
    int *fold;
    if (!parus__mul_size(cap, r->n_raw ? r->n_raw : 1, &nx) || !parus__mul_size(nx, sizeof *x, &nx))
        return parus_fail(err, PARUS_E_NOMEM, "dataset too large");
    if (!(x = realloc(r->x, nx)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the dataset");
    r->x = x;
    if (!(label = realloc(r->label, cap * sizeof *label)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the dataset");
    r->label = label;
    if (!(fold = realloc(r->fold, cap * sizeof *fold)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the dataset");
    r->fold = fold;
    if (!(label = realloc(r->fold_text, cap * sizeof *label)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the dataset");
    r->fold_text = label;
    r->cap = cap;
    return PARUS_OK;
}

/* Sort b's columns by step (insertion sort: tens of columns). */
static void sort_series(band_series *b)
{
    size_t i, j;
    for (i = 1; i < b->n; i++) {
        size_t c = b->col[i];
        long s = b->step[i];
        for (j = i; j > 0 && b->step[j - 1] > s; j--) {
            b->col[j] = b->col[j - 1];
            b->step[j] = b->step[j - 1];
        }
        b->col[j] = c;
        b->step[j] = s;
    }
}

/* Group the raw feature columns into band series (at least MIN_SERIES_STEPS steps). */
static parus_status find_series(char *const *raw_names, size_t n_raw, bool s_too, band_series **out,
                                size_t *n_out, parus_error *err)
{
    band_series *bs = NULL;
    size_t n_bs = 0, i, j;
    for (i = 0; i < n_raw; i++) {
        size_t blen;
        long step;
        band_series *b = NULL;
        if (!parus__series_name(raw_names[i], s_too, &blen, &step) || blen >= sizeof bs->name)
            continue;
        for (j = 0; j < n_bs; j++)
            if (strlen(bs[j].name) == blen && strncmp(bs[j].name, raw_names[i], blen) == 0)
                b = &bs[j];
        if (!b) {
            band_series *nb = realloc(bs, (n_bs + 1) * sizeof *bs);
            if (!nb)
                goto fail_nomem;
            bs = nb;
            b = &bs[n_bs++];
            memset(b, 0, sizeof *b);
            memcpy(b->name, raw_names[i], blen);
            b->name[blen] = '\0';
            if (!(b->col = malloc(n_raw * sizeof *b->col)) ||
                !(b->step = malloc(n_raw * sizeof *b->step)))
                goto fail_nomem;
        }
        b->col[b->n] = i;
        b->step[b->n] = step;
        b->n++;
    }
    for (i = j = 0; i < n_bs; i++) {
        if (bs[i].n < MIN_SERIES_STEPS) {
            free(bs[i].col);
            free(bs[i].step);
            continue;
        }
        sort_series(&bs[i]);
        bs[j++] = bs[i];
    }
    *out = bs;
    *n_out = j;
    return PARUS_OK;
fail_nomem:
    for (i = 0; i < n_bs; i++) {
        free(bs[i].col);
        free(bs[i].step);
    }
    free(bs);
    return parus_fail(err, PARUS_E_NOMEM, "out of memory grouping series columns");
}

static void free_series(band_series *bs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(bs[i].col);
        free(bs[i].step);
    }
    free(bs);
}

/* Build ds from the collected rows: classes, derived features. */
static parus_status assemble(parus_dataset *ds, csv_rows *r, char **raw_names, bool have_fold,
                             const parus_csv_options *opt, const char *path, parus_error *err)
{
    band_series *bs = NULL;
    size_t n_bs = 0, n_feat, i, j, k, pheno_band = (size_t)-1, nx, max_steps = 0;
    char **sorted = NULL;
    parus_dataset d;
    parus_series s;
    int64_t *day = NULL;
    double *value = NULL;
    size_t *count = NULL;
    parus_status st;
    char name[192];

    parus_dataset_init(&d);
    parus_series_init(&s);
    if (opt->series_summaries || opt->phenology_band) {
        if ((st = find_series(raw_names, r->n_raw, false, &bs, &n_bs, err)) != PARUS_OK)
            return st;
    }
    n_feat = r->n_raw;
    if (opt->series_summaries)
        n_feat += n_bs * N_SUMMARIES;
    for (i = 0; i < n_bs; i++) {
        if (opt->phenology_band && strcmp(bs[i].name, opt->phenology_band) == 0)
            pheno_band = i;
        if (bs[i].n > max_steps)
            max_steps = bs[i].n;
    }
    if (pheno_band != (size_t)-1)
        n_feat += N_PHENO;
    if (opt->phenology_band && pheno_band != (size_t)-1 && opt->step_days == 0) {
        st = parus_fail(err, PARUS_E_INVALID, "step_days must be positive");
        goto out;
    }

    /* classes: sorted unique names */
    st = PARUS_E_NOMEM;
    if (!(sorted = malloc(r->n * sizeof *sorted)))
        goto out_nomem;
    memcpy(sorted, r->label, r->n * sizeof *sorted);
    qsort(sorted, r->n, sizeof *sorted, cmp_str);
    for (i = 0; i < r->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
            d.n_classes++;
    if (!(d.class_names = calloc(d.n_classes, sizeof *d.class_names)) ||
        !(count = calloc(d.n_classes, sizeof *count)))
        goto out_nomem;
    for (i = 0, k = 0; i < r->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
            if (!(d.class_names[k++] = parus__strdup(sorted[i])))
                goto out_nomem;
    if (!(d.label = malloc(r->n * sizeof *d.label)))
        goto out_nomem;
    for (i = 0; i < r->n; i++) {
        const char *key = r->label[i];
        char **hit = bsearch(&key, d.class_names, d.n_classes, sizeof *d.class_names, cmp_str);
        d.label[i] = (size_t)(hit - d.class_names);
        count[d.label[i]]++;
    }
    if (d.n_classes < 2) {
        st = parus_fail(err, PARUS_E_RANGE, "'%s' has fewer than two classes", path);
        goto out;
    }
    {
        size_t n_few = 0, used;
        char list[PARUS_ERROR_MSG_MAX];
        list[0] = '\0';
        used = 0;
        for (k = 0; k < d.n_classes; k++)
            if (count[k] < 2) {
                int w = snprintf(list + used, sizeof list - used, "%s'%s' (%zu)", n_few ? ", " : "",
                                 d.class_names[k], count[k]);
                if (w > 0 && used + (size_t)w < sizeof list)
                    used += (size_t)w;
                n_few++;
            }
        if (n_few > 0) {
            st = parus_fail(err, PARUS_E_RANGE,
                            "'%s': %zu class%s with fewer than two samples, which can be neither "
                            "trained nor scored: %s",
                            path, n_few, n_few == 1 ? "" : "es", list);
            goto out;
        }
    }

    /* features */
    d.n_samples = r->n;
    d.n_features = n_feat;
    if (!parus__mul_size(r->n, n_feat, &nx) || !parus__mul_size(nx, sizeof *d.x, &nx))
        goto out_nomem;
    if (!(d.x = malloc(nx)) || !(d.feature_names = calloc(n_feat, sizeof *d.feature_names)))
        goto out_nomem;
    for (j = 0; j < r->n_raw; j++)
        if (!(d.feature_names[j] = parus__strdup(raw_names[j])))
            goto out_nomem;
    k = r->n_raw;
    if (opt->series_summaries)
        for (i = 0; i < n_bs; i++)
            for (j = 0; j < N_SUMMARIES; j++) {
                snprintf(name, sizeof name, "%s_%s", bs[i].name, summary_names[j]);
                if (!(d.feature_names[k++] = parus__strdup(name)))
                    goto out_nomem;
            }
    if (pheno_band != (size_t)-1) {
        for (j = 0; j < N_PHENO; j++) {
            snprintf(name, sizeof name, "%s_pheno_%s", bs[pheno_band].name, pheno_names[j]);
            if (!(d.feature_names[k++] = parus__strdup(name)))
                goto out_nomem;
        }
        if (!(day = malloc(max_steps * sizeof *day)) ||
            !(value = malloc(max_steps * sizeof *value)))
            goto out_nomem;
    }
    for (i = 0; i < r->n; i++) {
        const double *raw = r->x + i * r->n_raw;
        double *row = d.x + i * n_feat;
        memcpy(row, raw, r->n_raw * sizeof *row);
        k = r->n_raw;
        if (opt->series_summaries)
            for (j = 0; j < n_bs; j++, k += N_SUMMARIES)
                summarise(raw, bs[j].col, bs[j].n, row + k);
        if (pheno_band != (size_t)-1) {
            st = phenology(&s, raw, &bs[pheno_band], opt->step_days, day, value, row + k, err);
            if (st != PARUS_OK)
                goto out;
        }
    }
    if (have_fold) {
        d.fold = r->fold;
        r->fold = NULL;
        d.fold_names = r->fold_names;
        d.n_fold_names = r->n_fold_names;
        r->fold_names = NULL;
        r->n_fold_names = 0;
    }
    *ds = d;
    parus_dataset_init(&d);
    st = PARUS_OK;
    goto out;
out_nomem:
    st = parus_fail(err, PARUS_E_NOMEM, "out of memory building the dataset from '%s'", path);
out:
    parus_dataset_release(&d);
    parus_series_release(&s);
    free(day);
    free(value);
    free(count);
    free(sorted);
    free_series(bs, n_bs);
    return st;
}

/* ---- derived features ---- */

void parus_derive_options_init(parus_derive_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->smooth_lambda = 2.0;
}

static bool derive_any(const parus_derive_options *opt)
{
    return (opt->nd_pairs && *opt->nd_pairs) || opt->differences ||
           (opt->smooth_bands && *opt->smooth_bands);
}

enum { DERIVE_ND, DERIVE_DIFF, DERIVE_SMOOTH };

/* One derived group: from the series in output columns a[] (and b[] for ND), n steps, into the
 * output columns from dst on. */
typedef struct derive_op {
    int kind;
    size_t n, dst;
    size_t *a, *b;
} derive_op;

struct parus_derive {
    size_t n_in, n_out;
    char **names; /* n_out */
    size_t n_ops;
    derive_op *ops;
    double lambda;
};

void parus_derive_free(parus_derive *d)
{
    size_t i;
    if (!d)
        return;
    free_names(d->names, d->n_out);
    for (i = 0; i < d->n_ops; i++) {
        free(d->ops[i].a);
        free(d->ops[i].b);
    }
    free(d->ops);
    free(d);
}

size_t parus_derive_n_features(const parus_derive *d)
{
    return d->n_out;
}

const char *parus_derive_feature_name(const parus_derive *d, size_t i)
{
    return i < d->n_out ? d->names[i] : NULL;
}

/* A series known to the plan: its band name and output columns in step order. */
typedef struct plan_series {
    char band[128];
    size_t n;
    size_t *col;
    long *step;
} plan_series;

/* A plan under construction. */
typedef struct plan_builder {
    parus_derive *d;
    size_t cap_names;
    plan_series *ser;
    size_t n_ser;
} plan_builder;

static bool plan_has_name(const plan_builder *pb, const char *name)
{
    size_t i;
    for (i = 0; i < pb->d->n_out; i++)
        if (strcmp(pb->d->names[i], name) == 0)
            return true;
    return false;
}

/* Append a feature name (formatted "%s%s%s": prefix, middle, suffix). false: out of memory. */
static bool plan_add_name(plan_builder *pb, const char *a, const char *b, const char *c)
{
    size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
    char *name;
    if (pb->d->n_out == pb->cap_names) {
        size_t cap = pb->cap_names ? pb->cap_names * 2 : 64;
        char **nn = realloc(pb->d->names, cap * sizeof *nn);
        if (!nn)
            return false;
        pb->d->names = nn;
        pb->cap_names = cap;
    }
    if (!(name = malloc(len)))
        return false;
    snprintf(name, len, "%s%s%s", a, b, c);
    pb->d->names[pb->d->n_out++] = name;
    return true;
}

/* Append an op with n steps (b too when with_b); its a/b columns are the caller's to fill. */
static derive_op *plan_add_op(plan_builder *pb, int kind, size_t n, bool with_b)
{
    derive_op *ops = realloc(pb->d->ops, (pb->d->n_ops + 1) * sizeof *ops), *op;
    if (!ops)
        return NULL;
    pb->d->ops = ops;
    op = &ops[pb->d->n_ops];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->n = n;
    op->dst = pb->d->n_out;
    if (!(op->a = malloc(n * sizeof *op->a)) || (with_b && !(op->b = malloc(n * sizeof *op->b)))) {
        free(op->a);
        return NULL;
    }
    pb->d->n_ops++;
    return op;
}

static plan_series *plan_find(plan_builder *pb, const char *band, size_t len)
{
    size_t i;
    for (i = 0; i < pb->n_ser; i++)
        if (strlen(pb->ser[i].band) == len && strncmp(pb->ser[i].band, band, len) == 0)
            return &pb->ser[i];
    return NULL;
}

/* The step suffix ("03", "s03") of a series column's name. */
static const char *step_suffix(const plan_builder *pb, const plan_series *s, size_t i)
{
    return pb->d->names[s->col[i]] + strlen(s->band) + 1;
}

/* Add nd_<a>_<b>: its steps, its summaries, and the new series. */
static parus_status plan_nd(plan_builder *pb, const plan_series *a, const plan_series *b,
                            parus_error *err)
{
    char prefix[300];
    plan_series ns;
    derive_op *op;
    size_t i;
    snprintf(prefix, sizeof prefix, "nd_%s_%s", a->band, b->band);
    if (strlen(prefix) >= sizeof ns.band)
        return PARUS_OK;
    for (i = 0; i < a->n; i++)
        if (a->step[i] != b->step[i])
            return PARUS_OK;
    memset(&ns, 0, sizeof ns);
    memcpy(ns.band, prefix, strlen(prefix) + 1); /* fits: checked above */
    if (plan_find(pb, ns.band, strlen(ns.band)))
        return PARUS_OK; /* already among the inputs */
    if (!(op = plan_add_op(pb, DERIVE_ND, a->n, true)))
        goto nomem;
    memcpy(op->a, a->col, a->n * sizeof *op->a);
    memcpy(op->b, b->col, b->n * sizeof *op->b);
    if (!(ns.col = malloc(a->n * sizeof *ns.col)) || !(ns.step = malloc(a->n * sizeof *ns.step))) {
        free(ns.col);
        goto nomem;
    }
    for (i = 0; i < a->n; i++) {
        ns.col[i] = pb->d->n_out;
        ns.step[i] = a->step[i];
        if (!plan_add_name(pb, prefix, "_", step_suffix(pb, a, i)))
            goto nomem_ns;
    }
    ns.n = a->n;
    for (i = 0; i < N_SUMMARIES; i++)
        if (!plan_add_name(pb, prefix, "_", summary_names[i]))
            goto nomem_ns;
    {
        plan_series *nser = realloc(pb->ser, (pb->n_ser + 1) * sizeof *nser);
        if (!nser)
            goto nomem_ns;
        pb->ser = nser;
        pb->ser[pb->n_ser++] = ns;
    }
    return PARUS_OK;
nomem_ns:
    free(ns.col);
    free(ns.step);
nomem:
    return parus_fail(err, PARUS_E_NOMEM, "out of memory planning derived features");
}

/* Add a per-step group of series s: "<band><tag><step>" for steps first.. of s. */
static parus_status plan_steps(plan_builder *pb, const plan_series *s, int kind, const char *tag,
                               parus_error *err)
{
    size_t first = kind == DERIVE_DIFF ? 1 : 0, i;
    char probe[400];
    derive_op *op;
    snprintf(probe, sizeof probe, "%s%s%s", s->band, tag, step_suffix(pb, s, first));
    if (plan_has_name(pb, probe))
        return PARUS_OK;
    if (!(op = plan_add_op(pb, kind, s->n, false)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory planning derived features");
    memcpy(op->a, s->col, s->n * sizeof *op->a);
    for (i = first; i < s->n; i++)
        if (!plan_add_name(pb, s->band, tag, step_suffix(pb, s, i)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory planning derived features");
    return PARUS_OK;
}

/* The next comma-separated entry of *p into buf (false at the end); *p moves past it. */
static bool next_entry(const char **p, char *buf, size_t cap, bool *too_long)
{
    const char *end;
    size_t len;
    *too_long = false;
    if (!*p || !**p)
        return false;
    end = strchr(*p, ',');
    len = end ? (size_t)(end - *p) : strlen(*p);
    if (len >= cap) {
        *too_long = true;
        len = cap - 1;
    }
    memcpy(buf, *p, len);
    buf[len] = '\0';
    *p = end ? end + 1 : *p + strlen(*p);
    return true;
}

parus_status parus_derive_new(const char *const *feature_names, size_t n_features,
                              const parus_derive_options *opt, parus_derive **out, parus_error *err)
{
    plan_builder pb;
    band_series *bs = NULL;
    size_t n_bs = 0, i;
    const char *p;
    char entry[130];
    bool too_long;
    parus_status st;

    if (!feature_names || !opt || !out)
        return parus_fail(err, PARUS_E_INVALID, "derive: missing argument");
    if (!(opt->smooth_lambda >= 0) || !isfinite(opt->smooth_lambda))
        return parus_fail(err, PARUS_E_INVALID, "derive: smoothing lambda must be >= 0");
    /* check the lists before anything is built */
    for (p = opt->nd_pairs; next_entry(&p, entry, sizeof entry, &too_long);) {
        char *colon = strchr(entry, ':');
        if (too_long || !colon || colon == entry || !colon[1] || strchr(colon + 1, ':'))
            return parus_fail(err, PARUS_E_INVALID,
                              "normalised-difference pair '%s' is not 'band:band'", entry);
    }
    for (p = opt->smooth_bands; next_entry(&p, entry, sizeof entry, &too_long);)
        if (too_long || !*entry)
            return parus_fail(err, PARUS_E_INVALID, "smoothing band '%s' is empty or too long",
                              entry);

    memset(&pb, 0, sizeof pb);
    if (!(pb.d = calloc(1, sizeof *pb.d)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory planning derived features");
    pb.d->n_in = n_features;
    pb.d->lambda = opt->smooth_lambda;
    for (i = 0; i < n_features; i++) {
        if (!feature_names[i]) {
            st = parus_fail(err, PARUS_E_INVALID, "derive: feature name %zu is missing", i + 1);
            goto fail;
        }
        if (!plan_add_name(&pb, feature_names[i], "", ""))
            goto fail_nomem;
    }
    if ((st = find_series((char *const *)feature_names, n_features, true, &bs, &n_bs, err)) !=
        PARUS_OK)
        goto fail;
    if (!(pb.ser = calloc(n_bs ? n_bs : 1, sizeof *pb.ser)))
        goto fail_nomem;
    for (i = 0; i < n_bs; i++) {
        plan_series *s = &pb.ser[pb.n_ser++];
        snprintf(s->band, sizeof s->band, "%s", bs[i].name);
        s->n = bs[i].n;
        s->col = bs[i].col;
        s->step = bs[i].step;
        bs[i].col = NULL;
        bs[i].step = NULL;
        if (s->n > PARUS_DERIVE_MAX_STEPS) {
            st = parus_fail(err, PARUS_E_INVALID, "series '%s' has %zu steps, more than %d",
                            s->band, s->n, PARUS_DERIVE_MAX_STEPS);
            goto fail;
        }
    }
    for (p = opt->nd_pairs; next_entry(&p, entry, sizeof entry, &too_long);) {
        char *colon = strchr(entry, ':');
        const plan_series *a = plan_find(&pb, entry, (size_t)(colon - entry));
        const plan_series *b = plan_find(&pb, colon + 1, strlen(colon + 1));
        if (a && b && a->n == b->n && (st = plan_nd(&pb, a, b, err)) != PARUS_OK)
            goto fail;
    }
    if (opt->differences) {
        size_t n_ser = pb.n_ser;
        for (i = 0; i < n_ser; i++)
            if ((st = plan_steps(&pb, &pb.ser[i], DERIVE_DIFF, "_diff", err)) != PARUS_OK)
                goto fail;
    }
    for (p = opt->smooth_bands; next_entry(&p, entry, sizeof entry, &too_long);) {
        const plan_series *s = plan_find(&pb, entry, strlen(entry));
        if (s && (st = plan_steps(&pb, s, DERIVE_SMOOTH, "_ws", err)) != PARUS_OK)
            goto fail;
    }
    *out = pb.d;
    pb.d = NULL;
    st = PARUS_OK;
    goto out;
fail_nomem:
    st = parus_fail(err, PARUS_E_NOMEM, "out of memory planning derived features");
fail:
    parus_derive_free(pb.d);
out:
    for (i = 0; i < pb.n_ser; i++) {
        free(pb.ser[i].col);
        free(pb.ser[i].step);
    }
    free(pb.ser);
    free_series(bs, n_bs);
    return st;
}

/* Upper-envelope Whittaker smoothing of y[n] into z[n] (NaN where y is). */
static void smooth_envelope(const double *y, size_t n, double lambda, double *z)
{
    double w[PARUS_DERIVE_MAX_STEPS], zz[PARUS_DERIVE_MAX_STEPS], work[3 * PARUS_DERIVE_MAX_STEPS];
    size_t i, n_finite = 0, pass;
    for (i = 0; i < n; i++) {
        w[i] = isfinite(y[i]) ? 1.0 : 0.0;
        n_finite += isfinite(y[i]) != 0;
    }
    if (n < 3 || n_finite < 3 ||
        parus_whittaker_smooth(y, w, n, lambda, zz, work, NULL) != PARUS_OK) {
        for (i = 0; i < n; i++)
            z[i] = NAN;
        return;
    }
    for (pass = 0; pass < 3; pass++) {
        double dmax = 0;
        for (i = 0; i < n; i++)
            if (w[i] > 0 && zz[i] - y[i] > dmax)
                dmax = zz[i] - y[i];
        if (!(dmax > 0))
            break;
        for (i = 0; i < n; i++)
            if (isfinite(y[i]))
                w[i] = y[i] >= zz[i] ? 1.0 : 1.0 - (zz[i] - y[i]) / dmax;
        if (parus_whittaker_smooth(y, w, n, lambda, zz, work, NULL) != PARUS_OK)
            break; /* keep the last curve */
    }
    for (i = 0; i < n; i++)
        z[i] = isfinite(y[i]) ? zz[i] : (double)NAN;
}

void parus_derive_row(const parus_derive *d, const double *in, double *out)
{
    double y[PARUS_DERIVE_MAX_STEPS];
    size_t k, i;
    memcpy(out, in, d->n_in * sizeof *out);
    for (k = 0; k < d->n_ops; k++) {
        const derive_op *op = &d->ops[k];
        double *dst = out + op->dst;
        switch (op->kind) {
        case DERIVE_ND:
            for (i = 0; i < op->n; i++) {
                double a = out[op->a[i]], b = out[op->b[i]];
                dst[i] = isfinite(a) && isfinite(b) && a + b != 0 ? (a - b) / (a + b) : (double)NAN;
            }
            summarise(dst, NULL, op->n, dst + op->n);
            break;
        case DERIVE_DIFF:
            for (i = 1; i < op->n; i++)
                dst[i - 1] = out[op->a[i]] - out[op->a[i - 1]];
            break;
        default:
            for (i = 0; i < op->n; i++)
                y[i] = out[op->a[i]];
            smooth_envelope(y, op->n, d->lambda, dst);
            break;
        }
    }
}

parus_status parus_dataset_derive(const parus_dataset *ds, const parus_derive_options *opt,
                                  parus_dataset *out, parus_error *err)
{
    parus_derive *plan;
    parus_dataset d;
    size_t i, nx;
    parus_status st;

    if (!ds || !opt || !out || (!ds->x && ds->n_samples))
        return parus_fail(err, PARUS_E_INVALID, "derive: missing argument");
    if ((st = parus_derive_new((const char *const *)ds->feature_names, ds->n_features, opt, &plan,
                               err)) != PARUS_OK)
        return st;
    parus_dataset_init(&d);
    d.n_samples = ds->n_samples;
    d.n_features = plan->n_out;
    d.n_classes = ds->n_classes;
    if (!parus__mul_size(ds->n_samples ? ds->n_samples : 1, plan->n_out, &nx) ||
        !parus__mul_size(nx, sizeof *d.x, &nx) || !(d.x = malloc(nx)) ||
        !(d.label = malloc((ds->n_samples ? ds->n_samples : 1) * sizeof *d.label)) ||
        (ds->fold && !(d.fold = malloc((ds->n_samples ? ds->n_samples : 1) * sizeof *d.fold))) ||
        !(d.class_names = copy_names(ds->class_names, ds->n_classes)) ||
        !(d.feature_names = copy_names(plan->names, plan->n_out))) {
        parus_dataset_release(&d);
        parus_derive_free(plan);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory deriving features");
    }
    d.cap_samples_ = ds->n_samples;
    for (i = 0; i < ds->n_samples; i++)
        parus_derive_row(plan, ds->x + i * ds->n_features, d.x + i * plan->n_out);
    if (ds->n_samples) {
        memcpy(d.label, ds->label, ds->n_samples * sizeof *d.label);
        if (ds->fold)
            memcpy(d.fold, ds->fold, ds->n_samples * sizeof *d.fold);
    }
    parus_derive_free(plan);
    *out = d;
    return PARUS_OK;
}

/* ---- leak rules: the columns that are not features ---- */

/* A word of a column's name and what it marks. */
static const struct leak_word {
    const char *word, *why;
} leak_words[] = {
    {"id", "its name marks an identifier"},         {"ids", "its name marks an identifier"},
    {"uid", "its name marks an identifier"},        {"uuid", "its name marks an identifier"},
    {"fid", "its name marks an identifier"},        {"gid", "its name marks an identifier"},
    {"oid", "its name marks an identifier"},        {"objectid", "its name marks an identifier"},
    {"key", "its name marks an identifier"},        {"index", "its name marks an identifier"},
    {"idx", "its name marks an identifier"},        {"row", "its name marks an identifier"},
    {"sample", "its name marks an identifier"},     {"name", "its name marks an identifier"},
    {"code", "its name marks an identifier"},       {"lat", "its name marks a coordinate"},
    {"lon", "its name marks a coordinate"},         {"lng", "its name marks a coordinate"},
    {"long", "its name marks a coordinate"},        {"latitude", "its name marks a coordinate"},
    {"longitude", "its name marks a coordinate"},   {"x", "its name marks a coordinate"},
    {"y", "its name marks a coordinate"},           {"easting", "its name marks a coordinate"},
    {"northing", "its name marks a coordinate"},    {"geometry", "its name marks a coordinate"},
    {"geom", "its name marks a coordinate"},        {"wkt", "its name marks a coordinate"},
    {"coord", "its name marks a coordinate"},       {"coords", "its name marks a coordinate"},
    {"date", "its name marks a date or time"},      {"dates", "its name marks a date or time"},
    {"time", "its name marks a date or time"},      {"datetime", "its name marks a date or time"},
    {"timestamp", "its name marks a date or time"}, {"doy", "its name marks a date or time"},
    {"day", "its name marks a date or time"},       {"month", "its name marks a date or time"},
    {"year", "its name marks a date or time"},      {"group", "its name marks a group or fold"},
    {"grp", "its name marks a group or fold"},      {"fold", "its name marks a group or fold"},
    {"folds", "its name marks a group or fold"},    {"cluster", "its name marks a group or fold"},
    {"block", "its name marks a group or fold"},    {"farm", "its name marks a group or fold"},
    {"site", "its name marks a group or fold"},     {"plot", "its name marks a group or fold"},
    {"parcel", "its name marks a group or fold"},   {"label", "its name marks a label"},
    {"labels", "its name marks a label"},           {"class", "its name marks a label"},
    {"target", "its name marks a label"},           {"truth", "its name marks a label"},
};

const char *parus_csv_leak_name(const char *column)
{
    const char *p = column;
    size_t i;
    if (!column)
        return NULL;
    while (*p) {
        char word[64];
        size_t n = 0;
        while (*p && !isalnum((unsigned char)*p))
            p++;
        while (*p && isalnum((unsigned char)*p)) {
            if (n + 1 < sizeof word)
                word[n++] = (char)tolower((unsigned char)*p);
            /* a lower-case letter followed by an upper-case one ends a word: plotId */
            if (islower((unsigned char)p[0]) && isupper((unsigned char)p[1])) {
                p++;
                break;
            }
            p++;
        }
        word[n] = '\0';
        if (n == 0)
            continue;
        for (i = 0; i < sizeof leak_words / sizeof leak_words[0]; i++)
            if (strcmp(word, leak_words[i].word) == 0)
                return leak_words[i].why;
    }
    return NULL;
}

/* Rows sorted by a key (the class or the fold), for the per-group rules. */
typedef struct keyed_row {
    size_t key, row;
} keyed_row;

static int cmp_keyed_row(const void *a, const void *b)
{
    const keyed_row *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* True when column j takes one value inside each run of equal keys of by[] (sorted by key), at
 * least two values overall, and has no missing value. */
static bool one_value_per_key(const csv_rows *r, size_t j, const keyed_row *by)
{
    size_t i;
    bool varies = false;
    for (i = 0; i < r->n; i++) {
        double v = r->x[by[i].row * r->n_raw + j];
        if (isnan(v))
            return false;
        if (i > 0) {
            double u = r->x[by[i - 1].row * r->n_raw + j];
            if (by[i].key == by[i - 1].key && v != u)
                return false;
            if (v != u)
                varies = true;
        }
    }
    return varies;
}

/* True when column j holds integers, one per row, all different, that are dense (their range at
 * most twice the rows) or in row order: a row identifier. tmp holds n doubles. */
static bool row_identifier(const csv_rows *r, size_t j, double *tmp)
{
    size_t i;
    bool up = true, down = true;
    for (i = 0; i < r->n; i++) {
        double v = r->x[i * r->n_raw + j];
        if (isnan(v) || v != floor(v) || fabs(v) > 9007199254740992.0)
            return false;
        tmp[i] = v;
        if (i > 0) {
            double u = r->x[(i - 1) * r->n_raw + j];
            up = up && v > u;
            down = down && v < u;
        }
    }
    qsort(tmp, r->n, sizeof *tmp, cmp_double);
    for (i = 1; i < r->n; i++)
        if (tmp[i] == tmp[i - 1])
            return false;
    return up || down || tmp[r->n - 1] - tmp[0] + 1 <= 2.0 * (double)r->n;
}

/* The data rules: column j's reason to be left out, or NULL. by_class and by_fold (NULL when no
 * folds or too few rows per group) are the rows sorted by class and by fold. */
static const char *leak_by_values(const csv_rows *r, size_t j, const keyed_row *by_class,
                                  const keyed_row *by_fold, double *tmp)
{
    if (row_identifier(r, j, tmp))
        return "its values are integers unique per row (dense or in row order): a row identifier";
    if (by_fold && one_value_per_key(r, j, by_fold))
        return "it has one value per fold group: a group attribute";
    if (one_value_per_key(r, j, by_class))
        return "it has one value per class: a copy of the label";
    return NULL;
}

/* Apply the data rules to the raw columns that are not forced (forced[j]): drop the columns they
 * mark from r and names, telling on_exclude. */
static parus_status drop_leaking_columns(csv_rows *r, char **names, const bool *forced,
                                         const parus_csv_options *opt, parus_error *err)
{
    keyed_row *by_class = NULL, *by_fold = NULL;
    double *tmp = NULL;
    bool *drop = NULL;
    char **cls = NULL;
    size_t i, j, jj, n_cls = 0, n_groups = 0, n_keep;
    parus_status st = PARUS_E_NOMEM;

    if (r->n < PARUS_LEAK_MIN_SAMPLES || r->n_raw == 0)
        return PARUS_OK;
    if (!(by_class = malloc(r->n * sizeof *by_class)) || !(tmp = malloc(r->n * sizeof *tmp)) ||
        !(drop = calloc(r->n_raw, sizeof *drop)) || !(cls = malloc(r->n * sizeof *cls)))
        goto out;
    /* class keys: the rank of each label among the sorted distinct labels */
    memcpy(cls, r->label, r->n * sizeof *cls);
    qsort(cls, r->n, sizeof *cls, cmp_str);
    for (i = 0; i < r->n; i++)
        if (i == 0 || strcmp(cls[i], cls[i - 1]) != 0)
            cls[n_cls++] = cls[i];
    for (i = 0; i < r->n; i++) {
        const char *key = r->label[i];
        char **hit = bsearch(&key, cls, n_cls, sizeof *cls, cmp_str);
        by_class[i].key = (size_t)(hit - cls);
        by_class[i].row = i;
    }
    qsort(by_class, r->n, sizeof *by_class, cmp_keyed_row);
    if (r->fold) {
        if (!(by_fold = malloc(r->n * sizeof *by_fold)))
            goto out;
        for (i = 0; i < r->n; i++) {
            by_fold[i].key = (size_t)r->fold[i];
            by_fold[i].row = i;
        }
        qsort(by_fold, r->n, sizeof *by_fold, cmp_keyed_row);
        for (i = 0; i < r->n; i++)
            if (i == 0 || by_fold[i].key != by_fold[i - 1].key)
                n_groups++;
        if (2 * n_groups > r->n) { /* mostly groups of one: every column would be constant */
            free(by_fold);
            by_fold = NULL;
        }
    }
    for (j = 0; j < r->n_raw; j++) {
        const char *why;
        if (forced[j] || !(why = leak_by_values(r, j, by_class, by_fold, tmp)))
            continue;
        drop[j] = true;
        if (opt->on_exclude)
            opt->on_exclude(opt->on_exclude_arg, names[j], why);
    }
    /* compact in place: a kept value moves to an index no larger than its own */
    for (j = 0, n_keep = 0; j < r->n_raw; j++)
        n_keep += !drop[j];
    if (n_keep < r->n_raw) {
        for (i = 0; i < r->n; i++)
            for (j = 0, jj = 0; j < r->n_raw; j++)
                if (!drop[j])
                    r->x[i * n_keep + jj++] = r->x[i * r->n_raw + j];
        for (j = 0, jj = 0; j < r->n_raw; j++) {
            if (drop[j])
                free(names[j]);
            else
                names[jj++] = names[j];
        }
        for (; jj < r->n_raw; jj++)
            names[jj] = NULL;
        r->n_raw = n_keep;
    }
    st = PARUS_OK;
out:
    if (st != PARUS_OK)
        parus_fail(err, PARUS_E_NOMEM, "out of memory checking the columns");
    free(by_class);
    free(by_fold);
    free(tmp);
    free(drop);
    free(cls);
    return st;
}

/* Number the text of the fold cells: non-negative integers as they are, else (any cell that is
 * not one) each distinct text its rank among the sorted texts. */
static parus_status number_folds(csv_rows *r, parus_error *err)
{
    size_t i, n = 0;
    bool numbers = true;
    char **sorted;
    for (i = 0; i < r->n && numbers; i++) {
        const char *fs = r->fold_text[i];
        char *end;
        long v;
        errno = 0;
        v = strtol(fs, &end, 10);
        numbers = *fs >= '0' && *fs <= '9' && !*end && !errno && v >= 0 && v <= 1000000;
        r->fold[i] = (int)v;
    }
    if (numbers)
        return PARUS_OK;
    if (!(sorted = malloc(r->n * sizeof *sorted)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory numbering the folds");
    memcpy(sorted, r->fold_text, r->n * sizeof *sorted);
    qsort(sorted, r->n, sizeof *sorted, cmp_str);
    for (i = 0; i < r->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
            sorted[n++] = sorted[i];
    if (!(r->fold_names = calloc(n, sizeof *r->fold_names))) {
        free(sorted);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory numbering the folds");
    }
    r->n_fold_names = n;
    for (i = 0; i < n; i++)
        if (!(r->fold_names[i] = parus__strdup(sorted[i]))) {
            free(sorted);
            return parus_fail(err, PARUS_E_NOMEM, "out of memory numbering the folds");
        }
    for (i = 0; i < r->n; i++) {
        const char *key = r->fold_text[i];
        char **hit = bsearch(&key, sorted, n, sizeof *sorted, cmp_str);
        r->fold[i] = (int)(hit - sorted);
    }
    free(sorted);
    return PARUS_OK;
}

static bool in_names(const char *const *names, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Every entry of include_columns names a column of the file that is neither the class nor the
 * fold. */
static parus_status check_includes(OGRFeatureDefnH defn, const parus_csv_options *opt,
                                   const char *path, parus_error *err)
{
    const char *p = opt->include_columns;
    int n_fields = OGR_FD_GetFieldCount(defn), i;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        for (i = 0; i < n_fields && !found; i++) {
            const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
            found = strlen(name) == len && strncmp(name, p, len) == 0;
        }
        if (len > 0 && !found)
            return parus_fail(err, PARUS_E_INVALID,
                              "'%s' has no column '%.*s' (asked to use it as a feature)", path,
                              (int)len, p);
        if ((len == strlen(opt->class_column) && strncmp(p, opt->class_column, len) == 0) ||
            (opt->fold_column && len == strlen(opt->fold_column) &&
             strncmp(p, opt->fold_column, len) == 0))
            return parus_fail(err, PARUS_E_INVALID,
                              "'%.*s' is the class or fold column of '%s': it cannot be a feature",
                              (int)len, p, path);
        p = end ? end + 1 : NULL;
    }
    return PARUS_OK;
}

/* Where field name goes: -1 left out (with *why, NULL when not told), 0 a feature by the rules,
 * 1 a feature by name (no rule applies). */
static int column_role(const char *name, const parus_csv_options *opt, const char **why)
{
    *why = NULL;
    if (opt->only_columns) {
        if (in_names(opt->only_columns, opt->n_only_columns, name))
            return 1;
        *why = "the model has no such feature";
        return -1;
    }
    if (opt->include_columns && in_list(opt->include_columns, name))
        return 1;
    if (opt->exclude_columns && in_list(opt->exclude_columns, name))
        return -1; /* the caller knows */
    if ((*why = parus_csv_leak_name(name)) != NULL)
        return -1;
    return 0;
}

parus_status parus_dataset_read_csv(parus_dataset *ds, const char *path,
                                    const parus_csv_options *opt, parus_error *err)
{
    static const char *const drivers[] = {"CSV", NULL};
    static const char *const open_opts[] = {"AUTODETECT_TYPE=NO", "KEEP_SOURCE_DEFINED_GEOMETRY=NO",
                                            NULL};
    parus__gdal_capture cap;
    GDALDatasetH gds;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    OGRFeatureH f;
    int n_fields = 0, i, class_idx = -1, fold_idx = -1;
    int *raw_field = NULL; /* field index of each raw feature */
    char **raw_names = NULL;
    bool *forced = NULL; /* raw feature named by the caller: no data rule */
    csv_rows r;
    size_t j, line;
    parus_status st;

    if (!ds || !path || !opt || !opt->class_column)
        return parus_fail(err, PARUS_E_INVALID, "read_csv: missing argument");
    memset(&r, 0, sizeof r);
    parus__gdal_init();
    parus__gdal_capture_begin(&cap);
    gds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, open_opts, NULL);
    parus__gdal_capture_end(&cap);
    if (!gds)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s' as CSV: %s", path,
                          parus__gdal_capture_msg(&cap, "no such file or not a CSV"));
    layer = GDALDatasetGetLayer(gds, 0);
    if (!layer) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' has no table", path);
        goto out_close;
    }
    defn = OGR_L_GetLayerDefn(layer);
    n_fields = OGR_FD_GetFieldCount(defn);
    if (!(raw_field = malloc((size_t)(n_fields > 0 ? n_fields : 1) * sizeof *raw_field)) ||
        !(raw_names = calloc((size_t)(n_fields > 0 ? n_fields : 1), sizeof *raw_names)) ||
        !(forced = calloc((size_t)(n_fields > 0 ? n_fields : 1), sizeof *forced))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
        goto out_close;
    }
    if (!opt->only_columns && (st = check_includes(defn, opt, path, err)) != PARUS_OK)
        goto out_close;
    for (i = 0; i < n_fields; i++) {
        const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), *why;
        int role;
        if (strcmp(name, opt->class_column) == 0) {
            class_idx = i;
        } else if (opt->fold_column && strcmp(name, opt->fold_column) == 0) {
            fold_idx = i;
        } else if ((role = column_role(name, opt, &why)) < 0) {
            if (why && opt->on_exclude)
                opt->on_exclude(opt->on_exclude_arg, name, why);
        } else {
            forced[r.n_raw] = role > 0;
            raw_field[r.n_raw] = i;
            if (!(raw_names[r.n_raw++] = parus__strdup(name))) {
                st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
                goto out_close;
            }
        }
    }
    if (class_idx < 0) {
        st = parus_fail(err, PARUS_E_INVALID, "'%s' has no class column '%s'", path,
                        opt->class_column);
        goto out_close;
    }
    if (opt->fold_column && fold_idx < 0) {
        st = parus_fail(err, PARUS_E_INVALID, "'%s' has no fold column '%s'", path,
                        opt->fold_column);
        goto out_close;
    }
    if (r.n_raw == 0) {
        st = parus_fail(err, PARUS_E_INVALID, "'%s' has no feature column", path);
        goto out_close;
    }
    OGR_L_ResetReading(layer);
    line = 1;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        const char *lab = OGR_F_GetFieldAsString(f, class_idx);
        line++;
        if (r.n == r.cap && (st = csv_rows_grow(&r, err)) != PARUS_OK) {
            OGR_F_Destroy(f);
            goto out_close;
        }
        if (!lab || !*lab) {
            st = parus_fail(err, PARUS_E_INVALID, "'%s' line %zu: empty class", path, line);
            OGR_F_Destroy(f);
            goto out_close;
        }
        if (fold_idx >= 0) {
            const char *fs = OGR_F_GetFieldAsString(f, fold_idx);
            if (!fs || !*fs) {
                st = parus_fail(err, PARUS_E_INVALID, "'%s' line %zu: empty fold", path, line);
                OGR_F_Destroy(f);
                goto out_close;
            }
        }
        for (j = 0; j < r.n_raw; j++) {
            const char *cell = OGR_F_GetFieldAsString(f, raw_field[j]);
            if (!parse_cell(cell, &r.x[r.n * r.n_raw + j])) {
                st = parus_fail(err, PARUS_E_INVALID,
                                "'%s' line %zu: column '%s' holds '%s', not a number (exclude "
                                "the column if it is not a feature)",
                                path, line, raw_names[j], cell);
                OGR_F_Destroy(f);
                goto out_close;
            }
        }
        r.fold_text[r.n] = NULL;
        if (!(r.label[r.n] = parus__strdup(lab)) ||
            (fold_idx >= 0 &&
             !(r.fold_text[r.n] = parus__strdup(OGR_F_GetFieldAsString(f, fold_idx))))) {
            free(r.label[r.n]);
            st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
            OGR_F_Destroy(f);
            goto out_close;
        }
        r.n++;
        OGR_F_Destroy(f);
    }
    if (r.n == 0) {
        st = parus_fail(err, PARUS_E_INVALID, "'%s' has no samples", path);
        goto out_close;
    }
    if (fold_idx >= 0 && (st = number_folds(&r, err)) != PARUS_OK)
        goto out_close;
    if (!opt->only_columns) {
        int *keep_fold = r.fold;
        if (fold_idx < 0)
            r.fold = NULL; /* allocated but not filled: no fold rule */
        st = drop_leaking_columns(&r, raw_names, forced, opt, err);
        r.fold = keep_fold;
        if (st != PARUS_OK)
            goto out_close;
        if (r.n_raw == 0) {
            st = parus_fail(err, PARUS_E_INVALID,
                            "'%s' has no feature column left (name the columns to use)", path);
            goto out_close;
        }
    }
    if (!derive_any(&opt->derive)) {
        st = assemble(ds, &r, raw_names, fold_idx >= 0, opt, path, err);
    } else {
        parus_dataset base;
        parus_dataset_init(&base);
        st = assemble(&base, &r, raw_names, fold_idx >= 0, opt, path, err);
        if (st == PARUS_OK) {
            st = parus_dataset_derive(&base, &opt->derive, ds, err);
            if (st != PARUS_OK) {
                parus_error_prefix(err, "'%s'", path);
            } else {
                ds->fold_names = base.fold_names;
                ds->n_fold_names = base.n_fold_names;
                base.fold_names = NULL;
                base.n_fold_names = 0;
            }
        }
        parus_dataset_release(&base);
    }
out_close:
    GDALClose(gds);
    csv_rows_release(&r);
    free_names(raw_names, (size_t)(n_fields > 0 ? n_fields : 0));
    free(raw_field);
    free(forced);
    return st;
}

/* ---- hashing ---- */

static void hex_of(const uint64_t h[4], char hex[65])
{
    int i;
    for (i = 0; i < 4; i++)
        snprintf(hex + 16 * i, 17, "%016llx", (unsigned long long)h[i]);
}

void parus_dataset_hash(const parus_dataset *ds, const size_t *rows, size_t n_rows, char hex[65])
{
    /* Fingerprint each piece, then the fingerprints: no copy of the whole matrix. */
    size_t n = rows ? n_rows : ds->n_samples, i, n_parts = n + 2;
    uint64_t(*parts)[4] = malloc(n_parts * sizeof *parts);
    uint64_t h[4];
    if (!parts) {
        memset(hex, '0', 64);
        hex[64] = '\0';
        return;
    }
    for (i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        uint64_t lab = ds->label[r], hr[4];
        parus__fingerprint(ds->x + r * ds->n_features, ds->n_features * sizeof(double), hr);
        hr[0] ^= lab * 0x9E3779B97F4A7C15ULL;
        memcpy(parts[i], hr, sizeof hr);
    }
    memset(parts[n], 0, sizeof parts[n]);
    memset(parts[n + 1], 0, sizeof parts[n + 1]);
    for (i = 0; i < ds->n_classes; i++) {
        parus__fingerprint(ds->class_names[i], strlen(ds->class_names[i]) + 1, h);
        parts[n][0] += h[0] * (i + 1);
        parts[n][1] ^= h[1] + i;
    }
    for (i = 0; i < ds->n_features; i++) {
        parus__fingerprint(ds->feature_names[i], strlen(ds->feature_names[i]) + 1, h);
        parts[n + 1][0] += h[0] * (i + 1);
        parts[n + 1][1] ^= h[1] + i;
    }
    parus__fingerprint(parts, n_parts * sizeof *parts, h);
    free(parts);
    hex_of(h, hex);
}

/* ---- training and prediction ---- */

void parus_classify_options_init(parus_classify_options *opt)
{
    opt->n_rounds = 300;
    opt->max_depth = 6;
    opt->eta = 0.1;
    opt->subsample = 0.8;
    opt->colsample = 0.8;
    opt->min_child_weight = 1.0;
    opt->lambda = 1.0;
    opt->max_bin = 64;
    opt->n_threads = 0;
    opt->seed = 20240601;
    opt->class_balance = 1.0;
    opt->learner = PARUS_LEARNER_TREES;
    opt->tcnn_weight = 0.5;
    opt->tcnn_epochs = 20;
}

static const char *const learner_names[] = {"trees", "tcnn", "ensemble"};

const char *parus_learner_name(parus_learner l)
{
    return (unsigned)l < sizeof learner_names / sizeof learner_names[0] ? learner_names[l] : NULL;
}

bool parus_learner_parse(const char *name, parus_learner *out)
{
    size_t i;
    for (i = 0; name && i < sizeof learner_names / sizeof learner_names[0]; i++)
        if (strcmp(name, learner_names[i]) == 0) {
            *out = (parus_learner)i;
            return true;
        }
    return false;
}

static parus_status xgb_fail(parus_error *err, const char *what)
{
    return parus_fail(err, PARUS_E_INTERNAL, "xgboost: %s: %s", what, XGBGetLastError());
}

static char **copy_names(char *const *names, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    size_t i;
    if (!out)
        return NULL;
    for (i = 0; i < n; i++)
        if (!(out[i] = parus__strdup(names[i]))) {
            free_names(out, n);
            return NULL;
        }
    return out;
}

void parus_model_free(parus_model *m)
{
    if (!m)
        return;
    if (m->booster)
        XGBoosterFree(m->booster);
    parus__forest_free(m->forest);
    parus__tcnn_free(m->net);
    free_names(m->class_names, m->n_classes);
    free_names(m->feature_names, m->n_features);
    free_names(m->meta_key, m->n_meta);
    free_names(m->meta_value, m->n_meta);
    free(m);
}

/* The training rows handed to XGBoost a block at a time (its callback iterator), which keeps only
 * their quantised form (a "quantile DMatrix": a bin index per value, 4 bytes, where a DMatrix
 * keeps a copy of every value besides, 8 bytes, and the float copy of the rows that built it was
 * 4 more). Rows that are all of x are read where they lie, as doubles that XGBoost rounds to
 * float as it reads them (what the float copy held); a subset (rows) is gathered into a block of
 * floats first. The values, labels and weights are the same, in the same order, as one matrix of
 * them all: the bins and so the model are the same bit for bit (tests/test_classify.c). */
#define TRAIN_BLOCK_ROWS 8192

typedef struct train_iter {
    const parus_dataset *ds;
    const size_t *rows; /* NULL: all of ds->x */
    size_t n_rows, next;
    const float *label, *weight; /* n_rows each; weight NULL: none */
    float *block;                /* TRAIN_BLOCK_ROWS x n_features when rows, else NULL */
    DMatrixHandle proxy;
    char failed[256]; /* XGBoost's message when setting a block failed; "" when none did */
} train_iter;

static void train_iter_reset(DataIterHandle h)
{
    ((train_iter *)h)->next = 0;
}

/* 1 when a block was set on the proxy, 0 at the end or on failure: XGBoost reads any other value
 * as "one more block", so a failure ends the blocks and is told by it->failed. */
static int train_iter_next(DataIterHandle h)
{
    train_iter *it = h;
    size_t nf = it->ds->n_features, n = it->n_rows - it->next, i, j;
    const void *data;
    char json[256];
    if (it->next >= it->n_rows)
        return 0;
    if (n > TRAIN_BLOCK_ROWS)
        n = TRAIN_BLOCK_ROWS;
    if (it->rows) {
        for (i = 0; i < n; i++) {
            const double *src = it->ds->x + it->rows[it->next + i] * nf;
            for (j = 0; j < nf; j++)
                it->block[i * nf + j] = (float)src[j];
        }
        data = it->block;
    } else {
        data = it->ds->x + it->next * nf;
    }
    snprintf(json, sizeof json,
             "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"%s\", "
             "\"version\": 3}",
             (unsigned long long)(uintptr_t)data, n, nf, it->rows ? "<f4" : "<f8");
    if (XGProxyDMatrixSetDataDense(it->proxy, json) != 0 ||
        XGDMatrixSetFloatInfo(it->proxy, "label", it->label + it->next, (bst_ulong)n) != 0 ||
        (it->weight &&
         XGDMatrixSetFloatInfo(it->proxy, "weight", it->weight + it->next, (bst_ulong)n) != 0)) {
        snprintf(it->failed, sizeof it->failed, "%s", XGBGetLastError());
        return 0;
    }
    it->next += n;
    return 1;
}

/* The quantile DMatrix of the training rows, labels and weights, with max_bin bins a feature;
 * *out written on success only. */
static parus_status train_matrix(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                                 const float *label, const float *weight, int max_bin,
                                 int n_threads, DMatrixHandle *out, parus_error *err)
{
    train_iter it;
    DMatrixHandle dm = NULL;
    char config[128];
    size_t n;
    parus_status st = PARUS_OK;

    memset(&it, 0, sizeof it);
    it.ds = ds;
    it.rows = rows;
    it.n_rows = n_rows;
    it.label = label;
    it.weight = weight;
    if (rows) {
        if (!parus__mul_size(TRAIN_BLOCK_ROWS, ds->n_features, &n) ||
            !parus__mul_size(n, sizeof *it.block, &n) || !(it.block = malloc(n)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory training");
    }
    if (XGProxyDMatrixCreate(&it.proxy) != 0) {
        st = xgb_fail(err, "training matrix");
        goto out;
    }
    snprintf(config, sizeof config, "{\"missing\": NaN, \"nthread\": %d, \"max_bin\": %d}",
             n_threads, max_bin);
    if (XGQuantileDMatrixCreateFromCallback(&it, it.proxy, NULL, train_iter_reset, train_iter_next,
                                            config, &dm) != 0) {
        st = xgb_fail(err, "training matrix");
    } else if (it.failed[0]) {
        XGDMatrixFree(dm);
        st = parus_fail(err, PARUS_E_INTERNAL, "xgboost: training matrix, block at row %zu: %s",
                        it.next, it.failed);
    } else {
        *out = dm;
    }
out:
    if (it.proxy)
        XGDMatrixFree(it.proxy);
    free(it.block);
    return st;
}

/* The training weights of parus_classify_options.class_balance: (n / (k n_c))^alpha per sample,
 * scaled to a mean of 1 so that min_child_weight and the regularisation keep their meaning.
 * Computed in double from integer counts, in row order: the same for any thread count. */
static float *class_weights(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                            double alpha)
{
    size_t *count = calloc(ds->n_classes, sizeof *count), i, k = 0;
    float *w = malloc(n_rows * sizeof *w);
    double sum = 0.0;
    if (!count || !w) {
        free(count);
        free(w);
        return NULL;
    }
    for (i = 0; i < n_rows; i++)
        count[ds->label[rows ? rows[i] : i]]++;
    for (i = 0; i < ds->n_classes; i++)
        k += count[i] > 0;
    for (i = 0; i < n_rows; i++) {
        size_t c = count[ds->label[rows ? rows[i] : i]];
        double v = pow((double)n_rows / ((double)k * (double)c), alpha);
        sum += v;
        w[i] = (float)v;
    }
    for (i = 0; i < n_rows; i++)
        w[i] = (float)((double)w[i] * (double)n_rows / sum);
    free(count);
    return w;
}

/* integral: print without decimals (XGBoost parses integer parameters strictly) */
static parus_status set_param(BoosterHandle b, const char *key, bool integral, double v,
                              parus_error *err)
{
    char buf[64];
    if (integral)
        snprintf(buf, sizeof buf, "%.0f", v);
    else
        snprintf(buf, sizeof buf, "%.17g", v);
    if (XGBoosterSetParam(b, key, buf) != 0)
        return xgb_fail(err, key);
    return PARUS_OK;
}

/* m's forest from its booster's JSON; NULL (and *why) when the forest does not represent it. */
static parus_status build_forest(parus_model *m, const char **why, parus_error *err)
{
    bst_ulong len;
    const char *json;
    parus_status st;

    if (m->forest)
        return PARUS_OK;
    if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"json\"}", &len, &json) != 0)
        return xgb_fail(err, "model export");
    st = parus__forest_from_json(json, (size_t)len, m->n_features, m->n_classes, &m->forest, why,
                                 err);
    if (st != PARUS_OK)
        parus_error_prefix(err, "prediction forest (PARUS_PREDICTOR=xgboost avoids it)");
    return st;
}

/* The predictor of a new model: FOREST where it represents the model, unless PARUS_PREDICTOR
 * says "xgboost". */
static parus_status choose_predictor(parus_model *m, parus_error *err)
{
    const char *env = getenv("PARUS_PREDICTOR"), *why = NULL;
    parus_status st;

    m->predictor = PARUS_PREDICTOR_XGBOOST;
    if (!m->booster || (env && strcmp(env, "xgboost") == 0))
        return PARUS_OK;
    if ((st = build_forest(m, &why, err)) != PARUS_OK)
        return st;
    if (m->forest)
        m->predictor = PARUS_PREDICTOR_FOREST;
    return PARUS_OK;
}

parus_status parus_model_set_predictor(parus_model *m, parus_predictor p, parus_error *err)
{
    const char *why = NULL;
    parus_status st;

    if (!m)
        return parus_fail(err, PARUS_E_INVALID, "set_predictor: missing model");
    if (!m->booster && (p == PARUS_PREDICTOR_XGBOOST || p == PARUS_PREDICTOR_FOREST)) {
        m->predictor = p; /* a network alone: no trees to predict with either way */
        return PARUS_OK;
    }
    if (p == PARUS_PREDICTOR_XGBOOST) {
        m->predictor = p;
        return PARUS_OK;
    }
    if (p != PARUS_PREDICTOR_FOREST)
        return parus_fail(err, PARUS_E_INVALID, "set_predictor: unknown predictor %d", (int)p);
    if ((st = build_forest(m, &why, err)) != PARUS_OK)
        return st;
    if (!m->forest)
        return parus_fail(err, PARUS_E_INVALID, "the prediction forest cannot hold the model: %s",
                          why ? why : "unsupported");
    m->predictor = p;
    return PARUS_OK;
}

parus_predictor parus_model_predictor(const parus_model *m)
{
    return m->predictor;
}

parus_status parus_model_train(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                               const parus_classify_options *opt, parus_model **out,
                               parus_error *err)
{
    parus_model *m;
    DMatrixHandle dm = NULL;
    float *yf = NULL, *wf = NULL;
    char seed[32];
    size_t i;
    parus_status st;

    if (!ds || !opt || !out || !ds->x || !ds->label)
        return parus_fail(err, PARUS_E_INVALID, "train: missing argument");
    if (!rows)
        n_rows = ds->n_samples;
    if (n_rows == 0 || ds->n_features == 0)
        return parus_fail(err, PARUS_E_INVALID, "train: no samples or no features");
    if (ds->n_classes < 2)
        return parus_fail(err, PARUS_E_RANGE, "train: fewer than two classes");
    if (opt->n_rounds == 0 || opt->n_rounds > 100000 || opt->max_depth < 1 || !(opt->eta > 0) ||
        !(opt->subsample > 0 && opt->subsample <= 1) ||
        !(opt->colsample > 0 && opt->colsample <= 1) || !(opt->min_child_weight >= 0) ||
        !(opt->lambda >= 0) || opt->max_bin < 2 || opt->max_bin > 65536 || opt->n_threads < 0 ||
        !(opt->class_balance >= 0 && opt->class_balance <= 1) ||
        !parus_learner_name(opt->learner) || !(opt->tcnn_weight >= 0 && opt->tcnn_weight <= 1) ||
        opt->tcnn_epochs == 0 || opt->tcnn_epochs > 100000)
        return parus_fail(err, PARUS_E_INVALID, "train: invalid options");
    for (i = 0; i < n_rows; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= ds->n_samples || ds->label[r] >= ds->n_classes)
            return parus_fail(err, PARUS_E_INVALID, "train: sample %zu out of range", r);
    }
    if (!(m = calloc(1, sizeof *m)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory training");
    m->n_classes = ds->n_classes;
    m->n_features = ds->n_features;
    snprintf(m->version, sizeof m->version, "%s", PARUS_VERSION_STRING);
    parus_dataset_hash(ds, rows, n_rows, m->data_hash);
    if (!(m->class_names = copy_names(ds->class_names, ds->n_classes)) ||
        !(m->feature_names = copy_names(ds->feature_names, ds->n_features)) ||
        !(yf = malloc(n_rows * sizeof *yf))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory training");
        goto out;
    }
    for (i = 0; i < n_rows; i++)
        yf[i] = (float)ds->label[rows ? rows[i] : i];
    if (opt->class_balance > 0 && !(wf = class_weights(ds, rows, n_rows, opt->class_balance))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory training");
        goto out;
    }
    m->learner = opt->learner;
    if (opt->learner != PARUS_LEARNER_TREES) {
        parus__tcnn_options topt;
        parus__tcnn_options_init(&topt);
        topt.n_epochs = opt->tcnn_epochs;
        topt.seed = opt->seed;
        topt.n_threads = opt->n_threads;
        if ((st = parus__tcnn_train(ds, rows, n_rows, wf, &topt, &m->net, err)) != PARUS_OK)
            goto out;
        m->tcnn_weight = opt->learner == PARUS_LEARNER_TCNN ? 1.0 : opt->tcnn_weight;
        if (opt->learner == PARUS_LEARNER_TCNN) {
            m->predictor = PARUS_PREDICTOR_FOREST;
            *out = m;
            m = NULL;
            st = PARUS_OK;
            goto out;
        }
    }
    if ((st = train_matrix(ds, rows, n_rows, yf, wf, (int)opt->max_bin, opt->n_threads, &dm,
                           err)) != PARUS_OK)
        goto out;
    if (XGBoosterCreate(&dm, 1, &m->booster) != 0) {
        st = xgb_fail(err, "booster");
        goto out;
    }
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(opt->seed % 2147483647ULL));
    if (XGBoosterSetParam(m->booster, "verbosity", "0") != 0 ||
        XGBoosterSetParam(m->booster, "objective", "multi:softprob") != 0 ||
        XGBoosterSetParam(m->booster, "tree_method", "hist") != 0 ||
        XGBoosterSetParam(m->booster, "seed", seed) != 0) {
        st = xgb_fail(err, "parameters");
        goto out;
    }
    if ((st = set_param(m->booster, "num_class", true, (double)ds->n_classes, err)) ||
        (st = set_param(m->booster, "max_depth", true, (double)opt->max_depth, err)) ||
        (st = set_param(m->booster, "eta", false, opt->eta, err)) ||
        (st = set_param(m->booster, "subsample", false, opt->subsample, err)) ||
        (st = set_param(m->booster, "colsample_bytree", false, opt->colsample, err)) ||
        (st = set_param(m->booster, "min_child_weight", false, opt->min_child_weight, err)) ||
        (st = set_param(m->booster, "lambda", false, opt->lambda, err)) ||
        (st = set_param(m->booster, "max_bin", true, (double)opt->max_bin, err)) ||
        (st = set_param(m->booster, "nthread", true, (double)opt->n_threads, err)))
        goto out;
    m->nthread = opt->n_threads;
    for (i = 0; i < opt->n_rounds; i++)
        if (XGBoosterUpdateOneIter(m->booster, (int)i, dm) != 0) {
            st = xgb_fail(err, "boosting round");
            goto out;
        }
    if ((st = choose_predictor(m, err)) != PARUS_OK)
        goto out;
    *out = m;
    m = NULL;
    st = PARUS_OK;
out:
    if (dm)
        XGDMatrixFree(dm);
    free(yf);
    free(wf);
    parus_model_free(m);
    return st;
}

size_t parus_model_n_classes(const parus_model *m)
{
    return m->n_classes;
}
size_t parus_model_n_features(const parus_model *m)
{
    return m->n_features;
}
const char *parus_model_class_name(const parus_model *m, size_t i)
{
    return i < m->n_classes ? m->class_names[i] : NULL;
}
const char *parus_model_feature_name(const parus_model *m, size_t i)
{
    return i < m->n_features ? m->feature_names[i] : NULL;
}
const char *parus_model_data_hash(const parus_model *m)
{
    return m->data_hash;
}
const char *parus_model_file_hash(const parus_model *m)
{
    return m->file_hash;
}
parus_learner parus_model_learner(const parus_model *m)
{
    return m->learner;
}

double parus_model_tcnn_weight(const parus_model *m)
{
    return m->net ? m->tcnn_weight : 0.0;
}

const char *parus_model_parus_version(const parus_model *m)
{
    return m->version;
}

static bool meta_key_ok(const char *key)
{
    size_t n = 0;
    const char *p;
    if (!key)
        return false;
    for (p = key; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return n >= 1 && n <= META_KEY_MAX;
}

static bool meta_value_ok(const char *value)
{
    return value && strlen(value) <= META_VALUE_MAX && !strchr(value, '\n') && !strchr(value, '\r');
}

parus_status parus_model_set_meta(parus_model *m, const char *key, const char *value,
                                  parus_error *err)
{
    size_t i;
    char *v, *k, **nk, **nv;
    if (!m)
        return parus_fail(err, PARUS_E_INVALID, "set meta: no model");
    if (!meta_key_ok(key))
        return parus_fail(err, PARUS_E_INVALID,
                          "model meta key '%s' is not 1..%d characters of [A-Za-z0-9_.-]",
                          key ? key : "(null)", META_KEY_MAX);
    if (!meta_value_ok(value))
        return parus_fail(err, PARUS_E_INVALID,
                          "model meta value of '%s' is missing, longer than %d bytes or has a "
                          "line break",
                          key, META_VALUE_MAX);
    if (!(v = parus__strdup(value)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory setting model meta '%s'", key);
    for (i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_key[i], key) == 0) {
            free(m->meta_value[i]);
            m->meta_value[i] = v;
            return PARUS_OK;
        }
    if (m->n_meta >= META_MAX_PAIRS) {
        free(v);
        return parus_fail(err, PARUS_E_INVALID, "model has %d meta keys already", META_MAX_PAIRS);
    }
    if (!(k = parus__strdup(key))) {
        free(v);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory setting model meta '%s'", key);
    }
    nk = realloc(m->meta_key, (m->n_meta + 1) * sizeof *nk);
    if (nk)
        m->meta_key = nk;
    nv = nk ? realloc(m->meta_value, (m->n_meta + 1) * sizeof *nv) : NULL;
    if (nv)
        m->meta_value = nv;
    if (!nk || !nv) {
        free(k);
        free(v);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory setting model meta '%s'", key);
    }
    m->meta_key[m->n_meta] = k;
    m->meta_value[m->n_meta] = v;
    m->n_meta++;
    return PARUS_OK;
}

const char *parus_model_meta(const parus_model *m, const char *key)
{
    size_t i;
    if (!m || !key)
        return NULL;
    for (i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_key[i], key) == 0)
            return m->meta_value[i];
    return NULL;
}

size_t parus_model_n_meta(const parus_model *m)
{
    return m ? m->n_meta : 0;
}

const char *parus_model_meta_key(const parus_model *m, size_t i)
{
    return m && i < m->n_meta ? m->meta_key[i] : NULL;
}

/* Setting a parameter makes XGBoost reconfigure the learner before its next prediction: do it only
 * when the thread count changes. */
static parus_status set_nthread(parus_model *m, int n_threads, parus_error *err)
{
    parus_status st;
    if (m->nthread == n_threads)
        return PARUS_OK;
    if ((st = set_param(m->booster, "nthread", true, (double)n_threads, err)) != PARUS_OK)
        return st;
    m->nthread = n_threads;
    return PARUS_OK;
}

static parus_status predict_trees(parus_model *m, const double *x, size_t n, int n_threads,
                                  size_t iter_end, double *prob, parus_error *err);
static parus_status predict_mixed(parus_model *m, const double *x, size_t n, int n_threads,
                                  size_t iter_end, double *prob, parus_error *err);

/* Probabilities of n contiguous rows of x from the first iter_end boosting rounds (0: all) and
 * the network, as the model is made. */
static parus_status predict_dense(parus_model *m, const double *x, size_t n, int n_threads,
                                  size_t iter_end, double *prob, parus_error *err)
{
    if (n == 0)
        return PARUS_OK;
    if (m->net)
        return predict_mixed(m, x, n, n_threads, iter_end, prob, err);
    return predict_trees(m, x, n, n_threads, iter_end, prob, err);
}

/* The network's probabilities, averaged with the trees' unless it is alone: p = (1 - w) p_trees
 * + w p_net, per class, in double. */
static parus_status predict_mixed(parus_model *m, const double *x, size_t n, int n_threads,
                                  size_t iter_end, double *prob, parus_error *err)
{
    double *pn, w = m->tcnn_weight;
    size_t i, nk;
    parus_status st;

    if (!m->booster)
        return parus__tcnn_predict(m->net, x, n, n_threads, prob, err);
    if (!parus__mul_size(n, m->n_classes, &nk) || !(pn = malloc(nk * sizeof *pn)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory predicting");
    if ((st = parus__tcnn_predict(m->net, x, n, n_threads, pn, err)) == PARUS_OK &&
        (st = predict_trees(m, x, n, n_threads, iter_end, prob, err)) == PARUS_OK)
        for (i = 0; i < nk; i++)
            prob[i] = (1.0 - w) * prob[i] + w * pn[i];
    free(pn);
    return st;
}

/* The trees' probabilities by the model's predictor: the forest (forest.c), or XGBoost's in-place
 * prediction, which reads the doubles where they lie (an array interface) and converts each to
 * float as a DMatrix would, so no copy of the matrix is made. */
static parus_status predict_trees(parus_model *m, const double *x, size_t n, int n_threads,
                                  size_t iter_end, double *prob, parus_error *err)
{
    char values[192], config[192];
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    size_t i, want;
    parus_status st;

    if (m->predictor == PARUS_PREDICTOR_FOREST)
        return parus__forest_predict(m->forest, x, n, iter_end, n_threads, prob, err);
    snprintf(values, sizeof values,
             "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f8\", "
             "\"version\": 3}",
             (unsigned long long)(uintptr_t)x, n, m->n_features);
    snprintf(config, sizeof config,
             "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": "
             "%zu, \"strict_shape\": false, \"cache_id\": 0, \"missing\": NaN}",
             iter_end);
    if ((st = set_nthread(m, n_threads, err)) != PARUS_OK)
        return st;
    if (XGBoosterPredictFromDense(m->booster, values, config, NULL, &shape, &dim, &res) != 0)
        return xgb_fail(err, "predict");
    want = n * m->n_classes;
    if (dim != 2 || shape[0] != n || shape[1] != m->n_classes)
        return parus_fail(err, PARUS_E_INTERNAL,
                          "xgboost: unexpected prediction shape for %zu rows", n);
    for (i = 0; i < want; i++)
        prob[i] = (double)res[i];
    return PARUS_OK;
}

/* predict_dense over the rows rows[0..n_rows) of x, gathered into contiguous blocks. */
static parus_status predict_rows(parus_model *m, const double *x, const size_t *rows, size_t n_rows,
                                 int n_threads, size_t iter_end, double *prob, parus_error *err)
{
    double *xr;
    size_t i, nx;
    parus_status st;

    if (n_rows == 0)
        return PARUS_OK;
    if (!parus__mul_size(n_rows, m->n_features, &nx) || !parus__mul_size(nx, sizeof *xr, &nx) ||
        !(xr = malloc(nx)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory predicting");
    for (i = 0; i < n_rows; i++)
        memcpy(xr + i * m->n_features, x + rows[i] * m->n_features, m->n_features * sizeof *xr);
    st = predict_dense(m, xr, n_rows, n_threads, iter_end, prob, err);
    free(xr);
    return st;
}

parus_status parus_model_predict(parus_model *m, const double *x, size_t n_samples,
                                 size_t n_features, int n_threads, double *prob, parus_error *err)
{
    if (!m || (!x && n_samples) || (!prob && n_samples) || n_threads < 0)
        return parus_fail(err, PARUS_E_INVALID, "predict: missing argument");
    if (n_features != m->n_features)
        return parus_fail(err, PARUS_E_INVALID, "predict: %zu features, the model has %zu",
                          n_features, m->n_features);
    return predict_dense(m, x, n_samples, n_threads, 0, prob, err);
}

void parus_classify_top2(const double *prob, size_t n_classes, size_t *best, size_t *second,
                         double *margin)
{
    size_t i, b = 0, s = 1;
    if (prob[1] > prob[0]) {
        b = 1;
        s = 0;
    }
    for (i = 2; i < n_classes; i++) {
        if (prob[i] > prob[b]) {
            s = b;
            b = i;
        } else if (prob[i] > prob[s]) {
            s = i;
        }
    }
    *best = b;
    *second = s;
    *margin = prob[b] - prob[s];
}

parus_status parus_model_check_dataset(const parus_model *m, const parus_dataset *ds,
                                       parus_error *err)
{
    size_t i;
    if (ds->n_features != m->n_features)
        return parus_fail(err, PARUS_E_CONFIG,
                          "the data has %zu features, the model was trained on %zu", ds->n_features,
                          m->n_features);
    for (i = 0; i < m->n_features; i++)
        if (strcmp(ds->feature_names[i], m->feature_names[i]) != 0)
            return parus_fail(err, PARUS_E_CONFIG,
                              "feature %zu is '%s' in the data but '%s' in the model", i + 1,
                              ds->feature_names[i], m->feature_names[i]);
    if (ds->n_classes != m->n_classes)
        return parus_fail(err, PARUS_E_CONFIG, "the data has %zu classes, the model %zu",
                          ds->n_classes, m->n_classes);
    for (i = 0; i < m->n_classes; i++)
        if (strcmp(ds->class_names[i], m->class_names[i]) != 0)
            return parus_fail(err, PARUS_E_CONFIG,
                              "class %zu is '%s' in the data but '%s' in the model", i + 1,
                              ds->class_names[i], m->class_names[i]);
    return PARUS_OK;
}

/* ---- model file ---- */

static bool single_line(const char *s)
{
    return s && *s && !strchr(s, '\n') && !strchr(s, '\r');
}

parus_status parus_model_save(const parus_model *m, const char *path, parus_error *err)
{
    bst_ulong len = 0;
    const char *buf = NULL;
    unsigned char *net_buf = NULL;
    size_t net_len = 0;
    parus_outfile *of;
    parus_status st;
    FILE *fp;
    size_t i;
    bool ok;

    for (i = 0; i < m->n_classes; i++)
        if (!single_line(m->class_names[i]))
            return parus_fail(err, PARUS_E_INVALID, "class name %zu is empty or has a line break",
                              i + 1);
    for (i = 0; i < m->n_features; i++)
        if (!single_line(m->feature_names[i]))
            return parus_fail(err, PARUS_E_INVALID, "feature name %zu is empty or has a line break",
                              i + 1);
    if (m->booster &&
        XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"ubj\"}", &len, &buf) != 0)
        return xgb_fail(err, "save model");
    if (m->net && (st = parus__tcnn_encode(m->net, &net_buf, &net_len, err)) != PARUS_OK)
        return st;
    /* beside path, fsynced and renamed: a failed write (a full disk) keeps the previous model */
    if ((st = parus_outfile_open(path, &of, err)) != PARUS_OK) {
        free(net_buf);
        return st;
    }
    fp = parus__outfile_stream(of);
    ok = fprintf(fp, "%s %ld\nparus-version %s\ndata-hash %s\n", MODEL_MAGIC,
                 m->net ? MODEL_FORMAT_VERSION : MODEL_FORMAT_TREES, m->version, m->data_hash) > 0;
    for (i = 0; ok && i < m->n_meta; i++)
        ok = fprintf(fp, "meta %s %s\n", m->meta_key[i], m->meta_value[i]) > 0;
    ok = ok && fprintf(fp, "classes %zu\n", m->n_classes) > 0;
    for (i = 0; ok && i < m->n_classes; i++)
        ok = fprintf(fp, "%s\n", m->class_names[i]) > 0;
    ok = ok && fprintf(fp, "features %zu\n", m->n_features) > 0;
    for (i = 0; ok && i < m->n_features; i++)
        ok = fprintf(fp, "%s\n", m->feature_names[i]) > 0;
    if (m->net) {
        ok = ok && fprintf(fp, "learner %s %.17g\ntcnn-bytes %zu\n", parus_learner_name(m->learner),
                           m->tcnn_weight, net_len) > 0;
        ok = ok && fwrite(net_buf, 1, net_len, fp) == net_len;
    }
    free(net_buf);
    if (m->booster) {
        ok = ok && fprintf(fp, "xgboost-ubj %llu\n", (unsigned long long)len) > 0;
        ok = ok && fwrite(buf, 1, (size_t)len, fp) == (size_t)len;
    }
    if (!ok) {
        int e = errno;
        parus_outfile_abort(of);
        return parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return parus_outfile_commit(of, err);
}

/* A cursor over the loaded file. */
typedef struct reader {
    const char *p, *end;
} reader;

/* The next line (without '\n') copied into a malloc'ed string, or NULL at the end / no '\n'. */
static char *next_line(reader *r)
{
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    char *s;
    if (!nl)
        return NULL;
    s = parus__strndup(r->p, (size_t)(nl - r->p));
    r->p = nl + 1;
    return s;
}

/* "<key> <value>" on the next line: the value as a string (malloc'ed), or NULL. */
static char *keyed_line(reader *r, const char *key)
{
    char *line = next_line(r), *v;
    size_t k = strlen(key);
    if (!line)
        return NULL;
    if (strncmp(line, key, k) != 0 || line[k] != ' ') {
        free(line);
        return NULL;
    }
    v = parus__strdup(line + k + 1);
    free(line);
    return v;
}

static bool keyed_count(reader *r, const char *key, unsigned long long *n)
{
    char *v = keyed_line(r, key), *end;
    bool ok;
    if (!v)
        return false;
    errno = 0;
    *n = strtoull(v, &end, 10);
    ok = *v >= '0' && *v <= '9' && *end == '\0' && errno == 0;
    free(v);
    return ok;
}

static parus_status read_names(reader *r, const char *key, size_t limit, char ***names, size_t *n,
                               const char *path, parus_error *err)
{
    unsigned long long c;
    size_t i;
    /* each name takes at least its line end: a count above the bytes left is not allocated */
    if (!keyed_count(r, key, &c) || c > limit || c > (unsigned long long)(r->end - r->p))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated or corrupt (no %s list)", path,
                          key);
    if (!(*names = calloc(c ? (size_t)c : 1, sizeof **names)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
    *n = (size_t)c;
    for (i = 0; i < *n; i++)
        if (!((*names)[i] = next_line(r)))
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated (in the %s list)", path, key);
    return PARUS_OK;
}

/* Format 2's "meta <key> <value>" lines, up to the first line that is not one. */
static parus_status read_meta(reader *r, parus_model *m, const char *path, parus_error *err)
{
    for (;;) {
        const char *mark = r->p;
        char *line = next_line(r), *sp;
        parus_status st;
        if (!line)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated (in its header)", path);
        if (strncmp(line, "meta ", 5) != 0) {
            free(line);
            r->p = mark;
            return PARUS_OK;
        }
        sp = strchr(line + 5, ' ');
        if (sp)
            *sp = '\0';
        if (!sp || !meta_key_ok(line + 5) || !meta_value_ok(sp + 1) ||
            parus_model_meta(m, line + 5)) {
            free(line);
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is corrupt (a malformed meta line)", path);
        }
        st = parus_model_set_meta(m, line + 5, sp + 1, err);
        free(line);
        if (st == PARUS_E_INVALID)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is corrupt (too many meta lines)", path);
        if (st != PARUS_OK)
            return st;
    }
}

/* Format 3's "learner <name> <weight>" line and, unless the learner is trees, the network. */
static parus_status read_network(reader *r, parus_model *m, const char *path, parus_error *err)
{
    char *v = keyed_line(r, "learner"), *sp = v ? strchr(v, ' ') : NULL, *end = NULL;
    unsigned long long n;
    double w = NAN;
    parus_status st;

    if (sp) {
        *sp = '\0';
        w = parus__strtod_c(sp + 1, &end);
    }
    if (!sp || !parus_learner_parse(v, &m->learner) || end == sp + 1 || *end != '\0' ||
        !(w >= 0.0 && w <= 1.0)) {
        free(v);
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is corrupt (a malformed learner line)", path);
    }
    free(v);
    m->tcnn_weight = w;
    if (m->learner == PARUS_LEARNER_TREES)
        return PARUS_OK;
    if (!keyed_count(r, "tcnn-bytes", &n) || n > (unsigned long long)(r->end - r->p))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated or corrupt (no network bytes)",
                          path);
    if ((st = parus__tcnn_decode((const unsigned char *)r->p, (size_t)n, m->n_features,
                                 m->n_classes, &m->net, err)) != PARUS_OK) {
        parus_error_prefix(err, st == PARUS_E_FORMAT ? "'%s' is corrupt" : "'%s'", path);
        return st;
    }
    r->p += n;
    return PARUS_OK;
}

parus_status parus_model_load(const char *path, parus_model **out, parus_error *err)
{
    FILE *fp;
    char *data = NULL, *v = NULL;
    size_t size = 0, cap = 0, got;
    parus_model *m = NULL;
    reader r;
    unsigned long long len;
    long ver;
    char *end;
    parus_status st;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "load: missing argument");
    if (!(fp = fopen(path, "rb")))
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    do {
        if (size == cap) {
            char *nd;
            cap = cap ? cap * 2 : 65536;
            if (!(nd = realloc(data, cap))) {
                fclose(fp);
                free(data);
                return parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
            }
            data = nd;
        }
        got = fread(data + size, 1, cap - size, fp);
        size += got;
    } while (got > 0);
    if (ferror(fp)) {
        fclose(fp);
        free(data);
        return parus_fail(err, PARUS_E_IO, "cannot read '%s'", path);
    }
    fclose(fp);
    r.p = data;
    r.end = data + size;
    if (size < sizeof MODEL_MAGIC || memcmp(data, MODEL_MAGIC " ", sizeof MODEL_MAGIC) != 0) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is not a parus model file", path);
        goto out;
    }
    if (!(v = keyed_line(&r, MODEL_MAGIC))) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated (in its first line)", path);
        goto out;
    }
    errno = 0;
    ver = strtol(v, &end, 10);
    if (*end != '\0' || errno || ver < MODEL_FORMAT_OLDEST || ver > MODEL_FORMAT_VERSION) {
        st = parus_fail(err, PARUS_E_FORMAT,
                        "'%s' is a parus model of format version '%s'; this parus reads versions "
                        "%ld to %ld: retrain the model",
                        path, v, MODEL_FORMAT_OLDEST, MODEL_FORMAT_VERSION);
        goto out;
    }
    free(v);
    v = NULL;
    if (!(m = calloc(1, sizeof *m))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", path);
        goto out;
    }
    m->nthread = -1;
    /* the model's identity: every byte of the file (two models trained on the same data with
     * other rounds, or with their class names in another order, differ here) */
    parus__sha256(data, size, m->file_hash);
    if (!(v = keyed_line(&r, "parus-version")) || strlen(v) >= sizeof m->version) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated or corrupt (no parus version)",
                        path);
        goto out;
    }
    snprintf(m->version, sizeof m->version, "%s", v);
    free(v);
    if (!(v = keyed_line(&r, "data-hash")) || strlen(v) != 64) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated or corrupt (no data hash)", path);
        goto out;
    }
    memcpy(m->data_hash, v, 65);
    if (ver >= 2 && (st = read_meta(&r, m, path, err)) != PARUS_OK)
        goto out;
    if ((st = read_names(&r, "classes", 100000, &m->class_names, &m->n_classes, path, err)) ||
        (st = read_names(&r, "features", 10000000, &m->feature_names, &m->n_features, path, err)))
        goto out;
    if (m->n_classes < 2 || m->n_features == 0) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is corrupt (no classes or features)", path);
        goto out;
    }
    if (ver >= 3 && (st = read_network(&r, m, path, err)) != PARUS_OK)
        goto out;
    if (m->learner == PARUS_LEARNER_TCNN) {
        if (r.p != r.end) {
            st = parus_fail(err, PARUS_E_FORMAT, "'%s' is corrupt (bytes after the network)", path);
            goto out;
        }
        *out = m;
        m = NULL;
        st = PARUS_OK;
        goto out;
    }
    if (!keyed_count(&r, "xgboost-ubj", &len)) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' is truncated or corrupt (no model bytes)", path);
        goto out;
    }
    if (len != (unsigned long long)(r.end - r.p)) {
        st = parus_fail(err, PARUS_E_FORMAT,
                        "'%s' is truncated: %llu model bytes announced, %zu "
                        "present",
                        path, len, (size_t)(r.end - r.p));
        goto out;
    }
    /* XGBoost trusts the counts, lengths and indices it reads (a damaged file made it allocate
     * 2^54 bytes, or read past a tree's nodes): they are checked first (xgbcheck.c) */
    if ((st = parus__xgb_model_check(r.p, (size_t)len, m->n_features, m->n_classes, err)) !=
        PARUS_OK) {
        if (st == PARUS_E_FORMAT)
            parus_error_prefix(err, "'%s' is corrupt (its XGBoost model bytes)", path);
        else
            parus_error_prefix(err, "'%s'", path);
        goto out;
    }
    if (XGBoosterCreate(NULL, 0, &m->booster) != 0 ||
        XGBoosterLoadModelFromBuffer(m->booster, r.p, len) != 0) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s': xgboost refuses the model: %s", path,
                        XGBGetLastError());
        goto out;
    }
    if ((st = choose_predictor(m, err)) != PARUS_OK) {
        parus_error_prefix(err, "'%s'", path);
        goto out;
    }
    *out = m;
    m = NULL;
    st = PARUS_OK;
out:
    free(v);
    free(data);
    parus_model_free(m);
    return st;
}

/* ---- evaluation ---- */

parus_status parus_confusion_init(parus_confusion *c, size_t n_classes, parus_error *err)
{
    size_t nn;
    memset(c, 0, sizeof *c);
    if (n_classes == 0 || !parus__mul_size(n_classes, n_classes, &nn))
        return parus_fail(err, PARUS_E_INVALID, "confusion: bad class count");
    c->n_classes = n_classes;
    if (!(c->count = calloc(nn, sizeof *c->count)) ||
        !(c->precision = calloc(n_classes, sizeof(double))) ||
        !(c->recall = calloc(n_classes, sizeof(double))) ||
        !(c->f1 = calloc(n_classes, sizeof(double))) ||
        !(c->support = calloc(n_classes, sizeof *c->support))) {
        parus_confusion_release(c);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory for a confusion matrix");
    }
    return PARUS_OK;
}

void parus_confusion_release(parus_confusion *c)
{
    if (!c)
        return;
    free(c->count);
    free(c->precision);
    free(c->recall);
    free(c->f1);
    free(c->support);
    memset(c, 0, sizeof *c);
}

void parus_confusion_compute(parus_confusion *c)
{
    size_t k = c->n_classes, t, p, diag = 0, n_f1 = 0;
    double n, pe = 0, f1_sum = 0;
    c->n_total = 0;
    for (t = 0; t < k; t++) {
        c->support[t] = 0;
        for (p = 0; p < k; p++)
            c->support[t] += c->count[t * k + p];
        c->n_total += c->support[t];
        diag += c->count[t * k + t];
    }
    n = (double)c->n_total;
    for (t = 0; t < k; t++) {
        size_t predicted = 0;
        double tp = (double)c->count[t * k + t];
        for (p = 0; p < k; p++)
            predicted += c->count[p * k + t];
        c->precision[t] = predicted ? tp / (double)predicted : (double)NAN;
        c->recall[t] = c->support[t] ? tp / (double)c->support[t] : (double)NAN;
        if (c->support[t] == 0)
            c->f1[t] = NAN;
        else if (tp == 0)
            c->f1[t] = 0;
        else
            c->f1[t] = 2 * c->precision[t] * c->recall[t] / (c->precision[t] + c->recall[t]);
        if (c->support[t]) {
            f1_sum += c->f1[t];
            n_f1++;
        }
        if (n > 0)
            pe += ((double)c->support[t] / n) * ((double)predicted / n);
    }
    c->overall_accuracy = n > 0 ? (double)diag / n : (double)NAN;
    c->kappa = n > 0 && pe < 1 ? (c->overall_accuracy - pe) / (1 - pe) : (double)NAN;
    c->macro_f1 = n_f1 ? f1_sum / (double)n_f1 : (double)NAN;
}

/* ---- nested selection ---- */

size_t parus_classify_select_grid(parus_classify_candidate *out, size_t cap, int n_threads)
{
    static const struct {
        const char *name;
        int features; /* 0 base, 1 deriv, 2 smooth */
        int max_depth;
        double colsample;
    } grid[] = {
        {"base-d6", 0, 6, 0.8},    {"base-d4c4", 0, 4, 0.4}, {"deriv-d6", 1, 6, 0.8},
        {"deriv-d4c4", 1, 4, 0.4}, {"smooth-d6", 2, 6, 0.8}, {"smooth-d4c4", 2, 4, 0.4},
    };
    size_t n = sizeof grid / sizeof grid[0], i;
    for (i = 0; i < n && i < cap; i++) {
        parus_classify_candidate *c = &out[i];
        memset(c, 0, sizeof *c);
        c->name = grid[i].name;
        parus_derive_options_init(&c->derive);
        if (grid[i].features >= 1) {
            c->derive.nd_pairs = "nir:mir";
            c->derive.differences = true;
        }
        if (grid[i].features >= 2)
            c->derive.smooth_bands = "ndvi,evi";
        parus_classify_options_init(&c->opt);
        c->opt.max_depth = grid[i].max_depth;
        c->opt.colsample = grid[i].colsample;
        c->opt.n_rounds = 300;
        c->opt.n_threads = n_threads;
        c->round_step = 100;
    }
    return n;
}

void parus_selection_release(parus_selection *s)
{
    if (!s)
        return;
    free(s->fold);
    free(s->pred);
    memset(s, 0, sizeof *s);
}

static bool same_text(const char *a, const char *b)
{
    return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

static bool same_derive(const parus_derive_options *a, const parus_derive_options *b)
{
    if (!derive_any(a) || !derive_any(b))
        return !derive_any(a) && !derive_any(b);
    return same_text(a->nd_pairs, b->nd_pairs) && a->differences == b->differences &&
           same_text(a->smooth_bands, b->smooth_bands) &&
           (!(b->smooth_bands && *b->smooth_bands) || a->smooth_lambda == b->smooth_lambda);
}

/* The rounds at which candidate c is scored: the j-th of n_checkpoints(c). */
/* A candidate's checkpoints: each number of rounds, and within it each network weight. */
static size_t n_weights(const parus_classify_candidate *c)
{
    return c->n_tcnn_weights ? c->n_tcnn_weights : 1;
}

static size_t n_checkpoints(const parus_classify_candidate *c)
{
    if (c->round_step == 0)
        return n_weights(c);
    return (c->opt.n_rounds + c->round_step - 1) / c->round_step * n_weights(c);
}

static size_t checkpoint_rounds(const parus_classify_candidate *c, size_t j)
{
    size_t r = (j / n_weights(c) + 1) * c->round_step;
    return c->round_step == 0 || r > c->opt.n_rounds ? c->opt.n_rounds : r;
}

/* The network's weight at checkpoint j: the candidate's list, or the model's own. */
static double checkpoint_weight(const parus_classify_candidate *c, size_t j)
{
    if (c->n_tcnn_weights)
        return c->tcnn_weights[j % c->n_tcnn_weights];
    return c->opt.learner == PARUS_LEARNER_TREES  ? 0.0
           : c->opt.learner == PARUS_LEARNER_TCNN ? 1.0
                                                  : c->opt.tcnn_weight;
}

/* Add the argmax of each probability row of rows[0..n) to count (n_classes^2). */
static void count_predictions(const parus_dataset *ds, const size_t *rows, size_t n,
                              const double *prob, size_t *count)
{
    size_t i, k = ds->n_classes;
    for (i = 0; i < n; i++) {
        size_t best, second;
        double margin;
        parus_classify_top2(prob + i * k, k, &best, &second, &margin);
        count[ds->label[rows[i]] * k + best]++;
    }
}

/* The argmax of each probability row of rows[0..n) into pred[rows[i]]. */
static void store_predictions(const parus_dataset *ds, const size_t *rows, size_t n,
                              const double *prob, size_t *pred)
{
    size_t i, k = ds->n_classes;
    for (i = 0; i < n; i++) {
        size_t best, second;
        double margin;
        parus_classify_top2(prob + i * k, k, &best, &second, &margin);
        pred[rows[i]] = best;
    }
}

/* ---- fitting many models: the jobs of an evaluation ---- */

/* One model to fit and score: trained on the rows whose fold is neither fold_a nor fold_b, it
 * scores the rows of fold_a, and of fold_b when it differs, at each of n_ck numbers of rounds.
 * Jobs share nothing but the read-only dataset, so they run in any order on any thread and give
 * the same counts. */
typedef struct fit_job {
    const parus_dataset *ds;
    parus_classify_options opt; /* n_threads is set by run_jobs */
    int fold_a, fold_b;
    size_t n_ck;
    const size_t *ck_rounds; /* n_ck iteration ends (0: all rounds) */
    const double *ck_weight; /* n_ck network weights in place of the model's own; NULL: its own */
    size_t *count_a;         /* n_ck x n_classes^2, zeroed: predictions on fold_a */
    size_t *count_b;         /* the same on fold_b; NULL when fold_a == fold_b */
    size_t *pred; /* n_samples or NULL: fold_a's predictions at the last checkpoint, by row */
    parus_status st;
    parus_error err;
} fit_job;

static void fit_job_run(fit_job *j)
{
    const parus_dataset *ds = j->ds;
    size_t *train, *ta, *tb, n_train = 0, n_a = 0, n_b = 0, i, k,
                             kk = ds->n_classes * ds->n_classes;
    double *prob = NULL;
    parus_model *m = NULL;

    j->st = PARUS_E_NOMEM;
    train = malloc((ds->n_samples + 1) * sizeof *train);
    ta = malloc((ds->n_samples + 1) * sizeof *ta);
    tb = malloc((ds->n_samples + 1) * sizeof *tb);
    if (!train || !ta || !tb) {
        parus_fail(&j->err, PARUS_E_NOMEM, "out of memory evaluating");
        goto out;
    }
    for (i = 0; i < ds->n_samples; i++) {
        if (ds->fold[i] == j->fold_a)
            ta[n_a++] = i;
        else if (ds->fold[i] == j->fold_b)
            tb[n_b++] = i;
        else
            train[n_train++] = i;
    }
    if (!(prob = malloc(((n_a > n_b ? n_a : n_b) + 1) * ds->n_classes * sizeof *prob))) {
        parus_fail(&j->err, PARUS_E_NOMEM, "out of memory evaluating");
        goto out;
    }
    if ((j->st = parus_model_train(ds, train, n_train, &j->opt, &m, &j->err)) != PARUS_OK)
        goto out;
    for (k = 0; k < j->n_ck; k++) {
        if (j->ck_weight && m->net && m->booster) /* the job owns m: its weight is free to set */
            m->tcnn_weight = j->ck_weight[k];
        if ((j->st = predict_rows(m, ds->x, ta, n_a, j->opt.n_threads, j->ck_rounds[k], prob,
                                  &j->err)) != PARUS_OK)
            goto out;
        count_predictions(ds, ta, n_a, prob, j->count_a + k * kk);
        if (j->pred && k + 1 == j->n_ck)
            store_predictions(ds, ta, n_a, prob, j->pred);
        if (!j->count_b)
            continue;
        if ((j->st = predict_rows(m, ds->x, tb, n_b, j->opt.n_threads, j->ck_rounds[k], prob,
                                  &j->err)) != PARUS_OK)
            goto out;
        count_predictions(ds, tb, n_b, prob, j->count_b + k * kk);
    }
    j->st = PARUS_OK;
out:
    if (j->st != PARUS_OK) {
        if (j->fold_a == j->fold_b)
            parus_error_prefix(&j->err, "fold %d", j->fold_a);
        else
            parus_error_prefix(&j->err, "inner folds without %d and %d", j->fold_a, j->fold_b);
    }
    parus_model_free(m);
    free(prob);
    free(train);
    free(ta);
    free(tb);
}

typedef struct job_pool {
    fit_job *jobs;
    size_t n, next;
    pthread_mutex_t mu;
} job_pool;

static void *job_worker(void *arg)
{
    job_pool *pool = arg;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&pool->mu);
        i = pool->next++;
        pthread_mutex_unlock(&pool->mu);
        if (i >= pool->n)
            return NULL;
        fit_job_run(&pool->jobs[i]);
    }
}

/* Run the jobs on n_threads cores (0: OpenMP's default count): as many models at a time as there
 * are threads (up to the number of jobs), each given its share of the threads for XGBoost. Small
 * training sets scale far better across models than inside one (XGBoost's threads meet at a
 * barrier per tree level), and a busy machine does not stall one model's threads on another's.
 * The first failed job, in job order, gives the error. */
static parus_status run_jobs(fit_job *jobs, size_t n, int n_threads, parus_error *err)
{
    pthread_t tid[64];
    size_t n_workers, n_started = 0, i;
    int total = n_threads > 0 ? n_threads : parus__omp_max_threads();
    job_pool pool;

    if (total < 1)
        total = 1;
    n_workers = (size_t)total < n ? (size_t)total : n;
    if (n_workers > sizeof tid / sizeof tid[0])
        n_workers = sizeof tid / sizeof tid[0];
    if (n_workers < 1)
        n_workers = 1;
    for (i = 0; i < n; i++) {
        jobs[i].opt.n_threads = total / (int)n_workers > 1 ? total / (int)n_workers : 1;
        jobs[i].st = PARUS_E_INTERNAL;
        parus_error_init(&jobs[i].err);
    }
    pool.jobs = jobs;
    pool.n = n;
    pool.next = 0;
    if (pthread_mutex_init(&pool.mu, NULL) != 0)
        return parus_fail(err, PARUS_E_INTERNAL, "cannot create a mutex");
    /* a worker that cannot be started leaves its jobs to the others */
    while (n_started + 1 < n_workers &&
           pthread_create(&tid[n_started], NULL, job_worker, &pool) == 0)
        n_started++;
    job_worker(&pool);
    for (i = 0; i < n_started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&pool.mu);
    for (i = 0; i < n; i++)
        if (jobs[i].st != PARUS_OK) {
            if (err)
                *err = jobs[i].err;
            return jobs[i].st;
        }
    return PARUS_OK;
}

/* The distinct fold values that have samples, ascending, into *out (malloc'ed). */
static parus_status list_folds(const parus_dataset *ds, int **out, size_t *n_out, parus_error *err)
{
    int max_fold = -1, *val, f;
    unsigned char *seen;
    size_t i, n = 0;
    for (i = 0; i < ds->n_samples; i++)
        if (ds->fold[i] > max_fold)
            max_fold = ds->fold[i];
    seen = calloc((size_t)max_fold + 2, 1);
    val = malloc(((size_t)max_fold + 2) * sizeof *val);
    if (!seen || !val) {
        free(seen);
        free(val);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory evaluating");
    }
    for (i = 0; i < ds->n_samples; i++)
        seen[ds->fold[i]] = 1;
    for (f = 0; f <= max_fold; f++)
        if (seen[f])
            val[n++] = f;
    free(seen);
    *out = val;
    *n_out = n;
    return PARUS_OK;
}

parus_status parus_classify_evaluate(const parus_dataset *ds, const parus_classify_options *opt,
                                     parus_confusion *out, parus_error *err)
{
    return parus_classify_evaluate_predict(ds, opt, out, NULL, err);
}

parus_status parus_classify_evaluate_predict(const parus_dataset *ds,
                                             const parus_classify_options *opt,
                                             parus_confusion *out, size_t *pred, parus_error *err)
{
    static const size_t all_rounds = 0;
    fit_job *jobs = NULL;
    size_t *count = NULL, n_folds = 0, i, t, kk;
    int *fold_val = NULL;
    parus_confusion c;
    parus_status st;

    if (!ds || !opt || !out)
        return parus_fail(err, PARUS_E_INVALID, "evaluate: missing argument");
    if (!ds->fold)
        return parus_fail(err, PARUS_E_INVALID, "evaluate: the data has no folds");
    if ((st = parus_confusion_init(&c, ds->n_classes, err)) != PARUS_OK)
        return st;
    if ((st = list_folds(ds, &fold_val, &n_folds, err)) != PARUS_OK)
        goto out;
    if (n_folds < 2) {
        st = parus_fail(err, PARUS_E_INVALID, "evaluate: fewer than two folds");
        goto out;
    }
    kk = ds->n_classes * ds->n_classes;
    if (!(jobs = calloc(n_folds, sizeof *jobs)) || !(count = calloc(n_folds * kk, sizeof *count))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory evaluating");
        goto out;
    }
    for (i = 0; i < n_folds; i++) {
        jobs[i].ds = ds;
        jobs[i].opt = *opt;
        jobs[i].fold_a = jobs[i].fold_b = fold_val[i];
        jobs[i].n_ck = 1;
        jobs[i].ck_rounds = &all_rounds;
        jobs[i].count_a = count + i * kk;
        jobs[i].pred = pred;
    }
    if ((st = run_jobs(jobs, n_folds, opt->n_threads, err)) != PARUS_OK)
        goto out;
    for (i = 0; i < n_folds; i++)
        for (t = 0; t < kk; t++)
            c.count[t] += count[i * kk + t];
    parus_confusion_compute(&c);
    *out = c;
    memset(&c, 0, sizeof c);
    st = PARUS_OK;
out:
    parus_confusion_release(&c);
    free(jobs);
    free(count);
    free(fold_val);
    return st;
}

parus_status parus_classify_evaluate_select(const parus_dataset *ds,
                                            const parus_classify_candidate *cand, size_t n_cand,
                                            parus_confusion *out, parus_selection *sel,
                                            parus_error *err)
{
    static const size_t all_rounds = 0;
    parus_dataset derived[PARUS_SELECT_MAX_CANDIDATES];
    const parus_dataset *use[PARUS_SELECT_MAX_CANDIDATES];
    size_t ck_off[PARUS_SELECT_MAX_CANDIDATES + 1];
    size_t *ck_rounds = NULL, *jcount = NULL, *inner = NULL, *fcount = NULL;
    double *ck_weight = NULL;
    size_t n_folds = 0, n_pairs, n_jobs, i, c, j, p, q, t, kk, n_ck, job_ck;
    int *fold_val = NULL, n_threads = 0;
    fit_job *jobs = NULL;
    parus_confusion c_out, c_tmp;
    parus_selection s;
    parus_status st;

    if (!ds || !cand || !out || !sel)
        return parus_fail(err, PARUS_E_INVALID, "evaluate: missing argument");
    if (!ds->fold)
        return parus_fail(err, PARUS_E_INVALID, "evaluate: the data has no folds");
    if (n_cand == 0 || n_cand > PARUS_SELECT_MAX_CANDIDATES)
        return parus_fail(err, PARUS_E_INVALID, "evaluate: %zu candidates (1 to %d)", n_cand,
                          PARUS_SELECT_MAX_CANDIDATES);
    for (c = 0; c < n_cand; c++) {
        if (cand[c].round_step > cand[c].opt.n_rounds)
            return parus_fail(err, PARUS_E_INVALID,
                              "evaluate: candidate %zu scores every %zu rounds of %zu", c + 1,
                              cand[c].round_step, cand[c].opt.n_rounds);
        if (cand[c].n_tcnn_weights > PARUS_SELECT_MAX_WEIGHTS ||
            (cand[c].n_tcnn_weights && cand[c].opt.learner != PARUS_LEARNER_ENSEMBLE))
            return parus_fail(err, PARUS_E_INVALID,
                              "evaluate: candidate %zu: network weights need the ensemble "
                              "learner, at most %d",
                              c + 1, PARUS_SELECT_MAX_WEIGHTS);
        for (j = 0; j < cand[c].n_tcnn_weights; j++)
            if (!(cand[c].tcnn_weights[j] >= 0 && cand[c].tcnn_weights[j] <= 1))
                return parus_fail(err, PARUS_E_INVALID,
                                  "evaluate: candidate %zu: a network weight outside 0..1", c + 1);
        /* the largest thread count, 0 (all cores) above any */
        if (c == 0 || cand[c].opt.n_threads == 0 ||
            (n_threads != 0 && cand[c].opt.n_threads > n_threads))
            n_threads = cand[c].opt.n_threads;
    }
    kk = ds->n_classes * ds->n_classes;
    ck_off[0] = 0;
    for (c = 0; c < n_cand; c++)
        ck_off[c + 1] = ck_off[c] + n_checkpoints(&cand[c]);
    n_ck = ck_off[n_cand];
    memset(&s, 0, sizeof s);
    memset(&c_tmp, 0, sizeof c_tmp);
    memset(derived, 0, sizeof derived);
    if ((st = parus_confusion_init(&c_out, ds->n_classes, err)) != PARUS_OK)
        return st;
    if ((st = parus_confusion_init(&c_tmp, ds->n_classes, err)) != PARUS_OK ||
        (st = list_folds(ds, &fold_val, &n_folds, err)) != PARUS_OK)
        goto out;
    if (n_folds < 3) {
        st = parus_fail(err, PARUS_E_INVALID,
                        "evaluate: nested selection needs at least three folds, the data has %zu",
                        n_folds);
        goto out;
    }
    /* Inner models: the one trained without folds a and b serves outer fold a (scored on b) and
     * outer fold b (scored on a), so each pair of folds is fitted once per candidate. */
    n_pairs = n_folds * (n_folds - 1) / 2;
    n_jobs = n_pairs * n_cand;
    if (!(s.fold = calloc(n_folds, sizeof *s.fold)) ||
        !(ck_rounds = malloc(n_ck * sizeof *ck_rounds)) ||
        !(ck_weight = malloc(n_ck * sizeof *ck_weight)) ||
        !(jobs = calloc(n_jobs > n_folds ? n_jobs : n_folds, sizeof *jobs)) ||
        !(jcount = calloc(n_pairs * 2 * n_ck * kk, sizeof *jcount)) ||
        !(inner = calloc(n_folds * n_ck * kk, sizeof *inner)) ||
        !(fcount = calloc(n_folds * kk, sizeof *fcount)) ||
        !(s.pred = calloc(ds->n_samples + 1, sizeof *s.pred))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory evaluating");
        goto out;
    }
    s.n_folds = n_folds;
    s.n_samples = ds->n_samples;
    for (c = 0; c < n_cand; c++)
        for (j = 0; j < ck_off[c + 1] - ck_off[c]; j++) {
            ck_rounds[ck_off[c] + j] = checkpoint_rounds(&cand[c], j);
            ck_weight[ck_off[c] + j] = checkpoint_weight(&cand[c], j);
        }

    /* derived features: per sample, so computed once for all folds; shared by equal options */
    for (c = 0; c < n_cand; c++) {
        use[c] = ds;
        if (!derive_any(&cand[c].derive))
            continue;
        for (j = 0; j < c; j++)
            if (use[j] != ds && same_derive(&cand[j].derive, &cand[c].derive))
                use[c] = use[j];
        if (use[c] != ds)
            continue;
        if ((st = parus_dataset_derive(ds, &cand[c].derive, &derived[c], err)) != PARUS_OK) {
            parus_error_prefix(err, "candidate '%s'", cand[c].name ? cand[c].name : "?");
            goto out;
        }
        use[c] = &derived[c];
    }

    /* the inner cross-validations of every outer fold at once */
    i = 0;
    job_ck = 0;
    for (c = 0; c < n_cand; c++)
        for (p = 0; p < n_folds; p++)
            for (q = p + 1; q < n_folds; q++) {
                fit_job *jb = &jobs[i++];
                size_t n_c = ck_off[c + 1] - ck_off[c];
                jb->ds = use[c];
                jb->opt = cand[c].opt;
                jb->fold_a = fold_val[p];
                jb->fold_b = fold_val[q];
                jb->n_ck = n_c;
                jb->ck_rounds = ck_rounds + ck_off[c];
                jb->ck_weight = cand[c].n_tcnn_weights ? ck_weight + ck_off[c] : NULL;
                jb->count_a = jcount + job_ck * kk;
                jb->count_b = jcount + (job_ck + n_c) * kk;
                job_ck += 2 * n_c;
            }
    if ((st = run_jobs(jobs, n_jobs, n_threads, err)) != PARUS_OK)
        goto out;
    /* inner[f][checkpoint]: fold a's predictions count for outer fold b, and b's for a */
    i = 0;
    for (c = 0; c < n_cand; c++)
        for (p = 0; p < n_folds; p++)
            for (q = p + 1; q < n_folds; q++) {
                const fit_job *jb = &jobs[i++];
                for (j = 0; j < jb->n_ck * kk; j++) {
                    inner[(q * n_ck + ck_off[c]) * kk + j] += jb->count_a[j];
                    inner[(p * n_ck + ck_off[c]) * kk + j] += jb->count_b[j];
                }
            }

    /* each outer fold's choice: the best pooled inner macro-F1 (ties: earlier, fewer rounds) */
    for (p = 0; p < n_folds; p++) {
        parus_select_fold *sf = &s.fold[p];
        double best = -1;
        sf->fold = fold_val[p];
        for (c = 0; c < n_cand; c++) {
            sf->inner_macro_f1[c] = -1;
            for (j = 0; j < PARUS_SELECT_MAX_WEIGHTS; j++)
                sf->inner_weight_macro_f1[c][j] = -1;
            for (j = ck_off[c]; j < ck_off[c + 1]; j++) {
                double mf1,
                    *wf1 = &sf->inner_weight_macro_f1[c][(j - ck_off[c]) % n_weights(&cand[c])];
                memcpy(c_tmp.count, inner + (p * n_ck + j) * kk, kk * sizeof *c_tmp.count);
                parus_confusion_compute(&c_tmp);
                mf1 = c_tmp.macro_f1;
                if (mf1 > *wf1)
                    *wf1 = mf1;
                if (mf1 > sf->inner_macro_f1[c]) {
                    sf->inner_macro_f1[c] = mf1;
                    sf->inner_rounds[c] = ck_rounds[j];
                    sf->inner_tcnn_weight[c] = ck_weight[j];
                }
                if (mf1 > best) {
                    best = mf1;
                    sf->chosen = c;
                    sf->n_rounds = ck_rounds[j];
                    sf->tcnn_weight = ck_weight[j];
                }
            }
        }
    }

    /* the chosen configuration, retrained on all folds but the outer one, scores it */
    memset(jobs, 0, n_folds * sizeof *jobs);
    for (p = 0; p < n_folds; p++) {
        fit_job *jb = &jobs[p];
        jb->ds = use[s.fold[p].chosen];
        jb->opt = cand[s.fold[p].chosen].opt;
        jb->opt.n_rounds = s.fold[p].n_rounds;
        if (cand[s.fold[p].chosen].n_tcnn_weights) {
            jb->opt.tcnn_weight = s.fold[p].tcnn_weight;
            if (s.fold[p].tcnn_weight == 0.0) /* the network not used: trees alone */
                jb->opt.learner = PARUS_LEARNER_TREES;
        }
        jb->fold_a = jb->fold_b = fold_val[p];
        jb->n_ck = 1;
        jb->ck_rounds = &all_rounds;
        jb->count_a = fcount + p * kk;
        jb->pred = s.pred;
    }
    if ((st = run_jobs(jobs, n_folds, n_threads, err)) != PARUS_OK)
        goto out;
    for (p = 0; p < n_folds; p++) {
        size_t right = 0, n_test = 0;
        for (t = 0; t < kk; t++) {
            c_out.count[t] += fcount[p * kk + t];
            n_test += fcount[p * kk + t];
        }
        for (t = 0; t < ds->n_classes; t++)
            right += fcount[p * kk + t * ds->n_classes + t];
        s.fold[p].n_test = n_test;
        s.fold[p].accuracy = n_test ? (double)right / (double)n_test : (double)NAN;
    }
    parus_confusion_compute(&c_out);
    *out = c_out;
    memset(&c_out, 0, sizeof c_out);
    *sel = s;
    memset(&s, 0, sizeof s);
    st = PARUS_OK;
out:
    for (c = 0; c < n_cand; c++)
        parus_dataset_release(&derived[c]);
    parus_confusion_release(&c_out);
    parus_confusion_release(&c_tmp);
    parus_selection_release(&s);
    free(ck_rounds);
    free(ck_weight);
    free(jobs);
    free(jcount);
    free(inner);
    free(fcount);
    free(fold_val);
    return st;
}

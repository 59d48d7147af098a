/*
 * test_forest.c - the prediction forest (src/forest.c), parus_model_predict's default predictor,
 * against XGBoost's own predictor and against answers known by construction:
 *   - trained models (synthetic seasonal curves with missing steps in the benchmark's shape: 16
 *     classes, 36 steps, depth 6; and the Mato Grosso samples) give XGBoost's probabilities
 *     within 1e-5 and its most probable class on every sample, missing values included;
 *   - the result does not depend on the thread count, on how the rows are cut into calls, or on
 *     the instruction set of the kernel;
 *   - the evaluations (which score models at several round counts) give the same figures with
 *     either predictor;
 *   - hand-written models of complete trees of depth 5, 6 and 7 (32, 64 and 128 leaves) whose
 *     every prediction is known: x < threshold goes left in float, a missing value goes to the
 *     node's default side; 128 leaves is refused (the model stays with XGBoost);
 *   - the JSON reader's refusals.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "forest_int.h"
#include "parus/classify.h"

#define N_CLASSES 16
#define N_STEPS 36
#define AGREE_ABS 1e-5

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static double gaussian(uint64_t *state)
{
    double u1 = uniform01(state), u2 = uniform01(state);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* One sample of class c: a double-logistic season over N_STEPS steps, shifted and scaled per
 * sample, with noise and 5% missing steps (tools/bench_classify.c draws the same). */
static void draw_sample(size_t c, uint64_t *state, double *row)
{
    double sos = 4.0 + 2.5 * (double)(c % 8), eos = sos + (c < 8 ? 9.0 : 15.0);
    double base = 0.12 + 0.02 * (double)(c % 3), peak = 0.62 + 0.06 * (double)(c % 4);
    double rise = 1.2 + 0.3 * (double)(c % 2), fall = 1.5 + 0.4 * (double)((c / 2) % 2);
    double shift = 1.2 * gaussian(state), scale = 1.0 + 0.08 * gaussian(state);
    size_t t;
    for (t = 0; t < N_STEPS; t++) {
        double x = (double)t;
        double up = 1.0 / (1.0 + exp(-(x - sos - shift) / rise));
        double down = 1.0 / (1.0 + exp(-(x - eos - shift) / fall));
        double v = base + scale * (peak - base) * (up - down) + 0.04 * gaussian(state);
        row[t] = uniform01(state) < 0.05 ? (double)NAN : v;
    }
}

static char **names(const char *prefix, size_t n)
{
    char **out = calloc(n, sizeof *out);
    size_t i;
    assert_non_null(out);
    for (i = 0; i < n; i++) {
        out[i] = malloc(32);
        assert_non_null(out[i]);
        snprintf(out[i], 32, "%s%02zu", prefix, i);
    }
    return out;
}

/* n samples of the seasonal classes, in turn. */
static void make_seasons(parus_dataset *ds, size_t n, uint64_t seed)
{
    size_t i;
    parus_dataset_init(ds);
    ds->n_samples = n;
    ds->n_features = N_STEPS;
    ds->n_classes = N_CLASSES;
    ds->x = malloc(n * N_STEPS * sizeof *ds->x);
    ds->label = malloc(n * sizeof *ds->label);
    assert_non_null(ds->x);
    assert_non_null(ds->label);
    ds->class_names = names("crop_", N_CLASSES);
    ds->feature_names = names("ndvi_", N_STEPS);
    for (i = 0; i < n; i++) {
        ds->label[i] = i % N_CLASSES;
        draw_sample(i % N_CLASSES, &seed, ds->x + i * N_STEPS);
    }
}

/* Rows that test the missing-value rules harder than the 5% of the samples: every value
 * missing, every other value missing, the later half missing, and large magnitudes. */
static void harden_rows(double *x, size_t n, size_t n_features)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        double *row = x + i * n_features;
        switch (i % 8) {
        case 1:
            for (j = 0; j < n_features; j++)
                row[j] = (double)NAN;
            break;
        case 3:
            for (j = i % 2; j < n_features; j += 2)
                row[j] = (double)NAN;
            break;
        case 5:
            for (j = n_features / 2; j < n_features; j++)
                row[j] = (double)NAN;
            break;
        case 7:
            row[i % n_features] = i % 16 == 7 ? 1e30 : -1e30;
            break;
        default:
            break;
        }
    }
}

static parus_model *train(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                          size_t n_rounds, int max_depth)
{
    parus_classify_options opt;
    parus_model *m = NULL;
    parus_error err;
    parus_classify_options_init(&opt);
    opt.n_rounds = n_rounds;
    opt.max_depth = max_depth;
    opt.n_threads = 2;
    if (parus_model_train(ds, rows, n_rows, &opt, &m, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return m;
}

/* Both predictors on the n rows of x: the same class for every row and probabilities within
 * AGREE_ABS. Leaves m with the forest; *prob (malloc'ed, when not NULL) gets the forest's. */
static void assert_agree(parus_model *m, const double *x, size_t n, const char *what, double **prob)
{
    size_t k = parus_model_n_classes(m), nf = parus_model_n_features(m), i, c, n_bits = 0;
    double *pf = malloc(n * k * sizeof *pf), *px = malloc(n * k * sizeof *px), max_diff = 0;
    parus_error err;
    assert_non_null(pf);
    assert_non_null(px);
    assert_int_equal(parus_model_set_predictor(m, PARUS_PREDICTOR_XGBOOST, &err), PARUS_OK);
    assert_int_equal(parus_model_predictor(m), PARUS_PREDICTOR_XGBOOST);
    if (parus_model_predict(m, x, n, nf, 2, px, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    if (parus_model_set_predictor(m, PARUS_PREDICTOR_FOREST, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(parus_model_predictor(m), PARUS_PREDICTOR_FOREST);
    if (parus_model_predict(m, x, n, nf, 2, pf, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    for (i = 0; i < n; i++) {
        size_t bf, bx, s;
        double margin;
        parus_classify_top2(pf + i * k, k, &bf, &s, &margin);
        parus_classify_top2(px + i * k, k, &bx, &s, &margin);
        if (bf != bx)
            fail_msg("%s: sample %zu: the forest says class %zu, xgboost %zu", what, i, bf, bx);
        for (c = 0; c < k; c++) {
            double d = fabs(pf[i * k + c] - px[i * k + c]);
            if (!(d <= AGREE_ABS))
                fail_msg("%s: sample %zu class %zu: forest %.9g, xgboost %.9g", what, i, c,
                         pf[i * k + c], px[i * k + c]);
            max_diff = d > max_diff ? d : max_diff;
            n_bits += pf[i * k + c] == px[i * k + c];
        }
    }
    printf("  %s: %zu samples, the same class on all, max |p - p_xgboost| %.2g, %.2f%% "
           "identical\n",
           what, n, max_diff, 100.0 * (double)n_bits / (double)(n * k));
    free(px);
    if (prob)
        *prob = pf;
    else
        free(pf);
}

static void test_predict__forest_agrees_with_xgboost_on_seasons(void **state)
{
    parus_dataset train_ds, test_ds;
    parus_model *m, *again;
    parus_error err;
    double *pf, *p;
    size_t n = 3000, i, cut[] = {1, 63, 64, 65, 130};
    char *dir, *path;
    static const char *const isa[] = {"base", "avx2", "avx512"};
    (void)state;
    make_seasons(&train_ds, 4000, 20261123u);
    make_seasons(&test_ds, n, 77u);
    harden_rows(test_ds.x, n, N_STEPS);
    m = train(&train_ds, NULL, 0, 60, 6);
    assert_int_equal(parus_model_predictor(m), PARUS_PREDICTOR_FOREST);
    assert_agree(m, test_ds.x, n, "seasons, 16 classes x 60 rounds, depth 6", &pf);
    assert_agree(m, train_ds.x, train_ds.n_samples, "its training samples", NULL);

    p = malloc(n * N_CLASSES * sizeof *p);
    assert_non_null(p);
    /* any thread count, any cut into calls: the same bits */
    for (i = 1; i <= 3; i++) {
        memset(p, 0, n * N_CLASSES * sizeof *p);
        assert_int_equal(parus_model_predict(m, test_ds.x, n, N_STEPS, (int)i, p, &err), PARUS_OK);
        assert_memory_equal(p, pf, n * N_CLASSES * sizeof *p);
    }
    for (i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        size_t a = cut[i];
        memset(p, 0, n * N_CLASSES * sizeof *p);
        assert_int_equal(parus_model_predict(m, test_ds.x, a, N_STEPS, 2, p, &err), PARUS_OK);
        assert_int_equal(parus_model_predict(m, test_ds.x + a * N_STEPS, n - a, N_STEPS, 1,
                                             p + a * N_CLASSES, &err),
                         PARUS_OK);
        assert_memory_equal(p, pf, n * N_CLASSES * sizeof *p);
    }
    /* every kernel this CPU runs (PARUS_FOREST_ISA caps it when the model is loaded) */
    dir = parus_test_tmpdir("forest");
    path = parus_test_path(dir, "seasons.model");
    assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
    for (i = 0; i < sizeof isa / sizeof isa[0]; i++) {
        setenv("PARUS_FOREST_ISA", isa[i], 1);
        if (parus_model_load(path, &again, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
        unsetenv("PARUS_FOREST_ISA");
        assert_int_equal(parus_model_predictor(again), PARUS_PREDICTOR_FOREST);
        memset(p, 0, n * N_CLASSES * sizeof *p);
        assert_int_equal(parus_model_predict(again, test_ds.x, n, N_STEPS, 2, p, &err), PARUS_OK);
        assert_memory_equal(p, pf, n * N_CLASSES * sizeof *p);
        parus_model_free(again);
    }
    /* PARUS_PREDICTOR=xgboost: the loaded model keeps XGBoost's predictor */
    setenv("PARUS_PREDICTOR", "xgboost", 1);
    assert_int_equal(parus_model_load(path, &again, &err), PARUS_OK);
    unsetenv("PARUS_PREDICTOR");
    assert_int_equal(parus_model_predictor(again), PARUS_PREDICTOR_XGBOOST);
    parus_model_free(again);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
    free(p);
    free(pf);
    parus_model_free(m);
    parus_dataset_release(&train_ds);
    parus_dataset_release(&test_ds);
}

#define MT_EXCLUDE "sample_id,longitude,latitude,start_date,end_date"

static void test_predict__forest_agrees_with_xgboost_on_mato_grosso(void **state)
{
    const char *dir = parus_test_data_dir("matogrosso-modis");
    parus_csv_options copt;
    parus_dataset ds;
    parus_model *m;
    parus_error err;
    size_t *rows, n_rows = 0, i, j, n_missing = 0;
    char *csv;
    (void)state;
    if (!dir) {
        printf("  skipped: matogrosso-modis data absent (set PARUS_DATA_DIR)\n");
        skip();
    }
    csv = parus_test_path(dir, "matogrosso-modis/samples_mt_9classes_wide.csv");
    parus_csv_options_init(&copt);
    copt.fold_column = "fold";
    copt.exclude_columns = MT_EXCLUDE;
    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    rows = malloc(ds.n_samples * sizeof *rows);
    assert_non_null(rows);
    for (i = 0; i < ds.n_samples; i++) {
        if (ds.fold[i] != 0)
            rows[n_rows++] = i;
        for (j = 0; j < ds.n_features; j++)
            n_missing += isnan(ds.x[i * ds.n_features + j]);
    }
    printf("  Mato Grosso: %zu samples, %zu features, %zu missing values\n", ds.n_samples,
           ds.n_features, n_missing);
    m = train(&ds, rows, n_rows, 100, 6);
    assert_agree(m, ds.x, ds.n_samples, "Mato Grosso, 9 classes x 100 rounds (folds 1-4)", NULL);
    parus_model_free(m);
    free(rows);
    free(csv);
    parus_dataset_release(&ds);
}

/* Three classes in two features, plus a noise feature with missing values, and folds. */
static void make_blobs(parus_dataset *ds, size_t n)
{
    uint64_t seed = 99;
    size_t i;
    parus_dataset_init(ds);
    ds->n_samples = n;
    ds->n_features = 3;
    ds->n_classes = 3;
    ds->x = malloc(n * 3 * sizeof *ds->x);
    ds->label = malloc(n * sizeof *ds->label);
    ds->fold = malloc(n * sizeof *ds->fold);
    assert_non_null(ds->x);
    assert_non_null(ds->label);
    assert_non_null(ds->fold);
    ds->class_names = names("class_", 3);
    ds->feature_names = names("f", 3);
    for (i = 0; i < n; i++) {
        size_t k = i % 3;
        ds->label[i] = k;
        ds->fold[i] = (int)(i % 4);
        ds->x[i * 3 + 0] = (double)k + 1.5 * gaussian(&seed);
        ds->x[i * 3 + 1] = (k == 1 ? 1.0 : 0.0) + gaussian(&seed);
        ds->x[i * 3 + 2] = i % 5 == 0 ? (double)NAN : (double)k * 0.5 + gaussian(&seed);
    }
}

/* Runs nested selection (each candidate scored at 10, 20 and 30 rounds) and the plain
 * evaluation, with the predictor that PARUS_PREDICTOR gives new models. */
static void evaluate_blobs(const parus_dataset *ds, size_t *counts, parus_selection *sel)
{
    parus_classify_candidate cand[PARUS_SELECT_MAX_CANDIDATES];
    parus_classify_options opt;
    parus_confusion c;
    parus_error err;
    size_t k, n_cand = parus_classify_select_grid(cand, PARUS_SELECT_MAX_CANDIDATES, 2);
    for (k = 0; k < n_cand; k++) {
        cand[k].opt.n_rounds = 30;
        cand[k].round_step = 10;
    }
    if (parus_classify_evaluate_select(ds, cand, 2, &c, sel, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    memcpy(counts, c.count, 9 * sizeof *counts);
    parus_confusion_release(&c);
    parus_classify_options_init(&opt);
    opt.n_rounds = 30;
    opt.n_threads = 2;
    if (parus_classify_evaluate(ds, &opt, &c, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    memcpy(counts + 9, c.count, 9 * sizeof *counts);
    parus_confusion_release(&c);
}

static void test_evaluate__same_figures_with_either_predictor(void **state)
{
    parus_dataset ds;
    parus_selection sf, sx;
    size_t cf[18], cx[18], k, j;
    (void)state;
    make_blobs(&ds, 240);
    evaluate_blobs(&ds, cf, &sf);
    setenv("PARUS_PREDICTOR", "xgboost", 1);
    evaluate_blobs(&ds, cx, &sx);
    unsetenv("PARUS_PREDICTOR");
    assert_memory_equal(cf, cx, sizeof cf);
    assert_int_equal(sf.n_folds, sx.n_folds);
    for (k = 0; k < sf.n_folds; k++) {
        assert_int_equal(sf.fold[k].chosen, sx.fold[k].chosen);
        assert_int_equal(sf.fold[k].n_rounds, sx.fold[k].n_rounds);
        for (j = 0; j < 2; j++) {
            assert_close(sf.fold[k].inner_macro_f1[j], sx.fold[k].inner_macro_f1[j], 0, 0);
            assert_int_equal(sf.fold[k].inner_rounds[j], sx.fold[k].inner_rounds[j]);
        }
    }
    parus_selection_release(&sf);
    parus_selection_release(&sx);
    parus_dataset_release(&ds);
}

static void test_predictor__deep_trees_stay_with_xgboost(void **state)
{
    parus_classify_options opt;
    parus_dataset ds;
    parus_model *m;
    parus_error err;
    size_t i;
    uint64_t seed = 5;
    double p[N_CLASSES];
    (void)state;
    /* Random labels, no minimum leaf weight: depth-10 trees split as far as they may, well past
     * 64 leaves. */
    make_seasons(&ds, 2000, 11u);
    for (i = 0; i < ds.n_samples; i++)
        ds.label[i] = (size_t)(splitmix64(&seed) % N_CLASSES);
    parus_classify_options_init(&opt);
    opt.n_rounds = 1;
    opt.max_depth = 10;
    opt.min_child_weight = 0;
    opt.n_threads = 2;
    if (parus_model_train(&ds, NULL, 0, &opt, &m, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(parus_model_predictor(m), PARUS_PREDICTOR_XGBOOST);
    assert_int_equal(parus_model_set_predictor(m, PARUS_PREDICTOR_FOREST, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "more than 64 leaves"));
    assert_int_equal(parus_model_set_predictor(m, (parus_predictor)7, &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_predictor(m), PARUS_PREDICTOR_XGBOOST);
    assert_int_equal(parus_model_predict(m, ds.x, 1, N_STEPS, 1, p, &err), PARUS_OK);
    parus_model_free(m);
    parus_dataset_release(&ds);
}

/* ---- hand-written models ---- */

/* Default side of node i of the complete trees below: left at even ids, right at odd. */
static bool default_left(size_t i)
{
    return i % 2 == 0;
}

/* XGBoost's JSON for 2 classes over depth features: class 0's tree is the complete tree of that
 * depth whose nodes at level l test feature l < 0.5 (node i's children 2i+1 and 2i+2), its
 * leaves worth their left-to-right index; class 1's tree is one leaf worth -0.25. base_score
 * 0.5. booster and objective as given. */
static char *complete_json(int depth, const char *booster, const char *objective,
                           const char *split_type_1)
{
    size_t n_int = ((size_t)1 << depth) - 1, n = 2 * n_int + 1, i;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fprintf(f, "{\"learner\": {\"attributes\": {}, \"feature_names\": [], \"gradient_booster\": "
               "{\"model\": {\"gbtree_model_param\": {\"num_parallel_tree\": \"1\", "
               "\"num_trees\": \"2\"}, \"tree_info\": [0, 1], \"trees\": [{\"base_weights\": [");
    for (i = 0; i < n; i++)
        fprintf(f, "%s0.125", i ? ", " : "");
    fprintf(f, "], \"categories\": [], \"default_left\": [");
    for (i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? ", " : "", i < n_int && default_left(i) ? 1 : 0);
    fprintf(f, "], \"id\": 0, \"left_children\": [");
    for (i = 0; i < n; i++)
        fprintf(f, "%s%ld", i ? ", " : "", i < n_int ? (long)(2 * i + 1) : -1L);
    fprintf(f, "], \"right_children\": [");
    for (i = 0; i < n; i++)
        fprintf(f, "%s%ld", i ? ", " : "", i < n_int ? (long)(2 * i + 2) : -1L);
    fprintf(f, "], \"split_conditions\": [");
    for (i = 0; i < n; i++) {
        if (i < n_int)
            fprintf(f, "%s5E-1", i ? ", " : "");
        else
            fprintf(f, ", %zu", i - n_int);
    }
    fprintf(f, "], \"split_indices\": [");
    for (i = 0; i < n; i++) {
        size_t level = 0;
        while (((size_t)2 << level) - 1 <= i)
            level++;
        fprintf(f, "%s%zu", i ? ", " : "", i < n_int ? level : 0);
    }
    fprintf(f, "], \"split_type\": [");
    for (i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? ", " : "", i == 0 ? split_type_1 : "0");
    fprintf(f,
            "], \"tree_param\": {\"num_deleted\": \"0\", \"num_feature\": \"%d\", "
            "\"num_nodes\": \"%zu\", \"size_leaf_vector\": \"0\"}}, ",
            depth, n);
    fprintf(f,
            "{\"default_left\": [0], \"left_children\": [-1], \"right_children\": [-1], "
            "\"split_conditions\": [-2.5E-1], \"split_indices\": [0], \"split_type\": [0], "
            "\"tree_param\": {\"num_nodes\": \"1\"}}]}, \"name\": \"%s\"}, "
            "\"learner_model_param\": {\"base_score\": \"5E-1\", \"num_class\": \"2\", "
            "\"num_feature\": \"%d\", \"num_target\": \"1\"}, \"objective\": {\"name\": "
            "\"%s\", \"softmax_multiclass_param\": {\"num_class\": \"2\"}}}, "
            "\"version\": [1, 7, 4]}",
            booster, depth, objective);
    fclose(f);
    return buf;
}

static parus__forest *forest_of(const char *json, size_t n_features, const char **why,
                                parus_status want)
{
    parus__forest *f = NULL;
    parus_error err;
    parus_status st = parus__forest_from_json(json, strlen(json), n_features, 2, &f, why, &err);
    if (st != want)
        fail_msg("forest: status %d (%s), wanted %d", (int)st, err.msg, (int)want);
    return f;
}

/* The leaf a row reaches in the complete tree, walked as XGBoost walks it. */
static size_t expected_leaf(const double *row, int depth)
{
    size_t i = 0, n_int = ((size_t)1 << depth) - 1;
    int l;
    for (l = 0; l < depth; l++) {
        float v = (float)row[l];
        bool left = isnan(v) ? default_left(i) : v < 0.5f;
        i = 2 * i + (left ? 1 : 2);
    }
    return i - n_int;
}

static void test_forest__complete_trees_known_answers(void **state)
{
    static const double values[] = {0.25, 0.75, 0.5, 0.4999999999, 0.49999997, (double)NAN};
    int depth;
    parus_error err;
    (void)state;
    for (depth = 5; depth <= 6; depth++) {
        char *json = complete_json(depth, "gbtree", "multi:softprob", "0");
        const char *why = "unset";
        parus__forest *f = forest_of(json, (size_t)depth, &why, PARUS_OK);
        size_t n = 3000, i, l, n_nan = 0;
        uint64_t seed = 3;
        double *x = malloc(n * (size_t)depth * sizeof *x), *prob = malloc(n * 2 * sizeof *prob);
        assert_non_null(f);
        assert_null(why);
        assert_int_equal(parus__forest_n_trees(f), 2);
        assert_int_equal(parus__forest_n_rounds(f), 1);
        assert_non_null(x);
        assert_non_null(prob);
        for (i = 0; i < n; i++)
            for (l = 0; l < (size_t)depth; l++) {
                /* every leaf by the first 2^depth rows, then random values and missing ones */
                double v = i < ((size_t)1 << depth)
                               ? ((i >> (depth - 1 - (int)l)) & 1 ? 0.75 : 0.25)
                               : values[splitmix64(&seed) % 6];
                x[i * (size_t)depth + l] = v;
                n_nan += isnan(v);
            }
        assert_int_equal(parus__forest_predict(f, x, n, 0, 2, prob, &err), PARUS_OK);
        for (i = 0; i < n; i++) {
            size_t leaf = expected_leaf(x + i * (size_t)depth, depth);
            /* margins 0.5 + leaf and 0.5 - 0.25 */
            double p0 = 1.0 / (1.0 + exp(-((double)leaf + 0.25)));
            if (i < ((size_t)1 << depth))
                assert_int_equal(leaf, i);
            assert_close(prob[i * 2], p0, 1e-6, 0);
            assert_close(prob[i * 2 + 1], 1.0 - p0, 1e-6, 0);
        }
        assert_true(n_nan > n / 2);
        /* the first round is all of it; a second is not there */
        assert_int_equal(parus__forest_predict(f, x, n, 1, 1, prob, &err), PARUS_OK);
        assert_int_equal(parus__forest_predict(f, x, n, 2, 1, prob, &err), PARUS_E_INVALID);
        parus__forest_free(f);
        free(x);
        free(prob);
        free(json);
    }
}

static void test_forest__refusals(void **state)
{
    const char *why = NULL;
    char *json;
    size_t len;
    parus__forest *f = NULL;
    parus_error err;
    (void)state;
    /* 128 leaves: not represented, a reason, no error */
    json = complete_json(7, "gbtree", "multi:softprob", "0");
    assert_null(forest_of(json, 7, &why, PARUS_OK));
    assert_string_equal(why, "a tree with more than 64 leaves");
    free(json);
    json = complete_json(3, "dart", "multi:softprob", "0");
    assert_null(forest_of(json, 3, &why, PARUS_OK));
    assert_string_equal(why, "a booster other than gbtree");
    free(json);
    json = complete_json(3, "gbtree", "multi:softmax", "0");
    assert_null(forest_of(json, 3, &why, PARUS_OK));
    assert_string_equal(why, "an objective other than multi:softprob");
    free(json);
    json = complete_json(3, "gbtree", "multi:softprob", "1");
    assert_null(forest_of(json, 3, &why, PARUS_OK));
    assert_string_equal(why, "a categorical split");
    free(json);

    json = complete_json(3, "gbtree", "multi:softprob", "0");
    len = strlen(json);
    /* a feature the model does not have, truncated text, a wrong class count */
    forest_of(json, 2, NULL, PARUS_E_FORMAT);
    assert_int_equal(parus__forest_from_json(json, len / 2, 3, 2, &f, NULL, &err), PARUS_E_FORMAT);
    assert_int_equal(parus__forest_from_json(json, len, 3, 3, &f, NULL, &err), PARUS_E_FORMAT);
    assert_int_equal(parus__forest_from_json(json, len, 0, 2, &f, NULL, &err), PARUS_E_INVALID);
    assert_int_equal(parus__forest_from_json("[]", 2, 3, 2, &f, NULL, &err), PARUS_E_FORMAT);
    assert_int_equal(parus__forest_from_json("{\"learner\": 5}", 14, 3, 2, &f, NULL, &err),
                     PARUS_E_FORMAT);
    assert_null(f);
    /* node 1's left child made node 1 itself: not a tree */
    {
        char *p = strstr(json, "\"left_children\": [1, 3");
        assert_non_null(p);
        memcpy(p + strlen("\"left_children\": [1, "), "1", 1);
        forest_of(json, 3, NULL, PARUS_E_FORMAT);
    }
    free(json);
}

/* A copy of text with the first occurrence of from replaced by to. */
static char *replaced(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t a, nf = strlen(from), nt = strlen(to), n = strlen(text);
    char *out;
    assert_non_null(at);
    a = (size_t)(at - text);
    out = malloc(n - nf + nt + 1);
    assert_non_null(out);
    memcpy(out, text, a);
    memcpy(out + a, to, nt);
    memcpy(out + a + nt, at + nf, n - a - nf + 1);
    return out;
}

/* Models XGBoost writes that the forest does not represent (a newer XGBoost's base score per
 * class, a categorical split without split types) are refused with a reason, so the model stays
 * with XGBoost's predictor instead of failing to train or load. */
static void test_forest__refuses_what_it_cannot_represent(void **state)
{
    char *json = complete_json(3, "gbtree", "multi:softprob", "0"), *bad;
    const char *why = NULL;
    (void)state;
    bad = replaced(json, "\"base_score\": \"5E-1\"", "\"base_score\": \"[5E-1,2.5E-1]\"");
    assert_null(forest_of(bad, 3, &why, PARUS_OK));
    assert_non_null(why);
    assert_non_null(strstr(why, "base score per class"));
    free(bad);
    bad = replaced(json, "\"categories\": []", "\"categories\": [1, 3]");
    why = NULL;
    assert_null(forest_of(bad, 3, &why, PARUS_OK));
    assert_string_equal(why, "a categorical split");
    free(bad);
    /* the same without split types (as in an older XGBoost's export) */
    {
        char *p = replaced(json, "\"split_type\": [0, 0", "\"no_split_type\": [0, 0");
        bad = replaced(p, "\"categories\": []", "\"categories\": [1, 3]");
        free(p);
    }
    why = NULL;
    assert_null(forest_of(bad, 3, &why, PARUS_OK));
    assert_string_equal(why, "a categorical split");
    free(bad);
    free(json);
}

/* Every prefix of a model's text is refused as malformed, without reading past its end (the
 * reader is given exactly the prefix; the sanitizer build checks the bounds), and a length
 * whose copy cannot be made is refused. */
static void test_forest__truncated_text_refused(void **state)
{
    char *json = complete_json(3, "gbtree", "multi:softprob", "0");
    size_t len = strlen(json), i;
    parus__forest *f = NULL;
    parus_error err;
    (void)state;
    for (i = 0; i < len; i++) {
        char *prefix = malloc(i ? i : 1);
        assert_non_null(prefix);
        memcpy(prefix, json, i);
        if (parus__forest_from_json(prefix, i, 3, 2, &f, NULL, &err) != PARUS_E_FORMAT)
            fail_msg("a prefix of %zu of %zu bytes: %s", i, len, err.msg);
        assert_null(f);
        free(prefix);
    }
    assert_int_equal(parus__forest_from_json(json, SIZE_MAX, 3, 2, &f, NULL, &err), PARUS_E_NOMEM);
    assert_null(f);
    free(json);
}

/* Members in another order, members the reader does not know (nested values, escaped strings)
 * and whitespace change nothing; no parcels is no work. */
static void test_forest__unexpected_members_ignored(void **state)
{
    char *json = complete_json(5, "gbtree", "multi:softprob", "0"), *a, *b, *c;
    parus__forest *f0, *f1;
    parus_error err;
    double x[3 * 5], p0[3 * 2], p1[3 * 2];
    size_t i;
    (void)state;
    for (i = 0; i < 3 * 5; i++)
        x[i] = i % 4 == 3 ? (double)NAN : 0.3 * (double)(i % 5);
    /* unknown members first in the document, the learner and a tree; tree_info after trees */
    a = replaced(json, "{\"learner\": {",
                 "{\"x\\\"y\": [{\"a\": [1, [2, {\"b\": \"]}\"}]]}, -1.5e3, true, null],\n"
                 " \"learner\": {\"zz\": {\"trees\": 7}, ");
    b = replaced(a, "\"tree_info\": [0, 1], ", "");
    c = replaced(b, "\"name\": \"gbtree\"}",
                 "\"name\": \"gbtree\", \"model2\": {\"tree_info\": [5]}}");
    free(a);
    free(b);
    a = replaced(c, "]}, \"name\": \"gbtree\"",
                 "], \"tree_info\" : [ 0 ,\t1 ] }, \"name\": \"gbtree\"");
    free(c);
    b = replaced(a,
                 "{\"base_weights\":", "{\"extra\": {\"left_children\": [9]}, \"base_weights\":");
    free(a);
    f0 = forest_of(json, 5, NULL, PARUS_OK);
    f1 = forest_of(b, 5, NULL, PARUS_OK);
    assert_non_null(f0);
    assert_non_null(f1);
    assert_int_equal(parus__forest_n_trees(f1), 2);
    assert_int_equal(parus__forest_predict(f0, x, 3, 0, 1, p0, &err), PARUS_OK);
    assert_int_equal(parus__forest_predict(f1, x, 3, 0, 1, p1, &err), PARUS_OK);
    assert_memory_equal(p0, p1, sizeof p0);
    /* no parcels: nothing read or written */
    assert_int_equal(parus__forest_predict(f1, NULL, 0, 0, 2, NULL, &err), PARUS_OK);
    assert_int_equal(parus__forest_predict(f1, NULL, 0, 2, 2, NULL, &err), PARUS_E_INVALID);
    parus__forest_free(f0);
    parus__forest_free(f1);
    free(b);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forest__complete_trees_known_answers),
        cmocka_unit_test(test_forest__refusals),
        cmocka_unit_test(test_forest__refuses_what_it_cannot_represent),
        cmocka_unit_test(test_forest__truncated_text_refused),
        cmocka_unit_test(test_forest__unexpected_members_ignored),
        cmocka_unit_test(test_predict__forest_agrees_with_xgboost_on_seasons),
        cmocka_unit_test(test_predict__forest_agrees_with_xgboost_on_mato_grosso),
        cmocka_unit_test(test_evaluate__same_figures_with_either_predictor),
        cmocka_unit_test(test_predictor__deep_trees_stay_with_xgboost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

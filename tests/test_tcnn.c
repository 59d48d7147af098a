/*
 * test_tcnn.c - the temporal convolutional network (src/tcnn.c) and the ensemble of trees and
 * network (learner tcnn / ensemble, parus/classify.h): the network learns a pattern that moves in
 * time, which the trees find hard; models and probabilities are the same bit for bit for 1, 2 and
 * 5 threads; the model file round trip (format 3; trees alone still written as format 2); a
 * malformed network part refused, by the library (E_FORMAT) and by the CLI (exit 4); the network
 * on the real Mato Grosso samples, cut to seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/classify.h"

#define T_STEPS 24
#define N_TRAIN 600
#define N_TEST 600

static uint64_t next_u64(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

static double uniform(uint64_t *s)
{
    return (double)next_u64(s) / 9007199254740992.0;
}

/* One series of the toy problem: noise around a random level and, at a random step p, a peak
 * followed three steps later by a dip (class "peak-dip"), or the dip first and the peak three steps
 * later
 * ("dip-peak"). Both classes have the same values, only their order tells them apart, wherever
 * the pattern lies: one convolution filter finds it, a tree needs a split pair for every p. */
static void toy_series(uint64_t *s, size_t label, double *x)
{
    size_t t, p = 2 + (size_t)(uniform(s) * 17.0);
    size_t first = label ? p + 3 : p, second = label ? p : p + 3;
    double level = 0.2 + 0.5 * uniform(s), amp = 0.6 + 0.8 * uniform(s);
    for (t = 0; t < T_STEPS; t++)
        x[t] = level + 0.15 * (uniform(s) + uniform(s) + uniform(s) - 1.5);
    x[first] += 0.5 * amp;
    x[first + 1] += 0.25 * amp;
    x[second] -= 0.5 * amp;
    x[second + 1] -= 0.25 * amp;
}

/* n samples of the toy problem, features ndvi_00..ndvi_23 and "other" (noise, not a series), in
 * four folds. */
static void make_toy(parus_dataset *ds, size_t n, uint64_t seed)
{
    static const char *const classes[] = {"dip-peak", "peak-dip"};
    char names[T_STEPS + 1][16];
    const char *np[T_STEPS + 1];
    double x[T_STEPS + 1];
    parus_error err;
    uint64_t s = seed;
    size_t i, t;
    for (t = 0; t < T_STEPS; t++) {
        snprintf(names[t], sizeof names[t], "ndvi_%02zu", t);
        np[t] = names[t];
    }
    snprintf(names[T_STEPS], sizeof names[T_STEPS], "other");
    np[T_STEPS] = names[T_STEPS];
    parus_dataset_init(ds);
    assert_int_equal(parus_dataset_setup(ds, np, T_STEPS + 1, classes, 2, true, &err), PARUS_OK);
    for (i = 0; i < n; i++) {
        size_t label = i % 2;
        toy_series(&s, label, x);
        x[T_STEPS] = uniform(&s);
        if (i % 11 == 0) /* a missing step now and then: filled as the season fills gaps */
            x[(i / 11) % T_STEPS] = NAN;
        assert_int_equal(parus_dataset_add_row(ds, x, label, (int)(i % 4), &err), PARUS_OK);
    }
}

/* epochs: the network's (0: the default); these tests need the bits, not the accuracy */
static parus_model *train(const parus_dataset *ds, parus_learner learner, int n_threads,
                          size_t epochs)
{
    parus_classify_options opt;
    parus_model *m = NULL;
    parus_error err;
    parus_classify_options_init(&opt);
    opt.n_rounds = 60;
    opt.learner = learner;
    opt.n_threads = n_threads;
    if (epochs)
        opt.tcnn_epochs = epochs;
    if (parus_model_train(ds, NULL, 0, &opt, &m, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return m;
}

static double accuracy(parus_model *m, const parus_dataset *ds)
{
    double *p = malloc(ds->n_samples * 2 * sizeof *p);
    parus_error err;
    size_t i, right = 0;
    assert_non_null(p);
    assert_int_equal(parus_model_predict(m, ds->x, ds->n_samples, ds->n_features, 0, p, &err),
                     PARUS_OK);
    for (i = 0; i < ds->n_samples; i++)
        right += (p[2 * i + 1] > p[2 * i]) == (ds->label[i] == 1);
    free(p);
    return (double)right / (double)ds->n_samples;
}

/* Measured on the 600 held-out samples: trees (60 rounds) 0.807, network 0.998. */
static void test_tcnn__learns_a_pattern_shifted_in_time(void **state)
{
    parus_dataset tr, te;
    parus_model *trees, *net;
    double a_trees, a_net;
    (void)state;
    make_toy(&tr, N_TRAIN, 7);
    make_toy(&te, N_TEST, 8);
    trees = train(&tr, PARUS_LEARNER_TREES, 1, 0);
    net = train(&tr, PARUS_LEARNER_TCNN, 1, 0);
    a_trees = accuracy(trees, &te);
    a_net = accuracy(net, &te);
    printf("  held-out accuracy: trees %.3f, network %.3f\n", a_trees, a_net);
    assert_true(a_net >= 0.95);
    assert_true(a_trees <= 0.88);
    assert_int_equal(parus_model_learner(net), PARUS_LEARNER_TCNN);
    assert_close(parus_model_tcnn_weight(net), 1.0, 0, 0);
    assert_close(parus_model_tcnn_weight(trees), 0.0, 0, 0);
    parus_model_free(trees);
    parus_model_free(net);
    parus_dataset_release(&tr);
    parus_dataset_release(&te);
}

/* The first occurrence of text in buf[0..n), or NULL (the file holds binary parts). */
static char *find(char *buf, size_t n, const char *text)
{
    size_t i, k = strlen(text);
    for (i = 0; i + k <= n; i++)
        if (memcmp(buf + i, text, k) == 0)
            return buf + i;
    return NULL;
}

static char *read_all(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long sz;
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    buf[sz] = '\0';
    *n = (size_t)sz;
    return buf;
}

/* The same model file and probabilities whatever the thread count, in training and prediction. */
static void test_tcnn__same_bits_for_1_2_and_5_threads(void **state)
{
    static const int threads[] = {1, 2, 5};
    char *dir = parus_test_tmpdir("tcnn-threads"), *path[3], *bytes[3];
    double *p[3];
    parus_dataset ds;
    parus_error err;
    size_t i, n[3];
    (void)state;
    make_toy(&ds, 300, 11);
    for (i = 0; i < 3; i++) {
        char name[32];
        parus_model *m = train(&ds, PARUS_LEARNER_ENSEMBLE, threads[i], 3);
        snprintf(name, sizeof name, "m%d.model", threads[i]);
        path[i] = parus_test_path(dir, name);
        assert_int_equal(parus_model_save(m, path[i], &err), PARUS_OK);
        p[i] = malloc(ds.n_samples * 2 * sizeof *p[i]);
        assert_int_equal(
            parus_model_predict(m, ds.x, ds.n_samples, ds.n_features, threads[i], p[i], &err),
            PARUS_OK);
        bytes[i] = read_all(path[i], &n[i]);
        parus_model_free(m);
    }
    for (i = 1; i < 3; i++) {
        assert_int_equal(n[i], n[0]);
        assert_memory_equal(bytes[i], bytes[0], n[0]);
        assert_memory_equal(p[i], p[0], ds.n_samples * 2 * sizeof *p[0]);
    }
    /* and the evaluation, whose folds' models are fitted side by side */
    {
        parus_classify_options opt;
        parus_confusion c1, c2;
        parus_classify_options_init(&opt);
        opt.n_rounds = 20;
        opt.learner = PARUS_LEARNER_ENSEMBLE;
        opt.tcnn_epochs = 2;
        opt.n_threads = 1;
        assert_int_equal(parus_classify_evaluate(&ds, &opt, &c1, &err), PARUS_OK);
        opt.n_threads = 5;
        assert_int_equal(parus_classify_evaluate(&ds, &opt, &c2, &err), PARUS_OK);
        assert_memory_equal(c1.count, c2.count, 4 * sizeof *c1.count);
        parus_confusion_release(&c1);
        parus_confusion_release(&c2);
    }
    for (i = 0; i < 3; i++) {
        free(path[i]);
        free(bytes[i]);
        free(p[i]);
    }
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
}

/* Save and load give the same probabilities bit for bit for each learner; trees alone are still
 * written as format 2 (what older parus reads), a network makes format 3. */
static void test_model_file__round_trip_each_learner(void **state)
{
    static const parus_learner learners[] = {PARUS_LEARNER_TREES, PARUS_LEARNER_TCNN,
                                             PARUS_LEARNER_ENSEMBLE};
    static const char *const first_line[] = {"parus-model 2\n", "parus-model 3\n",
                                             "parus-model 3\n"};
    char *dir = parus_test_tmpdir("tcnn-file");
    parus_dataset ds;
    parus_error err;
    size_t i;
    (void)state;
    make_toy(&ds, 200, 13);
    for (i = 0; i < 3; i++) {
        parus_model *m = train(&ds, learners[i], 2, 2), *back = NULL;
        char *path = parus_test_path(dir, "m.model"), *bytes;
        double *pa = malloc(ds.n_samples * 2 * sizeof *pa),
               *pb = malloc(ds.n_samples * 2 * sizeof *pb);
        size_t n;
        assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
        bytes = read_all(path, &n);
        assert_memory_equal(bytes, first_line[i], strlen(first_line[i]));
        if (learners[i] == PARUS_LEARNER_TCNN)
            assert_null(find(bytes, n, "xgboost-ubj "));
        else
            assert_non_null(find(bytes, n, "xgboost-ubj "));
        assert_int_equal(parus_model_load(path, &back, &err), PARUS_OK);
        assert_int_equal(parus_model_learner(back), learners[i]);
        assert_close(parus_model_tcnn_weight(back), parus_model_tcnn_weight(m), 0, 0);
        assert_int_equal(parus_model_predict(m, ds.x, ds.n_samples, ds.n_features, 1, pa, &err),
                         PARUS_OK);
        assert_int_equal(parus_model_predict(back, ds.x, ds.n_samples, ds.n_features, 2, pb, &err),
                         PARUS_OK);
        assert_memory_equal(pa, pb, ds.n_samples * 2 * sizeof *pa);
        parus_model_free(m);
        parus_model_free(back);
        free(bytes);
        free(path);
        free(pa);
        free(pb);
    }
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
}

/* Write bytes[0..n) with bytes [at, at + len) replaced by rep[0..rep_len) and try to load it. */
static parus_status load_edited(const char *path, const char *bytes, size_t n, size_t at,
                                size_t len, const void *rep, size_t rep_len, parus_error *err)
{
    char *buf = malloc(n + rep_len + 1);
    parus_model *m = NULL;
    parus_status st;
    assert_non_null(buf);
    memcpy(buf, bytes, at);
    memcpy(buf + at, rep, rep_len);
    memcpy(buf + at + rep_len, bytes + at + len, n - at - len);
    assert_int_equal(parus_test_write_file(path, buf, n - len + rep_len), 0);
    free(buf);
    st = parus_model_load(path, &m, err);
    parus_model_free(m);
    return st;
}

/* A damaged network part or learner line is refused with E_FORMAT, never read; the CLI exits 4. */
static void test_model_file__malformed_network_refused(void **state)
{
    char *dir = parus_test_tmpdir("tcnn-bad"), *good, *bad, *bytes, *net, *out, *errs;
    parus_dataset ds;
    parus_model *m;
    parus_error err;
    size_t n, at, learner_at;
    unsigned char word[4];
    const unsigned char nan_bits[4] = {0x00, 0x00, 0xc0, 0x7f};
    (void)state;
    make_toy(&ds, 200, 17);
    m = train(&ds, PARUS_LEARNER_ENSEMBLE, 2, 2);
    good = parus_test_path(dir, "good.model");
    bad = parus_test_path(dir, "bad.model");
    assert_int_equal(parus_model_save(m, good, &err), PARUS_OK);
    parus_model_free(m);
    bytes = read_all(good, &n);
    net = find(bytes, n, "\nlearner ensemble 0.5\n");
    assert_non_null(net);
    learner_at = (size_t)(net - bytes) + 1;
    net = find(bytes, n, "\ntcnn-bytes ");
    assert_non_null(net);
    at = (size_t)(strchr(net + 1, '\n') - bytes) + 1; /* the network's first byte */
    assert_memory_equal(bytes + at, "PTCN", 4);
    /* the untouched file loads */
    assert_int_equal(load_edited(bad, bytes, n, 0, 0, "", 0, &err), PARUS_OK);
    /* zero channels */
    memset(word, 0, 4);
    assert_int_equal(load_edited(bad, bytes, n, at + 8, 4, word, 4, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "impossible"));
    /* a feature index beyond the model's features */
    word[0] = 0x40;
    word[1] = 0x42;
    assert_int_equal(load_edited(bad, bytes, n, at + 32, 4, word, 4, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "reads feature"));
    /* a weight that is not a number (the network's last float sits before "xgboost-ubj") */
    {
        char *xgb = find(bytes + at, n - at, "xgboost-ubj ");
        size_t last;
        assert_non_null(xgb);
        last = (size_t)(xgb - bytes) - 4;
        assert_int_equal(load_edited(bad, bytes, n, last, 4, nan_bits, 4, &err), PARUS_E_FORMAT);
        assert_non_null(strstr(err.msg, "not finite"));
        /* one byte short */
        assert_int_equal(load_edited(bad, bytes, n, last, 1, "", 0, &err), PARUS_E_FORMAT);
    }
    /* other magic */
    assert_int_equal(load_edited(bad, bytes, n, at, 4, "XTCN", 4, &err), PARUS_E_FORMAT);
    /* a learner that does not exist, a weight out of range */
    assert_int_equal(load_edited(bad, bytes, n, learner_at, 16, "learner forest 0", 16, &err),
                     PARUS_E_FORMAT);
    assert_int_equal(load_edited(bad, bytes, n, learner_at, 20, "learner ensemble 1.5", 20, &err),
                     PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "learner line"));
    /* a format this parus does not know */
    assert_int_equal(load_edited(bad, bytes, n, 0, 13, "parus-model 4", 13, &err), PARUS_E_FORMAT);
    /* the CLI: exit 4, naming the file */
    memset(word, 0, 4);
    assert_int_equal(load_edited(bad, bytes, n, at + 8, 4, word, 4, &err), PARUS_E_FORMAT);
    {
        char *csv = parus_test_path(dir, "x.csv");
        FILE *fp = fopen(csv, "w");
        size_t i, t;
        assert_non_null(fp);
        fprintf(fp, "label");
        for (t = 0; t < T_STEPS; t++)
            fprintf(fp, ",ndvi_%02zu", t);
        fprintf(fp, ",other\n");
        for (i = 0; i < 40; i++) {
            fprintf(fp, "%s", ds.class_names[ds.label[i]]);
            for (t = 0; t <= T_STEPS; t++)
                fprintf(fp, ",%.6f",
                        isnan(ds.x[i * (T_STEPS + 1) + t]) ? 0.3 : ds.x[i * (T_STEPS + 1) + t]);
            fprintf(fp, "\n");
        }
        fclose(fp);
        out = parus_test_run_expect(4, "%s predict --csv '%s' --model '%s'", parus_test_bin(), csv,
                                    bad);
        assert_non_null(strstr(out, "bad.model"));
        assert_non_null(strstr(out, "network"));
        free(out);
        /* and through the CLI whole: train --learner ensemble writes format 3, predict reads it */
        out = parus_test_run_expect(0,
                                    "%s train --csv '%s' --out '%s' --learner ensemble --rounds 10 "
                                    "--phenology-band none",
                                    parus_test_bin(), csv, good);
        assert_non_null(strstr(out, "learner ensemble: the network weighs 0.50"));
        free(out);
        out = parus_test_run_expect(0, "%s predict --csv '%s' --model '%s' --phenology-band none",
                                    parus_test_bin(), csv, good);
        assert_non_null(strstr(out, "40 samples: overall accuracy"));
        free(out);
        out = parus_test_run_expect(2, "%s train --csv '%s' --out '%s' --learner forest",
                                    parus_test_bin(), csv, good);
        assert_non_null(strstr(out, "--learner wants trees, tcnn or ensemble"));
        free(out);
        free(csv);
    }
    (void)errs;
    free(bytes);
    free(good);
    free(bad);
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
}

/* No series among the features: a network cannot be trained, and says why. */
static void test_tcnn__needs_a_series(void **state)
{
    static const char *const classes[] = {"a", "b"};
    static const char *const features[] = {"x", "y"};
    parus_dataset ds;
    parus_classify_options opt;
    parus_model *m = NULL;
    parus_error err;
    double x[2];
    size_t i;
    (void)state;
    parus_dataset_init(&ds);
    assert_int_equal(parus_dataset_setup(&ds, features, 2, classes, 2, false, &err), PARUS_OK);
    for (i = 0; i < 20; i++) {
        x[0] = (double)i;
        x[1] = (double)(i % 3);
        assert_int_equal(parus_dataset_add_row(&ds, x, i % 2, 0, &err), PARUS_OK);
    }
    parus_classify_options_init(&opt);
    assert_int_equal(opt.learner, PARUS_LEARNER_TREES); /* the default */
    opt.learner = PARUS_LEARNER_ENSEMBLE;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "series"));
    assert_null(m);
    opt.learner = (parus_learner)7;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m, &err), PARUS_E_INVALID);
    {
        parus_learner l;
        assert_true(parus_learner_parse("ensemble", &l) && l == PARUS_LEARNER_ENSEMBLE);
        assert_false(parus_learner_parse("forest", &l));
        assert_string_equal(parus_learner_name(PARUS_LEARNER_TCNN), "tcnn");
        assert_null(parus_learner_name((parus_learner)3));
    }
    parus_dataset_release(&ds);
}

/* The ensemble's weight chosen inside the training folds (parus_classify_evaluate_select with
 * tcnn_weights): on the toy problem, where the network sees what the trees do not, every fold
 * chooses to use it, and the outer figure beats the trees'. Bad weight lists are refused. */
static void test_select__network_weight_chosen_on_inner_folds(void **state)
{
    parus_classify_candidate cand;
    parus_classify_options opt;
    parus_dataset ds;
    parus_confusion c, ct;
    parus_selection sel;
    parus_error err;
    size_t f;
    (void)state;
    make_toy(&ds, 320, 21); /* folds 0..3 */
    memset(&cand, 0, sizeof cand);
    cand.name = "ensemble";
    parus_derive_options_init(&cand.derive);
    parus_classify_options_init(&cand.opt);
    cand.opt.n_rounds = 30;
    cand.opt.tcnn_epochs = 10;
    cand.opt.n_threads = 2;
    cand.opt.learner = PARUS_LEARNER_ENSEMBLE;
    cand.tcnn_weights[0] = 0.0;
    cand.tcnn_weights[1] = 0.5;
    cand.tcnn_weights[2] = 1.0;
    cand.n_tcnn_weights = 3;
    assert_int_equal(parus_classify_evaluate_select(&ds, &cand, 1, &c, &sel, &err), PARUS_OK);
    opt = cand.opt;
    opt.learner = PARUS_LEARNER_TREES;
    assert_int_equal(parus_classify_evaluate(&ds, &opt, &ct, &err), PARUS_OK);
    printf("  trees %.3f; weight chosen inside the folds %.3f (", ct.overall_accuracy,
           c.overall_accuracy);
    for (f = 0; f < sel.n_folds; f++) {
        printf("%s%.2f", f ? ", " : "", sel.fold[f].tcnn_weight);
        assert_true(sel.fold[f].tcnn_weight > 0.0);
        assert_true(sel.fold[f].inner_weight_macro_f1[0][0] < sel.fold[f].inner_macro_f1[0]);
    }
    printf(")\n");
    assert_true(c.overall_accuracy >= ct.overall_accuracy + 0.05);
    parus_confusion_release(&c);
    parus_confusion_release(&ct);
    parus_selection_release(&sel);
    cand.tcnn_weights[1] = 1.5;
    assert_int_equal(parus_classify_evaluate_select(&ds, &cand, 1, &c, &sel, &err),
                     PARUS_E_INVALID);
    cand.tcnn_weights[1] = 0.5;
    cand.opt.learner = PARUS_LEARNER_TREES;
    assert_int_equal(parus_classify_evaluate_select(&ds, &cand, 1, &c, &sel, &err),
                     PARUS_E_INVALID);
    parus_dataset_release(&ds);
}

/* The network on real data, cut to seconds: Mato Grosso NDVI only (one channel of 23 MODIS
 * steps), grouped 5-fold, the network alone at 5 epochs instead of 20. Measured OA 0.7220,
 * kappa 0.6761, macro-F1 0.6954 (deterministic); the full figures (docs/method.md §8) are 0.8076
 * alone and 0.8648 in the ensemble at the defaults. */
#define MT_NET_EPOCHS 5
#define MT_NET_MIN_OA 0.70
static void test_tcnn__mato_grosso_ndvi_grouped_5fold(void **state)
{
    const char *dir = parus_test_data_dir("matogrosso-modis");
    parus_csv_options copt;
    parus_classify_options opt;
    parus_dataset ds;
    parus_confusion c;
    parus_error err;
    char *csv;
    (void)state;
    if (!dir) {
        printf("  skipped: matogrosso-modis data absent (set PARUS_DATA_DIR)\n");
        skip();
    }
    csv = parus_test_path(dir, "matogrosso-modis/samples_mt_9classes_wide.csv");
    parus_csv_options_init(&copt);
    copt.fold_column = "fold";
    copt.exclude_columns =
        "sample_id,longitude,latitude,start_date,end_date,evi_*,red_*,nir_*,blue_*,mir_*";
    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_classify_options_init(&opt);
    opt.learner = PARUS_LEARNER_TCNN;
    opt.tcnn_epochs = MT_NET_EPOCHS;
    opt.n_threads = 2;
    if (parus_classify_evaluate(&ds, &opt, &c, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    printf("  network alone, NDVI only, %d epochs: OA %.4f, kappa %.4f, macro-F1 %.4f\n",
           MT_NET_EPOCHS, c.overall_accuracy, c.kappa, c.macro_f1);
    assert_true(c.overall_accuracy >= MT_NET_MIN_OA);
    parus_confusion_release(&c);
    parus_dataset_release(&ds);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcnn__learns_a_pattern_shifted_in_time),
        cmocka_unit_test(test_tcnn__same_bits_for_1_2_and_5_threads),
        cmocka_unit_test(test_model_file__round_trip_each_learner),
        cmocka_unit_test(test_model_file__malformed_network_refused),
        cmocka_unit_test(test_tcnn__needs_a_series),
        cmocka_unit_test(test_select__network_weight_chosen_on_inner_folds),
        cmocka_unit_test(test_tcnn__mato_grosso_ndvi_grouped_5fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

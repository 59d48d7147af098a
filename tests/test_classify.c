/*
 * test_classify.c - the classify module: training and prediction on a small separable dataset
 * (probabilities, determinism across runs and thread counts), the model file (round trip and
 * refusals), the figures of a confusion matrix worked out by hand, the CSV reader's refusals, and
 * the real benchmark: grouped 5-fold cross-validation on the Mato Grosso MODIS samples.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

#include <xgboost/c_api.h>

#include "parus/classify.h"

/* Three classes in two features, well apart, plus a noise feature with missing values. */
static void make_blobs(parus_dataset *ds, size_t n_per_class)
{
    static const char *const classes[] = {"maize", "rice", "wheat"};
    static const char *const features[] = {"f0", "f1", "noise"};
    uint64_t state = 12345;
    size_t i, k;
    parus_dataset_init(ds);
    ds->n_classes = 3;
    ds->n_features = 3;
    ds->n_samples = 3 * n_per_class;
    ds->x = malloc(ds->n_samples * 3 * sizeof *ds->x);
    ds->label = malloc(ds->n_samples * sizeof *ds->label);
    ds->fold = malloc(ds->n_samples * sizeof *ds->fold);
    ds->class_names = calloc(3, sizeof(char *));
    ds->feature_names = calloc(3, sizeof(char *));
    assert_non_null(ds->x);
    assert_non_null(ds->label);
    assert_non_null(ds->fold);
    for (k = 0; k < 3; k++) {
        ds->class_names[k] = strdup(classes[k]);
        ds->feature_names[k] = strdup(features[k]);
    }
    for (i = 0; i < ds->n_samples; i++) {
        double u[3];
        for (k = 0; k < 3; k++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            u[k] = (double)(state >> 11) / 9007199254740992.0;
        }
        k = i % 3;
        ds->label[i] = k;
        ds->fold[i] = (int)(i % 4);
        ds->x[i * 3 + 0] = (double)k * 2.0 + u[0];
        ds->x[i * 3 + 1] = (k == 1 ? 3.0 : 0.0) + u[1];
        ds->x[i * 3 + 2] = i % 7 == 0 ? (double)NAN : u[2];
    }
}

static parus_model *train_small(const parus_dataset *ds, int n_threads)
{
    parus_classify_options opt;
    parus_model *m = NULL;
    parus_error err;
    parus_classify_options_init(&opt);
    opt.n_rounds = 30;
    opt.n_threads = n_threads;
    if (parus_model_train(ds, NULL, 0, &opt, &m, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    return m;
}

static void test_train__separable_probabilities_and_determinism(void **state)
{
    parus_dataset ds;
    parus_model *a, *b;
    parus_error err;
    double *pa, *pb;
    size_t i, k, best, second, n_right = 0;
    double margin;
    (void)state;
    make_blobs(&ds, 40);
    a = train_small(&ds, 1);
    b = train_small(&ds, 2);
    assert_int_equal(parus_model_n_classes(a), 3);
    assert_string_equal(parus_model_class_name(a, 1), "rice");
    pa = malloc(ds.n_samples * 3 * sizeof *pa);
    pb = malloc(ds.n_samples * 3 * sizeof *pb);
    assert_int_equal(parus_model_predict(a, ds.x, ds.n_samples, 3, 1, pa, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(b, ds.x, ds.n_samples, 3, 2, pb, &err), PARUS_OK);
    for (i = 0; i < ds.n_samples; i++) {
        double sum = 0;
        for (k = 0; k < 3; k++) {
            sum += pa[i * 3 + k];
            assert_true(pa[i * 3 + k] >= 0 && pa[i * 3 + k] <= 1);
        }
        assert_close(sum, 1.0, 1e-5, 0);
        parus_classify_top2(pa + i * 3, 3, &best, &second, &margin);
        assert_true(best != second);
        assert_true(margin >= 0);
        n_right += best == ds.label[i];
    }
    assert_int_equal(n_right, ds.n_samples);
    /* same model bytes whatever the thread count: identical probabilities */
    assert_memory_equal(pa, pb, ds.n_samples * 3 * sizeof *pa);
    /* in two calls of unequal size: the same rows give the same probabilities */
    assert_int_equal(parus_model_predict(a, ds.x, 7, 3, 2, pb, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(a, ds.x + 7 * 3, ds.n_samples - 7, 3, 1, pb + 7 * 3, &err),
                     PARUS_OK);
    assert_memory_equal(pa, pb, ds.n_samples * 3 * sizeof *pa);
    assert_string_equal(parus_model_data_hash(a), parus_model_data_hash(b));
    assert_int_equal(parus_model_predict(a, ds.x, ds.n_samples, 2, 1, pa, &err), PARUS_E_INVALID);
    free(pa);
    free(pb);
    parus_model_free(a);
    parus_model_free(b);
    parus_dataset_release(&ds);
}

/* Blobs whose classes are unequal (every fourth sample of class 2 relabelled 0), so the class
 * balance gives unequal weights: n_per_class x 3 samples. */
static void make_unequal_blobs(parus_dataset *ds, size_t n_per_class)
{
    size_t i;
    make_blobs(ds, n_per_class);
    for (i = 0; i < ds->n_samples; i++)
        if (ds->label[i] == 2 && i % 4 == 2)
            ds->label[i] = 0;
}

/* The model XGBoost fits to a DMatrix of all the rows as floats, made in one piece (how parus
 * built its training matrix before the quantile matrix), with parus_model_train's parameters
 * and class weights: its probabilities for the rows, into p (n_samples x n_classes). */
static void reference_probabilities(const parus_dataset *ds, const parus_classify_options *opt,
                                    double *p)
{
    size_t n = ds->n_samples, nf = ds->n_features, nc = ds->n_classes, i, *count;
    float *xf = malloc(n * nf * sizeof *xf), *yf = malloc(n * sizeof *yf),
          *wf = malloc(n * sizeof *wf);
    const float *res;
    const bst_ulong *shape;
    bst_ulong dim;
    DMatrixHandle dm;
    BoosterHandle b;
    char buf[64], config[160];
    double sum = 0.0;
    assert_non_null(xf);
    assert_non_null(yf);
    assert_non_null(wf);
    count = calloc(nc, sizeof *count);
    for (i = 0; i < n * nf; i++)
        xf[i] = (float)ds->x[i];
    for (i = 0; i < n; i++)
        count[ds->label[i]]++;
    for (i = 0; i < n; i++) {
        double v = pow((double)n / ((double)nc * (double)count[ds->label[i]]), opt->class_balance);
        yf[i] = (float)ds->label[i];
        wf[i] = (float)v;
        sum += v;
    }
    for (i = 0; i < n; i++)
        wf[i] = (float)((double)wf[i] * (double)n / sum);
    assert_int_equal(XGDMatrixCreateFromMat(xf, n, nf, NAN, &dm), 0);
    assert_int_equal(XGDMatrixSetFloatInfo(dm, "label", yf, n), 0);
    assert_int_equal(XGDMatrixSetFloatInfo(dm, "weight", wf, n), 0);
    assert_int_equal(XGBoosterCreate(&dm, 1, &b), 0);
#define SET(key, fmt, v)                                                                           \
    do {                                                                                           \
        snprintf(buf, sizeof buf, fmt, v);                                                         \
        assert_int_equal(XGBoosterSetParam(b, key, buf), 0);                                       \
    } while (0)
    SET("verbosity", "%d", 0);
    SET("objective", "%s", "multi:softprob");
    SET("tree_method", "%s", "hist");
    SET("seed", "%llu", (unsigned long long)(opt->seed % 2147483647ULL));
    SET("num_class", "%zu", nc);
    SET("max_depth", "%d", opt->max_depth);
    SET("eta", "%.17g", opt->eta);
    SET("subsample", "%.17g", opt->subsample);
    SET("colsample_bytree", "%.17g", opt->colsample);
    SET("min_child_weight", "%.17g", opt->min_child_weight);
    SET("lambda", "%.17g", opt->lambda);
    SET("max_bin", "%d", opt->max_bin);
    SET("nthread", "%d", opt->n_threads);
#undef SET
    for (i = 0; i < opt->n_rounds; i++)
        assert_int_equal(XGBoosterUpdateOneIter(b, (int)i, dm), 0);
    snprintf(config, sizeof config,
             "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
             "\"iteration_end\": 0, \"strict_shape\": false}");
    assert_int_equal(XGBoosterPredictFromDMatrix(b, dm, config, &shape, &dim, &res), 0);
    for (i = 0; i < n * nc; i++)
        p[i] = (double)res[i];
    XGBoosterFree(b);
    XGDMatrixFree(dm);
    free(xf);
    free(yf);
    free(wf);
    free(count);
}

/* The training rows go to XGBoost a block at a time, quantised as they come: more rows than a
 * block (8,192) and a last block cut short give the model of one matrix made of them all (the
 * same probabilities, to the bit, as XGBoost's own DMatrix), whatever the thread count; a subset
 * of the rows (gathered into floats) gives the model of a dataset of just those rows (read in
 * place as doubles). */
static void test_train__blocks_subsets_and_one_matrix_agree(void **state)
{
    parus_dataset ds, half;
    parus_classify_options opt;
    parus_model *a, *b, *c, *d;
    parus_error err;
    size_t n, nc = 3, i, *rows;
    double *pa, *pb, *pref;
    (void)state;
    make_unequal_blobs(&ds, 6001); /* 18,003 rows: blocks of 8,192, 8,192 and 1,619 */
    n = ds.n_samples;
    parus_classify_options_init(&opt);
    opt.n_rounds = 4;
    opt.n_threads = 1;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &a, &err), PARUS_OK);
    opt.n_threads = 2;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &b, &err), PARUS_OK);
    pa = malloc(n * nc * sizeof *pa);
    pb = malloc(n * nc * sizeof *pb);
    pref = malloc(n * nc * sizeof *pref);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_non_null(pref);
    assert_int_equal(parus_model_predict(a, ds.x, n, ds.n_features, 1, pa, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(b, ds.x, n, ds.n_features, 1, pb, &err), PARUS_OK);
    assert_memory_equal(pa, pb, n * nc * sizeof *pa);
    opt.n_threads = 1;
    reference_probabilities(&ds, &opt, pref);
    for (i = 0; i < n * nc; i++)
        assert_true((float)pa[i] == (float)pref[i]);

    /* every other row: gathered from ds, or a dataset of their own */
    rows = malloc((n / 2 + 1) * sizeof *rows);
    assert_non_null(rows);
    parus_dataset_init(&half);
    assert_int_equal(parus_dataset_setup(&half, (const char *const *)ds.feature_names,
                                         ds.n_features, (const char *const *)ds.class_names,
                                         ds.n_classes, false, &err),
                     PARUS_OK);
    for (i = 0; i < n / 2; i++) {
        rows[i] = 2 * i + 1;
        assert_int_equal(parus_dataset_add_row(&half, ds.x + rows[i] * ds.n_features,
                                               ds.label[rows[i]], 0, &err),
                         PARUS_OK);
    }
    assert_true(n / 2 > 8192);
    assert_int_equal(parus_model_train(&ds, rows, n / 2, &opt, &c, &err), PARUS_OK);
    assert_int_equal(parus_model_train(&half, NULL, 0, &opt, &d, &err), PARUS_OK);
    assert_string_equal(parus_model_data_hash(c), parus_model_data_hash(d));
    assert_int_equal(parus_model_predict(c, ds.x, n, ds.n_features, 1, pa, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(d, ds.x, n, ds.n_features, 1, pb, &err), PARUS_OK);
    assert_memory_equal(pa, pb, n * nc * sizeof *pa);
    free(rows);
    free(pa);
    free(pb);
    free(pref);
    parus_model_free(a);
    parus_model_free(b);
    parus_model_free(c);
    parus_model_free(d);
    parus_dataset_release(&half);
    parus_dataset_release(&ds);
}

static void test_top2__ties_and_margin(void **state)
{
    const double p[] = {0.2, 0.5, 0.3};
    const double tie[] = {0.4, 0.4, 0.2};
    size_t b, s;
    double margin;
    (void)state;
    parus_classify_top2(p, 3, &b, &s, &margin);
    assert_int_equal(b, 1);
    assert_int_equal(s, 2);
    assert_close(margin, 0.2, 1e-12, 0);
    parus_classify_top2(tie, 3, &b, &s, &margin);
    assert_int_equal(b, 0);
    assert_int_equal(s, 1);
    assert_close(margin, 0.0, 0, 0);
}

static void test_model_file__round_trip_and_refusals(void **state)
{
    parus_dataset ds;
    parus_model *m, *back = NULL;
    parus_error err;
    double *p1, *p2;
    char *dir = parus_test_tmpdir("classify"), *path = parus_test_path(dir, "m.model"),
         *bad = parus_test_path(dir, "bad.model");
    FILE *fp;
    char *buf;
    long size;
    (void)state;
    make_blobs(&ds, 20);
    m = train_small(&ds, 1);
    assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
    assert_int_equal(parus_model_load(path, &back, &err), PARUS_OK);
    assert_int_equal(parus_model_n_features(back), 3);
    assert_string_equal(parus_model_feature_name(back, 2), "noise");
    assert_string_equal(parus_model_data_hash(back), parus_model_data_hash(m));
    assert_int_equal(parus_model_check_dataset(back, &ds, &err), PARUS_OK);
    p1 = malloc(ds.n_samples * 3 * sizeof *p1);
    p2 = malloc(ds.n_samples * 3 * sizeof *p2);
    assert_int_equal(parus_model_predict(m, ds.x, ds.n_samples, 3, 1, p1, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(back, ds.x, ds.n_samples, 3, 1, p2, &err), PARUS_OK);
    assert_memory_equal(p1, p2, ds.n_samples * 3 * sizeof *p1);

    /* the file as bytes */
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);

    /* truncated */
    assert_int_equal(parus_test_write_file(bad, buf, (size_t)size - 10), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(parus_test_write_file(bad, buf, 40), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    /* wrong magic */
    buf[0] = 'P';
    assert_int_equal(parus_test_write_file(bad, buf, (size_t)size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "not a parus model"));
    buf[0] = 'p';
    /* another format version */
    buf[12] = '9';
    assert_int_equal(parus_test_write_file(bad, buf, (size_t)size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "format version '9'"));
    buf[12] = '2';
    assert_int_equal(parus_model_load("/nonexistent/m.model", &back, &err), PARUS_E_IO);
    /* XGBoost's bytes announce a key of 2^54 bytes (found by fuzz/fuzz_model.c: XGBoost's reader
     * allocated it): refused before XGBoost reads them */
    {
        char *ubj = NULL;
        long at;
        for (at = 0; !ubj && at + 12 <= size; at++)
            if (memcmp(buf + at, "xgboost-ubj ", 12) == 0)
                ubj = buf + at;
        assert_non_null(ubj);
        ubj = (char *)memchr(ubj, '\n', (size_t)(buf + size - ubj)) + 1;
        assert_int_equal(ubj[0], '{');
        assert_int_equal(ubj[1], 'L');
        ubj[3] = 0x3b;
        assert_int_equal(parus_test_write_file(bad, buf, (size_t)size), 0);
        assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
        assert_non_null(strstr(err.msg, "not well-formed UBJSON"));
        ubj[3] = 0;
    }

    /* different features */
    free(ds.feature_names[1]);
    ds.feature_names[1] = strdup("evi_03");
    assert_int_equal(parus_model_check_dataset(back, &ds, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "'evi_03'"));

    free(buf);
    free(p1);
    free(p2);
    parus_model_free(m);
    parus_model_free(back);
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
    free(bad);
}

static char *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    buf[n] = '\0';
    *size = (size_t)n;
    return buf;
}

/* The first element of XGBoost's typed node array key ("[$l#" or "[$d#", then a count) in
 * bytes[0..n), NULL when absent. */
static unsigned char *typed_array_at(char *bytes, size_t n, const char *key, char type)
{
    size_t k = strlen(key), at;
    for (at = 0; at + k + 6 <= n; at++)
        if (memcmp(bytes + at, key, k) == 0 && bytes[at + k] == '[' && bytes[at + k + 1] == '$' &&
            bytes[at + k + 2] == type && bytes[at + k + 3] == '#') {
            char m = bytes[at + k + 4];
            size_t skip = m == 'L' ? 8 : m == 'l' ? 4 : m == 'I' ? 2 : 1;
            return (unsigned char *)bytes + at + k + 5 + skip;
        }
    return NULL;
}

/* The first occurrence of the text s in bytes[0..n) (which hold NULs), NULL when absent. */
static unsigned char *find_text(char *bytes, size_t n, const char *s)
{
    size_t k = strlen(s), at;
    for (at = 0; at + k <= n; at++)
        if (memcmp(bytes + at, s, k) == 0)
            return (unsigned char *)bytes + at;
    return NULL;
}

static void put_be32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (unsigned char)(u >> 24);
    p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8);
    p[3] = (unsigned char)u;
}

/* Writes bytes with one change made, expects parus_model_load to refuse it (E_FORMAT) with a
 * message containing want, and restores the bytes. */
static void expect_refused(const char *bad, char *bytes, size_t n, unsigned char *at,
                           const unsigned char *with, size_t len, const char *want)
{
    unsigned char saved[8];
    parus_model *m = NULL;
    parus_error err;
    assert_true(len <= sizeof saved);
    memcpy(saved, at, len);
    memcpy(at, with, len);
    assert_int_equal(parus_test_write_file(bad, bytes, n), 0);
    assert_int_equal(parus_model_load(bad, &m, &err), PARUS_E_FORMAT);
    assert_null(m);
    if (!strstr(err.msg, want))
        fail_msg("expected '%s' in: %s", want, err.msg);
    assert_non_null(strstr(err.msg, "is corrupt (its XGBoost model bytes)"));
    memcpy(at, saved, len);
}

/* XGBoost trusts a tree's indices: the fuzz target found a model whose parent index past the
 * nodes crashed XGBoost's tree loader (SEGV in RegTree::LoadModel, also `parus predict --model`).
 * That file, and one damage of each kind XGBoost's loader or predictor would trust, are refused
 * before XGBoost reads them, naming the tree and node; the undamaged model still loads. */
static void test_model_load__inconsistent_trees_refused(void **state)
{
    parus_dataset ds;
    parus_model *m, *back = NULL;
    parus_error err;
    char *dir = parus_test_tmpdir("classify-trees"), *path = parus_test_path(dir, "m.model"),
         *bad = parus_test_path(dir, "bad.model"), crash[4096], *buf, *ubj = NULL;
    unsigned char *lefts, *rights, *parents, *features, *v, be[4];
    size_t size, at;
    (void)state;

    snprintf(crash, sizeof crash, "%s/fuzz/corpus/model/crash-xgboost-regtree-segv.model",
             parus_test_source_dir());
    assert_int_equal(parus_model_load(crash, &back, &err), PARUS_E_FORMAT);
    assert_null(back);
    assert_non_null(strstr(err.msg, "tree 0: node 8's parent 327685 is not a node of the tree"));

    make_blobs(&ds, 20);
    m = train_small(&ds, 1);
    assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
    buf = read_all(path, &size);
    for (at = 0; !ubj && at + 12 <= size; at++)
        if (memcmp(buf + at, "xgboost-ubj ", 12) == 0)
            ubj = buf + at;
    assert_non_null(ubj);
    lefts = typed_array_at(buf, size, "left_children", 'l');
    rights = typed_array_at(buf, size, "right_children", 'l');
    parents = typed_array_at(buf, size, "parents", 'l');
    features = typed_array_at(buf, size, "split_indices", 'l');
    assert_non_null(lefts);
    assert_non_null(rights);
    assert_non_null(parents);
    assert_non_null(features);
    /* tree 0 of this model splits at its root: children 1 and 2 */
    assert_memory_equal(lefts, "\0\0\0\1", 4);
    assert_memory_equal(rights, "\0\0\0\2", 4);

    put_be32(be, 327685);
    expect_refused(bad, buf, size, parents + 4, be, 4,
                   "tree 0: node 1's parent 327685 is not a node of the tree");
    put_be32(be, 2);
    expect_refused(bad, buf, size, parents + 4, be, 4,
                   "tree 0: node 0's children do not name it as their parent");
    put_be32(be, 654311427);
    expect_refused(bad, buf, size, lefts, be, 4,
                   "tree 0: node 0's left child 654311427 is not a node of the tree");
    put_be32(be, -7);
    expect_refused(bad, buf, size, lefts, be, 4, "node 0's left child -7 is not a node");
    put_be32(be, 3);
    expect_refused(bad, buf, size, rights, be, 4,
                   "tree 0: node 0's right child 3 does not follow its left child 1");
    put_be32(be, 3);
    expect_refused(bad, buf, size, features, be, 4, "tree 0: node 0 splits on feature 3 of 3");
    /* the root as its own child: a cycle (its parent -1 is not 0) */
    put_be32(be, 0);
    expect_refused(bad, buf, size, lefts, be, 4, "left child 0 is not a node of the tree");
    /* tree_info names a class the model does not have */
    v = find_text(ubj, size - (size_t)(ubj - buf), "tree_info");
    assert_non_null(v);
    /* tree_info[#L <8 bytes> i 0 ... : the first entry's value */
    assert_int_equal(v[9], '[');
    assert_int_equal(v[10], '#');
    assert_int_equal(v[11], 'L');
    assert_int_equal(v[20], 'i');
    expect_refused(bad, buf, size, v + 21, (const unsigned char *)"\3", 1,
                   "tree_info entry 0 is not a class of 3");
    /* the learner's num_class is not the file's class count */
    v = find_text(ubj, size - (size_t)(ubj - buf), "num_classSL");
    assert_non_null(v);
    assert_int_equal(v[19], '3');
    expect_refused(bad, buf, size, v + 19, (const unsigned char *)"4", 1,
                   "num_class is 4, the file lists 3 classes");
    /* the booster's tree count is not the number of trees */
    v = find_text(ubj, size - (size_t)(ubj - buf), "num_treesSL");
    assert_non_null(v);
    expect_refused(bad, buf, size, v + 19, (const unsigned char *)"1", 1, "num_trees is 1");

    /* undamaged, it loads */
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_OK);
    parus_model_free(back);
    free(buf);
    parus_model_free(m);
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
    free(bad);
}

/* Format 2 keeps key/value metadata; format 1 files (no meta) still load. */
static void test_model_file__meta_v2_and_v1(void **state)
{
    parus_dataset ds;
    parus_model *m, *back = NULL;
    parus_error err;
    double *p1, *p2;
    char *dir = parus_test_tmpdir("classify-meta"), *path = parus_test_path(dir, "m.model"),
         *bad = parus_test_path(dir, "bad.model");
    char *buf, *v1, *meta, *classes;
    size_t size, n_v1;
    char long_key[80];
    (void)state;
    make_blobs(&ds, 20);
    m = train_small(&ds, 1);
    assert_int_equal(parus_model_n_meta(m), 0);
    assert_null(parus_model_meta(m, "season_length_days"));
    assert_int_equal(parus_model_set_meta(m, "season_length_days", "240", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(m, "season_variables", "ndvi,evi", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(m, "note", "", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(m, "comment", "two words, 中文", &err), PARUS_OK);
    assert_int_equal(parus_model_set_meta(m, "season_length_days", "235", &err), PARUS_OK);
    assert_int_equal(parus_model_n_meta(m), 4);
    assert_string_equal(parus_model_meta_key(m, 0), "season_length_days");
    assert_string_equal(parus_model_meta(m, "season_length_days"), "235");
    assert_null(parus_model_meta_key(m, 4));
    /* refusals */
    assert_int_equal(parus_model_set_meta(m, "two words", "x", &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_set_meta(m, "", "x", &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_set_meta(m, NULL, "x", &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_set_meta(m, "k", "line\nbreak", &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_set_meta(m, "k", NULL, &err), PARUS_E_INVALID);
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_int_equal(parus_model_set_meta(m, long_key, "x", &err), PARUS_E_INVALID);
    assert_int_equal(parus_model_n_meta(m), 4);

    /* round trip */
    assert_int_equal(parus_model_save(m, path, &err), PARUS_OK);
    assert_int_equal(parus_model_load(path, &back, &err), PARUS_OK);
    assert_int_equal(parus_model_n_meta(back), 4);
    assert_string_equal(parus_model_meta(back, "season_length_days"), "235");
    assert_string_equal(parus_model_meta(back, "season_variables"), "ndvi,evi");
    assert_string_equal(parus_model_meta(back, "note"), "");
    assert_string_equal(parus_model_meta(back, "comment"), "two words, 中文");
    assert_string_equal(parus_model_meta_key(back, 3), "comment");
    p1 = malloc(ds.n_samples * 3 * sizeof *p1);
    p2 = malloc(ds.n_samples * 3 * sizeof *p2);
    assert_int_equal(parus_model_predict(m, ds.x, ds.n_samples, 3, 1, p1, &err), PARUS_OK);
    assert_int_equal(parus_model_predict(back, ds.x, ds.n_samples, 3, 1, p2, &err), PARUS_OK);
    assert_memory_equal(p1, p2, ds.n_samples * 3 * sizeof *p1);
    parus_model_free(back);
    back = NULL;

    buf = read_all(path, &size);
    assert_true(strncmp(buf, "parus-model 2\n", 14) == 0);
    meta = strstr(buf, "meta season_length_days 235\n");
    classes = strstr(buf, "classes 3\n");
    assert_non_null(meta);
    assert_non_null(classes);
    assert_true(meta < classes);

    /* the same model as a format-1 file: no meta lines */
    v1 = malloc(size);
    n_v1 = 0;
    memcpy(v1, buf, (size_t)(meta - buf));
    n_v1 = (size_t)(meta - buf);
    memcpy(v1 + n_v1, classes, size - (size_t)(classes - buf));
    n_v1 += size - (size_t)(classes - buf);
    v1[12] = '1';
    assert_int_equal(parus_test_write_file(bad, v1, n_v1), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_OK);
    assert_int_equal(parus_model_n_meta(back), 0);
    assert_null(parus_model_meta(back, "season_length_days"));
    assert_int_equal(parus_model_predict(back, ds.x, ds.n_samples, 3, 1, p2, &err), PARUS_OK);
    assert_memory_equal(p1, p2, ds.n_samples * 3 * sizeof *p1);
    parus_model_free(back);
    back = NULL;
    /* a format-1 file with meta lines is not format 1 */
    buf[12] = '1';
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    buf[12] = '2';

    /* truncated inside the meta lines */
    assert_int_equal(parus_test_write_file(bad, buf, (size_t)(meta - buf) + 12), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    /* truncated in the model bytes */
    assert_int_equal(parus_test_write_file(bad, buf, size - 1), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    /* a meta line without a value separator */
    memcpy(meta, "meta season_length_days_235", 27);
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "meta"));
    memcpy(meta, "meta season_length_days 235", 27);
    /* an unknown format version */
    buf[12] = '4';
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "format version '4'"));
    /* format 3 needs its learner line (tests/test_tcnn.c: the network part) */
    buf[12] = '3';
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "learner line"));
    buf[12] = '2';
    assert_int_equal(parus_test_write_file(bad, buf, size), 0);
    assert_int_equal(parus_model_load(bad, &back, &err), PARUS_OK);

    free(buf);
    free(v1);
    free(p1);
    free(p2);
    parus_model_free(m);
    parus_model_free(back);
    parus_dataset_release(&ds);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
    free(bad);
}

/* A dataset built row by row is the same data as one built at once. */
static void test_dataset__setup_and_add_row(void **state)
{
    static const char *const classes[] = {"maize", "rice", "wheat"};
    static const char *const features[] = {"f0", "f1", "noise"};
    static const char *const dup[] = {"f0", "f1", "f0"};
    parus_dataset ref, ds;
    parus_error err;
    parus_confusion c;
    parus_classify_options opt;
    size_t i;
    double x[3] = {1, 2, 3};
    char h1[65], h2[65];
    (void)state;
    make_blobs(&ref, 70);
    assert_int_equal(parus_dataset_setup(&ds, features, 3, classes, 3, true, &err), PARUS_OK);
    assert_int_equal(ds.n_samples, 0);
    assert_int_equal(ds.n_features, 3);
    assert_string_equal(ds.class_names[2], "wheat");
    for (i = 0; i < ref.n_samples; i++)
        assert_int_equal(parus_dataset_add_row(&ds, ref.x + i * 3, ref.label[i], ref.fold[i], &err),
                         PARUS_OK);
    assert_int_equal(ds.n_samples, 210);
    assert_memory_equal(ds.label, ref.label, 210 * sizeof *ds.label);
    assert_memory_equal(ds.fold, ref.fold, 210 * sizeof *ds.fold);
    parus_dataset_hash(&ref, NULL, 0, h1);
    parus_dataset_hash(&ds, NULL, 0, h2);
    assert_string_equal(h1, h2);

    /* refusals leave the dataset as it was */
    assert_int_equal(parus_dataset_add_row(&ds, x, 3, 0, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "label 3"));
    assert_int_equal(parus_dataset_add_row(&ds, x, 0, -1, &err), PARUS_E_INVALID);
    assert_int_equal(parus_dataset_add_row(&ds, NULL, 0, 0, &err), PARUS_E_INVALID);
    assert_int_equal(ds.n_samples, 210);

    /* it trains and evaluates like any dataset */
    parus_classify_options_init(&opt);
    opt.n_rounds = 20;
    opt.n_threads = 1;
    assert_int_equal(parus_classify_evaluate(&ds, &opt, &c, &err), PARUS_OK);
    assert_true(c.overall_accuracy > 0.9);
    parus_confusion_release(&c);
    parus_dataset_release(&ds);

    /* without folds a fold is ignored; rows can follow a dataset read in one go */
    assert_int_equal(parus_dataset_setup(&ds, features, 3, classes, 3, false, &err), PARUS_OK);
    assert_null(ds.fold);
    assert_int_equal(parus_dataset_add_row(&ds, x, 1, -5, &err), PARUS_OK);
    assert_close(ds.x[2], 3.0, 0, 0);
    parus_dataset_release(&ds);
    assert_int_equal(parus_dataset_add_row(&ref, x, 1, 9, &err), PARUS_OK);
    assert_int_equal(ref.n_samples, 211);
    assert_int_equal(ref.fold[210], 9);
    assert_close(ref.x[210 * 3 + 1], 2.0, 0, 0);

    assert_int_equal(parus_dataset_setup(&ds, dup, 3, classes, 3, false, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'f0' appears twice"));
    assert_int_equal(parus_dataset_setup(&ds, features, 0, classes, 3, false, &err),
                     PARUS_E_INVALID);
    parus_dataset_release(&ref);
}

static void test_confusion__figures_by_hand(void **state)
{
    /* true rows, predicted columns:
     *   a: 8 2 0    b: 1 6 3    c: 0 0 10      n = 30, diagonal 24, OA = 0.8
     * margins true 10 10 10, predicted 9 8 13: p_e = (90 + 80 + 130) / 900 = 1/3
     * kappa = (0.8 - 1/3) / (2/3) = 0.7
     * precision 8/9, 6/8, 10/13; recall 0.8, 0.6, 1 */
    const size_t m[9] = {8, 2, 0, 1, 6, 3, 0, 0, 10};
    parus_confusion c;
    double f1a = 2 * (8.0 / 9) * 0.8 / (8.0 / 9 + 0.8), f1b = 2 * 0.75 * 0.6 / 1.35,
           f1c = 2 * (10.0 / 13) / (10.0 / 13 + 1);
    parus_error err;
    (void)state;
    assert_int_equal(parus_confusion_init(&c, 3, &err), PARUS_OK);
    memcpy(c.count, m, sizeof m);
    parus_confusion_compute(&c);
    assert_int_equal(c.n_total, 30);
    assert_close(c.overall_accuracy, 0.8, 1e-12, 0);
    assert_close(c.kappa, 0.7, 1e-12, 0);
    assert_close(c.precision[0], 8.0 / 9, 1e-12, 0);
    assert_close(c.precision[2], 10.0 / 13, 1e-12, 0);
    assert_close(c.recall[1], 0.6, 1e-12, 0);
    assert_close(c.f1[0], f1a, 1e-12, 0);
    assert_close(c.f1[1], f1b, 1e-12, 0);
    assert_close(c.macro_f1, (f1a + f1b + f1c) / 3, 1e-12, 0);
    parus_confusion_release(&c);
}

static void test_evaluate__grouped_folds_on_blobs(void **state)
{
    parus_dataset ds;
    parus_classify_options opt;
    parus_confusion c;
    parus_error err;
    (void)state;
    make_blobs(&ds, 20);
    parus_classify_options_init(&opt);
    opt.n_rounds = 20;
    opt.n_threads = 1;
    assert_int_equal(parus_classify_evaluate(&ds, &opt, &c, &err), PARUS_OK);
    assert_int_equal(c.n_total, ds.n_samples);
    assert_close(c.overall_accuracy, 1.0, 0, 0);
    parus_confusion_release(&c);
    free(ds.fold);
    ds.fold = NULL;
    assert_int_equal(parus_classify_evaluate(&ds, &opt, &c, &err), PARUS_E_INVALID);
    parus_dataset_release(&ds);
}

/* Series nir_01..04, mir_01..04 (steps in scrambled column order), ndvi_s00..s05 (the season's
 * naming), and a plain feature. */
static void test_derive__groups_values_and_refusals(void **state)
{
    static const char *const names[] = {"nir_02",   "nir_01",   "nir_03",   "nir_04",   "mir_01",
                                        "mir_02",   "mir_03",   "mir_04",   "ndvi_s00", "ndvi_s01",
                                        "ndvi_s02", "ndvi_s03", "ndvi_s04", "ndvi_s05", "x"};
    /* nir by step: 0.3 0.4 0.5 0.6; mir by step: 0.1 0.1 0.3 0.0; ndvi: a line with a dip */
    const double row[] = {0.4, 0.3, 0.5, 0.6, 0.1, 0.1, 0.3, 0.0, 0.2, 0.3, 0.1, 0.5, 0.6, 0.7, 42};
    const size_t n_in = sizeof names / sizeof names[0];
    parus_derive_options opt;
    parus_derive *d;
    parus_error err;
    double out[128];
    size_t i, n, base;
    (void)state;

    parus_derive_options_init(&opt);
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_OK);
    assert_int_equal(parus_derive_n_features(d), n_in);
    parus_derive_free(d);

    opt.nd_pairs = "nir:mir,red:mir"; /* red is absent: skipped */
    opt.differences = true;
    opt.smooth_bands = "ndvi,evi"; /* evi is absent: skipped */
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_OK);
    n = parus_derive_n_features(d);
    /* nd: 4 steps + 5 summaries; diffs: nir 3, mir 3, ndvi 5, nd 3; smooth ndvi 6 */
    assert_int_equal(n, n_in + 9 + 14 + 6);
    assert_true(n <= sizeof out / sizeof out[0]);
    assert_string_equal(parus_derive_feature_name(d, n_in), "nd_nir_mir_01");
    assert_string_equal(parus_derive_feature_name(d, n_in + 4), "nd_nir_mir_mean");
    assert_string_equal(parus_derive_feature_name(d, n_in + 9), "nir_diff02");
    assert_string_equal(parus_derive_feature_name(d, n_in + 15), "ndvi_diffs01");
    assert_string_equal(parus_derive_feature_name(d, n_in + 20), "nd_nir_mir_diff02");
    assert_string_equal(parus_derive_feature_name(d, n_in + 23), "ndvi_wss00");
    assert_null(parus_derive_feature_name(d, n));
    parus_derive_row(d, row, out);
    assert_memory_equal(out, row, sizeof row);
    base = n_in;
    assert_close(out[base + 0], 0.2 / 0.4, 1e-12, 0); /* step 1: (0.3 - 0.1) / 0.4 */
    assert_close(out[base + 2], 0.2 / 0.8, 1e-12, 0);
    assert_close(out[base + 3], 1.0, 1e-12, 0);
    assert_close(out[base + 4], (0.5 + 0.6 + 0.25 + 1.0) / 4, 1e-12, 0); /* mean */
    assert_close(out[base + 7], 1.0, 1e-12, 0);                          /* max */
    assert_close(out[base + 8], 3.0, 0, 0);                              /* argmax */
    assert_close(out[base + 9], 0.1, 1e-12, 0);                          /* nir_02 - nir_01 */
    assert_close(out[base + 14], -0.3, 1e-12, 0);                        /* mir_04 - mir_03 */
    assert_close(out[base + 16], -0.2, 1e-12, 0);                        /* ndvi_s02 - ndvi_s01 */
    /* the envelope rides over the dip at s02 and stays near the line elsewhere */
    assert_true(out[base + 25] > 0.25);
    for (i = 0; i < 6; i++)
        if (i != 2)
            assert_true(fabs(out[base + 23 + i] - row[8 + i]) < 0.15);
    parus_derive_free(d);

    /* a missing value: NaN in its nd step, its differences and its smoothed step */
    {
        double r2[sizeof row / sizeof row[0]];
        memcpy(r2, row, sizeof row);
        r2[1] = NAN;  /* nir_01 */
        r2[10] = NAN; /* ndvi_s02 */
        assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_OK);
        parus_derive_row(d, r2, out);
        assert_true(isnan(out[base + 0]));
        assert_close(out[base + 4], (0.6 + 0.25 + 1.0) / 3, 1e-12, 0);
        assert_true(isnan(out[base + 9]));
        assert_true(isnan(out[base + 16]) && isnan(out[base + 17]));
        assert_true(isnan(out[base + 25]) && isfinite(out[base + 24]));
        parus_derive_free(d);
    }

    /* names already there are not derived twice */
    {
        const char *twice[sizeof names / sizeof names[0] + 1];
        memcpy(twice, names, sizeof names);
        twice[n_in] = "nir_diff02";
        assert_int_equal(parus_derive_new(twice, n_in + 1, &opt, &d, &err), PARUS_OK);
        assert_int_equal(parus_derive_n_features(d), n_in + 1 + 9 + 11 + 6);
        parus_derive_free(d);
    }

    opt.nd_pairs = "nir-mir";
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'nir-mir'"));
    opt.nd_pairs = "nir:";
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_E_INVALID);
    opt.nd_pairs = NULL;
    opt.smooth_bands = "ndvi,,evi";
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_E_INVALID);
    opt.smooth_bands = "ndvi";
    opt.smooth_lambda = -1;
    assert_int_equal(parus_derive_new(names, n_in, &opt, &d, &err), PARUS_E_INVALID);
}

static void test_evaluate_select__nested_choice_on_blobs(void **state)
{
    parus_classify_candidate cand[3], grid[PARUS_SELECT_MAX_CANDIDATES];
    parus_dataset ds;
    parus_confusion c, c2;
    parus_selection sel, sel2;
    parus_error err;
    size_t f, n_grid;
    (void)state;
    make_blobs(&ds, 20); /* folds 0..3 */
    memset(cand, 0, sizeof cand);
    /* blind: no split can hold a million samples' weight, so it predicts one class */
    cand[0].name = "blind";
    parus_derive_options_init(&cand[0].derive);
    parus_classify_options_init(&cand[0].opt);
    cand[0].opt.n_rounds = 10;
    cand[0].opt.min_child_weight = 1e6;
    cand[0].opt.n_threads = 1;
    cand[1] = cand[0];
    cand[1].name = "trees";
    cand[1].opt.min_child_weight = 1;
    cand[1].opt.max_depth = 3;
    cand[1].opt.n_rounds = 20;
    cand[1].round_step = 10;
    cand[2] = cand[1];
    cand[2].name = "same trees";
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 3, &c, &sel, &err), PARUS_OK);
    assert_int_equal(c.n_total, ds.n_samples);
    assert_true(c.overall_accuracy >= 0.95);
    assert_int_equal(sel.n_folds, 4);
    for (f = 0; f < sel.n_folds; f++) {
        const parus_select_fold *sf = &sel.fold[f];
        assert_int_equal(sf->fold, (int)f);
        assert_int_equal(sf->n_test, ds.n_samples / 4);
        assert_true(sf->inner_macro_f1[0] < 0.5);
        assert_int_equal(sf->inner_rounds[0], 10);
        assert_true(sf->inner_macro_f1[1] > 0.9);
        /* equal candidates score equally; the tie goes to the earlier one */
        assert_memory_equal(&sf->inner_macro_f1[1], &sf->inner_macro_f1[2], sizeof(double));
        assert_int_equal(sf->chosen, 1);
        assert_int_equal(sf->n_rounds, sf->inner_rounds[1]);
        assert_true(sf->n_rounds == 10 || sf->n_rounds == 20);
        assert_true(sf->accuracy >= 0.9);
    }
    /* the same with two threads */
    cand[0].opt.n_threads = cand[1].opt.n_threads = cand[2].opt.n_threads = 2;
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 3, &c2, &sel2, &err), PARUS_OK);
    assert_memory_equal(c.count, c2.count, 9 * sizeof *c.count);
    for (f = 0; f < sel.n_folds; f++) {
        assert_int_equal(sel.fold[f].chosen, sel2.fold[f].chosen);
        assert_memory_equal(sel.fold[f].inner_macro_f1, sel2.fold[f].inner_macro_f1,
                            sizeof sel.fold[f].inner_macro_f1);
    }
    parus_confusion_release(&c);
    parus_confusion_release(&c2);
    parus_selection_release(&sel);
    parus_selection_release(&sel2);
    parus_selection_release(NULL);

    /* refusals */
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 0, &c, &sel, &err), PARUS_E_INVALID);
    cand[0].round_step = 30;
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 2, &c, &sel, &err), PARUS_E_INVALID);
    cand[0].round_step = 10;
    for (f = 0; f < ds.n_samples; f++)
        ds.fold[f] = (int)(f % 2); /* two folds: no inner cross-validation possible */
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 2, &c, &sel, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "three folds"));
    free(ds.fold);
    ds.fold = NULL;
    assert_int_equal(parus_classify_evaluate_select(&ds, cand, 2, &c, &sel, &err), PARUS_E_INVALID);
    parus_dataset_release(&ds);

    /* the built-in grid: six candidates, the defaults first */
    n_grid = parus_classify_select_grid(grid, PARUS_SELECT_MAX_CANDIDATES, 2);
    assert_int_equal(n_grid, 6);
    assert_string_equal(grid[0].name, "base-d6");
    assert_int_equal(grid[0].opt.max_depth, 6);
    assert_int_equal(grid[0].opt.n_rounds, 300);
    assert_int_equal(grid[5].opt.n_threads, 2);
    assert_int_equal(parus_classify_select_grid(grid, 2, 1), 6);
}

static void write_text(const char *path, const char *text)
{
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
}

static void test_read_csv__series_features_and_refusals(void **state)
{
    char *dir = parus_test_tmpdir("classify-csv"), *path = parus_test_path(dir, "s.csv");
    parus_csv_options opt;
    parus_dataset ds;
    parus_error err;
    (void)state;
    parus_csv_options_init(&opt);
    opt.fold_column = "fold";
    opt.exclude_columns = "id,when*";
    parus_dataset_init(&ds);
    write_text(path, "id,label,fold,when_d,ndvi_02,ndvi_01,ndvi_03,ndvi_04,ndvi_05,b8\n"
                     "1,soy,0,2020-01-01,0.3,0.2,0.6,0.8,0.4,1.5\n"
                     "2,soy,1,2020-01-01,0.3,0.2,0.6,0.8,0.4,\n"
                     "3,\"maize, white\",0,2020-01-01,0.2,0.2,0.3,0.3,0.2,2\n"
                     "4,\"maize, white\",1,2020-01-01,0.2,0.2,0.3,0.3,0.2,NA\n");
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_OK);
    assert_int_equal(ds.n_samples, 4);
    assert_int_equal(ds.n_classes, 2);
    assert_string_equal(ds.class_names[0], "maize, white");
    assert_int_equal(ds.label[0], 1);
    assert_int_equal(ds.fold[3], 1);
    /* 6 raw + 5 summaries of ndvi + 9 phenology */
    assert_int_equal(ds.n_features, 6 + 5 + 9);
    assert_string_equal(ds.feature_names[6], "ndvi_mean");
    assert_string_equal(ds.feature_names[11], "ndvi_pheno_n_cycles");
    assert_true(isnan(ds.x[1 * ds.n_features + 5]));
    assert_close(ds.x[9], 0.8, 1e-12, 0);  /* ndvi_max of sample 0 */
    assert_close(ds.x[10], 3.0, 1e-12, 0); /* argmax: step 04 is the 4th in date order */
    parus_dataset_release(&ds);
    /* derived features on request, after the others */
    opt.derive.differences = true;
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_OK);
    assert_int_equal(ds.n_features, 6 + 5 + 9 + 4);
    assert_string_equal(ds.feature_names[20], "ndvi_diff02");
    assert_close(ds.x[20], 0.1, 1e-12, 0); /* ndvi_02 - ndvi_01 of sample 0 */
    assert_int_equal(ds.fold[3], 1);
    parus_dataset_release(&ds);
    opt.derive.nd_pairs = "ndvi";
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "s.csv"));
    opt.derive.nd_pairs = NULL;
    opt.derive.differences = false;

    /* classes with one sample: every one of them is named, not only the first */
    write_text(path, "label,fold,a\nsoy,0,1\nsoy,1,2\nrice,0,3\noat,1,4\nbean,0,5\n");
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_E_RANGE);
    assert_non_null(strstr(err.msg, "3 classes"));
    assert_non_null(strstr(err.msg, "'rice' (1)"));
    assert_non_null(strstr(err.msg, "'oat' (1)"));
    assert_non_null(strstr(err.msg, "'bean' (1)"));
    /* a non-numeric feature */
    write_text(path, "label,fold,a\nsoy,0,1\nsoy,1,abc\n");
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'abc'"));
    /* unknown class column */
    opt.class_column = "crop";
    assert_int_equal(parus_dataset_read_csv(&ds, path, &opt, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "'crop'"));
    assert_int_equal(parus_dataset_read_csv(&ds, "/nonexistent.csv", &opt, &err), PARUS_E_IO);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

/* What the reader left out, as "column:reason;" pairs. */
typedef struct excluded_log {
    char text[2048];
} excluded_log;

static void log_exclusion(void *arg, const char *column, const char *reason)
{
    excluded_log *log = arg;
    size_t used = strlen(log->text);
    snprintf(log->text + used, sizeof log->text - used, "%s:%s;", column, reason);
}

/* 60 samples of 3 classes that overlap in four noisy features (a classifier gets some wrong),
 * in 6 farms named farm0..farm5 (10 samples each, the classes mixed), plus columns that leak:
 * sample_id encodes the class (class * 100 + row: neither dense nor in row order, caught by its
 * name), ref is a shuffled 1..60 (a row identifier caught by its values), zone is one value per
 * farm, cropnum one value per class. */
static void write_leaky_samples(const char *path)
{
    static const char *const cls[] = {"maize", "rice", "soy"};
    FILE *f = fopen(path, "w");
    uint64_t st = 99;
    int i, k, perm[60];
    assert_non_null(f);
    for (i = 0; i < 60; i++)
        perm[i] = i + 1;
    for (i = 59; i > 0; i--) {
        int j, t;
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        j = (int)((st >> 33) % (uint64_t)(i + 1));
        t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    fprintf(f, "sample_id,ref,zone,cropnum,label,farm,f1,f2,f3,f4\n");
    for (i = 0; i < 60; i++) {
        int c = (i * 7 + i / 10) % 3;
        fprintf(f, "%d,%d,%.1f,%d,%s,farm%d", c * 100 + i, perm[i], 3.5 * (i / 10), 2 * c + 1,
                cls[c], i / 10);
        for (k = 0; k < 4; k++) {
            double u;
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            u = (double)(st >> 11) / 9007199254740992.0;
            fprintf(f, ",%.4f", 0.3 * c + 1.2 * (u - 0.5));
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

static double evaluate_oa(const char *path, const char *exclude, const char *include,
                          excluded_log *log, size_t *n_features)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_dataset ds;
    parus_confusion c;
    parus_error err;
    double oa;
    parus_csv_options_init(&copt);
    copt.fold_column = "farm";
    copt.exclude_columns = exclude;
    copt.include_columns = include;
    copt.series_summaries = false;
    copt.phenology_band = NULL;
    copt.on_exclude = log ? log_exclusion : NULL;
    copt.on_exclude_arg = log;
    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, path, &copt, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    assert_non_null(ds.fold_names);
    assert_int_equal(ds.n_fold_names, 6);
    assert_string_equal(ds.fold_names[ds.fold[59]], "farm5");
    *n_features = ds.n_features;
    parus_classify_options_init(&opt);
    opt.n_rounds = 20;
    opt.n_threads = 2;
    if (parus_classify_evaluate(&ds, &opt, &c, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    oa = c.overall_accuracy;
    parus_confusion_release(&c);
    parus_dataset_release(&ds);
    return oa;
}

/* An id that encodes the class must not become a feature: the reported accuracy is the one
 * without the leaking columns (the old reader took every column but the class and the fold). */
static void test_read_csv__leaking_columns_left_out(void **state)
{
    char *dir = parus_test_tmpdir("classify-leak"), *path = parus_test_path(dir, "s.csv");
    excluded_log log;
    double oa_rules, oa_clean, oa_leak;
    size_t nf_rules, nf_clean, nf_leak;
    (void)state;
    write_leaky_samples(path);
    memset(&log, 0, sizeof log);
    oa_rules = evaluate_oa(path, NULL, NULL, &log, &nf_rules);
    oa_clean = evaluate_oa(path, "sample_id,ref,zone,cropnum", NULL, NULL, &nf_clean);
    oa_leak = evaluate_oa(path, NULL, "sample_id", NULL, &nf_leak);
    printf("  OA by the rules %.4f (%zu features), without the leaks %.4f, with sample_id %.4f\n",
           oa_rules, nf_rules, oa_clean, oa_leak);
    assert_int_equal(nf_rules, 4);
    assert_int_equal(nf_clean, 4);
    assert_true(oa_rules == oa_clean);
    assert_true(oa_leak > oa_clean + 0.1); /* the leak would have changed the figure */
    assert_non_null(strstr(log.text, "sample_id:its name marks an identifier;"));
    assert_non_null(strstr(log.text, "ref:its values are integers unique per row"));
    assert_non_null(strstr(log.text, "zone:it has one value per fold group"));
    assert_non_null(strstr(log.text, "cropnum:it has one value per class"));
    assert_null(strstr(log.text, "f1:"));
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

static void test_leak_name__words_of_the_name(void **state)
{
    static const char *const leak[] = {"id",         "sample_id", "plotId",   "SampleID", "lat",
                                       "Longitude",  "x",         "utm_y",    "easting",  "WKT",
                                       "start_date", "doy",       "acq-time", "group",    "fold",
                                       "class_code", "Label",     "farm"};
    static const char *const fine[] = {"ndvi_01", "b8",  "nir",   "evi_mean", "red_23",
                                       "mir",     "b8a", "width", "slope",    "idx2x"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof leak / sizeof leak[0]; i++)
        if (!parus_csv_leak_name(leak[i]))
            fail_msg("'%s' should be left out by its name", leak[i]);
    for (i = 0; i < sizeof fine / sizeof fine[0]; i++)
        if (parus_csv_leak_name(fine[i]))
            fail_msg("'%s' should be a feature: %s", fine[i], parus_csv_leak_name(fine[i]));
    assert_string_equal(parus_csv_leak_name("lon"), "its name marks a coordinate");
    assert_null(parus_csv_leak_name(NULL));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Grouped 5-fold on the Mato Grosso samples: the default classifier with n_rounds, or (select)
 * nested selection over the built-in grid cut to n_rounds, scored every n_rounds / 2. */
static void evaluate_mt(const char *csv, const char *exclude, size_t n_rounds, bool select,
                        double *oa, double *macro_f1, excluded_log *log)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_classify_candidate cand[PARUS_SELECT_MAX_CANDIDATES];
    parus_selection sel;
    parus_dataset ds;
    parus_confusion c;
    parus_error err;
    struct timespec t0;
    size_t k, n_cand = 0;
    parus_csv_options_init(&copt);
    copt.fold_column = "fold";
    copt.exclude_columns = exclude;
    copt.on_exclude = log ? log_exclusion : NULL;
    copt.on_exclude_arg = log;
    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_classify_options_init(&opt);
    opt.n_rounds = n_rounds;
    opt.n_threads = 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (select) {
        n_cand = parus_classify_select_grid(cand, PARUS_SELECT_MAX_CANDIDATES, 2);
        for (k = 0; k < n_cand; k++) {
            cand[k].opt.n_rounds = n_rounds;
            cand[k].round_step = n_rounds / 2;
        }
        if (parus_classify_evaluate_select(&ds, cand, n_cand, &c, &sel, &err) != PARUS_OK)
            fail_msg("%s", err.msg);
    } else if (parus_classify_evaluate(&ds, &opt, &c, &err) != PARUS_OK) {
        fail_msg("%s", err.msg);
    }
    printf("  %zu features, %zu rounds%s: OA %.4f, kappa %.4f, macro-F1 %.4f (%.1f s)\n",
           ds.n_features, n_rounds, select ? ", nested selection" : "", c.overall_accuracy, c.kappa,
           c.macro_f1, seconds_since(&t0));
    if (select) {
        for (k = 0; k < sel.n_folds; k++)
            printf("    fold %d: %s, %zu rounds, accuracy %.4f\n", sel.fold[k].fold,
                   cand[sel.fold[k].chosen].name, sel.fold[k].n_rounds, sel.fold[k].accuracy);
        parus_selection_release(&sel);
    }
    *oa = c.overall_accuracy;
    *macro_f1 = c.macro_f1;
    parus_confusion_release(&c);
    parus_dataset_release(&ds);
}

/* The benchmark, cut to fit about 15 s on 2 cores: 60 rounds instead of 300, and the nested
 * selection on the NDVI-only features (its full six-candidate grid, scored at 30 and 60 rounds).
 * Measured (deterministic, any thread count) with the default class balance (1): all bands OA
 * 0.9286, kappa 0.9153, macro-F1 0.9195 (without the balance 0.9253 and 0.9011, so the
 * macro-F1 asserted here fails without it); NDVI only OA 0.8572; NDVI only with nested
 * selection OA 0.8600, macro-F1 0.8532. Asserted as reached, not as wished: the issue's
 * macro-F1 0.93 is not met by these settings. The full figures (`parus evaluate`, 300 rounds;
 * with --select) are in docs/method.md. */
#define MT_ROUNDS 60
#define MT_MIN_OA 0.92
#define MT_MIN_MACRO_F1 0.915
#define MT_MIN_OA_NDVI 0.84
#define MT_MIN_OA_NDVI_SELECT 0.86
#define MT_MIN_MACRO_F1_NDVI_SELECT 0.85
/* The all-bands run leaves sample_id, the coordinates and the dates in the file for the leak
 * rules to find (with them as features, the old reader's `parus evaluate` reported OA 0.994);
 * the same figure as when they are excluded by hand, and at most MT_MAX_OA. */
#define MT_MAX_OA 0.94
#define MT_NDVI_ONLY "evi_*,red_*,nir_*,blue_*,mir_*"

static void test_benchmark__mato_grosso_grouped_5fold(void **state)
{
    const char *dir = parus_test_data_dir("matogrosso-modis");
    char *csv;
    double oa, mf1, oa_ndvi, mf1_ndvi, oa_sel, mf1_sel;
    excluded_log log;
    (void)state;
    memset(&log, 0, sizeof log);
    if (!dir) {
        printf("  skipped: matogrosso-modis data absent (set PARUS_DATA_DIR)\n");
        skip();
    }
    csv = parus_test_path(dir, "matogrosso-modis/samples_mt_9classes_wide.csv");
    printf("  Mato Grosso MODIS, grouped 5-fold, all bands + summaries + NDVI phenology:\n");
    evaluate_mt(csv, NULL, MT_ROUNDS, false, &oa, &mf1, &log);
    printf("  left out: %s\n", log.text);
    assert_non_null(strstr(log.text, "sample_id:its name marks an identifier;"));
    assert_non_null(strstr(log.text, "longitude:its name marks a coordinate;"));
    assert_non_null(strstr(log.text, "latitude:its name marks a coordinate;"));
    assert_non_null(strstr(log.text, "start_date:its name marks a date or time;"));
    assert_non_null(strstr(log.text, "end_date:its name marks a date or time;"));
    printf("  NDVI only:\n");
    evaluate_mt(csv, MT_NDVI_ONLY, MT_ROUNDS, false, &oa_ndvi, &mf1_ndvi, NULL);
    evaluate_mt(csv, MT_NDVI_ONLY, MT_ROUNDS, true, &oa_sel, &mf1_sel, NULL);
    assert_true(oa <= MT_MAX_OA);
    assert_true(oa >= MT_MIN_OA);
    assert_true(mf1 >= MT_MIN_MACRO_F1);
    assert_true(oa_ndvi >= MT_MIN_OA_NDVI);
    assert_true(oa_sel >= MT_MIN_OA_NDVI_SELECT);
    assert_true(mf1_sel >= MT_MIN_MACRO_F1_NDVI_SELECT);
    free(csv);
}

/* Class balance: a common class spread over [0, 1) and a rare one (a twentieth as many) over
 *  [0.6, 1). Where they overlap the common class has eight times the samples, so unweighted
 * trees call the overlap common and the rare class is never found; weighted (n / (k n_c)), the
 * rare class weighs about two and a half times the common one there and takes it. Out of range
 * balances are refused. */
static void test_train__class_balance_finds_the_rare_class(void **state)
{
    static const char *const classes[] = {"common", "rare"};
    static const char *const features[] = {"x"};
    parus_dataset ds;
    parus_classify_options opt;
    parus_model *m0 = NULL, *m1 = NULL;
    parus_error err;
    uint64_t st = 99;
    double p[2];
    size_t i, found0 = 0, found1 = 0;
    (void)state;
    parus_dataset_init(&ds);
    assert_int_equal(parus_dataset_setup(&ds, features, 1, classes, 2, false, &err), PARUS_OK);
    for (i = 0; i < 420; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(st >> 11) / 9007199254740992.0, x;
        size_t label = i % 21 == 0;
        x = label ? 0.6 + 0.4 * u : u;
        assert_int_equal(parus_dataset_add_row(&ds, &x, label, 0, &err), PARUS_OK);
    }
    parus_classify_options_init(&opt);
    assert_true(opt.class_balance == 1.0); /* the default */
    opt.n_rounds = 40;
    opt.n_threads = 1;
    opt.class_balance = 0.0;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m0, &err), PARUS_OK);
    opt.class_balance = 1.0;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m1, &err), PARUS_OK);
    for (i = 0; i < ds.n_samples; i++) {
        if (ds.label[i] != 1)
            continue;
        assert_int_equal(parus_model_predict(m0, ds.x + i, 1, 1, 1, p, &err), PARUS_OK);
        found0 += p[1] > p[0];
        assert_int_equal(parus_model_predict(m1, ds.x + i, 1, 1, 1, p, &err), PARUS_OK);
        found1 += p[1] > p[0];
    }
    assert_true(found0 <= 2); /* of 20 rare samples */
    assert_true(found1 >= 15);
    parus_model_free(m0);
    parus_model_free(m1);
    opt.class_balance = 1.5;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m0, &err), PARUS_E_INVALID);
    opt.class_balance = NAN;
    assert_int_equal(parus_model_train(&ds, NULL, 0, &opt, &m0, &err), PARUS_E_INVALID);
    parus_dataset_release(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train__separable_probabilities_and_determinism),
        cmocka_unit_test(test_train__class_balance_finds_the_rare_class),
        cmocka_unit_test(test_train__blocks_subsets_and_one_matrix_agree),
        cmocka_unit_test(test_top2__ties_and_margin),
        cmocka_unit_test(test_model_file__round_trip_and_refusals),
        cmocka_unit_test(test_model_load__inconsistent_trees_refused),
        cmocka_unit_test(test_model_file__meta_v2_and_v1),
        cmocka_unit_test(test_dataset__setup_and_add_row),
        cmocka_unit_test(test_confusion__figures_by_hand),
        cmocka_unit_test(test_evaluate__grouped_folds_on_blobs),
        cmocka_unit_test(test_derive__groups_values_and_refusals),
        cmocka_unit_test(test_evaluate_select__nested_choice_on_blobs),
        cmocka_unit_test(test_read_csv__series_features_and_refusals),
        cmocka_unit_test(test_read_csv__leaking_columns_left_out),
        cmocka_unit_test(test_leak_name__words_of_the_name),
        cmocka_unit_test(test_benchmark__mato_grosso_grouped_5fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

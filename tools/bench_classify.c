/*
 * bench_classify.c - `parus-bench-classify`: training and prediction speed of the crop classifier
 * (parus/classify.h) against the targets of issue 5: training on 10,000 parcels x 36 steps in at
 * most 60 s on 2 cores, prediction of at least 200,000 parcels per second.
 *
 *   parus-bench-classify [--train N] [--predict N] [--xgboost N] [--threads N] [--rounds N]
 *                        [--eta X] [--depth N] [--batch N] [--repeat N] [--save FILE]
 *
 * The data are synthetic and deterministic (own splitmix64 generator, fixed seed), so the figures
 * depend only on the machine and the build: 16 classes, each a seasonal NDVI-like curve over 36
 * steps (a double logistic with its own green-up, senescence, peak and base), drawn per sample
 * with a shift in time, a scale in amplitude, Gaussian noise and a few missing steps (clouds, NaN)
 * so that the trees meet what real series have. The features are the 36 raw steps only; the
 * summaries and phenology that parus_dataset_read_csv adds cost a few more columns, not a different
 * order of time. Training uses the default options (parus_classify_options_init) but for the
 * thread count (2 unless --threads), --rounds, --eta and --depth. The accuracy on 2,000 held-out
 * samples of the same distribution is a sanity check that the model learnt the classes, and tells
 * whether fewer rounds (at a higher eta) still learn them as well.
 *
 * Prediction is timed --repeat times (best wall time kept) in calls of --batch parcels (default:
 * all in one call), with the process's CPU seconds beside the wall seconds: on a shared machine
 * the wall time includes waiting for a core, the CPU time does not. Both predictors of the same
 * model are timed in the same run: parus's forest (the default, src/forest.c) on the --predict
 * parcels, and XGBoost's own on the first --xgboost of them (default 20,000: it is far slower;
 * 0 skips it), with the ratio of their rates and their agreement on those parcels (the largest
 * probability difference, the parcels whose most probable class differs). The CPU time per tree
 * walk is CPU seconds / (parcels x trees): one tree for one parcel on one core. --save writes the
 * model.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "parus/classify.h"
#include "parus/error.h"

#define N_CLASSES 16
#define N_STEPS 36
#define N_HELD_OUT 2000
#define TRAIN_TARGET_S 60.0
#define PREDICT_TARGET_PER_S 200000.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) from the top 53 bits. */
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

/* A class's curve: 8 green-up dates x 2 season lengths, peak and base varied across classes so
 * that neighbours in time still differ a little in level, as crops do. */
typedef struct curve {
    double sos_step, eos_step, base, peak, rise_steps, fall_steps;
} curve;

static curve class_curve(size_t c)
{
    curve k;
    k.sos_step = 4.0 + 2.5 * (double)(c % 8);
    k.eos_step = k.sos_step + (c < 8 ? 9.0 : 15.0);
    k.base = 0.12 + 0.02 * (double)(c % 3);
    k.peak = 0.62 + 0.06 * (double)(c % 4);
    k.rise_steps = 1.2 + 0.3 * (double)(c % 2);
    k.fall_steps = 1.5 + 0.4 * (double)((c / 2) % 2);
    return k;
}

/* One sample of class c into row[0..N_STEPS). */
static void draw_sample(size_t c, uint64_t *state, double *row)
{
    curve k = class_curve(c);
    double shift = 1.2 * gaussian(state), scale = 1.0 + 0.08 * gaussian(state);
    size_t t;
    for (t = 0; t < N_STEPS; t++) {
        double x = (double)t, v;
        double up = 1.0 / (1.0 + exp(-(x - k.sos_step - shift) / k.rise_steps));
        double down = 1.0 / (1.0 + exp(-(x - k.eos_step - shift) / k.fall_steps));
        v = k.base + scale * (k.peak - k.base) * (up - down) + 0.04 * gaussian(state);
        row[t] = uniform01(state) < 0.05 ? (double)NAN : v;
    }
}

/* n samples, classes in turn, into x (n x N_STEPS) and label. */
static void draw_samples(size_t n, uint64_t *state, double *x, size_t *label)
{
    size_t i;
    for (i = 0; i < n; i++) {
        size_t c = (size_t)(splitmix64(state) % N_CLASSES);
        if (label)
            label[i] = c;
        draw_sample(c, state, x + i * N_STEPS);
    }
}

static char **make_names(const char *prefix, size_t n)
{
    char **names = calloc(n, sizeof *names);
    size_t i;
    if (!names)
        return NULL;
    for (i = 0; i < n; i++) {
        int len = snprintf(NULL, 0, "%s%02zu", prefix, i);
        if (len < 0 || !(names[i] = malloc((size_t)len + 1)))
            return names; /* parus_dataset_release frees the part made */
        snprintf(names[i], (size_t)len + 1, "%s%02zu", prefix, i);
    }
    return names;
}

static int names_complete(char **names, size_t n)
{
    size_t i;
    if (!names)
        return 0;
    for (i = 0; i < n; i++)
        if (!names[i])
            return 0;
    return 1;
}

static int parse_real(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "parus-bench-classify: bad value '%s' for %s (%g to %g)\n", s, opt, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_size(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "parus-bench-classify: bad value '%s' for %s (%ld to %ld)\n", s, opt, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: parus-bench-classify [--train N] [--predict N] [--xgboost N] [--threads N] "
               "[--rounds N]\n"
               "                            [--eta X] [--depth N] [--batch N] [--repeat N] "
               "[--save FILE]\n");
}

/* One predictor's best of repeat runs over n parcels of x, in calls of batch parcels. */
typedef struct timing {
    double wall_s, cpu_s;
} timing;

static int time_predict(parus_model *model, const double *x, size_t n, size_t batch, long repeat,
                        int n_threads, double *prob, timing *out)
{
    parus_error err;
    long r;
    out->wall_s = INFINITY;
    out->cpu_s = 0;
    for (r = 0; r < repeat; r++) {
        size_t done, k;
        double t0 = now_s(), c0 = cpu_s(), w, c;
        for (done = 0; done < n; done += k) {
            k = n - done < batch ? n - done : batch;
            if (parus_model_predict(model, x + done * N_STEPS, k, N_STEPS, n_threads,
                                    prob + done * N_CLASSES, &err) != PARUS_OK) {
                fprintf(stderr, "parus-bench-classify: prediction failed: %s\n", err.msg);
                return -1;
            }
        }
        w = now_s() - t0;
        c = cpu_s() - c0;
        if (w < out->wall_s) {
            out->wall_s = w;
            out->cpu_s = c;
        }
    }
    return 0;
}

static void print_predict(const char *stage, size_t n, const timing *t, size_t n_trees)
{
    double per_s = (double)n / t->wall_s;
    printf("%-10s %10zu %10.3f %10.3f %14.0f  %-18s %-4s %.2f ns\n", stage, n, t->wall_s, t->cpu_s,
           per_s, ">= 200000 /s", per_s >= PREDICT_TARGET_PER_S ? "yes" : "no",
           1e9 * t->cpu_s / (double)n / (double)n_trees);
}

int main(int argc, char **argv)
{
    long n_train = 10000, n_predict = 200000, n_xgboost = 20000, n_threads = 2, n_rounds = -1,
         depth = -1, batch = 0, repeat = 1;
    double eta = -1;
    const char *save = NULL;
    parus_classify_options opt;
    parus_dataset ds;
    parus_model *model = NULL;
    parus_error err;
    double *x_pred = NULL, *prob = NULL, *prob_xgb = NULL;
    size_t *rows = NULL, n_all, i, n_correct = 0, n_trees;
    uint64_t state = 20261123u;
    double t0, c0, train_s, train_cpu_s, accuracy;
    timing forest, xgb;
    int rc = 1, a;

    for (a = 1; a < argc; a++) {
        long *dst = NULL, min = 1, max = 100000000;
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (a + 1 >= argc) {
            fprintf(stderr, "parus-bench-classify: '%s' needs a value or is unknown\n", argv[a]);
            usage(stderr);
            return 2;
        }
        if (strcmp(argv[a], "--train") == 0) {
            dst = &n_train;
            min = N_CLASSES;
        } else if (strcmp(argv[a], "--predict") == 0) {
            dst = &n_predict;
        } else if (strcmp(argv[a], "--xgboost") == 0) {
            dst = &n_xgboost;
            min = 0;
        } else if (strcmp(argv[a], "--threads") == 0) {
            dst = &n_threads;
            max = 1024;
        } else if (strcmp(argv[a], "--rounds") == 0) {
            dst = &n_rounds;
            max = 100000;
        } else if (strcmp(argv[a], "--depth") == 0) {
            dst = &depth;
            max = 16;
        } else if (strcmp(argv[a], "--batch") == 0) {
            dst = &batch;
        } else if (strcmp(argv[a], "--repeat") == 0) {
            dst = &repeat;
            max = 100;
        } else if (strcmp(argv[a], "--eta") == 0) {
            if (parse_real(argv[a], argv[a + 1], 1e-4, 1.0, &eta) != 0)
                return 2;
        } else if (strcmp(argv[a], "--save") == 0) {
            save = argv[a + 1];
        } else {
            fprintf(stderr, "parus-bench-classify: unknown option '%s'\n", argv[a]);
            usage(stderr);
            return 2;
        }
        if (dst && parse_size(argv[a], argv[a + 1], min, max, dst) != 0)
            return 2;
        a++;
    }
    if (batch == 0 || batch > n_predict)
        batch = n_predict;
    if (n_xgboost > n_predict)
        n_xgboost = n_predict;

    parus_error_init(&err);
    parus_dataset_init(&ds);
    parus_classify_options_init(&opt);
    opt.n_threads = (int)n_threads;
    if (n_rounds > 0)
        opt.n_rounds = (size_t)n_rounds;
    if (depth > 0)
        opt.max_depth = (int)depth;
    if (eta > 0)
        opt.eta = eta;

    /* The held-out samples follow the training ones in the same dataset, so that one dataset
     * carries the names and the model is trained on its first n_train rows. */
    n_all = (size_t)n_train + N_HELD_OUT;
    ds.n_samples = n_all;
    ds.n_features = N_STEPS;
    ds.n_classes = N_CLASSES;
    ds.x = malloc(n_all * N_STEPS * sizeof *ds.x);
    ds.label = malloc(n_all * sizeof *ds.label);
    ds.class_names = make_names("crop_", N_CLASSES);
    ds.feature_names = make_names("ndvi_", N_STEPS);
    rows = malloc((size_t)n_train * sizeof *rows);
    x_pred = malloc((size_t)n_predict * N_STEPS * sizeof *x_pred);
    prob = malloc((size_t)(n_predict > N_HELD_OUT ? n_predict : N_HELD_OUT) * N_CLASSES *
                  sizeof *prob);
    prob_xgb = malloc((size_t)(n_xgboost > 0 ? n_xgboost : 1) * N_CLASSES * sizeof *prob_xgb);
    if (!ds.x || !ds.label || !names_complete(ds.class_names, N_CLASSES) ||
        !names_complete(ds.feature_names, N_STEPS) || !rows || !x_pred || !prob || !prob_xgb) {
        fprintf(stderr, "parus-bench-classify: out of memory\n");
        goto cleanup;
    }
    draw_samples(n_all, &state, ds.x, ds.label);
    draw_samples((size_t)n_predict, &state, x_pred, NULL);
    for (i = 0; i < (size_t)n_train; i++)
        rows[i] = i;

    t0 = now_s();
    c0 = cpu_s();
    if (parus_model_train(&ds, rows, (size_t)n_train, &opt, &model, &err) != PARUS_OK) {
        fprintf(stderr, "parus-bench-classify: training failed: %s\n", err.msg);
        goto cleanup;
    }
    train_s = now_s() - t0;
    train_cpu_s = cpu_s() - c0;
    if (save && parus_model_save(model, save, &err) != PARUS_OK) {
        fprintf(stderr, "parus-bench-classify: %s\n", err.msg);
        goto cleanup;
    }

    if (parus_model_predict(model, ds.x + (size_t)n_train * N_STEPS, N_HELD_OUT, N_STEPS,
                            (int)n_threads, prob, &err) != PARUS_OK) {
        fprintf(stderr, "parus-bench-classify: prediction failed: %s\n", err.msg);
        goto cleanup;
    }
    for (i = 0; i < N_HELD_OUT; i++) {
        size_t best, second;
        double margin;
        parus_classify_top2(prob + i * N_CLASSES, N_CLASSES, &best, &second, &margin);
        n_correct += best == ds.label[(size_t)n_train + i];
    }
    accuracy = (double)n_correct / N_HELD_OUT;

    n_trees = opt.n_rounds * N_CLASSES;
    if (parus_model_predictor(model) != PARUS_PREDICTOR_FOREST) {
        fprintf(stderr, "parus-bench-classify: the model is not predicted by the forest (trees of "
                        "more than 64 leaves, or PARUS_PREDICTOR=xgboost)\n");
        goto cleanup;
    }
    if (time_predict(model, x_pred, (size_t)n_predict, (size_t)batch, repeat, (int)n_threads, prob,
                     &forest) != 0)
        goto cleanup;
    if (n_xgboost > 0) {
        if (parus_model_set_predictor(model, PARUS_PREDICTOR_XGBOOST, &err) != PARUS_OK) {
            fprintf(stderr, "parus-bench-classify: %s\n", err.msg);
            goto cleanup;
        }
        if (time_predict(model, x_pred, (size_t)n_xgboost, (size_t)batch, repeat, (int)n_threads,
                         prob_xgb, &xgb) != 0)
            goto cleanup;
    }

    printf("parus-bench-classify: %d classes, %d steps, %ld threads, %zu rounds, eta %g, "
           "max_depth %d, %zu trees, batch %ld\n",
           N_CLASSES, N_STEPS, n_threads, opt.n_rounds, opt.eta, opt.max_depth, n_trees, batch);
    printf("%-10s %10s %10s %10s %14s  %-18s %-4s %s\n", "stage", "samples", "seconds", "cpu s",
           "samples/s", "target", "met", "cpu per tree walk");
    printf("%-10s %10ld %10.2f %10.2f %14.0f  %-18s %s\n", "train", n_train, train_s, train_cpu_s,
           (double)n_train / train_s, "<= 60 s", train_s <= TRAIN_TARGET_S ? "yes" : "no");
    print_predict("predict", (size_t)n_predict, &forest, n_trees);
    if (n_xgboost > 0) {
        size_t n_differ = 0, k;
        double max_diff = 0;
        print_predict("xgboost", (size_t)n_xgboost, &xgb, n_trees);
        for (i = 0; i < (size_t)n_xgboost; i++) {
            size_t bf, bx, second;
            double margin;
            parus_classify_top2(prob + i * N_CLASSES, N_CLASSES, &bf, &second, &margin);
            parus_classify_top2(prob_xgb + i * N_CLASSES, N_CLASSES, &bx, &second, &margin);
            n_differ += bf != bx;
            for (k = 0; k < N_CLASSES; k++) {
                double d = fabs(prob[i * N_CLASSES + k] - prob_xgb[i * N_CLASSES + k]);
                max_diff = d > max_diff ? d : max_diff;
            }
        }
        printf("predict (forest) / xgboost: %.1f x the parcels per second, %.1f x per CPU second; "
               "on their %ld common parcels max |p - p_xgboost| %.2g, most probable class "
               "differs on %zu\n",
               ((double)n_predict / forest.wall_s) / ((double)n_xgboost / xgb.wall_s),
               ((double)n_predict / forest.cpu_s) / ((double)n_xgboost / xgb.cpu_s), n_xgboost,
               max_diff, n_differ);
    }
    printf("held-out accuracy: %.3f (%d samples)\n", accuracy, N_HELD_OUT);
    rc = 0;

cleanup:
    parus_model_free(model);
    free(prob_xgb);
    free(prob);
    free(x_pred);
    free(rows);
    parus_dataset_release(&ds);
    return rc;
}

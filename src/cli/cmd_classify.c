/*
 * cmd_classify.c - `parus classify`: every parcel of a season gets a stored assessment: its crop
 * with the model's probability, the runner-up and the margin, and its agreement with the crop
 * declared for the season; or, without a model, the nearest crop calendar marked low confidence;
 * or no crop at all with the reason (no clear observation), never a crop by default.
 *
 * The features are rebuilt from the store exactly as the model was trained (the season spec
 * travels in the model file). Parcels are featured one by one as the season walk streams them and
 * predicted in batches, so memory is one batch whatever the number of parcels; all the season's
 * rows commit in one transaction.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parus/classify.h"
#include "parus/crops.h"
#include "parus/season.h"
#include "parus/series.h"
#include "parus/store.h"

#include "cli_season.h"

#define BATCH 4096

static const char usage[] =
    "usage: parus classify [--season FIRST/LAST] [--model FILE | --no-model] [--crops FILE]\n"
    "                      [--threads N]\n\n"
    "Assess the crop of every parcel in the store for a season and store the assessments\n"
    "(crop, probability, runner-up, margin, agreement with the declared crop).\n"
    "  --season FIRST/LAST  the season window (default: [season] window in the config); with a\n"
    "                       model it must be as long as the model's season\n"
    "  --model FILE         the crop model (parus train; default: [season] model in the config)\n"
    "  --no-model           no model: match each parcel's NDVI against the crop table's\n"
    "                       calendars; every result is marked low confidence\n"
    "  --crops FILE         crop table for --no-model (default: [tables] crops, or\n"
    "                       data-samples/crops.csv)\n"
    "  --threads N          prediction threads (default: all cores)\n\n"
    "A parcel without a clear observation in the season is stored as not classified, with the\n"
    "reason. Exit status: 0 done, 6 no parcel in the store, and the codes of docs/cli.md.\n";

struct pending {
    char *id, *declared;
    size_t n_clear;
    char first[11], last[11];
};

struct classify_ctx {
    parus_store *store;
    const char *window;
    int64_t start_day;
    parus_season_spec spec;
    parus_model *model;            /* NULL: calendar */
    const parus_crop_table *crops; /* calendar mode */
    char model_version[80];
    int threads;
    long long run_id;
    size_t n_features;
    double *x, *prob, *features;
    struct pending batch[BATCH];
    size_t n_batch;
    parus_season_obs *obs;
    size_t cap;
    parus_season_work work;
    size_t n_model, n_calendar, n_none, n_declared, n_agree;
    parus_error *err;
};

static void first_last(const parus_season_spec *spec, int64_t start_day,
                       const parus_series_point *pts, size_t n_pts, char first[11], char last[11])
{
    size_t i;
    int64_t end_day = start_day + (int64_t)spec->length_days;
    first[0] = last[0] = '\0';
    for (i = 0; i < n_pts; i++) {
        int64_t day;
        parus_error e;
        if (parus_series_parse_day(pts[i].date, &day, &e) != PARUS_OK || day < start_day ||
            day >= end_day || !(pts[i].obs.valid_fraction >= spec->min_valid_fraction))
            continue;
        if (!first[0])
            memcpy(first, pts[i].date, 11);
        memcpy(last, pts[i].date, 11);
    }
}

static parus_status put_row(struct classify_ctx *c, const char *id, const char *declared,
                            parus_assess_method method, const char *crop, double prob,
                            const char *crop2, double margin, const char *reason, size_t n_clear,
                            const char *first, const char *last)
{
    parus_assessment a;
    memset(&a, 0, sizeof a);
    a.season = c->window;
    a.parcel_id = id;
    a.run_id = c->run_id;
    a.method = method;
    a.crop = crop;
    a.probability = crop ? prob : (double)NAN;
    a.crop2 = crop2;
    a.margin = crop ? margin : (double)NAN;
    a.confidence = method == PARUS_ASSESS_NONE       ? PARUS_CONFIDENCE_NONE
                   : method == PARUS_ASSESS_CALENDAR ? PARUS_CONFIDENCE_LOW
                                                     : PARUS_CONFIDENCE_NORMAL;
    a.model_version = method == PARUS_ASSESS_NONE ? NULL : c->model_version;
    a.declared_crop = declared;
    a.agrees = (!crop || !declared) ? -1 : strcmp(crop, declared) == 0;
    a.reason = reason;
    a.n_clear_obs = n_clear;
    a.first_date = first && first[0] ? first : NULL;
    a.last_date = last && last[0] ? last : NULL;
    if (declared && crop) {
        c->n_declared++;
        c->n_agree += a.agrees == 1;
    }
    if (method == PARUS_ASSESS_MODEL)
        c->n_model++;
    else if (method == PARUS_ASSESS_CALENDAR)
        c->n_calendar++;
    else
        c->n_none++;
    return parus_store_assessments_put(c->store, &a, c->err);
}

static parus_status flush(struct classify_ctx *c)
{
    size_t i, nc;
    parus_status st = PARUS_OK;
    if (c->n_batch == 0)
        return PARUS_OK;
    nc = parus_model_n_classes(c->model);
    st =
        parus_model_predict(c->model, c->x, c->n_batch, c->n_features, c->threads, c->prob, c->err);
    for (i = 0; st == PARUS_OK && i < c->n_batch; i++) {
        size_t best, second;
        double margin;
        struct pending *p = &c->batch[i];
        parus_classify_top2(c->prob + i * nc, nc, &best, &second, &margin);
        st = put_row(c, p->id, p->declared, PARUS_ASSESS_MODEL,
                     parus_model_class_name(c->model, best), c->prob[i * nc + best],
                     parus_model_class_name(c->model, second), margin, NULL, p->n_clear, p->first,
                     p->last);
    }
    for (i = 0; i < c->n_batch; i++) {
        free(c->batch[i].id);
        free(c->batch[i].declared);
    }
    c->n_batch = 0;
    return st;
}

static int visit(const parus_parcel_brief *p, const parus_series_point *pts, size_t n_pts,
                 void *arg)
{
    struct classify_ctx *c = arg;
    parus_season_info info;
    parus_error ferr;
    parus_status st;
    char first[11], last[11];

    if (cli_points_to_obs(&c->spec, pts, n_pts, &c->obs, &c->cap, c->err) != PARUS_OK)
        return 1;
    first_last(&c->spec, c->start_day, pts, n_pts, first, last);
    st = parus_season_features(&c->spec, c->start_day, c->obs, n_pts, c->features, &info, &c->work,
                               &ferr);
    if (st == PARUS_E_RANGE)
        return put_row(c, p->id, p->declared_crop, PARUS_ASSESS_NONE, NULL, NAN, NULL, NAN,
                       "no clear observation in the season", 0, NULL, NULL) != PARUS_OK;
    if (st != PARUS_OK) {
        *c->err = ferr;
        return 1;
    }
    if (!c->model) {
        parus_calendar_match m;
        size_t off = parus_season_series_offset(&c->spec, parus_season_var_index(&c->spec, "ndvi"));
        char reason[160];
        st = parus_season_calendar_match(c->crops, &c->spec, c->start_day, c->features + off,
                                         parus_season_n_steps(&c->spec), &m, &ferr);
        if (st == PARUS_E_RANGE) {
            snprintf(reason, sizeof reason,
                     "too few NDVI steps for calendar matching (%zu observed, %d needed)",
                     info.n_observed, PARUS_CALENDAR_MIN_STEPS);
            return put_row(c, p->id, p->declared_crop, PARUS_ASSESS_NONE, NULL, NAN, NULL, NAN,
                           reason, info.n_obs_used, first, last) != PARUS_OK;
        }
        if (st != PARUS_OK) {
            *c->err = ferr;
            return 1;
        }
        snprintf(reason, sizeof reason,
                 "no model: nearest crop calendar (NDVI RMSE %.3f, next %.3f); a guess, not a "
                 "model probability",
                 m.rmse_best, m.rmse_second);
        return put_row(c, p->id, p->declared_crop, PARUS_ASSESS_CALENDAR,
                       c->crops->crops[m.best].code, m.pseudo_probability,
                       c->crops->crops[m.second].code,
                       m.margin < 0 ? 0.0 : (m.margin > 1 ? 1.0 : m.margin), reason,
                       info.n_obs_used, first, last) != PARUS_OK;
    }
    {
        struct pending *b = &c->batch[c->n_batch];
        memcpy(c->x + c->n_batch * c->n_features, c->features, c->n_features * sizeof *c->features);
        b->id = strdup(p->id);
        b->declared = p->declared_crop ? strdup(p->declared_crop) : NULL;
        if (!b->id || (p->declared_crop && !b->declared)) {
            free(b->id);
            free(b->declared);
            parus_fail(c->err, PARUS_E_NOMEM, "out of memory classifying");
            return 1;
        }
        b->n_clear = info.n_obs_used;
        memcpy(b->first, first, 11);
        memcpy(b->last, last, 11);
        c->n_batch++;
    }
    if (c->n_batch == BATCH && flush(c) != PARUS_OK)
        return 1;
    return 0;
}

int cmd_classify(cli_ctx *ctx, int argc, char **argv)
{
    struct classify_ctx *c;
    parus_store *store = NULL;
    parus_crop_table crops = {0};
    parus_error err;
    const char *season_opt = NULL, *model_path = NULL, *crops_opt = NULL;
    char window[PARUS_SEASON_WINDOW_TEXT], summary[256];
    bool no_model = false;
    size_t length_days, n_parcels = 0;
    int i, rc = PARUS_EXIT_OK, threads = ctx->cfg.threads;
    struct timespec t0, t1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--season") == 0 && i + 1 < argc) {
            season_opt = argv[++i];
        } else if (strcmp(a, "--model") == 0 && i + 1 < argc) {
            model_path = argv[++i];
        } else if (strcmp(a, "--no-model") == 0) {
            no_model = true;
        } else if (strcmp(a, "--crops") == 0 && i + 1 < argc) {
            crops_opt = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 1024)
                return cli_usage_error("classify", "bad --threads '%s'", argv[i]);
            threads = (int)v;
        } else {
            return cli_usage_error("classify", "unknown option or missing value: '%s'", a);
        }
    }
    if (no_model && model_path)
        return cli_usage_error("classify", "--model and --no-model exclude each other");
    if (!no_model && !model_path && ctx->cfg.model[0])
        model_path = ctx->cfg.model;
    if (!(c = calloc(1, sizeof *c)))
        return PARUS_EXIT_FAILURE;
    c->err = &err;
    c->threads = threads;
    parus_season_work_init(&c->work);
    if ((rc = cli_season_resolve(ctx, "classify", season_opt, window, &c->start_day,
                                 &length_days)) != 0)
        goto out;
    c->window = window;

    if (model_path) {
        char hash[17];
        if (parus_model_load(model_path, &c->model, &err) != PARUS_OK ||
            parus_season_spec_from_model(c->model, &c->spec, &err) != PARUS_OK) {
            rc = cli_report(&err);
            goto out;
        }
        if (c->spec.length_days != length_days) {
            fprintf(stderr,
                    "parus: error: season '%s' is %zu days long, the model '%s' was trained on "
                    "%zu-day seasons (%s)\n",
                    window, length_days, model_path, c->spec.length_days,
                    parus_model_meta(c->model, "season_window")
                        ? parus_model_meta(c->model, "season_window")
                        : "?");
            rc = PARUS_EXIT_USAGE;
            goto out;
        }
        snprintf(hash, sizeof hash, "%.16s", parus_model_data_hash(c->model));
        snprintf(c->model_version, sizeof c->model_version, "xgb:%s", hash);
    } else {
        const char *cp = cli_table_path(ctx, crops_opt, "crops");
        if (!no_model && !ctx->quiet)
            fprintf(stderr,
                    "parus: warning: no model given: each parcel is matched against the "
                    "crop calendars of '%s'; results are low confidence\n",
                    cp);
        if (parus_crop_table_load(cp, &crops, &err) != PARUS_OK) {
            rc = cli_report(&err);
            goto out;
        }
        c->crops = &crops;
        parus_season_spec_init(&c->spec);
        snprintf(c->model_version, sizeof c->model_version, "calendar:%s", cp);
    }
    c->spec.start_day = c->start_day;
    c->spec.length_days = length_days;
    c->n_features = parus_season_n_features(&c->spec);
    if (!(c->features = malloc(c->n_features * sizeof *c->features)) ||
        !(c->x = malloc((size_t)BATCH * c->n_features * sizeof *c->x)) ||
        (c->model &&
         !(c->prob = malloc((size_t)BATCH * parus_model_n_classes(c->model) * sizeof *c->prob)))) {
        rc = PARUS_EXIT_FAILURE;
        goto out;
    }
    if ((rc = cli_open_store(ctx, &store)) != 0)
        goto out;
    c->store = store;
    c->run_id = cli_run_begin(store, argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (parus_store_assessments_begin(store, window, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (parus_store_season_walk(store, window, visit, c, &n_parcels, &err) != PARUS_OK ||
        (c->model && flush(c) != PARUS_OK)) {
        parus_store_assessments_abort(store);
        rc = cli_report(&err);
        cli_run_end(store, c->run_id, "failed", err.msg);
        goto out;
    }
    if (n_parcels == 0) {
        parus_store_assessments_abort(store);
        fprintf(stderr, "parus: error: no parcel in the store: load parcels first\n");
        rc = PARUS_EXIT_NOT_FOUND;
        cli_run_end(store, c->run_id, "noop", "parcels=0");
        goto out;
    }
    if (parus_store_assessments_commit(store, &err) != PARUS_OK) {
        rc = cli_report(&err);
        cli_run_end(store, c->run_id, "failed", err.msg);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    snprintf(summary, sizeof summary,
             "season=%s parcels=%zu model=%zu calendar=%zu not_classified=%zu declared=%zu "
             "agree=%zu",
             window, n_parcels, c->n_model, c->n_calendar, c->n_none, c->n_declared, c->n_agree);
    cli_run_end(store, c->run_id, "ok", summary);
    if (!ctx->quiet) {
        printf("season %s: %zu parcels in %.2f s\n", window, n_parcels,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        if (c->model)
            printf("  by the model (%s):  %zu\n", model_path, c->n_model);
        if (c->n_calendar)
            printf("  by crop calendar (low confidence, no model): %zu\n", c->n_calendar);
        printf("  not classified:  %zu (no clear observation in the season)\n", c->n_none);
        if (c->n_declared)
            printf("  agree with the declared crop: %zu of %zu (%.1f %%)\n", c->n_agree,
                   c->n_declared, 100.0 * (double)c->n_agree / (double)c->n_declared);
    }
out:
    if (c) {
        size_t k;
        for (k = 0; k < c->n_batch; k++) {
            free(c->batch[k].id);
            free(c->batch[k].declared);
        }
        parus_model_free(c->model);
        parus_season_work_release(&c->work);
        free(c->features);
        free(c->x);
        free(c->prob);
        free(c->obs);
        free(c);
    }
    parus_crop_table_release(&crops);
    parus_store_close(store);
    return rc;
}

/*
 * cmd_evaluate.c - `parus evaluate`: grouped k-fold cross-validation of the crop classifier on a
 * wide CSV of labelled samples, for the model owner who needs to know how good the classifier is
 * on data nobody here made. Prints overall accuracy, Cohen's kappa, per-class precision, recall
 * and F1, macro-F1 and the confusion matrix, as text or JSON. --select runs nested selection over
 * the library's built-in grid (parus_classify_select_grid) and reports what each fold chose.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parus/classify.h"
#include "parus/csvout.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus evaluate --csv FILE --fold-column NAME [--class-column NAME]\n"
    "                      [--exclude-columns A,B,...] [--include-columns A,B,...]\n"
    "                      [--predictions FILE] [--phenology-band NAME] [--step-days N]\n"
    "                      [--no-summaries] [--differences] [--nd-pairs A:B,...]\n"
    "                      [--smooth-bands A,...] [[--rounds N] [--eta E] | --select]\n"
    "                      [--class-balance A]\n"
    "                      [--learner trees|tcnn|ensemble | --select-weight] [--threads N]\n"
    "                      [--json]\n\n"
    "Grouped k-fold cross-validation: each fold of the fold column is scored by a model\n"
    "trained on the other folds (features and parameters fixed, nothing tuned on it).\n"
    "With --select, nested selection: for each fold, an inner grouped cross-validation over the\n"
    "other folds picks one of these candidates and its rounds (100, 200 or 300) by the macro-F1\n"
    "of its pooled inner predictions (ties: the earlier one), then a model of that choice\n"
    "trained on all the other folds scores the fold; the fold itself never takes part:\n"
    "  base-d6       the features the options below give; depth 6, colsample 0.8 (defaults)\n"
    "  base-d4c4     the same features; depth 4, colsample 0.4\n"
    "  deriv-d6      + nd(nir,mir) per step and its summaries + first differences of every\n"
    "                series; depth 6, colsample 0.8\n"
    "  deriv-d4c4    the same features; depth 4, colsample 0.4\n"
    "  smooth-d6     deriv + upper-envelope Whittaker NDVI and EVI series; depth 6\n"
    "  smooth-d4c4   the same features; depth 4, colsample 0.4\n"
    "  (all: eta 0.1, subsample 0.8, max_bin 64; a band that is absent is skipped)\n"
    "With k folds it trains k(k-1)/2 x 6 inner models and k final ones: minutes, not seconds\n"
    "(5 folds of the Mato Grosso samples: about 2.5 minutes on 2 cores).\n";
/* the options (a string of its own: ISO C's 4095-character limit) */
static const char usage_options[] =
    "  --csv FILE            wide CSV, one row per sample\n"
    "  --samples             instead of --csv: the store's imported samples ('parus import\n"
    "                        series'), featured as 'parus train --samples' does, each sample's\n"
    "                        group its fold; needs --season-days N (--step-days: default 16)\n"
    "  --class-column NAME   the class (default: label)\n"
    "  --fold-column NAME    the fold or location group of each sample (required): integers\n"
    "                        or names ('farmA'); each distinct value is one fold\n"
    "  --exclude-columns L   more columns that are not features; an entry ending in '*' is\n"
    "                        a prefix, e.g. 'evi_*'\n"
    "  --predictions FILE    write each sample's row, fold, class and predicted class (CSV,\n"
    "                        docs/cli.md); written beside FILE and renamed into place; FILE\n"
    "                        may not be an input, the store or the configuration\n"
    "  --phenology-band NAME the series whose phenology becomes features (default: ndvi;\n"
    "                        'none' for none); series are columns <band>_<digits>\n"
    "  --step-days N         days between two steps of a series (default: 16, MODIS)\n"
    "  --no-summaries        no per-band series summaries (mean, std, min, max, argmax)\n"
    "  --differences         add each series' first differences (<band>_diffNN)\n"
    "  --nd-pairs L          add per-step normalised differences of band pairs, e.g. nir:mir\n"
    "                        (nd_nir_mir_NN and its summaries)\n"
    "  --smooth-bands L      add upper-envelope Whittaker series of these bands (<band>_wsNN)\n"
    "  --rounds N            boosting rounds (default: 300)\n"
    "  --eta E               the learning rate, each tree's share, in (0, 1] (default: 0.1)\n"
    "  --class-balance A     weight each training sample (n / (k n_c))^A, n_c its class's\n"
    "                        count: 1 gives every class the same weight, 0 none (default: 1)\n"
    "  --learner L           trees (default): gradient-boosted trees; tcnn: a temporal\n"
    "                        convolutional network over the features' series; ensemble: both,\n"
    "                        their probabilities averaged (docs/method.md, section 8)\n"
    "  --select              nested selection among the candidates above\n"
    "  --select-weight       the ensemble, the network's weight in it chosen for each fold by\n"
    "                        an inner grouped cross-validation on the other folds among 0\n"
    "                        (trees alone), 0.25, 0.5, 0.75 and 1 (the network alone)\n"
    "  --threads N           cores to use (default: all); the folds' models are fitted\n"
    "                        side by side, and the figures do not depend on it\n"
    "  --json                the report as JSON\n\n";

static void print_text(const parus_dataset *ds, const parus_confusion *c, double secs)
{
    size_t k = c->n_classes, t, p, w = 5;
    for (t = 0; t < k; t++)
        if (strlen(ds->class_names[t]) > w)
            w = strlen(ds->class_names[t]);
    printf("samples %zu, features %zu, classes %zu, %.1f s\n", ds->n_samples, ds->n_features, k,
           secs);
    printf("overall accuracy %.4f\nkappa %.4f\nmacro-F1 %.4f\n\n", c->overall_accuracy, c->kappa,
           c->macro_f1);
    printf("%-*s %9s %9s %9s %8s\n", (int)w, "class", "precision", "recall", "F1", "support");
    for (t = 0; t < k; t++)
        printf("%-*s %9.4f %9.4f %9.4f %8zu\n", (int)w, ds->class_names[t], c->precision[t],
               c->recall[t], c->f1[t], c->support[t]);
    printf("\nconfusion matrix (rows: true class, columns: predicted, in the order above)\n");
    for (t = 0; t < k; t++) {
        printf("%-*s", (int)w, ds->class_names[t]);
        for (p = 0; p < k; p++)
            printf(" %5zu", c->count[t * k + p]);
        printf("\n");
    }
}

static void print_selection_text(const parus_classify_candidate *cand, size_t n_cand,
                                 const parus_selection *sel)
{
    size_t f, c;
    printf("\nnested selection (inner grouped cross-validation on the other folds; each\n"
           "candidate's pooled inner macro-F1 at its best rounds)\n");
    printf("%-6s %-12s %6s %6s %8s", "fold", "chosen", "rounds", "tcnn-w", "accuracy");
    for (c = 0; c < n_cand; c++)
        printf(" %12s", cand[c].name);
    printf("\n");
    for (f = 0; f < sel->n_folds; f++) {
        const parus_select_fold *sf = &sel->fold[f];
        printf("%-6d %-12s %6zu %6.2f %8.4f", sf->fold, cand[sf->chosen].name, sf->n_rounds,
               sf->tcnn_weight, sf->accuracy);
        for (c = 0; c < n_cand; c++)
            printf(" %7.4f@%-4zu", sf->inner_macro_f1[c], sf->inner_rounds[c]);
        if (n_cand == 1 && cand[0].n_tcnn_weights) /* each weight's inner score */
            for (c = 0; c < cand[0].n_tcnn_weights; c++)
                printf(" w%.2f:%.4f", cand[0].tcnn_weights[c], sf->inner_weight_macro_f1[0][c]);
        printf("\n");
    }
}

static void print_selection_json(const parus_classify_candidate *cand, size_t n_cand,
                                 const parus_selection *sel)
{
    size_t f, c;
    printf("{\"candidates\": [");
    for (c = 0; c < n_cand; c++) {
        printf("%s", c ? ", " : "");
        cli_json_string(stdout, cand[c].name);
    }
    printf("], \"folds\": [");
    for (f = 0; f < sel->n_folds; f++) {
        const parus_select_fold *sf = &sel->fold[f];
        printf("%s{\"fold\": %d, \"samples\": %zu, \"chosen\": ", f ? ", " : "", sf->fold,
               sf->n_test);
        cli_json_string(stdout, cand[sf->chosen].name);
        printf(", \"rounds\": %zu, \"tcnn_weight\": ", sf->n_rounds);
        cli_json_number(stdout, sf->tcnn_weight);
        printf(", \"accuracy\": ");
        cli_json_number(stdout, sf->accuracy);
        printf(", \"inner_macro_f1\": [");
        for (c = 0; c < n_cand; c++) {
            printf("%s", c ? ", " : "");
            cli_json_number(stdout, sf->inner_macro_f1[c]);
        }
        printf("], \"inner_rounds\": [");
        for (c = 0; c < n_cand; c++)
            printf("%s%zu", c ? ", " : "", sf->inner_rounds[c]);
        printf("]}");
    }
    printf("]}");
}

static void print_json(const parus_dataset *ds, const parus_confusion *c, double secs,
                       const parus_classify_candidate *cand, size_t n_cand,
                       const parus_selection *sel)
{
    size_t k = c->n_classes, t, p;
    printf("{\"samples\": %zu, \"features\": %zu, \"seconds\": ", ds->n_samples, ds->n_features);
    cli_json_number(stdout, secs);
    printf(", \"overall_accuracy\": ");
    cli_json_number(stdout, c->overall_accuracy);
    printf(", \"kappa\": ");
    cli_json_number(stdout, c->kappa);
    printf(", \"macro_f1\": ");
    cli_json_number(stdout, c->macro_f1);
    printf(", \"classes\": [");
    for (t = 0; t < k; t++) {
        printf("%s{\"name\": ", t ? ", " : "");
        cli_json_string(stdout, ds->class_names[t]);
        printf(", \"precision\": ");
        cli_json_number(stdout, c->precision[t]);
        printf(", \"recall\": ");
        cli_json_number(stdout, c->recall[t]);
        printf(", \"f1\": ");
        cli_json_number(stdout, c->f1[t]);
        printf(", \"support\": %zu}", c->support[t]);
    }
    printf("], \"confusion\": [");
    for (t = 0; t < k; t++) {
        printf("%s[", t ? ", " : "");
        for (p = 0; p < k; p++)
            printf("%s%zu", p ? ", " : "", c->count[t * k + p]);
        printf("]");
    }
    printf("]");
    if (sel) {
        printf(", \"selection\": ");
        print_selection_json(cand, n_cand, sel);
    }
    printf("}\n");
}

/* --predictions: row (1-based, file order), fold, class, predicted, correct (RFC 4180, LF, no BOM;
 * text quoted as needed), written beside path and renamed when whole. */
static int write_predictions(const char *path, const parus_dataset *ds, const size_t *pred)
{
    static const char *const header[] = {"row", "fold", "class", "predicted", "correct"};
    parus_csvout_options o;
    parus_csvout *w;
    parus_error err;
    parus_status st = PARUS_OK;
    size_t i, k;

    parus_csvout_options_init(&o);
    o.crlf = false;
    o.bom = false;
    if (parus_csvout_open(path, &o, &w, &err) != PARUS_OK)
        return cli_report(&err);
    for (k = 0; st == PARUS_OK && k < sizeof header / sizeof *header; k++)
        st = parus_csvout_put_text(w, header[k], &err);
    if (st == PARUS_OK)
        st = parus_csvout_end_row(w, &err);
    for (i = 0; st == PARUS_OK && i < ds->n_samples; i++) {
        if ((st = parus_csvout_put_int(w, (int64_t)(i + 1), &err)) != PARUS_OK)
            break;
        if (ds->fold_names)
            st = parus_csvout_put_text(w, ds->fold_names[ds->fold[i]], &err);
        else
            st = parus_csvout_put_int(w, ds->fold[i], &err);
        if (st == PARUS_OK &&
            (st = parus_csvout_put_text(w, ds->class_names[ds->label[i]], &err)) == PARUS_OK &&
            (st = parus_csvout_put_text(w, ds->class_names[pred[i]], &err)) == PARUS_OK &&
            (st = parus_csvout_put_int(w, pred[i] == ds->label[i], &err)) == PARUS_OK)
            st = parus_csvout_end_row(w, &err);
    }
    if (st != PARUS_OK) {
        parus_csvout_free(w);
        return cli_report(&err);
    }
    if (parus_csvout_close(w, &err) != PARUS_OK)
        return cli_report(&err);
    return PARUS_EXIT_OK;
}

int cmd_evaluate(cli_ctx *ctx, int argc, char **argv)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_classify_candidate cand[PARUS_SELECT_MAX_CANDIDATES];
    parus_selection sel;
    parus_dataset ds;
    parus_confusion c;
    parus_error err;
    const char *csv = NULL, *pred_path = NULL;
    size_t *pred = NULL;
    bool json = false, select = false, rounds_given = false, samples = false, select_weight = false;
    size_t season_days = 0;
    size_t n_cand = 0;
    struct timespec t0, t1;
    double secs;
    int i, rc;
    parus_status st;

    parus_csv_options_init(&copt);
    parus_classify_options_init(&opt);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took;
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            fputs(usage_options, stdout);
            fputs(cli_dataset_columns_help, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--select") == 0) {
            select = true;
        } else if (strcmp(a, "--select-weight") == 0) {
            select_weight = true;
        } else if ((took = cli_dataset_option("evaluate", argc, argv, &i, &copt, &opt)) != 0) {
            if (took < 0)
                return -took;
            if (strcmp(a, "--rounds") == 0 || strcmp(a, "--eta") == 0)
                rounds_given = true;
        } else if (strcmp(a, "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(a, "--predictions") == 0 && i + 1 < argc) {
            pred_path = argv[++i];
        } else if (strcmp(a, "--samples") == 0) {
            samples = true;
        } else if (strcmp(a, "--season-days") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 40 || v > 800)
                return cli_usage_error("evaluate", "--season-days wants 40..800, not '%s'",
                                       argv[i]);
            season_days = (size_t)v;
        } else {
            return cli_usage_error("evaluate", "unknown option or missing value: '%s'", a);
        }
    }
    if (!csv == !samples)
        return cli_usage_error("evaluate", "give --csv FILE or --samples");
    if (samples && season_days == 0)
        return cli_usage_error("evaluate", "--samples needs --season-days N");
    if (!samples && !copt.fold_column)
        return cli_usage_error("evaluate", "--fold-column NAME is required (grouped folds)");
    if (select && select_weight)
        return cli_usage_error("evaluate", "--select and --select-weight exclude each other");
    if (select && rounds_given)
        return cli_usage_error("evaluate", "--rounds or --eta and --select exclude each other: "
                                           "the selection chooses the rounds");
    {
        const char *inputs[] = {csv};
        if ((rc = cli_check_output(ctx, "evaluate", pred_path, inputs, 1)) != 0)
            return rc;
    }
    cli_dataset_tell_exclusions("evaluate", &copt);
    if (select_weight) { /* one candidate: these options, the ensemble, the weight chosen */
        static const double weights[] = {0.0, 0.25, 0.5, 0.75, 1.0};
        memset(cand, 0, sizeof cand[0]);
        cand[0].name = "ensemble";
        parus_derive_options_init(&cand[0].derive);
        cand[0].opt = opt;
        cand[0].opt.learner = PARUS_LEARNER_ENSEMBLE;
        memcpy(cand[0].tcnn_weights, weights, sizeof weights);
        cand[0].n_tcnn_weights = sizeof weights / sizeof weights[0];
        n_cand = 1;
        select = true;
    } else if (select) {
        n_cand = parus_classify_select_grid(cand, PARUS_SELECT_MAX_CANDIDATES, opt.n_threads);
        for (size_t k = 0; k < n_cand; k++) { /* --class-balance, --learner: every candidate */
            cand[k].opt.class_balance = opt.class_balance;
            cand[k].opt.learner = opt.learner;
        }
    }

    parus_dataset_init(&ds);
    if (samples) {
        parus_season_spec spec;
        parus_store *store = NULL;
        cli_dataset_stats stats;
        parus_season_spec_init(&spec);
        spec.length_days = season_days;
        spec.step_days = copt.step_days;
        spec.n_vars = 0;
        if ((rc = cli_open_store(ctx, &store)) != 0)
            return rc;
        st = cli_samples_dataset(store, &spec, true, &ds, &stats, &err);
        parus_store_close(store);
        if (st != PARUS_OK)
            return cli_report(&err);
        if (!json && !ctx->quiet)
            printf("%zu samples, %zu labelled, %zu left out (no clear observation)\n",
                   stats.n_parcels, stats.n_labelled, stats.n_no_clear);
    } else if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK) {
        return cli_report(&err);
    }
    if (pred_path && !select && !(pred = calloc(ds.n_samples + 1, sizeof *pred))) {
        fprintf(stderr, "parus: error: cannot hold the predictions\n");
        parus_dataset_release(&ds);
        return PARUS_EXIT_FAILURE;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (select)
        st = parus_classify_evaluate_select(&ds, cand, n_cand, &c, &sel, &err);
    else
        st = parus_classify_evaluate_predict(&ds, &opt, &c, pred, &err);
    if (st != PARUS_OK) {
        rc = cli_report(&err);
        free(pred);
        parus_dataset_release(&ds);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (json) {
        print_json(&ds, &c, secs, cand, n_cand, select ? &sel : NULL);
    } else {
        print_text(&ds, &c, secs);
        if (select)
            print_selection_text(cand, n_cand, &sel);
    }
    rc = PARUS_EXIT_OK;
    if (pred_path)
        rc = write_predictions(pred_path, &ds, select ? sel.pred : pred);
    if (select)
        parus_selection_release(&sel);
    free(pred);
    parus_confusion_release(&c);
    parus_dataset_release(&ds);
    return rc;
}

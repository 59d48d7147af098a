/*
 * cmd_evaluate.c - `parus evaluate`: grouped k-fold cross-validation of the crop classifier on a
 * wide CSV of labelled samples, for the model owner who needs to know how good the classifier is
 * on data nobody here made. Prints overall accuracy, Cohen's kappa, per-class precision, recall
 * and F1, macro-F1 and the confusion matrix, as text or JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parus/classify.h"

#include "cli.h"

static const char usage[] =
    "usage: parus evaluate --csv FILE --fold-column NAME [--class-column NAME]\n"
    "                      [--exclude-columns A,B,...] [--phenology-band NAME] [--step-days N]\n"
    "                      [--no-summaries] [--rounds N] [--threads N] [--json]\n\n"
    "Grouped k-fold cross-validation: each fold of the fold column is scored by a model\n"
    "trained on the other folds (features and parameters fixed, nothing tuned on it).\n"
    "  --csv FILE            wide CSV, one row per sample\n"
    "  --class-column NAME   the class (default: label)\n"
    "  --fold-column NAME    the fold or location group of each sample (required)\n"
    "  --exclude-columns L   columns that are not features (identifiers, coordinates,\n"
    "                        dates); an entry ending in '*' is a prefix, e.g. 'evi_*'\n"
    "  --phenology-band NAME the series whose phenology becomes features (default: ndvi;\n"
    "                        'none' for none); series are columns <band>_<digits>\n"
    "  --step-days N         days between two steps of a series (default: 16, MODIS)\n"
    "  --no-summaries        no per-band series summaries (mean, std, min, max, argmax)\n"
    "  --rounds N            boosting rounds (default: 300)\n"
    "  --threads N           threads (default: all cores)\n"
    "  --json                the report as JSON\n";

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

static void print_json(const parus_dataset *ds, const parus_confusion *c, double secs)
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
    printf("]}\n");
}

int cmd_evaluate(cli_ctx *ctx, int argc, char **argv)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_dataset ds;
    parus_confusion c;
    parus_error err;
    const char *csv = NULL;
    bool json = false;
    struct timespec t0, t1;
    int i, rc;

    (void)ctx;
    parus_csv_options_init(&copt);
    parus_classify_options_init(&opt);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took;
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if ((took = cli_dataset_option("evaluate", argc, argv, &i, &copt, &opt)) != 0) {
            if (took < 0)
                return -took;
        } else if (strcmp(a, "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else {
            return cli_usage_error("evaluate", "unknown option or missing value: '%s'", a);
        }
    }
    if (!csv)
        return cli_usage_error("evaluate", "--csv FILE is required");
    if (!copt.fold_column)
        return cli_usage_error("evaluate", "--fold-column NAME is required (grouped folds)");

    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
        return cli_report(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (parus_classify_evaluate(&ds, &opt, &c, &err) != PARUS_OK) {
        rc = cli_report(&err);
        parus_dataset_release(&ds);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (json)
        print_json(&ds, &c,
                   (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    else
        print_text(&ds, &c,
                   (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    parus_confusion_release(&c);
    parus_dataset_release(&ds);
    return PARUS_EXIT_OK;
}

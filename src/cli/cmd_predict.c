/*
 * cmd_predict.c - `parus predict`: score a saved model on a wide CSV of labelled samples (another
 * season, another seed, another region), read with the same feature options it was trained with.
 * Prints the accuracy report; `--out` writes each sample's predicted class, its probability, the
 * runner-up and the margin as CSV.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/classify.h"
#include "parus/csvout.h"

#include "cli.h"

static const char usage[] =
    "usage: parus predict --csv FILE --model MODEL [--out PREDICTIONS.csv] [--class-column NAME]\n"
    "                     [--exclude-columns A,B,...] [--phenology-band NAME] [--step-days N]\n"
    "                     [--no-summaries] [--differences] [--nd-pairs A:B,...]\n"
    "                     [--smooth-bands A,...] [--threads N]\n\n"
    "Score a model from 'parus train' on labelled samples. The CSV must give the model's\n"
    "features (same columns, same dataset options as for training) and classes; the report is\n"
    "that of 'parus evaluate'.\n"
    "  --csv FILE    labelled samples, one row per sample: the class column and the model's\n"
    "                raw feature columns (named in the model file); the features are exactly\n"
    "                those columns: every other column (identifiers, coordinates, dates,\n"
    "                folds, ...) is left out and named on stderr, whatever its name, and\n"
    "                --exclude-columns and --include-columns play no part\n"
    "  --model MODEL the model file of 'parus train'\n"
    "  --class-column NAME  the class (default: label)\n"
    "  --phenology-band, --step-days, --no-summaries, --differences, --nd-pairs,\n"
    "  --smooth-bands: as given to 'parus train' (see 'parus evaluate --help')\n"
    "  --threads N   cores to use (default: all)\n"
    "  --out FILE    per sample: row, class, predicted, probability, second, margin\n";

/* The per-sample CSV (RFC 4180, LF, no BOM; class names quoted as needed), written beside path
 * and renamed when whole. */
static int write_predictions(const char *path, const parus_dataset *ds, const parus_model *m,
                             const double *prob)
{
    static const char *const header[] = {"row",         "class",  "predicted",
                                         "probability", "second", "margin"};
    size_t n_cls = parus_model_n_classes(m), i, k;
    parus_csvout_options o;
    parus_csvout *w;
    parus_error err;
    parus_status st;

    parus_csvout_options_init(&o);
    o.crlf = false;
    o.bom = false;
    if (parus_csvout_open(path, &o, &w, &err) != PARUS_OK)
        return cli_report(&err);
    st = PARUS_OK;
    for (k = 0; st == PARUS_OK && k < sizeof header / sizeof *header; k++)
        st = parus_csvout_put_text(w, header[k], &err);
    if (st == PARUS_OK)
        st = parus_csvout_end_row(w, &err);
    for (i = 0; st == PARUS_OK && i < ds->n_samples; i++) {
        size_t best, second;
        double margin;
        parus_classify_top2(prob + i * n_cls, n_cls, &best, &second, &margin);
        if ((st = parus_csvout_put_int(w, (int64_t)(i + 1), &err)) == PARUS_OK &&
            (st = parus_csvout_put_text(w, ds->class_names[ds->label[i]], &err)) == PARUS_OK &&
            (st = parus_csvout_put_text(w, parus_model_class_name(m, best), &err)) == PARUS_OK &&
            (st = parus_csvout_put_fixed(w, prob[i * n_cls + best], 6, &err)) == PARUS_OK &&
            (st = parus_csvout_put_text(w, parus_model_class_name(m, second), &err)) == PARUS_OK &&
            (st = parus_csvout_put_fixed(w, margin, 6, &err)) == PARUS_OK)
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

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_dataset ds;
    parus_model *model = NULL;
    parus_confusion c;
    parus_error err;
    const char *csv = NULL, *model_path = NULL, *out = NULL;
    double *prob = NULL;
    const char **names = NULL;
    size_t i, n_cls, n_feat;
    int a, rc = PARUS_EXIT_OK;

    parus_csv_options_init(&copt);
    parus_classify_options_init(&opt);
    for (a = 1; a < argc; a++) {
        int took;
        if (cli_is_help(argv[a])) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if ((took = cli_dataset_option("predict", argc, argv, &a, &copt, &opt)) != 0) {
            if (took < 0)
                return -took;
        } else if (strcmp(argv[a], "--csv") == 0 && a + 1 < argc) {
            csv = argv[++a];
        } else if (strcmp(argv[a], "--model") == 0 && a + 1 < argc) {
            model_path = argv[++a];
        } else if (strcmp(argv[a], "--out") == 0 && a + 1 < argc) {
            out = argv[++a];
        } else {
            return cli_usage_error("predict", "unknown option or missing value: '%s'", argv[a]);
        }
    }
    if (!csv || !model_path)
        return cli_usage_error("predict", "--csv FILE and --model MODEL are required");
    {
        const char *inputs[] = {csv, model_path};
        if ((rc = cli_check_output(ctx, "predict", out, inputs, 2)) != 0)
            return rc;
    }
    copt.fold_column = NULL;

    if (parus_model_load(model_path, &model, &err) != PARUS_OK)
        return cli_report(&err);
    parus_dataset_init(&ds);
    n_feat = parus_model_n_features(model);
    if (!(names = calloc(n_feat ? n_feat : 1, sizeof *names))) {
        fprintf(stderr, "parus: error: cannot hold the model's feature names\n");
        rc = PARUS_EXIT_FAILURE;
        goto out_ds;
    }
    for (i = 0; i < n_feat; i++)
        names[i] = parus_model_feature_name(model, i);
    copt.only_columns = names;
    copt.n_only_columns = n_feat;
    cli_dataset_tell_exclusions("predict", &copt);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK ||
        parus_model_check_dataset(model, &ds, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out_ds; /* ds is initialised: releasing a read that failed is safe */
    }
    n_cls = parus_model_n_classes(model);
    prob = malloc(ds.n_samples * n_cls * sizeof *prob);
    if (!prob) {
        fprintf(stderr, "parus: error: cannot hold the probabilities\n");
        rc = PARUS_EXIT_FAILURE;
        goto out_ds;
    }
    if (parus_model_predict(model, ds.x, ds.n_samples, ds.n_features, opt.n_threads, prob, &err) !=
            PARUS_OK ||
        parus_confusion_init(&c, n_cls, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out_ds;
    }
    for (i = 0; i < ds.n_samples; i++) {
        size_t best, second;
        double margin;
        parus_classify_top2(prob + i * n_cls, n_cls, &best, &second, &margin);
        c.count[ds.label[i] * n_cls + best]++;
    }
    parus_confusion_compute(&c);
    if (!ctx->quiet)
        printf("%zu samples: overall accuracy %.4f, kappa %.4f, macro-F1 %.4f\n", ds.n_samples,
               c.overall_accuracy, c.kappa, c.macro_f1);
    parus_confusion_release(&c);
    if (out)
        rc = write_predictions(out, &ds, model, prob);
out_ds:
    free(names);
    free(prob);
    parus_dataset_release(&ds);
    parus_model_free(model);
    return rc;
}

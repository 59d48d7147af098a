/*
 * cmd_train.c - `parus train`: a crop classifier from a wide CSV of labelled samples, saved as a
 * versioned model file (parus_model_save) that `parus predict` and later stages load. The
 * features are read exactly as `parus evaluate` reads them, so the figures evaluate prints are the
 * figures of the model this trains.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parus/classify.h"

#include "cli.h"

static const char usage[] =
    "usage: parus train --csv FILE --out MODEL [--class-column NAME] [--exclude-columns A,B,...]\n"
    "                   [--phenology-band NAME] [--step-days N] [--no-summaries] [--rounds N]\n"
    "                   [--threads N]\n\n"
    "Train the crop classifier on every sample of a wide CSV and save the model. The dataset\n"
    "options are those of 'parus evaluate' (see its --help); a --fold-column is ignored.\n"
    "  --out MODEL   the model file to write (replaced if it exists)\n";

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_dataset ds;
    parus_model *model = NULL;
    parus_error err;
    const char *csv = NULL, *out = NULL;
    struct timespec t0, t1;
    int i, rc = PARUS_EXIT_OK;

    parus_csv_options_init(&copt);
    parus_classify_options_init(&opt);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took;
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if ((took = cli_dataset_option("train", argc, argv, &i, &copt, &opt)) != 0) {
            if (took < 0)
                return -took;
        } else if (strcmp(a, "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else {
            return cli_usage_error("train", "unknown option or missing value: '%s'", a);
        }
    }
    if (!csv || !out)
        return cli_usage_error("train", "--csv FILE and --out MODEL are required");
    copt.fold_column = NULL;

    parus_dataset_init(&ds);
    if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
        return cli_report(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (parus_model_train(&ds, NULL, 0, &opt, &model, &err) != PARUS_OK ||
        parus_model_save(model, out, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!ctx->quiet)
        printf("trained on %zu samples, %zu classes, %zu features in %.1f s; model '%s' (data "
               "%.16s)\n",
               ds.n_samples, parus_model_n_classes(model), parus_model_n_features(model),
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, out,
               parus_model_data_hash(model));
out:
    parus_model_free(model);
    parus_dataset_release(&ds);
    return rc;
}

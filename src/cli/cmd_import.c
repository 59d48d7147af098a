/*
 * cmd_import.c - `parus import series FILE.csv`: external per-sample time series (the long or the
 * wide CSV form that other tools export) into the store's samples, so that models can be trained
 * and scored on data that did not come from our tiles.
 *
 * The file is read and checked whole before the store is opened (parus/import.h has the rules);
 * then every sample goes in one transaction, replacing a stored sample of the same id. Bad input
 * stores nothing: a message naming the file and the line, exit 4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/import.h"
#include "parus/store.h"

#include "cli.h"

static const char usage[] =
    "usage: parus import series [OPTIONS] FILE.csv\n\n"
    "Import external per-sample time series into the store (table samples), replacing samples\n"
    "already stored under the same id. Long form: one row per sample and date, every other\n"
    "numeric column a variable. Wide form: one row per sample, variable columns named\n"
    "<var>_<YYYY-MM-DD> or <var>_<step> (step k from 1: start date + (k - 1) * step days).\n"
    "Columns that are neither a role nor a variable are ignored (text columns, excluded ones).\n"
    "  --format F          auto, long or wide (default auto: long when the date column exists)\n"
    "  --id-column C       sample id (default sample_id)\n"
    "  --label-column C    class label (default label; optional in the file)\n"
    "  --group-column C    fold or location group (default fold; optional)\n"
    "  --date-column C     long form: the date (default date)\n"
    "  --start-column C    start date (default start_date; wide form with steps: required)\n"
    "  --end-column C      end date (default end_date; optional)\n"
    "  --step-days N       wide form: days between steps (default 16)\n"
    "  --exclude COLS      comma-separated columns that are not variables\n"
    "                      (default t,longitude,latitude; '' for none)\n";

static int series(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const opts[] = {"--format",       "--id-column",   "--label-column",
                                       "--group-column", "--date-column", "--start-column",
                                       "--end-column",   "--step-days",   "--exclude"};
    const char *val[sizeof opts / sizeof opts[0]];
    parus_series_csv_options opt;
    parus_sample_set set;
    parus_store *store = NULL;
    parus_error err;
    const char *path = NULL;
    char summary[512];
    long long run_id;
    size_t n_new = 0, n_replaced = 0, i;
    int rc;

    parus_series_csv_options_init(&opt);
    rc = cli_file_and_options("import", usage, argc, argv, 2, opts, sizeof opts / sizeof opts[0],
                              val, &path);
    if (rc)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    if (val[0] && parus_series_form_parse(val[0], &opt.form, &err) != PARUS_OK)
        return cli_usage_error("import", "%s", err.msg);
    if (val[1])
        opt.id_column = val[1];
    if (val[2])
        opt.label_column = val[2];
    if (val[3])
        opt.group_column = val[3];
    if (val[4])
        opt.date_column = val[4];
    if (val[5])
        opt.start_column = val[5];
    if (val[6])
        opt.end_column = val[6];
    if (val[7]) {
        char *end;
        long n = strtol(val[7], &end, 10);
        if (end == val[7] || *end || n < 1 || n > 366)
            return cli_usage_error("import", "--step-days wants whole days 1..366, not '%s'",
                                   val[7]);
        opt.step_days = (int)n;
    }
    if (val[8])
        opt.exclude = val[8];
    if (!path)
        return cli_usage_error("import", "no series file given");

    if (parus_series_csv_read(path, &opt, &set, &err) != PARUS_OK)
        return cli_report(&err);
    if (set.n_samples == 0) {
        fprintf(stderr, "parus: error: '%s' holds no sample (a header only)\n", path);
        parus_sample_set_release(&set);
        return PARUS_EXIT_INPUT_BAD;
    }
    rc = cli_open_store(ctx, &store);
    if (rc) {
        parus_sample_set_release(&set);
        return rc;
    }
    run_id = cli_run_begin(store, argc, argv);
    if (parus_store_put_samples(store, set.samples, set.n_samples, path, &n_new, &n_replaced,
                                &err) != PARUS_OK) {
        rc = cli_report(&err);
        snprintf(summary, sizeof summary, "error=%s", parus_status_name(err.code));
        cli_run_end(store, run_id, "failed", summary);
        goto out;
    }
    snprintf(summary, sizeof summary,
             "file=%s form=%s samples=%zu new=%zu replaced=%zu variables=%zu points=%zu "
             "missing=%zu",
             path, parus_series_form_name(set.form), set.n_samples, n_new, n_replaced, set.n_vars,
             set.n_points, set.n_missing);
    cli_run_end(store, run_id, "ok", summary);
    if (!ctx->quiet) {
        printf("imported '%s' (%s form): %zu samples (%zu new, %zu replaced), %zu rows\n", path,
               parus_series_form_name(set.form), set.n_samples, n_new, n_replaced, set.n_rows);
        printf("variables: %zu (", set.n_vars);
        for (i = 0; i < set.n_vars; i++)
            printf("%s%s", i ? ", " : "", set.vars[i]);
        if (set.n_dates_min == set.n_dates_max)
            printf("); dates per sample: %zu\n", set.n_dates_min);
        else
            printf("); dates per sample: %zu to %zu\n", set.n_dates_min, set.n_dates_max);
        printf("values: %zu (%zu missing)\n", set.n_points, set.n_missing);
        if (set.n_ignored) {
            printf("ignored columns: ");
            for (i = 0; i < set.n_ignored; i++)
                printf("%s%s", i ? ", " : "", set.ignored[i]);
            printf("\n");
        }
    }
    rc = PARUS_EXIT_OK;
out:
    parus_store_close(store);
    parus_sample_set_release(&set);
    return rc;
}

int cmd_import(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("import", "no subcommand given (series)");
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return PARUS_EXIT_OK;
    }
    if (strcmp(argv[1], "series") == 0)
        return series(ctx, argc, argv);
    return cli_usage_error("import", "unknown subcommand '%s' (series)", argv[1]);
}

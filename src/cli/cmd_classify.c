/*
 * cmd_classify.c - `parus classify`: every parcel of a season gets a stored assessment: its crop
 * with the model's probability, the runner-up and the margin, and its agreement with the crop
 * declared for the season; or, without a model, the nearest crop calendar marked low confidence;
 * or no crop at all with the reason (no clear observation), never a crop by default.
 *
 * The work is parus_assess_classify (parus/assess.h): the features rebuilt from the store exactly
 * as the model was trained, parcels predicted in batches as the season walk streams them, all the
 * season's rows in one transaction. `parus assess` does the same as its first stage.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/assess.h"
#include "parus/store.h"

#include "cli_assess.h"
#include "cli_season.h"

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

static int stop_at_first(const parus_parcel_result *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return 1;
}

/* True when the season has results of an earlier `parus assess`, now computed from other crops. */
static bool season_has_results(parus_store *store, const char *window)
{
    bool found = false;
    parus_error err;
    parus_store_results_foreach(store, window, stop_at_first, &found, &err);
    return found;
}

int cmd_classify(cli_ctx *ctx, int argc, char **argv)
{
    cli_assess_args args;
    cli_assess_inputs in;
    parus_assess_stats st;
    parus_store *store = NULL;
    parus_error err;
    char summary[256];
    long long run_id;
    int rc;

    memset(&args, 0, sizeof args);
    args.threads = -1;
    if ((rc = cli_assess_args_parse("classify", usage, argc, argv, &args)) != 0)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    rc = cli_assess_prepare(ctx, "classify", &args, &in, NULL);
    if (rc != 0)
        goto out;
    if ((rc = cli_open_store(ctx, &store)) != 0)
        goto out;
    run_id = cli_run_begin(store, argc, argv);
    in.opt.run_id = run_id;
    if (parus_assess_classify(store, &in.opt, &st, &err) != PARUS_OK) {
        rc = cli_report(&err);
        cli_run_end(store, run_id, err.code == PARUS_E_NOT_FOUND ? "noop" : "failed", err.msg);
        goto out;
    }
    snprintf(summary, sizeof summary,
             "season=%s parcels=%zu model=%zu calendar=%zu not_classified=%zu declared=%zu "
             "agree=%zu",
             in.window, st.n_parcels, st.n_model, st.n_calendar, st.n_not_classified, st.n_declared,
             st.n_agree);
    cli_run_end(store, run_id, "ok", summary);
    if (!ctx->quiet) {
        printf("season %s: %zu parcels in %.2f s\n", in.window, st.n_parcels, st.seconds);
        if (in.model)
            printf("  by the model (%s):  %zu\n", in.model_path, st.n_model);
        if (st.n_calendar)
            printf("  by crop calendar (low confidence, no model): %zu\n", st.n_calendar);
        printf("  not classified:  %zu (no clear observation in the season)\n",
               st.n_not_classified);
        if (st.n_declared)
            printf("  agree with the declared crop: %zu of %zu (%.1f %%)\n", st.n_agree,
                   st.n_declared, 100.0 * (double)st.n_agree / (double)st.n_declared);
    }
    if (season_has_results(store, in.window))
        fprintf(stderr,
                "parus: warning: season %s has results of an earlier 'parus assess' (health, "
                "values, limits) built on the crops before this run: run 'parus assess' to "
                "bring them up to date\n",
                in.window);
out:
    cli_assess_release(&in);
    parus_store_close(store);
    return rc;
}

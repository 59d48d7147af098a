/*
 * cli_assess.c - the inputs of a season's assessment from the command line and the
 * configuration: option, then config ([season] window and model, [tables] crops, policy, debts),
 * then the default tables in data-samples/. Every table is loaded and checked before the store
 * is touched, so a typo in a policy or a crop table stops the command with its own message and
 * exit code (7) and never falls back to a default that lends money.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/classify.h"
#include "parus/credit.h"
#include "parus/crops.h"
#include "parus/policy.h"

#include "cli_assess.h"
#include "cli_season.h"

/* A loader's failure: printed, or kept for the caller. */
static int failed(const parus_error *err, parus_error *failure)
{
    if (!failure)
        return cli_report(err);
    *failure = *err;
    return cli_exit_code(err->code);
}

/* If argv[*i] is one of the season options, take it and its value into *args and return 1;
 * return 0 when it is none of them; return minus the exit code after a usage message when its
 * value is missing or bad. */
static int assess_option(const char *cmd, int argc, char **argv, int *i, cli_assess_args *args)
{
    const char *a = argv[*i];
    const char **dst = NULL;
    if (strcmp(a, "--no-model") == 0) {
        args->no_model = true;
        return 1;
    }
    if (args->full && strcmp(a, "--radar-floods") == 0) {
        args->no_radar_floods = false; /* the default; kept for the scripts that name it */
        return 1;
    }
    if (args->full && strcmp(a, "--no-radar-floods") == 0) {
        args->no_radar_floods = true;
        return 1;
    }
    if (args->full && strcmp(a, "--radar-losses") == 0) {
        args->radar_losses = true;
        return 1;
    }
    if (args->full && strcmp(a, "--season-overlap-ok") == 0) {
        args->season_overlap_ok = true;
        return 1;
    }
    if (strcmp(a, "--season") == 0)
        dst = &args->season;
    else if (strcmp(a, "--model") == 0)
        dst = &args->model;
    else if (strcmp(a, "--crops") == 0)
        dst = &args->crops;
    else if (args->full && strcmp(a, "--policy") == 0)
        dst = &args->policy;
    else if (args->full && strcmp(a, "--debts") == 0)
        dst = &args->debts;
    else if (strcmp(a, "--threads") != 0)
        return 0;
    if (*i + 1 >= argc)
        return -cli_usage_error(cmd, "option '%s' needs a value", a);
    (*i)++;
    if (dst) {
        *dst = argv[*i];
    } else {
        char *end;
        long v = strtol(argv[*i], &end, 10);
        if (*end || end == argv[*i] || v < 0 || v > 1024)
            return -cli_usage_error(cmd, "bad --threads '%s'", argv[*i]);
        args->threads = (int)v;
    }
    return 1;
}

int cli_assess_args_parse(const char *cmd, const char *usage, int argc, char **argv,
                          cli_assess_args *args)
{
    int i;
    for (i = 1; i < argc; i++) {
        int took;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return -1;
        }
        took = assess_option(cmd, argc, argv, &i, args);
        if (took < 0)
            return -took;
        if (took == 0)
            return cli_usage_error(cmd, "unknown option or missing value: '%s'", argv[i]);
    }
    return 0;
}

int cli_assess_prepare(const cli_ctx *ctx, const char *cmd, const cli_assess_args *args,
                       cli_assess_inputs *in, parus_error *failure)
{
    parus_error err;
    int64_t start_day;
    size_t length_days;
    const char *model_path = args->model;
    int rc;

    memset(in, 0, sizeof *in);
    parus_assess_options_init(&in->opt);
    in->opt.health.radar_floods = args->full && !args->no_radar_floods;
    in->opt.health.radar_losses = args->radar_losses;
    in->opt.season_overlap_ok = args->season_overlap_ok;
    parus_policy_init(&in->policy);
    if (args->no_model && args->model)
        return cli_usage_error(cmd, "--model and --no-model exclude each other");
    if (!args->no_model && !model_path && ctx->cfg.model[0])
        model_path = ctx->cfg.model;
    rc = cli_season_resolve(ctx, cmd, args->season, in->window, &start_day, &length_days);
    if (rc != 0)
        return rc;
    in->crops_path = cli_table_path(ctx, args->crops, "crops");
    if (model_path) {
        parus_season_spec spec;
        if (parus_model_load(model_path, &in->model, &err) != PARUS_OK ||
            parus_season_spec_from_model(in->model, &spec, &err) != PARUS_OK)
            return failed(&err, failure);
        if (spec.length_days != length_days) {
            const char *trained = parus_model_meta(in->model, "season_window");
            fprintf(stderr,
                    "parus: error: season '%s' is %zu days long, the model '%s' was trained on "
                    "%zu-day seasons (%s)\n",
                    in->window, length_days, model_path, spec.length_days, trained ? trained : "?");
            return PARUS_EXIT_USAGE;
        }
        in->model_path = model_path;
    } else if (!args->no_model && !args->quiet && !ctx->quiet) {
        fprintf(stderr,
                "parus: warning: no model given: each parcel is matched against the crop "
                "calendars of '%s'; results are low confidence\n",
                in->crops_path);
    }
    if ((args->full || !in->model) &&
        parus_crop_table_load(in->crops_path, &in->crops, &err) != PARUS_OK)
        return failed(&err, failure);
    if (args->full) {
        in->policy_path = cli_table_path(ctx, args->policy, "policy");
        if (parus_policy_load(in->policy_path, &in->policy, &err) != PARUS_OK)
            return failed(&err, failure);
        in->debts_path = cli_table_path(ctx, args->debts, "debts");
        /* farmers are checked against the store's by the assessment itself */
        if (in->debts_path &&
            parus_debts_load(in->debts_path, NULL, 0, &in->debts, &err) != PARUS_OK)
            return failed(&err, failure);
    }
    in->opt.season = in->window;
    in->opt.model = in->model;
    in->opt.crops = in->crops.n_crops ? &in->crops : NULL;
    in->opt.crops_path = in->crops_path;
    in->opt.policy = args->full ? &in->policy : NULL;
    in->opt.policy_path = args->full ? in->policy_path : NULL;
    in->opt.crops_fallback = !args->crops && !ctx->cfg.crops[0];
    in->opt.policy_fallback = args->full && !args->policy && !ctx->cfg.policy[0];
    in->opt.overlap_min_share = ctx->cfg.overlap_min_share;
    in->opt.outlier.enabled = !ctx->cfg.outliers_off;
    if (ctx->cfg.overlap_check_off)
        in->opt.season_overlap_ok = true; /* the configuration's word, for the nightly job too */
    in->opt.debts = in->debts_path ? &in->debts : NULL;
    in->opt.debts_path = in->debts_path;
    in->opt.n_threads = args->threads >= 0 ? args->threads : ctx->cfg.threads;
    return 0;
}

void cli_assess_release(cli_assess_inputs *in)
{
    parus_model_free(in->model);
    parus_crop_table_release(&in->crops);
    parus_debts_release(&in->debts);
    memset(in, 0, sizeof *in);
}

void cli_assess_warnings(const parus_assess_stats *st)
{
    if (st->n_unknown_crop)
        fprintf(stderr,
                "parus: warning: %zu parcels have a crop that is not in the crop table: no value "
                "(reason UNKNOWN_CROP; %zu farmers affected)\n",
                st->n_unknown_crop, st->n_farmers_unknown_crop);
}

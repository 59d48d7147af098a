/*
 * cli_assess.h - what `parus classify`, `parus assess` and `parus nightly` share to assess a
 * season (cli_assess.c): the season, the model or the calendar fallback, the crop table, the
 * policy and the debts, resolved from the options and the configuration and loaded, ready as
 * parus_assess_options.
 */
#ifndef PARUS_CLI_ASSESS_H
#define PARUS_CLI_ASSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/assess.h"
#include "parus/season.h"

#include "cli.h"

/* What the command line asked for; NULL: the configuration, then the default. */
typedef struct cli_assess_args {
    const char *season;
    const char *model;
    bool no_model;
    bool no_radar_floods;   /* --no-radar-floods (assess; radar floods are on by default) */
    bool radar_losses;      /* --radar-losses (assess) */
    bool season_overlap_ok; /* --season-overlap-ok (assess) */
    const char *crops;
    const char *policy;
    const char *debts;
    int threads; /* -1: the configuration's */
    bool full;   /* assess (policy, debts) rather than classify only */
    bool quiet;  /* no warning about the calendar fallback */
} cli_assess_args;

/* The loaded inputs; opt points into them. */
typedef struct cli_assess_inputs {
    char window[PARUS_SEASON_WINDOW_TEXT];
    const char *model_path; /* NULL: calendar fallback */
    const char *crops_path, *policy_path, *debts_path;
    parus_model *model;
    parus_crop_table crops;
    parus_policy policy;
    parus_debts debts;
    parus_assess_options opt;
} cli_assess_inputs;

/* The arguments of classify and assess after the command name: the season options (--season,
 * --model, --no-model, --crops, --threads; with args->full also --policy and --debts) into *args
 * (initialised by the caller). Returns 0; -1 after printing usage for --help (the command exits
 * 0); or the exit code after a usage message (an unknown option, a missing or bad value). */
int cli_assess_args_parse(const char *cmd, const char *usage, int argc, char **argv,
                          cli_assess_args *args);

/* Resolve and load everything; 0, or the exit code after a message on stderr (a usage error for
 * a bad or missing season or conflicting options, the loaders' codes otherwise). With failure
 * not NULL, a table or model that cannot be loaded is not printed but left in *failure (usage
 * errors are printed all the same). The inputs must be released with cli_assess_release in
 * every case. */
int cli_assess_prepare(const cli_ctx *ctx, const char *cmd, const cli_assess_args *args,
                       cli_assess_inputs *in, parus_error *failure);
void cli_assess_release(cli_assess_inputs *in);

/* "parus: warning: ..." lines for assess stats worth a person's attention (unknown crops). */
void cli_assess_warnings(const parus_assess_stats *st);

#endif

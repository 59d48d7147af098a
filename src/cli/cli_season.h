/*
 * cli_season.h - what the season commands share (cli_season.c): table paths, the season window,
 * observations as season inputs, and the classifier's dataset built from the store.
 */
#ifndef PARUS_CLI_SEASON_H
#define PARUS_CLI_SEASON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/classify.h"
#include "parus/season.h"
#include "parus/store.h"

#include "cli.h"

/* The table of a kind ("crops", "policy" or "debts"): the option when given, else the config's
 * [tables] entry, else the one in data-samples/ of the source tree parus was built from (for
 * "debts": NULL, no debts). */
const char *cli_table_path(const cli_ctx *ctx, const char *option, const char *which);

/* The season window: the option, else the config's [season] window; a usage error (returned as
 * the exit code) when there is none or it is malformed; 0 on success with the canonical text. */
int cli_season_resolve(const cli_ctx *ctx, const char *cmd, const char *option,
                       char window[PARUS_SEASON_WINDOW_TEXT], int64_t *start_day,
                       size_t *length_days);

/* Whether the season's stored results are owed an assessment (season_state: a tile or weather
 * file stored, a parcel reloaded or a crop declared since they were written), with *state filled
 * when they are; if so, a warning on stderr that `what` ("these results") do not rest on what the
 * store holds, with since when and why, naming `parus assess`. A store that cannot say (a read
 * error) is taken as not owed: the readers that call this have their own errors to give. */
bool cli_season_owed_warn(parus_store *store, const char *window, const char *what,
                          parus_season_state *state);

/* Whether the crop table, policy, debts file or model the configuration names differ from those
 * the season's limits were computed with (parus_export_inputs_differ); if so, a warning on stderr
 * naming them and `parus assess`. A store that cannot say is taken as not differing, as above. */
bool cli_inputs_changed_warn(const cli_ctx *ctx, parus_store *store, const char *window);

/* A parcel's stored points as season observations, into *buf (grown as needed to at least room
 * elements and n_pts, *cap its size). */
parus_status cli_points_to_obs(const parus_season_spec *spec, const parus_series_point *pts,
                               size_t n_pts, size_t room, parus_season_obs **buf, size_t *cap,
                               parus_error *err);

/* Labels given on the command line: parcel ids (sorted, unique) and their crops. */
typedef struct cli_labels {
    size_t n;
    char **id, **crop;
    size_t n_skipped; /* rows of parcels set aside at load, left out */
} cli_labels;

/* The crop of a parcel id, or NULL. */
const char *cli_labels_find(const cli_labels *l, const char *id);

typedef struct cli_dataset_stats {
    size_t n_parcels;  /* parcels (samples) seen */
    size_t n_labelled; /* with a label */
    size_t n_no_clear; /* labelled, but no clear observation in the season: left out */
    size_t n_thinned;  /* thinned copies added (cli_thinning) */
} cli_dataset_stats;

/* Training on thinned copies (docs/method.md, section 8): besides each labelled parcel's season,
 * n_copies copies of it with each observation left out with probability drop, as another
 * season's clouds would leave it. Which observations a copy loses is a hash of the parcel id,
 * the observation's day and the copy's number: the same store gives the same dataset and model.
 * A copy left with no clear observation is not added. */
typedef struct cli_thinning {
    unsigned n_copies; /* 0: none */
    double drop;       /* 0..0.95 */
} cli_thinning;

#define CLI_THIN_COPIES 4 /* the defaults of `parus train --season` */
#define CLI_THIN_DROP 0.5

/* The season features of every labelled parcel (labels, or the crops declared for the season
 * when labels is NULL), and its thinned copies when thin is not NULL, into *ds (initialised by the
 * caller; written on success). Classes are the labels found, sorted; E_RANGE for a class with one
 * sample, fewer than two classes, or no labelled parcel with a clear observation. */
parus_status cli_store_dataset(parus_store *store, const parus_season_spec *spec,
                               const char *window, int64_t start_day, const cli_labels *labels,
                               const cli_thinning *thin, parus_dataset *ds,
                               cli_dataset_stats *stats, parus_error *err);

/* The same from the imported samples (each sample's season starts at its start date, or its
 * first date); spec->n_vars 0: the variables of the first sample (written into *spec). With
 * with_folds, each sample's group must be a fold number. */
parus_status cli_samples_dataset(parus_store *store, parus_season_spec *spec, bool with_folds,
                                 parus_dataset *ds, cli_dataset_stats *stats, parus_error *err);

int cmd_classify(cli_ctx *ctx, int argc, char **argv);

#endif

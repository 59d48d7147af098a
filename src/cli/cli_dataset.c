/*
 * cli_dataset.c - the options that turn a wide CSV into a classifier dataset and set the
 * classifier, shared by `parus evaluate`, `parus train` and `parus predict` so the three read the
 * same features from the same columns.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool parse_size(const char *s, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return false;
    *out = (size_t)v;
    return true;
}

int cli_dataset_option(const char *cmd, int argc, char **argv, int *i, parus_csv_options *copt,
                       parus_classify_options *opt)
{
    const char *a = argv[*i];
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    size_t v;

    if (strcmp(a, "--no-summaries") == 0) {
        copt->series_summaries = false;
        return 1;
    }
    if (strcmp(a, "--differences") == 0) {
        copt->derive.differences = true;
        return 1;
    }
    if (strcmp(a, "--class-column") != 0 && strcmp(a, "--fold-column") != 0 &&
        strcmp(a, "--exclude-columns") != 0 && strcmp(a, "--include-columns") != 0 &&
        strcmp(a, "--phenology-band") != 0 && strcmp(a, "--step-days") != 0 &&
        strcmp(a, "--rounds") != 0 && strcmp(a, "--threads") != 0 && strcmp(a, "--nd-pairs") != 0 &&
        strcmp(a, "--smooth-bands") != 0 && strcmp(a, "--class-balance") != 0 &&
        strcmp(a, "--learner") != 0 && strcmp(a, "--eta") != 0)
        return 0;
    if (!next)
        return -cli_usage_error(cmd, "option '%s' needs a value", a);
    (*i)++;
    if (strcmp(a, "--class-column") == 0) {
        copt->class_column = next;
    } else if (strcmp(a, "--fold-column") == 0) {
        copt->fold_column = next;
    } else if (strcmp(a, "--exclude-columns") == 0) {
        copt->exclude_columns = next;
    } else if (strcmp(a, "--include-columns") == 0) {
        copt->include_columns = next;
    } else if (strcmp(a, "--nd-pairs") == 0) {
        copt->derive.nd_pairs = next;
    } else if (strcmp(a, "--smooth-bands") == 0) {
        copt->derive.smooth_bands = next;
    } else if (strcmp(a, "--phenology-band") == 0) {
        copt->phenology_band = strcmp(next, "none") == 0 ? NULL : next;
    } else if (strcmp(a, "--step-days") == 0) {
        if (!parse_size(next, 366, &copt->step_days) || copt->step_days == 0)
            return -cli_usage_error(cmd, "--step-days wants 1..366, not '%s'", next);
    } else if (strcmp(a, "--class-balance") == 0) {
        char *end;
        double b = strtod(next, &end);
        if (end == next || *end || !(b >= 0.0 && b <= 1.0))
            return -cli_usage_error(cmd, "--class-balance wants 0..1, not '%s'", next);
        opt->class_balance = b;
    } else if (strcmp(a, "--learner") == 0) {
        if (!parus_learner_parse(next, &opt->learner))
            return -cli_usage_error(cmd, "--learner wants trees, tcnn or ensemble, not '%s'", next);
    } else if (strcmp(a, "--eta") == 0) {
        char *end;
        double e = strtod(next, &end);
        if (end == next || *end || !(e > 0.0 && e <= 1.0))
            return -cli_usage_error(cmd, "--eta wants a learning rate in (0, 1], not '%s'", next);
        opt->eta = e;
    } else if (strcmp(a, "--rounds") == 0) {
        if (!parse_size(next, 100000, &opt->n_rounds) || opt->n_rounds == 0)
            return -cli_usage_error(cmd, "--rounds wants 1..100000, not '%s'", next);
    } else {
        if (!parse_size(next, 1024, &v))
            return -cli_usage_error(cmd, "--threads wants 0..1024, not '%s'", next);
        opt->n_threads = (int)v;
    }
    return 1;
}

const char cli_dataset_columns_help[] =
    "Which columns are features (docs/cli.md, 'Which columns are features'): every column but\n"
    "the class, the fold, those of --exclude-columns and those the leak rules leave out:\n"
    "  - by name: a word of the name (cut at '_', '-', '.', spaces and 'aB') is an identifier\n"
    "    (id, uid, uuid, fid, gid, oid, objectid, key, index, idx, row, sample, name, code),\n"
    "    a coordinate (lat, lon, lng, long, latitude, longitude, x, y, easting, northing,\n"
    "    geometry, geom, wkt, coord, coords), a date or time (date, dates, time, datetime,\n"
    "    timestamp, doy, day, month, year), a group (group, grp, fold, folds, cluster, block,\n"
    "    farm, site, plot, parcel) or a label (label, labels, class, target, truth);\n"
    "  - by value, with at least 20 samples: integers unique per row that are dense or in\n"
    "    row order (a row identifier), one value per fold group, one value per class.\n"
    "  Each column left out is named on stderr with its reason.\n"
    "  --include-columns L   use these columns (exact names) as features all the same\n";

static void tell_exclusion(void *arg, const char *column, const char *reason)
{
    if (strncmp(reason, "the model", 9) == 0)
        fprintf(stderr, "parus: %s: column '%s' is not a feature: %s\n", (const char *)arg, column,
                reason);
    else
        fprintf(stderr,
                "parus: %s: column '%s' is not a feature: %s (--include-columns %s uses it)\n",
                (const char *)arg, column, reason, column);
}

void cli_dataset_tell_exclusions(const char *cmd, parus_csv_options *copt)
{
    copt->on_exclude = tell_exclusion;
    copt->on_exclude_arg = (void *)(uintptr_t)cmd;
}

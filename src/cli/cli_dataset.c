/*
 * cli_dataset.c - the options that turn a wide CSV into a classifier dataset and set the
 * classifier, shared by `parus evaluate`, `parus train` and `parus predict` so the three read the
 * same features from the same columns.
 */
#include <errno.h>
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
        strcmp(a, "--exclude-columns") != 0 && strcmp(a, "--phenology-band") != 0 &&
        strcmp(a, "--step-days") != 0 && strcmp(a, "--rounds") != 0 &&
        strcmp(a, "--threads") != 0 && strcmp(a, "--nd-pairs") != 0 &&
        strcmp(a, "--smooth-bands") != 0)
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
    } else if (strcmp(a, "--nd-pairs") == 0) {
        copt->derive.nd_pairs = next;
    } else if (strcmp(a, "--smooth-bands") == 0) {
        copt->derive.smooth_bands = next;
    } else if (strcmp(a, "--phenology-band") == 0) {
        copt->phenology_band = strcmp(next, "none") == 0 ? NULL : next;
    } else if (strcmp(a, "--step-days") == 0) {
        if (!parse_size(next, 366, &copt->step_days) || copt->step_days == 0)
            return -cli_usage_error(cmd, "--step-days wants 1..366, not '%s'", next);
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

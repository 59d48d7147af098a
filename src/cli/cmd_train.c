/*
 * cmd_train.c - `parus train`: a crop classifier saved as a versioned model file
 * (parus_model_save) that `parus predict`, `parus classify` and later stages load. Three sources
 * of labelled samples:
 *   --csv FILE      a wide CSV, featured exactly as `parus evaluate` reads it;
 *   --season W      the store's parcels over a season window, labelled by the crops declared for
 *                   that season (`parus parcels crops`) or by --labels FILE; featured by the
 *                   season module, whose spec is written into the model so that `parus classify`
 *                   rebuilds the same features;
 *   --samples       the imported series of the store (`parus import series`), each sample's
 *                   season starting at its own start date.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parus/classify.h"
#include "parus/crops.h"
#include "parus/import.h"
#include "parus/season.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus train --csv FILE --out MODEL [--class-column NAME] [--fold-column NAME]\n"
    "                   [--exclude-columns A,B,...] [--include-columns A,B,...]\n"
    "                   [--phenology-band NAME] [--step-days N] [--no-summaries]\n"
    "                   [--differences] [--nd-pairs A:B,...] [--smooth-bands A,...]\n"
    "                   [--rounds N] [--eta E] [--class-balance A] [--learner L] [--threads N]\n"
    "       parus train --season FIRST/LAST --out MODEL [--labels FILE.csv] [--crops FILE]\n"
    "                   [--step-days N] [--vars A,B,...] [--radar auto|yes|no]\n"
    "                   [--thin-copies N] [--thin-drop P]\n"
    "                   [--rounds N] [--eta E] [--class-balance A] [--learner L] [--threads N]\n"
    "       parus train --samples --season-days N --out MODEL [--step-days N] [--rounds N]\n"
    "                   [--eta E] [--class-balance A] [--learner L]\n\n"
    "Train the crop classifier and save the model.\n"
    "  --csv FILE      labelled samples in a wide CSV, one row per sample: the class column\n"
    "                  (--class-column, default label), numeric feature columns, series\n"
    "                  <band>_<digits> (summaries and NDVI phenology added as in 'parus\n"
    "                  evaluate'); the dataset options are those of 'parus evaluate' (see its\n"
    "                  --help); a --fold-column is not a feature and plays no other part\n"
    "  --season W      the store's parcels in the season window W, labelled by the crops\n"
    "                  declared for W ('parus parcels crops') or by --labels\n"
    "  --labels FILE   a CSV with the columns parcel_id and crop (crop codes of the crop table);\n"
    "                  a parcel set aside at load is skipped and named (exit 8)\n"
    "  --crops FILE    the crop table the labels are checked against (default: [tables] crops)\n"
    "  --samples       the imported samples of the store ('parus import series'), each sample's\n"
    "                  season from its start date, --season-days long\n"
    "  --step-days N   the season's composite step for --season and --samples (default: 10;\n"
    "                  16 for MODIS samples)\n"
    "  --vars A,B,...  the season's variables for --season (default: the parcel's own unmixed\n"
    "                  values of the five indices and ten bands): index and band names (ndvi,\n"
    "                  evi, ..., red, nir, ...: mixed with the neighbours at the edges), the\n"
    "                  same with own_ for the own values (own_ndvi, own_red, ...),\n"
    "                  ndvi_p10/p50/p90, veg_fraction, water_fraction, the radar's s1_vv,\n"
    "                  s1_vh, s1_vh_vv, s1_rvi, s1_water; the model keeps them\n"
    "  --radar WHEN    for --season: add the radar variables (s1_vv, s1_vh, s1_vh_vv, s1_rvi,\n"
    "                  s1_water) to the season's: auto (default) when the store holds radar\n"
    "                  observations in the window, yes, or no\n"
    "  --thin-copies N for --season: N thinned copies of each labelled parcel beside it, each\n"
    "                  observation left out with probability --thin-drop, as another season's\n"
    "                  clouds would (default: 4; 0 trains on the season as it is)\n"
    "  --thin-drop P   the share of observations a thinned copy loses, 0..0.95 (default: 0.5)\n"
    "  --rounds N      boosting rounds (default: 300)\n"
    "  --eta E         the learning rate, each tree's share, in (0, 1] (default: 0.1)\n"
    "  --class-balance A  weight each sample (n / (k n_c))^A, n_c its class's count: 1 gives\n"
    "                  every class the same total weight, 0 weights samples alike (default: 1)\n"
    "  --learner L     trees (default), tcnn (a temporal convolutional network over the\n"
    "                  series) or ensemble (both, probabilities averaged): docs/method.md 8\n"
    "  --threads N     cores to use (default: all)\n"
    "  --out MODEL     the model file to write (replaced if it exists)\n\n";

/* --vars: a comma-separated list of the season's variables, checked as a spec. The phenology
 * stays on NDVI when it is among them, else on the first variable naming NDVI (own_ndvi), else
 * none. */
static int parse_vars(const char *cmd, const char *list, parus_season_spec *spec)
{
    parus_error err;
    const char *p = list;
    size_t i;
    spec->n_vars = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= PARUS_SEASON_VAR_NAME_MAX || spec->n_vars >= PARUS_SEASON_MAX_VARS)
            return cli_usage_error(cmd,
                                   "--vars: an empty or too long name, or more than %d "
                                   "variables, in '%s'",
                                   PARUS_SEASON_MAX_VARS, list);
        snprintf(spec->vars[spec->n_vars], PARUS_SEASON_VAR_NAME_MAX, "%.*s", (int)n, p);
        if (!parus_season_var_known(spec->vars[spec->n_vars]))
            return cli_usage_error(cmd, "--vars: unknown variable '%s' (see --help)",
                                   spec->vars[spec->n_vars]);
        spec->n_vars++;
        p += n;
        if (*p == ',' && *++p == '\0') /* "ndvi,": an empty last name, as in ",ndvi" a first */
            return cli_usage_error(cmd, "--vars: an empty name at the end of '%s'", list);
    }
    spec->phenology_var[0] = '\0';
    for (i = 0; i < spec->n_vars && !spec->phenology_var[0]; i++)
        if (strcmp(spec->vars[i], "ndvi") == 0)
            snprintf(spec->phenology_var, sizeof spec->phenology_var, "ndvi");
    for (i = 0; i < spec->n_vars && !spec->phenology_var[0]; i++)
        if (strcmp(spec->vars[i], "own_ndvi") == 0)
            snprintf(spec->phenology_var, sizeof spec->phenology_var, "own_ndvi");
    if (parus_season_spec_check(spec, &err) != PARUS_OK)
        return cli_usage_error(cmd, "--vars '%s': %s", list, err.msg);
    return 0;
}

/* --radar: the radar variables added to the default spec when asked, or (auto) when the store
 * holds radar observations in the window. */
static int choose_radar(parus_store *store, const char *window, const char *radar_opt,
                        parus_season_spec *spec, bool quiet)
{
    parus_error err;
    size_t n = 0;
    if (radar_opt && strcmp(radar_opt, "no") == 0)
        return 0;
    if (!radar_opt || strcmp(radar_opt, "auto") == 0) {
        if (parus_store_radar_count(store, window, &n, &err) != PARUS_OK)
            return cli_report(&err);
        if (n == 0)
            return 0;
    }
    if (parus_season_spec_add_radar(spec, &err) != PARUS_OK)
        return cli_report(&err);
    if (!quiet)
        printf("radar: %zu observations in the season; variables s1_vv, s1_vh, s1_vh_vv, s1_rvi, "
               "s1_water added\n",
               n);
    return 0;
}

struct pair {
    char *id, *crop;
};

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->id, ((const struct pair *)b)->id);
}

/* Labels from a CSV, checked against the crop table and the store, sorted by parcel id. */
static int load_labels(cli_ctx *ctx, parus_store *store, const char *path, const char *crops_opt,
                       cli_labels *out)
{
    parus_crop_table table = {0};
    parus_crop_declarations d = {0};
    parus_error err;
    size_t i, unknown;
    int rc = 0;

    if (parus_crop_table_load(cli_table_path(ctx, crops_opt, "crops"), &table, &err) != PARUS_OK)
        return cli_report(&err);
    if (parus_crop_declarations_read(path, NULL, NULL, &table, &d, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    rc = cli_drop_set_aside(store, path, &d, &out->n_skipped, &unknown);
    if (rc)
        goto out;
    if (unknown < d.n) {
        fprintf(stderr, "parus: error: '%s' line %zu: parcel '%s' is not in the store\n", path,
                d.lines[unknown], d.parcel_ids[unknown]);
        rc = PARUS_EXIT_INPUT_BAD;
        goto out;
    }
    if (d.n == 0) {
        fprintf(stderr, "parus: error: every parcel of '%s' was set aside at load: no label\n",
                cli_safe(path));
        rc = PARUS_EXIT_INPUT_BAD;
        goto out;
    }
    out->n = d.n;
    out->id = calloc(d.n ? d.n : 1, sizeof *out->id);
    out->crop = calloc(d.n ? d.n : 1, sizeof *out->crop);
    if (!out->id || !out->crop) {
        rc = PARUS_EXIT_FAILURE;
        goto out;
    }
    /* sorted by id (the ids are unique: the reader refuses a parcel on two rows) */
    {
        struct pair *pairs = malloc((d.n ? d.n : 1) * sizeof *pairs);
        if (!pairs) {
            rc = PARUS_EXIT_FAILURE;
            goto out;
        }
        for (i = 0; i < d.n; i++) {
            pairs[i].id = d.parcel_ids[i];
            pairs[i].crop = d.crops[i];
            d.parcel_ids[i] = d.crops[i] = NULL;
        }
        qsort(pairs, d.n, sizeof *pairs, cmp_pair);
        for (i = 0; i < d.n; i++) {
            out->id[i] = pairs[i].id;
            out->crop[i] = pairs[i].crop;
        }
        free(pairs);
    }
out:
    parus_crop_declarations_release(&d);
    parus_crop_table_release(&table);
    return rc;
}

static void labels_release(cli_labels *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->id[i]);
        free(l->crop[i]);
    }
    free(l->id);
    free(l->crop);
}

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
    parus_csv_options copt;
    parus_classify_options opt;
    parus_season_spec spec;
    parus_dataset ds;
    parus_model *model = NULL;
    parus_store *store = NULL;
    parus_error err;
    cli_labels labels = {0};
    cli_dataset_stats stats = {0};
    const char *csv = NULL, *out = NULL, *season_opt = NULL, *labels_path = NULL, *crops_opt = NULL,
               *vars_opt = NULL, *radar_opt = NULL;
    char window[PARUS_SEASON_WINDOW_TEXT];
    bool samples = false, step_given = false, thin_given = false;
    cli_thinning thin = {CLI_THIN_COPIES, CLI_THIN_DROP};
    size_t season_days = 0;
    struct timespec t0, t1;
    int i, rc = PARUS_EXIT_OK, n_sources;

    parus_csv_options_init(&copt);
    parus_classify_options_init(&opt);
    parus_season_spec_init(&spec);
    parus_dataset_init(&ds);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int took;
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            fputs(cli_dataset_columns_help, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--step-days") == 0) {
            step_given = true;
            if ((took = cli_dataset_option("train", argc, argv, &i, &copt, &opt)) < 0)
                return -took;
        } else if ((took = cli_dataset_option("train", argc, argv, &i, &copt, &opt)) != 0) {
            if (took < 0)
                return -took;
        } else if (strcmp(a, "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--season") == 0 && i + 1 < argc) {
            season_opt = argv[++i];
        } else if (strcmp(a, "--labels") == 0 && i + 1 < argc) {
            labels_path = argv[++i];
        } else if (strcmp(a, "--crops") == 0 && i + 1 < argc) {
            crops_opt = argv[++i];
        } else if (strcmp(a, "--vars") == 0 && i + 1 < argc) {
            vars_opt = argv[++i];
        } else if (strcmp(a, "--radar") == 0 && i + 1 < argc) {
            radar_opt = argv[++i];
            if (strcmp(radar_opt, "auto") != 0 && strcmp(radar_opt, "yes") != 0 &&
                strcmp(radar_opt, "no") != 0)
                return cli_usage_error("train", "--radar wants auto, yes or no, not '%s'",
                                       radar_opt);
        } else if (strcmp(a, "--thin-copies") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || v < 0 || v > 32)
                return cli_usage_error("train", "--thin-copies wants 0..32, not '%s'", argv[i]);
            thin.n_copies = (unsigned)v;
            thin_given = true;
        } else if (strcmp(a, "--thin-drop") == 0 && i + 1 < argc) {
            char *end;
            double v = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(v >= 0.0 && v <= 0.95))
                return cli_usage_error("train", "--thin-drop wants 0..0.95, not '%s'", argv[i]);
            thin.drop = v;
            thin_given = true;
        } else if (strcmp(a, "--samples") == 0) {
            samples = true;
        } else if (strcmp(a, "--season-days") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 40 || v > 800)
                return cli_usage_error("train", "--season-days wants 40..800, not '%s'", argv[i]);
            season_days = (size_t)v;
        } else {
            return cli_usage_error("train", "unknown option or missing value: '%s'", a);
        }
    }
    n_sources = (csv != NULL) + (season_opt != NULL) + samples;
    if (n_sources != 1 || !out)
        return cli_usage_error("train", "give --out MODEL and one of --csv FILE, --season W or "
                                        "--samples");
    if (labels_path && !season_opt)
        return cli_usage_error("train", "--labels goes with --season");
    {
        /* the model never replaces what it is trained from (the store is always protected) */
        const char *inputs[] = {csv, labels_path, crops_opt, labels_path ? ctx->cfg.crops : NULL};
        if ((rc = cli_check_output(ctx, "train", out, inputs, 4)) != 0)
            return rc;
    }
    if (samples && season_days == 0)
        return cli_usage_error("train", "--samples needs --season-days N");
    if (vars_opt && !season_opt)
        return cli_usage_error("train", "--vars goes with --season");
    if (radar_opt && !season_opt)
        return cli_usage_error("train", "--radar goes with --season");
    if (radar_opt && vars_opt)
        return cli_usage_error("train", "--radar and --vars: name the radar variables in --vars");
    if (thin_given && !season_opt)
        return cli_usage_error("train", "--thin-copies and --thin-drop go with --season");
    if (step_given)
        spec.step_days = copt.step_days;
    if (vars_opt && (rc = parse_vars("train", vars_opt, &spec)) != 0)
        return rc;
    if (season_opt && !vars_opt)
        parus_season_spec_use_own(&spec);

    if (csv) {
        cli_dataset_tell_exclusions("train", &copt);
        if (parus_dataset_read_csv(&ds, csv, &copt, &err) != PARUS_OK)
            return cli_report(&err);
    } else {
        parus_status st;
        if ((rc = cli_open_store(ctx, &store)) != 0)
            goto out;
        if (season_opt) {
            if ((rc = cli_season_resolve(ctx, "train", season_opt, window, &spec.start_day,
                                         &spec.length_days)) != 0)
                goto out;
            if (labels_path && (rc = load_labels(ctx, store, labels_path, crops_opt, &labels)))
                goto out;
            if (!vars_opt && (rc = choose_radar(store, window, radar_opt, &spec, ctx->quiet)))
                goto out;
            st = cli_store_dataset(store, &spec, window, spec.start_day,
                                   labels_path ? &labels : NULL, &thin, &ds, &stats, &err);
        } else {
            spec.length_days = season_days;
            spec.n_vars = 0;
            snprintf(spec.phenology_var, sizeof spec.phenology_var, "ndvi");
            st = cli_samples_dataset(store, &spec, false, &ds, &stats, &err);
        }
        if (st != PARUS_OK) {
            rc = cli_report(&err);
            goto out;
        }
        if (!ctx->quiet)
            printf("%zu %s, %zu labelled, %zu left out (no clear observation in the season)%s",
                   stats.n_parcels, samples ? "samples" : "parcels", stats.n_labelled,
                   stats.n_no_clear, season_opt ? "" : "\n");
        if (!ctx->quiet && season_opt)
            printf(", %zu thinned copies (%u a parcel, %.2f of the observations left out)\n",
                   stats.n_thinned, thin.n_copies, thin.drop);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (parus_model_train(&ds, NULL, 0, &opt, &model, &err) != PARUS_OK ||
        (!csv && parus_season_spec_to_model(&spec, model, &err) != PARUS_OK) ||
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
    if (!ctx->quiet && parus_model_learner(model) != PARUS_LEARNER_TREES)
        printf("learner %s: the network weighs %.2f in the probabilities\n",
               parus_learner_name(parus_model_learner(model)), parus_model_tcnn_weight(model));
    if (labels.n_skipped) {
        fprintf(stderr,
                "parus: %zu label%s skipped: %s parcel%s set aside at load (listed above)\n",
                labels.n_skipped, labels.n_skipped == 1 ? "" : "s",
                labels.n_skipped == 1 ? "its" : "their", labels.n_skipped == 1 ? " was" : "s were");
        rc = PARUS_EXIT_PARTIAL;
    }
out:
    labels_release(&labels);
    parus_store_close(store);
    parus_model_free(model);
    parus_dataset_release(&ds);
    return rc;
}

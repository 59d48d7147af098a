/*
 * cmd_parcels.c - `parus parcels load FILE` registers or refreshes parcels in the store;
 * `parus parcels show ID` prints one; `parus parcels crops FILE.csv --season W` stores the crop
 * declared for each parcel in a season.
 *
 * A load is one transaction: either every valid parcel of the file is stored, or none is. Parcels
 * that fail validation are set aside with their reason (printed, and kept in the store's
 * parcel_rejects table); the others still load, and the exit code says some were set aside.
 * Declared crops are all or nothing: one unknown crop or parcel, a parcel declared twice or an
 * empty cell stores none of the file (exit 4, the message names the file and the line).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/crops.h"
#include "parus/import.h"
#include "parus/parcels.h"
#include "parus/store.h"
#include "parus/zonal.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus parcels load [--whole] [OPTIONS] FILE\n"
    "       parus parcels retire ID...\n"
    "       parus parcels show [--json] ID\n"
    "       parus parcels crops --season FIRST/LAST [OPTIONS] FILE.csv\n\n"
    "load: read parcels from a vector file (GeoJSON, GeoPackage, Shapefile, ... in any CRS),\n"
    "validate them, compute geodesic areas, and register or refresh them in the store.\n"
    "  --id-field F             attribute holding the parcel id (default parcel_id)\n"
    "  --farmer-field F         attribute holding the farmer id (default farmer_id)\n"
    "  --declared-area-field F  attribute holding the declared area (default declared_area_mu)\n"
    "  --declared-area-unit U   m2, mu, ha or auto (from the field name's suffix; default auto)\n"
    "  --assume-crs CRS         CRS for a file that has none, e.g. EPSG:4490\n"
    "  --layer NAME             layer to read (default: the first)\n"
    "  --whole                  the file is the whole registry: a stored parcel it does not\n"
    "                           hold is retired (no longer lent on); without it such parcels\n"
    "                           are counted in a warning and stay lent on\n\n"
    "retire: retire parcels (sold, their contracts ended): kept in the store, never lent on\n"
    "again until a load holds them again; the seasons they are assessed in become owed.\n\n"
    "show: print one parcel of the store and its observations, tile by tile.\n"
    "  --json                   print JSON instead of text\n\n"
    "crops: store the crop declared for each parcel in a season (a CSV of parcel id and crop\n"
    "code), replacing what was declared before for the same parcel and season. Every code must\n"
    "be in the crop table and every parcel in the store, or nothing is stored; a parcel that\n"
    "was set aside at load is skipped and named (exit 8), the others are stored.\n"
    "  --season FIRST/LAST      the season window, e.g. 2024-03-01/2024-06-30 (default: the\n"
    "                           config's [season] window)\n"
    "  --id-column C            column of parcel ids (default parcel_id)\n"
    "  --crop-column C          column of crop codes (default crop)\n"
    "  --crops TABLE.csv        crop table (default: [tables] crops, else "
    "data-samples/crops.csv)\n";

static int set_option(const char *name, const char *value, char *dst, size_t size)
{
    if (strlen(value) >= size)
        return cli_usage_error("parcels", "value of '%s' is too long", name);
    snprintf(dst, size, "%s", value);
    return 0;
}

static int print_overlap(const parus_overlap *o, void *ctx)
{
    size_t *n = ctx;
    if ((*n)++ < 20)
        fprintf(stderr,
                "parus: warning: parcels '%s' (farmer '%s') and '%s' (farmer '%s') overlap: "
                "%.1f m2, %.1f %% and %.1f %% of them: the land counts for credit once "
                "(policy overlap)\n",
                o->parcel_a, o->farmer_a ? o->farmer_a : "-", o->parcel_b,
                o->farmer_b ? o->farmer_b : "-", o->overlap_m2, 100.0 * o->share_a,
                100.0 * o->share_b);
    return 0;
}

/* Every overlap on stderr (the first 20, then a count): a double pledge is for people to see. */
static void print_overlaps(parus_store *store, double min_share)
{
    parus_error err;
    size_t n = 0;
    if (parus_store_overlaps_foreach(store, NULL, print_overlap, &n, NULL, &err) != PARUS_OK)
        return;
    if (n > 20)
        fprintf(stderr, "parus: warning: ... and %zu more overlapping pairs (parcel_overlaps)\n",
                n - 20);
    fprintf(stderr,
            "parus: warning: %zu pair%s of parcels share at least %.0f %% of one's land "
            "(parcel_overlaps; parus query PARCEL names them)\n",
            n, n == 1 ? "" : "s", 100.0 * min_share);
}

static int load(cli_ctx *ctx, int argc, char **argv)
{
    parus_parcel_fields fields;
    parus_parcel_set set;
    parus_parcel_load_stats stats;
    parus_store *store = NULL;
    parus_error err;
    const char *path = NULL;
    char layer[256] = "";
    char summary[512];
    long long run_id;
    double area_m2 = 0.0;
    size_t i;
    int rc, o, a, n_args = 0;
    bool whole = false;
    char **args;
    static const char *const opts[] = {
        "--id-field",           "--farmer-field", "--declared-area-field",
        "--declared-area-unit", "--assume-crs",   "--layer"};
    const char *val[sizeof opts / sizeof opts[0]];

    /* --whole takes no value: out of the list before the valued options are read */
    args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return PARUS_EXIT_FAILURE;
    for (a = 0; a < argc; a++) {
        if (a >= 2 && strcmp(argv[a], "--whole") == 0)
            whole = true;
        else
            args[n_args++] = argv[a];
    }
    rc = cli_file_and_options("parcels", usage, n_args, args, 2, opts, sizeof opts / sizeof opts[0],
                              val, &path);
    free(args);
    if (rc)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    for (o = 0; o < (int)(sizeof opts / sizeof opts[0]); o++) {
        if (!val[o])
            continue;
        switch (o) {
        case 0:
            rc = set_option(opts[o], val[o], ctx->cfg.id_field, sizeof ctx->cfg.id_field);
            break;
        case 1:
            rc = set_option(opts[o], val[o], ctx->cfg.farmer_field, sizeof ctx->cfg.farmer_field);
            break;
        case 2:
            rc = set_option(opts[o], val[o], ctx->cfg.declared_area_field,
                            sizeof ctx->cfg.declared_area_field);
            break;
        case 3:
            rc = parus_area_unit_parse(val[o], &ctx->cfg.declared_area_unit, &err) == PARUS_OK
                     ? 0
                     : cli_usage_error("parcels", "%s", err.msg);
            break;
        case 4:
            rc = set_option(opts[o], val[o], ctx->cfg.assume_crs, sizeof ctx->cfg.assume_crs);
            break;
        default:
            rc = set_option(opts[o], val[o], layer, sizeof layer);
            break;
        }
        if (rc)
            return rc;
    }
    if (!path)
        return cli_usage_error("parcels", "no parcels file given");

    memset(&fields, 0, sizeof fields);
    fields.id_field = ctx->cfg.id_field;
    fields.farmer_field = ctx->cfg.farmer_field;
    /* the default name may be absent (a registry without declared areas); one named must not */
    fields.declared_area_field = strcmp(ctx->cfg.declared_area_field, "declared_area_mu") == 0
                                     ? NULL
                                     : ctx->cfg.declared_area_field;
    fields.declared_area_unit = ctx->cfg.declared_area_unit;
    fields.assume_crs = ctx->cfg.assume_crs[0] ? ctx->cfg.assume_crs : NULL;
    fields.layer = layer[0] ? layer : NULL;
    fields.area_ratio_min = ctx->cfg.area_ratio_min;
    fields.area_ratio_max = ctx->cfg.area_ratio_max;
    fields.max_area_m2 = ctx->cfg.max_area_ha * PARUS_M2_PER_HA;

    if (parus_parcels_read(path, &fields, &set, &err) != PARUS_OK)
        return cli_report(&err);
    for (i = 0; i < set.n_rejects; i++) {
        const parus_parcel_reject *r = &set.rejects[i];
        fprintf(stderr, "parus: set aside: '%s' feature %zu%s%s%s: %s\n", cli_safe(path),
                r->feature_index, r->id ? " (id '" : "", r->id ? cli_safe(r->id) : "",
                r->id ? "')" : "", cli_safe(r->reason));
    }
    if (set.n_parcels == 0) {
        fprintf(stderr, "parus: error: no usable parcel in '%s' (%zu set aside)\n", path,
                set.n_rejects);
        parus_parcel_set_release(&set);
        return PARUS_EXIT_INPUT_BAD;
    }
    if (whole && set.n_layers > 1 && !layer[0]) {
        /* the whole registry is one layer: read the first of several, --whole would retire
         * every parcel of the others */
        fprintf(stderr,
                "parus: error: '%s' has %zu layers: --whole needs --layer to say which one is "
                "the whole registry\n",
                cli_safe(path), set.n_layers);
        parus_parcel_set_release(&set);
        return PARUS_EXIT_USAGE;
    }

    rc = cli_open_store(ctx, &store);
    if (rc) {
        parus_parcel_set_release(&set);
        return rc;
    }
    run_id = cli_run_begin(store, argc, argv);
    if ((whole ? parus_store_put_registry(store, &set, path, &stats, &err)
               : parus_store_put_parcels(store, &set, path, &stats, &err)) != PARUS_OK) {
        rc = cli_report(&err);
        snprintf(summary, sizeof summary, "error=%s", parus_status_name(err.code));
        cli_run_end(store, run_id, "failed", summary);
        goto out;
    }
    for (i = 0; i < set.n_parcels; i++)
        area_m2 += set.parcels[i].area_m2;
    if (stats.n_reshaped)
        fprintf(stderr,
                "parus: warning: %zu parcel%s of '%s' changed shape: %zu observation%s of the old "
                "shape%s removed (parcel_changes); they have no evidence until new imagery is "
                "ingested\n",
                stats.n_reshaped, stats.n_reshaped == 1 ? "" : "s", path,
                stats.n_observations_dropped, stats.n_observations_dropped == 1 ? "" : "s",
                stats.n_observations_dropped == 1 ? " was" : "s were");
    if (parus_store_find_overlaps(store, ctx->cfg.overlap_min_share, &stats.n_overlaps, &err) !=
        PARUS_OK) {
        rc = cli_report(&err);
        snprintf(summary, sizeof summary, "error=%s", parus_status_name(err.code));
        cli_run_end(store, run_id, "failed", summary);
        goto out;
    }
    if (stats.n_overlaps)
        print_overlaps(store, ctx->cfg.overlap_min_share);
    if (stats.n_absent) /* a registry sent whole may mean them gone; they stay lent on */
        fprintf(stderr,
                "parus: warning: %zu parcel%s in the store %s not in '%s': a load never "
                "removes a parcel, so %s registered, assessed and lent on (load the whole "
                "registry with --whole to retire those it does not hold, or parus parcels "
                "retire ID)\n",
                stats.n_absent, stats.n_absent == 1 ? "" : "s", stats.n_absent == 1 ? "is" : "are",
                cli_safe(path), stats.n_absent == 1 ? "it stays" : "they stay");
    if (stats.n_retired)
        fprintf(stderr,
                "parus: warning: %zu parcel%s in the store %s not in the registry '%s': "
                "retired, no longer lent on; the seasons assessed with %s are owed an "
                "assessment\n",
                stats.n_retired, stats.n_retired == 1 ? "" : "s",
                stats.n_retired == 1 ? "is" : "are", cli_safe(path),
                stats.n_retired == 1 ? "it" : "them");
    if (stats.n_reinstated)
        fprintf(stderr,
                "parus: note: %zu retired parcel%s of '%s' reinstated: lent on again from the "
                "next assessment\n",
                stats.n_reinstated, stats.n_reinstated == 1 ? "" : "s", cli_safe(path));
    snprintf(summary, sizeof summary,
             "file=%s parcels=%zu inserted=%zu updated=%zu unchanged=%zu repaired=%zu "
             "set_aside=%zu reshaped=%zu observations_removed=%zu overlaps=%zu retired=%zu "
             "reinstated=%zu area_mu=%.2f",
             path, set.n_parcels, stats.n_inserted, stats.n_updated, stats.n_unchanged,
             set.n_repaired, set.n_rejects, stats.n_reshaped, stats.n_observations_dropped,
             stats.n_overlaps, stats.n_retired, stats.n_reinstated, cli_mu(area_m2));
    cli_run_end(store, run_id, set.n_rejects ? "partial" : "ok", summary);
    if (!ctx->quiet)
        printf("loaded '%s' (%s): %zu parcels, %zu new, %zu updated, %zu unchanged, "
               "%zu repaired, %zu set aside; %.2f mu (%.0f m2) in all; %zu overlapping pair%s\n",
               path, set.source_crs ? set.source_crs : "?", set.n_parcels, stats.n_inserted,
               stats.n_updated, stats.n_unchanged, set.n_repaired, set.n_rejects, cli_mu(area_m2),
               area_m2, stats.n_overlaps, stats.n_overlaps == 1 ? "" : "s");
    rc = set.n_rejects ? PARUS_EXIT_PARTIAL : PARUS_EXIT_OK;
out:
    parus_store_close(store);
    parus_parcel_set_release(&set);
    return rc;
}

static int print_point_text(const parus_series_point *pt, void *ctx)
{
    const parus_observation *o = &pt->obs;
    (void)ctx;
    printf("  %-10s %-16s %6.1f %%", pt->date, pt->sensor, 100.0 * o->valid_fraction);
    if (o->w_valid_px > 0.0)
        printf("  %7.4f %7.4f %7.4f  %5.1f %%\n", o->mean[PARUS_INDEX_NDVI],
               o->std[PARUS_INDEX_NDVI], o->ndvi_p50, 100.0 * o->veg_fraction);
    else
        printf("  (no clear pixel)\n");
    return 0;
}

static int print_point_json(const parus_series_point *pt, void *ctx)
{
    const parus_observation *o = &pt->obs;
    size_t *n = ctx;
    printf("%s{\"date\":\"%s\",\"tile_id\":%lld,\"sensor\":", (*n)++ ? "," : "", pt->date,
           (long long)pt->tile_id);
    cli_json_string(stdout, pt->sensor);
    printf(",\"w_total_px\":");
    cli_json_number(stdout, o->w_total_px);
    printf(",\"w_valid_px\":");
    cli_json_number(stdout, o->w_valid_px);
    printf(",\"valid_fraction\":");
    cli_json_number(stdout, o->valid_fraction);
    printf(",\"ndvi_mean\":");
    cli_json_number(stdout, o->mean[PARUS_INDEX_NDVI]);
    printf(",\"ndvi_std\":");
    cli_json_number(stdout, o->std[PARUS_INDEX_NDVI]);
    printf(",\"ndvi_p50\":");
    cli_json_number(stdout, o->ndvi_p50);
    printf(",\"veg_fraction\":");
    cli_json_number(stdout, o->veg_fraction);
    printf(",\"water_fraction\":");
    cli_json_number(stdout, o->water_fraction);
    printf("}");
    return 0;
}

static int show(cli_ctx *ctx, int argc, char **argv)
{
    parus_store *store;
    parus_parcel p;
    parus_error err;
    const char *id = NULL;
    bool json = false;
    size_t n_points = 0;
    int a, rc;

    for (a = 2; a < argc; a++) {
        if (cli_is_help(argv[a])) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(argv[a], "--json") == 0) {
            json = true;
        } else if (argv[a][0] == '-' && argv[a][1]) {
            return cli_usage_error("parcels", "unknown option '%s'", argv[a]);
        } else if (id) {
            return cli_usage_error("parcels", "more than one id given");
        } else {
            id = argv[a];
        }
    }
    if (!id)
        return cli_usage_error("parcels", "no parcel id given");
    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        return rc;
    if (parus_store_get_parcel(store, id, &p, &err) != PARUS_OK) {
        rc = cli_report(&err);
        parus_store_close(store);
        return rc;
    }
    if (json) {
        printf("{\"id\":");
        cli_json_string(stdout, p.id);
        printf(",\"farmer_id\":");
        if (p.farmer_id)
            cli_json_string(stdout, p.farmer_id);
        else
            printf("null");
        printf(",\"area_m2\":");
        cli_json_number(stdout, p.area_m2);
        printf(",\"area_mu\":");
        cli_json_number(stdout, cli_mu(p.area_m2));
        printf(",\"declared_area_m2\":");
        cli_json_number(stdout, p.declared_area_m2);
        printf(",\"declared_area_mu\":");
        cli_json_number(stdout, cli_mu(p.declared_area_m2));
        printf(",\"bbox_deg\":[%.9f,%.9f,%.9f,%.9f],\"repaired\":%s,\"wkb_bytes\":%zu,"
               "\"observations\":[",
               p.lon_min_deg, p.lat_min_deg, p.lon_max_deg, p.lat_max_deg,
               p.repaired ? "true" : "false", p.wkb_size);
        n_points = 0;
        if (parus_store_parcel_series(store, id, print_point_json, &n_points, NULL, &err) !=
            PARUS_OK)
            goto fail;
        printf("]}\n");
    } else {
        printf("%-16s %s\n", "parcel:", cli_safe(p.id));
        printf("%-16s %s\n", "farmer:", p.farmer_id ? cli_safe(p.farmer_id) : "(none)");
        printf("%-16s %.3f mu (%.1f m2, geodesic on WGS84)\n", "area:", cli_mu(p.area_m2),
               p.area_m2);
        if (isnan(p.declared_area_m2))
            printf("%-16s (none)\n", "declared area:");
        else
            printf("%-16s %.3f mu (%.1f m2), %+.1f %% of the measured area\n",
                   "declared area:", cli_mu(p.declared_area_m2), p.declared_area_m2,
                   100.0 * (p.declared_area_m2 - p.area_m2) / p.area_m2);
        printf("%-16s lon %.6f .. %.6f, lat %.6f .. %.6f\n", "footprint:", p.lon_min_deg,
               p.lon_max_deg, p.lat_min_deg, p.lat_max_deg);
        printf("%-16s %s\n", "geometry:", p.repaired ? "repaired (was invalid)" : "valid");
        printf("observations:\n  %-10s %-16s %8s  %7s %7s %7s  %7s\n", "date", "sensor", "clear",
               "ndvi", "std", "p50", "veg");
        if (parus_store_parcel_series(store, id, print_point_text, NULL, &n_points, &err) !=
            PARUS_OK)
            goto fail;
        if (n_points == 0)
            printf("  (none yet: ingest tiles that cover it)\n");
    }
    parus_parcel_release(&p);
    parus_store_close(store);
    return PARUS_EXIT_OK;
fail:
    rc = cli_report(&err);
    parus_parcel_release(&p);
    parus_store_close(store);
    return rc;
}

/* The line of the first parcel of d that the store does not hold (0 when all are there). */
static int crops(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const opts[] = {"--season", "--id-column", "--crop-column", "--crops"};
    const char *val[4];
    parus_crop_declarations d;
    parus_crop_table table;
    parus_store *store = NULL;
    parus_error err;
    const char *path = NULL, *table_path;
    char window[PARUS_SEASON_WINDOW_TEXT], summary[512];
    int64_t start_day;
    size_t length_days, i, k, *counts = NULL, n_skipped = 0, unknown;
    long long run_id;
    int rc;

    rc = cli_file_and_options("parcels", usage, argc, argv, 2, opts, sizeof opts / sizeof opts[0],
                              val, &path);
    if (rc)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    if (!path)
        return cli_usage_error("parcels", "no crops file given");
    rc = cli_season_resolve(ctx, "parcels", val[0], window, &start_day, &length_days);
    if (rc)
        return rc;

    table_path = cli_table_path(ctx, val[3], "crops");
    if (parus_crop_table_load(table_path, &table, &err) != PARUS_OK)
        return cli_report(&err);
    rc = parus_crop_declarations_read(path, val[1], val[2], &table, &d, &err) == PARUS_OK
             ? PARUS_EXIT_OK
             : cli_report(&err);
    if (rc)
        goto out_table;
    if (d.n == 0) {
        fprintf(stderr, "parus: error: '%s' declares no crop (a header only)\n", path);
        rc = PARUS_EXIT_INPUT_BAD;
        goto out_decl;
    }
    counts = calloc(table.n_crops ? table.n_crops : 1, sizeof *counts);
    if (!counts) {
        fprintf(stderr, "parus: error: out of memory\n");
        rc = PARUS_EXIT_FAILURE;
        goto out_decl;
    }
    rc = cli_open_store(ctx, &store);
    if (rc)
        goto out_decl;
    rc = cli_drop_set_aside(store, path, &d, &n_skipped, &unknown);
    if (rc)
        goto out_store;
    if (d.n == 0) {
        fprintf(stderr,
                "parus: error: every parcel of '%s' was set aside at load: nothing stored\n",
                cli_safe(path));
        rc = PARUS_EXIT_INPUT_BAD;
        goto out_store;
    }
    run_id = cli_run_begin(store, argc, argv);
    if (parus_store_put_parcel_crops(store, window, (const char *const *)d.parcel_ids,
                                     (const char *const *)d.crops, d.n, path, &err) != PARUS_OK) {
        if (err.code == PARUS_E_NOT_FOUND && unknown < d.n) {
            fprintf(stderr,
                    "parus: error: '%s' line %zu: parcel '%s' is not in '%s': nothing stored\n",
                    path, d.lines[unknown], d.parcel_ids[unknown], cli_db_name(ctx));
            rc = PARUS_EXIT_INPUT_BAD;
        } else {
            rc = cli_report(&err);
        }
        snprintf(summary, sizeof summary, "error=%s", parus_status_name(err.code));
        cli_run_end(store, run_id, "failed", summary);
        goto out_store;
    }
    snprintf(summary, sizeof summary, "file=%s season=%s declared=%zu skipped=%zu", path, window,
             d.n, n_skipped);
    cli_run_end(store, run_id, "ok", summary);
    if (n_skipped) {
        fprintf(stderr,
                "parus: %zu declaration%s skipped: %s parcel%s set aside at load (listed above)\n",
                n_skipped, n_skipped == 1 ? "" : "s", n_skipped == 1 ? "its" : "their",
                n_skipped == 1 ? " was" : "s were");
        rc = PARUS_EXIT_PARTIAL;
    }
    if (!ctx->quiet) {
        for (i = 0; i < d.n; i++)
            for (k = 0; k < table.n_crops; k++)
                if (strcmp(d.crops[i], table.crops[k].code) == 0)
                    counts[k]++;
        printf("stored %zu declared crops for season %s from '%s':", d.n, window, path);
        for (k = 0; k < table.n_crops; k++)
            if (counts[k])
                printf(" %s %zu", table.crops[k].code, counts[k]);
        printf("\n");
    }
out_store:
    parus_store_close(store);
out_decl:
    free(counts);
    parus_crop_declarations_release(&d);
out_table:
    parus_crop_table_release(&table);
    return rc;
}

/* parus parcels retire ID...: one transaction, every id stored or nothing retired (exit 6) */
static int retire(cli_ctx *ctx, int argc, char **argv)
{
    parus_store *store = NULL;
    parus_error err;
    char summary[128];
    long long run_id;
    size_t n = 0;
    int a, rc;

    for (a = 2; a < argc; a++) {
        if (cli_is_help(argv[a])) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        }
        if (argv[a][0] == '-' && argv[a][1])
            return cli_usage_error("parcels", "unknown option '%s'", argv[a]);
    }
    if (argc < 3)
        return cli_usage_error("parcels", "retire needs the ids of the parcels to retire");
    if (parus_store_open_existing(ctx->cfg.db, &store, &err) != PARUS_OK)
        return cli_report(&err);
    run_id = cli_run_begin(store, argc, argv);
    if (parus_store_retire_parcels(store, (const char *const *)argv + 2, (size_t)(argc - 2),
                                   "parcels retire", &n, &err) != PARUS_OK) {
        rc = cli_report(&err);
        snprintf(summary, sizeof summary, "error=%s", parus_status_name(err.code));
        cli_run_end(store, run_id, "failed", summary);
        parus_store_close(store);
        return rc;
    }
    snprintf(summary, sizeof summary, "retired=%zu", n);
    cli_run_end(store, run_id, n ? "ok" : "noop", summary);
    parus_store_close(store);
    if (!ctx->quiet && n)
        printf("retired %zu parcel%s (%zu already retired): no longer lent on; the seasons "
               "assessed with %s are owed an assessment\n",
               n, n == 1 ? "" : "s", (size_t)(argc - 2) - n, n == 1 ? "it" : "them");
    else if (!ctx->quiet)
        printf("nothing retired: every parcel given was retired already\n");
    return n ? PARUS_EXIT_OK : PARUS_EXIT_NOTHING_NEW;
}

int cmd_parcels(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("parcels", "no subcommand given (load, retire, show or crops)");
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return PARUS_EXIT_OK;
    }
    if (strcmp(argv[1], "load") == 0)
        return load(ctx, argc, argv);
    if (strcmp(argv[1], "retire") == 0)
        return retire(ctx, argc, argv);
    if (strcmp(argv[1], "show") == 0)
        return show(ctx, argc, argv);
    if (strcmp(argv[1], "crops") == 0)
        return crops(ctx, argc, argv);
    return cli_usage_error("parcels", "unknown subcommand '%s' (load, retire, show or crops)",
                           argv[1]);
}

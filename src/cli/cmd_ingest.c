/*
 * cmd_ingest.c - `parus ingest TILE...`: each argument is one tile (a multi-band file, or a
 * directory with one file per band), ingested by parus_ingest_tile (include/parus/ingest.h). This
 * file decides what the user sees: a line per tile, a summary, and the exit code. A tile that
 * cannot be used is set aside with its reason and the others go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parus/ingest.h"
#include "parus/store.h"

#include "cli.h"

static const char usage[] =
    "usage: parus ingest [--bands MAP] [--date YYYY-MM-DD] [--radar-scale S]\n"
    "                    [--radar-coefficient C] [--threads N] TILE...\n\n"
    "Measure every registered parcel on each tile (a multi-band GeoTIFF, or a directory with one\n"
    "file per band) and store one observation per parcel. A tile already stored is skipped but\n"
    "for the parcels registered (or reshaped) since it was stored: those are measured on it and\n"
    "added, and the seasons of its date owed their assessment.\n\n"
    "  --bands MAP   band roles of generic files, e.g. red=3,nir=4 (refused for a tile\n"
    "                that names its own bands: Sentinel-2, Landsat, CBERS-4)\n"
    "  --no-cloud-mask  accept optical tiles without a cloud mask (their clouds removed before\n"
    "                delivery); without it such a tile is refused\n"
    "  --date DATE   acquisition date, for files that carry none\n"
    "  --radar-scale linear|db, --radar-coefficient sigma0|gamma0|beta0\n"
    "                what a Sentinel-1 file does not say itself (docs/sensors.md)\n"
    "  --threads N   threads for the kernel (default: [raster] threads, or all cores)\n\n"
    "Exit codes: 0 all stored, 8 some tiles set aside, 9 nothing new, 11 no tile overlaps a\n"
    "parcel; the input and store codes of docs/cli.md otherwise.\n";

enum tile_outcome { TILE_STORED, TILE_KNOWN, TILE_NO_OVERLAP, TILE_FAILED, TILE_EXTENDED };

static enum tile_outcome ingest_one(cli_ctx *ctx, parus_store *store, const char *path,
                                    const parus_ingest_options *opt, parus_error *err)
{
    parus_ingest_result r;
    const parus_tile_record *rec = &r.rec;

    if (parus_ingest_tile(store, &path, 1, opt, &r, err) != PARUS_OK)
        return TILE_FAILED;
    switch (r.outcome) {
    case PARUS_INGEST_KNOWN:
        if (r.n_observed > 0) {
            /* stored before parcels registered since: they are measured on it now */
            if (!ctx->quiet)
                printf("tile '%s': already stored as tile %lld ('%s', %s %s); %zu parcels "
                       "registered since measured on it and added\n",
                       path, (long long)rec->id, rec->path, rec->date, rec->status, r.n_observed);
            return TILE_EXTENDED;
        }
        if (!ctx->quiet)
            printf("tile '%s': already stored as tile %lld ('%s', %s %s), skipped\n", path,
                   (long long)rec->id, rec->path, rec->date, rec->status);
        return TILE_KNOWN;
    case PARUS_INGEST_NO_OVERLAP:
        fprintf(stderr,
                "parus: tile '%s' (%s, lon %.4f..%.4f, lat %.4f..%.4f) covers no registered "
                "parcel, not stored\n",
                path, rec->date, rec->lon_min_deg, rec->lon_max_deg, rec->lat_min_deg,
                rec->lat_max_deg);
        return TILE_NO_OVERLAP;
    case PARUS_INGEST_STORED:
        break;
    }
    if (!ctx->quiet)
        printf("tile '%s': %s %s, %zu x %zu px, %zu parcels observed, %.1f %% of their pixels "
               "clear, %.2f s: stored as tile %lld\n",
               path, rec->sensor, rec->date, rec->width, rec->height, r.n_observed,
               r.stats.n_cells ? 100.0 * (double)r.stats.n_cells_valid / (double)r.stats.n_cells
                               : 0.0,
               r.stats.seconds_coverage + r.stats.seconds_pass, (long long)rec->id);
    return TILE_STORED;
}

int cmd_ingest(cli_ctx *ctx, int argc, char **argv)
{
    parus_ingest_options opt = {0};
    parus_store *store;
    parus_error err, first_err;
    size_t n[5] = {0, 0, 0, 0, 0};
    char summary[256];
    long long run_id;
    int i, first, rc;

    opt.band_map = ctx->cfg.bands[0] ? ctx->cfg.bands : NULL;
    opt.band_map_generic_only = opt.band_map != NULL; /* the configuration's: generic tiles */
    opt.n_threads = ctx->cfg.threads;
    opt.no_cloud_mask_generic_ok = ctx->cfg.cloud_mask_off != 0;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(argv[i], "--no-cloud-mask") == 0) {
            opt.no_cloud_mask_ok = true;
        } else if (strcmp(argv[i], "--radar-scale") == 0 ||
                   strcmp(argv[i], "--radar-coefficient") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("ingest", "option '%s' needs a value", argv[i]);
            if (argv[i][8] == 's')
                opt.radar_scale = argv[++i];
            else
                opt.radar_coefficient = argv[++i];
        } else if (strcmp(argv[i], "--bands") == 0 || strcmp(argv[i], "--date") == 0 ||
                   strcmp(argv[i], "--threads") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("ingest", "option '%s' needs a value", argv[i]);
            if (argv[i][2] == 'b') {
                opt.band_map = argv[++i];
                opt.band_map_generic_only = false;
            } else if (argv[i][2] == 'd') {
                opt.date = argv[++i];
            } else {
                char *end;
                long t = strtol(argv[++i], &end, 10);
                if (end == argv[i] || *end || t < 0 || t > 4096)
                    return cli_usage_error("ingest", "bad thread count '%s'", argv[i]);
                opt.n_threads = (int)t;
            }
        } else {
            return cli_usage_error("ingest", "unknown option '%s'", argv[i]);
        }
    }
    first = i;
    if (first >= argc)
        return cli_usage_error("ingest", "no tile given");
    for (i = first; i < argc; i++) {
        /* an option after the tiles would be taken for a tile and its value lost */
        struct stat sb;
        if (strncmp(argv[i], "--", 2) == 0 && stat(argv[i], &sb) != 0)
            return cli_usage_error("ingest", "option '%s' after the tiles: options come first",
                                   argv[i]);
    }

    rc = cli_open_store(ctx, &store);
    if (rc)
        return rc;
    run_id = cli_run_begin(store, argc, argv);
    parus_error_init(&first_err);
    for (i = first; i < argc; i++) {
        enum tile_outcome o;
        parus_error_init(&err);
        o = ingest_one(ctx, store, argv[i], &opt, &err);
        if (o == TILE_FAILED && !parus_status_is_input_error(err.code)) {
            /* the store, memory: not this tile's fault, and the next tile would fare no better */
            rc = cli_report(&err);
            snprintf(summary, sizeof summary,
                     "tiles=%d stored=%zu known=%zu no_overlap=%zu failed=%zu error=%s",
                     argc - first, n[TILE_STORED], n[TILE_KNOWN], n[TILE_NO_OVERLAP],
                     n[TILE_FAILED], parus_status_name(err.code));
            cli_run_end(store, run_id, "failed", summary);
            parus_store_close(store);
            return rc;
        }
        n[o]++;
        if (o == TILE_FAILED) {
            fprintf(stderr, "parus: set aside: %s\n", err.msg);
            if (first_err.code == PARUS_OK)
                first_err = err;
        }
    }
    snprintf(summary, sizeof summary,
             "tiles=%d stored=%zu known=%zu no_overlap=%zu failed=%zu extended=%zu", argc - first,
             n[TILE_STORED], n[TILE_KNOWN] + n[TILE_EXTENDED], n[TILE_NO_OVERLAP], n[TILE_FAILED],
             n[TILE_EXTENDED]);
    if (!ctx->quiet)
        printf("ingest: %s\n", summary);

    if (n[TILE_FAILED] && n[TILE_FAILED] == (size_t)(argc - first))
        rc = cli_exit_code(first_err.code);
    else if (n[TILE_FAILED])
        rc = PARUS_EXIT_PARTIAL;
    else if (n[TILE_STORED] || n[TILE_EXTENDED])
        rc = PARUS_EXIT_OK;
    else if (n[TILE_NO_OVERLAP])
        rc = PARUS_EXIT_NO_OVERLAP;
    else
        rc = PARUS_EXIT_NOTHING_NEW;
    cli_run_end(store, run_id,
                rc == PARUS_EXIT_OK ? "ok"
                : n[TILE_FAILED]    ? "partial"
                                    : "noop",
                summary);
    parus_store_close(store);
    return rc;
}

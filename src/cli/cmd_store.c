/*
 * cmd_store.c - `parus store info` and `parus store tiles`: what the store holds, for a person
 * at a terminal or a script checking a nightly run; `parus store merge DST SRC...`: the stores
 * of nightly shards combined into one.
 */
#include <stdio.h>
#include <string.h>

#include "parus/store.h"

#include "cli.h"

static const char usage[] = "usage: parus store info\n"
                            "       parus store tiles\n"
                            "       parus store upgrade\n"
                            "       parus store merge DST SRC...\n"
                            "       parus store copy SRC DST\n\n"
                            "info:  schema version and how many parcels, farmers, tiles,\n"
                            "       observations, runs, declared crops, samples and\n"
                            "       assessments the store holds\n"
                            "tiles: one line per stored tile, in date order\n"
                            "upgrade: migrate a store written by an older parus to this\n"
                            "       version's schema (one transaction per step)\n"
                            "merge: copy into DST (created if absent) the parcels, tiles and\n"
                            "       observations of each SRC that DST does not hold (tiles by\n"
                            "       content hash), one transaction per SRC; exit 9 when\n"
                            "       nothing was new (SQLite files only)\n"
                            "copy:  copy the whole store SRC into the new, empty store DST, a\n"
                            "       SQLite file or a PostgreSQL database (postgresql://... or\n"
                            "       'host=... dbname=...') either way, every table row for\n"
                            "       row; each table is read back and checked before the one\n"
                            "       commit\n";

/* What of the source src merge does not copy, said when src holds any of it: the season stages'
 * rows stay where they are (docs/cli.md). */
static void say_what_stays(const cli_ctx *ctx, const char *src, const char *dst)
{
    parus_store *s;
    parus_store_counts c;
    parus_error err;
    if (ctx->quiet || parus_store_open_readonly(src, &s, &err) != PARUS_OK)
        return;
    if (parus_store_get_counts(s, &c, &err) == PARUS_OK &&
        c.n_parcel_crops + c.n_samples + c.n_assessments + c.n_parcel_results + c.n_limits > 0)
        fprintf(stderr,
                "parus: note: merge copied no season stages from '%s': %zu declared crops, %zu "
                "samples, %zu assessments, %zu parcel results and %zu limits stay there; load the "
                "crops and samples into '%s' and assess it there\n",
                src, c.n_parcel_crops, c.n_samples, c.n_assessments, c.n_parcel_results, c.n_limits,
                dst);
    parus_store_close(s);
}

static int merge(cli_ctx *ctx, int argc, char **argv)
{
    parus_store *dst;
    parus_error err;
    parus_store_merge_stats ms;
    size_t n_tiles = 0, n_obs = 0, n_parcels = 0;
    long long run_id;
    char summary[512];
    int i, rc = PARUS_EXIT_OK;
    size_t n_twins = 0;

    if (argc < 4)
        return cli_usage_error("store", "merge needs a destination and at least one source");
    for (i = 2; i < argc; i++) {
        char shown[512];
        if (argv[i][0] == '-')
            return cli_usage_error("store", "unknown option '%s'", argv[i]);
        /* before anything is opened or recorded (a connection string may hold a password) */
        if (parus_store_is_server(argv[i])) {
            parus_store_display_name(argv[i], shown, sizeof shown);
            fprintf(stderr,
                    "parus: error: merge: '%s' is a PostgreSQL store: merge joins SQLite files; "
                    "a PostgreSQL store needs none (every nightly run writes it at once)\n",
                    shown);
            return PARUS_EXIT_INPUT_BAD;
        }
    }
    if (parus_store_open(argv[2], &dst, &err) != PARUS_OK)
        return cli_report(&err);
    run_id = cli_run_begin(dst, argc, argv);
    for (i = 3; i < argc; i++) {
        if (parus_store_merge(dst, argv[i], &ms, &err) != PARUS_OK) {
            rc = cli_report(&err);
            break;
        }
        n_tiles += ms.n_tiles_new;
        n_obs += ms.n_observations + ms.n_radar_observations;
        n_parcels += ms.n_parcels_new + ms.n_parcels_updated + ms.n_parcels_retired;
        n_twins += ms.n_tiles_same_acquisition + ms.n_tiles_redated;
        say_what_stays(ctx, argv[i], argv[2]);
        if (ms.n_observations_other_shape)
            fprintf(stderr,
                    "parus: warning: merge: %zu observations of '%s' were measured over parcel "
                    "shapes that '%s' does not hold (its own are newer): not copied, they describe "
                    "other land\n",
                    ms.n_observations_other_shape, argv[i], argv[2]);
        if (ms.n_parcels_retired)
            fprintf(stderr,
                    "parus: warning: merge: %zu parcel%s retired in '%s' %s retired in '%s' "
                    "too: no longer lent on; the seasons assessed with %s are owed an "
                    "assessment\n",
                    ms.n_parcels_retired, ms.n_parcels_retired == 1 ? "" : "s", argv[i],
                    ms.n_parcels_retired == 1 ? "is" : "are", argv[2],
                    ms.n_parcels_retired == 1 ? "it" : "them");
        if (ms.n_tiles_same_acquisition)
            fprintf(stderr,
                    "parus: warning: merge: %zu tile%s of '%s' %s of an acquisition '%s' holds in "
                    "other bytes (the same sensor, date and grid): not merged, %s pixels would "
                    "count twice (%s)\n",
                    ms.n_tiles_same_acquisition, ms.n_tiles_same_acquisition == 1 ? "" : "s",
                    argv[i], ms.n_tiles_same_acquisition == 1 ? "is" : "are", argv[2],
                    ms.n_tiles_same_acquisition == 1 ? "its" : "their",
                    cli_safe(ms.same_acquisition));
        if (ms.n_tiles_redated)
            fprintf(stderr,
                    "parus: warning: merge: %zu tile%s of '%s' %s the pixels of a tile of '%s' "
                    "under another date: not merged, %s pixels would count twice (%s)\n",
                    ms.n_tiles_redated, ms.n_tiles_redated == 1 ? "" : "s", argv[i],
                    ms.n_tiles_redated == 1 ? "holds" : "hold", argv[2],
                    ms.n_tiles_redated == 1 ? "its" : "their", cli_safe(ms.redated));
        if (!ctx->quiet)
            printf("merged '%s' into '%s': parcels %zu new, %zu updated, %zu unchanged; tiles "
                   "%zu new, %zu already there; %zu observations, %zu radar observations\n",
                   argv[i], argv[2], ms.n_parcels_new, ms.n_parcels_updated, ms.n_parcels_unchanged,
                   ms.n_tiles_new, ms.n_tiles_known, ms.n_observations, ms.n_radar_observations);
    }
    snprintf(summary, sizeof summary,
             "sources=%d parcels_changed=%zu tiles_new=%zu observations=%zu "
             "tiles_same_acquisition=%zu",
             argc - 3, n_parcels, n_tiles, n_obs, n_twins);
    /* a parcel added or replaced is news too: its old shape's observations may be gone; a
     * tile set aside makes the merge partial, as a tile set aside makes a nightly run */
    if (rc == PARUS_EXIT_OK && n_twins > 0)
        rc = PARUS_EXIT_PARTIAL;
    else if (rc == PARUS_EXIT_OK && n_tiles == 0 && n_obs == 0 && n_parcels == 0)
        rc = PARUS_EXIT_NOTHING_NEW;
    cli_run_end(dst, run_id,
                rc == PARUS_EXIT_OK            ? "ok"
                : rc == PARUS_EXIT_NOTHING_NEW ? "noop"
                : rc == PARUS_EXIT_PARTIAL     ? "partial"
                                               : "failed",
                summary);
    parus_store_close(dst);
    return rc;
}

static int copy(cli_ctx *ctx, int argc, char **argv)
{
    parus_store_copy_stats cs;
    parus_error err;
    char src[512], dst[512];

    if (argc != 4)
        return cli_usage_error("store", "copy needs a source and a destination");
    for (int i = 2; i < argc; i++)
        if (argv[i][0] == '-')
            return cli_usage_error("store", "unknown option '%s'", argv[i]);
    if (parus_store_copy(argv[2], argv[3], &cs, &err) != PARUS_OK)
        return cli_report(&err);
    parus_store_display_name(argv[2], src, sizeof src);
    parus_store_display_name(argv[3], dst, sizeof dst);
    if (!ctx->quiet)
        printf("copied '%s' into '%s': %zu tables, %zu rows (%zu parcels, %zu observations), "
               "each table read back and checked\n",
               src, dst, cs.n_tables, cs.n_rows, cs.n_parcels, cs.n_observations);
    return PARUS_EXIT_OK;
}

static int print_tile(const parus_tile_record *rec, void *ctx)
{
    (void)ctx;
    printf("%-6lld %-10s %-16s %5zu x %-5zu %-7zu %-10s %s\n", (long long)rec->id, rec->date,
           rec->sensor, rec->width, rec->height, rec->n_parcels, rec->status, rec->path);
    return 0;
}

int cmd_store(cli_ctx *ctx, int argc, char **argv)
{
    parus_store *store;
    parus_error err;
    parus_store_counts c;
    int rc = PARUS_EXIT_OK;

    if (argc < 2)
        return cli_usage_error("store",
                               "no subcommand given (info, tiles, upgrade, merge or copy)");
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return PARUS_EXIT_OK;
    }
    if (argc > 2 && cli_is_help(argv[2])) {
        fputs(usage, stdout);
        return PARUS_EXIT_OK;
    }
    if (strcmp(argv[1], "merge") == 0)
        return merge(ctx, argc, argv);
    if (strcmp(argv[1], "copy") == 0)
        return copy(ctx, argc, argv);
    if (strcmp(argv[1], "upgrade") == 0) {
        uint64_t size_before = 0, size_after = 0;
        int before;
        if (argc > 2)
            return cli_usage_error("store", "unexpected argument '%s'", argv[2]);
        if (parus_store_open_existing(ctx->cfg.db, &store, &err) != PARUS_OK)
            return cli_report(&err);
        before = parus_store_schema_version(store);
        parus_store_close(store);
        if (parus_store_open(ctx->cfg.db, &store, &err) != PARUS_OK)
            return cli_report(&err);
        if (parus_store_note(store) && !ctx->quiet)
            fprintf(stderr, "parus: note: %s\n", parus_store_note(store));
        if (!ctx->quiet)
            printf("'%s': schema version %d -> %d\n", cli_db_name(ctx), before,
                   parus_store_schema_version(store));
        if (parus_store_reclaim(store, &size_before, &size_after, &err) != PARUS_OK) {
            rc = cli_report(&err);
            parus_store_close(store);
            return rc;
        }
        if (!ctx->quiet && size_after < size_before)
            printf("'%s': %.1f MB -> %.1f MB (free space given back)\n", cli_db_name(ctx),
                   (double)size_before / 1e6, (double)size_after / 1e6);
        parus_store_close(store);
        return PARUS_EXIT_OK;
    }
    if (strcmp(argv[1], "info") != 0 && strcmp(argv[1], "tiles") != 0)
        return cli_usage_error(
            "store", "unknown subcommand '%s' (info, tiles, upgrade, merge or copy)", argv[1]);
    if (argc > 2)
        return cli_usage_error("store", "unexpected argument '%s'", argv[2]);
    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        return rc;

    if (strcmp(argv[1], "info") == 0) {
        if (parus_store_get_counts(store, &c, &err) != PARUS_OK) {
            rc = cli_report(&err);
        } else {
            printf("%-18s %s\n", "store:", cli_db_name(ctx));
            printf("%-18s %d\n", "schema version:", parus_store_schema_version(store));
            printf("%-18s %zu (%.2f mu, %.0f m2)\n", "parcels:", c.n_parcels,
                   cli_mu(c.parcel_area_m2), c.parcel_area_m2);
            printf("%-18s %zu\n", "farmers:", c.n_farmers);
            printf("%-18s %zu\n", "parcels set aside:", c.n_parcel_rejects);
            printf("%-18s %zu\n", "tiles:", c.n_tiles);
            printf("%-18s %zu\n", "observations:", c.n_observations);
            printf("%-18s %zu\n", "runs:", c.n_runs);
            printf("%-18s %zu\n", "declared crops:", c.n_parcel_crops);
            printf("%-18s %zu (%zu values)\n", "samples:", c.n_samples, c.n_sample_points);
            printf("%-18s %zu\n", "assessments:", c.n_assessments);
            printf("%-18s %zu (%zu flags, %zu peer curves)\n",
                   "parcel results:", c.n_parcel_results, c.n_parcel_flags, c.n_peer_curves);
            printf("%-18s %zu\n", "limits:", c.n_limits);
        }
    } else {
        printf("%-6s %-10s %-16s %-13s %-7s %-10s %s\n", "id", "date", "sensor", "size", "parcels",
               "status", "path");
        if (parus_store_tiles_foreach(store, print_tile, NULL, &err) != PARUS_OK)
            rc = cli_report(&err);
    }
    parus_store_close(store);
    return rc;
}

/*
 * cmd_export.c - `parus export`: a season's results out of the store, for the credit desk (one CSV
 * row per farmer), the analyst (one CSV row per parcel) and QGIS (a GeoPackage of the parcels).
 *
 * Every file is written beside its name and renamed when complete (parus/outfile.h): the name
 * asked for holds a whole export or what it held before, never half of one. An output that is the
 * store, its -wal/-shm/-journal/.lock, the configuration or another output of the same call is
 * refused before anything is read (exit 2). A season with nothing assessed exits 6 before any
 * file is created; an output that cannot be written exits 3. The store is only read.
 * The schemas are the library's (parus/exporter.h) and docs/export.md's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/csvout.h"
#include "parus/exporter.h"
#include "parus/store.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus export [--season FIRST/LAST] [--out FILE.csv | -] [--parcels FILE.csv]\n"
    "                    [--gpkg FILE.gpkg] [--observations FILE.csv] [--stale-ok] [--lf]\n"
    "                    [--no-bom]\n\n"
    "Write a season's results from the store (run 'parus assess' first):\n"
    "  --out FILE.csv      the credit desk's CSV, one row per farmer: limit, areas, values,\n"
    "                      health, flags, reasons, audit fields; '-' for stdout (the default\n"
    "                      when no output is named)\n"
    "  --parcels FILE.csv  one row per parcel: crop, areas, health, flags, yield, value, credit\n"
    "  --gpkg FILE.gpkg    the assessed parcels with every per-parcel column, EPSG:4326, for QGIS\n"
    "  --observations FILE.csv\n"
    "                      one row per optical observation of the season's window, every\n"
    "                      statistic the store keeps (a season not yet assessed too)\n"
    "  --season FIRST/LAST the season (default: the config's [season] window)\n"
    "  --lf                end CSV records with LF instead of CRLF (RFC 4180)\n"
    "  --no-bom            no UTF-8 byte order mark (Excel needs it to read Chinese text)\n"
    "  --stale-ok          write the results of a season owed an assessment as they are (else\n"
    "                      refused, exit 14: they do not rest on what the store holds)\n\n"
    "CSVs are RFC 4180, UTF-8, with a header row; cells a spreadsheet would run as a formula are\n"
    "written as text. Columns: docs/export.md. Exit 6 when the season has no results, 3 when an\n"
    "output cannot be written, 14 when the season is owed an assessment (nothing written).\n";

typedef parus_status (*csv_fn)(parus_store *store, const char *season, parus_csvout *w,
                               size_t *n_rows, parus_error *err);

/* One CSV export to path ("-": stdout). */
static parus_status write_csv(parus_store *store, const char *season, const char *path, csv_fn fn,
                              const parus_csvout_options *opt, size_t *n_rows, parus_error *err)
{
    parus_csvout *w = NULL;
    parus_status st;

    if (strcmp(path, "-") == 0) {
        const char *bytes;
        size_t len;
        st = parus_csvout_new_memory(opt, &w, err);
        if (st == PARUS_OK)
            st = fn(store, season, w, n_rows, err);
        if (st == PARUS_OK) {
            bytes = parus_csvout_memory(w, &len);
            if (fwrite(bytes, 1, len, stdout) != len || fflush(stdout) != 0)
                st = parus_fail(err, PARUS_E_IO, "cannot write to stdout: %s", strerror(errno));
        }
        parus_csvout_free(w);
        return st;
    }
    /* written beside path and renamed by close: path keeps its old bytes until then */
    st = parus_csvout_open(path, opt, &w, err);
    if (st == PARUS_OK) {
        st = fn(store, season, w, n_rows, err);
        if (st == PARUS_OK)
            st = parus_csvout_close(w, err);
        else
            parus_csvout_free(w);
    } else {
        parus_error_prefix(err, "cannot write '%s'", path);
    }
    return st;
}

/* Nothing written: the stored results do not rest on what the store and configuration hold. */
static int refuse_stale(parus_store *store)
{
    fprintf(stderr, "parus: error: export: nothing written; assess the season first, or export "
                    "its stored results as they are with --stale-ok\n");
    parus_store_snapshot_end(store);
    parus_store_close(store);
    return PARUS_EXIT_STALE;
}

int cmd_export(cli_ctx *ctx, int argc, char **argv)
{
    const char *season_opt = NULL, *out = NULL, *parcels = NULL, *gpkg = NULL, *obs = NULL;
    char window[PARUS_SEASON_WINDOW_TEXT];
    int64_t start_day;
    size_t length_days, n_farmers = 0, n_parcels = 0, n_features = 0, n_obs = 0;
    parus_csvout_options copt;
    parus_store *store;
    parus_error err;
    parus_status st = PARUS_OK;
    bool stale_ok = false;
    int a, rc;

    parus_csvout_options_init(&copt);
    for (a = 1; a < argc; a++) {
        const char *o = argv[a];
        const char **dst = NULL;
        if (cli_is_help(o)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(o, "--lf") == 0) {
            copt.crlf = false;
            continue;
        } else if (strcmp(o, "--no-bom") == 0) {
            copt.bom = false;
            continue;
        } else if (strcmp(o, "--stale-ok") == 0) {
            stale_ok = true;
            continue;
        } else if (strcmp(o, "--season") == 0) {
            dst = &season_opt;
        } else if (strcmp(o, "--out") == 0 || strcmp(o, "-o") == 0) {
            dst = &out;
        } else if (strcmp(o, "--parcels") == 0) {
            dst = &parcels;
        } else if (strcmp(o, "--gpkg") == 0) {
            dst = &gpkg;
        } else if (strcmp(o, "--observations") == 0) {
            dst = &obs;
        } else if (o[0] == '-') {
            return cli_usage_error("export", "unknown option '%s'", o);
        } else {
            return cli_usage_error("export", "unexpected argument '%s'", o);
        }
        if (a + 1 >= argc || !argv[a + 1][0])
            return cli_usage_error("export", "option '%s' needs a value", o);
        *dst = argv[++a];
    }
    if (!out && !parcels && !gpkg && !obs)
        out = "-";
    if ((parcels && strcmp(parcels, "-") == 0) || (gpkg && strcmp(gpkg, "-") == 0) ||
        (obs && strcmp(obs, "-") == 0))
        return cli_usage_error("export", "only --out can go to stdout ('-')");
    rc = cli_season_resolve(ctx, "export", season_opt, window, &start_day, &length_days);
    if (rc)
        return rc;
    {
        /* no output may be an input, nor another output of this call */
        const char *outs[4] = {out, parcels, gpkg, obs};
        size_t i, j;
        for (i = 0; i < 4; i++) {
            const char *others[4];
            size_t n_others = 0;
            if (!outs[i])
                continue;
            for (j = 0; j < i; j++)
                others[n_others++] = outs[j];
            if ((rc = cli_check_output(ctx, "export", outs[i], others, n_others)) != 0)
                return rc;
        }
    }

    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        return rc;
    {
        /* nor a file the season's limits rest on, named or not in the configuration (a hand
         * `assess --crops crops.csv` and then `export --out crops.csv`) */
        const char *outs[4] = {out, parcels, gpkg, obs}, *what = NULL;
        size_t i;
        for (i = 0; i < 4 && !what; i++) {
            if (!outs[i] || strcmp(outs[i], "-") == 0)
                continue;
            st = parus_export_output_is_input(store, window, outs[i], &what, &err);
            if (st != PARUS_OK) {
                parus_store_close(store);
                return cli_report(&err);
            }
            if (what) {
                parus_store_close(store);
                return cli_usage_error("export",
                                       "'%s' holds the %s season %s was assessed with: an "
                                       "output never replaces an input; give another path",
                                       outs[i], what, window);
            }
        }
    }
    /* the three outputs come from one committed state: an assess finishing meanwhile would
     * otherwise mix two runs' rows */
    st = parus_store_snapshot_begin(store, &err);
    if (st == PARUS_OK && (out || parcels || gpkg)) {
        /* never a silently stale limit: results that do not rest on the store are not written
         * unless asked for as they are (a cron job reads the exit code, not a warning); the
         * observations are the store's own and always current */
        parus_season_state owed;
        memset(&owed, 0, sizeof owed);
        /* the files the configuration names for the next assessment, against those these
         * limits were computed with: a policy replaced or a debt booked since leaves them
         * resting on what the bank no longer says */
        if (cli_inputs_changed_warn(ctx, store, window)) {
            if (!stale_ok) {
                return refuse_stale(store);
            }
        }
        if (st == PARUS_OK && cli_season_owed_warn(store, window, "these results", &owed) &&
            !stale_ok) {
            fprintf(stderr,
                    "parus: error: export: season %s is owed an assessment: nothing written; "
                    "assess it first, or export its stored results as they are with "
                    "--stale-ok\n",
                    window);
            parus_store_snapshot_end(store);
            parus_store_close(store);
            return PARUS_EXIT_STALE;
        }
        if (st == PARUS_OK && !owed.stale) {
            /* observations or tiles changed by hand since the limits were written (an owed
             * season is refused above, or written as it is with --stale-ok) */
            bool differs = false;
            st = parus_export_evidence_differs(store, window, &differs, &err);
            if (st == PARUS_OK && differs) {
                fprintf(stderr,
                        "parus: warning: season %s's tiles and observations in the store are not "
                        "those its limits were computed from (added, removed or edited since, "
                        "outside parus's own paths: 'parus verify --season %s' names it); run "
                        "'parus assess --season %s'\n",
                        window, window, window);
                if (!stale_ok) {
                    return refuse_stale(store);
                }
            }
        }
    }
    if (st == PARUS_OK && out)
        st = write_csv(store, window, out, parus_export_farmers_csv, &copt, &n_farmers, &err);
    if (st == PARUS_OK && parcels)
        st = write_csv(store, window, parcels, parus_export_parcels_csv, &copt, &n_parcels, &err);
    if (st == PARUS_OK && gpkg)
        st = parus_export_gpkg(store, window, gpkg, &n_features, &err);
    if (st == PARUS_OK && obs)
        st = write_csv(store, window, obs, parus_export_observations_csv, &copt, &n_obs, &err);
    parus_store_snapshot_end(store);
    parus_store_close(store);
    if (st != PARUS_OK) {
        if (st == PARUS_E_NOT_FOUND)
            parus_error_prefix(&err, "'%s'", cli_db_name(ctx));
        return cli_report(&err);
    }
    if (!ctx->quiet) {
        if (out && strcmp(out, "-") != 0)
            fprintf(stderr, "parus: wrote %zu farmers of season %s to '%s'\n", n_farmers, window,
                    out);
        if (parcels)
            fprintf(stderr, "parus: wrote %zu parcels of season %s to '%s'\n", n_parcels, window,
                    parcels);
        if (gpkg)
            fprintf(stderr, "parus: wrote %zu parcels of season %s to '%s' (layer parcels)\n",
                    n_features, window, gpkg);
        if (obs)
            fprintf(stderr, "parus: wrote %zu observations of season %s to '%s'\n", n_obs, window,
                    obs);
    }
    return PARUS_EXIT_OK;
}

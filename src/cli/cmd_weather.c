/*
 * cmd_weather.c - `parus weather import FILE...` (gridded weather or station records into the
 * store, then each parcel's weights on the grids) and `parus weather info FILE` (what parus sees
 * in a weather file, nothing stored). The reading, checks and storing are parus_weather_* in
 * include/parus/weather.h; this file decides what the user sees and the exit code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/store.h"
#include "parus/weather.h"

#include "cli.h"

static const char usage[] =
    "usage: parus weather import [--unit NAME=UNIT]... [--variable NAME=KIND]... FILE...\n"
    "       parus weather info [--unit NAME=UNIT]... [--variable NAME=KIND]... FILE\n\n"
    "import: store each file's daily weather per grid cell (NetCDF, GRIB, GeoTIFF stack, or a\n"
    "station CSV), then weigh every parcel over the cells of each grid. A file already stored\n"
    "is skipped; a file that cannot be used is refused with its reason and the others go on.\n"
    "info: what parus reads in a file: variables, units, days, grid. Nothing is stored.\n\n"
    "  --unit NAME=UNIT       the unit of the file's variable NAME (K, degC, mm, m, kg m-2 s-1,\n"
    "                         J m-2, W m-2, ...) when its label is missing, unknown or wrong\n"
    "  --variable NAME=KIND   what NAME is: precip, tmin, tmax, tmean, temp (2 m temperature,\n"
    "                         hourly or daily), rad, et0\n\n"
    "Exit codes: 0 all stored, 8 some files refused, 9 nothing new; the input and store codes of\n"
    "docs/cli.md when every file was refused.\n";

#define MAX_STATEMENTS 32

struct args {
    const char *units[MAX_STATEMENTS];
    const char *vars[MAX_STATEMENTS];
    parus_weather_options opt;
    int first; /* the first file */
};

/* Options from argv[2]; 0, -1 after --help, or the usage exit code. */
static int parse(int argc, char **argv, struct args *a)
{
    int i;
    memset(a, 0, sizeof *a);
    for (i = 2; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        bool unit = strcmp(argv[i], "--unit") == 0;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return -1;
        }
        if (!unit && strcmp(argv[i], "--variable") != 0)
            return cli_usage_error("weather", "unknown option '%s'", argv[i]);
        if (i + 1 >= argc || !strchr(argv[i + 1], '=') || argv[i + 1][0] == '=')
            return cli_usage_error("weather", "option '%s' needs NAME=VALUE", argv[i]);
        if ((unit ? a->opt.n_units : a->opt.n_variables) == MAX_STATEMENTS)
            return cli_usage_error("weather", "more than %d of '%s'", MAX_STATEMENTS, argv[i]);
        if (unit) {
            a->units[a->opt.n_units++] = argv[++i];
        } else {
            static const char *const kinds[] = {"precip", "tmin", "tmax", "tmean",
                                                "temp",   "rad",  "et0"};
            const char *kind = strchr(argv[i + 1], '=') + 1;
            size_t k;
            for (k = 0; k < sizeof kinds / sizeof kinds[0] && strcmp(kind, kinds[k]) != 0; k++)
                ;
            if (k == sizeof kinds / sizeof kinds[0])
                return cli_usage_error("weather",
                                       "--variable %s: the kind is precip, tmin, tmax, tmean, "
                                       "temp, rad or et0",
                                       cli_safe(argv[i + 1]));
            a->vars[a->opt.n_variables++] = argv[++i];
        }
    }
    a->opt.units = a->units;
    a->opt.variables = a->vars;
    a->first = i;
    return 0;
}

static int info(const struct args *a, int argc, char **argv)
{
    parus_weather_data d;
    parus_error err;
    char first[11], last[11], gap[11];
    size_t i, n_cells;
    int v;

    if (a->first != argc - 1)
        return cli_usage_error("weather", "info takes one file");
    if (parus_weather_read(argv[a->first], &a->opt, &d, &err) != PARUS_OK)
        return cli_report(&err);
    n_cells = d.width * d.height;
    parus_weather_day_text(d.first_day, first);
    parus_weather_day_text(d.first_day + (int64_t)d.n_days - 1, last);
    printf("file:      %s\nformat:    %s\n", cli_safe(argv[a->first]), d.format);
    if (d.stations)
        printf("stations:  %zu (WGS 84)\n", d.width);
    else
        printf("grid:      %zu x %zu cells, origin (%.6f, %.6f), cell %.6f x %.6f\n", d.width,
               d.height, d.geotransform[0], d.geotransform[3], d.geotransform[1],
               -d.geotransform[5]);
    printf("days:      %s .. %s (%zu, UTC days)\n", first, last, d.n_days);
    if (d.n_gap_days) {
        parus_weather_day_text(d.first_gap_day, gap);
        printf("gaps:      %zu days with no value, the first %s (left missing)\n", d.n_gap_days,
               gap);
    }
    if (d.n_partial_days)
        printf("partial:   %zu days with fewer steps than a whole day (left missing)\n",
               d.n_partial_days);
    for (i = 0; i < d.n_sources; i++) {
        const parus_weather_source *s = &d.sources[i];
        printf("variable:  %s, unit '%s'%s, %zu %s steps", cli_safe(s->name), cli_safe(s->unit),
               s->unit_stated ? " (stated)" : "", s->n_steps,
               s->hourly ? "sub-daily (aggregated to UTC days)" : "daily");
        if (!isnan(s->median_raw))
            printf(", median %.3f", s->median_raw);
        printf("\n");
    }
    if (d.ignored[0])
        printf("ignored:   %s\n", cli_safe(d.ignored));
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
        double sum = 0;
        size_t n = 0, k;
        if (!d.values[v])
            continue;
        for (k = 0; k < d.n_days * n_cells; k++)
            if (!isnan(d.values[v][k])) {
                sum += (double)d.values[v][k];
                n++;
            }
        printf("daily:     %-10s %zu values, mean %.3f\n",
               parus_weather_var_name((parus_weather_var)v), n, n ? sum / (double)n : (double)NAN);
    }
    parus_weather_data_release(&d);
    return PARUS_EXIT_OK;
}

enum outcome { STORED, KNOWN, REFUSED };

/* Days between files that no file covers: said on stderr, they stay missing. */
static int say_span(const parus_weather_span *sp, void *ctx)
{
    (void)ctx;
    if (sp->n_uncovered_days)
        fprintf(stderr,
                "parus: weather grid %lld, %s: %s .. %s, %zu days that no file covers, the first "
                "%s (missing, not filled)\n",
                (long long)sp->grid_id, parus_weather_var_name(sp->var), sp->first_day,
                sp->last_day, sp->n_uncovered_days, sp->first_uncovered);
    return 0;
}

static int import(cli_ctx *ctx, const struct args *a, int argc, char **argv)
{
    parus_store *store;
    parus_error err, first_err;
    parus_weather_weight_stats ws;
    size_t n[3] = {0, 0, 0}, k;
    char summary[256];
    long long run_id;
    int i, rc;

    if (a->first >= argc)
        return cli_usage_error("weather", "no file given");
    rc = cli_open_store(ctx, &store);
    if (rc)
        return rc;
    run_id = cli_run_begin(store, argc, argv);
    parus_error_init(&first_err);
    for (i = a->first; i < argc; i++) {
        parus_weather_import_stats st;
        const char *path = argv[i];
        parus_error_init(&err);
        if (parus_weather_import(store, path, &a->opt, &st, &err) != PARUS_OK) {
            if (!parus_status_is_input_error(err.code) && err.code != PARUS_E_DUPLICATE) {
                /* the store, memory: not this file's fault */
                rc = cli_report(&err);
                cli_run_end(store, run_id, "failed", parus_status_name(err.code));
                parus_store_close(store);
                return rc;
            }
            fprintf(stderr, "parus: refused: %s\n", err.msg);
            if (first_err.code == PARUS_OK)
                first_err = err;
            n[REFUSED]++;
            continue;
        }
        if (st.already) {
            n[KNOWN]++;
            if (!ctx->quiet)
                printf("weather '%s': already stored (same content), nothing stored\n",
                       cli_safe(path));
            continue;
        }
        n[STORED]++;
        if (!ctx->quiet) {
            printf("weather '%s': %s .. %s, %zu values stored on grid %lld", cli_safe(path),
                   st.first_day, st.last_day, st.n_values, (long long)st.grid_id);
            if (st.n_same)
                printf(", %zu already held (equal)", st.n_same);
            printf("\n");
        }
        if (st.n_gap_days)
            fprintf(stderr,
                    "parus: weather '%s': %zu days with no value, the first %s (left "
                    "missing, not filled)\n",
                    cli_safe(path), st.n_gap_days, st.first_gap_day);
    }
    if (parus_store_weather_spans(store, say_span, NULL, &err) != PARUS_OK ||
        parus_weather_weights_update(store, &ws, &err) != PARUS_OK) {
        rc = cli_report(&err);
        cli_run_end(store, run_id, "failed", parus_status_name(err.code));
        parus_store_close(store);
        return rc;
    }
    if (!ctx->quiet && ws.n_grids)
        printf("weights: %zu grids, %zu parcel-grid pairs computed, %zu kept\n", ws.n_grids,
               ws.n_computed, ws.n_kept);
    if (ws.n_uncovered) {
        fprintf(stderr,
                "parus: %zu parcels are covered by no weather grid (no weather values "
                "for them):",
                ws.n_uncovered);
        for (k = 0; k < ws.n_uncovered && k < 5; k++)
            fprintf(stderr, " %s", cli_safe(ws.uncovered[k]));
        fprintf(stderr, "%s\n", ws.n_uncovered > 5 ? " ..." : "");
    }
    snprintf(summary, sizeof summary, "files=%d stored=%zu known=%zu refused=%zu uncovered=%zu",
             argc - a->first, n[STORED], n[KNOWN], n[REFUSED], ws.n_uncovered);
    if (!ctx->quiet)
        printf("weather import: %s\n", summary);
    if (n[REFUSED] && n[REFUSED] == (size_t)(argc - a->first))
        rc = cli_exit_code(first_err.code);
    else if (n[REFUSED])
        rc = PARUS_EXIT_PARTIAL;
    else if (n[STORED])
        rc = PARUS_EXIT_OK;
    else
        rc = PARUS_EXIT_NOTHING_NEW;
    cli_run_end(store, run_id,
                rc == PARUS_EXIT_OK ? "ok"
                : n[REFUSED]        ? "partial"
                                    : "noop",
                summary);
    parus_store_close(store);
    return rc;
}

int cmd_weather(cli_ctx *ctx, int argc, char **argv)
{
    struct args a;
    int rc;
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PARUS_EXIT_USAGE : PARUS_EXIT_OK;
    }
    rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    if (strcmp(argv[1], "import") == 0)
        return import(ctx, &a, argc, argv);
    if (strcmp(argv[1], "info") == 0)
        return info(&a, argc, argv);
    return cli_usage_error("weather", "unknown subcommand '%s' (import or info)", argv[1]);
}

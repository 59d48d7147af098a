/*
 * main.c - the `parus` command: global options, the configuration file, and the command table.
 *
 *   parus [--db FILE] [--config FILE] [--quiet] COMMAND [ARGS...]
 *
 * Global options come before the command. Precedence: built-in defaults, then the configuration
 * file, then the command line. Each command lives in src/cli/cmd_<name>.c and answers --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/config.h"
#include "parus/error.h"
#include "parus/raster.h"

#include "cli_season.h"

static const struct command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"info", cmd_info, "show what parus sees in an imagery tile"},
    {"parcels", cmd_parcels, "load parcels into the store, or show one"},
    {"ingest", cmd_ingest, "measure every parcel on tiles and store the observations"},
    {"store", cmd_store, "show what the store holds"},
    {"nightly", cmd_nightly, "ingest what is new in an inbox (the cron job)"},
    {"evaluate", cmd_evaluate, "cross-validate the crop classifier on labelled samples"},
    {"train", cmd_train, "train the crop classifier (labelled parcels, samples or a CSV)"},
    {"predict", cmd_predict, "score a saved model on a labelled CSV"},
    {"import", cmd_import, "import external per-sample time series (CSV) into the store"},
    {"classify", cmd_classify, "assess the crop of every parcel in a season"},
    {"assess", cmd_assess, "assess a season end to end: crops, condition, value, credit limits"},
    {"export", cmd_export, "write a season's limits and parcels as CSV or GeoPackage"},
    {"query", cmd_query, "show a parcel's or a farmer's season, with a chart"},
};

static void print_help(FILE *out)
{
    size_t i;
    fprintf(out, "usage: parus [--db FILE] [--config FILE] [--quiet] COMMAND [ARGS...]\n"
                 "       parus --version | --help\n\n"
                 "parus turns satellite imagery and land parcels into crop assessments and\n"
                 "per-farmer credit limits.\n\n"
                 "Global options:\n"
                 "  --db FILE      the store (default: parus.db, or [store] db in the config)\n"
                 "  --config FILE  configuration file (INI; docs/cli.md lists its keys)\n"
                 "  -q, --quiet    print only errors\n\n"
                 "Commands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'parus COMMAND --help' describes a command; exit codes are in docs/cli.md.\n");
}

int main(int argc, char **argv)
{
    cli_ctx ctx;
    const char *db = NULL;
    int i;
    size_t c;

    memset(&ctx, 0, sizeof ctx);
    parus_config_init(&ctx.cfg);

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            print_help(stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("parus %s\n", parus_version());
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            ctx.quiet = true;
        } else if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "parus: option '%s' needs a value\nTry 'parus --help'.\n", a);
                return PARUS_EXIT_USAGE;
            }
            if (a[2] == 'd')
                db = argv[++i];
            else
                ctx.config_path = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            db = a + 5;
        } else if (strncmp(a, "--config=", 9) == 0) {
            ctx.config_path = a + 9;
        } else {
            fprintf(stderr, "parus: unknown option '%s'\nTry 'parus --help'.\n", a);
            return PARUS_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return PARUS_EXIT_USAGE;
    }

    if (!getenv("GDAL_CACHEMAX"))
        parus_raster_set_cache_bytes((size_t)16 << 20);
    if (ctx.config_path) {
        parus_error err;
        if (parus_config_load(ctx.config_path, &ctx.cfg, &err) != PARUS_OK)
            return cli_report(&err);
    }
    if (db) {
        if (strlen(db) >= sizeof ctx.cfg.db) {
            fprintf(stderr, "parus: store path is too long\n");
            return PARUS_EXIT_USAGE;
        }
        snprintf(ctx.cfg.db, sizeof ctx.cfg.db, "%s", db);
    }

    for (c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].fn(&ctx, argc - i, argv + i);
    }
    fprintf(stderr, "parus: unknown command '%s'\nTry 'parus --help'.\n", argv[i]);
    return PARUS_EXIT_USAGE;
}

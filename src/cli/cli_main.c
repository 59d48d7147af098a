/*
 * cli_main.c - what both programs behind `parus` share (main.c, the whole tool; launcher.c, the
 * small program that answers `parus query` itself): the global options, the configuration file,
 * the help and the dispatch to a command of a table.
 *
 *   parus [--db FILE] [--config FILE] [--quiet] COMMAND [ARGS...]
 *
 * Global options come before the command. Precedence: built-in defaults, then the configuration
 * file, then the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/config.h"
#include "parus/error.h"

#include "cli.h"

static void print_help(FILE *out, const cli_command *commands, size_t n_commands)
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
    for (i = 0; i < n_commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'parus COMMAND --help' describes a command; exit codes are in docs/cli.md.\n");
}

int cli_command_pos(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0 || strncmp(a, "--db=", 5) == 0 ||
            strncmp(a, "--config=", 9) == 0)
            continue;
        if ((strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            i++;
            continue;
        }
        return 0; /* --help, --version, an unknown option or one without its value */
    }
    return i < argc ? i : 0;
}

int cli_main(int argc, char **argv, const cli_command *commands, size_t n_commands)
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
            print_help(stdout, commands, n_commands);
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
        print_help(stderr, commands, n_commands);
        return PARUS_EXIT_USAGE;
    }

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

    for (c = 0; c < n_commands; c++) {
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].fn(&ctx, argc - i, argv + i);
    }
    fprintf(stderr, "parus: unknown command '%s'\nTry 'parus --help'.\n", argv[i]);
    return PARUS_EXIT_USAGE;
}

/*
 * cli.h - what the subcommands of the `parus` tool share: the context built from the global
 * options and the configuration file, the exit codes, and reporting.
 *
 * The tool uses only the public API (include/parus/). Output for people goes to stdout; errors and
 * progress go to stderr; the exit code says what happened (docs/cli.md lists every one).
 */
#ifndef PARUS_CLI_H
#define PARUS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "parus/classify.h"
#include "parus/config.h"
#include "parus/error.h"
#include "parus/import.h"
#include "parus/store.h"

/* Exit codes: documented in docs/cli.md, appended, never renumbered. */
enum {
    PARUS_EXIT_OK = 0,        /* success */
    PARUS_EXIT_FAILURE = 1,   /* failure not covered below (out of memory, internal) */
    PARUS_EXIT_USAGE = 2,     /* bad command line */
    PARUS_EXIT_INPUT_IO = 3,  /* an input cannot be read */
    PARUS_EXIT_INPUT_BAD = 4, /* an input is readable but unusable (corrupt, no CRS, no date...) */
    PARUS_EXIT_STORE = 5,     /* the store cannot be opened or written */
    PARUS_EXIT_NOT_FOUND = 6, /* the thing asked for is not in the store */
    PARUS_EXIT_CONFIG = 7,    /* bad configuration, crop table or policy */
    PARUS_EXIT_PARTIAL = 8,   /* done, but some items were set aside (see the messages) */
    PARUS_EXIT_NOTHING_NEW = 9, /* nothing to do: every input was already stored */
    PARUS_EXIT_LOCKED = 10,     /* another run holds the store */
    PARUS_EXIT_NO_OVERLAP = 11, /* a tile overlaps no registered parcel */
    PARUS_EXIT_ASSESS = 12,     /* nightly: tiles ingested, but the season's assessment failed */
    PARUS_EXIT_DIFFERS = 13,    /* verify: a stored limit differs from the one re-derived */
    PARUS_EXIT_STALE = 14       /* export: the season is owed an assessment; nothing written */
};

typedef struct cli_ctx {
    parus_config cfg;
    const char *config_path; /* NULL when none */
    bool quiet;
} cli_ctx;

typedef int (*cli_cmd_fn)(cli_ctx *ctx, int argc, char **argv);

/* A command of a program's table: its name, its function, a line for the help. */
typedef struct cli_command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} cli_command;

/* The whole of a program behind `parus` (cli_main.c): the global options, the configuration file,
 * --help (listing the table), --version, then the command of the table named; the exit code. */
int cli_main(int argc, char **argv, const cli_command *commands, size_t n_commands);
/* Where the command word is in argv after the global options; 0 when there is none or when an
 * option is --help, --version, unknown or missing its value (cli_main then says what to say). */
int cli_command_pos(int argc, char **argv);

/* Subcommands (src/cli/cmd_<name>.c). argv[0] is the command name. */
int cmd_info(cli_ctx *ctx, int argc, char **argv);
int cmd_s1(cli_ctx *ctx, int argc, char **argv);
int cmd_parcels(cli_ctx *ctx, int argc, char **argv);
int cmd_ingest(cli_ctx *ctx, int argc, char **argv);
int cmd_store(cli_ctx *ctx, int argc, char **argv);
int cmd_nightly(cli_ctx *ctx, int argc, char **argv);
int cmd_evaluate(cli_ctx *ctx, int argc, char **argv);
int cmd_train(cli_ctx *ctx, int argc, char **argv);
int cmd_predict(cli_ctx *ctx, int argc, char **argv);
int cmd_import(cli_ctx *ctx, int argc, char **argv);
int cmd_assess(cli_ctx *ctx, int argc, char **argv);
int cmd_export(cli_ctx *ctx, int argc, char **argv);
int cmd_query(cli_ctx *ctx, int argc, char **argv);
int cmd_verify(cli_ctx *ctx, int argc, char **argv);
int cmd_weather(cli_ctx *ctx, int argc, char **argv);
int cmd_calibrate(cli_ctx *ctx, int argc, char **argv);

/* The exit code for a library status. */
int cli_exit_code(parus_status code);
/* "parus: error: <message>" on stderr; returns cli_exit_code(err->code). */
int cli_report(const parus_error *err);
/* The store's name (--db) as messages show it: a PostgreSQL password left out. */
const char *cli_db_name(const cli_ctx *ctx);

/* "parus <cmd>: <message>" plus a hint to --help on stderr; returns PARUS_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Text from a user's file (an id, a crop, a file name) for stdout or stderr: control characters
 * escaped (parus_escape_controls), cut at 1023 bytes. The result lives until eight more calls:
 * enough for the arguments of one printf. */
const char *cli_safe(const char *s);

/* Drop from d the declarations of parcels that are not in the store because they were set aside
 * when the parcels were loaded: each named on stderr ("parus: skipped: FILE line N: ...") with
 * why, *n_dropped counting them. A parcel neither stored nor set aside stays in d, and *unknown is
 * the index in d of the first such (d->n when none): the caller refuses the file. Returns 0, or
 * an exit code after a message. */
int cli_drop_set_aside(parus_store *store, const char *path, parus_crop_declarations *d,
                       size_t *n_dropped, size_t *unknown);
/* True when arg is -h or --help. */
bool cli_is_help(const char *arg);
/* The arguments of a command that takes one FILE and options that each take a value, from
 * argv[first]: values[k] is the value of opts[k] (the last one given; NULL when not given) and
 * *path the file (NULL when none). Returns 0; -1 after printing usage for --help (the command
 * exits 0); or the usage exit code after a message (more than one file, an unknown option, an
 * option without its value). */
int cli_file_and_options(const char *cmd, const char *usage, int argc, char **argv, int first,
                         const char *const *opts, size_t n_opts, const char **values,
                         const char **path);
/* Refuse an output that is an input before anything is written: 0 when path (NULL: none) is
 * neither the store (nor its -wal, -shm, -journal, .lock), the configuration file, the tables it
 * names ([tables] crops, policy, debts: the bank's files the limits are computed from, whichever
 * command writes), the nightly log it names (appended to by the nightly job only), nor any of
 * inputs (NULL entries ignored); else a message naming both and PARUS_EXIT_USAGE. */
int cli_check_output(const cli_ctx *ctx, const char *cmd, const char *path,
                     const char *const *inputs, size_t n_inputs);
/* Open (create or migrate) the store named by the context; reports and returns the exit code on
 * failure, 0 on success. */
int cli_open_store(cli_ctx *ctx, parus_store **out);
/* Open the existing store for reading only (parus_store_open_readonly), printing its note (how it
 * was opened) unless quiet; 0, or the exit code after reporting. */
int cli_open_store_readonly(const cli_ctx *ctx, parus_store **out);
/* Record the command line as a run; best effort, 0 when the store refused. */
long long cli_run_begin(parus_store *store, int argc, char **argv);
void cli_run_end(parus_store *store, long long run_id, const char *outcome, const char *summary);
/* JSON output helpers: a quoted, escaped string (NULL as ""), and a number (NaN as null). */
void cli_json_string(FILE *out, const char *s);
void cli_json_number(FILE *out, double v);
/* If argv[*i] is one of the dataset and classifier options (--class-column, --fold-column,
 * --exclude-columns, --phenology-band, --step-days, --no-summaries, --rounds, --threads), apply it
 * (consuming its value) and return 1; return 0 when it is not one; return minus the exit code
 * after a usage message when its value is bad. */
int cli_dataset_option(const char *cmd, int argc, char **argv, int *i, parus_csv_options *copt,
                       parus_classify_options *opt);
/* The help text of the columns that are features (the leak rules) and --include-columns. */
extern const char cli_dataset_columns_help[];
/* Have the CSV reader name each column it leaves out, and why, on stderr. */
void cli_dataset_tell_exclusions(const char *cmd, parus_csv_options *copt);
/* Area in mu from m2. */
double cli_mu(double area_m2);

#endif

/*
 * cli_util.c - shared plumbing of the parus tool: exit codes, error reporting, opening the store
 * and recording runs.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/outfile.h"
#include "parus/parcels.h"
#include "parus/store.h"

#include "cli.h"

int cli_exit_code(parus_status code)
{
    switch (code) {
    case PARUS_OK:
        return PARUS_EXIT_OK;
    case PARUS_E_IO:
        return PARUS_EXIT_INPUT_IO;
    case PARUS_E_FORMAT:
    case PARUS_E_NO_CRS:
    case PARUS_E_NO_DATE:
    case PARUS_E_BANDS:
    case PARUS_E_GEOMETRY:
    case PARUS_E_DUPLICATE:
    case PARUS_E_PROJ:
    case PARUS_E_RANGE:
    case PARUS_E_INVALID:
        return PARUS_EXIT_INPUT_BAD;
    case PARUS_E_STORE:
    case PARUS_E_SCHEMA:
        return PARUS_EXIT_STORE;
    case PARUS_E_BUSY:
        return PARUS_EXIT_LOCKED;
    case PARUS_E_NOT_FOUND:
        return PARUS_EXIT_NOT_FOUND;
    case PARUS_E_CONFIG:
        return PARUS_EXIT_CONFIG;
    case PARUS_E_NOMEM:
    case PARUS_E_INTERNAL:
        break;
    }
    return PARUS_EXIT_FAILURE;
}

int cli_report(const parus_error *err)
{
    fprintf(stderr, "parus: error: %s\n", err->msg[0] ? err->msg : parus_status_text(err->code));
    return cli_exit_code(err->code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char raw[2048], safe[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    fprintf(stderr, "parus %s: %s\nTry 'parus %s --help'.\n", cmd,
            parus_escape_controls(raw, safe, sizeof safe), cmd);
    return PARUS_EXIT_USAGE;
}

const char *cli_safe(const char *s)
{
    static char bufs[8][1024];
    static unsigned next;
    char *buf = bufs[next++ % 8];
    return parus_escape_controls(s, buf, sizeof bufs[0]);
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_file_and_options(const char *cmd, const char *usage, int argc, char **argv, int first,
                         const char *const *opts, size_t n_opts, const char **values,
                         const char **path)
{
    int a;
    size_t o;
    for (o = 0; o < n_opts; o++)
        values[o] = NULL;
    *path = NULL;
    for (a = first; a < argc; a++) {
        if (cli_is_help(argv[a])) {
            fputs(usage, stdout);
            return -1;
        }
        if (argv[a][0] != '-' || !argv[a][1]) {
            if (*path)
                return cli_usage_error(cmd, "more than one file given ('%s', '%s')", *path,
                                       argv[a]);
            *path = argv[a];
            continue;
        }
        for (o = 0; o < n_opts; o++)
            if (strcmp(argv[a], opts[o]) == 0)
                break;
        if (o == n_opts)
            return cli_usage_error(cmd, "unknown option '%s'", argv[a]);
        if (a + 1 >= argc)
            return cli_usage_error(cmd, "option '%s' needs a value", argv[a]);
        values[o] = argv[++a];
    }
    return 0;
}

/* Whether path is one of the files the configuration names for every run (its tables, the
 * nightly log, the season's model): 0 no, else an exit code after a message naming both. */
static int check_configured(const cli_ctx *ctx, const char *cmd, const char *path)
{
    const struct {
        const char *file, *what;
    } named[] = {
        {ctx->cfg.crops, "the configuration's [tables] crops"},
        {ctx->cfg.policy, "the configuration's [tables] policy"},
        {ctx->cfg.debts, "the configuration's [tables] debts"},
        /* the nightly job appends to its own log; every other command would replace it */
        {strcmp(cmd, "nightly") != 0 ? ctx->cfg.log : NULL, "the configuration's [paths] log"},
        /* train --out over it is how a retrained model is put in place; any other output
         * (predictions, an export, a chart) would destroy the model every run reads */
        {strcmp(cmd, "train") != 0 ? ctx->cfg.model : NULL, "the configuration's [season] model"},
    };
    parus_error err;
    size_t i;
    for (i = 0; i < sizeof named / sizeof *named; i++) {
        parus_status st = parus_output_check(path, NULL, &named[i].file, 1, &err);
        if (st == PARUS_OK)
            continue;
        if (st != PARUS_E_INVALID)
            return cli_report(&err);
        fprintf(stderr,
                "parus %s: refusing to write '%s': it is '%s', %s, which this command "
                "would destroy\n",
                cmd, cli_safe(path), cli_safe(named[i].file), named[i].what);
        return PARUS_EXIT_USAGE;
    }
    return 0;
}

int cli_check_output(const cli_ctx *ctx, const char *cmd, const char *path,
                     const char *const *inputs, size_t n_inputs)
{
    const char *config[1] = {ctx->config_path};
    parus_error err;
    parus_status st;
    int rc;

    if (!path)
        return 0;
    if ((rc = check_configured(ctx, cmd, path)) != 0)
        return rc;
    st = parus_output_check(path, ctx->cfg.db, config, 1, &err);
    if (st == PARUS_OK)
        st = parus_output_check(path, NULL, inputs, n_inputs, &err);
    if (st == PARUS_OK)
        return 0;
    if (st != PARUS_E_INVALID)
        return cli_report(&err);
    fprintf(stderr, "parus %s: %s\n", cmd, err.msg);
    return PARUS_EXIT_USAGE;
}

int cli_open_store_readonly(const cli_ctx *ctx, parus_store **out)
{
    parus_error err;
    const char *note;
    if (parus_store_open_readonly(ctx->cfg.db, out, &err) != PARUS_OK)
        return cli_report(&err);
    if ((note = parus_store_note(*out)) && !ctx->quiet)
        fprintf(stderr, "parus: note: %s\n", note);
    return 0;
}

int cli_open_store(cli_ctx *ctx, parus_store **out)
{
    parus_error err;
    const char *note;
    if (parus_store_open(ctx->cfg.db, out, &err) != PARUS_OK)
        return cli_report(&err);
    if ((note = parus_store_note(*out)) && !ctx->quiet)
        fprintf(stderr, "parus: note: %s\n", note);
    return 0;
}

long long cli_run_begin(parus_store *store, int argc, char **argv)
{
    char args[4096];
    size_t used = 0;
    int64_t run_id = 0;
    int i;

    args[0] = '\0';
    for (i = 1; i < argc && used < sizeof args; i++) {
        int n = snprintf(args + used, sizeof args - used, "%s%s", i > 1 ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (parus_store_run_begin(store, argv[0], args, &run_id, NULL) != PARUS_OK)
        return 0;
    return (long long)run_id;
}

void cli_run_end(parus_store *store, long long run_id, const char *outcome, const char *summary)
{
    if (run_id > 0)
        parus_store_run_end(store, (int64_t)run_id, outcome, summary, NULL);
}

double cli_mu(double area_m2)
{
    return area_m2 / PARUS_M2_PER_MU;
}

void cli_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', out);
    for (; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void cli_json_number(FILE *out, double v)
{
    if (v != v || v - v != 0) /* NaN or infinite: JSON has no such numbers */
        fputs("null", out);
    else
        fprintf(out, "%.17g", v);
}

int cli_drop_set_aside(parus_store *store, const char *path, parus_crop_declarations *d,
                       size_t *n_dropped, size_t *unknown)
{
    size_t i, kept = 0;
    *n_dropped = 0;
    *unknown = SIZE_MAX;
    for (i = 0; i < d->n; i++) {
        parus_parcel p;
        parus_error err;
        char why[512];
        bool aside = false;
        parus_status code = parus_store_get_parcel(store, d->parcel_ids[i], &p, &err);
        bool stored = code == PARUS_OK;
        if (stored)
            parus_parcel_release(&p);
        else if (code == PARUS_E_NOT_FOUND)
            code = parus_store_parcel_set_aside(store, d->parcel_ids[i], why, &aside, &err);
        if (code != PARUS_OK)
            return cli_report(&err);
        if (aside) {
            fprintf(stderr,
                    "parus: skipped: '%s' line %zu: parcel '%s' was set aside at load (%s)\n",
                    cli_safe(path), d->lines[i], cli_safe(d->parcel_ids[i]), cli_safe(why));
            free(d->parcel_ids[i]);
            free(d->crops[i]);
            (*n_dropped)++;
            continue;
        }
        if (!stored && *unknown == SIZE_MAX)
            *unknown = kept;
        d->parcel_ids[kept] = d->parcel_ids[i];
        d->crops[kept] = d->crops[i];
        d->lines[kept] = d->lines[i];
        kept++;
    }
    d->n = kept;
    if (*unknown == SIZE_MAX)
        *unknown = kept;
    return 0;
}

const char *cli_db_name(const cli_ctx *ctx)
{
    static char shown[sizeof ctx->cfg.db];
    parus_store_display_name(ctx->cfg.db, shown, sizeof shown);
    return shown;
}

/*
 * cmd_nightly.c - `parus nightly`: the unattended job over an inbox (parus_nightly_run in
 * include/parus/nightly.h; operations in docs/operations.md). This file takes the lock, opens
 * the store and the log, shows progress on a terminal, and turns the run into one exit code.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parus/nightly.h"
#include "parus/store.h"

#include "cli.h"
#include "cli_assess.h"

static const char usage[] =
    "usage: parus nightly [--inbox DIR] [--done DIR] [--quarantine DIR] [--log FILE]\n"
    "                     [--settle SECONDS] [--shard I/N] [--bands MAP] [--no-cloud-mask]\n"
    "                     [--threads N]\n"
    "                     [--season FIRST/LAST] [--assess | --no-assess] [--verbose]\n\n"
    "Ingest every new tile of the inbox (new by content, not by name), oldest acquisition\n"
    "first, one transaction per tile; set unusable tiles aside with a reason file; record the\n"
    "run in the store. Weather files in the inbox (NetCDF, GRIB, a station CSV, a GeoTIFF\n"
    "with VARIABLE metadata) are imported first, as `parus weather import` does, one\n"
    "transaction per file, and set aside like tiles when they cannot be used (a file that\n"
    "needs --unit or --variable: import it by hand). One run at a time per store (lock file\n"
    "STORE.lock). Then, when a season is configured ([season] window, or --season) and it\n"
    "is owed an assessment (a tile of its window was stored by this run, or by an earlier\n"
    "run that was killed or failed before its assessment committed), assess the season end\n"
    "to end as `parus assess` does, with the configured model, crop table, policy and debts.\n\n"
    "  --inbox DIR       where new tiles land (default: [paths] inbox)\n"
    "  --done DIR        move processed tiles here (default: [paths] done; none: they stay)\n"
    "  --quarantine DIR  set unusable tiles aside here (default: [paths] quarantine, else\n"
    "                    INBOX/.quarantine)\n"
    "  --log FILE        append the log here instead of stderr (default: [paths] log)\n"
    "  --settle SECONDS  files changed more recently are still being written (default 60)\n"
    "  --shard I/N       take only the tiles whose fingerprint falls in shard I of N\n"
    "  --bands MAP       band roles of generic files, e.g. red=3,nir=4 (a tile that names its\n"
    "                    own bands keeps them; with --bands it is refused)\n"
    "  --no-cloud-mask   accept optical tiles without a cloud mask ([raster] cloud_mask =\n"
    "                    off: generic ones only; else such a tile is set aside)\n"
    "  --threads N       threads for the kernel (default: [raster] threads, or all cores)\n"
    "  --season W        the season to assess after ingest (default: [season] window)\n"
    "  --assess          assess the season even when it is not owed an assessment\n"
    "  --no-assess       ingest only\n"
    "  --verbose         log entries that are not tiles too\n\n"
    "Exit codes: 0 new tiles or weather stored, or nothing new but the season's owed\n"
    "assessment done (an earlier run was killed or failed), 8 some tiles or weather files set\n"
    "aside, 9 nothing new and nothing\n"
    "owed, 10 another run holds the store, 11 new tiles cover no registered parcel, 12 the\n"
    "season's assessment failed or could not run (the ingest is kept, the season stays owed\n"
    "and the next run tries again; see the log); 3 inbox unreadable, 5 store error (disk\n"
    "full...), 6 no store, 7 bad configuration (docs/operations.md).\n";

struct log_sink {
    FILE *out;
    bool quiet, verbose;
    bool bar;     /* a progress bar is on the terminal's last line */
    bool bar_tty; /* stderr is a terminal and the bar is wanted */
};

static void clear_bar(struct log_sink *s)
{
    if (s->bar) {
        fputs("\r\033[K", stderr);
        s->bar = false;
    }
}

static void log_line(void *ctx, parus_log_level level, const char *line)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct log_sink *s = ctx;
    char now[32];
    time_t t = time(NULL);
    struct tm tm;

    if (level == PARUS_LOG_DEBUG && !s->verbose)
        return;
    if (s->quiet && s->out == stderr && level < PARUS_LOG_WARN)
        return;
    if (!gmtime_r(&t, &tm) || strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(now, sizeof now, "1970-01-01T00:00:00Z");
    if (s->out == stderr)
        clear_bar(s);
    fprintf(s->out, "time=%s level=%s %s\n", now, names[level], line);
    fflush(s->out);
}

static void show_progress(void *ctx, size_t n_done, size_t n_total)
{
    struct log_sink *s = ctx;
    char bar[41];
    size_t k, fill;
    if (!s->bar_tty || n_total == 0)
        return;
    fill = n_done * 40 / n_total;
    for (k = 0; k < 40; k++)
        bar[k] = k < fill ? '=' : ' ';
    bar[40] = '\0';
    fprintf(stderr, "\rnightly [%s] %zu/%zu files %3zu%%", bar, n_done, n_total,
            n_done * 100 / n_total);
    fflush(stderr);
    s->bar = true;
}

/* Crash tests (docs/operations.md, "Testing crash safety"): PARUS_TEST_KILL_AT=N makes the run
 * log every checkpoint and kill itself with SIGKILL at the N-th (0: log them only). Nothing else
 * reads it; a value that is not a number is refused. */
#define KILL_AT_ENV "PARUS_TEST_KILL_AT"
/* "STOP": stop at that checkpoint instead (SIGSTOP), for a test that does something to the
 * world (stops the database server) and then lets the run go on with SIGCONT */
#define KILL_SIGNAL_ENV "PARUS_TEST_KILL_SIGNAL"

struct kill_at {
    struct log_sink *sink;
    unsigned long at, n;
    bool stop; /* SIGSTOP rather than SIGKILL */
};

static void kill_checkpoint(void *ctx, const char *where)
{
    struct kill_at *k = ctx;
    char line[160];
    k->n++;
    snprintf(line, sizeof line, "event=checkpoint n=%lu at=%s%s", k->n, where,
             k->n != k->at ? ""
             : k->stop     ? " note=\"stopping itself (" KILL_AT_ENV ", " KILL_SIGNAL_ENV ")\""
                           : " note=\"killing itself (" KILL_AT_ENV ")\"");
    log_line(k->sink, PARUS_LOG_INFO, line);
    if (k->n == k->at)
        raise(k->stop ? SIGSTOP : SIGKILL);
}

static int take_value(int argc, char **argv, int *i, const char **out)
{
    if (*i + 1 >= argc)
        return cli_usage_error("nightly", "option '%s' needs a value", argv[*i]);
    *out = argv[++*i];
    return 0;
}

/* A PostgreSQL database holds a parus store: PARUS_OK; E_NOT_FOUND for a database without one
 * (a shard given the wrong database), which the run must not lay a store into; else why it
 * cannot be opened. */
static parus_status server_store_exists(const char *db, parus_error *err)
{
    parus_store *probe = NULL;
    parus_status code = parus_store_open_existing(db, &probe, err);
    parus_store_close(probe);
    return code;
}

/* Whether directory dir (resolved) is path's directory or one above it; false when either
 * cannot be resolved (a directory not made yet holds nothing). */
static bool under_dir(const char *dir, const char *path)
{
    char *rd = realpath(dir, NULL), *copy = strdup(path), *slash, *rp = NULL;
    bool under = false;
    if (rd && copy) {
        slash = strrchr(copy, '/');
        if (!slash)
            rp = realpath(".", NULL);
        else if (slash == copy)
            rp = realpath("/", NULL);
        else {
            *slash = '\0';
            rp = realpath(copy, NULL);
        }
    }
    if (rd && rp) {
        size_t n = strlen(rd);
        under = strncmp(rp, rd, n) == 0 && (rp[n] == '\0' || rp[n] == '/' || n == 1);
    }
    free(rd);
    free(copy);
    free(rp);
    return under;
}

static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The inbox is scanned for tiles and every file of it is a tile: the done and quarantine
 * directories are not the inbox (a tile "moved" to it would be renamed there night after night),
 * and the log is in none of them (appended to a tile, it would change the tile's bytes; a log
 * new in the inbox would be quarantined as a bad tile by its own run). */
static int check_dirs(const char *inbox, const char *done, const char *quarantine,
                      const char *log_path)
{
    const char *dirs[] = {inbox, done, quarantine};
    const char *names[] = {"inbox", "done", "quarantine"};
    size_t i;
    if (same_dir(inbox, done))
        return cli_usage_error("nightly",
                               "--done '%s' is the inbox: processed tiles leave the "
                               "inbox for another directory",
                               done);
    if (same_dir(inbox, quarantine))
        return cli_usage_error("nightly",
                               "--quarantine '%s' is the inbox: tiles set aside leave "
                               "the inbox for another directory",
                               quarantine);
    for (i = 0; log_path && i < sizeof dirs / sizeof dirs[0]; i++)
        if (dirs[i] && under_dir(dirs[i], log_path))
            return cli_usage_error("nightly",
                                   "--log '%s' is in the %s directory '%s', among the tiles: "
                                   "give a log file elsewhere",
                                   log_path, names[i], dirs[i]);
    return 0;
}

int cmd_nightly(cli_ctx *ctx, int argc, char **argv)
{
    parus_nightly_options opt;
    parus_nightly_stats st;
    parus_nightly_lock *lock = NULL;
    parus_store *store = NULL;
    parus_error err;
    struct log_sink sink;
    const char *log_path = NULL, *shard = NULL, *v = NULL;
    char args[4096];
    size_t used = 0;
    long dead = 0;
    struct stat sb;
    parus_status code;
    cli_assess_args aargs;
    cli_assess_inputs ain;
    parus_error aerr;
    bool assess_off = false, assess_broken = false;
    struct kill_at kill_at = {NULL, 0, 0, false};
    const char *kill_env = getenv(KILL_AT_ENV);
    int i, rc;

    parus_nightly_options_init(&opt);
    memset(&ain, 0, sizeof ain);
    memset(&aargs, 0, sizeof aargs);
    aargs.threads = -1;
    aargs.full = true;
    aargs.quiet = true; /* the calendar fallback is logged instead */
    memset(&sink, 0, sizeof sink);
    sink.out = stderr;
    sink.quiet = ctx->quiet;
    opt.inbox = ctx->cfg.inbox[0] ? ctx->cfg.inbox : NULL;
    opt.done_dir = ctx->cfg.done[0] ? ctx->cfg.done : NULL;
    opt.quarantine_dir = ctx->cfg.quarantine[0] ? ctx->cfg.quarantine : NULL;
    log_path = ctx->cfg.log[0] ? ctx->cfg.log : NULL;
    opt.band_map = ctx->cfg.bands[0] ? ctx->cfg.bands : NULL;
    opt.band_map_generic_only = opt.band_map != NULL; /* the configuration's: generic tiles */
    opt.n_threads = ctx->cfg.threads;
    opt.no_cloud_mask_generic_ok = ctx->cfg.cloud_mask_off != 0;
    if (ctx->cfg.settle_s >= 0.0)
        opt.settle_s = ctx->cfg.settle_s;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            sink.verbose = true;
        } else if (strcmp(a, "--season") == 0) {
            if ((rc = take_value(argc, argv, &i, &aargs.season)) != 0)
                return rc;
        } else if (strcmp(a, "--assess") == 0) {
            opt.assess_always = true;
        } else if (strcmp(a, "--no-assess") == 0) {
            assess_off = true;
        } else if (strcmp(a, "--inbox") == 0) {
            if ((rc = take_value(argc, argv, &i, &opt.inbox)) != 0)
                return rc;
        } else if (strcmp(a, "--done") == 0) {
            if ((rc = take_value(argc, argv, &i, &opt.done_dir)) != 0)
                return rc;
        } else if (strcmp(a, "--quarantine") == 0) {
            if ((rc = take_value(argc, argv, &i, &opt.quarantine_dir)) != 0)
                return rc;
        } else if (strcmp(a, "--log") == 0) {
            if ((rc = take_value(argc, argv, &i, &log_path)) != 0)
                return rc;
        } else if (strcmp(a, "--no-cloud-mask") == 0) {
            opt.no_cloud_mask_ok = true;
        } else if (strcmp(a, "--bands") == 0) {
            if ((rc = take_value(argc, argv, &i, &opt.band_map)) != 0)
                return rc;
            opt.band_map_generic_only = false;
        } else if (strcmp(a, "--shard") == 0) {
            if ((rc = take_value(argc, argv, &i, &shard)) != 0)
                return rc;
            if (parus_nightly_shard_parse(shard, &opt.shard_index, &opt.shard_count, &err) !=
                PARUS_OK)
                return cli_usage_error("nightly", "%s", err.msg);
        } else if (strcmp(a, "--settle") == 0 || strcmp(a, "--threads") == 0) {
            char *end;
            double x;
            if ((rc = take_value(argc, argv, &i, &v)) != 0)
                return rc;
            errno = 0;
            x = strtod(v, &end);
            if (end == v || *end || errno || x < 0 || x > 1e7 ||
                (a[2] == 't' && (x != (double)(int)x || x > 4096)))
                return cli_usage_error("nightly", "bad value '%s' for '%s'", v, a);
            if (a[2] == 's')
                opt.settle_s = x;
            else
                opt.n_threads = (int)x;
        } else {
            return cli_usage_error("nightly", "unknown %s '%s'",
                                   a[0] == '-' ? "option" : "argument", a);
        }
    }
    if (!opt.inbox || !*opt.inbox)
        return cli_usage_error("nightly", "no inbox given (--inbox DIR or [paths] inbox)");
    if (kill_env) {
        char *end;
        errno = 0;
        kill_at.at = strtoul(kill_env, &end, 10);
        if (!*kill_env || *end || errno || kill_env[0] == '-')
            return cli_usage_error("nightly", "bad value '%s' for %s: a checkpoint number",
                                   kill_env, KILL_AT_ENV);
        kill_at.sink = &sink;
        kill_at.stop = getenv(KILL_SIGNAL_ENV) && strcmp(getenv(KILL_SIGNAL_ENV), "STOP") == 0;
        opt.checkpoint = kill_checkpoint;
        opt.checkpoint_ctx = &kill_at;
    }
    if (assess_off && (opt.assess_always || aargs.season))
        return cli_usage_error("nightly", "--no-assess excludes --assess and --season");
    if (opt.assess_always && !aargs.season && !ctx->cfg.season[0])
        return cli_usage_error("nightly", "--assess needs a season (--season or [season] window)");

    /* the run record keeps the command line as given */
    args[0] = '\0';
    for (i = 1; i < argc && used < sizeof args; i++) {
        int n = snprintf(args + used, sizeof args - used, "%s%s", i > 1 ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    opt.command = "parus nightly";
    opt.args = args;

    code = parus_store_is_server(ctx->cfg.db) ? server_store_exists(ctx->cfg.db, &err)
           : stat(ctx->cfg.db, &sb) == 0      ? PARUS_OK
                                              : PARUS_E_NOT_FOUND;
    if (code != PARUS_OK && code != PARUS_E_NOT_FOUND)
        return cli_report(&err);
    if (code == PARUS_E_NOT_FOUND) {
        fprintf(stderr,
                "parus: error: store '%s' does not exist: load parcels first (parus parcels "
                "load)\n",
                cli_db_name(ctx));
        return PARUS_EXIT_NOT_FOUND;
    }
    if ((rc = check_dirs(opt.inbox, opt.done_dir, opt.quarantine_dir, log_path)) != 0)
        return rc;
    if (log_path) {
        /* appended, never replaced; but never onto the store or a table the run reads */
        const char *inputs[] = {ctx->cfg.crops, ctx->cfg.policy, ctx->cfg.debts, ctx->cfg.model,
                                aargs.crops,    aargs.policy,    aargs.debts,    aargs.model};
        if ((rc = cli_check_output(ctx, "nightly", log_path, inputs, 8)) != 0)
            return rc;
        sink.out = fopen(log_path, "a");
        if (!sink.out) {
            fprintf(stderr, "parus: error: cannot open log '%s': %s\n", log_path, strerror(errno));
            return PARUS_EXIT_INPUT_IO;
        }
    }
    sink.bar_tty = !ctx->quiet && isatty(STDERR_FILENO);
    opt.log = log_line;
    opt.log_ctx = &sink;
    opt.progress = show_progress;
    opt.progress_ctx = &sink;

    /* the assessment's inputs are loaded before the run; a table that cannot be loaded does
     * not stop the ingest, it fails the assessment (exit 12) */
    if (!assess_off && (aargs.season || ctx->cfg.season[0])) {
        opt.season = aargs.season ? aargs.season : ctx->cfg.season;
        aargs.threads = opt.n_threads;
        parus_error_init(&aerr);
        rc = cli_assess_prepare(ctx, "nightly", &aargs, &ain, &aerr);
        if (rc == PARUS_EXIT_USAGE)
            goto out_assess;
        if (rc != 0) {
            char line[PARUS_ERROR_MSG_MAX + 128];
            assess_broken = true;
            snprintf(line, sizeof line,
                     "event=assess outcome=failed stage=inputs error=%s message=\"%s\"",
                     parus_status_name(aerr.code), aerr.msg);
            log_line(&sink, PARUS_LOG_ERROR, line);
        } else {
            opt.assess = &ain.opt;
            if (!ain.model)
                log_line(&sink, PARUS_LOG_WARN,
                         "event=assess note=\"no model: each parcel's crop is its nearest crop "
                         "calendar, low confidence\"");
        }
    }

    /* one nightly run a SQLite store; a server store takes several at once, each tile claimed
     * in the database (parus_store_tile_begin) */
    if (!parus_store_is_server(ctx->cfg.db) &&
        parus_nightly_lock_acquire(ctx->cfg.db, &lock, &dead, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out_assess;
    }
    if (kill_env) {
        char line[160];
        snprintf(line, sizeof line,
                 "event=start note=\"%s=%lu: this run kills itself at that checkpoint (crash "
                 "test)\"",
                 KILL_AT_ENV, kill_at.at);
        log_line(&sink, PARUS_LOG_WARN, line);
    }
    if (dead) {
        char line[128];
        snprintf(line, sizeof line, "event=lock note=\"took over the lock of dead process %ld\"",
                 dead);
        log_line(&sink, PARUS_LOG_WARN, line);
    }
    rc = cli_open_store(ctx, &store);
    if (rc)
        goto out_lock;

    code = parus_nightly_run(store, &opt, &st, &err);
    clear_bar(&sink);
    if (code != PARUS_OK) {
        rc = cli_report(&err);
    } else if ((st.assessed && st.assess_code != PARUS_OK) ||
               (assess_broken && (st.owed || opt.assess_always))) {
        fprintf(stderr,
                "parus: error: the assessment of season %s failed: %s (the season stays owed "
                "an assessment: the next run tries again)\n",
                ain.window[0] ? ain.window : (aargs.season ? aargs.season : ctx->cfg.season),
                st.assessed ? st.assess_error : aerr.msg);
        rc = PARUS_EXIT_ASSESS;
    } else if (st.n_quarantined || st.n_weather_quarantined) {
        rc = PARUS_EXIT_PARTIAL;
    } else if (st.n_stored || st.n_weather_stored) {
        rc = PARUS_EXIT_OK;
    } else if (st.n_no_overlap) {
        rc = PARUS_EXIT_NO_OVERLAP;
    } else if (st.assessed) {
        rc = PARUS_EXIT_OK; /* nothing new, but the season's owed (or asked) assessment is done */
    } else {
        rc = PARUS_EXIT_NOTHING_NEW;
    }
    parus_store_close(store);
out_lock:
    parus_nightly_lock_release(lock);
out_assess:
    cli_assess_release(&ain);
    if (sink.out != stderr)
        fclose(sink.out);
    return rc;
}

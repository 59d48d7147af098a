/*
 * test_support.c - helpers shared by the CMocka suites (see test_support.h).
 */
#define _XOPEN_SOURCE 700
#include "test_support.h"

#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t g_n_skipped;

void parus_test_skip(const char *file, int line)
{
    g_n_skipped++;
    _skip(file, line);
}

int parus_test_exit_status(int n_failed)
{
    if (n_failed != 0)
        return 1;
    if (g_n_skipped > 0) {
        fprintf(stderr, "%zu case(s) skipped: the suite reports itself skipped (exit %d)\n",
                g_n_skipped, PARUS_TEST_SKIPPED);
        return PARUS_TEST_SKIPPED;
    }
    return 0;
}

void parus_test_assert_close(double a, double b, double abs_tol, double rel_tol, const char *sa,
                             const char *sb, const char *file, int line)
{
    double d = fabs(a - b);
    double scale = fmax(fabs(a), fabs(b));
    if (isnan(a) && isnan(b))
        return;
    if (d <= abs_tol || d <= rel_tol * scale)
        return;
    print_error("%s:%d: %s = %.17g and %s = %.17g differ by %.3g (abs tol %.3g, rel tol %.3g)\n",
                file, line, sa, a, sb, b, d, abs_tol, rel_tol);
    _fail(file, line);
}

char *parus_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    char *dir;
    snprintf(tmpl, sizeof tmpl, "%s/parus-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    dir = mkdtemp(tmpl);
    return dir ? strdup(dir) : NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void parus_test_rmtree(const char *path)
{
    if (path && !getenv("PARUS_TEST_KEEP"))
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *parus_test_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int parus_test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (n && fwrite(data, 1, n, f) != n) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

char *parus_test_pg_database(const char *name)
{
    const char *dir = getenv("PARUS_TEST_PG_DIR");
    char info[4200], cmd[8600], *out = NULL;
    FILE *f;
    if (!dir) {
        fprintf(stderr, "no PostgreSQL server: PARUS_TEST_PG_DIR is not set\n");
        return NULL;
    }
    snprintf(info, sizeof info, "%s/data/conninfo", dir);
    f = fopen(info, "r");
    if (!f) {
        fprintf(stderr, "no PostgreSQL server in '%s' (tools/pg-server.sh fixture said why)\n",
                dir);
        return NULL;
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s/tools/pg-server.sh' db '%s/data' '%s'", parus_test_source_dir(),
             dir, name);
    if (parus_test_run(cmd, &out, NULL) != 0)
        fail_msg("cannot create database '%s' on the server in '%s'", name, dir);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* ---- both backends ---- */

const char parus_test_sqlite_only[] = "sqlite-only";

bool parus_test_on_pg(void)
{
    const char *b = getenv("PARUS_TEST_BACKEND");
    return b && strcmp(b, "pg") == 0;
}

/* The database name of store DIR/NAME on the server. */
static void store_db_name(const char *dir, const char *name, char db[64])
{
    const char *base;
    size_t n = 0, i;
    /* "/tmp/parus-test-assess-Ab12Cd" + "parus.db" -> "assess-Ab12Cd.parus": unique while the
     * directory lives, and within PostgreSQL's 63 bytes */
    base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    if (strncmp(base, "parus-test-", 11) == 0)
        base += 11;
    for (i = 0; base[i] && n < 40; i++)
        db[n++] = base[i];
    db[n++] = '.';
    for (i = 0; name[i] && n < 63; i++)
        db[n++] = name[i];
    db[n] = '\0';
    if (n > 3 && strcmp(db + n - 3, ".db") == 0)
        db[n - 3] = '\0';
}

char *parus_test_store(const char *dir, const char *name)
{
    char db[64], *conn;
    if (!parus_test_on_pg())
        return parus_test_path(dir, name);
    store_db_name(dir, name, db);
    conn = parus_test_pg_database(db);
    if (!conn)
        fail_msg("no PostgreSQL server for store '%s'", db);
    return conn;
}

char *parus_test_store_at(const char *dir, const char *name)
{
    char db[64], info[4200], *conn, *p, *out;
    size_t n;
    if (!parus_test_on_pg())
        return parus_test_path(dir, name);
    store_db_name(dir, name, db);
    snprintf(info, sizeof info, "%s/data/conninfo", getenv("PARUS_TEST_PG_DIR"));
    conn = parus_test_read_file(info);
    conn[strcspn(conn, "\n")] = '\0';
    p = strstr(conn, " dbname=");
    if (!p)
        fail_msg("no dbname in '%s'", info);
    *p = '\0';
    n = strlen(conn) + strlen(db) + 32;
    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s dbname=%s", conn, db);
    free(conn);
    return out;
}

/* The database name of a libpq keyword string "... dbname=NAME" (NAME has no spaces here). */
static void dbname_of(const char *conn, char *out, size_t n)
{
    const char *p = strstr(conn, "dbname=");
    size_t len;
    if (!p)
        fail_msg("no dbname in '%s'", conn);
    p += 7;
    len = strcspn(p, " ");
    if (len >= n)
        fail_msg("dbname too long in '%s'", conn);
    memcpy(out, p, len);
    out[len] = '\0';
}

char *parus_test_store_copy(const char *src, const char *dir, const char *name)
{
    char cmd[9000], *dst, *out = NULL, template[64];
    if (!parus_test_on_pg()) {
        dst = parus_test_path(dir, name);
        snprintf(cmd, sizeof cmd,
                 "rm -f '%s' '%s-wal' '%s-shm' '%s-journal' && cp '%s' '%s' && { [ ! -e "
                 "'%s-wal' ] || cp '%s-wal' '%s-wal'; }",
                 dst, dst, dst, dst, src, dst, src, src, dst);
        if (parus_test_run(cmd, NULL, NULL) != 0)
            fail_msg("cannot copy '%s' to '%s'", src, dst);
        return dst;
    }
    /* the new database's name as parus_test_store makes it, from the template */
    dst = parus_test_store_at(dir, name);
    dbname_of(dst, template, sizeof template);
    free(dst);
    {
        char from[64];
        dbname_of(src, from, sizeof from);
        snprintf(cmd, sizeof cmd, "'%s/tools/pg-server.sh' db '%s/data' '%s' '%s'",
                 parus_test_source_dir(), getenv("PARUS_TEST_PG_DIR"), template, from);
    }
    if (parus_test_run(cmd, &out, NULL) != 0)
        fail_msg("cannot copy database '%s' as '%s'", src, template);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* text in single quotes for sh: each ' as '\'' */
static void sh_quote(char *out, size_t cap, const char *text)
{
    size_t o = 0;
    if (cap < 3)
        fail_msg("sh_quote: no room");
    out[o++] = '\'';
    for (; *text; text++) {
        if (o + 5 >= cap)
            fail_msg("sh_quote: '%.40s...' too long", text);
        if (*text == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *text;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

char *parus_test_sql(const char *db, const char *sql)
{
    char *out = NULL, *err = NULL, *cmd, *qdb, *qsql;
    size_t n = 4 * (strlen(db) + strlen(sql)) + 256;
    int rc;
    cmd = malloc(n);
    qdb = malloc(n);
    qsql = malloc(n);
    assert_non_null(cmd);
    assert_non_null(qdb);
    assert_non_null(qsql);
    sh_quote(qdb, n, db);
    sh_quote(qsql, n, sql);
    if (parus_test_on_pg())
        snprintf(cmd, n, "psql -X -q -At -v ON_ERROR_STOP=1 %s -c %s", qdb, qsql);
    else
        snprintf(cmd, n, "sqlite3 -bail %s %s", qdb, qsql);
    rc = parus_test_run(cmd, &out, &err);
    if (rc != 0)
        fail_msg("%s: exit %d: %s", cmd, rc, err ? err : "");
    free(cmd);
    free(qdb);
    free(qsql);
    free(err);
    if (!out)
        out = strdup("");
    assert_non_null(out);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    return out;
}

long long parus_test_sql_count(const char *db, const char *from_where)
{
    char sql[4096], *out;
    long long n;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", from_where);
    out = parus_test_sql(db, sql);
    n = atoll(out);
    free(out);
    return n;
}

int parus_test_run_backend_group(const char *name, const struct CMUnitTest *tests, size_t n,
                                 CMFixtureFunction setup, CMFixtureFunction teardown)
{
    struct CMUnitTest *run;
    size_t i, k = 0;
    int failed;
    if (!parus_test_on_pg())
        return parus_test_exit_status(_cmocka_run_group_tests(name, tests, n, setup, teardown));
    {
        const char *dir = getenv("PARUS_TEST_PG_DIR");
        char info[4200];
        if (!dir) {
            fprintf(stderr, "%s on PostgreSQL: PARUS_TEST_PG_DIR is not set: skipped\n", name);
            return PARUS_TEST_SKIPPED;
        }
        snprintf(info, sizeof info, "%s/data/conninfo", dir);
        if (access(info, R_OK) != 0) {
            fprintf(stderr,
                    "%s on PostgreSQL: no server in '%s' (tools/pg-server.sh fixture said why): "
                    "skipped\n",
                    name, dir);
            return PARUS_TEST_SKIPPED;
        }
    }
    {
        /* the suite's name: the program's */
        FILE *f = fopen("/proc/self/comm", "r");
        static char comm[64];
        if (f && fgets(comm, sizeof comm, f)) {
            comm[strcspn(comm, "\n")] = '\0';
            name = comm;
        }
        if (f)
            fclose(f);
    }
    fprintf(stderr,
            "%s: on PostgreSQL (PARUS_TEST_BACKEND=pg), every store a database of the "
            "server in '%s'\n",
            name, getenv("PARUS_TEST_PG_DIR"));
    run = calloc(n ? n : 1, sizeof *run);
    assert_non_null(run);
    for (i = 0; i < n; i++) {
        if (tests[i].initial_state == (void *)parus_test_sqlite_only) {
            fprintf(stderr, "%s: %s is run on SQLite only\n", name, tests[i].name);
            continue;
        }
        run[k++] = tests[i];
    }
    failed = _cmocka_run_group_tests(name, run, k, setup, teardown);
    free(run);
    return parus_test_exit_status(failed);
}

char *parus_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        fail_msg("cannot read '%s'", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

const char *parus_test_data_dir(const char *entry)
{
    static char buf[4096];
    const char *dir = getenv("PARUS_DATA_DIR");
    struct stat st;
    if (!dir || !*dir)
        dir = getenv("PARUS_TEST_DATA_DIR");
    if (!dir || !*dir) {
        fprintf(stderr, "real data: no directory given (set PARUS_DATA_DIR); skipping\n");
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s%s%s", dir, entry ? "/" : "", entry ? entry : "");
    if (stat(buf, &st) != 0) {
        fprintf(stderr, "real data: '%s' is absent; skipping\n", buf);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s", dir);
    return buf;
}

const char *parus_test_source_dir(void)
{
    const char *dir = getenv("PARUS_SOURCE_DIR");
    return dir && *dir ? dir : ".";
}

static char *slurp(FILE *f)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    if (!buf)
        return NULL;
    rewind(f);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    return buf;
}

int parus_test_run(const char *cmdline, char **out, char **errout)
{
    FILE *fo = tmpfile();
    FILE *fe = tmpfile();
    pid_t pid;
    int status = -1;

    if (!fo || !fe)
        goto out_close;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        goto out_close;
    if (pid == 0) {
        dup2(fileno(fo), STDOUT_FILENO);
        dup2(fileno(fe), STDERR_FILENO);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (out)
        *out = slurp(fo);
    if (errout)
        *errout = slurp(fe);
out_close:
    if (fo)
        fclose(fo);
    if (fe)
        fclose(fe);
    return status;
}

const char *parus_test_bin(void)
{
    const char *b = getenv("PARUS_BIN");
    return b && *b ? b : "parus";
}

const char *parus_test_synth_bin(void)
{
    const char *b = getenv("PARUS_SYNTH");
    return b && *b ? b : "parus-synth";
}

char *parus_test_run_expect(int want_rc, const char *fmt, ...)
{
    char cmd[16000], *out = NULL, *errs = NULL, *all;
    va_list ap;
    int rc;
    size_t n;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = parus_test_run(cmd, &out, &errs);
    if (rc != want_rc)
        fail_msg("`%s` exited %d, expected %d\nstdout:\n%s\nstderr:\n%s", cmd, rc, want_rc,
                 out ? out : "", errs ? errs : "");
    n = (out ? strlen(out) : 0) + (errs ? strlen(errs) : 0) + 1;
    all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s%s", out ? out : "", errs ? errs : "");
    free(out);
    free(errs);
    return all;
}

unsigned char *parus_test_rect_wkb(double x0, double y0, double x1, double y1, size_t *size)
{
    const double xy[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    unsigned char *b = malloc(93), *w = b;
    unsigned v[3] = {3, 1, 5}; /* type Polygon, one ring, five points */
    int i, k;
    assert_non_null(b);
    *w++ = 1;
    for (k = 0; k < 3; k++)
        for (i = 0; i < 4; i++)
            *w++ = (unsigned char)(v[k] >> (8 * i));
    for (k = 0; k < 10; k++) {
        unsigned long long u;
        memcpy(&u, &xy[k], sizeof u);
        for (i = 0; i < 8; i++)
            *w++ = (unsigned char)(u >> (8 * i));
    }
    *size = (size_t)(w - b);
    return b;
}

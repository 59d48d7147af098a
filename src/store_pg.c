/*
 * store_pg.c - the PostgreSQL backend of the store's connection (store_db.h, store_pg.h), on
 * libpq.
 *
 * Statements are prepared on the server once (PQprepare, parameter types left to the server),
 * parameters travel as text (integers in decimal, reals with 17 significant digits, which
 * round-trip every double; NaN as NULL and -0.0 as 0, as SQLite stores them) except blobs, which
 * travel as binary bytea. Results come back as text
 * and are parsed on read; a bytea column is unescaped once per row and column. The rows of one
 * execution are fetched whole at its first step, so that several statements of the connection
 * can be read interleaved, as SQLite allows; a streamed SELECT goes through a cursor, a batch at
 * a time, the next batch asked for (PQsendQuery) as soon as one arrives, so that the server reads
 * it while the caller works through this one (every other command first settles that answer).
 *
 * Errors keep PostgreSQL's message (its first line) and map its SQLSTATE onto SQLite's extended
 * codes: class 23 (integrity) is SQLITE_CONSTRAINT_UNIQUE, _FOREIGNKEY, _CHECK, _NOTNULL or
 * SQLITE_CONSTRAINT, serialization failures, deadlocks
 * and lock timeouts are SQLITE_BUSY, a lost connection or a server shutting down SQLITE_IOERR,
 * out of memory SQLITE_NOMEM, a full disk SQLITE_FULL.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store_pg.h"

/* PostgreSQL's type oids (pg_type.h; stable across versions) */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700
};

static void note_changes(struct parus__pg *pg, PGresult *res);

/* COPY data is sent in blocks of this size */
#define COPY_BLOCK (256 * 1024)

struct parus__pg {
    PGconn *conn;
    /* the statement whose cursor's next FETCH is on its way (fetch_ahead), NULL when none: the
     * server reads the next batch while parus works through the current one */
    struct parus__pg_stmt *ahead_of;
    char err[1024];
    int64_t changes;
    unsigned next_id;    /* names of prepared statements: "p1", "p2", ... */
    unsigned char *copy; /* the COPY block being filled, NULL when no COPY is open */
    size_t copy_n;
    bool closing; /* statements finalized now need no DEALLOCATE */
};

/* Rows a cursor fetches at a time (a SELECT run inside a transaction). */
#define CURSOR_BATCH 10000

struct parus__pg_stmt {
    struct parus__pg *pg;
    char name[24];
    unsigned id;   /* of the names: "p<id>" the statement, "d<id>" its cursor's DECLARE */
    char *sql;     /* the text as PostgreSQL reads it */
    bool select;   /* a SELECT */
    bool stream;   /* a SELECT of many rows: through cursor "c<id>" inside a transaction */
    bool prepared; /* "p<id>" is prepared (at the second run, or when checked) */
    bool declared; /* "d<id>" is prepared */
    unsigned long n_runs;
    bool cursor_open; /* "c<id>" is declared and not yet closed */
    bool cursor_done; /* its last batch was fetched */
    int n_params;
    char **values; /* copies of the bound values, NULL for NULL */
    int *lengths;
    int *formats; /* 0 text, 1 binary (blobs) */
    PGresult *res;
    PGresult *ahead; /* its cursor's next batch, fetched ahead and settled (settle); or NULL */
    int row;         /* the current row, -1 before the first step */
    int n_rows;
    int n_cols;
    unsigned char **blob; /* unescaped bytea of the current row, per column */
    size_t *blob_len;
};

/* Take the answer to a FETCH sent ahead (fetch_ahead) into its statement, so that the
 * connection is free for the next command; an error stays in that answer, for the statement to
 * report when it reads it. */
static void settle(struct parus__pg *pg)
{
    struct parus__pg_stmt *st = pg->ahead_of;
    PGresult *res;
    if (!st)
        return;
    pg->ahead_of = NULL;
    while ((res = PQgetResult(pg->conn)) != NULL) {
        if (!st->ahead)
            st->ahead = res;
        else
            PQclear(res);
    }
}

/* The connection, free for a command (settle). */
static PGconn *conn_ready(struct parus__pg *pg)
{
    settle(pg);
    return pg->conn;
}

/* PostgreSQL's message, its first line without the severity ("ERROR:  "); the lines after it
 * (the query's text with a caret, a hint) are for a terminal, not for a one-line error. */
static void set_err(struct parus__pg *pg, const char *msg)
{
    size_t n;
    if (!msg || !*msg)
        msg = "unknown PostgreSQL error";
    if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    snprintf(pg->err, sizeof pg->err, "%.*s", (int)strcspn(msg, "\n"), msg);
    n = strlen(pg->err);
    while (n > 0 && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' '))
        pg->err[--n] = '\0';
}

/* The SQLite code of a failed result (res may be NULL: the connection's own error). */
static int fail_code(struct parus__pg *pg, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    set_err(pg, res ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
    if (PQstatus(pg->conn) == CONNECTION_BAD)
        return SQLITE_IOERR;
    if (!state)
        return SQLITE_ERROR;
    if (strcmp(state, "23505") == 0) {
        /* a primary key's index is named <table>_pkey (PostgreSQL's default, which the schema
         * keeps): SQLite tells the two apart, and so do the store's callers */
        const char *name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        size_t n = name ? strlen(name) : 0;
        if (n > 5 && strcmp(name + n - 5, "_pkey") == 0)
            return SQLITE_CONSTRAINT_PRIMARYKEY;
        return SQLITE_CONSTRAINT_UNIQUE;
    }
    if (strcmp(state, "23503") == 0)
        return SQLITE_CONSTRAINT_FOREIGNKEY;
    if (strcmp(state, "23514") == 0)
        return SQLITE_CONSTRAINT_CHECK;
    if (strcmp(state, "23502") == 0)
        return SQLITE_CONSTRAINT_NOTNULL;
    if (strncmp(state, "23", 2) == 0)
        return SQLITE_CONSTRAINT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return SQLITE_BUSY;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return SQLITE_IOERR;
    if (strcmp(state, "53200") == 0)
        return SQLITE_NOMEM;
    if (strcmp(state, "53100") == 0)
        return SQLITE_FULL;
    return SQLITE_ERROR;
}

bool parus__pg_conninfo_ok(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    if (!opts)
        return false;
    PQconninfoFree(opts);
    return true;
}

void parus__pg_display(const char *conninfo, char *out, size_t cap)
{
    const char *user = "", *host = "", *port = "", *db = "";
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    if (!opts) {
        snprintf(out, cap, "postgresql://(a connection string libpq cannot read)");
        return;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !*host))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    }
    snprintf(out, cap, "postgresql://%s%s%s%s%s/%s", user, *user ? "@" : "",
             host[0] == '/' ? "[socket]" : host, *port ? ":" : "", port, db);
    PQconninfoFree(opts);
}

/* Whether a connection that failed failed because the server has no database dbname: asked of
 * the same server through its maintenance database "postgres" (the connection string with only
 * the database changed, two seconds at most). False whenever that cannot be told (server down,
 * no rights, no such maintenance database): the failure is then the connection's own. The message
 * of the failed connection is not read for this: the server words it in its own language. Asked
 * only when the failure came within two seconds, an answer of the server's (an unreachable host
 * is not tried twice). */
static bool database_absent(const char *conninfo, const char *dbname)
{
    const char *const keys[] = {"dbname", "dbname", "connect_timeout", NULL};
    const char *const vals[] = {conninfo, "postgres", "2", NULL};
    const char *params[1];
    PGconn *c;
    PGresult *res;
    bool absent = false;
    if (!dbname || !*dbname || strcmp(dbname, "postgres") == 0)
        return false;
    c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK) {
        params[0] = dbname;
        res = PQexecParams(c, "SELECT count(*) FROM pg_database WHERE datname = $1", 1, NULL,
                           params, NULL, NULL, 0);
        absent = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 strcmp(PQgetvalue(res, 0, 0), "0") == 0;
        PQclear(res);
    }
    PQfinish(c);
    return absent;
}

int parus__pg_open(const char *conninfo, bool read_only, struct parus__pg **out, char **errmsg)
{
    struct parus__pg *pg = calloc(1, sizeof *pg);
    struct timespec t0;
    PGresult *res;
    *out = NULL;
    *errmsg = NULL;
    if (!pg)
        return SQLITE_NOMEM;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pg->conn = PQconnectdb(conninfo);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        struct timespec t1;
        bool absent;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        absent = pg->conn &&
                 (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec) < 2.0 &&
                 database_absent(conninfo, PQdb(pg->conn));
        set_err(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
        *errmsg = strdup(pg->err);
        PQfinish(pg->conn);
        free(pg);
        return absent ? SQLITE_NOTFOUND : SQLITE_CANTOPEN;
    }
    /* reals as the shortest text that reads back to the same double (the default since 12;
     * stated so that an older server's setting cannot round them); quiet notices; UTC. Sent as
     * statements, not as the connection's "options": PgBouncer refuses a startup parameter it
     * does not know, and silently drops one it is told to ignore. */
    res = PQexec(pg->conn, read_only ? "SET extra_float_digits = 3; SET client_min_messages = "
                                       "warning; SET TIME ZONE 'UTC'; "
                                       "SET default_transaction_read_only = on"
                                     : "SET extra_float_digits = 3; SET client_min_messages = "
                                       "warning; SET TIME ZONE 'UTC'");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail_code(pg, res);
        PQclear(res);
        *errmsg = strdup(pg->err);
        PQfinish(pg->conn);
        free(pg);
        return SQLITE_CANTOPEN;
    }
    PQclear(res);
    *out = pg;
    return SQLITE_OK;
}

void parus__pg_closing(struct parus__pg *pg)
{
    pg->closing = true;
}

void parus__pg_close(struct parus__pg *pg)
{
    if (!pg)
        return;
    free(pg->copy);
    PQfinish(pg->conn);
    free(pg);
}

int parus__pg_copy_begin(struct parus__pg *pg, const char *sql)
{
    PGresult *res;
    if (pg->copy)
        return SQLITE_MISUSE;
    pg->copy = malloc(COPY_BLOCK);
    if (!pg->copy)
        return SQLITE_NOMEM;
    pg->copy_n = 0;
    res = PQexec(conn_ready(pg), sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = fail_code(pg, res);
        PQclear(res);
        free(pg->copy);
        pg->copy = NULL;
        return rc == SQLITE_OK ? SQLITE_ERROR : rc;
    }
    PQclear(res);
    return SQLITE_OK;
}

static int copy_flush(struct parus__pg *pg)
{
    if (pg->copy_n > 0 &&
        PQputCopyData(conn_ready(pg), (const char *)pg->copy, (int)pg->copy_n) != 1)
        return fail_code(pg, NULL);
    pg->copy_n = 0;
    return SQLITE_OK;
}

int parus__pg_copy_put(struct parus__pg *pg, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (!pg->copy)
        return SQLITE_MISUSE;
    while (n > 0) {
        size_t k = COPY_BLOCK - pg->copy_n < n ? COPY_BLOCK - pg->copy_n : n;
        memcpy(pg->copy + pg->copy_n, p, k);
        pg->copy_n += k;
        p += k;
        n -= k;
        if (pg->copy_n == COPY_BLOCK) {
            int rc = copy_flush(pg);
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    return SQLITE_OK;
}

int parus__pg_copy_end(struct parus__pg *pg, bool ok)
{
    int rc = SQLITE_OK;
    PGresult *res;
    if (!pg->copy)
        return SQLITE_MISUSE;
    if (ok)
        rc = copy_flush(pg);
    if (PQputCopyEnd(conn_ready(pg), ok && rc == SQLITE_OK ? NULL : "abandoned by parus") != 1 &&
        rc == SQLITE_OK)
        rc = fail_code(pg, NULL);
    free(pg->copy);
    pg->copy = NULL;
    while ((res = PQgetResult(conn_ready(pg))) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            note_changes(pg, res);
        else if (rc == SQLITE_OK && ok)
            rc = fail_code(pg, res);
        PQclear(res);
    }
    return ok ? rc : SQLITE_OK;
}

const char *parus__pg_errmsg(struct parus__pg *pg)
{
    return pg->err;
}

int64_t parus__pg_changes(struct parus__pg *pg)
{
    return pg->changes;
}

bool parus__pg_autocommit(struct parus__pg *pg)
{
    return PQtransactionStatus(conn_ready(pg)) == PQTRANS_IDLE;
}

/* the rows an INSERT, UPDATE or DELETE reports it changed; other commands leave the count as
 * it was (SQLite's changes() counts those three only) */
static void note_changes(struct parus__pg *pg, PGresult *res)
{
    const char *cmd = PQcmdStatus(res), *n = PQcmdTuples(res);
    if (strncmp(cmd, "INSERT", 6) != 0 && strncmp(cmd, "UPDATE", 6) != 0 &&
        strncmp(cmd, "DELETE", 6) != 0)
        return;
    pg->changes = n && *n ? strtoll(n, NULL, 10) : 0;
}

static bool result_ok(PGresult *res)
{
    ExecStatusType s = PQresultStatus(res);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

static bool starts_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(s, word, n) == 0 &&
           !(s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'));
}

int parus__pg_exec(struct parus__pg *pg, const char *sql)
{
    int n_params = 0, rc = SQLITE_OK;
    char *text = parus__pg_translate(sql, &n_params);
    PGresult *res;
    const char *p = sql;
    while (*p == ' ' || *p == '\n')
        p++;
    if (starts_word(p, "PRAGMA")) {
        /* SQLite's tuning (mmap_size, cache_size, ...): nothing to do on a server */
        free(text);
        return SQLITE_OK;
    }
    if (!text)
        return SQLITE_NOMEM;
    res = PQexec(conn_ready(pg), text);
    free(text);
    if (!res || !result_ok(res))
        rc = fail_code(pg, res);
    else
        note_changes(pg, res);
    PQclear(res);
    return rc;
}

int64_t parus__pg_last_insert_rowid(struct parus__pg *pg)
{
    PGresult *res = PQexec(conn_ready(pg), "SELECT lastval()");
    int64_t id = 0;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return id;
}

char *parus__pg_translate(const char *sql, int *n_params)
{
    size_t n = strlen(sql), o = 0;
    /* each '?' may become "NOT DISTINCT FROM $" and up to 10 digits */
    char *out = malloc(n * 30 + 1);
    char quote = 0;
    int seq = 0, max = 0;
    const char *p = sql;
    if (!out)
        return NULL;
    while (*p == ' ' || *p == '\n')
        p++;
    if (starts_word(p, "BEGIN")) {
        const char *q = p + 5;
        while (*q == ' ')
            q++;
        if (starts_word(q, "IMMEDIATE") || starts_word(q, "DEFERRED") ||
            starts_word(q, "EXCLUSIVE")) {
            memcpy(out, "BEGIN", 5);
            o = 5;
            p = q + (starts_word(q, "DEFERRED") ? 8 : 9);
        }
    }
    for (; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            out[o++] = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            out[o++] = *p;
        } else if ((p == sql || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '(') &&
                   starts_word(p, "CROSS") && p[5] == ' ' && starts_word(p + 6, "JOIN")) {
            /* SQLite's CROSS JOIN ... ON fixes the loop order of an inner join; PostgreSQL
             * takes no ON after CROSS JOIN and chooses its own order */
            memcpy(out + o, "JOIN", 4);
            o += 4;
            p += 9;
        } else if (*p == '?') {
            int k;
            /* SQLite's "x IS ?" compares NULLs as equal: PostgreSQL's IS NOT DISTINCT FROM */
            if (o >= 8 && strncasecmp(out + o - 8, " IS NOT ", 8) == 0) {
                o -= 4;
                o += (size_t)sprintf(out + o, "DISTINCT FROM ");
            } else if (o >= 4 && strncasecmp(out + o - 4, " IS ", 4) == 0) {
                o += (size_t)sprintf(out + o, "NOT DISTINCT FROM ");
            }
            if (p[1] >= '0' && p[1] <= '9') {
                k = (int)strtol(p + 1, (char **)&p, 10);
                p--;
            } else {
                k = ++seq;
            }
            if (k > max)
                max = k;
            o += (size_t)sprintf(out + o, "$%d", k);
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    *n_params = max;
    return out;
}

/* The columns of table: its primary key's into pk (a comma-separated list), the others that are
 * not generated into rest; false when the catalog cannot be read. */
static bool table_columns(struct parus__pg *pg, const char *table, char *pk, size_t pk_cap,
                          char *rest, size_t rest_cap)
{
    static const char sql[] =
        "SELECT a.attname, COALESCE(a.attnum = ANY(i.indkey), false) FROM pg_attribute a "
        "LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
        "WHERE a.attrelid = CAST($1 AS regclass) AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attgenerated = '' ORDER BY a.attnum";
    const char *params[1] = {table};
    PGresult *res = PQexecParams(conn_ready(pg), sql, 1, NULL, params, NULL, NULL, 0);
    size_t np = 0, nr = 0;
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
    pk[0] = rest[0] = '\0';
    for (int r = 0; ok && r < PQntuples(res); r++) {
        bool key = PQgetvalue(res, r, 1)[0] == 't';
        char *dst = key ? pk : rest;
        size_t *n = key ? &np : &nr, cap = key ? pk_cap : rest_cap;
        int w = snprintf(dst + *n, cap - *n, "%s%s", *n ? "," : "", PQgetvalue(res, r, 0));
        if (w < 0 || (size_t)w >= cap - *n)
            ok = false;
        else
            *n += (size_t)w;
    }
    if (!ok)
        fail_code(pg, res);
    PQclear(res);
    return ok && np > 0;
}

/* Whether the comma-separated list has name. */
static bool list_has(const char *list, const char *name, size_t n)
{
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, name, n) == 0)
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

/* SQLite's "INSERT OR IGNORE INTO t (cols) ..." and "INSERT OR REPLACE INTO t (cols) ..." as
 * PostgreSQL's ON CONFLICT: IGNORE is DO NOTHING; REPLACE updates the row of the same primary key
 * to the new values, and sets the columns the statement does not name back to their defaults,
 * as SQLite's delete-and-insert does. NULL with pg->err set when it cannot be rewritten; sql
 * itself (not a copy) when it is no such statement. */
static char *rewrite_insert_or(struct parus__pg *pg, const char *sql, bool *copied)
{
    const char *p = sql, *table, *cols, *tail;
    bool replace;
    size_t n_table, n_cols;
    char name[64], pk[1024], rest[4096], *out;
    size_t cap, o;

    *copied = false;
    pg->err[0] = '\0';
    while (*p == ' ' || *p == '\n')
        p++;
    if (strncasecmp(p, "INSERT OR REPLACE INTO ", 23) == 0)
        replace = true, p += 23;
    else if (strncasecmp(p, "INSERT OR IGNORE INTO ", 22) == 0)
        replace = false, p += 22;
    else
        return (char *)sql;
    table = p;
    n_table = strcspn(p, " (");
    p += n_table;
    while (*p == ' ')
        p++;
    if (*p != '(' || n_table == 0 || n_table >= sizeof name) {
        set_err(pg, "an INSERT OR form without its column list");
        return NULL;
    }
    cols = ++p;
    n_cols = strcspn(p, ")");
    tail = p + n_cols;
    if (*tail != ')') {
        set_err(pg, "an INSERT OR form without its column list");
        return NULL;
    }
    tail++;
    memcpy(name, table, n_table);
    name[n_table] = '\0';
    if (replace && !table_columns(pg, name, pk, sizeof pk, rest, sizeof rest)) {
        if (!pg->err[0])
            set_err(pg, "INSERT OR REPLACE into a table without a primary key");
        return NULL;
    }
    cap = strlen(sql) + 2 * (replace ? strlen(pk) + 4 * strlen(rest) : 0) + 64;
    out = malloc(cap);
    if (!out)
        return NULL;
    o = (size_t)snprintf(out, cap, "INSERT INTO %s (%.*s)%s ON CONFLICT ", name, (int)n_cols, cols,
                         tail);
    if (!replace) {
        snprintf(out + o, cap - o, "DO NOTHING");
    } else {
        /* the listed columns without spaces, to compare names */
        char listed[4096];
        size_t nl = 0, first = 1;
        for (size_t k = 0; k < n_cols && nl + 1 < sizeof listed; k++)
            if (cols[k] != ' ' && cols[k] != '\n')
                listed[nl++] = cols[k];
        listed[nl] = '\0';
        o += (size_t)snprintf(out + o, cap - o, "(%s) DO ", pk);
        for (const char *c = rest; *c;) {
            size_t k = strcspn(c, ",");
            bool named = list_has(listed, c, k);
            o +=
                (size_t)snprintf(out + o, cap - o, "%s%.*s = %s%.*s", first ? "UPDATE SET " : ", ",
                                 (int)k, c, named ? "EXCLUDED." : "DEFAULT", named ? (int)k : 0, c);
            first = 0;
            c += k + (c[k] == ',');
        }
        if (first)
            snprintf(out + o, cap - o, "NOTHING");
    }
    *copied = true;
    return out;
}

int parus__pg_prepare(struct parus__pg *pg, const char *sql, struct parus__pg_stmt **out)
{
    struct parus__pg_stmt *st;
    int n_params = 0;
    char *text;

    *out = NULL;
    {
        bool copied;
        char *plain = rewrite_insert_or(pg, sql, &copied);
        if (!plain)
            return pg->err[0] ? SQLITE_ERROR : SQLITE_NOMEM;
        text = parus__pg_translate(plain, &n_params);
        if (copied)
            free(plain);
    }
    st = calloc(1, sizeof *st);
    if (!text || !st)
        goto nomem;
    st->pg = pg;
    st->row = -1;
    st->n_params = n_params;
    if (n_params > 0) {
        st->values = calloc((size_t)n_params, sizeof *st->values);
        st->lengths = calloc((size_t)n_params, sizeof *st->lengths);
        st->formats = calloc((size_t)n_params, sizeof *st->formats);
        if (!st->values || !st->lengths || !st->formats)
            goto nomem;
    }
    /* prepared on the server at its second run (parus__pg_step): a statement run once costs
     * one round trip, not two */
    st->id = ++pg->next_id;
    snprintf(st->name, sizeof st->name, "p%u", st->id);
    {
        const char *w = text;
        while (*w == ' ' || *w == '\n' || *w == '(')
            w++;
        st->select = starts_word(w, "SELECT") || starts_word(w, "WITH");
    }
    st->sql = text;
    *out = st;
    return SQLITE_OK;

nomem:
    free(text);
    if (st)
        parus__pg_finalize(st);
    return SQLITE_NOMEM;
}

static void drop_row(struct parus__pg_stmt *st)
{
    for (int c = 0; st->blob && c < st->n_cols; c++) {
        if (st->blob[c])
            PQfreemem(st->blob[c]);
        st->blob[c] = NULL;
    }
}

/* Run a command of the connection's own on what is named after st: "CLOSE c" closes cursor
 * c<id>, "DEALLOCATE p" the statement p<id>. */
static PGresult *own_command(struct parus__pg_stmt *st, const char *command)
{
    char sql[64];
    snprintf(sql, sizeof sql, "%s%u", command, st->id);
    return PQexec(conn_ready(st->pg), sql);
}

/* Let go of the rows stepped through (and their unescaped blobs). */
static void release_rows(struct parus__pg_stmt *st)
{
    drop_row(st);
    free(st->blob);
    free(st->blob_len);
    st->blob = NULL;
    st->blob_len = NULL;
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->n_rows = st->n_cols = 0;
}

void parus__pg_reset(struct parus__pg_stmt *st)
{
    if (st->pg->ahead_of == st)
        settle(st->pg);
    PQclear(st->ahead);
    st->ahead = NULL;
    if (st->cursor_open) {
        /* in a transaction that failed, the cursor is already gone with it */
        if (PQtransactionStatus(conn_ready(st->pg)) == PQTRANS_INTRANS)
            PQclear(own_command(st, "CLOSE c"));
        st->cursor_open = false;
    }
    st->cursor_done = false;
    release_rows(st);
}

void parus__pg_clear_bindings(struct parus__pg_stmt *st)
{
    for (int i = 0; st->values && st->lengths && st->formats && i < st->n_params; i++) {
        free(st->values[i]);
        st->values[i] = NULL;
        st->lengths[i] = 0;
        st->formats[i] = 0;
    }
}

void parus__pg_finalize(struct parus__pg_stmt *st)
{
    if (!st)
        return;
    parus__pg_reset(st);
    parus__pg_clear_bindings(st);
    /* a connection about to close drops its prepared statements itself */
    if (st->name[0] && !st->pg->closing && PQstatus(st->pg->conn) == CONNECTION_OK) {
        if (st->prepared)
            PQclear(own_command(st, "DEALLOCATE p"));
        if (st->declared)
            PQclear(own_command(st, "DEALLOCATE d"));
    }
    free(st->sql);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st);
}

/* Take res as the rows to step through (a whole result, or a cursor's batch). */
static int take_rows(struct parus__pg_stmt *st, PGresult *res)
{
    release_rows(st);
    st->res = res;
    st->n_rows = PQntuples(res);
    st->n_cols = PQnfields(res);
    st->row = -1;
    if (st->n_cols > 0) {
        st->blob = calloc((size_t)st->n_cols, sizeof *st->blob);
        st->blob_len = calloc((size_t)st->n_cols, sizeof *st->blob_len);
        if (!st->blob || !st->blob_len)
            return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

/* The FETCH of the cursor's next batch. */
static void fetch_sql(const struct parus__pg_stmt *st, char *sql, size_t n)
{
    snprintf(sql, n, "FETCH %d FROM c%u", CURSOR_BATCH, st->id);
}

/* Send the FETCH of the cursor's next batch without waiting for it (fetch_batch takes it). A
 * failure to send leaves nothing on its way: fetch_batch then asks again, and reports. */
static void fetch_ahead(struct parus__pg_stmt *st)
{
    char sql[64];
    fetch_sql(st, sql, sizeof sql);
    if (PQsendQuery(conn_ready(st->pg), sql) == 1)
        st->pg->ahead_of = st;
}

/* The cursor's next batch (fetched ahead where it was); the cursor is closed after its last, and
 * the batch after this one is asked for before this one is read. */
static int fetch_batch(struct parus__pg_stmt *st)
{
    char sql[64];
    PGresult *res;
    int rc;
    settle(st->pg);
    if (st->ahead) {
        res = st->ahead;
        st->ahead = NULL;
    } else {
        fetch_sql(st, sql, sizeof sql);
        res = PQexec(st->pg->conn, sql);
    }
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail_code(st->pg, res);
        PQclear(res);
        return rc;
    }
    rc = take_rows(st, res);
    if (rc == SQLITE_OK && PQntuples(res) < CURSOR_BATCH) {
        st->cursor_done = true;
        PQclear(own_command(st, "CLOSE c"));
        st->cursor_open = false;
    } else if (rc == SQLITE_OK) {
        fetch_ahead(st);
    }
    return rc;
}

int parus__pg_check(struct parus__pg_stmt *st)
{
    PGresult *res;
    int rc = SQLITE_OK;
    if (st->prepared)
        return SQLITE_OK;
    res = PQprepare(conn_ready(st->pg), st->name, st->sql, st->n_params, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_code(st->pg, res);
    PQclear(res);
    st->prepared = rc == SQLITE_OK;
    return rc;
}

void parus__pg_stream(struct parus__pg_stmt *st)
{
    st->stream = st->select;
}

/* Prepare the statement's query as cursor "c<id>" ("d<id>"), once. */
static int declare_cursor(struct parus__pg_stmt *st)
{
    size_t n = strlen(st->sql) + 64;
    char *declare = malloc(n), name[24];
    PGresult *res;
    int rc = SQLITE_OK;
    if (!declare)
        return SQLITE_NOMEM;
    snprintf(declare, n, "DECLARE c%u NO SCROLL CURSOR FOR %s", st->id, st->sql);
    snprintf(name, sizeof name, "d%u", st->id);
    res = PQprepare(conn_ready(st->pg), name, declare, st->n_params, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_code(st->pg, res);
    PQclear(res);
    free(declare);
    st->declared = rc == SQLITE_OK;
    return rc;
}

int parus__pg_step(struct parus__pg_stmt *st)
{
    int rc;
    drop_row(st);
    if (!st->res) {
        /* a streamed SELECT inside a transaction goes through its cursor (only there can a
         * cursor live without being held past the transaction); elsewhere its rows come whole */
        bool cursor = st->stream && PQtransactionStatus(conn_ready(st->pg)) == PQTRANS_INTRANS;
        char name[24];
        PGresult *res;
        if (cursor && !st->declared && (rc = declare_cursor(st)) != SQLITE_OK)
            return rc;
        if (!cursor && !st->prepared && st->n_runs > 0 && (rc = parus__pg_check(st)) != SQLITE_OK)
            return rc;
        snprintf(name, sizeof name, "%c%u", cursor ? 'd' : 'p', st->id);
        if (cursor || st->prepared)
            res = PQexecPrepared(conn_ready(st->pg), name, st->n_params,
                                 (const char *const *)st->values, st->lengths, st->formats, 0);
        else
            res = PQexecParams(conn_ready(st->pg), st->sql, st->n_params, NULL,
                               (const char *const *)st->values, st->lengths, st->formats, 0);
        st->n_runs++;
        if (!res || !result_ok(res)) {
            rc = fail_code(st->pg, res);
            PQclear(res);
            return rc;
        }
        if (cursor) {
            PQclear(res);
            st->cursor_open = true;
            st->cursor_done = false;
            rc = fetch_batch(st);
        } else {
            note_changes(st->pg, res);
            rc = take_rows(st, res);
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    if (st->row < st->n_rows)
        st->row++;
    if (st->row == st->n_rows && st->cursor_open && !st->cursor_done && st->n_rows > 0) {
        rc = fetch_batch(st);
        if (rc != SQLITE_OK)
            return rc;
        st->row = 0;
    }
    return st->row < st->n_rows ? SQLITE_ROW : SQLITE_DONE;
}

static int put_value(struct parus__pg_stmt *st, int i, const char *p, size_t n, int format)
{
    char *copy;
    if (i < 1 || i > st->n_params)
        return SQLITE_RANGE;
    copy = malloc(n + 1);
    if (!copy)
        return SQLITE_NOMEM;
    if (n)
        memcpy(copy, p, n);
    copy[n] = '\0';
    free(st->values[i - 1]);
    st->values[i - 1] = copy;
    st->lengths[i - 1] = (int)n;
    st->formats[i - 1] = format;
    return SQLITE_OK;
}

int parus__pg_bind_int64(struct parus__pg_stmt *st, int i, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    return put_value(st, i, text, (size_t)n, 0);
}

int parus__pg_bind_double(struct parus__pg_stmt *st, int i, double v)
{
    char text[32];
    int n;
    if (isnan(v))
        return parus__pg_bind_null(st, i); /* as SQLite, which stores NaN as NULL */
    if (v == 0.0)
        v = 0.0; /* -0.0 too, as SQLite, which keeps a whole REAL as an integer */
    if (isinf(v))
        n = snprintf(text, sizeof text, "%sInfinity", v < 0 ? "-" : "");
    else
        n = snprintf(text, sizeof text, "%.17g", v);
    return put_value(st, i, text, (size_t)n, 0);
}

int parus__pg_bind_null(struct parus__pg_stmt *st, int i)
{
    if (i < 1 || i > st->n_params)
        return SQLITE_RANGE;
    free(st->values[i - 1]);
    st->values[i - 1] = NULL;
    st->lengths[i - 1] = 0;
    st->formats[i - 1] = 0;
    return SQLITE_OK;
}

int parus__pg_bind_text(struct parus__pg_stmt *st, int i, const char *s, size_t n)
{
    if (memchr(s, '\0', n))
        n = strlen(s); /* PostgreSQL text holds no NUL */
    return put_value(st, i, s, n, 0);
}

int parus__pg_bind_blob(struct parus__pg_stmt *st, int i, const void *p, size_t n)
{
    if (n > (size_t)INT32_MAX)
        return SQLITE_TOOBIG;
    return put_value(st, i, p, n, 1);
}

/* the current row's value of column i, NULL when there is none or it is NULL */
static const char *value(struct parus__pg_stmt *st, int i)
{
    if (!st->res || st->row < 0 || st->row >= st->n_rows || i < 0 || i >= st->n_cols ||
        PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

int parus__pg_column_count(struct parus__pg_stmt *st)
{
    return st->res ? PQnfields(st->res) : 0;
}

const char *parus__pg_column_name(struct parus__pg_stmt *st, int i)
{
    return st->res && i >= 0 && i < PQnfields(st->res) ? PQfname(st->res, i) : NULL;
}

int parus__pg_column_type(struct parus__pg_stmt *st, int i)
{
    if (!value(st, i))
        return SQLITE_NULL;
    switch (PQftype(st->res, i)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return SQLITE_INTEGER;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return SQLITE_FLOAT;
    case OID_BYTEA:
        return SQLITE_BLOB;
    default:
        return SQLITE_TEXT;
    }
}

int64_t parus__pg_column_int64(struct parus__pg_stmt *st, int i)
{
    const char *v = value(st, i);
    if (!v)
        return 0;
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    if (PQftype(st->res, i) == OID_FLOAT4 || PQftype(st->res, i) == OID_FLOAT8 ||
        PQftype(st->res, i) == OID_NUMERIC) {
        double d = strtod(v, NULL);
        return isfinite(d) ? (int64_t)d : 0;
    }
    return strtoll(v, NULL, 10);
}

double parus__pg_column_double(struct parus__pg_stmt *st, int i)
{
    const char *v = value(st, i);
    if (!v)
        return 0.0;
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't' ? 1.0 : 0.0;
    return strtod(v, NULL);
}

const unsigned char *parus__pg_column_text(struct parus__pg_stmt *st, int i)
{
    const char *v = value(st, i);
    if (v && PQftype(st->res, i) == OID_BOOL)
        return (const unsigned char *)(v[0] == 't' ? "1" : "0");
    return (const unsigned char *)v;
}

const void *parus__pg_column_blob(struct parus__pg_stmt *st, int i)
{
    const char *v = value(st, i);
    if (!v)
        return NULL;
    if (PQftype(st->res, i) != OID_BYTEA)
        return v;
    if (!st->blob[i]) {
        size_t n = 0;
        st->blob[i] = PQunescapeBytea((const unsigned char *)v, &n);
        st->blob_len[i] = st->blob[i] ? n : 0;
    }
    return st->blob[i];
}

int parus__pg_column_bytes(struct parus__pg_stmt *st, int i)
{
    const char *v = value(st, i);
    if (!v)
        return 0;
    if (PQftype(st->res, i) == OID_BYTEA) {
        parus__pg_column_blob(st, i);
        return (int)st->blob_len[i];
    }
    return PQgetlength(st->res, st->row, i);
}

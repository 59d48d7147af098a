/*
 * store_db.c - the store's SQL connection (store_db.h): SQLite here, PostgreSQL through
 * store_pg.c. Every call is a test of which backend holds the connection and a direct call into
 * it; the SQLite side adds nothing to SQLite's own cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_db.h"
#include "store_pg.h"

struct parus__stmt {
    sqlite3_stmt *lite;
    struct parus__pg_stmt *pg;
};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool parus__db_target_is_pg(const char *target)
{
    const char *eq;
    if (!target)
        return false;
    if (has_prefix(target, "postgresql://") || has_prefix(target, "postgres://"))
        return true;
    /* a libpq keyword string ("host=... dbname=..."): what libpq parses as one; a file name with
     * '=' in it is still a file when a '/' comes before the '=' or libpq does not take it */
    eq = strchr(target, '=');
    if (!eq || memchr(target, '/', (size_t)(eq - target)))
        return false;
    return parus__pg_conninfo_ok(target);
}

parus__db *parus__db_wrap_sqlite(sqlite3 *lite)
{
    parus__db *db = calloc(1, sizeof *db);
    if (db)
        db->lite = lite;
    return db;
}

int parus__db_open_pg(const char *conninfo, bool read_only, parus__db **out, char **errmsg)
{
    parus__db *db = calloc(1, sizeof *db);
    int rc;
    *out = NULL;
    *errmsg = NULL;
    if (!db)
        return SQLITE_NOMEM;
    rc = parus__pg_open(conninfo, read_only, &db->pg, errmsg);
    if (rc != SQLITE_OK) {
        free(db);
        return rc;
    }
    *out = db;
    return SQLITE_OK;
}

void parus__db_close(parus__db *db)
{
    if (!db)
        return;
    if (db->lite)
        sqlite3_close_v2(db->lite);
    if (db->pg)
        parus__pg_close(db->pg);
    free(db);
}

bool parus__db_is_pg(const parus__db *db)
{
    return db->pg != NULL;
}

sqlite3 *parus__db_sqlite(parus__db *db)
{
    return db ? db->lite : NULL;
}

int parus__db_copy_begin(parus__db *db, const char *sql)
{
    return db->pg ? parus__pg_copy_begin(db->pg, sql) : SQLITE_MISUSE;
}

int parus__db_copy_put(parus__db *db, const void *data, size_t n)
{
    return db->pg ? parus__pg_copy_put(db->pg, data, n) : SQLITE_MISUSE;
}

int parus__db_copy_end(parus__db *db, bool ok)
{
    return db->pg ? parus__pg_copy_end(db->pg, ok) : SQLITE_MISUSE;
}

void parus__db_display(const char *conninfo, char *out, size_t cap)
{
    parus__pg_display(conninfo, out, cap);
}

const char *parus__stmt_sql(parus__stmt *st)
{
    return st && st->lite ? sqlite3_sql(st->lite) : NULL;
}

int parus__db_exec(parus__db *db, const char *sql)
{
    if (db->pg)
        return parus__pg_exec(db->pg, sql);
    return sqlite3_exec(db->lite, sql, NULL, NULL, NULL);
}

const char *parus__db_errmsg(parus__db *db)
{
    if (db->pg)
        return parus__pg_errmsg(db->pg);
    return sqlite3_errmsg(db->lite);
}

int64_t parus__db_changes(parus__db *db)
{
    if (db->pg)
        return parus__pg_changes(db->pg);
    return (int64_t)sqlite3_changes64(db->lite);
}

int64_t parus__db_last_insert_rowid(parus__db *db)
{
    if (db->pg)
        return parus__pg_last_insert_rowid(db->pg);
    return (int64_t)sqlite3_last_insert_rowid(db->lite);
}

bool parus__db_autocommit(parus__db *db)
{
    if (db->pg)
        return parus__pg_autocommit(db->pg);
    return sqlite3_get_autocommit(db->lite) != 0;
}

int parus__db_prepare(parus__db *db, const char *sql, bool persistent, parus__stmt **out)
{
    parus__stmt *st = calloc(1, sizeof *st);
    int rc;
    *out = NULL;
    if (!st)
        return SQLITE_NOMEM;
    if (db->pg)
        rc = parus__pg_prepare(db->pg, sql, &st->pg);
    else
        rc = sqlite3_prepare_v3(db->lite, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                                &st->lite, NULL);
    if (rc != SQLITE_OK || (!st->lite && !st->pg)) {
        /* SQLite gives no statement for text with none in it: a caller's error here */
        if (st->lite)
            sqlite3_finalize(st->lite);
        free(st);
        return rc != SQLITE_OK ? rc : SQLITE_MISUSE;
    }
    *out = st;
    return SQLITE_OK;
}

int parus__finalize(parus__stmt *st)
{
    int rc = SQLITE_OK;
    if (!st)
        return SQLITE_OK;
    if (st->pg)
        parus__pg_finalize(st->pg);
    else
        rc = sqlite3_finalize(st->lite);
    free(st);
    return rc;
}

int parus__reset(parus__stmt *st)
{
    if (st->pg) {
        parus__pg_reset(st->pg);
        return SQLITE_OK;
    }
    return sqlite3_reset(st->lite);
}

int parus__clear_bindings(parus__stmt *st)
{
    if (st->pg) {
        parus__pg_clear_bindings(st->pg);
        return SQLITE_OK;
    }
    return sqlite3_clear_bindings(st->lite);
}

int parus__stmt_check(parus__stmt *st)
{
    return st->pg ? parus__pg_check(st->pg) : SQLITE_OK;
}

void parus__db_closing(parus__db *db)
{
    if (db && db->pg)
        parus__pg_closing(db->pg);
}

void parus__stmt_stream(parus__stmt *st)
{
    if (st->pg)
        parus__pg_stream(st->pg);
}

int parus__step(parus__stmt *st)
{
    if (st->pg)
        return parus__pg_step(st->pg);
    return sqlite3_step(st->lite);
}

int parus__bind_int64(parus__stmt *st, int i, int64_t v)
{
    if (st->pg)
        return parus__pg_bind_int64(st->pg, i, v);
    return sqlite3_bind_int64(st->lite, i, (sqlite3_int64)v);
}

int parus__bind_int(parus__stmt *st, int i, int v)
{
    return parus__bind_int64(st, i, v);
}

int parus__bind_double(parus__stmt *st, int i, double v)
{
    if (st->pg)
        return parus__pg_bind_double(st->pg, i, v);
    return sqlite3_bind_double(st->lite, i, v);
}

int parus__bind_null(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_bind_null(st->pg, i);
    return sqlite3_bind_null(st->lite, i);
}

int parus__bind_text(parus__stmt *st, int i, const char *s, int n)
{
    if (!s)
        return parus__bind_null(st, i);
    if (st->pg)
        return parus__pg_bind_text(st->pg, i, s, n < 0 ? strlen(s) : (size_t)n);
    return sqlite3_bind_text(st->lite, i, s, n, SQLITE_TRANSIENT);
}

int parus__bind_blob(parus__stmt *st, int i, const void *p, size_t n)
{
    if (st->pg)
        return parus__pg_bind_blob(st->pg, i, p, n);
    return sqlite3_bind_blob64(st->lite, i, n ? p : "", (sqlite3_uint64)n, SQLITE_TRANSIENT);
}

int parus__column_count(parus__stmt *st)
{
    if (st->pg)
        return parus__pg_column_count(st->pg);
    return sqlite3_column_count(st->lite);
}

const char *parus__column_name(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_name(st->pg, i);
    return sqlite3_column_name(st->lite, i);
}

int parus__column_type(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_type(st->pg, i);
    return sqlite3_column_type(st->lite, i);
}

int64_t parus__column_int64(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_int64(st->pg, i);
    return (int64_t)sqlite3_column_int64(st->lite, i);
}

int parus__column_int(parus__stmt *st, int i)
{
    if (st->pg)
        return (int)parus__pg_column_int64(st->pg, i);
    return sqlite3_column_int(st->lite, i);
}

double parus__column_double(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_double(st->pg, i);
    return sqlite3_column_double(st->lite, i);
}

const unsigned char *parus__column_text(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_text(st->pg, i);
    return sqlite3_column_text(st->lite, i);
}

const void *parus__column_blob(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_blob(st->pg, i);
    return sqlite3_column_blob(st->lite, i);
}

int parus__column_bytes(parus__stmt *st, int i)
{
    if (st->pg)
        return parus__pg_column_bytes(st->pg, i);
    return sqlite3_column_bytes(st->lite, i);
}

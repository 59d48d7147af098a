/*
 * store_db.h - one SQL connection of the store, SQLite or PostgreSQL, behind one small interface
 * that mirrors SQLite's C API (prepare, bind, step, column, reset, finalize). The store's modules
 * speak only this; store_db.c is the SQLite backend and the dispatch, store_pg.c the PostgreSQL
 * backend (libpq). Not part of the public API.
 *
 * The vocabulary is SQLite's: result codes (SQLITE_OK, SQLITE_ROW, SQLITE_DONE, SQLITE_BUSY,
 * SQLITE_CONSTRAINT, ...), column types (SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB,
 * SQLITE_NULL) and parameter markers (?1 or ?) in SQL text. PostgreSQL's errors are mapped onto
 * those codes by their SQLSTATE class, its markers become $N, and its values are read as SQLite
 * would give them (a NULL column is NULL text, 0 and 0.0).
 *
 * Semantics every caller may rely on, on both backends:
 * - a statement's rows may be read while other statements of the same connection run (on
 *   PostgreSQL the rows of one execution are fetched whole at its first step);
 * - text and blob bindings are copied when bound (the caller's buffer may change after);
 * - a column's text or blob stays valid until the statement is stepped, reset or finalized.
 */
#ifndef PARUS_STORE_DB_H
#define PARUS_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

typedef struct parus__db parus__db;
typedef struct parus__stmt parus__stmt;

/* A connection: exactly one of the two is set. */
struct parus__db {
    sqlite3 *lite;
    struct parus__pg *pg;
};

/* True when target names a PostgreSQL database rather than a SQLite file: a postgresql:// or
 * postgres:// URI, or a libpq keyword string ("host=... dbname=..."). */
bool parus__db_target_is_pg(const char *target);

/* Wrap an open SQLite connection (the caller keeps opening it with its flags and pragmas).
 * NULL when out of memory. */
parus__db *parus__db_wrap_sqlite(sqlite3 *lite);
/* Connect to PostgreSQL: SQLITE_OK, or an error code (SQLITE_NOTFOUND: the server has no such
 * database) with *errmsg a malloc'd reason (free it).
 * read_only: every transaction of the connection is read-only (set with its other settings, in
 * the same round trip). */
int parus__db_open_pg(const char *conninfo, bool read_only, parus__db **out, char **errmsg);
/* Close the connection and free it (NULL is fine). */
void parus__db_close(parus__db *db);

bool parus__db_is_pg(const parus__db *db);
/* Run SQL text (several statements allowed) whose rows, if any, are not wanted. */
int parus__db_exec(parus__db *db, const char *sql);
/* The reason of the last failure on this connection ("" when none). */
const char *parus__db_errmsg(parus__db *db);
/* Rows changed by the last INSERT, UPDATE or DELETE. */
int64_t parus__db_changes(parus__db *db);
/* The id the last INSERT gave (SQLite's rowid, PostgreSQL's lastval()). */
int64_t parus__db_last_insert_rowid(parus__db *db);
/* True when no transaction is open. */
bool parus__db_autocommit(parus__db *db);

/* persistent: kept for the connection's life (SQLite's SQLITE_PREPARE_PERSISTENT). */
int parus__db_prepare(parus__db *db, const char *sql, bool persistent, parus__stmt **out);
int parus__finalize(parus__stmt *st);
int parus__reset(parus__stmt *st);
int parus__clear_bindings(parus__stmt *st);
int parus__step(parus__stmt *st);
/* The statement's rows are many (a season's observations, a whole table): on PostgreSQL, inside
 * a transaction, they are fetched in batches through a cursor instead of whole at the first
 * step. Call before the first step; nothing changes on SQLite, which always streams. */
void parus__stmt_stream(parus__stmt *st);
/* Have the backend check the statement now (PostgreSQL prepares a statement at its second run,
 * so that a statement run once costs one round trip: its errors otherwise show at its first
 * step). SQLITE_OK or the reason's code. */
int parus__stmt_check(parus__stmt *st);
/* The connection closes next: its statements may be finalized without telling the server. */
void parus__db_closing(parus__db *db);

int parus__bind_int64(parus__stmt *st, int i, int64_t v);
int parus__bind_int(parus__stmt *st, int i, int v);
int parus__bind_double(parus__stmt *st, int i, double v);
int parus__bind_null(parus__stmt *st, int i);
/* n < 0: up to the terminating NUL */
int parus__bind_text(parus__stmt *st, int i, const char *s, int n);
int parus__bind_blob(parus__stmt *st, int i, const void *p, size_t n);

/* The result's columns: after prepare on SQLite, after the first step on PostgreSQL (also when
 * that step found no row). */
int parus__column_count(parus__stmt *st);
const char *parus__column_name(parus__stmt *st, int i);

int parus__column_type(parus__stmt *st, int i);
int64_t parus__column_int64(parus__stmt *st, int i);
int parus__column_int(parus__stmt *st, int i);
double parus__column_double(parus__stmt *st, int i);
const unsigned char *parus__column_text(parus__stmt *st, int i);
const void *parus__column_blob(parus__stmt *st, int i);
int parus__column_bytes(parus__stmt *st, int i);

/* PostgreSQL's COPY FROM STDIN (SQLITE_MISUSE on SQLite): begin with the COPY statement, put
 * the data in pieces (buffered, sent in blocks), end it (ok false: abandon it, the statement
 * fails). While a COPY is open nothing else may run on the connection. */
int parus__db_copy_begin(parus__db *db, const char *sql);
int parus__db_copy_put(parus__db *db, const void *data, size_t n);
int parus__db_copy_end(parus__db *db, bool ok);

/* A PostgreSQL connection string as messages show it: "postgresql://user@host:port/dbname",
 * libpq's own parse of it, no password. */
void parus__db_display(const char *conninfo, char *out, size_t cap);

/* The SQL text of a SQLite statement (for its query plan); NULL on PostgreSQL. */
const char *parus__stmt_sql(parus__stmt *st);

/* The SQLite connection behind db, NULL on PostgreSQL (what only SQLite has: pragmas, ATTACH,
 * the backup of a file). */
sqlite3 *parus__db_sqlite(parus__db *db);

#endif

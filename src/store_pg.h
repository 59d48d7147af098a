/*
 * store_pg.h - the PostgreSQL backend of store_db.h (store_pg.c, libpq). Only store_db.c calls
 * these; each mirrors the store_db.h function of the same name. Not part of the public API.
 */
#ifndef PARUS_STORE_PG_H
#define PARUS_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct parus__pg;
struct parus__pg_stmt;

/* Whether conninfo is a connection string libpq takes (a URI or keywords it knows). */
bool parus__pg_conninfo_ok(const char *conninfo);
/* conninfo as "postgresql://user@host:port/dbname", from libpq's own parse of it: nothing else
 * of it (a password, options) is shown. */
void parus__pg_display(const char *conninfo, char *out, size_t cap);
/* Connect, and set the connection's settings in one round trip; read_only adds
 * default_transaction_read_only to them. SQLITE_NOTFOUND when the server answers that it has no
 * such database (asked through its "postgres" database), SQLITE_CANTOPEN for any other failure. */
int parus__pg_open(const char *conninfo, bool read_only, struct parus__pg **out, char **errmsg);
void parus__pg_close(struct parus__pg *pg);
int parus__pg_copy_begin(struct parus__pg *pg, const char *sql);
int parus__pg_copy_put(struct parus__pg *pg, const void *data, size_t n);
int parus__pg_copy_end(struct parus__pg *pg, bool ok);
int parus__pg_exec(struct parus__pg *pg, const char *sql);
const char *parus__pg_errmsg(struct parus__pg *pg);
int64_t parus__pg_changes(struct parus__pg *pg);
int64_t parus__pg_last_insert_rowid(struct parus__pg *pg);
bool parus__pg_autocommit(struct parus__pg *pg);

int parus__pg_prepare(struct parus__pg *pg, const char *sql, struct parus__pg_stmt **out);
void parus__pg_finalize(struct parus__pg_stmt *st);
void parus__pg_reset(struct parus__pg_stmt *st);
void parus__pg_clear_bindings(struct parus__pg_stmt *st);
int parus__pg_step(struct parus__pg_stmt *st);
void parus__pg_stream(struct parus__pg_stmt *st);
int parus__pg_check(struct parus__pg_stmt *st);
void parus__pg_closing(struct parus__pg *pg);

int parus__pg_bind_int64(struct parus__pg_stmt *st, int i, int64_t v);
int parus__pg_bind_double(struct parus__pg_stmt *st, int i, double v);
int parus__pg_bind_null(struct parus__pg_stmt *st, int i);
int parus__pg_bind_text(struct parus__pg_stmt *st, int i, const char *s, size_t n);
int parus__pg_bind_blob(struct parus__pg_stmt *st, int i, const void *p, size_t n);

int parus__pg_column_count(struct parus__pg_stmt *st);
const char *parus__pg_column_name(struct parus__pg_stmt *st, int i);
int parus__pg_column_type(struct parus__pg_stmt *st, int i);
int64_t parus__pg_column_int64(struct parus__pg_stmt *st, int i);
double parus__pg_column_double(struct parus__pg_stmt *st, int i);
const unsigned char *parus__pg_column_text(struct parus__pg_stmt *st, int i);
const void *parus__pg_column_blob(struct parus__pg_stmt *st, int i);
int parus__pg_column_bytes(struct parus__pg_stmt *st, int i);

/* SQL text of SQLite's dialect as PostgreSQL reads it: ?N and ? markers become $N (outside
 * quotes), "BEGIN IMMEDIATE" becomes "BEGIN", "CROSS JOIN" "JOIN", "IS ?" "IS NOT DISTINCT FROM $N"
 * (and "IS NOT ?" "IS DISTINCT FROM $N"). malloc'd; NULL when out of
 * memory. *n_params is the highest marker number. */
char *parus__pg_translate(const char *sql, int *n_params);

#endif

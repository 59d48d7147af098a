/*
 * store_bulk.c - an assessment's rows written to PostgreSQL in bulk, and the binder that fills a
 * statement's parameters or such a row alike (store_int.h). A radar tile's observations go the
 * same way (store.c), a tile being one transaction as a season is.
 *
 * An assessment writes a row or two per parcel into assessments, parcel_results (then its credit
 * verdict), parcel_flags and limits: on a county 140,000 parcels, half a million rows. SQLite
 * takes them a statement a row at a few microseconds each; on a server each statement is a round
 * trip and a parse of its parameters, and a season written that way took 10 x SQLite's time
 * (docs/benchmarks.md). So on PostgreSQL the rows of each of those tables are encoded here in
 * COPY's binary format into a buffer of the client's, sent whenever it holds a megabyte with COPY
 * ... FROM STDIN into a temporary table of the session (ON COMMIT DELETE ROWS), and moved into
 * their table by one INSERT ... SELECT each at the season's commit, inside the assessment's one
 * transaction (store_assess.c and store_season.c hold those statements and the checks that
 * stand for the per-row ones). A COPY cannot stay open while the season walk fetches its rows
 * through the same connection, hence the buffer; the walk's cursor lives on the server and does
 * not mind a COPY between two of its fetches.
 *
 * Each row carries a sequence number (the store's, common to all the tables), so that what
 * depends on the order of the calls still does: a credit verdict counts only after its parcel's
 * result, a second assessment of a parcel replaces the first, and a check names the first row
 * that fails it. A row ends with its number; the field count is checked against the table's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* PGCOPY signature, flags, header extension length */
const unsigned char parus__copy_header[19] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                              '\n', 0xff, '\r', '\n', 0};
const unsigned char parus__copy_trailer[2] = {0xff, 0xff};

int parus__copy_finish(parus__db *db, int rc)
{
    if (rc == SQLITE_OK)
        rc = parus__db_copy_put(db, parus__copy_trailer, sizeof parus__copy_trailer);
    if (rc == SQLITE_OK)
        return parus__db_copy_end(db, true);
    parus__db_copy_end(db, false); /* the put's error is the one to say */
    return rc;
}

/* Room for n more bytes in b's buffer. */
static int room(struct parus__bulk *b, size_t n)
{
    unsigned char *grown;
    size_t cap;
    if (b->cap - b->n >= n)
        return SQLITE_OK;
    cap = b->cap ? b->cap : 64 * 1024;
    while (cap - b->n < n) {
        if (cap > SIZE_MAX / 2)
            return SQLITE_NOMEM;
        cap *= 2;
    }
    grown = realloc(b->buf, cap);
    if (!grown)
        return SQLITE_NOMEM;
    b->buf = grown;
    b->cap = cap;
    return SQLITE_OK;
}

/* One field: its length (-1: NULL) and its bytes. */
static void field(struct parus__bulk *b, const void *p, size_t n, bool null)
{
    if (b->rc != SQLITE_OK)
        return;
    if (!null && n > (size_t)INT32_MAX) {
        b->rc = SQLITE_TOOBIG;
        return;
    }
    b->rc = room(b, 4 + (null ? 0 : n));
    if (b->rc != SQLITE_OK)
        return;
    parus__put_be(b->buf + b->n, null ? 0xffffffffu : (uint64_t)n, 4);
    b->n += 4;
    if (!null && n) {
        memcpy(b->buf + b->n, p, n);
        b->n += n;
    }
    b->n_fields++;
}

static void field_int64(struct parus__bulk *b, int64_t v)
{
    unsigned char be[8];
    parus__put_be(be, (uint64_t)v, 8);
    field(b, be, sizeof be, false);
}

void parus__bulk_row(struct parus__bulk *b, const struct parus__bulk_spec *spec)
{
    b->spec = spec;
    b->n_fields = 0;
    b->rc = room(b, 2);
    b->row_at = b->n;
    if (b->rc == SQLITE_OK)
        b->n += 2; /* the field count, written at the row's end */
}

parus_status parus__bulk_send(parus_store *store, struct parus__bulk *b, parus_error *err)
{
    int rc;
    if (b->n == 0)
        return PARUS_OK;
    rc = parus__db_exec(store->db, b->spec->create);
    if (rc == SQLITE_OK)
        rc = parus__db_copy_begin(store->db, b->spec->copy);
    if (rc == SQLITE_OK) {
        rc = parus__db_copy_put(store->db, parus__copy_header, sizeof parus__copy_header);
        if (rc == SQLITE_OK)
            rc = parus__db_copy_put(store->db, b->buf, b->n);
        rc = parus__copy_finish(store->db, rc);
    }
    b->n = 0;
    if (rc != SQLITE_OK && store->open_tile)
        return parus__store_sql_fail(store, rc, err, "cannot send %s of tile %lld to '%s'",
                                     b->spec->what, (long long)store->open_tile, store->path);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot send %s of season %s to '%s'",
                                     b->spec->what, store->open_assess_season, store->path);
    return PARUS_OK;
}

parus_status parus__bulk_row_end(parus_store *store, struct parus__bulk *b, const char *subject,
                                 parus_error *err)
{
    field_int64(b, store->bulk_seq);
    if (b->rc == SQLITE_OK && b->n_fields != b->spec->n_fields) {
        b->n = b->row_at;
        return parus_fail(err, PARUS_E_INTERNAL, "%s of '%s': a row of %d fields for %d",
                          b->spec->what, subject, b->n_fields, b->spec->n_fields);
    }
    if (b->rc != SQLITE_OK) {
        int rc = b->rc;
        b->n = b->row_at; /* the row is dropped; the caller aborts */
        b->rc = SQLITE_OK;
        return parus_fail(err, rc == SQLITE_NOMEM ? PARUS_E_NOMEM : PARUS_E_INVALID,
                          "cannot keep %s of '%s' for '%s': %s", b->spec->what, subject,
                          store->path, sqlite3_errstr(rc));
    }
    parus__put_be(b->buf + b->row_at, (uint64_t)b->n_fields, 2);
    store->bulk_seq++;
    b->n_rows++;
    if (b->n >= store->bulk_send_bytes)
        return parus__bulk_send(store, b, err);
    return PARUS_OK;
}

void parus__bulk_discard(parus_store *store)
{
    for (size_t k = 0; k < PARUS__BULK_N; k++) {
        store->bulk[k].n = 0;
        store->bulk[k].n_rows = 0;
        store->bulk[k].rc = SQLITE_OK;
    }
}

void parus__bulk_release(parus_store *store)
{
    for (size_t k = 0; k < PARUS__BULK_N; k++) {
        free(store->bulk[k].buf);
        memset(&store->bulk[k], 0, sizeof store->bulk[k]);
    }
    free(store->radar_in.buf);
    memset(&store->radar_in, 0, sizeof store->radar_in);
}

int parus__bulk_first(parus_store *store, const char *sql, char *out, size_t cap)
{
    parus__stmt *st = NULL;
    int rc = parus__db_prepare(store->db, sql, false, &st);
    out[0] = '\0';
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)parus__column_text(st, 0);
        snprintf(out, cap, "%s", t ? t : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    return rc;
}

int parus__bulk_run(parus_store *store, const char *sql)
{
    parus__stmt *st = NULL;
    int rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    parus__finalize(st);
    return rc;
}

/* ---- the binder ---- */

void parus__b_text(parus__binder *b, const char *s)
{
    b->i++;
    if (b->bulk)
        field(b->bulk, s, s ? strlen(s) : 0, !s);
    else if (b->rc == SQLITE_OK)
        b->rc = s ? parus__bind_text(b->st, b->i, s, -1) : parus__bind_null(b->st, b->i);
}

void parus__b_real(parus__binder *b, double v)
{
    b->i++;
    if (b->bulk) {
        uint64_t bits;
        unsigned char be[8];
        if (v == 0.0)
            v = 0.0; /* -0.0 too, as SQLite, which keeps a whole REAL as an integer */
        memcpy(&bits, &v, sizeof bits);
        parus__put_be(be, bits, 8);
        field(b->bulk, be, sizeof be, isnan(v));
    } else if (b->rc == SQLITE_OK) {
        b->rc = isnan(v) ? parus__bind_null(b->st, b->i) : parus__bind_double(b->st, b->i, v);
    }
}

void parus__b_int(parus__binder *b, int64_t v)
{
    b->i++;
    if (b->bulk)
        field_int64(b->bulk, v);
    else if (b->rc == SQLITE_OK)
        b->rc = parus__bind_int64(b->st, b->i, v);
}

void parus__b_null(parus__binder *b)
{
    b->i++;
    if (b->bulk)
        field(b->bulk, NULL, 0, true);
    else if (b->rc == SQLITE_OK)
        b->rc = parus__bind_null(b->st, b->i);
}

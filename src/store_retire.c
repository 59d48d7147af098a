/*
 * store_retire.c - parcels retired from the registry (schema 20, parcel_retirements).
 *
 * A load adds and updates and never removes a parcel: its observations, results and changes stay
 * for the audit. A parcel the bank no longer lends on (sold, its contract ended, gone from a
 * registry sent whole) is retired instead: a row here, written in the transaction of the load or
 * of `parus parcels retire`; the table's triggers (store_schema.c, store_pg_schema.c) make every
 * season whose results rest on it owed an assessment, however the row was written; the
 * assessment then holds it (reason RETIRED, no value). A load that holds the parcel again
 * reinstates it (the row goes, the seasons are owed again).
 *
 * The work is a walk in C over two sorted id lists (the store's and the file's), not SQL over a
 * temporary table of the file's ids: a registry of a few hundred thousand parcels would be that
 * many single-row inserts on a server store, and the retired parcels are few.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every id of sql's first column, sorted, into *out (malloc'ed strings). */
static int read_ids(parus_store *store, const char *sql, char ***out, size_t *n_out)
{
    parus__stmt *st;
    char **ids = NULL;
    size_t n = 0, cap = 0;
    int rc = parus__db_prepare(store->db, sql, false, &st);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *id = (const char *)parus__column_text(st, 0);
        if (n == cap) {
            size_t c = cap ? 2 * cap : 256;
            char **g = realloc(ids, c * sizeof *g);
            if (!g) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = g;
            cap = c;
        }
        if (!(ids[n] = parus__strdup(id ? id : ""))) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    parus__finalize(st);
    if (rc != SQLITE_OK) {
        while (n)
            free(ids[--n]);
        free(ids);
        return rc;
    }
    if (n > 1)
        qsort(ids, n, sizeof *ids, cmp_str);
    *out = ids;
    *n_out = n;
    return SQLITE_OK;
}

static void free_ids(char **ids, size_t n)
{
    while (n)
        free(ids[--n]);
    free(ids);
}

static int run_id_stmt(parus_store *store, const char *sql, const char *id, const char *now,
                       const char *source)
{
    parus__stmt *st;
    int rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, id, -1);
    if (rc == SQLITE_OK && now)
        rc = parus__bind_text(st, 2, now, -1);
    if (rc == SQLITE_OK && source)
        rc = parus__bind_text(st, 3, source, -1);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    parus__finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int retire_one(parus_store *store, const char *id, const char *now, const char *source)
{
    int rc = run_id_stmt(store,
                         "INSERT INTO parcel_retirements (parcel_id, retired_at, source) VALUES "
                         "(?1, ?2, ?3)",
                         id, now, source);
    return rc; /* the seasons resting on it are owed by the table's trigger */
}

parus_status parus__store_retire_in_load(parus_store *store, const parus_parcel_set *set,
                                         const char *source, const char *now, bool whole,
                                         parus_parcel_load_stats *st, parus_error *err)
{
    char **retired = NULL, **stored = NULL;
    const char **mine = NULL;
    size_t n_retired = 0, n_stored = 0, i, j;
    int rc;

    rc = read_ids(store, "SELECT parcel_id FROM parcel_retirements", &retired, &n_retired);
    if (rc == SQLITE_OK && whole)
        rc = read_ids(store, "SELECT id FROM parcels", &stored, &n_stored);
    if (rc != SQLITE_OK || (n_retired == 0 && !whole))
        goto out;
    mine = malloc((set->n_parcels ? set->n_parcels : 1) * sizeof *mine);
    if (!mine) {
        rc = SQLITE_NOMEM;
        goto out;
    }
    for (i = 0; i < set->n_parcels; i++)
        mine[i] = set->parcels[i].id;
    if (set->n_parcels > 1)
        qsort(mine, set->n_parcels, sizeof *mine, cmp_str);
    /* in the file and retired: reinstated */
    for (i = 0, j = 0; rc == SQLITE_OK && i < n_retired && j < set->n_parcels;) {
        int c = strcmp(retired[i], mine[j]);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            rc = run_id_stmt(store, "DELETE FROM parcel_retirements WHERE parcel_id = ?1",
                             retired[i], NULL, NULL); /* owes its seasons (the trigger) */
            st->n_reinstated++;
            i++;
            j++;
        }
    }
    /* a registry sent whole: stored, not in the file, not yet retired: retired */
    for (i = 0, j = 0; rc == SQLITE_OK && whole && i < n_stored; i++) {
        while (j < set->n_parcels && strcmp(mine[j], stored[i]) < 0)
            j++;
        if (j < set->n_parcels && strcmp(mine[j], stored[i]) == 0)
            continue;
        if (n_retired && bsearch(&stored[i], retired, n_retired, sizeof *retired, cmp_str))
            continue;
        rc = retire_one(store, stored[i], now, source);
        st->n_retired++;
    }
    /* absent and lent on: the parcels retired before (not reinstated) or now are not */
    if (rc == SQLITE_OK) {
        size_t still = n_retired - st->n_reinstated + st->n_retired;
        st->n_absent = st->n_absent > still ? st->n_absent - still : 0;
    }
out:
    free(mine);
    free_ids(retired, n_retired);
    free_ids(stored, n_stored);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot record the parcels retired in '%s'",
                                     store->path);
    return PARUS_OK;
}

parus_status parus_store_retire_parcels(parus_store *store, const char *const *ids, size_t n,
                                        const char *source, size_t *n_retired, parus_error *err)
{
    parus_status code;
    char now[32];
    size_t i, k = 0;
    int rc = SQLITE_OK;

    if (!store || (n && !ids) || !source)
        return parus_fail(err, PARUS_E_INVALID, "retire: missing store, ids or source");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    parus__store_utc_now(now);
    code = parus__store_tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    for (i = 0; i < n && code == PARUS_OK; i++) {
        int64_t known = 0, already = 0;
        parus__stmt *st;
        rc = parus__db_prepare(store->db,
                               "SELECT (SELECT count(*) FROM parcels WHERE id = ?1), (SELECT "
                               "count(*) FROM parcel_retirements WHERE parcel_id = ?1)",
                               false, &st);
        if (rc == SQLITE_OK)
            rc = parus__bind_text(st, 1, ids[i], -1);
        if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
            known = parus__column_int64(st, 0);
            already = parus__column_int64(st, 1);
            rc = SQLITE_OK;
        }
        parus__finalize(st);
        if (rc != SQLITE_OK)
            code = parus__store_sql_fail(store, rc, err, "cannot retire parcel '%s' in '%s'",
                                         ids[i], store->path);
        else if (!known)
            code = parus_fail(err, PARUS_E_NOT_FOUND, "parcel '%s' is not in '%s'", ids[i],
                              store->path);
        else if (!already) {
            rc = retire_one(store, ids[i], now, source);
            if (rc != SQLITE_OK)
                code = parus__store_sql_fail(store, rc, err, "cannot retire parcel '%s' in '%s'",
                                             ids[i], store->path);
            k++;
        }
    }
    if (code != PARUS_OK) {
        parus__store_tx_rollback(store);
        return code;
    }
    code = parus__store_tx_commit(store, err);
    if (code == PARUS_OK && n_retired)
        *n_retired = k;
    return code;
}

parus_status parus_store_retired_foreach(parus_store *store, parus_retired_fn fn, void *ctx,
                                         parus_error *err)
{
    parus__stmt *st;
    parus_status code;
    int rc;

    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "retired_foreach: missing store or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    rc = parus__db_prepare(store->db,
                           "SELECT parcel_id, retired_at, source FROM parcel_retirements ORDER BY "
                           "parcel_id",
                           false, &st);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *id = (const char *)parus__column_text(st, 0);
        const char *at = (const char *)parus__column_text(st, 1);
        const char *src = (const char *)parus__column_text(st, 2);
        if (fn(id ? id : "", at ? at : "", src ? src : "", ctx) != 0) {
            parus__finalize(st);
            return parus_fail(err, PARUS_E_INTERNAL, "retired_foreach: stopped");
        }
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot read the retired parcels of '%s'",
                                     store->path);
    return PARUS_OK;
}

/*
 * store_overlap_read.c - the walk over the stored parcel_overlaps rows, for query and
 * `parcels show`.
 *
 * Kept apart from store_overlap.c, which finds the overlaps with GEOS through OGR: the query
 * launcher (src/cli/launcher.c) links only what it calls, and must not pull GDAL in.
 */
#include "parus/parcels.h"
#include "store_int.h"

parus_status parus_store_overlaps_foreach(parus_store *store, const char *parcel_id,
                                          parus_overlap_visit_fn fn, void *ctx, size_t *n_visited,
                                          parus_error *err)
{
    static const char all[] = "SELECT parcel_a, parcel_b, farmer_a, farmer_b, overlap_m2, "
                              "share_a, share_b FROM parcel_overlaps ORDER BY parcel_a, parcel_b";
    static const char one[] = "SELECT parcel_a, parcel_b, farmer_a, farmer_b, overlap_m2, "
                              "share_a, share_b FROM parcel_overlaps WHERE parcel_a = ?1 OR "
                              "parcel_b = ?1 ORDER BY parcel_a, parcel_b";
    parus__stmt *st;
    size_t n = 0;
    int rc;

    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "overlaps_foreach: missing store or function");
    if (store->version < 11)
        return parus_fail(err, PARUS_E_SCHEMA,
                          "'%s' has schema version %d, older than this parus (%d): run 'parus "
                          "--db %s store upgrade'",
                          store->path, store->version, PARUS_STORE_SCHEMA_VERSION, store->path);
    rc = parus__db_prepare(store->db, parcel_id ? one : all, false, &st);
    if (rc == SQLITE_OK && parcel_id)
        rc = parus__bind_text(st, 1, parcel_id, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        parus_overlap o;
        o.parcel_a = (const char *)parus__column_text(st, 0);
        o.parcel_b = (const char *)parus__column_text(st, 1);
        o.farmer_a = (const char *)parus__column_text(st, 2);
        o.farmer_b = (const char *)parus__column_text(st, 3);
        o.overlap_m2 = parus__column_double(st, 4);
        o.share_a = parus__column_double(st, 5);
        o.share_b = parus__column_double(st, 6);
        n++;
        rc = SQLITE_OK;
        if (fn(&o, ctx)) {
            parus__finalize(st);
            return parus_fail(err, PARUS_E_INTERNAL, "the walk over the overlaps stopped");
        }
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot read the overlaps of '%s'",
                                     store->path);
    if (n_visited)
        *n_visited = n;
    return PARUS_OK;
}

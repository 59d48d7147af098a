/*
 * store_overlap.c - land pledged twice: pairs of stored parcels whose land overlaps, found and
 * kept in the parcel_overlaps table.
 *
 * Workload: every parcel of a store (up to a few hundred thousand small farm polygons), after each
 * load and before each assessment. Candidates come from the store's parcel R-tree (one box query
 * per parcel, for the parcels registered after it, so each pair is looked at once: O(n log n), not
 * O(n^2)); a candidate pair whose bounding boxes share no area (neighbours with a common edge) or
 * whose common box is too small to hold the minimum share is dropped without any geometry. Only the
 * rest are intersected exactly, by GEOS through OGR (OGR_G_Intersection), and the polygonal part of
 * the intersection is measured with the same geodesic area as the parcels (Karney's algorithm on
 * the WGS84 ellipsoid), so a share is common area over the parcel's own stored area.
 *
 * Assumptions: parcels are valid (the load made them so) and small next to the Earth, so GEOS's
 * planar intersection in lon/lat is exact up to the curvature of a parcel's edges (millimetres).
 * A shared edge or a vertex gives a line or a point, never area; survey slivers stay below the
 * share. Single-threaded; the WKB of a parcel is read and parsed at most once per call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "parus/parcels.h"
#include "store_int.h"
#include "util_int.h"

#define EARTH_A_M 6378137.0
#define DEG_RAD (3.14159265358979323846 / 180.0)

typedef struct ov_parcel {
    int64_t num;
    char *id;
    char *farmer; /* NULL none */
    double area_m2;
    double lon_min, lat_min, lon_max, lat_max;
    OGRGeometryH geom; /* parsed on first need */
} ov_parcel;

typedef struct ov_pair {
    size_t a, b; /* indices into the parcels, a registered first */
    double overlap_m2;
} ov_pair;

typedef struct ov_state {
    parus_store *store;
    ov_parcel *p;
    size_t n, cap;
    ov_pair *pairs;
    size_t n_pairs, cap_pairs;
    parus__stmt *wkb_st;
    parus_error *err;
} ov_state;

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t new_cap, bytes;
    void *q;
    if (need <= *cap)
        return true;
    new_cap = *cap ? *cap : 64;
    while (new_cap < need)
        if (!parus__mul_size(new_cap, 2, &new_cap))
            return false;
    if (!parus__mul_size(new_cap, elem, &bytes) || !(q = realloc(*arr, bytes)))
        return false;
    *arr = q;
    *cap = new_cap;
    return true;
}

static char *dup_col(parus__stmt *st, int col)
{
    const unsigned char *t = parus__column_text(st, col);
    return t ? parus__strdup((const char *)t) : NULL;
}

/* The parcels lent on: a retired one (schema 20) claims no land, so its partner is neither held
 * nor halved for it, and under `first` it takes nothing from a parcel registered after it. */
static parus_status read_parcels(ov_state *s)
{
    static const char sql[] = "SELECT num, id, farmer_id, area_m2, lon_min_deg, lat_min_deg, "
                              "lon_max_deg, lat_max_deg FROM parcels p WHERE NOT EXISTS (SELECT 1 "
                              "FROM parcel_retirements r WHERE r.parcel_id = p.id) ORDER BY num";
    parus__stmt *st;
    int rc = parus__db_prepare(s->store->db, sql, false, &st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(s->store, rc, s->err, "cannot read the parcels of '%s'",
                                     s->store->path);
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        ov_parcel *p;
        if (!grow((void **)&s->p, &s->cap, s->n + 1, sizeof *s->p)) {
            parus__finalize(st);
            return parus_fail(s->err, PARUS_E_NOMEM, "out of memory reading the parcels");
        }
        p = &s->p[s->n];
        memset(p, 0, sizeof *p);
        p->num = parus__column_int64(st, 0);
        p->id = dup_col(st, 1);
        p->farmer = dup_col(st, 2);
        s->n++;
        if (!p->id || (parus__column_type(st, 2) != SQLITE_NULL && !p->farmer)) {
            parus__finalize(st);
            return parus_fail(s->err, PARUS_E_NOMEM, "out of memory reading the parcels");
        }
        p->area_m2 = parus__column_double(st, 3);
        p->lon_min = parus__column_double(st, 4);
        p->lat_min = parus__column_double(st, 5);
        p->lon_max = parus__column_double(st, 6);
        p->lat_max = parus__column_double(st, 7);
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(s->store, rc, s->err, "cannot read the parcels of '%s'",
                                     s->store->path);
    return PARUS_OK;
}

static size_t index_of(const ov_state *s, int64_t num)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->p[mid].num < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->p[lo].num == num ? lo : SIZE_MAX;
}

static parus_status geometry(ov_state *s, size_t i, OGRGeometryH *out)
{
    ov_parcel *p = &s->p[i];
    int rc;
    if (p->geom) {
        *out = p->geom;
        return PARUS_OK;
    }
    rc = parus__bind_int64(s->wkb_st, 1, p->num);
    if (rc == SQLITE_OK)
        rc = parus__step(s->wkb_st);
    if (rc == SQLITE_ROW) {
        const void *wkb = parus__column_blob(s->wkb_st, 0);
        int n = parus__column_bytes(s->wkb_st, 0);
        OGRGeometryH g = NULL;
        if (!wkb || OGR_G_CreateFromWkbEx(wkb, NULL, &g, (size_t)n) != OGRERR_NONE) {
            parus__reset(s->wkb_st);
            return parus_fail(s->err, PARUS_E_STORE, "parcel '%s' in '%s' has unreadable WKB",
                              p->id, s->store->path);
        }
        parus__reset(s->wkb_st);
        p->geom = g;
        *out = g;
        return PARUS_OK;
    }
    parus__reset(s->wkb_st);
    return parus__store_sql_fail(s->store, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, s->err,
                                 "cannot read the geometry of parcel '%s' in '%s'", p->id,
                                 s->store->path);
}

/* The geodesic area of the polygonal part of g (lines and points of a touching pair: 0). */
static parus_status polygonal_area_m2(OGRGeometryH g, double *area_m2, parus_error *err)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    unsigned char *wkb;
    size_t n;
    parus_status code;
    *area_m2 = 0.0;
    if (OGR_G_IsEmpty(g))
        return PARUS_OK;
    if (t == wkbGeometryCollection || t == wkbMultiSurface) {
        int i, k = OGR_G_GetGeometryCount(g);
        for (i = 0; i < k; i++) {
            double part_m2;
            code = polygonal_area_m2(OGR_G_GetGeometryRef(g, i), &part_m2, err);
            if (code != PARUS_OK)
                return code;
            *area_m2 += part_m2;
        }
        return PARUS_OK;
    }
    if (t != wkbPolygon && t != wkbMultiPolygon)
        return PARUS_OK;
    OGR_G_FlattenTo2D(g);
    n = OGR_G_WkbSizeEx(g);
    if (!(wkb = malloc(n ? n : 1)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory measuring an overlap");
    if (OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) != OGRERR_NONE) {
        free(wkb);
        return parus_fail(err, PARUS_E_GEOMETRY, "cannot encode an overlap as WKB");
    }
    code = parus_wkb_geodesic_area_m2(wkb, n, area_m2, err);
    free(wkb);
    return code;
}

/* Whether the common box of a and b can hold min_share of either's area (false: the pair is
 * dropped without any geometry). */
static bool box_may_hold(const ov_parcel *a, const ov_parcel *b, double min_share)
{
    double w = fmin(a->lon_max, b->lon_max) - fmax(a->lon_min, b->lon_min);
    double h = fmin(a->lat_max, b->lat_max) - fmax(a->lat_min, b->lat_min);
    double lat_near_eq, box_m2;

    if (!(w > 0.0) || !(h > 0.0))
        return false; /* boxes that only touch: no common area */
    /* an upper bound on the common box's area (the sphere of the equatorial radius, at the
     * latitude of the box nearest the equator, plus 1 %): smaller than the share needs, skip */
    lat_near_eq = fmax(a->lat_min, b->lat_min) > 0.0   ? fmax(a->lat_min, b->lat_min)
                  : fmin(a->lat_max, b->lat_max) < 0.0 ? fmin(a->lat_max, b->lat_max)
                                                       : 0.0;
    box_m2 =
        1.01 * EARTH_A_M * EARTH_A_M * (w * DEG_RAD) * (h * DEG_RAD) * cos(lat_near_eq * DEG_RAD);
    return !(box_m2 < min_share * fmin(a->area_m2, b->area_m2));
}

/* The pair (i, j), i registered first: kept when the common land is min_share of either. */
static parus_status check_pair(ov_state *s, size_t i, size_t j, double min_share)
{
    const ov_parcel *a = &s->p[i], *b = &s->p[j];
    double need_m2 = min_share * fmin(a->area_m2, b->area_m2), common_m2;
    OGRGeometryH ga, gb, x;
    parus_status code;

    if (!box_may_hold(a, b, min_share))
        return PARUS_OK;

    if ((code = geometry(s, i, &ga)) != PARUS_OK || (code = geometry(s, j, &gb)) != PARUS_OK)
        return code;
    x = OGR_G_Intersection(ga, gb);
    if (!x)
        return parus_fail(s->err, PARUS_E_GEOMETRY,
                          "GEOS cannot intersect parcels '%s' and '%s' of '%s'", a->id, b->id,
                          s->store->path);
    code = polygonal_area_m2(x, &common_m2, s->err);
    OGR_G_DestroyGeometry(x);
    if (code != PARUS_OK)
        return code;
    if (!(common_m2 > 0.0) || common_m2 < need_m2)
        return PARUS_OK;
    if (!grow((void **)&s->pairs, &s->cap_pairs, s->n_pairs + 1, sizeof *s->pairs))
        return parus_fail(s->err, PARUS_E_NOMEM, "out of memory recording overlaps");
    s->pairs[s->n_pairs].a = i;
    s->pairs[s->n_pairs].b = j;
    s->pairs[s->n_pairs].overlap_m2 = common_m2;
    s->n_pairs++;
    return PARUS_OK;
}

static parus_status find_pairs(ov_state *s, double min_share)
{
    static const char sql[] = "SELECT id FROM parcels_rtree WHERE lon_max >= ?1 AND "
                              "lon_min <= ?3 AND lat_max >= ?2 AND lat_min <= ?4";
    parus__stmt *st;
    parus_status code = PARUS_OK;
    size_t i;
    int rc = parus__db_prepare(s->store->db, sql, false, &st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(s->store, rc, s->err, "cannot search the parcels of '%s'",
                                     s->store->path);
    for (i = 0; i < s->n && code == PARUS_OK; i++) {
        const ov_parcel *p = &s->p[i];
        rc = parus__bind_double(st, 1, p->lon_min);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 2, p->lat_min);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 3, p->lon_max);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 4, p->lat_max);
        while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
            int64_t num = parus__column_int64(st, 0);
            size_t j;
            rc = SQLITE_OK;
            if (num <= p->num)
                continue; /* each pair once, from the parcel registered first */
            j = index_of(s, num);
            if (j == SIZE_MAX)
                continue; /* an R-tree entry without its parcel: nothing to compare */
            code = check_pair(s, i, j, min_share);
            if (code != PARUS_OK)
                break;
        }
        parus__reset(st);
        if (code == PARUS_OK && rc != SQLITE_DONE && rc != SQLITE_OK)
            code = parus__store_sql_fail(s->store, rc, s->err, "cannot search the parcels of '%s'",
                                         s->store->path);
    }
    parus__finalize(st);
    return code;
}

/* ---- the same search on PostgreSQL ----
 *
 * A statement a parcel (its box query, then its WKB) is a round trip each on a server: 50,000 of
 * them for 20,000 parcels, most of an assessment's time there. So the candidates come from one
 * join of the parcels' boxes with the box index (the same condition as the query per parcel,
 * each pair once), and the WKB of the parcels that a pair needs from one query per 1,000
 * parcels; the pairs are then checked as above, with the same results. */

#define WKB_BATCH 1000

/* The parcels whose geometry the pairs (a, b) of pairs[0..n) need, read and parsed. */
static parus_status fetch_geometries(ov_state *s, const ov_pair *pairs, size_t n)
{
    static const char sql[] =
        "SELECT num, wkb FROM parcels WHERE num = ANY (CAST(?1 AS BIGINT[])) ORDER BY num";
    bool *need = calloc(s->n ? s->n : 1, sizeof *need);
    char *list = NULL;
    size_t cap = 0, i = 0;
    parus__stmt *st = NULL;
    parus_status code = PARUS_OK;
    int rc;

    if (!need)
        return parus_fail(s->err, PARUS_E_NOMEM, "out of memory reading the parcels");
    for (size_t k = 0; k < n; k++)
        need[pairs[k].a] = need[pairs[k].b] = true;
    rc = parus__db_prepare(s->store->db, sql, false, &st);
    while (rc == SQLITE_OK && code == PARUS_OK && i < s->n) {
        size_t len = 0, n_list = 0;
        /* "{num,num,...}": 21 bytes a number at most */
        if (!grow((void **)&list, &cap, WKB_BATCH * 21 + 3, 1)) {
            code = parus_fail(s->err, PARUS_E_NOMEM, "out of memory reading the parcels");
            break;
        }
        list[len++] = '{';
        for (; i < s->n && n_list < WKB_BATCH; i++)
            if (need[i] && !s->p[i].geom) {
                len += (size_t)snprintf(list + len, cap - len, "%s%lld", n_list ? "," : "",
                                        (long long)s->p[i].num);
                n_list++;
            }
        list[len++] = '}';
        list[len] = '\0';
        if (n_list == 0)
            break;
        rc = parus__bind_text(st, 1, list, (int)len);
        while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
            size_t j = index_of(s, parus__column_int64(st, 0));
            const void *wkb = parus__column_blob(st, 1);
            int nb = parus__column_bytes(st, 1);
            OGRGeometryH g = NULL;
            rc = SQLITE_OK;
            if (j == SIZE_MAX)
                continue;
            if (!wkb || OGR_G_CreateFromWkbEx(wkb, NULL, &g, (size_t)nb) != OGRERR_NONE) {
                code = parus_fail(s->err, PARUS_E_STORE, "parcel '%s' in '%s' has unreadable WKB",
                                  s->p[j].id, s->store->path);
                break;
            }
            if (s->p[j].geom)
                OGR_G_DestroyGeometry(s->p[j].geom);
            s->p[j].geom = g;
        }
        parus__reset(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    parus__finalize(st);
    free(list);
    free(need);
    if (code == PARUS_OK && rc != SQLITE_OK)
        code = parus__store_sql_fail(s->store, rc, s->err, "cannot read the parcels of '%s'",
                                     s->store->path);
    return code;
}

static parus_status find_pairs_pg(ov_state *s, double min_share)
{
    static const char sql[] =
        "SELECT p.num, r.id FROM parcels p JOIN parcels_rtree r ON box(point(r.lon_min, "
        "r.lat_min), point(r.lon_max, r.lat_max)) && box(point(p.lon_min_deg, p.lat_min_deg), "
        "point(p.lon_max_deg, p.lat_max_deg)) AND r.lon_max >= p.lon_min_deg AND r.lon_min <= "
        "p.lon_max_deg AND r.lat_max >= p.lat_min_deg AND r.lat_min <= p.lat_max_deg AND "
        "r.id > p.num ORDER BY p.num, r.id";
    ov_pair *cand = NULL;
    size_t n_cand = 0, cap_cand = 0;
    parus__stmt *st;
    parus_status code = PARUS_OK;
    int rc = parus__db_prepare(s->store->db, sql, false, &st);

    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        size_t i = index_of(s, parus__column_int64(st, 0));
        size_t j = index_of(s, parus__column_int64(st, 1));
        rc = SQLITE_OK;
        if (i == SIZE_MAX || j == SIZE_MAX)
            continue; /* a box without its parcel: nothing to compare */
        if (!box_may_hold(&s->p[i], &s->p[j], min_share))
            continue;
        if (!grow((void **)&cand, &cap_cand, n_cand + 1, sizeof *cand)) {
            code = parus_fail(s->err, PARUS_E_NOMEM, "out of memory searching the parcels");
            break;
        }
        cand[n_cand].a = i;
        cand[n_cand].b = j;
        n_cand++;
    }
    parus__finalize(st);
    if (code == PARUS_OK && rc != SQLITE_DONE)
        code = parus__store_sql_fail(s->store, rc, s->err, "cannot search the parcels of '%s'",
                                     s->store->path);
    if (code == PARUS_OK)
        code = fetch_geometries(s, cand, n_cand);
    for (size_t k = 0; code == PARUS_OK && k < n_cand; k++)
        code = check_pair(s, cand[k].a, cand[k].b, min_share);
    free(cand);
    return code;
}

static parus_status write_pairs(ov_state *s)
{
    static const char ins[] = "INSERT INTO parcel_overlaps (parcel_a, parcel_b, farmer_a, "
                              "farmer_b, overlap_m2, share_a, share_b, found_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    parus__stmt *st = NULL;
    char now[32];
    parus_status code;
    size_t k;
    int rc;

    parus__store_utc_now(now);
    code = parus__store_tx_begin(s->store, s->err);
    if (code != PARUS_OK)
        return code;
    rc = parus__db_exec(s->store->db, "DELETE FROM parcel_overlaps");
    if (rc == SQLITE_OK)
        rc = parus__db_prepare(s->store->db, ins, false, &st);
    for (k = 0; rc == SQLITE_OK && k < s->n_pairs; k++) {
        const ov_pair *q = &s->pairs[k];
        const ov_parcel *a = &s->p[q->a], *b = &s->p[q->b];
        double share_a = fmin(1.0, q->overlap_m2 / a->area_m2);
        double share_b = fmin(1.0, q->overlap_m2 / b->area_m2);
        rc = parus__bind_text(st, 1, a->id, -1);
        if (rc == SQLITE_OK)
            rc = parus__bind_text(st, 2, b->id, -1);
        if (rc == SQLITE_OK)
            rc = a->farmer ? parus__bind_text(st, 3, a->farmer, -1) : parus__bind_null(st, 3);
        if (rc == SQLITE_OK)
            rc = b->farmer ? parus__bind_text(st, 4, b->farmer, -1) : parus__bind_null(st, 4);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 5, q->overlap_m2);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 6, share_a);
        if (rc == SQLITE_OK)
            rc = parus__bind_double(st, 7, share_b);
        if (rc == SQLITE_OK)
            rc = parus__bind_text(st, 8, now, -1);
        if (rc == SQLITE_OK)
            rc = parus__step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        parus__reset(st);
    }
    parus__finalize(st);
    if (rc != SQLITE_OK) {
        code = parus__store_sql_fail(s->store, rc, s->err, "cannot record the overlaps in '%s'",
                                     s->store->path);
        parus__store_tx_rollback(s->store);
        return code;
    }
    return parus__store_tx_commit(s->store, s->err);
}

parus_status parus_store_find_overlaps(parus_store *store, double min_share, size_t *n_overlaps,
                                       parus_error *err)
{
    ov_state s;
    parus_status code;
    size_t i;
    int rc;

    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "find_overlaps: missing store");
    if (!(min_share > 0.0 && min_share <= 1.0))
        return parus_fail(err, PARUS_E_INVALID, "overlap share %g is outside (0, 1]", min_share);
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    parus__gdal_init();
    memset(&s, 0, sizeof s);
    s.store = store;
    s.err = err;
    rc = parus__db_prepare(store->db, "SELECT wkb FROM parcels WHERE num = ?1", false, &s.wkb_st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot read the parcels of '%s'",
                                     store->path);
    code = read_parcels(&s);
    if (code == PARUS_OK)
        code =
            parus__db_is_pg(store->db) ? find_pairs_pg(&s, min_share) : find_pairs(&s, min_share);
    parus__finalize(s.wkb_st);
    if (code == PARUS_OK)
        code = write_pairs(&s);
    if (code == PARUS_OK && n_overlaps)
        *n_overlaps = s.n_pairs;
    for (i = 0; i < s.n; i++) {
        free(s.p[i].id);
        free(s.p[i].farmer);
        if (s.p[i].geom)
            OGR_G_DestroyGeometry(s.p[i].geom);
    }
    free(s.p);
    free(s.pairs);
    return code;
}

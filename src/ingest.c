/*
 * ingest.c - one tile into the store (contract in include/parus/ingest.h).
 *
 * The candidate parcels are copied out of the R-tree walk (the walk's parcels are borrowed) with
 * their row numbers in the store, the tile transaction is opened before the pass, and the
 * kernel's sink writes each parcel's observation into it by that number as soon as the parcel
 * is finished, so no tile's observations are ever all held in memory and no parcel is looked up
 * again (ingest_int.h says when the numbers are trusted). Any failure rolls the transaction
 * back.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/ingest.h"
#include "ingest_int.h"
#include "util_int.h"

struct candidates {
    parus_parcel *items;
    int64_t *num; /* each item's row number in the store */
    size_t n, cap;
    int failed;
};

static int collect(const parus_parcel *p, int64_t num, void *ctx)
{
    struct candidates *c = ctx;
    parus_parcel *dst;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        parus_parcel *n = realloc(c->items, cap * sizeof *n);
        int64_t *nn;
        if (n)
            c->items = n;
        nn = n ? realloc(c->num, cap * sizeof *nn) : NULL;
        if (!nn) {
            c->failed = 1;
            return 1;
        }
        c->num = nn;
        c->cap = cap;
    }
    dst = &c->items[c->n];
    memset(dst, 0, sizeof *dst);
    dst->id = parus__strdup(p->id);
    dst->wkb = malloc(p->wkb_size ? p->wkb_size : 1);
    if (!dst->id || !dst->wkb) {
        free(dst->id);
        free(dst->wkb);
        c->failed = 1;
        return 1;
    }
    memcpy(dst->wkb, p->wkb, p->wkb_size);
    dst->wkb_size = p->wkb_size;
    dst->area_m2 = p->area_m2;
    c->num[c->n] = num;
    c->n++;
    return 0;
}

static void candidates_release(struct candidates *c)
{
    size_t i;
    for (i = 0; i < c->n; i++) {
        free(c->items[i].id);
        free(c->items[i].wkb);
    }
    free(c->items);
    free(c->num);
    memset(c, 0, sizeof *c);
}

/* The pixels of another date. A stored tile's pixels given again under another date (a copy
 * re-dated by hand, a gap-filled composite delivered for each date) would be stored as a new
 * acquisition: more clear observations of the same pixels, a surer series, a surer limit. The
 * same-acquisition check above cannot see it (the date differs), nor the hash (a re-dated file
 * differs in its metadata). So before the pass a few candidate parcels, spread over the tile,
 * are probes: their stored observations on every tile of the same sensor and another date whose
 * footprint meets this one are read, and as the pass finishes each probe its new observation is
 * compared with them. Two real acquisitions never agree on a parcel's weights and every index mean
 * within ECHO_TOL (two thousandths: the atmosphere and the sun alone move a parcel's mean more
 * between two dates, while a copy nudged by a digital number or two stays within it); a tile that
 * agrees with a stored one on ECHO_MIN_CLEAR clear probes and on half of those it shares with it (a
 * copy masked but for a window disagrees on the parcels the window's edge cuts) is refused, naming
 * that tile. A crop of the copy still agrees on the parcels wholly inside both. */
#define ECHO_PROBES 256
#define ECHO_MIN_CLEAR 8
#define ECHO_TOL 2e-3
#define ECHO_N (3 + PARUS_INDEX_N_ + 2)

struct echo_tile {
    int64_t id;
    char date[11];
    char path[256];
    size_t n_clear_compared, n_clear_equal;
};

struct echo_val {
    size_t tile; /* index into tiles */
    double v[ECHO_N];
};

struct echo {
    bool radar;
    const parus_tile_record *rec;
    struct echo_tile *tiles;
    size_t n_tiles, cap_tiles;
    size_t probe[ECHO_PROBES]; /* candidate indices, ascending */
    size_t n_probes;
    struct echo_val *vals[ECHO_PROBES]; /* each probe's stored values on the tiles */
    size_t n_vals[ECHO_PROBES], cap_vals[ECHO_PROBES];
    size_t cur; /* the probe being read */
    int failed;
};

static void echo_values(const parus_observation *o, bool radar, double *v)
{
    size_t k;
    v[0] = o->w_total_px;
    v[1] = o->w_valid_px;
    v[2] = o->valid_fraction;
    for (k = 0; k < PARUS_INDEX_N_; k++)
        v[3 + k] = radar ? (double)NAN : o->mean[k];
    v[3 + PARUS_INDEX_N_] = radar ? o->vv : (double)NAN;
    v[4 + PARUS_INDEX_N_] = radar ? o->vh : (double)NAN;
}

/* The same within the store's step for the weights (thousandths of a pixel), ECHO_TOL for the
 * fraction and the index means, and half a percent of a radar mean (backscatter is linear power:
 * speckle alone moves a parcel's mean by several percent between two dates). */
static bool echo_same(const double *a, const double *b)
{
    size_t k;
    for (k = 0; k < ECHO_N; k++) {
        double tol = k < 2 ? 0.6e-3 : k < 3 + PARUS_INDEX_N_ ? ECHO_TOL : 0.005 * fabs(a[k]);
        if (isnan(a[k]) || isnan(b[k])) {
            if (isnan(a[k]) != isnan(b[k]))
                return false;
            continue;
        }
        if (fabs(a[k] - b[k]) > tol + 1e-6 * fabs(a[k]))
            return false;
    }
    return true;
}

static bool boxes_meet(const parus_tile_record *a, const parus_tile_record *b)
{
    return a->lon_min_deg <= b->lon_max_deg && b->lon_min_deg <= a->lon_max_deg &&
           a->lat_min_deg <= b->lat_max_deg && b->lat_min_deg <= a->lat_max_deg;
}

static int echo_tile_visit(const parus_tile_record *t, void *ctx)
{
    struct echo *e = ctx;
    struct echo_tile *et;
    if (strcmp(t->sensor, e->rec->sensor) != 0 || strcmp(t->date, e->rec->date) == 0 ||
        strcmp(t->status, "ingested") != 0 || !boxes_meet(t, e->rec))
        return 0;
    if (e->n_tiles == e->cap_tiles) {
        size_t cap = e->cap_tiles ? 2 * e->cap_tiles : 16;
        struct echo_tile *n = realloc(e->tiles, cap * sizeof *n);
        if (!n) {
            e->failed = 1;
            return 1;
        }
        e->tiles = n;
        e->cap_tiles = cap;
    }
    et = &e->tiles[e->n_tiles++];
    memset(et, 0, sizeof *et);
    et->id = t->id;
    memcpy(et->date, t->date, sizeof et->date);
    snprintf(et->path, sizeof et->path, "%.255s", t->path);
    return 0;
}

static int cmp_echo_tile(const void *a, const void *b)
{
    int64_t x = ((const struct echo_tile *)a)->id, y = ((const struct echo_tile *)b)->id;
    return x < y ? -1 : x > y;
}

/* The index of tile id among e->tiles (sorted by id by echo_prepare), or SIZE_MAX: a probe's
 * series holds every tile of years of seasons, and so may the tiles compared with. */
static size_t echo_tile_of(const struct echo *e, int64_t id)
{
    size_t lo = 0, hi = e->n_tiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->tiles[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n_tiles && e->tiles[lo].id == id ? lo : SIZE_MAX;
}

static int echo_keep(struct echo *e, int64_t tile_id, const parus_observation *o)
{
    size_t t = echo_tile_of(e, tile_id), p = e->cur;
    struct echo_val *v;
    if (t == SIZE_MAX)
        return 0;
    if (e->n_vals[p] == e->cap_vals[p]) {
        size_t cap = e->cap_vals[p] ? 2 * e->cap_vals[p] : 8;
        struct echo_val *n = realloc(e->vals[p], cap * sizeof *n);
        if (!n) {
            e->failed = 1;
            return 1;
        }
        e->vals[p] = n;
        e->cap_vals[p] = cap;
    }
    v = &e->vals[p][e->n_vals[p]++];
    v->tile = t;
    echo_values(o, e->radar, v->v);
    return 0;
}

static int echo_optical_point(const parus_series_point *pt, void *ctx)
{
    return echo_keep(ctx, pt->tile_id, &pt->obs);
}

static int echo_radar_point(const parus_radar_point *pt, void *ctx)
{
    return echo_keep(ctx, pt->tile_id, &pt->obs);
}

static void echo_release(struct echo *e)
{
    size_t p;
    free(e->tiles);
    for (p = 0; p < ECHO_PROBES; p++)
        free(e->vals[p]);
    memset(e, 0, sizeof *e);
}

/* Before the pass: the tiles to compare with and the probes' stored values on them. */
static parus_status echo_prepare(parus_store *store, const parus_tile_record *rec,
                                 const struct candidates *cand, bool radar, struct echo *e,
                                 parus_error *err)
{
    parus_status rc;
    size_t p;

    memset(e, 0, sizeof *e);
    e->radar = radar;
    e->rec = rec;
    rc = parus_store_tiles_foreach(store, echo_tile_visit, e, err);
    if (rc != PARUS_OK || e->n_tiles == 0)
        return e->failed ? parus_fail(err, PARUS_E_NOMEM, "cannot hold the tiles to compare") : rc;
    qsort(e->tiles, e->n_tiles, sizeof *e->tiles, cmp_echo_tile);
    e->n_probes = cand->n < ECHO_PROBES ? cand->n : ECHO_PROBES;
    for (p = 0; p < e->n_probes; p++) {
        e->probe[p] = p * cand->n / e->n_probes + cand->n / (2 * e->n_probes);
        e->cur = p;
        rc = radar ? parus_store_parcel_radar_series(store, cand->items[e->probe[p]].id,
                                                     echo_radar_point, e, NULL, err)
                   : parus_store_parcel_series(store, cand->items[e->probe[p]].id,
                                               echo_optical_point, e, NULL, err);
        if (rc != PARUS_OK)
            return e->failed ? parus_fail(err, PARUS_E_NOMEM, "cannot hold the probes' values")
                             : rc;
    }
    return PARUS_OK;
}

/* In the sink: a probe's new observation against its stored ones. */
static void echo_compare(struct echo *e, size_t parcel, const parus_observation *obs)
{
    size_t lo = 0, hi = e->n_probes, i;
    double v[ECHO_N];
    bool clear;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->probe[mid] < parcel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == e->n_probes || e->probe[lo] != parcel)
        return;
    echo_values(obs, e->radar, v);
    clear = obs->w_valid_px > 0.0 && (e->radar ? isfinite(obs->vv) : isfinite(obs->mean[0]));
    if (!clear)
        return;
    for (i = 0; i < e->n_vals[lo]; i++) {
        struct echo_tile *t = &e->tiles[e->vals[lo][i].tile];
        t->n_clear_compared++;
        if (echo_same(v, e->vals[lo][i].v))
            t->n_clear_equal++;
    }
}

/* After the pass: the stored tile whose pixels these are, or NULL. */
static const struct echo_tile *echo_verdict(const struct echo *e)
{
    size_t i;
    for (i = 0; i < e->n_tiles; i++) {
        const struct echo_tile *t = &e->tiles[i];
        if (t->n_clear_equal >= ECHO_MIN_CLEAR && 2 * t->n_clear_equal >= t->n_clear_compared)
            return t;
    }
    return NULL;
}

/* Observations go to the open tile as the kernel finishes each parcel. */
struct sink {
    parus_store *store;
    const parus_tile_record *rec;
    const struct candidates *cand;
    struct echo *echo;
    size_t n_stored;
    parus_error err;
};

static int store_observation(size_t parcel, const parus_observation *obs, void *ctx)
{
    struct sink *k = ctx;
    /* a parcel whose footprint box meets the tile but which covers no pixel is not observed */
    if (obs->w_total_px <= 0.0)
        return 0;
    if (k->echo && k->echo->n_tiles)
        echo_compare(k->echo, parcel, obs);
    if (parus__store_tile_add_num(k->store, k->rec, k->cand->items[parcel].id, k->cand->num[parcel],
                                  obs, &k->err) != PARUS_OK)
        return 1;
    k->n_stored++;
    return 0;
}

/* How the tile's pixels are read, as 16 hex digits: its sensor profile and date, the validity
 * rule and its mask, each band's role, file (by its place among the tile's files: the same bytes
 * may lie elsewhere now), index, scale, offset and nodata, the band-pass adjustment, and a radar
 * tile's scale and coefficient. The same files read with another band map, without their mask,
 * under another date or radar scale give another value. */
static void reading_of(const parus_tile *tile, char out[17])
{
    const parus_tile_info *ti = parus_tile_get_info(tile);
    const char *const *files;
    size_t n_files, i, f;
    char *text = NULL;
    size_t len = 0, cap = 0;
    uint64_t fp[4];

    files = parus_tile_files(tile, &n_files);
    for (i = 0; i <= ti->n_bands; i++) {
        char line[512];
        int n;
        if (i == 0) {
            n = snprintf(line, sizeof line, "%s|%.10s|%d|%s|%s|%s|%d|%s\n", ti->sensor_name,
                         ti->date, (int)ti->validity, ti->validity_desc ? ti->validity_desc : "",
                         ti->harmonisation ? ti->harmonisation : "",
                         ti->radar ? ti->radar->coefficient : "",
                         ti->radar ? (int)ti->radar->scale : -1, ti->radar ? "radar" : "optical");
        } else {
            const parus_band_info *b = parus_tile_band(tile, i - 1);
            for (f = 0; f < n_files && strcmp(files[f], b->path) != 0; f++)
                ;
            n = snprintf(line, sizeof line, "%d|%zu|%d|%.17g|%.17g|%d|%.17g\n", (int)b->role, f,
                         b->band_index, b->scale, b->offset, b->has_nodata ? 1 : 0,
                         b->has_nodata ? b->nodata : 0.0);
        }
        if (n < 0)
            continue;
        if ((size_t)n >= sizeof line)
            n = (int)sizeof line - 1;
        if (len + (size_t)n > cap) {
            char *g = realloc(text, cap = 2 * (len + (size_t)n) + 1024);
            if (!g)
                break;
            text = g;
        }
        memcpy(text + len, line, (size_t)n);
        len += (size_t)n;
    }
    parus__fingerprint(text ? text : "", text ? len : 0, fp);
    free(text);
    snprintf(out, 17, "%016" PRIx64, fp[0]);
}

/* ---- a stored tile given again: the parcels registered since ----
 *
 * A tile is stored once, so a parcel registered (or reshaped) after its tiles were ingested had
 * no evidence from them until new imagery came: its farmer got 0 (NO_PARCEL_OBSERVED). Given
 * again, a stored tile now measures the parcels under its footprint that it never measured and
 * adds their observations to it. Its bytes are the stored tile's, but they are read with the
 * options given now (a band map, a radar scale, a date, a cloud mask left out), so WITNESSES
 * parcels it did measure are measured again beside them and must give their stored values back
 * (echo_same, the clear fraction among them); else it is read otherwise than it was stored and
 * nothing is added. Half the witnesses, where the tile has them, are parcels its mask took part
 * of: a read without the mask (--no-cloud-mask, a band map without it) gives the clear ones back
 * unchanged and only those differ (round 8: a mask left out on the re-ingest stored 214 new
 * parcels' clouds as clear, 379,800 -> 481,500 CNY). */
#define WITNESSES 16

struct since {
    parus_store *store;
    const parus_tile_record *rec;
    const struct candidates *cand;
    bool radar;
    const bool *witness;      /* per candidate */
    double (*stored)[ECHO_N]; /* per candidate: a witness's stored values, else unused */
    bool *has_stored;
    size_t n_compared, n_differ, n_stored;
    int64_t cur;
    parus_error err;
};

static int since_keep(struct since *s, int64_t tile_id, const parus_observation *o)
{
    if (tile_id == s->rec->id) {
        echo_values(o, s->radar, s->stored[s->cur]);
        s->has_stored[s->cur] = true;
    }
    return 0;
}

static int since_optical_point(const parus_series_point *pt, void *ctx)
{
    return since_keep(ctx, pt->tile_id, &pt->obs);
}

static int since_radar_point(const parus_radar_point *pt, void *ctx)
{
    return since_keep(ctx, pt->tile_id, &pt->obs);
}

static int since_observation(size_t parcel, const parus_observation *obs, void *ctx)
{
    struct since *s = ctx;
    if (s->witness[parcel]) {
        double v[ECHO_N];
        if (!s->has_stored[parcel])
            return 0;
        echo_values(obs, s->radar, v);
        s->n_compared++;
        s->n_differ += !echo_same(v, s->stored[parcel]);
        return 0;
    }
    if (obs->w_total_px <= 0.0)
        return 0;
    if (parus__store_tile_add_num(s->store, s->rec, s->cand->items[parcel].id, s->cand->num[parcel],
                                  obs, &s->err) != PARUS_OK)
        return 1;
    s->n_stored++;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The parcels under a stored tile that it never measured, measured and added to it (res->rec is
 * the stored record; res->n_observed their number, 0 when none). */
static parus_status measure_since(parus_store *store, parus_tile *tile, const parus_tile_info *ti,
                                  const char *path, const parus_measure_options *mopt,
                                  parus_ingest_result *res, parus_error *err)
{
    struct candidates cand = {0};
    struct since s;
    int64_t *seen = NULL;
    bool *seen_masked = NULL, *masked = NULL;
    size_t n_seen = 0, n_visited = 0, n_old = 0, n_new = 0, n_masked = 0, i, w;
    bool *witness = NULL;
    parus_measure_stats stats;
    parus_status rc;

    memset(&s, 0, sizeof s);
    rc = parus__store_parcels_in_box_num(store, ti->lon_min_deg, ti->lat_min_deg, ti->lon_max_deg,
                                         ti->lat_max_deg, collect, &cand, &n_visited, err);
    if (rc != PARUS_OK) {
        if (cand.failed)
            rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold the candidate parcels of '%s'", path);
        goto out;
    }
    rc = parus__store_tile_observed_nums(store, res->rec.id, &seen, &seen_masked, &n_seen, err);
    if (rc != PARUS_OK)
        goto out;
    witness = calloc(cand.n ? cand.n : 1, sizeof *witness);
    masked = calloc(cand.n ? cand.n : 1, sizeof *masked);
    if (!witness || !masked) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold the candidate parcels of '%s'", path);
        goto out;
    }
    for (i = 0; i < cand.n; i++) {
        const int64_t *hit =
            n_seen ? bsearch(&cand.num[i], seen, n_seen, sizeof *seen, cmp_i64) : NULL;
        witness[i] = hit != NULL;
        masked[i] = hit && seen_masked[hit - seen];
        n_old += witness[i];
        n_masked += masked[i];
    }
    n_new = cand.n - n_old;
    if (n_new == 0)
        goto out; /* every parcel under it measured: known, nothing to add */
    /* the tile must be read as it was stored: the same reading where it was recorded (a mask
     * left out, another band map, scale or date: round 8), the same sensor, date and grid */
    {
        char stored_reading[17], now[17];
        rc = parus__store_tile_reading(store, res->rec.id, stored_reading, err);
        if (rc != PARUS_OK)
            goto out;
        reading_of(tile, now);
        if (stored_reading[0] && strcmp(stored_reading, now) != 0) {
            rc = parus_fail(err, PARUS_E_BANDS,
                            "tile '%s' is stored as tile %lld ('%s', %s %s) but is read now "
                            "otherwise than it was (its validity rule %s, a band map, scale, "
                            "radar scale or date given otherwise): the %zu parcels registered "
                            "since it was stored are not measured on it; give it with the "
                            "options it was ingested with",
                            path, (long long)res->rec.id, res->rec.path, res->rec.sensor,
                            res->rec.date, ti->validity_desc ? ti->validity_desc : "(none)", n_new);
            goto out;
        }
    }
    if (strcmp(ti->sensor_name, res->rec.sensor) != 0 || memcmp(ti->date, res->rec.date, 10) != 0 ||
        ti->epsg != res->rec.epsg || ti->width != res->rec.width || ti->height != res->rec.height ||
        memcmp(ti->geotransform, res->rec.geotransform, sizeof ti->geotransform) != 0) {
        rc = parus_fail(err, PARUS_E_BANDS,
                        "tile '%s' is stored as tile %lld ('%s', %s %s) but is read now as %s %s "
                        "on another grid or date (a --date or band map given otherwise): the %zu "
                        "parcels registered since it was stored are not measured on it",
                        path, (long long)res->rec.id, res->rec.path, res->rec.sensor, res->rec.date,
                        ti->sensor_name, ti->date, n_new);
        goto out;
    }
    /* keep the new parcels and up to WITNESSES measured ones spread over the tile: half of
     * them among those the mask took part of, where there are such, the rest among the others */
    {
        size_t half = WITNESSES / 2, n_clear = n_old - n_masked;
        size_t want_m = n_masked < half ? n_masked : half;
        size_t want_c = WITNESSES - want_m < n_clear ? WITNESSES - want_m : n_clear;
        size_t step_m = want_m ? n_masked / want_m : 1, step_c = want_c ? n_clear / want_c : 1;
        size_t keep = 0, k_m = 0, k_c = 0;
        for (i = 0; i < cand.n; i++) {
            bool take = !witness[i];
            if (witness[i] && masked[i])
                take = k_m++ % step_m == step_m / 2 && k_m <= step_m * want_m;
            else if (witness[i])
                take = k_c++ % step_c == step_c / 2 && k_c <= step_c * want_c;
            if (!take) {
                free(cand.items[i].id);
                free(cand.items[i].wkb);
                continue;
            }
            cand.items[keep] = cand.items[i];
            cand.num[keep] = cand.num[i];
            witness[keep] = witness[i];
            keep++;
        }
        cand.n = keep;
    }
    s.stored = calloc(cand.n, sizeof *s.stored);
    s.has_stored = calloc(cand.n, sizeof *s.has_stored);
    if (!s.stored || !s.has_stored) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold the witnesses of '%s'", path);
        goto out;
    }
    s.store = store;
    s.rec = &res->rec;
    s.cand = &cand;
    s.radar = ti->radar != NULL;
    s.witness = witness;
    parus_error_init(&s.err);
    for (w = 0; w < cand.n; w++) {
        if (!witness[w])
            continue;
        s.cur = (int64_t)w;
        rc = s.radar ? parus_store_parcel_radar_series(store, cand.items[w].id, since_radar_point,
                                                       &s, NULL, err)
                     : parus_store_parcel_series(store, cand.items[w].id, since_optical_point, &s,
                                                 NULL, err);
        if (rc != PARUS_OK)
            goto out;
    }
    rc = parus__store_tile_extend_begin(store, &res->rec, err);
    if (rc != PARUS_OK)
        goto out;
    rc =
        parus_tile_measure_each(tile, cand.items, cand.n, mopt, since_observation, &s, &stats, err);
    if (rc != PARUS_OK) {
        if (s.err.code != PARUS_OK) {
            if (err)
                *err = s.err;
            rc = s.err.code;
        }
        parus_store_tile_abort(store);
        goto out;
    }
    if (s.n_differ > 0 || (n_old > 0 && s.n_compared == 0)) {
        parus_store_tile_abort(store);
        rc = parus_fail(err, PARUS_E_BANDS,
                        "tile '%s' is stored as tile %lld ('%s', %s %s) but is read now otherwise "
                        "than it was (a band map or radar scale given otherwise?): %zu of %zu "
                        "parcels it measured then give other values; the %zu parcels registered "
                        "since it was stored are not measured on it",
                        path, (long long)res->rec.id, res->rec.path, res->rec.sensor, res->rec.date,
                        s.n_differ, s.n_compared, n_new);
        goto out;
    }
    if (s.n_stored == 0) {
        parus_store_tile_abort(store);
        goto out;
    }
    rc = parus_store_tile_commit(store, &res->rec, err);
    if (rc == PARUS_OK)
        res->n_observed = s.n_stored;
out:
    res->n_candidates = cand.n;
    free(s.stored);
    free(s.has_stored);
    free(witness);
    free(masked);
    free(seen);
    free(seen_masked);
    candidates_release(&cand);
    return rc;
}

static parus_status fill_record(const parus_tile_info *ti, const parus_tile *tile,
                                parus_tile_record *rec, parus_error *err)
{
    const char *const *files;
    size_t n_files, i, used = 0;

    files = parus_tile_files(tile, &n_files);
    rec->path[0] = '\0';
    for (i = 0; i < n_files; i++) {
        size_t len = strlen(files[i]);
        if (used + len + 2 > sizeof rec->path)
            return parus_fail(err, PARUS_E_INVALID, "tile path '%s' is too long", files[0]);
        if (i)
            rec->path[used++] = ';';
        memcpy(rec->path + used, files[i], len + 1);
        used += len;
    }
    snprintf(rec->sensor, sizeof rec->sensor, "%s", ti->sensor_name);
    memcpy(rec->date, ti->date, sizeof rec->date);
    rec->epsg = ti->epsg;
    rec->width = ti->width;
    rec->height = ti->height;
    memcpy(rec->geotransform, ti->geotransform, sizeof rec->geotransform);
    rec->lon_min_deg = ti->lon_min_deg;
    rec->lat_min_deg = ti->lat_min_deg;
    rec->lon_max_deg = ti->lon_max_deg;
    rec->lat_max_deg = ti->lat_max_deg;
    snprintf(rec->status, sizeof rec->status, "ingested");
    if (ti->radar) {
        snprintf(rec->mission, sizeof rec->mission, "%s", ti->radar->mission);
        snprintf(rec->orbit_direction, sizeof rec->orbit_direction, "%s",
                 ti->radar->orbit_direction);
        rec->relative_orbit = ti->radar->relative_orbit;
        snprintf(rec->coefficient, sizeof rec->coefficient, "%s", ti->radar->coefficient);
        snprintf(rec->polarisations, sizeof rec->polarisations, "%s", ti->radar->polarisations);
        rec->looks = ti->radar->looks;
    }
    return PARUS_OK;
}

parus_status parus_ingest_tile(parus_store *store, const char *const *paths, size_t n_paths,
                               const parus_ingest_options *opt, parus_ingest_result *out,
                               parus_error *err)
{
    parus_tile_options topt = {0};
    parus_measure_options mopt = {0};
    parus_ingest_result res;
    parus_tile *tile;
    const parus_tile_info *ti;
    struct candidates cand = {0};
    struct echo echo = {0};
    struct sink sink;
    parus_tile_record same;
    bool found = false, twin = false;
    size_t n_visited = 0;
    parus_status rc;

    if (!store || !paths || n_paths == 0 || !out)
        return parus_fail(err, PARUS_E_INVALID, "ingest needs a store, a tile and a result");
    if (opt) {
        topt.band_map = opt->band_map;
        topt.band_map_generic_only = opt->band_map_generic_only;
        topt.date = opt->date;
        topt.radar_scale = opt->radar_scale;
        topt.radar_coefficient = opt->radar_coefficient;
        mopt.n_threads = opt->n_threads;
    }
    memset(&res, 0, sizeof res);
    rc = parus_tile_open(paths, n_paths, &topt, &tile, err);
    if (rc != PARUS_OK)
        return rc;
    ti = parus_tile_get_info(tile);
    if (opt && opt->hash && strlen(opt->hash) == 64)
        memcpy(res.rec.hash, opt->hash, 65);
    else
        rc = parus_tile_content_hash(tile, res.rec.hash, err);
    if (rc == PARUS_OK)
        rc = parus_store_find_tile(store, res.rec.hash, &res.rec, &found, err);
    if (rc != PARUS_OK)
        goto out;
    if (found) {
        res.outcome = PARUS_INGEST_KNOWN;
        rc = measure_since(store, tile, ti, paths[0], &mopt, &res, err);
        if (rc != PARUS_OK)
            goto out;
        goto done;
    }
    if (!ti->radar && ti->validity == PARUS_VALIDITY_NODATA && !(opt && opt->no_cloud_mask_ok) &&
        !(opt && opt->no_cloud_mask_generic_ok && ti->sensor == PARUS_SENSOR_GENERIC)) {
        /* nothing tells a cloud from a field: every cloud would be a clear observation, a surer
         * series and a larger limit */
        const char *what =
            ti->sensor == PARUS_SENSOR_S2_L2A
                ? "a Sentinel-2 L2A product carries its SCL band: deliver it with the scene"
            : ti->sensor == PARUS_SENSOR_LANDSAT_C2L2
                ? "a Landsat Collection 2 Level-2 product carries its QA_PIXEL band: deliver it "
                  "with the scene"
            : ti->sensor == PARUS_SENSOR_CBERS4_AWFI
                ? "deliver its CMASK band with it"
                : "deliver a cloud mask band with it (a band described as 'mask', or with "
                  "--bands ...,mask=N)";
        rc = parus_fail(err, PARUS_E_BANDS,
                        "tile '%s' (%s) has no cloud mask: its clouds would count as clear "
                        "observations; %s, or, when its clouds were removed before delivery, "
                        "ingest it with --no-cloud-mask ([raster] cloud_mask = off takes "
                        "generic tiles only)",
                        paths[0], ti->sensor_name, what);
        goto out;
    }
    rc = fill_record(ti, tile, &res.rec, err);
    if (rc != PARUS_OK)
        goto out;
    reading_of(tile, res.rec.reading);
    /* the same acquisition in other bytes is no new evidence: stored, every parcel under it would
     * count the same pixels twice (more clear observations, a surer limit). Looked up before
     * the tile's transaction (a server store streams its observations then), refused after the
     * pass, so that a damaged copy is refused for its damage */
    rc = parus_store_find_same_acquisition(store, &res.rec, &same, &twin, err);
    if (rc != PARUS_OK)
        goto out;
    rc = parus__store_parcels_in_box_num(store, ti->lon_min_deg, ti->lat_min_deg, ti->lon_max_deg,
                                         ti->lat_max_deg, collect, &cand, &n_visited, err);
    if (rc != PARUS_OK) {
        if (cand.failed)
            rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold the candidate parcels of '%s'",
                            paths[0]);
        goto out;
    }
    res.n_candidates = cand.n;
    if (cand.n == 0) {
        res.outcome = PARUS_INGEST_NO_OVERLAP;
        goto done;
    }

    rc = echo_prepare(store, &res.rec, &cand, ti->radar != NULL, &echo, err);
    if (rc != PARUS_OK)
        goto out;

    /* the tile and its observations are one transaction: nothing stays if anything fails */
    res.rec.n_parcels = cand.n;
    rc = twin ? parus__store_tile_begin_twin(store, &res.rec, err)
              : parus_store_tile_begin(store, &res.rec, err);
    if (rc == PARUS_E_DUPLICATE) {
        /* another writer stored the same content since the lookup above (on a server store,
         * PostgreSQL's unique index made this one wait for that writer's commit): known, when
         * the store now has it; else the duplicate is something else and its error stands */
        parus_error dup;
        if (err)
            dup = *err;
        rc = parus_store_find_tile(store, res.rec.hash, &res.rec, &found, err);
        if (rc != PARUS_OK)
            goto out;
        if (!found) {
            if (err)
                *err = dup;
            rc = PARUS_E_DUPLICATE;
            goto out;
        }
        res.outcome = PARUS_INGEST_KNOWN;
        goto done;
    }
    if (rc != PARUS_OK)
        goto out;
    sink.store = store;
    sink.rec = &res.rec;
    sink.cand = &cand;
    sink.echo = &echo;
    sink.n_stored = 0;
    parus_error_init(&sink.err);
    rc = parus_tile_measure_each(tile, cand.items, cand.n, &mopt, store_observation, &sink,
                                 &res.stats, err);
    if (rc != PARUS_OK) {
        if (sink.err.code != PARUS_OK) {
            if (err)
                *err = sink.err;
            rc = sink.err.code;
        }
        parus_store_tile_abort(store);
        goto out;
    }
    /* the tile checks ride on the pass: a tile that decodes but cannot be true is refused
     * before its observations are committed (kernel.h, docs/method.md §2) */
    {
        char why[384];
        if (parus_tile_quality_judge(&res.stats.quality, why, sizeof why) != PARUS_TILE_CHECK_OK) {
            parus_store_tile_abort(store);
            rc = parus_fail(err, PARUS_E_FORMAT, "tile '%s' is implausible: %s", paths[0], why);
            goto out;
        }
    }
    if (twin) {
        parus_store_tile_abort(store);
        rc = parus_fail(err, PARUS_E_DUPLICATE,
                        "tile '%s' is the same acquisition as tile %lld ('%s': %s, %s, the same "
                        "grid or most of its footprint) in other bytes (re-encoded, re-delivered, "
                        "reprocessed or regridded): its "
                        "observations would count the same pixels twice; nothing of it is "
                        "stored, the stored tile stays",
                        paths[0], (long long)same.id, same.path, same.sensor, same.date);
        goto out;
    }
    {
        const struct echo_tile *t = echo_verdict(&echo);
        if (t) {
            parus_store_tile_abort(store);
            rc = parus_fail(err, PARUS_E_DUPLICATE,
                            "tile '%s' (%s) holds the pixels of tile %lld ('%s', %s): %zu of %zu "
                            "clear parcels compared have the same weights and index means "
                            "within 0.002, which two acquisitions never have (a copy given "
                            "another date, or a composite delivered for each date); its "
                            "observations would count the same pixels twice; nothing of it is "
                            "stored",
                            paths[0], res.rec.date, (long long)t->id, t->path, t->date,
                            t->n_clear_equal, t->n_clear_compared);
            goto out;
        }
    }
    res.n_observed = sink.n_stored;
    if (sink.n_stored == 0) {
        parus_store_tile_abort(store);
        res.rec.id = 0;
        res.outcome = PARUS_INGEST_NO_OVERLAP;
        goto done;
    }
    if (opt && opt->checkpoint)
        opt->checkpoint(opt->checkpoint_ctx, "tile:written");
    rc = parus_store_tile_commit(store, &res.rec, err);
    if (rc != PARUS_OK)
        goto out;
    res.outcome = PARUS_INGEST_STORED;
done:
    *out = res;
    rc = PARUS_OK;
out:
    echo_release(&echo);
    candidates_release(&cand);
    parus_tile_free(tile);
    return rc;
}

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

/* Observations go to the open tile as the kernel finishes each parcel. */
struct sink {
    parus_store *store;
    const parus_tile_record *rec;
    const struct candidates *cand;
    size_t n_stored;
    parus_error err;
};

static int store_observation(size_t parcel, const parus_observation *obs, void *ctx)
{
    struct sink *k = ctx;
    /* a parcel whose footprint box meets the tile but which covers no pixel is not observed */
    if (obs->w_total_px <= 0.0)
        return 0;
    if (parus__store_tile_add_num(k->store, k->rec, k->cand->items[parcel].id, k->cand->num[parcel],
                                  obs, &k->err) != PARUS_OK)
        return 1;
    k->n_stored++;
    return 0;
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
    struct sink sink;
    parus_tile_record same;
    bool found = false, twin = false;
    size_t n_visited = 0;
    parus_status rc;

    if (!store || !paths || n_paths == 0 || !out)
        return parus_fail(err, PARUS_E_INVALID, "ingest needs a store, a tile and a result");
    if (opt) {
        topt.band_map = opt->band_map;
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
        goto done;
    }
    rc = fill_record(ti, tile, &res.rec, err);
    if (rc != PARUS_OK)
        goto out;
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

    /* the tile and its observations are one transaction: nothing stays if anything fails */
    res.rec.n_parcels = cand.n;
    rc = parus_store_tile_begin(store, &res.rec, err);
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
                        "grid) in other bytes (re-encoded, re-delivered or reprocessed): its "
                        "observations would count the same pixels twice; nothing of it is "
                        "stored, the stored tile stays",
                        paths[0], (long long)same.id, same.path, same.sensor, same.date);
        goto out;
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
    candidates_release(&cand);
    parus_tile_free(tile);
    return rc;
}

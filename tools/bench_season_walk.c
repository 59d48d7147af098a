/*
 * bench_season_walk.c - how fast parus_store_season_walk streams a county's season.
 *
 *   parus-bench-season-walk STORE [N_PARCELS [N_TILES]]
 *
 * Fills STORE (when it does not exist yet) with N_PARCELS parcels (default 140,000) and N_TILES
 * ingested tiles (default 30, one every 8 days from 2024-03-01), every tile observing every
 * parcel with every statistic set (the row size of a real ingest), through the public API only;
 * then walks the season that holds all the tiles, and one that holds half of them, and prints the
 * time, parcels and observations per second. A STORE that exists is walked as it is, so the fill
 * (minutes, several GB) is paid once; STORE may be a PostgreSQL store (postgresql://... or a libpq
 * keyword string), filled when it holds no store yet. The OS page cache is warm after the fill or a
 * first walk; drop it (echo 3 > /proc/sys/vm/drop_caches, as root) to time a cold walk.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "parus/store.h"
#include "parus/zonal.h"

#include "bench_store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const parus_error *err, const char *what)
{
    fprintf(stderr, "bench-season-walk: %s: %s\n", what, err->msg);
    exit(1);
}

static void fill(const char *path, size_t n_parcels, size_t n_tiles)
{
    parus_parcel_set set;
    parus_parcel_load_stats stats;
    parus_store *s;
    parus_error err;
    char(*ids)[16];
    unsigned char *wkb;
    size_t i, t, side = 400;
    double t0 = now_s();

    if (parus_store_open(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    memset(&set, 0, sizeof set);
    set.parcels = calloc(n_parcels, sizeof *set.parcels);
    ids = calloc(n_parcels, sizeof *ids);
    wkb = malloc(n_parcels * 93);
    if (!set.parcels || !ids || !wkb) {
        fprintf(stderr, "bench-season-walk: out of memory\n");
        exit(1);
    }
    set.n_parcels = n_parcels;
    for (i = 0; i < n_parcels; i++) {
        parus_parcel *p = &set.parcels[i];
        double x0 = 114.0 + 0.0005 * (double)(i % side), y0 = 36.0 + 0.0005 * (double)(i / side);
        /* ids not in insertion order, so the walk's order is the index's, not the rows' */
        snprintf(ids[i], sizeof ids[i], "P%07u", (unsigned)((i * 7919) % n_parcels % 10000000u));
        p->id = ids[i];
        p->farmer_id = NULL;
        p->lon_min_deg = x0;
        p->lat_min_deg = y0;
        p->lon_max_deg = x0 + 0.0004;
        p->lat_max_deg = y0 + 0.0004;
        p->area_m2 = 1500.0;
        p->declared_area_m2 = NAN;
        bench_rect_wkb(x0, y0, x0 + 0.0004, y0 + 0.0004, wkb + 93 * i);
        p->wkb = wkb + 93 * i;
        p->wkb_size = 93;
    }
    if (parus_store_put_parcels(s, &set, "bench", &stats, &err) != PARUS_OK)
        die(&err, "put parcels");
    printf("filled %zu parcels in %.1f s\n", n_parcels, now_s() - t0);

    for (t = 0; t < n_tiles; t++) {
        parus_tile_record rec;
        parus_observation o;
        int k;
        memset(&rec, 0, sizeof rec);
        for (k = 0; k < 64; k++)
            rec.hash[k] = "0123456789abcdef"[(t * 131 + (size_t)k * 17 + (size_t)k * t) % 16];
        snprintf(rec.hash + 56, 9, "%08x", (unsigned)(t & 0xffffffffu));
        snprintf(rec.path, sizeof rec.path, "bench_%02zu.tif", t);
        snprintf(rec.sensor, sizeof rec.sensor, "sentinel-2-l2a");
        bench_date_2024(60 + 8 * (int)t, rec.date); /* 2024-03-01 + 8 t */
        rec.epsg = 32650;
        rec.width = rec.height = 10980;
        rec.lon_min_deg = 113.0;
        rec.lat_min_deg = 35.0;
        rec.lon_max_deg = 116.0;
        rec.lat_max_deg = 38.0;
        snprintf(rec.status, sizeof rec.status, "ingested");
        if (parus_store_tile_begin(s, &rec, &err) != PARUS_OK)
            die(&err, "tile begin");
        for (i = 0; i < n_parcels; i++) {
            double v = 0.001 * (double)((i + t) % 997);
            int j;
            /* every statistic set: the row size of a real observation */
            bench_observation_clear(&o);
            o.w_total_px = 15.5;
            o.w_valid_px = 14.0;
            o.valid_fraction = 14.0 / 15.5;
            for (j = 0; j < PARUS_INDEX_N_; j++) {
                o.mean[j] = v + 0.01 * j;
                o.std[j] = 0.05;
                o.min[j] = v - 0.1;
                o.max[j] = v + 0.1;
            }
            for (j = 0; j < PARUS_ROLE_N_SPECTRAL_; j++)
                o.band_mean[j] = 0.02 * (j + 1) + v * 0.1;
            o.ndvi_p10 = v - 0.05;
            o.ndvi_p50 = v;
            o.ndvi_p90 = v + 0.05;
            o.veg_fraction = 0.8;
            o.water_fraction = 0.01;
            o.edge_share = 0.3;
            o.n_pixels = 15;
            o.n_pure = 9;
            if (parus_store_tile_add(s, &rec, ids[i], &o, &err) != PARUS_OK)
                die(&err, "tile add");
        }
        if (parus_store_tile_commit(s, &rec, &err) != PARUS_OK)
            die(&err, "tile commit");
        printf("tile %zu (%s) stored, %.1f s\n", t + 1, rec.date, now_s() - t0);
        fflush(stdout);
    }
    parus_store_close(s);
    free(set.parcels);
    free(ids);
    free(wkb);
}

struct tally {
    size_t n_parcels, n_points, max_points;
    double sum_ndvi;
    char last_id[16];
    int out_of_order;
};

static int visit(const parus_parcel_brief *p, const parus_series_point *pts, size_t n_pts,
                 void *ctx)
{
    struct tally *t = ctx;
    size_t i;
    if (t->n_parcels && strcmp(t->last_id, p->id) >= 0)
        t->out_of_order = 1;
    snprintf(t->last_id, sizeof t->last_id, "%s", p->id);
    for (i = 0; i < n_pts; i++) {
        t->sum_ndvi += pts[i].obs.mean[PARUS_INDEX_NDVI];
        if (i && strcmp(pts[i - 1].date, pts[i].date) > 0)
            t->out_of_order = 1;
    }
    t->n_parcels++;
    t->n_points += n_pts;
    if (n_pts > t->max_points)
        t->max_points = n_pts;
    return 0;
}

static void walk(parus_store *s, const char *season)
{
    struct tally t;
    parus_error err;
    size_t n = 0;
    double t0, dt;

    memset(&t, 0, sizeof t);
    t0 = now_s();
    if (parus_store_season_walk(s, season, visit, &t, &n, &err) != PARUS_OK)
        die(&err, "walk");
    dt = now_s() - t0;
    printf("season %s: %zu parcels, %zu observations (up to %zu a parcel) in %.2f s: %.0f "
           "parcels/s, %.0f observations/s%s\n",
           season, t.n_parcels, t.n_points, t.max_points, dt, (double)t.n_parcels / dt,
           (double)t.n_points / dt, t.out_of_order ? " OUT OF ORDER" : "");
}

int main(int argc, char **argv)
{
    size_t n_parcels = 140000, n_tiles = 30;
    struct stat sb;
    parus_store *s;
    parus_error err;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: parus-bench-season-walk STORE [N_PARCELS [N_TILES]]\n");
        return 0;
    }
    if (argc < 2 || argc > 4 || argv[1][0] == '-') {
        fprintf(stderr, "usage: parus-bench-season-walk STORE [N_PARCELS [N_TILES]]\n");
        return 2;
    }
    if (argc > 2)
        n_parcels = strtoul(argv[2], NULL, 10);
    if (argc > 3)
        n_tiles = strtoul(argv[3], NULL, 10);
    if (n_parcels == 0 || n_parcels > 9999999 || n_tiles == 0 || n_tiles > 37) {
        fprintf(stderr, "bench-season-walk: 1..9999999 parcels and 1..37 tiles\n");
        return 2;
    }
    /* a PostgreSQL store (a URL or a libpq keyword string) is filled when it holds no store yet */
    if (strncmp(argv[1], "postgres", 8) == 0 || strchr(argv[1], '=')) {
        if (parus_store_open_existing(argv[1], &s, &err) != PARUS_OK) {
            fill(argv[1], n_parcels, n_tiles);
            if (parus_store_open_existing(argv[1], &s, &err) != PARUS_OK)
                die(&err, "open");
        }
    } else {
        if (stat(argv[1], &sb) != 0)
            fill(argv[1], n_parcels, n_tiles);
        if (parus_store_open_existing(argv[1], &s, &err) != PARUS_OK)
            die(&err, "open");
    }
    walk(s, "2024-03-01/2024-12-31");
    walk(s, "2024-03-01/2024-12-31");
    walk(s, "2024-03-01/2024-05-28");
    parus_store_close(s);
    return 0;
}

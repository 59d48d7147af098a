/*
 * bench_query.c - how fast `parus query` answers for one parcel from a county-sized store.
 *
 *   parus-bench-query STORE [--parcels N] [--tiles T] [--queries K] [--bin PARUS]
 *                     [--full PARUS_FULL]
 *
 * Fills STORE (when it does not exist yet) through the public API with N parcels (default
 * 100,000; four per farmer), T ingested tiles (default 48, one every 5 days from 2024-03-03, each
 * observing every parcel with every statistic set: the row size of a real ingest) and one
 * assessed season, 2024-03-01/2024-10-26: a result and an assessment per parcel, a flag on every
 * seventh, peer curves, a limit per farmer, all in one results transaction as `parus assess`
 * writes them. A STORE that exists is used as it is, so the fill is paid once; so is a
 * PostgreSQL store (a postgresql:// URI or libpq keyword string: tools/bench-pg.sh) that holds
 * parcels; an empty PostgreSQL database is filled the same way, through the same API (faster
 * than `parus store copy` of a filled SQLite store at a million parcels).
 *
 * Then, for K random parcels (a fixed seed: the same parcels every run), it times:
 *   library, warm     parus_parcel_view_load on a store opened once (what a long-lived service
 *                     would pay per query);
 *   library, per run  parus_store_open_existing + parus_parcel_view_load + close (the library's
 *                     share of one `parus query`);
 *   command           the whole `parus --db STORE query ID --season S`, started as a process,
 *                     output to /dev/null: wall time from spawn to exit;
 *   start-up floor    `parus --version`, the same way: what the `parus` launcher costs before it
 *                     does anything (it links SQLite, cairo and inih, not GDAL);
 *   full start-up     `parus-full --version`: what a process that loads GDAL, PROJ, XGBoost and
 *                     their libraries costs (every command but query runs there);
 *   query over floor  each command's time less the start-up floor's run just after it: what
 *                     the query itself adds, in pairs, so that a load on a shared machine that
 *                     comes and goes weighs on both sides of each difference;
 * and prints min, p50, p90, p99 and max of each in milliseconds, and the command's p50 against
 * issue 6's target of 50 ms. docs/benchmarks.md has figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "parus/query.h"
#include "parus/store.h"
#include "parus/zonal.h"

#include "bench_store.h"

#ifndef PARUS_FULL_PATH
#define PARUS_FULL_PATH "parus-full"
#endif
#define TARGET_P50_MS 50.0
#ifndef PARUS_BIN_PATH
#define PARUS_BIN_PATH "parus"
#endif

#define SEASON "2024-03-01/2024-10-26"
#define N_STEPS 24
#define FARMER_PARCELS 4

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const parus_error *err, const char *what)
{
    fprintf(stderr, "bench-query: %s: %s\n", what, err->msg);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench-query: out of memory\n");
        exit(1);
    }
    return p;
}

static double curve(size_t parcel, double t_days)
{
    double peak = 0.7 + 0.002 * (double)(parcel % 100), c = 120.0 + (double)(parcel % 21) - 10.0;
    return 0.18 + (peak - 0.18) * exp(-(t_days - c) * (t_days - c) / (2.0 * 35.0 * 35.0));
}

static void fill_tiles(parus_store *s, char (*ids)[24], size_t n_parcels, size_t n_tiles, double t0)
{
    parus_error err;
    size_t t, i;
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
        bench_date_2024(60 + 2 + 5 * (int)t, rec.date); /* 2024-03-03 + 5 t */
        rec.epsg = 32650;
        rec.width = rec.height = 10980;
        rec.geotransform[0] = 399960.0;
        rec.geotransform[1] = 10.0;
        rec.geotransform[3] = 4000020.0;
        rec.geotransform[5] = -10.0;
        rec.lon_min_deg = 113.0;
        rec.lat_min_deg = 35.0;
        rec.lon_max_deg = 116.0;
        rec.lat_max_deg = 38.0;
        snprintf(rec.status, sizeof rec.status, "ingested");
        if (parus_store_tile_begin(s, &rec, &err) != PARUS_OK)
            die(&err, "tile begin");
        for (i = 0; i < n_parcels; i++) {
            bool cloudy = (i * 31 + t * 17) % 5 == 0;
            double v = curve(i, 2.0 + 5.0 * (double)t) - (cloudy ? 0.25 : 0.0);
            int j;
            bench_observation_clear(&o);
            o.w_total_px = 15.5;
            o.w_valid_px = cloudy ? 2.0 : 15.0;
            o.valid_fraction = o.w_valid_px / o.w_total_px;
            for (j = 0; j < PARUS_INDEX_N_; j++) {
                o.mean[j] = j == PARUS_INDEX_NDVI ? v : 0.1 + 0.01 * j;
                o.std[j] = 0.05;
                o.min[j] = o.mean[j] - 0.1;
                o.max[j] = o.mean[j] + 0.1;
            }
            for (j = 0; j < PARUS_ROLE_N_SPECTRAL_; j++)
                o.band_mean[j] = 0.02 * (j + 1) + v * 0.1;
            o.ndvi_p10 = v - 0.05;
            o.ndvi_p50 = v;
            o.ndvi_p90 = v + 0.05;
            o.veg_fraction = v > 0.3 ? 0.9 : 0.1;
            o.water_fraction = 0.01;
            o.edge_share = 0.3;
            o.n_pixels = 15;
            o.n_pure = 9;
            if (parus_store_tile_add(s, &rec, ids[i], &o, &err) != PARUS_OK)
                die(&err, "tile add");
        }
        if (parus_store_tile_commit(s, &rec, &err) != PARUS_OK)
            die(&err, "tile commit");
        printf("tile %zu of %zu (%s) stored, %.0f s\n", t + 1, n_tiles, rec.date, now_s() - t0);
        fflush(stdout);
    }
}

static void fill_results(parus_store *s, char (*ids)[24], size_t n_parcels, double t0)
{
    static const char *const crops[4] = {"summer_maize", "soybean", "peanut", "cotton"};
    static const char *const groups[2] = {"EPSG:32650/399960/4000020", "all"};
    parus_error err;
    int64_t run = 0;
    size_t i, n_farmers = (n_parcels + FARMER_PARCELS - 1) / FARMER_PARCELS;

    if (parus_store_run_begin(s, "parus-bench-query", "assess", &run, &err) != PARUS_OK)
        die(&err, "run begin");
    if (parus_store_results_begin(s, SEASON, run, &err) != PARUS_OK)
        die(&err, "results begin");
    for (i = 0; i < n_parcels; i++) {
        const char *crop = crops[i % 4];
        parus_parcel_result r;
        parus_assessment a;
        memset(&a, 0, sizeof a);
        a.parcel_id = ids[i];
        a.run_id = run;
        a.method = PARUS_ASSESS_MODEL;
        a.confidence = PARUS_CONFIDENCE_NORMAL;
        a.crop = crop;
        a.probability = 0.9;
        a.crop2 = crops[(i + 1) % 4];
        a.margin = 0.7;
        a.model_version = "xgb:bench";
        a.agrees = -1;
        a.n_clear_obs = 38;
        a.first_date = "2024-03-03";
        a.last_date = "2024-10-24";
        if (parus_store_assessments_put(s, &a, &err) != PARUS_OK)
            die(&err, "assessment");
        memset(&r, 0, sizeof r);
        r.parcel_id = ids[i];
        r.crop = crop;
        r.crop_method = PARUS_ASSESS_MODEL;
        r.crop_confidence = PARUS_CONFIDENCE_NORMAL;
        r.crop_probability = 0.9;
        r.n_clear_obs = 38;
        r.first_date = "2024-03-03";
        r.last_date = "2024-10-24";
        r.peer_group = groups[i % 2];
        r.health_class = i % 7 == 0 ? "poor" : "good";
        r.health_score = i % 7 == 0 ? 0.5 : 0.95;
        r.health_reference = "peers";
        r.n_peers = 25000;
        r.green_ratio = r.health_score;
        r.planted_fraction = 0.9;
        r.area_m2 = 1500.0;
        r.planted_area_m2 = 1350.0;
        r.declared_area_m2 = 1450.0;
        r.area_check = "ok";
        r.ndvi_integral_10d = 10.5;
        r.ndvi_peak = 0.8;
        r.yield_expected_kg_per_mu = 600.0;
        r.yield_p10_kg_per_mu = 480.0;
        r.price_cny_per_kg = 2.4;
        r.valued = true;
        r.value_expected_fen = 291600;
        r.value_p10_fen = 233280;
        r.flags = i % 7 == 0 ? "SUDDEN_LOSS" : "";
        if (parus_store_results_put(s, &r, &err) != PARUS_OK)
            die(&err, "result");
        if (parus_store_results_put_credit(s, ids[i], true, r.value_p10_fen,
                                           i % 7 == 0 ? "POOR_HEALTH;EVENT_FLAG" : "",
                                           &err) != PARUS_OK)
            die(&err, "credit");
        if (i % 7 == 0) {
            parus_result_flag f = {NULL,         ids[i], "SUDDEN_LOSS", "2024-06-12",
                                   "2024-10-26", 0.4,    0.8,           "ndvi fell and stayed"};
            if (parus_store_results_put_flag(s, &f, &err) != PARUS_OK)
                die(&err, "flag");
        }
    }
    for (i = 0; i < 8; i++) {
        parus_peer_step steps[N_STEPS];
        size_t k;
        for (k = 0; k < N_STEPS; k++) {
            double m = curve(i, 10.0 * (double)k + 4.5);
            steps[k].step = k;
            bench_date_2024(60 + 10 * (int)k + 4, steps[k].day);
            steps[k].n = 25000;
            steps[k].ndvi_median = m;
            steps[k].ndvi_p25 = m - 0.05;
            steps[k].ndvi_p75 = m + 0.05;
        }
        if (parus_store_results_put_peer_curve(s, crops[i % 4], groups[i / 4], steps, N_STEPS,
                                               &err) != PARUS_OK)
            die(&err, "peer curve");
    }
    for (i = 0; i < n_farmers; i++) {
        char farmer[24];
        parus_limit l;
        snprintf(farmer, sizeof farmer, "F%06zu", i);
        memset(&l, 0, sizeof l);
        l.farmer_id = farmer;
        l.limit_cny = 2000;
        l.currency = "CNY";
        l.n_parcels = l.n_parcels_valued = FARMER_PARCELS;
        l.planted_area_m2 = 5400.0;
        l.declared_area_m2 = 5800.0;
        l.main_crop = "summer_maize";
        l.value_expected_fen = 4 * 291600;
        l.value_p10_fen = 4 * 233280;
        l.health = "good";
        l.flags = "";
        l.reasons = "";
        l.confidence = "normal";
        l.latest_date = "2024-10-24";
        l.model_version = "xgb:bench";
        l.policy_hash = "builtin";
        l.repayment_date = "2024-11-30";
        l.parts = "gross_value_fen=933120;loan_to_value_ppm=600000";
        if (parus_store_results_put_limit(s, &l, &err) != PARUS_OK)
            die(&err, "limit");
    }
    if (parus_store_results_commit(s, &err) != PARUS_OK)
        die(&err, "results commit");
    parus_store_run_end(s, run, "ok", NULL, NULL);
    printf("results of %zu parcels and %zu farmers stored, %.0f s\n", n_parcels, n_farmers,
           now_s() - t0);
}

static void fill(const char *path, size_t n_parcels, size_t n_tiles)
{
    parus_parcel_set set;
    parus_parcel_load_stats stats;
    parus_store *s;
    parus_error err;
    char(*ids)[24], (*farmers)[24];
    unsigned char *wkb;
    size_t i, side = 400;
    double t0 = now_s();

    if (parus_store_open(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    memset(&set, 0, sizeof set);
    set.parcels = xcalloc(n_parcels, sizeof *set.parcels);
    ids = xcalloc(n_parcels, sizeof *ids);
    farmers = xcalloc(n_parcels, sizeof *farmers);
    wkb = xcalloc(n_parcels, 93);
    set.n_parcels = n_parcels;
    for (i = 0; i < n_parcels; i++) {
        parus_parcel *p = &set.parcels[i];
        double x0 = 114.0 + 0.0005 * (double)(i % side), y0 = 36.0 + 0.0005 * (double)(i / side);
        snprintf(ids[i], sizeof ids[i], "P%07zu", i);
        snprintf(farmers[i], sizeof farmers[i], "F%06zu", i / FARMER_PARCELS);
        p->id = ids[i];
        p->farmer_id = farmers[i];
        p->lon_min_deg = x0;
        p->lat_min_deg = y0;
        p->lon_max_deg = x0 + 0.0004;
        p->lat_max_deg = y0 + 0.0004;
        p->area_m2 = 1500.0;
        p->declared_area_m2 = 1450.0;
        bench_rect_wkb(x0, y0, x0 + 0.0004, y0 + 0.0004, wkb + 93 * i);
        p->wkb = wkb + 93 * i;
        p->wkb_size = 93;
    }
    if (parus_store_put_parcels(s, &set, "bench", &stats, &err) != PARUS_OK)
        die(&err, "put parcels");
    printf("%zu parcels stored, %.0f s\n", n_parcels, now_s() - t0);
    fill_tiles(s, ids, n_parcels, n_tiles, t0);
    fill_results(s, ids, n_parcels, t0);
    parus_store_close(s);
    free(set.parcels);
    free(ids);
    free(farmers);
    free(wkb);
}

/* Whether the PostgreSQL store at conninfo holds no parcel (its schema is created if need be). */
static bool server_store_empty(const char *conninfo)
{
    parus_store *s;
    parus_store_counts c;
    parus_error err;
    if (parus_store_open(conninfo, &s, &err) != PARUS_OK)
        die(&err, "open");
    if (parus_store_get_counts(s, &c, &err) != PARUS_OK)
        die(&err, "counts");
    parus_store_close(s);
    return c.n_parcels == 0;
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    double f = pos - (double)lo;
    return lo + 1 < n ? sorted[lo] * (1.0 - f) + sorted[lo + 1] * f : sorted[lo];
}

static void report(const char *what, double *ms, size_t n)
{
    qsort(ms, n, sizeof *ms, cmp_double);
    printf("%-22s n %4zu  min %7.2f  p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms\n", what, n,
           ms[0], quantile(ms, n, 0.5), quantile(ms, n, 0.9), quantile(ms, n, 0.99), ms[n - 1]);
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: a fixed sequence, so every run queries the same parcels */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ull;
}

/* Run argv as a process with stdout and stderr to /dev/null; its wall time in ms. */
static double run_ms(char *const argv[], int want_rc)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    double t0 = now_s();
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench-query: cannot run '%s'\n", argv[0]);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != want_rc) {
        fprintf(stderr, "bench-query: '%s %s' failed (status %d)\n", argv[0], argv[1], status);
        exit(1);
    }
    return 1000.0 * (now_s() - t0);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *bin = PARUS_BIN_PATH, *full = PARUS_FULL_PATH;
    size_t n_parcels = 100000, n_tiles = 48, n_queries = 200, i;
    struct stat sb;
    parus_store *s;
    parus_parcel_view v;
    parus_store_counts c;
    parus_error err;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    double *warm, *cold, *cmd, *floor_ms, *full_ms, *over;
    char(*ids)[24];
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--parcels") == 0 && a + 1 < argc)
            n_parcels = (size_t)strtoul(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--tiles") == 0 && a + 1 < argc)
            n_tiles = (size_t)strtoul(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--queries") == 0 && a + 1 < argc)
            n_queries = (size_t)strtoul(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--full") == 0 && a + 1 < argc)
            full = argv[++a];
        else if (strcmp(argv[a], "--bin") == 0 && a + 1 < argc)
            bin = argv[++a];
        else if (argv[a][0] != '-' && !path)
            path = argv[a];
        else {
            fprintf(stderr, "usage: parus-bench-query STORE [--parcels N] [--tiles T] "
                            "[--queries K] [--bin PARUS] [--full PARUS_FULL]\n");
            return 2;
        }
    }
    if (!path || n_parcels == 0 || n_tiles == 0 || n_tiles > 58 || n_queries == 0) {
        fprintf(stderr, "usage: parus-bench-query STORE [--parcels N] [--tiles T (1..58)] "
                        "[--queries K] [--bin PARUS] [--full PARUS_FULL]\n");
        return 2;
    }
    /* a PostgreSQL store (tools/bench-pg.sh copies the filled SQLite store into one) is used as
     * it is, unless it is empty */
    if (parus_store_is_server(path) ? server_store_empty(path) : stat(path, &sb) != 0)
        fill(path, n_parcels, n_tiles);

    if (parus_store_open_existing(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    if (parus_store_get_counts(s, &c, &err) != PARUS_OK)
        die(&err, "counts");
    printf("store %s: %zu parcels, %zu farmers, %zu tiles, %zu observations, %zu results, %zu "
           "limits\n",
           path, c.n_parcels, c.n_farmers, c.n_tiles, c.n_observations, c.n_parcel_results,
           c.n_limits);
    n_parcels = c.n_parcels;
    ids = xcalloc(n_queries, sizeof *ids);
    for (i = 0; i < n_queries; i++)
        snprintf(ids[i], sizeof ids[i], "P%07zu", (size_t)(next_random(&seed) % n_parcels));
    warm = xcalloc(n_queries, sizeof *warm);
    cold = xcalloc(n_queries, sizeof *cold);
    cmd = xcalloc(n_queries, sizeof *cmd);
    floor_ms = xcalloc(n_queries, sizeof *floor_ms);
    full_ms = xcalloc(n_queries, sizeof *full_ms);
    over = xcalloc(n_queries, sizeof *over);

    /* library, warm: one store, many views (the first query warms the statement cache) */
    parus_parcel_view_init(&v);
    if (parus_parcel_view_load(s, SEASON, ids[0], NULL, &v, &err) != PARUS_OK)
        die(&err, "view");
    for (i = 0; i < n_queries; i++) {
        double t0 = now_s();
        if (parus_parcel_view_load(s, SEASON, ids[i], NULL, &v, &err) != PARUS_OK)
            die(&err, "view");
        warm[i] = 1000.0 * (now_s() - t0);
        if (!v.assessed || v.n_obs == 0) {
            fprintf(stderr, "bench-query: parcel %s has no result or observation\n", ids[i]);
            return 1;
        }
    }
    parus_parcel_view_release(&v);
    parus_store_close(s);

    /* library, per run: open, view, close */
    for (i = 0; i < n_queries; i++) {
        double t0 = now_s();
        if (parus_store_open_existing(path, &s, &err) != PARUS_OK)
            die(&err, "open");
        parus_parcel_view_init(&v);
        if (parus_parcel_view_load(s, SEASON, ids[i], NULL, &v, &err) != PARUS_OK)
            die(&err, "view");
        parus_parcel_view_release(&v);
        parus_store_close(s);
        cold[i] = 1000.0 * (now_s() - t0);
    }

    /* the whole command, and the start-up floor, in turn */
    for (i = 0; i < n_queries; i++) {
        char *q[] = {(char *)bin, "--db", (char *)path, "query", ids[i], "--season", SEASON, NULL};
        char *f[] = {(char *)bin, "--version", NULL};
        char *g[] = {(char *)full, "--version", NULL};
        cmd[i] = run_ms(q, 0);
        floor_ms[i] = run_ms(f, 0);
        full_ms[i] = run_ms(g, 0);
        over[i] = cmd[i] - floor_ms[i];
    }

    printf("%zu random parcels of %zu, season %s\n", n_queries, n_parcels, SEASON);
    report("library, warm store", warm, n_queries);
    report("library, open+view", cold, n_queries);
    report("parus query (process)", cmd, n_queries);
    report("parus --version", floor_ms, n_queries);
    report("parus-full --version", full_ms, n_queries);
    report("query over --version", over, n_queries);
    {
        double p50 = quantile(cmd, n_queries, 0.5); /* cmd is sorted by report */
        printf("parus query p50 %.2f ms: %s issue 6's target of %.0f ms (%.3f of it)\n", p50,
               p50 <= TARGET_P50_MS ? "meets" : "misses", TARGET_P50_MS, p50 / TARGET_P50_MS);
    }
    free(ids);
    free(warm);
    free(cold);
    free(cmd);
    free(floor_ms);
    free(full_ms);
    free(over);
    return 0;
}

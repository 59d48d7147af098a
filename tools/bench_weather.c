/*
 * bench_weather.c - the weather benchmark (issue 12): a year of daily 0.1 degree grids over a
 * province, imported, and the per-parcel weather of 140,000 parcels, each stage against its floor
 * measured in the same run.
 *
 *   parus-bench-weather DIR [N_PARCELS] [REPEAT]
 *
 * DIR receives (once, cached) three GeoTIFF stacks of 2024 (precip, tmin, tmax; 24 x 16 cells
 * of 0.1 degree over 113.0-115.4 E, 36.0-37.6 N, 366 bands, Float32, DEFLATE) and a store of
 * N_PARCELS (default 140,000) 40 m square parcels spread over the grid. Then, REPEAT times
 * (default 3, medians printed):
 *   decode floor   GDAL reads every band of the three files and each band's DATE (what any
 *                  reader must do);
 *   import         parus_weather_import of the three files into a fresh store without parcels;
 *   weights        parus_weather_weights_update of the parcels (first time: all computed);
 *   read floor     the season's stored values (2024-03-01 .. 2024-10-31) of every cell and every
 *                  stored weight read once with plain SQL (no join, no arithmetic);
 *   per parcel     parus_store_weather_parcel of every parcel over the season, its rain summed
 *                  (the single-parcel path `parus query` takes);
 *   reader         parus_weather_reader_open over the season, then every parcel's series from
 *                  it, its rain summed (the path a season's assessment takes).
 * Ratios: import / decode floor, per parcel and reader / read floor. Read the ratios, not the
 * seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_string.h>
#include <gdal.h>
#include <sqlite3.h>

#include "parus/store.h"
#include "parus/weather.h"

#include "bench_store.h"

#define W 24
#define H 16
#define DAYS 366
#define RES 0.1
#define LON0 113.0
#define LAT1 37.6

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const parus_error *err, const char *what)
{
    fprintf(stderr, "bench-weather: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench-weather: out of memory\n");
        exit(1);
    }
    return p;
}

static const char *const vars[3] = {"precip", "tmin", "tmax"};

static void write_stack(const char *path, int v)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **opts = NULL, date[11];
    double gt[6] = {LON0, RES, 0, LAT1, 0, -RES};
    float *buf = xcalloc((size_t)W * H, sizeof *buf);
    GDALDatasetH ds;
    int d, k;
    unsigned s = 12345u + (unsigned)v;
    opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    ds = GDALCreate(drv, path, W, H, DAYS, GDT_Float32, opts);
    CSLDestroy(opts);
    if (!ds) {
        fprintf(stderr, "bench-weather: cannot write %s\n", path);
        exit(1);
    }
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, "EPSG:4326");
    GDALSetMetadataItem(ds, "VARIABLE", vars[v], NULL);
    for (d = 0; d < DAYS; d++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, d + 1);
        double season = sin(2.0 * 3.14159265358979 * ((double)d - 105.0) / 366.0);
        for (k = 0; k < W * H; k++) {
            s = s * 1103515245u + 12345u;
            double u = (double)((s >> 8) & 0xffff) / 65536.0;
            buf[k] = v == 0   ? (u < 0.25 ? (float)(20.0 * u * (1.2 + season)) : 0.0f)
                     : v == 1 ? (float)(8.0 + 14.0 * season + 3.0 * u)
                              : (float)(19.0 + 13.0 * season + 3.0 * u);
        }
        bench_date_2024(d, date);
        GDALSetMetadataItem(b, "DATE", date, NULL);
        GDALSetRasterUnitType(b, v == 0 ? "mm" : "degC");
        if (GDALRasterIO(b, GF_Write, 0, 0, W, H, buf, W, H, GDT_Float32, 0, 0) != CE_None)
            exit(1);
    }
    GDALClose(ds);
    free(buf);
}

/* Every band of a file read, with its DATE: what any reader of the file must do. */
static double decode(char paths[3][4096])
{
    float *buf = xcalloc((size_t)W * H, sizeof *buf);
    double t0 = now_s(), sum = 0;
    int v, d, k;
    for (v = 0; v < 3; v++) {
        GDALDatasetH ds = GDALOpen(paths[v], GA_ReadOnly);
        if (!ds)
            exit(1);
        for (d = 0; d < GDALGetRasterCount(ds); d++) {
            GDALRasterBandH b = GDALGetRasterBand(ds, d + 1);
            const char *date = GDALGetMetadataItem(b, "DATE", NULL);
            if (!date ||
                GDALRasterIO(b, GF_Read, 0, 0, W, H, buf, W, H, GDT_Float32, 0, 0) != CE_None)
                exit(1);
            for (k = 0; k < W * H; k++)
                sum += (double)buf[k];
        }
        GDALClose(ds);
    }
    free(buf);
    if (sum == 12345.678)
        printf(" ");
    return now_s() - t0;
}

static double import(char paths[3][4096], const char *store_path)
{
    parus_store *s;
    parus_error err;
    double t0;
    int v;
    unlink(store_path);
    if (parus_store_open(store_path, &s, &err) != PARUS_OK)
        die(&err, "open");
    t0 = now_s();
    for (v = 0; v < 3; v++)
        if (parus_weather_import(s, paths[v], NULL, NULL, &err) != PARUS_OK)
            die(&err, "import");
    t0 = now_s() - t0;
    parus_store_close(s);
    return t0;
}

static void fill_parcels(const char *path, size_t n, char paths[3][4096])
{
    parus_parcel_set set;
    parus_parcel_load_stats stats;
    parus_store *s;
    parus_error err;
    char(*ids)[24];
    unsigned char *wkb;
    size_t i, side = 400;
    int v;
    if (parus_store_open(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    memset(&set, 0, sizeof set);
    set.parcels = xcalloc(n, sizeof *set.parcels);
    ids = xcalloc(n, sizeof *ids);
    wkb = xcalloc(n, 93);
    set.n_parcels = n;
    for (i = 0; i < n; i++) {
        parus_parcel *p = &set.parcels[i];
        double x0 = LON0 + 0.1 + 0.0055 * (double)(i % side);
        double y0 = LAT1 - 1.55 + 0.0041 * (double)((i / side) % 365);
        snprintf(ids[i], sizeof ids[i], "P%07zu", i);
        p->id = ids[i];
        p->lon_min_deg = x0;
        p->lat_min_deg = y0;
        p->lon_max_deg = x0 + 0.0004;
        p->lat_max_deg = y0 + 0.0004;
        p->area_m2 = 1600.0;
        p->declared_area_m2 = NAN;
        bench_rect_wkb(x0, y0, x0 + 0.0004, y0 + 0.0004, wkb + 93 * i);
        p->wkb = wkb + 93 * i;
        p->wkb_size = 93;
    }
    if (parus_store_put_parcels(s, &set, "bench", &stats, &err) != PARUS_OK)
        die(&err, "put parcels");
    for (v = 0; v < 3; v++)
        if (parus_weather_import(s, paths[v], NULL, NULL, &err) != PARUS_OK)
            die(&err, "import");
    parus_store_close(s);
    free(set.parcels);
    free(ids);
    free(wkb);
}

static double weights(const char *path, size_t *n_computed)
{
    parus_store *s;
    parus_error err;
    parus_weather_weight_stats st;
    double t0;
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "DELETE FROM weather_weights; DELETE FROM weather_parcel_grids;", NULL,
                     NULL, NULL) != SQLITE_OK)
        exit(1);
    sqlite3_close(db);
    if (parus_store_open(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    t0 = now_s();
    if (parus_weather_weights_update(s, &st, &err) != PARUS_OK)
        die(&err, "weights");
    t0 = now_s() - t0;
    *n_computed = st.n_computed;
    parus_store_close(s);
    return t0;
}

/* The season's values of every cell and every weight, read once with plain SQL. */
static double read_floor(const char *path, size_t *n_rows)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    double t0 = now_s(), sum = 0;
    int64_t first = 19783, last = 20027; /* 2024-03-01, 2024-10-31 */
    *n_rows = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        exit(1);
    if (sqlite3_prepare_v2(db,
                           "SELECT grid_id, cell, variable, day, value FROM weather_values "
                           "WHERE day BETWEEN ?1 AND ?2",
                           -1, &st, NULL) != SQLITE_OK)
        exit(1);
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sum += sqlite3_column_double(st, 4) + (double)sqlite3_column_int(st, 1);
        (*n_rows)++;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT parcel_num, grid_id, cell, weight FROM weather_weights", -1,
                           &st, NULL) != SQLITE_OK)
        exit(1);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sum += sqlite3_column_double(st, 3);
        (*n_rows)++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (sum == 12345.678)
        printf(" ");
    return now_s() - t0;
}

/* Add a series' rain to *total and count it, when covered; release it. */
static void add_rain(parus_weather_series *ser, double *total, size_t *n_cov)
{
    size_t k;
    if (ser->covered) {
        for (k = 0; k < ser->n_days; k++)
            *total += ser->days[k].value[PARUS_WEATHER_PRECIP_MM];
        (*n_cov)++;
    }
    parus_weather_series_release(ser);
}

/* Every parcel's season read and its rain summed: through parus_store_weather_parcel (one join
 * a parcel), or, with_reader, through one parus_weather_reader (opened inside the timing). */
static double season_reads(const char *path, size_t n, bool with_reader, double *mean_rain_mm)
{
    parus_store *s;
    parus_weather_reader *r = NULL;
    parus_error err;
    double t0, total = 0;
    size_t i, n_cov = 0;
    char id[24];
    if (parus_store_open_readonly(path, &s, &err) != PARUS_OK)
        die(&err, "open");
    t0 = now_s();
    if (with_reader &&
        parus_weather_reader_open(s, "2024-03-01", "2024-10-31", &r, &err) != PARUS_OK)
        die(&err, "reader");
    for (i = 0; i < n; i++) {
        parus_weather_series ser;
        snprintf(id, sizeof id, "P%07zu", i);
        if ((r ? parus_weather_reader_parcel(r, id, "2024-03-01", "2024-10-31", &ser, &err)
               : parus_store_weather_parcel(s, id, "2024-03-01", "2024-10-31", &ser, &err)) !=
            PARUS_OK)
            die(&err, "parcel");
        add_rain(&ser, &total, &n_cov);
    }
    parus_weather_reader_free(r);
    t0 = now_s() - t0;
    parus_store_close(s);
    *mean_rain_mm = n_cov ? total / (double)n_cov : (double)NAN;
    return t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    char paths[3][4096], store[4096], pstore[4096], done[4096];
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 140000, n_rows = 0, n_w = 0;
    int repeat = argc > 3 ? atoi(argv[3]) : 3, r, v;
    double t[6][16], rain = NAN, rain2 = NAN;
    struct stat sb;
    if (argc < 2 || n == 0 || repeat < 1 || repeat > 16) {
        fprintf(stderr, "usage: parus-bench-weather DIR [N_PARCELS] [REPEAT]\n");
        return 2;
    }
    GDALAllRegister();
    mkdir(argv[1], 0777);
    for (v = 0; v < 3; v++)
        snprintf(paths[v], sizeof paths[v], "%s/%s_2024.tif", argv[1], vars[v]);
    snprintf(store, sizeof store, "%s/import.sqlite", argv[1]);
    snprintf(pstore, sizeof pstore, "%s/parcels-%zu.sqlite", argv[1], n);
    snprintf(done, sizeof done, "%s/parcels-%zu.done", argv[1], n);
    if (stat(paths[2], &sb) != 0) {
        for (v = 0; v < 3; v++)
            write_stack(paths[v], v);
        unlink(done);
    }
    if (stat(done, &sb) != 0) {
        double t0 = now_s();
        unlink(pstore);
        fill_parcels(pstore, n, paths);
        fclose(fopen(done, "w"));
        printf("store of %zu parcels filled, %.1f s\n", n, now_s() - t0);
    }
    for (r = 0; r < repeat; r++) {
        t[0][r] = decode(paths);
        t[1][r] = import(paths, store);
        t[2][r] = weights(pstore, &n_w);
        t[3][r] = read_floor(pstore, &n_rows);
        t[4][r] = season_reads(pstore, n, false, &rain);
        t[5][r] = season_reads(pstore, n, true, &rain2);
    }
    {
        double dec = median(t[0], repeat), imp = median(t[1], repeat), wts = median(t[2], repeat),
               rf = median(t[3], repeat), pp = median(t[4], repeat), rd = median(t[5], repeat);
        printf("grid %d x %d cells of %.2f deg, %d days, 3 variables; %zu parcels; %d repeats "
               "(medians)\n",
               W, H, RES, DAYS, n, repeat);
        printf("decode floor   %8.3f s\n", dec);
        printf("import         %8.3f s   %.2f x the decode floor\n", imp, imp / dec);
        printf("weights        %8.3f s   %zu parcels weighed (%.1f us each)\n", wts, n_w,
               1e6 * wts / (double)(n_w ? n_w : 1));
        printf("read floor     %8.3f s   %zu rows (season values + weights)\n", rf, n_rows);
        printf("per parcel     %8.3f s   %.2f x the read floor (%.3f ms a parcel; mean season "
               "rain %.1f mm)\n",
               pp, pp / rf, 1e3 * pp / (double)n, rain);
        printf("reader         %8.3f s   %.2f x the read floor (%.4f ms a parcel; mean season "
               "rain %.1f mm)\n",
               rd, rd / rf, 1e3 * rd / (double)n, rain2);
    }
    unlink(store);
    return 0;
}

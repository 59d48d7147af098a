/*
 * test_kernel.c - the streaming pass: hand-checked statistics on a tiny lon/lat tile, agreement
 * with a brute-force computation across block boundaries, bitwise equality for any thread count,
 * a truncated tile, and the real Havelland tile against its exact-coverage reference.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "test_support.h"

#include "parus/coverage.h"
#include "parus/kernel.h"
#include "parus/parcels.h"
#include "parus/raster.h"

/* ---- fixtures ---- */

/* Little-endian WKB of one polygon ring (closed by the caller or not). */
static unsigned char *wkb_polygon(const double *xy, size_t n, size_t *size)
{
    size_t bytes = 1 + 4 + 4 + 4 + 16 * (n + 1), i;
    unsigned char *w = malloc(bytes), *p = w;
    uint32_t v;
    *p++ = 1;
    v = 3;
    memcpy(p, &v, 4);
    p += 4;
    v = 1;
    memcpy(p, &v, 4);
    p += 4;
    v = (uint32_t)(n + 1);
    memcpy(p, &v, 4);
    p += 4;
    for (i = 0; i <= n; i++) {
        memcpy(p, &xy[2 * (i % n)], 8);
        memcpy(p + 8, &xy[2 * (i % n) + 1], 8);
        p += 16;
    }
    *size = bytes;
    return w;
}

static void parcel_from_ring(parus_parcel *p, const char *id, const double *xy, size_t n)
{
    memset(p, 0, sizeof *p);
    p->id = (char *)id;
    p->wkb = wkb_polygon(xy, n, &p->wkb_size);
}

/* A generic Float32 tile in EPSG:4326 with bands described red and nir: pixel (r, c) spans
 * lon [x0 + c*res, x0 + (c+1)*res], lat [y0 - (r+1)*res, y0 - r*res]. */
static const double X0 = 110.0, Y0 = 30.0, RES = 0.001;

static void write_tile(const char *path, size_t w, size_t h, size_t block, const float *red,
                       const float *nir)
{
    GDALDriverH drv;
    char bx[32], by[32];
    char *opts[] = {"TILED=YES", bx, by, "COMPRESS=DEFLATE", NULL};
    GDALDatasetH ds;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    double gt[6] = {X0, RES, 0, Y0, 0, -RES};

    snprintf(bx, sizeof bx, "BLOCKXSIZE=%zu", block);
    snprintf(by, sizeof by, "BLOCKYSIZE=%zu", block);
    GDALAllRegister();
    drv = GDALGetDriverByName("GTiff");
    ds = GDALCreate(drv, path, (int)w, (int)h, 2, GDT_Float32, block ? opts : NULL);
    assert_non_null(ds);
    OSRImportFromEPSG(srs, 4326);
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    GDALSetGeoTransform(ds, gt);
    GDALSetMetadataItem(ds, "ACQUISITION_DATE", "2024-06-01", NULL);
    GDALSetDescription(GDALGetRasterBand(ds, 1), "red");
    GDALSetDescription(GDALGetRasterBand(ds, 2), "nir");
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), -1.0);
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 2), -1.0);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, (int)w, (int)h,
                                  (void *)red, (int)w, (int)h, GDT_Float32, 0, 0),
                     CE_None);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 2), GF_Write, 0, 0, (int)w, (int)h,
                                  (void *)nir, (int)w, (int)h, GDT_Float32, 0, 0),
                     CE_None);
    GDALClose(ds);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
}

static parus_tile *open_tile(const char *path)
{
    parus_tile *t = NULL;
    parus_error err;
    if (parus_tile_open(&path, 1, NULL, &t, &err) != PARUS_OK)
        fail_msg("cannot open '%s': %s", path, err.msg);
    return t;
}

/* grid (col, row) -> lon/lat */
static double lon_of(double col)
{
    return X0 + col * RES;
}
static double lat_of(double row)
{
    return Y0 - row * RES;
}

/* ---- cases ---- */

static void test_measure__hand_checked_square(void **state)
{
    char *dir = parus_test_tmpdir("kernel");
    char *path = parus_test_path(dir, "t.tif");
    float red[16], nir[16];
    parus_parcel p[2];
    parus_observation obs[2];
    parus_measure_stats st;
    parus_error err;
    parus_tile *tile;
    double sq[8], off[8];
    double sw = 0, swx = 0, swx2 = 0, mean;
    int r, c;
    (void)state;

    for (r = 0; r < 4; r++)
        for (c = 0; c < 4; c++) {
            red[r * 4 + c] = 0.1f;
            nir[r * 4 + c] = 0.1f + 0.05f * (float)(r * 4 + c); /* a different NDVI each */
        }
    red[1 * 4 + 1] = -1.0f; /* nodata inside the parcel: weight in the total, not in the mean */
    write_tile(path, 4, 4, 0, red, nir);
    tile = open_tile(path);

    /* the square [0.5, 2.5] x [0.5, 2.5] in grid units */
    sq[0] = lon_of(0.5), sq[1] = lat_of(0.5), sq[2] = lon_of(2.5), sq[3] = lat_of(0.5);
    sq[4] = lon_of(2.5), sq[5] = lat_of(2.5), sq[6] = lon_of(0.5), sq[7] = lat_of(2.5);
    parcel_from_ring(&p[0], "SQ", sq, 4);
    off[0] = 0, off[1] = 0, off[2] = 1, off[3] = 0, off[4] = 1, off[5] = 1, off[6] = 0, off[7] = 1;
    parcel_from_ring(&p[1], "OFF", off, 4); /* far away */

    assert_int_equal(parus_tile_measure(tile, p, 2, NULL, obs, &st, &err), PARUS_OK);

    for (r = 0; r < 3; r++)
        for (c = 0; c < 3; c++) {
            double w = (r == 1 ? 1.0 : 0.5) * (c == 1 ? 1.0 : 0.5);
            double x;
            if (r == 1 && c == 1)
                continue;
            x = ((double)nir[r * 4 + c] - (double)red[r * 4 + c]) /
                ((double)nir[r * 4 + c] + (double)red[r * 4 + c]);
            sw += w;
            swx += w * x;
            swx2 += w * x * x;
        }
    mean = swx / sw;
    assert_close(obs[0].w_total_px, 4.0, 1e-9, 0);
    assert_close(obs[0].w_valid_px, 3.0, 1e-9, 0);
    assert_close(obs[0].valid_fraction, 0.75, 1e-9, 0);
    assert_close(obs[0].mean[PARUS_INDEX_NDVI], mean, 0, 1e-6);
    assert_close(obs[0].std[PARUS_INDEX_NDVI], sqrt(swx2 / sw - mean * mean), 0, 1e-5);
    assert_int_equal(obs[0].n_pixels, 9);
    assert_int_equal(obs[0].n_pure, 0);                /* the one full pixel is the nodata one */
    assert_true(isnan(obs[0].mean[PARUS_INDEX_NDWI])); /* no green band */
    assert_close(obs[0].band_mean[PARUS_ROLE_RED], 0.1, 1e-6, 0);
    /* the far parcel: an observation that says it saw nothing */
    assert_close(obs[1].w_total_px, 0.0, 0, 0);
    assert_true(isnan(obs[1].mean[PARUS_INDEX_NDVI]));
    assert_int_equal(st.n_parcels_on_tile, 1);
    assert_int_equal(st.n_blocks_read, st.n_blocks);

    free(p[0].wkb);
    free(p[1].wkb);
    parus_tile_free(tile);
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static uint64_t rs = 2024;
static double rnd(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) * (1.0 / 9007199254740992.0);
}

enum { BW = 300, BH = 200, NP = 120 };

struct multi {
    char *dir, *path;
    float *red, *nir;
    parus_parcel p[NP];
    double rings[NP][2 * 12]; /* grid coordinates */
};

static void make_multi(struct multi *m)
{
    size_t i, k;
    m->dir = parus_test_tmpdir("kernel-multi");
    m->path = parus_test_path(m->dir, "multi.tif");
    m->red = malloc(BW * BH * sizeof *m->red);
    m->nir = malloc(BW * BH * sizeof *m->nir);
    for (i = 0; i < (size_t)BW * BH; i++) {
        m->red[i] = (float)(0.05 + 0.1 * rnd());
        m->nir[i] = (float)(0.1 + 0.4 * rnd());
        if (rnd() < 0.02)
            m->red[i] = -1.0f; /* nodata sprinkled */
    }
    write_tile(m->path, BW, BH, 64, m->red, m->nir); /* 64 x 64 blocks: parcels straddle them */
    for (i = 0; i < NP; i++) {
        double cx = -5 + (BW + 10) * rnd(), cy = -5 + (BH + 10) * rnd(); /* some cross edges */
        double lonlat[2 * 12];
        for (k = 0; k < 12; k++) {
            double t = 2 * 3.141592653589793 * ((double)k + 0.7 * rnd()) / 12.0;
            double rad = 0.4 + 9 * rnd();
            m->rings[i][2 * k] = cx + rad * cos(t);
            m->rings[i][2 * k + 1] = cy + rad * sin(t);
            lonlat[2 * k] = lon_of(m->rings[i][2 * k]);
            lonlat[2 * k + 1] = lat_of(m->rings[i][2 * k + 1]);
        }
        parcel_from_ring(&m->p[i], "P", lonlat, 12);
    }
}

static void free_multi(struct multi *m)
{
    size_t i;
    for (i = 0; i < NP; i++)
        free(m->p[i].wkb);
    free(m->red);
    free(m->nir);
    parus_test_rmtree(m->dir);
    free(m->dir);
    free(m->path);
}

static void test_measure__matches_brute_force_across_blocks(void **state)
{
    struct multi m;
    parus_observation *obs = calloc(NP, sizeof *obs);
    parus_tile *tile;
    parus_error err;
    size_t i, c;
    (void)state;
    make_multi(&m);
    tile = open_tile(m.path);
    assert_int_equal(parus_tile_measure(tile, m.p, NP, NULL, obs, NULL, &err), PARUS_OK);
    for (i = 0; i < NP; i++) {
        size_t start[2] = {0, 12};
        bool hole = false;
        parus_polygon poly = {m.rings[i], start, &hole, 1};
        parus_cover cv;
        double sw = 0, swx = 0, wt = 0;
        assert_int_equal(parus_cover_compute(&poly, BW, BH, &cv, &err), PARUS_OK);
        for (c = 0; c < cv.n_cells; c++) {
            size_t px = (size_t)cv.cells[c].row * BW + cv.cells[c].col;
            double f = cv.cells[c].fraction;
            wt += f;
            if (m.red[px] < 0)
                continue;
            sw += f;
            swx += f * ((double)m.nir[px] - (double)m.red[px]) /
                   ((double)m.nir[px] + (double)m.red[px]);
        }
        /* lon/lat -> grid goes through PROJ (identity here) and the geotransform: 1e-9 px */
        assert_close(obs[i].w_total_px, wt, 1e-6, 1e-9);
        assert_close(obs[i].w_valid_px, sw, 1e-6, 1e-9);
        if (sw > 0)
            assert_close(obs[i].mean[PARUS_INDEX_NDVI], swx / sw, 1e-7, 1e-6);
        else
            assert_true(isnan(obs[i].mean[PARUS_INDEX_NDVI]));
        parus_cover_release(&cv);
    }
    parus_tile_free(tile);
    free(obs);
    free_multi(&m);
}

/* A field whose own value is x, next to land whose value is b: the pixels the parcel covers by a
 * fraction c hold c x + (1 - c) b. The coverage-weighted mean mixes b in; the own value is x. */
static void test_measure__unmixes_edge_pixels_against_outside_neighbours(void **state)
{
    char *dir = parus_test_tmpdir("kernel");
    char *path = parus_test_path(dir, "mix.tif");
    const float x_red = 0.04f, x_nir = 0.50f, b_red = 0.15f, b_nir = 0.20f;
    float red[36], nir[36];
    parus_parcel p;
    parus_observation obs;
    parus_error err;
    parus_tile *tile;
    double ring[8];
    int r, c;
    (void)state;

    /* the parcel: columns [1, 3.5) x rows [1, 5) of a 6 x 6 grid */
    for (r = 0; r < 6; r++)
        for (c = 0; c < 6; c++) {
            float cov = r >= 1 && r <= 4 ? (c == 1 || c == 2 ? 1.0f : c == 3 ? 0.5f : 0.0f) : 0.0f;
            red[r * 6 + c] = cov * x_red + (1.0f - cov) * b_red;
            nir[r * 6 + c] = cov * x_nir + (1.0f - cov) * b_nir;
        }
    write_tile(path, 6, 6, 0, red, nir);
    tile = open_tile(path);
    ring[0] = lon_of(1.0), ring[1] = lat_of(1.0), ring[2] = lon_of(3.5), ring[3] = lat_of(1.0);
    ring[4] = lon_of(3.5), ring[5] = lat_of(5.0), ring[6] = lon_of(1.0), ring[7] = lat_of(5.0);
    parcel_from_ring(&p, "STRIP", ring, 4);
    assert_int_equal(parus_tile_measure(tile, &p, 1, NULL, &obs, NULL, &err), PARUS_OK);

    assert_close(obs.w_total_px, 10.0, 1e-6, 0);
    /* mixed: (8 x 0.04 + 4 x 0.5 x 0.095) / 10 = 0.051 */
    assert_close(obs.band_mean[PARUS_ROLE_RED], 0.051, 1e-6, 0);
    /* own: the half-covered pixels' outside neighbours are pure background */
    assert_close(obs.own_band_mean[PARUS_ROLE_RED], x_red, 1e-6, 0);
    assert_close(obs.own_band_mean[PARUS_ROLE_NIR], x_nir, 1e-6, 0);
    assert_close(obs.own_mean[PARUS_INDEX_NDVI], (0.50 - 0.04) / (0.50 + 0.04), 1e-6, 0);
    assert_true(obs.mean[PARUS_INDEX_NDVI] < obs.own_mean[PARUS_INDEX_NDVI] - 0.03);
    assert_close(obs.own_unmixed_share, 2.0 / 10.0, 1e-6, 0);
    assert_close(obs.own_veg_fraction, 1.0, 0, 0);
    assert_true(isnan(obs.own_band_mean[PARUS_ROLE_SWIR1]));
    parus_tile_free(tile);

    /* the other way round: a bare parcel beside green land. Its half-covered pixels read green
     * (NDVI 0.57) and count in the vegetated fraction; judged on their own value they do not. */
    for (r = 0; r < 6; r++)
        for (c = 0; c < 6; c++) {
            float cov = r >= 1 && r <= 4 ? (c == 1 || c == 2 ? 1.0f : c == 3 ? 0.5f : 0.0f) : 0.0f;
            red[r * 6 + c] = cov * b_red + (1.0f - cov) * x_red;
            nir[r * 6 + c] = cov * b_nir + (1.0f - cov) * x_nir;
        }
    write_tile(path, 6, 6, 0, red, nir);
    tile = open_tile(path);
    assert_int_equal(parus_tile_measure(tile, &p, 1, NULL, &obs, NULL, &err), PARUS_OK);
    assert_close(obs.veg_fraction, 2.0 / 10.0, 1e-6, 0);
    assert_close(obs.own_veg_fraction, 0.0, 0, 0);
    assert_close(obs.own_band_mean[PARUS_ROLE_RED], b_red, 1e-6, 0);

    free(p.wkb);
    parus_tile_free(tile);
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_measure__bitwise_same_for_any_thread_count(void **state)
{
    struct multi m;
    parus_observation *a = calloc(NP, sizeof *a), *b = calloc(NP, sizeof *b);
    parus_tile *tile;
    parus_error err;
    int threads[] = {2, 3, 8};
    size_t t;
    (void)state;
    make_multi(&m);
    tile = open_tile(m.path);
    {
        parus_measure_options one = {1};
        assert_int_equal(parus_tile_measure(tile, m.p, NP, &one, a, NULL, &err), PARUS_OK);
    }
    for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        parus_measure_options o = {threads[t]};
        memset(b, 0xAB, NP * sizeof *b);
        assert_int_equal(parus_tile_measure(tile, m.p, NP, &o, b, NULL, &err), PARUS_OK);
        if (memcmp(a, b, NP * sizeof *a) != 0)
            fail_msg("observations with %d threads differ from 1 thread", threads[t]);
    }
    parus_tile_free(tile);
    free(a);
    free(b);
    free_multi(&m);
}

struct order_log {
    size_t seq[NP];
    size_t n;
};

static int log_order(size_t parcel, const parus_observation *o, void *ctx)
{
    struct order_log *l = ctx;
    (void)o;
    if (l->n < NP)
        l->seq[l->n] = parcel;
    l->n++;
    return 0;
}

/* The sink sees the parcels in the same order whatever the thread count (the waves differ). */
static void test_measure_each__sink_order_same_for_any_thread_count(void **state)
{
    struct multi m;
    struct order_log a = {{0}, 0}, b = {{0}, 0};
    parus_tile *tile;
    parus_error err;
    parus_measure_options one = {1}, eight = {8};
    (void)state;
    make_multi(&m);
    tile = open_tile(m.path);
    assert_int_equal(parus_tile_measure_each(tile, m.p, NP, &one, log_order, &a, NULL, &err),
                     PARUS_OK);
    assert_int_equal(parus_tile_measure_each(tile, m.p, NP, &eight, log_order, &b, NULL, &err),
                     PARUS_OK);
    assert_int_equal(a.n, NP);
    assert_int_equal(b.n, NP);
    assert_memory_equal(a.seq, b.seq, sizeof a.seq);
    parus_tile_free(tile);
    free_multi(&m);
}

static void test_measure__truncated_tile_names_file_and_block(void **state)
{
    struct multi m;
    parus_observation *obs = calloc(NP, sizeof *obs);
    parus_tile *tile;
    parus_error err;
    struct stat st;
    (void)state;
    make_multi(&m);
    assert_int_equal(stat(m.path, &st), 0);
    tile = open_tile(m.path); /* the header is read while the file is whole */
    assert_int_equal(truncate(m.path, st.st_size / 2), 0);
    parus_error_init(&err);
    assert_int_not_equal(parus_tile_measure(tile, m.p, NP, NULL, obs, NULL, &err), PARUS_OK);
    assert_non_null(strstr(err.msg, "multi.tif"));
    assert_non_null(strstr(err.msg, "block"));
    parus_tile_free(tile);
    free(obs);
    free_multi(&m);
}

/* ---- real data: the Havelland tile against reference_exact_coverage.csv ---- */

struct ref_row {
    char id[32];
    double count, mean, stdev;
};

static size_t read_reference(const char *path, struct ref_row *rows, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t n = 0;
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (n < cap && fgets(line, sizeof line, f)) {
        char id[32];
        double count, mean, stdev;
        if (sscanf(line, "\"%31[^\"]\",%lf,%lf,%lf", id, &count, &mean, &stdev) != 4) {
            /* rows of parcels with no valid pixel carry NA: keep them with NaN */
            if (sscanf(line, "\"%31[^\"]\",%lf", id, &count) < 1)
                continue;
            mean = stdev = NAN;
        }
        snprintf(rows[n].id, sizeof rows[n].id, "%s", id);
        rows[n].count = count;
        rows[n].mean = mean;
        rows[n].stdev = stdev;
        n++;
    }
    fclose(f);
    return n;
}

static void test_real__havelland_matches_exact_reference(void **state)
{
    const char *data = parus_test_data_dir("s2-havelland");
    char tif[4096], geojson[4096], ref[4096];
    static struct ref_row rows[1024];
    parus_parcel_set set;
    parus_observation *obs;
    parus_tile *tile;
    parus_error err;
    parus_measure_stats st;
    size_t n_ref, i, j, n_checked = 0;
    double worst_count = 0, worst_mean = 0, worst_std = 0;
    const char *pth;
    (void)state;
    if (!data)
        skip();
    snprintf(tif, sizeof tif, "%s/s2-havelland/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif",
             data);
    snprintf(geojson, sizeof geojson, "%s/s2-havelland/parcels_osm_landuse_utm33n.geojson", data);
    snprintf(ref, sizeof ref, "%s/s2-havelland/reference_exact_coverage.csv", data);

    assert_int_equal(parus_parcels_read(geojson, NULL, &set, &err), PARUS_OK);
    assert_int_equal(set.n_parcels, 544);
    pth = tif;
    assert_int_equal(parus_tile_open(&pth, 1, NULL, &tile, &err), PARUS_OK);
    obs = calloc(set.n_parcels, sizeof *obs);
    if (parus_tile_measure(tile, set.parcels, set.n_parcels, NULL, obs, &st, &err) != PARUS_OK)
        fail_msg("measure: %s", err.msg);

    n_ref = read_reference(ref, rows, 1024);
    assert_int_equal(n_ref, 544);
    for (i = 0; i < n_ref; i++) {
        for (j = 0; j < set.n_parcels; j++)
            if (strcmp(set.parcels[j].id, rows[i].id) == 0)
                break;
        assert_true(j < set.n_parcels);
        if (isnan(rows[i].mean)) {
            assert_close(obs[j].w_valid_px, 0.0, 1e-9, 0);
            continue;
        }
        worst_count = fmax(worst_count, fabs(obs[j].w_valid_px - rows[i].count) / rows[i].count);
        worst_mean = fmax(worst_mean, fabs(obs[j].mean[PARUS_INDEX_NDVI] - rows[i].mean) /
                                          fmax(fabs(rows[i].mean), 1e-3));
        worst_std = fmax(worst_std, fabs(obs[j].std[PARUS_INDEX_NDVI] - rows[i].stdev));
        n_checked++;
    }
    fprintf(stderr,
            "havelland: %zu parcels checked; worst relative count %.3g, mean %.3g; worst "
            "absolute stdev %.3g; %zu cells, %zu of %zu blocks read\n",
            n_checked, worst_count, worst_mean, worst_std, st.n_cells, st.n_blocks_read,
            st.n_blocks);
    assert_true(worst_count <= 1e-4);
    assert_true(worst_mean <= 1e-4);
    assert_true(worst_std <= 1e-3);
    free(obs);
    parus_tile_free(tile);
    parus_parcel_set_release(&set);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* End to end on the committed synthetic season: the generator's truth (each parcel's own NDVI on
 * a clear date) against what the kernel measures through DN offsets, SCL, exact coverage and mixed
 * edge pixels. Mixed pixels carry the neighbours' signal, so single parcels differ by a few
 * hundredths; the median must be unbiased. */
static void test_synthetic__clear_date_matches_truth(void **state)
{
    char tif[4096], parcels[4096], truth[4096], line[256];
    const char *pth = tif;
    parus_parcel_set set;
    parus_observation *obs;
    parus_tile *tile;
    parus_error err;
    double *diff, *absd;
    size_t n = 0, i;
    FILE *f;
    (void)state;
    snprintf(tif, sizeof tif, "%s/data-samples/season/S2B_MSIL2A_20240414_T50SKF.tif",
             parus_test_source_dir());
    snprintf(parcels, sizeof parcels, "%s/data-samples/season/parcels.geojson",
             parus_test_source_dir());
    snprintf(truth, sizeof truth, "%s/data-samples/season/truth/parcel_ndvi.csv",
             parus_test_source_dir());
    assert_int_equal(parus_parcels_read(parcels, NULL, &set, &err), PARUS_OK);
    assert_int_equal(parus_tile_open(&pth, 1, NULL, &tile, &err), PARUS_OK);
    obs = calloc(set.n_parcels, sizeof *obs);
    diff = calloc(set.n_parcels, sizeof *diff);
    absd = calloc(set.n_parcels, sizeof *absd);
    assert_int_equal(parus_tile_measure(tile, set.parcels, set.n_parcels, NULL, obs, NULL, &err),
                     PARUS_OK);
    f = fopen(truth, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        char id[64], date[16];
        double ndvi;
        if (sscanf(line, "%63[^,],%15[^,],%lf", id, date, &ndvi) != 3 ||
            strcmp(date, "2024-04-14") != 0)
            continue;
        for (i = 0; i < set.n_parcels; i++) {
            if (strcmp(set.parcels[i].id, id) != 0)
                continue;
            if (obs[i].w_valid_px > 0.0 && obs[i].valid_fraction >= 0.999) {
                diff[n] = obs[i].mean[PARUS_INDEX_NDVI] - ndvi;
                absd[n] = fabs(diff[n]);
                n++;
            }
            break;
        }
    }
    fclose(f);
    assert_true(n > 200);
    qsort(diff, n, sizeof *diff, cmp_double);
    qsort(absd, n, sizeof *absd, cmp_double);
    fprintf(stderr,
            "synthetic 2024-04-14: %zu parcels, median difference %+.4f, median |difference| "
            "%.4f\n",
            n, diff[n / 2], absd[n / 2]);
    assert_true(fabs(diff[n / 2]) < 0.01);
    assert_true(absd[n / 2] < 0.04);
    free(diff);
    free(absd);
    free(obs);
    parus_tile_free(tile);
    parus_parcel_set_release(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measure__hand_checked_square),
        cmocka_unit_test(test_measure__matches_brute_force_across_blocks),
        cmocka_unit_test(test_measure__unmixes_edge_pixels_against_outside_neighbours),
        cmocka_unit_test(test_measure__bitwise_same_for_any_thread_count),
        cmocka_unit_test(test_measure_each__sink_order_same_for_any_thread_count),
        cmocka_unit_test(test_measure__truncated_tile_names_file_and_block),
        cmocka_unit_test(test_real__havelland_matches_exact_reference),
        cmocka_unit_test(test_synthetic__clear_date_matches_truth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

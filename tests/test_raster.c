/*
 * test_raster.c - tiles: profiles, roles, dates, scale/offset, validity, nesting of coarser bands,
 * block iteration, readers in threads, and bad files (not a TIFF, truncated, no CRS, no date, no
 * red/NIR, bad band maps). Small GeoTIFFs are written here with GDAL so that every expected value
 * can be checked by hand; the real-data cases use ../shared/data and skip when it is absent.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "test_support.h"

#include "parus/raster.h"

/* ---- writing small GeoTIFFs ---- */

typedef struct tif_spec {
    size_t w, h;
    int n_bands;
    GDALDataType dt;
    const double *data;      /* n_bands planes of w * h values, or NULL for a ramp */
    const char *const *desc; /* n_bands descriptions, or NULL */
    bool has_nodata;
    double nodata;
    int epsg;                  /* 0: no CRS */
    double res;                /* pixel size; origin at (500000, 4000000) */
    double x0, y0;             /* origin override when res != 0 and x0 != 0 */
    const char *const *meta;   /* "KEY=VALUE", NULL-terminated, or NULL */
    const char *const *create; /* creation options, or NULL */
} tif_spec;

static void write_tif(const char *path, const tif_spec *s)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds;
    double res = s->res != 0.0 ? s->res : 10.0;
    double gt[6] = {500000.0, res, 0.0, 4000000.0, 0.0, -res};
    double *ramp = NULL;
    int b;

    if (s->x0 != 0.0) {
        gt[0] = s->x0;
        gt[3] = s->y0;
    }
    assert_non_null(drv);
    ds = GDALCreate(drv, path, (int)s->w, (int)s->h, s->n_bands, s->dt, (char **)s->create);
    assert_non_null(ds);
    if (s->epsg) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        assert_int_equal(OSRImportFromEPSG(srs, s->epsg), OGRERR_NONE);
        assert_int_equal(GDALSetSpatialRef(ds, srs), CE_None);
        OSRDestroySpatialReference(srs);
        assert_int_equal(GDALSetGeoTransform(ds, gt), CE_None);
    }
    if (s->meta) {
        const char *const *m;
        for (m = s->meta; *m; m++) {
            char key[128];
            const char *eq = strchr(*m, '=');
            assert_non_null(eq);
            snprintf(key, sizeof key, "%.*s", (int)(eq - *m), *m);
            GDALSetMetadataItem(ds, key, eq + 1, NULL);
        }
    }
    if (!s->data) {
        size_t i;
        ramp = malloc(s->w * s->h * sizeof *ramp);
        assert_non_null(ramp);
        for (i = 0; i < s->w * s->h; i++)
            ramp[i] = (double)(1000 + (i * 7919) % 5000);
    }
    for (b = 1; b <= s->n_bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        const double *plane = s->data ? s->data + (size_t)(b - 1) * s->w * s->h : ramp;
        if (s->desc)
            GDALSetDescription(band, s->desc[b - 1]);
        if (s->has_nodata)
            GDALSetRasterNoDataValue(band, s->nodata);
        assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, (int)s->w, (int)s->h, (void *)plane,
                                      (int)s->w, (int)s->h, GDT_Float64, 0, 0),
                         CE_None);
    }
    GDALClose(ds);
    free(ramp);
}

static int setup_group(void **state)
{
    (void)state;
    GDALAllRegister();
    return 0;
}

typedef struct fixture {
    char *dir;
} fixture;

static int setup_dir(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = parus_test_tmpdir("raster");
    if (!fx->dir) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown_dir(void **state)
{
    fixture *fx = *state;
    parus_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static char *in_dir(void **state, const char *name)
{
    fixture *fx = *state;
    char *p = parus_test_path(fx->dir, name);
    assert_non_null(p);
    return p;
}

static parus_status open1(const char *path, const parus_tile_options *opt, parus_tile **t,
                          parus_error *err)
{
    const char *paths[1];
    paths[0] = path;
    parus_error_init(err);
    return parus_tile_open(paths, 1, opt, t, err);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        print_error("'%s' does not contain '%s'\n", haystack, needle);
        fail();
    }
}

static parus_tile_reader *reader_for(const parus_tile *t, const parus_band_role *roles, size_t n)
{
    parus_tile_reader *r = NULL;
    parus_error err;
    parus_error_init(&err);
    if (parus_tile_reader_new(t, roles, n, &r, &err) != PARUS_OK) {
        print_error("reader: %s\n", err.msg);
        fail();
    }
    return r;
}

/* ---- names ---- */

static void test_names__roles_and_sensors(void **state)
{
    (void)state;
    assert_string_equal(parus_role_name(PARUS_ROLE_NIR), "nir");
    assert_string_equal(parus_role_name(PARUS_ROLE_NIR_NARROW), "nir_narrow");
    assert_string_equal(parus_role_name(PARUS_ROLE_N_), "unknown");
    assert_int_equal(parus_role_from_name("NIR"), PARUS_ROLE_NIR);
    assert_int_equal(parus_role_from_name("Red"), PARUS_ROLE_RED);
    assert_int_equal(parus_role_from_name("swir16"), PARUS_ROLE_SWIR1);
    assert_int_equal(parus_role_from_name("mask"), PARUS_ROLE_MASK);
    assert_int_equal(parus_role_from_name("foo"), PARUS_ROLE_UNKNOWN);
    assert_int_equal(parus_role_from_name(NULL), PARUS_ROLE_UNKNOWN);
    assert_string_equal(parus_sensor_name(PARUS_SENSOR_S2_L2A), "sentinel-2-l2a");
    assert_string_equal(parus_sensor_name(PARUS_SENSOR_LANDSAT_L1), "landsat-l1");
    assert_string_equal(parus_sensor_name(PARUS_SENSOR_CBERS4_AWFI), "cbers-4-awfi");
}

/* ---- Sentinel-2 L2A, one multi-band file ---- */

/* 4 x 4, bands B02, B04, B08, SCL. Row 0 clear vegetation, row 1 cloud (SCL 8), row 2 has a
 * nodata pixel, a saturated pixel, water (6) and a shadow (3), row 3 clear. */
static const double l2a_px[4 * 16] = {
    /* B02 */ 1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    1500,
    /* B04 */ 2000,
    2100,
    2200,
    2300,
    9000,
    9000,
    9000,
    9000,
    0,
    65535,
    1200,
    1300,
    1000,
    1001,
    1002,
    1003,
    /* B08 */ 5000,
    5100,
    5200,
    5300,
    9500,
    9500,
    9500,
    9500,
    4000,
    4000,
    1100,
    4000,
    3000,
    3000,
    3000,
    3000,
    /* SCL */ 4,
    4,
    4,
    5,
    8,
    8,
    9,
    10,
    4,
    4,
    6,
    3,
    4,
    4,
    4,
    11};

static void write_l2a_multiband(const char *path)
{
    static const char *const desc[] = {"B02 blue 490nm", "B04 red 665nm", "B08 NIR 842nm",
                                       "SCL scene classification"};
    static const char *const meta[] = {"BOA_ADD_OFFSET_B04=-1000", "BOA_ADD_OFFSET=-500",
                                       "PRODUCT_START_TIME=2024-05-15T03:05:21.024Z",
                                       "PROCESSING_BASELINE=05.10", NULL};
    tif_spec s = {4, 4, 4, GDT_UInt16, l2a_px, desc, false, 0, 32650, 10, 0, 0, meta, NULL};
    write_tif(path, &s);
}

static void test_l2a__multiband_roles_offset_date(void **state)
{
    char *path = in_dir(state, "scene.tif");
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *red, *nir, *blue, *scl;

    write_l2a_multiband(path);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_S2_L2A);
    assert_string_equal(in->sensor_name, "sentinel-2-l2a");
    assert_string_equal(in->date, "2024-05-15");
    assert_string_equal(in->date_source, "metadata PRODUCT_START_TIME");
    assert_int_equal(in->epsg, 32650);
    assert_string_equal(in->crs_name, "WGS 84 / UTM zone 50N");
    assert_non_null(strstr(in->crs_wkt, "PROJCRS"));
    assert_int_equal(in->width, 4);
    assert_int_equal(in->height, 4);
    assert_close(in->res_m, 10.0, 0, 0);
    assert_int_equal(in->n_bands, 4);
    assert_int_equal(in->n_files, 1);
    assert_int_equal(in->validity, PARUS_VALIDITY_SCL);
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    nir = parus_tile_find_role(t, PARUS_ROLE_NIR);
    blue = parus_tile_find_role(t, PARUS_ROLE_BLUE);
    scl = parus_tile_find_role(t, PARUS_ROLE_SCL);
    assert_non_null(red);
    assert_non_null(nir);
    assert_non_null(blue);
    assert_non_null(scl);
    assert_null(parus_tile_find_role(t, PARUS_ROLE_SWIR1));
    assert_string_equal(red->name, "B04");
    assert_string_equal(red->description, "B04 red 665nm");
    assert_int_equal(red->band_index, 2);
    assert_string_equal(red->data_type, "UInt16");
    /* per-band key beats the single key; the single key beats the baseline */
    assert_close(red->scale, 1e-4, 1e-15, 0);
    assert_close(red->offset, -0.1, 1e-12, 0);
    assert_close(nir->offset, -0.05, 1e-12, 0);
    assert_close(scl->scale, 1.0, 0, 0);
    assert_close(scl->offset, 0.0, 0, 0);
    assert_true(red->has_nodata);
    assert_close(red->nodata, 0.0, 0, 0);
    /* bands are listed by role */
    assert_int_equal(parus_tile_band(t, 0)->role, PARUS_ROLE_BLUE);
    assert_int_equal(parus_tile_band(t, 1)->role, PARUS_ROLE_RED);
    assert_null(parus_tile_band(t, 4));
    /* footprint near 117 E, 36 N (UTM 50N, x = 500 km, y = 4000 km) */
    assert_close(in->lon_min_deg, 117.0, 1e-3, 0);
    assert_close(in->lat_min_deg, 36.14, 0.01, 0);
    assert_true(in->lon_max_deg > in->lon_min_deg && in->lat_max_deg > in->lat_min_deg);
    parus_tile_free(t);
    free(path);
}

static void test_l2a__scl_and_nodata_validity(void **state)
{
    char *path = in_dir(state, "scene.tif");
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    static const uint8_t want_valid[16] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1};
    size_t i;

    write_l2a_multiband(path);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    r = reader_for(t, roles, 2);
    parus_error_init(&err);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    assert_int_equal(blk.w, 4);
    assert_int_equal(blk.h, 4);
    assert_non_null(blk.cls);
    for (i = 0; i < 16; i++) {
        assert_int_equal(blk.valid[i], want_valid[i]);
        assert_int_equal(blk.cls[i], (uint16_t)l2a_px[48 + i]);
        if (want_valid[i]) {
            assert_close(blk.band[0][i], (l2a_px[16 + i] - 1000) / 10000, 1e-6, 0);
            assert_close(blk.band[1][i], (l2a_px[32 + i] - 500) / 10000, 1e-6, 0);
        }
    }
    assert_int_equal(blk.n_valid, 9);
    /* cloud: NaN in every band */
    assert_true(isnan(blk.band[0][4]) && isnan(blk.band[1][4]));
    /* nodata red: red NaN, nir keeps its value, the pixel is invalid */
    assert_true(isnan(blk.band[0][8]));
    assert_close(blk.band[1][8], (4000 - 500) / 10000.0, 1e-6, 0);
    /* saturated red */
    assert_true(isnan(blk.band[0][9]));
    /* water (6) and snow (11) are kept, shadow (3) is not */
    assert_int_equal(blk.valid[10], 1);
    assert_int_equal(blk.valid[15], 1);
    assert_int_equal(blk.valid[11], 0);
    parus_error_init(&err);
    assert_int_equal(parus_tile_reader_read(r, 1, &blk, &err), PARUS_E_INVALID);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(path);
}

/* ---- Sentinel-2 L2A, one file per band, 20 m SCL on the 10 m grid ---- */

static void write_l2a_files(void **state)
{
    static const char *const meta[] = {"PROCESSING_BASELINE=05.10", NULL};
    static const double scl[4] = {4, 8, 9, 6};
    tif_spec s = {4, 4, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 10, 0, 0, meta, NULL};
    tif_spec c = {2, 2, 1, GDT_Byte, scl, NULL, false, 0, 32650, 20, 0, 0, NULL, NULL};
    char *p;
    p = in_dir(state, "T50SKC_20240515_B04_10m.tif");
    write_tif(p, &s);
    free(p);
    s.meta = NULL;
    p = in_dir(state, "T50SKC_20240515_B08_10m.tif");
    write_tif(p, &s);
    free(p);
    p = in_dir(state, "T50SKC_20240515_SCL_20m.tif");
    write_tif(p, &c);
    free(p);
    p = in_dir(state, "notes.csv");
    assert_int_equal(parus_test_write_file(p, "a,b\n", 4), 0);
    free(p);
}

static void test_l2a__files_scl_20m_nearest(void **state)
{
    fixture *fx = *state;
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *scl, *red;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_NIR};
    size_t x, y;

    write_l2a_files(state);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_S2_L2A);
    assert_string_equal(in->date, "2024-05-15");
    assert_string_equal(in->date_source, "file name");
    assert_int_equal(in->n_files, 3);
    assert_int_equal(in->n_bands, 3);
    assert_int_equal(in->width, 4);
    assert_close(in->res_m, 10.0, 0, 0);
    scl = parus_tile_find_role(t, PARUS_ROLE_SCL);
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    assert_non_null(scl);
    assert_string_equal(scl->name, "SCL");
    assert_int_equal(scl->width, 2);
    assert_close(scl->res_m, 20.0, 0, 0);
    assert_string_equal(red->name, "B04");
    /* PROCESSING_BASELINE 05.10 in one file gives every band the -1000 offset */
    assert_close(red->offset, -0.1, 1e-12, 0);
    assert_close(parus_tile_find_role(t, PARUS_ROLE_NIR)->offset, -0.1, 1e-12, 0);
    r = reader_for(t, roles, 1);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    for (y = 0; y < 4; y++)
        for (x = 0; x < 4; x++) {
            uint16_t want = (uint16_t)(x < 2 ? (y < 2 ? 4 : 9) : (y < 2 ? 8 : 6));
            assert_int_equal(blk.cls[y * 4 + x], want);
            assert_int_equal(blk.valid[y * 4 + x], want == 4 || want == 6);
        }
    assert_int_equal(blk.n_valid, 8);
    parus_tile_reader_free(r);
    parus_tile_free(t);
}

static void test_l2a__file_list_order_is_stable(void **state)
{
    parus_tile *a = NULL, *b = NULL;
    parus_error err;
    char *p[3];
    const char *fwd[3], *rev[3];
    const char *const *files;
    char ha[65], hb[65];
    size_t n, i;

    write_l2a_files(state);
    p[0] = in_dir(state, "T50SKC_20240515_B04_10m.tif");
    p[1] = in_dir(state, "T50SKC_20240515_B08_10m.tif");
    p[2] = in_dir(state, "T50SKC_20240515_SCL_20m.tif");
    for (i = 0; i < 3; i++) {
        fwd[i] = p[i];
        rev[i] = p[2 - i];
    }
    parus_error_init(&err);
    assert_int_equal(parus_tile_open(rev, 3, NULL, &a, &err), PARUS_OK);
    assert_int_equal(parus_tile_open(fwd, 3, NULL, &b, &err), PARUS_OK);
    files = parus_tile_files(a, &n);
    assert_int_equal(n, 3);
    for (i = 0; i < 3; i++)
        assert_string_equal(files[i], p[i]);
    assert_int_equal(parus_tile_content_hash(a, ha, &err), PARUS_OK);
    assert_int_equal(parus_tile_content_hash(b, hb, &err), PARUS_OK);
    assert_int_equal(strlen(ha), 64);
    assert_string_equal(ha, hb);
    parus_tile_free(a);
    parus_tile_free(b);
    for (i = 0; i < 3; i++)
        free(p[i]);
}

static void test_grid__coarse_band_must_nest(void **state)
{
    fixture *fx = *state;
    tif_spec fine = {6, 6, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 10, 0, 0, NULL, NULL};
    tif_spec odd = {4, 4, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 15, 0, 0, NULL, NULL};
    tif_spec shifted = {3, 3,     1,  GDT_UInt16, NULL,      NULL, false,
                        0, 32650, 20, 500005.0,   4000000.0, NULL, NULL};
    tif_spec small = {2, 2, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 20, 0, 0, NULL, NULL};
    tif_spec other_crs = {6, 6, 1, GDT_UInt16, NULL, NULL, false, 0, 32651, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    char *p4 = in_dir(state, "S2_20240515_B04.tif");
    char *p8 = in_dir(state, "S2_20240515_B08.tif");

    write_tif(p4, &fine);
    write_tif(p8, &odd);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "does not nest");
    assert_contains(err.msg, "B08");
    write_tif(p8, &shifted);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "pixel corner");
    write_tif(p8, &small);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "does not cover");
    write_tif(p8, &other_crs);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "same CRS");
    assert_null(t);
    free(p4);
    free(p8);
}

/* A 3:1 band whose origin sits one grid pixel before the grid's: grid pixel x reads band pixel
 * (x + 1) / 3. */
static void test_grid__ratio_three_with_offset(void **state)
{
    fixture *fx = *state;
    static const double coarse[9] = {11, 12, 13, 21, 22, 23, 31, 32, 33};
    tif_spec fine = {5, 5, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 10, 0, 0, NULL, NULL};
    tif_spec c = {3, 3,     1,  GDT_UInt16, coarse,    NULL, false,
                  0, 32650, 30, 499990.0,   4000010.0, NULL, NULL};
    /* dated before 2022-01-25: no -1000 offset for L1C */
    char *p4 = in_dir(state, "S2_20210515_B04.tif");
    char *p8 = in_dir(state, "S2_20210515_B08.tif");
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_NIR};
    size_t x, y;

    write_tif(p4, &fine);
    write_tif(p8, &c);
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->sensor, PARUS_SENSOR_S2_L1C);
    r = reader_for(t, roles, 1);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    for (y = 0; y < 5; y++)
        for (x = 0; x < 5; x++)
            assert_close(blk.band[0][y * 5 + x], coarse[(y + 1) / 3 * 3 + (x + 1) / 3] / 1e4, 1e-7,
                         0);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(p4);
    free(p8);
}

/* Without SCL, a BOA_ADD_OFFSET in a band's own metadata still says L2A. */
static void test_l2a__band_level_offset_without_scl(void **state)
{
    char *path = in_dir(state, "S2_20240515_B04_B08.tif");
    static const char *const desc[] = {"B04", "B08"};
    tif_spec s = {2, 2, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    GDALDatasetH ds;

    write_tif(path, &s);
    ds = GDALOpen(path, GA_Update);
    assert_non_null(ds);
    GDALSetMetadataItem(GDALGetRasterBand(ds, 1), "BOA_ADD_OFFSET", "-1000", NULL);
    GDALSetMetadataItem(GDALGetRasterBand(ds, 2), "BOA_ADD_OFFSET", "-2000", NULL);
    GDALClose(ds);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->sensor, PARUS_SENSOR_S2_L2A);
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_NODATA);
    assert_close(parus_tile_find_role(t, PARUS_ROLE_RED)->offset, -0.1, 1e-12, 0);
    assert_close(parus_tile_find_role(t, PARUS_ROLE_NIR)->offset, -0.2, 1e-12, 0);
    parus_tile_free(t);
    free(path);
}

/* L1C offset from the SAFE baseline token in the file name, else from the date. */
static void test_l1c__offset_from_baseline_token_or_date(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *prefix;
        double offset;
    } cases[] = {{"S2A_MSIL1C_20230101T100000_N0300_R000_T50SKC", 0.0},
                 {"S2A_MSIL1C_20230101T100000_N0509_R000_T50SKC", -0.1},
                 {"S2A_T50SKC_20230101", -0.1},
                 {"S2A_T50SKC_20220124", 0.0}};
    tif_spec s = {2, 2, 1, GDT_UInt16, NULL, NULL, false, 0, 32650, 10, 0, 0, NULL, NULL};
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[128], *p4, *p8, sub[32];
        char *dir;
        parus_tile *t = NULL;
        parus_error err;
        const char *paths[2];
        snprintf(sub, sizeof sub, "case%zu", i);
        dir = parus_test_path(fx->dir, sub);
        assert_int_equal(mkdir(dir, 0700), 0);
        snprintf(name, sizeof name, "%s_B04.tif", cases[i].prefix);
        p4 = parus_test_path(dir, name);
        snprintf(name, sizeof name, "%s_B08.tif", cases[i].prefix);
        p8 = parus_test_path(dir, name);
        write_tif(p4, &s);
        write_tif(p8, &s);
        paths[0] = p4;
        paths[1] = p8;
        parus_error_init(&err);
        assert_int_equal(parus_tile_open(paths, 2, NULL, &t, &err), PARUS_OK);
        assert_int_equal(parus_tile_get_info(t)->sensor, PARUS_SENSOR_S2_L1C);
        assert_close(parus_tile_find_role(t, PARUS_ROLE_RED)->offset, cases[i].offset, 1e-12, 0);
        parus_tile_free(t);
        free(p4);
        free(p8);
        free(dir);
    }
}

/* ---- Landsat Collection 2 Level-2 (synthetic) ---- */

static void test_landsat_c2l2__qa_pixel(void **state)
{
    fixture *fx = *state;
    static const double qa[4] = {21824, 22280, 1, 30048}; /* clear, cloud, fill, snow */
    static const double dn[4] = {10000, 10000, 0, 12000};
    tif_spec s = {2, 2, 1, GDT_UInt16, dn, NULL, false, 0, 32610, 30, 0, 0, NULL, NULL};
    tif_spec q = {2, 2, 1, GDT_UInt16, qa, NULL, false, 0, 32610, 30, 0, 0, NULL, NULL};
    const char *names[] = {"LC08_L2SP_044034_20200101_20200115_02_T1_SR_B4.TIF",
                           "LC08_L2SP_044034_20200101_20200115_02_T1_SR_B5.TIF",
                           "LC08_L2SP_044034_20200101_20200115_02_T1_QA_PIXEL.TIF",
                           "LC08_L2SP_044034_20200101_20200115_02_T1_QA_RADSAT.TIF"};
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *red;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    size_t i;

    for (i = 0; i < 4; i++) {
        char *p = in_dir(state, names[i]);
        write_tif(p, i == 2 ? &q : &s);
        free(p);
    }
    assert_int_equal(open1(fx->dir, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_LANDSAT_C2L2);
    assert_string_equal(in->date, "2020-01-01");
    assert_int_equal(in->validity, PARUS_VALIDITY_QA_PIXEL);
    assert_int_equal(in->n_files, 3); /* QA_RADSAT names no band: left out */
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    assert_string_equal(red->name, "SR_B4");
    /* Collection 2 surface reflectance, DN x 0.0000275 - 0.2, brought to Sentinel-2A MSI's red:
     * (OLI - 0.0009) / 0.9765 (HLS v2.0) */
    assert_close(red->scale, 0.0000275 / 0.9765, 1e-15, 0);
    assert_close(red->offset, (-0.2 - 0.0009) / 0.9765, 1e-15, 0);
    assert_true(red->has_nodata);
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    assert_int_equal(blk.valid[0], 1);
    assert_close(blk.band[0][0], (10000 * 0.0000275 - 0.2 - 0.0009) / 0.9765, 1e-6, 0);
    assert_int_equal(blk.valid[1], 0);
    assert_int_equal(blk.valid[2], 0);
    assert_int_equal(blk.valid[3], 1);
    /* 16-bit QA values come through whole */
    assert_int_equal(blk.cls[0], 21824);
    assert_int_equal(blk.cls[3], 30048);
    parus_tile_reader_free(r);
    parus_tile_free(t);
}

/* ---- generic ---- */

static void test_generic__descriptions_mask_and_float_nodata(void **state)
{
    char *path = in_dir(state, "field_2023-07-01.tif");
    static const char *const desc[] = {"Red", "near infrared", "cloud mask"};
    double px[3 * 4] = {0.1, 0, -9999, 0.2, 0.5, 0.5, 0.5, 0.6, 0, 0, 0, 2};
    tif_spec s = {2,     2,    3,     GDT_Float32, px,   desc, true,
                  -9999, 4326, 0.001, 116.0,       40.0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};

    px[1] = NAN;
    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_GENERIC);
    assert_int_equal(in->epsg, 4326);
    assert_string_equal(in->date, "2023-07-01");
    assert_int_equal(in->validity, PARUS_VALIDITY_MASK_BAND);
    assert_close(parus_tile_find_role(t, PARUS_ROLE_RED)->scale, 1.0, 0, 0);
    assert_close(in->lon_min_deg, 116.0, 1e-9, 0);
    assert_close(in->lat_max_deg, 40.0, 1e-9, 0);
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    assert_int_equal(blk.valid[0], 1);
    assert_close(blk.band[0][0], 0.1, 1e-7, 0);
    assert_int_equal(blk.valid[1], 0); /* NaN */
    assert_true(isnan(blk.band[0][1]));
    assert_int_equal(blk.valid[2], 0); /* nodata */
    assert_int_equal(blk.valid[3], 0); /* mask 2 */
    assert_true(isnan(blk.band[1][3]));
    assert_int_equal(blk.n_valid, 1);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(path);
}

static void test_generic__infinity_is_invalid(void **state)
{
    char *path = in_dir(state, "inf_20230701.tif");
    static const char *const desc[] = {"red", "nir"};
    double px[2 * 2] = {0.1, 0.2, 0.3, 0.4};
    tif_spec s = {2, 1, 2, GDT_Float64, px, desc, false, 0, 32650, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_NIR, PARUS_ROLE_RED};

    px[3] = INFINITY;
    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_NODATA);
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    assert_null(blk.cls);
    assert_int_equal(blk.valid[0], 1);
    assert_close(blk.band[0][0], 0.3, 1e-7, 0); /* roles in the order asked */
    assert_int_equal(blk.valid[1], 0);
    assert_true(isnan(blk.band[0][1]));
    assert_close(blk.band[1][1], 0.2, 1e-7, 0);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(path);
}

static void test_band_map__good_and_bad(void **state)
{
    char *path = in_dir(state, "plain_20230701.tif");
    tif_spec s = {3, 3, 4, GDT_UInt16, NULL, NULL, false, 0, 32650, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_options opt = {.native = false};
    static const struct {
        const char *map;
        const char *msg;
    } bad[] = {{"red=9,nir=4", "band 9"},
               {"foo=1,nir=4", "unknown role 'foo'"},
               {"red=3", "no nir"},
               {"red=3,nir=3", "band 3 given twice"},
               {"red=3,red=4", "twice"},
               {"red=x,nir=4", "bad band number"},
               {"red3,nir=4", "no '='"},
               {"red=0,nir=4", "band 0"},
               {"red=3,,nir=4", "bad band map"}};
    size_t i;

    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_contains(err.msg, "no red and nir");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        opt.band_map = bad[i].map;
        assert_int_equal(open1(path, &opt, &t, &err), PARUS_E_BANDS);
        assert_contains(err.msg, bad[i].msg);
    }
    opt.band_map = "red=3, nir=4 ,mask=1";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->sensor, PARUS_SENSOR_GENERIC);
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_RED)->band_index, 3);
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_NIR)->band_index, 4);
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_MASK_BAND);
    /* integer DN without a file scale: reflectance x 10000 */
    assert_close(parus_tile_find_role(t, PARUS_ROLE_RED)->scale, 1e-4, 1e-15, 0);
    assert_string_equal(parus_tile_find_role(t, PARUS_ROLE_UNKNOWN)->name, "band2");
    parus_tile_free(t);
    free(path);
}

/* ---- bad input ---- */

static void test_open__missing_path(void **state)
{
    char *path = in_dir(state, "nope.tif");
    parus_tile *t = NULL;
    parus_error err;
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_IO);
    assert_contains(err.msg, "nope.tif");
    assert_null(t);
    assert_int_equal(parus_tile_open(NULL, 0, NULL, &t, &err), PARUS_E_INVALID);
    free(path);
}

static void test_open__not_a_tiff(void **state)
{
    char *path = in_dir(state, "S2_20240515_B04.tif");
    char *dir_tif = in_dir(state, "empty");
    parus_tile *t = NULL;
    parus_error err;
    unsigned char junk[300];
    size_t i;

    assert_int_equal(parus_test_write_file(path, "this is not a TIFF\n", 19), 0);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "S2_20240515_B04.tif");
    for (i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    junk[0] = 'I';
    junk[1] = 'I';
    junk[2] = 42;
    junk[3] = 0;
    assert_int_equal(parus_test_write_file(path, junk, sizeof junk), 0);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_FORMAT);
    assert_contains(err.msg, "S2_20240515_B04.tif");
    assert_int_equal(mkdir(dir_tif, 0700), 0);
    assert_int_equal(open1(dir_tif, NULL, &t, &err), PARUS_E_BANDS);
    assert_contains(err.msg, "no GeoTIFF");
    assert_null(t);
    free(path);
    free(dir_tif);
}

static void test_open__truncated_tiff_fails_on_read(void **state)
{
    char *path = in_dir(state, "trunc.tif");
    static const char *const desc[] = {"red", "nir"};
    static const char *const meta[] = {"ACQUISITION_DATE=2023-07-01", NULL};
    static const char *const co[] = {"TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64",
                                     "COMPRESS=DEFLATE", NULL};
    tif_spec s = {256, 256, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, meta, co};
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    FILE *f;
    long size;
    size_t i, n_failed = 0;

    write_tif(path, &s);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    assert_int_equal(truncate(path, size / 2), 0);
    parus_error_init(&err);
    if (open1(path, NULL, &t, &err) != PARUS_OK) {
        /* GDAL may already refuse the header: that must be a clean format error */
        assert_int_equal(err.code, PARUS_E_FORMAT);
        assert_contains(err.msg, "trunc.tif");
        free(path);
        return;
    }
    assert_int_equal(parus_tile_get_info(t)->n_blocks_x, 4);
    r = reader_for(t, roles, 2);
    for (i = 0; i < 16; i++) {
        parus_error_init(&err);
        if (parus_tile_reader_read(r, i, &blk, &err) == PARUS_OK)
            continue;
        n_failed++;
        assert_true(err.code == PARUS_E_IO || err.code == PARUS_E_FORMAT);
        assert_contains(err.msg, "trunc.tif");
        assert_contains(err.msg, "block");
    }
    assert_true(n_failed > 0);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(path);
}

static void test_open__no_crs(void **state)
{
    char *path = in_dir(state, "nocrs_20230701.tif");
    static const char *const desc[] = {"red", "nir"};
    tif_spec s = {2, 2, 2, GDT_UInt16, NULL, desc, false, 0, 0, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_NO_CRS);
    assert_contains(err.msg, "nocrs_20230701.tif");
    assert_null(t);
    free(path);
}

static void test_open__no_date(void **state)
{
    char *path = in_dir(state, "scene.tif");
    static const char *const desc[] = {"red", "nir"};
    static const char *const src[] = {"SOURCE=made by hand, sensing 2019-03-04T10:00:00Z",
                                      "TIFFTAG_DATETIME=2020:01:01 00:00:00", NULL};
    static const char *const stamp[] = {"TIFFTAG_DATETIME=2020:01:01 00:00:00", NULL};
    static const char *const later[] = {"ACQUISITION_DATE=2099-07-01", NULL};
    static const char *const early[] = {"ACQUISITION_DATE=1901-05-01", NULL};
    tif_spec s = {2, 2, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, stamp, NULL};
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_options opt = {.date = "2021-06-30"};

    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_NO_DATE);
    assert_contains(err.msg, "scene.tif");
    assert_null(t);
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->date, "2021-06-30");
    assert_string_equal(parus_tile_get_info(t)->date_source, "option");
    parus_tile_free(t);
    opt.date = "2021-02-30";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_E_INVALID);
    s.meta = src;
    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->date, "2019-03-04");
    assert_string_equal(parus_tile_get_info(t)->date_source, "metadata SOURCE text");
    parus_tile_free(t);
    /* --date is for a file without a date: a plausible date of its own is not overridden (one
       --date for a batch put every tile on one day); the same date is no conflict */
    t = NULL;
    opt.date = "2021-06-30";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_E_INVALID);
    assert_contains(err.msg, "carries its own date 2019-03-04 (from metadata SOURCE text); --date "
                             "2021-06-30 differs");
    assert_null(t);
    opt.date = "2019-03-04";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
    parus_tile_free(t);

    /* a date after today is no acquisition's, wherever it came from: refused as no date, naming
       the file, the date and its source (it would choose the season, and Sentinel-2's offset) */
    s.meta = later;
    write_tif(path, &s);
    t = NULL;
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_NO_DATE);
    assert_contains(err.msg, "scene.tif' is dated 2099-07-01 (from metadata ACQUISITION_DATE), "
                             "after today (");
    assert_null(t);
    opt.date = "2099-06-30";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_E_NO_DATE);
    assert_contains(err.msg, "is dated 2099-06-30 (from option)");
    opt.date = "2021-06-30";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->date, "2021-06-30");
    parus_tile_free(t);

    /* nor a date before any satellite flew (a placeholder year): before, a tile dated 1901 was
       stored in a season 123 years back */
    s.meta = early;
    write_tif(path, &s);
    t = NULL;
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_NO_DATE);
    assert_contains(err.msg, "scene.tif' is dated 1901-05-01 (from metadata ACQUISITION_DATE), "
                             "before any Earth-observation acquisition (the first: 1972-07-23)");
    assert_null(t);
    opt.date = "1972-07-22";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_E_NO_DATE);
    opt.date = "1972-07-23";
    assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
    parus_tile_free(t);
    free(path);
}

static void test_open__no_red_nir(void **state)
{
    char *path = in_dir(state, "S2_20240515.tif");
    static const char *const desc[] = {"B02", "B03"};
    tif_spec s = {2, 2, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, NULL, NULL};
    parus_tile *t = NULL;
    parus_error err;
    parus_tile_reader *r = NULL;
    const parus_band_role swir = PARUS_ROLE_SWIR1, scl = PARUS_ROLE_SCL;

    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_contains(err.msg, "B02, B03");
    write_l2a_multiband(path);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_reader_new(t, &swir, 1, &r, &err), PARUS_E_BANDS);
    assert_contains(err.msg, "swir1");
    assert_int_equal(parus_tile_reader_new(t, &scl, 1, &r, &err), PARUS_E_INVALID);
    assert_null(r);
    parus_tile_free(t);
    free(path);
    /* a Sentinel-2 tile whose metadata dates it before Sentinel-2A flew is refused; a date the
     * user gives is held only to the generic floor (the sensor may be a guess from band names) */
    {
        static const char *const early_meta[] = {"PRODUCT_START_TIME=2014-05-15T03:05:21.024Z",
                                                 NULL};
        static const char *const desc4[] = {"B02 blue 490nm", "B04 red 665nm", "B08 NIR 842nm",
                                            "SCL scene classification"};
        tif_spec e = {4, 4,     4,  GDT_UInt16, NULL, desc4,      false,
                      0, 32650, 10, 0,          0,    early_meta, NULL};
        parus_tile_options opt = {.date = "2014-05-15"};
        path = in_dir(state, "S2_early.tif");
        write_tif(path, &e);
        assert_int_equal(open1(path, NULL, &t, &err), PARUS_E_NO_DATE);
        assert_contains(err.msg, "before any sentinel-2-l2a acquisition (the first: 2015-06-23): "
                                 "give its date with --date");
        assert_int_equal(open1(path, &opt, &t, &err), PARUS_OK);
        parus_tile_free(t);
        free(path);
    }
}

/* ---- blocks and threads ---- */

static void check_cover(const parus_tile *t, size_t want_bw, size_t want_bh)
{
    const parus_tile_info *in = parus_tile_get_info(t);
    const parus_band_role roles[] = {PARUS_ROLE_RED};
    parus_tile_reader *r = reader_for(t, roles, 1);
    unsigned char *seen = calloc(in->width * in->height, 1);
    size_t i, x, y, total = 0;
    parus_error err;

    assert_non_null(seen);
    assert_int_equal(in->block_w, want_bw);
    assert_int_equal(in->block_h, want_bh);
    for (i = 0; i < in->n_blocks_x * in->n_blocks_y; i++) {
        parus_block blk;
        assert_int_equal(parus_tile_reader_read(r, i, &blk, &err), PARUS_OK);
        assert_int_equal(blk.index, i);
        total += blk.w * blk.h;
        for (y = blk.y0; y < blk.y0 + blk.h; y++)
            for (x = blk.x0; x < blk.x0 + blk.w; x++)
                seen[y * in->width + x]++;
    }
    assert_int_equal(total, in->width * in->height);
    for (i = 0; i < in->width * in->height; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    parus_tile_reader_free(r);
}

static void test_blocks__tiles_and_grouped_strips(void **state)
{
    char *tiled = in_dir(state, "tiled_20230701.tif");
    char *strips = in_dir(state, "strips_20230701.tif");
    static const char *const desc[] = {"red", "nir"};
    static const char *const co_tiled[] = {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=16", NULL};
    static const char *const co_strip[] = {"BLOCKYSIZE=6", NULL};
    tif_spec a = {70, 40, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, NULL, co_tiled};
    tif_spec b = {30, 600, 2, GDT_UInt16, NULL, desc, false, 0, 32650, 10, 0, 0, NULL, co_strip};
    parus_tile *t = NULL;
    parus_error err;

    write_tif(tiled, &a);
    write_tif(strips, &b);
    assert_int_equal(open1(tiled, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->n_blocks_x, 3);
    assert_int_equal(parus_tile_get_info(t)->n_blocks_y, 3);
    check_cover(t, 32, 16);
    parus_tile_free(t);
    assert_int_equal(open1(strips, NULL, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_get_info(t)->n_blocks_y, 3);
    check_cover(t, 30, 258);
    parus_tile_free(t);
    free(tiled);
    free(strips);
}

typedef struct thread_job {
    const parus_tile *tile;
    double sum[16];
    size_t n_valid[16];
    int status;
} thread_job;

static int read_all(void *arg)
{
    thread_job *job = arg;
    const parus_band_role roles[] = {PARUS_ROLE_NIR, PARUS_ROLE_RED};
    parus_tile_reader *r = NULL;
    parus_error err;
    size_t i, k,
        n = parus_tile_get_info(job->tile)->n_blocks_x * parus_tile_get_info(job->tile)->n_blocks_y;
    job->status = parus_tile_reader_new(job->tile, roles, 2, &r, &err);
    for (i = 0; i < n && i < 16 && job->status == PARUS_OK; i++) {
        parus_block blk;
        job->status = parus_tile_reader_read(r, i, &blk, &err);
        if (job->status)
            break;
        job->sum[i] = 0;
        for (k = 0; k < blk.w * blk.h; k++)
            if (blk.valid[k])
                job->sum[i] += (double)blk.band[0][k] - (double)blk.band[1][k];
        job->n_valid[i] = blk.n_valid;
    }
    parus_tile_reader_free(r);
    return 0;
}

static void test_readers__two_threads_agree(void **state)
{
    char *path = in_dir(state, "threads_20230701.tif");
    static const char *const desc[] = {"red", "nir"};
    static const char *const co[] = {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32",
                                     "COMPRESS=DEFLATE", NULL};
    tif_spec s = {100, 90, 2, GDT_UInt16, NULL, desc, true, 1000, 32650, 10, 0, 0, NULL, co};
    parus_tile *t = NULL;
    parus_error err;
    thread_job a, b, c;
    thrd_t ta, tb;
    size_t i;

    write_tif(path, &s);
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    memset(&a, 0, sizeof a);
    a.tile = t;
    b = a;
    c = a;
    read_all(&c);
    assert_int_equal(c.status, PARUS_OK);
    assert_int_equal(thrd_create(&ta, read_all, &a), thrd_success);
    assert_int_equal(thrd_create(&tb, read_all, &b), thrd_success);
    thrd_join(ta, NULL);
    thrd_join(tb, NULL);
    assert_int_equal(a.status, PARUS_OK);
    assert_int_equal(b.status, PARUS_OK);
    for (i = 0; i < 16; i++) {
        assert_true(a.sum[i] == c.sum[i] && b.sum[i] == c.sum[i]);
        assert_int_equal(a.n_valid[i], c.n_valid[i]);
        assert_int_equal(b.n_valid[i], c.n_valid[i]);
    }
    /* the ramp's value 1000 is nodata: some pixels must be invalid */
    assert_true(c.n_valid[0] < 32 * 32);
    parus_tile_free(t);
    free(path);
}

/* ---- real data ---- */

static char *data_path(const char *entry, const char *name)
{
    const char *dir = parus_test_data_dir(entry);
    char buf[4096];
    if (!dir)
        return NULL;
    snprintf(buf, sizeof buf, "%s/%s%s%s", dir, entry, name ? "/" : "", name ? name : "");
    return strdup(buf);
}

static void test_real__havelland_file(void **state)
{
    char *path = data_path("s2-havelland", "S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif");
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *red, *nir;
    (void)state;
    if (!path)
        skip();
    assert_int_equal(open1(path, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_S2_L1C);
    assert_string_equal(in->date, "2017-02-16");
    assert_string_equal(in->date_source, "file name");
    assert_int_equal(in->epsg, 32633);
    assert_string_equal(in->crs_name, "WGS 84 / UTM zone 33N");
    assert_int_equal(in->width, 1536);
    assert_int_equal(in->height, 768);
    assert_int_equal(in->block_w, 256);
    assert_int_equal(in->block_h, 256);
    assert_int_equal(in->n_blocks_x * in->n_blocks_y, 18);
    assert_int_equal(in->validity, PARUS_VALIDITY_NODATA);
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    nir = parus_tile_find_role(t, PARUS_ROLE_NIR);
    assert_int_equal(red->band_index, 3);
    assert_int_equal(nir->band_index, 4);
    assert_string_equal(nir->name, "B08");
    assert_true(red->has_nodata);
    assert_close(red->nodata, 0, 0, 0);
    assert_close(red->scale, 1e-4, 1e-15, 0);
    assert_close(red->offset, 0, 0, 0);
    /* gdalinfo: 12d29'39"E .. 12d43'26"E, 52d27'11"N .. 52d31'35"N */
    assert_close(in->lon_min_deg, 12.4942, 2e-3, 0);
    assert_close(in->lon_max_deg, 12.7240, 2e-3, 0);
    assert_close(in->lat_min_deg, 52.4529, 2e-3, 0);
    assert_close(in->lat_max_deg, 52.5265, 2e-3, 0);
    parus_tile_free(t);
    free(path);
}

static void test_real__havelland_directory(void **state)
{
    char *dir = data_path("s2-havelland", NULL);
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *swir1, *red;
    parus_tile_reader *r;
    parus_block blk;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_SWIR1};
    GDALDatasetH ds;
    uint16_t dn20[4];
    size_t i;
    (void)state;
    if (!dir)
        skip();
    assert_int_equal(open1(dir, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_S2_L1C);
    assert_int_equal(in->n_files, 2);
    assert_int_equal(in->n_bands, 10);
    assert_int_equal(in->width, 1536);
    assert_close(in->res_m, 10.0, 0, 0);
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    swir1 = parus_tile_find_role(t, PARUS_ROLE_SWIR1);
    assert_non_null(strstr(red->path, "_10m_"));
    assert_int_equal(red->band_index, 3);
    assert_string_equal(swir1->name, "B11");
    assert_int_equal(swir1->band_index, 5);
    assert_close(swir1->res_m, 20.0, 0, 0);
    assert_non_null(parus_tile_find_role(t, PARUS_ROLE_NIR_NARROW));
    /* block 7 = (x0 256, y0 256): grid pixel (256 + 2i, 256) takes 20 m pixel (128 + i, 128) */
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 7, &blk, &err), PARUS_OK);
    assert_int_equal(blk.x0, 256);
    assert_int_equal(blk.y0, 256);
    ds = GDALOpen(swir1->path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 5), GF_Read, 128, 128, 4, 1, dn20, 4, 1,
                                  GDT_UInt16, 0, 0),
                     CE_None);
    GDALClose(ds);
    for (i = 0; i < 4; i++) {
        assert_close(blk.band[1][2 * i], dn20[i] / 1e4, 1e-7, 0);
        assert_close(blk.band[1][2 * i + 1], dn20[i] / 1e4, 1e-7, 0);
        assert_close(blk.band[1][256 + 2 * i], dn20[i] / 1e4, 1e-7, 0);
    }
    parus_tile_reader_free(r);
    parus_tile_free(t);
    free(dir);
}

/* The Alabama scene as read: native reflectance (DN x 2e-5 - 0.1, the MTL's gains) or brought to
 * Sentinel-2A MSI's band-passes (the default): the HLS v2.0 adjustment MSI -> OLI inverted, red
 * OLI = 0.9765 MSI + 0.0009, NIR OLI = 0.9983 MSI - 0.0001 (docs/sensors.md), computed here
 * from the published figures, not from parus's table. */
static double alabama_refl(double dn, bool red, bool native)
{
    double oli = dn * 2e-5 - 0.1;
    if (native)
        return oli;
    return red ? (oli - 0.0009) / 0.9765 : (oli + 0.0001) / 0.9983;
}

static void check_landsat(const parus_tile *t, size_t n_files, bool native)
{
    const parus_tile_info *in = parus_tile_get_info(t);
    const parus_band_info *red = parus_tile_find_role(t, PARUS_ROLE_RED);
    const parus_band_info *nir = parus_tile_find_role(t, PARUS_ROLE_NIR);
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    parus_tile_reader *r;
    parus_block blk;
    parus_error err;
    size_t i;

    assert_int_equal(in->sensor, PARUS_SENSOR_LANDSAT_L1);
    assert_string_equal(in->date, "2015-08-04");
    assert_string_equal(in->date_source, "MTL DATE_ACQUIRED");
    assert_int_equal(in->epsg, 32616);
    assert_int_equal(in->width, 627);
    assert_int_equal(in->height, 603);
    assert_int_equal(in->n_files, n_files);
    assert_non_null(strstr(red->path, "l8_B4.tif"));
    assert_non_null(strstr(nir->path, "l8_B5.tif"));
    assert_true(red->has_nodata);
    assert_close(red->nodata, 0, 0, 0);
    assert_close(red->scale * 10000 + red->offset, alabama_refl(10000, true, native), 1e-12, 0);
    assert_close(red->offset, alabama_refl(0, true, native), 1e-12, 0);
    assert_close(nir->offset, alabama_refl(0, false, native), 1e-12, 0);
    if (native)
        assert_null(in->harmonisation);
    else
        assert_non_null(strstr(in->harmonisation, "Sentinel-2A MSI"));
    assert_int_equal(red->block_h, 6);
    /* 6-row strips grouped into 258-row blocks */
    assert_int_equal(in->block_w, 627);
    assert_int_equal(in->block_h, 258);
    assert_int_equal(in->n_blocks_y, 3);
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 1, &blk, &err), PARUS_OK);
    assert_int_equal(blk.y0, 258);
    /* summary.txt: row 300, col 300: DN4 10296, DN5 18355 */
    i = (300 - 258) * blk.w + 300;
    assert_close(blk.band[0][i], alabama_refl(10296, true, native), 1e-6, 0);
    assert_close(blk.band[1][i], alabama_refl(18355, false, native), 1e-6, 0);
    parus_tile_reader_free(r);
}

static void test_real__landsat_directory_and_list(void **state)
{
    char *dir = data_path("landsat8-alabama", NULL);
    char *b4, *b5;
    const char *list[2];
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    (void)state;
    if (!dir)
        skip();
    assert_int_equal(open1(dir, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->validity, PARUS_VALIDITY_QA_BQA);
    assert_int_equal(in->n_bands, 7);
    assert_non_null(strstr(parus_tile_files(t, NULL)[7], "l8_MTL.txt"));
    check_landsat(t, 8, false);
    parus_tile_free(t);
    {
        parus_tile_options native = {.native = true};
        const char *one[1] = {dir};
        assert_int_equal(parus_tile_open(one, 1, &native, &t, &err), PARUS_OK);
        check_landsat(t, 8, true);
        parus_tile_free(t);
    }
    b4 = data_path("landsat8-alabama", "l8_B4.tif");
    b5 = data_path("landsat8-alabama", "l8_B5.tif");
    list[0] = b5;
    list[1] = b4;
    parus_error_init(&err);
    assert_int_equal(parus_tile_open(list, 2, NULL, &t, &err), PARUS_OK);
    check_landsat(t, 3, false); /* two bands and the MTL found beside them */
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_NODATA);
    parus_tile_free(t);
    free(b4);
    free(b5);
    free(dir);
}

/* An MTL longer than the reader keeps is refused, never read cut (a scale or a date past the cut
 * would be silently missing); on the old code its first 1 MiB was read as the whole file. */
static void test_real__landsat_mtl_too_long_is_refused(void **state)
{
    char *src = data_path("landsat8-alabama", NULL), *dir, *b4, *b5, cmd[9000];
    const char *list[2];
    parus_tile *t = NULL;
    parus_error err;
    (void)state;
    if (!src)
        skip();
    dir = parus_test_tmpdir("mtl-long");
    snprintf(cmd, sizeof cmd,
             "ln -s '%s/l8_B4.tif' '%s/l8_B4.tif' && ln -s '%s/l8_B5.tif' '%s/l8_B5.tif' && "
             "(head -c 1100000 /dev/zero | tr '\\0' ' '; echo; cat '%s/l8_MTL.txt') > "
             "'%s/l8_MTL.txt'",
             src, dir, src, dir, src, dir);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    b4 = parus_test_path(dir, "l8_B4.tif");
    b5 = parus_test_path(dir, "l8_B5.tif");
    list[0] = b5;
    list[1] = b4;
    assert_int_equal(parus_tile_open(list, 2, NULL, &t, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "longer than"));
    assert_null(t);
    free(b4);
    free(b5);
    parus_test_rmtree(dir);
    free(dir);
    free(src);
}

static void test_real__cbers_files_of_one_date(void **state)
{
    static const char *const bands[] = {"B13", "B14", "B15", "B16", "CMASK"};
    char *paths[5];
    const char *list[5];
    char name[96];
    parus_tile *t = NULL;
    parus_error err;
    const parus_tile_info *in;
    const parus_band_info *red;
    const parus_band_role roles[] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    parus_tile_reader *r;
    parus_block blk;
    size_t i, n_cloud = 0;
    char *dir = data_path("cbers4-cerrado", NULL);
    (void)state;
    if (!dir)
        skip();
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "CBERS-4_AWFI_022024_%s_2018-04-07.tif", bands[i]);
        paths[i] = data_path("cbers4-cerrado", name);
        list[i] = paths[i];
    }
    parus_error_init(&err);
    assert_int_equal(parus_tile_open(list, 5, NULL, &t, &err), PARUS_OK);
    in = parus_tile_get_info(t);
    assert_int_equal(in->sensor, PARUS_SENSOR_CBERS4_AWFI);
    assert_string_equal(in->date, "2018-04-07");
    assert_int_equal(in->validity, PARUS_VALIDITY_MASK_BAND);
    assert_int_equal(in->epsg, 0);
    assert_int_equal(in->width, 50);
    red = parus_tile_find_role(t, PARUS_ROLE_RED);
    assert_string_equal(red->name, "B15");
    assert_close(red->nodata, -9999, 0, 0);
    assert_close(red->scale, 1e-4, 1e-15, 0);
    assert_string_equal(parus_tile_find_role(t, PARUS_ROLE_NIR)->name, "B16");
    assert_true(in->lon_min_deg > -46.6 && in->lon_max_deg < -46.4);
    r = reader_for(t, roles, 2);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    for (i = 0; i < blk.w * blk.h; i++)
        if (blk.cls[i] == 4) {
            n_cloud++;
            assert_int_equal(blk.valid[i], 0);
        }
    assert_int_equal(n_cloud, 1);
    assert_int_equal(blk.n_valid, 2499);
    parus_tile_reader_free(r);
    parus_tile_free(t);
    /* the whole folder is 14 dates, not one tile */
    assert_int_equal(open1(dir, NULL, &t, &err), PARUS_E_BANDS);
    assert_contains(err.msg, "several dates");
    for (i = 0; i < 5; i++)
        free(paths[i]);
    free(dir);
}

/* Reading some pixels of a block gives exactly what reading the whole block gives there: on a
 * sample tile (16-bit bands and SCL: the table path) and with a cloud mask in play. */
static void test_read_cells__same_as_whole_block(void **state)
{
    char path[4096];
    const char *pth = path;
    const parus_band_role roles[2] = {PARUS_ROLE_NIR, PARUS_ROLE_RED};
    parus_tile *tile;
    parus_tile_reader *a, *b;
    parus_error err;
    size_t blk_i, n_blocks, checked = 0, nan_seen = 0;
    (void)state;
    snprintf(path, sizeof path, "%s/data-samples/season/S2B_MSIL2A_20240305_T50SKF.tif",
             parus_test_source_dir());
    assert_int_equal(parus_tile_open(&pth, 1, NULL, &tile, &err), PARUS_OK);
    assert_int_equal(parus_tile_reader_new(tile, roles, 2, &a, &err), PARUS_OK);
    assert_int_equal(parus_tile_reader_new(tile, roles, 2, &b, &err), PARUS_OK);
    n_blocks = parus_tile_get_info(tile)->n_blocks_x * parus_tile_get_info(tile)->n_blocks_y;
    for (blk_i = 0; blk_i < n_blocks; blk_i++) {
        parus_block blk;
        uint32_t *off;
        float *vals;
        size_t n, i;
        assert_int_equal(parus_tile_reader_read(a, blk_i, &blk, &err), PARUS_OK);
        n = blk.w * blk.h;
        off = malloc(n * sizeof *off);
        vals = malloc(2 * n * sizeof *vals);
        for (i = 0; i < n; i++)
            off[i] = (uint32_t)((i * 7919) % n); /* every pixel, in a scattered order */
        assert_int_equal(parus_tile_reader_read_cells(b, blk_i, off, sizeof *off, n, vals, &err),
                         PARUS_OK);
        for (i = 0; i < n; i++) {
            float nir = blk.band[0][off[i]], red = blk.band[1][off[i]];
            if (isnan(nir) != isnan(vals[2 * i]) || isnan(red) != isnan(vals[2 * i + 1]) ||
                (!isnan(nir) && nir != vals[2 * i]) || (!isnan(red) && red != vals[2 * i + 1]))
                fail_msg("block %zu pixel %u differs", blk_i, off[i]);
            nan_seen += isnan(nir);
            checked++;
        }
        free(off);
        free(vals);
    }
    assert_true(checked == 512 * 512);
    assert_true(nan_seen > 0); /* the date has clouds: the mask path was exercised */
    parus_tile_reader_free(a);
    parus_tile_reader_free(b);
    parus_tile_free(tile);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names__roles_and_sensors),
        cmocka_unit_test_setup_teardown(test_l2a__multiband_roles_offset_date, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_l2a__scl_and_nodata_validity, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_l2a__files_scl_20m_nearest, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_l2a__file_list_order_is_stable, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_grid__coarse_band_must_nest, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_grid__ratio_three_with_offset, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_l2a__band_level_offset_without_scl, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_l1c__offset_from_baseline_token_or_date, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_landsat_c2l2__qa_pixel, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_generic__descriptions_mask_and_float_nodata, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_generic__infinity_is_invalid, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_band_map__good_and_bad, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__missing_path, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__not_a_tiff, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__truncated_tiff_fails_on_read, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__no_crs, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__no_date, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open__no_red_nir, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_blocks__tiles_and_grouped_strips, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_readers__two_threads_agree, setup_dir, teardown_dir),
        cmocka_unit_test(test_real__havelland_file),
        cmocka_unit_test(test_real__havelland_directory),
        cmocka_unit_test(test_real__landsat_directory_and_list),
        cmocka_unit_test(test_real__landsat_mtl_too_long_is_refused),
        cmocka_unit_test(test_real__cbers_files_of_one_date),
        cmocka_unit_test(test_read_cells__same_as_whole_block),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}

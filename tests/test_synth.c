/* test_synth.c - parus-synth: command line, determinism, and a small scene checked against its
 * own truth files and read back through OGR and parus's raster module. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "test_support.h"

#include "parus/crops.h"
#include "parus/raster.h"

#define N_PARCELS 60
#define N_DATES 3

static char *scene_dir;  /* the shared small scene */
static char *scene_dir2; /* the same command again */

/* The generator, or NULL (the test then skips) when CTest did not say where it was built. */
static const char *synth_bin(void)
{
    const char *p = getenv("PARUS_SYNTH");
    FILE *f;
    if (!p || !(f = fopen(p, "rb"))) {
        fprintf(stderr, "parus-synth not built or PARUS_SYNTH not set\n");
        return NULL;
    }
    fclose(f);
    return p;
}

static int run_synth(char **out, char **errs, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int run_synth(char **out, char **errs, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", synth_bin(), args);
    return parus_test_run(cmd, out, errs);
}

static int make_scene(const char *dir)
{
    return run_synth(NULL, NULL,
                     "--out '%s' --size 256 --dates %d --parcels %d --seed 7 --clouds 0.3 "
                     "--crops '%s/data-samples/crops.csv' --quiet",
                     dir, N_DATES, N_PARCELS, parus_test_source_dir());
}

static int setup(void **state)
{
    (void)state;
    if (!synth_bin())
        return 0;
    GDALAllRegister();
    scene_dir = parus_test_tmpdir("synth-a");
    scene_dir2 = parus_test_tmpdir("synth-b");
    if (make_scene(scene_dir) != 0 || make_scene(scene_dir2) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (scene_dir)
        parus_test_rmtree(scene_dir);
    if (scene_dir2)
        parus_test_rmtree(scene_dir2);
    free(scene_dir);
    free(scene_dir2);
    return 0;
}

static void need_scene(void)
{
    if (!synth_bin() || !scene_dir)
        skip();
}

/* A truth CSV through GDAL's CSV driver, every value as text. */
static GDALDatasetH open_csv(const char *dir, const char *name)
{
    static const char *const drv[] = {"CSV", NULL};
    static const char *const oo[] = {"AUTODETECT_TYPE=NO", "HEADERS=YES", NULL};
    char path[4096];
    GDALDatasetH ds;
    snprintf(path, sizeof path, "%s/truth/%s", dir, name);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drv, oo, NULL);
    assert_non_null(ds);
    return ds;
}

static const char *field(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    assert_true(i >= 0);
    return OGR_F_GetFieldAsString(f, i);
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static void assert_same_file(const char *name)
{
    char a[4096], b[4096];
    size_t na, nb;
    char *x, *y;
    snprintf(a, sizeof a, "%s/%s", scene_dir, name);
    snprintf(b, sizeof b, "%s/%s", scene_dir2, name);
    x = read_all(a, &na);
    y = read_all(b, &nb);
    if (na != nb || memcmp(x, y, na) != 0)
        fail_msg("'%s' differs between two runs with the same seed", name);
    free(x);
    free(y);
}

/* The tile file names, in date order, from truth/dates.csv. */
static size_t tile_names(char names[][256], size_t cap)
{
    GDALDatasetH ds = open_csv(scene_dir, "dates.csv");
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    size_t n = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (n < cap)
            snprintf(names[n], 256, "%s", field(f, "file"));
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return n;
}

static void test_cli__help_and_misuse(void **state)
{
    char *out = NULL, *errs = NULL;
    char *dir;
    (void)state;
    if (!synth_bin())
        skip();
    assert_int_equal(run_synth(&out, NULL, "--help"), 0);
    assert_non_null(strstr(out, "--parcels-format"));
    free(out);
    assert_int_equal(run_synth(NULL, &errs, "--size 256"), 2);
    assert_non_null(strstr(errs, "--out"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --size 20"), 2);
    assert_non_null(strstr(errs, "--size"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --bands B04,B99"), 2);
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --clouds 0.8"), 2);
    assert_non_null(strstr(errs, "--cloud-model mean"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --cloud-model sunny"), 2);
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --frobnicate 1"), 2);
    assert_non_null(strstr(errs, "--frobnicate"));
    free(errs);

    dir = parus_test_tmpdir("synth-bad");
    assert_int_equal(run_synth(NULL, &errs, "--out '%s' --crops '%s/none.csv'", dir, dir), 3);
    assert_non_null(strstr(errs, "none.csv"));
    free(errs);
    {
        char path[4096];
        const char *bad = "code,name_en\nwheat,Wheat\n";
        snprintf(path, sizeof path, "%s/bad.csv", dir);
        assert_int_equal(parus_test_write_file(path, bad, strlen(bad)), 0);
        assert_int_equal(run_synth(NULL, &errs, "--out '%s' --crops '%s'", dir, path), 7);
        assert_non_null(strstr(errs, "missing column"));
        free(errs);
    }
    /* more parcels than the scene has fields */
    assert_int_equal(run_synth(NULL, &errs,
                               "--out '%s' --size 64 --parcels 100000 --crops "
                               "'%s/data-samples/crops.csv'",
                               dir, parus_test_source_dir()),
                     2);
    assert_non_null(strstr(errs, "fields"));
    free(errs);
    /* run from anywhere, no --crops: the source tree's table (issue 14, item 6) */
    {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --out here --size 64 --dates 2 --quiet", dir,
                 synth_bin());
        assert_int_equal(parus_test_run(cmd, NULL, &errs), 0);
        free(errs);
    }
    parus_test_rmtree(dir);
    free(dir);
}

static void test_scene__same_seed_same_bytes(void **state)
{
    char names[16][256];
    size_t n, i;
    (void)state;
    need_scene();
    n = tile_names(names, 16);
    assert_int_equal(n, N_DATES);
    for (i = 0; i < n; i++)
        assert_same_file(names[i]);
    assert_same_file("parcels.geojson");
    assert_same_file("truth/parcels_truth.csv");
    assert_same_file("truth/events.csv");
    assert_same_file("truth/dates.csv");
    assert_same_file("truth/parcel_ndvi.csv");
}

struct truth_row {
    char id[16], farmer[16], crop[32], shape[16], weak[64];
    double area_m2, declared_mu, pf, vigour;
    int valid;
};

static size_t load_truth(struct truth_row *rows, size_t cap)
{
    GDALDatasetH ds = open_csv(scene_dir, "parcels_truth.csv");
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    size_t n = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        assert_true(n < cap);
        snprintf(rows[n].id, sizeof rows[n].id, "%s", field(f, "parcel_id"));
        snprintf(rows[n].farmer, sizeof rows[n].farmer, "%s", field(f, "farmer_id"));
        snprintf(rows[n].crop, sizeof rows[n].crop, "%s", field(f, "crop"));
        snprintf(rows[n].shape, sizeof rows[n].shape, "%s", field(f, "shape"));
        rows[n].area_m2 = strtod(field(f, "true_area_m2"), NULL);
        rows[n].declared_mu = strtod(field(f, "declared_area_mu"), NULL);
        rows[n].pf = strtod(field(f, "planted_fraction"), NULL);
        rows[n].valid = (int)strtol(field(f, "valid"), NULL, 10);
        snprintf(rows[n].weak, sizeof rows[n].weak, "%s", field(f, "weak_cause"));
        rows[n].vigour = strtod(field(f, "vigour"), NULL);
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return n;
}

static void test_scene__parcels_match_truth(void **state)
{
    struct truth_row rows[N_PARCELS + 1];
    size_t n, i, n_invalid = 0, n_sub = 0, n_partial = 0, n_fallow = 0;
    char path[4096];
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureH f;
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct;
    (void)state;
    need_scene();

    n = load_truth(rows, N_PARCELS + 1);
    assert_int_equal(n, N_PARCELS);
    snprintf(path, sizeof path, "%s/parcels.geojson", scene_dir);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    l = GDALDatasetGetLayer(ds, 0);
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), N_PARCELS);
    assert_int_equal(OSRImportFromEPSG(utm, 32650), OGRERR_NONE);
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(OGR_L_GetSpatialRef(l), utm);
    assert_non_null(ct);

    i = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRGeometryH g = OGR_G_Clone(OGR_F_GetGeometryRef(f));
        const struct truth_row *t = &rows[i];
        double lon = OGR_G_GetX(OGR_G_GetGeometryRef(g, 0), 0);
        double lat = OGR_G_GetY(OGR_G_GetGeometryRef(g, 0), 0);
        assert_string_equal(field(f, "parcel_id"), t->id);
        assert_string_equal(field(f, "farmer_id"), t->farmer);
        assert_close(OGR_F_GetFieldAsDouble(f, OGR_F_GetFieldIndex(f, "declared_area_mu")),
                     t->declared_mu, 1e-9, 0);
        /* lon/lat near the default origin, in that order */
        assert_true(lon > 114.4 && lon < 114.6 && lat > 36.4 && lat < 36.6);
        assert_int_equal(OGR_G_Transform(g, ct), OGRERR_NONE);
        if (!t->valid) {
            n_invalid++;
            assert_string_equal(t->shape, "invalid");
            CPLPushErrorHandler(CPLQuietErrorHandler);
            assert_false(OGR_G_IsValid(g));
            CPLPopErrorHandler();
        } else {
            assert_true(OGR_G_IsValid(g));
            assert_close(OGR_G_Area(g), t->area_m2, 0.05, 1e-4);
        }
        if (strcmp(t->shape, "sub_pixel") == 0) {
            n_sub++;
            assert_true(t->area_m2 < 100);
        } else {
            assert_true(t->area_m2 >= 0.5 * 10000.0 / 15 && t->area_m2 <= 30 * 10000.0 / 15);
        }
        /* declared: true area give or take 5 %, or inflated by up to 30 % */
        assert_true(t->declared_mu * 10000.0 / 15 > 0.94 * t->area_m2 - 7);
        assert_true(t->declared_mu * 10000.0 / 15 < 1.31 * t->area_m2 + 7);
        n_partial += t->pf > 0 && t->pf < 0.85;
        n_fallow += t->pf == 0;
        assert_int_equal(t->pf == 0, strcmp(t->crop, "fallow") == 0);
        /* the weak parcel's causes (docs/synth.md): fallow, partly sown, low vigour (vigour is
         * printed with three decimals: 0.900 may be just below 0.9) */
        assert_int_equal(strstr(t->weak, "unplanted") != NULL, t->pf == 0);
        assert_int_equal(strstr(t->weak, "partial") != NULL, t->pf > 0 && t->pf < 0.9);
        assert_true(t->vigour >= 0.8 && t->vigour <= 1.15);
        if (fabs(t->vigour - 0.9) > 0.001)
            assert_int_equal(strstr(t->weak, "vigour") != NULL, t->pf > 0 && t->vigour < 0.9);
        OGR_G_DestroyGeometry(g);
        OGR_F_Destroy(f);
        i++;
    }
    assert_int_equal(n_invalid, 1);
    assert_true(n_partial >= 1);
    assert_true(n_fallow >= 1);
    (void)n_sub;
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    GDALClose(ds);
}

static void test_scene__every_crop_class(void **state)
{
    struct truth_row rows[N_PARCELS + 1];
    static const char *const codes[] = {
        "winter_wheat", "summer_maize", "spring_maize", "single_rice", "double_rice", "soybean",
        "cotton",       "rapeseed",     "peanut",       "potato",      "sugarcane",   "vegetables",
        "greenhouse",   "orchard",      "tea",          "wheat_maize", "fallow"};
    size_t n, i, k;
    (void)state;
    need_scene();
    n = load_truth(rows, N_PARCELS + 1);
    for (k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        for (i = 0; i < n && strcmp(rows[i].crop, codes[k]) != 0; i++)
            ;
        if (i == n)
            fail_msg("no parcel grows '%s'", codes[k]);
    }
}

static void test_scene__truth_files_agree(void **state)
{
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureH f;
    size_t n_rows = 0;
    (void)state;
    need_scene();

    ds = open_csv(scene_dir, "parcel_ndvi.csv");
    l = GDALDatasetGetLayer(ds, 0);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        double v = strtod(field(f, "ndvi"), NULL);
        assert_true(v > -0.5 && v < 1.0);
        assert_int_equal(strlen(field(f, "date")), 10);
        n_rows++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    assert_int_equal(n_rows, N_PARCELS * N_DATES);

    ds = open_csv(scene_dir, "events.csv");
    l = GDALDatasetGetLayer(ds, 0);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        const char *ev = field(f, "event");
        long id = strtol(field(f, "parcel_id") + 1, NULL, 10);
        double m = strtod(field(f, "magnitude"), NULL);
        assert_true(strcmp(ev, "flood") == 0 || strcmp(ev, "sudden_loss") == 0);
        assert_true(id >= 1 && id <= N_PARCELS);
        assert_true(m >= 0.5 && m <= 1.0);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
}

static void test_scene__tiles_are_sentinel2_l2a(void **state)
{
    char names[16][256], path[4096];
    size_t n, i;
    size_t n_cloud = 0, n_clear = 0, n_plausible = 0;
    (void)state;
    need_scene();
    n = tile_names(names, 16);
    for (i = 0; i < n; i++) {
        GDALDatasetH ds;
        uint16_t *red, *scl;
        size_t k, npx = 256 * 256;
        parus_tile *tile;
        parus_error err;
        const char *paths[1];
        const parus_tile_info *info;

        snprintf(path, sizeof path, "%s/%s", scene_dir, names[i]);
        ds = GDALOpen(path, GA_ReadOnly);
        assert_non_null(ds);
        assert_int_equal(GDALGetRasterCount(ds), 7);
        assert_int_equal(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)), GDT_UInt16);
        assert_string_equal(GDALGetMetadataItem(ds, "BOA_ADD_OFFSET", NULL), "-1000");
        assert_non_null(strstr(GDALGetDescription(GDALGetRasterBand(ds, 3)), "B04"));
        assert_non_null(strstr(GDALGetDescription(GDALGetRasterBand(ds, 7)), "SCL"));
        red = malloc(npx * sizeof *red);
        scl = malloc(npx * sizeof *scl);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 3), GF_Read, 0, 0, 256, 256, red, 256,
                                      256, GDT_UInt16, 0, 0),
                         CE_None);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 7), GF_Read, 0, 0, 256, 256, scl, 256,
                                      256, GDT_UInt16, 0, 0),
                         CE_None);
        for (k = 0; k < npx; k++) {
            n_cloud += scl[k] == 8 || scl[k] == 9;
            if (scl[k] == 4 || scl[k] == 5) {
                /* DN = reflectance * 10000 + 1000: clear land red between 0.01 and 0.3 */
                n_clear++;
                n_plausible += red[k] > 1100 && red[k] < 4000;
            }
        }
        free(red);
        free(scl);
        GDALClose(ds);

        /* and parus's raster module sees what a real L2A tile shows */
        paths[0] = path;
        assert_int_equal(parus_tile_open(paths, 1, NULL, &tile, &err), PARUS_OK);
        info = parus_tile_get_info(tile);
        assert_int_equal(info->sensor, PARUS_SENSOR_S2_L2A);
        assert_int_equal(info->epsg, 32650);
        assert_int_equal(info->validity, PARUS_VALIDITY_SCL);
        assert_close(info->res_m, 10, 0, 0);
        assert_close(parus_tile_find_role(tile, PARUS_ROLE_RED)->offset, -0.1, 1e-12, 0);
        assert_non_null(strstr(names[i], "MSIL2A"));
        {
            char compact[9];
            snprintf(compact, sizeof compact, "%.4s%.2s%.2s", info->date, info->date + 5,
                     info->date + 8);
            assert_non_null(strstr(names[i], compact));
        }
        parus_tile_free(tile);
    }
    assert_true(n_cloud > 0);
    assert_true(n_plausible > 0.99 * (double)n_clear);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Pixels well inside a parcel, clear, on a fully planted (or fallow) parcel: their mean NDVI is
 * the parcel's truth NDVI up to noise, texture and the per-date atmosphere. */
static void test_scene__pixels_agree_with_truth_ndvi(void **state)
{
    enum { W = 256 };
    char names[16][256], path[4400];
    struct truth_row rows[N_PARCELS + 1];
    double truth[N_PARCELS][N_DATES], diffs[N_PARCELS * N_DATES];
    size_t n_diffs = 0, n_dates, i;
    int32_t *id = calloc(W * W, sizeof *id);
    uint16_t *red = malloc(W * W * sizeof *red), *nir = malloc(W * W * sizeof *nir);
    uint16_t *scl = malloc(W * W * sizeof *scl);
    OGRGeometryH geoms[N_PARCELS];
    double burn[N_PARCELS], gt[6];
    int band1 = 1, d;
    GDALDatasetH ds, mem, vec;
    OGRLayerH l;
    OGRFeatureH f;
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct;
    (void)state;
    need_scene();
    assert_true(id && red && nir && scl);

    n_dates = tile_names(names, 16);
    load_truth(rows, N_PARCELS + 1);
    ds = open_csv(scene_dir, "parcel_ndvi.csv");
    l = GDALDatasetGetLayer(ds, 0);
    i = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        truth[i / N_DATES][i % N_DATES] = strtod(field(f, "ndvi"), NULL);
        i++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);

    /* parcel index + 1 at every pixel centre inside it */
    snprintf(path, sizeof path, "%s/%s", scene_dir, names[0]);
    ds = GDALOpen(path, GA_ReadOnly);
    GDALGetGeoTransform(ds, gt);
    mem = GDALCreate(GDALGetDriverByName("MEM"), "", W, W, 1, GDT_Int32, NULL);
    GDALSetGeoTransform(mem, gt);
    GDALSetProjection(mem, GDALGetProjectionRef(ds));
    GDALClose(ds);
    assert_int_equal(OSRImportFromEPSG(utm, 32650), OGRERR_NONE);
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    snprintf(path, sizeof path, "%s/parcels.geojson", scene_dir);
    vec = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    l = GDALDatasetGetLayer(vec, 0);
    ct = OCTNewCoordinateTransformation(OGR_L_GetSpatialRef(l), utm);
    i = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        geoms[i] = OGR_G_Clone(OGR_F_GetGeometryRef(f));
        assert_int_equal(OGR_G_Transform(geoms[i], ct), OGRERR_NONE);
        burn[i] = (double)(i + 1);
        i++;
        OGR_F_Destroy(f);
    }
    assert_int_equal(
        GDALRasterizeGeometries(mem, 1, &band1, (int)i, geoms, NULL, NULL, burn, NULL, NULL, NULL),
        CE_None);
    assert_int_equal(
        GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, W, W, id, W, W, GDT_Int32, 0, 0),
        CE_None);
    while (i > 0)
        OGR_G_DestroyGeometry(geoms[--i]);
    GDALClose(mem);
    GDALClose(vec);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);

    for (d = 0; d < (int)n_dates; d++) {
        double sum[N_PARCELS + 1] = {0};
        size_t cnt[N_PARCELS + 1] = {0};
        int x, y, k;
        snprintf(path, sizeof path, "%s/%s", scene_dir, names[d]);
        ds = GDALOpen(path, GA_ReadOnly);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 3), GF_Read, 0, 0, W, W, red, W, W,
                                      GDT_UInt16, 0, 0),
                         CE_None);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 4), GF_Read, 0, 0, W, W, nir, W, W,
                                      GDT_UInt16, 0, 0),
                         CE_None);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 7), GF_Read, 0, 0, W, W, scl, W, W,
                                      GDT_UInt16, 0, 0),
                         CE_None);
        GDALClose(ds);
        for (y = 1; y < W - 1; y++)
            for (x = 1; x < W - 1; x++) {
                int p = id[y * W + x], dx, dy;
                bool inside = p > 0 && (scl[y * W + x] == 4 || scl[y * W + x] == 5);
                double r, n;
                for (dy = -1; dy <= 1 && inside; dy++)
                    for (dx = -1; dx <= 1; dx++)
                        inside = inside && id[(y + dy) * W + x + dx] == p;
                if (!inside)
                    continue;
                r = (red[y * W + x] - 1000.0) / 10000;
                n = (nir[y * W + x] - 1000.0) / 10000;
                sum[p] += (n - r) / (n + r);
                cnt[p]++;
            }
        for (k = 1; k <= N_PARCELS; k++) {
            const struct truth_row *t = &rows[k - 1];
            if (cnt[k] < 2 || !t->valid || (t->pf > 0 && t->pf < 0.9))
                continue;
            diffs[n_diffs++] = fabs(sum[k] / (double)cnt[k] - truth[k - 1][d]);
        }
    }
    assert_true(n_diffs >= 10);
    qsort(diffs, n_diffs, sizeof *diffs, cmp_double);
    if (getenv("PARUS_TEST_VERBOSE"))
        fprintf(stderr, "interior NDVI vs truth: median %.4f, 90th %.4f over %zu parcel-dates\n",
                diffs[n_diffs / 2], diffs[n_diffs * 9 / 10], n_diffs);
    if (diffs[n_diffs / 2] > 0.03)
        fail_msg("median |interior NDVI - truth| is %g over %zu parcel-dates", diffs[n_diffs / 2],
                 n_diffs);
    free(id);
    free(red);
    free(nir);
    free(scl);
}

static void test_scene__band_subset_no_truth(void **state)
{
    char *dir, path[4096];
    char *out = NULL;
    GDALDatasetH ds;
    FILE *f;
    (void)state;
    if (!synth_bin())
        skip();
    dir = parus_test_tmpdir("synth-sub");
    assert_int_equal(run_synth(&out, NULL,
                               "--out '%s' --size 64 --dates 1 --start 2024-07-01 --bands "
                               "B04,B08,SCL --no-truth --parcels-format gpkg --crops "
                               "'%s/data-samples/crops.csv'",
                               dir, parus_test_source_dir()),
                     0);
    assert_non_null(strstr(out, "parcels"));
    free(out);
    snprintf(path, sizeof path, "%s/truth", dir);
    f = fopen(path, "r");
    assert_null(f);
    snprintf(path, sizeof path, "%s/parcels.gpkg", dir);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    assert_true(OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE) >= 1);
    GDALClose(ds);
    {
        char **names = VSIReadDir(dir);
        int k, n_tif = 0;
        for (k = 0; names && names[k]; k++)
            if (strstr(names[k], "_MSIL2A_20240701_") && strstr(names[k], ".tif")) {
                snprintf(path, sizeof path, "%s/%s", dir, names[k]);
                n_tif++;
            }
        CSLDestroy(names);
        assert_int_equal(n_tif, 1);
    }
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterCount(ds), 3);
    assert_non_null(strstr(GDALGetDescription(GDALGetRasterBand(ds, 2)), "B08"));
    assert_string_equal(GDALGetMetadataItem(ds, "ACQUISITION_DATE", NULL), "2024-07-01");
    GDALClose(ds);
    parus_test_rmtree(dir);
    free(dir);
}

/* The mean cover over the dates that the written masks show (truth/dates.csv's cloud_fraction
 * counts the SCL cloud classes of each written tile). */
static double measured_mean_cover(const char *model, double clouds, int seed, int *n_full)
{
    char *dir = parus_test_tmpdir("synth-clouds");
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureH f;
    double sum = 0;
    int n = 0;
    assert_int_equal(run_synth(NULL, NULL,
                               "--out '%s' --size 96 --dates 16 --parcels 4 --seed %d --bands SCL "
                               "--cloud-model %s --clouds %g --crops '%s/data-samples/crops.csv' "
                               "--quiet",
                               dir, seed, model, clouds, parus_test_source_dir()),
                     0);
    ds = open_csv(dir, "dates.csv");
    lyr = GDALDatasetGetLayer(ds, 0);
    *n_full = 0;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        double c = strtod(field(f, "cloud_fraction"), NULL);
        sum += c;
        *n_full += c >= 0.999;
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    parus_test_rmtree(dir);
    free(dir);
    assert_int_equal(n, 16);
    return sum / n;
}

static void test_clouds__mean_model_means_what_it_says(void **state)
{
    static const double levels[] = {0.2, 0.5, 0.8};
    size_t k;
    int seed, n_full, n_full_08 = 0;
    double legacy;
    (void)state;
    if (!synth_bin())
        skip();
    for (k = 0; k < sizeof levels / sizeof levels[0]; k++)
        for (seed = 11; seed <= 13; seed++) {
            double m = measured_mean_cover("mean", levels[k], seed, &n_full);
            print_message("clouds %.1f seed %d: mean mask cover %.4f, %d full dates\n", levels[k],
                          seed, m, n_full);
            assert_true(fabs(m - levels[k]) <= 0.02);
            if (levels[k] > 0.7)
                n_full_08 += n_full;
        }
    assert_true(n_full_08 > 0);
    /* the legacy model stays the default and keeps its lower mean */
    legacy = measured_mean_cover("legacy", 0.5, 11, &n_full);
    print_message("legacy clouds 0.5 seed 11: mean mask cover %.4f\n", legacy);
    assert_true(legacy < 0.4);
    assert_int_equal(n_full, 0);
}

static void assert_same_path(const char *a, const char *b)
{
    size_t na, nb;
    char *x = read_all(a, &na), *y = read_all(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

static int make_radar_scene(const char *dir, const char *extra)
{
    return run_synth(NULL, NULL,
                     "--out '%s' --size 256 --dates 4 --parcels 20 --seed 5 %s "
                     "--crops '%s/data-samples/crops.csv' --quiet",
                     dir, extra, parus_test_source_dir());
}

/* Radar tiles: the contract's bands and metadata, the same bytes for the same seed, passes that
 * alternate on a 12-day revisit, and optical outputs untouched by --radar. */
static void test_radar__contract_reproducible_passes(void **state)
{
    char *a, *b, *c, pa[4400], pb[4400];
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureH f;
    int n = 0;
    char prev_dir[16] = "";
    (void)state;
    if (!synth_bin())
        skip();
    a = parus_test_tmpdir("synth-ra");
    b = parus_test_tmpdir("synth-rb");
    c = parus_test_tmpdir("synth-rc");
    assert_int_equal(make_radar_scene(a, "--radar"), 0);
    assert_int_equal(make_radar_scene(b, "--radar"), 0);
    assert_int_equal(make_radar_scene(c, ""), 0);
    ds = open_csv(a, "radar_dates.csv");
    lyr = GDALDatasetGetLayer(ds, 0);
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        const char *dir = field(f, "orbit_direction");
        GDALDatasetH t;
        assert_true(strcmp(dir, prev_dir) != 0);
        snprintf(prev_dir, sizeof prev_dir, "%s", dir);
        snprintf(pa, sizeof pa, "%s/%s", a, field(f, "file"));
        snprintf(pb, sizeof pb, "%s/%s", b, field(f, "file"));
        assert_same_path(pa, pb);
        if (n == 1) {
            char d0[11];
            snprintf(d0, sizeof d0, "%s", field(f, "date"));
            assert_string_equal(d0, "2024-03-17"); /* first optical date 03-05 + 12 days */
        }
        t = GDALOpen(pa, GA_ReadOnly);
        assert_non_null(t);
        assert_int_equal(GDALGetRasterCount(t), 3);
        assert_string_equal(GDALGetDescription(GDALGetRasterBand(t, 1)), "VV");
        assert_string_equal(GDALGetDescription(GDALGetRasterBand(t, 2)), "VH");
        assert_string_equal(GDALGetDescription(GDALGetRasterBand(t, 3)), "ANGLE");
        assert_int_equal(GDALGetRasterDataType(GDALGetRasterBand(t, 1)), GDT_Float32);
        assert_string_equal(GDALGetRasterUnitType(GDALGetRasterBand(t, 1)), "linear");
        assert_string_equal(GDALGetMetadataItem(t, "BACKSCATTER_SCALE", NULL), "linear");
        assert_string_equal(GDALGetMetadataItem(t, "BACKSCATTER_COEFFICIENT", NULL), "sigma0");
        assert_string_equal(GDALGetMetadataItem(t, "ORBIT_DIRECTION", NULL), dir);
        assert_string_equal(GDALGetMetadataItem(t, "NUMBER_OF_LOOKS", NULL), "4.4");
        GDALClose(t);
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    assert_true(n >= 10);
    snprintf(pa, sizeof pa, "%s/S2B_MSIL2A_20240305_T50SKF.tif", a);
    snprintf(pb, sizeof pb, "%s/S2B_MSIL2A_20240305_T50SKF.tif", c);
    assert_same_path(pa, pb);
    snprintf(pa, sizeof pa, "%s/truth/parcel_ndvi.csv", a);
    snprintf(pb, sizeof pb, "%s/truth/parcel_ndvi.csv", c);
    assert_same_path(pa, pb);
    parus_test_rmtree(a);
    parus_test_rmtree(b);
    parus_test_rmtree(c);
    free(a);
    free(b);
    free(c);
}

/* The median over 8 x 8 windows of mean^2 / variance of VV on one date (most windows lie inside
 * one feature, whose backscatter is uniform but for a 0.2-degree incidence change). */
static double median_window_enl(const char *looks)
{
    enum { W = 256, B = 8, NW = (W / B) * (W / B) };
    char *dir = parus_test_tmpdir("synth-enl"), extra[64], path[4400];
    float *vv = malloc(W * W * sizeof *vv);
    double enl[NW], med;
    size_t wi, k = 0;
    GDALDatasetH ds;
    assert_non_null(vv);
    snprintf(extra, sizeof extra, "--radar --bands SCL --radar-looks %s", looks);
    assert_int_equal(make_radar_scene(dir, extra), 0);
    snprintf(path, sizeof path, "%s/S1A_IW_GRDH_20240305_ASC_synth.tif", dir);
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(
        GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, W, W, vv, W, W, GDT_Float32, 0, 0),
        CE_None);
    GDALClose(ds);
    for (wi = 0; wi < NW; wi++) {
        size_t x0 = (wi % (W / B)) * B, y0 = (wi / (W / B)) * B, x, y;
        double s = 0, s2 = 0, m, var;
        for (y = y0; y < y0 + B; y++)
            for (x = x0; x < x0 + B; x++) {
                double v = (double)vv[y * W + x];
                s += v;
                s2 += v * v;
            }
        m = s / (B * B);
        var = (s2 - B * B * m * m) / (B * B - 1);
        enl[k++] = m * m / var;
    }
    qsort(enl, k, sizeof enl[0], cmp_double);
    med = enl[k / 2];
    free(vv);
    parus_test_rmtree(dir);
    free(dir);
    return med;
}

static void test_radar__looks_measured_back(void **state)
{
    double e4, e12;
    (void)state;
    if (!synth_bin())
        skip();
    e4 = median_window_enl("4.4");
    e12 = median_window_enl("12");
    print_message("median window ENL: %.3f for 4.4 looks, %.3f for 12\n", e4, e12);
    /* the window median is biased low (sampling skew of mean^2/var over 64 px, field edges):
     * measured 3.99 and 9.84; the sampler itself gives 4.43 and 12.03 over 10^6 draws */
    assert_true(e4 >= 0.8 * 4.4 && e4 <= 1.1 * 4.4);
    assert_true(e12 >= 0.75 * 12 && e12 <= 1.1 * 12);
    assert_true(e12 > 2 * e4);
}

/* ---- --weather: daily weather grids, weather events, harvests ---- */

#define WX_YEAR 2024

/* The shared scene's command line plus extra. */
static int make_scene_with(const char *dir, const char *extra)
{
    return run_synth(NULL, NULL,
                     "--out '%s' --size 256 --dates %d --parcels %d --seed 7 --clouds 0.3 %s "
                     "--crops '%s/data-samples/crops.csv' --quiet",
                     dir, N_DATES, N_PARCELS, extra, parus_test_source_dir());
}

/* A weather stack's values, band-sequential, malloc'ed; its size in *nx, *ny, *nb. */
static float *read_stack(const char *dir, const char *var, int year, int *nx, int *ny, int *nb)
{
    char path[4400];
    GDALDatasetH ds;
    float *v;
    snprintf(path, sizeof path, "%s/weather/%s_%d.tif", dir, var, year);
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    *nx = GDALGetRasterXSize(ds);
    *ny = GDALGetRasterYSize(ds);
    *nb = GDALGetRasterCount(ds);
    v = malloc((size_t)*nx * (size_t)*ny * (size_t)*nb * sizeof *v);
    assert_non_null(v);
    assert_int_equal(GDALDatasetRasterIO(ds, GF_Read, 0, 0, *nx, *ny, v, *nx, *ny, GDT_Float32, *nb,
                                         NULL, 0, 0, 0),
                     CE_None);
    GDALClose(ds);
    return v;
}

/* Day of year (1 = 1 January) of a YYYY-MM-DD date of WX_YEAR. */
static int doy_of(const char *date)
{
    static const int before[12] = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335};
    int y, m, d;
    assert_int_equal(sscanf(date, "%d-%d-%d", &y, &m, &d), 3);
    assert_int_equal(y, WX_YEAR); /* a leap year: the table above */
    return before[m - 1] + d;
}

/* The weather event of that kind in truth/weather_events.csv: false when none. */
static bool weather_event(const char *dir, const char *kind, int *d0, int *d1, double *size)
{
    GDALDatasetH ds = open_csv(dir, "weather_events.csv");
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    bool found = false;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (strcmp(field(f, "kind"), kind) == 0) {
            found = true;
            *d0 = doy_of(field(f, "first_date"));
            *d1 = doy_of(field(f, "last_date"));
            *size = atof(field(f, "size"));
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return found;
}

struct harvest_row {
    char id[16], season[32], crop[32];
    double area_m2, yield, kg;
    int drought, heat_days, frost_days;
};

static size_t read_harvests(const char *dir, struct harvest_row *rows, size_t cap)
{
    GDALDatasetH ds = open_csv(dir, "harvests.csv");
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    size_t n = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        assert_true(n < cap);
        snprintf(rows[n].id, sizeof rows[n].id, "%s", field(f, "parcel_id"));
        snprintf(rows[n].season, sizeof rows[n].season, "%s", field(f, "season"));
        snprintf(rows[n].crop, sizeof rows[n].crop, "%s", field(f, "crop"));
        rows[n].area_m2 = atof(field(f, "planted_area_m2"));
        rows[n].yield = atof(field(f, "yield_kg_per_mu"));
        rows[n].kg = atof(field(f, "harvest_kg"));
        rows[n].drought = atoi(field(f, "drought"));
        rows[n].heat_days = atoi(field(f, "heat_days"));
        rows[n].frost_days = atoi(field(f, "frost_days"));
        n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return n;
}

static void test_weather__misuse(void **state)
{
    char *errs = NULL;
    (void)state;
    if (!synth_bin())
        skip();
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --drought yes"), 2);
    assert_non_null(strstr(errs, "--weather"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --weather --weather-years 31"), 2);
    assert_non_null(strstr(errs, "--weather-years"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --weather --weather-res 0.01"), 2);
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --weather --heatwave maybe"), 2);
    assert_non_null(strstr(errs, "--heatwave"));
    free(errs);
    assert_int_equal(run_synth(NULL, &errs, "--out /tmp/x --weather=yes"), 2);
    free(errs);
}

/* The default --weather: 11 years of three variables in the weather contract, on a 0.05-degree
 * grid aligned to its resolution that covers every parcel with a cell to spare, tmin below tmax,
 * imported whole by parus weather import and read by parus weather info. */
static void test_weather__files_import(void **state)
{
    static const char *const var[3] = {"precip", "tmin", "tmax"};
    char *dir, *db, path[4400], *log;
    GDALDatasetH ds, pds;
    OGREnvelope env;
    double gt[6];
    float *tn, *tx;
    int y, v, nx, ny, nb;
    size_t i;
    (void)state;
    if (!synth_bin())
        skip();
    dir = parus_test_tmpdir("synth-wx");
    assert_int_equal(make_scene_with(dir, "--weather"), 0);
    for (y = WX_YEAR - 10; y <= WX_YEAR; y++)
        for (v = 0; v < 3; v++) {
            FILE *f;
            snprintf(path, sizeof path, "%s/weather/%s_%d.tif", dir, var[v], y);
            f = fopen(path, "rb");
            assert_non_null(f);
            fclose(f);
        }
    snprintf(path, sizeof path, "%s/weather/precip_%d.tif", dir, WX_YEAR);
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterCount(ds), 366);
    assert_int_equal(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)), GDT_Float32);
    assert_string_equal(GDALGetMetadataItem(ds, "VARIABLE", NULL), "precip");
    assert_string_equal(GDALGetMetadataItem(GDALGetRasterBand(ds, 1), "DATE", NULL), "2024-01-01");
    assert_string_equal(GDALGetMetadataItem(GDALGetRasterBand(ds, 366), "DATE", NULL),
                        "2024-12-31");
    assert_string_equal(GDALGetRasterUnitType(GDALGetRasterBand(ds, 1)), "mm");
    {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(GDALGetProjectionRef(ds));
        assert_string_equal(OSRGetAuthorityCode(srs, NULL), "4326");
        OSRDestroySpatialReference(srs);
    }
    assert_int_equal(GDALGetGeoTransform(ds, gt), CE_None);
    assert_close(gt[1], 0.05, 1e-12, 0);
    assert_close(gt[5], -0.05, 1e-12, 0);
    assert_close(gt[0] / 0.05, floor(gt[0] / 0.05 + 0.5), 1e-6, 0);
    assert_close(gt[3] / 0.05, floor(gt[3] / 0.05 + 0.5), 1e-6, 0);
    snprintf(path, sizeof path, "%s/parcels.geojson", dir);
    pds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(pds);
    assert_int_equal(OGR_L_GetExtent(GDALDatasetGetLayer(pds, 0), &env, TRUE), OGRERR_NONE);
    GDALClose(pds);
    assert_true(gt[0] + gt[1] <= env.MinX);
    assert_true(gt[0] + gt[1] * (GDALGetRasterXSize(ds) - 1) >= env.MaxX);
    assert_true(gt[3] + gt[5] >= env.MaxY);
    assert_true(gt[3] + gt[5] * (GDALGetRasterYSize(ds) - 1) <= env.MinY);
    GDALClose(ds);
    snprintf(path, sizeof path, "%s/weather/tmax_%d.tif", dir, WX_YEAR - 3);
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterCount(ds), 365);
    assert_string_equal(GDALGetMetadataItem(ds, "VARIABLE", NULL), "tmax");
    assert_string_equal(GDALGetRasterUnitType(GDALGetRasterBand(ds, 200)), "degC");
    GDALClose(ds);

    tn = read_stack(dir, "tmin", WX_YEAR, &nx, &ny, &nb);
    tx = read_stack(dir, "tmax", WX_YEAR, &nx, &ny, &nb);
    for (i = 0; i < (size_t)nx * (size_t)ny * (size_t)nb; i++)
        assert_true(tn[i] < tx[i]);
    free(tn);
    free(tx);

    db = parus_test_path(dir, "wx.sqlite");
    log = parus_test_run_expect(0, "'%s' --db '%s' weather import '%s'/weather/*.tif",
                                parus_test_bin(), db, dir);
    assert_non_null(strstr(log, "files=33 stored=33 known=0 refused=0"));
    free(log);
    log = parus_test_run_expect(0, "'%s' weather info '%s/weather/tmax_%d.tif'", parus_test_bin(),
                                dir, WX_YEAR);
    assert_non_null(strstr(log, "tmax_c"));
    assert_non_null(strstr(log, "(366, UTC days)"));
    free(log);
    free(db);
    parus_test_rmtree(dir);
    free(dir);
}

/* --weather without events changes no other output (its draws are streams of their own), and
 * is itself reproducible. */
static void test_weather__leaves_other_outputs_alone(void **state)
{
    static const char *const same[] = {"parcels.geojson", "truth/parcels_truth.csv",
                                       "truth/events.csv", "truth/dates.csv",
                                       "truth/parcel_ndvi.csv"};
    char names[16][256], *a, *b, pa[4400], pb[4400];
    size_t n, i;
    (void)state;
    need_scene();
    a = parus_test_tmpdir("synth-wxa");
    b = parus_test_tmpdir("synth-wxb");
    assert_int_equal(make_scene_with(a, "--weather --weather-years 1 --drought no --heatwave no"),
                     0);
    assert_int_equal(make_scene_with(b, "--weather --weather-years 1 --drought no --heatwave no"),
                     0);
    n = tile_names(names, 16);
    for (i = 0; i < n + sizeof same / sizeof same[0]; i++) {
        const char *name = i < n ? names[i] : same[i - n];
        snprintf(pa, sizeof pa, "%s/%s", scene_dir, name);
        snprintf(pb, sizeof pb, "%s/%s", a, name);
        assert_same_path(pa, pb);
    }
    for (i = 0; i < 4; i++) {
        static const char *const wx[] = {"weather/precip_2024.tif", "weather/tmax_2023.tif",
                                         "truth/harvests.csv", "truth/weather_events.csv"};
        snprintf(pa, sizeof pa, "%s/%s", a, wx[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, wx[i]);
        assert_same_path(pa, pb);
    }
    parus_test_rmtree(a);
    parus_test_rmtree(b);
    free(a);
    free(b);
}

/* The precipitation of two seasons' grids that differ only on days d0..d1 of WX_YEAR (asserted:
 * every other day is the same in every cell): their totals over those days, summed over the
 * cells, into *in_a and *in_b; returns the number of cells. */
static size_t precip_window(const char *a, const char *b, int d0, int d1, double *in_a,
                            double *in_b)
{
    int nx, ny, nb, t;
    float *pa = read_stack(a, "precip", WX_YEAR, &nx, &ny, &nb);
    float *pb = read_stack(b, "precip", WX_YEAR, &nx, &ny, &nb);
    size_t cells = (size_t)nx * (size_t)ny, c;
    *in_a = *in_b = 0;
    for (t = 1; t <= nb; t++)
        for (c = 0; c < cells; c++) {
            size_t k = (size_t)(t - 1) * cells + c;
            if (t < d0 || t > d1) {
                assert_true(pa[k] == pb[k]);
            } else {
                *in_a += (double)pa[k];
                *in_b += (double)pb[k];
            }
        }
    free(pa);
    free(pb);
    return cells;
}

/* A forced drought dries its window by its stated deficit and nothing else, and cuts the
 * harvests of the rainfed crops it hits; a forced heat wave is hot by its stated excess. Same
 * seed, so everything else is the same weather. */
static void test_weather__drought_and_heat_wave(void **state)
{
    enum { CAP = 256 };
    char *dy = parus_test_tmpdir("synth-wxd"), *dn = parus_test_tmpdir("synth-wxn");
    char *dh = parus_test_tmpdir("synth-wxh");
    struct harvest_row *hy = malloc(CAP * sizeof *hy), *hn = malloc(CAP * sizeof *hn);
    struct harvest_row *hh = malloc(CAP * sizeof *hh);
    float *ty, *tn;
    int d0, d1, nx, ny, nb, t, n_hit = 0;
    double deficit, excess, in_y = 0, in_n = 0, sum_y = 0, sum_n = 0;
    size_t ny_rows, nn_rows, nh_rows, cells, c, i;
    (void)state;
    if (!synth_bin())
        skip();
    assert_non_null(hy);
    assert_non_null(hn);
    assert_non_null(hh);
    assert_int_equal(make_scene_with(dy, "--weather --weather-years 0 --drought yes --heatwave no"),
                     0);
    assert_int_equal(make_scene_with(dn, "--weather --weather-years 0 --drought no --heatwave no"),
                     0);
    assert_int_equal(make_scene_with(dh, "--weather --weather-years 0 --drought no --heatwave yes"),
                     0);

    assert_true(weather_event(dy, "drought", &d0, &d1, &deficit));
    assert_false(weather_event(dn, "drought", &t, &t, &excess));
    assert_false(weather_event(dn, "heatwave", &t, &t, &excess));
    assert_true(d1 - d0 + 1 >= 60 && d1 - d0 + 1 <= 90 && d0 >= 110 && d1 <= 250);
    assert_true(deficit >= 0.6 && deficit <= 0.9);
    /* the drought touches its window only */
    cells = precip_window(dy, dn, d0, d1, &in_y, &in_n);
    print_message("drought %d..%d, deficit %.3f: window rain %.1f mm against %.1f\n", d0, d1,
                  deficit, in_y / (double)cells, in_n / (double)cells);
    assert_true(in_y < in_n);
    assert_close(in_y / in_n, 1 - deficit, 0.1, 0);

    ny_rows = read_harvests(dy, hy, CAP);
    nn_rows = read_harvests(dn, hn, CAP);
    assert_int_equal(ny_rows, nn_rows);
    for (i = 0; i < ny_rows; i++) {
        assert_string_equal(hy[i].id, hn[i].id);
        assert_int_equal(hn[i].drought, 0);
        assert_true(hy[i].yield <= hn[i].yield);
        if (strstr(hy[i].crop, "rice"))
            assert_int_equal(hy[i].drought, 0); /* paddy rice is irrigated */
        if (hy[i].drought) {
            assert_true(hy[i].yield < hn[i].yield);
            sum_y += hy[i].yield;
            sum_n += hn[i].yield;
            n_hit++;
        }
    }
    print_message("%d harvests hit by the drought: mean yield %.1f against %.1f kg/mu\n", n_hit,
                  sum_y / n_hit, sum_n / n_hit);
    assert_true(n_hit >= 5);
    /* grain fill loses half the rain's shortfall over the sensitive period against its normal:
     * how much the drought takes depends on how wet that period would have been (here 4 %) */
    assert_true(sum_y < 0.98 * sum_n);

    assert_true(weather_event(dh, "heatwave", &d0, &d1, &excess));
    assert_true(d1 - d0 + 1 >= 4 && d1 - d0 + 1 <= 8 && d0 >= 153 && d1 <= 244);
    assert_true(excess >= 6 && excess <= 10);
    ty = read_stack(dh, "tmax", WX_YEAR, &nx, &ny, &nb);
    tn = read_stack(dn, "tmax", WX_YEAR, &nx, &ny, &nb);
    for (t = 1; t <= nb; t++) {
        double diff = 0;
        for (c = 0; c < cells; c++) {
            size_t k = (size_t)(t - 1) * cells + c;
            diff += (double)ty[k] - (double)tn[k];
        }
        assert_close(diff / (double)cells, t >= d0 && t <= d1 ? excess : 0, 0.06, 0);
    }
    nh_rows = read_harvests(dh, hh, CAP);
    assert_int_equal(nh_rows, nn_rows);
    for (i = 0; i < nh_rows; i++)
        assert_true(hh[i].heat_days >= hn[i].heat_days);
    free(ty);
    free(tn);
    free(hy);
    free(hn);
    free(hh);
    parus_test_rmtree(dy);
    parus_test_rmtree(dn);
    parus_test_rmtree(dh);
    free(dy);
    free(dn);
    free(dh);
}

/* --frost yes: a late frost of 2 to 4 nights in days 95..128, each cell's minimum below -2 degC
 * (the regional -6..-3 degC with the cell's offset and noise), the days lie beside it as they
 * were; crops heading then (winter wheat) count the nights and lose yield, none gains. */
static void test_weather__late_frost(void **state)
{
    enum { CAP = 256 };
    char *dy = parus_test_tmpdir("synth-wxf"), *dn = parus_test_tmpdir("synth-wxg");
    struct harvest_row *hy = malloc(CAP * sizeof *hy), *hn = malloc(CAP * sizeof *hn);
    float *ty, *tn;
    int d0, d1, nx, ny, nb, t, n_hit = 0;
    double tmin_c;
    size_t nyr, nnr, cells, c, i;
    (void)state;
    if (!synth_bin())
        skip();
    assert_non_null(hy);
    assert_non_null(hn);
    assert_int_equal(make_scene_with(dy, "--weather --weather-years 0 --frost yes --drought no "
                                         "--heatwave no"),
                     0);
    assert_int_equal(make_scene_with(dn, "--weather --weather-years 0 --drought no --heatwave no"),
                     0);
    assert_true(weather_event(dy, "frost", &d0, &d1, &tmin_c));
    assert_false(weather_event(dn, "frost", &t, &t, &tmin_c));
    assert_true(d1 - d0 + 1 >= 2 && d1 - d0 + 1 <= 4 && d0 >= 95 && d1 <= 128);
    assert_true(tmin_c >= -6 && tmin_c <= -3);
    ty = read_stack(dy, "tmin", WX_YEAR, &nx, &ny, &nb);
    tn = read_stack(dn, "tmin", WX_YEAR, &nx, &ny, &nb);
    cells = (size_t)nx * (size_t)ny;
    for (t = 1; t <= nb; t++)
        for (c = 0; c < cells; c++) {
            size_t k = (size_t)(t - 1) * cells + c;
            if (t < d0 || t > d1)
                assert_true(ty[k] == tn[k]);
            else
                assert_true(ty[k] < -2.0f && ty[k] <= tn[k]);
        }
    nyr = read_harvests(dy, hy, CAP);
    nnr = read_harvests(dn, hn, CAP);
    assert_int_equal(nyr, nnr);
    for (i = 0; i < nyr; i++) {
        assert_string_equal(hy[i].id, hn[i].id);
        assert_true(hy[i].frost_days >= hn[i].frost_days);
        assert_true(hy[i].yield <= hn[i].yield);
        if (hy[i].frost_days > hn[i].frost_days) {
            assert_true(hy[i].yield < hn[i].yield);
            n_hit++;
        }
    }
    print_message("%d harvests hit by the late frost of days %d..%d (%.1f degC)\n", n_hit, d0, d1,
                  tmin_c);
    assert_true(n_hit >= 3);
    free(ty);
    free(tn);
    free(hy);
    free(hn);
    parus_test_rmtree(dy);
    parus_test_rmtree(dn);
    free(dy);
    free(dn);
}

/* Day of year of a tile from its name (S2B_MSIL2A_YYYYMMDD_...). */
static int tile_doy(const char *name)
{
    const char *p = strstr(name, "MSIL2A_");
    char date[11];
    assert_non_null(p);
    snprintf(date, sizeof date, "%.4s-%.2s-%.2s", p + 7, p + 11, p + 13);
    return doy_of(date);
}

/* --waterlog yes: a rainstorm of 3 to 5 days in days 150..234 whose stated rain falls on every
 * cell (the cells' shares average 1) and on no other day; the poorly drained fields of rainfed
 * crops in canopy are in truth/events.csv (never paddy rice), lose yield, and change no image
 * before the storm; with it off (the default) nothing differs from a season made without the
 * option. */
static void test_weather__waterlogging_storm(void **state)
{
    enum { CAP = 256 };
    char *dy = parus_test_tmpdir("synth-wxw"), *dn = parus_test_tmpdir("synth-wxv");
    char *d0ff = parus_test_tmpdir("synth-wxu"), names[16][256], pa[4400], pb[4400];
    struct harvest_row *hy = malloc(CAP * sizeof *hy), *hn = malloc(CAP * sizeof *hn);
    int d0, d1, t, n_hit = 0, n_rows = 0;
    double storm_mm, added, x, in_y, in_n;
    size_t nyr, nnr, cells, i, n;
    GDALDatasetH ds;
    OGRFeatureH f;
    (void)state;
    if (!synth_bin())
        skip();
    assert_non_null(hy);
    assert_non_null(hn);
    assert_int_equal(make_scene_with(dy, "--weather --weather-years 0 --waterlog yes --drought no "
                                         "--heatwave no"),
                     0);
    assert_int_equal(make_scene_with(dn, "--weather --weather-years 0 --drought no --heatwave no"),
                     0);
    assert_int_equal(make_scene_with(d0ff, "--weather --weather-years 0 --waterlog no --drought "
                                           "no --heatwave no"),
                     0);
    assert_true(weather_event(dy, "waterlog", &d0, &d1, &storm_mm));
    assert_false(weather_event(dn, "waterlog", &t, &t, &x));
    assert_true(d1 - d0 + 1 >= 3 && d1 - d0 + 1 <= 5 && d0 >= 150 && d1 <= 234);
    assert_true(storm_mm >= 150 && storm_mm <= 260);
    cells = precip_window(dy, dn, d0, d1, &in_y, &in_n);
    added = in_y - in_n;
    print_message("waterlogging storm days %d..%d, %.0f mm: %.0f mm added a cell\n", d0, d1,
                  storm_mm, added / (double)cells);
    assert_close(added / (double)cells, storm_mm, 0, 0.35);

    /* the fields it waterlogged: rainfed, dated by the storm, a loss of 3 to 45 % */
    nyr = read_harvests(dy, hy, CAP);
    nnr = read_harvests(dn, hn, CAP);
    assert_int_equal(nyr, nnr);
    ds = open_csv(dy, "events.csv");
    while ((f = OGR_L_GetNextFeature(GDALDatasetGetLayer(ds, 0))) != NULL) {
        if (strcmp(field(f, "event"), "waterlog") == 0) {
            double m = atof(field(f, "magnitude"));
            n_rows++;
            assert_int_equal(doy_of(field(f, "date")), d0);
            assert_int_equal(doy_of(field(f, "last_date")), d1);
            assert_true(m >= 0.03 && m <= 0.45);
            for (i = 0; i < nyr; i++)
                if (strcmp(hy[i].id, field(f, "parcel_id")) == 0) {
                    assert_null(strstr(hy[i].crop, "rice"));
                    assert_true(hy[i].yield < hn[i].yield);
                    n_hit++;
                }
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    print_message("%d parcels waterlogged, %d of them harvested in the season\n", n_rows, n_hit);
    assert_true(n_hit >= 3);
    /* the images before the storm are the same; off is as without the option */
    n = tile_names(names, 16);
    for (i = 0; i < n; i++) {
        snprintf(pa, sizeof pa, "%s/%s", dy, names[i]);
        snprintf(pb, sizeof pb, "%s/%s", dn, names[i]);
        if (tile_doy(names[i]) < d0)
            assert_same_path(pa, pb);
    }
    for (i = 0; i < n + 4; i++) {
        static const char *const more[] = {"truth/events.csv", "truth/harvests.csv",
                                           "truth/weather_events.csv", "weather/precip_2024.tif"};
        const char *name = i < n ? names[i] : more[i - n];
        snprintf(pa, sizeof pa, "%s/%s", d0ff, name);
        snprintf(pb, sizeof pb, "%s/%s", dn, name);
        assert_same_path(pa, pb);
    }
    free(hy);
    free(hn);
    parus_test_rmtree(dy);
    parus_test_rmtree(dn);
    parus_test_rmtree(d0ff);
    free(dy);
    free(dn);
    free(d0ff);
}

/* truth/harvests.csv: annual crops only, the parcel's true crop and planted area, the season of
 * the first to the last image date, harvest_kg = yield x area in mu, yields in the crop's range. */
static void test_weather__harvests_consistent(void **state)
{
    enum { CAP = 256 };
    char *dir = parus_test_tmpdir("synth-wxc"), path[4400], season[32], first[11] = "",
         last[11] = "";
    struct harvest_row *h = malloc(CAP * sizeof *h);
    parus_crop_table table;
    parus_error err;
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureH f;
    size_t n, i, n_annual = 0;
    (void)state;
    if (!synth_bin())
        skip();
    assert_non_null(h);
    assert_int_equal(make_scene_with(dir, "--weather --weather-years 0 --drought yes"), 0);
    snprintf(path, sizeof path, "%s/data-samples/crops.csv", parus_test_source_dir());
    parus_error_init(&err);
    assert_int_equal(parus_crop_table_load(path, &table, &err), PARUS_OK);
    ds = open_csv(dir, "dates.csv");
    l = GDALDatasetGetLayer(ds, 0);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (!first[0])
            snprintf(first, sizeof first, "%s", field(f, "date"));
        snprintf(last, sizeof last, "%s", field(f, "date"));
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    snprintf(season, sizeof season, "%s/%s", first, last);

    n = read_harvests(dir, h, CAP);
    assert_true(n >= 20);
    ds = open_csv(dir, "parcels_truth.csv");
    l = GDALDatasetGetLayer(ds, 0);
    i = 0;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        const parus_crop *c = parus_crop_table_find(&table, field(f, "crop"));
        assert_non_null(c);
        n_annual += c->kind == PARUS_CROP_ANNUAL;
        if (i < n && strcmp(h[i].id, field(f, "parcel_id")) == 0) {
            double area = atof(field(f, "true_area_m2")) * atof(field(f, "planted_fraction"));
            assert_int_equal(c->kind, PARUS_CROP_ANNUAL);
            assert_string_equal(h[i].crop, c->code);
            assert_string_equal(h[i].season, season);
            assert_close(h[i].area_m2, area, 0.02, 2e-4);
            assert_close(h[i].kg, h[i].yield * h[i].area_m2 / (10000.0 / 15.0), 0.02, 1e-4);
            assert_true(h[i].yield >= 0 && h[i].yield <= 1.5 * c->yield_max_kg_per_mu);
            assert_true(h[i].heat_days >= 0 && h[i].heat_days <= 42);
            assert_true(h[i].drought == 0 || h[i].drought == 1);
            i++;
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    assert_int_equal(i, n); /* every row matched a parcel, in parcel id order */
    assert_true(n <= n_annual);
    parus_crop_table_release(&table);
    free(h);
    parus_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli__help_and_misuse),
        cmocka_unit_test(test_scene__same_seed_same_bytes),
        cmocka_unit_test(test_scene__parcels_match_truth),
        cmocka_unit_test(test_scene__every_crop_class),
        cmocka_unit_test(test_scene__truth_files_agree),
        cmocka_unit_test(test_scene__tiles_are_sentinel2_l2a),
        cmocka_unit_test(test_scene__pixels_agree_with_truth_ndvi),
        cmocka_unit_test(test_scene__band_subset_no_truth),
        cmocka_unit_test(test_clouds__mean_model_means_what_it_says),
        cmocka_unit_test(test_radar__contract_reproducible_passes),
        cmocka_unit_test(test_radar__looks_measured_back),
        cmocka_unit_test(test_weather__misuse),
        cmocka_unit_test(test_weather__files_import),
        cmocka_unit_test(test_weather__leaves_other_outputs_alone),
        cmocka_unit_test(test_weather__drought_and_heat_wave),
        cmocka_unit_test(test_weather__late_frost),
        cmocka_unit_test(test_weather__waterlogging_storm),
        cmocka_unit_test(test_weather__harvests_consistent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

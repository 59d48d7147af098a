/*
 * test_radar.c - Sentinel-1 tiles: the radar profile of the raster stage (parus's own tiles of the
 * radar tile contract, ASF RTC, SNAP, Earth Engine and Sentinel Hub exports; coefficient and scale
 * and where each was learned; refusals) and the reader's linear power and invalid pixels. Tiny
 * Float32 rasters are written here with GDAL so every value can be checked by hand.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "test_support.h"

#include "parus/raster.h"
#include "raster_int.h"

#define W 4
#define H 2

/* A radar raster: n_bands planes of W x H values, descriptions and unit types (NULL: none),
 * dataset metadata "KEY=VALUE" (NULL-terminated, or NULL). gcps: tie points instead of a CRS. */
typedef struct radar_spec {
    int n_bands;
    GDALDataType dt;
    const float *data;
    const char *const *desc;
    const char *const *unit;
    const char *const *meta;
    bool gcps;
} radar_spec;

static void write_radar(const char *path, const radar_spec *s)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    double gt[6] = {500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0};
    int b;

    assert_non_null(drv);
    ds = GDALCreate(drv, path, W, H, s->n_bands, s->dt, NULL);
    assert_non_null(ds);
    assert_int_equal(OSRImportFromEPSG(srs, 32650), OGRERR_NONE);
    if (s->gcps) {
        GDAL_GCP gcp[3];
        char *wkt = NULL;
        GDALInitGCPs(3, gcp);
        for (b = 0; b < 3; b++) {
            gcp[b].dfGCPPixel = b == 1 ? W : 0;
            gcp[b].dfGCPLine = b == 2 ? H : 0;
            gcp[b].dfGCPX = 114.5 + 0.001 * gcp[b].dfGCPPixel;
            gcp[b].dfGCPY = 36.5 - 0.001 * gcp[b].dfGCPLine;
        }
        assert_int_equal(OSRExportToWkt(srs, &wkt), OGRERR_NONE);
        assert_int_equal(GDALSetGCPs(ds, 3, gcp, wkt), CE_None);
        CPLFree(wkt);
        GDALDeinitGCPs(3, gcp);
    } else {
        assert_int_equal(GDALSetSpatialRef(ds, srs), CE_None);
        assert_int_equal(GDALSetGeoTransform(ds, gt), CE_None);
    }
    OSRDestroySpatialReference(srs);
    for (const char *const *m = s->meta; m && *m; m++) {
        char key[128];
        const char *eq = strchr(*m, '=');
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - *m), *m);
        GDALSetMetadataItem(ds, key, eq + 1, NULL);
    }
    for (b = 1; b <= s->n_bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        if (s->desc && s->desc[b - 1])
            GDALSetDescription(band, s->desc[b - 1]);
        if (s->unit && s->unit[b - 1])
            GDALSetRasterUnitType(band, s->unit[b - 1]);
        if (s->dt == GDT_Float32)
            GDALSetRasterNoDataValue(band, NAN);
        assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, W, H,
                                      (void *)(s->data + (size_t)(b - 1) * W * H), W, H,
                                      GDT_Float32, 0, 0),
                         CE_None);
    }
    GDALClose(ds);
}

static const char *const contract_meta[] = {"MISSION=SENTINEL-1A",
                                            "INSTRUMENT_MODE=IW",
                                            "PRODUCT_TYPE=GRD",
                                            "BACKSCATTER_COEFFICIENT=sigma0",
                                            "BACKSCATTER_SCALE=linear",
                                            "ACQUISITION_DATE=2024-05-15T10:21:01Z",
                                            "ORBIT_DIRECTION=DESCENDING",
                                            "RELATIVE_ORBIT=69",
                                            "NUMBER_OF_LOOKS=4.4",
                                            "NOISE_REMOVED=YES",
                                            NULL};

typedef struct fixture {
    char *dir;
} fixture;

static int setup_dir(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    GDALAllRegister();
    if (!fx)
        return -1;
    fx->dir = parus_test_tmpdir("radar");
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

static parus_status open_one(const char *path, const parus_tile_options *opt, parus_tile **t,
                             parus_error *err)
{
    return parus_tile_open(&path, 1, opt, t, err);
}

/* Read the whole (single-block) tile's VV as the kernel would; the radar counts of the read. */
static void read_vv(const parus_tile *t, float out[W * H], parus__radar_counts *rc)
{
    parus_band_role vv = PARUS_ROLE_VV;
    parus_tile_reader *r;
    parus_block blk;
    parus_error err;
    assert_int_equal(parus_tile_reader_new(t, &vv, 1, &r, &err), PARUS_OK);
    assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
    assert_int_equal(blk.w * blk.h, W * H);
    memcpy(out, blk.band[0], sizeof(float) * W * H);
    parus__tile_reader_take_radar_counts(r, rc);
    parus_tile_reader_free(r);
}

/* parus's own tile: every item of the contract is read, with its source; values are linear power
 * and zero, negative, NaN, above +30 dB and below -50 dB have no value. */
static void test_contract__own_tile(void **state)
{
    fixture *fx = *state;
    char *path = parus_test_path(fx->dir, "S1A_IW_GRDH_20240515_DSC_x.tif");
    const float data[3 * W * H] = {
        0.1f,  0.0f,  -0.02f, NAN,   1200.0f, 5e-6f, 0.5f,  20.0f, /* VV */
        0.01f, 0.01f, 0.01f,  0.01f, 0.01f,   0.01f, 0.01f, 0.01f, /* VH */
        35,    35,    35,     35,    36,      36,    36,    36,    /* ANGLE */
    };
    const char *const desc[] = {"VV", "VH", "ANGLE"};
    const char *const unit[] = {"linear", "linear", "deg"};
    radar_spec s = {3, GDT_Float32, data, desc, unit, contract_meta, false};
    parus_tile *t;
    parus_error err;
    const parus_tile_info *ti;
    float vv[W * H];
    parus__radar_counts rc;

    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
    ti = parus_tile_get_info(t);
    assert_int_equal(ti->sensor, PARUS_SENSOR_S1);
    assert_string_equal(ti->sensor_name, "sentinel-1");
    assert_string_equal(ti->date, "2024-05-15");
    assert_non_null(ti->radar);
    assert_string_equal(ti->radar->product, "parus");
    assert_string_equal(ti->radar->mission, "SENTINEL-1A");
    assert_string_equal(ti->radar->polarisations, "VV+VH");
    assert_string_equal(ti->radar->coefficient, "sigma0");
    assert_string_equal(ti->radar->coefficient_source, "metadata BACKSCATTER_COEFFICIENT");
    assert_int_equal(ti->radar->scale, PARUS_RADAR_SCALE_LINEAR);
    assert_string_equal(ti->radar->scale_source, "metadata BACKSCATTER_SCALE");
    assert_string_equal(ti->radar->orbit_direction, "DESCENDING");
    assert_int_equal(ti->radar->relative_orbit, 69);
    assert_close(ti->radar->looks, 4.4, 1e-12, 0);
    assert_string_equal(ti->radar->looks_source, "metadata NUMBER_OF_LOOKS");
    assert_close(ti->radar->looks_correlation, 4.4, 1e-12, 0); /* 440 m2 / 100 m2 */
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_VV)->band_index, 1);
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_VH)->band_index, 2);
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_ANGLE)->band_index, 3);
    assert_null(parus_tile_find_role(t, PARUS_ROLE_RED));
    read_vv(t, vv, &rc);
    assert_close(vv[0], 0.1, 1e-7, 0);
    assert_true(isnan(vv[1])); /* zero */
    assert_true(isnan(vv[2])); /* negative */
    assert_true(isnan(vv[3])); /* NaN: nodata */
    assert_true(isnan(vv[4])); /* +30.8 dB */
    assert_true(isnan(vv[5])); /* -53 dB */
    assert_close(vv[6], 0.5, 1e-7, 0);
    assert_close(vv[7], 20.0, 1e-6, 0); /* +13 dB: urban double bounce is a value */
    assert_int_equal(rc.n_finite[0], 7);
    assert_int_equal(rc.n_negative[0], 1);
    parus_tile_free(t);
    free(path);
}

/* dB values: read as linear power, the scale learned from the band unit type; a coefficient
 * nobody states is refused, saying how to state it, and the option states it. */
static void test_db__unit_type_and_coefficient_option(void **state)
{
    fixture *fx = *state;
    char *path = parus_test_path(fx->dir, "export_20240515.tif");
    const float data[2 * W * H] = {-10, -20, 0,   3,   -55, 31,  -15, -7.5f,
                                   -20, -20, -20, -20, -20, -20, -20, -20};
    const char *const desc[] = {"VV", "VH"};
    const char *const unit[] = {"dB", "dB"};
    radar_spec s = {2, GDT_Float32, data, desc, unit, NULL, false};
    parus_tile_options opt = {.radar_coefficient = "gamma0"};
    parus_tile *t;
    parus_error err;
    float vv[W * H];
    parus__radar_counts rc;

    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "--radar-coefficient"));
    assert_non_null(strstr(err.msg, "export_20240515.tif"));
    assert_int_equal(open_one(path, &opt, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->radar->coefficient, "gamma0");
    assert_string_equal(parus_tile_get_info(t)->radar->coefficient_source, "option");
    assert_int_equal(parus_tile_get_info(t)->radar->scale, PARUS_RADAR_SCALE_DB);
    assert_string_equal(parus_tile_get_info(t)->radar->scale_source, "band unit type 'dB'");
    /* no NUMBER_OF_LOOKS: the IW GRDH assumption, stated */
    assert_close(parus_tile_get_info(t)->radar->looks, 4.4, 1e-12, 0);
    assert_non_null(strstr(parus_tile_get_info(t)->radar->looks_source, "assumed"));
    read_vv(t, vv, &rc);
    assert_close(vv[0], 0.1, 1e-7, 0);
    assert_close(vv[1], 0.01, 1e-8, 0);
    assert_close(vv[2], 1.0, 1e-6, 0);
    assert_close(vv[3], pow(10.0, 0.3), 1e-5, 0);
    assert_true(isnan(vv[4])); /* -55 dB */
    assert_true(isnan(vv[5])); /* +31 dB */
    assert_close(vv[7], pow(10.0, -0.75), 1e-7, 0);
    assert_int_equal(rc.n_finite[0], 8);
    assert_int_equal(rc.n_positive[0], 2);
    assert_int_equal(rc.db_hist[0][(size_t)((-10.0 + 50.0) / 0.5)], 1);
    parus_tile_free(t);
    /* an option never overrules the tile */
    opt.radar_scale = "linear";
    assert_int_equal(open_one(path, &opt, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "contradicts"));
    opt.radar_scale = "decibels";
    assert_int_equal(open_one(path, &opt, &t, &err), PARUS_E_INVALID);
    free(path);
}

/* Earth Engine COPERNICUS/S1_GRD exports (VV, VH, angle; dB) and Sentinel Hub exports (VV, VH,
 * dataMask) carry no scale: refused with the way to state it, read once stated. */
static void test_exports__scale_must_be_stated(void **state)
{
    fixture *fx = *state;
    char *ee = parus_test_path(fx->dir, "ee_s1_20240515.tif");
    char *sh = parus_test_path(fx->dir, "sh_s1_20240515.tif");
    const float ee_data[3 * W * H] = {-10, -11, -12, -13, -14, -15, -16, -17, -20, -20, -20, -20,
                                      -20, -20, -20, -20, 38,  38,  38,  38,  38,  38,  38,  38};
    const float sh_data[3 * W * H] = {0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,
                                      0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f,
                                      1,     0,     1,     1,     1,     1,     1,     1};
    const char *const ee_desc[] = {"VV", "VH", "angle"};
    const char *const sh_desc[] = {"VV", "VH", "dataMask"};
    radar_spec se = {3, GDT_Float32, ee_data, ee_desc, NULL, NULL, false};
    radar_spec ss = {3, GDT_Float32, sh_data, sh_desc, NULL, NULL, false};
    parus_tile_options opt = {.radar_scale = "db", .radar_coefficient = "sigma0"};
    parus_tile *t;
    parus_error err;
    float vv[W * H];
    parus__radar_counts rc;

    write_radar(ee, &se);
    write_radar(sh, &ss);
    assert_int_equal(open_one(ee, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "--radar-scale linear|db"));
    assert_int_equal(open_one(ee, &opt, &t, &err), PARUS_OK);
    assert_int_equal(parus_tile_find_role(t, PARUS_ROLE_ANGLE)->band_index, 3);
    assert_string_equal(parus_tile_get_info(t)->radar->scale_source, "option");
    read_vv(t, vv, &rc);
    assert_close(vv[0], 0.1, 1e-7, 0);
    parus_tile_free(t);

    opt.radar_scale = "linear";
    assert_int_equal(open_one(sh, NULL, &t, &err), PARUS_E_BANDS);
    assert_int_equal(open_one(sh, &opt, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->radar->product, "sentinel-hub");
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_LAYOVER_SHADOW);
    read_vv(t, vv, &rc);
    assert_close(vv[0], 0.1, 1e-7, 0);
    assert_true(isnan(vv[1])); /* dataMask 0 */
    parus_tile_free(t);
    free(ee);
    free(sh);
}

/* SNAP band names say coefficient and scale: Sigma0_VV_db, Gamma0_VH ... */
static void test_snap__names(void **state)
{
    fixture *fx = *state;
    char *path = parus_test_path(fx->dir, "subset_S1A_20240515_Orb_Cal_TC.tif");
    const float data[2 * W * H] = {-10, -10, -10, -10, -10, -10, -10, -10,
                                   -18, -18, -18, -18, -18, -18, -18, -18};
    const char *const desc[] = {"Sigma0_VV_db", "Sigma0_VH_db"};
    const char *const mixed[] = {"Sigma0_VV_db", "Gamma0_VH_db"};
    radar_spec s = {2, GDT_Float32, data, desc, NULL, NULL, false};
    parus_tile *t;
    parus_error err;

    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->radar->product, "snap");
    assert_string_equal(parus_tile_get_info(t)->radar->coefficient, "sigma0");
    assert_int_equal(parus_tile_get_info(t)->radar->scale, PARUS_RADAR_SCALE_DB);
    assert_non_null(strstr(parus_tile_get_info(t)->radar->scale_source, "Sigma0_VV_db"));
    assert_string_equal(parus_tile_get_info(t)->radar->mission, "SENTINEL-1A");
    parus_tile_free(t);
    s.desc = mixed;
    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "contradicts"));
    free(path);
}

/* ASF RTC: one file per band named S1x_..._RTCzz_G_defklm_ssss_<band>.tif; gamma0 power from the
 * name; ls_map bits 2 (layover) and 4 (shadow) make a pixel invalid. */
static void test_asf__directory(void **state)
{
    fixture *fx = *state;
    const char *stem = "S1A_IW_20180128T161201_DVP_RTC30_G_gpuned_FD6A";
    char name[128], *p;
    const float vv[W * H] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.0f};
    const float vh[W * H] = {0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f};
    const float ls[W * H] = {1, 5, 17, 3, 9, 0, 21, 1};
    const float inc[W * H] = {0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f};
    const char *const suffix[] = {"VV", "VH", "ls_map", "inc_map", "area"};
    const float *planes[] = {vv, vh, ls, inc, inc};
    parus_tile *t;
    parus_error err;
    float got[W * H];
    parus__radar_counts rc;
    size_t k;

    for (k = 0; k < 5; k++) {
        radar_spec s = {1, k == 2 ? GDT_Byte : GDT_Float32, planes[k], NULL, NULL, NULL, false};
        snprintf(name, sizeof name, "%s_%s.tif", stem, suffix[k]);
        p = parus_test_path(fx->dir, name);
        write_radar(p, &s);
        free(p);
    }
    assert_int_equal(open_one(fx->dir, NULL, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->date, "2018-01-28");
    assert_string_equal(parus_tile_get_info(t)->radar->product, "asf-rtc");
    assert_string_equal(parus_tile_get_info(t)->radar->coefficient, "gamma0");
    assert_int_equal(parus_tile_get_info(t)->radar->scale, PARUS_RADAR_SCALE_LINEAR);
    assert_string_equal(parus_tile_get_info(t)->radar->scale_source,
                        "file name (ASF RTC 'gpuned')");
    assert_int_equal(parus_tile_get_info(t)->validity, PARUS_VALIDITY_LAYOVER_SHADOW);
    assert_non_null(parus_tile_find_role(t, PARUS_ROLE_ANGLE));
    assert_int_equal(parus_tile_get_info(t)->n_files, 4); /* _area.tif is left out */
    read_vv(t, got, &rc);
    assert_close(got[0], 0.1, 1e-7, 0); /* 1: tested, clear */
    assert_true(isnan(got[1]));         /* 5: layover */
    assert_true(isnan(got[2]));         /* 17: shadow */
    assert_close(got[3], 0.1, 1e-7, 0); /* 3: a slope condition, no layover */
    assert_close(got[4], 0.1, 1e-7, 0);
    assert_close(got[5], 0.1, 1e-7, 0); /* 0: not tested */
    assert_true(isnan(got[6]));         /* 21: both */
    assert_true(isnan(got[7]));         /* power 0 */
    parus_tile_free(t);
    /* amplitude is not power */
    snprintf(name, sizeof name, "S1A_IW_20180128T161201_DVP_RTC30_G_gauned_FD6A_VV.tif");
    p = parus_test_path(fx->dir, name);
    {
        radar_spec s = {1, GDT_Float32, vv, NULL, NULL, NULL, false};
        write_radar(p, &s);
    }
    assert_int_equal(open_one(p, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "amplitude"));
    free(p);
}

/* Bad input: VH only, tie points without a CRS, contradicting metadata, a bad orbit. */
static void test_bad__single_pol_tie_points_contradictions(void **state)
{
    fixture *fx = *state;
    char *path = parus_test_path(fx->dir, "S1A_IW_GRDH_20240515_bad.tif");
    const float data[2 * W * H] = {0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,  0.1f,
                                   0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f};
    const char *const vh_only[] = {"VH"};
    const char *const vv_only[] = {"VV"};
    const char *const both[] = {"VV", "VH"};
    const char *const db_unit[] = {"dB", "dB"};
    const char *const bad_orbit[] = {"BACKSCATTER_COEFFICIENT=sigma0", "BACKSCATTER_SCALE=linear",
                                     "ORBIT_DIRECTION=SIDEWAYS", NULL};
    radar_spec s = {1, GDT_Float32, data + W * H, vh_only, NULL, contract_meta, false};
    parus_tile *t;
    parus_error err;

    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "VH only"));
    /* VV only: usable, one polarisation */
    s.data = data;
    s.desc = vv_only;
    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
    assert_string_equal(parus_tile_get_info(t)->radar->polarisations, "VV");
    parus_tile_free(t);
    /* metadata says linear, the unit type says dB */
    s.n_bands = 2;
    s.desc = both;
    s.unit = db_unit;
    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "contradicts itself"));
    s.unit = NULL;
    s.meta = bad_orbit;
    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_BANDS);
    assert_non_null(strstr(err.msg, "ORBIT_DIRECTION"));
    /* tie points only: geocode first, or the SAFE path */
    s.meta = contract_meta;
    s.gcps = true;
    write_radar(path, &s);
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_E_NO_CRS);
    assert_non_null(strstr(err.msg, "S1A_IW_GRDH_20240515_bad.tif"));
    assert_non_null(strstr(err.msg, "geocode"));
    assert_non_null(strstr(err.msg, "SAFE"));
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contract__own_tile, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_db__unit_type_and_coefficient_option, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_exports__scale_must_be_stated, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_snap__names, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_asf__directory, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad__single_pol_tie_points_contradictions, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

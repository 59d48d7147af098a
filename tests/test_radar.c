/*
 * test_radar.c - Sentinel-1 tiles: the radar profile of the raster stage (parus's own tiles of the
 * radar tile contract, ASF RTC, SNAP, Earth Engine and Sentinel Hub exports; coefficient and scale
 * and where each was learned; refusals) and the reader's linear power and invalid pixels. Tiny
 * Float32 rasters are written here with GDAL so every value can be checked by hand.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>

#include "test_support.h"

#include "parus/kernel.h"
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
    {
        /* the pixels picked (the kernel's fast path: Float32 blocks, an 8-bit mask) are the
         * block's own, NaN for NaN */
        const parus_band_role roles[2] = {PARUS_ROLE_VV, PARUS_ROLE_VH};
        uint32_t offs[W * H];
        float cells[2 * W * H];
        parus_tile_reader *r;
        parus_block blk;
        for (k = 0; k < W * H; k++)
            offs[k] = (uint32_t)(W * H - 1 - k);
        assert_int_equal(parus_tile_reader_new(t, roles, 2, &r, &err), PARUS_OK);
        assert_int_equal(parus_tile_reader_read_cells(r, 0, offs, sizeof *offs, W * H, cells, &err),
                         PARUS_OK);
        parus__tile_reader_take_radar_counts(r, &rc);
        assert_int_equal(rc.n_finite[0], W * H);
        assert_int_equal(rc.n_finite[1], W * H);
        assert_int_equal(parus_tile_reader_read(r, 0, &blk, &err), PARUS_OK);
        for (k = 0; k < W * H; k++)
            for (size_t b = 0; b < 2; b++) {
                float a = cells[2 * k + b], c = blk.band[b][offs[k]];
                assert_true((isnan(a) && isnan(c)) || a == c);
            }
        parus_tile_reader_free(r);
    }
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
    /* a radar file in a directory of optical bands is another tile, not a band */
    {
        char *sub = parus_test_path(fx->dir, "scene"), *b4, *b8, *s1;
        const float refl[W * H] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
        const char *const red[] = {"B04"}, *const nir[] = {"B08"};
        radar_spec o = {1, GDT_UInt16, refl, red, NULL, NULL, false};
        assert_int_equal(mkdir(sub, 0755), 0);
        b4 = parus_test_path(sub, "T50_20240515_B04.tif");
        b8 = parus_test_path(sub, "T50_20240515_B08.tif");
        s1 = parus_test_path(sub, "S1A_IW_GRDH_20240515_x.tif");
        write_radar(b4, &o);
        o.desc = nir;
        write_radar(b8, &o);
        s.n_bands = 2;
        s.desc = both;
        s.unit = NULL;
        s.meta = contract_meta;
        write_radar(s1, &s);
        assert_int_equal(open_one(sub, NULL, &t, &err), PARUS_E_BANDS);
        assert_non_null(strstr(err.msg, "S1A_IW_GRDH_20240515_x.tif"));
        assert_non_null(strstr(err.msg, "give each file on its own"));
        free(b4);
        free(b8);
        free(s1);
        free(sub);
    }
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

/* ---- the kernel on radar tiles ---- */

/* A Sentinel-1 tile of the contract in EPSG:4326: pixel (r, c) spans lon [X0 + c RES, X0 + (c+1)
 * RES], lat [Y0 - (r+1) RES, Y0 - r RES] (0.001 degree: about 100 m, so one pixel is more than a
 * resolution cell and the correlation allowance is 1). */
static const double X0 = 110.0, Y0 = 30.0, RES = 0.001;

static void write_radar_grid(const char *path, size_t w, size_t h, size_t block, const float *vv,
                             const float *vh, const char *scale, const char *looks)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char bx[32], by[32], sc[64], lk[64];
    char *opts[] = {"TILED=YES", bx, by, NULL};
    const char *meta[] = {"BACKSCATTER_COEFFICIENT=sigma0",
                          sc,
                          lk,
                          "ACQUISITION_DATE=2024-06-01T10:21:01Z",
                          "ORBIT_DIRECTION=ASCENDING",
                          "RELATIVE_ORBIT=142"};
    GDALDatasetH ds;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    double gt[6] = {X0, RES, 0, Y0, 0, -RES};
    const float *planes[2] = {vv, vh};

    snprintf(bx, sizeof bx, "BLOCKXSIZE=%zu", block);
    snprintf(by, sizeof by, "BLOCKYSIZE=%zu", block);
    snprintf(sc, sizeof sc, "BACKSCATTER_SCALE=%s", scale);
    snprintf(lk, sizeof lk, "NUMBER_OF_LOOKS=%s", looks);
    ds = GDALCreate(drv, path, (int)w, (int)h, 2, GDT_Float32, block ? opts : NULL);
    assert_non_null(ds);
    assert_int_equal(OSRImportFromEPSG(srs, 4326), OGRERR_NONE);
    assert_int_equal(GDALSetSpatialRef(ds, srs), CE_None);
    OSRDestroySpatialReference(srs);
    GDALSetGeoTransform(ds, gt);
    for (size_t m = 0; m < sizeof meta / sizeof meta[0]; m++) {
        const char *eq = strchr(meta[m], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - meta[m]), meta[m]);
        GDALSetMetadataItem(ds, key, eq + 1, NULL);
    }
    for (int b = 0; b < 2; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(band, b == 0 ? "VV" : "VH");
        GDALSetRasterNoDataValue(band, NAN);
        assert_int_equal(GDALRasterIO(band, GF_Write, 0, 0, (int)w, (int)h, (void *)planes[b],
                                      (int)w, (int)h, GDT_Float32, 0, 0),
                         CE_None);
    }
    GDALClose(ds);
}

/* Little-endian WKB of one ring given in grid units (closed here). */
static void grid_parcel(parus_parcel *p, const char *id, double c0, double r0, double c1, double r1)
{
    const double xy[8] = {X0 + c0 * RES, Y0 - r0 * RES, X0 + c1 * RES, Y0 - r0 * RES,
                          X0 + c1 * RES, Y0 - r1 * RES, X0 + c0 * RES, Y0 - r1 * RES};
    size_t n = 4, bytes = 1 + 4 + 4 + 4 + 16 * (n + 1), i;
    unsigned char *w = malloc(bytes), *q = w;
    uint32_t v;
    assert_non_null(w);
    *q++ = 1;
    v = 3;
    memcpy(q, &v, 4);
    v = 1;
    memcpy(q + 4, &v, 4);
    v = (uint32_t)(n + 1);
    memcpy(q + 8, &v, 4);
    q += 12;
    for (i = 0; i <= n; i++, q += 16)
        memcpy(q, &xy[2 * (i % n)], 16);
    memset(p, 0, sizeof *p);
    p->id = (char *)id;
    p->wkb = w;
    p->wkb_size = bytes;
}

/* Hand-checked: the square [0.5, 2.5]^2 of a 4 x 4 tile covers its centre pixel fully, the edge
 * pixels by half and the corners by a quarter. Means are of linear power, the ratio and RVI are
 * of the means, a zero pixel and a NaN pixel weigh in the total only. */
static void test_kernel__hand_checked_square(void **state)
{
    fixture *fx = *state;
    char *path = parus_test_path(fx->dir, "s1.tif");
    float vv[16], vh[16];
    parus_parcel p;
    parus_observation obs;
    parus_measure_stats st;
    parus_tile *t;
    parus_error err;
    double sw = 0, swv = 0, swh = 0, sw2 = 0, sw_water = 0, sratio = 0, n_eff, looks;
    int r, c;

    for (r = 0; r < 4; r++)
        for (c = 0; c < 4; c++) {
            vv[r * 4 + c] = 0.02f + 0.01f * (float)(r * 4 + c);
            vh[r * 4 + c] = 0.004f + 0.001f * (float)((r * 4 + c) % 3);
        }
    vv[0] = 0.01f;     /* water: below -18 dB (0.0158) */
    vv[1 * 4 + 2] = 0; /* zero: no value */
    vv[2 * 4 + 1] = NAN;
    write_radar_grid(path, 4, 4, 0, vv, vh, "linear", "4");
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
    grid_parcel(&p, "SQ", 0.5, 0.5, 2.5, 2.5);
    assert_int_equal(parus_tile_measure(t, &p, 1, NULL, &obs, &st, &err), PARUS_OK);
    for (r = 0; r < 3; r++)
        for (c = 0; c < 3; c++) {
            double w = (r == 1 ? 1.0 : 0.5) * (c == 1 ? 1.0 : 0.5);
            size_t i = (size_t)(r * 4 + c);
            if (!(vv[i] > 0))
                continue;
            sw += w;
            sw2 += w * w;
            swv += w * (double)vv[i];
            swh += w * (double)vh[i];
            sratio += w * (double)vh[i] / (double)vv[i];
            sw_water += (double)vv[i] < 0.0158489 ? w : 0.0;
        }
    n_eff = sw * sw / sw2;
    looks = 4.0 * n_eff; /* ENL 4, correlation allowance 1 (pixels of ~10^4 m^2) */
    assert_close(obs.w_total_px, 4.0, 1e-9, 0);
    assert_close(obs.w_valid_px, sw, 1e-9, 0);
    assert_close(obs.vv, swv / sw, 0, 1e-6);
    assert_close(obs.vh, swh / sw, 0, 1e-6);
    assert_close(obs.vh_vv, swh / swv, 0, 1e-6);
    assert_true(fabs(obs.vh_vv - sratio / sw) > 0.01 * obs.vh_vv); /* not the mean of ratios */
    assert_close(obs.rvi, 4.0 * swh / (swv + swh), 0, 1e-6);
    assert_close(obs.radar_water_fraction, sw_water / sw, 1e-9, 0);
    assert_close(obs.n_eff_vv, n_eff, 0, 1e-9);
    assert_close(obs.looks_vv, looks, 0, 1e-9);
    assert_close(obs.se_vv, obs.vv / sqrt(looks), 0, 1e-9);
    assert_close(obs.se_vh, obs.vh / sqrt(obs.looks_vh), 0, 1e-9);
    assert_true(isnan(obs.mean[PARUS_INDEX_NDVI])); /* no optical figures */
    assert_int_equal(st.n_cells_valid, 7);
    assert_int_equal(parus_tile_quality_judge(&st.quality, NULL, 0), PARUS_TILE_CHECK_OK);
    free(p.wkb);
    parus_tile_free(t);
    free(path);
}

static uint64_t rng_state = 20241205;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

/* Gamma(4, 4): mean 1, variance 1/4 (the sum of four exponentials, over 4). */
static double speckle4(void)
{
    return -(log(uniform()) + log(uniform()) + log(uniform()) + log(uniform())) / 4.0;
}

/* The same observations, bit for bit, with 1, 2 and 5 threads, over parcels that cross blocks;
 * and the standard error from speckle agrees with the spread of parcel means over a homogeneous
 * field of independent 4-look speckle (the correlation allowance is 1 here). */
static void test_kernel__threads_and_speckle_error(void **state)
{
    fixture *fx = *state;
    enum { N = 120, NP = 100 };
    char *path = parus_test_path(fx->dir, "s1.tif");
    float *vv = malloc(sizeof(float) * N * N), *vh = malloc(sizeof(float) * N * N);
    parus_parcel p[NP];
    parus_observation obs[3][NP];
    parus_measure_options opt = {1};
    parus_error err;
    parus_tile *t;
    char ids[NP][8];
    double s = 0, s2 = 0, se = 0;
    const int threads[3] = {1, 2, 5};
    size_t i;

    assert_non_null(vv);
    assert_non_null(vh);
    for (i = 0; i < (size_t)N * N; i++) {
        vv[i] = (float)(0.1 * speckle4());
        vh[i] = (float)(0.02 * speckle4());
    }
    write_radar_grid(path, N, N, 16, vv, vh, "linear", "4");
    assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
    /* 10 x 10 parcels of 10.6 x 10.6 px, shifted off the grid: 121 pixels, edges partly */
    for (i = 0; i < NP; i++) {
        double c0 = 1.3 + 11.5 * (double)(i % 10), r0 = 0.7 + 11.5 * (double)(i / 10);
        snprintf(ids[i], sizeof ids[i], "P%02zu", i);
        grid_parcel(&p[i], ids[i], c0, r0, c0 + 10.6, r0 + 10.6);
    }
    for (size_t k = 0; k < 3; k++) {
        opt.n_threads = threads[k];
        assert_int_equal(parus_tile_measure(t, p, NP, &opt, obs[k], NULL, &err), PARUS_OK);
    }
    for (i = 0; i < NP; i++) {
        for (size_t k = 1; k < 3; k++) {
            assert_memory_equal(&obs[0][i].vv, &obs[k][i].vv, sizeof(double));
            assert_memory_equal(&obs[0][i].vh, &obs[k][i].vh, sizeof(double));
            assert_memory_equal(&obs[0][i].rvi, &obs[k][i].rvi, sizeof(double));
            assert_memory_equal(&obs[0][i].se_vv, &obs[k][i].se_vv, sizeof(double));
            assert_memory_equal(&obs[0][i].w_valid_px, &obs[k][i].w_valid_px, sizeof(double));
        }
        s += obs[0][i].vv;
        s2 += obs[0][i].vv * obs[0][i].vv;
        se += obs[0][i].se_vv;
    }
    {
        double mean = s / NP, sd = sqrt((s2 - s * s / NP) / (NP - 1)), se_mean = se / NP;
        /* sd of 100 parcel means has a relative error of about 7 %: allow 25 % */
        assert_close(mean, 0.1, 0.005, 0);
        assert_close(sd, se_mean, 0, 0.25);
        assert_close(obs[0][0].looks_vv, 4.0 * obs[0][0].n_eff_vv, 0, 1e-12);
        assert_true(obs[0][0].n_eff_vv > 100 && obs[0][0].n_eff_vv < 121);
    }
    for (i = 0; i < NP; i++)
        free(p[i].wkb);
    parus_tile_free(t);
    free(vv);
    free(vh);
    free(path);
}

/* The radar tile checks (the settled rule): dB values declared linear, linear values declared dB
 * (most values above 0 dB), and a dB median below -35 dB are refused; bright urban pixels are
 * not. VH above VV over land is VV and VH exchanged (vv-vh-swapped); over water at the noise
 * floor it is not judged. */
static void test_kernel__scale_checks(void **state)
{
    fixture *fx = *state;
    enum { N = 16 };
    char *path = parus_test_path(fx->dir, "s1.tif");
    float vv[N * N], vh[N * N];
    const struct {
        float vv, vh, bright;
        const char *scale;
        parus_tile_check want;
    } cases[] = {
        {-12.0f, -20.0f, -12.0f, "linear", PARUS_TILE_CHECK_RADAR_SCALE}, /* dB read as linear */
        {0.06f, 0.01f, 0.06f, "dB", PARUS_TILE_CHECK_RADAR_SCALE},        /* linear read as dB */
        {-40.0f, -45.0f, -40.0f, "dB", PARUS_TILE_CHECK_RADAR_SCALE},     /* median -40 dB */
        {-12.0f, -20.0f, 25.0f, "dB", PARUS_TILE_CHECK_OK},               /* bright pixels */
        {0.06f, 0.01f, 300.0f, "linear", PARUS_TILE_CHECK_OK},
        {0.6f, 0.1f, 0.6f, "linear", PARUS_TILE_CHECK_RADAR_SCALE}, /* ten times too bright */
        {0.3f, 0.05f, 3.0f, "linear", PARUS_TILE_CHECK_OK},         /* bright land, -5 dB */
        /* amplitude read as power: VV -12 dB and VH -20 dB read as -6 and -10 (round 7,
         * finding 4: such tiles were stored and cancelled the optical flood flags); crops at
         * their brightest, VV -9 dB and VH -12 dB, pass */
        {0.251f, 0.1f, 0.251f, "linear", PARUS_TILE_CHECK_RADAR_SCALE},
        {0.126f, 0.063f, 0.126f, "linear", PARUS_TILE_CHECK_OK},
        {-20.0f, -12.0f, -20.0f, "dB", PARUS_TILE_CHECK_RADAR_SWAPPED}, /* VV and VH exchanged */
        {0.01f, 0.06f, 0.01f, "linear", PARUS_TILE_CHECK_RADAR_SWAPPED},
        {-23.0f, -22.5f, -23.0f, "dB", PARUS_TILE_CHECK_OK}, /* water at the noise floor */
    };
    parus_parcel p;
    parus_observation obs;
    parus_measure_stats st;
    parus_tile *t;
    parus_error err;
    char why[256];

    grid_parcel(&p, "ALL", 0.2, 0.2, N - 0.2, N - 0.2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (size_t i = 0; i < N * N; i++) {
            vv[i] = i % 16 == 3 ? cases[k].bright : cases[k].vv;
            vh[i] = cases[k].vh;
        }
        write_radar_grid(path, N, N, 0, vv, vh, cases[k].scale, "4.4");
        assert_int_equal(open_one(path, NULL, &t, &err), PARUS_OK);
        assert_int_equal(parus_tile_measure(t, &p, 1, NULL, &obs, &st, &err), PARUS_OK);
        assert_int_equal(parus_tile_quality_judge(&st.quality, why, sizeof why), cases[k].want);
        if (cases[k].want != PARUS_TILE_CHECK_OK)
            assert_non_null(strstr(why, parus_tile_check_name(cases[k].want)));
        parus_tile_free(t);
    }
    free(p.wkb);
    free(path);
}

/* ---- end to end: the nightly over a directory holding optical and radar tiles ---- */

static long long sql_count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The generator's season with --radar in one directory: the nightly routes the radar tiles to
 * the radar path (stored, with their passes), the optical ones as before; a radar tile whose
 * scale is mislabelled is refused and leaves nothing. */
static void test_e2e__nightly_routes_radar_tiles(void **state)
{
    fixture *fx = *state;
    char *db_path = parus_test_path(fx->dir, "parus.db");
    char *bad = parus_test_path(fx->dir, "S1A_IW_GRDH_20240601_bad.tif");
    char *out, first[1024] = "";
    sqlite3 *db;
    int rc;

    out = parus_test_run_expect(0,
                                "'%s' --out '%s/scene' --size 256 --dates 3 --radar --seed 7 "
                                "--quiet --crops '%s/data-samples/crops.csv'",
                                parus_test_synth_bin(), fx->dir, parus_test_source_dir());
    free(out);
    /* the load may set a broken parcel of the generator aside (exit 8) */
    {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q parcels load '%s/scene/parcels.geojson'",
                 parus_test_bin(), db_path, fx->dir);
        rc = parus_test_run(cmd, NULL, NULL);
        assert_true(rc == 0 || rc == 8);
    }
    out =
        parus_test_run_expect(0, "'%s' --db '%s' nightly --inbox '%s/scene' --settle 0 --no-assess",
                              parus_test_bin(), db_path, fx->dir);
    assert_non_null(strstr(out, "sensor=sentinel-1"));
    assert_null(strstr(out, "quarantined code"));
    free(out);
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_true(sql_count(db, "SELECT count(*) FROM tiles WHERE sensor = 'sentinel-1'") >= 2);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM tiles WHERE sensor = 'sentinel-1'"),
                     sql_count(db, "SELECT count(*) FROM radar_tiles"));
    assert_int_equal(sql_count(db, "SELECT count(DISTINCT orbit_direction) FROM radar_tiles"), 2);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM radar_tiles WHERE relative_orbit IS NULL "
                                   "OR coefficient <> 'sigma0' OR polarisations <> 'VV+VH'"),
                     0);
    assert_true(sql_count(db, "SELECT count(*) FROM radar_observations") > 0);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM radar_observations WHERE NOT (vv > 0 AND "
                                   "vh > 0 AND rvi > 0 AND se_vv > 0 AND looks_vv >= 4.4)"),
                     0);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM observations o JOIN tiles t ON t.id = "
                                   "o.tile_id WHERE t.sensor = 'sentinel-1'"),
                     0);
    assert_true(sql_count(db, "SELECT count(*) FROM observations") > 0);
    /* a radar tile over parcels that have no optical tile is stored as any other */
    {
        char *solo = parus_test_path(fx->dir, "solo.db"), cmd[2048];
        sqlite3 *sdb;
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q parcels load '%s/scene/parcels.geojson'",
                 parus_test_bin(), solo, fx->dir);
        rc = parus_test_run(cmd, NULL, NULL);
        assert_true(rc == 0 || rc == 8);
        out = parus_test_run_expect(0, "'%s' --db '%s' ingest '%s/scene'/S1A_*_DSC_*.tif",
                                    parus_test_bin(), solo, fx->dir);
        free(out);
        assert_int_equal(sqlite3_open(solo, &sdb), SQLITE_OK);
        assert_true(sql_count(sdb, "SELECT count(*) FROM radar_observations") > 0);
        assert_int_equal(sql_count(sdb, "SELECT count(*) FROM observations"), 0);
        /* a store merge carries the radar tiles' passes and observations with their tiles: before,
         * the merged store had the tiles (so a later ingest skipped them as stored) and none of
         * their radar evidence */
        {
            char *merged = parus_test_path(fx->dir, "merged.db");
            sqlite3 *mdb;
            out = parus_test_run_expect(0, "'%s' store merge '%s' '%s'", parus_test_bin(), merged,
                                        solo);
            assert_non_null(strstr(out, "radar observations"));
            free(out);
            assert_int_equal(sqlite3_open(merged, &mdb), SQLITE_OK);
            assert_int_equal(sql_count(mdb, "SELECT count(*) FROM radar_tiles"),
                             sql_count(sdb, "SELECT count(*) FROM radar_tiles"));
            assert_int_equal(sql_count(mdb, "SELECT count(*) FROM radar_observations"),
                             sql_count(sdb, "SELECT count(*) FROM radar_observations"));
            /* the same values, parcel by parcel and pass by pass */
            assert_int_equal(
                sql_count(mdb, "SELECT CAST(round(sum(o.vv * 1e6 + o.looks_vh)) AS INTEGER) FROM "
                               "radar_observations o JOIN radar_tiles r ON r.tile_id = o.tile_id "
                               "WHERE r.orbit_direction = 'DESCENDING'"),
                sql_count(sdb, "SELECT CAST(round(sum(o.vv * 1e6 + o.looks_vh)) AS INTEGER) FROM "
                               "radar_observations o JOIN radar_tiles r ON r.tile_id = o.tile_id "
                               "WHERE r.orbit_direction = 'DESCENDING'"));
            sqlite3_close(mdb);
            free(merged);
        }
        sqlite3_close(sdb);
        free(solo);
    }
    /* parus query shows a parcel's radar observations beside its optical ones (not assessed:
     * exit 6, the view still printed) */
    {
        sqlite3_stmt *st;
        char id[64] = "";
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT p.id FROM parcels p JOIN radar_observations o "
                                            "ON o.parcel_num = p.num ORDER BY p.id LIMIT 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        out = parus_test_run_expect(6,
                                    "'%s' --db '%s' query '%s' --season 2024-01-01/2024-12-31 "
                                    "--json",
                                    parus_test_bin(), db_path, id);
        assert_non_null(strstr(out, "\"radar_observations\":[{\"date\":"));
        assert_non_null(strstr(out, "\"orbit_direction\":\"DESCENDING\""));
        assert_non_null(strstr(out, "\"rvi\":"));
        free(out);
    }

    /* dB values under a linear label: refused, nothing stored */
    {
        long long n_tiles = sql_count(db, "SELECT count(*) FROM tiles");
        GDALDatasetH src, dst;
        char cmd[2048];
        float *buf;
        FILE *ls;
        snprintf(cmd, sizeof cmd, "ls '%s/scene'/S1A_*.tif | head -1", fx->dir);
        ls = popen(cmd, "r");
        assert_non_null(ls);
        assert_non_null(fgets(first, sizeof first, ls));
        pclose(ls);
        first[strcspn(first, "\n")] = '\0';
        src = GDALOpen(first, GA_ReadOnly);
        assert_non_null(src);
        dst = GDALCreateCopy(GDALGetDriverByName("GTiff"), bad, src, 0, NULL, NULL, NULL);
        assert_non_null(dst);
        buf = malloc(sizeof(float) * 256 * 256);
        assert_non_null(buf);
        for (int b = 1; b <= 2; b++) {
            GDALRasterBandH band = GDALGetRasterBand(dst, b);
            assert_int_equal(
                GDALRasterIO(band, GF_Read, 0, 0, 256, 256, buf, 256, 256, GDT_Float32, 0, 0),
                CE_None);
            for (size_t i = 0; i < 256 * 256; i++)
                buf[i] = (float)(10.0 * log10((double)buf[i]));
            assert_int_equal(
                GDALRasterIO(band, GF_Write, 0, 0, 256, 256, buf, 256, 256, GDT_Float32, 0, 0),
                CE_None);
        }
        free(buf);
        GDALClose(dst);
        GDALClose(src);
        out =
            parus_test_run_expect(4, "'%s' --db '%s' ingest '%s'", parus_test_bin(), db_path, bad);
        assert_non_null(strstr(out, "radar-scale"));
        assert_non_null(strstr(out, "S1A_IW_GRDH_20240601_bad.tif"));
        free(out);
        assert_int_equal(sql_count(db, "SELECT count(*) FROM tiles"), n_tiles);
    }
    sqlite3_close(db);
    free(db_path);
    free(bad);
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
        cmocka_unit_test_setup_teardown(test_kernel__hand_checked_square, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_kernel__threads_and_speckle_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_kernel__scale_checks, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_e2e__nightly_routes_radar_tiles, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

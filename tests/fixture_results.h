/*
 * fixture_results.h - a small store with one assessed season, written through the public store
 * API, for the export and query tests (test_exporter.c, test_query.c): eight parcels of seven
 * farmers whose ids a spreadsheet or a CSV reader would trip on (a comma and quotes, a leading
 * '=', '+', '-', '@' or tab, a line break, Chinese text), 48 tiles of observations over the season
 * (every third one cloudy for half the parcels), a result, an assessment and a limit for each, two
 * flags and a peer curve. Every figure is chosen so a test can check it by hand: the limits and
 * values are the integers below, the money ones ending in 0.05, 0.50 and so on.
 *
 * Also what those tests share around it: the group's setup (a scratch directory holding the store
 * with the season's results, fx_db, and the same store without them, fx_bare_db) and running the
 * CLI. Header-only (static functions): each test executable includes it once and uses all of it.
 */
#ifndef PARUS_FIXTURE_RESULTS_H
#define PARUS_FIXTURE_RESULTS_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/health.h"
#include "parus/parcels.h"
#include "parus/series.h"
#include "parus/store.h"

#include "test_support.h"

#define FX_SEASON "2024-03-01/2024-10-26"
#define FX_OTHER_SEASON "2023-03-01/2023-10-26"
#define FX_N_PARCELS 8
#define FX_N_FARMERS 7
#define FX_N_TILES 48
#define FX_PEER_GROUP "EPSG:32650/399960/4500000"

/* Farmer ids: what a land-rights register exported from a spreadsheet may hold. */
static const char *const fx_farmers[FX_N_FARMERS] = {
    "李明, \"老李\"",                               /* a comma and quotes */
    "=HYPERLINK(\"http://evil.example\",\"点我\")", /* a formula */
    "王芳\n第二行",                                 /* a line break */
    "+8613800000000",                               /* a phone number, read as a formula */
    "-F4",
    "@SUM(A1:A2)",
    "\tF6",
};

/* Parcel i belongs to farmer fx_parcel_farmer[i]. */
static const int fx_parcel_farmer[FX_N_PARCELS] = {0, 0, 1, 2, 3, 4, 5, 6};

static const char *const fx_parcel_ids[FX_N_PARCELS] = {
    "P01", "P02", "P03", "P04", "P05", "P06", "P07", "地块-\"甲\",8",
};

/* Each farmer's stored limit (whole yuan) and values (fen). */
static const int64_t fx_limit_cny[FX_N_FARMERS] = {12300, 0, 4500, 800, 1000000, 0, 2100};
static const int64_t fx_value_expected_fen[FX_N_FARMERS] = {1234567,  0, 900050, 160005,
                                                            99999999, 0, 420000};
static const int64_t fx_value_p10_fen[FX_N_FARMERS] = {987605,   0, 720005, 128000,
                                                       80000000, 0, 336000};
static const int64_t fx_debt_fen[FX_N_FARMERS] = {5, 0, 0, 100, 0, 0, 250050};

/* The parcels' stored values (fen). */
static const int64_t fx_parcel_value_fen[FX_N_PARCELS] = {734567,   500000, 900050, 160005,
                                                          99999999, 0,      210000, 210000};

/* JSON-escaped text into buf. */
static void fx_json_text(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    for (; *s && k + 8 < n; s++) {
        if (*s == '"' || *s == '\\') {
            buf[k++] = '\\';
            buf[k++] = *s;
        } else if (*s == '\n') {
            buf[k++] = '\\';
            buf[k++] = 'n';
        } else if (*s == '\t') {
            buf[k++] = '\\';
            buf[k++] = 't';
        } else {
            buf[k++] = *s;
        }
    }
    buf[k] = '\0';
}

/* A GeoJSON of the parcels: squares of about 0.0003 degrees (27 x 33 m) near 116 E, 39 N. */
static void fx_write_parcels(const char *path)
{
    FILE *f = fopen(path, "w");
    size_t i;
    assert_non_null(f);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
               "{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},\"features\":[\n");
    for (i = 0; i < FX_N_PARCELS; i++) {
        char id[128], farmer[256];
        double x0 = 116.0 + 0.001 * (double)i, y0 = 39.0, d = 0.0003;
        fx_json_text(fx_parcel_ids[i], id, sizeof id);
        /* the farmer ids go into the set after the read (fx_build): the reader refuses a line
         * break inside one, which a store loaded before it may hold */
        snprintf(farmer, sizeof farmer, "F%d", fx_parcel_farmer[i]);
        fprintf(f,
                "%s{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"%s\",\"farmer_id\":"
                "\"%s\",\"declared_area_mu\":%s},\"geometry\":{\"type\":\"Polygon\","
                "\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}"
                "\n",
                i ? "," : "", id, farmer, i == 1 ? "null" : "1.2", x0, y0, x0 + d, y0, x0 + d,
                y0 + d, x0, y0 + d, x0, y0);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

/* NDVI of parcel i on day t of the season: a growth curve peaking at day 120. */
static double fx_ndvi(size_t i, double t)
{
    double peak = 0.85 - 0.05 * (double)(i % 3);
    return 0.18 + (peak - 0.18) * exp(-((t - 120.0) * (t - 120.0)) / (2.0 * 35.0 * 35.0));
}

static parus_observation fx_obs(double ndvi, double valid_fraction)
{
    parus_observation o;
    int k;
    memset(&o, 0, sizeof o);
    o.w_total_px = 9.0;
    o.w_valid_px = 9.0 * valid_fraction;
    o.valid_fraction = valid_fraction;
    for (k = 0; k < PARUS_INDEX_N_; k++)
        o.mean[k] = o.std[k] = o.min[k] = o.max[k] = NAN;
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        o.band_mean[k] = NAN;
    o.mean[PARUS_INDEX_NDVI] = ndvi;
    o.std[PARUS_INDEX_NDVI] = 0.03;
    o.min[PARUS_INDEX_NDVI] = ndvi - 0.05;
    o.max[PARUS_INDEX_NDVI] = ndvi + 0.05;
    o.ndvi_p10 = o.ndvi_p50 = o.ndvi_p90 = ndvi;
    o.veg_fraction = ndvi > 0.3 ? 1.0 : 0.0;
    o.water_fraction = 0.0;
    o.n_pixels = 9;
    return o;
}

/* 48 tiles every 5 days from 2024-03-03; every third tile is cloudy over the even parcels. */
static void fx_put_tiles(parus_store *s)
{
    int64_t first;
    size_t t, i;
    parus_error err;
    assert_int_equal(parus_series_parse_day("2024-03-03", &first, &err), PARUS_OK);
    for (t = 0; t < FX_N_TILES; t++) {
        parus_tile_record rec;
        parus_observation o[FX_N_PARCELS];
        const parus_observation *po[FX_N_PARCELS];
        int64_t day = first + (int64_t)(5 * t);
        size_t k;
        memset(&rec, 0, sizeof rec);
        for (k = 0; k < 64; k++)
            rec.hash[k] = "0123456789abcdef"[(t * 7u + k * 13u + (k * t) % 5u) % 16u];
        parus_health_format_day(day, rec.date);
        snprintf(rec.path, sizeof rec.path, "/inbox/T50TMK_%s.tif", rec.date);
        snprintf(rec.sensor, sizeof rec.sensor, "sentinel-2-l2a");
        snprintf(rec.status, sizeof rec.status, "ingested");
        rec.epsg = 32650;
        rec.width = rec.height = 10980;
        rec.geotransform[0] = 399960.0;
        rec.geotransform[1] = 10.0;
        rec.geotransform[3] = 4500000.0;
        rec.geotransform[5] = -10.0;
        rec.lon_min_deg = 115.8;
        rec.lat_min_deg = 38.6;
        rec.lon_max_deg = 117.1;
        rec.lat_max_deg = 39.6;
        for (i = 0; i < FX_N_PARCELS; i++) {
            bool cloudy = t % 3 == 1 && i % 2 == 0;
            o[i] = fx_obs(fx_ndvi(i, (double)(2 + 5 * t)) - (cloudy ? 0.3 : 0.0),
                          cloudy ? 0.15 : 0.95);
            po[i] = &o[i];
        }
        if (parus_store_put_tile_observations(s, &rec, fx_parcel_ids, po, FX_N_PARCELS, &err) !=
            PARUS_OK)
            fail_msg("fixture tile %zu: %s", t, err.msg);
    }
}

static parus_parcel_result fx_result(size_t i)
{
    parus_parcel_result r;
    memset(&r, 0, sizeof r);
    r.parcel_id = fx_parcel_ids[i];
    r.crop = i == 5 ? NULL : "summer_maize";
    r.crop_method = i == 5   ? PARUS_ASSESS_NONE
                    : i == 4 ? PARUS_ASSESS_CALENDAR
                             : PARUS_ASSESS_MODEL;
    r.crop_confidence = i == 5   ? PARUS_CONFIDENCE_NONE
                        : i == 4 ? PARUS_CONFIDENCE_LOW
                                 : PARUS_CONFIDENCE_NORMAL;
    r.crop_probability = i == 5 ? (double)NAN : 0.9125 - 0.01 * (double)i;
    r.n_clear_obs = 40;
    r.first_date = "2024-03-03";
    r.last_date = "2024-10-25";
    r.peer_group = i == 5 ? NULL : FX_PEER_GROUP;
    r.health_class = i == 0 ? "poor" : i == 5 ? "unknown" : "good";
    r.health_score = i == 5 ? (double)NAN : i == 0 ? 0.55 : 0.95;
    r.health_reference = i == 5 ? "none" : "peers";
    r.n_peers = i == 5 ? 0 : 7;
    r.green_ratio = i == 5 ? (double)NAN : i == 0 ? 0.55 : 1.01;
    r.planted_fraction = 0.9;
    r.area_m2 = 900.0 + (double)i;
    r.planted_area_m2 = 0.9 * r.area_m2;
    r.declared_area_m2 = i == 1 ? (double)NAN : 800.0;
    r.area_check = i == 1 ? "undeclared" : "ok";
    r.ndvi_integral_10d = 9.5;
    r.ndvi_peak = 0.84;
    r.yield_expected_kg_per_mu = 612.5;
    r.yield_p10_kg_per_mu = 480.25;
    r.price_cny_per_kg = 2.35;
    r.valued = i != 5;
    r.value_expected_fen = i == 5 ? 0 : fx_parcel_value_fen[i];
    r.value_p10_fen = i == 5 ? 0 : fx_parcel_value_fen[i] * 4 / 5;
    r.flags = i == 0 ? "SUDDEN_LOSS" : i == 2 ? "FLOOD" : "";
    r.reason = i == 5 ? "NOT_CLASSIFIED: seen, but no crop found" : NULL;
    return r;
}

static parus_limit fx_limit(size_t f)
{
    parus_limit l;
    memset(&l, 0, sizeof l);
    l.farmer_id = fx_farmers[f];
    l.limit_cny = fx_limit_cny[f];
    l.currency = "CNY";
    l.n_parcels = f == 0 ? 2 : 1;
    l.n_parcels_valued = f == 5 ? 0 : l.n_parcels;
    l.planted_area_m2 = 1600.0 + (double)f;
    l.declared_area_m2 = f == 0 ? (double)NAN : 800.0;
    l.main_crop = f == 5 ? NULL : "summer_maize";
    l.value_expected_fen = fx_value_expected_fen[f];
    l.value_p10_fen = fx_value_p10_fen[f];
    l.health = f == 0 ? "poor" : f == 5 ? "unknown" : "good";
    l.flags = f == 0 ? "SUDDEN_LOSS" : f == 1 ? "FLOOD" : "";
    l.reasons = f == 0   ? "POOR_HEALTH;EVENT_FLAG;DEBT"
                : f == 5 ? "NO_VALUE;NOT_CLASSIFIED"
                : f == 4 ? "CALENDAR_FALLBACK;CAP"
                         : "";
    l.confidence = f == 4 ? "low" : f == 5 ? "none" : "normal";
    l.latest_date = "2024-10-25";
    l.model_version = "xgb:0123456789abcdef";
    l.policy_hash = "5f2c0e3a9b1d4c6e8f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e";
    l.repayment_date = fx_limit_cny[f] > 0 ? "2024-12-10" : NULL;
    l.debt_fen = fx_debt_fen[f];
    l.parts = "gross_value_fen=987605;haircut_poor_health_fen=246901;loan_to_value_ppm=600000";
    return l;
}

/* Build the store at db: parcels, tiles and (with_results) the season's results, written as
 * one run. */
static void fx_build(const char *dir, const char *db, bool with_results)
{
    char *gj = parus_test_path(dir, "parcels.geojson");
    parus_parcel_set set;
    parus_parcel_load_stats st;
    parus_store *s;
    parus_error err;
    int64_t run = 0;
    size_t i;

    fx_write_parcels(gj);
    if (parus_parcels_read(gj, NULL, &set, &err) != PARUS_OK)
        fail_msg("fixture parcels: %s", err.msg);
    assert_int_equal(set.n_parcels, FX_N_PARCELS);
    /* the reader drops the blanks around a farmer id ("\tF6" is F6) and refuses one with a
     * line break inside; a store loaded before it did still holds them, and its exports must
     * neutralise them all the same */
    for (i = 0; i < set.n_parcels; i++) {
        assert_string_equal(set.parcels[i].id, fx_parcel_ids[i]);
        free(set.parcels[i].farmer_id);
        set.parcels[i].farmer_id = strdup(fx_farmers[fx_parcel_farmer[i]]);
        assert_non_null(set.parcels[i].farmer_id);
    }
    assert_int_equal(parus_store_open(db, &s, &err), PARUS_OK);
    if (parus_store_put_parcels(s, &set, gj, &st, &err) != PARUS_OK)
        fail_msg("fixture store: %s", err.msg);
    parus_parcel_set_release(&set);
    fx_put_tiles(s);
    if (with_results) {
        parus_result_flag loss = {
            NULL,         "P01", "SUDDEN_LOSS", "2024-06-12",
            "2024-10-26", 0.42,  0.8,           "ndvi fell by 0.31 and did not recover"};
        parus_result_flag flood = {NULL,         "P03", "FLOOD", "2024-05-08",
                                   "2024-05-18", 0.6,   0.9,     "mndwi rose 0.3 above the peers"};
        parus_peer_step steps[24];
        int64_t first;
        assert_int_equal(parus_series_parse_day("2024-03-01", &first, &err), PARUS_OK);
        for (i = 0; i < 24; i++) {
            double m = fx_ndvi(1, 10.0 * (double)i + 4.5);
            steps[i].step = i;
            parus_health_format_day(first + (int64_t)(10 * i) + 4, steps[i].day);
            steps[i].n = 7;
            steps[i].ndvi_median = m;
            steps[i].ndvi_p25 = m - 0.04;
            steps[i].ndvi_p75 = m + 0.04;
        }
        assert_int_equal(parus_store_run_begin(s, "parus", "assess", &run, &err), PARUS_OK);
        assert_int_equal(parus_store_results_begin(s, FX_SEASON, run, &err), PARUS_OK);
        for (i = 0; i < FX_N_PARCELS; i++) {
            parus_parcel_result r = fx_result(i);
            parus_assessment a;
            memset(&a, 0, sizeof a);
            a.parcel_id = fx_parcel_ids[i];
            a.run_id = run;
            a.method = r.crop_method;
            a.confidence = r.crop_confidence;
            a.crop = r.crop;
            a.probability = r.crop_probability;
            a.crop2 = r.crop ? "soybean" : NULL;
            a.margin = r.crop ? 0.61 : (double)NAN;
            a.model_version = "xgb:0123456789abcdef";
            a.declared_crop = "summer_maize";
            a.agrees = r.crop ? 1 : -1;
            a.reason = r.crop ? NULL : "seen, but no crop found";
            a.n_clear_obs = 40;
            a.first_date = "2024-03-03";
            a.last_date = "2024-10-25";
            if (parus_store_assessments_put(s, &a, &err) != PARUS_OK)
                fail_msg("fixture assessment: %s", err.msg);
            if (parus_store_results_put(s, &r, &err) != PARUS_OK)
                fail_msg("fixture result %zu: %s", i, err.msg);
            if (r.valued &&
                parus_store_results_put_credit(
                    s, fx_parcel_ids[i], i != 6, i == 0 ? r.value_p10_fen / 2 : r.value_p10_fen,
                    i == 0 ? "POOR_HEALTH;EVENT_FLAG" : "", &err) != PARUS_OK)
                fail_msg("fixture credit: %s", err.msg);
        }
        assert_int_equal(parus_store_results_put_flag(s, &loss, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_flag(s, &flood, &err), PARUS_OK);
        if (parus_store_results_put_peer_curve(s, "summer_maize", FX_PEER_GROUP, steps, 24, &err) !=
            PARUS_OK)
            fail_msg("fixture peers: %s", err.msg);
        for (i = 0; i < FX_N_FARMERS; i++) {
            parus_limit l = fx_limit(i);
            if (parus_store_results_put_limit(s, &l, &err) != PARUS_OK)
                fail_msg("fixture limit %zu: %s", i, err.msg);
        }
        if (parus_store_results_commit(s, &err) != PARUS_OK)
            fail_msg("fixture commit: %s", err.msg);
        assert_int_equal(parus_store_run_end(s, run, "ok", NULL, &err), PARUS_OK);
    }
    parus_store_close(s);
    free(gj);
}

/* ---- the group's stores and the CLI ---- */

static char *fx_dir, *fx_db, *fx_bare_db;

static int fx_setup(void **state)
{
    (void)state;
    fx_dir = parus_test_tmpdir("results");
    fx_db = parus_test_store(fx_dir, "season.db");
    fx_bare_db = parus_test_store(fx_dir, "bare.db");
    fx_build(fx_dir, fx_db, true);
    fx_build(fx_dir, fx_bare_db, false);
    return 0;
}

static int fx_teardown(void **state)
{
    (void)state;
    parus_test_rmtree(fx_dir);
    free(fx_db);
    free(fx_bare_db);
    free(fx_dir);
    return 0;
}

static parus_store *fx_open(const char *path)
{
    parus_store *s;
    parus_error err;
    if (parus_store_open_existing(path, &s, &err) != PARUS_OK)
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

/* The parus binary under test. */
static const char *fx_bin(void)
{
    const char *b = getenv("PARUS_BIN");
    return b && *b ? b : "parus";
}

/* Run a command line; fail unless it exits want_rc; *out and *errs (each may be NULL) receive its
 * stdout and stderr (malloc'ed). */
static void fx_run(int want_rc, char **out, char **errs, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void fx_run(int want_rc, char **out, char **errs, const char *fmt, ...)
{
    char cmd[8192], *o = NULL, *e = NULL;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = parus_test_run(cmd, &o, &e);
    if (rc != want_rc)
        fail_msg("`%s` exited %d, expected %d\nstdout:\n%s\nstderr:\n%s", cmd, rc, want_rc,
                 o ? o : "", e ? e : "");
    if (out)
        *out = o;
    else
        free(o);
    if (errs)
        *errs = e;
    else
        free(e);
}

#endif

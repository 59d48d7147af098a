/*
 * test_exporter.c - the exports of a season (parus/exporter.h, `parus export`): the credit desk's
 * CSV and the per-parcel CSV checked column by column against what the store holds (header exact,
 * every cell parses as its documented type, money with exactly two decimals equal to the stored
 * fen, limits equal to the stored integers), read back by an independent reader (GDAL's CSV
 * driver) with commas, quotes, line breaks and Chinese in the ids, formula neutralisation, the
 * GeoPackage opened back with OGR, and the command's exit codes.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "parus/credit.h"
#include "parus/csvout.h"
#include "parus/exporter.h"
#include "parus/store.h"

#include "csvin_int.h"
#include "fixture_results.h"
#include "test_support.h"

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static char *slurp_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* ---- a CSV read back with the strict RFC 4180 reader ---- */

typedef struct table {
    size_t n_rows, n_cols;
    char ***cell; /* [row][col]; row 0 the header */
} table;

static table read_table(const char *path)
{
    parus__csv csv;
    parus_error err;
    table t;
    bool done = false;
    size_t cap = 0, i;
    memset(&t, 0, sizeof t);
    if (parus__csv_open(&csv, path, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    for (;;) {
        if (parus__csv_next(&csv, &done, &err) != PARUS_OK)
            fail_msg("reading back %s: %s", path, err.msg);
        if (done)
            break;
        if (t.n_rows == cap) {
            cap = cap ? 2 * cap : 16;
            t.cell = realloc(t.cell, cap * sizeof *t.cell);
            assert_non_null(t.cell);
        }
        t.n_cols = csv.n_cells;
        t.cell[t.n_rows] = calloc(csv.n_cells, sizeof(char *));
        assert_non_null(t.cell[t.n_rows]);
        for (i = 0; i < csv.n_cells; i++)
            assert_non_null(t.cell[t.n_rows][i] = strdup(csv.cells[i]));
        t.n_rows++;
    }
    parus__csv_close(&csv);
    return t;
}

static void table_free(table *t)
{
    size_t r, c;
    for (r = 0; r < t->n_rows; r++) {
        for (c = 0; c < t->n_cols; c++)
            free(t->cell[r][c]);
        free(t->cell[r]);
    }
    free(t->cell);
}

static size_t col_of(const table *t, const char *name)
{
    size_t c;
    for (c = 0; c < t->n_cols; c++)
        if (strcmp(t->cell[0][c], name) == 0)
            return c;
    fail_msg("no column '%s'", name);
    return 0;
}

static const char *cell(const table *t, size_t row, const char *name)
{
    return t->cell[row][col_of(t, name)];
}

/* -?digits */
static bool is_int(const char *s, int64_t *v)
{
    char *end;
    long long x;
    if (!*s || (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1]))))
        return false;
    x = strtoll(s, &end, 10);
    if (*end)
        return false;
    if (v)
        *v = (int64_t)x;
    return true;
}

/* digits '.' exactly two digits, equal to fen exactly */
static void assert_money(const char *s, int64_t fen)
{
    const char *dot = strchr(s, '.');
    int64_t got;
    if (!dot || strlen(dot) != 3 || !isdigit((unsigned char)dot[1]) ||
        !isdigit((unsigned char)dot[2]))
        fail_msg("money cell '%s' has not exactly two decimals", s);
    if (!parus_cny_parse_fen(s, &got))
        fail_msg("money cell '%s' does not parse", s);
    if (got != fen)
        fail_msg("money cell '%s' is %lld fen, stored %lld", s, (long long)got, (long long)fen);
}

/* A number with exactly `decimals` decimals (or empty when allowed). */
static double assert_fixed(const char *s, int decimals, bool empty_ok)
{
    const char *dot = strchr(s, '.');
    char *end;
    double v;
    if (!*s) {
        if (!empty_ok)
            fail_msg("empty number cell");
        return NAN;
    }
    if (!dot || (int)strlen(dot + 1) != decimals)
        fail_msg("'%s' has not %d decimals", s, decimals);
    v = strtod(s, &end);
    if (*end)
        fail_msg("'%s' is not a number", s);
    return v;
}

static bool is_date(const char *s)
{
    int i;
    if (strlen(s) != 10)
        return false;
    for (i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The farmer id as a spreadsheet-safe cell: a formula start gets a leading quote. */
static void neutralised(const char *id, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", parus_csvout_is_formula(id) ? "'" : "", id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t farmer_index(const char *id)
{
    size_t f;
    for (f = 0; f < FX_N_FARMERS; f++)
        if (strcmp(fx_farmers[f], id) == 0)
            return f;
    fail_msg("unknown farmer '%s'", id);
    return 0;
}

static void export_csv(const char *path, bool parcels, size_t *n_rows)
{
    parus_store *s = fx_open(fx_db);
    parus_csvout *w;
    parus_error err;
    parus_status st;
    assert_int_equal(parus_csvout_open(path, NULL, &w, &err), PARUS_OK);
    st = parcels ? parus_export_parcels_csv(s, FX_SEASON, w, n_rows, &err)
                 : parus_export_farmers_csv(s, FX_SEASON, w, n_rows, &err);
    if (st != PARUS_OK)
        fail_msg("export: %s", err.msg);
    assert_int_equal(parus_csvout_close(w, &err), PARUS_OK);
    parus_store_close(s);
}

/* ---- the credit desk's CSV ---- */

static void test_farmers_csv__schema_column_by_column(void **state)
{
    static const char *const header[] = {"farmer_id",
                                         "season",
                                         "limit_cny",
                                         "currency",
                                         "n_parcels",
                                         "n_parcels_valued",
                                         "planted_area_mu",
                                         "declared_area_mu",
                                         "main_crop",
                                         "value_expected_cny",
                                         "value_conservative_cny",
                                         "debt_cny",
                                         "health",
                                         "flags",
                                         "reasons",
                                         "confidence",
                                         "repayment_date",
                                         "latest_imagery_date",
                                         "model_version",
                                         "policy_version",
                                         "run_id",
                                         "assessed_at",
                                         "limit_parts",
                                         "model_data_hash",
                                         "crops_version",
                                         "debts_version",
                                         "overlap_held_cny",
                                         "sensors"};
    char *path = parus_test_path(fx_dir, "farmers.csv");
    const char *sorted[FX_N_FARMERS];
    const char *const *names;
    size_t n_rows = 0, n_names, c, r;
    table t;
    (void)state;

    names = parus_export_farmer_columns(&n_names);
    assert_int_equal(n_names, sizeof header / sizeof header[0]);
    for (c = 0; c < n_names; c++)
        assert_string_equal(names[c], header[c]);

    export_csv(path, false, &n_rows);
    assert_int_equal(n_rows, FX_N_FARMERS);
    t = read_table(path);
    assert_int_equal(t.n_rows, FX_N_FARMERS + 1);
    assert_int_equal(t.n_cols, sizeof header / sizeof header[0]);
    for (c = 0; c < t.n_cols; c++)
        assert_string_equal(t.cell[0][c], header[c]);

    memcpy(sorted, fx_farmers, sizeof sorted);
    qsort(sorted, FX_N_FARMERS, sizeof sorted[0], cmp_str);
    for (r = 1; r < t.n_rows; r++) {
        char want_id[256];
        const char *id = sorted[r - 1];
        size_t f = farmer_index(id);
        int64_t v;
        double planted;
        /* farmer id: the stored id, neutralised; rows in byte order of the ids */
        neutralised(id, want_id, sizeof want_id);
        assert_string_equal(cell(&t, r, "farmer_id"), want_id);
        assert_string_equal(cell(&t, r, "season"), FX_SEASON);
        assert_true(is_int(cell(&t, r, "limit_cny"), &v));
        assert_int_equal(v, fx_limit_cny[f]);
        assert_string_equal(cell(&t, r, "currency"), "CNY");
        assert_true(is_int(cell(&t, r, "n_parcels"), &v));
        assert_int_equal(v, f == 0 ? 2 : 1);
        assert_true(is_int(cell(&t, r, "n_parcels_valued"), &v));
        assert_int_equal(v, f == 5 ? 0 : f == 0 ? 2 : 1);
        planted = assert_fixed(cell(&t, r, "planted_area_mu"), 2, false);
        assert_close(planted, (1600.0 + (double)f) / PARUS_M2_PER_MU, 0.005, 0);
        if (f == 0)
            assert_string_equal(cell(&t, r, "declared_area_mu"), "");
        else
            assert_close(assert_fixed(cell(&t, r, "declared_area_mu"), 2, false), 1.2, 1e-9, 0);
        assert_string_equal(cell(&t, r, "main_crop"), f == 5 ? "" : "summer_maize");
        assert_money(cell(&t, r, "value_expected_cny"), fx_value_expected_fen[f]);
        assert_money(cell(&t, r, "value_conservative_cny"), fx_value_p10_fen[f]);
        assert_money(cell(&t, r, "debt_cny"), fx_debt_fen[f]);
        assert_string_equal(cell(&t, r, "health"), f == 0 ? "poor" : f == 5 ? "unknown" : "good");
        assert_string_equal(cell(&t, r, "flags"), f == 0 ? "SUDDEN_LOSS" : f == 1 ? "FLOOD" : "");
        assert_string_equal(cell(&t, r, "reasons"), fx_limit(f).reasons);
        assert_string_equal(cell(&t, r, "confidence"), fx_limit(f).confidence);
        if (fx_limit_cny[f] > 0)
            assert_true(is_date(cell(&t, r, "repayment_date")));
        else
            assert_string_equal(cell(&t, r, "repayment_date"), "");
        assert_true(is_date(cell(&t, r, "latest_imagery_date")));
        assert_string_equal(cell(&t, r, "model_version"), "xgb:0123456789abcdef");
        assert_int_equal(strlen(cell(&t, r, "policy_version")), 64);
        assert_true(is_int(cell(&t, r, "run_id"), &v));
        assert_true(v > 0);
        assert_true(strlen(cell(&t, r, "assessed_at")) >= 19);
        assert_true(is_date(cell(&t, r, "assessed_at")) || cell(&t, r, "assessed_at")[10] == 'T' ||
                    cell(&t, r, "assessed_at")[10] == ' ');
        assert_non_null(strstr(cell(&t, r, "limit_parts"), "gross_value_fen=987605"));
    }
    table_free(&t);
    free(path);
}

/* money: exactly the stored fen, whatever the amount's size */
static void test_farmers_csv__money_is_exact(void **state)
{
    char *path = parus_test_path(fx_dir, "money.csv"), *text;
    (void)state;
    export_csv(path, false, NULL);
    text = slurp_file(path, NULL);
    /* 99999999 fen, 160005 fen, 5 fen, 250050 fen */
    assert_non_null(strstr(text, ",999999.99,"));
    assert_non_null(strstr(text, ",1600.05,"));
    assert_non_null(strstr(text, ",0.05,"));
    assert_non_null(strstr(text, ",2500.50,"));
    /* a UTF-8 byte order mark and CRLF records, as the credit desk's Excel needs */
    assert_memory_equal(text,
                        "\xEF\xBB\xBF"
                        "farmer_id,season,",
                        20);
    assert_non_null(strstr(
        text,
        "limit_parts,model_data_hash,crops_version,debts_version,overlap_held_cny,sensors\r\n"));
    free(text);
    free(path);
}

static void test_farmers_csv__formulas_neutralised(void **state)
{
    char *path = parus_test_path(fx_dir, "formula.csv"), *text;
    (void)state;
    export_csv(path, false, NULL);
    text = slurp_file(path, NULL);
    assert_non_null(strstr(text, "\r\n\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\","));
    assert_non_null(strstr(text, "\r\n\"'+8613800000000\","));
    assert_non_null(strstr(text, "\r\n\"'-F4\","));
    assert_non_null(strstr(text, "\r\n\"'@SUM(A1:A2)\","));
    assert_non_null(strstr(text, "\r\n\"'\tF6\","));
    /* no record begins with a bare formula character */
    assert_null(strstr(text, "\n="));
    assert_null(strstr(text, "\n+"));
    assert_null(strstr(text, "\n@"));
    assert_null(strstr(text, "\n-"));
    free(text);
    free(path);
}

/* Commas, quotes, line breaks and Chinese come back unchanged through GDAL's CSV driver. */
static void test_farmers_csv__round_trip_through_gdal(void **state)
{
    char *path = parus_test_path(fx_dir, "roundtrip.csv");
    const char *const open_opts[] = {"HEADERS=YES", "AUTODETECT_TYPE=NO", NULL};
    const char *const drivers[] = {"CSV", NULL};
    bool seen[FX_N_FARMERS] = {false};
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRFeatureH f;
    size_t n = 0, k;
    (void)state;

    export_csv(path, false, NULL);
    GDALAllRegister();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, open_opts, NULL);
    assert_non_null(ds);
    layer = GDALDatasetGetLayer(ds, 0);
    assert_non_null(layer);
    assert_int_equal(OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer)), 28);
    assert_int_equal(OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), "farmer_id"), 0);
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        const char *id = OGR_F_GetFieldAsString(f, 0);
        const char *limit = OGR_F_GetFieldAsString(f, 2);
        /* the reader sees the neutralising quote: strip it to get the farmer's id */
        const char *raw = id[0] == '\'' && parus_csvout_is_formula(id + 1) ? id + 1 : id;
        size_t fi = farmer_index(raw);
        char want[32];
        seen[fi] = true;
        snprintf(want, sizeof want, "%lld", (long long)fx_limit_cny[fi]);
        assert_string_equal(limit, want);
        assert_string_equal(OGR_F_GetFieldAsString(f, 1), FX_SEASON);
        OGR_F_Destroy(f);
        n++;
    }
    GDALClose(ds);
    assert_int_equal(n, FX_N_FARMERS);
    for (k = 0; k < FX_N_FARMERS; k++)
        assert_true(seen[k]);
    free(path);
}

/* ---- the per-parcel CSV ---- */

static size_t parcel_index(const char *id)
{
    size_t i;
    for (i = 0; i < FX_N_PARCELS; i++)
        if (strcmp(fx_parcel_ids[i], id) == 0)
            return i;
    fail_msg("unknown parcel '%s'", id);
    return 0;
}

static void test_parcels_csv__schema_column_by_column(void **state)
{
    static const char *const header[] = {"parcel_id",
                                         "farmer_id",
                                         "season",
                                         "crop",
                                         "crop_method",
                                         "crop_confidence",
                                         "crop_probability",
                                         "n_clear_obs",
                                         "first_clear_date",
                                         "last_clear_date",
                                         "sensors",
                                         "area_m2",
                                         "area_mu",
                                         "declared_area_mu",
                                         "planted_fraction",
                                         "planted_area_mu",
                                         "area_check",
                                         "health_class",
                                         "health_score",
                                         "health_reference",
                                         "peer_group",
                                         "n_peers",
                                         "green_ratio",
                                         "flags",
                                         "ndvi_peak",
                                         "ndvi_integral_10d",
                                         "yield_expected_kg_per_mu",
                                         "yield_p10_kg_per_mu",
                                         "price_cny_per_kg",
                                         "value_expected_cny",
                                         "value_conservative_cny",
                                         "credit_counted",
                                         "credit_value_cny",
                                         "credit_reasons",
                                         "no_value_reason",
                                         "farmer_limit_cny",
                                         "run_id",
                                         "assessed_at",
                                         "weather_rain_mm",
                                         "weather_rain_normal_mm",
                                         "weather_rain_deficit",
                                         "weather_heat_days"};
    char *path = parus_test_path(fx_dir, "parcels.csv");
    size_t n_rows = 0, c, r, n_names;
    const char *const *names = parus_export_parcel_columns(&n_names);
    table t;
    (void)state;

    assert_int_equal(n_names, sizeof header / sizeof header[0]);
    export_csv(path, true, &n_rows);
    assert_int_equal(n_rows, FX_N_PARCELS);
    t = read_table(path);
    assert_int_equal(t.n_rows, FX_N_PARCELS + 1);
    assert_int_equal(t.n_cols, sizeof header / sizeof header[0]);
    for (c = 0; c < t.n_cols; c++) {
        assert_string_equal(t.cell[0][c], header[c]);
        assert_string_equal(names[c], header[c]);
    }
    for (r = 1; r < t.n_rows; r++) {
        size_t i = parcel_index(cell(&t, r, "parcel_id"));
        size_t f = (size_t)fx_parcel_farmer[i];
        parus_parcel_result want = fx_result(i);
        char want_id[256];
        int64_t v;
        neutralised(fx_farmers[f], want_id, sizeof want_id);
        assert_string_equal(cell(&t, r, "farmer_id"), want_id);
        assert_string_equal(cell(&t, r, "season"), FX_SEASON);
        assert_string_equal(cell(&t, r, "crop"), want.crop ? want.crop : "");
        assert_string_equal(cell(&t, r, "crop_method"), parus_assess_method_name(want.crop_method));
        assert_string_equal(cell(&t, r, "crop_confidence"),
                            parus_assess_confidence_name(want.crop_confidence));
        if (want.crop)
            assert_close(assert_fixed(cell(&t, r, "crop_probability"), 4, false),
                         want.crop_probability, 1e-9, 0);
        else
            assert_string_equal(cell(&t, r, "crop_probability"), "");
        assert_true(is_int(cell(&t, r, "n_clear_obs"), &v));
        assert_int_equal(v, 40);
        assert_true(is_date(cell(&t, r, "first_clear_date")));
        assert_true(is_date(cell(&t, r, "last_clear_date")));
        assert_close(assert_fixed(cell(&t, r, "area_m2"), 1, false), want.area_m2, 0.05, 0);
        assert_close(assert_fixed(cell(&t, r, "area_mu"), 3, false), want.area_m2 / PARUS_M2_PER_MU,
                     0.0005, 0);
        /* areas to people in mu: 1 mu = 10000/15 m2 */
        if (i == 1)
            assert_fixed(cell(&t, r, "declared_area_mu"), 3, true);
        else
            assert_close(assert_fixed(cell(&t, r, "declared_area_mu"), 3, false),
                         want.declared_area_m2 * 15.0 / 10000.0, 0.0005, 0);
        assert_fixed(cell(&t, r, "planted_fraction"), 3, false);
        assert_close(assert_fixed(cell(&t, r, "planted_area_mu"), 3, false),
                     want.planted_area_m2 / PARUS_M2_PER_MU, 0.0005, 0);
        assert_string_equal(cell(&t, r, "area_check"), want.area_check);
        assert_string_equal(cell(&t, r, "health_class"), want.health_class);
        assert_fixed(cell(&t, r, "health_score"), 3, i == 5);
        assert_string_equal(cell(&t, r, "peer_group"), want.peer_group ? want.peer_group : "");
        assert_true(is_int(cell(&t, r, "n_peers"), NULL));
        assert_string_equal(cell(&t, r, "flags"), want.flags);
        assert_fixed(cell(&t, r, "ndvi_peak"), 4, false);
        assert_fixed(cell(&t, r, "yield_expected_kg_per_mu"), 1, false);
        assert_close(assert_fixed(cell(&t, r, "price_cny_per_kg"), 4, false), 2.35, 1e-9, 0);
        if (want.valued) {
            assert_money(cell(&t, r, "value_expected_cny"), want.value_expected_fen);
            assert_money(cell(&t, r, "value_conservative_cny"), want.value_p10_fen);
            assert_string_equal(cell(&t, r, "credit_counted"), i == 6 ? "0" : "1");
            assert_money(cell(&t, r, "credit_value_cny"),
                         i == 0 ? want.value_p10_fen / 2 : want.value_p10_fen);
            assert_string_equal(cell(&t, r, "no_value_reason"), "");
        } else {
            assert_string_equal(cell(&t, r, "value_expected_cny"), "");
            assert_string_equal(cell(&t, r, "credit_counted"), "");
            assert_string_equal(cell(&t, r, "credit_value_cny"), "");
            assert_non_null(strstr(cell(&t, r, "no_value_reason"), "NOT_CLASSIFIED"));
        }
        assert_string_equal(cell(&t, r, "credit_reasons"), i == 0 ? "POOR_HEALTH;EVENT_FLAG" : "");
        assert_true(is_int(cell(&t, r, "farmer_limit_cny"), &v));
        assert_int_equal(v, fx_limit_cny[f]);
        assert_true(is_int(cell(&t, r, "run_id"), &v) && v > 0);
    }
    table_free(&t);
    free(path);
}

/* ---- the GeoPackage ---- */

static void check_gpkg(const char *path)
{
    const char *const drivers[] = {"GPKG", NULL};
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    OGRFeatureH f;
    OGRSpatialReferenceH srs;
    size_t n = 0;
    bool seen_p01 = false;

    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    assert_non_null(ds);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 1);
    layer = GDALDatasetGetLayerByName(ds, "parcels");
    assert_non_null(layer);
    assert_int_equal(OGR_L_GetFeatureCount(layer, TRUE), FX_N_PARCELS);
    assert_int_equal(wkbFlatten(OGR_L_GetGeomType(layer)), wkbMultiPolygon);
    srs = OGR_L_GetSpatialRef(layer);
    assert_non_null(srs);
    assert_string_equal(OSRGetAuthorityCode(srs, NULL), "4326");
    defn = OGR_L_GetLayerDefn(layer);
    assert_int_equal(OGR_FD_GetFieldCount(defn), 42);
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(
                         defn, OGR_FD_GetFieldIndex(defn, "value_expected_fen"))),
                     OFTInteger64);
    assert_int_equal(
        OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, OGR_FD_GetFieldIndex(defn, "first_clear_date"))),
        OFTDate);
    assert_true(OGR_FD_GetFieldIndex(defn, "value_expected_cny") < 0);
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        const char *id = OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(defn, "parcel_id"));
        size_t i = parcel_index(id);
        OGREnvelope env;
        assert_non_null(g);
        assert_true(OGR_G_IsValid(g));
        OGR_G_GetEnvelope(g, &env);
        /* x is longitude */
        assert_close(env.MinX, 116.0 + 0.001 * (double)i, 1e-9, 0);
        assert_close(env.MaxY, 39.0003, 1e-9, 0);
        assert_close(OGR_G_Area(g), 0.0003 * 0.0003, 1e-12, 0);
        assert_int_equal(
            OGR_F_GetFieldAsInteger64(f, OGR_FD_GetFieldIndex(defn, "farmer_limit_cny")),
            fx_limit_cny[fx_parcel_farmer[i]]);
        if (i == 0) {
            int y, m, d, hh, mm, tz;
            float ss;
            seen_p01 = true;
            assert_int_equal(
                OGR_F_GetFieldAsInteger64(f, OGR_FD_GetFieldIndex(defn, "value_expected_fen")),
                734567);
            assert_string_equal(OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(defn, "flags")),
                                "SUDDEN_LOSS");
            assert_true(OGR_F_GetFieldAsDateTimeEx(
                f, OGR_FD_GetFieldIndex(defn, "first_clear_date"), &y, &m, &d, &hh, &mm, &ss, &tz));
            assert_int_equal(y * 10000 + m * 100 + d, 20240303);
            assert_string_equal(OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(defn, "farmer_id")),
                                fx_farmers[0]);
        }
        if (i == 5)
            assert_false(
                OGR_F_IsFieldSetAndNotNull(f, OGR_FD_GetFieldIndex(defn, "value_expected_fen")));
        OGR_F_Destroy(f);
        n++;
    }
    assert_int_equal(n, FX_N_PARCELS);
    assert_true(seen_p01);
    GDALClose(ds);
}

static void test_gpkg__opened_back_with_ogr(void **state)
{
    char *path = parus_test_path(fx_dir, "parcels.gpkg"), *part;
    parus_store *s = fx_open(fx_db);
    parus_error err;
    size_t n = 0;
    (void)state;

    GDALAllRegister();
    if (parus_export_gpkg(s, FX_SEASON, path, &n, &err) != PARUS_OK)
        fail_msg("gpkg: %s", err.msg);
    assert_int_equal(n, FX_N_PARCELS);
    check_gpkg(path);
    /* a second export replaces the file, and leaves no partial one behind */
    assert_int_equal(parus_export_gpkg(s, FX_SEASON, path, &n, &err), PARUS_OK);
    check_gpkg(path);
    part = parus_test_path(fx_dir, "parcels.gpkg.part");
    assert_false(file_exists(part));
    free(part);
    parus_store_close(s);
    free(path);
}

/* ---- nothing to export, nowhere to write ---- */

static void test_export__nothing_assessed_is_not_found(void **state)
{
    char *gpkg = parus_test_path(fx_dir, "none.gpkg");
    parus_store *s = fx_open(fx_bare_db);
    parus_csvout *w;
    parus_error err;
    size_t n = 77;
    (void)state;

    assert_int_equal(parus_csvout_new_memory(NULL, &w, &err), PARUS_OK);
    assert_int_equal(parus_export_farmers_csv(s, FX_SEASON, w, &n, &err), PARUS_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "parus assess"));
    assert_int_equal(n, 77);
    parus_csvout_free(w);
    assert_int_equal(parus_csvout_new_memory(NULL, &w, &err), PARUS_OK);
    assert_int_equal(parus_export_parcels_csv(s, FX_SEASON, w, &n, &err), PARUS_E_NOT_FOUND);
    parus_csvout_free(w);
    assert_int_equal(parus_export_gpkg(s, FX_SEASON, gpkg, &n, &err), PARUS_E_NOT_FOUND);
    assert_false(file_exists(gpkg));
    assert_int_equal(parus_csvout_new_memory(NULL, &w, &err), PARUS_OK);
    assert_int_equal(parus_export_farmers_csv(s, "2024-03-01", w, &n, &err), PARUS_E_INVALID);
    parus_csvout_free(w);
    parus_store_close(s);
    free(gpkg);
}

static void test_gpkg__unwritable_is_io(void **state)
{
    char *gpkg = parus_test_path(fx_dir, "no-such-dir/x.gpkg");
    parus_store *s = fx_open(fx_db);
    parus_error err;
    (void)state;
    assert_int_equal(parus_export_gpkg(s, FX_SEASON, gpkg, NULL, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, "x.gpkg"));
    parus_store_close(s);
    free(gpkg);
}

/* ---- the command ---- */

static void test_cmd_export__files_stdout_and_exit_codes(void **state)
{
    char *csv = parus_test_path(fx_dir, "cli-farmers.csv");
    char *pcsv = parus_test_path(fx_dir, "cli-parcels.csv");
    char *gpkg = parus_test_path(fx_dir, "cli.gpkg");
    char *none = parus_test_path(fx_dir, "cli-none.csv");
    char *out, *errs, *a, *b, *absent;
    size_t na, nb;
    (void)state;

    fx_run(0, NULL, &errs,
           "'%s' --db '%s' export --season %s --out '%s' --parcels '%s' --gpkg '%s'", fx_bin(),
           fx_db, FX_SEASON, csv, pcsv, gpkg);
    assert_non_null(strstr(errs, "wrote 7 farmers"));
    assert_non_null(strstr(errs, "wrote 8 parcels"));
    free(errs);
    check_gpkg(gpkg);
    /* the same bytes as the library's export */
    export_csv(none, false, NULL);
    a = slurp_file(csv, &na);
    b = slurp_file(none, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    remove(none);

    /* stdout, LF, no BOM */
    fx_run(0, &out, NULL, "'%s' --db '%s' export --season %s --lf --no-bom", fx_bin(), fx_db,
           FX_SEASON);
    assert_memory_equal(out, "farmer_id,season,limit_cny,", 27);
    assert_null(strstr(out, "\r\n"));
    assert_non_null(strstr(out, "\n\"'=HYPERLINK("));
    free(out);

    /* nothing assessed for that season: 6, no file */
    fx_run(6, NULL, &errs, "'%s' --db '%s' export --season %s --out '%s'", fx_bin(), fx_db,
           FX_OTHER_SEASON, none);
    assert_non_null(strstr(errs, "parus assess"));
    assert_false(file_exists(none));
    free(errs);
    fx_run(6, NULL, NULL, "'%s' --db '%s' export --season %s --gpkg '%s'", fx_bin(), fx_bare_db,
           FX_SEASON, gpkg);
    check_gpkg(gpkg); /* the earlier one is untouched */

    /* unwritable: 3 */
    fx_run(3, NULL, &errs, "'%s' --db '%s' export --season %s --out '%s/no-such-dir/x.csv'",
           fx_bin(), fx_db, FX_SEASON, fx_dir);
    assert_non_null(strstr(errs, "x.csv"));
    free(errs);
    fx_run(3, NULL, NULL, "'%s' --db '%s' export --season %s --gpkg '%s/no-such-dir/x.gpkg'",
           fx_bin(), fx_db, FX_SEASON, fx_dir);

    /* misuse: 2; no store: 6 */
    fx_run(2, NULL, NULL, "'%s' --db '%s' export --season %s --bogus", fx_bin(), fx_db, FX_SEASON);
    fx_run(2, NULL, NULL, "'%s' --db '%s' export --season 2024-13-01/2024-14-01", fx_bin(), fx_db);
    fx_run(2, NULL, NULL, "'%s' --db '%s' export --season %s --parcels -", fx_bin(), fx_db,
           FX_SEASON);
    absent = parus_test_store_at(fx_dir, "absent.db");
    fx_run(6, NULL, NULL, "'%s' --db '%s' export --season %s", fx_bin(), absent, FX_SEASON);
    free(absent);
    fx_run(0, &out, NULL, "'%s' export --help", fx_bin());
    assert_non_null(strstr(out, "--gpkg"));
    free(out);

    free(csv);
    free(pcsv);
    free(gpkg);
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_farmers_csv__schema_column_by_column),
        cmocka_unit_test(test_farmers_csv__money_is_exact),
        cmocka_unit_test(test_farmers_csv__formulas_neutralised),
        cmocka_unit_test(test_farmers_csv__round_trip_through_gdal),
        cmocka_unit_test(test_parcels_csv__schema_column_by_column),
        cmocka_unit_test(test_gpkg__opened_back_with_ogr),
        cmocka_unit_test(test_export__nothing_assessed_is_not_found),
        cmocka_unit_test(test_gpkg__unwritable_is_io),
        cmocka_unit_test(test_cmd_export__files_stdout_and_exit_codes),
    };
    return cmocka_run_backend_group_tests(tests, fx_setup, fx_teardown);
}

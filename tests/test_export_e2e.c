/*
 * test_export_e2e.c - from imagery to the credit desk's file through the real tools: a synthetic
 * season from the generator, `parus parcels load`, `parus ingest`, `parus assess`, then `parus
 * export` (both CSVs and the GeoPackage) and `parus query`, checked against what the assessment
 * stored (read back through the public store API): every farmer's limit and values in the CSV
 * equal the stored integers, every result is a row and a feature, and a query answers for a real
 * parcel and farmer.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>

#include "parus/credit.h"
#include "parus/store.h"

#include "csvin_int.h"
#include "test_support.h"

#define SEASON "2024-03-01/2024-10-31"

static char *g_dir, *g_db;

static const char *bin(void)
{
    const char *b = getenv("PARUS_BIN");
    return b && *b ? b : "parus";
}

static const char *synth_bin(void)
{
    const char *b = getenv("PARUS_SYNTH");
    return b && *b ? b : "parus-synth";
}

static char *run_expect(int want_rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static char *run_expect(int want_rc, const char *fmt, ...)
{
    char cmd[8192], *out = NULL, *errs = NULL;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = parus_test_run(cmd, &out, &errs);
    if (rc != want_rc)
        fail_msg("`%s` exited %d, expected %d\nstdout:\n%s\nstderr:\n%s", cmd, rc, want_rc,
                 out ? out : "", errs ? errs : "");
    free(errs);
    return out;
}

static int setup(void **state)
{
    (void)state;
    g_dir = parus_test_tmpdir("export-e2e");
    g_db = parus_test_path(g_dir, "parus.db");
    free(run_expect(0,
                    "'%s' --out '%s/scene' --size 512 --dates 12 --seed 11 --quiet --crops "
                    "'%s/data-samples/crops.csv'",
                    synth_bin(), g_dir, parus_test_source_dir()));
    /* 8: the generator's registry has a broken geometry, set aside */
    free(run_expect(8, "'%s' --db '%s' -q parcels load '%s/scene/parcels.geojson'", bin(), g_db,
                    g_dir));
    free(run_expect(0, "'%s' --db '%s' -q ingest '%s'/scene/*.tif", bin(), g_db, g_dir));
    free(run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --no-model", bin(), g_db));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(g_dir);
    free(g_dir);
    free(g_db);
    return 0;
}

/* The stored limits, in farmer id order. */
struct limits {
    size_t n;
    char *farmer[4096];
    int64_t limit_cny[4096], p10_fen[4096];
};

static int keep_limit(const parus_limit *l, void *ctx)
{
    struct limits *ls = ctx;
    assert_true(ls->n < 4096);
    ls->farmer[ls->n] = strdup(l->farmer_id);
    ls->limit_cny[ls->n] = l->limit_cny;
    ls->p10_fen[ls->n++] = l->value_p10_fen;
    return 0;
}

static int count_result(const parus_parcel_result *r, void *ctx)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_e2e__export_matches_the_assessment(void **state)
{
    char *farmers = parus_test_path(g_dir, "limits.csv"),
         *parcels = parus_test_path(g_dir, "p.csv");
    char *gpkg = parus_test_path(g_dir, "p.gpkg");
    struct limits *ls = calloc(1, sizeof *ls);
    parus_store *s;
    parus_error err;
    parus__csv csv;
    bool done = false;
    size_t row = 0, n_results = 0, n_parcel_rows = 0, i;
    GDALDatasetH ds;
    (void)state;

    assert_non_null(ls);
    assert_int_equal(parus_store_open_existing(g_db, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_limits_foreach(s, SEASON, keep_limit, ls, &err), PARUS_OK);
    assert_int_equal(parus_store_results_foreach(s, SEASON, count_result, &n_results, &err),
                     PARUS_OK);
    parus_store_close(s);
    assert_true(ls->n > 10);
    assert_true(n_results > ls->n);

    free(run_expect(
        0, "'%s' --db '%s' -q export --season " SEASON " --out '%s' --parcels '%s' --gpkg '%s'",
        bin(), g_db, farmers, parcels, gpkg));

    /* the farmers' CSV: one row per stored limit, in the same order, the same integers */
    assert_int_equal(parus__csv_open(&csv, farmers, &err), PARUS_OK);
    for (;;) {
        int64_t fen;
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        if (done)
            break;
        assert_int_equal(csv.n_cells, 23);
        if (row > 0) {
            assert_true(row - 1 < ls->n);
            assert_string_equal(csv.cells[0], ls->farmer[row - 1]); /* plain ids: not neutralised */
            assert_string_equal(csv.cells[1], SEASON);
            assert_int_equal(strtoll(csv.cells[2], NULL, 10), ls->limit_cny[row - 1]);
            assert_true(parus_cny_parse_fen(csv.cells[10], &fen));
            assert_int_equal(fen, ls->p10_fen[row - 1]);
            assert_string_equal(csv.cells[3], "CNY");
        }
        row++;
    }
    parus__csv_close(&csv);
    assert_int_equal(row, ls->n + 1);

    /* the parcels' CSV and the GeoPackage: one row and one feature per stored result */
    assert_int_equal(parus__csv_open(&csv, parcels, &err), PARUS_OK);
    for (;;) {
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        if (done)
            break;
        n_parcel_rows++;
    }
    parus__csv_close(&csv);
    assert_int_equal(n_parcel_rows, n_results + 1);
    GDALAllRegister();
    ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    assert_int_equal(OGR_L_GetFeatureCount(GDALDatasetGetLayerByName(ds, "parcels"), TRUE),
                     (GIntBig)n_results);
    GDALClose(ds);

    for (i = 0; i < ls->n; i++)
        free(ls->farmer[i]);
    free(ls);
    free(farmers);
    free(parcels);
    free(gpkg);
}

static void test_e2e__query_a_parcel_and_its_farmer(void **state)
{
    char *path = parus_test_path(g_dir, "q.csv"), *out, first_parcel[128] = "", farmer[128] = "";
    parus__csv csv;
    parus_error err;
    bool done = false;
    (void)state;

    free(run_expect(0, "'%s' --db '%s' -q export --season " SEASON " --parcels '%s'", bin(), g_db,
                    path));
    assert_int_equal(parus__csv_open(&csv, path, &err), PARUS_OK);
    assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK); /* header */
    while (!farmer[0]) {
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        assert_false(done);
        if (csv.cells[1][0] && csv.cells[3][0]) { /* a farmer and a crop */
            snprintf(first_parcel, sizeof first_parcel, "%s", csv.cells[0]);
            snprintf(farmer, sizeof farmer, "%s", csv.cells[1]);
        }
    }
    parus__csv_close(&csv);

    out = run_expect(0, "'%s' --db '%s' query '%s' --season " SEASON " --json", bin(), g_db,
                     first_parcel);
    assert_non_null(strstr(out, "\"assessed\":true"));
    assert_non_null(strstr(out, "\"crop_method\":\"calendar\""));
    assert_non_null(strstr(out, "\"limit\":{\"farmer_id\":"));
    free(out);
    out = run_expect(0, "'%s' --db '%s' query --farmer '%s' --season " SEASON, bin(), g_db, farmer);
    assert_non_null(strstr(out, first_parcel));
    assert_non_null(strstr(out, "CALENDAR_FALLBACK"));
    free(out);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e__export_matches_the_assessment),
        cmocka_unit_test(test_e2e__query_a_parcel_and_its_farmer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

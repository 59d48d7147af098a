/*
 * test_export_e2e.c - from imagery to the credit desk's file through the real tools: a synthetic
 * season from the generator, `parus parcels load`, `parus ingest`, `parus assess`, then `parus
 * export` (both CSVs and the GeoPackage) and `parus query`, checked against what the assessment
 * stored (read back through the public store API): every farmer's limit and values in the CSV
 * equal the stored integers, every result is a row and a feature, and a query answers for a real
 * parcel and farmer.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>

#include "parus/credit.h"
#include "parus/store.h"

#include "csvin_int.h"
#include "test_support.h"

#define SEASON "2024-03-01/2024-10-31"

static char *g_dir, *g_db;

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
    g_db = parus_test_store(g_dir, "parus.db");
    free(run_expect(0,
                    "'%s' --out '%s/scene' --size 512 --dates 12 --seed 11 --quiet --crops "
                    "'%s/data-samples/crops.csv'",
                    parus_test_synth_bin(), g_dir, parus_test_source_dir()));
    /* 8: the generator's registry has a broken geometry, set aside */
    free(run_expect(8, "'%s' --db '%s' -q parcels load '%s/scene/parcels.geojson'",
                    parus_test_bin(), g_db, g_dir));
    free(run_expect(0, "'%s' --db '%s' -q ingest '%s'/scene/*.tif", parus_test_bin(), g_db, g_dir));
    free(run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --no-model", parus_test_bin(),
                    g_db));
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
        parus_test_bin(), g_db, farmers, parcels, gpkg));

    /* the farmers' CSV: one row per stored limit, in the same order, the same integers */
    assert_int_equal(parus__csv_open(&csv, farmers, &err), PARUS_OK);
    for (;;) {
        int64_t fen;
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        if (done)
            break;
        assert_int_equal(csv.n_cells, 28);
        if (row > 0) {
            assert_true(row - 1 < ls->n);
            assert_string_equal(csv.cells[0], ls->farmer[row - 1]); /* plain ids: not neutralised */
            assert_string_equal(csv.cells[1], SEASON);
            assert_int_equal(strtoll(csv.cells[2], NULL, 10), ls->limit_cny[row - 1]);
            assert_true(parus_cny_parse_fen(csv.cells[10], &fen));
            assert_int_equal(fen, ls->p10_fen[row - 1]);
            assert_string_equal(csv.cells[3], "CNY");
            /* what the limit was computed with: the crop table's SHA-256 (the calendar's model
             * version names it), no debts file */
            assert_int_equal(strlen(csv.cells[24]), 64);
            if (strncmp(csv.cells[18], "calendar:", 9) == 0)
                assert_string_equal(csv.cells[18] + 9, csv.cells[24]);
            assert_string_equal(csv.cells[25], "");
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

    free(run_expect(0, "'%s' --db '%s' -q export --season " SEASON " --parcels '%s'",
                    parus_test_bin(), g_db, path));
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

    out = run_expect(0, "'%s' --db '%s' query '%s' --season " SEASON " --json", parus_test_bin(),
                     g_db, first_parcel);
    assert_non_null(strstr(out, "\"assessed\":true"));
    assert_non_null(strstr(out, "\"crop_method\":\"calendar\""));
    assert_non_null(strstr(out, "\"limit\":{\"farmer_id\":"));
    free(out);
    out = run_expect(0, "'%s' --db '%s' query --farmer '%s' --season " SEASON, parus_test_bin(),
                     g_db, farmer);
    assert_non_null(strstr(out, first_parcel));
    assert_non_null(strstr(out, "CALENDAR_FALLBACK"));
    free(out);
    free(path);
}

/* The first parcel of the per-parcel export that has a farmer and a crop. */
static void first_assessed_parcel(char *parcel, size_t n)
{
    char *path = parus_test_path(g_dir, "first.csv");
    parus__csv csv;
    parus_error err;
    bool done = false;

    parcel[0] = '\0';
    free(run_expect(0, "'%s' --db '%s' -q export --season " SEASON " --parcels '%s'",
                    parus_test_bin(), g_db, path));
    assert_int_equal(parus__csv_open(&csv, path, &err), PARUS_OK);
    assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK); /* header */
    while (!parcel[0]) {
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        assert_false(done);
        if (csv.cells[1][0] && csv.cells[3][0])
            snprintf(parcel, n, "%s", csv.cells[0]);
    }
    parus__csv_close(&csv);
    free(path);
}

/* 0 when the two files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return parus_test_run(cmd, NULL, NULL);
}

/* No output may be the store, however spelled (./, a symbolic or hard link, its -wal), nor
 * another output of the same call: refused with exit 2 before anything is written. On the old
 * code `export --out STORE`, `--gpkg ./STORE` and `query --chart STORE` exited 0 and left a CSV,
 * a GeoPackage or a PNG where the store was. */
static void test_e2e__an_output_that_is_the_store_is_refused(void **state)
{
    char *copy = parus_test_path(g_dir, "store-copy.db");
    char *sym = parus_test_path(g_dir, "store-link.csv"),
         *hard = parus_test_path(g_dir, "hard.csv");
    char *dotted = parus_test_path(g_dir, "./parus.db"), *twice = parus_test_path(g_dir, "2.csv");
    char parcel[128], cmd[9000], *errs = NULL;
    const char *outs[7][2];
    size_t i;
    int rc;
    (void)state;

    first_assessed_parcel(parcel, sizeof parcel);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && ln -sf '%s' '%s' && ln -f '%s' '%s'", g_db, copy,
             g_db, sym, g_db, hard);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    outs[0][0] = "--out", outs[0][1] = g_db;
    outs[1][0] = "--gpkg", outs[1][1] = dotted;
    outs[2][0] = "--parcels", outs[2][1] = sym;
    outs[3][0] = "--gpkg", outs[3][1] = hard;
    outs[4][0] = "--chart", outs[4][1] = g_db;
    outs[5][0] = "--chart", outs[5][1] = sym;
    outs[6][0] = "--out", outs[6][1] = NULL; /* the store's write-ahead log, below */
    for (i = 0; i < 7; i++) {
        char wal[4200];
        const char *o = outs[i][1];
        if (!o) {
            snprintf(wal, sizeof wal, "%s-wal", g_db);
            o = wal;
        }
        if (strcmp(outs[i][0], "--chart") == 0)
            snprintf(cmd, sizeof cmd,
                     "'%s' --db '%s' -q query '%s' --season " SEASON " --chart '%s'",
                     parus_test_bin(), g_db, parcel, o);
        else
            snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q export --season " SEASON " %s '%s'",
                     parus_test_bin(), g_db, outs[i][0], o);
        rc = parus_test_run(cmd, NULL, &errs);
        if (rc != 2 || !strstr(errs, "refusing to write"))
            fail_msg("`%s` exited %d, expected 2 with a refusal; stderr:\n%s", cmd, rc, errs);
        free(errs);
        assert_int_equal(same_bytes(g_db, copy), 0);
    }
    /* two outputs of one call that are one file */
    snprintf(cmd, sizeof cmd,
             "'%s' --db '%s' -q export --season " SEASON " --out '%s' --parcels '%s'",
             parus_test_bin(), g_db, twice, twice);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 2);
    assert_int_equal(same_bytes(g_db, copy), 0);
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s' '%s'", copy, sym, hard);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    free(copy);
    free(sym);
    free(hard);
    free(dotted);
    free(twice);
}

/* The bank's files that the configuration names for every run (its debts, policy and crop table,
 * the nightly log) are inputs whichever command writes: an export, a chart or a model written
 * over one is refused (exit 2) and the file keeps its bytes. On the old code `parus --config C
 * export --out debts.csv` exited 0 and replaced the debts file with the export (whose farmer_id
 * and debt_cny columns even read as a debts file), and the policy and log the same way. */
static void test_e2e__an_output_that_is_a_configured_table_is_refused(void **state)
{
    static const char *const names[4] = {"cfg-debts.csv", "cfg-policy.ini", "cfg-crops.csv",
                                         "cfg-night.log"};
    static const char *const what[4] = {"[tables] debts", "[tables] policy", "[tables] crops",
                                        "[paths] log"};
    char *conf = parus_test_path(g_dir, "tables.ini"), *keep = parus_test_path(g_dir, "kept");
    char parcel[128], cmd[9000], text[2048], *errs = NULL, *cfg_db;
    size_t i;
    int rc;
    (void)state;

    first_assessed_parcel(parcel, sizeof parcel);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && printf 'farmer_id,debt_cny\\n' > cfg-debts.csv && cp '%s/data-samples/"
             "policy.ini' cfg-policy.ini && cp '%s/data-samples/crops.csv' cfg-crops.csv && "
             "echo 'time=x level=info event=start' > cfg-night.log && mkdir -p kept && "
             "cp cfg-* kept/",
             g_dir, parus_test_source_dir(), parus_test_source_dir());
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    snprintf(text, sizeof text,
             "[tables]\ndebts = cfg-debts.csv\npolicy = cfg-policy.ini\ncrops = cfg-crops.csv\n"
             "[paths]\nlog = cfg-night.log\n[season]\nwindow = " SEASON "\n");
    assert_int_equal(parus_test_write_file(conf, text, strlen(text)), 0);
    for (i = 0; i < 4; i++) {
        char *target = parus_test_path(g_dir, names[i]), *kept;
        const char *how[3] = {"export --out", "export --parcels", "query --chart"};
        size_t k;
        for (k = 0; k < 3; k++) {
            if (k == 2)
                snprintf(cmd, sizeof cmd, "'%s' --config '%s' --db '%s' -q query '%s' --chart '%s'",
                         parus_test_bin(), conf, g_db, parcel, target);
            else
                snprintf(cmd, sizeof cmd, "'%s' --config '%s' --db '%s' -q %s '%s'",
                         parus_test_bin(), conf, g_db, how[k], target);
            rc = parus_test_run(cmd, NULL, &errs);
            if (rc != 2 || !strstr(errs, "refusing to write") || !strstr(errs, what[i]))
                fail_msg("`%s` exited %d, expected 2 naming %s; stderr:\n%s", cmd, rc, what[i],
                         errs);
            free(errs);
            kept = parus_test_path(keep, names[i]);
            assert_int_equal(same_bytes(target, kept), 0);
            free(kept);
        }
        free(target);
    }
    /* the configured model: an export (or predictions, or a chart) over it is refused; only
     * train --out may replace it, which is how a retrained model is put in place */
    {
        char *mconf = parus_test_path(g_dir, "model.ini"), *target, *kept;
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && echo 'a model' > cfg-crop.model && cp cfg-crop.model kept/", g_dir);
        assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
        snprintf(text, sizeof text, "[season]\nwindow = " SEASON "\nmodel = cfg-crop.model\n");
        assert_int_equal(parus_test_write_file(mconf, text, strlen(text)), 0);
        target = parus_test_path(g_dir, "cfg-crop.model");
        snprintf(cmd, sizeof cmd, "'%s' --config '%s' --db '%s' -q export --out '%s'",
                 parus_test_bin(), mconf, g_db, target);
        rc = parus_test_run(cmd, NULL, &errs);
        if (rc != 2 || !strstr(errs, "refusing to write") || !strstr(errs, "[season] model"))
            fail_msg("`%s` exited %d, expected 2 naming [season] model; stderr:\n%s", cmd, rc,
                     errs);
        free(errs);
        kept = parus_test_path(keep, "cfg-crop.model");
        assert_int_equal(same_bytes(target, kept), 0);
        free(kept);
        free(target);
        free(mconf);
    }
    /* the nightly job appends to its own log (on a copy of the store): still accepted */
    cfg_db = parus_test_store_copy(g_db, g_dir, "cfg.db");
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/cfg-inbox' && '%s' --config '%s' --db '%s' nightly --inbox "
             "'%s/cfg-inbox' --no-assess",
             g_dir, parus_test_bin(), conf, cfg_db, g_dir);
    free(cfg_db);
    rc = parus_test_run(cmd, NULL, NULL);
    assert_true(rc == 0 || rc == 9);
    snprintf(text, sizeof text, "%s/cfg-night.log", g_dir);
    assert_int_not_equal(same_bytes(text, "/dev/null"), 0);
    snprintf(cmd, sizeof cmd, "grep -q 'event=summary' '%s/cfg-night.log'", g_dir);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    /* a table no configuration names but the season was assessed with (`assess --crops
     * crops.csv` by hand): known by its bytes, refused as well */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cp '%s/data-samples/crops.csv' hand-crops.csv && cp hand-crops.csv "
             "kept/ && cp '%s/data-samples/policy.ini' hand-policy.ini && cp hand-policy.ini kept/",
             g_dir, parus_test_source_dir(), parus_test_source_dir());
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    for (i = 0; i < 2; i++) {
        const char *name = i == 0 ? "hand-crops.csv" : "hand-policy.ini";
        char *target = parus_test_path(g_dir, name), *kept = parus_test_path(keep, name);
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q export --season " SEASON " %s '%s'",
                 parus_test_bin(), g_db, i == 0 ? "--out" : "--parcels", target);
        rc = parus_test_run(cmd, NULL, &errs);
        if (rc != 2 || !strstr(errs, i == 0 ? "holds the crop table" : "holds the policy"))
            fail_msg("`%s` exited %d, expected 2; stderr:\n%s", cmd, rc, errs);
        free(errs);
        assert_int_equal(same_bytes(target, kept), 0);
        free(target);
        free(kept);
    }
    free(conf);
    free(keep);
}

/* A write that fails part way (the file size limit stands in for a full disk: write(2) fails with
 * EFBIG as it would with ENOSPC) leaves each previous output byte-identical and no temporary file
 * behind. On the old code the CSV and GeoPackage kept their old bytes only because of their .part
 * names, and the chart was truncated in place. */
static void test_e2e__a_failed_write_keeps_the_previous_file(void **state)
{
    static const char *const names[] = {"old.csv", "old-parcels.csv", "old.gpkg", "old.png"};
    char *dir = parus_test_path(g_dir, "failed-write"), *path[4], *keep[4];
    char parcel[128], cmd[9000], *errs = NULL, *left = NULL;
    parus_store *holder;
    parus_error err;
    size_t i;
    int rc;
    (void)state;

    first_assessed_parcel(parcel, sizeof parcel);
    /* an open connection keeps the store's -shm in place, so that the limited commands below
     * need not create it (it is bigger than the limit) */
    assert_int_equal(parus_store_open_existing(g_db, &holder, &err), PARUS_OK);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    for (i = 0; i < 4; i++) {
        char text[64];
        path[i] = parus_test_path(dir, names[i]);
        keep[i] = parus_test_path(g_dir, names[i]);
        snprintf(text, sizeof text, "the previous %s\n", names[i]);
        assert_int_equal(parus_test_write_file(path[i], text, strlen(text)), 0);
        assert_int_equal(parus_test_write_file(keep[i], text, strlen(text)), 0);
    }
    for (i = 0; i < 4; i++) {
        const char *opt = i == 0 ? "--out" : i == 1 ? "--parcels" : "--gpkg";
        if (i < 3)
            snprintf(cmd, sizeof cmd,
                     "trap '' XFSZ; ulimit -f 4; '%s' --db '%s' -q export --season " SEASON
                     " %s '%s'",
                     parus_test_bin(), g_db, opt, path[i]);
        else
            snprintf(cmd, sizeof cmd,
                     "trap '' XFSZ; ulimit -f 4; '%s' --db '%s' -q query '%s' --season " SEASON
                     " --chart '%s' > /dev/null",
                     parus_test_bin(), g_db, parcel, path[i]);
        rc = parus_test_run(cmd, NULL, &errs);
        if (rc != 3)
            fail_msg("`%s` exited %d, expected 3; stderr:\n%s", cmd, rc, errs);
        free(errs);
        if (same_bytes(path[i], keep[i]) != 0)
            fail_msg("`%s` changed '%s'", cmd, path[i]);
    }
    parus_store_close(holder);
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c part", dir);
    parus_test_run(cmd, &left, NULL);
    assert_string_equal(left, "0\n");
    free(left);
    for (i = 0; i < 4; i++) {
        free(path[i]);
        free(keep[i]);
    }
    free(dir);
}

/* ---- a registry with the mistakes real ones have (issue 10) ---- */

/* The generator's registry rewritten through OGR: parcel `bad` with one vertex's longitude missing
 * its leading digit (114.5 -> 14.5), parcel `moved` shifted by `shift_deg` of longitude, and,
 * when `twin` is set, the land of parcel `twin` registered again as parcel TWIN of farmer F-TWIN.
 */
static void write_registry(const char *src, const char *dst, const char *bad, const char *twin,
                           const char *moved, double shift_deg)
{
    GDALDatasetH in, out;
    OGRLayerH li, lo;
    OGRFeatureDefnH di;
    OGRFeatureH f;
    int i;
    GDALAllRegister();
    in = GDALOpenEx(src, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(in);
    out = GDALCreate(GDALGetDriverByName("GeoJSON"), dst, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(out);
    li = GDALDatasetGetLayer(in, 0);
    lo = GDALDatasetCreateLayer(out, "parcels", OGR_L_GetSpatialRef(li), wkbUnknown, NULL);
    assert_non_null(lo);
    di = OGR_L_GetLayerDefn(li);
    for (i = 0; i < OGR_FD_GetFieldCount(di); i++)
        assert_int_equal(OGR_L_CreateField(lo, OGR_FD_GetFieldDefn(di, i), 1), OGRERR_NONE);
    OGR_L_ResetReading(li);
    while ((f = OGR_L_GetNextFeature(li)) != NULL) {
        const char *id = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "parcel_id"));
        OGRFeatureH g = OGR_F_Create(OGR_L_GetLayerDefn(lo));
        OGRGeometryH geom;
        assert_int_equal(OGR_F_SetFrom(g, f, 1), OGRERR_NONE);
        geom = OGR_F_GetGeometryRef(g);
        if (geom && strcmp(id, bad) == 0) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(geom, 0);
            if (wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbMultiPolygon)
                ring = OGR_G_GetGeometryRef(ring, 0);
            OGR_G_SetPoint_2D(ring, 1, OGR_G_GetX(ring, 1) - 100.0, OGR_G_GetY(ring, 1));
        }
        if (geom && moved && strcmp(id, moved) == 0) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(geom, 0);
            int k;
            if (wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbMultiPolygon)
                ring = OGR_G_GetGeometryRef(ring, 0);
            for (k = 0; k < OGR_G_GetPointCount(ring); k++)
                OGR_G_SetPoint_2D(ring, k, OGR_G_GetX(ring, k) + shift_deg, OGR_G_GetY(ring, k));
        }
        assert_int_equal(OGR_L_CreateFeature(lo, g), OGRERR_NONE);
        if (twin && strcmp(id, twin) == 0) {
            OGR_F_SetFID(g, OGRNullFID);
            OGR_F_SetFieldString(g, OGR_F_GetFieldIndex(g, "parcel_id"), "TWIN");
            OGR_F_SetFieldString(g, OGR_F_GetFieldIndex(g, "farmer_id"), "F-TWIN");
            assert_int_equal(OGR_L_CreateFeature(lo, g), OGRERR_NONE);
        }
        OGR_F_Destroy(g);
        OGR_F_Destroy(f);
    }
    GDALClose(out);
    GDALClose(in);
}

/* The farmers' CSV row of `farmer`: its limit, reasons and overlap_held_cny cells. */
static bool farmer_row_of(const char *path, const char *farmer, long *limit_cny, char *reasons,
                          char *held)
{
    parus__csv csv;
    parus_error err;
    bool done = false, found = false;
    size_t i, c_limit = 0, c_reasons = 0, c_held = 0;
    assert_int_equal(parus__csv_open(&csv, path, &err), PARUS_OK);
    assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
    for (i = 0; i < csv.n_cells; i++) {
        if (strcmp(csv.cells[i], "limit_cny") == 0)
            c_limit = i;
        if (strcmp(csv.cells[i], "reasons") == 0)
            c_reasons = i;
        if (strcmp(csv.cells[i], "overlap_held_cny") == 0)
            c_held = i;
    }
    assert_true(c_limit && c_reasons && c_held);
    for (;;) {
        assert_int_equal(parus__csv_next(&csv, &done, &err), PARUS_OK);
        if (done)
            break;
        if (strcmp(csv.cells[0], farmer) == 0) {
            *limit_cny = strtol(csv.cells[c_limit], NULL, 10);
            snprintf(reasons, 256, "%s", csv.cells[c_reasons]);
            snprintf(held, 64, "%s", csv.cells[c_held]);
            found = true;
        }
    }
    parus__csv_close(&csv);
    return found;
}

static void test_e2e__registry_mistakes_are_not_lent_on(void **state)
{
    char *src = parus_test_path(g_dir, "scene/parcels.geojson");
    char *dir = parus_test_tmpdir("export-e2e-registry");
    char *db = parus_test_store(dir, "r.db"), *reg = parus_test_path(dir, "reg.geojson");
    char *reg2 = parus_test_path(dir, "reg2.geojson"), *csv = parus_test_path(dir, "f.csv");
    char bad[64] = "", bad_farmer[64] = "", twin[64] = "", twin_farmer[64] = "";
    char reasons[256], held[64], *out, *errs = NULL;
    char ids[64][64], farmers[64][64];
    GDALDatasetH in;
    OGRFeatureH f;
    size_t n = 0, i, k;
    long limit = -1;
    int rc;
    (void)state;

    /* bad: a parcel whose farmer has another; twin: a parcel of another farmer */
    GDALAllRegister();
    in = GDALOpenEx(src, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(in);
    while (n < 64 && (f = OGR_L_GetNextFeature(GDALDatasetGetLayer(in, 0))) != NULL) {
        snprintf(ids[n], 64, "%s", OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "parcel_id")));
        snprintf(farmers[n], 64, "%s",
                 OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "farmer_id")));
        OGR_F_Destroy(f);
        n++;
    }
    GDALClose(in);
    for (i = 0; i < n && !bad[0]; i++)
        for (k = i + 1; k < n && !bad[0]; k++)
            if (strcmp(farmers[i], farmers[k]) == 0) {
                snprintf(bad, sizeof bad, "%.60s", ids[i]);
                snprintf(bad_farmer, sizeof bad_farmer, "%.60s", farmers[i]);
            }
    for (i = n; i-- > 0 && !twin[0];)
        if (strcmp(farmers[i], bad_farmer) != 0) {
            snprintf(twin, sizeof twin, "%.60s", ids[i]);
            snprintf(twin_farmer, sizeof twin_farmer, "%.60s", farmers[i]);
        }
    assert_true(bad[0] && twin[0]);
    write_registry(src, reg, bad, twin, NULL, 0.0);

    /* the dropped digit is set aside with its reason; the twin is found at load */
    {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' parcels load '%s'", parus_test_bin(), db, reg);
        rc = parus_test_run(cmd, &out, &errs);
        assert_int_equal(rc, 8);
        assert_non_null(strstr(errs, bad));
        assert_non_null(strstr(errs, "above the largest plausible parcel"));
        assert_non_null(strstr(errs, "and 'TWIN' (farmer 'F-TWIN') overlap"));
        assert_non_null(strstr(out, "1 overlapping pair"));
        free(out);
        free(errs);
    }
    free(run_expect(6, "'%s' --db '%s' -q parcels show '%s'", parus_test_bin(), db, bad));
    free(run_expect(0, "'%s' --db '%s' -q ingest '%s'/scene/*.tif", parus_test_bin(), db, g_dir));
    free(run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --no-model", parus_test_bin(),
                    db));
    free(run_expect(0, "'%s' --db '%s' -q export --season " SEASON " --out '%s'", parus_test_bin(),
                    db, csv));

    /* the farmer of the bad parcel is lent on the rest, never the cap */
    assert_true(farmer_row_of(csv, bad_farmer, &limit, reasons, held));
    print_message("farmer %s without %s: limit %ld CNY (%s)\n", bad_farmer, bad, limit, reasons);
    assert_true(limit >= 0 && limit < 300000);
    /* both claims on the twin's land are held: OVERLAP, nothing lent on it */
    assert_true(farmer_row_of(csv, "F-TWIN", &limit, reasons, held));
    assert_int_equal(limit, 0);
    assert_non_null(strstr(reasons, "OVERLAP"));
    assert_true(held[0]);
    assert_true(farmer_row_of(csv, twin_farmer, &limit, reasons, held));
    assert_non_null(strstr(reasons, "OVERLAP"));
    out =
        run_expect(0, "'%s' --db '%s' query TWIN --season " SEASON " --json", parus_test_bin(), db);
    assert_non_null(strstr(out, "\"overlaps\":[{\"parcel_id\":\""));
    assert_non_null(strstr(out, twin));
    assert_non_null(strstr(out, "\"credit_value_fen\":0"));
    free(out);
    /* verify re-derives the limits with the overlaps as the assessment counted them (before it
     * left them out: an untouched store differed, exit 13, lending on the contested land) */
    out = run_expect(0, "'%s' --db '%s' verify --season " SEASON, parus_test_bin(), db);
    assert_non_null(strstr(out, " 0 differences"));
    free(out);

    /* the registry corrected, the twin's parcel redrawn: its old observations go, it is held
     * for want of evidence, and the others keep theirs */
    write_registry(src, reg2, "", NULL, twin, 0.00002);
    {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' parcels load '%s'", parus_test_bin(), db, reg2);
        rc = parus_test_run(cmd, &out, &errs);
        assert_int_equal(rc, 8); /* the generator's broken geometry, as at setup */
        assert_non_null(strstr(errs, "1 parcel of"));
        assert_non_null(strstr(errs, "changed shape"));
        /* TWIN is not in the corrected file: said, since it stays lent on */
        assert_non_null(strstr(errs, "1 parcel in the store is not in"));
        assert_non_null(strstr(errs, "a load never removes a parcel"));
        free(out);
        free(errs);
    }
    free(run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --no-model", parus_test_bin(),
                    db));
    out = run_expect(0, "'%s' --db '%s' query '%s' --season " SEASON " --json", parus_test_bin(),
                     db, twin);
    assert_non_null(strstr(out, "\"n_clear_obs\":0"));
    assert_non_null(strstr(out, "NO_CLEAR_OBSERVATION"));
    /* TWIN stays registered (a load never removes a parcel): still a claim on the land */
    assert_non_null(strstr(out, "\"overlaps\":[{\"parcel_id\":\"TWIN\""));
    free(out);
    /* the same file again changes nothing */
    out = run_expect(8, "'%s' --db '%s' parcels load '%s'", parus_test_bin(), db, reg2);
    assert_non_null(strstr(out, "0 updated"));
    free(out);

    free(src);
    free(db);
    free(reg);
    free(reg2);
    free(csv);
    parus_test_rmtree(dir);
    free(dir);
}

/* The readers open the store read-only: on a store in a directory that may not be written, as a
 * user who may only read it (`nobody` when the test runs as root; the test's own user otherwise,
 * when the permissions bind it), query, export, store info and tiles and parcels show answer
 * (exit 5 on the old code: SQLite could not create the store's -shm). With no -shm the store is
 * read as immutable and a note says so; a -wal without a -shm there is refused (exit 5), since
 * reading the main file alone would miss what the log holds. */
/* The k-th comma-separated cell of line (no quoting: ids and numbers only) into buf. */
static void cell_of(const char *line, size_t k, char *buf, size_t cap)
{
    const char *p = line, *e;
    size_t n;
    while (k-- > 0) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    e = p + strcspn(p, ",\n");
    n = (size_t)(e - p);
    assert_true(n < cap);
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static size_t column_of(const char *header, const char *name)
{
    char cell[64];
    size_t k;
    for (k = 0; k < 100; k++) {
        cell_of(header, k, cell, sizeof cell);
        if (strcmp(cell, name) == 0)
            return k;
    }
    fail_msg("no column '%s'", name);
    return 0;
}

struct first_point {
    int64_t tile_id;
    parus_observation obs;
    bool found;
};

static int keep_tile_point(const parus_series_point *pt, void *ctx)
{
    struct first_point *fp = ctx;
    if (pt->tile_id == fp->tile_id) {
        fp->obs = pt->obs;
        fp->found = true;
    }
    return 0;
}

/* `parus export --observations`: every observation of the window with every statistic the store
 * keeps, each equal (to the 1e-4 it is kept to) to what the store reads back; on a store whose
 * plain SQL shows only a few of them since schema 19, this is how an analyst gets the rest. */
static void test_e2e__observations_export_matches_the_store(void **state)
{
    char *csv = parus_test_path(g_dir, "obs.csv"), *text, *line, *header;
    char cell[512], parcel[64];
    const char *const names[] = {"ndvi_mean", "evi_max",      "nir_mean",
                                 "own_ndvi",  "veg_fraction", "own_veg_fraction"};
    size_t n_lines = 0, i, n_stored;
    struct first_point fp;
    parus_store *s;
    parus_error err;
    (void)state;

    free(run_expect(0,
                    "'%s' --db '%s' -q export --season " SEASON " --observations '%s' --lf "
                    "--no-bom",
                    parus_test_bin(), g_db, csv));
    text = run_expect(0, "cat '%s'", csv);
    assert_non_null(text);
    for (line = text; (line = strchr(line, '\n')); line++)
        n_lines++;
    n_stored = (size_t)parus_test_sql_count(g_db, "observations o JOIN tiles t ON t.id = o.tile_id "
                                                  "WHERE t.date BETWEEN '2024-03-01' AND "
                                                  "'2024-10-31'");
    assert_true(n_stored > 100);
    assert_int_equal(n_lines, n_stored + 1);
    header = text;
    assert_int_equal(column_of(header, "own_veg_fraction") + 2, column_of(header, "n_pure"));
    /* the first observation, against the store */
    line = strchr(text, '\n') + 1;
    cell_of(line, 0, parcel, sizeof parcel);
    cell_of(line, column_of(header, "tile_id"), cell, sizeof cell);
    memset(&fp, 0, sizeof fp);
    fp.tile_id = strtoll(cell, NULL, 10);
    assert_int_equal(parus_store_open_readonly(g_db, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_parcel_series(s, parcel, keep_tile_point, &fp, NULL, &err),
                     PARUS_OK);
    parus_store_close(s);
    assert_true(fp.found);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k;
        double want = NAN;
        for (k = 0; k < parus_observation_n_stats(); k++)
            if (strcmp(parus_observation_stat_name(k), names[i]) == 0)
                want = parus_observation_stat(&fp.obs, k);
        cell_of(line, column_of(header, names[i]), cell, sizeof cell);
        if (isnan(want))
            assert_string_equal(cell, "");
        else if (fabs(strtod(cell, NULL) - want) > 0.5e-4)
            fail_msg("%s of %s: '%s' in the CSV, %.6f in the store", names[i], parcel, cell, want);
    }
    free(text);
    /* a window with no observation: exit 6, no file */
    free(run_expect(6,
                    "'%s' --db '%s' -q export --season 2020-01-01/2020-12-31 --observations "
                    "'%s.none'",
                    parus_test_bin(), g_db, csv));
    snprintf(cell, sizeof cell, "%s.none", csv);
    assert_int_equal(access(cell, F_OK), -1);
    free(csv);
}

static void test_e2e__a_read_only_store_can_be_read(void **state)
{
    char *ro = parus_test_path(g_dir, "ro"), *db = parus_test_path(g_dir, "ro/parus.db");
    char parcel[128], cmd[9000], as_user[128] = "", *out = NULL, *errs = NULL;
    const char *readers[6];
    size_t i;
    int rc;
    (void)state;

    first_assessed_parcel(parcel, sizeof parcel);
    if (geteuid() == 0) {
        if (parus_test_run("command -v setpriv && id nobody", NULL, NULL) != 0) {
            fprintf(stderr, "read-only store: running as root without setpriv or a 'nobody' user: "
                            "the permissions would not bind\n");
            skip();
        }
        snprintf(as_user, sizeof as_user, "setpriv --reuid=nobody --regid=nogroup --clear-groups ");
    }
    snprintf(cmd, sizeof cmd,
             "mkdir '%s' && cp '%s' '%s' && chmod 0755 '%s' && chmod 0444 '%s' && chmod 0555 '%s'",
             ro, g_db, db, g_dir, db, ro);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    readers[0] = "query --season " SEASON " --json";
    readers[1] = "export --season " SEASON " --out -";
    readers[2] = "store info";
    readers[3] = "store tiles";
    readers[4] = "parcels show";
    readers[5] = "verify --season " SEASON;
    for (i = 0; i < 6; i++) {
        char args[512];
        bool with_id = i == 0 || i == 4;
        snprintf(args, sizeof args, "%s %s", readers[i], with_id ? parcel : "");
        snprintf(cmd, sizeof cmd, "%s'%s' --db '%s' %s", as_user, parus_test_bin(), db, args);
        rc = parus_test_run(cmd, &out, &errs);
        if (rc != 0)
            fail_msg("`%s` exited %d on a read-only store; stderr:\n%s", cmd, rc, errs);
        if (i == 0) {
            assert_non_null(strstr(out, "\"assessed\":true"));
            assert_non_null(strstr(errs, "read as an unchanging file"));
        }
        if (i == 1)
            assert_non_null(strstr(out, "farmer_id"));
        free(out);
        free(errs);
    }
    /* nothing was left beside the store */
    snprintf(cmd, sizeof cmd, "ls -A '%s'", ro);
    assert_int_equal(parus_test_run(cmd, &out, NULL), 0);
    assert_string_equal(out, "parus.db\n");
    free(out);

    /* a write-ahead log that cannot be indexed: refused, never read past */
    snprintf(cmd, sizeof cmd, "chmod 0755 '%s' && printf 'not empty' > '%s-wal' && chmod 0555 '%s'",
             ro, db, ro);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s'%s' --db '%s' store info", as_user, parus_test_bin(), db);
    rc = parus_test_run(cmd, NULL, &errs);
    if (rc != 5 || !strstr(errs, "write-ahead log"))
        fail_msg("`%s` exited %d, expected 5 naming the write-ahead log; stderr:\n%s", cmd, rc,
                 errs);
    free(errs);
    snprintf(cmd, sizeof cmd, "chmod 0755 '%s'", ro);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    free(ro);
    free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e__export_matches_the_assessment),
        cmocka_unit_test(test_e2e__query_a_parcel_and_its_farmer),
        cmocka_unit_test_sqlite_only(test_e2e__an_output_that_is_the_store_is_refused),
        cmocka_unit_test(test_e2e__an_output_that_is_a_configured_table_is_refused),
        cmocka_unit_test(test_e2e__a_failed_write_keeps_the_previous_file),
        cmocka_unit_test(test_e2e__registry_mistakes_are_not_lent_on),
        cmocka_unit_test_sqlite_only(test_e2e__a_read_only_store_can_be_read),
        cmocka_unit_test(test_e2e__observations_export_matches_the_store),
    };
    return cmocka_run_backend_group_tests(tests, setup, teardown);
}

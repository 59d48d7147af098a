/* test_crops.c - the crop table: the shipped default, every validation error with its file, line
 * and column, UTF-8 names, quoted fields with commas. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/crops.h"

#define HEADER                                                                                     \
    "code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"      \
    "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"               \
    "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg\n"
#define WHEAT                                                                                      \
    "winter_wheat,Winter wheat,冬小麦,annual,272,115,157,,,,0.18,0.85,130,650,76,31.04,2.4\n"

static void test_load__default_table(void **state)
{
    char path[4096];
    parus_crop_table t = {0};
    parus_error err;
    const parus_crop *c;
    size_t i, n_classes = 0;
    (void)state;

    snprintf(path, sizeof path, "%s/data-samples/crops.csv", parus_test_source_dir());
    assert_int_equal(parus_crop_table_load(path, &t, &err), PARUS_OK);
    assert_int_equal(t.n_crops, 17);
    for (i = 0; i < t.n_crops; i++) {
        const parus_crop *k = &t.crops[i];
        if (k->kind != PARUS_CROP_NONCROP)
            n_classes++;
        assert_true(k->ndvi_base <= k->ndvi_peak);
        assert_true(k->yield_min_kg_per_mu <= k->yield_max_kg_per_mu);
        assert_true(k->price_cny_per_kg >= 0);
    }
    assert_int_equal(n_classes, 16);

    c = parus_crop_table_find(&t, "winter_wheat");
    assert_non_null(c);
    assert_string_equal(c->name_zh, "冬小麦");
    assert_int_equal(c->kind, PARUS_CROP_ANNUAL);
    assert_int_equal(c->n_cycles, 1);
    assert_int_equal(c->cycle[0].sow_doy, 272);
    assert_int_equal(c->cycle[0].harvest_doy, 157);
    assert_close(c->price_cny_per_kg, 2.4, 1e-12, 0);
    /* the typical curve gives the typical yield: a + b * I within [min, max] */
    assert_true(c->yield_a_kg_per_mu + c->yield_b_kg_per_mu_per_ndvi * 9.8 > 370);

    assert_false(c->paddy);
    c = parus_crop_table_find(&t, "double_rice");
    assert_non_null(c);
    assert_int_equal(c->n_cycles, 2);
    assert_true(c->paddy); /* grown under water by design: never WATERLOGGING */
    assert_true(parus_crop_table_find(&t, "single_rice")->paddy);
    assert_string_equal(c->name_en, "Double-season rice, early and late");
    c = parus_crop_table_find(&t, "wheat_maize");
    assert_non_null(c);
    assert_int_equal(c->n_cycles, 2);
    c = parus_crop_table_find(&t, "greenhouse");
    assert_int_equal(c->kind, PARUS_CROP_COVERED);
    c = parus_crop_table_find(&t, "tea");
    assert_int_equal(c->kind, PARUS_CROP_PERENNIAL);
    c = parus_crop_table_find(&t, "fallow");
    assert_non_null(c);
    assert_int_equal(c->kind, PARUS_CROP_NONCROP);
    assert_int_equal(c->n_cycles, 0);
    assert_null(parus_crop_table_find(&t, "Winter_Wheat"));
    assert_null(parus_crop_table_find(&t, "no_such_crop"));
    assert_string_equal(parus_crop_kind_name(PARUS_CROP_COVERED), "covered");
    assert_string_equal(parus_crop_kind_name((parus_crop_kind)42), "unknown");
    parus_crop_table_release(&t);
    assert_null(t.crops);
    parus_crop_table_release(NULL);
}

/* Writes text to name in a fresh directory and loads it; returns the status and leaves the
 * message in err (which names the file). */
static parus_status load_text(const char *name, const char *text, parus_crop_table *t,
                              parus_error *err)
{
    char *dir = parus_test_tmpdir("crops");
    char *path = parus_test_path(dir, name);
    parus_status rc;
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    rc = parus_crop_table_load(path, t, err);
    if (rc != PARUS_OK)
        assert_non_null(strstr(err->msg, path));
    free(path);
    parus_test_rmtree(dir);
    free(dir);
    return rc;
}

static void test_load__quoted_fields_and_utf8(void **state)
{
    const char *text = HEADER WHEAT
        "\"maize_x\",\"Maize, \"\"hybrid\"\", late\",\"玉米，晚熟\",annual,130,204,254,,,,"
        "0.18,0.86,160,800,90,49.57,2.3\n"
        "\n"
        "tea,Tea,茶园,perennial,70,211,305,,,,0.50,0.80,20,120,-5,2.98,60\n";
    parus_crop_table t = {0};
    parus_error err;
    const parus_crop *c;
    (void)state;
    assert_int_equal(load_text("table.csv", text, &t, &err), PARUS_OK);
    assert_int_equal(t.n_crops, 3);
    c = parus_crop_table_find(&t, "maize_x");
    assert_non_null(c);
    assert_string_equal(c->name_en, "Maize, \"hybrid\", late");
    assert_string_equal(c->name_zh, "玉米，晚熟");
    assert_close(c->yield_b_kg_per_mu_per_ndvi, 49.57, 1e-12, 0);
    /* a negative intercept is a fitted line, not an error */
    assert_close(parus_crop_table_find(&t, "tea")->yield_a_kg_per_mu, -5, 0, 0);
    parus_crop_table_release(&t);

    /* a name that does not end in .csv, a UTF-8 byte order mark, CRLF lines, extra columns */
    assert_int_equal(load_text("table.txt",
                               "\xEF\xBB\xBF"
                               "note,source,variety,code,name_en,name_zh,kind,sow_doy,peak_doy,"
                               "harvest_doy,"
                               "sow2_doy,peak2_doy,harvest2_doy,ndvi_base,ndvi_peak,"
                               "yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
                               "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg\r\n"
                               "x,y,z,winter_wheat,Winter wheat,冬小麦,annual,272,115,157,,,,"
                               "0.18,0.85,130,650,76,31.04,2.4\r\n",
                               &t, &err),
                     PARUS_OK);
    assert_int_equal(t.n_crops, 1);
    assert_string_equal(t.crops[0].code, "winter_wheat");
    assert_string_equal(t.crops[0].name_zh, "冬小麦");
    parus_crop_table_release(&t);
}

static void test_load__errors_name_line_and_column(void **state)
{
    static const struct {
        const char *text;
        const char *needles[3];
    } cases[] = {
        {"code,name_en,name_zh,kind\nwheat,Wheat,小麦,annual\n",
         {"line 1", "missing column 'sow_doy'", NULL}},
        {HEADER WHEAT "maize,Maize,玉米,anual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"line 3", "column 'kind'", "unknown kind 'anual'"}},
        {HEADER "maize,Maize,玉米,annual,130,204,367,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"line 2", "column 'harvest_doy'", "outside 1..366"}},
        {HEADER "maize,Maize,玉米,annual,0,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"line 2", "column 'sow_doy'", "outside 1..366"}},
        {HEADER "maize,Maize,玉米,annual,130.5,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"column 'sow_doy'", "not a whole day of year", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,180,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"column 'peak2_doy'", "empty value", NULL}},
        {HEADER "maize,Maize,玉米,annual,,,,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"column 'sow_doy'", "empty value", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,-2.3\n",
         {"column 'price_cny_per_kg'", "negative", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,-1,800,90,49.57,2.3\n",
         {"column 'yield_min_kg_per_mu'", "negative", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,-1,2.3\n",
         {"column 'yield_b_kg_per_mu_per_ndvi'", "negative", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,900,800,90,49.57,2.3\n",
         {"line 2", "column 'yield_max_kg_per_mu'", "below yield_min"}},
        {HEADER WHEAT WHEAT, {"line 3", "column 'code'", "duplicate code winter_wheat"}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.86,0.86,160,800,90,49.57,2.3\n",
         {"column 'ndvi_peak'", "above its ndvi_base", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,1.2,160,800,90,49.57,2.3\n",
         {"column 'ndvi_peak'", "outside [-1, 1]", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2,3\n",
         {"line 2", "18 cells where the header has 17", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254\n", {"line 2", "7 cells", NULL}},
        /* physical lines: a blank line and a quoted value over two lines count */
        {HEADER WHEAT "\n\"multi\",\"Multi\nline\",多,annual,1,2,3,,,,0.1,0.2,0,0,0,0,0\n"
                      "bad,Bad,坏,annual,1,2,3,,,,0.1,0.2,0,0,0,0,-1\n",
         {"line 6", "column 'price_cny_per_kg'", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,abc,90,49.57,2.3\n",
         {"column 'yield_max_kg_per_mu'", "not a number: 'abc'", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,nan,160,800,90,49.57,2.3\n",
         {"column 'ndvi_peak'", "not a number", NULL}},
        {HEADER "Maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"column 'code'", "lower-case", NULL}},
        {HEADER "maize,Maize,\xD3\xF1\xC3\xD7,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,"
                "2.3\n",
         {"column 'name_zh'", "not UTF-8", NULL}},
        {HEADER "maize,,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"column 'name_en'", "empty value", NULL}},
        {HEADER, {"no crop rows", NULL, NULL}},
        {"", {"line 1", "missing column 'code'", NULL}},
        {"code,name_en,Code\n", {"line 1", "column 'code' twice", NULL}},
        {HEADER "\"maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.3\n",
         {"line 2", "quote", NULL}},
        {"code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"
         "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
         "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg,paddy\n"
         "rice,Rice,稻,annual,122,196,246,,,,0.12,0.85,170,800,94,54.93,2.8,yes\n",
         {"line 2", "column 'paddy'", "0 or 1"}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,1e300\n",
         {"column 'price_cny_per_kg'", "above 100000 CNY per kg", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,8e5,90,49.57,2.3\n",
         {"column 'yield_max_kg_per_mu'", "above 100000 kg per mu", NULL}},
        /* numbers as people write them, nothing strtod would also take */
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,0x2.8p0\n",
         {"column 'price_cny_per_kg'", "not a number: '0x2.8p0'", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,2.8e-400\n",
         {"column 'price_cny_per_kg'", "not a number: '2.8e-400'", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,1e999\n",
         {"column 'price_cny_per_kg'", "not a number", NULL}},
        {HEADER "maize,Maize,玉米,annual,130,204,254,,,,0.18,0.86,160,800,90,49.57,infinity\n",
         {"column 'price_cny_per_kg'", "not a number", NULL}},
        /* a column that looks like a slip for one of parus's would be ignored: refused */
        {"code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"
         "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
         "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg,yield_cv_typo\n"
         "rice,Rice,稻,annual,122,196,246,,,,0.12,0.85,170,800,94,54.93,2.8,0.05\n",
         {"line 1", "'yield_cv_typo'", "close to 'yield_cv'"}},
        {"code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"
         "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
         "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg,yeild_cv\n"
         "rice,Rice,稻,annual,122,196,246,,,,0.12,0.85,170,800,94,54.93,2.8,0.05\n",
         {"'yeild_cv'", "close to 'yield_cv'", NULL}},
        {"code,name_en,name_zh,kind,sow_doy,peak_doy,harvest_doy,sow2_doy,peak2_doy,harvest2_doy,"
         "ndvi_base,ndvi_peak,yield_min_kg_per_mu,yield_max_kg_per_mu,yield_a_kg_per_mu,"
         "yield_b_kg_per_mu_per_ndvi,price_cny_per_kg,price\n"
         "rice,Rice,稻,annual,122,196,246,,,,0.12,0.85,170,800,94,54.93,2.8,2.9\n",
         {"'price'", "close to 'price_cny_per_kg'", NULL}},
    };
    size_t i, j;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_crop_table t = {0};
        parus_error err;
        parus_status rc = load_text("bad.csv", cases[i].text, &t, &err);
        if (rc != PARUS_E_CONFIG)
            fail_msg("case %zu: status %d, message '%s'", i, (int)rc, err.msg);
        for (j = 0; j < 3 && cases[i].needles[j]; j++)
            if (!strstr(err.msg, cases[i].needles[j]))
                fail_msg("case %zu: '%s' not in '%s'", i, cases[i].needles[j], err.msg);
        assert_null(t.crops);
    }
}

/* A cell longer than the reader holds is refused, never read from its first 255 bytes (a price
 * of "2.4" followed by 300 zeros and "xyz" is not 2.4); a directory is not an empty table. */
static void test_load__long_cell_and_directory(void **state)
{
    char text[1024], *dir;
    parus_crop_table t = {0};
    parus_error err;
    int n;
    (void)state;
    n = snprintf(text, sizeof text,
                 HEADER "winter_wheat,Winter wheat,冬小麦,annual,272,115,157,,,,0.18,0.85,130,650,"
                        "76,31.04,2.4%0300dxyz\n",
                 0);
    assert_true(n > 300 && (size_t)n < sizeof text);
    assert_int_equal(load_text("long.csv", text, &t, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 2 column 'price_cny_per_kg'"));
    assert_non_null(strstr(err.msg, "too long"));
    assert_null(t.crops);
    /* 255 bytes still fit */
    n = snprintf(text, sizeof text,
                 HEADER "winter_wheat,Winter wheat,冬小麦,annual,272,115,157,,,,0.18,0.85,130,650,"
                        "76,31.04,2.4%0252d\n",
                 0);
    assert_int_equal(load_text("ok.csv", text, &t, &err), PARUS_OK);
    assert_close(t.crops[0].price_cny_per_kg, 2.4, 0, 0);
    parus_crop_table_release(&t);

    dir = parus_test_tmpdir("crops-dir");
    assert_int_equal(parus_crop_table_load(dir, &t, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, dir));
    assert_null(strstr(err.msg, "empty file"));
    assert_null(t.crops);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_load__missing_file_and_bad_arguments(void **state)
{
    parus_crop_table t = {0};
    parus_error err;
    (void)state;
    assert_int_equal(parus_crop_table_load("/nonexistent/crops.csv", &t, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/crops.csv"));
    assert_int_equal(parus_crop_table_load(NULL, &t, &err), PARUS_E_INVALID);
    assert_null(t.crops);
}

static void load_default(parus_crop_table *t)
{
    char path[4096];
    parus_error err;
    snprintf(path, sizeof path, "%s/data-samples/crops.csv", parus_test_source_dir());
    if (parus_crop_table_load(path, t, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
}

/* The day of year (1..365) where the curve is highest, and that value. */
static int curve_max(const parus_crop *c, int from, int to, double *value)
{
    int d, best = from;
    *value = -INFINITY;
    for (d = from; d <= to; d++) {
        double v = parus_crop_expected_ndvi(c, d);
        if (v > *value) {
            *value = v;
            best = d;
        }
    }
    return best;
}

static void test_expected_ndvi__base_off_season_peak_at_peak_doy(void **state)
{
    parus_crop_table t = {0};
    size_t i;
    int j;
    (void)state;
    load_default(&t);
    for (i = 0; i < t.n_crops; i++) {
        const parus_crop *c = &t.crops[i];
        for (j = 0; j < c->n_cycles; j++) {
            int p = c->cycle[j].peak_doy, best;
            double v;
            /* ndvi_peak on the peak day exactly; the curve's top up to 10 days before it, a hair
             * above (the two logistics' product peaks a little before their scaled value) */
            assert_close(parus_crop_expected_ndvi(c, p), c->ndvi_peak, 1e-12, 0);
            best = curve_max(c, p - 20 < 1 ? 1 : p - 20, p + 20 > 365 ? 365 : p + 20, &v);
            assert_true(best <= p && p - best <= 10);
            assert_true(v >= c->ndvi_peak && v <= c->ndvi_peak + 0.01);
        }
        for (j = 1; j <= 366; j++) {
            double v = parus_crop_expected_ndvi(c, j);
            assert_true(v >= c->ndvi_base - 1e-12 && v <= c->ndvi_peak + 0.01);
        }
    }
    /* annual crops sit at their base off season */
    assert_close(parus_crop_expected_ndvi(parus_crop_table_find(&t, "summer_maize"), 100), 0.18,
                 1e-3, 0);
    assert_close(parus_crop_expected_ndvi(parus_crop_table_find(&t, "summer_maize"), 300), 0.18,
                 1e-3, 0);
    assert_close(parus_crop_expected_ndvi(parus_crop_table_find(&t, "spring_maize"), 280), 0.18,
                 1e-3, 0);
    /* double rice: two peaks with the paddy between them */
    {
        const parus_crop *c = parus_crop_table_find(&t, "double_rice");
        assert_close(parus_crop_expected_ndvi(c, 143), 0.82, 1e-12, 0);
        assert_close(parus_crop_expected_ndvi(c, 257), 0.82, 1e-12, 0);
        assert_true(parus_crop_expected_ndvi(c, 185) < 0.3);
    }
    /* a perennial is green all year with a winter dip; a greenhouse stays low; fallow carries
     * only a weed flush */
    {
        const parus_crop *tea = parus_crop_table_find(&t, "tea");
        const parus_crop *gh = parus_crop_table_find(&t, "greenhouse");
        const parus_crop *fallow = parus_crop_table_find(&t, "fallow");
        double v;
        for (j = 1; j <= 366; j++) {
            assert_true(parus_crop_expected_ndvi(tea, j) >= 0.5 - 1e-12);
            assert_true(parus_crop_expected_ndvi(gh, j) <= 0.35 + 0.01);
            assert_true(parus_crop_expected_ndvi(fallow, j) <= 0.30 + 0.01);
        }
        assert_true(parus_crop_expected_ndvi(tea, 15) < parus_crop_expected_ndvi(tea, 211) - 0.2);
        curve_max(fallow, 1, 366, &v);
        assert_close(v, 0.30, 0.01, 0);
        assert_close(parus_crop_expected_ndvi(fallow, 20), 0.15, 1e-3, 0);
    }
    assert_true(isnan(parus_crop_expected_ndvi(&t.crops[0], 0)));
    assert_true(isnan(parus_crop_expected_ndvi(&t.crops[0], 367)));
    assert_true(isnan(parus_crop_expected_ndvi(NULL, 100)));
    parus_crop_table_release(&t);
}

static void test_expected_ndvi__winter_wheat_wraps_the_year_end(void **state)
{
    parus_crop_table t = {0};
    const parus_crop *w, *r;
    (void)state;
    load_default(&t);
    w = parus_crop_table_find(&t, "winter_wheat");
    /* sown on day 272, dormant over winter, green-up in March, peak 115, harvest 157 */
    assert_close(parus_crop_expected_ndvi(w, 115), 0.85, 1e-12, 0);
    assert_close(parus_crop_expected_ndvi(w, 200), 0.18, 1e-3, 0);
    assert_close(parus_crop_expected_ndvi(w, 300), 0.18, 1e-3, 0);
    assert_true(parus_crop_expected_ndvi(w, 60) > 0.25 && parus_crop_expected_ndvi(w, 60) < 0.6);
    assert_true(parus_crop_expected_ndvi(w, 90) > parus_crop_expected_ndvi(w, 60));
    assert_true(parus_crop_expected_ndvi(w, 150) < parus_crop_expected_ndvi(w, 130));
    assert_true(parus_crop_expected_ndvi(w, 165) < 0.25);
    assert_close(parus_crop_expected_ndvi(w, 365), parus_crop_expected_ndvi(w, 1), 0.005, 0);
    /* rapeseed, sown on day 335, peaks on day 80 of the next year */
    r = parus_crop_table_find(&t, "rapeseed");
    assert_close(parus_crop_expected_ndvi(r, 80), 0.80, 1e-12, 0);
    assert_true(parus_crop_expected_ndvi(r, 20) > parus_crop_expected_ndvi(r, 340));
    assert_close(parus_crop_expected_ndvi(r, 200), 0.20, 1e-3, 0);
    parus_crop_table_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load__default_table),
        cmocka_unit_test(test_load__quoted_fields_and_utf8),
        cmocka_unit_test(test_load__errors_name_line_and_column),
        cmocka_unit_test(test_load__long_cell_and_directory),
        cmocka_unit_test(test_load__missing_file_and_bad_arguments),
        cmocka_unit_test(test_expected_ndvi__base_off_season_peak_at_peak_doy),
        cmocka_unit_test(test_expected_ndvi__winter_wheat_wraps_the_year_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

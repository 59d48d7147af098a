/* test_csvout.c - the export's CSV writer: exact bytes for hand cases, formula neutralisation of
 * text but not of numbers, exact money, refusal of bad UTF-8, write errors, and round trips through
 * a strict RFC 4180 reader (random cells with commas, quotes, CR, LF and Chinese) and through
 * GDAL's CSV driver. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>

#include "test_support.h"

#include "parus/csvout.h"

/* ---- a strict RFC 4180 reader, written from the RFC for these tests ---- */

typedef struct table {
    size_t n_rows;
    size_t n_cells[4096];
    char *cell[4096][16];
} table;

static void table_free(table *t)
{
    size_t r, c;
    for (r = 0; r < t->n_rows; r++)
        for (c = 0; c < t->n_cells[r]; c++)
            free(t->cell[r][c]);
    free(t);
}

/* Returns NULL on any deviation from RFC 4180 (a bare quote in an unquoted field, text after a
 * closing quote, an unterminated quote, a record end that is not CRLF / LF as asked). */
static table *read_csv(const char *s, size_t n, bool crlf)
{
    table *t = calloc(1, sizeof *t);
    size_t i = 0;
    char *field = malloc(n + 1);
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n) {
        size_t r = t->n_rows++;
        if (r >= 4096)
            goto bad;
        for (;;) {
            size_t len = 0;
            if (t->n_cells[r] >= 16)
                goto bad;
            if (s[i] == '"') {
                i++;
                for (;;) {
                    if (i >= n)
                        goto bad;
                    if (s[i] == '"') {
                        if (i + 1 < n && s[i + 1] == '"') {
                            field[len++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field[len++] = s[i++];
                }
            } else {
                while (i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
                    if (s[i] == '"')
                        goto bad;
                    field[len++] = s[i++];
                }
            }
            field[len] = '\0';
            t->cell[r][t->n_cells[r]++] = strdup(field);
            if (i < n && s[i] == ',') {
                i++;
                continue;
            }
            if (crlf && i + 1 < n && s[i] == '\r' && s[i + 1] == '\n') {
                i += 2;
                break;
            }
            if (!crlf && i < n && s[i] == '\n') {
                i++;
                break;
            }
            goto bad;
        }
    }
    free(field);
    return t;
bad:
    free(field);
    table_free(t);
    return NULL;
}

static parus_csvout *memory_writer(bool crlf, bool bom)
{
    parus_csvout_options opt;
    parus_csvout *w = NULL;
    parus_error err;
    parus_csvout_options_init(&opt);
    opt.crlf = crlf;
    opt.bom = bom;
    assert_int_equal(parus_csvout_new_memory(&opt, &w, &err), PARUS_OK);
    return w;
}

static void assert_bytes(parus_csvout *w, const char *expected)
{
    size_t len;
    const char *got = parus_csvout_memory(w, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(got, expected, len);
}

static void test_options__defaults_are_rfc_crlf_with_bom(void **state)
{
    parus_csvout_options opt;
    parus_csvout *w;
    parus_error err;
    (void)state;
    parus_csvout_options_init(&opt);
    assert_true(opt.crlf);
    assert_true(opt.bom);
    assert_int_equal(parus_csvout_new_memory(NULL, &w, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "a", &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    assert_bytes(w, "\xEF\xBB\xBF"
                    "a\r\n");
    parus_csvout_free(w);
}

static void test_put_text__quotes_only_when_needed(void **state)
{
    parus_csvout *w = memory_writer(true, false);
    parus_error err;
    (void)state;
    assert_int_equal(parus_csvout_put_text(w, "plain", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "a,b", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "say \"hi\"", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "two\nlines", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "cr\rhere", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, " padded ", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, NULL, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "张三,李四", &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    assert_bytes(w, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\" padded \",,,"
                    "\"张三,李四\"\r\n");
    parus_csvout_free(w);
}

static void test_put_text__neutralises_formulas(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"=1+1", "\"'=1+1\""},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"+86 138", "\"'+86 138\""},
        {"-5", "\"'-5\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"\rx", "\"'\rx\""},
        {"a=b", "a=b"},
        {"'quoted", "'quoted"},
        {"1-2", "1-2"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parus_csvout *w = memory_writer(false, false);
        parus_error err;
        char expected[256];
        assert_int_equal(parus_csvout_put_text(w, cases[i].in, &err), PARUS_OK);
        assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
        snprintf(expected, sizeof expected, "%s\n", cases[i].out);
        assert_bytes(w, expected);
        assert_int_equal(parus_csvout_is_formula(cases[i].in), cases[i].out[1] == '\'');
        parus_csvout_free(w);
    }
}

static void test_put_numbers__exact_and_never_neutralised(void **state)
{
    parus_csvout *w = memory_writer(false, false);
    parus_error err;
    (void)state;
    assert_int_equal(parus_csvout_put_int(w, -5, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_int(w, 300000, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_int(w, INT64_MIN, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, 123450, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, -1250, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, 5, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, -5, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, 0, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fen(w, INT64_MAX, &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, 2.345678, 2, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, -2.345678, 3, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, -0.001, 2, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, 0.5, 0, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, 12.0, 1, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_fixed(w, NAN, 2, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_empty(w, &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    assert_bytes(w, "-5,300000,-9223372036854775808,1234.50,-12.50,0.05,-0.05,0.00,"
                    "92233720368547758.07\n"
                    "2.35,-2.346,0.00,1,12.0,,\n");
    parus_csvout_free(w);
}

/* A value too large for put_fixed, in full and unneutralised: it reads back as the same double. */
static void test_put_real__numbers_in_full(void **state)
{
    parus_csvout *w = memory_writer(false, false);
    parus_error err;
    (void)state;
    assert_int_equal(parus_csvout_put_real(w, -1e30, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_real(w, 0.1, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_real(w, 123456789012345678.0, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_real(w, NAN, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_real(w, -INFINITY, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_real(w, INFINITY, &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    assert_bytes(w, "-1e+30,0.1,1.2345678901234568e+17,,\"'-inf\",inf\n");
    parus_csvout_free(w);
}

static void test_put_fixed__refuses_out_of_range(void **state)
{
    parus_csvout *w = memory_writer(false, false);
    parus_error err;
    (void)state;
    assert_int_equal(parus_csvout_put_fixed(w, 1.0, 10, &err), PARUS_E_INVALID);
    assert_int_equal(parus_csvout_put_fixed(w, INFINITY, 2, &err), PARUS_E_RANGE);
    /* the writer stays failed */
    assert_int_equal(parus_csvout_put_int(w, 1, &err), PARUS_E_RANGE);
    assert_int_equal(parus_csvout_close(w, &err), PARUS_E_RANGE);
}

static void test_put_text__refuses_bad_utf8_and_stays_failed(void **state)
{
    static const char *const bad[] = {
        "\xff",
        "abc\xc3",      /* truncated sequence */
        "\xc0\xaf",     /* overlong '/' */
        "\xed\xa0\x80", /* a surrogate */
        "\xd5\xc5\xc8\xfd" /* 张三 in GBK */,
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parus_csvout *w = memory_writer(false, false);
        parus_error err;
        assert_int_equal(parus_csvout_put_text(w, bad[i], &err), PARUS_E_INVALID);
        assert_non_null(strstr(err.msg, "UTF-8"));
        assert_int_equal(parus_csvout_put_text(w, "ok", &err), PARUS_E_INVALID);
        assert_int_equal(parus_csvout_end_row(w, &err), PARUS_E_INVALID);
        assert_int_equal(parus_csvout_close(w, &err), PARUS_E_INVALID);
    }
}

/* Random cells from fragments that stress quoting; every round trip gives the cells back, with a
 * single quote in front of the neutralised ones. */
static void test_round_trip__random_cells(void **state)
{
    static const char *const frag[] = {
        "a", "Zhang", "张三", "李四的地", ",",  "\"", "\r",  "\n", "\r\n",
        "=", "+",     "-",    "@",        "\t", " ",  "1.5", "'",  "合作社, \"东\"",
        "x", "",      "😀",
    };
    uint64_t seed = 0x9E3779B97F4A7C15u;
    int round;
    (void)state;
    for (round = 0; round < 200; round++) {
        bool crlf = round % 2 == 0;
        parus_csvout *w = memory_writer(crlf, round % 3 == 0);
        parus_error err;
        static char cells[64][8][128];
        size_t n_rows = 1 + (size_t)round % 50, r, c, len;
        table *t;
        const char *bytes;
        for (r = 0; r < n_rows; r++) {
            for (c = 0; c < 8; c++) {
                size_t k, n_frag;
                cells[r][c][0] = '\0';
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                n_frag = (size_t)(seed >> 60) % 6;
                for (k = 0; k < n_frag; k++) {
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    size_t used = strlen(cells[r][c]);
                    snprintf(cells[r][c] + used, sizeof cells[r][c] - used, "%s",
                             frag[(seed >> 33) % (sizeof frag / sizeof frag[0])]);
                }
                assert_int_equal(parus_csvout_put_text(w, cells[r][c], &err), PARUS_OK);
            }
            assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
        }
        bytes = parus_csvout_memory(w, &len);
        t = read_csv(bytes, len, crlf);
        assert_non_null(t);
        assert_int_equal(t->n_rows, n_rows);
        for (r = 0; r < n_rows; r++) {
            assert_int_equal(t->n_cells[r], 8);
            for (c = 0; c < 8; c++) {
                const char *want = cells[r][c];
                const char *got = t->cell[r][c];
                if (parus_csvout_is_formula(want)) {
                    assert_int_equal(got[0], '\'');
                    got++;
                }
                assert_string_equal(got, want);
            }
        }
        table_free(t);
        parus_csvout_free(w);
    }
}

/* An independent reader: GDAL's CSV driver (the one a QGIS user would open the file with). */
static void test_round_trip__gdal_csv_driver(void **state)
{
    static const char *const names[] = {"张三", "Li, Si", "say \"hi\"", "two\nlines",
                                        "=cmd|' /C calc'!A0"};
    char *dir = parus_test_tmpdir("csvout");
    char *path = parus_test_path(dir, "farmers.csv");
    parus_csvout *w;
    parus_error err;
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRFeatureH f;
    size_t i = 0;
    (void)state;

    assert_int_equal(parus_csvout_open(path, NULL, &w, &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "farmer_id", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "name", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "limit_cny", &err), PARUS_OK);
    assert_int_equal(parus_csvout_put_text(w, "value_cny", &err), PARUS_OK);
    assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    for (i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "F%zu", i);
        assert_int_equal(parus_csvout_put_text(w, id, &err), PARUS_OK);
        assert_int_equal(parus_csvout_put_text(w, names[i], &err), PARUS_OK);
        assert_int_equal(parus_csvout_put_int(w, (int64_t)i * 1000 - 1000, &err), PARUS_OK);
        assert_int_equal(parus_csvout_put_fen(w, (int64_t)i * 100050, &err), PARUS_OK);
        assert_int_equal(parus_csvout_end_row(w, &err), PARUS_OK);
    }
    assert_int_equal(parus_csvout_close(w, &err), PARUS_OK);

    GDALAllRegister();
    {
        const char *const open_opts[] = {"AUTODETECT_TYPE=NO", NULL};
        const char *const drivers[] = {"CSV", NULL};
        ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, open_opts, NULL);
    }
    assert_non_null(ds);
    layer = GDALDatasetGetLayer(ds, 0);
    assert_int_equal(OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer)), 4);
    assert_int_equal(OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), "farmer_id"), 0);
    i = 0;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        char want[64], money[32];
        assert_true(i < 5);
        if (i == 4)
            snprintf(want, sizeof want, "'%s", names[i]);
        else
            snprintf(want, sizeof want, "%s", names[i]);
        assert_string_equal(OGR_F_GetFieldAsString(f, 1), want);
        assert_int_equal(strtoll(OGR_F_GetFieldAsString(f, 2), NULL, 10),
                         (long long)i * 1000 - 1000);
        snprintf(money, sizeof money, "%zu.%02zu", i * 1000 + i / 2, (i * 50) % 100);
        assert_string_equal(OGR_F_GetFieldAsString(f, 3), money);
        OGR_F_Destroy(f);
        i++;
    }
    assert_int_equal(i, 5);
    GDALClose(ds);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__unwritable_path_names_it(void **state)
{
    parus_csvout *w = NULL;
    parus_error err;
    (void)state;
    assert_int_equal(parus_csvout_open("/nonexistent-dir/x.csv", NULL, &w, &err), PARUS_E_IO);
    assert_null(w);
    assert_non_null(strstr(err.msg, "'/nonexistent-dir/x.csv'"));
    assert_null(parus_csvout_memory(NULL, NULL));
    parus_csvout_free(NULL);
    assert_int_equal(parus_csvout_close(NULL, &err), PARUS_OK);
}

/* A full disk: /dev/full accepts the open and fails every write. */
static void test_close__reports_a_full_disk(void **state)
{
    parus_csvout *w = NULL;
    parus_error err;
    parus_status rc = PARUS_OK;
    int i;
    (void)state;
    if (parus_csvout_open("/dev/full", NULL, &w, &err) != PARUS_OK)
        skip();
    for (i = 0; i < 10000 && rc == PARUS_OK; i++) {
        rc = parus_csvout_put_text(w, "a fairly long cell to fill the stdio buffer quickly", &err);
        if (rc == PARUS_OK)
            rc = parus_csvout_end_row(w, &err);
    }
    rc = parus_csvout_close(w, &err);
    assert_int_equal(rc, PARUS_E_IO);
    assert_non_null(strstr(err.msg, "'/dev/full'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__defaults_are_rfc_crlf_with_bom),
        cmocka_unit_test(test_put_text__quotes_only_when_needed),
        cmocka_unit_test(test_put_text__neutralises_formulas),
        cmocka_unit_test(test_put_numbers__exact_and_never_neutralised),
        cmocka_unit_test(test_put_real__numbers_in_full),
        cmocka_unit_test(test_put_fixed__refuses_out_of_range),
        cmocka_unit_test(test_put_text__refuses_bad_utf8_and_stays_failed),
        cmocka_unit_test(test_round_trip__random_cells),
        cmocka_unit_test(test_round_trip__gdal_csv_driver),
        cmocka_unit_test(test_open__unwritable_path_names_it),
        cmocka_unit_test(test_close__reports_a_full_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

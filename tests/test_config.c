/* test_config.c - the configuration file: defaults, precedence, relative paths, strictness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/config.h"

static char *write_cfg(const char *dir, const char *text)
{
    char *path = parus_test_path(dir, "parus.ini");
    assert_int_equal(parus_test_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_init__defaults(void **state)
{
    parus_config cfg;
    (void)state;
    parus_config_init(&cfg);
    assert_string_equal(cfg.db, "parus.db");
    assert_string_equal(cfg.id_field, "parcel_id");
    assert_string_equal(cfg.farmer_field, "farmer_id");
    assert_string_equal(cfg.declared_area_field, "declared_area_mu");
    assert_int_equal(cfg.declared_area_unit, PARUS_AREA_UNIT_AUTO);
    assert_int_equal(cfg.threads, 0);
    assert_string_equal(cfg.inbox, "");
}

static void test_load__values_and_relative_paths(void **state)
{
    char *dir = parus_test_tmpdir("config");
    char *path, expect[4200];
    parus_config cfg;
    parus_error err;
    (void)state;
    path = write_cfg(dir, "; nightly job\n[store]\ndb = store/parus.db\n"
                          "[parcels]\nid_field = PID\ndeclared_area_field = area_ha\n"
                          "declared_area_unit = ha\nassume_crs = EPSG:4490\n"
                          "[raster]\nthreads = 2\nbands = red=3,nir=4\n"
                          "[paths]\ninbox = /srv/inbox\nquarantine = q\n"
                          "[nightly]\nsettle_s = 120\n");
    parus_config_init(&cfg);
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_OK);
    snprintf(expect, sizeof expect, "%s/store/parus.db", dir);
    assert_string_equal(cfg.db, expect);
    assert_string_equal(cfg.id_field, "PID");
    assert_string_equal(cfg.farmer_field, "farmer_id");
    assert_int_equal(cfg.declared_area_unit, PARUS_AREA_UNIT_HA);
    assert_string_equal(cfg.assume_crs, "EPSG:4490");
    assert_int_equal(cfg.threads, 2);
    assert_string_equal(cfg.bands, "red=3,nir=4");
    assert_string_equal(cfg.inbox, "/srv/inbox");
    assert_close(cfg.settle_s, 120.0, 0, 0);
    snprintf(expect, sizeof expect, "%s/q", dir);
    assert_string_equal(cfg.quarantine, expect);
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static void expect_config_error(const char *text, const char *needle, int line)
{
    char *dir = parus_test_tmpdir("config");
    char *path = write_cfg(dir, text);
    char where[64];
    parus_config cfg, before;
    parus_error err;

    parus_config_init(&cfg);
    before = cfg;
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, needle));
    assert_non_null(strstr(err.msg, path));
    snprintf(where, sizeof where, "line %d", line);
    assert_non_null(strstr(err.msg, where));
    assert_memory_equal(&cfg, &before, sizeof cfg); /* unchanged on error */
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_load__unknown_key_is_an_error(void **state)
{
    (void)state;
    expect_config_error("[store]\ndb = a.db\ndatabase = b.db\n", "unknown key 'database'", 3);
}

static void test_load__unknown_section_is_an_error(void **state)
{
    (void)state;
    expect_config_error("[stroe]\ndb = a.db\n", "section [stroe]", 2);
}

static void test_load__bad_values(void **state)
{
    (void)state;
    expect_config_error("[raster]\nthreads = two\n", "bad value 'two'", 2);
    expect_config_error("[raster]\nthreads = -1\n", "bad value '-1'", 2);
    expect_config_error("[parcels]\ndeclared_area_unit = acre\n", "unknown area unit 'acre'", 2);
    expect_config_error("[nightly]\nsettle_s = soon\n", "bad value 'soon'", 2);
    /* a season window that does not parse is a configuration error at load (exit 7), not a
     * usage error of whichever command reads it later */
    expect_config_error("[season]\nwindow = 2024-13-01/2024-10-31\n", "bad value '2024-13-01", 2);
    expect_config_error("[season]\nwindow = 2024-10-31/2024-03-01\n", "[season] window", 2);
}

/* A directory, a device or a line inih would cut is never read as (part of) a configuration:
 * on the old code a directory loaded as an empty configuration (every default), and a path of
 * 250 characters was cut at 200 and its rest read as another line. */
/* A key given twice (the last would win) or given with no value (a path that is "" would mean the
 * shipped sample table, or no debts) is refused: either could change a limit without a word. */
static void test_load__twice_or_empty_is_an_error(void **state)
{
    (void)state;
    expect_config_error("[tables]\npolicy = bank.ini\ncrops = c.csv\n[tables]\npolicy = p.ini\n",
                        "[tables] policy is given twice", 5);
    expect_config_error("[store]\ndb = a.db\ndb = b.db\n", "[store] db is given twice", 3);
    expect_config_error("[tables]\ncrops = c.csv\npolicy =\n", "[tables] policy has no value", 3);
    expect_config_error("[tables]\ndebts = \n", "[tables] debts has no value", 2);
    expect_config_error("[season]\nwindow =\n", "[season] window has no value", 2);
}

static void test_load__not_a_file_or_a_cut_line(void **state)
{
    char *dir = parus_test_tmpdir("config-strict");
    char text[600];
    parus_config cfg;
    parus_error err;
    char *path;
    (void)state;

    parus_config_init(&cfg);
    assert_int_equal(parus_config_load(dir, &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(parus_config_load("/dev/null", &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "not a regular file"));

    snprintf(text, sizeof text, "[store]\ndb = /srv/%0250d.db\n", 7);
    path = write_cfg(dir, text);
    parus_config_init(&cfg);
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "line 2: longer than"));
    assert_string_equal(cfg.db, "parus.db"); /* untouched */
    assert_int_equal(parus_test_write_file(path, "[store]\ndb = a\0b.db\n", 19), 0);
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "NUL"));
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

/* A configuration is read whole however long (its buffer grows from 4 KiB), up to 1 MiB. */
static void test_load__long_file_read_whole_up_to_1mib(void **state)
{
    char *dir = parus_test_tmpdir("config-long");
    const char *filler = "; a comment line of a long configuration, read and ignored\n";
    size_t n_filler = strlen(filler), n, at = 0;
    char *text, *path = parus_test_path(dir, "long.ini");
    parus_config cfg;
    parus_error err;
    (void)state;

    n = (1u << 20) + 256;
    text = malloc(n);
    assert_non_null(text);
    memcpy(text, "[store]\n", 8);
    at = 8;
    while (at + n_filler < 300000) {
        memcpy(text + at, filler, n_filler);
        at += n_filler;
    }
    memcpy(text + at, "db = /srv/long.db\n", 18);
    assert_int_equal(parus_test_write_file(path, text, at + 18), 0);
    parus_config_init(&cfg);
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_OK);
    assert_string_equal(cfg.db, "/srv/long.db");
    /* past 1 MiB: refused, nothing taken */
    while (at <= (1u << 20)) {
        memcpy(text + at, filler, n_filler);
        at += n_filler;
    }
    memcpy(text + at, "db = /srv/long.db\n", 18);
    assert_int_equal(parus_test_write_file(path, text, at + 18), 0);
    parus_config_init(&cfg);
    assert_int_equal(parus_config_load(path, &cfg, &err), PARUS_E_CONFIG);
    assert_non_null(strstr(err.msg, "longer than 1048576 bytes"));
    assert_string_equal(cfg.db, "parus.db");
    free(text);
    free(path);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_load__syntax_error(void **state)
{
    (void)state;
    expect_config_error("[store]\nthis line has no equals sign\n", "syntax error", 2);
}

static void test_load__missing_file(void **state)
{
    parus_config cfg;
    parus_error err;
    (void)state;
    parus_config_init(&cfg);
    assert_int_equal(parus_config_load("/nonexistent/parus.ini", &cfg, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/parus.ini"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init__defaults),
        cmocka_unit_test(test_load__values_and_relative_paths),
        cmocka_unit_test(test_load__unknown_key_is_an_error),
        cmocka_unit_test(test_load__unknown_section_is_an_error),
        cmocka_unit_test(test_load__bad_values),
        cmocka_unit_test(test_load__twice_or_empty_is_an_error),
        cmocka_unit_test(test_load__long_file_read_whole_up_to_1mib),
        cmocka_unit_test(test_load__syntax_error),
        cmocka_unit_test(test_load__missing_file),
        cmocka_unit_test(test_load__not_a_file_or_a_cut_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_cli.c - golden tests of the `parus` tool: arguments, what it prints, and its exit code
 * (docs/cli.md). Runs the built binary ($PARUS_BIN) in a scratch directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_support.h"

static const char *bin(void)
{
    const char *b = getenv("PARUS_BIN");
    return b && *b ? b : "parus";
}

/* Run `parus ARGS` with the shell; check the exit code; return stdout (stderr in *err_out). */
static char *run_expect(int want_rc, char **err_out, const char *fmt, ...)
{
    char args[8192], cmd[8400];
    char *out = NULL, *errs = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", bin(), args);
    rc = parus_test_run(cmd, &out, &errs);
    if (rc != want_rc)
        fail_msg("`parus %s` exited %d, expected %d\nstdout:\n%s\nstderr:\n%s", args, rc, want_rc,
                 out ? out : "", errs ? errs : "");
    if (err_out)
        *err_out = errs;
    else
        free(errs);
    return out;
}

static void expect_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("expected '%s' in:\n%s", needle, hay ? hay : "(null)");
}

static void test_help__every_command_to_stdout(void **state)
{
    static const char *const cmds[] = {
        "--help",        "info --help",   "parcels --help", "parcels load --help",
        "ingest --help", "store --help",  "nightly --help", "store merge --help",
        "train --help",  "predict --help"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *errs;
        char *out = run_expect(0, &errs, "%s", cmds[i]);
        expect_contains(out, "usage: parus");
        if (strncmp(cmds[i], "train", 5) == 0 || strncmp(cmds[i], "predict", 7) == 0) {
            expect_contains(out, "--csv FILE");
            expect_contains(out, "--class-column");
            expect_contains(out, "identifier");
        }
        if (strncmp(cmds[i], "train", 5) == 0)
            expect_contains(out, "--include-columns");
        assert_string_equal(errs, "");
        free(out);
        free(errs);
    }
}

static void test_version__prints_version(void **state)
{
    char *out = run_expect(0, NULL, "--version");
    (void)state;
    expect_contains(out, "parus 0.");
    free(out);
}

/* `parus` is the launcher: query runs in it, and it must load none of GDAL, PROJ, libtiff or
 * XGBoost, not even through another library (glibc's loader lists every library it would map);
 * every other command goes to parus-full with the same arguments and exit code. */
static void test_launcher__query_loads_no_gdal(void **state)
{
    static const char *const heavy[] = {"libgdal", "libproj", "libtiff", "libxgboost", "libgeos"};
    char cmd[4300], *out = NULL, *errs = NULL;
    size_t i;
    (void)state;
    snprintf(cmd, sizeof cmd, "LD_TRACE_LOADED_OBJECTS=1 '%s'", bin());
    assert_int_equal(parus_test_run(cmd, &out, &errs), 0);
    expect_contains(out, "libsqlite3");
    for (i = 0; i < sizeof heavy / sizeof heavy[0]; i++)
        if (strstr(out, heavy[i]))
            fail_msg("the parus launcher loads %s:\n%s", heavy[i], out);
    free(out);
    free(errs);

    /* a command of parus-full keeps its exit code and messages through the launcher */
    out = run_expect(0, NULL, "--help");
    expect_contains(out, "ingest");
    expect_contains(out, "query");
    free(out);
    free(run_expect(2, NULL, "-q frobnicate"));
    /* query answers in the launcher itself: its own misuse message */
    free(run_expect(2, NULL, "query"));
}

static void test_misuse__exit_2_on_stderr(void **state)
{
    static const char *const cases[][2] = {
        {"", "usage: parus"},
        {"frobnicate", "unknown command 'frobnicate'"},
        {"--bogus store info", "unknown option '--bogus'"},
        {"--db", "needs a value"},
        {"info", "no tile given"},
        {"info --frob x.tif", "unknown option '--frob'"},
        {"parcels", "no subcommand"},
        {"parcels load", "no parcels file given"},
        {"parcels load --id-field", "needs a value"},
        {"parcels load --declared-area-unit acre x.geojson", "unknown area unit 'acre'"},
        {"parcels show", "no parcel id given"},
        {"ingest", "no tile given"},
        {"store", "no subcommand"},
        {"store vacuum", "unknown subcommand 'vacuum'"},
        {"train --season 2024-03-01/2024-10-31 --vars ndvi,ndvl --out m",
         "unknown variable 'ndvl'"},
        {"train --csv x.csv --vars ndvi --out m", "--vars goes with --season"},
        {"train --season 2024-03-01/2024-10-31 --vars ndvi, --out m", "empty name at the end"},
        {"train --season 2024-03-01/2024-10-31 --vars ndvi,,evi --out m", "an empty or too long"},
        {"train --season 2024-03-01/2024-10-31 --vars ndvi,ndvi --out m", "appears twice"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *errs;
        char *out = run_expect(2, &errs, "%s", cases[i][0]);
        assert_string_equal(out, "");
        expect_contains(errs, cases[i][1]);
        free(out);
        free(errs);
    }
}

static void test_errors__documented_exit_codes(void **state)
{
    char *dir = parus_test_tmpdir("cli");
    char path[4200];
    char *errs, *out;
    (void)state;

    /* 3: an input that cannot be read */
    out = run_expect(3, &errs, "info '%s/absent.tif'", dir);
    expect_contains(errs, "absent.tif");
    free(out);
    free(errs);

    /* 4: an input that is not a raster */
    snprintf(path, sizeof path, "%s/notes.tif", dir);
    assert_int_equal(parus_test_write_file(path, "not a tiff\n", 11), 0);
    out = run_expect(4, &errs, "info '%s'", path);
    expect_contains(errs, "notes.tif");
    free(out);
    free(errs);

    /* 7: a configuration file with an unknown key */
    snprintf(path, sizeof path, "%s/bad.ini", dir);
    assert_int_equal(parus_test_write_file(path, "[store]\ndbase = x.db\n", 21), 0);
    out = run_expect(7, &errs, "--config '%s' store info", path);
    expect_contains(errs, "unknown key 'dbase'");
    free(out);
    free(errs);

    /* 6: the store asked about does not exist (and is not created by a read) */
    out = run_expect(6, &errs, "--db '%s/none.db' parcels show P1", dir);
    expect_contains(errs, "none.db");
    free(out);
    free(errs);
    snprintf(path, sizeof path, "%s/none.db", dir);
    {
        struct stat st;
        assert_int_not_equal(stat(path, &st), 0);
    }

    /* 5: a store that is not a database */
    snprintf(path, sizeof path, "%s/text.db", dir);
    assert_int_equal(parus_test_write_file(path, "hello, this is text, not SQLite\n", 32), 0);
    out = run_expect(5, &errs, "--db '%s' store info", path);
    expect_contains(errs, "text.db");
    free(out);
    free(errs);

    parus_test_rmtree(dir);
    free(dir);
}

/* The sample season: load parcels, ingest tiles, ingest again (nothing new), query. */
static void test_flow__sample_season(void **state)
{
    char *dir = parus_test_tmpdir("cli-flow");
    const char *src = parus_test_source_dir();
    char tiles[8192] = "";
    char db[4200], first_tile[4200] = "";
    char *out, *errs;
    int i, n = 0;
    (void)state;

    snprintf(db, sizeof db, "%s/parus.db", dir);
    for (i = 0; i < 64; i++) {
        char pat[4200];
        char *ls;
        snprintf(pat, sizeof pat, "ls '%s'/data-samples/season/*.tif 2>/dev/null | sed -n %dp", src,
                 i + 1);
        if (parus_test_run(pat, &ls, NULL) != 0 || !ls[0]) {
            free(ls);
            break;
        }
        ls[strcspn(ls, "\n")] = '\0';
        if (!first_tile[0])
            snprintf(first_tile, sizeof first_tile, "%s", ls);
        strncat(tiles, " '", sizeof tiles - strlen(tiles) - 1);
        strncat(tiles, ls, sizeof tiles - strlen(tiles) - 1);
        strncat(tiles, "'", sizeof tiles - strlen(tiles) - 1);
        free(ls);
        n++;
    }
    assert_true(n >= 10);

    /* the sample parcels include a few invalid ones on purpose: 8 = loaded, some set aside */
    out = run_expect(8, &errs, "--db '%s' parcels load '%s/data-samples/season/parcels.geojson'",
                     db, src);
    expect_contains(out, "loaded");
    expect_contains(errs, "set aside");
    free(out);
    free(errs);

    out = run_expect(0, NULL, "info '%s'", first_tile);
    expect_contains(out, "sentinel-2-l2a");
    expect_contains(out, "EPSG:");
    expect_contains(out, "scl");
    free(out);

    out = run_expect(0, NULL, "--db '%s' ingest %s", db, tiles);
    expect_contains(out, "stored as tile");
    free(out);
    out = run_expect(9, NULL, "--db '%s' ingest %s", db, tiles);
    expect_contains(out, "already stored");
    free(out);

    out = run_expect(0, NULL, "--db '%s' store info", db);
    expect_contains(out, "schema version:");
    {
        char want[64];
        snprintf(want, sizeof want, "tiles:             %d", n);
        expect_contains(out, want);
    }
    free(out);

    out = run_expect(0, NULL, "--db '%s' store upgrade", db);
    expect_contains(out, "schema version 21 -> 21");
    free(out);
    out = run_expect(0, NULL, "--db '%s' parcels show P000001 --json", db);
    expect_contains(out, "\"id\":\"P000001\"");
    expect_contains(out, "\"area_m2\":");
    free(out);
    out = run_expect(6, &errs, "--db '%s' parcels show NO_SUCH_PARCEL", db);
    expect_contains(errs, "NO_SUCH_PARCEL");
    free(out);
    free(errs);

    parus_test_rmtree(dir);
    free(dir);
}

/* parus info on real tiles reports the right bands, CRS, nodata and date. */
static void test_info__real_sentinel2_and_landsat(void **state)
{
    const char *data = parus_test_data_dir("s2-havelland");
    char *out;
    (void)state;
    if (!data)
        skip();
    out = run_expect(0, NULL,
                     "info --json '%s/s2-havelland/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif'",
                     data);
    expect_contains(out, "\"date\":\"2017-02-16\"");
    expect_contains(out, "\"epsg\":32633");
    expect_contains(out, "{\"role\":\"red\",\"name\":\"B04\"");
    expect_contains(out, "\"band\":3");
    expect_contains(out, "{\"role\":\"nir\",\"name\":\"B08\"");
    expect_contains(out, "\"nodata\":0");
    free(out);

    data = parus_test_data_dir("landsat8-alabama");
    if (!data)
        skip();
    out = run_expect(0, NULL, "info '%s/landsat8-alabama'", data);
    expect_contains(out, "2015-08-04");
    expect_contains(out, "EPSG:32616");
    expect_contains(out, "l8_B4.tif");
    expect_contains(out, "l8_B5.tif");
    expect_contains(out, "BQA");
    expect_contains(out, "reference:  HLS v2.0 band-pass, Landsat 8/9 OLI to Sentinel-2A MSI");
    free(out);
    out = run_expect(0, NULL, "info --native --json '%s/landsat8-alabama'", data);
    expect_contains(out, "\"harmonisation\":null");
    free(out);
}

/* The Landsat-8 Alabama scene with its BQA band, measured through a grid of parcels covering it:
 * the share of the parcels' weight that is not clear must be the scene's cloud share. */
static void test_ingest__real_landsat_cloud_share(void **state)
{
    const char *data = parus_test_data_dir("landsat8-alabama");
    char *dir, *out, *errs;
    char path[4200], db[4200], sql[4400];
    FILE *f;
    int r, c, k = 0;
    double cloud;
    (void)state;
    if (!data)
        skip();
    dir = parus_test_tmpdir("cli-landsat");
    snprintf(path, sizeof path, "%s/grid.geojson", dir);
    snprintf(db, sizeof db, "%s/parus.db", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[");
    /* 12 x 12 cells over lon -87.505..-87.295, lat 30.640..30.815 (the scene and a margin) */
    for (r = 0; r < 12; r++)
        for (c = 0; c < 12; c++) {
            double x0 = -87.505 + c * 0.0175, y0 = 30.640 + r * 0.014583;
            fprintf(f,
                    "%s{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"G%03d\"},"
                    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],"
                    "[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}",
                    k ? "," : "", k, x0, y0, x0 + 0.0175, y0, x0 + 0.0175, y0 + 0.014583, x0,
                    y0 + 0.014583, x0, y0);
            k++;
        }
    fprintf(f, "]}\n");
    fclose(f);
    /* the cells are 271 ha, above any farm parcel: a grid for measuring, not a registry */
    snprintf(sql, sizeof sql, "%s/grid.ini", dir);
    f = fopen(sql, "w");
    assert_non_null(f);
    fprintf(f, "[parcels]\nmax_area_ha = 100000\n");
    fclose(f);
    out = run_expect(0, NULL, "--config '%s' --db '%s' -q parcels load '%s'", sql, db, path);
    free(out);
    out = run_expect(0, NULL, "--db '%s' ingest '%s/landsat8-alabama'", db, data);
    expect_contains(out, "landsat-l1 2015-08-04");
    free(out);
    snprintf(sql, sizeof sql,
             "sqlite3 '%s' 'SELECT 1.0 - sum(w_valid_px) / sum(w_total_px) FROM observations'", db);
    assert_int_equal(parus_test_run(sql, &out, &errs), 0);
    cloud = strtod(out, NULL);
    fprintf(stderr, "landsat-8 alabama: %.2f %% of the parcels' area not clear (BQA)\n",
            100.0 * cloud);
    /* every pixel of the scene is inside exactly one cell: the same share as the whole scene,
     * 22776 of 378081 pixels not clear by the BQA rule (parus info --stats) */
    assert_close(cloud, 22776.0 / 378081.0, 1e-6, 0);
    free(out);
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
}

static const char *synth_bin(void)
{
    const char *b = getenv("PARUS_SYNTH");
    return b && *b ? b : "parus-synth";
}

/* A tile whose blocks do not decode: set aside with the file and block named, nothing stored. */
static void test_ingest__truncated_tile_leaves_nothing(void **state)
{
    char *dir = parus_test_tmpdir("cli-trunc");
    const char *src = parus_test_source_dir();
    char cmd[16000], db[4200], tile[4200];
    char *out, *errs;
    (void)state;
    snprintf(db, sizeof db, "%s/parus.db", dir);
    snprintf(tile, sizeof tile, "%s/S2B_MSIL2A_20240414_T50SKF.tif", dir);
    /* GDAL writes the directory of a compressed GeoTIFF at its end: cut, it does not open */
    snprintf(cmd, sizeof cmd,
             "cp '%s/data-samples/season/S2B_MSIL2A_20240414_T50SKF.tif' '%s' && "
             "truncate -s $(( $(stat -c %%s '%s') / 2 )) '%s'",
             src, tile, tile, tile);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    out = run_expect(8, NULL, "--db '%s' -q parcels load '%s/data-samples/season/parcels.geojson'",
                     db, src);
    free(out);
    out = run_expect(4, &errs, "--db '%s' ingest '%s'", db, tile);
    expect_contains(errs, "S2B_MSIL2A_20240414_T50SKF.tif");
    free(out);
    free(errs);
    /* a cloud-optimised copy has its directory first: it opens, and its last blocks fail */
    snprintf(tile, sizeof tile, "%s/S2B_MSIL2A_20240504_T50SKF.tif", dir);
    snprintf(cmd, sizeof cmd,
             "gdal_translate -q -of COG -co BLOCKSIZE=128 "
             "'%s/data-samples/season/S2B_MSIL2A_20240504_T50SKF.tif' '%s' && "
             "truncate -s $(( $(stat -c %%s '%s') * 6 / 10 )) '%s'",
             src, tile, tile, tile);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    out = run_expect(4, &errs, "--db '%s' ingest '%s'", db, tile);
    expect_contains(errs, "S2B_MSIL2A_20240504_T50SKF.tif");
    expect_contains(errs, "block");
    free(out);
    free(errs);
    out = run_expect(0, NULL, "--db '%s' store info", db);
    expect_contains(out, "tiles:             0");
    expect_contains(out, "observations:      0");
    free(out);
    parus_test_rmtree(dir);
    free(dir);
}

/* A tile far from every parcel, and parcels whose file claims metres but holds degrees: both
 * end with exit 11 and a message, never an empty success. */
static void test_ingest__no_overlap_is_an_answer_of_its_own(void **state)
{
    char *dir = parus_test_tmpdir("cli-overlap");
    const char *src = parus_test_source_dir();
    char cmd[8800], db[4200], db2[4200], path[4200];
    char *out, *errs;
    FILE *f;
    (void)state;
    snprintf(db, sizeof db, "%s/parus.db", dir);
    snprintf(db2, sizeof db2, "%s/wrong-crs.db", dir);
    snprintf(cmd, sizeof cmd,
             "'%s' --out '%s/far' --size 64 --dates 1 --origin 100.0,30.0 --no-truth --quiet "
             "--crops '%s/data-samples/crops.csv'",
             synth_bin(), dir, src);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    out = run_expect(8, NULL, "--db '%s' -q parcels load '%s/data-samples/season/parcels.geojson'",
                     db, src);
    free(out);
    out = run_expect(11, &errs, "--db '%s' ingest %s/far/*.tif", db, dir);
    expect_contains(errs, "covers no registered parcel");
    free(out);
    free(errs);

    /* lon/lat numbers in a file that says UTM 50N: they land near the equator, far from the
     * sample tiles */
    snprintf(path, sizeof path, "%s/degrees-as-metres.geojson", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
               "{\"name\":\"urn:ogc:def:crs:EPSG::32650\"}},\"features\":[{\"type\":\"Feature\","
               "\"properties\":{\"parcel_id\":\"X1\"},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[114.51,36.49],[114.52,36.49],[114.52,36.50],[114.51,36.50],"
               "[114.51,36.49]]]}}]}\n");
    fclose(f);
    out = run_expect(0, NULL, "--db '%s' -q parcels load '%s'", db2, path);
    free(out);
    out = run_expect(11, &errs,
                     "--db '%s' ingest '%s/data-samples/season/S2B_MSIL2A_20240414_T50SKF.tif'",
                     db2, src);
    expect_contains(errs, "covers no registered parcel");
    free(out);
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
}

/* Write a small labelled CSV: three classes with their own 8-step curves, plus noise. */
static void write_samples(const char *path, unsigned seed, bool drop_last_column)
{
    FILE *f = fopen(path, "w");
    unsigned s = seed;
    int i, k;
    assert_non_null(f);
    fprintf(f, "sample_id,label");
    for (k = 1; k <= (drop_last_column ? 7 : 8); k++)
        fprintf(f, ",ndvi_%d", k);
    fprintf(f, "\n");
    for (i = 0; i < 60; i++) {
        int cls = i % 3;
        fprintf(f, "S%d,%s", i, cls == 0 ? "maize" : cls == 1 ? "rice" : "fallow");
        for (k = 1; k <= (drop_last_column ? 7 : 8); k++) {
            double base = cls == 0 ? 0.2 + 0.08 * k : cls == 1 ? 0.8 - 0.07 * k : 0.15;
            s = s * 1103515245u + 12345u;
            fprintf(f, ",%.4f", base + 0.02 * ((double)(s >> 16 & 0x7fff) / 32768.0 - 0.5));
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

/* Train a model on one CSV, score it on another of the same kind, and refuse a CSV whose
 * features differ from the model's. */
static void test_train_predict__round_trip(void **state)
{
    char *dir = parus_test_tmpdir("cli-train");
    char train[4200], test[4200], other[4200], model[4200], preds[4200];
    char *out, *errs;
    (void)state;
    snprintf(train, sizeof train, "%s/train.csv", dir);
    snprintf(test, sizeof test, "%s/test.csv", dir);
    snprintf(other, sizeof other, "%s/other.csv", dir);
    snprintf(model, sizeof model, "%s/crops.model", dir);
    snprintf(preds, sizeof preds, "%s/preds.csv", dir);
    write_samples(train, 1, false);
    write_samples(test, 2, false);
    write_samples(other, 3, true);
    out = run_expect(0, NULL,
                     "train --csv '%s' --out '%s' --exclude-columns sample_id --rounds 30 "
                     "--phenology-band none",
                     train, model);
    expect_contains(out, "trained on 60 samples, 3 classes");
    free(out);
    out = run_expect(0, NULL,
                     "predict --csv '%s' --model '%s' --out '%s' --exclude-columns sample_id "
                     "--phenology-band none",
                     test, model, preds);
    expect_contains(out, "60 samples: overall accuracy 1.0000");
    free(out);
    {
        char cmd[4400], *lines;
        snprintf(cmd, sizeof cmd, "wc -l < '%s'", preds);
        assert_int_equal(parus_test_run(cmd, &lines, NULL), 0);
        assert_int_equal(strtol(lines, NULL, 10), 61);
        free(lines);
    }
    out = run_expect(7, &errs,
                     "predict --csv '%s' --model '%s' --exclude-columns sample_id "
                     "--phenology-band none",
                     other, model);
    expect_contains(errs, "the model was trained on 13");
    free(out);
    free(errs);
    out = run_expect(4, &errs, "predict --csv '%s' --model '%s'", test, train);
    free(out);
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
}

/* `train --out` never replaces what it reads or the store (however spelled), and a model that
 * cannot be written whole (the file size limit stands in for a full disk) leaves the previous
 * model byte-identical. On the old code `train --out STORE` exited 0 over the store and a failed
 * write deleted the previous model. The same for `predict --out`. */
static void test_train__outputs_never_destroy_inputs(void **state)
{
    char *dir = parus_test_tmpdir("cli-train-out");
    char train[4200], model[4200], keep[4200], db[4200], link[4200], preds[4200], cmd[30000];
    char *out, *errs, *left;
    const char *const refused[] = {"s.db", "./s.db", "link", "s.db-wal", "s.db.lock", "train.csv"};
    size_t i;
    int rc;
    (void)state;
    snprintf(train, sizeof train, "%s/train.csv", dir);
    snprintf(model, sizeof model, "%s/crops.model", dir);
    snprintf(keep, sizeof keep, "%s/keep.model", dir);
    snprintf(db, sizeof db, "%s/s.db", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(preds, sizeof preds, "%s/preds.csv", dir);
    write_samples(train, 1, false);
    assert_int_equal(parus_test_write_file(db, "the store\n", 10), 0);
    snprintf(cmd, sizeof cmd, "ln -s s.db '%s'", link);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    for (i = 0; i < sizeof refused / sizeof *refused; i++) {
        char target[4200];
        snprintf(target, sizeof target, "%s/%s", dir, refused[i]);
        out = run_expect(2, &errs,
                         "--db '%s' train --csv '%s' --out '%s' --exclude-columns sample_id "
                         "--rounds 5 --phenology-band none",
                         db, train, target);
        expect_contains(errs, "refusing to write");
        free(out);
        free(errs);
    }
    snprintf(cmd, sizeof cmd, "printf 'the store\\n' | cmp -s - '%s'", db);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);

    out =
        run_expect(0, NULL,
                   "--db '%s' train --csv '%s' --out '%s' --exclude-columns sample_id --rounds 30 "
                   "--phenology-band none",
                   db, train, model);
    free(out);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", model, keep);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    /* the model is tens of kilobytes; the limit is 2 KiB (dash) or 4 KiB (bash) */
    snprintf(cmd, sizeof cmd,
             "trap '' XFSZ; ulimit -f 4; '%s' --db '%s' train --csv '%s' --out '%s' "
             "--exclude-columns sample_id --rounds 30 --phenology-band none",
             bin(), db, train, model);
    rc = parus_test_run(cmd, NULL, &errs);
    if (rc != 3)
        fail_msg("`%s` exited %d, expected 3; stderr:\n%s", cmd, rc, errs);
    free(errs);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", model, keep);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);

    /* predict: never over its CSV or its model; a failed write keeps the previous list */
    out = run_expect(2, &errs,
                     "predict --csv '%s' --model '%s' --out '%s' --exclude-columns sample_id "
                     "--phenology-band none",
                     train, model, model);
    expect_contains(errs, "refusing to write");
    free(out);
    free(errs);
    {
        char big[6000];
        char big_cmd[30000];
        memset(big, 'x', sizeof big);
        big[sizeof big - 1] = '\n';
        assert_int_equal(parus_test_write_file(preds, big, sizeof big), 0);
        snprintf(big_cmd, sizeof big_cmd,
                 "cp '%s' '%s.keep' && trap '' XFSZ && ulimit -f 1 && '%s' predict --csv '%s' "
                 "--model '%s' --out '%s' --exclude-columns sample_id --phenology-band none",
                 preds, preds, bin(), train, model, preds);
        rc = parus_test_run(big_cmd, NULL, &errs);
        free(errs);
        assert_int_equal(rc, 3);
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s.keep'", preds, preds);
        assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    }
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c part", dir);
    parus_test_run(cmd, &left, NULL);
    assert_string_equal(left, "0\n");
    free(left);
    parus_test_rmtree(dir);
    free(dir);
}

/* A --config that is a directory (old code: an empty configuration, exit 0 or whatever the
 * defaults gave) or whose [season] window does not parse (old code: exit 2 from the command that
 * read it) is a configuration error, exit 7, naming the file. */
static void test_config__directory_and_bad_window_exit_7(void **state)
{
    char *dir = parus_test_tmpdir("cli-config");
    char ini[4200], *out, *errs;
    (void)state;
    out = run_expect(7, &errs, "--config '%s' --db '%s/s.db' store info", dir, dir);
    expect_contains(errs, "is a directory");
    free(out);
    free(errs);
    snprintf(ini, sizeof ini, "%s/parus.ini", dir);
    assert_int_equal(parus_test_write_file(ini, "[season]\nwindow = 2024-10-31/2024-03-01\n", 40),
                     0);
    out = run_expect(7, &errs, "--config '%s' --db '%s/s.db' export", ini, dir);
    expect_contains(errs, "[season] window");
    free(out);
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
}

/* Samples in farms named farmA..farmF (text folds), with an id column and coordinates that the
 * leak rules leave out; per-sample predictions; an output path that is the input is refused. */
static void test_evaluate__leak_rules_text_folds_predictions(void **state)
{
    char *dir = parus_test_tmpdir("cli-evaluate");
    char csv[4200], preds[4200], cmd[8600];
    char *out, *errs, *before, *after, *text;
    FILE *f;
    int i, k;
    unsigned s = 7;
    (void)state;
    snprintf(csv, sizeof csv, "%s/samples.csv", dir);
    snprintf(preds, sizeof preds, "%s/preds.csv", dir);
    f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "sample_id,lat,lon,farm,label,b1,b2\n");
    for (i = 0; i < 60; i++) {
        int cls = i % 3;
        fprintf(f, "%d,%.4f,%.4f,farm%c,%s", cls * 1000 + i, 36.5 + 0.001 * i, 114.5, 'A' + i / 10,
                cls == 0   ? "maize"
                : cls == 1 ? "rice"
                           : "fallow");
        for (k = 0; k < 2; k++) {
            s = s * 1103515245u + 12345u;
            fprintf(f, ",%.4f", 0.3 * cls + 0.5 * ((double)(s >> 16 & 0x7fff) / 32768.0));
        }
        fprintf(f, "\n");
    }
    fclose(f);
    out = run_expect(0, &errs,
                     "evaluate --csv '%s' --fold-column farm --rounds 10 --threads 1 "
                     "--phenology-band none --predictions '%s'",
                     csv, preds);
    expect_contains(out, "samples 60, features 2, classes 3");
    expect_contains(errs, "column 'sample_id' is not a feature: its name marks an identifier");
    expect_contains(errs, "column 'lat' is not a feature: its name marks a coordinate");
    expect_contains(errs, "column 'lon' is not a feature");
    free(out);
    free(errs);
    snprintf(cmd, sizeof cmd, "cat '%s'", preds);
    assert_int_equal(parus_test_run(cmd, &text, NULL), 0);
    expect_contains(text, "row,fold,class,predicted,correct\n1,farmA,maize,");
    expect_contains(text, "\n60,farmF,fallow,");
    free(text);
    /* forced in by name: the id is a feature again */
    out = run_expect(0, &errs,
                     "evaluate --csv '%s' --fold-column farm --rounds 10 --threads 1 "
                     "--phenology-band none --include-columns sample_id",
                     csv);
    expect_contains(out, "samples 60, features 3, classes 3");
    free(out);
    free(errs);
    /* the predictions may not replace the input; the input is left as it was */
    snprintf(cmd, sizeof cmd, "cat '%s'", csv);
    assert_int_equal(parus_test_run(cmd, &before, NULL), 0);
    out = run_expect(2, &errs,
                     "evaluate --csv '%s/./samples.csv' --fold-column farm "
                     "--predictions '%s'",
                     dir, csv);
    expect_contains(errs, "an input of this command");
    free(out);
    free(errs);
    assert_int_equal(parus_test_run(cmd, &after, NULL), 0);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* a name to include that is not a column */
    out =
        run_expect(4, &errs, "evaluate --csv '%s' --fold-column farm --include-columns nope", csv);
    expect_contains(errs, "no column 'nope'");
    free(out);
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help__every_command_to_stdout),
        cmocka_unit_test(test_version__prints_version),
        cmocka_unit_test(test_launcher__query_loads_no_gdal),
        cmocka_unit_test(test_misuse__exit_2_on_stderr),
        cmocka_unit_test(test_errors__documented_exit_codes),
        cmocka_unit_test(test_flow__sample_season),
        cmocka_unit_test(test_info__real_sentinel2_and_landsat),
        cmocka_unit_test(test_ingest__real_landsat_cloud_share),
        cmocka_unit_test(test_ingest__truncated_tile_leaves_nothing),
        cmocka_unit_test(test_ingest__no_overlap_is_an_answer_of_its_own),
        cmocka_unit_test(test_train_predict__round_trip),
        cmocka_unit_test(test_train__outputs_never_destroy_inputs),
        cmocka_unit_test(test_config__directory_and_bad_window_exit_7),
        cmocka_unit_test(test_evaluate__leak_rules_text_folds_predictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tilecheck.c - the tile checks (kernel.h, tilecheck.c): tiles that decode without an error
 * but cannot be true are refused by `parus ingest` and quarantined by `parus nightly`, with the
 * check named; the sample season's own tiles and the real scenes pass; the verdict is the same
 * for any thread count.
 *
 * Each bad tile is made from a sample tile (data-samples/season, 512 x 512 px, B04, B08, SCL) by
 * rewriting its pixels through GDAL: red and NIR exchanged, a scatter of impossible reflectances,
 * a window of random values under a clear mask, a window of constant values, a mask of classes
 * SCL does not have (what a damaged DEFLATE stream decodes to), a clear mask over nodata, a window
 * of red and NIR noise drawn band by band (refused) and a village-like window of two materials
 * mixed pixel by pixel (accepted), and a clean synthetic season's village.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>

#include "test_support.h"

static const char *bin(void)
{
    const char *b = getenv("PARUS_BIN");
    return b && *b ? b : "parus";
}

#define SAMPLE "S2B_MSIL2A_20240613_T50SKF.tif"

struct fixture {
    char *dir, *db, *parcels, *sample;
};

/* One store with the sample parcels for the whole group: refused tiles leave nothing in it. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char cmd[4096], *errs = NULL;
    int rc;
    f->dir = parus_test_tmpdir("tilecheck");
    f->db = parus_test_path(f->dir, "s.db");
    f->parcels = parus_test_path(parus_test_source_dir(), "data-samples/season/parcels.geojson");
    f->sample = parus_test_path(parus_test_source_dir(), "data-samples/season/" SAMPLE);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' parcels load '%s'", bin(), f->db, f->parcels);
    rc = parus_test_run(cmd, NULL, &errs);
    if (rc != 0 && rc != 8) /* 8: the sample holds a parcel that is set aside on purpose */
        fail_msg("cannot load the sample parcels (%d): %s", rc, errs ? errs : "");
    free(errs);
    GDALAllRegister();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    parus_test_rmtree(f->dir);
    free(f->dir);
    free(f->db);
    free(f->parcels);
    free(f->sample);
    free(f);
    return 0;
}

/* An uncompressed copy of the sample tile under the fixture's directory, by name. */
static char *copy_sample(const struct fixture *f, const char *name)
{
    char *path = parus_test_path(f->dir, name);
    GDALDatasetH src = GDALOpen(f->sample, GA_ReadOnly), dst;
    char *opts[] = {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", NULL};
    assert_non_null(src);
    dst = GDALCreateCopy(GDALGetDriverByName("GTiff"), path, src, FALSE, opts, NULL, NULL);
    assert_non_null(dst);
    GDALClose(dst);
    GDALClose(src);
    return path;
}

/* Band b (1: B04, 2: B08, 3: SCL) of a tile, 512 x 512 UInt16. */
static uint16_t *read_band(const char *path, int b)
{
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    uint16_t *v = malloc(512 * 512 * sizeof *v);
    assert_non_null(ds);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Read, 0, 0, 512, 512, v, 512, 512,
                                  GDT_UInt16, 0, 0),
                     CE_None);
    GDALClose(ds);
    return v;
}

static void write_band(const char *path, int b, const uint16_t *v)
{
    GDALDatasetH ds = GDALOpen(path, GA_Update);
    assert_non_null(ds);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Write, 0, 0, 512, 512, (void *)v,
                                  512, 512, GDT_UInt16, 0, 0),
                     CE_None);
    GDALClose(ds);
}

/* `parus ingest` of one tile; returns the exit code, stderr in *errs. */
static int ingest(const struct fixture *f, const char *tile, const char *extra, char **errs)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' ingest %s '%s'", bin(), f->db, extra ? extra : "",
             tile);
    return parus_test_run(cmd, NULL, errs);
}

/* `parus ingest` of a tile that passes, into a copy of the fixture's store: the cases that follow
 * ingest other copies of the same acquisition into the fixture's own store, which would refuse
 * them as the same acquisition stored twice before it judged their damage. */
static int ingest_apart(const struct fixture *f, const char *tile, char **errs)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s.apart' && '%s' --db '%s.apart' ingest '%s'; rc=$?; rm -f '%s.apart'*; "
             "exit $rc",
             f->db, f->db, bin(), f->db, tile, f->db);
    return parus_test_run(cmd, NULL, errs);
}

/* The tile is refused (exit 4, set aside), the message names the file and the check, and the
 * store holds no tile from it. */
static void expect_refused(const struct fixture *f, const char *tile, const char *check)
{
    char *errs = NULL, cmd[4096], *out = NULL;
    int rc = ingest(f, tile, NULL, &errs);
    if (rc != 4 || !errs || !strstr(errs, check) || !strstr(errs, tile))
        fail_msg("ingest of '%s' exited %d, expected 4 naming '%s':\n%s", tile, rc, check,
                 errs ? errs : "");
    free(errs);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' store tiles", bin(), f->db);
    assert_int_equal(parus_test_run(cmd, &out, NULL), 0);
    if (out && strstr(out, tile))
        fail_msg("refused tile '%s' is in the store:\n%s", tile, out);
    free(out);
}

/* Deterministic pseudo-random numbers for the damaged windows. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* ---- cases ---- */

static void test_ingest__sample_tile_passes(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "ok.tif"), *errs = NULL;
    int rc = ingest_apart(f, tile, &errs);
    if (rc != 0)
        fail_msg("the sample tile was refused (%d): %s", rc, errs ? errs : "");
    free(errs);
    free(tile);
}

static void test_ingest__swapped_red_nir_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "swapped.tif");
    uint16_t *red = read_band(tile, 1), *nir = read_band(tile, 2);
    write_band(tile, 1, nir);
    write_band(tile, 2, red);
    expect_refused(f, tile, "red-nir-swapped");
    free(red);
    free(nir);
    free(tile);
}

static void test_ingest__scattered_out_of_range_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "range.tif");
    uint16_t *red = read_band(tile, 1);
    size_t i;
    /* every 20th pixel: DN 40000, a reflectance of 3.9; too few per window for a damaged block,
     * too many for the tile */
    for (i = 0; i < 512 * 512; i += 20)
        red[i] = 40000;
    write_band(tile, 1, red);
    expect_refused(f, tile, "range:");
    free(red);
    free(tile);
}

/* A 128 x 128 window (rows and columns 128..255) rewritten by fill(band, pixel index). */
static void damage_window(const char *tile, int band, uint16_t (*fill)(uint32_t *, size_t))
{
    uint16_t *v = read_band(tile, band);
    uint32_t seed = 12345u + (uint32_t)band;
    size_t r, c;
    for (r = 128; r < 256; r++)
        for (c = 128; c < 256; c++)
            v[r * 512 + c] = fill(&seed, r * 512 + c);
    write_band(tile, band, v);
    free(v);
}

static uint16_t fill_random(uint32_t *s, size_t i)
{
    (void)i;
    return (uint16_t)(1000 + lcg(s) % 4000); /* reflectance 0..0.4: in range, plausible alone */
}

static uint16_t fill_red_const(uint32_t *s, size_t i)
{
    (void)s;
    (void)i;
    return 1800;
}

static uint16_t fill_nir_const(uint32_t *s, size_t i)
{
    (void)s;
    (void)i;
    return 3600;
}

static uint16_t fill_clear(uint32_t *s, size_t i)
{
    (void)s;
    (void)i;
    return 4; /* SCL vegetation */
}

static uint16_t fill_undefined_class(uint32_t *s, size_t i)
{
    (void)i;
    return (uint16_t)(12 + lcg(s) % 60000);
}

static void test_ingest__random_window_under_clear_mask_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "noise.tif");
    damage_window(tile, 1, fill_random);
    damage_window(tile, 2, fill_random);
    damage_window(tile, 3, fill_clear);
    expect_refused(f, tile, "damaged-block");
    free(tile);
}

/* Rows and columns 128..255 rewritten pixel by pixel from two spectra (reflectance, red and NIR)
 * and a draw u in [0, 1) per pixel: mixed, the pixel is (1 - t) a + t b with t = 0.15 + 0.5 u
 * (what tools/synth.c draws for a village: roofs and trees, pixel by pixel); not mixed, red and
 * NIR are drawn each on its own, red in [a_red, b_red), NIR in [a_nir, b_nir) (a damaged stream).
 * The mask says vegetation. */
static void pixel_noise_window(const char *tile, bool mixed, double a_red, double a_nir,
                               double b_red, double b_nir)
{
    uint16_t *red = read_band(tile, 1), *nir = read_band(tile, 2), *scl = read_band(tile, 3);
    uint32_t seed = 777u;
    size_t r, c;
    for (r = 128; r < 256; r++)
        for (c = 128; c < 256; c++) {
            double u = (double)(lcg(&seed) % 10000u) / 10000.0, t = 0.15 + 0.5 * u, v = u;
            double red_refl, nir_refl;
            if (!mixed)
                v = (double)(lcg(&seed) % 10000u) / 10000.0;
            red_refl = mixed ? (1.0 - t) * a_red + t * b_red : a_red + u * (b_red - a_red);
            nir_refl = mixed ? (1.0 - t) * a_nir + t * b_nir : a_nir + v * (b_nir - a_nir);
            /* L2A: DN = reflectance x 10000 + 1000 */
            red[r * 512 + c] = (uint16_t)(1000.0 + 10000.0 * red_refl + 0.5);
            nir[r * 512 + c] = (uint16_t)(1000.0 + 10000.0 * nir_refl + 0.5);
            scl[r * 512 + c] = 4;
        }
    write_band(tile, 1, red);
    write_band(tile, 2, nir);
    write_band(tile, 3, scl);
    free(red);
    free(nir);
    free(scl);
}

/* A village: every pixel a different mix of roof (red 0.17, NIR 0.22) and tree (0.03, 0.35).
 * NDVI is white noise (step/spread about 1.1), but red and NIR move together along the line
 * between the two materials. The old noise rule refused it. */
static void test_ingest__village_window_passes(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "village.tif"), *errs = NULL;
    int rc;
    pixel_noise_window(tile, true, 0.17, 0.22, 0.03, 0.35);
    rc = ingest_apart(f, tile, &errs);
    if (rc != 0)
        fail_msg("a village window was refused (%d): %s", rc, errs ? errs : "");
    free(errs);
    free(tile);
}

/* Damage that keeps every NDVI positive (red 0.01..0.08, NIR 0.1..0.45, each drawn on its own: no
 * bright pixel with NDVI < -0.3, so only the noise test can see it; mean NDVI step about 0.18). */
static void test_ingest__independent_band_noise_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "bandnoise.tif");
    pixel_noise_window(tile, false, 0.01, 0.1, 0.08, 0.45);
    expect_refused(f, tile, "NDVI is noise");
    free(tile);
}

/* A clean synthetic season that the old noise rule refused: seed 12 at 512 px and 24 dates, its
 * village at pixel row 384, col 384 (the 2 August and 22 August tiles; 6 of its 24 dates). Only
 * the bands the checks read, to keep it fast: the generator draws each band on its own, so B04,
 * B08 and SCL are those of the full tile. */
static void test_ingest__synthetic_village_tiles_pass(void **state)
{
    struct fixture *f = *state;
    char *dir = parus_test_path(f->dir, "seed12"), *db = parus_test_path(f->dir, "seed12.db");
    char cmd[8192], *errs = NULL;
    const char *synth = getenv("PARUS_SYNTH");
    int rc;
    snprintf(cmd, sizeof cmd,
             "'%s' --out '%s' --size 512 --dates 24 --seed 12 --bands B04,B08,SCL --no-truth "
             "--quiet --crops '%s/data-samples/crops.csv'",
             synth && *synth ? synth : "parus-synth", dir, parus_test_source_dir());
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' parcels load '%s/parcels.geojson'", bin(), db, dir);
    rc = parus_test_run(cmd, NULL, NULL);
    assert_true(rc == 0 || rc == 8);
    snprintf(cmd, sizeof cmd,
             "'%s' --db '%s' ingest '%s/S2B_MSIL2A_20240802_T50SKF.tif' "
             "'%s/S2B_MSIL2A_20240822_T50SKF.tif'",
             bin(), db, dir, dir);
    rc = parus_test_run(cmd, NULL, &errs);
    if (rc != 0)
        fail_msg("clean synthetic tiles were refused (%d): %s", rc, errs ? errs : "");
    free(errs);
    free(dir);
    free(db);
}

static void test_ingest__constant_window_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "constant.tif");
    damage_window(tile, 1, fill_red_const);
    damage_window(tile, 2, fill_nir_const);
    damage_window(tile, 3, fill_clear);
    expect_refused(f, tile, "constant red and NIR");
    free(tile);
}

static void test_ingest__undefined_mask_classes_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "scl.tif");
    damage_window(tile, 3, fill_undefined_class);
    expect_refused(f, tile, "mask values the mask cannot hold");
    free(tile);
}

static void test_ingest__clear_mask_over_nodata_refused(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "masknodata.tif");
    uint16_t *red = read_band(tile, 1), *nir = read_band(tile, 2), *scl = read_band(tile, 3);
    size_t i;
    /* the left half: no red or NIR value, yet the mask says vegetation */
    for (i = 0; i < 512 * 512; i++)
        if (i % 512 < 256) {
            red[i] = nir[i] = 0;
            scl[i] = 4;
        }
    write_band(tile, 1, red);
    write_band(tile, 2, nir);
    write_band(tile, 3, scl);
    expect_refused(f, tile, "mask-contradiction");
    free(red);
    free(nir);
    free(scl);
    free(tile);
}

static void test_ingest__verdict_same_for_any_thread_count(void **state)
{
    struct fixture *f = *state;
    char *tile = copy_sample(f, "threads.tif"), *e1 = NULL, *e2 = NULL, *e3 = NULL;
    damage_window(tile, 1, fill_random);
    damage_window(tile, 2, fill_random);
    damage_window(tile, 3, fill_clear);
    assert_int_equal(ingest(f, tile, "--threads 1", &e1), 4);
    assert_int_equal(ingest(f, tile, "--threads 2", &e2), 4);
    assert_int_equal(ingest(f, tile, "--threads 5", &e3), 4);
    assert_string_equal(e1, e2);
    assert_string_equal(e1, e3);
    free(e1);
    free(e2);
    free(e3);
    free(tile);
}

static void test_nightly__implausible_tile_quarantined_with_reason(void **state)
{
    struct fixture *f = *state;
    char *inbox = parus_test_path(f->dir, "inbox"), *quar = parus_test_path(f->dir, "quar");
    char *done = parus_test_path(f->dir, "done"), cmd[8192], *errs = NULL, *reason = NULL;
    char *tile, path[4096];
    uint16_t *red, *nir;
    int rc;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", inbox);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    tile = copy_sample(f, "inbox/" SAMPLE);
    red = read_band(tile, 1);
    nir = read_band(tile, 2);
    write_band(tile, 1, nir);
    write_band(tile, 2, red);
    snprintf(
        cmd, sizeof cmd,
        "'%s' --db '%s' nightly --inbox '%s' --done '%s' --quarantine '%s' --settle 0 --no-assess",
        bin(), f->db, inbox, done, quar);
    rc = parus_test_run(cmd, NULL, &errs);
    if (rc != 8 && rc != 4)
        fail_msg("nightly exited %d:\n%s", rc, errs ? errs : "");
    snprintf(path, sizeof path, "cat '%s/" SAMPLE ".reason'", quar);
    assert_int_equal(parus_test_run(path, &reason, NULL), 0);
    if (!reason || !strstr(reason, "red-nir-swapped"))
        fail_msg("reason file does not name the check:\n%s\nlog:\n%s", reason ? reason : "",
                 errs ? errs : "");
    free(reason);
    free(errs);
    free(red);
    free(nir);
    free(tile);
    free(inbox);
    free(quar);
    free(done);
}

/* ---- real scenes: each passes as it is and is refused with red and NIR exchanged ---- */

/* A store with one parcel over the middle of the tile's footprint, inset by `inset` of each side
 * (0.03: nearly all of it; 0.3: the middle 16 %, enough for the big scenes and five times
 * cheaper under the sanitizers). */
static void whole_tile_store(const char *dir, const char *db, const char *tile_args, double inset)
{
    char cmd[16384], *out = NULL, gj[4096], ini[4096];
    double lon0, lat0, lon1, lat1, dx, dy;
    const char *p;
    FILE *fp;
    if (strncmp(tile_args, "--no-cloud-mask ", 16) == 0) /* ingest's word, not info's */
        tile_args += 16;
    snprintf(cmd, sizeof cmd, "'%s' info --json %s", bin(), tile_args);
    assert_int_equal(parus_test_run(cmd, &out, NULL), 0);
    p = out ? strstr(out, "\"footprint_deg\":[") : NULL;
    assert_non_null(p);
    assert_int_equal(sscanf(p + 17, "%lf,%lf,%lf,%lf", &lon0, &lat0, &lon1, &lat1), 4);
    free(out);
    dx = (lon1 - lon0) * inset;
    dy = (lat1 - lat0) * inset;
    snprintf(gj, sizeof gj, "%s/whole.geojson", dir);
    fp = fopen(gj, "w");
    assert_non_null(fp);
    fprintf(
        fp,
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"parcel_id\":\"W\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.9f,%.9f],"
        "[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f]]]}}]}\n",
        lon0 + dx, lat0 + dy, lon1 - dx, lat0 + dy, lon1 - dx, lat1 - dy, lon0 + dx, lat1 - dy,
        lon0 + dx, lat0 + dy);
    fclose(fp);
    /* one parcel over most of a scene is far above any smallholder's: the load is told so */
    snprintf(ini, sizeof ini, "%s/whole.ini", dir);
    fp = fopen(ini, "w");
    assert_non_null(fp);
    fprintf(fp, "[parcels]\nmax_area_ha = 100000000\n");
    fclose(fp);
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' --db '%s' parcels load '%s'", bin(), ini, db, gj);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
}

static int ingest_args(const char *db, const char *args, char **errs)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' ingest %s", bin(), db, args);
    return parus_test_run(cmd, NULL, errs);
}

static void real_scene(const char *tag, const char *args, const char *swapped_args, double inset)
{
    char *dir = parus_test_tmpdir(tag), *db = parus_test_path(dir, "s.db"), *errs = NULL;
    int rc;
    whole_tile_store(dir, db, args, inset);
    /* the swapped scene first: refused, it leaves nothing that would make the real one known */
    rc = ingest_args(db, swapped_args, &errs);
    if (rc != 4 || !errs || !strstr(errs, "red-nir-swapped"))
        fail_msg("%s: the swapped scene was not refused (%d): %s", tag, rc, errs ? errs : "");
    free(errs);
    errs = NULL;
    rc = ingest_args(db, args, &errs);
    if (rc != 0)
        fail_msg("%s: the real scene was refused (%d): %s", tag, rc, errs ? errs : "");
    free(errs);
    parus_test_rmtree(dir);
    free(dir);
    free(db);
}

static void test_real__havelland_passes_and_swapped_refused(void **state)
{
    const char *data = parus_test_data_dir("s2-havelland");
    char *dir, a[4096], b[4200], cmd[12000];
    (void)state;
    if (!data)
        skip();
    /* an L1C scene has no cloud mask: taken on the user's word (--no-cloud-mask). The swapped
     * copy keeps each band's name and takes the other's pixels (a VRT whose two sources are
     * exchanged): a band map cannot make it, a tile that names its bands refuses one */
    dir = parus_test_tmpdir("tc-havelland-swap");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && gdal_translate -q -of VRT "
             "'%s/s2-havelland/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif' a.vrt && "
             "sed -e 's|<SourceBand>3</SourceBand>|<SourceBand>X</SourceBand>|' -e "
             "'s|<SourceBand>4</SourceBand>|<SourceBand>3</SourceBand>|' -e "
             "'s|<SourceBand>X</SourceBand>|<SourceBand>4</SourceBand>|' a.vrt > b.vrt && "
             "grep -c '<SourceBand>' b.vrt && gdal_translate -q b.vrt "
             "S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif",
             dir, data);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    snprintf(a, sizeof a,
             "--no-cloud-mask '%s/s2-havelland/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif'",
             data);
    snprintf(b, sizeof b, "--no-cloud-mask '%s/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif'",
             dir);
    real_scene("tc-havelland", a, b, 0.3);
    parus_test_rmtree(dir);
    free(dir);
}

/* A copy of a one-file-per-band scene directory with the red and NIR files' contents exchanged. */
static void real_swapped_dir(const char *tag, const char *src, const char *glob, const char *red,
                             const char *nir, double inset)
{
    char *dir = parus_test_tmpdir(tag), cmd[8192], a[4200], b[4200];
    snprintf(cmd, sizeof cmd,
             "mkdir '%s/ok' '%s/sw' && cp %s/%s '%s/ok/' && cp %s/%s '%s/sw/' && "
             "cp '%s/%s' '%s/sw/%s' && cp '%s/%s' '%s/sw/%s'",
             dir, dir, src, glob, dir, src, glob, dir, src, red, dir, nir, src, nir, dir, red);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    snprintf(a, sizeof a, "'%s/ok'", dir);
    snprintf(b, sizeof b, "'%s/sw'", dir);
    real_scene(tag, a, b, inset);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_real__landsat_passes_and_swapped_refused(void **state)
{
    const char *data = parus_test_data_dir("landsat8-alabama");
    char src[4096];
    (void)state;
    if (!data)
        skip();
    snprintf(src, sizeof src, "%s/landsat8-alabama", data);
    real_swapped_dir("tc-landsat", src, "*", "l8_B4.tif", "l8_B5.tif", 0.3);
}

static void test_real__cbers_dates_pass_and_swapped_refused(void **state)
{
    static const char *const dates[] = {"2018-02-02", "2018-05-09", "2018-08-29"};
    const char *data = parus_test_data_dir("cbers4-cerrado");
    char src[4096], glob[64], red[96], nir[96];
    size_t i;
    (void)state;
    if (!data)
        skip();
    snprintf(src, sizeof src, "%s/cbers4-cerrado", data);
    for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        snprintf(glob, sizeof glob, "*_%s.tif", dates[i]);
        snprintf(red, sizeof red, "CBERS-4_AWFI_022024_B15_%s.tif", dates[i]);
        snprintf(nir, sizeof nir, "CBERS-4_AWFI_022024_B16_%s.tif", dates[i]);
        real_swapped_dir("tc-cbers", src, glob, red, nir, 0.03);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest__sample_tile_passes),
        cmocka_unit_test(test_ingest__swapped_red_nir_refused),
        cmocka_unit_test(test_ingest__scattered_out_of_range_refused),
        cmocka_unit_test(test_ingest__random_window_under_clear_mask_refused),
        cmocka_unit_test(test_ingest__village_window_passes),
        cmocka_unit_test(test_ingest__independent_band_noise_refused),
        cmocka_unit_test(test_ingest__synthetic_village_tiles_pass),
        cmocka_unit_test(test_ingest__constant_window_refused),
        cmocka_unit_test(test_ingest__undefined_mask_classes_refused),
        cmocka_unit_test(test_ingest__clear_mask_over_nodata_refused),
        cmocka_unit_test(test_ingest__verdict_same_for_any_thread_count),
        cmocka_unit_test(test_nightly__implausible_tile_quarantined_with_reason),
        cmocka_unit_test(test_real__havelland_passes_and_swapped_refused),
        cmocka_unit_test(test_real__landsat_passes_and_swapped_refused),
        cmocka_unit_test(test_real__cbers_dates_pass_and_swapped_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

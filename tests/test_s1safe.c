/*
 * test_s1safe.c - a Sentinel-1 GRD SAFE product to parus's radar tile (parus/s1safe.h, `parus s1`).
 *
 * The fixture is built at test time from the real metadata in PARUS_DATA_DIR/s1-metadata (the
 * suite skips, exit 77, without it): the GRDH manifest as it is; its VV and VH annotations with the
 * image and the 210 tie points shrunk 20 times in line and pixel (same lattice, same lat/lon/
 * height/angle, so the placement figures are those of the real grid: a thin-plate spline does not
 * change under a uniform scale of its plane); as calibration, the real sigmaNought table (of the
 * same acquisition's SLC IW1 VV, the only real table we have) with its header made the GRD's and
 * its lines and pixels stretched onto the shrunk image; the real noise table under the noise names;
 * and measurement TIFFs (UInt16) whose DN we choose from the table so that sigma0 is known: VV
 * 0.1 (-10 dB), VH 0.02 (-17 dB), a border of DN 0 (no data). The expected sigma0 is computed here
 * from the table with code of its own (the four-corner bilinear formula, no parus code).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_minixml.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>

#include "parus/s1safe.h"

#include "test_support.h"

#ifndef S1_SHRINK /* a build may make a bigger fixture (1: the real product's size) */
#define S1_SHRINK 20
#endif
#define SHRINK ((double)S1_SHRINK)
#define FX_W (25787 / S1_SHRINK + 1) /* 1290 */
#define FX_H (16684 / S1_SHRINK + 1) /* 835 */
#define SIGMA_VV 0.1
#define SIGMA_VH 0.02
#define BORDER_PX 8

#define REAL_GRD "S1B_IW_GRDH_1SDV_20210401T052623_20210401T052648_026269_032297_ECC8.SAFE"
#define REAL_CAL                                                                                   \
    "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.SAFE/annotation/"         \
    "calibration/calibration-s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml"
#define REAL_NOISE                                                                                 \
    "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.SAFE/annotation/"         \
    "calibration/noise-s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml"

static const char *const pol_names[2] = {"VV", "VH"};
static const char *const ann_name[2] = {
    "annotation/s1b-iw-grd-vv-20210401t052623-20210401t052648-026269-032297-001.xml",
    "annotation/s1b-iw-grd-vh-20210401t052623-20210401t052648-026269-032297-002.xml"};
static const char *const cal_name[2] = {"annotation/calibration/calibration-s1b-iw-grd-vv-"
                                        "20210401t052623-20210401t052648-026269-032297-001.xml",
                                        "annotation/calibration/calibration-s1b-iw-grd-vh-"
                                        "20210401t052623-20210401t052648-026269-032297-002.xml"};
static const char *const noise_name[2] = {"annotation/calibration/noise-s1b-iw-grd-vv-"
                                          "20210401t052623-20210401t052648-026269-032297-001.xml",
                                          "annotation/calibration/noise-s1b-iw-grd-vh-"
                                          "20210401t052623-20210401t052648-026269-032297-002.xml"};
static const char *const meas_name[2] = {
    "measurement/s1b-iw-grd-vv-20210401t052623-20210401t052648-026269-032297-001.tiff",
    "measurement/s1b-iw-grd-vh-20210401t052623-20210401t052648-026269-032297-002.tiff"};

/* The table as the test reads it: n_v vectors on one shared list of pixels. */
typedef struct table {
    size_t n_v, n_p;
    double line[64];
    double *pixel;  /* n_p */
    double *sigma0; /* n_v * n_p */
} table;

/* The noise as the test reads it: range vectors, each with its own pixels, and one azimuth
 * block. */
typedef struct noise_table {
    size_t n_v;
    double line[64];
    size_t n_p[64];
    double *pixel[64], *value[64];
    double block[4]; /* first line, last line, first pixel, last pixel */
    size_t n_a;
    double *a_line, *a_value;
} noise_table;

typedef struct fixture {
    char *tmp;
    char *safe;
    char *data; /* real s1-metadata directory */
    table cal;
    noise_table noise;
    double *noise_img; /* FX_H x FX_W: noise_at_test at every pixel */
} fixture;

static char *fx_path(const fixture *f, const char *rel)
{
    return parus_test_path(f->safe, rel);
}

static void mkdirs(const char *root)
{
    static const char *const subs[] = {"", "/annotation", "/annotation/calibration",
                                       "/measurement"};
    char p[4096];
    size_t i;
    for (i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", root, subs[i]);
        assert_int_equal(mkdir(p, 0777), 0);
    }
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out;
    char buf[65536];
    size_t n;
    assert_non_null(in);
    out = fopen(to, "wb");
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Numbers of a space-separated list, malloc'ed. */
static double *numbers(const char *s, size_t *n)
{
    size_t cap = 16, k = 0;
    double *v = malloc(cap * sizeof *v);
    char *end;
    while (s && *s) {
        double x = strtod(s, &end);
        if (end == s)
            break;
        if (k == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[k++] = x;
        s = end;
    }
    *n = k;
    return v;
}

static char *join_numbers(const double *v, size_t n, int decimals)
{
    size_t cap = n * 24 + 1, len = 0, i;
    char *s = malloc(cap);
    s[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i)
            s[len++] = ' ';
        len += (size_t)snprintf(s + len, cap - len, "%.*f", decimals, v[i]);
    }
    return s;
}

/* Set the text at path below the root element named root_name. */
static int set_value(CPLXMLNode *tree, const char *root_name, const char *path, const char *v)
{
    char r[64];
    CPLXMLNode *root;
    snprintf(r, sizeof r, "=%s", root_name);
    root = CPLGetXMLNode(tree, r);
    assert_non_null(root);
    assert_non_null(CPLGetXMLNode(root, path));
    return CPLSetXMLValue(root, path, v);
}

/* The annotation: image 20 times smaller, tie points at line/20, pixel/20. */
static void write_annotation(const fixture *f, int k)
{
    char real[4096], *out = fx_path(f, ann_name[k]);
    CPLXMLNode *root, *list, *pt;
    char v[64], w[16], h[16];
    snprintf(real, sizeof real, "%s/%s/%s", f->data, REAL_GRD, ann_name[k]);
    root = CPLParseXMLFile(real);
    assert_non_null(root);
    snprintf(w, sizeof w, "%d", FX_W);
    snprintf(h, sizeof h, "%d", FX_H);
    assert_true(set_value(root, "product", "imageAnnotation.imageInformation.numberOfSamples", w));
    assert_true(set_value(root, "product", "imageAnnotation.imageInformation.numberOfLines", h));
    list = CPLGetXMLNode(root, "=product.geolocationGrid.geolocationGridPointList");
    assert_non_null(list);
    for (pt = list->psChild; pt; pt = pt->psNext) {
        if (pt->eType != CXT_Element)
            continue;
        snprintf(v, sizeof v, "%.4f", atof(CPLGetXMLValue(pt, "line", "0")) / SHRINK);
        CPLSetXMLValue(pt, "line", v);
        snprintf(v, sizeof v, "%.4f", atof(CPLGetXMLValue(pt, "pixel", "0")) / SHRINK);
        CPLSetXMLValue(pt, "pixel", v);
    }
    assert_true(CPLSerializeXMLTreeToFile(root, out));
    CPLDestroyXMLNode(root);
    free(out);
}

/* The real table with a GRD header for polarisation k, lines -1042..14661 stretched onto
 * -3..FX_H + 2 and pixels 0..21631 onto 0..FX_W + 5 (integers, as a real table has), to path. The
 * stretched table is kept in f->cal (both polarisations get the same one). */
static void write_calibration(fixture *f, int k, const char *path, bool grd_header, bool keep)
{
    char real[4096];
    CPLXMLNode *root, *list, *vec;
    size_t nv = 0, i;
    snprintf(real, sizeof real, "%s/%s", f->data, REAL_CAL);
    root = CPLParseXMLFile(real);
    assert_non_null(root);
    if (grd_header) {
        set_value(root, "calibration", "adsHeader.productType", "GRD");
        set_value(root, "calibration", "adsHeader.swath", "IW");
        set_value(root, "calibration", "adsHeader.polarisation", pol_names[k]);
    }
    list = CPLGetXMLNode(root, "=calibration.calibrationVectorList");
    assert_non_null(list);
    for (vec = list->psChild; vec; vec = vec->psNext) {
        size_t np, ns;
        double *px, *sg, line;
        char *txt, v[32];
        if (vec->eType != CXT_Element)
            continue;
        px = numbers(CPLGetXMLValue(vec, "pixel", ""), &np);
        sg = numbers(CPLGetXMLValue(vec, "sigmaNought", ""), &ns);
        assert_int_equal(np, ns);
        line = atof(CPLGetXMLValue(vec, "line", "0"));
        line = floor((line + 1042.0) * (FX_H + 5.0) / 15703.0 + 0.5) - 3.0;
        for (i = 0; i < np; i++) {
            px[i] = floor(px[i] * (FX_W + 5.0) / 21631.0 + 0.5);
            if (i)
                assert_true(px[i] > px[i - 1]);
        }
        snprintf(v, sizeof v, "%.0f", line);
        CPLSetXMLValue(vec, "line", v);
        txt = join_numbers(px, np, 0);
        CPLSetXMLValue(vec, "pixel", txt);
        free(txt);
        if (keep) {
            assert_true(nv < 64);
            f->cal.line[nv] = line;
            if (nv == 0) {
                f->cal.n_p = np;
                f->cal.pixel = malloc(np * sizeof *f->cal.pixel);
                memcpy(f->cal.pixel, px, np * sizeof *px);
                f->cal.sigma0 = malloc(64 * np * sizeof *f->cal.sigma0);
            }
            assert_int_equal(np, f->cal.n_p);
            for (i = 0; i < np; i++)
                assert_true(px[i] == f->cal.pixel[i]);
            memcpy(f->cal.sigma0 + nv * np, sg, np * sizeof *sg);
        }
        nv++;
        free(px);
        free(sg);
    }
    if (keep)
        f->cal.n_v = nv;
    assert_true(CPLSerializeXMLTreeToFile(root, path));
    CPLDestroyXMLNode(root);
}

static double map_line(double l)
{
    return (l + 1042.0) * (FX_H + 5.0) / 15703.0 - 3.0;
}

/* The real noise table (SLC IW1 VV) with a GRD header for polarisation k, its lines and pixels
 * stretched as the calibration's (lines with 3 decimals, pixels rounded), to path; kept in
 * f->noise when keep. */
static void write_noise(fixture *f, int k, const char *path, bool keep)
{
    char real[4096], v[64];
    CPLXMLNode *root, *list, *vec;
    noise_table *nt = &f->noise;
    size_t i;
    snprintf(real, sizeof real, "%s/%s", f->data, REAL_NOISE);
    root = CPLParseXMLFile(real);
    assert_non_null(root);
    set_value(root, "noise", "adsHeader.productType", "GRD");
    set_value(root, "noise", "adsHeader.swath", "IW");
    set_value(root, "noise", "adsHeader.polarisation", pol_names[k]);
    if (keep)
        nt->n_v = 0;
    list = CPLGetXMLNode(root, "=noise.noiseRangeVectorList");
    assert_non_null(list);
    for (vec = list->psChild; vec; vec = vec->psNext) {
        size_t np, nv;
        double *px, *val, line;
        char *txt;
        if (vec->eType != CXT_Element)
            continue;
        px = numbers(CPLGetXMLValue(vec, "pixel", ""), &np);
        val = numbers(CPLGetXMLValue(vec, "noiseRangeLut", ""), &nv);
        assert_int_equal(np, nv);
        line = map_line(atof(CPLGetXMLValue(vec, "line", "0")));
        for (i = 0; i < np; i++)
            px[i] = floor(px[i] * (FX_W + 5.0) / 21631.0 + 0.5);
        snprintf(v, sizeof v, "%.3f", line);
        CPLSetXMLValue(vec, "line", v);
        txt = join_numbers(px, np, 0);
        CPLSetXMLValue(vec, "pixel", txt);
        free(txt);
        if (keep) {
            assert_true(nt->n_v < 64);
            nt->line[nt->n_v] = atof(v);
            nt->n_p[nt->n_v] = np;
            nt->pixel[nt->n_v] = px;
            nt->value[nt->n_v] = val;
            nt->n_v++;
        } else {
            free(px);
            free(val);
        }
    }
    vec = CPLGetXMLNode(root, "=noise.noiseAzimuthVectorList.noiseAzimuthVector");
    assert_non_null(vec);
    {
        static const char *const ext[4] = {"firstAzimuthLine", "lastAzimuthLine",
                                           "firstRangeSample", "lastRangeSample"};
        size_t n, nv;
        double *al = numbers(CPLGetXMLValue(vec, "line", ""), &n);
        double *av = numbers(CPLGetXMLValue(vec, "noiseAzimuthLut", ""), &nv);
        char *txt;
        assert_int_equal(n, nv);
        for (i = 0; i < 4; i++) {
            double e = atof(CPLGetXMLValue(vec, ext[i], "0"));
            e = i < 2 ? map_line(e) : floor(e * (FX_W + 5.0) / 21631.0 + 0.5);
            snprintf(v, sizeof v, "%.3f", e);
            CPLSetXMLValue(vec, ext[i], v);
            if (keep)
                nt->block[i] = atof(v);
        }
        for (i = 0; i < n; i++) {
            snprintf(v, sizeof v, "%.3f", map_line(al[i]));
            al[i] = atof(v);
        }
        txt = join_numbers(al, n, 3);
        CPLSetXMLValue(vec, "line", txt);
        free(txt);
        if (keep) {
            nt->n_a = n;
            nt->a_line = al;
            nt->a_value = av;
        } else {
            free(al);
            free(av);
        }
    }
    assert_true(CPLSerializeXMLTreeToFile(root, path));
    CPLDestroyXMLNode(root);
}

/* Linear interpolation in x over nodes xs[0..n) (the end value beyond the ends). */
static double interp(const double *xs, const double *ys, size_t n, double x)
{
    size_t j;
    if (x <= xs[0] || n == 1)
        return ys[0];
    for (j = 1; j < n; j++)
        if (x <= xs[j])
            return ys[j - 1] + (ys[j] - ys[j - 1]) * (x - xs[j - 1]) / (xs[j] - xs[j - 1]);
    return ys[n - 1];
}

/* The fixture's noise power at (line, pixel): each range vector at pixel, then between the two
 * vectors around line, times the block's azimuth value (1 outside the block). */
static double noise_at_test(const noise_table *nt, double line, double pixel)
{
    double r[64], a = 1.0;
    size_t i;
    for (i = 0; i < nt->n_v; i++)
        r[i] = interp(nt->pixel[i], nt->value[i], nt->n_p[i], pixel);
    if (line >= nt->block[0] && line <= nt->block[1] && pixel >= nt->block[2] &&
        pixel <= nt->block[3])
        a = interp(nt->a_line, nt->a_value, nt->n_a, line);
    return interp(nt->line, r, nt->n_v, line) * a;
}

/* noise_at_test at every pixel, the range vectors evaluated once per column. */
static double *noise_image(const noise_table *nt)
{
    double *img = malloc((size_t)FX_W * FX_H * sizeof *img),
           *cols = malloc(64 * FX_W * sizeof *cols);
    size_t y, x, i;
    for (i = 0; i < nt->n_v; i++)
        for (x = 0; x < FX_W; x++)
            cols[i * FX_W + x] = interp(nt->pixel[i], nt->value[i], nt->n_p[i], (double)x);
    for (y = 0; y < FX_H; y++)
        for (x = 0; x < FX_W; x++) {
            double r[64], a = 1.0;
            for (i = 0; i < nt->n_v; i++)
                r[i] = cols[i * FX_W + x];
            if ((double)y >= nt->block[0] && (double)y <= nt->block[1] &&
                (double)x >= nt->block[2] && (double)x <= nt->block[3])
                a = interp(nt->a_line, nt->a_value, nt->n_a, (double)y);
            img[y * FX_W + x] = interp(nt->line, r, nt->n_v, (double)y) * a;
        }
    free(cols);
    return img;
}

/* A by the four-corner bilinear formula over the cell holding (line, pixel). */
static double table_at(const table *t, double line, double pixel)
{
    size_t i = 0, j = 0, lo, hi;
    double u, v;
    while (i + 2 < t->n_v && t->line[i + 1] <= line)
        i++;
    /* the last pixel node at or before pixel (bisection; the first cell when before the table) */
    lo = 0;
    hi = t->n_p - 2;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (t->pixel[mid] <= pixel)
            lo = mid;
        else
            hi = mid - 1;
    }
    j = lo;
    v = (line - t->line[i]) / (t->line[i + 1] - t->line[i]);
    u = (pixel - t->pixel[j]) / (t->pixel[j + 1] - t->pixel[j]);
    return (1 - v) * (1 - u) * t->sigma0[i * t->n_p + j] +
           (1 - v) * u * t->sigma0[i * t->n_p + j + 1] +
           v * (1 - u) * t->sigma0[(i + 1) * t->n_p + j] +
           v * u * t->sigma0[(i + 1) * t->n_p + j + 1];
}

/* DN chosen so that DN^2 / A^2 is close to target; the border is DN 0. */
static uint16_t dn_for(const table *t, size_t y, size_t x, double target)
{
    if (x < BORDER_PX)
        return 0;
    return (uint16_t)floor(table_at(t, (double)y, (double)x) * sqrt(target) + 0.5);
}

static void write_measurement(const fixture *f, int k)
{
    char *path = fx_path(f, meas_name[k]);
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, FX_W, FX_H, 1, GDT_UInt16, NULL);
    uint16_t *row = malloc(FX_W * sizeof *row);
    size_t y, x;
    assert_non_null(ds);
    for (y = 0; y < FX_H; y++) {
        for (x = 0; x < FX_W; x++)
            row[x] = dn_for(&f->cal, y, x, k == 0 ? SIGMA_VV : SIGMA_VH);
        assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, (int)y, FX_W, 1, row,
                                      FX_W, 1, GDT_UInt16, 0, 0),
                         CE_None);
    }
    {
        /* tie points in the TIFF, as ESA writes them: GCPs only, no geotransform */
        GDAL_GCP g[2];
        memset(g, 0, sizeof g);
        g[0].pszId = g[1].pszId = (char *)"1";
        g[0].pszInfo = g[1].pszInfo = (char *)"";
        g[0].dfGCPX = 12.43;
        g[0].dfGCPY = 47.12;
        g[1].dfGCPPixel = 1289;
        g[1].dfGCPLine = 834;
        g[1].dfGCPX = 9.1;
        g[1].dfGCPY = 45.9;
        GDALSetGCPs(ds, 2, g, SRS_WKT_WGS84_LAT_LONG);
    }
    GDALClose(ds);
    free(row);
    free(path);
}

static int setup(void **state)
{
    const char *data = parus_test_data_dir("s1-metadata/" REAL_GRD "/manifest.safe");
    fixture *f;
    char *p, real[4096];
    int k;
    if (!data) {
        *state = NULL;
        return 0;
    }
    GDALAllRegister();
    f = calloc(1, sizeof *f);
    f->tmp = parus_test_tmpdir("s1safe");
    f->safe = parus_test_path(f->tmp, REAL_GRD);
    f->data = parus_test_path(data, "s1-metadata");
    mkdirs(f->safe);
    snprintf(real, sizeof real, "%s/%s/manifest.safe", f->data, REAL_GRD);
    p = fx_path(f, "manifest.safe");
    copy_file(real, p);
    free(p);
    for (k = 0; k < 2; k++) {
        write_annotation(f, k);
        p = fx_path(f, cal_name[k]);
        write_calibration(f, k, p, true, k == 0);
        free(p);
        p = fx_path(f, noise_name[k]);
        write_noise(f, k, p, k == 0);
        free(p);
    }
    for (k = 0; k < 2; k++)
        write_measurement(f, k);
    f->noise_img = noise_image(&f->noise);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    parus_test_rmtree(f->tmp);
    free(f->tmp);
    free(f->safe);
    free(f->data);
    free(f->cal.pixel);
    free(f->cal.sigma0);
    for (size_t i = 0; i < f->noise.n_v; i++) {
        free(f->noise.pixel[i]);
        free(f->noise.value[i]);
    }
    free(f->noise_img);
    free(f->noise.a_line);
    free(f->noise.a_value);
    free(f);
    return 0;
}

#define FIXTURE(state)                                                                             \
    fixture *f = *(state);                                                                         \
    if (!f) {                                                                                      \
        skip();                                                                                    \
        return;                                                                                    \
    }

/* A copy of the fixture to break: its path (malloc'ed). */
static char *fixture_copy(const fixture *f, const char *tag)
{
    char cmd[8192], *dir = parus_test_path(f->tmp, tag);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", f->safe, dir);
    assert_int_equal(system(cmd), 0);
    return dir;
}

static void test_open__reads_manifest_and_annotations(void **state)
{
    parus_s1safe *s = NULL;
    parus_error err;
    const parus_s1safe_info *in;
    FIXTURE(state);
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    in = parus_s1safe_get_info(s);
    assert_string_equal(in->mission, "SENTINEL-1B");
    assert_string_equal(in->mode, "IW");
    assert_string_equal(in->product_type, "GRD");
    assert_string_equal(in->start_utc, "2021-04-01T05:26:23Z");
    assert_string_equal(in->orbit_direction, "DESCENDING");
    assert_int_equal(in->relative_orbit, 168);
    assert_int_equal(in->n_pols, 2);
    assert_string_equal(in->pols[0], "VV");
    assert_string_equal(in->pols[1], "VH");
    assert_int_equal(in->width_px, FX_W);
    assert_int_equal(in->height_px, FX_H);
    assert_int_equal(in->n_tie_points, 210);
    assert_close(in->height_min_m, 25, 1, 0);
    assert_close(in->height_max_m, 2818, 1, 0);
    assert_close(in->lat_center_deg, 46.5, 0.2, 0);
    assert_close(in->lon_center_deg, 10.6, 0.3, 0);
    parus_s1safe_free(s);
    /* the manifest itself names the same product */
    {
        char *m = fx_path(f, "manifest.safe");
        assert_int_equal(parus_s1safe_open(m, &s, &err), PARUS_OK);
        assert_int_equal(parus_s1safe_get_info(s)->n_tie_points, 210);
        parus_s1safe_free(s);
        free(m);
    }
}

/* parus's A against the four-corner formula here, at every pixel of the image. */
static void test_lut__matches_independent_bilinear(void **state)
{
    parus_s1safe *s = NULL;
    parus_error err;
    double max_rel = 0, sum_rel = 0;
    size_t y, x, n = 0;
    FIXTURE(state);
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    for (y = 0; y < FX_H; y++)
        for (x = 0; x < FX_W; x++) {
            double want = table_at(&f->cal, (double)y, (double)x);
            double got = parus_s1safe_sigma0_lut(s, 0, (double)y, (double)x);
            double rel = fabs(got - want) / want;
            max_rel = fmax(max_rel, rel);
            sum_rel += rel;
            n++;
        }
    print_message("sigmaNought LUT, %zu pixels: max relative difference %.3g, mean %.3g\n", n,
                  max_rel, sum_rel / (double)n);
    assert_true(max_rel < 1e-12);
    /* between table lines and pixels, a value of the table itself at a node */
    assert_close(parus_s1safe_sigma0_lut(s, 1, f->cal.line[3], f->cal.pixel[10]),
                 f->cal.sigma0[3 * f->cal.n_p + 10], 0, 1e-12);
    assert_true(isnan(parus_s1safe_sigma0_lut(s, 2, 0, 0)));
    parus_s1safe_free(s);
}

/* parus's thermal noise against the evaluation here, at every 7th pixel of every 5th line. */
static void test_noise__matches_independent_evaluation(void **state)
{
    parus_s1safe *s = NULL;
    parus_error err;
    double max_rel = 0, sum_rel = 0, n_min = HUGE_VAL, n_max = 0;
    size_t y, x, n = 0, n_in_block = 0;
    FIXTURE(state);
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    for (y = 0; y < FX_H; y += 5)
        for (x = 0; x < FX_W; x += 7) {
            double want = noise_at_test(&f->noise, (double)y, (double)x);
            double got = parus_s1safe_noise_at(s, 0, (double)y, (double)x);
            double rel = fabs(got - want) / want;
            max_rel = fmax(max_rel, rel);
            sum_rel += rel;
            n_min = fmin(n_min, want);
            n_max = fmax(n_max, want);
            n_in_block += (double)y >= f->noise.block[0] && (double)y <= f->noise.block[1];
            n++;
        }
    print_message("noise, %zu pixels (%zu in the azimuth block): %.1f..%.1f DN^2, max relative "
                  "difference %.3g, mean %.3g\n",
                  n, n_in_block, n_min, n_max, max_rel, sum_rel / (double)n);
    assert_true(max_rel < 1e-12);
    assert_true(n_in_block > 0 && n_in_block < n); /* both sides of the block's edge */
    assert_true(n_min > 0);
    parus_s1safe_free(s);
}

static void test_placement__tps_exact_at_points_terrain_between(void **state)
{
    parus_s1safe *s = NULL;
    parus_error err;
    parus_s1safe_placement tps, p1;
    FIXTURE(state);
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_measure_placement(s, PARUS_S1SAFE_TPS, &tps, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_measure_placement(s, PARUS_S1SAFE_POLY1, &p1, &err), PARUS_OK);
    print_message("placement TPS: at points %.3f/%.3f m, between %.0f/%.0f m (%zu interior)\n",
                  tps.at_points_mean_m, tps.at_points_max_m, tps.between_mean_m, tps.between_max_m,
                  tps.n_between);
    print_message("placement poly1: at points %.0f/%.0f m, between %.0f/%.0f m\n",
                  p1.at_points_mean_m, p1.at_points_max_m, p1.between_mean_m, p1.between_max_m);
    assert_true(tps.at_points_max_m < 0.01);
    assert_int_equal(tps.n_between, 8 * 19);
    /* the Alps: interpolating between tie points 13-20 km apart is wrong by hundreds of metres */
    assert_true(tps.between_mean_m > 100 && tps.between_max_m > 500);
    assert_true(p1.at_points_mean_m > 100);
    assert_true(tps.between_mean_m < p1.between_mean_m);
    parus_s1safe_free(s);
}

/* Read band b of a tile into a malloc'ed float array. */
static float *read_band(GDALDatasetH ds, int b)
{
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    float *v = malloc((size_t)w * (size_t)h * sizeof *v);
    assert_int_equal(
        GDALRasterIO(GDALGetRasterBand(ds, b), GF_Read, 0, 0, w, h, v, w, h, GDT_Float32, 0, 0),
        CE_None);
    return v;
}

/* The exact range of sigma0 the fixture's DN make in the image (no-data border left out), with
 * the thermal noise subtracted (and the floor) when denoise. */
static void source_range(const fixture *f, double target, bool denoise, double *lo, double *hi)
{
    size_t y, x;
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (y = 0; y < FX_H; y++)
        for (x = BORDER_PX; x < FX_W; x++) {
            double a = table_at(&f->cal, (double)y, (double)x), d = dn_for(&f->cal, y, x, target);
            double n = denoise ? f->noise_img[y * FX_W + x] : 0.0;
            double v = fmax((d * d - n) / (a * a), PARUS_S1SAFE_NOISE_FLOOR);
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
}

static void test_write_tile__contract_tile_with_known_sigma0(void **state)
{
    parus_s1safe *s = NULL;
    parus_s1safe_options o = {200, PARUS_S1SAFE_TPS, 5000, false, 1};
    parus_s1safe_result r;
    parus_error err;
    char *out, **md;
    GDALDatasetH ds;
    double gt[6], lo[2], hi[2], sum[2] = {0, 0};
    size_t n_valid[2] = {0, 0}, n_nan = 0, i, n;
    float *band[3];
    int b, w, h, n_checked = 0;
    FIXTURE(state);
    out = parus_test_path(f->tmp, "S1B_IW_GRDH_20210401_tile.tif");
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_write_tile(s, &o, out, &r, &err), PARUS_OK);
    assert_int_equal(r.epsg, 32632);
    assert_int_equal(r.n_dn_zero, 2 * BORDER_PX * FX_H);
    assert_true(r.placement.between_max_m > 500);

    ds = GDALOpen(out, GA_ReadOnly);
    assert_non_null(ds);
    w = GDALGetRasterXSize(ds);
    h = GDALGetRasterYSize(ds);
    assert_int_equal((size_t)w, r.width_px);
    assert_int_equal(GDALGetRasterCount(ds), 3);
    assert_int_equal(GDALGetGeoTransform(ds, gt), CE_None);
    assert_close(gt[1], 200, 0, 1e-12);
    assert_close(gt[5], -200, 0, 1e-12);
    assert_true(gt[2] == 0 && gt[4] == 0);
    assert_close(fmod(gt[0], 200), 0, 1e-6, 0);
    assert_true(strstr(GDALGetProjectionRef(ds), "32632") != NULL);
    /* metadata of the contract */
    md = GDALGetMetadata(ds, NULL);
    assert_string_equal(CSLFetchNameValue(md, "MISSION"), "SENTINEL-1B");
    assert_string_equal(CSLFetchNameValue(md, "INSTRUMENT_MODE"), "IW");
    assert_string_equal(CSLFetchNameValue(md, "PRODUCT_TYPE"), "GRD");
    assert_string_equal(CSLFetchNameValue(md, "BACKSCATTER_COEFFICIENT"), "sigma0");
    assert_string_equal(CSLFetchNameValue(md, "BACKSCATTER_SCALE"), "linear");
    assert_string_equal(CSLFetchNameValue(md, "ACQUISITION_DATE"), "2021-04-01T05:26:23Z");
    assert_string_equal(CSLFetchNameValue(md, "ORBIT_DIRECTION"), "DESCENDING");
    assert_string_equal(CSLFetchNameValue(md, "RELATIVE_ORBIT"), "168");
    assert_string_equal(CSLFetchNameValue(md, "NUMBER_OF_LOOKS"), "4.4");
    assert_string_equal(CSLFetchNameValue(md, "NOISE_REMOVED"), "YES");
    assert_true(r.noise_removed);
    assert_int_equal(r.n_noise_clipped, 0); /* VH 0.02 is above the noise, about 0.005 */
    assert_string_equal(CSLFetchNameValue(md, "TERRAIN_CORRECTED"), "NO");
    assert_non_null(CSLFetchNameValue(md, "GEOLOCATION_ERROR_MAX_M"));
    for (b = 1; b <= 3; b++) {
        GDALRasterBandH band_h = GDALGetRasterBand(ds, b);
        int has = 0;
        double nd = GDALGetRasterNoDataValue(band_h, &has);
        assert_true(has && isnan(nd));
        assert_int_equal(GDALGetRasterDataType(band_h), GDT_Float32);
        assert_string_equal(GDALGetDescription(band_h), b == 1 ? "VV" : b == 2 ? "VH" : "ANGLE");
        if (b < 3)
            assert_string_equal(GDALGetRasterUnitType(band_h), "linear");
        band[b - 1] = read_band(ds, b);
    }
    /* every value is a bilinear mix of calibrated source pixels: inside their exact range */
    source_range(f, SIGMA_VV, true, &lo[0], &hi[0]);
    source_range(f, SIGMA_VH, true, &lo[1], &hi[1]);
    n = (size_t)w * (size_t)h;
    for (i = 0; i < n; i++) {
        for (b = 0; b < 2; b++) {
            double v = band[b][i];
            if (isnan(v))
                continue;
            assert_true(v >= lo[b] * (1 - 1e-6) && v <= hi[b] * (1 + 1e-6));
            sum[b] += v;
            n_valid[b]++;
        }
        if (isnan(band[0][i])) {
            n_nan++;
            assert_true(isnan(band[2][i])); /* no angle where there is no radar */
        } else {
            assert_true(band[2][i] > 29 && band[2][i] < 47);
        }
    }
    print_message("tile %d x %d px: VV mean %.5f (source %.5f..%.5f), VH mean %.5f (%.5f..%.5f), "
                  "%zu no-data px\n",
                  w, h, sum[0] / (double)n_valid[0], lo[0], hi[0], sum[1] / (double)n_valid[1],
                  lo[1], hi[1], n_nan);
    assert_true(n_valid[0] > n / 3 && n_valid[0] == n_valid[1]);
    assert_true(n_nan > 0); /* outside the swath and the DN-0 border */

    /* placement: at each tie point's ground position the tile's ANGLE is that tie point's */
    {
        char real[4096];
        CPLXMLNode *root;
        const CPLXMLNode *pt;
        OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL), utm = OSRNewSpatialReference(NULL);
        OGRCoordinateTransformationH ct;
        double max_d = 0;
        OSRImportFromEPSG(geo, 4326);
        OSRImportFromEPSG(utm, 32632);
        OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(geo, utm);
        snprintf(real, sizeof real, "%s/%s/%s", f->data, REAL_GRD, ann_name[0]);
        root = CPLParseXMLFile(real);
        pt = CPLGetXMLNode(root, "=product.geolocationGrid.geolocationGridPointList");
        for (pt = pt->psChild; pt; pt = pt->psNext) {
            double x, y, ang, px, ln;
            long col, row;
            if (pt->eType != CXT_Element)
                continue;
            px = atof(CPLGetXMLValue(pt, "pixel", "0"));
            ln = atof(CPLGetXMLValue(pt, "line", "0"));
            if (px / SHRINK < BORDER_PX + 2 || px >= 25787 || ln == 0 || ln >= 16684)
                continue; /* edges: half the bilinear neighbourhood is outside */
            x = atof(CPLGetXMLValue(pt, "longitude", "0"));
            y = atof(CPLGetXMLValue(pt, "latitude", "0"));
            ang = atof(CPLGetXMLValue(pt, "incidenceAngle", "0"));
            assert_true(OCTTransform(ct, 1, &x, &y, NULL));
            col = (long)floor((x - gt[0]) / gt[1]);
            row = (long)floor((y - gt[3]) / gt[5]);
            assert_true(col >= 0 && col < w && row >= 0 && row < h);
            assert_false(isnan(band[2][(size_t)row * (size_t)w + (size_t)col]));
            max_d = fmax(max_d, fabs((double)band[2][(size_t)row * (size_t)w + (size_t)col] - ang));
            n_checked++;
        }
        print_message("ANGLE at %d tie points: max difference %.4f deg\n", n_checked, max_d);
        assert_true(n_checked > 100);
        assert_true(max_d < 0.05); /* about 0.06 deg per km across range */
        CPLDestroyXMLNode(root);
        OCTDestroyCoordinateTransformation(ct);
        OSRDestroySpatialReference(geo);
        OSRDestroySpatialReference(utm);
    }
    /* the same pixels with two threads in GDAL's warper and compressor */
    {
        char *out2 = parus_test_path(f->tmp, "two_threads.tif");
        GDALDatasetH ds2;
        o.n_threads = 2;
        assert_int_equal(parus_s1safe_write_tile(s, &o, out2, NULL, &err), PARUS_OK);
        ds2 = GDALOpen(out2, GA_ReadOnly);
        assert_non_null(ds2);
        assert_int_equal(GDALGetRasterXSize(ds2), w);
        assert_int_equal(GDALGetRasterYSize(ds2), h);
        for (b = 0; b < 3; b++) {
            float *v2 = read_band(ds2, b + 1);
            assert_memory_equal(v2, band[b], n * sizeof *v2);
            free(v2);
        }
        GDALClose(ds2);
        unlink(out2);
        free(out2);
    }
    for (b = 0; b < 3; b++)
        free(band[b]);
    GDALClose(ds);
    /* nothing left beside the tile: the radar-geometry intermediate is gone */
    {
        char cmd[4096], *o2 = NULL;
        snprintf(cmd, sizeof cmd, "ls '%s'", f->tmp);
        assert_int_equal(parus_test_run(cmd, &o2, NULL), 0);
        assert_null(strstr(o2, ".part"));
        free(o2);
    }
    unlink(out);
    free(out);
    parus_s1safe_free(s);
}

static void test_write_tile__refuses_placement_error_above_bound(void **state)
{
    parus_s1safe *s = NULL;
    parus_s1safe_options o = {10, PARUS_S1SAFE_TPS, 0, false, 1}; /* default bound: 3 pixels */
    parus_error err;
    char *out;
    struct stat sb;
    FIXTURE(state);
    out = parus_test_path(f->tmp, "refused.tif");
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_write_tile(s, &o, out, NULL, &err), PARUS_E_RANGE);
    assert_non_null(strstr(err.msg, "terrain-corrected"));
    assert_non_null(strstr(err.msg, "more than the 30 m allowed"));
    assert_int_not_equal(stat(out, &sb), 0);
    free(out);
    parus_s1safe_free(s);
}

static void test_write_tile__refuses_to_replace_an_input(void **state)
{
    parus_s1safe *s = NULL;
    parus_s1safe_options o = {200, PARUS_S1SAFE_TPS, 5000, false, 1};
    parus_error err;
    char *meas, *cmp;
    FIXTURE(state);
    meas = fx_path(f, meas_name[1]);
    cmp = parus_test_path(f->tmp, "before.tiff");
    copy_file(meas, cmp);
    assert_int_equal(parus_s1safe_open(f->safe, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_write_tile(s, &o, meas, NULL, &err), PARUS_E_INVALID);
    {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", meas, cmp);
        assert_int_equal(system(cmd), 0);
    }
    unlink(cmp);
    free(cmp);
    free(meas);
    parus_s1safe_free(s);
}

/* A measurement TIFF that is not the annotation's image: refused before a byte is written, and a
 * previous tile stays as it was. */
static void test_write_tile__measurement_not_the_annotations_image(void **state)
{
    parus_s1safe *s = NULL;
    parus_s1safe_options o = {200, PARUS_S1SAFE_TPS, 5000, false, 1};
    parus_error err;
    char *dir, *meas, *out, *o2 = NULL, cmd[4096];
    GDALDatasetH ds;
    FIXTURE(state);
    dir = fixture_copy(f, "badmeas");
    meas = parus_test_path(dir, meas_name[1]);
    out = parus_test_path(f->tmp, "kept.tif");
    assert_int_equal(parus_test_write_file(out, "previous", 8), 0);
    /* a wrong size */
    ds = GDALCreate(GDALGetDriverByName("GTiff"), meas, FX_W - 1, FX_H, 1, GDT_UInt16, NULL);
    assert_non_null(ds);
    GDALClose(ds);
    assert_int_equal(parus_s1safe_open(dir, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_write_tile(s, &o, out, NULL, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "is 1289 x 835 px but its annotation says 1290 x 835"));
    parus_s1safe_free(s);
    /* complex samples (an SLC's) */
    ds = GDALCreate(GDALGetDriverByName("GTiff"), meas, FX_W, FX_H, 1, GDT_CInt16, NULL);
    assert_non_null(ds);
    GDALClose(ds);
    assert_int_equal(parus_s1safe_open(dir, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_write_tile(s, &o, out, NULL, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "is not one band of UInt16 amplitude"));
    parus_s1safe_free(s);
    /* nothing half: the previous file as it was, no temporary file left */
    snprintf(cmd, sizeof cmd, "cat '%s'; ls '%s'", out, f->tmp);
    assert_int_equal(parus_test_run(cmd, &o2, NULL), 0);
    assert_true(strncmp(o2, "previous", 8) == 0);
    assert_null(strstr(o2, ".part"));
    free(o2);
    unlink(out);
    free(out);
    free(meas);
    parus_test_rmtree(dir);
    free(dir);
}

/* Open a broken copy: the status and a piece of the message. */
static void expect_refused(const char *safe, parus_status want, const char *needle)
{
    parus_s1safe *s = NULL;
    parus_error err;
    parus_error_init(&err);
    assert_int_equal(parus_s1safe_open(safe, &s, &err), want);
    assert_null(s);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_open__manifest_names_an_absent_file(void **state)
{
    char *dir, *p;
    FIXTURE(state);
    dir = fixture_copy(f, "lies");
    p = parus_test_path(dir, noise_name[1]);
    assert_int_equal(unlink(p), 0);
    expect_refused(dir, PARUS_E_IO, "but it is absent");
    expect_refused(dir, PARUS_E_IO, "noise-s1b-iw-grd-vh");
    free(p);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_open__no_calibration_annotation(void **state)
{
    char *dir, *m;
    CPLXMLNode *root, *sec, *n, *next;
    int removed = 0;
    FIXTURE(state);
    dir = fixture_copy(f, "nocal");
    m = parus_test_path(dir, "manifest.safe");
    root = CPLParseXMLFile(m);
    sec = CPLGetXMLNode(root, "=xfdu:XFDU.dataObjectSection");
    assert_non_null(sec);
    for (n = sec->psChild; n; n = next) {
        next = n->psNext;
        if (n->eType == CXT_Element &&
            strcmp(CPLGetXMLValue(n, "repID", ""), "s1Level1CalibrationSchema") == 0) {
            CPLRemoveXMLChild(sec, n);
            CPLDestroyXMLNode(n);
            removed++;
        }
    }
    assert_int_equal(removed, 2);
    assert_true(CPLSerializeXMLTreeToFile(root, m));
    CPLDestroyXMLNode(root);
    expect_refused(dir, PARUS_E_FORMAT, "names no calibration annotation for polarisation VV");
    free(m);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_open__calibration_of_another_polarisation_or_product(void **state)
{
    char *dir, *p, real[4096];
    FIXTURE(state);
    dir = fixture_copy(f, "othercal");
    /* VV's table under VH's name */
    p = parus_test_path(dir, cal_name[1]);
    write_calibration(f, 0, p, true, false);
    expect_refused(dir, PARUS_E_FORMAT, "swath IW VV); this product is S1B IW GRD swath IW VH");
    /* the real SLC IW1 table, unedited, as the GRD's: another product and swath */
    snprintf(real, sizeof real, "%s/%s", f->data, REAL_CAL);
    copy_file(real, p);
    expect_refused(dir, PARUS_E_FORMAT, "SLC swath IW1");
    /* a table of this product's header whose first line stops at half the image's width */
    write_calibration(f, 1, p, true, false);
    {
        CPLXMLNode *root = CPLParseXMLFile(p);
        const char *path = "calibrationVectorList.calibrationVector.pixel";
        size_t np, i;
        double *px = numbers(CPLGetXMLValue(CPLGetXMLNode(root, "=calibration"), path, ""), &np);
        char *txt;
        for (i = 0; i < np; i++)
            px[i] *= 0.5;
        txt = join_numbers(px, np, 1);
        set_value(root, "calibration", path, txt);
        free(txt);
        free(px);
        assert_true(CPLSerializeXMLTreeToFile(root, p));
        CPLDestroyXMLNode(root);
    }
    expect_refused(dir, PARUS_E_FORMAT, "covers pixels 0..647.5 but the image has pixels 0..1289");
    write_calibration(f, 1, p, true, false);
    free(p);
    /* VV's noise under VH's name */
    p = parus_test_path(dir, noise_name[1]);
    write_noise(f, 0, p, false);
    expect_refused(dir, PARUS_E_FORMAT, "is the noise annotation of another product");
    free(p);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_open__lut_zero_negative_nan(void **state)
{
    static const char *const bad[] = {"0", "-3.2e+02", "nan"};
    char *dir, *p;
    size_t i;
    FIXTURE(state);
    dir = fixture_copy(f, "badlut");
    p = parus_test_path(dir, cal_name[0]);
    for (i = 0; i < 3; i++) {
        CPLXMLNode *root = CPLParseXMLFile(p);
        CPLXMLNode *sn =
            CPLGetXMLNode(root, "=calibration.calibrationVectorList.calibrationVector.sigmaNought");
        const char *old = CPLGetXMLValue(sn, NULL, "");
        char *txt = malloc(strlen(old) + 32);
        /* replace the first value */
        snprintf(txt, strlen(old) + 32, "%s%s", bad[i], strchr(old, ' '));
        set_value(root, "calibration", "calibrationVectorList.calibrationVector.sigmaNought", txt);
        free(txt);
        assert_true(CPLSerializeXMLTreeToFile(root, p));
        CPLDestroyXMLNode(root);
        expect_refused(dir, PARUS_E_FORMAT, "(zero, negative or not a number)");
        write_calibration(*state, 0, p, true, false);
    }
    free(p);
    parus_test_rmtree(dir);
    free(dir);
}

/* The manifest's text with the first occurrence of from replaced by to ("" removes it). */
static void edit_manifest(const char *dir, const char *from, const char *to)
{
    char *m = parus_test_path(dir, "manifest.safe"), *txt = malloc(1 << 20), *at;
    FILE *fp = fopen(m, "rb");
    size_t n;
    assert_non_null(fp);
    n = fread(txt, 1, (1 << 20) - 1, fp);
    fclose(fp);
    txt[n] = '\0';
    at = strstr(txt, from);
    assert_non_null(at);
    memmove(at + strlen(to), at + strlen(from), n - (size_t)(at - txt) - strlen(from) + 1);
    memcpy(at, to, strlen(to));
    assert_int_equal(parus_test_write_file(m, txt, strlen(txt)), 0);
    free(txt);
    free(m);
}

static void test_open__not_a_grd_or_not_iw(void **state)
{
    char *dir;
    FIXTURE(state);
    dir = fixture_copy(f, "slc");
    edit_manifest(dir, "<s1sarl1:productType>GRD<", "<s1sarl1:productType>SLC<");
    expect_refused(dir, PARUS_E_FORMAT, "is a SLC product: parus calibrates Level-1 GRD only");
    edit_manifest(dir, "<s1sarl1:productType>SLC<", "<s1sarl1:productType>GRD<");
    edit_manifest(dir, "<s1sarl1:mode>IW<", "<s1sarl1:mode>EW<");
    expect_refused(dir, PARUS_E_FORMAT, "is a EW product");
    parus_test_rmtree(dir);
    free(dir);
}

/* A single-polarisation product (1SSV) gives a VV and ANGLE tile; HH is refused. */
static void test_write_tile__single_polarisation(void **state)
{
    parus_s1safe *s = NULL;
    parus_s1safe_options o = {200, PARUS_S1SAFE_POLY1, 5000, false, 1};
    parus_error err;
    char *dir, *out;
    GDALDatasetH ds;
    FIXTURE(state);
    dir = fixture_copy(f, "ssv");
    edit_manifest(dir,
                  "<s1sarl1:transmitterReceiverPolarisation>VH</"
                  "s1sarl1:transmitterReceiverPolarisation>",
                  "");
    out = parus_test_path(f->tmp, "ssv.tif");
    assert_int_equal(parus_s1safe_open(dir, &s, &err), PARUS_OK);
    assert_int_equal(parus_s1safe_get_info(s)->n_pols, 1);
    assert_int_equal(parus_s1safe_write_tile(s, &o, out, NULL, &err), PARUS_OK);
    parus_s1safe_free(s);
    ds = GDALOpen(out, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterCount(ds), 2);
    assert_string_equal(GDALGetDescription(GDALGetRasterBand(ds, 1)), "VV");
    assert_string_equal(GDALGetDescription(GDALGetRasterBand(ds, 2)), "ANGLE");
    GDALClose(ds);
    unlink(out);
    free(out);
    edit_manifest(dir, ">VV</", ">HH</");
    expect_refused(dir, PARUS_E_FORMAT,
                   "holds polarisation HH: parus's radar tile carries VV and VH");
    parus_test_rmtree(dir);
    free(dir);
}

static void test_cli__calibrate_info_and_exit_codes(void **state)
{
    char *o, *tile, *meas;
    FIXTURE(state);
    tile = parus_test_path(f->tmp, "cli.tif");
    meas = fx_path(f, meas_name[0]);
    o = parus_test_run_expect(0, "'%s' s1 info '%s'", parus_test_bin(), f->safe);
    assert_non_null(strstr(o, "SENTINEL-1B IW GRD"));
    assert_non_null(strstr(o, "DESCENDING, relative orbit 168"));
    assert_non_null(strstr(o, "210, heights 25..2818 m"));
    free(o);
    o = parus_test_run_expect(4, "'%s' s1 calibrate '%s' --out '%s'", parus_test_bin(), f->safe,
                              tile);
    assert_non_null(strstr(o, "terrain-corrected"));
    free(o);
    o = parus_test_run_expect(0,
                              "'%s' s1 calibrate '%s' --out '%s' --res-m 200 --method poly1 "
                              "--max-placement-error-m 5000",
                              parus_test_bin(), f->safe, tile);
    assert_non_null(strstr(o, "EPSG:32632"));
    assert_non_null(strstr(o, "thermal noise removed"));
    free(o);
    /* the tile into a store: radar observations of two parcels inside the swath */
    {
        static const char parcels[] =
            "{\"type\":\"FeatureCollection\",\"features\":["
            "{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"A\",\"farmer_id\":\"F\"},"
            "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[10.50,46.50],[10.51,46.50],"
            "[10.51,46.51],[10.50,46.51],[10.50,46.50]]]}},"
            "{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"B\",\"farmer_id\":\"F\"},"
            "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[11.00,46.80],[11.01,46.80],"
            "[11.01,46.81],[11.00,46.81],[11.00,46.80]]]}}]}";
        char *pf = parus_test_path(f->tmp, "parcels.geojson");
        char *db = parus_test_path(f->tmp, "s1.db");
        sqlite3 *h;
        sqlite3_stmt *q;
        double lo[2], hi[2];
        int n_rows = 0;
        assert_int_equal(parus_test_write_file(pf, parcels, strlen(parcels)), 0);
        free(
            parus_test_run_expect(0, "'%s' --db '%s' parcels load '%s'", parus_test_bin(), db, pf));
        o = parus_test_run_expect(0, "'%s' --db '%s' ingest '%s'", parus_test_bin(), db, tile);
        assert_non_null(strstr(o, "sentinel-1 2021-04-01"));
        assert_non_null(strstr(o, "2 parcels observed"));
        free(o);
        source_range(f, SIGMA_VV, true, &lo[0], &hi[0]);
        source_range(f, SIGMA_VH, true, &lo[1], &hi[1]);
        assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h,
                                            "SELECT vv, vh, valid_fraction FROM radar_observations",
                                            -1, &q, NULL),
                         SQLITE_OK);
        while (sqlite3_step(q) == SQLITE_ROW) {
            double vv = sqlite3_column_double(q, 0), vh = sqlite3_column_double(q, 1);
            assert_true(vv >= lo[0] && vv <= hi[0]);
            assert_true(vh >= lo[1] && vh <= hi[1]);
            assert_close(sqlite3_column_double(q, 2), 1.0, 1e-9, 0);
            n_rows++;
        }
        assert_int_equal(n_rows, 2);
        sqlite3_finalize(q);
        sqlite3_close(h);
        free(pf);
        free(db);
    }
    o = parus_test_run_expect(0,
                              "'%s' s1 calibrate '%s' --out '%s' --res-m 200 --method poly1 "
                              "--max-placement-error-m 5000 --keep-noise",
                              parus_test_bin(), f->safe, tile);
    assert_non_null(strstr(o, "thermal noise kept"));
    free(o);
    {
        GDALDatasetH ds = GDALOpen(tile, GA_ReadOnly);
        double lo, hi;
        float *vv;
        size_t i, n, n_valid = 0;
        assert_non_null(ds);
        assert_string_equal(GDALGetMetadataItem(ds, "NOISE_REMOVED", NULL), "NO");
        vv = read_band(ds, 1);
        source_range(f, SIGMA_VV, false, &lo, &hi);
        n = (size_t)GDALGetRasterXSize(ds) * (size_t)GDALGetRasterYSize(ds);
        for (i = 0; i < n; i++)
            if (!isnan(vv[i])) {
                assert_true((double)vv[i] >= lo * (1 - 1e-6) && (double)vv[i] <= hi * (1 + 1e-6));
                n_valid++;
            }
        assert_true(n_valid > n / 3);
        free(vv);
        GDALClose(ds);
    }
    /* the tile as the raster stage reads it */
    o = parus_test_run_expect(0, "'%s' info '%s'", parus_test_bin(), tile);
    assert_non_null(strstr(o, "sentinel-1"));
    assert_non_null(strstr(o, "sigma0 (from metadata BACKSCATTER_COEFFICIENT)"));
    assert_non_null(strstr(o, "linear power (from metadata BACKSCATTER_SCALE)"));
    assert_non_null(strstr(o, "DESCENDING, relative orbit 168"));
    free(o);
    o = parus_test_run_expect(2, "'%s' s1 calibrate '%s' --out '%s' --res-m 200", parus_test_bin(),
                              f->safe, meas);
    free(o);
    o = parus_test_run_expect(2, "'%s' s1 calibrate '%s'", parus_test_bin(), f->safe);
    free(o);
    o = parus_test_run_expect(2, "'%s' s1 calibrate '%s' --out x.tif --method spline",
                              parus_test_bin(), f->safe);
    free(o);
    o = parus_test_run_expect(3, "'%s' s1 info '%s/nothing.SAFE'", parus_test_bin(), f->tmp);
    free(o);
    /* the product itself is not a tile: parus info says how to make one */
    o = parus_test_run_expect(4, "'%s' info '%s'", parus_test_bin(), f->safe);
    assert_non_null(strstr(o, "is a Sentinel-1 SAFE product, not a tile"));
    assert_non_null(strstr(o, "parus s1 calibrate"));
    free(o);
    /* a measurement TIFF has tie points only, no CRS: parus info refuses it, naming it */
    o = parus_test_run_expect(4, "'%s' info '%s'", parus_test_bin(), meas);
    assert_non_null(strstr(o, "tie points"));
    assert_non_null(strstr(o, "s1b-iw-grd-vv-"));
    assert_non_null(strstr(o, "parus s1 calibrate"));
    free(o);
    unlink(tile);
    free(tile);
    free(meas);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open__reads_manifest_and_annotations),
        cmocka_unit_test(test_lut__matches_independent_bilinear),
        cmocka_unit_test(test_noise__matches_independent_evaluation),
        cmocka_unit_test(test_placement__tps_exact_at_points_terrain_between),
        cmocka_unit_test(test_write_tile__contract_tile_with_known_sigma0),
        cmocka_unit_test(test_write_tile__refuses_placement_error_above_bound),
        cmocka_unit_test(test_write_tile__refuses_to_replace_an_input),
        cmocka_unit_test(test_write_tile__measurement_not_the_annotations_image),
        cmocka_unit_test(test_write_tile__single_polarisation),
        cmocka_unit_test(test_open__manifest_names_an_absent_file),
        cmocka_unit_test(test_open__no_calibration_annotation),
        cmocka_unit_test(test_open__calibration_of_another_polarisation_or_product),
        cmocka_unit_test(test_open__lut_zero_negative_nan),
        cmocka_unit_test(test_open__not_a_grd_or_not_iw),
        cmocka_unit_test(test_cli__calibrate_info_and_exit_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

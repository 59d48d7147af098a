/*
 * s1safe.c - a raw Sentinel-1 IW GRD product (SAFE directory) to parus's radar tile.
 *
 * Workload: one product (two polarisations of about 25788 x 16685 UInt16 DN) per call, read in
 * strips of lines, so memory is a strip plus the look-up tables, never the image. Three steps:
 *   1. read the XML with GDAL's own parser (CPLParseXMLFile): the manifest says what the product is
 *      and which files it holds; each polarisation's product annotation gives the image size, the
 *      pass and the geolocation grid (tie points: line, pixel, lat, lon, height, incidence angle);
 *      each calibration annotation gives the sigmaNought table A(line, pixel) on a few dozen
 *      azimuth lines, each with a few hundred range pixels. Everything is checked against
 *      everything else (product type, swath, polarisation, mission, extent), so a table of another
 *      product is refused rather than applied;
 *   2. calibrate in radar geometry (ESA, "Sentinel-1 Product Specification" and "Radiometric
 *      Calibration of S-1 Level-1 Products", ESA-EOPG-CSCOP-TN-0002): sigma0 = (DN^2 - N) / A^2,
 *      A interpolated linearly along range inside each table line, then linearly between the two
 *      table lines around the image line; N the thermal noise of the noise annotation (range
 *      vectors the same way, times the azimuth block's factor: ESA MPC-0392), clipped at -45 dB;
 *      DN 0 is no data (NaN). The result goes to a temporary
 *      Float32 GeoTIFF carrying the tie points as GCPs, beside the target;
 *   3. warp that onto a north-up UTM grid (zone of the footprint's centre) with GDAL's
 *      thin-plate-spline GCP transformer and bilinear resampling of linear power, then rename the
 *      finished tile into place (parus/outfile.h).
 * The tie points sit on the terrain heights IPF used, 10-20 km apart; between them the spline
 * interpolates, and in relief that is wrong by kilometres. parus measures it by leaving each
 * interior tie point out (parus_s1safe_measure_placement) and refuses a tile whose error exceeds
 * the caller's bound.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_minixml.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <ogr_srs_api.h>

#include "parus/outfile.h"
#include "parus/s1safe.h"

#include "outfile_int.h"
#include "util_int.h"

/* IW GRDH equivalent number of looks (ESA, Sentinel-1 Product Definition, table of GRD
 * resolution classes: IW GRDH 4.4 looks at 10 m pixels). */
#define S1_GRDH_LOOKS 4.4
/* The contract's upper bound of a valid value: +30 dB (linear 1000). */
#define SIGMA0_MAX_LINEAR 1000.0
#define STRIP_LINES 256

typedef struct lut_line {
    double line;
    size_t n;
    double *pixel; /* strictly increasing */
    double *value; /* A, > 0 */
} lut_line;

/* One azimuth block of the noise annotation: a factor along lines over a rectangle of the image. */
typedef struct noise_block {
    double first_line, last_line, first_pixel, last_pixel;
    size_t n;
    double *line;  /* n, strictly increasing */
    double *value; /* n, >= 0 */
} noise_block;

typedef struct pol_product {
    char pol[3];
    char *annotation, *calibration, *noise, *measurement; /* full paths; noise may be NULL */
    size_t n_lut;
    lut_line *lut;
    size_t n_nrange, n_nblock; /* the noise annotation's range vectors and azimuth blocks */
    lut_line *nrange;
    noise_block *nblock;
} pol_product;

struct parus_s1safe {
    char *dir;
    char *manifest;
    parus_s1safe_info info;
    pol_product pol[PARUS_S1SAFE_MAX_POLS];
    /* The geolocation grid as a lattice: grid_line[n_gl] x grid_pixel[n_gp], row-major. */
    size_t n_gl, n_gp;
    double *grid_line, *grid_pixel;
    double *lat_deg, *lon_deg, *height_m, *incidence_deg;
    const char *files[1 + 4 * PARUS_S1SAFE_MAX_POLS]; /* borrowed from the fields above */
    size_t n_files;
};

/* ---- XML ----------------------------------------------------------------------------------- */

/* The first element named name in the list starting at n or below it (depth first). */
static const CPLXMLNode *find_elem(const CPLXMLNode *n, const char *name)
{
    for (; n; n = n->psNext) {
        const CPLXMLNode *r;
        if (n->eType != CXT_Element)
            continue;
        if (strcmp(n->pszValue, name) == 0)
            return n;
        r = find_elem(n->psChild, name);
        if (r)
            return r;
    }
    return NULL;
}

/* The first element named name below (not at) n. */
static const CPLXMLNode *find_below(const CPLXMLNode *n, const char *name)
{
    return n ? find_elem(n->psChild, name) : NULL;
}

static const char *elem_text(const CPLXMLNode *n)
{
    const CPLXMLNode *c;
    if (!n)
        return NULL;
    for (c = n->psChild; c; c = c->psNext)
        if (c->eType == CXT_Text)
            return c->pszValue;
    return NULL;
}

static const char *text_below(const CPLXMLNode *n, const char *name)
{
    return elem_text(find_below(n, name));
}

static const char *attr(const CPLXMLNode *n, const char *name)
{
    const CPLXMLNode *c;
    for (c = n ? n->psChild : NULL; c; c = c->psNext)
        if (c->eType == CXT_Attribute && strcmp(c->pszValue, name) == 0)
            return elem_text(c);
    return NULL;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    double v;
    if (!s)
        return false;
    v = parus__strtod_c(s, &end);
    if (end == s)
        return false;
    while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

/* A space-separated list of numbers: exactly n of them. */
static bool parse_list(const char *s, size_t n, double *out)
{
    size_t i;
    char *end;
    if (!s)
        return false;
    for (i = 0; i < n; i++) {
        out[i] = parus__strtod_c(s, &end);
        if (end == s)
            return false;
        s = end;
    }
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return *s == '\0';
}

static parus_status load_xml(const char *path, CPLXMLNode **out, parus_error *err)
{
    parus__gdal_capture cap;
    CPLXMLNode *root;
    parus__gdal_capture_begin(&cap);
    root = CPLParseXMLFile(path);
    parus__gdal_capture_end(&cap);
    if (!root)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is not readable XML: %s", path,
                          parus__gdal_capture_msg(&cap, "empty"));
    CPLStripXMLNamespace(root, NULL, TRUE);
    *out = root;
    return PARUS_OK;
}

/* ---- manifest ------------------------------------------------------------------------------ */

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static char *join_path(const char *dir, const char *rel)
{
    size_t n;
    char *p;
    while (rel[0] == '.' && rel[1] == '/')
        rel += 2;
    n = strlen(dir) + strlen(rel) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

/* The polarisation named in a SAFE file name ("...-vv-..."), upper case, or "" when none. */
static void pol_of_name(const char *href, char out[3])
{
    static const char *const pols[] = {"-vv-", "-vh-", "-hh-", "-hv-"};
    const char *base = strrchr(href, '/');
    size_t i;
    base = base ? base + 1 : href;
    out[0] = '\0';
    for (i = 0; i < 4; i++)
        if (strstr(base, pols[i])) {
            out[0] = (char)(pols[i][1] - 'a' + 'A');
            out[1] = (char)(pols[i][2] - 'a' + 'A');
            out[2] = '\0';
            return;
        }
}

static pol_product *pol_slot(parus_s1safe *s, const char *pol)
{
    size_t i;
    for (i = 0; i < s->info.n_pols; i++)
        if (strcmp(s->pol[i].pol, pol) == 0)
            return &s->pol[i];
    return NULL;
}

static parus_status read_manifest(parus_s1safe *s, parus_error *err)
{
    CPLXMLNode *root = NULL;
    const CPLXMLNode *n, *sec;
    const char *family, *number, *v;
    parus_status st;
    size_t i;

    st = load_xml(s->manifest, &root, err);
    if (st != PARUS_OK)
        return st;
    st = PARUS_E_FORMAT;
    family = elem_text(find_elem(root, "familyName"));
    number = elem_text(find_elem(root, "number"));
    if (!family || strcmp(family, "SENTINEL-1") != 0 || !number || strlen(number) != 1 ||
        number[0] < 'A' || number[0] > 'D') {
        parus_fail(err, st, "'%s' is not a Sentinel-1 manifest (platform '%s%s%s')", s->manifest,
                   family ? family : "?", number ? "" : "", number ? number : "");
        goto out;
    }
    snprintf(s->info.mission, sizeof s->info.mission, "SENTINEL-1%s", number);
    v = elem_text(find_elem(root, "mode"));
    if (!v || strcmp(v, "IW") != 0) {
        parus_fail(err, st,
                   "'%s' is a %s product: parus reads Interferometric Wide swath (IW) only",
                   s->manifest, v ? v : "unknown-mode");
        goto out;
    }
    snprintf(s->info.mode, sizeof s->info.mode, "IW");
    v = elem_text(find_elem(root, "productType"));
    if (!v || strcmp(v, "GRD") != 0) {
        parus_fail(err, st, "'%s' is a %s product: parus calibrates Level-1 GRD only", s->manifest,
                   v ? v : "unknown-type");
        goto out;
    }
    snprintf(s->info.product_type, sizeof s->info.product_type, "GRD");
    v = elem_text(find_elem(root, "startTime"));
    if (!v || strlen(v) < 19 || !parus__parse_date(v, (char[11]){0}) || v[10] != 'T') {
        parus_fail(err, PARUS_E_NO_DATE, "'%s' has no acquisition start time", s->manifest);
        goto out;
    }
    snprintf(s->info.start_utc, sizeof s->info.start_utc, "%.19sZ", v);
    v = elem_text(find_elem(root, "pass"));
    if (!v || (strcmp(v, "ASCENDING") != 0 && strcmp(v, "DESCENDING") != 0)) {
        parus_fail(err, st, "'%s' has no orbit pass (ASCENDING or DESCENDING)", s->manifest);
        goto out;
    }
    snprintf(s->info.orbit_direction, sizeof s->info.orbit_direction, "%s", v);
    s->info.relative_orbit = 0;
    for (n = find_elem(root, "relativeOrbitNumber"); n; n = n->psNext) {
        double ro;
        if (n->eType == CXT_Element && strcmp(n->pszValue, "relativeOrbitNumber") == 0 &&
            parse_double(elem_text(n), &ro) && ro >= 1 && ro <= 175 && ro == floor(ro)) {
            s->info.relative_orbit = (int)ro;
            break;
        }
    }
    if (s->info.relative_orbit == 0) {
        parus_fail(err, st, "'%s' has no relative orbit number (1..175)", s->manifest);
        goto out;
    }
    /* polarisations, VV first */
    n = find_elem(root, "transmitterReceiverPolarisation");
    for (; n; n = n->psNext) {
        if (n->eType != CXT_Element || strcmp(n->pszValue, "transmitterReceiverPolarisation"))
            continue;
        v = elem_text(n);
        if (!v || (strcmp(v, "VV") != 0 && strcmp(v, "VH") != 0)) {
            parus_fail(err, st,
                       "'%s' holds polarisation %s: parus's radar tile carries VV and VH only",
                       s->manifest, v ? v : "?");
            goto out;
        }
        if (s->info.n_pols == PARUS_S1SAFE_MAX_POLS || pol_slot(s, v)) {
            parus_fail(err, st, "'%s' lists polarisation %s twice or more than two", s->manifest,
                       v);
            goto out;
        }
        snprintf(s->pol[s->info.n_pols].pol, 3, "%s", v);
        s->info.n_pols++;
    }
    if (s->info.n_pols == 0) {
        parus_fail(err, st, "'%s' lists no polarisation", s->manifest);
        goto out;
    }
    if (s->info.n_pols == 2 && strcmp(s->pol[0].pol, "VH") == 0) {
        pol_product t = s->pol[0];
        s->pol[0] = s->pol[1];
        s->pol[1] = t;
    }
    for (i = 0; i < s->info.n_pols; i++)
        snprintf(s->info.pols[i], 3, "%s", s->pol[i].pol);

    /* the files, by schema and the polarisation in their names */
    sec = find_elem(root, "dataObjectSection");
    for (n = sec ? sec->psChild : NULL; n; n = n->psNext) {
        const char *rep, *href;
        char pol[3], **slot = NULL;
        pol_product *pp;
        if (n->eType != CXT_Element || strcmp(n->pszValue, "dataObject") != 0)
            continue;
        rep = attr(n, "repID");
        href = attr(find_below(n, "fileLocation"), "href");
        if (!rep || !href)
            continue;
        pol_of_name(href, pol);
        pp = pol[0] ? pol_slot(s, pol) : NULL;
        if (!pp)
            continue;
        if (strcmp(rep, "s1Level1ProductSchema") == 0)
            slot = &pp->annotation;
        else if (strcmp(rep, "s1Level1CalibrationSchema") == 0)
            slot = &pp->calibration;
        else if (strcmp(rep, "s1Level1NoiseSchema") == 0)
            slot = &pp->noise;
        else if (strcmp(rep, "s1Level1MeasurementSchema") == 0)
            slot = &pp->measurement;
        if (!slot)
            continue;
        if (*slot) {
            parus_fail(err, st, "'%s' names two %s files for polarisation %s", s->manifest, rep,
                       pol);
            goto out;
        }
        *slot = join_path(s->dir, href);
        if (!*slot) {
            st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
            goto out;
        }
        if (strstr(href, "..")) {
            parus_fail(err, st, "'%s' names '%s', outside the product", s->manifest, href);
            goto out;
        }
        if (!file_exists(*slot)) {
            parus_fail(err, PARUS_E_IO, "'%s' names '%s' but it is absent", s->manifest, *slot);
            st = PARUS_E_IO;
            goto out;
        }
    }
    for (i = 0; i < s->info.n_pols; i++) {
        pol_product *pp = &s->pol[i];
        const char *missing = !pp->annotation    ? "product annotation"
                              : !pp->calibration ? "calibration annotation"
                              : !pp->measurement ? "measurement TIFF"
                                                 : NULL;
        if (missing) {
            parus_fail(err, st,
                       "'%s' names no %s for polarisation %s: parus cannot calibrate it "
                       "(a GRD product without its calibration cannot become sigma0)",
                       s->manifest, missing, pp->pol);
            goto out;
        }
    }
    st = PARUS_OK;
out:
    CPLDestroyXMLNode(root);
    return st;
}

/* ---- annotations --------------------------------------------------------------------------- */

/* The header every annotation starts with must be this product's: GRD, swath IW, this
 * polarisation and mission. */
static parus_status check_header(const parus_s1safe *s, const CPLXMLNode *root, const char *path,
                                 const char *pol, const char *what, parus_error *err)
{
    const CPLXMLNode *h = find_elem(root, "adsHeader");
    const char *type = text_below(h, "productType"), *swath = text_below(h, "swath");
    const char *p = text_below(h, "polarisation"), *mission = text_below(h, "missionId");
    const char *mode = text_below(h, "mode");
    char want_mission[4];
    snprintf(want_mission, sizeof want_mission, "S1%c", s->info.mission[10]);
    if (!type || !swath || !p || !mission || !mode)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' has no complete adsHeader (%s)", path, what);
    if (strcmp(type, "GRD") != 0 || strcmp(swath, "IW") != 0 || strcmp(p, pol) != 0 ||
        strcmp(mission, want_mission) != 0 || strcmp(mode, "IW") != 0)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s' is the %s of another product (%s %s %s swath %s %s); this "
                          "product is %s IW GRD swath IW %s: refusing to apply it",
                          path, what, mission, mode, type, swath, p, want_mission, pol);
    return PARUS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct values of v[0..n) into out (allocated); count in *n_out. */
static double *distinct(const double *v, size_t n, size_t *n_out)
{
    double *o = malloc(n * sizeof *o);
    size_t i, k = 0;
    if (!o)
        return NULL;
    memcpy(o, v, n * sizeof *o);
    qsort(o, n, sizeof *o, cmp_double);
    for (i = 0; i < n; i++)
        if (k == 0 || o[i] != o[k - 1])
            o[k++] = o[i];
    *n_out = k;
    return o;
}

static size_t index_of(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static parus_status read_annotation(parus_s1safe *s, size_t k, parus_error *err)
{
    const char *path = s->pol[k].annotation;
    CPLXMLNode *root = NULL;
    const CPLXMLNode *list, *n;
    double w, h, *line = NULL, *pixel = NULL, *vals = NULL;
    const char *pass;
    size_t n_pts = 0, cap = 0, i;
    parus_status st;

    st = load_xml(path, &root, err);
    if (st != PARUS_OK)
        return st;
    st = check_header(s, root, path, s->pol[k].pol, "product annotation", err);
    if (st != PARUS_OK)
        goto out;
    st = PARUS_E_FORMAT;
    if (!parse_double(elem_text(find_elem(root, "numberOfSamples")), &w) ||
        !parse_double(elem_text(find_elem(root, "numberOfLines")), &h) || w < 2 || h < 2 ||
        w > 1e6 || h > 1e6 || w != floor(w) || h != floor(h)) {
        parus_fail(err, st, "'%s' has no image size (numberOfSamples, numberOfLines)", path);
        goto out;
    }
    pass = elem_text(find_elem(root, "pass"));
    if (!pass || parus__strcasecmp(pass, s->info.orbit_direction) != 0) {
        parus_fail(err, st, "'%s' says pass '%s' but the manifest says %s", path,
                   pass ? pass : "none", s->info.orbit_direction);
        goto out;
    }
    if (k > 0) {
        if ((size_t)w != s->info.width_px || (size_t)h != s->info.height_px) {
            parus_fail(err, st, "'%s' is %.0f x %.0f px but polarisation %s is %zu x %zu", path, w,
                       h, s->pol[0].pol, s->info.width_px, s->info.height_px);
            goto out;
        }
        st = PARUS_OK; /* both polarisations share one geolocation grid: the first one's */
        goto out;
    }
    s->info.width_px = (size_t)w;
    s->info.height_px = (size_t)h;

    list = find_elem(root, "geolocationGridPointList");
    for (n = list ? list->psChild : NULL; n; n = n->psNext) {
        double p[6];
        if (n->eType != CXT_Element || strcmp(n->pszValue, "geolocationGridPoint") != 0)
            continue;
        if (!parse_double(text_below(n, "line"), &p[0]) ||
            !parse_double(text_below(n, "pixel"), &p[1]) ||
            !parse_double(text_below(n, "latitude"), &p[2]) ||
            !parse_double(text_below(n, "longitude"), &p[3]) ||
            !parse_double(text_below(n, "height"), &p[4]) ||
            !parse_double(text_below(n, "incidenceAngle"), &p[5]) || !isfinite(p[0]) ||
            !isfinite(p[1]) || fabs(p[2]) > 90 || fabs(p[3]) > 180 || !isfinite(p[4]) ||
            fabs(p[4]) > 9000 || !(p[5] > 0 && p[5] < 90)) {
            parus_fail(err, st, "'%s': tie point %zu is incomplete or out of range", path,
                       n_pts + 1);
            goto out;
        }
        if (n_pts == cap) {
            size_t nc = cap ? cap * 2 : 256;
            double *nl = realloc(line, nc * sizeof *nl), *np, *nv;
            if (nl)
                line = nl;
            np = nl ? realloc(pixel, nc * sizeof *np) : NULL;
            if (np)
                pixel = np;
            nv = np ? realloc(vals, nc * 4 * sizeof *nv) : NULL;
            if (!nv) {
                st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
                goto out;
            }
            vals = nv;
            cap = nc;
        }
        line[n_pts] = p[0];
        pixel[n_pts] = p[1];
        memcpy(&vals[n_pts * 4], &p[2], 4 * sizeof *vals);
        n_pts++;
    }
    if (n_pts < 4) {
        parus_fail(err, st, "'%s' has %zu tie points: at least 4 are needed to place it", path,
                   n_pts);
        goto out;
    }
    s->grid_line = distinct(line, n_pts, &s->n_gl);
    s->grid_pixel = s->grid_line ? distinct(pixel, n_pts, &s->n_gp) : NULL;
    if (!s->grid_pixel) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out;
    }
    if (s->n_gl < 2 || s->n_gp < 2 || s->n_gl * s->n_gp != n_pts || s->grid_line[0] > 0 ||
        s->grid_pixel[0] > 0 || s->grid_line[s->n_gl - 1] < h - 1 ||
        s->grid_pixel[s->n_gp - 1] < w - 1) {
        parus_fail(err, st,
                   "'%s': the %zu tie points are not a lattice of lines x pixels covering the "
                   "image (%zu lines, %zu pixels)",
                   path, n_pts, s->n_gl, s->n_gp);
        goto out;
    }
    s->lat_deg = calloc(n_pts, sizeof *s->lat_deg);
    s->lon_deg = calloc(n_pts, sizeof *s->lon_deg);
    s->height_m = calloc(n_pts, sizeof *s->height_m);
    s->incidence_deg = calloc(n_pts, sizeof *s->incidence_deg);
    if (!s->lat_deg || !s->lon_deg || !s->height_m || !s->incidence_deg) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out;
    }
    {
        unsigned char *seen = calloc(n_pts, 1);
        double lat_sum = 0, lon_sum = 0;
        if (!seen) {
            st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
            goto out;
        }
        s->info.height_min_m = HUGE_VAL;
        s->info.height_max_m = -HUGE_VAL;
        for (i = 0; i < n_pts; i++) {
            size_t g = index_of(s->grid_line, s->n_gl, line[i]) * s->n_gp +
                       index_of(s->grid_pixel, s->n_gp, pixel[i]);
            if (seen[g]) {
                free(seen);
                parus_fail(err, st, "'%s': tie point at line %g pixel %g is given twice", path,
                           line[i], pixel[i]);
                goto out;
            }
            seen[g] = 1;
            s->lat_deg[g] = vals[i * 4];
            s->lon_deg[g] = vals[i * 4 + 1];
            s->height_m[g] = vals[i * 4 + 2];
            s->incidence_deg[g] = vals[i * 4 + 3];
            lat_sum += vals[i * 4];
            lon_sum += vals[i * 4 + 1];
            s->info.height_min_m = fmin(s->info.height_min_m, vals[i * 4 + 2]);
            s->info.height_max_m = fmax(s->info.height_max_m, vals[i * 4 + 2]);
        }
        free(seen);
        s->info.n_tie_points = n_pts;
        s->info.lat_center_deg = lat_sum / (double)n_pts;
        s->info.lon_center_deg = lon_sum / (double)n_pts;
    }
    st = PARUS_OK;
out:
    free(line);
    free(pixel);
    free(vals);
    CPLDestroyXMLNode(root);
    return st;
}

/* The count="N" list of numbers below n named name into a malloc'ed array of N. */
static parus_status read_numbers(const CPLXMLNode *n, const char *name, const char *path,
                                 const char *what, size_t *n_out, double **out, parus_error *err)
{
    const CPLXMLNode *e = find_below(n, name);
    double cnt;
    double *v;
    if (!e || !parse_double(attr(e, "count"), &cnt) || cnt < 1 || cnt > 1e6 || cnt != floor(cnt))
        return parus_fail(err, PARUS_E_FORMAT, "'%s': %s has no %s list with a count", path, what,
                          name);
    v = malloc((size_t)cnt * sizeof *v);
    if (!v)
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    if (!parse_list(elem_text(e), (size_t)cnt, v)) {
        free(v);
        return parus_fail(err, PARUS_E_FORMAT, "'%s': %s: %s does not hold %.0f numbers", path,
                          what, name, cnt);
    }
    *n_out = (size_t)cnt;
    *out = v;
    return PARUS_OK;
}

/* The elements named elem directly below the first element named list_name: their number. */
static size_t count_children(const CPLXMLNode *list, const char *elem)
{
    const CPLXMLNode *n;
    size_t c = 0;
    for (n = list ? list->psChild : NULL; n; n = n->psNext)
        if (n->eType == CXT_Element && strcmp(n->pszValue, elem) == 0)
            c++;
    return c;
}

/* A list of table lines (calibration vectors, noise range vectors): each a line, a pixel list and
 * a value list of one length; pixels and lines strictly increasing; values finite and > 0 (or
 * >= 0 when zero_ok). *out and *n_out are set even on failure (the caller frees). */
static parus_status read_vectors(const CPLXMLNode *root, const char *list_name, const char *elem,
                                 const char *values, bool zero_ok, const char *path, lut_line **out,
                                 size_t *n_out, parus_error *err)
{
    const CPLXMLNode *list = find_elem(root, list_name), *n;
    size_t count = count_children(list, elem), j, np;
    lut_line *v;
    parus_status st;
    char what[64];

    *out = NULL;
    *n_out = 0;
    if (count == 0)
        return PARUS_OK;
    v = calloc(count, sizeof *v);
    if (!v)
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    *out = v;
    for (n = list->psChild; n; n = n->psNext) {
        lut_line *l;
        if (n->eType != CXT_Element || strcmp(n->pszValue, elem) != 0)
            continue;
        l = &v[(*n_out)++];
        snprintf(what, sizeof what, "%s %zu", elem, *n_out);
        if (!parse_double(text_below(n, "line"), &l->line))
            return parus_fail(err, PARUS_E_FORMAT, "'%s': %s has no line", path, what);
        st = read_numbers(n, "pixel", path, what, &l->n, &l->pixel, err);
        if (st == PARUS_OK)
            st = read_numbers(n, values, path, what, &np, &l->value, err);
        if (st != PARUS_OK)
            return st;
        if (np != l->n)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': %s has %zu pixels but %zu %s values",
                              path, what, l->n, np, values);
        for (j = 0; j < l->n; j++) {
            if (!isfinite(l->value[j]) || l->value[j] < 0 || (!zero_ok && l->value[j] == 0))
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s': %s at line %g pixel %g is %g (%s or not a number)", path,
                                  values, l->line, l->pixel[j], l->value[j],
                                  zero_ok ? "negative" : "zero, negative");
            if (j > 0 && !(l->pixel[j] > l->pixel[j - 1]))
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s': pixels of the vector at line %g do not increase", path,
                                  l->line);
        }
        if (*n_out > 1 && !(l->line > v[*n_out - 2].line))
            return parus_fail(err, PARUS_E_FORMAT, "'%s': %s lines do not increase (%g after %g)",
                              path, elem, l->line, v[*n_out - 2].line);
    }
    return PARUS_OK;
}

static parus_status read_calibration(parus_s1safe *s, size_t k, parus_error *err)
{
    pol_product *pp = &s->pol[k];
    const char *path = pp->calibration;
    CPLXMLNode *root = NULL;
    size_t j;
    parus_status st;
    double w1 = (double)s->info.width_px - 1, h1 = (double)s->info.height_px - 1;

    st = load_xml(path, &root, err);
    if (st != PARUS_OK)
        return st;
    st = check_header(s, root, path, pp->pol, "calibration annotation", err);
    if (st == PARUS_OK)
        st = read_vectors(root, "calibrationVectorList", "calibrationVector", "sigmaNought", false,
                          path, &pp->lut, &pp->n_lut, err);
    if (st != PARUS_OK)
        goto out;
    st = PARUS_E_FORMAT;
    if (pp->n_lut < 2) {
        parus_fail(err, st, "'%s' has %zu calibration vectors: at least 2 are needed", path,
                   pp->n_lut);
        goto out;
    }
    for (j = 0; j < pp->n_lut; j++) {
        const lut_line *l = &pp->lut[j];
        if (l->n < 2 || l->pixel[0] > 0 || l->pixel[l->n - 1] < w1) {
            parus_fail(err, st,
                       "'%s': the vector at line %g covers pixels %g..%g but the image has "
                       "pixels 0..%.0f: the calibration of another product or swath",
                       path, l->line, l->pixel[0], l->pixel[l->n - 1], w1);
            goto out;
        }
    }
    if (pp->lut[0].line > 0 || pp->lut[pp->n_lut - 1].line < h1) {
        parus_fail(err, st,
                   "'%s' covers lines %g..%g but the image has lines 0..%.0f: the calibration "
                   "of another product or swath",
                   path, pp->lut[0].line, pp->lut[pp->n_lut - 1].line, h1);
        goto out;
    }
    st = PARUS_OK;
out:
    CPLDestroyXMLNode(root);
    return st;
}

/* The azimuth blocks of a noise annotation (IPF >= 2.9). */
static parus_status read_noise_blocks(pol_product *pp, const CPLXMLNode *root, const char *path,
                                      parus_error *err)
{
    const CPLXMLNode *list = find_elem(root, "noiseAzimuthVectorList"), *n;
    size_t count = count_children(list, "noiseAzimuthVector"), j, nv;
    parus_status st;
    char what[64];

    if (count == 0)
        return PARUS_OK;
    pp->nblock = calloc(count, sizeof *pp->nblock);
    if (!pp->nblock)
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    for (n = list->psChild; n; n = n->psNext) {
        noise_block *b;
        if (n->eType != CXT_Element || strcmp(n->pszValue, "noiseAzimuthVector") != 0)
            continue;
        b = &pp->nblock[pp->n_nblock++];
        snprintf(what, sizeof what, "noiseAzimuthVector %zu", pp->n_nblock);
        if (!parse_double(text_below(n, "firstAzimuthLine"), &b->first_line) ||
            !parse_double(text_below(n, "lastAzimuthLine"), &b->last_line) ||
            !parse_double(text_below(n, "firstRangeSample"), &b->first_pixel) ||
            !parse_double(text_below(n, "lastRangeSample"), &b->last_pixel) ||
            b->last_line < b->first_line || b->last_pixel < b->first_pixel)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': %s has no block extent", path, what);
        st = read_numbers(n, "line", path, what, &b->n, &b->line, err);
        if (st == PARUS_OK)
            st = read_numbers(n, "noiseAzimuthLut", path, what, &nv, &b->value, err);
        if (st != PARUS_OK)
            return st;
        if (nv != b->n)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': %s has %zu lines but %zu values", path,
                              what, b->n, nv);
        for (j = 0; j < b->n; j++)
            if (!isfinite(b->value[j]) || b->value[j] < 0 ||
                (j > 0 && !(b->line[j] > b->line[j - 1])))
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s': %s: value %g at line %g is negative or not a number, "
                                  "or its lines do not increase",
                                  path, what, b->value[j], b->line[j]);
    }
    return PARUS_OK;
}

/* The noise annotation, when the manifest names one: range vectors (noiseRangeVector, or the
 * noiseVector of IPF < 2.9) and azimuth blocks. */
static parus_status read_noise(parus_s1safe *s, size_t k, parus_error *err)
{
    pol_product *pp = &s->pol[k];
    const char *path = pp->noise;
    CPLXMLNode *root = NULL;
    parus_status st;

    if (!path)
        return PARUS_OK;
    st = load_xml(path, &root, err);
    if (st != PARUS_OK)
        return st;
    st = check_header(s, root, path, pp->pol, "noise annotation", err);
    if (st == PARUS_OK)
        st = read_vectors(root, "noiseRangeVectorList", "noiseRangeVector", "noiseRangeLut", true,
                          path, &pp->nrange, &pp->n_nrange, err);
    if (st == PARUS_OK && pp->n_nrange == 0)
        st = read_vectors(root, "noiseVectorList", "noiseVector", "noiseLut", true, path,
                          &pp->nrange, &pp->n_nrange, err);
    if (st == PARUS_OK && pp->n_nrange == 0)
        st = parus_fail(err, PARUS_E_FORMAT, "'%s' has no noise range vectors", path);
    if (st == PARUS_OK)
        st = read_noise_blocks(pp, root, path, err);
    CPLDestroyXMLNode(root);
    return st;
}

/* ---- open / free --------------------------------------------------------------------------- */

void parus_s1safe_free(parus_s1safe *s)
{
    size_t i, j;
    if (!s)
        return;
    for (i = 0; i < PARUS_S1SAFE_MAX_POLS; i++) {
        pol_product *pp = &s->pol[i];
        free(pp->annotation);
        free(pp->calibration);
        free(pp->noise);
        free(pp->measurement);
        for (j = 0; j < pp->n_lut; j++) {
            free(pp->lut[j].pixel);
            free(pp->lut[j].value);
        }
        free(pp->lut);
        for (j = 0; j < pp->n_nrange; j++) {
            free(pp->nrange[j].pixel);
            free(pp->nrange[j].value);
        }
        free(pp->nrange);
        for (j = 0; j < pp->n_nblock; j++) {
            free(pp->nblock[j].line);
            free(pp->nblock[j].value);
        }
        free(pp->nblock);
    }
    free(s->grid_line);
    free(s->grid_pixel);
    free(s->lat_deg);
    free(s->lon_deg);
    free(s->height_m);
    free(s->incidence_deg);
    free(s->dir);
    free(s->manifest);
    free(s);
}

parus_status parus_s1safe_open(const char *path, parus_s1safe **out, parus_error *err)
{
    parus_s1safe *s;
    parus_status st;
    struct stat sb;
    size_t i, n;

    if (!path || !*path || !out)
        return parus_fail(err, PARUS_E_INVALID, "no product path");
    if (stat(path, &sb) != 0)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    s = calloc(1, sizeof *s);
    if (!s)
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (S_ISDIR(sb.st_mode)) {
        s->dir = parus__strndup(path, n);
        s->manifest = s->dir ? join_path(s->dir, "manifest.safe") : NULL;
    } else {
        const char *slash = memchr(path, '/', n) ? strrchr(path, '/') : NULL;
        s->dir = slash ? parus__strndup(path, (size_t)(slash - path)) : parus__strdup(".");
        s->manifest = parus__strdup(path);
    }
    if (!s->dir || !s->manifest) {
        parus_s1safe_free(s);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    }
    if (!file_exists(s->manifest)) {
        st = parus_fail(err, PARUS_E_IO, "'%s' has no manifest.safe: not a SAFE product", path);
        goto fail;
    }
    parus__gdal_init();
    st = read_manifest(s, err);
    for (i = 0; st == PARUS_OK && i < s->info.n_pols; i++)
        st = read_annotation(s, i, err);
    for (i = 0; st == PARUS_OK && i < s->info.n_pols; i++)
        st = read_calibration(s, i, err);
    for (i = 0; st == PARUS_OK && i < s->info.n_pols; i++)
        st = read_noise(s, i, err);
    if (st != PARUS_OK)
        goto fail;
    s->files[s->n_files++] = s->manifest;
    for (i = 0; i < s->info.n_pols; i++) {
        s->files[s->n_files++] = s->pol[i].annotation;
        s->files[s->n_files++] = s->pol[i].calibration;
        s->files[s->n_files++] = s->pol[i].measurement;
        if (s->pol[i].noise)
            s->files[s->n_files++] = s->pol[i].noise;
    }
    *out = s;
    return PARUS_OK;
fail:
    parus_s1safe_free(s);
    return st;
}

const parus_s1safe_info *parus_s1safe_get_info(const parus_s1safe *s)
{
    return &s->info;
}

const char *const *parus_s1safe_files(const parus_s1safe *s, size_t *n_files)
{
    *n_files = s->n_files;
    return s->files;
}

/* ---- interpolation ------------------------------------------------------------------------- */

/* Index i of the interval [v[i], v[i+1]] holding x (clamped to the first and last interval) and
 * the fraction of the way through it. n >= 2. */
static size_t bracket(const double *v, size_t n, double x, double *frac)
{
    size_t i = index_of(v, n, x);
    double t;
    i = i == 0 ? 0 : i - 1;
    if (i > n - 2)
        i = n - 2;
    t = (x - v[i]) / (v[i + 1] - v[i]);
    *frac = t;
    return i;
}

/* Linear between the two nodes around pixel; the end node's value beyond the ends (a calibration
 * table always covers the image; a noise table need not). */
static double lut_line_at(const lut_line *l, double pixel)
{
    double u;
    size_t j;
    if (l->n == 1)
        return l->value[0];
    j = bracket(l->pixel, l->n, pixel, &u);
    u = fmin(1.0, fmax(0.0, u));
    return l->value[j] + u * (l->value[j + 1] - l->value[j]);
}

/* The two table lines around line and the weight of the second (0 before the first, 1 after the
 * last). */
static size_t lines_around(const lut_line *v, size_t n, double line, double *t)
{
    size_t i = 0;
    while (i + 2 < n && v[i + 1].line <= line)
        i++;
    *t = fmin(1.0, fmax(0.0, (line - v[i].line) / (v[i + 1].line - v[i].line)));
    return i;
}

/* Bilinear, range first: A on each of the two table lines around line, then linear between them. */
static double lut_at(const lut_line *v, size_t n, double line, double pixel)
{
    double t;
    size_t i;
    if (n == 1)
        return lut_line_at(&v[0], pixel);
    i = lines_around(v, n, line, &t);
    return (1 - t) * lut_line_at(&v[i], pixel) + t * lut_line_at(&v[i + 1], pixel);
}

static double block_factor(const noise_block *k, double line)
{
    size_t j;
    double u;
    if (k->n == 1)
        return k->value[0];
    j = bracket(k->line, k->n, line, &u);
    u = fmin(1.0, fmax(0.0, u));
    return k->value[j] + u * (k->value[j + 1] - k->value[j]);
}

/* The azimuth factor of the first block holding (line, pixel): linear along the block's lines,
 * the end value beyond its ends; 1 outside every block (range vectors only, IPF < 2.9). */
static double azimuth_factor(const pol_product *pp, double line, double pixel)
{
    size_t b;
    for (b = 0; b < pp->n_nblock; b++) {
        const noise_block *k = &pp->nblock[b];
        if (line >= k->first_line && line <= k->last_line && pixel >= k->first_pixel &&
            pixel <= k->last_pixel)
            return block_factor(k, line);
    }
    return 1.0;
}

/* Thermal noise power (DN^2 units) at (line, pixel): range table x azimuth factor. */
static double noise_at(const pol_product *pp, double line, double pixel)
{
    return lut_at(pp->nrange, pp->n_nrange, line, pixel) * azimuth_factor(pp, line, pixel);
}

double parus_s1safe_sigma0_lut(const parus_s1safe *s, size_t pol, double line, double pixel)
{
    if (!s || pol >= s->info.n_pols)
        return NAN;
    return lut_at(s->pol[pol].lut, s->pol[pol].n_lut, line, pixel);
}

double parus_s1safe_noise_at(const parus_s1safe *s, size_t pol, double line, double pixel)
{
    if (!s || pol >= s->info.n_pols || s->pol[pol].n_nrange == 0)
        return NAN;
    return noise_at(&s->pol[pol], line, pixel);
}

/* One image line of a value of the tie point lattice (row-major over grid_line x grid_pixel),
 * bilinear: row[x] for x = 0..w-1. The lattice covers the image (checked at open). */
static void grid_row(const parus_s1safe *s, const double *v, double line, size_t w, double *row)
{
    double t;
    size_t i = bracket(s->grid_line, s->n_gl, line, &t), j = 0, x;
    const double *r0 = v + i * s->n_gp, *r1 = r0 + s->n_gp, *gp = s->grid_pixel;
    for (x = 0; x < w; x++) {
        double u;
        while (j + 2 < s->n_gp && gp[j + 1] <= (double)x)
            j++;
        u = ((double)x - gp[j]) / (gp[j + 1] - gp[j]);
        row[x] =
            (1 - t) * (r0[j] + u * (r0[j + 1] - r0[j])) + t * (r1[j] + u * (r1[j + 1] - r1[j]));
    }
}

/* ---- placement ----------------------------------------------------------------------------- */

static int utm_epsg(double lon_deg, double lat_deg)
{
    int zone = (int)floor((lon_deg + 180.0) / 6.0) + 1;
    if (zone < 1)
        zone = 1;
    if (zone > 60)
        zone = 60;
    return (lat_deg >= 0 ? 32600 : 32700) + zone;
}

static void *make_transformer(const GDAL_GCP *gcps, size_t n, parus_s1safe_method m)
{
    if (m == PARUS_S1SAFE_TPS)
        return GDALCreateTPSTransformer((int)n, gcps, FALSE);
    return GDALCreateGCPTransformer((int)n, gcps, (int)m, FALSE);
}

static void free_transformer(void *t, parus_s1safe_method m)
{
    if (!t)
        return;
    if (m == PARUS_S1SAFE_TPS)
        GDALDestroyTPSTransformer(t);
    else
        GDALDestroyGCPTransformer(t);
}

static int run_transformer(void *t, parus_s1safe_method m, double *x, double *y)
{
    double z = 0;
    int ok = 0;
    if (m == PARUS_S1SAFE_TPS)
        GDALTPSTransform(t, FALSE, 1, x, y, &z, &ok);
    else
        GDALGCPTransform(t, FALSE, 1, x, y, &z, &ok);
    return ok;
}

/* The tie points in metres on UTM zone epsg, as GCPs at pixel centres (annotation index + 0.5 in
 * GDAL's pixel-corner convention). gcps[] holds n_gl * n_gp entries, row-major. */
static parus_status tie_points_utm(const parus_s1safe *s, int epsg, GDAL_GCP *gcps,
                                   parus_error *err)
{
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL), utm = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    parus_status st = PARUS_OK;
    size_t n = s->n_gl * s->n_gp, i;
    if (geo && utm && OSRImportFromEPSG(geo, 4326) == OGRERR_NONE &&
        OSRImportFromEPSG(utm, epsg) == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(geo, utm);
    }
    if (!ct) {
        st = parus_fail(err, PARUS_E_PROJ, "cannot transform WGS 84 to EPSG:%d", epsg);
        goto out;
    }
    for (i = 0; i < n; i++) {
        double x = s->lon_deg[i], y = s->lat_deg[i];
        memset(&gcps[i], 0, sizeof gcps[i]);
        gcps[i].pszId = (char *)"";
        gcps[i].pszInfo = (char *)"";
        gcps[i].dfGCPLine = s->grid_line[i / s->n_gp] + 0.5;
        gcps[i].dfGCPPixel = s->grid_pixel[i % s->n_gp] + 0.5;
        if (!OCTTransform(ct, 1, &x, &y, NULL)) {
            st = parus_fail(err, PARUS_E_PROJ, "'%s': tie point %zu cannot go to EPSG:%d",
                            s->pol[0].annotation, i + 1, epsg);
            goto out;
        }
        gcps[i].dfGCPX = x;
        gcps[i].dfGCPY = y;
    }
out:
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(geo);
    OSRDestroySpatialReference(utm);
    return st;
}

parus_status parus_s1safe_measure_placement(const parus_s1safe *s, parus_s1safe_method method,
                                            parus_s1safe_placement *out, parus_error *err)
{
    size_t n = s->n_gl * s->n_gp, i, k;
    GDAL_GCP *gcps = calloc(n, sizeof *gcps), *rest = calloc(n, sizeof *rest);
    parus_s1safe_placement p = {0};
    parus__gdal_capture cap;
    parus_status st;
    void *t = NULL;
    int epsg = utm_epsg(s->info.lon_center_deg, s->info.lat_center_deg);

    if (!gcps || !rest) {
        free(gcps);
        free(rest);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    }
    parus__gdal_capture_begin(&cap);
    st = tie_points_utm(s, epsg, gcps, err);
    if (st != PARUS_OK)
        goto out;
    t = make_transformer(gcps, n, method);
    if (!t) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s': GDAL cannot fit its tie points: %s",
                        s->pol[0].annotation, parus__gdal_capture_msg(&cap, "no reason given"));
        goto out;
    }
    for (i = 0; i < n; i++) {
        double x = gcps[i].dfGCPPixel, y = gcps[i].dfGCPLine, e;
        if (!run_transformer(t, method, &x, &y))
            continue;
        e = hypot(x - gcps[i].dfGCPX, y - gcps[i].dfGCPY);
        p.at_points_mean_m += e / (double)n;
        p.at_points_max_m = fmax(p.at_points_max_m, e);
    }
    free_transformer(t, method);
    t = NULL;
    for (i = 0; i < n; i++) {
        size_t gl = i / s->n_gp, gp = i % s->n_gp, m = 0;
        double x = gcps[i].dfGCPPixel, y = gcps[i].dfGCPLine, e;
        if (gl == 0 || gp == 0 || gl + 1 == s->n_gl || gp + 1 == s->n_gp)
            continue;
        for (k = 0; k < n; k++)
            if (k != i)
                rest[m++] = gcps[k];
        t = make_transformer(rest, m, method);
        if (!t || !run_transformer(t, method, &x, &y)) {
            free_transformer(t, method);
            t = NULL;
            continue;
        }
        free_transformer(t, method);
        t = NULL;
        e = hypot(x - gcps[i].dfGCPX, y - gcps[i].dfGCPY);
        p.between_mean_m += e;
        p.between_max_m = fmax(p.between_max_m, e);
        p.n_between++;
    }
    if (p.n_between)
        p.between_mean_m /= (double)p.n_between;
    else /* a lattice of 2 or 3 lines or pixels has no interior point: nothing measures it */
        p.between_mean_m = p.between_max_m = HUGE_VAL;
    *out = p;
out:
    parus__gdal_capture_end(&cap);
    free(gcps);
    free(rest);
    return st;
}

/* ---- the tile ------------------------------------------------------------------------------ */

static const char *method_name(parus_s1safe_method m)
{
    switch (m) {
    case PARUS_S1SAFE_TPS:
        return "GCP_TPS";
    case PARUS_S1SAFE_POLY1:
        return "GCP_POLYNOMIAL order 1";
    case PARUS_S1SAFE_POLY2:
        return "GCP_POLYNOMIAL order 2";
    case PARUS_S1SAFE_POLY3:
        return "GCP_POLYNOMIAL order 3";
    }
    return "?";
}

/* Open each measurement TIFF and check it is the annotation's UInt16 image. */
static parus_status open_measurements(const parus_s1safe *s, GDALDatasetH *ds,
                                      parus__gdal_capture *cap, parus_error *err)
{
    size_t i;
    for (i = 0; i < s->info.n_pols; i++) {
        const char *path = s->pol[i].measurement;
        GDALRasterBandH b;
        ds[i] = GDALOpen(path, GA_ReadOnly);
        if (!ds[i])
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is not a readable raster: %s", path,
                              parus__gdal_capture_msg(cap, "format not recognised"));
        b = GDALGetRasterCount(ds[i]) == 1 ? GDALGetRasterBand(ds[i], 1) : NULL;
        if (!b || GDALGetRasterDataType(b) != GDT_UInt16)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' is not one band of UInt16 amplitude (a GRD measurement)", path);
        if ((size_t)GDALGetRasterXSize(ds[i]) != s->info.width_px ||
            (size_t)GDALGetRasterYSize(ds[i]) != s->info.height_px)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' is %d x %d px but its annotation says %zu x %zu", path,
                              GDALGetRasterXSize(ds[i]), GDALGetRasterYSize(ds[i]),
                              s->info.width_px, s->info.height_px);
    }
    return PARUS_OK;
}

/* Per table line, the value at every image pixel (range interpolation done once per line). */
static double *lut_rows(const lut_line *v, size_t n, size_t w)
{
    size_t i, x, cells;
    double *r;
    if (!parus__mul_size(n, w, &cells))
        return NULL;
    r = malloc(cells * sizeof *r);
    if (!r)
        return NULL;
    for (i = 0; i < n; i++)
        for (x = 0; x < w; x++)
            r[i * w + x] = lut_line_at(&v[i], (double)x);
    return r;
}

/* Noise power of one image line of pp into row[0..w) (range table x azimuth factor; the first
 * block holding a pixel gives its factor, as azimuth_factor). done: w bytes of scratch. */
static void noise_row(const pol_product *pp, const double *nrows, size_t w, double line,
                      double *row, unsigned char *done)
{
    size_t x, b;
    if (pp->n_nrange == 1) {
        memcpy(row, nrows, w * sizeof *row);
    } else {
        double t;
        size_t i = lines_around(pp->nrange, pp->n_nrange, line, &t);
        const double *r0 = nrows + i * w, *r1 = r0 + w;
        for (x = 0; x < w; x++)
            row[x] = (1 - t) * r0[x] + t * r1[x];
    }
    memset(done, 0, w);
    for (b = 0; b < pp->n_nblock; b++) {
        const noise_block *k = &pp->nblock[b];
        double f, lo = ceil(fmax(0.0, k->first_pixel)), hi = floor(k->last_pixel);
        if (line < k->first_line || line > k->last_line || lo > hi || lo >= (double)w)
            continue;
        f = block_factor(k, line);
        for (x = (size_t)lo; x < w && (double)x <= hi; x++)
            if (!done[x]) {
                row[x] *= f;
                done[x] = 1;
            }
    }
}

/* Step 2: calibrate into src (radar geometry, bands VV [VH] ANGLE), a strip of lines at a time.
 * ANGLE is NaN where no polarisation has a value. */
static parus_status calibrate_into(const parus_s1safe *s, GDALDatasetH *meas, GDALDatasetH src,
                                   bool denoise, parus_s1safe_result *res, parus__gdal_capture *cap,
                                   parus_error *err)
{
    size_t w = s->info.width_px, h = s->info.height_px, np = s->info.n_pols, cells, y0, i, x;
    uint16_t *dn = NULL;
    float *out = NULL;
    unsigned char *seen = NULL;
    double *rows[PARUS_S1SAFE_MAX_POLS] = {NULL, NULL},
           *nrows[PARUS_S1SAFE_MAX_POLS] = {NULL, NULL};
    double *noise = NULL; /* one image line: the noise, then the angle */
    unsigned char *seen_row = NULL;
    parus_status st = PARUS_OK;
    size_t zeros = 0, clipped = 0;

    if (!parus__mul_size(w, STRIP_LINES, &cells))
        return parus_fail(err, PARUS_E_NOMEM, "image too wide");
    dn = malloc(cells * sizeof *dn);
    out = malloc(cells * sizeof *out);
    seen = malloc(cells);
    noise = malloc(w * sizeof *noise);
    seen_row = malloc(w);
    for (i = 0; i < np; i++) {
        rows[i] = lut_rows(s->pol[i].lut, s->pol[i].n_lut, w);
        if (denoise)
            nrows[i] = lut_rows(s->pol[i].nrange, s->pol[i].n_nrange, w);
    }
    if (!dn || !out || !seen || !noise || !seen_row || !rows[0] || (np > 1 && !rows[1]) ||
        (denoise && (!nrows[0] || (np > 1 && !nrows[1])))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out;
    }
    for (y0 = 0; y0 < h; y0 += STRIP_LINES) {
        size_t nl = h - y0 < STRIP_LINES ? h - y0 : STRIP_LINES, y;
        memset(seen, 0, nl * w);
        for (i = 0; i < np; i++) {
            const pol_product *pp = &s->pol[i];
            if (GDALRasterIO(GDALGetRasterBand(meas[i], 1), GF_Read, 0, (int)y0, (int)w, (int)nl,
                             dn, (int)w, (int)nl, GDT_UInt16, 0, 0) != CE_None) {
                st = parus_fail(err, PARUS_E_IO, "cannot read '%s': %s", pp->measurement,
                                parus__gdal_capture_msg(cap, "read error"));
                goto out;
            }
            for (y = 0; y < nl; y++) {
                double line = (double)(y0 + y), t;
                size_t k = lines_around(pp->lut, pp->n_lut, line, &t);
                const double *r0 = rows[i] + k * w, *r1 = r0 + w;
                if (denoise)
                    noise_row(pp, nrows[i], w, line, noise, seen_row);
                for (x = 0; x < w; x++) {
                    double d = dn[y * w + x], a, v;
                    if (d == 0) {
                        out[y * w + x] = NAN;
                        zeros++;
                        continue;
                    }
                    a = (1 - t) * r0[x] + t * r1[x];
                    v = (d * d - (denoise ? noise[x] : 0.0)) / (a * a);
                    if (v < PARUS_S1SAFE_NOISE_FLOOR) {
                        v = PARUS_S1SAFE_NOISE_FLOOR;
                        clipped++;
                    }
                    out[y * w + x] = v > SIGMA0_MAX_LINEAR ? NAN : (float)v;
                    seen[y * w + x] |= v <= SIGMA0_MAX_LINEAR;
                }
            }
            if (GDALRasterIO(GDALGetRasterBand(src, (int)i + 1), GF_Write, 0, (int)y0, (int)w,
                             (int)nl, out, (int)w, (int)nl, GDT_Float32, 0, 0) != CE_None) {
                st = parus_fail(err, PARUS_E_IO, "cannot write the calibrated image: %s",
                                parus__gdal_capture_msg(cap, "write error"));
                goto out;
            }
        }
        for (y = 0; y < nl; y++) {
            grid_row(s, s->incidence_deg, (double)(y0 + y), w, noise);
            for (x = 0; x < w; x++)
                out[y * w + x] = seen[y * w + x] ? (float)noise[x] : NAN;
        }
        if (GDALRasterIO(GDALGetRasterBand(src, (int)np + 1), GF_Write, 0, (int)y0, (int)w, (int)nl,
                         out, (int)w, (int)nl, GDT_Float32, 0, 0) != CE_None) {
            st = parus_fail(err, PARUS_E_IO, "cannot write the angle band: %s",
                            parus__gdal_capture_msg(cap, "write error"));
            goto out;
        }
    }
    res->n_dn_zero = zeros;
    res->n_noise_clipped = clipped;
out:
    for (i = 0; i < np; i++) {
        free(rows[i]);
        free(nrows[i]);
    }
    free(noise);
    free(seen_row);
    free(dn);
    free(out);
    free(seen);
    return st;
}

/* A tiled Float32 GeoTIFF; DEFLATE at zlevel, or uncompressed when zlevel is NULL. */
static GDALDatasetH create_gtiff(const char *path, size_t w, size_t h, int n_bands,
                                 const char *zlevel, const char *threads)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **opts = NULL;
    GDALDatasetH ds;
    if (!drv)
        return NULL;
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BLOCKXSIZE", "256");
    opts = CSLSetNameValue(opts, "BLOCKYSIZE", "256");
    if (zlevel) {
        opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
        opts = CSLSetNameValue(opts, "ZLEVEL", zlevel);
        opts = CSLSetNameValue(opts, "NUM_THREADS", threads);
    }
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    ds = GDALCreate(drv, path, (int)w, (int)h, n_bands, GDT_Float32, opts);
    CSLDestroy(opts);
    return ds;
}

static void set_meta(GDALDatasetH ds, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void set_meta(GDALDatasetH ds, const char *key, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    GDALSetMetadataItem(ds, key, v, NULL);
}

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Step 3: warp src (GCPs on UTM) onto a north-up grid of res_m at tmp. */
static parus_status warp_to(const parus_s1safe *s, GDALDatasetH src, const char *tmp,
                            const char *wkt, const parus_s1safe_options *o, parus_s1safe_result *r,
                            parus__gdal_capture *cap, parus_error *err)
{
    int n_bands = (int)s->info.n_pols + 1, b;
    char **topts = NULL, order[8], threads[16];
    void *gen = NULL, *approx = NULL;
    double gt[6], ext[4], x0, y1;
    int nx = 0, ny = 0;
    size_t w, h;
    GDALDatasetH dst = NULL;
    GDALWarpOptions *wo = NULL;
    GDALWarpOperationH op = NULL;
    parus_status st = PARUS_OK;

    topts = CSLSetNameValue(topts, "DST_SRS", wkt);
    topts = CSLSetNameValue(topts, "METHOD",
                            o->method == PARUS_S1SAFE_TPS ? "GCP_TPS" : "GCP_POLYNOMIAL");
    snprintf(order, sizeof order, "%d", (int)o->method);
    if (o->method != PARUS_S1SAFE_TPS)
        topts = CSLSetNameValue(topts, "MAX_GCP_ORDER", order);
    gen = GDALCreateGenImgProjTransformer2(src, NULL, topts);
    CSLDestroy(topts);
    if (!gen || GDALSuggestedWarpOutput2(src, GDALGenImgProjTransform, gen, gt, &nx, &ny, ext, 0) !=
                    CE_None) {
        st = parus_fail(err, PARUS_E_FORMAT, "'%s': GDAL cannot place the tie points: %s",
                        s->pol[0].annotation, parus__gdal_capture_msg(cap, "no reason given"));
        goto out;
    }
    /* snap the extent outwards to whole pixels of res_m (origin on a multiple of res_m) */
    x0 = floor(ext[0] / o->res_m) * o->res_m;
    y1 = ceil(ext[3] / o->res_m) * o->res_m;
    w = (size_t)ceil((ext[2] - x0) / o->res_m - 1e-9);
    h = (size_t)ceil((y1 - ext[1]) / o->res_m - 1e-9);
    if (w == 0 || h == 0 || w > 200000 || h > 200000) {
        st = parus_fail(err, PARUS_E_RANGE, "'%s': the footprint gives a %zu x %zu px grid", s->dir,
                        w, h);
        goto out;
    }
    gt[0] = x0;
    gt[1] = o->res_m;
    gt[2] = 0;
    gt[3] = y1;
    gt[4] = 0;
    gt[5] = -o->res_m;
    snprintf(threads, sizeof threads, "%d", o->n_threads);
    if (o->n_threads == 0)
        snprintf(threads, sizeof threads, "ALL_CPUS");
    dst = create_gtiff(tmp, w, h, n_bands, "1", threads);
    if (!dst || GDALSetGeoTransform(dst, gt) != CE_None || GDALSetProjection(dst, wkt) != CE_None) {
        st = parus_fail(err, PARUS_E_IO, "cannot create '%s': %s", tmp,
                        parus__gdal_capture_msg(cap, "GDAL gave no reason"));
        goto out;
    }
    for (b = 1; b <= n_bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(dst, b);
        bool angle = b == n_bands;
        GDALSetRasterNoDataValue(band, NAN);
        GDALSetDescription(band, angle ? "ANGLE" : s->info.pols[b - 1]);
        GDALSetRasterUnitType(band, angle ? "degree" : "linear");
    }
    GDALSetGenImgProjTransformerDstGeoTransform(gen, gt);
    approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, gen, 0.125);
    wo = GDALCreateWarpOptions();
    if (!approx || !wo) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out;
    }
    wo->hSrcDS = src;
    wo->hDstDS = dst;
    wo->nBandCount = n_bands;
    wo->panSrcBands = CPLMalloc(sizeof(int) * (size_t)n_bands);
    wo->panDstBands = CPLMalloc(sizeof(int) * (size_t)n_bands);
    wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * (size_t)n_bands);
    wo->padfDstNoDataReal = CPLMalloc(sizeof(double) * (size_t)n_bands);
    for (b = 0; b < n_bands; b++) {
        wo->panSrcBands[b] = wo->panDstBands[b] = b + 1;
        wo->padfSrcNoDataReal[b] = wo->padfDstNoDataReal[b] = NAN;
    }
    wo->eResampleAlg = GRA_Bilinear;
    wo->dfWarpMemoryLimit = 64.0 * 1024 * 1024;
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "NUM_THREADS", threads);
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = approx;
    op = GDALCreateWarpOperation(wo);
    if (!op || GDALChunkAndWarpImage(op, 0, 0, (int)w, (int)h) != CE_None) {
        st = parus_fail(err, PARUS_E_IO, "cannot warp '%s' onto its grid: %s", s->dir,
                        parus__gdal_capture_msg(cap, "GDAL gave no reason"));
        goto out;
    }
    r->width_px = w;
    r->height_px = h;
    set_meta(dst, "MISSION", "%s", s->info.mission);
    set_meta(dst, "INSTRUMENT_MODE", "%s", s->info.mode);
    set_meta(dst, "PRODUCT_TYPE", "%s", s->info.product_type);
    set_meta(dst, "BACKSCATTER_COEFFICIENT", "sigma0");
    set_meta(dst, "BACKSCATTER_SCALE", "linear");
    set_meta(dst, "ACQUISITION_DATE", "%s", s->info.start_utc);
    set_meta(dst, "ORBIT_DIRECTION", "%s", s->info.orbit_direction);
    set_meta(dst, "RELATIVE_ORBIT", "%d", s->info.relative_orbit);
    set_meta(dst, "NUMBER_OF_LOOKS", "%.1f", S1_GRDH_LOOKS);
    set_meta(dst, "NOISE_REMOVED", "%s", r->noise_removed ? "YES" : "NO");
    set_meta(dst, "TERRAIN_CORRECTED", "NO");
    set_meta(dst, "GEOLOCATION", "TIE_POINTS %s", method_name(o->method));
    set_meta(dst, "GEOLOCATION_ERROR_MEAN_M", "%.0f", r->placement.between_mean_m);
    set_meta(dst, "GEOLOCATION_ERROR_MAX_M", "%.0f", r->placement.between_max_m);
    set_meta(dst, "SOURCE_PRODUCT", "%s", base_name(s->dir));
out:
    if (op)
        GDALDestroyWarpOperation(op);
    if (wo) {
        wo->pTransformerArg = NULL;
        GDALDestroyWarpOptions(wo);
    }
    if (approx)
        GDALDestroyApproxTransformer(approx);
    if (gen)
        GDALDestroyGenImgProjTransformer(gen);
    if (dst) {
        cap->n_errors = 0;
        GDALClose(dst);
        if (st == PARUS_OK && cap->n_errors > 0)
            st = parus_fail(err, PARUS_E_IO, "cannot finish '%s': %s", tmp,
                            parus__gdal_capture_msg(cap, "GDAL gave no reason"));
    }
    return st;
}

parus_status parus_s1safe_write_tile(const parus_s1safe *s, const parus_s1safe_options *opt,
                                     const char *out_path, parus_s1safe_result *res,
                                     parus_error *err)
{
    parus_s1safe_options o = {0};
    parus_s1safe_result r = {0};
    size_t i, n_gcp = s->n_gl * s->n_gp;
    GDALDatasetH meas[PARUS_S1SAFE_MAX_POLS] = {NULL, NULL}, src = NULL;
    OGRSpatialReferenceH utm = NULL;
    char *wkt = NULL;
    GDAL_GCP *gcps = NULL;
    parus_outfile *of_src = NULL, *of_dst = NULL;
    parus__gdal_capture cap;
    parus_status st;
    int b;

    if (opt)
        o = *opt;
    if (o.res_m == 0)
        o.res_m = 10;
    if (!(o.res_m > 0 && o.res_m <= 1000) || (int)o.method < 0 || (int)o.method > 3 ||
        !(o.max_placement_error_m >= 0) || o.n_threads < 0 || o.n_threads > 1024)
        return parus_fail(err, PARUS_E_INVALID, "bad options (res_m %g)", o.res_m);
    if (o.max_placement_error_m == 0)
        o.max_placement_error_m = 3 * o.res_m;
    st = parus_output_check(out_path, NULL, s->files, s->n_files, err);
    if (st != PARUS_OK)
        return st;
    parus__gdal_capture_begin(&cap);
    st = open_measurements(s, meas, &cap, err);
    if (st == PARUS_OK)
        st = parus_s1safe_measure_placement(s, o.method, &r.placement, err);
    if (st == PARUS_OK && !(r.placement.between_max_m <= o.max_placement_error_m))
        st = parus_fail(
            err, PARUS_E_RANGE,
            "'%s': placed through its tie points alone, a pixel may be off by up to %.0f m "
            "(mean %.0f m, leave-one-out over %zu interior tie points; terrain %.0f..%.0f m), "
            "more than the %.0f m allowed: use a terrain-corrected product (SNAP "
            "Terrain-Correction, ASF RTC) or accept the error with --max-placement-error-m",
            s->dir, r.placement.between_max_m, r.placement.between_mean_m, r.placement.n_between,
            s->info.height_min_m, s->info.height_max_m, o.max_placement_error_m);
    if (st != PARUS_OK)
        goto out;
    r.epsg = utm_epsg(s->info.lon_center_deg, s->info.lat_center_deg);
    gcps = calloc(n_gcp, sizeof *gcps);
    utm = OSRNewSpatialReference(NULL);
    if (!gcps || !utm) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out;
    }
    if (OSRImportFromEPSG(utm, r.epsg) != OGRERR_NONE || OSRExportToWkt(utm, &wkt) != OGRERR_NONE) {
        st = parus_fail(err, PARUS_E_PROJ, "no definition of EPSG:%d", r.epsg);
        goto out;
    }
    st = tie_points_utm(s, r.epsg, gcps, err);
    if (st != PARUS_OK)
        goto out;
    st = parus__outfile_open_named(out_path, &of_src, err);
    if (st == PARUS_OK)
        st = parus__outfile_open_named(out_path, &of_dst, err);
    if (st != PARUS_OK)
        goto out;
    src = create_gtiff(parus__outfile_temp_path(of_src), s->info.width_px, s->info.height_px,
                       (int)s->info.n_pols + 1, NULL, NULL);
    if (!src || GDALSetGCPs(src, (int)n_gcp, gcps, wkt) != CE_None) {
        st = parus_fail(err, PARUS_E_IO, "cannot create '%s': %s", parus__outfile_temp_path(of_src),
                        parus__gdal_capture_msg(&cap, "GDAL gave no reason"));
        goto out;
    }
    for (b = 1; b <= (int)s->info.n_pols + 1; b++)
        GDALSetRasterNoDataValue(GDALGetRasterBand(src, b), NAN);
    r.noise_removed = !o.keep_noise;
    for (i = 0; i < s->info.n_pols; i++)
        r.noise_removed = r.noise_removed && s->pol[i].n_nrange > 0;
    st = calibrate_into(s, meas, src, r.noise_removed, &r, &cap, err);
    if (st == PARUS_OK)
        st = warp_to(s, src, parus__outfile_temp_path(of_dst), wkt, &o, &r, &cap, err);
out:
    if (src)
        GDALClose(src);
    for (i = 0; i < PARUS_S1SAFE_MAX_POLS; i++)
        if (meas[i])
            GDALClose(meas[i]);
    parus__gdal_capture_end(&cap);
    parus_outfile_abort(of_src); /* the radar-geometry intermediate never stays */
    if (st == PARUS_OK)
        st = parus_outfile_commit(of_dst, err);
    else
        parus_outfile_abort(of_dst);
    CPLFree(wkt);
    OSRDestroySpatialReference(utm);
    free(gcps);
    if (st == PARUS_OK && res)
        *res = r;
    return st;
}

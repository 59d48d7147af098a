/*
 * raster.c - imagery tiles through GDAL: sensor profile, band roles, scale/offset, nodata,
 * acquisition date, validity band, and block-by-block reading onto the finest grid.
 *
 * Workload: one acquisition a call, from a 50 x 50 px test chip to a 10980 x 10980 px Sentinel-2
 * tile of 13 bands. Opening reads headers and metadata only; pixels are read by readers, one per
 * thread, block by block in the file's own block layout so that each compressed block is decoded
 * once and memory stays bounded by (threads x block), never by the tile.
 *
 * Assumptions: north-up grids; the bands of one scene share a CRS and nest in the finest band's
 * grid (integer pixel-size ratios, origins on grid pixel corners). The rules for names, metadata
 * keys, dates, offsets and validity are the contract in docs/sensors.md; keep the two in step.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "parus/raster.h"
#include "raster_int.h"
#include "util_int.h"

/* Strip layouts with fewer rows per strip are grouped so a block has at least this many rows:
 * Landsat's 6-row strips would otherwise make 100 tiny blocks of per-block overhead. */
#define STRIP_MIN_ROWS 256
/* A tall single strip is cut into row groups of about this many pixels. */
#define STRIP_MAX_PIXELS ((size_t)1 << 24)
#define FOOTPRINT_EDGE_POINTS 21
#define MTL_MAX_BYTES PARUS__MTL_MAX_BYTES
/* ESA's processing baseline 04.00, with its -1000 DN offset, started on this date. */
#define S2_OFFSET_START_DATE "2022-01-25"

typedef enum mask_kind { MASK_GENERIC = 0, MASK_CBERS } mask_kind;

/* What a band needs beyond its public info to be read onto the grid. */
typedef struct band_priv {
    size_t file;   /* index into the tile's raster files */
    size_t kx, ky; /* the band's pixel size in grid pixels */
    size_t ox, oy; /* the grid origin's offset inside the band's grid, in grid pixels */
    bool has_sat;  /* unsigned integer type: its maximum means saturated */
    double sat;
} band_priv;

struct parus_tile {
    parus_tile_info info;
    parus_band_info *bands;
    band_priv *priv;
    char **files;     /* raster files in strcmp order, then a Landsat MTL */
    size_t n_rasters; /* the first n_rasters of files are rasters */
    ptrdiff_t validity_band;
    mask_kind mask;
    char *crs_name;
    char *crs_wkt;
    char *date_source;
    parus_radar_info radar; /* Sentinel-1 only (info.radar points here) */
    int ls_kind;            /* the layover/shadow band's convention (ls_kind) */
};

void parus_raster_set_cache_bytes(size_t bytes)
{
    parus__gdal_init();
    GDALSetCacheMax64((GIntBig)(bytes > (size_t)INT64_MAX ? (size_t)INT64_MAX : bytes));
}

/* ---- names ---- */

const char *parus_sensor_name(parus_sensor sensor)
{
    switch (sensor) {
    case PARUS_SENSOR_GENERIC:
        return "generic";
    case PARUS_SENSOR_S2_L2A:
        return "sentinel-2-l2a";
    case PARUS_SENSOR_S2_L1C:
        return "sentinel-2-l1c";
    case PARUS_SENSOR_LANDSAT_C2L2:
        return "landsat-c2l2";
    case PARUS_SENSOR_LANDSAT_L1:
        return "landsat-l1";
    case PARUS_SENSOR_CBERS4_AWFI:
        return "cbers-4-awfi";
    case PARUS_SENSOR_S1:
        return "sentinel-1";
    }
    return "unknown";
}

static const char *const role_names[PARUS_ROLE_N_] = {
    "blue",  "green",          "red",    "re1",      "re2",    "re3",  "nir", "nir_narrow",
    "swir1", "swir2",          "scl",    "qa_pixel", "qa_bqa", "mask", "vv",  "vh",
    "angle", "layover_shadow", "unknown"};

bool parus_role_is_value(parus_band_role role)
{
    return ((int)role >= 0 && role < PARUS_ROLE_N_SPECTRAL_) || role == PARUS_ROLE_VV ||
           role == PARUS_ROLE_VH;
}

static bool is_radar_role(parus_band_role role)
{
    return role >= PARUS_ROLE_VV && role <= PARUS_ROLE_LAYOVER_SHADOW;
}

const char *parus_role_name(parus_band_role role)
{
    if ((int)role < 0 || role >= PARUS_ROLE_N_)
        return "unknown";
    return role_names[role];
}

static const struct {
    const char *word;
    parus_band_role role;
} role_aliases[] = {
    {"rededge1", PARUS_ROLE_RE1},      {"rededge2", PARUS_ROLE_RE2},
    {"rededge3", PARUS_ROLE_RE3},      {"near infrared", PARUS_ROLE_NIR},
    {"near-infrared", PARUS_ROLE_NIR}, {"nir08", PARUS_ROLE_NIR_NARROW},
    {"swir16", PARUS_ROLE_SWIR1},      {"swir22", PARUS_ROLE_SWIR2},
    {"cmask", PARUS_ROLE_MASK},        {"cloudmask", PARUS_ROLE_MASK},
    {"cloud mask", PARUS_ROLE_MASK},   {"datamask", PARUS_ROLE_LAYOVER_SHADOW},
};

parus_band_role parus_role_from_name(const char *name)
{
    size_t i;
    if (!name)
        return PARUS_ROLE_UNKNOWN;
    for (i = 0; i < PARUS_ROLE_UNKNOWN; i++)
        if (parus__strcasecmp(name, role_names[i]) == 0)
            return (parus_band_role)i;
    for (i = 0; i < sizeof role_aliases / sizeof role_aliases[0]; i++)
        if (parus__strcasecmp(name, role_aliases[i].word) == 0)
            return role_aliases[i].role;
    return PARUS_ROLE_UNKNOWN;
}

/* Every band name any profile knows, longest first so that SR_B4 wins over B4 in a file name. */
static const char *const known_names[] = {
    "QA_PIXEL", "ST_B10", "SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "CMASK",
    "B01",      "B02",    "B03",   "B04",   "B05",   "B06",   "B07",   "B08",   "B8A",   "B09",
    "B10",      "B11",    "B12",   "B13",   "B14",   "B15",   "B16",   "BQA",   "SCL",   "B1",
    "B2",       "B3",     "B4",    "B5",    "B6",    "B7",    "B8",    "B9"};
#define N_KNOWN_NAMES (sizeof known_names / sizeof known_names[0])

typedef struct name_role {
    const char *name;
    parus_band_role role;
} name_role;

static const name_role s2_table[] = {
    {"B02", PARUS_ROLE_BLUE},  {"B03", PARUS_ROLE_GREEN},      {"B04", PARUS_ROLE_RED},
    {"B05", PARUS_ROLE_RE1},   {"B06", PARUS_ROLE_RE2},        {"B07", PARUS_ROLE_RE3},
    {"B08", PARUS_ROLE_NIR},   {"B8A", PARUS_ROLE_NIR_NARROW}, {"B11", PARUS_ROLE_SWIR1},
    {"B12", PARUS_ROLE_SWIR2}, {"SCL", PARUS_ROLE_SCL},        {NULL, PARUS_ROLE_UNKNOWN}};
static const name_role c2l2_table[] = {
    {"SR_B2", PARUS_ROLE_BLUE},        {"SR_B3", PARUS_ROLE_GREEN}, {"SR_B4", PARUS_ROLE_RED},
    {"SR_B5", PARUS_ROLE_NIR},         {"SR_B6", PARUS_ROLE_SWIR1}, {"SR_B7", PARUS_ROLE_SWIR2},
    {"QA_PIXEL", PARUS_ROLE_QA_PIXEL}, {NULL, PARUS_ROLE_UNKNOWN}};
static const name_role l1_table[] = {
    {"B2", PARUS_ROLE_BLUE},    {"B3", PARUS_ROLE_GREEN},          {"B4", PARUS_ROLE_RED},
    {"B5", PARUS_ROLE_NIR},     {"B6", PARUS_ROLE_SWIR1},          {"B7", PARUS_ROLE_SWIR2},
    {"BQA", PARUS_ROLE_QA_BQA}, {"QA_PIXEL", PARUS_ROLE_QA_PIXEL}, {NULL, PARUS_ROLE_UNKNOWN}};
static const name_role cbers_table[] = {{"B13", PARUS_ROLE_BLUE},   {"B14", PARUS_ROLE_GREEN},
                                        {"B15", PARUS_ROLE_RED},    {"B16", PARUS_ROLE_NIR},
                                        {"CMASK", PARUS_ROLE_MASK}, {NULL, PARUS_ROLE_UNKNOWN}};

static const name_role *sensor_table(parus_sensor sensor)
{
    switch (sensor) {
    case PARUS_SENSOR_S2_L2A:
    case PARUS_SENSOR_S2_L1C:
        return s2_table;
    case PARUS_SENSOR_LANDSAT_C2L2:
        return c2l2_table;
    case PARUS_SENSOR_LANDSAT_L1:
        return l1_table;
    case PARUS_SENSOR_CBERS4_AWFI:
        return cbers_table;
    case PARUS_SENSOR_GENERIC:
    case PARUS_SENSOR_S1:
        break;
    }
    return NULL;
}

static parus_band_role table_role(const name_role *t, const char *name)
{
    for (; t && t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t->role;
    return PARUS_ROLE_UNKNOWN;
}

static const char *known_name(const char *s)
{
    size_t i;
    for (i = 0; i < N_KNOWN_NAMES; i++)
        if (parus__strcasecmp(s, known_names[i]) == 0)
            return known_names[i];
    return NULL;
}

static bool is_name_delim(char c)
{
    return c == '\0' || c == '_' || c == '-' || c == '.' || c == ' ';
}

/* Where tok occurs in s as a whole token (case-insensitive), or NULL. */
static const char *find_token(const char *s, const char *tok)
{
    size_t n = strlen(tok);
    const char *p;
    for (p = s; *p; p++) {
        if (p != s && !is_name_delim(p[-1]))
            continue;
        if (strncasecmp(p, tok, n) == 0 && is_name_delim(p[n]))
            return p;
    }
    return NULL;
}

/* The base name of a path without its directory and last extension. */
static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    return parus__strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

/* The known band name in a file's base name: 0 none, 1 found (*name, *at), 2 ambiguous (two
 * different names, *name and *other). Longer names cover the shorter ones inside them. */
static int name_in_base(const char *base, const char **name, const char **other, const char **at)
{
    const char *spans_at[8];
    size_t spans_len[8];
    size_t n_spans = 0, i, j;
    const char *found = NULL;

    for (i = 0; i < N_KNOWN_NAMES; i++) {
        size_t len = strlen(known_names[i]);
        const char *p = base;
        while ((p = find_token(p, known_names[i])) != NULL) {
            bool covered = false;
            for (j = 0; j < n_spans; j++)
                if (p >= spans_at[j] && p + len <= spans_at[j] + spans_len[j])
                    covered = true;
            if (!covered) {
                if (found && found != known_names[i]) {
                    *name = found;
                    *other = known_names[i];
                    return 2;
                }
                found = known_names[i];
                *at = p;
                if (n_spans < 8) {
                    spans_at[n_spans] = p;
                    spans_len[n_spans++] = len;
                }
            }
            p += len;
        }
    }
    if (!found)
        return 0;
    *name = found;
    return 1;
}

/* A generic role word among the tokens of a base name ("red.tif", "scene_nir.tif"). */
static parus_band_role role_in_base(const char *base)
{
    size_t i;
    for (i = 0; i < PARUS_ROLE_UNKNOWN; i++)
        if (find_token(base, role_names[i]))
            return (parus_band_role)i;
    for (i = 0; i < sizeof role_aliases / sizeof role_aliases[0]; i++)
        if (!strchr(role_aliases[i].word, ' ') && find_token(base, role_aliases[i].word))
            return role_aliases[i].role;
    return PARUS_ROLE_UNKNOWN;
}

/* ---- Sentinel-1 names (docs/sensors.md, "Sentinel-1") ---- */

/* How a layover/shadow band says a pixel is usable. */
typedef enum ls_kind {
    LS_ZERO_GOOD = 0, /* parus's LAYOVER_SHADOW, SNAP's layover_shadow_mask: 0 usable */
    LS_ASF_BITS,      /* ASF RTC ls_map: bit 2 (4) layover or bit 4 (16) shadow not usable */
    LS_DATAMASK       /* Sentinel Hub dataMask: 1 data, 0 no data */
} ls_kind;

/* What a band's name says of it as a radar band. */
typedef struct radar_name {
    parus_band_role role; /* VV, VH, ANGLE, LAYOVER_SHADOW; UNKNOWN: not a radar name */
    char coefficient;     /* 's', 'g', 'b' from the name (SNAP's Sigma0_VV ...), 0: none */
    char scale;           /* 'l' linear, 'd' dB from the name, 0: none */
    ls_kind ls;
    bool snap; /* a SNAP band name */
} radar_name;

/* SNAP's calibrated bands: Sigma0_VV, Gamma0_VH, Beta0_VV_db, ... (linear intensity unless the
 * name ends in _db). */
static bool snap_name(const char *w, size_t n, radar_name *out)
{
    static const struct {
        const char *prefix;
        char coefficient;
    } coef[] = {{"Sigma0_", 's'}, {"Gamma0_", 'g'}, {"Beta0_", 'b'}};
    size_t i;
    for (i = 0; i < sizeof coef / sizeof coef[0]; i++) {
        size_t m = strlen(coef[i].prefix);
        const char *pol = w + m;
        if (n < m + 2 || strncasecmp(w, coef[i].prefix, m) != 0)
            continue;
        if (strncasecmp(pol, "VV", 2) != 0 && strncasecmp(pol, "VH", 2) != 0)
            return false;
        if (n == m + 2)
            out->scale = 'l';
        else if (n == m + 5 && strncasecmp(pol + 2, "_db", 3) == 0)
            out->scale = 'd';
        else
            return false;
        out->role = toupper((unsigned char)pol[1]) == 'V' ? PARUS_ROLE_VV : PARUS_ROLE_VH;
        out->coefficient = coef[i].coefficient;
        out->snap = true;
        return true;
    }
    return false;
}

/* The radar meaning of a word of n characters (a band description's first word, or a token of
 * a file name), or false. */
static bool radar_word(const char *w, size_t n, radar_name *out)
{
    static const struct {
        const char *word;
        parus_band_role role;
        ls_kind ls;
    } words[] = {
        {"VV", PARUS_ROLE_VV, LS_ZERO_GOOD},
        {"VH", PARUS_ROLE_VH, LS_ZERO_GOOD},
        {"ANGLE", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"incidenceAngleFromEllipsoid", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"localIncidenceAngle", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"projectedLocalIncidenceAngle", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"incidence_angle", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"inc_map", PARUS_ROLE_ANGLE, LS_ZERO_GOOD},
        {"LAYOVER_SHADOW", PARUS_ROLE_LAYOVER_SHADOW, LS_ZERO_GOOD},
        {"layover_shadow_mask", PARUS_ROLE_LAYOVER_SHADOW, LS_ZERO_GOOD},
        {"ls_map", PARUS_ROLE_LAYOVER_SHADOW, LS_ASF_BITS},
        {"dataMask", PARUS_ROLE_LAYOVER_SHADOW, LS_DATAMASK},
    };
    size_t i;
    memset(out, 0, sizeof *out);
    out->role = PARUS_ROLE_UNKNOWN;
    if (snap_name(w, n, out))
        return true;
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].word) == n && strncasecmp(w, words[i].word, n) == 0) {
            out->role = words[i].role;
            out->ls = words[i].ls;
            return true;
        }
    return false;
}

/* The radar name among the tokens of a single-band file's base name (ASF's ..._VV.tif,
 * ..._ls_map.tif; SNAP's Sigma0_VV_db.tif), or false. Tokens are split at the name delimiters;
 * runs of up to three tokens are tried, longest first, so Sigma0_VV_db wins over VV. */
static bool radar_in_base(const char *base, radar_name *out)
{
    size_t starts[64], ends[64], n_tok = 0, i, k;
    const char *p = base;
    while (*p && n_tok < 64) {
        while (*p && is_name_delim(*p))
            p++;
        if (!*p)
            break;
        starts[n_tok] = (size_t)(p - base);
        while (*p && !is_name_delim(*p))
            p++;
        ends[n_tok++] = (size_t)(p - base);
    }
    for (k = 3; k >= 1; k--)
        for (i = 0; i + k <= n_tok; i++) {
            size_t a = starts[i], b = ends[i + k - 1], j;
            bool underscores = true;
            for (j = a; j < b; j++)
                if (is_name_delim(base[j]) && base[j] != '_')
                    underscores = false;
            if (underscores && radar_word(base + a, b - a, out))
                return true;
        }
    return false;
}

/* ASF HyP3 RTC names: S1x_yy_aaaaaaaaTbbbbbb_ppo_RTCzz_u_defklm_ssss[_VV], where d is g
 * (gamma0) or s (sigma0) and e is p (power), d (decibel) or a (amplitude) (the product's
 * readme.md.txt). The defklm token into *coef and *scale; false when the name is not ASF's. */
static bool asf_rtc_token(const char *base, char *coef, char *scale, char token[7])
{
    const char *p = base;
    while ((p = strstr(p, "_RTC")) != NULL) {
        const char *q = p + 4;
        p += 4;
        if (!isdigit((unsigned char)q[0]) || !isdigit((unsigned char)q[1]) || q[2] != '_' ||
            !isalpha((unsigned char)q[3]) || q[4] != '_')
            continue;
        q += 5;
        if (strlen(q) < 6 || (q[6] != '\0' && q[6] != '_'))
            continue;
        if (!strchr("gs", q[0]) || !strchr("pda", q[1]) || !strchr("uw", q[2]) ||
            !strchr("nf", q[3]) || !strchr("ec", q[4]) || !strchr("dm", q[5]))
            continue;
        memcpy(token, q, 6);
        token[6] = '\0';
        *coef = q[0];
        *scale = q[1] == 'p' ? 'l' : q[1];
        return true;
    }
    return false;
}

/* ---- small helpers ---- */

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && parus__strcasecmp(s + n - m, suffix) == 0;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    double v;
    if (!s)
        return false;
    while (isspace((unsigned char)*s) || *s == '"')
        s++;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return false;
    while (isspace((unsigned char)*end) || *end == '"')
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

bool parus__parse_number(const char *s, double *out)
{
    return parse_double(s, out);
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static bool strvec_push(strvec *sv, char *s)
{
    if (!s)
        return false;
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? 2 * sv->cap : 16;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return false;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    return true;
}

static void strvec_release(strvec *sv)
{
    size_t i;
    for (i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- open: the state of one parus_tile_open call ---- */

typedef struct rfile {
    const char *path; /* borrowed from the open context's raster list */
    GDALDatasetH ds;
    OGRSpatialReferenceH srs; /* borrowed from ds */
    size_t w, h;
    int n_bands;
    double gt[6];
    bool has_name_date;
    char name_date[11];
    bool used;
    size_t kx, ky, ox, oy;
} rfile;

typedef struct cand {
    size_t file;
    int index;        /* 1-based */
    const char *name; /* a known band name, or NULL */
    char *desc;
    parus_band_role role;
    bool keep;
    radar_name radar; /* what the name says of a radar band (role UNKNOWN: nothing) */
} cand;

typedef struct open_ctx {
    const parus_tile_options *opt;
    const char *label; /* the first path, for messages about the tile as a whole */
    strvec rasters;
    strvec mtls;
    rfile *rf;
    size_t n_rf;
    cand *c;
    size_t n_c;
    char *mtl_path;
    char *mtl_text;
    parus_sensor sensor;
    size_t grid; /* index of the grid file */
} open_ctx;

static parus_status collect_dir(open_ctx *ctx, const char *dir, parus_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char *p;
        bool raster, mtl;
        if (e->d_name[0] == '.')
            continue;
        raster = ends_with_ci(e->d_name, ".tif") || ends_with_ci(e->d_name, ".tiff");
        mtl = ends_with_ci(e->d_name, "_MTL.txt");
        if (!raster && !mtl)
            continue;
        p = path_join(dir, e->d_name);
        if (!p) {
            closedir(d);
            return parus_fail(err, PARUS_E_NOMEM, "cannot list '%s'", dir);
        }
        if (!is_regular_file(p)) {
            free(p);
            continue;
        }
        if (!strvec_push(raster ? &ctx->rasters : &ctx->mtls, p)) {
            closedir(d);
            return parus_fail(err, PARUS_E_NOMEM, "cannot list '%s'", dir);
        }
    }
    closedir(d);
    return PARUS_OK;
}

/* A directory holding a manifest.safe: a Sentinel-1 product as ESA delivers it (parus/s1safe.h). */
static bool is_safe_product(const char *dir)
{
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/manifest.safe", dir);
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static parus_status collect_paths(open_ctx *ctx, const char *const *paths, size_t n_paths,
                                  parus_error *err)
{
    size_t i, j;
    for (i = 0; i < n_paths; i++) {
        struct stat st;
        parus_status st_code;
        if (!paths[i])
            return parus_fail(err, PARUS_E_INVALID, "tile path %zu is NULL", i);
        if (stat(paths[i], &st) != 0)
            return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", paths[i], strerror(errno));
        if (S_ISDIR(st.st_mode)) {
            st_code = collect_dir(ctx, paths[i], err);
            if (st_code)
                return st_code;
            continue;
        }
        if (!strvec_push(ends_with_ci(paths[i], "_MTL.txt") ? &ctx->mtls : &ctx->rasters,
                         parus__strdup(paths[i])))
            return parus_fail(err, PARUS_E_NOMEM, "cannot list '%s'", paths[i]);
    }
    if (ctx->rasters.n == 0 && n_paths == 1 && is_safe_product(paths[0]))
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s' is a Sentinel-1 SAFE product, not a tile: make it one with "
                          "'parus s1 calibrate %s --out TILE.tif'",
                          ctx->label, ctx->label);
    if (ctx->rasters.n == 0)
        return parus_fail(err, PARUS_E_BANDS, "no GeoTIFF in '%s'", ctx->label);
    qsort(ctx->rasters.v, ctx->rasters.n, sizeof *ctx->rasters.v, cmp_str);
    if (ctx->mtls.n > 1)
        qsort(ctx->mtls.v, ctx->mtls.n, sizeof *ctx->mtls.v, cmp_str);
    for (i = j = 0; i < ctx->rasters.n; i++) {
        if (j > 0 && strcmp(ctx->rasters.v[j - 1], ctx->rasters.v[i]) == 0) {
            free(ctx->rasters.v[i]);
            continue;
        }
        ctx->rasters.v[j++] = ctx->rasters.v[i];
    }
    ctx->rasters.n = j;
    return PARUS_OK;
}

/* A directory of several acquisitions is not one tile: say so before the bands clash. */
static parus_status check_name_dates(open_ctx *ctx, parus_error *err)
{
    size_t i, first = SIZE_MAX;
    for (i = 0; i < ctx->rasters.n; i++) {
        char *base = base_name(ctx->rasters.v[i]);
        rfile *f = &ctx->rf[i];
        if (!base)
            return parus_fail(err, PARUS_E_NOMEM, "cannot name '%s'", ctx->rasters.v[i]);
        f->has_name_date = parus__find_date(base, f->name_date);
        free(base);
        if (!f->has_name_date)
            continue;
        if (first == SIZE_MAX)
            first = i;
        else if (strcmp(ctx->rf[first].name_date, f->name_date) != 0)
            return parus_fail(
                err, PARUS_E_BANDS, "'%s' holds files of several dates ('%s' is %s, '%s' is %s)",
                ctx->label, ctx->rf[first].path, ctx->rf[first].name_date, f->path, f->name_date);
    }
    return PARUS_OK;
}

static parus_status open_files(open_ctx *ctx, parus__gdal_capture *cap, parus_error *err)
{
    size_t i;
    ctx->n_rf = ctx->rasters.n;
    ctx->rf = calloc(ctx->n_rf, sizeof *ctx->rf);
    if (!ctx->rf)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    for (i = 0; i < ctx->n_rf; i++)
        ctx->rf[i].path = ctx->rasters.v[i];
    {
        parus_status st = check_name_dates(ctx, err);
        if (st)
            return st;
    }
    for (i = 0; i < ctx->n_rf; i++) {
        rfile *f = &ctx->rf[i];
        const char *const drivers[] = {"GTiff", NULL};
        FILE *probe;
        bool explicit_tif = ends_with_ci(f->path, ".tif") || ends_with_ci(f->path, ".tiff");

        probe = fopen(f->path, "rb");
        if (!probe)
            return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", f->path, strerror(errno));
        fclose(probe);
        cap->msg[0] = '\0';
        /* Any raster GDAL reads is accepted when named explicitly; in practice these are
         * GeoTIFFs, and the GTiff driver alone is tried first so a corrupt TIFF gets its
         * own message rather than "not recognised". */
        f->ds = GDALOpenEx(f->path, GDAL_OF_RASTER | GDAL_OF_READONLY,
                           explicit_tif ? drivers : NULL, NULL, NULL);
        if (!f->ds)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is not a readable raster: %s", f->path,
                              parus__gdal_capture_msg(cap, "format not recognised"));
        f->w = (size_t)GDALGetRasterXSize(f->ds);
        f->h = (size_t)GDALGetRasterYSize(f->ds);
        f->n_bands = GDALGetRasterCount(f->ds);
        if (f->n_bands < 1 || f->w == 0 || f->h == 0)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' has no raster bands", f->path);
        f->srs = GDALGetSpatialRef(f->ds);
        if (!f->srs && GDALGetGCPCount(f->ds) > 0)
            return parus_fail(err, PARUS_E_NO_CRS,
                              "'%s' has %d tie points but no map grid (no coordinate reference "
                              "system): geocode it first (SNAP terrain correction, gdalwarp), or "
                              "for a Sentinel-1 GRD give the SAFE product to 'parus s1 calibrate'",
                              f->path, GDALGetGCPCount(f->ds));
        if (!f->srs)
            return parus_fail(err, PARUS_E_NO_CRS, "'%s' has no coordinate reference system",
                              f->path);
        if (GDALGetGeoTransform(f->ds, f->gt) != CE_None)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' has no geotransform", f->path);
        if (f->gt[2] != 0.0 || f->gt[4] != 0.0 || f->gt[1] <= 0.0 || f->gt[5] >= 0.0)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' is not a north-up grid (geotransform %g %g %g %g %g %g)",
                              f->path, f->gt[0], f->gt[1], f->gt[2], f->gt[3], f->gt[4], f->gt[5]);
    }
    return PARUS_OK;
}

/* The first word of a band description, or NULL (the name part of "B04 red 665nm"). */
static char *first_word(const char *s)
{
    size_t n;
    while (isspace((unsigned char)*s))
        s++;
    n = 0;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    return n ? parus__strndup(s, n) : NULL;
}

static parus_status gather_bands(open_ctx *ctx, parus_error *err)
{
    size_t i, n = 0, k = 0;
    for (i = 0; i < ctx->n_rf; i++)
        n += (size_t)ctx->rf[i].n_bands;
    ctx->c = calloc(n, sizeof *ctx->c);
    if (!ctx->c)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    for (i = 0; i < ctx->n_rf; i++) {
        rfile *f = &ctx->rf[i];
        int b;
        for (b = 1; b <= f->n_bands; b++, k++) {
            cand *c = &ctx->c[k];
            GDALRasterBandH band = GDALGetRasterBand(f->ds, b);
            const char *desc = band ? GDALGetDescription(band) : NULL;
            char *word;
            c->file = i;
            c->index = b;
            c->role = PARUS_ROLE_UNKNOWN;
            c->radar.role = PARUS_ROLE_UNKNOWN;
            c->desc = parus__strdup(desc ? desc : "");
            if (!c->desc)
                return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", f->path);
            ctx->n_c = k + 1;
            word = first_word(c->desc);
            if (word) {
                c->name = known_name(word);
                free(word);
            }
            if (!c->name && f->n_bands == 1) {
                char *base = base_name(f->path);
                const char *other = NULL, *at = NULL;
                int r;
                if (!base)
                    return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", f->path);
                r = name_in_base(base, &c->name, &other, &at);
                free(base);
                if (r == 2)
                    return parus_fail(err, PARUS_E_BANDS,
                                      "'%s' is named for two bands ('%s' and '%s')", f->path,
                                      c->name, other);
            }
            if (!c->name) {
                word = first_word(c->desc);
                if (!word || !radar_word(word, strlen(word), &c->radar))
                    c->radar.role = PARUS_ROLE_UNKNOWN;
                free(word);
            }
            if (!c->name && c->radar.role == PARUS_ROLE_UNKNOWN && f->n_bands == 1) {
                char *base = base_name(f->path);
                if (!base)
                    return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", f->path);
                if (!radar_in_base(base, &c->radar))
                    c->radar.role = PARUS_ROLE_UNKNOWN;
                free(base);
            }
        }
    }
    return PARUS_OK;
}

static const char *meta_item(GDALMajorObjectH obj, const char *key)
{
    const char *v = GDALGetMetadataItem(obj, key, NULL);
    return v && *v ? v : NULL;
}

/* The first file (in stable order) whose default metadata domain has key. */
static const char *tile_meta(const open_ctx *ctx, const char *key)
{
    size_t i;
    for (i = 0; i < ctx->n_rf; i++) {
        const char *v = ctx->rf[i].ds ? meta_item(ctx->rf[i].ds, key) : NULL;
        if (v)
            return v;
    }
    return NULL;
}

static bool any_name(const open_ctx *ctx, const char *const *names)
{
    size_t i, j;
    for (i = 0; i < ctx->n_c; i++)
        for (j = 0; names[j]; j++)
            if (ctx->c[i].name && strcmp(ctx->c[i].name, names[j]) == 0)
                return true;
    return false;
}

static bool any_file_token(const open_ctx *ctx, const char *tok)
{
    size_t i;
    for (i = 0; i < ctx->n_rf; i++) {
        char *base = base_name(ctx->rf[i].path);
        bool hit = base && find_token(base, tok);
        free(base);
        if (hit)
            return true;
    }
    return false;
}

static bool any_meta_prefix(const open_ctx *ctx, const char *prefix)
{
    size_t i, n = strlen(prefix);
    for (i = 0; i < ctx->n_rf; i++) {
        int b;
        /* b = 0 is the file's own metadata, then each band's */
        for (b = 0; b <= ctx->rf[i].n_bands; b++) {
            GDALMajorObjectH obj = b == 0 ? (GDALMajorObjectH)ctx->rf[i].ds
                                          : (GDALMajorObjectH)GDALGetRasterBand(ctx->rf[i].ds, b);
            char **md = obj ? GDALGetMetadata(obj, NULL) : NULL;
            for (; md && *md; md++)
                if (strncmp(*md, prefix, n) == 0 && ((*md)[n] == '=' || (*md)[n] == '_'))
                    return true;
        }
    }
    return false;
}

static bool s2_is_l2a(const open_ctx *ctx)
{
    static const char *const scl[] = {"SCL", NULL};
    const char *level = tile_meta(ctx, "PROCESSING_LEVEL");
    const char *type = tile_meta(ctx, "PRODUCT_TYPE");
    if (any_name(ctx, scl) || any_meta_prefix(ctx, "BOA_ADD_OFFSET"))
        return true;
    if (level &&
        (parus__strcasecmp(level, "Level-2A") == 0 || parus__strcasecmp(level, "L2A") == 0))
        return true;
    if (type && parus__strcasecmp(type, "S2MSI2A") == 0)
        return true;
    return any_file_token(ctx, "L2A") || any_file_token(ctx, "MSIL2A");
}

static parus_sensor detect_sensor(const open_ctx *ctx)
{
    static const char *const c2l2[] = {"SR_B1", "SR_B2", "SR_B3", "SR_B4",
                                       "SR_B5", "SR_B6", "SR_B7", NULL};
    static const char *const cbers[] = {"B13", "B14", "B15", "B16", "CMASK", NULL};
    static const char *const l1[] = {"B1", "B2", "B3", "B4",  "B5", "B6",
                                     "B7", "B8", "B9", "BQA", NULL};
    static const char *const s2[] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08",
                                     "B8A", "B09", "B10", "B11", "B12", "SCL", NULL};
    if (any_name(ctx, c2l2))
        return PARUS_SENSOR_LANDSAT_C2L2;
    if (any_name(ctx, cbers))
        return PARUS_SENSOR_CBERS4_AWFI;
    if (any_name(ctx, l1))
        return PARUS_SENSOR_LANDSAT_L1;
    if (any_name(ctx, s2))
        return s2_is_l2a(ctx) ? PARUS_SENSOR_S2_L2A : PARUS_SENSOR_S2_L1C;
    for (size_t i = 0; i < ctx->n_c; i++)
        if (ctx->c[i].radar.role == PARUS_ROLE_VV || ctx->c[i].radar.role == PARUS_ROLE_VH)
            return PARUS_SENSOR_S1;
    return PARUS_SENSOR_GENERIC;
}

static parus_band_role generic_role(const cand *c, const char *path, int n_bands)
{
    parus_band_role r = parus_role_from_name(c->desc);
    if (r == PARUS_ROLE_UNKNOWN) {
        char *word = first_word(c->desc);
        r = parus_role_from_name(word);
        free(word);
    }
    if (r == PARUS_ROLE_UNKNOWN && n_bands == 1 && !c->desc[0]) {
        char *base = base_name(path);
        if (base)
            r = role_in_base(base);
        free(base);
    }
    /* radar roles come from the Sentinel-1 profile or a band map only */
    return is_radar_role(r) ? PARUS_ROLE_UNKNOWN : r;
}

static parus_status apply_band_map(open_ctx *ctx, parus_error *err)
{
    const char *map = ctx->opt->band_map;
    const char *p = map;
    bool seen_role[PARUS_ROLE_N_] = {false};
    rfile *f;
    if (ctx->n_rf != 1)
        return parus_fail(err, PARUS_E_BANDS, "band map '%s' needs a single file, '%s' has %zu",
                          map, ctx->label, ctx->n_rf);
    f = &ctx->rf[0];
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64], *eq, *end, *key, *val;
        long idx;
        parus_band_role role;
        size_t n;
        if (len == 0 || len >= sizeof item)
            return parus_fail(err, PARUS_E_BANDS, "bad band map '%s'", map);
        memcpy(item, p, len);
        item[len] = '\0';
        eq = strchr(item, '=');
        if (!eq)
            return parus_fail(err, PARUS_E_BANDS, "bad band map '%s': '%s' has no '='", map, item);
        *eq = '\0';
        key = item;
        val = eq + 1;
        while (isspace((unsigned char)*key))
            key++;
        for (n = strlen(key); n > 0 && isspace((unsigned char)key[n - 1]); n--)
            key[n - 1] = '\0';
        role = parus_role_from_name(key);
        if (role == PARUS_ROLE_UNKNOWN)
            return parus_fail(err, PARUS_E_BANDS, "unknown role '%s' in band map '%s'", key, map);
        errno = 0;
        idx = strtol(val, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (end == val || *end || errno)
            return parus_fail(err, PARUS_E_BANDS, "bad band number '%s' for '%s' in band map", val,
                              key);
        if (idx < 1 || idx > f->n_bands)
            return parus_fail(err, PARUS_E_BANDS,
                              "band %ld of '%s' does not exist (it has %d bands)", idx, f->path,
                              f->n_bands);
        if (seen_role[role])
            return parus_fail(err, PARUS_E_BANDS, "role '%s' given twice in band map '%s'", key,
                              map);
        if (ctx->c[idx - 1].role != PARUS_ROLE_UNKNOWN)
            return parus_fail(err, PARUS_E_BANDS, "band %ld given twice in band map '%s'", idx,
                              map);
        seen_role[role] = true;
        ctx->c[idx - 1].role = role;
        if (parus__strcasecmp(key, "datamask") == 0)
            ctx->c[idx - 1].radar.ls = LS_DATAMASK;
        p += len;
        if (*p == ',')
            p++;
    }
    return PARUS_OK;
}

static double file_res(const rfile *f)
{
    return f->gt[1];
}

/* Assign roles, leave out files with no role, and settle roles claimed twice. */
static parus_status assign_roles(open_ctx *ctx, parus_error *err)
{
    size_t i, j;
    const name_role *table;
    bool mapped = ctx->opt->band_map != NULL;

    if (mapped) {
        parus_sensor own = detect_sensor(ctx);
        if (own != PARUS_SENSOR_GENERIC && own != PARUS_SENSOR_S1) {
            if (!ctx->opt->band_map_generic_only)
                return parus_fail(err, PARUS_E_BANDS,
                                  "'%s' describes its bands itself (%s): a band map is for "
                                  "generic tiles, and would drop its cloud mask and its scale; "
                                  "give it without one",
                                  ctx->label, parus_sensor_name(own));
            mapped = false; /* a map for every tile: this one has its own profile */
        }
    }
    if (mapped) {
        parus_status st = apply_band_map(ctx, err);
        if (st)
            return st;
        ctx->sensor = PARUS_SENSOR_GENERIC;
        for (i = 0; i < ctx->n_c; i++)
            if (is_radar_role(ctx->c[i].role))
                ctx->sensor = PARUS_SENSOR_S1;
    } else {
        ctx->sensor = detect_sensor(ctx);
        table = sensor_table(ctx->sensor);
        for (i = 0; i < ctx->n_c; i++) {
            cand *c = &ctx->c[i];
            const rfile *f = &ctx->rf[c->file];
            if (ctx->sensor == PARUS_SENSOR_S1) {
                c->role = c->radar.role;
                continue;
            }
            c->role = c->name ? table_role(table, c->name) : PARUS_ROLE_UNKNOWN;
            if (c->role == PARUS_ROLE_UNKNOWN)
                c->role = generic_role(c, f->path, f->n_bands);
        }
    }
    for (i = 0; i < ctx->n_c; i++) {
        cand *ci = &ctx->c[i];
        if (ci->role == PARUS_ROLE_UNKNOWN)
            continue;
        for (j = i + 1; j < ctx->n_c; j++) {
            cand *cj = &ctx->c[j];
            double ri, rj;
            if (cj->role != ci->role)
                continue;
            ri = file_res(&ctx->rf[ci->file]);
            rj = file_res(&ctx->rf[cj->file]);
            if (fabs(ri - rj) <= 1e-9 * fmax(ri, rj))
                return parus_fail(err, PARUS_E_BANDS,
                                  "two bands hold the %s role: band %d of '%s' and band %d of "
                                  "'%s'",
                                  role_names[ci->role], ci->index, ctx->rf[ci->file].path,
                                  cj->index, ctx->rf[cj->file].path);
            if (rj < ri) {
                ci->role = PARUS_ROLE_UNKNOWN;
                break;
            }
            cj->role = PARUS_ROLE_UNKNOWN;
        }
    }
    for (i = 0; i < ctx->n_c; i++)
        if (ctx->c[i].role != PARUS_ROLE_UNKNOWN)
            ctx->rf[ctx->c[i].file].used = true;
    if (ctx->n_rf == 1)
        ctx->rf[0].used = true;
    for (i = 0; i < ctx->n_c; i++)
        ctx->c[i].keep = ctx->rf[ctx->c[i].file].used;
    return PARUS_OK;
}

static parus_status require_red_nir(const open_ctx *ctx, parus_error *err)
{
    bool red = false, nir = false;
    char found[512];
    size_t i, n = 0;
    found[0] = '\0';
    if (ctx->sensor == PARUS_SENSOR_S1) {
        bool vv = false, vh = false, mixed = false;
        for (i = 0; i < ctx->n_c; i++) {
            vv |= ctx->c[i].keep && ctx->c[i].role == PARUS_ROLE_VV;
            vh |= ctx->c[i].keep && ctx->c[i].role == PARUS_ROLE_VH;
            mixed |= ctx->c[i].keep && parus_role_is_value(ctx->c[i].role) &&
                     !is_radar_role(ctx->c[i].role);
        }
        if (mixed)
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' mixes radar and optical bands: give each its own tile",
                              ctx->label);
        if (!vv)
            return parus_fail(err, PARUS_E_BANDS,
                              "no VV band in '%s'%s: parus reads Sentinel-1 VV or VV+VH "
                              "(docs/sensors.md, Sentinel-1)",
                              ctx->label, vh ? " (VH only)" : "");
        return PARUS_OK;
    }
    /* a radar file beside optical bands is another tile, not a band of this one */
    for (i = 0; i < ctx->n_c; i++)
        if (ctx->n_rf > 1 &&
            (ctx->c[i].radar.role == PARUS_ROLE_VV || ctx->c[i].radar.role == PARUS_ROLE_VH))
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' holds a Sentinel-1 file ('%s') beside %s bands: one tile is "
                              "one acquisition; give each file on its own (or run the nightly "
                              "job over the directory)",
                              ctx->label, ctx->rf[ctx->c[i].file].path,
                              parus_sensor_name(ctx->sensor));
    for (i = 0; i < ctx->n_c; i++) {
        const cand *c = &ctx->c[i];
        if (!c->keep)
            continue;
        red |= c->role == PARUS_ROLE_RED;
        nir |= c->role == PARUS_ROLE_NIR;
        if (n < sizeof found - 1) {
            int w = snprintf(found + n, sizeof found - n, "%s%s", n ? ", " : "",
                             c->name      ? c->name
                             : c->desc[0] ? c->desc
                                          : role_names[c->role]);
            if (w > 0)
                n += (size_t)w < sizeof found - n ? (size_t)w : sizeof found - n - 1;
        }
    }
    if (red && nir)
        return PARUS_OK;
    return parus_fail(err, PARUS_E_BANDS, "no %s band in '%s' (%s bands: %s)",
                      !red && !nir ? "red and nir"
                      : !red       ? "red"
                                   : "nir",
                      ctx->label, parus_sensor_name(ctx->sensor), n ? found : "none recognised");
}

/* x is an integer to within tol; its rounded value in *out. */
static bool near_int(double x, double tol, long *out)
{
    double r = floor(x + 0.5);
    if (fabs(x - r) > tol || fabs(r) > 1e12)
        return false;
    *out = (long)r;
    return true;
}

static parus_status nest_grids(open_ctx *ctx, parus_error *err)
{
    size_t i;
    const rfile *g = NULL;
    for (i = 0; i < ctx->n_rf; i++) {
        const rfile *f = &ctx->rf[i];
        if (!f->used)
            continue;
        if (!g || f->gt[1] * -f->gt[5] < g->gt[1] * -g->gt[5] * (1 - 1e-9)) {
            g = f;
            ctx->grid = i;
        }
    }
    for (i = 0; i < ctx->n_rf; i++) {
        rfile *f = &ctx->rf[i];
        long kx, ky, ox, oy;
        if (!f->used)
            continue;
        if (f != g && !OSRIsSame(f->srs, g->srs))
            return parus_fail(err, PARUS_E_FORMAT, "'%s' is not in the same CRS as '%s'", f->path,
                              g->path);
        if (!near_int(f->gt[1] / g->gt[1], 1e-6, &kx) ||
            !near_int(f->gt[5] / g->gt[5], 1e-6, &ky) || kx < 1 || ky < 1)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' does not nest in the grid of '%s': pixel size %g x %g is not "
                              "a multiple of %g x %g",
                              f->path, g->path, f->gt[1], -f->gt[5], g->gt[1], -g->gt[5]);
        if (!near_int((g->gt[0] - f->gt[0]) / g->gt[1], 1e-6, &ox) ||
            !near_int((g->gt[3] - f->gt[3]) / g->gt[5], 1e-6, &oy))
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' does not nest in the grid of '%s': its origin is not on a "
                              "pixel corner",
                              f->path, g->path);
        if (ox < 0 || oy < 0 || (double)ox + (double)g->w > (double)kx * (double)f->w ||
            (double)oy + (double)g->h > (double)ky * (double)f->h)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' does not cover the grid of '%s'", f->path,
                              g->path);
        f->kx = (size_t)kx;
        f->ky = (size_t)ky;
        f->ox = (size_t)ox;
        f->oy = (size_t)oy;
    }
    return PARUS_OK;
}

/* ---- Landsat MTL ---- */

static parus_status load_mtl(open_ctx *ctx, parus_error *err)
{
    FILE *fp;
    size_t got;
    char *path = NULL;

    if (ctx->mtls.n > 0) {
        path = parus__strdup(ctx->mtls.v[0]);
    } else {
        /* l8_B4.tif -> l8_MTL.txt, LC08_..._T1_SR_B4.TIF -> LC08_..._T1_MTL.txt */
        size_t i;
        for (i = 0; i < ctx->n_c && !path; i++) {
            const cand *c = &ctx->c[i];
            const rfile *f = &ctx->rf[c->file];
            const char *slash, *at = NULL, *name = NULL, *other = NULL;
            char *base, *prefix, *dir, *mtl;
            size_t dir_len;
            if (!c->keep || !c->name || f->n_bands != 1)
                continue;
            base = base_name(f->path);
            if (!base)
                return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", f->path);
            if (name_in_base(base, &name, &other, &at) != 1 || at == base) {
                free(base);
                continue;
            }
            prefix = parus__strndup(base, (size_t)(at - base));
            slash = strrchr(f->path, '/');
            dir_len = slash ? (size_t)(slash - f->path) + 1 : 0;
            dir = parus__strndup(f->path, dir_len);
            mtl = prefix && dir ? malloc(dir_len + strlen(prefix) + 8) : NULL;
            if (mtl)
                snprintf(mtl, dir_len + strlen(prefix) + 8, "%s%sMTL.txt", dir, prefix);
            free(base);
            free(prefix);
            free(dir);
            if (!mtl)
                return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", f->path);
            if (is_regular_file(mtl))
                path = mtl;
            else
                free(mtl);
        }
        if (!path)
            return PARUS_OK;
    }
    if (!path)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->mtls.v[0]);
    ctx->mtl_path = path;
    fp = fopen(path, "rb");
    if (!fp)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    ctx->mtl_text = malloc(MTL_MAX_BYTES + 1);
    if (!ctx->mtl_text) {
        fclose(fp);
        return parus_fail(err, PARUS_E_NOMEM, "cannot read '%s'", path);
    }
    got = fread(ctx->mtl_text, 1, MTL_MAX_BYTES, fp);
    if (ferror(fp)) {
        fclose(fp);
        return parus_fail(err, PARUS_E_IO, "cannot read '%s'", path);
    }
    /* never read a cut MTL: a key past the cut (a scale, a date) would be silently missing */
    if (got == MTL_MAX_BYTES && getc(fp) != EOF) {
        fclose(fp);
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is longer than %d bytes: not a Landsat MTL",
                          path, MTL_MAX_BYTES);
    }
    fclose(fp);
    if (memchr(ctx->mtl_text, '\0', got))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' holds a NUL byte: not a Landsat MTL text",
                          path);
    ctx->mtl_text[got] = '\0';
    return PARUS_OK;
}

/* The value of "KEY = VALUE" in the MTL (quotes removed) into buf, or false. */
bool parus__mtl_get(const char *text, const char *key, char *buf, size_t size)
{
    size_t n = strlen(key);
    const char *line = text;
    while (line && *line) {
        const char *p = line, *eol = strchr(line, '\n');
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '=')) {
            const char *v = p + n;
            size_t len;
            while (*v == ' ' || *v == '\t')
                v++;
            if (*v == '=') {
                v++;
                while (*v == ' ' || *v == '\t' || *v == '"')
                    v++;
                len = eol ? (size_t)(eol - v) : strlen(v);
                while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == ' ' || v[len - 1] == '"'))
                    len--;
                if (len >= size)
                    return false;
                memcpy(buf, v, len);
                buf[len] = '\0';
                return true;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

/* ---- date ---- */

static const char *const date_keys[] = {"ACQUISITION_DATE",   "DATATAKE_SENSING_START",
                                        "PRODUCT_START_TIME", "SENSING_TIME",
                                        "SENSING_DATE",       "DATE_ACQUIRED"};

static const char *find_ci(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return s;
    return NULL;
}

/* The first day a sensor family acquired (its first satellite's launch); for a generic tile,
 * Landsat 1's (1972-07-23): no multispectral satellite image is older. */
static const char *sensor_first_day(parus_sensor sensor)
{
    switch (sensor) {
    case PARUS_SENSOR_S2_L2A:
    case PARUS_SENSOR_S2_L1C:
        return "2015-06-23"; /* Sentinel-2A */
    case PARUS_SENSOR_LANDSAT_C2L2:
    case PARUS_SENSOR_LANDSAT_L1:
        return "2013-02-11"; /* Landsat 8, the first OLI */
    case PARUS_SENSOR_CBERS4_AWFI:
        return "2014-12-07"; /* CBERS-4 */
    case PARUS_SENSOR_S1:
        return "2014-04-03"; /* Sentinel-1A */
    case PARUS_SENSOR_GENERIC:
        break;
    }
    return "1972-07-23";
}

/* The date a file's metadata item key holds, into date; false when it holds none. */
static bool meta_date(GDALDatasetH ds, const char *key, char date[11])
{
    const char *v = meta_item(ds, key);
    while (v && isspace((unsigned char)*v))
        v++;
    return v && parus__parse_date(v, date);
}

/* The date the tile carries itself (metadata, an MTL file, its file name, a metadata text), into
 * date with where it came from; false when it carries none. */
static bool own_date(open_ctx *ctx, char date[11], char src[96])
{
    size_t i, k;
    for (k = 0; k < sizeof date_keys / sizeof date_keys[0]; k++)
        for (i = 0; i < ctx->n_rf; i++) {
            if (ctx->rf[i].used && meta_date(ctx->rf[i].ds, date_keys[k], date)) {
                snprintf(src, 96, "metadata %s", date_keys[k]);
                return true;
            }
        }
    if (ctx->mtl_text) {
        char buf[64];
        if (parus__mtl_get(ctx->mtl_text, "DATE_ACQUIRED", buf, sizeof buf) &&
            parus__parse_date(buf, date)) {
            snprintf(src, 96, "MTL DATE_ACQUIRED");
            return true;
        }
    }
    for (i = 0; i < ctx->n_rf; i++)
        if (ctx->rf[i].used && ctx->rf[i].has_name_date) {
            memcpy(date, ctx->rf[i].name_date, 11);
            snprintf(src, 96, "file name");
            return true;
        }
    for (i = 0; i < ctx->n_rf; i++) {
        char **md = ctx->rf[i].used ? GDALGetMetadata(ctx->rf[i].ds, NULL) : NULL;
        for (; md && *md; md++) {
            static const char *const words[] = {"sensing", "acquired", "acquisition"};
            const char *eq = strchr(*md, '=');
            if (!eq || strncmp(*md, "TIFFTAG_DATETIME=", 17) == 0)
                continue;
            for (k = 0; k < sizeof words / sizeof words[0]; k++) {
                const char *w = find_ci(eq + 1, words[k]);
                if (w && parus__find_date(w, date)) {
                    snprintf(src, 96, "metadata %.*s text", (int)(eq - *md), *md);
                    return true;
                }
            }
        }
    }
    return false;
}

/* The files of one tile are one acquisition: each used file's own date (the first of date_keys
 * in its metadata, else the date in its name) must be the others'. The names are checked before
 * the files are opened (check_name_dates); band files with undated names and their dates in
 * their metadata would otherwise make one tile of two acquisitions (red of one day, NIR of
 * another: an NDVI of neither). */
static parus_status check_file_dates(const open_ctx *ctx, parus_error *err)
{
    size_t i, k, first = SIZE_MAX, undated = SIZE_MAX;
    char first_date[11] = "", first_src[64] = "";
    for (i = 0; i < ctx->n_rf; i++) {
        char d[11], src[64];
        bool have = false;
        if (!ctx->rf[i].used)
            continue;
        for (k = 0; k < sizeof date_keys / sizeof date_keys[0] && !have; k++)
            if (meta_date(ctx->rf[i].ds, date_keys[k], d)) {
                snprintf(src, sizeof src, "metadata %s", date_keys[k]);
                have = true;
            }
        if (!have && ctx->rf[i].has_name_date) {
            memcpy(d, ctx->rf[i].name_date, sizeof d);
            snprintf(src, sizeof src, "its name");
            have = true;
        }
        if (!have) {
            if (undated == SIZE_MAX)
                undated = i;
            continue;
        }
        if (first == SIZE_MAX) {
            first = i;
            memcpy(first_date, d, sizeof first_date);
            memcpy(first_src, src, sizeof first_src);
        } else if (strcmp(first_date, d) != 0) {
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' holds files of several dates ('%s' is %s from %s, '%s' is %s "
                              "from %s): one tile is one acquisition",
                              ctx->label, ctx->rf[first].path, first_date, first_src,
                              ctx->rf[i].path, d, src);
        }
    }
    /* a file that says no date beside files that do: nothing vouches that it is of theirs */
    if (first != SIZE_MAX && undated != SIZE_MAX)
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s' holds files of several dates or none: '%s' is %s (from %s), '%s' "
                          "carries no date (neither in its metadata nor in its name): one tile is "
                          "one acquisition",
                          ctx->label, ctx->rf[first].path, first_date, first_src,
                          ctx->rf[undated].path);
    return PARUS_OK;
}

static parus_status find_date(open_ctx *ctx, parus_tile *t, parus_error *err)
{
    char src[96];
    char *date = t->info.date;
    parus_status st = check_file_dates(ctx, err);

    if (st != PARUS_OK)
        return st;
    src[0] = '\0';
    if (ctx->opt->date) {
        char own[11], own_src[96];
        if (!parus__parse_date(ctx->opt->date, date) || strlen(ctx->opt->date) != 10)
            return parus_fail(err, PARUS_E_INVALID, "bad date '%s' (want YYYY-MM-DD)",
                              ctx->opt->date);
        /* --date is for a file that carries no date, or one it cannot be (after today, before
         * its sensor flew): a plausible date of its own is not overridden without a word (a
         * batch given one --date would stack every tile on one day) */
        if (own_date(ctx, own, own_src) && strcmp(own, date) != 0 &&
            parus__date_days(own) <= (int64_t)(time(NULL) / 86400) + 1 &&
            parus__date_days(own) >= parus__date_days(sensor_first_day(ctx->sensor)))
            return parus_fail(err, PARUS_E_INVALID,
                              "'%s' carries its own date %s (from %s); --date %s differs: --date "
                              "is for files that carry none",
                              ctx->label, own, own_src, date);
        snprintf(src, sizeof src, "option");
        goto found;
    }
    if (own_date(ctx, date, src))
        goto found;
    return parus_fail(err, PARUS_E_NO_DATE,
                      "no acquisition date for '%s' (no date in metadata or file name)",
                      ctx->label);
found:
    /* No acquisition is later than the clock (a day's grace for a local date in a name): a
     * date in the future is a typo or a wrong key, and it would set the tile's season and, for
     * Sentinel-2, its processing baseline's offset */
    if (parus__date_days(date) > (int64_t)(time(NULL) / 86400) + 1) {
        char today[11];
        parus__format_day((int64_t)(time(NULL) / 86400), today);
        return parus_fail(err, PARUS_E_NO_DATE,
                          "'%s' is dated %s (from %s), after today (%s UTC): no acquisition "
                          "is%s",
                          ctx->label, date, src, today,
                          ctx->opt->date ? "" : "; give its date with --date YYYY-MM-DD");
    }
    /* ... nor earlier than its sensor flew: a date before it is a typo, a wrong key or a
     * placeholder (1900-01-01, 1901-...), and would put the tile in a season decades away */
    {
        /* a date the user gives is held only to the generic floor: the sensor is partly guessed
         * from band names (B1..B9 is taken for Landsat 8), and an older product may be named so */
        bool given = ctx->opt->date != NULL;
        parus_sensor floor_of = given ? PARUS_SENSOR_GENERIC : ctx->sensor;
        const char *first = sensor_first_day(floor_of);
        if (parus__date_days(date) < parus__date_days(first))
            return parus_fail(err, PARUS_E_NO_DATE,
                              "'%s' is dated %s (from %s), before any %s acquisition (the first: "
                              "%s)%s",
                              ctx->label, date, src,
                              floor_of == PARUS_SENSOR_GENERIC ? "Earth-observation"
                                                               : parus_sensor_name(floor_of),
                              first, given ? "" : ": give its date with --date YYYY-MM-DD");
    }
    t->date_source = parus__strdup(src);
    if (!t->date_source)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    t->info.date_source = t->date_source;
    return PARUS_OK;
}

/* ---- scale, offset, nodata ---- */

static const char *band_or_file_meta(GDALRasterBandH band, GDALDatasetH ds, const char *key)
{
    const char *v = meta_item(band, key);
    return v ? v : meta_item(ds, key);
}

/* Sentinel-2's DN offset: per-band key, one key, processing baseline, file name, date. */
static double s2_offset(const open_ctx *ctx, const parus_tile *t, const cand *c,
                        GDALRasterBandH band, GDALDatasetH ds)
{
    const char *prefix = ctx->sensor == PARUS_SENSOR_S2_L2A ? "BOA_ADD_OFFSET" : "RADIO_ADD_OFFSET";
    char key[64];
    double v;
    size_t i;

    snprintf(key, sizeof key, "%s_%s", prefix, c->name ? c->name : "");
    if (c->name && parse_double(band_or_file_meta(band, ds, key), &v))
        return v;
    if (parse_double(band_or_file_meta(band, ds, prefix), &v))
        return v;
    if (parse_double(tile_meta(ctx, "PROCESSING_BASELINE"), &v))
        return v >= 4.0 ? -1000.0 : 0.0;
    for (i = 0; i < ctx->n_rf; i++) {
        char *base = base_name(ctx->rf[i].path);
        const char *p = base;
        while (p && *p) {
            if ((p == base || is_name_delim(p[-1])) && p[0] == 'N' &&
                isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4]) &&
                is_name_delim(p[5])) {
                int baseline =
                    (p[1] - '0') * 1000 + (p[2] - '0') * 100 + (p[3] - '0') * 10 + (p[4] - '0');
                free(base);
                return baseline >= 400 ? -1000.0 : 0.0;
            }
            p++;
        }
        free(base);
    }
    return strcmp(t->info.date, S2_OFFSET_START_DATE) >= 0 ? -1000.0 : 0.0;
}

static int landsat_band_number(const char *name)
{
    const char *b = name ? strrchr(name, 'B') : NULL;
    char *end;
    long n;
    if (!b || !isdigit((unsigned char)b[1]))
        return 0;
    n = strtol(b + 1, &end, 10);
    return *end == '\0' && n > 0 && n < 100 ? (int)n : 0;
}

/* One optical reference (docs/sensors.md): Landsat 8/9 OLI reflectance is brought to Sentinel-2A
 * MSI's band-passes by inverting the HLS v2.0 adjustment of MSI to OLI, OLI = slope x MSI +
 * offset per band (Claverie et al. 2018, Remote Sens. Environ. 219:145, Table 5 of the HLS v2.0
 * User Guide; OLI's NIR B5 pairs with MSI's narrow NIR B8A). MSI = (OLI - offset) / slope is
 * linear, so it folds into the band's scale and offset. Roles without a coefficient: unchanged. */
static bool hls_s2a_coefficients(parus_band_role role, double *slope, double *offset)
{
    static const struct {
        parus_band_role role;
        double slope, offset;
    } msi_a_to_oli[] = {
        {PARUS_ROLE_BLUE, 0.9778, -0.0040},  {PARUS_ROLE_GREEN, 1.0053, -0.0009},
        {PARUS_ROLE_RED, 0.9765, 0.0009},    {PARUS_ROLE_NIR, 0.9983, -0.0001},
        {PARUS_ROLE_SWIR1, 0.9987, -0.0011}, {PARUS_ROLE_SWIR2, 1.0030, -0.0012},
    };
    for (size_t i = 0; i < sizeof msi_a_to_oli / sizeof msi_a_to_oli[0]; i++)
        if (msi_a_to_oli[i].role == role) {
            *slope = msi_a_to_oli[i].slope;
            *offset = msi_a_to_oli[i].offset;
            return true;
        }
    return false;
}

static void band_scale(const open_ctx *ctx, const parus_tile *t, const cand *c,
                       GDALRasterBandH band, GDALDatasetH ds, GDALDataType dt, double *scale,
                       double *offset)
{
    double q, v;
    *scale = 1.0;
    *offset = 0.0;
    if (c->role >= PARUS_ROLE_N_SPECTRAL_)
        return;
    switch (ctx->sensor) {
    case PARUS_SENSOR_S2_L2A:
    case PARUS_SENSOR_S2_L1C:
        q = 10000.0;
        if (!parse_double(band_or_file_meta(band, ds, "BOA_QUANTIFICATION_VALUE"), &v) &&
            !parse_double(band_or_file_meta(band, ds, "QUANTIFICATION_VALUE"), &v))
            v = q;
        q = v > 0 ? v : q;
        *scale = 1.0 / q;
        *offset = s2_offset(ctx, t, c, band, ds) / q;
        return;
    case PARUS_SENSOR_LANDSAT_C2L2:
    case PARUS_SENSOR_LANDSAT_L1: {
        int n = landsat_band_number(c->name);
        char key[48], buf[64];
        bool c2 = ctx->sensor == PARUS_SENSOR_LANDSAT_C2L2;
        *scale = c2 ? 0.0000275 : 2.0e-5;
        *offset = c2 ? -0.2 : -0.1;
        if (ctx->mtl_text && n > 0) {
            snprintf(key, sizeof key, "REFLECTANCE_MULT_BAND_%d", n);
            if (parus__mtl_get(ctx->mtl_text, key, buf, sizeof buf) && parse_double(buf, &v))
                *scale = v;
            snprintf(key, sizeof key, "REFLECTANCE_ADD_BAND_%d", n);
            if (parus__mtl_get(ctx->mtl_text, key, buf, sizeof buf) && parse_double(buf, &v))
                *offset = v;
        }
        double a, b;
        if (!ctx->opt->native && hls_s2a_coefficients(c->role, &a, &b)) {
            *scale /= a;
            *offset = (*offset - b) / a;
        }
        return;
    }
    case PARUS_SENSOR_CBERS4_AWFI:
        *scale = 1e-4;
        return;
    case PARUS_SENSOR_S1: /* radar roles are not spectral: read through radar_values */
        return;
    case PARUS_SENSOR_GENERIC: {
        int has_scale = 0, has_offset = 0;
        double s = GDALGetRasterScale(band, &has_scale);
        double o = GDALGetRasterOffset(band, &has_offset);
        if (has_scale || has_offset) {
            *scale = has_scale ? s : 1.0;
            *offset = has_offset ? o : 0.0;
        } else if (!GDALDataTypeIsFloating(dt)) {
            *scale = 1e-4;
        }
        return;
    }
    }
}

static bool saturation_value(GDALDataType dt, double *out)
{
    switch (dt) {
    case GDT_Byte:
        *out = 255.0;
        return true;
    case GDT_UInt16:
        *out = 65535.0;
        return true;
    case GDT_UInt32:
        *out = 4294967295.0;
        return true;
    default:
        return false;
    }
}

/* ---- CRS and footprint ---- */

static parus_status describe_crs(const open_ctx *ctx, parus_tile *t, parus_error *err)
{
    OGRSpatialReferenceH srs = ctx->rf[ctx->grid].srs;
    const char *name = OSRGetName(srs);
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *const wkt_opts[] = {"FORMAT=WKT2_2019", NULL};
    char *wkt = NULL;

    t->crs_name = parus__strdup(name ? name : "unnamed");
    if (OSRExportToWktEx(srs, &wkt, wkt_opts) == OGRERR_NONE && wkt)
        t->crs_wkt = parus__strdup(wkt);
    CPLFree(wkt);
    if (!t->crs_name || !t->crs_wkt)
        return parus_fail(err, PARUS_E_NOMEM, "cannot describe the CRS of '%s'",
                          ctx->rf[ctx->grid].path);
    t->info.crs_name = t->crs_name;
    t->info.crs_wkt = t->crs_wkt;
    t->info.epsg = 0;
    if (auth && parus__strcasecmp(auth, "EPSG") == 0) {
        const char *code = OSRGetAuthorityCode(srs, NULL);
        t->info.epsg = code ? (int)strtol(code, NULL, 10) : 0;
    } else {
        OGRSpatialReferenceH clone = OSRClone(srs);
        if (clone && OSRAutoIdentifyEPSG(clone) == OGRERR_NONE) {
            const char *code = OSRGetAuthorityCode(clone, NULL);
            auth = OSRGetAuthorityName(clone, NULL);
            if (code && auth && parus__strcasecmp(auth, "EPSG") == 0)
                t->info.epsg = (int)strtol(code, NULL, 10);
        }
        OSRDestroySpatialReference(clone);
    }
    return PARUS_OK;
}

static parus_status footprint(const open_ctx *ctx, parus_tile *t, parus__gdal_capture *cap,
                              parus_error *err)
{
    enum { N = 4 * FOOTPRINT_EDGE_POINTS };
    double x[N], y[N], z[N];
    int ok[N];
    const double *gt = t->info.geotransform;
    double w = (double)t->info.width, h = (double)t->info.height;
    OGRSpatialReferenceH src = OSRClone(ctx->rf[ctx->grid].srs);
    OGRSpatialReferenceH dst = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    parus_status st = PARUS_OK;
    int i, n_ok = 0;

    if (!src || !dst || OSRImportFromEPSG(dst, 4326) != OGRERR_NONE) {
        st = parus_fail(err, PARUS_E_PROJ, "cannot set up WGS 84 for '%s'", ctx->label);
        goto out_srs;
    }
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(src, dst);
    if (!ct) {
        st = parus_fail(err, PARUS_E_PROJ, "cannot transform '%s' to WGS 84: %s", ctx->label,
                        parus__gdal_capture_msg(cap, "no transformation"));
        goto out_srs;
    }
    for (i = 0; i < FOOTPRINT_EDGE_POINTS; i++) {
        double f = (double)i / (FOOTPRINT_EDGE_POINTS - 1);
        double px[4] = {f * w, f * w, 0.0, w}, py[4] = {0.0, h, f * h, f * h};
        int e;
        for (e = 0; e < 4; e++) {
            x[e * FOOTPRINT_EDGE_POINTS + i] = gt[0] + px[e] * gt[1] + py[e] * gt[2];
            y[e * FOOTPRINT_EDGE_POINTS + i] = gt[3] + px[e] * gt[4] + py[e] * gt[5];
            z[e * FOOTPRINT_EDGE_POINTS + i] = 0.0;
        }
    }
    OCTTransformEx(ct, N, x, y, z, ok);
    t->info.lon_min_deg = t->info.lat_min_deg = INFINITY;
    t->info.lon_max_deg = t->info.lat_max_deg = -INFINITY;
    for (i = 0; i < N; i++) {
        if (!ok[i] || !isfinite(x[i]) || !isfinite(y[i]))
            continue;
        n_ok++;
        t->info.lon_min_deg = fmin(t->info.lon_min_deg, x[i]);
        t->info.lon_max_deg = fmax(t->info.lon_max_deg, x[i]);
        t->info.lat_min_deg = fmin(t->info.lat_min_deg, y[i]);
        t->info.lat_max_deg = fmax(t->info.lat_max_deg, y[i]);
    }
    if (n_ok == 0)
        st = parus_fail(err, PARUS_E_PROJ, "cannot transform the corners of '%s' to WGS 84",
                        ctx->label);
    OCTDestroyCoordinateTransformation(ct);
out_srs:
    OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(dst);
    return st;
}

/* ---- Sentinel-1: what the tile says of its backscatter ---- */

/* IW GRDH: 20 x 22 m resolution on 10 m pixels, ENL 4.4 per pixel (Sentinel-1 Product
 * Specification, S1-RS-MDA-52-7441, GRD resolution and ENL tables). */
#define S1_RES_CELL_M2 (20.0 * 22.0)
#define S1_GRDH_ENL 4.4

static char coef_letter(const char *v)
{
    if (!v)
        return 0;
    if (parus__strcasecmp(v, "sigma0") == 0)
        return 's';
    if (parus__strcasecmp(v, "gamma0") == 0)
        return 'g';
    if (parus__strcasecmp(v, "beta0") == 0)
        return 'b';
    return '?';
}

static char scale_letter(const char *v)
{
    if (!v)
        return 0;
    if (parus__strcasecmp(v, "linear") == 0 || parus__strcasecmp(v, "power") == 0 ||
        parus__strcasecmp(v, "intensity") == 0)
        return 'l';
    if (parus__strcasecmp(v, "dB") == 0 || parus__strcasecmp(v, "decibel") == 0 ||
        parus__strcasecmp(v, "intensity_db") == 0)
        return 'd';
    if (parus__strcasecmp(v, "amplitude") == 0)
        return 'a';
    return '?';
}

static const char *coef_name(char c)
{
    return c == 's' ? "sigma0" : c == 'g' ? "gamma0" : "beta0";
}

/* One answer for the coefficient or the scale, from one source: the first source that answers
 * wins, a later one that contradicts it is an error (a file whose metadata says dB while its
 * name says linear cannot be vouched for). */
typedef struct answer {
    char v;
    char src[96];
} answer;

static parus_status answer_add(answer *a, char v, const char *what, const char *src,
                               const char *label, parus_error *err)
{
    if (!v)
        return PARUS_OK;
    if (!a->v) {
        a->v = v;
        snprintf(a->src, sizeof a->src, "%s", src);
        return PARUS_OK;
    }
    if (a->v != v)
        return parus_fail(err, PARUS_E_BANDS, "'%s' contradicts itself on its %s (%s, %s)", label,
                          what, a->src, src);
    return PARUS_OK;
}

/* Pixel area in square metres at the footprint's centre (degrees for a geographic CRS). */
static double pixel_area_m2(const open_ctx *ctx, const parus_tile *t)
{
    OGRSpatialReferenceH srs = ctx->rf[ctx->grid].srs;
    double gx = t->info.geotransform[1], gy = -t->info.geotransform[5];
    if (OSRIsGeographic(srs)) {
        double lat = 0.5 * (t->info.lat_min_deg + t->info.lat_max_deg) * M_PI / 180.0;
        double m_per_deg = 111320.0;
        return gx * m_per_deg * cos(lat) * gy * m_per_deg;
    }
    return gx * gy * OSRGetLinearUnits(srs, NULL) * OSRGetLinearUnits(srs, NULL);
}

static parus_status radar_describe(const open_ctx *ctx, parus_tile *t, parus_error *err)
{
    parus_radar_info *ri = &t->radar;
    answer coef = {0, ""}, scale = {0, ""};
    const char *v;
    char src[96], asf[7] = "";
    bool vv = false, vh = false, snap = false, datamask = false, asf_found = false;
    size_t i;
    parus_status st;
    double area, d;

    memset(ri, 0, sizeof *ri);
    t->info.radar = ri;
    /* metadata of the radar tile contract */
    v = tile_meta(ctx, "BACKSCATTER_COEFFICIENT");
    if (v && coef_letter(v) == '?')
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s' has an unknown BACKSCATTER_COEFFICIENT '%s' (want sigma0, gamma0 "
                          "or beta0)",
                          ctx->label, v);
    if ((st = answer_add(&coef, coef_letter(v), "coefficient", "metadata BACKSCATTER_COEFFICIENT",
                         ctx->label, err)) != PARUS_OK)
        return st;
    v = tile_meta(ctx, "BACKSCATTER_SCALE");
    if (v && (scale_letter(v) == '?' || scale_letter(v) == 'a'))
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s' has an unknown BACKSCATTER_SCALE '%s' (want linear or dB)",
                          ctx->label, v);
    if ((st = answer_add(&scale, scale_letter(v), "scale", "metadata BACKSCATTER_SCALE", ctx->label,
                         err)) != PARUS_OK)
        return st;
    for (i = 0; i < ctx->n_c; i++) {
        const cand *c = &ctx->c[i];
        const rfile *f = &ctx->rf[c->file];
        char *base;
        if (!c->keep)
            continue;
        vv |= c->role == PARUS_ROLE_VV;
        vh |= c->role == PARUS_ROLE_VH;
        datamask |= c->role == PARUS_ROLE_LAYOVER_SHADOW && c->radar.ls == LS_DATAMASK;
        if (c->role == PARUS_ROLE_LAYOVER_SHADOW)
            t->ls_kind = (int)c->radar.ls;
        if (c->role != PARUS_ROLE_VV && c->role != PARUS_ROLE_VH)
            continue;
        /* the band's unit type (the contract's "linear" / "dB", SNAP's "intensity_db") */
        v = GDALGetRasterUnitType(GDALGetRasterBand(f->ds, c->index));
        if (v && *v) {
            char u = scale_letter(v);
            if (u == 'a')
                return parus_fail(err, PARUS_E_BANDS,
                                  "'%s' holds amplitude, not power: parus reads linear power or "
                                  "dB (square it, or export power)",
                                  f->path);
            snprintf(src, sizeof src, "band unit type '%s'", v);
            if (u != '?' && (st = answer_add(&scale, u, "scale", src, ctx->label, err)) != PARUS_OK)
                return st;
        }
        /* names: SNAP's band names, ASF's file names */
        if (c->radar.snap) {
            snap = true;
            snprintf(src, sizeof src, "band name '%s'%s", c->desc[0] ? c->desc : f->path,
                     " (SNAP)");
            if ((st = answer_add(&coef, c->radar.coefficient, "coefficient", src, ctx->label,
                                 err)) != PARUS_OK ||
                (st = answer_add(&scale, c->radar.scale, "scale", src, ctx->label, err)) !=
                    PARUS_OK)
                return st;
        }
        base = base_name(f->path);
        if (!base)
            return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
        {
            char cl = 0, sl = 0;
            if (asf_rtc_token(base, &cl, &sl, asf)) {
                asf_found = true;
                if (sl == 'a') {
                    free(base);
                    return parus_fail(err, PARUS_E_BANDS,
                                      "'%s' holds amplitude, not power (ASF RTC '%s'): parus "
                                      "reads linear power or dB (order the power or decibel "
                                      "scale)",
                                      f->path, asf);
                }
                snprintf(src, sizeof src, "file name (ASF RTC '%s')", asf);
                st = answer_add(&coef, cl, "coefficient", src, ctx->label, err);
                if (st == PARUS_OK)
                    st = answer_add(&scale, sl, "scale", src, ctx->label, err);
                if (st != PARUS_OK) {
                    free(base);
                    return st;
                }
            }
        }
        free(base);
    }
    /* the options say what the tile does not; they never overrule what it says */
    if (ctx->opt->radar_scale) {
        char o = scale_letter(ctx->opt->radar_scale);
        if (o != 'l' && o != 'd')
            return parus_fail(err, PARUS_E_INVALID, "bad radar scale '%s' (want linear or db)",
                              ctx->opt->radar_scale);
        if ((st = answer_add(&scale, o, "scale", "option", ctx->label, err)) != PARUS_OK)
            return st;
    }
    if (ctx->opt->radar_coefficient) {
        char o = coef_letter(ctx->opt->radar_coefficient);
        if (!o || o == '?')
            return parus_fail(err, PARUS_E_INVALID,
                              "bad radar coefficient '%s' (want sigma0, gamma0 or beta0)",
                              ctx->opt->radar_coefficient);
        if ((st = answer_add(&coef, o, "coefficient", "option", ctx->label, err)) != PARUS_OK)
            return st;
    }
    if (!scale.v)
        return parus_fail(err, PARUS_E_BANDS,
                          "cannot tell whether the backscatter of '%s' is linear power or dB (no "
                          "BACKSCATTER_SCALE metadata, no band unit type, no scale in the band or "
                          "file names): state it with --radar-scale linear|db",
                          ctx->label);
    if (!coef.v)
        return parus_fail(err, PARUS_E_BANDS,
                          "cannot tell whether the backscatter of '%s' is sigma0, gamma0 or beta0 "
                          "(no BACKSCATTER_COEFFICIENT metadata, no coefficient in the band or "
                          "file names): state it with --radar-coefficient sigma0|gamma0|beta0",
                          ctx->label);
    ri->scale = scale.v == 'd' ? PARUS_RADAR_SCALE_DB : PARUS_RADAR_SCALE_LINEAR;
    snprintf(ri->scale_source, sizeof ri->scale_source, "%s", scale.src);
    snprintf(ri->coefficient, sizeof ri->coefficient, "%s", coef_name(coef.v));
    snprintf(ri->coefficient_source, sizeof ri->coefficient_source, "%s", coef.src);
    snprintf(ri->polarisations, sizeof ri->polarisations, "%s", vv && vh ? "VV+VH" : "VV");
    ri->product = tile_meta(ctx, "BACKSCATTER_SCALE") || tile_meta(ctx, "BACKSCATTER_COEFFICIENT")
                      ? "parus"
                  : asf_found ? "asf-rtc"
                  : snap      ? "snap"
                  : datamask  ? "sentinel-hub"
                              : "generic";

    v = tile_meta(ctx, "MISSION");
    if (v && strncasecmp(v, "SENTINEL-1", 10) == 0)
        snprintf(ri->mission, sizeof ri->mission, "SENTINEL-1%c", toupper((unsigned char)v[10]));
    else if (any_file_token(ctx, "S1A") || any_file_token(ctx, "S1B") || any_file_token(ctx, "S1C"))
        snprintf(ri->mission, sizeof ri->mission, "SENTINEL-1%c",
                 any_file_token(ctx, "S1A")   ? 'A'
                 : any_file_token(ctx, "S1B") ? 'B'
                                              : 'C');
    v = tile_meta(ctx, "ORBIT_DIRECTION");
    if (v) {
        if (parus__strcasecmp(v, "ASCENDING") != 0 && parus__strcasecmp(v, "DESCENDING") != 0)
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' has an unknown ORBIT_DIRECTION '%s' (want ASCENDING or "
                              "DESCENDING)",
                              ctx->label, v);
        snprintf(ri->orbit_direction, sizeof ri->orbit_direction, "%s",
                 toupper((unsigned char)v[0]) == 'A' ? "ASCENDING" : "DESCENDING");
    }
    v = tile_meta(ctx, "RELATIVE_ORBIT");
    if (v) {
        if (!parse_double(v, &d) || d < 1 || d > 175 || d != floor(d))
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' has a bad RELATIVE_ORBIT '%s' (Sentinel-1 has orbits 1-175)",
                              ctx->label, v);
        ri->relative_orbit = (int)d;
    }
    area = pixel_area_m2(ctx, t);
    if (!(area > 0) || !isfinite(area))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' has no usable pixel size", ctx->label);
    ri->looks_correlation = fmax(1.0, S1_RES_CELL_M2 / area);
    v = tile_meta(ctx, "NUMBER_OF_LOOKS");
    if (v) {
        if (!parse_double(v, &d) || d < 1.0 || d > 10000.0)
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s' has a bad NUMBER_OF_LOOKS '%s' (an equivalent number of "
                              "looks of at least 1)",
                              ctx->label, v);
        ri->looks = d;
        snprintf(ri->looks_source, sizeof ri->looks_source, "metadata NUMBER_OF_LOOKS");
    } else {
        ri->looks = S1_GRDH_ENL * fmax(1.0, area / S1_RES_CELL_M2);
        snprintf(ri->looks_source, sizeof ri->looks_source,
                 "assumed: IW GRDH, ENL 4.4 per 20 x 22 m resolution cell");
    }
    return PARUS_OK;
}

/* ---- building the tile ---- */

typedef struct band_sort {
    parus_band_info info;
    band_priv priv;
} band_sort;

static int cmp_band(const void *pa, const void *pb)
{
    const band_sort *a = pa, *b = pb;
    int c;
    if (a->info.role != b->info.role)
        return a->info.role < b->info.role ? -1 : 1;
    c = strcmp(a->info.path, b->info.path);
    if (c)
        return c;
    return a->info.band_index - b->info.band_index;
}

static void release_band_strings(parus_band_info *b)
{
    free((char *)b->name);
    free((char *)b->description);
    free((char *)b->path);
}

static parus_status build_bands(const open_ctx *ctx, parus_tile *t, parus_error *err)
{
    size_t i, n = 0, k = 0;
    band_sort *tmp;

    for (i = 0; i < ctx->n_c; i++)
        n += ctx->c[i].keep;
    tmp = calloc(n, sizeof *tmp);
    if (!tmp)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    for (i = 0; i < ctx->n_c; i++) {
        const cand *c = &ctx->c[i];
        const rfile *f = &ctx->rf[c->file];
        GDALRasterBandH band = GDALGetRasterBand(f->ds, c->index);
        GDALDataType dt = GDALGetRasterDataType(band);
        parus_band_info *b;
        band_priv *p;
        char fallback[32];
        int bw = 0, bh = 0, has_nodata = 0;
        double nodata;
        if (!c->keep)
            continue;
        b = &tmp[k].info;
        p = &tmp[k].priv;
        k++;
        if (c->name) {
            b->name = parus__strdup(c->name);
        } else {
            char *word = first_word(c->desc);
            snprintf(fallback, sizeof fallback, "band%d", c->index);
            b->name = word ? word : parus__strdup(fallback);
        }
        b->description = parus__strdup(c->desc);
        b->path = parus__strdup(f->path);
        if (!b->name || !b->description || !b->path) {
            for (i = 0; i < k; i++)
                release_band_strings(&tmp[i].info);
            free(tmp);
            return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
        }
        b->role = c->role;
        b->band_index = c->index;
        b->data_type = GDALGetDataTypeName(dt);
        b->width = f->w;
        b->height = f->h;
        b->res_m = f->gt[1];
        GDALGetBlockSize(band, &bw, &bh);
        b->block_w = bw > 0 ? (size_t)bw : f->w;
        b->block_h = bh > 0 ? (size_t)bh : 1;
        band_scale(ctx, t, c, band, f->ds, dt, &b->scale, &b->offset);
        nodata = GDALGetRasterNoDataValue(band, &has_nodata);
        b->has_nodata = has_nodata != 0;
        b->nodata = has_nodata ? nodata : 0.0;
        if (!has_nodata && c->role < PARUS_ROLE_N_SPECTRAL_ &&
            (ctx->sensor == PARUS_SENSOR_S2_L2A || ctx->sensor == PARUS_SENSOR_S2_L1C ||
             ctx->sensor == PARUS_SENSOR_LANDSAT_L1 || ctx->sensor == PARUS_SENSOR_LANDSAT_C2L2)) {
            b->has_nodata = true;
            b->nodata = 0.0;
        }
        p->file = c->file;
        p->kx = f->kx;
        p->ky = f->ky;
        p->ox = f->ox;
        p->oy = f->oy;
        p->has_sat = c->role < PARUS_ROLE_N_SPECTRAL_ && saturation_value(dt, &p->sat);
    }
    qsort(tmp, n, sizeof *tmp, cmp_band);
    t->bands = calloc(n, sizeof *t->bands);
    t->priv = calloc(n, sizeof *t->priv);
    if (!t->bands || !t->priv) {
        for (i = 0; i < n; i++)
            release_band_strings(&tmp[i].info);
        free(tmp);
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    }
    for (i = 0; i < n; i++) {
        t->bands[i] = tmp[i].info;
        t->priv[i] = tmp[i].priv;
    }
    t->info.n_bands = n;
    free(tmp);
    return PARUS_OK;
}

/* File indices in the bands refer to the open context's files; the tile keeps only the used
 * rasters, so renumber them. */
static parus_status build_files(const open_ctx *ctx, parus_tile *t, parus_error *err)
{
    size_t i, n = 0, *map;
    bool with_mtl = ctx->mtl_path && (ctx->sensor == PARUS_SENSOR_LANDSAT_L1 ||
                                      ctx->sensor == PARUS_SENSOR_LANDSAT_C2L2);
    map = calloc(ctx->n_rf, sizeof *map);
    t->files = calloc(ctx->n_rf + 1, sizeof *t->files);
    if (!map || !t->files) {
        free(map);
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
    }
    for (i = 0; i < ctx->n_rf; i++) {
        if (!ctx->rf[i].used)
            continue;
        map[i] = n;
        t->files[n] = parus__strdup(ctx->rf[i].path);
        if (!t->files[n++]) {
            free(map);
            return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
        }
    }
    t->n_rasters = n;
    if (with_mtl) {
        t->files[n] = parus__strdup(ctx->mtl_path);
        if (!t->files[n++]) {
            free(map);
            return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx->label);
        }
    }
    t->info.n_files = n;
    for (i = 0; i < t->info.n_bands; i++)
        t->priv[i].file = map[t->priv[i].file];
    free(map);
    return PARUS_OK;
}

/* Whether v is a value the validity band can hold at all: SCL has classes 0-11, CBERS CMASK the
 * codes 0-4 and 255; QA bit fields and generic masks define every value. A value outside is not
 * a mask's answer but damage (a decoded garbage stream), which the tile checks count. */
static bool class_defined(const parus_tile *t, double v)
{
    switch (t->info.validity) {
    case PARUS_VALIDITY_SCL:
        return v >= 0.0 && v <= 11.0;
    case PARUS_VALIDITY_MASK_BAND:
        return t->mask != MASK_CBERS || (v >= 0.0 && v <= 4.0) || v == 255.0;
    default:
        return true;
    }
}

static void choose_validity(parus_tile *t)
{
    static const parus_band_role order[] = {PARUS_ROLE_SCL, PARUS_ROLE_QA_PIXEL, PARUS_ROLE_QA_BQA,
                                            PARUS_ROLE_MASK, PARUS_ROLE_LAYOVER_SHADOW};
    static const parus_validity_source source[] = {PARUS_VALIDITY_SCL, PARUS_VALIDITY_QA_PIXEL,
                                                   PARUS_VALIDITY_QA_BQA, PARUS_VALIDITY_MASK_BAND,
                                                   PARUS_VALIDITY_LAYOVER_SHADOW};
    size_t i, k;
    t->validity_band = -1;
    t->info.validity = PARUS_VALIDITY_NODATA;
    t->info.validity_desc = t->info.sensor == PARUS_SENSOR_S1
                                ? "radar: nodata, NaN, zero, negative, above +30 dB or below -50 "
                                  "dB invalid"
                                : "nodata, NaN, infinite and saturated values only: no cloud "
                                  "mask (ingested only with --no-cloud-mask)";
    for (k = 0; k < 5; k++)
        for (i = 0; i < t->info.n_bands; i++)
            if (t->bands[i].role == order[k]) {
                t->validity_band = (ptrdiff_t)i;
                t->info.validity = source[k];
                goto chosen;
            }
    return;
chosen:
    switch (t->info.validity) {
    case PARUS_VALIDITY_SCL:
        t->info.validity_desc = "SCL: classes 0,1,3,8,9,10 invalid";
        break;
    case PARUS_VALIDITY_QA_PIXEL:
        t->info.validity_desc = "QA_PIXEL: bits 0-4 (fill, dilated cloud, cirrus, cloud, shadow) "
                                "invalid";
        break;
    case PARUS_VALIDITY_QA_BQA:
        t->info.validity_desc = "BQA: bit 0 (fill) or bits 14-15 = 3 (high cloud confidence) "
                                "invalid";
        break;
    case PARUS_VALIDITY_MASK_BAND:
        if (t->info.sensor == PARUS_SENSOR_CBERS4_AWFI) {
            t->mask = MASK_CBERS;
            t->info.validity_desc = "CMASK: 2 shadow, 4 cloud, 255 fill invalid (0 clear, 1 "
                                    "water, 3 snow kept)";
        } else {
            t->info.validity_desc = "mask band: 0 clear, any other value invalid";
        }
        break;
    case PARUS_VALIDITY_LAYOVER_SHADOW:
        t->info.validity_desc =
            t->ls_kind == LS_ASF_BITS   ? "ls_map (ASF RTC): bit 2 layover or bit 4 shadow invalid"
            : t->ls_kind == LS_DATAMASK ? "dataMask: 0 no data invalid, 1 kept"
                                        : "layover/shadow mask: 0 usable, any other value invalid";
        break;
    case PARUS_VALIDITY_NODATA:
        break;
    }
}

static void choose_blocks(const open_ctx *ctx, parus_tile *t)
{
    const rfile *g = &ctx->rf[ctx->grid];
    size_t i, ref = SIZE_MAX;
    size_t bw, bh;
    for (i = 0; i < t->info.n_bands; i++) {
        const band_priv *p = &t->priv[i];
        bool on_grid = p->kx == 1 && p->ky == 1 && p->ox == 0 && p->oy == 0;
        if (!on_grid)
            continue;
        if (ref == SIZE_MAX || t->bands[i].role == PARUS_ROLE_RED)
            ref = i;
        if (t->bands[i].role == PARUS_ROLE_RED)
            break;
    }
    bw = ref != SIZE_MAX ? t->bands[ref].block_w : g->w;
    bh = ref != SIZE_MAX ? t->bands[ref].block_h : 1;
    bw = bw < 1 ? 1 : bw > g->w ? g->w : bw;
    bh = bh < 1 ? 1 : bh > g->h ? g->h : bh;
    if (bw == g->w) {
        if (bh < STRIP_MIN_ROWS)
            bh *= (STRIP_MIN_ROWS + bh - 1) / bh;
        else if (bh > 1 && bw * bh > STRIP_MAX_PIXELS)
            bh = STRIP_MAX_PIXELS / bw > STRIP_MIN_ROWS ? STRIP_MAX_PIXELS / bw : STRIP_MIN_ROWS;
        if (bh > g->h)
            bh = g->h;
    }
    t->info.block_w = bw;
    t->info.block_h = bh;
    t->info.n_blocks_x = (g->w + bw - 1) / bw;
    t->info.n_blocks_y = (g->h + bh - 1) / bh;
}

static void open_ctx_release(open_ctx *ctx)
{
    size_t i;
    for (i = 0; i < ctx->n_c; i++)
        free(ctx->c[i].desc);
    free(ctx->c);
    for (i = 0; i < ctx->n_rf; i++)
        if (ctx->rf[i].ds)
            GDALClose(ctx->rf[i].ds);
    free(ctx->rf);
    strvec_release(&ctx->rasters);
    strvec_release(&ctx->mtls);
    free(ctx->mtl_path);
    free(ctx->mtl_text);
}

static parus_status open_tile(open_ctx *ctx, const char *const *paths, size_t n_paths,
                              parus_tile *t, parus__gdal_capture *cap, parus_error *err)
{
    parus_status st;
    size_t total;
    const rfile *g;

    if ((st = collect_paths(ctx, paths, n_paths, err)) != PARUS_OK ||
        (st = open_files(ctx, cap, err)) != PARUS_OK || (st = gather_bands(ctx, err)) != PARUS_OK ||
        (st = assign_roles(ctx, err)) != PARUS_OK || (st = require_red_nir(ctx, err)) != PARUS_OK ||
        (st = nest_grids(ctx, err)) != PARUS_OK)
        return st;
    if (ctx->sensor == PARUS_SENSOR_LANDSAT_L1 || ctx->sensor == PARUS_SENSOR_LANDSAT_C2L2)
        if ((st = load_mtl(ctx, err)) != PARUS_OK)
            return st;
    t->info.sensor = ctx->sensor;
    t->info.sensor_name = parus_sensor_name(ctx->sensor);
    if (!ctx->opt->native &&
        (ctx->sensor == PARUS_SENSOR_LANDSAT_L1 || ctx->sensor == PARUS_SENSOR_LANDSAT_C2L2))
        t->info.harmonisation = "HLS v2.0 band-pass, Landsat 8/9 OLI to Sentinel-2A MSI (blue, "
                                "green, red, nir, swir1, swir2)";
    if ((st = find_date(ctx, t, err)) != PARUS_OK)
        return st;
    g = &ctx->rf[ctx->grid];
    t->info.width = g->w;
    t->info.height = g->h;
    memcpy(t->info.geotransform, g->gt, sizeof g->gt);
    t->info.res_m = g->gt[1];
    if (!parus__mul_size(g->w, g->h, &total))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is too large", g->path);
    if ((st = build_bands(ctx, t, err)) != PARUS_OK ||
        (st = build_files(ctx, t, err)) != PARUS_OK ||
        (st = describe_crs(ctx, t, err)) != PARUS_OK ||
        (st = footprint(ctx, t, cap, err)) != PARUS_OK)
        return st;
    if (ctx->sensor == PARUS_SENSOR_S1 && (st = radar_describe(ctx, t, err)) != PARUS_OK)
        return st;
    choose_validity(t);
    choose_blocks(ctx, t);
    if (!parus__mul_size(t->info.n_blocks_x, t->info.n_blocks_y, &total))
        return parus_fail(err, PARUS_E_FORMAT, "'%s' has too many blocks", g->path);
    return PARUS_OK;
}

parus_status parus_tile_open(const char *const *paths, size_t n_paths,
                             const parus_tile_options *opt, parus_tile **out, parus_error *err)
{
    static const parus_tile_options no_options = {NULL, false, NULL, false, NULL, NULL};
    open_ctx ctx;
    parus__gdal_capture cap;
    parus_tile *t;
    parus_status st;

    if (!paths || n_paths == 0 || !out)
        return parus_fail(err, PARUS_E_INVALID, "parus_tile_open needs at least one path");
    parus__gdal_init();
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = opt ? opt : &no_options;
    ctx.label = paths[0] ? paths[0] : "(null)";
    t = calloc(1, sizeof *t);
    if (!t)
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", ctx.label);
    parus__gdal_capture_begin(&cap);
    st = open_tile(&ctx, paths, n_paths, t, &cap, err);
    parus__gdal_capture_end(&cap);
    open_ctx_release(&ctx);
    if (st) {
        parus_tile_free(t);
        return st;
    }
    *out = t;
    return PARUS_OK;
}

void parus_tile_free(parus_tile *tile)
{
    size_t i;
    if (!tile)
        return;
    if (tile->bands)
        for (i = 0; i < tile->info.n_bands; i++)
            release_band_strings(&tile->bands[i]);
    free(tile->bands);
    free(tile->priv);
    if (tile->files)
        for (i = 0; i < tile->info.n_files; i++)
            free(tile->files[i]);
    free(tile->files);
    free(tile->crs_name);
    free(tile->crs_wkt);
    free(tile->date_source);
    free(tile);
}

const parus_tile_info *parus_tile_get_info(const parus_tile *tile)
{
    return tile ? &tile->info : NULL;
}

const parus_band_info *parus_tile_band(const parus_tile *tile, size_t i)
{
    return tile && i < tile->info.n_bands ? &tile->bands[i] : NULL;
}

const parus_band_info *parus_tile_find_role(const parus_tile *tile, parus_band_role role)
{
    size_t i;
    if (!tile)
        return NULL;
    for (i = 0; i < tile->info.n_bands; i++)
        if (tile->bands[i].role == role)
            return &tile->bands[i];
    return NULL;
}

const char *const *parus_tile_files(const parus_tile *tile, size_t *n_files)
{
    if (n_files)
        *n_files = tile ? tile->info.n_files : 0;
    return tile ? (const char *const *)tile->files : NULL;
}

parus_status parus_tile_content_hash(const parus_tile *tile, char hex[65], parus_error *err)
{
    if (!tile || !hex)
        return parus_fail(err, PARUS_E_INVALID, "parus_tile_content_hash needs a tile");
    return parus__fingerprint_files((const char *const *)tile->files, tile->info.n_files, hex, err);
}

/* ---- readers ---- */

struct parus_tile_reader {
    const parus_tile *tile;
    GDALDatasetH *ds; /* per raster file; NULL where no requested band lives */
    size_t n_roles;
    size_t *band_of; /* tile band of each requested role */
    float **out;
    uint8_t *valid;
    uint8_t *clear; /* what the validity band says, before the bands' own values */
    uint16_t *cls;
    double *dn;     /* one band's DN on the block */
    double *coarse; /* a coarser band's own window before it is spread onto the grid, or a
                       native block as decoded (the fast path) */
    /* 8- and 16-bit bands are converted through tables indexed by the DN: reflectance or NaN per
     * requested band, clear or not for the validity band. NULL where the type is wider. */
    float **lut;
    uint8_t *clear_lut;
    /* parus_tile_reader_read_cells: each requested band's native block, and the validity band's
     * (last), allocated on first use */
    void **raw;
    parus__radar_counts radar; /* radar bands read since the last take (raster_int.h) */
    float **fraw;              /* read_cells_radar: each band's Float32 block, then the validity
                                  band's native block; allocated on first use */
};

void parus_tile_reader_free(parus_tile_reader *r)
{
    size_t i;
    if (!r)
        return;
    if (r->ds)
        for (i = 0; i < r->tile->n_rasters; i++)
            if (r->ds[i])
                GDALClose(r->ds[i]);
    free(r->ds);
    if (r->out)
        for (i = 0; i < r->n_roles; i++)
            free(r->out[i]);
    free(r->out);
    free(r->band_of);
    free(r->valid);
    free(r->clear);
    free(r->cls);
    free(r->dn);
    free(r->coarse);
    if (r->lut)
        for (i = 0; i < r->n_roles; i++)
            free(r->lut[i]);
    free(r->lut);
    free(r->clear_lut);
    if (r->raw)
        for (i = 0; i <= r->n_roles; i++)
            free(r->raw[i]);
    free(r->raw);
    if (r->fraw)
        for (i = 0; i <= r->n_roles; i++)
            free(r->fraw[i]);
    free(r->fraw);
    free(r);
}

static parus_status reader_open_file(parus_tile_reader *r, size_t file, parus__gdal_capture *cap,
                                     parus_error *err)
{
    const char *path = r->tile->files[file];
    if (r->ds[file])
        return PARUS_OK;
    r->ds[file] = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!r->ds[file])
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path,
                          parus__gdal_capture_msg(cap, "GDAL cannot open it"));
    return PARUS_OK;
}

static bool class_clear(const parus_tile *t, double v);
static bool class_defined(const parus_tile *t, double v);

/* Size of the DN table of a band: 256 for Byte, 65536 for UInt16, 0 for wider types. */
static size_t table_size(const parus_band_info *b)
{
    if (strcmp(b->data_type, "Byte") == 0)
        return 256;
    if (strcmp(b->data_type, "UInt16") == 0)
        return 65536;
    return 0;
}

/* The same rules as the general path of parus_tile_reader_read, evaluated once per DN. */
static parus_status build_tables(parus_tile_reader *r, parus_error *err)
{
    const parus_tile *t = r->tile;
    size_t k, v, n;

    r->lut = calloc(r->n_roles, sizeof *r->lut);
    if (!r->lut)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader for '%s'", t->files[0]);
    for (k = 0; k < r->n_roles; k++) {
        const parus_band_info *b = &t->bands[r->band_of[k]];
        const band_priv *p = &t->priv[r->band_of[k]];
        n = table_size(b);
        if (n == 0 || is_radar_role(b->role))
            continue; /* radar bands: the general path (dB, plausibility, scale counts) */
        r->lut[k] = malloc(n * sizeof *r->lut[k]);
        if (!r->lut[k])
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader for '%s'", t->files[0]);
        for (v = 0; v < n; v++) {
            double d = (double)v;
            bool bad = (b->has_nodata && d == b->nodata) || (p->has_sat && d == p->sat);
            r->lut[k][v] = bad ? NAN : (float)(d * b->scale + b->offset);
        }
    }
    if (t->validity_band >= 0 && (n = table_size(&t->bands[t->validity_band])) != 0) {
        const parus_band_info *vb = &t->bands[t->validity_band];
        r->clear_lut = malloc(n);
        if (!r->clear_lut)
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader for '%s'", t->files[0]);
        for (v = 0; v < n; v++) {
            double d = (double)v;
            bool clear = !((vb->has_nodata && d == vb->nodata) || !class_clear(t, d));
            r->clear_lut[v] = (uint8_t)((clear ? 1u : 0u) |
                                        (class_defined(t, d) ? 0u : PARUS_MASK_UNDEFINED_BIT));
        }
    }
    return PARUS_OK;
}

static parus_status reader_setup(parus_tile_reader *r, const parus_band_role *roles,
                                 parus__gdal_capture *cap, parus_error *err)
{
    const parus_tile *t = r->tile;
    size_t px, i, k;
    parus_status st;

    if (!parus__mul_size(t->info.block_w, t->info.block_h, &px) || px > SIZE_MAX / sizeof(double))
        return parus_fail(err, PARUS_E_NOMEM, "blocks of '%s' are too large", t->files[0]);
    r->ds = calloc(t->n_rasters, sizeof *r->ds);
    r->band_of = calloc(r->n_roles, sizeof *r->band_of);
    r->out = calloc(r->n_roles, sizeof *r->out);
    r->valid = malloc(px);
    r->clear = malloc(px);
    r->dn = malloc(px * sizeof *r->dn);
    r->coarse = malloc(px * sizeof *r->coarse);
    if (t->validity_band >= 0)
        r->cls = malloc(px * sizeof *r->cls);
    if (!r->ds || !r->band_of || !r->out || !r->valid || !r->clear || !r->dn || !r->coarse ||
        (t->validity_band >= 0 && !r->cls))
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader for '%s'", t->files[0]);
    for (k = 0; k < r->n_roles; k++) {
        const parus_band_info *b;
        if (!parus_role_is_value(roles[k]))
            return parus_fail(err, PARUS_E_INVALID, "role '%s' is not a value role",
                              parus_role_name(roles[k]));
        b = parus_tile_find_role(t, roles[k]);
        if (!b)
            return parus_fail(err, PARUS_E_BANDS, "'%s' has no %s band", t->files[0],
                              parus_role_name(roles[k]));
        i = (size_t)(b - t->bands);
        r->band_of[k] = i;
        r->out[k] = malloc(px * sizeof *r->out[k]);
        if (!r->out[k])
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader for '%s'", t->files[0]);
        if ((st = reader_open_file(r, t->priv[i].file, cap, err)) != PARUS_OK)
            return st;
    }
    if (t->validity_band >= 0 &&
        (st = reader_open_file(r, t->priv[t->validity_band].file, cap, err)) != PARUS_OK)
        return st;
    return build_tables(r, err);
}

parus_status parus_tile_reader_new(const parus_tile *tile, const parus_band_role *roles,
                                   size_t n_roles, parus_tile_reader **out, parus_error *err)
{
    parus_tile_reader *r;
    parus__gdal_capture cap;
    parus_status st;

    if (!tile || !roles || n_roles == 0 || !out)
        return parus_fail(err, PARUS_E_INVALID, "a tile reader needs a tile and at least one role");
    r = calloc(1, sizeof *r);
    if (!r)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a reader");
    r->tile = tile;
    r->n_roles = n_roles;
    parus__gdal_capture_begin(&cap);
    st = reader_setup(r, roles, &cap, err);
    parus__gdal_capture_end(&cap);
    if (st) {
        parus_tile_reader_free(r);
        return st;
    }
    *out = r;
    return PARUS_OK;
}

static parus_status read_failed(const parus_tile_reader *r, size_t band, size_t index,
                                const parus__gdal_capture *cap, parus_error *err)
{
    const parus_band_info *b = &r->tile->bands[band];
    CPLErrorNum no = CPLGetLastErrorNo();
    return parus_fail(err, no == CPLE_FileIO || no == CPLE_OpenFailed ? PARUS_E_IO : PARUS_E_FORMAT,
                      "cannot read block %zu of '%s' (band %d): %s", index, b->path, b->band_index,
                      parus__gdal_capture_msg(cap, "read failed"));
}

/* The tile band's DN on the block window, nearest neighbour from a coarser band. */
/* The fast path: when the band's own blocks are the grid's blocks, decode the block straight
 * into r->coarse with GDALReadBlock (no block cache: each block is read once, so a cache would only
 * add memory and a copy) and widen it to r->dn. Returns false when the layout does not allow it
 * (then the caller goes through GDALRasterIO); *e is the read's outcome otherwise. */
static bool read_native_block(parus_tile_reader *r, GDALRasterBandH hb, size_t x0, size_t y0,
                              size_t w, size_t h, void *dst_raw, bool widen, CPLErr *e)
{
    const parus_tile_info *in = &r->tile->info;
    int bw, bh;
    size_t i, j, stride;
    GDALDataType dt = GDALGetRasterDataType(hb);

    GDALGetBlockSize(hb, &bw, &bh);
    if ((size_t)bw != in->block_w || (size_t)bh != in->block_h || x0 % in->block_w ||
        y0 % in->block_h || GDALGetDataTypeSizeBytes(dt) > (int)sizeof(double))
        return false;
    switch (dt) {
    case GDT_Byte:
    case GDT_UInt16:
    case GDT_Int16:
    case GDT_UInt32:
    case GDT_Int32:
    case GDT_Float32:
    case GDT_Float64:
        break;
    default:
        return false;
    }
    *e = GDALReadBlock(hb, (int)(x0 / in->block_w), (int)(y0 / in->block_h), dst_raw);
    if (*e != CE_None || !widen)
        return true;
    stride = (size_t)bw;
#define WIDEN(type)                                                                                \
    for (j = 0; j < h; j++) {                                                                      \
        const type *src = (const type *)(const void *)r->coarse + j * stride;                      \
        double *dst = r->dn + j * w;                                                               \
        for (i = 0; i < w; i++)                                                                    \
            dst[i] = (double)src[i];                                                               \
    }
    switch (dt) {
    case GDT_Byte:
        WIDEN(uint8_t)
        break;
    case GDT_UInt16:
        WIDEN(uint16_t)
        break;
    case GDT_Int16:
        WIDEN(int16_t)
        break;
    case GDT_UInt32:
        WIDEN(uint32_t)
        break;
    case GDT_Int32:
        WIDEN(int32_t)
        break;
    case GDT_Float32:
        WIDEN(float)
        break;
    default:
        WIDEN(double)
        break;
    }
#undef WIDEN
    return true;
}

static parus_status read_dn(parus_tile_reader *r, size_t band, size_t index, size_t x0, size_t y0,
                            size_t w, size_t h, const parus__gdal_capture *cap, parus_error *err)
{
    const band_priv *p = &r->tile->priv[band];
    GDALRasterBandH hb = GDALGetRasterBand(r->ds[p->file], r->tile->bands[band].band_index);
    size_t cx0, cx1, cy0, cy1, cw, ch, i, j;
    CPLErr e;

    CPLErrorReset();
    if (!hb)
        return read_failed(r, band, index, cap, err);
    if (p->kx == 1 && p->ky == 1 && p->ox == 0 && p->oy == 0 &&
        read_native_block(r, hb, x0, y0, w, h, r->coarse, true, &e))
        return e == CE_None ? PARUS_OK : read_failed(r, band, index, cap, err);
    if (p->kx == 1 && p->ky == 1 && p->ox == 0 && p->oy == 0) {
        e = GDALRasterIO(hb, GF_Read, (int)x0, (int)y0, (int)w, (int)h, r->dn, (int)w, (int)h,
                         GDT_Float64, 0, 0);
        return e == CE_None ? PARUS_OK : read_failed(r, band, index, cap, err);
    }
    /* Grid pixel x lies in the band's pixel (x + ox) / kx: integer arithmetic, no resampling
     * kernel. The band's window has at most w x h pixels, so r->coarse always holds it. */
    cx0 = (x0 + p->ox) / p->kx;
    cx1 = (x0 + w - 1 + p->ox) / p->kx;
    cy0 = (y0 + p->oy) / p->ky;
    cy1 = (y0 + h - 1 + p->oy) / p->ky;
    cw = cx1 - cx0 + 1;
    ch = cy1 - cy0 + 1;
    e = GDALRasterIO(hb, GF_Read, (int)cx0, (int)cy0, (int)cw, (int)ch, r->coarse, (int)cw, (int)ch,
                     GDT_Float64, 0, 0);
    if (e != CE_None)
        return read_failed(r, band, index, cap, err);
    for (j = 0; j < h; j++) {
        const double *src = r->coarse + ((y0 + j + p->oy) / p->ky - cy0) * cw;
        double *dst = r->dn + j * w;
        for (i = 0; i < w; i++)
            dst[i] = src[(x0 + i + p->ox) / p->kx - cx0];
    }
    return PARUS_OK;
}

/* The table path: a band of 8 or 16 bits on the grid's own blocks is decoded into r->coarse and
 * read there through its table. Returns 1 when the raw block is ready (its width in *stride, its
 * type in *dt), 0 when the band must take the general path, -1 on a read error. */
static int read_raw(parus_tile_reader *r, size_t band, size_t x0, size_t y0, size_t w, size_t h,
                    void *dst_raw, size_t *stride, GDALDataType *dt)
{
    const band_priv *p = &r->tile->priv[band];
    GDALRasterBandH hb;
    CPLErr e = CE_None;
    int bw, bh;

    if (p->kx != 1 || p->ky != 1 || p->ox != 0 || p->oy != 0)
        return 0;
    hb = GDALGetRasterBand(r->ds[p->file], r->tile->bands[band].band_index);
    if (!hb)
        return 0;
    *dt = GDALGetRasterDataType(hb);
    if (*dt != GDT_Byte && *dt != GDT_UInt16)
        return 0;
    CPLErrorReset();
    if (!read_native_block(r, hb, x0, y0, w, h, dst_raw, false, &e))
        return 0;
    GDALGetBlockSize(hb, &bw, &bh);
    *stride = (size_t)bw;
    return e == CE_None ? 1 : -1;
}

static uint32_t raw_at(const void *raw, GDALDataType dt, size_t i)
{
    return dt == GDT_Byte ? ((const uint8_t *)raw)[i] : ((const uint16_t *)raw)[i];
}

static bool class_clear(const parus_tile *t, double v)
{
    unsigned iv;
    if (!(v >= 0.0 && v <= 65535.0) || v != floor(v))
        return false;
    iv = (unsigned)v;
    switch (t->info.validity) {
    case PARUS_VALIDITY_SCL:
        return !(iv <= 1 || iv == 3 || (iv >= 8 && iv <= 10) || iv > 11);
    case PARUS_VALIDITY_QA_PIXEL:
        return (iv & 0x1fu) == 0;
    case PARUS_VALIDITY_QA_BQA:
        return (iv & 1u) == 0 && ((iv >> 14) & 3u) != 3;
    case PARUS_VALIDITY_MASK_BAND:
        return t->mask == MASK_CBERS ? iv == 0 || iv == 1 || iv == 3 : iv == 0;
    case PARUS_VALIDITY_LAYOVER_SHADOW:
        return t->ls_kind == LS_ASF_BITS   ? (iv & 20u) == 0
               : t->ls_kind == LS_DATAMASK ? iv == 1
                                           : iv == 0;
    case PARUS_VALIDITY_NODATA:
        break;
    }
    return true;
}

/* The window of block `index` on the grid (the last block of a row or column is smaller); false
 * for an index out of range. */
static bool block_window(const parus_tile_info *in, size_t index, size_t *x0, size_t *y0, size_t *w,
                         size_t *h)
{
    if (index >= in->n_blocks_x * in->n_blocks_y)
        return false;
    *x0 = index % in->n_blocks_x * in->block_w;
    *y0 = index / in->n_blocks_x * in->block_h;
    *w = in->width - *x0 < in->block_w ? in->width - *x0 : in->block_w;
    *h = in->height - *y0 < in->block_h ? in->height - *y0 : in->block_h;
    return true;
}

/* A radar band's values on the block as linear power, NaN where no value (raster.h), and the
 * scale check's counts (raster_int.h) over every finite value that is not nodata. */
static float radar_value(parus__radar_counts *rc, const parus_band_info *bi, bool db, double v,
                         bool clear)
{
    size_t pol = bi->role == PARUS_ROLE_VV ? 0 : 1;
    double lin;
    if (!isfinite(v) || (bi->has_nodata && v == bi->nodata))
        return NAN;
    rc->n_finite[pol]++;
    if (db) {
        rc->n_positive[pol] += v > 0.0;
        lin = pow(10.0, v / 10.0);
        if (v >= PARUS__RADAR_DB_MIN && v < PARUS__RADAR_DB_MAX)
            rc->db_hist[pol][(size_t)((v - PARUS__RADAR_DB_MIN) / PARUS__RADAR_DB_BIN)]++;
    } else {
        rc->n_negative[pol] += v < 0.0;
        rc->n_bright[pol] += v > PARUS__RADAR_BRIGHT_LINEAR;
        rc->n_amplitude[pol] +=
            v > (pol == 0 ? PARUS__RADAR_AMPLITUDE_VV : PARUS__RADAR_AMPLITUDE_VH);
        lin = v;
    }
    return lin >= PARUS_RADAR_MIN_LINEAR && lin <= PARUS_RADAR_MAX_LINEAR && clear ? (float)lin
                                                                                   : NAN;
}

static void radar_values(parus_tile_reader *r, const parus_band_info *bi, float *o, size_t n)
{
    bool db = r->tile->radar.scale == PARUS_RADAR_SCALE_DB;
    for (size_t i = 0; i < n; i++) {
        o[i] = radar_value(&r->radar, bi, db, r->dn[i], r->clear[i] != 0);
        if (isnan(o[i]))
            r->valid[i] = 0;
    }
}

/* The radar fast path of parus_tile_reader_read_cells: every requested band Float32 on the grid's
 * own blocks, the validity band (if any) 8 or 16 bits: the blocks are decoded as they are and
 * only the requested pixels converted (and counted for the scale check). Returns 1 when done, 0
 * when the general path must do it, -1 on a read error. */
static int read_cells_radar(parus_tile_reader *r, size_t index, size_t x0, size_t y0, size_t w,
                            size_t h, const uint32_t *offset, size_t offset_stride, size_t n,
                            float *out, uint8_t *clear_out, const parus__gdal_capture *cap,
                            parus_error *err)
{
    const parus_tile *t = r->tile;
    size_t nr = r->n_roles, k, i, stride = t->info.block_w, vstride = 0;
    size_t px = t->info.block_w * t->info.block_h;
    GDALDataType vdt = GDT_Unknown;
    bool db = t->radar.scale == PARUS_RADAR_SCALE_DB;
    CPLErr e = CE_None;

    if (t->info.sensor != PARUS_SENSOR_S1 || (t->validity_band >= 0 && !r->clear_lut))
        return 0;
    if (!r->fraw) {
        if (!(r->fraw = calloc(nr + 1, sizeof *r->fraw)))
            return 0;
        for (k = 0; k <= nr; k++)
            if (!(r->fraw[k] = malloc(px * sizeof(float))))
                return 0; /* the general path needs no more memory; freed with the reader */
    }
    for (k = 0; k < nr; k++) {
        size_t b = r->band_of[k];
        const band_priv *p = &t->priv[b];
        GDALRasterBandH hb = GDALGetRasterBand(r->ds[p->file], t->bands[b].band_index);
        if (p->kx != 1 || p->ky != 1 || p->ox != 0 || p->oy != 0 || !hb ||
            GDALGetRasterDataType(hb) != GDT_Float32)
            return 0;
        CPLErrorReset();
        if (!read_native_block(r, hb, x0, y0, w, h, r->fraw[k], false, &e))
            return 0;
        if (e != CE_None) {
            read_failed(r, b, index, cap, err);
            return -1;
        }
    }
    if (t->validity_band >= 0) {
        int got = read_raw(r, (size_t)t->validity_band, x0, y0, w, h, r->fraw[nr], &vstride, &vdt);
        if (got == 0)
            return 0;
        if (got < 0) {
            read_failed(r, (size_t)t->validity_band, index, cap, err);
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        uint32_t off = *(const uint32_t *)(const void *)((const char *)offset + i * offset_stride);
        size_t row = off / w, col = off % w;
        uint8_t code = t->validity_band >= 0
                           ? r->clear_lut[raw_at(r->fraw[nr], vdt, row * vstride + col)]
                           : 1u;
        if (clear_out)
            clear_out[i] = code;
        for (k = 0; k < nr; k++)
            out[i * nr + k] = radar_value(&r->radar, &t->bands[r->band_of[k]], db,
                                          (double)r->fraw[k][row * stride + col], code & 1u);
    }
    (void)h;
    return 1;
}

void parus__tile_reader_take_radar_counts(parus_tile_reader *r, parus__radar_counts *out)
{
    *out = r->radar;
    memset(&r->radar, 0, sizeof r->radar);
}

parus_status parus_tile_reader_read(parus_tile_reader *r, size_t index, parus_block *out,
                                    parus_error *err)
{
    const parus_tile *t;
    const parus_tile_info *in;
    parus__gdal_capture cap;
    parus_status st = PARUS_OK;
    size_t x0, y0, w, h, n, i, k, n_valid = 0, stride = 0;
    GDALDataType dt = GDT_Unknown;
    int got;

    if (!r || !out)
        return parus_fail(err, PARUS_E_INVALID, "parus_tile_reader_read needs a reader");
    t = r->tile;
    in = &t->info;
    if (!block_window(in, index, &x0, &y0, &w, &h))
        return parus_fail(err, PARUS_E_INVALID, "block %zu is out of range (the tile has %zu)",
                          index, in->n_blocks_x * in->n_blocks_y);
    n = w * h;

    parus__gdal_capture_begin(&cap);
    memset(r->clear, 1, n);
    if (t->validity_band >= 0 && r->clear_lut &&
        (got = read_raw(r, (size_t)t->validity_band, x0, y0, w, h, r->coarse, &stride, &dt)) != 0) {
        size_t j;
        if (got < 0) {
            st = read_failed(r, (size_t)t->validity_band, index, &cap, err);
            goto out_capture;
        }
        for (j = 0; j < h; j++)
            for (i = 0; i < w; i++) {
                uint32_t v = raw_at(r->coarse, dt, j * stride + i);
                r->cls[j * w + i] = (uint16_t)v;
                r->clear[j * w + i] = r->clear_lut[v] & 1u;
            }
    } else if (t->validity_band >= 0) {
        const parus_band_info *vb = &t->bands[t->validity_band];
        st = read_dn(r, (size_t)t->validity_band, index, x0, y0, w, h, &cap, err);
        if (st)
            goto out_capture;
        for (i = 0; i < n; i++) {
            double v = r->dn[i];
            r->cls[i] = v >= 0.0 && v <= 65535.0 ? (uint16_t)v : UINT16_MAX;
            if ((vb->has_nodata && v == vb->nodata) || !class_clear(t, v))
                r->clear[i] = 0;
        }
    }
    memcpy(r->valid, r->clear, n);
    for (k = 0; k < r->n_roles; k++) {
        size_t b = r->band_of[k];
        const parus_band_info *bi = &t->bands[b];
        const band_priv *p = &t->priv[b];
        float *o = r->out[k];
        if (r->lut[k] && (got = read_raw(r, b, x0, y0, w, h, r->coarse, &stride, &dt)) != 0) {
            const float *lut = r->lut[k];
            size_t j;
            if (got < 0) {
                st = read_failed(r, b, index, &cap, err);
                goto out_capture;
            }
            for (j = 0; j < h; j++) {
                const uint8_t *clear = r->clear + j * w;
                uint8_t *valid = r->valid + j * w;
                float *oj = o + j * w;
                if (dt == GDT_UInt16) {
                    const uint16_t *raw = (const uint16_t *)(const void *)r->coarse + j * stride;
                    for (i = 0; i < w; i++) {
                        float f = clear[i] ? lut[raw[i]] : NAN;
                        oj[i] = f;
                        valid[i] &= f == f;
                    }
                } else {
                    const uint8_t *raw = (const uint8_t *)(const void *)r->coarse + j * stride;
                    for (i = 0; i < w; i++) {
                        float f = clear[i] ? lut[raw[i]] : NAN;
                        oj[i] = f;
                        valid[i] &= f == f;
                    }
                }
            }
            continue;
        }
        st = read_dn(r, b, index, x0, y0, w, h, &cap, err);
        if (st)
            goto out_capture;
        if (is_radar_role(bi->role)) {
            radar_values(r, bi, o, n);
            continue;
        }
        for (i = 0; i < n; i++) {
            double v = r->dn[i];
            bool bad =
                !isfinite(v) || (bi->has_nodata && v == bi->nodata) || (p->has_sat && v == p->sat);
            if (bad || !r->clear[i]) {
                o[i] = NAN;
                r->valid[i] = 0;
            } else {
                o[i] = (float)(v * bi->scale + bi->offset);
            }
        }
    }
    for (i = 0; i < n; i++)
        n_valid += r->valid[i];
    out->index = index;
    out->x0 = x0;
    out->y0 = y0;
    out->w = w;
    out->h = h;
    out->band = (const float *const *)r->out;
    out->valid = r->valid;
    out->cls = t->validity_band >= 0 ? r->cls : NULL;
    out->n_valid = n_valid;
out_capture:
    parus__gdal_capture_end(&cap);
    return st;
}

/* The block's 8- or 16-bit bands decoded into the reader's raw buffers; false when some band
 * (or the validity band) needs the general path. *ok false on a read error. */
static bool read_cells_raw(parus_tile_reader *r, size_t index, size_t x0, size_t y0, size_t w,
                           size_t h, GDALDataType *dt, size_t *stride, bool *ok,
                           parus__gdal_capture *cap, parus_error *err)
{
    const parus_tile *t = r->tile;
    size_t k, px = t->info.block_w * t->info.block_h;
    int got;

    *ok = true;
    for (k = 0; k < r->n_roles; k++)
        if (!r->lut[k])
            return false;
    if (t->validity_band >= 0 && !r->clear_lut)
        return false;
    if (!r->raw) {
        void **raw = calloc(r->n_roles + 1, sizeof *raw);
        if (!raw)
            return false; /* the general path needs no more memory */
        for (k = 0; k <= r->n_roles; k++) {
            if (!(raw[k] = malloc(px * sizeof(uint16_t)))) {
                while (k > 0)
                    free(raw[--k]);
                free(raw);
                return false;
            }
        }
        r->raw = raw;
    }
    for (k = 0; k <= r->n_roles; k++) {
        size_t band;
        if (k == r->n_roles && t->validity_band < 0)
            break;
        band = k == r->n_roles ? (size_t)t->validity_band : r->band_of[k];
        got = read_raw(r, band, x0, y0, w, h, r->raw[k], &stride[k], &dt[k]);
        if (got == 0)
            return false;
        if (got < 0) {
            read_failed(r, band, index, cap, err);
            *ok = false;
            return true;
        }
    }
    return true;
}

parus_status parus_tile_reader_read_cells(parus_tile_reader *r, size_t index,
                                          const uint32_t *offset, size_t offset_stride, size_t n,
                                          float *out, parus_error *err)
{
    return parus__tile_reader_read_cells_mask(r, index, offset, offset_stride, n, out, NULL, err);
}

parus_status parus__tile_reader_read_cells_mask(parus_tile_reader *r, size_t index,
                                                const uint32_t *offset, size_t offset_stride,
                                                size_t n, float *out, uint8_t *clear_out,
                                                parus_error *err)
{
    const parus_tile *t;
    const parus_tile_info *in;
    parus__gdal_capture cap;
    GDALDataType dt[PARUS_ROLE_N_ + 1];
    size_t stride[PARUS_ROLE_N_ + 1];
    size_t x0, y0, w, h, i, k, nr;
    bool ok = true, fast;
    parus_status st = PARUS_OK;

    if (!r || (!offset && n) || (!out && n))
        return parus_fail(err, PARUS_E_INVALID, "parus_tile_reader_read_cells needs a reader");
    t = r->tile;
    in = &t->info;
    nr = r->n_roles;
    if (nr > PARUS_ROLE_N_ || !block_window(in, index, &x0, &y0, &w, &h))
        return parus_fail(err, PARUS_E_INVALID, "block %zu is out of range (the tile has %zu)",
                          index, in->n_blocks_x * in->n_blocks_y);

    parus__gdal_capture_begin(&cap);
    if (t->info.sensor == PARUS_SENSOR_S1) {
        int got = read_cells_radar(r, index, x0, y0, w, h, offset, offset_stride, n, out, clear_out,
                                   &cap, err);
        if (got != 0) {
            parus__gdal_capture_end(&cap);
            return got > 0 ? PARUS_OK : err ? err->code : PARUS_E_IO;
        }
    }
    fast = read_cells_raw(r, index, x0, y0, w, h, dt, stride, &ok, &cap, err);
    parus__gdal_capture_end(&cap);
    if (fast && !ok)
        return err ? err->code : PARUS_E_IO;
    if (fast) {
        for (i = 0; i < n; i++) {
            uint32_t off =
                *(const uint32_t *)(const void *)((const char *)offset + i * offset_stride);
            size_t row = off / w, col = off % w;
            bool clear = true;
            uint8_t code = 1;
            float *o = out + i * nr;
            if (t->validity_band >= 0) {
                code = r->clear_lut[raw_at(r->raw[nr], dt[nr], row * stride[nr] + col)];
                clear = (code & 1u) != 0;
            }
            if (clear_out)
                clear_out[i] = code;
            for (k = 0; k < nr; k++)
                o[k] = clear ? r->lut[k][raw_at(r->raw[k], dt[k], row * stride[k] + col)] : NAN;
        }
        return PARUS_OK;
    }
    /* the general path: the whole block, then the cells */
    {
        parus_block blk;
        st = parus_tile_reader_read(r, index, &blk, err);
        if (st != PARUS_OK)
            return st;
        for (i = 0; i < n; i++) {
            uint32_t off =
                *(const uint32_t *)(const void *)((const char *)offset + i * offset_stride);
            for (k = 0; k < nr; k++)
                out[i * nr + k] = blk.band[k][off];
            if (clear_out)
                clear_out[i] =
                    (uint8_t)(r->clear[off] | (blk.cls && !class_defined(t, (double)blk.cls[off])
                                                   ? PARUS_MASK_UNDEFINED_BIT
                                                   : 0u));
        }
    }
    return PARUS_OK;
}

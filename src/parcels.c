/*
 * parcels.c - read land parcels through OGR, validate them, move them to WGS84 lon/lat and give
 * each its geodesic area.
 *
 * Workload: one vector file (GeoJSON, GeoPackage, Shapefile, anything OGR reads) of tens to
 * hundreds of thousands of small farm polygons, read once when parcels are loaded into the store.
 * Each feature goes through the same fixed steps, in this order, and the first that fails sets the
 * parcel aside with one reason (docs/parcels.md lists them word for word):
 *
 *   id present -> id not seen before -> declared area usable -> geometry present, not empty,
 *   polygonal -> valid in the source CRS (else repaired by GEOS MakeValid, polygonal parts kept)
 *   -> non-zero area -> transformed to EPSG:4326 -> every coordinate a finite lon/lat.
 *
 * Validity is judged in the source CRS because that is where the surveyor drew the polygon; a
 * reprojection can only bend edges by millimetres at parcel scale. Areas come from the transformed
 * WKB itself (Karney's geodesic polygon area, PROJ's geodesic.h, on the WGS84 ellipsoid), so the
 * stored geometry and the stored area cannot disagree.
 *
 * Assumptions: parcels are small next to the Earth (no ring encircles a pole or crosses the
 * antimeridian); ids are compared byte for byte; a duplicate check needs every id seen once, so
 * ids live in a hash table (O(1) per feature, never O(n^2)). Thread safety: everything a call
 * uses (dataset, SRS objects, one coordinate transformation, GDAL error handler, scratch) belongs
 * to that call, and GDAL keeps its PROJ context per thread, so calls on different files may run
 * at the same time.
 */
#define _POSIX_C_SOURCE 200809L

#include "parus/parcels.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "util_int.h"

#define WGS84_A_M 6378137.0
#define WGS84_F (1.0 / 298.257223563)

/* ---- GDAL messages ----
 * GEOS explains why a polygon is invalid only through a CE_Warning ("Self-intersection at or near
 * point 5 5"), which parus__gdal_capture ignores, so this module keeps its own handler: the last
 * warning or failure of the current step, and nothing printed. */

typedef struct gdal_note {
    char msg[256];
} gdal_note;

static void CPL_STDCALL note_handler(CPLErr cls, CPLErrorNum num, const char *msg)
{
    gdal_note *note = CPLGetErrorHandlerUserData();
    (void)num;
    if (!note || cls < CE_Warning)
        return;
    snprintf(note->msg, sizeof note->msg, "%s", msg ? msg : "");
}

static const char *note_or(const gdal_note *note, const char *fallback)
{
    return note->msg[0] ? note->msg : fallback;
}

/* ---- growable arrays ---- */

/* arr with room for element n: arr itself, or a larger copy with *cap updated; NULL (arr still
 * valid) when out of memory. */
static void *room_for(void *arr, size_t *cap, size_t n, size_t elem_size)
{
    size_t new_cap;
    size_t n_bytes;
    void *p;
    if (n < *cap)
        return arr;
    if (!parus__mul_size(*cap ? *cap : 16, 2, &new_cap) ||
        !parus__mul_size(new_cap, elem_size, &n_bytes))
        return NULL;
    p = realloc(arr, n_bytes);
    if (p)
        *cap = new_cap;
    return p;
}

/* ---- id hash set: id -> index of the first feature that carried it ---- */

typedef struct id_slot {
    const char *id; /* borrowed from the parcel or reject that owns it; NULL: empty slot */
    uint64_t hash;
    size_t feature_index;
} id_slot;

typedef struct id_table {
    id_slot *slots;
    size_t cap; /* a power of two */
    size_t n;
} id_table;

static uint64_t hash_id(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211u;
    }
    return h;
}

static parus_status id_table_grow(id_table *t)
{
    size_t new_cap;
    size_t n_bytes;
    size_t i;
    id_slot *slots;
    if (!parus__mul_size(t->cap ? t->cap : 512, 2, &new_cap) ||
        !parus__mul_size(new_cap, sizeof *slots, &n_bytes))
        return PARUS_E_NOMEM;
    slots = calloc(new_cap, sizeof *slots);
    if (!slots)
        return PARUS_E_NOMEM;
    for (i = 0; i < t->cap; i++) {
        size_t j;
        if (!t->slots[i].id)
            continue;
        j = (size_t)t->slots[i].hash & (new_cap - 1);
        while (slots[j].id)
            j = (j + 1) & (new_cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = new_cap;
    return PARUS_OK;
}

/* Look id up; when absent, remember it with feature_index (*first_index = SIZE_MAX), else
 * *first_index is the feature that carried it first. id must outlive the table. */
static parus_status id_table_check(id_table *t, const char *id, size_t feature_index,
                                   size_t *first_index)
{
    uint64_t h = hash_id(id);
    size_t j;
    if ((t->n + 1) * 2 > t->cap) {
        parus_status st = id_table_grow(t);
        if (st != PARUS_OK)
            return st;
    }
    j = (size_t)h & (t->cap - 1);
    while (t->slots[j].id) {
        if (t->slots[j].hash == h && strcmp(t->slots[j].id, id) == 0) {
            *first_index = t->slots[j].feature_index;
            return PARUS_OK;
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->slots[j].id = id;
    t->slots[j].hash = h;
    t->slots[j].feature_index = feature_index;
    t->n++;
    *first_index = SIZE_MAX;
    return PARUS_OK;
}

/* ---- WKB geodesic area ----
 * Read straight from the WKB (ISO or EWKB flags, either byte order, Z/M ignored) so the area
 * belongs to exactly the bytes that are stored. */

typedef struct wkb_cursor {
    const unsigned char *p;
    size_t n;
    size_t off;
} wkb_cursor;

typedef struct ring_buf {
    double *lat_deg;
    double *lon_deg;
    size_t cap;
} ring_buf;

typedef struct area_fault {
    double x, y; /* the first coordinate that is not a finite lon/lat */
} area_fault;

static bool wkb_u8(wkb_cursor *c, unsigned *v)
{
    if (c->n - c->off < 1)
        return false;
    *v = c->p[c->off++];
    return true;
}

static bool wkb_u32(wkb_cursor *c, bool le, uint32_t *v)
{
    const unsigned char *b;
    if (c->n - c->off < 4)
        return false;
    b = c->p + c->off;
    *v = le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
            : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    c->off += 4;
    return true;
}

static double wkb_f64_at(const unsigned char *b, bool le)
{
    uint64_t u = 0;
    double d;
    int i;
    for (i = 0; i < 8; i++)
        u |= (uint64_t)b[le ? i : 7 - i] << (8 * i);
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Byte order and geometry header; *type is the plain OGC code (3 polygon, 6 multipolygon). */
static bool wkb_header(wkb_cursor *c, bool *le, uint32_t *type, size_t *n_dims)
{
    unsigned order;
    uint32_t t;
    uint32_t srid;
    bool has_z, has_m;
    if (!wkb_u8(c, &order) || order > 1)
        return false;
    *le = order == 1;
    if (!wkb_u32(c, *le, &t))
        return false;
    has_z = (t & 0x80000000u) != 0;
    has_m = (t & 0x40000000u) != 0;
    if ((t & 0x20000000u) && !wkb_u32(c, *le, &srid))
        return false;
    t &= 0x0fffffffu;
    if (t >= 1000 && t < 4000) {
        has_z = has_z || t / 1000 == 1 || t / 1000 == 3;
        has_m = has_m || t / 1000 == 2 || t / 1000 == 3;
        t %= 1000;
    }
    *type = t;
    *n_dims = 2 + (has_z ? 1 : 0) + (has_m ? 1 : 0);
    return true;
}

/* Area of one polygon at the cursor (after its header), outer ring minus holes. */
static parus_status wkb_polygon_area(wkb_cursor *c, bool le, size_t n_dims,
                                     const struct geod_geodesic *geod, ring_buf *buf,
                                     double *area_m2, area_fault *fault)
{
    uint32_t n_rings;
    uint32_t r;
    double total = 0.0;
    if (!wkb_u32(c, le, &n_rings))
        return PARUS_E_GEOMETRY;
    for (r = 0; r < n_rings; r++) {
        uint32_t n_pts;
        size_t i;
        size_t stride = n_dims * 8;
        double ring_m2 = 0.0;
        double perimeter_m;
        if (!wkb_u32(c, le, &n_pts))
            return PARUS_E_GEOMETRY;
        if (n_pts > INT_MAX || (c->n - c->off) / stride < n_pts)
            return PARUS_E_GEOMETRY;
        if (n_pts > buf->cap) {
            size_t n_bytes;
            double *lat, *lon;
            if (!parus__mul_size(n_pts, sizeof(double), &n_bytes))
                return PARUS_E_NOMEM;
            lat = realloc(buf->lat_deg, n_bytes);
            if (!lat)
                return PARUS_E_NOMEM;
            buf->lat_deg = lat;
            lon = realloc(buf->lon_deg, n_bytes);
            if (!lon)
                return PARUS_E_NOMEM;
            buf->lon_deg = lon;
            buf->cap = n_pts;
        }
        for (i = 0; i < n_pts; i++) {
            const unsigned char *b = c->p + c->off + i * stride;
            double x = wkb_f64_at(b, le);
            double y = wkb_f64_at(b + 8, le);
            /* the negated form also catches NaN */
            if (!(x >= -180.0 && x <= 180.0 && y >= -90.0 && y <= 90.0)) {
                fault->x = x;
                fault->y = y;
                return PARUS_E_RANGE;
            }
            buf->lon_deg[i] = x;
            buf->lat_deg[i] = y;
        }
        c->off += (size_t)n_pts * stride;
        if (n_pts >= 3)
            geod_polygonarea(geod, buf->lat_deg, buf->lon_deg, (int)n_pts, &ring_m2, &perimeter_m);
        /* orientation is not trusted: the first ring adds, the others (holes) subtract */
        total += r == 0 ? fabs(ring_m2) : -fabs(ring_m2);
    }
    *area_m2 = total;
    return PARUS_OK;
}

static parus_status wkb_area(const struct geod_geodesic *geod, const unsigned char *wkb,
                             size_t wkb_size, ring_buf *buf, double *area_m2, area_fault *fault)
{
    wkb_cursor c = {wkb, wkb_size, 0};
    bool le;
    uint32_t type;
    size_t n_dims;
    double total = 0.0;
    parus_status st;
    if (!wkb || !wkb_header(&c, &le, &type, &n_dims))
        return PARUS_E_GEOMETRY;
    if (type == 3) {
        st = wkb_polygon_area(&c, le, n_dims, geod, buf, &total, fault);
    } else if (type == 6) {
        uint32_t n_parts;
        uint32_t k;
        if (!wkb_u32(&c, le, &n_parts))
            return PARUS_E_GEOMETRY;
        st = PARUS_OK;
        for (k = 0; k < n_parts && st == PARUS_OK; k++) {
            bool part_le;
            uint32_t part_type;
            size_t part_dims;
            double part_m2 = 0.0;
            if (!wkb_header(&c, &part_le, &part_type, &part_dims) || part_type != 3)
                return PARUS_E_GEOMETRY;
            st = wkb_polygon_area(&c, part_le, part_dims, geod, buf, &part_m2, fault);
            total += part_m2;
        }
    } else {
        return PARUS_E_GEOMETRY;
    }
    if (st == PARUS_OK)
        *area_m2 = total;
    return st;
}

parus_status parus_wkb_geodesic_area_m2(const unsigned char *wkb, size_t wkb_size, double *area_m2,
                                        parus_error *err)
{
    struct geod_geodesic geod;
    ring_buf buf = {NULL, NULL, 0};
    area_fault fault = {0.0, 0.0};
    double a = 0.0;
    parus_status st;
    geod_init(&geod, WGS84_A_M, WGS84_F);
    st = wkb_area(&geod, wkb, wkb_size, &buf, &a, &fault);
    free(buf.lat_deg);
    free(buf.lon_deg);
    if (st == PARUS_E_NOMEM)
        return parus_fail(err, st, "out of memory computing a geodesic area");
    if (st == PARUS_E_RANGE)
        return parus_fail(err, PARUS_E_GEOMETRY, "coordinate (%.17g, %.17g) is not a lon/lat",
                          fault.x, fault.y);
    if (st != PARUS_OK)
        return parus_fail(err, PARUS_E_GEOMETRY,
                          "WKB is not a well-formed polygon or multipolygon (%zu bytes)", wkb_size);
    *area_m2 = a;
    return PARUS_OK;
}

/* ---- numbers OGR cannot have read faithfully (GeoJSON) ----
 *
 * GDAL's GeoJSON reader (its copy of json-c) does not refuse a malformed or unrepresentable number:
 * measured with GDAL 3.6, "114.526.3" becomes 114, an integer of 54 digits becomes 2^63 - 1,
 * 1e999 and -1e999 become infinities and NaN is taken as not-a-number. The first passes every
 * geometric check, so the file's own text is scanned once (a tokenizer that knows strings,
 * brackets and the features array; ~100 MB/s) and every bare token is held to RFC 8259's number
 * grammar and to what a double can hold. A bad token inside the n-th element of "features" sets
 * feature n aside; one outside any feature refuses the file. */

typedef struct bad_number {
    size_t feature_index; /* SIZE_MAX: outside the features array */
    size_t line;          /* 1-based */
    char text[40];        /* the token, cut to fit */
    const char *why;
    const char *what; /* "number", or "text" for a string's escape */
} bad_number;

typedef struct reader {
    const char *path;
    OGRCoordinateTransformationH ct;
    struct geod_geodesic geod;
    int id_idx, farmer_idx, area_idx; /* field indices, -1 when absent */
    OGRFieldType id_type, farmer_type, area_type;
    const char *area_field;
    double declared_m2_per_unit;
    id_table ids;
    ring_buf ring;
    gdal_note note;
    parus_parcel_set set;
    size_t cap_parcels, cap_rejects;
    bool geographic; /* the source CRS is lon/lat: its coordinates must be in range */
    double ratio_min, ratio_max, max_area_m2;
    bad_number *bad; /* GeoJSON numbers OGR cannot have read faithfully, in feature order */
    size_t n_bad, cap_bad, next_bad;
} reader;

#define SCAN_DEPTH_MAX 64
#define SCAN_TOKEN_MAX 128

typedef struct json_scan {
    size_t line;
    int depth;                 /* containers open */
    char kind[SCAN_DEPTH_MAX]; /* '{' or '[' per level (up to SCAN_DEPTH_MAX) */
    bool expect_key;           /* in an object, the next string is a key */
    bool key_is_features;      /* the last key read at depth 1 was "features" */
    int features_depth;        /* depth of the features array; 0 none */
    size_t feature_index;      /* SIZE_MAX before the first */
    bool in_string, escape;
    int hex_left; /* hex digits still to read of a backslash-u escape */
    bool hex_nul; /* those read so far are all 0: the escape of NUL, where OGR cuts the text */
    char key[16]; /* a short key being read at depth 1 */
    size_t key_len;
    bool key_long;
    char token[SCAN_TOKEN_MAX + 1];
    size_t token_len;
    bool token_long;
    size_t token_line;
} json_scan;

/* Why a bare JSON token cannot be read faithfully, or NULL when it can. */
static const char *token_fault(const char *t, size_t n, bool too_long)
{
    const char *p = t;
    bool integer = true;
    char *end;
    if (too_long)
        return "is too long to be a number OGR reads faithfully";
    if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0) ||
        (n == 4 && memcmp(t, "null", 4) == 0))
        return NULL;
    /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
    } else {
        return "is not a JSON number";
    }
    if (*p == '.') {
        integer = false;
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return "is not a JSON number";
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        integer = false;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return "is not a JSON number";
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return "is not a JSON number";
    errno = 0;
    if (integer) {
        (void)strtoll(t, &end, 10);
        return errno == ERANGE ? "is an integer beyond 64 bits" : NULL;
    } else {
        double v = strtod(t, &end);
        if (errno == ERANGE || !isfinite(v))
            return isfinite(v) && fabs(v) < 1.0 ? "underflows a double" : "overflows a double";
    }
    return NULL;
}

/* Record what OGR cannot have read faithfully at the scan's place: text (cut to fit) on line. */
static parus_status add_bad(reader *r, const json_scan *s, const char *what, const char *text,
                            bool long_text, size_t line, const char *why)
{
    bad_number *b = room_for(r->bad, &r->cap_bad, r->n_bad, sizeof *b);
    if (!b)
        return PARUS_E_NOMEM;
    r->bad = b;
    b = &r->bad[r->n_bad++];
    b->feature_index =
        s->features_depth && s->depth > s->features_depth && s->feature_index != SIZE_MAX
            ? s->feature_index
            : SIZE_MAX;
    b->line = line;
    if (strlen(text) < sizeof b->text && !long_text) {
        memcpy(b->text, text, strlen(text) + 1);
    } else {
        memcpy(b->text, text, sizeof b->text - 4);
        memcpy(b->text + sizeof b->text - 4, "...", 4);
    }
    b->why = why;
    b->what = what;
    return PARUS_OK;
}

static parus_status scan_token_end(reader *r, json_scan *s)
{
    const char *why;
    parus_status st = PARUS_OK;
    if (!s->token_len)
        return PARUS_OK;
    s->token[s->token_len < SCAN_TOKEN_MAX ? s->token_len : SCAN_TOKEN_MAX] = '\0';
    why = token_fault(s->token, s->token_len, s->token_long);
    s->token_len = 0;
    if (why)
        st = add_bad(r, s, "number", s->token, s->token_long, s->token_line, why);
    s->token_long = false;
    return st;
}

static parus_status scan_bytes(reader *r, json_scan *s, const char *buf, size_t n)
{
    size_t i;
    parus_status st;
    for (i = 0; i < n; i++) {
        char c = buf[i];
        if (s->in_string) {
            if (s->hex_left > 0) {
                s->hex_nul = s->hex_nul && c == '0';
                if (--s->hex_left == 0 && s->hex_nul &&
                    (st = add_bad(r, s, "text", "\\u0000", false, s->line,
                                  "is a NUL character, at which OGR cuts the text")) != PARUS_OK)
                    return st;
            } else if (s->escape) {
                s->escape = false;
                if (c == 'u') {
                    s->hex_left = 4;
                    s->hex_nul = true;
                }
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == '"') {
                s->in_string = false;
                if (s->expect_key && s->depth == 1)
                    s->key_is_features =
                        !s->key_long && s->key_len == 8 && memcmp(s->key, "features", 8) == 0;
                continue;
            }
            if (s->expect_key && s->depth == 1) {
                if (s->key_len < sizeof s->key)
                    s->key[s->key_len++] = c;
                else
                    s->key_long = true;
            }
            if (c == '\n')
                s->line++;
            continue;
        }
        switch (c) {
        case '"':
        case '{':
        case '}':
        case '[':
        case ']':
        case ':':
        case ',':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            st = scan_token_end(r, s);
            if (st != PARUS_OK)
                return st;
            break;
        default:
            if (s->token_len == 0)
                s->token_line = s->line;
            if (s->token_len < SCAN_TOKEN_MAX)
                s->token[s->token_len] = c;
            else
                s->token_long = true;
            s->token_len++;
            continue;
        }
        switch (c) {
        case '"':
            s->in_string = true;
            s->key_len = 0;
            s->key_long = false;
            break;
        case '{':
        case '[':
            if (c == '{' && s->features_depth && s->depth == s->features_depth)
                s->feature_index = s->feature_index == SIZE_MAX ? 0 : s->feature_index + 1;
            if (c == '[' && s->depth == 1 && s->key_is_features && !s->features_depth)
                s->features_depth = 2;
            if (s->depth < SCAN_DEPTH_MAX)
                s->kind[s->depth] = c;
            s->depth++;
            s->expect_key = c == '{';
            break;
        case '}':
        case ']':
            if (s->depth > 0)
                s->depth--;
            s->expect_key = false;
            break;
        case ':':
            s->expect_key = false;
            break;
        case ',':
            s->expect_key =
                s->depth > 0 && s->depth <= SCAN_DEPTH_MAX && s->kind[s->depth - 1] == '{';
            break;
        case '\n':
            s->line++;
            break;
        default:
            break;
        }
    }
    return PARUS_OK;
}

/* Scan a GeoJSON file's numbers into r->bad. Only E_NOMEM and E_IO fail. */
static parus_status scan_geojson(reader *r, parus_error *err)
{
    char buf[65536];
    json_scan s;
    VSILFILE *fp;
    size_t n;
    parus_status st = PARUS_OK;

    memset(&s, 0, sizeof s);
    s.line = 1;
    s.feature_index = SIZE_MAX;
    fp = VSIFOpenL(r->path, "rb");
    if (!fp)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s' to check its numbers", r->path);
    while (st == PARUS_OK && (n = VSIFReadL(buf, 1, sizeof buf, fp)) > 0)
        st = scan_bytes(r, &s, buf, n);
    if (st == PARUS_OK)
        st = scan_token_end(r, &s);
    VSIFCloseL(fp);
    if (st != PARUS_OK)
        return parus_fail(err, st, "out of memory checking the numbers of '%s'", r->path);
    return PARUS_OK;
}

/* ---- the reader ---- */

/* Append a reject; takes ownership of id (which may be NULL). Only E_NOMEM fails. */
static parus_status add_reject(reader *r, size_t feature_index, char *id, parus_status code,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static parus_status add_reject(reader *r, size_t feature_index, char *id, parus_status code,
                               const char *fmt, ...)
{
    char text[512];
    parus_parcel_reject *rej;
    va_list ap;
    char *reason;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    reason = parus__strdup(text);
    rej = reason ? room_for(r->set.rejects, &r->cap_rejects, r->set.n_rejects, sizeof *rej) : NULL;
    if (!rej) {
        free(reason);
        free(id);
        return PARUS_E_NOMEM;
    }
    r->set.rejects = rej;
    rej = &r->set.rejects[r->set.n_rejects++];
    rej->feature_index = feature_index;
    rej->id = id;
    rej->code = code;
    rej->reason = reason;
    return PARUS_OK;
}

/* A field's value as text: integers without decimals, integral reals likewise, strings as they
 * are. *out is NULL when the field is unset, null or empty. */
static parus_status field_text(OGRFeatureH f, int idx, OGRFieldType type, char **out)
{
    char num[64];
    const char *s;
    *out = NULL;
    if (idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx))
        return PARUS_OK;
    if (type == OFTInteger || type == OFTInteger64) {
        snprintf(num, sizeof num, "%" PRId64, (int64_t)OGR_F_GetFieldAsInteger64(f, idx));
        s = num;
    } else if (type == OFTReal) {
        double v = OGR_F_GetFieldAsDouble(f, idx);
        if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
            snprintf(num, sizeof num, "%.0f", v);
        else
            snprintf(num, sizeof num, "%.15g", v);
        s = num;
    } else {
        s = OGR_F_GetFieldAsString(f, idx);
    }
    if (!s || !*s)
        return PARUS_OK;
    *out = parus__strdup(s);
    return *out ? PARUS_OK : PARUS_E_NOMEM;
}

static bool all_space(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* s without the blanks around it, in place: a farmer id is a key shared with the debts file,
 * whose reader drops them too (debts.c), so "F1 " is the farmer "F1", never a second farmer with
 * a limit of its own, its own cap and none of F1's debt. */
static void trim_blanks(char *s)
{
    parus__trim_blanks(s);
}

/* The declared area in m2: NaN when not declared; false with why[] when unusable. */
static bool declared_area(const reader *r, OGRFeatureH f, double *area_m2, char *why,
                          size_t why_size)
{
    double v;
    *area_m2 = NAN;
    if (r->area_idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, r->area_idx))
        return true;
    if (r->area_type == OFTInteger || r->area_type == OFTInteger64 || r->area_type == OFTReal) {
        v = OGR_F_GetFieldAsDouble(f, r->area_idx);
        if (!isfinite(v)) {
            snprintf(why, why_size, "declared area '%s' is not a number", r->area_field);
            return false;
        }
    } else {
        const char *s = OGR_F_GetFieldAsString(f, r->area_idx);
        char *end;
        if (!s || all_space(s))
            return true;
        errno = 0;
        v = strtod(s, &end);
        if (end == s || !all_space(end) || errno == ERANGE || !isfinite(v)) {
            snprintf(why, why_size, "declared area '%s' = '%.64s' is not a number", r->area_field,
                     s);
            return false;
        }
    }
    if (v < 0.0) {
        snprintf(why, why_size, "declared area '%s' = %g is negative", r->area_field, v);
        return false;
    }
    *area_m2 = v * r->declared_m2_per_unit;
    return true;
}

static bool is_polygonal(OGRwkbGeometryType t)
{
    t = wkbFlatten(t);
    return t == wkbPolygon || t == wkbMultiPolygon;
}

/* The polygons of a geometry collection gathered into a new MultiPolygon; *n_other counts the
 * members that are not polygons. NULL on allocation failure. */
static OGRGeometryH gather_polygons(OGRGeometryH gc, int *n_other)
{
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    int i, n = OGR_G_GetGeometryCount(gc);
    *n_other = 0;
    if (!mp)
        return NULL;
    for (i = 0; i < n; i++) {
        OGRGeometryH part = OGR_G_GetGeometryRef(gc, i);
        OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(part));
        if (t == wkbPolygon) {
            if (!OGR_G_IsEmpty(part))
                OGR_G_AddGeometry(mp, part);
        } else if (t == wkbMultiPolygon) {
            int k, m = OGR_G_GetGeometryCount(part);
            for (k = 0; k < m; k++)
                OGR_G_AddGeometry(mp, OGR_G_GetGeometryRef(part, k));
        } else {
            (*n_other)++;
        }
    }
    return mp;
}

/* The first vertex of a polygonal g that is not finite or, when geographic, not a lon/lat. NaN
 * and infinities reach GEOS otherwise, whose verdict on them is undefined. */
static bool bad_point(OGRGeometryH g, bool geographic, double *x, double *y)
{
    int n = OGR_G_GetGeometryCount(g);
    int i, k;
    if (n > 0) {
        for (i = 0; i < n; i++)
            if (bad_point(OGR_G_GetGeometryRef(g, i), geographic, x, y))
                return true;
        return false;
    }
    n = OGR_G_GetPointCount(g);
    for (k = 0; k < n; k++) {
        double px = OGR_G_GetX(g, k), py = OGR_G_GetY(g, k);
        if (!isfinite(px) || !isfinite(py) ||
            (geographic && (fabs(px) > 180.0 || fabs(py) > 90.0))) {
            *x = px;
            *y = py;
            return true;
        }
    }
    return false;
}

typedef enum geom_verdict {
    GEOM_OK,
    GEOM_REPAIRED,
    GEOM_REJECT,
} geom_verdict;

/* Turn the feature's geometry (ownership taken) into a valid 2D (Multi)Polygon in the source
 * CRS, in *out. GEOM_REJECT with why[] otherwise. */
static geom_verdict make_polygonal(reader *r, OGRGeometryH g, OGRGeometryH *out, char *why,
                                   size_t why_size)
{
    OGRwkbGeometryType t;
    OGRGeometryH h;
    geom_verdict verdict = GEOM_OK;
    double x, y;
    *out = NULL;
    if (!g) {
        snprintf(why, why_size, "no geometry");
        return GEOM_REJECT;
    }
    if (OGR_G_IsEmpty(g)) {
        snprintf(why, why_size, "empty geometry");
        goto reject;
    }
    t = OGR_G_GetGeometryType(g);
    if (OGR_GT_IsNonLinear(t)) {
        h = OGR_G_GetLinearGeometry(g, 0.0, NULL);
        OGR_G_DestroyGeometry(g);
        g = h;
        if (!g) {
            snprintf(why, why_size, "curved geometry could not be linearized");
            return GEOM_REJECT;
        }
    }
    OGR_G_FlattenTo2D(g);
    t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbTriangle) {
        g = OGR_G_ForceToPolygon(g);
    } else if (t == wkbGeometryCollection) {
        int n_other;
        h = gather_polygons(g, &n_other);
        if (n_other > 0 || !h || OGR_G_IsEmpty(h)) {
            OGR_G_DestroyGeometry(h);
            snprintf(why, why_size, "not a polygon (%s with %d non-polygon member%s)",
                     OGRGeometryTypeToName(t), n_other, n_other == 1 ? "" : "s");
            goto reject;
        }
        OGR_G_DestroyGeometry(g);
        g = h;
    } else if (!is_polygonal(t)) {
        snprintf(why, why_size, "not a polygon (%s)", OGRGeometryTypeToName(t));
        goto reject;
    }
    /* unclosed rings are a sloppy encoding, not a different shape: GEOS refuses them outright */
    OGR_G_CloseRings(g);
    if (bad_point(g, r->geographic, &x, &y)) {
        snprintf(why, why_size,
                 r->geographic ? "coordinate (%.10g, %.10g) is not a finite lon/lat "
                                 "(-180..180, -90..90): check the file's CRS"
                               : "coordinate (%.10g, %.10g) is not a finite number",
                 x, y);
        goto reject;
    }

    r->note.msg[0] = '\0';
    if (!OGR_G_IsValid(g)) {
        char reason[256];
        snprintf(reason, sizeof reason, "%s", note_or(&r->note, "invalid"));
        h = OGR_G_MakeValid(g);
        if (h && wkbFlatten(OGR_G_GetGeometryType(h)) == wkbGeometryCollection) {
            int n_other;
            OGRGeometryH mp = gather_polygons(h, &n_other);
            OGR_G_DestroyGeometry(h);
            h = mp;
        }
        if (!h || !is_polygonal(OGR_G_GetGeometryType(h)) || OGR_G_IsEmpty(h)) {
            OGR_G_DestroyGeometry(h);
            snprintf(why, why_size, "invalid polygon (%s) could not be repaired", reason);
            goto reject;
        }
        OGR_G_DestroyGeometry(g);
        g = h;
        verdict = GEOM_REPAIRED;
    }
    if (!(OGR_G_Area(g) > 0.0)) {
        snprintf(why, why_size, "polygon has zero area");
        goto reject;
    }
    *out = g;
    return verdict;

reject:
    OGR_G_DestroyGeometry(g);
    return GEOM_REJECT;
}

/* One feature: append a parcel or a reject. Only E_NOMEM stops the read. */
static parus_status read_feature(reader *r, OGRFeatureH f, size_t index)
{
    char why[512];
    char *id = NULL;
    char *farmer = NULL;
    unsigned char *wkb = NULL;
    size_t first_index;
    size_t wkb_size;
    double declared_m2;
    double area_m2 = 0.0;
    area_fault fault;
    OGRGeometryH g = NULL;
    OGREnvelope env;
    geom_verdict verdict;
    parus_status st;
    parus_parcel *p;

    st = field_text(f, r->id_idx, r->id_type, &id);
    if (st != PARUS_OK)
        return st;
    if (!id || all_space(id)) {
        free(id);
        return add_reject(r, index, NULL, PARUS_E_INVALID, "missing parcel id");
    }
    st = id_table_check(&r->ids, id, index, &first_index);
    if (st != PARUS_OK) {
        free(id);
        return st;
    }
    if (first_index != SIZE_MAX)
        return add_reject(r, index, id, PARUS_E_DUPLICATE,
                          "duplicate id '%.128s', first seen at feature %zu", id, first_index);
    while (r->next_bad < r->n_bad && r->bad[r->next_bad].feature_index < index)
        r->next_bad++;
    if (r->next_bad < r->n_bad && r->bad[r->next_bad].feature_index == index) {
        const bad_number *b = &r->bad[r->next_bad];
        return add_reject(r, index, id, PARUS_E_FORMAT,
                          "%s '%s' at line %zu %s: OGR cannot have read it faithfully", b->what,
                          b->text, b->line, b->why);
    }
    if (!declared_area(r, f, &declared_m2, why, sizeof why))
        return add_reject(r, index, id, PARUS_E_INVALID, "%s", why);

    verdict = make_polygonal(r, OGR_F_StealGeometry(f), &g, why, sizeof why);
    if (verdict == GEOM_REJECT)
        return add_reject(r, index, id, PARUS_E_GEOMETRY, "%s", why);

    r->note.msg[0] = '\0';
    if (OGR_G_Transform(g, r->ct) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(g);
        return add_reject(r, index, id, PARUS_E_GEOMETRY,
                          "cannot transform to WGS84 lon/lat (%s): check the file's CRS",
                          note_or(&r->note, "no reason given"));
    }
    wkb_size = OGR_G_WkbSizeEx(g);
    wkb = malloc(wkb_size ? wkb_size : 1);
    if (!wkb) {
        OGR_G_DestroyGeometry(g);
        free(id);
        return PARUS_E_NOMEM;
    }
    if (OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(g);
        free(wkb);
        return add_reject(r, index, id, PARUS_E_GEOMETRY, "cannot encode the polygon as WKB");
    }
    OGR_G_GetEnvelope(g, &env);
    OGR_G_DestroyGeometry(g);

    st = wkb_area(&r->geod, wkb, wkb_size, &r->ring, &area_m2, &fault);
    if (st != PARUS_OK)
        free(wkb);
    if (st == PARUS_E_NOMEM) {
        free(id);
        return st;
    }
    if (st == PARUS_E_RANGE)
        return add_reject(r, index, id, PARUS_E_GEOMETRY,
                          "coordinate (%.10g, %.10g) after transformation to WGS84 is not a "
                          "lon/lat: check the file's CRS",
                          fault.x, fault.y);
    if (st != PARUS_OK)
        return add_reject(r, index, id, PARUS_E_GEOMETRY, "cannot read back the polygon's WKB");
    if (!(area_m2 > 0.0) || !isfinite(area_m2)) {
        free(wkb);
        return add_reject(r, index, id, PARUS_E_GEOMETRY, "polygon has zero area");
    }
    if (area_m2 > r->max_area_m2) {
        free(wkb);
        return add_reject(r, index, id, PARUS_E_RANGE,
                          "area %.2f ha is above the largest plausible parcel (%.2f ha): check "
                          "its vertices",
                          area_m2 / PARUS_M2_PER_HA, r->max_area_m2 / PARUS_M2_PER_HA);
    }
    if (declared_m2 > 0.0 &&
        (area_m2 < r->ratio_min * declared_m2 || area_m2 > r->ratio_max * declared_m2)) {
        free(wkb);
        return add_reject(
            r, index, id, PARUS_E_RANGE,
            "area %.2f mu is %.3g times the declared %.2f mu (plausible: %.3g..%.3g): "
            "check its vertices and declared area",
            area_m2 / PARUS_M2_PER_MU, area_m2 / declared_m2, declared_m2 / PARUS_M2_PER_MU,
            r->ratio_min, r->ratio_max);
    }

    st = field_text(f, r->farmer_idx, r->farmer_type, &farmer);
    if (st != PARUS_OK) {
        free(wkb);
        free(id);
        return PARUS_E_NOMEM;
    }
    if (farmer && all_space(farmer)) {
        free(farmer);
        farmer = NULL;
    }
    if (farmer) {
        char form[224];
        trim_blanks(farmer);
        if (!farmer[0]) { /* only blanks no one sees: no farmer, as only spaces */
            free(farmer);
            farmer = NULL;
        } else if (parus__id_form_problem(farmer, form, sizeof form)) {
            /* one farmer in two spellings would be two farmers, each with a cap and a floor
             * of its own and the debts of one */
            parus_status rs =
                add_reject(r, index, id, PARUS_E_INVALID, "farmer id '%.64s' %s", farmer, form);
            free(farmer);
            free(wkb);
            return rs;
        }
    }
    p = room_for(r->set.parcels, &r->cap_parcels, r->set.n_parcels, sizeof *p);
    if (!p) {
        free(farmer);
        free(wkb);
        free(id);
        return PARUS_E_NOMEM;
    }
    r->set.parcels = p;
    p = &r->set.parcels[r->set.n_parcels++];
    p->id = id;
    p->farmer_id = farmer;
    p->declared_area_m2 = declared_m2;
    p->area_m2 = area_m2;
    p->lon_min_deg = env.MinX;
    p->lon_max_deg = env.MaxX;
    p->lat_min_deg = env.MinY;
    p->lat_max_deg = env.MaxY;
    p->wkb = wkb;
    p->wkb_size = wkb_size;
    p->repaired = verdict == GEOM_REPAIRED;
    if (p->repaired)
        r->set.n_repaired++;
    return PARUS_OK;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && parus__strcasecmp(s + n - m, suffix) == 0;
}

static double m2_per_unit(parus_area_unit unit, const char *field)
{
    if (unit == PARUS_AREA_UNIT_AUTO) {
        if (ends_with_ci(field, "_m2"))
            unit = PARUS_AREA_UNIT_M2;
        else if (ends_with_ci(field, "_ha"))
            unit = PARUS_AREA_UNIT_HA;
        else
            unit = PARUS_AREA_UNIT_MU;
    }
    switch (unit) {
    case PARUS_AREA_UNIT_M2:
        return 1.0;
    case PARUS_AREA_UNIT_HA:
        return PARUS_M2_PER_HA;
    case PARUS_AREA_UNIT_MU:
    case PARUS_AREA_UNIT_AUTO:
        break;
    }
    return PARUS_M2_PER_MU;
}

/* "no field 'x' in 'path' (fields: a, b, c)" */
static parus_status fail_no_field(parus_error *err, const char *field, const char *path,
                                  OGRFeatureDefnH defn)
{
    char list[512];
    size_t used = 0;
    int i, n = OGR_FD_GetFieldCount(defn);
    list[0] = '\0';
    for (i = 0; i < n && used < sizeof list; i++) {
        int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return parus_fail(err, PARUS_E_INVALID, "no field '%s' in '%s' (fields: %s)", field, path,
                      n ? list : "none");
}

/* Everything after the dataset is open and the handler pushed. */
static parus_status read_layer(reader *r, GDALDatasetH ds, const parus_parcel_fields *fields,
                               parus_error *err)
{
    const char *id_field = fields && fields->id_field ? fields->id_field : "parcel_id";
    const char *farmer_field = fields && fields->farmer_field ? fields->farmer_field : "farmer_id";
    const char *area_field =
        fields && fields->declared_area_field ? fields->declared_area_field : "declared_area_mu";
    const char *layer_name = fields ? fields->layer : NULL;
    const char *assume_crs = fields ? fields->assume_crs : NULL;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    OGRSpatialReferenceH layer_srs;
    OGRSpatialReferenceH src = NULL;
    OGRSpatialReferenceH dst = NULL;
    OGRFeatureH f;
    const char *crs_name;
    size_t index = 0;
    parus_status st = PARUS_OK;

    if (layer_name) {
        layer = GDALDatasetGetLayerByName(ds, layer_name);
        if (!layer)
            return parus_fail(err, PARUS_E_FORMAT, "no layer '%s' in '%s'", layer_name, r->path);
    } else {
        if (GDALDatasetGetLayerCount(ds) < 1)
            return parus_fail(err, PARUS_E_FORMAT, "no layer in '%s'", r->path);
        layer = GDALDatasetGetLayer(ds, 0);
    }
    r->set.n_layers = (size_t)GDALDatasetGetLayerCount(ds);
    if (!layer_name)
        layer_name = OGR_L_GetName(layer);
    if (OGR_L_GetGeomType(layer) == wkbNone)
        return parus_fail(err, PARUS_E_FORMAT, "layer '%s' of '%s' has no geometry", layer_name,
                          r->path);

    defn = OGR_L_GetLayerDefn(layer);
    r->id_idx = OGR_FD_GetFieldIndex(defn, id_field);
    if (r->id_idx < 0)
        return fail_no_field(err, id_field, r->path, defn);
    r->farmer_idx = OGR_FD_GetFieldIndex(defn, farmer_field);
    r->area_idx = OGR_FD_GetFieldIndex(defn, area_field);
    if (r->area_idx < 0 && fields && fields->declared_area_field)
        /* named and absent: every declared area would be none, and with them the area check
         * and its haircut, without a word */
        return fail_no_field(err, area_field, r->path, defn);
    if (r->area_idx < 0) {
        /* the default name absent, but a field that looks like it (a Shapefile cuts names at 10
         * characters: declared_area_mu is declared_a there) */
        int i, n = OGR_FD_GetFieldCount(defn);
        for (i = 0; i < n; i++) {
            const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
            if (name && parus__strncasecmp(name, "declared", 8) == 0)
                return parus_fail(err, PARUS_E_INVALID,
                                  "no field '%s' in '%s', but a field '%s': if it holds the "
                                  "declared areas, name it with --declared-area-field (and its "
                                  "unit with --declared-area-unit); without declared areas the "
                                  "area check and its haircut do not apply",
                                  area_field, r->path, name);
        }
    }
    r->id_type = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, r->id_idx));
    r->farmer_type =
        r->farmer_idx >= 0 ? OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, r->farmer_idx)) : OFTString;
    r->area_type =
        r->area_idx >= 0 ? OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, r->area_idx)) : OFTReal;
    r->area_field = area_field;
    r->declared_m2_per_unit =
        m2_per_unit(fields ? fields->declared_area_unit : PARUS_AREA_UNIT_AUTO, area_field);

    layer_srs = OGR_L_GetSpatialRef(layer);
    if (layer_srs) {
        src = OSRClone(layer_srs);
    } else if (assume_crs) {
        src = OSRNewSpatialReference(NULL);
        if (src && OSRSetFromUserInput(src, assume_crs) != OGRERR_NONE) {
            st = parus_fail(err, PARUS_E_INVALID, "cannot interpret CRS '%s' assumed for '%s'",
                            assume_crs, r->path);
            goto out_free_src;
        }
    } else {
        return parus_fail(err, PARUS_E_NO_CRS,
                          "'%s' has no CRS (set one in the file, or assume one)", r->path);
    }
    dst = OSRNewSpatialReference(NULL);
    if (!src || !dst) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", r->path);
        goto out_free_dst;
    }
    if (OSRImportFromEPSG(dst, 4326) != OGRERR_NONE) {
        st = parus_fail(err, PARUS_E_PROJ, "EPSG:4326 is unknown to PROJ (%s)",
                        note_or(&r->note, "is proj.db installed?"));
        goto out_free_dst;
    }
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    r->geographic = OSRIsGeographic(src) != 0;
    crs_name = OSRGetName(src);
    r->set.source_crs = parus__strdup(crs_name && *crs_name ? crs_name : "unnamed");
    if (!r->set.source_crs) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading '%s'", r->path);
        goto out_free_dst;
    }
    r->note.msg[0] = '\0';
    r->ct = OCTNewCoordinateTransformation(src, dst);
    if (!r->ct) {
        st = parus_fail(err, PARUS_E_PROJ, "no transformation from '%s' to WGS84 for '%s' (%s)",
                        r->set.source_crs, r->path, note_or(&r->note, "PROJ gave no reason"));
        goto out_free_dst;
    }

    if (EQUAL(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "GeoJSON")) {
        size_t i;
        st = scan_geojson(r, err);
        for (i = 0; st == PARUS_OK && i < r->n_bad; i++)
            if (r->bad[i].feature_index == SIZE_MAX)
                st = parus_fail(err, PARUS_E_FORMAT,
                                "'%s' line %zu: %s '%s' %s: OGR cannot have read it "
                                "faithfully",
                                r->path, r->bad[i].line, r->bad[i].what, r->bad[i].text,
                                r->bad[i].why);
        if (st != PARUS_OK)
            goto out_ct;
    }

    OGR_L_ResetReading(layer);
    for (;;) {
        /* NULL is both the end of the layer and a read failure; only the error state tells them
         * apart, and a truncated file must not pass for a shorter one */
        CPLErrorReset();
        r->note.msg[0] = '\0';
        f = OGR_L_GetNextFeature(layer);
        if (!f) {
            if (CPLGetLastErrorType() >= CE_Failure)
                st = parus_fail(err, PARUS_E_FORMAT, "cannot read '%s' after feature %zu (%s)",
                                r->path, index, note_or(&r->note, "read error"));
            break;
        }
        st = read_feature(r, f, index++);
        OGR_F_Destroy(f);
        if (st != PARUS_OK) {
            st = parus_fail(err, st, "out of memory reading '%s' at feature %zu", r->path,
                            index - 1);
            break;
        }
    }

out_ct:
    OCTDestroyCoordinateTransformation(r->ct);
    r->ct = NULL;
out_free_dst:
    OSRDestroySpatialReference(dst);
out_free_src:
    OSRDestroySpatialReference(src);
    return st;
}

parus_status parus_parcels_read(const char *path, const parus_parcel_fields *fields,
                                parus_parcel_set *out, parus_error *err)
{
    reader r;
    struct stat sb;
    GDALDatasetH ds;
    parus_status st;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "parus_parcels_read needs a path and an output");
    parus__gdal_init();
    /* GDAL would call a missing or unreadable file "not recognized"; say what it is (GDAL's
     * virtual file systems, /vsizip/ and the like, speak for themselves) */
    if (strncmp(path, "/vsi", 4) != 0 && (stat(path, &sb) != 0 || access(path, R_OK) != 0))
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path, strerror(errno));

    memset(&r, 0, sizeof r);
    r.path = path;
    r.ratio_min = fields && fields->area_ratio_min != 0.0 ? fields->area_ratio_min
                                                          : PARUS_PARCEL_AREA_RATIO_MIN;
    r.ratio_max = fields && fields->area_ratio_max != 0.0 ? fields->area_ratio_max
                                                          : PARUS_PARCEL_AREA_RATIO_MAX;
    r.max_area_m2 =
        fields && fields->max_area_m2 != 0.0 ? fields->max_area_m2 : PARUS_PARCEL_MAX_AREA_M2;
    if (!(r.ratio_min > 0.0) || !(r.ratio_max >= r.ratio_min) || !(r.max_area_m2 > 0.0))
        return parus_fail(err, PARUS_E_INVALID,
                          "bad plausible-area bounds for '%s': ratio %g..%g, at most %g m2", path,
                          r.ratio_min, r.ratio_max, r.max_area_m2);
    geod_init(&r.geod, WGS84_A_M, WGS84_F);
    CPLPushErrorHandlerEx(note_handler, &r.note);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        st = parus_fail(err, PARUS_E_FORMAT, "cannot read '%s' as a vector file (%s)", path,
                        note_or(&r.note, "no OGR driver recognises it"));
        goto out_pop;
    }
    st = read_layer(&r, ds, fields, err);
    GDALClose(ds);
out_pop:
    CPLPopErrorHandler();
    free(r.ids.slots);
    free(r.bad);
    free(r.ring.lat_deg);
    free(r.ring.lon_deg);
    if (st != PARUS_OK) {
        parus_parcel_set_release(&r.set);
        return st;
    }
    *out = r.set;
    return PARUS_OK;
}

/*
 * store_obs.c - an optical observation's values in the store's compact form (schema 19).
 *
 * A season of a whole country is billions of observations, so their size on disk decides what a
 * bank can keep. Up to schema 18 each of an observation's 54 statistics was a REAL column: 9 bytes
 * a value, about 410-510 bytes an observation with its keys and indices. Schema 19 keeps them at
 * the precision the sensors have: Sentinel-2 and Landsat Level-2 reflectances are quantised in
 * steps of 1e-4, and an index or a fraction needs no finer step than its bands. Each value is its
 * nearest multiple of 1e-4, and an observation's row in observation_values is
 *
 *   w_total_mpx, w_valid_mpx   the coverage weights in thousandths of a pixel (INTEGER)
 *   n_pixels, n_pure           as before (INTEGER)
 *   valid_fraction_e4,         the two values analysts read most, x 10^4 (INTEGER, NULL none),
 *   ndvi_mean_e4               so that the observations view shows them to plain SQL
 *   vals                       the other 52 values packed (BLOB, below)
 *
 * vals, format 1: one byte 1; a 7-byte bitmap, bit k (byte 1 + k/8, bit k%8) set when the k-th
 * packed value is present (NaN: absent, as NULL was before); then each present value in order:
 * a little-endian int16 q != -32768 meaning q x 1e-4, or -32768 followed by the value as an
 * 8-byte little-endian IEEE double, exact, for a value that does not fit (|x| >= 3.27675, an
 * infinity). So nothing a stage reads is lost beyond the 1e-4 step, and a value out of the
 * compact range is kept as it was. The order of the packed values is PARUS__OBS_COLUMNS' without
 * valid_fraction and ndvi_mean; a new statistic needs a new format byte.
 *
 * Measured (docs/benchmarks.md): about 115-150 bytes an observation on disk with its index,
 * against 410-510 before.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "store_int.h"

#define OBS_FIELD(name, offset) {#name, offset},
static const struct obs_field {
    const char *name;
    size_t offset;
} packed[] = {PARUS__OBS_PACKED(OBS_FIELD)};
#undef OBS_FIELD
#define N_PACKED (sizeof packed / sizeof packed[0])
#define BITMAP_BYTES ((N_PACKED + 7) / 8)

_Static_assert(N_PACKED == PARUS__OBS_PACKED_N, "the packed values and their count agree");
_Static_assert(1 + BITMAP_BYTES + N_PACKED * 10 <= PARUS__OBS_PACK_MAX, "pack buffer too small");

#define ESCAPE (-32768)
#define SCALE 1e4
#define W_SCALE 1e3
/* what an INTEGER column of the compact form holds: |x| <= this, finite */
#define INT_COLUMN_MAX 1e9
#define W_MAX 1e12

const char *parus__obs_packed_name(size_t k)
{
    return k < N_PACKED ? packed[k].name : NULL;
}

static double get(const parus_observation *o, size_t offset)
{
    double v;
    memcpy(&v, (const char *)o + offset, sizeof v);
    return v;
}

static void put(parus_observation *o, size_t offset, double v)
{
    memcpy((char *)o + offset, &v, sizeof v);
}

size_t parus__obs_pack(const parus_observation *o, unsigned char *buf, size_t *n_exact)
{
    size_t len = 1 + BITMAP_BYTES;

    buf[0] = PARUS__OBS_PACK_FORMAT;
    memset(buf + 1, 0, BITMAP_BYTES);
    for (size_t k = 0; k < N_PACKED; k++) {
        double v = get(o, packed[k].offset);
        double q;
        if (isnan(v))
            continue;
        buf[1 + k / 8] |= (unsigned char)(1u << (k % 8));
        q = isfinite(v) ? round(v * SCALE) : (double)INFINITY;
        if (q >= -32767.0 && q <= 32767.0) {
            uint16_t u = (uint16_t)(int16_t)q;
            buf[len++] = (unsigned char)(u & 0xff);
            buf[len++] = (unsigned char)(u >> 8);
        } else {
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            buf[len++] = 0x00;
            buf[len++] = 0x80;
            for (int b = 0; b < 8; b++)
                buf[len++] = (unsigned char)(bits >> (8 * b));
            if (n_exact)
                (*n_exact)++;
        }
    }
    return len;
}

bool parus__obs_unpack(const void *blob, size_t len, parus_observation *o)
{
    const unsigned char *p = blob;
    size_t at = 1 + BITMAP_BYTES;

    for (size_t k = 0; k < N_PACKED; k++)
        put(o, packed[k].offset, (double)NAN);
    if (!p)
        return len == 0;
    if (len < at || p[0] != PARUS__OBS_PACK_FORMAT)
        return false;
    /* bits past the last value must be clear */
    if (N_PACKED % 8 && (p[BITMAP_BYTES] >> (N_PACKED % 8)) != 0)
        return false;
    for (size_t k = 0; k < N_PACKED; k++) {
        int16_t q;
        if (!(p[1 + k / 8] & (1u << (k % 8))))
            continue;
        if (at + 2 > len)
            return false;
        q = (int16_t)(uint16_t)(p[at] | (unsigned)p[at + 1] << 8);
        at += 2;
        if (q != ESCAPE) {
            put(o, packed[k].offset, q / SCALE);
        } else {
            uint64_t bits = 0;
            double v;
            if (at + 8 > len)
                return false;
            for (int b = 0; b < 8; b++)
                bits |= (uint64_t)p[at + b] << (8 * b);
            at += 8;
            memcpy(&v, &bits, sizeof v);
            if (isnan(v))
                return false;
            put(o, packed[k].offset, v);
        }
    }
    return at == len;
}

/* x 10^4 to an INTEGER column; false when it cannot hold it */
static bool int_column(double v, int64_t *q)
{
    if (!isfinite(v) || fabs(v) > INT_COLUMN_MAX)
        return false;
    *q = (int64_t)llround(v * SCALE);
    return true;
}

static bool weight_column(double v, int64_t *q)
{
    if (isnan(v))
        v = 0.0;
    if (!isfinite(v) || v < 0.0 || v > W_MAX)
        return false;
    *q = (int64_t)llround(v * W_SCALE);
    return true;
}

bool parus__obs_row(const parus_observation *o, struct parus__obs_row *row, size_t *n_exact,
                    const char **bad)
{
    double vf_v = o->valid_fraction, ndvi_v = o->mean[PARUS_INDEX_NDVI];

    *bad = NULL;
    row->has_vf = !isnan(vf_v);
    row->has_ndvi = !isnan(ndvi_v);
    if (!weight_column(o->w_total_px, &row->w_total_mpx))
        *bad = "w_total_px";
    else if (!weight_column(o->w_valid_px, &row->w_valid_mpx))
        *bad = "w_valid_px";
    else if (row->has_vf && !int_column(vf_v, &row->vf_e4))
        *bad = "valid_fraction";
    else if (row->has_ndvi && !int_column(ndvi_v, &row->ndvi_e4))
        *bad = "ndvi_mean";
    if (*bad)
        return false;
    row->n_pixels = (int64_t)o->n_pixels;
    row->n_pure = (int64_t)o->n_pure;
    row->len = parus__obs_pack(o, row->vals, n_exact);
    return true;
}

int parus__obs_bind(parus__stmt *st, int first, const parus_observation *o,
                    struct parus__obs_row *row, size_t *n_exact, const char **bad)
{
    int rc;
    if (!parus__obs_row(o, row, n_exact, bad))
        return SQLITE_RANGE;
    rc = parus__bind_int64(st, first, row->w_total_mpx);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, first + 1, row->w_valid_mpx);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, first + 2, row->n_pixels);
    if (rc == SQLITE_OK)
        rc = parus__bind_int64(st, first + 3, row->n_pure);
    if (rc == SQLITE_OK)
        rc = row->has_vf ? parus__bind_int64(st, first + 4, row->vf_e4)
                         : parus__bind_null(st, first + 4);
    if (rc == SQLITE_OK)
        rc = row->has_ndvi ? parus__bind_int64(st, first + 5, row->ndvi_e4)
                           : parus__bind_null(st, first + 5);
    if (rc == SQLITE_OK)
        rc = parus__bind_blob(st, first + 6, row->vals, row->len);
    return rc;
}

static double e4_column(parus__stmt *st, int i)
{
    return parus__column_type(st, i) == SQLITE_NULL ? (double)NAN
                                                    : (double)parus__column_int64(st, i) / SCALE;
}

bool parus__obs_read(parus__stmt *st, int first, parus_observation *o)
{
    int64_t n_pixels = parus__column_int64(st, first + 2);
    int64_t n_pure = parus__column_int64(st, first + 3);
    const void *blob;
    int len;

    o->w_total_px = (double)parus__column_int64(st, first) / W_SCALE;
    o->w_valid_px = (double)parus__column_int64(st, first + 1) / W_SCALE;
    o->n_pixels = n_pixels > 0 ? (size_t)n_pixels : 0;
    o->n_pure = n_pure > 0 ? (size_t)n_pure : 0;
    o->valid_fraction = e4_column(st, first + 4);
    o->mean[PARUS_INDEX_NDVI] = e4_column(st, first + 5);
    if (parus__column_type(st, first + 6) != SQLITE_BLOB)
        return false;
    blob = parus__column_blob(st, first + 6);
    len = parus__column_bytes(st, first + 6);
    return parus__obs_unpack(blob, (size_t)len, o);
}

/* parus_obs_value(vals, name): the packed value name of a vals BLOB, NULL when absent; an error
 * for a damaged BLOB or a name that is not packed. */
static void sql_obs_value(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *name = (const char *)sqlite3_value_text(argv[1]);
    parus_observation o;
    size_t k;
    (void)argc;
    for (k = 0; name && k < N_PACKED && strcmp(packed[k].name, name) != 0; k++)
        ;
    if (!name || k == N_PACKED) {
        sqlite3_result_error(ctx, "parus_obs_value: not a packed value", -1);
        return;
    }
    if (!parus__obs_unpack(sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]), &o)) {
        sqlite3_result_error(ctx, "parus_obs_value: a damaged observation", -1);
        return;
    }
    if (isnan(get(&o, packed[k].offset)))
        sqlite3_result_null(ctx);
    else
        sqlite3_result_double(ctx, get(&o, packed[k].offset));
}

int parus__obs_register_sql(sqlite3 *db)
{
    return sqlite3_create_function(db, "parus_obs_value", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   sql_obs_value, NULL, NULL);
}

/* ---- every statistic by number, for the readers outside the store (the observations export) */

#define OBS_ALL(name, offset) {#name, offset},
static const struct obs_field all_stats[] = {PARUS__OBS_COLUMNS(OBS_ALL)};
#undef OBS_ALL

size_t parus_observation_n_stats(void)
{
    return sizeof all_stats / sizeof all_stats[0];
}

const char *parus_observation_stat_name(size_t k)
{
    return k < parus_observation_n_stats() ? all_stats[k].name : NULL;
}

double parus_observation_stat(const parus_observation *o, size_t k)
{
    return o && k < parus_observation_n_stats() ? get(o, all_stats[k].offset) : (double)NAN;
}

void parus__obs_set_stat(parus_observation *o, size_t k, double v)
{
    if (k < parus_observation_n_stats())
        put(o, all_stats[k].offset, v);
}

/*
 * bench_store.h - what the store benchmarks (bench_query.c, bench_season_walk.c) share to fill a
 * store with made-up parcels and tiles: a rectangle as WKB and a date of 2024.
 */
#ifndef PARUS_BENCH_STORE_H
#define PARUS_BENCH_STORE_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parus/zonal.h"

/* A lon/lat rectangle as a little-endian WKB polygon (93 bytes). */
static inline void bench_rect_wkb(double x0, double y0, double x1, double y1, unsigned char *b)
{
    const double xy[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    unsigned v[3] = {3, 1, 5};
    unsigned char *w = b;
    int i, k;
    *w++ = 1;
    for (k = 0; k < 3; k++)
        for (i = 0; i < 4; i++)
            *w++ = (unsigned char)(v[k] >> (8 * i));
    for (k = 0; k < 10; k++) {
        unsigned long long u;
        memcpy(&u, &xy[k], sizeof u);
        for (i = 0; i < 8; i++)
            *w++ = (unsigned char)(u >> (8 * i));
    }
}

/* An observation with counts 0 and no own (unmixed) and no radar values (NaN), for a filler to
 * set the rest: no field it leaves alone is whatever the stack held. */
static inline void bench_observation_clear(parus_observation *o)
{
    size_t i;
    memset(o, 0, sizeof *o);
    for (i = 0; i < PARUS_ROLE_N_SPECTRAL_; i++)
        o->own_band_mean[i] = NAN;
    for (i = 0; i < PARUS_INDEX_N_; i++)
        o->own_mean[i] = NAN;
    o->own_unmixed_share = o->own_veg_fraction = NAN;
    o->vv = o->vh = o->vh_vv = o->rvi = o->radar_water_fraction = NAN;
    o->n_eff_vv = o->n_eff_vh = o->looks_vv = o->looks_vh = o->se_vv = o->se_vh = NAN;
}

/* "YYYY-MM-DD" of 2024-01-01 + doy0 days (doy0 < 366). */
static inline void bench_date_2024(int doy0, char out[11])
{
    static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = 0, day = doy0;
    while (month < 11 && day >= month_days[month]) {
        day -= month_days[month];
        month++;
    }
    snprintf(out, 11, "2024-%02u-%02u", (unsigned)(month + 1) % 100u, (unsigned)(day + 1) % 100u);
}

#endif

/*
 * radar_peers.c - the radar peer reference of `parus assess` (radar_peers_int.h).
 */
#include "radar_peers_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util_int.h"

#define DB_LO (-60.0) /* histogram range of VV and VH, dB; values outside count at its ends */
#define DB_BINS 800   /* 0.1 dB */
#define W_BINS 101    /* water fraction 0, 0.01, ..., 1 */

typedef struct bin {
    int crop;
    int64_t day;
    uint32_t n_vv, n_vh, n_w;
    uint32_t *h; /* DB_BINS VV, DB_BINS VH, W_BINS water */
} bin;

struct parus__radar_peers {
    bin *b; /* sorted by (crop, day) */
    size_t n, cap;
};

parus__radar_peers *parus__radar_peers_new(void)
{
    return calloc(1, sizeof(parus__radar_peers));
}

void parus__radar_peers_free(parus__radar_peers *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->b[i].h);
    free(p->b);
    free(p);
}

static int cmp_key(int crop, int64_t day, const bin *b)
{
    if (crop != b->crop)
        return crop < b->crop ? -1 : 1;
    return day < b->day ? -1 : day > b->day;
}

/* The position of (crop, day), or where it would go (*found false). */
static size_t find(const parus__radar_peers *p, int crop, int64_t day, int *found)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(crop, day, &p->b[mid]);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = 0;
    return lo;
}

static bin *get_bin(parus__radar_peers *p, int crop, int64_t day)
{
    int found;
    size_t at = find(p, crop, day, &found);
    if (found)
        return &p->b[at];
    if (!parus__grow((void **)&p->b, &p->cap, p->n + 1, sizeof *p->b, 64))
        return NULL;
    uint32_t *h = calloc(2 * DB_BINS + W_BINS, sizeof *h);
    if (!h)
        return NULL;
    memmove(&p->b[at + 1], &p->b[at], (p->n - at) * sizeof *p->b);
    p->b[at] = (bin){.crop = crop, .day = day, .h = h};
    p->n++;
    return &p->b[at];
}

static size_t db_bin(double lin)
{
    double k = floor((10.0 * log10(lin) - DB_LO) / 0.1);
    return k < 0.0 ? 0 : k >= DB_BINS ? DB_BINS - 1 : (size_t)k;
}

parus_status parus__radar_peers_add(parus__radar_peers *p, int crop, const int64_t *day,
                                    const double *vv, const double *vh, const double *water,
                                    size_t n, double window_days, parus_error *err)
{
    for (size_t i = 0; i < n; i++) {
        bin *b = get_bin(p, crop, day[i]);
        if (!b)
            return parus_fail(err, PARUS_E_NOMEM, "assess: out of memory (radar peers)");
        if (vv[i] > 0.0) {
            b->h[db_bin(vv[i])]++;
            b->n_vv++;
        }
        if (vh[i] > 0.0) {
            b->h[DB_BINS + db_bin(vh[i])]++;
            b->n_vh++;
        }
        double hi = NAN;
        for (size_t j = 0; j < n; j++)
            if (fabs((double)(day[j] - day[i])) <= window_days && isfinite(water[j]) &&
                !(water[j] <= hi))
                hi = water[j];
        if (isfinite(hi)) {
            double k = floor(hi / 0.01 + 0.5);
            b->h[2 * DB_BINS + (k < 0.0 ? 0 : k > 100.0 ? 100 : (size_t)k)]++;
            b->n_w++;
        }
    }
    return PARUS_OK;
}

/* The bin holding the value of 0-based rank r in h[0..nb). */
static size_t rank_bin(const uint32_t *h, size_t nb, size_t r)
{
    size_t acc = 0;
    for (size_t k = 0; k < nb; k++) {
        acc += h[k];
        if (acc > r)
            return k;
    }
    return nb - 1;
}

void parus__radar_peers_get(const parus__radar_peers *p, int crop, int64_t day, size_t min_n,
                            double *vv, double *vh, double *wet)
{
    int found;
    size_t at = find(p, crop, day, &found);
    const bin *b = found ? &p->b[at] : NULL;
    size_t m = min_n > 0 ? min_n : 1;
    *vv = *vh = *wet = NAN;
    if (!b)
        return;
    if (b->n_vv >= m)
        *vv = pow(10.0, (DB_LO + 0.1 * ((double)rank_bin(b->h, DB_BINS, (b->n_vv - 1) / 2) + 0.5)) /
                            10.0);
    if (b->n_vh >= m)
        *vh =
            pow(10.0, (DB_LO +
                       0.1 * ((double)rank_bin(b->h + DB_BINS, DB_BINS, (b->n_vh - 1) / 2) + 0.5)) /
                          10.0);
    if (b->n_w >= m)
        *wet = 0.01 * (double)rank_bin(b->h + 2 * DB_BINS, W_BINS,
                                       (size_t)ceil(0.75 * (double)(b->n_w - 1)));
}

/*
 * parus/zonal.h - per-parcel statistics of one tile, weighted by exact coverage and validity.
 *
 * Each pixel a parcel touches enters with its weight w = covered fraction (0, 1]. Valid pixels feed
 * the means; every pixel feeds the total weight, so valid weight / total weight is the share of
 * the parcel seen clear in this tile. Means and spreads use West's weighted incremental update
 * (West 1979, Commun. ACM 22:532); partial accumulators are combined with the pairwise formula of
 * Chan, Golub and LeVeque (1979). Floating-point addition is not associative, so the kernel
 * merges partials in a fixed order (block order): the results are then bitwise identical for 1,
 * 2 or 16 threads.
 *
 * An index value that is NaN for a valid pixel (a zero denominator) is skipped for that index
 * only: each index keeps its own weight. A parcel with no valid pixel has w_valid_px = 0 and NaN
 * means: never a made-up value.
 */
#ifndef PARUS_ZONAL_H
#define PARUS_ZONAL_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/export.h"
#include "parus/indices.h"
#include "parus/raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NDVI histogram: fixed bins over [-1, 1] (values outside go to the end bins). */
#define PARUS_ZONAL_HIST_BINS 100
#define PARUS_NDVI_VEGETATED 0.3 /* NDVI >= this: vegetated */
#define PARUS_NDWI_WATER 0.0     /* NDWI >= this: water */

typedef struct parus_moments {
    double w;    /* weight of the values seen */
    double mean; /* weighted mean */
    double m2;   /* weighted sum of squared deviations */
    double min, max;
} parus_moments;

typedef struct parus_zonal {
    double w_total;      /* sum of covered fractions, all pixels (in pixels) */
    double w_valid;      /* the same, valid pixels only */
    double w_valid_edge; /* valid weight from pixels the parcel covers only partly */
    double w_veg;        /* valid weight with NDVI >= PARUS_NDVI_VEGETATED */
    double w_water;      /* valid weight with NDWI >= PARUS_NDWI_WATER */
    size_t n_pixels;     /* pixels touched */
    size_t n_pure;       /* valid pixels covered entirely */
    parus_moments index[PARUS_INDEX_N_];
    double band_wsum[PARUS_ROLE_N_SPECTRAL_]; /* weighted sums of reflectance */
    double band_w[PARUS_ROLE_N_SPECTRAL_];
    double ndvi_hist[PARUS_ZONAL_HIST_BINS]; /* weights */
} parus_zonal;

/* The statistics of one parcel in one tile, as stored. NaN where there is no valid value. */
typedef struct parus_observation {
    double w_total_px, w_valid_px;
    double valid_fraction; /* w_valid / w_total */
    double mean[PARUS_INDEX_N_], std[PARUS_INDEX_N_], min[PARUS_INDEX_N_], max[PARUS_INDEX_N_];
    double band_mean[PARUS_ROLE_N_SPECTRAL_];
    double ndvi_p10, ndvi_p50, ndvi_p90;
    double veg_fraction, water_fraction; /* of the valid weight */
    double edge_share;                   /* of the valid weight from partly covered pixels */
    size_t n_pixels, n_pure;
} parus_observation;

PARUS_API void parus_zonal_init(parus_zonal *z);

/* Add one pixel. w: covered fraction in (0, 1]; pure: the pixel is covered entirely. index:
 * PARUS_INDEX_N_ values (NaN = none); band: PARUS_ROLE_N_SPECTRAL_ reflectances (NaN = band not
 * read). Invalid pixels count only in w_total and n_pixels. */
PARUS_API void parus_zonal_add(parus_zonal *z, double w, bool valid, bool pure, const float *index,
                               const float *band);

/* dst += src. Deterministic for a given order of calls. */
PARUS_API void parus_zonal_merge(parus_zonal *dst, const parus_zonal *src);

/* Means, population standard deviations, fractions and NDVI percentiles (linear within the
 * histogram bin, so accurate to a fraction of the 0.02 bin width). */
PARUS_API void parus_zonal_finish(const parus_zonal *z, parus_observation *out);

#ifdef __cplusplus
}
#endif
#endif

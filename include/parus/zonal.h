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
 *
 * Own (unmixed) values. A pixel the parcel covers by a fraction w < 1 holds w of the parcel and
 * 1 - w of what lies beside it: y = w x + (1 - w) b. With b estimated from the clear pixels just
 * outside the parcel (the kernel passes their mean), the pixel's own value is x = (y - (1 - w) b)
 * / w. Its error is (1 - w) / w times the error of b, so the own values are combined by inverse
 * variance: weight w^2 / ((1 - w)^2 + PARUS_ZONAL_OWN_EPS), where PARUS_ZONAL_OWN_EPS is the ratio
 * of a fully covered pixel's error variance to the background's (sensor noise and texture against
 * the difference between neighbouring fields): a pure pixel weighs 1 / eps, a half-covered one
 * about 1, a pixel a fifth covered 0.06. A pixel with no clear outside neighbour enters with
 * x = y. This is a per-pixel linear unmixing with a local background (in the spirit of the
 * neighbourhood unmixing of Zhukov et al. 1999, IEEE TGRS 37:1212, with the coverage known
 * exactly), reduced to what one streaming pass allows. The own band means are the parcel's own
 * reflectances; the own indices are the indices of those means (as the generator's
 * ndvi_of_mean), not means of per-pixel indices. The own vegetated fraction counts each pixel
 * as veg_fraction does, but on the pixel's own value: a parcel's bare edge beside a green
 * neighbour is no longer counted as sown.
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
#define PARUS_NDVI_VEGETATED 0.3      /* NDVI >= this: vegetated */
#define PARUS_NDWI_WATER 0.0          /* NDWI >= this: water */
#define PARUS_ZONAL_OWN_EPS 0.1       /* own values: noise-to-background variance ratio (above) */
#define PARUS_ZONAL_OWN_PURE 0.999999 /* own values: a pixel covered this far is not unmixed */
/* Radar water: a pixel whose VV backscatter is below this is open water (docs/method.md §3b). */
#define PARUS_RADAR_WATER_VV_DB (-18.0)

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
    /* own values (above): inverse-variance weighted sums of the pixels' own reflectances */
    double own_wsum[PARUS_ROLE_N_SPECTRAL_];
    double own_w[PARUS_ROLE_N_SPECTRAL_];
    double w_own_unmixed; /* valid weight of partly covered pixels with a background */
    double w_own_px;      /* valid weight whose own red and NIR are known */
    double w_own_veg;     /* ... whose own NDVI >= PARUS_NDVI_VEGETATED */
    /* radar (Sentinel-1 tiles): per polarisation (0 VV, 1 VH) the coverage-weighted sum of the
     * linear power, the weight and the sum of squared weights (the effective pixel count); the
     * valid weight whose VV is below PARUS_RADAR_WATER_VV_DB */
    double radar_wsum[2], radar_w[2], radar_w2[2];
    double radar_w_water;
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
    /* the parcel's own values, unmixed from its neighbours (above); NaN where none */
    double own_band_mean[PARUS_ROLE_N_SPECTRAL_];
    double own_mean[PARUS_INDEX_N_]; /* the indices of own_band_mean */
    double own_unmixed_share;        /* of the valid weight: partly covered, background known */
    double own_veg_fraction;         /* as veg_fraction, each pixel judged on its own value */
    /* radar (Sentinel-1 tiles; NaN otherwise): coverage-weighted means of linear power, averaged
     * before any conversion to dB (docs/method.md §3b) */
    double vv, vh;               /* mean backscatter, linear power */
    double vh_vv;                /* the ratio of the means, vh / vv */
    double rvi;                  /* radar vegetation index of the means, 4 vh / (vv + vh) */
    double radar_water_fraction; /* valid weight with VV below PARUS_RADAR_WATER_VV_DB */
    double n_eff_vv, n_eff_vh;   /* effective pixel counts (sum w)^2 / sum w^2 */
    /* filled by the kernel from the tile's looks (parus_radar_info): the independent looks
     * behind each mean, and its standard error from speckle, mean / sqrt(looks) */
    double looks_vv, looks_vh, se_vv, se_vh;
} parus_observation;

PARUS_API void parus_zonal_init(parus_zonal *z);

/* Add one pixel. w: covered fraction in (0, 1]; pure: the pixel is covered entirely. index:
 * PARUS_INDEX_N_ values (NaN = none); band: PARUS_ROLE_N_SPECTRAL_ reflectances (NaN = band not
 * read). Invalid pixels count only in w_total and n_pixels. */
PARUS_API void parus_zonal_add(parus_zonal *z, double w, bool valid, bool pure, const float *index,
                               const float *band);

/* Add one valid pixel's own value. w, band as in parus_zonal_add; bg: the reflectance of what
 * else the pixel holds (PARUS_ROLE_N_SPECTRAL_ values, NaN = unknown), or NULL when nothing is
 * known (the pixel then counts as its own value). Invalid pixels are not added. */
PARUS_API void parus_zonal_add_own(parus_zonal *z, double w, const float *band, const float *bg);

/* Add one radar pixel: w its covered fraction, vv and vh its linear power (NaN: no value; a
 * pixel is valid when VV has a value). Counts in w_total and n_pixels like any pixel. */
PARUS_API void parus_zonal_add_radar(parus_zonal *z, double w, bool pure, float vv, float vh);

/* The looks and standard errors of a finished radar observation: looks = enl x max(1, n_eff /
 * correlation), se = mean / sqrt(looks) (docs/method.md §3b). NaN where there is no mean. */
PARUS_API void parus_observation_radar_looks(parus_observation *obs, double enl,
                                             double correlation);

/* dst += src. Deterministic for a given order of calls. */
PARUS_API void parus_zonal_merge(parus_zonal *dst, const parus_zonal *src);

/* Means, population standard deviations, fractions and NDVI percentiles (linear within the
 * histogram bin, so accurate to a fraction of the 0.02 bin width). */
PARUS_API void parus_zonal_finish(const parus_zonal *z, parus_observation *out);

#ifdef __cplusplus
}
#endif
#endif

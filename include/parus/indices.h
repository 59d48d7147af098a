/*
 * parus/indices.h - spectral indices as pure kernels over spans of reflectance.
 *
 * Inputs are surface (or top-of-atmosphere) reflectance as float, NaN where a pixel has no value;
 * outputs are float. The kernels touch no file and no global state: the driver reads blocks, the
 * kernels compute, so they are testable without GDAL and safe in any thread.
 *
 * The one rule for missing values and zero denominators, for every index:
 *   - if any input is NaN or infinite, the output is NaN;
 *   - if the denominator is not strictly positive (<= 0), the output is NaN. For reflectances the
 *     denominators below are sums of non-negative quantities, so zero or negative means no signal
 *     (or a negative reflectance from an offset correction), not an index value;
 *   - otherwise the output is the formula, computed in double and rounded to float once, not
 *     clamped (a slightly negative reflectance can give |ND| a little above 1: it is data).
 *
 *   NDVI  = (NIR - RED) / (NIR + RED)                         Rouse et al. 1974
 *   EVI   = 2.5 (NIR - RED) / (NIR + 6 RED - 7.5 BLUE + 1)    Huete et al. 2002
 *   NDWI  = (GREEN - NIR) / (GREEN + NIR)                     McFeeters 1996
 *   MNDWI = (GREEN - SWIR1) / (GREEN + SWIR1)                 Xu 2006
 *   NDMI  = (NIR - SWIR1) / (NIR + SWIR1)                     Gao 1996 (NDWI of Gao), a.k.a. NDMI
 */
#ifndef PARUS_INDICES_H
#define PARUS_INDICES_H

#include <stddef.h>

#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parus_index {
    PARUS_INDEX_NDVI = 0,
    PARUS_INDEX_EVI,
    PARUS_INDEX_NDWI,
    PARUS_INDEX_MNDWI,
    PARUS_INDEX_NDMI,
    PARUS_INDEX_N_
} parus_index;

/* (a - b) / (a + b) element-wise over n values, with the rule above. */
PARUS_API void parus_index_normalized_difference(const float *restrict a, const float *restrict b,
                                                 float *restrict out, size_t n);
/* EVI from NIR, RED and BLUE, with the rule above. */
PARUS_API void parus_index_evi(const float *restrict nir, const float *restrict red,
                               const float *restrict blue, float *restrict out, size_t n);

/* "ndvi", "evi", ... */
PARUS_API const char *parus_index_name(parus_index index);

#ifdef __cplusplus
}
#endif
#endif

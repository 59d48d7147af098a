/*
 * indices.c - spectral index kernels (rules and sources in include/parus/indices.h).
 *
 * Straight loops over restrict-qualified spans of the one-pixel formulas in indices_int.h, which
 * the kernel also uses per covered pixel.
 */
#include <math.h>

#include "parus/indices.h"
#include "indices_int.h"

void parus_index_normalized_difference(const float *restrict a, const float *restrict b,
                                       float *restrict out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = parus__nd(a[i], b[i]);
}

void parus_index_evi(const float *restrict nir, const float *restrict red,
                     const float *restrict blue, float *restrict out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = parus__evi(nir[i], red[i], blue[i]);
}

const char *parus_index_name(parus_index index)
{
    static const char *const names[PARUS_INDEX_N_] = {"ndvi", "evi", "ndwi", "mndwi", "ndmi"};
    return (unsigned)index < PARUS_INDEX_N_ ? names[index] : "unknown";
}

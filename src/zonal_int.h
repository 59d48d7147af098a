/* zonal_int.h - the kernel's entry to the accumulators. */
#ifndef PARUS_ZONAL_INT_H
#define PARUS_ZONAL_INT_H

#include "parus/zonal.h"

/* parus_zonal_add for the indices and bands a tile actually has: index[k] is the value of index
 * index_id[k], band[k] the reflectance of role band_id[k]. Skipping the absent ones (always NaN
 * on that tile) is what makes the per-pixel cost proportional to what is measured. Gives the
 * same accumulator as parus_zonal_add with NaN in the absent slots. */
void parus__zonal_add_sparse(parus_zonal *z, double w, bool valid, bool pure, const float *index,
                             const int *index_id, size_t n_index, const float *band,
                             const int *band_id, size_t n_band);

/* parus_zonal_add_own for the bands the tile has: band[k] and bg[k] (bg may be NULL) belong to
 * role band_id[k]. */
void parus__zonal_add_own_sparse(parus_zonal *z, double w, const float *band, const float *bg,
                                 const int *band_id, size_t n_band);

#endif

/* tilecheck_int.h - the kernel's figures for the tile checks (kernel.h, tilecheck.c). */
#ifndef PARUS_TILECHECK_INT_H
#define PARUS_TILECHECK_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/kernel.h"

/* Blocks are judged in square windows of this many pixels a side: damage (a garbage stream from
 * a damaged strip) covers rows, not a whole block, and would drown in a large block's figures. */
#define PARUS_TILECHECK_WINDOW 64

/* One window's figures, from its pixels alone. */
typedef struct parus__window {
    size_t n_px, n_mask_clear, n_clear_no_value, n_mask_undefined, n_valid, n_out_of_range,
        n_bright, n_red_over_nir, n_nir_over_red;
    /* NDVI of the valid in-range pixels: sum, sum of squares, and the steps between 4-neighbours
     * that are both valid (right and down), for the noise test: the sum of |NDVI step|, and the
     * sums of squares and products of the red and NIR steps of the same pairs */
    double sum_nd, sum_nd2, sum_step, sum_dred2, sum_dnir2, sum_dred_dnir;
    size_t n_nd, n_steps;
    float red_min, red_max, nir_min, nir_max;
} parus__window;

void parus__window_init(parus__window *q);

/* One pixel: has_mask whether the tile has a mask band, mask what it says (bit 0 clear,
 * PARUS_MASK_UNDEFINED_BIT a value the mask cannot hold: raster_int.h), band[0..n_band) the
 * reflectances read (NaN: no value), red and NIR among them. Returns the pixel's NDVI when it
 * counts for the noise test, NaN otherwise. */
float parus__window_add(parus__window *q, bool has_mask, unsigned mask, const float *band,
                        size_t n_band, float red, float nir);

/* A step between two neighbours: their NDVI (both from parus__window_add, not NaN) and their red
 * and NIR reflectances. */
static inline void parus__window_step(parus__window *q, float nd_a, float nd_b, float red_a,
                                      float red_b, float nir_a, float nir_b)
{
    double d = (double)nd_a - (double)nd_b, dr = (double)red_a - (double)red_b,
           dn = (double)nir_a - (double)nir_b;
    q->sum_step += d < 0 ? -d : d;
    q->sum_dred2 += dr * dr;
    q->sum_dnir2 += dn * dn;
    q->sum_dred_dnir += dr * dn;
    q->n_steps++;
}

/* A block's figures: its windows' counts summed, and the first window (in window order) that is
 * damaged on its own. */
typedef struct parus__block_quality {
    size_t n_px, n_mask_clear, n_clear_no_value, n_mask_undefined, n_valid, n_out_of_range,
        n_bright, n_red_over_nir, n_nir_over_red;
    size_t n_windows_checked, n_windows_damaged;
    parus_tile_check damage; /* OK, RANGE or BLOCK */
    char why[224];
} parus__block_quality;

/* Sum n windows (in window order, n_wx windows a row) into a block's figures and judge each. */
void parus__block_quality_from_windows(parus__block_quality *b, const parus__window *w, size_t n,
                                       size_t n_wx);

void parus__tile_quality_init(parus_tile_quality *t);
/* Add a block's radar scale counts (raster_int.h) to the tile's. */
struct parus__radar_counts;
void parus__tile_quality_add_radar(parus_tile_quality *t, const struct parus__radar_counts *c);
/* Add a block's figures to the tile's (blocks in index order). */
void parus__tile_quality_add_block(parus_tile_quality *t, const parus__block_quality *q,
                                   size_t block_index);

#endif

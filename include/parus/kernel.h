/*
 * parus/kernel.h - one streaming pass over a tile: indices and exact per-parcel statistics.
 *
 * This is where the time goes. For a tile and the parcels it covers, the kernel
 *   1. transforms each parcel (lon/lat WKB) to the tile's CRS with PROJ, then to grid coordinates;
 *   2. computes each parcel's exact pixel coverage (coverage.h);
 *   3. reads every block that some parcel touches, once, in the file's own block layout, with one
 *      reader (GDAL handles) per thread; while the block is in cache converts its covered pixels
 *      from DN, computes their indices and adds each to its parcel's accumulator (zonal.h);
 *      blocks no parcel touches are not read;
 *   4. merges the per-block partial accumulators of each parcel in block order.
 * Besides the coverage-weighted statistics, each parcel gets its own (unmixed) values (zonal.h):
 * every partly covered pixel is unmixed against the mean of its clear 4-neighbours that lie
 * outside the parcel in the same block (so a block is still measured on its own), which are
 * read for that; a pixel with no such neighbour counts as its own value.
 * No intermediate index raster is written, and memory is bounded by the blocks in flight and the
 * coverage and accumulators of the parcels of the current band of block rows, never by the tile.
 *
 * Validity: a pixel counts as valid (a clear observation) when the tile's mask says clear and its
 * red and NIR bands have values; another band without a value (a saturated blue, a missing SWIR)
 * only loses its own indices and band mean. NaN, infinities and saturated DN never reach a mean.
 *
 * Determinism: every per-block partial is computed from that block alone and partials are merged
 * in block order, so the observations are bitwise identical for any number of threads.
 */
#ifndef PARUS_KERNEL_H
#define PARUS_KERNEL_H

#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"
#include "parus/parcels.h"
#include "parus/raster.h"
#include "parus/zonal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_measure_options {
    int n_threads; /* 0: all cores (OpenMP's default) */
} parus_measure_options;

/* The tile checks (docs/method.md §2): what a decoder cannot catch, judged on the pixels the pass
 * reads anyway (the parcels' covered pixels and their outside neighbours), so they cost no second
 * read. Every count is an integer sum over blocks, each block's figures come from that block
 * alone, so the verdict does not depend on the thread count. */
typedef enum parus_tile_check {
    PARUS_TILE_CHECK_OK = 0,
    PARUS_TILE_CHECK_RANGE,   /* "range": too many valid pixels outside the physical range */
    PARUS_TILE_CHECK_SWAPPED, /* "red-nir-swapped": bright pixels with red far above NIR */
    PARUS_TILE_CHECK_MASK,    /* "mask-contradiction": pixels the mask calls clear have no value */
    PARUS_TILE_CHECK_BLOCK,   /* "damaged-block": a block of out-of-range, constant or noise data */
    PARUS_TILE_CHECK_RADAR_SCALE,  /* "radar-scale": backscatter whose declared scale looks wrong */
    PARUS_TILE_CHECK_RADAR_SWAPPED /* "vv-vh-swapped": VH above VV where the land is not dark */
} parus_tile_check;

/* vv-vh-swapped judges pixels brighter than open water in either polarisation: dark water
 * near the noise floor may show VH at VV's level, land never shows it above. */
#define PARUS_TILE_RADAR_LAND_DB (-18.0)

/* The radar scale check's histogram of dB values: 0.5 dB bins over [-50, +30) dB. */
#define PARUS_TILE_RADAR_DB_BINS 160

/* Reflectance outside [PARUS_TILE_REFL_MIN, PARUS_TILE_REFL_MAX] after scale and offset is no
 * surface's: surface reflectance goes a little below 0 over dark water (S2 L2A offset -0.1) and a
 * little above 1 over fresh snow and bright cloud. */
#define PARUS_TILE_REFL_MIN (-0.2)
#define PARUS_TILE_REFL_MAX 1.5
/* red-nir-swapped looks at bright pixels (red or NIR reflectance at least PARUS_TILE_BRIGHT: not
 * water, not shadow) and counts those with |NDVI| above PARUS_TILE_ND_STRONG either way. */
#define PARUS_TILE_BRIGHT 0.15
#define PARUS_TILE_ND_STRONG 0.3

typedef struct parus_tile_quality {
    size_t n_px;             /* distinct pixels the pass read */
    size_t n_mask_clear;     /* of those, called clear by the tile's mask band (0: no mask band) */
    size_t n_clear_no_value; /* called clear by the mask, yet red or NIR is nodata or saturated */
    size_t n_mask_undefined; /* with a mask value the mask cannot hold (an SCL class above 11) */
    size_t n_valid;          /* clear with red and NIR */
    size_t n_out_of_range;   /* valid, some band outside the physical range */
    size_t n_bright;         /* valid, in range, red or NIR at least PARUS_TILE_BRIGHT */
    size_t n_red_over_nir;   /* bright, NDVI below -PARUS_TILE_ND_STRONG */
    size_t n_nir_over_red;   /* bright, NDVI above +PARUS_TILE_ND_STRONG */
    size_t n_blocks_checked; /* blocks with a window of enough pixels to judge on its own */
    size_t n_blocks_damaged; /* of those, with a window implausible for its own content */
    size_t first_damaged;    /* the lowest damaged block's index (SIZE_MAX: none) */
    parus_tile_check first_damage_check; /* why that block: RANGE, or BLOCK (undefined mask
                                            values, constant or noise) */
    char first_damage[224]; /* that block's reason: the window (pixel row and column inside the
                               block) and what is wrong with it */
    /* radar tiles: per polarisation (0 VV, 1 VH), over the finite non-nodata values of the
     * blocks read, how many, how many below zero, how many above 0 dB, and the histogram of those
     * in [-50, +30) dB (0.5 dB bins; dB tiles only). radar_db: the tile declares dB. */
    bool radar, radar_db;
    size_t n_radar_finite[2], n_radar_negative[2], n_radar_positive_db[2];
    size_t n_radar_bright[2];    /* declared linear: values above -4 dB (0.398) */
    size_t n_radar_amplitude[2]; /* declared linear: VV above -8 dB, VH above -11 dB */
    size_t radar_db_hist[2][PARUS_TILE_RADAR_DB_BINS];
    /* radar tiles with VV and VH: the covered pixels (per parcel) with both valid and one of them
     * at least PARUS_TILE_RADAR_LAND_DB (not open water, not the noise floor), and of those how
     * many have VH above VV */
    size_t n_radar_land, n_radar_vh_above_vv;
} parus_tile_quality;

/* The verdict on a pass's quality: the first check that fails in the order RADAR_SCALE,
 * RADAR_SWAPPED, RANGE,
 * BLOCK, MASK, SWAPPED, with a reason (e.g. "red-nir-swapped: 61.2 % of 9120 bright pixels have red
 * far above NIR (NDVI < -0.3), 2.1 % the other way") written into reason (may be NULL). */
PARUS_API parus_tile_check parus_tile_quality_judge(const parus_tile_quality *q, char *reason,
                                                    size_t reason_size);
/* "ok", "range", "red-nir-swapped", "mask-contradiction", "damaged-block", "radar-scale",
 * "vv-vh-swapped". */
PARUS_API const char *parus_tile_check_name(parus_tile_check check);

typedef struct parus_measure_stats {
    size_t n_blocks;            /* blocks in the tile */
    size_t n_blocks_read;       /* blocks some parcel touches, read once each */
    size_t n_pixels_read;       /* pixels of the blocks read */
    size_t n_cells;             /* (parcel, pixel) pairs accumulated */
    size_t n_cells_valid;       /* of those, with a clear value: the parcels' clear pixels */
    size_t n_parcels_on_tile;   /* parcels with at least one covered pixel of the tile */
    double seconds_coverage;    /* wall time: transformation and coverage */
    double seconds_pass;        /* wall time: the block pass and the merges */
    parus_tile_quality quality; /* the tile checks' figures (parus_tile_quality_judge) */
} parus_measure_stats;

/* Measure n_parcels parcels (lon/lat WKB as stored) on the tile. obs[i] receives parcel i's
 * statistics; a parcel that covers no pixel of the tile gets w_total_px = 0 and NaN means. opt
 * and stats may be NULL. Errors: E_PROJ (no transformation to the tile's CRS), E_GEOMETRY (WKB
 * that is not a polygon), E_IO / E_FORMAT naming the tile file and the block that failed to
 * decode (then obs is unspecified and nothing must be stored), E_BANDS (no red or NIR), E_NOMEM. */
PARUS_API parus_status parus_tile_measure(const parus_tile *tile, const parus_parcel *parcels,
                                          size_t n_parcels, const parus_measure_options *opt,
                                          parus_observation *obs, parus_measure_stats *stats,
                                          parus_error *err);

/* The same, handing each parcel's observation to sink as soon as the parcel is finished instead
 * of filling an array, so a caller can store observations as they come without holding them all
 * (a full tile has 140,000 parcels). sink is called exactly once per parcel, from one thread at a
 * time, in an order that depends only on the tile and the parcels (not on the thread count);
 * parcel is the index into parcels. With two threads or more it is called from a writer thread of
 * the pass, so that the caller's writes overlap the reading; every call has returned when the
 * function returns, and the caller must not use what the sink uses (its store) meanwhile. A
 * non-zero return from sink stops the pass with E_INTERNAL (the caller knows its own reason). */
typedef int (*parus_observation_fn)(size_t parcel, const parus_observation *obs, void *ctx);
PARUS_API parus_status parus_tile_measure_each(const parus_tile *tile, const parus_parcel *parcels,
                                               size_t n_parcels, const parus_measure_options *opt,
                                               parus_observation_fn sink, void *sink_ctx,
                                               parus_measure_stats *stats, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

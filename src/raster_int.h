/* raster_int.h - what the kernel needs of a reader beyond the public API, and the Landsat MTL
 * reader of the tile opener (raster.c) for the fuzz target and the tests. */
#ifndef PARUS_RASTER_INT_H
#define PARUS_RASTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/raster.h"

/* parus_tile_reader_read_cells, and besides each pixel's values what the tile's own validity band
 * says of it: bit 0 of clear[i] is 1 where the mask calls pixel i clear (always 1 on a tile whose
 * validity is nodata only), PARUS_MASK_UNDEFINED_BIT is set where the mask's value is none it can
 * hold (an SCL class above 11: damage, not an answer). A pixel the mask calls clear can still have
 * no value (nodata, saturated): the tile checks count both, since such a mask contradicts its own
 * tile. clear may be NULL. */
#define PARUS_MASK_UNDEFINED_BIT 2u
parus_status parus__tile_reader_read_cells_mask(parus_tile_reader *r, size_t index,
                                                const uint32_t *offset, size_t offset_stride,
                                                size_t n, float *out, uint8_t *clear,
                                                parus_error *err);

/* The radar scale check's figures (docs/method.md §2), per polarisation (0 VV, 1 VH), over every
 * finite non-nodata value a reader converted (parus_tile_reader_read: the whole block;
 * parus_tile_reader_read_cells on Float32 bands on the grid's blocks: the pixels asked for,
 * once per request): how many, how many below zero (a tile declared
 * linear), how many above 0 dB and a histogram of those in [-50, +30) dB in 0.5 dB bins (a tile
 * declared dB). Integer counts, so the sum over blocks does not depend on the thread count. */
#define PARUS__RADAR_DB_MIN (-50.0)
#define PARUS__RADAR_DB_MAX 30.0
#define PARUS__RADAR_DB_BIN 0.5
#define PARUS__RADAR_DB_BINS 160
/* -4 dB in linear power: land's median backscatter is far below (crops and soil -15..-8 dB,
 * forest -7 dB); a tile declared linear whose VV is mostly above it holds values ten times too
 * large (a scale slip), or amplitude read as power. */
#define PARUS__RADAR_BRIGHT_LINEAR 0.398
/* Amplitude read as power halves every dB value: farmland's VV of -16..-10 dB reads -8..-5 and
 * its VH of -25..-17 reads -12..-8. A tile declared linear whose VV is mostly above -8 dB and its
 * VH mostly above -11 dB is amplitude (or too bright by a scale slip): crops at their brightest
 * stay below both (VV -9 dB, VH -12 dB), forest's VH about -13 dB. */
#define PARUS__RADAR_AMPLITUDE_VV 0.1585 /* -8 dB */
#define PARUS__RADAR_AMPLITUDE_VH 0.0794 /* -11 dB */
typedef struct parus__radar_counts {
    size_t n_finite[2], n_negative[2], n_positive[2];
    size_t n_bright[2];    /* a tile declared linear: values above PARUS__RADAR_BRIGHT_LINEAR */
    size_t n_amplitude[2]; /* and above PARUS__RADAR_AMPLITUDE_VV (VV) or _VH (VH) */
    size_t db_hist[2][PARUS__RADAR_DB_BINS];
    size_t n_land, n_vh_above_vv; /* the kernel's: parus_tile_quality's n_radar_land, ... */
} parus__radar_counts;

/* The radar figures of the reads since the last call into out, and start counting again. */
void parus__tile_reader_take_radar_counts(parus_tile_reader *r, parus__radar_counts *out);

/* Largest Landsat MTL read (real ones are under 20 kB); the text is cut there, and at a NUL. */
#define PARUS__MTL_MAX_BYTES (1 << 20)

/* The value of the first "KEY = VALUE" line of the MTL text (NUL-terminated) into buf (size bytes,
 * quotes and trailing blanks removed); false when the key is absent or the value does not fit. */
bool parus__mtl_get(const char *text, const char *key, char *buf, size_t size);
/* A number as the MTL and GDAL metadata give it (blanks and quotes around it allowed); false when
 * s is NULL, not a number, out of range or not finite. */
bool parus__parse_number(const char *s, double *out);

#endif

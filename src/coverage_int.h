/* coverage_int.h - internal coverage entry points for the kernel. */
#ifndef PARUS_COVERAGE_INT_H
#define PARUS_COVERAGE_INT_H

#include "parus/coverage.h"

/* parus_cover_compute restricted to grid rows [row_begin, row_end): the kernel processes a tile
 * in bands of block rows and needs only the rows of the current band. area_total_px is the
 * polygon's whole area, as in parus_cover_compute. */
parus_status parus__cover_compute_rows(const parus_polygon *poly, size_t grid_w, size_t grid_h,
                                       size_t row_begin, size_t row_end, parus_cover *out,
                                       parus_error *err);

#endif

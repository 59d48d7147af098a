/* coverage_int.h - internal coverage entry points for the kernel, and what the weather weights
 * share with it: a stored parcel's rings and the transformation into a grid's CRS. */
#ifndef PARUS_COVERAGE_INT_H
#define PARUS_COVERAGE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <proj.h>

#include "parus/coverage.h"

/* parus_cover_compute restricted to grid rows [row_begin, row_end): the kernel processes a tile
 * in bands of block rows and needs only the rows of the current band. area_total_px is the
 * polygon's whole area, as in parus_cover_compute. */
parus_status parus__cover_compute_rows(const parus_polygon *poly, size_t grid_w, size_t grid_h,
                                       size_t row_begin, size_t row_end, parus_cover *out,
                                       parus_error *err);

/* A stored parcel's rings (little-endian Polygon or MultiPolygon WKB, as the parcels module
 * writes) as malloc'ed arrays for a parus_polygon: xy in the WKB's coordinates (lon/lat), to be
 * transformed by the caller (kernel.c). False when the WKB is not such a polygon (*nomem false)
 * or memory ran out (*nomem true); release with parus__rings_release either way. */
typedef struct parus__rings {
    double *xy;
    size_t n_points;
    size_t *ring_start;
    bool *is_hole;
    size_t n_rings;
} parus__rings;
bool parus__rings_from_wkb(const unsigned char *wkb, size_t size, parus__rings *out, bool *nomem);
void parus__rings_release(parus__rings *r);

/* A PROJ context and the transformation from WGS 84 lon/lat to crs_wkt, normalised to x east,
 * y north (kernel.c); crs_name is for messages. E_NOMEM, E_PROJ. The caller destroys both. */
parus_status parus__wgs84_to_crs(const char *crs_wkt, const char *crs_name, PJ_CONTEXT **ctx_out,
                                 PJ **pj_out, parus_error *err);

#endif

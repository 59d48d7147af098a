/*
 * parus/coverage.h - the exact fraction of each pixel that a polygon covers.
 *
 * Smallholder parcels are a few pixels wide, so most of their pixels straddle an edge: a 1-mu
 * parcel covers 6.7 Sentinel-2 pixels and most of its signal comes from edge pixels. Pixel-centre
 * rules drop or bias exactly those parcels; parus weights every pixel by the exact covered area.
 *
 * Method: the polygon's area inside a cell is the integral over the cell's rows of the covered
 * length, and the covered length at height y is given by the winding number of the rings that
 * cross that horizontal line to the left. Each ring edge, cut at every row and column line it
 * crosses, adds the exact signed area between itself and the cell's right side to the cell it
 * passes through, and its full height to every cell to its right (a running "cover" summed along
 * the row). This is the analytic area-coverage accumulation of scanline renderers; it gives the
 * same fractions as walking each ring through the cells and filling the interior (the exact
 * coverage method of exactextract), in one pass over the edges plus one over the bounding window.
 * Holes, multipolygons, concave shapes, slivers and polygons smaller than a pixel need no special
 * case. Everything is computed in double precision.
 *
 * Coordinates are grid coordinates: x = column, y = row, pixel (r, c) is [c, c+1) x [r, r+1).
 * Converting from the tile CRS is the caller's job (the geotransform's inverse).
 */
#ifndef PARUS_COVERAGE_H
#define PARUS_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A polygon: rings of (x, y) pairs in grid coordinates. Ring k holds points
 * xy[2*ring_start[k] .. 2*ring_start[k+1]-1]; closing the ring is optional. is_hole[k] says whether
 * ring k is a hole (interior ring) or an exterior ring; orientation is normalised internally, so
 * rings may come in either direction. Exterior rings of a multipolygon must not overlap. */
typedef struct parus_polygon {
    const double *xy;
    const size_t *ring_start; /* n_rings + 1 entries */
    const bool *is_hole;      /* n_rings entries */
    size_t n_rings;
} parus_polygon;

/* One covered pixel. */
typedef struct parus_cover_cell {
    uint32_t row, col;
    double fraction; /* (0, 1]: covered area / pixel area */
} parus_cover_cell;

/* The pixels a polygon covers on a grid, row-major. */
typedef struct parus_cover {
    parus_cover_cell *cells;
    size_t n_cells;
    double area_px;       /* polygon area inside the grid, in pixels (sum of fractions) */
    double area_total_px; /* the polygon's whole area in pixels, inside the grid or not */
} parus_cover;

/* Compute the coverage of poly on a grid_w x grid_h grid. Parts outside the grid are cut off (a
 * parcel crossing the tile edge keeps what is inside). Fractions below 1e-12 are dropped.
 * Errors: E_INVALID for a ring with fewer than 3 points, non-finite coordinates, or a grid wider
 * or taller than 2^32 - 1; E_NOMEM. *out owns its cells (parus_cover_release). */
PARUS_API parus_status parus_cover_compute(const parus_polygon *poly, size_t grid_w, size_t grid_h,
                                           parus_cover *out, parus_error *err);
PARUS_API void parus_cover_release(parus_cover *cover);

/* Planar area of the polygon in grid units (holes subtracted), independent of any grid. */
PARUS_API double parus_polygon_area(const parus_polygon *poly);

#ifdef __cplusplus
}
#endif
#endif

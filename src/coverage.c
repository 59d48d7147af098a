/*
 * coverage.c - exact pixel coverage of polygons (see include/parus/coverage.h for the method).
 *
 * Workload: every parcel of a tile, once per tile grid (Sentinel-2 revisits reuse one grid, so the
 * result is cached by the caller). Parcels are small (tens to hundreds of pixels), so the cost is
 * dominated by the number of ring edges times the rows and columns each crosses, plus one prefix
 * sum over the parcel's bounding window. Large polygons are processed in bands of rows so memory
 * stays bounded by BAND_CELLS accumulators whatever the polygon's size.
 *
 * Invariant: for a valid polygon, the signed accumulation gives each cell a value in [0, 1] up to
 * rounding; values are clamped to [0, 1] and those below 1e-12 dropped, so the sum of fractions
 * equals the polygon's area inside the grid to rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parus/coverage.h"
#include "coverage_int.h"
#include "util_int.h"

#define BAND_CELLS ((size_t)1 << 22) /* 32 MiB of accumulators at most */
#define MIN_FRACTION 1e-12

static double ring_signed_area(const double *xy, size_t n)
{
    double a = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        size_t j = i + 1 == n ? 0 : i + 1;
        a += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
    }
    return 0.5 * a;
}

double parus_polygon_area(const parus_polygon *poly)
{
    double area = 0.0;
    size_t k;
    for (k = 0; k < poly->n_rings; k++) {
        size_t n = poly->ring_start[k + 1] - poly->ring_start[k];
        double a = fabs(ring_signed_area(poly->xy + 2 * poly->ring_start[k], n));
        area += poly->is_hole[k] ? -a : a;
    }
    return area;
}

/* The accumulator of one band of rows [r0, r0 + n_rows) and columns [c0, c0 + n_cols). Column
 * n_cols is a spill slot for the right neighbour of the last column. */
struct band {
    double *acc;
    size_t r0, n_rows, c0, n_cols;
};

static void add_piece(struct band *b, size_t row, double xlo, double xhi, double dy)
{
    double *acc = b->acc + row * (b->n_cols + 1);
    double c0 = (double)b->c0, c1 = (double)(b->c0 + b->n_cols);
    double k, x;

    if (xhi - xlo < 1e-12) {
        /* vertical (or nearly): one column */
        double xm = 0.5 * (xlo + xhi);
        double m;
        if (xm >= c1)
            return;
        if (xm < c0) {
            acc[0] += dy;
            return;
        }
        m = floor(xm);
        acc[(size_t)(m - c0)] += dy * (m + 1.0 - xm);
        acc[(size_t)(m - c0) + 1] += dy * (xm - m);
        return;
    }
    k = dy / (xhi - xlo); /* dy per unit of x along the piece */
    if (xlo < c0) {
        /* left of the window: full cover for every cell of the row */
        double xe = xhi < c0 ? xhi : c0;
        acc[0] += k * (xe - xlo);
        xlo = xe;
        if (xlo >= xhi)
            return;
    }
    if (xhi > c1)
        xhi = c1; /* right of the window: contributes to no cell */
    x = xlo;
    while (x < xhi) {
        double m = floor(x);
        double xe = m + 1.0 < xhi ? m + 1.0 : xhi;
        double d = k * (xe - x);
        double xm = 0.5 * (x + xe);
        size_t j = (size_t)(m - c0);
        acc[j] += d * (m + 1.0 - xm);
        acc[j + 1] += d * (xm - m);
        x = xe;
    }
}

/* Accumulate one edge, with sign s, into the band. */
static void add_edge(struct band *b, double x0, double y0, double x1, double y1, double s)
{
    double ylo, yhi, dir, ys, ye, r;

    if (y0 == y1)
        return;
    dir = y1 > y0 ? 1.0 : -1.0;
    ylo = y0 < y1 ? y0 : y1;
    yhi = y0 < y1 ? y1 : y0;
    ys = ylo > (double)b->r0 ? ylo : (double)b->r0;
    ye = yhi < (double)(b->r0 + b->n_rows) ? yhi : (double)(b->r0 + b->n_rows);
    if (ys >= ye)
        return;
    for (r = floor(ys); r < ye; r += 1.0) {
        double ya = ys > r ? ys : r;
        double yb = ye < r + 1.0 ? ye : r + 1.0;
        double xa, xb;
        if (yb <= ya)
            continue;
        xa = x0 + (ya - y0) * (x1 - x0) / (y1 - y0);
        xb = x0 + (yb - y0) * (x1 - x0) / (y1 - y0);
        add_piece(b, (size_t)(r - (double)b->r0), xa < xb ? xa : xb, xa < xb ? xb : xa,
                  s * dir * (yb - ya));
    }
}

static parus_status emit_band(const struct band *b, parus_cover *out, size_t *cap, parus_error *err)
{
    size_t i, j;
    for (i = 0; i < b->n_rows; i++) {
        const double *acc = b->acc + i * (b->n_cols + 1);
        double cov = 0.0;
        for (j = 0; j < b->n_cols; j++) {
            double f;
            cov += acc[j];
            f = cov > 1.0 ? 1.0 : cov;
            if (f < MIN_FRACTION)
                continue;
            if (out->n_cells == *cap) {
                size_t ncap = *cap ? *cap * 2 : 64, bytes;
                parus_cover_cell *nc;
                if (!parus__mul_size(ncap, sizeof *nc, &bytes) ||
                    !(nc = realloc(out->cells, bytes)))
                    return parus_fail(err, PARUS_E_NOMEM, "cannot grow a coverage of %zu cells",
                                      out->n_cells);
                out->cells = nc;
                *cap = ncap;
            }
            out->cells[out->n_cells].row = (uint32_t)(b->r0 + i);
            out->cells[out->n_cells].col = (uint32_t)(b->c0 + j);
            out->cells[out->n_cells].fraction = f;
            out->n_cells++;
            out->area_px += f;
        }
    }
    return PARUS_OK;
}

parus_status parus_cover_compute(const parus_polygon *poly, size_t grid_w, size_t grid_h,
                                 parus_cover *out, parus_error *err)
{
    return parus__cover_compute_rows(poly, grid_w, grid_h, 0, grid_h, out, err);
}

parus_status parus__cover_compute_rows(const parus_polygon *poly, size_t grid_w, size_t grid_h,
                                       size_t row_begin, size_t row_end, parus_cover *out,
                                       parus_error *err)
{
    parus_cover cover = {0};
    struct band b;
    double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
    double *sign;
    size_t k, i, cap = 0, r_begin, r_end, band_rows;
    parus_status rc = PARUS_OK;

    if (grid_w > UINT32_MAX || grid_h > UINT32_MAX)
        return parus_fail(err, PARUS_E_INVALID, "grid of %zu x %zu pixels is too large", grid_w,
                          grid_h);
    for (k = 0; k < poly->n_rings; k++) {
        size_t n = poly->ring_start[k + 1] - poly->ring_start[k];
        const double *xy = poly->xy + 2 * poly->ring_start[k];
        if (poly->ring_start[k + 1] < poly->ring_start[k] || n < 3)
            return parus_fail(err, PARUS_E_INVALID, "ring %zu has %zu points, fewer than 3", k, n);
        for (i = 0; i < n; i++) {
            if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
                return parus_fail(err, PARUS_E_INVALID, "ring %zu has a non-finite coordinate", k);
            xmin = fmin(xmin, xy[2 * i]);
            xmax = fmax(xmax, xy[2 * i]);
            ymin = fmin(ymin, xy[2 * i + 1]);
            ymax = fmax(ymax, xy[2 * i + 1]);
        }
    }
    cover.area_total_px = parus_polygon_area(poly);
    if (poly->n_rings == 0 || xmax <= 0.0 || ymax <= 0.0 || xmin >= (double)grid_w ||
        ymin >= (double)grid_h) {
        *out = cover;
        return PARUS_OK;
    }

    b.c0 = xmin <= 0.0 ? 0 : (size_t)floor(xmin);
    b.n_cols = (xmax >= (double)grid_w ? grid_w : (size_t)ceil(xmax)) - b.c0;
    r_begin = ymin <= (double)row_begin ? row_begin : (size_t)floor(ymin);
    r_end = ymax >= (double)row_end ? row_end : (size_t)ceil(ymax);
    if (r_begin >= r_end) {
        *out = cover;
        return PARUS_OK;
    }

    /* Each ring adds -(its signed area); exteriors must add +|area| and holes -|area|. */
    sign = malloc(poly->n_rings * sizeof *sign);
    if (!sign)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate ring signs");
    for (k = 0; k < poly->n_rings; k++) {
        double a = ring_signed_area(poly->xy + 2 * poly->ring_start[k],
                                    poly->ring_start[k + 1] - poly->ring_start[k]);
        sign[k] = (a > 0.0) == poly->is_hole[k] ? 1.0 : -1.0;
    }

    band_rows = BAND_CELLS / (b.n_cols + 1);
    if (band_rows == 0)
        band_rows = 1;
    if (band_rows > r_end - r_begin)
        band_rows = r_end - r_begin;
    b.acc = malloc(band_rows * (b.n_cols + 1) * sizeof *b.acc);
    if (!b.acc) {
        free(sign);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate a coverage window of %zu x %zu",
                          band_rows, b.n_cols + 1);
    }

    for (b.r0 = r_begin; b.r0 < r_end && rc == PARUS_OK; b.r0 += band_rows) {
        b.n_rows = r_end - b.r0 < band_rows ? r_end - b.r0 : band_rows;
        memset(b.acc, 0, b.n_rows * (b.n_cols + 1) * sizeof *b.acc);
        for (k = 0; k < poly->n_rings; k++) {
            size_t n = poly->ring_start[k + 1] - poly->ring_start[k];
            const double *xy = poly->xy + 2 * poly->ring_start[k];
            for (i = 0; i < n; i++) {
                size_t j = i + 1 == n ? 0 : i + 1;
                add_edge(&b, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], sign[k]);
            }
        }
        rc = emit_band(&b, &cover, &cap, err);
    }
    free(b.acc);
    free(sign);
    if (rc != PARUS_OK) {
        free(cover.cells);
        return rc;
    }
    *out = cover;
    return PARUS_OK;
}

void parus_cover_release(parus_cover *cover)
{
    if (!cover)
        return;
    free(cover->cells);
    cover->cells = NULL;
    cover->n_cells = 0;
}

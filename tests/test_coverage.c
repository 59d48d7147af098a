/*
 * test_coverage.c - exact pixel coverage: cases checkable on paper, an independent per-cell
 * check (Sutherland-Hodgman clipping of the rings to each cell), and the property that the
 * fractions add up to the polygon's area.
 */
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/coverage.h"

/* Build a polygon from up to 8 rings given as flat coordinate arrays. */
struct poly_buf {
    double xy[2 * 4096];
    size_t start[9];
    bool hole[8];
    parus_polygon p;
};

static void pb_init(struct poly_buf *pb)
{
    memset(pb, 0, sizeof *pb);
    pb->p.xy = pb->xy;
    pb->p.ring_start = pb->start;
    pb->p.is_hole = pb->hole;
}

static void pb_ring(struct poly_buf *pb, const double *xy, size_t n, bool hole)
{
    size_t k = pb->p.n_rings, at = pb->start[k];
    memcpy(pb->xy + 2 * at, xy, 2 * n * sizeof *xy);
    pb->hole[k] = hole;
    pb->start[k + 1] = at + n;
    pb->p.n_rings++;
}

static void pb_rect(struct poly_buf *pb, double x0, double y0, double x1, double y1, bool hole,
                    bool clockwise)
{
    double ccw[] = {x0, y0, x1, y0, x1, y1, x0, y1};
    double cw[] = {x0, y0, x0, y1, x1, y1, x1, y0};
    pb_ring(pb, clockwise ? cw : ccw, 4, hole);
}

/* The fraction of pixel (r, c) in a cover, 0 when absent. */
static double frac_at(const parus_cover *cv, uint32_t r, uint32_t c)
{
    size_t i;
    for (i = 0; i < cv->n_cells; i++)
        if (cv->cells[i].row == r && cv->cells[i].col == c)
            return cv->cells[i].fraction;
    return 0.0;
}

static void compute(const struct poly_buf *pb, size_t w, size_t h, parus_cover *cv)
{
    parus_error err;
    if (parus_cover_compute(&pb->p, w, h, cv, &err) != PARUS_OK)
        fail_msg("coverage failed: %s", err.msg);
}

static void test_square__quarter_half_full(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    static const double want[3][3] = {{0.25, 0.5, 0.25}, {0.5, 1.0, 0.5}, {0.25, 0.5, 0.25}};
    (void)state;
    pb_init(&pb);
    pb_rect(&pb, 0.5, 0.5, 2.5, 2.5, false, false);
    compute(&pb, 3, 3, &cv);
    assert_int_equal(cv.n_cells, 9);
    for (uint32_t r = 0; r < 3; r++)
        for (uint32_t c = 0; c < 3; c++)
            assert_close(frac_at(&cv, r, c), want[r][c], 1e-15, 0);
    assert_close(cv.area_px, 4.0, 1e-12, 0);
    parus_cover_release(&cv);
}

static void test_triangle__diagonal_halves(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    const double tri[] = {0, 0, 2, 0, 0, 2};
    (void)state;
    pb_init(&pb);
    pb_ring(&pb, tri, 3, false);
    compute(&pb, 3, 3, &cv);
    assert_close(frac_at(&cv, 0, 0), 1.0, 1e-15, 0);
    assert_close(frac_at(&cv, 0, 1), 0.5, 1e-15, 0);
    assert_close(frac_at(&cv, 1, 0), 0.5, 1e-15, 0);
    assert_close(frac_at(&cv, 1, 1), 0.0, 1e-15, 0);
    assert_close(cv.area_px, 2.0, 1e-12, 0);
    parus_cover_release(&cv);
}

static void test_hole__any_orientation(void **state)
{
    (void)state;
    for (int o = 0; o < 4; o++) {
        struct poly_buf pb;
        parus_cover cv;
        pb_init(&pb);
        pb_rect(&pb, 0, 0, 3, 3, false, o & 1);
        pb_rect(&pb, 1, 1, 2, 2, true, o & 2);
        compute(&pb, 3, 3, &cv);
        assert_int_equal(cv.n_cells, 8);
        assert_close(frac_at(&cv, 1, 1), 0.0, 0, 0);
        assert_close(frac_at(&cv, 0, 0), 1.0, 1e-15, 0);
        assert_close(cv.area_px, 8.0, 1e-12, 0);
        assert_close(cv.area_total_px, 8.0, 1e-12, 0);
        parus_cover_release(&cv);
    }
}

static void test_pixel_edges__exactly_one_cell(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    (void)state;
    pb_init(&pb);
    pb_rect(&pb, 1, 1, 2, 2, false, false);
    compute(&pb, 3, 3, &cv);
    assert_int_equal(cv.n_cells, 1);
    assert_int_equal(cv.cells[0].row, 1);
    assert_int_equal(cv.cells[0].col, 1);
    assert_true(cv.cells[0].fraction == 1.0);
    parus_cover_release(&cv);
}

static void test_subpixel__fraction_of_one_cell(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    (void)state;
    pb_init(&pb);
    pb_rect(&pb, 2.2, 0.3, 2.4, 0.5, false, true);
    compute(&pb, 3, 3, &cv);
    assert_int_equal(cv.n_cells, 1);
    assert_int_equal(cv.cells[0].row, 0);
    assert_int_equal(cv.cells[0].col, 2);
    assert_close(cv.cells[0].fraction, 0.04, 1e-15, 0);
    parus_cover_release(&cv);
}

static void test_sliver__sums_to_area(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    const double sliver[] = {0.1, 0.1, 9.9, 7.3, 9.9 + 1e-6, 7.3, 0.1 + 1e-6, 0.1};
    (void)state;
    pb_init(&pb);
    pb_ring(&pb, sliver, 4, false);
    compute(&pb, 10, 10, &cv);
    assert_true(cv.n_cells > 10);
    assert_close(cv.area_px, parus_polygon_area(&pb.p), 0, 1e-9);
    parus_cover_release(&cv);
}

static void test_grid_edge__keeps_inside_part(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    (void)state;
    pb_init(&pb);
    pb_rect(&pb, -1.5, -1, 1, 1.5, false, false);
    compute(&pb, 3, 3, &cv);
    assert_close(frac_at(&cv, 0, 0), 1.0, 1e-15, 0);
    assert_close(frac_at(&cv, 1, 0), 0.5, 1e-15, 0);
    assert_close(cv.area_px, 1.5, 1e-12, 0);
    assert_close(cv.area_total_px, 2.5 * 2.5, 1e-12, 0);
    parus_cover_release(&cv);

    pb_init(&pb);
    pb_rect(&pb, 5, 5, 6, 6, false, false); /* entirely outside */
    compute(&pb, 3, 3, &cv);
    assert_int_equal(cv.n_cells, 0);
    parus_cover_release(&cv);
}

static void test_bad_input__refused(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    parus_error err;
    const double two[] = {0, 0, 1, 1};
    const double nan_ring[] = {0, 0, NAN, 1, 1, 1};
    (void)state;
    pb_init(&pb);
    pb_ring(&pb, two, 2, false);
    assert_int_equal(parus_cover_compute(&pb.p, 3, 3, &cv, &err), PARUS_E_INVALID);
    pb_init(&pb);
    pb_ring(&pb, nan_ring, 3, false);
    assert_int_equal(parus_cover_compute(&pb.p, 3, 3, &cv, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "non-finite"));
}

/* ---- an independent check: clip each ring to each cell (Sutherland-Hodgman) ---- */

static size_t clip_half(const double *in, size_t n, double *out, int axis, double v, int keep_ge)
{
    size_t i, m = 0;
    for (i = 0; i < n; i++) {
        const double *a = in + 2 * i, *b = in + 2 * ((i + 1) % n);
        int ina = keep_ge ? a[axis] >= v : a[axis] <= v;
        int inb = keep_ge ? b[axis] >= v : b[axis] <= v;
        if (ina) {
            out[2 * m] = a[0];
            out[2 * m + 1] = a[1];
            m++;
        }
        if (ina != inb) {
            double t = (v - a[axis]) / (b[axis] - a[axis]);
            out[2 * m] = a[0] + t * (b[0] - a[0]);
            out[2 * m + 1] = a[1] + t * (b[1] - a[1]);
            out[2 * m + (size_t)axis] = v;
            m++;
        }
    }
    return m;
}

static double ring_cell_area(const double *xy, size_t n, double c, double r)
{
    static double a[2 * 8192], b[2 * 8192];
    double s = 0;
    size_t i;
    memcpy(a, xy, 2 * n * sizeof *xy);
    n = clip_half(a, n, b, 0, c, 1);
    n = clip_half(b, n, a, 0, c + 1, 0);
    n = clip_half(a, n, b, 1, r, 1);
    n = clip_half(b, n, a, 1, r + 1, 0);
    for (i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        s += a[2 * i] * a[2 * j + 1] - a[2 * j] * a[2 * i + 1];
    }
    return fabs(0.5 * s);
}

static uint64_t rng_state;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* A random star-shaped (so simple, usually concave) ring around (cx, cy). */
static size_t star(double *xy, size_t n, double cx, double cy, double rmin, double rmax)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double t = 2 * M_PI * ((double)i + 0.8 * rnd()) / (double)n;
        double rad = rmin + (rmax - rmin) * rnd();
        xy[2 * i] = cx + rad * cos(t);
        xy[2 * i + 1] = cy + rad * sin(t);
    }
    return n;
}

static void test_random__matches_clipping_and_area(void **state)
{
    int trial;
    (void)state;
    rng_state = 12345;
    for (trial = 0; trial < 300; trial++) {
        struct poly_buf pb;
        parus_cover cv;
        double outer[2 * 64], second[2 * 32];
        size_t no = star(outer, 8 + (size_t)(rnd() * 56), 10 + 4 * rnd(), 10 + 4 * rnd(),
                         1 + 3 * rnd(), 4 + 5 * rnd());
        bool multi = trial % 4 == 1;
        double worst = 0;

        pb_init(&pb);
        pb_ring(&pb, outer, no, false);
        if (multi) {
            size_t ns = star(second, 20, 30 + 3 * rnd(), 8 + 3 * rnd(), 0.3, 3);
            pb_ring(&pb, second, ns, false);
        }
        compute(&pb, 40, 25, &cv);
        /* property: fractions add up to the area (the polygon lies inside the grid) */
        assert_close(cv.area_px, parus_polygon_area(&pb.p), 0, 1e-9);
        assert_close(cv.area_total_px, parus_polygon_area(&pb.p), 0, 1e-12);
        /* independent check of every cell */
        for (uint32_t r = 0; r < 25; r++) {
            for (uint32_t c = 0; c < 40; c++) {
                double want = 0;
                for (size_t k = 0; k < pb.p.n_rings; k++) {
                    double a = ring_cell_area(pb.xy + 2 * pb.start[k],
                                              pb.start[k + 1] - pb.start[k], c, r);
                    want += pb.hole[k] ? -a : a;
                }
                worst = fmax(worst, fabs(frac_at(&cv, r, c) - want));
            }
        }
        if (worst > 1e-9)
            fail_msg("trial %d: a cell differs from clipping by %g", trial, worst);
        parus_cover_release(&cv);
    }
}

static void test_random__holes_match_clipping(void **state)
{
    int trial;
    (void)state;
    rng_state = 777;
    for (trial = 0; trial < 200; trial++) {
        struct poly_buf pb;
        parus_cover cv;
        double outer[2 * 40], hole[2 * 12];
        double cx = 12 + 3 * rnd(), cy = 9 + 3 * rnd();
        size_t no = star(outer, 10 + (size_t)(rnd() * 30), cx, cy, 3, 7);
        /* a star-shaped ring with radii >= 3 always contains the disc of radius ~2.4 around its
         * centre when its vertices are at most 2*pi/10 apart: a hole of radius < 2 fits */
        size_t nh = star(hole, 12, cx + 0.3 * rnd(), cy + 0.3 * rnd(), 0.2, 1.5);
        double worst = 0;
        pb_init(&pb);
        pb_ring(&pb, outer, no, false);
        pb_ring(&pb, hole, nh, true);
        compute(&pb, 30, 25, &cv);
        assert_close(cv.area_px, parus_polygon_area(&pb.p), 0, 1e-9);
        for (uint32_t r = 0; r < 25; r++)
            for (uint32_t c = 0; c < 30; c++) {
                double want = ring_cell_area(outer, no, c, r) - ring_cell_area(hole, nh, c, r);
                worst = fmax(worst, fabs(frac_at(&cv, r, c) - want));
            }
        if (worst > 1e-9)
            fail_msg("trial %d: a cell differs from clipping by %g", trial, worst);
        parus_cover_release(&cv);
    }
}

static void test_large__banded_window_sums_to_area(void **state)
{
    struct poly_buf pb;
    parus_cover cv;
    double ring[2 * 200];
    (void)state;
    rng_state = 99;
    pb_init(&pb);
    /* big enough that the accumulator is processed in several bands of rows */
    star(ring, 200, 3000.5, 3000.5, 1500, 2999);
    pb_ring(&pb, ring, 200, false);
    compute(&pb, 6001, 6001, &cv);
    assert_close(cv.area_px, parus_polygon_area(&pb.p), 0, 1e-9);
    parus_cover_release(&cv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square__quarter_half_full),
        cmocka_unit_test(test_triangle__diagonal_halves),
        cmocka_unit_test(test_hole__any_orientation),
        cmocka_unit_test(test_pixel_edges__exactly_one_cell),
        cmocka_unit_test(test_subpixel__fraction_of_one_cell),
        cmocka_unit_test(test_sliver__sums_to_area),
        cmocka_unit_test(test_grid_edge__keeps_inside_part),
        cmocka_unit_test(test_bad_input__refused),
        cmocka_unit_test(test_random__matches_clipping_and_area),
        cmocka_unit_test(test_random__holes_match_clipping),
        cmocka_unit_test(test_large__banded_window_sums_to_area),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * area.c - the declared-area check (parus/area.h): exact integer arithmetic on whole square
 * decimetres and parts per million, so that every stage that asks gets the same answer.
 *
 * The areas are rounded to the nearest dm2, not floored: an area that reaches one caller through
 * a unit conversion (assess hands the health stage the declared m2 as mu, which turns 31 m2 back
 * into 30.999999999999996 m2) must land on the same whole dm2 as the figure itself.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "parus/area.h"
#include "money_int.h"

/* Whole dm2 of a finite area >= 0 (rounded to the nearest); false otherwise. */
static bool area_dm2(double m2, int64_t *out)
{
    return m2 >= 0.0 && parus__floor_i64(m2 * 100.0 + 0.5, out);
}

/* |a - d| x 10^6 > tol_ppm x d, exactly (d > 0) */
static bool beyond(int64_t a, int64_t d, int64_t tol_ppm)
{
    int64_t diff = a > d ? a - d : d - a, q, rem;
    if (!parus__mul_div_floor(diff, 1000000, d, &q, &rem))
        return true;
    return !(q < tol_ppm || (q == tol_ppm && rem == 0));
}

parus_area_check parus_area_compare_interval(double planted_lo_m2, double planted_hi_m2,
                                             double declared_m2, double tolerance)
{
    int64_t lo, hi, d, tol_ppm;
    if (!(declared_m2 > 0.0) || !parus__floor_i64(declared_m2 * 100.0 + 0.5, &d) || d <= 0)
        return PARUS_AREA_UNDECLARED;
    if (!area_dm2(planted_lo_m2, &lo) || !area_dm2(planted_hi_m2, &hi) || lo > hi ||
        !(tolerance >= 0.0 && tolerance <= 1e6))
        return PARUS_AREA_UNKNOWN;
    /* whole ppm, rounded down; a tolerance written with six decimals or fewer is exact */
    tol_ppm = (int64_t)floor(tolerance * 1e6 + 1e-6);
    if (hi < d && beyond(hi, d, tol_ppm))
        return PARUS_AREA_SHORTFALL;
    if (lo > d && beyond(lo, d, tol_ppm))
        return PARUS_AREA_EXCESS;
    return PARUS_AREA_OK;
}

parus_area_check parus_area_compare(double planted_m2, double declared_m2, double tolerance)
{
    return parus_area_compare_interval(planted_m2, planted_m2, declared_m2, tolerance);
}

int parus_area_is_mismatch(parus_area_check c)
{
    return c == PARUS_AREA_SHORTFALL || c == PARUS_AREA_EXCESS;
}

const char *parus_area_check_name(parus_area_check c)
{
    switch (c) {
    case PARUS_AREA_UNDECLARED:
        return "undeclared";
    case PARUS_AREA_UNKNOWN:
        return "unknown";
    case PARUS_AREA_OK:
        return "ok";
    case PARUS_AREA_SHORTFALL:
        return "shortfall";
    case PARUS_AREA_EXCESS:
        return "excess";
    }
    return "unknown";
}

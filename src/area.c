/*
 * area.c - the declared-area check (parus/area.h): exact integer arithmetic on whole square
 * decimetres and parts per million, so that every stage that asks gets the same answer.
 *
 * The areas are rounded to the nearest dm2, not floored: an area that reaches one caller through
 * a unit conversion (assess hands the health stage the declared m2 as mu, which turns 31 m2 back
 * into 30.999999999999996 m2) must land on the same whole dm2 as the figure itself.
 */
#include <math.h>
#include <stdint.h>

#include "parus/area.h"
#include "money_int.h"

parus_area_check parus_area_compare(double planted_m2, double declared_m2, double tolerance)
{
    int64_t p, d, diff, q, rem, tol_ppm;
    if (!(declared_m2 > 0.0) || !parus__floor_i64(declared_m2 * 100.0 + 0.5, &d) || d <= 0)
        return PARUS_AREA_UNDECLARED;
    if (!(planted_m2 >= 0.0) || !parus__floor_i64(planted_m2 * 100.0 + 0.5, &p) ||
        !(tolerance >= 0.0 && tolerance <= 1e6))
        return PARUS_AREA_UNKNOWN;
    /* whole ppm, rounded down; a tolerance written with six decimals or fewer is exact */
    tol_ppm = (int64_t)floor(tolerance * 1e6 + 1e-6);
    diff = p > d ? p - d : d - p;
    if (parus__mul_div_floor(diff, 1000000, d, &q, &rem) &&
        (q < tol_ppm || (q == tol_ppm && rem == 0)))
        return PARUS_AREA_OK;
    return p < d ? PARUS_AREA_SHORTFALL : PARUS_AREA_EXCESS;
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

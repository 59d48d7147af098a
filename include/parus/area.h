/*
 * area.h - the declared-area check: a parcel's planted area against the area its land-rights
 * record declares, beyond a relative tolerance. One function, so that the health flag
 * (AREA_SHORTFALL / AREA_EXCESS), the stored result's area_check and the credit haircut for an
 * area mismatch always agree, even exactly at the tolerance.
 *
 * The comparison is exact, in integers: both areas rounded to the nearest whole square decimetre
 * (so that the same area, converted m2 -> mu -> m2 on the way, still gives the same answer), the
 * tolerance taken as whole parts per million rounded down (in the lender's favour: a tolerance
 * with more than six decimals can only make a mismatch more likely), and
 *     mismatch  <=>  |planted - declared| x 10^6 > tolerance_ppm x declared.
 * So a difference of exactly the tolerance is not a mismatch, on every machine.
 *
 * A measured planted area is uncertain (docs/method.md, section 10): parus_area_compare_interval
 * takes the interval [planted_lo, planted_hi] the evidence allows and finds a shortfall only when
 * even its upper end lies below the declared area by more than the tolerance, an excess only when
 * even its lower end lies above it by more; with lo = hi it is parus_area_compare.
 */
#ifndef PARUS_AREA_H
#define PARUS_AREA_H

#include "parus/export.h"

typedef enum parus_area_check {
    PARUS_AREA_UNDECLARED = 0, /* no usable declared area (absent, not positive, not finite) */
    PARUS_AREA_UNKNOWN,        /* no usable planted area or tolerance: nothing compared */
    PARUS_AREA_OK,             /* within the tolerance */
    PARUS_AREA_SHORTFALL,      /* planted below declared by more than the tolerance */
    PARUS_AREA_EXCESS          /* planted above declared by more than the tolerance */
} parus_area_check;

/* The check of planted_m2 against declared_m2 with a relative tolerance (0.1 = 10 % of the
 * declared area; 0 <= tolerance <= 10^6). */
PARUS_API parus_area_check parus_area_compare(double planted_m2, double declared_m2,
                                              double tolerance);

/* The check of the interval [planted_lo_m2, planted_hi_m2] (0 <= lo <= hi) against declared_m2:
 * SHORTFALL when hi is below declared by more than the tolerance, EXCESS when lo is above it by
 * more, else OK; UNKNOWN when lo > hi or either is not a finite value >= 0. */
PARUS_API parus_area_check parus_area_compare_interval(double planted_lo_m2, double planted_hi_m2,
                                                       double declared_m2, double tolerance);

/* True for SHORTFALL and EXCESS. */
PARUS_API int parus_area_is_mismatch(parus_area_check c);

/* "undeclared", "unknown", "ok", "shortfall", "excess" (the store's area_check column). */
PARUS_API const char *parus_area_check_name(parus_area_check c);

#endif

/*
 * indices_int.h - the index formulas for one pixel, shared by the span kernels (indices.c) and the
 * kernel's per-cell path (kernel.c), so the rule of include/parus/indices.h is written once.
 */
#ifndef PARUS_INDICES_INT_H
#define PARUS_INDICES_INT_H

#include <math.h>

/* (a - b) / (a + b); NaN for a NaN or infinite input or a denominator that is not > 0 */
static inline float parus__nd(float a, float b)
{
    double x = (double)a, y = (double)b;
    double den = x + y;
    /* den > 0 is false for NaN; an infinite input makes den infinite or NaN */
    return den > 0.0 && isfinite(den) ? (float)((x - y) / den) : NAN;
}

static inline float parus__evi(float nir, float red, float blue)
{
    double r = (double)red, v = (double)nir, bl = (double)blue;
    double den = v + 6.0 * r - 7.5 * bl + 1.0;
    double num = 2.5 * (v - r);
    return den > 0.0 && isfinite(den) && isfinite(num) ? (float)(num / den) : NAN;
}

#endif

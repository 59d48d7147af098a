/*
 * money_int.h - exact integer arithmetic for money (yield value, credit limits): checked int64
 * addition and subtraction, floor(a x b / d) through an exact 128-bit intermediate, and the one
 * place where a double from a table or a policy becomes an integer.
 *
 * Money in parus is integer fen (1 yuan = 100 fen) or yuan in int64_t. A product such as
 * yield x area x price can exceed 2^63 before its division brings it back, so every
 * multiply-then-divide goes through mul_div_floor, which forms the full 128-bit product from 32-bit
 * halves (portable C11: no __int128) and divides it by shift and subtract. The result is the exact
 * floor on every machine, and an overflow of the final result is reported, never wrapped.
 * Header-only (static inline) so each module that handles money carries its own copy.
 */
#ifndef PARUS_MONEY_INT_H
#define PARUS_MONEY_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* a + b into *out; false (and *out untouched) on overflow. */
static inline bool parus__add_i64(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return false;
    *out = a + b;
    return true;
}

/* The 128-bit product a x b as (hi, lo). */
static inline void parus__mul_u64_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (p00 & 0xffffffffu) | (mid << 32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* floor(a x b / d) for a, b >= 0 and d > 0, exact; the remainder in *rem when rem is not NULL.
 * false (outputs untouched) when an argument is out of range or the quotient exceeds INT64_MAX. */
static inline bool parus__mul_div_floor(int64_t a, int64_t b, int64_t d, int64_t *out, int64_t *rem)
{
    uint64_t hi, lo, r, q = 0;
    int i;
    if (a < 0 || b < 0 || d <= 0)
        return false;
    parus__mul_u64_wide((uint64_t)a, (uint64_t)b, &hi, &lo);
    if (hi >= (uint64_t)d)
        return false; /* the quotient needs more than 64 bits */
    r = hi;
    for (i = 63; i >= 0; i--) {
        uint64_t top = r >> 63;
        r = (r << 1) | ((lo >> i) & 1u);
        /* with top set the true remainder is r + 2^64 >= d; the modular subtraction is exact */
        if (top || r >= (uint64_t)d) {
            r -= (uint64_t)d;
            q |= (uint64_t)1 << i;
        }
    }
    if (q > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)q;
    if (rem)
        *rem = (int64_t)r;
    return true;
}

/* floor(x) as int64_t when x is finite and |x| < 2^62; false otherwise. */
static inline bool parus__floor_i64(double x, int64_t *out)
{
    if (!(x > -4611686018427387904.0 && x < 4611686018427387904.0))
        return false;
    *out = (int64_t)floor(x);
    return true;
}

/* A ratio in [0, 1] (a policy's loan-to-value or haircut, a tolerance) as whole parts per million,
 * rounded to the nearest (half up): a ratio written with at most six decimals is taken exactly,
 * 0.6 -> 600000 although 0.6 x 1e6 is not exactly 600000 in binary. false when x is not in
 * [0, 1]. */
static inline bool parus__ratio_ppm(double x, int64_t *out)
{
    if (!(x >= 0.0 && x <= 1.0))
        return false;
    *out = (int64_t)floor(x * 1e6 + 0.5);
    return true;
}

/* The same, rounded in the lender's favour when the ratio has more than six decimals: down for a
 * share that is lent (loan-to-value) or a tolerance, up for a haircut. A ratio written with at
 * most six decimals converts exactly either way (the 1e-6 ppm slack absorbs the binary error of
 * x * 1e6, below 1e-9 ppm for x <= 1). */
static inline bool parus__ratio_ppm_down(double x, int64_t *out)
{
    if (!(x >= 0.0 && x <= 1.0))
        return false;
    *out = (int64_t)floor(x * 1e6 + 1e-6);
    return true;
}

static inline bool parus__ratio_ppm_up(double x, int64_t *out)
{
    if (!(x >= 0.0 && x <= 1.0))
        return false;
    *out = (int64_t)ceil(x * 1e6 - 1e-6);
    return true;
}

#endif

/*
 * parus/series.h - one parcel's season: from raw observations to a clean regular series and its
 * phenology (start, peak and end of season, amplitude, integral, number of growth cycles).
 *
 * Input: a parcel's observations as three parallel arrays, in any order: the acquisition day as a
 * day number (days since 1970-01-01, proleptic Gregorian: parus_series_parse_day turns
 * "YYYY-MM-DD" into one), the value (NDVI mean, or any index) and the observation's weight (its
 * valid fraction, 0..1). The season is a window of day numbers [start_day, end_day], both
 * included, cut into steps of step_days from start_day: step i covers
 * [start_day + i step_days, start_day + (i + 1) step_days), the last one ends at end_day, and
 * n_steps = (end_day - start_day) / step_days + 1. A step's date is its centre,
 * start_day + i step_days + (step_days - 1) / 2.
 *
 * The steps, each a pure function below, in the order parus_series_run applies them:
 *   1. filter: an observation counts when its value is finite and its weight (valid fraction) is
 *      at least min_valid_fraction (0.6 by default); the rest is dropped.
 *   2. composite: per step, the maximum of the values that count (the default: maximum-value
 *      compositing, Holben 1986, because residual cloud, haze and shadow only ever lower NDVI, so
 *      the highest clear-enough value is the least contaminated), or their mean weighted by the
 *      valid fraction. A step with no value is a gap (NaN).
 *   3. fill gaps: a run of at most max_gap_steps gaps with values on both sides is interpolated
 *      linearly between them and flagged INTERPOLATED; longer runs, and runs at either end of the
 *      season, stay NaN and are flagged MISSING.
 *   4. smooth: the Whittaker smoother (Eilers 2003, Anal. Chem. 75:3631) with second-order
 *      differences: z minimises sum w_i (y_i - z_i)^2 + lambda sum (z_i - 2 z_{i+1} + z_{i+2})^2,
 *      i.e. (W + lambda D'D) z = W y, a symmetric positive definite pentadiagonal system solved by
 *      a banded LDL' factorisation in O(n). Weights: 1 for an observed step, interpolated_weight
 *      for an interpolated one, 0 for a missing one (whose smoothed value is then set back to NaN:
 *      a long gap is never filled with a made-up curve).
 *   5. phenology on the smoothed curve (parus_series_phenology says exactly how).
 *
 * Threads: no global state; every function is reentrant. A parus_series holds its own buffers:
 * use one per thread and reuse it across parcels (parus_series_run allocates only when the
 * season has more steps than the buffers hold, so a batch of equal seasons allocates once).
 */
#ifndef PARUS_SERIES_H
#define PARUS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a step of the regular series rests on. */
typedef enum parus_series_flag {
    PARUS_SERIES_MISSING = 0,      /* no value: a gap longer than max_gap_steps or at an end */
    PARUS_SERIES_OBSERVED = 1,     /* at least one observation counted in the step */
    PARUS_SERIES_INTERPOLATED = 2, /* filled linearly across a short gap */
} parus_series_flag;

typedef enum parus_series_method {
    PARUS_SERIES_COMPOSITE_MAX = 0, /* maximum value (Holben 1986): the default */
    PARUS_SERIES_COMPOSITE_MEAN,    /* mean weighted by the valid fraction */
} parus_series_method;

typedef struct parus_series_options {
    double min_valid_fraction;      /* filter: 0.6 */
    size_t step_days;               /* composite step: 10 */
    parus_series_method composite;  /* MAX */
    size_t max_gap_steps;           /* longest gap interpolated, in steps: 3 */
    double lambda;                  /* Whittaker smoothing parameter (>= 0): 2 */
    double interpolated_weight;     /* Whittaker weight of an interpolated step: 0.5 */
    size_t min_observed_steps;      /* fewer observed steps: E_RANGE, no metrics: 6 */
    double sos_fraction;            /* start of a cycle: this fraction of its rise: 0.2 */
    double eos_fraction;            /* end of a cycle: this fraction of its fall: 0.2 */
    double min_prominence;          /* a cycle's peak stands this far above its bases: 0.1 */
    double min_prominence_fraction; /* ... and this fraction of the season's amplitude: 0.25 */
} parus_series_options;

/* The defaults above. */
PARUS_API void parus_series_options_init(parus_series_options *opt);

#define PARUS_SERIES_MAX_CYCLES 4

/* One growth cycle: a peak of the smoothed curve that stands out (see parus_series_phenology).
 * Days are day numbers (days since 1970-01-01), fractional where a date is interpolated between
 * step centres. */
typedef struct parus_series_cycle {
    double start_day, peak_day, end_day;
    double peak_value;
    double base_left, base_right; /* the curve's minimum before and after the peak */
    double prominence;            /* peak_value - max(left, right) topographic base */
} parus_series_cycle;

typedef struct parus_phenology {
    size_t n_cycles; /* cycles found; the first PARUS_SERIES_MAX_CYCLES are in cycle[] */
    parus_series_cycle cycle[PARUS_SERIES_MAX_CYCLES];
    /* Season: start of the first cycle, end of the last, peak of the highest (NaN, doy 0, when
     * n_cycles is 0). */
    double start_day, peak_day, end_day, length_days;
    int start_doy, peak_doy, end_doy; /* day of year 1..366 of the same dates, 0 when none */
    double base;                      /* minimum of the smoothed curve over the season */
    double peak_value;                /* maximum of the smoothed curve over the season */
    double amplitude;                 /* peak_value - base */
    /* Sum over the season's non-missing steps of value x step_days / 10 (value x time in units
     * of 10 days, as the crop table's yield model), and of (value - base) x step_days / 10. */
    double integral_10d, integral_above_base_10d;
} parus_phenology;

/* A season's regular series and phenology. Fields are read-only to callers; arrays hold n_steps
 * values and stay valid until the next parus_series_run on the same object or its release. */
typedef struct parus_series {
    int64_t start_day;
    size_t step_days, n_steps;
    double *composite;   /* step 2's composite: NaN in gaps */
    double *value;       /* gap-filled and smoothed; NaN at missing steps */
    unsigned char *flag; /* parus_series_flag per step */
    size_t n_obs_used;   /* observations that passed the filter and fell in the season */
    size_t n_observed, n_interpolated, n_missing; /* steps by flag */
    parus_phenology pheno;
    /* private: one buffer for everything, reused across calls */
    void *buf_;
    size_t cap_steps_;
} parus_series;

PARUS_API void parus_series_init(parus_series *s);
PARUS_API void parus_series_release(parus_series *s);

/* The whole chain (steps 1-5) for one parcel and season; on success *s holds the result. day,
 * value and weight hold n_obs observations (any order; weight may be NULL: all 1). Observations
 * outside [start_day, end_day] are ignored. Errors: E_INVALID (end_day < start_day, step_days 0,
 * a negative or non-finite lambda, a NULL array with n_obs > 0), E_RANGE (a season shorter than 4
 * steps, or fewer than min_observed_steps observed steps: no metrics are made up; s->n_observed
 * and the flags still say what was seen), E_NOMEM. */
PARUS_API parus_status parus_series_run(parus_series *s, const parus_series_options *opt,
                                        const int64_t *day, const double *value,
                                        const double *weight, size_t n_obs, int64_t start_day,
                                        int64_t end_day, parus_error *err);

/* ---- the steps, as pure functions over arrays ---- */

/* Step 1: compact the observations that count (finite value, weight >= min_valid_fraction; weight
 * NULL: all count when finite) to the front of the arrays, keeping their order; returns how many.
 * parus_series_run applies the same rule without moving its (const) input. */
PARUS_API size_t parus_series_filter(int64_t *day, double *value, double *weight, size_t n_obs,
                                     double min_valid_fraction);

/* Step 2: composite the observations that count (the filter's rule) into n_steps steps of
 * step_days from start_day; out[i] is NaN for a step with none. Returns the number of
 * observations used (in the window and counting). A MEAN composite of observations whose
 * weights are all 0 is their plain mean. */
PARUS_API size_t parus_series_composite(const int64_t *day, const double *value,
                                        const double *weight, size_t n_obs,
                                        double min_valid_fraction, int64_t start_day,
                                        size_t step_days, size_t n_steps,
                                        parus_series_method method, double *out);

/* Step 3: fill gaps (NaN) in value[n] in place: runs of at most max_gap_steps NaN between two
 * finite values are interpolated linearly, the rest stays NaN. flag[i] is set for every step.
 * Returns the number of interpolated steps. */
PARUS_API size_t parus_series_fill_gaps(double *value, unsigned char *flag, size_t n,
                                        size_t max_gap_steps);

/* Step 4: Whittaker smoother, second-order differences: solve (W + lambda D'D) z = W y for z[n]
 * (y and w: n values; y[i] is not read where w[i] is 0, so it may be NaN there). work holds 3 n
 * doubles. z may alias y. Errors (nothing written to z on error): E_INVALID (negative or
 * non-finite lambda or weight, NaN y with a positive weight, n < 3), E_RANGE (the system is
 * singular: fewer than two steps with positive weight, or all weight on one step). lambda 0
 * returns y wherever w > 0. A straight line is returned unchanged for any lambda. */
PARUS_API parus_status parus_whittaker_smooth(const double *y, const double *w, size_t n,
                                              double lambda, double *z, double *work,
                                              parus_error *err);

/* Step 5: phenology of a smoothed curve z[n] (NaN = missing step) whose step i is dated
 * start_day + i step_days + (step_days - 1) / 2.
 *   - base and peak_value: the minimum and maximum of the finite steps; amplitude = their
 *     difference.
 *   - a candidate peak is a step higher than its left neighbour and not lower than its right
 *     one, both finite (so a peak at the season's edge, or next to a missing stretch, whose rise
 *     or fall is not seen, is not a cycle). Its prominence is the topographic one: walk left and
 *     right until a higher step, a missing step or the edge; the peak minus the higher of the two
 *     minima met.
 *   - a cycle is a candidate whose prominence is at least min_prominence and at least
 *     min_prominence_fraction x amplitude. Double cropping (wheat then maize) shows as two.
 *   - each cycle's bases: the minimum between it and the neighbouring cycle (or the edge, or a
 *     missing step) on each side; its start is where the curve, going left from the peak, falls
 *     below base_left + sos_fraction (peak - base_left), its end where it falls below base_right
 *     + eos_fraction (peak - base_right) going right, both interpolated linearly between step
 *     centres.
 *   - the season's start and end are the first cycle's start and the last cycle's end, its peak
 *     the highest cycle's peak, length = end - start.
 * E_RANGE when no step is finite. */
PARUS_API parus_status parus_series_phenology(const double *z, size_t n, int64_t start_day,
                                              size_t step_days, const parus_series_options *opt,
                                              parus_phenology *out, parus_error *err);

/* Day number (days since 1970-01-01) of a date "YYYY-MM-DD" (or "YYYYMMDD"); E_INVALID for
 * anything that is not a real date. */
PARUS_API parus_status parus_series_parse_day(const char *date, int64_t *day, parus_error *err);
/* Day of year (1..366) of a day number. */
PARUS_API int parus_series_day_of_year(int64_t day);

#ifdef __cplusplus
}
#endif
#endif

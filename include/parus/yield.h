/*
 * parus/yield.h - a parcel's yield and output value for the season, expected and conservative.
 *
 * From the parcel's crop (its row of the crop table), its season metrics (the phenology's
 * integrated NDVI per 10 days and peak NDVI, parus/series.h), its planted area and the number of
 * clear observations behind the series:
 *
 *   model        = yield_a_kg_per_mu + yield_b_kg_per_mu_per_ndvi x integral_10d
 *                  + yield_c_kg_per_mu_per_ndvi_peak x peak_ndvi   (c is 0 unless calibrated)
 *                  + yield_d_kg_per_mu_per_rain_deficit x rain_deficit
 *                  + yield_e_kg_per_mu_per_heat_day x heat_days    (d, e: 0 unless calibrated
 *                  with weather; a crop with either and a parcel without the weather it needs:
 *                  NO_WEATHER, the terms left out of the expected yield, the conservative yield
 *                  the crop's minimum; so too for a crop calibrated with weather,
 *                  yield_rain_deficit_max finite; a season beyond its calibrated range:
 *                  BEYOND_CALIBRATION, the conservative yield the crop's minimum)
 *   expected     = model clamped to [yield_min_kg_per_mu, yield_max_kg_per_mu]
 *   spread       = yield_cv x sqrt(1 + evidence_obs / n_clear)   (relative residual s.d.;
 *                  infinite when n_clear is 0) for an assumed yield_cv; for one measured on
 *                  harvests (yield_cv_n_clear > 0, parus calibrate yield) the widening is
 *                  relative to the calibration's typical evidence and never below 1:
 *                  yield_cv x sqrt(max(1, (1 + e / n_clear) / (1 + e / yield_cv_n_clear)))
 *   conservative = expected x (1 - z x spread), clamped to [yield_min_kg_per_mu, expected]
 *                  (z = 1.2816, the standard normal's 90 % quantile: a P10 when the residual is
 *                  normal with s.d. spread x expected)
 *
 * yield_cv is the crop's relative residual standard deviation around its yield model (crop table,
 * optional column, 0.15 when absent: docs/crops.md). The residual grows when evidence is thin: the
 * integral of a season seen on few clear days is itself uncertain, and evidence_obs (8 by default)
 * is the number of clear observations at which that uncertainty is taken to equal the model's own
 * (an assumption, documented in docs/method.md, to be calibrated on harvested fields).
 *
 * No canopy: a parcel whose peak NDVI never rose a quarter of the way from its crop's ndvi_base to
 * its ndvi_peak formed no canopy (the linear model, fitted on planted fields, would still credit
 * bare soil with the intercept and the integral of soil NDVI): its conservative yield is 0 and
 * the flag NO_CANOPY is set. Not applied to noncrop rows or rows whose peak is not above their
 * base.
 *
 * Value = yield x planted area (mu) x price, in integer fen (1 yuan = 100 fen), computed exactly
 * in integers after one conversion of each factor, every one rounded so that the value is never
 * rounded up: yield floored to whole grams per mu, planted area floored to whole square
 * decimetres, the price taken to 0.0001 CNY/kg (a table price with at most four decimals exactly:
 * 2.35 is 23500, not 23499.99...; more decimals are cut off), and the product floored to the fen:
 *   value_fen = floor(yield_g_per_mu x area_dm2 x 15 x price_1e4_cny_per_kg / 10^11)
 * (1 mu = 10000/15 m2 = 10^6/15 dm2). The product is formed in 128 bits; a value above 2^63 fen
 * is E_RANGE. The figures are the same on every machine.
 *
 * Pure: no I/O, no global state; reentrant.
 */
#ifndef PARUS_YIELD_H
#define PARUS_YIELD_H

#include <stddef.h>
#include <stdint.h>

#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The standard normal distribution's 90 % quantile: expected - z s.d. is a P10. */
#define PARUS_YIELD_Z_P10 1.2815515655446004

typedef struct parus_yield_options {
    double z;            /* PARUS_YIELD_Z_P10; >= 0 */
    double evidence_obs; /* 8: clear observations at which the series' own error equals yield_cv */
    double no_canopy_fraction; /* 0.25 of the way from ndvi_base to ndvi_peak; in [0, 1] */
} parus_yield_options;

PARUS_API void parus_yield_options_init(parus_yield_options *opt);

typedef struct parus_yield_input {
    double integral_10d;         /* parus_phenology.integral_10d; finite */
    double peak_ndvi;            /* parus_phenology.peak_value; finite */
    double planted_area_m2;      /* finite, >= 0 */
    size_t n_clear_observations; /* observations that passed the series filter */
    /* the season's weather (parus_yield_weather_terms); NaN: not known. Read only for a crop
     * whose model has the term (yield_d / yield_e not 0) */
    double rain_deficit; /* share of the normal rain missing over the crop's sensitive window */
    double heat_days;    /* days above the crop's heat threshold around its peak */
    /* the parcel's cell holds earlier years' weather but next to none of this season's: its
     * drought, frost and waterlogging were not judged, so nothing vouches for the season's
     * weather (PARUS_YIELD_NO_WEATHER: the conservative yield is the crop's minimum) */
    bool season_weather_absent;
} parus_yield_input;

/* Flags of a yield estimate. */
#define PARUS_YIELD_CLAMPED_LOW 0x1u   /* the model gave less than yield_min_kg_per_mu */
#define PARUS_YIELD_CLAMPED_HIGH 0x2u  /* the model gave more than yield_max_kg_per_mu */
#define PARUS_YIELD_NO_CANOPY 0x4u     /* peak NDVI too low for a crop: conservative yield 0 */
#define PARUS_YIELD_THIN_EVIDENCE 0x8u /* n_clear < evidence_obs: spread widened by over sqrt 2 */
/* the crop's model has weather terms and the parcel's weather is not known: the expected yield
 * leaves the terms out and the conservative one is the crop's minimum (nothing vouches for it) */
#define PARUS_YIELD_NO_WEATHER 0x10u
/* the season's rain deficit or heat days lie beyond those the model was calibrated on (by more
 * than PARUS_YIELD_DEFICIT_MARGIN, PARUS_YIELD_HEAT_MARGIN_DAYS): the model would extrapolate, so
 * the conservative yield is the crop's minimum */
#define PARUS_YIELD_BEYOND_CALIBRATION 0x20u
#define PARUS_YIELD_DEFICIT_MARGIN 0.1
#define PARUS_YIELD_HEAT_MARGIN_DAYS 2.0

typedef struct parus_yield {
    double model_kg_per_mu;        /* the model above, before the clamp */
    double expected_kg_per_mu;     /* clamped */
    double conservative_kg_per_mu; /* the P10; <= expected */
    double spread;                 /* relative residual s.d. used (INFINITY when n_clear is 0) */
    double planted_area_mu;
    int64_t expected_value_fen;     /* expected yield x area x price, floored */
    int64_t conservative_value_fen; /* conservative yield x area x price, floored */
    unsigned flags;                 /* PARUS_YIELD_* */
} parus_yield;

/* The estimate for one parcel; *out written only on success. opt NULL: the defaults. Errors:
 * E_INVALID (a NULL argument, a non-finite integral or peak, a negative or non-finite area, bad
 * options, a crop whose yield bounds or yield_cv are out of order: the crop table refuses those),
 * E_RANGE (a value above 2^63 fen). */
PARUS_API parus_status parus_yield_estimate(const parus_crop *crop, const parus_yield_options *opt,
                                            const parus_yield_input *in, parus_yield *out,
                                            parus_error *err);

/* yield (kg/mu) x area (m2) x price (CNY/kg) in whole fen, by the exact rule above (each factor
 * converted once, never rounded up). E_INVALID for a negative or non-finite factor, E_RANGE for a
 * result above 2^63 fen or a factor too large to convert. */
PARUS_API parus_status parus_yield_value_fen(double yield_kg_per_mu, double area_m2,
                                             double price_cny_per_kg, int64_t *value_fen,
                                             parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

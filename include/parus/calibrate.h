/*
 * parus/calibrate.h - yields calibrated on harvests: read a bank's harvest records, fit each
 * crop's yield model (parus/yield.h) to them by cross-validation grouped by place, and measure
 * the spread its conservative (P10) yield uses instead of an assumed one.
 *
 * The yield model is a + b x integral_10d + c x peak_ndvi (+ d x rain_deficit + e x heat_days
 * where every harvest of the crop has its weather), clamped to the crop's bounds. A crop
 * is calibrated from its harvests (parcels with a harvested yield above zero: a lost crop says
 * nothing of the canopy-yield line; parus's loss flags answer for it): the coefficients by least
 * squares on all of them; the error (RMSE, bias, R^2) and the spread from out-of-fold
 * predictions, each fold a set of places (a grid of the parcels' centres), so that a field is
 * never predicted by a model that saw its neighbours. The spread is the one whose P10 is the
 * measured one: yield_cv = -q10 / z, q10 the 10 % quantile of the out-of-fold relative residuals
 * (harvested / predicted - 1), z = PARUS_YIELD_Z_P10; it holds at the calibration's median
 * number of clear observations (yield_cv_n_clear). docs/method.md ("Calibration on harvests").
 *
 * Pure except parus_harvests_load (reads a file); reentrant.
 */
#ifndef PARUS_CALIBRATE_H
#define PARUS_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One harvest record. */
typedef struct parus_harvest {
    char *parcel_id;
    char season[22];        /* canonical "YYYY-MM-DD/YYYY-MM-DD" */
    char crop[32];          /* "" when the file has no crop column (or the cell is empty) */
    double yield_kg_per_mu; /* from a yield column, converted; NaN when the file gives harvest_kg */
    double harvest_kg;      /* NaN when the file gives a yield */
    double area_m2;         /* from an area column, converted; NaN when none */
    size_t line;            /* the record's physical line in the file */
} parus_harvest;

typedef struct parus_harvest_set {
    parus_harvest *harvests;
    size_t n;
    char yield_column[32]; /* the column the yields came from ("yield_kg_per_mu", "harvest_kg") */
} parus_harvest_set;

/* Read a harvests CSV (docs/formats.md, "Harvests"): columns parcel_id and season, one quantity
 * named with its unit (yield_kg_per_mu, yield_kg_per_ha, yield_t_per_ha, or harvest_kg with an
 * optional area_mu, area_m2, area_ha or planted_area_m2), an optional crop; other columns are
 * ignored. Refused whole (E_FORMAT naming the file, the line and the column; E_IO when it cannot
 * be read): no quantity column or a bare "yield" with no unit, two yield columns, an empty or
 * over-long parcel id, a season that is not canonical, a quantity that is not a number, negative,
 * or above 20,000 kg/mu (no field crop yields that), the same parcel and season twice.
 * *out owns everything on success (parus_harvest_set_release). */
PARUS_API parus_status parus_harvests_load(const char *path, parus_harvest_set *out,
                                           parus_error *err);
PARUS_API void parus_harvest_set_release(parus_harvest_set *set);

/* One harvested parcel of a crop, with what parus saw of its season. */
typedef struct parus_yield_sample {
    double integral_10d, peak_ndvi; /* parus_parcel_result's ndvi_integral_10d, ndvi_peak */
    size_t n_clear_obs;
    /* the season's weather terms (parus_yield_weather); NaN: not known. A crop is fitted with
     * weather terms only when every one of its samples has both */
    double rain_deficit, heat_days;
    double yield_kg_per_mu; /* harvested, > 0 */
    uint64_t place;         /* the place group (folds never split one) */
} parus_yield_sample;

typedef struct parus_yield_calibrate_options {
    size_t folds;        /* 5: out-of-fold predictions from this many folds of places */
    size_t min_harvests; /* 30: fewer and the crop is not calibrated (E_RANGE, says how many) */
} parus_yield_calibrate_options;

PARUS_API void parus_yield_calibrate_options_init(parus_yield_calibrate_options *opt);

typedef struct parus_yield_calibration {
    size_t n_harvests, n_places;
    /* the fitted model (on every harvest) */
    double a_kg_per_mu, b_kg_per_mu_per_ndvi, c_kg_per_mu_per_ndvi_peak;
    double d_kg_per_mu_per_rain_deficit, e_kg_per_mu_per_heat_day; /* 0 without weather */
    bool weather; /* fitted with the weather terms (a term that never varied stays 0) */
    /* the largest rain deficit and heat days among the harvests (NaN without weather): the
     * range the model knows (parus/yield.h's BEYOND_CALIBRATION) */
    double rain_deficit_max, heat_days_max;
    double yield_cv;       /* measured: -q10_rel / z, in [0.005, 1] */
    double n_clear_median; /* yield_cv_n_clear */
    double mean_kg_per_mu; /* mean harvested yield */
    /* out of fold */
    double rmse_kg_per_mu, bias_kg_per_mu; /* bias = mean(predicted - harvested) */
    double r2;                             /* 1 - SS_res / SS_tot */
    double rel_sd;                         /* s.d. of harvested / predicted - 1 */
    double q10_rel;                        /* its 10 % quantile */
} parus_yield_calibration;

/* Calibrate crop from n samples (crop gives the bounds of the clamp). E_RANGE when n is below
 * opt->min_harvests or the samples lie in fewer places than folds (the message says how many it
 * has and needs); E_INVALID for a sample that is not finite or a yield <= 0; E_NOMEM.
 * opt may be NULL (defaults). Results do not depend on the samples' order. */
PARUS_API parus_status parus_yield_calibrate(const parus_crop *crop, const parus_yield_sample *s,
                                             size_t n, const parus_yield_calibrate_options *opt,
                                             parus_yield_calibration *out, parus_error *err);

/* The crop with its calibration applied: a, b, c, d, e, yield_cv, yield_cv_n_clear,
 * yield_n_harvests. */
PARUS_API void parus_yield_calibration_apply(const parus_yield_calibration *cal, parus_crop *crop);

/* Write a crop table (every column parus_crop_table_load reads, in its order; loading it gives
 * the same table, numbers to 10 significant digits) to path, beside it and renamed into place
 * (parus/outfile.h): the target holds its old bytes or the whole table. E_IO, E_NOMEM. */
PARUS_API parus_status parus_crop_table_write(const parus_crop_table *table, const char *path,
                                              parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

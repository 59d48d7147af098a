/*
 * parus/season.h - a parcel's observations of a season turned into classifier features, the
 * calendar-matching fallback for when there is no trained model, and the season's description
 * kept in a model file so that classification rebuilds exactly the features a model was trained
 * on.
 *
 * A season is a window of day numbers (days since 1970-01-01, parus/series.h) [start_day,
 * start_day + length_days), cut into n_steps = ceil(length_days / step_days) steps from
 * start_day (the last one may be shorter). A parcel has observations in it, each a day, a valid
 * fraction and one value per variable of the season spec (an index mean, a band mean, or any
 * value an imported series carries). The spec is fixed per model; start_day is a parameter of
 * every call, so imported samples with their own start dates are featured by the same spec.
 *
 * Features, in this order (parus_season_feature_name gives the names):
 *   for each variable v, in the spec's order:
 *     <v>_s00 .. <v>_sNN   the regular series: step composite, short gaps filled, Whittaker
 *                          smoothed; NaN at a missing step (parus/series.h, steps 1-4);
 *     <v>_mean, <v>_std, <v>_min, <v>_max   over the finite steps of that series (population
 *                          std); <v>_argmax  the step index of its maximum; NaN when none;
 *   phenology of the phenology variable p (parus_series_phenology on p's regular series):
 *     <p>_pheno_n_cycles, _peak (peak value), _base, _amplitude, _integral (integral_10d),
 *     _start, _peak_day, _end, _length   (days from the season's start_day, fractional);
 *     all NaN when p has fewer than PARUS_SEASON_MIN_PHENO_STEPS observed steps; the dates NaN
 *     (n_cycles 0) when no growth cycle stands out;
 *   n_clear_obs            the number of clear observations in the season.
 * The names of the phenology block match those parus_dataset_read_csv derives for a wide CSV.
 *
 * Compositing per variable: the maximum for "ndvi" and "evi" (maximum-value compositing, Holben
 * 1986: residual cloud, haze and shadow only lower a vegetation index, so the highest clear-enough
 * value is the least contaminated), the mean weighted by the valid fraction for every other
 * variable (band reflectances and the water and moisture indices, which cloud and haze push up or
 * down depending on the surface: a maximum would pick the contaminated value as often as the clean
 * one).
 *
 * A clear observation lies in the window, has a valid fraction >= min_valid_fraction and at least
 * one finite variable. A variable's series uses the clear observations where it is finite.
 *
 * Threads: no global state. A parus_season_work holds one thread's buffers: use one per thread,
 * reuse it across parcels (it grows only when a parcel has more observations or a season more
 * steps than before). Results do not depend on the order of the observations (they are sorted
 * first) nor on the thread that computes them.
 */
#ifndef PARUS_SEASON_H
#define PARUS_SEASON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/classify.h"
#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"
#include "parus/zonal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARUS_SEASON_MAX_VARS 24
#define PARUS_SEASON_VAR_NAME_MAX 32   /* bytes, with the terminating NUL */
#define PARUS_SEASON_WINDOW_TEXT 22    /* "YYYY-MM-DD/YYYY-MM-DD" and its NUL */
#define PARUS_SEASON_N_SUMMARIES 5     /* mean, std, min, max, argmax */
#define PARUS_SEASON_N_PHENO 9         /* the phenology block */
#define PARUS_SEASON_MIN_PHENO_STEPS 6 /* observed steps the phenology needs */
/* The version of the feature definition recorded in a model ("season_features"): raised whenever
 * a feature is computed differently, so an old model is refused rather than fed other numbers. */
#define PARUS_SEASON_FEATURES_VERSION 1

typedef struct parus_season_spec {
    int64_t start_day;         /* day number of the season's first day */
    size_t length_days;        /* days in the season */
    size_t step_days;          /* composite step: 10 */
    double min_valid_fraction; /* an observation counts from this valid fraction: 0.6 */
    size_t max_gap_steps;      /* longest gap interpolated, in steps: 3 */
    double lambda;             /* Whittaker smoothing parameter: 2 */
    size_t n_vars;
    /* names: lower-case letters, digits and '_'; unique */
    char vars[PARUS_SEASON_MAX_VARS][PARUS_SEASON_VAR_NAME_MAX];
    /* the variable that gets phenology: "ndvi"; "" for none */
    char phenology_var[PARUS_SEASON_VAR_NAME_MAX];
} parus_season_spec;

/* Defaults: the window 2024-03-01/2024-10-26 (240 days: the North China Plain's summer season
 * plus the winter wheat's spring), 10-day steps, the thresholds above, and the variables the
 * store holds for every observation, coverage-weighted (mixed): the five indices ndvi, evi, ndwi,
 * mndwi, ndmi and the ten spectral band means blue, green, red, re1, re2, re3, nir, nir_narrow,
 * swir1, swir2 (NaN where a sensor lacks the band); phenology on ndvi.
 * parus_season_spec_use_own turns them into the parcel's own (unmixed) values, own_ndvi ...
 * own_swir2, phenology on own_ndvi: what `parus train --season` uses by default. */
PARUS_API void parus_season_spec_init(parus_season_spec *spec);

/* Every index and band variable of spec (and its phenology variable) replaced by the parcel's own
 * (unmixed) value of it, "ndvi" -> "own_ndvi" (parus/zonal.h); other variables stay. What `parus
 * train --season` trains on by default: on the synthetic benchmark the unseen season's accuracy
 * goes from 0.905 with the mixed values to 0.929 (docs/method.md). */
PARUS_API void parus_season_spec_use_own(parus_season_spec *spec);

/* E_INVALID unless the spec is usable: step_days > 0, at least 4 steps, lambda finite and >= 0,
 * min_valid_fraction in [0, 1], 1..PARUS_SEASON_MAX_VARS variables with valid unique names, a
 * phenology variable that is one of them (or ""). The message names the field. */
PARUS_API parus_status parus_season_spec_check(const parus_season_spec *spec, parus_error *err);

/* "YYYY-MM-DD/YYYY-MM-DD" (both days included) into a start day number and a length in days.
 * E_INVALID for anything else, or an end before the start. */
PARUS_API parus_status parus_season_parse_window(const char *text, int64_t *start_day,
                                                 size_t *length_days, parus_error *err);
/* The canonical text of a window, as the store keys seasons: "YYYY-MM-DD/YYYY-MM-DD" (both days
 * included) in buf (at least PARUS_SEASON_WINDOW_TEXT bytes). Years outside 0..9999 are written
 * as they come. Returns buf. */
PARUS_API char *parus_season_window_text(int64_t start_day, size_t length_days, char *buf,
                                         size_t n);

PARUS_API size_t parus_season_n_steps(const parus_season_spec *spec);
PARUS_API size_t parus_season_n_features(const parus_season_spec *spec);
/* The index of the variable with this name, or SIZE_MAX. */
PARUS_API size_t parus_season_var_index(const parus_season_spec *spec, const char *name);
/* Where variable var's regular series starts in the features (its n_steps values follow). */
PARUS_API size_t parus_season_series_offset(const parus_season_spec *spec, size_t var);
/* The name of feature i into buf (truncated to n bytes); false when i is out of range. */
PARUS_API bool parus_season_feature_name(const parus_season_spec *spec, size_t i, char *buf,
                                         size_t n);

/* One observation of a parcel. value[k] is the spec's variable k; NaN where there is none. */
typedef struct parus_season_obs {
    int64_t day;           /* day number */
    double valid_fraction; /* 0..1; NaN counts as not clear */
    double value[PARUS_SEASON_MAX_VARS];
} parus_season_obs;

/* A stored observation as the spec's variables: an index name ("ndvi", ...) takes the index's
 * mean, a band role name ("red", "nir", ...) the band's mean reflectance, "ndvi_p10", "ndvi_p50",
 * "ndvi_p90" the NDVI percentiles (maximum-composited like NDVI), "veg_fraction" and
 * "water_fraction" the shares of the valid area; "own_" before an index or band name the parcel's
 * own (unmixed) value of it (parus/zonal.h), or its mixed value where the observation has no own
 * value (stored before store schema 6); any other variable is NaN. */
PARUS_API void parus_season_obs_from_observation(const parus_season_spec *spec, int64_t day,
                                                 const parus_observation *o, parus_season_obs *out);

/* The same mapping resolved once for a spec, for callers that convert many observations (the
 * name comparisons then happen once per spec, not once per observation and variable). A
 * parus_season_sources stays valid while its spec's variables do not change. */
typedef struct parus_season_sources {
    size_t n_vars;
    unsigned char kind[PARUS_SEASON_MAX_VARS];  /* private */
    unsigned char index[PARUS_SEASON_MAX_VARS]; /* private */
} parus_season_sources;

PARUS_API void parus_season_sources_init(const parus_season_spec *spec, parus_season_sources *src);
/* True when a stored observation gives the variable a value (the names above, own_ included). */
PARUS_API bool parus_season_var_known(const char *name);
PARUS_API void parus_season_obs_from_sources(const parus_season_sources *src, int64_t day,
                                             const parus_observation *o, parus_season_obs *out);

/* What a parcel's season rested on. */
typedef struct parus_season_info {
    size_t n_obs_used; /* clear observations in the window */
    size_t n_steps;
    size_t n_observed;     /* steps of the phenology variable (or the first) with a value */
    size_t n_interpolated; /* ... filled across a short gap */
    size_t n_missing;      /* ... without a value */
    bool phenology;        /* the phenology block was computed (enough observed steps) */
    size_t n_cycles;       /* growth cycles found (0 when !phenology) */
} parus_season_info;

/* One thread's buffers; init before first use, release at the end. */
typedef struct parus_season_work {
    void *buf_;
    size_t cap_bytes_;
} parus_season_work;

PARUS_API void parus_season_work_init(parus_season_work *work);
PARUS_API void parus_season_work_release(parus_season_work *work);

/* The features of one parcel's season starting at start_day (the spec's length, step, variables
 * and thresholds) into features[parus_season_n_features(spec)] and *info; both written only on
 * success. obs: n_obs observations in any order (those outside the window are ignored). Errors:
 * E_INVALID (a spec that parus_season_spec_check refuses, a NULL array with n_obs > 0),
 * E_RANGE (no clear observation in the season: the message begins "no clear observation";
 * nothing is made up), E_NOMEM. */
PARUS_API parus_status parus_season_features(const parus_season_spec *spec, int64_t start_day,
                                             const parus_season_obs *obs, size_t n_obs,
                                             double *features, parus_season_info *info,
                                             parus_season_work *work, parus_error *err);

/* The number of clear observations among obs[0..n_obs) (in day order) for a season starting at
 * start_day (the rule of parus_season_features' n_obs_used), a day counted once: two tiles of one
 * pass that overlap (neighbouring grid tiles, delivered apart) see the parcel once, not twice. To
 * count one sensor family's apart: the evidence a limit needs (min_clear_observations). */
PARUS_API size_t parus_season_count_clear(const parus_season_spec *spec, int64_t start_day,
                                          const parus_season_obs *obs, size_t n_obs);

/* ---- radar (Sentinel-1) ---- */

/* The radar variables (docs/method.md, section 6): "s1_vv" and "s1_vh", the parcel's mean
 * backscatter in linear power; "s1_vh_vv" their ratio; "s1_rvi" 4 vh / (vv + vh); "s1_water"
 * the share of the parcel's valid radar area below PARUS_RADAR_WATER_VV_DB. They take values
 * from radar observations only (parus_season_radar_obs); an optical observation gives them NaN,
 * a radar observation gives every optical variable NaN. Composited as the band means are: the
 * mean of a step's observations weighted by their valid fraction, in linear power. */
#define PARUS_SEASON_N_RADAR_VARS 5
/* A pass (relative orbit) with fewer observations of VV than this in the window is not scaled to
 * the reference pass and is left out. */
#define PARUS_SEASON_RADAR_MIN_TRACK_OBS 3

/* True when the spec has a radar variable: its callers then pass radar observations too. */
PARUS_API bool parus_season_spec_has_radar(const parus_season_spec *spec);
/* Append the radar variables the spec lacks, in the order above. E_INVALID when they do not fit
 * in PARUS_SEASON_MAX_VARS (the spec is then partly extended: start again from a copy). */
PARUS_API parus_status parus_season_spec_add_radar(parus_season_spec *spec, parus_error *err);

/* A radar observation's pass as one key: its geometry (the relative orbit where known, 1..175,
 * else its direction) and its backscatter coefficient (sigma0, gamma0 and beta0 of one orbit
 * differ by the incidence angle's cosine: about 1 dB, a change no crop made). Observations of two
 * keys are never pooled as they come. Keys of sigma0 order as their geometry does: -12 unknown
 * direction, -8 descending, -4 ascending, 4 x the relative orbit. */
PARUS_API int parus_season_radar_pass(const parus_radar_point *pt);

/* A parcel's radar observations pts[0..n) (its walk's, any pass) as season observations, into
 * out[0..*n_out) (room for n). Passes are never pooled as they come: each pass (relative orbit,
 * else orbit direction, and coefficient: parus_season_radar_pass) is scaled to the reference pass,
 * the one with the most VV values in pts (ties: the smaller relative orbit), by the ratio of the
 * medians of its and the reference's VV (and VH) over the parcel's observations given: the
 * incidence angle of a pass at a place is fixed, so its difference to the other pass is one factor
 * per surface (docs/method.md, section 6). A pass with fewer than PARUS_SEASON_RADAR_MIN_TRACK_OBS
 * VV values, other than the reference, is left out. s1_vh_vv and s1_rvi are computed from the
 * scaled means; s1_water is not scaled. Give pts of the season's window only: the medians are over
 * what is given. work lends scratch memory. E_INVALID for a malformed date, E_NOMEM. */
PARUS_API parus_status parus_season_radar_obs(const parus_season_sources *src,
                                              const parus_radar_point *pts, size_t n,
                                              parus_season_obs *out, size_t *n_out,
                                              parus_season_work *work, parus_error *err);

/* ---- calendar fallback ---- */

/* The nearest crop calendar to a parcel's NDVI series. */
typedef struct parus_calendar_match {
    size_t best, second;           /* indices into the crop table */
    double rmse_best, rmse_second; /* NDVI root-mean-square distance over the steps used */
    double margin;                 /* rmse_second - rmse_best (>= 0) */
    /* exp(-rmse_best^2 / (2 s^2)) / sum over the table's crops of the same, s =
     * PARUS_CALENDAR_SCALE_NDVI: a ranking aid that is NOT a model probability (it is not
     * calibrated against any labelled data); a caller reports the match as low confidence. */
    double pseudo_probability;
    size_t n_steps_used;
} parus_calendar_match;

#define PARUS_CALENDAR_MIN_STEPS 6    /* steps with a value the match needs */
#define PARUS_CALENDAR_SCALE_NDVI 0.1 /* the pseudo-probability's distance scale */

/* Match a parcel's regular NDVI series (ndvi_regular: n_steps smoothed values on the spec's
 * steps from start_day, NaN where missing: the <ndvi>_sNN features) against every crop of the
 * table: each crop's expected curve (parus_crop_expected_ndvi) at each step's date (the step's
 * first day + (step_days - 1) / 2, rounded down), RMSE over the steps with a value; the nearest
 * and the second nearest crop (ties to the lower index). Deterministic. Errors: E_INVALID (a
 * table of fewer than two crops, n_steps not the spec's, NULL arguments), E_RANGE (fewer than
 * PARUS_CALENDAR_MIN_STEPS steps with a value). *out written only on success. */
PARUS_API parus_status parus_season_calendar_match(const parus_crop_table *t,
                                                   const parus_season_spec *spec, int64_t start_day,
                                                   const double *ndvi_regular, size_t n_steps,
                                                   parus_calendar_match *out, parus_error *err);

/* ---- the spec in a model file ---- */

/* Record the spec in the model's metadata (parus_model_set_meta): season_features (the feature
 * version), season_window, season_length_days, season_step_days, season_min_valid_fraction,
 * season_max_gap_steps, season_lambda (numbers written so they read back exactly),
 * season_variables (comma-separated), season_phenology_variable. E_INVALID for a spec that
 * parus_season_spec_check refuses; E_NOMEM. */
PARUS_API parus_status parus_season_spec_to_model(const parus_season_spec *spec, parus_model *m,
                                                  parus_error *err);
/* Rebuild the spec a model was trained with, and check that the model's features are exactly
 * that spec's features (names and order). Errors: E_CONFIG (the model has no season metadata: it
 * was not trained on season features; another feature version; a malformed value; features that
 * differ, naming the first difference). *spec written only on success. */
PARUS_API parus_status parus_season_spec_from_model(const parus_model *m, parus_season_spec *spec,
                                                    parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

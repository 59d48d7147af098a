/*
 * parus/health.h - a parcel's condition and events over a season, against its peers and its
 * crop's expected curve, and its planted area.
 *
 * Pure computation over arrays: no file, no SQL, no global state; every function is reentrant
 * and its result does not depend on the thread that runs it (peer percentiles come from sorted
 * values, so they do not depend on the order the parcels are given in either).
 *
 * The chain, per season:
 *   1. parus_health_series_build: a parcel's observations (parus_observation, from the store) ->
 *      a regular series of parallel arrays over the season's steps (NDVI, NDWI, MNDWI, NDMI,
 *      vegetated and water fraction), one observation per step so that the indices of a step
 *      come from one scene, gaps filled as the series module does, NDVI smoothed (Whittaker) and
 *      its phenology (parus_series_phenology).
 *   2. parus_health_peers_build: the series of many parcels of the same crop, area and dates ->
 *      per step the median and the quartiles of every variable (the peer reference).
 *   3. parus_health_assess: one parcel's series + its crop + the peer reference (or, without
 *      enough peers, the crop's expected NDVI curve) -> a condition score and class, and event
 *      flags, each with a date, a size, a confidence and a reason.
 *   4. parus_health_planted_area: the vegetated fraction over the season x the geodesic area ->
 *      planted area in m2 and mu, cross-checked against the declared area.
 * Callers: parus_health_series_build per parcel, parus_health_peers_build per group (the peer
 * series may be the same objects), parus_health_assess and parus_health_planted_area per parcel.
 *
 * Indices (definitions in indices.h, sources in docs/method.md): NDVI (Rouse 1974) for the green
 * canopy, MNDWI (Xu 2006) for open water, NDWI (McFeeters 1996) for water when SWIR is absent,
 * NDMI (the NDWI of Gao 1996) for canopy water content. Observations without green or SWIR bands
 * have NaN there: the flags that need them are then not raised (never guessed).
 *
 * Dates are day numbers (days since 1970-01-01, parus_series_parse_day). An event's date is the
 * acquisition day of the first observation that shows it, so it is exact to the revisit.
 */
#ifndef PARUS_HEALTH_H
#define PARUS_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/series.h"
#include "parus/zonal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- flags ---- */

/* X(NAME, value, code, text). Codes are stable (stored, exported, read by the credit policy):
 * appended, never renumbered. */
#define PARUS_HEALTH_FLAG_MAP(X)                                                                   \
    X(FLOOD, 1, "FLOOD", "water over the parcel in the growing season")                            \
    X(SUDDEN_LOSS, 2, "SUDDEN_LOSS", "ndvi dropped and did not recover while peers stayed stable") \
    X(DROUGHT_STRESS, 3, "DROUGHT_STRESS", "ndmi and ndvi below peers over several steps")         \
    X(NOT_PLANTED, 4, "NOT_PLANTED", "no growth cycle over the season")                            \
    X(LATE_PLANTING, 5, "LATE_PLANTING", "season started later than the crop's calendar or peers") \
    X(AREA_SHORTFALL, 6, "AREA_SHORTFALL", "planted area below the declared area")                 \
    X(AREA_EXCESS, 7, "AREA_EXCESS", "planted area above the declared area")                       \
    X(WATER_OFF_SEASON, 8, "WATER_OFF_SEASON", "standing water outside the growing season")        \
    X(HEAT_STRESS, 9, "HEAT_STRESS", "days above the crop's heat threshold around its peak")       \
    X(FROST, 10, "FROST", "frost in the crop's sensitive window")                                  \
    X(DROUGHT, 11, "DROUGHT",                                                                      \
      "rain far below normal while the crop's canopy was below its typical")                       \
    X(WATERLOGGING, 12, "WATERLOGGING", "a rainstorm beyond the climate's, then the canopy fell")

typedef enum parus_health_flag {
    PARUS_HEALTH_NONE = 0,
#define PARUS_HEALTH_FLAG_ENUM_(name, value, code, text) PARUS_HEALTH_##name = value,
    PARUS_HEALTH_FLAG_MAP(PARUS_HEALTH_FLAG_ENUM_)
#undef PARUS_HEALTH_FLAG_ENUM_
} parus_health_flag;

/* "FLOOD", ... ("NONE" for 0, "UNKNOWN" for a value not in the map). */
PARUS_API const char *parus_health_flag_code(parus_health_flag flag);
/* One line saying what the flag means. */
PARUS_API const char *parus_health_flag_text(parus_health_flag flag);
/* The flag with this code (case-sensitive), or PARUS_HEALTH_NONE. */
PARUS_API parus_health_flag parus_health_flag_from_code(const char *code);

typedef enum parus_health_class {
    PARUS_HEALTH_UNKNOWN = 0, /* no reference to compare with */
    PARUS_HEALTH_GOOD,
    PARUS_HEALTH_FAIR,
    PARUS_HEALTH_POOR,
} parus_health_class;

/* "unknown", "good", "fair", "poor". */
PARUS_API const char *parus_health_class_name(parus_health_class cls);

/* ---- options ---- */

typedef struct parus_health_options {
    /* series (parus_health_series_build) */
    size_t step_days;          /* 10; the revisit, so that a step holds one scene */
    double min_valid_fraction; /* an observation counts from this clear share: 0.6 */
    double haze_blue_rise;     /* residual haze: blue this far above its neighbours: 0.03 */
    size_t max_gap_steps;      /* longest gap interpolated: 3 */
    double lambda;             /* Whittaker smoothing of NDVI: 2 */
    /* take NDVI, NDWI, MNDWI, NDMI and SWIR1 from the observations' own (unmixed) values where
     * they have them (zonal.h), else the coverage-weighted ones: false. The rules' thresholds
     * were set on the mixed values; docs/method.md (section 9) has the figures of both. */
    bool own_values;
    /* peers */
    size_t min_peers; /* fewer parcels with a value at a step: no peer reference there: 5 */
    /* growing season: from season_start_days after the crop's sowing to season_end_days after
     * its harvest, in each cycle, less every cycle's planting weeks (sowing +- season_start_days):
     * 15 and 10 days. Fields are irrigated and paddies flooded around sowing and transplanting,
     * and a crop's sowing dates spread by about ten days either way: water then is the crop's
     * own, not a flood. */
    double season_start_days, season_end_days;
    /* harvest window: [harvest - before, harvest + after] of each cycle: 20 and 40 days */
    double harvest_before_days, harvest_after_days;
    /* condition: score = green ratio clamped to 0..1; GOOD >= good_score, FAIR >= fair_score */
    double good_score; /* 0.85 */
    double fair_score; /* 0.6 */
    /* POOR, when judged against peers covering at least half the steps, also needs the
     * parcel's green ratio to the peers' median (over every step, parus_health_peers) below
     * their lower fence, ratio_p25 - poor_fence_iqr (ratio_p75 - ratio_p25) (Tukey 1977); else
     * FAIR: a group that differs widely within itself does not vouch for a parcel being weak */
    double poor_fence_iqr; /* 1.5 */
    /* FLOOD */
    double flood_mndwi_rise;   /* MNDWI rise over the parcel's dry level: 0.1 */
    double flood_ndwi_rise;    /* the same for NDWI, when MNDWI is NaN (peers needed): 0.2 */
    double flood_min_share;    /* ... and the share under water from SWIR1 at least: 0.25 */
    double flood_water_excess; /* or the water fraction above its usual and the peers': 0.2 */
    double water_swir1;        /* SWIR1 reflectance of open water (linear mixing): 0.015 */
    /* FLOOD from radar (parus_health_radar_floods): the radar water fraction (share of the
     * parcel below PARUS_RADAR_WATER_VV_DB VV) at least radar_flood_min_share, and above the
     * parcel's dry level (its median over the season) and the peers' wet level by
     * radar_flood_rise: 0.3 and 0.25; without peers, or for a paddy crop, water from
     * season_start_days before a cycle's sowing to radar_paddy_days after it is the crop's own
     * (a paddy stays flooded until its canopy closes over the water): 30. Or VV (same pass) at
     * least radar_dip_db below its highest within radar_dip_days before and after, on two dates
     * in a row: 2.5 dB and 36 days (docs/method.md, section 9). */
    double radar_flood_min_share, radar_flood_rise, radar_paddy_days;
    double radar_dip_db, radar_dip_days;
    double radar_flood_vh_db;     /* VH below the median of its pass for the water rule: off (0) */
    double radar_flood_dip_db;    /* ... VV below its pass before and after (radar_dip): 1.5 dB */
    double radar_flood_dip_se;    /* ... and by this many speckle standard errors of VV: 2 */
    double radar_flood_min_looks; /* a date on fewer looks does not vouch for a flood alone: 20 */
    /* ... and one on fewer than this is not judged; between the two, it counts in a run of two
     * or more wet dates whose dips together stand radar_flood_dip_se standard errors clear
     * (speckle does not repeat from date to date): 6 */
    double radar_flood_run_looks;
    /* an optical water event is dropped when radar looked within radar_veto_days of it (on
     * radar_flood_min_looks) and saw less than radar_veto_share of the parcel under water and
     * no VV dip (radar_flood_dip_db) each time, and no wet date within step_days: 3, 0.1
     * (0 days: off) */
    double radar_veto_days, radar_veto_share;
    /* SUDDEN_LOSS from radar (parus_health_radar_losses): the VH anomaly (VH over the peers'
     * median, dB) of the radar_loss_dates usable dates from a date on lies at least
     * radar_loss_vh_db, and radar_loss_se standard errors, below that of the radar_loss_dates
     * before it, all within radar_loss_days: 2 dB, 3, 3 dates, 36 days. A standard error holds
     * each date's speckle (from its looks) or the parcel's own date-to-date scatter, whichever is
     * larger. The dates after must carry radar_loss_min_looks looks in all (10), and the
     * parcel's own VH must fall by radar_loss_own_share of the step (0.25) */
    double radar_loss_vh_db, radar_loss_se, radar_loss_days;
    double radar_loss_min_looks, radar_loss_dates, radar_loss_own_share;
    /* parus assess adds the radar floods (parus_health_radar_floods) to each parcel's events:
     * false by default, `parus assess --radar-floods` turns it on. Against assess's radar peer
     * reference it found more floods on seasons it was not tuned on but lowered the water flags'
     * precision (0.625 -> 0.542 at clouds 0.5, docs/method.md section 9): a false flood costs a
     * farmer credit, so it is not on until real radar floods vouch for it. */
    bool radar_floods;
    /* parus assess adds the radar sudden losses (parus_health_radar_losses): false by default,
     * `parus assess --radar-losses` turns it on (docs/method.md section 9) */
    bool radar_losses;
    /* SUDDEN_LOSS */
    double loss_min_drop;      /* NDVI drop against the reference between observations: 0.15 */
    double loss_min_relative;  /* ... as a share of the parcel's NDVI before: 0.3 */
    double loss_min_fall;      /* ... while its own NDVI changed by at most minus this: 0 */
    double loss_peer_max_drop; /* the reference may fall by less than this, */
    double loss_peer_share;    /* or by less than this share of the parcel's drop: 0.1, 0.5 */
    size_t loss_max_steps;     /* the two observations at most this many steps apart: 3 */
    size_t loss_recover_steps; /* observations looked at after the drop: 2 */
    double loss_recover_share; /* recovered: own NDVI back up by this share of the drop: 0.5 */
    /* a partly sown parcel is judged against its reference scaled to its sown share (its
     * vegetated fraction over the peers' where theirs is at least this): 0.5 */
    double loss_share_peer_veg;
    /* a perennial's own NDVI must fall by at least this share of the drop: 0.5 */
    double loss_perennial_fall_share;
    /* DROUGHT_STRESS */
    size_t drought_min_steps;    /* consecutive steps below peers: 3 */
    double drought_iqr;          /* below the median by this x (p75 - p25) ... : 1 */
    double drought_min_deficit;  /* ... and by at least this: 0.05 */
    double drought_moisture_gap; /* NDMI's shortfall beyond what NDVI's explains: 0.03 */
    double drought_max_veg_gap;  /* vegetated fraction at most this below the peers': 0.15 */
    /* NOT_PLANTED */
    double not_planted_share;     /* peak below base + this x (crop peak - base): 0.35 */
    double not_planted_min_ndvi;  /* peak threshold when the crop is unknown: 0.4 */
    double not_planted_amplitude; /* an annual crop's season needs this amplitude: 0.15 */
    /* LATE_PLANTING */
    double late_tolerance_days; /* start later than the reference by more than this: 30 */
    double late_sow_lag_days;   /* sowing to the detected start, without a curve: 25 */
    /* planted area */
    double area_tolerance; /* |planted - declared| / declared above this: flag: 0.15 */
    /* the planted area's interval: the share's standard error times this either side: 1 */
    double area_z;
    /* a step shows the sown share only at its crop's full canopy: the crop's expected NDVI at
     * least this at the step's day of year and canopy_margin_days either side (sowing jitter):
     * 0.5 and 10 */
    double canopy_ndvi, canopy_margin_days;
} parus_health_options;

/* The defaults above. */
PARUS_API void parus_health_options_init(parus_health_options *opt);

/* ---- 1. the regular series ---- */

typedef enum parus_health_var {
    PARUS_HEALTH_NDVI = 0,
    PARUS_HEALTH_NDWI,
    PARUS_HEALTH_MNDWI,
    PARUS_HEALTH_NDMI,
    PARUS_HEALTH_VEG,   /* vegetated fraction (NDVI >= PARUS_NDVI_VEGETATED), 0..1: the own one
                           (each pixel unmixed first, zonal.h) where the observation has it */
    PARUS_HEALTH_WATER, /* water fraction (NDWI >= PARUS_NDWI_WATER), 0..1 */
    PARUS_HEALTH_SWIR1, /* SWIR1 (1.6 um) reflectance: open water is dark there */
    /* the standard error of VEG from its pixel count (docs/method.md, section 10):
     * sqrt((sqrt(W) + e W) / 12) / W, W the valid weight in pixels, e its edge share; NaN when
     * the observation has no valid weight */
    PARUS_HEALTH_VEG_SE,
    /* the mean NDVI of the pixels VEG counts: the own (unmixed) mean where VEG is the own
     * fraction, else the coverage-weighted one; the open-canopy test of the planted area reads
     * it with VEG (docs/method.md, section 10) */
    PARUS_HEALTH_VEG_NDVI,
    PARUS_HEALTH_N_VARS_
} parus_health_var;

/* A parcel's season as parallel arrays over n_steps steps of step_days from start_day (step i
 * covers [start_day + i step_days, start_day + (i + 1) step_days), as in series.h).
 *   day[i]:   the acquisition day of the observation the step holds; the step's centre for an
 *             interpolated or missing step.
 *   v[var][i]: the variables of that one observation; at an interpolated step (a gap of at most
 *             max_gap_steps, as series.h fills NDVI) every variable is interpolated linearly
 *             between the same two observations; NaN at missing steps, and wherever the
 *             observation had no value (a band the sensor lacks).
 *   flag[i]:  parus_series_flag (OBSERVED, INTERPOLATED, MISSING).
 *   ndvi_smooth[i]: Whittaker-smoothed NDVI (weights 1 observed, 0.5 interpolated, 0 missing;
 *             NaN at missing steps), and pheno its phenology (parus_series_phenology, default
 *             series options; n_cycles 0 when there was too little to smooth).
 * The arrays are owned by the struct (one buffer); a caller may fill them itself after
 * parus_health_series_alloc (then call parus_health_series_finish for ndvi_smooth and pheno). */
typedef struct parus_health_series {
    int64_t start_day;
    size_t step_days, n_steps;
    int64_t *day;
    double *v[PARUS_HEALTH_N_VARS_];
    unsigned char *flag;
    double *ndvi_smooth;
    parus_phenology pheno;
    size_t n_observed; /* steps that hold an observation */
    size_t n_hazy;     /* observations dropped as hazy */
    void *buf_;        /* private */
} parus_health_series;

PARUS_API void parus_health_series_init(parus_health_series *s);
PARUS_API void parus_health_series_release(parus_health_series *s);

/* Size s for n_steps steps (contents: days at step centres, values NaN, flags MISSING).
 * E_INVALID (n_steps < 4, step_days 0), E_NOMEM. */
PARUS_API parus_status parus_health_series_alloc(parus_health_series *s, int64_t start_day,
                                                 size_t step_days, size_t n_steps,
                                                 parus_error *err);

/* Count the observed steps, smooth NDVI and take its phenology from the arrays as they are
 * (after the caller filled them). Never fails: with fewer than 2 steps of positive weight
 * ndvi_smooth is the raw NDVI and pheno has no cycle. */
PARUS_API void parus_health_series_finish(parus_health_series *s, const parus_health_options *opt);

/* Build the series of one parcel over [start_day, end_day] from n_obs observations (day[i] the
 * acquisition day of obs[i], any order). An observation counts when its valid fraction is at least
 * min_valid_fraction, its NDVI is finite and it is not hazy. Haze (a cloud fringe the mask missed)
 * raises blue more than any other band, while clear land's blue is low and slow to change
 * (vegetation about 0.03, bare soil 0.09, open water 0.065): an observation is hazy when its
 * blue reflectance exceeds by more than haze_blue_rise the nearest counting observations before
 * and after it, or the median of them all (the test is skipped where blue is NaN). Per step, the
 * counting observation with the highest valid fraction is taken (ties: the higher NDVI, as
 * maximum-value compositing, then the earlier). Then gaps are filled and NDVI smoothed
 * (parus_health_series_finish). Errors: E_INVALID (end_day < start_day, step_days 0, NULL arrays
 * with n_obs > 0), E_RANGE (a season shorter than 4 steps), E_NOMEM. A season with no usable
 * observation is not an error: every step is MISSING and n_observed is 0. */
PARUS_API parus_status parus_health_series_build(parus_health_series *s,
                                                 const parus_health_options *opt,
                                                 const int64_t *day, const parus_observation *obs,
                                                 size_t n_obs, int64_t start_day, int64_t end_day,
                                                 parus_error *err);

/* ---- 2. the peer reference ---- */

/* Per step and variable, over the peers that have a value there (OBSERVED or INTERPOLATED, not
 * NaN): n[var][i] peers, their median, first and third quartile (linear interpolation between
 * order statistics, as R's default type 7). Where fewer than min_peers have a value, the step
 * has no reference: median, p25 and p75 are NaN. ndvi_smooth and pheno: the median NDVI curve
 * smoothed and its phenology. */
typedef struct parus_health_peers {
    int64_t start_day;
    size_t step_days, n_steps;
    size_t n_members; /* series given */
    size_t *n[PARUS_HEALTH_N_VARS_];
    double *median[PARUS_HEALTH_N_VARS_], *p25[PARUS_HEALTH_N_VARS_], *p75[PARUS_HEALTH_N_VARS_];
    double *ndvi_smooth;
    parus_phenology pheno;
    size_t n_steps_with_ref; /* steps whose NDVI has a reference */
    /* the quartiles of the members' green ratios to the median (NDVI above the median's lowest
     * value, summed over the steps both have): the group's own spread, which a POOR parcel must
     * fall outside (poor_fence_iqr); NaN with fewer than min_peers members with a ratio */
    double ratio_p25, ratio_p75;
    void *buf_; /* private */
} parus_health_peers;

PARUS_API void parus_health_peers_init(parus_health_peers *p);
PARUS_API void parus_health_peers_release(parus_health_peers *p);

/* Build the reference from n_members series of the same crop, area and dates (the parcel being
 * assessed may be among them: the median moves by at most half a rank). Every series must have
 * the same start_day, step_days and n_steps (E_INVALID otherwise, and for n_members 0 or a NULL
 * series); min_peers comes from opt. E_NOMEM. Deterministic: values are sorted per step. */
PARUS_API parus_status parus_health_peers_build(parus_health_peers *p,
                                                const parus_health_series *const *members,
                                                size_t n_members, const parus_health_options *opt,
                                                parus_error *err);
/* The same reference from members held as compact rows, as a caller keeps many parcels' series
 * (parus assess): member m's variable v at step i is
 * values[(m * PARUS_HEALTH_N_VARS_ + v) * n_steps + i] and its flag flags[m * n_steps + i]; every
 * member has the steps start_day, step_days, n_steps. Each value counts as the float widened to a
 * double, so the reference equals parus_health_peers_build's over series filled from the same
 * rows. Errors: E_INVALID (no member, NULL arrays, n_steps < 4, step_days 0), E_NOMEM. */
PARUS_API parus_status parus_health_peers_build_rows(parus_health_peers *p, const float *values,
                                                     const unsigned char *flags, size_t n_members,
                                                     int64_t start_day, size_t step_days,
                                                     size_t n_steps,
                                                     const parus_health_options *opt,
                                                     parus_error *err);

/* ---- 3. condition and events ---- */

typedef enum parus_health_reference {
    PARUS_HEALTH_REF_NONE = 0, /* neither peers nor an expected curve */
    PARUS_HEALTH_REF_PEERS,    /* the peers' median */
    PARUS_HEALTH_REF_CURVE,    /* the crop's expected NDVI curve */
} parus_health_reference;

/* One flag raised. size is in the flag's own unit:
 *   FLOOD, WATER_OFF_SEASON: the largest share of the parcel under water over the event, 0..1
 *     (from SWIR1, or the water fraction's excess);
 *   SUDDEN_LOSS: the drop against the reference as a share of the NDVI before, 0..1;
 *   DROUGHT_STRESS: the mean NDMI shortfall below the peers' median over the run (index units);
 *   NOT_PLANTED: the season's peak of smoothed NDVI;
 *   LATE_PLANTING: days later than the reference start;
 *   AREA_SHORTFALL, AREA_EXCESS: (planted - declared) / declared.
 * day is the first date it shows (an acquisition day), last_day the last (equal for a one-date
 * event; the season's end for a loss, which does not recover); both are the season's first day
 * for NOT_PLANTED and area flags. confidence in 0..1: 0.5 at the threshold, rising linearly to 1
 * at twice the threshold, x 0.75 when judged without peers. */
typedef struct parus_health_event {
    parus_health_flag flag;
    int64_t day, last_day;
    double size;
    double confidence;
    char reason[192]; /* one line, lower case, dates as YYYY-MM-DD */
} parus_health_event;

#define PARUS_HEALTH_MAX_EVENTS 12

typedef struct parus_health_result {
    parus_health_reference reference;
    /* green ratio: sum over the growing season's steps of the parcel's NDVI above the crop's base
     * over the same sum for the reference (steps where both have a value). 1 = as green for as
     * long as the peers' median. NaN without a reference. */
    double green_ratio;
    double score; /* green ratio clamped to 0..1; 0 when NOT_PLANTED; NaN without reference */
    parus_health_class cls;
    size_t n_season_steps; /* steps in the growing season with a value */
    size_t n_events;       /* events in event[], in date order */
    size_t n_dropped;      /* events beyond PARUS_HEALTH_MAX_EVENTS, not kept */
    parus_health_event event[PARUS_HEALTH_MAX_EVENTS];
} parus_health_result;

/* Assess one parcel. crop may be NULL (unknown: the growing season is then the parcel's own
 * detected cycles, and the calendar rules are skipped). peers may be NULL, or lack a reference at
 * some steps: the expected curve is used instead where given. When the peers cover at least half
 * of the season, a step they do not cover is not judged for FLOOD and SUDDEN_LOSS (only peers tell
 * a crop's own wet or bare phases from an event). expected_ndvi: the crop's expected NDVI at each
 * step (n_steps values, NaN allowed; parus_crop_expected_ndvi at each step's day of year), or
 * NULL. The rules, in this order (an event explains the steps it covers, later rules skip them):
 *
 *   FLOOD / WATER_OFF_SEASON, on observed steps. The parcel's dry MNDWI there is the peers' upper
 *     quartile plus the parcel's usual offset from their median (its soil, its mixed edges), or
 *     without peers its own seasonal median; its dry SWIR1 the peers' median times its usual
 *     ratio to it, or its own median. Water when MNDWI rises above the dry level by
 *     flood_mndwi_rise and SWIR1, where reflectances mix linearly, says at least flood_min_share
 *     of the parcel is water (share = (dry - swir1) / (dry - water_swir1)); or when the water
 *     fraction exceeds both its own median and the peers' by flood_water_excess. (Thin cloud
 *     raises MNDWI but brightens SWIR1, a cloud shadow darkens SWIR1 but leaves MNDWI, a harvest
 *     or a loss brightens SWIR1: only water does both.) Without SWIR (NaN), NDWI against the
 *     peers' median with flood_ndwi_rise. Consecutive observed water steps make one event: FLOOD
 *     when one lies in the growing season, else WATER_OFF_SEASON (dry-season or pre-sowing water
 *     is no crop damage).
 *   SUDDEN_LOSS, between two observed non-water steps j < i at most loss_max_steps apart, on the
 *     NDVI anomaly a = NDVI - reference (the peers' median, else the expected curve; with neither
 *     at both steps no loss is judged, as a loss and the crop's ripening look alike):
 *     a_j - a_i >= loss_min_drop and >= loss_min_relative x NDVI_j; the parcel's own NDVI fell by
 *     at least loss_min_fall; before, an annual crop stood loss_min_drop above the crop's base
 *     NDVI (a perennial stands all year: instead its own NDVI fell by loss_perennial_fall_share of
 *     the drop, a fall of its canopy and not a stalled green-up); against the reference scaled to
 *     the parcel's sown share (base + f x (reference - base), f the highest ratio of its
 *     vegetated fraction to the peers' median at the observed steps up to j where the peers' is
 *     at least loss_share_peer_veg, at most 1; 1 without such a step or without peers), it stood
 *     no more than loss_min_drop below before (a parcel already far below is in poor condition,
 *     not suddenly lost), and is below by loss_min_drop after (green only ever above it, weeds or
 *     a neighbour's crop seen through edge pixels, is not the crop's);
 * the reference fell by less than loss_peer_max_drop or less than loss_peer_share of the drop
 *     (peers stable); i is outside every harvest window; and none of the next loss_recover_steps
 *     observations (at least one) has the parcel's NDVI back up by loss_recover_share of the
 *     drop. A loss during green-up stalls the curve rather than dropping it: the anomaly test
 *     sees it; a parcel that is only late catches up and is not flagged.
 *   NOT_PLANTED (unless a loss was found: the crop stood before it): a noncrop crop; or, for a
 *     crop seen on at least one of its full-canopy steps (as the planted area's interval defines
 *     them: without such a view nothing says it is bare), the peak of smoothed NDVI below base +
 *     not_planted_share x (ndvi_peak - base) of the crop (not_planted_min_ndvi when unknown), or,
 *     for an annual crop, no cycle, an amplitude below not_planted_amplitude and a peak below
 *     canopy_ndvi (a parcel that stood at a canopy's NDVI grew something).
 *   The condition class: the score as above, but POOR against peers covering half the steps or
 *     more needs the parcel outside their spread (poor_fence_iqr), else FAIR.
 *   LATE_PLANTING (annual or unknown crops): a cycle of the parcel whose rise is seen starts more
 *     than late_tolerance_days after the reference's matching cycle (the peers' median curve,
 *     else the expected curve, else the crop's sowing + late_sow_lag_days), matched by the
 *     nearest peak within 60 days.
 *   DROUGHT_STRESS (peers only): drought_min_steps consecutive growing-season steps, before any
 *     loss and after a late cycle's peak, where NDVI and NDMI both fall below the peers' median by
 *     max(drought_iqr x IQR, drought_min_deficit), NDMI's shortfall exceeds by
 *     drought_moisture_gap what the NDVI shortfall predicts from the peers' quartile slope
 *     (IQR(NDMI) / IQR(NDVI)), and the vegetated fraction is at most drought_max_veg_gap below the
 *     peers': canopy water lower than its greenness explains, on a stand that covers the parcel
 *     (a thin or partly planted stand is green and dry in proportion, not in drought). Where
 *     the parcel has weather, parus_health_add_drought keeps it only if the rain was short.
 *
 * The condition (score, class) is the green ratio against the reference, unaligned (a late
 * parcel scores lower while it is late). Errors: E_INVALID (NULL series or options, peers of
 * another shape). *out is written on success. */
PARUS_API parus_status parus_health_assess(const parus_health_series *s, const parus_crop *crop,
                                           const parus_health_peers *peers,
                                           const double *expected_ndvi,
                                           const parus_health_options *opt,
                                           parus_health_result *out, parus_error *err);

/* One parcel's radar series for parus_health_radar_floods: n dates, each array n long. */
typedef struct parus_health_radar_series {
    const int64_t *day;       /* ascending */
    const double *water;      /* radar water fraction, 0..1, NaN = no value */
    const double *vv, *vh;    /* linear sigma0, NaN = none; or NULL */
    const double *looks_vv;   /* independent looks behind each vv (NaN = unknown); or NULL */
    const int *pass;          /* the acquisition geometry (relative orbit); or NULL: one pass */
    const double *peer_vv;    /* the peers' median VV on the date; or NULL */
    const double *peer_water; /* the peers' wet level around the date; or NULL */
    size_t n;
    const double *looks_vh; /* independent looks behind each vh; or NULL */
    const double *peer_vh;  /* the peers' median VH on the date (same pass); or NULL */
} parus_health_radar_series;

/* Add the floods radar sees (series s) to a result of parus_health_assess. day[n] (ascending) and
 * water[n]: the parcel's radar dates and radar water fraction there (parus_observation
 * radar_water_fraction, 0..1, NaN = no value); open water is dark at any incidence, so ascending
 * and descending passes are read alike. peer_water[n]: the peers' (same crop) wet level around
 * each date: the upper quartile over the peers of each one's highest water fraction within
 * step_days of the date, NaN where fewer than min_peers have one; or NULL. A crop whose fields
 * are flooded at transplanting has a quarter of its peers wet then, whatever their spread of
 * dates; a flood strikes one parcel in fifty.
 *   A date is wet when its water fraction is at least radar_flood_min_share and exceeds by
 *   radar_flood_rise both the parcel's dry level (the median of its own values: a pond or a
 *   permanently wet parcel has a wet dry level) and the peers' wet level there (where given;
 *   where not, and always for a paddy crop (crop->paddy), dates from season_start_days before a
 *   cycle's sowing to radar_paddy_days after it, transplanting into a flooded paddy until the
 *   canopy closes, are not judged); and, where vv[n] (linear sigma0, NaN = none; or NULL) is
 *   given, its VV in dB is radar_flood_dip_db below the highest VV of its pass (pass[n], the
 *   acquisition geometry, e.g. the relative orbit; NULL = one pass) within radar_dip_days
 *   before it and below the highest within radar_dip_days after it, and by radar_flood_dip_se
 *   standard errors beyond the dip that speckle alone gives where looks_vv[n] is given (the
 *   reference being the highest of the dates around it, speckle alone makes a dip: its mean
 *   and spread without a change, in standard deviations of a date's VV, (10 / ln 10)^2
 *   trigamma(looks) dB^2, are taken out; docs/method.md, section 9). With radar_flood_vh_db > 0 and
 * vh[n] given, its VH must also be that far below the median VH of its pass. A date is wet too,
 * outside the planting weeks and for a crop not grown under water, when its VV dips radar_dip_db
 * that way whatever its share (a strip of mixed pixels under water has no pixel below the water
 * level). Such a date vouches for a flood alone only on a share, with its looks at least
 *   radar_flood_min_looks and its dip by the standard errors asked; a date on fewer looks (but
 *   radar_flood_run_looks at least; fewer: not judged), a share whose dip falls short of the
 *   standard errors, or a dip alone, count only in a run of two or more wet dates in a row
 *   whose dips, in standard errors, sum to radar_flood_dip_se x sqrt(dates) or more.
 *   peer_vv[n]: the peers' median VV on the same date (the same pass), NaN where fewer than
 *   min_peers; or NULL: where given, VV is taken over the peers' (a harvest or a
 *   transplanting the crop shares is no dip).
 *   First, an optical water event already in res (FLOOD, WATER_OFF_SEASON) is dropped when
 *   radar saw the parcel dry around it: a date within radar_veto_days of its days on
 *   radar_flood_min_looks looks, every such date with less than radar_veto_share under water
 *   and no radar_flood_dip_db dip, and no wet date within step_days (haze or shadow read as
 *   water through a gap in the cloud).
 *   Consecutive wet dates make one event: FLOOD when one lies in the growing season, else
 *   WATER_OFF_SEASON. Where res already holds a water event of either flag from the optical rule
 *   overlapping it (within step_days), the two are one event dated by whichever sensor saw it
 *   first (its reason then names both); else the radar event is added, its reason naming the
 *   sensor, the share, the date and the dry level. Events stay in date order.
 * Errors: E_INVALID (NULL arrays with n > 0, NULL opt or res, days not ascending). */
PARUS_API parus_status parus_health_radar_floods(const parus_health_radar_series *s,
                                                 const parus_crop *crop,
                                                 const parus_health_options *opt,
                                                 parus_health_result *res, parus_error *err);

/* Add the sudden losses radar sees (series s: day, vh, peer_vh; looks_vh and water where given)
 * to a result of parus_health_assess (and of parus_health_radar_floods, whose water it leaves
 * alone): under cloud the optical rule sees nothing, and a crop beaten down (hail, lodging, pests)
 * loses the volume that scatters VH. A date's anomaly is its VH over peer_vh in dB (the peers'
 * median on the same date, so both passes compare); a date is usable when it has one and is not
 * wet (water below radar_flood_min_share). A loss is a step at date i, in the crop's growing
 * season and outside its harvest window (harvest_before_days, harvest_after_days):
 * - the mean anomaly of i and the usable dates after it (radar_loss_dates, at least two, within
 *   radar_loss_days, radar_loss_min_looks looks in all where looks_vh is given) lies at least
 *   radar_loss_vh_db and radar_loss_se standard errors below that of up to radar_loss_dates
 *   usable dates before i (each date's variance its speckle's, (10 / ln 10)^2 trigamma(looks),
 *   or the parcel's own scatter from the median of its successive differences if larger);
 * - i itself is down by loss_recover_share of the step and the last date before is not;
 * - the dates after lie below the peers by loss_recover_share of the step (a crop ahead of its
 *   peers falls back to them, not below), and the parcel's own VH fell by radar_loss_own_share
 *   of it (a late or weak crop only rises slower than its peers);
 * - not recovered: its own VH over the next radar_loss_dates beyond does not regain
 *   loss_recover_share of the step;
 * - no water event of res within step_days of i (the flood's darkening is the flood's).
 * The step is dated at the strongest such date within step_days of the first. Without vh or
 * peer_vh nothing is judged (a loss and the crop's own ripening look alike). An optical
 * SUDDEN_LOSS within step_days makes one event, dated by whichever sensor saw it first (the
 * reason names both); else the radar event is added, its reason naming the sensor, the step in
 * dB and standard errors. One loss per radar_loss_days. Errors: E_INVALID (NULL s, opt or res,
 * NULL day with n > 0, days not ascending), E_NOMEM. */
PARUS_API parus_status parus_health_radar_losses(const parus_health_radar_series *s,
                                                 const parus_crop *crop,
                                                 const parus_health_options *opt,
                                                 parus_health_result *res, parus_error *err);

/* Whether day (a day number) lies in the crop's growing season as the FLOOD rule defines it (see
 * season_start_days). False for a NULL or noncrop crop. */
PARUS_API bool parus_health_growing_season(const parus_crop *crop, int64_t day,
                                           const parus_health_options *opt);

/* ---- 4. planted area ---- */

/* The planted share is the mean of the three highest observed vegetated fractions in the growing
 * season (all steps when the crop has none): at full canopy every sown pixel is green, before and
 * after part of it is not, and the mean of the top three keeps one noisy step from setting it. A
 * noncrop crop has share 0; a covered crop (greenhouse, plastic film) share 1, as the vegetated
 * fraction under plastic says nothing of the sown area, unless a canopy was seen there (below).
 * planted_area_m2 = share x area_m2, in mu
 * too, with the interval [lo, hi] below; against the declared area (parus_area_compare_interval):
 * AREA_SHORTFALL when even hi is below, AREA_EXCESS when even lo is above, by more than
 * area_tolerance (relative to the declared area).
 *
 * Bias from edge pixels: the vegetated fraction counts a pixel by its NDVI. Each partly covered
 * pixel is first unmixed from its neighbours outside the parcel (the own vegetated fraction,
 * zonal.h; the coverage-weighted one for observations stored before), so (b) a parcel's bare part
 * next to a green neighbour is no longer counted as sown. What the unmixing cannot remove is the
 * parcel's own mixture: canopy and bare soil reach NDVI 0.3 at about a sixth canopy cover, so a
 * pixel straddling the boundary between the sown and the bare part counts as sown when a sixth of
 * it is: (a) a bare strip narrower than a pixel at the end of a field vanishes, and the boundary
 * of a partly sown field is overcounted by about a third of a pixel along its length. Net:
 * planted area is biased up, most for partly sown parcels and fields sown 90-95 % (docs/method.md
 * has the figures).
 *
 * area_m2: the parcel's geodesic area. declared_area_mu: the declared area (NaN or <= 0 when
 * none: no cross-check). Errors: E_INVALID (NULL, area_m2 not finite or negative), E_RANGE (no
 * observed step has a vegetated fraction, for a crop that needs one). */
typedef struct parus_planted_area {
    double planted_share; /* 0..1 */
    int64_t share_day;    /* the date of the highest value (start_day when none) */
    double planted_area_m2, planted_area_mu;
    /* the interval the evidence allows (docs/method.md, section 10), lo <= planted <= hi:
     *   hi: share_hi x area_m2, share_hi = the highest vegetated fraction observed at a
     *       full-canopy step (in the season, the crop's expected NDVI >= canopy_ndvi over the
     *       step's day +- canopy_margin_days; or, on any date, the parcel's green part: its
     *       VEG_NDVI n and VEG v give a green NDVI of at least (n - 0.3 (1 - v)) / v >=
     *       canopy_ndvi, with v above two standard errors) plus area_z times
     *       its standard error (PARUS_HEALTH_VEG_SE), at least the share, at most 1; 1 when no
     *       full-canopy step was observed: nothing says the parcel is less sown than it is large
     *       (a noncrop crop's share is 0 by its class, but a class can be wrong: its hi is the
     *       greenest observed step of any date plus its margin, 0 when none is observed);
     *   lo: share_lo x area_m2, share_lo = the share less area_z times that standard error, at
     *       least 0 (the share itself when no standard error is known).
     * A covered crop has [1, 1] x area_m2, unless its green part was seen at a canopy on some
     * date (plastic never is): then it is measured as a crop without a calendar. */
    double planted_share_lo, planted_share_hi;
    double planted_area_lo_m2, planted_area_hi_m2;
    double share_se;            /* the standard error used; NaN when none */
    size_t n_canopy;            /* observed full-canopy steps (noncrop: observed steps) */
    double declared_area_m2;    /* NaN when none */
    double relative_difference; /* (planted - declared) / declared; NaN when none */
    bool has_event;             /* AREA_SHORTFALL or AREA_EXCESS beyond area_tolerance */
    parus_health_event event;
} parus_planted_area;

PARUS_API parus_status parus_health_planted_area(const parus_health_series *s,
                                                 const parus_crop *crop, double area_m2,
                                                 double declared_area_mu,
                                                 const parus_health_options *opt,
                                                 parus_planted_area *out, parus_error *err);

/* "YYYY-MM-DD" of a day number into out[11]. */
PARUS_API void parus_health_format_day(int64_t day, char out[11]);

/* The weather's events of a parcel's season (docs/method.md, "Weather flags"), added to res in
 * date order (beyond PARUS_HEALTH_MAX_EVENTS: counted in n_dropped):
 *   HEAT_STRESS: at least PARUS_HEALTH_HEAT_MIN_DAYS days whose maximum passed the crop's theat_c
 *     within 10 days of its peak (first_day .. last_day); size the days, confidence
 *     min(1, days / (2 x the minimum)).
 * A NaN count adds nothing (no weather, or a missing day in the window). */
#define PARUS_HEALTH_HEAT_MIN_DAYS 3
PARUS_API void parus_health_add_weather_events(parus_health_result *res, const char *crop_code,
                                               double theat_c, double heat_days, int64_t first_day,
                                               int64_t last_day);

/* FROST added to res (date order) when frost_days (parus_yield_weather_terms.frost_days: nights
 * below PARUS_CLIMATE_DAMAGING_FROST_C from 25 days before a peak of the crop to 10 days after)
 * is at least 1: dated first_day .. last_day (the frost nights), size the days, confidence
 * min(1, 0.5 + 0.25 x days), the coldest night in the reason. No yield term carries it: the
 * credit stage counts it as an event. NaN or 0 adds nothing. */
PARUS_API void parus_health_add_frost(parus_health_result *res, const char *crop_code,
                                      double frost_days, double min_tmin_c, int64_t first_day,
                                      int64_t last_day);

/* A season's drought, confirmed on both sides (docs/method.md, "Weather flags"): the rain and
 * the canopy. The evidence of one parcel: */
typedef struct parus_health_drought_input {
    /* the driest window of its crop's canopy period (parus_yield_weather_terms.dry_*): its rain
     * as a share of its normal, the rain and the normal (mm), its days; ratio NaN: none */
    double rain_ratio, rain_mm, normal_mm;
    int64_t first_day, last_day;
    size_t n_years; /* climatology years behind the normal */
    /* the canopy: the peak NDVI of the parcel and the median of its peers' (the same crop and
     * grid, parus_health_peers), that median's standard error, and how many peers; NaN / 0:
     * none */
    double peak_ndvi, peers_peak_ndvi, peers_peak_se;
    size_t n_peers;
} parus_health_drought_input;

/* DROUGHT added to res (date order), for an annual crop (a perennial's canopy follows its
 * previous years as much as this season's rain; covered crops are watered), when the rain of the
 * driest window is at most
 * PARUS_HEALTH_DROUGHT_RAIN_RATIO of its normal, and the canopy confirms it: the peers' median
 * peak amplitude (peak - the crop's ndvi_base), even raised by PARUS_HEALTH_DROUGHT_SE_Z of its
 * standard errors, at most PARUS_HEALTH_DROUGHT_PEERS_AMPLITUDE of the crop's typical
 * (ndvi_peak - ndvi_base), over at least min_peers peers (a whole crop's canopy held back in the
 * same season, beyond what a small group's spread explains), and the parcel's own amplitude at
 * most
 * PARUS_HEALTH_DROUGHT_PARCEL_AMPLITUDE of it. Dated by the dry window; size the rain's shortfall
 * (1 - ratio); confidence from how far the rain and the peers lie beyond their thresholds. A
 * crop without a typical amplitude, NaN evidence or too few peers: nothing (never guessed).
 * And where the rain is known and was not short (ratio above PARUS_HEALTH_DROUGHT_RAIN_RATIO),
 * DROUGHT_STRESS (the canopy drier than its peers) is taken out of res: the weather contradicts a
 * drought, and the canopy's shortfall stays in the condition score. */
#define PARUS_HEALTH_DROUGHT_RAIN_RATIO 0.5
#define PARUS_HEALTH_DROUGHT_PEERS_AMPLITUDE 0.775
#define PARUS_HEALTH_DROUGHT_PARCEL_AMPLITUDE 0.9
#define PARUS_HEALTH_DROUGHT_SE_Z 1.645
PARUS_API void parus_health_add_drought(parus_health_result *res, const parus_crop *crop,
                                        const parus_health_drought_input *in, size_t min_peers);

/* A rainstorm that waterlogged the field, confirmed on both sides (docs/method.md, "Weather
 * flags"): the rain and the canopy. The weather's side of one parcel
 * (parus_yield_weather_terms.wet_*): */
typedef struct parus_health_waterlog_input {
    double rain_mm;              /* the wettest spell of the crop's canopy period; NaN: none */
    int64_t first_day, last_day; /* its days */
    double clim_max_mm;          /* the highest of the previous years' wettest spells of the
                                    same period; NaN: too few years */
    double clim_mean_mm;         /* their mean */
    size_t n_years;              /* previous years behind them */
} parus_health_waterlog_input;

/* WATERLOGGING added to res (date order), for an annual crop not grown under water by design
 * (crop->paddy false), when
 *   - the rain: the wettest spell reached PARUS_HEALTH_WATERLOG_MIN_MM (three rainstorm days'
 *     worth: 50 mm in 24 hours is a rainstorm, GB/T 28592-2012) and
 *     PARUS_HEALTH_WATERLOG_CLIM_RATIO x the highest of the previous years' wettest spells of
 *     the same period (about what the local climate brings once a decade);
 *   - the crop's canopy stood: its peers' median NDVI at the last step at most
 *     PARUS_HEALTH_WATERLOG_BEFORE_DAYS before the spell at least PARUS_HEALTH_WATERLOG_GREEN
 *     above the crop's ndvi_base;
 *   - the canopy confirms it: the storm falls on every field of the cell and only the poorly
 *     drained ones lose roots and leaves, so the parcel falls behind its peers: its highest
 *     observed NDVI amplitude (above ndvi_base) from PARUS_HEALTH_WATERLOG_AFTER_MIN_DAYS to
 *     PARUS_HEALTH_WATERLOG_AFTER_MAX_DAYS after the spell at most
 *     PARUS_HEALTH_WATERLOG_PEAK_SHARE of its peers' median's highest over the same steps (the
 *     drought rule's 90 %), and where it was seen at that last step before the spell, its share
 *     of the peers' amplitude then at least that share (a field that was behind all along was
 *     not set back by the storm);
 *   - no FLOOD (open water, the flood rules') in res from the spell to the last of those days.
 * Dated by the spell; size 1 - that share; confidence from how far the rain and the canopy lie
 * beyond their thresholds. No climatology (clim_max_mm NaN), peers whose step layout differs
 * from s's, NaN evidence, no observed step after the storm: nothing (never guessed). Thresholds
 * chosen on synthetic seasons (docs/method.md, "Weather flags"). */
#define PARUS_HEALTH_WATERLOG_MIN_MM 150.0
#define PARUS_HEALTH_WATERLOG_CLIM_RATIO 0.9
#define PARUS_HEALTH_WATERLOG_GREEN 0.15
#define PARUS_HEALTH_WATERLOG_PEAK_SHARE 0.9
#define PARUS_HEALTH_WATERLOG_BEFORE_DAYS 30
#define PARUS_HEALTH_WATERLOG_AFTER_MIN_DAYS 5
#define PARUS_HEALTH_WATERLOG_AFTER_MAX_DAYS 60
PARUS_API void parus_health_add_waterlogging(parus_health_result *res, const parus_crop *crop,
                                             const parus_health_series *s,
                                             const parus_health_peers *peers,
                                             const parus_health_waterlog_input *in);

#ifdef __cplusplus
}
#endif
#endif

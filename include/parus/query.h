/*
 * parus/query.h - everything the store knows of one parcel, or one farmer, in a season, gathered
 * for a person at a terminal (`parus query`), a tool (`parus query --json`) or a picture
 * (`parus query --chart`).
 *
 * A parcel's view: the parcel (farmer, geodesic and declared area, footprint, geometry), its
 * result for the season (crop, condition, planted area, yield, value, the credit rule's verdict),
 * its crop assessment (runner-up, margin, declared crop, model version), its event flags with
 * dates and sizes, its farmer's limit, its observations in the season's window with the NDVI each
 * gave and whether the season's series rests on it, the regular series rebuilt from those
 * observations exactly as the health stage builds it (parus_health_series_build: one scene per
 * step, short gaps filled, Whittaker smoothed), and the peer curve of its crop and peer group;
 * on request the season's weather against its normal (parus_parcel_view_load_weather).
 * A farmer's view: the limit with its parts and reasons, and each of the farmer's parcels with
 * its result.
 *
 * Everything is read through the store's keyed readers (parus/store.h): a view costs a few
 * index lookups and one parcel's observations, not a scan (docs/benchmarks.md has the time).
 * A view owns everything it holds (strings included) until its release.
 *
 * Threads: a view is plain data; loading one uses the store, one thread at a time per store.
 */
#ifndef PARUS_QUERY_H
#define PARUS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/climate.h"
#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/health.h"
#include "parus/parcels.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One observation of the parcel in the season's window. */
typedef struct parus_query_obs {
    char date[11]; /* the tile's acquisition date */
    int64_t day;   /* its day number */
    char sensor[32];
    double ndvi;           /* the parcel's mean NDVI; NaN when no pixel was clear */
    double valid_fraction; /* clear share of the parcel, 0..1 */
    bool used;             /* the season's series holds this observation for its step; false:
                              cloudy, hazy, an outlier, or a less clear scene of the same step */
    int64_t tile_id;
    const char *outlier; /* left out of the season as an outlier: why (observation_outliers);
                            NULL when it was not */
} parus_query_obs;

/* One radar (Sentinel-1) observation of the parcel in the season's window (store.h,
 * radar_observations). Linear power; NaN where none. */
typedef struct parus_query_radar {
    char date[11];
    int64_t day;
    int64_t tile_id;
    char orbit_direction[12]; /* "ASCENDING", "DESCENDING", "" unknown */
    int relative_orbit;       /* 0 unknown */
    double valid_fraction;
    double vv, vh, vh_vv, rvi, water_fraction, looks_vv, se_vv, se_vh;
} parus_query_radar;

/* What the season's limits were computed with (parus_store_get_assess_inputs), the hashes only:
 * the model version (SHA-256 of the model file, or of the crop table for the calendar), the
 * model's training-data hash, and the SHA-256 of the crop table, policy and debts file. */
typedef struct parus_query_audit {
    bool recorded; /* false: the season records none (assessed before schema 8, or not at all) */
    const char *model_version;
    const char *model_data_hash; /* NULL for the calendar */
    const char *crops_hash;      /* NULL: no crop table file */
    const char *policy_hash;     /* "builtin" for the built-in policy */
    const char *debts_hash;      /* NULL: no debts file */
} parus_query_audit;

typedef struct parus_parcel_view {
    char season[22]; /* "YYYY-MM-DD/YYYY-MM-DD" */
    int64_t first_day, last_day;
    parus_parcel parcel; /* id, farmer, areas, footprint, lon/lat WKB */

    bool assessed;              /* the season has a result for the parcel */
    parus_parcel_result result; /* when assessed */
    bool has_assessment;
    parus_assessment assessment; /* the crop's assessment: runner-up, margin, declared crop */
    size_t n_flags;
    parus_result_flag *flags; /* in (first date, flag) order */

    bool has_limit;
    parus_limit limit;       /* the farmer's limit for the season */
    parus_query_audit audit; /* what the season's limits were computed with */
    size_t n_farmer_parcels; /* parcels of the same farmer in the store */

    size_t n_obs; /* observations dated in the season's window, in date order */
    parus_query_obs *obs;
    size_t n_obs_used;
    size_t n_obs_outliers;    /* of them left out as outliers */
    size_t n_radar;           /* radar observations dated in the window, in date order */
    parus_query_radar *radar; /* not used by the series: shown beside it */

    /* The regular series: step i is centred on step_first_day + i * step_days. */
    size_t n_steps, step_days;
    double step_first_day;
    double *ndvi;        /* smoothed NDVI; NaN where missing */
    unsigned char *flag; /* parus_series_flag per step */
    /* The peer curve of the result's crop and peer group, on the same steps (NaN where the
     * peers had too few values); NULL when there is none. */
    size_t peer_curve_n; /* peers in the group (the result's n_peers) */
    double *peer_median, *peer_p25, *peer_p75;

    /* The season's weather against its normal (parus_parcel_view_load_weather): */
    bool has_weather;
    parus_climate weather;
    char weather_crop[32];  /* the crop whose calendar the crop figures follow ("" none) */
    char weather_none[256]; /* !has_weather after a load: why there is none */
    /* and its rain day by day, read with it (parus_climate_parcel_season_days): days first_day
     * .. first_day + n_rain_days - 1; 0 and NULL without weather */
    size_t n_rain_days;
    double *rain_mm;        /* NaN: no value that day */
    double *rain_normal_mm; /* each day's normal (mm); NULL: the climatology gives none */

    /* Set by the caller where the season is owed an assessment (the store's season_state): since
     * when, so that the chart says its results are stale; "" when they are current. */
    char owed_since[32];

    void *pool_; /* private: what the view owns */
} parus_parcel_view;

PARUS_API void parus_parcel_view_init(parus_parcel_view *v);
PARUS_API void parus_parcel_view_release(parus_parcel_view *v);

/* Gather the parcel's view for the season (canonical window text). opt: the health options the
 * assessment used (NULL: parus_health_options_init), for the series. A parcel without a result
 * for the season is not an error: assessed is false and the rest (parcel, observations, series)
 * is filled. *v is released first and written only on success. Errors: E_NOT_FOUND (no such
 * parcel: "parcel 'X' is not in ..."), E_INVALID (a season that is not canonical), the store's
 * errors, E_NOMEM. */
PARUS_API parus_status parus_parcel_view_load(parus_store *store, const char *season,
                                              const char *parcel_id,
                                              const parus_health_options *opt, parus_parcel_view *v,
                                              parus_error *err);

/* The climatology years parus query reads: the WMO's recommended 30 (parus/climate.h). */
#define PARUS_QUERY_CLIMATE_YEARS 30

/* The view's season against up to max_years previous years of the parcel's weather
 * (parus_climate_parcel_season_days: the figures and the daily rain of the chart), the crop
 * figures on crop's calendar and temperatures (crop NULL:
 * none; rain, SPI and dry spell are still given). A parcel without weather is not an error:
 * has_weather is false and weather_none says why ("no weather is stored for parcel 'P1'").
 * Errors: E_INVALID (a view not loaded), the store's, E_NOMEM; on error the view's weather is
 * unchanged. */
PARUS_API parus_status parus_parcel_view_load_weather(parus_store *store, parus_parcel_view *v,
                                                      const parus_crop *crop, size_t max_years,
                                                      parus_error *err);

/* Draw the view as a PNG (parus/chart.h): the observations (dropped ones hollow), the smoothed
 * series, the peer median and band, the crop's expected curve (crop NULL: none), the flags at
 * their first dates (a flag spanning the whole window, as area and not-planted flags do, is named
 * in the subtitle instead), the season's window as the x axis; and under it, when the view's
 * weather was loaded and some day of the season has rain measured, the rain panel: the daily
 * rain, its running total against the normal's, the season's total and percent of normal in
 * the legend (or why there is no normal). width_px x height_px is the whole picture; with the
 * rain panel the NDVI plot keeps the upper part (PARUS_CHART_NDVI_SHARE). Errors: those of
 * parus_chart_write_png, E_NOMEM. */
PARUS_API parus_status parus_parcel_view_chart(const parus_parcel_view *v, const parus_crop *crop,
                                               const char *path, int width_px, int height_px,
                                               parus_error *err);

/* One parcel of a farmer. */
typedef struct parus_farmer_parcel {
    const char *parcel_id;
    bool assessed;
    parus_parcel_result result; /* when assessed */
} parus_farmer_parcel;

typedef struct parus_farmer_view {
    char season[22];
    const char *farmer_id;
    bool has_limit;
    parus_limit limit;
    parus_query_audit audit; /* what the season's limits were computed with */
    size_t n_parcels;        /* the farmer's parcels in the store, in id order */
    parus_farmer_parcel *parcels;
    size_t n_assessed; /* of them with a result for the season */
    void *pool_;       /* private */
} parus_farmer_view;

PARUS_API void parus_farmer_view_init(parus_farmer_view *v);
PARUS_API void parus_farmer_view_release(parus_farmer_view *v);

/* Gather a farmer's view. A farmer with parcels but no limit for the season is not an error
 * (has_limit false). Errors: E_NOT_FOUND (no parcel of the store has this farmer), E_INVALID, the
 * store's errors, E_NOMEM. *v is released first and written only on success. */
PARUS_API parus_status parus_farmer_view_load(parus_store *store, const char *season,
                                              const char *farmer_id, parus_farmer_view *v,
                                              parus_error *err);

/* What a reason code means: the credit rule's codes (parus/credit.h), the assessment's
 * (NO_CLEAR_OBSERVATION, NOT_CLASSIFIED, UNKNOWN_CROP, NO_PLANTED_AREA, NO_SEASON_METRICS) and the
 * event flags (parus/health.h); NULL for a code parus does not know. */
PARUS_API const char *parus_query_reason_text(const char *code);

#ifdef __cplusplus
}
#endif
#endif

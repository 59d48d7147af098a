/*
 * parus/climate.h - a parcel's season against its climate: rainfall total, normal and
 * percentile, the standardised precipitation index (SPI) over 30 days, 90 days and the season,
 * growing degree-days from sowing, heat days around flowering, frost days and the longest dry
 * spell, each beside its normal over the previous years.
 *
 * The computation (parus_climate_season) is pure: daily arrays in, figures out, no I/O, no
 * global state, reentrant. parus_climate_parcel_season reads a parcel's weather from the store
 * (parus_store_weather_parcel) for the season and the same window in previous years and calls it.
 * docs/method.md, "Climate and anomalies", has every formula, threshold and its source.
 *
 * Missing is missing. A day without a value is never a dry day or a day at 0 degC: a total over
 * a span with more than PARUS_CLIMATE_MAX_MISSING_PERCENT % of its days missing is NaN with the
 * reason PARUS_CLIMATE_MISSING_DAYS; below that the total of the known days is scaled to the
 * span (each missing day counted at the span's mean) and the missing days are counted beside it.
 * Counts of days (heat, frost) count only days that were measured; a missing day breaks a dry
 * spell. Every figure that is not a number says why (parus_climate_why).
 *
 * Day numbers are days since 1970-01-01 (UTC, proleptic Gregorian), as in parus/weather.h.
 */
#ifndef PARUS_CLIMATE_H
#define PARUS_CLIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/crops.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"
#include "parus/weather.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A span with more than this share of its days missing has no total (percent). */
#define PARUS_CLIMATE_MAX_MISSING_PERCENT 5
/* Climatology years below which no normal, percentile or SPI is given. WMO (2012, No. 1090)
 * recommends at least 30; from PARUS_CLIMATE_MIN_YEARS to 29 the figures carry the note
 * "short climatology". */
#define PARUS_CLIMATE_MIN_YEARS 8
#define PARUS_CLIMATE_FULL_YEARS 30
/* A gamma fit needs at least this many years with rain in the window. */
#define PARUS_CLIMATE_MIN_WET_YEARS 3
/* The SPI is clipped to +-3.09 (probabilities 0.001 and 0.999): beyond, a fit on a few decades
 * extrapolates. */
#define PARUS_CLIMATE_SPI_LIMIT 3.09
/* A day with less precipitation than this is dry (mm). */
#define PARUS_CLIMATE_DRY_MM 1.0
/* Heat days are counted within this many days either side of the crop's peak day. */
#define PARUS_CLIMATE_HEAT_HALF_DAYS 10
/* An overwintering crop's frost days are counted from this many days before its peak (green-up),
 * not from sowing: frost in winter dormancy is normal. */
#define PARUS_CLIMATE_GREENUP_DAYS 30
/* A frost day has a daily minimum below this (degC). */
#define PARUS_CLIMATE_FROST_C 0.0

/* Why a figure is not a number. Append only: the names are shown and written as JSON. */
typedef enum parus_climate_why {
    PARUS_CLIMATE_OK = 0,
    PARUS_CLIMATE_MISSING_DAYS,     /* more than 5 % of the span's days have no value */
    PARUS_CLIMATE_FEW_YEARS,        /* fewer than PARUS_CLIMATE_MIN_YEARS climatology years */
    PARUS_CLIMATE_WINDOW_SHORT,     /* the season's window is shorter than the SPI's */
    PARUS_CLIMATE_FEW_WET_YEARS,    /* too few climatology years with rain to fit a gamma */
    PARUS_CLIMATE_EQUAL_TOTALS,     /* the climatology's totals are all equal: no spread to fit */
    PARUS_CLIMATE_NO_CROP,          /* no crop given */
    PARUS_CLIMATE_NOT_FIELD_CROP,   /* covered (greenhouse), noncrop, or no calendar */
    PARUS_CLIMATE_OUTSIDE_CALENDAR, /* no cycle of the crop overlaps the window */
    PARUS_CLIMATE_NOT_YET,          /* the span begins after the window's last day */
    PARUS_CLIMATE_DRY_NORMAL,       /* the span's normal rain is too little to judge a shortfall */
    PARUS_CLIMATE_N_WHY_
} parus_climate_why;

/* "OK", "MISSING_DAYS", ...; NULL out of range. */
PARUS_API const char *parus_climate_why_name(parus_climate_why why);
/* One line of English for a person ("more than 5 % of the days have no value"); NULL out of
 * range. */
PARUS_API const char *parus_climate_why_text(parus_climate_why why);

/* One window of daily weather. The arrays hold the days data_first_day .. data_first_day +
 * n_data_days - 1; a day outside them, or NaN, is missing. The data may begin before the window
 * (a crop sown before it: degree-days count from sowing) and need not reach its end. */
typedef struct parus_climate_window {
    int64_t first_day, last_day; /* the window, both included */
    int64_t data_first_day;
    size_t n_data_days;
    const double *precip_mm; /* NULL: none at all */
    const double *tmin_c, *tmax_c, *tmean_c;
} parus_climate_window;

/* The dates of the crop's cycle that overlaps a window most. */
typedef struct parus_climate_crop_dates {
    int cycle; /* 0 or 1 (the crop table's second cycle) */
    int64_t sow_day, peak_day, harvest_day;
    bool overwinters; /* sown in one calendar year, peak in the next (winter wheat, rapeseed) */
} parus_climate_crop_dates;

/* The crop's cycle occurrence (sown in the window's first year, the year before or the window's
 * last year) with the most days inside [first_day, last_day]; of equal ones the earlier year's,
 * then the table's first cycle. A day of year past the year's end (366 in a common year) is its
 * last day; a harvest day of year at or before the sowing one is in the next year, as is a peak
 * before the sowing one. Returns OK and fills *out, or NO_CROP (crop NULL), NOT_FIELD_CROP
 * (covered, noncrop, no cycle) or OUTSIDE_CALENDAR (no overlap), *out untouched. Pure. */
PARUS_API parus_climate_why parus_climate_find_crop_dates(const parus_crop *crop, int64_t first_day,
                                                          int64_t last_day,
                                                          parus_climate_crop_dates *out);

/* The peak days of every cycle occurrence of the crop (sown in the window's first year, the year
 * before or its last year) that lie within [first_day - before_days, last_day + after_days], in
 * date order, at most max_out of them; returns how many. 0 for no crop or one without a calendar.
 * Pure. */
PARUS_API size_t parus_climate_crop_peaks(const parus_crop *crop, int64_t first_day,
                                          int64_t last_day, int64_t before_days, int64_t after_days,
                                          int64_t *out, size_t max_out);

/* One figure over a span of days. */
typedef struct parus_climate_figure {
    double value; /* in the unit its name says; NaN: why */
    parus_climate_why why;
    int64_t first_day, last_day; /* the span it covers (first > last: none) */
    size_t n_missing_days;       /* days of the span without the value it needs */
    int64_t first_missing_day;   /* the first of them (when n_missing_days > 0) */
} parus_climate_figure;

/* What one window (the season, or one climatology year) holds. */
typedef struct parus_climate_figures {
    /* the window's total precipitation (mm) */
    parus_climate_figure rain_mm;
    /* growing degree-days from sowing to harvest or the window's end: sum of max(0, Tmean -
       tbase_c), Tmean = (tmin + tmax) / 2, else tmean (McMaster & Wilhelm 1997, method 1) */
    parus_climate_figure gdd_degc_days;
    /* days with tmax > theat_c within +-10 days of the peak (and up to the window's end) */
    parus_climate_figure heat_days;
    /* days with tmin < 0 degC from sowing (overwintering crops: 30 days before the peak) to
       harvest or the window's end */
    parus_climate_figure frost_days;
    /* the longest run of days with precipitation < 1 mm inside the window and the crop's span
       (the whole window without a crop); a missing day breaks a run */
    parus_climate_figure dry_spell_days;
    int64_t dry_spell_first_day; /* the run's first day (the earliest of equal runs) */
} parus_climate_figures;

/* A figure's normal over the climatology years that have it. */
typedef struct parus_climate_normal {
    size_t n_years;      /* years with the figure */
    double mean, median; /* NaN below PARUS_CLIMATE_MIN_YEARS years */
} parus_climate_normal;

/* The SPI over one span ending on the window's last day. */
typedef struct parus_climate_spi {
    size_t n_days;  /* 30, 90, or the season's length */
    double rain_mm; /* the season's total over it (NaN: too many days missing) */
    double spi;     /* clipped to +-PARUS_CLIMATE_SPI_LIMIT; NaN: why */
    parus_climate_why why;
    double probability;  /* H(rain_mm) = q + (1 - q) G(rain_mm) */
    size_t n_years;      /* climatology years with this span's total */
    size_t n_zero_years; /* of them with none: q = n_zero_years / n_years */
    double gamma_shape;  /* the gamma fitted to the non-zero totals (Thom 1958) */
    double gamma_scale_mm;
    bool short_climatology; /* n_years below PARUS_CLIMATE_FULL_YEARS */
} parus_climate_spi;

typedef struct parus_climate {
    int64_t first_day, last_day; /* the season's window */
    size_t n_days;
    parus_climate_why crop_why; /* OK: crop figures were computed on crop_dates */
    parus_climate_crop_dates crop_dates;
    parus_climate_figures season;
    /* the climatology: previous years' windows */
    size_t n_years_given;
    parus_climate_why climatology_why; /* OK or FEW_YEARS (fewer rain totals than the minimum) */
    bool short_climatology;            /* fewer than PARUS_CLIMATE_FULL_YEARS rain totals */
    parus_climate_normal rain_mm_normal, gdd_degc_days_normal, heat_days_normal, frost_days_normal,
        dry_spell_days_normal;
    double rain_pct_of_normal; /* 100 x season's total / the mean; NaN when either is */
    /* share of the climatology years with a lower total, equal ones counted half (0..100) */
    double rain_percentile;
    parus_climate_spi spi_30d, spi_90d, spi_season;
} parus_climate;

/* The season against the climatology years. season: the season's window (its data may begin
 * earlier, from the crop's sowing); years: the same window in previous years (each of the same
 * length; any order; a year with no value at all is simply a year without figures); crop: the
 * crop whose calendar, base and heat temperatures the crop figures use (NULL: none; rain, SPI
 * and the dry spell over the whole window are still given). Errors: E_INVALID (season NULL, a
 * window that ends before it begins or is longer than 3660 days, a year of another length),
 * E_NOMEM. *out written only on success. Pure and reentrant. */
PARUS_API parus_status parus_climate_season(const parus_climate_window *season,
                                            const parus_climate_window *years, size_t n_years,
                                            const parus_crop *crop, parus_climate *out,
                                            parus_error *err);

/* Read the parcel's weather for the season ("YYYY-MM-DD/YYYY-MM-DD"), from the crop's sowing
 * where it precedes the window, and the same window in each of up to max_years previous years
 * (the window ending on the same calendar day, 28 February for a 29th, with the season's length),
 * then parus_climate_season; a year without any value in its window is left out (the store's
 * weather has not begun yet), so n_years_given counts the years with weather. A parcel with
 * weather but none in the season has every season figure MISSING_DAYS. Errors: E_NOT_FOUND when
 * the parcel is not in the store, and when no grid holds weights for it ("no weather is stored
 * for parcel ..."): callers that treat weather as optional take E_NOT_FOUND as "none"; E_INVALID
 * (a season that is not canonical, max_years over 100), the store's, E_NOMEM. Reads the store
 * (one thread at a time). */
PARUS_API parus_status parus_climate_parcel_season(parus_store *store, const char *parcel_id,
                                                   const char *season, const parus_crop *crop,
                                                   size_t max_years, parus_climate *out,
                                                   parus_error *err);

/* The season's rain day by day beside each day's normal (the chart's rain panel, parus/chart.h),
 * from the same reads as the figures. */
typedef struct parus_climate_rain_days {
    int64_t first_day; /* the season's first day: rain_mm[i] is day first_day + i */
    size_t n_days;     /* the season's days */
    double *rain_mm;   /* the parcel's precipitation each day (mm); NaN: no value that day */
    /* each day's mean over the climatology years that have a value on the same day of their
     * window (mm), NaN on a day fewer than PARUS_CLIMATE_MIN_YEARS years have; NULL when the
     * climatology gives no normal (parus_climate.climatology_why not OK). Over a window without
     * missing days the days' means add up to rain_mm_normal.mean. */
    double *normal_mm;
    size_t n_years; /* the climatology years read (parus_climate.n_years_given) */
} parus_climate_rain_days;

PARUS_API void parus_climate_rain_days_release(parus_climate_rain_days *days);

/* parus_climate_parcel_season, and the season's rain day by day with each day's normal over the
 * same climatology years: one read of the weather for both. *days is written (and owns its
 * arrays: parus_climate_rain_days_release) only on success; days NULL: as
 * parus_climate_parcel_season. Errors: those of parus_climate_parcel_season. */
PARUS_API parus_status parus_climate_parcel_season_days(parus_store *store, const char *parcel_id,
                                                        const char *season, const parus_crop *crop,
                                                        size_t max_years, parus_climate *out,
                                                        parus_climate_rain_days *days,
                                                        parus_error *err);

/* ---- the yield model's weather terms (parus/yield.h) ---- */

/* A parcel's season as the yield model reads it: the rain over the crop's sensitive window (30
 * days before its peak to its harvest, inside the season) against the same calendar window's
 * mean over up to max_years previous years, and the heat days around its peak. */
typedef struct parus_yield_weather_terms {
    double rain_deficit;            /* max(0, 1 - rain_mm / rain_normal_mm); NaN: why */
    double heat_days;               /* days with tmax > theat_c within +-10 days of the peak (inside
                                       the season); NaN when one of them has no value */
    double rain_mm, rain_normal_mm; /* over the sensitive window */
    int64_t heat_first_day, heat_last_day; /* the heat days' window (the peak +-10, inside) */
    int64_t first_day, last_day;           /* the sensitive window */
    size_t n_years;                        /* previous years with the window's total */
    bool no_weather;                       /* no grid holds weights for the parcel */
    parus_climate_why why;                 /* OK, or why rain_deficit is NaN */
    /* the driest spell of the crop's canopy (the drought rule, parus/health.h): of every
     * PARUS_CLIMATE_DRY_WINDOW_DAYS-day window inside the season and inside the crop's canopy
     * period (PARUS_CLIMATE_DRY_BEFORE_PEAK_DAYS before its peak to its harvest; the whole period
     * as one window when shorter) whose normal (the mean of the same calendar window's totals in
     * the previous years, at least PARUS_CLIMATE_MIN_YEARS of them) reaches
     * PARUS_CLIMATE_DRY_MIN_NORMAL_MM, the one whose rain is the smallest share of its normal
     * (the earliest of equal ones). dry_ratio NaN (dry_why says why) when no window qualifies. */
    double dry_ratio;                    /* dry_rain_mm / dry_normal_mm */
    double dry_rain_mm, dry_normal_mm;   /* that window's rain and its normal */
    int64_t dry_first_day, dry_last_day; /* that window */
    size_t dry_n_years;                  /* previous years behind its normal */
    parus_climate_why dry_why;
    /* damaging frost: days whose minimum fell below PARUS_CLIMATE_DAMAGING_FROST_C within
     * PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS before and PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS after a
     * peak of any of the crop's cycles (booting, heading and flowering), inside the season; with
     * a day of those windows missing, the nights seen (a lower bound), NaN when none was; 0 when
     * no window meets the season */
    double frost_days;
    double frost_min_c;                      /* the coldest of them (NaN: none) */
    int64_t frost_first_day, frost_last_day; /* the first and last of them */
    /* the wettest spell of the crop's canopy period (the waterlogging rule, parus/health.h): of
     * every PARUS_CLIMATE_WET_WINDOW_DAYS-day window inside the season and the dry windows'
     * canopy period, the one with the most rain (the earliest of equal ones; a window with a day
     * missing is not counted), and the same period's wettest window in each previous year with
     * one known: the highest of those and their mean. wet_mm NaN (wet_why says why) when no
     * window of the season is known; the climatology's NaN with fewer than
     * PARUS_CLIMATE_MIN_YEARS years */
    double wet_mm;
    int64_t wet_first_day, wet_last_day;
    double wet_clim_max_mm, wet_clim_mean_mm;
    size_t wet_n_years;
    parus_climate_why wet_why;
} parus_yield_weather_terms;

/* The damaging frost nights of a parcel around the given peak days (any order; each window from
 * PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS before to PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS after it,
 * inside first_day..last_day), into t->frost_days, frost_min_c, frost_first_day and
 * frost_last_day as parus_yield_weather_terms says (a night in two windows counts once).
 * parus_yield_weather calls it with the crop table's peaks (the parcel's observed cycle peaks
 * instead measured worse: docs/method.md). Errors: E_INVALID, E_NOMEM.
 * Thread-safe on a shared reader. */
PARUS_API parus_status parus_yield_frost(const parus_weather_reader *r, const char *parcel_id,
                                         int64_t first_day, int64_t last_day, const int64_t *peaks,
                                         size_t n_peaks, parus_yield_weather_terms *t,
                                         parus_error *err);

/* The frost rule's window and threshold: a freeze at booting to flowering kills florets and
 * leaves heads empty (winter wheat is hurt below about -2 degC from heading on: Kansas State
 * University, "Spring freeze injury to Kansas wheat", C646; docs/method.md). */
#define PARUS_CLIMATE_DAMAGING_FROST_C (-2.0)
#define PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS 25
#define PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS 10

/* The drought rule's rain windows (parus_yield_weather_terms.dry_*). */
#define PARUS_CLIMATE_DRY_WINDOW_DAYS 60
#define PARUS_CLIMATE_DRY_BEFORE_PEAK_DAYS 60
#define PARUS_CLIMATE_DRY_MIN_NORMAL_MM 20.0

/* The waterlogging rule's rain window (parus_yield_weather_terms.wet_*): a storm's days. */
#define PARUS_CLIMATE_WET_WINDOW_DAYS 5

/* The terms of one parcel and crop for the season first_day..last_day, from a reader opened on
 * a span that holds the season and the max_years before it (parus_weather_reader_open). A crop
 * without a cycle in the season, a parcel no grid covers, fewer than PARUS_CLIMATE_MIN_YEARS
 * years with the window's total, or more than PARUS_CLIMATE_MAX_MISSING_PERCENT % of the window
 * missing: NaN with the reason (not an error). Errors: E_INVALID, E_NOMEM. Thread-safe on a
 * shared reader. docs/method.md ("Weather in the yield model"). */
PARUS_API parus_status parus_yield_weather(const parus_weather_reader *r, const char *parcel_id,
                                           int64_t first_day, int64_t last_day,
                                           const parus_crop *crop, size_t max_years,
                                           parus_yield_weather_terms *out, parus_error *err);

/* ---- the distributions behind the SPI (pure, reentrant) ---- */

/* The regularised lower incomplete gamma function P(shape, x / scale): the gamma distribution's
 * CDF. Series for x / scale < shape + 1, continued fraction above (as Numerical Recipes
 * describes), to about 1e-14. NaN for shape or scale <= 0 or NaN x; 0 for x <= 0. */
PARUS_API double parus_climate_gamma_cdf(double shape, double scale, double x);

/* The standard normal quantile Phi^-1(p): Acklam's rational approximation refined by one Halley
 * step on erfc, to about 1e-15. -inf at 0, +inf at 1, NaN outside [0, 1]. */
PARUS_API double parus_climate_normal_quantile(double p);

/* Fit a gamma distribution to n positive values by maximum likelihood with Thom's (1958)
 * approximation of the shape: A = ln(mean) - mean(ln x), shape = (1 + sqrt(1 + 4A/3)) / 4A,
 * scale = mean / shape. Returns OK, FEW_WET_YEARS (n below PARUS_CLIMATE_MIN_WET_YEARS, or a
 * value <= 0 or not finite) or EQUAL_TOTALS (A = 0); *shape and *scale written on OK only. */
PARUS_API parus_climate_why parus_climate_gamma_fit(const double *x, size_t n, double *shape,
                                                    double *scale);

/* The SPI of the total x against the climatology totals clim[0..n) (finite, >= 0): q = share of
 * zeros, a gamma fitted to the rest, H(x) = q + (1 - q) G(x), SPI = Phi^-1(H) clipped to
 * +-PARUS_CLIMATE_SPI_LIMIT (McKee et al. 1993; WMO 2012). Fills every field of *out but n_days.
 * Pure. */
PARUS_API void parus_climate_spi_of(double x, const double *clim, size_t n, parus_climate_spi *out);

#ifdef __cplusplus
}
#endif
#endif

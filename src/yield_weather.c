/*
 * yield_weather.c - the season's weather terms of the yield model (parus_yield_weather in
 * parus/climate.h): the rain deficit over the crop's sensitive window against the same window's
 * normal, and the heat days around its peak, from a weather reader (parus/weather.h), so that
 * `parus assess` (every parcel, any thread) and `parus calibrate yield` (every harvest) compute
 * them the same way. docs/method.md, "Weather in the yield model".
 *
 * The sensitive window runs from 30 days before the crop's peak (flowering, grain set) to its
 * harvest, inside the season: the stage where water decides the grain that canopy greenness
 * (already in the integral) does not show. Its normal is the mean of the same calendar window's
 * totals in up to max_years previous years with weather.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/climate.h"
#include "parus/weather.h"
#include "util_int.h"

/* Days before the peak the sensitive window opens. */
#define SENSITIVE_DAYS_BEFORE_PEAK 30

/* The day k calendar years before day (29 February becomes the 28th). */
static int64_t years_back(int64_t day, int k)
{
    char text[11], shifted[16];
    long year;
    parus__format_day(day, text);
    year = strtol(text, NULL, 10) - k;
    if (strcmp(text + 4, "-02-29") == 0)
        memcpy(text + 4, "-02-28", 7);
    snprintf(shifted, sizeof shifted, "%04ld%s", year, text + 4);
    return parus__date_days(shifted);
}

/* Total precipitation of days d0..d1 of a series read over a span that holds them; NaN when
 * more than the climate module's share of days is missing (the known days scaled to the span
 * otherwise, as parus/climate.h counts). */
static double rain_of(const parus_weather_series *s, int64_t d0, int64_t d1)
{
    size_t i, n = (size_t)(d1 - d0 + 1), n_known = 0;
    size_t i0 = (size_t)(d0 - s->days[0].day);
    double sum = 0;
    for (i = i0; i < i0 + n; i++) {
        double v = s->days[i].value[PARUS_WEATHER_PRECIP_MM];
        if (!isnan(v)) {
            sum += v;
            n_known++;
        }
    }
    return (double)(n - n_known) * 100.0 > (double)PARUS_CLIMATE_MAX_MISSING_PERCENT * (double)n
               ? (double)NAN
               : sum * (double)n / (double)n_known;
}

/* The parcel's series over days d0..d1 from the reader. */
static parus_status read_span(const parus_weather_reader *r, const char *parcel_id, int64_t d0,
                              int64_t d1, parus_weather_series *s, parus_error *err)
{
    char a[11], b[11];
    parus__format_day(d0, a);
    parus__format_day(d1, b);
    return parus_weather_reader_parcel(r, parcel_id, a, b, s, err);
}

/* The wettest PARUS_CLIMATE_WET_WINDOW_DAYS-day total of days p0..p1 of s (a window with a day
 * missing is not counted), its first day into *first; NaN when none is known or the span is
 * shorter than the window. */
static double wettest_of(const parus_weather_series *s, int64_t p0, int64_t p1, int64_t *first)
{
    double best = NAN;
    int64_t d;
    for (d = p0; d + PARUS_CLIMATE_WET_WINDOW_DAYS - 1 <= p1; d++) {
        size_t i0 = (size_t)(d - s->days[0].day), i;
        double sum = 0;
        for (i = i0; i < i0 + PARUS_CLIMATE_WET_WINDOW_DAYS && !isnan(sum); i++)
            sum += s->days[i].value[PARUS_WEATHER_PRECIP_MM];
        if (!isnan(sum) && !(sum <= best)) {
            best = sum;
            *first = d;
        }
    }
    return best;
}

/* The driest PARUS_CLIMATE_DRY_WINDOW_DAYS-day window of the canopy period p0..p1 (inside the
 * season) against the same windows of up to max_years previous years (parus/climate.h,
 * parus_yield_weather_terms.dry_*), and in the same reads its wettest
 * PARUS_CLIMATE_WET_WINDOW_DAYS-day spell against the previous years' (wet_*). Each year is read
 * once over the whole period; a window's normal is the mean over the years whose window is
 * known. */
static parus_status dry_window(const parus_weather_reader *r, const char *parcel_id, int64_t p0,
                               int64_t p1, size_t max_years, parus_yield_weather_terms *t,
                               parus_error *err)
{
    size_t len = (size_t)(p1 - p0 + 1), w, n_win, i, k, n_wet = 0;
    double *sum = NULL, *season_rain = NULL, wet_sum = 0;
    int64_t wet_day;
    size_t *n_years = NULL;
    parus_weather_series s;
    parus_status code;

    t->dry_why = t->wet_why = PARUS_CLIMATE_OUTSIDE_CALENDAR;
    if (p1 < p0)
        return PARUS_OK;
    w = len < PARUS_CLIMATE_DRY_WINDOW_DAYS ? len : PARUS_CLIMATE_DRY_WINDOW_DAYS;
    n_win = len - w + 1;
    sum = calloc(n_win, sizeof *sum);
    season_rain = malloc(n_win * sizeof *season_rain);
    n_years = calloc(n_win, sizeof *n_years);
    if (!sum || !season_rain || !n_years) {
        code =
            parus_fail(err, PARUS_E_NOMEM, "cannot hold the dry windows of parcel '%s'", parcel_id);
        goto done;
    }
    if ((code = read_span(r, parcel_id, p0, p1, &s, err)) != PARUS_OK)
        goto done;
    for (i = 0; i < n_win; i++)
        season_rain[i] = rain_of(&s, p0 + (int64_t)i, p0 + (int64_t)(i + w) - 1);
    t->wet_mm = wettest_of(&s, p0, p1, &wet_day);
    if (isfinite(t->wet_mm)) {
        t->wet_why = PARUS_CLIMATE_OK;
        t->wet_first_day = wet_day;
        t->wet_last_day = wet_day + PARUS_CLIMATE_WET_WINDOW_DAYS - 1;
    } else {
        t->wet_why = PARUS_CLIMATE_MISSING_DAYS;
    }
    parus_weather_series_release(&s);
    for (k = 1; k <= max_years; k++) {
        int64_t a = years_back(p0, (int)k);
        if ((code = read_span(r, parcel_id, a, a + (int64_t)len - 1, &s, err)) != PARUS_OK)
            goto done;
        for (i = 0; i < n_win; i++) {
            double v = rain_of(&s, a + (int64_t)i, a + (int64_t)(i + w) - 1);
            if (isfinite(v)) {
                sum[i] += v;
                n_years[i]++;
            }
        }
        {
            double v = wettest_of(&s, a, a + (int64_t)len - 1, &wet_day);
            if (isfinite(v)) {
                wet_sum += v;
                n_wet++;
                if (!(v <= t->wet_clim_max_mm))
                    t->wet_clim_max_mm = v;
            }
        }
        parus_weather_series_release(&s);
    }
    t->wet_n_years = n_wet;
    if (n_wet >= PARUS_CLIMATE_MIN_YEARS) {
        t->wet_clim_mean_mm = wet_sum / (double)n_wet;
    } else {
        t->wet_clim_max_mm = NAN;
        if (t->wet_why == PARUS_CLIMATE_OK)
            t->wet_why = PARUS_CLIMATE_FEW_YEARS;
    }
    t->dry_why = PARUS_CLIMATE_MISSING_DAYS;
    for (i = 0; i < n_win; i++) {
        double normal, ratio;
        if (n_years[i] < PARUS_CLIMATE_MIN_YEARS) {
            if (t->dry_why == PARUS_CLIMATE_MISSING_DAYS)
                t->dry_why = PARUS_CLIMATE_FEW_YEARS;
            continue;
        }
        if (!isfinite(season_rain[i]))
            continue;
        normal = sum[i] / (double)n_years[i];
        if (!(normal >= PARUS_CLIMATE_DRY_MIN_NORMAL_MM)) {
            if (t->dry_why != PARUS_CLIMATE_OK)
                t->dry_why = PARUS_CLIMATE_DRY_NORMAL;
            continue;
        }
        ratio = season_rain[i] / normal;
        if (t->dry_why != PARUS_CLIMATE_OK || ratio < t->dry_ratio) {
            t->dry_why = PARUS_CLIMATE_OK;
            t->dry_ratio = ratio;
            t->dry_rain_mm = season_rain[i];
            t->dry_normal_mm = normal;
            t->dry_first_day = p0 + (int64_t)i;
            t->dry_last_day = p0 + (int64_t)(i + w) - 1;
            t->dry_n_years = n_years[i];
        }
    }
    code = PARUS_OK;
done:
    free(sum);
    free(season_rain);
    free(n_years);
    return code;
}

parus_status parus_yield_frost(const parus_weather_reader *r, const char *parcel_id,
                               int64_t first_day, int64_t last_day, const int64_t *peaks,
                               size_t n_peaks, parus_yield_weather_terms *t, parus_error *err)
{
    int64_t a = INT64_MAX, b = INT64_MIN, d;
    size_t k, n_frost = 0;
    bool gap = false;
    parus_weather_series s;
    parus_status code;
    if (!r || !parcel_id || !t || (n_peaks > 0 && !peaks))
        return parus_fail(err, PARUS_E_INVALID, "yield frost: bad arguments");
    t->frost_min_c = NAN;
    t->frost_days = 0;
    t->frost_first_day = t->frost_last_day = 0;
    /* one read over the windows' union, each day counted once when inside a window */
    for (k = 0; k < n_peaks; k++) {
        int64_t lo = peaks[k] - PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS;
        int64_t hi = peaks[k] + PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS;
        lo = lo < first_day ? first_day : lo;
        hi = hi > last_day ? last_day : hi;
        if (hi < lo)
            continue;
        a = lo < a ? lo : a;
        b = hi > b ? hi : b;
    }
    if (b < a)
        return PARUS_OK;
    if ((code = read_span(r, parcel_id, a, b, &s, err)) != PARUS_OK)
        return code;
    for (d = a; d <= b; d++) {
        double v = s.days[d - a].value[PARUS_WEATHER_TMIN_C];
        bool in = false;
        for (k = 0; k < n_peaks && !in; k++)
            in = d >= peaks[k] - PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS &&
                 d <= peaks[k] + PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS;
        if (!in)
            continue;
        if (isnan(v)) {
            gap = true;
        } else if (v < PARUS_CLIMATE_DAMAGING_FROST_C) {
            if (n_frost++ == 0)
                t->frost_first_day = d;
            t->frost_last_day = d;
            if (!(v >= t->frost_min_c))
                t->frost_min_c = v;
        }
    }
    parus_weather_series_release(&s);
    /* frost nights seen are never hidden by a missing day elsewhere (a lower bound then); no
     * frost seen with a day missing is unknown */
    t->frost_days = gap && n_frost == 0 ? (double)NAN : (double)n_frost;
    return PARUS_OK;
}

parus_status parus_yield_weather(const parus_weather_reader *r, const char *parcel_id,
                                 int64_t first_day, int64_t last_day, const parus_crop *crop,
                                 size_t max_years, parus_yield_weather_terms *out, parus_error *err)
{
    parus_yield_weather_terms t;
    parus_climate_crop_dates cd;
    parus_weather_series season;
    double sum = 0;
    int64_t s0, s1, h0, h1;
    size_t k, n_years = 0;
    parus_status code;

    if (!r || !parcel_id || !out || last_day < first_day)
        return parus_fail(err, PARUS_E_INVALID, "yield weather: bad arguments");
    memset(&t, 0, sizeof t);
    t.rain_deficit = t.heat_days = t.rain_mm = t.rain_normal_mm = NAN;
    t.dry_ratio = t.dry_rain_mm = t.dry_normal_mm = NAN;
    t.frost_days = t.frost_min_c = NAN;
    t.wet_mm = t.wet_clim_max_mm = t.wet_clim_mean_mm = NAN;
    t.why = parus_climate_find_crop_dates(crop, first_day, last_day, &cd);
    if (t.why != PARUS_CLIMATE_OK) {
        t.dry_why = t.wet_why = t.why;
        *out = t;
        return PARUS_OK;
    }
    /* the sensitive window and the heat days' window, each inside the season */
    s0 = cd.peak_day - SENSITIVE_DAYS_BEFORE_PEAK;
    s1 = cd.harvest_day;
    h0 = cd.peak_day - PARUS_CLIMATE_HEAT_HALF_DAYS;
    h1 = cd.peak_day + PARUS_CLIMATE_HEAT_HALF_DAYS;
    s0 = s0 < first_day ? first_day : s0;
    s1 = s1 > last_day ? last_day : s1;
    h0 = h0 < first_day ? first_day : h0;
    h1 = h1 > last_day ? last_day : h1;
    if (s1 < s0) {
        t.why = t.dry_why = t.wet_why = PARUS_CLIMATE_OUTSIDE_CALENDAR;
        *out = t;
        return PARUS_OK;
    }
    t.first_day = s0;
    t.last_day = s1;
    t.heat_first_day = h0;
    t.heat_last_day = h1;
    /* the season year, read once over both windows */
    if ((code = read_span(r, parcel_id, h1 >= h0 && h0 < s0 ? h0 : s0,
                          h1 >= h0 && h1 > s1 ? h1 : s1, &season, err)) != PARUS_OK)
        return code;
    if (!season.covered) {
        parus_weather_series_release(&season);
        t.why = t.dry_why = t.wet_why = PARUS_CLIMATE_MISSING_DAYS;
        t.no_weather = true;
        *out = t;
        return PARUS_OK;
    }
    t.rain_mm = rain_of(&season, s0, s1);
    /* heat days: tmax above the crop's threshold within +-PARUS_CLIMATE_HEAT_HALF_DAYS of the
     * peak, inside the season; NaN when a day of it is missing */
    if (h1 >= h0) {
        size_t i, n_hot = 0, i0 = (size_t)(h0 - season.days[0].day);
        bool gap = false;
        for (i = i0; i < i0 + (size_t)(h1 - h0 + 1); i++) {
            double v = season.days[i].value[PARUS_WEATHER_TMAX_C];
            if (isnan(v))
                gap = true;
            else
                n_hot += v > crop->theat_c;
        }
        t.heat_days = gap ? (double)NAN : (double)n_hot;
    }
    parus_weather_series_release(&season);
    /* the same window in each previous year with weather */
    for (k = 1; k <= max_years; k++) {
        parus_weather_series y;
        int64_t a = years_back(s0, (int)k), b = a + (s1 - s0);
        double v;
        if ((code = read_span(r, parcel_id, a, b, &y, err)) != PARUS_OK)
            return code;
        v = rain_of(&y, a, b);
        parus_weather_series_release(&y);
        if (isfinite(v)) {
            sum += v;
            n_years++;
        }
    }
    t.n_years = n_years;
    if (n_years < PARUS_CLIMATE_MIN_YEARS) {
        t.why = PARUS_CLIMATE_FEW_YEARS;
    } else if (!isfinite(t.rain_mm)) {
        t.why = PARUS_CLIMATE_MISSING_DAYS;
    } else {
        t.rain_normal_mm = sum / (double)n_years;
        t.rain_deficit =
            t.rain_normal_mm > 0.0 ? fmax(0.0, 1.0 - t.rain_mm / t.rain_normal_mm) : 0.0;
    }
    {
        int64_t p0 = cd.peak_day - PARUS_CLIMATE_DRY_BEFORE_PEAK_DAYS, p1 = cd.harvest_day;
        code = dry_window(r, parcel_id, p0 < first_day ? first_day : p0,
                          p1 > last_day ? last_day : p1, max_years, &t, err);
        if (code == PARUS_OK) {
            int64_t peaks[8];
            size_t n = parus_climate_crop_peaks(crop, first_day, last_day,
                                                PARUS_CLIMATE_FROST_AFTER_PEAK_DAYS,
                                                PARUS_CLIMATE_FROST_BEFORE_PEAK_DAYS, peaks, 8);
            code = parus_yield_frost(r, parcel_id, first_day, last_day, peaks, n, &t, err);
        }
        if (code != PARUS_OK)
            return code;
    }
    *out = t;
    return PARUS_OK;
}

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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/climate.h"
#include "parus/weather.h"
#include "util_int.h"

/* A damaging frost after green-up: a daily minimum below this (degC). Wheat at jointing is
 * injured from about -4 degC, at boot from -2, at heading and flowering from -1 (Shroyer, Mikesell
 * and Paulsen, "Spring freeze injury to Kansas wheat", K-State C-646); -2 is the middle. */
#define PARUS_YIELD_FROST_C (-2.0)

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

/* Total precipitation of [d0, d1] from the reader; NaN when more than the climate module's share
 * of days is missing (the known days scaled to the span otherwise, as parus/climate.h counts). */
static parus_status rain_total(const parus_weather_reader *r, const char *parcel_id, int64_t d0,
                               int64_t d1, double *total, bool *covered, parus_error *err)
{
    parus_weather_series s;
    char a[11], b[11];
    size_t i, n_known = 0;
    double sum = 0;
    parus_status code;
    parus__format_day(d0, a);
    parus__format_day(d1, b);
    if ((code = parus_weather_reader_parcel(r, parcel_id, a, b, &s, err)) != PARUS_OK)
        return code;
    *covered = s.covered;
    for (i = 0; i < s.n_days; i++) {
        double v = s.days[i].value[PARUS_WEATHER_PRECIP_MM];
        if (!isnan(v)) {
            sum += v;
            n_known++;
        }
    }
    *total = (double)(s.n_days - n_known) * 100.0 >
                     (double)PARUS_CLIMATE_MAX_MISSING_PERCENT * (double)s.n_days
                 ? (double)NAN
                 : sum * (double)s.n_days / (double)n_known;
    parus_weather_series_release(&s);
    return PARUS_OK;
}

parus_status parus_yield_weather(const parus_weather_reader *r, const char *parcel_id,
                                 int64_t first_day, int64_t last_day, const parus_crop *crop,
                                 size_t max_years, parus_yield_weather_terms *out, parus_error *err)
{
    parus_yield_weather_terms t;
    parus_climate_crop_dates cd;
    double this_year, *totals = NULL, sum = 0;
    int64_t s0, s1, h0, h1;
    size_t k, n_years = 0;
    bool covered = false;
    parus_status code;

    if (!r || !parcel_id || !out || last_day < first_day)
        return parus_fail(err, PARUS_E_INVALID, "yield weather: bad arguments");
    memset(&t, 0, sizeof t);
    t.rain_deficit = t.heat_days = t.rain_mm = t.rain_normal_mm = t.frost_days = NAN;
    t.why = parus_climate_find_crop_dates(crop, first_day, last_day, &cd);
    if (t.why != PARUS_CLIMATE_OK) {
        *out = t;
        return PARUS_OK;
    }
    s0 = cd.peak_day - SENSITIVE_DAYS_BEFORE_PEAK;
    s1 = cd.harvest_day;
    if (s0 < first_day)
        s0 = first_day;
    if (s1 > last_day)
        s1 = last_day;
    if (s1 < s0) {
        t.why = PARUS_CLIMATE_OUTSIDE_CALENDAR;
        *out = t;
        return PARUS_OK;
    }
    t.first_day = s0;
    t.last_day = s1;
    if ((code = rain_total(r, parcel_id, s0, s1, &this_year, &covered, err)) != PARUS_OK)
        return code;
    if (!covered) {
        t.why = PARUS_CLIMATE_MISSING_DAYS;
        t.no_weather = true;
        *out = t;
        return PARUS_OK;
    }
    if (max_years > 0 && !(totals = malloc(max_years * sizeof *totals)))
        return parus_fail(err, PARUS_E_NOMEM, "yield weather: out of memory");
    for (k = 1; k <= max_years; k++) {
        double v;
        int64_t a = years_back(s0, (int)k), b = a + (s1 - s0);
        if ((code = rain_total(r, parcel_id, a, b, &v, &covered, err)) != PARUS_OK) {
            free(totals);
            return code;
        }
        if (isfinite(v)) {
            totals[n_years++] = v;
            sum += v;
        }
    }
    free(totals);
    t.n_years = n_years;
    t.rain_mm = this_year;
    if (n_years < PARUS_CLIMATE_MIN_YEARS) {
        t.why = PARUS_CLIMATE_FEW_YEARS;
    } else if (!isfinite(this_year)) {
        t.why = PARUS_CLIMATE_MISSING_DAYS;
    } else {
        t.rain_normal_mm = sum / (double)n_years;
        t.rain_deficit =
            t.rain_normal_mm > 0.0 ? fmax(0.0, 1.0 - this_year / t.rain_normal_mm) : 0.0;
    }
    /* heat days: tmax above the crop's threshold within +-PARUS_CLIMATE_HEAT_HALF_DAYS of the
     * peak, inside the season; NaN when a day of it is missing */
    h0 = cd.peak_day - PARUS_CLIMATE_HEAT_HALF_DAYS;
    h1 = cd.peak_day + PARUS_CLIMATE_HEAT_HALF_DAYS;
    if (h0 < first_day)
        h0 = first_day;
    if (h1 > last_day)
        h1 = last_day;
    t.heat_first_day = h0;
    t.heat_last_day = h1;
    if (h1 >= h0) {
        parus_weather_series s;
        char a[11], b[11];
        size_t i, n_hot = 0;
        bool gap = false;
        parus__format_day(h0, a);
        parus__format_day(h1, b);
        if ((code = parus_weather_reader_parcel(r, parcel_id, a, b, &s, err)) != PARUS_OK)
            return code;
        for (i = 0; i < s.n_days; i++) {
            double v = s.days[i].value[PARUS_WEATHER_TMAX_C];
            if (isnan(v))
                gap = true;
            else
                n_hot += v > crop->theat_c;
        }
        t.heat_days = gap ? (double)NAN : (double)n_hot;
        parus_weather_series_release(&s);
    }
    {
        /* frost days over the sensitive window */
        parus_weather_series s;
        char a[11], b[11];
        size_t i, n_frost = 0;
        bool gap = false;
        parus__format_day(s0, a);
        parus__format_day(s1, b);
        if ((code = parus_weather_reader_parcel(r, parcel_id, a, b, &s, err)) != PARUS_OK)
            return code;
        for (i = 0; i < s.n_days; i++) {
            double v = s.days[i].value[PARUS_WEATHER_TMIN_C];
            if (isnan(v))
                gap = true;
            else
                n_frost += v < PARUS_YIELD_FROST_C;
        }
        t.frost_days = gap ? (double)NAN : (double)n_frost;
        parus_weather_series_release(&s);
    }
    *out = t;
    return PARUS_OK;
}

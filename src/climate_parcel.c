/*
 * climate_parcel.c - a parcel's season against its climate from the store
 * (parus_climate_parcel_season, parus/climate.h): the season's window and the same window in
 * each previous year read through parus_store_weather_parcel, then the pure computation of
 * climate.c.
 *
 * One read per year, each from the crop's sowing when it precedes the window: a parcel's
 * weather is read through the primary key (grid, cell, variable, day), so a year costs one
 * index range per cell and variable, and years before the store's weather begins cost an empty
 * range. The same reads give the chart its rain day by day and each day's normal
 * (parus_climate_parcel_season_days), so `parus query --chart` reads the weather once. Kept
 * apart from climate.c so that the computation stays free of the store, and apart
 * from weather.c so that `parus query` links no GDAL (docs/ARCHITECTURE.md, "Two programs").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/climate.h"
#include "parus/weather.h"

#include "util_int.h"

/* A window's days, read and held. */
struct held {
    parus_climate_window w;
    double *values; /* 4 x n_data_days: precip, tmin, tmax, tmean */
    bool any;       /* some value in the window (a year without any is not a climatology year) */
};

/* The same calendar day k years earlier: 29 February becomes the 28th in a common year. */
static int64_t years_before(int64_t day, int k)
{
    char text[11];
    int64_t y;
    int m, d;
    parus__civil_from_days(day, &y, &m, &d);
    y -= k;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        d = 28;
    snprintf(text, sizeof text, "%04d-%02d-%02d", (int)y, m, d);
    return parus__date_days(text);
}

/* Read [first, last] of the parcel, from sowing where that is earlier. */
static parus_status read_window(parus_store *store, const char *parcel_id, int64_t first,
                                int64_t last, const parus_crop *crop, struct held *h, bool *covered,
                                parus_error *err)
{
    static const parus_weather_var vars[4] = {PARUS_WEATHER_PRECIP_MM, PARUS_WEATHER_TMIN_C,
                                              PARUS_WEATHER_TMAX_C, PARUS_WEATHER_TMEAN_C};
    parus_climate_crop_dates d;
    parus_weather_series s;
    char a[11], b[11];
    int64_t from = first;
    size_t i, n;
    int v;
    parus_status st;

    if (parus_climate_find_crop_dates(crop, first, last, &d) == PARUS_CLIMATE_OK &&
        d.sow_day < first)
        from = d.sow_day;
    parus__format_day(from, a);
    parus__format_day(last, b);
    st = parus_store_weather_parcel(store, parcel_id, a, b, &s, err);
    if (st != PARUS_OK)
        return st;
    *covered = s.covered;
    n = s.n_days;
    h->values = malloc(4 * (n ? n : 1) * sizeof *h->values);
    if (!h->values) {
        parus_weather_series_release(&s);
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
    }
    for (v = 0; v < 4; v++)
        for (i = 0; i < n; i++) {
            double x = s.days[i].value[vars[v]];
            h->values[(size_t)v * n + i] = x;
            if (!isnan(x) && s.days[i].day >= first)
                h->any = true;
        }
    parus_weather_series_release(&s);
    h->w.first_day = first;
    h->w.last_day = last;
    h->w.data_first_day = from;
    h->w.n_data_days = n;
    h->w.precip_mm = h->values;
    h->w.tmin_c = h->values + n;
    h->w.tmax_c = h->values + 2 * n;
    h->w.tmean_c = h->values + 3 * n;
    return PARUS_OK;
}

void parus_climate_rain_days_release(parus_climate_rain_days *days)
{
    if (!days)
        return;
    free(days->rain_mm);
    free(days->normal_mm);
    memset(days, 0, sizeof *days);
}

/* A window's rain on day k of the window (0 = its first day); NaN outside the data. */
static double rain_on(const parus_climate_window *w, size_t k)
{
    int64_t i = w->first_day + (int64_t)k - w->data_first_day;
    return i >= 0 && (size_t)i < w->n_data_days ? w->precip_mm[i] : (double)NAN;
}

/* The season's rain day by day and, when the climatology gives a normal, each day's mean over
 * the years with a value that day. */
static parus_status rain_days(const parus_climate_window *season, const parus_climate_window *years,
                              size_t n_years, const parus_climate *c, const char *parcel_id,
                              parus_climate_rain_days *out, parus_error *err)
{
    size_t n = (size_t)(season->last_day - season->first_day + 1), k, y;
    double *rain = malloc(n * sizeof *rain), *normal = NULL;

    if (rain && c->climatology_why == PARUS_CLIMATE_OK && !(normal = malloc(n * sizeof *normal))) {
        free(rain);
        rain = NULL;
    }
    if (!rain)
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the daily rain of parcel '%s'",
                          parcel_id);
    for (k = 0; k < n; k++) {
        double sum = 0.0;
        size_t n_with = 0;
        rain[k] = rain_on(season, k);
        if (!normal)
            continue;
        for (y = 0; y < n_years; y++) {
            double x = rain_on(&years[y], k);
            if (!isnan(x)) {
                sum += x;
                n_with++;
            }
        }
        normal[k] = n_with >= PARUS_CLIMATE_MIN_YEARS ? sum / (double)n_with : (double)NAN;
    }
    out->first_day = season->first_day;
    out->n_days = n;
    out->rain_mm = rain;
    out->normal_mm = normal;
    out->n_years = n_years;
    return PARUS_OK;
}

parus_status parus_climate_parcel_season(parus_store *store, const char *parcel_id,
                                         const char *season, const parus_crop *crop,
                                         size_t max_years, parus_climate *out, parus_error *err)
{
    return parus_climate_parcel_season_days(store, parcel_id, season, crop, max_years, out, NULL,
                                            err);
}

parus_status parus_climate_parcel_season_days(parus_store *store, const char *parcel_id,
                                              const char *season, const parus_crop *crop,
                                              size_t max_years, parus_climate *out,
                                              parus_climate_rain_days *days, parus_error *err)
{
    struct held *h;
    parus_climate_window *years;
    parus_climate c;
    parus_climate_rain_days d;
    char a[11], b[11];
    int64_t first, last;
    size_t k, n_years = 0;
    bool covered;
    parus_status st;

    if (!store || !parcel_id || !out)
        return parus_fail(err, PARUS_E_INVALID, "climate of a parcel: missing store, id or output");
    if (!season || !parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD'",
                          season ? season : "");
    if (max_years > 100)
        return parus_fail(err, PARUS_E_INVALID, "climate of a parcel: %zu years is more than 100",
                          max_years);
    memcpy(a, season, 10);
    a[10] = '\0';
    memcpy(b, season + 11, 10);
    b[10] = '\0';
    first = parus__date_days(a);
    last = parus__date_days(b);

    h = calloc(max_years + 1, sizeof *h);
    years = calloc(max_years + 1, sizeof *years);
    if (!h || !years) {
        st = parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
        goto out_free;
    }
    st = read_window(store, parcel_id, first, last, crop, &h[0], &covered, err);
    if (st != PARUS_OK)
        goto out_free;
    if (!covered) {
        st = parus_fail(err, PARUS_E_NOT_FOUND, "no weather is stored for parcel '%s'", parcel_id);
        goto out_free;
    }
    for (k = 1; k <= max_years; k++) {
        int64_t end = years_before(last, (int)k);
        st = read_window(store, parcel_id, end - (last - first), end, crop, &h[k], &covered, err);
        if (st != PARUS_OK)
            goto out_free;
        if (h[k].any)
            years[n_years++] = h[k].w;
    }
    st = parus_climate_season(&h[0].w, years, n_years, crop, &c, err);
    if (st == PARUS_OK && days)
        st = rain_days(&h[0].w, years, n_years, &c, parcel_id, &d, err);
    if (st == PARUS_OK) {
        *out = c;
        if (days)
            *days = d;
    }
out_free:
    for (k = 0; h && k <= max_years; k++)
        free(h[k].values);
    free(h);
    free(years);
    return st;
}

/*
 * weather_csv.c - daily station records from a CSV file (docs/formats.md, "Weather: station
 * records"): station_id, lon, lat, date, then one column per variable, named with parus's own
 * variable names, which carry the unit (precip_mm, tmin_c, tmax_c, tmean_c, rad_mj_m2, et0_mm).
 * An empty cell is a missing value, never zero. The stations become the cells of a one-row grid
 * with no geotransform; they are stored like any grid and weighed to parcels by distance
 * (weather.c, weigh_stations).
 *
 * A station file is small (tens of stations, years of days): it is read whole into memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin_int.h"
#include "util_int.h"
#include "weather_int.h"

struct row {
    size_t station;
    int64_t day;
    double v[PARUS_WEATHER_N_VARS_];
};

struct station {
    char id[64];
    double lon, lat;
};

struct csvread {
    const char *path;
    struct row *rows;
    size_t n_rows, cap_rows;
    struct station *st;
    size_t n_st, cap_st;
    int col_of[PARUS_WEATHER_N_VARS_]; /* -1: absent */
};

static bool number(const char *s, double *out)
{
    char *end;
    while (*s == ' ')
        s++;
    *out = parus__strtod_c(s, &end);
    while (*end == ' ')
        end++;
    return end != s && *end == '\0' && isfinite(*out);
}

/* The four columns every station file starts with, in this order (case ignored). */
static const char *const fixed[4] = {"station_id", "lon", "lat", "date"};

static parus_status header(struct csvread *r, const parus__csv *csv, parus_error *err)
{
    size_t c;
    int v;
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        r->col_of[v] = -1;
    if (csv->n_cells < 5)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': the header must be station_id,lon,lat,date and at least one "
                          "variable column",
                          r->path);
    for (c = 0; c < 4; c++)
        if (parus__strcasecmp(csv->cells[c], fixed[c]) != 0)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': column %zu is '%s', not '%s'", r->path,
                              c + 1, csv->cells[c], fixed[c]);
    for (c = 4; c < csv->n_cells; c++) {
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
            if (strcmp(csv->cells[c], parus_weather_var_name((parus_weather_var)v)) == 0)
                break;
        if (v == PARUS_WEATHER_N_VARS_)
            return parus_fail(err, PARUS_E_BANDS,
                              "'%s': column '%s' is not a variable parus knows; the name carries "
                              "the unit: precip_mm, tmin_c, tmax_c, tmean_c, rad_mj_m2, et0_mm",
                              r->path, csv->cells[c]);
        if (r->col_of[v] >= 0)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': column '%s' appears twice", r->path,
                              csv->cells[c]);
        r->col_of[v] = (int)c;
    }
    return PARUS_OK;
}

static parus_status record(struct csvread *r, const parus__csv *csv, parus_error *err)
{
    const char *id = csv->cells[0];
    double lon, lat;
    char date[11];
    struct row *row;
    size_t s;
    int v;

    if (!*id || strlen(id) >= sizeof r->st[0].id || strpbrk(id, "\n\r\t"))
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line %zu: a station id is 1 to 63 bytes on one line", r->path,
                          csv->line);
    if (!number(csv->cells[1], &lon) || !number(csv->cells[2], &lat) || fabs(lon) > 180 ||
        fabs(lat) > 90)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' line %zu: lon '%s', lat '%s' is no place",
                          r->path, csv->line, csv->cells[1], csv->cells[2]);
    if (!parus__parse_date(csv->cells[3], date) || strlen(csv->cells[3]) != 10)
        return parus_fail(err, PARUS_E_NO_DATE, "'%s' line %zu: '%s' is not a date YYYY-MM-DD",
                          r->path, csv->line, csv->cells[3]);
    for (s = 0; s < r->n_st && strcmp(r->st[s].id, id) != 0; s++)
        ;
    if (s == r->n_st) {
        if (!parus__grow((void **)&r->st, &r->cap_st, r->n_st + 1, sizeof *r->st, 16))
            return parus_fail(err, PARUS_E_NOMEM, "cannot hold the stations of '%s'", r->path);
        snprintf(r->st[s].id, sizeof r->st[s].id, "%s", id);
        r->st[s].lon = lon;
        r->st[s].lat = lat;
        r->n_st++;
    } else if (r->st[s].lon != lon || r->st[s].lat != lat) {
        return parus_fail(err, PARUS_E_FORMAT, "'%s' line %zu: station '%s' has moved", r->path,
                          csv->line, id);
    }
    if (!parus__grow((void **)&r->rows, &r->cap_rows, r->n_rows + 1, sizeof *r->rows, 256))
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the records of '%s'", r->path);
    row = &r->rows[r->n_rows++];
    row->station = s;
    row->day = parus__date_days(date);
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
        const char *cell = r->col_of[v] >= 0 ? csv->cells[r->col_of[v]] : "";
        row->v[v] = NAN;
        if (*cell && !number(cell, &row->v[v]))
            return parus_fail(err, PARUS_E_FORMAT, "'%s' line %zu: %s '%s' is not a number",
                              r->path, csv->line, parus_weather_var_name((parus_weather_var)v),
                              cell);
    }
    return PARUS_OK;
}

/* The values against what weather can be (a kelvin temperature in a _c column is refused). */
static parus_status check(const struct csvread *r, parus_error *err)
{
    size_t i;
    int v;
    for (i = 0; i < r->n_rows; i++)
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
            double x = r->rows[i].v[v];
            bool temp = v == PARUS_WEATHER_TMIN_C || v == PARUS_WEATHER_TMAX_C ||
                        v == PARUS_WEATHER_TMEAN_C;
            double lo = temp ? -95 : -1, hi = temp ? 65 : v == PARUS_WEATHER_RAD_MJ_M2 ? 60 : 2000;
            char day[11];
            if (isnan(x) || (x >= lo && x <= hi))
                continue;
            parus__format_day(r->rows[i].day, day);
            return parus_fail(
                err, PARUS_E_RANGE, "'%s': %s of station '%s' on %s is %g, outside [%g, %g]%s",
                r->path, parus_weather_var_name((parus_weather_var)v), r->st[r->rows[i].station].id,
                day, x, lo, hi, temp && x > 150 ? ": kelvin in a Celsius column?" : "");
        }
    return PARUS_OK;
}

static parus_status to_data(const struct csvread *r, parus_weather_data *d, parus_error *err)
{
    int64_t first = INT64_MAX, last = INT64_MIN;
    size_t i, n, len = 0;
    char *list;
    int v;

    if (r->n_rows == 0)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' holds no records", r->path);
    for (i = 0; i < r->n_rows; i++) {
        first = r->rows[i].day < first ? r->rows[i].day : first;
        last = r->rows[i].day > last ? r->rows[i].day : last;
    }
    if (last - first >= 40000)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' spans more than 40000 days", r->path);
    d->first_day = first;
    d->n_days = (size_t)(last - first + 1);
    d->width = r->n_st;
    d->height = 1;
    memcpy(d->format, "CSV", 4);
    d->crs_wkt = parus__strdup(parus__wgs84_wkt);
    list = malloc(r->n_st * 100 + 1);
    d->stations = list;
    if (!d->crs_wkt || !list || !parus__mul_size(d->n_days, r->n_st, &n))
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the records of '%s'", r->path);
    list[0] = '\0';
    for (i = 0; i < r->n_st; i++) {
        const struct station *s = &r->st[i];
        len += (size_t)snprintf(list + len, 100, "%s %.6f %.6f\n", s->id, s->lon, s->lat);
    }
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
        if (r->col_of[v] < 0)
            continue;
        d->values[v] = malloc(n * sizeof(float));
        if (!d->values[v])
            return parus_fail(err, PARUS_E_NOMEM, "cannot hold the records of '%s'", r->path);
        for (i = 0; i < n; i++)
            d->values[v][i] = NAN;
    }
    for (i = 0; i < r->n_rows; i++) {
        size_t at = (size_t)(r->rows[i].day - first) * r->n_st + r->rows[i].station;
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
            if (!d->values[v])
                continue;
            if (!isnan(d->values[v][at]) && !isnan(r->rows[i].v[v])) {
                char day[11];
                parus__format_day(r->rows[i].day, day);
                return parus_fail(err, PARUS_E_FORMAT, "'%s': station '%s' has two records on %s",
                                  r->path, r->st[r->rows[i].station].id, day);
            }
            if (!isnan(r->rows[i].v[v]))
                d->values[v][at] = (float)r->rows[i].v[v];
        }
    }
    for (v = 0; v < PARUS_WEATHER_N_VARS_ && d->n_sources < PARUS_WEATHER_MAX_SOURCES; v++) {
        parus_weather_source *s;
        if (r->col_of[v] < 0)
            continue;
        s = &d->sources[d->n_sources++];
        snprintf(s->name, sizeof s->name, "%s", parus_weather_var_name((parus_weather_var)v));
        snprintf(s->label, sizeof s->label, "%s", "(in the column name)");
        snprintf(s->unit, sizeof s->unit, "%s", "(in the column name)");
        s->n_steps = d->n_days;
        s->median_raw = NAN;
    }
    parus__weather_find_gaps(d);
    return PARUS_OK;
}

parus_status parus__weather_read_csv(const char *path, const parus_weather_options *opt,
                                     parus_weather_data *out, parus_error *err)
{
    parus__csv csv;
    struct csvread r;
    bool done = false, first = true;
    parus_status rc;

    (void)opt; /* the column names state each unit: nothing to override */
    memset(&r, 0, sizeof r);
    r.path = path;
    rc = parus__csv_open(&csv, path, err);
    if (rc != PARUS_OK)
        return rc;
    csv.line_end_required = true; /* a record cut short reads as a smaller value */
    while (rc == PARUS_OK) {
        rc = parus__csv_next(&csv, &done, err);
        if (rc != PARUS_OK || done)
            break;
        rc = first ? header(&r, &csv, err) : record(&r, &csv, err);
        first = false;
    }
    parus__csv_close(&csv);
    if (rc == PARUS_OK && first)
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s' is empty", path);
    if (rc == PARUS_OK)
        rc = check(&r, err);
    if (rc == PARUS_OK)
        rc = to_data(&r, out, err);
    free(r.rows);
    free(r.st);
    return rc;
}

bool parus__weather_csv_is_stations(const char *path)
{
    parus__csv csv;
    parus_error err;
    bool done = true, yes = false;
    size_t c;

    parus_error_init(&err);
    if (parus__csv_open(&csv, path, &err) != PARUS_OK)
        return false;
    if (parus__csv_next(&csv, &done, &err) == PARUS_OK && !done && csv.n_cells >= 4) {
        yes = true;
        for (c = 0; c < 4 && yes; c++)
            yes = parus__strcasecmp(csv.cells[c], fixed[c]) == 0;
    }
    parus__csv_close(&csv);
    return yes;
}

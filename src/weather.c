/*
 * weather.c - gridded weather in: read NetCDF (CF), GRIB 1/2 and GeoTIFF weather files through
 * GDAL into daily values per cell, in parus's units, and weigh parcels over the cells.
 *
 * Workload: a file holds one or a few variables over a province or a country (a few hundred to
 * a few hundred thousand cells) for days to a year, daily or hourly. It is read whole, band by
 * band, one GDAL handle; the result (days x cells floats per variable) fits in memory.
 *
 * What a file must say, and what parus does with it (docs/formats.md, "Weather"):
 * - which variable: the netCDF variable name or standard_name, the GRIB element ("2T", "TP",
 *   "TMP" at 2 m...), the GeoTIFF's VARIABLE metadata; or the user says (--variable NAME=KIND).
 *   Variables parus does not know are listed and ignored.
 * - when: netCDF's time axis ("days|hours|minutes|seconds since DATE", calendar standard,
 *   gregorian or proleptic_gregorian, anything else refused); GRIB's GRIB_VALID_TIME per band;
 *   a GeoTIFF band's DATE metadata or a date in its description. A file without times is
 *   refused, never guessed from its name.
 * - the unit: netCDF's units, GRIB_UNIT (GDAL is asked for the file's own units: its GRIB unit
 *   normalisation labels GRIB 1 temperatures [C] while leaving them in kelvin), the GeoTIFF
 *   band's unit type or UNITS metadata; or the user states it (--unit NAME=UNIT). The unit is then
 *   checked against the values (kelvin labelled Celsius is refused, not corrected).
 * Sub-daily steps are aggregated to UTC days for temperature only; a day with fewer steps than a
 * full day is left missing. Sub-daily precipitation and radiation are refused: products disagree
 * on whether a step holds the last hour or everything since midnight (ERA5 against ERA5-Land),
 * and a wrong guess multiplies rainfall.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <proj.h>

#include "parus/coverage.h"
#include "parus/weather.h"

#include "coverage_int.h"
#include "util_int.h"
#include "weather_int.h"

#define SECONDS_PER_DAY 86400
#define MAX_VARS 16
#define MEDIAN_SAMPLE 200000

/* ---- what a variable is ---- */

enum kind { K_NONE = -1, K_PRECIP, K_TMIN, K_TMAX, K_TMEAN, K_TEMP, K_RAD, K_ET0 };

static const struct {
    const char *name;
    enum kind kind;
} known_names[] = {
    {"tp", K_PRECIP},       {"pr", K_PRECIP},   {"precip", K_PRECIP}, {"precipitation", K_PRECIP},
    {"prcp", K_PRECIP},     {"prec", K_PRECIP}, {"pre", K_PRECIP},    {"rain", K_PRECIP},
    {"rainfall", K_PRECIP}, {"apcp", K_PRECIP}, {"tmin", K_TMIN},     {"tasmin", K_TMIN},
    {"mn2t", K_TMIN},       {"mn2t24", K_TMIN}, {"tmn", K_TMIN},      {"tmax", K_TMAX},
    {"tasmax", K_TMAX},     {"mx2t", K_TMAX},   {"mx2t24", K_TMAX},   {"tmx", K_TMAX},
    {"tmean", K_TMEAN},     {"tavg", K_TMEAN},  {"tg", K_TMEAN},      {"t2m", K_TEMP},
    {"2t", K_TEMP},         {"tas", K_TEMP},    {"temp", K_TEMP},     {"temperature", K_TEMP},
    {"tmp", K_TEMP},        {"ssrd", K_RAD},    {"rsds", K_RAD},      {"dswrf", K_RAD},
    {"srad", K_RAD},        {"rad", K_RAD},     {"et0", K_ET0},       {"eto", K_ET0},
    {"pet", K_ET0},
};

static const struct {
    const char *name;
    enum kind kind;
} known_standard_names[] = {
    {"air_temperature", K_TEMP},
    {"precipitation_amount", K_PRECIP},
    {"precipitation_flux", K_PRECIP},
    {"lwe_thickness_of_precipitation_amount", K_PRECIP},
    {"surface_downwelling_shortwave_flux_in_air", K_RAD},
};

/* What the user may call a kind (--variable NAME=KIND). */
static const struct {
    const char *word;
    enum kind kind;
} kind_words[] = {
    {"precip", K_PRECIP}, {"tmin", K_TMIN}, {"tmax", K_TMAX}, {"tmean", K_TMEAN},
    {"temp", K_TEMP},     {"rad", K_RAD},   {"et0", K_ET0},
};

static enum kind kind_of_name(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof known_names / sizeof known_names[0]; i++)
        if (parus__strcasecmp(name, known_names[i].name) == 0)
            return known_names[i].kind;
    return K_NONE;
}

static enum kind kind_of_standard_name(const char *sn)
{
    size_t i;
    for (i = 0; sn && i < sizeof known_standard_names / sizeof known_standard_names[0]; i++)
        if (strcmp(sn, known_standard_names[i].name) == 0)
            return known_standard_names[i].kind;
    return K_NONE;
}

/* The value of "NAME=VALUE" among the statements for name, or NULL. */
static const char *stated(const char *const *list, size_t n, const char *name)
{
    size_t i, len = strlen(name);
    const char *found = NULL;
    for (i = 0; i < n; i++)
        if (list[i] && strncmp(list[i], name, len) == 0 && list[i][len] == '=')
            found = list[i] + len + 1;
    return found;
}

/* ---- units ---- */

enum quantity { Q_TEMP, Q_DEPTH, Q_RAD };

/* A unit: the quantity it measures and value_in_parus_unit = raw * factor + offset. For depths
 * (precipitation, ET0) the parus unit is mm/day, for temperature degC, for radiation
 * MJ m-2 day-1; a daily total in mm and a mean rate both become mm/day. */
struct unit {
    enum quantity q;
    double factor, offset;
    bool celsius, kelvin; /* temperature labels, for the value check */
};

static const struct {
    const char *spelling; /* normalised: ASCII lower case, no spaces, brackets, '*', '^' or degree
                             sign */
    struct unit u;
} units[] = {
    {"c", {Q_TEMP, 1, 0, true, false}},
    {"degc", {Q_TEMP, 1, 0, true, false}},
    {"deg_c", {Q_TEMP, 1, 0, true, false}},
    {"degreec", {Q_TEMP, 1, 0, true, false}},
    {"degreesc", {Q_TEMP, 1, 0, true, false}},
    {"degree_c", {Q_TEMP, 1, 0, true, false}},
    {"degrees_c", {Q_TEMP, 1, 0, true, false}},
    {"celsius", {Q_TEMP, 1, 0, true, false}},
    {"degreescelsius", {Q_TEMP, 1, 0, true, false}},
    {"degree_celsius", {Q_TEMP, 1, 0, true, false}},
    {"k", {Q_TEMP, 1, -273.15, false, true}},
    {"kelvin", {Q_TEMP, 1, -273.15, false, true}},
    {"degk", {Q_TEMP, 1, -273.15, false, true}},
    {"deg_k", {Q_TEMP, 1, -273.15, false, true}},
    {"mm", {Q_DEPTH, 1, 0, false, false}},
    {"mm/day", {Q_DEPTH, 1, 0, false, false}},
    {"mm/d", {Q_DEPTH, 1, 0, false, false}},
    {"mmd-1", {Q_DEPTH, 1, 0, false, false}},
    {"mmday-1", {Q_DEPTH, 1, 0, false, false}},
    {"kgm-2", {Q_DEPTH, 1, 0, false, false}},
    {"kg/m2", {Q_DEPTH, 1, 0, false, false}},
    {"kgm-2d-1", {Q_DEPTH, 1, 0, false, false}},
    {"m", {Q_DEPTH, 1000, 0, false, false}},
    {"m/day", {Q_DEPTH, 1000, 0, false, false}},
    {"md-1", {Q_DEPTH, 1000, 0, false, false}},
    {"mofwaterequivalent", {Q_DEPTH, 1000, 0, false, false}},
    {"kgm-2s-1", {Q_DEPTH, 86400, 0, false, false}},
    {"kg/m2/s", {Q_DEPTH, 86400, 0, false, false}},
    {"kg/m2s", {Q_DEPTH, 86400, 0, false, false}},
    {"mm/s", {Q_DEPTH, 86400, 0, false, false}},
    {"mms-1", {Q_DEPTH, 86400, 0, false, false}},
    {"jm-2", {Q_RAD, 1e-6, 0, false, false}},
    {"j/m2", {Q_RAD, 1e-6, 0, false, false}},
    {"mjm-2", {Q_RAD, 1, 0, false, false}},
    {"mj/m2", {Q_RAD, 1, 0, false, false}},
    {"mjm-2d-1", {Q_RAD, 1, 0, false, false}},
    {"mjm-2day-1", {Q_RAD, 1, 0, false, false}},
    {"mj/m2/day", {Q_RAD, 1, 0, false, false}},
    {"wm-2", {Q_RAD, 0.0864, 0, false, false}},
    {"w/m2", {Q_RAD, 0.0864, 0, false, false}},
};

static void normalise_unit(const char *in, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    for (; *p && o + 1 < size; p++) {
        if (*p == ' ' || *p == '[' || *p == ']' || *p == '(' || *p == ')' || *p == '*' || *p == '^')
            continue;
        if (p[0] == 0xC2 && p[1] == 0xB0) { /* the degree sign in UTF-8 */
            p++;
            continue;
        }
        out[o++] = (char)tolower(*p);
    }
    out[o] = '\0';
}

static bool find_unit(const char *text, struct unit *u)
{
    char norm[64];
    size_t i;
    normalise_unit(text, norm, sizeof norm);
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(norm, units[i].spelling) == 0) {
            *u = units[i].u;
            return true;
        }
    return false;
}

static enum quantity quantity_of(enum kind k)
{
    return k == K_PRECIP || k == K_ET0 ? Q_DEPTH : k == K_RAD ? Q_RAD : Q_TEMP;
}

static const char *quantity_example(enum quantity q)
{
    return q == Q_TEMP ? "K or degC" : q == Q_DEPTH ? "mm, m or kg m-2 s-1" : "J m-2 or W m-2";
}

/* ---- times ---- */

/* Seconds since 1970-01-01T00:00:00 UTC of a CF reference date "Y-M-D[ |T]h:m:s[Z]". */
static bool parse_cf_date(const char *s, int64_t *out)
{
    char *end;
    long y, mo, d, h = 0, mi = 0;
    double sec = 0;
    char canon[16], checked[11];

    while (*s == ' ')
        s++;
    y = strtol(s, &end, 10);
    if (end == s || *end != '-')
        return false;
    s = end + 1;
    mo = strtol(s, &end, 10);
    if (end == s || *end != '-')
        return false;
    s = end + 1;
    d = strtol(s, &end, 10);
    if (end == s)
        return false;
    s = end;
    if (*s == ' ' || *s == 'T') {
        s++;
        h = strtol(s, &end, 10);
        if (end != s && *end == ':') {
            s = end + 1;
            mi = strtol(s, &end, 10);
            if (end != s && *end == ':')
                sec = parus__strtod_c(end + 1, &end);
        }
    }
    if (y < 1583 || y > 9999 || h < 0 || h > 23 || mi < 0 || mi > 59 || !(sec >= 0 && sec < 61))
        return false;
    snprintf(canon, sizeof canon, "%04ld-%02ld-%02ld", y, mo, d);
    if (!parus__parse_date(canon, checked))
        return false;
    *out = parus__date_days(checked) * SECONDS_PER_DAY + h * 3600 + mi * 60 + (int64_t)sec;
    return true;
}

/* True when the n bytes at w are word, ignoring ASCII case. */
static bool word_is(const char *w, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n)
        return false;
    for (i = 0; i < n; i++)
        if (tolower((unsigned char)w[i]) != word[i])
            return false;
    return true;
}

/* A CF time unit: "days since 1950-01-01 00:00:00" -> seconds per step and the epoch. */
static bool parse_cf_time_units(const char *units_text, double *step_s, int64_t *base_s)
{
    static const struct {
        const char *word;
        double s;
    } steps[] = {{"days", 86400}, {"day", 86400}, {"d", 86400},    {"hours", 3600},
                 {"hour", 3600},  {"h", 3600},    {"minutes", 60}, {"minute", 60},
                 {"seconds", 1},  {"second", 1},  {"s", 1}};
    const char *since = strstr(units_text, " since ");
    size_t i, n;
    const char *w = units_text;

    if (!since)
        return false;
    while (*w == ' ')
        w++;
    n = (size_t)(since - w);
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (word_is(w, n, steps[i].word)) {
            *step_s = steps[i].s;
            return parse_cf_date(since + 7, base_s);
        }
    return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- the variables of a file ---- */

struct band_ref {
    GDALRasterBandH band; /* NULL for a step of a point time series */
    size_t step;          /* a point series' index along its time dimension */
    int64_t t_s;          /* valid time, seconds since 1970-01-01 UTC */
};

struct variable {
    char name[64];
    char label[64]; /* the file's unit, "" none */
    char standard_name[96];
    enum kind kind;
    GDALDatasetH ds; /* borrowed from struct file */
    struct band_ref *bands;
    size_t n_bands, cap;
    double *points;  /* a point time series: n_points x n_time values, NaN missing */
    bool time_first; /* points stored [time][station] (else [station][time]) */
    size_t n_time;
};

struct file {
    const char *path;
    const parus_weather_options *opt; /* may be NULL */
    GDALDatasetH main;
    GDALDatasetH subs[MAX_VARS];
    size_t n_subs;
    struct variable vars[MAX_VARS];
    size_t n_vars;
    char ignored[256];
    size_t n_points; /* > 0: a CF point time series of n_points stations */
    char *stations;  /* their "ID LON LAT" lines */
};

static void file_close(struct file *f)
{
    size_t i;
    for (i = 0; i < f->n_vars; i++) {
        free(f->vars[i].bands);
        free(f->vars[i].points);
    }
    free(f->stations);
    for (i = 0; i < f->n_subs; i++)
        GDALClose(f->subs[i]);
    if (f->main)
        GDALClose(f->main);
}

static void note_ignored(struct file *f, const char *name)
{
    size_t len = strlen(f->ignored), n = strlen(name);
    const char *at;
    /* already listed: a whole item of the ", " list ("ps" is not in "psl") */
    for (at = strstr(f->ignored, name); at; at = strstr(at + 1, name))
        if ((at == f->ignored || at[-1] == ' ') && (at[n] == '\0' || at[n] == ','))
            return;
    snprintf(f->ignored + len, sizeof f->ignored - len, "%s%s", len ? ", " : "", name);
}

/* The variable called name (added when new); NULL with err set when there are too many. */
static struct variable *variable_named(struct file *f, GDALDatasetH ds, const char *name,
                                       parus_error *err)
{
    size_t i;
    struct variable *v;
    for (i = 0; i < f->n_vars; i++)
        if (strcmp(f->vars[i].name, name) == 0 && f->vars[i].ds == ds)
            return &f->vars[i];
    if (f->n_vars == MAX_VARS) {
        parus_fail(err, PARUS_E_FORMAT, "'%s' has more than %d variables", f->path, MAX_VARS);
        return NULL;
    }
    v = &f->vars[f->n_vars++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->ds = ds;
    v->kind = K_NONE;
    return v;
}

static parus_status add_band(struct file *f, struct variable *v, GDALRasterBandH b, int64_t t_s,
                             parus_error *err)
{
    if (!parus__grow((void **)&v->bands, &v->cap, v->n_bands + 1, sizeof *v->bands, 64))
        return parus_fail(err, PARUS_E_NOMEM, "cannot list the bands of '%s'", f->path);
    v->bands[v->n_bands].band = b;
    v->bands[v->n_bands].step = v->n_bands;
    v->bands[v->n_bands].t_s = t_s;
    v->n_bands++;
    return PARUS_OK;
}

static const char *md(GDALMajorObjectH o, const char *key)
{
    const char *s = GDALGetMetadataItem(o, key, NULL);
    return s && *s ? s : NULL;
}

/* The unit label of a band: its unit type, else its (or its dataset's) units metadata. */
static void band_label(GDALDatasetH ds, GDALRasterBandH b, char *out, size_t size)
{
    const char *s = GDALGetRasterUnitType(b);
    if (!s || !*s)
        s = md(b, "units");
    if (!s)
        s = md(b, "UNITS");
    if (!s)
        s = md(ds, "UNITS");
    snprintf(out, size, "%s", s ? s : "");
}

/* A CF time axis of variable name along dimension tdim: its units ("days since DATE", ...) and
 * calendar (one parus reads). */
static parus_status time_axis(const struct file *f, const char *name, const char *tdim,
                              const char *tunits, const char *cal, double *step_s, int64_t *base_s,
                              parus_error *err)
{
    if (!tunits || !strstr(tunits, " since "))
        return parus_fail(err, PARUS_E_NO_DATE,
                          "'%s': variable '%s' has no time axis ('%s' has no units of the form "
                          "'days since DATE')",
                          f->path, name, tdim);
    if (cal && parus__strcasecmp(cal, "standard") != 0 &&
        parus__strcasecmp(cal, "gregorian") != 0 &&
        parus__strcasecmp(cal, "proleptic_gregorian") != 0)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': variable '%s' uses the calendar '%s': parus reads only the "
                          "standard, gregorian and proleptic_gregorian calendars",
                          f->path, name, cal);
    if (!parse_cf_time_units(tunits, step_s, base_s))
        return parus_fail(err, PARUS_E_NO_DATE, "'%s': cannot read the time units '%s' of '%s'",
                          f->path, tunits, tdim);
    return PARUS_OK;
}

/* A netCDF variable (one dataset, one band per time step): CF time axis, units, calendar. */
static parus_status collect_netcdf(struct file *f, GDALDatasetH ds, parus_error *err)
{
    int n = GDALGetRasterCount(ds), i;
    GDALRasterBandH b1;
    const char *name, *extra, *tunits, *cal;
    char tdim[64], key[160];
    struct variable *v;
    double step_s;
    int64_t base_s;
    size_t len;

    if (n < 1)
        return PARUS_OK;
    b1 = GDALGetRasterBand(ds, 1);
    name = md(b1, "NETCDF_VARNAME");
    if (!name)
        name = "(unnamed)";
    /* bounds, coordinates and other variables parus does not read need no time axis */
    if (kind_of_name(name) == K_NONE && kind_of_standard_name(md(b1, "standard_name")) == K_NONE &&
        !(f->opt && stated(f->opt->variables, f->opt->n_variables, name))) {
        note_ignored(f, name);
        return PARUS_OK;
    }
    v = variable_named(f, ds, name, err);
    if (!v)
        return err ? err->code : PARUS_E_FORMAT;
    band_label(ds, b1, v->label, sizeof v->label);
    snprintf(v->standard_name, sizeof v->standard_name, "%s",
             md(b1, "standard_name") ? md(b1, "standard_name") : "");
    extra = md(ds, "NETCDF_DIM_EXTRA");
    if (!extra)
        return parus_fail(err, PARUS_E_NO_DATE, "'%s': variable '%s' has no time axis", f->path,
                          name);
    if (strchr(extra, ','))
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': variable '%s' has dimensions %s besides the grid: parus reads a "
                          "time axis only (no levels or members)",
                          f->path, name, extra);
    snprintf(tdim, sizeof tdim, "%s", extra[0] == '{' ? extra + 1 : extra);
    len = strlen(tdim);
    if (len && tdim[len - 1] == '}')
        tdim[len - 1] = '\0';
    snprintf(key, sizeof key, "%s#units", tdim);
    tunits = md(ds, key);
    snprintf(key, sizeof key, "%s#calendar", tdim);
    cal = md(ds, key);
    {
        parus_status rc = time_axis(f, name, tdim, tunits, cal, &step_s, &base_s, err);
        if (rc != PARUS_OK)
            return rc;
    }
    snprintf(key, sizeof key, "NETCDF_DIM_%s", tdim);
    for (i = 1; i <= n; i++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, i);
        const char *tv = md(b, key);
        char *end;
        double t;
        parus_status rc;
        if (!tv)
            return parus_fail(err, PARUS_E_NO_DATE, "'%s': band %d of '%s' has no time", f->path, i,
                              name);
        t = parus__strtod_c(tv, &end);
        if (end == tv || !isfinite(t) || fabs(t * step_s) > 1e12)
            return parus_fail(err, PARUS_E_NO_DATE, "'%s': band %d of '%s' has the time '%s'",
                              f->path, i, name, tv);
        rc = add_band(f, v, b, base_s + (int64_t)llround(t * step_s), err);
        if (rc != PARUS_OK)
            return rc;
    }
    return PARUS_OK;
}

/* GRIB: one band per message; the element names the variable, GRIB_VALID_TIME the time. */
static parus_status collect_grib(struct file *f, GDALDatasetH ds, parus_error *err)
{
    int n = GDALGetRasterCount(ds), i;
    for (i = 1; i <= n; i++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, i);
        const char *el = md(b, "GRIB_ELEMENT"), *vt = md(b, "GRIB_VALID_TIME");
        const char *level = md(b, "GRIB_SHORT_NAME");
        char label[64];
        struct variable *v;
        char *end;
        double t;
        parus_status rc;

        if (!el)
            el = "(unnamed)";
        /* TMP is temperature at any level: only 2 m above ground is weather at the crop */
        if (parus__strcasecmp(el, "TMP") == 0 && (!level || strncmp(level, "2-HTGL", 6) != 0)) {
            note_ignored(f, "TMP (not at 2 m)");
            continue;
        }
        v = variable_named(f, ds, el, err);
        if (!v)
            return err ? err->code : PARUS_E_FORMAT;
        snprintf(label, sizeof label, "%s", md(b, "GRIB_UNIT") ? md(b, "GRIB_UNIT") : "");
        if (v->n_bands == 0)
            snprintf(v->label, sizeof v->label, "%s", label);
        else if (strcmp(v->label, label) != 0)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': '%s' has the units '%s' and '%s'",
                              f->path, el, v->label, label);
        if (!vt)
            return parus_fail(err, PARUS_E_NO_DATE, "'%s': band %d ('%s') has no GRIB_VALID_TIME",
                              f->path, i, el);
        t = parus__strtod_c(vt, &end);
        if (end == vt || !isfinite(t))
            return parus_fail(err, PARUS_E_NO_DATE, "'%s': band %d has the valid time '%s'",
                              f->path, i, vt);
        rc = add_band(f, v, b, (int64_t)llround(t), err);
        if (rc != PARUS_OK)
            return rc;
    }
    return PARUS_OK;
}

/* GeoTIFF stack: one band per day; VARIABLE metadata (band or dataset) names the variable, the
 * band's DATE metadata or a date in its description gives the day. */
static parus_status collect_gtiff(struct file *f, GDALDatasetH ds, parus_error *err)
{
    int n = GDALGetRasterCount(ds), i;
    for (i = 1; i <= n; i++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, i);
        const char *name = md(b, "VARIABLE"), *date = md(b, "DATE");
        char day[11], label[64];
        struct variable *v;
        parus_status rc;

        if (!name)
            name = md(ds, "VARIABLE");
        if (!name)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s': band %d has no VARIABLE metadata (band or dataset): parus "
                              "cannot tell what it holds (docs/formats.md, weather GeoTIFF)",
                              f->path, i);
        /* a DATE that is there but no date is refused, not passed over for the description's:
         * the two may name other days */
        if (date && !parus__parse_date(date, day))
            return parus_fail(err, PARUS_E_NO_DATE,
                              "'%s': band %d has DATE '%s', which is not a date YYYY-MM-DD",
                              f->path, i, date);
        if (!date && !parus__find_date(GDALGetDescription(b), day))
            return parus_fail(err, PARUS_E_NO_DATE,
                              "'%s': band %d has no DATE metadata and no date in its description",
                              f->path, i);
        v = variable_named(f, ds, name, err);
        if (!v)
            return err ? err->code : PARUS_E_FORMAT;
        band_label(ds, b, label, sizeof label);
        if (v->n_bands == 0)
            snprintf(v->label, sizeof v->label, "%s", label);
        else if (strcmp(v->label, label) != 0)
            return parus_fail(err, PARUS_E_FORMAT, "'%s': '%s' has the units '%s' and '%s'",
                              f->path, name, v->label, label);
        rc = add_band(f, v, b, parus__date_days(day) * SECONDS_PER_DAY, err);
        if (rc != PARUS_OK)
            return rc;
    }
    return PARUS_OK;
}

/* ---- reading and aggregating ---- */

/* A variable parus reads: its unit, time step and the daily variables it fills. */
struct plan {
    struct variable *v;
    struct unit u;
    char unit_text[64];
    bool unit_stated;
    bool hourly;
    int steps_per_day;
    parus_weather_var out[3];
    size_t n_out;
    double *sample; /* raw values (in unit_text), for the median */
    size_t n_sample;
    double median;
};

static int cmp_band(const void *a, const void *b)
{
    int64_t x = ((const struct band_ref *)a)->t_s, y = ((const struct band_ref *)b)->t_s;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *day_text(int64_t day, char buf[11])
{
    parus__format_day(day, buf);
    return buf;
}

/* The unit, time step and outputs of p; E_BANDS / E_FORMAT naming the file and variable. */
static parus_status plan_variable(const struct file *f, const parus_weather_options *opt,
                                  struct plan *p, parus_error *err)
{
    struct variable *v = p->v;
    const char *st = opt ? stated(opt->units, opt->n_units, v->name) : NULL;
    enum quantity q = quantity_of(v->kind);
    int64_t min_step = 0;
    size_t i;

    p->unit_stated = st != NULL;
    snprintf(p->unit_text, sizeof p->unit_text, "%s", st ? st : v->label);
    if (!p->unit_text[0])
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s': variable '%s' has no unit: state it with --unit %s=UNIT (%s)",
                          f->path, v->name, v->name, quantity_example(q));
    if (!find_unit(p->unit_text, &p->u))
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s': variable '%s' has the unit '%s', which parus does not know: "
                          "state it with --unit %s=UNIT (%s)",
                          f->path, v->name, p->unit_text, v->name, quantity_example(q));
    if (p->u.q != q)
        return parus_fail(err, PARUS_E_BANDS,
                          "'%s': variable '%s' is read as %s but its unit '%s' is not one (%s): "
                          "state the unit with --unit %s=UNIT or what it is with --variable",
                          f->path, v->name,
                          q == Q_TEMP    ? "a temperature"
                          : q == Q_DEPTH ? "a depth of water"
                                         : "radiation",
                          p->unit_text, quantity_example(q), v->name);

    qsort(v->bands, v->n_bands, sizeof *v->bands, cmp_band);
    for (i = 1; i < v->n_bands; i++) {
        int64_t d = v->bands[i].t_s - v->bands[i - 1].t_s;
        char day[11];
        if (d == 0)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s': variable '%s' has two steps at the "
                              "same time (%s)",
                              f->path, v->name,
                              day_text(floor_div(v->bands[i].t_s, SECONDS_PER_DAY), day));
        if (min_step == 0 || d < min_step)
            min_step = d;
    }
    if (min_step > SECONDS_PER_DAY)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': variable '%s' has no two steps less than %lld days apart: parus "
                          "reads daily or sub-daily values (a monthly total is not a day's)",
                          f->path, v->name, (long long)(min_step / SECONDS_PER_DAY));
    p->hourly = min_step > 0 && min_step < SECONDS_PER_DAY;
    if (p->hourly) {
        if (SECONDS_PER_DAY % min_step != 0)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s': variable '%s' has a time step of %lld s, which does not "
                              "divide a day",
                              f->path, v->name, (long long)min_step);
        if (q != Q_TEMP)
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s': variable '%s' is sub-daily: parus reads precipitation, "
                              "radiation and ET0 as daily totals only (products differ on what "
                              "a sub-daily step accumulates); give daily totals",
                              f->path, v->name);
        p->steps_per_day = (int)(SECONDS_PER_DAY / min_step);
    }
    switch (v->kind) {
    case K_PRECIP:
        p->out[p->n_out++] = PARUS_WEATHER_PRECIP_MM;
        break;
    case K_TMIN:
        p->out[p->n_out++] = PARUS_WEATHER_TMIN_C;
        break;
    case K_TMAX:
        p->out[p->n_out++] = PARUS_WEATHER_TMAX_C;
        break;
    case K_TMEAN:
        p->out[p->n_out++] = PARUS_WEATHER_TMEAN_C;
        break;
    case K_TEMP:
        if (p->hourly) {
            p->out[p->n_out++] = PARUS_WEATHER_TMIN_C;
            p->out[p->n_out++] = PARUS_WEATHER_TMAX_C;
        }
        p->out[p->n_out++] = PARUS_WEATHER_TMEAN_C;
        break;
    case K_RAD:
        p->out[p->n_out++] = PARUS_WEATHER_RAD_MJ_M2;
        break;
    default:
        p->out[p->n_out++] = PARUS_WEATHER_ET0_MM;
        break;
    }
    return PARUS_OK;
}

/* Read one band as values in the file's unit (scale, offset applied; nodata as NaN), sampling
 * some for the median. */
static parus_status read_band(const struct file *f, struct plan *p, const struct band_ref *br,
                              size_t n_cells, double *buf, size_t *sample_at, size_t stride,
                              parus_error *err)
{
    int has_nd = 0, has_scale = 0, has_off = 0;
    double nd = GDALGetRasterNoDataValue(br->band, &has_nd);
    double scale = GDALGetRasterScale(br->band, &has_scale);
    double off = GDALGetRasterOffset(br->band, &has_off);
    int w = GDALGetRasterBandXSize(br->band), h = GDALGetRasterBandYSize(br->band);
    size_t k;

    if (!has_scale)
        scale = 1;
    if (!has_off)
        off = 0;
    if (GDALRasterIO(br->band, GF_Read, 0, 0, w, h, buf, w, h, GDT_Float64, 0, 0) != CE_None)
        return parus_fail(err, PARUS_E_FORMAT, "'%s': cannot read a band of '%s': %s", f->path,
                          p->v->name, CPLGetLastErrorMsg());
    for (k = 0; k < n_cells; k++) {
        double x = buf[k];
        if (!isfinite(x) || (has_nd && x == nd)) {
            buf[k] = NAN;
            continue;
        }
        x = x * scale + off;
        buf[k] = x;
        if ((*sample_at)++ % stride == 0 && p->n_sample < MEDIAN_SAMPLE)
            p->sample[p->n_sample++] = x;
    }
    return PARUS_OK;
}

/* One step of p's variable into buf: a band of a grid, or a time step of a point series. */
static parus_status read_step(const struct file *f, struct plan *p, const struct band_ref *br,
                              size_t n_cells, double *buf, size_t *sample_at, size_t stride,
                              parus_error *err)
{
    const struct variable *v = p->v;
    size_t k;
    if (br->band)
        return read_band(f, p, br, n_cells, buf, sample_at, stride, err);
    for (k = 0; k < n_cells; k++) {
        double x = v->points[v->time_first ? br->step * n_cells + k : k * v->n_time + br->step];
        buf[k] = x;
        if (!isnan(x) && (*sample_at)++ % stride == 0 && p->n_sample < MEDIAN_SAMPLE)
            p->sample[p->n_sample++] = x;
    }
    return PARUS_OK;
}

static void put(float *dst, double raw, const struct unit *u)
{
    *dst = isfinite(raw) ? (float)(raw * u->factor + u->offset) : NAN;
}

/* Read p's bands into d's daily arrays. */
static parus_status read_plan(const struct file *f, struct plan *p, parus_weather_data *d,
                              parus_error *err)
{
    size_t n_cells = d->width * d->height, k, i, j, o, sample_at = 0, stride;
    double *buf = malloc(n_cells * sizeof *buf);
    double *mn = NULL, *mx = NULL, *sum = NULL;
    unsigned *cnt = NULL;
    parus_status rc = PARUS_OK;
    char day[11];

    p->sample = malloc(MEDIAN_SAMPLE * sizeof *p->sample);
    if (p->hourly) {
        mn = malloc(n_cells * sizeof *mn);
        mx = malloc(n_cells * sizeof *mx);
        sum = malloc(n_cells * sizeof *sum);
        cnt = malloc(n_cells * sizeof *cnt);
    }
    if (!buf || !p->sample || (p->hourly && (!mn || !mx || !sum || !cnt))) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold a band of '%s'", f->path);
        goto out_free;
    }
    stride = p->v->n_bands * n_cells / MEDIAN_SAMPLE + 1;
    for (i = 0; i < p->v->n_bands && rc == PARUS_OK; i = j) {
        int64_t di = floor_div(p->v->bands[i].t_s, SECONDS_PER_DAY);
        size_t at = (size_t)(di - d->first_day) * n_cells;
        for (j = i + 1; j < p->v->n_bands && floor_div(p->v->bands[j].t_s, SECONDS_PER_DAY) == di;
             j++)
            ;
        if (!p->hourly) {
            if (j - i > 1) {
                rc = parus_fail(err, PARUS_E_FORMAT, "'%s': variable '%s' has two steps on %s",
                                f->path, p->v->name, day_text(di, day));
                break;
            }
            rc = read_step(f, p, &p->v->bands[i], n_cells, buf, &sample_at, stride, err);
            for (k = 0; rc == PARUS_OK && k < n_cells; k++)
                put(&d->values[p->out[0]][at + k], buf[k], &p->u);
            continue;
        }
        if (j - i != (size_t)p->steps_per_day) {
            d->n_partial_days++; /* left missing: a day's minimum needs the whole day */
            continue;
        }
        for (k = 0; k < n_cells; k++) {
            mn[k] = INFINITY;
            mx[k] = -INFINITY;
            sum[k] = 0;
            cnt[k] = 0;
        }
        for (; i < j && rc == PARUS_OK; i++) {
            rc = read_step(f, p, &p->v->bands[i], n_cells, buf, &sample_at, stride, err);
            for (k = 0; rc == PARUS_OK && k < n_cells; k++) {
                if (isnan(buf[k]))
                    continue;
                mn[k] = fmin(mn[k], buf[k]);
                mx[k] = fmax(mx[k], buf[k]);
                sum[k] += buf[k];
                cnt[k]++;
            }
        }
        for (o = 0; rc == PARUS_OK && o < p->n_out; o++) {
            float *dst = d->values[p->out[o]] + at;
            for (k = 0; k < n_cells; k++) {
                double x = cnt[k] != (unsigned)p->steps_per_day ? (double)NAN
                           : p->out[o] == PARUS_WEATHER_TMIN_C  ? mn[k]
                           : p->out[o] == PARUS_WEATHER_TMAX_C  ? mx[k]
                                                                : sum[k] / cnt[k];
                put(&dst[k], x, &p->u);
            }
        }
    }
out_free:
    free(buf);
    free(mn);
    free(mx);
    free(sum);
    free(cnt);
    return rc;
}

/* The value check: the unit against the values' median, then the converted values against what
 * weather can be. */
static parus_status check_plan(const struct file *f, struct plan *p, const parus_weather_data *d,
                               parus_error *err)
{
    const char *how = p->unit_stated ? "stated as" : "labelled";
    size_t n = d->n_days * d->width * d->height, k, o;
    double lo, hi;

    if (p->n_sample) {
        qsort(p->sample, p->n_sample, sizeof *p->sample, cmp_double);
        p->median = p->sample[p->n_sample / 2];
    } else {
        p->median = NAN;
    }
    if (p->u.celsius && p->median > 150)
        return parus_fail(err, PARUS_E_RANGE,
                          "'%s': variable '%s' is %s '%s' (degrees Celsius) but its median is "
                          "%.2f: kelvin labelled as Celsius; parus does not correct it: state the "
                          "unit with --unit %s=K",
                          f->path, p->v->name, how, p->unit_text, p->median, p->v->name);
    if (p->u.kelvin && p->median < 150)
        return parus_fail(err, PARUS_E_RANGE,
                          "'%s': variable '%s' is %s '%s' (kelvin) but its median is %.2f: "
                          "Celsius labelled as kelvin; state the unit with --unit %s=degC",
                          f->path, p->v->name, how, p->unit_text, p->median, p->v->name);
    lo = p->u.q == Q_TEMP ? -95 : -1;
    hi = p->u.q == Q_TEMP ? 65 : p->u.q == Q_DEPTH ? 2000 : 60;
    for (o = 0; o < p->n_out; o++)
        for (k = 0; k < n; k++) {
            double x = (double)d->values[p->out[o]][k];
            if (!isnan(x) && (x < lo || x > hi)) {
                char day[11];
                return parus_fail(
                    err, PARUS_E_RANGE,
                    "'%s': variable '%s' gives %s %.3g on %s (cell %zu), outside "
                    "[%g, %g]: is its unit '%s' right? state it with --unit %s=UNIT",
                    f->path, p->v->name, parus_weather_var_name(p->out[o]), x,
                    day_text(d->first_day + (int64_t)(k / (d->width * d->height)), day),
                    k % (d->width * d->height), lo, hi, p->unit_text, p->v->name);
            }
        }
    if (p->u.q == Q_DEPTH && d->n_days >= 300)
        for (o = 0; o < p->n_out; o++) {
            /* a year of a depth (rain, evapotranspiration) has days of 1 mm or more somewhere
             * and totals no wetter than the wettest place on Earth (about 12,000 mm): metres or
             * tenths of a millimetre labelled mm pass the daily range, not these */
            size_t n_cells = d->width * d->height, c, t;
            double wettest_day = -1.0, wettest_total = 0.0;
            size_t wettest_cell = 0;
            for (c = 0; c < n_cells; c++) {
                double total = 0.0;
                size_t n_val = 0;
                for (t = 0; t < d->n_days; t++) {
                    double x = (double)d->values[p->out[o]][t * n_cells + c];
                    if (isnan(x))
                        continue;
                    total += x;
                    n_val++;
                    if (x > wettest_day)
                        wettest_day = x;
                }
                if (n_val >= 300 && total * 365.0 / (double)n_val > wettest_total) {
                    wettest_total = total * 365.0 / (double)n_val;
                    wettest_cell = c;
                }
            }
            if (wettest_day >= 0.0 && wettest_day < 1.0)
                return parus_fail(err, PARUS_E_RANGE,
                                  "'%s': variable '%s' gives %s of under 1 mm on every day of its "
                                  "%zu days at every cell (the most %.3g): no year is that dry; "
                                  "is its unit '%s' right (metres labelled mm?) state it with "
                                  "--unit %s=UNIT",
                                  f->path, p->v->name, parus_weather_var_name(p->out[o]), d->n_days,
                                  wettest_day, p->unit_text, p->v->name);
            if (wettest_total > 15000.0)
                return parus_fail(err, PARUS_E_RANGE,
                                  "'%s': variable '%s' gives %s of %.0f mm a year at cell %zu, "
                                  "wetter than anywhere on Earth (about 12,000 mm): is its unit "
                                  "'%s' right (tenths of a millimetre labelled mm?) state it with "
                                  "--unit %s=UNIT",
                                  f->path, p->v->name, parus_weather_var_name(p->out[o]),
                                  wettest_total, wettest_cell, p->unit_text, p->v->name);
        }
    return PARUS_OK;
}

void parus__weather_find_gaps(parus_weather_data *d)
{
    size_t n_cells = d->width * d->height, t, k;
    int v;
    for (t = 0; t < d->n_days; t++) {
        bool gap = false;
        for (v = 0; v < PARUS_WEATHER_N_VARS_ && !gap; v++) {
            const float *x = d->values[v];
            bool any = false;
            if (!x)
                continue;
            for (k = 0; k < n_cells && !any; k++)
                any = !isnan(x[t * n_cells + k]);
            gap = !any;
        }
        if (gap && d->n_gap_days++ == 0)
            d->first_gap_day = d->first_day + (int64_t)t;
    }
}

/* No value of a day after today (UTC, a day's grace) is observed weather: a forecast, or a time
 * axis that is wrong. A limit would rest on it as on what fell, and the season it reaches would
 * be owed an assessment for weather that has not happened. Days with no value (a month's file
 * laid out ahead) are only gaps. */
static parus_status refuse_future_days(const char *path, const parus_weather_data *d,
                                       parus_error *err)
{
    size_t n_cells = d->width * d->height, t, k;
    int64_t today = (int64_t)(time(NULL) / 86400);
    char day[11], now[11];
    int v;
    for (t = d->n_days; t-- > 0 && d->first_day + (int64_t)t > today + 1;)
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
            for (k = 0; d->values[v] && k < n_cells; k++)
                if (!isnan(d->values[v][t * n_cells + k])) {
                    parus__format_day(d->first_day + (int64_t)t, day);
                    parus__format_day(today, now);
                    return parus_fail(err, PARUS_E_FORMAT,
                                      "'%s' has %s values on %s, after today (%s UTC): weather "
                                      "not yet observed (a forecast, or a wrong time axis) is "
                                      "not stored",
                                      path, parus_weather_var_name((parus_weather_var)v), day, now);
                }
    return PARUS_OK;
}

/* ---- CF point time series: stations along one dimension (CF §H.2, featureType timeSeries) ----
 *
 * A variable V(station, time) or V(time, station) whose station dimension carries 1-D longitude
 * and latitude variables (units degrees_east / degrees_north, or those standard names) and whose
 * time dimension is a CF time axis. GDAL's raster view would read such a variable as a picture
 * with time along x; it is read through GDAL's multidimensional API instead, and its stations
 * become the cells of a one-row grid, like a station CSV's. */

static char *md_attr(GDALMDArrayH a, const char *name)
{
    GDALAttributeH at = GDALMDArrayGetAttribute(a, name);
    const char *s;
    char *out;
    if (!at)
        return NULL;
    s = GDALAttributeReadAsString(at);
    out = s && *s ? parus__strdup(s) : NULL;
    GDALAttributeRelease(at);
    return out;
}

static bool md_is(GDALMDArrayH a, const char *attr, const char *const *words)
{
    char *s = md_attr(a, attr);
    bool yes = false;
    for (; s && *words && !yes; words++)
        yes = strcmp(s, *words) == 0;
    free(s);
    return yes;
}

/* Read the whole of a (small) array as doubles, scale, offset and nodata applied. */
static double *md_read(GDALMDArrayH a, size_t n)
{
    GDALExtendedDataTypeH dt = GDALExtendedDataTypeCreate(GDT_Float64);
    size_t n_dims = 0, i;
    GDALDimensionH *dims = GDALMDArrayGetDimensions(a, &n_dims);
    GUInt64 start[2] = {0, 0};
    size_t count[2];
    double *x = n ? malloc(n * sizeof *x) : NULL;
    int has_nd = 0, has_scale = 0, has_off = 0;
    double nd = GDALMDArrayGetNoDataValueAsDouble(a, &has_nd);
    double scale = GDALMDArrayGetScale(a, &has_scale), off = GDALMDArrayGetOffset(a, &has_off);
    bool ok = x && dt && n_dims >= 1 && n_dims <= 2;
    for (i = 0; ok && i < n_dims; i++)
        count[i] = (size_t)GDALDimensionGetSize(dims[i]);
    ok = ok && GDALMDArrayRead(a, start, count, NULL, NULL, dt, x, x, n * sizeof *x);
    for (i = 0; ok && i < n; i++) {
        if (!isfinite(x[i]) || (has_nd && x[i] == nd))
            x[i] = NAN;
        else
            x[i] = x[i] * (has_scale ? scale : 1) + (has_off ? off : 0);
    }
    GDALReleaseDimensions(dims, n_dims);
    if (dt)
        GDALExtendedDataTypeRelease(dt);
    if (!ok) {
        free(x);
        return NULL;
    }
    return x;
}

/* The 1-D array over dimension dim_name whose units or standard name say it is the longitude
 * (lat false) or latitude, or NULL. */
static GDALMDArrayH md_coordinate(GDALGroupH g, char **names, const char *dim_name, bool lat)
{
    static const char *const lon_units[] = {"degrees_east", "degree_east", "degrees_E", NULL};
    static const char *const lat_units[] = {"degrees_north", "degree_north", "degrees_N", NULL};
    static const char *const lon_sn[] = {"longitude", NULL}, *const lat_sn[] = {"latitude", NULL};
    for (; names && *names; names++) {
        GDALMDArrayH a = GDALGroupOpenMDArray(g, *names, NULL);
        size_t n_dims = 0;
        GDALDimensionH *dims;
        bool one;
        if (!a)
            continue;
        dims = GDALMDArrayGetDimensions(a, &n_dims);
        one = n_dims == 1 && strcmp(GDALDimensionGetName(dims[0]), dim_name) == 0;
        GDALReleaseDimensions(dims, n_dims);
        if (one && (md_is(a, "units", lat ? lat_units : lon_units) ||
                    md_is(a, "standard_name", lat ? lat_sn : lon_sn)))
            return a;
        GDALMDArrayRelease(a);
    }
    return NULL;
}

/* The stations' "ID LON LAT" lines: IDs from a variable named like the station dimension
 * (strings or numbers; spaces become '_'), else the dimension's name and index. */
static parus_status md_stations(struct file *f, GDALGroupH g, char **names, const char *dim_name,
                                size_t n, parus_error *err)
{
    GDALMDArrayH alon = md_coordinate(g, names, dim_name, false);
    GDALMDArrayH alat = md_coordinate(g, names, dim_name, true);
    GDALMDArrayH aid = GDALGroupOpenMDArray(g, dim_name, NULL);
    double *lon = alon ? md_read(alon, n) : NULL, *lat = alat ? md_read(alat, n) : NULL;
    double *num = NULL;
    char **ids = NULL;
    size_t i, len = 0;
    parus_status rc = PARUS_OK;
    GDALExtendedDataTypeH aid_type = aid ? GDALMDArrayGetDataType(aid) : NULL;
    bool aid_text = aid_type && GDALExtendedDataTypeGetClass(aid_type) == GEDTC_STRING;

    if (aid_type)
        GDALExtendedDataTypeRelease(aid_type);
    if (aid_text) {
        GDALExtendedDataTypeH st = GDALExtendedDataTypeCreateString(0);
        GUInt64 start = 0;
        ids = calloc(n, sizeof *ids);
        if (ids && !GDALMDArrayRead(aid, &start, &n, NULL, NULL, st, ids, ids, n * sizeof *ids)) {
            free(ids);
            ids = NULL;
        }
        GDALExtendedDataTypeRelease(st);
    } else if (aid) {
        num = md_read(aid, n);
    }
    f->stations = malloc(n * 100 + 1);
    if (!lon || !lat || !f->stations) {
        rc = parus_fail(err, PARUS_E_FORMAT,
                        "'%s': cannot read the longitudes and latitudes of "
                        "its stations ('%s')",
                        f->path, dim_name);
        goto out;
    }
    f->stations[0] = '\0';
    for (i = 0; i < n; i++) {
        char id[64];
        size_t k;
        if (!(fabs(lon[i]) <= 360 && fabs(lat[i]) <= 90)) {
            rc = parus_fail(err, PARUS_E_RANGE,
                            "'%s': station %zu of '%s' is at longitude %g, latitude %g: not a "
                            "place on the Earth",
                            f->path, i + 1, dim_name, lon[i], lat[i]);
            goto out;
        }
        if (ids && ids[i] && *ids[i])
            snprintf(id, sizeof id, "%s", ids[i]);
        else if (num && isfinite(num[i]))
            snprintf(id, sizeof id, "%.15g", num[i]);
        else
            snprintf(id, sizeof id, "%s%zu", dim_name, i + 1);
        for (k = 0; id[k]; k++)
            if (isspace((unsigned char)id[k]))
                id[k] = '_';
        len += (size_t)snprintf(f->stations + len, 100, "%s %.6f %.6f\n", id,
                                lon[i] > 180 ? lon[i] - 360 : lon[i], lat[i]);
    }
    f->n_points = n;
out:
    if (ids) {
        for (i = 0; i < n; i++)
            CPLFree(ids[i]);
        free(ids);
    }
    free(num);
    free(lon);
    free(lat);
    if (alon)
        GDALMDArrayRelease(alon);
    if (alat)
        GDALMDArrayRelease(alat);
    if (aid)
        GDALMDArrayRelease(aid);
    return rc;
}

/* One variable of a point series: its steps (times from the time dimension's indexing variable)
 * and its values, read whole. */
static parus_status md_variable(struct file *f, GDALMDArrayH a, const char *name,
                                GDALDimensionH tdim, bool time_first, size_t n_st, parus_error *err)
{
    GDALMDArrayH tv = GDALDimensionGetIndexingVariable(tdim);
    char *tunits = tv ? md_attr(tv, "units") : NULL, *cal = tv ? md_attr(tv, "calendar") : NULL;
    char *label = md_attr(a, "units"), *sn = md_attr(a, "standard_name");
    size_t n_t = (size_t)GDALDimensionGetSize(tdim), i, n;
    double *t = NULL, step_s;
    int64_t base_s;
    struct variable *v;
    parus_status rc = PARUS_OK;

    rc = time_axis(f, name, GDALDimensionGetName(tdim), tunits, cal, &step_s, &base_s, err);
    if (rc != PARUS_OK)
        goto out;
    v = variable_named(f, NULL, name, err);
    if (!v) {
        rc = err ? err->code : PARUS_E_FORMAT;
        goto out;
    }
    snprintf(v->label, sizeof v->label, "%s", label ? label : "");
    snprintf(v->standard_name, sizeof v->standard_name, "%s", sn ? sn : "");
    v->time_first = time_first;
    v->n_time = n_t;
    t = md_read(tv, n_t);
    if (!t || !parus__mul_size(n_t, n_st, &n) || !(v->points = md_read(a, n))) {
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s': cannot read '%s': %s", f->path, name,
                        CPLGetLastErrorMsg());
        goto out;
    }
    for (i = 0; i < n_t && rc == PARUS_OK; i++) {
        if (!isfinite(t[i]) || fabs(t[i] * step_s) > 1e12) {
            rc = parus_fail(err, PARUS_E_NO_DATE, "'%s': step %zu of '%s' has the time %g", f->path,
                            i + 1, name, t[i]);
            break;
        }
        rc = add_band(f, v, NULL, base_s + (int64_t)llround(t[i] * step_s), err);
    }
out:
    free(t);
    free(tunits);
    free(cal);
    free(label);
    free(sn);
    if (tv)
        GDALMDArrayRelease(tv);
    return rc;
}

/* If the file is a point time series, collect its variables (f->n_points > 0); else leave f
 * untouched for the raster view. */
static parus_status collect_points(struct file *f, parus_error *err)
{
    GDALDatasetH md =
        GDALOpenEx(f->path, GDAL_OF_MULTIDIM_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    GDALGroupH g = md ? GDALDatasetGetRootGroup(md) : NULL;
    char **names = g ? GDALGroupGetMDArrayNames(g, NULL) : NULL, **nm;
    char st_dim[64] = "";
    size_t n_st = 0;
    parus_status rc = PARUS_OK;

    for (nm = names; nm && *nm && rc == PARUS_OK; nm++) {
        GDALMDArrayH a = GDALGroupOpenMDArray(g, *nm, NULL);
        size_t n_dims = 0;
        GDALDimensionH *dims = a ? GDALMDArrayGetDimensions(a, &n_dims) : NULL;
        int ti = -1, k;
        GDALMDArrayH lon = NULL;
        for (k = 0; n_dims == 2 && k < 2 && ti < 0; k++) {
            GDALMDArrayH tv = GDALDimensionGetIndexingVariable(dims[k]);
            char *u = tv ? md_attr(tv, "units") : NULL;
            if (u && strstr(u, " since "))
                ti = k;
            free(u);
            if (tv)
                GDALMDArrayRelease(tv);
        }
        if (ti >= 0)
            lon = md_coordinate(g, names, GDALDimensionGetName(dims[1 - ti]), false);
        if (lon) {
            const char *sd = GDALDimensionGetName(dims[1 - ti]);
            char *sn = md_attr(a, "standard_name");
            bool wanted = kind_of_name(*nm) != K_NONE || kind_of_standard_name(sn) != K_NONE ||
                          (f->opt && stated(f->opt->variables, f->opt->n_variables, *nm));
            free(sn);
            GDALMDArrayRelease(lon);
            if (!st_dim[0]) {
                snprintf(st_dim, sizeof st_dim, "%s", sd);
                n_st = (size_t)GDALDimensionGetSize(dims[1 - ti]);
                rc = md_stations(f, g, names, sd, n_st, err);
            } else if (strcmp(st_dim, sd) != 0) {
                rc = parus_fail(err, PARUS_E_FORMAT,
                                "'%s': variables on two station dimensions ('%s', '%s')", f->path,
                                st_dim, sd);
            }
            if (rc == PARUS_OK && wanted)
                rc = md_variable(f, a, *nm, dims[ti], ti == 0, n_st, err);
            else if (rc == PARUS_OK)
                note_ignored(f, *nm);
        }
        if (dims)
            GDALReleaseDimensions(dims, n_dims);
        if (a)
            GDALMDArrayRelease(a);
    }
    /* read as a point series, the file's other variables (a grid beside the stations) are not
       read at all: say so */
    for (nm = names; f->n_points > 0 && nm && *nm; nm++) {
        GDALMDArrayH a = GDALGroupOpenMDArray(g, *nm, NULL);
        size_t i, n_dims = a ? GDALMDArrayGetDimensionCount(a) : 0;
        bool read = false;
        for (i = 0; i < f->n_vars && !read; i++)
            read = strcmp(f->vars[i].name, *nm) == 0;
        if (n_dims >= 2 && !read)
            note_ignored(f, *nm);
        if (a)
            GDALMDArrayRelease(a);
    }
    CSLDestroy(names);
    if (g)
        GDALGroupRelease(g);
    if (md)
        GDALClose(md);
    return rc;
}

static parus_status collect(struct file *f, parus_error *err)
{
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(f->main));
    parus_status rc = PARUS_OK;

    if (strcmp(drv, "netCDF") == 0) {
        char **sds = GDALGetMetadata(f->main, "SUBDATASETS");
        int i;
        rc = collect_points(f, err);
        if (rc != PARUS_OK || f->n_points > 0)
            return rc;
        for (i = 1; rc == PARUS_OK && sds; i++) {
            char key[48];
            const char *name;
            snprintf(key, sizeof key, "SUBDATASET_%d_NAME", i);
            name = CSLFetchNameValue(sds, key);
            if (!name)
                break;
            if (f->n_subs == MAX_VARS)
                return parus_fail(err, PARUS_E_FORMAT, "'%s' has more than %d variables", f->path,
                                  MAX_VARS);
            f->subs[f->n_subs] =
                GDALOpenEx(name, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
            if (!f->subs[f->n_subs])
                return parus_fail(err, PARUS_E_FORMAT, "'%s': cannot open '%s'", f->path, name);
            rc = collect_netcdf(f, f->subs[f->n_subs++], err);
        }
        if (rc == PARUS_OK && f->n_subs == 0)
            rc = collect_netcdf(f, f->main, err);
        return rc;
    }
    if (strcmp(drv, "GRIB") == 0)
        return collect_grib(f, f->main, err);
    if (strcmp(drv, "GTiff") == 0)
        return collect_gtiff(f, f->main, err);
    return parus_fail(err, PARUS_E_FORMAT,
                      "'%s' is a %s file: parus reads weather from NetCDF, GRIB, GeoTIFF or a "
                      "station CSV",
                      f->path, drv);
}

static parus_status kind_of(const struct file *f, const parus_weather_options *opt,
                            struct variable *v, parus_error *err)
{
    const char *st = opt ? stated(opt->variables, opt->n_variables, v->name) : NULL;
    size_t i;
    if (st) {
        for (i = 0; i < sizeof kind_words / sizeof kind_words[0]; i++)
            if (strcmp(st, kind_words[i].word) == 0) {
                v->kind = kind_words[i].kind;
                return PARUS_OK;
            }
        return parus_fail(err, PARUS_E_INVALID,
                          "'%s': --variable %s=%s: say precip, tmin, tmax, tmean, temp, rad or "
                          "et0",
                          f->path, v->name, st);
    }
    v->kind = kind_of_name(v->name);
    if (v->kind == K_NONE)
        v->kind = kind_of_standard_name(v->standard_name);
    return PARUS_OK;
}

const char parus__wgs84_wkt[] =
    "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
    "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]";

/* True for a netCDF grid whose coordinates are CF longitude and latitude (units degrees_east and
 * degrees_north): CF says those are geographic; with no grid_mapping the datum is unstated and
 * parus takes WGS 84 (ERA5 and CHIRPS files are written so; the difference is metres, against
 * cells of kilometres). */
static bool cf_lon_lat(GDALDatasetH ds)
{
    char **m = GDALGetMetadata(ds, NULL);
    bool lon = false, lat = false;
    for (; m && *m; m++) {
        const char *eq = strchr(*m, '=');
        if (!eq || eq - *m < 6 || strncmp(eq - 6, "#units", 6) != 0)
            continue;
        lon = lon || strncmp(eq + 1, "degrees_east", 12) == 0 ||
              strncmp(eq + 1, "degree_east", 11) == 0;
        lat = lat || strncmp(eq + 1, "degrees_north", 13) == 0 ||
              strncmp(eq + 1, "degree_north", 12) == 0;
    }
    return lon && lat;
}

/* The grid the variable of p lies on, set in d by the first variable (d->crs_wkt still NULL) and
 * checked against it by the others (first_name names the first in the message): a point series'
 * stations, or a raster's geotransform, size and CRS. */
static parus_status grid_of(const struct file *f, const struct plan *p, const char *first_name,
                            parus_weather_data *d, parus_error *err)
{
    GDALDatasetH ds = p->v->ds;
    double gt[6];
    size_t w, h;
    const char *wkt;

    if (f->n_points > 0) {
        if (d->crs_wkt)
            return PARUS_OK; /* every variable of a point series is on its one station dimension */
        d->width = f->n_points;
        d->height = 1;
        d->stations = parus__strdup(f->stations);
        d->crs_wkt = parus__strdup(parus__wgs84_wkt);
        if (!d->stations || !d->crs_wkt)
            return parus_fail(err, PARUS_E_NOMEM, "cannot hold the stations of '%s'", f->path);
        return PARUS_OK;
    }
    w = (size_t)GDALGetRasterXSize(ds);
    h = (size_t)GDALGetRasterYSize(ds);
    if (GDALGetGeoTransform(ds, gt) != CE_None)
        return parus_fail(err, PARUS_E_FORMAT, "'%s': variable '%s' has no georeferencing", f->path,
                          p->v->name);
    /* a rotated grid's cells are not the rows and columns the weights are computed on: stored,
     * no parcel would ever read it, and no parcel would be said to lack it */
    if (gt[2] != 0 || gt[4] != 0 || gt[1] == 0 || gt[5] == 0)
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': variable '%s' lies on a rotated grid (geotransform %g, %g, %g, "
                          "%g): parus reads grids whose rows run east-west; warp it first "
                          "(gdalwarp)",
                          f->path, p->v->name, gt[1], gt[2], gt[4], gt[5]);
    if (d->crs_wkt) {
        if (w != d->width || h != d->height || memcmp(gt, d->geotransform, sizeof gt))
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s': variables '%s' and '%s' are on different grids", f->path,
                              first_name, p->v->name);
        return PARUS_OK;
    }
    memcpy(d->geotransform, gt, sizeof gt);
    d->width = w;
    d->height = h;
    wkt = GDALGetProjectionRef(ds);
    if ((!wkt || !*wkt) && cf_lon_lat(ds))
        wkt = parus__wgs84_wkt;
    if (!wkt || !*wkt)
        return parus_fail(err, PARUS_E_NO_CRS, "'%s' has no coordinate reference system", f->path);
    d->crs_wkt = parus__strdup(wkt);
    if (!d->crs_wkt)
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the CRS of '%s'", f->path);
    return PARUS_OK;
}

static parus_status read_file(struct file *f, const parus_weather_options *opt,
                              parus_weather_data *d, parus_error *err)
{
    struct plan plans[MAX_VARS];
    size_t n_plans = 0, i, o;
    int64_t first = INT64_MAX, last = INT64_MIN;
    parus_status rc = collect(f, err);

    memset(plans, 0, sizeof plans);
    for (i = 0; rc == PARUS_OK && i < f->n_vars; i++) {
        struct variable *v = &f->vars[i];
        rc = kind_of(f, opt, v, err);
        if (rc != PARUS_OK)
            break;
        if (v->kind == K_NONE || v->n_bands == 0) {
            note_ignored(f, v->name);
            continue;
        }
        plans[n_plans].v = v;
        rc = plan_variable(f, opt, &plans[n_plans], err);
        n_plans++;
    }
    if (rc != PARUS_OK)
        goto out;
    snprintf(d->ignored, sizeof d->ignored, "%s", f->ignored);
    if (n_plans == 0) {
        rc = parus_fail(err, PARUS_E_FORMAT,
                        "'%s' holds no weather variable parus reads (it has: %s): name one with "
                        "--variable NAME=precip|tmin|tmax|tmean|temp|rad|et0",
                        f->path, f->ignored[0] ? f->ignored : "none");
        goto out;
    }
    for (i = 0; i < n_plans; i++) {
        rc = grid_of(f, &plans[i], plans[0].v->name, d, err);
        if (rc != PARUS_OK)
            goto out;
        for (o = 0; o < plans[i].n_out; o++) {
            size_t j;
            for (j = 0; j < i; j++) {
                size_t q;
                for (q = 0; q < plans[j].n_out; q++)
                    if (plans[j].out[q] == plans[i].out[o]) {
                        rc = parus_fail(err, PARUS_E_FORMAT,
                                        "'%s': variables '%s' and '%s' both give %s", f->path,
                                        plans[j].v->name, plans[i].v->name,
                                        parus_weather_var_name(plans[i].out[o]));
                        goto out;
                    }
            }
        }
        first = floor_div(plans[i].v->bands[0].t_s, SECONDS_PER_DAY) < first
                    ? floor_div(plans[i].v->bands[0].t_s, SECONDS_PER_DAY)
                    : first;
        {
            int64_t l = floor_div(plans[i].v->bands[plans[i].v->n_bands - 1].t_s, SECONDS_PER_DAY);
            last = l > last ? l : last;
        }
    }
    if (last - first >= 40000) {
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s' spans more than 40000 days", f->path);
        goto out;
    }
    d->first_day = first;
    d->n_days = (size_t)(last - first + 1);
    for (i = 0; i < n_plans && rc == PARUS_OK; i++) {
        size_t n, k;
        for (o = 0; o < plans[i].n_out; o++) {
            if (!parus__mul_size(d->n_days, d->width * d->height, &n) ||
                !(d->values[plans[i].out[o]] = malloc(n * sizeof(float)))) {
                rc = parus_fail(err, PARUS_E_NOMEM, "cannot hold the days of '%s'", f->path);
                goto out;
            }
            for (k = 0; k < n; k++)
                d->values[plans[i].out[o]][k] = NAN;
        }
        rc = read_plan(f, &plans[i], d, err);
        if (rc == PARUS_OK)
            rc = check_plan(f, &plans[i], d, err);
    }
    if (rc != PARUS_OK)
        goto out;
    parus__weather_find_gaps(d);
    for (i = 0; i < n_plans && i < PARUS_WEATHER_MAX_SOURCES; i++) {
        parus_weather_source *s = &d->sources[d->n_sources++];
        snprintf(s->name, sizeof s->name, "%s", plans[i].v->name);
        snprintf(s->label, sizeof s->label, "%s", plans[i].v->label);
        snprintf(s->unit, sizeof s->unit, "%s", plans[i].unit_text);
        s->unit_stated = plans[i].unit_stated;
        s->hourly = plans[i].hourly;
        s->n_steps = plans[i].v->n_bands;
        s->median_raw = plans[i].median;
    }
out:
    for (i = 0; i < n_plans; i++)
        free(plans[i].sample);
    return rc;
}

void parus_weather_data_release(parus_weather_data *data)
{
    int v;
    if (!data)
        return;
    free(data->crs_wkt);
    free(data->stations);
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        free(data->values[v]);
    memset(data, 0, sizeof *data);
}

static bool ends_with_csv(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && parus__strcasecmp(path + n - 4, ".csv") == 0;
}

parus_status parus_weather_read(const char *path, const parus_weather_options *opt,
                                parus_weather_data *out, parus_error *err)
{
    struct file f;
    parus_weather_data d;
    parus__gdal_capture cap;
    const char *old;
    char *saved = NULL;
    parus_status rc;
    FILE *probe;

    memset(&f, 0, sizeof f);
    memset(&d, 0, sizeof d);
    f.path = path;
    f.opt = opt;
    probe = fopen(path, "rb");
    if (!probe)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s'", path);
    fclose(probe);
    if (ends_with_csv(path)) {
        rc = parus__weather_read_csv(path, opt, &d, err);
        goto out_hash;
    }
    parus__gdal_init();
    /* the file's own units: GDAL's normalisation relabels GRIB 1 kelvin as [C] (PROVENANCE of
       the ERA5 sample); parus converts units itself */
    old = CPLGetThreadLocalConfigOption("GRIB_NORMALIZE_UNITS", NULL);
    if (old && !(saved = parus__strdup(old)))
        return parus_fail(err, PARUS_E_NOMEM, "cannot open '%s'", path);
    CPLSetThreadLocalConfigOption("GRIB_NORMALIZE_UNITS", "NO");
    parus__gdal_capture_begin(&cap);
    f.main = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!f.main)
        rc = parus_fail(err, PARUS_E_FORMAT, "'%s' is not a weather file parus can read: %s", path,
                        parus__gdal_capture_msg(&cap, "not a raster GDAL knows"));
    else
        rc = read_file(&f, opt, &d, err);
    if (f.main)
        snprintf(d.format, sizeof d.format, "%s",
                 GDALGetDriverShortName(GDALGetDatasetDriver(f.main)));
    file_close(&f);
    parus__gdal_capture_end(&cap);
    CPLSetThreadLocalConfigOption("GRIB_NORMALIZE_UNITS", saved);
    free(saved);
out_hash:
    if (rc == PARUS_OK)
        rc = refuse_future_days(path, &d, err);
    if (rc == PARUS_OK)
        rc = parus__fingerprint_files(&path, 1, d.hash, err);
    if (rc != PARUS_OK) {
        parus_weather_data_release(&d);
        return rc;
    }
    *out = d;
    return PARUS_OK;
}

/* ---- what a file is, without reading it ---- */

static bool name_ends_with(const char *path, const char *const *suffixes, size_t n)
{
    size_t len = strlen(path), i;
    for (i = 0; i < n; i++) {
        size_t m = strlen(suffixes[i]);
        if (len > m && parus__strcasecmp(path + len - m, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static const char *const netcdf_names[] = {".nc", ".nc4", ".netcdf", ".cdf"};
static const char *const grib_names[] = {".grib", ".grib1", ".grib2", ".grb", ".grb1", ".grb2"};
static const char *const tiff_names[] = {".tif", ".tiff"};

/* A GeoTIFF is a weather stack when it says what variable it holds: VARIABLE metadata on the
 * dataset or its first band, which collect_gtiff requires of every band and which no tile
 * profile (raster.c) reads. Any other file GDAL opens as netCDF or GRIB is weather too. */
static parus_weather_file_kind kind_of_raster(const char *path)
{
    parus_weather_file_kind kind = PARUS_WEATHER_FILE_NONE;
    parus__gdal_capture cap;
    GDALDatasetH ds;
    const char *const drivers[] = {"GTiff", "netCDF", "GRIB", NULL};

    parus__gdal_init();
    parus__gdal_capture_begin(&cap);
    ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, NULL, NULL);
    if (ds) {
        const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
        GDALRasterBandH b = GDALGetRasterCount(ds) > 0 ? GDALGetRasterBand(ds, 1) : NULL;
        if (strcmp(drv, "netCDF") == 0)
            kind = PARUS_WEATHER_FILE_NETCDF;
        else if (strcmp(drv, "GRIB") == 0)
            kind = PARUS_WEATHER_FILE_GRIB;
        else if (md(ds, "VARIABLE") || (b && md(b, "VARIABLE")))
            kind = PARUS_WEATHER_FILE_GTIFF;
        GDALClose(ds);
    }
    parus__gdal_capture_end(&cap);
    return kind;
}

parus_weather_file_kind parus_weather_file_kind_of(const char *path)
{
    unsigned char head[8] = {0};
    size_t got;
    FILE *f;

    if (!path || !*path)
        return PARUS_WEATHER_FILE_NONE;
    if (name_ends_with(path, netcdf_names, sizeof netcdf_names / sizeof netcdf_names[0]))
        return PARUS_WEATHER_FILE_NETCDF;
    if (name_ends_with(path, grib_names, sizeof grib_names / sizeof grib_names[0]))
        return PARUS_WEATHER_FILE_GRIB;
    if (ends_with_csv(path))
        return parus__weather_csv_is_stations(path) ? PARUS_WEATHER_FILE_CSV
                                                    : PARUS_WEATHER_FILE_NONE;
    if (name_ends_with(path, tiff_names, sizeof tiff_names / sizeof tiff_names[0]))
        return kind_of_raster(path);
    /* another name: netCDF classic (CDF 1, 2, 5) or GRIB by their first bytes, as GDAL
       recognises them; HDF5 (netCDF-4) only by name, being a container of anything */
    f = fopen(path, "rb");
    if (!f)
        return PARUS_WEATHER_FILE_NONE;
    got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got >= 4 && memcmp(head, "CDF", 3) == 0 && (head[3] == 1 || head[3] == 2 || head[3] == 5))
        return PARUS_WEATHER_FILE_NETCDF;
    if (got >= 4 && memcmp(head, "GRIB", 4) == 0)
        return PARUS_WEATHER_FILE_GRIB;
    return PARUS_WEATHER_FILE_NONE;
}

const char *parus_weather_file_kind_name(parus_weather_file_kind kind)
{
    switch (kind) {
    case PARUS_WEATHER_FILE_NETCDF:
        return "netCDF";
    case PARUS_WEATHER_FILE_GRIB:
        return "GRIB";
    case PARUS_WEATHER_FILE_GTIFF:
        return "GTiff";
    case PARUS_WEATHER_FILE_CSV:
        return "CSV";
    default:
        return "none";
    }
}

/* ---- import ---- */

parus_status parus_weather_import(parus_store *store, const char *path,
                                  const parus_weather_options *opt,
                                  parus_weather_import_stats *stats, parus_error *err)
{
    return parus__weather_import(store, path, opt, NULL, NULL, stats, err);
}

parus_status parus__weather_import(parus_store *store, const char *path,
                                   const parus_weather_options *opt, parus_checkpoint_fn checkpoint,
                                   void *checkpoint_ctx, parus_weather_import_stats *stats,
                                   parus_error *err)
{
    parus_weather_import_stats st;
    parus_weather_data d;
    char hash[65];
    bool known = false;
    parus_status rc;

    memset(&st, 0, sizeof st);
    rc = parus__fingerprint_files(&path, 1, hash, err);
    if (rc == PARUS_OK)
        rc = parus__store_weather_known(store, hash, &known, err);
    if (rc != PARUS_OK)
        return rc;
    if (known) {
        st.already = true;
        if (stats)
            *stats = st;
        return PARUS_OK;
    }
    rc = parus_weather_read(path, opt, &d, err);
    if (rc != PARUS_OK)
        return rc;
    rc = parus__store_weather_put(store, path, &d, checkpoint, checkpoint_ctx, &st, err);
    if (rc == PARUS_OK) {
        parus__format_day(d.first_day, st.first_day);
        parus__format_day(d.first_day + (int64_t)d.n_days - 1, st.last_day);
        st.n_gap_days = d.n_gap_days;
        if (d.n_gap_days)
            parus__format_day(d.first_gap_day, st.first_gap_day);
        if (stats)
            *stats = st;
    }
    parus_weather_data_release(&d);
    return rc;
}

/* ---- weights ---- */

struct weigh {
    parus_store *store;
    const parus__weather_grid *g;
    PJ *pj;
    bool wrap; /* a geographic grid reaching past 180 degrees east: 0..360 longitudes */
    parus__weather_weights *w;
    size_t n_w, cap_w;
    parus__weather_held *held; /* the grid's stored weights, by parcel id */
    size_t n_held;
    double *best; /* per parcel in visit order: the largest share a grid covers */
    size_t n_best, cap_best;
    size_t visit;
    parus_weather_weight_stats *stats;
    parus_error *err;
    parus_status rc;
};

static void weights_free(parus__weather_weights *w, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(w[i].parcel_id);
        free(w[i].cells);
        free(w[i].weights);
    }
    free(w);
}

/* The parcel's cells on the grid and their shares of its area. */
static parus_status weigh_parcel(struct weigh *c, const parus_parcel *p, parus__weather_weights *w)
{
    parus__rings r;
    parus_polygon poly;
    parus_cover cov = {0};
    bool nomem = false;
    const double *gt = c->g->gt;
    size_t i;
    parus_status rc;

    if (!parus__rings_from_wkb(p->wkb, p->wkb_size, &r, &nomem)) {
        parus__rings_release(&r);
        return nomem ? parus_fail(c->err, PARUS_E_NOMEM, "cannot hold parcel '%s'", p->id)
                     : parus_fail(c->err, PARUS_E_STORE,
                                  "parcel '%s': stored geometry is not a polygon", p->id);
    }
    proj_trans_generic(c->pj, PJ_FWD, r.xy, 2 * sizeof(double), r.n_points, r.xy + 1,
                       2 * sizeof(double), r.n_points, NULL, 0, 0, NULL, 0, 0);
    for (i = 0; i < r.n_points; i++) {
        double x = r.xy[2 * i], y = r.xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) {
            parus__rings_release(&r);
            return PARUS_OK; /* outside the grid CRS's domain: not covered */
        }
        if (c->wrap && x < gt[0])
            x += 360;
        r.xy[2 * i] = (x - gt[0]) / gt[1];
        r.xy[2 * i + 1] = (y - gt[3]) / gt[5];
    }
    poly.xy = r.xy;
    poly.ring_start = r.ring_start;
    poly.is_hole = r.is_hole;
    poly.n_rings = r.n_rings;
    rc = parus_cover_compute(&poly, c->g->width, c->g->height, &cov, c->err);
    parus__rings_release(&r);
    if (rc != PARUS_OK)
        return rc;
    if (cov.area_total_px > 0)
        w->covered_share = cov.area_px / cov.area_total_px;
    if (w->covered_share >= PARUS__WEATHER_MIN_COVER && cov.n_cells) {
        w->cells = malloc(cov.n_cells * sizeof *w->cells);
        w->weights = malloc(cov.n_cells * sizeof *w->weights);
        if (!w->cells || !w->weights) {
            parus_cover_release(&cov);
            return parus_fail(c->err, PARUS_E_NOMEM, "cannot hold the weights of '%s'", p->id);
        }
        for (i = 0; i < cov.n_cells; i++) {
            w->cells[i] = cov.cells[i].row * (uint32_t)c->g->width + cov.cells[i].col;
            w->weights[i] = cov.cells[i].fraction / cov.area_total_px;
        }
        w->n_cells = cov.n_cells;
    }
    parus_cover_release(&cov);
    return PARUS_OK;
}

/* Great-circle distance in km between two lon/lat points (a sphere of the mean Earth radius:
 * well within the rule's own coarseness). */
static double distance_km(double lon1, double lat1, double lon2, double lat2)
{
    const double rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2.0 * 6371.0088 * asin(fmin(1.0, sqrt(h)));
}

/* A parcel's weights on a list of stations: the up to PARUS__WEATHER_STATIONS nearest within
 * PARUS__WEATHER_STATION_KM of its centre (its bounding box's), by the inverse square of the
 * distance (at least 1 km); covered_share 1 when there is one, 0 when none. */
static parus_status weigh_stations(struct weigh *c, const parus_parcel *p,
                                   parus__weather_weights *w)
{
    double lon = 0.5 * (p->lon_min_deg + p->lon_max_deg);
    double lat = 0.5 * (p->lat_min_deg + p->lat_max_deg);
    double best_d[PARUS__WEATHER_STATIONS], sum = 0;
    uint32_t best_k[PARUS__WEATHER_STATIONS];
    size_t n = 0, k, j;
    for (k = 0; k < c->g->width; k++) {
        double x = c->g->station_xy[2 * k], y = c->g->station_xy[2 * k + 1], d;
        if (!isfinite(x) || !isfinite(y))
            continue;
        d = distance_km(lon, lat, x, y);
        if (!(d <= PARUS__WEATHER_STATION_KM))
            continue;
        /* insert in distance order (ties: the lower cell, kept first) */
        for (j = n; j > 0 && best_d[j - 1] > d; j--)
            if (j < PARUS__WEATHER_STATIONS) {
                best_d[j] = best_d[j - 1];
                best_k[j] = best_k[j - 1];
            }
        if (j < PARUS__WEATHER_STATIONS) {
            best_d[j] = d;
            best_k[j] = (uint32_t)k;
            if (n < PARUS__WEATHER_STATIONS)
                n++;
        }
    }
    if (n == 0)
        return PARUS_OK;
    w->cells = malloc(n * sizeof *w->cells);
    w->weights = malloc(n * sizeof *w->weights);
    if (!w->cells || !w->weights)
        return parus_fail(c->err, PARUS_E_NOMEM, "cannot hold the weights of '%s'", p->id);
    for (j = 0; j < n; j++) {
        double d = fmax(1.0, best_d[j]);
        w->cells[j] = best_k[j];
        w->weights[j] = 1.0 / (d * d);
        sum += w->weights[j];
    }
    for (j = 0; j < n; j++)
        w->weights[j] /= sum;
    w->n_cells = n;
    w->covered_share = 1.0;
    return PARUS_OK;
}

static int cmp_held(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const parus__weather_held *)elem)->parcel_id);
}

static int weigh_visit(const parus_parcel *p, void *ctx)
{
    struct weigh *c = ctx;
    parus__weather_weights *w;
    const parus__weather_held *h;
    uint64_t fp[4];
    size_t k, at = c->visit++;

    if (at >= c->n_best) {
        if (!parus__grow((void **)&c->best, &c->cap_best, at + 1, sizeof *c->best, 1024)) {
            c->rc = parus_fail(c->err, PARUS_E_NOMEM, "cannot weigh the parcels");
            return 1;
        }
        c->best[c->n_best++] = 0;
    }
    if (!parus__grow((void **)&c->w, &c->cap_w, c->n_w + 1, sizeof *c->w, 256)) {
        c->rc = parus_fail(c->err, PARUS_E_NOMEM, "cannot weigh the parcels");
        return 1;
    }
    w = &c->w[c->n_w];
    memset(w, 0, sizeof *w);
    parus__fingerprint(p->wkb, p->wkb_size, fp);
    for (k = 0; k < 4; k++)
        snprintf(w->hash + 16 * k, 17, "%016llx", (unsigned long long)fp[k]);
    h = c->n_held ? bsearch(p->id, c->held, c->n_held, sizeof *c->held, cmp_held) : NULL;
    if (h && strcmp(h->hash, w->hash) == 0) {
        c->stats->n_kept++;
        c->best[at] = fmax(c->best[at], h->covered_share);
        return 0;
    }
    w->parcel_id = parus__strdup(p->id);
    if (!w->parcel_id) {
        c->rc = parus_fail(c->err, PARUS_E_NOMEM, "cannot weigh the parcels");
        return 1;
    }
    c->n_w++;
    c->rc = c->g->station_xy ? weigh_stations(c, p, w) : weigh_parcel(c, p, w);
    if (c->rc != PARUS_OK)
        return 1;
    c->stats->n_computed++;
    c->best[at] = fmax(c->best[at], w->covered_share);
    return 0;
}

struct uncovered {
    const double *best;
    size_t visit;
    parus_weather_weight_stats *stats;
};

static int uncovered_visit(const parus_parcel *p, void *ctx)
{
    struct uncovered *u = ctx;
    size_t at = u->visit++;
    if (u->best[at] >= PARUS__WEATHER_MIN_COVER)
        return 0;
    if (u->stats->n_uncovered < sizeof u->stats->uncovered / sizeof u->stats->uncovered[0])
        snprintf(u->stats->uncovered[u->stats->n_uncovered], sizeof u->stats->uncovered[0], "%s",
                 p->id);
    u->stats->n_uncovered++;
    return 0;
}

parus_status parus_weather_weights_update(parus_store *store, parus_weather_weight_stats *stats,
                                          parus_error *err)
{
    parus_weather_weight_stats st;
    parus__weather_grid *grids = NULL;
    size_t n_grids = 0, i;
    struct weigh c;
    parus_status rc;

    memset(&st, 0, sizeof st);
    memset(&c, 0, sizeof c);
    rc = parus__store_weather_grids(store, &grids, &n_grids, err);
    if (rc != PARUS_OK)
        return rc;
    c.store = store;
    c.stats = &st;
    c.err = err;
    for (i = 0; i < n_grids && rc == PARUS_OK; i++) {
        PJ_CONTEXT *ctx = NULL;
        const parus__weather_grid *g = &grids[i];
        char name[48];
        if (!g->station_xy && (g->gt[1] == 0 || g->gt[5] == 0 || g->gt[2] != 0 || g->gt[4] != 0))
            continue; /* a rotated grid: not weighed (docs/method.md) */
        st.n_grids++;
        snprintf(name, sizeof name, "weather grid %lld", (long long)g->id);
        c.pj = NULL;
        if (!g->station_xy) { /* stations are in WGS 84 already */
            rc = parus__wgs84_to_crs(g->crs_wkt, name, &ctx, &c.pj, err);
            if (rc != PARUS_OK)
                break;
        }
        rc = parus__store_weather_held(store, g->id, &c.held, &c.n_held, err);
        if (rc != PARUS_OK) {
            proj_destroy(c.pj);
            proj_context_destroy(ctx);
            break;
        }
        c.g = g;
        c.wrap =
            g->gt[0] + (double)g->width * g->gt[1] > 180.0 && strncmp(g->crs_wkt, "GEOGCS", 6) == 0;
        c.visit = 0;
        c.n_w = 0;
        c.rc = PARUS_OK;
        rc = parus_store_parcels_in_box(store, -180, -90, 180, 90, weigh_visit, &c, NULL, err);
        if (rc != PARUS_OK && c.rc != PARUS_OK)
            rc = c.rc;
        if (rc == PARUS_OK && c.n_w)
            rc = parus__store_weather_put_weights(store, g->id, c.w, c.n_w, err);
        for (; c.n_w > 0; c.n_w--) {
            free(c.w[c.n_w - 1].parcel_id);
            free(c.w[c.n_w - 1].cells);
            free(c.w[c.n_w - 1].weights);
        }
        parus__weather_held_free(c.held, c.n_held);
        c.held = NULL;
        c.n_held = 0;
        proj_destroy(c.pj);
        proj_context_destroy(ctx);
    }
    if (rc == PARUS_OK && st.n_grids) {
        struct uncovered u = {c.best, 0, &st};
        rc = parus_store_parcels_in_box(store, -180, -90, 180, 90, uncovered_visit, &u, NULL, err);
    }
    weights_free(c.w, 0);
    free(c.best);
    parus__weather_grids_free(grids, n_grids);
    if (rc == PARUS_OK && stats)
        *stats = st;
    return rc;
}

/*
 * test_weather.c - weather in (src/weather.c, weather_csv.c, store_weather.c): units from the
 * metadata and checked against the values, CF time axes and calendars, GeoTIFF stacks, station
 * CSVs, the real ERA5 GRIB file read end to end (hourly to daily against a hand computation),
 * import into the store (idempotent, overlaps, nothing stored of a refused file, gaps), exact
 * area weights on a 2 x 2 grid by hand, parcels no grid covers, and the CLI's exit codes.
 *
 * NetCDF fixtures are written as CDL and compiled with ncgen (Debian's netcdf-bin, installed by
 * tools/setup.sh); the cases that need it skip with a message when it is absent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "parus/store.h"
#include "parus/weather.h"
#include "test_support.h"

static char *dir_;

static int setup(void **state)
{
    (void)state;
    dir_ = parus_test_tmpdir("weather");
    GDALAllRegister();
    return dir_ ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(dir_);
    free(dir_);
    return 0;
}

static bool have_ncgen(void)
{
    static int have = -1;
    if (have < 0)
        have = parus_test_run("ncgen -version >/dev/null 2>&1", NULL, NULL) == 0 ||
               parus_test_run("command -v ncgen >/dev/null 2>&1", NULL, NULL) == 0;
    if (!have)
        fprintf(stderr, "skipped: ncgen (Debian netcdf-bin) is not installed\n");
    return have;
}

/* A netCDF file name.nc from CDL text; NULL (after skip()) without ncgen. */
static char *make_nc(const char *name, const char *cdl)
{
    char cdl_name[64], nc_name[64], cmd[1024];
    char *cdl_path, *nc_path;
    if (!have_ncgen()) {
        skip();
        return NULL;
    }
    snprintf(cdl_name, sizeof cdl_name, "%s.cdl", name);
    snprintf(nc_name, sizeof nc_name, "%s.nc", name);
    cdl_path = parus_test_path(dir_, cdl_name);
    nc_path = parus_test_path(dir_, nc_name);
    assert_int_equal(parus_test_write_file(cdl_path, cdl, strlen(cdl)), 0);
    snprintf(cmd, sizeof cmd, "ncgen -o '%s' '%s'", nc_path, cdl_path);
    assert_int_equal(parus_test_run(cmd, NULL, NULL), 0);
    free(cdl_path);
    return nc_path;
}

/* A daily 2 x 2 grid over lon 100..102, lat 30..32 (1 degree cells, north up): one variable
 * `var` with the attributes `attrs` (CDL lines), `n_days` days from `units`' epoch, data
 * `data` (4 values per day, row-major from the north-west cell). */
static char *nc_grid(const char *name, const char *var, const char *type, const char *attrs,
                     const char *time_attrs, int n_days, const char *times, const char *data)
{
    char cdl[4096];
    snprintf(cdl, sizeof cdl,
             "netcdf %s {\n"
             "dimensions:\n time = %d ; lat = 2 ; lon = 2 ;\n"
             "variables:\n"
             " double time(time) ;\n%s"
             " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
             "  lat:standard_name = \"latitude\" ;\n"
             " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
             "  lon:standard_name = \"longitude\" ;\n"
             " %s %s(time, lat, lon) ;\n%s"
             "data:\n time = %s ;\n lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n %s = %s ;\n}\n",
             name, n_days, time_attrs, type, var, attrs, times, var, data);
    return make_nc(name, cdl);
}

static const char days_2024[] = "  time:units = \"days since 2024-01-01 00:00:00\" ;\n"
                                "  time:calendar = \"standard\" ;\n";

static float cell(const parus_weather_data *d, parus_weather_var v, size_t day, size_t k)
{
    assert_non_null(d->values[v]);
    return d->values[v][day * d->width * d->height + k];
}

static void assert_msg_has(const parus_error *err, const char *part)
{
    if (!strstr(err->msg, part))
        fail_msg("message '%s' lacks '%s'", err->msg, part);
}

static parus_store *open_store(const char *name, bool fresh);
static long long count(const char *db_name, const char *sql);
static void load_parcels(parus_store *s, const double (*box)[4], size_t n);

/* ---- reading ---- */

static void test_netcdf__kelvin_scaled_to_celsius(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    /* packed shorts: K = raw * 0.01 + 273.15, so degC = raw * 0.01; -32767 is the fill */
    nc = nc_grid("t2m_k", "t2m", "short",
                 "  t2m:units = \"K\" ;\n  t2m:scale_factor = 0.01 ;\n"
                 "  t2m:add_offset = 273.15 ;\n  t2m:_FillValue = -32767s ;\n",
                 days_2024, 2, "0, 1", "1000, 2000, -32767, 500, 1100, 2100, 300, -400");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "netCDF");
    assert_int_equal(d.width, 2);
    assert_int_equal(d.height, 2);
    assert_int_equal(d.n_days, 2);
    {
        char day[11];
        parus_weather_day_text(d.first_day, day);
        assert_string_equal(day, "2024-01-01");
    }
    assert_null(d.values[PARUS_WEATHER_PRECIP_MM]);
    /* a daily temperature is the day's mean */
    assert_null(d.values[PARUS_WEATHER_TMIN_C]);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 0), 10.0, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 1), 20.0, 1e-4, 0);
    assert_true(isnan(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 2))); /* the fill: missing, not 0 */
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 1, 3), -4.0, 1e-4, 0);
    assert_close(d.geotransform[0], 100.0, 1e-9, 0);
    assert_close(d.geotransform[3], 32.0, 1e-9, 0);
    assert_int_equal(d.n_gap_days, 0);
    parus_weather_data_release(&d);
    free(nc);
}

static void test_netcdf__metres_to_mm_and_two_variables(void **state)
{
    parus_weather_data d;
    parus_error err;
    char cdl[2048];
    char *nc;
    (void)state;
    snprintf(cdl, sizeof cdl,
             "netcdf two {\ndimensions:\n valid_time = 2 ; lat = 2 ; lon = 2 ;\nvariables:\n"
             " double valid_time(valid_time) ;\n"
             "  valid_time:units = \"hours since 2024-06-01\" ;\n"
             " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
             " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
             " float tp(valid_time, lat, lon) ;\n  tp:units = \"m\" ;\n"
             " float tx(valid_time, lat, lon) ;\n  tx:units = \"degC\" ;\n"
             "data:\n valid_time = 0, 24 ;\n lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n"
             " tp = 0.001, 0.0125, 0, 0.002, 0, 0, 0, 0.1 ;\n"
             " tx = 30, 31, 32, 33, 29, 28, 27, 26 ;\n}\n");
    nc = make_nc("two", cdl);
    if (!nc)
        return;
    {
        /* tx is not a name parus knows: ignored and listed, until the user says what it is */
        assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
        assert_null(d.values[PARUS_WEATHER_TMAX_C]);
        assert_non_null(strstr(d.ignored, "tx"));
        assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 1), 12.5, 1e-4, 0);
        assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 3), 100.0, 1e-3, 0);
        parus_weather_data_release(&d);
    }
    {
        const char *vars[] = {"tx=tmax"};
        parus_weather_options opt = {NULL, 0, vars, 1};
        assert_int_equal(parus_weather_read(nc, &opt, &d, &err), PARUS_OK);
        assert_close(cell(&d, PARUS_WEATHER_TMAX_C, 1, 0), 29.0, 1e-4, 0);
        assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 0), 1.0, 1e-4, 0);
        assert_int_equal(d.n_sources, 2);
        parus_weather_data_release(&d);
    }
    free(nc);
}

static void test_netcdf__bounds_variables_ignored(void **state)
{
    /* CHIRPS-like: time bounds beside the rainfall, which have no time axis of their own */
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    nc = make_nc("bnds",
                 "netcdf bnds {\ndimensions:\n time = 1 ; lat = 2 ; lon = 2 ; nv = 2 ;\n"
                 "variables:\n double time(time) ;\n"
                 "  time:units = \"days since 1980-01-01\" ;\n  time:bounds = \"time_bnds\" ;\n"
                 " double time_bnds(time, nv) ;\n"
                 " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
                 " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
                 " float precip(time, lat, lon) ;\n  precip:units = \"mm/day\" ;\n"
                 "  precip:_FillValue = -9999.f ;\n"
                 "data:\n time = 16071 ;\n time_bnds = 16071, 16072 ;\n"
                 " lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n"
                 " precip = 0, 12.5, -9999, 3 ;\n}\n");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
    assert_non_null(strstr(d.ignored, "time_bnds"));
    {
        char day[11];
        parus_weather_day_text(d.first_day, day);
        assert_string_equal(day, "2024-01-01");
    }
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 1), 12.5, 1e-5, 0);
    assert_true(isnan(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 2)));
    parus_weather_data_release(&d);
    free(nc);
}

static void test_netcdf__kelvin_labelled_celsius_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    const char *units[] = {"t2m=K"};
    parus_weather_options opt = {units, 1, NULL, 0};
    char *nc;
    (void)state;
    nc = nc_grid("t2m_mislabelled", "t2m", "float", "  t2m:units = \"degC\" ;\n", days_2024, 1, "0",
                 "283.15, 284.15, 285.15, 286.15");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_RANGE);
    assert_msg_has(&err, "t2m_mislabelled.nc");
    assert_msg_has(&err, "kelvin labelled as Celsius");
    assert_msg_has(&err, "--unit t2m=K");
    /* stated, it reads: 10..13 degC */
    assert_int_equal(parus_weather_read(nc, &opt, &d, &err), PARUS_OK);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 0), 10.0, 1e-4, 0);
    assert_true(d.sources[0].unit_stated);
    parus_weather_data_release(&d);
    free(nc);
}

/* A year of rain in the wrong unit passes the daily range [-1, 2000] mm: metres labelled mm (a
 * wet day 0.03) or a total wetter than anywhere on Earth (tenths of a mm labelled mm, in a wet
 * place). Refused, naming the unit to state; the same year in mm reads. */
static char *nc_rain_year(const char *name, double scale)
{
    size_t cap = 64 * 1024, len = 0, t, c;
    char *cdl = malloc(cap), *nc;
    assert_non_null(cdl);
    len += (size_t)snprintf(cdl + len, cap - len,
                            "netcdf %s {\ndimensions:\n time = 366 ; lat = 2 ; lon = 2 ;\n"
                            "variables:\n double time(time) ;\n%s"
                            " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
                            " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
                            " float precip(time, lat, lon) ;\n  precip:units = \"mm\" ;\n"
                            "data:\n lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n time = ",
                            name, days_2024);
    for (t = 0; t < 366; t++)
        len += (size_t)snprintf(cdl + len, cap - len, "%s%zu", t ? ", " : "", t);
    len += (size_t)snprintf(cdl + len, cap - len, " ;\n precip = ");
    for (t = 0; t < 366; t++)
        for (c = 0; c < 4; c++) /* a rainy day in four, 12 mm: 1,100 mm a year */
            len += (size_t)snprintf(cdl + len, cap - len, "%s%.4f", t || c ? ", " : "",
                                    t % 4 == 0 ? 12.0 * scale : 0.0);
    len += (size_t)snprintf(cdl + len, cap - len, " ;\n}\n");
    assert_true(len < cap);
    nc = make_nc(name, cdl);
    free(cdl);
    return nc;
}

static void test_netcdf__a_year_of_rain_in_the_wrong_unit_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    nc = nc_rain_year("rain_metres", 0.001);
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_RANGE);
    assert_msg_has(&err, "rain_metres.nc");
    assert_msg_has(&err, "under 1 mm on every day");
    assert_msg_has(&err, "--unit precip=");
    free(nc);
    nc = nc_rain_year("rain_tenths", 15.0);
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_RANGE);
    assert_msg_has(&err, "wetter than anywhere on Earth");
    free(nc);
    nc = nc_rain_year("rain_mm", 1.0);
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 0), 12.0, 1e-4, 0);
    parus_weather_data_release(&d);
    free(nc);
}

static void test_netcdf__no_time_axis_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    nc = make_nc("notime", "netcdf notime {\ndimensions:\n lat = 2 ; lon = 2 ;\nvariables:\n"
                           " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
                           " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
                           " float pr(lat, lon) ;\n  pr:units = \"mm\" ;\n"
                           "data:\n lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n"
                           " pr = 1, 2, 3, 4 ;\n}\n");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_NO_DATE);
    assert_msg_has(&err, "'pr' has no time axis");
    assert_msg_has(&err, "notime.nc");
    free(nc);
}

static void test_netcdf__unknown_calendar_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    nc = nc_grid("cal360", "pr", "float", "  pr:units = \"mm\" ;\n",
                 "  time:units = \"days since 2024-01-01\" ;\n  time:calendar = \"360_day\" ;\n", 1,
                 "0", "1, 2, 3, 4");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "'360_day'");
    free(nc);
}

static void test_netcdf__missing_and_unknown_units_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc;
    (void)state;
    nc = nc_grid("nounit", "pr", "float", "", days_2024, 1, "0", "1, 2, 3, 4");
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_BANDS);
    assert_msg_has(&err, "nounit.nc");
    assert_msg_has(&err, "variable 'pr' has no unit");
    assert_msg_has(&err, "--unit pr=UNIT");
    free(nc);
    nc = nc_grid("oddunit", "pr", "float", "  pr:units = \"furlongs\" ;\n", days_2024, 1, "0",
                 "1, 2, 3, 4");
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_BANDS);
    assert_msg_has(&err, "'furlongs'");
    assert_msg_has(&err, "--unit pr=UNIT");
    free(nc);
}

/* An hourly 2 m temperature on the 2 x 2 grid: n_hours steps from 2024-01-01T00 UTC, cell k at
 * hour h = 270 + k + h / 10 K. */
static char *nc_hourly(const char *name, int n_hours, const char *var, const char *unit)
{
    char *cdl = malloc(65536), *p;
    size_t left = 65536;
    int h, k, n;
    char *nc;
    assert_non_null(cdl);
    p = cdl;
    n = snprintf(p, left,
                 "netcdf %s {\ndimensions:\n time = %d ; lat = 2 ; lon = 2 ;\nvariables:\n"
                 " int time(time) ;\n  time:units = \"hours since 2024-01-01 00:00:00\" ;\n"
                 "  time:calendar = \"gregorian\" ;\n"
                 " double lat(lat) ;\n  lat:units = \"degrees_north\" ;\n"
                 " double lon(lon) ;\n  lon:units = \"degrees_east\" ;\n"
                 " float %s(time, lat, lon) ;\n  %s:units = \"%s\" ;\n"
                 "data:\n lat = 31.5, 30.5 ;\n lon = 100.5, 101.5 ;\n time = ",
                 name, n_hours, var, var, unit);
    p += n;
    left -= (size_t)n;
    for (h = 0; h < n_hours; h++) {
        n = snprintf(p, left, "%d%s", h, h + 1 < n_hours ? ", " : " ;\n");
        p += n;
        left -= (size_t)n;
    }
    n = snprintf(p, left, " %s = ", var);
    p += n;
    left -= (size_t)n;
    for (h = 0; h < n_hours; h++)
        for (k = 0; k < 4; k++) {
            n = snprintf(p, left, "%.1f%s", 270.0 + k + h / 10.0,
                         h + 1 < n_hours || k < 3 ? ", " : " ;\n}\n");
            p += n;
            left -= (size_t)n;
        }
    nc = make_nc(name, cdl);
    free(cdl);
    return nc;
}

static void test_netcdf__hourly_to_utc_days_and_a_partial_day(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc = nc_hourly("hourly", 36, "t2m", "K"), day[11];
    (void)state;
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
    assert_true(d.sources[0].hourly);
    assert_int_equal(d.n_days, 2);
    /* January 1st, hours 0..23: min 270 + k, max 272.3 + k, mean 271.15 + k (K) */
    assert_close(cell(&d, PARUS_WEATHER_TMIN_C, 0, 1), 271.0 - 273.15, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMAX_C, 0, 1), 273.3 - 273.15, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 1), 272.15 - 273.15, 1e-4, 0);
    /* January 2nd has 12 hours: missing, counted, never a half-day minimum */
    assert_int_equal(d.n_partial_days, 1);
    assert_true(isnan(cell(&d, PARUS_WEATHER_TMIN_C, 1, 0)));
    assert_int_equal(d.n_gap_days, 1);
    parus_weather_day_text(d.first_gap_day, day);
    assert_string_equal(day, "2024-01-02");
    parus_weather_data_release(&d);
    free(nc);
}

static void test_netcdf__hourly_precipitation_refused(void **state)
{
    parus_weather_data d;
    parus_error err;
    char *nc = nc_hourly("hourly_tp", 24, "tp", "m");
    (void)state;
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "'tp' is sub-daily");
    assert_msg_has(&err, "daily totals");
    free(nc);
}

/* A one-message GRIB2 file (GDAL's writer, which takes temperatures in degC and encodes them in
 * kelvin, GRIB's unit): 7, 8, 9, 10 degC, valid 2024-07-01T00 UTC,
 * at surface type `surface` (103: height above ground, 2 m; 1: the ground). */
static char *make_grib2(const char *name, int surface)
{
    char *path = parus_test_path(dir_, name), pdt[160];
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", 2, 2, 1, GDT_Float32, NULL);
    GDALDatasetH out;
    double gt[6] = {100, 1, 0, 32, 0, -1};
    float v[4] = {7, 8, 9, 10};
    char *opts[5] = {NULL};
    assert_non_null(mem);
    GDALSetGeoTransform(mem, gt);
    GDALSetProjection(mem, "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,"
                           "298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\","
                           "0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]");
    assert_int_equal(
        GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Write, 0, 0, 2, 2, v, 2, 2, GDT_Float32, 0, 0),
        CE_None);
    snprintf(pdt, sizeof pdt,
             "PDS_TEMPLATE_NUMBERS=0 0 2 0 96 0 0 0 1 0 0 0 0 %d 0 0 0 0 %d 255 0 0 0 0 0", surface,
             surface == 103 ? 2 : 0);
    opts[0] = "DISCIPLINE=0";
    opts[1] = "IDS=CENTER=98 SUBCENTER=0 MASTER_TABLE=2 SIGNF_REF_TIME=1 "
              "REF_TIME=2024-07-01T00:00:00Z PROD_STATUS=0 TYPE=1";
    opts[2] = "PDS_PDTN=0";
    opts[3] = pdt;
    out = GDALCreateCopy(GDALGetDriverByName("GRIB"), path, mem, FALSE, opts, NULL, NULL);
    assert_non_null(out);
    GDALClose(out);
    GDALClose(mem);
    return path;
}

static void test_grib2__temperature_at_2m_in_kelvin(void **state)
{
    char *ok = make_grib2("t2m.grb2", 103), *ground = make_grib2("tsfc.grb2", 1), day[11];
    parus_weather_data d;
    parus_error err;
    (void)state;
    assert_int_equal(parus_weather_read(ok, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "GRIB");
    assert_string_equal(d.sources[0].name, "TMP");
    assert_string_equal(d.sources[0].unit, "[K]");
    parus_weather_day_text(d.first_day, day);
    assert_string_equal(day, "2024-07-01");
    assert_int_equal(d.n_days, 1);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 0), 7.0, 1e-3, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, 3), 10.0, 1e-3, 0);
    parus_weather_data_release(&d);
    /* the ground's temperature is not the crop's air */
    assert_int_equal(parus_weather_read(ground, NULL, &d, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "TMP (not at 2 m)");
    free(ok);
    free(ground);
}

/* A GeoTIFF stack of size x size cells of cell_deg degrees from (100, 32) down and right: one
 * band per date (DATE metadata), VARIABLE, a unit. */
static char *make_tif_grid(const char *name, int size, double cell_deg, const char *variable,
                           const char *unit, const char *const *dates, const float *values,
                           int n_bands)
{
    char *path = parus_test_path(dir_, name);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = GDALCreate(drv, path, size, size, n_bands, GDT_Float32, NULL);
    double gt[6] = {100, cell_deg, 0, 32, 0, -cell_deg};
    int b, n = size * size;
    assert_non_null(ds);
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,"
                          "298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\","
                          "0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]");
    if (variable)
        GDALSetMetadataItem(ds, "VARIABLE", variable, NULL);
    for (b = 0; b < n_bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        float buf[4];
        memcpy(buf, values + n * b, (size_t)n * sizeof *buf);
        if (dates[b])
            GDALSetMetadataItem(band, "DATE", dates[b], NULL);
        if (unit)
            GDALSetRasterUnitType(band, unit);
        GDALSetRasterNoDataValue(band, -9999);
        assert_int_equal(
            GDALRasterIO(band, GF_Write, 0, 0, size, size, buf, size, size, GDT_Float32, 0, 0),
            CE_None);
    }
    GDALClose(ds);
    return path;
}

/* The same on the 2 x 2 grid of 1 degree cells. */
static char *make_tif(const char *name, const char *variable, const char *unit,
                      const char *const *dates, const float *values, int n_bands)
{
    return make_tif_grid(name, 2, 1.0, variable, unit, dates, values, n_bands);
}

static void test_gtiff__stack_with_a_gap(void **state)
{
    const char *dates[] = {"2024-07-01", "2024-07-02", "2024-07-04"};
    const float v[] = {1, 2, 3, 4, 0, 0, 0, -9999, 5, 6, 7, 8};
    parus_weather_data d;
    parus_error err;
    char *tif = make_tif("rain.tif", "precip", "mm", dates, v, 3), day[11];
    (void)state;
    assert_int_equal(parus_weather_read(tif, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "GTiff");
    assert_int_equal(d.n_days, 4);
    /* July 3rd is missing: reported, NaN, never zero rain */
    assert_int_equal(d.n_gap_days, 1);
    parus_weather_day_text(d.first_gap_day, day);
    assert_string_equal(day, "2024-07-03");
    assert_true(isnan(cell(&d, PARUS_WEATHER_PRECIP_MM, 2, 0)));
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 0), 0.0, 0, 0); /* a dry day is a 0 */
    assert_true(isnan(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 3)));      /* nodata */
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 3, 3), 8.0, 0, 0);
    parus_weather_data_release(&d);
    free(tif);
}

static void test_gtiff__no_date_no_variable_or_monthly_refused(void **state)
{
    const char *no_date[] = {NULL};
    const char *dates[] = {"2024-07-01"};
    const float v[] = {1, 2, 3, 4};
    parus_weather_data d;
    parus_error err;
    char *a = make_tif("nodate.tif", "precip", "mm", no_date, v, 1);
    char *b = make_tif("novar.tif", NULL, "mm", dates, v, 1);
    (void)state;
    assert_int_equal(parus_weather_read(a, NULL, &d, &err), PARUS_E_NO_DATE);
    assert_msg_has(&err, "no DATE");
    {
        /* a DATE that is no date is not passed over for the date in the band's description */
        const char *bad[] = {"2024-13-01"};
        char *c = make_tif("baddate.tif", "precip", "mm", bad, v, 1);
        GDALDatasetH ds = GDALOpen(c, GA_Update);
        assert_non_null(ds);
        GDALSetDescription(GDALGetRasterBand(ds, 1), "2024-07-01");
        GDALClose(ds);
        assert_int_equal(parus_weather_read(c, NULL, &d, &err), PARUS_E_NO_DATE);
        assert_msg_has(&err, "baddate.tif': band 1 has DATE '2024-13-01', which is not a date");
        free(c);
    }
    {
        /* a rotated grid is refused, not stored for no parcel to read */
        double gt[6] = {100, 1, 0.1, 32, 0.1, -1};
        char *c = make_tif("rotated.tif", "precip", "mm", dates, v, 1);
        GDALDatasetH ds = GDALOpen(c, GA_Update);
        assert_non_null(ds);
        GDALSetGeoTransform(ds, gt);
        GDALClose(ds);
        assert_int_equal(parus_weather_read(c, NULL, &d, &err), PARUS_E_FORMAT);
        assert_msg_has(&err, "rotated.tif': variable 'precip' lies on a rotated grid");
        free(c);
    }
    assert_int_equal(parus_weather_read(b, NULL, &d, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "no VARIABLE");
    {
        const char *monthly[] = {"2024-07-01", "2024-08-01"};
        const float m[] = {100, 120, 90, 80, 60, 70, 50, 40};
        char *c = make_tif("monthly.tif", "precip", "mm", monthly, m, 2);
        assert_int_equal(parus_weather_read(c, NULL, &d, &err), PARUS_E_FORMAT);
        assert_msg_has(&err, "a monthly total is not a day's");
        free(c);
    }
    {
        /* values on a day after today are not observed weather; a future day left empty (a
           file laid out ahead) is only a gap */
        const char *ahead[] = {"2024-07-01", "2024-07-02", "2099-07-01"};
        const float f[] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4};
        const float empty[] = {1, 2, 3, 4, 1, 2, 3, 4, -9999, -9999, -9999, -9999};
        char *c = make_tif("ahead.tif", "precip", "mm", ahead, f, 3);
        char *e = make_tif("ahead-empty.tif", "precip", "mm", ahead, empty, 3);
        assert_int_equal(parus_weather_read(c, NULL, &d, &err), PARUS_E_FORMAT);
        assert_msg_has(&err, "ahead.tif' has precip_mm values on 2099-07-01, after today (");
        assert_msg_has(&err, "weather not yet observed (a forecast, or a wrong time axis)");
        assert_int_equal(parus_weather_read(e, NULL, &d, &err), PARUS_OK);
        parus_weather_data_release(&d);
        free(c);
        free(e);
    }
    free(a);
    free(b);
}

/* The nightly job's rule (parus_weather_file_kind_of): names decide for netCDF and GRIB, the
 * header for a CSV, VARIABLE metadata for a GeoTIFF, the first bytes for any other name. */
static void test_kind__weather_files_told_from_tiles(void **state)
{
    const char *dates[] = {"2024-07-01"};
    const float v[] = {1, 2, 3, 4};
    char *rain = make_tif("kind_rain.tif", "precip", "mm", dates, v, 1);
    char *novar = make_tif("precip_kind.tif", NULL, "mm", dates, v, 1);
    char *tile = parus_test_path(parus_test_source_dir(),
                                 "data-samples/season/S2B_MSIL2A_20240305_T50SKF.tif");
    char *era5 = parus_test_path(parus_test_source_dir(),
                                 "data-samples/weather/era5-daily-cancities-1990-1993.nc");
    static const struct {
        const char *name, *text;
        size_t n; /* bytes to write; 0: the text's length */
        parus_weather_file_kind kind;
    } files[] = {
        {"kind_garbage.nc", "not netCDF at all\n", 0, PARUS_WEATHER_FILE_NETCDF},
        {"kind_garbage.GRIB2", "x", 0, PARUS_WEATHER_FILE_GRIB},
        {"kind_stations.csv",
         "\xef\xbb\xbfStation_ID,lon,lat,date,precip_mm\nS1,1,2,2024-01-01,0\n", 0,
         PARUS_WEATHER_FILE_CSV},
        {"kind_manifest.csv", "file,sha256\na.tif,00\n", 0, PARUS_WEATHER_FILE_NONE},
        {"kind_classic", "CDF\001\000\000\000\000", 8, PARUS_WEATHER_FILE_NETCDF},
        {"kind_grib_noext", "GRIB\000\000", 6, PARUS_WEATHER_FILE_GRIB},
        {"kind_readme.txt", "CDF is not at the start\n", 0, PARUS_WEATHER_FILE_NONE},
        {"kind_text.tif", "not a tiff\n", 0, PARUS_WEATHER_FILE_NONE},
    };
    size_t i;
    (void)state;
    assert_int_equal(parus_weather_file_kind_of(rain), PARUS_WEATHER_FILE_GTIFF);
    assert_string_equal(parus_weather_file_kind_name(PARUS_WEATHER_FILE_GTIFF), "GTiff");
    /* the name says precipitation, the metadata nothing: not weather (a tile, or nothing) */
    assert_int_equal(parus_weather_file_kind_of(novar), PARUS_WEATHER_FILE_NONE);
    /* a Sentinel-2 tile is never weather, and the real netCDF-4 file is */
    assert_int_equal(parus_weather_file_kind_of(tile), PARUS_WEATHER_FILE_NONE);
    assert_int_equal(parus_weather_file_kind_of(era5), PARUS_WEATHER_FILE_NETCDF);
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = parus_test_path(dir_, files[i].name);
        size_t n = files[i].n ? files[i].n : strlen(files[i].text);
        assert_int_equal(parus_test_write_file(path, files[i].text, n), 0);
        if (parus_weather_file_kind_of(path) != files[i].kind)
            fail_msg("'%s' is taken for %s, not %s", files[i].name,
                     parus_weather_file_kind_name(parus_weather_file_kind_of(path)),
                     parus_weather_file_kind_name(files[i].kind));
        free(path);
    }
    assert_int_equal(parus_weather_file_kind_of("/nonexistent/kind.tif"), PARUS_WEATHER_FILE_NONE);
    assert_int_equal(parus_weather_file_kind_of(NULL), PARUS_WEATHER_FILE_NONE);
    free(rain);
    free(novar);
    free(tile);
    free(era5);
}

static void test_csv__stations(void **state)
{
    static const char good[] = "station_id,lon,lat,date,precip_mm,tmin_c,tmax_c\n"
                               "S1,116.1,39.9,2024-05-01,0,10.5,22\n"
                               "S2,116.5,40.1,2024-05-01,3.5,,21\n"
                               "S1,116.1,39.9,2024-05-02,1.2,11,23.5\n";
    static const char bad[] = "station_id,lon,lat,date,precip_in\nS1,116,40,2024-05-01,1\n";
    static const char kelvin[] = "station_id,lon,lat,date,tmin_c\nS1,116,40,2024-05-01,283.1\n";
    char *a = parus_test_path(dir_, "st.csv"), *b = parus_test_path(dir_, "bad.csv");
    char *c = parus_test_path(dir_, "kelvin.csv");
    parus_weather_data d;
    parus_error err;
    (void)state;
    assert_int_equal(parus_test_write_file(a, good, strlen(good)), 0);
    assert_int_equal(parus_test_write_file(b, bad, strlen(bad)), 0);
    assert_int_equal(parus_test_write_file(c, kelvin, strlen(kelvin)), 0);
    assert_int_equal(parus_weather_read(a, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "CSV");
    assert_int_equal(d.width, 2);
    assert_int_equal(d.n_days, 2);
    assert_non_null(strstr(d.stations, "S2 116.500000 40.100000"));
    assert_close(cell(&d, PARUS_WEATHER_TMIN_C, 0, 0), 10.5, 1e-5, 0);
    assert_true(isnan(cell(&d, PARUS_WEATHER_TMIN_C, 0, 1)));    /* empty cell: missing */
    assert_true(isnan(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 1))); /* no record: missing */
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 0), 1.2, 1e-5, 0);
    parus_weather_data_release(&d);
    /* cut short by a copy that stopped: "23.5" read as "23" before (round 7, finding 7) */
    assert_int_equal(parus_test_write_file(b, good, strlen(good) - 3), 0);
    assert_int_equal(parus_weather_read(b, NULL, &d, &err), PARUS_E_FORMAT);
    assert_non_null(strstr(err.msg, "line 4: the last line has no line end"));
    assert_int_equal(parus_test_write_file(b, bad, strlen(bad)), 0);
    {
        /* stored as a one-row grid of stations, weighed to parcels by inverse squared distance
         * (the nearest four within 50 km): A lies between S1 and S2, B far from both */
        const double box[2][4] = {{116.19, 39.94, 116.21, 39.96}, {120.0, 10.0, 120.01, 10.01}};
        parus_store *s = open_store("st.db", true);
        parus_weather_import_stats st;
        parus_weather_weight_stats ws;
        parus_weather_series ser;
        const double rad = 3.14159265358979323846 / 180.0;
        double d1, d2, w1, w2;
        load_parcels(s, box, 2);
        assert_int_equal(parus_weather_import(s, a, NULL, &st, &err), PARUS_OK);
        assert_int_equal(st.n_values, 8);
        assert_int_equal(parus_weather_weights_update(s, &ws, &err), PARUS_OK);
        assert_int_equal(ws.n_grids, 1);
        assert_int_equal(ws.n_uncovered, 1);
        assert_string_equal(ws.uncovered[0], "B");
        /* the distances by the spherical law of cosines (another formula than parus's) */
        d1 = 6371.0088 * acos(sin(39.95 * rad) * sin(39.9 * rad) +
                              cos(39.95 * rad) * cos(39.9 * rad) * cos((116.2 - 116.1) * rad));
        d2 = 6371.0088 * acos(sin(39.95 * rad) * sin(40.1 * rad) +
                              cos(39.95 * rad) * cos(40.1 * rad) * cos((116.2 - 116.5) * rad));
        w1 = 1.0 / (d1 * d1);
        w2 = 1.0 / (d2 * d2);
        assert_int_equal(parus_store_weather_parcel(s, "A", "2024-05-01", "2024-05-02", &ser, &err),
                         PARUS_OK);
        assert_true(ser.covered);
        assert_close(ser.days[0].value[PARUS_WEATHER_PRECIP_MM], (w2 * 3.5) / (w1 + w2), 1e-4, 0);
        assert_close(ser.days[0].value[PARUS_WEATHER_TMAX_C], (w1 * 22 + w2 * 21) / (w1 + w2), 1e-4,
                     0);
        /* S2 has no tmin that day: S1 alone holds over half of A's weight */
        assert_close(ser.days[0].value[PARUS_WEATHER_TMIN_C], 10.5, 1e-4, 0);
        /* 2 May: S2 has no record at all; S1's values */
        assert_close(ser.days[1].value[PARUS_WEATHER_PRECIP_MM], 1.2, 1e-4, 0);
        parus_weather_series_release(&ser);
        assert_int_equal(parus_store_weather_parcel(s, "B", "2024-05-01", "2024-05-02", &ser, &err),
                         PARUS_OK);
        assert_false(ser.covered);
        parus_weather_series_release(&ser);
        parus_store_close(s);
        assert_int_equal(count("st.db", "SELECT count(*) FROM weather_grids WHERE stations LIKE "
                                        "'S1 116.100000 39.900000%'"),
                         1);
        assert_int_equal(count("st.db", "SELECT count(*) FROM weather_cells WHERE cell = 1 AND "
                                        "abs(x - 116.5) < 1e-9 AND abs(y - 40.1) < 1e-9"),
                         1);
    }
    assert_int_equal(parus_weather_read(b, NULL, &d, &err), PARUS_E_BANDS);
    assert_msg_has(&err, "'precip_in'");
    assert_int_equal(parus_weather_read(c, NULL, &d, &err), PARUS_E_RANGE);
    assert_msg_has(&err, "kelvin");
    free(a);
    free(b);
    free(c);
}

/* ---- CF point time series ---- */

/* The real ERA5 city sample (data-samples/weather/PROVENANCE.md): five stations along
 * `location`, values by hand from `ncdump -p 9,17 -v pr` (kg m-2 s-1 x 86400 = mm a day). */
static void test_points__real_era5_cities(void **state)
{
    static const double total_1990_mm[5] = {1729.790, 1339.882, 608.084, 401.168, 1246.762};
    char *path = parus_test_path(parus_test_source_dir(),
                                 "data-samples/weather/era5-daily-cancities-1990-1993.nc");
    parus_weather_data d;
    parus_error err;
    char day[11];
    size_t t, k;
    (void)state;
    assert_int_equal(parus_weather_read(path, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "netCDF");
    assert_int_equal(d.width, 5);
    assert_int_equal(d.height, 1);
    assert_int_equal(d.n_days, 1461);
    parus_weather_day_text(d.first_day, day);
    assert_string_equal(day, "1990-01-01");
    assert_int_equal(d.n_gap_days, 0);
    assert_non_null(d.stations);
    assert_non_null(strstr(d.stations, "Halifax -63.400002 44.500000\n"));
    assert_non_null(strstr(d.stations, "Victoria -123.150002 48.500000\n"));
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 0), 3.46888002e-4 * 86400, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 180, 4), 2.0613661e-05 * 86400, 1e-5, 0);
    for (k = 0; k < 5; k++) {
        double sum = 0;
        for (t = 0; t < 365; t++)
            sum += (double)cell(&d, PARUS_WEATHER_PRECIP_MM, t, k);
        assert_close(sum, total_1990_mm[k], 0.01, 0);
    }
    for (t = 0; t < d.n_days; t++)
        for (k = 0; k < 5; k++)
            assert_true(cell(&d, PARUS_WEATHER_TMIN_C, t, k) <=
                        cell(&d, PARUS_WEATHER_TMAX_C, t, k));
    /* kelvin converted: Iqaluit's mean over four years is well below freezing, Victoria's not */
    {
        double iq = 0, vi = 0;
        for (t = 0; t < d.n_days; t++) {
            iq += (double)cell(&d, PARUS_WEATHER_TMEAN_C, t, 2);
            vi += (double)cell(&d, PARUS_WEATHER_TMEAN_C, t, 4);
        }
        assert_in_range((long)(iq / 1461.0), -15, -5);
        assert_in_range((long)(vi / 1461.0), 5, 15);
    }
    parus_weather_data_release(&d);
    free(path);
}

/* A point series stored [time][station], numeric station ids, a missing value (NaN, never
 * zero); and the same with a calendar parus does not read. */
static void test_points__time_first_and_calendar(void **state)
{
    static const char cdl[] =
        "netcdf %s {\ndimensions:\n time = 3 ; station = 2 ;\nvariables:\n"
        " double time(time) ;\n  time:units = \"days since 2024-06-01\" ;\n"
        "  time:calendar = \"%s\" ;\n"
        " int station(station) ;\n"
        " double lon(station) ;\n  lon:standard_name = \"longitude\" ;\n"
        " double lat(station) ;\n  lat:standard_name = \"latitude\" ;\n"
        " float precip(time, station) ;\n  precip:units = \"mm\" ;\n"
        "  precip:_FillValue = -9999.f ;\n"
        " float psl(time, station) ;\n float ps(time, station) ;\n"
        "data:\n time = 0, 1, 2 ;\n station = 57494, 58321 ;\n lon = 114.1, 117.3 ;\n"
        " lat = 30.6, 31.9 ;\n precip = 1.5, 0, -9999, 12.25, 0.5, 3 ;\n"
        " psl = 1, 2, 3, 4, 5, 6 ;\n ps = 1, 2, 3, 4, 5, 6 ;\n}\n";
    char text[2048], *nc;
    parus_weather_data d;
    parus_error err;
    (void)state;
    snprintf(text, sizeof text, cdl, "pts", "gregorian");
    nc = make_nc("pts", text);
    if (!nc)
        return;
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_OK);
    assert_int_equal(d.width, 2);
    assert_int_equal(d.n_days, 3);
    assert_string_equal(d.stations, "57494 114.100000 30.600000\n58321 117.300000 31.900000\n");
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 0), 1.5, 1e-6, 0);
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 0, 1), 0, 1e-6, 0);
    assert_true(isnan(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 0)));
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 1, 1), 12.25, 1e-6, 0);
    assert_close(cell(&d, PARUS_WEATHER_PRECIP_MM, 2, 1), 3, 1e-6, 0);
    assert_string_equal(d.ignored, "psl, ps"); /* each named, "ps" too though "psl" holds it */
    parus_weather_data_release(&d);
    free(nc);

    snprintf(text, sizeof text, cdl, "pts_noleap", "noleap");
    nc = make_nc("pts_noleap", text);
    assert_int_equal(parus_weather_read(nc, NULL, &d, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "calendar 'noleap'");
    assert_msg_has(&err, "pts_noleap.nc");
    free(nc);
}

/* ---- the real ERA5 file ---- */

static void test_era5__hourly_kelvin_to_daily(void **state)
{
    const char *data = parus_test_data_dir("era5-uk/era5-2mt-2019-03-uk.grib");
    char path[4096], day[11];
    parus_weather_data d;
    parus_error err;
    GDALDatasetH ds;
    const size_t row = 26, col = 40, k = row * 49 + col;
    double sum = 0, mn = INFINITY, mx = -INFINITY, month = 0;
    int b;
    (void)state;
    if (!data) {
        skip();
        return;
    }
    snprintf(path, sizeof path, "%s/era5-uk/era5-2mt-2019-03-uk.grib", data);
    assert_int_equal(parus_weather_read(path, NULL, &d, &err), PARUS_OK);
    assert_string_equal(d.format, "GRIB");
    assert_int_equal(d.width, 49);
    assert_int_equal(d.height, 33);
    assert_int_equal(d.n_days, 31);
    parus_weather_day_text(d.first_day, day);
    assert_string_equal(day, "2019-03-01");
    assert_int_equal(d.n_sources, 1);
    assert_string_equal(d.sources[0].name, "2T");
    assert_true(d.sources[0].hourly);
    assert_int_equal(d.sources[0].n_steps, 744);
    assert_string_equal(d.sources[0].unit, "[K]"); /* the file's own unit, not GDAL's [C] */
    assert_int_equal(d.n_gap_days, 0);
    assert_int_equal(d.n_partial_days, 0);

    /* by hand, from the raw bands: GDAL's default reading (labelled [C], the values kelvin) */
    ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterCount(ds), 744);
    for (b = 1; b <= 744; b++) {
        double v;
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        if (b == 1)
            assert_non_null(strstr(GDALGetMetadataItem(band, "GRIB_UNIT", NULL), "C"));
        assert_int_equal(
            GDALRasterIO(band, GF_Read, (int)col, (int)row, 1, 1, &v, 1, 1, GDT_Float64, 0, 0),
            CE_None);
        month += v;
        if (b <= 24) { /* 2019-03-01T00 .. T23 UTC */
            sum += v;
            mn = fmin(mn, v);
            mx = fmax(mx, v);
        }
    }
    GDALClose(ds);
    assert_close(month / 744.0, 281.75, 0.01, 0); /* PROVENANCE.md */
    assert_close(cell(&d, PARUS_WEATHER_TMEAN_C, 0, k), sum / 24.0 - 273.15, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMIN_C, 0, k), mn - 273.15, 1e-4, 0);
    assert_close(cell(&d, PARUS_WEATHER_TMAX_C, 0, k), mx - 273.15, 1e-4, 0);
    {
        double m = 0;
        size_t t;
        for (t = 0; t < 31; t++)
            m += (double)cell(&d, PARUS_WEATHER_TMEAN_C, t, k);
        assert_close(m / 31.0, 281.75 - 273.15, 0.01, 0);
    }
    parus_weather_data_release(&d);

    /* trusting GDAL's [C] label would be 273.15 off: stating Celsius is refused on the values */
    {
        const char *units[] = {"2T=C"};
        parus_weather_options opt = {units, 1, NULL, 0};
        assert_int_equal(parus_weather_read(path, &opt, &d, &err), PARUS_E_RANGE);
        assert_msg_has(&err, "kelvin labelled as Celsius");
        assert_msg_has(&err, "--unit 2T=K");
    }
}

/* ---- the store ---- */

static char *xstrdup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    assert_non_null(p);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

/* Register rectangles (lon/lat) as parcels A, B, ... */
static void load_parcels(parus_store *s, const double (*box)[4], size_t n)
{
    parus_parcel_set set;
    parus_error err;
    size_t i;
    memset(&set, 0, sizeof set);
    set.parcels = calloc(n, sizeof *set.parcels);
    assert_non_null(set.parcels);
    set.n_parcels = n;
    for (i = 0; i < n; i++) {
        parus_parcel *p = &set.parcels[i];
        char id[8];
        snprintf(id, sizeof id, "%c", (char)('A' + i));
        p->id = xstrdup(id);
        p->lon_min_deg = box[i][0];
        p->lat_min_deg = box[i][1];
        p->lon_max_deg = box[i][2];
        p->lat_max_deg = box[i][3];
        p->area_m2 = 1e4;
        p->declared_area_m2 = NAN;
        p->wkb = parus_test_rect_wkb(box[i][0], box[i][1], box[i][2], box[i][3], &p->wkb_size);
    }
    assert_int_equal(parus_store_put_parcels(s, &set, "test", NULL, &err), PARUS_OK);
    parus_parcel_set_release(&set);
}

static parus_store *open_store(const char *name, bool fresh)
{
    char *path = fresh ? parus_test_store(dir_, name) : parus_test_store_at(dir_, name);
    parus_store *s = NULL;
    parus_error err;
    if (fresh && !parus_test_on_pg())
        remove(path);
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_OK);
    free(path);
    return s;
}

static long long count(const char *db_name, const char *sql)
{
    char *path = parus_test_store_at(dir_, db_name), *out = parus_test_sql(path, sql);
    long long n = atoll(out);
    free(out);
    free(path);
    return n;
}

struct spans {
    size_t n;
    parus_weather_span last;
};

static int keep_span(const parus_weather_span *sp, void *ctx)
{
    struct spans *s = ctx;
    s->n++;
    s->last = *sp;
    return 0;
}

static void test_import__idempotent_overlap_and_nothing_half(void **state)
{
    const char *d12[] = {"2024-07-01", "2024-07-02"};
    const char *d23[] = {"2024-07-02", "2024-07-03"};
    const float v12[] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float same23[] = {5, 6, 7, 8, 9, 9, 9, 9};
    const float diff23[] = {5, 6, 7.5, 8, 9, 9, 9, 9}; /* cell 2 of July 2nd differs */
    char *a = make_tif("a.tif", "precip", "mm", d12, v12, 2);
    char *b = make_tif("b.tif", "precip", "mm", d23, same23, 2);
    char *c = make_tif("c.tif", "precip", "mm", d23, diff23, 2);
    parus_store *s = open_store("imp.db", true);
    parus_weather_import_stats st;
    parus_error err;
    (void)state;

    assert_int_equal(parus_weather_import(s, a, NULL, &st, &err), PARUS_OK);
    assert_false(st.already);
    assert_int_equal(st.n_values, 8);
    assert_string_equal(st.first_day, "2024-07-01");
    assert_string_equal(st.last_day, "2024-07-02");
    /* the same content again: nothing stored, said so */
    assert_int_equal(parus_weather_import(s, a, NULL, &st, &err), PARUS_OK);
    assert_true(st.already);
    /* a contradicting overlap: refused naming both files and the cell and day; nothing of it
       stored, although cells 0 and 1 of July 2nd (and its file record) were written before the
       difference was found */
    assert_int_equal(parus_weather_import(s, c, NULL, &st, &err), PARUS_E_DUPLICATE);
    assert_msg_has(&err, "c.tif' contradicts '");
    assert_msg_has(&err, "a.tif'");
    assert_msg_has(&err, "cell 2 (row 1, column 0) on 2024-07-02 is 7.500 here and 7.000 there");
    parus_store_close(s);
    assert_int_equal(count("imp.db", "SELECT count(*) FROM weather_values"), 8);
    assert_int_equal(count("imp.db", "SELECT count(*) FROM weather_files"), 1);
    /* an overlap that agrees: its new day stored, the shared day counted as the same */
    s = open_store("imp.db", false);
    assert_int_equal(parus_weather_import(s, b, NULL, &st, &err), PARUS_OK);
    assert_int_equal(st.n_values, 4);
    assert_int_equal(st.n_same, 4);
    parus_store_close(s);
    assert_int_equal(count("imp.db", "SELECT count(*) FROM weather_values"), 12);
    assert_int_equal(count("imp.db", "SELECT count(*) FROM weather_grids"), 1);
    free(a);
    {
        /* a file after a hole: the days no file covers are reported */
        const char *d67[] = {"2024-07-06", "2024-07-07"};
        char *e = make_tif("e.tif", "precip", "mm", d67, v12, 2);
        struct spans got = {0};
        s = open_store("imp.db", false);
        assert_int_equal(parus_weather_import(s, e, NULL, &st, &err), PARUS_OK);
        assert_int_equal(parus_store_weather_spans(s, keep_span, &got, &err), PARUS_OK);
        assert_int_equal(got.n, 1);
        assert_int_equal(got.last.n_files, 3);
        assert_string_equal(got.last.first_day, "2024-07-01");
        assert_string_equal(got.last.last_day, "2024-07-07");
        assert_int_equal(got.last.n_uncovered_days, 2);
        assert_string_equal(got.last.first_uncovered, "2024-07-04");
        parus_store_close(s);
        free(e);
    }
    free(b);
    free(c);
}

/* A day's minimum above its maximum is refused, within a file (a station record) and between
 * files (a tmin stack labelled tmax): heat and frost would be counted on the wrong one. So is a
 * daily mean above the maximum. Nothing of the refused file is stored; a file that agrees is. */
static void test_import__minimum_above_maximum_refused(void **state)
{
    const char *days[] = {"2024-07-01", "2024-07-02"};
    const float tmin[] = {20, 21, 22, 23, 18, 19, 20, 21};
    const float tmax_ok[] = {30, 31, 32, 33, 28, 29, 30, 31};
    const float tmax_bad[] = {30, 31, 32, 33, 28, 29, 19.5f, 31}; /* cell 2 of July 2nd */
    static const char csv[] = "station_id,lon,lat,date,tmin_c,tmax_c\n"
                              "S1,100.5,31.5,2024-07-01,12,24\n"
                              "S1,100.5,31.5,2024-07-02,25.5,14\n";
    char *a = make_tif("mm-tmin.tif", "tmin", "degC", days, tmin, 2);
    char *b = make_tif("mm-tmax-bad.tif", "tmax", "degC", days, tmax_bad, 2);
    char *c = make_tif("mm-tmax.tif", "tmax", "degC", days, tmax_ok, 2);
    const float tmean_ok[] = {25, 26, 27, 28, 23, 24, 25, 26};
    const float tmean_bad[] = {25, 31.5f, 27, 28, 23, 24, 25, 26}; /* cell 1 of July 1st */
    char *d_ok = make_tif("mm-tmean.tif", "tmean", "degC", days, tmean_ok, 2);
    char *d_bad = make_tif("mm-tmean-bad.tif", "tmean", "degC", days, tmean_bad, 2);
    char *st_path = parus_test_path(dir_, "mm-stations.csv");
    parus_store *s = open_store("minmax.db", true);
    parus_weather_import_stats st;
    parus_error err;
    (void)state;

    assert_int_equal(parus_test_write_file(st_path, csv, strlen(csv)), 0);
    assert_int_equal(parus_weather_import(s, a, NULL, &st, &err), PARUS_OK);
    assert_int_equal(parus_weather_import(s, b, NULL, &st, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "mm-tmax-bad.tif': tmin_c of cell 2 (row 1, column 0) on 2024-07-02 is "
                         "20.000, above its tmax_c 19.500 from '");
    assert_msg_has(&err, "mm-tmin.tif', imported before: the two exchanged?");
    assert_int_equal(parus_weather_import(s, st_path, NULL, &st, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "on 2024-07-02 is 25.500, above its tmax_c 14.000: the two exchanged?");
    assert_msg_has(&err, "nothing of '");
    parus_store_close(s);
    assert_int_equal(count("minmax.db", "SELECT count(*) FROM weather_values"), 8);
    assert_int_equal(count("minmax.db", "SELECT count(*) FROM weather_files"), 1);
    s = open_store("minmax.db", false);
    assert_int_equal(parus_weather_import(s, c, NULL, &st, &err), PARUS_OK);
    assert_int_equal(st.n_values, 8);
    /* a daily mean lies between them: one above the maximum is refused, one between is not */
    assert_int_equal(parus_weather_import(s, d_bad, NULL, &st, &err), PARUS_E_FORMAT);
    assert_msg_has(&err, "mm-tmean-bad.tif': tmean_c of cell 1 (row 0, column 1) on 2024-07-01 is "
                         "31.500, above its tmax_c 31.000 from '");
    assert_int_equal(parus_weather_import(s, d_ok, NULL, &st, &err), PARUS_OK);
    parus_store_close(s);
    free(a);
    free(b);
    free(c);
    free(d_ok);
    free(d_bad);
    free(st_path);
}

/* A year's weather given another year's dates (last year's file re-dated, a climatology given
 * as a season) read as that season's: on a synthetic season 2023's weather as 2024's took the
 * droughts and frosts away, +53,900 CNY (round 7, finding 3). Refused, a year or more before or
 * after the year it copies, with an offset added (round 8); a real other year is stored. */
static void test_import__a_year_given_another_years_dates_refused(void **state)
{
    enum { N = 12 };
    const char *y23[N], *y24[N], *y21[N];
    char d23[N][11], d24[N][11], d21[N][11];
    float tmax[N * 4], shifted[N * 4], other[N * 4];
    char *a, *b, *c, *e;
    parus_store *s = open_store("years.db", true);
    parus_weather_import_stats st;
    parus_error err;
    size_t i;
    uint32_t seed = 12345u;
    (void)state;
    for (i = 0; i < N; i++) {
        snprintf(d23[i], 11, "2023-07-%02zu", i + 1);
        snprintf(d24[i], 11, "2024-07-%02zu", i + 1);
        snprintf(d21[i], 11, "2021-07-%02zu", i + 1);
        y23[i] = d23[i];
        y24[i] = d24[i];
        y21[i] = d21[i];
    }
    for (i = 0; i < N * 4; i++) {
        seed = seed * 1664525u + 1013904223u;
        tmax[i] = 28.0f + (float)(seed >> 8) / (float)(1u << 24) * 6.0f;
        shifted[i] = tmax[i] + 0.01f;
        seed = seed * 1664525u + 1013904223u;
        other[i] = 28.0f + (float)(seed >> 8) / (float)(1u << 24) * 6.0f;
    }
    a = make_tif("yr-2023.tif", "tmax", "degC", y23, tmax, N);
    b = make_tif("yr-2024-copy.tif", "tmax", "degC", y24, shifted, N);
    c = make_tif("yr-2021-copy.tif", "tmax", "degC", y21, tmax, N);
    e = make_tif("yr-2024.tif", "tmax", "degC", y24, other, N);
    assert_int_equal(parus_weather_import(s, a, NULL, &st, &err), PARUS_OK);
    /* a year on, a hundredth of a degree added */
    assert_int_equal(parus_weather_import(s, b, NULL, &st, &err), PARUS_E_DUPLICATE);
    assert_msg_has(&err, "yr-2024-copy.tif' holds the weather of 1 year before it: its "
                         "day-to-day changes follow the store's");
    assert_msg_has(&err, "yr-2023.tif'");
    /* two years before */
    assert_int_equal(parus_weather_import(s, c, NULL, &st, &err), PARUS_E_DUPLICATE);
    assert_msg_has(&err, "holds the weather of 2 years after it");
    /* real other years */
    assert_int_equal(parus_weather_import(s, e, NULL, &st, &err), PARUS_OK);
    assert_int_equal(st.n_values, N * 4);
    parus_store_close(s);
    assert_int_equal(count("years.db", "SELECT count(*) FROM weather_files"), 2);
    free(a);
    free(b);
    free(c);
    free(e);
}

static void test_weights__by_hand_on_a_2x2_grid(void **state)
{
    /* cells of 1 degree: (row 0, col 0) is lon 100..101, lat 31..32 */
    const char *dates[] = {"2024-07-01", "2024-07-02", "2024-07-04"};
    const float v[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, -9999};
    const double box[3][4] = {
        {100.5, 30.75, 101.75, 31.5}, /* A: 0.5 x 0.5, 0.75 x 0.5, 0.5 x 0.25, 0.75 x 0.25 */
        {120.0, 10.0, 120.5, 10.5},   /* B: far away */
        {101.75, 31.0, 102.75, 31.5}, /* C: a quarter inside the grid */
    };
    /* A's shares of its 0.9375 square degrees */
    const double w[4] = {0.25 / 0.9375, 0.375 / 0.9375, 0.125 / 0.9375, 0.1875 / 0.9375};
    char *tif = make_tif("w.tif", "precip", "mm", dates, v, 3);
    parus_store *s = open_store("w.db", true);
    parus_weather_weight_stats ws;
    parus_weather_series ser;
    parus_error err;
    double want;
    int k;
    (void)state;

    load_parcels(s, box, 3);
    assert_int_equal(parus_weather_import(s, tif, NULL, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_weights_update(s, &ws, &err), PARUS_OK);
    assert_int_equal(ws.n_grids, 1);
    assert_int_equal(ws.n_computed, 3);
    assert_int_equal(ws.n_uncovered, 2);
    assert_string_equal(ws.uncovered[0], "B");
    assert_string_equal(ws.uncovered[1], "C");
    parus_store_close(s);
    for (k = 0; k < 4; k++) {
        char sql[160], *out, *path = parus_test_store_at(dir_, "w.db");
        snprintf(sql, sizeof sql,
                 "SELECT weight FROM weather_weights w JOIN parcels p ON p.num = w.parcel_num "
                 "WHERE p.id = 'A' AND cell = %d",
                 k);
        out = parus_test_sql(path, sql);
        assert_true(out[0] != '\0');
        assert_close(strtod(out, NULL), w[k], 1e-9, 0);
        free(out);
        free(path);
    }
    /* C and B hold no weights: no values, never zeros */
    assert_int_equal(count("w.db", "SELECT count(*) FROM weather_weights"), 4);
    /* the grid's cells, their centres in its CRS */
    assert_int_equal(count("w.db", "SELECT count(*) FROM weather_cells"), 4);
    assert_int_equal(count("w.db", "SELECT count(*) FROM weather_cells WHERE cell = 3 AND row = 1 "
                                   "AND col = 1 AND x = 101.5 AND y = 30.5"),
                     1);
    s = open_store("w.db", false);

    assert_int_equal(parus_store_weather_parcel(s, "A", "2024-06-30", "2024-07-05", &ser, &err),
                     PARUS_OK);
    assert_true(ser.covered);
    assert_int_equal(ser.n_days, 6);
    assert_true(isnan(ser.days[0].value[PARUS_WEATHER_PRECIP_MM])); /* before the file */
    want = w[0] * 1 + w[1] * 2 + w[2] * 3 + w[3] * 4;
    assert_close(ser.days[1].value[PARUS_WEATHER_PRECIP_MM], want, 1e-9, 0);
    assert_close(ser.days[1].value[PARUS_WEATHER_PRECIP_MM], 2.125 / 0.9375, 1e-9, 0);
    assert_close(ser.days[2].value[PARUS_WEATHER_PRECIP_MM], 5.875 / 0.9375, 1e-9, 0);
    assert_true(isnan(ser.days[3].value[PARUS_WEATHER_PRECIP_MM])); /* the gap: missing */
    /* July 4th: cell 3 has no value; cells 0..2 hold 0.8 of A, enough */
    want = (w[0] * 10 + w[1] * 20 + w[2] * 30) / (w[0] + w[1] + w[2]);
    assert_close(ser.days[4].value[PARUS_WEATHER_PRECIP_MM], want, 1e-9, 0);
    assert_true(isnan(ser.days[1].value[PARUS_WEATHER_TMEAN_C]));
    parus_weather_series_release(&ser);

    assert_int_equal(parus_store_weather_parcel(s, "B", "2024-07-01", "2024-07-02", &ser, &err),
                     PARUS_OK);
    assert_false(ser.covered);
    assert_true(isnan(ser.days[0].value[PARUS_WEATHER_PRECIP_MM]));
    parus_weather_series_release(&ser);
    assert_int_equal(parus_store_weather_parcel(s, "Z", "2024-07-01", "2024-07-02", &ser, &err),
                     PARUS_E_NOT_FOUND);

    /* the reader gives the same series from memory; a parcel without weights, or unknown, is
     * uncovered */
    {
        parus_weather_reader *r;
        const char *ids[3] = {"A", "B", "Z"};
        parus_weather_series a, b;
        size_t i, t;
        int var;
        assert_int_equal(parus_weather_reader_open(s, "2024-06-01", "2024-07-31", &r, &err),
                         PARUS_OK);
        for (i = 0; i < 3; i++) {
            bool known = i < 2;
            assert_int_equal(
                parus_weather_reader_parcel(r, ids[i], "2024-06-30", "2024-07-05", &a, &err),
                PARUS_OK);
            assert_int_equal(a.n_days, 6);
            if (known) {
                assert_int_equal(
                    parus_store_weather_parcel(s, ids[i], "2024-06-30", "2024-07-05", &b, &err),
                    PARUS_OK);
                assert_int_equal(a.covered, b.covered);
                for (t = 0; t < 6; t++)
                    for (var = 0; var < PARUS_WEATHER_N_VARS_; var++) {
                        double x = a.days[t].value[var], y = b.days[t].value[var];
                        assert_int_equal(isnan(x), isnan(y));
                        if (!isnan(y))
                            assert_close(x, y, 1e-9, 1e-12);
                    }
                parus_weather_series_release(&b);
            } else {
                assert_false(a.covered);
            }
            parus_weather_series_release(&a);
        }
        assert_int_equal(parus_weather_reader_parcel(r, "A", "2024-05-30", "2024-07-05", &a, &err),
                         PARUS_E_INVALID);
        parus_weather_reader_free(r);
        assert_int_equal(parus_weather_reader_open(s, "2024-07-05", "2024-07-01", &r, &err),
                         PARUS_E_INVALID);
    }

    /* weights are computed once per (parcel, grid) */
    assert_int_equal(parus_weather_weights_update(s, &ws, &err), PARUS_OK);
    assert_int_equal(ws.n_computed, 0);
    assert_int_equal(ws.n_kept, 3);
    assert_int_equal(ws.n_uncovered, 2);
    parus_store_close(s);
    free(tif);
}

/* Two grids over parcel A: a day comes from the first grid (lower id) whose cells with a value
 * hold at least half of A, else from the next. */
static void test_weights__first_grid_with_enough_of_the_parcel(void **state)
{
    const char *d12[] = {"2024-07-01", "2024-07-02"},
               *d123[] = {"2024-07-01", "2024-07-02", "2024-07-03"};
    /* July 2nd: only cell 3 (0.2 of A) has a value on the fine grid */
    const float fine[] = {1, 2, 3, 4, -9999, -9999, -9999, 8};
    const float coarse[] = {50, 60, 70};
    const double box[1][4] = {{100.5, 30.75, 101.75, 31.5}};
    char *a = make_tif_grid("g1.tif", 2, 1.0, "precip", "mm", d12, fine, 2);
    char *b = make_tif_grid("g2.tif", 1, 2.0, "precip", "mm", d123, coarse, 3);
    parus_store *s = open_store("g12.db", true);
    parus_weather_series ser;
    parus_error err;
    (void)state;
    load_parcels(s, box, 1);
    assert_int_equal(parus_weather_import(s, a, NULL, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_import(s, b, NULL, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_weights_update(s, NULL, &err), PARUS_OK);
    assert_int_equal(parus_store_weather_parcel(s, "A", "2024-06-30", "2024-07-04", &ser, &err),
                     PARUS_OK);
    assert_true(isnan(ser.days[0].value[PARUS_WEATHER_PRECIP_MM]));
    assert_close(ser.days[1].value[PARUS_WEATHER_PRECIP_MM], 2.125 / 0.9375, 1e-9, 0);
    assert_close(ser.days[2].value[PARUS_WEATHER_PRECIP_MM], 60.0, 1e-9, 0);
    assert_close(ser.days[3].value[PARUS_WEATHER_PRECIP_MM], 70.0, 1e-9, 0);
    assert_true(isnan(ser.days[4].value[PARUS_WEATHER_PRECIP_MM]));
    parus_weather_series_release(&ser);
    /* a span inside one grid's days only */
    assert_int_equal(parus_store_weather_parcel(s, "A", "2024-07-03", "2024-07-03", &ser, &err),
                     PARUS_OK);
    assert_int_equal(ser.n_days, 1);
    assert_close(ser.days[0].value[PARUS_WEATHER_PRECIP_MM], 70.0, 1e-9, 0);
    parus_weather_series_release(&ser);
    parus_store_close(s);
    free(a);
    free(b);
}

/* A grid that covers the parcel is the better source than a station record some way off,
 * whichever was imported first (before, the first imported won: a station 45 km away, 6 degrees
 * cooler, took 33 heat-stress flags off a season). The station fills what no grid gives. Both
 * ways of reading a parcel's weather take the same order. */
static void test_weights__a_grid_before_a_station_whatever_came_first(void **state)
{
    const char *d12[] = {"2024-07-01", "2024-07-02"};
    const float grid[] = {5, 5, 5, 5, 6, 6, 6, 6};
    static const char csv[] = "station_id,lon,lat,date,precip_mm\n"
                              "S9,100.95,30.95,2024-07-01,50\n"
                              "S9,100.95,30.95,2024-07-02,60\n"
                              "S9,100.95,30.95,2024-07-03,70\n";
    const double box[1][4] = {{100.6, 30.6, 100.9, 30.9}};
    char *g = make_tif_grid("prio-grid.tif", 2, 1.0, "precip", "mm", d12, grid, 2);
    char *st_path = parus_test_path(dir_, "prio-stations.csv");
    parus_store *s = open_store("prio.db", true);
    parus_weather_reader *r = NULL;
    parus_weather_series ser;
    parus_error err;
    int way;
    (void)state;
    assert_int_equal(parus_test_write_file(st_path, csv, strlen(csv)), 0);
    load_parcels(s, box, 1);
    assert_int_equal(parus_weather_import(s, st_path, NULL, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_import(s, g, NULL, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_weights_update(s, NULL, &err), PARUS_OK);
    assert_int_equal(parus_weather_reader_open(s, "2024-06-01", "2024-07-31", &r, &err), PARUS_OK);
    for (way = 0; way < 2; way++) {
        if (way == 0)
            assert_int_equal(
                parus_store_weather_parcel(s, "A", "2024-07-01", "2024-07-03", &ser, &err),
                PARUS_OK);
        else
            assert_int_equal(
                parus_weather_reader_parcel(r, "A", "2024-07-01", "2024-07-03", &ser, &err),
                PARUS_OK);
        assert_close(ser.days[0].value[PARUS_WEATHER_PRECIP_MM], 5.0, 1e-9, 0);
        assert_close(ser.days[1].value[PARUS_WEATHER_PRECIP_MM], 6.0, 1e-9, 0);
        assert_close(ser.days[2].value[PARUS_WEATHER_PRECIP_MM], 70.0, 1e-9, 0);
        parus_weather_series_release(&ser);
    }
    parus_weather_reader_free(r);
    parus_store_close(s);
    free(st_path);
    free(g);
}

static void test_cli__import_refuses_one_file_and_goes_on(void **state)
{
    const char *dates[] = {"2024-08-01"};
    const float v[] = {1, 2, 3, 4};
    char *good = make_tif("cli_good.tif", "precip", "mm", dates, v, 1);
    char *bad = make_tif("cli_nounit.tif", "precip", NULL, dates, v, 1);
    char *db = parus_test_store(dir_, "cli.db");
    char *out;
    (void)state;

    if (!parus_test_on_pg())
        remove(db);
    out = parus_test_run_expect(8, "'%s' --db '%s' weather import '%s' '%s'", parus_test_bin(), db,
                                bad, good);
    assert_non_null(strstr(out, "refused: '"));
    assert_non_null(strstr(out, "cli_nounit.tif': variable 'precip' has no unit"));
    assert_non_null(strstr(out, "stored=1 known=0 refused=1"));
    free(out);
    out =
        parus_test_run_expect(9, "'%s' --db '%s' weather import '%s'", parus_test_bin(), db, good);
    assert_non_null(strstr(out, "already stored (same content), nothing stored"));
    free(out);
    out = parus_test_run_expect(4, "'%s' --db '%s' weather import '%s'", parus_test_bin(), db, bad);
    free(out);
    out = parus_test_run_expect(0, "'%s' --db '%s' weather import --unit precip=mm '%s'",
                                parus_test_bin(), db, bad);
    free(out);
    out = parus_test_run_expect(0, "'%s' weather info '%s'", parus_test_bin(), good);
    assert_non_null(strstr(out, "precip_mm"));
    assert_non_null(strstr(out, "2024-08-01 .. 2024-08-01"));
    free(out);
    out = parus_test_run_expect(2, "'%s' weather frobnicate", parus_test_bin());
    free(out);
    out = parus_test_run_expect(2, "'%s' weather info --variable x=rain '%s'", parus_test_bin(),
                                good);
    assert_non_null(strstr(out, "the kind is precip"));
    free(out);
    free(good);
    free(bad);
    free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netcdf__kelvin_scaled_to_celsius),
        cmocka_unit_test(test_netcdf__metres_to_mm_and_two_variables),
        cmocka_unit_test(test_netcdf__bounds_variables_ignored),
        cmocka_unit_test(test_netcdf__kelvin_labelled_celsius_refused),
        cmocka_unit_test(test_netcdf__a_year_of_rain_in_the_wrong_unit_refused),
        cmocka_unit_test(test_netcdf__no_time_axis_refused),
        cmocka_unit_test(test_netcdf__unknown_calendar_refused),
        cmocka_unit_test(test_netcdf__missing_and_unknown_units_refused),
        cmocka_unit_test(test_netcdf__hourly_to_utc_days_and_a_partial_day),
        cmocka_unit_test(test_netcdf__hourly_precipitation_refused),
        cmocka_unit_test(test_grib2__temperature_at_2m_in_kelvin),
        cmocka_unit_test(test_gtiff__stack_with_a_gap),
        cmocka_unit_test(test_gtiff__no_date_no_variable_or_monthly_refused),
        cmocka_unit_test(test_kind__weather_files_told_from_tiles),
        cmocka_unit_test(test_csv__stations),
        cmocka_unit_test(test_points__real_era5_cities),
        cmocka_unit_test(test_points__time_first_and_calendar),
        cmocka_unit_test(test_era5__hourly_kelvin_to_daily),
        cmocka_unit_test(test_import__idempotent_overlap_and_nothing_half),
        cmocka_unit_test(test_import__minimum_above_maximum_refused),
        cmocka_unit_test(test_import__a_year_given_another_years_dates_refused),
        cmocka_unit_test(test_weights__by_hand_on_a_2x2_grid),
        cmocka_unit_test(test_weights__first_grid_with_enough_of_the_parcel),
        cmocka_unit_test(test_weights__a_grid_before_a_station_whatever_came_first),
        cmocka_unit_test(test_cli__import_refuses_one_file_and_goes_on),
    };
    return cmocka_run_backend_group_tests(tests, setup, teardown);
}

/*
 * parus/weather.h - gridded daily weather in: read a NetCDF, GRIB or GeoTIFF weather file (or a
 * station CSV), store it per grid cell and day, weigh each parcel over the cells it covers, and
 * read a parcel's daily weather back.
 *
 * Every value parus keeps is daily, in one unit per variable (the unit is in the name):
 * precipitation in mm/day, minimum, maximum and mean 2 m temperature in degrees Celsius,
 * shortwave radiation in MJ m-2 day-1, reference evapotranspiration in mm/day. Days are UTC
 * days: hourly 2 m temperature becomes each UTC day's minimum, maximum and mean of its 24 hours
 * (a day with fewer hours is left missing and counted, never aggregated from part of a day).
 *
 * Units come from the file's metadata and are checked against the values: a temperature
 * labelled Celsius whose median is above 150 is kelvin mislabelled, and the file is refused
 * with a message that says so (never silently corrected). Where a label is missing, unknown or
 * wrong the user states the unit (parus_weather_options.units, `--unit NAME=UNIT`); the value
 * check applies to a stated unit too. docs/formats.md ("Weather") has the conventions of each
 * format, docs/method.md the weights.
 *
 * A missing value is NaN, never zero: a day nobody measured is not a day without rain.
 */
#ifndef PARUS_WEATHER_H
#define PARUS_WEATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The daily variables parus keeps. Append only: the names are stored. */
typedef enum parus_weather_var {
    PARUS_WEATHER_PRECIP_MM, /* "precip_mm": precipitation, mm/day */
    PARUS_WEATHER_TMIN_C,    /* "tmin_c": daily minimum 2 m temperature, degrees C */
    PARUS_WEATHER_TMAX_C,    /* "tmax_c": daily maximum, degrees C */
    PARUS_WEATHER_TMEAN_C,   /* "tmean_c": daily mean, degrees C */
    PARUS_WEATHER_RAD_MJ_M2, /* "rad_mj_m2": shortwave radiation, MJ m-2 day-1 */
    PARUS_WEATHER_ET0_MM,    /* "et0_mm": reference evapotranspiration, mm/day */
    PARUS_WEATHER_N_VARS_
} parus_weather_var;

/* "precip_mm", "tmin_c", ...; NULL for a value out of range. */
PARUS_API const char *parus_weather_var_name(parus_weather_var var);

/* "YYYY-MM-DD" of a day count since 1970-01-01 (UTC). */
PARUS_API void parus_weather_day_text(int64_t day, char out[11]);

/* What the user states about a file, "NAME=VALUE" each, NAME being the file's variable name
 * (the netCDF variable, the GRIB element such as "2T", the GeoTIFF's VARIABLE):
 * units: the unit of that variable ("K", "degC", "m", "mm", "kg m-2 s-1", "J m-2", ...), used
 *   instead of the file's label; the value check still applies.
 * variables: what the variable is, when parus does not know its name: "precip", "tmin", "tmax",
 *   "tmean" (daily mean), "temp" (2 m temperature, hourly or daily), "rad", "et0". */
typedef struct parus_weather_options {
    const char *const *units;
    size_t n_units;
    const char *const *variables;
    size_t n_variables;
} parus_weather_options;

/* One variable of a file as parus read it. */
typedef struct parus_weather_source {
    char name[64];     /* the file's name for it */
    char label[64];    /* the unit the file gives ("" none) */
    char unit[64];     /* the unit used: the label or the stated one */
    bool unit_stated;  /* unit came from the options */
    bool hourly;       /* several time steps a day, aggregated to days */
    size_t n_steps;    /* time steps (bands) read */
    double median_raw; /* median of the raw values, in unit (the check's evidence) */
} parus_weather_source;

#define PARUS_WEATHER_MAX_SOURCES 8

/* A file's daily values on its grid. Cell k is row k / width, column k % width of the grid the
 * geotransform describes (GDAL's convention, north up). */
typedef struct parus_weather_data {
    char format[16]; /* "netCDF", "GRIB", "GTiff", "CSV" */
    char hash[65];   /* content fingerprint of the file (parus_tile_content_hash's) */
    char *crs_wkt;
    double geotransform[6]; /* all zero for stations */
    char *stations; /* station records: "ID LON LAT" per line, cell k on line k; NULL for a grid */
    size_t width, height;
    int64_t first_day; /* days since 1970-01-01 (UTC) */
    size_t n_days;     /* first_day .. first_day + n_days - 1 */
    /* values[v]: n_days * width * height, day-major; NULL when the file lacks variable v */
    float *values[PARUS_WEATHER_N_VARS_];
    size_t n_gap_days;     /* days inside the span with no value at all for a present variable */
    int64_t first_gap_day; /* the first of them (valid when n_gap_days > 0) */
    size_t n_partial_days; /* hourly: days with fewer than 24 hours (left missing, in the gaps) */
    parus_weather_source sources[PARUS_WEATHER_MAX_SOURCES];
    size_t n_sources;
    char ignored[256]; /* names of the file's variables parus does not read, ", "-joined */
} parus_weather_data;

/* Read a weather file whole. The format comes from the file (netCDF, GRIB 1/2, GeoTIFF), a
 * ".csv" name reads station records (docs/formats.md). On success *out owns everything
 * (parus_weather_data_release). Errors naming the file and the variable: E_IO (cannot open),
 * E_FORMAT (not a weather file parus knows, no variable it can read, a calendar other than
 * standard/gregorian/proleptic_gregorian, a time unit it cannot read, two variables on different
 * grids or days), E_NO_DATE (no time axis, a band without a date), E_BANDS (a unit missing or
 * unknown: the message names the option to state it), E_RANGE (values that contradict the unit:
 * kelvin labelled Celsius, or implausible after conversion), E_NO_CRS, E_NOMEM. opt may be NULL.
 * Thread-safe on different files. */
PARUS_API parus_status parus_weather_read(const char *path, const parus_weather_options *opt,
                                          parus_weather_data *out, parus_error *err);
PARUS_API void parus_weather_data_release(parus_weather_data *data);

/* What kind of weather file a path is, judged without reading its values (a header, or the
 * first bytes), by the rules parus_weather_read reads by; the nightly job sorts its inbox with
 * it (docs/operations.md, "Weather files in the inbox"):
 * - a name ending .nc, .nc4, .netcdf, .cdf: netCDF; .grib, .grib1, .grib2, .grb, .grb1, .grb2:
 *   GRIB, whatever the content (a truncated or corrupt one is still a weather file, which
 *   parus_weather_read then refuses);
 * - .csv: a station file when its first record starts station_id,lon,lat,date (any case), else
 *   none (a manifest, a table of something else);
 * - .tif, .tiff: a weather stack when GDAL opens it and it carries VARIABLE metadata (dataset or
 *   first band), the item every weather GeoTIFF must have and no imagery profile reads; a
 *   netCDF or GRIB file so named is that; anything else (a Sentinel-2 or Landsat tile, a file
 *   GDAL cannot open) is none. Names never decide: "precip_2024.tif" without VARIABLE is none;
 * - any other name: netCDF classic (first bytes "CDF" 1, 2 or 5) or GRIB ("GRIB"), else none.
 * A file that cannot be opened is none (a .nc or .grib name still decides). Thread-safe. */
typedef enum parus_weather_file_kind {
    PARUS_WEATHER_FILE_NONE = 0,
    PARUS_WEATHER_FILE_NETCDF,
    PARUS_WEATHER_FILE_GRIB,
    PARUS_WEATHER_FILE_GTIFF,
    PARUS_WEATHER_FILE_CSV
} parus_weather_file_kind;

PARUS_API parus_weather_file_kind parus_weather_file_kind_of(const char *path);
/* "netCDF", "GRIB", "GTiff", "CSV" or "none". */
PARUS_API const char *parus_weather_file_kind_name(parus_weather_file_kind kind);

/* ---- the store ---- */

typedef struct parus_weather_import_stats {
    bool already;    /* the same content was imported before: nothing stored */
    int64_t grid_id; /* the grid its values went to */
    size_t n_values; /* cell-day-variable values stored (new ones; equal ones already held
                        from an overlapping file are not counted) */
    size_t n_same;   /* values already held, equal (an overlapping file that agrees) */
    char first_day[11], last_day[11];
    size_t n_gap_days; /* as in parus_weather_data */
    char first_gap_day[11];
} parus_weather_import_stats;

/* Import one file: fingerprint it; if that content is already stored, set stats->already and
 * store nothing; else read it (parus_weather_read) and store its grid, values and file record in
 * one transaction. A value for a cell, day and variable the store already holds from another
 * file must agree (within 1e-3 of the unit): otherwise the file is refused (E_DUPLICATE) naming
 * both files and the first differing cell and day, and nothing of it is stored. Errors: those of
 * parus_weather_read, E_DUPLICATE, the store's. stats may be NULL. */
PARUS_API parus_status parus_weather_import(parus_store *store, const char *path,
                                            const parus_weather_options *opt,
                                            parus_weather_import_stats *stats, parus_error *err);

/* What the store holds of one variable on one grid: the span of its files, the days inside it that
 * no file covers (between files: an import that is missing), and the files' own gap days. */
typedef struct parus_weather_span {
    int64_t grid_id;
    parus_weather_var var;
    char first_day[11], last_day[11];
    size_t n_files;
    size_t n_uncovered_days;  /* days between files that no file covers */
    char first_uncovered[11]; /* the first of them ("" when none) */
    size_t n_gap_days;        /* days inside the files with no value (sum over the files) */
} parus_weather_span;

/* Call fn for each (grid, variable) the store holds, by grid id then variable; *span is borrowed
 * for the call. fn returning non-zero stops the walk (E_INTERNAL). Errors: the store's, E_NOMEM. */
typedef int (*parus_weather_span_fn)(const parus_weather_span *span, void *ctx);
PARUS_API parus_status parus_store_weather_spans(parus_store *store, parus_weather_span_fn fn,
                                                 void *ctx, parus_error *err);

typedef struct parus_weather_weight_stats {
    size_t n_grids;
    size_t n_computed;     /* (parcel, grid) pairs whose weights were computed now */
    size_t n_kept;         /* pairs already stored for the parcel's current geometry */
    size_t n_uncovered;    /* parcels no grid covers (at least half of their area) */
    char uncovered[5][64]; /* the first few of them, by id */
} parus_weather_weight_stats;

/* For every stored grid and parcel without weights for its current geometry: the cells of the
 * grid the parcel covers and the exact share of the parcel's area in each (the coverage module,
 * on the parcel transformed into the grid's CRS), stored in one transaction. A parcel that a
 * grid covers for less than half of its area gets no weights on that grid (its weather would be
 * someone else's). Errors: E_PROJ (no transformation to a grid's CRS), the store's, E_NOMEM.
 * stats may be NULL. */
PARUS_API parus_status parus_weather_weights_update(parus_store *store,
                                                    parus_weather_weight_stats *stats,
                                                    parus_error *err);

typedef struct parus_weather_day {
    int64_t day;                         /* days since 1970-01-01 */
    double value[PARUS_WEATHER_N_VARS_]; /* NaN where missing */
} parus_weather_day;

typedef struct parus_weather_series {
    parus_weather_day *days; /* every day of the asked span, in order */
    size_t n_days;
    bool covered; /* some grid holds weights for the parcel; false: every value NaN */
} parus_weather_series;

/* The parcel's daily weather from first_day to last_day ("YYYY-MM-DD", inclusive): per variable
 * and day the area-weighted mean of its cells, from the first grid (lowest id) whose cells with
 * a value hold at least half of the parcel's weight that day; else NaN. E_NOT_FOUND (no such
 * parcel), E_INVALID (bad dates, a span over 3660 days), the store's. *out owns its days
 * (parus_weather_series_release). */
PARUS_API parus_status parus_store_weather_parcel(parus_store *store, const char *parcel_id,
                                                  const char *first_day, const char *last_day,
                                                  parus_weather_series *out, parus_error *err);
PARUS_API void parus_weather_series_release(parus_weather_series *series);

/* ---- many parcels: a season read once ---- */

/* The longest span a reader holds (days: a century). */
#define PARUS_WEATHER_READER_MAX_DAYS 36600

/* A span's weather for every parcel with weights, read from the store once: the values of the
 * cells some parcel weighs on (first_day .. last_day, "YYYY-MM-DD") and every parcel's weights,
 * in memory. A season's assessment reads every parcel; parus_store_weather_parcel's join per
 * parcel costs about 1,700 times reading the values once (tools/bench_weather.c). After open
 * the reader is read-only: parus_weather_reader_parcel may be called from any number of threads
 * at once. Errors: E_INVALID (bad dates, a span over PARUS_WEATHER_READER_MAX_DAYS days),
 * E_RANGE (more values than 2 GiB: read a shorter span), E_SCHEMA, the store's, E_NOMEM. */
typedef struct parus_weather_reader parus_weather_reader;
PARUS_API parus_status parus_weather_reader_open(parus_store *store, const char *first_day,
                                                 const char *last_day, parus_weather_reader **out,
                                                 parus_error *err);
/* The parcel's daily weather from first_day to last_day (inside the reader's span): the values
 * parus_store_weather_parcel gives (the same rule, the same grid order), computed in memory. A
 * parcel the reader holds no weights for (not in the store, or no grid covers it) gets covered
 * false and every value NaN. E_INVALID (dates outside the span), E_NOMEM. *out owns its days. */
PARUS_API parus_status parus_weather_reader_parcel(const parus_weather_reader *r,
                                                   const char *parcel_id, const char *first_day,
                                                   const char *last_day, parus_weather_series *out,
                                                   parus_error *err);
PARUS_API void parus_weather_reader_free(parus_weather_reader *r);

#ifdef __cplusplus
}
#endif
#endif

/*
 * weather_int.h - what weather.c (reading files, weights) and store_weather.c (the weather
 * tables) share. Not part of the public API.
 */
#ifndef PARUS_WEATHER_INT_H
#define PARUS_WEATHER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/weather.h"

/* Two values for the same cell, day and variable agree when they differ by at most this (in the
 * variable's unit: 0.001 mm, 0.001 degC): float rounding of one product written twice. */
#define PARUS__WEATHER_SAME_TOL 1e-3

/* A parcel holds weights on a grid when the grid's cells cover at least this share of it. */
#define PARUS__WEATHER_MIN_COVER 0.5

/* WGS 84 (EPSG:4326) as WKT: the CRS of station lists, and of CF grids on plain latitude and
 * longitude with no grid_mapping (weather.c). */
extern const char parus__wgs84_wkt[];

/* Station records (weather_csv.c): parus_weather_read's contract for a ".csv" file (all but the
 * hash). The stations are the cells of a one-row "grid" with no geotransform (all zero), in
 * WGS 84, listed in data->stations. */
parus_status parus__weather_read_csv(const char *path, const parus_weather_options *opt,
                                     parus_weather_data *out, parus_error *err);

/* True when path's first record is a station file's header: its first four columns are
 * station_id, lon, lat, date (weather_csv.c; parus_weather_file_kind_of). Reads one record. */
bool parus__weather_csv_is_stations(const char *path);

/* parus_weather_import, with a checkpoint called as "weather:written" inside the file's
 * transaction, before it commits (the nightly job's crash tests); checkpoint may be NULL. */
parus_status parus__weather_import(parus_store *store, const char *path,
                                   const parus_weather_options *opt, parus_checkpoint_fn checkpoint,
                                   void *checkpoint_ctx, parus_weather_import_stats *stats,
                                   parus_error *err);

/* The variable of a stored name ("precip_mm", ...); PARUS_WEATHER_N_VARS_ for another. */
parus_weather_var parus__weather_var_of_name(const char *name);

/* Count the days of d with no value at all for a variable it holds (n_gap_days, first_gap_day). */
void parus__weather_find_gaps(parus_weather_data *d);

/* A stored grid. */
typedef struct parus__weather_grid {
    int64_t id;
    char *crs_wkt;
    double gt[6];
    size_t width, height;
    double
        *station_xy; /* stations (no geotransform): lon, lat of cell k at 2k, 2k + 1; else NULL */
} parus__weather_grid;

/* Stations are weighed to a parcel by the inverse square of their distance from its centre, the
 * up to PARUS__WEATHER_STATIONS nearest within PARUS__WEATHER_STATION_KM (docs/method.md §5c). */
#define PARUS__WEATHER_STATIONS 4
#define PARUS__WEATHER_STATION_KM 50.0

void parus__weather_grids_free(parus__weather_grid *grids, size_t n);

/* True in *known when a weather file of this content is stored. */
parus_status parus__store_weather_known(parus_store *store, const char *hash, bool *known,
                                        parus_error *err);

/* Store the file's grid (found or added), values and record in one transaction (the contract of
 * parus_weather_import); fills stats' grid_id, n_values, n_same. checkpoint (may be NULL) is
 * called with "weather:written" when everything is written, before the commit. */
parus_status parus__store_weather_put(parus_store *store, const char *path,
                                      const parus_weather_data *data,
                                      parus_checkpoint_fn checkpoint, void *checkpoint_ctx,
                                      parus_weather_import_stats *stats, parus_error *err);

/* Every stored grid, by id; *grids malloc'ed (parus__weather_grids_free). */
parus_status parus__store_weather_grids(parus_store *store, parus__weather_grid **grids, size_t *n,
                                        parus_error *err);

/* What the store holds of the parcels' weights on a grid: per parcel the geometry fingerprint
 * they were computed for and the share of the parcel the grid covers, by parcel id (byte order,
 * as parus_store_parcels_in_box visits them). */
typedef struct parus__weather_held {
    char *parcel_id;
    char hash[65];
    double covered_share;
} parus__weather_held;
parus_status parus__store_weather_held(parus_store *store, int64_t grid_id,
                                       parus__weather_held **held, size_t *n, parus_error *err);
void parus__weather_held_free(parus__weather_held *held, size_t n);

/* One parcel's weights on a grid: cells and the share of the parcel's area in each. n_cells 0
 * records that the grid does not cover it. */
typedef struct parus__weather_weights {
    char *parcel_id;
    char hash[65];        /* fingerprint of the parcel's WKB */
    double covered_share; /* sum of the shares (parcel area inside the grid / parcel area) */
    uint32_t *cells;
    double *weights;
    size_t n_cells;
} parus__weather_weights;

/* Replace the weights of these parcels on grid_id, in one transaction. */
parus_status parus__store_weather_put_weights(parus_store *store, int64_t grid_id,
                                              const parus__weather_weights *w, size_t n,
                                              parus_error *err);

#endif

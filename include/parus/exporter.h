/*
 * parus/exporter.h - what `parus export` writes from a season's results in the store: the credit
 * desk's CSV (one row per farmer), the per-parcel CSV, and a GeoPackage of the assessed parcels
 * for QGIS.
 *
 * The schemas are stable and documented column by column in docs/export.md: columns are appended,
 * never renamed, reordered or removed. Both CSVs go through the RFC 4180 writer of parus/csvout.h
 * (UTF-8, a header row, text cells neutralised against spreadsheet formulas, money written from
 * integer fen with exactly two decimals, numbers independent of the locale). Money is never a
 * floating-point number in any export: the CSVs write yuan with two decimals from integer fen, the
 * GeoPackage stores integer fen (and the limit in whole yuan) in 64-bit integer fields.
 *
 * Everything is read from the store through its readers (parus/store.h); nothing is recomputed,
 * so an export shows exactly what `parus assess` stored for the season, and the same store always
 * exports the same bytes.
 *
 * Errors common to the calls: E_INVALID (a season that is not canonical, NULL arguments),
 * E_NOT_FOUND when the season has nothing to export (no limit, or no parcel result: "run
 * 'parus assess' first"), the writer's errors (E_IO naming the file, E_INVALID for text that is
 * not UTF-8) and the store's. Threads: one call per store at a time (a store is one connection).
 */
#ifndef PARUS_EXPORTER_H
#define PARUS_EXPORTER_H

#include <stddef.h>

#include "parus/csvout.h"
#include "parus/error.h"
#include "parus/export.h"
#include "parus/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The columns of the credit desk's CSV, in order (docs/export.md): n_columns set to their count. */
PARUS_API const char *const *parus_export_farmer_columns(size_t *n_columns);
/* The columns of the per-parcel CSV, in order. */
PARUS_API const char *const *parus_export_parcel_columns(size_t *n_columns);

/* Write the header and one record per farmer of the season's limits, in farmer id order, to w
 * (a file or memory writer the caller opened and closes: on an error its content is not an
 * export and must be discarded). *n_rows (may be NULL) is the number of farmers, written on
 * success. E_NOT_FOUND when the season has no limit. */
PARUS_API parus_status parus_export_farmers_csv(parus_store *store, const char *season,
                                                parus_csvout *w, size_t *n_rows, parus_error *err);

/* Write the header and one record per parcel result of the season, in parcel id order, with its
 * farmer's limit. E_NOT_FOUND when the season has no parcel result. */
PARUS_API parus_status parus_export_parcels_csv(parus_store *store, const char *season,
                                                parus_csvout *w, size_t *n_rows, parus_error *err);

/* Write the header and one record per optical observation of the season's window: every parcel
 * in id order, its observations in (date, tile) order, each with every statistic the store keeps
 * (parus_observation_stat_name; docs/export.md). It reads the observations, not the results, so
 * it works on a season not yet assessed. *n_rows: the observations written. E_NOT_FOUND when the
 * window holds none. */
PARUS_API parus_status parus_export_observations_csv(parus_store *store, const char *season,
                                                     parus_csvout *w, size_t *n_rows,
                                                     parus_error *err);

/* Write a GeoPackage at path with one layer, "parcels": every parcel result of the season with
 * its geometry from the store (MultiPolygon, lon/lat, EPSG:4326, x = longitude) and the fields of
 * the per-parcel CSV (money as integer fen fields named *_fen, dates as date fields). The file is
 * written under a temporary name beside path and renamed over it only when complete, so path
 * holds a whole GeoPackage or what it held before. *n_features (may be NULL) written on success.
 * Errors: E_NOT_FOUND (no parcel result for the season: nothing is written), E_IO (the file
 * cannot be created, written or renamed: the message names it and carries GDAL's reason),
 * E_GEOMETRY (a stored geometry GDAL cannot read), the store's errors. */
PARUS_API parus_status parus_export_gpkg(parus_store *store, const char *season, const char *path,
                                         size_t *n_features, parus_error *err);

/* Whether the file at path holds the bytes of an input the season was assessed with (the crop
 * table, the policy, the debts file or the model, by the SHA-256 recorded in
 * assessment_inputs): *what is then "crop table", "policy", "debts file" or "model", else NULL
 * (also when path does not exist, is not a regular file, is larger than 256 MiB, or the season
 * has no recorded inputs). An export written there would replace the file a limit rests on. */
/* Which of the named inputs (NULL: not named) differ from those the season's limits were computed
 * with (the SHA-256s in assessment_inputs): "policy 'p.ini', debts file 'd.csv'" into what, ""
 * when none does or the season records none. A limit computed before the bank changed its policy
 * or booked a debt does not rest on what the bank now says. */
PARUS_API parus_status parus_export_inputs_differ(parus_store *store, const char *season,
                                                  const char *crops_path, const char *policy_path,
                                                  const char *debts_path, const char *model_path,
                                                  char *what, size_t cap, parus_error *err);
PARUS_API parus_status parus_export_output_is_input(parus_store *store, const char *season,
                                                    const char *path, const char **what,
                                                    parus_error *err);
/* Whether the season's evidence in the store (parus_store_season_evidence) differs from the
 * digest recorded with its limits: *differs false when the same or none was recorded (assessed
 * before schema 21). No trigger sees a single observation, so observations deleted, added or
 * edited, or a tile re-dated, by hand since the limits were written leave the season current;
 * this reads every observation of the window once (export's cost, not a query's). */
PARUS_API parus_status parus_export_evidence_differs(parus_store *store, const char *season,
                                                     bool *differs, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

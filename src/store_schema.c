/*
 * store_schema.c - what is in a store file: its identity (PRAGMA application_id 'PRUS'), its schema
 * version (PRAGMA user_version) and the chain of migrations that brings any older store to the
 * version this build writes.
 *
 * A store outlives the binary that wrote it: a bank upgrades parus and opens last season's
 * store. So the schema is only ever changed by appending a step to `migrations` below (one
 * function, one table entry), never by editing an old step, and each step runs in its own
 * BEGIN IMMEDIATE transaction together with the user_version bump: a step that fails, or a crash
 * in the middle of one, leaves the store at the version before it. A store whose version is newer
 * than this build is refused before anything is written. Two processes opening an old store at
 * once are safe: the second waits for the write lock, then finds the step done and skips it.
 *
 * The DDL is constant text run with sqlite3_exec; no value from outside ever enters it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Version 1: parcels with their lon/lat R-tree, tiles, runs. parcels.num is an INTEGER PRIMARY
 * KEY (an alias of the rowid, so VACUUM cannot renumber it) because the R-tree is keyed by it. */
static const char schema_v1[] =
    "CREATE TABLE parcels ("
    " num INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " farmer_id TEXT,"
    " declared_area_m2 REAL,"
    " area_m2 REAL NOT NULL,"
    " lon_min_deg REAL NOT NULL, lat_min_deg REAL NOT NULL,"
    " lon_max_deg REAL NOT NULL, lat_max_deg REAL NOT NULL,"
    " wkb BLOB NOT NULL,"
    " repaired INTEGER NOT NULL DEFAULT 0,"
    " source TEXT NOT NULL,"
    " loaded_at TEXT NOT NULL);"
    "CREATE INDEX parcels_farmer ON parcels(farmer_id);"
    "CREATE VIRTUAL TABLE parcels_rtree USING rtree(id, lon_min, lon_max, lat_min, lat_max);"
    "CREATE TABLE tiles ("
    " id INTEGER PRIMARY KEY,"
    " hash TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL,"
    " sensor TEXT NOT NULL,"
    " date TEXT NOT NULL,"
    " epsg INTEGER,"
    " width INTEGER NOT NULL, height INTEGER NOT NULL,"
    " gt0 REAL, gt1 REAL, gt2 REAL, gt3 REAL, gt4 REAL, gt5 REAL,"
    " lon_min_deg REAL NOT NULL, lat_min_deg REAL NOT NULL,"
    " lon_max_deg REAL NOT NULL, lat_max_deg REAL NOT NULL,"
    " n_parcels INTEGER NOT NULL,"
    " processed_at TEXT NOT NULL);"
    "CREATE INDEX tiles_date ON tiles(date, id);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " command TEXT NOT NULL,"
    " args TEXT,"
    " parus_version TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " outcome TEXT,"
    " summary TEXT);"
    "PRAGMA application_id = " STR(PARUS__STORE_APPLICATION_ID) ";";

/* Version 2: per-parcel observations of a tile, the parcels set aside at load, and a tile status
 * (tiles stored by version 1 were registered only). Observation columns are added by later
 * steps (ALTER TABLE ADD COLUMN) as the statistics grow. */
static const char schema_v2[] =
    "ALTER TABLE tiles ADD COLUMN status TEXT NOT NULL DEFAULT 'registered';"
    "CREATE TABLE observations ("
    " tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,"
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " w_total_px REAL NOT NULL,"
    " w_valid_px REAL NOT NULL,"
    " valid_fraction REAL,"
    " ndvi_mean REAL, ndvi_std REAL, ndvi_min REAL, ndvi_max REAL,"
    " PRIMARY KEY (parcel_num, tile_id));"
    "CREATE INDEX observations_tile ON observations(tile_id);"
    "CREATE TABLE parcel_rejects ("
    " id INTEGER PRIMARY KEY,"
    " source TEXT NOT NULL,"
    " feature_index INTEGER NOT NULL,"
    " parcel_id TEXT,"
    " code TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL);"
    "CREATE INDEX parcel_rejects_source ON parcel_rejects(source);";

/* Version 3: every statistic of the kernel (other indices, band means, percentiles, fractions,
 * pixel counts), as columns of observations. */
#define ADD_OBS_COLUMN(name, offset) "ALTER TABLE observations ADD COLUMN " #name " REAL;"
static const char schema_v3[] =
    PARUS__OBS_COLUMNS_V3(ADD_OBS_COLUMN) "ALTER TABLE observations ADD COLUMN n_pixels INTEGER;"
                                          "ALTER TABLE observations ADD COLUMN n_pure INTEGER;";
#undef ADD_OBS_COLUMN

/* Version 4: what a season adds. Declared crops (or labels) per parcel and season; external
 * per-sample time series (samples, sample_points) that did not come from our tiles; and the
 * assessment of each parcel in a season. A season is named by its window, "YYYY-MM-DD/YYYY-MM-DD".
 * The CHECKs keep a guess from passing for a model, and no crop from being stored by default:
 * method 'none' is a parcel that could not be classified, with its reason. Tables keyed by a
 * composite key that the walks read in key order are WITHOUT ROWID (clustered on that key). */
static const char schema_v4[] =
    "CREATE TABLE parcel_crops ("
    " parcel_id TEXT NOT NULL REFERENCES parcels(id),"
    " season TEXT NOT NULL,"
    " crop TEXT NOT NULL,"
    " source TEXT,"
    " loaded_at TEXT,"
    " PRIMARY KEY (parcel_id, season)) WITHOUT ROWID;"
    "CREATE TABLE samples ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " label TEXT,"
    " grp TEXT,"
    " start_date TEXT,"
    " end_date TEXT,"
    " source TEXT,"
    " loaded_at TEXT);"
    "CREATE TABLE sample_points ("
    " sample_id TEXT NOT NULL REFERENCES samples(id),"
    " date TEXT NOT NULL,"
    " var TEXT NOT NULL,"
    " value REAL,"
    " PRIMARY KEY (sample_id, date, var)) WITHOUT ROWID;"
    "CREATE TABLE assessments ("
    " season TEXT NOT NULL,"
    " parcel_id TEXT NOT NULL REFERENCES parcels(id),"
    " run_id INTEGER,"
    " method TEXT NOT NULL CHECK (method IN ('model', 'calendar', 'none')),"
    " crop TEXT,"
    " probability REAL,"
    " crop2 TEXT,"
    " margin REAL,"
    " confidence TEXT NOT NULL CHECK (confidence IN ('normal', 'low', 'none')),"
    " model_version TEXT,"
    " declared_crop TEXT,"
    " agrees INTEGER,"
    " reason TEXT,"
    " n_clear_obs INTEGER,"
    " first_date TEXT,"
    " last_date TEXT,"
    " assessed_at TEXT,"
    " PRIMARY KEY (season, parcel_id));"
    "CREATE INDEX assessments_parcel ON assessments(parcel_id);";

/* Version 5: what `parus assess` makes of a season. parcel_results (a parcel's crop, condition,
 * planted area, yield and value, and the credit rule's verdict), parcel_flags (its events, each
 * with dates, size and confidence), peer_curves (the peers' NDVI median and quartiles per crop
 * and peer group, so a chart draws them without recomputing) and limits (a farmer's limit with
 * its parts, reasons and audit fields). Money is INTEGER fen or yuan only. An assess replaces a
 * season's rows of all four in one transaction. Keyed tables read in key order are WITHOUT
 * ROWID; parcel_results is read by parcel (its key) and, for a farmer, through parcels_farmer. */
static const char schema_v5[] =
    "CREATE TABLE parcel_results ("
    " season TEXT NOT NULL,"
    " parcel_id TEXT NOT NULL REFERENCES parcels(id),"
    " run_id INTEGER,"
    " crop TEXT,"
    " crop_probability REAL,"
    " crop_method TEXT NOT NULL CHECK (crop_method IN ('model', 'calendar', 'none')),"
    " crop_confidence TEXT NOT NULL CHECK (crop_confidence IN ('normal', 'low', 'none')),"
    " n_clear_obs INTEGER NOT NULL,"
    " first_date TEXT,"
    " last_date TEXT,"
    " peer_group TEXT,"
    " health_class TEXT NOT NULL"
    "  CHECK (health_class IN ('good', 'fair', 'poor', 'unknown')),"
    " health_score REAL,"
    " health_reference TEXT NOT NULL CHECK (health_reference IN ('peers', 'curve', 'none')),"
    " n_peers INTEGER,"
    " green_ratio REAL,"
    " planted_fraction REAL,"
    " planted_area_m2 REAL,"
    " area_m2 REAL,"
    " declared_area_m2 REAL,"
    " area_check TEXT CHECK (area_check IN ('ok', 'shortfall', 'excess', 'undeclared')),"
    " ndvi_integral_10d REAL,"
    " ndvi_peak REAL,"
    " yield_expected_kg_per_mu REAL,"
    " yield_p10_kg_per_mu REAL,"
    " price_cny_per_kg REAL,"
    " value_expected_fen INTEGER CHECK (value_expected_fen >= 0),"
    " value_p10_fen INTEGER CHECK (value_p10_fen >= 0 AND value_p10_fen <= value_expected_fen),"
    " flags TEXT NOT NULL DEFAULT '',"
    " reason TEXT CHECK (value_p10_fen IS NOT NULL OR reason IS NOT NULL),"
    " credit_counted INTEGER,"
    " credit_value_fen INTEGER CHECK (credit_value_fen >= 0),"
    " credit_reasons TEXT,"
    " assessed_at TEXT,"
    " PRIMARY KEY (season, parcel_id)) WITHOUT ROWID;"
    "CREATE TABLE parcel_flags ("
    " season TEXT NOT NULL,"
    " parcel_id TEXT NOT NULL REFERENCES parcels(id),"
    " flag TEXT NOT NULL,"
    " first_date TEXT NOT NULL,"
    " last_date TEXT NOT NULL,"
    " size REAL,"
    " confidence REAL,"
    " reason TEXT,"
    " run_id INTEGER,"
    " PRIMARY KEY (season, parcel_id, flag, first_date)) WITHOUT ROWID;"
    "CREATE TABLE peer_curves ("
    " season TEXT NOT NULL,"
    " crop TEXT NOT NULL,"
    " grp TEXT NOT NULL,"
    " step INTEGER NOT NULL,"
    " day TEXT NOT NULL,"
    " n INTEGER NOT NULL,"
    " ndvi_median REAL,"
    " ndvi_p25 REAL,"
    " ndvi_p75 REAL,"
    " run_id INTEGER,"
    " PRIMARY KEY (season, crop, grp, step)) WITHOUT ROWID;"
    "CREATE TABLE limits ("
    " season TEXT NOT NULL,"
    " farmer_id TEXT NOT NULL,"
    " run_id INTEGER,"
    " limit_cny INTEGER NOT NULL CHECK (limit_cny >= 0),"
    " currency TEXT NOT NULL,"
    " n_parcels INTEGER NOT NULL,"
    " n_parcels_valued INTEGER NOT NULL,"
    " planted_area_m2 REAL,"
    " declared_area_m2 REAL,"
    " main_crop TEXT,"
    " value_expected_fen INTEGER NOT NULL,"
    " value_p10_fen INTEGER NOT NULL,"
    " health TEXT NOT NULL CHECK (health IN ('good', 'fair', 'poor', 'unknown')),"
    " flags TEXT NOT NULL DEFAULT '',"
    " reasons TEXT NOT NULL DEFAULT '',"
    " confidence TEXT NOT NULL CHECK (confidence IN ('normal', 'low', 'none')),"
    " latest_date TEXT,"
    " model_version TEXT,"
    " policy_hash TEXT,"
    " repayment_date TEXT,"
    " debt_fen INTEGER NOT NULL DEFAULT 0,"
    " parts TEXT,"
    " assessed_at TEXT,"
    " PRIMARY KEY (season, farmer_id)) WITHOUT ROWID;";

/* A step returns a SQLite result code; it runs inside the step's transaction. */
static int migrate_to_1(parus_store *store)
{
    return parus__db_exec(store->db, schema_v1);
}

static int migrate_to_2(parus_store *store)
{
    return parus__db_exec(store->db, schema_v2);
}

static int migrate_to_3(parus_store *store)
{
    return parus__db_exec(store->db, schema_v3);
}

static int migrate_to_4(parus_store *store)
{
    return parus__db_exec(store->db, schema_v4);
}

static int migrate_to_5(parus_store *store)
{
    return parus__db_exec(store->db, schema_v5);
}

/* Version 6: the parcels' own (unmixed) values of each observation beside the mixed ones, which
 * stay as they were. Observations stored before have NULL there (read as NaN: not measured). */
#define ADD_OBS_COLUMN(name, offset) "ALTER TABLE observations ADD COLUMN " #name " REAL;"
static const char schema_v6[] = PARUS__OBS_COLUMNS_V6(ADD_OBS_COLUMN);
#undef ADD_OBS_COLUMN

static int migrate_to_6(parus_store *store)
{
    return parus__db_exec(store->db, schema_v6);
}

/* Version 7: the vegetated fraction of each observation with every pixel judged on its own
 * (unmixed) value, which the planted area reads. Observations stored before have NULL there. */
#define ADD_OBS_COLUMN(name, offset) "ALTER TABLE observations ADD COLUMN " #name " REAL;"
static const char schema_v7[] = PARUS__OBS_COLUMNS_V7(ADD_OBS_COLUMN);
#undef ADD_OBS_COLUMN

static int migrate_to_7(parus_store *store)
{
    return parus__db_exec(store->db, schema_v7);
}

/* Version 8: what each assessment was computed with (store_audit.c): the model version (SHA-256
 * of the model file, or of the crop table for the calendar) beside the model's training-data hash,
 * and the SHA-256 and the bytes of the crop table, policy and debts file, one row per season, so
 * that every limit can be re-derived (`parus verify`) and identified. */
static const char schema_v8[] = "CREATE TABLE assessment_inputs ("
                                " season TEXT NOT NULL PRIMARY KEY,"
                                " run_id INTEGER,"
                                " model_version TEXT NOT NULL,"
                                " model_data_hash TEXT,"
                                " crops_hash TEXT,"
                                " crops BLOB,"
                                " policy_hash TEXT NOT NULL,"
                                " policy BLOB,"
                                " debts_hash TEXT,"
                                " debts BLOB,"
                                " assessed_at TEXT) WITHOUT ROWID;";

/* Version 9: what each season is owed. season_state has a row per season an assessment or a
 * nightly job has named; stale = 1 says that the season's stored results no longer rest on every
 * tile of its window (a tile of the window was stored or removed since they were written), with
 * when and why. The triggers set it in the same transaction as the tile itself, whoever writes the
 * tile (ingest, nightly, store merge, a DELETE by hand); only the transaction that commits the
 * season's results clears it (store_assess.c). A season assessed before this version gets a row
 * here, stale when a tile of its window was stored at or after its results' time: a nightly
 * killed during its assessment before the upgrade is then finished by the next one. */
static const char schema_v9[] =
    "CREATE TABLE season_state ("
    " season TEXT NOT NULL PRIMARY KEY,"
    " first_date TEXT NOT NULL,"
    " last_date TEXT NOT NULL,"
    " stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),"
    " stale_since TEXT,"
    " stale_cause TEXT,"
    " assessed_run_id INTEGER,"
    " assessed_at TEXT,"
    " CHECK (stale = 1 OR (stale_since IS NULL AND stale_cause IS NULL))) WITHOUT ROWID;"
    "CREATE TRIGGER tiles_insert_season_stale AFTER INSERT ON tiles BEGIN"
    " UPDATE season_state SET stale = 1,"
    "  stale_since = CASE WHEN stale THEN stale_since"
    "   ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END,"
    "  stale_cause = CASE WHEN stale THEN stale_cause"
    "   ELSE 'tile ' || substr(NEW.hash, 1, 16) || ' of ' || NEW.date || ' stored' END"
    " WHERE NEW.date BETWEEN first_date AND last_date;"
    " END;"
    "CREATE TRIGGER tiles_delete_season_stale AFTER DELETE ON tiles BEGIN"
    " UPDATE season_state SET stale = 1,"
    "  stale_since = CASE WHEN stale THEN stale_since"
    "   ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END,"
    "  stale_cause = CASE WHEN stale THEN stale_cause"
    "   ELSE 'tile ' || substr(OLD.hash, 1, 16) || ' of ' || OLD.date || ' removed' END"
    " WHERE OLD.date BETWEEN first_date AND last_date;"
    " END;"
    "INSERT INTO season_state (season, first_date, last_date, stale, stale_since, stale_cause,"
    " assessed_run_id, assessed_at)"
    " SELECT s.season, substr(s.season, 1, 10), substr(s.season, 12, 10), s.stale,"
    "  CASE WHEN s.stale THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END,"
    "  CASE WHEN s.stale THEN 'tiles of the window stored at or after its results (found by the"
    " upgrade to schema 9)' END,"
    "  s.run_id, s.at"
    " FROM (SELECT r.season, r.at, r.run_id, EXISTS (SELECT 1 FROM tiles t"
    "   WHERE t.date BETWEEN substr(r.season, 1, 10) AND substr(r.season, 12, 10)"
    "   AND t.processed_at >= coalesce(r.at, '')) AS stale"
    "  FROM (SELECT season, max(assessed_at) AS at, max(run_id) AS run_id FROM ("
    "    SELECT season, assessed_at, run_id FROM limits"
    "    UNION ALL SELECT season, assessed_at, run_id FROM parcel_results)"
    "   GROUP BY season) AS r) AS s;";

static int migrate_to_8(parus_store *store)
{
    return parus__db_exec(store->db, schema_v8);
}

static int migrate_to_9(parus_store *store)
{
    return parus__db_exec(store->db, schema_v9);
}

/* Version 10: the interval of each result's planted area, which its area check judged (docs/
 * method.md, section 10). Results stored before have NULL there (read as NaN: none). */
static const char schema_v10[] = "ALTER TABLE parcel_results ADD COLUMN planted_area_lo_m2 REAL;"
                                 "ALTER TABLE parcel_results ADD COLUMN planted_area_hi_m2 REAL;";

static int migrate_to_10(parus_store *store)
{
    return parus__db_exec(store->db, schema_v10);
}

/* Version 11: plausible parcels and double pledges. parcel_changes records each parcel whose shape
 * a load changed, and how many observations of the old shape were removed with it (they measured
 * other land). parcel_overlaps holds each pair of parcels whose land overlaps beyond the load's
 * share (parcel_a registered first), rebuilt by every load and assess. */
static const char schema_v11[] =
    "CREATE TABLE parcel_changes ("
    " id INTEGER PRIMARY KEY,"
    " parcel_id TEXT NOT NULL,"
    " changed_at TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " what TEXT NOT NULL CHECK (what IN ('geometry')),"
    " old_area_m2 REAL,"
    " new_area_m2 REAL,"
    " n_observations_removed INTEGER NOT NULL);"
    "CREATE INDEX parcel_changes_parcel ON parcel_changes(parcel_id);"
    "CREATE TABLE parcel_overlaps ("
    " parcel_a TEXT NOT NULL,"
    " parcel_b TEXT NOT NULL,"
    " farmer_a TEXT,"
    " farmer_b TEXT,"
    " overlap_m2 REAL NOT NULL CHECK (overlap_m2 > 0),"
    " share_a REAL NOT NULL CHECK (share_a > 0 AND share_a <= 1.000001),"
    " share_b REAL NOT NULL CHECK (share_b > 0 AND share_b <= 1.000001),"
    " found_at TEXT NOT NULL,"
    " PRIMARY KEY (parcel_a, parcel_b)) WITHOUT ROWID;"
    "CREATE INDEX parcel_overlaps_b ON parcel_overlaps(parcel_b);";

static int migrate_to_11(parus_store *store)
{
    return parus__db_exec(store->db, schema_v11);
}

/* Version 12: the observations an assessment left out of a season as outliers, with what the
 * rule saw (include/parus/outlier.h), cleared and rewritten with the season's other results. */
static const char schema_v12[] = "CREATE TABLE observation_outliers ("
                                 " season TEXT NOT NULL,"
                                 " parcel_id TEXT NOT NULL,"
                                 " tile_id INTEGER NOT NULL,"
                                 " date TEXT NOT NULL,"
                                 " ndvi REAL NOT NULL,"
                                 " expected_ndvi REAL NOT NULL,"
                                 " jump REAL NOT NULL,"
                                 " neighbours_residual REAL NOT NULL,"
                                 " n_neighbours INTEGER NOT NULL CHECK (n_neighbours >= 0),"
                                 " reason TEXT NOT NULL,"
                                 " run_id INTEGER,"
                                 " PRIMARY KEY (season, parcel_id, tile_id)) WITHOUT ROWID;";

static int migrate_to_12(parus_store *store)
{
    return parus__db_exec(store->db, schema_v12);
}

/* Version 13: Sentinel-1 tiles (docs/store.md): each radar tile's pass (mission, orbit direction,
 * relative orbit) and what its values are, and per parcel and radar tile the linear-power means,
 * their ratio, RVI, water fraction, looks and standard errors (zonal.h), beside the optical
 * observations, which they never mix with. */
static const char schema_v13[] =
    "CREATE TABLE radar_tiles ("
    " tile_id INTEGER PRIMARY KEY REFERENCES tiles(id) ON DELETE CASCADE,"
    " mission TEXT,"
    " orbit_direction TEXT CHECK (orbit_direction IN ('ASCENDING', 'DESCENDING')),"
    " relative_orbit INTEGER CHECK (relative_orbit BETWEEN 1 AND 175),"
    " coefficient TEXT NOT NULL CHECK (coefficient IN ('sigma0', 'gamma0', 'beta0')),"
    " polarisations TEXT NOT NULL,"
    " looks REAL NOT NULL);"
    "CREATE TABLE radar_observations ("
    " tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,"
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " w_total_px REAL NOT NULL,"
    " w_valid_px REAL NOT NULL,"
    " valid_fraction REAL,"
    " vv REAL, vh REAL, vh_vv REAL, rvi REAL, water_fraction REAL,"
    " looks_vv REAL, looks_vh REAL, se_vv REAL, se_vh REAL,"
    " n_pixels INTEGER, n_pure INTEGER,"
    " PRIMARY KEY (parcel_num, tile_id));"
    "CREATE INDEX radar_observations_tile ON radar_observations(tile_id);";

static int migrate_to_13(parus_store *store)
{
    return parus__db_exec(store->db, schema_v13);
}

/* Version 14: which sensors each result and each limit rests on (docs/store.md): the optical
 * sensors of its clear observations and sentinel-1 where radar observations entered its crop's
 * features, joined with
 * '+'. Results stored before have NULL there (unknown). */
static const char schema_v14[] = "ALTER TABLE parcel_results ADD COLUMN sensors TEXT;"
                                 "ALTER TABLE limits ADD COLUMN sensors TEXT;";

static int migrate_to_14(parus_store *store)
{
    return parus__db_exec(store->db, schema_v14);
}

/* Version 15: weather (store_weather.c, docs/store.md). weather_grids: one row per source grid
 * (CRS, geotransform, size); weather_cells: its cells (cell = row * width + column) and their
 * centres in the grid's CRS; weather_files: each imported file by content hash (import is
 * incremental and idempotent), its variables and days; weather_values: one daily value per grid
 * cell (cell = row * width + column), variable ("precip_mm", "tmin_c", ...) and day (days since
 * 1970-01-01), with the file it came from; weather_parcel_grids and weather_weights: each
 * parcel's cells on each grid and the share of its area in each, for the geometry they were
 * computed from. Station records are a one-row grid with a zero geotransform and their list in
 * weather_grids.stations. Nothing before is changed. */
static const char schema_v15[] =
    "CREATE TABLE weather_grids ("
    " id INTEGER PRIMARY KEY,"
    " crs_wkt TEXT NOT NULL,"
    " gt0 REAL NOT NULL, gt1 REAL NOT NULL, gt2 REAL NOT NULL,"
    " gt3 REAL NOT NULL, gt4 REAL NOT NULL, gt5 REAL NOT NULL,"
    " width INTEGER NOT NULL, height INTEGER NOT NULL,"
    " stations TEXT,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE weather_cells ("
    " grid_id INTEGER NOT NULL REFERENCES weather_grids(id),"
    " cell INTEGER NOT NULL,"
    " row INTEGER NOT NULL, col INTEGER NOT NULL,"
    " x REAL NOT NULL, y REAL NOT NULL,"
    " PRIMARY KEY (grid_id, cell)) WITHOUT ROWID;"
    "CREATE TABLE weather_files ("
    " id INTEGER PRIMARY KEY,"
    " hash TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " grid_id INTEGER NOT NULL REFERENCES weather_grids(id),"
    " variables TEXT NOT NULL,"
    " first_day TEXT NOT NULL, last_day TEXT NOT NULL,"
    " n_gap_days INTEGER NOT NULL,"
    " imported_at TEXT NOT NULL);"
    "CREATE TABLE weather_values ("
    " grid_id INTEGER NOT NULL REFERENCES weather_grids(id),"
    " cell INTEGER NOT NULL,"
    " variable TEXT NOT NULL,"
    " day INTEGER NOT NULL,"
    " value REAL NOT NULL,"
    " file_id INTEGER NOT NULL REFERENCES weather_files(id),"
    " PRIMARY KEY (grid_id, cell, variable, day)) WITHOUT ROWID;"
    "CREATE TABLE weather_parcel_grids ("
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " grid_id INTEGER NOT NULL REFERENCES weather_grids(id),"
    " geometry_hash TEXT NOT NULL,"
    " covered_share REAL NOT NULL,"
    " n_cells INTEGER NOT NULL,"
    " computed_at TEXT NOT NULL,"
    " PRIMARY KEY (parcel_num, grid_id));"
    "CREATE TABLE weather_weights ("
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " grid_id INTEGER NOT NULL REFERENCES weather_grids(id),"
    " cell INTEGER NOT NULL,"
    " weight REAL NOT NULL,"
    " PRIMARY KEY (parcel_num, grid_id, cell)) WITHOUT ROWID;";

static int migrate_to_15(parus_store *store)
{
    return parus__db_exec(store->db, schema_v15);
}

/* Schema 16: the season's weather behind a result (parus_yield_weather): the rain over the
 * crop's sensitive window and its normal, the deficit, the heat days. Results stored before have
 * NULL there (none). */
static const char schema_v16[] =
    "ALTER TABLE parcel_results ADD COLUMN weather_rain_mm REAL;"
    "ALTER TABLE parcel_results ADD COLUMN weather_rain_normal_mm REAL;"
    "ALTER TABLE parcel_results ADD COLUMN weather_rain_deficit REAL;"
    "ALTER TABLE parcel_results ADD COLUMN weather_heat_days REAL;";

static int migrate_to_16(parus_store *store)
{
    return parus__db_exec(store->db, schema_v16);
}

/* Schema 17: weather owes a season its assessment as tiles do. A weather file stored or removed
 * whose days meet the span an assessment reads (the season's window and the 3,691 days before it:
 * ten years of climatology and a month, assess.c's reader) marks the season stale, in the same
 * transaction as the file, whoever writes it (weather import, nightly, a DELETE by hand): a limit
 * never rests on weather older than the store's without saying so. A season whose results were
 * written before weather within its reach was imported becomes stale at the upgrade. */
static const char schema_v17[] =
    "CREATE TRIGGER weather_files_insert_season_stale AFTER INSERT ON weather_files BEGIN"
    " UPDATE season_state SET stale = 1,"
    "  stale_since = CASE WHEN stale THEN stale_since"
    "   ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END,"
    "  stale_cause = CASE WHEN stale THEN stale_cause"
    "   ELSE 'weather file ' || substr(NEW.hash, 1, 16) || ' of ' || NEW.first_day || '..' ||"
    "    NEW.last_day || ' stored' END"
    " WHERE NEW.first_day <= last_date AND NEW.last_day >= date(first_date, '-3691 days');"
    " END;"
    "CREATE TRIGGER weather_files_delete_season_stale AFTER DELETE ON weather_files BEGIN"
    " UPDATE season_state SET stale = 1,"
    "  stale_since = CASE WHEN stale THEN stale_since"
    "   ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END,"
    "  stale_cause = CASE WHEN stale THEN stale_cause"
    "   ELSE 'weather file ' || substr(OLD.hash, 1, 16) || ' of ' || OLD.first_day || '..' ||"
    "    OLD.last_day || ' removed' END"
    " WHERE OLD.first_day <= last_date AND OLD.last_day >= date(first_date, '-3691 days');"
    " END;"
    "UPDATE season_state SET stale = 1, stale_since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
    " stale_cause = 'weather within its reach imported at or after its results (found by the"
    " upgrade to schema 17)'"
    " WHERE stale = 0 AND EXISTS (SELECT 1 FROM weather_files w"
    "  WHERE w.first_day <= season_state.last_date"
    "  AND w.last_day >= date(season_state.first_date, '-3691 days')"
    "  AND w.imported_at >= coalesce(season_state.assessed_at, ''));";

static int migrate_to_17(parus_store *store)
{
    return parus__db_exec(store->db, schema_v17);
}

/* Schema 18: the parcels and declared crops a season's results rest on owe it its assessment as
 * tiles and weather do. A limit is computed from each parcel's shape, area, farmer and declared
 * area, from the land its neighbours claim (overlaps: a parcel whose footprint meets another's)
 * and from the crop declared for it in the season; a change to any of them after the results
 * were written leaves them resting on what the store no longer holds. The triggers mark stale, in
 * the same transaction as the change and whoever makes it (parcels load, store merge, parcels
 * crops, an UPDATE by hand), every season with results for the parcel, a limit for its farmer
 * (before or after), or results for a parcel whose footprint meets its footprint (before or
 * after); a declared crop, the season it is declared for when it differs from the one its
 * assessment saw. A reload that changes nothing writes nothing and so marks nothing. Each
 * condition is read only while the season is current (stale = 0), so a bulk load costs one
 * probe of the season's results per parcel until the first mark. The SQL is laid out by hand
 * (clang-format cannot read macros between string literals). */
/* clang-format off */
#define V18_MARK(cause)                                                                            \
    " UPDATE season_state SET stale = 1, stale_since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"     \
    " stale_cause = " cause " WHERE stale = 0 AND ("
#define V18_RESULT_OF(id)                                                                          \
    "EXISTS (SELECT 1 FROM parcel_results r WHERE r.season = season_state.season"                  \
    " AND r.parcel_id = " id ")"
#define V18_LIMIT_OF(farmer)                                                                       \
    "EXISTS (SELECT 1 FROM limits l WHERE l.season = season_state.season"                          \
    " AND l.farmer_id = " farmer ")"
#define V18_RESULT_NEAR(p)                                                                         \
    "EXISTS (SELECT 1 FROM parcels_rtree t JOIN parcels q ON q.num = t.id JOIN parcel_results r"   \
    " ON r.season = season_state.season AND r.parcel_id = q.id"                                    \
    " WHERE t.lon_min <= " p ".lon_max_deg AND t.lon_max >= " p ".lon_min_deg"                     \
    " AND t.lat_min <= " p ".lat_max_deg AND t.lat_max >= " p ".lat_min_deg)"
/* the crop a row p of parcel_crops declares (NULL: none) is not the one its assessment saw */
#define V18_CROP_DIFFERS(p, crop)                                                                  \
    " season = " p ".season AND " V18_RESULT_OF(p ".parcel_id") " AND " crop " IS NOT"            \
    " (SELECT a.declared_crop FROM assessments a WHERE a.season = " p ".season"                    \
    " AND a.parcel_id = " p ".parcel_id));"
#define V18_CAUSE(id, what) "'parcel ' || substr(" id ", 1, 48) || ' " what "'"
#define V18_CROP_CAUSE(id, what) "'declared crop of parcel ' || substr(" id ", 1, 48) || ' " what "'"

static const char *const schema_v18[] = {
    "CREATE TRIGGER parcels_insert_season_stale AFTER INSERT ON parcels BEGIN"
    V18_MARK(V18_CAUSE("NEW.id", "registered"))
    V18_LIMIT_OF("NEW.farmer_id") " OR " V18_RESULT_NEAR("NEW") ");"
    " END;",
    "CREATE TRIGGER parcels_update_season_stale AFTER UPDATE ON parcels"
    " WHEN OLD.id IS NOT NEW.id OR OLD.farmer_id IS NOT NEW.farmer_id"
    " OR OLD.declared_area_m2 IS NOT NEW.declared_area_m2 OR OLD.area_m2 IS NOT NEW.area_m2"
    " OR OLD.wkb IS NOT NEW.wkb BEGIN"
    V18_MARK(V18_CAUSE("NEW.id", "changed (shape, area, farmer or declared area)"))
    V18_RESULT_OF("OLD.id") " OR " V18_RESULT_OF("NEW.id")
    " OR " V18_LIMIT_OF("OLD.farmer_id") " OR " V18_LIMIT_OF("NEW.farmer_id")
    " OR " V18_RESULT_NEAR("OLD") " OR " V18_RESULT_NEAR("NEW") ");"
    " END;",
    "CREATE TRIGGER parcels_delete_season_stale AFTER DELETE ON parcels BEGIN"
    V18_MARK(V18_CAUSE("OLD.id", "removed"))
    V18_RESULT_OF("OLD.id") " OR " V18_LIMIT_OF("OLD.farmer_id") " OR " V18_RESULT_NEAR("OLD") ");"
    " END;",
    "CREATE TRIGGER parcel_crops_insert_season_stale AFTER INSERT ON parcel_crops BEGIN"
    V18_MARK(V18_CROP_CAUSE("NEW.parcel_id", "changed")) V18_CROP_DIFFERS("NEW", "NEW.crop")
    " END;",
    "CREATE TRIGGER parcel_crops_update_season_stale AFTER UPDATE ON parcel_crops"
    " WHEN OLD.parcel_id IS NOT NEW.parcel_id OR OLD.season IS NOT NEW.season"
    " OR OLD.crop IS NOT NEW.crop BEGIN"
    V18_MARK(V18_CROP_CAUSE("OLD.parcel_id", "changed")) V18_CROP_DIFFERS("OLD", "NULL")
    V18_MARK(V18_CROP_CAUSE("NEW.parcel_id", "changed")) V18_CROP_DIFFERS("NEW", "NEW.crop")
    " END;",
    "CREATE TRIGGER parcel_crops_delete_season_stale AFTER DELETE ON parcel_crops BEGIN"
    V18_MARK(V18_CROP_CAUSE("OLD.parcel_id", "removed")) V18_CROP_DIFFERS("OLD", "NULL")
    " END;",
};
#undef V18_MARK
#undef V18_RESULT_OF
#undef V18_LIMIT_OF
#undef V18_RESULT_NEAR
#undef V18_CROP_DIFFERS
#undef V18_CAUSE
#undef V18_CROP_CAUSE
/* clang-format on */

static int migrate_to_18(parus_store *store)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof schema_v18 / sizeof schema_v18[0]; i++)
        rc = parus__db_exec(store->db, schema_v18[i]);
    return rc;
}

/* Schema 19: the observations in their compact form (store_obs.c, docs/store.md): about a third
 * of the bytes. observation_values is keyed by tile then parcel (a tile's rows are appended
 * together, and a tile's removal is a range of the key) with an index by parcel (the season walk
 * and a parcel's series); `observations` becomes a view of it with the weights, the counts,
 * valid_fraction and ndvi_mean as plain SQL reads them. Every value is kept to 1e-4, a packed
 * value out of that range exactly. A value the new form cannot hold at all (text or a blob in a
 * value column, a weight that is NULL, negative or not finite, a count below zero) stops the step
 * before anything is written: the message names how many and the first ones, and the store
 * stays at schema 18 until they are fixed or removed. */
/* clang-format off */
#define V19_OLD_COLUMN(name, offset) ", " #name
static const char v19_old_rows[] =
    "SELECT tile_id, parcel_num, w_total_px, w_valid_px" PARUS__OBS_COLUMNS(V19_OLD_COLUMN)
    ", n_pixels, n_pure FROM observations ORDER BY tile_id, parcel_num";
static const char v19_create[] =
    "CREATE TABLE observation_values ("
    " tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,"
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " w_total_mpx INTEGER NOT NULL CHECK (w_total_mpx >= 0),"
    " w_valid_mpx INTEGER NOT NULL CHECK (w_valid_mpx >= 0),"
    " n_pixels INTEGER NOT NULL CHECK (n_pixels >= 0),"
    " n_pure INTEGER NOT NULL CHECK (n_pure >= 0),"
    " valid_fraction_e4 INTEGER,"
    " ndvi_mean_e4 INTEGER,"
    " vals BLOB NOT NULL,"
    " PRIMARY KEY (tile_id, parcel_num)) WITHOUT ROWID;"
    "CREATE INDEX observation_values_parcel ON observation_values(parcel_num);";
static const char v19_insert[] =
    "INSERT INTO observation_values (tile_id, parcel_num, " PARUS__OBS_ROW_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char v19_finish[] =
    "DROP INDEX observations_tile;"
    "DROP TABLE observations;"
    "CREATE VIEW observations AS SELECT tile_id, parcel_num,"
    " w_total_mpx / 1000.0 AS w_total_px, w_valid_mpx / 1000.0 AS w_valid_px,"
    " valid_fraction_e4 / 10000.0 AS valid_fraction, ndvi_mean_e4 / 10000.0 AS ndvi_mean,"
    " n_pixels, n_pure, vals FROM observation_values;";
/* clang-format on */
#undef V19_OLD_COLUMN

static double v19_real(parus__stmt *st, int i)
{
    return parus__column_type(st, i) == SQLITE_NULL ? (double)NAN : parus__column_double(st, i);
}

#define V19_NAME(name, offset) #name,
static const char *const v19_names[] = {PARUS__OBS_COLUMNS(V19_NAME)};
#undef V19_NAME

/* Append text to the heap buffer *sql (used of cap); false when out of memory. */
static bool v19_append(char **sql, size_t *used, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*used + n + 1 > *cap) {
        size_t want = (*cap ? *cap * 2 : 4096) + n;
        char *p = realloc(*sql, want);
        if (!p)
            return false;
        *sql = p;
        *cap = want;
    }
    memcpy(*sql + *used, text, n + 1);
    *used += n;
    return true;
}

/* The condition (where = true) or the CASE arms (false) that find what the compact form cannot
 * hold in a row o of the old observations table. Only this build's column names enter it. */
static char *v19_bad_sql(bool where)
{
    static const char *const weights[] = {"w_total_px", "w_valid_px"};
    static const char *const counts[] = {"n_pixels", "n_pure"};
    static const char *const ints[] = {"valid_fraction", "ndvi_mean"};
    char *sql = NULL;
    size_t used = 0, cap = 0, k;
    bool ok = v19_append(&sql, &used, &cap, where ? "(" : "CASE"), first = true;
    char cond[512], arm[700];

    /* one condition: "c1 OR c2 ..." for WHERE, "WHEN c1 THEN 'name is ' || quote(o.name) ..." */
#define V19_ARM(name)                                                                              \
    do {                                                                                           \
        if (where)                                                                                 \
            snprintf(arm, sizeof arm, "%s(%s)", first ? "" : " OR ", cond);                        \
        else                                                                                       \
            snprintf(arm, sizeof arm, " WHEN %s THEN '%s is ' || quote(o.%s)", cond, name, name);  \
        ok = ok && v19_append(&sql, &used, &cap, arm);                                             \
        first = false;                                                                             \
    } while (0)
    for (k = 0; k < 2; k++) {
        snprintf(cond, sizeof cond,
                 "typeof(o.%s) NOT IN ('real', 'integer') OR o.%s < 0 OR o.%s > 1e12", weights[k],
                 weights[k], weights[k]);
        V19_ARM(weights[k]);
    }
    for (k = 0; k < 2; k++) {
        snprintf(cond, sizeof cond, "typeof(o.%s) NOT IN ('integer', 'null') OR o.%s < 0",
                 counts[k], counts[k]);
        V19_ARM(counts[k]);
    }
    for (k = 0; k < sizeof v19_names / sizeof v19_names[0]; k++) {
        snprintf(cond, sizeof cond, "typeof(o.%s) NOT IN ('real', 'integer', 'null')",
                 v19_names[k]);
        V19_ARM(v19_names[k]);
    }
    for (k = 0; k < 2; k++) {
        snprintf(cond, sizeof cond, "abs(o.%s) > 1e9", ints[k]);
        V19_ARM(ints[k]);
    }
#undef V19_ARM
    ok = ok && v19_append(&sql, &used, &cap, where ? ")" : " END");
    if (!ok) {
        free(sql);
        return NULL;
    }
    return sql;
}

/* the values the compact form cannot hold: none, or err says what was found */
static int v19_refuse_bad(parus_store *store, parus_error *err)
{
    char *where = v19_bad_sql(true), *which = v19_bad_sql(false), *sql = NULL;
    parus__stmt *st = NULL;
    int64_t n_bad = 0;
    char found[400] = "";
    size_t used = 0;
    int rc = SQLITE_NOMEM;

    if (where && which)
        sql = sqlite3_mprintf("SELECT count(*) FROM observations o WHERE %s", where);
    if (sql)
        rc = parus__db_prepare(store->db, sql, false, &st);
    sqlite3_free(sql);
    sql = NULL;
    if (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        n_bad = parus__column_int64(st, 0);
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && n_bad > 0) {
        sql = sqlite3_mprintf("SELECT coalesce(p.id, '#' || o.parcel_num), coalesce(t.path, '#' || "
                              "o.tile_id), %s FROM (SELECT * FROM observations o WHERE %s "
                              "LIMIT 3) o LEFT JOIN parcels p ON p.num = o.parcel_num LEFT JOIN "
                              "tiles t ON t.id = o.tile_id",
                              which, where);
        rc = sql ? parus__db_prepare(store->db, sql, false, &st) : SQLITE_NOMEM;
        sqlite3_free(sql);
    }
    while (rc == SQLITE_OK && n_bad > 0 && parus__step(st) == SQLITE_ROW && used < sizeof found) {
        int n = snprintf(
            found + used, sizeof found - used, "%sparcel '%.48s' in tile '%.80s': %.60s",
            used ? "; " : "", (const char *)parus__column_text(st, 0),
            (const char *)parus__column_text(st, 1), (const char *)parus__column_text(st, 2));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    parus__finalize(st);
    free(where);
    free(which);
    if (rc != SQLITE_OK || n_bad == 0)
        return rc;
    parus_fail(err, PARUS_E_STORE,
               "'%s' cannot move to schema 19 (observations in their compact form): %lld "
               "observation%s hold%s what that form cannot keep (%s%s); nothing was changed, the "
               "store stays at schema 18: correct or delete those rows (docs/store.md, "
               "\"Compact observations\") and open it again",
               store->path, (long long)n_bad, n_bad == 1 ? "" : "s", n_bad == 1 ? "s" : "", found,
               n_bad > 3 ? "; ..." : "");
    return SQLITE_CONSTRAINT;
}

static int migrate_to_19(parus_store *store, parus_error *err)
{
    parus__stmt *rd = NULL, *wr = NULL;
    struct parus__obs_row row;
    size_t n_rows = 0, n_exact = 0, n_values = parus_observation_n_stats();
    int rc = v19_refuse_bad(store, err);

    if (rc == SQLITE_OK)
        rc = parus__db_exec(store->db, v19_create);
    if (rc == SQLITE_OK)
        rc = parus__db_prepare(store->db, v19_old_rows, false, &rd);
    if (rc == SQLITE_OK)
        rc = parus__db_prepare(store->db, v19_insert, false, &wr);
    while (rc == SQLITE_OK && (rc = parus__step(rd)) == SQLITE_ROW) {
        parus_observation o;
        const char *bad = NULL;
        memset(&o, 0, sizeof o);
        o.w_total_px = parus__column_double(rd, 2);
        o.w_valid_px = parus__column_double(rd, 3);
        for (size_t k = 0; k < n_values; k++) {
            double v = v19_real(rd, 4 + (int)k);
            parus__obs_set_stat(&o, k, v);
        }
        o.n_pixels = (size_t)parus__column_int64(rd, 4 + (int)n_values);
        o.n_pure = (size_t)parus__column_int64(rd, 5 + (int)n_values);
        rc = parus__bind_int64(wr, 1, parus__column_int64(rd, 0));
        if (rc == SQLITE_OK)
            rc = parus__bind_int64(wr, 2, parus__column_int64(rd, 1));
        if (rc == SQLITE_OK)
            rc = parus__obs_bind(wr, 3, &o, &row, &n_exact, &bad);
        if (rc == SQLITE_OK)
            rc = parus__step(wr);
        if (rc == SQLITE_DONE)
            rc = parus__reset(wr);
        n_rows++;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    parus__finalize(rd);
    parus__finalize(wr);
    if (rc == SQLITE_OK)
        rc = parus__db_exec(store->db, v19_finish);
    if (rc == SQLITE_OK && n_rows > 0) {
        char exact[96] = "";
        if (n_exact > 0)
            snprintf(exact, sizeof exact, ", %zu value%s out of that form's range kept exactly",
                     n_exact, n_exact == 1 ? "" : "s");
        snprintf(store->note, sizeof store->note,
                 "'%s': %zu observation%s moved to their compact form (schema 19), each value kept "
                 "to 1e-4%s; `parus store upgrade` gives back the space the old form held",
                 store->path, n_rows, n_rows == 1 ? "" : "s", exact);
    }
    return rc;
}

/* Schema 20: parcels retired from the registry. A load never removes a parcel (its observations
 * and results stay, and so does what a later audit reads), so a parcel the bank no longer lends
 * on (sold, its contract ended, gone from a registry sent whole) is marked here instead: the
 * assessment holds it (reason RETIRED, no value), and loading it again reinstates it. */
#define V20_RETIREMENTS                                                                            \
    "CREATE TABLE parcel_retirements ("                                                            \
    " parcel_id TEXT NOT NULL PRIMARY KEY REFERENCES parcels(id),"                                 \
    " retired_at TEXT NOT NULL,"                                                                   \
    " source TEXT NOT NULL)"
/* a retirement written by hand (a registry sync, a DBA) owes the seasons as parus's own does:
 * the seasons whose results rest on the parcel, retired or reinstated */
#define V20_OWE(id, what)                                                                          \
    " UPDATE season_state SET stale = 1, stale_since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"     \
    " stale_cause = 'parcel ' || substr(" id ", 1, 48) || ' " what "' WHERE stale = 0 AND EXISTS"  \
    " (SELECT 1 FROM parcel_results r WHERE r.season = season_state.season AND r.parcel_id = " id  \
    ");"
static const char schema_v20[] = V20_RETIREMENTS
    ";"
    "CREATE TRIGGER parcel_retirements_insert_season_stale AFTER INSERT ON parcel_retirements"
    " BEGIN" V20_OWE(
        "NEW.parcel_id",
        "retired") " END;"
                   "CREATE TRIGGER parcel_retirements_update_season_stale AFTER UPDATE ON "
                   "parcel_retirements"
                   " BEGIN" V20_OWE("OLD.parcel_id", "reinstated")
                       V20_OWE("NEW.parcel_id",
                               "retired") " END;"
                                          "CREATE TRIGGER parcel_retirements_delete_season_stale "
                                          "AFTER DELETE ON parcel_retirements"
                                          " BEGIN" V20_OWE("OLD.parcel_id", "reinstated") " END;";
#undef V20_OWE

static int migrate_to_20(parus_store *store)
{
    return parus__db_exec(store->db, schema_v20);
}

/* Schema 21: the evidence an assessment read (store_audit.c): a digest of the season's tiles and
 * their observations, recorded with the inputs, that `parus verify` computes again. A season
 * assessed before has none (NULL): verify says so. */
static int add_column_once(parus_store *store, const char *table, const char *column,
                           const char *sql)
{
    char q[256];
    int64_t has = 0;
    int rc;
    /* a store rebuilt at an older version from the current schema (tests' old stores) has it */
    snprintf(q, sizeof q, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table,
             column);
    rc = parus__store_one_int(store, q, &has);
    if (rc != SQLITE_OK || has)
        return rc;
    return parus__db_exec(store->db, sql);
}

/* ... and how each tile's pixels were read (tiles.reading, ingest.c): a stored tile given again
 * to measure the parcels registered since must be read as it was. */
static int migrate_to_21(parus_store *store)
{
    int rc = add_column_once(store, "assessment_inputs", "evidence_digest",
                             "ALTER TABLE assessment_inputs ADD COLUMN evidence_digest TEXT");
    if (rc == SQLITE_OK)
        rc =
            add_column_once(store, "tiles", "reading", "ALTER TABLE tiles ADD COLUMN reading TEXT");
    return rc;
}

static const struct migration {
    int version; /* the version the step produces */
    int (*apply)(parus_store *store);
    int (*apply_checked)(parus_store *store, parus_error *err); /* err set when it refuses */
} migrations[] = {
    {1, migrate_to_1, NULL},   {2, migrate_to_2, NULL},   {3, migrate_to_3, NULL},
    {4, migrate_to_4, NULL},   {5, migrate_to_5, NULL},   {6, migrate_to_6, NULL},
    {7, migrate_to_7, NULL},   {8, migrate_to_8, NULL},   {9, migrate_to_9, NULL},
    {10, migrate_to_10, NULL}, {11, migrate_to_11, NULL}, {12, migrate_to_12, NULL},
    {13, migrate_to_13, NULL}, {14, migrate_to_14, NULL}, {15, migrate_to_15, NULL},
    {16, migrate_to_16, NULL}, {17, migrate_to_17, NULL}, {18, migrate_to_18, NULL},
    {19, NULL, migrate_to_19}, {20, migrate_to_20, NULL}, {21, migrate_to_21, NULL},
};

_Static_assert(sizeof migrations / sizeof migrations[0] == PARUS_STORE_SCHEMA_VERSION,
               "one migration step per schema version");

static parus_status newer_schema(const parus_store *store, int64_t version, parus_error *err)
{
    return parus_fail(err, PARUS_E_SCHEMA,
                      "'%s' has schema version %lld, newer than this parus (%d): upgrade parus",
                      store->path, (long long)version, PARUS_STORE_SCHEMA_VERSION);
}

parus_status parus__store_check_identity(parus_store *store, bool allow_fresh, parus_error *err)
{
    /* one statement, so the three values come from one snapshot */
    static const char sql[] = "SELECT (SELECT application_id FROM pragma_application_id()),"
                              " (SELECT user_version FROM pragma_user_version()),"
                              " (SELECT count(*) FROM sqlite_master)";
    parus__stmt *st;
    int64_t app_id, version, n_objects;
    int rc;

    if (parus__db_is_pg(store->db))
        return parus__store_pg_identity(store, allow_fresh, err);
    rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot open store '%s'", store->path);
    rc = parus__step(st);
    if (rc != SQLITE_ROW) {
        parus_status code =
            parus__store_sql_fail(store, rc, err, "cannot open store '%s'", store->path);
        parus__finalize(st);
        return code;
    }
    app_id = parus__column_int64(st, 0);
    version = parus__column_int64(st, 1);
    n_objects = parus__column_int64(st, 2);
    parus__finalize(st);

    return parus__store_identity_verdict(store, app_id == PARUS__STORE_APPLICATION_ID, version,
                                         app_id == 0 && version == 0 && n_objects == 0, allow_fresh,
                                         "", err);
}

parus_status parus__store_identity_verdict(parus_store *store, bool ours, int64_t version,
                                           bool empty, bool allow_fresh, const char *why_not,
                                           parus_error *err)
{
    if (ours) {
        if (version > PARUS_STORE_SCHEMA_VERSION)
            return newer_schema(store, version, err);
        if (version < 1)
            return parus_fail(err, PARUS_E_STORE,
                              "'%s' is a damaged parus store: it has no schema version",
                              store->path);
        store->version = (int)version;
        return PARUS_OK;
    }
    if (empty) {
        if (!allow_fresh)
            return parus_fail(err, PARUS_E_STORE, "'%s' is not a parus store (an empty database)",
                              store->path);
        store->version = 0;
        return PARUS_OK;
    }
    return parus_fail(err, PARUS_E_STORE, "'%s' is not a parus store%s", store->path, why_not);
}

int parus__store_one_int(parus_store *store, const char *sql, int64_t *out)
{
    parus__stmt *st;
    int rc = parus__db_prepare(store->db, sql, false, &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        *out = parus__column_type(st, 0) == SQLITE_NULL ? -1 : parus__column_int64(st, 0);
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    return rc;
}

static int read_version(parus_store *store, int64_t *version)
{
    return parus__store_one_int(store, "PRAGMA user_version", version);
}

static void rollback(parus_store *store)
{
    if (!parus__db_autocommit(store->db))
        parus__db_exec(store->db, "ROLLBACK");
}

parus_status parus__store_migrate(parus_store *store, parus_error *err)
{
    size_t i;

    if (parus__db_is_pg(store->db))
        return parus__store_pg_migrate(store, err);
    for (i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        const struct migration *m = &migrations[i];
        char bump[64];
        int64_t found = 0;
        int rc;

        if (m->version <= store->version)
            continue;
        rc = parus__db_exec(store->db, "BEGIN IMMEDIATE");
        if (rc != SQLITE_OK)
            return parus__store_sql_fail(store, rc, err,
                                         "cannot migrate '%s' from schema version %d to %d",
                                         store->path, store->version, m->version);
        rc = read_version(store, &found);
        if (rc == SQLITE_OK && found >= m->version) {
            /* another process migrated while this one waited for the lock */
            if (found > PARUS_STORE_SCHEMA_VERSION) {
                rollback(store);
                return newer_schema(store, found, err);
            }
            rc = parus__db_exec(store->db, "COMMIT");
            if (rc == SQLITE_OK) {
                store->version = (int)found;
                continue;
            }
        }
        if (rc == SQLITE_OK)
            rc = m->apply ? m->apply(store) : m->apply_checked(store, err);
        if (rc == SQLITE_CONSTRAINT && !m->apply && err && err->code != PARUS_OK) {
            rollback(store); /* the step refused, and said why */
            return err->code;
        }
        if (rc == SQLITE_OK) {
            /* PRAGMA takes no bound parameter; the value is this build's own constant */
            snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
            rc = parus__db_exec(store->db, bump);
        }
        if (rc == SQLITE_OK)
            rc = parus__db_exec(store->db, "COMMIT");
        if (rc != SQLITE_OK) {
            parus_status code = parus__store_sql_fail(
                store, rc, err, "cannot migrate '%s' from schema version %d to %d", store->path,
                store->version, m->version);
            rollback(store);
            return code;
        }
        store->version = m->version;
    }
    return PARUS_OK;
}

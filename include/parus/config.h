/*
 * parus/config.h - the configuration file: the paths and options a cron job would otherwise
 * repeat on every command line.
 *
 * An INI file read with inih (docs/cli.md lists every key). Precedence: built-in defaults, then
 * the file, then command-line options. An unknown section or key, or a bad value, is an E_CONFIG
 * error naming the file, the line and the key: a typo never silently falls back to a default.
 *
 *   [store]    db = parus.db
 *   [parcels]  id_field, farmer_field, declared_area_field, declared_area_unit (m2|mu|ha|auto),
 *              assume_crs, area_ratio_min, area_ratio_max, max_area_ha (plausible area),
 *              overlap_min_share (docs/parcels.md)
 *   [raster]   bands (a generic band map "red=3,nir=4"), threads (0 = all cores)
 *   [paths]    inbox, done, quarantine, log
 *   [tables]   crops, policy
 *   [nightly]  settle_s (seconds a file must have been left alone before it is ingested)
 *   [season]   window, model, outliers (on|off: single observations that contradict their
 *              series and their neighbours are left out, docs/method.md section 6a),
 *              overlap_check (on|off: off assesses a season that shares a harvest with another)
 */
#ifndef PARUS_CONFIG_H
#define PARUS_CONFIG_H

#include "parus/error.h"
#include "parus/export.h"
#include "parus/parcels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARUS_CONFIG_PATH_MAX 4096

typedef struct parus_config {
    char db[PARUS_CONFIG_PATH_MAX];
    char id_field[128];
    char farmer_field[128];
    char declared_area_field[128];
    parus_area_unit declared_area_unit;
    char assume_crs[256]; /* "" = none */
    char bands[256];      /* "" = auto */
    int threads;          /* 0 = all cores */
    char inbox[PARUS_CONFIG_PATH_MAX];
    char done[PARUS_CONFIG_PATH_MAX];
    char quarantine[PARUS_CONFIG_PATH_MAX];
    char log[PARUS_CONFIG_PATH_MAX];
    char crops[PARUS_CONFIG_PATH_MAX];
    char policy[PARUS_CONFIG_PATH_MAX];
    double settle_s;                   /* < 0: not set (the nightly job's default) */
    char season[32];                   /* [season] window "YYYY-MM-DD/YYYY-MM-DD"; "" = none */
    char model[PARUS_CONFIG_PATH_MAX]; /* [season] model: the crop model file; "" = none */
    char debts[PARUS_CONFIG_PATH_MAX]; /* [tables] debts: existing debts CSV; "" = none */
    double area_ratio_min;             /* [parcels] plausible measured / declared area */
    double area_ratio_max;
    double max_area_ha;       /* [parcels] no parcel above this is plausible */
    double overlap_min_share; /* [parcels] an overlap counts from this share of either parcel */
    int outliers_off;         /* [season] outliers = off: no observation is left out */
    int overlap_check_off;    /* [season] overlap_check = off: a season sharing days or a harvest
                                 with another assessed season is assessed (--season-overlap-ok) */
    int cloud_mask_off; /* [raster] cloud_mask = off: optical tiles without a cloud mask accepted */
} parus_config;

/* Defaults: db "parus.db", id_field "parcel_id", farmer_field "farmer_id", declared_area_field
 * "declared_area_mu" (unit auto), threads 0, settle_s -1 (unset), area_ratio_min/max and
 * max_area_ha from parus/parcels.h, overlap_min_share PARUS_OVERLAP_MIN_SHARE, everything else
 * empty. */
PARUS_API void parus_config_init(parus_config *cfg);
/* Apply a file over cfg. Relative paths in the file are taken relative to the file's directory.
 * Errors: E_IO (cannot read), E_CONFIG (syntax, unknown key, bad value). cfg is unchanged on
 * error. */
PARUS_API parus_status parus_config_load(const char *path, parus_config *cfg, parus_error *err);
/* Parse "m2", "mu", "ha", "auto". */
PARUS_API parus_status parus_area_unit_parse(const char *s, parus_area_unit *out, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * parus/crops.h - the crop table: the classes parus knows, their calendars, NDVI curves, yield
 * bounds and model coefficients, and prices.
 *
 * The table is data, not code: a CSV file (data-samples/crops.csv is the default, documented in
 * docs/crops.md) that a bank in another province edits without recompiling. It is read with
 * GDAL's CSV driver. Every row is checked: a missing column, a record with more or fewer cells than
 * the header, an unknown kind, a day of year out of 1..366, a negative price, yield bound or yield
 * slope, yield bounds in the wrong order, an annual crop whose ndvi_peak is not above its
 * ndvi_base, a code that is not [a-z0-9_] or is a duplicate, or text that is not UTF-8 is an
 * E_CONFIG error naming the file, the line and the column (E_IO when the file cannot be read).
 * Columns are found by name; unknown columns are ignored.
 *
 * Calendars are days of year (1..366) and may wrap the year end (winter wheat is sown in autumn and
 * harvested the next summer). A crop has one growth cycle, or two (double-season rice, a
 * wheat-maize rotation), the second described by the *2 columns.
 */
#ifndef PARUS_CROPS_H
#define PARUS_CROPS_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parus_crop_kind {
    PARUS_CROP_ANNUAL = 0, /* sown and harvested within the season */
    PARUS_CROP_PERENNIAL,  /* orchard, tea, sugarcane ratoons: green most of the year */
    PARUS_CROP_COVERED,    /* greenhouse / plastic film: low NDVI, bright */
    PARUS_CROP_NONCROP     /* fallow / not planted */
} parus_crop_kind;

typedef struct parus_crop_cycle {
    int sow_doy, peak_doy, harvest_doy; /* days of year; harvest may be < sow (wraps) */
} parus_crop_cycle;

typedef struct parus_crop {
    char code[32]; /* "winter_wheat" */
    char name_en[64];
    char name_zh[64]; /* UTF-8 */
    parus_crop_kind kind;
    int n_cycles; /* 1 or 2 (0 for noncrop) */
    parus_crop_cycle cycle[2];
    double ndvi_base; /* NDVI of bare soil / off-season */
    double ndvi_peak; /* typical NDVI at peak */
    double yield_min_kg_per_mu, yield_max_kg_per_mu;
    double yield_a_kg_per_mu;          /* yield = a + b * season-integrated NDVI (per 10 days), */
    double yield_b_kg_per_mu_per_ndvi; /* clamped to [min, max] */
    double price_cny_per_kg;
} parus_crop;

typedef struct parus_crop_table {
    parus_crop *crops;
    size_t n_crops;
} parus_crop_table;

PARUS_API parus_status parus_crop_table_load(const char *path, parus_crop_table *out,
                                             parus_error *err);
PARUS_API void parus_crop_table_release(parus_crop_table *table);
/* The crop with this code, or NULL. */
PARUS_API const parus_crop *parus_crop_table_find(const parus_crop_table *table, const char *code);
PARUS_API const char *parus_crop_kind_name(parus_crop_kind kind);

#ifdef __cplusplus
}
#endif
#endif

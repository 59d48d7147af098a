/*
 * parus/crops.h - the crop table: the classes parus knows, their calendars, NDVI curves, yield
 * bounds and model coefficients, and prices.
 *
 * The table is data, not code: a CSV file (data-samples/crops.csv is the default, documented in
 * docs/crops.md) that a bank in another province edits without recompiling. It is read with
 * GDAL's CSV driver. Every row is checked: a missing column, a record with more or fewer cells than
 * the header, an unknown kind, a day of year out of 1..366, a negative price, yield bound or yield
 * slope, yield bounds in the wrong order, a yield_cv outside [0, 1], an annual crop whose ndvi_peak
 * is not above its ndvi_base, a code that is not [a-z0-9_] or is a duplicate, or text that is not
 * UTF-8 is an E_CONFIG error naming the file, the line and the column (E_IO when the file cannot be
 * read). Columns are found by name; unknown columns are ignored. Every column is required except
 * the optional ones (yield_cv, yield_c_kg_per_mu_per_ndvi_peak, yield_cv_n_clear,
 * yield_n_harvests, tbase_c, theat_c, yield_d_kg_per_mu_per_rain_deficit,
 * yield_e_kg_per_mu_per_heat_day, yield_rain_deficit_max, yield_heat_days_max: their defaults
 * when absent or empty), so tables written
 * before them still load.
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
    double yield_cv; /* relative s.d. of yield around the model (optional column, default 0.15) */
    /* Optional columns (schema of the table, not of the store), each with its default when the
     * column is absent or the cell empty: */
    double yield_c_kg_per_mu_per_ndvi_peak;    /* the model's peak-NDVI term: 0 (none) */
    double yield_d_kg_per_mu_per_rain_deficit; /* its rain-deficit term: 0 (none) */
    double yield_e_kg_per_mu_per_heat_day;     /* its heat-day term: 0 (none) */
    /* the largest rain deficit and heat days among the harvests the model was calibrated on
     * (parus calibrate yield, when they had weather); NaN: not calibrated with weather. Finite
     * (and yield_n_harvests > 0): the model needs the parcel's weather, and a season beyond them
     * is beyond what it knows */
    double yield_rain_deficit_max, yield_heat_days_max;
    /* 0: yield_cv is assumed. > 0: yield_cv was measured on harvests (parus calibrate yield) at
     * this typical (median) number of clear observations; the P10 widens only below it */
    double yield_cv_n_clear;
    size_t yield_n_harvests; /* harvests the yield model was fitted on: 0 (not calibrated) */
    double tbase_c;          /* base temperature of growing degree-days: 10 degC */
    double theat_c;          /* heat-stress threshold of daily maximum around flowering: 35 */
    bool paddy; /* grown under standing water by design (paddy rice): never waterlogged. false */
} parus_crop;

/* yield_cv of a table without that column, or of a row with the cell empty. */
#define PARUS_CROP_DEFAULT_YIELD_CV 0.15
/* tbase_c and theat_c of a table without those columns (or a row with the cell empty). */
#define PARUS_CROP_DEFAULT_TBASE_C 10.0
#define PARUS_CROP_DEFAULT_THEAT_C 35.0

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

/* The crop's expected NDVI on day of year doy (1..366) from its calendar and NDVI levels: the
 * seasonal curve of docs/crops.md, the one the synthetic generator draws fields from, and the
 * reference the calendar fallback (parus/season.h) and the health stage compare a field with.
 * For each cycle, with sowing s, peak p and harvest h unwrapped so that s <= p < h (a year is
 * added wherever a day goes backwards: winter wheat 272 / 115 / 157 peaks in the next year):
 *   - green-up half done at tu = max(s + (p - s) / 2, p - L), L = 45 days (annual, covered) or 75
 *     (perennial, noncrop), width ku = max(2, (p - tu) / 4);
 *   - senescence half done at td = h - 0.35 (h - p), width kd = max(2, (td - p) / 3);
 *   - g(t) = sigma((t - tu) / ku) sigma(-(t - td) / kd) / (the same at p), sigma the logistic
 *     function, so g(p) = 1 exactly; annual and covered crops are cut at harvest: g e^(-(t-h)/4)
 *     after h;
 *   - NDVI = ndvi_base + (ndvi_peak - ndvi_base) max(0, max over the cycles and over t = doy - 365,
 *     doy, doy + 365 of g), so a curve wraps the year end.
 * By kind this gives: annual crops at ndvi_base off season and ndvi_peak at each peak_doy (the
 * curve's top lies up to 10 days earlier, less than 0.01 above ndvi_peak);
 * perennials at their (high) winter level ndvi_base with a summer rise to ndvi_peak (sugarcane,
 * sown and harvested on the same day, stands all year and dips before its spring regrowth);
 * covered crops (greenhouse) low throughout (their base and peak are both low); a noncrop row
 * without a calendar (fallow) a summer weed flush from ndvi_base to ndvi_peak (120 / 210 / 290).
 * Returns NaN for a NULL crop or a doy outside 1..366. Pure and reentrant. */
PARUS_API double parus_crop_expected_ndvi(const parus_crop *c, int doy);

#ifdef __cplusplus
}
#endif
#endif

/*
 * exporter_int.h - what the two writers of the per-parcel export share (exporter.c for the CSV,
 * export_gpkg.c for the GeoPackage): one table of columns, so that the CSV and the GeoPackage
 * never drift apart, and the season's limits held for lookup by farmer. Not part of the public
 * API.
 */
#ifndef PARUS_EXPORTER_INT_H
#define PARUS_EXPORTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/store.h"

typedef enum parus__col_type {
    PARUS__COL_TEXT,  /* text, from outside or from a closed list */
    PARUS__COL_INT,   /* a whole number */
    PARUS__COL_FEN,   /* money in fen: yuan with 2 decimals in a CSV, integer fen in a GPKG */
    PARUS__COL_FIXED, /* a measured quantity, `decimals` decimals in a CSV, a real in a GPKG */
    PARUS__COL_DATE   /* YYYY-MM-DD: text in a CSV, a date in a GPKG */
} parus__col_type;

typedef struct parus__col {
    const char *name;      /* the CSV's column */
    const char *gpkg_name; /* the GeoPackage's field (differs for money: *_fen) */
    parus__col_type type;
    int decimals;
} parus__col;

/* One cell of a parcel's row: null (an empty cell, a NULL field) or its value by type. */
typedef struct parus__cell {
    bool null;
    const char *text; /* TEXT, DATE; borrowed from the result */
    int64_t i;        /* INT, FEN */
    double x;         /* FIXED */
} parus__cell;

/* The season's limits by farmer id (byte order, as the store walks them). */
typedef struct parus__limit_index {
    size_t n;
    char **farmer_id;
    int64_t *limit_cny;
} parus__limit_index;

parus_status parus__limit_index_load(parus_store *store, const char *season,
                                     parus__limit_index *idx, parus_error *err);
void parus__limit_index_release(parus__limit_index *idx);

/* The per-parcel columns, in order (docs/export.md, "Per-parcel CSV"). */
const parus__col *parus__parcel_cols(size_t *n);
/* Cell col of the row of r (its farmer's limit looked up in idx). */
void parus__parcel_cell(const parus_parcel_result *r, const parus__limit_index *idx, size_t col,
                        parus__cell *c);

/* Whether the season has any parcel result (reads one row). */
parus_status parus__season_has_results(parus_store *store, const char *season, bool *any,
                                       parus_error *err);

#endif

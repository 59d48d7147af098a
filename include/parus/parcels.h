/*
 * parus/parcels.h - land parcels: reading, validation, reprojection and geodesic area.
 *
 * Parcels come from any vector file OGR reads (GeoJSON, GeoPackage, Shapefile...) in any CRS with
 * a definition (WGS84, CGCS2000 EPSG:4490, UTM, a local CRS with no EPSG code). Each is validated,
 * transformed to lon/lat on WGS84 with PROJ, and given its geodesic area on the WGS84 ellipsoid
 * (PROJ's geodesic routines, Karney 2013), in m2. A parcel that cannot be used is set aside with
 * one reason; the others are kept.
 *
 * Reasons a parcel is set aside (parus_parcel_reject.code): E_GEOMETRY for no geometry, empty, not
 * a polygon, self-intersecting and not repairable, zero area, or coordinates outside lon/lat range
 * after transformation; E_DUPLICATE for an id already seen in the file (the first is kept);
 * E_INVALID for a missing id, or a declared area that is negative or not a number (never silently
 * dropped: the area cross-check would otherwise pass unseen); E_FORMAT for a number in a GeoJSON
 * feature that OGR cannot have read faithfully ("114.526.3", 1e999, NaN, an integer beyond 64
 * bits); E_GEOMETRY for a source coordinate that is not finite or, in a geographic CRS, not a
 * lon/lat; E_RANGE for a measured area implausible against the declared one or above the largest
 * parcel size (the bounds in parus_parcel_fields). A self-intersecting polygon that GEOS repairs
 * (MakeValid) into a polygon is kept with `repaired` set. Exact reason texts: docs/parcels.md.
 *
 * Units: areas in m2 (area_m2); 1 mu = 10000/15 m2 (PARUS_M2_PER_MU), reported to people in mu.
 */
#ifndef PARUS_PARCELS_H
#define PARUS_PARCELS_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARUS_M2_PER_MU (10000.0 / 15.0)
#define PARUS_M2_PER_HA 10000.0

/* Plausibility bounds of a parcel's measured area (docs/parcels.md, "Plausible area", argues
 * them): measured / declared within [0.25, 4], and no parcel above 100 ha. */
#define PARUS_PARCEL_AREA_RATIO_MIN 0.25
#define PARUS_PARCEL_AREA_RATIO_MAX 4.0
#define PARUS_PARCEL_MAX_AREA_M2 (100.0 * PARUS_M2_PER_HA)
/* Two parcels overlap when their common land is at least this share of either (docs/parcels.md,
 * "Overlaps"); a shared edge or a survey sliver stays below it. */
#define PARUS_OVERLAP_MIN_SHARE 0.05

typedef enum parus_area_unit {
    PARUS_AREA_UNIT_AUTO = 0, /* from the field name's suffix: _m2, _ha, _mu (else mu) */
    PARUS_AREA_UNIT_M2,
    PARUS_AREA_UNIT_MU,
    PARUS_AREA_UNIT_HA
} parus_area_unit;

/* Which attributes hold what. NULL fields take the defaults in brackets. */
typedef struct parus_parcel_fields {
    const char *id_field;            /* ["parcel_id"]; must exist */
    const char *farmer_field;        /* ["farmer_id"]; optional in the file */
    const char *declared_area_field; /* ["declared_area_mu"]; optional in the file */
    parus_area_unit declared_area_unit;
    const char *assume_crs; /* CRS to assume when the file has none, e.g. "EPSG:4490"
                               (anything OSRSetFromUserInput takes; ignored when the file
                               has a CRS); NULL: a file with no CRS is an error (E_NO_CRS) */
    const char *layer;      /* layer name; NULL: the first layer */
    /* Plausible area: a parcel whose geodesic area is outside [area_ratio_min, area_ratio_max]
     * times its declared area (when one above 0 is declared), or above max_area_m2, is set aside
     * (E_RANGE). 0 takes the default (PARUS_PARCEL_AREA_RATIO_MIN, _MAX, PARUS_PARCEL_MAX_AREA_M2);
     * a negative value, NaN or area_ratio_min > area_ratio_max is an E_INVALID error. */
    double area_ratio_min;
    double area_ratio_max;
    double max_area_m2;
} parus_parcel_fields;

typedef struct parus_parcel {
    char *id;
    char *farmer_id;         /* NULL when the file has none */
    double declared_area_m2; /* NaN when not declared */
    double area_m2;          /* geodesic area on the WGS84 ellipsoid, holes subtracted */
    double lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg;
    unsigned char *wkb; /* Polygon or MultiPolygon in lon/lat (x = lon), little-endian WKB */
    size_t wkb_size;
    bool repaired; /* made valid by GEOS */
} parus_parcel;

typedef struct parus_parcel_reject {
    size_t feature_index; /* 0-based position in the layer */
    char *id;             /* NULL when the feature had none */
    parus_status code;
    char *reason; /* "invalid polygon (Self-intersection at or near point 5 5) could
                     not be repaired", ... (docs/parcels.md) */
} parus_parcel_reject;

typedef struct parus_parcel_set {
    parus_parcel *parcels;
    size_t n_parcels;
    parus_parcel_reject *rejects;
    size_t n_rejects;
    size_t n_repaired;
    char *source_crs; /* name of the file's CRS */
    size_t
        n_layers; /* layers of the file (the set is one of them: fields->layer, else the first) */
} parus_parcel_set;

/* Read, validate and transform every feature of the file. On success *out owns everything (free
 * with parus_parcel_set_release); parcels and rejects are in layer order. Success does not mean
 * any parcel was kept: a file whose every parcel is set aside still returns OK with its rejects.
 * File-level errors (*out untouched): E_IO (cannot open), E_FORMAT (not a vector file, no such
 * layer, no geometry column, a read error part way), E_NO_CRS (no CRS and none assumed),
 * E_INVALID (the id field does not exist, an assumed CRS that cannot be read), E_PROJ (no
 * transformation to WGS84), E_NOMEM. fields may be NULL. Thread-safe: calls on different files
 * may run at the same time. */
PARUS_API parus_status parus_parcels_read(const char *path, const parus_parcel_fields *fields,
                                          parus_parcel_set *out, parus_error *err);
PARUS_API void parus_parcel_set_release(parus_parcel_set *set);
PARUS_API void parus_parcel_release(parus_parcel *parcel);

/* Geodesic area (m2) of a lon/lat (Multi)Polygon WKB on the WGS84 ellipsoid; holes subtract.
 * Errors: E_GEOMETRY for WKB that is not a polygon or multipolygon. */
PARUS_API parus_status parus_wkb_geodesic_area_m2(const unsigned char *wkb, size_t wkb_size,
                                                  double *area_m2, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

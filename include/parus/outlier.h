/*
 * parus/outlier.h - single observations that contradict both their parcel's own series and the
 * parcel's neighbours on the same date (docs/method.md, section 6a).
 *
 * A decoder and the tile checks see a whole tile; an artefact the cloud mask missed over one
 * field (thin haze or smoke, a detector or compression fault on one band) passes them and puts
 * one wrong value into one parcel's season. Such a value is told by two things at once:
 *
 *   1. its own series: the observation lies at least min_jump NDVI off the straight line between
 *      the parcel's clear observations just before and just after it (each at most max_gap_days
 *      away), and at least min_side off each of them in that same direction. A crop does not
 *      lose and regain, or gain and lose, that much canopy within a revisit; a real loss (pest,
 *      hail, harvest) stays lost, so its next observation agrees with it (a step, not a spike);
 *   2. its neighbours: on the same tile (same date, same sensor), the parcels nearest to it
 *      (at most max_neighbours, within neighbour_radius_m of its centre) that have a residual
 *      there do not share the departure: their median residual is at most max_shared of the
 *      parcel's own residual in the same direction, and the two differ by at least min_jump. A
 *      departure the neighbours share (regional haze, a wide flood, frost) is the date's, not the
 *      observation's, and is left to the health rules.
 *
 * The residual of an observation is its NDVI minus that line (the value the series expects
 * there). An observation that shows water (water_fraction at least water_exempt) is never an
 * outlier, nor a reference: a short flood is exactly a value that comes and goes, and the flood
 * rule judges it (docs/method.md, section 9). An observation without a clear reference in time on
 * each side, or with fewer than min_neighbours neighbours judged on its tile, cannot be told from
 * a real change and is kept. A parcel's outliers are found one at a time, the largest residual
 * first, each found one leaving the series before the rest are judged again: an outlier never
 * serves as another's reference.
 *
 * Every function is pure and reentrant.
 */
#ifndef PARUS_OUTLIER_H
#define PARUS_OUTLIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/export.h"
#include "parus/zonal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_outlier_options {
    double min_valid_fraction; /* an observation judged, or used as a reference: 0.6 */
    int64_t max_gap_days;      /* the references in time at most this far each side: 15 */
    double min_jump;           /* NDVI off the line between its references: 0.15 */
    double min_side;           /* ... and off each reference, the same way: 0.1 */
    double max_shared;         /* the neighbours' median residual / the parcel's: 0.5 */
    double water_exempt;       /* water fraction from which an observation is never one, nor a
                                  reference: 0.2 */
    double mndwi_rise;         /* ... nor one whose MNDWI rises this much over its references'
                                  while its SWIR1 darkens below both (water, the flood rule's
                                  evidence; thin cloud brightens SWIR1): 0.1 */
    double ndwi_rise;          /* ... or, without SWIR1, whose NDWI rises this much: 0.2 */
    size_t min_neighbours;     /* 3 */
    size_t max_neighbours;     /* 12 */
    double neighbour_radius_m; /* 2000 */
    bool enabled;              /* false: no observation is ever left out */
} parus_outlier_options;

PARUS_API void parus_outlier_options_init(parus_outlier_options *opt);

/* A clear observation of a parcel (valid fraction at least min_valid_fraction, finite NDVI). */
typedef struct parus_outlier_point {
    int64_t day;
    double ndvi;           /* its NDVI mean */
    double water_fraction; /* NaN unknown */
    double mndwi, ndwi;    /* its index means; NaN unknown */
    double swir1;          /* its SWIR1 reflectance; NaN unknown (no SWIR band) */
    bool left_out;         /* already left out: neither judged again nor a reference */
} parus_outlier_point;

/* True when the observation counts as clear for the rule. */
PARUS_API bool parus_outlier_clear(const parus_outlier_options *opt, const parus_observation *obs);

/* One parcel's clear observations in day order (equal days in any order). For each point not left
 * out: expected[i] (the line between the nearest points of an earlier and of a later day that are
 * not left out, each at most max_gap_days away and neither showing water), residual[i] (ndvi -
 * expected) and jump[i] (the smaller departure from the two references when both go the
 * residual's way, signed; else 0); NaN in all three where there is no such pair of references,
 * and for points left out. wet[i] (may be NULL): 1 when the point shows water against those
 * references (mndwi_rise with SWIR1 darker than both, or ndwi_rise without SWIR1), else 0. */
PARUS_API void parus_outlier_residuals(const parus_outlier_options *opt,
                                       const parus_outlier_point *pt, size_t n, double *residual,
                                       double *expected, double *jump, unsigned char *wet);

/* True when point may be an outlier on its own series (rule 1): |residual| at least min_jump,
 * |jump| at least min_side, and no water (its water fraction, or wet from
 * parus_outlier_residuals). */
PARUS_API bool parus_outlier_candidate(const parus_outlier_options *opt,
                                       const parus_outlier_point *pt, double residual, double jump,
                                       bool wet);

/* Rule 2 for a candidate with residual r, given its neighbours' residuals on the same tile
 * (nb, n_nb; finite values; reordered in place): true when the neighbours do not share it.
 * *median gets their median (NaN when n_nb is 0). False with fewer than min_neighbours. */
PARUS_API bool parus_outlier_contradicts_neighbours(const parus_outlier_options *opt, double r,
                                                    double *nb, size_t n_nb, double *median);

#ifdef __cplusplus
}
#endif
#endif

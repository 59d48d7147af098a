/*
 * parus/s1safe.h - a raw Sentinel-1 IW Level-1 GRD product (SAFE) turned into parus's radar tile.
 *
 * A GRD product is a directory: manifest.safe (what the product is and which files it holds), one
 * product annotation per polarisation (image size, orbit pass, the geolocation grid of tie
 * points), one calibration annotation per polarisation (the sigmaNought look-up table), one noise
 * annotation per polarisation, and one measurement GeoTIFF per polarisation (UInt16 amplitude DN
 * in radar geometry: no map grid, only tie points). parus reads the manifest and annotations,
 * calibrates every DN to sigma0 in linear power (sigma0 = (DN^2 - N) / A^2, A interpolated
 * bilinearly from the table, N the thermal noise: docs/sensors.md "Sentinel-1 GRD products"),
 * and places the result on a UTM grid
 * through the tie points with GDAL's thin-plate-spline warper, writing exactly the radar tile of
 * docs/sensors.md (VV, VH, ANGLE; Float32 linear; NaN nodata; the contract's metadata).
 *
 * Without a DEM the placement is only as good as interpolation between ellipsoid tie points 10-20
 * km apart: parus measures that error (leave-one-out at the tie points) and refuses to write a
 * tile whose error exceeds a bound the caller chooses, and records it in the tile otherwise.
 *
 * Thread safety: a parus_s1safe is read-only after open; one handle may be used from one thread
 * at a time for writing (GDAL handles are its own).
 */
#ifndef PARUS_S1SAFE_H
#define PARUS_S1SAFE_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_s1safe parus_s1safe;

#define PARUS_S1SAFE_MAX_POLS 2

/* What the manifest and the annotations say (all checked against each other at open). */
typedef struct parus_s1safe_info {
    char mission[16];         /* "SENTINEL-1A", "SENTINEL-1B", "SENTINEL-1C" */
    char mode[4];             /* "IW" */
    char product_type[8];     /* "GRD" */
    char start_utc[32];       /* start of the acquisition, "2021-04-01T05:26:23Z" (whole seconds) */
    char orbit_direction[12]; /* "ASCENDING" or "DESCENDING" */
    int relative_orbit;
    size_t n_pols;
    char pols[PARUS_S1SAFE_MAX_POLS][3]; /* "VV", "VH" (VV first when both) */
    size_t width_px, height_px;          /* samples x lines of the measurement image */
    size_t n_tie_points;
    double height_min_m, height_max_m; /* the tie points' heights above the ellipsoid */
    double lon_center_deg, lat_center_deg;
} parus_s1safe_info;

/* Open a product: path is the .SAFE directory or its manifest.safe. Reads the manifest, each
 * polarisation's product, calibration and noise annotation, and checks that every file the
 * manifest names for them (measurement TIFFs included) exists. Refused, naming the file:
 *   E_IO        the manifest or a file it names cannot be read (a manifest that lies about its
 *               files: "manifest names 'X' but it is absent");
 *   E_FORMAT    not an IW GRD product, a polarisation without a calibration annotation, an
 *               annotation or calibration for another product type, swath, polarisation or
 *               mission, a calibration table that does not cover the image, a LUT value that is
 *               zero, negative or not a number, too few tie points, not a lattice of tie points;
 *   E_NOMEM.
 * *out is written only on success; free with parus_s1safe_free. */
PARUS_API parus_status parus_s1safe_open(const char *path, parus_s1safe **out, parus_error *err);
PARUS_API void parus_s1safe_free(parus_s1safe *s);
/* Borrowed; lives as long as s. */
PARUS_API const parus_s1safe_info *parus_s1safe_get_info(const parus_s1safe *s);
/* Every file of the product parus reads (manifest, annotations, calibration and noise
 * annotations, measurement TIFFs), for refusing an output that would replace one. Borrowed; lives
 * as long as s. */
PARUS_API const char *const *parus_s1safe_files(const parus_s1safe *s, size_t *n_files);

/* The sigmaNought calibration value A at (line, pixel) of polarisation pol (index into
 * info->pols), interpolated bilinearly as the tile is calibrated (line and pixel are the
 * annotation's indices: the centre of the image's first pixel is (0, 0)). NaN when pol is out of
 * range. */
PARUS_API double parus_s1safe_sigma0_lut(const parus_s1safe *s, size_t pol, double line,
                                         double pixel);

/* The thermal noise power (DN^2 units) at (line, pixel) of polarisation pol from its noise
 * annotation: the range vectors (bilinear as the calibration table, holding the end values
 * beyond the table) times the azimuth factor of the block holding the pixel (linear along its
 * lines; 1 outside every block). NaN when the product has no noise annotation for pol. */
PARUS_API double parus_s1safe_noise_at(const parus_s1safe *s, size_t pol, double line,
                                       double pixel);

/* Where thermal noise removal clips sigma0: -45 dB, below any surface's backscatter and the
 * instrument's noise floor (about -22 to -25 dB), inside the radar tile's valid range. */
#define PARUS_S1SAFE_NOISE_FLOOR 3.1622776601683795e-5

typedef enum parus_s1safe_method {
    PARUS_S1SAFE_TPS = 0,   /* thin-plate spline through every tie point (the default) */
    PARUS_S1SAFE_POLY1 = 1, /* first-order polynomial fitted to the tie points */
    PARUS_S1SAFE_POLY2 = 2, /* second-order polynomial */
    PARUS_S1SAFE_POLY3 = 3  /* third-order polynomial */
} parus_s1safe_method;

/* How well the tie points place a pixel, in metres on the UTM grid the tile would use:
 * at_points: the transformer fitted to all tie points, evaluated at the tie points themselves
 * (zero for the spline, the fit's residual for a polynomial); between: each interior tie point
 * (one with grid neighbours on all four sides) left out in turn and predicted from the others,
 * which measures interpolation between tie points 10-20 km apart, terrain included. */
typedef struct parus_s1safe_placement {
    double at_points_mean_m, at_points_max_m;
    double between_mean_m, between_max_m;
    size_t n_between;
} parus_s1safe_placement;

/* E_FORMAT when GDAL cannot fit the transformer; E_PROJ when the UTM transformation fails. */
PARUS_API parus_status parus_s1safe_measure_placement(const parus_s1safe *s,
                                                      parus_s1safe_method method,
                                                      parus_s1safe_placement *out,
                                                      parus_error *err);

typedef struct parus_s1safe_options {
    double res_m;                 /* output pixel size; 10 by default (0 means 10) */
    parus_s1safe_method method;   /* PARUS_S1SAFE_TPS by default */
    double max_placement_error_m; /* refuse when between_max_m exceeds it; 0 means 3 x res_m */
    bool keep_noise;              /* true: do not subtract thermal noise */
    int n_threads;                /* GDAL's warp and DEFLATE threads; 0: all cores. The tile's
                                   * bytes do not depend on it */
} parus_s1safe_options;

/* What was written. */
typedef struct parus_s1safe_result {
    int epsg;
    size_t width_px, height_px;
    parus_s1safe_placement placement;
    size_t n_dn_zero;       /* DN 0 (no data) pixels of the radar image, all polarisations */
    bool noise_removed;     /* every polarisation had a noise annotation, and keep_noise was off */
    size_t n_noise_clipped; /* pixels whose noise-subtracted sigma0 was clipped to the floor */
} parus_s1safe_result;

/* Calibrate every polarisation to sigma0 (linear power): sigma0 = (DN^2 - N) / A^2 with N the
 * thermal noise (parus_s1safe_noise_at) when every polarisation has a noise annotation and
 * opt->keep_noise is false, clipped at PARUS_S1SAFE_NOISE_FLOOR; else DN^2 / A^2. Then place it on
 * a north-up UTM grid of opt->res_m (the zone of the footprint's centre) and write the radar tile
 * to out_path (Float32, tiled, DEFLATE; bands VV, VH (those present) and ANGLE, the ellipsoid
 * incidence angle; NaN where no pixel: DN 0 or outside the swath). Written beside out_path and
 * renamed into place (parus/outfile.h): a failure leaves a previous out_path as it was. Refused
 * before anything is written: out_path being one of the product's files (E_INVALID), a placement
 * error above the bound (E_RANGE, naming the error and what would fix it), a measurement TIFF that
 * is not UInt16 or not the annotation's size (E_FORMAT). E_IO when reading or writing fails. res
 * may be NULL. */
PARUS_API parus_status parus_s1safe_write_tile(const parus_s1safe *s,
                                               const parus_s1safe_options *opt,
                                               const char *out_path, parus_s1safe_result *res,
                                               parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * parus/raster.h - what parus sees in an imagery tile, and reading it block by block.
 *
 * A tile is one acquisition: a single multi-band GeoTIFF, or a scene with one file per band (a
 * directory or a list of files). Opening a tile identifies the sensor profile, finds each band's
 * role (red, NIR, ...), its DN -> reflectance scale and offset, its nodata, the acquisition date
 * and where per-pixel validity comes from. No pixel is read at open.
 *
 * Profiles (docs/sensors.md has the details: names, metadata keys, date sources, nodata):
 *   Sentinel-2 L2A   bands by name (B02..B12, SCL); reflectance = (DN + BOA_ADD_OFFSET) / 10000,
 *                    the offset read from metadata (-1000 from processing baseline 04.00); SCL
 *                    classes 0 no data, 1 saturated, 3 cloud shadow, 8/9 cloud, 10 cirrus invalid.
 *   Sentinel-2 L1C   bands by name, reflectance = (DN + RADIO_ADD_OFFSET) / 10000 (0 before
 *                    baseline 04.00), validity from nodata.
 *   Landsat 8/9 C2 L2 SR_B2..SR_B7; reflectance = DN * 0.0000275 - 0.2; QA_PIXEL bits 0 fill,
 *                    1 dilated cloud, 2 cirrus, 3 cloud, 4 shadow invalid (5 snow, 7 water kept).
 *   Landsat 8 L1     B2..B7 with an MTL file: REFLECTANCE_MULT/ADD_BAND_n; BQA bit 0 fill and
 *                    bits 14-15 (cloud confidence) = 3 invalid.
 *   CBERS-4 AWFI     B13 blue, B14 green, B15 red, B16 NIR; CMASK cloud mask (Fmask codes: 2
 *                    shadow, 4 cloud, 255 fill invalid).
 *   generic          roles from band descriptions ("red", "nir", "B04", ...) or an explicit map
 *                    "red=3,nir=4"; validity from nodata or a band described as a mask.
 *   Sentinel-1       radar backscatter (VV, VH, incidence angle, layover/shadow mask): parus's
 *                    own radar tiles (the radar tile contract), ASF RTC, SNAP, Earth Engine and
 *                    Sentinel Hub exports. Coefficient (sigma0/gamma0/beta0) and scale (linear
 *                    power or dB) from metadata, unit types or names, else refused; readers
 *                    always hand out linear power (parus_radar_info).
 *
 * Grid: bands of one scene may differ in resolution (Sentinel-2's 20 m SCL, B11, B12); the tile's
 * grid is the finest one, and coarser bands are read onto it (nearest neighbour: exact for class
 * bands, and no invented values for spectral ones).
 *
 * Threads: a parus_tile is immutable after open and may be shared by threads. Each thread reads
 * through its own parus_tile_reader, which holds its own GDAL dataset handles.
 */
#ifndef PARUS_RASTER_H
#define PARUS_RASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parus_sensor {
    PARUS_SENSOR_GENERIC = 0,
    PARUS_SENSOR_S2_L2A,
    PARUS_SENSOR_S2_L1C,
    PARUS_SENSOR_LANDSAT_C2L2,
    PARUS_SENSOR_LANDSAT_L1,
    PARUS_SENSOR_CBERS4_AWFI,
    PARUS_SENSOR_S1 /* Sentinel-1 IW backscatter, analysis ready (geocoded) */
} parus_sensor;

/* Spectral roles first, then the class/mask roles that give validity. */
typedef enum parus_band_role {
    PARUS_ROLE_BLUE = 0,
    PARUS_ROLE_GREEN,
    PARUS_ROLE_RED,
    PARUS_ROLE_RE1,        /* red edge 705 nm (S2 B05) */
    PARUS_ROLE_RE2,        /* 740 nm (B06) */
    PARUS_ROLE_RE3,        /* 783 nm (B07) */
    PARUS_ROLE_NIR,        /* broad NIR (S2 B08, Landsat B5, CBERS B16) */
    PARUS_ROLE_NIR_NARROW, /* S2 B8A */
    PARUS_ROLE_SWIR1,      /* ~1.6 um (S2 B11, Landsat B6) */
    PARUS_ROLE_SWIR2,      /* ~2.2 um (S2 B12, Landsat B7) */
    PARUS_ROLE_N_SPECTRAL_,
    PARUS_ROLE_SCL = PARUS_ROLE_N_SPECTRAL_, /* Sentinel-2 scene classification */
    PARUS_ROLE_QA_PIXEL,                     /* Landsat Collection 2 QA_PIXEL */
    PARUS_ROLE_QA_BQA,                       /* Landsat pre-collection BQA */
    PARUS_ROLE_MASK, /* a cloud mask band (CBERS CMASK, or generic: 0 = clear) */
    /* Sentinel-1 (PARUS_SENSOR_S1 only): backscatter values, then what goes with them */
    PARUS_ROLE_VV,             /* backscatter, VV polarisation (linear power when read) */
    PARUS_ROLE_VH,             /* backscatter, VH polarisation */
    PARUS_ROLE_ANGLE,          /* incidence angle (not read by the kernel) */
    PARUS_ROLE_LAYOVER_SHADOW, /* layover/shadow mask, or Sentinel Hub's dataMask */
    PARUS_ROLE_UNKNOWN,
    PARUS_ROLE_N_
} parus_band_role;

typedef enum parus_validity_source {
    PARUS_VALIDITY_NODATA = 0, /* only nodata, NaN and saturation */
    PARUS_VALIDITY_SCL,
    PARUS_VALIDITY_QA_PIXEL,
    PARUS_VALIDITY_QA_BQA,
    PARUS_VALIDITY_MASK_BAND,
    PARUS_VALIDITY_LAYOVER_SHADOW /* a radar layover/shadow mask or data mask */
} parus_validity_source;

/* The scale of a radar band's values in its file. Readers always hand out linear power. */
typedef enum parus_radar_scale {
    PARUS_RADAR_SCALE_UNKNOWN = 0,
    PARUS_RADAR_SCALE_LINEAR, /* power, sigma0 = DN */
    PARUS_RADAR_SCALE_DB      /* sigma0 = 10^(DN / 10) */
} parus_radar_scale;

/* What parus knows of a Sentinel-1 tile, and where it learned each item (docs/sensors.md,
 * "Sentinel-1"). Strings are empty when unknown. */
typedef struct parus_radar_info {
    const char *product;   /* "parus", "asf-rtc", "snap", "sentinel-hub", "generic" */
    char mission[16];      /* "SENTINEL-1A", ... */
    char polarisations[8]; /* "VV+VH" or "VV" */
    char coefficient[8];   /* "sigma0", "gamma0" or "beta0" */
    char coefficient_source[96];
    parus_radar_scale scale; /* of the values in the file */
    char scale_source[96];
    char orbit_direction[12]; /* "ASCENDING" or "DESCENDING" */
    int relative_orbit;       /* 0: unknown */
    double looks;             /* equivalent number of looks of one pixel */
    char looks_source[96];
    double looks_correlation; /* pixels per independent speckle sample, >= 1 (method.md) */
} parus_radar_info;

typedef struct parus_band_info {
    parus_band_role role;
    const char *name;        /* "B04", "SR_B4", "SCL" ... */
    const char *description; /* as in the file, "" if none */
    const char *path;        /* the file holding the band */
    int band_index;          /* 1-based index inside that file */
    const char *data_type;   /* GDAL's name, "UInt16" */
    size_t width, height;    /* the band's own size in pixels */
    double res_m;            /* the band's own pixel size (x), in CRS units */
    size_t block_w, block_h; /* the band's own block layout */
    double scale, offset;    /* reflectance = DN * scale + offset (class bands: 1, 0) */
    bool has_nodata;
    double nodata;
} parus_band_info;

typedef struct parus_tile_info {
    parus_sensor sensor;
    const char *sensor_name; /* "sentinel-2-l2a", ... */
    char date[11];           /* acquisition date, YYYY-MM-DD */
    const char *date_source; /* where the date came from, e.g. "metadata PRODUCT_START_TIME" */
    const char *crs_name;    /* "WGS 84 / UTM zone 33N" */
    const char *crs_wkt;     /* WKT2 */
    int epsg;                /* 0 when the CRS has no EPSG code */
    size_t width, height;    /* the grid (finest band) in pixels */
    double geotransform[6];  /* GDAL convention, north-up grids only */
    double res_m;            /* pixel size in CRS units (metres for projected CRSs) */
    size_t block_w, block_h; /* iteration block on the grid */
    size_t n_blocks_x, n_blocks_y;
    parus_validity_source validity;
    const char *validity_desc; /* human-readable rule, e.g. "SCL: 0,1,3,8,9,10 invalid" */
    double lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg; /* footprint on WGS84 */
    size_t n_bands;
    size_t n_files;
    /* the band-pass adjustment folded into the bands' scale and offset, e.g. "HLS v2.0 band-pass,
     * Landsat 8/9 OLI to Sentinel-2A MSI (blue, green, red, nir, swir1, swir2)"; NULL: none
     * (docs/sensors.md, "One optical reference") */
    const char *harmonisation;
    const parus_radar_info *radar; /* Sentinel-1 tiles only; NULL otherwise */
} parus_tile_info;

typedef struct parus_tile_options {
    const char *band_map; /* "red=3,nir=4[,mask=5]": 1-based bands of a single file; NULL: auto */
    /* The band map is for generic tiles. A tile whose band names or metadata say an optical
     * sensor parus knows (Sentinel-2, Landsat, CBERS-4) would lose its mask and its scale under
     * one: false (a map the user gave for this tile) refuses it (E_BANDS), true (a map set for
     * every tile, as a configuration's) leaves such a tile to its own profile. */
    bool band_map_generic_only;
    const char *date; /* YYYY-MM-DD override; NULL: from metadata or the file name */
    bool native;      /* true: no band-pass adjustment (the sensor's own reflectance) */
    /* radar tiles whose metadata and names do not say it: "linear" or "db" (case-insensitive),
     * "sigma0", "gamma0" or "beta0"; NULL: from the tile, else the tile is refused (E_BANDS) */
    const char *radar_scale;
    const char *radar_coefficient;
} parus_tile_options;

typedef struct parus_tile parus_tile;

/* Open a tile: one path (a file, or a directory holding one file per band) or several paths (the
 * files of one scene). Errors: E_IO (cannot open), E_FORMAT (not a raster, corrupt header, grids
 * that do not nest), E_NO_CRS, E_NO_DATE, E_BANDS (no red and NIR found, unknown layout, a bad
 * band map). opt may be NULL. */
PARUS_API parus_status parus_tile_open(const char *const *paths, size_t n_paths,
                                       const parus_tile_options *opt, parus_tile **out,
                                       parus_error *err);
PARUS_API void parus_tile_free(parus_tile *tile);

/* Borrowed; valid while the tile lives. */
PARUS_API const parus_tile_info *parus_tile_get_info(const parus_tile *tile);
PARUS_API const parus_band_info *parus_tile_band(const parus_tile *tile, size_t i);
/* The band with this role, or NULL. */
PARUS_API const parus_band_info *parus_tile_find_role(const parus_tile *tile, parus_band_role role);
/* The files of the tile in a stable order (for hashing). */
PARUS_API const char *const *parus_tile_files(const parus_tile *tile, size_t *n_files);
/* The content fingerprint of the tile's files (256 bits, non-cryptographic: see util.c), in
 * parus_tile_files order, as 64 hex digits. The same bytes give the same value on any machine. */
PARUS_API parus_status parus_tile_content_hash(const parus_tile *tile, char hex[65],
                                               parus_error *err);

/* GDAL's block cache is process-wide and by default 5 % of the machine's memory. parus decodes
 * every block it needs once, straight into its own buffers, so the cache only adds memory (GDAL
 * still fills it with the other bands of pixel-interleaved files): set its size in bytes. The CLI
 * sets 16 MiB unless GDAL_CACHEMAX is in the environment. */
PARUS_API void parus_raster_set_cache_bytes(size_t bytes);

PARUS_API const char *parus_sensor_name(parus_sensor sensor);
PARUS_API const char *parus_role_name(parus_band_role role); /* "red", "nir", "scl", ... */
/* Map "red", "nir", "swir1", ... (case-insensitive) to a role; PARUS_ROLE_UNKNOWN if none. */
PARUS_API parus_band_role parus_role_from_name(const char *name);

/* One block of the grid, as read by a reader. Pointers are borrowed from the reader and valid
 * until its next read. Pixel (i, j) of the block is at index j * w + i. */
typedef struct parus_block {
    size_t index;             /* block index, row-major over n_blocks_x * n_blocks_y */
    size_t x0, y0, w, h;      /* window on the grid, in pixels */
    const float *const *band; /* band[k]: reflectance of the reader's k-th role; NaN = no value */
    const uint8_t *valid;     /* 1 where every requested band has a value and the mask says clear */
    const uint16_t *cls;      /* validity band raw value (SCL class, QA bits), or NULL */
    size_t n_valid;           /* number of 1s in valid */
} parus_block;

typedef struct parus_tile_reader parus_tile_reader;

/* A radar pixel's plausible range in linear power (docs/method.md §2): +30 dB, -50 dB. */
#define PARUS_RADAR_MAX_LINEAR 1000.0
#define PARUS_RADAR_MIN_LINEAR 1e-5

/* Whether the role is a value the reader can hand out: a spectral role, VV or VH. */
PARUS_API bool parus_role_is_value(parus_band_role role);

/* A reader for the given value roles (at least one; parus_role_is_value). Radar roles are read
 * as linear power whatever the file's scale; a radar pixel has no value where it is zero,
 * negative, NaN or infinite, above PARUS_RADAR_MAX_LINEAR (+30 dB) or below
 * PARUS_RADAR_MIN_LINEAR (-50 dB), or the layover/shadow mask says not usable. Opens its own GDAL
 * handles: create one per thread. Errors: E_BANDS when a role is missing from the tile, E_IO. */
PARUS_API parus_status parus_tile_reader_new(const parus_tile *tile, const parus_band_role *roles,
                                             size_t n_roles, parus_tile_reader **out,
                                             parus_error *err);
PARUS_API void parus_tile_reader_free(parus_tile_reader *reader);

/* Read block `index` (0 <= index < n_blocks_x * n_blocks_y). A pixel is invalid when any requested
 * band is nodata, NaN/infinite, or at its data type's saturation value (65535 for UInt16), or the
 * tile's validity band marks it as not clear. Errors: E_IO or E_FORMAT naming the file and the
 * block (a truncated or corrupt file), E_INVALID for an index out of range. */
PARUS_API parus_status parus_tile_reader_read(parus_tile_reader *reader, size_t index,
                                              parus_block *out, parus_error *err);

/* The reader's bands at some pixels of block `index` only: out[i * n_roles + k] is the reflectance
 * of the reader's k-th role at the pixel whose row-major offset in the block (its own width) is
 * read from (const char *)offset + i * offset_stride, NaN where the pixel has no value or the
 * validity band says not clear, by the rules of parus_tile_reader_read. For 8- and 16-bit bands on
 * the grid's own blocks only those pixels are converted (through per-DN tables from the decoded
 * native blocks), which is what a parcel pass wants when parcels cover a small share of a tile;
 * otherwise the whole block is read and the pixels picked. Errors as parus_tile_reader_read. */
PARUS_API parus_status parus_tile_reader_read_cells(parus_tile_reader *reader, size_t index,
                                                    const uint32_t *offset, size_t offset_stride,
                                                    size_t n, float *out, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

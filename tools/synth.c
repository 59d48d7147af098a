/*
 * synth.c - parus-synth, the synthetic scene generator: a season of Sentinel-2 L2A-style GeoTIFF
 * tiles over a smallholder landscape, the registered parcels in lon/lat, and the ground truth the
 * later stages are checked against. docs/synth.md describes every option, the model and the files.
 *
 * Workload: from a 256 x 256 test scene in a fraction of a second up to a full 10980 x 10980 tile
 * with 140,000 registered parcels among some 3.5 million fields. Choices and assumptions:
 * - The landscape is built whole, in memory, in pixel units (float vertices, about 120 bytes a
 *   field): a jittered lattice of blocks separated by roads; farmland blocks cut into strips and
 *   the strips into fields along straight, slanted or kinked cuts that neighbours share vertex for
 *   vertex, so fields never overlap. Registered parcels are a subset of the fields (a bank's
 *   customers), taken in runs of neighbouring fields, one run per farmer.
 * - The image is rendered in strips of one block row (up to 512 rows) so memory does not grow with
 *   the tile: a strip's features are rasterised once on a 4 x 4 sub-pixel grid with an even-odd
 *   scanline fill, each pixel becomes a short list of (feature, sub-pixel count), and each date
 *   mixes the features' reflectances by those counts (linear mixing: edge pixels are true
 *   mixtures). Every date's file gets the strip, then is flushed.
 * - Determinism: landscape decisions come from xoshiro256** streams seeded by splitmix64 from the
 *   seed; per-pixel draws (noise, texture, clouds) from a counter-based hash (the splitmix64
 *   finaliser) of seed, date and position, so no value depends on the order of work. Same seed and
 *   build: byte-identical outputs.
 * - Reflectance: a field's NDVI follows its crop's double-logistic curve built from the crop
 *   table's calendar, shifted and scaled per field; red and NIR are constructed to give exactly
 * that NDVI over a soil, paddy-water, residue or plastic background, and the other bands mix the
 * same endmembers by the green cover fraction.
 * - With --weather: daily weather grids for the season year and a climatology (a regional process
 *   perturbed per cell), the season's drought and heat wave, the canopy's response to a drought,
 *   and each parcel's harvest from a stated crop response to its canopy and weather. Its draws
 *   are streams and hashes of their own: with no event, every other output is as without it
 *   (but the radar's, whose soil wetness then follows the weather's rain).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "parus/crops.h"

/* The default crop table: the source tree's, wherever parus-synth is run from (CMake sets it). */
#ifndef PARUS_DEFAULT_TABLES_DIR
#define PARUS_DEFAULT_TABLES_DIR "data-samples"
#endif
#include "parus/error.h"

enum { RC_OK = 0, RC_FAIL = 1, RC_USAGE = 2, RC_UNREADABLE = 3, RC_CONFIG = 7 };

#define SS 4                       /* sub-pixels per pixel side */
#define RES_M 10.0                 /* pixel size */
#define M2_PER_MU (10000.0 / 15.0) /* 1 mu */
#define LATTICE_PX 40.0            /* mean block pitch, roads included (400 m) */
#define CHUNK_ROWS 8               /* pixel rows rasterised at a time */
#define CLOUD_STEP 4               /* cloud fields are evaluated every 4 px and interpolated */
#define UNPLANTED_BIT 0x80000000u  /* label flag: the unplanted side of a field */
#define MAX_SIZE 10980
#define MIN_SIZE 64
#define MAX_DATES 400
#define PI 3.14159265358979323846

enum band { B02, B03, B04, B08, B11, B12, SCL, N_BANDS };
#define N_SPEC 6
static const char *const band_names[N_BANDS] = {"B02", "B03", "B04", "B08", "B11", "B12", "SCL"};
static const char *const band_long[N_BANDS] = {
    "B02 blue 490nm",   "B03 green 560nm",  "B04 red 665nm",           "B08 nir 842nm",
    "B11 swir1 1610nm", "B12 swir2 2190nm", "SCL scene classification"};

/* SCL classes written (Sen2Cor's numbering) */
enum {
    SCL_SHADOW = 3,
    SCL_VEG = 4,
    SCL_SOIL = 5,
    SCL_WATER = 6,
    SCL_CLOUD_MED = 8,
    SCL_CLOUD_HIGH = 9,
    SCL_CIRRUS = 10
};

enum ftype { F_FIELD, F_VILLAGE, F_POND, F_TREES, F_GRASS, F_GRAVE };
enum shape { SH_STRIP, SH_IRREGULAR, SH_CONCAVE, SH_HOLED, SH_SUB_PIXEL, SH_INVALID };
static const char *const shape_names[] = {"strip", "irregular", "concave",
                                          "holed", "sub_pixel", "invalid"};
enum bkind { BK_FARM, BK_VILLAGE, BK_POND, BK_TREES };
/* how a registry geometry is broken: two corners swapped (a bow-tie, which a reader can repair)
 * or the ring collapsed onto one edge (zero area: nothing to repair) */
enum defect { DEF_NONE, DEF_BOW_TIE, DEF_COLLAPSED };
static const char *const defect_names[] = {"", "bow_tie", "collapsed"};

/* Endmember reflectances, bands B02 B03 B04 B08 B11 B12: typical values for North China Plain
 * loess soil, a closed green canopy, dry crop residue, turbid pond water, greenhouse plastic,
 * an earth/asphalt road, village roofs and thick cumulus. */
static const double EM_SOIL[N_SPEC] = {0.090, 0.120, 0.150, 0.205, 0.300, 0.250};
static const double EM_VEG[N_SPEC] = {0.030, 0.070, 0.028, 0.450, 0.220, 0.100};
static const double EM_RESIDUE[N_SPEC] = {0.080, 0.110, 0.140, 0.250, 0.360, 0.270};
static const double EM_WATER[N_SPEC] = {0.065, 0.075, 0.055, 0.030, 0.012, 0.008};
static const double EM_PLASTIC[N_SPEC] = {0.200, 0.220, 0.230, 0.300, 0.290, 0.230};
static const double EM_ROAD[N_SPEC] = {0.110, 0.130, 0.150, 0.190, 0.250, 0.220};
static const double EM_ROOF[N_SPEC] = {0.100, 0.120, 0.170, 0.220, 0.270, 0.240};
static const double EM_CLOUD[N_SPEC] = {0.450, 0.440, 0.450, 0.480, 0.380, 0.280};
static const double EM_CIRRUS[N_SPEC] = {0.050, 0.045, 0.040, 0.035, 0.030, 0.025};
/* Sensor noise: shot-noise limited, sigma = sqrt(reflectance * 0.25) / SNR, with signal-to-noise
 * ratios near Sentinel-2's in-flight figures at a reflectance of 0.25 (better than the mission
 * requirement: B02 154, B03 168, B04 142, B08 174, B11 and B12 100). */
static const double SNR_AT_025[N_SPEC] = {200, 210, 180, 220, 150, 150};

/* ---- random numbers ---- */

static uint64_t splitmix_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t hash64(uint64_t x)
{
    return splitmix_next(&x);
}

static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    return hash64(a ^ hash64(b ^ hash64(c)));
}

static double hash_unit(uint64_t h)
{
    return (double)(h >> 11) * 0x1.0p-53;
}

/* Irwin-Hall sum of four 16-bit uniforms, scaled to unit variance: a cheap near-normal draw. */
static double hash_normal(uint64_t h)
{
    double s = (double)(h & 0xffff) + (double)((h >> 16) & 0xffff) + (double)((h >> 32) & 0xffff) +
               (double)(h >> 48);
    return (s / 65535.0 - 2.0) * 1.7320508075688772;
}

struct rng {
    uint64_t s[4];
};

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t st = seed ^ hash64(stream * 0x632be59bd9b4e019ULL + 1);
    int i;
    for (i = 0; i < 4; i++)
        r->s[i] = splitmix_next(&st);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_range(struct rng *r, double a, double b)
{
    return a + (b - a) * rng_unit(r);
}

static size_t rng_below(struct rng *r, size_t n)
{
    size_t k = (size_t)(rng_unit(r) * (double)n);
    return k < n ? k : n - 1;
}

static double rng_normal(struct rng *r)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- smooth noise (value noise, fractal sums) ---- */

static double lattice_value(uint64_t seed, int64_t ix, int64_t iy)
{
    return hash_unit(hash3(seed, (uint64_t)ix, (uint64_t)iy));
}

static double value_noise(uint64_t seed, double x, double y)
{
    double fx = floor(x), fy = floor(y), tx = x - fx, ty = y - fy;
    int64_t ix = (int64_t)fx, iy = (int64_t)fy;
    double sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
    double a = lattice_value(seed, ix, iy), b = lattice_value(seed, ix + 1, iy);
    double c = lattice_value(seed, ix, iy + 1), d = lattice_value(seed, ix + 1, iy + 1);
    return (a + (b - a) * sx) + ((c + (d - c) * sx) - (a + (b - a) * sx)) * sy;
}

static double fbm(uint64_t seed, double x, double y, double wavelength, int octaves)
{
    double sum = 0, amp = 1, norm = 0;
    int o;
    for (o = 0; o < octaves; o++) {
        sum += amp * value_noise(seed + (uint64_t)o * 7919, x / wavelength, y / wavelength);
        norm += amp;
        amp *= 0.5;
        wavelength *= 0.5;
    }
    return sum / norm;
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool parse_date(const char *s, int64_t *days)
{
    int y, m, d, y2, m2, d2;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1900 || y > 2200 || m < 1 ||
        m > 12 || d < 1 || d > 31)
        return false;
    *days = days_from_civil(y, m, d);
    civil_from_days(*days, &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == d;
}

static void format_date(int64_t days, char out[11], bool compact)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, compact ? "%04d%02d%02d" : "%04d-%02d-%02d", y, m, d);
}

/* ---- options ---- */

enum tri { TRI_AUTO, TRI_YES, TRI_NO };

struct options {
    const char *out_dir;
    const char *crops_path;
    int size;
    int n_dates;
    long n_parcels; /* -1: auto */
    uint64_t seed;
    int year;
    int epsg;
    double origin_lon_deg, origin_lat_deg;
    double clouds;
    bool cloud_mean; /* --cloud-model mean: per-date covers whose mean over the dates is --clouds */
    bool radar;      /* --radar: Sentinel-1 tiles beside the optical ones */
    double radar_looks;
    int radar_revisit_days;
    double glitches; /* share of (parcel, date) observations given an artefact the mask misses */
    bool weather;    /* --weather: daily weather grids, weather events, harvests */
    int weather_years;
    double weather_res_deg;
    int drought, heatwave, frost, waterlog; /* enum tri */
    unsigned band_mask;
    bool truth;
    bool gpkg;
    bool have_start;
    int64_t start_days;
    int step_days;
    int deflate_level;
    bool quiet;
};

static void usage(FILE *f)
{
    fputs(
        "usage: parus-synth --out DIR [options]\n"
        "\n"
        "Writes a synthetic season of Sentinel-2 L2A-style tiles (one multi-band GeoTIFF per\n"
        "date), the registered parcels in lon/lat, and the ground truth (DIR/truth/).\n"
        "\n"
        "  --out DIR               output directory (created if missing)\n"
        "  --size N                image width and height in 10 m pixels, 64..10980 [512]\n"
        "  --dates N               number of acquisition dates, 1..400 [12]\n"
        "  --start YYYY-MM-DD      first date [spread from 5 March to 31 October]\n"
        "  --step DAYS             days between dates, 1..366 [from the spread, a multiple of 5]\n"
        "  --parcels N|auto        registered parcels [auto: one per 850 px]\n"
        "  --seed N                random seed, 0..2^64-1 [42]\n"
        "  --crops FILE            crop table [the source tree's data-samples/crops.csv]\n"
        "  --year YYYY             season year [2024]\n"
        "  --epsg CODE             projected CRS of the tiles, metres [32650]\n"
        "  --origin LON,LAT        upper-left corner, degrees [114.5,36.5]\n"
        "  --clouds F              cloud level, 0..0.6 (legacy) or 0..0.95 (mean) [0.2]\n"
        "  --cloud-model M         legacy (dates capped at 60 %, 30 % clear: the mean cover\n"
        "                          is below F) or mean (the dates' mean cover is F, dates\n"
        "                          may be fully covered) [legacy]\n"
        "  --radar                 also write Sentinel-1 IW sigma0 tiles (VV, VH, ANGLE) on the\n"
        "                          same truth; truth/radar_dates.csv\n"
        "  --radar-looks L         equivalent number of looks of the speckle, 1..50 [4.4]\n"
        "  --radar-revisit N       days between radar dates, 6 or 12 [12]\n"
        "  --glitches F            share of parcel-dates given an artefact the cloud mask\n"
        "                          misses (haze, band gain), 0..0.2 [0]; truth/glitches.csv\n"
        "  --weather               also write daily weather grids (DIR/weather/), weather events\n"
        "                          and harvests (truth/weather_events.csv, truth/harvests.csv)\n"
        "  --weather-years N       previous years of weather as a climatology, 0..30 [10]\n"
        "  --weather-res DEG       weather cell size in degrees, 0.02..0.5 [0.05]\n"
        "  --drought auto|yes|no   a drought in the season (auto: probability 0.3) [auto]\n"
        "  --heatwave auto|yes|no  a summer heat wave (auto: probability 0.3) [auto]\n"
        "  --frost auto|yes|no     a late spring frost (auto: probability 0.3) [no]\n"
        "  --waterlog auto|yes|no  a summer rainstorm that waterlogs poorly drained fields\n"
        "                          (auto: probability 0.3) [no]\n"
        "  --bands LIST            bands to write, from B02,B03,B04,B08,B11,B12,SCL [all]\n"
        "  --parcels-format F      geojson or gpkg [geojson]\n"
        "  --deflate-level N       DEFLATE effort for the tiles, 1..12 (10-12: slow, smaller) [6]\n"
        "  --no-truth              do not write DIR/truth/\n"
        "  --quiet                 no progress or summary\n"
        "  --help                  this text\n"
        "\n"
        "Exit status: 0 done, 1 failure, 2 bad command line, 3 crop table unreadable,\n"
        "7 crop table invalid. See docs/synth.md.\n",
        f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("parus-synth: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'parus-synth --help'.\n", stderr);
    return RC_USAGE;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_bands(const char *s, unsigned *mask)
{
    char **items = CSLTokenizeString2(s, ",", 0);
    int i, n = CSLCount(items), b;
    unsigned m = 0;
    for (i = 0; i < n; i++) {
        for (b = 0; b < N_BANDS; b++)
            if (EQUAL(items[i], band_names[b]))
                break;
        if (b == N_BANDS || (m & (1u << b))) {
            CSLDestroy(items);
            return false;
        }
        m |= 1u << b;
    }
    CSLDestroy(items);
    if (!m)
        return false;
    *mask = m;
    return true;
}

/* Returns RC_OK, or an exit status; *done is set after --help. */
/* The weather event option called name (--drought, --heatwave, --frost, --waterlog), its
 * spelling into *canon; NULL (canon untouched) for any other name. */
static int *tri_option(struct options *o, const char *name, const char **canon)
{
    static const char *const names[] = {"--drought", "--heatwave", "--frost", "--waterlog"};
    int *const slots[] = {&o->drought, &o->heatwave, &o->frost, &o->waterlog};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *canon = names[i];
            return slots[i];
        }
    return NULL;
}

static int parse_options(int argc, char **argv, struct options *o, bool *done)
{
    int i;
    const char *weather_opt = NULL; /* a weather option given, for the check that --weather is */
    memset(o, 0, sizeof *o);
    o->crops_path = PARUS_DEFAULT_TABLES_DIR "/crops.csv";
    o->size = 512;
    o->n_dates = 12;
    o->n_parcels = -1;
    o->seed = 42;
    o->year = 2024;
    o->epsg = 32650;
    o->origin_lon_deg = 114.5;
    o->origin_lat_deg = 36.5;
    o->clouds = 0.2;
    o->radar_looks = 4.4;
    o->radar_revisit_days = 12;
    o->weather_years = 10;
    o->weather_res_deg = 0.05;
    o->frost = TRI_NO; /* off unless asked: the seasons made before stay the same */
    o->waterlog = TRI_NO;
    o->band_mask = (1u << N_BANDS) - 1;
    o->truth = true;
    o->deflate_level = 6;
    *done = false;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[32];
        const char *eq = strchr(a, '=');
        long lv;
        int *tri;
        if (strncmp(a, "--", 2) != 0)
            return usage_error("unexpected argument '%s'", a);
        if (eq) {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof name)
                return usage_error("unknown option '%s'", a);
            memcpy(name, a, n);
            name[n] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        if (strcmp(name, "--help") == 0) {
            usage(stdout);
            *done = true;
            return RC_OK;
        }
        if (strcmp(name, "--radar") == 0 || strcmp(name, "--weather") == 0) {
            if (val)
                return usage_error("option '%s' takes no value", name);
            if (name[2] == 'r')
                o->radar = true;
            else
                o->weather = true;
            continue;
        }
        if (strcmp(name, "--no-truth") == 0 || strcmp(name, "--quiet") == 0) {
            if (val)
                return usage_error("option '%s' takes no value", name);
            if (name[2] == 'n')
                o->truth = false;
            else
                o->quiet = true;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs a value", name);
            val = argv[++i];
        }
        if (strcmp(name, "--out") == 0) {
            o->out_dir = val;
        } else if (strcmp(name, "--crops") == 0) {
            o->crops_path = val;
        } else if (strcmp(name, "--size") == 0) {
            if (!parse_long(val, MIN_SIZE, MAX_SIZE, &lv))
                return usage_error("--size must be a whole number of pixels in 64..10980, not '%s'",
                                   val);
            o->size = (int)lv;
        } else if (strcmp(name, "--dates") == 0) {
            if (!parse_long(val, 1, MAX_DATES, &lv))
                return usage_error("--dates must be in 1..400, not '%s'", val);
            o->n_dates = (int)lv;
        } else if (strcmp(name, "--start") == 0) {
            if (!parse_date(val, &o->start_days))
                return usage_error("--start must be a date YYYY-MM-DD, not '%s'", val);
            o->have_start = true;
        } else if (strcmp(name, "--step") == 0) {
            if (!parse_long(val, 1, 366, &lv))
                return usage_error("--step must be days in 1..366, not '%s'", val);
            o->step_days = (int)lv;
        } else if (strcmp(name, "--parcels") == 0) {
            if (strcmp(val, "auto") == 0)
                o->n_parcels = -1;
            else if (!parse_long(val, 1, 100000000L, &o->n_parcels))
                return usage_error("--parcels must be a positive count or 'auto', not '%s'", val);
        } else if (strcmp(name, "--seed") == 0) {
            char *end;
            unsigned long long s;
            errno = 0;
            s = strtoull(val, &end, 10);
            if (end == val || *end != '\0' || errno != 0 || val[0] == '-')
                return usage_error("--seed must be a whole number in 0..2^64-1, not '%s'", val);
            o->seed = (uint64_t)s;
        } else if (strcmp(name, "--year") == 0) {
            if (!parse_long(val, 1970, 2100, &lv))
                return usage_error("--year must be in 1970..2100, not '%s'", val);
            o->year = (int)lv;
        } else if (strcmp(name, "--epsg") == 0) {
            if (!parse_long(val, 1024, 999999, &lv))
                return usage_error("--epsg must be an EPSG code, not '%s'", val);
            o->epsg = (int)lv;
        } else if (strcmp(name, "--origin") == 0) {
            char **xy = CSLTokenizeString2(val, ",", 0);
            bool ok = CSLCount(xy) == 2 && parse_double(xy[0], -180, 180, &o->origin_lon_deg) &&
                      parse_double(xy[1], -80, 84, &o->origin_lat_deg);
            CSLDestroy(xy);
            if (!ok)
                return usage_error("--origin must be LON,LAT in degrees, not '%s'", val);
        } else if (strcmp(name, "--clouds") == 0) {
            if (!parse_double(val, 0, 0.95, &o->clouds))
                return usage_error("--clouds must be a fraction in 0..0.95, not '%s'", val);
        } else if (strcmp(name, "--radar-looks") == 0) {
            if (!parse_double(val, 1, 50, &o->radar_looks))
                return usage_error("--radar-looks must be in 1..50, not '%s'", val);
        } else if (strcmp(name, "--radar-revisit") == 0) {
            if (strcmp(val, "6") != 0 && strcmp(val, "12") != 0)
                return usage_error("--radar-revisit must be 6 or 12 days, not '%s'", val);
            o->radar_revisit_days = val[0] == '6' ? 6 : 12;
        } else if (strcmp(name, "--cloud-model") == 0) {
            if (strcmp(val, "legacy") != 0 && strcmp(val, "mean") != 0)
                return usage_error("--cloud-model must be 'legacy' or 'mean', not '%s'", val);
            o->cloud_mean = strcmp(val, "mean") == 0;
        } else if (strcmp(name, "--glitches") == 0) {
            if (!parse_double(val, 0, 0.2, &o->glitches))
                return usage_error("--glitches must be a fraction in 0..0.2, not '%s'", val);
        } else if (strcmp(name, "--weather-years") == 0) {
            if (!parse_long(val, 0, 30, &lv))
                return usage_error("--weather-years must be in 0..30, not '%s'", val);
            o->weather_years = (int)lv;
            weather_opt = "--weather-years";
        } else if (strcmp(name, "--weather-res") == 0) {
            if (!parse_double(val, 0.02, 0.5, &o->weather_res_deg))
                return usage_error("--weather-res must be degrees in 0.02..0.5, not '%s'", val);
            weather_opt = "--weather-res";
        } else if ((tri = tri_option(o, name, &weather_opt)) != NULL) {
            int t = strcmp(val, "auto") == 0  ? TRI_AUTO
                    : strcmp(val, "yes") == 0 ? TRI_YES
                    : strcmp(val, "no") == 0  ? TRI_NO
                                              : -1;
            if (t < 0)
                return usage_error("%s must be auto, yes or no, not '%s'", name, val);
            *tri = t;
        } else if (strcmp(name, "--bands") == 0) {
            if (!parse_bands(val, &o->band_mask))
                return usage_error("--bands must list distinct bands from "
                                   "B02,B03,B04,B08,B11,B12,SCL, not '%s'",
                                   val);
        } else if (strcmp(name, "--deflate-level") == 0) {
            if (!parse_long(val, 1, 12, &lv))
                return usage_error("--deflate-level must be in 1..12, not '%s'", val);
            o->deflate_level = (int)lv;
        } else if (strcmp(name, "--parcels-format") == 0) {
            if (strcmp(val, "geojson") == 0)
                o->gpkg = false;
            else if (strcmp(val, "gpkg") == 0)
                o->gpkg = true;
            else
                return usage_error("--parcels-format must be geojson or gpkg, not '%s'", val);
        } else {
            return usage_error("unknown option '%s'", name);
        }
    }
    if (!o->out_dir)
        return usage_error("%s", "--out DIR is required");
    if (weather_opt && !o->weather)
        return usage_error("%s needs --weather", weather_opt);
    if (!o->cloud_mean && o->clouds > 0.6)
        return usage_error("--clouds above 0.6 needs --cloud-model mean, not %g", o->clouds);
    return RC_OK;
}

/* ---- crop models: the table's calendar as double-logistic curves ---- */

struct cycle_model {
    double s, p, h; /* sowing, peak, harvest: days of year, unwrapped so that s <= p < h */
    double tu, ku;  /* green-up midpoint and width */
    double td, kd;  /* senescence midpoint and width */
    double norm;    /* shape value at the peak */
};

struct crop_model {
    const parus_crop *crop;
    int n_cycles;
    struct cycle_model cy[2];
    double base, peak;
    bool cut_at_harvest; /* annual and covered crops are removed at harvest */
    bool paddy;          /* rice: flooded soil from transplanting to late season */
    double weight;       /* share among fields */
};

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static double cycle_shape_raw(const struct cycle_model *m, double t)
{
    return sigmoid((t - m->tu) / m->ku) * sigmoid(-(t - m->td) / m->kd);
}

/* Green-up is half done halfway from sowing to the peak, but never more than 45 days (annuals)
 * or 75 days (perennials) before the peak: winter wheat sown in October greens up in March, not
 * in January. Senescence is half done at 65 % of the way from the peak to harvest. */
static void cycle_build(struct cycle_model *m, int sow, int peak, int harvest, bool perennial)
{
    double lead = perennial ? 75.0 : 45.0;
    m->s = sow;
    m->p = peak;
    m->h = harvest;
    if (m->p < m->s)
        m->p += 365;
    if (m->h <= m->p)
        m->h += 365;
    m->tu = fmax(m->s + 0.5 * (m->p - m->s), m->p - lead);
    m->ku = fmax(2.0, (m->p - m->tu) / 4.0);
    m->td = m->h - 0.35 * (m->h - m->p);
    m->kd = fmax(2.0, (m->td - m->p) / 3.0);
    m->norm = cycle_shape_raw(m, m->p);
}

static double cycle_shape(const struct cycle_model *m, double t, bool cut)
{
    double v = cycle_shape_raw(m, t) / m->norm;
    if (cut && t > m->h)
        v *= exp(-(t - m->h) / 4.0);
    return v;
}

static void model_simple(struct crop_model *cm, double base, double peak, int s, int p, int h)
{
    memset(cm, 0, sizeof *cm);
    cm->n_cycles = 1;
    cycle_build(&cm->cy[0], s, p, h, true);
    cm->base = base;
    cm->peak = peak;
}

static double default_weight(const char *code)
{
    static const struct {
        const char *code;
        double w;
    } w[] = {{"wheat_maize", 26}, {"winter_wheat", 8}, {"summer_maize", 8}, {"spring_maize", 5},
             {"cotton", 6},       {"peanut", 6},       {"soybean", 5},      {"vegetables", 7},
             {"greenhouse", 4},   {"orchard", 5},      {"potato", 3},       {"single_rice", 3},
             {"double_rice", 2},  {"rapeseed", 3},     {"sugarcane", 2},    {"tea", 2}};
    size_t i;
    for (i = 0; i < sizeof w / sizeof w[0]; i++)
        if (strcmp(w[i].code, code) == 0)
            return w[i].w;
    return 3;
}

static void model_from_crop(struct crop_model *cm, const parus_crop *c)
{
    int i;
    bool perennial = c->kind == PARUS_CROP_PERENNIAL || c->kind == PARUS_CROP_NONCROP;
    memset(cm, 0, sizeof *cm);
    cm->crop = c;
    cm->base = c->ndvi_base;
    cm->peak = c->ndvi_peak;
    cm->cut_at_harvest = c->kind == PARUS_CROP_ANNUAL || c->kind == PARUS_CROP_COVERED;
    cm->paddy = strstr(c->code, "rice") != NULL;
    cm->weight = default_weight(c->code);
    if (c->n_cycles == 0) {
        /* fallow land: weeds come up over summer */
        cm->n_cycles = 1;
        cycle_build(&cm->cy[0], 120, 210, 290, true);
        return;
    }
    cm->n_cycles = c->n_cycles;
    for (i = 0; i < c->n_cycles && i < 2; i++)
        cycle_build(&cm->cy[i], c->cycle[i].sow_doy, c->cycle[i].peak_doy, c->cycle[i].harvest_doy,
                    perennial);
}

struct curve_eval {
    double ndvi;
    double t_local; /* t in the winning cycle's unwrapped frame */
    int cycle;
    bool senescing;   /* past the peak */
    bool flooded;     /* paddy water under the canopy */
    double harvest_t; /* calendar day (season frame) of this cycle instance's harvest */
};

static void curve_eval(const struct crop_model *cm, double base, double amp, double jitter_days,
                       double t, struct curve_eval *ev)
{
    double best = 0, best_tl = t, best_sh = 0;
    int c, k, best_c = 0;
    for (c = 0; c < cm->n_cycles; c++)
        for (k = -1; k <= 1; k++) {
            double tl = t - jitter_days + 365.0 * k;
            double v = cycle_shape(&cm->cy[c], tl, cm->cut_at_harvest);
            if (v > best) {
                best = v;
                best_c = c;
                best_tl = tl;
                best_sh = 365.0 * k;
            }
        }
    ev->ndvi = base + amp * best;
    ev->cycle = best_c;
    ev->t_local = best_tl;
    ev->senescing = best_tl > cm->cy[best_c].p;
    ev->flooded = cm->paddy && best_tl >= cm->cy[best_c].s - 10 && best_tl <= cm->cy[best_c].h - 25;
    ev->harvest_t = cm->cy[best_c].h + jitter_days - best_sh;
}

/* ---- the scene ---- */

struct vtx {
    float x, y; /* pixel units: x right, y down, (0,0) the upper-left corner */
};

struct feature {
    float bx0, by0, bx1, by1; /* bounding box, px */
    uint32_t ring0;           /* first ring in ring_off */
    uint16_t n_rings;
    uint8_t type;  /* enum ftype */
    uint8_t crop;  /* index into crop models (fields) */
    uint8_t shape; /* enum shape (fields) */
    uint8_t tiny;  /* carved sub-pixel plot */
    uint8_t split; /* planted part bounded by a half-plane */
    uint8_t pad;
    float sow_jitter_days, pf;    /* sowing shift; planted fraction */
    float hp_nx, hp_ny, hp_c;     /* planted where nx*x + ny*y >= c */
    float peak_scale, base_shift; /* field-to-field variation of the curve */
    float soil_gain, veg_gain;    /* soil brightness, canopy NIR */
    int32_t parcel;               /* registered parcel, or -1 */
};

struct block {
    uint32_t f0, f1; /* features [f0, f1) */
    float by0, by1;  /* rows covered */
    uint32_t village;
    uint8_t kind;
};

struct parcel {
    uint32_t feature;
    uint32_t farmer;
    double area_m2;
    double declared_mu;
    int shape;
    bool invalid;
    int defect;                         /* enum defect */
    int flood_first, flood_last;        /* optical date indices under water, -1 none */
    double flood_m;                     /* share of the parcel's area under water */
    int64_t flood_day0, flood_day1;     /* the days under water (first, last) */
    double flood_nx, flood_ny, flood_c; /* under water where nx*x + ny*y >= c (px) */
    int loss_date;                      /* date index, -1 none */
    double loss_m, loss_end_t;
};

struct date_info {
    int64_t days;
    double doy;   /* day of the season year, may exceed 365 */
    double cover; /* drawn cloud cover */
    double cloud_thr, cirrus_thr;
    double shadow_dx, shadow_dy;
    double gain[N_SPEC]; /* per-band atmospheric residual */
    double cloud_bright;
    size_t n_cloud, n_shadow, n_cirrus;
    char name[160];
    const char *spacecraft;
};

/* A cycle's canopy summed day by day, for the drought's stress (rainfed crops). */
struct canopy_days {
    double tau0; /* cycle-frame day of g[0] */
    size_t n;
    double *g; /* g[j]: the cycle's shape summed over the days before tau0 + j */
};

/* The daily weather of --weather (docs/synth.md, "Weather and harvests"): one regional series
 * per day with the season year's events applied, the grid the files cover, the events. */
struct weather {
    int year0;    /* first calendar year: the season year less --weather-years */
    int64_t day0; /* 1 January of year0, days since 1970 */
    int64_t jan1; /* 1 January of the season year */
    size_t n_days;
    double *rain_mm, *tmax_c, *tmin_c; /* regional series */
    double res_deg;
    int64_t ix0, iy0; /* global indices (floor(lon / res), floor(lat / res)) of the west column
                         and the south row */
    size_t nx, ny;
    size_t n_crops;
    int64_t *parcel_ix, *parcel_iy; /* each registered parcel's cell */
    struct canopy_days *canopy;     /* [crop * 2 + cycle], rainfed crops only */
    bool drought, heatwave;
    int d0, d1;     /* drought window, days of the season year (both included) */
    double deficit; /* 1 - the window's regional rain / the rain it would have had */
    int h0, h1;     /* heat wave, days of the season year */
    double heat_tmax_c, heat_tmin_c;
    bool frost;
    int f0, f1;          /* late frost, days of the season year */
    double frost_tmin_c; /* the regional minimum it brings each night */
    bool waterlog;
    int w0, w1;         /* the waterlogging rainstorm, days of the season year */
    double waterlog_mm; /* the regional rain it adds over those days */
};

struct scene {
    const struct options *opt;
    size_t W, H;
    double ox_m, oy_m; /* upper-left corner in the tile CRS */
    char mgrs[8];
    parus_crop_table table;
    struct crop_model *crops;
    size_t n_crops;
    int fallow; /* model index of the noncrop row, -1 none */
    struct crop_model m_trees, m_grass;

    struct vtx *v;
    size_t n_v, cap_v;
    uint32_t *ring_off; /* ring r: vertices [ring_off[r], ring_off[r+1]) */
    size_t n_rings, cap_rings;
    struct feature *f;
    size_t n_f, cap_f;
    struct block *blocks;
    size_t nbx, nby;
    float *lrow_y0, *lrow_y1; /* rows covered per lattice row */
    size_t max_ring_v;        /* most vertices in one feature */

    struct parcel *parcels;
    size_t n_parcels;
    int32_t *feat_parcel; /* per feature: the registered parcel on it, -1 none (--glitches) */
    size_t n_farmers;
    size_t n_fields;
    uint8_t *farmer_over; /* over-declaring farmers */

    struct date_info *dates;
    int n_dates;

    struct weather *wx; /* --weather, else NULL */
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t new_cap, bytes;
    void *q;
    if (need <= *cap)
        return true;
    new_cap = *cap ? *cap : 1024;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2)
            return false;
        new_cap *= 2;
    }
    if (new_cap > SIZE_MAX / elem)
        return false;
    bytes = new_cap * elem;
    q = realloc(*p, bytes);
    if (!q)
        return false;
    *p = q;
    *cap = new_cap;
    return true;
}

static bool feature_begin(struct scene *sc, enum ftype type)
{
    struct feature *f;
    if (!grow((void **)&sc->f, &sc->cap_f, sc->n_f + 1, sizeof *sc->f))
        return false;
    if (sc->n_rings > UINT32_MAX - 2 || sc->n_f >= (size_t)INT32_MAX)
        return false;
    f = &sc->f[sc->n_f];
    memset(f, 0, sizeof *f);
    f->type = (uint8_t)type;
    f->ring0 = (uint32_t)sc->n_rings;
    f->parcel = -1;
    f->pf = 1.0f;
    f->peak_scale = 1.0f;
    f->soil_gain = 1.0f;
    f->veg_gain = 1.0f;
    f->bx0 = f->by0 = 1e30f;
    f->bx1 = f->by1 = -1e30f;
    return true;
}

static bool feature_ring(struct scene *sc, const double *xs, const double *ys, size_t n)
{
    struct feature *f = &sc->f[sc->n_f];
    size_t i;
    if (!grow((void **)&sc->v, &sc->cap_v, sc->n_v + n, sizeof *sc->v) ||
        !grow((void **)&sc->ring_off, &sc->cap_rings, sc->n_rings + 2, sizeof *sc->ring_off) ||
        sc->n_v + n > UINT32_MAX)
        return false;
    if (f->n_rings == 0)
        sc->ring_off[sc->n_rings] = (uint32_t)sc->n_v;
    for (i = 0; i < n; i++) {
        float x = (float)xs[i], y = (float)ys[i];
        sc->v[sc->n_v + i].x = x;
        sc->v[sc->n_v + i].y = y;
        if (x < f->bx0)
            f->bx0 = x;
        if (x > f->bx1)
            f->bx1 = x;
        if (y < f->by0)
            f->by0 = y;
        if (y > f->by1)
            f->by1 = y;
    }
    sc->n_v += n;
    sc->n_rings++;
    sc->ring_off[sc->n_rings] = (uint32_t)sc->n_v;
    f->n_rings++;
    return true;
}

static void feature_end(struct scene *sc)
{
    struct feature *f = &sc->f[sc->n_f];
    size_t nv = sc->ring_off[f->ring0 + f->n_rings] - sc->ring_off[f->ring0];
    if (nv > sc->max_ring_v)
        sc->max_ring_v = nv;
    sc->n_f++;
}

static size_t ring_begin(const struct scene *sc, size_t r)
{
    return sc->ring_off[r];
}

static size_t ring_end(const struct scene *sc, size_t r)
{
    return sc->ring_off[r + 1];
}

/* Shoelace area of ring r in px^2 (positive when clockwise on screen, i.e. counter-clockwise
 * with y up). */
static double ring_area_px(const struct scene *sc, size_t r)
{
    size_t a = ring_begin(sc, r), b = ring_end(sc, r), i;
    double s = 0;
    for (i = a; i < b; i++) {
        const struct vtx *p = &sc->v[i], *q = &sc->v[i + 1 < b ? i + 1 : a];
        s += (double)p->x * (double)q->y - (double)q->x * (double)p->y;
    }
    return 0.5 * s;
}

static double feature_area_m2(const struct scene *sc, const struct feature *f)
{
    double a = fabs(ring_area_px(sc, f->ring0));
    uint32_t r;
    for (r = 1; r < f->n_rings; r++)
        a -= fabs(ring_area_px(sc, f->ring0 + r));
    return a * RES_M * RES_M;
}

/* ---- landscape: lattice, blocks, strips, fields ---- */

struct quad {
    double x[4], y[4]; /* A (u0,v0), B (u0,v1), C (u1,v1), D (u1,v0) */
};

static void quad_map(const struct quad *q, double u, double v, double *x, double *y)
{
    double a = (1 - u) * (1 - v), b = (1 - u) * v, c = u * v, d = u * (1 - v);
    *x = a * q->x[0] + b * q->x[1] + c * q->x[2] + d * q->x[3];
    *y = a * q->y[0] + b * q->y[1] + c * q->y[2] + d * q->y[3];
}

static double quad_len(const struct quad *q, double u0, double v0, double u1, double v1)
{
    double x0, y0, x1, y1;
    quad_map(q, u0, v0, &x0, &y0);
    quad_map(q, u1, v1, &x1, &y1);
    return hypot(x1 - x0, y1 - y0) * RES_M;
}

/* Moves each edge of a convex quad (corners in ring order) inward by d[k] px (edge k joins corner
 * k to k+1); the new corners are where neighbouring moved edges meet. */
static void quad_inset(double *x, double *y, const double *d)
{
    double nx[4], ny[4], px[4], py[4], area = 0;
    double ox[4], oy[4];
    int k;
    for (k = 0; k < 4; k++)
        area += x[k] * y[(k + 1) % 4] - x[(k + 1) % 4] * y[k];
    for (k = 0; k < 4; k++) {
        double ex = x[(k + 1) % 4] - x[k], ey = y[(k + 1) % 4] - y[k], len = hypot(ex, ey);
        /* inward normal: left of the edge when the ring turns left */
        nx[k] = (area > 0 ? -ey : ey) / len;
        ny[k] = (area > 0 ? ex : -ex) / len;
        px[k] = x[k] + nx[k] * d[k];
        py[k] = y[k] + ny[k] * d[k];
    }
    for (k = 0; k < 4; k++) {
        int j = (k + 3) % 4; /* the edge before corner k */
        double dxj = x[(j + 1) % 4] - x[j], dyj = y[(j + 1) % 4] - y[j];
        double dxk = x[(k + 1) % 4] - x[k], dyk = y[(k + 1) % 4] - y[k];
        double den = dxj * dyk - dyj * dxk, t;
        if (fabs(den) < 1e-12) {
            ox[k] = px[k];
            oy[k] = py[k];
            continue;
        }
        t = ((px[k] - px[j]) * dyk - (py[k] - py[j]) * dxk) / den;
        ox[k] = px[j] + t * dxj;
        oy[k] = py[j] + t * dyj;
    }
    for (k = 0; k < 4; k++) {
        x[k] = ox[k];
        y[k] = oy[k];
    }
}

/* A cut across a strip, from u0 to u1, as 2 or 3 points in (u, v). */
struct cut {
    int n;
    double u[3], v[3];
};

static bool ring_convex(const double *x, const double *y, size_t n)
{
    int sign = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        size_t j = (i + 1) % n, k = (i + 2) % n;
        double cr = (x[j] - x[i]) * (y[k] - y[j]) - (y[j] - y[i]) * (x[k] - x[j]);
        if (fabs(cr) < 1e-9)
            continue;
        if (sign == 0)
            sign = cr > 0 ? 1 : -1;
        else if ((cr > 0 ? 1 : -1) != sign)
            return false;
    }
    return true;
}

static double ring_area_d(const double *x, const double *y, size_t n)
{
    double s = 0;
    size_t i;
    for (i = 0; i < n; i++)
        s += x[i] * y[(i + 1) % n] - x[(i + 1) % n] * y[i];
    return 0.5 * s;
}

/* Length over width of a near-rectangle with this perimeter and area. */
static double aspect_ratio(const double *x, const double *y, size_t n)
{
    double per = 0, a = fabs(ring_area_d(x, y, n)), k;
    size_t i;
    for (i = 0; i < n; i++)
        per += hypot(x[(i + 1) % n] - x[i], y[(i + 1) % n] - y[i]);
    if (a <= 0)
        return 1;
    k = per * per / (16 * a);
    if (k < 1)
        k = 1;
    return (2 * k - 1) + sqrt((2 * k - 1) * (2 * k - 1) - 1);
}

static double dist_point_segment(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy, t;
    t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = clampd(t, 0, 1);
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* Area of ring (x, y) on the side nx*x + ny*y >= c (Sutherland-Hodgman against one half-plane;
 * the signed area of the clipped ring is right for concave rings too). */
static double clipped_area(const double *x, const double *y, size_t n, double nx, double ny,
                           double c, double *cx, double *cy)
{
    size_t i, m = 0;
    for (i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        double si = nx * x[i] + ny * y[i] - c, sj = nx * x[j] + ny * y[j] - c;
        if (si >= 0) {
            cx[m] = x[i];
            cy[m] = y[i];
            m++;
        }
        if ((si >= 0) != (sj >= 0)) {
            double t = si / (si - sj);
            cx[m] = x[i] + t * (x[j] - x[i]);
            cy[m] = y[i] + t * (y[j] - y[i]);
            m++;
        }
    }
    return m >= 3 ? ring_area_d(cx, cy, m) : 0;
}

/* Field parameters that do not depend on geometry. */
static void field_params(struct scene *sc, struct feature *f, struct rng *r, int dominant)
{
    double u = rng_unit(r);
    size_t k;
    if (sc->fallow >= 0 && u < 0.05) {
        f->crop = (uint8_t)sc->fallow;
    } else if (rng_unit(r) < 0.55 && dominant >= 0) {
        f->crop = (uint8_t)dominant;
    } else {
        double total = 0, pick;
        for (k = 0; k < sc->n_crops; k++)
            if ((int)k != sc->fallow)
                total += sc->crops[k].weight;
        pick = rng_unit(r) * total;
        for (k = 0; k < sc->n_crops; k++) {
            if ((int)k == sc->fallow)
                continue;
            pick -= sc->crops[k].weight;
            if (pick < 0)
                break;
        }
        if (k == sc->n_crops)
            k = sc->n_crops - 1 - (sc->fallow == (int)sc->n_crops - 1);
        f->crop = (uint8_t)k;
    }
    f->sow_jitter_days = (float)rng_range(r, -10, 10);
    f->peak_scale = (float)clampd(1.0 + 0.06 * rng_normal(r), 0.8, 1.15);
    f->base_shift = (float)(0.015 * rng_normal(r));
    f->soil_gain = (float)rng_range(r, 0.85, 1.15);
    f->veg_gain = (float)rng_range(r, 0.92, 1.08);
    if ((int)f->crop == sc->fallow)
        f->pf = 1.0f; /* rendered whole with the fallow curve; planted_fraction 0 in truth */
    else if (rng_unit(r) < 0.12)
        f->pf = (float)rng_range(r, 0.3, 0.8);
    else
        f->pf = (float)rng_range(r, 0.9, 1.0);
}

/* Area of the feature's rings (holes subtracted) on the side nx*x + ny*y >= c. */
static double feature_clipped_area(const struct scene *sc, const struct feature *f, double nx,
                                   double ny, double c, double *tx, double *ty, double *cx,
                                   double *cy)
{
    double total = 0;
    uint32_t r;
    for (r = 0; r < f->n_rings; r++) {
        size_t a = ring_begin(sc, f->ring0 + r), b = ring_end(sc, f->ring0 + r), i;
        double got;
        for (i = a; i < b; i++) {
            tx[i - a] = sc->v[i].x;
            ty[i - a] = sc->v[i].y;
        }
        got = fabs(clipped_area(tx, ty, b - a, nx, ny, c, cx, cy));
        total += r == 0 ? got : -got;
    }
    return total;
}

/* Splits the field at a line across its long axis (ax, ay) so that pf of its area is planted:
 * a farmer who sowed part of a strip sowed one end of it. */
static void field_split(struct scene *sc, struct feature *f, struct rng *r, double ax, double ay,
                        double *tx, double *ty, double *cx, double *cy)
{
    size_t a = ring_begin(sc, f->ring0), b = ring_end(sc, f->ring0), i;
    double lo = 1e30, hi = -1e30, target, nx, ny, len = hypot(ax, ay);
    int it;
    if (f->pf >= 0.9999f || len <= 0)
        return;
    nx = ax / len;
    ny = ay / len;
    if (rng_unit(r) < 0.5) {
        nx = -nx;
        ny = -ny;
    }
    for (i = a; i < b; i++) {
        double s = nx * (double)sc->v[i].x + ny * (double)sc->v[i].y;
        lo = fmin(lo, s);
        hi = fmax(hi, s);
    }
    target = (double)f->pf * feature_clipped_area(sc, f, nx, ny, lo - 1, tx, ty, cx, cy);
    for (it = 0; it < 40; it++) {
        double mid = 0.5 * (lo + hi);
        if (feature_clipped_area(sc, f, nx, ny, mid, tx, ty, cx, cy) > target)
            lo = mid;
        else
            hi = mid;
    }
    f->split = 1;
    f->hp_nx = (float)nx;
    f->hp_ny = (float)ny;
    f->hp_c = (float)(0.5 * (lo + hi));
}

struct builder {
    double *px, *py; /* param-space ring */
    double *wx, *wy; /* mapped ring */
    double *cx, *cy; /* clip scratch */
    size_t cap;
};

static bool builder_reserve(struct builder *b, size_t n)
{
    double **arrs[6];
    size_t want = 2 * n + 4, i;
    if (want <= b->cap)
        return true;
    arrs[0] = &b->px;
    arrs[1] = &b->py;
    arrs[2] = &b->wx;
    arrs[3] = &b->wy;
    arrs[4] = &b->cx;
    arrs[5] = &b->cy;
    for (i = 0; i < 6; i++) {
        double *q = realloc(*arrs[i], want * sizeof(double));
        if (!q)
            return false;
        *arrs[i] = q;
    }
    b->cap = want;
    return true;
}

/* Adds a field from a param-space ring; classifies its shape, maybe punches a hole (with the
 * grave or well that fills it), splits off the unplanted part. */
static bool add_field(struct scene *sc, struct builder *b, const struct quad *q, size_t n,
                      bool tiny, int dominant, struct rng *r)
{
    struct feature *f;
    size_t i;
    double ax, ay, x0, y0, x1, y1, area_m2;
    bool convex, holed = false;
    double hx[6], hy[6];

    for (i = 0; i < n; i++)
        quad_map(q, b->px[i], b->py[i], &b->wx[i], &b->wy[i]);
    if (!feature_begin(sc, F_FIELD) || !feature_ring(sc, b->wx, b->wy, n))
        return false;
    f = &sc->f[sc->n_f];
    f->tiny = tiny;
    area_m2 = fabs(ring_area_d(b->wx, b->wy, n)) * RES_M * RES_M;
    convex = ring_convex(b->wx, b->wy, n);
    if (tiny)
        f->shape = SH_SUB_PIXEL;
    else if (convex && n == 4 && aspect_ratio(b->wx, b->wy, n) >= 3.0)
        f->shape = SH_STRIP;
    else
        f->shape = convex ? SH_IRREGULAR : SH_CONCAVE;

    /* a grave mound or a well with a tree clump in the middle of the field */
    if (!tiny && convex && area_m2 >= 2 * M2_PER_MU && rng_unit(r) < 0.03) {
        double cxm = 0, cym = 0, dmin = 1e30, rad = rng_range(r, 0.3, 0.6), a0 = rng_unit(r);
        for (i = 0; i < n; i++) {
            cxm += b->wx[i] / (double)n;
            cym += b->wy[i] / (double)n;
        }
        for (i = 0; i < n; i++)
            dmin = fmin(dmin, dist_point_segment(cxm, cym, b->wx[i], b->wy[i], b->wx[(i + 1) % n],
                                                 b->wy[(i + 1) % n]));
        if (dmin >= rad + 0.4) {
            for (i = 0; i < 6; i++) {
                double ang = 2 * PI * ((double)i + a0) / 6.0;
                hx[5 - i] = cxm + rad * cos(ang);
                hy[5 - i] = cym + rad * sin(ang);
            }
            if (!feature_ring(sc, hx, hy, 6))
                return false;
            holed = true;
            f->shape = SH_HOLED;
        }
    }
    field_params(sc, f, r, dominant);
    /* long axis: the v direction of the block at the field's middle */
    quad_map(q, b->px[0], 0, &x0, &y0);
    quad_map(q, b->px[0], 1, &x1, &y1);
    ax = x1 - x0;
    ay = y1 - y0;
    field_split(sc, f, r, ax, ay, b->wx, b->wy, b->cx, b->cy);
    feature_end(sc);
    sc->n_fields++;
    if (holed) {
        if (!feature_begin(sc, F_GRAVE) || !feature_ring(sc, hx, hy, 6))
            return false;
        feature_end(sc);
    }
    return true;
}

static double lognormal(struct rng *r, double median, double sigma)
{
    return median * exp(sigma * rng_normal(r));
}

static bool build_farm_block(struct scene *sc, struct builder *b, const struct quad *q0,
                             int dominant, struct rng *r)
{
    struct quad qq = *q0;
    const struct quad *q = &qq;
    double L_u, ucut[512];
    size_t nu = 0, s;
    struct cut *cuts = NULL;
    size_t cap_cuts = 0;
    bool ok = true;

    if (rng_unit(r) < 0.5) {
        /* strips the other way: rotate the corner labels */
        int k;
        for (k = 0; k < 4; k++) {
            qq.x[k] = q0->x[(k + 3) % 4];
            qq.y[k] = q0->y[(k + 3) % 4];
        }
    }
    L_u = 0.5 * (quad_len(q, 0, 0, 1, 0) + quad_len(q, 0, 1, 1, 1));
    ucut[nu++] = 0;
    while (ucut[nu - 1] < 1 && nu < 510) {
        double w_m = clampd(lognormal(r, 18, 0.45), 6, 60);
        double next = ucut[nu - 1] + w_m / L_u;
        if ((1 - next) * L_u < 6 || next > 1)
            next = 1;
        ucut[nu++] = next;
    }
    ucut[nu - 1] = 1;

    for (s = 0; s + 1 < nu && ok; s++) {
        double u0 = ucut[s], u1 = ucut[s + 1], um = 0.5 * (u0 + u1);
        double w_m = (u1 - u0) * L_u, len_m = quad_len(q, um, 0, um, 1);
        double vpos[512];
        size_t nv = 0, k;
        vpos[nv++] = 0;
        while (vpos[nv - 1] < 1 && nv < 510) {
            double a_mu = clampd(lognormal(r, 3.0, 0.85), 0.6, 28);
            double l_m = fmax(a_mu * M2_PER_MU / w_m, 5.0);
            double next = vpos[nv - 1] + l_m / len_m;
            double rest_m2 = (1 - next) * len_m * w_m;
            if (next >= 1 || rest_m2 < 0.6 * M2_PER_MU) {
                double all_m2 = (1 - vpos[nv - 1]) * len_m * w_m;
                if (all_m2 > 29 * M2_PER_MU) {
                    vpos[nv] = vpos[nv - 1] + 0.5 * (1 - vpos[nv - 1]);
                    nv++;
                }
                next = 1;
            }
            vpos[nv++] = next;
        }
        vpos[nv - 1] = 1;
        if (!grow((void **)&cuts, &cap_cuts, nv, sizeof *cuts)) {
            ok = false;
            break;
        }
        /* cuts: the two block edges straight, inner ones straight, slanted or kinked */
        for (k = 0; k < nv; k++) {
            struct cut *c = &cuts[k];
            double room = 1e30, kind = rng_unit(r);
            c->n = 2;
            c->u[0] = u0;
            c->u[1] = u1;
            c->v[0] = c->v[1] = vpos[k];
            if (k == 0 || k + 1 == nv)
                continue;
            room = fmin(vpos[k] - vpos[k - 1], vpos[k + 1] - vpos[k]);
            room = fmin(0.3 * room, 15.0 / len_m);
            if (kind < 0.25) {
                c->v[0] = vpos[k] + rng_range(r, -room, room);
                c->v[1] = vpos[k] + rng_range(r, -room, room);
            } else if (kind < 0.45) {
                c->n = 3;
                c->u[2] = u1;
                c->v[2] = vpos[k];
                c->u[1] = u0 + rng_range(r, 0.3, 0.7) * (u1 - u0);
                c->v[1] = vpos[k] + (rng_unit(r) < 0.5 ? -1 : 1) * rng_range(r, 0.5, 1.0) * room;
            }
        }
        for (k = 0; k + 1 < nv && ok; k++) {
            const struct cut *L = &cuts[k], *R = &cuts[k + 1];
            double l_m = (vpos[k + 1] - vpos[k]) * len_m;
            size_t n = 0;
            int j;
            bool tiny =
                L->n == 2 && L->v[0] == L->v[1] && l_m >= 15 && w_m >= 6 && rng_unit(r) < 0.025;
            if (!builder_reserve(b, 16)) {
                ok = false;
                break;
            }
            if (tiny) {
                double b_m = rng_range(r, 4, fmin(9, w_m - 2)), a_m2 = rng_range(r, 35, 85);
                double du = (u1 - u0) * b_m / w_m, dv = (a_m2 / b_m) / len_m, vl = L->v[0];
                /* the field, L-shaped around the carved corner */
                b->px[n] = u0;
                b->py[n++] = vl + dv;
                for (j = 0; j < R->n; j++) {
                    b->px[n] = R->u[j];
                    b->py[n++] = R->v[j];
                }
                b->px[n] = u1;
                b->py[n++] = vl;
                b->px[n] = u0 + du;
                b->py[n++] = vl;
                b->px[n] = u0 + du;
                b->py[n++] = vl + dv;
                ok = add_field(sc, b, q, n, false, dominant, r);
                /* the plot */
                n = 0;
                b->px[n] = u0;
                b->py[n++] = vl;
                b->px[n] = u0 + du;
                b->py[n++] = vl;
                b->px[n] = u0 + du;
                b->py[n++] = vl + dv;
                b->px[n] = u0;
                b->py[n++] = vl + dv;
                ok = ok && add_field(sc, b, q, n, true, dominant, r);
                continue;
            }
            b->px[n] = L->u[0];
            b->py[n++] = L->v[0];
            for (j = 0; j < R->n; j++) {
                b->px[n] = R->u[j];
                b->py[n++] = R->v[j];
            }
            for (j = L->n - 1; j >= 1; j--) {
                b->px[n] = L->u[j];
                b->py[n++] = L->v[j];
            }
            ok = add_field(sc, b, q, n, false, dominant, r);
        }
    }
    free(cuts);
    return ok;
}

static bool build_other_block(struct scene *sc, const struct quad *q, enum bkind kind,
                              struct rng *r)
{
    double x[16], y[16];
    int k, n;
    for (k = 0; k < 4; k++) {
        x[k] = q->x[k];
        y[k] = q->y[k];
    }
    if (kind == BK_VILLAGE || kind == BK_TREES) {
        if (!feature_begin(sc, kind == BK_VILLAGE ? F_VILLAGE : F_TREES) ||
            !feature_ring(sc, x, y, 4))
            return false;
        feature_end(sc);
        return true;
    }
    /* a pond with grass and trees around it */
    if (!feature_begin(sc, F_GRASS) || !feature_ring(sc, x, y, 4))
        return false;
    feature_end(sc);
    n = 9 + (int)rng_below(r, 5);
    {
        double cu = rng_range(r, 0.4, 0.6), cv = rng_range(r, 0.4, 0.6);
        double ru = rng_range(r, 0.22, 0.36), rv = rng_range(r, 0.22, 0.36);
        for (k = 0; k < n; k++) {
            double ang = 2 * PI * (double)k / (double)n, f = rng_range(r, 0.8, 1.0);
            quad_map(q, cu + ru * f * cos(ang), cv + rv * f * sin(ang), &x[k], &y[k]);
        }
    }
    if (!feature_begin(sc, F_POND) || !feature_ring(sc, x, y, (size_t)n))
        return false;
    feature_end(sc);
    return true;
}

static int pick_dominant(const struct scene *sc, struct rng *r)
{
    double total = 0, pick;
    size_t k;
    for (k = 0; k < sc->n_crops; k++)
        if ((int)k != sc->fallow)
            total += sc->crops[k].weight;
    if (total <= 0)
        return -1;
    pick = rng_unit(r) * total;
    for (k = 0; k < sc->n_crops; k++) {
        if ((int)k == sc->fallow)
            continue;
        pick -= sc->crops[k].weight;
        if (pick < 0)
            return (int)k;
    }
    return -1;
}

static bool build_landscape(struct scene *sc)
{
    struct rng r;
    size_t nbx = (size_t)fmax(1, floor((double)sc->W / LATTICE_PX + 0.5));
    size_t nby = (size_t)fmax(1, floor((double)sc->H / LATTICE_PX + 0.5));
    double pitch_x = (double)sc->W / (double)nbx, pitch_y = (double)sc->H / (double)nby;
    double *nx = NULL, *ny = NULL, *hw_v = NULL, *hw_h = NULL;
    size_t i, j, nvill_x = (nbx + 2) / 3;
    struct builder b = {0};
    bool ok = false;

    rng_seed(&r, sc->opt->seed, 1);
    nx = malloc((nbx + 1) * (nby + 1) * sizeof *nx);
    ny = malloc((nbx + 1) * (nby + 1) * sizeof *ny);
    hw_v = malloc((nbx + 1) * sizeof *hw_v);
    hw_h = malloc((nby + 1) * sizeof *hw_h);
    sc->blocks = calloc(nbx * nby, sizeof *sc->blocks);
    sc->lrow_y0 = malloc(nby * sizeof *sc->lrow_y0);
    sc->lrow_y1 = malloc(nby * sizeof *sc->lrow_y1);
    if (!nx || !ny || !hw_v || !hw_h || !sc->blocks || !sc->lrow_y0 || !sc->lrow_y1)
        goto out;
    sc->nbx = nbx;
    sc->nby = nby;

    /* roads: every fourth lattice line is a main road (about 16 m), the rest farm roads */
    for (i = 0; i <= nbx; i++)
        hw_v[i] = (i == 0 || i == nbx) ? 0.25
                  : (i % 4 == 2)       ? rng_range(&r, 0.7, 0.9)
                                       : rng_range(&r, 0.3, 0.5);
    for (j = 0; j <= nby; j++)
        hw_h[j] = (j == 0 || j == nby) ? 0.25
                  : (j % 4 == 2)       ? rng_range(&r, 0.7, 0.9)
                                       : rng_range(&r, 0.3, 0.5);
    for (j = 0; j <= nby; j++)
        for (i = 0; i <= nbx; i++) {
            double x = (double)i * pitch_x, y = (double)j * pitch_y;
            if (i > 0 && i < nbx)
                x += rng_range(&r, -0.18, 0.18) * pitch_x;
            if (j > 0 && j < nby)
                y += rng_range(&r, -0.18, 0.18) * pitch_y;
            nx[j * (nbx + 1) + i] = x;
            ny[j * (nbx + 1) + i] = y;
        }

    for (j = 0; j < nby; j++) {
        sc->lrow_y0[j] = 1e30f;
        sc->lrow_y1[j] = -1e30f;
        for (i = 0; i < nbx; i++) {
            struct block *bl = &sc->blocks[j * nbx + i];
            size_t c00 = j * (nbx + 1) + i, c01 = c00 + 1, c11 = c01 + nbx + 1, c10 = c00 + nbx + 1;
            double qx[4] = {nx[c00], nx[c01], nx[c11], nx[c10]};
            double qy[4] = {ny[c00], ny[c01], ny[c11], ny[c10]};
            double d[4] = {hw_h[j], hw_v[i + 1], hw_h[j + 1], hw_v[i]};
            struct quad q;
            double u = rng_unit(&r);
            int k;
            size_t f;
            quad_inset(qx, qy, d);
            for (k = 0; k < 4; k++) {
                q.x[k] = qx[k];
                q.y[k] = qy[k];
            }
            bl->village = (uint32_t)((j / 3) * nvill_x + i / 3);
            bl->kind = u < 0.05 ? BK_VILLAGE : u < 0.08 ? BK_POND : u < 0.12 ? BK_TREES : BK_FARM;
            bl->f0 = (uint32_t)sc->n_f;
            if (bl->kind == BK_FARM) {
                /* neighbours tend to grow the same crop: a block has one it favours */
                int dom = pick_dominant(sc, &r);
                if (!build_farm_block(sc, &b, &q, dom, &r))
                    goto out;
            } else if (!build_other_block(sc, &q, (enum bkind)bl->kind, &r)) {
                goto out;
            }
            bl->f1 = (uint32_t)sc->n_f;
            bl->by0 = 1e30f;
            bl->by1 = -1e30f;
            for (f = bl->f0; f < bl->f1; f++) {
                bl->by0 = fminf(bl->by0, sc->f[f].by0);
                bl->by1 = fmaxf(bl->by1, sc->f[f].by1);
            }
            sc->lrow_y0[j] = fminf(sc->lrow_y0[j], bl->by0);
            sc->lrow_y1[j] = fmaxf(sc->lrow_y1[j], bl->by1);
        }
    }
    ok = true;
out:
    free(b.px);
    free(b.py);
    free(b.wx);
    free(b.wy);
    free(b.cx);
    free(b.cy);
    free(nx);
    free(ny);
    free(hw_v);
    free(hw_h);
    return ok;
}

/* ---- registered parcels, farmers, events ---- */

static int draw_parcels_per_farmer(struct rng *r)
{
    /* smallholder households: most hold 2-5 plots, a few up to 10 */
    static const double w[10] = {10, 15, 17, 15, 12, 9, 7, 6, 5, 4};
    double u = rng_unit(r) * 100;
    int k;
    for (k = 0; k < 10; k++) {
        u -= w[k];
        if (u < 0)
            return k + 1;
    }
    return 10;
}

static bool registrable(const struct scene *sc, const struct feature *f)
{
    double a_mu;
    if (f->type != F_FIELD)
        return false;
    if (f->tiny)
        return true;
    a_mu = feature_area_m2(sc, f) / M2_PER_MU;
    return a_mu >= 0.5 && a_mu <= 30;
}

static bool is_fallow(const struct scene *sc, const struct feature *f)
{
    return (int)f->crop == sc->fallow;
}

static void field_curve_at(const struct scene *sc, const struct feature *f, double t,
                           struct curve_eval *ev)
{
    const struct crop_model *cm = &sc->crops[f->crop];
    double base = cm->base + (double)f->base_shift;
    double amp = (cm->peak - cm->base) * (double)f->peak_scale;
    curve_eval(cm, base, amp, (double)f->sow_jitter_days, t, ev);
}

/* A flood's days and its water line, from the hash so that the event stream's draws stay as they
 * were: water comes in after the last dry acquisition (up to 9 days before the first optical date
 * that shows it) and goes before the next dry one (up to 9 days after the last); it fills the
 * parcel from one side, a straight water line at a random bearing placed (by bisection on the
 * exact clipped area) so that flood_m of the parcel's area lies under water. */
static void flood_extent(const struct scene *sc, struct parcel *p, size_t pi, double *scratch)
{
    const struct feature *f = &sc->f[p->feature];
    const struct date_info *dt = sc->dates;
    uint64_t h = hash3(sc->opt->seed, 6100, pi);
    int a = p->flood_first, b = p->flood_last, nd = sc->n_dates, it;
    int64_t gap0 = a > 0 ? dt[a].days - dt[a - 1].days : 10;
    int64_t gap1 = b < nd - 1 ? dt[b + 1].days - dt[b].days : 10;
    double ang = 2 * PI * hash_unit(hash64(h + 2)), lo = 1e30, hi = -1e30, target;
    size_t m = sc->max_ring_v + 8, i;
    double *tx = scratch, *ty = scratch + m, *cx = scratch + 2 * m, *cy = scratch + 3 * m;
    gap0 = gap0 > 10 ? 10 : gap0;
    gap1 = gap1 > 10 ? 10 : gap1;
    p->flood_day0 = dt[a].days - (int64_t)(hash_unit(hash64(h)) * (double)gap0);
    p->flood_day1 = dt[b].days + (int64_t)(hash_unit(hash64(h + 1)) * (double)gap1);
    p->flood_nx = cos(ang);
    p->flood_ny = sin(ang);
    for (i = ring_begin(sc, f->ring0); i < ring_end(sc, f->ring0); i++) {
        double s = p->flood_nx * (double)sc->v[i].x + p->flood_ny * (double)sc->v[i].y;
        lo = fmin(lo, s);
        hi = fmax(hi, s);
    }
    target =
        p->flood_m * feature_clipped_area(sc, f, p->flood_nx, p->flood_ny, lo - 1, tx, ty, cx, cy);
    for (it = 0; it < 40; it++) {
        double mid = 0.5 * (lo + hi);
        if (feature_clipped_area(sc, f, p->flood_nx, p->flood_ny, mid, tx, ty, cx, cy) > target)
            lo = mid;
        else
            hi = mid;
    }
    p->flood_c = 0.5 * (lo + hi);
}

/* Whether parcel p's flood covers (x, y) (px) on the given day. */
static bool flooded_at(const struct parcel *p, int64_t days, double x, double y)
{
    return p->flood_first >= 0 && days >= p->flood_day0 && days <= p->flood_day1 &&
           p->flood_nx * x + p->flood_ny * y >= p->flood_c;
}

static void assign_events(struct scene *sc, struct rng *r)
{
    size_t n = sc->n_parcels, i, *perm = malloc(n * sizeof *perm);
    size_t want_flood = (size_t)floor(0.02 * (double)n + 0.5);
    size_t want_loss = want_flood, n_flood = 0, n_loss = 0;
    int nd = sc->n_dates;
    double *scratch = malloc(4 * (sc->max_ring_v + 8) * sizeof *scratch);
    if (!perm || !scratch) {
        free(perm);
        free(scratch);
        return;
    }
    if (n >= 10 && want_flood == 0)
        want_flood = want_loss = 1;
    if (nd < 3)
        want_flood = 0;
    if (nd < 2)
        want_loss = 0;
    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n; i > 1; i--) {
        size_t j = rng_below(r, i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (i = 0; i < n && (n_flood < want_flood || n_loss < want_loss); i++) {
        struct parcel *p = &sc->parcels[perm[i]];
        const struct feature *f = &sc->f[p->feature];
        if (is_fallow(sc, f) || sc->crops[f->crop].crop->kind == PARUS_CROP_COVERED)
            continue;
        if (n_flood < want_flood) {
            int lo = nd / 4, hi = (3 * nd - 1) / 4, len = 1 + (int)rng_below(r, 3);
            if (hi < lo)
                hi = lo;
            p->flood_first = lo + (int)rng_below(r, (size_t)(hi - lo + 1));
            p->flood_last = p->flood_first + len - 1;
            if (p->flood_last > nd - 1)
                p->flood_last = nd - 1;
            p->flood_m = rng_range(r, 0.6, 1.0);
            flood_extent(sc, p, (size_t)(p - sc->parcels), scratch);
            n_flood++;
            continue;
        }
        {
            int cand[MAX_DATES], nc = 0, d;
            for (d = 1; d < nd; d++) {
                struct curve_eval ev;
                const struct crop_model *cm = &sc->crops[f->crop];
                double amp = (cm->peak - cm->base) * (double)f->peak_scale;
                field_curve_at(sc, f, sc->dates[d].doy, &ev);
                if (ev.ndvi >= cm->base + 0.5 * amp && sc->dates[d].doy <= ev.harvest_t - 20)
                    cand[nc++] = d;
            }
            if (nc == 0)
                continue;
            d = cand[rng_below(r, (size_t)nc)];
            {
                struct curve_eval ev;
                field_curve_at(sc, f, sc->dates[d].doy, &ev);
                p->loss_date = d;
                p->loss_m = rng_range(r, 0.5, 0.8);
                p->loss_end_t = ev.harvest_t;
            }
            n_loss++;
        }
    }
    free(perm);
    free(scratch);
}

static int register_parcels(struct scene *sc, size_t want)
{
    struct rng r;
    size_t i, n_cand = 0, n_reg = 0, n_farm_raw = 0, *cand = NULL;
    int32_t *farmer_new = NULL;
    size_t *count = NULL;
    int rc = RC_FAIL;

    rng_seed(&r, sc->opt->seed, 3);
    cand = malloc(sc->n_f * sizeof *cand);
    if (!cand)
        goto out;
    for (i = 0; i < sc->n_f; i++)
        if (registrable(sc, &sc->f[i]))
            cand[n_cand++] = i;
    if (want > n_cand) {
        fprintf(stderr,
                "parus-synth: --parcels %zu is more than the %zu fields of a %zu x %zu scene\n",
                want, n_cand, sc->W, sc->H);
        rc = RC_USAGE;
        goto out;
    }
    for (i = n_cand; i > 1; i--) {
        size_t j = rng_below(&r, i), t = cand[i - 1];
        cand[i - 1] = cand[j];
        cand[j] = t;
    }
    /* a farmer's plots: a run of neighbouring fields (the next fields of the strip, then the next
     * strip), starting from a random field */
    for (i = 0; i < n_cand && n_reg < want; i++) {
        size_t fi = cand[i], scanned = 0;
        int k;
        if (sc->f[fi].parcel >= 0)
            continue;
        k = draw_parcels_per_farmer(&r);
        for (; fi < sc->n_f && k > 0 && n_reg < want && scanned < 60; fi++, scanned++) {
            struct feature *f = &sc->f[fi];
            if (f->parcel >= 0 || !registrable(sc, f))
                continue;
            f->parcel = (int32_t)n_farm_raw;
            n_reg++;
            k--;
        }
        n_farm_raw++;
    }
    sc->parcels = calloc(n_reg ? n_reg : 1, sizeof *sc->parcels);
    farmer_new = malloc((n_farm_raw ? n_farm_raw : 1) * sizeof *farmer_new);
    if (!sc->parcels || !farmer_new)
        goto out;
    for (i = 0; i < n_farm_raw; i++)
        farmer_new[i] = -1;
    for (i = 0; i < sc->n_f; i++) {
        struct feature *f = &sc->f[i];
        struct parcel *p;
        if (f->parcel < 0)
            continue;
        if (farmer_new[f->parcel] < 0)
            farmer_new[f->parcel] = (int32_t)sc->n_farmers++;
        p = &sc->parcels[sc->n_parcels];
        p->feature = (uint32_t)i;
        p->farmer = (uint32_t)farmer_new[f->parcel];
        p->area_m2 = feature_area_m2(sc, f);
        p->shape = f->shape;
        p->flood_first = p->flood_last = p->loss_date = -1;
        f->parcel = (int32_t)sc->n_parcels++;
    }

    /* every class shows up among the registered parcels when there are enough of them */
    count = calloc(sc->n_crops, sizeof *count);
    if (!count)
        goto out;
    for (i = 0; i < sc->n_parcels; i++)
        count[sc->f[sc->parcels[i].feature].crop]++;
    if (sc->n_parcels >= 2 * sc->n_crops) {
        size_t k;
        for (k = 0; k < sc->n_crops; k++) {
            size_t start = rng_below(&r, sc->n_parcels), tries;
            for (tries = 0; count[k] == 0 && tries < sc->n_parcels; tries++) {
                struct feature *f = &sc->f[sc->parcels[(start + tries) % sc->n_parcels].feature];
                if (count[f->crop] < 2 || f->tiny)
                    continue;
                count[f->crop]--;
                if (is_fallow(sc, f) || (int)k == sc->fallow) {
                    f->pf = 1.0f;
                    f->split = 0;
                }
                f->crop = (uint8_t)k;
                count[k]++;
            }
        }
    }

    /* declared areas: most farmers within a few percent, one in ten inflates by 10-30 % */
    sc->farmer_over = calloc(sc->n_farmers ? sc->n_farmers : 1, 1);
    if (!sc->farmer_over)
        goto out;
    for (i = 0; i < sc->n_farmers; i++)
        sc->farmer_over[i] = rng_unit(&r) < 0.1;
    for (i = 0; i < sc->n_parcels; i++) {
        struct parcel *p = &sc->parcels[i];
        double factor = sc->farmer_over[p->farmer] ? rng_range(&r, 1.10, 1.30)
                                                   : clampd(1 + 0.015 * rng_normal(&r), 0.95, 1.05);
        p->declared_mu = floor(p->area_m2 * factor / M2_PER_MU * 100 + 0.5) / 100;
        if (p->declared_mu < 0.01)
            p->declared_mu = 0.01;
    }

    /* a few registry geometries are broken on purpose, mostly bow-ties, every third collapsed */
    {
        size_t want_bad = (size_t)floor(0.01 * (double)sc->n_parcels + 0.5), n_bad = 0, tries;
        if (sc->n_parcels >= 20 && want_bad == 0)
            want_bad = 1;
        for (tries = 0; n_bad < want_bad && tries < 20 * sc->n_parcels; tries++) {
            struct parcel *p = &sc->parcels[rng_below(&r, sc->n_parcels)];
            const struct feature *f = &sc->f[p->feature];
            if (p->invalid || f->tiny || f->n_rings != 1 ||
                ring_end(sc, f->ring0) - ring_begin(sc, f->ring0) != 4)
                continue;
            p->invalid = true;
            p->shape = SH_INVALID;
            p->defect = n_bad % 3 == 2 ? DEF_COLLAPSED : DEF_BOW_TIE;
            n_bad++;
        }
    }
    assign_events(sc, &r);
    rc = RC_OK;
out:
    free(cand);
    free(farmer_new);
    free(count);
    return rc;
}

/* ---- dates and clouds ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cloud_wavelength(const struct scene *sc)
{
    return clampd((double)(sc->W < sc->H ? sc->W : sc->H) / 3.0, 96, 1500);
}

/* The value of a field that a fraction `cover` of the image exceeds, from a 96 x 96 sample. */
static double field_quantile(const struct scene *sc, uint64_t seed, double wl, int oct,
                             double cover)
{
    enum { NS = 96 };
    double *v = malloc(NS * NS * sizeof *v), q;
    size_t i, j, k;
    if (!v)
        return 1e9;
    for (j = 0; j < NS; j++)
        for (i = 0; i < NS; i++)
            v[j * NS + i] = fbm(seed, ((double)i + 0.5) * (double)sc->W / NS,
                                ((double)j + 0.5) * (double)sc->H / NS, wl, oct);
    qsort(v, NS * NS, sizeof *v, cmp_double);
    k = (size_t)((1 - cover) * (NS * NS - 1));
    q = v[k];
    free(v);
    return q;
}

static uint64_t date_seed(const struct scene *sc, int d, uint64_t what)
{
    return hash3(sc->opt->seed, 1000 + (uint64_t)d, what);
}

/* --cloud-model mean: per-date covers spread +-0.6 around F (clear dates at low F, fully covered
 * ones at high F), clamped to 0..1 and shifted by a common offset found by bisection so that their
 * mean over the dates is F. The mask marks the pixels above the field's drawn quantile, so the
 * written masks' mean cover follows (see test_synth's measured tolerance). */
static bool cloud_covers_mean(struct scene *sc)
{
    const struct options *o = sc->opt;
    int i, n = sc->n_dates, it;
    double raw_mean = 0, lo = -1.5, hi = 1.5, t = 0;
    double *raw = malloc((size_t)n * sizeof *raw);
    struct rng r;
    if (!raw)
        return false;
    rng_seed(&r, o->seed, 7);
    for (i = 0; i < n; i++) {
        raw[i] = rng_unit(&r);
        raw_mean += raw[i] / n;
    }
    for (it = 0; it < 60; it++) {
        double m = 0;
        t = 0.5 * (lo + hi);
        for (i = 0; i < n; i++)
            m += clampd(o->clouds + 1.2 * (raw[i] - raw_mean) + t, 0, 1) / n;
        if (m < o->clouds)
            lo = t;
        else
            hi = t;
    }
    for (i = 0; i < n; i++) {
        double c = o->clouds <= 0 ? 0 : clampd(o->clouds + 1.2 * (raw[i] - raw_mean) + t, 0, 1);
        sc->dates[i].cover = c < 0.005 ? 0 : c;
    }
    free(raw);
    return true;
}

static bool setup_dates(struct scene *sc)
{
    const struct options *o = sc->opt;
    struct rng r;
    int i, n = o->n_dates, n_clear = 0, n_cloudy = 0;
    int64_t jan1 = days_from_civil(o->year, 1, 1), start, step;
    double cmax = fmin(0.6, 2 * o->clouds / 0.7);

    sc->n_dates = n;
    sc->dates = calloc((size_t)n, sizeof *sc->dates);
    if (!sc->dates)
        return false;
    start =
        o->have_start ? o->start_days : days_from_civil(o->year, n == 1 ? 6 : 3, n == 1 ? 15 : 5);
    step = o->step_days;
    if (step == 0)
        step = n == 1 ? 1 : (int64_t)fmax(5, floor(240.0 / (n - 1) / 5) * 5);
    rng_seed(&r, o->seed, 2);
    for (i = 0; i < n; i++) {
        struct date_info *d = &sc->dates[i];
        char compact[11];
        int b;
        double zen_deg, decl_deg, len_px, az;
        d->days = start + step * i;
        d->doy = (double)(d->days - jan1 + 1);
        d->spacecraft = ((d->days % 10) + 10) % 10 < 5 ? "Sentinel-2A" : "Sentinel-2B";
        d->cover = (o->clouds <= 0 || rng_unit(&r) < 0.3) ? 0 : rng_range(&r, 0.02, cmax);
        for (b = 0; b < N_SPEC; b++)
            d->gain[b] = 1 + 0.007 * rng_normal(&r);
        d->cloud_bright = rng_range(&r, 0.9, 1.1);
        decl_deg = 23.44 * sin(2 * PI * (284 + d->doy) / 365.0);
        zen_deg = fabs(o->origin_lat_deg - decl_deg) + 12;
        len_px = rng_range(&r, 600, 1400) * tan(zen_deg * PI / 180) / RES_M;
        az = (330 + rng_range(&r, -10, 10)) * PI / 180;
        d->shadow_dx = len_px * sin(az);
        d->shadow_dy = -len_px * cos(az);
        format_date(d->days, compact, true);
        snprintf(d->name, sizeof d->name, "S2%c_MSIL2A_%s_T%s.tif", d->spacecraft[10], compact,
                 sc->mgrs);
    }
    if (o->cloud_mean && !cloud_covers_mean(sc))
        return false;
    /* legacy: some dates clear, some cloudy, whatever the draw */
    for (i = 0; !o->cloud_mean && i < n; i++) {
        n_clear += sc->dates[i].cover == 0;
        n_cloudy += sc->dates[i].cover > 0;
    }
    if (!o->cloud_mean && o->clouds > 0 && n >= 2 && n_cloudy == 0)
        sc->dates[n / 2].cover = rng_range(&r, 0.1, fmax(0.11, cmax));
    if (!o->cloud_mean && o->clouds > 0 && n >= 3 && n_clear == 0)
        sc->dates[0].cover = 0;
    for (i = 0; i < n; i++) {
        struct date_info *d = &sc->dates[i];
        double wl = cloud_wavelength(sc);
        d->cloud_thr = d->cover >= 0.999 ? -1e9
                       : d->cover > 0    ? field_quantile(sc, date_seed(sc, i, 1), wl, 6, d->cover)
                                         : 1e9;
        d->cirrus_thr = d->cover > 0 ? field_quantile(sc, date_seed(sc, i, 2), 1.5 * wl, 3,
                                                      fmin(0.05, 0.25 * d->cover))
                                     : 1e9;
    }
    return true;
}

/* ---- weather (--weather): the daily process and the season's events ----
 *
 * A daily weather process for the North China Plain, every constant in docs/synth.md ("Weather and
 * harvests"). One regional series, drawn from an xoshiro stream per calendar year (so the season
 * year's weather does not depend on how many climatology years are asked for): rain occurrence a
 * two-state Markov chain whose wet probability follows the monsoon, amounts gamma-distributed;
 * tmax and tmin a seasonal sinusoid plus regional AR(1) anomalies. Each cell perturbs the regional
 * values by a hash of the seed, the day and its global cell index, so a cell has the same weather
 * whatever the scene's extent. The events (a drought, a heat wave) come from a stream of their own
 * and change the season year only: --drought no keeps the weather a drought would have cut. */

#define WX_SALT 0x7765617468657221ull /* the weather's hash draws */
#define WX_RAIN_RHO 0.35              /* lag-1 correlation of wet and dry days */
#define WX_GAMMA_SHAPE 0.75           /* shape of a wet day's amount */
#define WX_RAIN_MIN_MM 0.1            /* the least a wet day brings */
#define WX_RAIN_CELL_SIGMA 0.3        /* a cell's log-normal share of the regional amount */
#define WX_T_PHI 0.75                 /* AR(1) of the shared temperature anomaly */
#define WX_T_SIGMA_C 2.5
#define WX_TN_PHI 0.5 /* AR(1) of tmin's own anomaly */
#define WX_TN_SIGMA_C 1.2
#define WX_T_CELL_OFFSET_C 0.3 /* a cell's fixed temperature offset, s.d. */
#define WX_T_CELL_SIGMA_C 0.3  /* a cell's daily temperature noise, s.d. */
#define WX_WET_TMAX_C (-2.0)   /* a wet day is cooler by day, milder by night */
#define WX_WET_TMIN_C 1.0
#define WX_MIN_DTR_C 1.0         /* tmin at most tmax - 1 */
#define WX_DROUGHT_WARMING_C 1.0 /* dry soil and clear skies in a drought window */
#define WX_FROST_FIRST_DOY 95    /* a late frost starts in days 95..124 (April, early May) */
#define WX_FROST_LAST_DOY 125
#define WX_FROST_DTR_C 10.0       /* a frost day's maximum at most this above its minimum */
#define WX_WATERLOG_FIRST_DOY 150 /* a waterlogging rainstorm starts in days 150..229 */
#define WX_WATERLOG_LAST_DOY 230
#define WX_WATERLOG_MIN_MM 150.0 /* its regional rain over its 3 to 5 days */
#define WX_WATERLOG_MAX_MM 260.0
#define WATERLOG_POOR_SHARE 0.35 /* share of fields on poorly drained soil (hidden) */
#define WATERLOG_MIN_CANOPY 0.2  /* a cycle's canopy (its shape, 1 at the peak) at the storm */
#define WATERLOG_ONSET_DAYS 10.0 /* the canopy's loss builds over this after the storm */
#define DROUGHT_NDVI_LOSS 0.30   /* share of the NDVI amplitude lost at a full deficit */
#define DROUGHT_SWIR_SHIFT 0.5   /* canopy SWIR moved toward dry matter at full stress */
#define DROUGHT_FULL_DAYS 20.0   /* full stress after this many full-canopy days in the window */
#define DROUGHT_HIT_DAYS 1.0     /* a cycle with fewer full-canopy days in it does not feel it */
#define DROUGHT_RELIEF_DAYS 10.0 /* leaf water recovers over this many days after it */

/* Rainfed crops feel a drought: annual crops other than paddy rice (irrigated, flooded). */
static bool crop_rainfed(const struct crop_model *cm)
{
    return cm->crop && cm->crop->kind == PARUS_CROP_ANNUAL && !cm->paddy;
}

/* The climatology: a day's wet probability, a wet day's mean amount (mm), the mean temperature
 * and the diurnal range (degC), by day of year. */
static double wx_wet_prob(double doy)
{
    double z = (doy - 200.0) / 40.0;
    return 0.06 + 0.08 * (1 - cos(2 * PI * (doy - 15.0) / 365.0)) + 0.20 * exp(-z * z);
}

static double wx_wet_mean_mm(double doy)
{
    double z = (doy - 205.0) / 60.0;
    return 3.0 + 11.0 * exp(-z * z);
}

static double wx_tmean_c(double doy)
{
    return 13.3 - 14.0 * cos(2 * PI * (doy - 18.0) / 365.0);
}

static double wx_dtr_c(double doy)
{
    return 9.5 + 2.5 * cos(2 * PI * (doy - 130.0) / 365.0);
}

/* Gamma(shape, 1): Marsaglia and Tsang 2000; below shape 1 as Gamma(shape + 1) U^(1 / shape). */
static double rng_gamma(struct rng *r, double shape)
{
    double boost = 1, d, c;
    if (shape < 1) {
        boost = pow(rng_unit(r), 1.0 / shape);
        shape += 1;
    }
    d = shape - 1.0 / 3.0;
    c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rng_normal(r), v = 1 + c * x, u;
        if (v <= 0)
            continue;
        v = v * v * v;
        u = rng_unit(r);
        if (u > 0 && log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return boost * d * v;
    }
}

/* A standard normal draw from a hash (Box-Muller on two of its uniforms). */
static double hash_gauss(uint64_t h)
{
    double u1 = hash_unit(hash64(h)), u2 = hash_unit(hash64(h + 1));
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

/* One calendar year of the regional series. */
static void wx_year(const struct scene *sc, struct weather *wx, int year)
{
    struct rng r;
    int64_t jan1 = days_from_civil(year, 1, 1), n = days_from_civil(year + 1, 1, 1) - jan1, t;
    size_t k0 = (size_t)(jan1 - wx->day0);
    double a, b;
    bool wet;
    rng_seed(&r, sc->opt->seed, 4000 + (uint64_t)year);
    wet = rng_unit(&r) < wx_wet_prob(1);
    a = WX_T_SIGMA_C * rng_normal(&r);
    b = WX_TN_SIGMA_C * rng_normal(&r);
    for (t = 0; t < n; t++) {
        double doy = (double)(t + 1), pw = wx_wet_prob(doy), rain = 0;
        double p = wet ? pw + WX_RAIN_RHO * (1 - pw) : pw * (1 - WX_RAIN_RHO);
        double tm = wx_tmean_c(doy), dtr = wx_dtr_c(doy);
        wet = rng_unit(&r) < p;
        if (wet)
            rain = WX_RAIN_MIN_MM + (wx_wet_mean_mm(doy) - WX_RAIN_MIN_MM) / WX_GAMMA_SHAPE *
                                        rng_gamma(&r, WX_GAMMA_SHAPE);
        a = WX_T_PHI * a + WX_T_SIGMA_C * sqrt(1 - WX_T_PHI * WX_T_PHI) * rng_normal(&r);
        b = WX_TN_PHI * b + WX_TN_SIGMA_C * sqrt(1 - WX_TN_PHI * WX_TN_PHI) * rng_normal(&r);
        wx->rain_mm[k0 + (size_t)t] = rain;
        wx->tmax_c[k0 + (size_t)t] = tm + 0.5 * dtr + a + (wet ? WX_WET_TMAX_C : 0);
        wx->tmin_c[k0 + (size_t)t] = tm - 0.5 * dtr + 0.8 * a + b + (wet ? WX_WET_TMIN_C : 0);
    }
}

/* The season year's events, drawn (all of them, whether forced or not, so that forcing one does
 * not move the other) from a stream of their own, and applied to the regional series. A drought
 * keeps each wet day of its window with probability sqrt(s) and scales the days kept so that the
 * window's rain is exactly s times what it would have been (the largest day is kept when none
 * is); the days it dries lose the wet-day cooling, and the window is warmer. */
static void wx_events(const struct scene *sc, struct weather *wx)
{
    const struct options *o = sc->opt;
    struct rng r;
    int y = o->year, len, hl;
    int jun1 = (int)(days_from_civil(y, 6, 1) - wx->jan1) + 1;
    int aug31 = (int)(days_from_civil(y, 8, 31) - wx->jan1) + 1;
    double ud, uh, uf, uw, s, share[5], share_sum = 0;
    int fl, wl;
    size_t base = (size_t)(wx->jan1 - wx->day0), k;

    rng_seed(&r, o->seed, 39);
    ud = rng_unit(&r);
    len = 60 + (int)rng_below(&r, 31);
    wx->d0 = 110 + (int)rng_below(&r, (size_t)(142 - len));
    wx->d1 = wx->d0 + len - 1;
    s = rng_range(&r, 0.1, 0.4);
    uh = rng_unit(&r);
    hl = 4 + (int)rng_below(&r, 5);
    wx->h0 = jun1 + (int)rng_below(&r, (size_t)(aug31 - hl + 1 - jun1 + 1));
    wx->h1 = wx->h0 + hl - 1;
    wx->heat_tmax_c = rng_range(&r, 6, 10);
    wx->heat_tmin_c = rng_range(&r, 3, 5);
    /* drawn after the others, so that they do not move */
    uf = rng_unit(&r);
    fl = 2 + (int)rng_below(&r, 3);
    wx->f0 =
        WX_FROST_FIRST_DOY + (int)rng_below(&r, (size_t)(WX_FROST_LAST_DOY - WX_FROST_FIRST_DOY));
    wx->f1 = wx->f0 + fl - 1;
    wx->frost_tmin_c = rng_range(&r, -6, -3);
    /* drawn after the frost, so that nothing before moves */
    uw = rng_unit(&r);
    wl = 3 + (int)rng_below(&r, 3);
    wx->w0 = WX_WATERLOG_FIRST_DOY +
             (int)rng_below(&r, (size_t)(WX_WATERLOG_LAST_DOY - WX_WATERLOG_FIRST_DOY));
    wx->w1 = wx->w0 + wl - 1;
    wx->waterlog_mm = rng_range(&r, WX_WATERLOG_MIN_MM, WX_WATERLOG_MAX_MM);
    for (k = 0; k < 5; k++)
        share[k] = rng_range(&r, 0.5, 1.5);
    wx->waterlog = o->waterlog == TRI_AUTO ? uw < 0.3 : o->waterlog == TRI_YES;
    wx->frost = o->frost == TRI_AUTO ? uf < 0.3 : o->frost == TRI_YES;
    wx->drought = o->drought == TRI_AUTO ? ud < 0.3 : o->drought == TRI_YES;
    wx->heatwave = o->heatwave == TRI_AUTO ? uh < 0.3 : o->heatwave == TRI_YES;
    wx->deficit = 1 - s;

    if (wx->drought) {
        size_t k0 = base + (size_t)wx->d0 - 1, k1 = base + (size_t)wx->d1 - 1, big = k0;
        double total = 0, kept = 0, keep_p = sqrt(s), factor;
        bool keep[91];
        for (k = k0; k <= k1; k++) {
            total += wx->rain_mm[k];
            if (wx->rain_mm[k] > wx->rain_mm[big])
                big = k;
            keep[k - k0] =
                wx->rain_mm[k] > 0 &&
                hash_unit(hash3(o->seed ^ WX_SALT, 11, (uint64_t)(wx->day0 + (int64_t)k))) < keep_p;
            kept += keep[k - k0] ? wx->rain_mm[k] : 0;
        }
        if (kept <= 0 && total > 0) {
            keep[big - k0] = true;
            kept = wx->rain_mm[big];
        }
        factor = kept > 0 ? s * total / kept : 0;
        for (k = k0; k <= k1; k++) {
            if (keep[k - k0]) {
                wx->rain_mm[k] *= factor;
            } else if (wx->rain_mm[k] > 0) {
                wx->rain_mm[k] = 0;
                wx->tmax_c[k] -= WX_WET_TMAX_C;
                wx->tmin_c[k] -= WX_WET_TMIN_C;
            }
            wx->tmax_c[k] += WX_DROUGHT_WARMING_C;
        }
    }
    if (wx->heatwave)
        for (k = base + (size_t)wx->h0 - 1; k <= base + (size_t)wx->h1 - 1; k++) {
            wx->tmax_c[k] += wx->heat_tmax_c;
            wx->tmin_c[k] += wx->heat_tmin_c;
        }
    /* a late frost: a cold, clear air mass; each night at most frost_tmin_c, each day at most
     * WX_FROST_DTR_C above it */
    if (wx->frost)
        for (k = base + (size_t)wx->f0 - 1; k <= base + (size_t)wx->f1 - 1; k++) {
            wx->tmin_c[k] = fmin(wx->tmin_c[k], wx->frost_tmin_c);
            wx->tmax_c[k] = fmin(wx->tmax_c[k], wx->tmin_c[k] + WX_FROST_DTR_C);
        }
    /* a waterlogging rainstorm: waterlog_mm more rain over its days, shared unevenly; a day that
     * was dry takes the wet-day cooling */
    if (wx->waterlog) {
        for (k = 0; k < (size_t)wl; k++)
            share_sum += share[k];
        for (k = 0; k < (size_t)wl; k++) {
            size_t kd = base + (size_t)wx->w0 - 1 + k;
            if (!(wx->rain_mm[kd] > 0)) {
                wx->tmax_c[kd] += WX_WET_TMAX_C;
                wx->tmin_c[kd] += WX_WET_TMIN_C;
            }
            wx->rain_mm[kd] += wx->waterlog_mm * share[k] / share_sum;
        }
    }
}

/* Precipitation (mm), tmin and tmax (degC) of day index k in global cell (ix, iy): the regional
 * values, the rain times a log-normal share of mean 1, the temperatures plus the cell's fixed
 * offset and its daily noise; tmin at most tmax - 1. */
static void wx_cell(const struct scene *sc, size_t k, int64_t ix, int64_t iy, float out[3])
{
    const struct weather *wx = sc->wx;
    uint64_t seed = sc->opt->seed ^ WX_SALT, cell = hash64((uint64_t)ix) ^ (uint64_t)iy;
    uint64_t h = hash3(seed, (uint64_t)(wx->day0 + (int64_t)k) + 1000000, cell);
    double off = WX_T_CELL_OFFSET_C * hash_normal(hash3(seed, 1, cell)), rain = wx->rain_mm[k];
    double tx = wx->tmax_c[k] + off + WX_T_CELL_SIGMA_C * hash_normal(hash64(h + 1));
    double tn = wx->tmin_c[k] + off + WX_T_CELL_SIGMA_C * hash_normal(hash64(h + 2));
    if (rain > 0)
        rain *= exp(WX_RAIN_CELL_SIGMA * hash_normal(h) -
                    0.5 * WX_RAIN_CELL_SIGMA * WX_RAIN_CELL_SIGMA);
    out[0] = (float)rain;
    out[2] = (float)tx;
    out[1] = (float)fmin(tn, (double)out[2] - WX_MIN_DTR_C);
}

/* Pixel coordinates (x right, y down) to lon/lat degrees, in place. */
static bool px_to_lonlat(const struct scene *sc, size_t n, double *x, double *y)
{
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL), wgs = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    bool ok = false;
    size_t i;
    if (OSRImportFromEPSG(utm, sc->opt->epsg) != OGRERR_NONE ||
        OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE)
        goto out;
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    if (!(ct = OCTNewCoordinateTransformation(utm, wgs)))
        goto out;
    for (i = 0; i < n; i++) {
        x[i] = sc->ox_m + x[i] * RES_M;
        y[i] = sc->oy_m - y[i] * RES_M;
    }
    ok = n == 0 || OCTTransform(ct, (int)n, x, y, NULL);
out:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(wgs);
    return ok;
}

static void weather_free(struct weather *wx)
{
    if (!wx)
        return;
    free(wx->rain_mm);
    free(wx->tmax_c);
    free(wx->tmin_c);
    free(wx->parcel_ix);
    free(wx->parcel_iy);
    for (size_t i = 0; wx->canopy && i < 2 * wx->n_crops; i++)
        free(wx->canopy[i].g);
    free(wx->canopy);
    free(wx);
}

/* The weather of the scene: the grid over its lon/lat bounding box with a margin of one cell,
 * aligned to multiples of the resolution, each registered parcel's cell (its bounding box's
 * centre), the regional series of every year and the season's events. */
static bool weather_build(struct scene *sc)
{
    const struct options *o = sc->opt;
    enum { EDGE = 64 };
    struct weather *wx = calloc(1, sizeof *wx);
    double ex[4 * EDGE], ey[4 * EDGE], lon0 = 1e9, lon1 = -1e9, lat0 = 1e9, lat1 = -1e9, res;
    double *px = NULL, *py = NULL;
    size_t i, n = sc->n_parcels;
    int y;
    bool ok = false;

    if (!wx) {
        fprintf(stderr, "parus-synth: out of memory for the weather\n");
        return false;
    }
    sc->wx = wx;
    res = wx->res_deg = o->weather_res_deg;
    wx->year0 = o->year - o->weather_years;
    wx->day0 = days_from_civil(wx->year0, 1, 1);
    wx->jan1 = days_from_civil(o->year, 1, 1);
    wx->n_days = (size_t)(days_from_civil(o->year + 1, 1, 1) - wx->day0);
    wx->rain_mm = malloc(wx->n_days * sizeof *wx->rain_mm);
    wx->tmax_c = malloc(wx->n_days * sizeof *wx->tmax_c);
    wx->tmin_c = malloc(wx->n_days * sizeof *wx->tmin_c);
    wx->parcel_ix = malloc((n ? n : 1) * sizeof *wx->parcel_ix);
    wx->parcel_iy = malloc((n ? n : 1) * sizeof *wx->parcel_iy);
    px = malloc((n ? n : 1) * sizeof *px);
    py = malloc((n ? n : 1) * sizeof *py);
    if (!wx->rain_mm || !wx->tmax_c || !wx->tmin_c || !wx->parcel_ix || !wx->parcel_iy || !px ||
        !py)
        goto out_nomem;
    for (i = 0; i < EDGE; i++) {
        double u = (double)i / EDGE * (double)sc->W, v = (double)i / EDGE * (double)sc->H;
        ex[i] = u, ey[i] = 0;
        ex[EDGE + i] = (double)sc->W, ey[EDGE + i] = v;
        ex[2 * EDGE + i] = (double)sc->W - u, ey[2 * EDGE + i] = (double)sc->H;
        ex[3 * EDGE + i] = 0, ey[3 * EDGE + i] = (double)sc->H - v;
    }
    for (i = 0; i < n; i++) {
        const struct feature *f = &sc->f[sc->parcels[i].feature];
        px[i] = 0.5 * (double)(f->bx0 + f->bx1);
        py[i] = 0.5 * (double)(f->by0 + f->by1);
    }
    if (!px_to_lonlat(sc, 4 * EDGE, ex, ey) || !px_to_lonlat(sc, n, px, py)) {
        fprintf(stderr, "parus-synth: cannot transform the scene to lon/lat: %s\n",
                CPLGetLastErrorMsg());
        goto out;
    }
    for (i = 0; i < 4 * EDGE; i++) {
        lon0 = fmin(lon0, ex[i]);
        lon1 = fmax(lon1, ex[i]);
        lat0 = fmin(lat0, ey[i]);
        lat1 = fmax(lat1, ey[i]);
    }
    wx->ix0 = (int64_t)floor(lon0 / res) - 1;
    wx->iy0 = (int64_t)floor(lat0 / res) - 1;
    wx->nx = (size_t)((int64_t)floor(lon1 / res) + 1 - wx->ix0 + 1);
    wx->ny = (size_t)((int64_t)floor(lat1 / res) + 1 - wx->iy0 + 1);
    for (i = 0; i < n; i++) {
        wx->parcel_ix[i] = (int64_t)floor(px[i] / res);
        wx->parcel_iy[i] = (int64_t)floor(py[i] / res);
    }
    wx->n_crops = sc->n_crops;
    if (!(wx->canopy = calloc(2 * sc->n_crops, sizeof *wx->canopy)))
        goto out_nomem;
    for (i = 0; i < 2 * sc->n_crops; i++) {
        const struct crop_model *cm = &sc->crops[i / 2];
        const struct cycle_model *cy = &cm->cy[i % 2];
        struct canopy_days *cd = &wx->canopy[i];
        size_t j;
        if (!crop_rainfed(cm) || (int)(i % 2) >= cm->n_cycles)
            continue;
        cd->tau0 = floor(cy->s) - 30;
        cd->n = (size_t)(ceil(cy->h) + 30 - cd->tau0) + 1;
        if (!(cd->g = malloc(cd->n * sizeof *cd->g)))
            goto out_nomem;
        cd->g[0] = 0;
        for (j = 1; j < cd->n; j++)
            cd->g[j] =
                cd->g[j - 1] + cycle_shape(cy, cd->tau0 + (double)j - 0.5, cm->cut_at_harvest);
    }
    for (y = wx->year0; y <= o->year; y++)
        wx_year(sc, wx, y);
    wx_events(sc, wx);
    ok = true;
    goto out;
out_nomem:
    fprintf(stderr, "parus-synth: out of memory for the weather\n");
out:
    free(px);
    free(py);
    return ok;
}

/* Full-canopy days of cycle k of crop model c between cycle-frame days a and b (the cycle's shape,
 * 1 at the peak, summed over the days between), from the cumulative table. */
static double canopy_days(const struct weather *wx, size_t c, int k, double a, double b)
{
    const struct canopy_days *cd = &wx->canopy[2 * c + (size_t)k];
    double ja = clampd(a - cd->tau0, 0, (double)cd->n - 1);
    double jb = clampd(b - cd->tau0, 0, (double)cd->n - 1);
    size_t ia = (size_t)ja, ib = (size_t)jb;
    double ga = cd->g[ia] + (ia + 1 < cd->n ? (ja - (double)ia) * (cd->g[ia + 1] - cd->g[ia]) : 0);
    double gb = cd->g[ib] + (ib + 1 < cd->n ? (jb - (double)ib) * (cd->g[ib + 1] - cd->g[ib]) : 0);
    return b > a ? gb - ga : 0;
}

/* The drought's stress on season day t of cycle k of a field of crop model c whose cycle frame
 * is the season's less shift, as a share 0..deficit: the cycle's full-canopy days inside the
 * window up to t over DROUGHT_FULL_DAYS (a crop's water demand grows with its canopy: a crop
 * sown at the window's end hardly feels it), at most 1, times the deficit; it stays after the
 * window (a canopy does not regrow what the drought cost it). 0 for a crop that is not rainfed,
 * before the window, and for a cycle with under DROUGHT_HIT_DAYS full-canopy days in it. */
static double drought_stress(const struct scene *sc, size_t c, int k, double shift, double t)
{
    const struct weather *wx = sc->wx;
    double e;
    if (!wx || !wx->drought || !crop_rainfed(&sc->crops[c]) || t < wx->d0 ||
        canopy_days(wx, c, k, wx->d0 - shift, wx->d1 + 1.0 - shift) < DROUGHT_HIT_DAYS)
        return 0;
    e = canopy_days(wx, c, k, wx->d0 - shift, fmin(t, wx->d1 + 1.0) - shift);
    return wx->deficit * fmin(1, e / DROUGHT_FULL_DAYS);
}

/* A field's drought on season day t, for the cycle instance ev: *ndvi_loss, the share of the
 * NDVI amplitude lost, and *moisture (0..1), the canopy's water stress, which relaxes over
 * DROUGHT_RELIEF_DAYS after the window. False, both left alone, when the field does not feel it. */
static bool field_drought(const struct scene *sc, const struct feature *f, double t,
                          const struct curve_eval *ev, double *ndvi_loss, double *moisture)
{
    const struct cycle_model *cy = &sc->crops[f->crop].cy[ev->cycle];
    double w;
    if (!sc->wx || !sc->wx->drought)
        return false;
    w = drought_stress(sc, f->crop, ev->cycle, ev->harvest_t - cy->h, t);
    if (!(w > 0))
        return false;
    *ndvi_loss = DROUGHT_NDVI_LOSS * w;
    *moisture = w * clampd(1 - (t - sc->wx->d1) / DROUGHT_RELIEF_DAYS, 0, 1);
    return true;
}

/* The waterlogging's hit on cycle k of field fi whose cycle frame is the season's less shift:
 * the share of its NDVI amplitude lost once the loss has built up, 0 when it is not hit. A field
 * is hit when its crop is rainfed (paddy rice stands in water by design), its soil is poorly
 * drained (hidden: WATERLOG_POOR_SHARE of the fields, a hash of the seed and the field, nothing
 * parus can read) and its canopy stood at the storm (the cycle's shape at the storm's middle at
 * least WATERLOG_MIN_CANOPY, before its harvest). The share follows the leaf area lost by summer
 * maize waterlogged 2 to 10 days (docs/synth.md): drawn per field from 0.15..0.45 before the
 * cycle's peak (jointing), 0.03..0.15 after it (tasseling, grain fill). */
static double waterlog_share(const struct scene *sc, size_t fi, int k, double shift)
{
    const struct weather *wx = sc->wx;
    const struct crop_model *cm = &sc->crops[sc->f[fi].crop];
    const struct cycle_model *cy;
    uint64_t h;
    double mid, u;
    if (!wx || !wx->waterlog || !crop_rainfed(cm) || k < 0 || k >= cm->n_cycles)
        return 0;
    h = hash3(sc->opt->seed ^ WX_SALT, 13, fi);
    if (hash_unit(h) >= WATERLOG_POOR_SHARE)
        return 0;
    cy = &cm->cy[k];
    mid = 0.5 * (wx->w0 + wx->w1) - shift;
    if (mid > cy->h || cycle_shape(cy, mid, cm->cut_at_harvest) < WATERLOG_MIN_CANOPY)
        return 0;
    u = hash_unit(hash64(h + 1));
    return mid < cy->p ? 0.15 + 0.30 * u : 0.03 + 0.12 * u;
}

/* The waterlogging's loss on season day t (the share of the NDVI amplitude): waterlog_share,
 * built linearly over WATERLOG_ONSET_DAYS from the storm's last day and kept (roots lost to
 * anoxia and the leaves they fed do not come back within the season). */
static double waterlog_loss(const struct scene *sc, size_t fi, int k, double shift, double t)
{
    double share = waterlog_share(sc, fi, k, shift);
    if (!(share > 0) || t <= sc->wx->w1)
        return 0;
    return share * fmin(1, (t - sc->wx->w1) / WATERLOG_ONSET_DAYS);
}

/* The field's NDVI on day t with the waterlogging's loss: ndvi moved toward base. */
static double field_waterlogged(const struct scene *sc, size_t fi, const struct curve_eval *ev,
                                double base, double t)
{
    const struct crop_model *cm = &sc->crops[sc->f[fi].crop];
    double loss;
    if (!sc->wx || !sc->wx->waterlog || cm->n_cycles < 1)
        return ev->ndvi;
    loss = waterlog_loss(sc, fi, ev->cycle, ev->harvest_t - cm->cy[ev->cycle].h, t);
    return base + (ev->ndvi - base) * (1 - loss);
}

/* ---- spectra ---- */

static double ndvi_of(const double *s)
{
    double den = s[B08] + s[B04];
    return den > 0 ? (s[B08] - s[B04]) / den : 0;
}

/* Red and NIR that give exactly `ndvi`, the other bands mixed by the green cover fraction
 * between the background and the canopy. */
static void build_spectrum(double ndvi, const double *bg, const double *veg, double *out)
{
    double nd_bg = ndvi_of(bg), nd_v = ndvi_of(veg), fc;
    int b;
    ndvi = clampd(ndvi, -0.5, 0.95);
    fc = nd_v > nd_bg ? clampd((ndvi - nd_bg) / (nd_v - nd_bg), 0, 1) : 1;
    for (b = 0; b < N_SPEC; b++)
        out[b] = bg[b] + fc * (veg[b] - bg[b]);
    out[B04] = out[B08] * (1 - ndvi) / (1 + ndvi);
}

static void mix(double *out, const double *a, const double *b, double wb)
{
    int k;
    for (k = 0; k < N_SPEC; k++)
        out[k] = (1 - wb) * a[k] + wb * b[k];
}

/* A field on date d: the planted part's and the bare part's noise-free reflectance. */
static void field_state(const struct scene *sc, size_t fi, int d, double *planted, double *bare)
{
    const struct feature *f = &sc->f[fi];
    const struct crop_model *cm = &sc->crops[f->crop];
    const struct date_info *di = &sc->dates[d];
    const struct parcel *p = f->parcel >= 0 ? &sc->parcels[f->parcel] : NULL;
    double base = cm->base + (double)f->base_shift, soil[N_SPEC], bg[N_SPEC], veg[N_SPEC], ndvi;
    double loss = 0, moisture = 0;
    struct curve_eval ev;
    int b;

    field_curve_at(sc, f, di->doy, &ev);
    if (field_drought(sc, f, di->doy, &ev, &loss, &moisture))
        ev.ndvi = base + (ev.ndvi - base) * (1 - loss);
    ev.ndvi = field_waterlogged(sc, fi, &ev, base, di->doy);
    /* the field's own day-to-day wobble (irrigation, weather): part of the truth, not noise */
    ndvi = ev.ndvi + 0.012 * hash_normal(hash3(sc->opt->seed, 5000 + (uint64_t)d, fi));
    if (p && p->loss_date >= 0 && d >= p->loss_date && di->doy <= p->loss_end_t + 20)
        ndvi = fmax(ndvi * (1 - p->loss_m), fmin(ndvi, base));
    for (b = 0; b < N_SPEC; b++) {
        soil[b] = EM_SOIL[b] * (double)f->soil_gain;
        veg[b] = EM_VEG[b];
    }
    veg[B08] *= (double)f->veg_gain;
    /* water stress: drier leaves reflect more in the SWIR (NDMI falls more than NDVI) */
    for (b = B11; moisture > 0 && b <= B12; b++)
        veg[b] += DROUGHT_SWIR_SHIFT * moisture * (EM_RESIDUE[b] - veg[b]);
    if (cm->crop->kind == PARUS_CROP_COVERED)
        memcpy(bg, EM_PLASTIC, sizeof bg);
    else if (ev.flooded)
        mix(bg, soil, EM_WATER, 0.55);
    else if (ev.senescing)
        mix(bg, soil, EM_RESIDUE, 0.5);
    else
        memcpy(bg, soil, sizeof bg);
    build_spectrum(ndvi, bg, veg, planted);
    memcpy(bare, soil, sizeof soil);
}

static void tree_spectrum(const struct scene *sc, size_t fi, int d, double *out)
{
    uint64_t h = hash3(sc->opt->seed, 77, fi);
    double jit = 8 * (hash_unit(h) - 0.5), gain = 0.9 + 0.2 * hash_unit(hash64(h));
    struct curve_eval ev;
    double veg[N_SPEC], soil[N_SPEC];
    int b;
    curve_eval(&sc->m_trees, sc->m_trees.base, (sc->m_trees.peak - sc->m_trees.base) * gain, jit,
               sc->dates[d].doy, &ev);
    for (b = 0; b < N_SPEC; b++) {
        veg[b] = EM_VEG[b] * (b == B08 ? 0.95 : 0.85);
        soil[b] = 0.5 * EM_SOIL[b] + 0.5 * EM_RESIDUE[b];
    }
    build_spectrum(ev.ndvi, soil, veg, out);
}

/* Two slots of N_SPEC floats per feature: fields (planted, unplanted), villages (roofs, trees),
 * everything else in slot 0. */
/* ---- glitches: artefacts on one parcel and date that the cloud mask misses ---- */

enum glitch { GL_NONE, GL_HAZE, GL_RED_GAIN, GL_NIR_LOSS, GL_NIR_GAIN };
static const char *const glitch_names[] = {"", "haze", "red_gain", "nir_loss", "nir_gain"};

/* The glitch of registered parcel i on date d, and its strength: a pure function of the seed, the
 * parcel and the date (a stream of its own: --glitches 0 leaves every other output as it was). */
static enum glitch glitch_of(const struct scene *sc, size_t i, int d, double *strength)
{
    uint64_t h = hash3(sc->opt->seed ^ 0x9e3779b97f4a7c15ull, 5000 + (uint64_t)d, i);
    double u = hash_unit(hash64(h)), v = hash_unit(hash64(h + 1)), k = hash_unit(hash64(h + 2));
    enum glitch g;
    if (!(sc->opt->glitches > 0) || u >= sc->opt->glitches)
        return GL_NONE;
    g = k < 0.4 ? GL_HAZE : k < 0.6 ? GL_RED_GAIN : k < 0.85 ? GL_NIR_LOSS : GL_NIR_GAIN;
    switch (g) {
    case GL_HAZE: /* thin cloud or smoke over the field, below the mask's threshold */
        *strength = 0.10 + 0.30 * v;
        break;
    case GL_RED_GAIN: /* a detector or compression artefact on the red band */
        *strength = 1.3 + 1.2 * v;
        break;
    case GL_NIR_LOSS:
        *strength = 0.5 + 0.3 * v;
        break;
    default:
        *strength = 1.2 + 0.3 * v;
        break;
    }
    return g;
}

static void glitch_apply(enum glitch g, double strength, double *s)
{
    int b;
    switch (g) {
    case GL_HAZE:
        for (b = 0; b < N_SPEC; b++)
            s[b] = (1 - strength) * s[b] + strength * EM_CLOUD[b];
        break;
    case GL_RED_GAIN:
        s[B04] *= strength;
        break;
    case GL_NIR_LOSS:
    case GL_NIR_GAIN:
        s[B08] *= strength;
        break;
    default:
        break;
    }
}

static void feature_spec(const struct scene *sc, size_t fi, int d, float *out)
{
    const struct feature *f = &sc->f[fi];
    double a[N_SPEC], b[N_SPEC];
    uint64_t h = hash3(sc->opt->seed, 78, fi);
    double g = 0.85 + 0.3 * hash_unit(h);
    struct curve_eval ev;
    int k;
    switch ((enum ftype)f->type) {
    case F_FIELD:
        field_state(sc, fi, d, a, b);
        break;
    case F_TREES:
        tree_spectrum(sc, fi, d, a);
        memcpy(b, a, sizeof a);
        break;
    case F_GRASS:
        curve_eval(&sc->m_grass, sc->m_grass.base, sc->m_grass.peak - sc->m_grass.base,
                   10 * (hash_unit(h) - 0.5), sc->dates[d].doy, &ev);
        build_spectrum(ev.ndvi, EM_SOIL, EM_VEG, a);
        memcpy(b, a, sizeof a);
        break;
    case F_POND:
        for (k = 0; k < N_SPEC; k++)
            a[k] = EM_WATER[k] * (k <= B04 ? g : 1.0);
        memcpy(b, a, sizeof a);
        break;
    case F_VILLAGE:
        for (k = 0; k < N_SPEC; k++)
            a[k] = EM_ROOF[k] * g;
        tree_spectrum(sc, fi, d, b);
        break;
    case F_GRAVE:
        tree_spectrum(sc, fi, d, a);
        mix(b, a, EM_SOIL, 0.5);
        memcpy(a, b, sizeof a);
        break;
    }
    if (sc->feat_parcel && sc->feat_parcel[fi] >= 0) {
        double strength = 0;
        enum glitch gl = glitch_of(sc, (size_t)sc->feat_parcel[fi], d, &strength);
        glitch_apply(gl, strength, a);
        glitch_apply(gl, strength, b);
    }
    for (k = 0; k < N_SPEC; k++) {
        out[k] = (float)a[k];
        out[N_SPEC + k] = (float)b[k];
    }
}

/* ---- rasterising on the sub-pixel grid ---- */

static void sort_small(double *x, size_t n)
{
    size_t i, j;
    for (i = 1; i < n; i++) {
        double v = x[i];
        for (j = i; j > 0 && x[j - 1] > v; j--)
            x[j] = x[j - 1];
        x[j] = v;
    }
}

static long ceil_l(double v)
{
    return (long)ceil(v);
}

/* Even-odd fill of feature fi into sub-pixel rows [sy0, sy1) of lab (SW sub-pixels a row). A
 * sub-pixel belongs to the polygon when its centre does, with half-open spans [xa, xb) so that
 * neighbours sharing an edge never both claim a sub-pixel; each edge is evaluated from its upper
 * end so that both neighbours compute the same crossing. */
static void raster_feature(const struct scene *sc, size_t fi, uint32_t *lab, long SW, long sy0,
                           long sy1, double *xs)
{
    const struct feature *f = &sc->f[fi];
    long lo = ceil_l((double)f->by0 * SS - 0.5), hi = ceil_l((double)f->by1 * SS - 0.5), sy;
    uint32_t label = (uint32_t)fi + 1;
    if (lo < sy0)
        lo = sy0;
    if (hi > sy1)
        hi = sy1;
    for (sy = lo; sy < hi; sy++) {
        double yc = ((double)sy + 0.5) / SS;
        size_t n = 0, k;
        uint32_t r;
        uint32_t *row = lab + (size_t)(sy - sy0) * (size_t)SW;
        for (r = 0; r < f->n_rings; r++) {
            size_t a = ring_begin(sc, f->ring0 + r), b = ring_end(sc, f->ring0 + r), i;
            for (i = a; i < b; i++) {
                const struct vtx *p = &sc->v[i], *q = &sc->v[i + 1 < b ? i + 1 : a];
                double y0 = p->y, y1 = q->y, x0 = p->x, x1 = q->x;
                if ((y0 <= yc) == (y1 <= yc))
                    continue;
                if (y0 > y1) {
                    double t = y0;
                    y0 = y1;
                    y1 = t;
                    t = x0;
                    x0 = x1;
                    x1 = t;
                }
                xs[n++] = x0 + (yc - y0) * (x1 - x0) / (y1 - y0);
            }
        }
        sort_small(xs, n);
        for (k = 0; k + 1 < n; k += 2) {
            long sa = ceil_l(xs[k] * SS - 0.5), sb = ceil_l(xs[k + 1] * SS - 0.5), sx;
            long ps = sa, pe = sb; /* planted span within [sa, sb) */
            if (sa < 0)
                sa = 0;
            if (sb > SW)
                sb = SW;
            if (sa >= sb)
                continue;
            if (f->split) {
                double nx = (double)f->hp_nx, ny = (double)f->hp_ny, c = (double)f->hp_c;
                if (fabs(nx) < 1e-9) {
                    bool planted = ny * yc >= c;
                    ps = planted ? sa : sb;
                    pe = sb;
                } else {
                    double xsplit = (c - ny * yc) / nx;
                    if (nx > 0) {
                        ps = ceil_l(xsplit * SS - 0.5);
                        pe = sb;
                    } else {
                        ps = sa;
                        pe = (long)floor(xsplit * SS - 0.5) + 1;
                    }
                }
                if (ps < sa)
                    ps = sa;
                if (pe > sb)
                    pe = sb;
                if (pe < ps)
                    pe = ps;
                for (sx = sa; sx < sb; sx++)
                    row[sx] = (sx >= ps && sx < pe) ? label : (label | UNPLANTED_BIT);
            } else {
                for (sx = sa; sx < sb; sx++)
                    row[sx] = label;
            }
        }
    }
}

/* ---- rendering ---- */

struct strip {
    size_t y0, y1;       /* pixel rows */
    size_t f0, f1;       /* features */
    size_t lr0, lr1;     /* lattice rows */
    uint32_t *lab;       /* sub-pixel labels of one chunk */
    double *xs;          /* scanline crossings */
    uint32_t *pix_start; /* entries of pixel i: [pix_start[i], pix_start[i+1]) */
    uint32_t *ent_lab;
    uint8_t *ent_cnt;
    size_t n_ent, cap_ent, cap_ent_cnt;
    float *tex; /* within-field texture, -1..1 */
    float *spec;
    size_t cap_spec;
    float *cloud, *shadow, *cirrus; /* coarse fields */
    size_t cw, crows, cj0;
    float *swir; /* B11, B12 before noise, for the 20 m cells */
    uint16_t *out[N_BANDS];
};

static bool strip_alloc(struct strip *st, const struct scene *sc, size_t rows)
{
    size_t SW = sc->W * SS, npx = rows * sc->W, b;
    st->lab = malloc((size_t)CHUNK_ROWS * SS * SW * sizeof *st->lab);
    st->xs = malloc((sc->max_ring_v + 8) * sizeof *st->xs);
    st->pix_start = malloc((npx + 1) * sizeof *st->pix_start);
    st->tex = malloc(npx * sizeof *st->tex);
    st->swir = malloc(2 * npx * sizeof *st->swir);
    st->cw = sc->W / CLOUD_STEP + 3;
    st->crows = rows / CLOUD_STEP + 3;
    st->cloud = malloc(st->cw * st->crows * sizeof *st->cloud);
    st->shadow = malloc(st->cw * st->crows * sizeof *st->shadow);
    st->cirrus = malloc(st->cw * st->crows * sizeof *st->cirrus);
    if (!st->lab || !st->xs || !st->pix_start || !st->tex || !st->swir || !st->cloud ||
        !st->shadow || !st->cirrus)
        return false;
    for (b = 0; b < N_BANDS; b++)
        if (!(st->out[b] = malloc(npx * sizeof *st->out[b])))
            return false;
    return true;
}

static void strip_free(struct strip *st)
{
    size_t b;
    free(st->lab);
    free(st->xs);
    free(st->pix_start);
    free(st->ent_lab);
    free(st->ent_cnt);
    free(st->tex);
    free(st->spec);
    free(st->cloud);
    free(st->shadow);
    free(st->cirrus);
    free(st->swir);
    for (b = 0; b < N_BANDS; b++)
        free(st->out[b]);
}

static bool push_entry(struct strip *st, uint32_t lab, uint8_t cnt)
{
    if (!grow((void **)&st->ent_lab, &st->cap_ent, st->n_ent + 1, sizeof *st->ent_lab))
        return false;
    if (!grow((void **)&st->ent_cnt, &st->cap_ent_cnt, st->n_ent + 1, sizeof *st->ent_cnt))
        return false;
    if (st->n_ent >= UINT32_MAX)
        return false;
    st->ent_lab[st->n_ent] = lab;
    st->ent_cnt[st->n_ent] = cnt;
    st->n_ent++;
    return true;
}

/* Rasterise the strip's features chunk by chunk and reduce each pixel's 16 sub-pixels to a list
 * of (label, count). */
static bool strip_compose(struct strip *st, const struct scene *sc)
{
    long SW = (long)(sc->W * SS);
    size_t c0;
    st->n_ent = 0;
    for (c0 = st->y0; c0 < st->y1; c0 += CHUNK_ROWS) {
        size_t c1 = c0 + CHUNK_ROWS < st->y1 ? c0 + CHUNK_ROWS : st->y1, lr, py;
        long sy0 = (long)c0 * SS, sy1 = (long)c1 * SS;
        memset(st->lab, 0, (size_t)(sy1 - sy0) * (size_t)SW * sizeof *st->lab);
        for (lr = st->lr0; lr < st->lr1; lr++) {
            size_t bi;
            if ((double)sc->lrow_y1[lr] <= (double)c0 || (double)sc->lrow_y0[lr] >= (double)c1)
                continue;
            for (bi = lr * sc->nbx; bi < (lr + 1) * sc->nbx; bi++) {
                const struct block *bl = &sc->blocks[bi];
                size_t fi;
                if ((double)bl->by1 <= (double)c0 || (double)bl->by0 >= (double)c1)
                    continue;
                for (fi = bl->f0; fi < bl->f1; fi++) {
                    const struct feature *f = &sc->f[fi];
                    if ((double)f->by1 <= (double)c0 || (double)f->by0 >= (double)c1)
                        continue;
                    raster_feature(sc, fi, st->lab, SW, sy0, sy1, st->xs);
                }
            }
        }
        for (py = c0; py < c1; py++) {
            const uint32_t *rowbase = st->lab + (py - c0) * SS * (size_t)SW;
            size_t px;
            for (px = 0; px < sc->W; px++) {
                const uint32_t *cell = rowbase + px * SS;
                uint32_t first = cell[0], lbl[SS * SS];
                uint8_t cnt[SS * SS];
                int m = 0, i, j, k;
                bool same = true;
                st->pix_start[(py - st->y0) * sc->W + px] = (uint32_t)st->n_ent;
                for (j = 0; j < SS && same; j++)
                    for (i = 0; i < SS; i++)
                        if (cell[(size_t)j * (size_t)SW + (size_t)i] != first) {
                            same = false;
                            break;
                        }
                if (same) {
                    if (!push_entry(st, first, SS * SS))
                        return false;
                    continue;
                }
                for (j = 0; j < SS; j++)
                    for (i = 0; i < SS; i++) {
                        uint32_t l = cell[(size_t)j * (size_t)SW + (size_t)i];
                        for (k = 0; k < m && lbl[k] != l; k++)
                            ;
                        if (k == m) {
                            lbl[m] = l;
                            cnt[m++] = 0;
                        }
                        cnt[k]++;
                    }
                for (k = 0; k < m; k++)
                    if (!push_entry(st, lbl[k], cnt[k]))
                        return false;
            }
        }
    }
    st->pix_start[(st->y1 - st->y0) * sc->W] = (uint32_t)st->n_ent;
    return true;
}

static void strip_texture(struct strip *st, const struct scene *sc)
{
    uint64_t seed = hash3(sc->opt->seed, 9, 9);
    size_t y, x;
    for (y = st->y0; y < st->y1; y++)
        for (x = 0; x < sc->W; x++) {
            double v = fbm(seed, (double)x, (double)y, 6.0, 2);
            st->tex[(y - st->y0) * sc->W + x] = (float)clampd(4 * (v - 0.5), -1, 1);
        }
}

static void strip_clouds(struct strip *st, const struct scene *sc, int d)
{
    const struct date_info *di = &sc->dates[d];
    double wl = cloud_wavelength(sc);
    uint64_t sc_seed = date_seed(sc, d, 1), ci_seed = date_seed(sc, d, 2);
    size_t i, j;
    st->cj0 = st->y0 / CLOUD_STEP;
    for (j = 0; j < st->crows; j++)
        for (i = 0; i < st->cw; i++) {
            double x = (double)(i * CLOUD_STEP), y = (double)((st->cj0 + j) * CLOUD_STEP);
            size_t k = j * st->cw + i;
            st->cloud[k] = (float)(fbm(sc_seed, x, y, wl, 6) - di->cloud_thr);
            st->shadow[k] =
                (float)(fbm(sc_seed, x - di->shadow_dx, y - di->shadow_dy, wl, 6) - di->cloud_thr);
            st->cirrus[k] = (float)(fbm(ci_seed, x, y, 1.5 * wl, 3) - di->cirrus_thr);
        }
}

static double coarse_at(const struct strip *st, const float *g, size_t x, size_t y)
{
    double gx = (double)x / CLOUD_STEP, gy = (double)y / CLOUD_STEP - (double)st->cj0;
    size_t i = (size_t)gx, j = (size_t)gy;
    double tx = gx - (double)i, ty = gy - (double)j;
    const float *p = g + j * st->cw + i;
    double a = (double)p[0], b = (double)p[1], c = (double)p[st->cw], e = (double)p[st->cw + 1];
    return (a + (b - a) * tx) * (1 - ty) + (c + (e - c) * tx) * ty;
}

static uint16_t to_dn(double refl)
{
    double dn = floor(refl * 10000.0 + 1000.0 + 0.5);
    return (uint16_t)clampd(dn, 1, 65534);
}

static double noisy(double v, int b, uint64_t h)
{
    return v + sqrt(fmax(v, 0.01) * 0.25) / SNR_AT_025[b] * hash_normal(h);
}

static void strip_render_date(struct strip *st, const struct scene *sc, int d)
{
    const struct date_info *di = &sc->dates[d];
    struct date_info *dw = &sc->dates[d];
    size_t W = sc->W, y, x;
    bool cloudy = di->cover > 0;
    uint64_t nseed[N_SPEC], vseed = hash3(sc->opt->seed, 11, 11);
    double road[N_SPEC];
    int b;

    for (b = 0; b < N_SPEC; b++) {
        nseed[b] = date_seed(sc, d, 100 + (uint64_t)b);
        road[b] = EM_ROAD[b];
    }
    for (x = st->f0; x < st->f1; x++)
        feature_spec(sc, x, d, st->spec + (x - st->f0) * 2 * N_SPEC);
    if (cloudy)
        strip_clouds(st, sc, d);

    for (y = st->y0; y < st->y1; y++)
        for (x = 0; x < W; x++) {
            size_t i = (y - st->y0) * W + x, e, gidx = y * W + x;
            double r[N_SPEC] = {0}, tv = (double)st->tex[i], nd, ndwi, v10[N_SPEC];
            int cls = 0;
            for (e = st->pix_start[i]; e < st->pix_start[i + 1]; e++) {
                uint32_t l = st->ent_lab[e];
                double w = (double)st->ent_cnt[e] / (SS * SS);
                if (l == 0) {
                    for (b = 0; b < N_SPEC; b++)
                        r[b] += w * road[b];
                } else {
                    size_t fi = (l & ~UNPLANTED_BIT) - 1;
                    const float *s = st->spec + (fi - st->f0) * 2 * N_SPEC;
                    int32_t pi = sc->f[fi].parcel;
                    if (pi >= 0 &&
                        flooded_at(&sc->parcels[pi], di->days, (double)x + 0.5, (double)y + 0.5)) {
                        for (b = 0; b < N_SPEC; b++)
                            r[b] += w * EM_WATER[b];
                    } else if (sc->f[fi].type == F_VILLAGE) {
                        double t = 0.15 + 0.5 * hash_unit(hash64(vseed + gidx));
                        for (b = 0; b < N_SPEC; b++)
                            r[b] += w * ((1 - t) * (double)s[b] + t * (double)s[N_SPEC + b]);
                    } else {
                        if (l & UNPLANTED_BIT)
                            s += N_SPEC;
                        for (b = 0; b < N_SPEC; b++)
                            r[b] += w * (double)s[b];
                    }
                }
            }
            /* within-field texture, fixed over the season: brightness (soil moisture, density:
             * all bands alike, NDVI unchanged) and a smaller vigour part (more NIR, less red) */
            for (b = 0; b < N_SPEC; b++)
                r[b] *= 1 + 0.04 * tv;
            r[B08] *= 1 + 0.015 * tv;
            r[B04] *= 1 - 0.015 * tv;
            for (b = 0; b < N_SPEC; b++)
                r[b] *= di->gain[b];
            if (cloudy) {
                double dc = coarse_at(st, st->cloud, x, y), ds = coarse_at(st, st->shadow, x, y);
                double dci = coarse_at(st, st->cirrus, x, y);
                double a_ci = clampd((dci + 0.02) / 0.06, 0, 1);
                double sh = clampd((ds + 0.01) / 0.04, 0, 1);
                double alpha = clampd((dc + 0.02) / 0.08, 0, 1);
                for (b = 0; b < N_SPEC; b++) {
                    r[b] += a_ci * EM_CIRRUS[b];
                    r[b] *= 1 - 0.65 * sh;
                    r[b] = (1 - alpha) * r[b] + alpha * EM_CLOUD[b] * di->cloud_bright;
                }
                if (dc >= 0.03)
                    cls = SCL_CLOUD_HIGH;
                else if (dc >= 0)
                    cls = SCL_CLOUD_MED;
                else if (dci >= 0)
                    cls = SCL_CIRRUS;
                else if (ds >= 0.005)
                    cls = SCL_SHADOW;
            }
            for (b = 0; b <= B08; b++)
                v10[b] = noisy(r[b], b, hash64(nseed[b] + gidx));
            st->swir[2 * i] = (float)r[B11];
            st->swir[2 * i + 1] = (float)r[B12];
            if (cls == 0) {
                nd = (v10[B08] - v10[B04]) / fmax(1e-6, v10[B08] + v10[B04]);
                ndwi = (v10[B03] - v10[B08]) / fmax(1e-6, v10[B03] + v10[B08]);
                cls = (ndwi > 0.1 && v10[B08] < 0.12) ? SCL_WATER : nd >= 0.35 ? SCL_VEG : SCL_SOIL;
            }
            dw->n_cloud += cls == SCL_CLOUD_MED || cls == SCL_CLOUD_HIGH;
            dw->n_shadow += cls == SCL_SHADOW;
            dw->n_cirrus += cls == SCL_CIRRUS;
            for (b = 0; b <= B08; b++)
                st->out[b][i] = to_dn(v10[b]);
            st->out[SCL][i] = (uint16_t)cls;
        }

    /* B11 and B12 are 20 m bands: one value per 2 x 2 cell, noise drawn once per cell */
    for (y = st->y0; y < st->y1; y += 2)
        for (x = 0; x < W; x += 2) {
            size_t ys, xs2, n = 0;
            double s11 = 0, s12 = 0, v11, v12;
            size_t cell = (y / 2) * ((W + 1) / 2) + x / 2;
            for (ys = y; ys < y + 2 && ys < st->y1; ys++)
                for (xs2 = x; xs2 < x + 2 && xs2 < W; xs2++) {
                    size_t i = (ys - st->y0) * W + xs2;
                    s11 += (double)st->swir[2 * i];
                    s12 += (double)st->swir[2 * i + 1];
                    n++;
                }
            v11 = noisy(s11 / (double)n, B11, hash64(nseed[B11] + cell));
            v12 = noisy(s12 / (double)n, B12, hash64(nseed[B12] + cell));
            for (ys = y; ys < y + 2 && ys < st->y1; ys++)
                for (xs2 = x; xs2 < x + 2 && xs2 < W; xs2++) {
                    size_t i = (ys - st->y0) * W + xs2;
                    st->out[B11][i] = to_dn(v11);
                    st->out[B12][i] = to_dn(v12);
                }
        }
}

/* GTiff creation options shared by the optical and radar tiles: tiled (TIFF tiles are multiples
 * of 16 px; a tile may overhang a small image), DEFLATE, band interleaved. */
static char **tile_options(const struct scene *sc)
{
    char blk[32], **opts = NULL;
    snprintf(blk, sizeof blk, "%d", (int)(sc->W < 512 ? (sc->W + 15) / 16 * 16 : 512));
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BLOCKXSIZE", blk);
    opts = CSLSetNameValue(opts, "BLOCKYSIZE", blk);
    opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    opts = CSLSetNameValue(opts, "INTERLEAVE", "BAND");
    return opts;
}

static GDALDatasetH create_tile(const struct scene *sc, int d, const char *path, int *band_of)
{
    const struct options *o = sc->opt;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char blk[32], **opts = NULL;
    int n_out = 0, b;
    GDALDatasetH ds;
    OGRSpatialReferenceH srs;
    char *wkt = NULL, date[11];
    double gt[6];

    for (b = 0; b < N_BANDS; b++)
        band_of[b] = (o->band_mask & (1u << b)) ? ++n_out : 0;
    opts = tile_options(sc);
    opts = CSLSetNameValue(opts, "PREDICTOR", "2");
    snprintf(blk, sizeof blk, "%d", o->deflate_level);
    opts = CSLSetNameValue(opts, "ZLEVEL", blk);
    ds = drv ? GDALCreate(drv, path, (int)sc->W, (int)sc->H, n_out, GDT_UInt16, opts) : NULL;
    CSLDestroy(opts);
    if (!ds)
        return NULL;
    gt[0] = sc->ox_m;
    gt[1] = RES_M;
    gt[2] = 0;
    gt[3] = sc->oy_m;
    gt[4] = 0;
    gt[5] = -RES_M;
    GDALSetGeoTransform(ds, gt);
    srs = OSRNewSpatialReference(NULL);
    if (OSRImportFromEPSG(srs, o->epsg) == OGRERR_NONE && OSRExportToWkt(srs, &wkt) == OGRERR_NONE)
        GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    format_date(sc->dates[d].days, date, false);
    GDALSetMetadataItem(ds, "ACQUISITION_DATE", date, NULL);
    GDALSetMetadataItem(ds, "BOA_ADD_OFFSET", "-1000", NULL);
    GDALSetMetadataItem(ds, "BOA_QUANTIFICATION_VALUE", "10000", NULL);
    GDALSetMetadataItem(ds, "PROCESSING_BASELINE", "05.10", NULL);
    GDALSetMetadataItem(ds, "PROCESSING_LEVEL", "Level-2A", NULL);
    GDALSetMetadataItem(ds, "PRODUCT_TYPE", "S2MSI2A", NULL);
    GDALSetMetadataItem(ds, "SPACECRAFT_NAME", sc->dates[d].spacecraft, NULL);
    GDALSetMetadataItem(ds, "MGRS_TILE", sc->mgrs, NULL);
    GDALSetMetadataItem(ds, "SOURCE", "parus-synth synthetic scene, not real imagery", NULL);
    for (b = 0; b < N_BANDS; b++) {
        GDALRasterBandH h;
        if (!band_of[b])
            continue;
        h = GDALGetRasterBand(ds, band_of[b]);
        GDALSetDescription(h, band_long[b]);
        GDALSetRasterNoDataValue(h, 0);
    }
    return ds;
}

static int render_all(struct scene *sc, bool *failed_io)
{
    const struct options *o = sc->opt;
    size_t rows = sc->H < 512 ? sc->H : 512, y0, n_strips = (sc->H + rows - 1) / rows, k = 0;
    GDALDatasetH *ds = calloc((size_t)sc->n_dates, sizeof *ds);
    int(*band_of)[N_BANDS] = calloc((size_t)sc->n_dates, sizeof *band_of);
    struct strip st;
    int d, rc = RC_FAIL;
    char path[4096];

    memset(&st, 0, sizeof st);
    *failed_io = false;
    if (!ds || !band_of || !strip_alloc(&st, sc, rows)) {
        fprintf(stderr, "parus-synth: out of memory for the render buffers\n");
        goto out;
    }
    for (d = 0; d < sc->n_dates; d++) {
        snprintf(path, sizeof path, "%s/%s", o->out_dir, sc->dates[d].name);
        if (!(ds[d] = create_tile(sc, d, path, band_of[d]))) {
            fprintf(stderr, "parus-synth: cannot create '%s': %s\n", path, CPLGetLastErrorMsg());
            *failed_io = true;
            goto out;
        }
    }
    for (y0 = 0; y0 < sc->H; y0 += rows, k++) {
        size_t lr, nf;
        st.y0 = y0;
        st.y1 = y0 + rows < sc->H ? y0 + rows : sc->H;
        st.lr0 = sc->nby;
        st.lr1 = 0;
        for (lr = 0; lr < sc->nby; lr++)
            if ((double)sc->lrow_y1[lr] > (double)st.y0 &&
                (double)sc->lrow_y0[lr] < (double)st.y1) {
                if (lr < st.lr0)
                    st.lr0 = lr;
                st.lr1 = lr + 1;
            }
        if (st.lr0 >= st.lr1) {
            st.lr0 = st.lr1 = 0;
            st.f0 = st.f1 = 0;
        } else {
            st.f0 = sc->blocks[st.lr0 * sc->nbx].f0;
            st.f1 = sc->blocks[st.lr1 * sc->nbx - 1].f1;
        }
        nf = st.f1 - st.f0;
        if (!grow((void **)&st.spec, &st.cap_spec, nf * 2 * N_SPEC + 1, sizeof *st.spec) ||
            !strip_compose(&st, sc)) {
            fprintf(stderr, "parus-synth: out of memory while rasterising\n");
            goto out;
        }
        strip_texture(&st, sc);
        if (!o->quiet && n_strips > 4)
            fprintf(stderr, "parus-synth: rows %zu-%zu of %zu (%zu features)\n", st.y0, st.y1,
                    sc->H, nf);
        for (d = 0; d < sc->n_dates; d++) {
            int b;
            strip_render_date(&st, sc, d);
            for (b = 0; b < N_BANDS; b++) {
                if (!band_of[d][b])
                    continue;
                if (GDALRasterIO(GDALGetRasterBand(ds[d], band_of[d][b]), GF_Write, 0, (int)st.y0,
                                 (int)sc->W, (int)(st.y1 - st.y0), st.out[b], (int)sc->W,
                                 (int)(st.y1 - st.y0), GDT_UInt16, 0, 0) != CE_None) {
                    fprintf(stderr, "parus-synth: cannot write '%s': %s\n", sc->dates[d].name,
                            CPLGetLastErrorMsg());
                    *failed_io = true;
                    goto out;
                }
            }
            GDALFlushCache(ds[d]);
        }
    }
    for (d = 0; d < sc->n_dates; d++) {
        char v[32];
        snprintf(v, sizeof v, "%.2f",
                 100.0 * (double)sc->dates[d].n_cloud / (double)(sc->W * sc->H));
        GDALSetMetadataItem(ds[d], "CLOUD_COVERAGE_ASSESSMENT", v, NULL);
    }
    rc = RC_OK;
out:
    for (d = 0; ds && d < sc->n_dates; d++)
        if (ds[d]) {
            GDALClose(ds[d]);
        }
    free(ds);
    free(band_of);
    strip_free(&st);
    return rc;
}

/* ---- parcels file ---- */

static OGRGeometryH parcel_geometry(const struct scene *sc, const struct parcel *p)
{
    const struct feature *f = &sc->f[p->feature];
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    uint32_t r;
    for (r = 0; r < f->n_rings; r++) {
        size_t a = ring_begin(sc, f->ring0 + r), b = ring_end(sc, f->ring0 + r), n = b - a, i;
        size_t order[64];
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        /* screen-clockwise rings are counter-clockwise on the map (y flips): outer rings
         * counter-clockwise, holes clockwise */
        bool reverse =
            r == 0 ? ring_area_px(sc, f->ring0 + r) < 0 : ring_area_px(sc, f->ring0 + r) > 0;
        if (n > 64)
            n = 64;
        for (i = 0; i < n; i++)
            order[i] = reverse ? a + (n - 1 - i) : a + i;
        if (p->defect == DEF_BOW_TIE && r == 0 && n == 4) {
            size_t t = order[1];
            order[1] = order[2];
            order[2] = t;
        }
        if (p->defect == DEF_COLLAPSED && r == 0 && n >= 2) {
            /* A, B, B, A: repeated vertices, so the ring stays flat in any CRS and at any
             * coordinate precision */
            int k;
            for (k = 0; k < 4; k++) {
                const struct vtx *v = &sc->v[order[k == 1 || k == 2]];
                OGR_G_AddPoint_2D(ring, sc->ox_m + (double)v->x * RES_M,
                                  sc->oy_m - (double)v->y * RES_M);
            }
            OGR_G_AddGeometryDirectly(poly, ring);
            continue;
        }
        for (i = 0; i <= n; i++) {
            const struct vtx *v = &sc->v[order[i % n]];
            OGR_G_AddPoint_2D(ring, sc->ox_m + (double)v->x * RES_M,
                              sc->oy_m - (double)v->y * RES_M);
        }
        OGR_G_AddGeometryDirectly(poly, ring);
    }
    return poly;
}

static void parcel_id(char *buf, size_t n, size_t i)
{
    snprintf(buf, n, "P%06zu", i + 1);
}

static void farmer_id(char *buf, size_t n, size_t i)
{
    snprintf(buf, n, "F%05zu", i + 1);
}

static void village_id(char *buf, size_t n, uint32_t v)
{
    snprintf(buf, n, "V%04u", (unsigned)v + 1);
}

static uint32_t feature_village(const struct scene *sc, size_t fi)
{
    size_t lo = 0, hi = sc->nbx * sc->nby;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (sc->blocks[mid].f0 <= fi)
            lo = mid;
        else
            hi = mid;
    }
    return sc->blocks[lo].village;
}

static bool write_parcels(const struct scene *sc, const char *path)
{
    const struct options *o = sc->opt;
    GDALDriverH drv = GDALGetDriverByName(o->gpkg ? "GPKG" : "GeoJSON");
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL), wgs = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    OGRLayerH layer;
    OGRFieldDefnH fd;
    char **lco = NULL;
    bool ok = false;
    size_t i;
    char date[40];

    if (!drv)
        goto out;
    if (OSRImportFromEPSG(utm, o->epsg) != OGRERR_NONE ||
        OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE)
        goto out;
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    if (!(ct = OCTNewCoordinateTransformation(utm, wgs)))
        goto out;
    VSIUnlink(path);
    /* GeoPackage stamps the current time into its tables; a fixed one keeps runs identical */
    snprintf(date, sizeof date, "%04d-01-01T00:00:00.000Z", o->year);
    CPLSetConfigOption("OGR_CURRENT_DATE", date);
    if (!(ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL)))
        goto out;
    if (o->gpkg) {
        lco = CSLSetNameValue(lco, "GEOMETRY_NAME", "geom");
        lco = CSLSetNameValue(lco, "SPATIAL_INDEX", "YES");
    } else {
        lco = CSLSetNameValue(lco, "COORDINATE_PRECISION", "9");
        lco = CSLSetNameValue(lco, "RFC7946", "NO");
    }
    layer = GDALDatasetCreateLayer(ds, "parcels", wgs, wkbPolygon, lco);
    CSLDestroy(lco);
    if (!layer)
        goto out;
    fd = OGR_Fld_Create("parcel_id", OFTString);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    fd = OGR_Fld_Create("farmer_id", OFTString);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    fd = OGR_Fld_Create("declared_area_mu", OFTReal);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    fd = OGR_Fld_Create("village", OFTString);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    if (o->gpkg && GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE)
        goto out;
    for (i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        OGRGeometryH g = parcel_geometry(sc, p);
        char id[32];
        OGRErr e;
        parcel_id(id, sizeof id, i);
        OGR_F_SetFieldString(feat, 0, id);
        farmer_id(id, sizeof id, p->farmer);
        OGR_F_SetFieldString(feat, 1, id);
        OGR_F_SetFieldDouble(feat, 2, p->declared_mu);
        village_id(id, sizeof id, feature_village(sc, p->feature));
        OGR_F_SetFieldString(feat, 3, id);
        e = OGR_G_Transform(g, ct);
        if (e == OGRERR_NONE)
            e = OGR_F_SetGeometryDirectly(feat, g);
        else
            OGR_G_DestroyGeometry(g);
        if (e == OGRERR_NONE)
            e = OGR_L_CreateFeature(layer, feat);
        OGR_F_Destroy(feat);
        if (e != OGRERR_NONE)
            goto out;
    }
    if (o->gpkg && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        goto out;
    ok = true;
out:
    if (ds)
        GDALClose(ds);
    CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(wgs);
    return ok;
}

/* ---- truth ---- */

static FILE *open_truth(const struct scene *sc, const char *name)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/truth/%s", sc->opt->out_dir, name);
    f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "parus-synth: cannot write '%s': %s\n", path, strerror(errno));
    return f;
}

static bool close_truth(FILE *f)
{
    bool ok = !ferror(f);
    return fclose(f) == 0 && ok;
}

static int wrap_doy(double t)
{
    int v = (int)floor(t + 0.5);
    while (v < 1)
        v += 365;
    while (v > 365)
        v -= 365;
    return v;
}

/* Why a parcel is weaker than its crop's healthy peers, as parus's health grade should see it
 * (docs/synth.md): "unplanted" (fallow), "partial" (sown over less than 90 %), "event" (a flood
 * or a sudden loss), "vigour" (its peak's height above the base below 0.9 of its crop's), joined
 * by ';' in that order; empty when none. */
static void weak_cause(const struct scene *sc, const struct parcel *p, char *out, size_t n)
{
    const struct feature *ft = &sc->f[p->feature];
    const char *cause[4];
    size_t k = 0, used = 0;
    if (is_fallow(sc, ft))
        cause[k++] = "unplanted";
    else if (ft->split && ft->pf < 0.9f)
        cause[k++] = "partial";
    if (p->flood_first >= 0 || p->loss_date >= 0)
        cause[k++] = "event";
    if (!is_fallow(sc, ft) && ft->peak_scale < 0.9f)
        cause[k++] = "vigour";
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? ";" : "", cause[i]);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* ---- Sentinel-1 radar scenes (--radar) ----
 *
 * Tiles in the contract of docs/synth.md (Float32 sigma0 in linear power, bands VV, VH, ANGLE).
 * The model, kept simple and stated: each feature has a reference backscatter at 37 degrees of
 * incidence, in dB, linear in the crop's vegetation fraction v (the optical truth's NDVI curve
 * scaled to 0..1 between 0.15 and 0.85), from a bare-soil value to a full-canopy value per crop
 * type; paddy water before mid-season and the truth's floods are open water (VV -22, VH -28 dB,
 * mixed in linear power by the flood's share); sudden losses and harvests act through v. Mixed
 * pixels average linear power over the sub-pixel grid. Incidence follows the cosine-squared law
 * sigma0(theta) = sigma0(37) (cos theta / cos 37)^2. Speckle is multiplicative, gamma with shape
 * and rate L (mean 1, variance 1/L), drawn per pixel from the counter-based hash. */

struct radar_date {
    int64_t days;
    bool ascending;
    double mid_deg; /* incidence at the image centre */
    char name[96];
};

/* reference dB at 37 degrees: bare soil and full canopy, VV and VH (orders of magnitude of
 * published Sentinel-1 crop series, e.g. Veloso et al. 2017, Remote Sens. Environ. 199: wheat's VV
 * falls as vertical stems attenuate, maize's and soybean's rise, VH rises with biomass) */
static void radar_crop_db(const char *code, int cycle, double v, double *vv_db, double *vh_db)
{
    double vv0 = -12, vv1 = -9, vh0 = -21, vh1 = -15;
    bool wheat = strstr(code, "wheat") && !(strstr(code, "maize") && cycle > 0);
    if (wheat) {
        vv1 = -14;
        vh1 = -17;
    } else if (strstr(code, "maize") || strstr(code, "sugarcane")) {
        vv1 = -7;
        vh1 = -13;
    } else if (strstr(code, "rice")) {
        vv1 = -8;
        vh1 = -14;
    } else if (strstr(code, "soybean") || strstr(code, "peanut") || strstr(code, "cotton")) {
        vv1 = -8;
        vh1 = -14;
    }
    *vv_db = vv0 + (vv1 - vv0) * v;
    *vh_db = vh0 + (vh1 - vh0) * v;
}

static double db_to_lin(double db)
{
    return pow(10.0, db / 10.0);
}

/* The scene's rain on a day (mm), from the hash: a day is wet with a probability that peaks in
 * July (0.1 + 0.25 exp(-((doy - 200) / 60)^2), a monsoon), its amount exponential with mean 8 mm.
 * One series for the whole scene (a few kilometres). With --weather, the weather's regional
 * series on the days it covers. */
static double rain_mm(const struct scene *sc, int64_t days)
{
    int64_t jan1 = days_from_civil(sc->opt->year, 1, 1);
    double doy = (double)(days - jan1 + 1), z = (doy - 200.0) / 60.0;
    uint64_t h = hash3(sc->opt->seed, 7100, (uint64_t)(days + 100000));
    if (sc->wx && days >= sc->wx->day0 && days < sc->wx->day0 + (int64_t)sc->wx->n_days)
        return sc->wx->rain_mm[days - sc->wx->day0];
    if (hash_unit(h) >= 0.1 + 0.25 * exp(-z * z))
        return 0.0;
    return -8.0 * log(1.0 - hash_unit(hash64(h)));
}

/* The topsoil's wetness on a day, 0 (dry) .. 1 (saturated): a bucket that loses 18 % a day and
 * fills by rain / 30 mm, run from 60 days before from dry. */
static double soil_wetness(const struct scene *sc, int64_t days)
{
    double w = 0.0;
    for (int64_t t = days - 60; t <= days; t++)
        w = clampd(0.82 * w + rain_mm(sc, t) / 30.0, 0.0, 1.0);
    return w;
}

static void radar_feature(const struct scene *sc, size_t fi, int64_t days, double wet,
                          bool unplanted, double *vv, double *vh)
{
    const struct feature *f = &sc->f[fi];
    double vv_db = -12, vh_db = -20, water = 0;
    int64_t jan1 = days_from_civil(sc->opt->year, 1, 1);
    double doy = (double)(days - jan1 + 1);
    switch ((enum ftype)f->type) {
    case F_FIELD: {
        const struct crop_model *cm = &sc->crops[f->crop];
        const struct parcel *p = f->parcel >= 0 ? &sc->parcels[f->parcel] : NULL;
        struct curve_eval ev;
        double v, loss = 0, moisture = 0;
        field_curve_at(sc, f, doy, &ev);
        if (field_drought(sc, f, doy, &ev, &loss, &moisture))
            ev.ndvi = cm->base + (double)f->base_shift +
                      (ev.ndvi - cm->base - (double)f->base_shift) * (1 - loss);
        ev.ndvi = field_waterlogged(sc, fi, &ev, cm->base + (double)f->base_shift, doy);
        v = clampd((ev.ndvi - 0.15) / 0.7, 0, 1);
        if (p && p->loss_date >= 0 && days >= sc->dates[p->loss_date].days &&
            doy <= p->loss_end_t + 20)
            v *= 1 - p->loss_m;
        if (unplanted || cm->crop->kind == PARUS_CROP_COVERED)
            v = unplanted ? 0 : v;
        radar_crop_db(cm->crop->code, ev.cycle, v, &vv_db, &vh_db);
        /* wet soil after rain is brighter, where the canopy does not hide it */
        vv_db += 5.0 * (wet - 0.25) * (1 - v);
        vh_db += 4.0 * (wet - 0.25) * (1 - v);
        if (cm->crop->kind == PARUS_CROP_COVERED) {
            vv_db = -6; /* plastic and frames: bright, little depolarisation */
            vh_db = -16;
        }
        if (!unplanted && ev.flooded)
            water = 1 - v; /* paddy water shows where the canopy does not hide it */
        break;
    }
    case F_TREES:
    case F_GRAVE:
        vv_db = -8;
        vh_db = -13;
        break;
    case F_GRASS:
        vv_db = -12 + 2.5 * (wet - 0.25);
        vh_db = -19 + 2.0 * (wet - 0.25);
        break;
    case F_POND:
        water = 1;
        break;
    case F_VILLAGE:
        vv_db = -3; /* double bounce off walls */
        vh_db = -12;
        break;
    }
    *vv = (1 - water) * db_to_lin(vv_db) + water * db_to_lin(-22);
    *vh = (1 - water) * db_to_lin(vh_db) + water * db_to_lin(-28);
}

/* Gamma(L, L) from a hash (mean 1, variance 1/L): Marsaglia and Tsang 2000, L >= 1. */
static double speckle(double looks, uint64_t h)
{
    double d = looks - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    uint64_t k;
    for (k = 0; k < 64; k++) {
        double x = hash_normal(hash64(h + 2 * k)), u = hash_unit(hash64(h + 2 * k + 1));
        double v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v / looks;
    }
    return 1;
}

static double radar_angle_deg(const struct scene *sc, const struct radar_date *rd, size_t x)
{
    double s = ((double)x + 0.5) / (double)sc->W - 0.5;
    return rd->mid_deg + (rd->ascending ? 5.0 : -5.0) * s;
}

static int radar_dates(const struct scene *sc, struct radar_date **out)
{
    const struct options *o = sc->opt;
    int64_t first = sc->dates[0].days, last = sc->dates[sc->n_dates - 1].days, t;
    int n = 0, k = 0;
    struct radar_date *rd;
    for (t = first; t <= last; t += o->radar_revisit_days)
        n++;
    rd = calloc((size_t)n, sizeof *rd);
    if (!rd)
        return -1;
    for (t = first; t <= last; t += o->radar_revisit_days, k++) {
        char compact[11];
        rd[k].days = t;
        rd[k].ascending = k % 2 == 0;
        rd[k].mid_deg = rd[k].ascending ? 39.0 : 34.0;
        format_date(t, compact, true);
        snprintf(rd[k].name, sizeof rd[k].name, "S1A_IW_GRDH_%s_%s_synth.tif", compact,
                 rd[k].ascending ? "ASC" : "DSC");
    }
    *out = rd;
    return n;
}

static GDALDatasetH create_radar_tile(const struct scene *sc, const struct radar_date *rd,
                                      const char *path)
{
    static const char *const names[] = {"VV", "VH", "ANGLE"};
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **opts = tile_options(sc), *wkt = NULL, date[32], looks[32];
    int b;
    GDALDatasetH ds;
    OGRSpatialReferenceH srs;
    double gt[6] = {sc->ox_m, RES_M, 0, sc->oy_m, 0, -RES_M};
    ds = drv ? GDALCreate(drv, path, (int)sc->W, (int)sc->H, 3, GDT_Float32, opts) : NULL;
    CSLDestroy(opts);
    if (!ds)
        return NULL;
    GDALSetGeoTransform(ds, gt);
    srs = OSRNewSpatialReference(NULL);
    if (OSRImportFromEPSG(srs, sc->opt->epsg) == OGRERR_NONE &&
        OSRExportToWkt(srs, &wkt) == OGRERR_NONE)
        GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    format_date(rd->days, date, false);
    snprintf(date + strlen(date), sizeof date - strlen(date), "T%s", "10:21:01Z");
    snprintf(looks, sizeof looks, "%g", sc->opt->radar_looks);
    GDALSetMetadataItem(ds, "MISSION", "SENTINEL-1A", NULL);
    GDALSetMetadataItem(ds, "INSTRUMENT_MODE", "IW", NULL);
    GDALSetMetadataItem(ds, "PRODUCT_TYPE", "GRD", NULL);
    GDALSetMetadataItem(ds, "BACKSCATTER_COEFFICIENT", "sigma0", NULL);
    GDALSetMetadataItem(ds, "BACKSCATTER_SCALE", "linear", NULL);
    GDALSetMetadataItem(ds, "ACQUISITION_DATE", date, NULL);
    GDALSetMetadataItem(ds, "ORBIT_DIRECTION", rd->ascending ? "ASCENDING" : "DESCENDING", NULL);
    GDALSetMetadataItem(ds, "RELATIVE_ORBIT", rd->ascending ? "142" : "69", NULL);
    GDALSetMetadataItem(ds, "NUMBER_OF_LOOKS", looks, NULL);
    GDALSetMetadataItem(ds, "NOISE_REMOVED", "YES", NULL);
    GDALSetMetadataItem(ds, "SOURCE", "parus-synth synthetic scene, not real imagery", NULL);
    for (b = 0; b < 3; b++) {
        GDALRasterBandH h = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(h, names[b]);
        GDALSetRasterNoDataValue(h, NAN);
        GDALSetRasterUnitType(h, b < 2 ? "linear" : "deg");
    }
    return ds;
}

static int render_radar(struct scene *sc, struct radar_date *rd, int n_rd, bool *failed_io)
{
    const struct options *o = sc->opt;
    size_t rows = sc->H < 512 ? sc->H : 512, y0, npx = rows * sc->W;
    struct strip st;
    float *band[3] = {NULL, NULL, NULL};
    double *fs = malloc(sc->n_f * 4 * sizeof *fs); /* VV, VH planted; VV, VH unplanted */
    int rc = RC_FAIL, k, b;
    char path[4096];

    memset(&st, 0, sizeof st);
    *failed_io = false;
    for (b = 0; b < 3; b++)
        band[b] = malloc(npx * sizeof *band[b]);
    if (!fs || !band[0] || !band[1] || !band[2] || !strip_alloc(&st, sc, rows)) {
        fprintf(stderr, "parus-synth: out of memory for the radar buffers\n");
        goto out;
    }
    for (k = 0; k < n_rd; k++) {
        GDALDatasetH ds;
        uint64_t seed_vv = hash3(o->seed, 9000 + (uint64_t)k, 1);
        uint64_t seed_vh = hash3(o->seed, 9000 + (uint64_t)k, 2);
        size_t fi;
        snprintf(path, sizeof path, "%s/%s", o->out_dir, rd[k].name);
        if (!(ds = create_radar_tile(sc, &rd[k], path))) {
            fprintf(stderr, "parus-synth: cannot create '%s': %s\n", path, CPLGetLastErrorMsg());
            *failed_io = true;
            goto out;
        }
        double wet = soil_wetness(sc, rd[k].days);
        for (fi = 0; fi < sc->n_f; fi++) {
            radar_feature(sc, fi, rd[k].days, wet, false, &fs[4 * fi], &fs[4 * fi + 1]);
            radar_feature(sc, fi, rd[k].days, wet, true, &fs[4 * fi + 2], &fs[4 * fi + 3]);
        }
        for (y0 = 0; y0 < sc->H; y0 += rows) {
            size_t y, x;
            st.y0 = y0;
            st.y1 = y0 + rows < sc->H ? y0 + rows : sc->H;
            st.lr0 = 0;
            st.lr1 = sc->nby;
            if (!strip_compose(&st, sc)) {
                fprintf(stderr, "parus-synth: out of memory while rasterising\n");
                GDALClose(ds);
                goto out;
            }
            for (y = st.y0; y < st.y1; y++)
                for (x = 0; x < sc->W; x++) {
                    size_t i = (y - st.y0) * sc->W + x, e, gidx = y * sc->W + x;
                    double vv = 0, vh = 0, th = radar_angle_deg(sc, &rd[k], x), g;
                    for (e = st.pix_start[i]; e < st.pix_start[i + 1]; e++) {
                        uint32_t l = st.ent_lab[e];
                        double w = (double)st.ent_cnt[e] / (SS * SS);
                        if (l == 0) {
                            vv += w * db_to_lin(-15);
                            vh += w * db_to_lin(-23);
                        } else {
                            size_t j = (l & ~UNPLANTED_BIT) - 1, u = (l & UNPLANTED_BIT) ? 2 : 0;
                            int32_t pi = sc->f[j].parcel;
                            if (pi >= 0 && flooded_at(&sc->parcels[pi], rd[k].days, (double)x + 0.5,
                                                      (double)y + 0.5)) {
                                vv += w * db_to_lin(-22);
                                vh += w * db_to_lin(-28);
                            } else {
                                vv += w * fs[4 * j + u];
                                vh += w * fs[4 * j + u + 1];
                            }
                        }
                    }
                    g = pow(cos(th * PI / 180) / cos(37 * PI / 180), 2);
                    band[0][i] = (float)(vv * g * speckle(o->radar_looks, hash64(seed_vv + gidx)));
                    band[1][i] = (float)(vh * g * speckle(o->radar_looks, hash64(seed_vh + gidx)));
                    band[2][i] = (float)th;
                }
            for (b = 0; b < 3; b++)
                if (GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Write, 0, (int)st.y0, (int)sc->W,
                                 (int)(st.y1 - st.y0), band[b], (int)sc->W, (int)(st.y1 - st.y0),
                                 GDT_Float32, 0, 0) != CE_None) {
                    fprintf(stderr, "parus-synth: cannot write '%s': %s\n", rd[k].name,
                            CPLGetLastErrorMsg());
                    *failed_io = true;
                    GDALClose(ds);
                    goto out;
                }
        }
        GDALClose(ds);
    }
    rc = RC_OK;
out:
    for (b = 0; b < 3; b++)
        free(band[b]);
    free(fs);
    strip_free(&st);
    return rc;
}

static bool write_radar_truth(const struct scene *sc, const struct radar_date *rd, int n_rd)
{
    FILE *f = open_truth(sc, "radar_dates.csv");
    int k;
    char date[11], pid[32];
    if (!f)
        return false;
    fputs("date,file,orbit_direction,relative_orbit,incidence_mid_deg,looks,soil_wetness\n", f);
    for (k = 0; k < n_rd; k++) {
        format_date(rd[k].days, date, false);
        fprintf(f, "%s,%s,%s,%s,%.1f,%g,%.3f\n", date, rd[k].name,
                rd[k].ascending ? "ASCENDING" : "DESCENDING", rd[k].ascending ? "142" : "69",
                rd[k].mid_deg, sc->opt->radar_looks, soil_wetness(sc, rd[k].days));
    }
    if (!close_truth(f))
        return false;

    /* the rain and the soil's wetness, every day from 60 days before the first radar date */
    if (!(f = open_truth(sc, "rain.csv")))
        return false;
    fputs("date,rain_mm,soil_wetness\n", f);
    for (int64_t t = n_rd ? rd[0].days - 60 : 0; n_rd && t <= rd[n_rd - 1].days; t++) {
        format_date(t, date, false);
        fprintf(f, "%s,%.1f,%.3f\n", date, rain_mm(sc, t), soil_wetness(sc, t));
    }
    if (!close_truth(f))
        return false;

    /* each registered parcel's noise-free backscatter at 37 degrees on each radar date: the
     * area mean in linear power of its planted and unplanted parts and of its flood's water */
    if (!(f = open_truth(sc, "parcel_radar.csv")))
        return false;
    fputs("parcel_id,date,vv_db,vh_db,flood_share\n", f);
    for (size_t i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        const struct feature *ft = &sc->f[p->feature];
        double pf = ft->split ? (double)ft->pf : 1.0;
        parcel_id(pid, sizeof pid, i);
        for (k = 0; k < n_rd; k++) {
            double wet = soil_wetness(sc, rd[k].days), a[2], b[2], fw = 0;
            radar_feature(sc, p->feature, rd[k].days, wet, false, &a[0], &a[1]);
            radar_feature(sc, p->feature, rd[k].days, wet, true, &b[0], &b[1]);
            if (p->flood_first >= 0 && rd[k].days >= p->flood_day0 && rd[k].days <= p->flood_day1)
                fw = p->flood_m;
            double vv = (1 - fw) * (pf * a[0] + (1 - pf) * b[0]) + fw * db_to_lin(-22);
            double vh = (1 - fw) * (pf * a[1] + (1 - pf) * b[1]) + fw * db_to_lin(-28);
            format_date(rd[k].days, date, false);
            fprintf(f, "%s,%s,%.2f,%.2f,%.3f\n", pid, date, 10 * log10(vv), 10 * log10(vh), fw);
        }
    }
    return close_truth(f);
}

/* ---- weather files and harvests (--weather) ---- */

static bool make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "parus-synth: cannot create directory '%s': %s\n", path, strerror(errno));
    return false;
}

/* One GeoTIFF stack per variable and calendar year, DIR/weather/<var>_<YYYY>.tif, in the weather
 * contract of docs/formats.md: EPSG:4326, Float32, one band per day from 1 January to 31
 * December, band metadata DATE=YYYY-MM-DD (and the date as the band's description), dataset
 * metadata VARIABLE, the unit as the bands' unit type. */
static bool write_weather(const struct scene *sc)
{
    static const char *const var[3] = {"precip", "tmin", "tmax"};
    static const char *const unit[3] = {"mm", "degC", "degC"};
    const struct weather *wx = sc->wx;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
    double gt[6] = {(double)wx->ix0 * wx->res_deg,
                    wx->res_deg,
                    0,
                    (double)(wx->iy0 + (int64_t)wx->ny) * wx->res_deg,
                    0,
                    -wx->res_deg};
    size_t cells = wx->nx * wx->ny;
    float *buf = malloc(3 * 366 * cells * sizeof *buf);
    char path[4096], *wkt = NULL, **opts = NULL;
    bool ok = false;
    int y, v;

    snprintf(path, sizeof path, "%s/weather", sc->opt->out_dir);
    if (!buf || !drv || !make_dir(path))
        goto out;
    if (OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE || OSRExportToWkt(wgs, &wkt) != OGRERR_NONE)
        goto out;
    opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    opts = CSLSetNameValue(opts, "INTERLEAVE", "PIXEL");
    for (y = wx->year0; y <= sc->opt->year; y++) {
        int64_t jan1 = days_from_civil(y, 1, 1);
        int nd = (int)(days_from_civil(y + 1, 1, 1) - jan1), t;
        size_t k0 = (size_t)(jan1 - wx->day0), r, c;
        for (t = 0; t < nd; t++)
            for (r = 0; r < wx->ny; r++)
                for (c = 0; c < wx->nx; c++) {
                    float val[3];
                    size_t at = (size_t)t * cells + r * wx->nx + c;
                    wx_cell(sc, k0 + (size_t)t, wx->ix0 + (int64_t)c,
                            wx->iy0 + (int64_t)(wx->ny - 1 - r), val);
                    for (v = 0; v < 3; v++)
                        buf[(size_t)v * 366 * cells + at] = val[v];
                }
        for (v = 0; v < 3; v++) {
            GDALDatasetH ds;
            CPLErr e;
            snprintf(path, sizeof path, "%s/weather/%s_%04d.tif", sc->opt->out_dir, var[v], y);
            CPLErrorReset(); /* a failure left on the stack after GDALClose is this file's */
            ds = GDALCreate(drv, path, (int)wx->nx, (int)wx->ny, nd, GDT_Float32, opts);
            if (!ds) {
                fprintf(stderr, "parus-synth: cannot create '%s': %s\n", path,
                        CPLGetLastErrorMsg());
                goto out;
            }
            GDALSetGeoTransform(ds, gt);
            GDALSetProjection(ds, wkt);
            GDALSetMetadataItem(ds, "VARIABLE", var[v], NULL);
            GDALSetMetadataItem(ds, "SOURCE", "parus-synth synthetic weather, not observations",
                                NULL);
            for (t = 0; t < nd; t++) {
                GDALRasterBandH b = GDALGetRasterBand(ds, t + 1);
                char date[11];
                format_date(jan1 + t, date, false);
                GDALSetDescription(b, date);
                GDALSetMetadataItem(b, "DATE", date, NULL);
                GDALSetRasterUnitType(b, unit[v]);
            }
            e = GDALDatasetRasterIO(ds, GF_Write, 0, 0, (int)wx->nx, (int)wx->ny,
                                    buf + (size_t)v * 366 * cells, (int)wx->nx, (int)wx->ny,
                                    GDT_Float32, nd, NULL, 0, 0, 0);
            GDALClose(ds);
            if (e != CE_None || CPLGetLastErrorType() == CE_Failure) {
                fprintf(stderr, "parus-synth: cannot write '%s': %s\n", path, CPLGetLastErrorMsg());
                goto out;
            }
        }
    }
    ok = true;
out:
    CSLDestroy(opts);
    CPLFree(wkt);
    OSRDestroySpatialReference(wgs);
    free(buf);
    return ok;
}

/* The crop response behind truth/harvests.csv, per crop code and cycle: the yield (kg/mu) of a
 * cycle whose canopy is its crop's nominal one, unstressed, and the tmax (degC) above which a day
 * within HEAT_WINDOW_DAYS of the peak is a heat day (35 for maize and rice, 32 for wheat: the
 * orders of magnitude of heat-stress thresholds at flowering). Another annual crop gets the
 * middle of its table's yield range, split over its cycles, and 35 degC (32 for a wheat). */
static const struct crop_response {
    const char *code;
    double nominal_kg_per_mu[2];
    double heat_c[2];
} CROP_RESPONSES[] = {
    {"winter_wheat", {480, 0}, {32, 0}},    {"summer_maize", {560, 0}, {35, 0}},
    {"spring_maize", {620, 0}, {35, 0}},    {"single_rice", {600, 0}, {35, 0}},
    {"double_rice", {420, 450}, {35, 35}},  {"soybean", {170, 0}, {35, 0}},
    {"cotton", {110, 0}, {36, 0}},          {"rapeseed", {170, 0}, {30, 0}},
    {"peanut", {280, 0}, {35, 0}},          {"potato", {1800, 0}, {30, 0}},
    {"vegetables", {2200, 2200}, {32, 32}}, {"wheat_maize", {480, 560}, {32, 35}},
};

#define CANOPY_KAPPA 1.0        /* curvature of the canopy response */
#define WATER_BETA 0.5          /* yield lost at a full deficit over the whole sensitive period */
#define WATER_LEAD_DAYS 20.0    /* the sensitive period starts this long before the peak */
#define HEAT_WINDOW_DAYS 10     /* heat days are counted within this of the peak */
#define HEAT_LOSS_PER_DAY 0.04  /* share of the yield a heat day costs */
#define YIELD_SIGMA 0.07        /* s.d. of the log-normal noise */
#define FROST_BEFORE_DAYS 25    /* frost hurts from this long before the peak (booting, heading) */
#define FROST_AFTER_DAYS 10     /* ... to this long after it (flowering) */
#define FROST_C (-2.0)          /* a damaging frost: the cell's minimum below this */
#define FROST_LOSS_PER_DAY 0.15 /* share of the yield a damaging frost day costs */
#define FLOOD_KILL_DAYS 7.0     /* days under water that kill a dryland crop (14 for rice) */

static void crop_response(const struct crop_model *cm, int cycle, double *nominal, double *heat_c)
{
    size_t i;
    for (i = 0; i < sizeof CROP_RESPONSES / sizeof CROP_RESPONSES[0]; i++)
        if (strcmp(CROP_RESPONSES[i].code, cm->crop->code) == 0 &&
            CROP_RESPONSES[i].nominal_kg_per_mu[cycle] > 0) {
            *nominal = CROP_RESPONSES[i].nominal_kg_per_mu[cycle];
            *heat_c = CROP_RESPONSES[i].heat_c[cycle];
            return;
        }
    *nominal = 0.5 * (cm->crop->yield_min_kg_per_mu + cm->crop->yield_max_kg_per_mu) /
               (cm->n_cycles > 0 ? cm->n_cycles : 1);
    *heat_c = strstr(cm->crop->code, "wheat") ? 32 : 35;
}

/* The regional rain's shortfall over season days [a, b) of the season year against the same
 * days' mean over the climatology years: max(0, 1 - rain / normal), 0 without a climatology.
 * A rainfed crop's grain fill feels any dry spell in its sensitive period, the season's drought
 * or a natural one (docs/synth.md, "Harvests"). */
static double rain_shortfall(const struct weather *wx, double a, double b)
{
    int64_t t, t0 = (int64_t)ceil(a), t1 = (int64_t)ceil(b) - 1;
    int n_years = (int)((wx->jan1 - wx->day0) / 365), y, n = 0;
    double season = 0, normal = 0;
    if (n_years < 1 || t1 < t0)
        return 0;
    for (t = t0; t <= t1; t++) {
        int64_t k = wx->jan1 - wx->day0 + t - 1;
        if (k >= 0 && k < (int64_t)wx->n_days)
            season += wx->rain_mm[k];
    }
    for (y = 1; y <= n_years; y++) {
        double tot = 0;
        int64_t shift = (int64_t)floor(365.2425 * y + 0.5);
        bool whole = true;
        for (t = t0; t <= t1; t++) {
            int64_t k = wx->jan1 - wx->day0 + t - 1 - shift;
            if (k < 0 || k >= (int64_t)wx->n_days) {
                whole = false;
                break;
            }
            tot += wx->rain_mm[k];
        }
        if (whole) {
            normal += tot;
            n++;
        }
    }
    if (n == 0 || !(normal > 0))
        return 0;
    normal /= n;
    return fmax(0, 1 - season / normal);
}

struct harvest {
    double yield_kg_per_mu;
    bool drought;
    int heat_days, frost_days;
};

/* Registered parcel pi's harvest in the season (docs/synth.md, "Harvests"): false when its crop
 * is not an annual crop whose every cycle is harvested inside the season window (the first to
 * the last image date). Per cycle, the yield is
 *   nominal * canopy * water * heat * exp(noise) * events,
 * canopy = (1 - exp(-k r)) / (1 - exp(-k)) of r, the cycle's daily NDVI above the field's base
 * summed from sowing to harvest relative to its crop's nominal curve; water = 1 - beta S for a
 * rainfed crop, S the regional rain's shortfall over its sensitive period (peak - 20 days to
 * harvest) against the same days' mean over the climatology years (rain_shortfall); heat = max(0, 1
 * - 0.04 n) for n days of tmax above the crop's threshold in the parcel's cell within 10 days of
 * the peak; noise N(0, 0.07); events: a sudden loss keeps 1 - magnitude, a flood 1 - share * min(1,
 * days under water / 7 (14 for rice)). */
static bool parcel_harvest(const struct scene *sc, size_t pi, struct harvest *out)
{
    const struct weather *wx = sc->wx;
    const struct parcel *p = &sc->parcels[pi];
    const struct feature *f = &sc->f[p->feature];
    const struct crop_model *cm = &sc->crops[f->crop];
    double jit = (double)f->sow_jitter_days, total = 0;
    int64_t first = sc->dates[0].days, last = sc->dates[sc->n_dates - 1].days;
    int c, heat_days = 0, frost_days = 0;
    bool hit_any = false;

    if (!cm->crop || cm->crop->kind != PARUS_CROP_ANNUAL || cm->n_cycles < 1)
        return false;
    for (c = 0; c < cm->n_cycles; c++) {
        const struct cycle_model *cy = &cm->cy[c];
        double hs = cy->h + jit - 365.0 * floor((cy->h + jit - 1) / 365.0);
        int64_t hday = wx->jan1 + (int64_t)floor(hs + 0.5) - 1;
        if (hday < first || hday > last)
            return false;
    }
    for (c = 0; c < cm->n_cycles; c++) {
        const struct cycle_model *cy = &cm->cy[c];
        double shift = jit - 365.0 * floor((cy->h + jit - 1) / 365.0); /* cycle frame to season */
        double s = cy->s + shift, h = cy->h + shift, pk = cy->p + shift;
        double num = 0, den = 0, r, canopy, water = 1, heat, frost, events = 1, nominal, heat_c, y;
        int64_t t, t0 = (int64_t)ceil(s), t1 = (int64_t)floor(h), tp = (int64_t)floor(pk + 0.5);
        bool hit = drought_stress(sc, f->crop, c, shift, wx->d1 + 1.0) > 0;
        int n_heat = 0, n_frost = 0;

        crop_response(cm, c, &nominal, &heat_c);
        for (t = t0; t <= t1; t++) {
            double g = cycle_shape(cy, (double)t - shift, cm->cut_at_harvest);
            double loss = DROUGHT_NDVI_LOSS * drought_stress(sc, f->crop, c, shift, (double)t);
            num += g * (1 - loss) * (1 - waterlog_loss(sc, p->feature, c, shift, (double)t));
            den += g;
        }
        r = (double)f->peak_scale * (den > 0 ? num / den : 1);
        canopy = (1 - exp(-CANOPY_KAPPA * r)) / (1 - exp(-CANOPY_KAPPA));
        if (crop_rainfed(&sc->crops[f->crop]))
            water = 1 - WATER_BETA * rain_shortfall(wx, pk - WATER_LEAD_DAYS, h);
        for (t = tp - HEAT_WINDOW_DAYS; t <= tp + HEAT_WINDOW_DAYS; t++) {
            int64_t k = wx->jan1 - wx->day0 + t - 1;
            float val[3];
            if (k < 0 || k >= (int64_t)wx->n_days)
                continue;
            wx_cell(sc, (size_t)k, wx->parcel_ix[pi], wx->parcel_iy[pi], val);
            n_heat += (double)val[2] > heat_c;
        }
        heat = fmax(0, 1 - HEAT_LOSS_PER_DAY * n_heat);
        /* frost around heading and flowering: the late frost's nights or natural ones */
        for (t = tp - FROST_BEFORE_DAYS; t <= tp + FROST_AFTER_DAYS; t++) {
            int64_t k = wx->jan1 - wx->day0 + t - 1;
            float val[3];
            if (k < 0 || k >= (int64_t)wx->n_days)
                continue;
            wx_cell(sc, (size_t)k, wx->parcel_ix[pi], wx->parcel_iy[pi], val);
            n_frost += (double)val[1] < FROST_C;
        }
        frost = fmax(0, 1 - FROST_LOSS_PER_DAY * n_frost);
        if (p->loss_date >= 0 && sc->dates[p->loss_date].doy >= s &&
            sc->dates[p->loss_date].doy <= h)
            events *= 1 - p->loss_m;
        if (p->flood_first >= 0) {
            int64_t a = p->flood_day0 > wx->jan1 + t0 - 1 ? p->flood_day0 : wx->jan1 + t0 - 1;
            int64_t b = p->flood_day1 < wx->jan1 + t1 - 1 ? p->flood_day1 : wx->jan1 + t1 - 1;
            double kill = cm->paddy ? 2 * FLOOD_KILL_DAYS : FLOOD_KILL_DAYS;
            if (b >= a)
                events *= 1 - p->flood_m * fmin(1, (double)(b - a + 1) / kill);
        }
        y = nominal * canopy * water * heat * frost * events *
            exp(YIELD_SIGMA * hash_gauss(hash3(sc->opt->seed ^ WX_SALT, 12, 2 * pi + (size_t)c)));
        total += y;
        heat_days += n_heat;
        frost_days += n_frost;
        hit_any = hit_any || hit;
    }
    out->yield_kg_per_mu = total;
    out->drought = hit_any;
    out->heat_days = heat_days;
    out->frost_days = frost_days;
    return true;
}

/* truth/weather_events.csv (a header alone when the season had none) and truth/harvests.csv. */
static bool write_weather_truth(const struct scene *sc)
{
    const struct weather *wx = sc->wx;
    FILE *f;
    char a[11], b[11], season[32], pid[32];
    size_t i;

    if (!(f = open_truth(sc, "weather_events.csv")))
        return false;
    fputs("kind,first_date,last_date,size\n", f);
    if (wx->drought) {
        format_date(wx->jan1 + wx->d0 - 1, a, false);
        format_date(wx->jan1 + wx->d1 - 1, b, false);
        fprintf(f, "drought,%s,%s,%.3f\n", a, b, wx->deficit);
    }
    if (wx->heatwave) {
        format_date(wx->jan1 + wx->h0 - 1, a, false);
        format_date(wx->jan1 + wx->h1 - 1, b, false);
        fprintf(f, "heatwave,%s,%s,%.1f\n", a, b, wx->heat_tmax_c);
    }
    if (wx->frost) {
        format_date(wx->jan1 + wx->f0 - 1, a, false);
        format_date(wx->jan1 + wx->f1 - 1, b, false);
        fprintf(f, "frost,%s,%s,%.1f\n", a, b, wx->frost_tmin_c);
    }
    if (wx->waterlog) {
        format_date(wx->jan1 + wx->w0 - 1, a, false);
        format_date(wx->jan1 + wx->w1 - 1, b, false);
        fprintf(f, "waterlog,%s,%s,%.1f\n", a, b, wx->waterlog_mm);
    }
    if (!close_truth(f))
        return false;

    if (!(f = open_truth(sc, "harvests.csv")))
        return false;
    format_date(sc->dates[0].days, a, false);
    format_date(sc->dates[sc->n_dates - 1].days, b, false);
    snprintf(season, sizeof season, "%s/%s", a, b);
    fputs("parcel_id,season,crop,planted_area_m2,yield_kg_per_mu,harvest_kg,drought,heat_days,"
          "frost_days\n",
          f);
    for (i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        const struct feature *ft = &sc->f[p->feature];
        double area_m2 = p->area_m2 * (ft->split ? (double)ft->pf : 1.0);
        struct harvest h;
        if (!parcel_harvest(sc, i, &h))
            continue;
        parcel_id(pid, sizeof pid, i);
        fprintf(f, "%s,%s,%s,%.2f,%.2f,%.2f,%d,%d,%d\n", pid, season,
                sc->crops[ft->crop].crop->code, area_m2, h.yield_kg_per_mu,
                h.yield_kg_per_mu * area_m2 / M2_PER_MU, h.drought ? 1 : 0, h.heat_days,
                h.frost_days);
    }
    return close_truth(f);
}

/* The largest waterlog_share of registered parcel pi's cycles in the season year (each
 * cycle's frame shifted as parcel_harvest shifts it), 0 when none is hit. */
static double parcel_waterlog(const struct scene *sc, size_t pi)
{
    const struct feature *f = &sc->f[sc->parcels[pi].feature];
    const struct crop_model *cm = &sc->crops[f->crop];
    double jit = (double)f->sow_jitter_days, best = 0;
    int c;
    if (!sc->wx || !sc->wx->waterlog)
        return 0;
    for (c = 0; c < cm->n_cycles; c++) {
        double shift = jit - 365.0 * floor((cm->cy[c].h + jit - 1) / 365.0);
        best = fmax(best, waterlog_share(sc, sc->parcels[pi].feature, c, shift));
    }
    return best;
}

static bool write_truth(const struct scene *sc)
{
    FILE *f;
    size_t i;
    int d;
    double share;
    char pid[32], fid[32], vid[32], date[11], last[11];

    if (!(f = open_truth(sc, "parcels_truth.csv")))
        return false;
    fputs("parcel_id,farmer_id,village,crop,planted_fraction,true_area_m2,declared_area_mu,valid,"
          "shape,sow_doy,sow2_doy,defect,vigour,weak_cause\n",
          f);
    for (i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        const struct feature *ft = &sc->f[p->feature];
        const struct crop_model *cm = &sc->crops[ft->crop];
        double pf = is_fallow(sc, ft) ? 0 : ft->split ? (double)ft->pf : 1.0;
        char sow[16] = "", sow2[16] = "";
        if (cm->crop->n_cycles >= 1)
            snprintf(sow, sizeof sow, "%d",
                     wrap_doy(cm->crop->cycle[0].sow_doy + (double)ft->sow_jitter_days));
        if (cm->crop->n_cycles >= 2)
            snprintf(sow2, sizeof sow2, "%d",
                     wrap_doy(cm->crop->cycle[1].sow_doy + (double)ft->sow_jitter_days));
        char weak[64];
        weak_cause(sc, p, weak, sizeof weak);
        parcel_id(pid, sizeof pid, i);
        farmer_id(fid, sizeof fid, p->farmer);
        village_id(vid, sizeof vid, feature_village(sc, p->feature));
        fprintf(f, "%s,%s,%s,%s,%.4f,%.2f,%.2f,%d,%s,%s,%s,%s,%.3f,%s\n", pid, fid, vid,
                cm->crop->code, pf, p->area_m2, p->declared_mu, p->invalid ? 0 : 1,
                shape_names[p->shape], sow, sow2, defect_names[p->defect], (double)ft->peak_scale,
                weak);
    }
    if (!close_truth(f))
        return false;

    if (!(f = open_truth(sc, "events.csv")))
        return false;
    fputs("parcel_id,event,date,last_date,magnitude\n", f);
    for (i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        parcel_id(pid, sizeof pid, i);
        if (p->flood_first >= 0) {
            format_date(p->flood_day0, date, false);
            format_date(p->flood_day1, last, false);
            fprintf(f, "%s,flood,%s,%s,%.3f\n", pid, date, last, p->flood_m);
        }
        if (p->loss_date >= 0) {
            format_date(sc->dates[p->loss_date].days, date, false);
            fprintf(f, "%s,sudden_loss,%s,,%.3f\n", pid, date, p->loss_m);
        }
        if ((share = parcel_waterlog(sc, i)) > 0) {
            format_date(sc->wx->jan1 + sc->wx->w0 - 1, date, false);
            format_date(sc->wx->jan1 + sc->wx->w1 - 1, last, false);
            fprintf(f, "%s,waterlog,%s,%s,%.3f\n", pid, date, last, share);
        }
    }
    if (!close_truth(f))
        return false;

    if (sc->opt->glitches > 0) {
        if (!(f = open_truth(sc, "glitches.csv")))
            return false;
        fputs("parcel_id,date,kind,strength,ndvi,ndvi_glitched\n", f);
        for (i = 0; i < sc->n_parcels; i++) {
            const struct parcel *p = &sc->parcels[i];
            const struct feature *ft = &sc->f[p->feature];
            double pf = ft->split ? (double)ft->pf : 1.0;
            parcel_id(pid, sizeof pid, i);
            for (d = 0; d < sc->n_dates; d++) {
                double a[N_SPEC], b[N_SPEC], m[N_SPEC], strength = 0;
                enum glitch g = glitch_of(sc, i, d, &strength);
                double before;
                if (g == GL_NONE)
                    continue;
                field_state(sc, p->feature, d, a, b);
                mix(m, b, a, pf);
                before = ndvi_of(m);
                glitch_apply(g, strength, m);
                format_date(sc->dates[d].days, date, false);
                fprintf(f, "%s,%s,%s,%.3f,%.4f,%.4f\n", pid, date, glitch_names[g], strength,
                        before, ndvi_of(m));
            }
        }
        if (!close_truth(f))
            return false;
    }

    if (!(f = open_truth(sc, "dates.csv")))
        return false;
    fputs("date,cloud_fraction,file,shadow_fraction,cirrus_fraction,spacecraft\n", f);
    for (d = 0; d < sc->n_dates; d++) {
        const struct date_info *di = &sc->dates[d];
        double n = (double)(sc->W * sc->H);
        format_date(di->days, date, false);
        fprintf(f, "%s,%.4f,%s,%.4f,%.4f,%s\n", date, (double)di->n_cloud / n, di->name,
                (double)di->n_shadow / n, (double)di->n_cirrus / n, di->spacecraft);
    }
    if (!close_truth(f))
        return false;

    if (!(f = open_truth(sc, "parcel_ndvi.csv")))
        return false;
    fputs("parcel_id,date,ndvi,ndvi_of_mean\n", f);
    for (i = 0; i < sc->n_parcels; i++) {
        const struct parcel *p = &sc->parcels[i];
        const struct feature *ft = &sc->f[p->feature];
        double pf = ft->split ? (double)ft->pf : 1.0;
        parcel_id(pid, sizeof pid, i);
        for (d = 0; d < sc->n_dates; d++) {
            double a[N_SPEC], b[N_SPEC], m[N_SPEC], mw[N_SPEC], wm = 0;
            double ndvi;
            field_state(sc, p->feature, d, a, b);
            mix(m, b, a, pf);
            ndvi = pf * ndvi_of(a) + (1 - pf) * ndvi_of(b);
            if (p->flood_first >= 0 && sc->dates[d].days >= p->flood_day0 &&
                sc->dates[d].days <= p->flood_day1)
                wm = p->flood_m; /* the water line is placed on the exact area */
            mix(mw, m, EM_WATER, wm);
            format_date(sc->dates[d].days, date, false);
            fprintf(f, "%s,%s,%.4f,%.4f\n", pid, date, (1 - wm) * ndvi + wm * ndvi_of(EM_WATER),
                    ndvi_of(mw));
        }
    }
    return close_truth(f);
}

/* ---- set-up and main ---- */

static bool utm_zone(int epsg, int *zone, bool *south)
{
    if (epsg >= 32601 && epsg <= 32660) {
        *zone = epsg - 32600;
        *south = false;
        return true;
    }
    if (epsg >= 32701 && epsg <= 32760) {
        *zone = epsg - 32700;
        *south = true;
        return true;
    }
    return false;
}

/* The Sentinel-2 (MGRS) tile name for the scene's centre, for file names. */
static void mgrs_name(struct scene *sc)
{
    static const char *const cols[3] = {"STUVWXYZ", "ABCDEFGH", "JKLMNPQR"};
    static const char rows[] = "ABCDEFGHJKLMNPQRSTUV", bands[] = "CDEFGHJKLMNPQRSTUVWX";
    int zone, ci, ri, bi;
    bool south;
    double e = sc->ox_m + 0.5 * RES_M * (double)sc->W, n = sc->oy_m - 0.5 * RES_M * (double)sc->H;
    if (!utm_zone(sc->opt->epsg, &zone, &south)) {
        snprintf(sc->mgrs, sizeof sc->mgrs, "SYNTH");
        return;
    }
    ci = (int)clampd(floor(e / 100000) - 1, 0, 7);
    ri = ((int)floor(n / 100000) + (zone % 2 == 0 ? 5 : 0)) % 20;
    if (ri < 0)
        ri += 20;
    bi = (int)clampd(floor((sc->opt->origin_lat_deg + 80) / 8), 0, 19);
    snprintf(sc->mgrs, sizeof sc->mgrs, "%02d%c%c%c", zone, bands[bi], cols[zone % 3][ci],
             rows[ri]);
}

static bool place_origin(struct scene *sc)
{
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL), wgs = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    double x = sc->opt->origin_lon_deg, y = sc->opt->origin_lat_deg;
    bool ok = false;
    if (OSRImportFromEPSG(utm, sc->opt->epsg) != OGRERR_NONE ||
        OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE || !OSRIsProjected(utm))
        goto out;
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    if (!(ct = OCTNewCoordinateTransformation(wgs, utm)) || !OCTTransform(ct, 1, &x, &y, NULL))
        goto out;
    /* Sentinel-2 tile corners sit on whole multiples of the pixel size */
    sc->ox_m = floor(x / RES_M + 0.5) * RES_M;
    sc->oy_m = floor(y / RES_M + 0.5) * RES_M;
    ok = true;
out:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(wgs);
    return ok;
}

static void scene_free(struct scene *sc)
{
    free(sc->crops);
    parus_crop_table_release(&sc->table);
    free(sc->v);
    free(sc->ring_off);
    free(sc->f);
    free(sc->blocks);
    free(sc->lrow_y0);
    free(sc->lrow_y1);
    free(sc->parcels);
    free(sc->feat_parcel);
    free(sc->farmer_over);
    free(sc->dates);
    weather_free(sc->wx);
}

static int load_crops(struct scene *sc)
{
    parus_error err;
    parus_status st;
    size_t k, n_crop_classes = 0;
    parus_error_init(&err);
    st = parus_crop_table_load(sc->opt->crops_path, &sc->table, &err);
    if (st != PARUS_OK) {
        fprintf(stderr, "parus-synth: %s\n", err.msg);
        return st == PARUS_E_IO ? RC_UNREADABLE : st == PARUS_E_NOMEM ? RC_FAIL : RC_CONFIG;
    }
    if (sc->table.n_crops > 250) {
        fprintf(stderr, "parus-synth: crop table '%s' has %zu rows, at most 250 are supported\n",
                sc->opt->crops_path, sc->table.n_crops);
        return RC_CONFIG;
    }
    sc->n_crops = sc->table.n_crops;
    sc->crops = calloc(sc->n_crops, sizeof *sc->crops);
    if (!sc->crops)
        return RC_FAIL;
    sc->fallow = -1;
    for (k = 0; k < sc->n_crops; k++) {
        model_from_crop(&sc->crops[k], &sc->table.crops[k]);
        if (sc->table.crops[k].kind == PARUS_CROP_NONCROP) {
            if (sc->fallow < 0)
                sc->fallow = (int)k;
            else
                sc->crops[k].weight = 0;
        } else {
            n_crop_classes++;
        }
    }
    if (n_crop_classes == 0) {
        fprintf(stderr, "parus-synth: crop table '%s' has no crop, only non-crop rows\n",
                sc->opt->crops_path);
        return RC_CONFIG;
    }
    /* deciduous poplars along roads and in woodlots; grass verges */
    model_simple(&sc->m_trees, 0.30, 0.84, 95, 190, 305);
    model_simple(&sc->m_grass, 0.22, 0.62, 85, 200, 300);
    return RC_OK;
}

int main(int argc, char **argv)
{
    struct options o;
    struct scene sc;
    bool done, io_failed;
    int rc;
    size_t want;
    char path[4096];

    rc = parse_options(argc, argv, &o, &done);
    if (rc != RC_OK || done)
        return rc;
    memset(&sc, 0, sizeof sc);
    sc.opt = &o;
    sc.W = sc.H = (size_t)o.size;
    GDALAllRegister();

    if ((rc = load_crops(&sc)) != RC_OK)
        goto out;
    rc = RC_FAIL;
    if (!place_origin(&sc)) {
        fprintf(stderr,
                "parus-synth: EPSG:%d is not a projected CRS that the origin %g,%g maps "
                "into\n",
                o.epsg, o.origin_lon_deg, o.origin_lat_deg);
        rc = RC_USAGE;
        goto out;
    }
    mgrs_name(&sc);
    if (!build_landscape(&sc)) {
        fprintf(stderr, "parus-synth: out of memory while building the landscape\n");
        goto out;
    }
    want = o.n_parcels < 0 ? (size_t)fmax(1, floor((double)(sc.W * sc.H) / 850.0 + 0.5))
                           : (size_t)o.n_parcels;
    if (!setup_dates(&sc)) {
        fprintf(stderr, "parus-synth: out of memory\n");
        goto out;
    }
    if ((rc = register_parcels(&sc, want)) != RC_OK)
        goto out;
    rc = RC_FAIL;
    if (o.glitches > 0) {
        size_t i;
        if (!(sc.feat_parcel = malloc(sc.n_f * sizeof *sc.feat_parcel))) {
            fprintf(stderr, "parus-synth: out of memory\n");
            goto out;
        }
        for (i = 0; i < sc.n_f; i++)
            sc.feat_parcel[i] = -1;
        for (i = 0; i < sc.n_parcels; i++)
            sc.feat_parcel[sc.parcels[i].feature] = (int32_t)i;
    }
    if (o.weather && !weather_build(&sc))
        goto out;
    if (!make_dir(o.out_dir) ||
        (o.truth && (snprintf(path, sizeof path, "%s/truth", o.out_dir), !make_dir(path))))
        goto out;
    snprintf(path, sizeof path, "%s/parcels.%s", o.out_dir, o.gpkg ? "gpkg" : "geojson");
    if (!write_parcels(&sc, path)) {
        fprintf(stderr, "parus-synth: cannot write '%s': %s\n", path, CPLGetLastErrorMsg());
        goto out;
    }
    if (o.weather && !write_weather(&sc))
        goto out;
    if (render_all(&sc, &io_failed) != RC_OK)
        goto out;
    if (o.truth && !write_truth(&sc))
        goto out;
    if (o.weather && o.truth && !write_weather_truth(&sc))
        goto out;
    if (o.radar) {
        struct radar_date *rd = NULL;
        int n_rd = radar_dates(&sc, &rd);
        bool ok = n_rd > 0 && render_radar(&sc, rd, n_rd, &io_failed) == RC_OK &&
                  (!o.truth || write_radar_truth(&sc, rd, n_rd));
        free(rd);
        if (!ok)
            goto out;
    }
    if (!o.quiet)
        printf("parus-synth: %d dates of %zu x %zu px (EPSG:%d, tile %s), %zu fields, %zu parcels "
               "of %zu farmers -> %s\n",
               sc.n_dates, sc.W, sc.H, o.epsg, sc.mgrs, sc.n_fields, sc.n_parcels, sc.n_farmers,
               o.out_dir);
    if (!o.quiet && sc.wx)
        printf("parus-synth: weather %d-%d on %zu x %zu cells of %g deg; %s drought, %s heat "
               "wave, %s late frost\n",
               sc.wx->year0, o.year, sc.wx->nx, sc.wx->ny, o.weather_res_deg,
               sc.wx->drought ? "a" : "no", sc.wx->heatwave ? "a" : "no",
               sc.wx->frost ? "a" : "no");
    if (!o.quiet && sc.wx && sc.wx->waterlog)
        printf("parus-synth: a waterlogging rainstorm of %.0f mm\n", sc.wx->waterlog_mm);
    rc = RC_OK;
out:
    scene_free(&sc);
    return rc;
}

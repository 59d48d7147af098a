/*
 * tilecheck.c - the tile checks: what a decoder cannot catch (contract in include/parus/kernel.h).
 *
 * A tile can decode without an error and still be wrong: red and NIR exchanged by whoever cut
 * the file, a compressed block damaged in a way the codec accepts, a block overwritten with
 * garbage, a mask that calls nodata clear. Every NDVI from such a tile is wrong and nothing
 * downstream can tell. The kernel reads the parcels' pixels anyway; while a block is in cache it
 * hands each distinct pixel read (and the NDVI steps between read 4-neighbours) to this module,
 * which keeps integer counts and a few sums per block. A block is judged on its own figures;
 * the tile on the sum of its blocks' counts, added in block order, so the verdict does not depend
 * on the thread count.
 *
 * Why each test holds for real land (figures in docs/method.md §2):
 *   - range: no surface reflects below -0.2 or above 1.5 after the sensor's scale and offset;
 *     saturated and nodata DN are already no value. A few per cent of a real tile may still be
 *     odd (a glint, a hot pixel), so the tile test is a share with a floor.
 *   - red-nir-swapped: bright land (red or NIR >= 0.08) with red far above NIR (NDVI < -0.3)
 *     does not occur on real land: vegetation and soil reflect more NIR than red, water is dark,
 *     snow and cloud are near neutral (NDVI about 0). With the bands exchanged, every vegetated
 *     pixel becomes exactly that, and soils move below 0.
 *   - mask-contradiction: a mask band that calls a pixel clear where red or NIR has no value
 *     contradicts its own tile (a mask from another scene, or a block of fill under a clear mask).
 *   - damaged-block: a block whose valid pixels are mostly out of range, or constant in red and
 *     NIR, or spatially white noise in each band on its own (the mean NDVI step between
 *     4-neighbours as large as the block's own spread, and the red and NIR steps uncorrelated:
 *     real imagery is smooth at the pixel scale, and where it is not (a village: roofs and trees
 *     pixel by pixel) red and NIR change together with the mix of materials; a decoded garbage
 *     stream is rough and changes each band on its own).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "raster_int.h"
#include "tilecheck_int.h"

/* A window is judged on its own with at least this many valid pixels. */
#define BLOCK_MIN_VALID 64
/* Pixels with a mask value the mask cannot hold (an SCL class above 11) that make a block
 * damaged: a floor, and a share of the block's pixels read. Real masks hold none. */
#define BLOCK_UNDEFINED_MIN 16
#define BLOCK_UNDEFINED_SHARE 0.02
/* Share of a window's valid pixels out of range that makes its block damaged. */
#define BLOCK_RANGE_SHARE 0.25
/* Bright pixels with strongly negative NDVI and with strongly positive NDVI side by side, each
 * at least this share: random values give a third each; real land has almost no bright pixel
 * with red far above NIR (and a swapped tile only those, which the tile test names). */
#define BLOCK_BOTH_WAYS_SHARE 0.1
/* Noise: mean |NDVI step| between valid 4-neighbours over the block's NDVI standard deviation.
 * Independent noise gives 2/sqrt(pi) = 1.13; real scenes stay below 0.68, real villages below
 * 0.78, but the synthetic villages (a per-pixel mix of roofs and trees) reach 0.95
 * (method.md §2). */
#define BLOCK_NOISE_RATIO 0.85
/* ... judged only where the block's NDVI spread is wide enough to be noise at all. */
#define BLOCK_NOISE_MIN_SD 0.05
/* ... and only where the red and NIR steps between the same neighbours are uncorrelated:
 * |corr| below this. On land, a step from one pixel to the next is a change in the mix of
 * materials in the pixel, which moves red and NIR together (vegetation against roof or soil: NIR
 * up, red down; brightness: both up): the synthetic villages' windows have |corr| 0.75-0.97.
 * A damaged stream decodes each band's values independently of the other's (random values, or
 * one band's block decoded as other data): |corr| about 0, at most 0.33 in a window of 80
 * pixels. */
#define BLOCK_NOISE_MAX_CORR 0.5
/* ... and only where the mean NDVI step is at least this: white noise with uncorrelated bands
 * is also what sensor noise alone gives on a window of nearly uniform or dark land, but its steps
 * are small (at most 0.09 in every clean window measured); a garbage stream's values spread over
 * much of the band's range (steps 0.21-0.55 in every damaged window measured). */
#define BLOCK_NOISE_MIN_STEP 0.15
/* The tile tests need this many valid pixels. */
#define TILE_MIN_VALID 200
/* Radar scale check: finite values of a polarisation before it is judged, and the window of a
 * plausible median in dB (the settled rule, docs/method.md §2). */
#define RADAR_SCALE_MIN 20
#define RADAR_DB_MEDIAN_MIN (-35.0)
#define RADAR_DB_MEDIAN_MAX 5.0
/* range: share of valid pixels out of range, and a floor of pixels. */
#define TILE_RANGE_SHARE 0.02
#define TILE_RANGE_MIN 20
/* mask-contradiction: share of the mask's clear pixels without a red or NIR value. */
#define TILE_MASK_SHARE 0.05
#define TILE_MASK_MIN 50
/* red-nir-swapped: share of bright pixels with red far above NIR, and more of them than the other
 * way. */
#define TILE_SWAP_SHARE 0.05

void parus__window_init(parus__window *q)
{
    memset(q, 0, sizeof *q);
    q->red_min = q->nir_min = INFINITY;
    q->red_max = q->nir_max = -INFINITY;
}

float parus__window_add(parus__window *q, bool has_mask, unsigned mask, const float *band,
                        size_t n_band, float red, float nir)
{
    size_t k;
    bool in_range = true, clear = (mask & 1u) != 0;
    float nd;

    q->n_px++;
    if (has_mask && (mask & PARUS_MASK_UNDEFINED_BIT))
        q->n_mask_undefined++;
    if (has_mask && clear) {
        q->n_mask_clear++;
        if (isnan(red) || isnan(nir))
            q->n_clear_no_value++;
    }
    if (!clear || isnan(red) || isnan(nir))
        return NAN;
    q->n_valid++;
    for (k = 0; k < n_band; k++)
        if (!isnan(band[k]) &&
            !(band[k] >= (float)PARUS_TILE_REFL_MIN && band[k] <= (float)PARUS_TILE_REFL_MAX))
            in_range = false;
    if (red < q->red_min)
        q->red_min = red;
    if (red > q->red_max)
        q->red_max = red;
    if (nir < q->nir_min)
        q->nir_min = nir;
    if (nir > q->nir_max)
        q->nir_max = nir;
    if (!in_range) {
        q->n_out_of_range++;
        return NAN;
    }
    nd = red + nir != 0.0f ? (nir - red) / (nir + red) : 0.0f;
    if (!(nd >= -1.0f && nd <= 1.0f)) /* negative reflectance: no NDVI to speak of */
        return NAN;
    if (red >= (float)PARUS_TILE_BRIGHT || nir >= (float)PARUS_TILE_BRIGHT) {
        q->n_bright++;
        if (nd < -(float)PARUS_TILE_ND_STRONG)
            q->n_red_over_nir++;
        else if (nd > (float)PARUS_TILE_ND_STRONG)
            q->n_nir_over_red++;
    }
    q->sum_nd += (double)nd;
    q->sum_nd2 += (double)nd * (double)nd;
    q->n_nd++;
    return nd;
}

void parus__tile_quality_init(parus_tile_quality *t)
{
    memset(t, 0, sizeof *t);
    t->first_damaged = SIZE_MAX;
}

_Static_assert(PARUS_TILE_RADAR_DB_BINS == PARUS__RADAR_DB_BINS, "one radar histogram layout");

void parus__tile_quality_add_radar(parus_tile_quality *t, const parus__radar_counts *c)
{
    for (size_t k = 0; k < 2; k++) {
        t->n_radar_finite[k] += c->n_finite[k];
        t->n_radar_negative[k] += c->n_negative[k];
        t->n_radar_positive_db[k] += c->n_positive[k];
        t->n_radar_bright[k] += c->n_bright[k];
        t->n_radar_amplitude[k] += c->n_amplitude[k];
        for (size_t b = 0; b < PARUS_TILE_RADAR_DB_BINS; b++)
            t->radar_db_hist[k][b] += c->db_hist[k][b];
    }
    t->n_radar_land += c->n_land;
    t->n_radar_vh_above_vv += c->n_vh_above_vv;
}

static double pct(size_t a, size_t b);

/* The median of a dB histogram (the lower edge of the bin holding it, plus half a bin), NaN
 * when it is empty. */
static double radar_median_db(const size_t *hist, size_t *n_out)
{
    size_t n = 0, cum = 0, b;
    for (b = 0; b < PARUS_TILE_RADAR_DB_BINS; b++)
        n += hist[b];
    *n_out = n;
    if (n == 0)
        return NAN;
    for (b = 0; b < PARUS_TILE_RADAR_DB_BINS; b++) {
        cum += hist[b];
        if (2 * cum >= n)
            break;
    }
    return PARUS__RADAR_DB_MIN + ((double)b + 0.5) * PARUS__RADAR_DB_BIN;
}

/* The settled rule (docs/method.md §2): declared linear with most finite values negative, or
 * declared dB with the median of the valid values above +5 dB or below -35 dB, or with most
 * finite values above 0 dB (linear power read as dB has its median near 0 dB, inside the median
 * window). At least RADAR_SCALE_MIN finite values of a polarisation before judging it. */
static bool radar_scale_wrong(const parus_tile_quality *q, char *reason, size_t reason_size)
{
    static const char *const pol[2] = {"VV", "VH"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = q->n_radar_finite[k], n_valid;
        double med;
        if (n < RADAR_SCALE_MIN)
            continue;
        if (!q->radar_db && 2 * q->n_radar_negative[k] > n) {
            snprintf(reason, reason_size,
                     "radar-scale: declared linear power, but %.1f %% of %zu finite %s values are "
                     "negative (dB values?)",
                     pct(q->n_radar_negative[k], n), n, pol[k]);
            return true;
        }
        if (!q->radar_db && k == 0 && 2 * q->n_radar_bright[k] > n - q->n_radar_negative[k]) {
            snprintf(reason, reason_size,
                     "radar-scale: declared linear power, but %.1f %% of %zu finite %s values are "
                     "above 0.4 (-4 dB), brighter than any land's median: values ten times too "
                     "large, or amplitude read as power?",
                     pct(q->n_radar_bright[k], n), n, pol[k]);
            return true;
        }
        if (!q->radar_db && k == 1 && q->n_radar_finite[0] >= RADAR_SCALE_MIN &&
            2 * q->n_radar_amplitude[0] > q->n_radar_finite[0] - q->n_radar_negative[0] &&
            2 * q->n_radar_amplitude[1] > n - q->n_radar_negative[1]) {
            snprintf(reason, reason_size,
                     "radar-scale: declared linear power, but %.1f %% of %zu finite VV values are "
                     "above -8 dB and %.1f %% of %zu VH values above -11 dB, brighter than "
                     "farmland at its brightest: amplitude read as power (every dB value "
                     "halved)?",
                     pct(q->n_radar_amplitude[0], q->n_radar_finite[0]), q->n_radar_finite[0],
                     pct(q->n_radar_amplitude[1], n), n);
            return true;
        }
        if (!q->radar_db)
            continue;
        if (2 * q->n_radar_positive_db[k] > n) {
            snprintf(reason, reason_size,
                     "radar-scale: declared dB, but %.1f %% of %zu finite %s values are above 0 "
                     "dB (linear power?)",
                     pct(q->n_radar_positive_db[k], n), n, pol[k]);
            return true;
        }
        med = radar_median_db(q->radar_db_hist[k], &n_valid);
        if (n_valid >= RADAR_SCALE_MIN &&
            (med > RADAR_DB_MEDIAN_MAX || med < RADAR_DB_MEDIAN_MIN)) {
            snprintf(reason, reason_size,
                     "radar-scale: declared dB, but the median of %zu valid %s values is %.2f dB "
                     "(outside [%.0f, %.0f] dB)",
                     n_valid, pol[k], med, RADAR_DB_MEDIAN_MIN, RADAR_DB_MEDIAN_MAX);
            return true;
        }
    }
    return false;
}

/* VV and VH exchanged (a band description typed the other way round): the cross-polarised return
 * is below the co-polarised one on every kind of land (by 5-10 dB over crops and soil, more over
 * towns), so most pixels brighter than water with VH above VV are no scene. Exchanged, every
 * VH/VV, RVI and water fraction is wrong (the dark VH read as VV makes water). */
static bool radar_swapped(const parus_tile_quality *q, char *reason, size_t reason_size)
{
    if (q->n_radar_land < TILE_MIN_VALID || 2 * q->n_radar_vh_above_vv <= q->n_radar_land)
        return false;
    snprintf(reason, reason_size,
             "vv-vh-swapped: VH is above VV in %.1f %% of %zu covered pixels brighter than %.0f "
             "dB (cross-polarised backscatter is below co-polarised on land): VV and VH "
             "exchanged?",
             pct(q->n_radar_vh_above_vv, q->n_radar_land), q->n_radar_land,
             PARUS_TILE_RADAR_LAND_DB);
    return true;
}

/* The block's own verdict, with its reason. */
static parus_tile_check window_verdict(const parus__window *q, char *why, size_t size)
{
    if (q->n_mask_undefined >= BLOCK_UNDEFINED_MIN &&
        (double)q->n_mask_undefined >= BLOCK_UNDEFINED_SHARE * (double)q->n_px) {
        snprintf(why, size, "%zu of %zu pixels carry mask values the mask cannot hold",
                 q->n_mask_undefined, q->n_px);
        return PARUS_TILE_CHECK_BLOCK;
    }
    if (q->n_valid < BLOCK_MIN_VALID)
        return PARUS_TILE_CHECK_OK;
    if ((double)q->n_out_of_range >= BLOCK_RANGE_SHARE * (double)q->n_valid) {
        snprintf(why, size, "%zu of %zu valid pixels outside the physical range", q->n_out_of_range,
                 q->n_valid);
        return PARUS_TILE_CHECK_RANGE;
    }
    if (q->red_min == q->red_max && q->nir_min == q->nir_max) {
        snprintf(why, size, "constant red and NIR over %zu valid pixels", q->n_valid);
        return PARUS_TILE_CHECK_BLOCK;
    }
    if (q->n_bright >= BLOCK_MIN_VALID &&
        (double)q->n_red_over_nir >= BLOCK_BOTH_WAYS_SHARE * (double)q->n_bright &&
        (double)q->n_nir_over_red >= BLOCK_BOTH_WAYS_SHARE * (double)q->n_bright) {
        snprintf(why, size, "%zu and %zu of %zu bright pixels have NDVI below -%.1f and above %.1f",
                 q->n_red_over_nir, q->n_nir_over_red, q->n_bright, PARUS_TILE_ND_STRONG,
                 PARUS_TILE_ND_STRONG);
        return PARUS_TILE_CHECK_BLOCK;
    }
    if (q->n_steps >= BLOCK_MIN_VALID && q->n_nd >= BLOCK_MIN_VALID) {
        double n = (double)q->n_nd, mean = q->sum_nd / n;
        double var = q->sum_nd2 / n - mean * mean, sd = var > 0.0 ? sqrt(var) : 0.0;
        double step = q->sum_step / (double)q->n_steps;
        double rr_nn = q->sum_dred2 * q->sum_dnir2;
        double corr = rr_nn > 0.0 ? q->sum_dred_dnir / sqrt(rr_nn) : 0.0;
        if (sd >= BLOCK_NOISE_MIN_SD && step >= BLOCK_NOISE_RATIO * sd &&
            step >= BLOCK_NOISE_MIN_STEP && fabs(corr) < BLOCK_NOISE_MAX_CORR) {
            snprintf(why, size,
                     "NDVI is noise: mean step %.3f between neighbours, spread %.3f, red and NIR "
                     "steps uncorrelated (%.2f)",
                     step, sd, corr);
            return PARUS_TILE_CHECK_BLOCK;
        }
    }
    return PARUS_TILE_CHECK_OK;
}

void parus__block_quality_from_windows(parus__block_quality *b, const parus__window *w, size_t n,
                                       size_t n_wx)
{
    size_t i;
    memset(b, 0, sizeof *b);
    for (i = 0; i < n; i++) {
        const parus__window *q = &w[i];
        char why[128];
        parus_tile_check c;
        b->n_px += q->n_px;
        b->n_mask_clear += q->n_mask_clear;
        b->n_clear_no_value += q->n_clear_no_value;
        b->n_mask_undefined += q->n_mask_undefined;
        b->n_valid += q->n_valid;
        b->n_out_of_range += q->n_out_of_range;
        b->n_bright += q->n_bright;
        b->n_red_over_nir += q->n_red_over_nir;
        b->n_nir_over_red += q->n_nir_over_red;
        if (q->n_valid < BLOCK_MIN_VALID && q->n_mask_undefined < BLOCK_UNDEFINED_MIN)
            continue;
        b->n_windows_checked++;
        c = window_verdict(q, why, sizeof why);
        if (c == PARUS_TILE_CHECK_OK)
            continue;
        if (b->n_windows_damaged++ == 0) {
            b->damage = c;
            snprintf(b->why, sizeof b->why, "window at pixel row %zu col %zu: %s",
                     i / n_wx * PARUS_TILECHECK_WINDOW, i % n_wx * PARUS_TILECHECK_WINDOW, why);
        }
    }
}

void parus__tile_quality_add_block(parus_tile_quality *t, const parus__block_quality *q,
                                   size_t block_index)
{
    t->n_px += q->n_px;
    t->n_mask_clear += q->n_mask_clear;
    t->n_clear_no_value += q->n_clear_no_value;
    t->n_mask_undefined += q->n_mask_undefined;
    t->n_valid += q->n_valid;
    t->n_out_of_range += q->n_out_of_range;
    t->n_bright += q->n_bright;
    t->n_red_over_nir += q->n_red_over_nir;
    t->n_nir_over_red += q->n_nir_over_red;
    t->n_blocks_checked += q->n_windows_checked > 0;
    if (q->damage == PARUS_TILE_CHECK_OK)
        return;
    t->n_blocks_damaged++;
    if (block_index < t->first_damaged) {
        t->first_damaged = block_index;
        t->first_damage_check = q->damage;
        snprintf(t->first_damage, sizeof t->first_damage, "%s", q->why);
    }
}

const char *parus_tile_check_name(parus_tile_check check)
{
    switch (check) {
    case PARUS_TILE_CHECK_OK:
        return "ok";
    case PARUS_TILE_CHECK_RANGE:
        return "range";
    case PARUS_TILE_CHECK_SWAPPED:
        return "red-nir-swapped";
    case PARUS_TILE_CHECK_MASK:
        return "mask-contradiction";
    case PARUS_TILE_CHECK_BLOCK:
        return "damaged-block";
    case PARUS_TILE_CHECK_RADAR_SCALE:
        return "radar-scale";
    case PARUS_TILE_CHECK_RADAR_SWAPPED:
        return "vv-vh-swapped";
    }
    return "unknown";
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

parus_tile_check parus_tile_quality_judge(const parus_tile_quality *q, char *reason,
                                          size_t reason_size)
{
    char tmp[8];
    if (!reason || reason_size == 0) {
        reason = tmp;
        reason_size = sizeof tmp;
    }
    reason[0] = '\0';
    if (!q)
        return PARUS_TILE_CHECK_OK;
    if (q->radar && radar_scale_wrong(q, reason, reason_size))
        return PARUS_TILE_CHECK_RADAR_SCALE;
    if (q->radar && radar_swapped(q, reason, reason_size))
        return PARUS_TILE_CHECK_RADAR_SWAPPED;
    if (q->n_valid >= TILE_MIN_VALID && q->n_out_of_range >= TILE_RANGE_MIN &&
        (double)q->n_out_of_range > TILE_RANGE_SHARE * (double)q->n_valid) {
        snprintf(reason, reason_size,
                 "range: %.1f %% of %zu valid pixels have a reflectance outside [%.1f, %.1f]",
                 pct(q->n_out_of_range, q->n_valid), q->n_valid, PARUS_TILE_REFL_MIN,
                 PARUS_TILE_REFL_MAX);
        return PARUS_TILE_CHECK_RANGE;
    }
    if (q->n_blocks_damaged > 0) {
        snprintf(reason, reason_size, "damaged-block: block %zu (%s)%s", q->first_damaged,
                 q->first_damage, q->n_blocks_damaged > 1 ? " and others" : "");
        return PARUS_TILE_CHECK_BLOCK;
    }
    if (q->n_mask_clear >= TILE_MIN_VALID && q->n_clear_no_value >= TILE_MASK_MIN &&
        (double)q->n_clear_no_value > TILE_MASK_SHARE * (double)q->n_mask_clear) {
        snprintf(reason, reason_size,
                 "mask-contradiction: %.1f %% of %zu pixels the mask calls clear have no red or "
                 "NIR value",
                 pct(q->n_clear_no_value, q->n_mask_clear), q->n_mask_clear);
        return PARUS_TILE_CHECK_MASK;
    }
    if (q->n_valid >= TILE_MIN_VALID && q->n_red_over_nir > q->n_nir_over_red &&
        (double)q->n_red_over_nir >= TILE_SWAP_SHARE * (double)q->n_bright) {
        snprintf(reason, reason_size,
                 "red-nir-swapped: %.1f %% of %zu bright pixels have red far above NIR (NDVI < "
                 "%.1f), %.1f %% the other way",
                 pct(q->n_red_over_nir, q->n_bright), q->n_bright, -PARUS_TILE_ND_STRONG,
                 pct(q->n_nir_over_red, q->n_bright));
        return PARUS_TILE_CHECK_SWAPPED;
    }
    return PARUS_TILE_CHECK_OK;
}

/*
 * zonal.c - weighted per-parcel accumulators (method and sources in include/parus/zonal.h).
 *
 * Hot path: parus_zonal_add runs once per (parcel, pixel) pair of a tile, so it does no
 * allocation and no division beyond the West update.
 */
#include <math.h>
#include <string.h>

#include "parus/zonal.h"
#include "indices_int.h"
#include "zonal_int.h"

void parus_zonal_init(parus_zonal *z)
{
    size_t k;
    memset(z, 0, sizeof *z);
    for (k = 0; k < PARUS_INDEX_N_; k++) {
        z->index[k].min = INFINITY;
        z->index[k].max = -INFINITY;
    }
}

static void moments_add(parus_moments *m, double w, double x)
{
    double w_new = m->w + w;
    double delta = x - m->mean;
    double r = delta * w / w_new;
    m->mean += r;
    m->m2 += m->w * delta * r; /* = w * delta * (x - mean_new) */
    m->w = w_new;
    if (x < m->min)
        m->min = x;
    if (x > m->max)
        m->max = x;
}

static void moments_merge(parus_moments *a, const parus_moments *b)
{
    double w, delta;
    if (b->w == 0.0)
        return;
    if (a->w == 0.0) {
        *a = *b;
        return;
    }
    w = a->w + b->w;
    delta = b->mean - a->mean;
    a->mean += delta * (b->w / w);
    a->m2 += b->m2 + delta * delta * (a->w * b->w / w);
    a->w = w;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
}

static size_t hist_bin(double ndvi)
{
    double pos = (ndvi + 1.0) * (PARUS_ZONAL_HIST_BINS / 2.0);
    if (!(pos > 0.0))
        return 0;
    if (pos >= PARUS_ZONAL_HIST_BINS)
        return PARUS_ZONAL_HIST_BINS - 1;
    return (size_t)pos;
}

void parus_zonal_add(parus_zonal *z, double w, bool valid, bool pure, const float *index,
                     const float *band)
{
    static const int all_index[PARUS_INDEX_N_] = {
        PARUS_INDEX_NDVI, PARUS_INDEX_EVI, PARUS_INDEX_NDWI, PARUS_INDEX_MNDWI, PARUS_INDEX_NDMI};
    static const int all_band[PARUS_ROLE_N_SPECTRAL_] = {
        PARUS_ROLE_BLUE,  PARUS_ROLE_GREEN, PARUS_ROLE_RED, PARUS_ROLE_RE1,
        PARUS_ROLE_RE2,   PARUS_ROLE_RE3,   PARUS_ROLE_NIR, PARUS_ROLE_NIR_NARROW,
        PARUS_ROLE_SWIR1, PARUS_ROLE_SWIR2};
    parus__zonal_add_sparse(z, w, valid, pure, index, all_index, PARUS_INDEX_N_, band, all_band,
                            PARUS_ROLE_N_SPECTRAL_);
}

/* Every pixel's weight into the total, a valid one's into the valid weights; true when valid. */
static bool add_weight(parus_zonal *z, double w, bool valid, bool pure)
{
    z->w_total += w;
    z->n_pixels++;
    if (!valid)
        return false;
    z->w_valid += w;
    if (pure)
        z->n_pure++;
    else
        z->w_valid_edge += w;
    return true;
}

void parus__zonal_add_sparse(parus_zonal *z, double w, bool valid, bool pure, const float *index,
                             const int *index_id, size_t n_index, const float *band,
                             const int *band_id, size_t n_band)
{
    size_t k;

    if (!add_weight(z, w, valid, pure))
        return;
    for (k = 0; k < n_index; k++) {
        double x = (double)index[k];
        int id = index_id[k];
        if (isnan(x))
            continue;
        moments_add(&z->index[id], w, x);
        if (id == PARUS_INDEX_NDVI) {
            z->ndvi_hist[hist_bin(x)] += w;
            if (x >= PARUS_NDVI_VEGETATED)
                z->w_veg += w;
        } else if (id == PARUS_INDEX_NDWI && x >= PARUS_NDWI_WATER) {
            z->w_water += w;
        }
    }
    for (k = 0; k < n_band; k++) {
        if (!isnan(band[k])) {
            z->band_wsum[band_id[k]] += w * (double)band[k];
            z->band_w[band_id[k]] += w;
        }
    }
}

void parus__zonal_add_own_sparse(parus_zonal *z, double w, const float *band, const float *bg,
                                 const int *band_id, size_t n_band)
{
    size_t k;
    bool unmixed = false;
    /* inverse-variance weight of the pixel's own value (zonal.h) */
    double v = w * w / ((1.0 - w) * (1.0 - w) + PARUS_ZONAL_OWN_EPS);
    double red = NAN, nir = NAN;

    for (k = 0; k < n_band; k++) {
        double y = (double)band[k], x = y;
        if (isnan(y))
            continue;
        if (w < PARUS_ZONAL_OWN_PURE && bg && !isnan(bg[k])) {
            x = (y - (1.0 - w) * (double)bg[k]) / w;
            unmixed = true;
        }
        if (band_id[k] == PARUS_ROLE_RED)
            red = x;
        else if (band_id[k] == PARUS_ROLE_NIR)
            nir = x;
        z->own_wsum[band_id[k]] += v * x;
        z->own_w[band_id[k]] += v;
    }
    if (unmixed)
        z->w_own_unmixed += w;
    /* the pixel judged on its own value; an unmixed value may leave the physical range, only its
     * side of the threshold counts: NDVI >= t <=> nir - red >= t (nir + red) for nir + red > 0 */
    if (!isnan(red) && !isnan(nir)) {
        z->w_own_px += w;
        if (nir + red > 0.0 && nir - red >= PARUS_NDVI_VEGETATED * (nir + red))
            z->w_own_veg += w;
    }
}

void parus_zonal_add_own(parus_zonal *z, double w, const float *band, const float *bg)
{
    static const int all_band[PARUS_ROLE_N_SPECTRAL_] = {
        PARUS_ROLE_BLUE,  PARUS_ROLE_GREEN, PARUS_ROLE_RED, PARUS_ROLE_RE1,
        PARUS_ROLE_RE2,   PARUS_ROLE_RE3,   PARUS_ROLE_NIR, PARUS_ROLE_NIR_NARROW,
        PARUS_ROLE_SWIR1, PARUS_ROLE_SWIR2};
    parus__zonal_add_own_sparse(z, w, band, bg, all_band, PARUS_ROLE_N_SPECTRAL_);
}

void parus_zonal_merge(parus_zonal *dst, const parus_zonal *src)
{
    size_t k;
    dst->w_total += src->w_total;
    dst->w_valid += src->w_valid;
    dst->w_valid_edge += src->w_valid_edge;
    dst->w_veg += src->w_veg;
    dst->w_water += src->w_water;
    dst->n_pixels += src->n_pixels;
    dst->n_pure += src->n_pure;
    for (k = 0; k < PARUS_INDEX_N_; k++)
        moments_merge(&dst->index[k], &src->index[k]);
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++) {
        dst->band_wsum[k] += src->band_wsum[k];
        dst->band_w[k] += src->band_w[k];
    }
    for (k = 0; k < PARUS_ZONAL_HIST_BINS; k++)
        dst->ndvi_hist[k] += src->ndvi_hist[k];
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++) {
        dst->own_wsum[k] += src->own_wsum[k];
        dst->own_w[k] += src->own_w[k];
    }
    dst->w_own_unmixed += src->w_own_unmixed;
    dst->w_own_px += src->w_own_px;
    dst->w_own_veg += src->w_own_veg;
    for (k = 0; k < 2; k++) {
        dst->radar_wsum[k] += src->radar_wsum[k];
        dst->radar_w[k] += src->radar_w[k];
        dst->radar_w2[k] += src->radar_w2[k];
    }
    dst->radar_w_water += src->radar_w_water;
}

void parus_zonal_add_radar(parus_zonal *z, double w, bool pure, float vv, float vh)
{
    /* 10^(-18/10): the water threshold in linear power */
    static const double water_linear = 0.015848931924611134;
    if (!add_weight(z, w, !isnan(vv), pure))
        return;
    z->radar_wsum[0] += w * (double)vv;
    z->radar_w[0] += w;
    z->radar_w2[0] += w * w;
    if ((double)vv < water_linear)
        z->radar_w_water += w;
    if (!isnan(vh)) {
        z->radar_wsum[1] += w * (double)vh;
        z->radar_w[1] += w;
        z->radar_w2[1] += w * w;
    }
}

void parus_observation_radar_looks(parus_observation *obs, double enl, double correlation)
{
    const double mean[2] = {obs->vv, obs->vh}, n_eff[2] = {obs->n_eff_vv, obs->n_eff_vh};
    double looks[2], se[2];
    for (size_t k = 0; k < 2; k++) {
        if (isnan(mean[k]) || !(n_eff[k] > 0.0)) {
            looks[k] = se[k] = NAN;
            continue;
        }
        looks[k] = enl * fmax(1.0, n_eff[k] / correlation);
        se[k] = mean[k] / sqrt(looks[k]);
    }
    obs->looks_vv = looks[0];
    obs->looks_vh = looks[1];
    obs->se_vv = se[0];
    obs->se_vh = se[1];
}

static void radar_finish(const parus_zonal *z, parus_observation *out)
{
    double m[2], n_eff[2];
    for (size_t k = 0; k < 2; k++) {
        m[k] = z->radar_w[k] > 0.0 ? z->radar_wsum[k] / z->radar_w[k] : (double)NAN;
        n_eff[k] =
            z->radar_w2[k] > 0.0 ? z->radar_w[k] * z->radar_w[k] / z->radar_w2[k] : (double)NAN;
    }
    out->vv = m[0];
    out->vh = m[1];
    out->vh_vv = m[1] / m[0];
    out->rvi = 4.0 * m[1] / (m[0] + m[1]);
    out->radar_water_fraction =
        z->radar_w[0] > 0.0 ? z->radar_w_water / z->radar_w[0] : (double)NAN;
    out->n_eff_vv = n_eff[0];
    out->n_eff_vh = n_eff[1];
    out->looks_vv = out->looks_vh = out->se_vv = out->se_vh = NAN;
}

/* p10, p50 and p90 of the weighted histogram in one scan, linear within the bin. */
static void percentiles(const double *hist, double *p10, double *p50, double *p90)
{
    static const double q[3] = {0.10, 0.50, 0.90};
    double *out[3];
    double total = 0.0, cum = 0.0;
    size_t k, j = 0;

    out[0] = p10, out[1] = p50, out[2] = p90;
    for (k = 0; k < PARUS_ZONAL_HIST_BINS; k++)
        total += hist[k];
    if (total <= 0.0) {
        *p10 = *p50 = *p90 = (double)NAN;
        return;
    }
    for (k = 0; k < PARUS_ZONAL_HIST_BINS && j < 3; k++) {
        if (hist[k] <= 0.0)
            continue;
        while (j < 3 && cum + hist[k] >= q[j] * total) {
            double t = (q[j] * total - cum) / hist[k];
            *out[j++] = -1.0 + (2.0 / PARUS_ZONAL_HIST_BINS) * ((double)k + t);
        }
        cum += hist[k];
    }
    while (j < 3)
        *out[j++] = 1.0;
}

/* The own values: band means and the indices of those means, by the rules of indices.h (in
 * single precision, as the per-pixel indices). */
static double own_nd(const double *b, int p, int q)
{
    return (double)parus__nd((float)b[p], (float)b[q]);
}

static void own_finish(const parus_zonal *z, parus_observation *out)
{
    const double *b = out->own_band_mean;
    size_t k;
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        out->own_band_mean[k] = z->own_w[k] > 0.0 ? z->own_wsum[k] / z->own_w[k] : (double)NAN;
    out->own_mean[PARUS_INDEX_NDVI] = own_nd(b, PARUS_ROLE_NIR, PARUS_ROLE_RED);
    out->own_mean[PARUS_INDEX_EVI] = (double)parus__evi(
        (float)b[PARUS_ROLE_NIR], (float)b[PARUS_ROLE_RED], (float)b[PARUS_ROLE_BLUE]);
    out->own_mean[PARUS_INDEX_NDWI] = own_nd(b, PARUS_ROLE_GREEN, PARUS_ROLE_NIR);
    out->own_mean[PARUS_INDEX_MNDWI] = own_nd(b, PARUS_ROLE_GREEN, PARUS_ROLE_SWIR1);
    out->own_mean[PARUS_INDEX_NDMI] = own_nd(b, PARUS_ROLE_NIR, PARUS_ROLE_SWIR1);
    out->own_unmixed_share = z->w_valid > 0.0 ? z->w_own_unmixed / z->w_valid : (double)NAN;
    out->own_veg_fraction = z->w_own_px > 0.0 ? z->w_own_veg / z->w_own_px : (double)NAN;
}

void parus_zonal_finish(const parus_zonal *z, parus_observation *out)
{
    size_t k;

    memset(out, 0, sizeof *out);
    out->w_total_px = z->w_total;
    out->w_valid_px = z->w_valid;
    out->valid_fraction = z->w_total > 0.0 ? z->w_valid / z->w_total : (double)NAN;
    out->n_pixels = z->n_pixels;
    out->n_pure = z->n_pure;
    for (k = 0; k < PARUS_INDEX_N_; k++) {
        const parus_moments *m = &z->index[k];
        if (m->w > 0.0) {
            out->mean[k] = m->mean;
            out->std[k] = sqrt(m->m2 > 0.0 ? m->m2 / m->w : 0.0);
            out->min[k] = m->min;
            out->max[k] = m->max;
        } else {
            out->mean[k] = out->std[k] = out->min[k] = out->max[k] = NAN;
        }
    }
    for (k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        out->band_mean[k] = z->band_w[k] > 0.0 ? z->band_wsum[k] / z->band_w[k] : (double)NAN;
    percentiles(z->ndvi_hist, &out->ndvi_p10, &out->ndvi_p50, &out->ndvi_p90);
    if (z->w_valid > 0.0) {
        out->veg_fraction = z->w_veg / z->w_valid;
        out->water_fraction = z->w_water / z->w_valid;
        out->edge_share = z->w_valid_edge / z->w_valid;
    } else {
        out->veg_fraction = out->water_fraction = out->edge_share = NAN;
    }
    own_finish(z, out);
    radar_finish(z, out);
}

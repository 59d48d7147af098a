/*
 * outlier.c - single observations that contradict their parcel's series and its neighbours
 * (include/parus/outlier.h states the rule; docs/method.md, section 6a, why).
 */
#include "parus/outlier.h"

#include <math.h>
#include <stdlib.h>

#include "parus/indices.h"

void parus_outlier_options_init(parus_outlier_options *opt)
{
    opt->min_valid_fraction = 0.6;
    opt->max_gap_days = 15;
    opt->min_jump = 0.15;
    opt->min_side = 0.1;
    opt->max_shared = 0.5;
    opt->water_exempt = 0.2;
    opt->mndwi_rise = 0.1;
    opt->ndwi_rise = 0.2;
    opt->min_neighbours = 3;
    opt->max_neighbours = 12;
    opt->neighbour_radius_m = 2000.0;
    opt->enabled = true;
}

bool parus_outlier_clear(const parus_outlier_options *opt, const parus_observation *obs)
{
    return obs->valid_fraction >= opt->min_valid_fraction && isfinite(obs->mean[PARUS_INDEX_NDVI]);
}

static bool wet_fraction(const parus_outlier_options *opt, const parus_outlier_point *p)
{
    return p->water_fraction >= opt->water_exempt;
}

/* Water against the references p and q: what the flood rule reads as water (docs/method.md,
 * section 9): MNDWI up with SWIR1 darker than both (thin cloud brightens SWIR1, water darkens
 * it), or the NDWI up when there is no SWIR1 to tell. */
static bool water_against(const parus_outlier_options *opt, const parus_outlier_point *i,
                          const parus_outlier_point *p, const parus_outlier_point *q)
{
    if (isfinite(i->swir1) && isfinite(p->swir1) && isfinite(q->swir1))
        return isfinite(i->mndwi) && isfinite(p->mndwi) && isfinite(q->mndwi) &&
               i->mndwi - 0.5 * (p->mndwi + q->mndwi) >= opt->mndwi_rise && i->swir1 < p->swir1 &&
               i->swir1 < q->swir1;
    return isfinite(i->ndwi) && isfinite(p->ndwi) && isfinite(q->ndwi) &&
           i->ndwi - 0.5 * (p->ndwi + q->ndwi) >= opt->ndwi_rise;
}

void parus_outlier_residuals(const parus_outlier_options *opt, const parus_outlier_point *pt,
                             size_t n, double *residual, double *expected, double *jump,
                             unsigned char *wet)
{
    size_t i;
    for (i = 0; i < n; i++) {
        size_t p = i, q = i + 1;
        bool have_p = false, have_q = false;
        double v, vp, vq, dp, dq, t;
        residual[i] = expected[i] = jump[i] = NAN;
        if (wet)
            wet[i] = 0;
        if (pt[i].left_out)
            continue;
        /* the nearest point of an earlier day that is not left out, and of a later one */
        while (p > 0) {
            p--;
            if (pt[p].day < pt[i].day && !pt[p].left_out) {
                have_p = pt[i].day - pt[p].day <= opt->max_gap_days && !wet_fraction(opt, &pt[p]);
                break;
            }
        }
        for (; q < n; q++)
            if (pt[q].day > pt[i].day && !pt[q].left_out) {
                have_q = pt[q].day - pt[i].day <= opt->max_gap_days && !wet_fraction(opt, &pt[q]);
                break;
            }
        if (!have_p || !have_q)
            continue;
        if (wet)
            wet[i] = water_against(opt, &pt[i], &pt[p], &pt[q]);
        v = pt[i].ndvi;
        vp = pt[p].ndvi;
        vq = pt[q].ndvi;
        t = (double)(pt[i].day - pt[p].day) / (double)(pt[q].day - pt[p].day);
        expected[i] = vp + t * (vq - vp);
        residual[i] = v - expected[i];
        dp = v - vp;
        dq = v - vq;
        if (dp > 0 && dq > 0 && residual[i] > 0)
            jump[i] = fmin(dp, dq);
        else if (dp < 0 && dq < 0 && residual[i] < 0)
            jump[i] = fmax(dp, dq);
        else
            jump[i] = 0.0;
    }
}

bool parus_outlier_candidate(const parus_outlier_options *opt, const parus_outlier_point *pt,
                             double residual, double jump, bool wet)
{
    if (!opt->enabled || pt->left_out || !isfinite(residual) || !isfinite(jump))
        return false;
    if (fabs(residual) < opt->min_jump || fabs(jump) < opt->min_side)
        return false;
    /* water that comes and goes is a short flood: the flood rule judges it */
    return !wet && !wet_fraction(opt, pt);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

bool parus_outlier_contradicts_neighbours(const parus_outlier_options *opt, double r, double *nb,
                                          size_t n_nb, double *median)
{
    double m;
    *median = NAN;
    if (n_nb == 0)
        return false;
    qsort(nb, n_nb, sizeof *nb, cmp_double);
    m = n_nb % 2 ? nb[n_nb / 2] : 0.5 * (nb[n_nb / 2 - 1] + nb[n_nb / 2]);
    *median = m;
    if (n_nb < opt->min_neighbours || !isfinite(r))
        return false;
    /* shared: the neighbours moved the same way by more than max_shared of the parcel's move */
    if (m * r > 0 && fabs(m) > opt->max_shared * fabs(r))
        return false;
    return fabs(r - m) >= opt->min_jump;
}

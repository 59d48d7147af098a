/*
 * yield.c - a parcel's expected and conservative (P10) yield and output value (rules and units in
 * parus/yield.h; sources and limits in docs/method.md, "Yield and value").
 *
 * The yield is a measurement-derived estimate and stays a double; the value is money and becomes
 * integer fen through exact integer arithmetic (money_int.h) once each factor has been converted
 * with a rounding that never rounds the value up.
 */
#include <math.h>
#include <stdint.h>

#include "parus/yield.h"
#include "money_int.h"

void parus_yield_options_init(parus_yield_options *opt)
{
    opt->z = PARUS_YIELD_Z_P10;
    opt->evidence_obs = 8.0;
    opt->no_canopy_fraction = 0.25;
}

parus_status parus_yield_value_fen(double yield_kg_per_mu, double area_m2, double price_cny_per_kg,
                                   int64_t *value_fen, parus_error *err)
{
    int64_t yield_g, area_dm2, price_1e4, per_dm2, v;

    if (!value_fen)
        return parus_fail(err, PARUS_E_INVALID, "yield value: no output pointer");
    if (!(yield_kg_per_mu >= 0.0) || !(area_m2 >= 0.0) || !(price_cny_per_kg >= 0.0))
        return parus_fail(err, PARUS_E_INVALID,
                          "yield value: yield %g kg/mu, area %g m2, price %g CNY/kg: each must be "
                          "a number >= 0",
                          yield_kg_per_mu, area_m2, price_cny_per_kg);
    if (!parus__floor_i64(yield_kg_per_mu * 1000.0, &yield_g) ||
        !parus__floor_i64(area_m2 * 100.0, &area_dm2) ||
        /* a price with at most four decimals exactly; beyond, down (never more value) */
        !parus__floor_i64(price_cny_per_kg * 1e4 + 1e-6, &price_1e4))
        return parus_fail(err, PARUS_E_RANGE,
                          "yield value: yield %g kg/mu, area %g m2 or price %g CNY/kg too large",
                          yield_kg_per_mu, area_m2, price_cny_per_kg);
    /* g/mu x 1e-4 CNY/kg x 15 = 1e-11 fen per dm2 ... (see the header) */
    if (!parus__mul_div_floor(yield_g, price_1e4, 1, &per_dm2, NULL) ||
        !parus__mul_div_floor(per_dm2, 15, 1, &per_dm2, NULL) ||
        !parus__mul_div_floor(per_dm2, area_dm2, 100000000000, &v, NULL))
        return parus_fail(err, PARUS_E_RANGE,
                          "yield value: %g kg/mu x %g m2 x %g CNY/kg is above 2^63 fen",
                          yield_kg_per_mu, area_m2, price_cny_per_kg);
    *value_fen = v;
    return PARUS_OK;
}

parus_status parus_yield_estimate(const parus_crop *crop, const parus_yield_options *opt,
                                  const parus_yield_input *in, parus_yield *out, parus_error *err)
{
    parus_yield_options defaults;
    parus_yield y = {0};
    double lo, hi, cv, amplitude;
    parus_status rc;

    if (!crop || !in || !out)
        return parus_fail(err, PARUS_E_INVALID, "yield: NULL argument");
    if (!opt) {
        parus_yield_options_init(&defaults);
        opt = &defaults;
    }
    if (!(opt->z >= 0.0 && isfinite(opt->z)) ||
        !(opt->evidence_obs >= 0.0 && isfinite(opt->evidence_obs)) ||
        !(opt->no_canopy_fraction >= 0.0 && opt->no_canopy_fraction <= 1.0))
        return parus_fail(err, PARUS_E_INVALID,
                          "yield: bad options (z %g, evidence_obs %g, no_canopy_fraction %g)",
                          opt->z, opt->evidence_obs, opt->no_canopy_fraction);
    lo = crop->yield_min_kg_per_mu;
    hi = crop->yield_max_kg_per_mu;
    cv = crop->yield_cv;
    if (!(lo >= 0.0 && lo <= hi && isfinite(hi)) || !(cv >= 0.0 && cv <= 1.0) ||
        !isfinite(crop->yield_a_kg_per_mu) || !(crop->yield_b_kg_per_mu_per_ndvi >= 0.0) ||
        !isfinite(crop->yield_b_kg_per_mu_per_ndvi) ||
        !isfinite(crop->yield_c_kg_per_mu_per_ndvi_peak) ||
        !isfinite(crop->yield_d_kg_per_mu_per_rain_deficit) ||
        !isfinite(crop->yield_e_kg_per_mu_per_heat_day) ||
        !(crop->yield_cv_n_clear >= 0.0 && isfinite(crop->yield_cv_n_clear)))
        return parus_fail(err, PARUS_E_INVALID, "yield: crop '%s' has an invalid yield model",
                          crop->code);
    if (!isfinite(in->integral_10d) || !isfinite(in->peak_ndvi))
        return parus_fail(err, PARUS_E_INVALID,
                          "yield: crop '%s': integral %g or peak NDVI %g is not a number",
                          crop->code, in->integral_10d, in->peak_ndvi);
    if (!(in->planted_area_m2 >= 0.0) || !isfinite(in->planted_area_m2))
        return parus_fail(err, PARUS_E_INVALID, "yield: planted area %g m2 is not a number >= 0",
                          in->planted_area_m2);

    y.model_kg_per_mu = crop->yield_a_kg_per_mu +
                        crop->yield_b_kg_per_mu_per_ndvi * in->integral_10d +
                        crop->yield_c_kg_per_mu_per_ndvi_peak * in->peak_ndvi;
    if (crop->yield_d_kg_per_mu_per_rain_deficit != 0.0) {
        if (isfinite(in->rain_deficit))
            y.model_kg_per_mu += crop->yield_d_kg_per_mu_per_rain_deficit * in->rain_deficit;
        else
            y.flags |= PARUS_YIELD_NO_WEATHER;
    }
    if (crop->yield_e_kg_per_mu_per_heat_day != 0.0) {
        if (isfinite(in->heat_days))
            y.model_kg_per_mu += crop->yield_e_kg_per_mu_per_heat_day * in->heat_days;
        else
            y.flags |= PARUS_YIELD_NO_WEATHER;
    }
    if (crop->yield_n_harvests > 0 &&
        (isfinite(crop->yield_rain_deficit_max) || isfinite(crop->yield_heat_days_max))) {
        /* calibrated with weather: what it never saw, it cannot vouch for */
        if (!isfinite(in->rain_deficit) || !isfinite(in->heat_days))
            y.flags |= PARUS_YIELD_NO_WEATHER;
        else if (in->rain_deficit > crop->yield_rain_deficit_max + PARUS_YIELD_DEFICIT_MARGIN ||
                 in->heat_days > crop->yield_heat_days_max + PARUS_YIELD_HEAT_MARGIN_DAYS)
            y.flags |= PARUS_YIELD_BEYOND_CALIBRATION;
    }
    if (in->season_weather_absent)
        y.flags |= PARUS_YIELD_NO_WEATHER;
    y.expected_kg_per_mu = y.model_kg_per_mu;
    if (y.model_kg_per_mu < lo) {
        y.expected_kg_per_mu = lo;
        y.flags |= PARUS_YIELD_CLAMPED_LOW;
    } else if (y.model_kg_per_mu > hi) {
        y.expected_kg_per_mu = hi;
        y.flags |= PARUS_YIELD_CLAMPED_HIGH;
    }

    if (in->n_clear_observations == 0) {
        y.spread = INFINITY;
        y.conservative_kg_per_mu = lo;
    } else {
        double n = (double)in->n_clear_observations;
        double widen = 1.0 + opt->evidence_obs / n;
        /* a measured spread already holds the series' error at the calibration's typical
         * evidence: it widens only where this parcel has less */
        if (crop->yield_cv_n_clear > 0.0)
            widen = fmax(1.0, widen / (1.0 + opt->evidence_obs / crop->yield_cv_n_clear));
        y.spread = cv * sqrt(widen);
        y.conservative_kg_per_mu = y.expected_kg_per_mu * (1.0 - opt->z * y.spread);
        if (y.conservative_kg_per_mu < lo)
            y.conservative_kg_per_mu = lo;
    }
    if (y.flags & (PARUS_YIELD_NO_WEATHER | PARUS_YIELD_BEYOND_CALIBRATION))
        y.conservative_kg_per_mu = lo; /* nothing vouches for the season's weather */
    if (y.conservative_kg_per_mu > y.expected_kg_per_mu)
        y.conservative_kg_per_mu = y.expected_kg_per_mu;
    if ((double)in->n_clear_observations < opt->evidence_obs)
        y.flags |= PARUS_YIELD_THIN_EVIDENCE;

    amplitude = crop->ndvi_peak - crop->ndvi_base;
    if (crop->kind != PARUS_CROP_NONCROP && amplitude > 0.0 &&
        in->peak_ndvi < crop->ndvi_base + opt->no_canopy_fraction * amplitude) {
        y.conservative_kg_per_mu = 0.0;
        y.flags |= PARUS_YIELD_NO_CANOPY;
    }

    y.planted_area_mu = in->planted_area_m2 * 15.0 / 10000.0;
    if ((rc = parus_yield_value_fen(y.expected_kg_per_mu, in->planted_area_m2,
                                    crop->price_cny_per_kg, &y.expected_value_fen, err)) !=
            PARUS_OK ||
        (rc = parus_yield_value_fen(y.conservative_kg_per_mu, in->planted_area_m2,
                                    crop->price_cny_per_kg, &y.conservative_value_fen, err)) !=
            PARUS_OK) {
        parus_error_prefix(err, "crop '%s'", crop->code);
        return rc;
    }
    *out = y;
    return PARUS_OK;
}

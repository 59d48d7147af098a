/*
 * assess_credit.c - the one mapping from a stored parcel result to the credit rule's evidence
 * (assess_int.h), the crop's harvest day and the parts text. `parus assess` computes every limit
 * through it from the results it has just written, and `parus verify` from the same rows read
 * back, so the two cannot drift apart: a change of the credit rule's input shows at once as a
 * difference in verify, never as a silently different limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parus/assess.h"
#include "parus/health.h"
#include "parus/series.h"

#include "assess_int.h"

static void add_capped(double *share, double take)
{
    if (share)
        *share = fmin(1.0, *share + take);
}

void parus__overlap_add(parus_overlap_rule rule, const parus_overlap *o, double *share_a,
                        double *share_b)
{
    switch (rule) {
    case PARUS_OVERLAP_FIRST:
        add_capped(share_b, o->share_b);
        break;
    case PARUS_OVERLAP_SPLIT:
        add_capped(share_a, 0.5 * o->share_a);
        add_capped(share_b, 0.5 * o->share_b);
        break;
    case PARUS_OVERLAP_HOLD:
    default:
        add_capped(share_a, 1.0);
        add_capped(share_b, 1.0);
        break;
    }
}

/* Occurrences of code among the ';'-joined codes of list. */
static size_t count_code(const char *list, const char *code)
{
    size_t n = 0, k = strlen(code);
    const char *p = list;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == k && memcmp(p, code, k) == 0)
            n++;
        p = end ? end + 1 : NULL;
    }
    return n;
}

void parus__credit_parcel_of_result(const parus_parcel_result *r, int64_t harvest_day,
                                    parus_credit_parcel *out)
{
    const char *h = r->health_class ? r->health_class : "unknown";
    memset(out, 0, sizeof *out);
    out->conservative_value_fen = r->valued ? r->value_p10_fen : 0;
    out->health = strcmp(h, "good") == 0   ? PARUS_CREDIT_HEALTH_GOOD
                  : strcmp(h, "fair") == 0 ? PARUS_CREDIT_HEALTH_FAIR
                  : strcmp(h, "poor") == 0 ? PARUS_CREDIT_HEALTH_POOR
                                           : PARUS_CREDIT_HEALTH_UNKNOWN;
    out->crop_probability =
        isfinite(r->crop_probability) && r->crop_probability >= 0.0 && r->crop_probability <= 1.0
            ? r->crop_probability
            : 0.0;
    out->calendar_fallback = r->crop_method == PARUS_ASSESS_CALENDAR;
    out->n_event_flags = count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_FLOOD)) +
                         count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_SUDDEN_LOSS)) +
                         count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_DROUGHT)) +
                         count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_FROST)) +
                         count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_WATERLOGGING));
    out->drought = count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_DROUGHT)) > 0;
    out->frost = count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_FROST)) > 0;
    out->waterlogging = count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_WATERLOGGING)) > 0;
    out->heat_stress = count_code(r->flags, parus_health_flag_code(PARUS_HEALTH_HEAT_STRESS)) > 0;
    out->no_weather = count_code(r->flags, PARUS_YIELD_NOTE_NO_WEATHER) > 0;
    out->beyond_calibration = count_code(r->flags, PARUS_YIELD_NOTE_BEYOND_CALIBRATION) > 0;
    out->planted_area_m2 =
        isfinite(r->planted_area_m2) && r->planted_area_m2 > 0.0 ? r->planted_area_m2 : 0.0;
    /* the interval the stored area_check judged (parus/area.h, docs/method.md section 10); a
     * row stored before schema 9 has none, and its area is taken as exact, as it was then */
    {
        double p = out->planted_area_m2, lo = r->planted_area_lo_m2, hi = r->planted_area_hi_m2;
        out->planted_area_margin_down_m2 = lo >= 0.0 && lo <= p ? p - lo : 0.0;
        out->planted_area_margin_up_m2 = isfinite(hi) && hi >= p ? hi - p : 0.0;
    }
    /* no planted area measured: nothing to check the declared area against (the stored
     * area_check is NULL and health raises no AREA_* flag either) */
    out->declared_area_m2 = isfinite(r->planted_area_m2) ? r->declared_area_m2 : (double)NAN;
    out->n_clear_observations = r->n_clear_obs;
    out->harvest_day = harvest_day;
    /* held because the registry retired it (assess.c writes the reason so, never valued) */
    out->retired = !r->valued && r->reason &&
                   strncmp(r->reason, PARUS_ASSESS_REASON_RETIRED ":",
                           sizeof PARUS_ASSESS_REASON_RETIRED) == 0;
}

/* The first day in [start_day, start_day + 400) whose day of year is doy; NO_DAY none. */
static int64_t next_doy(int64_t start_day, int doy)
{
    int64_t d;
    for (d = start_day; d < start_day + 400; d++) {
        int y = parus_series_day_of_year(d);
        if (y == doy || (doy == 366 && y == 365 && parus_series_day_of_year(d + 1) == 1))
            return d;
    }
    return PARUS_CREDIT_NO_DAY;
}

int64_t parus__crop_harvest_day(const parus_crop *row, int64_t start_day, int64_t end_day)
{
    int64_t h = PARUS_CREDIT_NO_DAY;
    int k;
    if (!row)
        return PARUS_CREDIT_NO_DAY;
    for (k = 0; k < row->n_cycles && k < 2; k++) {
        int64_t d = next_doy(start_day, row->cycle[k].harvest_doy);
        if (d != PARUS_CREDIT_NO_DAY && (h == PARUS_CREDIT_NO_DAY || d > h))
            h = d;
    }
    return h != PARUS_CREDIT_NO_DAY ? h : end_day;
}

void parus__credit_parts_text(const parus_credit_result *c, char *buf, size_t n)
{
    snprintf(buf, n,
             "gross_value_fen=%lld;thin_evidence_fen=%lld;haircut_poor_health_fen=%lld;"
             "haircut_fair_health_fen=%lld;haircut_low_confidence_fen=%lld;haircut_event_fen=%lld;"
             "haircut_area_mismatch_fen=%lld;haircut_overlap_fen=%lld;net_value_fen=%lld;"
             "loan_to_value_ppm=%lld;lendable_fen=%lld;debt_fen=%lld;after_debt_fen=%lld;"
             "before_cap_cny=%lld;cap_removed_cny=%lld;rounding_removed_cny=%lld;"
             "floor_removed_cny=%lld;limit_cny=%lld",
             (long long)c->gross_value_fen, (long long)c->thin_evidence_fen,
             (long long)c->haircut_poor_health_fen, (long long)c->haircut_fair_health_fen,
             (long long)c->haircut_low_confidence_fen, (long long)c->haircut_event_fen,
             (long long)c->haircut_area_mismatch_fen, (long long)c->haircut_overlap_fen,
             (long long)c->net_value_fen, (long long)c->loan_to_value_ppm,
             (long long)c->lendable_fen, (long long)c->debt_fen, (long long)c->after_debt_fen,
             (long long)c->before_cap_cny, (long long)c->cap_removed_cny,
             (long long)c->rounding_removed_cny, (long long)c->floor_removed_cny,
             (long long)c->limit_cny);
}

void parus__limit_reasons_text(uint32_t credit_reasons, bool unknown_crop, bool not_classified,
                               char *buf, size_t n)
{
    size_t len = parus_credit_reasons_format(credit_reasons, buf, n);
    if (unknown_crop && len < n)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ";" : "",
                                PARUS_ASSESS_REASON_UNKNOWN_CROP);
    if (not_classified && len < n)
        snprintf(buf + len, n - len, "%s%s", len ? ";" : "", PARUS_ASSESS_REASON_NOT_CLASSIFIED);
}

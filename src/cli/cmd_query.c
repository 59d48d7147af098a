/*
 * cmd_query.c - `parus query PARCEL` and `parus query --farmer ID`: what the store knows of one
 * parcel or one farmer in a season, for a person at a terminal (text), a tool (--json, one
 * object on one line; keys in docs/cli.md) or a picture (--chart FILE.png).
 *
 * Everything comes from the library's views (parus/query.h): a few keyed reads of the store, and
 * one read of the parcel's weather per earlier year when it has weather, so an answer takes
 * milliseconds (docs/benchmarks.md). The store is only read. Exit codes: 0 with
 * an answer; 6 when the parcel or farmer is not in the store (nothing printed), and 6 too when it
 * is there but has no result for the season: what there is (the parcel, its raw series) is
 * printed, and a line on stderr says to run `parus assess`.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/chart.h"
#include "parus/credit.h"
#include "parus/crops.h"
#include "parus/health.h"
#include "parus/query.h"
#include "parus/series.h"
#include "parus/store.h"

#include "cli_season.h"

static const char usage[] =
    "usage: parus query PARCEL_ID [--season FIRST/LAST] [--json] [--chart FILE.png]\n"
    "       parus query --farmer ID [--season FIRST/LAST] [--json]\n\n"
    "What the store knows of a parcel in a season: its crop and probability (runner-up, method,\n"
    "confidence), measured, declared and planted area in mu, health and event flags with their\n"
    "dates and sizes, yield and value, the farmer's limit and its reasons, the NDVI series, and\n"
    "where the store holds weather, the season's rain, SPI, degree-days, heat and frost days and\n"
    "dry spell against the same window of up to 30 earlier years.\n"
    "With --farmer: the farmer's limit, the parts and reasons behind it, and one line per parcel.\n"
    "  --season FIRST/LAST  the season (default: the config's [season] window)\n"
    "  --json               one JSON object for tools (keys: docs/cli.md)\n"
    "  --chart FILE.png     draw the parcel's season: observations (dropped ones hollow), the\n"
    "                       smoothed series, its peers' median and band, its crop's expected\n"
    "                       curve, the flags; under it, where the store holds weather, the daily\n"
    "                       rain and its running total against the normal's\n"
    "  --crops TABLE.csv    crop table for the expected curve and the weather's crop figures\n"
    "                       (default: [tables] crops)\n\n"
    "Exit 6 when the parcel or farmer is not in the store, and when it has no result for the\n"
    "season (what there is is still shown).\n";

/* ---- formatting ---- */

/* Yuan with two decimals from fen, exactly. */
static const char *yuan(int64_t fen, char buf[32])
{
    uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(buf, 32, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", a / 100, a % 100);
    return buf;
}

static double mu(double m2)
{
    return cli_mu(m2);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Text from outside parus (ids, names) for a terminal: control characters (a line break, an
 * escape sequence) are shown as \n, \t or \xHH instead of acting on the terminal. buf holds
 * 256 bytes; longer text is cut. */
static const char *tty(const char *s, char buf[256])
{
    if (!s || !*s)
        return "-";
    return parus_escape_controls(s, buf, 256);
}

/* The next item of a ';'-joined list at *p into buf (cut to its size); false at the end. */
static bool next_item(const char **p, char *buf, size_t size)
{
    const char *end;
    size_t n;
    if (!*p || !**p)
        return false;
    end = strchr(*p, ';');
    n = end ? (size_t)(end - *p) : strlen(*p);
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), *p);
    *p += end ? n + 1 : n;
    return true;
}

/* Each code of a ';'-joined list, one line each with its meaning, indented. */
static void print_codes(const char *label, const char *codes)
{
    const char *p = codes;
    char code[64];
    bool first = true;
    if (!codes || !*codes) {
        printf("%-13s-\n", label);
        return;
    }
    while (next_item(&p, code, sizeof code)) {
        const char *text = parus_query_reason_text(code);
        printf("%-13s%-20s %s\n", first ? label : "", code, text ? text : "");
        first = false;
    }
}

/* A limit's parts ("key=value;..."): amounts in fen shown as yuan. */
static void print_parts(const char *parts)
{
    const char *p = parts;
    char item[128];
    bool first = true;
    while (next_item(&p, item, sizeof item)) {
        char *eq = strchr(item, '='), *num_end;
        long long v;
        printf("%-13s", first ? "parts" : "");
        first = false;
        if (!eq) {
            printf("%s\n", item);
            continue;
        }
        *eq = '\0';
        v = strtoll(eq + 1, &num_end, 10);
        if (strlen(item) > 4 && strcmp(item + strlen(item) - 4, "_fen") == 0 && eq[1] &&
            !*num_end) {
            char buf[32];
            item[strlen(item) - 4] = '\0';
            printf("%-24s %14s CNY\n", item, yuan((int64_t)v, buf));
        } else {
            printf("%-24s %14s\n", item, eq + 1);
        }
    }
}

static void print_limit(const parus_limit *l, const parus_query_audit *au)
{
    char a[32], b[32], c[32], t[256];
    printf("limit        %" PRId64 " %s for farmer %s (%zu parcels, %zu valued; confidence %s, "
           "health %s)\n",
           l->limit_cny, or_dash(l->currency), tty(l->farmer_id, t), l->n_parcels,
           l->n_parcels_valued, or_dash(l->confidence), or_dash(l->health));
    printf("value        %s CNY expected, %s CNY conservative (P10); debt %s CNY\n",
           yuan(l->value_expected_fen, a), yuan(l->value_p10_fen, b), yuan(l->debt_fen, c));
    printf("area         %.2f mu planted", mu(l->planted_area_m2));
    if (isfinite(l->declared_area_m2))
        printf(", %.2f mu declared", mu(l->declared_area_m2));
    printf("; main crop %s\n", or_dash(l->main_crop));
    print_codes("reasons", l->reasons);
    print_codes("flags", l->flags);
    print_parts(l->parts);
    printf("repayment    %s\n", or_dash(l->repayment_date));
    printf("audit        run %" PRId64 ", assessed %s, latest imagery %s, model %s, policy %s\n",
           l->run_id, or_dash(l->assessed_at), or_dash(l->latest_date), or_dash(l->model_version),
           or_dash(l->policy_hash));
    if (au->recorded)
        printf("inputs       model %s (training data %s), crop table %s, policy %s, debts %s\n",
               or_dash(au->model_version), or_dash(au->model_data_hash), or_dash(au->crops_hash),
               or_dash(au->policy_hash), au->debts_hash ? au->debts_hash : "none");
    else
        printf("inputs       not recorded (assessed before schema 8): assess again to record "
               "them\n");
}

/* NDVI as a sparkline of the regular series, one character per step. */
static void print_sparkline(const parus_parcel_view *v)
{
    static const char *const bars[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
    double lo = INFINITY, hi = -INFINITY;
    size_t i;
    char first[11];
    if (v->n_steps == 0)
        return;
    for (i = 0; i < v->n_steps; i++)
        if (isfinite(v->ndvi[i])) {
            lo = fmin(lo, v->ndvi[i]);
            hi = fmax(hi, v->ndvi[i]);
        }
    parus_health_format_day(v->first_day, first);
    printf("series       ");
    for (i = 0; i < v->n_steps; i++) {
        double x = v->ndvi[i];
        int k;
        if (!isfinite(x)) {
            fputs("\u00b7", stdout);
            continue;
        }
        k = (int)floor((x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x) * 8.0);
        fputs(bars[k > 7 ? 7 : k], stdout);
    }
    if (isfinite(lo))
        printf("  NDVI %.2f..%.2f", lo, hi);
    printf("\n             %zu steps of %zu days from %s, smoothed (\u00b7 no value)\n", v->n_steps,
           v->step_days, first);
}

static void print_observations(const parus_parcel_view *v)
{
    size_t i;
    printf("observations %zu in the season, %zu used by the series (*)", v->n_obs, v->n_obs_used);
    if (v->n_obs_outliers)
        printf(", %zu left out as outliers (!)", v->n_obs_outliers);
    putchar('\n');
    for (i = 0; i < v->n_obs; i++) {
        const parus_query_obs *o = &v->obs[i];
        char ndvi[16];
        if (isfinite(o->ndvi))
            snprintf(ndvi, sizeof ndvi, "%6.3f", o->ndvi);
        else
            snprintf(ndvi, sizeof ndvi, "%6s", "-");
        printf("%s%s %s %3.0f%%%s", i % 4 == 0 ? "  " : "   ", o->date, ndvi,
               100.0 * (isfinite(o->valid_fraction) ? o->valid_fraction : 0.0),
               o->used      ? "*"
               : o->outlier ? "!"
                            : " ");
        if (i % 4 == 3 || i + 1 == v->n_obs)
            putchar('\n');
    }
    for (i = 0; i < v->n_obs; i++)
        if (v->obs[i].outlier) {
            char buf[256];
            printf("  ! %s: %s\n", v->obs[i].date, tty(v->obs[i].outlier, buf));
        }
}

/* Radar observations beside the optical ones: linear means shown in dB, with their passes. */
static void print_radar(const parus_parcel_view *v)
{
    size_t i;
    if (v->n_radar == 0)
        return;
    printf("radar        %zu Sentinel-1 observations in the season (VV, VH in dB, RVI, water "
           "share; A/D: pass, relative orbit)\n",
           v->n_radar);
    for (i = 0; i < v->n_radar; i++) {
        const parus_query_radar *r = &v->radar[i];
        char vv[16] = "     -", vh[16] = "     -", rvi[16] = "    -", water[16] = "  -";
        if (r->vv > 0.0)
            snprintf(vv, sizeof vv, "%6.1f", 10.0 * log10(r->vv));
        if (r->vh > 0.0)
            snprintf(vh, sizeof vh, "%6.1f", 10.0 * log10(r->vh));
        if (isfinite(r->rvi))
            snprintf(rvi, sizeof rvi, "%5.2f", r->rvi);
        if (isfinite(r->water_fraction))
            snprintf(water, sizeof water, "%3.0f", 100.0 * r->water_fraction);
        printf("  %s %c%-3d VV %s VH %s RVI %s water %s%%\n", r->date,
               r->orbit_direction[0] ? r->orbit_direction[0] : '?', r->relative_orbit, vv, vh, rvi,
               water);
    }
}

/* ---- the season's weather against its normal ---- */

static const char *day_text(int64_t day, char buf[11])
{
    parus_health_format_day(day, buf);
    return buf;
}

/* After a figure: its missing days; or, when it is not a number, why. */
static void print_figure_end(const parus_climate_figure *f, const parus_climate_normal *normal,
                             int decimals, bool scaled)
{
    char d[11];
    if (isfinite(f->value) && normal && isfinite(normal->mean))
        printf(", normal %.*f", decimals, normal->mean);
    if (f->n_missing_days > 0)
        printf("%s%zu of %lld days without a value from %s%s", isfinite(f->value) ? "; " : " (",
               f->n_missing_days, (long long)(f->last_day - f->first_day + 1),
               day_text(f->first_missing_day, d),
               isfinite(f->value) && scaled ? ", counted at the other days' mean" : "");
    if (!isfinite(f->value) && f->n_missing_days > 0)
        putchar(')');
    putchar('\n');
}

static void print_none(const char *label, const parus_climate_figure *f)
{
    printf("%-13snone: %s", label, parus_climate_why_text(f->why));
    print_figure_end(f, NULL, 0, false);
}

static void print_spi(const parus_climate *c)
{
    const parus_climate_spi *s[3] = {&c->spi_30d, &c->spi_90d, &c->spi_season};
    const char *name[3] = {"30 days", "90 days", "season"};
    int k;
    if (!isfinite(s[0]->spi) && !isfinite(s[1]->spi) && !isfinite(s[2]->spi) &&
        s[0]->why == s[2]->why && s[1]->why == s[2]->why) {
        printf("%-13snone: %s\n", "SPI", parus_climate_why_text(s[2]->why));
        return;
    }
    printf("%-13s", "SPI");
    for (k = 0; k < 3; k++) {
        printf("%s%s ", k ? ", " : "", name[k]);
        if (isfinite(s[k]->spi))
            printf("%+.2f", s[k]->spi);
        else
            printf("- (%s)", parus_climate_why_text(s[k]->why));
    }
    printf("; gamma fitted to %zu years (%zu without rain)\n", s[2]->n_years, s[2]->n_zero_years);
}

static void print_weather(const parus_parcel_view *v, const parus_crop *crop)
{
    const parus_climate *c = &v->weather;
    const parus_climate_figures *f = &c->season;
    char a[11], b[11], d[11];

    if (!v->has_weather) {
        printf("weather      none stored for this parcel\n");
        return;
    }
    if (c->n_years_given == 0 && f->rain_mm.n_missing_days == c->n_days &&
        !isfinite(f->gdd_degc_days.value) && !isfinite(f->heat_days.value) &&
        !isfinite(f->frost_days.value)) {
        printf("weather      none stored for this season or the %d years before\n",
               PARUS_QUERY_CLIMATE_YEARS);
        return;
    }
    printf("weather      %s..%s (%zu days) against %zu earlier years", day_text(c->first_day, a),
           day_text(c->last_day, b), c->n_days, c->rain_mm_normal.n_years);
    if (c->climatology_why != PARUS_CLIMATE_OK)
        printf(": %s, no normal", parus_climate_why_text(c->climatology_why));
    else if (c->short_climatology)
        printf(" (short climatology: WMO recommends %d)", PARUS_CLIMATE_FULL_YEARS);
    putchar('\n');
    if (isfinite(f->rain_mm.value)) {
        printf("%-13s%.1f mm", "rain", f->rain_mm.value);
        if (isfinite(c->rain_mm_normal.mean))
            printf(" against a normal of %.1f mm (%.0f %%; median %.1f mm), percentile %.0f",
                   c->rain_mm_normal.mean, c->rain_pct_of_normal, c->rain_mm_normal.median,
                   c->rain_percentile);
        print_figure_end(&f->rain_mm, NULL, 0, true);
    } else {
        print_none("rain", &f->rain_mm);
    }
    print_spi(c);
    if (c->crop_why != PARUS_CLIMATE_OK) {
        printf("%-13s%s%s%s: no degree-days, heat or frost days\n", "crop",
               v->weather_crop[0] ? v->weather_crop : "", v->weather_crop[0] ? ": " : "",
               parus_climate_why_text(c->crop_why));
    } else {
        printf("%-13s%s sown %s, peak %s, harvest %s (the crop table's calendar)\n", "crop",
               v->weather_crop, day_text(c->crop_dates.sow_day, a),
               day_text(c->crop_dates.peak_day, b), day_text(c->crop_dates.harvest_day, d));
        if (isfinite(f->gdd_degc_days.value)) {
            printf("%-13s%.0f degC days above %g degC, %s..%s", "GDD", f->gdd_degc_days.value,
                   crop->tbase_c, day_text(f->gdd_degc_days.first_day, a),
                   day_text(f->gdd_degc_days.last_day, b));
            print_figure_end(&f->gdd_degc_days, &c->gdd_degc_days_normal, 0, true);
        } else {
            print_none("GDD", &f->gdd_degc_days);
        }
        if (isfinite(f->heat_days.value)) {
            printf("%-13s%.0f with tmax above %g degC, %s..%s (peak +-%d days)", "heat days",
                   f->heat_days.value, crop->theat_c, day_text(f->heat_days.first_day, a),
                   day_text(f->heat_days.last_day, b), PARUS_CLIMATE_HEAT_HALF_DAYS);
            print_figure_end(&f->heat_days, &c->heat_days_normal, 1, false);
        } else {
            print_none("heat days", &f->heat_days);
        }
        if (isfinite(f->frost_days.value)) {
            printf("%-13s%.0f with tmin below 0 degC, %s..%s%s", "frost days", f->frost_days.value,
                   day_text(f->frost_days.first_day, a), day_text(f->frost_days.last_day, b),
                   c->crop_dates.overwinters ? " (from green-up: the crop overwinters)" : "");
            print_figure_end(&f->frost_days, &c->frost_days_normal, 1, false);
        } else {
            print_none("frost days", &f->frost_days);
        }
    }
    if (isfinite(f->dry_spell_days.value)) {
        printf("%-13s%.0f days below %g mm", "dry spell", f->dry_spell_days.value,
               PARUS_CLIMATE_DRY_MM);
        if (f->dry_spell_days.value > 0)
            printf(" from %s", day_text(f->dry_spell_first_day, a));
        printf(" (in %s..%s)", day_text(f->dry_spell_days.first_day, b),
               day_text(f->dry_spell_days.last_day, d));
        print_figure_end(&f->dry_spell_days, &c->dry_spell_days_normal, 1, false);
    } else {
        print_none("dry spell", &f->dry_spell_days);
    }
}

/* ---- land another parcel claims ---- */

struct overlap_out {
    const char *id;
    struct json *j; /* NULL: text */
    size_t n;
};

static void j_overlap(struct json *j, const parus_overlap *o, bool first, const char *id);

static int put_overlap(const parus_overlap *o, void *ctx)
{
    struct overlap_out *out = ctx;
    bool first = strcmp(o->parcel_a, out->id) == 0;
    const char *other = first ? o->parcel_b : o->parcel_a;
    const char *farmer = first ? o->farmer_b : o->farmer_a;
    char t1[256], t2[256];
    if (out->j) {
        j_overlap(out->j, o, first, out->id);
    } else {
        printf("overlap      %.1f m2 with parcel %s (farmer %s, registered %s): %.1f %% of "
               "this parcel, %.1f %% of that one: the land counts for credit once (OVERLAP)\n",
               o->overlap_m2, tty(other, t1), farmer ? tty(farmer, t2) : "-",
               first ? "later" : "earlier", 100.0 * (first ? o->share_a : o->share_b),
               100.0 * (first ? o->share_b : o->share_a));
    }
    out->n++;
    return 0;
}

/* The parcel's overlaps as the store has them (found at the last load or assess). */
static void print_overlaps(parus_store *store, const char *id, struct json *j)
{
    struct overlap_out out = {id, j, 0};
    parus_error err;
    if (parus_store_overlaps_foreach(store, id, put_overlap, &out, NULL, &err) != PARUS_OK)
        fprintf(stderr, "parus: warning: the overlaps of parcel '%s' cannot be read: %s\n", id,
                err.msg);
}

/* The season's results are owed an assessment (NULL: they are current): said under the header, so
 * no stale limit reads as current. */
static void print_owed(const parus_season_state *owed)
{
    if (owed)
        printf("STALE        the season is owed an assessment since %s (%s): the results and "
               "limit below do not rest on what the store holds now; run 'parus assess'\n",
               owed->stale_since, cli_safe(owed->stale_cause));
}

static void print_parcel_text(const parus_parcel_view *v, parus_store *store,
                              const parus_crop *crop, const parus_season_state *owed)
{
    const parus_parcel *p = &v->parcel;
    const parus_parcel_result *r = &v->result;
    char a[32], b[32], t1[256], t2[256];
    size_t i;

    printf("parcel       %s  farmer %s  season %s\n", tty(p->id, t1), tty(p->farmer_id, t2),
           v->season);
    print_owed(owed);
    printf("area         %.2f mu measured (%.0f m2)", mu(p->area_m2), p->area_m2);
    if (isfinite(p->declared_area_m2))
        printf(", %.2f mu declared", mu(p->declared_area_m2));
    if (v->assessed && isfinite(r->planted_area_m2))
        printf(", %.2f mu planted (%.0f %%), check %s", mu(r->planted_area_m2),
               100.0 * r->planted_fraction, or_dash(r->area_check));
    printf("\n");
    if (!v->assessed) {
        printf("assessment   none for this season\n");
    } else {
        if (r->crop) {
            printf("crop         %s  p %.2f  by %s, confidence %s", cli_safe(r->crop),
                   r->crop_probability, parus_assess_method_name(r->crop_method),
                   parus_assess_confidence_name(r->crop_confidence));
            if (v->has_assessment && v->assessment.crop2)
                printf("; runner-up %s (margin %.2f)", cli_safe(v->assessment.crop2),
                       v->assessment.margin);
            printf("\n");
        } else {
            printf("crop         none (%s)\n", or_dash(r->reason));
        }
        if (v->has_assessment && v->assessment.declared_crop)
            printf("             declared %s: %s\n", cli_safe(v->assessment.declared_crop),
                   v->assessment.agrees == 1   ? "agrees"
                   : v->assessment.agrees == 0 ? "DIFFERS"
                                               : "not compared");
        if (r->crop_method == PARUS_ASSESS_CALENDAR)
            printf("warning      the crop comes from the calendar fallback (no model): low "
                   "confidence\n");
        else if (r->crop_confidence == PARUS_CONFIDENCE_LOW)
            printf("warning      low confidence in the crop\n");
        printf("evidence     %zu clear observations, %s .. %s\n", r->n_clear_obs,
               or_dash(r->first_date), or_dash(r->last_date));
        printf("health       %s", r->health_class ? r->health_class : "unknown");
        if (isfinite(r->health_score))
            printf("  score %.2f", r->health_score);
        printf("  against %s", r->health_reference ? r->health_reference : "none");
        if (r->peer_group)
            printf(" (%zu parcels, group %s)", r->n_peers, r->peer_group);
        if (isfinite(r->green_ratio))
            printf(", green ratio %.2f", r->green_ratio);
        printf("\n");
        if (v->n_flags == 0)
            printf("flags        -\n");
        for (i = 0; i < v->n_flags; i++) {
            const parus_result_flag *f = &v->flags[i];
            printf("%-13s%-15s %s..%s  size %.2f  confidence %.2f  %s\n", i ? "" : "flags", f->flag,
                   f->first_date, f->last_date, f->size, f->confidence, or_dash(f->reason));
        }
        if (isfinite(r->yield_expected_kg_per_mu))
            printf("yield        %.1f kg/mu expected, %.1f kg/mu P10 (NDVI integral %.2f, peak "
                   "%.2f), price %.2f CNY/kg\n",
                   r->yield_expected_kg_per_mu, r->yield_p10_kg_per_mu, r->ndvi_integral_10d,
                   r->ndvi_peak, r->price_cny_per_kg);
        if (r->valued)
            printf("value        %s CNY expected, %s CNY conservative (P10)\n",
                   yuan(r->value_expected_fen, a), yuan(r->value_p10_fen, b));
        else
            printf("value        none: %s\n", or_dash(r->reason));
        if (r->credit_counted >= 0) {
            printf("credit       %s", r->credit_counted ? "counted" : "not counted");
            if (r->credit_value_fen >= 0)
                printf(", %s CNY after haircuts", yuan(r->credit_value_fen, a));
            printf("\n");
            if (r->credit_reasons && *r->credit_reasons)
                print_codes("", r->credit_reasons);
        }
    }
    print_overlaps(store, p->id, NULL);
    if (v->has_limit)
        print_limit(&v->limit, &v->audit);
    else if (p->farmer_id)
        printf("limit        none for farmer %s this season\n", tty(p->farmer_id, t2));
    print_weather(v, crop);
    print_sparkline(v);
    print_observations(v);
    print_radar(v);
}

/* ---- JSON ---- */

struct json {
    FILE *f;
    int depth;
    bool comma[32];
    bool after_key;
};

static void j_pre(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->comma[j->depth])
        fputc(',', j->f);
    j->comma[j->depth] = true;
}

static void j_open(struct json *j, int c)
{
    j_pre(j);
    fputc(c, j->f);
    j->depth++;
    j->comma[j->depth] = false;
}

static void j_close(struct json *j, int c)
{
    j->depth--;
    fputc(c, j->f);
}

static void j_key(struct json *j, const char *k)
{
    j_pre(j);
    cli_json_string(j->f, k);
    fputc(':', j->f);
    j->after_key = true;
}

static void j_str(struct json *j, const char *s)
{
    j_pre(j);
    if (s)
        cli_json_string(j->f, s);
    else
        fputs("null", j->f);
}

static void j_num(struct json *j, double x)
{
    j_pre(j);
    cli_json_number(j->f, x);
}

static void j_int(struct json *j, int64_t i)
{
    j_pre(j);
    fprintf(j->f, "%" PRId64, i);
}

static void j_bool(struct json *j, bool b)
{
    j_pre(j);
    fputs(b ? "true" : "false", j->f);
}

static void j_null(struct json *j)
{
    j_pre(j);
    fputs("null", j->f);
}

/* A member: key and value. */
static void jk_str(struct json *j, const char *k, const char *s)
{
    j_key(j, k);
    j_str(j, s);
}

static void jk_num(struct json *j, const char *k, double x)
{
    j_key(j, k);
    j_num(j, x);
}

static void jk_int(struct json *j, const char *k, int64_t i)
{
    j_key(j, k);
    j_int(j, i);
}

static void jk_bool(struct json *j, const char *k, bool b)
{
    j_key(j, k);
    j_bool(j, b);
}

/* A ';'-joined list as an array of strings; with_text: objects {code, text}. */
static void j_codes(struct json *j, const char *codes, bool with_text)
{
    const char *p = codes;
    char code[128];
    j_open(j, '[');
    while (next_item(&p, code, sizeof code)) {
        if (with_text) {
            j_open(j, '{');
            jk_str(j, "code", code);
            jk_str(j, "text", parus_query_reason_text(code));
            j_close(j, '}');
        } else {
            j_str(j, code);
        }
    }
    j_close(j, ']');
}

static void j_limit(struct json *j, const parus_limit *l, const parus_query_audit *au)
{
    const char *p = l->parts;
    char item[128];
    j_open(j, '{');
    jk_str(j, "farmer_id", l->farmer_id);
    jk_int(j, "limit_cny", l->limit_cny);
    jk_str(j, "currency", l->currency);
    jk_int(j, "n_parcels", (int64_t)l->n_parcels);
    jk_int(j, "n_parcels_valued", (int64_t)l->n_parcels_valued);
    jk_num(j, "planted_area_mu", mu(l->planted_area_m2));
    jk_num(j, "declared_area_mu", mu(l->declared_area_m2));
    jk_str(j, "main_crop", l->main_crop);
    jk_int(j, "value_expected_fen", l->value_expected_fen);
    jk_int(j, "value_conservative_fen", l->value_p10_fen);
    jk_int(j, "debt_fen", l->debt_fen);
    jk_str(j, "health", l->health);
    j_key(j, "flags");
    j_codes(j, l->flags, false);
    j_key(j, "reasons");
    j_codes(j, l->reasons, true);
    jk_str(j, "confidence", l->confidence);
    jk_str(j, "repayment_date", l->repayment_date);
    jk_str(j, "latest_imagery_date", l->latest_date);
    jk_str(j, "model_version", l->model_version);
    jk_str(j, "policy_version", l->policy_hash);
    j_key(j, "inputs");
    if (au->recorded) {
        j_open(j, '{');
        jk_str(j, "model_version", au->model_version);
        jk_str(j, "model_data_hash", au->model_data_hash);
        jk_str(j, "crops_version", au->crops_hash);
        jk_str(j, "policy_version", au->policy_hash);
        jk_str(j, "debts_version", au->debts_hash);
        j_close(j, '}');
    } else {
        j_null(j);
    }
    jk_int(j, "run_id", l->run_id);
    jk_str(j, "assessed_at", l->assessed_at);
    j_key(j, "parts");
    j_open(j, '{');
    while (next_item(&p, item, sizeof item)) {
        char *eq = strchr(item, '='), *num_end;
        long long v;
        if (!eq)
            continue;
        *eq = '\0';
        v = strtoll(eq + 1, &num_end, 10);
        if (eq[1] && !*num_end)
            jk_int(j, item, (int64_t)v);
        else
            jk_str(j, item, eq + 1);
    }
    j_close(j, '}');
    j_close(j, '}');
}

/* A parcel's result: the per-parcel export's names, money in integer fen. */
static void j_result(struct json *j, const parus_parcel_result *r)
{
    jk_str(j, "crop", r->crop);
    jk_str(j, "crop_method", parus_assess_method_name(r->crop_method));
    jk_str(j, "crop_confidence", parus_assess_confidence_name(r->crop_confidence));
    jk_num(j, "crop_probability", r->crop_probability);
    jk_int(j, "n_clear_obs", (int64_t)r->n_clear_obs);
    jk_str(j, "first_clear_date", r->first_date);
    jk_str(j, "last_clear_date", r->last_date);
    jk_num(j, "planted_fraction", r->planted_fraction);
    jk_num(j, "planted_area_mu", mu(r->planted_area_m2));
    jk_str(j, "area_check", r->area_check);
    jk_str(j, "health_class", r->health_class ? r->health_class : "unknown");
    jk_num(j, "health_score", r->health_score);
    jk_str(j, "health_reference", r->health_reference ? r->health_reference : "none");
    jk_str(j, "peer_group", r->peer_group);
    jk_int(j, "n_peers", (int64_t)r->n_peers);
    jk_num(j, "green_ratio", r->green_ratio);
    jk_num(j, "ndvi_peak", r->ndvi_peak);
    jk_num(j, "ndvi_integral_10d", r->ndvi_integral_10d);
    jk_num(j, "yield_expected_kg_per_mu", r->yield_expected_kg_per_mu);
    jk_num(j, "yield_p10_kg_per_mu", r->yield_p10_kg_per_mu);
    jk_num(j, "price_cny_per_kg", r->price_cny_per_kg);
    jk_bool(j, "valued", r->valued);
    j_key(j, "value_expected_fen");
    if (r->valued)
        j_int(j, r->value_expected_fen);
    else
        j_null(j);
    j_key(j, "value_conservative_fen");
    if (r->valued)
        j_int(j, r->value_p10_fen);
    else
        j_null(j);
    jk_str(j, "no_value_reason", r->reason);
    j_key(j, "credit_counted");
    if (r->credit_counted >= 0)
        j_bool(j, r->credit_counted == 1);
    else
        j_null(j);
    j_key(j, "credit_value_fen");
    if (r->credit_value_fen >= 0)
        j_int(j, r->credit_value_fen);
    else
        j_null(j);
    j_key(j, "credit_reasons");
    j_codes(j, r->credit_reasons, true);
    jk_int(j, "run_id", r->run_id);
    jk_str(j, "assessed_at", r->assessed_at);
}

static void j_overlap(struct json *j, const parus_overlap *o, bool first, const char *id)
{
    (void)id;
    j_open(j, '{');
    jk_str(j, "parcel_id", first ? o->parcel_b : o->parcel_a);
    jk_str(j, "farmer_id", first ? o->farmer_b : o->farmer_a);
    jk_bool(j, "registered_first", !first);
    jk_num(j, "overlap_m2", o->overlap_m2);
    jk_num(j, "share_of_this", first ? o->share_a : o->share_b);
    jk_num(j, "share_of_other", first ? o->share_b : o->share_a);
    j_close(j, '}');
}

/* A date member, null for none. */
static void jk_day(struct json *j, const char *k, int64_t day, bool known)
{
    char d[11];
    if (known) {
        jk_str(j, k, day_text(day, d));
    } else {
        j_key(j, k);
        j_null(j);
    }
}

static void jk_why(struct json *j, parus_climate_why why)
{
    jk_str(j, "note", why == PARUS_CLIMATE_OK ? NULL : parus_climate_why_name(why));
    jk_str(j, "note_text", why == PARUS_CLIMATE_OK ? NULL : parus_climate_why_text(why));
}

/* A figure with its span, missing days and normal (NULL: none). */
static void j_figure(struct json *j, const char *key, const parus_climate_figure *f,
                     const parus_climate_normal *normal)
{
    bool span = f->first_day <= f->last_day;
    j_key(j, key);
    j_open(j, '{');
    jk_num(j, "value", f->value);
    jk_day(j, "first_date", f->first_day, span);
    jk_day(j, "last_date", f->last_day, span);
    jk_int(j, "missing_days", (int64_t)f->n_missing_days);
    jk_day(j, "first_missing_date", f->first_missing_day, f->n_missing_days > 0);
    jk_num(j, "normal", normal ? normal->mean : (double)NAN);
    jk_num(j, "normal_median", normal ? normal->median : (double)NAN);
    jk_int(j, "normal_years", normal ? (int64_t)normal->n_years : 0);
    jk_why(j, f->why);
    j_close(j, '}');
}

static void j_spi(struct json *j, const char *key, const parus_climate_spi *s)
{
    j_key(j, key);
    j_open(j, '{');
    jk_int(j, "n_days", (int64_t)s->n_days);
    jk_num(j, "spi", s->spi);
    jk_num(j, "rain_mm", s->rain_mm);
    jk_num(j, "probability", s->probability);
    jk_int(j, "n_years", (int64_t)s->n_years);
    jk_int(j, "n_zero_years", (int64_t)s->n_zero_years);
    jk_num(j, "gamma_shape", s->gamma_shape);
    jk_num(j, "gamma_scale_mm", s->gamma_scale_mm);
    jk_bool(j, "short_climatology", s->short_climatology);
    jk_why(j, s->why);
    j_close(j, '}');
}

/* The season's weather against its normal: the text's figures under the names of
 * parus/climate.h. */
static void j_weather(struct json *j, const parus_parcel_view *v)
{
    const parus_climate *c = &v->weather;
    bool crop = c->crop_why == PARUS_CLIMATE_OK;
    j_key(j, "weather");
    if (!v->has_weather) {
        j_null(j);
        jk_str(j, "weather_note", v->weather_none);
        return;
    }
    j_open(j, '{');
    jk_day(j, "first_date", c->first_day, true);
    jk_day(j, "last_date", c->last_day, true);
    jk_int(j, "n_days", (int64_t)c->n_days);
    jk_str(j, "crop", v->weather_crop[0] ? v->weather_crop : NULL);
    jk_day(j, "sow_date", c->crop_dates.sow_day, crop);
    jk_day(j, "peak_date", c->crop_dates.peak_day, crop);
    jk_day(j, "harvest_date", c->crop_dates.harvest_day, crop);
    jk_str(j, "crop_note", crop ? NULL : parus_climate_why_name(c->crop_why));
    jk_int(j, "n_years_given", (int64_t)c->n_years_given);
    jk_int(j, "n_climate_years", (int64_t)c->rain_mm_normal.n_years);
    jk_bool(j, "short_climatology", c->short_climatology);
    jk_str(j, "climatology_note",
           c->climatology_why == PARUS_CLIMATE_OK ? NULL
                                                  : parus_climate_why_name(c->climatology_why));
    j_figure(j, "rain_mm", &c->season.rain_mm, &c->rain_mm_normal);
    jk_num(j, "rain_pct_of_normal", c->rain_pct_of_normal);
    jk_num(j, "rain_percentile", c->rain_percentile);
    j_spi(j, "spi_30d", &c->spi_30d);
    j_spi(j, "spi_90d", &c->spi_90d);
    j_spi(j, "spi_season", &c->spi_season);
    j_figure(j, "gdd_degc_days", &c->season.gdd_degc_days, &c->gdd_degc_days_normal);
    j_figure(j, "heat_days", &c->season.heat_days, &c->heat_days_normal);
    j_figure(j, "frost_days", &c->season.frost_days, &c->frost_days_normal);
    j_figure(j, "dry_spell_days", &c->season.dry_spell_days, &c->dry_spell_days_normal);
    jk_day(j, "dry_spell_first_date", c->season.dry_spell_first_day,
           c->season.dry_spell_days.value > 0);
    j_close(j, '}');
    jk_str(j, "weather_note", NULL);
}

/* "owed": null when the season's results are current, else since when and why not */
static void j_owed(struct json *j, const parus_season_state *owed)
{
    j_key(j, "owed");
    if (!owed) {
        j_null(j);
        return;
    }
    j_open(j, '{');
    jk_str(j, "since", owed->stale_since);
    jk_str(j, "cause", owed->stale_cause);
    j_close(j, '}');
}

static void print_parcel_json(const parus_parcel_view *v, parus_store *store,
                              const parus_season_state *owed)
{
    struct json jj, *j = &jj;
    const parus_parcel *p = &v->parcel;
    size_t i;

    memset(j, 0, sizeof *j);
    j->f = stdout;
    j_open(j, '{');
    jk_str(j, "parcel_id", p->id);
    jk_str(j, "farmer_id", p->farmer_id);
    jk_str(j, "season", v->season);
    jk_num(j, "area_m2", p->area_m2);
    jk_num(j, "area_mu", mu(p->area_m2));
    jk_num(j, "declared_area_mu", mu(p->declared_area_m2));
    jk_bool(j, "assessed", v->assessed);
    j_key(j, "result");
    if (v->assessed) {
        j_open(j, '{');
        j_result(j, &v->result);
        jk_str(j, "crop_runner_up", v->has_assessment ? v->assessment.crop2 : NULL);
        jk_num(j, "crop_margin", v->has_assessment ? v->assessment.margin : (double)NAN);
        jk_str(j, "declared_crop", v->has_assessment ? v->assessment.declared_crop : NULL);
        jk_str(j, "model_version", v->has_assessment ? v->assessment.model_version : NULL);
        j_close(j, '}');
    } else {
        j_null(j);
    }
    j_key(j, "flags");
    j_open(j, '[');
    for (i = 0; i < v->n_flags; i++) {
        const parus_result_flag *f = &v->flags[i];
        j_open(j, '{');
        jk_str(j, "flag", f->flag);
        jk_str(j, "first_date", f->first_date);
        jk_str(j, "last_date", f->last_date);
        jk_num(j, "size", f->size);
        jk_num(j, "confidence", f->confidence);
        jk_str(j, "reason", f->reason);
        jk_str(j, "text", parus_query_reason_text(f->flag));
        j_close(j, '}');
    }
    j_close(j, ']');
    j_key(j, "limit");
    if (v->has_limit)
        j_limit(j, &v->limit, &v->audit);
    else
        j_null(j);
    j_key(j, "observations");
    j_open(j, '[');
    for (i = 0; i < v->n_obs; i++) {
        const parus_query_obs *o = &v->obs[i];
        j_open(j, '{');
        jk_str(j, "date", o->date);
        jk_str(j, "sensor", o->sensor);
        jk_num(j, "ndvi", o->ndvi);
        jk_num(j, "valid_fraction", o->valid_fraction);
        jk_bool(j, "used", o->used);
        if (o->outlier) {
            jk_str(j, "outlier", o->outlier);
        } else {
            j_key(j, "outlier");
            j_null(j);
        }
        j_close(j, '}');
    }
    j_close(j, ']');
    j_key(j, "radar_observations");
    j_open(j, '[');
    for (i = 0; i < v->n_radar; i++) {
        const parus_query_radar *r = &v->radar[i];
        j_open(j, '{');
        jk_str(j, "date", r->date);
        jk_str(j, "orbit_direction", r->orbit_direction);
        jk_int(j, "relative_orbit", r->relative_orbit);
        jk_num(j, "valid_fraction", r->valid_fraction);
        jk_num(j, "vv", r->vv);
        jk_num(j, "vh", r->vh);
        jk_num(j, "vh_vv", r->vh_vv);
        jk_num(j, "rvi", r->rvi);
        jk_num(j, "water_fraction", r->water_fraction);
        jk_num(j, "looks_vv", r->looks_vv);
        jk_num(j, "se_vv", r->se_vv);
        jk_num(j, "se_vh", r->se_vh);
        j_close(j, '}');
    }
    j_close(j, ']');
    j_key(j, "series");
    j_open(j, '{');
    {
        char first[11];
        parus_health_format_day(v->first_day, first);
        jk_str(j, "first_day", first);
    }
    jk_int(j, "step_days", (int64_t)v->step_days);
    j_key(j, "ndvi");
    j_open(j, '[');
    for (i = 0; i < v->n_steps; i++)
        j_num(j, v->ndvi[i]);
    j_close(j, ']');
    j_key(j, "peer_median");
    if (v->peer_median) {
        j_open(j, '[');
        for (i = 0; i < v->n_steps; i++)
            j_num(j, v->peer_median[i]);
        j_close(j, ']');
    } else {
        j_null(j);
    }
    j_close(j, '}');
    j_key(j, "overlaps");
    j_open(j, '[');
    print_overlaps(store, p->id, j);
    j_close(j, ']');
    j_weather(j, v);
    j_owed(j, owed);
    j_close(j, '}');
    fputc('\n', stdout);
}

/* ---- a farmer ---- */

static void print_farmer_text(const parus_farmer_view *v, const parus_season_state *owed)
{
    size_t i;
    char t[256];
    printf("farmer       %s  season %s\n", tty(v->farmer_id, t), v->season);
    print_owed(owed);
    if (v->has_limit)
        print_limit(&v->limit, &v->audit);
    else
        printf("limit        none this season\n");
    printf("parcels      %zu (%zu assessed)\n", v->n_parcels, v->n_assessed);
    printf("  %-12s %-20s %5s %9s %-7s %-22s %12s %12s\n", "parcel", "crop", "p", "planted",
           "health", "flags", "P10 CNY", "credit CNY");
    for (i = 0; i < v->n_parcels; i++) {
        const parus_farmer_parcel *fp = &v->parcels[i];
        const parus_parcel_result *r = &fp->result;
        char a[32], b[32], planted[32], prob[16];
        if (!fp->assessed) {
            printf("  %-12s (no result this season)\n", tty(fp->parcel_id, t));
            continue;
        }
        if (isfinite(r->crop_probability))
            snprintf(prob, sizeof prob, "%.2f", r->crop_probability);
        else
            snprintf(prob, sizeof prob, "-");
        if (isfinite(r->planted_area_m2))
            snprintf(planted, sizeof planted, "%.2f mu", mu(r->planted_area_m2));
        else
            snprintf(planted, sizeof planted, "-");
        printf("  %-12s %-20s %5s %9s %-7s %-22s %12s %12s%s\n", tty(fp->parcel_id, t),
               or_dash(r->crop), prob, planted, r->health_class ? r->health_class : "unknown",
               or_dash(r->flags), r->valued ? yuan(r->value_p10_fen, a) : "-",
               r->credit_value_fen >= 0 ? yuan(r->credit_value_fen, b) : "-",
               r->credit_counted == 0 ? " not counted" : "");
    }
}

static void print_farmer_json(const parus_farmer_view *v, const parus_season_state *owed)
{
    struct json jj, *j = &jj;
    size_t i;
    memset(j, 0, sizeof *j);
    j->f = stdout;
    j_open(j, '{');
    jk_str(j, "farmer_id", v->farmer_id);
    jk_str(j, "season", v->season);
    j_key(j, "limit");
    if (v->has_limit)
        j_limit(j, &v->limit, &v->audit);
    else
        j_null(j);
    j_key(j, "parcels");
    j_open(j, '[');
    for (i = 0; i < v->n_parcels; i++) {
        j_open(j, '{');
        jk_str(j, "parcel_id", v->parcels[i].parcel_id);
        jk_bool(j, "assessed", v->parcels[i].assessed);
        if (v->parcels[i].assessed)
            j_result(j, &v->parcels[i].result);
        j_close(j, '}');
    }
    j_close(j, ']');
    j_owed(j, owed);
    j_close(j, '}');
    fputc('\n', stdout);
}

/* ---- the command ---- */

static int query_farmer(cli_ctx *ctx, parus_store *store, const char *window, const char *id,
                        bool json, const parus_season_state *owed)
{
    parus_farmer_view v;
    parus_error err;
    int rc = PARUS_EXIT_OK;

    parus_farmer_view_init(&v);
    if (parus_farmer_view_load(store, window, id, &v, &err) != PARUS_OK) {
        char t[256];
        if (err.code != PARUS_E_NOT_FOUND)
            return cli_report(&err);
        fprintf(stderr, "parus: error: farmer '%s' has no parcel in '%s'\n", tty(id, t),
                cli_db_name(ctx));
        return PARUS_EXIT_NOT_FOUND;
    }
    if (json)
        print_farmer_json(&v, owed);
    else
        print_farmer_text(&v, owed);
    if (!v.has_limit) {
        fprintf(stderr,
                "parus: farmer '%s' has no limit for season %s in '%s': run 'parus assess "
                "--season %s'\n",
                cli_safe(id), window, cli_safe(cli_db_name(ctx)), window);
        rc = PARUS_EXIT_NOT_FOUND;
    }
    parus_farmer_view_release(&v);
    return rc;
}

/* The crop the weather's crop figures follow: the season's result, else the declared crop. */
static bool weather_crop_code(parus_store *store, const parus_parcel_view *v, char code[64])
{
    parus_error err;
    bool found = false;
    if (v->assessed && v->result.crop) {
        snprintf(code, 64, "%s", v->result.crop);
        return true;
    }
    if (parus_store_parcel_crop(store, v->season, v->parcel.id, code, &found, &err) != PARUS_OK)
        return false;
    return found;
}

/* The chart's height: 700 pixels, grown so that the NDVI plot keeps them where the rain panel
 * is drawn under it (some day of the season has rain measured: parus/query.h). */
static int chart_height(const parus_parcel_view *v)
{
    size_t i;
    for (i = 0; v->has_weather && v->rain_mm && i < v->n_rain_days; i++)
        if (isfinite(v->rain_mm[i]))
            return (int)(700.0 / PARUS_CHART_NDVI_SHARE + 0.5);
    return 700;
}

static int query_parcel(cli_ctx *ctx, parus_store *store, const char *window, const char *id,
                        bool json, const char *chart, const char *crops_opt,
                        const parus_season_state *owed)
{
    parus_parcel_view v;
    parus_crop_table crops;
    const parus_crop *crop = NULL;
    parus_status crops_st = PARUS_E_NOT_FOUND;
    parus_error err, crops_err;
    char code[64];
    int rc = PARUS_EXIT_OK;

    memset(&crops, 0, sizeof crops);
    parus_parcel_view_init(&v);
    if (parus_parcel_view_load(store, window, id, NULL, &v, &err) != PARUS_OK)
        return cli_report(&err);
    /* the crop table, for the weather's crop figures and the chart's expected curve */
    if (weather_crop_code(store, &v, code)) {
        crops_st =
            parus_crop_table_load(cli_table_path(ctx, crops_opt, "crops"), &crops, &crops_err);
        if (crops_st == PARUS_OK)
            crop = parus_crop_table_find(&crops, code);
        else if (!chart || !(v.assessed && v.result.crop)) /* else the chart says it */
            fprintf(stderr, "parus: warning: %s: the weather is shown without the crop's figures\n",
                    crops_err.msg);
    }
    if (parus_parcel_view_load_weather(store, &v, crop, PARUS_QUERY_CLIMATE_YEARS, &err) !=
        PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (json)
        print_parcel_json(&v, store, owed);
    else
        print_parcel_text(&v, store, crop, owed);
    if (chart) {
        const parus_crop *expected = NULL;
        if (v.assessed && v.result.crop) {
            if (crops_st != PARUS_OK) {
                rc = cli_report(&crops_err);
                goto out;
            }
            expected = crop;
        }
        if (owed)
            snprintf(v.owed_since, sizeof v.owed_since, "%s", owed->stale_since);
        if (parus_parcel_view_chart(&v, expected, chart, 1200, chart_height(&v), &err) !=
            PARUS_OK) {
            rc = cli_report(&err);
            goto out;
        }
        if (!ctx->quiet)
            fprintf(stderr, "parus: chart of parcel '%s' written to '%s'\n", cli_safe(id),
                    cli_safe(chart));
    }
    if (!v.assessed) {
        fprintf(stderr,
                "parus: parcel '%s' has no result for season %s in '%s': run 'parus assess "
                "--season %s' (its observations are shown)\n",
                cli_safe(id), window, cli_safe(cli_db_name(ctx)), window);
        rc = PARUS_EXIT_NOT_FOUND;
    }
out:
    parus_crop_table_release(&crops);
    parus_parcel_view_release(&v);
    return rc;
}

int cmd_query(cli_ctx *ctx, int argc, char **argv)
{
    const char *season_opt = NULL, *farmer = NULL, *parcel = NULL, *chart = NULL, *crops = NULL;
    char window[PARUS_SEASON_WINDOW_TEXT];
    int64_t start_day;
    size_t length_days;
    parus_store *store;
    parus_season_state owed;
    const parus_season_state *owed_p;
    bool json = false;
    int a, rc;

    for (a = 1; a < argc; a++) {
        const char *o = argv[a];
        const char **dst = NULL;
        if (cli_is_help(o)) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(o, "--json") == 0) {
            json = true;
            continue;
        } else if (strcmp(o, "--season") == 0) {
            dst = &season_opt;
        } else if (strcmp(o, "--farmer") == 0) {
            dst = &farmer;
        } else if (strcmp(o, "--chart") == 0) {
            dst = &chart;
        } else if (strcmp(o, "--crops") == 0) {
            dst = &crops;
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error("query", "unknown option '%s'", o);
        } else {
            if (parcel)
                return cli_usage_error("query", "more than one parcel given ('%s', '%s')", parcel,
                                       o);
            parcel = o;
            continue;
        }
        if (a + 1 >= argc)
            return cli_usage_error("query", "option '%s' needs a value", o);
        *dst = argv[++a];
    }
    if (!parcel && !farmer)
        return cli_usage_error("query", "no parcel id or --farmer given");
    if (parcel && farmer)
        return cli_usage_error("query", "give a parcel id or --farmer, not both");
    if (farmer && chart)
        return cli_usage_error("query", "--chart draws one parcel: not with --farmer");
    if (chart) {
        const char *inputs[] = {cli_table_path(ctx, crops, "crops")};
        if ((rc = cli_check_output(ctx, "query", chart, inputs, 1)) != 0)
            return rc;
    }
    rc = cli_season_resolve(ctx, "query", season_opt, window, &start_day, &length_days);
    if (rc)
        return rc;
    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        return rc;
    /* a limit whose season is owed an assessment is shown as such, never as current */
    owed_p =
        cli_season_owed_warn(store, window, "the results and limit shown", &owed) ? &owed : NULL;
    /* ... and one computed with inputs the configuration no longer names */
    cli_inputs_changed_warn(ctx, store, window);
    if (farmer)
        rc = query_farmer(ctx, store, window, farmer, json, owed_p);
    else
        rc = query_parcel(ctx, store, window, parcel, json, chart, crops, owed_p);
    parus_store_close(store);
    return rc;
}

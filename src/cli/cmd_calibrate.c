/*
 * cmd_calibrate.c - `parus calibrate yield`: fit each crop's yield model to a bank's harvest
 * records (parus/calibrate.h) and write a calibrated crop table; with --check, score the
 * season's stored yields and their conservative (P10) figure against harvests without fitting
 * anything.
 *
 * The harvests are joined to the season's stored results (`parus assess`): a parcel's integrated
 * and peak NDVI and its clear observations are what parus saw; the harvest is what the field
 * gave. Nothing is written to the store.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/calibrate.h"
#include "parus/climate.h"
#include "parus/crops.h"
#include "parus/outfile.h"
#include "parus/parcels.h"
#include "parus/season.h"
#include "parus/store.h"
#include "parus/weather.h"
#include "parus/yield.h"

#include "cli.h"
#include "cli_season.h"

static const char usage[] =
    "usage: parus calibrate yield --harvests FILE.csv --out TABLE.csv [--season S]...\n"
    "                             [--crops FILE] [--folds K] [--min-harvests N] [--place-km KM]\n"
    "                             [--low-yields]\n"
    "       parus calibrate yield --check --harvests FILE.csv [--season S]...\n\n"
    "Fit each crop's yield model (a + b x integrated NDVI + c x peak NDVI) to harvested yields of\n"
    "assessed seasons and measure its error and spread by cross-validation grouped by place;\n"
    "write the crop table with the calibrated crops' coefficients, measured yield_cv (the spread\n"
    "whose P10 is the measured 10 % quantile) and yield_cv_n_clear. Crops with too few harvests\n"
    "keep their rows and are named. --check fits nothing: it scores the stored expected and\n"
    "conservative (P10) yields of the season(s) against the harvests, per assessed crop.\n\n"
    "  --harvests FILE    parcel_id, season, yield_kg_per_mu | yield_kg_per_ha | yield_t_per_ha |\n"
    "                     harvest_kg [+ area_mu | area_m2 | area_ha | planted_area_m2], crop\n"
    "                     (optional); docs/formats.md \"Harvests\"\n"
    "  --season S         only the harvests of this season (FIRST/LAST; repeatable); default:\n"
    "                     every season in the file, each of which must be assessed\n"
    "  --out TABLE.csv    the calibrated crop table (written beside and renamed into place)\n"
    "  --crops FILE       the crop table to start from (default: [tables] crops, or\n"
    "                     data-samples/crops.csv)\n"
    "  --folds K          folds of places for the out-of-fold error (default 5)\n"
    "  --min-harvests N   fewer harvests of a crop and it is not calibrated (default 30)\n"
    "  --place-km KM      the side of the place cells the folds are made of (default 2)\n"
    "  --low-yields       the yields are as low as they look (a disaster year): do not refuse\n"
    "                     a file whose median is below a quarter of its crops' typical yield\n\n"
    "Exit codes: 0 done; 8 done, but some harvests were skipped or some crops not calibrated\n"
    "(named on stderr); 4 the harvests file is refused (an unknown parcel or crop, a yield that\n"
    "is impossible for its crop) or no crop could be calibrated; 6 a season is not assessed;\n"
    "13 (--check) a crop's P10 is missed by a share of harvests outside 10 % +- max(3 %, the\n"
    "binomial 95 % margin), or its error is over 10 % of its mean yield.\n";

#define MAX_SEASONS 16

struct args {
    const char *harvests, *out, *crops;
    const char *seasons[MAX_SEASONS];
    size_t n_seasons;
    bool check, low_yields;
    parus_yield_calibrate_options opt;
    double place_km;
};

static int parse(int argc, char **argv, struct args *a)
{
    int i;
    memset(a, 0, sizeof *a);
    parus_yield_calibrate_options_init(&a->opt);
    a->place_km = 2.0;
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PARUS_EXIT_USAGE : -1;
    }
    if (strcmp(argv[1], "yield") != 0)
        return cli_usage_error("calibrate", "unknown subcommand '%s' (yield)", cli_safe(argv[1]));
    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        char *end;
        if (cli_is_help(o)) {
            fputs(usage, stdout);
            return -1;
        }
        if (!strcmp(o, "--check")) {
            a->check = true;
            continue;
        }
        if (!strcmp(o, "--low-yields")) {
            a->low_yields = true;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("calibrate", "option '%s' needs a value", cli_safe(o));
        if (!strcmp(o, "--harvests"))
            a->harvests = argv[++i];
        else if (!strcmp(o, "--out"))
            a->out = argv[++i];
        else if (!strcmp(o, "--crops"))
            a->crops = argv[++i];
        else if (!strcmp(o, "--season")) {
            if (a->n_seasons == MAX_SEASONS)
                return cli_usage_error("calibrate", "more than %d seasons", MAX_SEASONS);
            if (!parus_store_season_valid(argv[i + 1]))
                return cli_usage_error("calibrate", "--season '%s': not FIRST/LAST (YYYY-MM-DD)",
                                       cli_safe(argv[i + 1]));
            a->seasons[a->n_seasons++] = argv[++i];
        } else if (!strcmp(o, "--folds") || !strcmp(o, "--min-harvests")) {
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-' || v > 100000 ||
                (!strcmp(o, "--folds") && (v < 2 || v > 64)))
                return cli_usage_error("calibrate", "%s '%s': a whole number%s", o,
                                       cli_safe(argv[i]), !strcmp(o, "--folds") ? " in 2..64" : "");
            if (!strcmp(o, "--folds"))
                a->opt.folds = v;
            else
                a->opt.min_harvests = v;
        } else if (!strcmp(o, "--place-km")) {
            a->place_km = strtod(argv[++i], &end);
            if (*end || !(a->place_km >= 0.05 && a->place_km <= 1000))
                return cli_usage_error("calibrate", "--place-km '%s': a number in 0.05..1000",
                                       cli_safe(argv[i]));
        } else
            return cli_usage_error("calibrate", "unknown option '%s'", cli_safe(o));
    }
    if (!a->harvests)
        return cli_usage_error("calibrate", "no --harvests FILE");
    if (!a->check && !a->out)
        return cli_usage_error("calibrate", "no --out TABLE.csv (or --check)");
    if (a->check && a->out)
        return cli_usage_error("calibrate", "--check writes nothing: drop --out");
    return 0;
}

/* The first and last day of a canonical season. */
static void season_days(const char *season, int64_t *first, int64_t *last)
{
    int64_t start = 0;
    size_t length = 1;
    if (parus_season_parse_window(season, &start, &length, NULL) != PARUS_OK)
        length = 1;
    *first = start;
    *last = start + (int64_t)length - 1;
}

/* Climatology years behind the weather terms (the yield model's and assess's). */
#define WEATHER_YEARS 10

/* A weather reader per season, opened on first use: the season and the same window in the
 * WEATHER_YEARS years before. */
struct readers {
    char season[MAX_SEASONS][22];
    parus_weather_reader *r[MAX_SEASONS];
    size_t n;
};

static parus_status reader_for(parus_store *store, struct readers *rs, const char *season,
                               parus_weather_reader **out, parus_error *err)
{
    int64_t first, last;
    char a[11], b[11];
    size_t i;
    parus_status code;
    for (i = 0; i < rs->n; i++)
        if (!strcmp(rs->season[i], season)) {
            *out = rs->r[i];
            return PARUS_OK;
        }
    if (rs->n == MAX_SEASONS)
        return parus_fail(err, PARUS_E_INVALID, "harvests of more than %d seasons: give --season",
                          MAX_SEASONS);
    season_days(season, &first, &last);
    parus_weather_day_text(first - 366 * WEATHER_YEARS - 31, a);
    parus_weather_day_text(last, b);
    if ((code = parus_weather_reader_open(store, a, b, &rs->r[rs->n], err)) != PARUS_OK)
        return code;
    snprintf(rs->season[rs->n], sizeof rs->season[rs->n], "%s", season);
    *out = rs->r[rs->n++];
    return PARUS_OK;
}

/* What a stored result gives the calibration. */
struct seen {
    bool found;
    char crop[32];
    double integral, peak, planted_m2, expected, p10;
    size_t n_clear;
    bool valued;
    bool unvouched; /* its season's weather is unknown to the model or beyond it: P10 = minimum */
};

static int take_result(const parus_parcel_result *r, void *ctx)
{
    struct seen *s = ctx;
    s->found = true;
    snprintf(s->crop, sizeof s->crop, "%s", r->crop ? r->crop : "");
    s->integral = r->ndvi_integral_10d;
    s->peak = r->ndvi_peak;
    s->n_clear = r->n_clear_obs;
    s->planted_m2 = r->planted_area_m2;
    s->expected = r->yield_expected_kg_per_mu;
    s->p10 = r->yield_p10_kg_per_mu;
    s->valued = r->valued;
    s->unvouched = r->flags && (strstr(r->flags, "YIELD_NO_WEATHER") ||
                                strstr(r->flags, "YIELD_BEYOND_CALIBRATION"));
    return 0;
}

static bool season_wanted(const struct args *a, const char *season)
{
    size_t i;
    if (a->n_seasons == 0)
        return true;
    for (i = 0; i < a->n_seasons; i++)
        if (!strcmp(a->seasons[i], season))
            return true;
    return false;
}

/* The place of a parcel: the cell of a km grid its bounding box's centre falls in. */
static uint64_t place_of(const parus_parcel *p, double km)
{
    double lat = 0.5 * (p->lat_min_deg + p->lat_max_deg);
    double lon = 0.5 * (p->lon_min_deg + p->lon_max_deg);
    double deg_lat = km / 111.32,
           deg_lon = km / (111.32 * fmax(0.05, cos(lat * 3.14159265358979323846 / 180.0)));
    int64_t iy = (int64_t)floor((lat + 90.0) / deg_lat);
    int64_t ix = (int64_t)floor((lon + 180.0) / deg_lon);
    return ((uint64_t)iy << 32) ^ (uint64_t)ix;
}

struct crop_samples {
    parus_yield_sample *s;
    size_t n, cap;
    size_t n_lost;
    /* --check: against the stored figures */
    size_t n_below_p10, n_unvouched;
    double sum_sq, sum_err, sum_y;
};

/* The unit check: a file of at least this many harvests whose median is below this share of its
 * crops' typical yields is in another unit than it says. A crop's typical yield is the middle
 * of its table range, sqrt(yield_min_kg_per_mu * yield_max_kg_per_mu): kg/mu given as kg/ha,
 * 15 times too low, lands near a fifteenth of it, far below the quarter, where a share of the
 * range's lowest (130 kg/mu for winter wheat) let a file of 400 kg/mu harvests so labelled
 * (26.7) pass by a hair. */
#define UNIT_CHECK_MIN_HARVESTS 5
#define UNIT_CHECK_LOW_SHARE 0.25

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* And above: a file whose median harvest exceeds its crops' highest yields (yield_max_kg_per_mu,
 * the best a crop gives in the table's region) is in another unit too. Half the harvests above
 * the best any field gives is no season: jin (市斤, half a kilogram) per mu under a kg/mu
 * heading doubles every yield, and calibrated a third more lending on a synthetic season
 * (round 7, finding 2: winter wheat's median 932 kg/mu against a maximum of 650). */
#define UNIT_CHECK_HIGH_SHARE 1.0

/* A used harvest above 0 over its crop's typical yield, and over its highest, for the unit
 * checks; nonzero when out of memory (said on stderr). */
static int note_low(double **low, double **high, size_t *n, double y, const parus_crop *crop)
{
    double lo = crop->yield_min_kg_per_mu, hi = crop->yield_max_kg_per_mu;
    double typical = hi > lo ? sqrt(lo * hi) : lo;
    double *more;
    if (!(y > 0.0) || !(lo > 0.0))
        return 0;
    if (!(more = realloc(*low, (*n + 1) * sizeof *more))) {
        fprintf(stderr, "parus: error: out of memory\n");
        return 1;
    }
    *low = more;
    more[*n] = y / typical;
    if (!(more = realloc(*high, (*n + 1) * sizeof *more))) {
        fprintf(stderr, "parus: error: out of memory\n");
        return 1;
    }
    *high = more;
    more[*n] = y / (hi > lo ? hi : lo);
    (*n)++;
    return 0;
}

static double median_sorted(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int push(struct crop_samples *c, const parus_yield_sample *s)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 64;
        parus_yield_sample *g = realloc(c->s, nc * sizeof *g);
        if (!g)
            return -1;
        c->s = g;
        c->cap = nc;
    }
    c->s[c->n++] = *s;
    return 0;
}

/* Whether the harvest file's seasons are assessed: 0, or exit 6 after a message. */
static int seasons_assessed(parus_store *store, const struct args *a, const parus_harvest_set *h)
{
    size_t i, j;
    for (i = 0; i < h->n; i++) {
        bool seen_before = false;
        if (!season_wanted(a, h->harvests[i].season))
            continue;
        for (j = 0; j < i && !seen_before; j++)
            seen_before = !strcmp(h->harvests[j].season, h->harvests[i].season) &&
                          season_wanted(a, h->harvests[j].season);
        if (seen_before)
            continue;
        {
            parus_season_state st;
            parus_error err;
            bool found = false;
            const char *season = h->harvests[i].season;
            if (parus_store_season_state_get(store, season, &st, &found, &err) != PARUS_OK)
                return cli_report(&err);
            if (!found || !st.assessed_at[0]) {
                fprintf(stderr,
                        "parus: error: season %s is not assessed in this store: run `parus assess "
                        "--season %s` first\n",
                        season, season);
                return PARUS_EXIT_NOT_FOUND;
            }
            if (st.stale) {
                fprintf(stderr,
                        "parus: error: season %s's results are stale (%s since %s): run `parus "
                        "assess --season %s` first\n",
                        season, cli_safe(st.stale_cause), st.stale_since, season);
                return PARUS_EXIT_NOT_FOUND;
            }
        }
    }
    return 0;
}

int cmd_calibrate(cli_ctx *ctx, int argc, char **argv)
{
    struct args a;
    parus_store *store = NULL;
    parus_crop_table table = {0};
    parus_harvest_set hv = {0};
    parus_error err;
    struct crop_samples *per = NULL;
    size_t i, n_used = 0, n_skipped = 0, n_other_season = 0, n_crop_differs = 0, n_cal = 0,
              n_not_cal = 0, n_agree = 0, n_agree_below = 0, n_all_below = 0, n_weather = 0;
    struct readers readers = {0};
    const char *crops_path;
    int rc = parse(argc, argv, &a);
    bool misses = false;
    double *low = NULL;  /* each harvest over its crop's typical yield (the unit check) */
    double *high = NULL; /* and over its crop's highest */
    size_t n_low = 0;

    if (rc)
        return rc < 0 ? PARUS_EXIT_OK : rc;
    crops_path = cli_table_path(ctx, a.crops, "crops");
    if (a.out) {
        const char *inputs[2] = {a.harvests, crops_path};
        if ((rc = cli_check_output(ctx, "calibrate", a.out, inputs, 2)) != 0)
            return rc;
    }
    if (parus_crop_table_load(crops_path, &table, &err) != PARUS_OK)
        return cli_report(&err);
    if (parus_harvests_load(a.harvests, &hv, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if ((rc = cli_open_store_readonly(ctx, &store)) != 0)
        goto out;
    if ((rc = seasons_assessed(store, &a, &hv)) != 0)
        goto out;
    if (!(per = calloc(table.n_crops, sizeof *per))) {
        fprintf(stderr, "parus: error: out of memory\n");
        rc = PARUS_EXIT_FAILURE;
        goto out;
    }

    for (i = 0; i < hv.n; i++) {
        const parus_harvest *h = &hv.harvests[i];
        struct seen s = {0};
        parus_parcel p;
        parus_yield_sample ys;
        const parus_crop *crop, *grown, *assessed;
        bool differs;
        double y;
        parus_status st;
        if (!season_wanted(&a, h->season)) {
            n_other_season++;
            continue;
        }
        st = parus_store_get_parcel(store, h->parcel_id, &p, &err);
        if (st == PARUS_E_NOT_FOUND) {
            char why[512];
            bool aside = false;
            if (parus_store_parcel_set_aside(store, h->parcel_id, why, &aside, &err) != PARUS_OK) {
                rc = cli_report(&err);
                goto out;
            }
            if (aside) {
                fprintf(stderr,
                        "parus: skipped: '%s' line %zu: parcel '%s' was set aside at load (%s)\n",
                        cli_safe(a.harvests), h->line, cli_safe(h->parcel_id), cli_safe(why));
                n_skipped++;
                continue;
            }
            fprintf(stderr,
                    "parus: error: '%s' line %zu: parcel '%s' is not in the store (nothing "
                    "calibrated)\n",
                    cli_safe(a.harvests), h->line, cli_safe(h->parcel_id));
            rc = PARUS_EXIT_INPUT_BAD;
            goto out;
        }
        if (st != PARUS_OK) {
            rc = cli_report(&err);
            goto out;
        }
        ys.place = place_of(&p, a.place_km);
        parus_parcel_release(&p);
        st = parus_store_get_parcel_result(store, h->season, h->parcel_id, take_result, &s, &err);
        if (st != PARUS_OK && st != PARUS_E_NOT_FOUND) {
            rc = cli_report(&err);
            goto out;
        }
        if (!s.found) {
            fprintf(stderr, "parus: skipped: '%s' line %zu: parcel '%s' has no result in %s\n",
                    cli_safe(a.harvests), h->line, cli_safe(h->parcel_id), h->season);
            n_skipped++;
            continue;
        }
        /* which crop: what grew (the harvest's, when it says) and what parus assessed. The fit
         * takes a harvest only where the two agree or the harvest does not say: the NDVI season
         * of a parcel assessed as another crop was read on that crop's calendar. The check
         * scores the stored figures, which rest on the assessed crop. */
        grown = NULL;
        if (h->crop[0] && !(grown = parus_crop_table_find(&table, h->crop))) {
            fprintf(stderr,
                    "parus: error: '%s' line %zu: crop '%s' is not in the crop table '%s'\n",
                    cli_safe(a.harvests), h->line, cli_safe(h->crop), cli_safe(crops_path));
            rc = PARUS_EXIT_INPUT_BAD;
            goto out;
        }
        assessed = s.crop[0] ? parus_crop_table_find(&table, s.crop) : NULL;
        differs = grown && assessed && grown != assessed;
        crop = a.check ? assessed : grown ? grown : assessed;
        if (!crop) {
            fprintf(stderr, "parus: skipped: '%s' line %zu: parcel '%s' has no crop in %s\n",
                    cli_safe(a.harvests), h->line, cli_safe(h->parcel_id), h->season);
            n_skipped++;
            continue;
        }
        y = h->yield_kg_per_mu;
        if (isnan(y)) {
            if (!(s.planted_m2 > 0.0)) {
                fprintf(stderr,
                        "parus: skipped: '%s' line %zu: parcel '%s': harvest_kg without an area, "
                        "and parus found nothing planted\n",
                        cli_safe(a.harvests), h->line, cli_safe(h->parcel_id));
                n_skipped++;
                continue;
            }
            y = h->harvest_kg / (s.planted_m2 * 15.0 / 10000.0);
        }
        {
            const parus_crop *judge = grown ? grown : crop; /* a yield is judged by what grew */
            if (y > 3.0 * judge->yield_max_kg_per_mu && judge->yield_max_kg_per_mu > 0.0) {
                fprintf(stderr,
                        "parus: error: '%s' line %zu: parcel '%s': %.1f kg/mu is over three "
                        "times %s's highest yield (%g kg/mu): a unit slip? (nothing %s)\n",
                        cli_safe(a.harvests), h->line, cli_safe(h->parcel_id), y, judge->code,
                        judge->yield_max_kg_per_mu, a.check ? "checked" : "calibrated");
                rc = PARUS_EXIT_INPUT_BAD;
                goto out;
            }
        }
        n_crop_differs += differs;
        {
            struct crop_samples *c = &per[crop - table.crops];
            if (a.check) {
                if (!s.valued || !isfinite(s.expected) || !isfinite(s.p10)) {
                    n_skipped++;
                    continue;
                }
                n_used++;
                if (note_low(&low, &high, &n_low, y, grown ? grown : crop)) {
                    rc = PARUS_EXIT_FAILURE;
                    goto out;
                }
                n_all_below += y < s.p10;
                if (differs)
                    continue; /* the yield model is judged on the crop that grew */
                c->sum_err += s.expected - y;
                c->sum_sq += (s.expected - y) * (s.expected - y);
                c->sum_y += y;
                c->n_lost += y == 0.0;
                c->n++;
                if (s.unvouched) { /* its P10 is the crop's minimum, by design: not a P10 */
                    c->n_unvouched++;
                    continue;
                }
                n_agree++;
                n_agree_below += y < s.p10;
                c->n_below_p10 += y < s.p10;
                continue;
            }
            if (differs)
                continue; /* counted: n_crop_differs */
            if (y == 0.0) {
                c->n_lost++; /* a lost crop: no point of the canopy-yield line */
                continue;
            }
            if (!isfinite(s.integral) || !isfinite(s.peak) || s.n_clear == 0) {
                fprintf(stderr,
                        "parus: skipped: '%s' line %zu: parcel '%s' has no NDVI season in %s\n",
                        cli_safe(a.harvests), h->line, cli_safe(h->parcel_id), h->season);
                n_skipped++;
                continue;
            }
            ys.integral_10d = s.integral;
            ys.peak_ndvi = s.peak;
            ys.n_clear_obs = s.n_clear;
            ys.yield_kg_per_mu = y;
            {
                parus_weather_reader *wr = NULL;
                parus_yield_weather_terms wt;
                int64_t first, last;
                season_days(h->season, &first, &last);
                if (reader_for(store, &readers, h->season, &wr, &err) != PARUS_OK ||
                    parus_yield_weather(wr, h->parcel_id, first, last, crop, WEATHER_YEARS, &wt,
                                        &err) != PARUS_OK) {
                    rc = cli_report(&err);
                    goto out;
                }
                ys.rain_deficit = wt.rain_deficit;
                ys.heat_days = wt.heat_days;
                n_weather += isfinite(wt.rain_deficit) && isfinite(wt.heat_days);
            }
            if (push(c, &ys)) {
                fprintf(stderr, "parus: error: out of memory\n");
                rc = PARUS_EXIT_FAILURE;
                goto out;
            }
            if (note_low(&low, &high, &n_low, y, grown ? grown : crop)) {
                rc = PARUS_EXIT_FAILURE;
                goto out;
            }
            n_used++;
        }
    }

    /* a file in the wrong unit: a lost crop yields next to nothing, but the median harvest of a
     * file does not fall below a quarter of its crops' typical yields outside a disaster year;
     * kg/mu given as kg/ha is 15 times too low, and would calibrate every crop to a fifteenth */
    if (n_low >= UNIT_CHECK_MIN_HARVESTS) {
        double median = median_sorted(high, n_low);
        if (median > UNIT_CHECK_HIGH_SHARE) {
            fprintf(stderr,
                    "parus: error: '%s': the median harvest is %.3g times its crop's highest "
                    "yield in '%s' (yield_max_kg_per_mu; %zu harvests): half the fields above "
                    "the best any field gives is not a unit these yields are in (jin per mu "
                    "given as kg/mu is twice too high); name the column for the unit the values "
                    "are in, or raise the crops' yield_max_kg_per_mu where they truly yield "
                    "more (nothing %s)\n",
                    cli_safe(a.harvests), median, cli_safe(crops_path), n_low,
                    a.check ? "checked" : "calibrated");
            rc = PARUS_EXIT_INPUT_BAD;
            goto out;
        }
    }
    if (n_low >= UNIT_CHECK_MIN_HARVESTS && !a.low_yields) {
        double median = median_sorted(low, n_low);
        if (median < UNIT_CHECK_LOW_SHARE) {
            fprintf(stderr,
                    "parus: error: '%s': the median harvest is %.3g times its crop's typical "
                    "yield in '%s' (the middle of its range; %zu harvests): not a unit these "
                    "yields are in (kg/mu given as "
                    "kg/ha is 15 times too low); name the column for the unit the values are "
                    "in, or give --low-yields if they are that low (nothing %s)\n",
                    cli_safe(a.harvests), median, cli_safe(crops_path), n_low,
                    a.check ? "checked" : "calibrated");
            rc = PARUS_EXIT_INPUT_BAD;
            goto out;
        }
    }
    if (!ctx->quiet)
        printf("harvests: %zu records, %zu used, %zu skipped, %zu of other seasons\n", hv.n, n_used,
               n_skipped, n_other_season);
    if (!a.check && !ctx->quiet)
        printf("weather: %zu of the %zu fitted harvests have the season's weather terms (rain "
               "deficit, heat days; %d years of normal)\n",
               n_weather, n_used, WEATHER_YEARS);
    if (n_crop_differs && !ctx->quiet)
        printf("crop: %zu harvests name another crop than parus assessed (%s)\n", n_crop_differs,
               a.check ? "in the share below P10 of all harvests, not in the crops' lines"
                       : "not fitted: their NDVI season was read on another crop's calendar");
    for (i = 0; i < table.n_crops; i++) {
        struct crop_samples *c = &per[i];
        parus_crop *crop = &table.crops[i];
        if (a.check) {
            double share, margin, mean, rmse;
            size_t n_p10;
            if (!c->n)
                continue;
            n_p10 = c->n - c->n_unvouched;
            share = n_p10 ? (double)c->n_below_p10 / (double)n_p10 : 0.10;
            margin = fmax(0.03, 1.96 * sqrt(0.09 / (double)(n_p10 ? n_p10 : 1)));
            mean = c->sum_y / (double)c->n;
            rmse = sqrt(c->sum_sq / (double)c->n);
            printf("%-14s n %5zu  mean %7.1f kg/mu  RMSE %6.1f (%4.1f %%)  bias %+6.1f  below P10 "
                   "%5.1f %% (%zu lost, %zu not vouched)  %s\n",
                   crop->code, c->n, mean, rmse, mean > 0 ? 100.0 * rmse / mean : (double)NAN,
                   c->sum_err / (double)c->n, 100.0 * share, c->n_lost, c->n_unvouched,
                   share > 0.10 + margin   ? "P10 TOO NARROW"
                   : share < 0.10 - margin ? "P10 too wide"
                   : rmse > 0.10 * mean    ? "P10 ok, error over 10 %"
                                           : "ok");
            if (share > 0.10 + margin || share < 0.10 - margin || rmse > 0.10 * mean)
                misses = true;
            continue;
        }
        if (!c->n && !c->n_lost)
            continue;
        {
            parus_yield_calibration cal;
            if (parus_yield_calibrate(crop, c->s, c->n, &a.opt, &cal, &err) != PARUS_OK) {
                if (err.code != PARUS_E_RANGE) {
                    rc = cli_report(&err);
                    goto out;
                }
                fprintf(stderr, "parus: not calibrated: %s (its row is kept)\n", err.msg);
                n_not_cal++;
                continue;
            }
            parus_yield_calibration_apply(&cal, crop);
            n_cal++;
            if (!ctx->quiet)
                printf(
                    "%-14s n %5zu (%zu places, %zu lost not fitted)  mean %7.1f kg/mu  RMSE "
                    "%6.1f (%4.1f %%)  bias %+6.1f  R2 %.3f  residual s.d. %4.1f %%  q10 %+5.1f "
                    "%%  -> a %.2f b %.3f c %.2f d %.1f e %.2f yield_cv %.4f at %.0f clear obs\n",
                    crop->code, cal.n_harvests, cal.n_places, c->n_lost, cal.mean_kg_per_mu,
                    cal.rmse_kg_per_mu, 100.0 * cal.rmse_kg_per_mu / cal.mean_kg_per_mu,
                    cal.bias_kg_per_mu, cal.r2, 100.0 * cal.rel_sd, 100.0 * cal.q10_rel,
                    cal.a_kg_per_mu, cal.b_kg_per_mu_per_ndvi, cal.c_kg_per_mu_per_ndvi_peak,
                    cal.d_kg_per_mu_per_rain_deficit, cal.e_kg_per_mu_per_heat_day, cal.yield_cv,
                    cal.n_clear_median);
        }
    }
    if (a.check && n_used > 0 && !ctx->quiet)
        printf("below P10: %.1f %% of all %zu harvests; %.1f %% of the %zu whose crop parus "
               "assessed right (or that name none) and whose P10 it vouched for\n",
               100.0 * (double)n_all_below / (double)n_used, n_used,
               n_agree ? 100.0 * (double)n_agree_below / (double)n_agree : (double)NAN, n_agree);
    if (a.check) {
        rc = n_used == 0 ? PARUS_EXIT_INPUT_BAD
             : misses    ? PARUS_EXIT_DIFFERS
             : n_skipped ? PARUS_EXIT_PARTIAL
                         : PARUS_EXIT_OK;
        if (n_used == 0)
            fprintf(stderr, "parus: error: '%s': no harvest matches a valued result\n",
                    cli_safe(a.harvests));
        goto out;
    }
    if (n_cal == 0) {
        fprintf(stderr, "parus: error: '%s': no crop could be calibrated; nothing written\n",
                cli_safe(a.harvests));
        rc = PARUS_EXIT_INPUT_BAD;
        goto out;
    }
    if (parus_crop_table_write(&table, a.out, &err) != PARUS_OK) {
        rc = cli_report(&err);
        goto out;
    }
    if (!ctx->quiet)
        printf("wrote '%s': %zu crops calibrated, %zu not\n", cli_safe(a.out), n_cal, n_not_cal);
    rc = (n_skipped || n_not_cal) ? PARUS_EXIT_PARTIAL : PARUS_EXIT_OK;
out:
    free(low);
    free(high);
    for (i = 0; i < readers.n; i++)
        parus_weather_reader_free(readers.r[i]);
    if (per)
        for (i = 0; i < table.n_crops; i++)
            free(per[i].s);
    free(per);
    parus_harvest_set_release(&hv);
    parus_crop_table_release(&table);
    if (store)
        parus_store_close(store);
    return rc;
}

/*
 * assess.c - a season end to end: the store's observations -> every parcel's crop, condition,
 * planted area, yield and value -> every farmer's limit, written back as one transaction.
 *
 * Workload: a county, 140,000 parcels x 20-30 observations, unattended after the nightly ingest.
 * The season walk (store) streams parcels in id order; each pass gathers parcels into batches of
 * BATCH, computes them on n_threads (each parcel alone: its features, its series, its condition),
 * then writes them in walk order, so the stored figures do not depend on the thread count.
 *
 * Why two passes. A parcel's condition is judged against its peers (same crop, same tile grid,
 * same dates), and the crop is known only once the parcel is classified, so the peer reference
 * can be built only after every parcel has been seen. Pass 1 classifies and writes each parcel's
 * health series (its values, days and flags) to an unlinked temporary file, so memory does not grow
 * with the parcels; the peer references are built from it one group at a time (in single
 * precision, as they always were), and pass 2 reads the series back a batch at a time and judges
 * them, exactly as a second walk would have built them (which it still does where a radar rule
 * needs the radar points): the walk costs 72 % of a run, the file's read a few percent.
 *
 * The outlier pass (an observation its neighbours on the same tile contradict is left out) rides
 * on pass 1's walk: each parcel's residuals are taken as the walk meets it, and the few parcels
 * with a candidate are held back in another temporary file until every residual is known, then
 * judged and classified from the same bytes. So the season is walked once before the peers.
 *
 * Credit needs all of a farmer's parcels, which the id-ordered walk scatters; so each parcel's
 * credit evidence is kept (a few dozen bytes), the farmers' limits are computed at the end, and
 * each parcel's verdict is added to its stored result then.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parus/area.h"
#include "parus/assess.h"
#include "parus/outlier.h"
#include "parus/season.h"
#include "parus/series.h"
#include "parus/climate.h"
#include "parus/weather.h"

#include "assess_int.h"
#include "radar_peers_int.h"
#include "omp_int.h"
#include "util_int.h"

#define BATCH 1024
#define N_VARS ((size_t)PARUS_HEALTH_N_VARS_)
#define NO_DAY INT64_MIN
#define MAX_SENSORS 16                       /* optical sensor names told apart per run */
#define SENSOR_RADAR_BIT ((uint32_t)1 << 31) /* a record's radar bit (sensor_mask) */

/* yield notes, kept with the health flags (bits 1..8) in a parcel's flag mask */
#define NOTE_NO_CANOPY 16
#define NOTE_CLAMPED_LOW 17
#define NOTE_CLAMPED_HIGH 18
#define NOTE_NO_WEATHER 19
#define NOTE_BEYOND_CALIBRATION 20
#define NOTE_PARTLY_SEEN 21
#define EARTH_RADIUS_M 6371008.8
#define DEG_TO_RAD 0.017453292519943295
/* A parcel whose tiles saw less than this share of its area is valued on the part they saw. */
#define SEEN_SHARE_MIN 0.98

/* Climatology years behind the yield model's weather terms (parus_yield_weather). */
#define WEATHER_YEARS 10

void parus_assess_options_init(parus_assess_options *opt)
{
    memset(opt, 0, sizeof *opt);
    parus_health_options_init(&opt->health);
    parus_yield_options_init(&opt->yield);
    parus_outlier_options_init(&opt->outlier);
}

void parus_assess_grid_key(int epsg, const double gt[6], char *buf, size_t n)
{
    if (epsg > 0)
        snprintf(buf, n, "EPSG:%d/%.0f/%.0f", epsg, gt[0], gt[3]);
    else
        snprintf(buf, n, "grid:%.0f/%.0f", gt[0], gt[3]);
}

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Interned strings: crop codes and grid keys, few of each. */
typedef struct names {
    char **s;
    size_t n, cap;
} names;

static void names_release(names *t)
{
    size_t i;
    for (i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    memset(t, 0, sizeof *t);
}

/* The index of s, added when new; SIZE_MAX on allocation failure. */
static size_t names_intern(names *t, const char *s)
{
    size_t i;
    for (i = 0; i < t->n; i++)
        if (strcmp(t->s[i], s) == 0)
            return i;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **g = realloc(t->s, cap * sizeof *g);
        if (!g)
            return SIZE_MAX;
        t->s = g;
        t->cap = cap;
    }
    if (!(t->s[t->n] = parus__strdup(s)))
        return SIZE_MAX;
    return t->n++;
}

/* Grow *p (of *cap elements of size) to hold want; false on failure. */
static bool grow(void **p, size_t *cap, size_t want, size_t size)
{
    size_t cap2, bytes;
    void *q;
    if (want <= *cap)
        return true;
    cap2 = *cap ? *cap : 64;
    while (cap2 < want)
        cap2 *= 2;
    if (!parus__mul_size(cap2, size, &bytes) || !(q = realloc(*p, bytes)))
        return false;
    *p = q;
    *cap = cap2;
    return true;
}

static void format_day(int64_t day, char out[11])
{
    parus_health_format_day(day, out);
}

/* Join the flag codes of a mask (health flags, then yield notes) with ';'. */
static void flags_text(uint32_t mask, char *buf, size_t n)
{
    static const struct {
        int bit;
        const char *code;
    } notes[] = {{NOTE_NO_CANOPY, "NO_CANOPY"},
                 {NOTE_CLAMPED_LOW, "YIELD_CLAMPED_LOW"},
                 {NOTE_CLAMPED_HIGH, "YIELD_CLAMPED_HIGH"},
                 {NOTE_NO_WEATHER, PARUS_YIELD_NOTE_NO_WEATHER},
                 {NOTE_BEYOND_CALIBRATION, PARUS_YIELD_NOTE_BEYOND_CALIBRATION},
                 {NOTE_PARTLY_SEEN, "PARTLY_SEEN"}};
    size_t len = 0, i;
    int f;
    buf[0] = '\0';
    for (f = 1; f < 16; f++) {
        const char *code;
        if (!(mask & (1u << f)))
            continue;
        code = parus_health_flag_code((parus_health_flag)f);
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? ";" : "", code);
    }
    for (i = 0; i < sizeof notes / sizeof notes[0]; i++)
        if (mask & (1u << notes[i].bit))
            len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? ";" : "",
                                    notes[i].code);
}

/* ---- the state of an assessment ---- */

/* What is kept of each parcel, in walk (id) order. */
typedef struct parcel_rec {
    char *id;
    char *farmer; /* NULL: none */
    int crop;     /* index into crop_names; -1 none */
    int grid;     /* index into grid_names; -1 none */
    int group;    /* peer group; -1 none */
    unsigned char method;
    uint32_t n_clear;     /* clear optical observations */
    uint32_t sensor_mask; /* bit k: a clear observation of a->sensor_name[k]; SENSOR_RADAR_BIT:
                             radar observations entered the crop's features */
    uint32_t n_observed;  /* health series steps holding an observation */
    double prob;
    double seen_m2; /* the most of its area one tile's pass covered (optical); NaN unknown */
    int64_t first_day, last_day; /* clear observations; NO_DAY none */
    double area_m2;              /* the parcel's (geodesic) */
    char *declared;              /* its declared crop, NULL none */
    /* after pass 2 */
    bool valued, unknown_crop, not_classified;
    unsigned char health_cls;
    uint32_t flags;
    double planted_area_m2, declared_area_m2;
    int64_t value_expected_fen, value_p10_fen;
    parus_credit_parcel credit;
    double overlap_share; /* of its land, the share another parcel's claim keeps from credit */
} parcel_rec;

typedef struct tile_grid {
    int64_t tile_id;
    int grid;
    bool used;       /* an observation of the season came from it */
    char hash[65];   /* its content fingerprint */
    double pixel_m2; /* the ground area of one of its pixels; NaN unknown */
} tile_grid;

typedef struct peer_group {
    int crop, grid; /* grid -1: every parcel of the crop ("all") */
    size_t n_members;
    parus_health_peers peers;
    double peak_ndvi_median; /* the members' peak NDVI (step series), for the drought rule */
    double peak_ndvi_se;     /* the standard error of that median */
    size_t n_peak;           /* members with a peak */
} peer_group;

/* One parcel of a batch. */
typedef struct item {
    size_t rec;
    size_t pt0, n_pts;
    size_t rd0, n_rd;         /* its radar points in the batch's rd_pts */
    char *declared;           /* the declared crop, NULL none */
    const unsigned char *row; /* pass 2 without a walk: its kept series (kept_batch), else NULL */
    double area_m2, declared_area_m2;
    parus_status st; /* a hard error of the parallel part */
    parus_error err;
    /* pass 1 */
    bool featured;          /* a clear observation: features computed */
    size_t n_optical_clear; /* of info.n_obs_used, the optical ones */
    parus_season_info info;
    parus_status cal_st;
    parus_calendar_match cal;
    /* pass 2 */
    bool has_series, has_health, has_area, has_yield;
    bool partly_seen; /* its tiles saw less than SEEN_SHARE_MIN of it: valued on what they saw */
    parus_health_result health;
    parus_planted_area area;
    parus_yield yield;
    double integral_10d, peak_ndvi;
    double rain_deficit, heat_days; /* the season's weather for the yield model; NaN: unknown */
    double rain_mm, rain_normal_mm; /* over the crop's sensitive window; NaN: unknown */
    bool weather_absent; /* earlier years' weather on its cell, next to none of the season's */
    char reason[320];
} item;

/* One thread's buffers. */
typedef struct thread_work {
    parus_season_work season;
    parus_season_obs *obs;
    size_t cap_obs;
    parus_health_series series;
} thread_work;

/* The outlier pass (ol_add_parcel in pass 1's walk, then ol_judge): every judged observation's
 * residual, the candidates, and the observations left out. k is the parcel's position in the walk
 * (= its record index). */
typedef struct ol_entry {
    int64_t tile_id;
    uint32_t k;
    float residual;
} ol_entry;

typedef struct ol_cand {
    int64_t tile_id, day;
    uint32_t k;
    float ndvi, expected, jump, residual;
    float nb_median; /* after judging */
    uint32_t n_nb;
} ol_cand;

typedef struct ol_cell {
    int64_t cx, cy;
    uint32_t k;
} ol_cell;

typedef struct ol_parcel { /* a parcel with a candidate: its clear points, kept for judging */
    uint32_t k;
    size_t off, n;
} ol_parcel;

typedef struct assess {
    parus_store *store;
    const parus_assess_options *opt;
    bool full; /* run (health, value, credit), not classify only */
    parus_assess_stats st;
    parus_error *err;
    char window[PARUS_SEASON_WINDOW_TEXT];
    int64_t start_day, end_day;
    size_t length_days;
    /* the season's weather and WEATHER_YEARS years before, for the yield model's weather terms
       (read-only: every thread reads it); NULL when none could be held */
    parus_weather_reader *weather;
    parus_season_spec spec;
    parus_season_sources sources; /* spec's variables resolved once */
    size_t n_features, n_classes;
    parus_health_options hopt;
    size_t n_steps; /* health series steps */
    int n_threads;
    /* parcels */
    parcel_rec *rec;
    size_t n_rec, cap_rec;
    /* the parcels' health series, kept for their peers and for judging (pass 1 to pass 2): one
       row a record, in record order, N_VARS x n_steps doubles, n_steps days (the chosen
       observations' own, or the step centres) and n_steps flags (row_bytes), in
       an unlinked temporary file, so that memory does not grow with the parcels; kept_batch
       holds a batch's rows (written after pass 1's batch, read for pass 2's) */
    int kept_fd; /* -1 none */
    char kept_dir[256];
    size_t row_bytes;
    unsigned char *kept_batch;
    names crop_names, grid_names;
    const parus_crop **crop_row; /* per crop name: its table row, NULL when not in the table */
    double **expected;           /* per crop name: expected NDVI at each step, NULL none */
    int64_t *harvest;            /* per crop name: harvest day in the season, NO_DAY none */
    size_t n_crop_info;
    tile_grid *tiles;
    size_t n_tiles, cap_tiles;
    peer_group *groups;
    size_t n_groups;
    parus__radar_peers *rpeers; /* the radar rules' peer reference, NULL unless asked for */
    /* the batch */
    item *items;
    size_t n_items;
    int64_t *pt_day, *pt_tile;
    parus_observation *pt_obs;
    size_t n_pts, cap_pt_day, cap_pt_tile, cap_pt_obs;
    bool radar; /* the walks carry radar points (the model's season has radar variables, or
                   the judge pass of --radar-floods) */
    char sensor_name[MAX_SENSORS][32]; /* the optical sensors met, in order of meeting */
    size_t n_sensor_names;
    parus_radar_point *rd_pts;
    size_t n_rd, cap_rd;
    double *x, *xp, *prob;
    thread_work *work;
    size_t walk_pos; /* pass 2: the next record */
    /* outliers (ol_add_parcel, ol_judge) */
    double *ol_x, *ol_y; /* per parcel (walk order): its centre in metres, NaN none */
    size_t ol_n_parcels, cap_ol_x, cap_ol_y;
    ol_entry *ol_entries;
    size_t n_ol_entries, cap_ol_entries;
    ol_cand *ol_cands; /* the observations left out, by (k, tile_id) */
    size_t n_ol_cands, cap_ol_cands;
    ol_parcel *ol_pars;
    size_t n_ol_pars, cap_ol_pars;
    parus_outlier_point *ol_kept; /* the points of ol_pars */
    int64_t *ol_kept_tile;
    size_t n_ol_kept, cap_ol_kept, cap_ol_kept_tile;
    parus_outlier_point *ol_pt; /* one parcel's: its clear points, tiles, figures */
    int64_t *ol_tile;
    double *ol_res, *ol_exp, *ol_jump;
    unsigned char *ol_tried, *ol_wet;
    size_t cap_ol_pts;
    bool ol_write; /* batch_add stores the outliers it leaves out (pass 1 of a run) */
    bool ol_on;    /* the outlier pass runs: its part of the walk in pass 1 */
    FILE *held;    /* the parcels held back for the outlier pass (held_put); NULL none */
    size_t n_held;
    /* the recorded files (record_inputs) */
    char *crops_bytes, *policy_bytes, *debts_bytes;
    size_t crops_size, policy_size, debts_size;
    /* the parcels retired from the registry (parus_store_retired_foreach): id order, each
     * "ID\0WHEN\0SOURCE" in one allocation */
    char **retired;
    size_t n_retired, cap_retired;
} assess;

static parus_status nomem(assess *a, const char *what)
{
    return parus_fail(a->err, PARUS_E_NOMEM, "out of memory assessing season %s (%s)", a->window,
                      what);
}

/* ---- setup ---- */

/* A file the assessment records: its bytes (kept until the store has them) and SHA-256. */
#define RECORD_MAX_BYTES ((size_t)256 << 20)

static parus_status record_file(assess *a, const char *path, const char *what, char **bytes,
                                size_t *size, char hash[65])
{
    parus_status code = parus__read_file(path, RECORD_MAX_BYTES, bytes, size, a->err);
    if (code != PARUS_OK) {
        parus_error_prefix(a->err, "assess: the %s cannot be recorded", what);
        return code;
    }
    parus__sha256(*bytes, *size, hash);
    return PARUS_OK;
}

/* The identities the limits are recorded with (docs/store.md, assessment_inputs): the model is
 * the SHA-256 of its file's bytes (its training-data hash is kept beside it, never instead), the
 * calendar fallback that of the crop table; the crop table, policy and debts file by their
 * SHA-256, their bytes recorded so that `parus verify` can re-derive every limit. */
static parus_status record_inputs(assess *a)
{
    const parus_assess_options *o = a->opt;
    parus_status code;

    if (o->crops_path) {
        code = record_file(a, o->crops_path, "crop table", &a->crops_bytes, &a->crops_size,
                           a->st.crops_hash);
        if (code != PARUS_OK)
            return code;
    }
    if (o->model) {
        const char *h = parus_model_file_hash(o->model);
        if (!h || strlen(h) != 64)
            return parus_fail(a->err, PARUS_E_INVALID,
                              "assess: the model was not loaded from a file, so it has no "
                              "version to record: save it and load it (parus_model_load)");
        snprintf(a->st.model_version, sizeof a->st.model_version, "xgb:%s", h);
        snprintf(a->st.model_data_hash, sizeof a->st.model_data_hash, "%s",
                 parus_model_data_hash(o->model));
    } else if (o->crops_path) {
        snprintf(a->st.model_version, sizeof a->st.model_version, "calendar:%s", a->st.crops_hash);
    } else {
        snprintf(a->st.model_version, sizeof a->st.model_version, "calendar");
    }
    if (!a->full)
        return PARUS_OK;
    if (o->policy_path) {
        code = record_file(a, o->policy_path, "policy", &a->policy_bytes, &a->policy_size,
                           a->st.policy_hash);
        if (code != PARUS_OK)
            return code;
    } else {
        parus_policy builtin;
        parus_policy_init(&builtin);
        if (!parus_policy_equal(o->policy, &builtin))
            return parus_fail(a->err, PARUS_E_INVALID,
                              "assess: a policy other than the built-in one needs its file "
                              "(policy_path), so that the limits record what they were lent by");
        snprintf(a->st.policy_hash, sizeof a->st.policy_hash, "builtin");
    }
    if (o->debts) {
        if (!o->debts_path)
            return parus_fail(a->err, PARUS_E_INVALID,
                              "assess: debts need their file (debts_path), so that the limits "
                              "record the debts they deduct");
        code = record_file(a, o->debts_path, "debts file", &a->debts_bytes, &a->debts_size,
                           a->st.debts_hash);
        if (code != PARUS_OK)
            return code;
    }
    return PARUS_OK;
}

/* The recorded inputs into the open results transaction. */
static parus_status put_inputs(assess *a)
{
    parus_assess_inputs in;
    memset(&in, 0, sizeof in);
    in.model_version = a->st.model_version;
    in.model_data_hash = a->st.model_data_hash[0] ? a->st.model_data_hash : NULL;
    in.crops_hash = a->st.crops_hash[0] ? a->st.crops_hash : NULL;
    in.crops = a->crops_bytes;
    in.crops_size = a->crops_size;
    in.policy_hash = a->st.policy_hash;
    in.policy = a->policy_bytes;
    in.policy_size = a->policy_size;
    in.debts_hash = a->st.debts_hash[0] ? a->st.debts_hash : NULL;
    in.debts = a->debts_bytes;
    in.debts_size = a->debts_size;
    return parus_store_results_put_inputs(a->store, &in, a->err);
}

static parus_status setup(assess *a, parus_store *store, const parus_assess_options *opt, bool full,
                          parus_error *err)
{
    parus_status code;
    int t;

    memset(a, 0, sizeof *a);
    a->kept_fd = -1;
    a->store = store;
    a->opt = opt;
    a->full = full;
    a->err = err;
    if (!store || !opt || !opt->season)
        return parus_fail(err, PARUS_E_INVALID, "assess: missing store, options or season");
    code = parus_season_parse_window(opt->season, &a->start_day, &a->length_days, err);
    if (code != PARUS_OK)
        return code;
    parus_season_window_text(a->start_day, a->length_days, a->window, sizeof a->window);
    a->end_day = a->start_day + (int64_t)a->length_days - 1;
    if (!opt->model && !opt->crops)
        return parus_fail(err, PARUS_E_INVALID,
                          "assess: season %s has no model and no crop table for the calendar "
                          "fallback",
                          a->window);
    if (full && (!opt->crops || !opt->policy))
        return parus_fail(err, PARUS_E_INVALID,
                          "assess: season %s needs a crop table and a credit policy", a->window);
    if (full && (code = parus_policy_validate(opt->policy, err)) != PARUS_OK)
        return code;
    if (opt->model) {
        code = parus_season_spec_from_model(opt->model, &a->spec, err);
        if (code != PARUS_OK)
            return code;
        if (a->spec.length_days != a->length_days)
            return parus_fail(err, PARUS_E_INVALID,
                              "season '%s' is %zu days long, the model was trained on %zu-day "
                              "seasons (%s)",
                              a->window, a->length_days, a->spec.length_days,
                              parus_model_meta(opt->model, "season_window")
                                  ? parus_model_meta(opt->model, "season_window")
                                  : "?");
        a->n_classes = parus_model_n_classes(opt->model);
    } else {
        parus_season_spec_init(&a->spec);
        a->spec.length_days = a->length_days;
    }
    a->spec.start_day = a->start_day;
    parus_season_sources_init(&a->spec, &a->sources);
    a->radar = parus_season_spec_has_radar(&a->spec);
    a->n_features = parus_season_n_features(&a->spec);
    a->hopt = opt->health;
    if (full)
        a->hopt.area_tolerance = opt->policy->area_tolerance;
    if (a->hopt.step_days == 0)
        return parus_fail(err, PARUS_E_INVALID, "assess: health step_days is 0");
    a->n_steps = (a->length_days + a->hopt.step_days - 1) / a->hopt.step_days;
    if (full && a->n_steps < 4)
        return parus_fail(err, PARUS_E_INVALID,
                          "season %s is too short for a condition: fewer than 4 steps of %zu days",
                          a->window, a->hopt.step_days);
    code = record_inputs(a);
    if (code != PARUS_OK)
        return code;

    a->n_threads = opt->n_threads > 0 ? opt->n_threads : parus__omp_max_threads();
    if (a->n_threads < 1)
        a->n_threads = 1;
    a->items = calloc(BATCH, sizeof *a->items);
    a->x = malloc((size_t)BATCH * a->n_features * sizeof *a->x);
    a->xp = malloc((size_t)BATCH * a->n_features * sizeof *a->xp);
    a->work = calloc((size_t)a->n_threads, sizeof *a->work);
    if (opt->model)
        a->prob = malloc((size_t)BATCH * a->n_classes * sizeof *a->prob);
    if (!a->items || !a->x || !a->xp || !a->work || (opt->model && !a->prob))
        return nomem(a, "batch");
    for (t = 0; t < a->n_threads; t++) {
        parus_season_work_init(&a->work[t].season);
        parus_health_series_init(&a->work[t].series);
    }
    return PARUS_OK;
}

static void batch_clear(assess *a)
{
    size_t i;
    for (i = 0; i < a->n_items; i++)
        free(a->items[i].declared);
    a->n_items = 0;
    a->n_pts = 0;
    a->n_rd = 0;
}

static void teardown(assess *a)
{
    size_t i;
    int t;
    batch_clear(a);
    for (i = 0; i < a->n_rec; i++) {
        free(a->rec[i].id);
        free(a->rec[i].farmer);
        free(a->rec[i].declared);
    }
    free(a->rec);
    if (a->kept_fd >= 0)
        close(a->kept_fd);
    if (a->held)
        fclose(a->held);
    free(a->kept_batch);
    for (i = 0; i < a->n_crop_info; i++)
        free(a->expected[i]);
    free(a->expected);
    free(a->crop_row);
    free(a->harvest);
    names_release(&a->crop_names);
    names_release(&a->grid_names);
    free(a->tiles);
    for (i = 0; i < a->n_retired; i++)
        free(a->retired[i]);
    free(a->retired);
    for (i = 0; i < a->n_groups; i++)
        parus_health_peers_release(&a->groups[i].peers);
    free(a->groups);
    parus__radar_peers_free(a->rpeers);
    free(a->items);
    free(a->pt_day);
    free(a->pt_tile);
    free(a->pt_obs);
    free(a->rd_pts);
    free(a->x);
    free(a->xp);
    free(a->prob);
    if (a->work)
        for (t = 0; t < a->n_threads; t++) {
            parus_season_work_release(&a->work[t].season);
            parus_health_series_release(&a->work[t].series);
            free(a->work[t].obs);
        }
    free(a->work);
    free(a->crops_bytes);
    free(a->policy_bytes);
    free(a->debts_bytes);
    free(a->ol_x);
    free(a->ol_y);
    free(a->ol_entries);
    free(a->ol_cands);
    free(a->ol_pars);
    free(a->ol_kept);
    free(a->ol_kept_tile);
    free(a->ol_pt);
    free(a->ol_tile);
    free(a->ol_res);
    free(a->ol_exp);
    free(a->ol_jump);
    free(a->ol_tried);
    free(a->ol_wet);
    parus_weather_reader_free(a->weather);
}

/* ---- tiles and their grids ---- */

static int visit_tile(const parus_tile_record *rec, void *ctx)
{
    assess *a = ctx;
    char key[96];
    size_t g;
    parus_assess_grid_key(rec->epsg, rec->geotransform, key, sizeof key);
    g = names_intern(&a->grid_names, key);
    if (g == SIZE_MAX ||
        !grow((void **)&a->tiles, &a->cap_tiles, a->n_tiles + 1, sizeof *a->tiles)) {
        nomem(a, "tiles");
        return 1;
    }
    a->tiles[a->n_tiles].tile_id = rec->id;
    a->tiles[a->n_tiles].grid = (int)g;
    a->tiles[a->n_tiles].used = false;
    memcpy(a->tiles[a->n_tiles].hash, rec->hash, sizeof a->tiles[a->n_tiles].hash);
    {
        /* a pixel's area: in metres, the geotransform's; in degrees (a pixel under half a unit
         * wide is no satellite's metre), at the tile's middle latitude */
        double px = fabs(rec->geotransform[1] * rec->geotransform[5] -
                         rec->geotransform[2] * rec->geotransform[4]);
        double deg_m = EARTH_RADIUS_M * DEG_TO_RAD,
               lat = 0.5 * (rec->lat_min_deg + rec->lat_max_deg) * DEG_TO_RAD;
        a->tiles[a->n_tiles].pixel_m2 = !(px > 0) || !isfinite(px) ? (double)NAN
                                        : fabs(rec->geotransform[1]) < 0.5
                                            ? px * deg_m * deg_m * cos(lat)
                                            : px;
    }
    a->n_tiles++;
    return 0;
}

static int cmp_tile(const void *x, const void *y)
{
    const tile_grid *p = x, *q = y;
    return p->tile_id < q->tile_id ? -1 : p->tile_id > q->tile_id;
}

/* The tile of a->tiles (sorted by id) with this id, or NULL. */
static const tile_grid *tile_of(const assess *a, int64_t tile_id)
{
    size_t lo = 0, hi = a->n_tiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->tiles[mid].tile_id == tile_id)
            return &a->tiles[mid];
        if (a->tiles[mid].tile_id < tile_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int grid_of_tile(const assess *a, int64_t tile_id)
{
    const tile_grid *t = tile_of(a, tile_id);
    return t ? t->grid : -1;
}

/* A tile's pixel area, or NaN. */
static double pixel_m2_of_tile(const assess *a, int64_t tile_id)
{
    const tile_grid *t = tile_of(a, tile_id);
    return t ? t->pixel_m2 : (double)NAN;
}

/* Remember that an observation of the season came from this tile (the audit of a run). */
static void mark_tile_used(assess *a, int64_t tile_id)
{
    const tile_grid *t = tile_of(a, tile_id);
    if (t)
        a->tiles[t - a->tiles].used = true;
}

static int cmp_hash(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The tiles the season's observations came from: their number, and a fingerprint of their content
 * fingerprints in sorted order (the same tiles give the same digest in any store, whatever their
 * ids), so an auditor can check a limit against the imagery it rests on (`parus store tiles`). */
static parus_status tiles_audit(assess *a)
{
    const char **h;
    char *buf;
    size_t i, n = 0;
    uint64_t fp[4];
    for (i = 0; i < a->n_tiles; i++)
        n += a->tiles[i].used;
    a->st.n_tiles_used = n;
    a->st.tiles_digest[0] = '\0';
    if (n == 0)
        return PARUS_OK;
    h = malloc(n * sizeof *h);
    buf = malloc(n * 64 + 1);
    if (!h || !buf) {
        free(h);
        free(buf);
        return nomem(a, "the tiles' audit");
    }
    for (i = 0, n = 0; i < a->n_tiles; i++)
        if (a->tiles[i].used)
            h[n++] = a->tiles[i].hash;
    qsort(h, n, sizeof *h, cmp_hash);
    for (i = 0; i < n; i++)
        memcpy(buf + i * 64, h[i], 64);
    parus__fingerprint(buf, n * 64, fp);
    for (i = 0; i < 4; i++)
        snprintf(a->st.tiles_digest + 16 * i, 17, "%016" PRIx64, fp[i]);
    free(h);
    free(buf);
    return PARUS_OK;
}

/* The grid holding most of the parcel's observations (ties: the smaller key); -1 none. */
static int majority_grid(const assess *a, const int64_t *tile, size_t n)
{
    int grid[16];
    size_t count[16], n_grids = 0, i, k;
    int best = -1;
    size_t best_n = 0;
    for (i = 0; i < n; i++) {
        int g = grid_of_tile(a, tile[i]);
        if (g < 0)
            continue;
        for (k = 0; k < n_grids && grid[k] != g; k++)
            ;
        if (k == n_grids) {
            if (n_grids == sizeof grid / sizeof grid[0])
                continue;
            grid[n_grids] = g;
            count[n_grids++] = 0;
        }
        count[k]++;
    }
    for (k = 0; k < n_grids; k++)
        if (count[k] > best_n ||
            (count[k] == best_n && strcmp(a->grid_names.s[grid[k]], a->grid_names.s[best]) < 0)) {
            best = grid[k];
            best_n = count[k];
        }
    return best;
}

/* ---- crops ---- */

/* Crop-table facts of every crop name seen (its row, expected curve, harvest day). */
static parus_status crop_info(assess *a)
{
    size_t n = a->crop_names.n, c, i;
    if (n == 0)
        return PARUS_OK;
    a->crop_row = calloc(n, sizeof *a->crop_row);
    a->expected = calloc(n, sizeof *a->expected);
    a->harvest = calloc(n, sizeof *a->harvest);
    if (!a->crop_row || !a->expected || !a->harvest)
        return nomem(a, "crops");
    a->n_crop_info = n;
    for (c = 0; c < n; c++) {
        const parus_crop *row = parus_crop_table_find(a->opt->crops, a->crop_names.s[c]);
        a->crop_row[c] = row;
        a->harvest[c] = NO_DAY;
        if (!row)
            continue;
        if (!(a->expected[c] = malloc(a->n_steps * sizeof *a->expected[c])))
            return nomem(a, "crops");
        for (i = 0; i < a->n_steps; i++) {
            double centre = (double)a->start_day + (double)i * (double)a->hopt.step_days +
                            ((double)a->hopt.step_days - 1.0) / 2.0;
            a->expected[c][i] =
                parus_crop_expected_ndvi(row, parus_series_day_of_year((int64_t)floor(centre)));
        }
        a->harvest[c] = parus__crop_harvest_day(row, a->start_day, a->end_day);
    }
    return PARUS_OK;
}

/* ---- outliers: single observations that contradict their series and their neighbours ---- */

static int cmp_entry(const void *x, const void *y)
{
    const ol_entry *a = x, *b = y;
    if (a->tile_id != b->tile_id)
        return a->tile_id < b->tile_id ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

static int cmp_cell(const void *x, const void *y)
{
    const ol_cell *a = x, *b = y;
    if (a->cx != b->cx)
        return a->cx < b->cx ? -1 : 1;
    if (a->cy != b->cy)
        return a->cy < b->cy ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

static int cmp_cand(const void *x, const void *y)
{
    const ol_cand *a = x, *b = y;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return (a->tile_id > b->tile_id) - (a->tile_id < b->tile_id);
}

/* The first outlier of parcel k (a->ol_cands sorted by k), or n_ol_cands. */
static size_t outliers_of(const assess *a, size_t k)
{
    size_t lo = 0, hi = a->n_ol_cands;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->ol_cands[mid].k < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_outlier(const assess *a, size_t lo, size_t hi, int64_t tile_id)
{
    size_t i;
    for (i = lo; i < hi; i++)
        if (a->ol_cands[i].tile_id == tile_id)
            return true;
    return false;
}

static parus_status put_outlier(assess *a, const char *parcel_id, const parus_series_point *pt,
                                size_t lo, size_t hi)
{
    const ol_cand *c = NULL;
    parus_outlier_row row;
    char reason[240];
    size_t i;
    for (i = lo; i < hi && !c; i++)
        if (a->ol_cands[i].tile_id == pt->tile_id)
            c = &a->ol_cands[i];
    snprintf(reason, sizeof reason,
             "NDVI %.3f where its series expects %.3f (%+.3f; %+.3f or more off the clear "
             "observation each side); its %u nearest neighbours on this tile moved %+.3f (median)",
             (double)c->ndvi, (double)c->expected, (double)c->residual, (double)c->jump,
             (unsigned)c->n_nb, (double)c->nb_median);
    memset(&row, 0, sizeof row);
    row.parcel_id = parcel_id;
    row.tile_id = pt->tile_id;
    memcpy(row.date, pt->date, sizeof row.date);
    row.date[10] = '\0';
    row.ndvi = c->ndvi;
    row.expected_ndvi = c->expected;
    row.jump = c->jump;
    row.neighbours_residual = c->nb_median;
    row.n_neighbours = c->n_nb;
    row.reason = reason;
    return parus_store_results_put_outlier(a->store, &row, a->err);
}

static bool ol_buffers(assess *a, size_t n)
{
    if (n <= a->cap_ol_pts)
        return true;
    free(a->ol_pt);
    free(a->ol_tile);
    free(a->ol_res);
    free(a->ol_exp);
    free(a->ol_jump);
    free(a->ol_tried);
    free(a->ol_wet);
    a->ol_pt = malloc(n * sizeof *a->ol_pt);
    a->ol_tile = malloc(n * sizeof *a->ol_tile);
    a->ol_res = malloc(n * sizeof *a->ol_res);
    a->ol_exp = malloc(n * sizeof *a->ol_exp);
    a->ol_jump = malloc(n * sizeof *a->ol_jump);
    a->ol_tried = malloc(n);
    a->ol_wet = malloc(n);
    a->cap_ol_pts = n;
    if (a->ol_pt && a->ol_tile && a->ol_res && a->ol_exp && a->ol_jump && a->ol_tried && a->ol_wet)
        return true;
    a->cap_ol_pts = 0;
    return false;
}

/* The outlier pass's part of the walk for the next parcel (k = its walk position): its centre,
 * the residuals of its clear observations, and, when one of them is a candidate (*any), its clear
 * points kept for judging once every parcel's residuals are known. */
static parus_status ol_add_parcel(assess *a, const parus_parcel_brief *p,
                                  const parus_series_point *pts, size_t n_pts, bool *any_out)
{
    size_t k = a->ol_n_parcels, i, n = 0, m = 0;
    const parus_outlier_options *opt = &a->opt->outlier;
    bool any = false;
    *any_out = false;
    if (k >= UINT32_MAX)
        return parus_fail(a->err, PARUS_E_RANGE, "season %s: more than 2^32 - 1 parcels",
                          a->window);
    if (!grow((void **)&a->ol_x, &a->cap_ol_x, k + 1, sizeof *a->ol_x) ||
        !grow((void **)&a->ol_y, &a->cap_ol_y, k + 1, sizeof *a->ol_y) || !ol_buffers(a, n_pts))
        return nomem(a, "outliers");
    a->ol_x[k] = a->ol_y[k] = NAN;
    if (isfinite(p->lon_deg) && isfinite(p->lat_deg)) {
        double lat = p->lat_deg * DEG_TO_RAD;
        a->ol_y[k] = EARTH_RADIUS_M * lat;
        a->ol_x[k] = EARTH_RADIUS_M * cos(lat) * p->lon_deg * DEG_TO_RAD;
    }
    a->ol_n_parcels++;
    for (i = 0; i < n_pts; i++) {
        parus_outlier_point *q = &a->ol_pt[n];
        if (!parus_outlier_clear(opt, &pts[i].obs))
            continue;
        parus_status code = parus_series_parse_day(pts[i].date, &q->day, a->err);
        if (code != PARUS_OK)
            return code;
        q->ndvi = pts[i].obs.mean[PARUS_INDEX_NDVI];
        q->water_fraction = pts[i].obs.water_fraction;
        q->mndwi = pts[i].obs.mean[PARUS_INDEX_MNDWI];
        q->ndwi = pts[i].obs.mean[PARUS_INDEX_NDWI];
        q->swir1 = pts[i].obs.band_mean[PARUS_ROLE_SWIR1];
        q->left_out = false;
        a->ol_tile[n++] = pts[i].tile_id;
    }
    parus_outlier_residuals(opt, a->ol_pt, n, a->ol_res, a->ol_exp, a->ol_jump, a->ol_wet);
    for (i = 0; i < n; i++) {
        m += isfinite(a->ol_res[i]);
        any = any ||
              parus_outlier_candidate(opt, &a->ol_pt[i], a->ol_res[i], a->ol_jump[i], a->ol_wet[i]);
    }
    if (!grow((void **)&a->ol_entries, &a->cap_ol_entries, a->n_ol_entries + m,
              sizeof *a->ol_entries))
        return nomem(a, "outliers");
    for (i = 0; i < n; i++) {
        ol_entry *e;
        if (!isfinite(a->ol_res[i]))
            continue;
        e = &a->ol_entries[a->n_ol_entries++];
        e->tile_id = a->ol_tile[i];
        e->k = (uint32_t)k;
        e->residual = (float)a->ol_res[i];
    }
    if (!any)
        return PARUS_OK;
    /* keep the parcel's clear points: it is judged once every parcel's residuals are known */
    if (!grow((void **)&a->ol_pars, &a->cap_ol_pars, a->n_ol_pars + 1, sizeof *a->ol_pars) ||
        !grow((void **)&a->ol_kept, &a->cap_ol_kept, a->n_ol_kept + n, sizeof *a->ol_kept) ||
        !grow((void **)&a->ol_kept_tile, &a->cap_ol_kept_tile, a->n_ol_kept + n,
              sizeof *a->ol_kept_tile))
        return nomem(a, "outliers");
    a->ol_pars[a->n_ol_pars].k = (uint32_t)k;
    a->ol_pars[a->n_ol_pars].off = a->n_ol_kept;
    a->ol_pars[a->n_ol_pars].n = n;
    a->n_ol_pars++;
    memcpy(a->ol_kept + a->n_ol_kept, a->ol_pt, n * sizeof *a->ol_pt);
    memcpy(a->ol_kept_tile + a->n_ol_kept, a->ol_tile, n * sizeof *a->ol_tile);
    a->n_ol_kept += n;
    *any_out = true;
    return PARUS_OK;
}

/* The residual of parcel k on the tile, or NaN (a->ol_entries sorted by (tile, k)). */
static double entry_residual(const assess *a, int64_t tile_id, uint32_t k)
{
    ol_entry key;
    const ol_entry *e;
    key.tile_id = tile_id;
    key.k = k;
    e = bsearch(&key, a->ol_entries, a->n_ol_entries, sizeof key, cmp_entry);
    if (!e)
        return NAN;
    return (double)e->residual;
}

typedef struct ol_nb {
    double dist_m, residual;
    uint32_t k;
} ol_nb;

static int cmp_nb(const void *x, const void *y)
{
    const ol_nb *a = x, *b = y;
    if (a->dist_m != b->dist_m)
        return a->dist_m < b->dist_m ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

typedef struct ol_search {
    const ol_cell *cells;
    size_t n_cells;
    ol_nb *nb;
    double *res;
    size_t cap_nb, cap_res;
} ol_search;

/* The residuals on tile_id of parcel k's nearest neighbours within the radius (at most
 * max_neighbours, nearest first, ties by walk order) into s->res; their number, or SIZE_MAX when
 * out of memory. */
static size_t neighbours(assess *a, ol_search *s, uint32_t k, int64_t tile_id)
{
    const parus_outlier_options *opt = &a->opt->outlier;
    double r_m = opt->neighbour_radius_m, x = a->ol_x[k], y = a->ol_y[k];
    int64_t cx, cy, dx, dy;
    size_t n = 0, j, take;
    if (!isfinite(x) || !isfinite(y))
        return 0;
    cx = (int64_t)floor(x / r_m);
    cy = (int64_t)floor(y / r_m);
    for (dx = -1; dx <= 1; dx++)
        for (dy = -1; dy <= 1; dy++) {
            ol_cell key = {cx + dx, cy + dy, 0};
            size_t lo = 0, hi = s->n_cells;
            while (lo < hi) { /* the first cell entry at or after key */
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_cell(&s->cells[mid], &key) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (j = lo; j < s->n_cells && s->cells[j].cx == key.cx && s->cells[j].cy == key.cy;
                 j++) {
                uint32_t k2 = s->cells[j].k;
                double d, r2;
                if (k2 == k)
                    continue;
                d = hypot(a->ol_x[k2] - x, a->ol_y[k2] - y);
                if (!(d <= r_m) || !isfinite(r2 = entry_residual(a, tile_id, k2)))
                    continue;
                if (!grow((void **)&s->nb, &s->cap_nb, n + 1, sizeof *s->nb))
                    return SIZE_MAX;
                s->nb[n].dist_m = d;
                s->nb[n].residual = r2;
                s->nb[n].k = k2;
                n++;
            }
        }
    if (n > 1)
        qsort(s->nb, n, sizeof *s->nb, cmp_nb);
    take = n < opt->max_neighbours ? n : opt->max_neighbours;
    if (!grow((void **)&s->res, &s->cap_res, take + 1, sizeof *s->res))
        return SIZE_MAX;
    for (j = 0; j < take; j++)
        s->res[j] = s->nb[j].residual;
    return take;
}

/* One kept parcel: its outliers one at a time, the largest residual first, each leaving the
 * series before the rest are judged again. */
static parus_status judge_parcel(assess *a, ol_search *s, const ol_parcel *par)
{
    const parus_outlier_options *opt = &a->opt->outlier;
    parus_outlier_point *pt = a->ol_kept + par->off;
    const int64_t *tile = a->ol_kept_tile + par->off;
    size_t n = par->n, round;
    if (!ol_buffers(a, n))
        return nomem(a, "outliers");
    for (round = 0; round < n; round++) {
        size_t i, best = SIZE_MAX;
        double best_med = NAN;
        size_t best_nb = 0;
        parus_outlier_residuals(opt, pt, n, a->ol_res, a->ol_exp, a->ol_jump, a->ol_wet);
        memset(a->ol_tried, 0, n); /* candidates found shared with the neighbours this round */
        for (;;) {                 /* the candidate with the largest residual not yet tried */
            size_t c = SIZE_MAX, nn;
            double med;
            for (i = 0; i < n; i++)
                if (!a->ol_tried[i] &&
                    parus_outlier_candidate(opt, &pt[i], a->ol_res[i], a->ol_jump[i],
                                            a->ol_wet[i]) &&
                    (c == SIZE_MAX || fabs(a->ol_res[i]) > fabs(a->ol_res[c])))
                    c = i;
            if (c == SIZE_MAX)
                break;
            a->ol_tried[c] = 1;
            nn = neighbours(a, s, par->k, tile[c]);
            if (nn == SIZE_MAX)
                return nomem(a, "outlier neighbours");
            if (parus_outlier_contradicts_neighbours(opt, a->ol_res[c], s->res, nn, &med)) {
                best = c;
                best_med = med;
                best_nb = nn;
                break;
            }
        }
        if (best == SIZE_MAX)
            break;
        pt[best].left_out = true;
        if (!grow((void **)&a->ol_cands, &a->cap_ol_cands, a->n_ol_cands + 1, sizeof *a->ol_cands))
            return nomem(a, "outliers");
        {
            ol_cand *c = &a->ol_cands[a->n_ol_cands++];
            memset(c, 0, sizeof *c);
            c->k = par->k;
            c->tile_id = tile[best];
            c->day = pt[best].day;
            c->ndvi = (float)pt[best].ndvi;
            c->expected = (float)a->ol_exp[best];
            c->jump = (float)a->ol_jump[best];
            c->residual = (float)a->ol_res[best];
            c->nb_median = (float)best_med;
            c->n_nb = (uint32_t)best_nb;
        }
    }
    return PARUS_OK;
}

/* After the outlier pass only the left-out observations (ol_cands) are needed: the residuals and
 * the parcels' centres go, with or without a candidate. */
static void ol_release(assess *a)
{
    free(a->ol_entries);
    a->ol_entries = NULL;
    a->n_ol_entries = a->cap_ol_entries = 0;
    free(a->ol_x);
    free(a->ol_y);
    a->ol_x = a->ol_y = NULL;
    a->cap_ol_x = a->cap_ol_y = 0;
}

/* ---- batches ---- */

/* The bit of an optical sensor's name in a record's sensor mask (names interned in meeting
 * order; past MAX_SENSORS names, the last bit stands for "other"). */
static uint32_t sensor_bit(assess *a, const char *name)
{
    size_t k;
    for (k = 0; k < a->n_sensor_names; k++)
        if (strcmp(a->sensor_name[k], name) == 0)
            return (uint32_t)1 << k;
    if (a->n_sensor_names == MAX_SENSORS)
        return (uint32_t)1 << (MAX_SENSORS - 1);
    snprintf(a->sensor_name[a->n_sensor_names], sizeof a->sensor_name[0], "%s", name);
    return (uint32_t)1 << a->n_sensor_names++;
}

static int cmp_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The sensors a record rests on, "landsat-8+sentinel-2-l2a+sentinel-1" (optical ones in name
 * order, whatever order the walk met them in; radar last), into buf; "" when none. */
static void sensors_text(const assess *a, uint32_t mask, char *buf, size_t n)
{
    const char *text[MAX_SENSORS + 1];
    size_t k, m = 0, len = 0;
    buf[0] = '\0';
    for (k = 0; k < a->n_sensor_names; k++)
        if (mask & ((uint32_t)1 << k))
            text[m++] = a->sensor_name[k];
    if (m > 1)
        qsort(text, m, sizeof *text, cmp_name);
    if (mask & SENSOR_RADAR_BIT)
        text[m++] = "sentinel-1";
    for (k = 0; k < m && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "+" : "", text[k]);
}

/* The season walk, with the radar points when the season or the flood rule uses them. */
static parus_status season_walk(assess *a, parus_season_visit_all_fn fn, size_t *n_parcels)
{
    return parus_store_season_walk_all(a->store, a->window, a->radar, fn, a, n_parcels, a->err);
}

/* Copy a parcel of the walk into the batch; its record is rec. */
static parus_status batch_add(assess *a, size_t rec, const parus_season_parcel *sp)
{
    const parus_parcel_brief *p = sp->parcel;
    const parus_series_point *pts = sp->pts;
    size_t n_pts = sp->n_pts;
    item *it = &a->items[a->n_items];
    size_t i, want = a->n_pts + n_pts;
    if (!grow((void **)&a->pt_day, &a->cap_pt_day, want, sizeof *a->pt_day) ||
        !grow((void **)&a->pt_tile, &a->cap_pt_tile, want, sizeof *a->pt_tile) ||
        !grow((void **)&a->pt_obs, &a->cap_pt_obs, want, sizeof *a->pt_obs) ||
        !grow((void **)&a->rd_pts, &a->cap_rd, a->n_rd + sp->n_radar, sizeof *a->rd_pts))
        return nomem(a, "observations");
    size_t o_lo = outliers_of(a, rec), o_hi = o_lo;
    while (o_hi < a->n_ol_cands && a->ol_cands[o_hi].k == rec)
        o_hi++;
    memset(it, 0, sizeof *it);
    it->rec = rec;
    it->rain_deficit = it->heat_days = it->rain_mm = it->rain_normal_mm = NAN;
    it->pt0 = a->n_pts;
    it->area_m2 = p->area_m2;
    it->declared_area_m2 = p->declared_area_m2;
    if (p->declared_crop && !(it->declared = parus__strdup(p->declared_crop)))
        return nomem(a, "declared crops");
    a->rec[rec].area_m2 = p->area_m2;
    if (p->declared_crop && !a->rec[rec].declared &&
        !(a->rec[rec].declared = parus__strdup(p->declared_crop))) {
        free(it->declared);
        return nomem(a, "declared crops");
    }
    for (i = 0; i < n_pts; i++) {
        parus_status code;
        if (o_lo < o_hi && is_outlier(a, o_lo, o_hi, pts[i].tile_id)) {
            code = a->ol_write ? put_outlier(a, p->id, &pts[i], o_lo, o_hi) : PARUS_OK;
            if (code != PARUS_OK) {
                free(it->declared);
                return code;
            }
            continue;
        }
        code = parus_series_parse_day(pts[i].date, &a->pt_day[a->n_pts], a->err);
        if (code != PARUS_OK) {
            free(it->declared);
            return code;
        }
        a->pt_tile[a->n_pts] = pts[i].tile_id;
        mark_tile_used(a, pts[i].tile_id);
        if (a->pt_day[a->n_pts] >= a->start_day && a->pt_day[a->n_pts] <= a->end_day &&
            pts[i].obs.valid_fraction >= a->spec.min_valid_fraction)
            a->rec[rec].sensor_mask |= sensor_bit(a, pts[i].sensor);
        a->pt_obs[a->n_pts] = pts[i].obs;
        a->n_pts++;
    }
    it->n_pts = a->n_pts - it->pt0;
    it->rd0 = a->n_rd;
    it->n_rd = sp->n_radar;
    if (sp->n_radar)
        memcpy(a->rd_pts + a->n_rd, sp->radar, sp->n_radar * sizeof *sp->radar);
    a->n_rd += sp->n_radar;
    a->n_items++;
    return PARUS_OK;
}

/* The first hard error of the batch's parallel part, in walk order. */
static parus_status batch_error(assess *a)
{
    size_t i;
    for (i = 0; i < a->n_items; i++)
        if (a->items[i].st != PARUS_OK) {
            if (a->err)
                *a->err = a->items[i].err;
            return a->items[i].st;
        }
    return PARUS_OK;
}

/* Open the file of kept series (a->kept_fd): in TMPDIR (else /tmp), unlinked at once, so that
 * nothing of it outlives the run, however it ends. */
static parus_status kept_open(assess *a)
{
    const char *dir = getenv("TMPDIR");
    char path[sizeof a->kept_dir + 32];
    size_t nv;
    snprintf(a->kept_dir, sizeof a->kept_dir, "%s", dir && *dir ? dir : "/tmp");
    if (!parus__mul_size(N_VARS * sizeof(double) + sizeof(int64_t) + 1, a->n_steps,
                         &a->row_bytes) ||
        !parus__mul_size(a->row_bytes, BATCH, &nv) || !(a->kept_batch = malloc(nv)))
        return nomem(a, "series");
    snprintf(path, sizeof path, "%s/parus-assess-XXXXXX", a->kept_dir);
    a->kept_fd = mkstemp(path);
    if (a->kept_fd < 0)
        return parus_fail(a->err, PARUS_E_IO,
                          "cannot make a temporary file in '%s' for the series of season %s (set "
                          "TMPDIR to a writable directory): %s",
                          a->kept_dir, a->window, strerror(errno));
    unlink(path);
    return PARUS_OK;
}

/* Keep a parcel's series: item k's row of the batch. */
static void keep_series(assess *a, size_t k, const parus_health_series *s)
{
    unsigned char *row = a->kept_batch + k * a->row_bytes;
    size_t var, bytes = a->n_steps * sizeof(double);
    for (var = 0; var < N_VARS; var++)
        memcpy(row + var * bytes, s->v[var], bytes);
    memcpy(row + N_VARS * bytes, s->day, a->n_steps * sizeof *s->day);
    memcpy(row + (N_VARS + 1) * bytes, s->flag, a->n_steps);
}

/* An item's health series from its kept row: the values, days and flags pass 1 built from the
 * same points, then smoothed and phenology taken as parus_health_series_build does, so the series
 * is the one a second walk would build (test_assess holds the two ways to the same results). */
static parus_status kept_series(assess *a, item *it, thread_work *w)
{
    size_t var, bytes = a->n_steps * sizeof(double);
    parus_status code = parus_health_series_alloc(&w->series, a->start_day, a->hopt.step_days,
                                                  a->n_steps, &it->err);
    if (code != PARUS_OK)
        return code;
    for (var = 0; var < N_VARS; var++)
        memcpy(w->series.v[var], it->row + var * bytes, bytes);
    memcpy(w->series.day, it->row + N_VARS * bytes, a->n_steps * sizeof *w->series.day);
    memcpy(w->series.flag, it->row + (N_VARS + 1) * bytes, a->n_steps);
    parus_health_series_finish(&w->series, &a->hopt);
    return PARUS_OK;
}

/* Write or read n bytes of the kept series at offset off (EINTR and short counts retried). */
static parus_status kept_io(assess *a, bool write, void *buf, size_t n, size_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write ? pwrite(a->kept_fd, (char *)buf + done, n - done, (off_t)(off + done))
                          : pread(a->kept_fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return parus_fail(a->err, PARUS_E_IO,
                              "cannot %s the series of season %s in a temporary file in '%s': %s",
                              write ? "write" : "read back", a->window, a->kept_dir,
                              k < 0 ? strerror(errno) : "it ended early");
        done += (size_t)k;
    }
    return PARUS_OK;
}

/* Build the health series of an item into the thread's series. */
static parus_status item_series(assess *a, item *it, thread_work *w)
{
    parus_status code =
        parus_health_series_build(&w->series, &a->hopt, a->pt_day + it->pt0, a->pt_obs + it->pt0,
                                  it->n_pts, a->start_day, a->end_day, &it->err);
    if (code == PARUS_OK && w->series.n_steps != a->n_steps)
        code = parus_fail(&it->err, PARUS_E_INTERNAL,
                          "health series of %zu steps, expected %zu for season %s",
                          w->series.n_steps, a->n_steps, a->window);
    return code;
}

/* ---- pass 1: crops ---- */

static void first_last(const assess *a, const item *it, int64_t *first, int64_t *last)
{
    size_t i;
    *first = *last = NO_DAY;
    for (i = it->pt0; i < it->pt0 + it->n_pts; i++) {
        if (a->pt_day[i] < a->start_day || a->pt_day[i] > a->end_day ||
            !(a->pt_obs[i].valid_fraction >= a->spec.min_valid_fraction))
            continue;
        if (*first == NO_DAY)
            *first = a->pt_day[i];
        *last = a->pt_day[i];
    }
}

/* The parallel part of pass 1 for one item. */
static void classify_item(assess *a, size_t k, thread_work *w)
{
    item *it = &a->items[k];
    parcel_rec *r = &a->rec[it->rec];
    double *x = a->x + k * a->n_features;
    parus_error ferr;
    parus_status code;
    size_t i;

    size_t n_rd = 0;
    if (!grow((void **)&w->obs, &w->cap_obs, it->n_pts + it->n_rd ? it->n_pts + it->n_rd : 1,
              sizeof *w->obs)) {
        it->st = parus_fail(&it->err, PARUS_E_NOMEM, "out of memory featuring parcel '%s'", r->id);
        return;
    }
    for (i = 0; i < it->n_pts; i++)
        parus_season_obs_from_sources(&a->sources, a->pt_day[it->pt0 + i], &a->pt_obs[it->pt0 + i],
                                      &w->obs[i]);
    if (it->n_rd) {
        code = parus_season_radar_obs(&a->sources, a->rd_pts + it->rd0, it->n_rd,
                                      w->obs + it->n_pts, &n_rd, &w->season, &it->err);
        if (code != PARUS_OK) {
            it->st = code;
            return;
        }
    }
    code = parus_season_features(&a->spec, a->start_day, w->obs, it->n_pts + n_rd, x, &it->info,
                                 &w->season, &ferr);
    it->n_optical_clear = parus_season_count_clear(&a->spec, a->start_day, w->obs, it->n_pts);
    if (parus_season_count_clear(&a->spec, a->start_day, w->obs + it->n_pts, n_rd) > 0)
        r->sensor_mask |= SENSOR_RADAR_BIT;
    if (code == PARUS_OK) {
        it->featured = true;
    } else if (code != PARUS_E_RANGE) {
        it->st = code;
        it->err = ferr;
        return;
    }
    first_last(a, it, &r->first_day, &r->last_day);
    if (a->full) {
        /* how much of the parcel one tile's pass covered, clear or not: land outside every tile
         * was never seen, and is not valued as if it had been */
        double seen = NAN;
        for (i = 0; i < it->n_pts; i++) {
            double m2 =
                a->pt_obs[it->pt0 + i].w_total_px * pixel_m2_of_tile(a, a->pt_tile[it->pt0 + i]);
            if (isfinite(m2) && !(m2 <= seen))
                seen = m2;
        }
        r->seen_m2 = seen;
    }
    if (it->featured && !a->opt->model) {
        size_t off = parus_season_series_offset(&a->spec, parus_season_var_index(&a->spec, "ndvi"));
        it->cal_st = parus_season_calendar_match(a->opt->crops, &a->spec, a->start_day, x + off,
                                                 parus_season_n_steps(&a->spec), &it->cal, &ferr);
        if (it->cal_st != PARUS_OK && it->cal_st != PARUS_E_RANGE) {
            it->st = it->cal_st;
            it->err = ferr;
            return;
        }
    }
    if (a->full) {
        code = item_series(a, it, w);
        if (code != PARUS_OK) {
            it->st = code;
            return;
        }
        keep_series(a, k, &w->series);
        r->n_observed = (uint32_t)w->series.n_observed;
        r->grid = majority_grid(a, a->pt_tile + it->pt0, it->n_pts);
    }
}

static parus_status put_assessment(assess *a, item *it, parus_assess_method method,
                                   const char *crop, double prob, const char *crop2, double margin,
                                   const char *reason)
{
    parcel_rec *r = &a->rec[it->rec];
    parus_assessment as;
    char first[11], last[11];
    memset(&as, 0, sizeof as);
    as.season = a->window;
    as.parcel_id = r->id;
    as.run_id = a->opt->run_id;
    as.method = method;
    as.crop = crop;
    as.probability = crop ? prob : (double)NAN;
    as.crop2 = crop2;
    as.margin = crop ? (margin < 0 ? 0.0 : margin > 1 ? 1.0 : margin) : (double)NAN;
    as.confidence = method == PARUS_ASSESS_NONE       ? PARUS_CONFIDENCE_NONE
                    : method == PARUS_ASSESS_CALENDAR ? PARUS_CONFIDENCE_LOW
                                                      : PARUS_CONFIDENCE_NORMAL;
    as.model_version = method == PARUS_ASSESS_NONE ? NULL : a->st.model_version;
    as.declared_crop = it->declared;
    as.agrees = (!crop || !it->declared) ? -1 : strcmp(crop, it->declared) == 0;
    as.reason = reason;
    as.n_clear_obs = it->featured ? it->n_optical_clear : 0;
    if (r->first_day != NO_DAY) {
        format_day(r->first_day, first);
        format_day(r->last_day, last);
        as.first_date = first;
        as.last_date = last;
    }
    r->method = (unsigned char)method;
    r->prob = as.probability;
    r->n_clear = (uint32_t)as.n_clear_obs;
    r->crop = -1;
    if (crop) {
        size_t c = names_intern(&a->crop_names, crop);
        if (c == SIZE_MAX)
            return nomem(a, "crop names");
        r->crop = (int)c;
    }
    if (it->declared && crop) {
        a->st.n_declared++;
        a->st.n_agree += as.agrees == 1;
    }
    if (method == PARUS_ASSESS_MODEL)
        a->st.n_model++;
    else if (method == PARUS_ASSESS_CALENDAR)
        a->st.n_calendar++;
    else
        a->st.n_not_classified++;
    return parus_store_assessments_put(a->store, &as, a->err);
}

static parus_status classify_batch(assess *a)
{
    parus_status code = PARUS_OK;
    size_t k, n_pred = 0;
    int nt = a->n_threads;
    long long kk, n = (long long)a->n_items;

    if (a->full && a->kept_fd < 0 && (code = kept_open(a)) != PARUS_OK)
        return code;
    PARUS_OMP(parallel for num_threads(nt) schedule(dynamic, 8))
    for (kk = 0; kk < n; kk++)
        classify_item(a, (size_t)kk, &a->work[parus__omp_thread()]);
    code = batch_error(a);
    /* each item's row at its record's place; a batch is runs of consecutive records (the walk's
     * parcels, less those held for the outlier pass; the held ones in walk order) */
    for (k = 0; code == PARUS_OK && a->full && k < a->n_items;) {
        size_t end = k + 1;
        while (end < a->n_items && a->items[end].rec == a->items[end - 1].rec + 1)
            end++;
        code = kept_io(a, true, a->kept_batch + k * a->row_bytes, (end - k) * a->row_bytes,
                       a->items[k].rec * a->row_bytes);
        k = end;
    }
    if (code != PARUS_OK)
        return code;

    if (a->opt->model) {
        for (k = 0; k < a->n_items; k++)
            if (a->items[k].featured)
                memcpy(a->xp + (n_pred++) * a->n_features, a->x + k * a->n_features,
                       a->n_features * sizeof *a->x);
        if (n_pred)
            code = parus_model_predict(a->opt->model, a->xp, n_pred, a->n_features,
                                       a->opt->n_threads, a->prob, a->err);
        if (code != PARUS_OK)
            return code;
    }
    n_pred = 0;
    for (k = 0; k < a->n_items && code == PARUS_OK; k++) {
        item *it = &a->items[k];
        char reason[200];
        if (!it->featured) {
            code = put_assessment(a, it, PARUS_ASSESS_NONE, NULL, NAN, NULL, NAN,
                                  "no clear observation in the season");
        } else if (a->opt->model) {
            const double *p = a->prob + (n_pred++) * a->n_classes;
            size_t best, second;
            double margin;
            parus_classify_top2(p, a->n_classes, &best, &second, &margin);
            code = put_assessment(a, it, PARUS_ASSESS_MODEL,
                                  parus_model_class_name(a->opt->model, best), p[best],
                                  parus_model_class_name(a->opt->model, second), margin, NULL);
        } else if (it->cal_st == PARUS_E_RANGE) {
            snprintf(reason, sizeof reason,
                     "too few NDVI steps for calendar matching (%zu observed, %d needed)",
                     it->info.n_observed, PARUS_CALENDAR_MIN_STEPS);
            code = put_assessment(a, it, PARUS_ASSESS_NONE, NULL, NAN, NULL, NAN, reason);
        } else {
            snprintf(reason, sizeof reason,
                     "no model: nearest crop calendar (NDVI RMSE %.3f, next %.3f); a guess, not a "
                     "model probability",
                     it->cal.rmse_best, it->cal.rmse_second);
            code =
                put_assessment(a, it, PARUS_ASSESS_CALENDAR,
                               a->opt->crops->crops[it->cal.best].code, it->cal.pseudo_probability,
                               a->opt->crops->crops[it->cal.second].code, it->cal.margin, reason);
        }
    }
    batch_clear(a);
    return code;
}

/* Whether the outlier pass runs; an error for options it cannot run with. */
static parus_status ol_enabled(assess *a, bool *on)
{
    const parus_outlier_options *opt = &a->opt->outlier;
    *on = opt->enabled;
    if (!opt->enabled)
        return PARUS_OK;
    if (!(opt->neighbour_radius_m > 0) || opt->max_gap_days <= 0 || !(opt->min_jump > 0))
        return parus_fail(a->err, PARUS_E_INVALID,
                          "assess: outlier options need a positive radius, gap and jump");
    return PARUS_OK;
}

/* The outlier pass's judging, once the walk has given every parcel's residuals (ol_add_parcel):
 * each parcel with a candidate against its neighbours on the candidate's tile. The observations
 * left out (ol_cands) are skipped by every later use of the parcel's points (batch_add).
 * Sequential: a few parcels in a hundred have a candidate. */
static parus_status ol_judge(assess *a)
{
    const parus_outlier_options *opt = &a->opt->outlier;
    ol_search s;
    size_t k, i;
    parus_status code = PARUS_OK;

    if (a->n_ol_pars == 0) {
        ol_release(a);
        return PARUS_OK;
    }
    memset(&s, 0, sizeof s);
    qsort(a->ol_entries, a->n_ol_entries, sizeof *a->ol_entries, cmp_entry);
    {
        ol_cell *cells = malloc((a->ol_n_parcels ? a->ol_n_parcels : 1) * sizeof *cells);
        if (!cells)
            return nomem(a, "outliers");
        for (k = 0; k < a->ol_n_parcels; k++) {
            if (!isfinite(a->ol_x[k]) || !isfinite(a->ol_y[k]))
                continue;
            cells[s.n_cells].cx = (int64_t)floor(a->ol_x[k] / opt->neighbour_radius_m);
            cells[s.n_cells].cy = (int64_t)floor(a->ol_y[k] / opt->neighbour_radius_m);
            cells[s.n_cells].k = (uint32_t)k;
            s.n_cells++;
        }
        qsort(cells, s.n_cells, sizeof *cells, cmp_cell);
        s.cells = cells;
    }
    for (i = 0; i < a->n_ol_pars && code == PARUS_OK; i++)
        code = judge_parcel(a, &s, &a->ol_pars[i]);
    free((void *)s.cells);
    free(s.nb);
    free(s.res);
    if (code == PARUS_OK && a->n_ol_cands > 1)
        qsort(a->ol_cands, a->n_ol_cands, sizeof *a->ol_cands, cmp_cand);
    a->st.n_outliers = a->n_ol_cands;
    ol_release(a);
    /* the candidates' kept points are judged: they go too */
    free(a->ol_pars);
    free(a->ol_kept);
    free(a->ol_kept_tile);
    a->ol_pars = NULL;
    a->ol_kept = NULL;
    a->ol_kept_tile = NULL;
    a->n_ol_pars = a->cap_ol_pars = a->n_ol_kept = a->cap_ol_kept = a->cap_ol_kept_tile = 0;
    return code;
}

/* ---- parcels held back from the walk ----
 *
 * A parcel whose observations hold an outlier candidate cannot be classified before the walk
 * has given every parcel's residuals (its neighbours' come later in id order). Its part of the
 * walk goes to an unlinked temporary file (held_fd) and is classified after the judging, from the
 * same bytes; every other parcel is classified as the walk meets it, so the season is walked once
 * for both. One held parcel: a held_head, its id, farmer and declared crop (NUL-terminated, in
 * that order), its points and its radar points. */

typedef struct held_head {
    uint64_t rec, n_pts, n_radar;
    uint32_t len_id, len_farmer, len_declared; /* with the NUL; 0: none */
    double area_m2, declared_area_m2, lon_deg, lat_deg;
} held_head;

static parus_status held_fail(assess *a, bool write)
{
    return parus_fail(a->err, PARUS_E_IO,
                      "cannot %s the parcels held for the outlier pass of season %s in a "
                      "temporary file in '%s' (set TMPDIR to a writable directory): %s",
                      write ? "write" : "read back", a->window, a->kept_dir,
                      errno ? strerror(errno) : "it ended early");
}

static parus_status held_put(assess *a, size_t rec, const parus_season_parcel *sp)
{
    const parus_parcel_brief *p = sp->parcel;
    held_head h;
    if (!a->held) {
        const char *dir = getenv("TMPDIR");
        char path[sizeof a->kept_dir + 32];
        int fd;
        snprintf(a->kept_dir, sizeof a->kept_dir, "%s", dir && *dir ? dir : "/tmp");
        snprintf(path, sizeof path, "%s/parus-held-XXXXXX", a->kept_dir);
        errno = 0;
        fd = mkstemp(path);
        if (fd < 0)
            return held_fail(a, true);
        unlink(path);
        if (!(a->held = fdopen(fd, "w+b"))) {
            close(fd);
            return held_fail(a, true);
        }
    }
    memset(&h, 0, sizeof h);
    h.rec = rec;
    h.n_pts = sp->n_pts;
    h.n_radar = sp->n_radar;
    h.len_id = (uint32_t)strlen(p->id) + 1;
    h.len_farmer = p->farmer_id ? (uint32_t)strlen(p->farmer_id) + 1 : 0;
    h.len_declared = p->declared_crop ? (uint32_t)strlen(p->declared_crop) + 1 : 0;
    h.area_m2 = p->area_m2;
    h.declared_area_m2 = p->declared_area_m2;
    h.lon_deg = p->lon_deg;
    h.lat_deg = p->lat_deg;
    errno = 0;
    if (fwrite(&h, sizeof h, 1, a->held) != 1 || fwrite(p->id, h.len_id, 1, a->held) != 1 ||
        (h.len_farmer && fwrite(p->farmer_id, h.len_farmer, 1, a->held) != 1) ||
        (h.len_declared && fwrite(p->declared_crop, h.len_declared, 1, a->held) != 1) ||
        (sp->n_pts && fwrite(sp->pts, sizeof *sp->pts, sp->n_pts, a->held) != sp->n_pts) ||
        (sp->n_radar && fwrite(sp->radar, sizeof *sp->radar, sp->n_radar, a->held) != sp->n_radar))
        return held_fail(a, true);
    a->n_held++;
    return PARUS_OK;
}

/* Classify the held parcels, in the order they were met, from the file. */
static parus_status held_classify(assess *a)
{
    parus_status code = PARUS_OK;
    char *text = NULL;
    parus_series_point *pts = NULL;
    parus_radar_point *radar = NULL;
    size_t cap_text = 0, cap_pts = 0, cap_radar = 0, i;
    if (!a->held)
        return PARUS_OK;
    errno = 0;
    if (fflush(a->held) != 0 || fseek(a->held, 0, SEEK_SET) != 0)
        return held_fail(a, true);
    for (i = 0; i < a->n_held && code == PARUS_OK; i++) {
        held_head h;
        parus_parcel_brief p;
        parus_season_parcel sp;
        size_t len;
        errno = 0;
        if (fread(&h, sizeof h, 1, a->held) != 1 || h.rec >= a->n_rec) {
            code = held_fail(a, false);
            break;
        }
        len = (size_t)h.len_id + h.len_farmer + h.len_declared;
        if (!grow((void **)&text, &cap_text, len, 1) ||
            !grow((void **)&pts, &cap_pts, h.n_pts ? h.n_pts : 1, sizeof *pts) ||
            !grow((void **)&radar, &cap_radar, h.n_radar ? h.n_radar : 1, sizeof *radar)) {
            code = nomem(a, "held parcels");
            break;
        }
        if (fread(text, len, 1, a->held) != 1 ||
            (h.n_pts && fread(pts, sizeof *pts, h.n_pts, a->held) != h.n_pts) ||
            (h.n_radar && fread(radar, sizeof *radar, h.n_radar, a->held) != h.n_radar)) {
            code = held_fail(a, false);
            break;
        }
        memset(&p, 0, sizeof p);
        p.id = text;
        p.farmer_id = h.len_farmer ? text + h.len_id : NULL;
        p.declared_crop = h.len_declared ? text + h.len_id + h.len_farmer : NULL;
        p.area_m2 = h.area_m2;
        p.declared_area_m2 = h.declared_area_m2;
        p.lon_deg = h.lon_deg;
        p.lat_deg = h.lat_deg;
        sp.parcel = &p;
        sp.pts = pts;
        sp.n_pts = h.n_pts;
        sp.radar = radar;
        sp.n_radar = h.n_radar;
        code = batch_add(a, (size_t)h.rec, &sp);
        if (code == PARUS_OK && a->n_items == BATCH)
            code = classify_batch(a);
    }
    if (code == PARUS_OK && a->n_items)
        code = classify_batch(a);
    free(text);
    free(pts);
    free(radar);
    fclose(a->held);
    a->held = NULL;
    return code;
}

static int visit_classify(const parus_season_parcel *sp, void *ctx)
{
    assess *a = ctx;
    const parus_parcel_brief *p = sp->parcel;
    parcel_rec *r;
    if (!grow((void **)&a->rec, &a->cap_rec, a->n_rec + 1, sizeof *a->rec)) {
        nomem(a, "parcels");
        return 1;
    }
    r = &a->rec[a->n_rec];
    memset(r, 0, sizeof *r);
    r->crop = r->grid = r->group = -1;
    r->first_day = r->last_day = NO_DAY;
    r->seen_m2 = NAN;
    r->declared_area_m2 = p->declared_area_m2;
    r->id = parus__strdup(p->id);
    r->farmer = p->farmer_id ? parus__strdup(p->farmer_id) : NULL;
    a->n_rec++;
    if (!r->id || (p->farmer_id && !r->farmer)) {
        nomem(a, "parcels");
        return 1;
    }
    if (a->ol_on) {
        bool held;
        if (ol_add_parcel(a, p, sp->pts, sp->n_pts, &held) != PARUS_OK)
            return 1;
        if (held)
            return held_put(a, a->n_rec - 1, sp) != PARUS_OK;
    }
    if (batch_add(a, a->n_rec - 1, sp) != PARUS_OK)
        return 1;
    if (a->n_items == BATCH && classify_batch(a) != PARUS_OK)
        return 1;
    return 0;
}

static int visit_retired(const char *id, const char *at, const char *source, void *ctx)
{
    assess *a = ctx;
    size_t ni = strlen(id) + 1, na = strlen(at) + 1, ns = strlen(source) + 1;
    char *rec;
    if (!grow((void **)&a->retired, &a->cap_retired, a->n_retired + 1, sizeof *a->retired) ||
        !(rec = malloc(ni + na + ns))) {
        nomem(a, "retired parcels");
        return 1;
    }
    memcpy(rec, id, ni);
    memcpy(rec + ni, at, na);
    memcpy(rec + ni + na, source, ns);
    a->retired[a->n_retired++] = rec;
    return 0;
}

static int cmp_retired(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

/* The record "ID\0WHEN\0SOURCE" of a retired parcel, or NULL. */
static const char *retired_of(const assess *a, const char *id)
{
    char *const *hit = a->n_retired
                           ? bsearch(id, a->retired, a->n_retired, sizeof *a->retired, cmp_retired)
                           : NULL;
    return hit ? *hit : NULL;
}

/* Pass 1 over the open assessments. */
static parus_status classify_pass(assess *a)
{
    size_t n_parcels = 0;
    parus_status code;
    if (a->full) {
        code = parus_store_tiles_foreach(a->store, visit_tile, a, a->err);
        if (code != PARUS_OK)
            return code;
        code = parus_store_retired_foreach(a->store, visit_retired, a, a->err);
        if (code != PARUS_OK)
            return code;
        if (a->n_tiles > 1)
            qsort(a->tiles, a->n_tiles, sizeof *a->tiles, cmp_tile);
    }
    code = ol_enabled(a, &a->ol_on);
    if (code == PARUS_OK)
        code = season_walk(a, visit_classify, &n_parcels);
    if (code == PARUS_OK && a->n_items)
        code = classify_batch(a);
    if (code == PARUS_OK && a->ol_on)
        code = ol_judge(a);
    a->ol_on = false;
    if (code == PARUS_OK)
        code = held_classify(a);
    if (code != PARUS_OK)
        return code;
    a->st.n_parcels = n_parcels;
    if (n_parcels == 0)
        return parus_fail(a->err, PARUS_E_NOT_FOUND,
                          "no parcel in the store: load parcels before assessing season %s",
                          a->window);
    return PARUS_OK;
}

/* ---- peers ---- */

static bool peer_member(const parcel_rec *r)
{
    return r->crop >= 0 && r->grid >= 0 && r->n_observed > 0;
}

static int find_group(const assess *a, int crop, int grid)
{
    size_t g;
    for (g = 0; g < a->n_groups; g++)
        if (a->groups[g].crop == crop && a->groups[g].grid == grid)
            return (int)g;
    return -1;
}

static parus_status add_group(assess *a, int crop, int grid, size_t *cap, int *index)
{
    int g = find_group(a, crop, grid);
    if (g < 0) {
        if (!grow((void **)&a->groups, cap, a->n_groups + 1, sizeof *a->groups))
            return nomem(a, "peer groups");
        memset(&a->groups[a->n_groups], 0, sizeof a->groups[a->n_groups]);
        a->groups[a->n_groups].crop = crop;
        a->groups[a->n_groups].grid = grid;
        parus_health_peers_init(&a->groups[a->n_groups].peers);
        g = (int)a->n_groups++;
    }
    *index = g;
    return PARUS_OK;
}

/* Store the NDVI band of a group's peers. */
static parus_status put_curve(assess *a, const peer_group *g)
{
    parus_peer_step *steps = malloc(a->n_steps * sizeof *steps);
    const parus_health_peers *p = &g->peers;
    parus_status code;
    size_t i;
    if (!steps)
        return nomem(a, "peer curve");
    for (i = 0; i < a->n_steps; i++) {
        double centre = (double)p->start_day + (double)i * (double)p->step_days +
                        ((double)p->step_days - 1.0) / 2.0;
        steps[i].step = i;
        format_day((int64_t)floor(centre), steps[i].day);
        steps[i].n = p->n[PARUS_HEALTH_NDVI][i];
        steps[i].ndvi_median = p->median[PARUS_HEALTH_NDVI][i];
        steps[i].ndvi_p25 = p->p25[PARUS_HEALTH_NDVI][i];
        steps[i].ndvi_p75 = p->p75[PARUS_HEALTH_NDVI][i];
    }
    code = parus_store_results_put_peer_curve(a->store, a->crop_names.s[g->crop],
                                              g->grid >= 0 ? a->grid_names.s[g->grid] : "all",
                                              steps, a->n_steps, a->err);
    free(steps);
    if (code == PARUS_OK)
        a->st.n_peer_curves++;
    return code;
}

/* Group the classified parcels, build every group's reference from the kept series, store the
 * curves. A crop's parcels in a grid where it has fewer than min_peers go to its "all" group. */
/* The q quantile of n sorted values, linear between order statistics (Hyndman and Fan type 7). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)h;
    return lo + 1 < n ? v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of the members' peak NDVI (the highest step of their regular step series, before
 * smoothing: the rule was tuned and measured on this; the parcel's own peak is its smoothed
 * series' (pheno.peak_value), a little lower as a rule), sorted so that it
 * does not depend on the members' order, and its standard error, 1.2533 sigma / sqrt(n) with
 * sigma the interquartile range / 1.349 (a normal spread's median); members without an NDVI
 * are left out. */
static void group_peak(peer_group *grp, const float *values, size_t n, size_t n_steps)
{
    double *peak = malloc((n ? n : 1) * sizeof *peak);
    size_t i, s, m = 0;
    grp->peak_ndvi_median = grp->peak_ndvi_se = NAN;
    grp->n_peak = 0;
    if (!peak)
        return;
    for (i = 0; i < n; i++) {
        const float *ndvi = values + (i * N_VARS + PARUS_HEALTH_NDVI) * n_steps;
        double best = NAN;
        for (s = 0; s < n_steps; s++) {
            double v = (double)ndvi[s];
            if (isfinite(v) && !(v <= best))
                best = v;
        }
        if (isfinite(best))
            peak[m++] = best;
    }
    if (m > 0) {
        qsort(peak, m, sizeof *peak, cmp_double);
        grp->peak_ndvi_median = m % 2 ? peak[m / 2] : 0.5 * (peak[m / 2 - 1] + peak[m / 2]);
        grp->peak_ndvi_se = 1.2533 *
                            (quantile_sorted(peak, m, 0.75) - quantile_sorted(peak, m, 0.25)) /
                            1.349 / sqrt((double)m);
        grp->n_peak = m;
    }
    free(peak);
}

/* Whether r is one of grp's peers: every parcel of the crop for a crop's "all" group (grid -1),
 * including those judged in a grid group of their own, else the crop's parcels of that grid. */
static bool in_group(const parcel_rec *r, const peer_group *grp)
{
    return peer_member(r) && r->crop == grp->crop && (grp->grid < 0 || r->grid == grp->grid);
}

/* The kept series of group g's members, read back in record order into values (N_VARS x n_steps
 * floats a member) and flags (n_steps a member), sized for n members; row is one row's buffer
 * (malloc'd, so its doubles are aligned). */
static parus_status group_rows(assess *a, const peer_group *grp, size_t n, float *values,
                               unsigned char *flags, unsigned char *row)
{
    size_t i, j, m = 0, nv = N_VARS * a->n_steps;
    for (i = 0; i < a->n_rec && m < n; i++) {
        parus_status code;
        if (!in_group(&a->rec[i], grp))
            continue;
        code = kept_io(a, false, row, a->row_bytes, i * a->row_bytes);
        if (code != PARUS_OK)
            return code;
        /* the peers were built from the series as floats: so they still are, to the bit */
        for (j = 0; j < nv; j++)
            values[m * nv + j] = (float)((const double *)(const void *)row)[j];
        memcpy(flags + m * a->n_steps, row + (nv + a->n_steps) * sizeof(double), a->n_steps);
        m++;
    }
    return PARUS_OK;
}

static parus_status peers_pass(assess *a)
{
    size_t cap_groups = 0, i, g, n_crops = a->crop_names.n, n_grids = a->grid_names.n, *count;
    size_t min_peers = a->hopt.min_peers > 0 ? a->hopt.min_peers : 1, most = 0, bytes;
    float *values = NULL;
    unsigned char *flags = NULL, *row = NULL;
    parus_status code = PARUS_OK;

    if (n_crops == 0 || n_grids == 0)
        return PARUS_OK;
    if (!(count = calloc(n_crops * n_grids, sizeof *count)))
        return nomem(a, "peer groups");
    for (i = 0; i < a->n_rec; i++)
        if (peer_member(&a->rec[i]))
            count[(size_t)a->rec[i].crop * n_grids + (size_t)a->rec[i].grid]++;
    for (i = 0; i < a->n_rec && code == PARUS_OK; i++) {
        parcel_rec *r = &a->rec[i];
        if (!peer_member(r))
            continue;
        code = add_group(a, r->crop,
                         count[(size_t)r->crop * n_grids + (size_t)r->grid] >= min_peers ? r->grid
                                                                                         : -1,
                         &cap_groups, &r->group);
    }
    free(count);
    if (code != PARUS_OK)
        return code;

    /* one group's rows at a time: memory grows with the largest group, not the parcels */
    for (g = 0; g < a->n_groups; g++) {
        for (i = 0; i < a->n_rec; i++)
            a->groups[g].n_members += in_group(&a->rec[i], &a->groups[g]);
        if (a->groups[g].n_members > most)
            most = a->groups[g].n_members;
    }
    if (!parus__mul_size(most, N_VARS * a->n_steps * sizeof *values, &bytes) ||
        !(values = malloc(bytes ? bytes : 1)) || !(flags = malloc(most * a->n_steps + 1)) ||
        !(row = malloc(a->row_bytes))) {
        free(values);
        free(flags);
        return nomem(a, "peers");
    }
    for (g = 0; g < a->n_groups && code == PARUS_OK; g++) {
        peer_group *grp = &a->groups[g];
        code = group_rows(a, grp, grp->n_members, values, flags, row);
        if (code != PARUS_OK)
            break;
        group_peak(grp, values, grp->n_members, a->n_steps);
        code =
            parus_health_peers_build_rows(&grp->peers, values, flags, grp->n_members, a->start_day,
                                          a->hopt.step_days, a->n_steps, &a->hopt, a->err);
        if (code == PARUS_OK)
            code = put_curve(a, grp);
    }
    free(values);
    free(flags);
    free(row);
    return code;
}

/* ---- pass 2: condition, area, yield ---- */

static const parus_crop *rec_crop(const assess *a, const parcel_rec *r)
{
    return r->crop >= 0 ? a->crop_row[r->crop] : NULL;
}

/* Whether the parcel's crop vouches for judging it against that crop's peers: where the model
 * gives its class less than even odds, it more likely belongs to another crop (docs/method.md,
 * section 9). */
static bool peers_vouched(const parcel_rec *r)
{
    return r->method != PARUS_ASSESS_MODEL || r->prob >= 0.5;
}

/* The floods and sudden losses radar sees (parus_health_radar_floods, parus_health_radar_losses,
 * as asked for) added to the item's health result, from its radar points with the valid share
 * the optical rules ask for, against the radar peers of its crop (radar_peers_pass). */
static parus_status radar_events(const assess *a, item *it, const parcel_rec *r,
                                 const parus_crop *crop, parus_error *err)
{
    int64_t *day;
    double *buf;
    int *pass;
    size_t i, n = it->n_rd;
    parus_status code = PARUS_OK;
    if (n == 0)
        return PARUS_OK;
    day = malloc(n * sizeof *day);
    buf = malloc(9 * n * sizeof *buf);
    pass = malloc(n * sizeof *pass);
    if (!day || !buf || !pass)
        code = parus_fail(err, PARUS_E_NOMEM, "assess: out of memory (radar events)");
    double *water = buf, *vv = buf + n, *vh = buf + 2 * n, *lvv = buf + 3 * n, *lvh = buf + 4 * n;
    double *pvv = buf + 5 * n, *pvh = buf + 6 * n, *pw = buf + 7 * n;
    for (i = 0; i < n && code == PARUS_OK; i++) {
        const parus_radar_point *pt = &a->rd_pts[it->rd0 + i];
        code = parus_series_parse_day(pt->date, &day[i], err);
        bool ok = pt->obs.valid_fraction >= a->hopt.min_valid_fraction;
        water[i] = ok ? pt->obs.radar_water_fraction : (double)NAN;
        vv[i] = ok ? pt->obs.vv : (double)NAN;
        vh[i] = ok ? pt->obs.vh : (double)NAN;
        lvv[i] = ok ? pt->obs.looks_vv : (double)NAN;
        lvh[i] = ok ? pt->obs.looks_vh : (double)NAN;
        /* the geometry and coefficient (never two passes pooled) */
        pass[i] = parus_season_radar_pass(pt);
        pvv[i] = pvh[i] = pw[i] = NAN;
        if (code == PARUS_OK && a->rpeers && r->crop >= 0)
            parus__radar_peers_get(a->rpeers, r->crop, day[i], a->hopt.min_peers, &pvv[i], &pvh[i],
                                   &pw[i]);
    }
    if (code == PARUS_OK) {
        bool peers = a->rpeers && r->crop >= 0;
        parus_health_radar_series s = {.day = day,
                                       .water = water,
                                       .vv = vv,
                                       .vh = vh,
                                       .looks_vv = lvv,
                                       .looks_vh = lvh,
                                       .pass = pass,
                                       .peer_vv = peers ? pvv : NULL,
                                       .peer_water = peers ? pw : NULL,
                                       .peer_vh = peers ? pvh : NULL,
                                       .n = n};
        if (a->hopt.radar_floods)
            code = parus_health_radar_floods(&s, crop, &a->hopt, &it->health, err);
        /* a loss is a fall against the peers: not judged against peers that may not be its own */
        if (code == PARUS_OK && a->hopt.radar_losses && peers_vouched(r))
            code = parus_health_radar_losses(&s, crop, &a->hopt, &it->health, err);
    }
    free(day);
    free(buf);
    free(pass);
    return code;
}

/* The parallel part of pass 2 for one item. */
static void judge_item(assess *a, size_t k, thread_work *w)
{
    item *it = &a->items[k];
    parcel_rec *r = &a->rec[it->rec];
    const parus_crop *crop = rec_crop(a, r);
    const parus_health_peers *peers = r->group >= 0 ? &a->groups[r->group].peers : NULL;
    const double *expected = r->crop >= 0 ? a->expected[r->crop] : NULL;
    parus_error ferr;
    parus_status code;

    code = it->row ? kept_series(a, it, w) : item_series(a, it, w);
    if (code != PARUS_OK) {
        it->st = code;
        return;
    }
    it->has_series = w->series.n_observed > 0;
    if (!it->has_series)
        return;
    code = parus_health_assess(&w->series, crop, peers, expected, &a->hopt, &it->health, &ferr);
    if (code != PARUS_OK) {
        it->st = code;
        it->err = ferr;
        return;
    }
    code = a->hopt.radar_floods || a->hopt.radar_losses ? radar_events(a, it, r, crop, &ferr)
                                                        : PARUS_OK;
    if (code != PARUS_OK) {
        it->st = code;
        it->err = ferr;
        return;
    }
    it->has_health = true;
    /* POOR is a judgement against the peers of the parcel's class, which do not vouch for it
     * being weak where they may not be its own */
    if (it->health.cls == PARUS_HEALTH_POOR && !peers_vouched(r))
        it->health.cls = PARUS_HEALTH_FAIR;
    it->partly_seen = isfinite(r->seen_m2) && r->seen_m2 < SEEN_SHARE_MIN * it->area_m2;
    code = parus_health_planted_area(
        &w->series, crop, it->partly_seen ? r->seen_m2 : it->area_m2,
        isfinite(it->declared_area_m2) ? it->declared_area_m2 / PARUS_M2_PER_MU : (double)NAN,
        &a->hopt, &it->area, &ferr);
    if (code == PARUS_OK)
        it->has_area = true;
    else if (code != PARUS_E_RANGE) {
        it->st = code;
        it->err = ferr;
        return;
    }
    it->integral_10d = w->series.pheno.integral_10d;
    it->peak_ndvi = w->series.pheno.peak_value;
    if (crop && a->weather) {
        parus_yield_weather_terms wt;
        code = parus_yield_weather(a->weather, r->id, a->start_day, a->end_day, crop, WEATHER_YEARS,
                                   &wt, &ferr);
        if (code != PARUS_OK) {
            it->st = code;
            it->err = ferr;
            return;
        }
        it->rain_deficit = wt.rain_deficit;
        it->heat_days = wt.heat_days;
        it->rain_mm = wt.rain_mm;
        it->rain_normal_mm = wt.rain_normal_mm;
        /* earlier years on the parcel's cell, next to none of this season's (not one complete
         * window of days): the weather hazards cannot be judged, which reads as none of them
         * (round 8: 119,400 -> 139,800 CNY with the season's weather never delivered) */
        it->weather_absent = !wt.no_weather && wt.n_years > 0 &&
                             wt.why == PARUS_CLIMATE_MISSING_DAYS && isnan(wt.wet_mm);
        parus_health_add_weather_events(&it->health, crop->code, crop->theat_c, wt.heat_days,
                                        wt.heat_first_day, wt.heat_last_day);
        parus_health_add_frost(&it->health, crop->code, wt.frost_days, wt.frost_min_c,
                               wt.frost_first_day, wt.frost_last_day);
        if (r->group >= 0) {
            const peer_group *grp = &a->groups[r->group];
            parus_health_drought_input din = {.rain_ratio = wt.dry_ratio,
                                              .rain_mm = wt.dry_rain_mm,
                                              .normal_mm = wt.dry_normal_mm,
                                              .first_day = wt.dry_first_day,
                                              .last_day = wt.dry_last_day,
                                              .n_years = wt.dry_n_years,
                                              .peak_ndvi = it->peak_ndvi,
                                              .peers_peak_ndvi = grp->peak_ndvi_median,
                                              .peers_peak_se = grp->peak_ndvi_se,
                                              .n_peers = grp->n_peak};
            parus_health_add_drought(&it->health, crop, &din, a->hopt.min_peers);
        }
        if (peers) {
            parus_health_waterlog_input win = {.rain_mm = wt.wet_mm,
                                               .first_day = wt.wet_first_day,
                                               .last_day = wt.wet_last_day,
                                               .clim_max_mm = wt.wet_clim_max_mm,
                                               .clim_mean_mm = wt.wet_clim_mean_mm,
                                               .n_years = wt.wet_n_years};
            parus_health_add_waterlogging(&it->health, crop, &w->series, peers, &win);
        }
    }
    if (crop && it->has_area && isfinite(it->integral_10d) && isfinite(it->peak_ndvi)) {
        parus_yield_input in;
        in.integral_10d = it->integral_10d;
        in.peak_ndvi = it->peak_ndvi;
        in.planted_area_m2 = it->area.planted_area_m2;
        in.n_clear_observations = r->n_clear;
        in.rain_deficit = it->rain_deficit;
        in.heat_days = it->heat_days;
        in.season_weather_absent = it->weather_absent;
        code = parus_yield_estimate(crop, &a->opt->yield, &in, &it->yield, &ferr);
        if (code != PARUS_OK) {
            it->st = code;
            it->err = ferr;
            return;
        }
        it->has_yield = true;
    }
}

static parus_health_class cls_of(const item *it)
{
    return it->has_health ? it->health.cls : PARUS_HEALTH_UNKNOWN;
}

static const char *reference_name(const item *it)
{
    if (!it->has_health)
        return "none";
    switch (it->health.reference) {
    case PARUS_HEALTH_REF_PEERS:
        return "peers";
    case PARUS_HEALTH_REF_CURVE:
        return "curve";
    default:
        return "none";
    }
}

static parus_status put_event(assess *a, const parcel_rec *r, const parus_health_event *e)
{
    parus_result_flag f;
    char first[11], last[11];
    format_day(e->day, first);
    format_day(e->last_day >= e->day ? e->last_day : e->day, last);
    f.season = a->window;
    f.parcel_id = r->id;
    f.flag = parus_health_flag_code(e->flag);
    f.first_date = first;
    f.last_date = last;
    f.size = isfinite(e->size) ? e->size : (double)NAN;
    f.confidence = isfinite(e->confidence) && e->confidence >= 0.0 && e->confidence <= 1.0
                       ? e->confidence
                       : (double)NAN;
    f.reason = e->reason;
    a->st.n_flags++;
    return parus_store_results_put_flag(a->store, &f, a->err);
}

/* Write one judged parcel: its result and flags; keep its credit evidence. */
static parus_status put_judged(assess *a, item *it)
{
    parcel_rec *r = &a->rec[it->rec];
    const parus_crop *crop = rec_crop(a, r);
    parus_parcel_result res;
    char first[11], last[11], flags[256], reason[400], sensors[160];
    const char *crop_name = r->crop >= 0 ? a->crop_names.s[r->crop] : NULL;
    bool declared_unknown = it->declared && !parus_crop_table_find(a->opt->crops, it->declared);
    parus_status code;
    uint32_t mask = 0;
    size_t e;

    memset(&res, 0, sizeof res);
    res.weather_rain_mm = it->rain_mm;
    res.weather_rain_normal_mm = it->rain_normal_mm;
    res.weather_rain_deficit = it->rain_deficit;
    res.weather_heat_days = it->heat_days;
    res.season = a->window;
    res.parcel_id = r->id;
    res.crop = crop_name;
    res.crop_method = (parus_assess_method)r->method;
    res.crop_confidence = r->method == PARUS_ASSESS_NONE       ? PARUS_CONFIDENCE_NONE
                          : r->method == PARUS_ASSESS_CALENDAR ? PARUS_CONFIDENCE_LOW
                                                               : PARUS_CONFIDENCE_NORMAL;
    res.crop_probability = crop_name ? r->prob : (double)NAN;
    res.n_clear_obs = r->n_clear;
    sensors_text(a, r->sensor_mask, sensors, sizeof sensors);
    res.sensors = sensors;
    if (r->first_day != NO_DAY) {
        format_day(r->first_day, first);
        format_day(r->last_day, last);
        res.first_date = first;
        res.last_date = last;
    }
    if (r->group >= 0) {
        const peer_group *g = &a->groups[r->group];
        res.peer_group = g->grid >= 0 ? a->grid_names.s[g->grid] : "all";
        res.n_peers = g->n_members;
    }
    res.health_class = parus_health_class_name(cls_of(it));
    res.health_reference = reference_name(it);
    res.health_score = it->has_health ? it->health.score : (double)NAN;
    res.green_ratio = it->has_health ? it->health.green_ratio : (double)NAN;
    if (isinf(res.green_ratio))
        res.green_ratio = NAN;
    res.area_m2 = it->area_m2;
    res.declared_area_m2 = it->declared_area_m2;
    res.planted_fraction = res.planted_area_m2 = NAN;
    res.planted_area_lo_m2 = res.planted_area_hi_m2 = NAN;
    if (it->has_area) {
        res.planted_fraction = it->area.planted_share;
        res.planted_area_m2 = it->area.planted_area_m2;
        /* the same check as the credit haircut and the health flag (parus/area.h) */
        res.planted_area_lo_m2 = it->area.planted_area_lo_m2;
        res.planted_area_hi_m2 = it->area.planted_area_hi_m2;
        parus_area_check ac =
            parus_area_compare_interval(it->area.planted_area_lo_m2, it->area.planted_area_hi_m2,
                                        it->declared_area_m2, a->opt->policy->area_tolerance);
        res.area_check = ac == PARUS_AREA_UNKNOWN ? NULL : parus_area_check_name(ac);
    }
    res.ndvi_integral_10d = it->has_series ? it->integral_10d : (double)NAN;
    res.ndvi_peak = it->has_series ? it->peak_ndvi : (double)NAN;
    res.yield_expected_kg_per_mu = res.yield_p10_kg_per_mu = res.price_cny_per_kg = NAN;
    if (crop)
        res.price_cny_per_kg = crop->price_cny_per_kg;

    /* a value, or why not: the first missing link of the chain */
    reason[0] = '\0';
    if (r->method == PARUS_ASSESS_NONE) {
        if (r->n_clear == 0) {
            snprintf(reason, sizeof reason,
                     PARUS_ASSESS_REASON_NO_CLEAR ": no clear observation in the season");
        } else {
            snprintf(reason, sizeof reason,
                     PARUS_ASSESS_REASON_NOT_CLASSIFIED ": no crop could be found (%u clear "
                                                        "observations)",
                     r->n_clear);
            r->not_classified = true;
        }
    } else if (!crop || declared_unknown) {
        snprintf(reason, sizeof reason,
                 PARUS_ASSESS_REASON_UNKNOWN_CROP ": %s crop '%s' is not in the crop table%s%s%s",
                 !crop ? "the" : "the declared", !crop ? crop_name : it->declared,
                 a->opt->crops_path ? " '" : "", a->opt->crops_path ? a->opt->crops_path : "",
                 a->opt->crops_path ? "'" : "");
        r->unknown_crop = true;
        a->st.n_unknown_crop++;
    } else if (!it->has_series) {
        snprintf(reason, sizeof reason,
                 PARUS_ASSESS_REASON_NO_CLEAR ": no observation usable for the season's series "
                                              "(hazy, or without NDVI)");
    } else if (!it->has_area) {
        snprintf(reason, sizeof reason,
                 PARUS_ASSESS_REASON_NO_AREA ": no vegetated fraction was measured in the season");
    } else if (!it->has_yield) {
        snprintf(reason, sizeof reason,
                 PARUS_ASSESS_REASON_NO_METRICS ": too little NDVI in the season for a yield");
    }
    {
        /* retired from the registry: assessed, never valued nor lent on */
        const char *ret = retired_of(a, r->id);
        if (ret) {
            const char *at = ret + strlen(ret) + 1, *src = at + strlen(at) + 1;
            snprintf(reason, sizeof reason,
                     PARUS_ASSESS_REASON_RETIRED ": retired from the registry on %.10s ('%.200s'): "
                                                 "not lent on",
                     at, src);
            a->st.n_retired++;
        }
    }
    if (!reason[0] && it->has_yield) {
        res.valued = true;
        res.yield_expected_kg_per_mu = it->yield.expected_kg_per_mu;
        res.yield_p10_kg_per_mu = it->yield.conservative_kg_per_mu;
        res.value_expected_fen = it->yield.expected_value_fen;
        res.value_p10_fen = it->yield.conservative_value_fen;
        if (it->yield.flags & PARUS_YIELD_NO_CANOPY)
            mask |= 1u << NOTE_NO_CANOPY;
        if (it->yield.flags & PARUS_YIELD_CLAMPED_LOW)
            mask |= 1u << NOTE_CLAMPED_LOW;
        if (it->yield.flags & PARUS_YIELD_CLAMPED_HIGH)
            mask |= 1u << NOTE_CLAMPED_HIGH;
        if (it->yield.flags & PARUS_YIELD_NO_WEATHER)
            mask |= 1u << NOTE_NO_WEATHER;
        if (it->yield.flags & PARUS_YIELD_BEYOND_CALIBRATION)
            mask |= 1u << NOTE_BEYOND_CALIBRATION;
    }
    if (it->has_health)
        for (e = 0; e < it->health.n_events; e++) {
            mask |= 1u << it->health.event[e].flag;
        }
    if (it->has_area && it->area.has_event)
        mask |= 1u << it->area.event.flag;
    if (it->partly_seen)
        mask |= 1u << NOTE_PARTLY_SEEN;
    /* Nothing planted, nothing to lend on: the yield model's clamped minimum (or a P10 above the
     * no-canopy line) must not give a parcel flagged NOT_PLANTED a value. */
    if (res.valued && (mask & (1u << PARUS_HEALTH_NOT_PLANTED))) {
        res.yield_expected_kg_per_mu = 0.0;
        res.yield_p10_kg_per_mu = 0.0;
        res.value_expected_fen = 0;
        res.value_p10_fen = 0;
    }
    flags_text(mask, flags, sizeof flags);
    res.flags = flags;
    res.reason = reason[0] ? reason : NULL;
    code = parus_store_results_put(a->store, &res, a->err);

    /* events, each (flag, first day) once */
    if (it->has_health)
        for (e = 0; e < it->health.n_events && code == PARUS_OK; e++) {
            const parus_health_event *ev = &it->health.event[e];
            size_t q;
            bool seen = false;
            for (q = 0; q < e; q++)
                seen = seen ||
                       (it->health.event[q].flag == ev->flag && it->health.event[q].day == ev->day);
            if (!seen)
                code = put_event(a, r, ev);
        }
    if (code == PARUS_OK && it->has_area && it->area.has_event) {
        bool seen = false;
        for (e = 0; it->has_health && e < it->health.n_events; e++)
            seen = seen || (it->health.event[e].flag == it->area.event.flag &&
                            it->health.event[e].day == it->area.event.day);
        if (!seen)
            code = put_event(a, r, &it->area.event);
    }
    if (code != PARUS_OK)
        return code;

    r->valued = res.valued;
    r->health_cls = (unsigned char)cls_of(it);
    r->flags = mask;
    r->planted_area_m2 = it->has_area ? it->area.planted_area_m2 : (double)NAN;
    r->value_expected_fen = res.valued ? res.value_expected_fen : 0;
    r->value_p10_fen = res.valued ? res.value_p10_fen : 0;
    a->st.n_valued += res.valued;

    /* the credit evidence from the very row just stored, through the mapping verify uses */
    parus__credit_parcel_of_result(
        &res,
        r->crop >= 0 && a->harvest[r->crop] != NO_DAY ? a->harvest[r->crop] : PARUS_CREDIT_NO_DAY,
        &r->credit);
    return PARUS_OK;
}

static parus_status judge_batch(assess *a)
{
    parus_status code;
    size_t k;
    int nt = a->n_threads;
    long long kk, n = (long long)a->n_items;

    PARUS_OMP(parallel for num_threads(nt) schedule(dynamic, 8))
    for (kk = 0; kk < n; kk++)
        judge_item(a, (size_t)kk, &a->work[parus__omp_thread()]);
    code = batch_error(a);
    for (k = 0; k < a->n_items && code == PARUS_OK; k++)
        code = put_judged(a, &a->items[k]);
    batch_clear(a);
    return code;
}

static int visit_judge(const parus_season_parcel *sp, void *ctx)
{
    assess *a = ctx;
    const parus_parcel_brief *p = sp->parcel;
    size_t rec = a->walk_pos++;
    if (rec >= a->n_rec || strcmp(a->rec[rec].id, p->id) != 0) {
        parus_fail(a->err, PARUS_E_INTERNAL,
                   "the second walk of season %s met parcel '%s' where the first had '%s'",
                   a->window, p->id, rec < a->n_rec ? a->rec[rec].id : "(end)");
        return 1;
    }
    if (batch_add(a, rec, sp) != PARUS_OK)
        return 1;
    if (a->n_items == BATCH && judge_batch(a) != PARUS_OK)
        return 1;
    return 0;
}

/* One parcel of the radar peers' walk: its radar points under its crop. */
static int visit_radar_peers(const parus_season_parcel *sp, void *ctx)
{
    assess *a = ctx;
    size_t rec = a->walk_pos++, n = sp->n_radar, i;
    parus_status code = PARUS_OK;
    if (rec >= a->n_rec || strcmp(a->rec[rec].id, sp->parcel->id) != 0) {
        parus_fail(a->err, PARUS_E_INTERNAL,
                   "the radar peers' walk of season %s met parcel '%s' where the first had '%s'",
                   a->window, sp->parcel->id, rec < a->n_rec ? a->rec[rec].id : "(end)");
        return 1;
    }
    if (a->rec[rec].crop < 0 || n == 0)
        return 0;
    int64_t *day = malloc(n * sizeof *day);
    double *v = malloc(3 * n * sizeof *v);
    if (!day || !v)
        code = nomem(a, "radar peers");
    for (i = 0; i < n && code == PARUS_OK; i++) {
        const parus_radar_point *pt = &sp->radar[i];
        bool ok = pt->obs.valid_fraction >= a->hopt.min_valid_fraction;
        code = parus_series_parse_day(pt->date, &day[i], a->err);
        v[i] = ok ? pt->obs.vv : (double)NAN;
        v[n + i] = ok ? pt->obs.vh : (double)NAN;
        v[2 * n + i] = ok ? pt->obs.radar_water_fraction : (double)NAN;
    }
    if (code == PARUS_OK)
        code = parus__radar_peers_add(a->rpeers, a->rec[rec].crop, day, v, v + n, v + 2 * n, n,
                                      (double)a->hopt.step_days, a->err);
    free(day);
    free(v);
    return code != PARUS_OK;
}

/* The radar rules' peer reference (radar_peers_int.h): one more walk of the season, only when a
 * radar rule is asked for and the store has radar in the season. */
static parus_status radar_peers_pass(assess *a)
{
    parus_status code;
    size_t n_radar = 0;
    if (!a->hopt.radar_floods && !a->hopt.radar_losses)
        return PARUS_OK;
    /* the radar rules, when asked for, read radar whenever the store has it in the season,
     * whatever the model uses */
    if (!a->radar) {
        code = parus_store_radar_count(a->store, a->window, &n_radar, a->err);
        if (code != PARUS_OK)
            return code;
        a->radar = n_radar > 0;
    }
    if (!a->radar)
        return PARUS_OK;
    if (!(a->rpeers = parus__radar_peers_new()))
        return nomem(a, "radar peers");
    a->walk_pos = 0;
    code = season_walk(a, visit_radar_peers, NULL);
    if (code == PARUS_OK && a->walk_pos != a->n_rec)
        code = parus_fail(a->err, PARUS_E_INTERNAL,
                          "the radar peers' walk of season %s met %zu parcels, the first %zu",
                          a->window, a->walk_pos, a->n_rec);
    return code;
}

/* Pass 2 without a walk: every record's kept series read back a batch at a time, in record
 * order, for what judging reads of the walk (the series, the areas and the declared crop), which
 * is all of it unless a radar rule wants the radar points. */
static parus_status judge_kept(assess *a)
{
    size_t rec = 0, n, k;
    parus_status code = PARUS_OK;
    while (rec < a->n_rec && code == PARUS_OK) {
        n = a->n_rec - rec < BATCH ? a->n_rec - rec : BATCH;
        code = kept_io(a, false, a->kept_batch, n * a->row_bytes, rec * a->row_bytes);
        for (k = 0; k < n && code == PARUS_OK; k++) {
            const parcel_rec *r = &a->rec[rec + k];
            item *it = &a->items[a->n_items++];
            memset(it, 0, sizeof *it);
            it->rec = rec + k;
            it->row = a->kept_batch + k * a->row_bytes;
            it->rain_deficit = it->heat_days = it->rain_mm = it->rain_normal_mm = NAN;
            it->area_m2 = r->area_m2;
            it->declared_area_m2 = r->declared_area_m2;
            if (r->declared && !(it->declared = parus__strdup(r->declared)))
                code = nomem(a, "declared crops");
        }
        code = code == PARUS_OK ? judge_batch(a) : code;
        batch_clear(a);
        rec += n;
    }
    return code;
}

static parus_status judge_pass(assess *a)
{
    parus_status code = radar_peers_pass(a);
    if (code != PARUS_OK)
        return code;
    /* the walk again only for the radar points a radar rule reads, where the season has any */
    if ((!a->hopt.radar_floods && !a->hopt.radar_losses) || !a->radar)
        return judge_kept(a);
    a->walk_pos = 0;
    code = season_walk(a, visit_judge, NULL);
    if (code == PARUS_OK && a->n_items)
        code = judge_batch(a);
    if (code == PARUS_OK && a->walk_pos != a->n_rec)
        code = parus_fail(a->err, PARUS_E_INTERNAL,
                          "the second walk of season %s met %zu parcels, the first %zu", a->window,
                          a->walk_pos, a->n_rec);
    return code;
}

/* ---- credit ---- */

/* Parcel records sorted by (farmer, walk order); qsort has no context, so the array holds
 * pointers. */
static int cmp_rec_farmer(const void *x, const void *y)
{
    const parcel_rec *p = *(const parcel_rec *const *)x, *q = *(const parcel_rec *const *)y;
    int c = strcmp(p->farmer, q->farmer);
    if (c)
        return c;
    return p < q ? -1 : p > q;
}

static bool add_fen(int64_t *sum, int64_t v)
{
    if (v > 0 && *sum > INT64_MAX - v)
        return false;
    *sum += v;
    return true;
}

static int health_rank(unsigned char cls)
{
    switch (cls) {
    case PARUS_HEALTH_GOOD:
        return 1;
    case PARUS_HEALTH_FAIR:
        return 2;
    case PARUS_HEALTH_POOR:
        return 3;
    default:
        return 0;
    }
}

/* One farmer's limit over their parcels f[0..n). */
static parus_status farmer_limit(assess *a, parcel_rec **f, size_t n, parus_credit_parcel *cp,
                                 parus_credit_parcel_result *pr)
{
    const parus_policy *pol = a->opt->policy;
    parus_credit_result cr;
    parus_limit l;
    const char *farmer = f[0]->farmer;
    int64_t debt = a->opt->debts ? parus_debts_find(a->opt->debts, farmer) : 0;
    char reasons[512], flags[256], parts[1024], latest[11], repay[11];
    double *crop_area = NULL;
    size_t main_crop = SIZE_MAX;
    int64_t latest_day = NO_DAY;
    uint32_t mask = 0, sensor_mask = 0;
    char sensors[160];
    bool any_classified = false, low = false, any_declared = false, unknown = false, notc = false;
    int worst = 0;
    size_t i;
    parus_status code;

    for (i = 0; i < n; i++) {
        cp[i] = f[i]->credit;
        cp[i].overlap_share = f[i]->overlap_share;
    }
    code = parus_credit_limit(pol, cp, n, debt, &cr, pr, a->err);
    if (code != PARUS_OK) {
        char why[sizeof a->err->msg];
        snprintf(why, sizeof why, "%s", a->err ? a->err->msg : "credit failed");
        return parus_fail(a->err, code, "the limit of farmer '%s': %s", farmer, why);
    }

    memset(&l, 0, sizeof l);
    l.season = a->window;
    l.farmer_id = farmer;
    l.limit_cny = cr.limit_cny;
    l.currency = pol->currency;
    l.n_parcels = n;
    l.planted_area_m2 = 0.0;
    l.declared_area_m2 = 0.0;
    if (a->crop_names.n && !(crop_area = calloc(a->crop_names.n, sizeof *crop_area)))
        return nomem(a, "limits");
    for (i = 0; i < n; i++) {
        const parcel_rec *r = f[i];
        if (r->valued) {
            l.n_parcels_valued++;
            if (!add_fen(&l.value_expected_fen, r->value_expected_fen) ||
                !add_fen(&l.value_p10_fen, r->value_p10_fen)) {
                free(crop_area);
                return parus_fail(a->err, PARUS_E_RANGE,
                                  "the value of farmer '%s' is above 2^63 fen", farmer);
            }
        }
        if (isfinite(r->planted_area_m2)) {
            l.planted_area_m2 += r->planted_area_m2;
            if (r->crop >= 0)
                crop_area[r->crop] += r->planted_area_m2;
        }
        if (isfinite(r->declared_area_m2)) {
            l.declared_area_m2 += r->declared_area_m2;
            any_declared = true;
        }
        if (health_rank(r->health_cls) > worst)
            worst = health_rank(r->health_cls);
        mask |= r->flags;
        if (r->method != PARUS_ASSESS_NONE)
            any_classified = true;
        if (pr[i].counted && r->method != PARUS_ASSESS_NONE &&
            (r->method == PARUS_ASSESS_CALENDAR || !(r->prob >= pol->min_confidence)))
            low = true;
        if (r->last_day != NO_DAY && (latest_day == NO_DAY || r->last_day > latest_day))
            latest_day = r->last_day;
        /* a retired parcel's crop does not matter to the limit */
        unknown = unknown || (r->unknown_crop && !cp[i].retired);
        notc = notc || (r->not_classified && !cp[i].retired);
        if (pr[i].counted)
            sensor_mask |= r->sensor_mask;
    }
    sensors_text(a, sensor_mask, sensors, sizeof sensors);
    l.sensors = sensors;
    if (!any_declared)
        l.declared_area_m2 = NAN;
    /* the largest planted area; ties to the smaller code */
    for (i = 0; crop_area && i < a->crop_names.n; i++)
        if (crop_area[i] > 0.0 && (main_crop == SIZE_MAX || crop_area[i] > crop_area[main_crop] ||
                                   (crop_area[i] == crop_area[main_crop] &&
                                    strcmp(a->crop_names.s[i], a->crop_names.s[main_crop]) < 0)))
            main_crop = i;
    if (main_crop != SIZE_MAX)
        l.main_crop = a->crop_names.s[main_crop];
    free(crop_area);
    l.health = worst == 3 ? "poor" : worst == 2 ? "fair" : worst == 1 ? "good" : "unknown";
    flags_text(mask, flags, sizeof flags);
    l.flags = flags;
    parus__limit_reasons_text(cr.reasons, unknown, notc, reasons, sizeof reasons);
    l.reasons = reasons;
    l.confidence = !any_classified ? "none" : low ? "low" : "normal";
    if (latest_day != NO_DAY) {
        format_day(latest_day, latest);
        l.latest_date = latest;
        if (!a->st.latest_date[0] || strcmp(latest, a->st.latest_date) > 0)
            memcpy(a->st.latest_date, latest, sizeof latest);
    }
    l.model_version = a->st.model_version;
    l.policy_hash = a->st.policy_hash;
    if (cr.limit_cny > 0 && cr.repayment_day != PARUS_CREDIT_NO_DAY) {
        format_day(cr.repayment_day, repay);
        l.repayment_date = repay;
    }
    l.debt_fen = debt;
    parus__credit_parts_text(&cr, parts, sizeof parts);
    l.parts = parts;
    code = parus_store_results_put_limit(a->store, &l, a->err);
    for (i = 0; i < n && code == PARUS_OK; i++) {
        char pr_reasons[256];
        parus_credit_reasons_format(pr[i].reasons, pr_reasons, sizeof pr_reasons);
        code = parus_store_results_put_credit(a->store, f[i]->id, pr[i].counted, pr[i].value_fen,
                                              pr_reasons, a->err);
    }
    if (code != PARUS_OK)
        return code;

    a->st.n_farmers++;
    a->st.n_farmers_zero += cr.limit_cny == 0;
    a->st.total_limit_cny += cr.limit_cny;
    for (i = 0; i < PARUS_CREDIT_N_REASONS; i++)
        a->st.n_reason[i] += (cr.reasons >> i) & 1u;
    a->st.n_farmers_unknown_crop += unknown;
    return PARUS_OK;
}

static parus_status credit_pass(assess *a)
{
    parcel_rec **by = NULL;
    parus_credit_parcel *cp = NULL;
    parus_credit_parcel_result *pr = NULL;
    parus_status code = PARUS_OK;
    size_t n = 0, i, j, max_n = 0;

    if (!(by = malloc((a->n_rec ? a->n_rec : 1) * sizeof *by)))
        return nomem(a, "farmers");
    for (i = 0; i < a->n_rec; i++)
        if (a->rec[i].farmer)
            by[n++] = &a->rec[i];
    qsort(by, n, sizeof *by, cmp_rec_farmer);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(by[j]->farmer, by[i]->farmer) == 0; j++)
            ;
        if (j - i > max_n)
            max_n = j - i;
    }
    if (max_n && (!(cp = malloc(max_n * sizeof *cp)) || !(pr = malloc(max_n * sizeof *pr)))) {
        code = nomem(a, "farmers");
        goto out;
    }
    for (i = 0; i < n && code == PARUS_OK; i = j) {
        for (j = i + 1; j < n && strcmp(by[j]->farmer, by[i]->farmer) == 0; j++)
            ;
        code = farmer_limit(a, by + i, j - i, cp, pr);
    }
out:
    free(by);
    free(cp);
    free(pr);
    return code;
}

/* ---- overlaps ---- */

static int cmp_rec_id(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const parcel_rec *)elem)->id);
}

/* Land two parcels claim counts once: each stored overlap takes its share off one or both parcels
 * as the policy's rule says (hold: all of both). */
static int visit_overlap(const parus_overlap *o, void *ctx)
{
    assess *a = ctx;
    parcel_rec *ra = bsearch(o->parcel_a, a->rec, a->n_rec, sizeof *a->rec, cmp_rec_id);
    parcel_rec *rb = bsearch(o->parcel_b, a->rec, a->n_rec, sizeof *a->rec, cmp_rec_id);
    parus__overlap_add(a->opt->policy->overlap, o, ra ? &ra->overlap_share : NULL,
                       rb ? &rb->overlap_share : NULL);
    return 0;
}

static parus_status overlap_pass(assess *a)
{
    return parus_store_overlaps_foreach(a->store, NULL, visit_overlap, a, &a->st.n_overlaps,
                                        a->err);
}

/* ---- debts ---- */

struct farmer_list {
    char **id;
    size_t n, cap;
    assess *a;
};

static int collect_farmer(const char *id, void *ctx)
{
    struct farmer_list *l = ctx;
    if (!grow((void **)&l->id, &l->cap, l->n + 1, sizeof *l->id) ||
        !(l->id[l->n] = parus__strdup(id))) {
        nomem(l->a, "farmers");
        return 1;
    }
    l->n++;
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The season's weather and WEATHER_YEARS years before it, read inside the transaction that writes
 * the results (after parus_store_results_begin): a weather file imported while the run was being
 * set up is either read here or waits for the commit and leaves the season stale, never read
 * neither way while the season is marked assessed. */
static parus_status open_weather(assess *a)
{
    char w0[11], w1[11];
    parus_error werr;
    parus_status code;
    format_day(a->start_day - 366 * WEATHER_YEARS - 31, w0);
    format_day(a->end_day, w1);
    parus_error_init(&werr);
    code = parus_weather_reader_open(a->store, w0, w1, &a->weather, &werr);
    if (code == PARUS_E_RANGE) {
        a->weather = NULL; /* too much to hold: parcels whose model needs it say so */
        return PARUS_OK;
    }
    if (code != PARUS_OK && a->err)
        *a->err = werr;
    return code;
}

/* Every debt must be of a farmer who has parcels: a debt of nobody lends nothing but says the
 * file and the parcels disagree. */
/* Another assessed season whose limits may rest on a harvest this one values too: one covering
 * more than half of this one (or of itself), or one whose window holds, with this one, the
 * harvest day of a crop of the table (a window of July to June beside March to October shares
 * October's maize harvest however few days it shares: a hostile review's, round 8, lent 379,800
 * and 393,700 CNY on one crop). A credit desk given both lends on that harvest twice. */
struct overlap_season {
    const assess *a;
    char season[22];
    int64_t days;
    char crop[32];     /* a crop whose harvest both windows hold; "" none */
    int64_t harvest;   /* its day */
    char h_season[22]; /* and the other season */
};

/* A harvest of a crop in the table on a day both [f1, l1] and [f2, l2] hold; 0 none. */
static int64_t shared_harvest(const parus_crop_table *crops, int64_t f1, int64_t l1, int64_t f2,
                              int64_t l2, const char **crop)
{
    int64_t lo = f1 > f2 ? f1 : f2, hi = l1 < l2 ? l1 : l2, y0, y1, y;
    int mon, d;
    size_t c;
    int k;
    if (!crops || lo > hi)
        return 0;
    parus__civil_from_days(lo, &y0, &mon, &d);
    parus__civil_from_days(hi, &y1, &mon, &d);
    for (c = 0; c < crops->n_crops; c++) {
        const parus_crop *row = &crops->crops[c];
        for (k = 0; k < row->n_cycles && k < 2; k++) {
            for (y = y0; y <= y1; y++) {
                char jan1[11];
                int64_t day;
                snprintf(jan1, sizeof jan1, "%04d-01-01", (int)y);
                day = parus__date_days(jan1) + row->cycle[k].harvest_doy - 1;
                if (day >= lo && day <= hi) {
                    *crop = row->code;
                    return day;
                }
            }
        }
    }
    return 0;
}

static int visit_season_overlap(const parus_season_state *s, void *ctx)
{
    struct overlap_season *o = ctx;
    int64_t start, first, last, shorter, days;
    size_t length;
    parus_error ignored;
    if (!s->assessed_at[0] || strcmp(s->season, o->a->window) == 0 ||
        parus_season_parse_window(s->season, &start, &length, &ignored) != PARUS_OK)
        return 0;
    first = start > o->a->start_day ? start : o->a->start_day;
    last =
        start + (int64_t)length - 1 < o->a->end_day ? start + (int64_t)length - 1 : o->a->end_day;
    days = last - first + 1;
    shorter =
        (int64_t)length < (int64_t)o->a->length_days ? (int64_t)length : (int64_t)o->a->length_days;
    if (2 * days > shorter && days > o->days) {
        snprintf(o->season, sizeof o->season, "%s", s->season);
        o->days = days;
    }
    if (!o->crop[0]) {
        const char *crop = NULL;
        int64_t h = shared_harvest(o->a->opt->crops, start, start + (int64_t)length - 1,
                                   o->a->start_day, o->a->end_day, &crop);
        if (h && crop) {
            snprintf(o->crop, sizeof o->crop, "%s", crop);
            snprintf(o->h_season, sizeof o->h_season, "%s", s->season);
            o->harvest = h;
        }
    }
    return 0;
}

static parus_status check_season_overlap(assess *a)
{
    struct overlap_season o;
    parus_status code;
    if (a->opt->season_overlap_ok)
        return PARUS_OK;
    memset(&o, 0, sizeof o);
    o.a = a;
    code = parus_store_season_states_foreach(a->store, visit_season_overlap, &o, a->err);
    if (code != PARUS_OK || (!o.days && !o.crop[0]))
        return code;
    if (!o.days) {
        char day[11];
        parus__format_day(o.harvest, day);
        return parus_fail(a->err, PARUS_E_DUPLICATE,
                          "season %s and season %s, whose limits the store holds, both hold the "
                          "harvest of %s of %s (the crop table's calendar): the same harvest "
                          "would be lent on twice; choose windows that do not share a harvest, "
                          "or give --season-overlap-ok when both are meant; nothing is stored",
                          a->window, o.h_season, o.crop, day);
    }
    return parus_fail(a->err, PARUS_E_DUPLICATE,
                      "season %s shares %lld of its days with season %s, whose limits the store "
                      "holds: the same harvest would be lent on twice (a window mistyped?); "
                      "assess season %s again instead, or give --season-overlap-ok when both "
                      "are meant (a crop year split otherwise); nothing is stored",
                      a->window, (long long)o.days, o.season, o.season);
}

static parus_status check_debts(assess *a)
{
    struct farmer_list l;
    parus_status code;
    size_t i;
    if (!a->opt->debts || a->opt->debts->n == 0)
        return PARUS_OK;
    memset(&l, 0, sizeof l);
    l.a = a;
    code = parus_store_farmers_foreach(a->store, collect_farmer, &l, NULL, a->err);
    for (i = 0; code == PARUS_OK && i < a->opt->debts->n; i++) {
        const parus_debt *d = &a->opt->debts->items[i];
        if (!bsearch(&d->farmer_id, l.id, l.n, sizeof *l.id, cmp_str))
            code = parus_fail(a->err, PARUS_E_CONFIG,
                              "'%s' line %zu: farmer '%s' has no parcel in the store: no limit "
                              "is computed until the debts file and the parcels agree",
                              a->opt->debts_path ? a->opt->debts_path : "debts", d->line,
                              d->farmer_id);
    }
    for (i = 0; i < l.n; i++)
        free(l.id[i]);
    free(l.id);
    return code;
}

/* ---- the public calls ---- */

parus_status parus_assess_classify(parus_store *store, const parus_assess_options *opt,
                                   parus_assess_stats *stats, parus_error *err)
{
    assess a;
    parus_status code;
    double t0 = now_s();

    code = setup(&a, store, opt, false, err);
    if (code == PARUS_OK)
        code = parus_store_assessments_begin(store, a.window, err);
    if (code == PARUS_OK) {
        code = classify_pass(&a);
        if (code == PARUS_OK)
            code = parus_store_assessments_commit(store, err);
        else
            parus_store_assessments_abort(store);
    }
    a.st.seconds = now_s() - t0;
    if (code == PARUS_OK && stats)
        *stats = a.st;
    teardown(&a);
    return code;
}

static void checkpoint(const parus_assess_options *opt, const char *where)
{
    if (opt->checkpoint)
        opt->checkpoint(opt->checkpoint_ctx, where);
}

parus_status parus_assess_run(parus_store *store, const parus_assess_options *opt,
                              parus_assess_stats *stats, parus_error *err)
{
    assess a;
    parus_status code;
    double t0 = now_s();

    code = setup(&a, store, opt, true, err);
    if (code == PARUS_OK)
        code = check_season_overlap(&a);
    /* the weather's weights of parcels loaded (or reshaped) since the weather was imported: a
     * parcel without them would be judged and valued as if no weather existed (no drought, no
     * frost: a larger limit). Kept as they are where the parcel and grid are unchanged */
    if (code == PARUS_OK && !opt->weights_current)
        code = parus_weather_weights_update(store, NULL, err);
    /* the parcels may have changed since they were loaded (another load, a merge): overlaps are
     * found again before any value is lent on them */
    if (code == PARUS_OK)
        code = parus_store_find_overlaps(
            store, opt->overlap_min_share > 0.0 ? opt->overlap_min_share : PARUS_OVERLAP_MIN_SHARE,
            NULL, err);
    if (code == PARUS_OK) {
        checkpoint(opt, "assess:set_up");
        code = parus_store_results_begin(store, a.window, opt->run_id, err);
    }
    if (code == PARUS_OK) {
        /* from here on the store is this run's alone until the commit: everything it rests on
         * (farmers, weather, observations) is read inside that transaction */
        code = check_debts(&a);
        if (code == PARUS_OK)
            code = open_weather(&a);
        if (code != PARUS_OK)
            parus_store_results_abort(store);
    }
    if (code == PARUS_OK) {
        checkpoint(opt, "assess:begun");
        a.ol_write = true;
        code = classify_pass(&a);
        a.ol_write = false;
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:classified");
            code = crop_info(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:crops");
            code = peers_pass(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:peers");
            code = judge_pass(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:judged");
            code = overlap_pass(&a);
            if (code == PARUS_OK)
                code = credit_pass(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:credit");
            code = tiles_audit(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:audited");
            code = put_inputs(&a);
        }
        if (code == PARUS_OK) {
            checkpoint(opt, "assess:inputs");
            code = parus_store_results_commit(store, err);
        } else {
            parus_store_results_abort(store);
        }
        if (code == PARUS_OK)
            checkpoint(opt, "assess:committed");
    }
    a.st.seconds = now_s() - t0;
    if (code == PARUS_OK && stats)
        *stats = a.st;
    teardown(&a);
    return code;
}

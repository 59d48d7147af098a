/*
 * query.c - one parcel's or one farmer's season gathered from the store (parus/query.h), for
 * `parus query` and its chart.
 *
 * The store's readers hand out borrowed rows; a view copies what it keeps into a pool of small
 * blocks it owns (one free at release), so the caller can print, serialise or draw it after the
 * store has moved on. The regular series is rebuilt from the stored observations with the health
 * stage's own function and options, so the line the analyst sees is the one the condition was
 * judged on; the peer curve is read as stored, never recomputed.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/chart.h"
#include "parus/credit.h"
#include "parus/query.h"
#include "parus/series.h"

/* ---- the pool: every string and small struct a view owns ---- */

struct blk {
    struct blk *next;
    max_align_t data[];
};

static void *pool_alloc(void **pool, size_t n)
{
    struct blk *b = malloc(sizeof *b + (n ? n : 1));
    if (!b)
        return NULL;
    b->next = *pool;
    *pool = b;
    return b->data;
}

static void pool_free(void **pool)
{
    struct blk *b = *pool;
    while (b) {
        struct blk *next = b->next;
        free(b);
        b = next;
    }
    *pool = NULL;
}

/* A copier remembers a failed allocation so a struct's strings can be copied in a row. */
struct copier {
    void **pool;
    bool failed;
};

static const char *dup(struct copier *c, const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    if (!(d = pool_alloc(c->pool, n))) {
        c->failed = true;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static void copy_result(struct copier *c, parus_parcel_result *dst, const parus_parcel_result *r)
{
    *dst = *r;
    dst->season = dup(c, r->season);
    dst->parcel_id = dup(c, r->parcel_id);
    dst->farmer_id = dup(c, r->farmer_id);
    dst->crop = dup(c, r->crop);
    dst->first_date = dup(c, r->first_date);
    dst->last_date = dup(c, r->last_date);
    dst->peer_group = dup(c, r->peer_group);
    dst->health_class = dup(c, r->health_class);
    dst->health_reference = dup(c, r->health_reference);
    dst->area_check = dup(c, r->area_check);
    dst->flags = dup(c, r->flags);
    dst->reason = dup(c, r->reason);
    dst->credit_reasons = dup(c, r->credit_reasons);
    dst->assessed_at = dup(c, r->assessed_at);
}

static void copy_limit(struct copier *c, parus_limit *dst, const parus_limit *l)
{
    *dst = *l;
    dst->season = dup(c, l->season);
    dst->farmer_id = dup(c, l->farmer_id);
    dst->currency = dup(c, l->currency);
    dst->main_crop = dup(c, l->main_crop);
    dst->health = dup(c, l->health);
    dst->flags = dup(c, l->flags);
    dst->reasons = dup(c, l->reasons);
    dst->confidence = dup(c, l->confidence);
    dst->latest_date = dup(c, l->latest_date);
    dst->model_version = dup(c, l->model_version);
    dst->policy_hash = dup(c, l->policy_hash);
    dst->repayment_date = dup(c, l->repayment_date);
    dst->parts = dup(c, l->parts);
    dst->assessed_at = dup(c, l->assessed_at);
}

static void copy_assessment(struct copier *c, parus_assessment *dst, const parus_assessment *a)
{
    *dst = *a;
    dst->season = dup(c, a->season);
    dst->parcel_id = dup(c, a->parcel_id);
    dst->crop = dup(c, a->crop);
    dst->crop2 = dup(c, a->crop2);
    dst->model_version = dup(c, a->model_version);
    dst->declared_crop = dup(c, a->declared_crop);
    dst->reason = dup(c, a->reason);
    dst->first_date = dup(c, a->first_date);
    dst->last_date = dup(c, a->last_date);
    dst->assessed_at = dup(c, a->assessed_at);
}

static void copy_flag(struct copier *c, parus_result_flag *dst, const parus_result_flag *f)
{
    *dst = *f;
    dst->season = dup(c, f->season);
    dst->parcel_id = dup(c, f->parcel_id);
    dst->flag = dup(c, f->flag);
    dst->first_date = dup(c, f->first_date);
    dst->last_date = dup(c, f->last_date);
    dst->reason = dup(c, f->reason);
}

/* ---- callbacks that copy one row ---- */

struct one_result {
    struct copier *c;
    parus_parcel_result *dst;
};

static int take_result(const parus_parcel_result *r, void *arg)
{
    struct one_result *o = arg;
    copy_result(o->c, o->dst, r);
    return 0;
}

struct one_limit {
    struct copier *c;
    parus_limit *dst;
};

static int take_limit(const parus_limit *l, void *arg)
{
    struct one_limit *o = arg;
    copy_limit(o->c, o->dst, l);
    return 0;
}

struct one_audit {
    struct copier *c;
    parus_query_audit *dst;
};

static int take_audit(const parus_assess_inputs *in, void *arg)
{
    struct one_audit *o = arg;
    o->dst->recorded = true;
    o->dst->model_version = dup(o->c, in->model_version);
    o->dst->model_data_hash = dup(o->c, in->model_data_hash);
    o->dst->crops_hash = dup(o->c, in->crops_hash);
    o->dst->policy_hash = dup(o->c, in->policy_hash);
    o->dst->debts_hash = dup(o->c, in->debts_hash);
    return 0;
}

/* The season's recorded inputs; none recorded is not an error (recorded stays false). */
static parus_status load_audit(parus_store *store, const char *season, struct copier *c,
                               parus_query_audit *dst, parus_error *err)
{
    struct one_audit o = {c, dst};
    parus_status st = parus_store_get_assess_inputs(store, season, take_audit, &o, err);
    return st == PARUS_E_NOT_FOUND ? PARUS_OK : st;
}

struct one_assessment {
    struct copier *c;
    parus_assessment *dst;
};

static int take_assessment(const parus_assessment *a, void *arg)
{
    struct one_assessment *o = arg;
    copy_assessment(o->c, o->dst, a);
    return 0;
}

struct flag_list {
    struct copier *c;
    parus_result_flag *items;
    size_t n, cap;
};

static int take_flag(const parus_result_flag *f, void *arg)
{
    struct flag_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        parus_result_flag *p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            l->c->failed = true;
            return 1;
        }
        l->items = p;
        l->cap = cap;
    }
    copy_flag(l->c, &l->items[l->n++], f);
    return 0;
}

static int count_id(const char *id, void *arg)
{
    (void)id;
    (void)arg;
    return 0;
}

/* The parcel's observations in the window. */
struct obs_list {
    int64_t first_day, last_day;
    parus_query_obs *items;
    parus_observation *obs;
    int64_t *day;
    size_t n, cap;
    bool failed;
    parus_error *err;
};

struct radar_list {
    int64_t first_day, last_day;
    parus_query_radar *items;
    size_t n, cap;
    bool failed;
    parus_error *err;
};

static int take_radar(const parus_radar_point *pt, void *arg)
{
    struct radar_list *l = arg;
    parus_query_radar *q;
    int64_t day;
    if (parus_series_parse_day(pt->date, &day, l->err) != PARUS_OK)
        return 1;
    if (day < l->first_day || day > l->last_day)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        parus_query_radar *a = realloc(l->items, cap * sizeof *a);
        if (!a) {
            l->failed = true;
            return 1;
        }
        l->items = a;
        l->cap = cap;
    }
    q = &l->items[l->n++];
    memset(q, 0, sizeof *q);
    snprintf(q->date, sizeof q->date, "%s", pt->date);
    q->day = day;
    q->tile_id = pt->tile_id;
    snprintf(q->orbit_direction, sizeof q->orbit_direction, "%s", pt->orbit_direction);
    q->relative_orbit = pt->relative_orbit;
    q->valid_fraction = pt->obs.valid_fraction;
    q->vv = pt->obs.vv;
    q->vh = pt->obs.vh;
    q->vh_vv = pt->obs.vh_vv;
    q->rvi = pt->obs.rvi;
    q->water_fraction = pt->obs.radar_water_fraction;
    q->looks_vv = pt->obs.looks_vv;
    q->se_vv = pt->obs.se_vv;
    q->se_vh = pt->obs.se_vh;
    return 0;
}

static int take_point(const parus_series_point *pt, void *arg)
{
    struct obs_list *l = arg;
    int64_t day;
    parus_query_obs *q;
    if (parus_series_parse_day(pt->date, &day, l->err) != PARUS_OK)
        return 1;
    if (day < l->first_day || day > l->last_day)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        parus_query_obs *a = realloc(l->items, cap * sizeof *a);
        parus_observation *b;
        int64_t *d;
        if (a)
            l->items = a;
        b = a ? realloc(l->obs, cap * sizeof *b) : NULL;
        if (b)
            l->obs = b;
        d = b ? realloc(l->day, cap * sizeof *d) : NULL;
        if (!d) {
            l->failed = true;
            return 1;
        }
        l->day = d;
        l->cap = cap;
    }
    q = &l->items[l->n];
    memset(q, 0, sizeof *q);
    snprintf(q->date, sizeof q->date, "%s", pt->date);
    snprintf(q->sensor, sizeof q->sensor, "%s", pt->sensor);
    q->day = day;
    q->tile_id = pt->tile_id;
    q->ndvi = pt->obs.w_valid_px > 0.0 ? pt->obs.mean[PARUS_INDEX_NDVI] : (double)NAN;
    q->valid_fraction = pt->obs.valid_fraction;
    l->obs[l->n] = pt->obs;
    l->day[l->n] = day;
    l->n++;
    return 0;
}

/* The peer curve onto the view's steps. */
struct curve_fill {
    const parus_parcel_view *v;
    double *median, *p25, *p75;
};

static int take_step(const parus_peer_step *s, void *arg)
{
    struct curve_fill *cf = arg;
    const parus_parcel_view *v = cf->v;
    int64_t day;
    size_t i;
    if (parus_series_parse_day(s->day, &day, NULL) != PARUS_OK || day < v->first_day)
        return 0;
    i = (size_t)(day - v->first_day) / v->step_days;
    /* a curve of other steps (another step length) is not drawn against these */
    if (i >= v->n_steps ||
        (double)day != floor(v->step_first_day + (double)i * (double)v->step_days))
        return 0;
    cf->median[i] = s->ndvi_median;
    cf->p25[i] = s->ndvi_p25;
    cf->p75[i] = s->ndvi_p75;
    return 0;
}

/* ---- the parcel's view ---- */

void parus_parcel_view_init(parus_parcel_view *v)
{
    memset(v, 0, sizeof *v);
}

void parus_parcel_view_release(parus_parcel_view *v)
{
    if (!v)
        return;
    parus_parcel_release(&v->parcel);
    free(v->flags);
    free(v->obs);
    free(v->radar);
    free(v->ndvi);
    free(v->flag);
    free(v->peer_median);
    free(v->peer_p25);
    free(v->peer_p75);
    free(v->rain_mm);
    free(v->rain_normal_mm);
    pool_free(&v->pool_);
    memset(v, 0, sizeof *v);
}

static parus_status parse_season(const char *season, int64_t *first, int64_t *last,
                                 parus_error *err)
{
    char a[11], b[11];
    if (!season || !parus_store_season_valid(season))
        return parus_fail(err, PARUS_E_INVALID,
                          "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD'",
                          season ? season : "");
    memcpy(a, season, 10);
    a[10] = '\0';
    memcpy(b, season + 11, 10);
    b[10] = '\0';
    if (parus_series_parse_day(a, first, err) != PARUS_OK ||
        parus_series_parse_day(b, last, err) != PARUS_OK)
        return err ? err->code : PARUS_E_INVALID;
    return PARUS_OK;
}

static parus_status nomem(parus_error *err, const char *what)
{
    return parus_fail(err, PARUS_E_NOMEM, "out of memory reading %s", what);
}

/* An outlier the assessment left out: its observation is marked with the reason and taken out of
 * the view's series, as the assessment's series had it. */
struct outlier_marks {
    struct copier *c;
    parus_parcel_view *v;
    struct obs_list *ol;
};

static int take_outlier(const parus_outlier_row *o, void *arg)
{
    struct outlier_marks *m = arg;
    size_t i;
    for (i = 0; i < m->v->n_obs; i++)
        if (m->v->obs[i].tile_id == o->tile_id && !m->v->obs[i].outlier) {
            m->v->obs[i].outlier = dup(m->c, o->reason);
            m->v->n_obs_outliers++;
            /* the series is built from ol: the observation no longer counts there */
            m->ol->obs[i].valid_fraction = 0.0;
            m->ol->obs[i].w_valid_px = 0.0;
            break;
        }
    return 0;
}

/* The regular series of the observations and which observation each step holds. */
static parus_status build_series(parus_parcel_view *t, const struct obs_list *ol,
                                 const parus_health_options *opt, parus_error *err)
{
    parus_health_series s;
    parus_status st;
    size_t i, j;

    parus_health_series_init(&s);
    st =
        parus_health_series_build(&s, opt, ol->day, ol->obs, ol->n, t->first_day, t->last_day, err);
    if (st == PARUS_E_RANGE) /* a window of fewer than 4 steps has no series */
        return PARUS_OK;
    if (st != PARUS_OK)
        return st;
    t->n_steps = s.n_steps;
    t->step_days = s.step_days;
    t->step_first_day = (double)s.start_day + ((double)s.step_days - 1.0) / 2.0;
    t->ndvi = malloc(s.n_steps * sizeof *t->ndvi);
    t->flag = malloc(s.n_steps);
    if (!t->ndvi || !t->flag) {
        parus_health_series_release(&s);
        return nomem(err, "a parcel's series");
    }
    memcpy(t->ndvi, s.ndvi_smooth, s.n_steps * sizeof *t->ndvi);
    memcpy(t->flag, s.flag, s.n_steps);
    for (j = 0; j < s.n_steps; j++) {
        if (s.flag[j] != PARUS_SERIES_OBSERVED)
            continue;
        for (i = 0; i < t->n_obs; i++)
            if (!t->obs[i].used && t->obs[i].day == s.day[j] &&
                t->obs[i].ndvi == s.v[PARUS_HEALTH_NDVI][j]) {
                t->obs[i].used = true;
                t->n_obs_used++;
                break;
            }
    }
    parus_health_series_release(&s);
    return PARUS_OK;
}

static parus_status load_peers(parus_store *store, parus_parcel_view *t, parus_error *err)
{
    struct curve_fill cf;
    parus_status st;
    size_t i, n = t->n_steps;

    if (!t->assessed || !t->result.crop || !t->result.peer_group || n == 0)
        return PARUS_OK;
    t->peer_median = malloc(n * sizeof(double));
    t->peer_p25 = malloc(n * sizeof(double));
    t->peer_p75 = malloc(n * sizeof(double));
    if (!t->peer_median || !t->peer_p25 || !t->peer_p75)
        return nomem(err, "a peer curve");
    for (i = 0; i < n; i++)
        t->peer_median[i] = t->peer_p25[i] = t->peer_p75[i] = NAN;
    cf.v = t;
    cf.median = t->peer_median;
    cf.p25 = t->peer_p25;
    cf.p75 = t->peer_p75;
    st = parus_store_get_peer_curve(store, t->season, t->result.crop, t->result.peer_group,
                                    take_step, &cf, NULL, err);
    if (st == PARUS_E_NOT_FOUND) {
        free(t->peer_median);
        free(t->peer_p25);
        free(t->peer_p75);
        t->peer_median = t->peer_p25 = t->peer_p75 = NULL;
        return PARUS_OK;
    }
    t->peer_curve_n = t->result.n_peers;
    return st;
}

parus_status parus_parcel_view_load(parus_store *store, const char *season, const char *parcel_id,
                                    const parus_health_options *opt, parus_parcel_view *v,
                                    parus_error *err)
{
    parus_health_options defaults;
    parus_parcel_view t;
    struct copier c;
    struct obs_list ol;
    struct flag_list fl;
    parus_status st;

    if (!store || !parcel_id || !v)
        return parus_fail(err, PARUS_E_INVALID, "parcel view: missing store, id or view");
    parus_parcel_view_init(&t);
    memset(&ol, 0, sizeof ol);
    memset(&fl, 0, sizeof fl);
    st = parse_season(season, &t.first_day, &t.last_day, err);
    if (st != PARUS_OK)
        return st;
    if (!opt) {
        parus_health_options_init(&defaults);
        opt = &defaults;
    }
    snprintf(t.season, sizeof t.season, "%s", season);
    c.pool = &t.pool_;
    c.failed = false;

    st = parus_store_get_parcel(store, parcel_id, &t.parcel, err);
    if (st != PARUS_OK)
        goto fail;

    {
        struct one_result o = {&c, &t.result};
        st = parus_store_get_parcel_result(store, season, parcel_id, take_result, &o, err);
        t.assessed = st == PARUS_OK;
        if (st != PARUS_OK && st != PARUS_E_NOT_FOUND)
            goto fail;
    }
    {
        struct one_assessment o = {&c, &t.assessment};
        st = parus_store_get_assessment(store, season, parcel_id, take_assessment, &o, err);
        t.has_assessment = st == PARUS_OK;
        if (st != PARUS_OK && st != PARUS_E_NOT_FOUND)
            goto fail;
    }
    if (t.assessed) {
        fl.c = &c;
        st = parus_store_parcel_flags(store, season, parcel_id, take_flag, &fl, NULL, err);
        if (st != PARUS_OK)
            goto fail;
        t.flags = fl.items;
        t.n_flags = fl.n;
        fl.items = NULL;
    }
    if (t.parcel.farmer_id) {
        struct one_limit o = {&c, &t.limit};
        st = parus_store_get_limit(store, season, t.parcel.farmer_id, take_limit, &o, err);
        t.has_limit = st == PARUS_OK;
        if (st != PARUS_OK && st != PARUS_E_NOT_FOUND)
            goto fail;
        if (t.has_limit && (st = load_audit(store, season, &c, &t.audit, err)) != PARUS_OK)
            goto fail;
        st = parus_store_farmer_parcels(store, t.parcel.farmer_id, count_id, NULL,
                                        &t.n_farmer_parcels, err);
        if (st != PARUS_OK)
            goto fail;
    }

    ol.first_day = t.first_day;
    ol.last_day = t.last_day;
    ol.err = err;
    st = parus_store_parcel_series(store, parcel_id, take_point, &ol, NULL, err);
    if (ol.failed)
        st = nomem(err, "a parcel's observations");
    if (st != PARUS_OK)
        goto fail;
    t.obs = ol.items;
    t.n_obs = ol.n;
    ol.items = NULL;
    {
        struct radar_list rl = {t.first_day, t.last_day, NULL, 0, 0, false, err};
        st = parus_store_parcel_radar_series(store, parcel_id, take_radar, &rl, NULL, err);
        if (rl.failed)
            st = nomem(err, "a parcel's radar observations");
        t.radar = rl.items;
        t.n_radar = rl.n;
        if (st != PARUS_OK)
            goto fail;
    }
    if (t.assessed) {
        struct outlier_marks m = {&c, &t, &ol};
        st = parus_store_parcel_outliers(store, season, parcel_id, take_outlier, &m, NULL, err);
        if (st != PARUS_OK)
            goto fail;
    }
    st = build_series(&t, &ol, opt, err);
    if (st == PARUS_OK)
        st = load_peers(store, &t, err);
    if (st == PARUS_OK && c.failed)
        st = nomem(err, "a parcel's view");
    if (st != PARUS_OK)
        goto fail;
    free(ol.obs);
    free(ol.day);
    parus_parcel_view_release(v);
    *v = t;
    return PARUS_OK;
fail:
    free(ol.items);
    free(ol.obs);
    free(ol.day);
    free(fl.items);
    parus_parcel_view_release(&t);
    return st;
}

parus_status parus_parcel_view_load_weather(parus_store *store, parus_parcel_view *v,
                                            const parus_crop *crop, size_t max_years,
                                            parus_error *err)
{
    parus_climate c;
    parus_climate_rain_days days;
    parus_error e;
    parus_status st;

    if (!store || !v || !v->parcel.id)
        return parus_fail(err, PARUS_E_INVALID, "weather of a view: no parcel view loaded");
    st = parus_climate_parcel_season_days(store, v->parcel.id, v->season, crop, max_years, &c,
                                          &days, &e);
    if (st != PARUS_OK && st != PARUS_E_NOT_FOUND) {
        if (err)
            *err = e;
        return st;
    }
    free(v->rain_mm);
    free(v->rain_normal_mm);
    v->rain_mm = v->rain_normal_mm = NULL;
    v->n_rain_days = 0;
    if (st == PARUS_E_NOT_FOUND) {
        v->has_weather = false;
        snprintf(v->weather_none, sizeof v->weather_none, "%.255s", e.msg);
        v->weather_crop[0] = '\0';
        return PARUS_OK;
    }
    /* the view takes the arrays over */
    v->n_rain_days = days.n_days;
    v->rain_mm = days.rain_mm;
    v->rain_normal_mm = days.normal_mm;
    v->has_weather = true;
    v->weather = c;
    v->weather_none[0] = '\0';
    snprintf(v->weather_crop, sizeof v->weather_crop, "%s", crop ? crop->code : "");
    return PARUS_OK;
}

/* ---- its chart ---- */

/* A flag that spans the whole window (the health stage dates area and not-planted flags so). */
static bool whole_season(const parus_parcel_view *v, const parus_result_flag *f)
{
    return f->first_date && f->last_date && strncmp(f->first_date, v->season, 10) <= 0 &&
           strncmp(f->last_date, v->season + 11, 10) >= 0;
}

/* The rain panel from the view's weather, when some day of the season has rain measured: the
 * legend's words from the same figures as the text's weather block. */
static void chart_rain(const parus_parcel_view *v, parus_chart *ch, char *label, char *normal_label,
                       char *note, size_t size)
{
    const parus_climate *c = &v->weather;
    const parus_climate_figure *f = &c->season.rain_mm;
    size_t i, len;
    bool any = false;

    for (i = 0; v->has_weather && v->rain_mm && i < v->n_rain_days && !any; i++)
        any = isfinite(v->rain_mm[i]);
    if (!any)
        return;
    ch->n_rain = v->n_rain_days;
    ch->rain_mm = v->rain_mm;
    ch->rain_normal_mm = v->rain_normal_mm;
    if (isfinite(f->value)) {
        snprintf(label, size, "rain %.0f mm", f->value);
        len = strlen(label);
        if (f->n_missing_days > 0)
            snprintf(label + len, size - len, " (%zu days estimated)", f->n_missing_days);
        len = strlen(label);
        if (isfinite(c->rain_pct_of_normal))
            snprintf(label + len, size - len, ", %.0f %% of normal", c->rain_pct_of_normal);
    } else {
        snprintf(label, size, "rain: no total, %zu of %zu days without a value", f->n_missing_days,
                 c->n_days);
    }
    ch->rain_label = label;
    if (v->rain_normal_mm) {
        if (isfinite(c->rain_mm_normal.mean))
            snprintf(normal_label, size, "normal %.0f mm (%zu years%s)", c->rain_mm_normal.mean,
                     c->rain_mm_normal.n_years, c->short_climatology ? ", short climatology" : "");
        else
            snprintf(normal_label, size, "normal (%zu years)", c->rain_mm_normal.n_years);
        ch->rain_normal_label = normal_label;
    } else {
        snprintf(note, size, "no normal: %zu earlier years of weather, %d needed",
                 c->rain_mm_normal.n_years, PARUS_CLIMATE_MIN_YEARS);
        ch->rain_note = note;
    }
}

parus_status parus_parcel_view_chart(const parus_parcel_view *v, const parus_crop *crop,
                                     const char *path, int width_px, int height_px,
                                     parus_error *err)
{
    parus_chart ch;
    char title[256], subtitle[384], peer_label[160], rain_label[128], normal_label[128],
        rain_note[128];
    int64_t *obs_day = NULL, *radar_day = NULL;
    double *obs_ndvi = NULL, *expected = NULL, *radar_rvi = NULL;
    unsigned char *obs_used = NULL, *radar_asc = NULL;
    parus_chart_mark *marks = NULL;
    size_t i, n_marks = 0, n_whole = 0;
    parus_status st;

    memset(&ch, 0, sizeof ch);
    if (v->assessed && v->result.crop)
        snprintf(title, sizeof title, "%s%s - %s (p %.2f, %s)", v->owed_since[0] ? "STALE " : "",
                 v->parcel.id, v->result.crop, v->result.crop_probability,
                 parus_assess_method_name(v->result.crop_method));
    else
        snprintf(title, sizeof title, "%s%s - %s", v->owed_since[0] ? "STALE " : "", v->parcel.id,
                 v->assessed ? "no crop" : "not assessed this season");
    snprintf(subtitle, sizeof subtitle,
             "farmer %s   season %s   health %s   %zu of %zu "
             "observations used",
             v->parcel.farmer_id ? v->parcel.farmer_id : "-", v->season,
             v->assessed && v->result.health_class ? v->result.health_class : "unknown",
             v->n_obs_used, v->n_obs);
    /* results the store no longer matches are said on the picture itself, which travels alone */
    if (v->owed_since[0]) {
        size_t len = strlen(subtitle);
        snprintf(subtitle + len, sizeof subtitle - len,
                 "   owed an assessment since %s: results stale", v->owed_since);
    }
    /* flags of the whole season (area, not planted) are named here, not marked at a date */
    for (i = 0; i < v->n_flags; i++)
        if (whole_season(v, &v->flags[i])) {
            size_t len = strlen(subtitle);
            snprintf(subtitle + len, sizeof subtitle - len, "%s%s", n_whole++ ? ", " : "   ",
                     v->flags[i].flag);
        }
    ch.title = title;
    ch.subtitle = subtitle;
    ch.first_day = v->first_day;
    ch.last_day = v->last_day;

    if (v->n_obs > 0) {
        obs_day = malloc(v->n_obs * sizeof *obs_day);
        obs_ndvi = malloc(v->n_obs * sizeof *obs_ndvi);
        obs_used = malloc(v->n_obs);
        if (!obs_day || !obs_ndvi || !obs_used) {
            st = nomem(err, "a chart");
            goto out;
        }
        for (i = 0; i < v->n_obs; i++) {
            obs_day[i] = v->obs[i].day;
            obs_ndvi[i] = v->obs[i].ndvi;
            obs_used[i] = v->obs[i].used;
        }
    }
    ch.n_obs = v->n_obs;
    ch.obs_day = obs_day;
    ch.obs_ndvi = obs_ndvi;
    ch.obs_used = obs_used;

    ch.n_steps = v->n_steps;
    ch.step_first_day = v->step_first_day;
    ch.step_days = (double)v->step_days;
    ch.ndvi = v->ndvi;
    ch.step_flag = v->flag;
    ch.peer_median = v->peer_median;
    ch.peer_lo = v->peer_p25;
    ch.peer_hi = v->peer_p75;
    if (v->peer_median) {
        snprintf(peer_label, sizeof peer_label, "peers: %s, %zu parcels (%s)", v->result.crop,
                 v->peer_curve_n, v->result.peer_group);
        ch.peer_label = peer_label;
    }
    if (crop && v->n_steps > 0) {
        if (!(expected = malloc(v->n_steps * sizeof *expected))) {
            st = nomem(err, "a chart");
            goto out;
        }
        for (i = 0; i < v->n_steps; i++) {
            double centre = v->step_first_day + (double)i * (double)v->step_days;
            expected[i] =
                parus_crop_expected_ndvi(crop, parus_series_day_of_year((int64_t)floor(centre)));
        }
        ch.expected = expected;
    }
    if (v->n_flags > 0) {
        if (!(marks = malloc(v->n_flags * sizeof *marks))) {
            st = nomem(err, "a chart");
            goto out;
        }
        for (i = 0; i < v->n_flags; i++) {
            int64_t day;
            if (whole_season(v, &v->flags[i]) ||
                parus_series_parse_day(v->flags[i].first_date, &day, NULL) != PARUS_OK)
                continue;
            marks[n_marks].day = (double)day;
            marks[n_marks++].label = v->flags[i].flag;
        }
    }
    if (v->n_radar > 0) {
        radar_day = malloc(v->n_radar * sizeof *radar_day);
        radar_rvi = malloc(v->n_radar * sizeof *radar_rvi);
        radar_asc = malloc(v->n_radar);
        if (!radar_day || !radar_rvi || !radar_asc) {
            st = nomem(err, "a chart");
            goto out;
        }
        for (i = 0; i < v->n_radar; i++) {
            radar_day[i] = v->radar[i].day;
            radar_rvi[i] = v->radar[i].rvi;
            radar_asc[i] = strcmp(v->radar[i].orbit_direction, "ASCENDING") == 0;
        }
    }
    ch.n_radar = v->n_radar;
    ch.radar_day = radar_day;
    ch.radar_rvi = radar_rvi;
    ch.radar_ascending = radar_asc;
    ch.n_marks = n_marks;
    ch.marks = marks;
    chart_rain(v, &ch, rain_label, normal_label, rain_note, sizeof rain_label);
    st = parus_chart_write_png(&ch, path, width_px, height_px, err);
out:
    free(radar_day);
    free(radar_rvi);
    free(radar_asc);
    free(obs_day);
    free(obs_ndvi);
    free(obs_used);
    free(expected);
    free(marks);
    return st;
}

/* ---- a farmer's view ---- */

void parus_farmer_view_init(parus_farmer_view *v)
{
    memset(v, 0, sizeof *v);
}

void parus_farmer_view_release(parus_farmer_view *v)
{
    if (!v)
        return;
    free(v->parcels);
    pool_free(&v->pool_);
    memset(v, 0, sizeof *v);
}

struct id_list {
    struct copier *c;
    parus_farmer_parcel *items;
    size_t n, cap;
};

static int take_id(const char *id, void *arg)
{
    struct id_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        parus_farmer_parcel *p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            l->c->failed = true;
            return 1;
        }
        l->items = p;
        l->cap = cap;
    }
    memset(&l->items[l->n], 0, sizeof l->items[l->n]);
    l->items[l->n++].parcel_id = dup(l->c, id);
    return 0;
}

parus_status parus_farmer_view_load(parus_store *store, const char *season, const char *farmer_id,
                                    parus_farmer_view *v, parus_error *err)
{
    parus_farmer_view t;
    struct copier c;
    struct id_list il;
    int64_t first, last;
    parus_status st;
    size_t i;

    if (!store || !farmer_id || !v)
        return parus_fail(err, PARUS_E_INVALID, "farmer view: missing store, id or view");
    st = parse_season(season, &first, &last, err);
    if (st != PARUS_OK)
        return st;
    parus_farmer_view_init(&t);
    memset(&il, 0, sizeof il);
    snprintf(t.season, sizeof t.season, "%s", season);
    c.pool = &t.pool_;
    c.failed = false;
    il.c = &c;
    t.farmer_id = dup(&c, farmer_id);

    st = parus_store_farmer_parcels(store, farmer_id, take_id, &il, NULL, err);
    if (c.failed)
        st = nomem(err, "a farmer's parcels");
    if (st != PARUS_OK)
        goto fail;
    t.parcels = il.items;
    t.n_parcels = il.n;
    il.items = NULL;
    if (t.n_parcels == 0) {
        st =
            parus_fail(err, PARUS_E_NOT_FOUND, "farmer '%s' has no parcel in the store", farmer_id);
        goto fail;
    }
    {
        struct one_limit o = {&c, &t.limit};
        st = parus_store_get_limit(store, season, farmer_id, take_limit, &o, err);
        t.has_limit = st == PARUS_OK;
        if (st != PARUS_OK && st != PARUS_E_NOT_FOUND)
            goto fail;
        if (t.has_limit && (st = load_audit(store, season, &c, &t.audit, err)) != PARUS_OK)
            goto fail;
    }
    for (i = 0; i < t.n_parcels; i++) {
        struct one_result o = {&c, &t.parcels[i].result};
        st = parus_store_get_parcel_result(store, season, t.parcels[i].parcel_id, take_result, &o,
                                           err);
        t.parcels[i].assessed = st == PARUS_OK;
        if (st == PARUS_OK)
            t.n_assessed++;
        else if (st != PARUS_E_NOT_FOUND)
            goto fail;
    }
    if (c.failed) {
        st = nomem(err, "a farmer's view");
        goto fail;
    }
    parus_farmer_view_release(v);
    *v = t;
    return PARUS_OK;
fail:
    free(il.items);
    parus_farmer_view_release(&t);
    return st;
}

/* ---- reason codes ---- */

static const struct {
    const char *code, *text;
} assess_reasons[] = {
    {"NO_CLEAR_OBSERVATION", "no clear observation of the parcel in the season"},
    {"NOT_CLASSIFIED", "the parcel was observed but no crop could be assigned"},
    {"UNKNOWN_CROP", "the parcel's crop is not in the crop table: no price, no value"},
    {"NO_PLANTED_AREA", "no vegetated fraction was measured: no planted area"},
    {"NO_SEASON_METRICS", "too little NDVI over the season for a yield"},
};

const char *parus_query_reason_text(const char *code)
{
    size_t i;
    parus_health_flag f;
    if (!code)
        return NULL;
    for (i = 0; i < PARUS_CREDIT_N_REASONS; i++)
        if (strcmp(code, parus_credit_reason_name((parus_credit_reason)i)) == 0)
            return parus_credit_reason_text((parus_credit_reason)i);
    for (i = 0; i < sizeof assess_reasons / sizeof assess_reasons[0]; i++)
        if (strcmp(code, assess_reasons[i].code) == 0)
            return assess_reasons[i].text;
    f = parus_health_flag_from_code(code);
    return f != PARUS_HEALTH_NONE ? parus_health_flag_text(f) : NULL;
}

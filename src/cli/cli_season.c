/*
 * cli_season.c - what the season commands (train, classify, assess) share: the classifier's
 * dataset built from the store, every labelled parcel's season features (parus/season.h) or every
 * imported sample's. Where the tables and the season window come from is in cli_window.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parus/season.h"
#include "parus/series.h"

#include "cli_season.h"

parus_status cli_points_to_obs(const parus_season_spec *spec, const parus_series_point *pts,
                               size_t n_pts, size_t room, parus_season_obs **buf, size_t *cap,
                               parus_error *err)
{
    parus_season_sources src;
    size_t i;
    if (room < n_pts)
        room = n_pts;
    if (room > *cap) {
        size_t want = room < 64 ? 64 : room * 2;
        parus_season_obs *p = realloc(*buf, want * sizeof *p);
        if (!p)
            return parus_fail(err, PARUS_E_NOMEM, "out of memory reading a season");
        *buf = p;
        *cap = want;
    }
    parus_season_sources_init(spec, &src);
    for (i = 0; i < n_pts; i++) {
        int64_t day;
        parus_status st = parus_series_parse_day(pts[i].date, &day, err);
        if (st != PARUS_OK)
            return st;
        parus_season_obs_from_sources(&src, day, &pts[i].obs, &(*buf)[i]);
    }
    return PARUS_OK;
}

/* ---- a dataset from labelled rows ---- */

struct rows {
    size_t n, cap, n_features;
    double *x;
    char **label;
    int *fold;
    bool *thinned; /* a thinned copy (cli_thinning): not a sample of its own */
};

static void rows_release(struct rows *r)
{
    size_t i;
    for (i = 0; i < r->n; i++)
        free(r->label[i]);
    free(r->x);
    free(r->label);
    free(r->fold);
    free(r->thinned);
    memset(r, 0, sizeof *r);
}

static parus_status rows_add(struct rows *r, const double *x, const char *label, int fold,
                             bool thinned, parus_error *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        double *nx;
        if (cap < r->cap || cap > SIZE_MAX / sizeof *nx / (r->n_features ? r->n_features : 1))
            return parus_fail(err, PARUS_E_NOMEM, "dataset too large: %zu rows", r->n);
        nx = realloc(r->x, cap * r->n_features * sizeof *nx);
        char **nl;
        int *nf;
        bool *nt;
        if (!nx)
            return parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        r->x = nx;
        if (!(nl = realloc(r->label, cap * sizeof *nl)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        r->label = nl;
        if (!(nf = realloc(r->fold, cap * sizeof *nf)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        r->fold = nf;
        if (!(nt = realloc(r->thinned, cap * sizeof *nt)))
            return parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        r->thinned = nt;
        r->cap = cap;
    }
    if (!(r->label[r->n] = strdup(label)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
    memcpy(r->x + r->n * r->n_features, x, r->n_features * sizeof *x);
    r->fold[r->n] = fold;
    r->thinned[r->n] = thinned;
    r->n++;
    return PARUS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Classes: the distinct labels, sorted; each needs two samples (thinned copies do not count).
 * The feature matrix and the folds move from r into *ds (on success; r keeps them otherwise):
 * a season's rows are the largest thing a training holds, and a second copy of them would double
 * its memory. */
static parus_status rows_to_dataset(struct rows *r, const parus_season_spec *spec, bool with_folds,
                                    const char *what, parus_dataset *ds, parus_error *err)
{
    char **classes = NULL, **fnames = NULL;
    size_t n_classes = 0, i, j, *count = NULL, *label = NULL;
    parus_status st = PARUS_OK;
    parus_dataset tmp;

    if (r->n == 0)
        return parus_fail(err, PARUS_E_RANGE, "%s: no labelled sample with a clear observation",
                          what);
    if (!(classes = malloc(r->n * sizeof *classes)) ||
        !(fnames = calloc(r->n_features, sizeof *fnames)) ||
        !(count = calloc(r->n, sizeof *count)) || !(label = malloc(r->n * sizeof *label))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        goto out;
    }
    memcpy(classes, r->label, r->n * sizeof *classes);
    qsort(classes, r->n, sizeof *classes, cmp_str);
    for (i = 0; i < r->n; i++)
        if (n_classes == 0 || strcmp(classes[n_classes - 1], classes[i]) != 0)
            classes[n_classes++] = classes[i];
    for (i = 0; i < r->n; i++) {
        char **hit = bsearch(&r->label[i], classes, n_classes, sizeof *classes, cmp_str);
        label[i] = (size_t)(hit - classes);
        count[label[i]] += !r->thinned[i];
    }
    for (i = 0; i < n_classes; i++)
        if (count[i] < 2) {
            st = parus_fail(err, PARUS_E_RANGE,
                            "%s: class '%s' has %zu sample: a class needs at least two", what,
                            classes[i], count[i]);
            goto out;
        }
    if (n_classes < 2) {
        st = parus_fail(err, PARUS_E_RANGE, "%s: one class only ('%s'): nothing to tell apart",
                        what, classes[0]);
        goto out;
    }
    for (j = 0; j < r->n_features; j++) {
        char name[128];
        parus_season_feature_name(spec, j, name, sizeof name);
        if (!(fnames[j] = strdup(name))) {
            st = parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
            goto out;
        }
    }
    parus_dataset_init(&tmp);
    st = parus_dataset_setup(&tmp, (const char *const *)fnames, r->n_features,
                             (const char *const *)classes, n_classes, with_folds, err);
    if (st != PARUS_OK)
        goto out;
    /* rows_add grew r->x geometrically: give back what no row uses (a move, never a copy, for a
     * block this size) */
    {
        double *x = realloc(r->x, r->n * r->n_features * sizeof *x);
        if (x)
            r->x = x;
    }
    tmp.x = r->x;
    tmp.label = label;
    if (with_folds) {
        free(tmp.fold);
        tmp.fold = r->fold;
        r->fold = NULL;
    }
    tmp.n_samples = tmp.cap_samples_ = r->n;
    r->x = NULL;
    label = NULL;
    *ds = tmp;
out:
    if (fnames)
        for (j = 0; j < r->n_features; j++)
            free(fnames[j]);
    free(fnames);
    free(classes);
    free(count);
    free(label);
    return st;
}

/* ---- from the store's parcels ---- */

struct parcel_walk {
    const parus_season_spec *spec;
    int64_t start_day;
    const cli_labels *labels; /* NULL: the declared crops */
    const cli_thinning *thin; /* NULL: no thinned copies */
    struct rows rows;
    parus_season_obs *obs, *thinned;
    size_t cap, thinned_cap;
    double *features;
    parus_season_work work;
    parus_season_sources sources;
    cli_dataset_stats *stats;
    parus_error *err;
};

const char *cli_labels_find(const cli_labels *l, const char *id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->id[mid], id);
        if (c == 0)
            return l->crop[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A uniform draw in [0, 1) from the parcel id's hash, a day and a copy number (splitmix64's
 * finaliser over the three mixed): no state, so no order or thread dependence. */
static double thin_draw(uint64_t id_hash, int64_t day, unsigned copy)
{
    uint64_t z = id_hash ^ ((uint64_t)day * 0x9E3779B97F4A7C15u) ^ ((uint64_t)copy << 40);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* The thinned copies of the parcel whose observations are w->obs[0..n_obs), the optical ones
 * first and its radar ones from n_optical on (cli_thinning): the optical observations are thinned;
 * the radar ones, which clouds do not touch, are kept, except in the last copy, which has none
 * (a parcel the radar missed), so that the model learns to do without them. */
static int add_thinned(struct parcel_walk *w, const char *id, size_t n_obs, size_t n_optical,
                       const char *label)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a of the id */
    parus_season_info info;
    parus_error ferr;
    if (n_obs > w->thinned_cap) {
        parus_season_obs *p = realloc(w->thinned, n_obs * sizeof *p);
        if (!p) {
            parus_fail(w->err, PARUS_E_NOMEM, "out of memory thinning a season");
            return 1;
        }
        w->thinned = p;
        w->thinned_cap = n_obs;
    }
    for (const char *c = id; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211u;
    for (unsigned k = 1; k <= w->thin->n_copies; k++) {
        for (size_t j = 0; j < n_obs; j++) {
            w->thinned[j] = w->obs[j];
            if (j < n_optical ? thin_draw(h, w->obs[j].day, k) < w->thin->drop
                              : k == w->thin->n_copies)
                w->thinned[j].valid_fraction = NAN; /* not clear */
        }
        parus_status st = parus_season_features(w->spec, w->start_day, w->thinned, n_obs,
                                                w->features, &info, &w->work, &ferr);
        if (st == PARUS_E_RANGE)
            continue; /* nothing clear left in this copy */
        if (st != PARUS_OK) {
            *w->err = ferr;
            return 1;
        }
        if (rows_add(&w->rows, w->features, label, 0, true, w->err) != PARUS_OK)
            return 1;
        w->stats->n_thinned++;
    }
    return 0;
}

static int parcel_visit(const parus_season_parcel *sp, void *arg)
{
    struct parcel_walk *w = arg;
    const parus_parcel_brief *p = sp->parcel;
    const char *label = w->labels ? cli_labels_find(w->labels, p->id) : p->declared_crop;
    parus_season_info info;
    parus_error ferr;
    parus_status st;
    size_t n_obs = sp->n_pts, n_radar = 0;

    w->stats->n_parcels++;
    if (!label)
        return 0;
    w->stats->n_labelled++;
    if (cli_points_to_obs(w->spec, sp->pts, sp->n_pts, sp->n_pts + sp->n_radar, &w->obs, &w->cap,
                          w->err) != PARUS_OK)
        return 1;
    if (sp->n_radar) {
        if (parus_season_radar_obs(&w->sources, sp->radar, sp->n_radar, w->obs + sp->n_pts,
                                   &n_radar, &w->work, w->err) != PARUS_OK)
            return 1;
        n_obs += n_radar;
    }
    st = parus_season_features(w->spec, w->start_day, w->obs, n_obs, w->features, &info, &w->work,
                               &ferr);
    if (st == PARUS_E_RANGE) {
        w->stats->n_no_clear++;
        return 0;
    }
    if (st != PARUS_OK) {
        *w->err = ferr;
        return 1;
    }
    if (rows_add(&w->rows, w->features, label, 0, false, w->err) != PARUS_OK)
        return 1;
    return w->thin && w->thin->n_copies > 0 ? add_thinned(w, p->id, n_obs, sp->n_pts, label) : 0;
}

parus_status cli_store_dataset(parus_store *store, const parus_season_spec *spec,
                               const char *window, int64_t start_day, const cli_labels *labels,
                               const cli_thinning *thin, parus_dataset *ds,
                               cli_dataset_stats *stats, parus_error *err)
{
    struct parcel_walk w;
    parus_status st;

    memset(&w, 0, sizeof w);
    memset(stats, 0, sizeof *stats);
    w.spec = spec;
    w.start_day = start_day;
    w.labels = labels;
    w.thin = thin;
    w.stats = stats;
    w.err = err;
    w.rows.n_features = parus_season_n_features(spec);
    parus_season_work_init(&w.work);
    if (!(w.features = malloc(w.rows.n_features * sizeof *w.features))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
        goto out;
    }
    parus_season_sources_init(spec, &w.sources);
    st = parus_store_season_walk_all(store, window, parus_season_spec_has_radar(spec), parcel_visit,
                                     &w, NULL, err);
    if (st == PARUS_OK)
        st = rows_to_dataset(&w.rows, spec, false, "train", ds, err);
out:
    rows_release(&w.rows);
    parus_season_work_release(&w.work);
    free(w.features);
    free(w.obs);
    free(w.thinned);
    return st;
}

/* ---- from imported samples ---- */

struct sample_walk {
    parus_season_spec *spec; /* vars fixed by the first sample when the spec has none */
    struct rows rows;
    parus_season_obs *obs;
    size_t cap;
    double *features;
    parus_season_work work;
    bool with_folds;
    cli_dataset_stats *stats;
    parus_error *err;
};

static int sample_visit(const parus_sample *s, void *arg)
{
    struct sample_walk *w = arg;
    size_t i, n_obs = 0;
    int64_t start_day, day;
    parus_season_info info;
    parus_error ferr;
    parus_status st;
    int fold = 0;

    w->stats->n_parcels++;
    if (!s->label || s->n_points == 0)
        return 0;
    w->stats->n_labelled++;
    if (w->spec->n_vars == 0) {
        /* the variables of the first sample, in the order of its first date's points */
        for (i = 0; i < s->n_points && w->spec->n_vars < PARUS_SEASON_MAX_VARS; i++) {
            if (i > 0 && strcmp(s->points[i].date, s->points[0].date) != 0)
                break;
            snprintf(w->spec->vars[w->spec->n_vars++], PARUS_SEASON_VAR_NAME_MAX, "%s",
                     s->points[i].var);
        }
        if (parus_season_var_index(w->spec, "ndvi") == SIZE_MAX)
            w->spec->phenology_var[0] = '\0';
        if (parus_season_spec_check(w->spec, w->err) != PARUS_OK)
            return 1;
        w->rows.n_features = parus_season_n_features(w->spec);
        if (!(w->features = malloc(w->rows.n_features * sizeof *w->features))) {
            parus_fail(w->err, PARUS_E_NOMEM, "out of memory building a dataset");
            return 1;
        }
    }
    if (w->with_folds) {
        char *end;
        long v = s->group ? strtol(s->group, &end, 10) : -1;
        if (!s->group || *end || v < 0 || v > 1000000) {
            parus_fail(w->err, PARUS_E_INVALID,
                       "sample '%s': group '%s' is not a fold number (0, 1, 2 ...)", s->id,
                       s->group ? s->group : "");
            return 1;
        }
        fold = (int)v;
    }
    if (s->n_points > w->cap) {
        size_t want = s->n_points * 2;
        parus_season_obs *p = realloc(w->obs, want * sizeof *p);
        if (!p) {
            parus_fail(w->err, PARUS_E_NOMEM, "out of memory building a dataset");
            return 1;
        }
        w->obs = p;
        w->cap = want;
    }
    /* points come in (date, var) order: one observation per date */
    for (i = 0; i < s->n_points; i++) {
        size_t k = parus_season_var_index(w->spec, s->points[i].var);
        if (n_obs == 0 || strcmp(s->points[i].date, s->points[i - 1].date) != 0) {
            size_t v;
            if (parus_series_parse_day(s->points[i].date, &day, w->err) != PARUS_OK)
                return 1;
            w->obs[n_obs].day = day;
            w->obs[n_obs].valid_fraction = 1.0;
            for (v = 0; v < PARUS_SEASON_MAX_VARS; v++)
                w->obs[n_obs].value[v] = NAN;
            n_obs++;
        }
        if (k != SIZE_MAX)
            w->obs[n_obs - 1].value[k] = s->points[i].value;
    }
    if (s->start_date[0]) {
        if (parus_series_parse_day(s->start_date, &start_day, w->err) != PARUS_OK)
            return 1;
    } else {
        start_day = w->obs[0].day;
    }
    st = parus_season_features(w->spec, start_day, w->obs, n_obs, w->features, &info, &w->work,
                               &ferr);
    if (st == PARUS_E_RANGE) {
        w->stats->n_no_clear++;
        return 0;
    }
    if (st != PARUS_OK) {
        *w->err = ferr;
        return 1;
    }
    return rows_add(&w->rows, w->features, s->label, fold, false, w->err) != PARUS_OK;
}

parus_status cli_samples_dataset(parus_store *store, parus_season_spec *spec, bool with_folds,
                                 parus_dataset *ds, cli_dataset_stats *stats, parus_error *err)
{
    struct sample_walk w;
    parus_status st;

    memset(&w, 0, sizeof w);
    memset(stats, 0, sizeof *stats);
    w.spec = spec;
    w.with_folds = with_folds;
    w.stats = stats;
    w.err = err;
    if (spec->n_vars) {
        w.rows.n_features = parus_season_n_features(spec);
        if (!(w.features = malloc(w.rows.n_features * sizeof *w.features))) {
            st = parus_fail(err, PARUS_E_NOMEM, "out of memory building a dataset");
            goto out;
        }
    }
    parus_season_work_init(&w.work);
    st = parus_store_samples_walk(store, sample_visit, &w, err);
    if (st == PARUS_OK)
        st = rows_to_dataset(&w.rows, spec, with_folds, "samples", ds, err);
    parus_season_work_release(&w.work);
out:
    rows_release(&w.rows);
    free(w.features);
    free(w.obs);
    return st;
}

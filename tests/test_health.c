/* test_health.c - condition, event flags and planted area: hand-built series for every flag and
 * its look-alikes (harvest, a drop the peers share, dry-season water), the peer reference and the
 * planted area on hand numbers, and the synthetic acceptance: parus-synth seasons with injected
 * floods and sudden losses, through parcels load, ingest and the store, scored against the truth.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health_int.h"
#include "radar_peers_int.h"
#include "test_support.h"

#include "parus/crops.h"
#include "parus/area.h"
#include "parus/health.h"
#include "parus/parcels.h"
#include "parus/series.h"
#include "parus/store.h"

/* ---- hand-built series ---- */

#define N_STEPS 24
#define N_PEERS 8

static int64_t day_of(const char *date)
{
    int64_t d = 0;
    assert_int_equal(parus_series_parse_day(date, &d, NULL), PARUS_OK);
    return d;
}

/* A summer maize row as the crop table has it (sown 13 June, peak mid-August, harvest late
 * September). */
static parus_crop maize(void)
{
    parus_crop c;
    memset(&c, 0, sizeof c);
    snprintf(c.code, sizeof c.code, "summer_maize");
    c.kind = PARUS_CROP_ANNUAL;
    c.n_cycles = 1;
    c.cycle[0].sow_doy = 165;
    c.cycle[0].peak_doy = 228;
    c.cycle[0].harvest_doy = 270;
    c.ndvi_base = 0.18;
    c.ndvi_peak = 0.85;
    return c;
}

/* The maize curve at day of year doy: green-up half done on day 200, senescence on day 255. */
static double maize_ndvi(int doy)
{
    double up = 1.0 / (1.0 + exp(-(doy - 200) / 7.0)), down = 1.0 / (1.0 + exp((doy - 255) / 6.0));
    return 0.18 + 0.67 * up * down;
}

/* Fill every variable of step i from an NDVI as a canopy-soil mixture would have them. */
static void set_step(parus_health_series *s, size_t i, double ndvi)
{
    double f = (ndvi - 0.18) / 0.67; /* canopy cover */
    s->v[PARUS_HEALTH_NDVI][i] = ndvi;
    s->v[PARUS_HEALTH_NDWI][i] = -0.29 - 0.44 * f;
    s->v[PARUS_HEALTH_MNDWI][i] = -0.43 - 0.09 * f;
    s->v[PARUS_HEALTH_NDMI][i] = -0.16 + 0.50 * f;
    s->v[PARUS_HEALTH_VEG][i] = f < 0.1 ? 0.0 : f > 0.3 ? 1.0 : (f - 0.1) / 0.2;
    s->v[PARUS_HEALTH_WATER][i] = 0.0;
    s->v[PARUS_HEALTH_SWIR1][i] = 0.30 - 0.08 * f;
    s->flag[i] = PARUS_SERIES_OBSERVED;
}

/* A season of 24 ten-day steps from 5 March 2024, every step observed on its first day, NDVI
 * from maize_ndvi shifted by shift_days and scaled around the base by gain, plus offset. */
static void make_season(parus_health_series *s, double shift_days, double gain, double offset)
{
    int64_t start = day_of("2024-03-05");
    assert_int_equal(parus_health_series_alloc(s, start, 10, N_STEPS, NULL), PARUS_OK);
    for (size_t i = 0; i < N_STEPS; i++) {
        s->day[i] = start + 10 * (int64_t)i;
        int doy = parus_series_day_of_year(s->day[i]);
        double v = 0.18 + gain * (maize_ndvi((int)lround(doy - shift_days)) - 0.18) + offset;
        set_step(s, i, v);
    }
}

static size_t step_of(const parus_health_series *s, const char *date)
{
    int64_t d = day_of(date);
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->day[i] == d)
            return i;
    fail_msg("no step on %s", date);
    return 0;
}

typedef struct peer_set {
    parus_health_series m[N_PEERS];
    const parus_health_series *p[N_PEERS];
    parus_health_peers peers;
} peer_set;

/* Eight maize fields sown a few days apart, a little more or less green. */
static void make_peers(peer_set *ps, const parus_health_options *opt)
{
    for (size_t k = 0; k < N_PEERS; k++) {
        parus_health_series_init(&ps->m[k]);
        make_season(&ps->m[k], (double)k - 3.5, 0.96 + 0.01 * (double)k, 0.0);
        parus_health_series_finish(&ps->m[k], opt);
        ps->p[k] = &ps->m[k];
    }
    parus_health_peers_init(&ps->peers);
    assert_int_equal(parus_health_peers_build(&ps->peers, ps->p, N_PEERS, opt, NULL), PARUS_OK);
}

static void free_peers(peer_set *ps)
{
    for (size_t k = 0; k < N_PEERS; k++)
        parus_health_series_release(&ps->m[k]);
    parus_health_peers_release(&ps->peers);
}

static size_t count_flag(const parus_health_result *r, parus_health_flag f)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_events; i++)
        n += r->event[i].flag == f;
    return n;
}

/* The first event with flag f; fails the test when there is none. */
static const parus_health_event *find_flag(const parus_health_result *r, parus_health_flag f)
{
    for (size_t i = 0; i < r->n_events; i++)
        if (r->event[i].flag == f)
            return &r->event[i];
    fail_msg("no %s among %zu events", parus_health_flag_code(f), r->n_events);
    return &r->event[0];
}

/* Assess parcel s (finished here) against the standard peers. */
static parus_health_result assess_against_peers(parus_health_series *s, const parus_crop *crop)
{
    parus_health_options opt;
    parus_health_options_init(&opt);
    peer_set ps;
    make_peers(&ps, &opt);
    parus_health_series_finish(s, &opt);
    parus_health_result r;
    parus_error err;
    assert_int_equal(parus_health_assess(s, crop, &ps.peers, NULL, &opt, &r, &err), PARUS_OK);
    free_peers(&ps);
    return r;
}

static void test_flags__codes_names_and_classes(void **state)
{
    (void)state;
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_FLOOD), "FLOOD");
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_SUDDEN_LOSS), "SUDDEN_LOSS");
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_AREA_EXCESS), "AREA_EXCESS");
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_NONE), "NONE");
    assert_string_equal(parus_health_flag_code((parus_health_flag)99), "UNKNOWN");
    assert_int_equal(PARUS_HEALTH_FLOOD, 1); /* stored codes: never renumbered */
    assert_int_equal(PARUS_HEALTH_WATER_OFF_SEASON, 8);
    for (int f = PARUS_HEALTH_FLOOD; f <= PARUS_HEALTH_WATER_OFF_SEASON; f++) {
        assert_int_equal(parus_health_flag_from_code(parus_health_flag_code(f)), f);
        assert_true(strlen(parus_health_flag_text(f)) > 10);
    }
    assert_int_equal(parus_health_flag_from_code("flood"), PARUS_HEALTH_NONE);
    assert_int_equal(parus_health_flag_from_code(NULL), PARUS_HEALTH_NONE);
    assert_string_equal(parus_health_class_name(PARUS_HEALTH_GOOD), "good");
    assert_string_equal(parus_health_class_name(PARUS_HEALTH_POOR), "poor");
    assert_string_equal(parus_health_class_name(PARUS_HEALTH_UNKNOWN), "unknown");
    char d[11];
    parus_health_format_day(day_of("2024-02-29"), d);
    assert_string_equal(d, "2024-02-29");
    parus_health_format_day(0, d);
    assert_string_equal(d, "1970-01-01");
}

static void test_options__defaults(void **state)
{
    (void)state;
    parus_health_options o;
    parus_health_options_init(&o);
    assert_int_equal(o.step_days, 10);
    assert_int_equal(o.min_peers, 5);
    assert_close(o.min_valid_fraction, 0.6, 0, 0);
    assert_close(o.good_score, 0.85, 0, 0);
    assert_close(o.fair_score, 0.6, 0, 0);
    assert_close(o.loss_min_drop, 0.15, 0, 0);
    assert_close(o.loss_share_peer_veg, 0.5, 0, 0);
    assert_close(o.loss_perennial_fall_share, 0.5, 0, 0);
    assert_close(o.area_tolerance, 0.15, 0, 0);
    assert_true(o.fair_score < o.good_score);
}

static parus_observation clear_obs(double vf, double ndvi, double blue)
{
    parus_observation o;
    memset(&o, 0, sizeof o);
    for (int k = 0; k < PARUS_INDEX_N_; k++)
        o.mean[k] = NAN;
    for (int k = 0; k < PARUS_ROLE_N_SPECTRAL_; k++)
        o.band_mean[k] = NAN;
    o.valid_fraction = vf;
    o.mean[PARUS_INDEX_NDVI] = ndvi;
    o.mean[PARUS_INDEX_MNDWI] = -0.4 - ndvi / 10.0;
    o.veg_fraction = ndvi >= 0.3 ? 1.0 : 0.0;
    o.water_fraction = 0.0;
    o.band_mean[PARUS_ROLE_BLUE] = blue;
    return o;
}

static void test_series__one_observation_per_step_by_hand(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    /* steps of 10 days from day 1000: [1000,1010) [1010,1020) ... 8 steps to day 1079 */
    int64_t day[9] = {1001, 1003, 1005, 1012, 1041, 1052, 1061, 1075, 1200};
    parus_observation obs[9] = {
        clear_obs(0.9, 0.30, 0.05), /* step 0: less clear than the next */
        clear_obs(1.0, 0.20, 0.05), /* step 0: the clearest: taken */
        clear_obs(0.5, 0.90, 0.05), /* step 0: too cloudy */
        clear_obs(1.0, 0.40, 0.05), /* step 1 */
        clear_obs(1.0, 0.70, 0.05), /* step 4, after a gap of two steps */
        clear_obs(1.0, 0.10, 0.15), /* step 5: hazy (blue 0.15 against 0.05 around it) */
        clear_obs(1.0, 0.60, 0.05), /* step 6 */
        clear_obs(1.0, 0.50, 0.05), /* step 7 */
        clear_obs(1.0, 0.99, 0.05), /* outside the season */
    };
    parus_health_series s;
    parus_health_series_init(&s);
    parus_error err;
    assert_int_equal(parus_health_series_build(&s, &opt, day, obs, 9, 1000, 1079, &err), PARUS_OK);
    assert_int_equal(s.n_steps, 8);
    assert_int_equal(s.n_hazy, 1);
    assert_int_equal(s.n_observed, 5);
    assert_int_equal(s.day[0], 1003);
    assert_close(s.v[PARUS_HEALTH_NDVI][0], 0.20, 0, 0);
    assert_close(s.v[PARUS_HEALTH_MNDWI][0], -0.42, 1e-12, 0); /* from the same observation */
    assert_int_equal(s.flag[1], PARUS_SERIES_OBSERVED);
    /* steps 2 and 3 interpolated between steps 1 (0.40) and 4 (0.70), every variable alike */
    assert_int_equal(s.flag[2], PARUS_SERIES_INTERPOLATED);
    assert_int_equal(s.flag[3], PARUS_SERIES_INTERPOLATED);
    assert_close(s.v[PARUS_HEALTH_NDVI][2], 0.50, 1e-12, 0);
    assert_close(s.v[PARUS_HEALTH_NDVI][3], 0.60, 1e-12, 0);
    assert_close(s.v[PARUS_HEALTH_MNDWI][3], -0.46, 1e-12, 0);
    assert_int_equal(s.day[2], 1024); /* the step's centre: 1020 + (10 - 1) / 2 */
    /* step 5: the hazy observation dropped, interpolated between 0.70 and 0.60 */
    assert_int_equal(s.flag[5], PARUS_SERIES_INTERPOLATED);
    assert_close(s.v[PARUS_HEALTH_NDVI][5], 0.65, 1e-12, 0);
    assert_int_equal(s.day[7], 1075);
    /* bands the sensor lacks stay NaN */
    assert_true(isnan(s.v[PARUS_HEALTH_NDMI][1]));
    assert_true(isnan(s.v[PARUS_HEALTH_SWIR1][1]));
    assert_true(isfinite(s.ndvi_smooth[0]));

    /* nothing usable: every step missing, not an error */
    assert_int_equal(parus_health_series_build(&s, &opt, day, obs, 0, 1000, 1079, &err), PARUS_OK);
    assert_int_equal(s.n_observed, 0);
    assert_int_equal(s.flag[3], PARUS_SERIES_MISSING);
    assert_int_equal(s.pheno.n_cycles, 0);

    assert_int_equal(parus_health_series_build(&s, &opt, day, obs, 9, 1079, 1000, &err),
                     PARUS_E_INVALID);
    assert_int_equal(parus_health_series_build(&s, &opt, NULL, NULL, 3, 1000, 1079, &err),
                     PARUS_E_INVALID);
    assert_int_equal(parus_health_series_build(&s, &opt, day, obs, 9, 1000, 1025, &err),
                     PARUS_E_RANGE);
    assert_int_equal(s.n_steps, 8); /* left as it was */
    parus_health_series_release(&s);
    parus_health_series_release(&s);
    parus_health_series_release(NULL);
}

static void test_peers__median_and_quartiles_by_hand(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    /* six members; at step 0 five values 0.5 0.1 0.4 0.2 0.3 and one missing; at step 1 only
     * four values (fewer than min_peers 5): no reference there */
    parus_health_series m[6];
    const parus_health_series *p[6], *rev[6];
    const double v0[6] = {0.5, 0.1, 0.4, NAN, 0.2, 0.3};
    for (size_t k = 0; k < 6; k++) {
        parus_health_series_init(&m[k]);
        assert_int_equal(parus_health_series_alloc(&m[k], 100, 10, 4, NULL), PARUS_OK);
        for (size_t i = 0; i < 4; i++) {
            m[k].v[PARUS_HEALTH_NDVI][i] = 0.2 + 0.1 * (double)i;
            m[k].v[PARUS_HEALTH_NDMI][i] = 0.0;
            m[k].flag[i] = PARUS_SERIES_OBSERVED;
        }
        m[k].v[PARUS_HEALTH_NDVI][0] = v0[k];
        m[k].flag[0] = isnan(v0[k]) ? PARUS_SERIES_MISSING : PARUS_SERIES_OBSERVED;
        if (k < 2)
            m[k].flag[1] = PARUS_SERIES_MISSING;
        m[k].v[PARUS_HEALTH_NDMI][2] = 0.1 * (double)k; /* 0 .. 0.5 */
        parus_health_series_finish(&m[k], &opt);
        p[k] = &m[k];
        rev[5 - k] = &m[k];
    }
    parus_health_peers a, b;
    parus_health_peers_init(&a);
    parus_health_peers_init(&b);
    parus_error err;
    assert_int_equal(parus_health_peers_build(&a, p, 6, &opt, &err), PARUS_OK);
    assert_int_equal(a.n[PARUS_HEALTH_NDVI][0], 5);
    assert_close(a.median[PARUS_HEALTH_NDVI][0], 0.3, 1e-15, 0);
    assert_close(a.p25[PARUS_HEALTH_NDVI][0], 0.2, 1e-15, 0);
    assert_close(a.p75[PARUS_HEALTH_NDVI][0], 0.4, 1e-15, 0);
    assert_int_equal(a.n[PARUS_HEALTH_NDVI][1], 4);
    assert_true(isnan(a.median[PARUS_HEALTH_NDVI][1]));
    /* six values 0 .. 0.5: median 0.25, quartiles at ranks 1.25 and 3.75 (type 7) */
    assert_close(a.median[PARUS_HEALTH_NDMI][2], 0.25, 1e-15, 0);
    assert_close(a.p25[PARUS_HEALTH_NDMI][2], 0.125, 1e-15, 0);
    assert_close(a.p75[PARUS_HEALTH_NDMI][2], 0.375, 1e-15, 0);
    assert_int_equal(a.n_steps_with_ref, 3);
    /* the order of the members does not matter, to the bit */
    assert_int_equal(parus_health_peers_build(&b, rev, 6, &opt, &err), PARUS_OK);
    for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++)
        for (size_t i = 0; i < 4; i++) {
            assert_memory_equal(&a.median[v][i], &b.median[v][i], sizeof(double));
            assert_memory_equal(&a.p25[v][i], &b.p25[v][i], sizeof(double));
        }
    /* the same members as compact rows (float values, as parus assess keeps them): the reference
     * of series holding the same floats, to the bit */
    {
        const size_t nv = PARUS_HEALTH_N_VARS_, ns = 4;
        float rows[6 * PARUS_HEALTH_N_VARS_ * 4];
        unsigned char flags[6 * 4];
        parus_health_peers c, d;
        parus_health_peers_init(&c);
        parus_health_peers_init(&d);
        for (size_t k = 0; k < 6; k++) {
            for (size_t v = 0; v < nv; v++)
                for (size_t i = 0; i < ns; i++) {
                    rows[(k * nv + v) * ns + i] = (float)m[k].v[v][i];
                    m[k].v[v][i] = (double)(float)m[k].v[v][i];
                }
            memcpy(flags + k * ns, m[k].flag, ns);
        }
        assert_int_equal(parus_health_peers_build_rows(&c, rows, flags, 6, 100, 10, ns, &opt, &err),
                         PARUS_OK);
        assert_int_equal(parus_health_peers_build(&d, p, 6, &opt, &err), PARUS_OK);
        assert_int_equal(c.n_members, 6);
        assert_int_equal(c.n_steps_with_ref, d.n_steps_with_ref);
        for (size_t v = 0; v < nv; v++)
            for (size_t i = 0; i < ns; i++) {
                assert_int_equal(c.n[v][i], d.n[v][i]);
                assert_memory_equal(&c.median[v][i], &d.median[v][i], sizeof(double));
                assert_memory_equal(&c.p25[v][i], &d.p25[v][i], sizeof(double));
                assert_memory_equal(&c.p75[v][i], &d.p75[v][i], sizeof(double));
            }
        assert_memory_equal(&c.ratio_p25, &d.ratio_p25, sizeof(double));
        assert_memory_equal(&c.ratio_p75, &d.ratio_p75, sizeof(double));
        assert_memory_equal(c.ndvi_smooth, d.ndvi_smooth, ns * sizeof(double));
        assert_close(c.median[PARUS_HEALTH_NDVI][0], 0.3, 1e-7, 0);
        /* rows of too few steps, or none */
        assert_int_equal(parus_health_peers_build_rows(&c, rows, flags, 6, 100, 10, 3, &opt, &err),
                         PARUS_E_INVALID);
        assert_int_equal(parus_health_peers_build_rows(&c, rows, flags, 0, 100, 10, ns, &opt, &err),
                         PARUS_E_INVALID);
        assert_int_equal(parus_health_peers_build_rows(&c, NULL, flags, 6, 100, 10, ns, &opt, &err),
                         PARUS_E_INVALID);
        parus_health_peers_release(&c);
        parus_health_peers_release(&d);
    }
    /* a member of another shape */
    parus_health_series odd;
    parus_health_series_init(&odd);
    assert_int_equal(parus_health_series_alloc(&odd, 100, 10, 5, NULL), PARUS_OK);
    p[3] = &odd;
    assert_int_equal(parus_health_peers_build(&b, p, 6, &opt, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "other steps"));
    assert_int_equal(parus_health_peers_build(&b, p, 0, &opt, &err), PARUS_E_INVALID);
    parus_health_series_release(&odd);
    for (size_t k = 0; k < 6; k++)
        parus_health_series_release(&m[k]);
    parus_health_peers_release(&a);
    parus_health_peers_release(&b);
}

static void test_score__like_peers_good_thin_fair_poor(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(r.reference, PARUS_HEALTH_REF_PEERS);
    assert_close(r.green_ratio, 1.0, 0.05, 0);
    assert_int_equal(r.cls, PARUS_HEALTH_GOOD);
    assert_int_equal(r.n_events, 0);
    make_season(&s, 0.0, 0.7, 0.0); /* 70 % of the peers' green above the base */
    r = assess_against_peers(&s, &c);
    assert_close(r.green_ratio, 0.7, 0.04, 0);
    assert_int_equal(r.cls, PARUS_HEALTH_FAIR);
    make_season(&s, 0.0, 0.45, 0.0);
    r = assess_against_peers(&s, &c);
    assert_int_equal(r.cls, PARUS_HEALTH_POOR);
    assert_true(r.score < 0.6 && r.score > 0.3);
    /* no peers and no curve: no judgement of condition */
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_error err;
    assert_int_equal(parus_health_assess(&s, &c, NULL, NULL, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.reference, PARUS_HEALTH_REF_NONE);
    assert_int_equal(r.cls, PARUS_HEALTH_UNKNOWN);
    assert_true(isnan(r.score));
    /* the expected curve stands in for peers */
    double expected[N_STEPS];
    for (size_t i = 0; i < N_STEPS; i++)
        expected[i] = maize_ndvi(parus_series_day_of_year(s.day[i]));
    assert_int_equal(parus_health_assess(&s, &c, NULL, expected, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.reference, PARUS_HEALTH_REF_CURVE);
    assert_close(r.green_ratio, 0.45, 0.03, 0);
    parus_health_series_release(&s);
}

static void test_flood__water_in_growing_season(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* 2 August: half the parcel under water; SWIR1 halves towards open water's */
    size_t i = step_of(&s, "2024-08-02");
    double dry = s.v[PARUS_HEALTH_SWIR1][i];
    s.v[PARUS_HEALTH_SWIR1][i] = 0.5 * dry + 0.5 * 0.015;
    s.v[PARUS_HEALTH_MNDWI][i] += 0.35;
    s.v[PARUS_HEALTH_NDVI][i] -= 0.25;
    parus_health_result r = assess_against_peers(&s, &c);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_FLOOD);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_FLOOD), 1);
    assert_int_equal(e->day, day_of("2024-08-02"));
    assert_int_equal(e->last_day, e->day);
    assert_close(e->size, 0.5, 0.03, 0); /* the share under water */
    assert_true(e->confidence >= 0.5 && e->confidence <= 1.0);
    assert_non_null(strstr(e->reason, "2024-08-02"));
    /* the NDVI dip is the water's, not a loss */
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);

    /* two consecutive dates: one event from the first to the last */
    size_t j = i + 1;
    s.v[PARUS_HEALTH_SWIR1][j] = 0.4 * s.v[PARUS_HEALTH_SWIR1][j] + 0.6 * 0.015;
    s.v[PARUS_HEALTH_MNDWI][j] += 0.4;
    r = assess_against_peers(&s, &c);
    e = find_flag(&r, PARUS_HEALTH_FLOOD);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_FLOOD), 1);
    assert_int_equal(e->last_day, s.day[j]);
    assert_close(e->size, 0.6, 0.03, 0);
    parus_health_series_release(&s);
}

static void test_flood__dry_season_water_is_not_a_flood(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* 4 May, weeks before the maize is sown: standing water on the bare field */
    size_t i = step_of(&s, "2024-05-04");
    s.v[PARUS_HEALTH_SWIR1][i] = 0.3 * s.v[PARUS_HEALTH_SWIR1][i] + 0.7 * 0.015;
    s.v[PARUS_HEALTH_MNDWI][i] += 0.4;
    s.v[PARUS_HEALTH_WATER][i] = 0.5;
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_FLOOD), 0);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_WATER_OFF_SEASON);
    assert_int_equal(e->day, day_of("2024-05-04"));
    assert_close(e->size, 0.7, 0.03, 0);
    /* fallow land (a noncrop crop) has no growing season at all */
    parus_crop fallow = c;
    fallow.kind = PARUS_CROP_NONCROP;
    fallow.n_cycles = 0;
    i = step_of(&s, "2024-08-02");
    s.v[PARUS_HEALTH_SWIR1][i] = 0.3 * s.v[PARUS_HEALTH_SWIR1][i] + 0.7 * 0.015;
    s.v[PARUS_HEALTH_MNDWI][i] += 0.4;
    r = assess_against_peers(&s, &fallow);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_FLOOD), 0);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_WATER_OFF_SEASON), 2);
    parus_health_series_release(&s);
}

static void test_flood__haze_and_shadow_are_not_water(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* thin cloud: MNDWI up, but SWIR1 brighter */
    size_t i = step_of(&s, "2024-08-02");
    s.v[PARUS_HEALTH_MNDWI][i] += 0.2;
    s.v[PARUS_HEALTH_SWIR1][i] += 0.05;
    /* a cloud shadow: SWIR1 darker, indices unchanged */
    size_t j = step_of(&s, "2024-08-22");
    s.v[PARUS_HEALTH_SWIR1][j] *= 0.4;
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_FLOOD), 0);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_WATER_OFF_SEASON), 0);
    parus_health_series_release(&s);
}

static void test_loss__drop_that_stays_down(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* hail on 2 August: NDVI to 40 % of the curve for the rest of the cycle */
    size_t i = step_of(&s, "2024-08-02");
    for (size_t k = i; k < N_STEPS; k++)
        set_step(&s, k, 0.18 + 0.4 * (s.v[PARUS_HEALTH_NDVI][k] - 0.18));
    parus_health_result r = assess_against_peers(&s, &c);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_SUDDEN_LOSS);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);
    assert_int_equal(e->day, day_of("2024-08-02"));
    assert_int_equal(e->last_day, s.day[N_STEPS - 1]);
    /* the size: the drop against the peers as a share of the NDVI before */
    assert_true(e->size > 0.4 && e->size < 0.7);
    assert_true(e->confidence > 0.9);
    assert_non_null(strstr(e->reason, "peers"));
    /* no NOT_PLANTED: the crop stood before the loss; and it scores poorly */
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 0);
    assert_true(r.score < 0.85);
    parus_health_series_release(&s);
}

static void test_loss__harvest_is_not_a_loss(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* cut on 11 September (harvest 26 September - 15 days) while the peers still stand: inside
     * the harvest window, an early harvest */
    size_t i = step_of(&s, "2024-09-11");
    for (size_t k = i; k < N_STEPS; k++)
        set_step(&s, k, 0.18);
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    /* the same cut a month earlier is a loss */
    make_season(&s, 0.0, 1.0, 0.0);
    i = step_of(&s, "2024-08-12");
    for (size_t k = i; k < N_STEPS; k++)
        set_step(&s, k, 0.18);
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);
    parus_health_series_release(&s);
}

static void test_loss__drop_shared_by_peers_or_recovered_is_not_a_loss(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_error err;
    /* a regional event: every field, the parcel among them, drops on 2 August */
    parus_health_series m[N_PEERS];
    const parus_health_series *p[N_PEERS];
    for (size_t k = 0; k < N_PEERS; k++) {
        parus_health_series_init(&m[k]);
        make_season(&m[k], (double)k - 3.5, 0.96 + 0.01 * (double)k, 0.0);
        for (size_t i = step_of(&m[k], "2024-08-02"); i < N_STEPS; i++)
            set_step(&m[k], i, 0.18 + 0.4 * (m[k].v[PARUS_HEALTH_NDVI][i] - 0.18));
        parus_health_series_finish(&m[k], &opt);
        p[k] = &m[k];
    }
    parus_health_peers peers;
    parus_health_peers_init(&peers);
    assert_int_equal(parus_health_peers_build(&peers, p, N_PEERS, &opt, &err), PARUS_OK);
    parus_health_result r;
    assert_int_equal(parus_health_assess(&m[3], &c, &peers, NULL, &opt, &r, &err), PARUS_OK);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    parus_health_peers_release(&peers);
    for (size_t k = 0; k < N_PEERS; k++)
        parus_health_series_release(&m[k]);

    /* a dip that recovers on the next date (a passing cloud the mask missed, lodging that rights
     * itself) */
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    size_t i = step_of(&s, "2024-08-02");
    set_step(&s, i, s.v[PARUS_HEALTH_NDVI][i] - 0.35);
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    /* a field sown three weeks late lags its peers but catches up: no loss */
    make_season(&s, 21.0, 1.0, 0.0);
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    parus_health_series_release(&s);
}

/* Winter wheat then summer maize on one field (wheat_maize): the wheat green already in March,
 * ripe by early June, the maize sown in mid-June. */
static double wheat_maize_ndvi(int doy)
{
    double wheat = 1.0 / (1.0 + exp(-(doy - 85) / 8.0)) / (1.0 + exp((doy - 140) / 6.0));
    return maize_ndvi(doy) + 0.62 * wheat;
}

static void make_wheat_maize(parus_health_series *s, double shift_days, double gain)
{
    int64_t start = day_of("2024-03-05");
    assert_int_equal(parus_health_series_alloc(s, start, 10, N_STEPS, NULL), PARUS_OK);
    for (size_t i = 0; i < N_STEPS; i++) {
        int doy = parus_series_day_of_year(start + 10 * (int64_t)i);
        s->day[i] = start + 10 * (int64_t)i;
        set_step(s, i, 0.18 + gain * (wheat_maize_ndvi((int)lround(doy - shift_days)) - 0.18));
    }
}

/* A wheat lost three weeks before its harvest, seen once more before the maize is sown and then,
 * through cloud, only with the maize up: the maize's green-up is the next cycle's, no recovery of
 * the wheat (before, it was taken for one, and the loss went unflagged: a miss of the synthetic
 * seasons, seed 54). */
static void test_loss__next_cycle_is_no_recovery(void **state)
{
    (void)state;
    parus_crop c = maize();
    snprintf(c.code, sizeof c.code, "wheat_maize");
    c.n_cycles = 2;
    c.cycle[0].sow_doy = 272;
    c.cycle[0].peak_doy = 115;
    c.cycle[0].harvest_doy = 157;
    c.cycle[1].sow_doy = 165;
    c.cycle[1].peak_doy = 228;
    c.cycle[1].harvest_doy = 270;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series m[N_PEERS];
    const parus_health_series *p[N_PEERS];
    for (size_t k = 0; k < N_PEERS; k++) {
        parus_health_series_init(&m[k]);
        make_wheat_maize(&m[k], (double)k - 3.5, 0.96 + 0.01 * (double)k);
        parus_health_series_finish(&m[k], &opt);
        p[k] = &m[k];
    }
    parus_health_peers peers;
    parus_health_peers_init(&peers);
    parus_error err;
    assert_int_equal(parus_health_peers_build(&peers, p, N_PEERS, &opt, &err), PARUS_OK);

    parus_health_series s;
    parus_health_series_init(&s);
    make_wheat_maize(&s, 0.0, 1.0);
    size_t lost = step_of(&s, "2024-05-04"), again = step_of(&s, "2024-05-24");
    for (size_t i = lost; parus_series_day_of_year(s.day[i]) < 160; i++)
        set_step(&s, i, 0.18 + 0.35 * (s.v[PARUS_HEALTH_NDVI][i] - 0.18));
    /* cloud: 14 May, and from 3 June until the maize stands on 23 July */
    s.flag[lost + 1] = PARUS_SERIES_INTERPOLATED;
    for (size_t i = again + 1; i < step_of(&s, "2024-07-23"); i++)
        s.flag[i] = PARUS_SERIES_INTERPOLATED;
    parus_health_series_finish(&s, &opt);
    parus_health_result r;
    assert_int_equal(parus_health_assess(&s, &c, &peers, NULL, &opt, &r, &err), PARUS_OK);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_SUDDEN_LOSS);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);
    assert_int_equal(e->day, day_of("2024-05-04"));
    parus_health_series_release(&s);
    parus_health_peers_release(&peers);
    for (size_t k = 0; k < N_PEERS; k++)
        parus_health_series_release(&m[k]);
}

static void test_loss__partly_sown_perennial_and_no_reference(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    /* sown on 40 % of the parcel: its NDVI and vegetated fraction are the peers' diluted by bare
     * soil, far below them all season; no loss */
    make_season(&s, 0.0, 0.4, 0.0);
    for (size_t k = 0; k < N_STEPS; k++) {
        double full = 0.18 + (s.v[PARUS_HEALTH_NDVI][k] - 0.18) / 0.4, f = (full - 0.18) / 0.67;
        s.v[PARUS_HEALTH_VEG][k] = 0.4 * (f < 0.1 ? 0.0 : f > 0.3 ? 1.0 : (f - 0.1) / 0.2);
    }
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    /* ... and its sown part lost on 2 August: judged against the peers scaled to its sown share,
     * it stood near them before and falls far below after */
    for (size_t k = step_of(&s, "2024-08-02"); k < N_STEPS; k++) {
        s.v[PARUS_HEALTH_NDVI][k] = 0.20;
        s.v[PARUS_HEALTH_VEG][k] = 0.0;
    }
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);
    assert_int_equal(find_flag(&r, PARUS_HEALTH_SUDDEN_LOSS)->day, day_of("2024-08-02"));
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 0);

    /* a stand frozen from 13 July while the peers green up: an annual crop hit at green-up ... */
    make_season(&s, 0.0, 1.0, 0.0);
    size_t i = step_of(&s, "2024-07-13");
    for (size_t k = i + 1; k < N_STEPS; k++)
        set_step(&s, k, s.v[PARUS_HEALTH_NDVI][i]);
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);
    /* ... but a perennial stands all year: its loss is a fall of its own canopy */
    parus_crop per = c;
    per.kind = PARUS_CROP_PERENNIAL;
    r = assess_against_peers(&s, &per);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    make_season(&s, 0.0, 1.0, 0.0);
    for (size_t k = step_of(&s, "2024-08-02"); k < N_STEPS; k++)
        set_step(&s, k, 0.18 + 0.4 * (s.v[PARUS_HEALTH_NDVI][k] - 0.18));
    r = assess_against_peers(&s, &per);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 1);

    /* with neither peers nor an expected curve, the same drop is not judged: a loss and the
     * crop's own ripening look alike */
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series_finish(&s, &opt);
    parus_error err;
    assert_int_equal(parus_health_assess(&s, &c, NULL, NULL, &opt, &r, &err), PARUS_OK);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    parus_health_series_release(&s);
}

static void test_drought__drier_than_its_greenness(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* from 23 July four dates a little less green and much drier than the peers, the stand
     * whole (vegetated fraction unchanged) */
    size_t i0 = step_of(&s, "2024-07-23");
    for (size_t i = i0; i < i0 + 4; i++) {
        s.v[PARUS_HEALTH_NDVI][i] -= 0.08;
        s.v[PARUS_HEALTH_NDMI][i] -= 0.2;
    }
    parus_health_result r = assess_against_peers(&s, &c);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_DROUGHT_STRESS);
    assert_int_equal(e->day, s.day[i0]);
    assert_int_equal(e->last_day, s.day[i0 + 3]);
    assert_close(e->size, 0.2, 0.05, 0);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);

    /* a partly planted field: less green and less moist in proportion, fewer green pixels: no
     * drought, its area is measured elsewhere */
    make_season(&s, 0.0, 0.5, 0.0);
    for (size_t i = 0; i < N_STEPS; i++)
        s.v[PARUS_HEALTH_VEG][i] *= 0.5;
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_DROUGHT_STRESS), 0);
    /* two dry dates are not enough */
    make_season(&s, 0.0, 1.0, 0.0);
    for (size_t i = i0; i < i0 + 2; i++) {
        s.v[PARUS_HEALTH_NDVI][i] -= 0.08;
        s.v[PARUS_HEALTH_NDMI][i] -= 0.2;
    }
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_DROUGHT_STRESS), 0);
    parus_health_series_release(&s);
}

static void test_not_planted__bare_season_and_fallow(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 0.0, 0.0); /* bare soil all season */
    for (size_t i = 0; i < N_STEPS; i++)
        s.v[PARUS_HEALTH_NDVI][i] += 0.01 * (double)(i % 3);
    parus_health_result r = assess_against_peers(&s, &c);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_NOT_PLANTED);
    assert_true(e->size < 0.25);
    assert_true(e->confidence > 0.9);
    assert_int_equal(r.cls, PARUS_HEALTH_POOR);
    assert_close(r.score, 0.0, 0, 0);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_SUDDEN_LOSS), 0);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_LATE_PLANTING), 0);
    /* a noncrop crop is not planted whatever grows there (weeds) */
    parus_crop fallow = c;
    fallow.kind = PARUS_CROP_NONCROP;
    fallow.n_cycles = 0;
    make_season(&s, 0.0, 0.3, 0.0);
    r = assess_against_peers(&s, &fallow);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 1);
    /* the crop unknown: judged by not_planted_min_ndvi (0.4) */
    make_season(&s, 0.0, 1.0, 0.0);
    r = assess_against_peers(&s, NULL);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 0);
    parus_health_series_release(&s);
}

static void test_late__start_after_peers(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 40.0, 1.0, 0.0); /* sown 40 days after its peers */
    parus_health_result r = assess_against_peers(&s, &c);
    const parus_health_event *e = find_flag(&r, PARUS_HEALTH_LATE_PLANTING);
    assert_close(e->size, 40.0, 6.0, 0);
    assert_non_null(strstr(e->reason, "peers"));
    assert_int_equal(count_flag(&r, PARUS_HEALTH_DROUGHT_STRESS), 0);
    make_season(&s, 10.0, 1.0, 0.0); /* ten days: within the tolerance */
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_LATE_PLANTING), 0);
    /* without peers nor curve: the crop's sowing (13 June) + 25 days against a start in August */
    make_season(&s, 40.0, 1.0, 0.0);
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series_finish(&s, &opt);
    parus_error err;
    assert_int_equal(parus_health_assess(&s, &c, NULL, NULL, &opt, &r, &err), PARUS_OK);
    e = find_flag(&r, PARUS_HEALTH_LATE_PLANTING);
    assert_non_null(strstr(e->reason, "sowing"));
    assert_true(e->confidence <= 0.75);
    parus_health_series_release(&s);
}

static void test_growing_season__calendar_windows(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop c = maize(); /* sown 165, harvested 270: season 180 .. 280 */
    int64_t jan1 = day_of("2024-01-01");
    assert_false(parus_health_growing_season(&c, jan1 + 170, &opt)); /* planting weeks */
    assert_true(parus_health_growing_season(&c, jan1 + 181, &opt));
    assert_true(parus_health_growing_season(&c, jan1 + 279, &opt));
    assert_false(parus_health_growing_season(&c, jan1 + 290, &opt));
    /* winter wheat wraps the year: sown 272, harvested 157 */
    parus_crop w = c;
    w.cycle[0].sow_doy = 272;
    w.cycle[0].harvest_doy = 157;
    assert_true(parus_health_growing_season(&w, jan1 + 99, &opt));
    assert_true(parus_health_growing_season(&w, jan1 + 330, &opt));
    assert_false(parus_health_growing_season(&w, jan1 + 199, &opt));
    /* sugarcane stands all year */
    w.cycle[0].sow_doy = w.cycle[0].harvest_doy = 28;
    assert_true(parus_health_growing_season(&w, jan1 + 199, &opt));
    w.kind = PARUS_CROP_NONCROP;
    assert_false(parus_health_growing_season(&w, jan1 + 199, &opt));
    assert_false(parus_health_growing_season(NULL, jan1 + 199, &opt));
}

/* parus_health_radar_floods with the series' arrays as arguments (no looks). */
static parus_status radar_floods_args(const int64_t *day, const double *water, const double *vv,
                                      const double *vh, const double *peer_vv, const int *pass,
                                      const double *peer_water, size_t n, const parus_crop *crop,
                                      const parus_health_options *opt, parus_health_result *res,
                                      parus_error *err)
{
    parus_health_radar_series s = {.day = day,
                                   .water = water,
                                   .vv = vv,
                                   .vh = vh,
                                   .pass = pass,
                                   .peer_vv = peer_vv,
                                   .peer_water = peer_water,
                                   .n = n};
    return parus_health_radar_floods(&s, crop, opt, res, err);
}

/* A flood under full cloud: no optical observation says anything, radar sees the water on its
 * own date; paddy water at transplanting (the crop's planting weeks, or wet peers) is no flood;
 * an optical flood seen later is dated by the radar date. */
static void test_flood__radar_under_cloud(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop c = maize(); /* sown 165, harvested 270: season 180 .. 280 */
    parus_error err;
    int64_t jan1 = day_of("2024-01-01"), day[20];
    double water[20], peer[20];
    for (size_t i = 0; i < 20; i++) {
        day[i] = jan1 + 150 + 6 * (int64_t)i; /* day of year 150 .. 264, every 6 days */
        water[i] = 0.02 + 0.01 * (double)(i % 3);
        peer[i] = 0.03;
    }
    water[8] = 0.64; /* day of year 198: in the growing season */
    water[9] = 0.7;
    parus_health_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_int_equal(r.event[0].flag, PARUS_HEALTH_FLOOD);
    assert_true(r.event[0].day == day[8] && r.event[0].last_day == day[9]);
    assert_true(fabs(r.event[0].size - 0.7) < 1e-12);
    assert_non_null(strstr(r.event[0].reason, "radar: 64 % of the parcel below -18 db vv on "
                                              "2024-07-17, dry level 3 %"));
    /* the same with peers that stay dry */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, peer, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 1);
    /* the peers are wet too on that date (a crop of flooded fields): no flood */
    peer[8] = peer[9] = 0.6;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, peer, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* an optical flood from a later clear date (day of year 210) is dated by radar */
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    r.event[0].flag = PARUS_HEALTH_FLOOD;
    r.event[0].day = r.event[0].last_day = jan1 + 210;
    r.event[0].size = 0.5;
    r.event[0].confidence = 0.6;
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[8] && r.event[0].last_day == jan1 + 210);
    assert_non_null(strstr(r.event[0].reason, "optical water from 2024-07-29"));
    /* ... and one dated earlier keeps its date and reason */
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    r.event[0].flag = PARUS_HEALTH_FLOOD;
    r.event[0].day = r.event[0].last_day = day[8] - 2;
    snprintf(r.event[0].reason, sizeof r.event[0].reason, "optical");
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[8] - 2 && r.event[0].last_day == day[9]);
    assert_string_equal(r.event[0].reason, "optical");
    /* water in the planting weeks (transplanting into a flooded paddy), no peers: no event */
    for (size_t i = 0; i < 20; i++)
        water[i] = 0.02;
    water[3] = 0.8; /* day of year 168 */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* before the season, outside the planting weeks: water off season */
    water[3] = 0.02;
    water[0] = 0.8;
    day[0] = jan1 + 120; /* before the planting weeks */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_int_equal(r.event[0].flag, PARUS_HEALTH_WATER_OFF_SEASON);
    /* a pond: wet on most dates, its dry level is wet */
    for (size_t i = 0; i < 20; i++)
        water[i] = 0.7 + 0.01 * (double)(i % 4);
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* VH as bright as ever on the wet date: a canopy dark in VV (wheat stems), not water */
    double vv[20], vh[20];
    int pass[20];
    for (size_t i = 0; i < 20; i++) {
        water[i] = 0.02;
        vv[i] = 0.1 * (i % 2 ? 1.0 : 0.8); /* two passes, one 1 db darker */
        vh[i] = 0.02;
        pass[i] = (int)(i % 2);
    }
    water[8] = 0.64;
    /* with VV: a wet share whose VV does not darken (radar_flood_dip_db) is speckle, not water */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vv[8] *= 0.5; /* 3 db below its pass before and after */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    /* ... a parcel seen with too few looks (radar_flood_min_looks) is not judged, and the dip
     * asked of it grows with its speckle error (radar_flood_dip_se) */
    double looks[20];
    for (size_t i = 0; i < 20; i++)
        looks[i] = 25.0; /* se 0.87 db: 2 se = 1.7 db, under the 3 db dip */
    parus_health_radar_series rs = {
        .day = day, .water = water, .vv = vv, .vh = vh, .looks_vv = looks, .pass = pass, .n = 20};
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    /* its confidence grows with the share above the dry level (0.45: 0.17 over the 0.25 asked,
     * 0.84), whether the dip rule is on or off */
    water[8] = 0.45;
    for (int off = 0; off < 2; off++) {
        opt.radar_dip_db = off ? 0.0 : 2.5;
        memset(&r, 0, sizeof r);
        assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
        assert_int_equal(r.n_events, 1);
        assert_true(r.event[0].confidence > 0.8 && r.event[0].confidence < 0.9);
    }
    opt.radar_dip_db = 2.5;
    water[8] = 0.64;
    /* looks not given for the date (no value): not judged */
    looks[8] = NAN;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    looks[8] = 25.0;
    opt.radar_flood_dip_se = 4.0; /* 3.5 db asked */
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    opt.radar_flood_dip_se = 2.0;
    looks[8] = 10.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* the VH check (off by default): VH as bright as ever on the wet date is a canopy dark in
     * VV, not water */
    opt.radar_flood_vh_db = 3.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vh[8] = 0.009; /* 3.5 db below its pass */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    opt.radar_flood_vh_db = 0.0;
    vv[8] *= 2.0;
    /* the VV dip alone (a strip of mixed pixels, none below the water level): 4 db below its
     * pass before and after on day of year 222 is no flood on its own ... */
    water[8] = 0.02;
    vv[12] *= 0.4;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* ... but on two dates in a row (the other pass too, day of year 228) it is */
    vv[13] *= 0.4;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        radar_floods_args(day, water, vv, vh, NULL, pass, NULL, 20, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].flag == PARUS_HEALTH_FLOOD && r.event[0].day == day[12] &&
                r.event[0].last_day == day[13]);
    assert_non_null(strstr(r.event[0].reason, "vv 4.0 db below its pass before and after"));
    /* ... where the dips stand clear of the speckle together: 4 db on 6 looks is 1.5 standard
     * errors a date beyond what speckle gives (radar_dip_z), 2.1 for the two; on 3 looks (under
     * radar_flood_run_looks) not judged */
    for (size_t i = 0; i < 20; i++)
        looks[i] = 6.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    opt.radar_flood_dip_se = 3.5;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    opt.radar_flood_dip_se = 2.0;
    looks[12] = looks[13] = 3.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    for (size_t i = 0; i < 20; i++)
        looks[i] = 25.0;
    /* ... smaller than radar_dip_db (2.5): none */
    vv[12] /= 0.4;
    vv[13] /= 0.4;
    vv[12] *= 0.63;
    vv[13] *= 0.63; /* 2 db */
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vv[12] /= 0.63;
    vv[13] /= 0.63;
    /* ... nor in the planting weeks (day of year 168 and 174: a field sown after its peers) */
    vv[3] *= 0.4;
    vv[4] *= 0.4;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vv[3] /= 0.4;
    vv[4] /= 0.4;
    /* a share on too few looks to vouch for it alone (10: radar_flood_min_looks is 20) counts
     * on two wet dates in a row */
    water[8] = water[9] = 0.64;
    vv[8] *= 0.5;
    vv[9] *= 0.5;
    looks[8] = looks[9] = 10.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[8] && r.event[0].last_day == day[9]);
    water[9] = 0.02;
    vv[9] /= 0.5;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    water[8] = 0.02;
    vv[8] /= 0.5;
    looks[8] = looks[9] = 25.0;
    /* bad input */
    day[5] = day[4] - 1;
    assert_int_equal(
        radar_floods_args(day, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_E_INVALID);
    assert_int_equal(
        radar_floods_args(NULL, water, NULL, NULL, NULL, NULL, NULL, 20, &c, &opt, &r, &err),
        PARUS_E_INVALID);
    assert_int_equal(
        radar_floods_args(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, &c, &opt, &r, &err),
        PARUS_OK);
}

/* Phi, the standard normal distribution function. */
static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* The radar water rule's dip without a change (parus__radar_dip_null) is what integrating the
 * reference's distribution gives, P(R > x) = (1 - Phi(x)^kb)(1 - Phi(x)^ka), the date's variance
 * added; and a run of dips on few looks is vouched for only where it stands clear of what the
 * highest of the dates around it gives by chance: two 3 db dips on 7 looks (1.15 standard
 * errors each beyond that; 1.83 against the date's own error alone) are speckle, two of 4.5 db
 * (1.91) a flood. */
static void test_flood__radar_dip_beyond_speckle(void **state)
{
    (void)state;
    for (size_t kb = 1; kb <= 6; kb++)
        for (size_t ka = 1; ka <= 6; ka++) {
            double e1 = 0.0, e2 = 0.0, h = 1e-3, m, sd;
            for (double x = -10.0; x < 10.0; x += h) {
                double f0 = 1.0 - (1.0 - pow(norm_cdf(x), (double)kb)) *
                                      (1.0 - pow(norm_cdf(x), (double)ka));
                double f1 = 1.0 - (1.0 - pow(norm_cdf(x + h), (double)kb)) *
                                      (1.0 - pow(norm_cdf(x + h), (double)ka));
                e1 += (x + h / 2.0) * (f1 - f0);
                e2 += (x + h / 2.0) * (x + h / 2.0) * (f1 - f0);
            }
            parus__radar_dip_null(kb, ka, &m, &sd);
            assert_close(m, e1, 1e-4, 0);
            assert_close(sd, sqrt(e2 - e1 * e1 + 1.0), 1e-4, 0);
        }
    double m6, s6, m9, s9;
    parus__radar_dip_null(6, 6, &m6, &s6);
    parus__radar_dip_null(9, 12, &m9, &s9);
    assert_true(m6 == m9 && s6 == s9);

    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop c = maize(); /* season: day of year 180 .. 280 */
    parus_error err;
    int64_t jan1 = day_of("2024-01-01"), day[20];
    double water[20], vv[20], vh[20], looks[20];
    int pass[20];
    for (size_t i = 0; i < 20; i++) {
        day[i] = jan1 + 150 + 6 * (int64_t)i; /* two passes, each every 12 days */
        water[i] = 0.02;
        vv[i] = 0.1;
        vh[i] = 0.02;
        looks[i] = 7.0;
        pass[i] = (int)(i % 2);
    }
    parus_health_radar_series rs = {
        .day = day, .water = water, .vv = vv, .vh = vh, .looks_vv = looks, .pass = pass, .n = 20};
    parus_health_result r;
    vv[12] = vv[13] = 0.1 * pow(10.0, -0.3); /* day of year 222 and 228: 3 db */
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vv[12] = vv[13] = 0.1 * pow(10.0, -0.45); /* 4.5 db */
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[12] && r.event[0].last_day == day[13]);
    /* a share alone asks the same of its dip: on 25 looks (sd 0.88 db) 2 standard errors beyond
     * speckle are 2.4 db (1.8 db against the date's own error alone) */
    vv[13] = 0.1;
    water[12] = 0.6;
    looks[12] = 25.0;
    vv[12] = 0.1 * pow(10.0, -0.2);
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    vv[12] = 0.1 * pow(10.0, -0.25);
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[12] && r.event[0].last_day == day[12]);
}

/* A paddy's own water at transplanting is never a flood, even where its peers, transplanted on
 * other days, are dry; optical water that radar, looking at the same time, saw dry is dropped,
 * and kept where radar saw water near it or could not vouch for what it saw. */
static void test_flood__radar_paddy_and_optical_veto(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop c = maize(); /* sown 165, harvested 270: season 180 .. 280 */
    parus_error err;
    int64_t jan1 = day_of("2024-01-01"), day[20];
    double water[20], peer[20], vv[20], looks[20];
    int pass[20];
    for (size_t i = 0; i < 20; i++) {
        day[i] = jan1 + 150 + 6 * (int64_t)i; /* day of year 150 .. 264, every 6 days */
        water[i] = 0.02;
        peer[i] = 0.03;
        vv[i] = 0.1;
        looks[i] = 25.0;
        pass[i] = (int)(i % 2);
    }
    water[3] = 0.8; /* day of year 168: the planting weeks */
    vv[3] = 0.02;
    parus_health_radar_series rs = {.day = day,
                                    .water = water,
                                    .vv = vv,
                                    .looks_vv = looks,
                                    .pass = pass,
                                    .peer_water = peer,
                                    .n = 20};
    parus_health_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1); /* dry peers: water a maize field does not share */
    c.paddy = true;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    c.paddy = false;
    water[3] = 0.02;
    vv[3] = 0.1;
    /* optical water on day of year 210 (day[10]): radar saw the parcel dry that day */
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    r.event[0].flag = PARUS_HEALTH_FLOOD;
    r.event[0].day = r.event[0].last_day = jan1 + 210;
    snprintf(r.event[0].reason, sizeof r.event[0].reason, "optical");
    parus_health_result kept = r;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* ... off (radar_veto_days 0): kept */
    opt.radar_veto_days = 0.0;
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    opt.radar_veto_days = 3.0;
    /* ... radar with too few looks to vouch for a share: kept */
    looks[10] = 10.0;
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    looks[10] = 25.0;
    /* ... a share under water on the day (radar_veto_share), or VV darker there: kept */
    water[10] = 0.15;
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    water[10] = 0.02;
    vv[10] = 0.06; /* 2.2 db */
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    vv[10] = 0.1;
    /* ... radar wet within a revisit of it (the water came and went between views): kept and
     * dated by radar */
    water[9] = 0.7;
    vv[9] = 0.02;
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[9] && r.event[0].last_day == jan1 + 210);
    water[9] = 0.02;
    vv[9] = 0.1;
    /* ... no radar date within radar_veto_days of it: kept */
    for (size_t i = 0; i < 20; i++)
        day[i] += 3 * (i >= 10); /* day[9] = 204, day[10] = 213 */
    day[10] += 1;
    r = kept;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    /* an optical loss is not radar's to drop */
    r = kept;
    r.event[0].flag = PARUS_HEALTH_SUDDEN_LOSS;
    day[10] -= 4;
    assert_int_equal(parus_health_radar_floods(&rs, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
}

/* A sudden loss under cloud, from VH against the peers: the parcel's VH falls 5 dB from one date
 * on, on both passes, and stays down while the peers' does not; a dip that comes back, a fall its
 * peers share, a crop ahead of its peers falling back to them, a late crop whose own VH does not
 * fall, a loss in the harvest window, on wet dates or beside a flood, and too few looks are not
 * losses; an optical loss seen later is dated by radar. */
static void test_loss__radar_under_cloud(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop c = maize(); /* sown 165, harvested 270: season 180 .. 280, harvest window 250.. */
    parus_error err;
    int64_t jan1 = day_of("2024-01-01"), day[20];
    double vh[20], peer[20], looks[20], water[20];
    int pass[20];
    for (size_t i = 0; i < 20; i++) {
        day[i] = jan1 + 150 + 6 * (int64_t)i; /* day of year 150 .. 264, every 6 days */
        peer[i] = 0.03 * (i % 2 ? 1.0 : 0.8); /* two passes */
        vh[i] = peer[i] * (1.0 + 0.05 * (double)(i % 3));
        looks[i] = 60.0;
        water[i] = 0.01;
        pass[i] = (int)(i % 2);
    }
    for (size_t i = 10; i < 20; i++)
        vh[i] *= 0.3; /* day of year 210 on: 5.2 db down, both passes */
    parus_health_radar_series s = {.day = day,
                                   .water = water,
                                   .vh = vh,
                                   .looks_vh = looks,
                                   .pass = pass,
                                   .peer_vh = peer,
                                   .n = 20};
    parus_health_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_int_equal(r.event[0].flag, PARUS_HEALTH_SUDDEN_LOSS);
    assert_true(r.event[0].day == day[10]);
    assert_non_null(strstr(r.event[0].reason, "radar: vh fell 5."));
    assert_non_null(strstr(r.event[0].reason, "standard errors), not recovered"));
    /* a fall of 2.2 db (0.6) on 60 looks: found, and dated at its first date */
    for (size_t i = 10; i < 20; i++)
        vh[i] *= 2.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[10]);
    /* ... but not under radar_loss_vh_db */
    opt.radar_loss_vh_db = 2.5;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    opt.radar_loss_vh_db = 2.0;
    for (size_t i = 10; i < 20; i++)
        vh[i] /= 2.0;
    /* without peers: nothing judged */
    s.peer_vh = NULL;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    s.peer_vh = peer;
    /* the peers fell as much (a regional change, or ripening): no loss */
    double peer2[20];
    for (size_t i = 0; i < 20; i++)
        peer2[i] = i >= 10 ? 0.3 * peer[i] : peer[i];
    s.peer_vh = peer2;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* a crop ahead of its peers (3.5 db above them) that they catch up with as it ripens: it
     * falls back to them and a little below (2.2 db), not by half its fall */
    double vh2[20];
    for (size_t i = 0; i < 20; i++) {
        peer2[i] = i >= 10 ? peer[i] : 0.45 * peer[i];
        vh2[i] = peer[i] * (i >= 10 ? 0.6 : 1.0);
    }
    s.vh = vh2;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* a late or weak crop: it falls behind its rising peers, its own VH flat */
    for (size_t i = 0; i < 20; i++) {
        peer2[i] = i >= 10 ? 3.0 * peer[i] : peer[i];
        vh2[i] = peer[i];
    }
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* the same with its own VH falling (beaten down as the peers rose): a loss */
    for (size_t i = 10; i < 20; i++)
        vh2[i] = 0.5 * peer[i];
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    s.vh = vh;
    s.peer_vh = peer;
    /* too few looks: 3 standard errors of the step between three dates and three are 8.5 db at 2
     * looks a date */
    for (size_t i = 0; i < 20; i++)
        looks[i] = 2.0;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    for (size_t i = 0; i < 20; i++)
        looks[i] = 60.0;
    /* wet: the flood rule's */
    water[10] = water[11] = water[12] = water[13] = 0.8;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_true(r.n_events == 0 || r.event[0].day > day[13]);
    for (size_t i = 0; i < 20; i++)
        water[i] = 0.01;
    /* beside a flood already flagged: the flood's */
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    r.event[0].flag = PARUS_HEALTH_FLOOD;
    r.event[0].day = day[11];
    r.event[0].last_day = day[12];
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_int_equal(r.event[0].flag, PARUS_HEALTH_FLOOD);
    /* a dip that comes back */
    for (size_t i = 13; i < 20; i++)
        vh[i] /= 0.3;
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    for (size_t i = 13; i < 20; i++)
        vh[i] *= 0.3;
    /* an optical loss from a later clear date is dated by radar */
    memset(&r, 0, sizeof r);
    r.n_events = 1;
    r.event[0].flag = PARUS_HEALTH_SUDDEN_LOSS;
    r.event[0].day = r.event[0].last_day = day[11] + 2;
    r.event[0].confidence = 0.5;
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 1);
    assert_true(r.event[0].day == day[10]);
    assert_non_null(strstr(r.event[0].reason, "; optical loss from "));
    /* in the harvest window (from 20 days before day of year 270): not judged */
    for (size_t i = 0; i < 20; i++)
        vh[i] = peer[i] * (i >= 17 ? 0.3 : 1.0); /* day of year 252 on */
    memset(&r, 0, sizeof r);
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.n_events, 0);
    /* bad input */
    day[5] = day[4] - 1;
    assert_int_equal(parus_health_radar_losses(&s, &c, &opt, &r, &err), PARUS_E_INVALID);
    assert_int_equal(parus_health_radar_losses(NULL, &c, &opt, &r, &err), PARUS_E_INVALID);
}

/* The radar peer reference of parus assess (radar_peers_int.h): medians to a 0.1 dB bin, the wet
 * level's upper quartile of each peer's highest share within the window, NaN under min_n. */
static void test_radar_peers__medians_and_wet_level(void **state)
{
    (void)state;
    parus_error err;
    parus__radar_peers *p = parus__radar_peers_new();
    assert_non_null(p);
    int64_t day[2] = {1000, 1006};
    for (int k = 0; k < 7; k++) {
        double vv[2] = {pow(10.0, (-10.0 - k) / 10.0), NAN};
        double vh[2] = {pow(10.0, (-20.0 + 0.5 * k) / 10.0), pow(10.0, -17.0 / 10.0)};
        double water[2] = {0.0, 0.1 * k}; /* its highest within 10 days: 0.1 k on both dates */
        assert_int_equal(parus__radar_peers_add(p, 3, day, vv, vh, water, 2, 10.0, &err), PARUS_OK);
    }
    double vv, vh, wet;
    parus__radar_peers_get(p, 3, 1000, 5, &vv, &vh, &wet);
    assert_true(fabs(10.0 * log10(vv) - -13.0) <= 0.06); /* -10 .. -16 dB: median -13 */
    assert_true(fabs(10.0 * log10(vh) - -18.5) <= 0.06);
    assert_true(fabs(wet - 0.5) < 1e-9); /* 0, 0.1, ..., 0.6: upper quartile (rank 4.5) 0.5 */
    parus__radar_peers_get(p, 3, 1006, 5, &vv, &vh, &wet);
    assert_true(isnan(vv)); /* no VV that day */
    assert_true(fabs(10.0 * log10(vh) - -17.0) <= 0.06);
    parus__radar_peers_get(p, 3, 1000, 8, &vv, &vh, &wet); /* fewer than 8 peers */
    assert_true(isnan(vv) && isnan(vh) && isnan(wet));
    parus__radar_peers_get(p, 4, 1000, 1, &vv, &vh, &wet); /* another crop */
    assert_true(isnan(vv) && isnan(vh) && isnan(wet));
    parus__radar_peers_free(p);
}

static void test_assess__bad_input_and_determinism(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series s, empty;
    parus_health_series_init(&s);
    parus_health_series_init(&empty);
    make_season(&s, 0.0, 1.0, 0.0);
    parus_health_series_finish(&s, &opt);
    parus_health_result r1, r2;
    parus_error err;
    assert_int_equal(parus_health_assess(&empty, &c, NULL, NULL, &opt, &r1, &err), PARUS_E_INVALID);
    peer_set ps;
    make_peers(&ps, &opt);
    parus_health_series other;
    parus_health_series_init(&other);
    assert_int_equal(parus_health_series_alloc(&other, s.start_day + 1, 10, N_STEPS, NULL),
                     PARUS_OK);
    assert_int_equal(parus_health_assess(&other, &c, &ps.peers, NULL, &opt, &r1, &err),
                     PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "does not match"));
    /* the same input, the same result to the bit */
    assert_int_equal(parus_health_assess(&s, &c, &ps.peers, NULL, &opt, &r1, &err), PARUS_OK);
    assert_int_equal(parus_health_assess(&s, &c, &ps.peers, NULL, &opt, &r2, &err), PARUS_OK);
    assert_memory_equal(&r1, &r2, sizeof r1);
    free_peers(&ps);
    parus_health_series_release(&other);
    parus_health_series_release(&s);
}

/* The planted area's interval (docs/method.md, section 10) at its boundaries: the standard error
 * of one observation from its pixels, the interval from the greenest full-canopy step, and the
 * area check on the interval, exactly at the tolerance. */
static void test_planted_area__interval(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_error err;
    /* the standard error of a vegetated fraction: sqrt((sqrt(W) + e W) / 12) / W */
    {
        int64_t day[4] = {1001, 1011, 1021, 1031};
        parus_observation obs[4];
        for (int k = 0; k < 4; k++) {
            obs[k] = clear_obs(1.0, 0.6, 0.05);
            obs[k].w_valid_px = 16.0;
            obs[k].edge_share = 0.5;
        }
        obs[1].edge_share = NAN; /* unknown: every pixel taken as an edge pixel */
        obs[2].w_valid_px = 0.25;
        obs[2].edge_share = 1.0;
        parus_health_series s;
        parus_health_series_init(&s);
        assert_int_equal(parus_health_series_build(&s, &opt, day, obs, 4, 1000, 1039, &err),
                         PARUS_OK);
        assert_close(s.v[PARUS_HEALTH_VEG_SE][0], 0.0625, 1e-15, 0); /* sqrt(12 / 12) / 16 */
        assert_close(s.v[PARUS_HEALTH_VEG_SE][1], sqrt(20.0 / 12.0) / 16.0, 1e-15, 0);
        assert_close(s.v[PARUS_HEALTH_VEG_SE][2], sqrt(0.75 / 12.0) / 0.25, 1e-15, 0); /* 1 */
        parus_health_series_release(&s);
    }

    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    for (size_t i = 0; i < N_STEPS; i++)
        s.v[PARUS_HEALTH_VEG][i] = 0.0;
    /* 13 July (day 195) is in the growing season but before full canopy (maize's expected NDVI
     * is 0.504 on day 195 but 0.315 ten days before); 23 July to 1 September (days 205-245) are
     * at full canopy, all observed (at 0 but for 2 and 12 August) */
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-13")] = 0.75;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-02")] = 0.80;
    s.v[PARUS_HEALTH_VEG_SE][step_of(&s, "2024-08-02")] = 0.02;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-12")] = 0.85;
    s.v[PARUS_HEALTH_VEG_SE][step_of(&s, "2024-08-12")] = 0.03;
    parus_health_series_finish(&s, &opt);
    opt.area_tolerance = 0.1;
    parus_planted_area a;
    /* share (0.85 + 0.80 + 0.75) / 3 = 0.8; interval [0.8 - 0.03, 0.85 + 0.03] x 3000 m2 */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, NAN, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_share, 0.8, 1e-12, 0);
    assert_int_equal(a.n_canopy, 5);
    assert_close(a.share_se, 0.03, 0, 0);
    assert_close(a.planted_share_lo, 0.77, 1e-12, 0);
    assert_close(a.planted_share_hi, 0.88, 1e-12, 0);
    assert_close(a.planted_area_lo_m2, 2310.0, 1e-9, 0);
    assert_close(a.planted_area_hi_m2, 2640.0, 1e-9, 0);
    /* a shortfall only when even 2640 m2 is more than 10 % below the declared area: 2640 / 0.9
     * = 2933.33 m2 is not, 2933.34 is (the planted 2400 m2 alone would be 18 % short) */
    assert_int_equal(
        parus_health_planted_area(&s, &c, 3000.0, 2933.33 / PARUS_M2_PER_MU, &opt, &a, &err),
        PARUS_OK);
    assert_false(a.has_event);
    assert_int_equal(parus_area_compare_interval(2310.0, 2640.0, 2933.33, 0.1), PARUS_AREA_OK);
    assert_int_equal(
        parus_health_planted_area(&s, &c, 3000.0, 2933.34 / PARUS_M2_PER_MU, &opt, &a, &err),
        PARUS_OK);
    assert_true(a.has_event);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_SHORTFALL);
    assert_int_equal(parus_area_compare_interval(2310.0, 2640.0, 2933.34, 0.1),
                     PARUS_AREA_SHORTFALL);
    /* an excess only when even 2310 m2 is more than 10 % above: 2100 m2 is exactly 10 % */
    assert_int_equal(
        parus_health_planted_area(&s, &c, 3000.0, 2100.0 / PARUS_M2_PER_MU, &opt, &a, &err),
        PARUS_OK);
    assert_false(a.has_event);
    assert_int_equal(
        parus_health_planted_area(&s, &c, 3000.0, 2099.99 / PARUS_M2_PER_MU, &opt, &a, &err),
        PARUS_OK);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_EXCESS);
    assert_int_equal(parus_area_compare_interval(2310.0, 2640.0, 2099.99, 0.1), PARUS_AREA_EXCESS);
    /* area_z 0: the greenest full-canopy step itself above, the share below */
    parus_health_options o0 = opt;
    o0.area_z = 0.0;
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, NAN, &o0, &a, &err), PARUS_OK);
    assert_close(a.planted_area_lo_m2, 2400.0, 1e-9, 0);
    assert_close(a.planted_area_hi_m2, 2550.0, 1e-9, 0);
    /* no standard error known (observations stored without a pixel count): no margin */
    s.v[PARUS_HEALTH_VEG_SE][step_of(&s, "2024-08-12")] = NAN;
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, NAN, &opt, &a, &err), PARUS_OK);
    assert_true(isnan(a.share_se));
    assert_close(a.planted_area_lo_m2, 2400.0, 1e-9, 0);
    assert_close(a.planted_area_hi_m2, 2550.0, 1e-9, 0);
    /* no full-canopy step observed: nothing says the parcel is less sown than it is large, so
     * no shortfall against any declared area up to the parcel's own (4.6 mu = 3066.67 m2 is
     * within 10 % of 3000 m2), though the share itself says 0.75 */
    for (const char *const *d = (const char *const[]){"2024-07-23", "2024-08-02", "2024-08-12",
                                                      "2024-08-22", "2024-09-01", NULL};
         *d; d++)
        s.flag[step_of(&s, *d)] = PARUS_SERIES_MISSING;
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 4.6, &opt, &a, &err), PARUS_OK);
    assert_int_equal(a.n_canopy, 0);
    assert_close(a.planted_share, 0.75 / 3.0, 1e-12, 0); /* 0.75, 0, 0: the top three */
    assert_close(a.planted_area_hi_m2, 3000.0, 1e-9, 0);
    assert_false(a.has_event);
    /* ... but a declared area beyond the parcel's own still is one */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 6.0, &opt, &a, &err), PARUS_OK);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_SHORTFALL);
    /* a covered crop: [1, 1] x the area; a noncrop one: [0, 0] */
    parus_crop cov = c;
    cov.kind = PARUS_CROP_COVERED;
    assert_int_equal(parus_health_planted_area(&s, &cov, 3000.0, NAN, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_lo_m2, 3000.0, 0, 0);
    assert_close(a.planted_area_hi_m2, 3000.0, 0, 0);
    /* a noncrop one: [0, 0] while no observed step is green (the vegetated fraction is 0 on
     * every step still observed but 13 July, set to 0 here) */
    cov.kind = PARUS_CROP_NONCROP;
    cov.n_cycles = 0;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-13")] = 0.0;
    assert_int_equal(parus_health_planted_area(&s, &cov, 3000.0, NAN, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_m2, 0.0, 0, 0);
    assert_close(a.planted_area_lo_m2, 0.0, 0, 0);
    assert_close(a.planted_area_hi_m2, 0.0, 0, 0);
    /* ... a step seen green contradicts the class: up to its vegetated fraction plus margin */
    size_t sep = step_of(&s, "2024-09-11");
    s.v[PARUS_HEALTH_VEG][sep] = 0.9;
    s.v[PARUS_HEALTH_VEG_SE][sep] = 0.05;
    assert_int_equal(parus_health_planted_area(&s, &cov, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_m2, 0.0, 0, 0);
    assert_close(a.planted_area_hi_m2, 2850.0, 1e-9, 0);
    assert_false(a.has_event); /* 2850 m2 is within 10 % of 3000 */
    parus_health_series_release(&s);
}

/* POOR needs the parcel outside its peers' own spread (Tukey's lower fence of their green
 * ratios): against the eight close maize fields a field 45 % as green is POOR; against a group
 * whose members range from a third to 1.3 times as green (a class that gathers several crops)
 * the same field is only FAIR, its score unchanged. The old rule gave POOR for both. */
static void test_score__poor_needs_to_fall_outside_its_peers(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 0.45, 0.0);
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(r.cls, PARUS_HEALTH_POOR);
    static const double gain[N_PEERS] = {0.3, 0.35, 0.4, 1.0, 1.05, 1.1, 1.2, 1.3};
    peer_set ps;
    for (size_t k = 0; k < N_PEERS; k++) {
        parus_health_series_init(&ps.m[k]);
        make_season(&ps.m[k], 0.0, gain[k], 0.0);
        parus_health_series_finish(&ps.m[k], &opt);
        ps.p[k] = &ps.m[k];
    }
    parus_health_peers_init(&ps.peers);
    assert_int_equal(parus_health_peers_build(&ps.peers, ps.p, N_PEERS, &opt, NULL), PARUS_OK);
    /* the members' ratios to the median (gain / 1.025, the median of the eight gains):
     * quartiles (type 7) 0.3875 / 1.025 and 1.125 / 1.025; fence 0.378 - 1.5 x 0.72 < 0 */
    assert_close(ps.peers.ratio_p25, 0.3875 / 1.025, 0.01, 0);
    assert_close(ps.peers.ratio_p75, 1.125 / 1.025, 0.01, 0);
    parus_error err;
    assert_int_equal(parus_health_assess(&s, &c, &ps.peers, NULL, &opt, &r, &err), PARUS_OK);
    assert_true(r.score < opt.fair_score);
    assert_int_equal(r.cls, PARUS_HEALTH_FAIR);
    /* a fence far above every ratio: the old rule, POOR */
    opt.poor_fence_iqr = -10.0;
    assert_int_equal(parus_health_assess(&s, &c, &ps.peers, NULL, &opt, &r, &err), PARUS_OK);
    assert_int_equal(r.cls, PARUS_HEALTH_POOR);
    free_peers(&ps);
    parus_health_series_release(&s);
}

/* A crop never seen while it stands at full canopy (cloud over every such date) is not called
 * NOT_PLANTED from a bare spring and autumn: nothing says it was not sown. The old rule raised
 * it, and the parcel scored 0 (POOR). */
static void test_not_planted__needs_a_clear_view_at_full_canopy(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    size_t hidden = 0;
    for (size_t i = 0; i < N_STEPS; i++) {
        int doy = parus_series_day_of_year(s.day[i]);
        if (parus_crop_expected_ndvi(&c, doy - 10) >= 0.4 ||
            parus_crop_expected_ndvi(&c, doy) >= 0.4 ||
            parus_crop_expected_ndvi(&c, doy + 10) >= 0.4) {
            s.flag[i] = PARUS_SERIES_MISSING;
            for (int v = 0; v < PARUS_HEALTH_N_VARS_; v++)
                s.v[v][i] = NAN;
            hidden++;
        }
    }
    assert_true(hidden >= 5 && hidden < N_STEPS - 6);
    parus_health_result r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 0);
    /* seen bare on one full-canopy date: not planted */
    make_season(&s, 0.0, 0.0, 0.0);
    r = assess_against_peers(&s, &c);
    assert_int_equal(count_flag(&r, PARUS_HEALTH_NOT_PLANTED), 1);
    parus_health_series_release(&s);
}

/* A parcel of a covered crop (greenhouse) seen at an open canopy's NDVI is not under plastic:
 * its vegetated fraction is measured. Half sown (the green half a maize canopy, the rest bare):
 * share 0.5, a shortfall against 3000 m2 declared. Plastic film (NDVI 0.32, most pixels just
 * above 0.3) stays [1, 1]: nothing is measured under plastic. The old code gave [1, 1] to both. */
static void test_planted_area__covered_crop_with_an_open_canopy(void **state)
{
    (void)state;
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_crop cov = maize();
    cov.kind = PARUS_CROP_COVERED;
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    for (size_t i = 0; i < N_STEPS; i++) {
        double ndvi = 0.5 * s.v[PARUS_HEALTH_NDVI][i] + 0.5 * 0.18;
        s.v[PARUS_HEALTH_NDVI][i] = s.v[PARUS_HEALTH_VEG_NDVI][i] = ndvi;
        s.v[PARUS_HEALTH_VEG][i] *= 0.5;
        s.v[PARUS_HEALTH_VEG_SE][i] = 0.02;
    }
    parus_health_series_finish(&s, &opt);
    parus_planted_area a;
    parus_error err;
    assert_int_equal(parus_health_planted_area(&s, &cov, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_share, 0.5, 1e-9, 0);
    assert_close(a.planted_area_hi_m2, 0.52 * 3000.0, 1e-6, 0);
    assert_true(a.has_event);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_SHORTFALL);
    /* plastic film: NDVI 0.32, 80 % of the pixels above 0.3: (0.32 - 0.3 x 0.2) / 0.8 = 0.325 */
    for (size_t i = 0; i < N_STEPS; i++) {
        s.v[PARUS_HEALTH_NDVI][i] = s.v[PARUS_HEALTH_VEG_NDVI][i] = 0.32;
        s.v[PARUS_HEALTH_VEG][i] = 0.8;
    }
    parus_health_series_finish(&s, &opt);
    assert_int_equal(parus_health_planted_area(&s, &cov, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_lo_m2, 3000.0, 0, 0);
    assert_close(a.planted_area_hi_m2, 3000.0, 0, 0);
    assert_false(a.has_event);
    parus_health_series_release(&s);
}

static void test_planted_area__hand_numbers(void **state)
{
    (void)state;
    parus_crop c = maize();
    parus_health_options opt;
    parus_health_options_init(&opt);
    parus_health_series s;
    parus_health_series_init(&s);
    make_season(&s, 0.0, 1.0, 0.0);
    /* vegetated fraction over the season: zero, then 0.7, 0.8, 0.8, 0.8 and 0.6 in the season
     * (no standard error: the interval is the share itself, so the verdicts below are the
     * point estimate's; test_planted_area__interval has the interval) */
    for (size_t i = 0; i < N_STEPS; i++)
        s.v[PARUS_HEALTH_VEG][i] = 0.0;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-13")] = 0.7;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-23")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-02")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-12")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-22")] = 0.6;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-04-04")] = 1.0; /* weeds before sowing: ignored */
    parus_health_series_finish(&s, &opt);
    parus_planted_area a;
    parus_error err;
    /* share: mean of the three highest in the season, (0.8 + 0.8 + 0.8) / 3 = 0.8; 3000 m2 */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_share, 0.8, 1e-12, 0);
    assert_int_equal(a.share_day, day_of("2024-07-23"));
    assert_close(a.planted_area_lo_m2, 2400.0, 1e-9, 0);
    assert_close(a.planted_area_hi_m2, 2400.0, 1e-9, 0);
    assert_close(a.planted_area_m2, 2400.0, 1e-9, 0);
    assert_close(a.planted_area_mu, 3.6, 1e-12, 0);
    /* declared 4.5 mu = 3000 m2: 2400 / 3000 - 1 = -20 %, beyond 15 %: shortfall */
    assert_close(a.declared_area_m2, 3000.0, 1e-9, 0);
    assert_close(a.relative_difference, -0.2, 1e-12, 0);
    assert_true(a.has_event);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_SHORTFALL);
    assert_close(a.event.size, -0.2, 1e-12, 0);
    assert_close(a.event.confidence, 0.5 + 0.5 * (0.05 / 0.15), 1e-12, 0);
    assert_non_null(strstr(a.event.reason, "3.60 mu"));
    /* declared 3 mu = 2000 m2: +20 %: excess */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 3.0, &opt, &a, &err), PARUS_OK);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_EXCESS);
    assert_close(a.relative_difference, 0.2, 1e-12, 0);
    /* declared 3.8 mu: -5 %, within tolerance */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 3.8, &opt, &a, &err), PARUS_OK);
    assert_false(a.has_event);
    /* the flag is parus_area_compare's verdict, the one the stored area_check and the credit
     * haircut use, at and around the tolerance (2400 m2 planted, 15 % and 20 %) */
    for (int t = 0; t < 2; t++) {
        parus_health_options o2 = opt;
        o2.area_tolerance = t ? 0.2 : 0.15;
        for (int k = -400; k <= 400; k++) {
            double declared_mu = 4.5 + 0.0005 * k, planted_m2;
            parus_area_check want;
            assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, declared_mu, &o2, &a, &err),
                             PARUS_OK);
            planted_m2 = a.planted_area_m2;
            want = parus_area_compare(planted_m2, a.declared_area_m2, o2.area_tolerance);
            if (a.has_event != (bool)parus_area_is_mismatch(want) ||
                (a.has_event &&
                 a.event.flag != (want == PARUS_AREA_SHORTFALL ? PARUS_HEALTH_AREA_SHORTFALL
                                                               : PARUS_HEALTH_AREA_EXCESS)))
                fail_msg("declared %.4f mu, tolerance %g: flag %d, area check %s", declared_mu,
                         o2.area_tolerance, a.has_event, parus_area_check_name(want));
        }
    }
    /* assess holds the declared area in m2 and hands it here in mu (m2 / PARUS_M2_PER_MU); the
     * flag must still be the verdict the stored area_check and the credit haircut reach from the
     * m2 figure, exactly at the tolerance too (planted = 1.2 x declared, tolerance 20 %; 101 m2
     * comes back from mu as 100.99999999999999) */
    for (int declared_m2 = 1; declared_m2 <= 3000; declared_m2++) {
        parus_health_options o2 = opt;
        parus_area_check want;
        o2.area_tolerance = 0.2;
        assert_int_equal(parus_health_planted_area(&s, &c, 1.5 * declared_m2,
                                                   declared_m2 / PARUS_M2_PER_MU, &o2, &a, &err),
                         PARUS_OK);
        want = parus_area_compare(a.planted_area_m2, declared_m2, o2.area_tolerance);
        if (a.has_event != (bool)parus_area_is_mismatch(want))
            fail_msg("declared %d m2, planted %.17g m2: flag %d, area check %s", declared_m2,
                     a.planted_area_m2, a.has_event, parus_area_check_name(want));
    }
    /* none declared: no cross-check */
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, NAN, &opt, &a, &err), PARUS_OK);
    assert_false(a.has_event);
    assert_true(isnan(a.relative_difference));
    /* fallow: nothing planted; greenhouse: the whole parcel */
    parus_crop other = c;
    other.kind = PARUS_CROP_NONCROP;
    other.n_cycles = 0;
    assert_int_equal(parus_health_planted_area(&s, &other, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_m2, 0.0, 0, 0);
    /* ... but seen green (the weeds of 4 April, vegetated fraction 1): no shortfall shown */
    assert_close(a.planted_area_hi_m2, 3000.0, 0, 0);
    assert_false(a.has_event);
    /* never seen green: a shortfall */
    double weeds = s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-04-04")];
    for (size_t i = 0; i < N_STEPS; i++)
        if (s.v[PARUS_HEALTH_VEG][i] > 0.0)
            s.v[PARUS_HEALTH_VEG][i] = 0.0;
    assert_int_equal(parus_health_planted_area(&s, &other, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_hi_m2, 0.0, 0, 0);
    assert_int_equal(a.event.flag, PARUS_HEALTH_AREA_SHORTFALL);
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-04-04")] = weeds;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-13")] = 0.7;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-07-23")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-02")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-12")] = 0.8;
    s.v[PARUS_HEALTH_VEG][step_of(&s, "2024-08-22")] = 0.6;
    other.kind = PARUS_CROP_COVERED;
    assert_int_equal(parus_health_planted_area(&s, &other, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_area_m2, 3000.0, 0, 0);
    /* the crop unknown: its season is the parcel's own detected cycle, which leaves the April
     * weeds out too */
    assert_int_equal(parus_health_planted_area(&s, NULL, 3000.0, 4.5, &opt, &a, &err), PARUS_OK);
    assert_close(a.planted_share, 0.8, 1e-12, 0);
    /* errors */
    assert_int_equal(parus_health_planted_area(&s, &c, -1.0, 4.5, &opt, &a, &err), PARUS_E_INVALID);
    assert_int_equal(parus_health_planted_area(&s, &c, NAN, 4.5, &opt, &a, &err), PARUS_E_INVALID);
    for (size_t i = 0; i < N_STEPS; i++)
        s.v[PARUS_HEALTH_VEG][i] = NAN;
    assert_int_equal(parus_health_planted_area(&s, &c, 3000.0, 4.5, &opt, &a, &err), PARUS_E_RANGE);
    parus_health_series_release(&s);
}

/* ---- the synthetic acceptance ---- */

#define SYN_DATES 24
#define SYN_STEP_DAYS 10 /* the generator's step for 24 dates from 5 March to 31 October */
#define MAX_PARCELS 1024

typedef struct truth_parcel {
    char id[16];
    char crop[32];
    double planted_fraction, true_area_m2;
    int valid;
    /* injected event: 0 none, 1 flood, 2 sudden loss */
    int event;
    int64_t event_day, event_last_day;
    bool event_seen;         /* a clear observation within one revisit of its start */
    bool event_seen_any;     /* ... with any clear pixel (valid fraction > 0) */
    int64_t first_clear_day; /* the first clear observation on or after the start (in the event) */
    /* the generator's NDVI of the parcel's own mean reflectance, per date */
    double truth_ndvi_of_mean[SYN_DATES];
    /* the parcel's observations, from the store */
    bool stored;
    double area_m2, declared_area_mu;
    int64_t *obs_day;
    parus_observation *obs;
    size_t n_obs;
    /* its radar dates and water fraction (a season generated with --radar) */
    int64_t *rd_day;
    double *rd_water, *rd_vv, *rd_vh, *rd_looks, *rd_looks_vh;
    int *rd_pass;
    size_t n_rd;
    /* assessment (per mode) */
    parus_health_series series;
    parus_health_result result;
    parus_planted_area area;
} truth_parcel;

typedef struct synth_season {
    truth_parcel *p;
    size_t n;
    int64_t first_day, last_day;
    bool radar; /* use the radar floods (parus_health_radar_floods) */
} synth_season;

static const char *tool(const char *env)
{
    const char *b = getenv(env);
    return b && *b ? b : NULL;
}

/* Split a CSV line (no quoting in the truth files) into at most max fields, in place. */
static size_t split_csv(char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        field[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    char *nl = strpbrk(field[n - 1], "\r\n");
    if (nl)
        *nl = '\0';
    return n;
}

static truth_parcel *find_truth(synth_season *ss, const char *id)
{
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->p[i].id, id) == 0)
            return &ss->p[i];
    return NULL;
}

static void read_truth(const char *dir, synth_season *ss)
{
    char *path = parus_test_path(dir, "truth/parcels_truth.csv"), line[1024], *f[16];
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    ss->p = calloc(MAX_PARCELS, sizeof *ss->p);
    assert_non_null(ss->p);
    while (fgets(line, sizeof line, fp)) {
        size_t k = split_csv(line, f, 16);
        assert_true(k >= 8);
        assert_true(ss->n < MAX_PARCELS);
        truth_parcel *t = &ss->p[ss->n++];
        snprintf(t->id, sizeof t->id, "%s", f[0]);
        snprintf(t->crop, sizeof t->crop, "%s", f[3]);
        t->planted_fraction = strtod(f[4], NULL);
        t->true_area_m2 = strtod(f[5], NULL);
        t->valid = f[7][0] == '1';
        parus_health_series_init(&t->series);
    }
    fclose(fp);
    free(path);

    path = parus_test_path(dir, "truth/events.csv");
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp));
    while (fgets(line, sizeof line, fp)) {
        size_t k = split_csv(line, f, 8);
        assert_true(k >= 5);
        truth_parcel *t = find_truth(ss, f[0]);
        assert_non_null(t);
        t->event = strcmp(f[1], "flood") == 0 ? 1 : 2;
        assert_int_equal(parus_series_parse_day(f[2], &t->event_day, NULL), PARUS_OK);
        t->event_last_day = t->event_day;
        if (t->event == 1)
            assert_int_equal(parus_series_parse_day(f[3], &t->event_last_day, NULL), PARUS_OK);
    }
    fclose(fp);
    free(path);

    path = parus_test_path(dir, "truth/dates.csv");
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp));
    size_t n_dates = 0;
    while (fgets(line, sizeof line, fp)) {
        split_csv(line, f, 8);
        int64_t d;
        assert_int_equal(parus_series_parse_day(f[0], &d, NULL), PARUS_OK);
        if (n_dates == 0)
            ss->first_day = d;
        ss->last_day = d;
        n_dates++;
    }
    fclose(fp);
    free(path);
    assert_int_equal(n_dates, SYN_DATES);
    assert_int_equal(ss->last_day - ss->first_day, (SYN_DATES - 1) * SYN_STEP_DAYS);

    /* parcel-major rows: parcel_id, date, ndvi, ndvi_of_mean */
    path = parus_test_path(dir, "truth/parcel_ndvi.csv");
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp));
    truth_parcel *t = NULL;
    while (fgets(line, sizeof line, fp)) {
        assert_true(split_csv(line, f, 8) >= 4);
        if (!t || strcmp(t->id, f[0]) != 0)
            t = find_truth(ss, f[0]);
        assert_non_null(t);
        int64_t d;
        assert_int_equal(parus_series_parse_day(f[1], &d, NULL), PARUS_OK);
        t->truth_ndvi_of_mean[(d - ss->first_day) / SYN_STEP_DAYS] = strtod(f[3], NULL);
    }
    fclose(fp);
    free(path);
}

typedef struct obs_buf {
    int64_t *day;
    parus_observation *obs;
    size_t n, cap;
} obs_buf;

static int collect(const parus_series_point *pt, void *ctx)
{
    obs_buf *b = ctx;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 32;
        int64_t *d = realloc(b->day, cap * sizeof *d);
        if (!d)
            return 1;
        b->day = d;
        parus_observation *o = realloc(b->obs, cap * sizeof *o);
        if (!o)
            return 1;
        b->obs = o;
        b->cap = cap;
    }
    if (parus_series_parse_day(pt->date, &b->day[b->n], NULL) != PARUS_OK)
        return 1;
    b->obs[b->n++] = pt->obs;
    return 0;
}

/* *p resized to n elements of size bytes; false when out of memory (*p kept). */
static bool resize(void **p, size_t n, size_t size)
{
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    return true;
}

static int collect_radar(const parus_radar_point *pt, void *ctx)
{
    truth_parcel *t = ctx;
    size_t n = t->n_rd + 1;
    if (!resize((void **)&t->rd_day, n, sizeof *t->rd_day) ||
        !resize((void **)&t->rd_water, n, sizeof *t->rd_water) ||
        !resize((void **)&t->rd_vv, n, sizeof *t->rd_vv) ||
        !resize((void **)&t->rd_vh, n, sizeof *t->rd_vh) ||
        !resize((void **)&t->rd_looks, n, sizeof *t->rd_looks) ||
        !resize((void **)&t->rd_looks_vh, n, sizeof *t->rd_looks_vh) ||
        !resize((void **)&t->rd_pass, n, sizeof *t->rd_pass))
        return 1;
    t->rd_vh[t->n_rd] = pt->obs.vh;
    t->rd_vv[t->n_rd] = pt->obs.vv;
    t->rd_looks[t->n_rd] = pt->obs.looks_vv;
    t->rd_looks_vh[t->n_rd] = pt->obs.looks_vh;
    t->rd_pass[t->n_rd] = pt->relative_orbit;
    if (parus_series_parse_day(pt->date, &t->rd_day[t->n_rd], NULL) != PARUS_OK)
        return 1;
    t->rd_water[t->n_rd++] = pt->obs.radar_water_fraction;
    return 0;
}

typedef struct score_counts {
    size_t truth_floods, found_floods, water_events, water_true;
    size_t truth_floods_in_season, flood_flags, flood_flags_true, found_floods_in_season;
    size_t truth_losses, found_losses, loss_flags, loss_flags_true;
    size_t seen_floods, found_seen_floods, seen_losses, found_seen_losses;
    size_t seen_any_floods, seen_any_losses;
    size_t water_true_clear, loss_flags_true_clear;
    size_t water_true_any; /* on a flooded parcel, within a revisit of its days under water */
    double date_err_sum_days, date_err_max_days;
    size_t n_dated;
    size_t planted, planted_within_5pct;
    size_t other_flags[16];
} score_counts;

/* Per-parcel NDVI against the generator's (the NDVI of the parcel's own mean reflectance), on
 * fully clear observations: from the coverage-weighted band means, and the own (unmixed) one. */
typedef struct err_list {
    double *v;
    size_t n, cap;
} err_list;

typedef struct ndvi_errors {
    err_list mixed, own;             /* every parcel */
    err_list mixed_strip, own_strip; /* parcels with no fully covered pixel */
} ndvi_errors;

static void push_err(err_list *l, double x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = x;
}

static void note_ndvi_errors(ndvi_errors *ne, const truth_parcel *t, int64_t first_day)
{
    for (size_t k = 0; k < t->n_obs; k++) {
        const parus_observation *o = &t->obs[k];
        size_t di = (size_t)((t->obs_day[k] - first_day) / SYN_STEP_DAYS);
        double red = o->band_mean[PARUS_ROLE_RED], nir = o->band_mean[PARUS_ROLE_NIR];
        double truth = t->truth_ndvi_of_mean[di], own = o->own_mean[PARUS_INDEX_NDVI];
        double mixed = (nir - red) / (nir + red);
        if (!(o->valid_fraction >= 0.999) || !isfinite(own) || !isfinite(mixed))
            continue;
        push_err(&ne->mixed, fabs(mixed - truth));
        push_err(&ne->own, fabs(own - truth));
        if (o->n_pure == 0) {
            push_err(&ne->mixed_strip, fabs(mixed - truth));
            push_err(&ne->own_strip, fabs(own - truth));
        }
    }
}

static void note_date(score_counts *sc, int64_t found, int64_t truth)
{
    double e = fabs((double)(found - truth));
    sc->date_err_sum_days += e;
    if (e > sc->date_err_max_days)
        sc->date_err_max_days = e;
    sc->n_dated++;
}

/* Generate one synthetic season, load and ingest it, and read every parcel's observations. */
static char *ingest_season(unsigned seed, const char *extra, synth_season *ss)
{
    const char *synth = tool("PARUS_SYNTH"), *bin = tool("PARUS_BIN");
    char *dir = parus_test_tmpdir("health"), cmd[4096], *errs = NULL;
    snprintf(cmd, sizeof cmd,
             "'%s' --out '%s' --size 512 --dates %d --seed %u --quiet --crops "
             "'%s/data-samples/crops.csv' %s",
             synth, dir, SYN_DATES, seed, parus_test_source_dir(), extra);
    assert_int_equal(parus_test_run(cmd, NULL, &errs), 0);
    free(errs);
    char *db = parus_test_path(dir, "parus.db");
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' parcels load '%s/parcels.geojson'", bin, db, dir);
    int rc = parus_test_run(cmd, NULL, &errs);
    free(errs);
    assert_true(rc == 0 || rc == 8); /* 8: a collapsed ring set aside, as the registry has */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' ingest '%s'/*.tif", bin, db, dir);
    assert_int_equal(parus_test_run(cmd, NULL, &errs), 0);
    free(errs);

    memset(ss, 0, sizeof *ss);
    read_truth(dir, ss);
    parus_store *store;
    parus_error err;
    assert_int_equal(parus_store_open_existing(db, &store, &err), PARUS_OK);
    for (size_t i = 0; i < ss->n; i++) {
        truth_parcel *t = &ss->p[i];
        parus_parcel parcel;
        if (parus_store_get_parcel(store, t->id, &parcel, &err) != PARUS_OK) {
            assert_false(t->valid); /* only a broken geometry is missing */
            continue;
        }
        obs_buf ob = {0};
        assert_int_equal(parus_store_parcel_series(store, t->id, collect, &ob, NULL, &err),
                         PARUS_OK);
        assert_int_equal(
            parus_store_parcel_radar_series(store, t->id, collect_radar, t, NULL, &err), PARUS_OK);
        t->stored = true;
        t->obs = ob.obs;
        t->obs_day = ob.day;
        t->n_obs = ob.n;
        t->area_m2 = parcel.area_m2;
        t->declared_area_mu = parcel.declared_area_m2 / PARUS_M2_PER_MU;
        t->first_clear_day = INT64_MAX;
        for (size_t k = 0; t->event && k < ob.n; k++) {
            int64_t end = t->event == 1 ? t->event_last_day : ss->last_day;
            if (ob.day[k] < t->event_day || ob.day[k] > end)
                continue;
            bool within = ob.day[k] <= t->event_day + SYN_STEP_DAYS;
            t->event_seen_any = t->event_seen_any || (within && ob.obs[k].valid_fraction > 0.0);
            if (ob.obs[k].valid_fraction < 0.6)
                continue;
            if (ob.day[k] < t->first_clear_day)
                t->first_clear_day = ob.day[k];
            t->event_seen = t->event_seen || within;
        }
        parus_parcel_release(&parcel);
    }
    parus_store_close(store);
    free(db);
    return dir;
}

static void free_season(synth_season *ss, char *dir)
{
    for (size_t i = 0; i < ss->n; i++) {
        free(ss->p[i].obs);
        free(ss->p[i].obs_day);
        free(ss->p[i].rd_day);
        free(ss->p[i].rd_water);
        free(ss->p[i].rd_vv);
        free(ss->p[i].rd_looks);
        free(ss->p[i].rd_looks_vh);
        free(ss->p[i].rd_vh);
        free(ss->p[i].rd_pass);
    }
    free(ss->p);
    parus_test_rmtree(dir);
    free(dir);
}

static int cmp_abs(const void *a, const void *b);

/* The median VV (vh false) or VH of the stored parcels of t's crop on the given day, NaN when
 * fewer than min_peers have one; vals: scratch of ss->n. */
static double peers_median_on(const synth_season *ss, const truth_parcel *t, int64_t day, bool vh,
                              size_t min_peers, double *vals)
{
    size_t nv = 0;
    for (size_t j = 0; j < ss->n; j++) {
        const truth_parcel *q = &ss->p[j];
        if (!q->stored || strcmp(q->crop, t->crop) != 0)
            continue;
        for (size_t e = 0; e < q->n_rd; e++) {
            double v = vh ? q->rd_vh[e] : q->rd_vv[e];
            if (q->rd_day[e] == day && v > 0.0) {
                vals[nv++] = v;
                break;
            }
        }
    }
    if (nv < min_peers)
        return NAN;
    qsort(vals, nv, sizeof *vals, cmp_abs);
    return nv % 2 ? vals[nv / 2] : 0.5 * (vals[nv / 2 - 1] + vals[nv / 2]);
}

/* Assess every parcel of a season with opt and add the scores to *sc. */
static void score_season(synth_season *ss, const parus_crop_table *crops,
                         const parus_health_options *opt, score_counts *sc, bool verbose)
{
    parus_error err;
    for (size_t i = 0; i < ss->n; i++) {
        truth_parcel *t = &ss->p[i];
        if (!t->stored)
            continue;
        assert_int_equal(parus_health_series_build(&t->series, opt, t->obs_day, t->obs, t->n_obs,
                                                   ss->first_day, ss->last_day + SYN_STEP_DAYS - 1,
                                                   &err),
                         PARUS_OK);
        const parus_crop *crop = parus_crop_table_find(crops, t->crop);
        assert_int_equal(parus_health_planted_area(&t->series, crop, t->area_m2,
                                                   t->declared_area_mu, opt, &t->area, &err),
                         PARUS_OK);
    }

    /* peers: the parcels of the same (truth) crop; the classifier's crop in production */
    const parus_health_series **members = calloc(ss->n, sizeof *members);
    assert_non_null(members);
    for (size_t i = 0; i < ss->n; i++) {
        truth_parcel *t = &ss->p[i];
        if (!t->stored)
            continue;
        size_t k = 0;
        for (size_t j = 0; j < ss->n; j++)
            if (ss->p[j].stored && strcmp(ss->p[j].crop, t->crop) == 0)
                members[k++] = &ss->p[j].series;
        parus_health_peers peers;
        parus_health_peers_init(&peers);
        assert_int_equal(parus_health_peers_build(&peers, members, k, opt, &err), PARUS_OK);
        const parus_crop *crop = parus_crop_table_find(crops, t->crop);
        assert_int_equal(parus_health_assess(&t->series, crop, &peers, NULL, opt, &t->result, &err),
                         PARUS_OK);
        parus_health_peers_release(&peers);
        if (ss->radar && t->n_rd) {
            /* the peers' wet level around each radar date (parus_health_radar_floods) */
            double *pw = malloc(t->n_rd * sizeof *pw), *vals = malloc(ss->n * sizeof *vals);
            double *pv = malloc(t->n_rd * sizeof *pv), *ph = malloc(t->n_rd * sizeof *ph);
            assert_true(pw && vals && pv && ph);
            for (size_t d = 0; d < t->n_rd; d++) {
                size_t nv = 0;
                /* the peers' median VV and VH on the date */
                pv[d] = peers_median_on(ss, t, t->rd_day[d], false, opt->min_peers, vals);
                ph[d] = peers_median_on(ss, t, t->rd_day[d], true, opt->min_peers, vals);
                for (size_t j = 0; j < ss->n; j++) {
                    const truth_parcel *q = &ss->p[j];
                    if (!q->stored || strcmp(q->crop, t->crop) != 0)
                        continue;
                    for (size_t e = 0; e < q->n_rd; e++)
                        if (q->rd_day[e] == t->rd_day[d] && q->rd_vh[e] > 0.0) {
                            vals[nv++] = q->rd_vh[e];
                            break;
                        }
                }
                ph[d] = NAN;
                if (nv >= opt->min_peers) {
                    qsort(vals, nv, sizeof *vals, cmp_abs);
                    ph[d] = nv % 2 ? vals[nv / 2] : 0.5 * (vals[nv / 2 - 1] + vals[nv / 2]);
                }
                nv = 0;
                for (size_t j = 0; j < ss->n; j++) {
                    const truth_parcel *q = &ss->p[j];
                    if (!q->stored || strcmp(q->crop, t->crop) != 0)
                        continue;
                    double hi = NAN;
                    for (size_t e = 0; e < q->n_rd; e++)
                        if (llabs(q->rd_day[e] - t->rd_day[d]) <= (long long)opt->step_days &&
                            isfinite(q->rd_water[e]) && !(q->rd_water[e] <= hi))
                            hi = q->rd_water[e];
                    if (isfinite(hi))
                        vals[nv++] = hi;
                }
                pw[d] = NAN;
                if (nv >= opt->min_peers) {
                    qsort(vals, nv, sizeof *vals, cmp_abs);
                    double h = 0.75 * (double)(nv - 1);
                    size_t lo = (size_t)h;
                    pw[d] = lo + 1 < nv ? vals[lo] + (h - (double)lo) * (vals[lo + 1] - vals[lo])
                                        : vals[nv - 1];
                }
            }
            /* PARUS_HEALTH_RADAR_PEERS=0: no peer reference, as parus assess judges */
            const char *use_peers = getenv("PARUS_HEALTH_RADAR_PEERS");
            bool no_peers = use_peers && strcmp(use_peers, "0") == 0;
            parus_health_radar_series rs = {.day = t->rd_day,
                                            .water = t->rd_water,
                                            .vv = t->rd_vv,
                                            .vh = t->rd_vh,
                                            .looks_vv = t->rd_looks,
                                            .looks_vh = t->rd_looks_vh,
                                            .pass = t->rd_pass,
                                            .peer_vv = no_peers ? NULL : pv,
                                            .peer_water = no_peers ? NULL : pw,
                                            .peer_vh = no_peers ? NULL : ph,
                                            .n = t->n_rd};
            assert_int_equal(parus_health_radar_floods(&rs, crop, opt, &t->result, &err), PARUS_OK);
            assert_int_equal(parus_health_radar_losses(&rs, crop, opt, &t->result, &err), PARUS_OK);
            /* a radar loss that is not the truth's: the VH anomaly and VH around it, dB */
            for (size_t e = 0; verbose && e < t->result.n_events; e++) {
                const parus_health_event *ev = &t->result.event[e];
                if (ev->flag != PARUS_HEALTH_SUDDEN_LOSS || strncmp(ev->reason, "radar", 5) != 0 ||
                    (t->event == 2 && llabs(ev->day - t->event_day) <= SYN_STEP_DAYS))
                    continue;
                fprintf(stderr, "  false radar loss %s (%s, event %d), anomaly/vh:", t->id, t->crop,
                        t->event);
                for (size_t d = 0; d < t->n_rd; d++)
                    if (llabs(t->rd_day[d] - ev->day) <= 60)
                        fprintf(stderr, " %+d:%.1f/%.1f", (int)(t->rd_day[d] - ev->day),
                                10.0 * log10(t->rd_vh[d] / ph[d]), 10.0 * log10(t->rd_vh[d]));
                fprintf(stderr, "\n");
            }
            free(ph);
            free(pw);
            free(pv);
            free(vals);
        }
    }
    free(members);

    for (size_t i = 0; i < ss->n; i++) {
        truth_parcel *t = &ss->p[i];
        if (!t->stored)
            continue;
        const parus_crop *crop = parus_crop_table_find(crops, t->crop);
        /* the growing season as the FLOOD flag defines it (dry-season water is no flood) */
        bool truth_in_season = false;
        for (int64_t d = t->event_day; t->event == 1 && d <= t->event_last_day; d++)
            truth_in_season = truth_in_season || parus_health_growing_season(crop, d, opt);
        bool water_hit = false, flood_hit = false, loss_hit = false;
        sc->truth_floods += t->event == 1;
        sc->truth_floods_in_season += truth_in_season;
        sc->truth_losses += t->event == 2;
        for (size_t e = 0; e < t->result.n_events; e++) {
            const parus_health_event *ev = &t->result.event[e];
            bool dated = llabs(ev->day - t->event_day) <= SYN_STEP_DAYS;
            /* the event could not be seen before its first clear observation */
            bool dated_clear = dated || (t->first_clear_day != INT64_MAX &&
                                         llabs(ev->day - t->first_clear_day) <= SYN_STEP_DAYS);
            switch (ev->flag) {
            case PARUS_HEALTH_FLOOD:
            case PARUS_HEALTH_WATER_OFF_SEASON: {
                bool ok = t->event == 1 && dated;
                sc->water_events++;
                sc->water_true += ok;
                sc->water_true_clear += t->event == 1 && dated_clear;
                sc->water_true_any += t->event == 1 &&
                                      ev->day <= t->event_last_day + SYN_STEP_DAYS &&
                                      ev->last_day + SYN_STEP_DAYS >= t->event_day;
                if (ok && !water_hit)
                    note_date(sc, ev->day, t->event_day);
                water_hit = water_hit || ok;
                if (ev->flag == PARUS_HEALTH_FLOOD) {
                    sc->flood_flags++;
                    sc->flood_flags_true += ok;
                    flood_hit = flood_hit || ok;
                }
                if (verbose && !ok)
                    fprintf(stderr, "  false %s %s (%s): %s\n", parus_health_flag_code(ev->flag),
                            t->id, t->crop, ev->reason);
                break;
            }
            case PARUS_HEALTH_SUDDEN_LOSS: {
                bool ok = t->event == 2 && dated;
                sc->loss_flags++;
                sc->loss_flags_true += ok;
                sc->loss_flags_true_clear += t->event == 2 && dated_clear;
                if (ok && !loss_hit)
                    note_date(sc, ev->day, t->event_day);
                loss_hit = loss_hit || ok;
                if (verbose && !ok)
                    fprintf(stderr, "  false SUDDEN_LOSS %s (%s, event %d): %s\n", t->id, t->crop,
                            t->event, ev->reason);
                break;
            }
            default:
                sc->other_flags[ev->flag]++;
                if (verbose && ev->flag != PARUS_HEALTH_NOT_PLANTED)
                    fprintf(stderr, "  %s %s (%s, planted %.2f): %s\n",
                            parus_health_flag_code(ev->flag), t->id, t->crop, t->planted_fraction,
                            ev->reason);
                break;
            }
        }
        sc->found_floods += t->event == 1 && water_hit;
        sc->seen_floods += t->event == 1 && t->event_seen;
        sc->seen_any_floods += t->event == 1 && t->event_seen_any;
        sc->found_seen_floods += t->event == 1 && t->event_seen && water_hit;
        sc->seen_losses += t->event == 2 && t->event_seen;
        sc->seen_any_losses += t->event == 2 && t->event_seen_any;
        sc->found_seen_losses += t->event == 2 && t->event_seen && loss_hit;
        sc->found_floods_in_season += truth_in_season && flood_hit;
        sc->found_losses += t->event == 2 && loss_hit;
        if (verbose && t->event && !(water_hit || loss_hit)) {
            char d[11];
            parus_health_format_day(t->event_day, d);
            fprintf(stderr,
                    "  missed %s %s (%s) on %s%s, %zu events:", t->event == 1 ? "flood" : "loss",
                    t->id, t->crop, d, t->event_seen ? " (seen)" : "", t->result.n_events);
            for (size_t e = 0; e < t->result.n_events; e++)
                fprintf(stderr, " %s", parus_health_flag_code(t->result.event[e].flag));
            for (size_t k = 0; t->event == 2 && k < t->series.n_steps; k++)
                if (t->series.flag[k] == PARUS_SERIES_OBSERVED &&
                    llabs(t->series.day[k] - t->event_day) <= 4 * SYN_STEP_DAYS)
                    fprintf(stderr, " o%+d:%.2f", (int)(t->series.day[k] - t->event_day),
                            t->series.v[PARUS_HEALTH_NDVI][k]);
            for (size_t e = 0; ss->radar && e < t->n_rd; e++) {
                if (t->event == 2 && llabs(t->rd_day[e] - t->event_day) <= 4 * SYN_STEP_DAYS)
                    fprintf(stderr, " %+d:%d:%.1fdb/%.0f", (int)(t->rd_day[e] - t->event_day),
                            t->rd_pass[e], 10.0 * log10(t->rd_vh[e]), t->rd_looks_vh[e]);
                else if (t->event == 1 && llabs(t->rd_day[e] - t->event_day) <= 2 * SYN_STEP_DAYS)
                    fprintf(stderr, " %+d:%.2f", (int)(t->rd_day[e] - t->event_day),
                            t->rd_water[e]);
            }
            fprintf(stderr, "\n");
        }
        if (t->planted_fraction > 0.0 && t->valid && crop && crop->kind != PARUS_CROP_NONCROP) {
            double truth_m2 = t->planted_fraction * t->true_area_m2;
            double rel = (t->area.planted_area_m2 - truth_m2) / truth_m2;
            sc->planted++;
            sc->planted_within_5pct += fabs(rel) <= 0.05;
            if (verbose && fabs(rel) > 0.05)
                fprintf(stderr, "  area %s (%s) pf %.2f %.0f m2: %+.1f %%\n", t->id, t->crop,
                        t->planted_fraction, t->true_area_m2, 100.0 * rel);
        }
        parus_health_series_release(&t->series);
    }
}

static void print_scores(const char *what, const score_counts *sc)
{
    printf("  %s:\n", what);
    printf("    floods: %zu injected, %zu found (recall %.3f); water events %zu, %zu true "
           "(precision %.3f)\n",
           sc->truth_floods, sc->found_floods, (double)sc->found_floods / (double)sc->truth_floods,
           sc->water_events, sc->water_true, (double)sc->water_true / (double)sc->water_events);
    printf("    floods in the crop's season: %zu, FLOOD found %zu (recall %.3f); FLOOD flags %zu, "
           "%zu true (precision %.3f)\n",
           sc->truth_floods_in_season, sc->found_floods_in_season,
           (double)sc->found_floods_in_season / (double)sc->truth_floods_in_season, sc->flood_flags,
           sc->flood_flags_true, (double)sc->flood_flags_true / (double)sc->flood_flags);
    printf("    sudden losses: %zu injected, %zu found (recall %.3f); flags %zu, %zu true "
           "(precision %.3f)\n",
           sc->truth_losses, sc->found_losses, (double)sc->found_losses / (double)sc->truth_losses,
           sc->loss_flags, sc->loss_flags_true,
           (double)sc->loss_flags_true / (double)sc->loss_flags);
    printf("    seen clear within one revisit of their start: floods %zu, found %zu (recall "
           "%.3f); losses %zu, found %zu (recall %.3f)\n",
           sc->seen_floods, sc->found_seen_floods,
           (double)sc->found_seen_floods / (double)sc->seen_floods, sc->seen_losses,
           sc->found_seen_losses, (double)sc->found_seen_losses / (double)sc->seen_losses);
    printf("    with any clear pixel within one revisit (the ceiling of one optical sensor): "
           "floods %zu (%.3f), losses %zu (%.3f)\n",
           sc->seen_any_floods, (double)sc->seen_any_floods / (double)sc->truth_floods,
           sc->seen_any_losses, (double)sc->seen_any_losses / (double)sc->truth_losses);
    printf("    water events on a flooded parcel while (within a revisit) under water: %zu "
           "(precision undated %.3f)\n",
           sc->water_true_any, (double)sc->water_true_any / (double)sc->water_events);
    printf("    precision with the date of the first clear view: water %.3f, losses %.3f\n",
           (double)sc->water_true_clear / (double)sc->water_events,
           (double)sc->loss_flags_true_clear / (double)sc->loss_flags);
    printf("    dating: mean error %.1f days, max %.0f days (one revisit = %d days)\n",
           sc->date_err_sum_days / (double)sc->n_dated, sc->date_err_max_days, SYN_STEP_DAYS);
    printf("    planted area within 5 %% of truth: %zu of %zu planted parcels (%.3f)\n",
           sc->planted_within_5pct, sc->planted,
           (double)sc->planted_within_5pct / (double)sc->planted);
    printf("    other flags: DROUGHT_STRESS %zu, NOT_PLANTED %zu, LATE_PLANTING %zu\n",
           sc->other_flags[PARUS_HEALTH_DROUGHT_STRESS], sc->other_flags[PARUS_HEALTH_NOT_PLANTED],
           sc->other_flags[PARUS_HEALTH_LATE_PLANTING]);
}

static int cmp_abs(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile_of(err_list *l, double q)
{
    if (l->n == 0)
        return NAN;
    qsort(l->v, l->n, sizeof *l->v, cmp_abs);
    return l->v[(size_t)(q * (double)(l->n - 1))];
}

/* data-samples/crops.csv into crops. */
static void load_sample_crops(parus_crop_table *crops)
{
    parus_error err;
    char *path = parus_test_path(parus_test_source_dir(), "data-samples/crops.csv");
    assert_int_equal(parus_crop_table_load(path, crops, &err), PARUS_OK);
    free(path);
}

/* The seeds listed in the environment variable name ("1,2,3", at most 16) into seeds; n_default
 * (the seeds already there) when it is unset or empty. */
static size_t env_seeds(const char *name, unsigned seeds[16], size_t n_default)
{
    const char *env = getenv(name);
    size_t n = 0;
    if (!env || !*env)
        return n_default;
    for (const char *p = env; *p && n < 16;) {
        char *end;
        seeds[n++] = (unsigned)strtoul(p, &end, 10);
        p = *end ? end + 1 : end;
    }
    return n;
}

static void test_synthetic__floods_losses_and_planted_area(void **state)
{
    (void)state;
    if (!tool("PARUS_SYNTH") || !tool("PARUS_BIN"))
        skip();
    parus_crop_table crops;
    load_sample_crops(&crops);
    score_counts sc, sc_own;
    memset(&sc, 0, sizeof sc);
    memset(&sc_own, 0, sizeof sc_own);
    ndvi_errors ne;
    memset(&ne, 0, sizeof ne);
    bool verbose = getenv("PARUS_HEALTH_VERBOSE") != NULL;
    unsigned seeds[16] = {1, 2, 3};
    /* "1,2,3": other seasons, for exploring */
    size_t n_seeds = env_seeds("PARUS_HEALTH_SEEDS", seeds, 3);
    parus_health_options opt, opt_own;
    parus_health_options_init(&opt);
    opt.step_days = SYN_STEP_DAYS;
    opt_own = opt;
    opt_own.own_values = true;
    for (size_t s = 0; s < n_seeds; s++) {
        synth_season ss;
        char *dir = ingest_season(seeds[s], "", &ss);
        for (size_t i = 0; i < ss.n; i++)
            if (ss.p[i].stored)
                note_ndvi_errors(&ne, &ss.p[i], ss.first_day);
        score_season(&ss, &crops, &opt, &sc, verbose);
        score_season(&ss, &crops, &opt_own, &sc_own, false);
        free_season(&ss, dir);
    }
    parus_crop_table_release(&crops);

    printf("synthetic acceptance (%zu seasons, 512 px, %d dates every %d days):\n", n_seeds,
           SYN_DATES, SYN_STEP_DAYS);
    double m50 = quantile_of(&ne.mixed, 0.5), m90 = quantile_of(&ne.mixed, 0.9);
    double o50 = quantile_of(&ne.own, 0.5), o90 = quantile_of(&ne.own, 0.9);
    double sm50 = quantile_of(&ne.mixed_strip, 0.5), sm90 = quantile_of(&ne.mixed_strip, 0.9);
    double so50 = quantile_of(&ne.own_strip, 0.5), so90 = quantile_of(&ne.own_strip, 0.9);
    printf("  parcel NDVI against the truth (the NDVI of its own mean reflectance), %zu clear "
           "observations, |error| median / p90: coverage-weighted %.4f / %.4f, own (unmixed) "
           "%.4f / %.4f; the %zu of parcels with no fully covered pixel: %.4f / %.4f and "
           "%.4f / %.4f\n",
           ne.mixed.n, m50, m90, o50, o90, ne.mixed_strip.n, sm50, sm90, so50, so90);
    print_scores("health on the coverage-weighted values (the default)", &sc);
    print_scores("health on the own (unmixed) values (own_values)", &sc_own);

    /* The own values are the parcels' own: half the coverage-weighted error or less, in the
     * median and in the tail, on strips with no fully covered pixel too. */
    assert_true(ne.mixed.n > 1000 && ne.mixed_strip.n > 100);
    assert_true(o50 <= 0.5 * m50 && o90 <= 0.5 * m90);
    assert_true(so50 <= 0.5 * sm50 && so90 <= 0.5 * sm90);
    free(ne.mixed.v);
    free(ne.own.v);
    free(ne.mixed_strip.v);
    free(ne.own_strip.v);

    /* Honest floors, measured on these three seasons (docs/method.md has the figures over eleven
     * and why the issue's targets are not all met). Events hidden by cloud on every date within
     * a revisit of their start cannot be dated within one revisit: recall is asserted over the
     * events seen clear. Precision counts every flag; one raised on the right parcel at its first
     * clear view after a cloudy start counts as true only in the second precision line. */
    double water_precision = (double)sc.water_true_any / (double)sc.water_events;
    double loss_precision = (double)sc.loss_flags_true / (double)sc.loss_flags;
    double area_share = (double)sc.planted_within_5pct / (double)sc.planted;
    assert_true(sc.n_dated > 0);
    assert_true(sc.date_err_sum_days / (double)sc.n_dated <= 0.5 * SYN_STEP_DAYS);
    /* a flood's truth is its first day under water (docs/synth.md), up to 9 days before the
     * first acquisition that shows it: a water flag raised at a later clear view after a cloudy
     * start is late, not false. Precision of the water flags here: on a parcel under water
     * within a revisit of the flag (0.867 measured; dated within a revisit of the first day under
     * water as well: 0.600); recall: dated within a revisit of the first day (0.900) */
    assert_true(water_precision >= 0.85);
    assert_true((double)sc.found_seen_floods / (double)sc.seen_floods >= 0.85);
    assert_true(loss_precision >= 0.9);
    assert_true((double)sc.found_seen_losses / (double)sc.seen_losses >= 0.65);
    /* 0.632 on the coverage-weighted vegetated fraction, 0.737 with each pixel unmixed first */
    assert_true(area_share >= 0.72);
    /* no drought or late planting is injected: those flags stay rare */
    assert_true(sc.other_flags[PARUS_HEALTH_DROUGHT_STRESS] +
                    sc.other_flags[PARUS_HEALTH_LATE_PLANTING] <
                sc.planted / 50);
}
/* Health options by name, for tuning on other seasons (PARUS_HEALTH_OPTIONS). */
static const struct {
    const char *name;
    size_t offset;
} health_knobs[] = {
    {"radar_flood_min_share", offsetof(parus_health_options, radar_flood_min_share)},
    {"radar_flood_rise", offsetof(parus_health_options, radar_flood_rise)},
    {"radar_paddy_days", offsetof(parus_health_options, radar_paddy_days)},
    {"radar_dip_db", offsetof(parus_health_options, radar_dip_db)},
    {"radar_dip_days", offsetof(parus_health_options, radar_dip_days)},
    {"radar_flood_vh_db", offsetof(parus_health_options, radar_flood_vh_db)},
    {"radar_flood_dip_db", offsetof(parus_health_options, radar_flood_dip_db)},
    {"radar_flood_dip_se", offsetof(parus_health_options, radar_flood_dip_se)},
    {"radar_flood_min_looks", offsetof(parus_health_options, radar_flood_min_looks)},
    {"radar_flood_run_looks", offsetof(parus_health_options, radar_flood_run_looks)},
    {"radar_veto_days", offsetof(parus_health_options, radar_veto_days)},
    {"radar_veto_share", offsetof(parus_health_options, radar_veto_share)},
    {"flood_mndwi_rise", offsetof(parus_health_options, flood_mndwi_rise)},
    {"flood_min_share", offsetof(parus_health_options, flood_min_share)},
    {"flood_water_excess", offsetof(parus_health_options, flood_water_excess)},
    {"loss_min_drop", offsetof(parus_health_options, loss_min_drop)},
    {"loss_min_relative", offsetof(parus_health_options, loss_min_relative)},
    {"radar_loss_vh_db", offsetof(parus_health_options, radar_loss_vh_db)},
    {"radar_loss_se", offsetof(parus_health_options, radar_loss_se)},
    {"radar_loss_days", offsetof(parus_health_options, radar_loss_days)},
    {"radar_loss_min_looks", offsetof(parus_health_options, radar_loss_min_looks)},
    {"radar_loss_dates", offsetof(parus_health_options, radar_loss_dates)},
    {"radar_loss_own_share", offsetof(parus_health_options, radar_loss_own_share)},
};

/* Applies "name=value,name=value" (up to ';' or the end) to opt; returns the end. */
static const char *apply_knobs(const char *p, parus_health_options *opt)
{
    while (*p && *p != ';') {
        size_t len = strcspn(p, "=;,");
        bool known = false;
        assert_int_equal(p[len], '=');
        for (size_t k = 0; k < sizeof health_knobs / sizeof health_knobs[0]; k++)
            if (strlen(health_knobs[k].name) == len && strncmp(health_knobs[k].name, p, len) == 0) {
                char *end;
                *(double *)((char *)opt + health_knobs[k].offset) = strtod(p + len + 1, &end);
                known = true;
                p = end;
                break;
            }
        assert_true(known);
        if (*p == ',')
            p++;
    }
    return p;
}

/* Radar floods on a monsoon season (clouds 0.5, mean cover; radar every 6 days): optical alone
 * and optical + radar on the same season. PARUS_HEALTH_RADAR_SEEDS="5,6" for other seasons,
 * PARUS_HEALTH_RADAR_ARGS for other generator options, PARUS_HEALTH_OPTIONS="name=v,name=v;..."
 * to score further option sets (health_knobs) on the same seasons, each printed. */
static void test_synthetic__radar_floods_under_cloud(void **state)
{
    (void)state;
    if (!tool("PARUS_SYNTH") || !tool("PARUS_BIN"))
        skip();
    parus_crop_table crops;
    load_sample_crops(&crops);
    unsigned seeds[16] = {5};
    size_t n_seeds = env_seeds("PARUS_HEALTH_RADAR_SEEDS", seeds, 1);
    const char *args = getenv("PARUS_HEALTH_RADAR_ARGS");
    if (!args || !*args)
        args = "--radar --radar-revisit 6 --cloud-model mean --clouds 0.5";
    bool verbose = getenv("PARUS_HEALTH_VERBOSE") != NULL;
    parus_health_options opt;
    parus_health_options_init(&opt);
    opt.step_days = SYN_STEP_DAYS;
    /* PARUS_HEALTH_BASE="name=v,...": the options every set starts from (printed in detail) */
    const char *base = getenv("PARUS_HEALTH_BASE");
    if (base && *base)
        apply_knobs(base, &opt);
    score_counts so, sr, sk[24][2];
    size_t n_sets = 0;
    memset(&so, 0, sizeof so);
    memset(&sr, 0, sizeof sr);
    memset(sk, 0, sizeof sk);
    for (size_t s = 0; s < n_seeds; s++) {
        synth_season ss;
        char *dir = ingest_season(seeds[s], args, &ss);
        size_t n_rd = 0;
        for (size_t i = 0; i < ss.n; i++)
            n_rd += ss.p[i].n_rd;
        assert_true(n_rd > 0);
        score_season(&ss, &crops, &opt, &so, false);
        ss.radar = true;
        score_season(&ss, &crops, &opt, &sr, verbose);
        const char *sets = getenv("PARUS_HEALTH_OPTIONS");
        for (size_t k = 0; sets && *sets && k < sizeof sk / sizeof sk[0]; k++) {
            parus_health_options o2 = opt;
            sets = apply_knobs(sets, &o2);
            ss.radar = false;
            score_season(&ss, &crops, &o2, &sk[k][0], false);
            ss.radar = true;
            score_season(&ss, &crops, &o2, &sk[k][1], false);
            n_sets = k + 1;
            if (*sets == ';')
                sets++;
        }
        free_season(&ss, dir);
    }
    for (size_t k = 0; k < n_sets; k++) {
        const char *sets = getenv("PARUS_HEALTH_OPTIONS");
        for (size_t j = 0; j < k; j++)
            sets = strchr(sets, ';') + 1;
        printf("option set %zu: %.*s\n", k, (int)strcspn(sets, ";"), sets);
        print_scores("optical alone", &sk[k][0]);
        print_scores("optical + radar", &sk[k][1]);
    }
    parus_crop_table_release(&crops);
    printf("radar floods (%zu seasons, 512 px, %d dates, %s):\n", n_seeds, SYN_DATES, args);
    print_scores("optical alone", &so);
    print_scores("optical + radar", &sr);
    double ro = (double)so.found_floods / (double)so.truth_floods;
    double rr = (double)sr.found_floods / (double)sr.truth_floods;
    double pr = (double)sr.water_true / (double)sr.water_events;
    /* Measured (docs/method.md, section 9; rules tuned on seeds 1-4, checked on 9-16): at clouds
     * 0.5 flood recall 0.438 -> 0.917 with radar (44 of 48), precision 0.656 -> 0.863; at 0.2
     * 0.688 -> 0.958, 0.733 -> 0.902. Asserted on seed 5: radar adds floods (0.500 -> 0.833)
     * and raises the water flags' precision (0.750 -> 0.833). */
    assert_true(sr.truth_floods > 0);
    assert_true(rr > ro);
    assert_true(rr >= 0.8);
    assert_true(pr >= 0.8);
    /* Sudden losses (the step rule, docs/method.md section 9; designed on seeds 1-8, checked on
     * 17-32): on unseen seeds 25-32 at clouds 0.5 recall 0.250 -> 0.625 with radar, precision
     * 0.923 -> 0.909. Asserted on seed 5: radar adds losses (2 -> 3 of 6) and every loss flag
     * is right. */
    assert_true(sr.truth_losses > 0);
    assert_true(sr.found_losses > so.found_losses);
    assert_true(sr.loss_flags_true == sr.loss_flags);
}

/* HEAT_STRESS from the weather: three days or more around the peak, in date order among the
 * other events; fewer, or unknown, none. */
static void test_weather__heat_stress(void **state)
{
    parus_health_result res;
    (void)state;
    memset(&res, 0, sizeof res);
    res.n_events = 1;
    res.event[0].flag = PARUS_HEALTH_FLOOD;
    res.event[0].day = 19900;
    res.event[0].last_day = 19905;
    parus_health_add_weather_events(&res, "summer_maize", 35.0, 2.0, 19850, 19870);
    assert_int_equal(res.n_events, 1);
    parus_health_add_weather_events(&res, "summer_maize", 35.0, NAN, 19850, 19870);
    assert_int_equal(res.n_events, 1);
    parus_health_add_weather_events(&res, "summer_maize", 35.0, 4.0, 19850, 19870);
    assert_int_equal(res.n_events, 2);
    assert_int_equal(res.event[0].flag, PARUS_HEALTH_HEAT_STRESS); /* earlier: first */
    assert_int_equal(res.event[0].day, 19850);
    assert_int_equal(res.event[0].last_day, 19870);
    assert_close(res.event[0].size, 4.0, 0, 0);
    assert_close(res.event[0].confidence, 4.0 / 6.0, 1e-12, 0);
    assert_non_null(strstr(res.event[0].reason, "4 days above 35.0 degC"));
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_HEAT_STRESS), "HEAT_STRESS");
    assert_int_equal(parus_health_flag_from_code("HEAT_STRESS"), PARUS_HEALTH_HEAT_STRESS);
}

/* DROUGHT needs both the rain and the canopy: the rain of the driest window at most half its
 * normal, the crop's peers held back beyond what their spread explains, the parcel with them;
 * an annual crop with enough peers. Rain that was not short takes DROUGHT_STRESS out. */
static void test_weather__frost(void **state)
{
    parus_health_result res;
    (void)state;
    memset(&res, 0, sizeof res);
    parus_health_add_frost(&res, "winter_wheat", 0.0, NAN, 19830, 19830);
    parus_health_add_frost(&res, "winter_wheat", NAN, NAN, 19830, 19830);
    assert_int_equal(res.n_events, 0);
    parus_health_add_frost(&res, "winter_wheat", 2.0, -4.25, 19830, 19832);
    assert_int_equal(res.n_events, 1);
    assert_int_equal(res.event[0].flag, PARUS_HEALTH_FROST);
    assert_int_equal(res.event[0].day, 19830);
    assert_int_equal(res.event[0].last_day, 19832);
    assert_close(res.event[0].size, 2.0, 0, 0);
    assert_close(res.event[0].confidence, 1.0, 0, 0);
    assert_non_null(strstr(res.event[0].reason, "2 nights below -2 degC"));
    assert_non_null(strstr(res.event[0].reason, "coldest -4.2"));
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_FROST), "FROST");
}

/* An annual crop row with only what the weather rules read. */
static parus_crop weather_crop(const char *code, double ndvi_base, double ndvi_peak)
{
    parus_crop crop;
    memset(&crop, 0, sizeof crop);
    snprintf(crop.code, sizeof crop.code, "%s", code);
    crop.kind = PARUS_CROP_ANNUAL;
    crop.ndvi_base = ndvi_base;
    crop.ndvi_peak = ndvi_peak;
    return crop;
}

/* WATERLOGGING needs the storm and the canopy: a 5-day total beyond the floor and the
 * climatology's wettest, then the maize field falls behind its peers; not when its canopy holds,
 * not on a paddy crop or a perennial, not when the rain stays within the climate's, not where a
 * FLOOD covers the dates, not without a view after the storm. */
static void test_weather__waterlogging_needs_storm_and_canopy(void **state)
{
    parus_health_options opt;
    parus_health_series s, held;
    parus_health_result res;
    parus_crop crop;
    peer_set ps;
    parus_health_waterlog_input in = {.rain_mm = 180.0,
                                      .first_day = day_of("2024-07-24"),
                                      .last_day = day_of("2024-07-28"),
                                      .clim_max_mm = 120.0,
                                      .clim_mean_mm = 70.0,
                                      .n_years = 10},
                                v;
    size_t i, after;
    const parus_health_event *e;
    (void)state;
    parus_health_options_init(&opt);
    make_peers(&ps, &opt);
    after = step_of(&ps.m[0], "2024-08-02"); /* the first step 5 days after the storm */
    parus_health_series_init(&s);
    parus_health_series_init(&held);
    make_season(&s, 0.0, 1.0, 0.0);
    make_season(&held, 0.0, 1.0, 0.0);
    for (i = after; i < s.n_steps; i++) /* a poorly drained field loses 30 % of its canopy */
        set_step(&s, i, 0.18 + 0.7 * (s.v[PARUS_HEALTH_NDVI][i] - 0.18));
    parus_health_series_finish(&s, &opt);
    parus_health_series_finish(&held, &opt);
    crop = weather_crop("summer_maize", 0.18, 0.85);

    memset(&res, 0, sizeof res);
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &in);
    assert_int_equal(res.n_events, 1);
    e = find_flag(&res, PARUS_HEALTH_WATERLOGGING);
    assert_int_equal(e->day, in.first_day);
    assert_int_equal(e->last_day, in.last_day);
    /* 1 - its share of the peers' amplitude after the storm: 30 % of the canopy lost */
    assert_close(e->size, 0.3, 0.03, 0);
    assert_true(e->confidence > 0.5 && e->confidence <= 1.0);
    assert_non_null(strstr(e->reason, "180 mm in 5 days from 2024-07-24"));
    assert_non_null(strstr(e->reason, "10 years before 120 mm"));
    assert_non_null(
        strstr(e->reason, "canopy from 2024-08-02 at 70 % of its peers' (before: 98 %)"));
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_WATERLOGGING), "WATERLOGGING");
    assert_int_equal(parus_health_flag_from_code("WATERLOGGING"), PARUS_HEALTH_WATERLOGGING);

    /* the same storm on a field whose canopy held: the weather alone is no waterlogging */
    memset(&res, 0, sizeof res);
    parus_health_add_waterlogging(&res, &crop, &held, &ps.peers, &in);
    assert_int_equal(res.n_events, 0);
    /* paddy rice stands in water by design; a perennial is not judged */
    crop.paddy = true;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &in);
    assert_int_equal(res.n_events, 0);
    crop.paddy = false;
    crop.kind = PARUS_CROP_PERENNIAL;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &in);
    assert_int_equal(res.n_events, 0);
    crop.kind = PARUS_CROP_ANNUAL;
    /* rain within the climate's wettest, below the floor, unknown */
    v = in;
    v.rain_mm = 110.0;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &v);
    v = in;
    v.clim_max_mm = 40.0;
    v.rain_mm = 0.9 * PARUS_HEALTH_WATERLOG_MIN_MM;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &v);
    v = in;
    v.rain_mm = NAN;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &v);
    v = in;
    v.clim_max_mm = NAN; /* fewer than 8 years: not judged on the floor alone */
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &v);
    assert_int_equal(res.n_events, 0);
    /* a storm after the last view: the canopy cannot confirm it */
    v = in;
    v.first_day = day_of("2024-10-20");
    v.last_day = v.first_day + 4;
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &v);
    assert_int_equal(res.n_events, 0);
    /* open water over the parcel in those days is a FLOOD, not waterlogging */
    res.n_events = 1;
    res.event[0].flag = PARUS_HEALTH_FLOOD;
    res.event[0].day = day_of("2024-08-02");
    res.event[0].last_day = day_of("2024-08-12");
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &in);
    assert_int_equal(res.n_events, 1);
    assert_int_equal(count_flag(&res, PARUS_HEALTH_WATERLOGGING), 0);
    /* a flood long before does not hide it */
    res.event[0].day = day_of("2024-04-02");
    res.event[0].last_day = day_of("2024-04-12");
    parus_health_add_waterlogging(&res, &crop, &s, &ps.peers, &in);
    assert_int_equal(count_flag(&res, PARUS_HEALTH_WATERLOGGING), 1);
    assert_int_equal(res.event[1].flag, PARUS_HEALTH_WATERLOGGING); /* date order */
    parus_health_series_release(&s);
    parus_health_series_release(&held);
    free_peers(&ps);
}

static void test_weather__drought_needs_rain_and_canopy(void **state)
{
    parus_crop crop;
    parus_health_result res;
    parus_health_drought_input in = {.rain_ratio = 0.3,
                                     .rain_mm = 30,
                                     .normal_mm = 100,
                                     .first_day = 19850,
                                     .last_day = 19909,
                                     .n_years = 10,
                                     .peak_ndvi = 0.55,
                                     .peers_peak_ndvi = 0.60, /* amplitude (0.6-0.2)/0.6 = 0.667 */
                                     .peers_peak_se = 0.01,
                                     .n_peers = 20};
    parus_health_drought_input v;
    (void)state;
    crop = weather_crop("summer_maize", 0.2, 0.8);
    memset(&res, 0, sizeof res);
    parus_health_add_drought(&res, &crop, &in, 5);
    assert_int_equal(res.n_events, 1);
    assert_int_equal(res.event[0].flag, PARUS_HEALTH_DROUGHT);
    assert_int_equal(res.event[0].day, 19850);
    assert_int_equal(res.event[0].last_day, 19909);
    assert_close(res.event[0].size, 0.7, 1e-12, 0);
    assert_true(res.event[0].confidence > 0.5 && res.event[0].confidence <= 1.0);
    assert_non_null(strstr(res.event[0].reason, "30 % of its 10-year normal 100 mm"));
    assert_string_equal(parus_health_flag_code(PARUS_HEALTH_DROUGHT), "DROUGHT");
    /* each side alone is not enough */
    struct {
        const char *what;
        double rain_ratio, peak, peers_peak, se;
        size_t n_peers;
        parus_crop_kind kind;
    } no[] = {
        {"rain at 55 % of normal", 0.55, 0.55, 0.60, 0.01, 20, PARUS_CROP_ANNUAL},
        {"rain unknown", NAN, 0.55, 0.60, 0.01, 20, PARUS_CROP_ANNUAL},
        {"peers at their typical", 0.3, 0.55, 0.75, 0.01, 20, PARUS_CROP_ANNUAL},
        {"a small group's spread", 0.3, 0.55, 0.60, 0.06, 20, PARUS_CROP_ANNUAL},
        {"too few peers", 0.3, 0.55, 0.60, 0.01, 4, PARUS_CROP_ANNUAL},
        {"the parcel itself green", 0.3, 0.78, 0.60, 0.01, 20, PARUS_CROP_ANNUAL},
        {"a perennial", 0.3, 0.55, 0.60, 0.01, 20, PARUS_CROP_PERENNIAL},
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = in;
        v.rain_ratio = no[i].rain_ratio;
        v.peak_ndvi = no[i].peak;
        v.peers_peak_ndvi = no[i].peers_peak;
        v.peers_peak_se = no[i].se;
        v.n_peers = no[i].n_peers;
        crop.kind = no[i].kind;
        memset(&res, 0, sizeof res);
        parus_health_add_drought(&res, &crop, &v, 5);
        if (res.n_events != 0)
            fail_msg("DROUGHT raised with %s", no[i].what);
    }
    crop.kind = PARUS_CROP_ANNUAL;
    /* DROUGHT_STRESS stays where the rain was short or unknown, goes where it was not */
    memset(&res, 0, sizeof res);
    res.n_events = 2;
    res.event[0].flag = PARUS_HEALTH_DROUGHT_STRESS;
    res.event[1].flag = PARUS_HEALTH_FLOOD;
    v = in;
    v.rain_ratio = NAN;
    parus_health_add_drought(&res, &crop, &v, 5);
    assert_int_equal(res.n_events, 2);
    v.rain_ratio = 0.8;
    parus_health_add_drought(&res, &crop, &v, 5);
    assert_int_equal(res.n_events, 1);
    assert_int_equal(res.event[0].flag, PARUS_HEALTH_FLOOD);
}

/* test_health [PATTERN]: only the tests whose names match PATTERN (cmocka's filter, '*' wild). */
int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags__codes_names_and_classes),
        cmocka_unit_test(test_weather__heat_stress),
        cmocka_unit_test(test_weather__drought_needs_rain_and_canopy),
        cmocka_unit_test(test_weather__frost),
        cmocka_unit_test(test_weather__waterlogging_needs_storm_and_canopy),
        cmocka_unit_test(test_options__defaults),
        cmocka_unit_test(test_series__one_observation_per_step_by_hand),
        cmocka_unit_test(test_peers__median_and_quartiles_by_hand),
        cmocka_unit_test(test_score__like_peers_good_thin_fair_poor),
        cmocka_unit_test(test_score__poor_needs_to_fall_outside_its_peers),
        cmocka_unit_test(test_flood__water_in_growing_season),
        cmocka_unit_test(test_flood__dry_season_water_is_not_a_flood),
        cmocka_unit_test(test_flood__haze_and_shadow_are_not_water),
        cmocka_unit_test(test_flood__radar_under_cloud),
        cmocka_unit_test(test_flood__radar_paddy_and_optical_veto),
        cmocka_unit_test(test_loss__radar_under_cloud),
        cmocka_unit_test(test_radar_peers__medians_and_wet_level),
        cmocka_unit_test(test_flood__radar_dip_beyond_speckle),
        cmocka_unit_test(test_loss__drop_that_stays_down),
        cmocka_unit_test(test_loss__harvest_is_not_a_loss),
        cmocka_unit_test(test_loss__drop_shared_by_peers_or_recovered_is_not_a_loss),
        cmocka_unit_test(test_loss__next_cycle_is_no_recovery),
        cmocka_unit_test(test_loss__partly_sown_perennial_and_no_reference),
        cmocka_unit_test(test_drought__drier_than_its_greenness),
        cmocka_unit_test(test_not_planted__bare_season_and_fallow),
        cmocka_unit_test(test_not_planted__needs_a_clear_view_at_full_canopy),
        cmocka_unit_test(test_late__start_after_peers),
        cmocka_unit_test(test_growing_season__calendar_windows),
        cmocka_unit_test(test_assess__bad_input_and_determinism),
        cmocka_unit_test(test_planted_area__hand_numbers),
        cmocka_unit_test(test_planted_area__interval),
        cmocka_unit_test(test_planted_area__covered_crop_with_an_open_canopy),
        cmocka_unit_test(test_synthetic__floods_losses_and_planted_area),
        cmocka_unit_test(test_synthetic__radar_floods_under_cloud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

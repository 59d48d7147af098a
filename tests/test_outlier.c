/* test_outlier.c - single observations that contradict their parcel's series and its neighbours
 * (parus/outlier.h): the rule on hand-built series, then end to end on a synthetic season whose
 * generator gave 5 % of the parcel-dates an artefact the cloud mask misses (truth/glitches.csv):
 * what `parus assess` leaves out, what it stores and shows, and that it can be switched off. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "parus/outlier.h"

#define SEASON "2024-03-01/2024-10-31"

/* ---- the rule ---- */

/* A series every 10 days from day 0 with the given NDVI values, all clear and dry. */
static void series(parus_outlier_point *pt, const double *ndvi, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        pt[i].day = (int64_t)(10 * i);
        pt[i].ndvi = ndvi[i];
        pt[i].water_fraction = 0.0;
        pt[i].mndwi = -0.5;
        pt[i].ndwi = -0.6;
        pt[i].swir1 = 0.25;
        pt[i].left_out = false;
    }
}

static void test_outlier__a_spike_is_a_candidate_a_step_is_not(void **state)
{
    parus_outlier_options o;
    parus_outlier_point pt[7];
    double r[7], e[7], j[7];
    /* a dip at 3 (0.30 in a canopy of 0.70), then a real loss at 5 that stays lost */
    const double v[7] = {0.60, 0.65, 0.70, 0.30, 0.72, 0.30, 0.28};
    (void)state;
    parus_outlier_options_init(&o);
    series(pt, v, 7);
    parus_outlier_residuals(&o, pt, 7, r, e, j, NULL);
    assert_true(isnan(r[0]) && isnan(r[6])); /* no reference on one side */
    assert_close(e[3], 0.71, 1e-12, 0);
    assert_close(r[3], -0.41, 1e-12, 0);
    assert_close(j[3], -0.40, 1e-12, 0);
    assert_true(parus_outlier_candidate(&o, &pt[3], r[3], j[3], false));
    /* the loss at 5: off the line between 0.72 and 0.28 by only -0.2, and it agrees with the
     * next observation: a step, not a spike */
    assert_false(parus_outlier_candidate(&o, &pt[5], r[5], j[5], false));
    /* 4 sits between the dip and the loss: both references are low, but it is the truth */
    assert_true(r[4] > 0.15);
    /* with 3 left out, 4's references are 2 and 5: 30 days apart, further than the rule's gap */
    pt[3].left_out = true;
    parus_outlier_residuals(&o, pt, 7, r, e, j, NULL);
    assert_true(isnan(r[4]));
    o.max_gap_days = 30;
    parus_outlier_residuals(&o, pt, 7, r, e, j, NULL);
    assert_true(isnan(r[3]));
    assert_close(e[4], 0.70 + (0.30 - 0.70) * (20.0 / 30.0), 1e-12, 0);
}

static void test_outlier__a_slope_is_not_a_spike(void **state)
{
    parus_outlier_options o;
    parus_outlier_point pt[5];
    double r[5], e[5], j[5];
    size_t i;
    /* green-up at 0.15 a step: every point on the line */
    const double v[5] = {0.20, 0.35, 0.50, 0.65, 0.80};
    (void)state;
    parus_outlier_options_init(&o);
    series(pt, v, 5);
    parus_outlier_residuals(&o, pt, 5, r, e, j, NULL);
    for (i = 1; i < 4; i++) {
        assert_close(r[i], 0.0, 1e-12, 0);
        assert_false(parus_outlier_candidate(&o, &pt[i], r[i], j[i], false));
    }
}

static void test_outlier__far_references_and_water_are_not_judged(void **state)
{
    parus_outlier_options o;
    parus_outlier_point pt[5];
    double r[5], e[5], j[5];
    const double v[5] = {0.70, 0.70, 0.20, 0.70, 0.70};
    (void)state;
    parus_outlier_options_init(&o);
    series(pt, v, 5);
    pt[3].day = 20 + o.max_gap_days + 1; /* the next reference is too far */
    pt[4].day = pt[3].day + 10;
    parus_outlier_residuals(&o, pt, 5, r, e, j, NULL);
    assert_true(isnan(r[2]));
    pt[3].day = 30;
    pt[4].day = 40;
    parus_outlier_residuals(&o, pt, 5, r, e, j, NULL);
    assert_true(parus_outlier_candidate(&o, &pt[2], r[2], j[2], false));
    /* water over the parcel that day: a short flood is for the flood rule */
    pt[2].water_fraction = 0.5;
    assert_false(parus_outlier_candidate(&o, &pt[2], r[2], j[2], false));
    /* and a flooded reference judges nothing */
    pt[2].water_fraction = 0.0;
    pt[1].water_fraction = 0.5;
    parus_outlier_residuals(&o, pt, 5, r, e, j, NULL);
    assert_true(isnan(r[2]));
    /* water under the canopy, as the flood rule reads it: MNDWI up 0.12 and SWIR1 darker than
     * both references (a flooded paddy); thin cloud raises MNDWI too but brightens SWIR1 */
    {
        unsigned char wet[5];
        pt[1].water_fraction = 0.0;
        pt[2].mndwi = -0.38;
        pt[2].swir1 = 0.18;
        parus_outlier_residuals(&o, pt, 5, r, e, j, wet);
        assert_int_equal(wet[2], 1);
        assert_false(parus_outlier_candidate(&o, &pt[2], r[2], j[2], wet[2]));
        pt[2].swir1 = 0.30;
        parus_outlier_residuals(&o, pt, 5, r, e, j, wet);
        assert_int_equal(wet[2], 0);
        assert_true(parus_outlier_candidate(&o, &pt[2], r[2], j[2], wet[2]));
        /* no SWIR band: the NDWI decides */
        pt[1].swir1 = pt[2].swir1 = pt[3].swir1 = NAN;
        pt[2].ndwi = -0.35;
        parus_outlier_residuals(&o, pt, 5, r, e, j, wet);
        assert_int_equal(wet[2], 1);
        pt[2].ndwi = -0.6;
        pt[2].mndwi = -0.5;
        pt[1].swir1 = pt[2].swir1 = pt[3].swir1 = 0.25;
    }
    /* switched off: nothing is a candidate */
    pt[1].water_fraction = 0.0;
    parus_outlier_residuals(&o, pt, 5, r, e, j, NULL);
    o.enabled = false;
    assert_false(parus_outlier_candidate(&o, &pt[2], r[2], j[2], false));
}

static void test_outlier__neighbours_that_share_the_move_keep_it(void **state)
{
    parus_outlier_options o;
    double med;
    double alone[5] = {0.01, -0.02, 0.0, 0.03, -0.01};
    double shared[5] = {-0.30, -0.25, -0.35, -0.28, 0.02};
    double few[2] = {0.0, 0.01};
    (void)state;
    parus_outlier_options_init(&o);
    assert_true(parus_outlier_contradicts_neighbours(&o, -0.40, alone, 5, &med));
    assert_close(med, 0.0, 1e-12, 0);
    /* regional haze or a wide flood: the date's, not the observation's */
    assert_false(parus_outlier_contradicts_neighbours(&o, -0.40, shared, 5, &med));
    assert_close(med, -0.28, 1e-12, 0);
    assert_false(parus_outlier_contradicts_neighbours(&o, -0.40, few, 2, &med));
    assert_false(parus_outlier_contradicts_neighbours(&o, -0.40, NULL, 0, &med));
    assert_true(isnan(med));
}

/* ---- end to end ---- */

static char *g_dir, *g_db;

static int setup(void **state)
{
    (void)state;
    g_dir = parus_test_tmpdir("outlier");
    g_db = parus_test_store(g_dir, "parus.db");
    free(parus_test_run_expect(0,
                               "'%s' --out '%s/scene' --size 384 --dates 24 --seed 31 --glitches "
                               "0.05 --quiet --crops '%s/data-samples/crops.csv'",
                               parus_test_synth_bin(), g_dir, parus_test_source_dir()));
    {
        /* 8: a broken geometry of the registry is set aside */
        char *out = NULL;
        char cmd[4096];
        int rc;
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q parcels load '%s/scene/parcels.geojson'",
                 parus_test_bin(), g_db, g_dir);
        rc = parus_test_run(cmd, &out, NULL);
        free(out);
        assert_true(rc == 0 || rc == 8);
    }
    free(parus_test_run_expect(0, "'%s' --db '%s' -q ingest --threads 2 '%s'/scene/*.tif",
                               parus_test_bin(), g_db, g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(g_dir);
    free(g_dir);
    free(g_db);
    return 0;
}

/* "parcel_id|date|tile|ndvi|expected|reason" of every stored outlier, in key order, the values
 * to six decimals (as read from either backend). */
static char *outlier_rows(const char *db, size_t *n)
{
    char *rows = parus_test_sql(db, "SELECT parcel_id, date, tile_id, ndvi, expected_ndvi, reason "
                                    "FROM observation_outliers WHERE season = '" SEASON
                                    "' ORDER BY parcel_id, tile_id");
    size_t len = 0, cap = strlen(rows) * 2 + 64;
    char *s = malloc(cap), *line, *next;
    assert_non_null(s);
    s[0] = '\0';
    *n = 0;
    for (line = rows; *line; line = next) {
        char *f[6], *p = line;
        size_t nf = 0;
        int k;
        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = '\0';
        while (nf < 6) {
            f[nf++] = p;
            p = strchr(p, '|');
            if (!p)
                break;
            *p++ = '\0';
        }
        assert_int_equal(nf, 6);
        k = snprintf(s + len, cap - len, "%s|%s|%s|%.6f|%.6f|%s\n", f[0], f[1], f[2],
                     strtod(f[3], NULL), strtod(f[4], NULL), f[5]);
        assert_true(k > 0 && (size_t)k < cap - len);
        len += (size_t)k;
        (*n)++;
    }
    free(rows);
    return s;
}

/* How many of the outliers are glitches of the truth. */
static size_t glitches_among(const char *rows)
{
    char *path = parus_test_path(g_dir, "scene/truth/glitches.csv"), line[256];
    FILE *f = fopen(path, "r");
    size_t hits = 0;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        char key[64], *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2 || strncmp(line, "parcel_id,", 10) == 0)
            continue;
        snprintf(key, sizeof key, "\n%.*s|%.*s|", (int)(c1 - line), line, (int)(c2 - c1 - 1),
                 c1 + 1);
        if (strncmp(rows, key + 1, strlen(key + 1)) == 0 || strstr(rows, key))
            hits++;
    }
    fclose(f);
    free(path);
    return hits;
}

static void test_outlier__assess_leaves_out_the_glitches_and_keeps_why(void **state)
{
    char *out, *rows, *rows2, *db2, pid[64], *bar, *q;
    size_t n, n2, right;
    (void)state;
    out = parus_test_run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --no-model",
                                parus_test_bin(), g_db);
    free(out);
    out =
        parus_test_run_expect(0, "'%s' --db '%s' assess --season " SEASON " --no-model --threads 1",
                              parus_test_bin(), g_db);
    rows = outlier_rows(g_db, &n);
    right = glitches_among(rows);
    fprintf(stderr, "outlier: %zu observations left out, %zu of them glitches of the truth\n", n,
            right);
    {
        char want[96];
        snprintf(want, sizeof want, "observations left out as outliers: %zu", n);
        if (!strstr(out, want))
            fail_msg("expected '%s' in:\n%s", want, out);
    }
    free(out);
    assert_true(n >= 5);
    /* seeds 4-9 (never tuned on): 0.83 of the outliers are glitches, most of the rest real bad
     * values the truth does not name (cloud fringes) */
    if ((double)right < 0.6 * (double)n)
        fail_msg("%zu of %zu outliers are glitches (floor 0.6)", right, n);
    assert_non_null(strstr(rows, "where its series expects"));

    /* the same rows with 2 threads, and a rerun replaces them */
    free(parus_test_run_expect(
        0, "'%s' --db '%s' -q assess --season " SEASON " --no-model --threads 2", parus_test_bin(),
        g_db));
    rows2 = outlier_rows(g_db, &n2);
    assert_string_equal(rows, rows2);
    free(rows2);

    /* query shows it, marked and with its reason, not used by the series */
    bar = strchr(rows, '|');
    assert_non_null(bar);
    snprintf(pid, sizeof pid, "%.*s", (int)(bar - rows), rows);
    q = parus_test_run_expect(0, "'%s' --db '%s' query '%s' --season " SEASON, parus_test_bin(),
                              g_db, pid);
    assert_non_null(strstr(q, "left out as outliers (!)"));
    assert_non_null(strstr(q, "where its series expects"));
    free(q);
    q = parus_test_run_expect(0, "'%s' --db '%s' query '%s' --season " SEASON " --json",
                              parus_test_bin(), g_db, pid);
    assert_non_null(strstr(q, "\"outlier\":\"NDVI"));
    free(q);

    /* switched off: nothing left out, nothing stored */
    db2 = parus_test_store_copy(g_db, g_dir, "off.db");
    {
        char *ini = parus_test_path(g_dir, "off.ini");
        const char *text = "[season]\noutliers = off\n";
        assert_int_equal(parus_test_write_file(ini, text, strlen(text)), 0);
        out = parus_test_run_expect(
            0, "'%s' --config '%s' --db '%s' assess --season " SEASON " --no-model",
            parus_test_bin(), ini, db2);
        assert_non_null(strstr(out, "observations left out as outliers: 0"));
        free(out);
        free(outlier_rows(db2, &n2));
        assert_int_equal(n2, 0);
        /* a value that is neither on nor off is a configuration error */
        text = "[season]\noutliers = maybe\n";
        assert_int_equal(parus_test_write_file(ini, text, strlen(text)), 0);
        out = parus_test_run_expect(
            7, "'%s' --config '%s' --db '%s' assess --season " SEASON " --no-model",
            parus_test_bin(), ini, db2);
        assert_non_null(strstr(out, "outliers"));
        free(out);
        free(ini);
    }
    free(db2);
    free(rows);
}

/* The results of a parcel judged by the outlier pass. The pass rides on classification's walk:
 * a parcel with a candidate is held back until every parcel's residuals are known, then judged
 * and classified from the same bytes. Whatever it holds and in whatever order it is classified,
 * every result must be the one of a store from which the observations left out were deleted
 * and the pass switched off. */
static char *results_of(const char *db)
{
    return parus_test_sql(db,
                          "SELECT parcel_id, crop, crop_probability, n_clear_obs, first_date, "
                          "last_date, peer_group, health_class, health_score, n_peers, "
                          "green_ratio, planted_area_m2, ndvi_integral_10d, ndvi_peak, "
                          "value_expected_fen, value_p10_fen, flags, reason, credit_counted, "
                          "credit_value_fen, sensors FROM parcel_results WHERE season = '" SEASON
                          "' ORDER BY parcel_id");
}

static void test_outlier__a_held_parcel_is_judged_as_without_its_outliers(void **state)
{
    char *on = parus_test_store_copy(g_db, g_dir, "held-on.db");
    char *off = parus_test_store_copy(g_db, g_dir, "held-off.db");
    char *ini = parus_test_path(g_dir, "held-off.ini"), *pairs, *line, *next, *r_on, *r_off;
    const char *text = "[season]\noutliers = off\n";
    size_t n = 0;
    (void)state;
    free(parus_test_run_expect(
        0, "'%s' --db '%s' -q assess --season " SEASON " --no-model --threads 2", parus_test_bin(),
        on));
    pairs = parus_test_sql(on, "SELECT parcel_id, tile_id FROM observation_outliers WHERE season "
                               "= '" SEASON "' ORDER BY parcel_id, tile_id");
    for (line = pairs; *line; line = next) {
        char sql[512], *bar;
        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = '\0';
        bar = strchr(line, '|');
        assert_non_null(bar);
        *bar = '\0';
        snprintf(sql, sizeof sql,
                 "DELETE FROM observation_values WHERE tile_id = %s AND parcel_num = (SELECT num "
                 "FROM parcels WHERE id = '%s')",
                 bar + 1, line);
        free(parus_test_sql(off, sql));
        n++;
    }
    free(pairs);
    assert_true(n >= 5);
    assert_int_equal(parus_test_write_file(ini, text, strlen(text)), 0);
    free(parus_test_run_expect(
        0, "'%s' --config '%s' --db '%s' -q assess --season " SEASON " --no-model --threads 1",
        parus_test_bin(), ini, off));
    r_on = results_of(on);
    r_off = results_of(off);
    assert_true(strlen(r_on) > 1000);
    assert_string_equal(r_on, r_off);
    free(r_on);
    free(r_off);
    r_on = parus_test_sql(on, "SELECT farmer_id, limit_cny, value_p10_fen, flags, reasons, sensors "
                              "FROM limits ORDER BY farmer_id");
    r_off = parus_test_sql(off, "SELECT farmer_id, limit_cny, value_p10_fen, flags, reasons, "
                                "sensors FROM limits ORDER BY farmer_id");
    assert_string_equal(r_on, r_off);
    free(r_on);
    free(r_off);
    free(ini);
    free(on);
    free(off);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_outlier__a_spike_is_a_candidate_a_step_is_not),
        cmocka_unit_test(test_outlier__a_slope_is_not_a_spike),
        cmocka_unit_test(test_outlier__far_references_and_water_are_not_judged),
        cmocka_unit_test(test_outlier__neighbours_that_share_the_move_keep_it),
    };
    const struct CMUnitTest e2e[] = {
        cmocka_unit_test(test_outlier__assess_leaves_out_the_glitches_and_keeps_why),
        cmocka_unit_test(test_outlier__a_held_parcel_is_judged_as_without_its_outliers),
    };
    int failed;
    if (parus_test_on_pg()) /* the rule's cases hold no store */
        return cmocka_run_backend_group_tests(e2e, setup, teardown);
    failed = cmocka_run_group_tests_name("outlier rule", unit, NULL, NULL);
    failed += cmocka_run_group_tests_name("outlier end to end", e2e, setup, teardown);
    return parus_test_exit_status(failed);
}

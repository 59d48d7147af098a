/*
 * test_crop_e2e.c - the crop stage end to end through the real tools: two synthetic seasons from
 * the generator (other seeds: other fields, crops and clouds), each loaded and ingested into its
 * own store; the first season's truth crops are the labels a model is trained on (`parus train
 * --season`), the second season's parcels are classified from their store (`parus classify`)
 * with their truth loaded as declared crops, so the stored agreement is the accuracy on unseen
 * parcels. Then the fallbacks and the refusals: no model (calendar matching, low confidence), a
 * model of another season length, a model without a season, labels naming unknown parcels or
 * crops, a class with one sample.
 *
 * Kept small for CI (768 px, 12 dates, ~690 parcels a season, 120 rounds); the full-size figure
 * comes from tools/bench-synth-classify.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define SEASON "2024-03-01/2024-10-31"

static char *g_dir;

static double query_double(const char *db_path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    double v;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* dir/seed-N: a generated, loaded and ingested season with its truth crops declared */
static void make_season(int seed)
{
    char *log = parus_test_run_expect(
        0,
        "set -e; d='%s/seed-%d'; mkdir -p \"$d\"; '%s' --out \"$d/scene\" --size 768 --dates 12 "
        "--seed %d --clouds 0.2 --crops '%s/data-samples/crops.csv' --quiet; "
        "'%s' --db \"$d/parus.db\" -q parcels load \"$d/scene/parcels.geojson\" || [ $? -eq 8 ]; "
        "'%s' --db \"$d/parus.db\" -q ingest \"$d/scene\"/*.tif; "
        "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print \"parcel_id,crop\"; next }"
        " $c[\"valid\"] == 1 { print $c[\"parcel_id\"] \",\" $c[\"crop\"] }' "
        "\"$d/scene/truth/parcels_truth.csv\" > \"$d/labels.csv\"; "
        "'%s' --db \"$d/parus.db\" -q parcels crops \"$d/labels.csv\" --season " SEASON,
        g_dir, seed, parus_test_synth_bin(), seed, parus_test_source_dir(), parus_test_bin(),
        parus_test_bin(), parus_test_bin());
    free(log);
}

static int setup(void **state)
{
    char *log;
    (void)state;
    g_dir = parus_test_tmpdir("crop-e2e");
    make_season(11);
    make_season(22);
    log = parus_test_run_expect(0,
                                "'%s' --db '%s/seed-11/parus.db' train --season " SEASON
                                " --rounds 120 --out '%s/model'",
                                parus_test_bin(), g_dir, g_dir);
    free(log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static void test_classify__unseen_season_by_the_model(void **state)
{
    char db[4200], *log;
    double n_parcels, n_rows, oa, n_model, p_ok;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    log = parus_test_run_expect(0, "'%s' --db '%s' classify --season " SEASON " --model '%s/model'",
                                parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "agree with the declared crop"));
    free(log);
    n_parcels = query_double(db, "SELECT count(*) FROM parcels");
    n_rows = query_double(db, "SELECT count(*) FROM assessments WHERE season = '" SEASON "'");
    assert_true(n_parcels > 500);
    assert_true(n_rows == n_parcels); /* every parcel has a row */
    n_model = query_double(db, "SELECT count(*) FROM assessments WHERE method = 'model' AND "
                               "confidence = 'normal' AND crop IS NOT NULL AND model_version "
                               "LIKE 'xgb:%'");
    /* a clear season: every parcel has observations */
    assert_true(n_model == n_rows);
    p_ok = query_double(db, "SELECT count(*) FROM assessments WHERE probability BETWEEN 0 AND 1 "
                            "AND margin BETWEEN 0 AND 1 AND crop2 IS NOT NULL AND crop2 <> crop");
    assert_true(p_ok == n_rows);
    oa = query_double(db, "SELECT avg(agrees = 1) FROM assessments WHERE agrees >= 0");
    fprintf(stderr, "crop e2e: %.0f parcels, overall accuracy on the unseen season %.3f\n",
            n_parcels, oa);
    /* docs/benchmarks.md: measured 0.850 at these sizes (12 dates, 120 rounds, 692 parcels over
     * 17 classes, several with fewer than 20 examples; a standard error of 0.014), trained with
     * the default thinned copies and class balance (docs/method.md, section 8; 0.857 without the
     * balance, 0.719 without either); asserted two
     * standard errors below, so training on the season as it is fails here. */
    assert_true(oa >= 0.83);

    /* classify again: the rows are replaced, not added */
    log = parus_test_run_expect(0,
                                "'%s' --db '%s' -q classify --season " SEASON " --model '%s/model'",
                                parus_test_bin(), db, g_dir);
    free(log);
    assert_true(query_double(db, "SELECT count(*) FROM assessments") == n_rows);
}

static void test_classify__calendar_fallback_is_low_confidence(void **state)
{
    char db[4200], *log;
    double n_rows, n_cal, oa;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    log =
        parus_test_run_expect(0, "'%s' --db '%s' classify --season " SEASON, parus_test_bin(), db);
    assert_non_null(strstr(log, "no model given"));
    assert_non_null(strstr(log, "low confidence"));
    free(log);
    n_rows = query_double(db, "SELECT count(*) FROM assessments WHERE season = '" SEASON "'");
    n_cal = query_double(db, "SELECT count(*) FROM assessments WHERE method = 'calendar' AND "
                             "confidence = 'low' AND reason LIKE 'no model:%'");
    assert_true(n_cal > 0.9 * n_rows);
    assert_true(query_double(db, "SELECT count(*) FROM assessments WHERE method = 'model'") == 0);
    oa = query_double(db, "SELECT avg(agrees = 1) FROM assessments WHERE agrees >= 0");
    fprintf(stderr, "crop e2e: calendar matching agrees with the truth on %.3f\n", oa);
    /* docs/benchmarks.md: calendar matching agrees on 0.703 here (standard error 0.017);
     * asserted two standard errors below, as the model's figure */
    assert_true(oa >= 0.67);
}

static void test_classify__refusals(void **state)
{
    char db[4200], *log;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    /* a season of another length than the model's */
    log = parus_test_run_expect(
        2, "'%s' --db '%s' classify --season 2024-03-01/2024-09-30 --model '%s/model'",
        parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "trained on"));
    free(log);
    /* no season at all */
    free(parus_test_run_expect(2, "'%s' --db '%s' classify --model '%s/model'", parus_test_bin(),
                               db, g_dir));
    /* a model that is not a parus model file */
    free(
        parus_test_run_expect(4,
                              "printf 'not a model\\n' > '%s/bad.model' && '%s' --db '%s' classify "
                              "--season " SEASON " --model '%s/bad.model'",
                              g_dir, parus_test_bin(), db, g_dir));
    /* a model trained on a CSV: no season in it */
    free(parus_test_run_expect(
        7,
        "printf 'id,label,ndvi_01,ndvi_02,ndvi_03,ndvi_04\\n"
        "a,x,0.1,0.2,0.3,0.4\\nb,x,0.1,0.2,0.3,0.5\\nc,y,0.5,0.4,0.3,0.2\\n"
        "d,y,0.6,0.4,0.3,0.2\\n' > '%s/t.csv' && '%s' -q train --csv '%s/t.csv' "
        "--exclude-columns id --rounds 2 --out '%s/csv.model' && '%s' --db '%s' "
        "classify --season " SEASON " --model '%s/csv.model'",
        g_dir, parus_test_bin(), g_dir, g_dir, parus_test_bin(), db, g_dir));
    /* labels: an unknown parcel, an unknown crop code */
    log = parus_test_run_expect(
        4,
        "printf 'parcel_id,crop\\nNO_SUCH_PARCEL,soybean\\n' > '%s/l1.csv' && '%s' "
        "--db '%s' train --season " SEASON " --labels '%s/l1.csv' --out '%s/x.model'",
        g_dir, parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(log, "NO_SUCH_PARCEL"));
    free(log);
    log = parus_test_run_expect(
        4,
        "printf 'parcel_id,crop\\nP000001,moon_cheese\\n' > '%s/l2.csv' && '%s' "
        "--db '%s' train --season " SEASON " --labels '%s/l2.csv' --out '%s/x.model'",
        g_dir, parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(log, "moon_cheese"));
    free(log);
}

static void test_train__a_class_with_one_sample(void **state)
{
    char db[4200], *log;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    /* two parcels of one crop, one of another: E_RANGE, an input error (exit 4) */
    log = parus_test_run_expect(
        4,
        "awk -F, 'NR == 1 { print; next } NR <= 3 { print $1 \",soybean\" } "
        "NR == 4 { print $1 \",cotton\" }' '%s/seed-22/labels.csv' > '%s/l3.csv' && "
        "'%s' --db '%s' train --season " SEASON " --labels '%s/l3.csv' --out "
        "'%s/x.model'",
        g_dir, g_dir, parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(log, "cotton"));
    assert_non_null(strstr(log, "at least two"));
    free(log);
}

/* the thinned copies: deterministic (the same data hash twice), counted apart, off on request,
 * and their options checked */
static void test_train__thinned_copies(void **state)
{
    char db[4200], *log, *again;
    const char *hash;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    log = parus_test_run_expect(
        0,
        "awk -F, 'NR == 1 { print; next } NR <= 7 { print $1 \",soybean\"; next } "
        "NR <= 13 { print $1 \",cotton\" }' '%s/seed-22/labels.csv' > '%s/l12.csv' && "
        "'%s' --db '%s' train --season " SEASON " --labels '%s/l12.csv' --rounds 5 "
        "--out '%s/t.model'",
        g_dir, g_dir, parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(log, "12 labelled"));
    assert_non_null(strstr(log, "thinned copies (4 a parcel, 0.50 of the observations left out)"));
    assert_non_null(hash = strstr(log, "(data "));
    again = parus_test_run_expect(0,
                                  "'%s' --db '%s' train --season " SEASON
                                  " --labels '%s/l12.csv' --rounds 5 "
                                  "--out '%s/t2.model'",
                                  parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(again, hash)); /* the same copies, the same data */
    assert_null(strstr(log, "trained on 12 samples"));
    free(again);
    again = parus_test_run_expect(0,
                                  "'%s' --db '%s' train --season " SEASON
                                  " --labels '%s/l12.csv' --rounds 5 "
                                  "--thin-copies 0 --out '%s/t3.model'",
                                  parus_test_bin(), db, g_dir, g_dir);
    assert_non_null(strstr(again, "trained on 12 samples"));
    assert_null(strstr(again, hash));
    free(again);
    free(log);
    log = parus_test_run_expect(
        2, "'%s' --db '%s' train --season " SEASON " --thin-drop 1.5 --out '%s/x.m'",
        parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "--thin-drop wants 0..0.95"));
    free(log);
    log = parus_test_run_expect(2,
                                "'%s' --db '%s' train --samples --season-days 200 --thin-copies 2 "
                                "--out '%s/x.m'",
                                parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "go with --season"));
    free(log);
}

/* --eta: the learning rate of the trees. Not given, it is 0.1 (the model of "--eta 0.1" byte for
 * byte); given, another model; out of range, refused; and it goes with the rounds, not with
 * --select. */
static void test_train__eta(void **state)
{
    char db[4200], *log;
    (void)state;
    snprintf(db, sizeof db, "%s/seed-22/parus.db", g_dir);
    log = parus_test_run_expect(
        0,
        "awk -F, 'NR == 1 { print; next } NR <= 7 { print $1 \",soybean\"; next } "
        "NR <= 13 { print $1 \",cotton\" }' '%s/seed-22/labels.csv' > '%s/b12.csv' && "
        "'%s' --db '%s' -q train --season " SEASON " --labels '%s/b12.csv' --rounds 40 "
        "--out '%s/b1.model' && "
        "'%s' --db '%s' -q train --season " SEASON " --labels '%s/b12.csv' --rounds 40 --eta 0.1 "
        "--out '%s/b2.model' && "
        "'%s' --db '%s' -q train --season " SEASON " --labels '%s/b12.csv' --rounds 40 --eta 0.3 "
        "--out '%s/b3.model' && cmp '%s/b1.model' '%s/b2.model' && echo same-as-0.1 && "
        "if cmp -s '%s/b1.model' '%s/b3.model'; then echo same-as-0.3; fi",
        g_dir, g_dir, parus_test_bin(), db, g_dir, g_dir, parus_test_bin(), db, g_dir, g_dir,
        parus_test_bin(), db, g_dir, g_dir, g_dir, g_dir, g_dir, g_dir);
    assert_non_null(strstr(log, "same-as-0.1"));
    assert_null(strstr(log, "same-as-0.3"));
    free(log);
    log =
        parus_test_run_expect(2, "'%s' --db '%s' train --season " SEASON " --eta 0 --out '%s/x.m'",
                              parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "--eta wants a learning rate in (0, 1], not '0'"));
    free(log);
    log = parus_test_run_expect(2,
                                "'%s' --db '%s' train --season " SEASON " --eta 1.5 --out '%s/x.m'",
                                parus_test_bin(), db, g_dir);
    assert_non_null(strstr(log, "--eta wants"));
    free(log);
    log = parus_test_run_expect(2,
                                "'%s' evaluate --csv '%s/absent.csv' --fold-column fold --select "
                                "--eta 0.2",
                                parus_test_bin(), g_dir);
    assert_non_null(strstr(log, "--rounds or --eta and --select exclude each other"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify__unseen_season_by_the_model),
        cmocka_unit_test(test_classify__calendar_fallback_is_low_confidence),
        cmocka_unit_test(test_classify__refusals),
        cmocka_unit_test(test_train__a_class_with_one_sample),
        cmocka_unit_test(test_train__thinned_copies),
        cmocka_unit_test(test_train__eta),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

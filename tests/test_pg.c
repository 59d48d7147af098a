/*
 * test_pg.c - the PostgreSQL store (issue 13), against a real server: CTest starts one for this
 * suite (tools/pg-server.sh, fixture "pg" in tests/CMakeLists.txt) and stops it after; where
 * PostgreSQL is not installed every case skips.
 *
 * The measure of the second backend is the first: the committed sample season is run through
 * the same commands into a SQLite file and into a PostgreSQL database, and every table of the two
 * stores is then compared row for row and value for value (reals bit for bit), leaving out only
 * the columns that say when something ran. Then several writers at once, and what a server store
 * refuses.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "parus/store.h"
#include "store_int.h"
#include "test_support.h"

#define SEASON "2024-03-01/2024-10-31"

static char *g_dir;         /* scratch */
static const char *g_pgdir; /* the fixture's directory (PARUS_TEST_PG_DIR) */
static char g_server[512];  /* "host=... port=..." of the fixture's server, "" when none */

static char *new_database(const char *name)
{
    char *conn = parus_test_pg_database(name);
    assert_non_null(conn);
    return conn;
}

static bool have_server(void)
{
    if (!g_server[0]) {
        fprintf(stderr, "test_pg: no PostgreSQL server (tools/pg-server.sh fixture said why)\n");
        return false;
    }
    return true;
}

/* ---- running the sample season ---- */

static char *sample(const char *rel)
{
    return parus_test_path(parus_test_source_dir(), rel);
}

/* The sample season's parcels loaded into two fresh stores: stores[0] the SQLite file NAME.db in
 * the scratch, stores[1] a PostgreSQL database NAME (the caller frees both); false, nothing made,
 * without a server. */
static bool sample_parcel_stores(const char *name, char *stores[2])
{
    char file[256], *parcels;
    if (!have_server())
        return false;
    snprintf(file, sizeof file, "%s.db", name);
    stores[0] = parus_test_path(g_dir, file);
    stores[1] = new_database(name);
    parcels = sample("data-samples/season/parcels.geojson");
    for (int k = 0; k < 2; k++)
        free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(),
                                   stores[k], parcels));
    free(parcels);
    return true;
}

/* The commands of tools/demo.sh without nightly's file moves, on the store db; outputs in out. */
static void run_season(const char *db, const char *out)
{
    const char *bin = parus_test_bin();
    char *parcels = sample("data-samples/season/parcels.geojson");
    char *crops_csv = sample("data-samples/season/declared_crops.csv");
    char *tiles = sample("data-samples/season");
    char *weather = sample("data-samples/weather/era5-daily-cancities-1990-1993.nc");
    char *crops = sample("data-samples/crops.csv");
    char *policy = sample("data-samples/policy.ini");

    /* exit 8: one feature of the sample is set aside */
    free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", bin, db, parcels));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q parcels crops '%s' --season " SEASON, bin, db,
                               crops_csv));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q ingest '%s'/*.tif", bin, db, tiles));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q weather import '%s'", bin, db, weather));
    free(parus_test_run_expect(0,
                               "'%s' --db '%s' -q train --season " SEASON
                               " --rounds 30 --crops '%s' --out '%s/crop.model'",
                               bin, db, crops, out));
    free(parus_test_run_expect(0,
                               "'%s' --db '%s' -q assess --season " SEASON
                               " --model '%s/crop.model' --crops '%s' --policy '%s'",
                               bin, db, out, crops, policy));
    free(parus_test_run_expect(0,
                               "'%s' --db '%s' -q export --season " SEASON
                               " --out '%s/limits.csv' --observations '%s/obs.csv'",
                               bin, db, out, out));
    free(parus_test_run_expect(
        0, "'%s' --db '%s' -q verify --season " SEASON " --crops '%s' --policy '%s'", bin, db,
        crops, policy));
    free(parcels);
    free(crops_csv);
    free(tiles);
    free(weather);
    free(crops);
    free(policy);
}

/* ---- comparing two stores ---- */

/* Columns that say when something ran, and the command lines (their output paths differ): the
 * only ones the two runs may disagree on. */
static bool column_left_out(const char *table, const char *column)
{
    static const char *const times[] = {
        "loaded_at",   "processed_at", "started_at", "ended_at",   "assessed_at", "recorded_at",
        "imported_at", "computed_at",  "created_at", "changed_at", "found_at",    "stale_since"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (strcmp(column, times[i]) == 0)
            return true;
    return strcmp(table, "runs") == 0 &&
           (strcmp(column, "args") == 0 || strcmp(column, "summary") == 0);
}

/* One value of SQLite's row against PostgreSQL's text of it. */
static bool same_value(sqlite3_stmt *lite, int i, const PGresult *res, int row, char *why,
                       size_t cap)
{
    const char *pg = PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
    switch (sqlite3_column_type(lite, i)) {
    case SQLITE_NULL:
        if (pg)
            snprintf(why, cap, "NULL in SQLite, '%s' in PostgreSQL", pg);
        return !pg;
    case SQLITE_INTEGER:
        if (!pg || strtoll(pg, NULL, 10) != sqlite3_column_int64(lite, i) || strchr(pg, '.')) {
            snprintf(why, cap, "%lld in SQLite, '%s' in PostgreSQL",
                     (long long)sqlite3_column_int64(lite, i), pg ? pg : "NULL");
            return false;
        }
        return true;
    case SQLITE_FLOAT: {
        /* bit for bit: PostgreSQL prints the shortest text that reads back to the same double */
        double a = sqlite3_column_double(lite, i), b = pg ? strtod(pg, NULL) : (double)NAN;
        if (!pg || memcmp(&a, &b, sizeof a) != 0) {
            snprintf(why, cap, "%.17g in SQLite, '%s' in PostgreSQL", a, pg ? pg : "NULL");
            return false;
        }
        return true;
    }
    case SQLITE_TEXT:
        if (!pg || strcmp(pg, (const char *)sqlite3_column_text(lite, i)) != 0) {
            snprintf(why, cap, "'%.60s' in SQLite, '%.60s' in PostgreSQL",
                     (const char *)sqlite3_column_text(lite, i), pg ? pg : "NULL");
            return false;
        }
        return true;
    default: { /* BLOB: PostgreSQL's bytea as text, unescaped */
        size_t n = 0;
        unsigned char *bytes = pg ? PQunescapeBytea((const unsigned char *)pg, &n) : NULL;
        bool same = bytes && n == (size_t)sqlite3_column_bytes(lite, i) &&
                    (n == 0 || memcmp(bytes, sqlite3_column_blob(lite, i), n) == 0);
        if (!same)
            snprintf(why, cap, "a blob of %d bytes in SQLite, %zu in PostgreSQL",
                     sqlite3_column_bytes(lite, i), n);
        PQfreemem(bytes);
        return same;
    }
    }
}

/* Compare table in both stores: every row, every column but those left out; returns the rows
 * compared. */
static size_t compare_table(sqlite3 *lite, PGconn *pg, const char *table)
{
    char cols[2048] = "", order[4096] = "", sql[8192], why[256] = "";
    size_t nc = 0, no = 0, n_rows = 0;
    sqlite3_stmt *st;
    PGresult *res;
    int n_cols = 0, row = 0;

    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
    assert_int_equal(sqlite3_prepare_v2(lite, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (column_left_out(table, c))
            continue;
        nc += (size_t)snprintf(cols + nc, sizeof cols - nc, "%s%s", n_cols ? ", " : "", c);
        no += (size_t)snprintf(order + no, sizeof order - no, "%s%s NULLS FIRST",
                               n_cols ? ", " : "", c);
        n_cols++;
    }
    sqlite3_finalize(st);
    assert_true(n_cols > 0);

    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", cols, table, order);
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s in PostgreSQL: %s", table, PQresultErrorMessage(res));
    assert_int_equal(sqlite3_prepare_v2(lite, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (row >= PQntuples(res))
            fail_msg("%s: SQLite has more than PostgreSQL's %d rows", table, PQntuples(res));
        for (int i = 0; i < n_cols; i++)
            if (!same_value(st, i, res, row, why, sizeof why))
                fail_msg("%s, row %d, column %s: %s", table, row + 1, sqlite3_column_name(st, i),
                         why);
        row++;
        n_rows++;
    }
    if (row != PQntuples(res))
        fail_msg("%s: PostgreSQL has %d rows, SQLite %d", table, PQntuples(res), row);
    sqlite3_finalize(st);
    PQclear(res);
    return n_rows;
}

/* Every table of the SQLite store but its R-tree's shadow tables, compared; the number of rows
 * compared in all. */
static size_t compare_stores(const char *lite_path, const char *conninfo, size_t *n_tables)
{
    sqlite3 *lite;
    PGconn *pg = PQconnectdb(conninfo);
    sqlite3_stmt *st;
    size_t n = 0;

    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    assert_int_equal(sqlite3_open_v2(lite_path, &lite, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    PQclear(PQexec(pg, "SET extra_float_digits = 3"));
    assert_int_equal(
        sqlite3_prepare_v2(lite,
                           "SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE "
                           "'parcels_rtree_%' AND sql NOT LIKE '%VIRTUAL%' ORDER BY name",
                           -1, &st, NULL),
        SQLITE_OK);
    *n_tables = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n += compare_table(lite, pg, (const char *)sqlite3_column_text(st, 0));
        (*n_tables)++;
    }
    sqlite3_finalize(st);
    sqlite3_close(lite);
    PQfinish(pg);
    return n;
}

/* One table of the two stores compared, or with select a temporary view of that name; its
 * rows. */
static size_t compare_table_in(const char *lite_path, const char *conninfo, const char *table,
                               const char *select)
{
    sqlite3 *lite;
    PGconn *pg = PQconnectdb(conninfo);
    size_t n;
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    assert_int_equal(sqlite3_open_v2(lite_path, &lite, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    PQclear(PQexec(pg, "SET extra_float_digits = 3"));
    if (select) {
        char sql[2048];
        PGresult *res;
        snprintf(sql, sizeof sql, "CREATE TEMP VIEW %s AS %s", table, select);
        assert_int_equal(sqlite3_exec(lite, sql, NULL, NULL, NULL), SQLITE_OK);
        res = PQexec(pg, sql);
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
    }
    n = compare_table(lite, pg, table);
    sqlite3_close(lite);
    PQfinish(pg);
    return n;
}

/* The tables of the PostgreSQL store but its identity and its box index's table: as many as
 * SQLite's store has without its R-tree, or a table was left out of the comparison. */
static size_t pg_tables(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *res = PQexec(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                               "current_schema() AND tablename NOT IN ('parus_meta', "
                               "'parcels_rtree', 'spatial_ref_sys')");
    size_t n;
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    n = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(pg);
    return n;
}

/* text with the field k (0-based) of every comma-separated line taken out, in place (the
 * exports quote no field with a comma in it here) */
static char *drop_field(char *text, int k)
{
    char *w = text;
    int f = 0;
    for (const char *r = text; *r; r++) {
        if (*r == '\n') {
            f = 0;
            *w++ = *r;
            continue;
        }
        if (*r == ',' && ++f == k)
            continue; /* the comma before field k */
        if (f == k)
            continue;
        *w++ = *r;
    }
    *w = '\0';
    return text;
}

/* The season's observations of store db exported to out (`parus export --observations`). */
static void export_observations(const char *db, const char *out)
{
    free(parus_test_run_expect(0,
                               "'%s' --db '%s' -q export --season " SEASON " --observations '%s'",
                               parus_test_bin(), db, out));
}

/* The observations of the sample season in the store conn (every statistic, exported) are those
 * one run of `parus ingest` over its tiles puts into a new SQLite store lite, but for the tile
 * ids (field 3), which writers take in the order they commit. */
static void expect_observations_as_sqlite(const char *conn, const char *lite, const char *obs_pg,
                                          const char *obs_lite)
{
    char *tiles = sample("data-samples/season"),
         *parcels = sample("data-samples/season/parcels.geojson");
    char *a, *b;
    free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(), lite,
                               parcels));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q ingest '%s'/*.tif", parus_test_bin(), lite,
                               tiles));
    export_observations(conn, obs_pg);
    export_observations(lite, obs_lite);
    a = drop_field(parus_test_read_file(obs_pg), 3);
    b = drop_field(parus_test_read_file(obs_lite), 3);
    assert_non_null(strstr(a, "parcel_id,farmer_id,date,sensor,"));
    assert_string_equal(a, b);
    free(a), free(b), free(tiles), free(parcels);
}

/* ---- the cases ---- */

static void test_pg__a_season_on_postgresql_is_the_season_on_sqlite(void **state)
{
    char *lite_dir = parus_test_path(g_dir, "lite"), *pg_dir = parus_test_path(g_dir, "pg");
    char *lite_db = parus_test_path(lite_dir, "parus.db"), *conn, *a, *b, *pa, *pb;
    size_t n_rows, n_tables;
    (void)state;
    if (!have_server()) {
        free(lite_dir), free(pg_dir), free(lite_db);
        skip();
    }
    conn = new_database("season");
    free(parus_test_run_expect(0, "mkdir -p '%s' '%s'", lite_dir, pg_dir));
    run_season(lite_db, lite_dir);
    run_season(conn, pg_dir);

    n_rows = compare_stores(lite_db, conn, &n_tables);
    print_message("compared %zu rows in %zu tables: equal\n", n_rows, n_tables);
    assert_int_equal(n_tables, pg_tables(conn));
    assert_true(n_rows > 10000); /* 3,684 observations, weather, results, limits */

    /* the exports agree too, but for the run id and time the limits carry */
    pa = parus_test_path(lite_dir, "obs.csv");
    pb = parus_test_path(pg_dir, "obs.csv");
    a = parus_test_read_file(pa);
    b = parus_test_read_file(pb);
    assert_string_equal(a, b);
    free(a), free(b), free(pa), free(pb);

    /* observation_values has no foreign keys on PostgreSQL: deleting a tile or a parcel by hand
     * takes its observations with it all the same (the cascade's triggers) */
    {
        PGconn *pg = PQconnectdb(conn);
        PGresult *res;
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        PQclear(PQexec(pg, "DELETE FROM radar_tiles WHERE tile_id = 1"));
        res = PQexec(pg, "DELETE FROM tiles WHERE id = 1");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        res = PQexec(pg, "SELECT (SELECT count(*) FROM observation_values WHERE tile_id = 1), "
                         "(SELECT count(*) FROM observation_values)");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "0");
        assert_string_equal(PQgetvalue(res, 0, 1), "3377"); /* 3,684 less the tile's 307 */
        PQclear(res);
        PQfinish(pg);
    }

    free(conn);
    free(lite_dir);
    free(pg_dir);
    free(lite_db);
}

/* A season longer than a cursor's batch (10,000 rows) reads on PostgreSQL as on SQLite: 12,000
 * parcels (two batches of the parcels' stream) seen on 2 tiles (24,000 observations, three
 * batches, each asked for while the one before is read; the parcels' second batch asked for while
 * one of the observations' is on its way), filled alike in both stores by the season-walk
 * benchmark, then assessed and exported from each. */
static void test_pg__a_season_of_many_batches_is_the_season_on_sqlite(void **state)
{
    const char *bench = getenv("PARUS_BENCH_WALK");
    char *dir = parus_test_path(g_dir, "batches"), *lite, *conn, *crops, *oa, *ob, *a, *b;
    size_t n_rows, n_tables;
    (void)state;
    if (!have_server() || !bench || !*bench) {
        free(dir);
        skip();
    }
    lite = parus_test_path(dir, "parus.db");
    oa = parus_test_path(dir, "obs_lite.csv");
    ob = parus_test_path(dir, "obs_pg.csv");
    crops = sample("data-samples/crops.csv");
    conn = new_database("batches");
    free(parus_test_run_expect(0, "mkdir -p '%s'", dir));
    free(parus_test_run_expect(0, "'%s' '%s' 12000 2 >/dev/null", bench, lite));
    free(parus_test_run_expect(0, "'%s' '%s' 12000 2 >/dev/null", bench, conn));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --crops '%s'",
                               parus_test_bin(), lite, crops));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q assess --season " SEASON " --crops '%s'",
                               parus_test_bin(), conn, crops));
    export_observations(lite, oa);
    export_observations(conn, ob);
    a = parus_test_read_file(oa);
    b = parus_test_read_file(ob);
    assert_true(strlen(a) > 24000 * 20);
    assert_string_equal(a, b);
    n_rows = compare_stores(lite, conn, &n_tables);
    print_message("compared %zu rows in %zu tables: equal\n", n_rows, n_tables);
    assert_true(n_rows > 12000 * 3 + 24000);
    free(a), free(b), free(oa), free(ob), free(crops), free(conn), free(lite), free(dir);
}

static void test_pg__three_writers_at_once_store_each_tile_once(void **state)
{
    char *conn, *tiles, *parcels, *out, *obs_pg, *obs_lite, *lite_db;
    (void)state;
    if (!have_server())
        skip();
    conn = new_database("writers");
    tiles = sample("data-samples/season");
    parcels = sample("data-samples/season/parcels.geojson");
    lite_db = parus_test_path(g_dir, "writers.db");
    obs_pg = parus_test_path(g_dir, "writers-pg.csv");
    obs_lite = parus_test_path(g_dir, "writers-lite.csv");
    free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(), conn,
                               parcels));
    /* three processes over the same twelve tiles: each tile is stored by one, known to the
     * others (PostgreSQL's unique index holds the later ones until the first commits); each
     * exits 0, or 9 when the others stored every tile before it */
    out = parus_test_run_expect(
        0,
        "for i in 1 2 3; do ('%s' --db '%s' ingest '%s'/*.tif > '%s'/w$i.log 2>&1; "
        "echo $? > '%s'/w$i.rc) & done; wait; cat '%s'/w?.log | grep "
        "'^ingest:'; test \"$(cat '%s'/w?.rc | grep -c '^[09]$')\" = 3",
        parus_test_bin(), conn, tiles, g_dir, g_dir, g_dir, g_dir);
    {
        int stored = 0, known = 0;
        const char *p = out;
        while ((p = strstr(p, "ingest: tiles=12 stored="))) {
            int s, k;
            assert_int_equal(sscanf(p, "ingest: tiles=12 stored=%d known=%d", &s, &k), 2);
            stored += s;
            known += k;
            p++;
        }
        assert_int_equal(stored, 12);
        assert_int_equal(known, 24);
        assert_non_null(strstr(out, "failed=0"));
    }
    free(out);
    /* and hold exactly what one writer into SQLite holds */
    expect_observations_as_sqlite(conn, lite_db, obs_pg, obs_lite);
    free(conn), free(tiles), free(parcels), free(lite_db), free(obs_pg), free(obs_lite);
}

/* `parus store copy` of the file lite into a new database NAME (returned) fails with exit 5,
 * naming table, and leaves nothing in it. */
static char *copy_refused(const char *lite, const char *name, const char *table)
{
    char *conn = new_database(name);
    char *out = parus_test_run_expect(5, "'%s' store copy '%s' '%s'", parus_test_bin(), lite, conn);
    assert_non_null(strstr(out, table));
    free(out);
    out = parus_test_run_expect(0, "'%s' --db '%s' store info", parus_test_bin(), conn);
    assert_non_null(strstr(out, "parcels:           0"));
    free(out);
    return conn;
}

static void test_pg__a_store_copied_into_postgresql_and_back_is_the_same(void **state)
{
    char *conn, *lite_dir = parus_test_path(g_dir, "copy"), *lite_db, *back_db, *bad_db, *out;
    size_t n_tables, n_rows;
    (void)state;
    if (!have_server()) {
        free(lite_dir);
        skip();
    }
    lite_db = parus_test_path(lite_dir, "parus.db");
    back_db = parus_test_path(lite_dir, "back.db");
    bad_db = parus_test_path(lite_dir, "bad.db");
    free(parus_test_run_expect(0, "mkdir -p '%s'", lite_dir));
    run_season(lite_db, lite_dir);
    conn = new_database("copy");

    out = parus_test_run_expect(0, "'%s' store copy '%s' '%s'", parus_test_bin(), lite_db, conn);
    assert_non_null(strstr(out, "28 tables"));
    free(out);
    free(parus_test_run_expect(0, "'%s' -q store copy '%s' '%s'", parus_test_bin(), conn, back_db));
    /* the copy in PostgreSQL is the SQLite store, and so is the copy back */
    n_rows = compare_stores(lite_db, conn, &n_tables);
    assert_true(n_rows > 5000);
    assert_int_equal(compare_stores(back_db, conn, &n_tables), n_rows);
    /* it works on the copy as on the original */
    free(parus_test_run_expect(0, "'%s' --db '%s' -q verify --season " SEASON, parus_test_bin(),
                               conn));

    /* copy never merges: a store that holds anything is refused, and left as it was */
    out = parus_test_run_expect(4, "'%s' store copy '%s' '%s'", parus_test_bin(), lite_db, conn);
    assert_non_null(strstr(out, "is not empty"));
    free(out);
    assert_int_equal(compare_stores(lite_db, conn, &n_tables), n_rows);

    /* a value PostgreSQL cannot hold (text in a real column of a hand-edited SQLite file) stops
     * the copy with nothing of it stored */
    free(parus_test_run_expect(0,
                               "cp '%s' '%s' && sqlite3 '%s' \"UPDATE parcels SET area_m2 = "
                               "'lots' WHERE id = 'P000007'\"",
                               lite_db, bad_db, bad_db));
    free(conn);
    conn = copy_refused(bad_db, "copy", "parcels");

    free(conn), free(lite_dir), free(lite_db), free(back_db), free(bad_db);
}

/* Copy into PostgreSQL writes each table with one COPY in binary, its foreign keys checked once
 * after it: values at the edges of what a store holds (the largest and smallest integers, reals
 * down to a subnormal, text with a tab, a newline, a backslash and Chinese, an empty text beside a
 * NULL, an empty blob and one of zero bytes) arrive as they were and come back so, and a row whose
 * parent is missing (a hand-edited file: SQLite's CLI checks no foreign key) stops the copy with
 * nothing of it stored. */
static void test_pg__a_copy_in_bulk_keeps_every_value_and_every_key(void **state)
{
    char *dir = parus_test_path(g_dir, "copy-edges"), *lite_db, *back_db, *orphan_db, *conn, *out;
    char *tiles = sample("data-samples/season"),
         *parcels = sample("data-samples/season/parcels.geojson");
    size_t n_tables, n_rows;
    (void)state;
    if (!have_server()) {
        free(dir), free(tiles), free(parcels);
        skip();
    }
    lite_db = parus_test_path(dir, "edges.db");
    back_db = parus_test_path(dir, "back.db");
    orphan_db = parus_test_path(dir, "orphan.db");
    free(parus_test_run_expect(0, "mkdir -p '%s'", dir));
    free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(), lite_db,
                               parcels));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q ingest '%s'/*.tif", parus_test_bin(), lite_db,
                               tiles));
    free(parus_test_run_expect(
        0,
        "sqlite3 '%s' \"INSERT INTO samples (id, label, grp) VALUES ('s' || char(9) || 'tab', "
        "'line' || char(10) || 'break \\\\ back', ''), ('冬小麦', NULL, '地块'); "
        "INSERT INTO sample_points (sample_id, date, var, value) VALUES "
        "('冬小麦', '2024-03-01', 'ndvi', 4.9406564584124654e-324), "
        "('冬小麦', '2024-03-02', 'ndvi', -1.7976931348623157e308), "
        "('冬小麦', '2024-03-03', 'ndvi', 0.1), ('冬小麦', '2024-03-04', 'ndvi', NULL); "
        "INSERT INTO parcel_changes (parcel_id, changed_at, source, what, old_area_m2, "
        "new_area_m2, n_observations_removed) VALUES ('P000001', 't', 's', 'geometry', NULL, "
        "1e-300, 9223372036854775807), ('P000002', 't', 's', 'geometry', 2.5, 3, "
        "-9223372036854775808); "
        "INSERT INTO assessment_inputs (season, model_version, policy_hash, crops, policy, "
        "debts) VALUES ('2024', 'm', 'h', x'', x'00000a0d5c', NULL)\"",
        lite_db));
    conn = new_database("copyedges");
    free(parus_test_run_expect(0, "'%s' -q store copy '%s' '%s'", parus_test_bin(), lite_db, conn));
    free(parus_test_run_expect(0, "'%s' -q store copy '%s' '%s'", parus_test_bin(), conn, back_db));
    n_rows = compare_stores(lite_db, conn, &n_tables);
    assert_true(n_rows > 3000); /* 3,684 observations */
    assert_int_equal(compare_stores(back_db, conn, &n_tables), n_rows);
    out = parus_test_run_expect(0,
                                "sqlite3 '%s' \"SELECT quote(crops), quote(policy), "
                                "typeof(debts) FROM assessment_inputs\"",
                                back_db);
    assert_string_equal(out, "X''|X'00000A0D5C'|null\n");
    free(out);

    /* a declared crop of a parcel the file does not have */
    free(
        parus_test_run_expect(0,
                              "cp '%s' '%s' && sqlite3 '%s' \"INSERT INTO parcel_crops (parcel_id, "
                              "season, crop) VALUES ('no such parcel', '2024', 'rice')\"",
                              lite_db, orphan_db, orphan_db));
    free(conn);
    conn = copy_refused(orphan_db, "copyedges", "parcel_crops");
    /* and the database is left as new: the foreign keys are there, and a copy of the good file
     * goes in */
    free(parus_test_run_expect(0, "'%s' -q store copy '%s' '%s'", parus_test_bin(), lite_db, conn));
    assert_int_equal(compare_stores(lite_db, conn, &n_tables), n_rows);
    {
        PGconn *pg = PQconnectdb(conn);
        PGresult *res = PQexec(pg, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND "
                                   "conrelid = CAST('parcel_crops' AS regclass)");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "1");
        PQclear(res);
        PQfinish(pg);
    }

    free(conn), free(dir), free(lite_db), free(back_db), free(orphan_db), free(tiles),
        free(parcels);
}

/* The server goes away in the middle of a tile (issue 13, item 5): on a server of its own, a
 * nightly run stops itself when a tile's observations are written but not committed, the server
 * is shut down, the run goes on: it fails naming the server, with the tile not half stored and
 * not moved out of the inbox; with the server back, the next run completes the night to the
 * observations one uninterrupted run into SQLite stores. */
static void test_pg__a_server_stopped_in_the_middle_of_a_tile(void **state)
{
    char *own = parus_test_path(g_dir, "own-server"), *conn, *out, *a, *tiles, *parcels;
    char *inbox = parus_test_path(g_dir, "stop-inbox"), *done = parus_test_path(g_dir, "stop-done");
    char *log = parus_test_path(g_dir, "stop.log"), *lite = parus_test_path(g_dir, "stop.db");
    char *obs_pg = parus_test_path(g_dir, "stop-pg.csv");
    char *obs_lite = parus_test_path(g_dir, "stop-lite.csv");
    const char *script = "tools/pg-server.sh";
    pid_t pid;
    int status;
    (void)state;
    if (!have_server()) {
        free(own), free(inbox), free(done), free(log), free(lite), free(obs_pg), free(obs_lite);
        skip();
    }
    tiles = sample("data-samples/season");
    parcels = sample("data-samples/season/parcels.geojson");
    out = parus_test_run_expect(0, "cd '%s' && %s start '%s/data'", parus_test_source_dir(), script,
                                own);
    out[strcspn(out, "\n")] = '\0';
    conn = out;
    free(parus_test_run_expect(8, "'%s' --db '%s' -q parcels load '%s'", parus_test_bin(), conn,
                               parcels));
    free(parus_test_run_expect(0, "mkdir -p '%s' && cp '%s'/*.tif '%s'/", inbox, tiles, inbox));

    /* checkpoint 9: the third tile's observations written, not committed */
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("PARUS_TEST_KILL_AT", "9", 1);
        setenv("PARUS_TEST_KILL_SIGNAL", "STOP", 1);
        execl(parus_test_bin(), parus_test_bin(), "--db", conn, "-q", "nightly", "--inbox", inbox,
              "--done", done, "--settle", "0", "--log", log, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    assert_true(WIFSTOPPED(status));
    free(parus_test_run_expect(0, "cd '%s' && %s stop '%s/data'", parus_test_source_dir(), script,
                               own));
    kill(pid, SIGCONT);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 5);
    a = parus_test_read_file(log);
    assert_non_null(strstr(a, "postgresql://postgres@[socket]"));
    assert_non_null(strstr(a, "stored=2"));
    free(a);
    /* two tiles moved, ten left in the inbox (the third among them) */
    free(parus_test_run_expect(0, "test $(ls '%s' | wc -l) = 2 && test $(ls '%s' | wc -l) = 10",
                               done, inbox));

    /* the server back: two whole tiles, nothing of the third */
    free(parus_test_run_expect(0, "cd '%s' && %s restart '%s/data'", parus_test_source_dir(),
                               script, own));
    out = parus_test_run_expect(0, "'%s' --db '%s' store info", parus_test_bin(), conn);
    assert_non_null(strstr(out, "tiles:             2\n"));
    assert_non_null(strstr(out, "observations:      614\n"));
    free(out);
    free(parus_test_run_expect(0, "'%s' --db '%s' -q nightly --inbox '%s' --done '%s' --settle 0",
                               parus_test_bin(), conn, inbox, done));

    /* the night complete: every observation as one run into SQLite gives */
    expect_observations_as_sqlite(conn, lite, obs_pg, obs_lite);

    free(parus_test_run_expect(0, "cd '%s' && %s stop '%s/data'", parus_test_source_dir(), script,
                               own));
    free(conn), free(own), free(inbox), free(done), free(log), free(lite), free(obs_pg);
    free(obs_lite), free(tiles), free(parcels);
}

/* Every statement the store keeps prepared is taken by PostgreSQL (parse analysis and types),
 * not only those the cases above reach. */
static void test_pg__every_cached_statement_prepares(void **state)
{
    char *conn;
    parus_store *store;
    parus_error err;
    (void)state;
    if (!have_server())
        skip();
    conn = new_database("statements");
    assert_int_equal(parus_store_open(conn, &store, &err), PARUS_OK);
    if (parus__store_prepare_all(store, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    parus_store_close(store);
    free(conn);
}

/* Run sql on conninfo with libpq; fails the test when it fails. */
static void pg_run(const char *conninfo, const char *sql)
{
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *res;
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("cannot connect: %s", PQerrorMessage(pg));
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(pg);
}

/* sql run on conninfo, then open refuses the store with code and a message holding msg. */
static void opened_after(const char *conninfo, const char *sql,
                         parus_status (*open)(const char *, parus_store **, parus_error *),
                         parus_status code, const char *msg)
{
    parus_store *store = NULL;
    parus_error err;
    pg_run(conninfo, sql);
    assert_int_equal(open(conninfo, &store, &err), code);
    assert_null(store);
    assert_non_null(strstr(err.msg, msg));
}

/* The store's identity is read in one statement where parus_meta is there; each other case
 * falls back to the reads that tell them apart, and answers as they did. A read-only store's
 * setting travels with the connection's others, and holds. */
static void test_pg__a_store_s_identity_and_read_only_open(void **state)
{
    parus_store *store;
    parus_error err;
    int64_t n = -1;
    char *conn;
    (void)state;
    if (!have_server())
        skip();
    conn = new_database("identity");

    assert_int_equal(parus_store_open_readonly(conn, &store, &err), PARUS_E_STORE);
    assert_non_null(strstr(err.msg, "is not a parus store (an empty database)"));
    assert_int_equal(parus_store_open(conn, &store, &err), PARUS_OK);
    parus_store_close(store);

    assert_int_equal(parus_store_open_readonly(conn, &store, &err), PARUS_OK);
    assert_int_equal(store->version, PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(parus__store_one_int(store, "SELECT count(*) FROM parcels", &n), SQLITE_OK);
    assert_int_equal(n, 0);
    assert_int_not_equal(parus__db_exec(store->db, "INSERT INTO parus_meta (key, value) "
                                                   "VALUES ('x', '1')"),
                         SQLITE_OK);
    assert_non_null(strstr(parus__db_errmsg(store->db), "read-only transaction"));
    parus_store_close(store);

    opened_after(conn, "UPDATE parus_meta SET value = '999' WHERE key = 'schema_version'",
                 parus_store_open_existing, PARUS_E_SCHEMA,
                 "has schema version 999, newer than this parus");
    opened_after(conn, "UPDATE parus_meta SET value = '12345' WHERE key = 'application_id'",
                 parus_store_open_existing, PARUS_E_STORE,
                 "is not a parus store (its schema holds other tables");
    /* a row missing: the reads one at a time, which fail on it */
    opened_after(conn, "DELETE FROM parus_meta WHERE key = 'application_id'",
                 parus_store_open_existing, PARUS_E_STORE, "cannot open store");
    opened_after(conn, "ALTER TABLE parus_meta RENAME TO parus_meta_before",
                 parus_store_open_readonly, PARUS_E_STORE,
                 "is not a parus store (its schema holds other tables");
    free(conn);
}

/* A PostgreSQL store made at schema 19 takes the step to 20 (parcel_retirements) when opened
 * for writing, and is read as it is before (a reader asks for the step, as for SQLite); a store
 * at 18 is refused, naming what this parus migrates from. */
static void test_pg__a_store_at_19_takes_the_step_to_20(void **state)
{
    parus_store *store;
    parus_error err;
    int64_t n = -1;
    char *conn;
    (void)state;
    if (!have_server())
        skip();
    conn = new_database("step20");
    assert_int_equal(parus_store_open(conn, &store, &err), PARUS_OK);
    parus_store_close(store);
    pg_run(conn, "DROP TABLE parcel_retirements; DROP FUNCTION parus_parcel_retirements_stale(); "
                 "ALTER TABLE assessment_inputs DROP COLUMN evidence_digest; "
                 "ALTER TABLE tiles DROP COLUMN reading; "
                 "UPDATE parus_meta SET value = '19' WHERE key = "
                 "'schema_version'");
    assert_int_equal(parus_store_open(conn, &store, &err), PARUS_OK);
    assert_int_equal(store->version, PARUS_STORE_SCHEMA_VERSION); /* 20, then 21 */
    assert_int_equal(parus__store_one_int(store, "SELECT count(*) FROM parcel_retirements", &n),
                     SQLITE_OK);
    assert_int_equal(n, 0);
    /* with the trigger that owes the seasons of a retirement written by hand */
    assert_int_equal(parus__store_one_int(store,
                                          "SELECT count(*) FROM pg_trigger WHERE tgname = "
                                          "'parcel_retirements_season_stale'",
                                          &n),
                     SQLITE_OK);
    assert_int_equal(n, 1);
    /* and the evidence digest of schema 21 */
    assert_int_equal(parus__store_one_int(store,
                                          "SELECT count(*) FROM information_schema.columns WHERE "
                                          "table_name = 'assessment_inputs' AND column_name = "
                                          "'evidence_digest'",
                                          &n),
                     SQLITE_OK);
    assert_int_equal(n, 1);
    parus_store_close(store);
    assert_int_equal(parus_store_open_readonly(conn, &store, &err), PARUS_OK);
    assert_int_equal(store->version, PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(store);
    opened_after(conn,
                 "DROP TABLE parcel_retirements; DROP FUNCTION "
                 "parus_parcel_retirements_stale(); UPDATE parus_meta SET value = '18' WHERE key = "
                 "'schema_version'",
                 parus_store_open, PARUS_E_SCHEMA, "migrates PostgreSQL stores from version 19");
    free(conn);
}

static void test_pg__what_a_server_store_refuses(void **state)
{
    char *conn, *other, *out, *psql;
    (void)state;
    if (!have_server())
        skip();
    conn = new_database("refusals");
    other = parus_test_path(g_dir, "other.db");

    /* a database that holds tables of something else is not taken over */
    psql = parus_test_run_expect(0, "ls /usr/lib/postgresql/*/bin/psql | head -1");
    psql[strcspn(psql, "\n")] = '\0';
    free(
        parus_test_run_expect(0, "'%s' '%s' -q -c 'CREATE TABLE their_table (x int)'", psql, conn));
    out = parus_test_run_expect(5, "'%s' --db '%s' store info", parus_test_bin(), conn);
    assert_non_null(strstr(out, "is not a parus store"));
    free(out);
    free(conn);
    conn = new_database("refusals");

    /* a nightly run given a database that holds no store (a shard's wrong URL) lays none into
     * it: exit 6, as for a SQLite file that does not exist */
    free(parus_test_run_expect(0, "mkdir -p '%s/empty-inbox'", g_dir));
    out = parus_test_run_expect(6, "'%s' --db '%s' nightly --inbox '%s/empty-inbox' --settle 0",
                                parus_test_bin(), conn, g_dir);
    assert_non_null(strstr(out, "parus: error: store 'postgresql://"));
    assert_non_null(strstr(out, "' does not exist: load parcels first"));
    free(out);
    out = parus_test_run_expect(0, "'%s' '%s' -tAc \"SELECT to_regclass('parus_meta') IS NULL\"",
                                psql, conn);
    assert_string_equal(out, "t\n");
    free(out);

    /* merge joins SQLite files; a server store needs none */
    free(parus_test_run_expect(8,
                               "'%s' --db '%s' -q parcels load '%s/data-samples/season/"
                               "parcels.geojson'",
                               parus_test_bin(), other, parus_test_source_dir()));
    out = parus_test_run_expect(4, "'%s' --db '%s' store merge '%s' '%s'", parus_test_bin(), other,
                                conn, other);
    free(out);

    /* a server that is not there: the message names it, and no password is ever shown */
    out = parus_test_run_expect(5, "'%s' --db 'postgresql://someone:s3cret@%s:1/none' store info",
                                parus_test_bin(), "127.0.0.1");
    assert_non_null(strstr(out, "cannot connect to the PostgreSQL store"));
    assert_non_null(strstr(out, "postgresql://someone@127.0.0.1:1/none"));
    assert_null(strstr(out, "s3cret"));
    free(out);
    out = parus_test_run_expect(5,
                                "'%s' --db 'host=127.0.0.1 port=1 password=s3cret dbname=x' "
                                "store info",
                                parus_test_bin());
    assert_null(strstr(out, "s3cret"));
    free(out);
    /* however the password is quoted or placed */
    out = parus_test_run_expect(
        5,
        "'%s' --db \"host=127.0.0.1 port=1 password='my s3cret' dbname=x\" "
        "store info; '%s' --db 'postgresql://127.0.0.1:1/x?password=p@s3cret' "
        "store info",
        parus_test_bin(), parus_test_bin());
    assert_null(strstr(out, "s3cret"));
    free(out);
    /* a keyword string that does not start with a common key is still a server, not a new
     * SQLite file of that name */
    out = parus_test_run_expect(5,
                                "cd '%s' && '%s' --db 'connect_timeout=2 host=127.0.0.1 "
                                "port=1 dbname=x' parcels load '%s/data-samples/season/"
                                "parcels.geojson'",
                                g_dir, parus_test_bin(), parus_test_source_dir());
    assert_non_null(strstr(out, "cannot connect to the PostgreSQL store"));
    free(out);
    free(parus_test_run_expect(0,
                               "cd '%s' && test ! -e 'connect_timeout=2 host=127.0.0.1 port=1 "
                               "dbname=x'",
                               g_dir));
    free(psql);
    free(other);
    free(conn);
}

/* ---- an assessment's rows in bulk ---- */

/* A result of parcel id, valued, every real a value that a text round trip could spoil (all
 * rows written through the API: the sample season does not reach every column). */
static parus_parcel_result bulk_result(const char *id, double k)
{
    parus_parcel_result r;
    memset(&r, 0, sizeof r);
    r.parcel_id = id;
    r.crop = "winter_wheat";
    r.crop_method = PARUS_ASSESS_MODEL;
    r.crop_confidence = PARUS_CONFIDENCE_NORMAL;
    r.crop_probability = 0.1 * k / (k + 1.0);
    r.n_clear_obs = 14;
    r.first_date = "2024-03-05";
    r.last_date = "2024-06-24";
    r.peer_group = "32650:399960:4000020";
    r.health_class = "good";
    r.health_score = 1.0 / 3.0;
    r.health_reference = "peers";
    r.n_peers = 41;
    r.green_ratio = -0.0;
    r.planted_fraction = 0.95;
    r.planted_area_m2 = 950.0 + k / 7.0;
    r.planted_area_lo_m2 = 900.0;
    r.planted_area_hi_m2 = 1e300;
    r.area_m2 = 1000.0;
    r.declared_area_m2 = 1005.0;
    r.area_check = "ok";
    r.ndvi_integral_10d = NAN;
    r.ndvi_peak = 5e-324;
    r.yield_expected_kg_per_mu = 452.5;
    r.yield_p10_kg_per_mu = 360.25;
    r.price_cny_per_kg = 2.35;
    r.valued = true;
    r.value_expected_fen = 150000 + (int64_t)k;
    r.value_p10_fen = 120000;
    r.flags = "";
    r.sensors = "S2";
    r.reason = k > 2 ? "a reason with 'quotes', \\ and\ttabs; 漢字" : NULL;
    r.weather_rain_mm = r.weather_rain_normal_mm = r.weather_rain_deficit = NAN;
    r.weather_heat_days = 2.0;
    return r;
}

static parus_limit bulk_limit(const char *farmer, int64_t limit_cny)
{
    parus_limit l;
    memset(&l, 0, sizeof l);
    l.farmer_id = farmer;
    l.limit_cny = limit_cny;
    l.currency = "CNY";
    l.n_parcels = 2;
    l.n_parcels_valued = 1;
    l.planted_area_m2 = 1234.5;
    l.declared_area_m2 = NAN;
    l.main_crop = "winter_wheat";
    l.value_expected_fen = 150000;
    l.value_p10_fen = 120000;
    l.health = "good";
    l.flags = "";
    l.reasons = "";
    l.confidence = "normal";
    l.latest_date = "2024-06-24";
    l.model_version = "m1";
    l.policy_hash = "abc";
    l.parts = "p";
    return l;
}

static parus_assessment bulk_assessment(const char *id, const char *crop)
{
    parus_assessment a;
    memset(&a, 0, sizeof a);
    a.parcel_id = id;
    a.method = PARUS_ASSESS_MODEL;
    a.confidence = PARUS_CONFIDENCE_NORMAL;
    a.crop = crop;
    a.probability = 0.7;
    a.margin = NAN;
    a.agrees = -1;
    a.n_clear_obs = 3;
    return a;
}

/* What a case does after the begin; its last call (or the commit after it) is refused. */
enum bulk_case {
    BC_NONE, /* nothing refused: the season that the cases must leave as it is */
    BC_RESULT_UNKNOWN_PARCEL,
    BC_RESULT_TWICE,
    BC_CREDIT_WITHOUT_RESULT,
    BC_CREDIT_BEFORE_RESULT,
    BC_FLAG_UNKNOWN_PARCEL,
    BC_FLAG_TWICE,
    BC_LIMIT_TWICE,
    BC_ASSESSMENT_UNKNOWN_PARCEL,
    BC_N
};

#define BULK_OK(call)                                                                              \
    do {                                                                                           \
        code = (call);                                                                             \
        if (code != PARUS_OK)                                                                      \
            return code;                                                                           \
    } while (0)

/* One season's writes through the API, ending in the refusal of case c (BC_NONE: committed); the
 * first code that is not PARUS_OK, with err. */
static parus_status bulk_season(parus_store *s, enum bulk_case c, parus_error *err)
{
    static const char *const ids[] = {"P000001", "P000002", "P000003", "P000004", "P000005"};
    parus_result_flag f = {NULL,         "P000001", "SUDDEN_LOSS", "2024-05-14",
                           "2024-06-30", 0.42,      0.8,           "ndvi fell by 0.35"};
    parus_limit l = bulk_limit("F00001", 500);
    parus_parcel_result r;
    parus_assessment a;
    parus_status code;

    BULK_OK(parus_store_results_begin(s, SEASON, 0, err));
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        a = bulk_assessment(ids[i], "maize");
        BULK_OK(parus_store_assessments_put(s, &a, err));
        if (c == BC_CREDIT_BEFORE_RESULT && i == 2)
            BULK_OK(parus_store_results_put_credit(s, ids[i], true, 7, "EARLY", err));
        r = bulk_result(ids[i], (double)i);
        BULK_OK(parus_store_results_put(s, &r, err));
    }
    /* a second assessment of a parcel replaces its first; a second verdict its first */
    a = bulk_assessment(ids[1], "winter_wheat");
    BULK_OK(parus_store_assessments_put(s, &a, err));
    BULK_OK(parus_store_results_put_credit(s, ids[0], false, 0, NULL, err));
    BULK_OK(parus_store_results_put_credit(s, ids[1], true, 90000, "FAIR_HEALTH", err));
    BULK_OK(parus_store_results_put_credit(s, ids[0], true, 12345, "SECOND", err));
    BULK_OK(parus_store_results_put_flag(s, &f, err));
    f.flag = "FLOOD";
    BULK_OK(parus_store_results_put_flag(s, &f, err));
    BULK_OK(parus_store_results_put_limit(s, &l, err));
    l = bulk_limit("F00002", 0);
    BULK_OK(parus_store_results_put_limit(s, &l, err));
    switch (c) {
    case BC_RESULT_UNKNOWN_PARCEL:
        r = bulk_result("NOPE", 1.0);
        BULK_OK(parus_store_results_put(s, &r, err));
        break;
    case BC_RESULT_TWICE:
        r = bulk_result(ids[3], 1.0);
        BULK_OK(parus_store_results_put(s, &r, err));
        break;
    case BC_CREDIT_WITHOUT_RESULT:
        BULK_OK(parus_store_results_put_credit(s, "P000007", true, 1, NULL, err));
        break;
    case BC_FLAG_UNKNOWN_PARCEL:
        f.parcel_id = "NOPE";
        BULK_OK(parus_store_results_put_flag(s, &f, err));
        break;
    case BC_FLAG_TWICE:
        BULK_OK(parus_store_results_put_flag(s, &f, err));
        break;
    case BC_LIMIT_TWICE:
        BULK_OK(parus_store_results_put_limit(s, &l, err));
        break;
    case BC_ASSESSMENT_UNKNOWN_PARCEL:
        a = bulk_assessment("NOPE", "maize");
        BULK_OK(parus_store_assessments_put(s, &a, err));
        break;
    default:
        break;
    }
    return parus_store_results_commit(s, err);
}

static int count_result(const parus_parcel_result *r, void *ctx)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_pg__an_assessment_in_bulk_refuses_what_sqlite_refuses(void **state)
{
    static const struct {
        parus_status code;
        const char *says;
    } want[BC_N] = {
        [BC_NONE] = {PARUS_OK, ""},
        [BC_RESULT_UNKNOWN_PARCEL] = {PARUS_E_NOT_FOUND, "parcel 'NOPE' is not in"},
        [BC_RESULT_TWICE] = {PARUS_E_DUPLICATE, "the result of 'P000004' is given twice"},
        [BC_CREDIT_WITHOUT_RESULT] = {PARUS_E_NOT_FOUND, "parcel 'P000007' has no result"},
        [BC_CREDIT_BEFORE_RESULT] = {PARUS_E_NOT_FOUND, "parcel 'P000003' has no result"},
        [BC_FLAG_UNKNOWN_PARCEL] = {PARUS_E_NOT_FOUND, "parcel 'NOPE' is not in"},
        [BC_FLAG_TWICE] = {PARUS_E_DUPLICATE, "a flag of 'P000001' is given twice"},
        [BC_LIMIT_TWICE] = {PARUS_E_DUPLICATE, "the limit of 'F00002' is given twice"},
        [BC_ASSESSMENT_UNKNOWN_PARCEL] = {PARUS_E_NOT_FOUND, "parcel 'NOPE' is not in"},
    };
    char *stores[2], *lite, *conn;
    size_t n_rows, n_tables;
    (void)state;
    if (!sample_parcel_stores("bulk", stores))
        skip();
    lite = stores[0];
    conn = stores[1];
    for (int k = 0; k < 2; k++) {
        parus_store *s;
        parus_error err;
        assert_int_equal(parus_store_open(stores[k], &s, &err), PARUS_OK);
        /* every row its own COPY on PostgreSQL: rows sent in several pieces come back whole */
        assert_int_equal(s->bulk_send_bytes > 0, k == 1);
        s->bulk_send_bytes = 1;
        for (int c = 0; c < BC_N; c++) {
            size_t n = 0;
            parus_status code = bulk_season(s, (enum bulk_case)c, &err);
            if (code != want[c].code || !strstr(err.msg, want[c].says))
                fail_msg("%s, case %d: %d '%s', not %d '%s'", k ? "PostgreSQL" : "SQLite", c,
                         (int)code, err.msg, (int)want[c].code, want[c].says);
            /* the error names the store as it is shown, and the season as it was stays */
            if (c > 0)
                assert_non_null(strstr(err.msg, k ? "postgresql://" : lite));
            assert_int_equal(parus_store_results_foreach(s, SEASON, count_result, &n, &err),
                             PARUS_OK);
            assert_int_equal(n, 5);
        }
        /* the assessments alone (`parus classify`'s transaction), one parcel's twice */
        {
            parus_assessment a = bulk_assessment("P000001", "maize");
            assert_int_equal(parus_store_assessments_begin(s, "2025-03-01/2025-10-31", &err),
                             PARUS_OK);
            assert_int_equal(parus_store_assessments_put(s, &a, &err), PARUS_OK);
            a = bulk_assessment("P000002", "maize");
            assert_int_equal(parus_store_assessments_put(s, &a, &err), PARUS_OK);
            a = bulk_assessment("P000001", "soybean");
            assert_int_equal(parus_store_assessments_put(s, &a, &err), PARUS_OK);
            assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_OK);
        }
        parus_store_close(s);
    }
    /* the committed season, value for value */
    n_rows = compare_stores(lite, conn, &n_tables);
    assert_true(n_rows > 300);
    {
        PGconn *pg = PQconnectdb(conn);
        PGresult *res = PQexec(pg, "SELECT (SELECT crop FROM assessments WHERE parcel_id = "
                                   "'P000002' AND season = '" SEASON "'), (SELECT "
                                   "credit_value_fen || credit_reasons FROM parcel_results WHERE "
                                   "parcel_id = 'P000001'), (SELECT string_agg(crop, ',' ORDER BY "
                                   "parcel_id) FROM assessments WHERE season LIKE '2025%')");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "winter_wheat");
        assert_string_equal(PQgetvalue(res, 0, 1), "12345SECOND");
        assert_string_equal(PQgetvalue(res, 0, 2), "soybean,maize");
        PQclear(res);
        PQfinish(pg);
    }
    free(conn), free(lite);
}

/* A radar tile: the sample parcels' first ones, as parus ingest would give them */
static parus_tile_record radar_rec(unsigned seed)
{
    parus_tile_record r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 64; i++)
        r.hash[i] = "0123456789abcdef"[(seed * 31u + (unsigned)i * 7u) % 16u];
    /* a date of its own for each seed below 336: two passes of one date and grid would be one
     * acquisition twice (refused) */
    snprintf(r.date, sizeof r.date, "2024-%02u-%02u", 1 + (seed / 28) % 12, 1 + seed % 28);
    snprintf(r.path, sizeof r.path, "/inbox/S1A_IW_GRDH_%c%c%c%c%c%c%c%c_%u.tif", r.date[0],
             r.date[1], r.date[2], r.date[3], r.date[5], r.date[6], r.date[8], r.date[9], seed);
    snprintf(r.sensor, sizeof r.sensor, "sentinel-1");
    r.epsg = 32650;
    r.width = r.height = 1000;
    r.geotransform[1] = 10.0;
    r.geotransform[5] = -10.0;
    r.lon_min_deg = 115.8;
    r.lat_min_deg = 38.6;
    r.lon_max_deg = 117.1;
    r.lat_max_deg = 39.6;
    snprintf(r.status, sizeof r.status, "ingested");
    snprintf(r.mission, sizeof r.mission, "S1A");
    snprintf(r.orbit_direction, sizeof r.orbit_direction, "ASCENDING");
    r.relative_orbit = 142;
    snprintf(r.coefficient, sizeof r.coefficient, "sigma0");
    snprintf(r.polarisations, sizeof r.polarisations, "VV+VH");
    r.looks = 4.4;
    return r;
}

static parus_observation radar_obs(int k)
{
    parus_observation o;
    memset(&o, 0, sizeof o);
    o.w_total_px = 100.0 + k;
    o.w_valid_px = k % 3 ? 99.5 + k : (double)NAN; /* NaN: stored as 0 */
    o.valid_fraction = 0.1 * k;
    o.vv = 0.0123456789 * (k + 1);
    o.vh = k % 2 ? -0.0 : 0.00321 * k;
    o.vh_vv = o.vh / o.vv;
    o.rvi = 1.0 / 3.0;
    o.radar_water_fraction = k == 4 ? (double)NAN : 0.0;
    o.looks_vv = 4.4;
    o.looks_vh = (double)INFINITY;
    o.se_vv = 1e-300;
    o.se_vh = -1.5e300;
    o.n_pixels = (size_t)(100 + k);
    o.n_pure = (size_t)(90 + k);
    return o;
}

/* A radar tile's observations on PostgreSQL go in bulk (COPY into a temporary table, moved at
 * the tile's commit): what the per-row inserts refuse on SQLite is refused the same, with the
 * same code and message, and nothing of the tile is stored; what they take is SQLite's, value
 * for value, also when every row is sent in a COPY of its own; a writer killed with rows sent
 * leaves nothing of its tile. */
static void test_pg__a_radar_tile_in_bulk_refuses_what_sqlite_refuses(void **state)
{
    enum { RC_GOOD, RC_UNKNOWN, RC_TWICE, RC_UNKNOWN_BEFORE_TWICE, RC_TWICE_BEFORE_UNKNOWN, RC_N };
    static const struct {
        parus_status code;
        const char *says;
    } want[RC_N] = {
        [RC_GOOD] = {PARUS_OK, ""},
        [RC_UNKNOWN] = {PARUS_E_NOT_FOUND, "parcel 'NOPE' observed in tile '/inbox/S1A_IW_GRDH_"},
        [RC_TWICE] = {PARUS_E_DUPLICATE, "parcel 'P000003' is observed twice in tile '/inbox/"},
        [RC_UNKNOWN_BEFORE_TWICE] = {PARUS_E_NOT_FOUND, "parcel 'NOPE' observed in tile"},
        [RC_TWICE_BEFORE_UNKNOWN] = {PARUS_E_DUPLICATE, "parcel 'P000002' is observed twice"},
    };
    /* the parcels each case gives, in order */
    static const char *const ids[RC_N][6] = {
        [RC_GOOD] = {"P000005", "P000001", "P000002", "P000003", "P000004", NULL},
        [RC_UNKNOWN] = {"P000001", "P000002", "NOPE", "P000003", NULL},
        [RC_TWICE] = {"P000003", "P000001", "P000004", "P000003", "P000002", NULL},
        [RC_UNKNOWN_BEFORE_TWICE] = {"P000001", "NOPE", "P000002", "P000001", NULL},
        [RC_TWICE_BEFORE_UNKNOWN] = {"P000002", "P000001", "P000002", "NOPE", "P000001", NULL},
    };
    char *stores[2], *lite, *conn;
    (void)state;
    if (!sample_parcel_stores("radarbulk", stores))
        skip();
    lite = stores[0];
    conn = stores[1];
    for (int k = 0; k < 2; k++) {
        for (int piece = 0; piece < 2; piece++) {
            parus_store *s;
            parus_error err;
            assert_int_equal(parus_store_open(stores[k], &s, &err), PARUS_OK);
            if (piece)
                s->bulk_send_bytes = 1; /* every row its own COPY on PostgreSQL */
            for (int c = 0; c < RC_N; c++) {
                parus_tile_record rec = radar_rec((unsigned)(10 * c + piece + 1));
                parus_status code = parus_store_tile_begin(s, &rec, &err);
                bool found = true;
                assert_int_equal(code, PARUS_OK);
                for (int i = 0; code == PARUS_OK && ids[c][i]; i++) {
                    parus_observation o = radar_obs(i);
                    code = parus_store_tile_add(s, &rec, ids[c][i], &o, &err);
                }
                if (code == PARUS_OK)
                    code = parus_store_tile_commit(s, &rec, &err);
                if (code != want[c].code || !strstr(err.msg, want[c].says))
                    fail_msg("%s, case %d: %d '%s', not %d '%s'", k ? "PostgreSQL" : "SQLite", c,
                             (int)code, err.msg, (int)want[c].code, want[c].says);
                if (c == RC_UNKNOWN)
                    assert_non_null(strstr(err.msg, k ? "postgresql://" : lite));
                /* a refused tile leaves nothing, the store open for the next */
                rec = radar_rec((unsigned)(10 * c + piece + 1));
                assert_int_equal(parus_store_find_tile(s, rec.hash, &rec, &found, &err), PARUS_OK);
                assert_int_equal(found, c == RC_GOOD);
            }
            parus_store_close(s);
        }
    }
    /* a writer killed in the middle of a radar tile, its rows sent: nothing of the tile stays */
    {
        parus_tile_record rec = radar_rec(99);
        PGconn *pg;
        PGresult *res;
        pid_t pid;
        int status;
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            parus_store *s;
            parus_error err;
            parus_observation o = radar_obs(1);
            if (parus_store_open(conn, &s, &err) != PARUS_OK)
                _exit(1);
            s->bulk_send_bytes = 1;
            if (parus_store_tile_begin(s, &rec, &err) != PARUS_OK ||
                parus_store_tile_add(s, &rec, "P000001", &o, &err) != PARUS_OK ||
                parus_store_tile_add(s, &rec, "P000002", &o, &err) != PARUS_OK)
                _exit(2);
            raise(SIGKILL);
            _exit(3);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pg = PQconnectdb(conn);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        res = PQexec(pg, "SELECT (SELECT count(*) FROM tiles), (SELECT count(*) FROM "
                         "radar_observations)");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "2");
        assert_string_equal(PQgetvalue(res, 0, 1), "10");
        PQclear(res);
        PQfinish(pg);
    }
    /* by the tile's hash: PostgreSQL's identity does not give back the ids of tiles refused */
    assert_int_equal(compare_table_in(lite, conn, "radar_by_hash",
                                      "SELECT t.hash, t.n_parcels, o.parcel_num, o.w_total_px, "
                                      "o.w_valid_px, o.valid_fraction, o.vv, o.vh, o.vh_vv, "
                                      "o.rvi, o.water_fraction, o.looks_vv, o.looks_vh, o.se_vv, "
                                      "o.se_vh, o.n_pixels, o.n_pure FROM radar_observations o "
                                      "JOIN tiles t ON t.id = o.tile_id"),
                     10);
    assert_int_equal(
        compare_table_in(lite, conn, "tiles_by_hash", "SELECT hash, path, sensor FROM tiles"), 2);
    free(conn), free(lite);
}

/* A generated season with radar (parus-synth --radar): its tiles ingested by parus into each
 * backend, the radar observations equal table for table. */
static void test_pg__a_radar_season_on_postgresql_is_the_season_on_sqlite(void **state)
{
    char *dir = parus_test_path(g_dir, "radar-season"), *scene, *lite, *conn;
    size_t n_rows, n_tables;
    (void)state;
    if (!have_server()) {
        free(dir);
        skip();
    }
    scene = parus_test_path(dir, "scene");
    lite = parus_test_path(dir, "parus.db");
    conn = new_database("radarseason");
    free(parus_test_run_expect(0,
                               "mkdir -p '%s' && '%s' --out '%s' --size 192 --dates 4 --seed 7 "
                               "--radar --radar-revisit 12 --crops '%s/data-samples/crops.csv' "
                               "--quiet",
                               dir, parus_test_synth_bin(), scene, parus_test_source_dir()));
    free(parus_test_run_expect(0,
                               "for db in '%s' '%s'; do '%s' --db \"$db\" -q parcels load "
                               "'%s/parcels.geojson' || [ $? -eq 8 ] || exit 1; '%s' --db \"$db\" "
                               "-q ingest '%s'/*.tif || exit 1; done",
                               lite, conn, parus_test_bin(), scene, parus_test_bin(), scene));
    n_rows = compare_table_in(lite, conn, "radar_observations", NULL);
    print_message("radar_observations: %zu rows equal\n", n_rows);
    assert_true(n_rows > 50);
    n_rows = compare_stores(lite, conn, &n_tables);
    assert_int_equal(n_tables, pg_tables(conn));
    free(dir), free(scene), free(lite), free(conn);
}

/* Overlapping parcels: a grid of squares, each overlapping its right neighbour by an area of its
 * own, touching the row above (boxes that meet, no land in common); more parcels than one
 * fetch of their WKB on PostgreSQL. The pairs and their areas are SQLite's. */
static void test_pg__the_overlaps_found_on_postgresql_are_sqlite_s(void **state)
{
    char *lite = parus_test_path(g_dir, "grid.db"), *path = parus_test_path(g_dir, "grid.geojson");
    char *conn;
    size_t n_rows, n_tables;
    FILE *f;
    int n = 0;
    (void)state;
    if (!have_server()) {
        free(lite), free(path);
        skip();
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"type\": \"FeatureCollection\", \"features\": [\n");
    for (int r = 0; r < 30; r++)
        for (int c = 0; c < 40; c++) {
            double x = 114.5 + c * 0.00035 + (c * c % 7) * 0.00001, y = 36.4 + r * 0.0005;
            double d = 0.0005;
            n++;
            fprintf(f,
                    "%s{\"type\": \"Feature\", \"properties\": {\"parcel_id\": \"G%05d\", "
                    "\"farmer_id\": \"F%03d\", \"declared_area_mu\": 3.0}, \"geometry\": "
                    "{\"type\": \"Polygon\", \"coordinates\": [[[%.9f, %.9f], [%.9f, %.9f], "
                    "[%.9f, %.9f], [%.9f, %.9f], [%.9f, %.9f]]]}}\n",
                    n > 1 ? "," : "", n, n % 50, x, y, x + d, y, x + d, y + d, x, y + d, x, y);
        }
    fprintf(f, "]}\n");
    assert_int_equal(fclose(f), 0);
    conn = new_database("grid");
    free(parus_test_run_expect(0, "'%s' --db '%s' -q parcels load '%s' 2>/dev/null",
                               parus_test_bin(), lite, path));
    free(parus_test_run_expect(0, "'%s' --db '%s' -q parcels load '%s' 2>/dev/null",
                               parus_test_bin(), conn, path));
    n_rows = compare_stores(lite, conn, &n_tables);
    assert_true(n_rows >= 1200 + 30 * 39); /* the parcels and their overlaps */
    {
        PGconn *pg = PQconnectdb(conn);
        PGresult *res = PQexec(pg, "SELECT count(*), count(DISTINCT overlap_m2) FROM "
                                   "parcel_overlaps");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_int_equal(strtol(PQgetvalue(res, 0, 0), NULL, 10), 30 * 39);
        assert_true(strtol(PQgetvalue(res, 0, 1), NULL, 10) > 3);
        PQclear(res);
        PQfinish(pg);
    }
    free(conn), free(lite), free(path);
}

static int setup(void **state)
{
    char *info, *text;
    FILE *f;
    (void)state;
    g_dir = parus_test_tmpdir("pg");
    /* the server of a case of its own runs as "postgres" when the tests run as root: it must
     * reach its data directory inside this one */
    chmod(g_dir, 0755);
    g_pgdir = getenv("PARUS_TEST_PG_DIR");
    g_server[0] = '\0';
    if (!g_pgdir)
        return 0;
    info = parus_test_path(g_pgdir, "data/conninfo");
    f = fopen(info, "r");
    if (f) {
        text = fgets(g_server, sizeof g_server, f);
        if (text)
            g_server[strcspn(g_server, "\n")] = '\0';
        fclose(f);
    }
    free(info);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parus_test_rmtree(g_dir);
    free(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg__a_season_on_postgresql_is_the_season_on_sqlite),
        cmocka_unit_test(test_pg__a_season_of_many_batches_is_the_season_on_sqlite),
        cmocka_unit_test(test_pg__three_writers_at_once_store_each_tile_once),
        cmocka_unit_test(test_pg__a_store_copied_into_postgresql_and_back_is_the_same),
        cmocka_unit_test(test_pg__a_copy_in_bulk_keeps_every_value_and_every_key),
        cmocka_unit_test(test_pg__every_cached_statement_prepares),
        cmocka_unit_test(test_pg__an_assessment_in_bulk_refuses_what_sqlite_refuses),
        cmocka_unit_test(test_pg__the_overlaps_found_on_postgresql_are_sqlite_s),
        cmocka_unit_test(test_pg__a_radar_tile_in_bulk_refuses_what_sqlite_refuses),
        cmocka_unit_test(test_pg__a_radar_season_on_postgresql_is_the_season_on_sqlite),
        cmocka_unit_test(test_pg__a_server_stopped_in_the_middle_of_a_tile),
        cmocka_unit_test(test_pg__what_a_server_store_refuses),
        cmocka_unit_test(test_pg__a_store_s_identity_and_read_only_open),
        cmocka_unit_test(test_pg__a_store_at_19_takes_the_step_to_20),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

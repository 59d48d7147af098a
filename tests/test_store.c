/*
 * test_store.c - the store: creating and reopening, parcels (insert, update, unchanged, rejects,
 * the R-tree box query), tiles with their observations, runs, counts; and the failure paths the
 * design promises to survive: an older schema (written here by hand, as version 1 wrote it), a
 * failed migration, a newer schema (refused, file untouched), files that are not parus stores, a
 * corrupt store, bad input, a store locked by another process and a full disk, each leaving what
 * was stored before intact.
 *
 * Parcels are made by hand (rectangles as little-endian WKB), independent of the parcels module.
 * The tests look into the file with SQLite directly where the API does not show what they check.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "parus/parcels.h"
#include "parus/store.h"
#include "parus/zonal.h"
#include "ingest_int.h"
#include "store_int.h"
#include "test_support.h"

/* ---- fixtures ---- */

/* A lon/lat rectangle as a WKB Polygon (little-endian, one ring of five points). */
static char *xdup(const char *s)
{
    char *p = s ? strdup(s) : NULL;
    if (s)
        assert_non_null(p);
    return p;
}

static void make_parcel(parus_parcel *p, const char *id, const char *farmer, double x0, double y0,
                        double x1, double y1, double declared_m2)
{
    memset(p, 0, sizeof *p);
    p->id = xdup(id);
    p->farmer_id = xdup(farmer);
    p->lon_min_deg = x0;
    p->lat_min_deg = y0;
    p->lon_max_deg = x1;
    p->lat_max_deg = y1;
    /* not a geodesic area: the store keeps whatever it is given */
    p->area_m2 = (x1 - x0) * (y1 - y0) * 1.0e10;
    p->declared_area_m2 = declared_m2;
    p->wkb = parus_test_rect_wkb(x0, y0, x1, y1, &p->wkb_size);
}

#define GRID_STEP_DEG 0.001
#define GRID_SIZE_DEG 0.0008

static double grid_lon(size_t col)
{
    return 116.0 + (double)col * GRID_STEP_DEG;
}

static double grid_lat(size_t row)
{
    return 39.0 + (double)row * GRID_STEP_DEG;
}

/* n parcels on a grid `side` wide, ids P00000.., four parcels per farmer, every fifth with no
 * declared area. */
static parus_parcel_set grid_set(size_t n, size_t side, size_t first)
{
    parus_parcel_set set;
    size_t i;
    memset(&set, 0, sizeof set);
    set.parcels = calloc(n ? n : 1, sizeof *set.parcels);
    assert_non_null(set.parcels);
    set.n_parcels = n;
    for (i = 0; i < n; i++) {
        size_t k = first + i;
        char id[32], farmer[32];
        double x0 = grid_lon(k % side), y0 = grid_lat(k / side);
        snprintf(id, sizeof id, "P%05zu", k);
        snprintf(farmer, sizeof farmer, "F%04zu", k / 4);
        make_parcel(&set.parcels[i], id, farmer, x0, y0, x0 + GRID_SIZE_DEG, y0 + GRID_SIZE_DEG,
                    k % 5 == 0 ? (double)NAN : 700.0 + (double)k);
    }
    return set;
}

static void add_reject(parus_parcel_set *set, size_t feature, const char *id, parus_status code,
                       const char *reason)
{
    parus_parcel_reject *r = realloc(set->rejects, (set->n_rejects + 1) * sizeof *r);
    assert_non_null(r);
    set->rejects = r;
    r += set->n_rejects++;
    r->feature_index = feature;
    r->id = xdup(id);
    r->code = code;
    r->reason = xdup(reason);
}

static void set_free(parus_parcel_set *set)
{
    size_t i;
    for (i = 0; i < set->n_parcels; i++) {
        free(set->parcels[i].id);
        free(set->parcels[i].farmer_id);
        free(set->parcels[i].wkb);
    }
    for (i = 0; i < set->n_rejects; i++) {
        free(set->rejects[i].id);
        free(set->rejects[i].reason);
    }
    free(set->parcels);
    free(set->rejects);
    memset(set, 0, sizeof *set);
}

static parus_store *open_ok(const char *path)
{
    parus_store *s = NULL;
    parus_error err;
    parus_error_init(&err);
    if (parus_store_open(path, &s, &err) != PARUS_OK)
        fail_msg("open '%s': %s", path, err.msg);
    return s;
}

static void load_ok(parus_store *s, const parus_parcel_set *set, const char *source,
                    parus_parcel_load_stats *stats)
{
    parus_error err;
    parus_error_init(&err);
    if (parus_store_put_parcels(s, set, source, stats, &err) != PARUS_OK)
        fail_msg("put_parcels: %s", err.msg);
}

static parus_store_counts counts_ok(parus_store *s)
{
    parus_store_counts c;
    parus_error err;
    if (parus_store_get_counts(s, &c, &err) != PARUS_OK)
        fail_msg("get_counts: %s", err.msg);
    return c;
}

/* ---- looking into the file ---- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    assert_int_equal(parus__obs_register_sql(db), SQLITE_OK);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long file_int(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    long long v = raw_int(db, sql);
    sqlite3_close(db);
    return v;
}

typedef struct file_image {
    unsigned char *bytes;
    size_t n;
    struct timespec mtime;
} file_image;

static file_image file_read(const char *path)
{
    file_image im;
    struct stat sb;
    FILE *f;
    assert_int_equal(stat(path, &sb), 0);
    im.n = (size_t)sb.st_size;
    im.mtime = sb.st_mtim;
    im.bytes = malloc(im.n ? im.n : 1);
    assert_non_null(im.bytes);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(im.bytes, 1, im.n, f), im.n);
    fclose(f);
    return im;
}

static void assert_file_unchanged(const char *path, file_image *before)
{
    file_image now = file_read(path);
    assert_int_equal(now.n, before->n);
    assert_memory_equal(now.bytes, before->bytes, now.n);
    assert_true(now.mtime.tv_sec == before->mtime.tv_sec &&
                now.mtime.tv_nsec == before->mtime.tv_nsec);
    free(now.bytes);
    free(before->bytes);
    before->bytes = NULL;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

#define assert_msg_has(err, text)                                                                  \
    do {                                                                                           \
        if (!strstr((err).msg, (text)))                                                            \
            fail_msg("message '%s' lacks '%s'", (err).msg, (text));                                \
    } while (0)

/* ---- opening ---- */

static void test_open__creates_current_schema(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "new.db");
    parus_store *s;
    parus_store_counts c;
    sqlite3 *db;
    (void)state;

    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(PARUS_STORE_SCHEMA_VERSION, 21);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels + c.n_farmers + c.n_parcel_rejects + c.n_tiles + c.n_observations +
                         c.n_runs + c.n_parcel_crops + c.n_samples + c.n_sample_points +
                         c.n_assessments + c.n_parcel_results + c.n_parcel_flags + c.n_peer_curves +
                         c.n_limits,
                     0);
    assert_close(c.parcel_area_m2, 0.0, 0.0, 0.0);
    parus_store_close(s);

    db = raw_open(path);
    assert_int_equal(raw_int(db, "PRAGMA application_id"), 0x50525553); /* 'PRUS' */
    assert_int_equal(raw_int(db, "PRAGMA user_version"), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('parcels', "
                                 "'parcels_rtree', 'parcel_rejects', 'tiles', 'observations', "
                                 "'runs', 'parcel_crops', 'samples', 'sample_points', "
                                 "'assessments', 'parcel_results', 'parcel_flags', "
                                 "'peer_curves', 'limits')"),
                     14);
    assert_int_equal(raw_int(db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode()"), 1);
    sqlite3_close(db);

    /* a second open finds it current and leaves it so */
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(s);
    parus_store_close(NULL);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open_existing__absent_store_is_not_created(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "absent.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_E_NOT_FOUND);
    assert_null(s);
    assert_msg_has(err, path);
    assert_false(file_exists(path));

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* The schema of version 1, as parus wrote it: the test keeps its own copy on purpose. */
static const char v1_schema[] =
    "PRAGMA journal_mode = WAL;"
    "BEGIN;"
    "CREATE TABLE parcels (num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, farmer_id TEXT,"
    " declared_area_m2 REAL, area_m2 REAL NOT NULL, lon_min_deg REAL NOT NULL,"
    " lat_min_deg REAL NOT NULL, lon_max_deg REAL NOT NULL, lat_max_deg REAL NOT NULL,"
    " wkb BLOB NOT NULL, repaired INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL,"
    " loaded_at TEXT NOT NULL);"
    "CREATE INDEX parcels_farmer ON parcels(farmer_id);"
    "CREATE VIRTUAL TABLE parcels_rtree USING rtree(id, lon_min, lon_max, lat_min, lat_max);"
    "CREATE TABLE tiles (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, path TEXT NOT NULL,"
    " sensor TEXT NOT NULL, date TEXT NOT NULL, epsg INTEGER, width INTEGER NOT NULL,"
    " height INTEGER NOT NULL, gt0 REAL, gt1 REAL, gt2 REAL, gt3 REAL, gt4 REAL, gt5 REAL,"
    " lon_min_deg REAL NOT NULL, lat_min_deg REAL NOT NULL, lon_max_deg REAL NOT NULL,"
    " lat_max_deg REAL NOT NULL, n_parcels INTEGER NOT NULL, processed_at TEXT NOT NULL);"
    "CREATE INDEX tiles_date ON tiles(date, id);"
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, args TEXT,"
    " parus_version TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, outcome TEXT,"
    " summary TEXT);"
    "PRAGMA application_id = 1347573075;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

/* A version-1 store holding one parcel (with its R-tree row), one tile and one run. */
static void write_v1_store(const char *path, const char *extra_sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *st;
    size_t wkb_size;
    unsigned char *wkb = parus_test_rect_wkb(120.10, 30.20, 120.11, 30.21, &wkb_size);

    raw_exec(db, v1_schema);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO parcels (num, id, farmer_id, declared_area_m2, area_m2, "
                           "lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, wkb, repaired, "
                           "source, loaded_at) VALUES (1, 'OLD1', 'F9', 1200.5, 1111.25, 120.10, "
                           "30.20, 120.11, 30.21, ?1, 0, 'old.geojson', '2025-04-01T08:00:00Z')",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_bind_blob(st, 1, wkb, (int)wkb_size, SQLITE_STATIC), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    raw_exec(db, "INSERT INTO parcels_rtree VALUES (1, 120.09999, 120.11001, 30.19999, 30.21001);"
                 "INSERT INTO tiles (hash, path, sensor, date, epsg, width, height, gt0, gt1, "
                 "gt2, gt3, gt4, gt5, lon_min_deg, lat_min_deg, lon_max_deg, lat_max_deg, "
                 "n_parcels, processed_at) VALUES ('" /* 64 hex digits */
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', "
                 "'old.tif', 'sentinel-2-l2a', '2025-04-02', 32650, 100, 100, 0, 10, 0, 0, 0, "
                 "-10, 120, 30, 121, 31, 1, '2025-04-03T01:00:00Z');"
                 "INSERT INTO runs (command, args, parus_version, started_at) VALUES "
                 "('parus', 'ingest old.tif', '0.0.1', '2025-04-03T01:00:00Z');");
    if (extra_sql)
        raw_exec(db, extra_sql);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    free(wkb);
}

static int collect_ids(const parus_parcel *p, void *ctx)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 4096 - n, "%s%s", n ? "," : "", p->id);
    return 0;
}

static int first_tile(const parus_tile_record *rec, void *ctx)
{
    *(parus_tile_record *)ctx = *rec;
    return 1; /* one is enough */
}

static void test_open__older_schema_is_migrated(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v1.db");
    char ids[4096] = "";
    parus_store *s;
    parus_parcel p;
    parus_tile_record rec;
    parus_parcel_set set;
    parus_parcel_load_stats st;
    parus_store_counts c;
    parus_error err;
    size_t n = 0;
    (void)state;

    write_v1_store(path, NULL);

    /* read-only opening neither migrates nor serves the old tables */
    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_schema_version(s), 1);
    assert_int_equal(parus_store_get_counts(s, &c, &err), PARUS_E_SCHEMA);
    assert_msg_has(err, "has schema version 1, older than this parus (21)");
    parus_store_close(s);
    assert_int_equal(file_int(path, "PRAGMA user_version"), 1);

    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(parus_store_get_parcel(s, "OLD1", &p, &err), PARUS_OK);
    assert_string_equal(p.farmer_id, "F9");
    assert_close(p.declared_area_m2, 1200.5, 0.0, 0.0);
    assert_close(p.area_m2, 1111.25, 0.0, 0.0);
    assert_int_equal(p.wkb_size, 93);
    parus_parcel_release(&p);
    /* the R-tree of version 1 still answers */
    assert_int_equal(
        parus_store_parcels_in_box(s, 120.105, 30.205, 120.2, 30.3, collect_ids, ids, &n, &err),
        PARUS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids, "OLD1");
    /* tiles of version 1 were registered only */
    assert_int_equal(parus_store_tiles_foreach(s, first_tile, &rec, &err), PARUS_E_INTERNAL);
    assert_string_equal(rec.status, "registered");
    assert_string_equal(rec.path, "old.tif");
    assert_int_equal(rec.epsg, 32650);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 1);
    assert_int_equal(c.n_tiles, 1);
    assert_int_equal(c.n_runs, 1);
    assert_int_equal(c.n_observations, 0);
    /* and the new tables take writes */
    set = grid_set(3, 3, 0);
    add_reject(&set, 3, "BAD", PARUS_E_GEOMETRY, "empty geometry");
    load_ok(s, &set, "new.geojson", &st);
    assert_int_equal(st.n_inserted, 3);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 4);
    assert_int_equal(c.n_parcel_rejects, 1);
    parus_store_close(s);
    set_free(&set);

    assert_int_equal(file_int(path, "PRAGMA user_version"), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('observation_values') "
                                    "WHERE name IN ('vals', 'ndvi_mean_e4', 'n_pure')"),
                     3);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels_rtree"), 4);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_migration_leaves_old_version(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v1-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a table in the way of step 2 makes it fail half-way, after ALTER TABLE tiles */
    write_v1_store(path, "CREATE TABLE parcel_rejects (x);");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "cannot migrate '");
    assert_msg_has(err, path);
    assert_msg_has(err, "from schema version 1 to 2");
    assert_msg_has(err, "already exists");

    assert_int_equal(file_int(path, "PRAGMA user_version"), 1);
    assert_int_equal(
        file_int(path, "SELECT count(*) FROM pragma_table_info('tiles') WHERE name = 'status'"), 0);
    assert_int_equal(
        file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'observations'"), 0);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__newer_schema_is_refused_untouched(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "future.db");
    char expect[4096];
    parus_store *s;
    parus_parcel_set set = grid_set(5, 5, 0);
    parus_error err;
    file_image before;
    sqlite3 *db;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "a.geojson", NULL);
    parus_store_close(s);
    db = raw_open(path);
    raw_exec(db, "PRAGMA user_version = 22");
    sqlite3_close(db);

    before = file_read(path);
    s = NULL;
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_SCHEMA);
    assert_null(s);
    snprintf(expect, sizeof expect,
             "'%s' has schema version 22, newer than this parus (21): upgrade parus", path);
    assert_string_equal(err.msg, expect);
    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_E_SCHEMA);
    assert_string_equal(err.msg, expect);
    assert_file_unchanged(path, &before);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__files_that_are_not_stores(void **state)
{
    char *dir = parus_test_tmpdir("store");
    char *text = parus_test_path(dir, "notes.txt"), *noise = parus_test_path(dir, "noise.db");
    char *other = parus_test_path(dir, "other.db");
    static const char words[] = "parcel_id,farmer_id\nP1,F1\n";
    unsigned char bytes[8192];
    unsigned x = 12345;
    parus_store *s = NULL;
    parus_error err;
    file_image before;
    sqlite3 *db;
    size_t i;
    (void)state;

    assert_int_equal(parus_test_write_file(text, words, sizeof words - 1), 0);
    before = file_read(text);
    assert_int_equal(parus_store_open(text, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, text);
    assert_msg_has(err, "not a database");
    assert_file_unchanged(text, &before);

    for (i = 0; i < sizeof bytes; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(x >> 16);
    }
    assert_int_equal(parus_test_write_file(noise, bytes, sizeof bytes), 0);
    before = file_read(noise);
    assert_int_equal(parus_store_open(noise, &s, &err), PARUS_E_STORE);
    assert_msg_has(err, noise);
    assert_int_equal(parus_store_open_existing(noise, &s, &err), PARUS_E_STORE);
    assert_file_unchanged(noise, &before);

    /* a SQLite database of someone else's */
    db = raw_open(other);
    raw_exec(db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);"
                 "INSERT INTO accounts (owner) VALUES ('x')");
    sqlite3_close(db);
    before = file_read(other);
    assert_int_equal(parus_store_open(other, &s, &err), PARUS_E_STORE);
    {
        char expect[4096];
        snprintf(expect, sizeof expect, "'%s' is not a parus store", other);
        assert_string_equal(err.msg, expect);
    }
    assert_file_unchanged(other, &before);

    /* a directory */
    assert_int_equal(parus_store_open(dir, &s, &err), PARUS_E_STORE);
    assert_msg_has(err, dir);
    assert_null(s);

    parus_test_rmtree(dir);
    free(text);
    free(noise);
    free(other);
    free(dir);
}

static void test_open__corrupt_store(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "corrupt.db");
    parus_parcel_set set = grid_set(200, 20, 0);
    parus_store *s;
    parus_error err;
    unsigned char junk[3000];
    FILE *f;
    size_t i;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "a.geojson", NULL);
    parus_store_close(s);
    /* the schema lives on page 1, after the 100-byte file header */
    for (i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 7u + 3u);
    f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);

    s = NULL;
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, path);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__unwritable_places(void **state)
{
    char *dir = parus_test_tmpdir("store"), *sub = parus_test_path(dir, "ro");
    char *path = parus_test_path(sub, "x.db"), *nodir = parus_test_path(dir, "no/such/x.db");
    char *rofile = parus_test_path(dir, "ro.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    assert_int_equal(parus_store_open(nodir, &s, &err), PARUS_E_STORE);
    assert_msg_has(err, nodir);
    assert_null(s);

    s = open_ok(rofile);
    parus_store_close(s);
    s = NULL;
    assert_int_equal(chmod(rofile, 0444), 0);
    assert_int_equal(mkdir(sub, 0555), 0);
    if (geteuid() != 0) { /* root writes anyway */
        assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
        assert_msg_has(err, path);
        assert_null(s);
        assert_int_equal(parus_store_open(rofile, &s, &err), PARUS_E_STORE);
        assert_msg_has(err, rofile);
        assert_null(s);
    }
    chmod(sub, 0755);

    parus_test_rmtree(dir);
    free(sub);
    free(path);
    free(nodir);
    free(rofile);
    free(dir);
}

/* ---- parcels ---- */

static void test_put_parcels__insert_update_unchanged(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "p.db");
    parus_parcel_set set = grid_set(2000, 50, 0), more = grid_set(10, 50, 2000);
    parus_parcel_load_stats st;
    parus_store_counts c;
    parus_parcel p;
    parus_error err;
    parus_store *s;
    double area = 0.0;
    size_t i;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "parcels.geojson", &st);
    assert_int_equal(st.n_inserted, 2000);
    assert_int_equal(st.n_updated + st.n_unchanged + st.n_rejected, 0);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 2000);
    assert_int_equal(c.n_farmers, 500);
    for (i = 0; i < set.n_parcels; i++)
        area += set.parcels[i].area_m2;
    assert_close(c.parcel_area_m2, area, 0.0, 1e-12);

    load_ok(s, &set, "parcels.geojson", &st);
    assert_int_equal(st.n_unchanged, 2000);
    assert_int_equal(st.n_inserted + st.n_updated, 0);

    /* ten move, five change farmer, five change declared area; P00101 moves and loses its
     * farmer, and counts once */
    for (i = 0; i < 10; i++) {
        parus_parcel *q = &set.parcels[i * 100 + 1];
        free(q->wkb);
        q->lon_max_deg += 0.0001;
        q->wkb = parus_test_rect_wkb(q->lon_min_deg, q->lat_min_deg, q->lon_max_deg, q->lat_max_deg,
                                     &q->wkb_size);
    }
    for (i = 0; i < 5; i++) {
        static const size_t declared[5] = {3, 17, 24, 38, 46};
        free(set.parcels[i * 200 + 2].farmer_id);
        set.parcels[i * 200 + 2].farmer_id = xdup("F-NEW");
        set.parcels[declared[i]].declared_area_m2 = NAN;
    }
    set.parcels[3].declared_area_m2 = 1.0; /* was 703 */
    free(set.parcels[101].farmer_id);
    set.parcels[101].farmer_id = NULL;
    load_ok(s, &set, "parcels-v2.geojson", &st);
    assert_int_equal(st.n_updated, 10 + 5 + 5);
    assert_int_equal(st.n_unchanged, 2000 - 20);
    assert_int_equal(st.n_inserted, 0);

    assert_int_equal(parus_store_get_parcel(s, "P00101", &p, &err), PARUS_OK);
    assert_null(p.farmer_id);
    assert_close(p.lon_max_deg, set.parcels[101].lon_max_deg, 0.0, 0.0);
    assert_int_equal(p.wkb_size, set.parcels[101].wkb_size);
    assert_memory_equal(p.wkb, set.parcels[101].wkb, p.wkb_size);
    parus_parcel_release(&p);
    assert_int_equal(parus_store_get_parcel(s, "P00003", &p, &err), PARUS_OK);
    assert_close(p.declared_area_m2, 1.0, 0.0, 0.0);
    parus_parcel_release(&p);

    load_ok(s, &more, "more.geojson", &st);
    assert_int_equal(st.n_inserted, 10);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 2010);
    parus_store_close(s);

    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels_rtree"), 2010);
    /* the moved parcel's R-tree box moved with it */
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels_rtree r JOIN parcels p ON "
                                    "p.num = r.id WHERE p.id = 'P00101' AND r.lon_max >= "
                                    "p.lon_max_deg AND r.lon_max < p.lon_max_deg + 1e-5"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels WHERE source = "
                                    "'parcels-v2.geojson'"),
                     20);

    set_free(&set);
    set_free(&more);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_get_parcel__round_trip_and_not_found(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "g.db");
    parus_parcel_set set;
    parus_parcel p;
    parus_error err;
    parus_store *s;
    (void)state;

    memset(&set, 0, sizeof set);
    set.parcels = calloc(2, sizeof *set.parcels);
    assert_non_null(set.parcels);
    set.n_parcels = 2;
    make_parcel(&set.parcels[0], "地块-1", NULL, 113.5, 22.5, 113.501, 22.501, NAN);
    set.parcels[0].repaired = true;
    make_parcel(&set.parcels[1], "=cmd|' /C calc'!A0", "农户 \"王\"", -70.25, -33.5, -70.2, -33.45,
                2500.0);

    s = open_ok(path);
    load_ok(s, &set, "odd.gpkg", NULL);
    assert_int_equal(parus_store_get_parcel(s, "地块-1", &p, &err), PARUS_OK);
    assert_string_equal(p.id, "地块-1");
    assert_null(p.farmer_id);
    assert_true(isnan(p.declared_area_m2));
    assert_true(p.repaired);
    assert_close(p.area_m2, set.parcels[0].area_m2, 0.0, 0.0);
    assert_close(p.lat_max_deg, 22.501, 0.0, 0.0);
    assert_memory_equal(p.wkb, set.parcels[0].wkb, set.parcels[0].wkb_size);
    parus_parcel_release(&p);

    assert_int_equal(parus_store_get_parcel(s, set.parcels[1].id, &p, &err), PARUS_OK);
    assert_string_equal(p.farmer_id, "农户 \"王\"");
    assert_false(p.repaired);
    assert_close(p.declared_area_m2, 2500.0, 0.0, 0.0);
    parus_parcel_release(&p);

    memset(&p, 0x5a, sizeof p);
    assert_int_equal(parus_store_get_parcel(s, "P404", &p, &err), PARUS_E_NOT_FOUND);
    assert_msg_has(err, "'P404'");
    assert_msg_has(err, path);
    assert_int_equal(((unsigned char *)&p)[0], 0x5a);

    parus_store_close(s);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_put_parcels__rejects_recorded_per_source(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "r.db");
    parus_parcel_set set = grid_set(4, 4, 0), other = grid_set(2, 4, 4);
    parus_parcel_load_stats st;
    parus_store *s;
    sqlite3 *db;
    (void)state;

    add_reject(&set, 4, "P9", PARUS_E_GEOMETRY,
               "invalid polygon (Self-intersection at or near point 5 5) could not be repaired");
    add_reject(&set, 7, NULL, PARUS_E_INVALID, "no parcel id");
    add_reject(&other, 0, "Q1", PARUS_E_DUPLICATE, "duplicate id 'Q1' (feature 0 kept)");

    s = open_ok(path);
    load_ok(s, &set, "a.geojson", &st);
    assert_int_equal(st.n_rejected, 2);
    assert_int_equal(st.n_inserted, 4);
    assert_int_equal(counts_ok(s).n_parcel_rejects, 2);
    load_ok(s, &other, "b.geojson", NULL);
    assert_int_equal(counts_ok(s).n_parcel_rejects, 3);
    /* loading a.geojson again replaces its rejects rather than adding to them */
    free(set.rejects[1].id);
    free(set.rejects[1].reason);
    set.n_rejects = 1;
    load_ok(s, &set, "a.geojson", &st);
    assert_int_equal(st.n_rejected, 1);
    assert_int_equal(counts_ok(s).n_parcel_rejects, 2);
    parus_store_close(s);

    db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM parcel_rejects WHERE source = 'a.geojson' "
                                 "AND feature_index = 4 AND parcel_id = 'P9' AND code = "
                                 "'E_GEOMETRY' AND reason LIKE 'invalid polygon (Self-%' AND "
                                 "recorded_at LIKE '20__-__-__T__:__:__Z'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM parcel_rejects WHERE source = 'b.geojson' "
                                 "AND code = 'E_DUPLICATE'"),
                     1);
    sqlite3_close(db);

    set_free(&set);
    set_free(&other);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_put_parcels__bad_input_writes_nothing(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "bad.db");
    parus_parcel_set first = grid_set(100, 10, 0), set = grid_set(2000, 50, 100);
    parus_parcel_load_stats st = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    parus_store_counts c;
    parus_error err;
    parus_store *s;
    char *id;
    (void)state;

    s = open_ok(path);
    load_ok(s, &first, "first.geojson", NULL);

    /* the 1000th parcel has no id */
    id = set.parcels[999].id;
    set.parcels[999].id = NULL;
    assert_int_equal(parus_store_put_parcels(s, &set, "second.geojson", &st, &err),
                     PARUS_E_INVALID);
    assert_msg_has(err, "parcel 999 of 'second.geojson' has no id");
    assert_int_equal(st.n_inserted, 7);
    set.parcels[999].id = id;

    /* two parcels share an id */
    free(set.parcels[1500].id);
    set.parcels[1500].id = xdup(set.parcels[10].id);
    assert_int_equal(parus_store_put_parcels(s, &set, "second.geojson", &st, &err),
                     PARUS_E_DUPLICATE);
    assert_msg_has(err, "'P00110' appears twice");

    /* a footprint that is not a box */
    free(set.parcels[1500].id);
    set.parcels[1500].id = xdup("P99999");
    set.parcels[1700].lat_min_deg = NAN;
    assert_int_equal(parus_store_put_parcels(s, &set, "second.geojson", &st, &err),
                     PARUS_E_INVALID);
    assert_int_equal(parus_store_put_parcels(s, NULL, "x", &st, &err), PARUS_E_INVALID);

    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 100);
    parus_store_close(s);

    set_free(&first);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_put_parcels__locked_store_is_busy_and_intact(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "busy.db");
    parus_parcel_set first = grid_set(100, 10, 0), set = grid_set(500, 50, 100);
    parus_parcel_load_stats st;
    parus_error err;
    parus_store *s;
    sqlite3 *other;
    (void)state;

    s = open_ok(path);
    load_ok(s, &first, "first.geojson", NULL);
    sqlite3_busy_timeout(parus__store_handle(s), 50);

    other = raw_open(path);
    raw_exec(other, "BEGIN IMMEDIATE; INSERT INTO runs (command, parus_version, started_at) "
                    "VALUES ('other', '0', 'now')");
    assert_int_equal(parus_store_put_parcels(s, &set, "second.geojson", &st, &err), PARUS_E_BUSY);
    assert_msg_has(err, path);
    assert_msg_has(err, "locked");
    /* readers are not blocked by the other writer (WAL) */
    assert_int_equal(counts_ok(s).n_parcels, 100);
    raw_exec(other, "ROLLBACK");
    sqlite3_close(other);

    assert_int_equal(counts_ok(s).n_parcels, 100);
    load_ok(s, &set, "second.geojson", &st);
    assert_int_equal(st.n_inserted, 500);
    parus_store_close(s);

    set_free(&first);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_put_parcels__full_disk_keeps_what_was_stored(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "full.db");
    parus_parcel_set first = grid_set(50, 10, 0), set = grid_set(2000, 50, 50);
    parus_parcel_load_stats st;
    parus_error err;
    parus_store *s;
    char pragma[64];
    (void)state;

    s = open_ok(path);
    load_ok(s, &first, "first.geojson", NULL);
    /* the file may grow by 3 pages: the load needs far more */
    snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %lld",
             raw_int(parus__store_handle(s), "PRAGMA page_count") + 3);
    raw_exec(parus__store_handle(s), pragma);
    assert_int_equal(parus_store_put_parcels(s, &set, "second.geojson", &st, &err), PARUS_E_STORE);
    assert_msg_has(err, path);
    assert_msg_has(err, "full");
    assert_int_equal(counts_ok(s).n_parcels, 50);
    parus_store_close(s);

    s = open_ok(path);
    assert_int_equal(counts_ok(s).n_parcels, 50);
    load_ok(s, &set, "second.geojson", &st);
    assert_int_equal(st.n_inserted, 2000);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels_rtree"), 2050);
    {
        sqlite3 *db = raw_open(path);
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
        sqlite3_finalize(q);
        sqlite3_close(db);
    }

    set_free(&first);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* kill -9 in the middle of loads: the store holds whole loads only, and opens cleanly. */
static void test_put_parcels__killed_mid_load_is_all_or_nothing(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "kill.db");
    const struct timespec wait = {0, 300 * 1000 * 1000};
    parus_store_counts c;
    parus_store *s;
    pid_t pid;
    int status;
    (void)state;

    s = open_ok(path);
    parus_store_close(s);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* batches of 1000 new parcels until killed; no cmocka in here */
        size_t k;
        if (parus_store_open(path, &s, NULL) != PARUS_OK)
            _exit(1);
        for (k = 0;; k++) {
            parus_parcel_set set = grid_set(1000, 100, k * 1000);
            if (parus_store_put_parcels(s, &set, "loop.geojson", NULL, NULL) != PARUS_OK)
                _exit(2);
            set_free(&set);
        }
    }
    nanosleep(&wait, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    s = open_ok(path);
    c = counts_ok(s);
    parus_store_close(s);
    assert_int_equal(c.n_parcels % 1000, 0);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels_rtree"), (long long)c.n_parcels);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE "
                                    "integrity_check != 'ok'"),
                     0);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- the R-tree query ---- */

typedef struct stopper {
    size_t n, stop_at;
    parus_error *err;
} stopper;

static int stop_walk(const parus_parcel *p, void *ctx)
{
    stopper *k = ctx;
    (void)p;
    if (++k->n < k->stop_at)
        return 0;
    if (k->err)
        parus_fail(k->err, PARUS_E_RANGE, "enough");
    return 7;
}

static void test_parcels_in_box__candidates_in_id_order(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "box.db");
    parus_parcel_set set = grid_set(100, 10, 0), rev;
    char ids[4096] = "";
    stopper k = {0, 3, NULL};
    parus_error err;
    parus_store *s;
    size_t n = 99, i;
    (void)state;

    /* stored in reverse order: the walk must sort by id, not by storage */
    rev = set;
    rev.parcels = calloc(100, sizeof *rev.parcels);
    assert_non_null(rev.parcels);
    for (i = 0; i < 100; i++)
        rev.parcels[i] = set.parcels[99 - i];

    s = open_ok(path);
    load_ok(s, &rev, "grid.geojson", NULL);

    /* columns 2..4 (col 4 touches at its min edge), rows 3..5 */
    assert_int_equal(parus_store_parcels_in_box(s, grid_lon(2) + 0.0001, grid_lat(3) + 0.0001,
                                                grid_lon(4), grid_lat(5) + GRID_SIZE_DEG,
                                                collect_ids, ids, &n, &err),
                     PARUS_OK);
    assert_int_equal(n, 9);
    assert_string_equal(ids, "P00032,P00033,P00034,P00042,P00043,P00044,P00052,P00053,P00054");

    /* a box in the gap between parcels meets none */
    ids[0] = '\0';
    assert_int_equal(parus_store_parcels_in_box(s, grid_lon(2) + GRID_SIZE_DEG + 0.00005, 39.0,
                                                grid_lon(3) - 0.00005, 39.1, collect_ids, ids, &n,
                                                &err),
                     PARUS_OK);
    assert_int_equal(n, 0);

    /* exact edges, not the R-tree's float ones: a box starting just past the parcel's edge
     * misses it although the rounded-out float box would still meet it */
    ids[0] = '\0';
    assert_int_equal(parus_store_parcels_in_box(s, nextafter(grid_lon(0) + GRID_SIZE_DEG, 200.0),
                                                39.0, grid_lon(0) + GRID_SIZE_DEG + 0.0001, 39.0005,
                                                collect_ids, ids, &n, &err),
                     PARUS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(parus_store_parcels_in_box(s, grid_lon(0) + GRID_SIZE_DEG, 39.0,
                                                grid_lon(0) + GRID_SIZE_DEG + 0.0001, 39.0005,
                                                collect_ids, ids, &n, &err),
                     PARUS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids, "P00000");

    /* stopping */
    assert_int_equal(
        parus_store_parcels_in_box(s, 115.0, 38.0, 117.0, 40.0, stop_walk, &k, &n, &err),
        PARUS_E_INTERNAL);
    assert_msg_has(err, "'P00002'");
    k.n = 0;
    k.err = &err;
    assert_int_equal(
        parus_store_parcels_in_box(s, 115.0, 38.0, 117.0, 40.0, stop_walk, &k, &n, &err),
        PARUS_E_RANGE);
    assert_string_equal(err.msg, "enough");
    /* the statement was released: the next walk starts over */
    k.n = 0;
    k.stop_at = 1000;
    k.err = NULL;
    assert_int_equal(
        parus_store_parcels_in_box(s, 115.0, 38.0, 117.0, 40.0, stop_walk, &k, &n, &err), PARUS_OK);
    assert_int_equal(n, 100);

    assert_int_equal(
        parus_store_parcels_in_box(s, 117.0, 38.0, 115.0, 40.0, collect_ids, ids, &n, &err),
        PARUS_E_INVALID);
    assert_int_equal(
        parus_store_parcels_in_box(s, NAN, 38.0, 115.0, 40.0, collect_ids, ids, &n, &err),
        PARUS_E_INVALID);
    parus_store_close(s);

    free(rev.parcels);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- tiles and observations ---- */

static parus_tile_record tile_rec(unsigned seed, const char *date)
{
    parus_tile_record r;
    int i;
    memset(&r, 0, sizeof r);
    for (i = 0; i < 64; i++)
        r.hash[i] = "0123456789abcdef"[(seed * 31u + (unsigned)i * 7u) % 16u];
    r.hash[64] = '\0';
    snprintf(r.path, sizeof r.path, "/inbox/T50TMK_%s_%u.tif", date, seed);
    snprintf(r.sensor, sizeof r.sensor, "sentinel-2-l2a");
    snprintf(r.date, sizeof r.date, "%s", date);
    r.epsg = 32650;
    r.width = 10980;
    r.height = 10980;
    r.geotransform[0] = 399960.0;
    r.geotransform[1] = 10.0;
    r.geotransform[3] = 4500000.0;
    r.geotransform[5] = -10.0;
    r.lon_min_deg = 115.8;
    r.lat_min_deg = 38.6;
    r.lon_max_deg = 117.1;
    r.lat_max_deg = 39.6;
    r.n_parcels = 3;
    snprintf(r.status, sizeof r.status, "registered");
    return r;
}

/* rec on the grid east_m metres east (the next tile of the same date: another grid and, but for
 * a strip, another footprint; at 39 N a degree of longitude is about 86.5 km) */
static void tile_east(parus_tile_record *rec, double east_m)
{
    rec->geotransform[0] += east_m;
    rec->lon_min_deg += east_m / 86500.0;
    rec->lon_max_deg += east_m / 86500.0;
}

typedef struct tile_list {
    char text[1024];
} tile_list;

static int list_tile(const parus_tile_record *rec, void *ctx)
{
    tile_list *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s%lld:%s", n ? "," : "", (long long)rec->id,
             rec->date);
    return 0;
}

static void test_tiles__put_find_and_order(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "t.db");
    parus_tile_record a = tile_rec(1, "2024-06-10"), b = tile_rec(2, "2024-05-01");
    parus_tile_record c = tile_rec(3, "2024-06-10"), got, bad;
    tile_list list = {""};
    bool found = true;
    parus_error err;
    parus_store *s;
    (void)state;

    s = open_ok(path);
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(parus_store_find_tile(s, a.hash, &got, &found, &err), PARUS_OK);
    assert_false(found);
    assert_int_equal(((unsigned char *)&got)[0], 0x5a);

    a.epsg = 0;
    a.geotransform[2] = NAN;
    tile_east(&c, 109800.0); /* a's date: the next tile */
    assert_int_equal(parus_store_put_tile(s, &a, &err), PARUS_OK);
    assert_int_equal(a.id, 1);
    assert_int_equal(strlen(a.processed_at), 20);
    assert_int_equal(a.processed_at[10], 'T');
    assert_int_equal(a.processed_at[19], 'Z');
    assert_int_equal(parus_store_put_tile(s, &b, &err), PARUS_OK);
    assert_int_equal(parus_store_put_tile(s, &c, &err), PARUS_OK);

    assert_int_equal(parus_store_find_tile(s, a.hash, &got, &found, &err), PARUS_OK);
    assert_true(found);
    assert_int_equal(got.id, a.id);
    assert_string_equal(got.path, a.path);
    assert_string_equal(got.sensor, "sentinel-2-l2a");
    assert_string_equal(got.date, "2024-06-10");
    assert_string_equal(got.status, "registered");
    assert_string_equal(got.processed_at, a.processed_at);
    assert_int_equal(got.epsg, 0);
    assert_int_equal(got.width, 10980);
    assert_int_equal(got.n_parcels, 3);
    assert_close(got.geotransform[0], 399960.0, 0.0, 0.0);
    assert_true(isnan(got.geotransform[2]));
    assert_close(got.geotransform[5], -10.0, 0.0, 0.0);
    assert_close(got.lat_max_deg, 39.6, 0.0, 0.0);

    /* same content under another name */
    snprintf(c.path, sizeof c.path, "/inbox/renamed.tif");
    c.id = 0;
    assert_int_equal(parus_store_put_tile(s, &c, &err), PARUS_E_DUPLICATE);
    assert_msg_has(err, "'/inbox/renamed.tif' is already in");
    assert_int_equal(c.id, 0);

    bad = tile_rec(9, "2024-02-30");
    assert_int_equal(parus_store_put_tile(s, &bad, &err), PARUS_E_INVALID);
    bad = tile_rec(9, "2024-02-03");
    bad.hash[10] = 'g';
    assert_int_equal(parus_store_put_tile(s, &bad, &err), PARUS_E_INVALID);
    bad = tile_rec(9, "2024-02-03");
    bad.status[0] = '\0';
    assert_int_equal(parus_store_put_tile(s, &bad, &err), PARUS_E_INVALID);

    assert_int_equal(parus_store_tiles_foreach(s, list_tile, &list, &err), PARUS_OK);
    assert_string_equal(list.text, "2:2024-05-01,1:2024-06-10,3:2024-06-10");
    assert_int_equal(counts_ok(s).n_tiles, 3);
    parus_store_close(s);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static parus_observation make_obs(double w_total, double ndvi)
{
    parus_observation o;
    int i;
    memset(&o, 0, sizeof o);
    o.w_total_px = w_total;
    o.w_valid_px = isnan(ndvi) ? 0.0 : w_total * 0.75;
    o.valid_fraction = isnan(ndvi) ? 0.0 : 0.75;
    for (i = 0; i < PARUS_INDEX_N_; i++)
        o.mean[i] = o.std[i] = o.min[i] = o.max[i] = NAN;
    o.mean[PARUS_INDEX_NDVI] = ndvi;
    o.std[PARUS_INDEX_NDVI] = isnan(ndvi) ? (double)NAN : 0.05;
    o.min[PARUS_INDEX_NDVI] = isnan(ndvi) ? (double)NAN : ndvi - 0.1;
    o.max[PARUS_INDEX_NDVI] = isnan(ndvi) ? (double)NAN : ndvi + 0.1;
    return o;
}

struct series_check {
    char date[11];
    parus_observation obs;
};

static int series_keep(const parus_series_point *pt, void *ctx)
{
    struct series_check *c = ctx;
    memcpy(c->date, pt->date, sizeof c->date);
    c->obs = pt->obs;
    return 0;
}

static int series_keep_any(const parus_series_point *pt, void *ctx)
{
    (void)pt;
    (void)ctx;
    return 0;
}

static void test_tile_stream__abort_and_close_leave_nothing(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "st.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    parus_tile_record rec = tile_rec(7, "2024-07-02"), got;
    parus_observation o = make_obs(4.0, 0.5);
    parus_store_counts c;
    bool found = true;
    parus_error err;
    parus_store *s;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "p.geojson", NULL);
    snprintf(rec.status, sizeof rec.status, "ingested");
    /* abort */
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_E_INVALID); /* one at a time */
    assert_int_equal(parus_store_tile_add(s, &rec, "P00000", &o, &err), PARUS_OK);
    parus_store_tile_abort(s);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles + c.n_observations, 0);
    /* closing with a tile open */
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_add(s, &rec, "P00001", &o, &err), PARUS_OK);
    parus_store_close(s);
    s = open_ok(path);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles + c.n_observations, 0);
    /* an error in add rolls back by itself */
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_add(s, &rec, "P00000", &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_add(s, &rec, "NOPE", &o, &err), PARUS_E_NOT_FOUND);
    assert_int_equal(parus_store_tile_commit(s, &rec, &err), PARUS_E_INVALID);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles + c.n_observations, 0);
    /* and a whole one: n_parcels is the number added */
    rec.n_parcels = 99;
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_add(s, &rec, "P00000", &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_add(s, &rec, "P00002", &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_commit(s, &rec, &err), PARUS_OK);
    assert_int_equal(parus_store_find_tile(s, rec.hash, &got, &found, &err), PARUS_OK);
    assert_true(found);
    assert_int_equal(got.n_parcels, 2);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles, 1);
    assert_int_equal(c.n_observations, 2);
    {
        size_t n = 9;
        struct series_check chk = {0};
        assert_int_equal(parus_store_parcel_series(s, "P00002", series_keep, &chk, &n, &err),
                         PARUS_OK);
        assert_int_equal(n, 1);
        assert_string_equal(chk.date, "2024-07-02");
        assert_close(chk.obs.mean[PARUS_INDEX_NDVI], o.mean[PARUS_INDEX_NDVI], 0, 0);
        assert_close(chk.obs.w_valid_px, o.w_valid_px, 0, 0);
        assert_true(isnan(chk.obs.mean[PARUS_INDEX_EVI])); /* NULL comes back as NaN */
        assert_int_equal(parus_store_parcel_series(s, "P00001", series_keep, &chk, &n, &err),
                         PARUS_OK);
        assert_int_equal(n, 0);
    }
    parus_store_close(s);
    set_free(&set);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

/* ingest's walk: each parcel's id and row number, in walk order */
struct walk_nums {
    char id[3][16];
    int64_t num[3];
    size_t n;
};

static int keep_num(const parus_parcel *p, int64_t num, void *ctx)
{
    struct walk_nums *w = ctx;
    assert_true(w->n < 3);
    snprintf(w->id[w->n], sizeof w->id[w->n], "%s", p->id);
    w->num[w->n++] = num;
    return 0;
}

static size_t series_count(parus_store *s, const char *id)
{
    struct series_check chk = {0};
    parus_error err;
    size_t n = 99;
    assert_int_equal(parus_store_parcel_series(s, id, series_keep, &chk, &n, &err), PARUS_OK);
    return n;
}

static parus_tile_record ingested_rec(unsigned seed, const char *date)
{
    parus_tile_record r = tile_rec(seed, date);
    snprintf(r.status, sizeof r.status, "ingested");
    return r;
}

static void walk_nums_ok(parus_store *s, struct walk_nums *w)
{
    parus_error err;
    size_t n = 0;
    memset(w, 0, sizeof *w);
    assert_int_equal(
        parus__store_parcels_in_box_num(s, 115.0, 38.0, 117.0, 40.0, keep_num, w, &n, &err),
        PARUS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(w->id[0], "P00000"); /* id order, as parus_store_parcels_in_box */
    assert_string_equal(w->id[2], "P00002");
}

/* The walk's row numbers go into the tile's rows as they are only while nothing was committed by
 * another connection since the walk; else, or with no walk before the tile, each parcel is
 * looked up by its id (a number given wrong on purpose here shows which way was taken). */
static void test_tile_add_num__walk_numbers_trusted_only_while_unchanged(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "n.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    parus_tile_record a = ingested_rec(11, "2024-07-01"), b = ingested_rec(12, "2024-07-07");
    parus_tile_record c = ingested_rec(13, "2024-07-13"), got;
    parus_observation o = make_obs(4.0, 0.5);
    struct walk_nums w;
    bool found = true;
    parus_error err;
    parus_store *s = open_ok(path);
    sqlite3 *other;
    (void)state;

    load_ok(s, &set, "p.geojson", NULL);

    /* nothing in between: the numbers are taken as given, not looked up (P00001's number, given
     * with P00002's id, puts the row on P00001) */
    walk_nums_ok(s, &w);
    assert_int_equal(parus_store_tile_begin(s, &a, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &a, w.id[0], w.num[0], &o, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &a, w.id[2], w.num[1], &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_commit(s, &a, &err), PARUS_OK);
    assert_int_equal(series_count(s, "P00000"), 1);
    assert_int_equal(series_count(s, "P00001"), 1);
    assert_int_equal(series_count(s, "P00002"), 0);

    /* another connection commits after the walk: P00000 is looked up, not taken as P00001 */
    walk_nums_ok(s, &w);
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "UPDATE parcels SET farmer_id = 'F9' WHERE id = 'P00001'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(parus_store_tile_begin(s, &b, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &b, "P00000", w.num[1], &o, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &b, "NOPE", w.num[1], &o, &err),
                     PARUS_E_NOT_FOUND);
    assert_int_equal(parus_store_find_tile(s, b.hash, &got, &found, &err), PARUS_OK);
    assert_false(found); /* the failed add rolled the tile back */
    assert_int_equal(series_count(s, "P00000"), 1);
    /* again (the walk is used up: looked up too) */
    assert_int_equal(parus_store_tile_begin(s, &b, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &b, "P00000", w.num[1], &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_commit(s, &b, &err), PARUS_OK);
    assert_int_equal(series_count(s, "P00000"), 2);
    assert_int_equal(series_count(s, "P00001"), 1);

    /* a walk serves one tile: the next one looks its parcels up */
    assert_int_equal(parus_store_tile_begin(s, &c, &err), PARUS_OK);
    assert_int_equal(parus__store_tile_add_num(s, &c, "P00001", w.num[2], &o, &err), PARUS_OK);
    assert_int_equal(parus_store_tile_commit(s, &c, &err), PARUS_OK);
    assert_int_equal(series_count(s, "P00001"), 2);
    assert_int_equal(series_count(s, "P00002"), 0);

    parus_store_close(s);
    set_free(&set);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

/* A radar tile with what the store requires of one (its orbit may be unknown). */
static parus_tile_record radar_rec(unsigned seed, const char *date)
{
    parus_tile_record r = ingested_rec(seed, date);
    snprintf(r.sensor, sizeof r.sensor, "sentinel-1");
    snprintf(r.coefficient, sizeof r.coefficient, "sigma0");
    snprintf(r.polarisations, sizeof r.polarisations, "VV");
    r.looks = 4.4;
    return r;
}

/* Add parcels order[0..n) to the open radar tile, parcel k's vv k / 1000. */
static parus_status radar_rows_add(parus_store *s, parus_tile_record *rec, const size_t *order,
                                   size_t n, parus_error *err)
{
    parus_status code = PARUS_OK;
    for (size_t i = 0; i < n && code == PARUS_OK; i++) {
        parus_observation o = make_obs(4.0, NAN);
        char id[16];
        snprintf(id, sizeof id, "P%05zu", order[i]);
        o.vv = (double)order[i] / 1000.0;
        code = parus_store_tile_add(s, rec, id, &o, err);
    }
    return code;
}

static parus_status radar_tile_put(parus_store *s, parus_tile_record *rec, const size_t *order,
                                   size_t n, parus_error *err)
{
    parus_status code = parus_store_tile_begin(s, rec, err);
    if (code == PARUS_OK)
        code = radar_rows_add(s, rec, order, n, err);
    return code == PARUS_OK ? parus_store_tile_commit(s, rec, err) : code;
}

/* Radar rows are held and inserted a batch a statement: in the order given (rowids included)
 * across full batches and the rest, a parcel given twice in one batch or in two fails the tile
 * at the end with its id, and rows held when a tile is aborted never reach the next one. */
static void test_tile_add__radar_rows_in_batches(void **state)
{
    parus_tile_record a = radar_rec(21, "2024-07-01"), b = radar_rec(22, "2024-07-07");
    parus_tile_record c = radar_rec(23, "2024-07-13"), d = radar_rec(24, "2024-07-19"), got;
    size_t order[150];
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "r.db");
    parus_parcel_set set = grid_set(150, 15, 0);
    parus_store *s = open_ok(path);
    parus_error err;
    bool found = true;
    sqlite3 *db;
    (void)state;

    load_ok(s, &set, "p.geojson", NULL);
    for (size_t i = 0; i < 150; i++)
        order[i] = 149 - i;
    assert_int_equal(radar_tile_put(s, &a, order, 150, &err), PARUS_OK);
    assert_int_equal(a.n_parcels, 150);

    /* P00139 (row 10) again as row 100: a batch later than its first */
    order[100] = 139;
    assert_int_equal(radar_tile_put(s, &b, order, 150, &err), PARUS_E_DUPLICATE);
    assert_msg_has(err, "parcel 'P00139' is observed twice");
    assert_int_equal(parus_store_find_tile(s, b.hash, &got, &found, &err), PARUS_OK);
    assert_false(found);
    /* P00140 again as row 12, both in the rows left at the commit */
    order[12] = 140;
    assert_int_equal(radar_tile_put(s, &b, order, 20, &err), PARUS_E_DUPLICATE);
    assert_msg_has(err, "parcel 'P00140' is observed twice");
    /* the repeat, still held when an unknown parcel comes, is the failure said, as row by row */
    {
        parus_observation o = make_obs(4.0, NAN);
        assert_int_equal(parus_store_tile_begin(s, &b, &err), PARUS_OK);
        assert_int_equal(radar_rows_add(s, &b, order, 13, &err), PARUS_OK);
        assert_int_equal(parus_store_tile_add(s, &b, "NOPE", &o, &err), PARUS_E_DUPLICATE);
        assert_msg_has(err, "parcel 'P00140' is observed twice");
    }

    /* five rows held, then the tile aborted: the next tile has only its own row */
    assert_int_equal(parus_store_tile_begin(s, &c, &err), PARUS_OK);
    assert_int_equal(radar_rows_add(s, &c, order, 5, &err), PARUS_OK);
    parus_store_tile_abort(s);
    order[0] = 7;
    assert_int_equal(radar_tile_put(s, &d, order, 1, &err), PARUS_OK);
    parus_store_close(s);

    db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM tiles"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM radar_observations"), 151);
    /* each row's parcel and value, in rowid order: 149, 148, ..., 0, then 7 */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM (SELECT o.vv AS vv, "
                                 "CAST(substr(p.id, 2) AS INTEGER) AS k, row_number() "
                                 "OVER (ORDER BY o.rowid) AS i FROM radar_observations o JOIN "
                                 "parcels p ON p.num = o.parcel_num) WHERE (i <= 150 AND k = 150 - "
                                 "i AND vv = k / 1000.0) OR (i = 151 AND k = 7 AND vv = 0.007)"),
                     151);
    sqlite3_close(db);
    set_free(&set);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
}

static void test_put_tile_observations__all_or_nothing(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "o.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    parus_tile_record rec = tile_rec(5, "2024-07-01"), got;
    parus_observation o[3] = {make_obs(12.5, 0.62), make_obs(3.25, NAN), make_obs(1.0, 0.1)};
    const parus_observation *obs[3] = {&o[0], &o[1], &o[2]};
    o[0].own_mean[PARUS_INDEX_NDVI] = 0.71;
    o[0].own_band_mean[PARUS_ROLE_RED] = 0.0625;
    o[0].own_unmixed_share = 0.5;
    o[0].own_veg_fraction = 0.25;
    const char *ids[3] = {"P00000", "P00001", "P404"};
    parus_store_counts c;
    bool found = true;
    parus_error err;
    parus_store *s;
    sqlite3 *db;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "p.geojson", NULL);
    snprintf(rec.status, sizeof rec.status, "ingested");

    /* the third parcel is unknown: neither the tile nor the first two observations stay */
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 3, &err),
                     PARUS_E_NOT_FOUND);
    assert_msg_has(err, "'P404'");
    assert_int_equal(rec.id, 0);
    assert_int_equal(parus_store_find_tile(s, rec.hash, &got, &found, &err), PARUS_OK);
    assert_false(found);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles + c.n_observations, 0);

    ids[2] = "P00000";
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 3, &err),
                     PARUS_E_DUPLICATE);
    assert_msg_has(err, "'P00000' is observed twice");
    c = counts_ok(s);
    assert_int_equal(c.n_tiles + c.n_observations, 0);

    ids[2] = "P00002";
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 3, &err), PARUS_OK);
    assert_true(rec.id > 0);
    c = counts_ok(s);
    assert_int_equal(c.n_tiles, 1);
    assert_int_equal(c.n_observations, 3);
    assert_int_equal(parus_store_find_tile(s, rec.hash, &got, &found, &err), PARUS_OK);
    assert_string_equal(got.status, "ingested");
    /* a rerun of the same tile adds nothing */
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 3, &err),
                     PARUS_E_DUPLICATE);
    assert_int_equal(counts_ok(s).n_observations, 3);
    parus_store_close(s);

    db = raw_open(path);
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM observations o JOIN parcels p ON p.num = "
                    "o.parcel_num WHERE p.id = 'P00000' AND o.w_total_px = 12.5 AND "
                    "o.w_valid_px = 9.375 AND o.valid_fraction = 0.75 AND "
                    "o.ndvi_mean = 0.62 AND parus_obs_value(o.vals, 'ndvi_std') = 0.05 AND "
                    "parus_obs_value(o.vals, 'own_ndvi') = 0.71 AND "
                    "parus_obs_value(o.vals, 'own_red_mean') = 0.0625 AND "
                    "parus_obs_value(o.vals, 'own_unmixed_share') = 0.5 AND "
                    "parus_obs_value(o.vals, 'own_veg_fraction') = 0.25"),
        1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM observations o JOIN parcels p ON p.num = "
                                 "o.parcel_num WHERE p.id = 'P00001' AND o.ndvi_mean IS NULL AND "
                                 "parus_obs_value(o.vals, 'ndvi_max') IS NULL AND "
                                 "o.w_valid_px = 0"),
                     1);
    sqlite3_close(db);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- runs ---- */

static void test_runs__begin_and_end(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "runs.db");
    int64_t a = 0, b = 0;
    parus_error err;
    parus_store *s;
    sqlite3 *db;
    sqlite3_stmt *st;
    (void)state;

    s = open_ok(path);
    assert_int_equal(parus_store_run_begin(s, "parus", "ingest a.tif b.tif", &a, &err), PARUS_OK);
    assert_int_equal(parus_store_run_begin(s, "parus", NULL, &b, &err), PARUS_OK);
    assert_true(a > 0 && b > a);
    assert_int_equal(parus_store_run_end(s, a, "partial", "tiles=2 stored=1 failed=1", &err),
                     PARUS_OK);
    assert_int_equal(parus_store_run_end(s, b + 100, "ok", NULL, &err), PARUS_E_NOT_FOUND);
    assert_int_equal(counts_ok(s).n_runs, 2);
    parus_store_close(s);

    db = raw_open(path);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT command, args, parus_version, outcome, summary, "
                                        "started_at <= ended_at FROM runs WHERE id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, a);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "parus");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "ingest a.tif b.tif");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), parus_version());
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "partial");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "tiles=2 stored=1 failed=1");
    assert_int_equal(sqlite3_column_int(st, 5), 1);
    sqlite3_finalize(st);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM runs WHERE args IS NULL AND ended_at IS "
                                 "NULL"),
                     1);
    sqlite3_close(db);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 4: declared crops, the season walk, samples, assessments ---- */

/* Versions 2 and 3 as parus wrote them over version 1 (the test's own copy of the DDL; the
 * observation columns of version 3 come from the append-only list in store_int.h). */
#define V3_OBS_COLUMN(name, offset) "ALTER TABLE observations ADD COLUMN " #name " REAL;"
static const char v2_v3_schema[] =
    "BEGIN;"
    "ALTER TABLE tiles ADD COLUMN status TEXT NOT NULL DEFAULT 'registered';"
    "CREATE TABLE observations (tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,"
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"
    " w_total_px REAL NOT NULL, w_valid_px REAL NOT NULL, valid_fraction REAL,"
    " ndvi_mean REAL, ndvi_std REAL, ndvi_min REAL, ndvi_max REAL,"
    " PRIMARY KEY (parcel_num, tile_id));"
    "CREATE INDEX observations_tile ON observations(tile_id);"
    "CREATE TABLE parcel_rejects (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
    " feature_index INTEGER NOT NULL, parcel_id TEXT, code TEXT NOT NULL, reason TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL);"
    "CREATE INDEX parcel_rejects_source ON parcel_rejects(source);" PARUS__OBS_COLUMNS_V3(
        V3_OBS_COLUMN) "ALTER TABLE observations ADD COLUMN n_pixels INTEGER;"
                       "ALTER TABLE observations ADD COLUMN n_pure INTEGER;"
                       "PRAGMA user_version = 3;"
                       "COMMIT;";
#undef V3_OBS_COLUMN

/* A version-3 store: the version-1 store plus one observation of parcel OLD1 in the old tile. */
static void write_v3_store(const char *path, const char *extra_sql)
{
    sqlite3 *db;
    write_v1_store(path, NULL);
    db = raw_open(path);
    raw_exec(db, v2_v3_schema);
    raw_exec(db, "INSERT INTO observations (tile_id, parcel_num, w_total_px, w_valid_px, "
                 "valid_fraction, ndvi_mean, n_pixels) VALUES (1, 1, 10.5, 8.0, 0.762, 0.61, 12)");
    if (extra_sql)
        raw_exec(db, extra_sql);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

#define SEASON "2024-03-01/2024-06-30"

struct walk_log {
    char text[4096];
    size_t n_calls;
    int stop_at;        /* stop (return 1) on this call, from 1; 0: never */
    parus_store *store; /* when set, each parcel gets an assessment from inside the walk */
};

static int log_parcel(const parus_parcel_brief *p, const parus_series_point *pts, size_t n_pts,
                      void *ctx)
{
    struct walk_log *l = ctx;
    size_t n = strlen(l->text), i;
    n += (size_t)snprintf(l->text + n, sizeof l->text - n, "%s%s[%s,%s,%.0f,%s]:", n ? ";" : "",
                          p->id, p->farmer_id ? p->farmer_id : "-",
                          p->declared_crop ? p->declared_crop : "-", p->area_m2,
                          isnan(p->declared_area_m2) ? "nan" : "d");
    for (i = 0; i < n_pts; i++)
        n += (size_t)snprintf(l->text + n, sizeof l->text - n, "%s%s/%lld=%.2f", i ? "," : "",
                              pts[i].date, (long long)pts[i].tile_id,
                              pts[i].obs.mean[PARUS_INDEX_NDVI]);
    l->n_calls++;
    if (l->store) {
        parus_assessment a;
        parus_error err;
        memset(&a, 0, sizeof a);
        a.parcel_id = p->id;
        a.method = n_pts ? PARUS_ASSESS_CALENDAR : PARUS_ASSESS_NONE;
        a.confidence = n_pts ? PARUS_CONFIDENCE_LOW : PARUS_CONFIDENCE_NONE;
        a.crop = n_pts ? "winter_wheat" : NULL;
        a.reason = n_pts ? NULL : "no clear observation in the season";
        a.probability = a.margin = NAN;
        a.agrees = -1;
        a.n_clear_obs = n_pts;
        if (parus_store_assessments_put(l->store, &a, &err) != PARUS_OK)
            fail_msg("put from the walk: %s", err.msg);
    }
    return l->stop_at && (int)l->n_calls == l->stop_at;
}

static void test_open__v3_store_is_migrated_to_v4(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v3.db");
    const char *ids[1] = {"OLD1"}, *crops[1] = {"summer_maize"};
    struct walk_log log;
    parus_store_counts c;
    parus_store *s;
    parus_error err;
    size_t n = 0;
    (void)state;

    write_v3_store(path, NULL);
    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_schema_version(s), 3);
    assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err),
                     PARUS_E_SCHEMA);
    assert_msg_has(err, "has schema version 3, older than this parus (21)");
    parus_store_close(s);
    assert_int_equal(file_int(path, "PRAGMA user_version"), 3);

    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 1);
    assert_int_equal(c.n_observations, 1);
    assert_int_equal(c.n_parcel_crops + c.n_samples + c.n_sample_points + c.n_assessments, 0);
    /* what version 3 stored is read through the new walk, and the new tables take writes */
    assert_int_equal(
        parus_store_put_parcel_crops(s, "2025-03-01/2025-06-30", ids, crops, 1, "crops.csv", &err),
        PARUS_OK);
    memset(&log, 0, sizeof log);
    assert_int_equal(
        parus_store_season_walk(s, "2025-03-01/2025-06-30", log_parcel, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(log.text, "OLD1[F9,summer_maize,1111,d]:2025-04-02/1=0.61");
    parus_store_close(s);

    assert_int_equal(file_int(path, "PRAGMA user_version"), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('parcel_crops', 'samples', 'sample_points', 'assessments', "
                                    "'assessments_parcel')"),
                     5);
    assert_int_equal(file_int(path, "SELECT n_pixels FROM observations"), 12);
    /* version 6: the own values of what was stored before are not measured (NULL), and the
     * mixed values stay as they were */
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') IS NULL AND "
                                    "parus_obs_value(vals, 'own_red_mean') IS NULL AND "
                                    "parus_obs_value(vals, 'own_unmixed_share') IS NULL "
                                    "AND ndvi_mean = 0.61"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_v4_step_leaves_v3(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v3-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a table in the way of step 4, after parcel_crops and samples were created */
    write_v3_store(path, "CREATE TABLE assessments (x);");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 3 to 4");
    assert_msg_has(err, "already exists");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(file_int(path,
                              "SELECT count(*) FROM sqlite_master WHERE name IN ('parcel_crops', "
                              "'samples')"),
                     0);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_parcel_crops__put_replace_and_bad_input(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "pc.db");
    parus_parcel_set set = grid_set(4, 4, 0);
    const char *ids[3] = {"P00002", "P00000", "P00001"};
    const char *crops[3] = {"winter_wheat", "summer_maize", "cotton"};
    const char *bad_ids[3] = {"P00000", "P404", "P00001"};
    const char *dup_ids[3] = {"P00000", "P00001", "P00000"};
    const char *empty[3] = {"winter_wheat", "", "cotton"};
    char crop[64] = "untouched";
    bool found = true;
    parus_error err;
    parus_store *s;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "p.geojson", NULL);
    assert_true(parus_store_season_valid(SEASON));
    assert_true(parus_store_season_valid("2024-06-30/2024-06-30"));
    assert_false(parus_store_season_valid("2024-06-30/2024-03-01"));
    assert_false(parus_store_season_valid("2024-02-30/2024-06-01"));
    assert_false(parus_store_season_valid("20240301/20240630"));
    assert_false(parus_store_season_valid("2024-03-01-2024-06-30"));
    assert_false(parus_store_season_valid(NULL));

    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, ids, crops, 3, "a.csv", &err),
                     PARUS_OK);
    assert_int_equal(counts_ok(s).n_parcel_crops, 3);
    assert_int_equal(parus_store_parcel_crop(s, SEASON, "P00001", crop, &found, &err), PARUS_OK);
    assert_true(found);
    assert_string_equal(crop, "cotton");
    /* another season is another row; the same season replaces */
    crops[2] = "soybean";
    assert_int_equal(
        parus_store_put_parcel_crops(s, "2024-07-01/2024-10-31", ids + 2, crops + 2, 1, NULL, &err),
        PARUS_OK);
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, ids + 2, crops + 2, 1, "b.csv", &err),
                     PARUS_OK);
    assert_int_equal(counts_ok(s).n_parcel_crops, 4);
    assert_int_equal(parus_store_parcel_crop(s, SEASON, "P00001", crop, &found, &err), PARUS_OK);
    assert_string_equal(crop, "soybean");
    assert_int_equal(parus_store_parcel_crop(s, SEASON, "P00003", crop, &found, &err), PARUS_OK);
    assert_false(found);
    assert_string_equal(crop, "soybean");

    /* bad input stores nothing */
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, bad_ids, crops, 3, "c.csv", &err),
                     PARUS_E_NOT_FOUND);
    assert_msg_has(err, "parcel 'P404' is not in");
    assert_int_equal(parus_store_parcel_crop(s, SEASON, "P00000", crop, &found, &err), PARUS_OK);
    assert_string_equal(crop, "summer_maize"); /* not winter_wheat from the failed batch */
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, dup_ids, crops, 3, "c.csv", &err),
                     PARUS_E_DUPLICATE);
    assert_msg_has(err, "'P00000' is given twice");
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, ids, empty, 3, "c.csv", &err),
                     PARUS_E_INVALID);
    assert_int_equal(
        parus_store_put_parcel_crops(s, "2024-06-30/2024-03-01", ids, crops, 3, "c.csv", &err),
        PARUS_E_INVALID);
    assert_msg_has(err, "first <= last");
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, ids, crops, 0, "c.csv", &err),
                     PARUS_OK);
    assert_int_equal(counts_ok(s).n_parcel_crops, 4);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcel_crops WHERE source = 'c.csv'"), 0);
    parus_store_close(s);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* A tile of the given date with observations of the given parcels (NDVI = 0.1 * k + tile seed
 * / 100, so each point names its tile). */
/* put_tile_of on a grid east_m metres east of tile_rec's (0: the same; another grid is another
 * MGRS tile of the same date, not the same acquisition) */
static void put_tile_east(parus_store *s, unsigned seed, const char *date, const char *const *ids,
                          size_t n, double east_m)
{
    parus_tile_record rec = tile_rec(seed, date);
    parus_observation o[8];
    const parus_observation *obs[8];
    parus_error err;
    size_t i;
    assert_true(n <= 8);
    for (i = 0; i < n; i++) {
        o[i] = make_obs(10.0, 0.1 * (double)(i + 1) + (double)seed / 100.0);
        obs[i] = &o[i];
    }
    snprintf(rec.status, sizeof rec.status, "ingested");
    tile_east(&rec, east_m);
    if (parus_store_put_tile_observations(s, &rec, ids, obs, n, &err) != PARUS_OK)
        fail_msg("put tile: %s", err.msg);
}

static void put_tile_of(parus_store *s, unsigned seed, const char *date, const char *const *ids,
                        size_t n)
{
    put_tile_east(s, seed, date, ids, n, 0.0);
}

/* ---- version 8: reshaped parcels and overlaps ---- */

static size_t n_series(parus_store *s, const char *id)
{
    parus_error err;
    size_t n = 99;
    if (parus_store_parcel_series(s, id, series_keep_any, NULL, &n, &err) != PARUS_OK)
        fail_msg("series of '%s': %s", id, err.msg);
    return n;
}

static void test_put_parcels__reshaped_parcel_loses_its_old_observations(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "r.db");
    parus_parcel_set set = grid_set(4, 2, 0);
    static const char *const ids[] = {"P00000", "P00001", "P00002"};
    parus_parcel_load_stats st;
    parus_store *s;
    parus_parcel *q;
    (void)state;

    s = open_ok(path);
    load_ok(s, &set, "a.geojson", &st);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    put_tile_of(s, 2, "2024-05-11", ids, 3);
    assert_int_equal(n_series(s, "P00001"), 2);

    /* the same file again, and a new farmer with the same shape: observations kept */
    load_ok(s, &set, "a.geojson", &st);
    assert_int_equal(st.n_unchanged, 4);
    assert_int_equal(st.n_reshaped, 0);
    free(set.parcels[2].farmer_id);
    set.parcels[2].farmer_id = xdup("F-NEW");
    load_ok(s, &set, "a.geojson", &st);
    assert_int_equal(st.n_updated, 1);
    assert_int_equal(st.n_reshaped, 0);
    assert_int_equal(st.n_observations_dropped, 0);
    assert_int_equal(n_series(s, "P00002"), 2);

    /* P00001 redrawn: its two observations measured other land and go, recorded */
    q = &set.parcels[1];
    free(q->wkb);
    q->lon_max_deg += 0.0002;
    q->wkb = parus_test_rect_wkb(q->lon_min_deg, q->lat_min_deg, q->lon_max_deg, q->lat_max_deg,
                                 &q->wkb_size);
    load_ok(s, &set, "b.geojson", &st);
    assert_int_equal(st.n_updated, 1);
    assert_int_equal(st.n_reshaped, 1);
    assert_int_equal(st.n_observations_dropped, 2);
    assert_int_equal(n_series(s, "P00001"), 0);
    assert_int_equal(n_series(s, "P00000"), 2);
    assert_int_equal(n_series(s, "P00002"), 2);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcel_changes WHERE parcel_id = "
                                    "'P00001' AND what = 'geometry' AND source = 'b.geojson' "
                                    "AND n_observations_removed = 2 AND changed_at LIKE '20%Z'"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcel_changes"), 1);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* An observation describes the land under the shape it was measured over: a merge copies it
 * only where the destination holds the parcel with that shape. A source whose shape is the newer
 * brings its observations of the new shape on tiles both stores hold (the destination would never
 * measure a known tile again); a source whose shape is the older keeps its observations of that
 * parcel to itself, counted. Before, the second case attached observations of other land to the
 * parcel (a fallow field valued as maize, verify ok) and the first left it without evidence. */
static void test_merge__observations_follow_the_shape(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path[4];
    parus_parcel_set old = grid_set(3, 3, 0), reshaped = grid_set(3, 3, 0);
    static const char *const ids[] = {"P00000", "P00001", "P00002"};
    parus_store_merge_stats ms;
    parus_error err;
    parus_store *s;
    parus_parcel *q = &reshaped.parcels[1];
    int k;
    (void)state;
    for (k = 0; k < 4; k++) {
        char name[16];
        snprintf(name, sizeof name, "m%d.db", k);
        path[k] = parus_test_path(dir, name);
    }
    free(q->wkb);
    q->lon_max_deg += 0.0002;
    q->wkb = parus_test_rect_wkb(q->lon_min_deg, q->lat_min_deg, q->lon_max_deg, q->lat_max_deg,
                                 &q->wkb_size);
    /* m0 (destination, old shapes, tile 1) and m2 (source, old shapes, tiles 1 and 2) first */
    s = open_ok(path[0]);
    load_ok(s, &old, "old.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    parus_store_close(s);
    s = open_ok(path[2]);
    load_ok(s, &old, "old.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    put_tile_of(s, 2, "2024-05-11", ids, 3);
    parus_store_close(s);
    sleep(1); /* loaded_at has whole seconds */
    /* then m1 (source, P00001 reshaped, tiles 1 and 2) and m3 (destination, reshaped, tile 1) */
    s = open_ok(path[1]);
    load_ok(s, &reshaped, "new.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    put_tile_of(s, 2, "2024-05-11", ids, 3);
    parus_store_close(s);
    s = open_ok(path[3]);
    load_ok(s, &reshaped, "new.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    parus_store_close(s);

    /* the newer shape in the source: its observations on tile 1 (known) and tile 2 (new) */
    s = open_ok(path[0]);
    assert_int_equal(parus_store_merge(s, path[1], &ms, &err), PARUS_OK);
    assert_int_equal(ms.n_parcels_updated, 1);
    assert_int_equal(ms.n_tiles_new, 1);
    assert_int_equal(ms.n_observations, 4);
    assert_int_equal(ms.n_observations_other_shape, 0);
    assert_int_equal(n_series(s, "P00001"), 2);
    assert_int_equal(n_series(s, "P00000"), 2);
    parus_store_close(s);

    /* the older shape in the source: nothing of P00001 comes, and it is counted */
    s = open_ok(path[3]);
    assert_int_equal(parus_store_merge(s, path[2], &ms, &err), PARUS_OK);
    assert_int_equal(ms.n_parcels_updated, 0);
    assert_int_equal(ms.n_tiles_new, 1);
    assert_int_equal(ms.n_observations, 2);
    assert_int_equal(ms.n_observations_other_shape, 2);
    assert_int_equal(n_series(s, "P00001"), 1);
    assert_int_equal(n_series(s, "P00002"), 2);
    parus_store_close(s);

    set_free(&old);
    set_free(&reshaped);
    for (k = 0; k < 4; k++)
        free(path[k]);
    parus_test_rmtree(dir);
    free(dir);
}

/* The tile's own transaction looks for a tile of the same acquisition in other bytes: ingest
 * looks before its pass, outside any transaction, so two writers given a scene and its
 * re-encoded copy at once each found none and both were stored (3 times in 4 in a review). */
static void test_tile_begin__the_same_acquisition_is_claimed(void **state)
{
    char *dir = parus_test_tmpdir("store"), *db = parus_test_path(dir, "claim.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    static const char *const ids[] = {"P00000", "P00001", "P00002"};
    parus_tile_record twin = tile_rec(3, "2024-05-01"), other = tile_rec(4, "2024-05-02");
    parus_error err;
    parus_store *s;
    (void)state;
    s = open_ok(db);
    load_ok(s, &set, "a.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    assert_int_equal(parus_store_tile_begin(s, &twin, &err), PARUS_E_DUPLICATE);
    assert_non_null(strstr(err.msg, "is the same acquisition as tile"));
    assert_non_null(strstr(err.msg, "T50TMK_2024-05-01_1.tif"));
    /* nothing open: another date begins */
    assert_int_equal(parus_store_tile_begin(s, &other, &err), PARUS_OK);
    parus_store_tile_abort(s);
    parus_store_close(s);
    set_free(&set);
    free(db);
    parus_test_rmtree(dir);
    free(dir);
}

/* A tile of the source of an acquisition the destination holds in other bytes (the same
 * sensor, date and grid, another hash: a shard that received a re-delivered copy) is not merged,
 * nor its observations: before, both were kept and every parcel under them counted the same
 * pixels twice. Counted and named; the source's other tiles merge. */
static void test_merge__the_same_acquisition_is_not_merged_twice(void **state)
{
    char *dir = parus_test_tmpdir("store"), *dst = parus_test_path(dir, "dst.db");
    char *src = parus_test_path(dir, "src.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    static const char *const ids[] = {"P00000", "P00001", "P00002"};
    parus_store_merge_stats ms;
    parus_error err;
    parus_store *s;
    (void)state;

    s = open_ok(dst);
    load_ok(s, &set, "a.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    parus_store_close(s);
    s = open_ok(src);
    load_ok(s, &set, "a.geojson", NULL);
    put_tile_east(s, 3, "2024-05-01", ids, 3, 5.0); /* tile 1's acquisition, half a pixel east */
    put_tile_of(s, 2, "2024-05-11", ids, 3);
    {
        /* and a parcel the source retired: retired in the destination too */
        const char *gone[] = {"P00002"};
        assert_int_equal(parus_store_retire_parcels(s, gone, 1, "test", NULL, &err), PARUS_OK);
    }
    parus_store_close(s);

    s = open_ok(dst);
    assert_int_equal(parus_store_merge(s, src, &ms, &err), PARUS_OK);
    assert_int_equal(ms.n_tiles_same_acquisition, 1);
    assert_int_equal(ms.n_tiles_new, 1);
    assert_int_equal(ms.n_tiles_known, 0);
    assert_int_equal(ms.n_observations, 3);
    assert_non_null(strstr(ms.same_acquisition, "T50TMK_2024-05-01_3.tif"));
    assert_non_null(strstr(ms.same_acquisition, "tile 1 ('/inbox/T50TMK_2024-05-01_1.tif')"));
    assert_int_equal(n_series(s, "P00001"), 2);
    assert_int_equal(ms.n_parcels_retired, 1);
    assert_int_equal(file_int(dst, "SELECT count(*) FROM parcel_retirements WHERE parcel_id = "
                                   "'P00002'"),
                     1);
    /* again: nothing new, the twin still set aside */
    assert_int_equal(parus_store_merge(s, src, &ms, &err), PARUS_OK);
    assert_int_equal(ms.n_tiles_same_acquisition, 1);
    assert_int_equal(ms.n_tiles_new + ms.n_observations, 0);
    assert_int_equal(n_series(s, "P00001"), 2);
    parus_store_close(s);
    set_free(&set);
    free(dst);
    free(src);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_merge__reshaped_parcel_loses_its_old_observations(void **state)
{
    char *dir = parus_test_tmpdir("store"), *dst = parus_test_path(dir, "dst.db");
    char *src = parus_test_path(dir, "src.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    static const char *const ids[] = {"P00000", "P00001", "P00002"};
    parus_store_merge_stats ms;
    parus_error err;
    parus_store *s;
    parus_parcel *q;
    (void)state;

    s = open_ok(dst);
    load_ok(s, &set, "a.geojson", NULL);
    put_tile_of(s, 1, "2024-05-01", ids, 3);
    parus_store_close(s);
    sleep(1); /* loaded_at has whole seconds: the source's shape is the newer */
    q = &set.parcels[1];
    free(q->wkb);
    q->lon_max_deg += 0.0002;
    q->wkb = parus_test_rect_wkb(q->lon_min_deg, q->lat_min_deg, q->lon_max_deg, q->lat_max_deg,
                                 &q->wkb_size);
    s = open_ok(src);
    load_ok(s, &set, "b.geojson", NULL);
    parus_store_close(s);

    s = open_ok(dst);
    assert_int_equal(parus_store_merge(s, src, &ms, &err), PARUS_OK);
    assert_int_equal(ms.n_parcels_updated, 1);
    assert_int_equal(ms.n_parcels_new, 0);
    assert_int_equal(n_series(s, "P00001"), 0);
    assert_int_equal(n_series(s, "P00000"), 1);
    parus_store_close(s);
    assert_int_equal(file_int(dst, "SELECT count(*) FROM parcel_changes WHERE parcel_id = "
                                   "'P00001' AND source = 'merge' AND n_observations_removed = 1"),
                     1);

    set_free(&set);
    parus_test_rmtree(dir);
    free(src);
    free(dst);
    free(dir);
}

static void geodesic_parcel(parus_parcel *p, const char *id, const char *farmer, double x0,
                            double y0, double x1, double y1)
{
    parus_error err;
    make_parcel(p, id, farmer, x0, y0, x1, y1, NAN);
    assert_int_equal(parus_wkb_geodesic_area_m2(p->wkb, p->wkb_size, &p->area_m2, &err), PARUS_OK);
}

typedef struct overlap_log {
    size_t n;
    char a[8][16], b[8][16], fa[8][16], fb[8][16];
    double m2[8], share_a[8], share_b[8];
} overlap_log;

static int log_overlap(const parus_overlap *o, void *ctx)
{
    overlap_log *l = ctx;
    if (l->n < 8) {
        snprintf(l->a[l->n], 16, "%s", o->parcel_a);
        snprintf(l->b[l->n], 16, "%s", o->parcel_b);
        snprintf(l->fa[l->n], 16, "%s", o->farmer_a ? o->farmer_a : "-");
        snprintf(l->fb[l->n], 16, "%s", o->farmer_b ? o->farmer_b : "-");
        l->m2[l->n] = o->overlap_m2;
        l->share_a[l->n] = o->share_a;
        l->share_b[l->n] = o->share_b;
    }
    l->n++;
    return 0;
}

static void test_find_overlaps__same_land_found_touching_and_slivers_not(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "o.db");
    parus_parcel_set set;
    parus_parcel_load_stats st;
    overlap_log log;
    parus_error err;
    parus_store *s;
    size_t n = 99;
    (void)state;

    memset(&set, 0, sizeof set);
    set.parcels = calloc(7, sizeof *set.parcels);
    assert_non_null(set.parcels);
    set.n_parcels = 7;
    /* the same land under two ids and two farmers */
    geodesic_parcel(&set.parcels[0], "A", "F1", 114.500, 36.500, 114.501, 36.501);
    geodesic_parcel(&set.parcels[1], "B", "F2", 114.500, 36.500, 114.501, 36.501);
    /* C shares A's east edge; D shares C's north-east corner */
    geodesic_parcel(&set.parcels[2], "C", "F3", 114.501, 36.500, 114.502, 36.501);
    geodesic_parcel(&set.parcels[3], "D", "F4", 114.502, 36.501, 114.503, 36.502);
    /* E overlaps D by a sliver of 2 % of its width */
    geodesic_parcel(&set.parcels[4], "E", "F5", 114.50298, 36.501, 114.50398, 36.502);
    /* G lies over 30 % of H */
    geodesic_parcel(&set.parcels[5], "H", "F6", 114.600, 36.500, 114.601, 36.501);
    geodesic_parcel(&set.parcels[6], "G", NULL, 114.6007, 36.500, 114.6017, 36.501);

    s = open_ok(path);
    load_ok(s, &set, "o.geojson", &st);
    assert_int_equal(parus_store_find_overlaps(s, 0.05, &n, &err), PARUS_OK);
    assert_int_equal(n, 2);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_overlaps_foreach(s, NULL, log_overlap, &log, NULL, &err),
                     PARUS_OK);
    assert_int_equal(log.n, 2);
    assert_string_equal(log.a[0], "A");
    assert_string_equal(log.b[0], "B");
    assert_string_equal(log.fa[0], "F1");
    assert_string_equal(log.fb[0], "F2");
    assert_close(log.m2[0], set.parcels[0].area_m2, 0.0, 1e-6);
    assert_close(log.share_a[0], 1.0, 0.0, 1e-6);
    assert_close(log.share_b[0], 1.0, 0.0, 1e-6);
    /* registered first is H (loaded before G) */
    assert_string_equal(log.a[1], "H");
    assert_string_equal(log.b[1], "G");
    assert_string_equal(log.fb[1], "-");
    assert_close(log.share_a[1], 0.3, 0.0, 1e-3);
    assert_close(log.share_b[1], 0.3, 0.0, 1e-3);

    /* one parcel's overlaps; a higher share leaves H and G out; the table is replaced */
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_overlaps_foreach(s, "B", log_overlap, &log, NULL, &err), PARUS_OK);
    assert_int_equal(log.n, 1);
    assert_int_equal(parus_store_find_overlaps(s, 0.5, &n, &err), PARUS_OK);
    assert_int_equal(n, 1);
    /* a sliver counts when the share asked for is below it */
    assert_int_equal(parus_store_find_overlaps(s, 0.01, &n, &err), PARUS_OK);
    assert_int_equal(n, 3);
    assert_int_equal(parus_store_find_overlaps(s, 0.0, &n, &err), PARUS_E_INVALID);
    /* a retired parcel claims no land: B retired (the duplicate registration corrected), A is
     * no longer held or halved for it; before, its partner stayed held for ever */
    {
        const char *gone[] = {"B"};
        assert_int_equal(parus_store_retire_parcels(s, gone, 1, "test", NULL, &err), PARUS_OK);
        assert_int_equal(parus_store_find_overlaps(s, 0.05, &n, &err), PARUS_OK);
        assert_int_equal(n, 1);
        assert_int_equal(parus_store_find_overlaps(s, 0.01, &n, &err), PARUS_OK);
    }
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcel_overlaps"), 2);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_season_walk__every_parcel_in_order_with_window(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "walk.db");
    parus_parcel_set set = grid_set(5, 5, 0);
    const char *late[2] = {"P00003", "P00001"}, *both[2] = {"P00001", "P00000"};
    const char *one[1] = {"P00001"};
    const char *decl_ids[2] = {"P00003", "P00000"}, *decl[2] = {"cotton", "soybean"};
    struct walk_log log;
    parus_error err;
    parus_store *s;
    size_t n = 99;
    (void)state;

    s = open_ok(path);
    /* parcels loaded in reverse id order: the walk's order is the ids', not the rows' */
    {
        parus_parcel_set rev = set;
        size_t i;
        rev.parcels = malloc(set.n_parcels * sizeof *rev.parcels);
        assert_non_null(rev.parcels);
        for (i = 0; i < set.n_parcels; i++)
            rev.parcels[i] = set.parcels[set.n_parcels - 1 - i];
        load_ok(s, &rev, "p.geojson", NULL);
        free(rev.parcels);
    }
    /* tiles stored out of date order; two share a date; the window's edges are in */
    put_tile_of(s, 1, "2024-06-30", late, 2);             /* tile 1, last day */
    put_tile_of(s, 2, "2024-02-29", both, 2);             /* tile 2, the day before */
    put_tile_of(s, 3, "2024-03-01", both, 2);             /* tile 3, first day */
    put_tile_of(s, 4, "2024-04-15", one, 1);              /* tile 4 */
    put_tile_east(s, 5, "2024-04-15", both, 2, 109800.0); /* tile 5, same date, the next tile */
    put_tile_of(s, 6, "2024-07-01", late, 2);             /* tile 6, the day after */
    assert_int_equal(parus_store_put_parcel_crops(s, SEASON, decl_ids, decl, 2, NULL, &err),
                     PARUS_OK);
    assert_int_equal(parus_store_put_parcel_crops(s, "2023-03-01/2023-06-30", decl_ids + 1,
                                                  decl + 1, 1, NULL, &err),
                     PARUS_OK);

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 5);
    assert_string_equal(log.text,
                        "P00000[F0000,soybean,6400,nan]:2024-03-01/3=0.23,2024-04-15/5=0.25;"
                        "P00001[F0000,-,6400,d]:2024-03-01/3=0.13,2024-04-15/4=0.14,"
                        "2024-04-15/5=0.15,2024-06-30/1=0.21;"
                        "P00002[F0000,-,6400,d]:;"
                        "P00003[F0000,cotton,6400,d]:2024-06-30/1=0.11;"
                        "P00004[F0001,-,6400,d]:");
    /* the same walk with no part of the file mapped (PARUS_STORE_MMAP_MB=0) or a little;
     * a value that is not a whole number of MiB is refused, naming it, before anything is read */
    {
        const char *sizes[2] = {"0", "1"};
        char first[sizeof log.text];
        memcpy(first, log.text, sizeof first);
        for (size_t k = 0; k < 2; k++) {
            setenv("PARUS_STORE_MMAP_MB", sizes[k], 1);
            memset(&log, 0, sizeof log);
            assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err),
                             PARUS_OK);
            assert_string_equal(log.text, first);
        }
        setenv("PARUS_STORE_MMAP_MB", "12MB", 1);
        memset(&log, 0, sizeof log);
        assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err),
                         PARUS_E_CONFIG);
        assert_msg_has(err, "PARUS_STORE_MMAP_MB='12MB'");
        assert_int_equal(log.n_calls, 0);
        setenv("PARUS_STORE_MMAP_MB", "-1", 1);
        assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err),
                         PARUS_E_CONFIG);
        unsetenv("PARUS_STORE_MMAP_MB");
    }
    /* a one-day season; a season with no tile at all */
    memset(&log, 0, sizeof log);
    assert_int_equal(
        parus_store_season_walk(s, "2024-02-29/2024-02-29", log_parcel, &log, &n, &err), PARUS_OK);
    assert_string_equal(log.text, "P00000[F0000,-,6400,nan]:2024-02-29/2=0.22;"
                                  "P00001[F0000,-,6400,d]:2024-02-29/2=0.12;"
                                  "P00002[F0000,-,6400,d]:;P00003[F0000,-,6400,d]:;"
                                  "P00004[F0001,-,6400,d]:");
    memset(&log, 0, sizeof log);
    assert_int_equal(
        parus_store_season_walk(s, "2030-01-01/2030-12-31", log_parcel, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 5);
    assert_int_equal(log.n_calls, 5);

    /* a stop from the callback, then a walk that starts over */
    memset(&log, 0, sizeof log);
    log.stop_at = 2;
    n = 77;
    assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err),
                     PARUS_E_INTERNAL);
    assert_msg_has(err, "stopped at 'P00001'");
    assert_int_equal(n, 77);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 5);
    assert_int_equal(parus_store_season_walk(s, "2024-03-01", log_parcel, &log, &n, &err),
                     PARUS_E_INVALID);

    /* the classifier's loop: assessments written from inside the walk, one transaction */
    memset(&log, 0, sizeof log);
    log.store = s;
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    assert_int_equal(parus_store_season_walk(s, SEASON, log_parcel, &log, &n, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_OK);
    assert_int_equal(counts_ok(s).n_assessments, 5);
    assert_int_equal(
        file_int(path, "SELECT count(*) FROM assessments WHERE method = 'none' AND crop IS NULL"),
        2);
    parus_store_close(s);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

struct sample_log {
    char text[2048];
};

static int log_sample(const parus_sample *smp, void *ctx)
{
    struct sample_log *l = ctx;
    size_t n = strlen(l->text), i;
    n += (size_t)snprintf(l->text + n, sizeof l->text - n, "%s%s[%s,%s,%s,%s]:", n ? ";" : "",
                          smp->id, smp->label ? smp->label : "-", smp->group ? smp->group : "-",
                          smp->start_date, smp->end_date);
    for (i = 0; i < smp->n_points; i++) {
        const parus_sample_point *p = &smp->points[i];
        n += (size_t)snprintf(l->text + n, sizeof l->text - n, "%s%s %s=", i ? "," : "", p->date,
                              p->var);
        n += (size_t)(isnan(p->value) ? snprintf(l->text + n, sizeof l->text - n, "NA")
                                      : snprintf(l->text + n, sizeof l->text - n, "%g", p->value));
    }
    return 0;
}

static void test_samples__put_walk_and_replace(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "smp.db");
    parus_sample_point a_pts[4] = {{"2024-05-01", "red", 0.1},
                                   {"2024-05-01", "ndvi", 0.5},
                                   {"2024-04-15", "ndvi", NAN},
                                   {"2024-04-15", "red", 0.2}};
    parus_sample_point b_pts[1] = {{"2024-01-02", "ndvi", 0.25}};
    parus_sample_point dup_pts[2] = {{"2024-01-02", "ndvi", 0.25}, {"2024-01-02", "ndvi", 0.3}};
    parus_sample smp[3], bad;
    struct sample_log log;
    size_t n_new = 9, n_replaced = 9;
    parus_store_counts c;
    parus_error err;
    parus_store *s;
    (void)state;

    memset(smp, 0, sizeof smp);
    smp[2].id = "s08"; /* a sample with no point */
    smp[2].label = "Fallow";
    smp[0].id = "s10";
    smp[0].label = "Soy_Corn";
    smp[0].group = "3";
    snprintf(smp[0].start_date, sizeof smp[0].start_date, "2024-04-01");
    smp[0].points = a_pts;
    smp[0].n_points = 4;
    smp[1].id = "s09";
    smp[1].points = b_pts;
    smp[1].n_points = 1;

    s = open_ok(path);
    assert_int_equal(parus_store_put_samples(s, smp, 3, "x.csv", &n_new, &n_replaced, &err),
                     PARUS_OK);
    assert_int_equal(n_new, 3);
    assert_int_equal(n_replaced, 0);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_samples_walk(s, log_sample, &log, &err), PARUS_OK);
    assert_string_equal(log.text, "s08[Fallow,-,,]:;s09[-,-,,]:2024-01-02 ndvi=0.25;"
                                  "s10[Soy_Corn,3,2024-04-01,]:2024-04-15 ndvi=NA,2024-04-15 "
                                  "red=0.2,2024-05-01 ndvi=0.5,2024-05-01 red=0.1");

    /* the same id again replaces the sample and all its points */
    smp[0].label = "Cotton";
    smp[0].n_points = 1;
    assert_int_equal(parus_store_put_samples(s, smp, 1, "y.csv", &n_new, &n_replaced, &err),
                     PARUS_OK);
    assert_int_equal(n_new, 0);
    assert_int_equal(n_replaced, 1);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_samples_walk(s, log_sample, &log, &err), PARUS_OK);
    assert_string_equal(log.text, "s08[Fallow,-,,]:;s09[-,-,,]:2024-01-02 ndvi=0.25;"
                                  "s10[Cotton,3,2024-04-01,]:2024-05-01 red=0.1");
    c = counts_ok(s);
    assert_int_equal(c.n_samples, 3);
    assert_int_equal(c.n_sample_points, 2);

    /* bad input stores nothing, not even the good samples before it */
    smp[0].n_points = 4;
    bad = smp[1];
    bad.id = "s11";
    bad.points = dup_pts;
    bad.n_points = 2;
    {
        parus_sample three[3] = {smp[0], smp[1], bad};
        assert_int_equal(parus_store_put_samples(s, three, 3, "z.csv", &n_new, &n_replaced, &err),
                         PARUS_E_DUPLICATE);
        assert_msg_has(err, "sample 's11' has 'ndvi' on 2024-01-02 twice");
        three[2] = smp[0];
        assert_int_equal(parus_store_put_samples(s, three, 3, "z.csv", NULL, NULL, &err),
                         PARUS_E_DUPLICATE);
        assert_msg_has(err, "sample 's10' is given twice");
        bad.points = b_pts;
        bad.n_points = 1;
        snprintf(b_pts[0].date, sizeof b_pts[0].date, "2024-13-01");
        three[2] = bad;
        assert_int_equal(parus_store_put_samples(s, three, 3, "z.csv", NULL, NULL, &err),
                         PARUS_E_INVALID);
    }
    c = counts_ok(s);
    assert_int_equal(c.n_samples, 3);
    assert_int_equal(c.n_sample_points, 2);
    assert_int_equal(file_int(path, "SELECT count(*) FROM samples WHERE source = 'z.csv'"), 0);
    parus_store_close(s);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

struct assess_log {
    char text[2048];
};

static int log_assessment(const parus_assessment *a, void *ctx)
{
    struct assess_log *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n,
             "%s%s %s %s/%s %s p=%.2f m=%.2f %s %s agrees=%d "
             "n=%zu %s..%s %s %s",
             n ? ";" : "", a->parcel_id, a->season, parus_assess_method_name(a->method),
             parus_assess_confidence_name(a->confidence), a->crop ? a->crop : "-", a->probability,
             a->margin, a->crop2 ? a->crop2 : "-", a->model_version ? a->model_version : "-",
             a->agrees, a->n_clear_obs, a->first_date ? a->first_date : "-",
             a->last_date ? a->last_date : "-", a->reason ? a->reason : "-",
             a->assessed_at && strlen(a->assessed_at) == 20 ? "at" : "no-time");
    return 0;
}

static parus_assessment assessment(const char *id, parus_assess_method m, const char *crop)
{
    parus_assessment a;
    memset(&a, 0, sizeof a);
    a.parcel_id = id;
    a.method = m;
    a.crop = crop;
    a.confidence = m == PARUS_ASSESS_MODEL      ? PARUS_CONFIDENCE_NORMAL
                   : m == PARUS_ASSESS_CALENDAR ? PARUS_CONFIDENCE_LOW
                                                : PARUS_CONFIDENCE_NONE;
    a.probability = a.margin = NAN;
    a.agrees = -1;
    return a;
}

static void test_assessments__put_replace_read_and_refuse(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "as.db");
    parus_parcel_set set = grid_set(4, 4, 0);
    parus_assessment m = assessment("P00002", PARUS_ASSESS_MODEL, "winter_wheat");
    parus_assessment cal = assessment("P00000", PARUS_ASSESS_CALENDAR, "cotton");
    parus_assessment none = assessment("P00001", PARUS_ASSESS_NONE, NULL);
    parus_assessment bad;
    struct assess_log log;
    parus_tile_record rec = tile_rec(1, "2024-04-01");
    parus_error err;
    parus_store *s;
    (void)state;

    m.probability = 0.91;
    m.margin = 0.85;
    m.crop2 = "summer_maize";
    m.model_version = "xgb-1";
    m.declared_crop = "winter_wheat";
    m.agrees = 1;
    m.run_id = 0;
    m.n_clear_obs = 12;
    m.first_date = "2024-03-04";
    m.last_date = "2024-06-22";
    none.reason = "no clear observation in the season";

    s = open_ok(path);
    load_ok(s, &set, "p.geojson", NULL);
    assert_int_equal(parus_store_assessments_put(s, &m, &err), PARUS_E_INVALID); /* not open */
    assert_int_equal(parus_store_assessments_begin(s, "2024-03-01", &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_assessments_put(s, &m, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_put(s, &cal, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_put(s, &none, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_E_INVALID);

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_assessments_foreach(s, SEASON, log_assessment, &log, &err),
                     PARUS_OK);
    assert_string_equal(log.text,
                        "P00000 " SEASON " calendar/low cotton p=nan m=nan - - agrees=-1 n=0 "
                        "-..- - at;"
                        "P00001 " SEASON " none/none - p=nan m=nan - - agrees=-1 n=0 -..- no "
                        "clear observation in the season at;"
                        "P00002 " SEASON " model/normal winter_wheat p=0.91 m=0.85 summer_maize "
                        "xgb-1 agrees=1 n=12 2024-03-04..2024-06-22 - at");
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_get_assessment(s, SEASON, "P00002", log_assessment, &log, &err),
                     PARUS_OK);
    assert_string_equal(log.text, "P00002 " SEASON " model/normal winter_wheat p=0.91 m=0.85 "
                                  "summer_maize xgb-1 agrees=1 n=12 2024-03-04..2024-06-22 - at");
    assert_int_equal(parus_store_get_assessment(s, SEASON, "P00003", log_assessment, &log, &err),
                     PARUS_E_NOT_FOUND);
    assert_int_equal(parus_store_get_assessment(s, "2023-03-01/2023-06-30", "P00002",
                                                log_assessment, &log, &err),
                     PARUS_E_NOT_FOUND);

    /* a second run replaces the rows it puts, keeps the others */
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    none = assessment("P00001", PARUS_ASSESS_MODEL, "soybean");
    none.season = SEASON;
    none.probability = 0.6;
    assert_int_equal(parus_store_assessments_put(s, &none, &err), PARUS_OK);
    assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_OK);
    assert_int_equal(counts_ok(s).n_assessments, 3);
    assert_int_equal(file_int(path,
                              "SELECT count(*) FROM assessments WHERE parcel_id = 'P00001' AND "
                              "method = 'model' AND crop = 'soybean' AND reason IS NULL"),
                     1);

    /* abort, and an error in put, roll back the whole begin */
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    bad = assessment("P00003", PARUS_ASSESS_MODEL, "cotton");
    assert_int_equal(parus_store_assessments_put(s, &bad, &err), PARUS_OK);
    parus_store_assessments_abort(s);
    assert_int_equal(counts_ok(s).n_assessments, 3);
    {
        static const struct {
            const char *why;
            int field;
        } cases[] = {{"carries a crop", 0}, {"without a reason", 1}, {"without a crop", 2},
                     {"other than low", 3}, {"outside [0, 1]", 4},   {"another season", 5},
                     {"not YYYY-MM-DD", 6}, {"agrees other than", 7}};
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            parus_assessment ok = assessment("P00003", PARUS_ASSESS_MODEL, "cotton");
            assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
            assert_int_equal(parus_store_assessments_put(s, &ok, &err), PARUS_OK);
            bad = assessment("P00000", PARUS_ASSESS_MODEL, "cotton");
            switch (cases[i].field) {
            case 0:
                bad = assessment("P00000", PARUS_ASSESS_NONE, "cotton");
                bad.reason = "x";
                break;
            case 1:
                bad = assessment("P00000", PARUS_ASSESS_NONE, NULL);
                break;
            case 2:
                bad.crop = NULL;
                break;
            case 3:
                bad = assessment("P00000", PARUS_ASSESS_CALENDAR, "cotton");
                bad.confidence = PARUS_CONFIDENCE_NORMAL;
                break;
            case 4:
                bad.probability = 1.5;
                break;
            case 5:
                bad.season = "2024-03-01/2024-06-29";
                break;
            case 6:
                bad.first_date = "2024-3-4";
                break;
            default:
                bad.agrees = 2;
                break;
            }
            assert_int_equal(parus_store_assessments_put(s, &bad, &err), PARUS_E_INVALID);
            assert_msg_has(err, cases[i].why);
            /* the begin is gone: nothing of it stays, and put needs a new begin */
            assert_int_equal(parus_store_assessments_put(s, &ok, &err), PARUS_E_INVALID);
            assert_int_equal(counts_ok(s).n_assessments, 3);
        }
    }
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    bad = assessment("P404", PARUS_ASSESS_MODEL, "cotton");
    assert_int_equal(parus_store_assessments_put(s, &bad, &err), PARUS_E_NOT_FOUND);
    assert_msg_has(err, "parcel 'P404' is not in");
    /* closing the store with a season open rolls it back */
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_OK);
    bad = assessment("P00003", PARUS_ASSESS_MODEL, "cotton");
    assert_int_equal(parus_store_assessments_put(s, &bad, &err), PARUS_OK);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM assessments"), 3);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 5: a season's results, flags, peer curves and limits ---- */

/* What steps 6 to 17 add, taken away again (SQLite 3.35 and later drop columns). */
#define DROP_OBS_COLUMN(name, offset) "ALTER TABLE observations DROP COLUMN " #name ";"
/* Step 19 undone: the observations back in their REAL columns, unpacked (parus_obs_value) */
#define V18_REAL_COLUMN(name, offset) ", " #name " REAL"
#define V18_NAME(name, offset) ", " #name
#define V18_UNPACK(name, offset) ", parus_obs_value(vals, '" #name "')"
/* back to 19 (no parcel_retirements), then to 18 (observations a table) */
#define DROP_V18                                                                                   \
    "DROP TABLE parcel_retirements;"                                                               \
    "DROP VIEW observations; CREATE TABLE observations ("                                          \
    " tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,"                            \
    " parcel_num INTEGER NOT NULL REFERENCES parcels(num) ON DELETE CASCADE,"                      \
    " w_total_px REAL NOT NULL, w_valid_px REAL NOT NULL, valid_fraction REAL, ndvi_mean "         \
    "REAL" PARUS__OBS_PACKED(                                                                      \
        V18_REAL_COLUMN) ", n_pixels INTEGER, n_pure INTEGER,"                                     \
                         " PRIMARY KEY (parcel_num, tile_id));"                                    \
                         "CREATE INDEX observations_tile ON observations(tile_id);"
#define DROP_V18_FILL                                                                              \
    "INSERT INTO observations (tile_id, parcel_num, w_total_px, w_valid_px, valid_fraction,"       \
    " ndvi_mean" PARUS__OBS_PACKED(                                                                \
        V18_NAME) ", n_pixels, n_pure) SELECT tile_id, parcel_num,"                                \
                  " w_total_mpx / 1000.0, w_valid_mpx / 1000.0, valid_fraction_e4 / 10000.0,"      \
                  " ndvi_mean_e4 / 10000.0" PARUS__OBS_PACKED(                                     \
                      V18_UNPACK) ", n_pixels, n_pure"                                             \
                                  " FROM observation_values; DROP TABLE observation_values;"
/* (run on its own before any of the ones below, which it would make too long a literal) */
#define DROP_V17                                                                                   \
    "DROP TRIGGER parcels_insert_season_stale; DROP TRIGGER parcels_update_season_stale;"          \
    "DROP TRIGGER parcels_delete_season_stale; DROP TRIGGER parcel_crops_insert_season_stale;"     \
    "DROP TRIGGER parcel_crops_update_season_stale; DROP TRIGGER "                                 \
    "parcel_crops_delete_season_stale;"
#define DROP_V16                                                                                   \
    DROP_V17                                                                                       \
    "ALTER TABLE parcel_results DROP COLUMN weather_rain_mm;"                                      \
    "ALTER TABLE parcel_results DROP COLUMN weather_rain_normal_mm;"                               \
    "ALTER TABLE parcel_results DROP COLUMN weather_rain_deficit;"                                 \
    "ALTER TABLE parcel_results DROP COLUMN weather_heat_days;"
#define DROP_V15                                                                                   \
    DROP_V16                                                                                       \
    "DROP TABLE weather_weights; DROP TABLE weather_parcel_grids; DROP TABLE weather_values; "     \
    "DROP TABLE weather_files; DROP TABLE weather_cells; DROP TABLE weather_grids;"
#define DROP_V14                                                                                   \
    DROP_V15                                                                                       \
    "ALTER TABLE parcel_results DROP COLUMN sensors; ALTER TABLE limits DROP COLUMN sensors;"
#define DROP_V13 DROP_V14 "DROP TABLE radar_observations; DROP TABLE radar_tiles;"
#define DROP_V12 DROP_V13 "DROP TABLE observation_outliers;"
#define DROP_V11 DROP_V12 "DROP TABLE parcel_changes; DROP TABLE parcel_overlaps;"
#define DROP_V10_COLUMNS                                                                           \
    DROP_V11 "ALTER TABLE parcel_results DROP COLUMN planted_area_lo_m2;"                          \
             "ALTER TABLE parcel_results DROP COLUMN planted_area_hi_m2;"
#define DROP_V9_SEASON_STATE                                                                       \
    DROP_V10_COLUMNS                                                                               \
    "DROP TRIGGER tiles_insert_season_stale; DROP TRIGGER tiles_delete_season_stale;"              \
    "DROP TABLE season_state;"
#define DROP_V8 DROP_V9_SEASON_STATE "DROP TABLE assessment_inputs;"
#define DROP_V7_COLUMNS DROP_V8 PARUS__OBS_COLUMNS_V7(DROP_OBS_COLUMN)
#define DROP_V6_COLUMNS DROP_V7_COLUMNS PARUS__OBS_COLUMNS_V6(DROP_OBS_COLUMN)

/* A version-4 store: this build's store with the version-5 tables taken out again (version 5
 * only adds tables), one assessment in it. */
static void write_v4_store(const char *path, const char *extra_sql)
{
    parus_parcel_set set = grid_set(4, 4, 0);
    parus_store *s = open_ok(path);
    sqlite3 *db;
    load_ok(s, &set, "p.geojson", NULL);
    parus_store_close(s);
    set_free(&set);
    db = raw_open(path);
    raw_exec(db, DROP_V18);
    raw_exec(db, DROP_V18_FILL);
    raw_exec(db, DROP_V6_COLUMNS);
    raw_exec(db, "BEGIN;"
                 "DROP TABLE parcel_results; DROP TABLE parcel_flags; DROP TABLE peer_curves;"
                 "DROP TABLE limits;"
                 "INSERT INTO assessments (season, parcel_id, method, crop, confidence) VALUES "
                 "('" SEASON "', 'P00001', 'calendar', 'cotton', 'low');"
                 "PRAGMA user_version = 4;"
                 "COMMIT;");
    if (extra_sql)
        raw_exec(db, extra_sql);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_open__v4_store_is_migrated_to_v5(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v4.db");
    parus_store_counts c;
    parus_store *s;
    parus_error err;
    (void)state;

    write_v4_store(path, NULL);
    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_schema_version(s), 4);
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_E_SCHEMA);
    assert_msg_has(err, "has schema version 4, older than this parus (21)");
    parus_store_close(s);
    assert_int_equal(file_int(path, "PRAGMA user_version"), 4);

    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    c = counts_ok(s);
    assert_int_equal(c.n_parcels, 4);
    assert_int_equal(c.n_assessments, 1);
    assert_int_equal(c.n_parcel_results + c.n_parcel_flags + c.n_peer_curves + c.n_limits, 0);
    /* the new tables take writes */
    {
        parus_limit l;
        memset(&l, 0, sizeof l);
        l.farmer_id = "F0000";
        l.currency = "CNY";
        l.health = "unknown";
        l.confidence = "none";
        l.reasons = "NO_PARCEL_OBSERVED";
        l.planted_area_m2 = l.declared_area_m2 = NAN;
        assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_limit(s, &l, &err), PARUS_OK);
        assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    }
    assert_int_equal(counts_ok(s).n_limits, 1);
    assert_int_equal(counts_ok(s).n_assessments, 1); /* kept: not put again */
    parus_store_close(s);

    assert_int_equal(file_int(path, "PRAGMA user_version"), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('parcel_results', 'parcel_flags', 'peer_curves', 'limits')"),
                     4);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_v5_step_leaves_v4(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v4-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a table in the way of step 5, after parcel_results, parcel_flags and peer_curves */
    write_v4_store(path, "CREATE TABLE limits (x);");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 4 to 5");
    assert_msg_has(err, "already exists");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 4);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('parcel_results', 'parcel_flags', 'peer_curves')"),
                     0);
    assert_int_equal(file_int(path, "SELECT count(*) FROM assessments"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 6: the own (unmixed) values of an observation ---- */

/* A store of an older version: today's schema with drop_sql's columns taken out again and
 * user_version set, one parcel (P00000) and one observation with own NDVI own_ndvi (NaN: none). */
static void write_old_obs_store(const char *path, int version, const char *drop_sql,
                                double own_ndvi, const char *extra_sql)
{
    parus_parcel_set set = grid_set(2, 2, 0);
    parus_tile_record rec = tile_rec(7, "2024-07-01");
    parus_observation o = make_obs(4.0, 0.55);
    const parus_observation *obs[1] = {&o};
    const char *ids[1] = {"P00000"};
    parus_store *s = open_ok(path);
    parus_error err;
    char pragma[64];
    sqlite3 *db;
    o.own_mean[PARUS_INDEX_NDVI] = own_ndvi;
    load_ok(s, &set, "p.geojson", NULL);
    snprintf(rec.status, sizeof rec.status, "ingested");
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 1, &err), PARUS_OK);
    parus_store_close(s);
    set_free(&set);
    db = raw_open(path);
    raw_exec(db, DROP_V18);
    raw_exec(db, DROP_V18_FILL);
    raw_exec(db, drop_sql);
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    raw_exec(db, pragma);
    if (extra_sql)
        raw_exec(db, extra_sql);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A version 5 store: no own columns. */
static void write_v5_store(const char *path, const char *extra_sql)
{
    write_old_obs_store(path, 5, DROP_V6_COLUMNS, NAN, extra_sql);
}

static int keep_first_point(const parus_series_point *pt, void *ctx)
{
    *(parus_observation *)ctx = pt->obs;
    return 0;
}

static void test_open__v5_store_is_migrated_to_v7(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v5.db");
    parus_observation got;
    parus_store *s;
    parus_error err;
    (void)state;

    write_v5_store(path, NULL);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('observations') "
                                    "WHERE name LIKE 'own%'"),
                     0);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(counts_ok(s).n_observations, 1);
    /* the mixed values are read as stored, the own ones as not measured */
    memset(&got, 0, sizeof got);
    assert_int_equal(parus_store_parcel_series(s, "P00000", keep_first_point, &got, NULL, &err),
                     PARUS_OK);
    assert_close(got.mean[PARUS_INDEX_NDVI], 0.55, 0, 0);
    assert_true(isnan(got.own_mean[PARUS_INDEX_NDVI]));
    assert_true(isnan(got.own_band_mean[PARUS_ROLE_NIR]));
    assert_true(isnan(got.own_unmixed_share));
    assert_true(isnan(got.own_veg_fraction));
    parus_store_close(s);
    assert_int_equal(file_int(path, "PRAGMA user_version"), PARUS_STORE_SCHEMA_VERSION);
    /* schema 19 packs the own values (17 of them), absent here */
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') IS NULL AND "
                                    "parus_obs_value(vals, 'own_veg_fraction') IS NULL AND "
                                    "ndvi_mean = 0.55"),
                     1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_v6_step_leaves_v5(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v5-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a column in the way of step 6, after the first ones it adds */
    write_v5_store(path, "ALTER TABLE observations ADD COLUMN own_nir_mean REAL;");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 5 to 6");
    assert_msg_has(err, "duplicate column name: own_nir_mean");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 5);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('observations') "
                                    "WHERE name LIKE 'own%'"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 7: the own vegetated fraction ---- */

/* A version 6 store: own values but no own vegetated fraction. */
static void write_v6_store(const char *path, const char *extra_sql)
{
    write_old_obs_store(path, 6, DROP_V7_COLUMNS, 0.66, extra_sql);
}

static void test_open__v6_store_is_migrated_to_v7(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v6.db");
    parus_observation got;
    parus_store *s;
    parus_error err;
    (void)state;

    write_v6_store(path, NULL);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    memset(&got, 0, sizeof got);
    assert_int_equal(parus_store_parcel_series(s, "P00000", keep_first_point, &got, NULL, &err),
                     PARUS_OK);
    assert_close(got.own_mean[PARUS_INDEX_NDVI], 0.66, 0, 0); /* what version 6 stored */
    assert_true(isnan(got.own_veg_fraction));                 /* not measured then */
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_veg_fraction') IS NULL AND "
                                    "parus_obs_value(vals, 'own_ndvi') = 0.66"),
                     1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 10: the planted area's interval ---- */

static void test_open__v9_store_is_migrated_to_v10(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v9.db");
    parus_store *s;
    (void)state;

    write_old_obs_store(path, 9, DROP_V10_COLUMNS, 0.66, NULL);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('parcel_results') "
                                    "WHERE name IN ('planted_area_lo_m2', 'planted_area_hi_m2')"),
                     0);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('parcel_results') "
                                    "WHERE name IN ('planted_area_lo_m2', 'planted_area_hi_m2')"),
                     2);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') = 0.66"),
                     1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__v12_store_is_migrated_to_v13(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v12.db");
    parus_store *s;
    (void)state;

    write_old_obs_store(path, 12, DROP_V13, 0.66, NULL);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('radar_tiles', 'radar_observations')"),
                     0);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('radar_tiles', 'radar_observations')"),
                     2);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') = 0.66"),
                     1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__v13_store_is_migrated_to_v14(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v13.db");
    parus_store *s;
    (void)state;

    write_old_obs_store(path, 13, DROP_V14, 0.66, NULL);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('parcel_results') "
                                    "WHERE name = 'sensors'"),
                     0);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('parcel_results') "
                                    "WHERE name = 'sensors'"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') = 0.66"),
                     1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__v14_store_is_migrated_to_v18(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v14.db");
    parus_store *s;
    (void)state;

    write_old_obs_store(path, 14, DROP_V15, 0.66, NULL);
    assert_int_equal(
        file_int(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'weather%'"), 0);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name LIKE 'weather%'"),
                     6);
    /* schema 16: the results' weather columns */
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_table_info('parcel_results') "
                                    "WHERE name LIKE 'weather_%'"),
                     4);
    /* schema 17: weather files owe seasons their assessment */
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                                    "name LIKE 'weather_files_%_season_stale'"),
                     2);
    /* schema 18: parcels and declared crops owe seasons their assessment */
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                                    "(name LIKE 'parcels_%_season_stale' OR "
                                    "name LIKE 'parcel_crops_%_season_stale')"),
                     6);
    /* everything before is kept */
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE "
                                    "parus_obs_value(vals, 'own_ndvi') = 0.66"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcels"), 2);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 19: the observations in their compact form ---- */

/* Every packed value of o set to a distinct value k (the k-th packed value: see store_obs.c). */
static void set_packed(parus_observation *o, size_t k, double v)
{
#define SET_PACKED(name, offset) offsets[n++] = offset;
    size_t offsets[PARUS__OBS_PACKED_N], n = 0;
    PARUS__OBS_PACKED(SET_PACKED)
#undef SET_PACKED
    assert_true(k < n);
    memcpy((char *)o + offsets[k], &v, sizeof v);
}

static double get_packed(const parus_observation *o, size_t k)
{
#define GET_PACKED(name, offset) offsets[n++] = offset;
    size_t offsets[PARUS__OBS_PACKED_N], n = 0;
    double v;
    PARUS__OBS_PACKED(GET_PACKED)
#undef GET_PACKED
    assert_true(k < n);
    memcpy(&v, (const char *)o + offsets[k], sizeof v);
    return v;
}

static void test_obs_pack__values_to_1e4_and_exact_beyond(void **state)
{
    /* a value, what it reads back as */
    static const double cases[][2] = {
        {0.123456, 0.1235}, {-0.99995, -1.0},   {0.0, 0.0},          {3.2767, 3.2767},
        {-3.2767, -3.2767}, {3.27675, 3.27675}, {-12.5, -12.5},      {1e30, 1e30},
        {0.00004, 0.0},     {0.00005, 0.0001},  {-0.00005, -0.0001}, {0.66, 0.66},
    };
    const size_t n_cases = sizeof cases / sizeof cases[0];
    unsigned char buf[PARUS__OBS_PACK_MAX];
    parus_observation o, back;
    size_t k, len, n_exact = 0;
    (void)state;

    memset(&o, 0, sizeof o);
    for (k = 0; k < PARUS__OBS_PACKED_N; k++)
        set_packed(&o, k, k < n_cases ? cases[k][0] : (k % 3 ? 0.01 * (double)k : (double)NAN));
    set_packed(&o, PARUS__OBS_PACKED_N - 1, (double)-INFINITY);
    len = parus__obs_pack(&o, buf, &n_exact);
    assert_int_equal(n_exact, 4); /* 3.27675, -12.5, 1e30, -inf */
    memset(&back, 0, sizeof back);
    assert_true(parus__obs_unpack(buf, len, &back));
    for (k = 0; k < PARUS__OBS_PACKED_N - 1; k++) {
        double want = k < n_cases ? cases[k][1] : (k % 3 ? 0.01 * (double)k : (double)NAN);
        double got = get_packed(&back, k);
        if (isnan(want))
            assert_true(isnan(got));
        else if (k < n_cases)
            assert_true(got == want);
        else
            assert_true(fabs(got - want) <= 0.5e-4);
    }
    assert_true(isinf(get_packed(&back, PARUS__OBS_PACKED_N - 1)));
    /* 1 byte of format, 7 of bitmap, absent values (13: k = 12, 15, .. 48) cost nothing, 35
     * values 2 bytes each, the 4 exact ones 2 + 8 */
    assert_int_equal(len, 1 + 7 + 2 * 35 + 10 * 4);
    /* the names are the packed order */
    assert_string_equal(parus__obs_packed_name(0), "ndvi_std");
    assert_string_equal(parus__obs_packed_name(PARUS__OBS_PACKED_N - 1), "own_veg_fraction");
    assert_null(parus__obs_packed_name(PARUS__OBS_PACKED_N));
}

static void test_obs_unpack__damaged_is_refused(void **state)
{
    unsigned char buf[PARUS__OBS_PACK_MAX], bad[PARUS__OBS_PACK_MAX + 1];
    parus_observation o = make_obs(3.0, 0.42), back;
    size_t len;
    (void)state;

    o.mean[PARUS_INDEX_EVI] = 7.5; /* an exact value too */
    len = parus__obs_pack(&o, buf, NULL);
    assert_true(parus__obs_unpack(buf, len, &back));
    assert_true(back.mean[PARUS_INDEX_EVI] == 7.5);
    assert_false(parus__obs_unpack(buf, len - 1, &back)); /* truncated */
    assert_false(parus__obs_unpack(buf, 5, &back));       /* shorter than its bitmap */
    memcpy(bad, buf, len);
    bad[len] = 0;
    assert_false(parus__obs_unpack(bad, len + 1, &back)); /* a byte too many */
    memcpy(bad, buf, len);
    bad[0] = 2;
    assert_false(parus__obs_unpack(bad, len, &back)); /* another format */
    memcpy(bad, buf, len);
    bad[7] |= 0x80;
    assert_false(parus__obs_unpack(bad, len, &back)); /* a bit past the last value */
    assert_false(parus__obs_unpack(NULL, 3, &back));
}

static void test_put_tile_observations__compact_round_trip_and_refusals(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "c.db");
    parus_parcel_set set = grid_set(3, 3, 0);
    parus_tile_record rec = tile_rec(5, "2024-07-01");
    parus_observation o[2] = {make_obs(12.3456789, 0.61234), make_obs(2.0, 0.3)};
    const parus_observation *obs[2] = {&o[0], &o[1]};
    const char *ids[2] = {"P00000", "P00001"};
    struct series_check got;
    parus_store *s = open_ok(path);
    parus_error err;
    sqlite3 *db;
    (void)state;

    load_ok(s, &set, "p.geojson", NULL);
    o[0].band_mean[PARUS_ROLE_NIR] = 0.31234;
    o[0].mean[PARUS_INDEX_EVI] = -40.0; /* no sensor's, but kept as given */
    o[0].own_veg_fraction = 0.5;
    o[0].own_mean[PARUS_INDEX_NDVI] = (double)NAN;
    /* a weight that is not one: the tile is refused, nothing of it stays */
    o[1].w_total_px = -1.0;
    snprintf(rec.status, sizeof rec.status, "ingested");
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 2, &err),
                     PARUS_E_INVALID);
    assert_msg_has(err, "parcel 'P00001' in tile");
    assert_msg_has(err, "its w_total_px is not a value the store can hold");
    assert_int_equal(counts_ok(s).n_tiles, 0);
    o[1].w_total_px = 2.0;
    o[1].mean[PARUS_INDEX_NDVI] = (double)INFINITY;
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 2, &err),
                     PARUS_E_INVALID);
    assert_msg_has(err, "its ndvi_mean is not a value");
    o[1].mean[PARUS_INDEX_NDVI] = 0.3;
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 2, &err), PARUS_OK);

    memset(&got, 0, sizeof got);
    assert_int_equal(parus_store_parcel_series(s, "P00000", series_keep, &got, NULL, &err),
                     PARUS_OK);
    assert_true(got.obs.w_total_px == 12.346);
    assert_true(got.obs.mean[PARUS_INDEX_NDVI] == 0.6123);
    assert_true(got.obs.band_mean[PARUS_ROLE_NIR] == 0.3123);
    assert_true(got.obs.mean[PARUS_INDEX_EVI] == -40.0);
    assert_true(got.obs.own_veg_fraction == 0.5);
    assert_true(isnan(got.obs.own_mean[PARUS_INDEX_NDVI]));
    parus_store_close(s);

    /* plain SQL reads the view */
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE ndvi_mean = 0.6123 "
                                    "AND w_total_px = 12.346 AND valid_fraction = 0.75"),
                     1);
    /* a damaged row is named, not read as something else */
    db = raw_open(path);
    raw_exec(db, "UPDATE observation_values SET vals = x'0100' WHERE parcel_num = "
                 "(SELECT num FROM parcels WHERE id = 'P00000')");
    sqlite3_close(db);
    s = open_ok(path);
    assert_int_equal(parus_store_parcel_series(s, "P00000", series_keep, &got, NULL, &err),
                     PARUS_E_STORE);
    assert_msg_has(err, "is damaged: the observation of parcel 'P00000'");
    parus_store_close(s);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* A version 18 store: its observations in REAL columns, one of them out of the compact range. */
static void write_v18_store(const char *path, const char *extra_sql)
{
    write_old_obs_store(path, 18, "SELECT 1;", 0.66, extra_sql);
}

static void test_open__v18_store_is_migrated_to_compact_observations(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v18.db");
    parus_observation got;
    parus_store *s;
    parus_error err;
    (void)state;

    write_v18_store(path, "UPDATE observations SET evi_mean = 12.75, ndvi_std = 0.0512345");
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name = 'observations'"),
                     1);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_non_null(parus_store_note(s));
    assert_non_null(strstr(parus_store_note(s), "1 observation moved to their compact form"));
    assert_non_null(
        strstr(parus_store_note(s), "to 1e-4, 1 value out of that form's range kept exactly;"));
    memset(&got, 0, sizeof got);
    assert_int_equal(parus_store_parcel_series(s, "P00000", keep_first_point, &got, NULL, &err),
                     PARUS_OK);
    assert_true(got.mean[PARUS_INDEX_NDVI] == 0.55);
    assert_true(got.std[PARUS_INDEX_NDVI] == 0.0512);
    assert_true(got.mean[PARUS_INDEX_EVI] == 12.75);
    assert_true(got.own_mean[PARUS_INDEX_NDVI] == 0.66);
    assert_true(got.w_total_px == 4.0 && got.w_valid_px == 3.0);
    /* the old table's pages are free until the space is given back (`store upgrade`) */
    {
        uint64_t before = 0, after = 0, again = 0;
        assert_true(file_int(path, "PRAGMA freelist_count") > 0);
        assert_int_equal(parus_store_reclaim(s, &before, &after, &err), PARUS_OK);
        assert_true(after < before);
        assert_int_equal(parus_store_reclaim(s, &after, &again, &err), PARUS_OK);
        assert_true(again == after);
    }
    parus_store_close(s);
    assert_int_equal(file_int(path, "PRAGMA freelist_count"), 0);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND "
                                    "name = 'observations'"),
                     1);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* a store opened again has nothing more to say */
    s = open_ok(path);
    assert_null(parus_store_note(s));
    parus_store_close(s);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__v18_values_the_compact_form_cannot_hold_stop_it(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v18-bad.db");
    char *path2 = parus_test_path(dir, "v18-bad2.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    write_v18_store(path, "UPDATE observations SET own_ndvi = 'abc'");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "cannot move to schema 19");
    assert_msg_has(err, "1 observation holds what that form cannot keep");
    assert_msg_has(err, "parcel 'P00000' in tile");
    assert_msg_has(err, "own_ndvi is 'abc'");
    assert_msg_has(err, "stays at schema 18");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 18);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations WHERE own_ndvi = 'abc' AND "
                                    "ndvi_mean = 0.55"),
                     1);

    /* a negative weight too */
    write_v18_store(path2, "UPDATE observations SET w_valid_px = -2");
    assert_int_equal(parus_store_open(path2, &s, &err), PARUS_E_STORE);
    assert_msg_has(err, "w_valid_px is -2");
    assert_int_equal(file_int(path2, "PRAGMA user_version"), 18);

    parus_test_rmtree(dir);
    free(path);
    free(path2);
    free(dir);
}

static void test_open__failed_v10_step_leaves_v9(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v9-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    write_old_obs_store(path, 9, DROP_V10_COLUMNS, 0.66,
                        "ALTER TABLE parcel_results ADD COLUMN planted_area_hi_m2 REAL;");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 9 to 10");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 9);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_v7_step_leaves_v6(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v6-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    write_v6_store(path, "ALTER TABLE observations ADD COLUMN own_veg_fraction REAL;");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 6 to 7");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 6);
    assert_int_equal(file_int(path, "SELECT count(*) FROM observations"), 1);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 8: the recorded inputs of an assessment ---- */

struct inputs_copy {
    char model_version[80], data_hash[65], policy_hash[65], crops_hash[65];
    char policy[64];
    size_t policy_size;
    bool has_crops, has_debts;
    int64_t run_id;
};

static int copy_inputs(const parus_assess_inputs *in, void *ctx)
{
    struct inputs_copy *c = ctx;
    snprintf(c->model_version, sizeof c->model_version, "%s", in->model_version);
    snprintf(c->data_hash, sizeof c->data_hash, "%s",
             in->model_data_hash ? in->model_data_hash : "-");
    snprintf(c->policy_hash, sizeof c->policy_hash, "%s", in->policy_hash);
    snprintf(c->crops_hash, sizeof c->crops_hash, "%s", in->crops_hash ? in->crops_hash : "-");
    c->policy_size = in->policy_size;
    if (in->policy && in->policy_size < sizeof c->policy)
        memcpy(c->policy, in->policy, in->policy_size);
    c->has_crops = in->crops != NULL;
    c->has_debts = in->debts != NULL || in->debts_hash != NULL;
    c->run_id = in->run_id;
    return 0;
}

static void test_inputs__v7_migrated_recorded_read_and_replaced(void **state)
{
    static const char h1[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char h2[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v7.db");
    struct inputs_copy c;
    parus_assess_inputs in;
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a version-7 store (no assessment_inputs) is migrated to 8 (and on) */
    write_old_obs_store(path, 7, DROP_V8, 0.5, NULL);
    assert_int_equal(parus_store_open_existing(path, &s, &err), PARUS_OK);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err),
                     PARUS_E_NOT_FOUND);
    parus_store_close(s);
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err),
                     PARUS_E_NOT_FOUND);

    memset(&in, 0, sizeof in);
    in.model_version = "xgb:" /* any text */ "0123";
    in.model_data_hash = h2;
    in.crops_hash = h1;
    in.crops = "code,price\n";
    in.crops_size = 11;
    in.policy_hash = h2;
    in.policy = "[credit]\nloan_to_value = 0.5\n";
    in.policy_size = 29;
    /* outside a results transaction, and a hash that is not one: refused */
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    in.policy_hash = "builtin";
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_E_INVALID);
    in.policy_hash = "0123";
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_E_INVALID);
    in.policy_hash = h2;
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);

    memset(&c, 0, sizeof c);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err), PARUS_OK);
    assert_string_equal(c.model_version, "xgb:0123");
    assert_string_equal(c.data_hash, h2);
    assert_string_equal(c.crops_hash, h1);
    assert_string_equal(c.policy_hash, h2);
    assert_int_equal(c.policy_size, 29);
    assert_memory_equal(c.policy, "[credit]\nloan_to_value = 0.5\n", 29);
    assert_true(c.has_crops);
    assert_false(c.has_debts);

    /* a new begin of the season removes them; an abort brings them back */
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err),
                     PARUS_E_NOT_FOUND);
    parus_store_results_abort(s);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err), PARUS_OK);
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    in.model_data_hash = NULL;
    in.model_version = "calendar";
    in.crops = NULL;
    in.crops_hash = NULL;
    in.policy_hash = "builtin";
    in.policy = NULL;
    assert_int_equal(parus_store_results_put_inputs(s, &in, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    assert_int_equal(parus_store_get_assess_inputs(s, SEASON, copy_inputs, &c, &err), PARUS_OK);
    assert_string_equal(c.model_version, "calendar");
    assert_string_equal(c.data_hash, "-");
    assert_string_equal(c.policy_hash, "builtin");
    assert_false(c.has_crops);
    parus_store_close(s);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- schema version 9: what a season is owed ---- */

static void test_open__v8_store_is_migrated_to_v9(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v8.db");
    parus_season_state st;
    parus_store *s;
    parus_error err;
    bool found = false;
    (void)state;

    /* a version 8 store whose one tile (2024-07-01) was stored after the results of season A,
     * before those of B, and outside the window of C */
    write_old_obs_store(
        path, 8, DROP_V9_SEASON_STATE, 0.66,
        "INSERT INTO limits (season, farmer_id, run_id, limit_cny, currency, n_parcels, "
        "n_parcels_valued, value_expected_fen, value_p10_fen, health, confidence, assessed_at) "
        "VALUES ('2024-03-01/2024-10-31', 'F1', 3, 0, 'CNY', 1, 0, 0, 0, 'unknown', 'none', "
        "'2000-01-01T00:00:00Z'), ('2024-06-01/2024-12-31', 'F1', 4, 0, 'CNY', 1, 0, 0, 0, "
        "'unknown', 'none', '2999-01-01T00:00:00Z'), ('2025-03-01/2025-10-31', 'F1', 5, 0, "
        "'CNY', 1, 0, 0, 0, 'unknown', 'none', '2000-01-01T00:00:00Z');");
    s = open_ok(path);
    assert_int_equal(parus_store_schema_version(s), PARUS_STORE_SCHEMA_VERSION);
    assert_int_equal(parus_store_season_state_get(s, "2024-03-01/2024-10-31", &st, &found, &err),
                     PARUS_OK);
    assert_true(found);
    assert_true(st.stale);
    assert_int_equal(st.assessed_run_id, 3);
    assert_non_null(strstr(st.stale_cause, "upgrade to schema 9"));
    assert_int_equal(parus_store_season_state_get(s, "2024-06-01/2024-12-31", &st, &found, &err),
                     PARUS_OK);
    assert_true(found && !st.stale && st.stale_cause[0] == '\0');
    assert_int_equal(parus_store_season_state_get(s, "2025-03-01/2025-10-31", &st, &found, &err),
                     PARUS_OK);
    assert_true(found && !st.stale);
    assert_int_equal(parus_store_season_state_get(s, "2023-03-01/2023-10-31", &st, &found, &err),
                     PARUS_OK);
    assert_false(found);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM season_state"), 3);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static void test_open__failed_v9_step_leaves_v8(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "v8-bad.db");
    parus_store *s = NULL;
    parus_error err;
    (void)state;

    /* a trigger in the way of step 9, after the table it creates */
    write_old_obs_store(path, 8, DROP_V9_SEASON_STATE, 0.66,
                        "CREATE TRIGGER tiles_delete_season_stale AFTER DELETE ON tiles BEGIN "
                        "SELECT 1; END;");
    assert_int_equal(parus_store_open(path, &s, &err), PARUS_E_STORE);
    assert_null(s);
    assert_msg_has(err, "from schema version 8 to 9");
    assert_int_equal(file_int(path, "PRAGMA user_version"), 8);
    assert_int_equal(file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                    "'season_state'"),
                     0);

    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

static bool season_stale(parus_store *s, const char *season)
{
    parus_season_state st;
    parus_error err;
    bool found = false;
    assert_int_equal(parus_store_season_state_get(s, season, &st, &found, &err), PARUS_OK);
    assert_true(found);
    return st.stale;
}

/* Stale in the tile's own transaction (a tile rolled back leaves it as it was), current again only
 * in the transaction that commits the season's results (an aborted assessment leaves it stale). */
static void test_season_state__tile_makes_stale_results_commit_clears(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "owed.db");
    parus_parcel_set set = grid_set(2, 2, 0);
    parus_store *s = open_ok(path);
    parus_tile_record rec;
    parus_observation o = make_obs(4.0, 0.55);
    const parus_observation *obs[1] = {&o};
    const char *ids[1] = {"P00000"};
    parus_season_state st;
    parus_error err;
    (void)state;
    load_ok(s, &set, "p.geojson", NULL);

    /* a season named before any tile: current; one with a tile already stored: stale */
    assert_int_equal(parus_store_season_track(s, SEASON, &st, &err), PARUS_OK);
    assert_false(st.stale);
    assert_int_equal(st.assessed_run_id, 0);
    assert_int_equal(parus_store_season_track(s, "2024-13-01/2024-12-31", &st, &err),
                     PARUS_E_INVALID);

    /* a tile of the window rolled back: still current */
    rec = tile_rec(11, "2024-04-01");
    assert_int_equal(parus_store_tile_begin(s, &rec, &err), PARUS_OK);
    parus_store_tile_abort(s);
    assert_false(season_stale(s, SEASON));
    /* a tile outside the window: current; inside: stale, with the tile named */
    rec = tile_rec(12, "2024-08-01");
    snprintf(rec.status, sizeof rec.status, "ingested");
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 1, &err), PARUS_OK);
    assert_false(season_stale(s, SEASON));
    rec = tile_rec(13, "2024-06-30");
    snprintf(rec.status, sizeof rec.status, "ingested");
    assert_int_equal(parus_store_put_tile_observations(s, &rec, ids, obs, 1, &err), PARUS_OK);
    assert_int_equal(parus_store_season_track(s, SEASON, &st, &err), PARUS_OK);
    assert_true(st.stale);
    assert_non_null(strstr(st.stale_cause, "of 2024-06-30 stored"));
    assert_true(st.stale_since[0] != '\0');
    /* a season tracked for the first time over stored tiles and no results: stale */
    assert_int_equal(parus_store_season_track(s, "2024-06-01/2024-09-30", &st, &err), PARUS_OK);
    assert_true(st.stale);

    /* an assessment that does not commit leaves it owed */
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    parus_store_results_abort(s);
    assert_true(season_stale(s, SEASON));
    /* one that commits clears it, and only its season */
    assert_int_equal(parus_store_results_begin(s, SEASON, 0, &err), PARUS_OK);
    assert_true(season_stale(s, SEASON)); /* inside the transaction, not yet */
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    assert_false(season_stale(s, SEASON));
    assert_true(season_stale(s, "2024-06-01/2024-09-30"));
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM season_state WHERE season = '" SEASON
                                    "' AND stale = 0 AND stale_cause IS NULL AND assessed_at "
                                    "IS NOT NULL"),
                     1);

    /* a tile removed by hand: stale again */
    {
        sqlite3 *db = raw_open(path);
        raw_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM tiles WHERE date = '2024-06-30'");
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
    }
    assert_int_equal(file_int(path, "SELECT count(*) FROM season_state WHERE season = '" SEASON
                                    "' AND stale = 1 AND stale_cause LIKE '% removed'"),
                     1);
    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* A valued result of a model crop. */
static parus_parcel_result result_of(const char *id)
{
    parus_parcel_result r;
    memset(&r, 0, sizeof r);
    r.parcel_id = id;
    r.crop = "winter_wheat";
    r.crop_method = PARUS_ASSESS_MODEL;
    r.crop_confidence = PARUS_CONFIDENCE_NORMAL;
    r.crop_probability = 0.93;
    r.n_clear_obs = 14;
    r.first_date = "2024-03-05";
    r.last_date = "2024-06-24";
    r.peer_group = "32650:399960:4000020";
    r.health_class = "good";
    r.health_score = 0.97;
    r.health_reference = "peers";
    r.n_peers = 41;
    r.green_ratio = 1.02;
    r.planted_fraction = 0.95;
    r.planted_area_m2 = 950.0;
    r.planted_area_lo_m2 = 900.0;
    r.planted_area_hi_m2 = 1000.0;
    r.area_m2 = 1000.0;
    r.declared_area_m2 = 1005.0;
    r.area_check = "ok";
    r.ndvi_integral_10d = 8.25;
    r.ndvi_peak = 0.81;
    r.yield_expected_kg_per_mu = 452.5;
    r.yield_p10_kg_per_mu = 360.25;
    r.price_cny_per_kg = 2.35;
    r.valued = true;
    r.value_expected_fen = 150000;
    r.value_p10_fen = 120000;
    r.flags = "";
    return r;
}

static parus_limit limit_of(const char *farmer, int64_t limit_cny)
{
    parus_limit l;
    memset(&l, 0, sizeof l);
    l.farmer_id = farmer;
    l.limit_cny = limit_cny;
    l.currency = "CNY";
    l.n_parcels = 4;
    l.n_parcels_valued = 1;
    l.planted_area_m2 = 950.0;
    l.declared_area_m2 = NAN;
    l.main_crop = "winter_wheat";
    l.value_expected_fen = 150000;
    l.value_p10_fen = 120000;
    l.health = "good";
    l.flags = "FLOOD";
    l.reasons = "THIN_EVIDENCE;EVENT_FLAG";
    l.confidence = "normal";
    l.latest_date = "2024-06-24";
    l.model_version = "xgb:0123456789abcdef";
    l.policy_hash = "ab12";
    l.repayment_date = "2024-08-04";
    l.parts = "gross_value_fen=120000;limit_cny=500";
    return l;
}

struct text_log {
    char text[4096];
    size_t n;
};

static void log_add(struct text_log *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void log_add(struct text_log *l, const char *fmt, ...)
{
    size_t n = strlen(l->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text + n, sizeof l->text - n, fmt, ap);
    va_end(ap);
    l->n++;
}

static int log_result(const parus_parcel_result *r, void *ctx)
{
    log_add(
        ctx,
        "%s%s/%s/%s %s p=%.2f %s/%s n=%zu %s..%s %s %s %.2f %s peers=%zu pf=%.2f "
        "%.0f[%.0f,%.0f]/%.0f/%.0f %s y=%.2f/%.2f v=%s%lld/%lld [%s] (%s) credit=%d/%lld/%s run=%s",
        ((struct text_log *)ctx)->n ? ";" : "", r->parcel_id, r->farmer_id ? r->farmer_id : "-",
        r->season, r->crop ? r->crop : "-", r->crop_probability,
        parus_assess_method_name(r->crop_method), parus_assess_confidence_name(r->crop_confidence),
        r->n_clear_obs, r->first_date ? r->first_date : "-", r->last_date ? r->last_date : "-",
        r->peer_group ? r->peer_group : "-", r->health_class, r->health_score, r->health_reference,
        r->n_peers, r->planted_fraction, r->planted_area_m2, r->planted_area_lo_m2,
        r->planted_area_hi_m2, r->area_m2, r->declared_area_m2, r->area_check ? r->area_check : "-",
        r->yield_expected_kg_per_mu, r->yield_p10_kg_per_mu,
        r->valued ? "" : "none:", (long long)r->value_expected_fen, (long long)r->value_p10_fen,
        r->flags, r->reason ? r->reason : "-", r->credit_counted, (long long)r->credit_value_fen,
        r->credit_reasons ? r->credit_reasons : "-", r->run_id ? "yes" : "no");
    return 0;
}

static int log_flag(const parus_result_flag *f, void *ctx)
{
    log_add(ctx, "%s%s %s %s..%s %.2f %.2f %s", ((struct text_log *)ctx)->n ? ";" : "",
            f->parcel_id, f->flag, f->first_date, f->last_date, f->size, f->confidence,
            f->reason ? f->reason : "-");
    return 0;
}

static int log_step(const parus_peer_step *st, void *ctx)
{
    log_add(ctx, "%s%zu %s n=%zu %.2f [%.2f, %.2f]", ((struct text_log *)ctx)->n ? ";" : "",
            st->step, st->day, st->n, st->ndvi_median, st->ndvi_p25, st->ndvi_p75);
    return 0;
}

static int log_limit(const parus_limit *l, void *ctx)
{
    log_add(ctx,
            "%s%s %s %lld %s %zu/%zu %.0f %.0f %s %lld/%lld %s [%s] [%s] %s %s %s %s %s "
            "debt=%lld {%s}",
            ((struct text_log *)ctx)->n ? ";" : "", l->farmer_id, l->season,
            (long long)l->limit_cny, l->currency, l->n_parcels_valued, l->n_parcels,
            l->planted_area_m2, l->declared_area_m2, l->main_crop ? l->main_crop : "-",
            (long long)l->value_expected_fen, (long long)l->value_p10_fen, l->health, l->flags,
            l->reasons, l->confidence, l->latest_date ? l->latest_date : "-",
            l->model_version ? l->model_version : "-", l->policy_hash ? l->policy_hash : "-",
            l->repayment_date ? l->repayment_date : "-", (long long)l->debt_fen,
            l->parts ? l->parts : "");
    return 0;
}

static int log_id(const char *id, void *ctx)
{
    log_add(ctx, "%s%s", ((struct text_log *)ctx)->n ? "," : "", id);
    return 0;
}

/* Every statement of store_assess.c that has run is answered through a key, never by scanning
 * a table (the farmers' list walks its index, which is what it is for). */
static void assert_results_plans_use_keys(parus_store *s)
{
    sqlite3 *db = parus__store_handle(s);
    size_t slot, n_checked = 0;
    for (slot = PARUS__STORE_STMT_RESULTS; slot < PARUS__STORE_MAX_STMTS; slot++) {
        const char *sql = parus__stmt_sql(s->stmt[slot]);
        char plan[1024] = "", *q;
        sqlite3_stmt *st;
        if (!sql || strncmp(sql, "INSERT", 6) == 0)
            continue;
        q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t n = strlen(plan);
            snprintf(plan + n, sizeof plan - n, "%s|", (const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_finalize(st);
        sqlite3_free(q);
        if (strstr(sql, "SELECT DISTINCT farmer_id"))
            assert_non_null(strstr(plan, "INDEX parcels_farmer"));
        else if (strstr(plan, "SCAN"))
            fail_msg("a scan in the plan of '%s': %s", sql, plan);
        n_checked++;
    }
    assert_true(n_checked >= 10);
}

static void test_results__put_read_replace_and_refuse(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "res.db");
    parus_parcel_set set = grid_set(8, 4, 0);
    parus_parcel_result r1 = result_of("P00001"), r0 = result_of("P00000"), bad;
    parus_result_flag f = {NULL,         "P00001", "SUDDEN_LOSS", "2024-05-14",
                           "2024-06-30", 0.42,     0.8,           "ndvi fell by 0.35"};
    parus_result_flag g = {NULL,         "P00001", "FLOOD", "2024-04-02",
                           "2024-04-12", 0.6,      0.9,     "mndwi rose"};
    parus_peer_step steps[3] = {{0, "2024-03-05", 40, 0.21, 0.18, 0.25},
                                {1, "2024-03-15", 41, 0.35, 0.30, 0.41},
                                {2, "2024-03-25", 3, NAN, NAN, NAN}};
    parus_limit l0 = limit_of("F0000", 500), l1 = limit_of("F0001", 0);
    parus_assessment a;
    struct text_log log;
    parus_store_counts c;
    parus_error err;
    parus_store *s;
    int64_t run = 0;
    size_t n = 0;
    (void)state;

    r0.valued = false;
    r0.crop = NULL;
    r0.crop_method = PARUS_ASSESS_NONE;
    r0.crop_confidence = PARUS_CONFIDENCE_NONE;
    r0.crop_probability = NAN;
    r0.n_clear_obs = 0;
    r0.first_date = r0.last_date = r0.peer_group = r0.area_check = NULL;
    r0.health_class = NULL;
    r0.health_reference = NULL;
    r0.health_score = r0.green_ratio = r0.planted_fraction = r0.planted_area_m2 = NAN;
    r0.planted_area_lo_m2 = r0.planted_area_hi_m2 = NAN;
    r0.declared_area_m2 = r0.ndvi_integral_10d = r0.ndvi_peak = NAN;
    r0.yield_expected_kg_per_mu = r0.yield_p10_kg_per_mu = r0.price_cny_per_kg = NAN;
    r0.n_peers = 0;
    r0.reason = "NO_CLEAR_OBSERVATION: no clear observation in the season";
    r1.flags = "FLOOD;SUDDEN_LOSS";
    l1.reasons = "NO_PARCEL_OBSERVED";
    l1.n_parcels_valued = 0;
    l1.value_expected_fen = l1.value_p10_fen = 0;
    l1.repayment_date = NULL;

    s = open_ok(path);
    load_ok(s, &set, "p.geojson", NULL);
    assert_int_equal(parus_store_run_begin(s, "assess", NULL, &run, &err), PARUS_OK);

    /* nothing open: refused */
    assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_E_INVALID);
    assert_msg_has(err, "no season's results are open");
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_results_begin(s, "2024-03-01", run, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_results_begin(s, SEASON, -1, &err), PARUS_E_INVALID);

    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_E_INVALID);
    assert_int_equal(parus_store_assessments_begin(s, SEASON, &err), PARUS_E_INVALID);
    /* the season's assessments go into the same transaction */
    memset(&a, 0, sizeof a);
    a.parcel_id = "P00001";
    a.method = PARUS_ASSESS_MODEL;
    a.confidence = PARUS_CONFIDENCE_NORMAL;
    a.crop = "winter_wheat";
    a.probability = a.margin = NAN;
    a.agrees = -1;
    assert_int_equal(parus_store_assessments_put(s, &a, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_flag(s, &f, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_flag(s, &g, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_peer_curve(s, "winter_wheat", "g1", steps, 3, &err),
                     PARUS_OK);
    assert_int_equal(parus_store_results_put_peer_curve(s, "winter_wheat", "g2", steps, 2, &err),
                     PARUS_OK);
    assert_int_equal(parus_store_results_put_limit(s, &l1, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_credit(s, "P00001", true, 90000, "FAIR_HEALTH", &err),
                     PARUS_OK);
    /* nothing is visible to another connection before the commit */
    assert_int_equal(file_int(path, "SELECT count(*) FROM parcel_results"), 0);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_E_INVALID);

    c = counts_ok(s);
    assert_int_equal(c.n_parcel_results, 2);
    assert_int_equal(c.n_parcel_flags, 2);
    assert_int_equal(c.n_peer_curves, 2);
    assert_int_equal(c.n_limits, 2);
    assert_int_equal(c.n_assessments, 1);

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_get_parcel_result(s, SEASON, "P00001", log_result, &log, &err),
                     PARUS_OK);
    assert_string_equal(log.text,
                        "P00001/F0000/" SEASON " winter_wheat p=0.93 model/normal n=14 "
                        "2024-03-05..2024-06-24 32650:399960:4000020 good 0.97 peers peers=41 "
                        "pf=0.95 950[900,1000]/1000/1005 ok y=452.50/360.25 v=150000/120000 "
                        "[FLOOD;SUDDEN_LOSS] (-) credit=1/90000/FAIR_HEALTH run=yes");
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_results_foreach(s, SEASON, log_result, &log, &err), PARUS_OK);
    assert_int_equal(log.n, 2);
    assert_non_null(strstr(log.text,
                           "P00000/F0000/" SEASON " - p=nan none/none n=0 -..- - unknown nan none "
                           "peers=0 pf=nan nan[nan,nan]/1000/nan - y=nan/nan v=none:0/0 [] "
                           "(NO_CLEAR_OBSERVATION: no clear observation in the season) "
                           "credit=-1/-1/- run=yes;P00001/"));
    assert_int_equal(parus_store_get_parcel_result(s, SEASON, "P00002", log_result, &log, &err),
                     PARUS_E_NOT_FOUND);
    assert_msg_has(err, "parcel 'P00002' has no assessment result for season " SEASON);
    assert_int_equal(
        parus_store_get_parcel_result(s, "2023-03-01/2023-06-30", "P00001", log_result, &log, &err),
        PARUS_E_NOT_FOUND);
    assert_int_equal(parus_store_get_parcel_result(s, "2023", "P00001", log_result, &log, &err),
                     PARUS_E_INVALID);

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_parcel_flags(s, SEASON, "P00001", log_flag, &log, &n, &err),
                     PARUS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(log.text, "P00001 FLOOD 2024-04-02..2024-04-12 0.60 0.90 mndwi rose;"
                                  "P00001 SUDDEN_LOSS 2024-05-14..2024-06-30 0.42 0.80 ndvi fell "
                                  "by 0.35");
    assert_int_equal(parus_store_parcel_flags(s, SEASON, "P00000", log_flag, &log, &n, &err),
                     PARUS_OK);
    assert_int_equal(n, 0);

    memset(&log, 0, sizeof log);
    assert_int_equal(
        parus_store_get_peer_curve(s, SEASON, "winter_wheat", "g1", log_step, &log, &n, &err),
        PARUS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(log.text, "0 2024-03-05 n=40 0.21 [0.18, 0.25];"
                                  "1 2024-03-15 n=41 0.35 [0.30, 0.41];"
                                  "2 2024-03-25 n=3 nan [nan, nan]");
    assert_int_equal(
        parus_store_get_peer_curve(s, SEASON, "cotton", "g1", log_step, &log, &n, &err),
        PARUS_E_NOT_FOUND);

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_get_limit(s, SEASON, "F0000", log_limit, &log, &err), PARUS_OK);
    assert_string_equal(log.text, "F0000 " SEASON " 500 CNY 1/4 950 nan winter_wheat "
                                  "150000/120000 good [FLOOD] [THIN_EVIDENCE;EVENT_FLAG] normal "
                                  "2024-06-24 xgb:0123456789abcdef ab12 2024-08-04 debt=0 "
                                  "{gross_value_fen=120000;limit_cny=500}");
    assert_int_equal(parus_store_get_limit(s, SEASON, "F9999", log_limit, &log, &err),
                     PARUS_E_NOT_FOUND);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_limits_foreach(s, SEASON, log_limit, &log, &err), PARUS_OK);
    assert_int_equal(log.n, 2);
    assert_true(strncmp(log.text, "F0000 ", 6) == 0);
    assert_non_null(strstr(log.text, ";F0001 " SEASON " 0 CNY 0/4"));

    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_farmer_parcels(s, "F0001", log_id, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 4);
    assert_string_equal(log.text, "P00004,P00005,P00006,P00007");
    assert_int_equal(parus_store_farmer_parcels(s, "F404", log_id, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 0);
    memset(&log, 0, sizeof log);
    assert_int_equal(parus_store_farmers_foreach(s, log_id, &log, &n, &err), PARUS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(log.text, "F0000,F0001");
    assert_results_plans_use_keys(s);

    /* bad rows: each refused with its reason, and the whole begin rolled back */
    {
        static const struct {
            const char *why;
            int field;
        } cases[] = {
            {"no value and no reason", 0},
            {"P10 above the expected", 1},
            {"outside [0, 1]", 2},
            {"health class other than", 3},
            {"without a crop", 4},
            {"negative or infinite area", 5},
            {"not YYYY-MM-DD", 6},
            {"is not in", 7},
            {"given twice", 8},
            {"area check other than", 9},
            {"planted area interval", 10},
            {"planted area interval", 11},
        };
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            parus_status want = cases[i].field == 7   ? PARUS_E_NOT_FOUND
                                : cases[i].field == 8 ? PARUS_E_DUPLICATE
                                                      : PARUS_E_INVALID;
            assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
            bad = result_of("P00003");
            switch (cases[i].field) {
            case 0:
                bad.valued = false;
                break;
            case 1:
                bad.value_p10_fen = bad.value_expected_fen + 1;
                break;
            case 2:
                bad.crop_probability = 1.5;
                break;
            case 3:
                bad.health_class = "excellent";
                break;
            case 4:
                bad.crop = NULL;
                break;
            case 5:
                bad.planted_area_m2 = -1.0;
                break;
            case 6:
                bad.first_date = "2024-3-5";
                break;
            case 7:
                bad.parcel_id = "P404";
                break;
            case 8:
                assert_int_equal(parus_store_results_put(s, &bad, &err), PARUS_OK);
                break;
            case 9:
                bad.area_check = "fine";
                break;
            case 10:
                bad.planted_area_lo_m2 = bad.planted_area_hi_m2 + 1.0;
                break;
            case 11:
                bad.planted_area_hi_m2 = NAN;
                break;
            }
            assert_int_equal(parus_store_results_put(s, &bad, &err), want);
            assert_msg_has(err, cases[i].why);
            /* the begin is over: the old results are back */
            assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_E_INVALID);
            assert_int_equal(counts_ok(s).n_parcel_results, 2);
            assert_int_equal(counts_ok(s).n_limits, 2);
        }
    }
    {
        parus_result_flag bf = f;
        parus_limit bl = l0;
        parus_peer_step bs[2] = {steps[1], steps[0]};

        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        bf.flag = "flood";
        assert_int_equal(parus_store_results_put_flag(s, &bf, &err), PARUS_E_INVALID);
        assert_msg_has(err, "upper-case");
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        bf = f;
        bf.last_date = "2024-05-01";
        assert_int_equal(parus_store_results_put_flag(s, &bf, &err), PARUS_E_INVALID);
        assert_msg_has(err, "ends before it begins");
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_flag(s, &f, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_flag(s, &f, &err), PARUS_E_DUPLICATE);
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_peer_curve(s, "winter_wheat", "g1", bs, 2, &err),
                         PARUS_E_INVALID);
        assert_msg_has(err, "out of order");
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        bl.limit_cny = -1;
        assert_int_equal(parus_store_results_put_limit(s, &bl, &err), PARUS_E_INVALID);
        assert_msg_has(err, "negative limit");
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        bl = l0;
        bl.health = "great";
        assert_int_equal(parus_store_results_put_limit(s, &bl, &err), PARUS_E_INVALID);
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_E_DUPLICATE);
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_credit(s, "P00005", true, 1, NULL, &err),
                         PARUS_E_NOT_FOUND);
        assert_msg_has(err, "has no result");
        /* ending the transaction through the assessments: the results calls refuse */
        assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
        assert_int_equal(parus_store_assessments_commit(s, &err), PARUS_OK);
        assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_E_INVALID);
        assert_int_equal(parus_store_results_commit(s, &err), PARUS_E_INVALID);
        /* (that commit removed the old rows: the begin deletes them) */
        assert_int_equal(counts_ok(s).n_parcel_results, 0);
    }

    /* a new begin replaces the season's rows entirely; another season's stay */
    assert_int_equal(parus_store_results_begin(s, "2025-03-01/2025-06-30", 0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_flag(s, &f, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put_limit(s, &l0, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
    assert_int_equal(parus_store_results_put(s, &r1, &err), PARUS_OK);
    assert_int_equal(parus_store_results_commit(s, &err), PARUS_OK);
    c = counts_ok(s);
    assert_int_equal(c.n_parcel_results, 2); /* one per season */
    assert_int_equal(c.n_parcel_flags, 0);
    assert_int_equal(c.n_limits, 1); /* the other season's */
    assert_int_equal(file_int(path, "SELECT count(*) FROM limits WHERE season = "
                                    "'2025-03-01/2025-06-30' AND run_id IS NULL"),
                     1);
    /* abort, and closing an open begin, keep what was there */
    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
    parus_store_results_abort(s);
    parus_store_results_abort(s);
    assert_int_equal(parus_store_results_begin(s, SEASON, run, &err), PARUS_OK);
    parus_store_close(s);
    s = open_ok(path);
    assert_int_equal(counts_ok(s).n_parcel_results, 2);
    parus_store_close(s);
    assert_int_equal(file_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    set_free(&set);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

/* A snapshot sees one committed state: another connection's commit in between is not seen
 * until the snapshot ends (an export's three files come from one run). */
static void test_snapshot__reads_one_committed_state(void **state)
{
    char *dir = parus_test_tmpdir("store"), *path = parus_test_path(dir, "snap.db");
    parus_store *reader, *writer;
    parus_parcel_set a = grid_set(10, 5, 0), b = grid_set(7, 5, 10);
    parus_error err;
    (void)state;
    writer = open_ok(path);
    load_ok(writer, &a, "a.geojson", NULL);
    reader = open_ok(path);
    assert_int_equal(parus_store_snapshot_begin(reader, &err), PARUS_OK);
    assert_int_equal(counts_ok(reader).n_parcels, 10);
    load_ok(writer, &b, "b.geojson", NULL);
    assert_int_equal(counts_ok(writer).n_parcels, 17);
    assert_int_equal(counts_ok(reader).n_parcels, 10); /* still the snapshot */
    assert_int_equal(parus_store_snapshot_begin(reader, &err), PARUS_E_INVALID);
    parus_store_snapshot_end(reader);
    assert_int_equal(counts_ok(reader).n_parcels, 17);
    parus_store_snapshot_end(reader); /* no snapshot: nothing happens */
    parus_store_snapshot_end(NULL);
    parus_store_close(reader);
    parus_store_close(writer);
    set_free(&a);
    set_free(&b);
    parus_test_rmtree(dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open__creates_current_schema),
        cmocka_unit_test(test_snapshot__reads_one_committed_state),
        cmocka_unit_test(test_open_existing__absent_store_is_not_created),
        cmocka_unit_test(test_open__older_schema_is_migrated),
        cmocka_unit_test(test_open__failed_migration_leaves_old_version),
        cmocka_unit_test(test_open__newer_schema_is_refused_untouched),
        cmocka_unit_test(test_open__files_that_are_not_stores),
        cmocka_unit_test(test_open__corrupt_store),
        cmocka_unit_test(test_open__unwritable_places),
        cmocka_unit_test(test_put_parcels__insert_update_unchanged),
        cmocka_unit_test(test_put_parcels__reshaped_parcel_loses_its_old_observations),
        cmocka_unit_test(test_find_overlaps__same_land_found_touching_and_slivers_not),
        cmocka_unit_test(test_merge__reshaped_parcel_loses_its_old_observations),
        cmocka_unit_test(test_merge__observations_follow_the_shape),
        cmocka_unit_test(test_merge__the_same_acquisition_is_not_merged_twice),
        cmocka_unit_test(test_tile_begin__the_same_acquisition_is_claimed),
        cmocka_unit_test(test_get_parcel__round_trip_and_not_found),
        cmocka_unit_test(test_put_parcels__rejects_recorded_per_source),
        cmocka_unit_test(test_put_parcels__bad_input_writes_nothing),
        cmocka_unit_test(test_put_parcels__locked_store_is_busy_and_intact),
        cmocka_unit_test(test_put_parcels__full_disk_keeps_what_was_stored),
        cmocka_unit_test(test_put_parcels__killed_mid_load_is_all_or_nothing),
        cmocka_unit_test(test_parcels_in_box__candidates_in_id_order),
        cmocka_unit_test(test_tiles__put_find_and_order),
        cmocka_unit_test(test_put_tile_observations__all_or_nothing),
        cmocka_unit_test(test_tile_stream__abort_and_close_leave_nothing),
        cmocka_unit_test(test_tile_add_num__walk_numbers_trusted_only_while_unchanged),
        cmocka_unit_test(test_tile_add__radar_rows_in_batches),
        cmocka_unit_test(test_runs__begin_and_end),
        cmocka_unit_test(test_open__v3_store_is_migrated_to_v4),
        cmocka_unit_test(test_open__v14_store_is_migrated_to_v18),
        cmocka_unit_test(test_obs_pack__values_to_1e4_and_exact_beyond),
        cmocka_unit_test(test_obs_unpack__damaged_is_refused),
        cmocka_unit_test(test_put_tile_observations__compact_round_trip_and_refusals),
        cmocka_unit_test(test_open__v18_store_is_migrated_to_compact_observations),
        cmocka_unit_test(test_open__v18_values_the_compact_form_cannot_hold_stop_it),
        cmocka_unit_test(test_open__failed_v4_step_leaves_v3),
        cmocka_unit_test(test_parcel_crops__put_replace_and_bad_input),
        cmocka_unit_test(test_season_walk__every_parcel_in_order_with_window),
        cmocka_unit_test(test_samples__put_walk_and_replace),
        cmocka_unit_test(test_assessments__put_replace_read_and_refuse),
        cmocka_unit_test(test_open__v4_store_is_migrated_to_v5),
        cmocka_unit_test(test_open__failed_v5_step_leaves_v4),
        cmocka_unit_test(test_open__v5_store_is_migrated_to_v7),
        cmocka_unit_test(test_open__v6_store_is_migrated_to_v7),
        cmocka_unit_test(test_open__failed_v7_step_leaves_v6),
        cmocka_unit_test(test_open__v8_store_is_migrated_to_v9),
        cmocka_unit_test(test_open__failed_v9_step_leaves_v8),
        cmocka_unit_test(test_season_state__tile_makes_stale_results_commit_clears),
        cmocka_unit_test(test_inputs__v7_migrated_recorded_read_and_replaced),
        cmocka_unit_test(test_open__v9_store_is_migrated_to_v10),
        cmocka_unit_test(test_open__failed_v10_step_leaves_v9),
        cmocka_unit_test(test_open__v12_store_is_migrated_to_v13),
        cmocka_unit_test(test_open__v13_store_is_migrated_to_v14),
        cmocka_unit_test(test_open__failed_v6_step_leaves_v5),
        cmocka_unit_test(test_results__put_read_replace_and_refuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * store_copy.c - a whole store copied into a new one, between any two backends (a SQLite file
 * into PostgreSQL and back, or file to file), and verified before it is committed
 * (parus_store_copy, include/parus/store.h; docs/store.md "Moving a store").
 *
 * Every table is copied row for row, every column as stored (times, run ids and keys included),
 * in an order that satisfies the foreign keys, all in one transaction of the destination read
 * from one snapshot of the source. season_state goes last: the triggers that mark seasons stale
 * then find no season to mark while the rest arrives, and the states are copied as they were.
 * Before the commit, each table of the destination is read back and checked against what was
 * read from the source: the same number of rows and the same multiset of rows, by two 64-bit
 * digests of each row's values (integers as integers, reals bit for bit, text and blobs byte for
 * byte), summed and xor-ed over the rows so that the order rows come back in does not matter
 * (the two backends sort text by their own collations). A difference rolls the copy back.
 *
 * Into PostgreSQL a table's rows go in one COPY in binary, each value as the destination's
 * column keeps it, with the table's user triggers disabled and its foreign keys dropped while
 * they arrive: a statement a row cost a round trip each, and the row triggers and foreign-key
 * checks more than the COPY's own work (docs/benchmarks.md). Each key is added back after the
 * COPY, which checks the whole table at once. Into SQLite rows go a prepared statement each.
 *
 * The destination must be empty (a new SQLite file, or a PostgreSQL database with no parus
 * schema yet or an empty one); the copy never merges. The identity sequences of a PostgreSQL
 * destination are moved past the copied ids, so that later inserts do not collide.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* Every table of schema 20, parents before children, season_state last. */
static const char *const copy_tables[] = {
    "parcels",
    "parcels_rtree",
    "parcel_rejects",
    "parcel_changes",
    "parcel_overlaps",
    "parcel_retirements",
    "tiles",
    "radar_tiles",
    "runs",
    "observation_values",
    "radar_observations",
    "parcel_crops",
    "samples",
    "sample_points",
    "assessments",
    "parcel_results",
    "parcel_flags",
    "peer_curves",
    "limits",
    "assessment_inputs",
    "observation_outliers",
    "weather_grids",
    "weather_cells",
    "weather_files",
    "weather_values",
    "weather_parcel_grids",
    "weather_weights",
    "season_state",
};
#define N_COPY_TABLES (sizeof copy_tables / sizeof copy_tables[0])
#define MAX_COLUMNS 64

/* The tables of a store's schema, its internals aside (SQLite's R-tree shadow tables; the
 * PostgreSQL store's parus_meta and what extensions brought). */
static const char count_sqlite_tables[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND "
    "name NOT LIKE 'parcels_rtree_%'";
static const char count_pg_tables[] =
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
    "n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> 'parus_meta' AND "
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND "
    "d.objid = c.oid AND d.deptype = 'e')";

/* ---- row digests ---- */

struct digest {
    uint64_t n_rows;
    uint64_t sum;  /* of each row's hash */
    uint64_t xor ; /* of each row's hash, mixed again */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Column i of st's row into h: its type, then its value in a form both backends give alike. */
static uint64_t hash_value(uint64_t h, parus__stmt *st, int i)
{
    int type = parus__column_type(st, i);
    unsigned char tag = (unsigned char)type;
    h = fnv(h, &tag, 1);
    switch (type) {
    case SQLITE_INTEGER: {
        int64_t v = parus__column_int64(st, i);
        return fnv(h, &v, sizeof v);
    }
    case SQLITE_FLOAT: {
        double v = parus__column_double(st, i);
        return fnv(h, &v, sizeof v);
    }
    case SQLITE_TEXT:
        return fnv(h, parus__column_text(st, i), (size_t)parus__column_bytes(st, i));
    case SQLITE_BLOB:
        return fnv(h, parus__column_blob(st, i), (size_t)parus__column_bytes(st, i));
    default:
        return h;
    }
}

static void digest_row(struct digest *d, parus__stmt *st, int n_cols)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < n_cols; i++)
        h = hash_value(h, st, i);
    d->n_rows++;
    d->sum += h;
    d->xor ^= mix(h);
}

/* ---- one table ---- */

/* Bind column i of the source row as parameter i + 1 of ins. */
static int bind_from(parus__stmt *ins, parus__stmt *row, int i)
{
    switch (parus__column_type(row, i)) {
    case SQLITE_INTEGER:
        return parus__bind_int64(ins, i + 1, parus__column_int64(row, i));
    case SQLITE_FLOAT:
        return parus__bind_double(ins, i + 1, parus__column_double(row, i));
    case SQLITE_TEXT:
        return parus__bind_text(ins, i + 1, (const char *)parus__column_text(row, i),
                                parus__column_bytes(row, i));
    case SQLITE_BLOB:
        return parus__bind_blob(ins, i + 1, parus__column_blob(row, i),
                                (size_t)parus__column_bytes(row, i));
    default:
        return parus__bind_null(ins, i + 1);
    }
}

struct table_copy {
    char columns[2048]; /* "a, b, c" as read from the source, generated columns left out */
    char names[MAX_COLUMNS][64];
    int n_cols;
    struct digest from, to;
};

/* The source's columns of its first step: PostgreSQL's generated parcels.geom is not copied (the
 * destination computes its own, or has none). */
static bool read_columns(parus__stmt *st, bool src_pg, const char *table, struct table_copy *t,
                         int *keep)
{
    size_t used = 0;
    int n = parus__column_count(st);
    t->n_cols = 0;
    for (int i = 0; i < n && i < MAX_COLUMNS; i++) {
        const char *name = parus__column_name(st, i);
        int w;
        keep[i] = !(src_pg && strcmp(table, "parcels") == 0 && strcmp(name, "geom") == 0);
        if (!keep[i])
            continue;
        w = snprintf(t->columns + used, sizeof t->columns - used, "%s%s", t->n_cols ? ", " : "",
                     name);
        if (w < 0 || (size_t)w >= sizeof t->columns - used || strlen(name) >= sizeof t->names[0])
            return false;
        memcpy(t->names[t->n_cols], name, strlen(name) + 1);
        used += (size_t)w;
        t->n_cols++;
    }
    return n > 0 && n <= MAX_COLUMNS;
}

/* ---- into PostgreSQL: COPY in binary ---- */

/* The destination's column types a store has (store_pg_schema.c): PostgreSQL's type oids. */
enum { OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25, OID_FLOAT8 = 701 };

static const char *type_name(int type)
{
    static const char *const names[] = {[SQLITE_INTEGER] = "an integer",
                                        [SQLITE_FLOAT] = "a real",
                                        [SQLITE_TEXT] = "text",
                                        [SQLITE_BLOB] = "a blob"};
    return type > 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "NULL";
}

/* What a PostgreSQL destination keeps in each of t's columns, as the source's column types
 * (SQLITE_INTEGER for BIGINT, SQLITE_FLOAT for DOUBLE PRECISION, SQLITE_TEXT, SQLITE_BLOB for
 * BYTEA): SQLITE_OK with *known true when every column is one of those, false when a column is
 * not (the rows then go a statement each, as into SQLite). */
static int dst_types(parus_store *dst, const char *table, const struct table_copy *t, int *types,
                     bool *known)
{
    static const char sql[] = "SELECT a.attname, CAST(a.atttypid AS BIGINT) FROM pg_attribute a "
                              "WHERE a.attrelid = CAST(?1 AS regclass) AND a.attnum > 0 AND NOT "
                              "a.attisdropped";
    parus__stmt *st;
    int rc = parus__db_prepare(dst->db, sql, false, &st);
    for (int k = 0; k < t->n_cols; k++)
        types[k] = SQLITE_NULL;
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, table, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *name = (const char *)parus__column_text(st, 0);
        int64_t oid = parus__column_int64(st, 1);
        int type = oid == OID_INT8     ? SQLITE_INTEGER
                   : oid == OID_FLOAT8 ? SQLITE_FLOAT
                   : oid == OID_TEXT   ? SQLITE_TEXT
                   : oid == OID_BYTEA  ? SQLITE_BLOB
                                       : SQLITE_NULL;
        for (int k = 0; name && k < t->n_cols; k++)
            if (strcmp(t->names[k], name) == 0)
                types[k] = type;
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    *known = true;
    for (int k = 0; k < t->n_cols; k++)
        *known = *known && types[k] != SQLITE_NULL;
    return SQLITE_OK;
}

/* A table's foreign keys, dropped while its rows arrive and added back after. */
#define MAX_LIFTED 8
struct lifted {
    int n;
    char name[MAX_LIFTED][64];
    char def[MAX_LIFTED][512]; /* "FOREIGN KEY (a) REFERENCES t(b) ON DELETE CASCADE" */
};

/* Before a table's COPY into PostgreSQL: its user triggers disabled and its foreign keys
 * dropped, inside the copy's transaction. A row trigger and a foreign key's check a row cost
 * more than the COPY's own work (the season triggers of parcels 35 us a row, a key's check 20,
 * against 20 for a parcel's row with its geometry and indexes); the triggers only mark
 * seasons of season_state stale, which is empty until it is copied last, so they would do
 * nothing, and each key is checked again, over the whole table at once, when it is added back
 * (lift_end). A table with more keys than struct lifted holds keeps them. */
static int lift_begin(parus_store *dst, const char *table, struct lifted *l)
{
    static const char sql[] = "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                              "WHERE conrelid = CAST(?1 AS regclass) AND contype = 'f' ORDER BY "
                              "conname";
    char alter[700];
    parus__stmt *st;
    bool fits = true;
    int rc = parus__db_prepare(dst->db, sql, false, &st);
    l->n = 0;
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, table, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        const char *name = (const char *)parus__column_text(st, 0);
        const char *def = (const char *)parus__column_text(st, 1);
        rc = SQLITE_OK;
        if (l->n == MAX_LIFTED || !name || !def || strlen(name) >= sizeof l->name[0] ||
            strlen(def) >= sizeof l->def[0] || strchr(name, '"')) {
            fits = false;
            continue;
        }
        memcpy(l->name[l->n], name, strlen(name) + 1);
        memcpy(l->def[l->n], def, strlen(def) + 1);
        l->n++;
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    if (!fits)
        l->n = 0;
    snprintf(alter, sizeof alter, "ALTER TABLE %s DISABLE TRIGGER USER", table);
    rc = parus__db_exec(dst->db, alter);
    for (int i = 0; rc == SQLITE_OK && i < l->n; i++) {
        snprintf(alter, sizeof alter, "ALTER TABLE %s DROP CONSTRAINT \"%s\"", table, l->name[i]);
        rc = parus__db_exec(dst->db, alter);
    }
    return rc;
}

/* After the COPY: the triggers back, and each foreign key added back, which checks every row
 * of the table in one query and fails the copy when a row refers to nothing. */
static int lift_end(parus_store *dst, const char *table, const struct lifted *l)
{
    char alter[700];
    int rc;
    snprintf(alter, sizeof alter, "ALTER TABLE %s ENABLE TRIGGER USER", table);
    rc = parus__db_exec(dst->db, alter);
    for (int i = 0; rc == SQLITE_OK && i < l->n; i++) {
        snprintf(alter, sizeof alter, "ALTER TABLE %s ADD CONSTRAINT \"%s\" %s", table, l->name[i],
                 l->def[i]);
        rc = parus__db_exec(dst->db, alter);
    }
    return rc;
}

/* Column i of the source row, as field k of a COPY row (binary format: a 32-bit length, -1 for
 * NULL, then the value, big-endian): SQLITE_OK, SQLITE_MISMATCH when the value is not of the
 * column's type in the destination (which would otherwise convert it, and the check after the
 * copy find it changed), or the COPY's error. */
static int put_field(parus_store *dst, parus__stmt *row, int i, int type)
{
    unsigned char head[12];
    int have = parus__column_type(row, i);
    if (have == SQLITE_NULL) {
        parus__put_be(head, 0xffffffffu, 4);
        return parus__db_copy_put(dst->db, head, 4);
    }
    if (have != type)
        return SQLITE_MISMATCH;
    if (have == SQLITE_INTEGER || have == SQLITE_FLOAT) {
        uint64_t bits;
        if (have == SQLITE_INTEGER) {
            bits = (uint64_t)parus__column_int64(row, i);
        } else {
            double v = parus__column_double(row, i);
            memcpy(&bits, &v, sizeof bits);
        }
        parus__put_be(head, 8, 4);
        parus__put_be(head + 4, bits, 8);
        return parus__db_copy_put(dst->db, head, 12);
    }
    {
        const void *p = have == SQLITE_TEXT ? (const void *)parus__column_text(row, i)
                                            : parus__column_blob(row, i);
        int n = parus__column_bytes(row, i);
        int rc;
        parus__put_be(head, (uint64_t)n, 4);
        rc = parus__db_copy_put(dst->db, head, 4);
        return rc == SQLITE_OK && n > 0 ? parus__db_copy_put(dst->db, p, (size_t)n) : rc;
    }
}

/* The source's rows from rd (stepped once, *step its result) into the destination's table by one
 * COPY ... FROM STDIN (FORMAT binary): no statement and no round trip a row. A value the
 * destination cannot hold as it is abandons the COPY. */
static parus_status copy_rows_pg(parus_store *src, parus_store *dst, const char *table,
                                 struct table_copy *t, parus__stmt *rd, const int *keep,
                                 const int *types, int *step, parus_error *err)
{
    char sql[2200];
    unsigned char count[2];
    int rc, n_all = parus__column_count(rd);

    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN (FORMAT binary)", table, t->columns);
    rc = parus__db_copy_begin(dst->db, sql);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(dst, rc, err, "copy: cannot write table %s into '%s'", table,
                                     dst->path);
    rc = parus__db_copy_put(dst->db, parus__copy_header, sizeof parus__copy_header);
    parus__put_be(count, (uint64_t)t->n_cols, 2);
    while (rc == SQLITE_OK && *step == SQLITE_ROW) {
        rc = parus__db_copy_put(dst->db, count, sizeof count);
        for (int i = 0, k = 0; rc == SQLITE_OK && i < n_all; i++) {
            if (!keep[i])
                continue;
            rc = put_field(dst, rd, i, types[k]);
            if (rc == SQLITE_MISMATCH) {
                parus__db_copy_end(dst->db, false);
                return parus_fail(err, PARUS_E_STORE,
                                  "copy: row %llu of table %s of '%s' holds %s in column %s, "
                                  "which '%s' keeps as %s: nothing was copied",
                                  (unsigned long long)t->from.n_rows + 1, table, src->path,
                                  type_name(parus__column_type(rd, i)), t->names[k], dst->path,
                                  type_name(types[k]));
            }
            k++;
        }
        if (rc == SQLITE_OK) {
            digest_row(&t->from, rd, t->n_cols);
            *step = parus__step(rd);
        }
    }
    if (rc == SQLITE_OK && *step != SQLITE_DONE) {
        parus__db_copy_end(dst->db, false);
        return parus__store_sql_fail(src, *step, err, "copy: cannot read table %s of '%s'", table,
                                     src->path);
    }
    rc = parus__copy_finish(dst->db, rc);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(dst, rc, err, "copy: cannot write table %s into '%s'", table,
                                     dst->path);
    return PARUS_OK;
}

static parus_status copy_table(parus_store *src, parus_store *dst, const char *table,
                               struct table_copy *t, parus_error *err)
{
    char sql[4400], ins_sql[4400];
    parus__stmt *rd = NULL, *ins = NULL;
    int keep[MAX_COLUMNS], rc, step;
    size_t used;

    memset(t, 0, sizeof *t);
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    rc = parus__db_prepare(src->db, sql, false, &rd);
    if (rc == SQLITE_OK)
        parus__stmt_stream(rd);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(src, rc, err, "copy: cannot read table %s of '%s'", table,
                                     src->path);
    step = parus__step(rd);
    if ((step != SQLITE_ROW && step != SQLITE_DONE) ||
        !read_columns(rd, parus__db_is_pg(src->db), table, t, keep)) {
        parus_status code =
            step != SQLITE_ROW && step != SQLITE_DONE
                ? parus__store_sql_fail(src, step, err, "copy: cannot read table %s of '%s'", table,
                                        src->path)
                : parus_fail(err, PARUS_E_STORE,
                             "copy: table %s of '%s' has no columns parus "
                             "knows how to copy",
                             table, src->path);
        parus__finalize(rd);
        return code;
    }
    if (parus__db_is_pg(dst->db)) {
        int types[MAX_COLUMNS];
        bool known = false;
        parus_status code;
        rc = dst_types(dst, table, t, types, &known);
        if (rc != SQLITE_OK) {
            parus__finalize(rd);
            return parus__store_sql_fail(dst, rc, err, "copy: cannot read table %s of '%s'", table,
                                         dst->path);
        }
        if (known) {
            struct lifted l;
            rc = lift_begin(dst, table, &l);
            code = rc == SQLITE_OK ? copy_rows_pg(src, dst, table, t, rd, keep, types, &step, err)
                                   : parus__store_sql_fail(dst, rc, err,
                                                           "copy: cannot write table %s into '%s'",
                                                           table, dst->path);
            parus__finalize(rd);
            if (code == PARUS_OK && (rc = lift_end(dst, table, &l)) != SQLITE_OK)
                code = parus__store_sql_fail(dst, rc, err,
                                             "copy: table %s of '%s' does not hold in '%s'", table,
                                             src->path, dst->path);
            return code;
        }
    }
    used = (size_t)snprintf(ins_sql, sizeof ins_sql, "INSERT INTO %s (%s) VALUES (", table,
                            t->columns);
    for (int i = 0; i < t->n_cols; i++)
        used +=
            (size_t)snprintf(ins_sql + used, sizeof ins_sql - used, "%s?%d", i ? ", " : "", i + 1);
    snprintf(ins_sql + used, sizeof ins_sql - used, ")");
    rc = parus__db_prepare(dst->db, ins_sql, false, &ins);
    while (rc == SQLITE_OK && step == SQLITE_ROW) {
        int k = 0;
        /* the kept columns, renumbered 0.. in the statement that reads them back below */
        for (int i = 0; rc == SQLITE_OK && i < parus__column_count(rd); i++) {
            if (!keep[i])
                continue;
            rc = bind_from(ins, rd, i);
            if (rc == SQLITE_OK && k != i)
                rc = SQLITE_INTERNAL; /* only a last column is ever left out */
            k++;
        }
        if (rc == SQLITE_OK) {
            digest_row(&t->from, rd, t->n_cols);
            rc = parus__step(ins);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        parus__reset(ins);
        parus__clear_bindings(ins);
        if (rc == SQLITE_OK)
            step = parus__step(rd);
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        parus_status code = parus__store_sql_fail(
            src, step, err, "copy: cannot read table %s of '%s'", table, src->path);
        parus__finalize(rd);
        parus__finalize(ins);
        return code;
    }
    parus__finalize(rd);
    parus__finalize(ins);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(dst, rc, err, "copy: cannot write table %s into '%s'", table,
                                     dst->path);
    return PARUS_OK;
}

/* The destination's rows of table, digested as the source's were. */
static parus_status read_back(parus_store *dst, const char *table, struct table_copy *t,
                              parus_error *err)
{
    char sql[2200];
    parus__stmt *st;
    int rc;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s", t->columns, table);
    rc = parus__db_prepare(dst->db, sql, false, &st);
    if (rc == SQLITE_OK)
        parus__stmt_stream(st);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        digest_row(&t->to, st, t->n_cols);
        rc = SQLITE_OK;
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(dst, rc, err, "copy: cannot read back table %s of '%s'", table,
                                     dst->path);
    if (t->to.n_rows != t->from.n_rows || t->to.sum != t->from.sum || t->to.xor != t->from.xor)
        return parus_fail(
            err, PARUS_E_STORE,
            "copy: table %s of '%s' does not read back as it was read from the "
            "source (%llu rows written, %llu read back, digests %s): nothing was "
            "copied",
            table, dst->path, (unsigned long long)t->from.n_rows, (unsigned long long)t->to.n_rows,
            t->to.sum == t->from.sum && t->to.xor == t->from.xor ? "equal" : "differ");
    return PARUS_OK;
}

/* A PostgreSQL destination's identity columns continue after the copied ids. */
static parus_status move_sequences(parus_store *dst, const char *table, parus_error *err)
{
    static const char cols_sql[] = "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = "
                                   "CAST(?1 AS regclass) AND a.attidentity <> ''";
    parus__stmt *st;
    int rc = parus__db_prepare(dst->db, cols_sql, false, &st);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 1, table, -1);
    while (rc == SQLITE_OK && (rc = parus__step(st)) == SQLITE_ROW) {
        char sql[512];
        const char *col = (const char *)parus__column_text(st, 0);
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), (SELECT coalesce(max(%s), 0) "
                 "FROM %s) + 1, false)",
                 table, col, col, table);
        rc = parus__db_exec(dst->db, sql);
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(dst, rc, err, "copy: cannot set the ids of %s in '%s'", table,
                                     dst->path);
    return PARUS_OK;
}

static parus_status check_tables(parus_store *src, parus_store *dst, parus_error *err)
{
    int64_t n_src = 0, n = 0;
    int rc = parus__store_one_int(
        src, parus__db_is_pg(src->db) ? count_pg_tables : count_sqlite_tables, &n_src);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(src, rc, err, "copy: cannot read '%s'", src->path);
    if (n_src != (int64_t)N_COPY_TABLES)
        return parus_fail(err, PARUS_E_STORE,
                          "copy: '%s' has %lld tables, this parus copies the %zu of schema %d: "
                          "nothing was copied",
                          src->path, (long long)n_src, N_COPY_TABLES, PARUS_STORE_SCHEMA_VERSION);
    for (size_t i = 0; i < N_COPY_TABLES; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", copy_tables[i]);
        rc = parus__store_one_int(dst, sql, &n);
        if (rc != SQLITE_OK)
            return parus__store_sql_fail(dst, rc, err, "copy: cannot read '%s'", dst->path);
        if (n != 0)
            return parus_fail(err, PARUS_E_INVALID,
                              "copy: '%s' is not empty (table %s holds %lld rows): store copy "
                              "writes only into a new store, it never merges",
                              dst->path, copy_tables[i], (long long)n);
    }
    return PARUS_OK;
}

parus_status parus_store_copy(const char *src_path, const char *dst_path,
                              parus_store_copy_stats *stats, parus_error *err)
{
    parus_store *src = NULL, *dst = NULL;
    parus_store_copy_stats s = {0};
    parus_status code;
    struct table_copy t;
    char shown[512];

    if (!src_path || !dst_path)
        return parus_fail(err, PARUS_E_INVALID, "copy: missing source or destination");
    parus_store_display_name(src_path, shown, sizeof shown);
    if (strcmp(src_path, dst_path) == 0)
        return parus_fail(err, PARUS_E_INVALID, "copy: '%s' is both source and destination", shown);
    code = parus_store_open_readonly(src_path, &src, err);
    if (code == PARUS_OK)
        code = parus__store_require_current(src, err);
    if (code == PARUS_OK)
        code = parus_store_open(dst_path, &dst, err);
    if (code == PARUS_OK)
        code = check_tables(src, dst, err);
    if (code == PARUS_OK)
        code = parus_store_snapshot_begin(src, err);
    if (code == PARUS_OK && (code = parus__store_tx_begin(dst, err)) == PARUS_OK) {
        for (size_t i = 0; code == PARUS_OK && i < N_COPY_TABLES; i++) {
            code = copy_table(src, dst, copy_tables[i], &t, err);
            if (code == PARUS_OK)
                code = read_back(dst, copy_tables[i], &t, err);
            if (code == PARUS_OK && parus__db_is_pg(dst->db))
                code = move_sequences(dst, copy_tables[i], err);
            if (code == PARUS_OK) {
                s.n_tables++;
                s.n_rows += (size_t)t.from.n_rows;
                if (strcmp(copy_tables[i], "observation_values") == 0)
                    s.n_observations = (size_t)t.from.n_rows;
                if (strcmp(copy_tables[i], "parcels") == 0)
                    s.n_parcels = (size_t)t.from.n_rows;
            }
        }
        if (code == PARUS_OK)
            code = parus__store_tx_commit(dst, err);
        else
            parus__store_tx_rollback(dst);
    }
    parus_store_snapshot_end(src);
    parus_store_close(src);
    parus_store_close(dst);
    if (code == PARUS_OK && stats)
        *stats = s;
    return code;
}

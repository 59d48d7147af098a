/*
 * test_support.h - what every parus test needs beyond CMocka: close-enough comparison of doubles
 * (CMocka 1.1.5 has none), scratch directories, the real-data directory, and running the CLI.
 */
#ifndef PARUS_TEST_SUPPORT_H
#define PARUS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A skipped case must show as skipped in CTest, not as passed: skip() counts the skip before
 * CMocka's own, and cmocka_run_group_tests then returns PARUS_TEST_SKIPPED (CTest's
 * SKIP_RETURN_CODE, tests/CMakeLists.txt) when a case was skipped and none failed, and 1 when any
 * failed (never 77 by accident). A suite that mixes real-data and synthetic cases therefore shows
 * as "Skipped" when the real data is absent; its output names the cases that ran. */
#define PARUS_TEST_SKIPPED 77
#undef skip
#define skip() parus_test_skip(__FILE__, __LINE__)
void parus_test_skip(const char *file, int line);
#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)                           \
    parus_test_exit_status(_cmocka_run_group_tests(#group_tests, group_tests,                      \
                                                   sizeof(group_tests) / sizeof((group_tests)[0]), \
                                                   group_setup, group_teardown))
/* The exit status of a suite from the number of failed cases CMocka returns and the skips
 * counted. */
int parus_test_exit_status(int n_failed);

/* Fails the test unless |a - b| <= abs_tol or |a - b| <= rel_tol * max(|a|, |b|). */
#define assert_close(a, b, abs_tol, rel_tol)                                                       \
    parus_test_assert_close((a), (b), (abs_tol), (rel_tol), #a, #b, __FILE__, __LINE__)
void parus_test_assert_close(double a, double b, double abs_tol, double rel_tol, const char *sa,
                             const char *sb, const char *file, int line);

/* A fresh empty directory under $TMPDIR (or /tmp), removed by parus_test_rmtree. The returned
 * string is malloc'ed. */
char *parus_test_tmpdir(const char *tag);
void parus_test_rmtree(const char *path);
/* malloc'ed "dir/name". */
char *parus_test_path(const char *dir, const char *name);
/* Write bytes to a file; returns 0 on success. */
int parus_test_write_file(const char *path, const void *data, size_t n);
/* A fresh database NAME (dropped first, with PostGIS) on the PostgreSQL server CTest started for
 * the suites that need one (fixture "pg", tests/CMakeLists.txt: PARUS_TEST_PG_DIR): its libpq
 * connection string, malloc'ed; NULL with a message on stderr when there is no server (PostgreSQL
 * not installed): the caller skips. */
char *parus_test_pg_database(const char *name);

/* ---- the store-facing suites on both backends ----
 * A suite that works through the store's API and the CLI runs twice under CTest: as NAME on
 * SQLite files, and as NAME_pg with PARUS_TEST_BACKEND=pg on the pg fixture's PostgreSQL server
 * (tests/CMakeLists.txt, parus_add_pg_variant). Its stores come from parus_test_store (a file, or
 * a fresh database), its copies from parus_test_store_copy, its SQL from parus_test_sql; a case
 * that only means something on a SQLite file (it copies, truncates or corrupts the file, or opens
 * it with sqlite3_*) is listed with cmocka_unit_test_sqlite_only and left out of the _pg run. */
bool parus_test_on_pg(void);
/* A fresh store DIR/NAME: the file's path on SQLite; on PostgreSQL the connection string of a
 * fresh database named after DIR's last component and NAME. malloc'ed; fails the test when the
 * server cannot make one. */
char *parus_test_store(const char *dir, const char *name);
/* Where store DIR/NAME is, made or not (parus_test_store makes it): its path, or the connection
 * string of its database on the server. malloc'ed. */
char *parus_test_store_at(const char *dir, const char *name);
/* A copy of the store SRC as the new store DIR/NAME (cp of the file and its -wal; CREATE
 * DATABASE ... TEMPLATE on the server: no connection may be open to SRC). */
char *parus_test_store_copy(const char *src, const char *dir, const char *name);
/* The answer of one query (or several, ;-separated) to the store DB (sqlite3, or psql -At; both
 * given in single quotes, any text), malloc'ed, trailing newline
 * cut; fails the test when the query fails. */
char *parus_test_sql(const char *db, const char *sql);
/* SELECT count(*) FROM <from_where>. */
long long parus_test_sql_count(const char *db, const char *from_where);
extern const char parus_test_sqlite_only[];
#define cmocka_unit_test_sqlite_only(f)                                                            \
    {                                                                                              \
#f, f, NULL, NULL, (void *)parus_test_sqlite_only                                          \
    }
/* Runs the group's cases (on PostgreSQL, all but the SQLite-only ones, named on stderr); exits
 * 77 (skipped) on PostgreSQL when the fixture has no server. */
int parus_test_run_backend_group(const char *name, const struct CMUnitTest *tests, size_t n,
                                 CMFixtureFunction setup, CMFixtureFunction teardown);
#define cmocka_run_backend_group_tests(group_tests, group_setup, group_teardown)                   \
    parus_test_run_backend_group(#group_tests, group_tests,                                        \
                                 sizeof(group_tests) / sizeof((group_tests)[0]), group_setup,      \
                                 group_teardown)

/* A whole file as a malloc'ed NUL-terminated string; fails the test when it cannot be read. */
char *parus_test_read_file(const char *path);

/* The real data directory (../shared/data by default; PARUS_DATA_DIR or PARUS_TEST_DATA_DIR in
 * the environment), or NULL with a message on stderr when it, or the given entry inside it, is
 * absent. Tests that need it call skip() on NULL. */
const char *parus_test_data_dir(const char *entry);
/* The source tree (for data-samples/). */
const char *parus_test_source_dir(void);

/* Run a shell command line; returns its exit status (or -1), capturing stdout and stderr into
 * malloc'ed strings when the pointers are not NULL. */
int parus_test_run(const char *cmdline, char **out, char **errout);

/* The parus and parus-synth programs under test (PARUS_BIN, PARUS_SYNTH; else from PATH). */
const char *parus_test_bin(void);
const char *parus_test_synth_bin(void);

/* Run the printf-style command line; fail the test unless it exits want_rc (showing both
 * streams); return its stdout followed by its stderr, malloc'ed. */
char *parus_test_run_expect(int want_rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A malloc'ed little-endian WKB Polygon of the rectangle [x0, x1] x [y0, y1] (one ring, five
 * points), its size in *size. */
unsigned char *parus_test_rect_wkb(double x0, double y0, double x1, double y1, size_t *size);

#endif

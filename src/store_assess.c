/*
 * store_assess.c - what an assessment of a season leaves in the store (schema version 5): every
 * parcel's result (crop, condition, planted area, yield, value, the credit rule's verdict), its
 * event flags, the peer curves the conditions were judged against, and every farmer's limit; and
 * the readers that the export and the analyst's query answer from.
 *
 * Workload: one write per `parus assess` (a county: 140,000 results, a few thousand flags and
 * curves, tens of thousands of limits), as ONE transaction that first removes the season's old
 * rows, so a season's results are always those of exactly one run: the transaction is opened
 * together with the season's assessments (store_season.c), which the same run rewrites. Reads are
 * by key: one parcel or one farmer for a person at a terminal (a primary-key lookup: well under a
 * millisecond), a season in key order for the export. Tables keyed by (season, ...) are WITHOUT
 * ROWID, clustered on their key, so a season's walk reads the file in order.
 *
 * Validation happens before SQL sees a row, so a bad row is refused with a message naming the
 * parcel or farmer and the field, and the CHECK constraints of the schema are a second net.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"

/* ---- statements ---- */

enum results_stmt {
    R_CLEAR_RESULTS,
    R_CLEAR_FLAGS,
    R_CLEAR_CURVES,
    R_CLEAR_LIMITS,
    R_RESULT_PUT,
    R_RESULT_CREDIT,
    R_FLAG_PUT,
    R_CURVE_PUT,
    R_LIMIT_PUT,
    R_RESULT_GET,
    R_RESULT_ALL,
    R_FLAGS_GET,
    R_CURVE_GET,
    R_LIMIT_GET,
    R_LIMIT_ALL,
    R_FARMER_PARCELS,
    R_FARMERS,
    R_SEASON_ASSESSED,
    R_SEASON_TRACK,
    R_SEASON_GET,
    R_SEASON_ALL,
    R_N_
};

_Static_assert(PARUS__STORE_STMT_RESULTS + R_N_ <= PARUS__STORE_STMT_WEATHER,
               "statement cache too small");

#define RESULT_COLUMNS                                                                             \
    "season, parcel_id, run_id, crop, crop_probability, crop_method, crop_confidence, "            \
    "n_clear_obs, first_date, last_date, peer_group, health_class, health_score, "                 \
    "health_reference, n_peers, green_ratio, planted_fraction, planted_area_m2, area_m2, "         \
    "declared_area_m2, area_check, ndvi_integral_10d, ndvi_peak, yield_expected_kg_per_mu, "       \
    "yield_p10_kg_per_mu, price_cny_per_kg, value_expected_fen, value_p10_fen, flags, reason, "    \
    "credit_counted, credit_value_fen, credit_reasons, assessed_at, planted_area_lo_m2, "          \
    "planted_area_hi_m2, sensors, weather_rain_mm, weather_rain_normal_mm, weather_rain_deficit, " \
    "weather_heat_days"
#define RESULT_QMARKS                                                                              \
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "  \
    "?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, "   \
    "?39, ?40, ?41"
#define RESULT_READ                                                                                \
    "r.season, r.parcel_id, r.run_id, r.crop, r.crop_probability, r.crop_method, "                 \
    "r.crop_confidence, r.n_clear_obs, r.first_date, r.last_date, r.peer_group, r.health_class, "  \
    "r.health_score, r.health_reference, r.n_peers, r.green_ratio, r.planted_fraction, "           \
    "r.planted_area_m2, r.area_m2, r.declared_area_m2, r.area_check, r.ndvi_integral_10d, "        \
    "r.ndvi_peak, r.yield_expected_kg_per_mu, r.yield_p10_kg_per_mu, r.price_cny_per_kg, "         \
    "r.value_expected_fen, r.value_p10_fen, r.flags, r.reason, r.credit_counted, "                 \
    "r.credit_value_fen, r.credit_reasons, r.assessed_at, p.farmer_id, r.planted_area_lo_m2, "     \
    "r.planted_area_hi_m2, r.sensors, r.weather_rain_mm, r.weather_rain_normal_mm, "               \
    "r.weather_rain_deficit, r.weather_heat_days"
#define FLAG_COLUMNS                                                                               \
    "season, parcel_id, flag, first_date, last_date, size, confidence, reason, run_id"
#define CURVE_COLUMNS "season, crop, grp, step, day, n, ndvi_median, ndvi_p25, ndvi_p75, run_id"
#define LIMIT_COLUMNS                                                                              \
    "season, farmer_id, run_id, limit_cny, currency, n_parcels, n_parcels_valued, "                \
    "planted_area_m2, declared_area_m2, main_crop, value_expected_fen, value_p10_fen, health, "    \
    "flags, reasons, confidence, latest_date, model_version, policy_hash, repayment_date, "        \
    "debt_fen, parts, assessed_at, sensors"

static const char *const results_sql[R_N_] = {
    [R_CLEAR_RESULTS] = "DELETE FROM parcel_results WHERE season = ?1",
    [R_CLEAR_FLAGS] = "DELETE FROM parcel_flags WHERE season = ?1",
    [R_CLEAR_CURVES] = "DELETE FROM peer_curves WHERE season = ?1",
    [R_CLEAR_LIMITS] = "DELETE FROM limits WHERE season = ?1",
    [R_RESULT_PUT] = "INSERT INTO parcel_results (" RESULT_COLUMNS ") VALUES (" RESULT_QMARKS ")",
    [R_RESULT_CREDIT] = "UPDATE parcel_results SET credit_counted = ?3, credit_value_fen = ?4, "
                        "credit_reasons = ?5 WHERE season = ?1 AND parcel_id = ?2",
    [R_FLAG_PUT] =
        "INSERT INTO parcel_flags (" FLAG_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [R_CURVE_PUT] = "INSERT INTO peer_curves (" CURVE_COLUMNS
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [R_LIMIT_PUT] = "INSERT INTO limits (" LIMIT_COLUMNS
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                    "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    [R_RESULT_GET] = "SELECT " RESULT_READ " FROM parcel_results r LEFT JOIN parcels p ON "
                     "p.id = r.parcel_id WHERE r.season = ?1 AND r.parcel_id = ?2",
    [R_RESULT_ALL] = "SELECT " RESULT_READ " FROM parcel_results r LEFT JOIN parcels p ON "
                     "p.id = r.parcel_id WHERE r.season = ?1 ORDER BY r.parcel_id",
    [R_FLAGS_GET] = "SELECT " FLAG_COLUMNS " FROM parcel_flags WHERE season = ?1 AND "
                    "parcel_id = ?2 ORDER BY first_date, flag",
    [R_CURVE_GET] = "SELECT " CURVE_COLUMNS " FROM peer_curves WHERE season = ?1 AND crop = ?2 "
                    "AND grp = ?3 ORDER BY step",
    [R_LIMIT_GET] = "SELECT " LIMIT_COLUMNS " FROM limits WHERE season = ?1 AND farmer_id = ?2",
    [R_LIMIT_ALL] = "SELECT " LIMIT_COLUMNS " FROM limits WHERE season = ?1 ORDER BY farmer_id",
    [R_FARMER_PARCELS] = "SELECT id FROM parcels WHERE farmer_id = ?1 ORDER BY id",
    [R_FARMERS] = "SELECT DISTINCT farmer_id FROM parcels WHERE farmer_id IS NOT NULL "
                  "ORDER BY farmer_id",
    /* the season's results are whole again: in the transaction that writes them, nowhere else */
    [R_SEASON_ASSESSED] =
        "INSERT INTO season_state (season, first_date, last_date, stale, assessed_run_id, "
        "assessed_at) VALUES (?1, substr(?1, 1, 10), substr(?1, 12, 10), 0, ?2, ?3) "
        "ON CONFLICT (season) DO UPDATE SET stale = 0, stale_since = NULL, stale_cause = NULL, "
        "assessed_run_id = excluded.assessed_run_id, assessed_at = excluded.assessed_at",
    /* a season named for the first time: stale when a tile of its window is stored and not in
     * its results (none, or older than the tile) */
    [R_SEASON_TRACK] =
        "INSERT INTO season_state (season, first_date, last_date, stale, stale_since, "
        "stale_cause, assessed_run_id, assessed_at) "
        "SELECT ?1, substr(?1, 1, 10), substr(?1, 12, 10), s.stale, "
        "CASE WHEN s.stale = 1 THEN ?2 END, CASE WHEN s.stale = 1 THEN 'tiles of the window "
        "stored and not assessed (found when the season was first tracked)' END, s.run_id, s.at "
        "FROM (SELECT r.at, r.run_id, CAST(EXISTS (SELECT 1 FROM tiles t WHERE t.date BETWEEN "
        "substr(?1, 1, 10) AND substr(?1, 12, 10) AND t.processed_at >= coalesce(r.at, '')) "
        "AS INTEGER) AS stale FROM (SELECT max(assessed_at) AS at, max(run_id) AS run_id FROM ("
        "SELECT assessed_at, run_id FROM limits WHERE season = ?1 UNION ALL "
        "SELECT assessed_at, run_id FROM parcel_results WHERE season = ?1) AS u) AS r) AS s "
        /* WHERE: SQLite's parser needs one before ON CONFLICT after a SELECT */
        "WHERE true ON CONFLICT (season) DO NOTHING",
    [R_SEASON_GET] = "SELECT season, stale, stale_since, stale_cause, assessed_run_id, assessed_at "
                     "FROM season_state WHERE season = ?1",
    [R_SEASON_ALL] = "SELECT season, stale, stale_since, stale_cause, assessed_run_id, assessed_at "
                     "FROM season_state ORDER BY season",
};

/* ---- the tables in bulk (PostgreSQL, store_bulk.c) ---- */

static const struct parus__bulk_spec results_bulk = {
    "the results",
    "CREATE TEMP TABLE IF NOT EXISTS parus_results_in (LIKE parcel_results, seq BIGINT) "
    "ON COMMIT DELETE ROWS",
    "COPY parus_results_in (" RESULT_COLUMNS ", seq) FROM STDIN (FORMAT binary)", 42};
static const struct parus__bulk_spec credits_bulk = {
    "the credit verdicts",
    "CREATE TEMP TABLE IF NOT EXISTS parus_credits_in (season TEXT, parcel_id TEXT, "
    "credit_counted BIGINT, credit_value_fen BIGINT, credit_reasons TEXT, seq BIGINT) "
    "ON COMMIT DELETE ROWS",
    "COPY parus_credits_in (season, parcel_id, credit_counted, credit_value_fen, credit_reasons, "
    "seq) FROM STDIN (FORMAT binary)",
    6};
static const struct parus__bulk_spec flags_bulk = {
    "the flags",
    "CREATE TEMP TABLE IF NOT EXISTS parus_flags_in (LIKE parcel_flags, seq BIGINT) "
    "ON COMMIT DELETE ROWS",
    "COPY parus_flags_in (" FLAG_COLUMNS ", seq) FROM STDIN (FORMAT binary)", 10};
static const struct parus__bulk_spec limits_bulk = {
    "the limits",
    "CREATE TEMP TABLE IF NOT EXISTS parus_limits_in (LIKE limits, seq BIGINT) "
    "ON COMMIT DELETE ROWS",
    "COPY parus_limits_in (" LIMIT_COLUMNS ", seq) FROM STDIN (FORMAT binary)", 25};

/* What stands for the checks the per-row statements make, each query giving the first row (in
 * the order given) that fails it: a parcel that is not in the store (the foreign key), a key
 * given twice (the primary key), a credit verdict before its parcel's result (the UPDATE that
 * changes no row). */
static const char bulk_results_missing[] =
    "SELECT parcel_id FROM parus_results_in i WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE "
    "p.id = i.parcel_id) ORDER BY seq LIMIT 1";
static const char bulk_results_twice[] =
    "SELECT parcel_id FROM parus_results_in GROUP BY parcel_id HAVING count(*) > 1 "
    "ORDER BY max(seq) LIMIT 1";
static const char bulk_credits_orphan[] =
    "SELECT c.parcel_id FROM parus_credits_in c WHERE NOT EXISTS (SELECT 1 FROM "
    "parus_results_in r WHERE r.parcel_id = c.parcel_id AND r.seq < c.seq) ORDER BY c.seq "
    "LIMIT 1";
/* a parcel's last verdict is the one that stays, as with one UPDATE after another */
static const char bulk_credits_apply[] =
    "UPDATE parus_results_in r SET credit_counted = c.credit_counted, credit_value_fen = "
    "c.credit_value_fen, credit_reasons = c.credit_reasons FROM (SELECT DISTINCT ON (parcel_id) "
    "parcel_id, credit_counted, credit_value_fen, credit_reasons FROM parus_credits_in "
    "ORDER BY parcel_id, seq DESC) c WHERE r.parcel_id = c.parcel_id";
static const char bulk_results_move[] =
    "INSERT INTO parcel_results (" RESULT_COLUMNS ") SELECT " RESULT_COLUMNS
    " FROM parus_results_in ORDER BY seq";
static const char bulk_flags_missing[] =
    "SELECT parcel_id FROM parus_flags_in i WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE "
    "p.id = i.parcel_id) ORDER BY seq LIMIT 1";
static const char bulk_flags_twice[] =
    "SELECT parcel_id FROM parus_flags_in GROUP BY parcel_id, flag, first_date "
    "HAVING count(*) > 1 ORDER BY max(seq) LIMIT 1";
static const char bulk_flags_move[] = "INSERT INTO parcel_flags (" FLAG_COLUMNS
                                      ") SELECT " FLAG_COLUMNS " FROM parus_flags_in ORDER BY seq";
static const char bulk_limits_twice[] =
    "SELECT farmer_id FROM parus_limits_in GROUP BY farmer_id HAVING count(*) > 1 "
    "ORDER BY max(seq) LIMIT 1";
static const char bulk_limits_move[] =
    "INSERT INTO limits (" LIMIT_COLUMNS ") SELECT " LIMIT_COLUMNS
    " FROM parus_limits_in ORDER BY seq";

static parus__stmt *stmt_get(parus_store *store, enum results_stmt id, parus_error *err)
{
    return parus__store_stmt(store, PARUS__STORE_STMT_RESULTS + (size_t)id, results_sql[id], err);
}

parus_status parus__store_results_prepare_all(parus_store *store, parus_error *err)
{
    return parus__store_prepare_list(store, PARUS__STORE_STMT_RESULTS, results_sql, R_N_, "results",
                                     err);
}

/* ---- binding and reading ---- */

/* Reads the next column of a row. */
typedef struct reader {
    parus__stmt *st;
    int i;
} reader;

static const char *r_text(reader *r)
{
    return (const char *)parus__column_text(r->st, r->i++);
}

static double r_real(reader *r)
{
    int i = r->i++;
    return parus__column_type(r->st, i) == SQLITE_NULL ? (double)NAN
                                                       : parus__column_double(r->st, i);
}

/* An integer, or fallback when NULL. */
static int64_t r_int(reader *r, int64_t fallback)
{
    int i = r->i++;
    return parus__column_type(r->st, i) == SQLITE_NULL ? fallback
                                                       : (int64_t)parus__column_int64(r->st, i);
}

static size_t r_size(reader *r)
{
    int64_t v = r_int(r, 0);
    return v > 0 ? (size_t)v : 0;
}

/* ---- checks ---- */

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* A real calendar date in canonical form, "YYYY-MM-DD" and nothing more. */
static bool is_date(const char *s)
{
    char canon[11];
    return s && strlen(s) == 10 && parus__parse_date(s, canon) && strcmp(canon, s) == 0;
}

/* NULL or a date */
static bool opt_date(const char *s)
{
    return !s || is_date(s);
}

/* NaN or in [0, 1] */
static bool opt_unit(double v)
{
    return isnan(v) || (v >= 0.0 && v <= 1.0);
}

/* NaN or a finite value >= 0 */
static bool opt_nonneg(double v)
{
    return isnan(v) || (isfinite(v) && v >= 0.0);
}

static bool one_of(const char *s, const char *const *list, size_t n)
{
    size_t i;
    for (i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *const health_classes[] = {"good", "fair", "poor", "unknown"};
static const char *const references[] = {"peers", "curve", "none"};
static const char *const area_checks[] = {"ok", "shortfall", "excess", "undeclared"};
static const char *const confidences[] = {"normal", "low", "none"};
#define N_OF(a) (sizeof(a) / sizeof(a)[0])

/* A flag code: upper-case ASCII letters, digits and '_', 1..63 bytes. */
static bool is_code(const char *s)
{
    size_t n = 0;
    if (is_empty(s))
        return false;
    for (; s[n]; n++)
        if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n < 64;
}

static parus_status bad_season(const parus_store *store, const char *season, parus_error *err)
{
    return parus_fail(err, PARUS_E_INVALID,
                      "season '%s' is not a window 'YYYY-MM-DD/YYYY-MM-DD' with first <= last "
                      "(store '%s')",
                      season ? season : "", store->path);
}

/* A stop requested by a walk's callback: the callback's own error, else E_INTERNAL. */
static parus_status stopped(parus_error *err, int stop, const char *what, const char *where)
{
    if (err && err->code != PARUS_OK)
        return err->code;
    return parus_fail(err, PARUS_E_INTERNAL, "the walk over %s stopped at '%s' (%d)", what,
                      where ? where : "?", stop);
}

/* ---- the write transaction ---- */

/* E_INVALID unless the results of a season are open (and still in their transaction). */
static parus_status require_open(parus_store *store, const char *what, parus_error *err)
{
    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "%s: missing store", what);
    if (!store->open_results || !store->open_assess)
        return parus_fail(err, PARUS_E_INVALID, "%s: no season's results are open in '%s'", what,
                          store->path);
    return PARUS_OK;
}

/* Step a write; map the constraint failures. Resets the statement. */
static parus_status step_write(parus_store *store, parus__stmt *st, int rc, const char *what,
                               const char *subject, parus_error *err)
{
    parus_status code = PARUS_OK;
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = parus_fail(err, PARUS_E_NOT_FOUND, "parcel '%s' is not in '%s': %s not stored",
                          subject, store->path, what);
    else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        code = parus_fail(err, PARUS_E_DUPLICATE, "%s of '%s' is given twice for season %s in '%s'",
                          what, subject, store->open_assess_season, store->path);
    else if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL)
        code = parus_fail(err, PARUS_E_INVALID, "%s of '%s' breaks a rule of '%s': %s", what,
                          subject, store->path, parus__db_errmsg(store->db));
    else if (rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot store %s of '%s' in '%s'", what,
                                     subject, store->path);
    parus__reset(st);
    return code;
}

/* A move of rows in bulk that failed: the per-row statements' codes for what the checks before it
 * cannot have let through (a second net, as the CHECK constraints are). */
static parus_status bulk_fail(parus_store *store, int rc, const char *what, parus_error *err)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return parus_fail(err, PARUS_E_NOT_FOUND, "%s of season %s name a parcel not in '%s': %s",
                          what, store->open_assess_season, store->path,
                          parus__db_errmsg(store->db));
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return parus_fail(err, PARUS_E_DUPLICATE, "%s of season %s give a key twice in '%s': %s",
                          what, store->open_assess_season, store->path,
                          parus__db_errmsg(store->db));
    if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL)
        return parus_fail(err, PARUS_E_INVALID, "%s of season %s break a rule of '%s': %s", what,
                          store->open_assess_season, store->path, parus__db_errmsg(store->db));
    return parus__store_sql_fail(store, rc, err, "cannot store %s of season %s in '%s'", what,
                                 store->open_assess_season, store->path);
}

/* What a check of rows sent in bulk looks for, as the per-row statement would have refused it
 * (step_write's codes and messages). */
enum bulk_fault { BULK_MISSING, BULK_TWICE, BULK_NO_RESULT };

/* Run the check sql (the first offending row's parcel or farmer, none when all is well): PARUS_OK
 * when it finds none, else the refusal of `row` (what one row is) named by it. what: the rows
 * checked, for a failing query. */
static parus_status bulk_refuse(parus_store *store, const char *sql, enum bulk_fault fault,
                                const char *what, const char *row, parus_error *err)
{
    char id[256];
    int rc = parus__bulk_first(store, sql, id, sizeof id);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot check %s of season %s in '%s'", what,
                                     store->open_assess_season, store->path);
    if (!id[0])
        return PARUS_OK;
    switch (fault) {
    case BULK_MISSING:
        return parus_fail(err, PARUS_E_NOT_FOUND, "parcel '%s' is not in '%s': %s not stored", id,
                          store->path, row);
    case BULK_TWICE:
        return parus_fail(err, PARUS_E_DUPLICATE, "%s of '%s' is given twice for season %s in '%s'",
                          row, id, store->open_assess_season, store->path);
    case BULK_NO_RESULT:
        break;
    }
    return parus_fail(err, PARUS_E_NOT_FOUND,
                      "parcel '%s' has no result for season %s in '%s': no %s stored", id,
                      store->open_assess_season, store->path, row);
}

parus_status parus__store_results_bulk_move(parus_store *store, parus_error *err)
{
    struct parus__bulk *res = &store->bulk[PARUS__BULK_RESULTS],
                       *cred = &store->bulk[PARUS__BULK_CREDITS],
                       *flag = &store->bulk[PARUS__BULK_FLAGS],
                       *lim = &store->bulk[PARUS__BULK_LIMITS];
    parus_status code = PARUS_OK;
    int rc;

    for (size_t k = 0; k < PARUS__BULK_N; k++)
        if (k != PARUS__BULK_ASSESS && store->bulk[k].n_rows > 0 &&
            (code = parus__bulk_send(store, &store->bulk[k], err)) != PARUS_OK)
            return code;
    if (res->n_rows > 0 && ((code = bulk_refuse(store, bulk_results_missing, BULK_MISSING,
                                                "the results", "the result", err)) != PARUS_OK ||
                            (code = bulk_refuse(store, bulk_results_twice, BULK_TWICE,
                                                "the results", "the result", err)) != PARUS_OK))
        return code;
    if (cred->n_rows > 0) {
        /* verdicts and no result at all: the table of the results is still to be made */
        rc = parus__db_exec(store->db, results_bulk.create);
        if (rc != SQLITE_OK)
            return bulk_fail(store, rc, "the credit verdicts", err);
        code = bulk_refuse(store, bulk_credits_orphan, BULK_NO_RESULT, "the credit verdicts",
                           "credit verdict", err);
        if (code != PARUS_OK)
            return code;
        rc = parus__bulk_run(store, bulk_credits_apply);
        if (rc != SQLITE_OK)
            return bulk_fail(store, rc, "the credit verdicts", err);
    }
    if (res->n_rows > 0 && (rc = parus__bulk_run(store, bulk_results_move)) != SQLITE_OK)
        return bulk_fail(store, rc, "the results", err);
    if (flag->n_rows > 0) {
        if ((code = bulk_refuse(store, bulk_flags_missing, BULK_MISSING, "the flags", "a flag",
                                err)) != PARUS_OK ||
            (code = bulk_refuse(store, bulk_flags_twice, BULK_TWICE, "the flags", "a flag", err)) !=
                PARUS_OK)
            return code;
        if ((rc = parus__bulk_run(store, bulk_flags_move)) != SQLITE_OK)
            return bulk_fail(store, rc, "the flags", err);
    }
    if (lim->n_rows > 0) {
        code = bulk_refuse(store, bulk_limits_twice, BULK_TWICE, "the limits", "the limit", err);
        if (code != PARUS_OK)
            return code;
        if ((rc = parus__bulk_run(store, bulk_limits_move)) != SQLITE_OK)
            return bulk_fail(store, rc, "the limits", err);
    }
    /* moved: a second call (the commit of the assessments after that of the results) has
     * nothing left to do */
    res->n_rows = cred->n_rows = flag->n_rows = lim->n_rows = 0;
    return PARUS_OK;
}

parus_status parus_store_results_begin(parus_store *store, const char *season, int64_t run_id,
                                       parus_error *err)
{
    static const enum results_stmt clear[] = {R_CLEAR_FLAGS, R_CLEAR_RESULTS, R_CLEAR_CURVES,
                                              R_CLEAR_LIMITS};
    parus_status code;
    size_t i;

    if (!store)
        return parus_fail(err, PARUS_E_INVALID, "results_begin: missing store");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    if (run_id < 0)
        return parus_fail(err, PARUS_E_INVALID, "results_begin: run id %lld is negative",
                          (long long)run_id);
    if (store->open_results || store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "results_begin: the assessments of season %s are still open in '%s'",
                          store->open_assess_season, store->path);
    code = parus_store_assessments_begin(store, season, err);
    if (code != PARUS_OK)
        return code;
    store->open_results = true;
    store->open_results_run = run_id;
    for (i = 0; i < N_OF(clear); i++) {
        parus__stmt *st = stmt_get(store, clear[i], err);
        int rc;
        if (!st) {
            code = parus__store_prepare_failed(err);
            goto out_abort;
        }
        rc = parus__bind_text(st, 1, store->open_assess_season, -1);
        code = step_write(store, st, rc, "the old results", season, err);
        if (code != PARUS_OK)
            goto out_abort;
    }
    code = parus__store_audit_clear(store, store->open_assess_season, err);
    if (code == PARUS_OK)
        code = parus__store_outliers_clear(store, store->open_assess_season, err);
    if (code != PARUS_OK)
        goto out_abort;
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

parus_status parus_store_results_commit(parus_store *store, parus_error *err)
{
    parus_status code = require_open(store, "results_commit", err);
    parus__stmt *st;
    int rc;

    if (code != PARUS_OK) {
        if (store)
            store->open_results = false;
        return code;
    }
    if (store->bulk_on && (code = parus__store_results_bulk_move(store, err)) != PARUS_OK)
        goto out_abort;
    /* the season owes nothing once these results commit, and only then */
    st = stmt_get(store, R_SEASON_ASSESSED, err);
    if (!st) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    rc = parus__bind_text(st, 1, store->open_assess_season, -1);
    if (rc == SQLITE_OK)
        rc = store->open_results_run > 0 ? parus__bind_int64(st, 2, store->open_results_run)
                                         : parus__bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 3, store->open_assess_at, -1);
    code = step_write(store, st, rc, "the state", store->open_assess_season, err);
    if (code != PARUS_OK)
        goto out_abort;
    store->open_results = false;
    return parus__store_assessments_commit(store, true, err);

out_abort:
    parus_store_results_abort(store);
    return code;
}

void parus_store_results_abort(parus_store *store)
{
    if (!store || !store->open_results)
        return;
    store->open_results = false;
    parus_store_assessments_abort(store);
}

/* ---- results ---- */

static parus_status check_result(const parus_store *store, const parus_parcel_result *r,
                                 parus_error *err)
{
    const char *why = NULL;

    if (is_empty(r->parcel_id))
        return parus_fail(err, PARUS_E_INVALID, "a result of season %s has no parcel id",
                          store->open_assess_season);
    if (r->season && strcmp(r->season, store->open_assess_season) != 0)
        why = "is for another season than the one open";
    else if ((unsigned)r->crop_method > PARUS_ASSESS_CALENDAR ||
             (unsigned)r->crop_confidence > PARUS_CONFIDENCE_LOW)
        why = "has an unknown crop method or confidence";
    else if (r->crop_method == PARUS_ASSESS_NONE &&
             (r->crop || r->crop_confidence != PARUS_CONFIDENCE_NONE))
        why = "has no crop method but a crop or a confidence";
    else if (r->crop_method != PARUS_ASSESS_NONE &&
             (is_empty(r->crop) || r->crop_confidence == PARUS_CONFIDENCE_NONE))
        why = "has a crop method without a crop or a confidence";
    else if (r->crop_method == PARUS_ASSESS_CALENDAR && r->crop_confidence != PARUS_CONFIDENCE_LOW)
        why = "is a calendar match with a confidence other than low";
    else if (r->health_class && !one_of(r->health_class, health_classes, N_OF(health_classes)))
        why = "has a health class other than good, fair, poor or unknown";
    else if (r->health_reference && !one_of(r->health_reference, references, N_OF(references)))
        why = "has a health reference other than peers, curve or none";
    else if (r->area_check && !one_of(r->area_check, area_checks, N_OF(area_checks)))
        why = "has an area check other than ok, shortfall, excess or undeclared";
    else if (!opt_unit(r->crop_probability) || !opt_unit(r->health_score) ||
             !opt_unit(r->planted_fraction))
        why = "has a probability, score or planted fraction outside [0, 1]";
    else if (!opt_nonneg(r->planted_area_m2) || !opt_nonneg(r->area_m2) ||
             !opt_nonneg(r->declared_area_m2) || isinf(r->green_ratio) ||
             !opt_nonneg(r->yield_expected_kg_per_mu) || !opt_nonneg(r->yield_p10_kg_per_mu) ||
             !opt_nonneg(r->price_cny_per_kg))
        why = "has a negative or infinite area, yield or price, or an infinite ratio";
    else if (!opt_nonneg(r->planted_area_lo_m2) || !opt_nonneg(r->planted_area_hi_m2) ||
             isnan(r->planted_area_lo_m2) != isnan(r->planted_area_hi_m2) ||
             r->planted_area_lo_m2 > r->planted_area_hi_m2)
        why = "has a planted area interval that is negative, infinite, half given or reversed";
    else if (r->valued && (r->value_p10_fen < 0 || r->value_p10_fen > r->value_expected_fen))
        why = "has a value that is negative or a P10 above the expected value";
    else if (!r->valued && is_empty(r->reason))
        why = "has no value and no reason";
    else if (!opt_date(r->first_date) || !opt_date(r->last_date))
        why = "has a first or last date that is not YYYY-MM-DD";
    else if (r->n_clear_obs > (size_t)INT64_MAX || r->n_peers > (size_t)INT64_MAX)
        why = "has a count out of range";
    if (why)
        return parus_fail(err, PARUS_E_INVALID, "the result of parcel '%s' for season %s %s",
                          r->parcel_id, store->open_assess_season, why);
    return PARUS_OK;
}

parus_status parus_store_results_put(parus_store *store, const parus_parcel_result *r,
                                     parus_error *err)
{
    parus_status code = require_open(store, "results_put", err);
    parus__stmt *st;
    parus__binder b;

    if (code != PARUS_OK)
        return code;
    if (!r) {
        code = parus_fail(err, PARUS_E_INVALID, "results_put: missing result");
        goto out_abort;
    }
    code = check_result(store, r, err);
    if (code != PARUS_OK)
        goto out_abort;
    b.st = st = NULL;
    b.bulk = NULL;
    b.i = 0;
    b.rc = SQLITE_OK;
    if (store->bulk_on) {
        b.bulk = &store->bulk[PARUS__BULK_RESULTS];
        parus__bulk_row(b.bulk, &results_bulk);
    } else if (!(b.st = st = stmt_get(store, R_RESULT_PUT, err))) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    parus__b_text(&b, store->open_assess_season);
    parus__b_text(&b, r->parcel_id);
    if (store->open_results_run)
        parus__b_int(&b, store->open_results_run);
    else
        parus__b_null(&b);
    parus__b_text(&b, r->crop);
    parus__b_real(&b, r->crop ? r->crop_probability : (double)NAN);
    parus__b_text(&b, parus_assess_method_name(r->crop_method));
    parus__b_text(&b, parus_assess_confidence_name(r->crop_confidence));
    parus__b_int(&b, (int64_t)r->n_clear_obs);
    parus__b_text(&b, r->first_date);
    parus__b_text(&b, r->last_date);
    parus__b_text(&b, r->peer_group);
    parus__b_text(&b, r->health_class ? r->health_class : "unknown");
    parus__b_real(&b, r->health_score);
    parus__b_text(&b, r->health_reference ? r->health_reference : "none");
    parus__b_int(&b, (int64_t)r->n_peers);
    parus__b_real(&b, r->green_ratio);
    parus__b_real(&b, r->planted_fraction);
    parus__b_real(&b, r->planted_area_m2);
    parus__b_real(&b, r->area_m2);
    parus__b_real(&b, r->declared_area_m2);
    parus__b_text(&b, r->area_check);
    parus__b_real(&b, r->ndvi_integral_10d);
    parus__b_real(&b, r->ndvi_peak);
    parus__b_real(&b, r->yield_expected_kg_per_mu);
    parus__b_real(&b, r->yield_p10_kg_per_mu);
    parus__b_real(&b, r->price_cny_per_kg);
    if (r->valued) {
        parus__b_int(&b, r->value_expected_fen);
        parus__b_int(&b, r->value_p10_fen);
    } else {
        parus__b_null(&b);
        parus__b_null(&b);
    }
    parus__b_text(&b, r->flags ? r->flags : "");
    parus__b_text(&b, is_empty(r->reason) ? NULL : r->reason);
    parus__b_null(&b); /* the credit verdict comes later */
    parus__b_null(&b);
    parus__b_null(&b);
    parus__b_text(&b, store->open_assess_at);
    parus__b_real(&b, r->planted_area_lo_m2);
    parus__b_real(&b, r->planted_area_hi_m2);
    parus__b_text(&b, is_empty(r->sensors) ? NULL : r->sensors);
    parus__b_real(&b, r->weather_rain_mm);
    parus__b_real(&b, r->weather_rain_normal_mm);
    parus__b_real(&b, r->weather_rain_deficit);
    parus__b_real(&b, r->weather_heat_days);
    code = b.bulk ? parus__bulk_row_end(store, b.bulk, r->parcel_id, err)
                  : step_write(store, st, b.rc, "the result", r->parcel_id, err);
    if (code != PARUS_OK)
        goto out_abort;
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

parus_status parus_store_results_put_credit(parus_store *store, const char *parcel_id, bool counted,
                                            int64_t value_fen, const char *reasons,
                                            parus_error *err)
{
    parus_status code = require_open(store, "results_put_credit", err);
    parus__stmt *st;
    parus__binder b;

    if (code != PARUS_OK)
        return code;
    if (is_empty(parcel_id) || value_fen < 0) {
        code = parus_fail(err, PARUS_E_INVALID, "results_put_credit: %s for season %s",
                          is_empty(parcel_id) ? "no parcel id" : "a negative value",
                          store->open_assess_season);
        goto out_abort;
    }
    b.st = st = NULL;
    b.bulk = NULL;
    b.i = 0;
    b.rc = SQLITE_OK;
    if (store->bulk_on) {
        b.bulk = &store->bulk[PARUS__BULK_CREDITS];
        parus__bulk_row(b.bulk, &credits_bulk);
    } else if (!(b.st = st = stmt_get(store, R_RESULT_CREDIT, err))) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    parus__b_text(&b, store->open_assess_season);
    parus__b_text(&b, parcel_id);
    parus__b_int(&b, counted ? 1 : 0);
    parus__b_int(&b, value_fen);
    parus__b_text(&b, reasons);
    code = b.bulk ? parus__bulk_row_end(store, b.bulk, parcel_id, err)
                  : step_write(store, st, b.rc, "the credit verdict", parcel_id, err);
    if (code != PARUS_OK)
        goto out_abort;
    /* in bulk, a verdict without its result is found at the commit */
    if (!b.bulk && parus__db_changes(store->db) != 1) {
        code = parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' has no result for season %s in '%s': no credit verdict "
                          "stored",
                          parcel_id, store->open_assess_season, store->path);
        goto out_abort;
    }
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

/* ---- flags ---- */

parus_status parus_store_results_put_flag(parus_store *store, const parus_result_flag *f,
                                          parus_error *err)
{
    parus_status code = require_open(store, "results_put_flag", err);
    const char *why = NULL;
    parus__stmt *st;
    parus__binder b;

    if (code != PARUS_OK)
        return code;
    if (!f || is_empty(f->parcel_id)) {
        code = parus_fail(err, PARUS_E_INVALID, "a flag of season %s has no parcel id",
                          store->open_assess_season);
        goto out_abort;
    }
    if (f->season && strcmp(f->season, store->open_assess_season) != 0)
        why = "is for another season than the one open";
    else if (!is_code(f->flag))
        why = "has a code that is not 1..63 upper-case letters, digits or '_'";
    else if (!is_date(f->first_date) || !is_date(f->last_date))
        why = "has a first or last date that is not YYYY-MM-DD";
    else if (strcmp(f->last_date, f->first_date) < 0)
        why = "ends before it begins";
    else if (!opt_unit(f->confidence))
        why = "has a confidence outside [0, 1]";
    else if (isinf(f->size))
        why = "has an infinite size";
    if (why) {
        code = parus_fail(err, PARUS_E_INVALID, "flag '%s' of parcel '%s' for season %s %s",
                          f->flag ? f->flag : "", f->parcel_id, store->open_assess_season, why);
        goto out_abort;
    }
    b.st = st = NULL;
    b.bulk = NULL;
    b.i = 0;
    b.rc = SQLITE_OK;
    if (store->bulk_on) {
        b.bulk = &store->bulk[PARUS__BULK_FLAGS];
        parus__bulk_row(b.bulk, &flags_bulk);
    } else if (!(b.st = st = stmt_get(store, R_FLAG_PUT, err))) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    parus__b_text(&b, store->open_assess_season);
    parus__b_text(&b, f->parcel_id);
    parus__b_text(&b, f->flag);
    parus__b_text(&b, f->first_date);
    parus__b_text(&b, f->last_date);
    parus__b_real(&b, f->size);
    parus__b_real(&b, f->confidence);
    parus__b_text(&b, f->reason);
    if (store->open_results_run)
        parus__b_int(&b, store->open_results_run);
    else
        parus__b_null(&b);
    code = b.bulk ? parus__bulk_row_end(store, b.bulk, f->parcel_id, err)
                  : step_write(store, st, b.rc, "a flag", f->parcel_id, err);
    if (code != PARUS_OK)
        goto out_abort;
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

/* ---- peer curves ---- */

static bool quartiles_in_order(const parus_peer_step *s)
{
    if (isnan(s->ndvi_median) || isnan(s->ndvi_p25) || isnan(s->ndvi_p75))
        return true;
    return s->ndvi_p25 <= s->ndvi_median && s->ndvi_median <= s->ndvi_p75;
}

parus_status parus_store_results_put_peer_curve(parus_store *store, const char *crop,
                                                const char *grp, const parus_peer_step *steps,
                                                size_t n, parus_error *err)
{
    parus_status code = require_open(store, "results_put_peer_curve", err);
    const char *why = NULL;
    size_t i;

    if (code != PARUS_OK)
        return code;
    if (is_empty(crop) || is_empty(grp))
        why = "has no crop or no group";
    else if (n == 0 || !steps)
        why = "has no step";
    for (i = 0; !why && i < n; i++) {
        if (i > 0 && steps[i].step <= steps[i - 1].step)
            why = "has its steps out of order or a step twice";
        else if (!is_date(steps[i].day))
            why = "has a step whose day is not YYYY-MM-DD";
        else if (!quartiles_in_order(&steps[i]))
            why = "has a step whose quartiles are out of order";
        else if (steps[i].step > (size_t)INT64_MAX || steps[i].n > (size_t)INT64_MAX)
            why = "has a count out of range";
    }
    if (why) {
        code = parus_fail(err, PARUS_E_INVALID, "the peer curve of crop '%s', group '%s' %s",
                          crop ? crop : "", grp ? grp : "", why);
        goto out_abort;
    }
    for (i = 0; i < n; i++) {
        parus__stmt *st = stmt_get(store, R_CURVE_PUT, err);
        char subject[192];
        parus__binder b;
        if (!st) {
            code = parus__store_prepare_failed(err);
            goto out_abort;
        }
        b.st = st;
        b.bulk = NULL;
        b.i = 0;
        b.rc = SQLITE_OK;
        parus__b_text(&b, store->open_assess_season);
        parus__b_text(&b, crop);
        parus__b_text(&b, grp);
        parus__b_int(&b, (int64_t)steps[i].step);
        parus__b_text(&b, steps[i].day);
        parus__b_int(&b, (int64_t)steps[i].n);
        parus__b_real(&b, steps[i].ndvi_median);
        parus__b_real(&b, steps[i].ndvi_p25);
        parus__b_real(&b, steps[i].ndvi_p75);
        if (store->open_results_run)
            parus__b_int(&b, store->open_results_run);
        else
            parus__b_null(&b);
        snprintf(subject, sizeof subject, "%s/%s", crop, grp);
        code = step_write(store, st, b.rc, "the peer curve", subject, err);
        if (code != PARUS_OK)
            goto out_abort;
    }
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

/* ---- limits ---- */

parus_status parus_store_results_put_limit(parus_store *store, const parus_limit *l,
                                           parus_error *err)
{
    parus_status code = require_open(store, "results_put_limit", err);
    const char *why = NULL;
    parus__stmt *st;
    parus__binder b;

    if (code != PARUS_OK)
        return code;
    if (!l || is_empty(l->farmer_id)) {
        code = parus_fail(err, PARUS_E_INVALID, "a limit of season %s has no farmer id",
                          store->open_assess_season);
        goto out_abort;
    }
    if (l->season && strcmp(l->season, store->open_assess_season) != 0)
        why = "is for another season than the one open";
    else if (l->limit_cny < 0 || l->debt_fen < 0 || l->value_p10_fen < 0 ||
             l->value_p10_fen > l->value_expected_fen)
        why = "has a negative limit, debt or value, or a P10 value above the expected value";
    else if (!opt_nonneg(l->planted_area_m2) || !opt_nonneg(l->declared_area_m2))
        why = "has a negative or infinite area";
    else if (!one_of(l->health, health_classes, N_OF(health_classes)))
        why = "has a health other than good, fair, poor or unknown";
    else if (!one_of(l->confidence, confidences, N_OF(confidences)))
        why = "has a confidence other than normal, low or none";
    else if (is_empty(l->currency))
        why = "has no currency";
    else if (!opt_date(l->latest_date) || !opt_date(l->repayment_date))
        why = "has a latest or repayment date that is not YYYY-MM-DD";
    else if (l->n_parcels_valued > l->n_parcels || l->n_parcels > (size_t)INT64_MAX)
        why = "has more valued parcels than parcels";
    if (why) {
        code = parus_fail(err, PARUS_E_INVALID, "the limit of farmer '%s' for season %s %s",
                          l->farmer_id, store->open_assess_season, why);
        goto out_abort;
    }
    b.st = st = NULL;
    b.bulk = NULL;
    b.i = 0;
    b.rc = SQLITE_OK;
    if (store->bulk_on) {
        b.bulk = &store->bulk[PARUS__BULK_LIMITS];
        parus__bulk_row(b.bulk, &limits_bulk);
    } else if (!(b.st = st = stmt_get(store, R_LIMIT_PUT, err))) {
        code = parus__store_prepare_failed(err);
        goto out_abort;
    }
    parus__b_text(&b, store->open_assess_season);
    parus__b_text(&b, l->farmer_id);
    if (store->open_results_run)
        parus__b_int(&b, store->open_results_run);
    else
        parus__b_null(&b);
    parus__b_int(&b, l->limit_cny);
    parus__b_text(&b, l->currency);
    parus__b_int(&b, (int64_t)l->n_parcels);
    parus__b_int(&b, (int64_t)l->n_parcels_valued);
    parus__b_real(&b, l->planted_area_m2);
    parus__b_real(&b, l->declared_area_m2);
    parus__b_text(&b, l->main_crop);
    parus__b_int(&b, l->value_expected_fen);
    parus__b_int(&b, l->value_p10_fen);
    parus__b_text(&b, l->health);
    parus__b_text(&b, l->flags ? l->flags : "");
    parus__b_text(&b, l->reasons ? l->reasons : "");
    parus__b_text(&b, l->confidence);
    parus__b_text(&b, l->latest_date);
    parus__b_text(&b, l->model_version);
    parus__b_text(&b, l->policy_hash);
    parus__b_text(&b, l->repayment_date);
    parus__b_int(&b, l->debt_fen);
    parus__b_text(&b, l->parts);
    parus__b_text(&b, store->open_assess_at);
    parus__b_text(&b, is_empty(l->sensors) ? NULL : l->sensors);
    code = b.bulk ? parus__bulk_row_end(store, b.bulk, l->farmer_id, err)
                  : step_write(store, st, b.rc, "the limit", l->farmer_id, err);
    if (code != PARUS_OK)
        goto out_abort;
    return PARUS_OK;

out_abort:
    parus_store_results_abort(store);
    return code;
}

/* ---- readers ---- */

static parus_assess_method method_of(const char *s)
{
    if (s && strcmp(s, "model") == 0)
        return PARUS_ASSESS_MODEL;
    if (s && strcmp(s, "calendar") == 0)
        return PARUS_ASSESS_CALENDAR;
    return PARUS_ASSESS_NONE;
}

static parus_assess_confidence confidence_of(const char *s)
{
    if (s && strcmp(s, "normal") == 0)
        return PARUS_CONFIDENCE_NORMAL;
    if (s && strcmp(s, "low") == 0)
        return PARUS_CONFIDENCE_LOW;
    return PARUS_CONFIDENCE_NONE;
}

/* A row of RESULT_READ; pointers borrow the statement's memory. */
static void row_result(parus__stmt *st, parus_parcel_result *r)
{
    reader c = {st, 0};
    memset(r, 0, sizeof *r);
    r->season = r_text(&c);
    r->parcel_id = r_text(&c);
    r->run_id = r_int(&c, 0);
    r->crop = r_text(&c);
    r->crop_probability = r_real(&c);
    r->crop_method = method_of(r_text(&c));
    r->crop_confidence = confidence_of(r_text(&c));
    r->n_clear_obs = r_size(&c);
    r->first_date = r_text(&c);
    r->last_date = r_text(&c);
    r->peer_group = r_text(&c);
    r->health_class = r_text(&c);
    r->health_score = r_real(&c);
    r->health_reference = r_text(&c);
    r->n_peers = r_size(&c);
    r->green_ratio = r_real(&c);
    r->planted_fraction = r_real(&c);
    r->planted_area_m2 = r_real(&c);
    r->area_m2 = r_real(&c);
    r->declared_area_m2 = r_real(&c);
    r->area_check = r_text(&c);
    r->ndvi_integral_10d = r_real(&c);
    r->ndvi_peak = r_real(&c);
    r->yield_expected_kg_per_mu = r_real(&c);
    r->yield_p10_kg_per_mu = r_real(&c);
    r->price_cny_per_kg = r_real(&c);
    r->valued = parus__column_type(st, c.i) != SQLITE_NULL;
    r->value_expected_fen = r_int(&c, 0);
    r->value_p10_fen = r_int(&c, 0);
    r->flags = r_text(&c);
    r->reason = r_text(&c);
    r->credit_counted = (int)r_int(&c, -1);
    r->credit_value_fen = r_int(&c, -1);
    r->credit_reasons = r_text(&c);
    r->assessed_at = r_text(&c);
    r->farmer_id = r_text(&c);
    r->planted_area_lo_m2 = r_real(&c);
    r->planted_area_hi_m2 = r_real(&c);
    r->sensors = r_text(&c);
    r->weather_rain_mm = r_real(&c);
    r->weather_rain_normal_mm = r_real(&c);
    r->weather_rain_deficit = r_real(&c);
    r->weather_heat_days = r_real(&c);
}

static void row_flag(parus__stmt *st, parus_result_flag *f)
{
    reader c = {st, 0};
    f->season = r_text(&c);
    f->parcel_id = r_text(&c);
    f->flag = r_text(&c);
    f->first_date = r_text(&c);
    f->last_date = r_text(&c);
    f->size = r_real(&c);
    f->confidence = r_real(&c);
    f->reason = r_text(&c);
}

static void row_step(parus__stmt *st, parus_peer_step *s)
{
    reader c = {st, 3}; /* after season, crop, grp */
    const char *day;
    s->step = r_size(&c);
    day = r_text(&c);
    snprintf(s->day, sizeof s->day, "%s", day ? day : "");
    s->n = r_size(&c);
    s->ndvi_median = r_real(&c);
    s->ndvi_p25 = r_real(&c);
    s->ndvi_p75 = r_real(&c);
}

static void row_limit(parus__stmt *st, parus_limit *l)
{
    reader c = {st, 0};
    l->season = r_text(&c);
    l->farmer_id = r_text(&c);
    l->run_id = r_int(&c, 0);
    l->limit_cny = r_int(&c, 0);
    l->currency = r_text(&c);
    l->n_parcels = r_size(&c);
    l->n_parcels_valued = r_size(&c);
    l->planted_area_m2 = r_real(&c);
    l->declared_area_m2 = r_real(&c);
    l->main_crop = r_text(&c);
    l->value_expected_fen = r_int(&c, 0);
    l->value_p10_fen = r_int(&c, 0);
    l->health = r_text(&c);
    l->flags = r_text(&c);
    l->reasons = r_text(&c);
    l->confidence = r_text(&c);
    l->latest_date = r_text(&c);
    l->model_version = r_text(&c);
    l->policy_hash = r_text(&c);
    l->repayment_date = r_text(&c);
    l->debt_fen = r_int(&c, 0);
    l->parts = r_text(&c);
    l->assessed_at = r_text(&c);
    l->sensors = r_text(&c);
}

/* What a query reads: one kind of row, given to the callback of that kind. */
typedef enum row_kind { ROW_RESULT, ROW_FLAG, ROW_STEP, ROW_LIMIT, ROW_ID } row_kind;

typedef union row_fn {
    parus_parcel_result_fn result;
    parus_result_flag_fn flag;
    parus_peer_step_fn step;
    parus_limit_fn limit;
    parus_id_fn id;
} row_fn;

/* Call fn for each row of st (its parameters bound) as a row of kind; *n_rows the number
 * visited. A non-zero return from fn stops a walk (one_row: the reader of one row, where fn's
 * return does not matter). Resets st. */
static parus_status walk_rows(parus_store *store, parus__stmt *st, row_kind kind, row_fn fn,
                              bool one_row, void *ctx, size_t *n_rows, const char *what,
                              parus_error *err)
{
    parus_status code = PARUS_OK;
    size_t n = 0;
    int rc;

    while ((rc = parus__step(st)) == SQLITE_ROW) {
        const char *where = (const char *)parus__column_text(st, kind == ROW_ID ? 0 : 1);
        int stop = 0;
        n++;
        switch (kind) {
        case ROW_RESULT: {
            parus_parcel_result r;
            row_result(st, &r);
            stop = fn.result(&r, ctx);
            break;
        }
        case ROW_FLAG: {
            parus_result_flag f;
            row_flag(st, &f);
            stop = fn.flag(&f, ctx);
            break;
        }
        case ROW_STEP: {
            parus_peer_step s;
            row_step(st, &s);
            stop = fn.step(&s, ctx);
            break;
        }
        case ROW_LIMIT: {
            parus_limit l;
            row_limit(st, &l);
            stop = fn.limit(&l, ctx);
            break;
        }
        case ROW_ID:
            stop = fn.id(where ? where : "", ctx);
            break;
        }
        if (one_row)
            break;
        if (stop) {
            code = stopped(err, stop, what, where);
            parus__reset(st);
            return code;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        code = parus__store_sql_fail(store, rc, err, "cannot read %s in '%s'", what, store->path);
    parus__reset(st);
    if (code == PARUS_OK && n_rows)
        *n_rows = n;
    return code;
}

/* The common prologue of the readers: checks, statement, bound text parameters (NULL ends). */
static parus__stmt *reader_open(parus_store *store, enum results_stmt id, bool seasonal,
                                const char *season, const char *p2, const char *p3,
                                parus_status *code, parus_error *err)
{
    parus__stmt *st;
    parus__binder b;

    *code = PARUS_OK;
    if (!store) {
        *code = parus_fail(err, PARUS_E_INVALID, "%s: missing store", "read results");
        return NULL;
    }
    *code = parus__store_require_current(store, err);
    if (*code != PARUS_OK)
        return NULL;
    if (seasonal && !parus_store_season_valid(season)) {
        *code = bad_season(store, season, err);
        return NULL;
    }
    st = stmt_get(store, id, err);
    if (!st) {
        *code = parus__store_prepare_failed(err);
        return NULL;
    }
    b.st = st;
    b.bulk = NULL;
    b.i = 0;
    b.rc = SQLITE_OK;
    if (seasonal)
        parus__b_text(&b, season);
    if (p2)
        parus__b_text(&b, p2);
    if (p3)
        parus__b_text(&b, p3);
    if (b.rc != SQLITE_OK) {
        *code =
            parus__store_sql_fail(store, b.rc, err, "cannot read the results of '%s'", store->path);
        parus__reset(st);
        return NULL;
    }
    return st;
}

parus_status parus_store_get_parcel_result(parus_store *store, const char *season,
                                           const char *parcel_id, parus_parcel_result_fn fn,
                                           void *ctx, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;
    size_t n = 0;

    if (!parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "get_parcel_result: missing id or function");
    st = reader_open(store, R_RESULT_GET, true, season, parcel_id, NULL, &code, err);
    if (!st)
        return code;
    f.result = fn;
    code = walk_rows(store, st, ROW_RESULT, f, true, ctx, &n, "a parcel's result", err);
    if (code == PARUS_OK && n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "parcel '%s' has no assessment result for season %s in '%s'", parcel_id,
                          season, store->path);
    return code;
}

parus_status parus_store_results_foreach(parus_store *store, const char *season,
                                         parus_parcel_result_fn fn, void *ctx, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;

    parus_error_init(err);
    if (!fn)
        return parus_fail(err, PARUS_E_INVALID, "results_foreach: missing function");
    st = reader_open(store, R_RESULT_ALL, true, season, NULL, NULL, &code, err);
    if (!st)
        return code;
    f.result = fn;
    return walk_rows(store, st, ROW_RESULT, f, false, ctx, NULL, "the results", err);
}

parus_status parus_store_parcel_flags(parus_store *store, const char *season, const char *parcel_id,
                                      parus_result_flag_fn fn, void *ctx, size_t *n_flags,
                                      parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;

    parus_error_init(err);
    if (!parcel_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "parcel_flags: missing id or function");
    st = reader_open(store, R_FLAGS_GET, true, season, parcel_id, NULL, &code, err);
    if (!st)
        return code;
    f.flag = fn;
    return walk_rows(store, st, ROW_FLAG, f, false, ctx, n_flags, "a parcel's flags", err);
}

parus_status parus_store_get_peer_curve(parus_store *store, const char *season, const char *crop,
                                        const char *grp, parus_peer_step_fn fn, void *ctx,
                                        size_t *n_steps, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;
    size_t n = 0;

    parus_error_init(err);
    if (!crop || !grp || !fn)
        return parus_fail(err, PARUS_E_INVALID, "get_peer_curve: missing crop, group or function");
    st = reader_open(store, R_CURVE_GET, true, season, crop, grp, &code, err);
    if (!st)
        return code;
    f.step = fn;
    code = walk_rows(store, st, ROW_STEP, f, false, ctx, &n, "a peer curve", err);
    if (code == PARUS_OK && n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND,
                          "no peer curve of crop '%s', group '%s' for season %s in '%s'", crop, grp,
                          season, store->path);
    if (code == PARUS_OK && n_steps)
        *n_steps = n;
    return code;
}

parus_status parus_store_get_limit(parus_store *store, const char *season, const char *farmer_id,
                                   parus_limit_fn fn, void *ctx, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;
    size_t n = 0;

    if (!farmer_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "get_limit: missing farmer id or function");
    st = reader_open(store, R_LIMIT_GET, true, season, farmer_id, NULL, &code, err);
    if (!st)
        return code;
    f.limit = fn;
    code = walk_rows(store, st, ROW_LIMIT, f, true, ctx, &n, "a farmer's limit", err);
    if (code == PARUS_OK && n == 0)
        return parus_fail(err, PARUS_E_NOT_FOUND, "farmer '%s' has no limit for season %s in '%s'",
                          farmer_id, season, store->path);
    return code;
}

parus_status parus_store_limits_foreach(parus_store *store, const char *season, parus_limit_fn fn,
                                        void *ctx, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;

    parus_error_init(err);
    if (!fn)
        return parus_fail(err, PARUS_E_INVALID, "limits_foreach: missing function");
    st = reader_open(store, R_LIMIT_ALL, true, season, NULL, NULL, &code, err);
    if (!st)
        return code;
    f.limit = fn;
    return walk_rows(store, st, ROW_LIMIT, f, false, ctx, NULL, "the limits", err);
}

parus_status parus_store_farmer_parcels(parus_store *store, const char *farmer_id, parus_id_fn fn,
                                        void *ctx, size_t *n_parcels, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;

    parus_error_init(err);
    if (!farmer_id || !fn)
        return parus_fail(err, PARUS_E_INVALID, "farmer_parcels: missing farmer id or function");
    st = reader_open(store, R_FARMER_PARCELS, false, NULL, farmer_id, NULL, &code, err);
    if (!st)
        return code;
    f.id = fn;
    return walk_rows(store, st, ROW_ID, f, false, ctx, n_parcels, "a farmer's parcels", err);
}

parus_status parus_store_farmers_foreach(parus_store *store, parus_id_fn fn, void *ctx,
                                         size_t *n_farmers, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    row_fn f;

    parus_error_init(err);
    if (!fn)
        return parus_fail(err, PARUS_E_INVALID, "farmers_foreach: missing function");
    st = reader_open(store, R_FARMERS, false, NULL, NULL, NULL, &code, err);
    if (!st)
        return code;
    f.id = fn;
    return walk_rows(store, st, ROW_ID, f, false, ctx, n_farmers, "the farmers", err);
}

/* ---- what a season is owed (schema 9) ---- */

static void season_state_row(parus__stmt *st, parus_season_state *s)
{
    const char *t;
    memset(s, 0, sizeof *s);
    t = (const char *)parus__column_text(st, 0);
    snprintf(s->season, sizeof s->season, "%s", t ? t : "");
    s->stale = parus__column_int64(st, 1) != 0;
    t = (const char *)parus__column_text(st, 2);
    snprintf(s->stale_since, sizeof s->stale_since, "%s", t ? t : "");
    t = (const char *)parus__column_text(st, 3);
    snprintf(s->stale_cause, sizeof s->stale_cause, "%s", t ? t : "");
    s->assessed_run_id = parus__column_int64(st, 4);
    t = (const char *)parus__column_text(st, 5);
    snprintf(s->assessed_at, sizeof s->assessed_at, "%s", t ? t : "");
}

parus_status parus_store_season_state_get(parus_store *store, const char *season,
                                          parus_season_state *out, bool *found, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    int rc;

    if (!store || !out || !found)
        return parus_fail(err, PARUS_E_INVALID, "season_state_get: missing store or output");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    st = stmt_get(store, R_SEASON_GET, err);
    if (!st)
        return parus__store_prepare_failed(err);
    rc = parus__bind_text(st, 1, season, -1);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        season_state_row(st, out);
        *found = true;
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        *found = false;
    }
    if (rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot read the state of season %s in '%s'",
                                     season, store->path);
    parus__reset(st);
    return code;
}

parus_status parus_store_season_track(parus_store *store, const char *season,
                                      parus_season_state *out, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    char now[32];
    bool found = false;
    int rc;

    if (!store || !out)
        return parus_fail(err, PARUS_E_INVALID, "season_track: missing store or output");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    if (!parus_store_season_valid(season))
        return bad_season(store, season, err);
    if (store->open_tile || store->open_assess)
        return parus_fail(err, PARUS_E_INVALID,
                          "season_track: a transaction of '%s' is open (a tile or a season)",
                          store->path);
    st = stmt_get(store, R_SEASON_TRACK, err);
    if (!st)
        return parus__store_prepare_failed(err);
    parus__store_utc_now(now);
    rc = parus__bind_text(st, 1, season, -1);
    if (rc == SQLITE_OK)
        rc = parus__bind_text(st, 2, now, -1);
    if (rc == SQLITE_OK)
        rc = parus__step(st);
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot record season %s in '%s'", season,
                                     store->path);
    code = parus_store_season_state_get(store, season, out, &found, err);
    if (code == PARUS_OK && !found)
        code = parus_fail(err, PARUS_E_INTERNAL, "season %s is not recorded in '%s'", season,
                          store->path);
    return code;
}

parus_status parus_store_season_states_foreach(parus_store *store, parus_season_state_fn fn,
                                               void *ctx, parus_error *err)
{
    parus_status code;
    parus__stmt *st;
    int rc;

    parus_error_init(err);
    if (!store || !fn)
        return parus_fail(err, PARUS_E_INVALID, "season_states_foreach: missing store or function");
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = stmt_get(store, R_SEASON_ALL, err);
    if (!st)
        return parus__store_prepare_failed(err);
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        parus_season_state s;
        int stop;
        season_state_row(st, &s);
        stop = fn(&s, ctx);
        if (stop) {
            parus__reset(st);
            return stopped(err, stop, "the seasons' states", s.season);
        }
    }
    parus__reset(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot read the seasons' states in '%s'",
                                     store->path);
    return PARUS_OK;
}

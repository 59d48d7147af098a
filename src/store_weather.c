/*
 * store_weather.c - the weather tables (schema 15, docs/store.md): grids, the imported files,
 * daily values per (grid, cell, variable, day), and each parcel's weights on each grid.
 *
 * A value is stored once per grid cell, never per parcel: a 0.1 degree cell holds hundreds of
 * smallholder parcels, which read it through their weights. A file's values, grid and record go
 * in one transaction: a file that fails half way (a disagreement with a file imported before, a
 * full disk) leaves nothing of itself. Statements here are prepared per call (a file import is a
 * few statements run many times; they are not worth a slot in the store's cache).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util_int.h"
#include "weather_int.h"

/* The variables' names are stored (weather_values.variable): here, beside the tables, so that the
 * parcel reader (and `parus query` through it) needs nothing of the GDAL reader in weather.c. */
static const char *const var_names[PARUS_WEATHER_N_VARS_] = {
    "precip_mm", "tmin_c", "tmax_c", "tmean_c", "rad_mj_m2", "et0_mm",
};

const char *parus_weather_var_name(parus_weather_var var)
{
    return (unsigned)var < PARUS_WEATHER_N_VARS_ ? var_names[var] : NULL;
}

void parus_weather_day_text(int64_t day, char out[11])
{
    parus__format_day(day, out);
}

static parus_status prep(parus_store *store, const char *sql, parus__stmt **st, parus_error *err)
{
    int rc = parus__db_prepare(store->db, sql, false, st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot prepare a weather statement on '%s'",
                                     store->path);
    return PARUS_OK;
}

parus_status parus__store_weather_known(parus_store *store, const char *hash, bool *known,
                                        parus_error *err)
{
    parus__stmt *st = NULL;
    parus_status code = parus__store_require_current(store, err);
    int rc;
    if (code != PARUS_OK)
        return code;
    code = prep(store, "SELECT 1 FROM weather_files WHERE hash = ?", &st, err);
    if (code != PARUS_OK)
        return code;
    parus__bind_text(st, 1, hash, -1);
    rc = parus__step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot read the weather files of '%s'",
                                     store->path);
    else
        *known = rc == SQLITE_ROW;
    parus__finalize(st);
    return code;
}

static void bind_grid(parus__stmt *st, const parus_weather_data *d)
{
    int k;
    parus__bind_text(st, 1, d->crs_wkt, -1);
    for (k = 0; k < 6; k++)
        parus__bind_double(st, 2 + k, d->geotransform[k]);
    parus__bind_int64(st, 8, (int64_t)d->width);
    parus__bind_int64(st, 9, (int64_t)d->height);
    if (d->stations)
        parus__bind_text(st, 10, d->stations, -1);
    else
        parus__bind_null(st, 10);
}

/* The cells of a new grid: row, column and centre in the grid's CRS (a station's lon/lat). */
static parus_status add_cells(parus_store *store, const parus_weather_data *d, int64_t grid,
                              parus_error *err)
{
    parus__stmt *st = NULL;
    const char *line = d->stations;
    size_t k, n = d->width * d->height;
    int rc = SQLITE_DONE;
    parus_status code = prep(store,
                             "INSERT INTO weather_cells (grid_id, cell, row, col, x, y) VALUES "
                             "(?, ?, ?, ?, ?, ?)",
                             &st, err);
    if (code != PARUS_OK)
        return code;
    for (k = 0; k < n && rc == SQLITE_DONE; k++) {
        size_t r = k / d->width, c = k % d->width;
        double x = d->geotransform[0] + ((double)c + 0.5) * d->geotransform[1] +
                   ((double)r + 0.5) * d->geotransform[2];
        double y = d->geotransform[3] + ((double)c + 0.5) * d->geotransform[4] +
                   ((double)r + 0.5) * d->geotransform[5];
        if (line) { /* "ID LON LAT\n": the id has no blank (a CSV cell may: take the last two) */
            const char *end = strchr(line, '\n'), *p = end;
            int blanks = 0;
            while (p > line && blanks < 2)
                if (*--p == ' ')
                    blanks++;
            x = parus__strtod_c(p + 1, NULL);
            y = parus__strtod_c(strchr(p + 1, ' ') + 1, NULL);
            line = end + 1;
        }
        parus__reset(st);
        parus__bind_int64(st, 1, grid);
        parus__bind_int64(st, 2, (int64_t)k);
        parus__bind_int64(st, 3, (int64_t)r);
        parus__bind_int64(st, 4, (int64_t)c);
        parus__bind_double(st, 5, x);
        parus__bind_double(st, 6, y);
        rc = parus__step(st);
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err,
                                     "cannot add the cells of a weather grid to '%s'", store->path);
    return PARUS_OK;
}

/* The grid's id, added when new. */
static parus_status grid_id(parus_store *store, const parus_weather_data *d, int64_t *id,
                            parus_error *err)
{
    parus__stmt *st = NULL;
    char now[32];
    parus_status code = prep(store,
                             "SELECT id FROM weather_grids WHERE crs_wkt = ?1 AND gt0 = ?2 AND "
                             "gt1 = ?3 AND gt2 = ?4 AND gt3 = ?5 AND gt4 = ?6 AND gt5 = ?7 AND "
                             "width = ?8 AND height = ?9 AND stations IS ?10",
                             &st, err);
    int rc;
    if (code != PARUS_OK)
        return code;
    bind_grid(st, d);
    rc = parus__step(st);
    if (rc == SQLITE_ROW) {
        *id = parus__column_int64(st, 0);
        parus__finalize(st);
        return PARUS_OK;
    }
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot read the weather grids of '%s'",
                                     store->path);
    code = prep(store,
                "INSERT INTO weather_grids (crs_wkt, gt0, gt1, gt2, gt3, gt4, gt5, width, height, "
                "stations, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                &st, err);
    if (code != PARUS_OK)
        return code;
    bind_grid(st, d);
    parus__store_utc_now(now);
    parus__bind_text(st, 11, now, -1);
    rc = parus__step(st);
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot add a weather grid to '%s'",
                                     store->path);
    *id = parus__db_last_insert_rowid(store->db);
    return add_cells(store, d, *id, err);
}

static parus_status add_file(parus_store *store, const char *path, const parus_weather_data *d,
                             int64_t grid, int64_t *file_id, parus_error *err)
{
    parus__stmt *st = NULL;
    char vars[128] = "", first[11], last[11], now[32];
    int v, rc;
    parus_status code;

    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        if (d->values[v]) {
            size_t len = strlen(vars);
            snprintf(vars + len, sizeof vars - len, "%s%s", len ? "," : "",
                     parus_weather_var_name((parus_weather_var)v));
        }
    parus__format_day(d->first_day, first);
    parus__format_day(d->first_day + (int64_t)d->n_days - 1, last);
    parus__store_utc_now(now);
    code = prep(store,
                "INSERT INTO weather_files (hash, path, format, grid_id, variables, first_day, "
                "last_day, n_gap_days, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &st, err);
    if (code != PARUS_OK)
        return code;
    parus__bind_text(st, 1, d->hash, -1);
    parus__bind_text(st, 2, path, -1);
    parus__bind_text(st, 3, d->format, -1);
    parus__bind_int64(st, 4, grid);
    parus__bind_text(st, 5, vars, -1);
    parus__bind_text(st, 6, first, -1);
    parus__bind_text(st, 7, last, -1);
    parus__bind_int64(st, 8, (int64_t)d->n_gap_days);
    parus__bind_text(st, 9, now, -1);
    rc = parus__step(st);
    parus__finalize(st);
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc, err, "cannot record '%s' in '%s'", path,
                                     store->path);
    *file_id = parus__db_last_insert_rowid(store->db);
    return PARUS_OK;
}

/* What the store holds of the file's grid and days before the file, variable by variable: a
 * dense array like the file's own (NaN where nothing is held), read once with one range query
 * per cell and variable instead of one lookup per value (on a server each lookup is a round trip:
 * a year of 20 cells took 30 s against SQLite's 1.8). */
struct held {
    double *v[PARUS_WEATHER_N_VARS_];
};

static void held_release(struct held *h)
{
    int v;
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        free(h->v[v]);
}

static bool is_temperature(int v)
{
    return v == PARUS_WEATHER_TMIN_C || v == PARUS_WEATHER_TMEAN_C || v == PARUS_WEATHER_TMAX_C;
}

static parus_status held_read(parus_store *store, const char *path, const parus_weather_data *d,
                              int64_t grid, struct held *h, parus_error *err)
{
    parus__stmt *st = NULL;
    size_t n_cells = d->width * d->height, n = n_cells * d->n_days, i, k;
    bool want[PARUS_WEATHER_N_VARS_] = {false}, temps = false;
    parus_status code;
    int v, rc = SQLITE_DONE;

    memset(h, 0, sizeof *h);
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        if (d->values[v]) {
            want[v] = true;
            temps = temps || is_temperature(v);
        }
    /* a temperature is judged against the others of its cell and day */
    for (v = 0; temps && v < PARUS_WEATHER_N_VARS_; v++)
        want[v] = want[v] || is_temperature(v);
    code = prep(store,
                "SELECT day, value FROM weather_values WHERE grid_id = ? AND cell = ? AND "
                "variable = ? AND day BETWEEN ? AND ?",
                &st, err);
    for (v = 0; code == PARUS_OK && v < PARUS_WEATHER_N_VARS_; v++) {
        if (!want[v])
            continue;
        if (!(h->v[v] = malloc((n ? n : 1) * sizeof *h->v[v]))) {
            code = parus_fail(err, PARUS_E_NOMEM, "out of memory reading the weather held for '%s'",
                              path);
            break;
        }
        for (i = 0; i < n; i++)
            h->v[v][i] = NAN;
        for (k = 0; k < n_cells; k++) {
            parus__reset(st);
            parus__bind_int64(st, 1, grid);
            parus__bind_int64(st, 2, (int64_t)k);
            parus__bind_text(st, 3, parus_weather_var_name((parus_weather_var)v), -1);
            parus__bind_int64(st, 4, d->first_day);
            parus__bind_int64(st, 5, d->first_day + (int64_t)d->n_days - 1);
            while ((rc = parus__step(st)) == SQLITE_ROW) {
                int64_t t = parus__column_int64(st, 0) - d->first_day;
                if (t >= 0 && (size_t)t < d->n_days)
                    h->v[v][(size_t)t * n_cells + k] = parus__column_double(st, 1);
            }
            if (rc != SQLITE_DONE) {
                code = parus__store_sql_fail(store, rc, err,
                                             "cannot read the weather held for '%s'", path);
                break;
            }
        }
    }
    parus__finalize(st);
    return code;
}

/* The file that gave the stored value of variable v on a cell and day (for a message). */
static void held_from(parus_store *store, int64_t grid, size_t k, int v, int64_t day, char *out,
                      size_t cap)
{
    parus__stmt *st = NULL;
    parus_error e;
    snprintf(out, cap, "an earlier file");
    if (prep(store,
             "SELECT f.path FROM weather_values v JOIN weather_files f ON f.id = v.file_id "
             "WHERE v.grid_id = ? AND v.cell = ? AND v.variable = ? AND v.day = ?",
             &st, &e) != PARUS_OK)
        return;
    parus__bind_int64(st, 1, grid);
    parus__bind_int64(st, 2, (int64_t)k);
    parus__bind_text(st, 3, parus_weather_var_name((parus_weather_var)v), -1);
    parus__bind_int64(st, 4, day);
    if (parus__step(st) == SQLITE_ROW && parus__column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)parus__column_text(st, 0));
    parus__finalize(st);
}

/* A day's temperatures out of their order, minimum <= mean <= maximum (by more than a repeat's
 * tolerance), are no weather: two of them exchanged, within this file or between it and a file
 * imported before (a tmin file labelled VARIABLE=tmax). Heat days would be counted on the minimum
 * and frost on the maximum, and no limit would hear of either. The counterpart is this file's
 * value for the cell and day where it has one (each pair judged once, with its lower variable),
 * else the store's (held). */
static parus_status check_temperatures(parus_store *store, const struct held *h, const char *path,
                                       const parus_weather_data *d, int64_t grid, int v, size_t t,
                                       size_t k, double x, parus_error *err)
{
    static const int order[3] = {PARUS_WEATHER_TMIN_C, PARUS_WEATHER_TMEAN_C, PARUS_WEATHER_TMAX_C};
    size_t n_cells = d->width * d->height, i = t * n_cells + k;
    int64_t day = d->first_day + (int64_t)t;
    int r = -1, j;

    for (j = 0; j < 3; j++)
        if (order[j] == v)
            r = j;
    for (j = 0; r >= 0 && j < 3; j++) {
        int other = order[j];
        char from[1100] = "", date[11];
        double y, lo, hi;
        bool stored = false;
        if (j == r)
            continue;
        if (d->values[other] && !isnan(d->values[other][i])) {
            if (j < r)
                continue;
            y = d->values[other][i];
        } else {
            if (!h->v[other] || isnan(h->v[other][i]))
                continue;
            y = h->v[other][i];
            stored = true;
        }
        lo = j > r ? x : y;
        hi = j > r ? y : x;
        if (lo <= hi + PARUS__WEATHER_SAME_TOL)
            continue;
        if (stored) {
            char other_path[1024];
            held_from(store, grid, k, other, day, other_path, sizeof other_path);
            snprintf(from, sizeof from, " from '%s', imported before", other_path);
        }
        parus__format_day(day, date);
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s': %s of cell %zu (row %zu, column %zu) on %s is %.3f, above its "
                          "%s %.3f%s: the two exchanged? nothing of '%s' stored",
                          path, parus_weather_var_name((parus_weather_var)order[j > r ? r : j]), k,
                          k / d->width, k % d->width, date, lo,
                          parus_weather_var_name((parus_weather_var)order[j > r ? j : r]), hi, from,
                          path);
    }
    return PARUS_OK;
}

/* New values go into weather_values VALUES_BATCH rows a statement (one round trip on a server,
 * one statement's set-up on SQLite). Not ON CONFLICT DO NOTHING: what is held was read inside
 * this transaction, so a conflict is a writer that stored the same values since (on PostgreSQL;
 * SQLite's write lock keeps it out): the file fails and a rerun compares them. */
#define VALUES_BATCH 100

struct values_batch {
    parus__stmt *full;
    int64_t grid, file_id;
    size_t n;
    struct {
        int64_t cell, day;
        int var;
        double value;
    } row[VALUES_BATCH];
};

static int batch_prepare(parus_store *store, size_t n, parus__stmt **st)
{
    char *sql = parus__values_sql(
        "INSERT INTO weather_values (grid_id, cell, variable, day, value, file_id) VALUES ", 6, n);
    int rc;
    if (!sql)
        return SQLITE_NOMEM;
    rc = parus__db_prepare(store->db, sql, false, st);
    free(sql);
    return rc;
}

static parus_status batch_flush(parus_store *store, struct values_batch *b, const char *path,
                                parus_error *err)
{
    parus__stmt *st = NULL;
    size_t r;
    int rc = SQLITE_OK, p = 1;
    if (b->n == 0)
        return PARUS_OK;
    if (b->n == VALUES_BATCH) {
        if (!b->full)
            rc = batch_prepare(store, VALUES_BATCH, &b->full);
        st = b->full;
        if (st)
            parus__reset(st);
    } else {
        rc = batch_prepare(store, b->n, &st);
    }
    if (rc == SQLITE_OK) {
        for (r = 0; r < b->n; r++) {
            parus__bind_int64(st, p++, b->grid);
            parus__bind_int64(st, p++, b->row[r].cell);
            parus__bind_text(st, p++, parus_weather_var_name((parus_weather_var)b->row[r].var), -1);
            parus__bind_int64(st, p++, b->row[r].day);
            parus__bind_double(st, p++, b->row[r].value);
            parus__bind_int64(st, p++, b->file_id);
        }
        rc = parus__step(st);
    }
    if (st != b->full)
        parus__finalize(st);
    b->n = 0;
    if (rc != SQLITE_DONE)
        return parus__store_sql_fail(store, rc == SQLITE_OK ? SQLITE_ERROR : rc, err,
                                     "cannot store the weather of '%s'", path);
    return PARUS_OK;
}

/* A year's weather given another year's dates. A file whose values are the store's of the same
 * cells and calendar days in another year (last year's file re-dated, a climatology delivered as
 * a season) passes every other check, and its season reads as the other one: on a synthetic
 * season 2023's weather as 2024's took the droughts and frosts away (round 7, finding 3:
 * 402,300 -> 456,200 CNY). So each variable is compared, on the same cells and calendar days,
 * with the store's one, two and three years before and after, by the correlation of their
 * day-to-day changes: two real years' weather changes from one day to the next independently (a
 * correlation near 0; the seasonal cycle, shared by all years, is in the levels, not in the
 * changes), a copy changes as its original does, whatever offset, scale or small noise was put on
 * it (round 8: a copy two years back, and one with 0.01 added to every value, passed an equality
 * test). YEAR_COPY_MIN pairs of changes at a correlation of YEAR_COPY_CORR or more, for any one
 * shift, is a copy. */
#define YEAR_COPY_MIN 30
#define YEAR_COPY_CORR 0.9
#define YEAR_COPY_YEARS 3

/* The day number of the same calendar day `years` years on, or INT64_MIN for 29 February
 * without one. */
static int64_t same_day_of_year(int64_t day, int years)
{
    int64_t y;
    int m, dd;
    char date[11];
    parus__civil_from_days(day, &y, &m, &dd);
    y += years;
    if (m == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return INT64_MIN;
    if (y < 0 || y > 9999)
        return INT64_MIN;
    snprintf(date, sizeof date, "%04d-%02d-%02d", (int)y, m, dd);
    return parus__date_days(date);
}

struct year_corr {
    double n, sa, sb, saa, sbb, sab;
    int64_t example_day; /* a stored day compared, for the message */
    size_t example_cell;
    int example_var;
};

static double year_corr_of(const struct year_corr *c)
{
    double va = c->saa - c->sa * c->sa / c->n, vb = c->sbb - c->sb * c->sb / c->n;
    double cov = c->sab - c->sa * c->sb / c->n;
    return va > 0.0 && vb > 0.0 ? cov / sqrt(va * vb) : 0.0;
}

static parus_status year_copy_check(parus_store *store, const char *path,
                                    const parus_weather_data *d, int64_t grid, parus_error *err)
{
    enum { N_SHIFT = 2 * YEAR_COPY_YEARS };
    parus__stmt *st = NULL;
    size_t n_cells = d->width * d->height, k, t;
    int64_t last = d->first_day + (int64_t)d->n_days - 1;
    struct year_corr c[N_SHIFT];
    double *ys = NULL;
    int v, rc = SQLITE_DONE, w;
    parus_status code;

    if (d->n_days < 2 || n_cells == 0)
        return PARUS_OK;
    memset(c, 0, sizeof c);
    if (!(ys = malloc((size_t)N_SHIFT * d->n_days * sizeof *ys)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the weather held for '%s'",
                          path);
    code = prep(store,
                "SELECT day, value FROM weather_values WHERE grid_id = ? AND cell = ? AND "
                "variable = ? AND day BETWEEN ? AND ? AND (day < ? OR day > ?)",
                &st, err);
    for (v = 0; code == PARUS_OK && v < PARUS_WEATHER_N_VARS_; v++) {
        if (!d->values[v])
            continue;
        for (k = 0; code == PARUS_OK && k < n_cells; k++) {
            for (t = 0; t < (size_t)N_SHIFT * d->n_days; t++)
                ys[t] = NAN;
            parus__reset(st);
            parus__bind_int64(st, 1, grid);
            parus__bind_int64(st, 2, (int64_t)k);
            parus__bind_text(st, 3, parus_weather_var_name((parus_weather_var)v), -1);
            parus__bind_int64(st, 4, d->first_day - 366 * YEAR_COPY_YEARS);
            parus__bind_int64(st, 5, last + 366 * YEAR_COPY_YEARS);
            parus__bind_int64(st, 6, d->first_day);
            parus__bind_int64(st, 7, last);
            while ((rc = parus__step(st)) == SQLITE_ROW) {
                int64_t sd = parus__column_int64(st, 0);
                double y = parus__column_double(st, 1);
                /* this stored day as each shift sees it: the new file's same calendar day */
                for (w = 0; w < N_SHIFT; w++) {
                    int years = w < YEAR_COPY_YEARS ? w + 1 : -(w - YEAR_COPY_YEARS + 1);
                    int64_t nt = same_day_of_year(sd, years);
                    if (nt != INT64_MIN && nt >= d->first_day && nt <= last)
                        ys[(size_t)w * d->n_days + (size_t)(nt - d->first_day)] = y;
                }
            }
            if (rc != SQLITE_DONE) {
                code = parus__store_sql_fail(store, rc, err,
                                             "cannot read the weather held for '%s'", path);
                break;
            }
            for (w = 0; w < N_SHIFT; w++) {
                const double *y = ys + (size_t)w * d->n_days;
                for (t = 1; t < d->n_days; t++) {
                    double x1 = d->values[v][t * n_cells + k],
                           x0 = d->values[v][(t - 1) * n_cells + k], a, b;
                    if (isnan(x1) || isnan(x0) || isnan(y[t]) || isnan(y[t - 1]))
                        continue;
                    a = x1 - x0;
                    b = y[t] - y[t - 1];
                    c[w].n += 1.0;
                    c[w].sa += a;
                    c[w].sb += b;
                    c[w].saa += a * a;
                    c[w].sbb += b * b;
                    c[w].sab += a * b;
                    c[w].example_day =
                        same_day_of_year(d->first_day + (int64_t)t,
                                         w < YEAR_COPY_YEARS ? -(w + 1) : w - YEAR_COPY_YEARS + 1);
                    c[w].example_cell = k;
                    c[w].example_var = v;
                }
            }
        }
    }
    parus__finalize(st);
    free(ys);
    for (w = 0; code == PARUS_OK && w < N_SHIFT; w++) {
        char other[1024], date[11];
        int years = w < YEAR_COPY_YEARS ? w + 1 : w - YEAR_COPY_YEARS + 1;
        double r;
        if (c[w].n < YEAR_COPY_MIN || (r = year_corr_of(&c[w])) < YEAR_COPY_CORR)
            continue;
        held_from(store, grid, c[w].example_cell, c[w].example_var, c[w].example_day, other,
                  sizeof other);
        parus__format_day(c[w].example_day, date);
        code = parus_fail(
            err, PARUS_E_DUPLICATE,
            "'%s' holds the weather of %d year%s %s it: its day-to-day changes "
            "follow the store's of the same cells and calendar days then with a "
            "correlation of %.3f over %.0f pairs (e.g. %s of %s, '%s'), where two "
            "years' weather changes independently; a file given another year's "
            "dates (or a climatology given as a season) would read that year's "
            "weather as this one's; nothing of '%s' stored",
            path, years, years > 1 ? "s" : "", w < YEAR_COPY_YEARS ? "before" : "after", r, c[w].n,
            parus_weather_var_name((parus_weather_var)c[w].example_var), date, other, path);
    }
    return code;
}

/* Every value of the file: new ones inserted, held ones compared. */
static parus_status put_values(parus_store *store, const char *path, const parus_weather_data *d,
                               int64_t grid, int64_t file_id, parus_weather_import_stats *stats,
                               parus_error *err)
{
    struct values_batch *b = calloc(1, sizeof *b);
    struct held h;
    size_t n_cells = d->width * d->height, t, k;
    parus_status code;
    int v;

    if (!b)
        return parus_fail(err, PARUS_E_NOMEM, "out of memory storing the weather of '%s'", path);
    b->grid = grid;
    b->file_id = file_id;
    code = held_read(store, path, d, grid, &h, err);
    for (v = 0; code == PARUS_OK && v < PARUS_WEATHER_N_VARS_; v++) {
        const char *name = parus_weather_var_name((parus_weather_var)v);
        if (!d->values[v])
            continue;
        for (t = 0; code == PARUS_OK && t < d->n_days; t++) {
            int64_t day = d->first_day + (int64_t)t;
            for (k = 0; code == PARUS_OK && k < n_cells; k++) {
                double x = d->values[v][t * n_cells + k];
                double held = h.v[v][t * n_cells + k];
                char other[1024], date[11];
                if (isnan(x))
                    continue;
                if (isnan(held)) {
                    b->row[b->n].cell = (int64_t)k;
                    b->row[b->n].day = day;
                    b->row[b->n].var = v;
                    b->row[b->n].value = x;
                    if (++b->n == VALUES_BATCH)
                        code = batch_flush(store, b, path, err);
                    stats->n_values++;
                } else if (fabs(held - x) <= PARUS__WEATHER_SAME_TOL) {
                    stats->n_same++;
                } else {
                    held_from(store, grid, k, v, day, other, sizeof other);
                    parus__format_day(day, date);
                    code = parus_fail(err, PARUS_E_DUPLICATE,
                                      "'%s' contradicts '%s', imported before: %s of cell %zu "
                                      "(row %zu, column %zu) on %s is %.3f here and %.3f there; "
                                      "nothing of '%s' stored",
                                      path, other, name, k, k / d->width, k % d->width, date, x,
                                      held, path);
                    break;
                }
                if (code == PARUS_OK)
                    code = check_temperatures(store, &h, path, d, grid, v, t, k, x, err);
            }
        }
    }
    if (code == PARUS_OK)
        code = batch_flush(store, b, path, err);
    parus__finalize(b->full);
    free(b);
    held_release(&h);
    return code;
}

parus_status parus__store_weather_put(parus_store *store, const char *path,
                                      const parus_weather_data *data,
                                      parus_checkpoint_fn checkpoint, void *checkpoint_ctx,
                                      parus_weather_import_stats *stats, parus_error *err)
{
    int64_t grid = 0, file_id = 0;
    parus_status code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    code = parus__store_tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    code = grid_id(store, data, &grid, err);
    if (code == PARUS_OK)
        code = add_file(store, path, data, grid, &file_id, err);
    if (code == PARUS_OK)
        code = year_copy_check(store, path, data, grid, err);
    if (code == PARUS_OK)
        code = put_values(store, path, data, grid, file_id, stats, err);
    if (code == PARUS_OK && checkpoint)
        checkpoint(checkpoint_ctx, "weather:written");
    if (code == PARUS_OK)
        code = parus__store_tx_commit(store, err);
    else
        parus__store_tx_rollback(store);
    if (code == PARUS_OK)
        stats->grid_id = grid;
    return code;
}

void parus__weather_grids_free(parus__weather_grid *grids, size_t n)
{
    size_t i;
    for (i = 0; grids && i < n; i++) {
        free(grids[i].crs_wkt);
        free(grids[i].station_xy);
    }
    free(grids);
}

parus_status parus__store_weather_grids(parus_store *store, parus__weather_grid **grids, size_t *n,
                                        parus_error *err)
{
    parus__stmt *st = NULL;
    parus__weather_grid *g = NULL;
    size_t ng = 0, cap = 0;
    int rc;
    parus_status code = parus__store_require_current(store, err);
    if (code == PARUS_OK)
        code = prep(store,
                    "SELECT id, crs_wkt, gt0, gt1, gt2, gt3, gt4, gt5, width, height FROM "
                    "weather_grids ORDER BY id",
                    &st, err);
    if (code != PARUS_OK)
        return code;
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        int k;
        if (!parus__grow((void **)&g, &cap, ng + 1, sizeof *g, 4)) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot list the weather grids");
            break;
        }
        memset(&g[ng], 0, sizeof g[ng]);
        g[ng].id = parus__column_int64(st, 0);
        g[ng].crs_wkt = parus__strdup((const char *)parus__column_text(st, 1));
        for (k = 0; k < 6; k++)
            g[ng].gt[k] = parus__column_double(st, 2 + k);
        g[ng].width = (size_t)parus__column_int64(st, 8);
        g[ng].height = (size_t)parus__column_int64(st, 9);
        if (!g[ng++].crs_wkt) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot list the weather grids");
            break;
        }
    }
    if (code == PARUS_OK && rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot read the weather grids of '%s'",
                                     store->path);
    parus__finalize(st);
    st = NULL;
    /* stations: their places, from the cells' centres */
    for (size_t i = 0; code == PARUS_OK && i < ng; i++) {
        size_t k;
        if (g[i].gt[1] != 0 || g[i].gt[5] != 0 || g[i].width == 0 || g[i].height != 1)
            continue;
        if (!(g[i].station_xy = malloc(2 * g[i].width * sizeof *g[i].station_xy))) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot list the weather stations");
            break;
        }
        for (k = 0; k < 2 * g[i].width; k++)
            g[i].station_xy[k] = NAN;
        if ((code = prep(store, "SELECT cell, x, y FROM weather_cells WHERE grid_id = ?", &st,
                         err)) != PARUS_OK)
            break;
        parus__bind_int64(st, 1, g[i].id);
        while ((rc = parus__step(st)) == SQLITE_ROW) {
            int64_t cell = parus__column_int64(st, 0);
            if (cell >= 0 && (size_t)cell < g[i].width) {
                g[i].station_xy[2 * cell] = parus__column_double(st, 1);
                g[i].station_xy[2 * cell + 1] = parus__column_double(st, 2);
            }
        }
        if (rc != SQLITE_DONE)
            code = parus__store_sql_fail(store, rc, err, "cannot read the weather stations of '%s'",
                                         store->path);
        parus__finalize(st);
        st = NULL;
    }
    if (code != PARUS_OK) {
        parus__weather_grids_free(g, ng);
        return code;
    }
    *grids = g;
    *n = ng;
    return PARUS_OK;
}

void parus__weather_held_free(parus__weather_held *held, size_t n)
{
    size_t i;
    for (i = 0; held && i < n; i++)
        free(held[i].parcel_id);
    free(held);
}

parus_status parus__store_weather_held(parus_store *store, int64_t grid_id,
                                       parus__weather_held **held, size_t *n, parus_error *err)
{
    parus__stmt *st = NULL;
    parus__weather_held *h = NULL;
    size_t nh = 0, cap = 0;
    int rc;
    parus_status code = prep(store,
                             "SELECT p.id, g.geometry_hash, g.covered_share FROM "
                             "weather_parcel_grids g JOIN parcels p ON p.num = g.parcel_num WHERE "
                             "g.grid_id = ? ORDER BY p.id",
                             &st, err);
    if (code != PARUS_OK)
        return code;
    parus__bind_int64(st, 1, grid_id);
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        if (!parus__grow((void **)&h, &cap, nh + 1, sizeof *h, 256)) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot read the weather weights");
            break;
        }
        h[nh].parcel_id = parus__strdup((const char *)parus__column_text(st, 0));
        snprintf(h[nh].hash, sizeof h[nh].hash, "%s", (const char *)parus__column_text(st, 1));
        h[nh].covered_share = parus__column_double(st, 2);
        if (!h[nh++].parcel_id) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot read the weather weights");
            break;
        }
    }
    if (code == PARUS_OK && rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot read the weather weights of '%s'",
                                     store->path);
    parus__finalize(st);
    if (code != PARUS_OK) {
        parus__weather_held_free(h, nh);
        return code;
    }
    *held = h;
    *n = nh;
    return PARUS_OK;
}

parus_status parus__store_weather_put_weights(parus_store *store, int64_t grid_id,
                                              const parus__weather_weights *w, size_t n,
                                              parus_error *err)
{
    parus__stmt *del = NULL, *pg = NULL, *ins = NULL;
    char now[32];
    size_t i, k;
    int rc = SQLITE_DONE;
    parus_status code = parus__store_tx_begin(store, err);
    if (code != PARUS_OK)
        return code;
    parus__store_utc_now(now);
    code = prep(store,
                "DELETE FROM weather_weights WHERE parcel_num = (SELECT num FROM parcels WHERE "
                "id = ?) AND grid_id = ?",
                &del, err);
    if (code == PARUS_OK)
        code = prep(store,
                    "INSERT OR REPLACE INTO weather_parcel_grids (parcel_num, grid_id, "
                    "geometry_hash, covered_share, n_cells, computed_at) VALUES ((SELECT num "
                    "FROM parcels WHERE id = ?), ?, ?, ?, ?, ?)",
                    &pg, err);
    if (code == PARUS_OK)
        code = prep(store,
                    "INSERT INTO weather_weights (parcel_num, grid_id, cell, weight) VALUES "
                    "((SELECT num FROM parcels WHERE id = ?), ?, ?, ?)",
                    &ins, err);
    for (i = 0; code == PARUS_OK && i < n && rc == SQLITE_DONE; i++) {
        parus__reset(del);
        parus__bind_text(del, 1, w[i].parcel_id, -1);
        parus__bind_int64(del, 2, grid_id);
        rc = parus__step(del);
        if (rc != SQLITE_DONE)
            break;
        parus__reset(pg);
        parus__bind_text(pg, 1, w[i].parcel_id, -1);
        parus__bind_int64(pg, 2, grid_id);
        parus__bind_text(pg, 3, w[i].hash, -1);
        parus__bind_double(pg, 4, w[i].covered_share);
        parus__bind_int64(pg, 5, (int64_t)w[i].n_cells);
        parus__bind_text(pg, 6, now, -1);
        rc = parus__step(pg);
        for (k = 0; rc == SQLITE_DONE && k < w[i].n_cells; k++) {
            parus__reset(ins);
            parus__bind_text(ins, 1, w[i].parcel_id, -1);
            parus__bind_int64(ins, 2, grid_id);
            parus__bind_int64(ins, 3, (int64_t)w[i].cells[k]);
            parus__bind_double(ins, 4, w[i].weights[k]);
            rc = parus__step(ins);
        }
    }
    if (code == PARUS_OK && rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot store the weather weights in '%s'",
                                     store->path);
    parus__finalize(del);
    parus__finalize(pg);
    parus__finalize(ins);
    if (code == PARUS_OK)
        code = parus__store_tx_commit(store, err);
    else
        parus__store_tx_rollback(store);
    return code;
}

void parus_weather_series_release(parus_weather_series *series)
{
    if (!series)
        return;
    free(series->days);
    memset(series, 0, sizeof *series);
}

/* The parcel reader's statements, cached in the store's slots from PARUS__STORE_STMT_WEATHER:
 * a season's weather is read for every parcel, and preparing the join each time would cost as much
 * as running it. */
enum { W_PARCEL_STATE, W_PARCEL_DAYS, W_N_ };

_Static_assert(PARUS__STORE_STMT_WEATHER + W_N_ <= PARUS__STORE_MAX_STMTS,
               "statement cache too small");
_Static_assert(PARUS_WEATHER_N_VARS_ == 6, "W_PARCEL_DAYS lists every variable by name");

static const char *const weather_sql[W_N_] = {
    /* W_PARCEL_STATE: the parcel exists; some grid holds weights for it */
    "SELECT EXISTS (SELECT 1 FROM parcels WHERE id = ?1), EXISTS (SELECT 1 FROM "
    "weather_parcel_grids g JOIN parcels p ON p.num = g.parcel_num WHERE p.id = ?1 AND "
    "g.n_cells > 0)",
    /* W_PARCEL_DAYS: each value of the parcel's cells in the span with its cell's weight, grid
       after grid: the gridded products first, then station records, each in id order, so the
       first grid that holds enough of the parcel gives the value (a grid that covers the parcel
       is the better source than a station some kilometres away, whichever was imported first;
       the reader of store_weather_read.c takes the same order). The variables are listed so that
       the day range is a range of the primary key (grid, cell, variable, day) for each: without
       them SQLite reads every day the cell holds, and a season's read costs as much as the archive
       is long. The weighted means are summed in C (parcel_days): SQLite's GROUP BY through a
       temporary B-tree cost three times the read. 183 days of 3 variables of a one-cell parcel, a
       store of 31 years: 0.13 ms a read; 0.50 ms with the GROUP BY; twice that again without the
       list */
    "SELECT w.grid_id, v.variable, v.day, w.weight, v.value, g.covered_share FROM parcels p "
    "JOIN weather_parcel_grids g ON g.parcel_num = p.num JOIN weather_weights w ON "
    "w.parcel_num = p.num AND w.grid_id = g.grid_id JOIN weather_values v ON v.grid_id = "
    "w.grid_id AND v.cell = w.cell AND v.variable IN ('precip_mm', 'tmin_c', 'tmax_c', "
    "'tmean_c', 'rad_mj_m2', 'et0_mm') JOIN weather_grids gr ON gr.id = w.grid_id WHERE p.id = "
    "?1 AND v.day BETWEEN ?2 AND ?3 ORDER BY gr.stations IS NOT NULL, w.grid_id",
};

static parus__stmt *weather_stmt(parus_store *store, int id, parus_error *err)
{
    return parus__store_stmt(store, PARUS__STORE_STMT_WEATHER + (size_t)id, weather_sql[id], err);
}

parus_status parus__store_weather_prepare_all(parus_store *store, parus_error *err)
{
    return parus__store_prepare_list(store, PARUS__STORE_STMT_WEATHER, weather_sql, W_N_, "weather",
                                     err);
}

parus_weather_var parus__weather_var_of_name(const char *name)
{
    int v;
    for (v = 0; name && v < PARUS_WEATHER_N_VARS_; v++)
        if (strcmp(name, parus_weather_var_name((parus_weather_var)v)) == 0)
            return (parus_weather_var)v;
    return PARUS_WEATHER_N_VARS_;
}

/* One grid's sums into the series: each (variable, day) that no earlier grid gave and whose
 * cells with a value hold at least PARUS__WEATHER_MIN_COVER of the share of the parcel the grid
 * covers gets their weighted mean; the sums are cleared for the next grid. */
static void grid_done(parus_weather_series *s, double *sums, double share)
{
    size_t n = s->n_days, t;
    int v;
    for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
        for (t = 0; t < n; t++) {
            double *wv = &sums[(2 * (size_t)v) * n + t], *w = &sums[(2 * (size_t)v + 1) * n + t];
            if (*w > 0 && *w >= PARUS__WEATHER_MIN_COVER * share && isnan(s->days[t].value[v]))
                s->days[t].value[v] = *wv / *w;
            *wv = *w = 0.0;
        }
}

/* Step W_PARCEL_DAYS to its end, summing per grid into sums (2 x variables x days, zero):
 * SQLITE_DONE, or the failing step's code. */
static int parcel_days(parus__stmt *st, parus_weather_series *s, int64_t d0, double *sums)
{
    size_t n = s->n_days;
    int64_t grid = 0;
    double share = 0.0;
    bool any = false;
    int rc;
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        parus_weather_var var = parus__weather_var_of_name((const char *)parus__column_text(st, 1));
        int64_t g = parus__column_int64(st, 0), t = parus__column_int64(st, 2) - d0;
        double w = parus__column_double(st, 3), x = parus__column_double(st, 4);
        if (!any || g != grid) {
            if (any)
                grid_done(s, sums, share);
            any = true;
            grid = g;
            share = parus__column_double(st, 5);
        }
        if (var == PARUS_WEATHER_N_VARS_ || t < 0 || (size_t)t >= n)
            continue;
        sums[(2 * (size_t)var) * n + (size_t)t] += w * x;
        sums[(2 * (size_t)var + 1) * n + (size_t)t] += w;
    }
    if (rc == SQLITE_DONE && any)
        grid_done(s, sums, share);
    return rc;
}

parus_status parus_store_weather_parcel(parus_store *store, const char *parcel_id,
                                        const char *first_day, const char *last_day,
                                        parus_weather_series *out, parus_error *err)
{
    parus__stmt *st;
    char a[11], b[11];
    int64_t d0, d1, t;
    size_t n;
    parus_weather_series s = {0};
    parus_status code;
    double *sums = NULL;
    int rc, v;
    bool exists;

    if (!parcel_id || !first_day || !last_day || !parus__parse_date(first_day, a) ||
        !parus__parse_date(last_day, b))
        return parus_fail(err, PARUS_E_INVALID, "weather of a parcel: give two dates YYYY-MM-DD");
    d0 = parus__date_days(a);
    d1 = parus__date_days(b);
    if (d1 < d0 || d1 - d0 >= 3660)
        return parus_fail(err, PARUS_E_INVALID,
                          "weather of a parcel: %s to %s is not a span of 1 to 3660 days", a, b);
    code = parus__store_require_current(store, err);
    if (code != PARUS_OK)
        return code;
    st = weather_stmt(store, W_PARCEL_STATE, err);
    if (!st)
        return parus__store_prepare_failed(err);
    parus__bind_text(st, 1, parcel_id, -1);
    rc = parus__step(st);
    if (rc != SQLITE_ROW) {
        code = parus__store_sql_fail(store, rc, err, "cannot read parcel '%s'", parcel_id);
        parus__reset(st);
        return code;
    }
    exists = parus__column_int(st, 0) != 0;
    s.covered = parus__column_int(st, 1) != 0;
    parus__reset(st);
    if (!exists)
        return parus_fail(err, PARUS_E_NOT_FOUND, "no parcel '%s' in '%s'", parcel_id, store->path);
    n = (size_t)(d1 - d0 + 1);
    s.days = malloc(n * sizeof *s.days);
    if (!s.days)
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
    s.n_days = n;
    for (t = 0; t < (int64_t)n; t++) {
        s.days[t].day = d0 + t;
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
            s.days[t].value[v] = NAN;
    }
    st = s.covered ? weather_stmt(store, W_PARCEL_DAYS, err) : NULL;
    if (s.covered && !st) {
        parus_weather_series_release(&s);
        return parus__store_prepare_failed(err);
    }
    sums = st ? calloc(2 * PARUS_WEATHER_N_VARS_ * n, sizeof *sums) : NULL;
    if (st && !sums) {
        parus_weather_series_release(&s);
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
    }
    if (st) {
        parus__bind_text(st, 1, parcel_id, -1);
        parus__bind_int64(st, 2, d0);
        parus__bind_int64(st, 3, d1);
        rc = parcel_days(st, &s, d0, sums);
        if (rc == SQLITE_NOMEM)
            code =
                parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
        else if (rc != SQLITE_DONE)
            code = parus__store_sql_fail(store, rc, err, "cannot read the weather of parcel '%s'",
                                         parcel_id);
        parus__reset(st);
    }
    free(sums);
    if (code != PARUS_OK) {
        parus_weather_series_release(&s);
        return code;
    }
    *out = s;
    return PARUS_OK;
}

struct file_row {
    int64_t grid_id;
    char variables[128];
    int64_t first, last;
    size_t n_gap_days;
};

/* True when the comma-separated list holds name. */
static bool lists(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while ((p = strstr(p, name)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
        p += n;
    }
    return false;
}

static int cmp_first(const void *a, const void *b)
{
    int64_t x = (*(const struct file_row *const *)a)->first;
    int64_t y = (*(const struct file_row *const *)b)->first;
    return (x > y) - (x < y);
}

/* The span of variable v over the files rows[0..n) of one grid; false when none holds v. */
static bool span_of(const struct file_row *rows, size_t n, parus_weather_var v,
                    const struct file_row **pick, parus_weather_span *sp)
{
    const char *name = parus_weather_var_name(v);
    size_t k = 0, i;
    int64_t covered_to = 0;
    for (i = 0; i < n; i++)
        if (lists(rows[i].variables, name))
            pick[k++] = &rows[i];
    if (k == 0)
        return false;
    qsort(pick, k, sizeof *pick, cmp_first);
    memset(sp, 0, sizeof *sp);
    sp->grid_id = rows[0].grid_id;
    sp->var = v;
    sp->n_files = k;
    parus__format_day(pick[0]->first, sp->first_day);
    covered_to = pick[0]->first - 1;
    for (i = 0; i < k; i++) {
        if (pick[i]->first > covered_to + 1) {
            if (sp->n_uncovered_days == 0)
                parus__format_day(covered_to + 1, sp->first_uncovered);
            sp->n_uncovered_days += (size_t)(pick[i]->first - covered_to - 1);
        }
        if (pick[i]->last > covered_to)
            covered_to = pick[i]->last;
        sp->n_gap_days += pick[i]->n_gap_days;
    }
    parus__format_day(covered_to, sp->last_day);
    return true;
}

parus_status parus_store_weather_spans(parus_store *store, parus_weather_span_fn fn, void *ctx,
                                       parus_error *err)
{
    parus__stmt *st = NULL;
    struct file_row *rows = NULL;
    const struct file_row **pick = NULL;
    size_t n = 0, cap = 0, i, j;
    int rc;
    parus_status code = parus__store_require_current(store, err);
    if (code == PARUS_OK)
        code = prep(store,
                    "SELECT grid_id, variables, first_day, last_day, n_gap_days FROM "
                    "weather_files ORDER BY grid_id, id",
                    &st, err);
    if (code != PARUS_OK)
        return code;
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        char a[11], b[11];
        const char *fa = (const char *)parus__column_text(st, 2);
        const char *fb = (const char *)parus__column_text(st, 3);
        if (!parus__grow((void **)&rows, &cap, n + 1, sizeof *rows, 16)) {
            code = parus_fail(err, PARUS_E_NOMEM, "cannot list the weather files");
            break;
        }
        if (!fa || !fb || !parus__parse_date(fa, a) || !parus__parse_date(fb, b)) {
            code =
                parus_fail(err, PARUS_E_STORE, "'%s': a weather file with bad days", store->path);
            break;
        }
        rows[n].grid_id = parus__column_int64(st, 0);
        snprintf(rows[n].variables, sizeof rows[n].variables, "%s",
                 (const char *)parus__column_text(st, 1));
        rows[n].first = parus__date_days(a);
        rows[n].last = parus__date_days(b);
        rows[n].n_gap_days = (size_t)parus__column_int64(st, 4);
        n++;
    }
    if (code == PARUS_OK && rc != SQLITE_DONE)
        code = parus__store_sql_fail(store, rc, err, "cannot read the weather files of '%s'",
                                     store->path);
    parus__finalize(st);
    if (code == PARUS_OK && n && !(pick = malloc(n * sizeof *pick)))
        code = parus_fail(err, PARUS_E_NOMEM, "cannot list the weather files");
    for (i = 0; code == PARUS_OK && i < n; i = j) {
        int v;
        for (j = i; j < n && rows[j].grid_id == rows[i].grid_id; j++)
            ;
        for (v = 0; code == PARUS_OK && v < PARUS_WEATHER_N_VARS_; v++) {
            parus_weather_span sp;
            if (span_of(rows + i, j - i, (parus_weather_var)v, pick, &sp) && fn(&sp, ctx) != 0)
                code = parus_fail(err, PARUS_E_INTERNAL, "weather spans: stopped by the caller");
        }
    }
    free(pick);
    free(rows);
    return code;
}

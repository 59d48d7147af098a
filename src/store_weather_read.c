/*
 * store_weather_read.c - a season's weather for many parcels, read from the store once
 * (parus_weather_reader in parus/weather.h).
 *
 * parus_store_weather_parcel joins a parcel's weights with the values for every call: right for
 * one parcel (`parus query`), 0.67 ms a parcel, which is 94 s for the 140,000 parcels of a tile
 * (tools/bench_weather.c). A season's assessment reads every parcel, and parcels share cells: a
 * 5 km cell holds thousands of fields. The reader loads the values of the cells some parcel
 * weighs on, over the span asked, and every parcel's weights, once; a parcel's series is then
 * the same weighted mean (the same rule, the same grid order), computed in memory. After open
 * the reader is read-only: any number of threads may call parus_weather_reader_parcel at once.
 *
 * Memory: 4 bytes per used cell, day and variable present (a county's 400 cells over 11 years of
 * three variables: 19 MB), plus 16 bytes per weight; a span that would need more than
 * READER_MAX_BYTES is refused (read it in pieces).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "parus/weather.h"
#include "store_int.h"
#include "util_int.h"
#include "weather_int.h"

#define READER_MAX_BYTES ((size_t)2 << 30)

/* One grid's used cells and their values. */
struct rgrid {
    int64_t id;
    uint32_t *cells; /* sorted cell numbers some parcel weighs on */
    size_t n_cells;
    float *values[PARUS_WEATHER_N_VARS_]; /* n_cells x n_days, cell-major; NULL: none stored */
};

/* One (parcel, grid): its weights are w[first .. first + n). */
struct rpar {
    size_t id_off; /* the parcel id: r->ids + id_off */
    size_t grid;   /* index into grids */
    double covered_share;
    size_t first, n;
};

struct rweight {
    uint32_t cell; /* index into the grid's cells */
    double weight;
};

struct parus_weather_reader {
    int64_t first_day;
    size_t n_days;
    struct rgrid *grids; /* by id */
    size_t n_grids;
    struct rpar *pars; /* by parcel id (byte order), then grid id */
    size_t n_pars;
    struct rweight *w;
    size_t n_w;
    char *ids; /* the parcel ids, NUL-separated */
};

void parus_weather_reader_free(parus_weather_reader *r)
{
    size_t g;
    int v;
    if (!r)
        return;
    for (g = 0; g < r->n_grids; g++) {
        free(r->grids[g].cells);
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
            free(r->grids[g].values[v]);
    }
    free(r->grids);
    free(r->pars);
    free(r->w);
    free(r->ids);
    free(r);
}

static bool grow(void **p, size_t *cap, size_t want, size_t size)
{
    size_t n;
    void *q;
    if (want <= *cap)
        return true;
    n = *cap ? *cap : 64;
    while (n < want)
        n *= 2;
    if (n > SIZE_MAX / size || !(q = realloc(*p, n * size)))
        return false;
    *p = q;
    *cap = n;
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static size_t grid_index(const parus_weather_reader *r, int64_t id)
{
    size_t lo = 0, hi = r->n_grids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->grids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t cell_index(const struct rgrid *g, uint32_t cell)
{
    const uint32_t *p = bsearch(&cell, g->cells, g->n_cells, sizeof *g->cells, cmp_u32);
    return p ? (size_t)(p - g->cells) : SIZE_MAX;
}

/* The weights of every parcel on every grid, in (parcel id, grid id) order; the grids and their
 * used cells. */
static parus_status load_weights(parus_store *store, parus_weather_reader *r, parus_error *err)
{
    parus__stmt *st = NULL;
    size_t cap_p = 0, cap_w = 0, cap_ids = 0, len_ids = 0, cap_g = 0, cap_cc = 0, g, k;
    size_t *cap_cells = NULL; /* per grid: the capacity of its cells */
    int rc;
    parus_status code = PARUS_OK;

    rc = parus__db_prepare(store->db,
                           "SELECT p.id, g.grid_id, g.covered_share, w.cell, w.weight FROM "
                           "weather_parcel_grids g JOIN parcels p ON p.num = g.parcel_num JOIN "
                           "weather_weights w ON w.parcel_num = g.parcel_num AND w.grid_id = "
                           "g.grid_id JOIN weather_grids gr ON gr.id = g.grid_id WHERE g.n_cells "
                           "> 0 ORDER BY p.id, gr.stations IS NOT NULL, g.grid_id",
                           false, &st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot read the parcels' weather weights");
    while ((rc = parus__step(st)) == SQLITE_ROW) {
        const char *id = (const char *)parus__column_text(st, 0);
        int64_t gid = parus__column_int64(st, 1);
        int64_t cell = parus__column_int64(st, 3);
        size_t id_len = id ? strlen(id) : 0;
        struct rpar *last = r->n_pars ? &r->pars[r->n_pars - 1] : NULL;
        bool new_id;
        if (!id || cell < 0 || cell > (int64_t)UINT32_MAX) {
            code = parus_fail(err, PARUS_E_STORE, "'%s': a weather weight without a parcel or cell",
                              store->path);
            goto out;
        }
        g = grid_index(r, gid);
        if (g == r->n_grids || r->grids[g].id != gid) {
            if (!grow((void **)&r->grids, &cap_g, r->n_grids + 1, sizeof *r->grids) ||
                !grow((void **)&cap_cells, &cap_cc, r->n_grids + 1, sizeof *cap_cells))
                goto nomem;
            memmove(&r->grids[g + 1], &r->grids[g], (r->n_grids - g) * sizeof *r->grids);
            memmove(&cap_cells[g + 1], &cap_cells[g], (r->n_grids - g) * sizeof *cap_cells);
            memset(&r->grids[g], 0, sizeof r->grids[g]);
            r->grids[g].id = gid;
            cap_cells[g] = 0;
            r->n_grids++;
            for (k = 0; k < r->n_pars; k++)
                if (r->pars[k].grid >= g)
                    r->pars[k].grid++;
        }
        new_id = !last || strcmp(r->ids + last->id_off, id) != 0;
        if (new_id || r->grids[last->grid].id != gid) {
            if (!grow((void **)&r->pars, &cap_p, r->n_pars + 1, sizeof *r->pars))
                goto nomem;
            if (new_id) {
                if (!grow((void **)&r->ids, &cap_ids, len_ids + id_len + 1, 1))
                    goto nomem;
                memcpy(r->ids + len_ids, id, id_len + 1);
                r->pars[r->n_pars].id_off = len_ids;
                len_ids += id_len + 1;
            } else {
                r->pars[r->n_pars].id_off = last->id_off;
            }
            r->pars[r->n_pars].grid = g;
            r->pars[r->n_pars].covered_share = parus__column_double(st, 2);
            r->pars[r->n_pars].first = r->n_w;
            r->pars[r->n_pars].n = 0;
            r->n_pars++;
        }
        if (!grow((void **)&r->w, &cap_w, r->n_w + 1, sizeof *r->w) ||
            !grow((void **)&r->grids[g].cells, &cap_cells[g], r->grids[g].n_cells + 1,
                  sizeof *r->grids[g].cells))
            goto nomem;
        r->grids[g].cells[r->grids[g].n_cells++] = (uint32_t)cell; /* made unique below */
        r->w[r->n_w].cell = (uint32_t)cell;
        r->w[r->n_w].weight = parus__column_double(st, 4);
        r->n_w++;
        r->pars[r->n_pars - 1].n++;
    }
    if (rc != SQLITE_DONE) {
        code = parus__store_sql_fail(store, rc, err, "cannot read the parcels' weather weights");
        goto out;
    }
    /* each grid's cells sorted and unique; weights point at the cell's index */
    for (g = 0; g < r->n_grids; g++) {
        struct rgrid *gr = &r->grids[g];
        size_t n = 0;
        qsort(gr->cells, gr->n_cells, sizeof *gr->cells, cmp_u32);
        for (k = 0; k < gr->n_cells; k++)
            if (n == 0 || gr->cells[k] != gr->cells[n - 1])
                gr->cells[n++] = gr->cells[k];
        gr->n_cells = n;
    }
    for (k = 0; k < r->n_pars; k++) {
        size_t j;
        for (j = r->pars[k].first; j < r->pars[k].first + r->pars[k].n; j++)
            r->w[j].cell = (uint32_t)cell_index(&r->grids[r->pars[k].grid], r->w[j].cell);
    }
    goto out;
nomem:
    code = parus_fail(err, PARUS_E_NOMEM, "cannot hold the parcels' weather weights");
out:
    free(cap_cells);
    parus__finalize(st);
    return code;
}

/* The values of every used cell over the span. */
static parus_status load_values(parus_store *store, parus_weather_reader *r, parus_error *err)
{
    parus__stmt *st = NULL;
    size_t g, k, total = 0;
    int rc;
    parus_status code = PARUS_OK;
    int64_t last_day = r->first_day + (int64_t)r->n_days - 1;

    for (g = 0; g < r->n_grids; g++)
        total += r->grids[g].n_cells;
    if (total > READER_MAX_BYTES / (r->n_days * sizeof(float) * PARUS_WEATHER_N_VARS_))
        return parus_fail(err, PARUS_E_RANGE,
                          "'%s': the weather of %zu cells over %zu days is more than the reader "
                          "holds at once: read a shorter span",
                          store->path, total, r->n_days);
    rc = parus__db_prepare(store->db,
                           "SELECT variable, day, value FROM weather_values WHERE grid_id = ?1 "
                           "AND cell = ?2 AND day BETWEEN ?3 AND ?4",
                           false, &st);
    if (rc != SQLITE_OK)
        return parus__store_sql_fail(store, rc, err, "cannot read the weather values");
    for (g = 0; g < r->n_grids && code == PARUS_OK; g++) {
        struct rgrid *gr = &r->grids[g];
        for (k = 0; k < gr->n_cells; k++) {
            parus__bind_int64(st, 1, gr->id);
            parus__bind_int64(st, 2, gr->cells[k]);
            parus__bind_int64(st, 3, r->first_day);
            parus__bind_int64(st, 4, last_day);
            while ((rc = parus__step(st)) == SQLITE_ROW) {
                parus_weather_var var =
                    parus__weather_var_of_name((const char *)parus__column_text(st, 0));
                int64_t day = parus__column_int64(st, 1);
                if (var == PARUS_WEATHER_N_VARS_)
                    continue;
                if (!gr->values[var]) {
                    size_t n = gr->n_cells * r->n_days, j;
                    if (!(gr->values[var] = malloc(n * sizeof(float)))) {
                        parus__reset(st);
                        code = parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather values");
                        goto out;
                    }
                    for (j = 0; j < n; j++)
                        gr->values[var][j] = NAN;
                }
                gr->values[var][k * r->n_days + (size_t)(day - r->first_day)] =
                    (float)parus__column_double(st, 2);
            }
            parus__reset(st);
            if (rc != SQLITE_DONE) {
                code = parus__store_sql_fail(store, rc, err, "cannot read the weather values");
                goto out;
            }
        }
    }
out:
    parus__finalize(st);
    return code;
}

parus_status parus_weather_reader_open(parus_store *store, const char *first_day,
                                       const char *last_day, parus_weather_reader **out,
                                       parus_error *err)
{
    parus_weather_reader *r;
    char a[11], b[11];
    int64_t d0, d1;
    parus_status code;

    if (!store || !out || !first_day || !last_day || !parus__parse_date(first_day, a) ||
        !parus__parse_date(last_day, b))
        return parus_fail(err, PARUS_E_INVALID, "weather reader: give two dates YYYY-MM-DD");
    d0 = parus__date_days(a);
    d1 = parus__date_days(b);
    if (d1 < d0 || d1 - d0 >= PARUS_WEATHER_READER_MAX_DAYS)
        return parus_fail(err, PARUS_E_INVALID,
                          "weather reader: %s to %s is not a span of 1 to %d days", a, b,
                          PARUS_WEATHER_READER_MAX_DAYS);
    if ((code = parus__store_require_current(store, err)) != PARUS_OK)
        return code;
    if (!(r = calloc(1, sizeof *r)))
        return parus_fail(err, PARUS_E_NOMEM, "weather reader: out of memory");
    r->first_day = d0;
    r->n_days = (size_t)(d1 - d0 + 1);
    if ((code = load_weights(store, r, err)) != PARUS_OK ||
        (code = load_values(store, r, err)) != PARUS_OK) {
        parus_weather_reader_free(r);
        return code;
    }
    *out = r;
    return PARUS_OK;
}

static size_t first_par(const parus_weather_reader *r, const char *id)
{
    size_t lo = 0, hi = r->n_pars;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->ids + r->pars[mid].id_off, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

parus_status parus_weather_reader_parcel(const parus_weather_reader *r, const char *parcel_id,
                                         const char *first_day, const char *last_day,
                                         parus_weather_series *out, parus_error *err)
{
    parus_weather_series s = {0};
    char a[11], b[11];
    int64_t d0, d1, t;
    size_t p0, p, n;
    int v;

    if (!r || !parcel_id || !out || !first_day || !last_day || !parus__parse_date(first_day, a) ||
        !parus__parse_date(last_day, b))
        return parus_fail(err, PARUS_E_INVALID, "weather reader: give a parcel and two dates");
    d0 = parus__date_days(a);
    d1 = parus__date_days(b);
    if (d1 < d0 || d0 < r->first_day || d1 >= r->first_day + (int64_t)r->n_days)
        return parus_fail(err, PARUS_E_INVALID,
                          "weather reader: %s to %s is not inside the span it was opened on", a, b);
    n = (size_t)(d1 - d0 + 1);
    if (!(s.days = malloc(n * sizeof *s.days)))
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold the weather of parcel '%s'", parcel_id);
    s.n_days = n;
    for (t = 0; t < (int64_t)n; t++) {
        s.days[t].day = d0 + t;
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++)
            s.days[t].value[v] = NAN;
    }
    p0 = first_par(r, parcel_id);
    /* the grids, gridded products first, then station records, each in id order: the first whose
       cells with a value hold enough of the parcel */
    for (p = p0; p < r->n_pars && strcmp(r->ids + r->pars[p].id_off, parcel_id) == 0; p++) {
        const struct rpar *rp = &r->pars[p];
        const struct rgrid *g = &r->grids[rp->grid];
        s.covered = true;
        for (v = 0; v < PARUS_WEATHER_N_VARS_; v++) {
            if (!g->values[v])
                continue;
            for (t = 0; t < (int64_t)n; t++) {
                size_t day = (size_t)(d0 + t - r->first_day), j;
                double wv = 0.0, w = 0.0;
                if (!isnan(s.days[t].value[v]))
                    continue;
                for (j = rp->first; j < rp->first + rp->n; j++) {
                    float x = g->values[v][(size_t)r->w[j].cell * r->n_days + day];
                    if (isnan(x))
                        continue;
                    wv += r->w[j].weight * (double)x;
                    w += r->w[j].weight;
                }
                if (w > 0 && !(w < PARUS__WEATHER_MIN_COVER * rp->covered_share))
                    s.days[t].value[v] = wv / w;
            }
        }
    }
    *out = s;
    return PARUS_OK;
}

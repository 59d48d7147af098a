/*
 * crops.c - the crop table: a CSV file of crop classes with calendars, NDVI levels, yield bounds,
 * yield-model coefficients and prices (data-samples/crops.csv, documented in docs/crops.md), and
 * each crop's expected seasonal NDVI curve drawn from its calendar.
 *
 * The table is edited by hand, in a spreadsheet, by a bank in another province, so the reader is
 * strict: every row is checked and the first problem is an E_CONFIG error naming the file, the
 * physical line the record starts on and the column. Parsing is parus's strict RFC 4180 reader
 * (csvin_int.h: quoted fields, embedded commas and line breaks, a UTF-8 byte order mark, blank
 * lines skipped), which refuses a record whose cell count differs from the header's: "2,3" typed
 * for 2.3 must not become a price of 2. Columns are found by name (blanks and case ignored) in any
 * order; every value arrives as the text in the file and is converted here with full-consumption
 * checks, numbers in the C locale whatever the process's (a caller's setlocale must not turn "2.4"
 * into 2). No GDAL: the query launcher reads this table and links none of it. Tables are small
 * (tens of rows): duplicate codes are found by a linear scan.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/crops.h"
#include "csvin_int.h"
#include "util_int.h"

enum col {
    C_CODE,
    C_NAME_EN,
    C_NAME_ZH,
    C_KIND,
    C_SOW,
    C_PEAK,
    C_HARVEST,
    C_SOW2,
    C_PEAK2,
    C_HARVEST2,
    C_NDVI_BASE,
    C_NDVI_PEAK,
    C_YIELD_MIN,
    C_YIELD_MAX,
    C_YIELD_A,
    C_YIELD_B,
    C_PRICE,
    C_YIELD_CV, /* optional from here on: their defaults when the column is absent or the cell
                   empty */
    C_YIELD_C,
    C_YIELD_CV_N,
    C_YIELD_N_HARVESTS,
    C_TBASE,
    C_THEAT,
    C_YIELD_D,
    C_YIELD_E,
    C_DEFICIT_MAX,
    C_HEAT_MAX,
    C_PADDY,
    N_COLS
};

static const char *const col_names[N_COLS] = {
    "code",
    "name_en",
    "name_zh",
    "kind",
    "sow_doy",
    "peak_doy",
    "harvest_doy",
    "sow2_doy",
    "peak2_doy",
    "harvest2_doy",
    "ndvi_base",
    "ndvi_peak",
    "yield_min_kg_per_mu",
    "yield_max_kg_per_mu",
    "yield_a_kg_per_mu",
    "yield_b_kg_per_mu_per_ndvi",
    "price_cny_per_kg",
    "yield_cv",
    "yield_c_kg_per_mu_per_ndvi_peak",
    "yield_cv_n_clear",
    "yield_n_harvests",
    "tbase_c",
    "theat_c",
    "yield_d_kg_per_mu_per_rain_deficit",
    "yield_e_kg_per_mu_per_heat_day",
    "yield_rain_deficit_max",
    "yield_heat_days_max",
    "paddy",
};

static const char *const kind_names[] = {"annual", "perennial", "covered", "noncrop"};

const char *parus_crop_kind_name(parus_crop_kind kind)
{
    if ((int)kind < 0 || (size_t)kind >= sizeof kind_names / sizeof kind_names[0])
        return "unknown";
    return kind_names[kind];
}

void parus_crop_table_release(parus_crop_table *table)
{
    if (!table)
        return;
    free(table->crops);
    table->crops = NULL;
    table->n_crops = 0;
}

const parus_crop *parus_crop_table_find(const parus_crop_table *table, const char *code)
{
    size_t i;
    if (!table || !code)
        return NULL;
    for (i = 0; i < table->n_crops; i++)
        if (strcmp(table->crops[i].code, code) == 0)
            return &table->crops[i];
    return NULL;
}

/* ---- the expected seasonal curve (the header and docs/crops.md state it) ---- */

typedef struct curve_cycle {
    double s, p, h; /* unwrapped: s <= p < h */
    double tu, ku, td, kd;
    double norm; /* raw shape at the peak */
} curve_cycle;

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static double cycle_raw(const curve_cycle *m, double t)
{
    return logistic((t - m->tu) / m->ku) * logistic(-(t - m->td) / m->kd);
}

static void cycle_setup(curve_cycle *m, int sow, int peak, int harvest, bool perennial)
{
    double lead = perennial ? 75.0 : 45.0;
    m->s = sow;
    m->p = peak;
    m->h = harvest;
    if (m->p < m->s)
        m->p += 365;
    if (m->h <= m->p)
        m->h += 365;
    m->tu = fmax(m->s + 0.5 * (m->p - m->s), m->p - lead);
    m->ku = fmax(2.0, (m->p - m->tu) / 4.0);
    m->td = m->h - 0.35 * (m->h - m->p);
    m->kd = fmax(2.0, (m->td - m->p) / 3.0);
    m->norm = cycle_raw(m, m->p);
}

double parus_crop_expected_ndvi(const parus_crop *c, int doy)
{
    curve_cycle cy[2];
    int n_cy, i, k;
    bool perennial, cut;
    double best = 0.0;
    if (!c || doy < 1 || doy > 366)
        return NAN;
    perennial = c->kind == PARUS_CROP_PERENNIAL || c->kind == PARUS_CROP_NONCROP;
    cut = c->kind == PARUS_CROP_ANNUAL || c->kind == PARUS_CROP_COVERED;
    n_cy = c->n_cycles < 0 ? 0 : c->n_cycles > 2 ? 2 : c->n_cycles;
    for (i = 0; i < n_cy; i++)
        cycle_setup(&cy[i], c->cycle[i].sow_doy, c->cycle[i].peak_doy, c->cycle[i].harvest_doy,
                    perennial);
    if (n_cy == 0) {
        /* land without a calendar (fallow): weeds come up over summer */
        cycle_setup(&cy[0], 120, 210, 290, true);
        n_cy = 1;
    }
    for (i = 0; i < n_cy; i++)
        for (k = -1; k <= 1; k++) {
            double t = (double)doy + 365.0 * k;
            double v = cycle_raw(&cy[i], t) / cy[i].norm;
            if (cut && t > cy[i].h)
                v *= exp(-(t - cy[i].h) / 4.0);
            if (v > best)
                best = v;
        }
    return c->ndvi_base + (c->ndvi_peak - c->ndvi_base) * best;
}

/* A row being read: its cells (trimmed copies) and where it came from, for messages. */
struct row {
    const char *path;
    size_t line;
    char cell[N_COLS][256];
};

static parus_status row_fail(const struct row *r, enum col c, parus_error *err, const char *what,
                             const char *detail)
{
    return parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu column '%s': %s%s", r->path, r->line,
                      col_names[c], what, detail ? detail : "");
}

/* dst = src without surrounding blanks; false (dst cut to cap - 1 bytes) when it does not fit. */
static bool trim_into(char *dst, size_t cap, const char *src)
{
    size_t n;
    while (*src == ' ' || *src == '\t' || *src == '\r' || *src == '\n')
        src++;
    n = strlen(src);
    while (n > 0 &&
           (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\r' || src[n - 1] == '\n'))
        n--;
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = '\0';
        return false;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

static bool is_empty(const struct row *r, enum col c)
{
    return r->cell[c][0] == '\0';
}

static parus_status get_real(const struct row *r, enum col c, double *out, parus_error *err)
{
    double v;
    char detail[300];
    if (is_empty(r, c))
        return row_fail(r, c, err, "empty value", NULL);
    if (!parus__parse_decimal(r->cell[c], &v)) {
        snprintf(detail, sizeof detail, "'%s' (decimal digits, within range)", r->cell[c]);
        return row_fail(r, c, err, "not a number: ", detail);
    }
    *out = v;
    return PARUS_OK;
}

static parus_status get_nonneg(const struct row *r, enum col c, double *out, parus_error *err)
{
    parus_status rc = get_real(r, c, out, err);
    char detail[300];
    if (rc != PARUS_OK)
        return rc;
    if (*out < 0) {
        snprintf(detail, sizeof detail, "'%s'", r->cell[c]);
        return row_fail(r, c, err, "must not be negative: ", detail);
    }
    return PARUS_OK;
}

static parus_status get_doy(const struct row *r, enum col c, int *out, parus_error *err)
{
    char *end;
    long v;
    char detail[300];
    if (is_empty(r, c))
        return row_fail(r, c, err, "empty value", NULL);
    errno = 0;
    v = strtol(r->cell[c], &end, 10);
    if (end == r->cell[c] || *end != '\0' || errno != 0) {
        snprintf(detail, sizeof detail, "'%s'", r->cell[c]);
        return row_fail(r, c, err, "not a whole day of year: ", detail);
    }
    if (v < 1 || v > 366) {
        snprintf(detail, sizeof detail, "%ld, outside 1..366", v);
        return row_fail(r, c, err, "day of year ", detail);
    }
    *out = (int)v;
    return PARUS_OK;
}

/* A cycle is three columns, all given or (where allowed) all empty; *present says which. */
static parus_status get_cycle(const struct row *r, enum col first, bool required,
                              parus_crop_cycle *cy, bool *present, parus_error *err)
{
    int n_empty = 0, i;
    parus_status rc;
    for (i = 0; i < 3; i++)
        n_empty += is_empty(r, (enum col)(first + i));
    if (n_empty == 3 && !required) {
        *present = false;
        return PARUS_OK;
    }
    if ((rc = get_doy(r, first, &cy->sow_doy, err)) != PARUS_OK ||
        (rc = get_doy(r, (enum col)(first + 1), &cy->peak_doy, err)) != PARUS_OK ||
        (rc = get_doy(r, (enum col)(first + 2), &cy->harvest_doy, err)) != PARUS_OK)
        return rc;
    *present = true;
    return PARUS_OK;
}

static parus_status copy_text(const struct row *r, enum col c, char *dst, size_t cap,
                              parus_error *err)
{
    char detail[64];
    if (is_empty(r, c))
        return row_fail(r, c, err, "empty value", NULL);
    if (!parus__utf8_valid(r->cell[c]))
        return row_fail(r, c, err, "not UTF-8 text (save the file as UTF-8, not GBK)", NULL);
    if (strlen(r->cell[c]) >= cap) {
        snprintf(detail, sizeof detail, "at most %zu bytes", cap - 1);
        return row_fail(r, c, err, "too long: ", detail);
    }
    memcpy(dst, r->cell[c], strlen(r->cell[c]) + 1);
    return PARUS_OK;
}

static parus_status parse_row(const struct row *r, parus_crop *c, parus_error *err)
{
    parus_status rc;
    const char *p;
    bool have1, have2;
    size_t k;

    memset(c, 0, sizeof *c);
    if ((rc = copy_text(r, C_CODE, c->code, sizeof c->code, err)) != PARUS_OK)
        return rc;
    for (p = c->code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return row_fail(r, C_CODE, err,
                            "code must be lower-case letters, digits and '_': ", r->cell[C_CODE]);
    if ((rc = copy_text(r, C_NAME_EN, c->name_en, sizeof c->name_en, err)) != PARUS_OK ||
        (rc = copy_text(r, C_NAME_ZH, c->name_zh, sizeof c->name_zh, err)) != PARUS_OK)
        return rc;

    for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (strcmp(r->cell[C_KIND], kind_names[k]) == 0)
            break;
    if (k == sizeof kind_names / sizeof kind_names[0]) {
        char detail[320];
        snprintf(detail, sizeof detail, "'%s' (expected annual, perennial, covered or noncrop)",
                 r->cell[C_KIND]);
        return row_fail(r, C_KIND, err, "unknown kind ", detail);
    }
    c->kind = (parus_crop_kind)k;

    if ((rc = get_cycle(r, C_SOW, c->kind != PARUS_CROP_NONCROP, &c->cycle[0], &have1, err)) !=
        PARUS_OK)
        return rc;
    if ((rc = get_cycle(r, C_SOW2, false, &c->cycle[1], &have2, err)) != PARUS_OK)
        return rc;
    if (have2 && !have1)
        return row_fail(r, C_SOW2, err, "a second cycle needs a first one", NULL);
    c->n_cycles = have1 + have2;

    if ((rc = get_real(r, C_NDVI_BASE, &c->ndvi_base, err)) != PARUS_OK ||
        (rc = get_real(r, C_NDVI_PEAK, &c->ndvi_peak, err)) != PARUS_OK)
        return rc;
    if (c->ndvi_base < -1 || c->ndvi_base > 1)
        return row_fail(r, C_NDVI_BASE, err, "NDVI outside [-1, 1]: ", r->cell[C_NDVI_BASE]);
    if (c->ndvi_peak < -1 || c->ndvi_peak > 1)
        return row_fail(r, C_NDVI_PEAK, err, "NDVI outside [-1, 1]: ", r->cell[C_NDVI_PEAK]);
    if (c->kind == PARUS_CROP_ANNUAL && c->ndvi_base >= c->ndvi_peak)
        return row_fail(r, C_NDVI_PEAK, err,
                        "an annual crop's ndvi_peak must be above its ndvi_base", NULL);
    if (c->ndvi_base > c->ndvi_peak)
        return row_fail(r, C_NDVI_PEAK, err, "ndvi_peak is below ndvi_base", NULL);

    if ((rc = get_nonneg(r, C_YIELD_MIN, &c->yield_min_kg_per_mu, err)) != PARUS_OK ||
        (rc = get_nonneg(r, C_YIELD_MAX, &c->yield_max_kg_per_mu, err)) != PARUS_OK)
        return rc;
    if (c->yield_min_kg_per_mu > c->yield_max_kg_per_mu)
        return row_fail(r, C_YIELD_MAX, err, "yield_max_kg_per_mu is below yield_min_kg_per_mu",
                        NULL);
    /* The intercept may be negative (a fitted line), the slope may not: more green, not less. */
    if ((rc = get_real(r, C_YIELD_A, &c->yield_a_kg_per_mu, err)) != PARUS_OK ||
        (rc = get_nonneg(r, C_YIELD_B, &c->yield_b_kg_per_mu_per_ndvi, err)) != PARUS_OK ||
        (rc = get_nonneg(r, C_PRICE, &c->price_cny_per_kg, err)) != PARUS_OK)
        return rc;
    /* no crop yields or sells like this: a unit slip, or a value whose money would overflow */
    if (c->yield_max_kg_per_mu > 100000.0)
        return row_fail(
            r, C_YIELD_MAX, err,
            "above 100000 kg per mu, no crop's yield (a unit slip?): ", r->cell[C_YIELD_MAX]);
    if (c->price_cny_per_kg > 100000.0)
        return row_fail(
            r, C_PRICE, err,
            "above 100000 CNY per kg, no crop's price (a unit slip?): ", r->cell[C_PRICE]);
    c->yield_cv = PARUS_CROP_DEFAULT_YIELD_CV;
    if (!is_empty(r, C_YIELD_CV)) {
        if ((rc = get_nonneg(r, C_YIELD_CV, &c->yield_cv, err)) != PARUS_OK)
            return rc;
        if (c->yield_cv > 1.0)
            return row_fail(r, C_YIELD_CV, err, "yield_cv above 1: ", r->cell[C_YIELD_CV]);
    }
    /* the peak term may be negative (a fitted line's partial slope can be, when the integral
     * carries the canopy), but finite */
    c->yield_c_kg_per_mu_per_ndvi_peak = 0.0;
    if (!is_empty(r, C_YIELD_C) &&
        (rc = get_real(r, C_YIELD_C, &c->yield_c_kg_per_mu_per_ndvi_peak, err)) != PARUS_OK)
        return rc;
    c->yield_d_kg_per_mu_per_rain_deficit = c->yield_e_kg_per_mu_per_heat_day = 0.0;
    if (!is_empty(r, C_YIELD_D) &&
        (rc = get_real(r, C_YIELD_D, &c->yield_d_kg_per_mu_per_rain_deficit, err)) != PARUS_OK)
        return rc;
    if (!is_empty(r, C_YIELD_E) &&
        (rc = get_real(r, C_YIELD_E, &c->yield_e_kg_per_mu_per_heat_day, err)) != PARUS_OK)
        return rc;
    c->yield_rain_deficit_max = c->yield_heat_days_max = NAN;
    if (!is_empty(r, C_DEFICIT_MAX) &&
        (rc = get_nonneg(r, C_DEFICIT_MAX, &c->yield_rain_deficit_max, err)) != PARUS_OK)
        return rc;
    if (!is_empty(r, C_HEAT_MAX) &&
        (rc = get_nonneg(r, C_HEAT_MAX, &c->yield_heat_days_max, err)) != PARUS_OK)
        return rc;
    c->yield_cv_n_clear = 0.0;
    if (!is_empty(r, C_YIELD_CV_N) &&
        (rc = get_nonneg(r, C_YIELD_CV_N, &c->yield_cv_n_clear, err)) != PARUS_OK)
        return rc;
    c->yield_n_harvests = 0;
    if (!is_empty(r, C_YIELD_N_HARVESTS)) {
        double n;
        if ((rc = get_nonneg(r, C_YIELD_N_HARVESTS, &n, err)) != PARUS_OK)
            return rc;
        if (n != floor(n) || n > 1e12)
            return row_fail(r, C_YIELD_N_HARVESTS, err,
                            "not a whole number of harvests: ", r->cell[C_YIELD_N_HARVESTS]);
        c->yield_n_harvests = (size_t)n;
    }
    c->tbase_c = PARUS_CROP_DEFAULT_TBASE_C;
    c->theat_c = PARUS_CROP_DEFAULT_THEAT_C;
    if (!is_empty(r, C_TBASE) && (rc = get_real(r, C_TBASE, &c->tbase_c, err)) != PARUS_OK)
        return rc;
    if (!is_empty(r, C_THEAT) && (rc = get_real(r, C_THEAT, &c->theat_c, err)) != PARUS_OK)
        return rc;
    if (c->tbase_c < -10.0 || c->tbase_c > 30.0)
        return row_fail(r, C_TBASE, err,
                        "base temperature outside -10..30 degC: ", r->cell[C_TBASE]);
    if (c->theat_c < 20.0 || c->theat_c > 50.0)
        return row_fail(r, C_THEAT, err, "heat threshold outside 20..50 degC: ", r->cell[C_THEAT]);
    c->paddy = false;
    if (!is_empty(r, C_PADDY)) {
        if (strcmp(r->cell[C_PADDY], "0") != 0 && strcmp(r->cell[C_PADDY], "1") != 0)
            return row_fail(r, C_PADDY, err, "paddy must be 0 or 1, not ", r->cell[C_PADDY]);
        c->paddy = r->cell[C_PADDY][0] == '1';
    }
    return PARUS_OK;
}

static bool row_blank(const struct row *r)
{
    int c;
    for (c = 0; c < N_COLS; c++)
        if (r->cell[c][0])
            return false;
    return true;
}

/* A problem of the file's form (an open quote, cells beyond the header's) is a problem of the
 * table: the same exit code as a bad value. */
static parus_status as_config(parus_status rc, parus_error *err)
{
    if (rc == PARUS_E_FORMAT) {
        if (err)
            err->code = PARUS_E_CONFIG;
        return PARUS_E_CONFIG;
    }
    return rc;
}

/* The edit distance of two names, case ignored, capped: past cap it is cap + 1. */
static size_t name_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64], diag, best;
    if (la >= sizeof row / sizeof row[0] || lb >= sizeof row / sizeof row[0])
        return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        best = row[0];
        for (j = 1; j <= lb; j++) {
            size_t up = row[j],
                   cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t v = diag + cost;
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            diag = up;
            row[j] = v;
            if (v < best)
                best = v;
        }
        if (best > cap)
            return cap + 1;
    }
    return row[lb];
}

/* The known column an unknown name looks like a slip for (one begins with the other, or a
 * letter or two apart), or NULL: such a column would be ignored and the crop's default used
 * (yield_cv_typo for yield_cv: a P10 on the assumed spread), so it is refused, where a column
 * no one could take for one of ours (a note, a source) is kept as the user's own. */
static const char *near_column(const char *name)
{
    size_t n = strlen(name), c, k;
    if (n < 4)
        return NULL;
    for (c = 0; c < N_COLS; c++) {
        size_t m = strlen(col_names[c]);
        for (k = 0; k < n && k < m; k++)
            if (tolower((unsigned char)name[k]) != (unsigned char)col_names[c][k])
                break;
        if (k == (n < m ? n : m)) /* one begins with the other */
            return col_names[c];
        k = name_distance(name, col_names[c], n >= 6 ? 2 : 1);
        if (k <= (n >= 6 ? 2u : 1u))
            return col_names[c];
    }
    return NULL;
}

/* The header: where each column is (names compared without surrounding blanks and case). */
static parus_status map_header(const parus__csv *csv, const char *path, int idx[N_COLS],
                               parus_error *err)
{
    char name[256];
    size_t j;
    int c;
    for (c = 0; c < N_COLS; c++)
        idx[c] = -1;
    for (j = 0; j < csv->n_cells && j < INT_MAX; j++) {
        bool known = false;
        const char *near;
        (void)trim_into(name, sizeof name, csv->cells[j]); /* a longer one is no name of ours */
        for (c = 0; c < N_COLS; c++)
            if (parus__strcasecmp(name, col_names[c]) == 0) {
                if (idx[c] >= 0)
                    return parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: column '%s' twice", path,
                                      csv->line, col_names[c]);
                idx[c] = (int)j;
                known = true;
            }
        if (!known && (near = near_column(name)) != NULL)
            return parus_fail(err, PARUS_E_CONFIG,
                              "'%s' line %zu: column '%s' is not one parus reads, and is close to "
                              "'%s': its values would be ignored; name it '%s', or give your own "
                              "column a name that is not like one of parus's (docs/crops.md)",
                              path, csv->line, name, near, near);
    }
    for (c = 0; c < N_COLS; c++)
        if (idx[c] < 0 && c < C_YIELD_CV)
            return parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: missing column '%s'", path,
                              csv->line, col_names[c]);
    return PARUS_OK;
}

parus_status parus_crop_table_load(const char *path, parus_crop_table *out, parus_error *err)
{
    parus__csv csv;
    parus_status rc;
    int idx[N_COLS], c;
    parus_crop *crops = NULL;
    size_t n = 0, cap_n = 0;
    struct row *r = NULL;
    bool done;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "crop table path and output are required");
    if ((rc = parus__csv_open(&csv, path, err)) != PARUS_OK)
        return rc != PARUS_E_IO ? rc
                                : parus_fail(err, PARUS_E_IO, "cannot read crop table '%s': %s",
                                             path, strerror(csv.open_errno));
    if (!(r = malloc(sizeof *r))) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate for crop table '%s'", path);
        goto out;
    }
    if ((rc = as_config(parus__csv_next(&csv, &done, err), err)) != PARUS_OK)
        goto out;
    if (done) {
        rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line 1: missing column 'code' (an empty file)",
                        path);
        goto out;
    }
    if ((rc = map_header(&csv, path, idx, err)) != PARUS_OK)
        goto out;

    r->path = path;
    for (;;) {
        parus_crop crop;
        size_t j;
        if ((rc = as_config(parus__csv_next(&csv, &done, err), err)) != PARUS_OK)
            goto out;
        if (done)
            break;
        r->line = csv.line;
        for (c = 0; c < N_COLS; c++)
            if (!trim_into(r->cell[c], sizeof r->cell[c], idx[c] >= 0 ? csv.cells[idx[c]] : "")) {
                /* never a value read from its first 255 bytes: "2.4000...0x" is not 2.4 */
                rc = row_fail(r, (enum col)c, err, "too long: ", "more than 255 bytes");
                goto out;
            }
        if (row_blank(r))
            continue;
        if ((rc = parse_row(r, &crop, err)) != PARUS_OK)
            goto out;
        for (j = 0; j < n; j++)
            if (strcmp(crops[j].code, crop.code) == 0) {
                rc = row_fail(r, C_CODE, err, "duplicate code ", r->cell[C_CODE]);
                goto out;
            }
        if (n == cap_n) {
            size_t new_cap = cap_n ? 2 * cap_n : 32, bytes;
            parus_crop *grown;
            if (!parus__mul_size(new_cap, sizeof *crops, &bytes) ||
                !(grown = realloc(crops, bytes))) {
                rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate crop table '%s'", path);
                goto out;
            }
            crops = grown;
            cap_n = new_cap;
        }
        crops[n++] = crop;
    }
    if (n == 0) {
        rc = parus_fail(err, PARUS_E_CONFIG, "crop table '%s' has no crop rows", path);
        goto out;
    }
    out->crops = crops;
    out->n_crops = n;
    crops = NULL;
out:
    parus__csv_close(&csv);
    free(crops);
    free(r);
    return rc;
}

/*
 * crops.c - the crop table: a CSV file of crop classes with calendars, NDVI levels, yield bounds,
 * yield-model coefficients and prices (data-samples/crops.csv, documented in docs/crops.md), and
 * each crop's expected seasonal NDVI curve drawn from its calendar.
 *
 * The table is edited by hand, in a spreadsheet, by a bank in another province, so the reader is
 * strict: every row is checked and the first problem is an E_CONFIG error naming the file, the
 * line (data row + 1 for the header) and the column. Parsing is GDAL's CSV driver through OGR
 * (quoted fields, embedded commas, UTF-8 Chinese names), with type detection off so every value
 * arrives as the text in the file and is converted here with full-consumption checks. Numbers go
 * through CPLStrtod, which ignores the process locale (a caller's setlocale must not turn "2.4"
 * into 2). OGR skips blank lines and silently drops cells beyond the header's, so a first pass with
 * GDAL's own CSV tokenizer (the one the driver uses) finds the physical line of every record and
 * refuses a record whose cell count differs from the header's: "2,3" typed for 2.3 must not
 * become a price of 2. Tables are small (tens of rows): duplicate codes are found by a linear scan.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_csv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>

#include "parus/crops.h"
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
    C_YIELD_CV, /* optional: PARUS_CROP_DEFAULT_YIELD_CV when the column is absent or the cell empty
                 */
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

static void trim_into(char *dst, size_t cap, const char *src)
{
    size_t n;
    while (*src == ' ' || *src == '\t' || *src == '\r' || *src == '\n')
        src++;
    n = strlen(src);
    while (n > 0 &&
           (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\r' || src[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool is_empty(const struct row *r, enum col c)
{
    return r->cell[c][0] == '\0';
}

static parus_status get_real(const struct row *r, enum col c, double *out, parus_error *err)
{
    char *end;
    double v;
    char detail[300];
    if (is_empty(r, c))
        return row_fail(r, c, err, "empty value", NULL);
    v = CPLStrtod(r->cell[c], &end);
    if (end == r->cell[c] || *end != '\0' || !isfinite(v)) {
        snprintf(detail, sizeof detail, "'%s'", r->cell[c]);
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
    if (!CPLIsUTF8(r->cell[c], -1))
        return row_fail(r, c, err, "not UTF-8 text (save the file as UTF-8, not GBK)", NULL);
    if (strlen(r->cell[c]) >= cap) {
        snprintf(detail, sizeof detail, "at most %zu bytes", cap - 1);
        return row_fail(r, c, err, "too long: ", detail);
    }
    memcpy(dst, r->cell[c], strlen(r->cell[c]) + 1);
    return PARUS_OK;
}

/* The physical line where each non-blank record starts (the header is record 0), and a check that
 * every record has as many cells as the header. */
static parus_status scan_records(const char *path, size_t **lines_out, size_t *n_out,
                                 parus_error *err)
{
    VSILFILE *fp = VSIFOpenL(path, "rb");
    size_t *lines = NULL, n = 0, cap_n = 0, line = 1;
    int n_header = -1;
    char **cells;
    parus_status rc = PARUS_OK;

    if (!fp)
        return parus_fail(err, PARUS_E_IO, "cannot read crop table '%s'", path);
    while ((cells = CSVReadParseLine3L(fp, 1 << 20, ",", true, false, false, true)) != NULL) {
        int n_cells = CSLCount(cells), i;
        size_t consumed = 1;
        for (i = 0; i < n_cells; i++) {
            const char *q;
            for (q = cells[i]; (q = strchr(q, '\n')) != NULL; q++)
                consumed++;
        }
        CSLDestroy(cells);
        if (n_cells > 0) {
            if (n_header < 0) {
                n_header = n_cells;
            } else if (n_cells != n_header) {
                rc = parus_fail(err, PARUS_E_CONFIG,
                                "'%s' line %zu: %d cells where the header has %d (a value with "
                                "an unquoted comma?)",
                                path, line, n_cells, n_header);
                break;
            }
            if (n == cap_n) {
                size_t new_cap = cap_n ? 2 * cap_n : 64, bytes;
                size_t *grown;
                if (!parus__mul_size(new_cap, sizeof *lines, &bytes) ||
                    !(grown = realloc(lines, bytes))) {
                    rc =
                        parus_fail(err, PARUS_E_NOMEM, "cannot allocate for crop table '%s'", path);
                    break;
                }
                lines = grown;
                cap_n = new_cap;
            }
            lines[n++] = line;
        }
        line += consumed;
    }
    VSIFCloseL(fp);
    if (rc != PARUS_OK) {
        free(lines);
        return rc;
    }
    *lines_out = lines;
    *n_out = n;
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
    c->yield_cv = PARUS_CROP_DEFAULT_YIELD_CV;
    if (!is_empty(r, C_YIELD_CV)) {
        if ((rc = get_nonneg(r, C_YIELD_CV, &c->yield_cv, err)) != PARUS_OK)
            return rc;
        if (c->yield_cv > 1.0)
            return row_fail(r, C_YIELD_CV, err, "yield_cv above 1: ", r->cell[C_YIELD_CV]);
    }
    return PARUS_OK;
}

static bool ends_with_csv(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && parus__strcasecmp(path + n - 4, ".csv") == 0;
}

static bool row_blank(const struct row *r)
{
    int c;
    for (c = 0; c < N_COLS; c++)
        if (r->cell[c][0])
            return false;
    return true;
}

parus_status parus_crop_table_load(const char *path, parus_crop_table *out, parus_error *err)
{
    static const char *const drivers[] = {"CSV", NULL};
    static const char *const open_opts[] = {"AUTODETECT_TYPE=NO", "HEADERS=YES",
                                            "EMPTY_STRING_AS_NULL=NO", NULL};
    parus__gdal_capture cap;
    parus_status rc = PARUS_OK;
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    OGRFeatureH feat;
    int idx[N_COLS];
    parus_crop *crops = NULL;
    size_t n = 0, cap_n = 0, *lines = NULL, n_lines = 0, n_records = 0;
    struct row *r = NULL;
    char *conn = NULL;
    FILE *probe;
    int c;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "crop table path and output are required");
    probe = fopen(path, "rb");
    if (!probe)
        return parus_fail(err, PARUS_E_IO, "cannot read crop table '%s': %s", path,
                          strerror(errno));
    fclose(probe);

    /* The CSV driver only claims *.csv names by itself; the prefix makes it take any name. */
    if (ends_with_csv(path)) {
        conn = parus__strdup(path);
    } else {
        size_t len = strlen(path) + 5;
        conn = malloc(len);
        if (conn)
            snprintf(conn, len, "CSV:%s", path);
    }
    r = malloc(sizeof *r);
    if (!conn || !r) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate for crop table '%s'", path);
        goto out_free;
    }

    parus__gdal_init();
    parus__gdal_capture_begin(&cap);
    if ((rc = scan_records(path, &lines, &n_lines, err)) != PARUS_OK)
        goto out_capture;
    ds = GDALOpenEx(conn, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, open_opts, NULL);
    if (!ds) {
        rc = parus_fail(err, PARUS_E_CONFIG, "cannot read crop table '%s' as CSV: %s", path,
                        parus__gdal_capture_msg(&cap, "not a CSV file"));
        goto out_capture;
    }
    layer = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (!layer) {
        rc = parus_fail(err, PARUS_E_CONFIG, "crop table '%s' holds no table", path);
        goto out_close_ds;
    }
    defn = OGR_L_GetLayerDefn(layer);
    for (c = 0; c < N_COLS; c++) {
        idx[c] = OGR_FD_GetFieldIndex(defn, col_names[c]);
        if (idx[c] < 0 && c != C_YIELD_CV) {
            rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line 1: missing column '%s'", path,
                            col_names[c]);
            goto out_close_ds;
        }
    }

    r->path = path;
    r->line = 1;
    OGR_L_ResetReading(layer);
    while ((feat = OGR_L_GetNextFeature(layer)) != NULL) {
        parus_crop crop;
        size_t j;
        n_records++;
        r->line = n_records < n_lines ? lines[n_records] : n_records + 1;
        for (c = 0; c < N_COLS; c++) {
            const char *v = idx[c] >= 0 && OGR_F_IsFieldSetAndNotNull(feat, idx[c])
                                ? OGR_F_GetFieldAsString(feat, idx[c])
                                : "";
            trim_into(r->cell[c], sizeof r->cell[c], v);
        }
        OGR_F_Destroy(feat);
        if (row_blank(r))
            continue;
        if ((rc = parse_row(r, &crop, err)) != PARUS_OK)
            goto out_close_ds;
        for (j = 0; j < n; j++)
            if (strcmp(crops[j].code, crop.code) == 0) {
                rc = row_fail(r, C_CODE, err, "duplicate code ", r->cell[C_CODE]);
                goto out_close_ds;
            }
        if (n == cap_n) {
            size_t new_cap = cap_n ? 2 * cap_n : 32, bytes;
            parus_crop *grown;
            if (!parus__mul_size(new_cap, sizeof *crops, &bytes) ||
                !(grown = realloc(crops, bytes))) {
                rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate crop table '%s'", path);
                goto out_close_ds;
            }
            crops = grown;
            cap_n = new_cap;
        }
        crops[n++] = crop;
    }
    if (n == 0) {
        rc = parus_fail(err, PARUS_E_CONFIG, "crop table '%s' has no crop rows", path);
        goto out_close_ds;
    }
    out->crops = crops;
    out->n_crops = n;
    crops = NULL;

out_close_ds:
    GDALClose(ds);
out_capture:
    parus__gdal_capture_end(&cap);
out_free:
    free(lines);
    free(crops);
    free(r);
    free(conn);
    return rc;
}

/*
 * import.c - reading external files for the store: per-sample time series in the long and wide
 * CSV forms, and the crop declared for each parcel (include/parus/import.h has the rules).
 *
 * Workload: a training set of a few thousand samples x a few dozen dates x a few variables (the
 * Mato Grosso set is 2,115 x 23 x 6 in 3.4 MB), or a county's declarations (100,000+ rows). A file
 * is read once, record by record (csvin.c, which knows the physical line of every record), into
 * compact arrays; samples are then grouped and checked by sorting, so the cost is O(n log n) and
 * the memory a few times the values. Everything is checked before anything is returned: the
 * caller stores a whole file or nothing.
 *
 * Numbers go through CPLStrtod, which ignores the process locale (a caller's setlocale must not
 * turn "0.388" into 0). Which long-form columns are variables is decided after the whole file is
 * read: numbers in every non-missing cell make a variable, no number at all an ignored text
 * column, and a mix is an error at the first text cell, so a typo such as "0.3x" in the first row
 * of a variable cannot quietly drop the variable.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>

#include "parus/import.h"
#include "csvin_int.h"
#include "util_int.h"

/* ---- cells ---- */

/* Cells live in the reader's buffer, which is ours to edit until the next record. */
static char *trim(char *s)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

static bool is_missing(const char *s)
{
    return !*s || parus__strcasecmp(s, "NA") == 0 || parus__strcasecmp(s, "N/A") == 0 ||
           parus__strcasecmp(s, "NaN") == 0 || parus__strcasecmp(s, "null") == 0;
}

static bool parse_number(const char *s, double *out)
{
    char *end;
    double v;
    /* decimal only: no hexadecimal, no "inf" or "nan" spelled out */
    if (!*s || strspn(s, "+-.0123456789eE") != strlen(s))
        return false;
    v = CPLStrtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A whole cell that is a real date, YYYY-MM-DD or YYYYMMDD; out is canonical. */
static bool parse_date_cell(const char *s, char out[11])
{
    size_t len = strlen(s), i;
    if (len == 8) {
        for (i = 0; i < 8; i++)
            if (s[i] < '0' || s[i] > '9')
                return false;
    } else if (len != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    return parus__parse_date(s, out);
}

/* Days since 1970-01-01 to a canonical date (Howard Hinnant's civil_from_days); false when the
 * year is outside 0..9999. */
static bool date_from_days(int64_t z, char out[11])
{
    int64_t era, doe, yoe, y, doy, mp, d, m;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        return false;
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
    return true;
}

/* A comma-separated list names `name` (ASCII case ignored, blanks around items ignored). */
static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (p && *p) {
        const char *end = strchr(p, ',');
        const char *a = p, *b = end ? end : p + strlen(p);
        size_t i;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if ((size_t)(b - a) == n) {
            for (i = 0; i < n; i++)
                if (tolower((unsigned char)a[i]) != tolower((unsigned char)name[i]))
                    break;
            if (i == n)
                return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t new_cap, bytes;
    void *grown;
    if (need <= *cap)
        return true;
    new_cap = *cap ? *cap : 64;
    while (new_cap < need)
        new_cap *= 2;
    if (!parus__mul_size(new_cap, size, &bytes) || !(grown = realloc(*p, bytes)))
        return false;
    *p = grown;
    *cap = new_cap;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? parus__strdup(s) : NULL;
}

static bool same_opt(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ---- columns of a series file ---- */

enum role { R_OTHER, R_ID, R_LABEL, R_GROUP, R_DATE, R_START, R_END, R_EXCLUDED, R_VAR };

struct column {
    char *name; /* a copy of the header cell */
    enum role role;
    /* long form, a candidate variable: what its cells held */
    bool any_number;
    size_t first_text_line;
    char first_text[48];
    size_t cand; /* index among candidates */
    /* wide form, a variable column */
    size_t var; /* index in the variable list */
    long step;  /* from 1; 0 for a dated column */
    char date[11];
};

struct series_reader {
    const char *path;
    const parus_series_csv_options *opt;
    parus__csv csv;
    struct column *cols;
    size_t n_cols;
    size_t col_id, col_label, col_group, col_date, col_start, col_end; /* n_cols when absent */
    char **vars;
    size_t n_vars, cap_vars;
    char **ignored;
    size_t n_ignored, cap_ignored;
};

static parus_status nomem(const struct series_reader *r, parus_error *err)
{
    return parus_fail(err, PARUS_E_NOMEM, "cannot hold the series of '%s'", r->path);
}

static bool add_name(char ***list, size_t *n, size_t *cap, const char *name)
{
    char *copy;
    if (!grow((void **)list, cap, *n + 1, sizeof **list))
        return false;
    copy = parus__strdup(name);
    if (!copy)
        return false;
    (*list)[(*n)++] = copy;
    return true;
}

static void free_names(char **list, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* The index of a variable name, added when new; (size_t)-1 on allocation failure. */
static size_t var_index(struct series_reader *r, const char *name, size_t len)
{
    size_t i;
    char *copy;
    for (i = 0; i < r->n_vars; i++)
        if (strlen(r->vars[i]) == len && memcmp(r->vars[i], name, len) == 0)
            return i;
    copy = parus__strndup(name, len);
    if (!copy || !grow((void **)&r->vars, &r->cap_vars, r->n_vars + 1, sizeof *r->vars)) {
        free(copy);
        return (size_t)-1;
    }
    r->vars[r->n_vars] = copy;
    return r->n_vars++;
}

/* A wide-form column name <var>_<suffix>: true and its variable and date or step when it is one.
 * A suffix that looks like a date but is not a real one is an error (E_FORMAT in *code). */
static bool wide_column(struct series_reader *r, struct column *c, parus_status *code,
                        parus_error *err)
{
    const char *us = strrchr(c->name, '_'), *suf;
    size_t len, i;
    bool digits = true;

    *code = PARUS_OK;
    if (!us || us == c->name || !us[1])
        return false;
    suf = us + 1;
    len = strlen(suf);
    for (i = 0; i < len; i++)
        if (suf[i] < '0' || suf[i] > '9')
            digits = false;
    if (len == 10 && suf[4] == '-' && suf[7] == '-') {
        if (!parse_date_cell(suf, c->date)) {
            *code = parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: column '%s' names no real date",
                               r->path, c->name);
            return false;
        }
        c->step = 0;
    } else if (!digits) {
        return false;
    } else if (len == 8 && parse_date_cell(suf, c->date)) {
        c->step = 0;
    } else {
        long k = 0;
        if (len > 6) {
            *code = parus_fail(err, PARUS_E_FORMAT,
                               "'%s' line 1: column '%s': step %s is neither a step index nor a "
                               "real date YYYYMMDD",
                               r->path, c->name, suf);
            return false;
        }
        for (i = 0; i < len; i++)
            k = k * 10 + (suf[i] - '0');
        if (k < 1) {
            *code =
                parus_fail(err, PARUS_E_FORMAT,
                           "'%s' line 1: column '%s': steps are numbered from 1", r->path, c->name);
            return false;
        }
        c->step = k;
        c->date[0] = '\0';
    }
    c->var = var_index(r, c->name, (size_t)(us - c->name));
    if (c->var == (size_t)-1) {
        *code = nomem(r, err);
        return false;
    }
    return true;
}

static const char *or_default(const char *s, const char *def)
{
    return s && *s ? s : def;
}

/* Give each header column its role. */
static parus_status read_header(struct series_reader *r, parus_series_form *form, parus_error *err)
{
    const parus_series_csv_options *o = r->opt;
    const char *names[6];
    size_t *slots[6] = {&r->col_id,   &r->col_label, &r->col_group,
                        &r->col_date, &r->col_start, &r->col_end};
    static const enum role roles[6] = {R_ID, R_LABEL, R_GROUP, R_DATE, R_START, R_END};
    parus_status code;
    bool done;
    size_t i, j, k;

    names[0] = or_default(o->id_column, "sample_id");
    names[1] = or_default(o->label_column, "label");
    names[2] = or_default(o->group_column, "fold");
    names[3] = or_default(o->date_column, "date");
    names[4] = or_default(o->start_column, "start_date");
    names[5] = or_default(o->end_column, "end_date");

    code = parus__csv_next(&r->csv, &done, err);
    if (code != PARUS_OK)
        return code;
    if (done)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' is empty (no header)", r->path);
    r->n_cols = r->csv.n_cells;
    r->cols = calloc(r->n_cols, sizeof *r->cols);
    if (!r->cols)
        return nomem(r, err);
    for (k = 0; k < 6; k++)
        *slots[k] = r->n_cols;
    for (i = 0; i < r->n_cols; i++) {
        struct column *c = &r->cols[i];
        c->name = parus__strdup(trim(r->csv.cells[i]));
        if (!c->name)
            return nomem(r, err);
        if (!*c->name)
            return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: column %zu has no name", r->path,
                              i + 1);
        if (!parus__utf8_valid(c->name))
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line 1: a column name is not UTF-8 (save the file as UTF-8)",
                              r->path);
        for (j = 0; j < i; j++)
            if (parus__strcasecmp(r->cols[j].name, c->name) == 0)
                return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: column '%s' appears twice",
                                  r->path, c->name);
        for (k = 0; k < 6; k++)
            if (parus__strcasecmp(c->name, names[k]) == 0) {
                c->role = roles[k];
                *slots[k] = i;
                break;
            }
        if (c->role == R_OTHER && list_has(o->exclude, c->name))
            c->role = R_EXCLUDED;
    }
    if (r->col_id == r->n_cols)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: no sample id column '%s'", r->path,
                          names[0]);
    if (*form == PARUS_SERIES_AUTO)
        *form = r->col_date < r->n_cols ? PARUS_SERIES_LONG : PARUS_SERIES_WIDE;
    if (*form == PARUS_SERIES_LONG && r->col_date == r->n_cols)
        return parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: no date column '%s' (long form)",
                          r->path, names[3]);
    if (*form == PARUS_SERIES_WIDE && r->col_date < r->n_cols) {
        r->cols[r->col_date].role = R_OTHER; /* not a role in the wide form: ignored */
        r->col_date = r->n_cols;
    }
    return PARUS_OK;
}

/* Role cells of a record, trimmed and checked. */
struct roles {
    const char *id, *label, *group;
    char date[11], start[11], end[11];
};

static parus_status read_roles(struct series_reader *r, bool need_start, struct roles *out,
                               parus_error *err)
{
    char **cells = r->csv.cells;
    size_t line = r->csv.line;
    struct {
        size_t col;
        char *dst;
        bool required;
    } dates[3] = {{r->col_date, out->date, r->col_date < r->n_cols},
                  {r->col_start, out->start, need_start},
                  {r->col_end, out->end, false}};
    size_t k;

    memset(out, 0, sizeof *out);
    out->id = trim(cells[r->col_id]);
    if (!*out->id)
        return parus_fail(err, PARUS_E_INVALID, "'%s' line %zu: empty sample id", r->path, line);
    out->label = r->col_label < r->n_cols ? trim(cells[r->col_label]) : NULL;
    out->group = r->col_group < r->n_cols ? trim(cells[r->col_group]) : NULL;
    if (!parus__utf8_valid(out->id) || (out->label && !parus__utf8_valid(out->label)) ||
        (out->group && !parus__utf8_valid(out->group)))
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line %zu: text that is not UTF-8 (save the file as UTF-8, not "
                          "GBK)",
                          r->path, line);
    for (k = 0; k < 3; k++) {
        const char *s;
        if (dates[k].col >= r->n_cols)
            continue;
        s = trim(cells[dates[k].col]);
        if (!*s && !dates[k].required)
            continue;
        if (!parse_date_cell(s, dates[k].dst))
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line %zu: column '%s': '%s' is not a date YYYY-MM-DD", r->path,
                              line, r->cols[dates[k].col].name, s);
    }
    return PARUS_OK;
}

/* A cell of a variable: a number, or missing (NaN); false when it is text. */
static bool read_value(char *cell, double *v)
{
    const char *s = trim(cell);
    if (is_missing(s)) {
        *v = (double)NAN;
        return true;
    }
    return parse_number(s, v);
}

/* ---- the long form ---- */

struct long_row {
    size_t line;
    char *id, *label, *group;
    char date[11], start[11], end[11];
};

struct long_data {
    struct long_row *rows;
    size_t n_rows, cap_rows;
    double *values; /* n_rows x n_cand */
    size_t cap_values;
    size_t n_cand;
};

static void long_data_free(struct long_data *d)
{
    size_t i;
    for (i = 0; i < d->n_rows; i++) {
        free(d->rows[i].id);
        free(d->rows[i].label);
        free(d->rows[i].group);
    }
    free(d->rows);
    free(d->values);
}

static int compare_long_rows(const void *a, const void *b)
{
    const struct long_row *x = *(const struct long_row *const *)a;
    const struct long_row *y = *(const struct long_row *const *)b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    c = strcmp(x->date, y->date);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static parus_status long_read_rows(struct series_reader *r, struct long_data *d, parus_error *err)
{
    parus_status code;
    size_t i;
    bool done;

    for (i = 0; i < r->n_cols; i++)
        if (r->cols[i].role == R_OTHER) {
            r->cols[i].role = R_VAR;
            r->cols[i].cand = d->n_cand++;
        }
    for (;;) {
        struct roles ro;
        struct long_row *row;
        double *vals;
        code = parus__csv_next(&r->csv, &done, err);
        if (code != PARUS_OK)
            return code;
        if (done)
            return PARUS_OK;
        code = read_roles(r, false, &ro, err);
        if (code != PARUS_OK)
            return code;
        if (!grow((void **)&d->rows, &d->cap_rows, d->n_rows + 1, sizeof *d->rows) ||
            !grow((void **)&d->values, &d->cap_values,
                  (d->n_rows + 1) * (d->n_cand ? d->n_cand : 1), sizeof *d->values))
            return nomem(r, err);
        row = &d->rows[d->n_rows];
        memset(row, 0, sizeof *row);
        row->line = r->csv.line;
        memcpy(row->date, ro.date, sizeof row->date);
        memcpy(row->start, ro.start, sizeof row->start);
        memcpy(row->end, ro.end, sizeof row->end);
        row->id = parus__strdup(ro.id);
        row->label = dup_or_null(ro.label);
        row->group = dup_or_null(ro.group);
        d->n_rows++; /* counted now so that its strings are freed on any error */
        if (!row->id || (ro.label && *ro.label && !row->label) ||
            (ro.group && *ro.group && !row->group))
            return nomem(r, err);
        vals = d->values + (d->n_rows - 1) * d->n_cand;
        for (i = 0; i < r->n_cols; i++) {
            struct column *c = &r->cols[i];
            if (c->role != R_VAR)
                continue;
            if (read_value(r->csv.cells[i], &vals[c->cand])) {
                if (!isnan(vals[c->cand]))
                    c->any_number = true;
            } else {
                vals[c->cand] = (double)NAN;
                if (!c->first_text_line) {
                    c->first_text_line = row->line;
                    snprintf(c->first_text, sizeof c->first_text, "%s", trim(r->csv.cells[i]));
                }
            }
        }
    }
}

/* Check one sample's rows (sorted by date, then line) and fill its sample. */
static parus_status long_sample(struct series_reader *r, struct long_data *d,
                                struct long_row **rows, size_t n, const size_t *var_cand,
                                parus_sample *s, parus_error *err)
{
    const struct long_row *ref = rows[0];
    parus_sample_point *pts;
    size_t i, v, bytes, n_pts;

    for (i = 1; i < n; i++)
        if (rows[i]->line < ref->line)
            ref = rows[i];
    for (i = 0; i < n; i++) {
        const struct long_row *x = rows[i];
        const char *what = NULL;
        if (i > 0 && strcmp(rows[i - 1]->date, x->date) == 0) {
            const struct long_row *first = rows[i - 1];
            return parus_fail(err, PARUS_E_DUPLICATE,
                              "'%s' line %zu: sample '%s' has date %s twice (also line %zu)",
                              r->path, x->line, x->id, x->date, first->line);
        }
        if (!same_opt(x->label, ref->label))
            what = "label";
        else if (!same_opt(x->group, ref->group))
            what = "group";
        else if (strcmp(x->start, ref->start) != 0)
            what = "start date";
        else if (strcmp(x->end, ref->end) != 0)
            what = "end date";
        if (what) {
            const struct long_row *late = x->line > ref->line ? x : ref;
            const struct long_row *early = x->line > ref->line ? ref : x;
            return parus_fail(err, PARUS_E_INVALID,
                              "'%s' line %zu: sample '%s' has another %s than on line %zu", r->path,
                              late->line, x->id, what, early->line);
        }
    }
    if (!parus__mul_size(n, r->n_vars, &n_pts) || !parus__mul_size(n_pts, sizeof *pts, &bytes) ||
        !(pts = malloc(bytes ? bytes : 1)))
        return nomem(r, err);
    for (i = 0; i < n; i++) {
        size_t row_index = (size_t)(rows[i] - d->rows);
        for (v = 0; v < r->n_vars; v++) {
            parus_sample_point *pt = &pts[i * r->n_vars + v];
            memcpy(pt->date, rows[i]->date, sizeof pt->date);
            pt->var = r->vars[v];
            pt->value = d->values[row_index * d->n_cand + var_cand[v]];
        }
    }
    memset(s, 0, sizeof *s);
    s->id = parus__strdup(ref->id);
    s->label = dup_or_null(ref->label);
    s->group = dup_or_null(ref->group);
    memcpy(s->start_date, ref->start, sizeof s->start_date);
    memcpy(s->end_date, ref->end, sizeof s->end_date);
    s->points = pts;
    s->n_points = n_pts;
    if (!s->id || (ref->label && !s->label) || (ref->group && !s->group))
        return nomem(r, err);
    return PARUS_OK;
}

static void samples_free(parus_sample *s, size_t n)
{
    size_t i;
    for (i = 0; s && i < n; i++) {
        free((void *)s[i].id);
        free((void *)s[i].label);
        free((void *)s[i].group);
        free((void *)s[i].points);
    }
    free(s);
}

static parus_status read_long(struct series_reader *r, parus_sample_set *set, parus_error *err)
{
    struct long_data d;
    struct long_row **order = NULL;
    size_t *var_cand = NULL;
    parus_sample *samples = NULL;
    size_t n_samples = 0, i, j, bytes;
    parus_status code;

    memset(&d, 0, sizeof d);
    code = long_read_rows(r, &d, err);
    if (code != PARUS_OK)
        goto out_free;

    /* which candidates are variables */
    var_cand = malloc((d.n_cand ? d.n_cand : 1) * sizeof *var_cand);
    if (!var_cand)
        goto out_nomem;
    for (i = 0; i < r->n_cols; i++) {
        struct column *c = &r->cols[i];
        if (c->role != R_VAR)
            continue;
        if (c->any_number && c->first_text_line) {
            code = parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line %zu: column '%s': '%s' is not a number (other rows hold "
                              "numbers; name the column in --exclude if it is not a variable)",
                              r->path, c->first_text_line, c->name, c->first_text);
            goto out_free;
        }
        if (c->any_number) {
            if (var_index(r, c->name, strlen(c->name)) == (size_t)-1)
                goto out_nomem;
            var_cand[r->n_vars - 1] = c->cand;
        } else {
            c->role = R_OTHER;
        }
    }
    if (r->n_vars == 0) {
        code = parus_fail(err, PARUS_E_FORMAT, "'%s': no variable column (no column of numbers)",
                          r->path);
        goto out_free;
    }

    if (d.n_rows) {
        if (!parus__mul_size(d.n_rows, sizeof *order, &bytes) || !(order = malloc(bytes)))
            goto out_nomem;
        for (i = 0; i < d.n_rows; i++)
            order[i] = &d.rows[i];
        qsort(order, d.n_rows, sizeof *order, compare_long_rows);
        samples = calloc(d.n_rows, sizeof *samples);
        if (!samples)
            goto out_nomem;
    }
    for (i = 0; i < d.n_rows; i = j) {
        for (j = i + 1; j < d.n_rows && strcmp(order[j]->id, order[i]->id) == 0; j++)
            ;
        code = long_sample(r, &d, order + i, j - i, var_cand, &samples[n_samples++], err);
        if (code != PARUS_OK)
            goto out_free;
    }
    set->samples = samples;
    set->n_samples = n_samples;
    set->n_rows = d.n_rows;
    samples = NULL;
    n_samples = 0;
    goto out_free;

out_nomem:
    code = nomem(r, err);
out_free:
    samples_free(samples, n_samples);
    free(order);
    free(var_cand);
    long_data_free(&d);
    return code;
}

/* ---- the wide form ---- */

static int compare_wide_cols(const void *a, const void *b)
{
    const struct column *x = *(const struct column *const *)a;
    const struct column *y = *(const struct column *const *)b;
    int c;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    c = strcmp(x->date, y->date);
    if (c)
        return c;
    return x->var < y->var ? -1 : x->var > y->var;
}

struct wide_sample {
    size_t line;
    parus_sample s;
};

static int compare_wide_samples(const void *a, const void *b)
{
    const struct wide_sample *x = a, *y = b;
    int c = strcmp(x->s.id, y->s.id);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static parus_status read_wide(struct series_reader *r, parus_sample_set *set, parus_error *err)
{
    struct wide_sample *ws = NULL;
    const struct column **vcols = NULL;
    size_t n_vcols = 0, n_ws = 0, cap_ws = 0, n_dates = 0, i, k;
    bool stepped = false, dated = false;
    parus_status code = PARUS_OK;
    bool done;

    vcols = malloc(r->n_cols * sizeof *vcols);
    if (!vcols)
        return nomem(r, err);
    for (i = 0; i < r->n_cols; i++) {
        struct column *c = &r->cols[i];
        if (c->role != R_OTHER)
            continue;
        if (!wide_column(r, c, &code, err)) {
            if (code != PARUS_OK)
                goto out_free;
            continue;
        }
        c->role = R_VAR;
        vcols[n_vcols++] = c;
        if (c->step)
            stepped = true;
        else
            dated = true;
    }
    if (n_vcols == 0) {
        code = parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line 1: no variable column (<var>_<date> or <var>_<step>) and no "
                          "date column (long form)",
                          r->path);
        goto out_free;
    }
    if (stepped && dated) {
        code =
            parus_fail(err, PARUS_E_FORMAT,
                       "'%s' line 1: columns named by date and by step index are mixed", r->path);
        goto out_free;
    }
    if (stepped && r->col_start == r->n_cols) {
        code = parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line 1: step columns (e.g. '%s') need a start date column '%s'",
                          r->path, vcols[0]->name, or_default(r->opt->start_column, "start_date"));
        goto out_free;
    }
    qsort(vcols, n_vcols, sizeof *vcols, compare_wide_cols);
    for (k = 0; k < n_vcols; k++) {
        const struct column *c = vcols[k], *p = k ? vcols[k - 1] : NULL;
        if (p && p->step == c->step && strcmp(p->date, c->date) == 0 && p->var == c->var) {
            code = parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line 1: columns '%s' and '%s' are the same variable and date",
                              r->path, p->name, c->name);
            goto out_free;
        }
        if (!p || p->step != c->step || strcmp(p->date, c->date) != 0)
            n_dates++;
    }

    for (;;) {
        struct roles ro;
        struct wide_sample *w;
        parus_sample_point *pts;
        int64_t start_day = 0;

        code = parus__csv_next(&r->csv, &done, err);
        if (code != PARUS_OK)
            goto out_free;
        if (done)
            break;
        code = read_roles(r, stepped, &ro, err);
        if (code != PARUS_OK)
            goto out_free;
        if (!grow((void **)&ws, &cap_ws, n_ws + 1, sizeof *ws))
            goto out_nomem;
        w = &ws[n_ws];
        memset(w, 0, sizeof *w);
        w->line = r->csv.line;
        pts = malloc(n_vcols * sizeof *pts);
        w->s.points = pts;
        w->s.id = parus__strdup(ro.id);
        w->s.label = dup_or_null(ro.label);
        w->s.group = dup_or_null(ro.group);
        n_ws++;
        if (!pts || !w->s.id || (ro.label && *ro.label && !w->s.label) ||
            (ro.group && *ro.group && !w->s.group))
            goto out_nomem;
        memcpy(w->s.start_date, ro.start, sizeof w->s.start_date);
        memcpy(w->s.end_date, ro.end, sizeof w->s.end_date);
        if (stepped)
            start_day = parus__date_days(ro.start);
        for (k = 0; k < n_vcols; k++) {
            const struct column *c = vcols[k];
            char *cell = r->csv.cells[c - r->cols];
            parus_sample_point *pt = &pts[k];
            if (!read_value(cell, &pt->value)) {
                code = parus_fail(err, PARUS_E_FORMAT,
                                  "'%s' line %zu: column '%s': '%s' is not a number", r->path,
                                  w->line, c->name, trim(cell));
                goto out_free;
            }
            pt->var = r->vars[c->var];
            if (c->step &&
                !date_from_days(start_day + (int64_t)(c->step - 1) * r->opt->step_days, pt->date)) {
                code = parus_fail(err, PARUS_E_FORMAT,
                                  "'%s' line %zu: column '%s': the step's date is past year 9999",
                                  r->path, w->line, c->name);
                goto out_free;
            } else if (!c->step)
                memcpy(pt->date, c->date, sizeof pt->date);
        }
        w->s.n_points = n_vcols;
    }

    if (n_ws > 1)
        qsort(ws, n_ws, sizeof *ws, compare_wide_samples);
    for (i = 1; i < n_ws; i++)
        if (strcmp(ws[i - 1].s.id, ws[i].s.id) == 0) {
            code = parus_fail(err, PARUS_E_DUPLICATE,
                              "'%s' line %zu: sample '%s' is on two rows (also line %zu)", r->path,
                              ws[i].line, ws[i].s.id, ws[i - 1].line);
            goto out_free;
        }
    set->samples = calloc(n_ws ? n_ws : 1, sizeof *set->samples);
    if (!set->samples)
        goto out_nomem;
    for (i = 0; i < n_ws; i++)
        set->samples[i] = ws[i].s;
    set->n_samples = n_ws;
    set->n_rows = n_ws;
    free(ws);
    free(vcols);
    return PARUS_OK;

out_nomem:
    code = nomem(r, err);
out_free:
    for (i = 0; i < n_ws; i++) {
        free((void *)ws[i].s.id);
        free((void *)ws[i].s.label);
        free((void *)ws[i].s.group);
        free((void *)ws[i].s.points);
    }
    free(ws);
    free(vcols);
    return code;
}

/* ---- series: the entry point ---- */

const char *parus_series_form_name(parus_series_form form)
{
    switch (form) {
    case PARUS_SERIES_AUTO:
        return "auto";
    case PARUS_SERIES_LONG:
        return "long";
    case PARUS_SERIES_WIDE:
        return "wide";
    }
    return "?";
}

parus_status parus_series_form_parse(const char *s, parus_series_form *out, parus_error *err)
{
    parus_series_form f;
    for (f = PARUS_SERIES_AUTO; f <= PARUS_SERIES_WIDE; f++)
        if (s && strcmp(s, parus_series_form_name(f)) == 0) {
            *out = f;
            return PARUS_OK;
        }
    return parus_fail(err, PARUS_E_INVALID, "unknown series form '%s' (auto, long or wide)",
                      s ? s : "");
}

void parus_series_csv_options_init(parus_series_csv_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->form = PARUS_SERIES_AUTO;
    opt->id_column = "sample_id";
    opt->label_column = "label";
    opt->group_column = "fold";
    opt->date_column = "date";
    opt->start_column = "start_date";
    opt->end_column = "end_date";
    opt->step_days = 16;
    opt->exclude = "t,longitude,latitude";
}

void parus_sample_set_release(parus_sample_set *set)
{
    if (!set)
        return;
    samples_free(set->samples, set->n_samples);
    free_names(set->vars, set->n_vars);
    free_names(set->ignored, set->n_ignored);
    memset(set, 0, sizeof *set);
}

parus_status parus_series_csv_read(const char *path, const parus_series_csv_options *opt,
                                   parus_sample_set *out, parus_error *err)
{
    parus_series_csv_options defaults;
    struct series_reader r;
    parus_sample_set set;
    parus_series_form form;
    parus_status code;
    size_t i, k;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "series_csv_read: missing path or output");
    if (!opt) {
        parus_series_csv_options_init(&defaults);
        opt = &defaults;
    }
    if ((unsigned)opt->form > PARUS_SERIES_WIDE || opt->step_days <= 0)
        return parus_fail(err, PARUS_E_INVALID,
                          "series_csv_read: bad form or step (%d days) for '%s'", opt->step_days,
                          path);
    memset(&r, 0, sizeof r);
    memset(&set, 0, sizeof set);
    r.path = path;
    r.opt = opt;
    code = parus__csv_open(&r.csv, path, err);
    if (code != PARUS_OK)
        return code;
    form = opt->form;
    code = read_header(&r, &form, err);
    if (code == PARUS_OK)
        code = form == PARUS_SERIES_LONG ? read_long(&r, &set, err) : read_wide(&r, &set, err);
    if (code != PARUS_OK)
        goto out_free;
    for (i = 0; i < r.n_cols; i++)
        if ((r.cols[i].role == R_OTHER || r.cols[i].role == R_EXCLUDED) &&
            !add_name(&r.ignored, &r.n_ignored, &r.cap_ignored, r.cols[i].name)) {
            code = nomem(&r, err);
            goto out_free;
        }

    set.form = form;
    set.vars = r.vars;
    set.n_vars = r.n_vars;
    set.ignored = r.ignored;
    set.n_ignored = r.n_ignored;
    r.vars = r.ignored = NULL;
    r.n_vars = r.n_ignored = 0;
    for (i = 0; i < set.n_samples; i++) {
        const parus_sample *s = &set.samples[i];
        size_t n_dates = 0;
        for (k = 0; k < s->n_points; k++) {
            if (isnan(s->points[k].value))
                set.n_missing++;
            if (k == 0 || strcmp(s->points[k].date, s->points[k - 1].date) != 0)
                n_dates++;
        }
        set.n_points += s->n_points;
        if (i == 0 || n_dates < set.n_dates_min)
            set.n_dates_min = n_dates;
        if (n_dates > set.n_dates_max)
            set.n_dates_max = n_dates;
    }
    *out = set;
    memset(&set, 0, sizeof set);
out_free:
    parus_sample_set_release(&set);
    free_names(r.vars, r.n_vars);
    free_names(r.ignored, r.n_ignored);
    for (i = 0; r.cols && i < r.n_cols; i++)
        free(r.cols[i].name);
    free(r.cols);
    parus__csv_close(&r.csv);
    return code;
}

/* ---- declared crops ---- */

void parus_crop_declarations_release(parus_crop_declarations *d)
{
    size_t i;
    if (!d)
        return;
    for (i = 0; i < d->n; i++) {
        free(d->parcel_ids[i]);
        free(d->crops[i]);
    }
    free(d->parcel_ids);
    free(d->crops);
    free(d->lines);
    memset(d, 0, sizeof *d);
}

struct decl_key {
    const char *id;
    size_t line;
};

static int compare_decl(const void *a, const void *b)
{
    const struct decl_key *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

parus_status parus_crop_declarations_read(const char *path, const char *id_column,
                                          const char *crop_column, const parus_crop_table *table,
                                          parus_crop_declarations *out, parus_error *err)
{
    parus_crop_declarations d;
    struct decl_key *keys = NULL;
    size_t cap_ids = 0, cap_crops = 0, cap_lines = 0, col_id, col_crop, i;
    parus__csv csv;
    parus_status code;
    bool done;

    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "crop_declarations_read: missing path or output");
    id_column = or_default(id_column, "parcel_id");
    crop_column = or_default(crop_column, "crop");
    memset(&d, 0, sizeof d);
    code = parus__csv_open(&csv, path, err);
    if (code != PARUS_OK)
        return code;
    code = parus__csv_next(&csv, &done, err);
    if (code != PARUS_OK)
        goto out_free;
    if (done) {
        code = parus_fail(err, PARUS_E_FORMAT, "'%s' is empty (no header)", path);
        goto out_free;
    }
    col_id = col_crop = csv.n_cells;
    for (i = 0; i < csv.n_cells; i++) {
        const char *name = trim(csv.cells[i]);
        if (parus__strcasecmp(name, id_column) == 0 && col_id == csv.n_cells)
            col_id = i;
        else if (parus__strcasecmp(name, crop_column) == 0 && col_crop == csv.n_cells)
            col_crop = i;
    }
    if (col_id == csv.n_cells || col_crop == csv.n_cells) {
        code = parus_fail(err, PARUS_E_FORMAT, "'%s' line 1: no column '%s'", path,
                          col_id == csv.n_cells ? id_column : crop_column);
        goto out_free;
    }
    for (;;) {
        const char *id, *crop;
        code = parus__csv_next(&csv, &done, err);
        if (code != PARUS_OK)
            goto out_free;
        if (done)
            break;
        id = trim(csv.cells[col_id]);
        crop = trim(csv.cells[col_crop]);
        if (!*id || !*crop) {
            code = parus_fail(err, PARUS_E_INVALID, "'%s' line %zu: empty %s", path, csv.line,
                              !*id ? "parcel id" : "crop");
            goto out_free;
        }
        if (!parus__utf8_valid(id) || !parus__utf8_valid(crop)) {
            code = parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line %zu: text that is not UTF-8 (save the file as UTF-8, not "
                              "GBK)",
                              path, csv.line);
            goto out_free;
        }
        if (table && !parus_crop_table_find(table, crop)) {
            code = parus_fail(err, PARUS_E_INVALID,
                              "'%s' line %zu: crop '%s' of parcel '%s' is not in the crop table",
                              path, csv.line, crop, id);
            goto out_free;
        }
        if (!grow((void **)&d.parcel_ids, &cap_ids, d.n + 1, sizeof *d.parcel_ids) ||
            !grow((void **)&d.crops, &cap_crops, d.n + 1, sizeof *d.crops) ||
            !grow((void **)&d.lines, &cap_lines, d.n + 1, sizeof *d.lines))
            goto out_nomem;
        d.parcel_ids[d.n] = parus__strdup(id);
        d.crops[d.n] = parus__strdup(crop);
        d.lines[d.n] = csv.line;
        d.n++;
        if (!d.parcel_ids[d.n - 1] || !d.crops[d.n - 1])
            goto out_nomem;
    }
    if (d.n > 1) {
        keys = malloc(d.n * sizeof *keys);
        if (!keys)
            goto out_nomem;
        for (i = 0; i < d.n; i++) {
            keys[i].id = d.parcel_ids[i];
            keys[i].line = d.lines[i];
        }
        qsort(keys, d.n, sizeof *keys, compare_decl);
        for (i = 1; i < d.n; i++)
            if (strcmp(keys[i - 1].id, keys[i].id) == 0) {
                code = parus_fail(err, PARUS_E_DUPLICATE,
                                  "'%s' line %zu: parcel '%s' is declared twice (also line %zu)",
                                  path, keys[i].line, keys[i].id, keys[i - 1].line);
                goto out_free;
            }
    }
    *out = d;
    memset(&d, 0, sizeof d);
    code = PARUS_OK;
    goto out_free;

out_nomem:
    code = parus_fail(err, PARUS_E_NOMEM, "cannot hold the declared crops of '%s'", path);
out_free:
    free(keys);
    parus_crop_declarations_release(&d);
    parus__csv_close(&csv);
    return code;
}

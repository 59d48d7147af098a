/*
 * debts.c - the debts file (parus/credit.h): one row per farmer with what they already owe, read
 * with parus's strict RFC 4180 reader (src/csvin.c: quoted ids with commas, UTF-8, a record read
 * whole or refused, never cut short) a record at a time, so every message can name the physical
 * line; amounts are parsed from their digits (parus_cny_parse_fen), never through strtod, so
 * "1200.10" is exactly 120010 fen. Duplicate and unknown farmers are refused. Every malformed
 * record is a configuration error (E_CONFIG, exit 7) naming the file and the line: a debt left
 * out would raise a limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin_int.h"
#include "parus/credit.h"
#include "util_int.h"

void parus_debts_release(parus_debts *debts)
{
    size_t i;
    if (!debts)
        return;
    for (i = 0; i < debts->n; i++)
        free(debts->items[i].farmer_id);
    free(debts->items);
    debts->items = NULL;
    debts->n = 0;
}

static int cmp_debt(const void *a, const void *b)
{
    const parus_debt *x = a, *y = b;
    int c = strcmp(x->farmer_id, y->farmer_id);
    if (c != 0)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int64_t parus_debts_find(const parus_debts *debts, const char *farmer_id)
{
    size_t lo = 0, hi;
    if (!debts || !farmer_id)
        return 0;
    hi = debts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(debts->items[mid].farmer_id, farmer_id);
        if (c == 0)
            return debts->items[mid].debt_fen;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* A copy of s without surrounding blanks (and a UTF-8 byte order mark when bom). */
static char *trimmed(const char *s, bool bom)
{
    char *t;
    if (bom && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    t = parus__strdup(s);
    if (t)
        parus__trim_blanks(t); /* the parcels' reader trims a farmer id the same way */
    return t;
}

struct debts_reader {
    const char *path;
    parus_debt *items;
    size_t n, cap;
};

static parus_status add_debt(struct debts_reader *d, char *id, int64_t fen, size_t line,
                             parus_error *err)
{
    if (d->n == d->cap) {
        size_t new_cap = d->cap ? 2 * d->cap : 64, bytes;
        parus_debt *grown;
        if (!parus__mul_size(new_cap, sizeof *grown, &bytes) ||
            !(grown = realloc(d->items, bytes))) {
            free(id);
            return parus_fail(err, PARUS_E_NOMEM, "cannot allocate debts of '%s'", d->path);
        }
        d->items = grown;
        d->cap = new_cap;
    }
    d->items[d->n].farmer_id = id;
    d->items[d->n].debt_fen = fen;
    d->items[d->n].line = line;
    d->n++;
    return PARUS_OK;
}

/* One data record: its cells, the columns' positions, its physical line. */
static parus_status parse_debt_record(struct debts_reader *d, char **cells, int i_id, int i_debt,
                                      size_t line, parus_error *err)
{
    char *id = trimmed(cells[i_id], false), *amount = trimmed(cells[i_debt], false);
    int64_t fen;
    parus_status rc;

    if (!id || !amount) {
        rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate debts of '%s'", d->path);
        goto out;
    }
    if (id[0] == '\0') {
        rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu column 'farmer_id': empty farmer id",
                        d->path, line);
        goto out;
    }
    if (!parus__utf8_valid(id)) {
        rc = parus_fail(err, PARUS_E_CONFIG,
                        "'%s' line %zu column 'farmer_id': not UTF-8 text (save the file as "
                        "UTF-8, not GBK)",
                        d->path, line);
        goto out;
    }
    {
        char why[224];
        if (parus__id_form_problem(id, why, sizeof why)) {
            rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu column 'farmer_id': '%s' %s",
                            d->path, line, id, why);
            goto out;
        }
    }
    if (amount[0] == '-') {
        rc = parus_fail(err, PARUS_E_CONFIG,
                        "'%s' line %zu column 'debt_cny': negative debt '%s' for farmer '%s'",
                        d->path, line, amount, id);
        goto out;
    }
    if (!parus_cny_parse_fen(amount, &fen)) {
        rc = parus_fail(err, PARUS_E_CONFIG,
                        "'%s' line %zu column 'debt_cny': '%s' is not an amount in yuan (digits, "
                        "at most two decimals after a '.')",
                        d->path, line, amount);
        goto out;
    }
    rc = add_debt(d, id, fen, line, err);
    id = NULL;
out:
    free(id);
    free(amount);
    return rc;
}

parus_status parus_debts_load(const char *path, const char *const *known_farmers, size_t n_known,
                              parus_debts *out, parus_error *err)
{
    struct debts_reader d = {path, NULL, 0, 0};
    parus__csv csv;
    const char **known = NULL;
    size_t i, c;
    int i_id = -1, i_debt = -1;
    bool done = false;
    parus_status rc;

    if (!path || !out || (n_known > 0 && !known_farmers))
        return parus_fail(err, PARUS_E_INVALID, "debts: NULL argument");
    if ((rc = parus__csv_open(&csv, path, err)) != PARUS_OK)
        return rc != PARUS_E_IO ? rc
                                : parus_fail(err, PARUS_E_IO, "cannot read debts file '%s': %s",
                                             path, strerror(csv.open_errno));
    csv.line_end_required = true; /* a debt cut short ("15000" as "150") lends more */
    rc = parus__csv_next(&csv, &done, err);
    if (rc == PARUS_OK && done)
        rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line 1: missing column 'farmer_id'", path);
    for (c = 0; rc == PARUS_OK && c < csv.n_cells; c++) {
        char *name = trimmed(csv.cells[c], false);
        if (!name) {
            rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate debts of '%s'", path);
            break;
        }
        if ((strcmp(name, "farmer_id") == 0 && i_id >= 0) ||
            (strcmp(name, "debt_cny") == 0 && i_debt >= 0))
            /* which one is the debt? the first would win without a word */
            rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: column '%s' twice", path, csv.line,
                            name);
        else if (strcmp(name, "farmer_id") == 0)
            i_id = (int)c;
        else if (strcmp(name, "debt_cny") == 0)
            i_debt = (int)c;
        free(name);
    }
    if (rc == PARUS_OK && (i_id < 0 || i_debt < 0))
        rc = parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: missing column '%s'", path, csv.line,
                        i_id < 0 ? "farmer_id" : "debt_cny");
    while (rc == PARUS_OK) {
        if ((rc = parus__csv_next(&csv, &done, err)) != PARUS_OK || done)
            break;
        rc = parse_debt_record(&d, csv.cells, i_id, i_debt, csv.line, err);
    }
    parus__csv_close(&csv);
    /* a malformed record (an over-long line, a quote left open, a wrong cell count) of the
     * debts file is a bad configuration, as a bad amount is; an unreadable file stays E_IO */
    if (rc == PARUS_E_FORMAT && err)
        err->code = PARUS_E_CONFIG;
    if (rc == PARUS_E_FORMAT)
        rc = PARUS_E_CONFIG;
    if (rc != PARUS_OK)
        goto out_free;

    if (d.n > 1)
        qsort(d.items, d.n, sizeof *d.items, cmp_debt);
    {
        /* the duplicate met first in the file: the pair whose second line is smallest */
        const parus_debt *dup = NULL, *first = NULL;
        for (i = 1; i < d.n; i++)
            if (strcmp(d.items[i - 1].farmer_id, d.items[i].farmer_id) == 0 &&
                (!dup || d.items[i].line < dup->line)) {
                dup = &d.items[i];
                first = &d.items[i - 1];
            }
        if (dup) {
            rc = parus_fail(err, PARUS_E_CONFIG,
                            "'%s' line %zu: duplicate farmer '%s' (first on line %zu)", path,
                            dup->line, dup->farmer_id, first->line);
            goto out_free;
        }
    }

    if (known_farmers) {
        const parus_debt *unknown = NULL;
        size_t bytes;
        if (!parus__mul_size(n_known ? n_known : 1, sizeof *known, &bytes) ||
            !(known = malloc(bytes))) {
            rc = parus_fail(err, PARUS_E_NOMEM, "cannot allocate debts of '%s'", path);
            goto out_free;
        }
        for (i = 0; i < n_known; i++)
            known[i] = known_farmers[i] ? known_farmers[i] : "";
        qsort(known, n_known, sizeof *known, cmp_str);
        for (i = 0; i < d.n; i++) {
            const char *key = d.items[i].farmer_id;
            if (!bsearch(&key, known, n_known, sizeof *known, cmp_str) &&
                (!unknown || d.items[i].line < unknown->line))
                unknown = &d.items[i];
        }
        if (unknown) {
            rc = parus_fail(err, PARUS_E_CONFIG,
                            "'%s' line %zu: unknown farmer '%s' (not among the registered "
                            "parcels' farmers)",
                            path, unknown->line, unknown->farmer_id);
            goto out_free;
        }
    }
    out->items = d.items;
    out->n = d.n;
    d.items = NULL;
    d.n = 0;

out_free:
    free(known);
    for (i = 0; i < d.n; i++)
        free(d.items[i].farmer_id);
    free(d.items);
    return rc;
}

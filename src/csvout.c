/*
 * csvout.c - the RFC 4180 CSV writer of the credit-desk export (rules in parus/csvout.h).
 *
 * Fields are appended to one byte buffer; a file writer hands the buffer to stdio at the end of
 * each record, a memory writer keeps it all. Numbers are formatted
 * from integers by hand, never with printf's %f, so neither the process locale (a decimal comma)
 * nor the C library's rounding can change a figure. The first failure sticks: a writer that could
 * not write, or was given bad text, refuses the rest, so a half-written file is never reported as
 * a success by close.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile_int.h"
#include "parus/csvout.h"
#include "util_int.h"

struct parus_csvout {
    parus_outfile *file; /* NULL for a memory writer */
    FILE *fp;            /* file's stream; NULL for a memory writer */
    char *path;          /* for messages; NULL for a memory writer */
    bool crlf;
    char *buf;
    size_t len, cap;
    size_t n_fields; /* fields in the current record */
    parus_status failed;
    char failed_msg[PARUS_ERROR_MSG_MAX];
};

void parus_csvout_options_init(parus_csvout_options *opt)
{
    opt->crlf = true;
    opt->bom = true;
}

/* Remember the first failure and report it. */
static parus_status fail(parus_csvout *w, parus_error *err, parus_status code, const char *msg)
{
    if (w->failed == PARUS_OK) {
        w->failed = code;
        snprintf(w->failed_msg, sizeof w->failed_msg, "%s", msg);
    }
    return parus_fail(err, code, "%s", msg);
}

static parus_status refuse_if_failed(const parus_csvout *w, parus_error *err)
{
    if (w->failed != PARUS_OK)
        return parus_fail(err, w->failed, "%s", w->failed_msg);
    return PARUS_OK;
}

static parus_status reserve(parus_csvout *w, size_t extra, parus_error *err)
{
    size_t need, new_cap;
    char *grown;
    if (extra > SIZE_MAX - w->len - 1)
        return fail(w, err, PARUS_E_NOMEM, "csv record too large");
    need = w->len + extra + 1;
    if (need <= w->cap)
        return PARUS_OK;
    new_cap = w->cap ? w->cap : 256;
    while (new_cap < need)
        new_cap = new_cap > SIZE_MAX / 2 ? need : 2 * new_cap;
    grown = realloc(w->buf, new_cap);
    if (!grown)
        return fail(w, err, PARUS_E_NOMEM, "cannot allocate csv buffer");
    w->buf = grown;
    w->cap = new_cap;
    return PARUS_OK;
}

static parus_status append(parus_csvout *w, const char *s, size_t n, parus_error *err)
{
    parus_status rc = reserve(w, n, err);
    if (rc != PARUS_OK)
        return rc;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
    return PARUS_OK;
}

static parus_status flush_file(parus_csvout *w, parus_error *err)
{
    char msg[PARUS_ERROR_MSG_MAX];
    if (!w->fp || w->len == 0)
        return PARUS_OK;
    if (fwrite(w->buf, 1, w->len, w->fp) != w->len) {
        snprintf(msg, sizeof msg, "cannot write '%s': %s", w->path, strerror(errno));
        return fail(w, err, PARUS_E_IO, msg);
    }
    w->len = 0;
    w->buf[0] = '\0';
    return PARUS_OK;
}

static parus_status writer_new(const parus_csvout_options *opt, parus_csvout **out,
                               parus_error *err)
{
    parus_csvout_options defaults;
    parus_csvout *w;
    if (!opt) {
        parus_csvout_options_init(&defaults);
        opt = &defaults;
    }
    w = calloc(1, sizeof *w);
    if (!w)
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate csv writer");
    w->crlf = opt->crlf;
    if (reserve(w, 0, err) != PARUS_OK ||
        (opt->bom && append(w, "\xEF\xBB\xBF", 3, err) != PARUS_OK)) {
        parus_csvout_free(w);
        return PARUS_E_NOMEM;
    }
    *out = w;
    return PARUS_OK;
}

parus_status parus_csvout_new_memory(const parus_csvout_options *opt, parus_csvout **out,
                                     parus_error *err)
{
    if (!out)
        return parus_fail(err, PARUS_E_INVALID, "csv writer: no output pointer");
    return writer_new(opt, out, err);
}

parus_status parus_csvout_open(const char *path, const parus_csvout_options *opt,
                               parus_csvout **out, parus_error *err)
{
    parus_csvout *w = NULL;
    parus_status rc;
    if (!path || !out)
        return parus_fail(err, PARUS_E_INVALID, "csv writer: no path");
    if ((rc = writer_new(opt, &w, err)) != PARUS_OK)
        return rc;
    w->path = parus__strdup(path);
    if (!w->path) {
        parus_csvout_free(w);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate csv writer");
    }
    if ((rc = parus_outfile_open(path, &w->file, err)) != PARUS_OK) {
        parus_csvout_free(w);
        return rc;
    }
    w->fp = parus__outfile_stream(w->file);
    *out = w;
    return PARUS_OK;
}

const char *parus_csvout_memory(const parus_csvout *w, size_t *len)
{
    if (!w || w->fp) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = w->len;
    return w->buf;
}

bool parus_csvout_is_formula(const char *text)
{
    if (!text)
        return false;
    switch (text[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
        return true;
    default:
        return false;
    }
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool is_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k, len;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static parus_status begin_field(parus_csvout *w, parus_error *err)
{
    parus_status rc = refuse_if_failed(w, err);
    if (rc != PARUS_OK)
        return rc;
    if (w->n_fields > 0 && (rc = append(w, ",", 1, err)) != PARUS_OK)
        return rc;
    w->n_fields++;
    return PARUS_OK;
}

parus_status parus_csvout_put_text(parus_csvout *w, const char *text, parus_error *err)
{
    size_t n, i, extra;
    bool neutralise, quote;
    parus_status rc;
    char *p;

    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    if ((rc = refuse_if_failed(w, err)) != PARUS_OK)
        return rc;
    if (!text)
        text = "";
    n = strlen(text);
    if (!is_utf8((const unsigned char *)text, n))
        return fail(w, err, PARUS_E_INVALID, "csv cell is not UTF-8 text");
    neutralise = parus_csvout_is_formula(text);
    quote = neutralise || (n > 0 && (text[0] == ' ' || text[n - 1] == ' '));
    extra = 0;
    for (i = 0; i < n; i++) {
        if (text[i] == '"')
            extra++;
        if (text[i] == '"' || text[i] == ',' || text[i] == '\r' || text[i] == '\n')
            quote = true;
    }
    if ((rc = begin_field(w, err)) != PARUS_OK)
        return rc;
    if (!quote)
        return append(w, text, n, err);
    /* n + doubled quotes + two enclosing quotes + the neutralising single quote */
    if (n > SIZE_MAX - extra - 3)
        return fail(w, err, PARUS_E_NOMEM, "csv cell too large");
    if ((rc = reserve(w, n + extra + 3, err)) != PARUS_OK)
        return rc;
    p = w->buf + w->len;
    *p++ = '"';
    if (neutralise)
        *p++ = '\'';
    for (i = 0; i < n; i++) {
        if (text[i] == '"')
            *p++ = '"';
        *p++ = text[i];
    }
    *p++ = '"';
    w->len = (size_t)(p - w->buf);
    w->buf[w->len] = '\0';
    return PARUS_OK;
}

parus_status parus_csvout_put_empty(parus_csvout *w, parus_error *err)
{
    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    return begin_field(w, err);
}

/* Decimal digits of v (no sign) into the end of buf; returns the start. */
static char *format_u64(uint64_t v, char *end)
{
    *--end = '\0';
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* sign, integer part, and when decimals > 0 a '.' and exactly `decimals` digits of frac. */
static parus_status put_parts(parus_csvout *w, bool negative, uint64_t whole, uint64_t frac,
                              int decimals, parus_error *err)
{
    char digits[32], out[64];
    char *s = format_u64(whole, digits + sizeof digits);
    size_t n = 0, len = strlen(s);
    parus_status rc;
    int k;

    if (negative)
        out[n++] = '-';
    memcpy(out + n, s, len);
    n += len;
    if (decimals > 0) {
        out[n++] = '.';
        for (k = decimals - 1; k >= 0; k--) {
            out[n + (size_t)k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)decimals;
    }
    if ((rc = begin_field(w, err)) != PARUS_OK)
        return rc;
    return append(w, out, n, err);
}

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

parus_status parus_csvout_put_int(parus_csvout *w, int64_t value, parus_error *err)
{
    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    return put_parts(w, value < 0, magnitude(value), 0, 0, err);
}

parus_status parus_csvout_put_fen(parus_csvout *w, int64_t fen, parus_error *err)
{
    uint64_t m = magnitude(fen);
    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    return put_parts(w, fen < 0, m / 100, m % 100, 2, err);
}

parus_status parus_csvout_put_real(parus_csvout *w, double value, parus_error *err)
{
    char buf[40];
    parus_status rc;
    int n = 0;

    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    if (isnan(value))
        return parus_csvout_put_empty(w, err);
    if (isinf(value))
        return parus_csvout_put_text(w, value < 0 ? "-inf" : "inf", err);
    /* the fewest digits that read back exactly */
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, sizeof buf, "%.*g", digits, value);
        if (n > 0 && (size_t)n < sizeof buf && strtod(buf, NULL) == value)
            break;
    }
    if (n <= 0 || (size_t)n >= sizeof buf)
        return fail(w, err, PARUS_E_RANGE, "csv: a number that cannot be written");
    for (int i = 0; i < n; i++) /* a caller's setlocale may have made the point a comma */
        if (buf[i] == ',')
            buf[i] = '.';
    if ((rc = begin_field(w, err)) != PARUS_OK)
        return rc;
    return append(w, buf, (size_t)n, err);
}

parus_status parus_csvout_put_fixed(parus_csvout *w, double value, int decimals, parus_error *err)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double scaled;
    uint64_t r, unit = 1;
    int k;
    char msg[128];

    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    if (decimals < 0 || decimals > 9)
        return parus_fail(err, PARUS_E_INVALID, "csv: %d decimals, not 0..9", decimals);
    if (isnan(value))
        return parus_csvout_put_empty(w, err);
    scaled = floor(fabs(value) * pow10[decimals] + 0.5);
    if (!(scaled < 4611686018427387904.0)) {
        snprintf(msg, sizeof msg, "csv: number %g out of range", value);
        return fail(w, err, PARUS_E_RANGE, msg);
    }
    r = (uint64_t)scaled;
    for (k = 0; k < decimals; k++)
        unit *= 10;
    /* a value that rounds to zero is written without a sign */
    return put_parts(w, value < 0 && r != 0, r / unit, r % unit, decimals, err);
}

parus_status parus_csvout_end_row(parus_csvout *w, parus_error *err)
{
    parus_status rc;
    if (!w)
        return parus_fail(err, PARUS_E_INVALID, "csv writer is NULL");
    if ((rc = refuse_if_failed(w, err)) != PARUS_OK)
        return rc;
    if ((rc = append(w, w->crlf ? "\r\n" : "\n", w->crlf ? 2 : 1, err)) != PARUS_OK)
        return rc;
    w->n_fields = 0;
    return flush_file(w, err);
}

parus_status parus_csvout_close(parus_csvout *w, parus_error *err)
{
    parus_status rc;
    if (!w)
        return PARUS_OK;
    rc = refuse_if_failed(w, err);
    if (rc == PARUS_OK)
        rc = flush_file(w, err);
    if (w->file && rc == PARUS_OK) {
        /* flush, fsync and rename: a full disk shows up here, and leaves the previous file */
        rc = parus_outfile_commit(w->file, err);
        w->file = NULL;
        w->fp = NULL;
    }
    parus_csvout_free(w);
    return rc;
}

void parus_csvout_free(parus_csvout *w)
{
    if (!w)
        return;
    parus_outfile_abort(w->file); /* a writer not closed leaves the previous file */
    free(w->path);
    free(w->buf);
    free(w);
}

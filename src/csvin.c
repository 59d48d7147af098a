/*
 * csvin.c - reading CSV records with their line numbers (csvin_int.h states what is accepted).
 *
 * A character state machine over a buffered stream: a few megabytes of samples or a county's
 * declared crops (a few hundred thousand lines) read in well under a second. One buffer holds the
 * current record's cells, so memory is one record, not the file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvin_int.h"
#include "util_int.h"

parus_status parus__csv_open(parus__csv *csv, const char *path, parus_error *err)
{
    memset(csv, 0, sizeof *csv);
    if (!path)
        return parus_fail(err, PARUS_E_INVALID, "no CSV file given");
    csv->f = fopen(path, "rb");
    if (!csv->f) {
        csv->open_errno = errno;
        return parus_fail(err, PARUS_E_IO, "cannot read '%s': %s", path, strerror(errno));
    }
    csv->path = path;
    csv->next_line = 1;
    return PARUS_OK;
}

void parus__csv_close(parus__csv *csv)
{
    if (!csv)
        return;
    if (csv->f)
        fclose(csv->f);
    free(csv->buf);
    free(csv->offs);
    free(csv->cells);
    memset(csv, 0, sizeof *csv);
}

static bool put_char(parus__csv *csv, char c)
{
    if (csv->len >= PARUS__CSV_MAX_RECORD_BYTES + 2)
        return false; /* read_record reports the over-long record before this */
    if (csv->len == csv->cap) {
        size_t new_cap = csv->cap ? 2 * csv->cap : 1024;
        char *grown = realloc(csv->buf, new_cap);
        if (!grown)
            return false;
        csv->buf = grown;
        csv->cap = new_cap;
    }
    csv->buf[csv->len++] = c;
    return true;
}

/* Close the cell that started at offset start (NUL-terminate it and record it). */
static bool end_cell(parus__csv *csv, size_t start)
{
    if (!put_char(csv, '\0'))
        return false;
    if (csv->n_cells == csv->cap_cells) {
        size_t new_cap = csv->cap_cells ? 2 * csv->cap_cells : 64, bytes;
        size_t *grown;
        if (!parus__mul_size(new_cap, sizeof *grown, &bytes) ||
            !(grown = realloc(csv->offs, bytes)))
            return false;
        csv->offs = grown;
        csv->cap_cells = new_cap;
    }
    csv->offs[csv->n_cells++] = start;
    return true;
}

/* A line end: LF, CRLF or a lone CR (the CR's LF, if any, is consumed). */
static bool is_line_end(FILE *f, int c)
{
    if (c == '\n')
        return true;
    if (c == '\r') {
        int next = getc(f);
        if (next != '\n' && next != EOF)
            ungetc(next, f);
        return true;
    }
    return false;
}

/* Skip a UTF-8 byte-order mark at the start of the file. */
static void skip_bom(FILE *f)
{
    if (getc(f) == 0xEF && getc(f) == 0xBB && getc(f) == 0xBF)
        return;
    rewind(f);
}

enum state { CELL_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED };

/* Read one physical record (which may span lines inside quotes) into the buffer: *eof true when
 * the file ended before any of it; *quoted true when any cell was quoted. */
static parus_status read_record(parus__csv *csv, bool *eof, bool *quoted, parus_error *err)
{
    enum state state = CELL_START;
    size_t start = 0;
    int c;

    csv->len = 0;
    csv->n_cells = 0;
    csv->line = csv->next_line;
    *quoted = false;
    *eof = false;
    for (;;) {
        c = getc(csv->f);
        if (c == EOF && ferror(csv->f))
            /* not the end of the file: a read that failed (a directory, an I/O error) */
            return parus_fail(err, PARUS_E_IO, "cannot read '%s' (line %zu): %s", csv->path,
                              csv->next_line, strerror(errno));
        if (c == '\0')
            return parus_fail(err, PARUS_E_FORMAT, "'%s' line %zu: a NUL byte (not a text file?)",
                              csv->path, csv->next_line);
        if (csv->len > PARUS__CSV_MAX_RECORD_BYTES)
            /* never cut: a record is read whole or refused (a quote left open reads on) */
            return parus_fail(err, PARUS_E_FORMAT,
                              "'%s' line %zu: a record longer than %d bytes (a quote left open?)",
                              csv->path, csv->line, PARUS__CSV_MAX_RECORD_BYTES);
        if (state == QUOTED) {
            if (c == EOF)
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s' line %zu: a quote opened here is never closed", csv->path,
                                  csv->line);
            if (c == '"') {
                state = QUOTE_IN_QUOTED;
                continue;
            }
            if (is_line_end(csv->f, c)) {
                csv->next_line++;
                c = '\n';
            }
            if (!put_char(csv, (char)c))
                goto out_nomem;
            continue;
        }
        if (state == QUOTE_IN_QUOTED) {
            if (c == '"') {
                if (!put_char(csv, '"'))
                    goto out_nomem;
                state = QUOTED;
                continue;
            }
            if (c != ',' && c != EOF && c != '\n' && c != '\r')
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s' line %zu: text after a closing quote (a quote inside a "
                                  "quoted value must be doubled)",
                                  csv->path, csv->next_line);
        }
        if (c == EOF) {
            if (state == CELL_START && csv->n_cells == 0 && !*quoted) {
                *eof = true;
                return PARUS_OK;
            }
            if (csv->line_end_required)
                return parus_fail(err, PARUS_E_FORMAT,
                                  "'%s' line %zu: the last line has no line end: the file may "
                                  "have been cut short (a copy that stopped, a file still being "
                                  "written), and its last value with it; when the file is whole, "
                                  "end it with a newline",
                                  csv->path, csv->line);
            return end_cell(csv, start)
                       ? PARUS_OK
                       : parus_fail(err, PARUS_E_NOMEM, "cannot hold a record of '%s'", csv->path);
        }
        if (c == ',') {
            if (!end_cell(csv, start))
                goto out_nomem;
            start = csv->len;
            state = CELL_START;
            continue;
        }
        if (is_line_end(csv->f, c)) {
            csv->next_line++;
            return end_cell(csv, start)
                       ? PARUS_OK
                       : parus_fail(err, PARUS_E_NOMEM, "cannot hold a record of '%s'", csv->path);
        }
        if (state == CELL_START && c == '"') {
            state = QUOTED;
            *quoted = true;
            continue;
        }
        if (!put_char(csv, (char)c))
            goto out_nomem;
        state = UNQUOTED;
    }

out_nomem:
    return parus_fail(err, PARUS_E_NOMEM, "cannot hold a record of '%s' (line %zu)", csv->path,
                      csv->line);
}

parus_status parus__csv_next(parus__csv *csv, bool *done, parus_error *err)
{
    parus_status code;
    bool eof, quoted;
    size_t i, bytes;
    char **grown;

    if (csv->next_line == 1 && csv->n_header == 0)
        skip_bom(csv->f);
    do {
        code = read_record(csv, &eof, &quoted, err);
        if (code != PARUS_OK)
            return code;
        if (eof) {
            *done = true;
            return PARUS_OK;
        }
        /* a blank line is one empty, unquoted cell */
    } while (csv->n_cells == 1 && csv->buf[0] == '\0' && !quoted);

    if (!parus__mul_size(csv->cap_cells, sizeof *csv->cells, &bytes) ||
        !(grown = realloc(csv->cells, bytes)))
        return parus_fail(err, PARUS_E_NOMEM, "cannot hold a record of '%s' (line %zu)", csv->path,
                          csv->line);
    csv->cells = grown;
    for (i = 0; i < csv->n_cells; i++)
        csv->cells[i] = csv->buf + csv->offs[i];
    if (csv->n_header == 0) {
        csv->n_header = csv->n_cells;
    } else if (csv->n_cells != csv->n_header) {
        return parus_fail(err, PARUS_E_FORMAT,
                          "'%s' line %zu: %zu cells where the header has %zu (a value with an "
                          "unquoted comma?)",
                          csv->path, csv->line, csv->n_cells, csv->n_header);
    }
    *done = false;
    return PARUS_OK;
}

bool parus__utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = parus__utf8_next(p, &cp);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

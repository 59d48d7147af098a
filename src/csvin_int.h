/*
 * csvin_int.h - a strict RFC 4180 reader for the CSV files people give parus (declared crops,
 * external time series): records with the physical line each starts on, so every complaint can
 * name the file and the line. Not part of the public API.
 *
 * Accepted: comma separators; fields quoted with '"' (commas, line breaks and doubled quotes
 * inside); LF, CRLF or CR line ends; a UTF-8 byte-order mark at the start (Excel writes one); blank
 * lines (skipped); a last line with no line end (unless the caller sets line_end_required).
 * Refused (E_FORMAT, naming the line): a quote left
 * open at the end of the file, text after a closing quote, a NUL byte, a record (one line, or
 * the lines a quoted cell spans) longer than PARUS__CSV_MAX_RECORD_BYTES (never cut short:
 * read whole or refused), and, once a header has
 * been read, a record whose cell count differs from the header's (a value with an unquoted comma
 * must not shift every column after it). A read that fails (a directory given as the file, an
 * I/O error) is E_IO, never taken for the end of the file. Cells are given as in the file,
 * unquoted; surrounding blanks are not trimmed here.
 */
#ifndef PARUS_CSVIN_INT_H
#define PARUS_CSVIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "parus/error.h"

/* The longest record read (1 MiB): far beyond any table parus reads, short of a file whose
 * quote was left open. */
#define PARUS__CSV_MAX_RECORD_BYTES (1 << 20)

typedef struct parus__csv {
    FILE *f;
    const char *path; /* borrowed, for messages */
    char *buf;        /* the record's cells, each NUL-terminated */
    size_t len, cap;
    size_t *offs; /* where each cell starts in buf */
    size_t cap_cells;
    char **cells; /* the current record: n_cells cells, borrowed until the next read */
    size_t n_cells;
    size_t line; /* physical line (from 1) the current record starts on */
    size_t next_line;
    size_t n_header; /* cells of the first record, the header; 0 before it is read */
    int open_errno;  /* errno of a failed open, for a caller's own message */
    /* set by the caller after the open: a last record with no line end is refused (E_FORMAT),
     * for files whose last value, cut short by a copy that stopped, would still read as a
     * number ("125.0" as "12": a weather record, a debt) */
    bool line_end_required;
} parus__csv;

/* Open path for reading (E_IO naming it when it cannot be). */
parus_status parus__csv_open(parus__csv *csv, const char *path, parus_error *err);
/* Read the next non-blank record into csv->cells: *done is true (and no record read) at the end of
 * the file. The first record read is the header and fixes the cell count of all the others. */
parus_status parus__csv_next(parus__csv *csv, bool *done, parus_error *err);
void parus__csv_close(parus__csv *csv);

/* True when s is valid UTF-8 (no overlong forms, no surrogates). */
bool parus__utf8_valid(const char *s);

#endif

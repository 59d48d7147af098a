/*
 * parus/csvout.h - the CSV writer behind `parus export`: RFC 4180 files that a credit desk opens in
 * a spreadsheet or loads into its loan system.
 *
 * The format (docs/export.md states it for users):
 *   - RFC 4180: fields separated by commas, records ended by CRLF (the RFC's line end; an option
 *     gives LF), a field quoted with '"' when it holds a comma, a quote, a CR or an LF, a leading
 *     or trailing space, or is neutralised (below); a quote inside a quoted field is doubled.
 *   - UTF-8: text passes through byte for byte (Chinese names stay as they are); text that is not
 *     valid UTF-8 is refused (E_INVALID), never written half-decoded. A UTF-8 byte order mark is
 *     written first by default, because Excel reads a CSV without one in the machine's ANSI code
 *     page (GBK on a Chinese Windows) and garbles every Chinese name.
 *   - Formula neutralisation (OWASP "CSV injection"): a text cell that begins with '=', '+', '-',
 *     '@', a tab or a carriage return would be run as a formula by Excel, LibreOffice or Google
 *     Sheets. Such a cell is written with a single quote in front and quoted: "=1+1" is written
 *     "'=1+1", which a spreadsheet shows as text. Only text cells are neutralised: numbers that
 *     parus itself writes go through the typed functions (put_int, put_fen, put_fixed), whose
 *     output is a number by construction, so a legitimate -5 or -12.50 stays a number. Whatever
 *     comes from outside parus (farmer ids, names, crop names, reason lists) must go through
 *     put_text.
 *   - Numbers never depend on the process locale: the decimal separator is always '.'.
 *
 * A writer writes to a file (replaced whole when close succeeds) or to memory. Each put_* adds one
 * field to the current record; end_row ends it. A writer that failed (a write error, a bad cell)
 * stays failed: later calls return the same code, and close reports it. Not thread-safe: one writer
 * per thread.
 */
#ifndef PARUS_CSVOUT_H
#define PARUS_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_csvout parus_csvout;

typedef struct parus_csvout_options {
    bool crlf; /* record end CRLF (RFC 4180, the default) or LF */
    bool bom;  /* write a UTF-8 byte order mark first (default true) */
} parus_csvout_options;

PARUS_API void parus_csvout_options_init(parus_csvout_options *opt);

/* A writer to the file at path, written beside it and renamed into place by close
 * (parus/outfile.h): until close succeeds, path keeps what it held. opt NULL: the defaults.
 * E_IO (naming the path) when it cannot be created, E_NOMEM. */
PARUS_API parus_status parus_csvout_open(const char *path, const parus_csvout_options *opt,
                                         parus_csvout **out, parus_error *err);
/* A writer to a growing memory buffer (parus_csvout_memory reads it). */
PARUS_API parus_status parus_csvout_new_memory(const parus_csvout_options *opt, parus_csvout **out,
                                               parus_error *err);
/* The bytes written so far to a memory writer (NULL for a file writer); *len their count. The
 * buffer is NUL-terminated and valid until the next call on the writer. */
PARUS_API const char *parus_csvout_memory(const parus_csvout *w, size_t *len);

/* A text cell: UTF-8, quoted as needed, neutralised when it would start a formula. NULL is an
 * empty cell. E_INVALID for text that is not UTF-8. */
PARUS_API parus_status parus_csvout_put_text(parus_csvout *w, const char *text, parus_error *err);
/* An empty cell (a value that is not known). */
PARUS_API parus_status parus_csvout_put_empty(parus_csvout *w, parus_error *err);
/* A whole number: "-5", "300000". */
PARUS_API parus_status parus_csvout_put_int(parus_csvout *w, int64_t value, parus_error *err);
/* Money in fen written as yuan with two decimals, exactly: 123450 -> "1234.50", -5 -> "-0.05". */
PARUS_API parus_status parus_csvout_put_fen(parus_csvout *w, int64_t fen, parus_error *err);
/* A measured quantity (an area in mu, a probability) with a fixed number of decimals (0..9),
 * rounded to the nearest (half away from zero) through an integer, so the text is the same in
 * every locale and on every machine: put_fixed(2.345678, 2) -> "2.35". NaN is an empty cell;
 * an infinite value or one whose |value| x 10^decimals reaches 2^62 is E_RANGE. */
PARUS_API parus_status parus_csvout_put_fixed(parus_csvout *w, double value, int decimals,
                                              parus_error *err);
/* A measured quantity in full, for a value too large for put_fixed: the shortest of "%.17g" that
 * reads back as the same double, '.' as the decimal point in every locale, never neutralised
 * ("-1e+30" is a number, not a formula). NaN is an empty cell; an infinity is "inf" or "-inf"
 * (as text: "-inf" is neutralised like any text a spreadsheet would run). */
PARUS_API parus_status parus_csvout_put_real(parus_csvout *w, double value, parus_error *err);
/* End the current record. */
PARUS_API parus_status parus_csvout_end_row(parus_csvout *w, parus_error *err);

/* Flush, fsync and rename a file writer into place; reports a failed write (a full disk) as E_IO
 * naming the path, and any earlier failure of the writer (then the previous file is left as it
 * was). Frees the writer in every case. NULL is OK. */
PARUS_API parus_status parus_csvout_close(parus_csvout *w, parus_error *err);
/* Give up without reporting (an error path that already has its error): a file writer's
 * temporary file is removed and the previous file left as it was. NULL is OK. */
PARUS_API void parus_csvout_free(parus_csvout *w);

/* True when a text cell beginning like text would be neutralised (starts with = + - @ TAB CR). */
PARUS_API bool parus_csvout_is_formula(const char *text);

#ifdef __cplusplus
}
#endif
#endif

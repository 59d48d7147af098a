/*
 * util_int.h - internal helpers shared by the modules: checked size arithmetic, strings, the
 * content fingerprint of tiles, GDAL start-up and capture of GDAL's error messages (util_gdal.c),
 * dates, locale-independent numbers.
 * Not part of the public API.
 */
#ifndef PARUS_UTIL_INT_H
#define PARUS_UTIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"

/* a * b into *out; false (and *out untouched) when it would overflow size_t (git's st_mult). */
bool parus__mul_size(size_t a, size_t b, size_t *out);

/* Grow the array *p (*cap elements of `size` bytes) to hold at least `want`, doubling from
 * `first`; false (and *p, *cap untouched) when out of memory or on overflow. */
bool parus__grow(void **p, size_t *cap, size_t want, size_t size, size_t first);

/* malloc-backed copies; NULL on allocation failure (or when s is NULL for strdup). */
char *parus__strdup(const char *s);
char *parus__strndup(const char *s, size_t n);
/* Case-insensitive ASCII comparison. */
int parus__strcasecmp(const char *a, const char *b);
/* s without the blanks around it, in place: ASCII space, tab, CR and LF, and the blanks a copy
 * from a spreadsheet or a Chinese document brings that no one sees (no-break space U+00A0,
 * ideographic space U+3000, the spaces U+2000..U+200A, zero-width space U+200B, narrow no-break
 * space U+202F, medium space U+205F, zero-width no-break space U+FEFF). For keys users type into
 * more than one file (farmer ids): "F1\u3000" is the farmer "F1", never a second one. */
void parus__trim_blanks(char *s);
/* True, with why[] ("holds U+0301, a combining mark: ..."), when the id s holds what makes one
 * key look like another: invalid UTF-8, a control character, a combining mark or decomposed
 * Hangul (the composed form, NFC, would be another key), a full-width ASCII form, or an invisible
 * character. A key shared between files (a farmer id) must be one spelling of itself. */
bool parus__id_form_problem(const char *s, char *why, size_t n);
/* One code point of UTF-8 at s (not at its end) into *cp, and its length in bytes; 0 when s
 * holds no well-formed one (a stray or missing continuation byte, an overlong form, a
 * surrogate, a value past U+10FFFF). */
size_t parus__utf8_next(const unsigned char *s, uint32_t *cp);
/* The first n bytes of a and b compared, ASCII case ignored. */
int parus__strncasecmp(const char *a, const char *b, size_t n);

/* parus's 256-bit content fingerprint (util.c says how and why): not cryptographic. */
void parus__fingerprint(const void *data, size_t n, uint64_t out[4]);
/* Hex fingerprint (64 digits) of the files' contents and sizes, in the order given. */
parus_status parus__fingerprint_files(const char *const *paths, size_t n_paths, char hex[65],
                                      parus_error *err);

/* SHA-256 (FIPS 180-4) of n bytes as 64 lower-case hex digits (sha256.c): the identity of the
 * model, crop table, policy and debts file an assessment used. */
void parus__sha256(const void *data, size_t n, char hex[65]);
/* The whole of a regular file (at most max_bytes) in a malloc'ed buffer with a NUL after its n
 * bytes. E_IO (cannot open, not a regular file, larger, a read error), E_NOMEM. */
parus_status parus__read_file(const char *path, size_t max_bytes, char **data, size_t *n,
                              parus_error *err);

/* Register GDAL's drivers once per process (thread-safe). */
void parus__gdal_init(void);

/* GDAL reports errors through a per-thread handler stack; a capture collects the last failure
 * message between begin and end so it can go into a parus_error instead of stderr. */
typedef struct parus__gdal_capture {
    char msg[512];
    int n_errors;
} parus__gdal_capture;
void parus__gdal_capture_begin(parus__gdal_capture *cap);
void parus__gdal_capture_end(parus__gdal_capture *cap);
/* The captured message, or fallback when GDAL said nothing. */
const char *parus__gdal_capture_msg(const parus__gdal_capture *cap, const char *fallback);

/* Parse a calendar date "YYYY-MM-DD" or "YYYYMMDD" at the start of s; true and the canonical
 * "YYYY-MM-DD" in out[11] when it is a real date (month and day checked, leap years known). */
bool parus__parse_date(const char *s, char out[11]);
/* Find the first real date of the form YYYYMMDD or YYYY-MM-DD inside s (e.g. a file name). */
bool parus__find_date(const char *s, char out[11]);

/* Days since 1970-01-01 of a canonical date (proleptic Gregorian). */
int64_t parus__date_days(const char date[11]);
/* The calendar date of a day count since 1970-01-01 (proleptic Gregorian). */
void parus__civil_from_days(int64_t day, int64_t *y, int *m, int *d);
/* "YYYY-MM-DD" of a day count; "0000-00-00" outside years 0..9999. */
void parus__format_day(int64_t day, char out[11]);

/* strtod in the C locale whatever the process's locale is (a caller's setlocale must not turn
 * "2.4" into 2); thread-safe. */
double parus__strtod_c(const char *s, char **end);
/* A decimal number as people write one in a table: an optional sign, digits with at most one
 * '.', an optional exponent (e or E, optional sign, digits), nothing else; read in the C locale.
 * False for anything else: a hexadecimal float ("0x2.8p0"), "inf", "nan", blanks, and a value
 * that overflows or underflows to zero or a denormal ("2.8e-400"), which strtod would turn into
 * a number without a word. */
bool parus__parse_decimal(const char *s, double *out);

/* The longest line of an INI file (configuration, policy): inih's INI_MAX_LINE (200) less the
 * line end and its NUL. */
#define PARUS__INI_MAX_LINE 197

/* The whole of an INI file, checked before inih sees it (inih cuts a line longer than its buffer
 * and reads the rest as another line; a NUL byte would end the text early): *out malloc'ed and
 * NUL-terminated. E_IO when it cannot be read; E_CONFIG (naming `what`, the file and the line)
 * for a directory or anything but a regular file, a line longer than PARUS__INI_MAX_LINE, a NUL
 * byte, a file over 1 MiB; E_NOMEM. */
parus_status parus__read_ini_text(const char *path, const char *what, char **out, parus_error *err);

#endif

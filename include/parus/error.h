/*
 * parus/error.h - status codes and the error detail that travels with a call.
 *
 * Every fallible parus function returns a parus_status and takes a `parus_error *err` as its last
 * argument. On failure the function fills err (code and a one-line message naming the file and the
 * reason) and returns the same code; on success err is left untouched. err may be NULL when the
 * caller does not want the detail. The library never prints, exits or aborts: the CLI decides what
 * the user sees and which exit code that becomes (docs/cli.md).
 *
 * Codes are generated with their names and texts from one list, PARUS_STATUS_MAP, so the three
 * never drift. Codes are appended, never renumbered: scripts and stored run records keep them.
 */
#ifndef PARUS_ERROR_H
#define PARUS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, text) */
#define PARUS_STATUS_MAP(X)                                                                        \
    X(OK, 0, "success")                                                                            \
    X(E_INVALID, 1, "invalid argument")                                                            \
    X(E_NOMEM, 2, "out of memory")                                                                 \
    X(E_IO, 3, "cannot read or write file")                                                        \
    X(E_FORMAT, 4, "corrupt or unsupported file")                                                  \
    X(E_NO_CRS, 5, "no coordinate reference system")                                               \
    X(E_NO_DATE, 6, "no acquisition date")                                                         \
    X(E_BANDS, 7, "missing or unknown bands")                                                      \
    X(E_GEOMETRY, 8, "invalid geometry")                                                           \
    X(E_DUPLICATE, 9, "duplicate identifier")                                                      \
    X(E_NOT_FOUND, 10, "not found")                                                                \
    X(E_STORE, 11, "store error")                                                                  \
    X(E_SCHEMA, 12, "store schema is newer than this parus")                                       \
    X(E_CONFIG, 13, "bad configuration")                                                           \
    X(E_PROJ, 14, "coordinate transformation failed")                                              \
    X(E_RANGE, 15, "value out of range")                                                           \
    X(E_BUSY, 16, "resource busy")                                                                 \
    X(E_INTERNAL, 17, "internal error")

typedef enum parus_status {
#define PARUS_STATUS_ENUM_(name, value, text) PARUS_##name = value,
    PARUS_STATUS_MAP(PARUS_STATUS_ENUM_)
#undef PARUS_STATUS_ENUM_
} parus_status;

#define PARUS_ERROR_MSG_MAX 1024

typedef struct parus_error {
    parus_status code;
    char msg[PARUS_ERROR_MSG_MAX];
} parus_error;

/* Text from outside parus (a parcel, farmer or crop id, a file name) made safe to print or to
 * write into a one-line record: each control character (bytes 0x01-0x1f and 0x7f) becomes
 * "\n", "\r", "\t" or "\xHH"; other bytes (UTF-8 included) are kept. Writes at most size bytes
 * (NUL included) into buf, cut before an escape that does not fit; returns buf ("" for a NULL
 * buf or size 0; s NULL is ""). Every message parus_fail and parus_error_prefix set goes
 * through it. */
PARUS_API const char *parus_escape_controls(const char *s, char *buf, size_t size);

/* Reset err to PARUS_OK with an empty message. */
PARUS_API void parus_error_init(parus_error *err);

/* Fill err (if not NULL) with code and a printf-style message; return code. Messages are lower
 * case, with no final full stop, the subject in quotes, what failed first. */
PARUS_API parus_status parus_fail(parus_error *err, parus_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix err's message with "context: " (for callers that add the file or item name). */
PARUS_API void parus_error_prefix(parus_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* True when a failure belongs to the input item (a tile, a file: unreadable, corrupt, no date, no
 * bands, bad geometry): a batch sets the item aside and goes on. Any other code (the store, memory,
 * configuration, an internal error) must stop the batch: a full disk must not send good tiles to
 * quarantine. */
PARUS_API bool parus_status_is_input_error(parus_status code);

/* "E_IO", "OK", ... and the fixed text for a code; "unknown" for a code not in the map. */
PARUS_API const char *parus_status_name(parus_status code);
PARUS_API const char *parus_status_text(parus_status code);

/* The library version, "MAJOR.MINOR.PATCH". */
PARUS_API const char *parus_version(void);

#ifdef __cplusplus
}
#endif
#endif

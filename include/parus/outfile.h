/*
 * parus/outfile.h - output files that never replace an input and never leave half a file.
 *
 * Two rules hold for every file parus writes (an export, a GeoPackage, a chart, a model, a
 * prediction list, a quarantine note):
 *   - An output that is an input is refused before anything is written: parus_output_check
 *     compares the resolved file (device and inode where it exists, else the canonical directory
 *     and name), never the spelling, so `./s.db`, a hard link or a symbolic link to the store is
 *     the store. The store's siblings (`-wal`, `-shm`, `-journal`, `.lock`) count as the store.
 *   - An output is written beside its target under a temporary name ("TARGET.<pid>-<n>.part" in
 *     the same directory), flushed to disk (fsync) and renamed over the target: the target holds
 *     its previous bytes or the whole new file, never half of one, and a failed write (a full
 *     disk) removes the temporary file and leaves the previous target byte-identical. A target
 *     that is a symbolic link is written through (the file it names is replaced, the link kept).
 *     A target that exists and is not a regular file (a terminal, a pipe, /dev/stdout) is written
 *     in place: there is nothing to rename over.
 *
 * Not thread-safe per handle; different handles may be used from different threads.
 */
#ifndef PARUS_OUTFILE_H
#define PARUS_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_outfile parus_outfile;

/* E_INVALID (the message names the output and the input it would replace) when path is the same
 * file as store (or store's -wal, -shm, -journal or .lock file) or as any of inputs[0..n_inputs);
 * store and any input may be NULL or "" (ignored), and so may inputs when n_inputs is 0. "-"
 * (standard output) is never an input. Nothing is created or written. E_NOMEM. */
PARUS_API parus_status parus_output_check(const char *path, const char *store,
                                          const char *const *inputs, size_t n_inputs,
                                          parus_error *err);

/* Start writing path: creates the temporary file beside it (mode 0666 less the umask, or the
 * previous target's mode). E_IO naming path when the temporary file cannot be created (the
 * directory does not exist or is not writable) or path is a directory; E_NOMEM. */
PARUS_API parus_status parus_outfile_open(const char *path, parus_outfile **out, parus_error *err);
/* Append bytes. A failure sticks: later writes return it and commit reports it. */
PARUS_API parus_status parus_outfile_write(parus_outfile *o, const void *data, size_t n,
                                           parus_error *err);
/* Append formatted text (printf rules; numbers in the C locale's form are the caller's care). */
PARUS_API parus_status parus_outfile_printf(parus_outfile *o, parus_error *err, const char *fmt,
                                            ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Flush, fsync, and rename into place (then fsync the directory). On any failure (an earlier
 * write included) the temporary file is removed, the previous target is untouched, and E_IO
 * names the target and the reason. Frees o in every case. */
PARUS_API parus_status parus_outfile_commit(parus_outfile *o, parus_error *err);
/* Give up: remove the temporary file, leave the target as it was, free o. NULL is OK. */
PARUS_API void parus_outfile_abort(parus_outfile *o);
/* The path the output goes to in the end (path given to open, or the file its link names). */
PARUS_API const char *parus_outfile_target(const parus_outfile *o);

#ifdef __cplusplus
}
#endif
#endif

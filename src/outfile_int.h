/*
 * outfile_int.h - the library's side of parus/outfile.h: the stdio stream of an output, and
 * outputs written by a library that wants a file name rather than a stream (GDAL, cairo).
 * Not part of the public API.
 */
#ifndef PARUS_OUTFILE_INT_H
#define PARUS_OUTFILE_INT_H

#include <stdio.h>

#include "parus/outfile.h"

/* The stream of an output opened with parus_outfile_open (NULL for one opened by name). A write
 * error on it is found by commit (ferror, fflush, fsync). */
FILE *parus__outfile_stream(parus_outfile *o);

/* Start an output that another library writes by name: a free temporary name beside path is
 * reserved but no file is left there; write it at parus__outfile_temp_path, then commit (which
 * fsyncs and renames it) or abort (which removes it and any "-journal"/"-wal" beside it).
 * Errors as parus_outfile_open. */
parus_status parus__outfile_open_named(const char *path, parus_outfile **out, parus_error *err);
/* The temporary file's name; valid until commit or abort. */
const char *parus__outfile_temp_path(const parus_outfile *o);

#endif

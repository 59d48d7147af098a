/*
 * fuzz_input.h - what the fuzz targets share: the libFuzzer entry point every target defines, and
 * a scratch file for the readers that take a path (the CSV, INI and model readers are fuzzed
 * through the same open-and-read path users hit, not a copy of it).
 */
#ifndef PARUS_FUZZ_INPUT_H
#define PARUS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data to this process's scratch file (suffix names the kind, e.g. ".csv") and return its
 * path (static storage), or NULL when it cannot be written. */
const char *fuzz_scratch_file(const uint8_t *data, size_t size, const char *suffix);

#endif

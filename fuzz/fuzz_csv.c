/*
 * fuzz_csv.c - the strict CSV reader (src/csvin.c): every record of any byte string, each cell
 * checked for UTF-8 as the readers built on it do; a refusal is an answer, a crash is not.
 */
#include <stdbool.h>
#include <string.h>

#include "csvin_int.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size, ".csv");
    parus__csv csv;
    parus_error err;
    bool done = false;
    size_t i, n_records = 0;
    if (!path)
        return 0;
    if (parus__csv_open(&csv, path, &err) != PARUS_OK)
        return 0;
    while (parus__csv_next(&csv, &done, &err) == PARUS_OK && !done) {
        for (i = 0; i < csv.n_cells; i++)
            (void)parus__utf8_valid(csv.cells[i]);
        n_records++;
    }
    (void)n_records;
    parus__csv_close(&csv);
    return 0;
}

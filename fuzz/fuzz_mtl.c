/*
 * fuzz_mtl.c - the Landsat MTL reader (src/raster.c): the text as the tile opener holds it (at
 * most PARUS__MTL_MAX_BYTES, cut at a NUL byte), and every lookup it makes: the acquisition date
 * and the reflectance gain and offset of each band.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "raster_int.h"
#include "util_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, buf[64], key[48], date[11];
    int band;
    if (size > PARUS__MTL_MAX_BYTES)
        size = PARUS__MTL_MAX_BYTES;
    if (!(text = malloc(size + 1)))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (parus__mtl_get(text, "DATE_ACQUIRED", buf, sizeof buf))
        (void)parus__parse_date(buf, date);
    for (band = 1; band <= 11; band++) {
        double v;
        snprintf(key, sizeof key, "REFLECTANCE_MULT_BAND_%d", band);
        if (parus__mtl_get(text, key, buf, sizeof buf))
            (void)parus__parse_number(buf, &v);
        snprintf(key, sizeof key, "REFLECTANCE_ADD_BAND_%d", band);
        if (parus__mtl_get(text, key, buf, sizeof buf))
            (void)parus__parse_number(buf, &v);
    }
    /* a buffer too small for the value: refused, never overrun */
    (void)parus__mtl_get(text, "DATE_ACQUIRED", buf, 1);
    free(text);
    return 0;
}

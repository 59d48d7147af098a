/*
 * fuzz_obs.c - an observation's packed values as the store keeps them (schema 19,
 * src/store_obs.c): any byte string as a `vals` BLOB, the bytes a damaged or hostile store file
 * hands parus__obs_unpack. It must either refuse the bytes or give values that pack again; and
 * what it gives, packed, unpacked and packed once more, must come out the same bytes (the 1e-4
 * form is stable after one rounding), so reading and rewriting a store never drifts.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char once[PARUS__OBS_PACK_MAX], twice[PARUS__OBS_PACK_MAX];
    parus_observation o, back;
    size_t n_once, n_twice;

    memset(&o, 0, sizeof o);
    if (!parus__obs_unpack(size ? data : NULL, size, &o))
        return 0;
    n_once = parus__obs_pack(&o, once, NULL);
    memset(&back, 0, sizeof back);
    if (!parus__obs_unpack(once, n_once, &back))
        abort(); /* what pack wrote, unpack must read */
    n_twice = parus__obs_pack(&back, twice, NULL);
    if (n_twice != n_once || memcmp(once, twice, n_once) != 0)
        abort(); /* a value that moved on its second rounding */
    return 0;
}

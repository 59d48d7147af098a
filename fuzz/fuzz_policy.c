/*
 * fuzz_policy.c - the credit policy file (src/policy.c over the INI reader: its own value
 * parsing, ranges and required terms): any byte string as a policy.ini, through
 * parus_policy_load, the path `parus assess --policy` and `[credit] policy` take. A policy that
 * loads then prices three parcels (a large value, a held one, a weak one) through
 * parus_credit_limit, so that every value the loader lets through is one the credit rule can
 * take without overflow or undefined behaviour.
 */
#include <math.h>

#include "fuzz_input.h"
#include "parus/credit.h"
#include "parus/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size, ".ini");
    parus_policy policy;
    parus_error err;
    parus_credit_parcel parcels[3] = {{0}};
    parus_credit_parcel_result per_parcel[3];
    parus_credit_result result;
    size_t i;
    if (!path)
        return 0;
    parus_policy_init(&policy);
    if (parus_policy_load(path, &policy, &err) != PARUS_OK)
        return 0;
    for (i = 0; i < 3; i++) {
        parcels[i].health = (parus_credit_health)i;
        parcels[i].crop_probability = i == 2 ? 0.1 : 0.95;
        parcels[i].n_event_flags = i;
        parcels[i].planted_area_m2 = 1000.0 * (double)(i + 1);
        parcels[i].declared_area_m2 = i == 1 ? (double)NAN : 1500.0;
        parcels[i].n_clear_observations = 10 * i;
        parcels[i].harvest_day = 20000 + (int64_t)i;
        parcels[i].overlap_share = i == 1 ? 1.0 : 0.0;
    }
    parcels[0].conservative_value_fen = INT64_C(1) << 60;
    parcels[1].conservative_value_fen = 123456789;
    parcels[2].conservative_value_fen = 99;
    (void)parus_credit_limit(&policy, parcels, 3, 5000, &result, per_parcel, &err);
    (void)parus_credit_limit(&policy, parcels + 1, 2, INT64_C(1) << 62, &result, NULL, &err);
    return 0;
}

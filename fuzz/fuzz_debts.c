/*
 * fuzz_debts.c - the debts file reader (src/debts.c over the strict CSV reader: its header
 * search, exact yuan-to-fen parsing, duplicate and unknown farmers): any byte string as a
 * debts.csv, through parus_debts_load, once without and once with a set of known farmers. Each
 * debt read is looked up and priced through parus_credit_limit (the default policy, one parcel),
 * so that every amount the reader lets through is one the credit rule can take.
 */
#include "fuzz_input.h"
#include "parus/credit.h"
#include "parus/policy.h"

static void price(const parus_debts *debts)
{
    parus_policy policy;
    parus_credit_parcel parcel = {0};
    parus_credit_result result;
    parus_error err;
    size_t i;
    parus_policy_init(&policy);
    parcel.conservative_value_fen = 250000000;
    parcel.crop_probability = 0.9;
    parcel.planted_area_m2 = 2000;
    parcel.declared_area_m2 = 2000;
    parcel.n_clear_observations = 12;
    parcel.harvest_day = 20100;
    for (i = 0; i < debts->n; i++) {
        if (parus_debts_find(debts, debts->items[i].farmer_id) != debts->items[i].debt_fen)
            __builtin_trap(); /* a debt read is a debt found */
        (void)parus_credit_limit(&policy, &parcel, 1, debts->items[i].debt_fen, &result, NULL,
                                 &err);
    }
    (void)parus_debts_find(debts, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const known[] = {"F001", "F002", "\xe5\x86\x9c\xe6\x88\xb7 3", "a,b"};
    const char *path = fuzz_scratch_file(data, size, ".csv");
    parus_debts debts = {0};
    parus_error err;
    if (!path)
        return 0;
    if (parus_debts_load(path, NULL, 0, &debts, &err) == PARUS_OK) {
        price(&debts);
        parus_debts_release(&debts);
    }
    if (parus_debts_load(path, known, sizeof known / sizeof known[0], &debts, &err) == PARUS_OK) {
        price(&debts);
        parus_debts_release(&debts);
    }
    return 0;
}

/*
 * fuzz_forest.c - the reader of XGBoost's JSON model (parus__forest_from_json, src/forest.c): the
 * first two bytes choose the number of features (1..64) and classes (2..9) the model must fit,
 * the rest is the JSON; an accepted forest predicts two rows (values and missing).
 */
#include <math.h>
#include <stdlib.h>

#include "forest_int.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parus__forest *f = NULL;
    parus_error err;
    const char *why = NULL;
    size_t n_features, n_classes, i;
    if (size < 2)
        return 0;
    n_features = 1 + (size_t)data[0] % 64;
    n_classes = 2 + (size_t)data[1] % 8;
    if (parus__forest_from_json((const char *)data + 2, size - 2, n_features, n_classes, &f, &why,
                                &err) == PARUS_OK &&
        f) {
        double x[2 * 64], prob[2 * 9];
        for (i = 0; i < n_features; i++) {
            x[i] = (double)i - 3.5;
            x[n_features + i] = NAN;
        }
        (void)parus__forest_predict(f, x, 2, 0, 1, prob, &err);
        parus__forest_free(f);
    }
    return 0;
}

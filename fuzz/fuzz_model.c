/*
 * fuzz_model.c - the model file loader (parus_model_load, src/classify.c): the header, the meta,
 * class and feature lists, the announced length, then XGBoost's own reader and the re-laying of
 * its trees (src/forest.c); a loaded model also predicts one row of missing values.
 */
#include <math.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "parus/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size, ".model");
    parus_model *m = NULL;
    parus_error err;
    if (!path)
        return 0;
    if (parus_model_load(path, &m, &err) == PARUS_OK) {
        size_t n_f = parus_model_n_features(m), n_c = parus_model_n_classes(m), i;
        double *x = malloc(n_f * sizeof *x), *prob = malloc(n_c * sizeof *prob);
        if (x && prob) {
            for (i = 0; i < n_f; i++)
                x[i] = NAN;
            (void)parus_model_predict(m, x, 1, n_f, 1, prob, &err);
        }
        free(x);
        free(prob);
        parus_model_free(m);
    }
    return 0;
}

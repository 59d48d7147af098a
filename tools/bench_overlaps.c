/*
 * bench_overlaps.c - how long the overlap search (parus_store_find_overlaps) takes on a store.
 *
 *   parus-bench-overlaps STORE [--share S] [--repeat K]
 *
 * Opens STORE (loaded beforehand with `parus parcels load`, e.g. a parus-synth registry of 140,000
 * parcels) and runs the search K times (default 3) at share S (default 0.05), printing each run's
 * wall and CPU seconds and the pairs found. The machine is shared: CPU seconds are the steadier
 * figure. docs/benchmarks.md has figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parus/store.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    parus_store *store;
    parus_store_counts counts;
    parus_error err;
    double share = 0.05;
    long repeat = 3, k;
    int a;

    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: parus-bench-overlaps STORE [--share S] [--repeat K]\n");
        return 2;
    }
    for (a = 2; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--share") == 0)
            share = strtod(argv[a + 1], NULL);
        else if (strcmp(argv[a], "--repeat") == 0)
            repeat = strtol(argv[a + 1], NULL, 10);
    }
    if (parus_store_open(argv[1], &store, &err) != PARUS_OK ||
        parus_store_get_counts(store, &counts, &err) != PARUS_OK) {
        fprintf(stderr, "parus-bench-overlaps: %s\n", err.msg);
        return 1;
    }
    printf("%zu parcels, share %g\n", counts.n_parcels, share);
    for (k = 0; k < repeat; k++) {
        size_t n = 0;
        double w0 = wall_s(), c0 = cpu_s();
        if (parus_store_find_overlaps(store, share, &n, &err) != PARUS_OK) {
            fprintf(stderr, "parus-bench-overlaps: %s\n", err.msg);
            parus_store_close(store);
            return 1;
        }
        printf("run %ld: %.3f s wall, %.3f s CPU, %zu overlapping pairs\n", k + 1, wall_s() - w0,
               cpu_s() - c0, n);
    }
    parus_store_close(store);
    return 0;
}

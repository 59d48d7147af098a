/*
 * launcher.c - the `parus` program people run. It answers `parus query` itself and hands every
 * other command, unchanged, to `parus-full` beside it (execv: same process id, same arguments,
 * same exit code).
 *
 * Why two programs: the analyst at a terminal waits for the process to start as much as for the
 * answer. A program linked against GDAL spends about 50 ms before main() while the dynamic loader
 * maps and relocates 131 shared libraries (about 114 for GDAL alone); the store answers a query in
 * about 1.5 ms. The query path (store, crop table, chart) needs none of GDAL, PROJ, libtiff or
 * XGBoost, so this program is linked with --as-needed against only what that path uses (SQLite,
 * cairo, inih) and starts in a few milliseconds. A test checks that it names none of those
 * libraries. docs/ARCHITECTURE.md, "Two programs".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define FULL_NAME "parus-full"

static const cli_command query_command[] = {
    {"query", cmd_query, "show a parcel's or a farmer's season, with a chart"},
};

/* The path of parus-full: in the directory of this program's executable. */
static int full_path(const char *argv0, char *buf, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *slash;
    if (n > 0) {
        self[n] = '\0';
    } else if (argv0 && strchr(argv0, '/')) {
        snprintf(self, sizeof self, "%s", argv0);
    } else {
        return -1;
    }
    slash = strrchr(self, '/');
    if (!slash)
        return -1;
    if ((size_t)snprintf(buf, size, "%.*s/%s", (int)(slash - self), self, FULL_NAME) >= size)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int pos = cli_command_pos(argc, argv);
    char path[PATH_MAX];

    if ((pos > 0 && strcmp(argv[pos], "query") == 0) ||
        (argc == 2 && strcmp(argv[1], "--version") == 0))
        return cli_main(argc, argv, query_command, 1);
    if (full_path(argc > 0 ? argv[0] : NULL, path, sizeof path) != 0) {
        fprintf(stderr, "parus: cannot find where '%s' is installed\n", FULL_NAME);
        return PARUS_EXIT_FAILURE;
    }
    /* OpenMP threads that reach a barrier first sleep there rather than spin, unless the
     * environment chooses (libgomp reads it when parus-full starts, hence here). XGBoost opens
     * about 34 parallel regions a tree (5,100 trees for 300 rounds of 17 classes: some 170,000);
     * with other work on the cores, a thread that spins at each of them holds the core that its
     * partner waits for: training took 4 x the time on the shared 2-core machine (docs/
     * benchmarks.md, "Training at scale"). Sleeping costs a wake-up per region, microseconds. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"))
        setenv("OMP_WAIT_POLICY", "passive", 0);
    execv(path, argv);
    fprintf(stderr, "parus: cannot run '%s': %s\n", path, strerror(errno));
    return PARUS_EXIT_FAILURE;
}

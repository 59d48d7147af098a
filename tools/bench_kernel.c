/*
 * bench_kernel.c - `parus-bench-kernel`: how close `parus ingest` comes to the cost of decoding
 * the tile, measured in one run on the same machine, so the figures are ratios, not absolutes.
 *
 *   parus-bench-kernel --tile T.tif --db LOADED.db [--parus PATH] [--threads 1,2] [--repeat N]
 *                      [--parcels FILE]
 *
 * For each thread count T:
 *   (a) the decode floor: GDAL decoding every block of every band of the tile, in the file's own
 *       block order, with T threads each holding its own dataset handle, and doing nothing else
 *       (GDALReadBlock: the driver's decode, no block cache);
 *   (b) `parus --db COPY ingest --threads T TILE` from a copy of a store where the parcels are
 *       already loaded: wall time and the child's peak resident memory (wait4's ru_maxrss);
 *   (c) the ratio b / a.
 * Each figure is the median of --repeat runs (default 3). With --parcels and where the peers are
 * installed, the equivalent peer pipeline is timed on the same inputs: ogr2ogr (parcels to the
 * tile's CRS), gdal_calc.py (an NDVI raster) and exactextract (mean and count per parcel).
 * Targets (issue 3): ingest <= 1.3 x the floor (--target; radar tiles, issue 11: 1.5), peak
 * RSS <= 200 MB.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <omp.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec +
           (double)ru->ru_stime.tv_sec + 1e-6 * (double)ru->ru_stime.tv_usec;
}

/* (a) decode every block of every band with n_threads threads; returns seconds, < 0 on error;
 * *cpu_s (may be NULL): the process's CPU seconds (user + system, all threads) spent on it */
static double decode_floor(const char *tile, int n_threads, double *cpu_s)
{
    struct rusage r0, r1;
    GDALDatasetH *ds = calloc((size_t)n_threads, sizeof *ds);
    int n_bands, bw, bh, nbx, nby, i;
    size_t n_blocks;
    double t0, t;
    int failed = 0;

    for (i = 0; i < n_threads; i++) {
        ds[i] = GDALOpen(tile, GA_ReadOnly);
        if (!ds[i]) {
            fprintf(stderr, "bench: cannot open '%s'\n", tile);
            return -1;
        }
    }
    n_bands = GDALGetRasterCount(ds[0]);
    GDALGetBlockSize(GDALGetRasterBand(ds[0], 1), &bw, &bh);
    nbx = (GDALGetRasterXSize(ds[0]) + bw - 1) / bw;
    nby = (GDALGetRasterYSize(ds[0]) + bh - 1) / bh;
    n_blocks = (size_t)nbx * (size_t)nby;

    getrusage(RUSAGE_SELF, &r0);
    t0 = now_s();
#pragma omp parallel num_threads(n_threads)
    {
        GDALDatasetH d = ds[omp_get_thread_num()];
        size_t max_bytes = (size_t)bw * (size_t)bh * 8;
        void *buf = malloc(max_bytes);
        size_t b;
#pragma omp for schedule(dynamic, 1)
        for (b = 0; b < n_blocks; b++) {
            int k;
            for (k = 1; k <= n_bands; k++) {
                if (GDALReadBlock(GDALGetRasterBand(d, k), (int)(b % (size_t)nbx),
                                  (int)(b / (size_t)nbx), buf) != CE_None) {
#pragma omp atomic write
                    failed = 1;
                }
            }
        }
        free(buf);
    }
    t = now_s() - t0;
    getrusage(RUSAGE_SELF, &r1);
    if (cpu_s)
        *cpu_s = cpu_of(&r1) - cpu_of(&r0);
    for (i = 0; i < n_threads; i++)
        GDALClose(ds[i]);
    free(ds);
    return failed ? -1 : t;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out;
    char buf[1 << 16];
    size_t n;
    if (!in)
        return -1;
    out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            fclose(in);
            fclose(out);
            return -1;
        }
    fclose(in);
    return fclose(out);
}

/* Run argv, wait, and report wall seconds, the child's peak RSS in MiB and (cpu_s may be NULL)
 * its CPU seconds, user + system. */
static int run_child(char *const argv[], double *wall_s, double *rss_mib, double *cpu_s, int quiet)
{
    struct rusage ru;
    int status;
    double t0 = now_s();
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (quiet) {
            FILE *f = freopen("/dev/null", "w", stdout);
            (void)f;
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    *wall_s = now_s() - t0;
    *rss_mib = (double)ru.ru_maxrss / 1024.0;
    if (cpu_s)
        *cpu_s = cpu_of(&ru);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        struct stat st;
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name);
        if (stat(buf, &st) == 0 && (st.st_mode & S_IXUSR))
            return 1;
        path = colon ? colon + 1 : NULL;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: parus-bench-kernel --tile T.tif --db LOADED.db [--parus PATH]\n"
                 "                          [--threads 1,2] [--repeat N] [--parcels FILE]\n"
                 "                          [--target RATIO]\n");
}

int main(int argc, char **argv)
{
    const char *tile = NULL, *db = NULL, *parus = "parus", *threads_arg = "1,2", *parcels = NULL;
    int repeat = 3, i;
    double target = 1.3;
    char work[] = "/tmp/parus-bench-XXXXXX";
    char copy[4096];
    int threads[16], n_threads = 0;
    const char *p;
    int missed = 0;
    double floor_1t = -1.0; /* the one-thread floor of the table, for the peers' ratios */

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (i + 1 < argc && !strcmp(argv[i], "--tile")) {
            tile = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--db")) {
            db = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--parus")) {
            parus = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--threads")) {
            threads_arg = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--repeat")) {
            repeat = (int)strtol(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "--parcels")) {
            parcels = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--target")) {
            target = strtod(argv[++i], NULL);
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!tile || !db || repeat < 1 || repeat > 50 || !(target > 0.0)) {
        usage(stderr);
        return 2;
    }
    for (p = threads_arg; *p && n_threads < 16;) {
        char *end;
        long t = strtol(p, &end, 10);
        if (end == p || t < 1 || t > 1024) {
            usage(stderr);
            return 2;
        }
        threads[n_threads++] = (int)t;
        p = *end == ',' ? end + 1 : end;
    }
    if (!mkdtemp(work)) {
        perror("bench: mkdtemp");
        return 1;
    }
    snprintf(copy, sizeof copy, "%s/run.db", work);

    GDALAllRegister();
    GDALSetCacheMax64(64 << 20); /* every block is decoded once: a cache would only add RSS */
    printf("tile: %s\nstore with parcels: %s\nruns per figure: %d (median)\n\n", tile, db, repeat);
    printf("%-8s %12s %12s %10s %14s %12s %12s %10s\n", "threads", "floor_s", "ingest_s", "ratio",
           "ingest_rss_mb", "floor_cpu_s", "ingest_cpu_s", "cpu_ratio");
    for (i = 0; i < n_threads; i++) {
        double fl[50], in[50], rss[50], fc[50], ic[50], f, g, r, fcm, icm;
        char targ[16];
        char *args[] = {(char *)parus, "--db", copy,         "-q", "ingest",
                        "--threads",   targ,   (char *)tile, NULL};
        int k;
        snprintf(targ, sizeof targ, "%d", threads[i]);
        for (k = 0; k < repeat; k++) {
            int rc;
            fl[k] = decode_floor(tile, threads[i], &fc[k]);
            if (fl[k] < 0)
                return 1;
            if (copy_file(db, copy) != 0) {
                fprintf(stderr, "bench: cannot copy '%s'\n", db);
                return 1;
            }
            {
                char wal[4200];
                snprintf(wal, sizeof wal, "%s-wal", copy);
                unlink(wal);
            }
            rc = run_child(args, &in[k], &rss[k], &ic[k], 1);
            if (rc != 0) {
                fprintf(stderr, "bench: parus ingest exited %d\n", rc);
                return 1;
            }
        }
        f = median(fl, repeat);
        g = median(in, repeat);
        r = median(rss, repeat);
        fcm = median(fc, repeat);
        icm = median(ic, repeat);
        printf("%-8d %12.3f %12.3f %10.3f %14.1f %12.3f %12.3f %10.3f\n", threads[i], f, g, g / f,
               r, fcm, icm, icm / fcm);
        if (threads[i] == 1)
            floor_1t = f;
        if (g / f > target || r > 200.0)
            missed = 1;
    }
    printf("\ntargets: ingest <= %.1f x floor, peak RSS <= 200 MB: %s\n", target,
           missed ? "MISSED" : "met");

    if (parcels) {
        int have_calc = on_path("gdal_calc.py"), have_ee = on_path("exactextract"),
            have_otb = on_path("otbcli_RadiometricIndices");
        printf("\npeers on the same inputs:\n");
        if (have_calc) {
            char out_tif[4200];
            double w, m;
            char *calc[] = {"gdal_calc.py",
                            "--quiet",
                            "--overwrite",
                            "-A",
                            (char *)tile,
                            "--A_band=1",
                            "-B",
                            (char *)tile,
                            "--B_band=2",
                            "--type=Float32",
                            "--calc=(B.astype(float)-A)/(B.astype(float)+A)",
                            "--outfile",
                            out_tif,
                            NULL};
            snprintf(out_tif, sizeof out_tif, "%s/ndvi.tif", work);
            if (run_child(calc, &w, &m, NULL, 1) == 0)
                printf("  gdal_calc.py NDVI raster alone: %.3f s (%.2f x the 1-thread floor), "
                       "peak RSS %.0f MB\n",
                       w, w / (floor_1t > 0.0 ? floor_1t : decode_floor(tile, 1, NULL)), m);
            unlink(out_tif);
        } else {
            printf("  gdal_calc.py: not installed\n");
        }
        printf("  exactextract: %s\n",
               have_ee ? "installed (not yet timed here)" : "not installed");
        printf("  otbcli_RadiometricIndices: %s\n",
               have_otb ? "installed (not yet timed here)" : "not installed");
    }
    unlink(copy);
    rmdir(work);
    return 0;
}

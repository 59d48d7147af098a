/*
 * cmd_s1.c - `parus s1 info|calibrate PRODUCT.SAFE`: a raw Sentinel-1 IW GRD product read from its
 * manifest and annotations, and turned into parus's radar tile (sigma0, linear, on a UTM grid)
 * for `parus ingest`. The library does the work (parus/s1safe.h); this file parses options and
 * prints.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parus/s1safe.h"

#include "cli.h"

static const char usage[] =
    "usage: parus s1 info PRODUCT.SAFE\n"
    "       parus s1 calibrate PRODUCT.SAFE --out TILE.tif [--res-m M] [--method M]\n"
    "                          [--max-placement-error-m M] [--keep-noise] [--threads N]\n\n"
    "A Sentinel-1 IW Level-1 GRD product (the .SAFE directory or its manifest.safe):\n"
    "  info       what the manifest and annotations say, and how well the tie points place a\n"
    "             pixel (leave-one-out error, metres)\n"
    "  calibrate  sigma0 (linear power) from the product's calibration annotation, placed on a\n"
    "             UTM grid through its tie points, written as parus's radar tile (VV, VH, ANGLE)\n"
    "  --out FILE               the tile (written beside it and renamed into place)\n"
    "  --res-m M                pixel size of the UTM grid (default 10)\n"
    "  --method M               tps (default), poly1, poly2 or poly3: GDAL's GCP transformer\n"
    "  --max-placement-error-m M  refuse when the tie points may misplace a pixel by more\n"
    "                           (default 3 pixels); tie points carry no DEM: in relief the error\n"
    "                           is hundreds of metres\n"
    "  --keep-noise             do not subtract the thermal noise of the noise annotation\n"
    "                           (subtracted by default when every polarisation has one)\n"
    "  --threads N              threads of GDAL's warper and compressor (default: [raster]\n"
    "                           threads, 0 = all cores); the tile does not depend on it\n\n"
    "Exit 0 written; 2 bad command line or an output that is one of the product's files; 3 a\n"
    "file the manifest names is absent or unreadable, or the tile cannot be written; 4 the "
    "product\n"
    "cannot be calibrated or placed (no or another product's calibration, not IW GRD, placement\n"
    "error above the bound). Details: docs/sensors.md.\n";

static bool parse_method(const char *s, parus_s1safe_method *m)
{
    static const char *const names[] = {"tps", "poly1", "poly2", "poly3"};
    int i;
    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (parus_s1safe_method)i;
            return true;
        }
    return false;
}

static bool parse_positive(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static int show_info(const parus_s1safe *s)
{
    const parus_s1safe_info *in = parus_s1safe_get_info(s);
    static const char *const names[] = {"tps", "poly1", "poly2", "poly3"};
    size_t i;
    int m;
    printf("%-14s %s %s %s\n", "product:", in->mission, in->mode, in->product_type);
    printf("%-14s %s\n", "start:", in->start_utc);
    printf("%-14s %s, relative orbit %d\n", "orbit:", in->orbit_direction, in->relative_orbit);
    printf("%-14s", "polarisations:");
    for (i = 0; i < in->n_pols; i++)
        printf(" %s", in->pols[i]);
    printf("\n%-14s %zu x %zu px (samples x lines)\n", "image:", in->width_px, in->height_px);
    printf("%-14s %zu, heights %.0f..%.0f m, centre lat %.4f lon %.4f\n",
           "tie points:", in->n_tie_points, in->height_min_m, in->height_max_m, in->lat_center_deg,
           in->lon_center_deg);
    printf("placement (m): %-6s %12s %12s %14s %14s\n", "method", "at pts mean", "at pts max",
           "between mean", "between max");
    for (m = 0; m < 4; m++) {
        parus_s1safe_placement p;
        parus_error err;
        if (parus_s1safe_measure_placement(s, (parus_s1safe_method)m, &p, &err) != PARUS_OK) {
            printf("               %-6s %s\n", names[m], err.msg);
            continue;
        }
        printf("               %-6s %12.1f %12.1f %14.1f %14.1f\n", names[m], p.at_points_mean_m,
               p.at_points_max_m, p.between_mean_m, p.between_max_m);
    }
    return PARUS_EXIT_OK;
}

int cmd_s1(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const opts[] = {"--out", "--res-m", "--method", "--max-placement-error-m",
                                       "--threads"};
    const char *val[5], *path, *const *files;
    parus_s1safe_options o = {0};
    parus_s1safe_result r;
    parus_s1safe *s = NULL;
    parus_error err;
    bool calibrate;
    size_t n_files;
    int rc;

    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PARUS_EXIT_USAGE : PARUS_EXIT_OK;
    }
    if (strcmp(argv[1], "info") != 0 && strcmp(argv[1], "calibrate") != 0)
        return cli_usage_error("s1", "unknown subcommand '%s' (info or calibrate)", argv[1]);
    calibrate = strcmp(argv[1], "calibrate") == 0;
    for (rc = 2; calibrate && rc < argc; rc++)
        if (strcmp(argv[rc], "--keep-noise") == 0) {
            o.keep_noise = true;
            memmove(&argv[rc], &argv[rc + 1], (size_t)(argc - rc - 1) * sizeof *argv);
            argc--;
            break;
        }
    rc = cli_file_and_options("s1", usage, argc, argv, 2, opts, calibrate ? 5 : 0, val, &path);
    if (rc < 0)
        return PARUS_EXIT_OK;
    if (rc)
        return rc;
    if (!path)
        return cli_usage_error("s1", "no product given");
    if (calibrate) {
        if (!val[0])
            return cli_usage_error("s1", "calibrate needs --out TILE.tif");
        if (val[1] && !parse_positive(val[1], &o.res_m))
            return cli_usage_error("s1", "--res-m needs a positive number, not '%s'", val[1]);
        if (val[2] && !parse_method(val[2], &o.method))
            return cli_usage_error("s1", "--method is tps, poly1, poly2 or poly3, not '%s'",
                                   val[2]);
        if (val[3] && !parse_positive(val[3], &o.max_placement_error_m))
            return cli_usage_error("s1", "--max-placement-error-m needs a positive number");
        o.n_threads = ctx->cfg.threads;
        if (val[4]) {
            double t = 0;
            if (strcmp(val[4], "0") != 0 &&
                (!parse_positive(val[4], &t) || t != floor(t) || t > 1024))
                return cli_usage_error("s1", "--threads needs 0 (all cores) or a count, not '%s'",
                                       val[4]);
            o.n_threads = (int)t;
        }
        rc = cli_check_output(ctx, "s1", val[0], (const char *const[]){path}, 1);
        if (rc)
            return rc;
    }
    if (parus_s1safe_open(path, &s, &err) != PARUS_OK)
        return cli_report(&err);
    if (!calibrate) {
        rc = show_info(s);
        parus_s1safe_free(s);
        return rc;
    }
    files = parus_s1safe_files(s, &n_files);
    rc = cli_check_output(ctx, "s1", val[0], files, n_files);
    if (rc == 0 && parus_s1safe_write_tile(s, &o, val[0], &r, &err) != PARUS_OK)
        rc = cli_report(&err);
    if (rc == 0 && !ctx->quiet)
        printf("wrote '%s': EPSG:%d, %zu x %zu px at %g m, sigma0 linear; placement error "
               "between tie points mean %.0f m, max %.0f m (no terrain correction); %zu DN-0 "
               "pixels as no data; thermal noise %s\n",
               cli_safe(val[0]), r.epsg, r.width_px, r.height_px, o.res_m ? o.res_m : 10,
               r.placement.between_mean_m, r.placement.between_max_m, r.n_dn_zero,
               r.noise_removed ? "removed" : "kept");
    if (rc == 0 && r.noise_removed && r.n_noise_clipped)
        fprintf(stderr,
                "parus: warning: %zu pixels of '%s' were at or below the thermal noise and "
                "were set to the floor (-45 dB)\n",
                r.n_noise_clipped, cli_safe(path));
    parus_s1safe_free(s);
    return rc;
}

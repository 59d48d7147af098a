/*
 * cmd_info.c - `parus info TILE...`: what parus sees in an imagery tile, before anything is read
 * or stored: sensor profile, bands and their roles, date, CRS, grid, blocks, nodata, scale and
 * offset, and where validity comes from. Several paths are the files of one scene.
 */
#include <stdio.h>
#include <string.h>

#include "parus/raster.h"

#include "cli.h"

static const char usage[] =
    "usage: parus info [--bands MAP] [--date YYYY-MM-DD] [--native] [--radar-scale S]\n"
    "                  [--radar-coefficient C] [--stats] [--json] TILE...\n\n"
    "Show what parus sees in a tile: one multi-band GeoTIFF, a directory holding one file per\n"
    "band, or the files of one scene listed one after another.\n\n"
    "  --bands MAP   band roles of a generic file, e.g. red=3,nir=4 (1-based band numbers)\n"
    "  --date DATE   acquisition date, for files that carry none\n"
    "  --native      the sensor's own reflectance: no band-pass adjustment to the optical\n"
    "                reference (Landsat 8/9 is otherwise brought to Sentinel-2A MSI, as ingest\n"
    "                always does)\n"
    "  --radar-scale linear|db, --radar-coefficient sigma0|gamma0|beta0\n"
    "                what a Sentinel-1 file does not say itself (docs/sensors.md)\n"
    "  --stats       also read every block and count the clear pixels (valid: not cloud,\n"
    "                shadow, fill or saturated by the tile's validity rule; red and NIR present)\n"
    "  --json        print JSON instead of text\n";

static void print_text(const parus_tile *tile)
{
    const parus_tile_info *ti = parus_tile_get_info(tile);
    const char *const *files;
    size_t n_files, i;

    files = parus_tile_files(tile, &n_files);
    for (i = 0; i < n_files; i++)
        printf("%-11s %s\n", i == 0 ? "file:" : "", files[i]);
    printf("%-11s %s\n", "sensor:", ti->sensor_name);
    printf("%-11s %s (from %s)\n", "date:", ti->date, ti->date_source);
    if (ti->epsg)
        printf("%-11s %s (EPSG:%d)\n", "crs:", ti->crs_name, ti->epsg);
    else
        printf("%-11s %s (no EPSG code)\n", "crs:", ti->crs_name);
    printf("%-11s %zu x %zu px, %g m, origin (%.3f, %.3f)\n", "grid:", ti->width, ti->height,
           ti->res_m, ti->geotransform[0], ti->geotransform[3]);
    printf("%-11s lon %.6f .. %.6f, lat %.6f .. %.6f\n", "footprint:", ti->lon_min_deg,
           ti->lon_max_deg, ti->lat_min_deg, ti->lat_max_deg);
    printf("%-11s %zu x %zu px, %zu x %zu = %zu blocks\n", "blocks:", ti->block_w, ti->block_h,
           ti->n_blocks_x, ti->n_blocks_y, ti->n_blocks_x * ti->n_blocks_y);
    printf("%-11s %s\n", "validity:", ti->validity_desc);
    printf("%-11s %s\n", "reference:", ti->harmonisation ? ti->harmonisation : "the sensor's own");
    if (ti->radar) {
        const parus_radar_info *ri = ti->radar;
        printf("%-11s %s, %s product, polarisations %s (from the band names)\n",
               "radar:", ri->mission[0] ? ri->mission : "Sentinel-1", ri->product,
               ri->polarisations);
        printf("%-11s %s (from %s)\n", "coeff:", ri->coefficient, ri->coefficient_source);
        printf("%-11s %s (from %s); read as linear power\n",
               "scale:", ri->scale == PARUS_RADAR_SCALE_DB ? "dB" : "linear power",
               ri->scale_source);
        printf("%-11s %s, relative orbit %s%.0d\n",
               "orbit:", ri->orbit_direction[0] ? ri->orbit_direction : "direction unknown",
               ri->relative_orbit ? "" : "unknown", ri->relative_orbit);
        printf("%-11s %g per pixel (from %s), %g pixels per independent sample\n",
               "looks:", ri->looks, ri->looks_source, ri->looks_correlation);
    }
    printf("bands:\n  %-11s %-8s %-6s %-8s %-6s %-8s %-10s %-8s %s\n", "role", "name", "band",
           "type", "res", "nodata", "scale", "offset", "file / description");
    for (i = 0; i < ti->n_bands; i++) {
        const parus_band_info *b = parus_tile_band(tile, i);
        char nodata[32];
        if (b->has_nodata)
            snprintf(nodata, sizeof nodata, "%g", b->nodata);
        else
            snprintf(nodata, sizeof nodata, "none");
        printf("  %-11s %-8s %-6d %-8s %-6g %-8s %-10g %-8g %s%s%s\n", parus_role_name(b->role),
               b->name, b->band_index, b->data_type, b->res_m, nodata, b->scale, b->offset,
               n_files > 1 ? b->path : "", n_files > 1 && b->description[0] ? " / " : "",
               b->description);
    }
}

/* Read every block (red and NIR) and count the pixels with a clear value in both. */
static parus_status count_clear(const parus_tile *tile, size_t *n_pixels, size_t *n_clear,
                                parus_error *err)
{
    const parus_tile_info *ti = parus_tile_get_info(tile);
    const parus_band_role roles[2] = {PARUS_ROLE_RED, PARUS_ROLE_NIR};
    const parus_band_role vv = PARUS_ROLE_VV;
    parus_tile_reader *reader;
    size_t b, n_blocks = ti->n_blocks_x * ti->n_blocks_y;
    parus_status rc;

    rc = ti->radar ? parus_tile_reader_new(tile, &vv, 1, &reader, err)
                   : parus_tile_reader_new(tile, roles, 2, &reader, err);
    if (rc != PARUS_OK)
        return rc;
    *n_pixels = 0;
    *n_clear = 0;
    for (b = 0; b < n_blocks; b++) {
        parus_block blk;
        rc = parus_tile_reader_read(reader, b, &blk, err);
        if (rc != PARUS_OK)
            break;
        *n_pixels += blk.w * blk.h;
        *n_clear += blk.n_valid;
    }
    parus_tile_reader_free(reader);
    return rc;
}

static void print_json(const parus_tile *tile, bool stats, size_t n_pixels, size_t n_clear)
{
    const parus_tile_info *ti = parus_tile_get_info(tile);
    const char *const *files;
    size_t n_files, i;

    files = parus_tile_files(tile, &n_files);
    printf("{\"files\":[");
    for (i = 0; i < n_files; i++) {
        if (i)
            putchar(',');
        cli_json_string(stdout, files[i]);
    }
    printf("],\"sensor\":");
    cli_json_string(stdout, ti->sensor_name);
    printf(",\"date\":\"%s\",\"date_source\":", ti->date);
    cli_json_string(stdout, ti->date_source);
    printf(",\"crs\":");
    cli_json_string(stdout, ti->crs_name);
    printf(",\"epsg\":%d,\"width\":%zu,\"height\":%zu,\"res_m\":", ti->epsg, ti->width, ti->height);
    cli_json_number(stdout, ti->res_m);
    printf(",\"geotransform\":[");
    for (i = 0; i < 6; i++) {
        if (i)
            putchar(',');
        cli_json_number(stdout, ti->geotransform[i]);
    }
    printf("],\"footprint_deg\":[");
    cli_json_number(stdout, ti->lon_min_deg);
    putchar(',');
    cli_json_number(stdout, ti->lat_min_deg);
    putchar(',');
    cli_json_number(stdout, ti->lon_max_deg);
    putchar(',');
    cli_json_number(stdout, ti->lat_max_deg);
    printf("],\"block\":[%zu,%zu],\"n_blocks\":%zu,\"validity\":", ti->block_w, ti->block_h,
           ti->n_blocks_x * ti->n_blocks_y);
    cli_json_string(stdout, ti->validity_desc);
    printf(",\"harmonisation\":");
    if (ti->harmonisation)
        cli_json_string(stdout, ti->harmonisation);
    else
        printf("null");
    if (ti->radar) {
        const parus_radar_info *ri = ti->radar;
        printf(",\"radar\":{\"product\":");
        cli_json_string(stdout, ri->product);
        printf(",\"mission\":");
        cli_json_string(stdout, ri->mission);
        printf(",\"polarisations\":");
        cli_json_string(stdout, ri->polarisations);
        printf(",\"coefficient\":");
        cli_json_string(stdout, ri->coefficient);
        printf(",\"coefficient_source\":");
        cli_json_string(stdout, ri->coefficient_source);
        printf(",\"scale\":\"%s\",\"scale_source\":",
               ri->scale == PARUS_RADAR_SCALE_DB ? "dB" : "linear");
        cli_json_string(stdout, ri->scale_source);
        printf(",\"orbit_direction\":");
        cli_json_string(stdout, ri->orbit_direction);
        printf(",\"relative_orbit\":%d,\"looks\":", ri->relative_orbit);
        cli_json_number(stdout, ri->looks);
        printf(",\"looks_source\":");
        cli_json_string(stdout, ri->looks_source);
        printf(",\"looks_correlation\":");
        cli_json_number(stdout, ri->looks_correlation);
        putchar('}');
    }
    printf(",\"bands\":[");
    for (i = 0; i < ti->n_bands; i++) {
        const parus_band_info *b = parus_tile_band(tile, i);
        printf("%s{\"role\":", i ? "," : "");
        cli_json_string(stdout, parus_role_name(b->role));
        printf(",\"name\":");
        cli_json_string(stdout, b->name);
        printf(",\"file\":");
        cli_json_string(stdout, b->path);
        printf(",\"band\":%d,\"type\":", b->band_index);
        cli_json_string(stdout, b->data_type);
        printf(",\"res_m\":");
        cli_json_number(stdout, b->res_m);
        printf(",\"nodata\":");
        if (b->has_nodata)
            cli_json_number(stdout, b->nodata);
        else
            printf("null");
        printf(",\"scale\":");
        cli_json_number(stdout, b->scale);
        printf(",\"offset\":");
        cli_json_number(stdout, b->offset);
        printf(",\"description\":");
        cli_json_string(stdout, b->description);
        putchar('}');
    }
    putchar(']');
    if (stats)
        printf(",\"pixels\":%zu,\"clear\":%zu,\"not_clear_fraction\":%.6f", n_pixels, n_clear,
               n_pixels ? 1.0 - (double)n_clear / (double)n_pixels : 0.0);
    printf("}\n");
}

int cmd_info(cli_ctx *ctx, int argc, char **argv)
{
    parus_tile_options opt = {0};
    parus_tile *tile;
    parus_error err;
    bool json = false, stats = false;
    size_t n_pixels = 0, n_clear = 0;
    int i, first = 0;

    opt.band_map = ctx->cfg.bands[0] ? ctx->cfg.bands : NULL;
    opt.band_map_generic_only = opt.band_map != NULL; /* the configuration's: generic tiles */
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PARUS_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--stats") == 0) {
            stats = true;
        } else if (strcmp(argv[i], "--native") == 0) {
            opt.native = true;
        } else if (strcmp(argv[i], "--radar-scale") == 0 ||
                   strcmp(argv[i], "--radar-coefficient") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("info", "option '%s' needs a value", argv[i]);
            if (argv[i][8] == 's')
                opt.radar_scale = argv[++i];
            else
                opt.radar_coefficient = argv[++i];
        } else if (strcmp(argv[i], "--bands") == 0 || strcmp(argv[i], "--date") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("info", "option '%s' needs a value", argv[i]);
            if (argv[i][2] == 'b') {
                opt.band_map = argv[++i];
                opt.band_map_generic_only = false;
            } else
                opt.date = argv[++i];
        } else {
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        }
    }
    first = i;
    if (first >= argc)
        return cli_usage_error("info", "no tile given");
    for (; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("info", "options must come before the tile files ('%s')",
                                   argv[i]);

    if (parus_tile_open((const char *const *)argv + first, (size_t)(argc - first), &opt, &tile,
                        &err) != PARUS_OK)
        return cli_report(&err);
    if (stats && count_clear(tile, &n_pixels, &n_clear, &err) != PARUS_OK) {
        parus_tile_free(tile);
        return cli_report(&err);
    }
    if (json) {
        print_json(tile, stats, n_pixels, n_clear);
    } else {
        print_text(tile);
        if (stats)
            printf("%-11s %zu pixels, %zu clear (%.2f %%), %zu not clear (%.2f %%: cloud, "
                   "shadow, fill or saturated)\n",
                   "pixels:", n_pixels, n_clear,
                   n_pixels ? 100.0 * (double)n_clear / (double)n_pixels : 0.0, n_pixels - n_clear,
                   n_pixels ? 100.0 * (double)(n_pixels - n_clear) / (double)n_pixels : 0.0);
    }
    parus_tile_free(tile);
    return PARUS_EXIT_OK;
}

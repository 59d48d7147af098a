/*
 * tilenoise.c - the damaged-block check's noise figures, window by window, on any scene
 * (a measurement, not a test: tools/tilenoise.sh runs it over the real and synthetic scenes).
 *
 *   parus-tilenoise measure --tag T --red FILE[:BAND] --nir FILE[:BAND] [--scale S] [--offset O]
 *                   [--nodata V] [--mask FILE[:BAND] --mask-kind scl|bqa|cmask]
 *                   [--parcels VECTOR]
 *   parus-tilenoise damage IN OUT SEED BAND N_BYTES
 *
 * measure prints one line per 64 x 64 window of each block (the windows of src/tilecheck.c, in
 * the file's own blocks: steps never cross a block edge) with at least 64 valid pixels:
 *   tag block row col n_nd sd ratio corr lag2 step
 * sd: the window's NDVI standard deviation (windows below 0.05 are not printed: the test judges
 * none); ratio: the mean |NDVI step| between valid 4-neighbours over sd; corr: the correlation of
 * the red step with the NIR step over the same neighbour pairs (uncentred, as in tilecheck.c:
 * steps have mean about 0); lag2: the mean |NDVI step| between pixels two apart (right and down)
 * over sd; step: the mean |NDVI step| itself. A pixel counts when the mask
 * calls it clear, red and NIR have a value, every reflectance is in [-0.2, 1.5] and the NDVI is in
 * [-1, 1], as in tilecheck.c. With --parcels only the pixels the kernel reads count: those a
 * parcel touches (GDAL's ALL_TOUCHED rasterization, close to the exact coverage's "fraction > 0")
 * and their 4-neighbours.
 *
 * damage copies a GeoTIFF byte for byte and overwrites N_BYTES (1..64) at a seeded place inside the
 * first compressed block of band BAND: what a damaged download or disk gives, and what GDAL's
 * DEFLATE decoder often accepts, decoding the rest of the block as other values.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>

#define WIN 64
#define MIN_VALID 64

struct band_ref {
    const char *path;
    int band;
};

static struct band_ref parse_ref(char *arg)
{
    struct band_ref r = {arg, 1};
    char *colon = strrchr(arg, ':');
    if (colon && colon[1] >= '0' && colon[1] <= '9' && strchr(colon, '/') == NULL) {
        *colon = '\0';
        r.band = (int)strtol(colon + 1, NULL, 10);
    }
    return r;
}

static double *read_band(struct band_ref r, int *w, int *h, int *bx, int *by, int *has_nd,
                         double *nd)
{
    GDALDatasetH ds = GDALOpen(r.path, GA_ReadOnly);
    GDALRasterBandH b;
    double *v;
    if (!ds) {
        fprintf(stderr, "cannot open '%s'\n", r.path);
        exit(2);
    }
    b = GDALGetRasterBand(ds, r.band);
    *w = GDALGetRasterXSize(ds);
    *h = GDALGetRasterYSize(ds);
    if (bx)
        GDALGetBlockSize(b, bx, by);
    if (has_nd)
        *nd = GDALGetRasterNoDataValue(b, has_nd);
    v = malloc((size_t)*w * (size_t)*h * sizeof *v);
    if (!v || GDALRasterIO(b, GF_Read, 0, 0, *w, *h, v, *w, *h, GDT_Float64, 0, 0) != CE_None) {
        fprintf(stderr, "cannot read '%s' band %d\n", r.path, r.band);
        exit(2);
    }
    GDALClose(ds);
    return v;
}

static int mask_clear(const char *kind, double v)
{
    int c = (int)v;
    if (strcmp(kind, "scl") == 0)
        return !(c == 0 || c == 1 || c == 3 || c == 8 || c == 9 || c == 10 || c > 11);
    if (strcmp(kind, "bqa") == 0)
        return !((c & 1) || ((c >> 14) & 3) == 3);
    return c == 0 || c == 1 || c == 3; /* cmask: 0 clear, 1, 3 other clear codes */
}

/* The pixels the kernel reads: touched by a parcel, or 4-neighbour of one. */
static unsigned char *parcel_pixels(const char *vector, const char *raster, int w, int h)
{
    GDALDatasetH rs = GDALOpen(raster, GA_ReadOnly), mem, vs;
    GDALDriverH drv = GDALGetDriverByName("MEM");
    double gt[6];
    unsigned char *m = calloc((size_t)w * (size_t)h, 1), *d = calloc((size_t)w * (size_t)h, 1);
    OGRLayerH layer;
    int bands[1] = {1}, x, y;
    double burn[1] = {1.0};
    char *opts[] = {"ALL_TOUCHED=TRUE", NULL};
    vs = GDALOpenEx(vector, GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!rs || !vs || !m || !d) {
        fprintf(stderr, "cannot open '%s' or '%s'\n", raster, vector);
        exit(2);
    }
    mem = GDALCreate(drv, "", w, h, 1, GDT_Byte, NULL);
    GDALGetGeoTransform(rs, gt);
    GDALSetGeoTransform(mem, gt);
    GDALSetProjection(mem, GDALGetProjectionRef(rs));
    layer = GDALDatasetGetLayer(vs, 0);
    if (GDALRasterizeLayers(mem, 1, bands, 1, (OGRLayerH *)&layer, NULL, NULL, burn, opts, NULL,
                            NULL) != CE_None) {
        fprintf(stderr, "cannot rasterize '%s'\n", vector);
        exit(2);
    }
    if (GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, w, h, m, w, h, GDT_Byte, 0, 0) !=
        CE_None)
        exit(2);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            d[i] = m[i] || (x > 0 && m[i - 1]) || (x + 1 < w && m[i + 1]) ||
                   (y > 0 && m[i - (size_t)w]) || (y + 1 < h && m[i + (size_t)w]);
        }
    free(m);
    GDALClose(mem);
    GDALClose(vs);
    GDALClose(rs);
    return d;
}

struct win {
    double n, s, s2, n1, st1, rr, nn, rn, n2, st2;
};

static int measure(int argc, char **argv)
{
    const char *tag = "scene", *mask_kind = "scl", *parcels = NULL;
    struct band_ref red_ref = {NULL, 1}, nir_ref = {NULL, 1}, mask_ref = {NULL, 0};
    double scale = 1.0, offset = 0.0, nodata = 0.0, ndv;
    int has_nodata = 0, w, h, bx, by, w2, h2, has_ndv, a;
    double *red, *nir, *mask = NULL, *nd;
    unsigned char *read = NULL;
    size_t i, n;
    for (a = 2; a < argc; a++) {
        if (strcmp(argv[a], "--tag") == 0 && a + 1 < argc)
            tag = argv[++a];
        else if (strcmp(argv[a], "--red") == 0 && a + 1 < argc)
            red_ref = parse_ref(argv[++a]);
        else if (strcmp(argv[a], "--nir") == 0 && a + 1 < argc)
            nir_ref = parse_ref(argv[++a]);
        else if (strcmp(argv[a], "--mask") == 0 && a + 1 < argc)
            mask_ref = parse_ref(argv[++a]);
        else if (strcmp(argv[a], "--mask-kind") == 0 && a + 1 < argc)
            mask_kind = argv[++a];
        else if (strcmp(argv[a], "--scale") == 0 && a + 1 < argc)
            scale = strtod(argv[++a], NULL);
        else if (strcmp(argv[a], "--offset") == 0 && a + 1 < argc)
            offset = strtod(argv[++a], NULL);
        else if (strcmp(argv[a], "--nodata") == 0 && a + 1 < argc) {
            nodata = strtod(argv[++a], NULL);
            has_nodata = 1;
        } else if (strcmp(argv[a], "--parcels") == 0 && a + 1 < argc)
            parcels = argv[++a];
        else {
            fprintf(stderr, "unknown argument '%s'\n", argv[a]);
            return 2;
        }
    }
    if (!red_ref.path || !nir_ref.path) {
        fprintf(stderr, "measure needs --red and --nir\n");
        return 2;
    }
    red = read_band(red_ref, &w, &h, &bx, &by, &has_ndv, &ndv);
    if (!has_nodata && has_ndv) {
        nodata = ndv;
        has_nodata = 1;
    }
    nir = read_band(nir_ref, &w2, &h2, NULL, NULL, NULL, NULL);
    if (w2 != w || h2 != h)
        return fprintf(stderr, "red and NIR differ in size\n"), 2;
    if (mask_ref.path) {
        mask = read_band(mask_ref, &w2, &h2, NULL, NULL, NULL, NULL);
        if (w2 != w || h2 != h)
            return fprintf(stderr, "the mask differs in size\n"), 2;
    }
    if (parcels)
        read = parcel_pixels(parcels, red_ref.path, w, h);
    n = (size_t)w * (size_t)h;
    nd = malloc(n * 3 * sizeof *nd);
    if (!nd)
        return 2;
    /* nd[i]: NDVI, nd[n+i], nd[2n+i]: red and NIR reflectance; NaN where the pixel does not count
     */
    for (i = 0; i < n; i++) {
        double r = red[i], q = nir[i], v;
        nd[i] = NAN;
        if ((read && !read[i]) || (mask && !mask_clear(mask_kind, mask[i])))
            continue;
        if (has_nodata && (r == nodata || q == nodata))
            continue;
        if (r == 65535.0 || q == 65535.0)
            continue;
        r = (float)(r * scale + offset);
        q = (float)(q * scale + offset);
        if (!(r >= -0.2 && r <= 1.5 && q >= -0.2 && q <= 1.5))
            continue;
        v = r + q != 0.0 ? (double)(float)((q - r) / (q + r)) : 0.0;
        if (!(v >= -1.0 && v <= 1.0))
            continue;
        nd[i] = v;
        nd[n + i] = r;
        nd[2 * n + i] = q;
    }
    {
        int nbx = (w + bx - 1) / bx, nby = (h + by - 1) / by, kb, kx, ky;
        for (kb = 0; kb < nbx * nby; kb++) {
            int x0 = kb % nbx * bx, y0 = kb / nbx * by;
            int bw = x0 + bx > w ? w - x0 : bx, bh = y0 + by > h ? h - y0 : by;
            int nwx = (bw + WIN - 1) / WIN, nwy = (bh + WIN - 1) / WIN;
            struct win *ws = calloc((size_t)nwx * (size_t)nwy, sizeof *ws);
            int x, y;
            for (y = 0; y < bh; y++)
                for (x = 0; x < bw; x++) {
                    size_t p = (size_t)(y0 + y) * (size_t)w + (size_t)(x0 + x);
                    struct win *q = &ws[(y / WIN) * nwx + x / WIN];
                    int dir;
                    if (isnan(nd[p]))
                        continue;
                    q->n += 1;
                    q->s += nd[p];
                    q->s2 += nd[p] * nd[p];
                    for (dir = 0; dir < 4; dir++) {
                        int lag = dir < 2 ? 1 : 2, right = dir % 2 == 0;
                        int xx = right ? x + lag : x, yy = right ? y : y + lag;
                        size_t o;
                        if (xx >= bw || yy >= bh)
                            continue;
                        o = (size_t)(y0 + yy) * (size_t)w + (size_t)(x0 + xx);
                        if (isnan(nd[o]))
                            continue;
                        if (lag == 1) {
                            double dr = nd[n + p] - nd[n + o], dq = nd[2 * n + p] - nd[2 * n + o];
                            q->n1 += 1;
                            q->st1 += fabs(nd[p] - nd[o]);
                            q->rr += dr * dr;
                            q->nn += dq * dq;
                            q->rn += dr * dq;
                        } else {
                            q->n2 += 1;
                            q->st2 += fabs(nd[p] - nd[o]);
                        }
                    }
                }
            for (ky = 0; ky < nwy; ky++)
                for (kx = 0; kx < nwx; kx++) {
                    const struct win *q = &ws[ky * nwx + kx];
                    double mean, var, sd;
                    if (q->n < MIN_VALID || q->n1 < MIN_VALID)
                        continue;
                    mean = q->s / q->n;
                    var = q->s2 / q->n - mean * mean;
                    sd = var > 0 ? sqrt(var) : 0;
                    if (sd < 0.05)
                        continue; /* the rule judges no narrower window */
                    printf("%s %d %d %d %.0f %.4f %.4f %.4f %.4f %.4f\n", tag, kb, y0 + ky * WIN,
                           x0 + kx * WIN, q->n, sd, q->st1 / q->n1 / sd,
                           q->rr > 0 && q->nn > 0 ? q->rn / sqrt(q->rr * q->nn) : 0.0,
                           q->n2 > 0 ? q->st2 / q->n2 / sd : 0.0, q->st1 / q->n1);
                }
            free(ws);
        }
    }
    free(nd);
    free(red);
    free(nir);
    free(mask);
    free(read);
    return 0;
}

static int damage(const char *in, const char *out, unsigned long seed, int band, size_t n_bytes)
{
    const char *off_s, *size_s;
    long off, size, at;
    unsigned char junk[64], buf[65536];
    if (n_bytes < 1 || n_bytes > sizeof junk)
        return 2;
    FILE *fp, *src = fopen(in, "rb");
    size_t k, got;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    /* a byte copy: the same blocks, the same compression */
    fp = fopen(out, "wb");
    if (!src || !fp)
        return 2;
    while ((got = fread(buf, 1, sizeof buf, src)) > 0)
        if (fwrite(buf, 1, got, fp) != got)
            return 2;
    fclose(src);
    if (fclose(fp) != 0)
        return 2;
    {
        GDALDatasetH o = GDALOpen(out, GA_ReadOnly);
        GDALRasterBandH b = GDALGetRasterBand(o, band);
        off_s = GDALGetMetadataItem(b, "BLOCK_OFFSET_0_0", "TIFF");
        size_s = GDALGetMetadataItem(b, "BLOCK_SIZE_0_0", "TIFF");
        if (!off_s || !size_s)
            return fprintf(stderr, "no block offset in '%s'\n", out), 2;
        off = strtol(off_s, NULL, 10);
        size = strtol(size_s, NULL, 10);
        GDALClose(o);
    }
    for (k = 0; k < sizeof junk; k++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        junk[k] = (unsigned char)(s >> 24);
    }
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    /* inside the block, past its first tenth (the header and the first rows) */
    at = off + size / 10 + (long)(s % (uint64_t)(size * 8 / 10 - (long)sizeof junk));
    fp = fopen(out, "r+b");
    if (!fp || fseek(fp, at, SEEK_SET) != 0 || fwrite(junk, 1, n_bytes, fp) != n_bytes)
        return 2;
    fclose(fp);
    printf("%s: %zu bytes at %ld (block at %ld, %ld bytes)\n", out, n_bytes, at, off, size);
    return 0;
}

/* The test's random window (tests/test_tilecheck.c, damage_window with fill_random): rows and
 * columns 128..255 of bands red and nir rewritten with DN 1000..4999 from the test's LCG, the
 * mask band (if any, the last) set to SCL 4. */
static int random_window(const char *in, const char *out, int red_b, int nir_b)
{
    GDALDatasetH src = GDALOpen(in, GA_ReadOnly), dst;
    char *opts[] = {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", NULL};
    int bands[3], nb, k, w, h;
    if (!src)
        return 2;
    dst = GDALCreateCopy(GDALGetDriverByName("GTiff"), out, src, FALSE, opts, NULL, NULL);
    GDALClose(src);
    if (!dst)
        return 2;
    w = GDALGetRasterXSize(dst);
    h = GDALGetRasterYSize(dst);
    nb = GDALGetRasterCount(dst);
    bands[0] = red_b;
    bands[1] = nir_b;
    bands[2] = nb;
    for (k = 0; k < 3; k++) {
        uint16_t *v = malloc((size_t)w * (size_t)h * sizeof *v);
        uint32_t s = 12345u + (uint32_t)(k + 1);
        int r, c;
        GDALRasterBandH b = GDALGetRasterBand(dst, bands[k]);
        if (!v || GDALRasterIO(b, GF_Read, 0, 0, w, h, v, w, h, GDT_UInt16, 0, 0) != CE_None)
            return 2;
        for (r = 128; r < 256 && r < h; r++)
            for (c = 128; c < 256 && c < w; c++) {
                s = s * 1664525u + 1013904223u;
                v[r * w + c] = k == 2 ? 4 : (uint16_t)(1000 + (s >> 8) % 4000);
            }
        if (GDALRasterIO(b, GF_Write, 0, 0, w, h, v, w, h, GDT_UInt16, 0, 0) != CE_None)
            return 2;
        free(v);
    }
    GDALClose(dst);
    return 0;
}

int main(int argc, char **argv)
{
    GDALAllRegister();
    CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
    if (argc >= 2 && strcmp(argv[1], "measure") == 0)
        return measure(argc, argv);
    if (argc == 7 && strcmp(argv[1], "damage") == 0)
        return damage(argv[2], argv[3], strtoul(argv[4], NULL, 10), (int)strtol(argv[5], NULL, 10),
                      (size_t)strtoul(argv[6], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "random") == 0)
        return random_window(argv[2], argv[3], (int)strtol(argv[4], NULL, 10),
                             (int)strtol(argv[5], NULL, 10));
    fprintf(stderr, "usage: parus-tilenoise measure --tag T --red FILE[:B] --nir FILE[:B] ...\n"
                    "       parus-tilenoise damage IN OUT SEED BAND N_BYTES\n"
                    "       parus-tilenoise random IN OUT RED_BAND NIR_BAND\n");
    return 2;
}

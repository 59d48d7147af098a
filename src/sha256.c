/*
 * sha256.c - SHA-256 (FIPS 180-4) for the audit of an assessment: the model file, crop table,
 * policy and debts file a season's limits were computed with are identified by the SHA-256 of
 * their bytes, so two different files never share an identity (the tiles' fingerprint in util.c
 * is faster and not cryptographic; these files are small and are read once per run). Also the
 * whole-file reader the audit records a file's content with.
 *
 * Portable C, no GDAL or SQLite: the query launcher may link it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util_int.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int r)
{
    return x >> r | x << (32 - r);
}

static void block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (i = 0; i < 64; i++) {
        t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void parus__sha256(const void *data, size_t n, char hex[65])
{
    static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    unsigned char tail[128];
    uint32_t h[8];
    uint64_t bits = (uint64_t)n * 8u;
    size_t full = n / 64 * 64, rest = n - full, n_tail, i;

    memcpy(h, init, sizeof h);
    for (i = 0; i < full; i += 64)
        block(h, p + i);
    /* the rest, a 1 bit, zeros, and the length in bits (big-endian) in one or two blocks */
    memset(tail, 0, sizeof tail);
    if (rest)
        memcpy(tail, p + full, rest);
    tail[rest] = 0x80;
    n_tail = rest + 1 + 8 <= 64 ? 64 : 128;
    for (i = 0; i < 8; i++)
        tail[n_tail - 1 - i] = (unsigned char)(bits >> (8 * i));
    block(h, tail);
    if (n_tail == 128)
        block(h, tail + 64);
    for (i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08lx", (unsigned long)h[i]);
}

parus_status parus__read_file(const char *path, size_t max_bytes, char **data, size_t *n,
                              parus_error *err)
{
    struct stat sb;
    char *buf;
    size_t have = 0;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return parus_fail(err, PARUS_E_IO, "cannot read '%s': %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return parus_fail(err, PARUS_E_IO, "cannot read '%s': not a regular file", path);
    }
    if ((uintmax_t)sb.st_size > (uintmax_t)max_bytes) {
        close(fd);
        return parus_fail(err, PARUS_E_IO, "cannot read '%s': larger than %zu bytes", path,
                          max_bytes);
    }
    /* one byte more than the size, so a file that grew meanwhile is seen, and a NUL at the end */
    if (!(buf = malloc((size_t)sb.st_size + 2))) {
        close(fd);
        return parus_fail(err, PARUS_E_NOMEM, "cannot read '%s': out of memory", path);
    }
    for (;;) {
        ssize_t got = read(fd, buf + have, (size_t)sb.st_size + 1 - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return parus_fail(err, PARUS_E_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (got == 0)
            break;
        have += (size_t)got;
        if (have > (size_t)sb.st_size) {
            close(fd);
            free(buf);
            return parus_fail(err, PARUS_E_IO, "cannot read '%s': it changed while read", path);
        }
    }
    close(fd);
    buf[have] = '\0';
    *data = buf;
    *n = have;
    return PARUS_OK;
}

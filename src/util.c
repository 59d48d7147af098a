/*
 * util.c - small internal helpers: checked size arithmetic, strings, the content fingerprint of
 * tiles, calendar dates, locale-independent numbers. GDAL's start-up and error capture are in
 * util_gdal.c, so that a program which needs none of GDAL (the query launcher) links none of it.
 *
 * The hash identifies a tile by its bytes, not its name or mtime, so a renamed or re-copied tile
 * is recognised as already processed.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <threads.h>

#include "util_int.h"

bool parus__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

bool parus__grow(void **p, size_t *cap, size_t want, size_t size, size_t first)
{
    size_t cap2 = *cap ? *cap : (first ? first : 1), bytes;
    void *q;
    if (want <= *cap)
        return true;
    while (cap2 < want) {
        if (cap2 > SIZE_MAX / 2)
            return false;
        cap2 *= 2;
    }
    if (!parus__mul_size(cap2, size, &bytes) || !(q = realloc(*p, bytes)))
        return false;
    *p = q;
    *cap = cap2;
    return true;
}

char *parus__strndup(const char *s, size_t n)
{
    char *p;
    if (!s)
        return NULL;
    p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *parus__strdup(const char *s)
{
    return s ? parus__strndup(s, strlen(s)) : NULL;
}

int parus__strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

/* The length of the blank that starts at s (parus__trim_blanks' set), 0 when none. */
static size_t blank_at(const unsigned char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8B) || s[2] == 0xAF))
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    return 0;
}

void parus__trim_blanks(char *s)
{
    size_t lead = 0, n, k;
    while ((k = blank_at((const unsigned char *)s + lead)) > 0)
        lead += k;
    n = strlen(s + lead);
    for (;;) {
        size_t cut = 0;
        for (k = 1; k <= 3 && k <= n; k++)
            if (blank_at((const unsigned char *)s + lead + n - k) == k) {
                cut = k;
                break;
            }
        if (!cut)
            break;
        n -= cut;
    }
    memmove(s, s + lead, n);
    s[n] = '\0';
}

size_t parus__utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t n, k;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, c = s[0] & 0x1Fu, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, c = s[0] & 0x0Fu, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, c = s[0] & 0x07u, min = 0x10000;
    else
        return 0;
    for (k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[k] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool parus__id_form_problem(const char *s, char *why, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        size_t len = parus__utf8_next(p, &c);
        const char *what = NULL;
        if (!len) {
            snprintf(why, n, "is not valid UTF-8 (byte 0x%02X at %zu)", *p,
                     (size_t)(p - (const unsigned char *)s));
            return true;
        }
        if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
            what = "a control character";
        else if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
                 (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
                 (c >= 0xFE20 && c <= 0xFE2F) || c == 0x3099 || c == 0x309A)
            what = "a combining mark: the same name composed (Unicode NFC) would be another "
                   "farmer; write the id composed";
        else if ((c >= 0x1100 && c <= 0x11FF) || (c >= 0xA960 && c <= 0xA97F) ||
                 (c >= 0xD7B0 && c <= 0xD7FF))
            what = "a Hangul letter part (decomposed Hangul): the same name composed (Unicode "
                   "NFC) would be another farmer; write the id composed";
        else if (c >= 0xFF01 && c <= 0xFF5E)
            what = "a full-width form of an ASCII character: the same id in ASCII would be "
                   "another farmer; write it in ASCII";
        else if (c == 0x00AD || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
                 (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF)
            what = "an invisible character: the id without it would be another farmer";
        if (what) {
            snprintf(why, n, "holds U+%04X, %s", (unsigned)c, what);
            return true;
        }
        p += len;
    }
    return false;
}

int parus__strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; a++, b++, n--) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

/* ---- content fingerprint ----
 *
 * Tiles are hundreds of megabytes and a nightly run may hash every tile of an inbox only to find
 * it already stored, so the fingerprint must cost far less than decoding the tile: SHA-256 in
 * portable C ran at about 300 MB/s here (1.3 s for a 394 MB tile, more than GDAL needs to decode
 * it). This is parus's own non-cryptographic 256-bit hash: four independent lanes each fold one
 * 64-bit word per 32-byte stripe with a multiply-rotate-multiply step (so the lanes run in
 * parallel in the CPU), the tail is zero-padded, and the lanes and the length are chained through
 * a xor-shift-multiply avalanche into a summary from which each output word is avalanched. It
 * identifies content (a renamed or copied tile is the same tile); it does not resist a forger, and
 * does not need to.
 */

#define FP_K1 0x9fb21c651e98df25ULL
#define FP_K2 0xc2b2ae3d27d4eb4fULL
#define FP_K3 0x165667b19e3779f9ULL

static uint64_t rotl64(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static void store_le64(unsigned char *p, uint64_t v)
{
    int k;
    for (k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t avalanche(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static void fp_stripe(uint64_t lane[4], const unsigned char *p)
{
    int j;
    for (j = 0; j < 4; j++)
        lane[j] = rotl64(lane[j] + load_le64(p + 8 * j) * FP_K1, 29) * FP_K2;
}

struct fp_state {
    uint64_t lane[4];
    uint64_t n;
};

static void fp_init(struct fp_state *st)
{
    st->lane[0] = FP_K3;
    st->lane[1] = FP_K3 ^ FP_K1;
    st->lane[2] = FP_K3 ^ FP_K2;
    st->lane[3] = FP_K3 + FP_K1 + FP_K2;
    st->n = 0;
}

/* Whole stripes only: the caller feeds multiples of 32 bytes until the last piece. */
static void fp_stripes(struct fp_state *st, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i + 32 <= n; i += 32)
        fp_stripe(st->lane, p + i);
    st->n += n / 32 * 32;
}

static void fp_final(struct fp_state *st, const unsigned char *p, size_t n, uint64_t out[4])
{
    unsigned char tail[32];
    size_t full = n / 32 * 32;
    uint64_t s;
    int j;

    fp_stripes(st, p, full);
    memset(tail, 0, sizeof tail);
    if (n > full)
        memcpy(tail, p + full, n - full);
    fp_stripe(st->lane, tail);
    st->n += n - full;
    /* every output word depends on every lane through the chained summary s */
    s = st->n * FP_K3;
    for (j = 0; j < 4; j++)
        s = avalanche(s ^ st->lane[j]);
    for (j = 0; j < 4; j++)
        out[j] = avalanche(s + st->lane[j] * FP_K1 + (uint64_t)j * FP_K2);
}

void parus__fingerprint(const void *data, size_t n, uint64_t out[4])
{
    struct fp_state st;
    fp_init(&st);
    fp_final(&st, data, n, out);
}

/* Read in pieces small enough to stay in the core's L2 cache between read()'s copy and the
 * hashing: pieces of megabytes go out to memory and back, which more than doubles the CPU time
 * (an 877 MB tile: 0.55-0.65 s in 4 MiB pieces, 0.20-0.22 s in 64 KiB; docs/benchmarks.md).
 * Not a map: a whole-file map would count the tile in the process's resident memory, and a file
 * truncated while mapped would kill the process with SIGBUS where read() reports a short file. */
static parus_status fingerprint_file(const char *path, unsigned char *buf, size_t buf_size,
                                     uint64_t out[4], uint64_t *size, parus_error *err)
{
    struct fp_state st;
    struct stat sb;
    size_t have = 0;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return parus_fail(err, PARUS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return parus_fail(err, PARUS_E_IO, "cannot read '%s': not a regular file", path);
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    fp_init(&st);
    for (;;) {
        ssize_t got = read(fd, buf + have, buf_size - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            return parus_fail(err, PARUS_E_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (got == 0)
            break;
        have += (size_t)got;
        if (have == buf_size) { /* buf_size is a multiple of 32 */
            fp_stripes(&st, buf, have);
            have = 0;
        }
    }
    close(fd);
    fp_final(&st, buf, have, out);
    *size = st.n;
    return PARUS_OK;
}

parus_status parus__fingerprint_files(const char *const *paths, size_t n_paths, char hex[65],
                                      parus_error *err)
{
    /* each file's fingerprint and size, in order, then the fingerprint of that list */
    enum { BUF = 64 << 10 };
    unsigned char *list, *buf;
    uint64_t h[4];
    size_t i, j;
    parus_status rc = PARUS_OK;

    list = malloc((n_paths ? n_paths : 1) * 40);
    buf = malloc(BUF);
    if (!list || !buf) {
        free(list);
        free(buf);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate the fingerprint buffers");
    }
    for (i = 0; i < n_paths && rc == PARUS_OK; i++) {
        uint64_t size = 0;
        rc = fingerprint_file(paths[i], buf, BUF, h, &size, err);
        /* little-endian whatever the host, so the same files give the same value anywhere */
        for (j = 0; j < 4; j++)
            store_le64(list + 40 * i + 8 * j, h[j]);
        store_le64(list + 40 * i + 32, size);
    }
    if (rc == PARUS_OK) {
        parus__fingerprint(list, 40 * n_paths, h);
        for (j = 0; j < 4; j++)
            snprintf(hex + 16 * j, 17, "%016llx", (unsigned long long)h[j]);
    }
    free(list);
    free(buf);
    return rc;
}

/* ---- dates ---- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

static int digits(const char *s, int n)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool parus__parse_date(const char *s, char out[11])
{
    int y, m, d;
    if (!s)
        return false;
    y = digits(s, 4);
    if (y < 0)
        return false;
    if (s[4] == '-') {
        m = digits(s + 5, 2);
        d = s[7] == '-' ? digits(s + 8, 2) : -1;
    } else {
        m = digits(s + 4, 2);
        d = m >= 0 ? digits(s + 6, 2) : -1;
    }
    if (m < 0 || d < 0 || !valid_ymd(y, m, d))
        return false;
    /* y, m and d are checked above: four, two and two digits */
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return true;
}

bool parus__find_date(const char *s, char out[11])
{
    size_t i, n = s ? strlen(s) : 0;
    for (i = 0; i + 8 <= n; i++) {
        if (i > 0 && isdigit((unsigned char)s[i - 1]))
            continue;
        if (!parus__parse_date(s + i, out))
            continue;
        /* reject a date glued to more digits (a longer number is not a date) */
        {
            size_t len = s[i + 4] == '-' ? 10 : 8;
            if (i + len < n && isdigit((unsigned char)s[i + len]))
                continue;
        }
        return true;
    }
    return false;
}

int64_t parus__date_days(const char date[11])
{
    /* days from civil (Howard Hinnant's algorithm) */
    int64_t y = digits(date, 4), m = digits(date + 5, 2), d = digits(date + 8, 2);
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void parus__civil_from_days(int64_t day, int64_t *y, int *m, int *d)
{
    /* civil from days (Howard Hinnant's algorithm), proleptic Gregorian */
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void parus__format_day(int64_t day, char out[11])
{
    int64_t y;
    int m, d;
    parus__civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        snprintf(out, 11, "%s", "0000-00-00");
    else
        snprintf(out, 11, "%04d-%02d-%02d", (int)y, m, d);
}

/* ---- numbers in the C locale ---- */

static once_flag c_locale_once = ONCE_FLAG_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

double parus__strtod_c(const char *s, char **end)
{
    locale_t old;
    double v;
    call_once(&c_locale_once, c_locale_init);
    if (!c_locale)
        return strtod(s, end);
    old = uselocale(c_locale);
    v = strtod(s, end);
    uselocale(old);
    return v;
}

bool parus__parse_decimal(const char *s, double *out)
{
    const char *p = s;
    char *end;
    size_t digits = 0;
    double v;
    if (*p == '+' || *p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        size_t exp_digits = 0;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        while (*p >= '0' && *p <= '9')
            p++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    if (*p != '\0')
        return false;
    errno = 0;
    v = parus__strtod_c(s, &end);
    if (*end != '\0' || !isfinite(v) || (errno == ERANGE) || (v != 0.0 && !isnormal(v)))
        return false;
    *out = v;
    return true;
}

/* The whole file, checked before inih sees it: inih cuts a line longer than its buffer
 * (INI_MAX_LINE) and reads the rest as another line, which could shorten a path without a word;
 * a NUL byte would end the text early. Either is an error naming the line. */
parus_status parus__read_ini_text(const char *path, const char *what, char **out, parus_error *err)
{
    enum { MAX_BYTES = 1 << 20, MAX_LINE = PARUS__INI_MAX_LINE };
    FILE *f;
    struct stat sb;
    char *buf;
    size_t n = 0, line = 1, col = 0, cap;
    int c;

    /* a directory, a device or a pipe is no configuration: never read as an empty one */
    if (stat(path, &sb) != 0)
        return parus_fail(err, PARUS_E_IO, "cannot read %s '%s': %s", what, path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return parus_fail(err, PARUS_E_CONFIG, "%s '%s' is %s, not a file", what, path,
                          S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
    if (!(f = fopen(path, "rb")))
        return parus_fail(err, PARUS_E_IO, "cannot read %s '%s': %s", what, path, strerror(errno));
    /* 4 KiB, doubled as the text needs it: a policy is a few hundred bytes, and 1 MiB for each
     * read made the fuzz targets spend most of their time in the allocator */
    cap = 4096;
    if (!(buf = malloc(cap))) {
        fclose(f);
        return parus_fail(err, PARUS_E_NOMEM, "cannot allocate the %s", what);
    }
    while ((c = getc(f)) != EOF) {
        if (n == MAX_BYTES || c == '\0' || (c != '\n' && c != '\r' && ++col > MAX_LINE)) {
            parus_status rc =
                n == MAX_BYTES
                    ? parus_fail(err, PARUS_E_CONFIG, "'%s': longer than %d bytes", path, MAX_BYTES)
                : c == '\0'
                    ? parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: a NUL byte", path, line)
                    : parus_fail(err, PARUS_E_CONFIG, "'%s' line %zu: longer than %d characters",
                                 path, line, MAX_LINE);
            free(buf);
            fclose(f);
            return rc;
        }
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (n + 1 >= cap) {
            size_t grown = cap * 2 > MAX_BYTES + 1 ? MAX_BYTES + 1 : cap * 2;
            char *nb = realloc(buf, grown);
            if (!nb) {
                free(buf);
                fclose(f);
                return parus_fail(err, PARUS_E_NOMEM, "cannot allocate the %s", what);
            }
            buf = nb;
            cap = grown;
        }
        buf[n++] = (char)c;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return parus_fail(err, PARUS_E_IO, "cannot read %s '%s': %s", what, path, strerror(e));
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    return PARUS_OK;
}

/*
 * nightly.c - the nightly job over an inbox (contract in include/parus/nightly.h, operations in
 * docs/operations.md).
 *
 * Workload: an inbox of tens to a few thousand entries a night, each tile hundreds of MB; the
 * time goes into parus_ingest_tile, so the bookkeeping here is simple and linear (grouping is
 * quadratic in the number of loose band files, which is fine for thousands). A tile is opened
 * (no pixels read) and fingerprinted once to learn its date, shard and whether it is known, then
 * ingested, which opens and fingerprints it again: a second read of the bytes (0.1 s for a
 * 394 MB tile) in exchange for never holding hundreds of tiles open. Weather files (a few, tens
 * of MB) are told from tiles at the scan (parus_weather_file_kind_of: a GeoTIFF is opened for its
 * metadata), fingerprinted to know them, and imported whole by parus_weather_import, which
 * fingerprints them again.
 *
 * Invariants that make a kill -9 harmless: the store is written only through parus_ingest_tile
 * (one transaction per tile), parus_weather_import (one per weather file), the parcels' weather
 * weights (one per grid, recomputed by every run for what lacks them), the season's state, the
 * assessment (one transaction) and the run record; a tile or weather file leaves the inbox only
 * after its transaction committed (or after it was found already stored), by rename within one
 * file system; a quarantined file's reason file is in place before the file is moved next to
 * it. The assessment is owed from the transaction of the first tile of its window until the
 * transaction of its results (season_state, docs/store.md): whatever a kill interrupts, the next
 * run sees the season stale and assesses it, even with nothing new.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "parus/classify.h"
#include "parus/ingest.h"
#include "parus/nightly.h"
#include "outfile_int.h"
#include "parus/raster.h"
#include "parus/season.h"
#include "parus/weather.h"
#include "util_int.h"
#include "weather_int.h"

/* ---- small helpers ---- */

static double now_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && parus__strcasecmp(s + n - m, suffix) == 0;
}

static bool is_tif_name(const char *name)
{
    return ends_with_ci(name, ".tif") || ends_with_ci(name, ".tiff");
}

/* A name that says weather whatever its content (parus_weather_file_kind_of): netCDF, GRIB, and
 * the station CSVs (whose header then decides). */
static bool is_weather_name(const char *name)
{
    static const char *const exts[] = {".nc",    ".nc4", ".netcdf", ".cdf",  ".grib", ".grib1",
                                       ".grib2", ".grb", ".grb1",   ".grb2", ".csv"};
    size_t i;
    for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (ends_with_ci(name, exts[i]))
            return true;
    return false;
}

static bool contains_ci(const char *s, const char *part)
{
    size_t j, k, n = strlen(s), m = strlen(part);
    for (j = 0; j + m <= n; j++) {
        for (k = 0; k < m && (s[j + k] | 0x20) == part[k]; k++)
            ;
        if (k == m)
            return true;
    }
    return false;
}

enum transfer { NOT_TRANSFER, TRANSFER_TILE, TRANSFER_WEATHER };

/* What a hidden name that a transfer writes into holds: ".X.tif.Ab3xZ" a tile, ".era5.nc.tmp" a
 * weather file (lower-case parts: the comparison folds the name only). */
static enum transfer transfer_kind(const char *name)
{
    if (contains_ci(name, ".tif"))
        return TRANSFER_TILE;
    if (contains_ci(name, ".nc") || contains_ci(name, ".grib") || contains_ci(name, ".grb"))
        return TRANSFER_WEATHER;
    return NOT_TRANSFER;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- the log: key=value lines ---- */

struct line {
    char s[8192];
    size_t n;
};

static void line_raw(struct line *l, const char *s, size_t n)
{
    if (l->n + n >= sizeof l->s)
        n = sizeof l->s - 1 - l->n;
    memcpy(l->s + l->n, s, n);
    l->n += n;
    l->s[l->n] = '\0';
}

/* key=value, the value quoted when a reader splitting on spaces and '=' would misread it */
static void line_kv(struct line *l, const char *key, const char *value)
{
    const char *p;
    bool quote = !*value;
    if (l->n)
        line_raw(l, " ", 1);
    line_raw(l, key, strlen(key));
    line_raw(l, "=", 1);
    for (p = value; *p && !quote; p++)
        quote = *p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20 ||
                *p == 0x7f;
    if (!quote) {
        line_raw(l, value, strlen(value));
        return;
    }
    line_raw(l, "\"", 1);
    for (p = value; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = *p;
            line_raw(l, esc, 2);
        } else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            int k = snprintf(esc, sizeof esc, "\\x%02x", (unsigned)(unsigned char)*p);
            line_raw(l, esc, (size_t)k);
        } else {
            line_raw(l, p, 1);
        }
    }
    line_raw(l, "\"", 1);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
line_kvf(struct line *l, const char *key, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    line_kv(l, key, v);
}

/* ---- options, shards ---- */

void parus_nightly_options_init(parus_nightly_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->settle_s = PARUS_NIGHTLY_SETTLE_S_DEFAULT;
}

parus_status parus_nightly_shard_parse(const char *s, unsigned *index, unsigned *count,
                                       parus_error *err)
{
    char *end;
    unsigned long i, n;
    if (!s || !*s || *s == '-' || *s == '+')
        goto bad;
    errno = 0;
    i = strtoul(s, &end, 10);
    if (end == s || *end != '/' || errno)
        goto bad;
    s = end + 1;
    if (!*s || *s == '-' || *s == '+')
        goto bad;
    n = strtoul(s, &end, 10);
    if (end == s || *end || errno || n < 1 || n > 65536 || i >= n)
        goto bad;
    *index = (unsigned)i;
    *count = (unsigned)n;
    return PARUS_OK;
bad:
    return parus_fail(err, PARUS_E_INVALID,
                      "bad shard '%s': expected I/N with 0 <= I < N <= 65536, e.g. 0/4",
                      s ? s : "");
}

unsigned parus_nightly_shard_of(const char *hash_hex, unsigned count)
{
    uint64_t v = 0;
    size_t k;
    if (count <= 1 || !hash_hex)
        return 0;
    for (k = 0; k < 16 && hash_hex[k]; k++) {
        char c = hash_hex[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 0;
        v = (v << 4) | d;
    }
    return (unsigned)(v % count);
}

/* A tile that cannot be opened has no fingerprint: its shard comes from its name (FNV-1a), so
 * that exactly one shard sets it aside. */
static unsigned shard_of_name(const char *name, unsigned count)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p;
    if (count <= 1)
        return 0;
    for (p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (unsigned)(h % count);
}

/* ---- scene keys ---- */

static bool token_is(const char *t, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n)
        return false;
    for (i = 0; i < n; i++) {
        char a = t[i], b = word[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (a != b)
            return false;
    }
    return true;
}

static bool is_band_token(const char *t, size_t n)
{
    static const char *const words[] = {"SCL", "CMASK", "BQA", "MASK", "QA"};
    size_t i;
    if (n >= 2 && n <= 4 && (t[0] == 'B' || t[0] == 'b')) {
        size_t d = 1;
        while (d < n && t[d] >= '0' && t[d] <= '9')
            d++;
        if (d >= 2 && d <= 3 && (d == n || (d + 1 == n && (t[d] == 'A' || t[d] == 'a'))))
            return true;
    }
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (token_is(t, n, words[i]))
            return true;
    return false;
}

static bool is_delim(char c)
{
    return c == '_' || c == '-' || c == '.' || c == ' ';
}

bool parus_nightly_scene_key(const char *name, char *key, size_t key_size)
{
    size_t len, i = 0, used = 0, n_band = 0;
    const char *dot;

    if (!name || !key || key_size == 0)
        return false;
    len = strlen(name);
    dot = strrchr(name, '.');
    if (dot && is_tif_name(name))
        len = (size_t)(dot - name);
    key[0] = '\0';
    while (i < len) {
        size_t j = i, k, m;
        while (j < len && !is_delim(name[j]))
            j++;
        /* "SR_B4", "ST_B10", "QA_PIXEL": a two-token band name */
        k = j < len ? j + 1 : j;
        m = k;
        while (m < len && !is_delim(name[m]))
            m++;
        if (j - i > 0 && j < len && name[j] == '_' &&
            (((token_is(name + i, j - i, "SR") || token_is(name + i, j - i, "ST")) &&
              is_band_token(name + k, m - k) && name[k] != 'Q' && name[k] != 'q') ||
             (token_is(name + i, j - i, "QA") && m > k))) {
            n_band++;
            if (used + 2 < key_size)
                key[used++] = '*';
            i = m;
        } else if (j > i && is_band_token(name + i, j - i)) {
            n_band++;
            if (used + 2 < key_size)
                key[used++] = '*';
            i = j;
        } else {
            size_t c = j - i;
            if (used + c + 1 < key_size) {
                memcpy(key + used, name + i, c);
                used += c;
            }
            i = j;
        }
        if (i < len) {
            if (used + 2 < key_size)
                key[used++] = name[i];
            i++;
        }
        key[used] = '\0';
    }
    if (n_band != 1) {
        snprintf(key, key_size, "%s", name);
        return false;
    }
    return true;
}

/* ---- the lock ---- */

struct parus_nightly_lock {
    int fd;
    char *path;
};

parus_status parus_nightly_lock_acquire(const char *db_path, parus_nightly_lock **out,
                                        long *dead_pid, parus_error *err)
{
    parus_nightly_lock *lock;
    struct flock fl;
    char buf[32], pid[32];
    ssize_t got;
    long old = 0;
    size_t n;
    char *real;
    parus_status code;

    if (!db_path || !*db_path || !out)
        return parus_fail(err, PARUS_E_INVALID, "lock: no store path given");
    if (dead_pid)
        *dead_pid = 0;
    lock = calloc(1, sizeof *lock);
    if (!lock)
        return parus_fail(err, PARUS_E_NOMEM, "cannot lock '%s'", db_path);
    /* the lock beside the store's real file: two names of one store (a symbolic link, a
     * directory reached two ways) are one lock */
    real = realpath(db_path, NULL);
    n = strlen(real ? real : db_path) + 6;
    lock->path = malloc(n);
    if (!lock->path) {
        free(real);
        code = parus_fail(err, PARUS_E_NOMEM, "cannot lock '%s'", db_path);
        goto out_free;
    }
    snprintf(lock->path, n, "%s.lock", real ? real : db_path);
    free(real);
    lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock->fd < 0) {
        code = parus_fail(err, PARUS_E_IO, "cannot open lock file '%s': %s", lock->path,
                          strerror(errno));
        goto out_free;
    }
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(lock->fd, F_SETLK, &fl) != 0) {
        int e = errno;
        if (e == EACCES || e == EAGAIN) {
            struct flock who;
            memset(&who, 0, sizeof who);
            who.l_type = F_WRLCK;
            who.l_whence = SEEK_SET;
            if (fcntl(lock->fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
                code = parus_fail(err, PARUS_E_BUSY,
                                  "store '%s' is locked by another nightly run (pid %ld, lock "
                                  "file '%s')",
                                  db_path, (long)who.l_pid, lock->path);
            else
                code = parus_fail(err, PARUS_E_BUSY,
                                  "store '%s' is locked by another nightly run (lock file '%s')",
                                  db_path, lock->path);
        } else {
            code = parus_fail(err, PARUS_E_IO, "cannot lock '%s': %s", lock->path, strerror(e));
        }
        goto out_close;
    }
    /* the lock is ours; a pid left in the file is a run that died without releasing it */
    got = pread(lock->fd, buf, sizeof buf - 1, 0);
    if (got > 0) {
        char *end;
        buf[got] = '\0';
        old = strtol(buf, &end, 10);
        if (end != buf && old > 0 && old != (long)getpid() && kill((pid_t)old, 0) != 0 &&
            errno == ESRCH && dead_pid)
            *dead_pid = old;
    }
    n = (size_t)snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, pid, n, 0) != (ssize_t)n) {
        code = parus_fail(err, PARUS_E_IO, "cannot write lock file '%s': %s", lock->path,
                          strerror(errno));
        goto out_close;
    }
    *out = lock;
    return PARUS_OK;

out_close:
    close(lock->fd);
out_free:
    free(lock->path);
    free(lock);
    return code;
}

void parus_nightly_lock_release(parus_nightly_lock *lock)
{
    if (!lock)
        return;
    /* an empty file tells the next run that this one ended cleanly; closing drops the lock */
    if (ftruncate(lock->fd, 0) != 0)
        (void)0;
    close(lock->fd);
    free(lock->path);
    free(lock);
}

/* ---- the inbox ---- */

enum item_state { ITEM_PENDING, ITEM_NOT_READY, ITEM_OTHER_SHARD, ITEM_DONE };

struct item {
    char *name;   /* for the log: the path of the file or directory, or INBOX/<scene key> */
    char **paths; /* the tile's files (a directory tile: the directory) */
    size_t n_paths;
    bool is_dir;
    bool grouped; /* loose band files gathered under a scene key */
    bool weather; /* a weather file (one path), imported as `parus weather import` does */
    parus_weather_file_kind wkind;
    char *key;    /* the scene key of a group */
    char why[96]; /* why it is not ready */
    enum item_state state;
    char date[11];
    char hash[65];
};

struct run {
    const parus_nightly_options *opt;
    parus_store *store;
    parus_nightly_stats *st;
    char *quarantine; /* resolved directory */
    char **names;     /* the inbox's entries, sorted */
    size_t n_names;
    struct item *items;
    size_t n_items, cap_items;
    time_t now;
    dev_t inbox_dev;
    struct stat done_sb, quar_sb;
    bool have_done;
    int64_t run_id;
    char season[PARUS_SEASON_WINDOW_TEXT]; /* the season tracked, canonical; "" none */
};

static void checkpoint(const struct run *r, const char *where)
{
    if (r->opt->checkpoint)
        r->opt->checkpoint(r->opt->checkpoint_ctx, where);
}

static void run_log(struct run *r, parus_log_level level, struct line *l)
{
    if (r->opt->log)
        r->opt->log(r->opt->log_ctx, level, l->s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void item_release(struct item *it)
{
    size_t i;
    for (i = 0; i < it->n_paths; i++)
        free(it->paths[i]);
    free(it->paths);
    free(it->name);
    free(it->key);
}

static struct item *item_new(struct run *r)
{
    struct item *it;
    if (r->n_items == r->cap_items) {
        size_t cap = r->cap_items ? 2 * r->cap_items : 32;
        struct item *n = realloc(r->items, cap * sizeof *n);
        if (!n)
            return NULL;
        r->items = n;
        r->cap_items = cap;
    }
    it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    return it;
}

static parus_status item_add_path(struct item *it, const char *path, parus_error *err)
{
    char **n = realloc(it->paths, (it->n_paths + 1) * sizeof *n);
    if (!n)
        return parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
    it->paths = n;
    it->paths[it->n_paths] = parus__strdup(path);
    if (!it->paths[it->n_paths])
        return parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
    it->n_paths++;
    return PARUS_OK;
}

/* Changed within the settle time (or in the future): still being written. ctime counts too,
 * because a copy that keeps the original mtime (cp -p, rsync -t) still sets it. */
static bool is_recent(const struct run *r, const struct stat *sb)
{
    time_t t = sb->st_mtime > sb->st_ctime ? sb->st_mtime : sb->st_ctime;
    return (double)(r->now - t) < r->opt->settle_s;
}

static bool is_own_dir(const struct run *r, const struct stat *sb)
{
    if (r->have_done && sb->st_dev == r->done_sb.st_dev && sb->st_ino == r->done_sb.st_ino)
        return true;
    return sb->st_dev == r->quar_sb.st_dev && sb->st_ino == r->quar_sb.st_ino;
}

static void set_not_ready(struct item *it, const char *why)
{
    if (it->state != ITEM_NOT_READY)
        snprintf(it->why, sizeof it->why, "%s", why);
    it->state = ITEM_NOT_READY;
}

/* A per-scene directory: ready when it holds tile files, none of them partial or recent. */
static parus_status scan_dir(struct run *r, struct item *it, const char *path,
                             const struct stat *dsb, parus_error *err)
{
    DIR *d = opendir(path);
    struct dirent *e;
    size_t n_tif = 0;
    if (!d)
        return parus_fail(err, PARUS_E_IO, "cannot read scene directory '%s': %s", path,
                          strerror(errno));
    if (is_recent(r, dsb))
        set_not_ready(it, "changed within the settle time");
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        char *p;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (ends_with_ci(e->d_name, ".part")) {
            set_not_ready(it, "a .part file inside");
            continue;
        }
        if (e->d_name[0] == '.') {
            if (strstr(e->d_name, ".tif") || strstr(e->d_name, ".TIF"))
                set_not_ready(it, "a hidden file being written inside");
            continue;
        }
        p = path_join(path, e->d_name);
        if (!p) {
            closedir(d);
            return parus_fail(err, PARUS_E_NOMEM, "cannot list '%s'", path);
        }
        if (stat(p, &sb) == 0) {
            if (is_recent(r, &sb))
                set_not_ready(it, "changed within the settle time");
            if (S_ISREG(sb.st_mode) && is_tif_name(e->d_name))
                n_tif++;
        }
        free(p);
    }
    closedir(d);
    if (n_tif == 0 && it->state != ITEM_NOT_READY)
        set_not_ready(it, "no tile file inside yet");
    return PARUS_OK;
}

static struct item *find_group(struct run *r, const char *key)
{
    size_t i;
    for (i = 0; i < r->n_items; i++)
        if (r->items[i].grouped && strcmp(r->items[i].key, key) == 0)
            return &r->items[i];
    return NULL;
}

/* The item a loose tile file belongs to: its scene group, or one of its own. */
static struct item *item_for_file(struct run *r, const char *name, parus_error *err)
{
    char key[1024], disp[4200];
    struct item *it;
    bool grouped = parus_nightly_scene_key(name, key, sizeof key);
    if (grouped) {
        it = find_group(r, key);
        if (it)
            return it;
    }
    it = item_new(r);
    if (!it) {
        parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
        return NULL;
    }
    it->grouped = grouped;
    if (grouped) {
        snprintf(disp, sizeof disp, "%s/%s", r->opt->inbox, key);
        it->key = parus__strdup(key);
    } else {
        snprintf(disp, sizeof disp, "%s/%s", r->opt->inbox, name);
    }
    it->name = parus__strdup(disp);
    if (!it->name || (grouped && !it->key)) {
        parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
        return NULL;
    }
    return it;
}

/* "X.tif.aux.xml", "X.tif.ovr", "X.nc.aux.xml": GDAL's side files of a tile or a weather file;
 * they travel with it. */
static bool is_sidecar_name(const struct run *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_names; i++) {
        size_t n = strlen(r->names[i]);
        if ((is_tif_name(r->names[i]) || is_weather_name(r->names[i])) &&
            strncmp(name, r->names[i], n) == 0 && name[n] == '.')
            return true;
    }
    return false;
}

/* A weather file: an item of its own, never grouped with band files. */
static parus_status weather_item(struct run *r, const char *path, parus_weather_file_kind kind,
                                 const struct stat *sb, parus_error *err)
{
    struct item *it = item_new(r);
    if (!it)
        return parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
    it->weather = true;
    it->wkind = kind;
    it->name = parus__strdup(path);
    if (!it->name)
        return parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
    if (is_recent(r, sb))
        set_not_ready(it, "changed within the settle time");
    return item_add_path(it, path, err);
}

static parus_status scan_inbox(struct run *r, parus_error *err)
{
    DIR *d;
    struct dirent *e;
    size_t cap = 0, i;
    parus_status code = PARUS_OK;
    struct line l;

    d = opendir(r->opt->inbox);
    if (!d)
        return parus_fail(err, PARUS_E_IO, "cannot read inbox '%s': %s", r->opt->inbox,
                          strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (r->n_names == cap) {
            size_t c = cap ? 2 * cap : 64;
            char **n = realloc(r->names, c * sizeof *n);
            if (!n) {
                closedir(d);
                return parus_fail(err, PARUS_E_NOMEM, "cannot list inbox '%s'", r->opt->inbox);
            }
            r->names = n;
            cap = c;
        }
        r->names[r->n_names] = parus__strdup(e->d_name);
        if (!r->names[r->n_names]) {
            closedir(d);
            return parus_fail(err, PARUS_E_NOMEM, "cannot list inbox '%s'", r->opt->inbox);
        }
        r->n_names++;
    }
    closedir(d);
    if (r->n_names)
        qsort(r->names, r->n_names, sizeof *r->names, cmp_str);

    for (i = 0; i < r->n_names && code == PARUS_OK; i++) {
        const char *name = r->names[i];
        char *path = path_join(r->opt->inbox, name);
        struct stat sb;
        struct item *it;
        parus_weather_file_kind wkind = PARUS_WEATHER_FILE_NONE;
        bool ignored = false;
        if (!path)
            return parus_fail(err, PARUS_E_NOMEM, "cannot list inbox '%s'", r->opt->inbox);
        if (stat(path, &sb) != 0) { /* gone since the listing, or a dangling link */
            free(path);
            continue;
        }
        if (S_ISDIR(sb.st_mode) && is_own_dir(r, &sb)) {
            free(path);
            continue;
        }
        l.n = 0;
        if (name[0] == '.') {
            /* rsync and friends write into hidden names before the final rename */
            enum transfer t = transfer_kind(name);
            if (t != NOT_TRANSFER || ends_with_ci(name, ".part")) {
                bool w = t == TRANSFER_WEATHER;
                if (w)
                    r->st->n_weather_seen++;
                else
                    r->st->n_seen++;
                r->st->n_not_ready++;
                line_kv(&l, "event", "not_ready");
                line_kv(&l, w ? "weather" : "tile", path);
                line_kv(&l, "reason", "hidden file, still being written");
                run_log(r, PARUS_LOG_INFO, &l);
            }
        } else if (S_ISDIR(sb.st_mode)) {
            it = item_new(r);
            if (!it)
                code = parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
            else {
                it->is_dir = true;
                it->name = parus__strdup(path);
                if (!it->name)
                    code = parus_fail(err, PARUS_E_NOMEM, "cannot list the inbox");
                if (code == PARUS_OK)
                    code = item_add_path(it, path, err);
                if (code == PARUS_OK)
                    code = scan_dir(r, it, path, &sb, err);
            }
        } else if (S_ISREG(sb.st_mode) && ends_with_ci(name, ".part")) {
            char stem[1024];
            size_t n = strlen(name) - 5;
            if (n < sizeof stem) {
                memcpy(stem, name, n);
                stem[n] = '\0';
            } else {
                stem[0] = '\0';
            }
            if (is_tif_name(stem)) {
                it = item_for_file(r, stem, err);
                if (!it)
                    code = err ? err->code : PARUS_E_NOMEM;
                else
                    set_not_ready(it, "a .part file: still being written");
            } else {
                bool w = is_weather_name(stem);
                if (w)
                    r->st->n_weather_seen++;
                else
                    r->st->n_seen++;
                r->st->n_not_ready++;
                line_kv(&l, "event", "not_ready");
                line_kv(&l, w ? "weather" : "tile", path);
                line_kv(&l, "reason", ".part file, still being written");
                run_log(r, PARUS_LOG_INFO, &l);
            }
        } else if (S_ISREG(sb.st_mode) && (is_tif_name(name) || !is_sidecar_name(r, name))) {
            bool tif = is_tif_name(name);
            /* a .tif is judged once it has settled: its metadata may not be written yet */
            if (!tif || !is_recent(r, &sb))
                wkind = parus_weather_file_kind_of(path);
            if (wkind != PARUS_WEATHER_FILE_NONE) {
                code = weather_item(r, path, wkind, &sb, err);
            } else if (tif) {
                it = item_for_file(r, name, err);
                if (!it)
                    code = err ? err->code : PARUS_E_NOMEM;
                else {
                    code = item_add_path(it, path, err);
                    if (is_recent(r, &sb))
                        set_not_ready(it, "changed within the settle time");
                }
            } else {
                ignored = true;
            }
        } else if (!is_sidecar_name(r, name)) {
            ignored = true;
        }
        if (ignored) {
            r->st->n_ignored++;
            line_kv(&l, "event", "ignored");
            line_kv(&l, "entry", path);
            line_kv(&l, "reason",
                    "not a tile (a .tif/.tiff file or a scene directory) nor a weather file");
            run_log(r, PARUS_LOG_DEBUG, &l);
        }
        free(path);
    }
    if (code != PARUS_OK)
        return code;
    /* a .part file alone makes a group with no file yet */
    for (i = 0; i < r->n_items; i++) {
        struct item *it = &r->items[i];
        if (it->weather)
            r->st->n_weather_seen++;
        else
            r->st->n_seen++;
        if (it->state == ITEM_NOT_READY) {
            r->st->n_not_ready++;
            l.n = 0;
            line_kv(&l, "event", "not_ready");
            line_kv(&l, it->weather ? "weather" : "tile", it->name);
            line_kv(&l, "reason", it->why);
            run_log(r, PARUS_LOG_INFO, &l);
        }
    }
    return PARUS_OK;
}

/* ---- moving tiles out of the inbox ---- */

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            (void)0; /* best effort: some file systems refuse fsync on directories */
        close(fd);
    }
}

/* dir/name, or dir/stem.N.ext when that is taken (a name delivered twice keeps both files). */
static char *free_target(const char *dir, const char *name, parus_error *err)
{
    char *p = path_join(dir, name);
    struct stat sb;
    unsigned k;
    if (!p) {
        parus_fail(err, PARUS_E_NOMEM, "cannot move '%s'", name);
        return NULL;
    }
    for (k = 1; lstat(p, &sb) == 0 && k < 10000; k++) {
        const char *dot = strchr(name, '.');
        size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
        size_t n = strlen(dir) + strlen(name) + 16;
        char *q = malloc(n);
        free(p);
        if (!q) {
            parus_fail(err, PARUS_E_NOMEM, "cannot move '%s'", name);
            return NULL;
        }
        snprintf(q, n, "%s/%.*s.%u%s", dir, (int)stem, name, k, name + stem);
        p = q;
    }
    return p;
}

/* The nightly job reads weather files as they are; one whose unit or variable must be stated is
 * imported by hand (the library's message names the option). */
#define BY_HAND_HINT                                                                               \
    "the nightly job takes weather files as they are: import this one by hand, stating what "      \
    "the message asks (parus weather import --unit NAME=UNIT or --variable NAME=KIND FILE)"

static bool weather_by_hand(const struct item *it, const parus_error *why)
{
    return it->weather && (strstr(why->msg, "--unit") || strstr(why->msg, "--variable"));
}

static parus_status write_reason(const char *target, const struct item *it, const char *file,
                                 const parus_error *why, int64_t run_id, parus_error *err)
{
    size_t n = strlen(target) + 16;
    char *reason = malloc(n);
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    parus_outfile *of;
    parus_status code;

    if (!reason)
        return parus_fail(err, PARUS_E_NOMEM, "cannot set '%s' aside", file);
    snprintf(reason, n, "%s.reason", target);
    if (!gmtime_r(&t, &tm) || strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(now, sizeof now, "1970-01-01T00:00:00Z");
    /* beside its name, fsynced, renamed: a reader never sees half a reason */
    code = parus_outfile_open(reason, &of, err);
    if (code == PARUS_OK) {
        parus_outfile_printf(
            of, NULL,
            "file=%s\ntile=%s\nkind=%s\ncode=%s\nmessage=%s\ntime=%s\nrun_id=%lld\n"
            "parus=%s\n",
            file, it->name, it->weather ? "weather" : "tile", parus_status_name(why->code),
            why->msg, now, (long long)run_id, parus_version());
        if (weather_by_hand(it, why))
            parus_outfile_printf(of, NULL, "hint=%s\n", BY_HAND_HINT);
        code = parus_outfile_commit(of, err);
    }
    free(reason);
    return code;
}

static parus_status move_one(struct run *r, const char *src, const char *dest_dir,
                             const struct item *it, const parus_error *why, parus_error *err)
{
    char *target = free_target(dest_dir, base_name(src), err);
    parus_status code = PARUS_OK;
    size_t i;
    if (!target)
        return err ? err->code : PARUS_E_NOMEM;
    if (why)
        code = write_reason(target, it, src, why, r->run_id, err);
    if (code == PARUS_OK && rename(src, target) != 0) {
        if (errno == ENOENT) /* moved by someone else meanwhile: nothing left to do */
            goto out;
        code = parus_fail(err, PARUS_E_IO, "cannot move '%s' to '%s': %s", src, dest_dir,
                          strerror(errno));
        goto out;
    }
    /* GDAL's side files follow their tile, under the tile's new name */
    if (code == PARUS_OK && !it->is_dir) {
        const char *b = base_name(src);
        const char *tb = base_name(target);
        size_t nb = strlen(b);
        for (i = 0; i < r->n_names; i++) {
            const char *name = r->names[i];
            if (strncmp(name, b, nb) == 0 && name[nb] == '.' && !ends_with_ci(name, ".part")) {
                char *from = path_join(r->opt->inbox, name);
                size_t n = strlen(dest_dir) + strlen(tb) + strlen(name) + 2;
                char *to = malloc(n);
                if (from && to) {
                    snprintf(to, n, "%s/%s%s", dest_dir, tb, name + nb);
                    if (rename(from, to) != 0 && errno != ENOENT)
                        code = parus_fail(err, PARUS_E_IO, "cannot move '%s' to '%s': %s", from,
                                          dest_dir, strerror(errno));
                } else {
                    code = parus_fail(err, PARUS_E_NOMEM, "cannot move '%s'", name);
                }
                free(from);
                free(to);
            }
        }
    }
out:
    free(target);
    return code;
}

/* Move every file of the tile (or its directory) to dest_dir; the directories are synced so
 * that the move survives a power cut as the store's commit does. */
static parus_status move_item(struct run *r, const struct item *it, const char *dest_dir,
                              const parus_error *why, parus_error *err)
{
    size_t i;
    parus_status code = PARUS_OK;
    for (i = 0; i < it->n_paths && code == PARUS_OK; i++)
        code = move_one(r, it->paths[i], dest_dir, it, why, err);
    sync_dir(dest_dir);
    sync_dir(r->opt->inbox);
    return code;
}

/* ---- the run ---- */

/* Errors that belong to the tile set it aside and the run goes on; everything else (the store,
 * memory) stops the run: parus_status_is_input_error. */
static bool is_tile_error(parus_status code)
{
    return parus_status_is_input_error(code);
}

static void progress(struct run *r, size_t done, size_t total)
{
    if (r->opt->progress)
        r->opt->progress(r->opt->progress_ctx, done, total);
}

static parus_status quarantine(struct run *r, struct item *it, const parus_error *why,
                               parus_error *err)
{
    struct line l = {.n = 0};
    parus_status code = move_item(r, it, r->quarantine, why, err);
    if (code != PARUS_OK)
        return code;
    it->state = ITEM_DONE;
    if (it->weather)
        r->st->n_weather_quarantined++;
    else
        r->st->n_quarantined++;
    line_kv(&l, "event", it->weather ? "weather" : "tile");
    line_kv(&l, it->weather ? "weather" : "tile", it->name);
    line_kv(&l, "outcome", "quarantined");
    line_kv(&l, "code", parus_status_name(why->code));
    line_kv(&l, "reason", why->msg);
    line_kv(&l, "to", r->quarantine);
    if (weather_by_hand(it, why))
        line_kv(&l, "hint", BY_HAND_HINT);
    run_log(r, PARUS_LOG_WARN, &l);
    return PARUS_OK;
}

static parus_status move_done(struct run *r, struct item *it, parus_error *err)
{
    parus_status code;
    if (!r->have_done)
        return PARUS_OK;
    code = move_item(r, it, r->opt->done_dir, NULL, err);
    if (code == PARUS_OK)
        r->st->n_moved++;
    return code;
}

/* Open and fingerprint a ready tile: date, hash, shard, and whether the store has it. */
/* True when the done directory holds files of this scene: a group is moved there only after its
 * tile committed, so band files of a committed scene still in the inbox are the rest of a move a
 * crash interrupted, not a new scene. */
static bool done_has_scene(const struct run *r, const char *key)
{
    DIR *d;
    struct dirent *e;
    char other[1024];
    bool found = false;

    if (!r->have_done || !key)
        return false;
    d = opendir(r->opt->done_dir);
    if (!d)
        return false;
    while (!found && (e = readdir(d)) != NULL)
        found = parus_nightly_scene_key(e->d_name, other, sizeof other) && strcmp(other, key) == 0;
    closedir(d);
    return found;
}

/* A tile this run settles without opening or storing it: one log line, and it is done. */
static void settle_tile(struct run *r, struct item *it, parus_log_level level, const char *outcome,
                        const char *note)
{
    struct line l = {.n = 0};
    line_kv(&l, "event", "tile");
    line_kv(&l, "tile", it->name);
    line_kv(&l, "outcome", outcome);
    line_kv(&l, "note", note);
    run_log(r, level, &l);
    it->state = ITEM_DONE;
}

static parus_status complete_move(struct run *r, struct item *it, parus_error *err)
{
    settle_tile(r, it, PARUS_LOG_WARN, "moved",
                "rest of a scene already stored, left by an interrupted run");
    return move_done(r, it, err);
}

static parus_status add_tile_files(struct item *it, const parus_tile *tile, parus_error *err)
{
    const char *const *files;
    size_t n, i, j;
    files = parus_tile_files(tile, &n);
    for (i = 0; i < n; i++) {
        bool have = false;
        for (j = 0; j < it->n_paths && !have; j++)
            have = strcmp(it->paths[j], files[i]) == 0;
        if (!have) {
            parus_status code = item_add_path(it, files[i], err);
            if (code != PARUS_OK)
                return code;
        }
    }
    return PARUS_OK;
}

/* True when a file of the item is no longer where the scan found it. Runs of other shards over
 * the same inbox move their own tiles to done while this one works through the listing, so a tile
 * that cannot be opened because it is gone was taken, not bad: nothing is set aside (a reason file
 * would stand for a file that is not there, and the run would exit 8). */
static bool item_gone(const struct item *it)
{
    struct stat sb;
    size_t i;
    for (i = 0; i < it->n_paths; i++)
        if (lstat(it->paths[i], &sb) != 0 && errno == ENOENT)
            return true;
    return false;
}

static parus_status gone(struct run *r, struct item *it)
{
    settle_tile(r, it, PARUS_LOG_INFO, "gone", "no longer in the inbox: taken by another run");
    return PARUS_OK;
}

static parus_status inspect(struct run *r, struct item *it, bool *known, parus_error *err)
{
    parus_tile_options topt = {0};
    parus_tile *tile;
    parus_tile_record rec;
    parus_error terr;
    parus_status code;
    unsigned count = r->opt->shard_count;

    *known = false;
    topt.band_map = r->opt->band_map;
    topt.band_map_generic_only = r->opt->band_map_generic_only;
    parus_error_init(&terr);
    code = parus_tile_open((const char *const *)it->paths, it->n_paths, &topt, &tile, &terr);
    if (code == PARUS_OK) {
        memcpy(it->date, parus_tile_get_info(tile)->date, sizeof it->date);
        code = parus_tile_content_hash(tile, it->hash, &terr);
        /* the tile may use files the scan did not group with it (a Landsat _MTL.txt): they
         * belong to it, are part of its fingerprint, and must move with it */
        if (code == PARUS_OK && !it->is_dir)
            code = add_tile_files(it, tile, &terr);
        /* Band files of a scene whose other files are in the done directory may be the rest of a
         * move a crash interrupted (a scene moves only after its tile committed): so they are
         * when the store holds that acquisition (its sensor, date and grid) in other bytes; they
         * are not when it holds none (a store restored from a backup, files copied back) or
         * another date (band files whose names carry no date, reused every delivery) */
        if (code == PARUS_OK && it->grouped && done_has_scene(r, it->key)) {
            const parus_tile_info *ti = parus_tile_get_info(tile);
            parus_tile_record stored;
            bool rest = false;
            memset(&rec, 0, sizeof rec);
            memcpy(rec.hash, it->hash, sizeof rec.hash);
            snprintf(rec.sensor, sizeof rec.sensor, "%s", ti->sensor_name);
            memcpy(rec.date, ti->date, sizeof rec.date);
            rec.epsg = ti->epsg;
            rec.width = ti->width;
            rec.height = ti->height;
            memcpy(rec.geotransform, ti->geotransform, sizeof rec.geotransform);
            rec.lon_min_deg = ti->lon_min_deg;
            rec.lat_min_deg = ti->lat_min_deg;
            rec.lon_max_deg = ti->lon_max_deg;
            rec.lat_max_deg = ti->lat_max_deg;
            code = parus_store_find_same_acquisition(r->store, &rec, &stored, &rest, err);
            parus_tile_free(tile);
            if (code != PARUS_OK)
                return code;
            if (rest)
                return complete_move(r, it, err);
            tile = NULL;
        }
        parus_tile_free(tile);
    }
    if (code != PARUS_OK) {
        if (!is_tile_error(code)) {
            if (err)
                *err = terr;
            return code;
        }
        if (item_gone(it))
            return gone(r, it);
        /* no fingerprint: the shard comes from the name, without the inbox's mount point, so
         * hosts that mount the inbox at different paths agree */
        if (count > 1 && shard_of_name(it->grouped ? it->key : base_name(it->name), count) !=
                             r->opt->shard_index) {
            it->state = ITEM_OTHER_SHARD;
            r->st->n_other_shard++;
            return PARUS_OK;
        }
        return quarantine(r, it, &terr, err);
    }
    if (count > 1 && parus_nightly_shard_of(it->hash, count) != r->opt->shard_index) {
        it->state = ITEM_OTHER_SHARD;
        r->st->n_other_shard++;
        return PARUS_OK;
    }
    code = parus_store_find_tile(r->store, it->hash, &rec, known, err);
    return code;
}

/* Fingerprint a ready weather file: whether the store has it. A sharded run leaves weather
 * alone: shard stores are combined by store merge, which copies no weather, so weather stored in
 * a shard would never reach the merged store. */
static parus_status inspect_weather(struct run *r, struct item *it, bool *known, parus_error *err)
{
    parus_error ferr;
    parus_status code;

    *known = false;
    if (r->opt->shard_count > 1) {
        struct line l = {.n = 0};
        it->state = ITEM_DONE;
        r->st->n_weather_left++;
        line_kv(&l, "event", "weather");
        line_kv(&l, "weather", it->name);
        line_kv(&l, "outcome", "left");
        line_kv(&l, "note",
                "a sharded run leaves weather files in the inbox (store merge copies no "
                "weather): import them into the merged store, with parus weather import or a "
                "nightly run without --shard");
        run_log(r, PARUS_LOG_WARN, &l);
        return PARUS_OK;
    }
    parus_error_init(&ferr);
    code = parus__fingerprint_files((const char *const *)it->paths, 1, it->hash, &ferr);
    if (code != PARUS_OK) {
        if (!is_tile_error(code)) {
            if (err)
                *err = ferr;
            return code;
        }
        return quarantine(r, it, &ferr, err);
    }
    return parus__store_weather_known(r->store, it->hash, known, err);
}

static void weather_known_line(struct run *r, const struct item *it, const char *note)
{
    struct line l = {.n = 0};
    line_kv(&l, "event", "weather");
    line_kv(&l, "weather", it->name);
    line_kv(&l, "outcome", "known");
    line_kv(&l, "format", parus_weather_file_kind_name(it->wkind));
    line_kvf(&l, "hash", "%.16s", it->hash);
    if (note)
        line_kv(&l, "note", note);
    run_log(r, PARUS_LOG_INFO, &l);
}

/* One weather file through parus_weather_import's path: one transaction; a file the store holds
 * already (a copy earlier in this inbox) stores nothing; a file that cannot be used, or that
 * disagrees with stored weather (E_DUPLICATE), is set aside with nothing of it stored. */
static parus_status import_weather(struct run *r, struct item *it, parus_error *err)
{
    parus_weather_import_stats ws;
    parus_error werr;
    parus_status code;
    struct line l = {.n = 0};
    double t0 = now_mono_s();

    parus_error_init(&werr);
    code = parus__weather_import(r->store, it->paths[0], NULL, r->opt->checkpoint,
                                 r->opt->checkpoint_ctx, &ws, &werr);
    if (code != PARUS_OK) {
        if (!is_tile_error(code) && code != PARUS_E_DUPLICATE) {
            if (err)
                *err = werr;
            return code;
        }
        return quarantine(r, it, &werr, err);
    }
    it->state = ITEM_DONE;
    if (ws.already) {
        r->st->n_weather_known++;
        weather_known_line(r, it, "the same content earlier in this inbox");
    } else {
        r->st->n_weather_stored++;
        r->st->n_weather_values += ws.n_values;
        line_kv(&l, "event", "weather");
        line_kv(&l, "weather", it->name);
        line_kv(&l, "outcome", "stored");
        line_kv(&l, "format", parus_weather_file_kind_name(it->wkind));
        line_kv(&l, "first_day", ws.first_day);
        line_kv(&l, "last_day", ws.last_day);
        line_kvf(&l, "values", "%zu", ws.n_values);
        line_kvf(&l, "same", "%zu", ws.n_same);
        line_kvf(&l, "grid_id", "%lld", (long long)ws.grid_id);
        line_kvf(&l, "gap_days", "%zu", ws.n_gap_days);
        if (ws.n_gap_days)
            line_kv(&l, "first_gap", ws.first_gap_day);
        line_kvf(&l, "seconds", "%.2f", now_mono_s() - t0);
        line_kvf(&l, "hash", "%.16s", it->hash);
        if (ws.n_gap_days)
            line_kv(&l, "note", "days with no value are left missing, not filled");
        run_log(r, ws.n_gap_days ? PARUS_LOG_WARN : PARUS_LOG_INFO, &l);
        checkpoint(r, "weather:stored");
    }
    /* only now, with the file committed (or found stored), may it leave the inbox */
    code = move_done(r, it, err);
    if (code == PARUS_OK)
        checkpoint(r, "weather:moved");
    return code;
}

/* Days between a grid's files that no file covers: missing, not dry (as `parus weather import`
 * says them). */
static int log_weather_span(const parus_weather_span *sp, void *ctx)
{
    struct run *r = ctx;
    struct line l = {.n = 0};
    if (!sp->n_uncovered_days)
        return 0;
    line_kv(&l, "event", "weather_gap");
    line_kvf(&l, "grid_id", "%lld", (long long)sp->grid_id);
    line_kv(&l, "variable", parus_weather_var_name(sp->var));
    line_kv(&l, "first_day", sp->first_day);
    line_kv(&l, "last_day", sp->last_day);
    line_kvf(&l, "uncovered_days", "%zu", sp->n_uncovered_days);
    line_kv(&l, "first_uncovered", sp->first_uncovered);
    line_kv(&l, "note", "days that no file covers are missing, not filled");
    run_log(r, PARUS_LOG_WARN, &l);
    return 0;
}

/* Every parcel's weights on every stored grid, as `parus weather import` computes them after
 * its files: a grid stored by this run, a run killed between a file's commit and its weights,
 * and parcels loaded since, are weighed here. Nothing to do (one query) without weather. */
static parus_status weigh_parcels(struct run *r, parus_error *err)
{
    parus_weather_weight_stats ws;
    struct line l = {.n = 0};
    parus_status code;
    double t0 = now_mono_s();
    size_t k;

    if (r->st->n_weather_stored) {
        code = parus_store_weather_spans(r->store, log_weather_span, r, err);
        if (code != PARUS_OK)
            return code;
    }
    code = parus_weather_weights_update(r->store, &ws, err);
    if (code != PARUS_OK || ws.n_grids == 0)
        return code;
    line_kv(&l, "event", "weather_weights");
    line_kvf(&l, "grids", "%zu", ws.n_grids);
    line_kvf(&l, "computed", "%zu", ws.n_computed);
    line_kvf(&l, "kept", "%zu", ws.n_kept);
    line_kvf(&l, "uncovered", "%zu", ws.n_uncovered);
    if (ws.n_uncovered) {
        char first[5 * 66] = "";
        size_t used = 0;
        for (k = 0; k < ws.n_uncovered && k < 5; k++) {
            int n =
                snprintf(first + used, sizeof first - used, "%s%s", k ? " " : "", ws.uncovered[k]);
            if (n < 0 || (size_t)n >= sizeof first - used)
                break;
            used += (size_t)n;
        }
        line_kv(&l, "first_uncovered", first);
        line_kv(&l, "note", "parcels no weather grid covers get no weather values");
    }
    line_kvf(&l, "seconds", "%.2f", now_mono_s() - t0);
    run_log(r, ws.n_uncovered && ws.n_computed ? PARUS_LOG_WARN : PARUS_LOG_INFO, &l);
    checkpoint(r, "weather:weighed");
    return PARUS_OK;
}

static int cmp_item_date(const void *a, const void *b)
{
    const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
    int c = strcmp(x->date, y->date);
    return c ? c : strcmp(x->name, y->name);
}

static parus_status ingest_one(struct run *r, struct item *it, parus_error *err)
{
    parus_ingest_options iopt = {0};
    parus_ingest_result res;
    parus_error terr;
    parus_status code;
    struct line l = {.n = 0};
    double t0 = now_mono_s();
    const char *outcome;

    iopt.band_map = r->opt->band_map;
    iopt.band_map_generic_only = r->opt->band_map_generic_only;
    iopt.no_cloud_mask_ok = r->opt->no_cloud_mask_ok;
    iopt.no_cloud_mask_generic_ok = r->opt->no_cloud_mask_generic_ok;
    iopt.n_threads = r->opt->n_threads;
    iopt.hash = it->hash; /* fingerprinted by inspect a moment ago, within the settle guard */
    iopt.checkpoint = r->opt->checkpoint;
    iopt.checkpoint_ctx = r->opt->checkpoint_ctx;
    parus_error_init(&terr);
    code = parus_ingest_tile(r->store, (const char *const *)it->paths, it->n_paths, &iopt, &res,
                             &terr);
    if (code != PARUS_OK) {
        if (!is_tile_error(code)) {
            if (err)
                *err = terr;
            return code;
        }
        return item_gone(it) ? gone(r, it) : quarantine(r, it, &terr, err);
    }
    switch (res.outcome) {
    case PARUS_INGEST_STORED:
        outcome = "stored";
        r->st->n_stored++;
        r->st->n_observations += res.n_observed;
        break;
    case PARUS_INGEST_KNOWN:
        /* stored before, and the parcels registered since measured on it now */
        outcome = res.n_observed ? "known_extended" : "known";
        r->st->n_known++;
        r->st->n_observations += res.n_observed;
        break;
    default:
        outcome = "no_overlap";
        r->st->n_no_overlap++;
        break;
    }
    line_kv(&l, "event", "tile");
    line_kv(&l, "tile", it->name);
    line_kv(&l, "outcome", outcome);
    line_kv(&l, "date", res.rec.date);
    line_kv(&l, "sensor", res.rec.sensor);
    line_kvf(&l, "parcels", "%zu", res.n_observed);
    line_kvf(&l, "tile_id", "%lld", (long long)res.rec.id);
    line_kvf(&l, "seconds", "%.2f", now_mono_s() - t0);
    line_kvf(&l, "hash", "%.16s", res.rec.hash);
    if (res.outcome == PARUS_INGEST_NO_OVERLAP) {
        line_kv(&l, "note", "covers no registered parcel; left in the inbox");
        run_log(r, PARUS_LOG_WARN, &l);
        it->state = ITEM_DONE;
        return PARUS_OK;
    }
    run_log(r, PARUS_LOG_INFO, &l);
    it->state = ITEM_DONE;
    checkpoint(r, "tile:stored");
    /* only now, with the tile committed, may it leave the inbox */
    code = move_done(r, it, err);
    if (code == PARUS_OK)
        checkpoint(r, "tile:moved");
    return code;
}

/* Directories for the moves: made if absent, and on the inbox's file system (a rename). Shards
 * started together over one inbox make them at the same time: one that another run made
 * between the stat and the mkdir (EEXIST) is as good as one made here. */
static parus_status prepare_dir(struct run *r, const char *dir, const char *what, struct stat *sb,
                                parus_error *err)
{
    if (stat(dir, sb) != 0) {
        if (errno != ENOENT || (mkdir(dir, 0755) != 0 && errno != EEXIST) || stat(dir, sb) != 0)
            return parus_fail(err, PARUS_E_IO, "cannot make %s directory '%s': %s", what, dir,
                              strerror(errno));
    }
    if (!S_ISDIR(sb->st_mode))
        return parus_fail(err, PARUS_E_IO, "%s directory '%s' is not a directory", what, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return parus_fail(err, PARUS_E_IO, "cannot write to %s directory '%s': %s", what, dir,
                          strerror(errno));
    if (sb->st_dev != r->inbox_dev)
        return parus_fail(err, PARUS_E_CONFIG,
                          "%s directory '%s' is on another file system than inbox '%s': tiles "
                          "are moved by rename, which must stay within one file system",
                          what, dir, r->opt->inbox);
    return PARUS_OK;
}

static void summary_line(struct run *r, struct line *l, const char *outcome, parus_status code)
{
    const parus_nightly_stats *s = r->st;
    line_kv(l, "event", "summary");
    line_kv(l, "outcome", outcome);
    line_kv(l, "inbox", r->opt->inbox);
    if (r->opt->shard_count > 1)
        line_kvf(l, "shard", "%u/%u", r->opt->shard_index, r->opt->shard_count);
    line_kvf(l, "tiles_seen", "%zu", s->n_seen);
    line_kvf(l, "new", "%zu", s->n_new);
    line_kvf(l, "stored", "%zu", s->n_stored);
    line_kvf(l, "known", "%zu", s->n_known);
    line_kvf(l, "no_overlap", "%zu", s->n_no_overlap);
    line_kvf(l, "quarantined", "%zu", s->n_quarantined);
    line_kvf(l, "not_ready", "%zu", s->n_not_ready);
    if (r->opt->shard_count > 1)
        line_kvf(l, "other_shard", "%zu", s->n_other_shard);
    line_kvf(l, "ignored", "%zu", s->n_ignored);
    line_kvf(l, "moved", "%zu", s->n_moved);
    line_kvf(l, "observations", "%zu", s->n_observations);
    line_kvf(l, "weather_seen", "%zu", s->n_weather_seen);
    line_kvf(l, "weather_stored", "%zu", s->n_weather_stored);
    line_kvf(l, "weather_known", "%zu", s->n_weather_known);
    line_kvf(l, "weather_quarantined", "%zu", s->n_weather_quarantined);
    line_kvf(l, "weather_values", "%zu", s->n_weather_values);
    if (r->opt->shard_count > 1)
        line_kvf(l, "weather_left", "%zu", s->n_weather_left);
    line_kvf(l, "seconds", "%.2f", s->seconds);
    if (r->opt->assess || r->season[0])
        line_kv(l, "assess",
                s->assessed                  ? (s->assess_code == PARUS_OK ? "ok" : "failed")
                : s->owed && !r->opt->assess ? "no_inputs"
                                             : "skipped");
    if (s->assess_cause)
        line_kv(l, "assess_cause", s->assess_cause);
    if (r->season[0])
        line_kv(l, "owed", s->owed ? "yes" : "no");
    line_kv(l, "version", parus_version());
    if (code != PARUS_OK)
        line_kv(l, "error", parus_status_name(code));
}

/* The season's assessment after ingest. Its failure is recorded, logged and kept apart from the
 * ingest's outcome: every tile stored above is committed already. */
static void assess_season(struct run *r, struct line *l)
{
    parus_assess_options aopt = *r->opt->assess;
    parus_nightly_stats *s = r->st;
    const parus_assess_stats *a = &s->assess;
    parus_error aerr;

    aopt.run_id = r->run_id;
    aopt.weights_current = true; /* weigh_parcels ran after the ingest */
    aopt.checkpoint = r->opt->checkpoint;
    aopt.checkpoint_ctx = r->opt->checkpoint_ctx;
    s->assessed = true;
    parus_error_init(&aerr);
    s->assess_code = parus_assess_run(r->store, &aopt, &s->assess, &aerr);
    if (s->assess_code == PARUS_OK)
        s->owed = false;
    l->n = 0;
    line_kv(l, "event", "assess");
    line_kv(l, "season", aopt.season ? aopt.season : "");
    if (s->assess_code != PARUS_OK) {
        snprintf(s->assess_error, sizeof s->assess_error, "%s", aerr.msg);
        line_kv(l, "outcome", "failed");
        line_kv(l, "error", parus_status_name(s->assess_code));
        line_kv(l, "message", aerr.msg);
        if (s->assess_cause)
            line_kv(l, "cause", s->assess_cause);
        run_log(r, PARUS_LOG_ERROR, l);
        return;
    }
    line_kv(l, "outcome", "ok");
    line_kvf(l, "parcels", "%zu", a->n_parcels);
    line_kvf(l, "by_model", "%zu", a->n_model);
    line_kvf(l, "by_calendar", "%zu", a->n_calendar);
    line_kvf(l, "not_classified", "%zu", a->n_not_classified);
    line_kvf(l, "valued", "%zu", a->n_valued);
    line_kvf(l, "unknown_crop", "%zu", a->n_unknown_crop);
    line_kvf(l, "flags", "%zu", a->n_flags);
    line_kvf(l, "farmers", "%zu", a->n_farmers);
    line_kvf(l, "zero_limits", "%zu", a->n_farmers_zero);
    line_kvf(l, "total_limit_cny", "%lld", (long long)a->total_limit_cny);
    line_kv(l, "latest_date", a->latest_date[0] ? a->latest_date : "none");
    line_kv(l, "model", a->model_version);
    line_kvf(l, "policy", "%.16s", a->policy_hash);
    line_kvf(l, "tiles", "%zu", a->n_tiles_used);
    line_kvf(l, "tiles_digest", "%.16s", a->tiles_digest[0] ? a->tiles_digest : "none");
    line_kvf(l, "seconds", "%.2f", a->seconds);
    if (s->assess_cause)
        line_kv(l, "cause", s->assess_cause);
    run_log(r, PARUS_LOG_INFO, l);
}

static int log_other_owed(const parus_season_state *s, void *ctx)
{
    struct run *r = ctx;
    struct line l = {.n = 0};
    if (!s->stale || strcmp(s->season, r->season) == 0)
        return 0;
    r->st->n_other_owed++;
    line_kv(&l, "event", "owed");
    line_kv(&l, "season", s->season);
    line_kv(&l, "since", s->stale_since);
    line_kv(&l, "cause", s->stale_cause);
    line_kv(&l, "note",
            "not this run's season: its limits rest on older imagery until it is "
            "assessed (parus assess --season)");
    run_log(r, PARUS_LOG_WARN, &l);
    return 0;
}

/* The season this run answers for: tracked in the store (a season named for the first time is
 * owed when tiles of its window are stored and not assessed), and whether an earlier run left it
 * owed. */
static parus_status track_season(struct run *r, parus_error *err)
{
    const char *season = r->opt->season;
    parus_season_state state;
    struct line l = {.n = 0};
    int64_t start_day;
    size_t length_days;
    parus_status code;

    if (!season && r->opt->assess)
        season = r->opt->assess->season;
    if (!season)
        return PARUS_OK;
    code = parus_season_parse_window(season, &start_day, &length_days, err);
    if (code != PARUS_OK)
        return code;
    parus_season_window_text(start_day, length_days, r->season, sizeof r->season);
    code = parus_store_season_track(r->store, r->season, &state, err);
    if (code != PARUS_OK)
        return code;
    if (state.stale) {
        r->st->owed_at_start = true;
        snprintf(r->st->owed_cause, sizeof r->st->owed_cause, "%s", state.stale_cause);
        line_kv(&l, "event", "owed");
        line_kv(&l, "season", r->season);
        line_kv(&l, "since", state.stale_since);
        line_kv(&l, "cause", state.stale_cause);
        /* the cause says what: a tile or weather file an earlier run stored and did not
         * assess, a parcel reloaded or a crop declared since the results */
        line_kv(&l, "note",
                r->opt->assess ? "the season's results do not rest on what the store holds "
                                 "(the cause): this run assesses it"
                               : "the season's results do not rest on what the store holds "
                                 "(the cause)");
        run_log(r, PARUS_LOG_WARN, &l);
    }
    return PARUS_OK;
}

/* Whether the tracked season is owed an assessment now, and what first made it so (the store's
 * stale_cause: "tile … stored", "weather file … stored", …; "" when not owed). */
static parus_status season_owed(struct run *r, bool *owed, char *cause, size_t cap,
                                parus_error *err)
{
    parus_season_state state;
    bool found = false;
    parus_status code;
    *owed = false;
    cause[0] = '\0';
    if (!r->season[0])
        return PARUS_OK;
    code = parus_store_season_state_get(r->store, r->season, &state, &found, err);
    if (code == PARUS_OK)
        *owed = found && state.stale;
    if (*owed)
        snprintf(cause, cap, "%s", state.stale_cause);
    return code;
}

/* Why the night assesses its season (parus_nightly_stats.assess_cause): owed before it began, or
 * made owed by what this run stored, by the store's own record of what first did (a tile of the
 * window or weather within its reach: not this run's counts, which include tiles of other
 * windows), or else its inputs changed, or it was asked. */
static const char *assess_cause(const parus_nightly_stats *st, const char *stale_cause, bool always)
{
    if (st->owed_at_start)
        return "owed";
    if (st->owed)
        return strncmp(stale_cause, "tile ", 5) == 0      ? "new_tiles"
               : strncmp(stale_cause, "weather ", 8) == 0 ? "new_weather"
                                                          : "owed";
    return st->inputs_changed[0] && !always ? "inputs_changed" : "asked";
}

/* The inputs recorded with the season's limits (parus_store_get_assess_inputs). */
struct recorded {
    char model[80], crops[65], policy[65], debts[65];
};

static int take_recorded(const parus_assess_inputs *in, void *ctx)
{
    struct recorded *rec = ctx;
    snprintf(rec->model, sizeof rec->model, "%s", in->model_version ? in->model_version : "");
    snprintf(rec->crops, sizeof rec->crops, "%s", in->crops_hash ? in->crops_hash : "");
    snprintf(rec->policy, sizeof rec->policy, "%s", in->policy_hash ? in->policy_hash : "");
    snprintf(rec->debts, sizeof rec->debts, "%s", in->debts_hash ? in->debts_hash : "");
    return 0;
}

/* The SHA-256 of a file, "" when none is given, "unreadable" when it cannot be read (the
 * assessment then says why). */
static void file_hash(const char *path, char hex[65])
{
    char *bytes = NULL;
    size_t n = 0;
    parus_error e;
    hex[0] = '\0';
    if (!path || !*path)
        return;
    if (parus__read_file(path, (size_t)256 << 20, &bytes, &n, &e) != PARUS_OK) {
        snprintf(hex, 65, "unreadable");
        return;
    }
    parus__sha256(bytes, n, hex);
    free(bytes);
}

static void note_changed(char *buf, size_t cap, const char *what)
{
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", len ? ";" : "", what);
}

/* Which inputs of this run's assessment differ from those the season's stored limits were
 * computed with (assessment_inputs, the identities `parus assess` records: the model file's
 * SHA-256 or the calendar's crop table, the crop table's, the policy's or "builtin", the
 * debts file's), into buf ("" when they are the same, or the season has none recorded: then it
 * is owed as never assessed, or was assessed before schema 8). Into dropped, those of them the
 * limits rest on that this run does not have at all (a debts file, a policy file): a night
 * without them would lend more than the season's limits say, so it does not assess. */
static parus_status inputs_changed(struct run *r, char *buf, size_t cap, char *dropped, size_t dcap,
                                   parus_error *err)
{
    const parus_assess_options *o = r->opt->assess;
    struct recorded rec;
    char crops[65], policy[65], debts[65], model[80];
    parus_status code;
    buf[0] = '\0';
    dropped[0] = '\0';
    if (!o || !r->season[0])
        return PARUS_OK;
    memset(&rec, 0, sizeof rec);
    code = parus_store_get_assess_inputs(r->store, r->season, take_recorded, &rec, err);
    if (code == PARUS_E_NOT_FOUND)
        return PARUS_OK;
    if (code != PARUS_OK)
        return code;
    file_hash(o->crops_path, crops);
    file_hash(o->policy_path, policy);
    if (!o->policy_path)
        snprintf(policy, sizeof policy, "builtin");
    file_hash(o->debts ? o->debts_path : NULL, debts);
    if (o->model && parus_model_file_hash(o->model))
        snprintf(model, sizeof model, "xgb:%s", parus_model_file_hash(o->model));
    else if (crops[0])
        snprintf(model, sizeof model, "calendar:%s", crops);
    else
        snprintf(model, sizeof model, "calendar");
    if (strcmp(model, rec.model) != 0)
        note_changed(buf, cap, "model");
    if (strcmp(crops, rec.crops) != 0)
        note_changed(buf, cap, "crop table");
    if (strcmp(policy, rec.policy) != 0)
        note_changed(buf, cap, "policy");
    if (strcmp(debts, rec.debts) != 0)
        note_changed(buf, cap, "debts file");
    /* the shipped sample tables are no stand-in for the bank's: a configuration that names none
     * would otherwise lend on their prices and ratios without a word */
    if (rec.crops[0] && o->crops_fallback && strcmp(crops, rec.crops) != 0)
        note_changed(dropped, dcap, "crop table");
    if (rec.policy[0] && strcmp(rec.policy, "builtin") != 0 &&
        (!o->policy_path || (o->policy_fallback && strcmp(policy, rec.policy) != 0)))
        note_changed(dropped, dcap, "policy file");
    if (rec.debts[0] && !debts[0])
        note_changed(dropped, dcap, "debts file");
    return PARUS_OK;
}

/* The season's limits rest on inputs this run does not have (inputs_changed's dropped): it is not
 * assessed, and the night says why and how to settle it. */
static void refuse_assessment(struct run *r, struct line *l, const char *dropped)
{
    parus_nightly_stats *s = r->st;
    s->assessed = true;
    s->assess_code = PARUS_E_CONFIG;
    snprintf(s->assess_error, sizeof s->assess_error,
             "season %s: its limits rest on files that this run's configuration does not give "
             "(%s): assessed without them (without debts, or with the shipped sample tables in "
             "their place), the limits would change as if they had never been; give them in "
             "[tables] (crops, policy, debts), or assess the season by hand with `parus assess` "
             "to settle it without",
             r->season, dropped);
    l->n = 0;
    line_kv(l, "event", "assess");
    line_kv(l, "season", r->season);
    line_kv(l, "outcome", "failed");
    line_kv(l, "stage", "inputs");
    line_kv(l, "error", parus_status_name(s->assess_code));
    line_kv(l, "dropped", dropped);
    line_kv(l, "message", s->assess_error);
    if (s->assess_cause)
        line_kv(l, "cause", s->assess_cause);
    run_log(r, PARUS_LOG_ERROR, l);
}

parus_status parus_nightly_run(parus_store *store, const parus_nightly_options *opt,
                               parus_nightly_stats *stats, parus_error *err)
{
    struct run r;
    parus_nightly_stats st;
    struct stat isb;
    struct item **todo = NULL, **wtodo = NULL;
    size_t i, n_todo = 0, n_wtodo = 0, n_ready = 0, n_handled = 0;
    parus_status code = PARUS_OK;
    parus_error ferr;
    const char *outcome;
    struct line l = {.n = 0};
    char dropped[40] = "", stale_cause[sizeof st.owed_cause] = "";
    double t0 = now_mono_s();

    memset(&st, 0, sizeof st);
    if (stats)
        *stats = st;
    if (!store || !opt || !opt->inbox || !*opt->inbox)
        return parus_fail(err, PARUS_E_INVALID, "nightly: no store or no inbox given");
    if (opt->shard_count > 1 && opt->shard_index >= opt->shard_count)
        return parus_fail(err, PARUS_E_INVALID, "bad shard %u/%u", opt->shard_index,
                          opt->shard_count);
    memset(&r, 0, sizeof r);
    r.opt = opt;
    r.store = store;
    r.st = &st;
    r.now = time(NULL);

    /* bad input is refused before anything is written */
    if (stat(opt->inbox, &isb) != 0)
        return parus_fail(err, PARUS_E_IO, "cannot read inbox '%s': %s", opt->inbox,
                          strerror(errno));
    if (!S_ISDIR(isb.st_mode))
        return parus_fail(err, PARUS_E_IO, "inbox '%s' is not a directory", opt->inbox);
    if (access(opt->inbox, R_OK | W_OK | X_OK) != 0)
        return parus_fail(err, PARUS_E_IO, "cannot read and write inbox '%s': %s", opt->inbox,
                          strerror(errno));
    r.inbox_dev = isb.st_dev;
    if (opt->quarantine_dir && *opt->quarantine_dir)
        r.quarantine = parus__strdup(opt->quarantine_dir);
    else
        r.quarantine = path_join(opt->inbox, ".quarantine");
    if (!r.quarantine)
        return parus_fail(err, PARUS_E_NOMEM, "nightly: out of memory");
    code = prepare_dir(&r, r.quarantine, "quarantine", &r.quar_sb, err);
    if (code == PARUS_OK && opt->done_dir && *opt->done_dir) {
        r.have_done = true;
        code = prepare_dir(&r, opt->done_dir, "done", &r.done_sb, err);
    }
    if (code != PARUS_OK)
        goto out;

    code = parus_store_run_begin(store, opt->command ? opt->command : "nightly",
                                 opt->args ? opt->args : opt->inbox, &r.run_id, err);
    if (code != PARUS_OK)
        goto out;
    st.run_id = r.run_id;
    l.n = 0;
    line_kv(&l, "event", "start");
    line_kv(&l, "inbox", opt->inbox);
    line_kvf(&l, "run_id", "%lld", (long long)r.run_id);
    if (opt->shard_count > 1)
        line_kvf(&l, "shard", "%u/%u", opt->shard_index, opt->shard_count);
    line_kv(&l, "version", parus_version());
    run_log(&r, PARUS_LOG_INFO, &l);
    code = track_season(&r, err);
    if (code != PARUS_OK)
        goto record;
    checkpoint(&r, "run:started");

    code = scan_inbox(&r, err);
    if (code != PARUS_OK)
        goto record;
    checkpoint(&r, "inbox:scanned");
    for (i = 0; i < r.n_items; i++)
        if (r.items[i].state == ITEM_PENDING)
            n_ready++;
    todo = calloc(r.n_items ? r.n_items : 1, sizeof *todo);
    wtodo = calloc(r.n_items ? r.n_items : 1, sizeof *wtodo);
    if (!todo || !wtodo) {
        code = parus_fail(err, PARUS_E_NOMEM, "nightly: out of memory");
        goto record;
    }

    /* what is new, by content; known tiles only need to leave the inbox */
    for (i = 0; i < r.n_items && code == PARUS_OK; i++) {
        struct item *it = &r.items[i];
        bool known = false;
        if (it->state != ITEM_PENDING)
            continue;
        code = it->weather ? inspect_weather(&r, it, &known, err) : inspect(&r, it, &known, err);
        if (code != PARUS_OK)
            break;
        if (it->state == ITEM_OTHER_SHARD || it->state == ITEM_DONE) {
            progress(&r, ++n_handled, n_ready);
            continue;
        }
        if (it->weather && known) {
            st.n_weather_known++;
            it->state = ITEM_DONE;
            weather_known_line(&r, it, NULL);
            code = move_done(&r, it, err);
            if (code == PARUS_OK)
                checkpoint(&r, "weather:moved");
            progress(&r, ++n_handled, n_ready);
            continue;
        }
        if (it->weather) {
            wtodo[n_wtodo++] = it;
            continue;
        }
        if (known) {
            st.n_known++;
            it->state = ITEM_DONE;
            l.n = 0;
            line_kv(&l, "event", "tile");
            line_kv(&l, "tile", it->name);
            line_kv(&l, "outcome", "known");
            line_kv(&l, "date", it->date);
            line_kvf(&l, "hash", "%.16s", it->hash);
            run_log(&r, PARUS_LOG_INFO, &l);
            code = move_done(&r, it, err);
            if (code == PARUS_OK)
                checkpoint(&r, "tile:moved");
            progress(&r, ++n_handled, n_ready);
            continue;
        }
        todo[n_todo++] = it;
    }
    st.n_new = n_todo;
    if (code != PARUS_OK)
        goto record;

    /* weather first, in name order (the scan's): of two files that disagree, the one first in
       name order is stored and the other set aside, whatever the tiles beside them */
    for (i = 0; i < n_wtodo && code == PARUS_OK; i++) {
        code = import_weather(&r, wtodo[i], err);
        progress(&r, ++n_handled, n_ready);
    }
    if (code != PARUS_OK)
        goto record;

    /* acquisition-date order, so that a series grows forward even when a run stops early */
    if (n_todo > 1)
        qsort(todo, n_todo, sizeof *todo, cmp_item_date);
    for (i = 0; i < n_todo && code == PARUS_OK; i++) {
        code = ingest_one(&r, todo[i], err);
        progress(&r, ++n_handled, n_ready);
    }
    if (code == PARUS_OK)
        code = weigh_parcels(&r, err);
    if (code != PARUS_OK)
        goto record;
    checkpoint(&r, "ingest:done");

    /* the season is assessed when it is owed: a tile of its window stored by this run, or by an
     * earlier run that did not live to commit the assessment (or whose assessment failed) */
    code = season_owed(&r, &st.owed, stale_cause, sizeof stale_cause, err);
    /* and when the inputs it would be assessed with are not those its limits rest on (a new
     * policy, crop table, model or debts file in the configuration) */
    if (code == PARUS_OK && opt->assess)
        code = inputs_changed(&r, st.inputs_changed, sizeof st.inputs_changed, dropped,
                              sizeof dropped, err);
    if (code == PARUS_OK && st.inputs_changed[0]) {
        struct line w = {.n = 0};
        line_kv(&w, "event", "inputs_changed");
        line_kv(&w, "season", r.season);
        line_kv(&w, "changed", st.inputs_changed);
        line_kv(&w, "note",
                dropped[0]           ? "the season's limits rest on inputs this run does not have"
                : opt->assess_always ? "the season's limits rest on other inputs"
                                     : "the season's limits rest on other inputs: "
                                       "assessing it again");
        run_log(&r, PARUS_LOG_WARN, &w);
    }
    if (code == PARUS_OK && opt->assess &&
        (st.owed || opt->assess_always || st.inputs_changed[0])) {
        st.assess_cause = assess_cause(&st, stale_cause, opt->assess_always);
        if (dropped[0])
            refuse_assessment(&r, &l, dropped);
        else
            assess_season(&r, &l);
        checkpoint(&r, "assess:done");
    }
    /* other owed seasons (tiles of their windows stored, by this run or before) are logged, never
     * assessed here: their model and tables may not be this run's */
    if (code == PARUS_OK)
        code = parus_store_season_states_foreach(store, log_other_owed, &r, err);

record:
    st.seconds = now_mono_s() - t0;
    if (code != PARUS_OK)
        outcome = "failed";
    else if (st.n_quarantined || st.n_weather_quarantined ||
             (st.assessed && st.assess_code != PARUS_OK) || st.owed)
        outcome = "partial";
    else if (st.n_stored || st.n_weather_stored || st.assessed)
        outcome = "ok";
    else
        outcome = "noop";
    l.n = 0;
    summary_line(&r, &l, outcome, code);
    if (code != PARUS_OK && err)
        line_kv(&l, "message", err->msg);
    run_log(&r, code != PARUS_OK ? PARUS_LOG_ERROR : PARUS_LOG_INFO, &l);
    if (r.run_id > 0) {
        struct line rs = {.n = 0};
        summary_line(&r, &rs, outcome, code);
        parus_error_init(&ferr);
        /* after a store failure this may fail too; the run then stays open in the table */
        if (parus_store_run_end(store, r.run_id, outcome, rs.s, &ferr) != PARUS_OK) {
            if (code == PARUS_OK) {
                code = ferr.code;
                if (err)
                    *err = ferr;
            }
        } else if (code == PARUS_OK) {
            checkpoint(&r, "run:ended");
        }
    }
out:
    if (stats)
        *stats = st;
    free(todo);
    free(wtodo);
    for (i = 0; i < r.n_items; i++)
        item_release(&r.items[i]);
    free(r.items);
    for (i = 0; i < r.n_names; i++)
        free(r.names[i]);
    free(r.names);
    free(r.quarantine);
    return code;
}

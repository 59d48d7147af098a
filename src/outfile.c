/*
 * outfile.c - every file parus writes goes through here (rules in parus/outfile.h): refused when
 * it is an input, written beside its target, fsynced and renamed into place.
 *
 * Why rename and not truncate: truncating the target first loses the previous file the moment the
 * disk fills or the process dies; a temporary file in the same directory (same file system, so
 * rename(2) is atomic) is either renamed whole or removed. fsync before rename, so that after a
 * power cut the name never points at a file whose blocks were not written (ext4's
 * auto_da_alloc is a heuristic, not a promise); fsync of the directory after, so the rename
 * itself is durable.
 *
 * Why compare files and not names: `s.db`, `./s.db`, `/abs/s.db`, a hard link and a symbolic
 * link are one file. Where both exist, device and inode decide; where the output does not exist
 * yet (a store's -wal that is not there now but will be), the canonical directory (realpath) and
 * the name decide.
 *
 * No GDAL here: the `parus` launcher links this file for `query --chart`.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* realpath(path, NULL) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile_int.h"
#include "util_int.h"

struct parus_outfile {
    char *target; /* where the output ends */
    char *tmp;    /* the temporary file beside it; NULL when written in place */
    FILE *fp;     /* NULL for a named output */
    bool named;   /* written by another library at tmp */
    bool have_mode;
    mode_t mode;     /* the previous target's permissions */
    int write_errno; /* first write failure; 0 none */
};

/* ---- refusing inputs ---- */

/* The canonical spelling of path: realpath of the file when it exists, else realpath of its
 * directory joined with its last component; NULL on allocation failure. */
static char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    const char *slash, *base;
    char *dir, *rdir, *out;
    size_t n;

    if (r)
        return r;
    slash = strrchr(path, '/');
    if (slash) {
        dir = parus__strndup(path, slash == path ? 1 : (size_t)(slash - path));
        base = slash + 1;
    } else {
        dir = parus__strdup(".");
        base = path;
    }
    if (!dir)
        return NULL;
    rdir = realpath(dir, NULL);
    free(dir);
    if (!rdir)
        return parus__strdup(path);
    n = strlen(rdir) + strlen(base) + 2;
    out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s", rdir, strcmp(rdir, "/") == 0 ? "" : "/", base);
    free(rdir);
    return out;
}

/* 1 when a and b are one file, 0 when not, -1 on allocation failure. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char *ca, *cb;
    int same;

    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    ca = canonical(a);
    cb = canonical(b);
    same = (ca && cb) ? strcmp(ca, cb) == 0 : -1;
    free(ca);
    free(cb);
    return same;
}

parus_status parus_output_check(const char *path, const char *store, const char *const *inputs,
                                size_t n_inputs, parus_error *err)
{
    static const char *const sibling[] = {"", "-wal", "-shm", "-journal", ".lock"};
    static const char *const what[] = {"the store", "the store's write-ahead log",
                                       "the store's shared-memory index", "the store's journal",
                                       "the store's lock file"};
    size_t i;
    int same;

    if (!path || !*path)
        return parus_fail(err, PARUS_E_INVALID, "no output path given");
    if (strcmp(path, "-") == 0)
        return PARUS_OK;
    if (store && *store) {
        size_t n = strlen(store) + sizeof "-journal";
        char *name = malloc(n);
        if (!name)
            return parus_fail(err, PARUS_E_NOMEM, "out of memory");
        for (i = 0; i < sizeof sibling / sizeof *sibling; i++) {
            snprintf(name, n, "%s%s", store, sibling[i]);
            same = same_file(path, name);
            if (same != 0) {
                parus_status st =
                    same < 0 ? parus_fail(err, PARUS_E_NOMEM, "out of memory")
                             : parus_fail(err, PARUS_E_INVALID,
                                          "refusing to write '%s': it is %s '%s', which this "
                                          "command would destroy",
                                          path, what[i], name);
                free(name);
                return st;
            }
        }
        free(name);
    }
    for (i = 0; i < n_inputs; i++) {
        if (!inputs || !inputs[i] || !*inputs[i] || strcmp(inputs[i], "-") == 0)
            continue;
        same = same_file(path, inputs[i]);
        if (same < 0)
            return parus_fail(err, PARUS_E_NOMEM, "out of memory");
        if (same)
            return parus_fail(err, PARUS_E_INVALID,
                              "refusing to write '%s': it is '%s', an input of this command", path,
                              inputs[i]);
    }
    return PARUS_OK;
}

/* ---- writing beside and renaming ---- */

static atomic_uint tmp_counter;

static void outfile_free(parus_outfile *o)
{
    free(o->target);
    free(o->tmp);
    free(o);
}

static parus_status start(const char *path, bool named, parus_outfile **out, parus_error *err)
{
    parus_outfile *o;
    struct stat sb, lsb;
    parus_status st;
    size_t n;
    int fd = -1, tries;

    if (!path || !*path || !out)
        return parus_fail(err, PARUS_E_INVALID, "no output path given");
    if (!(o = calloc(1, sizeof *o)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory");
    o->named = named;
    /* a link is written through: the file it names is replaced and the link stays */
    if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
        o->target = realpath(path, NULL);
    if (!o->target)
        o->target = parus__strdup(path);
    if (!o->target) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out_free;
    }
    if (stat(o->target, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            st = parus_fail(err, PARUS_E_IO, "cannot write '%s': it is a directory", path);
            goto out_free;
        }
        if (!S_ISREG(sb.st_mode)) {
            /* a terminal, a pipe, a device: nothing to keep, nothing to rename over */
            if (!named && !(o->fp = fopen(o->target, "wb"))) {
                st = parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", path, strerror(errno));
                goto out_free;
            }
            *out = o;
            return PARUS_OK;
        }
        o->have_mode = true;
        o->mode = sb.st_mode & 07777;
    }
    n = strlen(o->target) + 48;
    if (!(o->tmp = malloc(n))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory");
        goto out_free;
    }
    for (tries = 0; tries < 100; tries++) {
        snprintf(o->tmp, n, "%s.%ld-%u.part", o->target, (long)getpid(),
                 atomic_fetch_add(&tmp_counter, 1u));
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = parus_fail(err, PARUS_E_IO, "cannot write '%s': cannot create '%s' beside it: %s",
                        path, o->tmp, strerror(errno));
        goto out_free;
    }
    if (o->have_mode)
        (void)fchmod(fd, o->mode); /* best effort: the previous file's permissions */
    if (named) {
        /* the other library creates the file itself: keep only the name */
        close(fd);
        unlink(o->tmp);
    } else if (!(o->fp = fdopen(fd, "wb"))) {
        st = parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        goto out_free;
    }
    *out = o;
    return PARUS_OK;

out_free:
    outfile_free(o);
    return st;
}

parus_status parus_outfile_open(const char *path, parus_outfile **out, parus_error *err)
{
    return start(path, false, out, err);
}

parus_status parus__outfile_open_named(const char *path, parus_outfile **out, parus_error *err)
{
    return start(path, true, out, err);
}

FILE *parus__outfile_stream(parus_outfile *o)
{
    return o ? o->fp : NULL;
}

const char *parus__outfile_temp_path(const parus_outfile *o)
{
    return o ? (o->tmp ? o->tmp : o->target) : NULL;
}

const char *parus_outfile_target(const parus_outfile *o)
{
    return o ? o->target : NULL;
}

parus_status parus_outfile_write(parus_outfile *o, const void *data, size_t n, parus_error *err)
{
    if (!o || !o->fp)
        return parus_fail(err, PARUS_E_INVALID, "output: not open for writing");
    if (!o->write_errno && n && fwrite(data, 1, n, o->fp) != n)
        o->write_errno = errno ? errno : EIO;
    if (o->write_errno)
        return parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", o->target,
                          strerror(o->write_errno));
    return PARUS_OK;
}

parus_status parus_outfile_printf(parus_outfile *o, parus_error *err, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!o || !o->fp)
        return parus_fail(err, PARUS_E_INVALID, "output: not open for writing");
    if (!o->write_errno) {
        va_start(ap, fmt);
        n = vfprintf(o->fp, fmt, ap);
        va_end(ap);
        if (n < 0)
            o->write_errno = errno ? errno : EIO;
    }
    if (o->write_errno)
        return parus_fail(err, PARUS_E_IO, "cannot write '%s': %s", o->target,
                          strerror(o->write_errno));
    return PARUS_OK;
}

/* Make the rename durable; a file system that cannot fsync a directory is not an error. */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? parus__strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : parus__strdup(".");
    int fd;
    if (!dir)
        return;
    fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

parus_status parus_outfile_commit(parus_outfile *o, parus_error *err)
{
    int e = 0, fd;
    parus_status st = PARUS_OK;

    if (!o)
        return parus_fail(err, PARUS_E_INVALID, "output: nothing to commit");
    if (o->fp) {
        e = o->write_errno;
        if (!e && (fflush(o->fp) != 0 || ferror(o->fp)))
            e = errno ? errno : EIO;
        if (!e && o->tmp && fsync(fileno(o->fp)) != 0)
            e = errno;
        if (fclose(o->fp) != 0 && !e)
            e = errno ? errno : EIO;
        o->fp = NULL;
    } else if (o->named && o->tmp) {
        fd = open(o->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            e = errno;
        } else {
            if (fsync(fd) != 0)
                e = errno;
            close(fd);
        }
        if (!e && o->have_mode)
            (void)chmod(o->tmp, o->mode);
    }
    if (!e && o->tmp && rename(o->tmp, o->target) != 0)
        e = errno;
    if (e) {
        st = parus_fail(err, PARUS_E_IO, "cannot write '%s': %s%s", o->target, strerror(e),
                        o->tmp ? " (the previous file, if any, is unchanged)" : "");
        if (o->tmp)
            unlink(o->tmp);
    } else if (o->tmp) {
        sync_dir_of(o->target);
    }
    outfile_free(o);
    return st;
}

void parus_outfile_abort(parus_outfile *o)
{
    static const char *const side[] = {"-journal", "-wal", "-shm"};
    size_t i, n;
    char *name;

    if (!o)
        return;
    if (o->fp)
        fclose(o->fp);
    if (o->tmp) {
        unlink(o->tmp);
        n = strlen(o->tmp) + sizeof "-journal";
        if (o->named && (name = malloc(n))) {
            for (i = 0; i < sizeof side / sizeof *side; i++) {
                snprintf(name, n, "%s%s", o->tmp, side[i]);
                unlink(name);
            }
            free(name);
        }
    }
    outfile_free(o);
}

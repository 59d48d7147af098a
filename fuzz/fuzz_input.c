/*
 * fuzz_input.c - the scratch file of the fuzz targets: one per process and kind, in $TMPDIR, else
 * /dev/shm (memory: four times the executions per second of a disk's /tmp), else /tmp; rewritten
 * for every input and removed at exit.
 */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_input.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_path[4096];

static void remove_scratch(void)
{
    if (scratch_path[0])
        unlink(scratch_path);
}

const char *fuzz_scratch_file(const uint8_t *data, size_t size, const char *suffix)
{
    size_t done = 0;
    int fd;
    if (!scratch_path[0]) {
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch_path, sizeof scratch_path, "%s/parus-fuzz-%ld%s", dir, (long)getpid(),
                 suffix);
        atexit(remove_scratch);
    }
    fd = open(scratch_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            close(fd);
            return NULL;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0)
        return NULL;
    return scratch_path;
}

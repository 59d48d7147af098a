/*
 * replay.c - a plain main() that feeds files to a fuzz target's LLVMFuzzerTestOneInput, so CI
 * replays the committed corpus with gcc (and under ASan+UBSan) without clang or libFuzzer.
 * Arguments: files or directories (every regular file in them, in name order). Exit 0 when every
 * input was fed (a crash ends the process), 1 when an argument cannot be read or holds no file.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"

static int feed_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t size = 0, cap = 0, got;
    if (!f) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        return -1;
    }
    do {
        if (size == cap) {
            unsigned char *nb;
            cap = cap ? 2 * cap : 4096;
            if (!(nb = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 1;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int feed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int fed = 0;
    if (!d) {
        fprintf(stderr, "replay: cannot open '%s'\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (n == cap) {
            char **nn;
            cap = cap ? 2 * cap : 64;
            if (!(nn = realloc(names, cap * sizeof *names)))
                break;
            names = nn;
        }
        if (!(names[n] = malloc(strlen(path) + 1)))
            break;
        memcpy(names[n++], path, strlen(path) + 1);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_name);
    for (i = 0; i < n; i++) {
        if (feed_file(names[i]) < 0)
            fed = -1;
        else if (fed >= 0)
            fed++;
        free(names[i]);
    }
    free(names);
    return fed;
}

int main(int argc, char **argv)
{
    int i, total = 0;
    for (i = 1; i < argc; i++) {
        struct stat sb;
        int fed;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: no such file or directory '%s'\n", argv[i]);
            return 1;
        }
        fed = S_ISDIR(sb.st_mode) ? feed_dir(argv[i]) : feed_file(argv[i]);
        if (fed <= 0)
            return 1;
        total += fed;
    }
    printf("replayed %d input%s\n", total, total == 1 ? "" : "s");
    return total > 0 ? 0 : 1;
}

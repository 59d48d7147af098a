/*
 * test_outfile.c - outputs never replace an input and never leave half a file (parus/outfile.h):
 * the same file however spelled is refused; a committed output replaces its target whole; an
 * aborted or failed one (a write past the file size limit, standing in for a full disk) leaves
 * the previous target byte-identical and no temporary file.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "outfile_int.h"
#include "test_support.h"

static size_t n_entries(const char *dir)
{
    char cmd[4200], *out = NULL;
    size_t n;
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    assert_int_equal(parus_test_run(cmd, &out, NULL), 0);
    n = (size_t)strtoul(out, NULL, 10);
    free(out);
    return n;
}

static void test_output_check__same_file_however_spelled(void **state)
{
    char *dir = parus_test_tmpdir("outfile-check");
    char *db = parus_test_path(dir, "s.db"), *hard = parus_test_path(dir, "hard");
    char *sym = parus_test_path(dir, "sym"), *other = parus_test_path(dir, "other.csv");
    char dotted[4200], wal[4200], lock[4200], cwd[4200];
    const char *inputs[] = {NULL, other};
    parus_error err;
    (void)state;

    assert_int_equal(parus_test_write_file(db, "db", 2), 0);
    assert_int_equal(parus_test_write_file(other, "in", 2), 0);
    assert_int_equal(link(db, hard), 0);
    assert_int_equal(symlink("s.db", sym), 0);
    snprintf(dotted, sizeof dotted, "%s/./s.db", dir);
    snprintf(wal, sizeof wal, "%s/../%s/s.db-wal", dir, strrchr(dir, '/') + 1);
    snprintf(lock, sizeof lock, "%s/s.db.lock", dir);

    assert_int_equal(parus_output_check(db, db, NULL, 0, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "it is the store"));
    assert_int_equal(parus_output_check(dotted, db, NULL, 0, &err), PARUS_E_INVALID);
    assert_int_equal(parus_output_check(hard, db, NULL, 0, &err), PARUS_E_INVALID);
    assert_int_equal(parus_output_check(sym, db, NULL, 0, &err), PARUS_E_INVALID);
    /* siblings that do not exist yet are compared by canonical directory and name */
    assert_int_equal(parus_output_check(wal, db, NULL, 0, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "write-ahead log"));
    assert_int_equal(parus_output_check(lock, db, NULL, 0, &err), PARUS_E_INVALID);
    /* a relative spelling from inside the directory */
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(parus_output_check("s.db-shm", db, NULL, 0, &err), PARUS_E_INVALID);
    assert_int_equal(parus_output_check("./other.csv", NULL, inputs, 2, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "an input of this command"));
    assert_int_equal(parus_output_check("new.csv", "s.db", inputs, 2, &err), PARUS_OK);
    assert_int_equal(parus_output_check("-", "s.db", inputs, 2, &err), PARUS_OK);
    assert_int_equal(chdir(cwd), 0);

    parus_test_rmtree(dir);
    free(dir);
    free(db);
    free(hard);
    free(sym);
    free(other);
}

static void test_outfile__commit_replaces_abort_keeps(void **state)
{
    char *dir = parus_test_tmpdir("outfile-commit");
    char *path = parus_test_path(dir, "out.csv"), *sym = parus_test_path(dir, "link.csv");
    parus_outfile *o;
    parus_error err;
    char *got;
    (void)state;

    assert_int_equal(parus_test_write_file(path, "old\n", 4), 0);
    assert_int_equal(parus_outfile_open(path, &o, &err), PARUS_OK);
    assert_int_equal(parus_outfile_printf(o, &err, "new %d\n", 1), PARUS_OK);
    got = parus_test_read_file(path);
    assert_string_equal(got, "old\n"); /* nothing of the new file shows before commit */
    free(got);
    parus_outfile_abort(o);
    got = parus_test_read_file(path);
    assert_string_equal(got, "old\n");
    free(got);
    assert_int_equal(n_entries(dir), 1);

    assert_int_equal(parus_outfile_open(path, &o, &err), PARUS_OK);
    assert_int_equal(parus_outfile_write(o, "new\n", 4, &err), PARUS_OK);
    assert_int_equal(parus_outfile_commit(o, &err), PARUS_OK);
    got = parus_test_read_file(path);
    assert_string_equal(got, "new\n");
    free(got);

    /* through a symbolic link: the file it names is replaced, the link stays a link */
    assert_int_equal(symlink("out.csv", sym), 0);
    assert_int_equal(parus_outfile_open(sym, &o, &err), PARUS_OK);
    assert_int_equal(parus_outfile_write(o, "via link\n", 9, &err), PARUS_OK);
    assert_int_equal(parus_outfile_commit(o, &err), PARUS_OK);
    got = parus_test_read_file(path);
    assert_string_equal(got, "via link\n");
    free(got);
    {
        char target[64] = "";
        assert_true(readlink(sym, target, sizeof target - 1) > 0);
        assert_string_equal(target, "out.csv");
    }
    assert_int_equal(n_entries(dir), 2);

    /* a directory that does not exist: an error naming the path, nothing created */
    {
        char *missing = parus_test_path(dir, "no-such-dir/x.csv");
        assert_int_equal(parus_outfile_open(missing, &o, &err), PARUS_E_IO);
        assert_non_null(strstr(err.msg, "no-such-dir/x.csv"));
        free(missing);
    }
    parus_test_rmtree(dir);
    free(dir);
    free(path);
    free(sym);
}

/* A write that fails part way (EFBIG past RLIMIT_FSIZE, as ENOSPC on a full disk) keeps the
 * previous file byte-identical, for a stream and for a file another library writes by name. */
static void test_outfile__failed_write_keeps_previous(void **state)
{
    char *dir = parus_test_tmpdir("outfile-full");
    char *path = parus_test_path(dir, "model"), *named = parus_test_path(dir, "chart.png");
    struct rlimit old_lim, lim;
    void (*old_sig)(int);
    char block[4096];
    parus_outfile *o;
    parus_error err;
    parus_status st = PARUS_OK;
    char *got;
    FILE *f;
    int i;
    (void)state;

    assert_int_equal(parus_test_write_file(path, "previous model\n", 15), 0);
    assert_int_equal(parus_test_write_file(named, "previous chart\n", 15), 0);
    memset(block, 'm', sizeof block);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    old_sig = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 16384;

    assert_int_equal(parus_outfile_open(path, &o, &err), PARUS_OK);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (i = 0; i < 16 && st == PARUS_OK; i++)
        st = parus_outfile_write(o, block, sizeof block, &err);
    st = parus_outfile_commit(o, &err);

    assert_int_equal(parus__outfile_open_named(named, &o, &err), PARUS_OK);
    f = fopen(parus__outfile_temp_path(o), "wb");
    assert_non_null(f);
    for (i = 0; i < 16; i++)
        fwrite(block, 1, sizeof block, f);
    fclose(f);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    signal(SIGXFSZ, old_sig);
    assert_int_equal(st, PARUS_E_IO);
    assert_non_null(strstr(err.msg, "model"));
    /* the named file was cut short: the writer (cairo, GDAL) reports that; here abort */
    parus_outfile_abort(o);

    got = parus_test_read_file(path);
    assert_string_equal(got, "previous model\n");
    free(got);
    got = parus_test_read_file(named);
    assert_string_equal(got, "previous chart\n");
    free(got);
    assert_int_equal(n_entries(dir), 2);
    parus_test_rmtree(dir);
    free(dir);
    free(path);
    free(named);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_check__same_file_however_spelled),
        cmocka_unit_test(test_outfile__commit_replaces_abort_keeps),
        cmocka_unit_test(test_outfile__failed_write_keeps_previous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

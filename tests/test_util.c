/* test_util.c - internal helpers: the content fingerprint (stability, sensitivity, files), dates,
 * checked multiplication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "util_int.h"

static int popcount64(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static void test_fingerprint__stable_golden_value(void **state)
{
    /* Stored tiles are recognised by this value: a change of algorithm must be a deliberate,
     * migrated change, so the value of a fixed input is frozen here. */
    uint64_t h[4];
    char hex[65];
    (void)state;
    parus__fingerprint("parus", 5, h);
    snprintf(hex, sizeof hex, "%016llx%016llx%016llx%016llx", (unsigned long long)h[0],
             (unsigned long long)h[1], (unsigned long long)h[2], (unsigned long long)h[3]);
    assert_string_equal(hex, "6de8dea0c207a23c9ec2fea0163926e438ec2d7e064b2ef534dc0ceefd74c390");
}

static void test_fingerprint__every_length_and_bit_matters(void **state)
{
    static unsigned char buf[200];
    uint64_t seen[201][4];
    size_t n, i, k;
    (void)state;
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
    /* prefixes of every length (zero padding must not make two lengths collide) */
    for (n = 0; n <= sizeof buf; n++) {
        parus__fingerprint(buf, n, seen[n]);
        for (k = 0; k < n; k++)
            assert_memory_not_equal(seen[n], seen[k], sizeof seen[n]);
    }
    /* a zero byte appended is a different content */
    {
        unsigned char z[33] = {0};
        uint64_t a[4], b[4];
        parus__fingerprint(z, 32, a);
        parus__fingerprint(z, 33, b);
        assert_memory_not_equal(a, b, sizeof a);
    }
    /* flipping any one bit changes about half the 256 output bits */
    {
        uint64_t base[4], h[4];
        int min_changed = 256, max_changed = 0;
        parus__fingerprint(buf, 100, base);
        for (i = 0; i < 100 * 8; i++) {
            int changed = 0;
            buf[i / 8] ^= (unsigned char)(1u << (i % 8));
            parus__fingerprint(buf, 100, h);
            buf[i / 8] ^= (unsigned char)(1u << (i % 8));
            for (k = 0; k < 4; k++)
                changed += popcount64(base[k] ^ h[k]);
            min_changed = changed < min_changed ? changed : min_changed;
            max_changed = changed > max_changed ? changed : max_changed;
        }
        assert_true(min_changed >= 90);
        assert_true(max_changed <= 166);
    }
}

static void test_fingerprint_files__order_content_and_errors(void **state)
{
    char *dir = parus_test_tmpdir("util");
    char *a = parus_test_path(dir, "a.tif"), *b = parus_test_path(dir, "b.tif");
    char *e = parus_test_path(dir, "empty.tif");
    const char *ab[2], *ba[2], *one[1], *missing[1];
    char h1[65], h2[65], h3[65];
    parus_error err;
    (void)state;
    assert_int_equal(parus_test_write_file(a, "alpha", 5), 0);
    assert_int_equal(parus_test_write_file(b, "beta", 4), 0);
    assert_int_equal(parus_test_write_file(e, "", 0), 0);
    ab[0] = a, ab[1] = b, ba[0] = b, ba[1] = a;
    assert_int_equal(parus__fingerprint_files(ab, 2, h1, &err), PARUS_OK);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(parus__fingerprint_files(ba, 2, h2, &err), PARUS_OK);
    assert_string_not_equal(h1, h2);
    one[0] = e;
    assert_int_equal(parus__fingerprint_files(one, 1, h3, &err), PARUS_OK);
    /* the same content under another name is the same fingerprint */
    assert_int_equal(parus_test_write_file(b, "alpha", 5), 0);
    one[0] = a;
    assert_int_equal(parus__fingerprint_files(one, 1, h1, &err), PARUS_OK);
    one[0] = b;
    assert_int_equal(parus__fingerprint_files(one, 1, h2, &err), PARUS_OK);
    assert_string_equal(h1, h2);
    missing[0] = "/nonexistent/x.tif";
    assert_int_equal(parus__fingerprint_files(missing, 1, h3, &err), PARUS_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.tif"));
    missing[0] = dir;
    assert_int_equal(parus__fingerprint_files(missing, 1, h3, &err), PARUS_E_IO);
    free(a);
    free(b);
    free(e);
    parus_test_rmtree(dir);
    free(dir);
}

static void test_dates__parse_and_find(void **state)
{
    char d[11];
    (void)state;
    assert_true(parus__parse_date("2024-02-29", d));
    assert_string_equal(d, "2024-02-29");
    assert_false(parus__parse_date("2023-02-29", d));
    assert_true(parus__parse_date("20170216", d));
    assert_string_equal(d, "2017-02-16");
    assert_false(parus__parse_date("2017-13-01", d));
    assert_true(parus__find_date("S2_L1C_T33UUU_20170216_10m_B02.tif", d));
    assert_string_equal(d, "2017-02-16");
    assert_false(parus__find_date("id_1234567890123", d));
    assert_true(parus__date_days("1970-01-01") == 0);
    assert_true(parus__date_days("2000-03-01") - parus__date_days("2000-02-28") == 2);
}

static void test_grow__doubles_keeps_and_refuses_overflow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    assert_true(parus__grow((void **)&a, &cap, 1, sizeof *a, 4));
    assert_int_equal(cap, 4);
    a[3] = 7;
    assert_true(parus__grow((void **)&a, &cap, 4, sizeof *a, 4)); /* enough: unchanged */
    assert_int_equal(cap, 4);
    assert_true(parus__grow((void **)&a, &cap, 9, sizeof *a, 4));
    assert_int_equal(cap, 16);
    assert_int_equal(a[3], 7);
    int *keep = a;
    assert_false(parus__grow((void **)&a, &cap, SIZE_MAX / 2, sizeof *a, 4)); /* overflows */
    assert_true(a == keep && cap == 16);
    free(a);
}

static void test_mul_size__overflow(void **state)
{
    size_t out = 7;
    (void)state;
    assert_true(parus__mul_size(10980, 10980, &out));
    assert_true(out == (size_t)10980 * 10980);
    assert_false(parus__mul_size(SIZE_MAX / 2, 3, &out));
    assert_true(out == (size_t)10980 * 10980); /* untouched on overflow */
}

static void test_sha256__fips_vectors(void **state)
{
    /* FIPS 180-4 examples and the one-million-'a' vector; lengths 55, 56 and 64 cross the padding
     * boundary (one or two final blocks) */
    static const char *const abc448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[65], *big;
    (void)state;
    parus__sha256("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    parus__sha256("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    parus__sha256(abc448, strlen(abc448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    big = malloc(1000000);
    assert_non_null(big);
    memset(big, 'a', 1000000);
    parus__sha256(big, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    parus__sha256(big, 55, hex);
    assert_string_equal(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    parus__sha256(big, 56, hex);
    assert_string_equal(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    parus__sha256(big, 64, hex);
    assert_string_equal(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow__doubles_keeps_and_refuses_overflow),
        cmocka_unit_test(test_fingerprint__stable_golden_value),
        cmocka_unit_test(test_fingerprint__every_length_and_bit_matters),
        cmocka_unit_test(test_fingerprint_files__order_content_and_errors),
        cmocka_unit_test(test_dates__parse_and_find),
        cmocka_unit_test(test_mul_size__overflow),
        cmocka_unit_test(test_sha256__fips_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_error.c - status codes, names and the error setter. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

#include "parus/error.h"

static void test_fail__fills_code_and_message(void **state)
{
    parus_error err;
    (void)state;
    parus_error_init(&err);
    assert_int_equal(parus_fail(&err, PARUS_E_IO, "cannot open '%s'", "a.tif"), PARUS_E_IO);
    assert_int_equal(err.code, PARUS_E_IO);
    assert_string_equal(err.msg, "cannot open 'a.tif'");
}

static void test_fail__null_error_still_returns_code(void **state)
{
    (void)state;
    assert_int_equal(parus_fail(NULL, PARUS_E_FORMAT, "x"), PARUS_E_FORMAT);
}

static void test_fail__long_message_is_truncated_safely(void **state)
{
    parus_error err;
    char big[4000];
    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    parus_fail(&err, PARUS_E_INVALID, "%s", big);
    assert_int_equal(strlen(err.msg), PARUS_ERROR_MSG_MAX - 1);
    parus_error_prefix(&err, "'%s'", "file");
    assert_int_equal(strlen(err.msg), PARUS_ERROR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "'file': xx", 10);
}

static void test_prefix__adds_context(void **state)
{
    parus_error err;
    (void)state;
    parus_fail(&err, PARUS_E_NO_DATE, "no acquisition date");
    parus_error_prefix(&err, "'%s'", "t.tif");
    assert_string_equal(err.msg, "'t.tif': no acquisition date");
    assert_int_equal(err.code, PARUS_E_NO_DATE);
}

/* Ids from users' files reach messages, logs and .reason files: a line break there would forge a
 * line, an escape sequence would act on the terminal. On the old code both passed through. */
static void test_fail__control_characters_are_escaped(void **state)
{
    parus_error err;
    char buf[16];
    (void)state;
    parus_fail(&err, PARUS_E_CONFIG, "farmer '%s' line %d", "F1\nparus: ok\x1b[2J\t\x7f", 3);
    assert_string_equal(err.msg, "farmer 'F1\\nparus: ok\\x1b[2J\\t\\x7f' line 3");
    parus_error_prefix(&err, "'%s'", "a\rb");
    assert_string_equal(err.msg, "'a\\rb': farmer 'F1\\nparus: ok\\x1b[2J\\t\\x7f' line 3");
    /* UTF-8 is kept; a cut never splits an escape */
    assert_string_equal(parus_escape_controls("张三", buf, sizeof buf), "张三");
    assert_string_equal(parus_escape_controls("abcdefghijklm\x01", buf, sizeof buf),
                        "abcdefghijklm");
    assert_string_equal(parus_escape_controls(NULL, buf, sizeof buf), "");
}

static void test_names__stable_and_distinct(void **state)
{
    (void)state;
    assert_int_equal(PARUS_OK, 0);
    assert_int_equal(PARUS_E_IO, 3);
    assert_int_equal(PARUS_E_SCHEMA, 12);
    assert_string_equal(parus_status_name(PARUS_E_NO_CRS), "E_NO_CRS");
    assert_string_equal(parus_status_text(PARUS_OK), "success");
    assert_string_equal(parus_status_name((parus_status)999), "unknown");
    for (int a = 0; a <= PARUS_E_INTERNAL; a++)
        for (int b = a + 1; b <= PARUS_E_INTERNAL; b++)
            assert_string_not_equal(parus_status_name((parus_status)a),
                                    parus_status_name((parus_status)b));
}

static void test_version__is_semver(void **state)
{
    int maj, min, pat;
    (void)state;
    assert_int_equal(sscanf(parus_version(), "%d.%d.%d", &maj, &min, &pat), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail__fills_code_and_message),
        cmocka_unit_test(test_fail__null_error_still_returns_code),
        cmocka_unit_test(test_fail__long_message_is_truncated_safely),
        cmocka_unit_test(test_prefix__adds_context),
        cmocka_unit_test(test_fail__control_characters_are_escaped),
        cmocka_unit_test(test_names__stable_and_distinct),
        cmocka_unit_test(test_version__is_semver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

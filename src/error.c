/*
 * error.c - status names and texts, and the error setter every module uses.
 *
 * The message buffer lives in the caller's parus_error, never in a global, so threads that each
 * pass their own parus_error never share state.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parus/error.h"

void parus_error_init(parus_error *err)
{
    if (!err)
        return;
    err->code = PARUS_OK;
    err->msg[0] = '\0';
}

parus_status parus_fail(parus_error *err, parus_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void parus_error_prefix(parus_error *err, const char *fmt, ...)
{
    char old[PARUS_ERROR_MSG_MAX];
    size_t n;
    int len;
    va_list ap;

    if (!err)
        return;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    len = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    n = len < 0 ? 0 : (size_t)len;
    if (n + 2 >= sizeof err->msg)
        return;
    memcpy(err->msg + n, ": ", 3);
    n += 2;
    memcpy(err->msg + n, old, strnlen(old, sizeof err->msg - n - 1));
    err->msg[n + strnlen(old, sizeof err->msg - n - 1)] = '\0';
}

const char *parus_status_name(parus_status code)
{
    switch (code) {
#define PARUS_STATUS_NAME_(name, value, text)                                                      \
    case PARUS_##name:                                                                             \
        return #name;
        PARUS_STATUS_MAP(PARUS_STATUS_NAME_)
#undef PARUS_STATUS_NAME_
    }
    return "unknown";
}

const char *parus_status_text(parus_status code)
{
    switch (code) {
#define PARUS_STATUS_TEXT_(name, value, text)                                                      \
    case PARUS_##name:                                                                             \
        return text;
        PARUS_STATUS_MAP(PARUS_STATUS_TEXT_)
#undef PARUS_STATUS_TEXT_
    }
    return "unknown";
}

bool parus_status_is_input_error(parus_status code)
{
    switch (code) {
    case PARUS_E_IO:
    case PARUS_E_FORMAT:
    case PARUS_E_NO_CRS:
    case PARUS_E_NO_DATE:
    case PARUS_E_BANDS:
    case PARUS_E_INVALID:
    case PARUS_E_RANGE:
    case PARUS_E_PROJ:
    case PARUS_E_GEOMETRY:
        return true;
    default:
        return false;
    }
}

const char *parus_version(void)
{
    return PARUS_VERSION_STRING;
}

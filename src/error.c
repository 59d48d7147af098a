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

const char *parus_escape_controls(const char *s, char *buf, size_t size)
{
    size_t k = 0;
    if (!buf || size == 0)
        return "";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[5];
        size_t n;
        if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            n = 4;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (k + n >= size)
            break; /* cut, never in the middle of an escape */
        memcpy(buf + k, esc, n);
        k += n;
    }
    buf[k] = '\0';
    return buf;
}

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
        char raw[PARUS_ERROR_MSG_MAX];
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        /* ids and names come from users' files: a message stays one line that acts on no
         * terminal, wherever it is printed or written */
        parus_escape_controls(raw, err->msg, sizeof err->msg);
    }
    return code;
}

void parus_error_prefix(parus_error *err, const char *fmt, ...)
{
    char old[PARUS_ERROR_MSG_MAX], raw[PARUS_ERROR_MSG_MAX];
    size_t n;
    va_list ap;

    if (!err)
        return;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    parus_escape_controls(raw, err->msg, sizeof err->msg);
    n = strlen(err->msg);
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

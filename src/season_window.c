/*
 * season_window.c - a season's window as text ("YYYY-MM-DD/YYYY-MM-DD", both days included) and
 * back (parus/season.h). Kept apart from the features in season.c so that the query launcher,
 * which only names windows, links no more than it needs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "parus/season.h"
#include "parus/series.h"
#include "util_int.h"

parus_status parus_season_parse_window(const char *text, int64_t *start_day, size_t *length_days,
                                       parus_error *err)
{
    const char *slash;
    char first[16];
    int64_t a, b;
    parus_error e2;
    if (!text || !(slash = strchr(text, '/')) || (size_t)(slash - text) >= sizeof first)
        return parus_fail(err, PARUS_E_INVALID, "season '%s' is not a window YYYY-MM-DD/YYYY-MM-DD",
                          text ? text : "(null)");
    memcpy(first, text, (size_t)(slash - text));
    first[slash - text] = '\0';
    if (parus_series_parse_day(first, &a, &e2) != PARUS_OK ||
        parus_series_parse_day(slash + 1, &b, &e2) != PARUS_OK)
        return parus_fail(err, PARUS_E_INVALID, "season '%s' is not a window YYYY-MM-DD/YYYY-MM-DD",
                          text);
    if (b < a)
        return parus_fail(err, PARUS_E_INVALID, "season '%s' ends before it starts", text);
    *start_day = a;
    *length_days = (size_t)(b - a + 1);
    return PARUS_OK;
}

char *parus_season_window_text(int64_t start_day, size_t length_days, char *buf, size_t n)
{
    int64_t y0, y1;
    int m0, d0, m1, d1;
    parus__civil_from_days(start_day, &y0, &m0, &d0);
    parus__civil_from_days(start_day + (int64_t)(length_days ? length_days - 1 : 0), &y1, &m1, &d1);
    if (buf && n > 0)
        snprintf(buf, n, "%04lld-%02d-%02d/%04lld-%02d-%02d", (long long)y0, m0, d0, (long long)y1,
                 m1, d1);
    return buf;
}

/*
 * parus/chart.h - one parcel's season as a picture, for the analyst at a terminal
 * (`parus query PARCEL --chart FILE.png`).
 *
 * The chart shows, over the season's days: the parcel's raw NDVI observations (filled dots for
 * observations clear enough to count, hollow ones for those the series dropped), its gap-filled
 * and smoothed regular series (a line; interpolated stretches dashed), the peer median of the same
 * crop with the peers' spread as a band, optionally the crop's expected curve (thin, grey), and
 * the event flags as labelled vertical marks at their dates, and the radar vegetation index of
 * the parcel's Sentinel-1 observations where it has any. The season's first and last day are
 * the x axis' ends; NDVI runs from -0.2 to 1.
 *
 * Where the caller gives the parcel's daily rainfall, a panel under the NDVI plot, on the same
 * days, shows it: a bar per day (mm per day on the left axis), days without a value hatched
 * (never drawn as dry days), and on the right axis (mm) the season's running total of rain
 * beside the running total of the normal, so that a dry spell shows as the two lines parting;
 * the legend carries the caller's words for them (the season's total and its percent of normal,
 * or why there is no normal). Without rainfall nothing of it is drawn and the picture is
 * unchanged.
 *
 * Everything is drawn with cairo into an ARGB image written as PNG. Text uses cairo's toy font
 * API with the "sans-serif" face: the fonts installed decide how non-Latin titles look.
 *
 * Threads: no global state; a chart may be drawn from any thread.
 */
#ifndef PARUS_CHART_H
#define PARUS_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "parus/error.h"
#include "parus/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parus_chart_mark {
    double day;        /* day number (days since 1970-01-01) */
    const char *label; /* "FLOOD", "SUDDEN_LOSS" ...; borrowed */
} parus_chart_mark;

/* What to draw; every pointer is borrowed for the call and may be NULL where it says so. Days
 * are day numbers (parus_series_parse_day). NaN values are not drawn. */
typedef struct parus_chart {
    const char *title;    /* first line, e.g. "P000123 - summer_maize (p 0.93)"; NULL: none */
    const char *subtitle; /* second line; NULL: none */
    int64_t first_day, last_day; /* the season window, last >= first */

    /* raw observations (NULL when n_obs is 0) */
    size_t n_obs;
    const int64_t *obs_day;
    const double *obs_ndvi;
    const unsigned char *obs_used; /* 1: counted, 0: dropped (drawn hollow); NULL: all counted */

    /* the regular series: step i is dated step_first_day + i * step_days (its centre) */
    size_t n_steps;
    double step_first_day, step_days;
    const double *ndvi;              /* smoothed; NULL: none */
    const unsigned char *step_flag;  /* parus_series_flag per step (2 = interpolated); NULL */
    const double *peer_median;       /* NULL: no peers */
    const double *peer_lo, *peer_hi; /* the spread band; NULL: none */
    const double *expected;          /* the crop's expected curve; NULL: none */
    const char *peer_label;          /* legend text for the peers, e.g. "peers (37 parcels)" */

    /* radar (Sentinel-1): each observation's radar vegetation index 4 VH / (VV + VH), drawn on
     * the NDVI axis (both run about 0..1 over crops) as squares, the passes joined apart:
     * ascending filled, descending hollow; NaN not drawn; NULL when n_radar is 0 */
    size_t n_radar;
    const int64_t *radar_day;
    const double *radar_rvi;
    const unsigned char *radar_ascending; /* 1 ascending, 0 descending or unknown; NULL: all 1 */

    size_t n_marks;
    const parus_chart_mark *marks;

    /* rainfall, drawn as a panel under the NDVI plot on the same days (0: no panel, and the
     * picture is the same as without these fields). Day i is first_day + i; n_rain is at most
     * the window's days (later ones are not drawn). rain_mm: each day's rain (mm); a NaN day
     * has no value: it is hatched, never drawn as a dry day, adds nothing to the running
     * total, and the running total is dashed from it on (it holds only the measured days). */
    size_t n_rain;
    const double *rain_mm;
    const double *rain_normal_mm;  /* each day's climatological mean (mm); NULL: no normal */
    const char *rain_label;        /* legend of the running total, e.g. "rain 312 mm, 64 % of
                                      normal"; NULL: "rain, running total" */
    const char *rain_normal_label; /* legend of the normal's; NULL: "normal, running total" */
    const char *rain_note;         /* last in the legend (why no normal); NULL: none */
} parus_chart;

/* With a rain panel, the title, the NDVI plot and its legend keep this share of the picture's
 * height and the panel the rest (at least 8.6 text lines); a caller that wants the NDVI plot of
 * a picture h pixels high draws h / PARUS_CHART_NDVI_SHARE pixels. */
#define PARUS_CHART_NDVI_SHARE 0.72

/* Draw the chart into a width_px x height_px PNG at path (overwritten). Sizes 200..4000.
 * Errors: E_INVALID (a size out of range, last_day < first_day, a NULL array that a count says
 * is there, more rain days than the window's), E_IO (cairo cannot write the file: the message names
 * it and carries cairo's reason), E_NOMEM. */
PARUS_API parus_status parus_chart_write_png(const parus_chart *chart, const char *path,
                                             int width_px, int height_px, parus_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * chart_int.h - what the chart's tests look at inside src/chart.c. Not part of the public API.
 */
#ifndef PARUS_CHART_INT_H
#define PARUS_CHART_INT_H

#include <stdbool.h>

/* The font family the chart draws text with: "sans-serif" when it has a glyph for every
 * character of text, else the first installed CJK family that has them all (Chinese names),
 * else "sans-serif". */
const char *parus__chart_family_for(const char *text);

/* The plots' rectangles in a width_px x height_px chart, {x, y, width, height} in pixels: the
 * NDVI plot's and, when rain is drawn, the rain panel's (its height 0 when not). */
void parus__chart_plots(int width_px, int height_px, bool rain, double ndvi_box[4],
                        double rain_box[4]);

#endif

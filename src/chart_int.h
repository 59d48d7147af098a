/*
 * chart_int.h - what the chart's tests look at inside src/chart.c. Not part of the public API.
 */
#ifndef PARUS_CHART_INT_H
#define PARUS_CHART_INT_H

/* The font family the chart draws text with: "sans-serif" when it has a glyph for every
 * character of text, else the first installed CJK family that has them all (Chinese names),
 * else "sans-serif". */
const char *parus__chart_family_for(const char *text);

#endif

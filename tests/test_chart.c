/*
 * test_chart.c - the season chart: a PNG of the asked size whose pixels show the parcel's line,
 * the peer band and the flags where their values put them, the rain panel's bars, gaps and
 * running totals under it (and nothing of it without rain); bad arguments refused.
 */
#include "chart_int.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "parus/chart.h"

#define N_STEPS 21

struct fixture {
    int64_t obs_day[N_STEPS];
    double obs_ndvi[N_STEPS];
    double ndvi[N_STEPS], lo[N_STEPS], hi[N_STEPS], med[N_STEPS];
    parus_chart_mark mark;
    parus_chart chart;
};

static void fixture_fill(struct fixture *fx)
{
    size_t i;
    memset(fx, 0, sizeof *fx);
    for (i = 0; i < N_STEPS; i++) {
        fx->obs_day[i] = 19783 + (int64_t)(i * 10);
        fx->ndvi[i] = 0.8; /* a flat line: its pixel row is known */
        fx->obs_ndvi[i] = 0.8;
        fx->med[i] = 0.3;
        fx->lo[i] = 0.2;
        fx->hi[i] = 0.4;
    }
    fx->mark.day = 19783 + 100;
    fx->mark.label = "FLOOD";
    fx->chart.title = "P000001 - summer_maize (p 0.93)";
    fx->chart.subtitle = "2024-03-01/2024-09-26";
    fx->chart.first_day = 19783;
    fx->chart.last_day = 19783 + 200;
    fx->chart.n_obs = N_STEPS;
    fx->chart.obs_day = fx->obs_day;
    fx->chart.obs_ndvi = fx->obs_ndvi;
    fx->chart.n_steps = N_STEPS;
    fx->chart.step_first_day = 19783;
    fx->chart.step_days = 10;
    fx->chart.ndvi = fx->ndvi;
    fx->chart.peer_median = fx->med;
    fx->chart.peer_lo = fx->lo;
    fx->chart.peer_hi = fx->hi;
    fx->chart.n_marks = 1;
    fx->chart.marks = &fx->mark;
}

/* Count pixels in column x whose colour is close to rgb. */
static int column_hits(cairo_surface_t *s, int x, unsigned rgb)
{
    int h = cairo_image_surface_get_height(s), stride = cairo_image_surface_get_stride(s), y,
        hits = 0;
    const unsigned char *data = cairo_image_surface_get_data(s);
    for (y = 0; y < h; y++) {
        uint32_t px =
            *(const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride + (size_t)x * 4);
        int r = (int)((px >> 16) & 0xff), g = (int)((px >> 8) & 0xff), b = (int)(px & 0xff);
        if (abs(r - (int)((rgb >> 16) & 0xff)) < 40 && abs(g - (int)((rgb >> 8) & 0xff)) < 40 &&
            abs(b - (int)(rgb & 0xff)) < 40)
            hits++;
    }
    return hits;
}

static void test_chart__draws_what_it_is_given(void **state)
{
    struct fixture fx;
    parus_error err = {0};
    char *dir = parus_test_tmpdir("chart"), *png = parus_test_path(dir, "p.png");
    cairo_surface_t *s;
    (void)state;
    fixture_fill(&fx);
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_OK);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), 800);
    assert_int_equal(cairo_image_surface_get_height(s), 450);
    cairo_surface_flush(s);
    /* a column in the middle of the plot crosses the parcel's line (dark blue), the peers'
     * median (orange) and the band; the flag's column is red */
    assert_true(column_hits(s, 400, 0x1f4e99) >= 2);
    assert_true(column_hits(s, 400, 0xf5a623) >= 1);
    {
        /* the flag at day +100 of 200: the middle of the plot's width */
        int x, red = 0;
        for (x = 380; x < 480; x++)
            red += column_hits(s, x, 0xd0021b);
        assert_true(red > 50);
    }
    cairo_surface_destroy(s);

    /* no peers, no marks: no orange and no red left in the plot */
    fx.chart.peer_median = fx.chart.peer_lo = fx.chart.peer_hi = NULL;
    fx.chart.n_marks = 0;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_OK);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(column_hits(s, 400, 0xf5a623), 0);
    assert_int_equal(column_hits(s, 430, 0xd0021b), 0);
    cairo_surface_destroy(s);
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

/* Chinese names (a farmer, a parcel) are drawn with a face that has their glyphs, not as boxes:
 * tools/setup.sh installs WenQuanYi Zen Hei; without any CJK font the test says so and skips. */
static void test_chart__chinese_text_gets_a_face_with_its_glyphs(void **state)
{
    const char *latin, *chinese;
    (void)state;
    latin = parus__chart_family_for("P000013 - winter_wheat (p 0.93, model)");
    assert_string_equal(latin, "sans-serif");
    chinese = parus__chart_family_for("farmer 张三   season 2024-03-01/2024-10-31");
    if (strcmp(chinese, "sans-serif") == 0) {
        fprintf(stderr, "no CJK font installed (fonts-wqy-zenhei): Chinese draws as boxes\n");
        skip();
    }
    assert_string_not_equal(chinese, "sans-serif");
    assert_string_equal(parus__chart_family_for(NULL), "sans-serif");
}

/* The radar series: green squares at their RVI on their dates, a line per pass; none drawn
 * without radar; a count without arrays refused. */
static void test_chart__radar_series(void **state)
{
    struct fixture fx;
    parus_error err = {0};
    char *dir = parus_test_tmpdir("chart-radar"), *png = parus_test_path(dir, "p.png");
    int64_t day[6];
    double rvi[6];
    unsigned char asc[6];
    cairo_surface_t *s;
    int x, green = 0;
    size_t i;
    (void)state;
    fixture_fill(&fx);
    for (i = 0; i < 6; i++) {
        day[i] = 19783 + 20 + (int64_t)(i * 30);
        rvi[i] = 0.5;
        asc[i] = i % 2 == 0;
    }
    fx.chart.n_radar = 6;
    fx.chart.radar_day = day;
    fx.chart.radar_rvi = rvi;
    fx.chart.radar_ascending = asc;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_OK);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    for (x = 0; x < 800; x++)
        green += column_hits(s, x, 0x417505);
    assert_true(green > 100);
    cairo_surface_destroy(s);
    fx.chart.n_radar = 0;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_OK);
    s = cairo_image_surface_create_from_png(png);
    for (x = 0, green = 0; x < 800; x++)
        green += column_hits(s, x, 0x417505);
    assert_int_equal(green, 0);
    cairo_surface_destroy(s);
    fx.chart.n_radar = 6;
    fx.chart.radar_rvi = NULL;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_E_INVALID);
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

/* ---- the rain panel ---- */

#define RAIN_DAYS 201 /* the fixture's window: first_day .. first_day + 200 */
#define RAIN_W 800
#define RAIN_H 625

/* Pixels in column x, rows y0 .. y1 - 1, whose colour is close to rgb. */
static int column_hits_in(cairo_surface_t *s, int x, int y0, int y1, unsigned rgb)
{
    int stride = cairo_image_surface_get_stride(s), y, hits = 0;
    const unsigned char *data = cairo_image_surface_get_data(s);
    for (y = y0; y < y1; y++) {
        uint32_t px =
            *(const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride + (size_t)x * 4);
        int r = (int)((px >> 16) & 0xff), g = (int)((px >> 8) & 0xff), b = (int)(px & 0xff);
        if (abs(r - (int)((rgb >> 16) & 0xff)) < 40 && abs(g - (int)((rgb >> 8) & 0xff)) < 40 &&
            abs(b - (int)(rgb & 0xff)) < 40)
            hits++;
    }
    return hits;
}

/* The rain panel's plot, inside its frame by two pixels. */
struct box {
    int x0, x1, y0, y1;
    double left, width; /* for day_x */
    int ndvi_bottom;    /* the NDVI plot's lowest row */
};

static struct box rain_box(void)
{
    double ndvi[4], rain[4];
    struct box b;
    parus__chart_plots(RAIN_W, RAIN_H, true, ndvi, rain);
    b.x0 = (int)ceil(rain[0]) + 2;
    b.x1 = (int)floor(rain[0] + rain[2]) - 2;
    b.y0 = (int)ceil(rain[1]) + 2;
    b.y1 = (int)floor(rain[1] + rain[3]) - 2;
    b.left = rain[0];
    b.width = rain[2];
    b.ndvi_bottom = (int)floor(ndvi[1] + ndvi[3]);
    assert_true(b.y1 - b.y0 > 50);
    /* under the NDVI plot, on the same x */
    assert_true(rain[1] > ndvi[1] + ndvi[3]);
    assert_close(rain[0], ndvi[0], 0, 0);
    assert_close(rain[2], ndvi[2], 0, 0);
    return b;
}

/* The pixel column at the middle of day k of the fixture's window. */
static int day_x(const struct box *b, double k)
{
    return (int)floor(b->left + k / (double)(RAIN_DAYS - 1) * b->width);
}

/* Pixels of the plot's column x near rgb. */
static int plot_hits(cairo_surface_t *s, const struct box *b, int x, unsigned rgb)
{
    return column_hits_in(s, x, b->y0, b->y1, rgb);
}

/* The most and the fewest such pixels in one column of x0..x1. */
static void plot_hits_range(cairo_surface_t *s, const struct box *b, int x0, int x1, unsigned rgb,
                            int *most, int *fewest)
{
    int x;
    *most = 0;
    *fewest = b->y1 - b->y0;
    for (x = x0; x <= x1; x++) {
        int n = plot_hits(s, b, x, rgb);
        *most = n > *most ? n : *most;
        *fewest = n < *fewest ? n : *fewest;
    }
}

#define BAR_RGB 0x74a9cfu
#define SUM_RGB 0x045a8du
#define NORMAL_RGB 0x636363u
#define HATCH_RGB 0xb0b0b0u

static cairo_surface_t *draw_and_read(const parus_chart *c, const char *png, int w, int h)
{
    parus_error err = {0};
    cairo_surface_t *s;
    if (parus_chart_write_png(c, png, w, h, &err) != PARUS_OK)
        fail_msg("%s", err.msg);
    s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), w);
    assert_int_equal(cairo_image_surface_get_height(s), h);
    cairo_surface_flush(s);
    return s;
}

/* Daily rain draws bars in the panel under the NDVI plot, its running total and the normal's
 * as lines; without a normal no normal's line. */
static void test_chart__rain_panel_draws_bars_and_totals(void **state)
{
    struct fixture fx;
    double rain[RAIN_DAYS], normal[RAIN_DAYS];
    char *dir = parus_test_tmpdir("chart-rain"), *png = parus_test_path(dir, "p.png");
    cairo_surface_t *s;
    struct box b = rain_box();
    int most, fewest;
    size_t i;
    (void)state;
    fixture_fill(&fx);
    for (i = 0; i < RAIN_DAYS; i++) {
        rain[i] = i % 5 == 0 ? 12.0 : 0.0; /* a wet day in five */
        normal[i] = 1.5;
    }
    fx.chart.n_rain = RAIN_DAYS;
    fx.chart.rain_mm = rain;
    fx.chart.rain_normal_mm = normal;
    fx.chart.rain_label = "rain 579 mm, 193 % of normal";
    fx.chart.rain_normal_label = "normal 301 mm (30 years)";
    s = draw_and_read(&fx.chart, png, RAIN_W, RAIN_H);
    /* a bar on the wet day 100 (12 of 15 mm: most of the plot's height), none on the dry day
     * 102 (a line crossing the column leaves a few pixels at most); a dry day is not hatched
     * (the hatch crosses a column every 6 pixels; a dashed line's ends leave a few greys) */
    assert_true(plot_hits(s, &b, day_x(&b, 100.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    assert_true(plot_hits(s, &b, day_x(&b, 102.0), BAR_RGB) <= 3);
    plot_hits_range(s, &b, b.x0, b.x1, HATCH_RGB, &most, &fewest);
    assert_true(most <= 6);
    /* the running totals cross every column of the plot (from day 20, clear of its foot) */
    plot_hits_range(s, &b, day_x(&b, 20.0), day_x(&b, 198.0), SUM_RGB, &most, &fewest);
    assert_true(fewest >= 1);
    plot_hits_range(s, &b, day_x(&b, 20.0), day_x(&b, 198.0), NORMAL_RGB, &most, &fewest);
    assert_true(most >= 1);
    /* the NDVI plot is still drawn above */
    assert_true(column_hits(s, 400, 0x1f4e99) >= 2);
    cairo_surface_destroy(s);

    /* no normal: the rain without the normal's line */
    fx.chart.rain_normal_mm = NULL;
    fx.chart.rain_normal_label = NULL;
    fx.chart.rain_note = "no normal: 5 earlier years of weather, 8 needed";
    s = draw_and_read(&fx.chart, png, RAIN_W, RAIN_H);
    assert_true(plot_hits(s, &b, day_x(&b, 100.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    plot_hits_range(s, &b, day_x(&b, 20.0), day_x(&b, 198.0), SUM_RGB, &most, &fewest);
    assert_true(fewest >= 1);
    plot_hits_range(s, &b, b.x0, b.x1, NORMAL_RGB, &most, &fewest);
    assert_int_equal(most, 0);
    cairo_surface_destroy(s);

    /* the smallest picture still has room for both */
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 200, 200, NULL), PARUS_OK);
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

/* A day without a value is hatched, never a bar and never a dry day; the days after it are
 * still drawn. */
static void test_chart__rain_nan_day_is_a_gap_not_a_bar(void **state)
{
    struct fixture fx;
    double rain[RAIN_DAYS];
    char *dir = parus_test_tmpdir("chart-rain-nan"), *png = parus_test_path(dir, "p.png");
    cairo_surface_t *s;
    struct box b = rain_box();
    int most, fewest;
    size_t i;
    (void)state;
    fixture_fill(&fx);
    for (i = 0; i < RAIN_DAYS; i++)
        rain[i] = i >= 100 && i < 110 ? (double)NAN : 10.0; /* rain every day but 100..109 */
    fx.chart.n_rain = RAIN_DAYS;
    fx.chart.rain_mm = rain;
    s = draw_and_read(&fx.chart, png, RAIN_W, RAIN_H);
    /* days 101..108: no bar in any column (10 mm is the plot's full height elsewhere), every
     * column crossed by the hatch's diagonals (one each 6 pixels) */
    plot_hits_range(s, &b, day_x(&b, 101.0), day_x(&b, 108.0), BAR_RGB, &most, &fewest);
    assert_true(most <= 3);
    plot_hits_range(s, &b, day_x(&b, 101.0), day_x(&b, 108.0), HATCH_RGB, &most, &fewest);
    assert_true(fewest >= (b.y1 - b.y0) / 8);
    /* the days either side have bars and no hatch */
    assert_true(plot_hits(s, &b, day_x(&b, 95.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    assert_true(plot_hits(s, &b, day_x(&b, 115.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    plot_hits_range(s, &b, day_x(&b, 90.0), day_x(&b, 97.0), HATCH_RGB, &most, &fewest);
    assert_true(most <= 6);
    plot_hits_range(s, &b, day_x(&b, 112.0), day_x(&b, 120.0), HATCH_RGB, &most, &fewest);
    assert_true(most <= 6);
    cairo_surface_destroy(s);

    /* a single NaN day among wet ones: its column has no bar */
    for (i = 0; i < RAIN_DAYS; i++)
        rain[i] = 10.0;
    rain[150] = NAN;
    s = draw_and_read(&fx.chart, png, RAIN_W, RAIN_H);
    assert_true(plot_hits(s, &b, day_x(&b, 150.0), BAR_RGB) <= 3);
    assert_true(plot_hits(s, &b, day_x(&b, 149.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    assert_true(plot_hits(s, &b, day_x(&b, 151.0), BAR_RGB) > (b.y1 - b.y0) / 2);
    cairo_surface_destroy(s);
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

/* Pixels equal byte for byte. */
static bool same_pixels(cairo_surface_t *a, cairo_surface_t *b)
{
    int h = cairo_image_surface_get_height(a), stride = cairo_image_surface_get_stride(a), y;
    if (h != cairo_image_surface_get_height(b) ||
        cairo_image_surface_get_width(a) != cairo_image_surface_get_width(b) ||
        stride != cairo_image_surface_get_stride(b))
        return false;
    for (y = 0; y < h; y++)
        if (memcmp(cairo_image_surface_get_data(a) + (size_t)y * (size_t)stride,
                   cairo_image_surface_get_data(b) + (size_t)y * (size_t)stride,
                   (size_t)cairo_image_surface_get_width(a) * 4) != 0)
            return false;
    return true;
}

/* No rain days: the picture is the chart without the rain fields, pixel for pixel, whatever
 * else of the rain is set; a count without its days, or more days than the window, refused. */
static void test_chart__no_rain_leaves_the_picture_as_it_was(void **state)
{
    struct fixture fx;
    double rain[RAIN_DAYS + 1], normal[RAIN_DAYS];
    char *dir = parus_test_tmpdir("chart-rain-none"), *png = parus_test_path(dir, "p.png");
    parus_error err = {0};
    cairo_surface_t *a, *b;
    size_t i;
    (void)state;
    for (i = 0; i < RAIN_DAYS; i++)
        rain[i] = normal[i] = 3.0;
    rain[RAIN_DAYS] = 3.0;
    fixture_fill(&fx);
    a = draw_and_read(&fx.chart, png, 800, 450);
    fx.chart.rain_mm = rain;
    fx.chart.rain_normal_mm = normal;
    fx.chart.rain_label = "rain";
    fx.chart.rain_normal_label = "normal";
    fx.chart.rain_note = "a note";
    b = draw_and_read(&fx.chart, png, 800, 450);
    assert_true(same_pixels(a, b));
    cairo_surface_destroy(b);
    /* with rain it is another picture */
    fx.chart.n_rain = RAIN_DAYS;
    b = draw_and_read(&fx.chart, png, 800, 450);
    assert_false(same_pixels(a, b));
    cairo_surface_destroy(b);
    cairo_surface_destroy(a);

    fx.chart.n_rain = RAIN_DAYS + 1; /* a day past the window */
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_E_INVALID);
    assert_non_null(strstr(err.msg, "rain"));
    fx.chart.n_rain = RAIN_DAYS;
    fx.chart.rain_mm = NULL;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_E_INVALID);
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

static void test_chart__bad_arguments(void **state)
{
    struct fixture fx;
    parus_error err = {0};
    char *dir = parus_test_tmpdir("chart-bad"), *png = parus_test_path(dir, "p.png");
    (void)state;
    fixture_fill(&fx);
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 100, 450, &err), PARUS_E_INVALID);
    fx.chart.last_day = fx.chart.first_day - 1;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_E_INVALID);
    fixture_fill(&fx);
    fx.chart.obs_day = NULL;
    assert_int_equal(parus_chart_write_png(&fx.chart, png, 800, 450, &err), PARUS_E_INVALID);
    fixture_fill(&fx);
    assert_int_equal(parus_chart_write_png(&fx.chart, "/nonexistent-dir/p.png", 800, 450, &err),
                     PARUS_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/p.png"));
    parus_test_rmtree(dir);
    free(png);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart__draws_what_it_is_given),
        cmocka_unit_test(test_chart__chinese_text_gets_a_face_with_its_glyphs),
        cmocka_unit_test(test_chart__radar_series),
        cmocka_unit_test(test_chart__rain_panel_draws_bars_and_totals),
        cmocka_unit_test(test_chart__rain_nan_day_is_a_gap_not_a_bar),
        cmocka_unit_test(test_chart__no_rain_leaves_the_picture_as_it_was),
        cmocka_unit_test(test_chart__bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

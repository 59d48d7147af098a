/*
 * test_chart.c - the season chart: a PNG of the asked size whose pixels show the parcel's line,
 * the peer band and the flags where their values put them; bad arguments refused.
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
        cmocka_unit_test(test_chart__bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

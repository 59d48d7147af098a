/*
 * chart.c - a parcel's season drawn with cairo (parus/chart.h says what is drawn).
 *
 * Layout: a plot area with fixed margins (title above, month ticks below, NDVI ticks left, a
 * legend strip under the axis). Coordinates map day numbers linearly onto x and NDVI in
 * [NDVI_MIN, NDVI_MAX] onto y; values outside are clipped by the plot rectangle. Colours are
 * chosen to survive a grey-scale printout: the parcel in dark blue, the peers in orange with a
 * light band, the expected curve in grey, flags in red.
 *
 * With rainfall the NDVI layout above keeps PARUS_CHART_NDVI_SHARE of the height (its right
 * margin widened for the running totals' axis) and the rain panel takes the rest: the same x
 * mapping, bars in light blue on a mm/day axis, the running totals on a mm axis at the right,
 * days without a value hatched in grey, its own month ticks and legend. Without rainfall the
 * code takes exactly the path it took before the panel existed, so the picture is the same to
 * the byte.
 */
#include "parus/chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>

#include "chart_int.h"
#include "outfile_int.h"

#define NDVI_MIN (-0.2)
#define NDVI_MAX 1.0
#define PI 3.14159265358979323846

struct frame {
    double x0, y0, w, h; /* plot rectangle in pixels */
    double first, last;  /* days */
};

static double fx(const struct frame *f, double day)
{
    return f->x0 + (day - f->first) / (f->last - f->first) * f->w;
}

static double fy(const struct frame *f, double ndvi)
{
    return f->y0 + f->h - (ndvi - NDVI_MIN) / (NDVI_MAX - NDVI_MIN) * f->h;
}

/* Civil date of a day number (days since 1970-01-01), proleptic Gregorian: the era arithmetic
 * of 400-year cycles (146097 days). */
static void civil_from_day(int64_t day, int *year, int *month, int *mday)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* from 1 March */
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *mday = (int)d;
}

static void set_rgb(cairo_t *cr, unsigned rgb, double alpha)
{
    cairo_set_source_rgba(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                          (rgb & 0xff) / 255.0, alpha);
}

/* A polyline through the finite points of v (n steps); a NaN breaks the line. dashed_flag: steps
 * whose flag is 2 (interpolated) are drawn dashed. */
static void draw_steps(cairo_t *cr, const struct frame *f, const parus_chart *c, const double *v,
                       const unsigned char *flag, unsigned rgb, double width)
{
    size_t i;
    set_rgb(cr, rgb, 1.0);
    cairo_set_line_width(cr, width);
    for (i = 0; i + 1 < c->n_steps; i++) {
        double d0 = c->step_first_day + (double)i * c->step_days;
        double d1 = d0 + c->step_days;
        bool dashed;
        if (!isfinite(v[i]) || !isfinite(v[i + 1]))
            continue;
        dashed = flag && (flag[i] == 2 || flag[i + 1] == 2);
        if (dashed) {
            static const double dash[] = {6.0, 4.0};
            cairo_set_dash(cr, dash, 2, 0.0);
        } else {
            cairo_set_dash(cr, NULL, 0, 0.0);
        }
        cairo_move_to(cr, fx(f, d0), fy(f, v[i]));
        cairo_line_to(cr, fx(f, d1), fy(f, v[i + 1]));
        cairo_stroke(cr);
    }
    cairo_set_dash(cr, NULL, 0, 0.0);
}

static void draw_band(cairo_t *cr, const struct frame *f, const parus_chart *c)
{
    size_t i = 0;
    set_rgb(cr, 0xf5a623, 0.25);
    /* one closed polygon per run of steps where both edges are finite */
    while (i < c->n_steps) {
        size_t a, b, k;
        while (i < c->n_steps && !(isfinite(c->peer_lo[i]) && isfinite(c->peer_hi[i])))
            i++;
        a = i;
        while (i < c->n_steps && isfinite(c->peer_lo[i]) && isfinite(c->peer_hi[i]))
            i++;
        b = i;
        if (b - a < 2)
            continue;
        for (k = a; k < b; k++) {
            double d = c->step_first_day + (double)k * c->step_days;
            if (k == a)
                cairo_move_to(cr, fx(f, d), fy(f, c->peer_hi[k]));
            else
                cairo_line_to(cr, fx(f, d), fy(f, c->peer_hi[k]));
        }
        for (k = b; k-- > a;) {
            double d = c->step_first_day + (double)k * c->step_days;
            cairo_line_to(cr, fx(f, d), fy(f, c->peer_lo[k]));
        }
        cairo_close_path(cr);
        cairo_fill(cr);
    }
}

#define RADAR_RGB 0x417505u

/* One pass family of the radar series: its RVI values joined by a thin line in date order,
 * each a square (filled for ascending, hollow for descending). */
static void draw_radar(cairo_t *cr, const struct frame *f, const parus_chart *c, double font_px,
                       bool ascending)
{
    size_t i;
    bool open = false;
    double half = font_px * 0.24;
    set_rgb(cr, RADAR_RGB, 0.55);
    cairo_set_line_width(cr, 1.0);
    cairo_new_path(cr);
    for (i = 0; i < c->n_radar; i++) {
        bool asc = c->radar_ascending ? c->radar_ascending[i] != 0 : true;
        if (asc != ascending || !isfinite(c->radar_rvi[i]))
            continue;
        if (open)
            cairo_line_to(cr, fx(f, (double)c->radar_day[i]), fy(f, c->radar_rvi[i]));
        else
            cairo_move_to(cr, fx(f, (double)c->radar_day[i]), fy(f, c->radar_rvi[i]));
        open = true;
    }
    cairo_stroke(cr);
    set_rgb(cr, RADAR_RGB, 1.0);
    for (i = 0; i < c->n_radar; i++) {
        bool asc = c->radar_ascending ? c->radar_ascending[i] != 0 : true;
        if (asc != ascending || !isfinite(c->radar_rvi[i]))
            continue;
        cairo_new_path(cr);
        cairo_rectangle(cr, fx(f, (double)c->radar_day[i]) - half, fy(f, c->radar_rvi[i]) - half,
                        2.0 * half, 2.0 * half);
        if (ascending) {
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, 1.2);
            cairo_stroke(cr);
        }
    }
}

/* A light vertical line and a label on the first of every month in the window (the current
 * font size). */
static void draw_months(cairo_t *cr, const struct frame *f, double font_px)
{
    char buf[32];
    int year, month, mday;
    int64_t day;
    static const char *const month_name[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    for (day = (int64_t)f->first; day <= (int64_t)f->last; day++) {
        double x;
        civil_from_day(day, &year, &month, &mday);
        if (mday != 1)
            continue;
        x = fx(f, (double)day);
        set_rgb(cr, 0xeeeeee, 1.0);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y0 + f->h);
        cairo_stroke(cr);
        set_rgb(cr, 0x333333, 1.0);
        if (month == 1)
            snprintf(buf, sizeof buf, "%s %d", month_name[month - 1], year);
        else
            snprintf(buf, sizeof buf, "%s", month_name[month - 1]);
        cairo_move_to(cr, x + 2.0, f->y0 + f->h + font_px + 4.0);
        cairo_show_text(cr, buf);
    }
}

static void draw_axes(cairo_t *cr, const struct frame *f, double font_px)
{
    char buf[32];
    double v;

    cairo_set_font_size(cr, font_px);
    /* NDVI grid and ticks */
    for (v = -0.2; v <= 1.0001; v += 0.2) {
        double y = fy(f, v);
        cairo_text_extents_t ext;
        set_rgb(cr, fabs(v) < 1e-9 ? 0x999999 : 0xdddddd, 1.0);
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, f->x0, y);
        cairo_line_to(cr, f->x0 + f->w, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.1f", fabs(v) < 1e-9 ? 0.0 : v);
        cairo_text_extents(cr, buf, &ext);
        set_rgb(cr, 0x333333, 1.0);
        cairo_move_to(cr, f->x0 - ext.x_advance - 6.0, y + ext.height / 2.0);
        cairo_show_text(cr, buf);
    }
    draw_months(cr, f, font_px);
    set_rgb(cr, 0x333333, 1.0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, f->x0, f->y0, f->w, f->h);
    cairo_stroke(cr);
    cairo_save(cr);
    cairo_move_to(cr, f->x0 - 4.0 * font_px, f->y0 + f->h / 2.0 + font_px);
    cairo_rotate(cr, -PI / 2.0);
    cairo_show_text(cr, "NDVI");
    cairo_restore(cr);
}

static void legend_item(cairo_t *cr, double *x, double y, unsigned rgb, const char *text,
                        double font_px, bool band)
{
    cairo_text_extents_t ext;
    if (band) {
        set_rgb(cr, rgb, 0.25);
        cairo_rectangle(cr, *x, y - font_px * 0.6, 22.0, font_px * 0.8);
        cairo_fill(cr);
    }
    set_rgb(cr, rgb, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_move_to(cr, *x, y - font_px * 0.25);
    cairo_line_to(cr, *x + 22.0, y - font_px * 0.25);
    cairo_stroke(cr);
    set_rgb(cr, 0x333333, 1.0);
    cairo_move_to(cr, *x + 27.0, y);
    cairo_show_text(cr, text);
    cairo_text_extents(cr, text, &ext);
    *x += 27.0 + ext.x_advance + 18.0;
}

/* True when the current face has no glyph for a character of text (glyph 0, drawn as a box). */
static bool lacks_glyph(cairo_t *cr, const char *text)
{
    cairo_glyph_t *g = NULL;
    int n = 0, i;
    bool lacks = false;
    if (cairo_scaled_font_text_to_glyphs(cairo_get_scaled_font(cr), 0.0, 0.0, text, -1, &g, &n,
                                         NULL, NULL, NULL) != CAIRO_STATUS_SUCCESS)
        return false;
    for (i = 0; i < n && !lacks; i++)
        lacks = g[i].index == 0;
    cairo_glyph_free(g);
    return lacks;
}

/* Faces tried, in order, for text the default sans-serif face cannot draw (Chinese farmer and
 * parcel names): cairo's toy font API takes one face and does not fall back glyph by glyph. */
static const char *const cjk_families[] = {"WenQuanYi Zen Hei", "Noto Sans CJK SC",
                                           "Droid Sans Fallback", "AR PL UMing CN"};

/* Select the face for text on cr: sans-serif when it has every glyph, else the first CJK face
 * installed that has them all, else sans-serif. Returns the family selected. */
static const char *select_face_for(cairo_t *cr, const char *text, cairo_font_weight_t weight)
{
    size_t k;
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, weight);
    if (!text || !lacks_glyph(cr, text))
        return "sans-serif";
    for (k = 0; k < sizeof cjk_families / sizeof cjk_families[0]; k++) {
        cairo_select_font_face(cr, cjk_families[k], CAIRO_FONT_SLANT_NORMAL, weight);
        if (!lacks_glyph(cr, text))
            return cjk_families[k];
    }
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, weight);
    return "sans-serif";
}

const char *parus__chart_family_for(const char *text)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    const char *family = select_face_for(cr, text, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return family;
}

/* ---- the layout ---- */

/* The height the title, the NDVI plot and its legend take of a picture with a rain panel: the
 * NDVI share, less what the panel needs at the least (its plot 2.8 lines high). */
static double ndvi_height(int height_px)
{
    double top = floor(height_px * PARUS_CHART_NDVI_SHARE + 0.5);
    double font_px = top / 40.0 < 10.0 ? 10.0 : top / 40.0;
    double min_panel = ceil(8.6 * font_px);
    return height_px - top < min_panel ? height_px - min_panel : top;
}

/* The NDVI plot's rectangle and the text size; *top_px: where the rain panel begins. */
static void layout(int width_px, int height_px, bool rain, struct frame *f, double *font_px,
                   double *top_px)
{
    *top_px = rain ? ndvi_height(height_px) : (double)height_px;
    *font_px = *top_px / 40.0 < 10.0 ? 10.0 : *top_px / 40.0;
    f->x0 = 5.5 * *font_px;
    f->y0 = 4.2 * *font_px;
    /* the rain panel's running totals have their axis on the right */
    f->w = width_px - f->x0 - (rain ? 4.5 : 1.5) * *font_px;
    f->h = *top_px - f->y0 - 5.0 * *font_px;
}

/* The rain panel's plot rectangle under the NDVI plot's (above). */
static void rain_layout(const struct frame *above, double top_px, int height_px, double font_px,
                        struct frame *f)
{
    *f = *above;
    f->y0 = top_px + 0.8 * font_px;
    f->h = height_px - f->y0 - 5.0 * font_px;
}

void parus__chart_plots(int width_px, int height_px, bool rain, double ndvi_box[4],
                        double rain_box[4])
{
    struct frame f, r;
    double font_px, top_px;
    layout(width_px, height_px, rain, &f, &font_px, &top_px);
    rain_layout(&f, top_px, height_px, font_px, &r);
    ndvi_box[0] = f.x0;
    ndvi_box[1] = f.y0;
    ndvi_box[2] = f.w;
    ndvi_box[3] = f.h;
    rain_box[0] = r.x0;
    rain_box[1] = r.y0;
    rain_box[2] = r.w;
    rain_box[3] = rain ? r.h : 0.0;
}

/* ---- the rain panel ---- */

#define RAIN_BAR_RGB 0x74a9cfu
#define RAIN_SUM_RGB 0x045a8du
#define RAIN_NORMAL_RGB 0x636363u
#define RAIN_HATCH_RGB 0xb0b0b0u

static const double rain_dash_normal[] = {7.0, 4.0};
static const double rain_dash_partial[] = {2.0, 3.0};

/* An axis from 0 to a round top at or above max (and at least least): steps of 1, 2 or 5 times
 * a power of ten, at most four of them. */
static void round_axis(double max, double least, double *top, double *step)
{
    static const double mult[] = {1.0, 2.0, 5.0, 10.0};
    double m = isfinite(max) && max > least ? max : least;
    double raw = m / 4.0, p = pow(10.0, floor(log10(raw)));
    size_t k;
    *step = 10.0 * p;
    for (k = 0; k < sizeof mult / sizeof mult[0]; k++)
        if (mult[k] * p >= raw * (1.0 - 1e-9)) {
            *step = mult[k] * p;
            break;
        }
    *top = ceil(m / *step - 1e-9) * *step;
}

static double ry(const struct frame *f, double v, double top)
{
    return f->y0 + f->h - v / top * f->h;
}

/* The days with no value, a run at a time: a light fill crossed by diagonal lines over the
 * panel's height, so that a gap never reads as a dry day. */
static void draw_rain_gaps(cairo_t *cr, const struct frame *f, const parus_chart *c)
{
    size_t i = 0;
    while (i < c->n_rain) {
        size_t a;
        double x0, x1, k;
        if (isfinite(c->rain_mm[i])) {
            i++;
            continue;
        }
        for (a = i; i < c->n_rain && !isfinite(c->rain_mm[i]); i++)
            ;
        x0 = fx(f, (double)c->first_day + (double)a - 0.5);
        x1 = fx(f, (double)c->first_day + (double)i - 0.5);
        cairo_save(cr);
        cairo_rectangle(cr, x0, f->y0, x1 - x0, f->h);
        cairo_clip(cr);
        set_rgb(cr, 0xececec, 1.0);
        cairo_paint(cr);
        set_rgb(cr, RAIN_HATCH_RGB, 1.0);
        cairo_set_line_width(cr, 1.0);
        for (k = x0 - f->h; k < x1; k += 6.0) {
            cairo_move_to(cr, k, f->y0 + f->h);
            cairo_line_to(cr, k + f->h, f->y0);
        }
        cairo_stroke(cr);
        cairo_restore(cr);
    }
}

/* The running total of v from first_day on the right axis (0..top): a NaN day adds nothing and
 * breaks the line, which goes on from the next day dashed partial (a total of the measured days
 * only); dash: the whole line dashed so (NULL: solid until a gap). */
static void draw_running(cairo_t *cr, const struct frame *f, const parus_chart *c, const double *v,
                         double top, unsigned rgb, double width, const double *dash)
{
    double sum = 0.0;
    bool open = false, partial = false;
    size_t i;
    set_rgb(cr, rgb, 1.0);
    cairo_set_line_width(cr, width);
    cairo_new_path(cr);
    for (i = 0; i < c->n_rain; i++) {
        double x = fx(f, (double)c->first_day + (double)i);
        if (!isfinite(v[i])) {
            if (open)
                cairo_stroke(cr);
            open = false;
            partial = true;
            continue;
        }
        sum += v[i] > 0.0 ? v[i] : 0.0;
        if (!open) {
            if (dash)
                cairo_set_dash(cr, dash, 2, 0.0);
            else if (partial)
                cairo_set_dash(cr, rain_dash_partial, 2, 0.0);
            else
                cairo_set_dash(cr, NULL, 0, 0.0);
            cairo_move_to(cr, x, ry(f, sum, top));
            open = true;
        } else {
            cairo_line_to(cr, x, ry(f, sum, top));
        }
    }
    if (open)
        cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
}

static double running_total(const double *v, size_t n)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > 0.0)
            sum += v[i];
    return sum;
}

/* A legend row that wraps: items from x0 on, a new line under when an item would pass right. */
struct legend_row {
    double x0, right, x, y, line_px;
};

/* One item of the rain legend: its sample ('b' a bar, 'l' a line, dash NULL: solid, 'h' the
 * hatch, 't' none) and its text. */
static void rain_legend_item(cairo_t *cr, struct legend_row *row, double font_px, char kind,
                             unsigned rgb, const double *dash, const char *text)
{
    cairo_text_extents_t ext;
    double sample = kind == 't' ? 0.0 : 27.0, sx, y;
    cairo_text_extents(cr, text, &ext);
    if (row->x > row->x0 && row->x + sample + ext.x_advance > row->right) {
        row->x = row->x0;
        row->y += row->line_px;
    }
    sx = row->x;
    y = row->y;
    if (kind == 'b') {
        set_rgb(cr, rgb, 1.0);
        cairo_rectangle(cr, sx + 8.0, y - font_px * 0.8, 6.0, font_px * 0.8);
        cairo_fill(cr);
    } else if (kind == 'h') {
        double k;
        cairo_save(cr);
        cairo_rectangle(cr, sx, y - font_px * 0.8, 22.0, font_px * 0.8);
        cairo_clip(cr);
        set_rgb(cr, 0xececec, 1.0);
        cairo_paint(cr);
        set_rgb(cr, rgb, 1.0);
        cairo_set_line_width(cr, 1.0);
        for (k = sx - font_px; k < sx + 22.0; k += 6.0) {
            cairo_move_to(cr, k, y);
            cairo_line_to(cr, k + font_px, y - font_px);
        }
        cairo_stroke(cr);
        cairo_restore(cr);
    } else if (kind == 'l') {
        set_rgb(cr, rgb, 1.0);
        cairo_set_line_width(cr, 2.0);
        cairo_set_dash(cr, dash, dash ? 2 : 0, 0.0);
        cairo_move_to(cr, sx, y - font_px * 0.25);
        cairo_line_to(cr, sx + 22.0, y - font_px * 0.25);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
    }
    set_rgb(cr, 0x333333, 1.0);
    cairo_move_to(cr, sx + sample, y);
    cairo_show_text(cr, text);
    row->x = sx + sample + ext.x_advance + 18.0;
}

/* The rain panel under the NDVI plot (whose frame is above): the same days across, from top_px
 * to the picture's foot. */
static void draw_rain(cairo_t *cr, const parus_chart *c, const struct frame *above, double top_px,
                      int height_px, double font_px)
{
    struct frame f;
    double day_top, day_step, sum_top, sum_step, v, max_day = 0.0;
    struct legend_row row;
    const char *left_title = "rain, mm/day";
    cairo_text_extents_t ext;
    bool any_gap = false;
    char buf[32];
    size_t i;

    rain_layout(above, top_px, height_px, font_px, &f);
    for (i = 0; i < c->n_rain; i++) {
        if (!isfinite(c->rain_mm[i]))
            any_gap = true;
        else if (c->rain_mm[i] > max_day)
            max_day = c->rain_mm[i];
    }
    round_axis(max_day, 10.0, &day_top, &day_step);
    v = running_total(c->rain_mm, c->n_rain);
    if (c->rain_normal_mm && running_total(c->rain_normal_mm, c->n_rain) > v)
        v = running_total(c->rain_normal_mm, c->n_rain);
    round_axis(v, 10.0, &sum_top, &sum_step);

    /* the daily axis on the left with its grid, the running totals' on the right */
    cairo_set_font_size(cr, font_px);
    cairo_set_line_width(cr, 1.0);
    for (v = 0.0; v <= day_top * (1.0 + 1e-9); v += day_step) {
        double y = ry(&f, v, day_top);
        set_rgb(cr, v == 0.0 ? 0x999999 : 0xdddddd, 1.0);
        cairo_move_to(cr, f.x0, y);
        cairo_line_to(cr, f.x0 + f.w, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", v);
        cairo_text_extents(cr, buf, &ext);
        set_rgb(cr, 0x333333, 1.0);
        cairo_move_to(cr, f.x0 - ext.x_advance - 6.0, y + ext.height / 2.0);
        cairo_show_text(cr, buf);
    }
    cairo_set_font_size(cr, font_px * 0.9);
    for (v = 0.0; v <= sum_top * (1.0 + 1e-9); v += sum_step) {
        double y = ry(&f, v, sum_top);
        set_rgb(cr, RAIN_SUM_RGB, 1.0);
        cairo_move_to(cr, f.x0 + f.w, y);
        cairo_line_to(cr, f.x0 + f.w + 4.0, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", v);
        cairo_text_extents(cr, buf, &ext);
        cairo_move_to(cr, f.x0 + f.w + 6.0, y + ext.height / 2.0);
        cairo_show_text(cr, buf);
    }
    cairo_set_font_size(cr, font_px);
    draw_months(cr, &f, font_px);

    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
    cairo_clip(cr);
    draw_rain_gaps(cr, &f, c);
    set_rgb(cr, RAIN_BAR_RGB, 1.0);
    for (i = 0; i < c->n_rain; i++) {
        double d = (double)c->first_day + (double)i, x0, x1;
        if (!isfinite(c->rain_mm[i]) || c->rain_mm[i] <= 0.0)
            continue;
        x0 = fx(&f, d - 0.4);
        x1 = fx(&f, d + 0.4);
        if (x1 - x0 < 1.0) /* a long window: bars a pixel wide rather than vanishing */
            x1 = x0 + 1.0;
        cairo_rectangle(cr, x0, ry(&f, c->rain_mm[i], day_top), x1 - x0,
                        f.y0 + f.h - ry(&f, c->rain_mm[i], day_top));
    }
    cairo_fill(cr);
    if (c->rain_normal_mm)
        draw_running(cr, &f, c, c->rain_normal_mm, sum_top, RAIN_NORMAL_RGB, 1.8, rain_dash_normal);
    draw_running(cr, &f, c, c->rain_mm, sum_top, RAIN_SUM_RGB, 2.4, NULL);
    cairo_restore(cr);

    set_rgb(cr, 0x333333, 1.0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
    cairo_stroke(cr);
    cairo_text_extents(cr, left_title, &ext);
    if (ext.x_advance > f.h)
        left_title = "mm";
    cairo_save(cr);
    cairo_move_to(cr, f.x0 - 4.0 * font_px, f.y0 + f.h);
    cairo_rotate(cr, -PI / 2.0);
    cairo_show_text(cr, left_title);
    cairo_restore(cr);
    cairo_save(cr);
    set_rgb(cr, RAIN_SUM_RGB, 1.0);
    cairo_move_to(cr, f.x0 + f.w + 3.4 * font_px, f.y0);
    cairo_rotate(cr, PI / 2.0);
    cairo_show_text(cr, "total, mm");
    cairo_restore(cr);

    /* the legend, on a second line under the first where it is long */
    cairo_set_font_size(cr, font_px * 0.9);
    row.x0 = row.x = f.x0;
    row.right = f.x0 + f.w;
    row.y = f.y0 + f.h + 3.0 * font_px;
    row.line_px = 1.3 * font_px;
    rain_legend_item(cr, &row, font_px, 'b', RAIN_BAR_RGB, NULL, "daily rain");
    rain_legend_item(cr, &row, font_px, 'l', RAIN_SUM_RGB, NULL,
                     c->rain_label ? c->rain_label : "rain, running total");
    if (c->rain_normal_mm)
        rain_legend_item(cr, &row, font_px, 'l', RAIN_NORMAL_RGB, rain_dash_normal,
                         c->rain_normal_label ? c->rain_normal_label : "normal, running total");
    if (any_gap)
        rain_legend_item(cr, &row, font_px, 'h', RAIN_HATCH_RGB, NULL,
                         "no value (total dotted after: measured days only)");
    if (c->rain_note)
        rain_legend_item(cr, &row, font_px, 't', 0, NULL, c->rain_note);
}

static void draw(cairo_t *cr, const parus_chart *c, int width_px, int height_px)
{
    bool rain = c->n_rain > 0;
    double top_px, font_px;
    struct frame f;
    size_t i;
    double lx, ly;

    layout(width_px, height_px, rain, &f, &font_px, &top_px);
    f.first = (double)c->first_day;
    f.last = (double)(c->last_day > c->first_day ? c->last_day : c->first_day + 1);

    set_rgb(cr, 0xffffff, 1.0);
    cairo_paint(cr);
    select_face_for(cr, c->title, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, font_px * 1.2);
    set_rgb(cr, 0x111111, 1.0);
    if (c->title) {
        cairo_move_to(cr, f.x0, 1.6 * font_px);
        cairo_show_text(cr, c->title);
    }
    select_face_for(cr, c->subtitle, CAIRO_FONT_WEIGHT_NORMAL);
    if (c->subtitle) {
        cairo_set_font_size(cr, font_px);
        set_rgb(cr, 0x444444, 1.0);
        cairo_move_to(cr, f.x0, 3.0 * font_px);
        cairo_show_text(cr, c->subtitle);
    }
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    draw_axes(cr, &f, font_px);

    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
    cairo_clip(cr);
    if (c->peer_lo && c->peer_hi)
        draw_band(cr, &f, c);
    if (c->expected)
        draw_steps(cr, &f, c, c->expected, NULL, 0x9b9b9b, 1.2);
    if (c->peer_median)
        draw_steps(cr, &f, c, c->peer_median, NULL, 0xf5a623, 2.0);
    if (c->ndvi)
        draw_steps(cr, &f, c, c->ndvi, c->step_flag, 0x1f4e99, 2.6);
    for (i = 0; i < c->n_obs; i++) {
        bool used = c->obs_used ? c->obs_used[i] != 0 : true;
        if (!isfinite(c->obs_ndvi[i]))
            continue;
        cairo_new_path(cr);
        cairo_arc(cr, fx(&f, (double)c->obs_day[i]), fy(&f, c->obs_ndvi[i]), font_px * 0.28, 0.0,
                  2.0 * PI);
        set_rgb(cr, 0x1f4e99, 1.0);
        if (used) {
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, 1.2);
            cairo_stroke(cr);
        }
    }
    draw_radar(cr, &f, c, font_px, true);
    draw_radar(cr, &f, c, font_px, false);
    cairo_set_font_size(cr, font_px * 0.9);
    for (i = 0; i < c->n_marks; i++) {
        double x = fx(&f, c->marks[i].day);
        static const double dash[] = {3.0, 3.0};
        set_rgb(cr, 0xd0021b, 1.0);
        cairo_set_line_width(cr, 1.5);
        cairo_set_dash(cr, dash, 2, 0.0);
        cairo_move_to(cr, x, f.y0);
        cairo_line_to(cr, x, f.y0 + f.h);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        cairo_move_to(cr, x + 3.0, f.y0 + font_px * (1.2 + 1.1 * (double)(i % 4)));
        cairo_show_text(cr, c->marks[i].label ? c->marks[i].label : "flag");
    }
    cairo_restore(cr);

    cairo_set_font_size(cr, font_px * 0.9);
    lx = f.x0;
    ly = f.y0 + f.h + 3.2 * font_px;
    if (c->ndvi || c->n_obs)
        legend_item(cr, &lx, ly, 0x1f4e99, "this parcel", font_px, false);
    if (c->peer_median)
        legend_item(cr, &lx, ly, 0xf5a623, c->peer_label ? c->peer_label : "peers", font_px,
                    c->peer_lo != NULL);
    if (c->expected)
        legend_item(cr, &lx, ly, 0x9b9b9b, "crop calendar", font_px, false);
    if (c->n_radar)
        legend_item(cr, &lx, ly, RADAR_RGB, "radar RVI (S1: asc filled, desc hollow)", font_px,
                    false);
    if (c->n_marks)
        legend_item(cr, &lx, ly, 0xd0021b, "events", font_px, false);
    if (rain)
        draw_rain(cr, c, &f, top_px, height_px, font_px);
}

parus_status parus_chart_write_png(const parus_chart *chart, const char *path, int width_px,
                                   int height_px, parus_error *err)
{
    cairo_surface_t *surface;
    cairo_t *cr;
    cairo_status_t st;
    parus_outfile *of;
    parus_status code;

    if (!chart || !path)
        return parus_fail(err, PARUS_E_INVALID, "chart: no chart or no path");
    if (width_px < 200 || width_px > 4000 || height_px < 200 || height_px > 4000)
        return parus_fail(err, PARUS_E_INVALID, "chart: size %dx%d outside 200..4000", width_px,
                          height_px);
    if (chart->last_day < chart->first_day)
        return parus_fail(err, PARUS_E_INVALID, "chart: the season ends before it starts");
    if ((chart->n_obs && (!chart->obs_day || !chart->obs_ndvi)) ||
        (chart->n_radar && (!chart->radar_day || !chart->radar_rvi)) ||
        (chart->n_marks && !chart->marks) || (chart->n_rain && !chart->rain_mm) ||
        ((chart->ndvi || chart->peer_median || chart->expected) &&
         (chart->n_steps == 0 || !(chart->step_days > 0.0))))
        return parus_fail(err, PARUS_E_INVALID, "chart: a count without its values");
    if (chart->n_rain > (uint64_t)(chart->last_day - chart->first_day) + 1)
        return parus_fail(err, PARUS_E_INVALID,
                          "chart: %zu days of rain in a %" PRId64 "-day season", chart->n_rain,
                          chart->last_day - chart->first_day + 1);

    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width_px, height_px);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return parus_fail(err, PARUS_E_NOMEM, "chart: cannot create a %dx%d image", width_px,
                          height_px);
    }
    cr = cairo_create(surface);
    draw(cr, chart, width_px, height_px);
    st = cairo_status(cr);
    cairo_destroy(cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return parus_fail(err, PARUS_E_INTERNAL, "chart: cairo: %s", cairo_status_to_string(st));
    }
    /* beside path, renamed when whole: a failed write leaves the previous picture */
    if ((code = parus__outfile_open_named(path, &of, err)) != PARUS_OK) {
        cairo_surface_destroy(surface);
        return code;
    }
    st = cairo_surface_write_to_png(surface, parus__outfile_temp_path(of));
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        parus_outfile_abort(of);
        return parus_fail(err, PARUS_E_IO, "cannot write chart '%s': %s", path,
                          cairo_status_to_string(st));
    }
    return parus_outfile_commit(of, err);
}

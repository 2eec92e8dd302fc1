/* The PNG rendering of a chart: the SVG's layout drawn into pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/chart_font.h"
#include "cli/png_write.h"
#include "core/error.h"

#define TEXT_SCALE 2

typedef struct canvas {
    uint8_t *rgb;
    int w, h;
    int clip; /* draw only inside the plot area */
    double cl, cr, ct, cb;
} canvas;

static void blend(canvas *cv, int x, int y, uint32_t color, double alpha)
{
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h)
        return;
    if (cv->clip && (x < cv->cl || x > cv->cr || y < cv->ct || y > cv->cb))
        return;
    uint8_t *p = cv->rgb + ((size_t)y * cv->w + x) * 3;
    int rgb[3] = {(int)(color >> 16) & 255, (int)(color >> 8) & 255, (int)color & 255};
    for (int k = 0; k < 3; k++)
        p[k] = (uint8_t)lrint(p[k] * (1 - alpha) + rgb[k] * alpha);
}

static void dot(canvas *cv, double x, double y, double radius, uint32_t color)
{
    int r = (int)ceil(radius);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            if (dx * dx + dy * dy <= radius * radius + 0.25)
                blend(cv, (int)lrint(x) + dx, (int)lrint(y) + dy, color, 1.0);
}

/* A line of `width` pixels; dashed: 6 on, 4 off along its length from `phase`. */
static double segment(canvas *cv, double x0, double y0, double x1, double y1, double width,
                      uint32_t color, int dashed, double phase)
{
    double len = hypot(x1 - x0, y1 - y0);
    int steps = (int)ceil(len * 2) + 1;
    if (steps > 100000) /* far outside the picture: clipping would drop it anyway */
        steps = 100000;
    for (int i = 0; i <= steps; i++) {
        double t = (double)i / steps, along = phase + t * len;
        if (dashed && fmod(along, 10.0) >= 6.0)
            continue;
        double x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
        if (width <= 1.0)
            blend(cv, (int)lrint(x), (int)lrint(y), color, 1.0);
        else
            dot(cv, x, y, width / 2, color);
    }
    return phase + len;
}

static void text(canvas *cv, double x, double y, const char *s, uint32_t color, int anchor,
                 int vertical)
{
    int advance = (CHART_FONT_W + 1) * TEXT_SCALE, n = (int)strlen(s);
    double start = anchor == 0 ? 0 : anchor == 1 ? -n * advance / 2.0 : -n * advance;
    for (int i = 0; i < n; i++) {
        const char *g = chart_font_glyph(s[i]);
        if (!g)
            continue;
        for (int gy = 0; gy < CHART_FONT_H * TEXT_SCALE; gy++)
            for (int gx = 0; gx < CHART_FONT_W * TEXT_SCALE; gx++) {
                if (g[(gy / TEXT_SCALE) * CHART_FONT_W + gx / TEXT_SCALE] != '#')
                    continue;
                double along = start + i * advance + gx;
                if (vertical) /* read bottom to top */
                    blend(cv, (int)lrint(x + gy), (int)lrint(y - along), color, 1.0);
                else
                    blend(cv, (int)lrint(x + along), (int)lrint(y + gy), color, 1.0);
            }
    }
}

static int usable(const chart_frame *f, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!f->log_x || x > 0) && (!f->log_y || y > 0);
}

static void draw_band(canvas *cv, const chart_frame *f, const chart_series *s)
{
    for (int i = 0; i + 1 < s->n; i++) {
        if (!usable(f, s->x[i], s->y[i]) || !usable(f, s->x[i + 1], s->y[i + 1]) ||
            !usable(f, s->x[i], s->y2[i]) || !usable(f, s->x[i + 1], s->y2[i + 1]))
            continue;
        double xa = chart_px(f, s->x[i]), xb = chart_px(f, s->x[i + 1]);
        int from = (int)ceil(xa), to = (int)floor(xb);
        for (int x = from; x <= to && x < from + 4000; x++) {
            double t = xb > xa ? (x - xa) / (xb - xa) : 0;
            double lo0 = chart_py(f, s->y[i]), lo1 = chart_py(f, s->y[i + 1]);
            double hi0 = chart_py(f, s->y2[i]), hi1 = chart_py(f, s->y2[i + 1]);
            double lo = lo0 + t * (lo1 - lo0), hi = hi0 + t * (hi1 - hi0);
            if (hi > lo) {
                double tmp = hi;
                hi = lo, lo = tmp;
            }
            /* the column's last pixel belongs to the next segment, once */
            if (x == to && i + 2 < s->n && x == (int)ceil(xb))
                continue;
            for (int y = (int)ceil(fmax(hi, f->top - 1)); y <= lo && y <= f->bottom + 1; y++)
                blend(cv, x, y, s->color, 0.25);
        }
    }
}

static void draw_series(canvas *cv, const chart_frame *f, const chart_series *s)
{
    double phase = 0;
    switch (s->kind) {
    case CHART_LINE:
        for (int i = 0; i + 1 < s->n; i++)
            if (usable(f, s->x[i], s->y[i]) && usable(f, s->x[i + 1], s->y[i + 1]))
                phase = segment(cv, chart_px(f, s->x[i]), chart_py(f, s->y[i]),
                                chart_px(f, s->x[i + 1]), chart_py(f, s->y[i + 1]), 2.0,
                                s->color, s->dashed, phase);
        break;
    case CHART_BAND:
        draw_band(cv, f, s);
        break;
    case CHART_POINTS:
        for (int i = 0; i < s->n; i++)
            if (usable(f, s->x[i], s->y[i]))
                dot(cv, chart_px(f, s->x[i]), chart_py(f, s->y[i]), 3.0, s->color);
        break;
    case CHART_SEGMENTS:
        for (int i = 0; i + 1 < s->n; i += 2)
            if (usable(f, s->x[i], s->y[i]) && usable(f, s->x[i + 1], s->y[i + 1]))
                segment(cv, chart_px(f, s->x[i]), chart_py(f, s->y[i]),
                        chart_px(f, s->x[i + 1]), chart_py(f, s->y[i + 1]), 1.0, s->color, 0,
                        0);
        break;
    }
}

static void draw_axes(canvas *cv, const chart *c, const chart_frame *f)
{
    char label[32];
    for (int i = 0; i < f->nxticks; i++) {
        double x = chart_px(f, f->xticks[i]);
        segment(cv, x, f->top, x, f->bottom, 1.0, 0xeeeeee, 0, 0);
        chart_tick_label(f->xticks[i], f->log_x, label, sizeof label);
        text(cv, x, f->bottom + 6, label, 0x333333, 1, 0);
    }
    for (int i = 0; i < f->nyticks; i++) {
        double y = chart_py(f, f->yticks[i]);
        segment(cv, f->left, y, f->right, y, 1.0, 0xeeeeee, 0, 0);
        chart_tick_label(f->yticks[i], f->log_y, label, sizeof label);
        text(cv, f->left - 5, y - CHART_FONT_H * TEXT_SCALE / 2.0, label, 0x333333, 2, 0);
    }
    if (c->xlabel)
        text(cv, (f->left + f->right) / 2, f->height - 16, c->xlabel, 0x333333, 1, 0);
    if (c->ylabel)
        text(cv, 4, (f->top + f->bottom) / 2, c->ylabel, 0x333333, 1, 1);
    if (c->title)
        text(cv, (f->left + f->right) / 2, 8, c->title, 0x000000, 1, 0);
}

static void draw_frame(canvas *cv, const chart_frame *f)
{
    segment(cv, f->left, f->top, f->right, f->top, 1.0, 0x888888, 0, 0);
    segment(cv, f->left, f->bottom, f->right, f->bottom, 1.0, 0x888888, 0, 0);
    segment(cv, f->left, f->top, f->left, f->bottom, 1.0, 0x888888, 0, 0);
    segment(cv, f->right, f->top, f->right, f->bottom, 1.0, 0x888888, 0, 0);
}

static void draw_legend(canvas *cv, const chart *c, const chart_frame *f)
{
    int row = 0, rows = 0;
    for (int i = 0; i < c->nseries; i++)
        rows += c->series[i].label != NULL;
    for (int y = 0; rows && y < 15 * rows + 6; y++) /* the SVG's white box */
        for (int x = 0; x < 164; x++)
            blend(cv, (int)f->right - 166 + x, (int)f->top + 2 + y, 0xffffff, 0.85);
    for (int i = 0; i < c->nseries; i++) {
        const chart_series *s = &c->series[i];
        if (!s->label)
            continue;
        double y = f->top + 14 + 15 * row++, x = f->right - 160;
        if (s->kind == CHART_BAND) {
            for (int yy = -7; yy <= 0; yy++)
                segment(cv, x, y + yy, x + 18, y + yy, 1.0, s->color, 0, 0);
        } else {
            segment(cv, x, y - 3, x + 18, y - 3, 2.5, s->color, s->dashed, 0);
        }
        text(cv, x + 24, y - 8, s->label, 0x000000, 0, 0);
    }
}

soma_status chart_png(const chart *c, int width, int height, uint8_t **png, size_t *len)
{
    *png = NULL, *len = 0;
    if (c->failed)
        return soma_error(SOMA_ERR_MEMORY, "chart '%s': out of memory or too many series",
                          c->title ? c->title : "");
    canvas cv = {0};
    cv.w = width, cv.h = height;
    cv.rgb = malloc((size_t)width * height * 3);
    if (!cv.rgb)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    memset(cv.rgb, 255, (size_t)width * height * 3);
    chart_frame f;
    if (chart_frame_fit(c, width, height, &f)) {
        draw_axes(&cv, c, &f);
        cv.clip = 1, cv.cl = f.left, cv.cr = f.right, cv.ct = f.top, cv.cb = f.bottom;
        for (int i = 0; i < c->nseries; i++) /* ranges and contours under the lines */
            if (c->series[i].kind == CHART_BAND || c->series[i].kind == CHART_SEGMENTS)
                draw_series(&cv, &f, &c->series[i]);
        for (int i = 0; i < c->nseries; i++)
            if (c->series[i].kind == CHART_LINE || c->series[i].kind == CHART_POINTS)
                draw_series(&cv, &f, &c->series[i]);
        cv.clip = 0;
        draw_frame(&cv, &f);
        draw_legend(&cv, c, &f);
    } else if (c->title) {
        text(&cv, 20, 20, c->title, 0x000000, 0, 0);
    }
    soma_status st = png_encode(cv.rgb, width, height, 3, png, len);
    free(cv.rgb);
    return st;
}

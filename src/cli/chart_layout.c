/* Where a chart's plot area, ranges and ticks are: shared by SVG and PNG. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/chart.h"

#define MARGIN_LEFT 62
#define MARGIN_RIGHT 16
#define MARGIN_TOP 30
#define MARGIN_BOTTOM 44

static double axis_value(double v, int log_axis) { return log_axis ? log10(v) : v; }

/* The data's extent on one axis (points that a log axis cannot show left out). */
static int data_extent(const chart *c, int y_axis, int log_axis, double *lo, double *hi)
{
    int any = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < c->nseries; i++) {
        const chart_series *s = &c->series[i];
        for (int k = 0; k < s->n; k++) {
            double vals[2] = {y_axis ? s->y[k] : s->x[k], y_axis && s->y2 ? s->y2[k] : NAN};
            for (int j = 0; j < 2; j++) {
                double v = vals[j];
                if (!isfinite(v) || (log_axis && v <= 0))
                    continue;
                *lo = v < *lo ? v : *lo;
                *hi = v > *hi ? v : *hi;
                any = 1;
            }
        }
    }
    return any;
}

/* 1, 2 or 5 times a power of ten, about range / 5 */
static double nice_step(double range)
{
    double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static int ticks_linear(double lo, double hi, double *t, int max)
{
    double step = nice_step(hi - lo);
    int n = 0;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < max; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

static int ticks_log(double lo, double hi, double *t, int max)
{
    int n = 0, first = (int)floor(log10(lo)), last = (int)ceil(log10(hi));
    int decades = last - first, every = decades > 10 ? (decades + 9) / 10 : 1;
    for (int e = first; e <= last && n < max; e++) {
        static const double mult[3] = {1, 2, 5};
        for (int k = 0; k < (decades <= 2 ? 3 : 1) && n < max; k++) {
            double v = mult[k] * pow(10, e);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) && (k > 0 || e % every == 0))
                t[n++] = v;
        }
    }
    return n;
}

int chart_frame_fit(const chart *c, int width, int height, chart_frame *f)
{
    memset(f, 0, sizeof *f);
    f->width = width, f->height = height;
    f->left = MARGIN_LEFT, f->right = width - MARGIN_RIGHT;
    f->top = MARGIN_TOP, f->bottom = height - MARGIN_BOTTOM;
    f->log_x = c->log_x, f->log_y = c->log_y;
    double xl, xh, yl, yh;
    if (c->fixed_x)
        xl = c->xmin, xh = c->xmax;
    else if (!data_extent(c, 0, c->log_x, &xl, &xh))
        return 0;
    if (c->fixed_y) {
        yl = c->ymin, yh = c->ymax;
    } else {
        if (!data_extent(c, 1, c->log_y, &yl, &yh))
            return 0;
        if (!c->log_y) { /* some room above and below the lines */
            double pad = (yh - yl) * 0.05;
            yl -= pad, yh += pad;
        } else if (yh > yl) {
            double pad = pow(yh / yl, 0.05);
            yl /= pad, yh *= pad;
        }
    }
    if (xh <= xl)
        xl = c->log_x ? xl / 2 : xl - 1, xh = c->log_x ? xh * 2 : xh + 1;
    if (yh <= yl)
        yl = c->log_y ? yl / 2 : yl - 1, yh = c->log_y ? yh * 2 : yh + 1;
    f->xmin = xl, f->xmax = xh, f->ymin = yl, f->ymax = yh;
    int max = (int)(sizeof f->xticks / sizeof f->xticks[0]);
    f->nxticks = c->log_x ? ticks_log(xl, xh, f->xticks, max)
                          : ticks_linear(xl, xh, f->xticks, max);
    f->nyticks = c->log_y ? ticks_log(yl, yh, f->yticks, max)
                          : ticks_linear(yl, yh, f->yticks, max);
    return 1;
}

double chart_px(const chart_frame *f, double x)
{
    double a = axis_value(f->xmin, f->log_x), b = axis_value(f->xmax, f->log_x);
    return f->left + (axis_value(x, f->log_x) - a) / (b - a) * (f->right - f->left);
}

double chart_py(const chart_frame *f, double y)
{
    double a = axis_value(f->ymin, f->log_y), b = axis_value(f->ymax, f->log_y);
    return f->bottom - (axis_value(y, f->log_y) - a) / (b - a) * (f->bottom - f->top);
}

void chart_tick_label(double v, int log_axis, char *buf, size_t size)
{
    double a = fabs(v);
    if (v == 0)
        snprintf(buf, size, "0");
    else if (a >= 1e5 || a < 1e-3 || (log_axis && (a >= 1e4 || a < 1e-2)))
        snprintf(buf, size, "%.0e", v);
    else
        snprintf(buf, size, "%g", v);
}

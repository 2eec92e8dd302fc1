/*
 * Charts as soma draws them for reports and experiments: lines, shaded
 * ranges, point markers and contour lines on linear or log axes, with a
 * title, axis labels and a legend. One description, two renderings: SVG text
 * (chart_svg, for HTML and .svg files) and a PNG drawn directly from the same
 * data (chart_png: the same layout, a small built-in pixel font).
 */
#ifndef SOMA_CLI_CHART_H
#define SOMA_CLI_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "soma.h"

#define CHART_MAX_SERIES 48

typedef enum chart_kind {
    CHART_LINE,     /* a polyline; a NaN point breaks it */
    CHART_BAND,     /* the range between y (low) and y2 (high), shaded */
    CHART_POINTS,   /* markers */
    CHART_SEGMENTS, /* pairs of points, each a separate segment (contour lines) */
} chart_kind;

typedef struct chart_series {
    chart_kind kind;
    char *label;   /* NULL: not in the legend */
    uint32_t color; /* 0xRRGGBB */
    int dashed;
    int n;
    double *x, *y, *y2; /* owned copies */
} chart_series;

typedef struct chart {
    char *title, *xlabel, *ylabel;
    int log_x, log_y;
    int fixed_x, fixed_y; /* ranges set by chart_range_x/y, else fitted to the data */
    double xmin, xmax, ymin, ymax;
    int nseries;
    chart_series series[CHART_MAX_SERIES];
    int failed; /* an allocation failed or too many series: rendering says so */
} chart;

/* Colours that stay apart on white, for series 0, 1, ... */
uint32_t chart_color(int i);

void chart_init(chart *c, const char *title, const char *xlabel, const char *ylabel);
void chart_free(chart *c);
void chart_range_x(chart *c, double lo, double hi);
void chart_range_y(chart *c, double lo, double hi);

/* Each copies its data. `label` may be NULL. */
void chart_line(chart *c, const char *label, uint32_t color, int n, const double *x,
                const double *y);
void chart_dashed(chart *c, const char *label, uint32_t color, int n, const double *x,
                  const double *y);
void chart_band(chart *c, const char *label, uint32_t color, int n, const double *x,
                const double *lo, const double *hi);
void chart_points(chart *c, const char *label, uint32_t color, int n, const double *x,
                  const double *y);
/* Contour lines of z (ny rows of nx values over [x0, x1] x [y0, y1], row 0
 * at y0) at each of `nlevels` levels (marching squares), in one grey series. */
void chart_contours(chart *c, int nx, int ny, double x0, double x1, double y0, double y1,
                    const double *z, int nlevels, const double *levels);

/* The chart as an <svg> element of width x height; `id` keeps its clip path
 * apart from other charts' in one HTML page. */
soma_status chart_svg(const chart *c, int width, int height, int id, strbuf *out);
/* The chart as PNG bytes (malloc'd). */
soma_status chart_png(const chart *c, int width, int height, uint8_t **png, size_t *len);
/* Writes DIR/NAME.svg and DIR/NAME.png (atomically). */
soma_status chart_write(const chart *c, const char *dir, const char *name);

/* ---- shared by the two renderings (chart_layout.c) ---- */

typedef struct chart_frame {
    int width, height;
    double left, right, top, bottom; /* the plot area in pixels */
    double xmin, xmax, ymin, ymax;   /* data range shown */
    int log_x, log_y;
    int nxticks, nyticks;
    double xticks[24], yticks[24];
} chart_frame;

/* Fits the range and ticks; 0 when the chart has nothing to show. */
int chart_frame_fit(const chart *c, int width, int height, chart_frame *f);
double chart_px(const chart_frame *f, double x);
double chart_py(const chart_frame *f, double y);
/* A tick value as text ("0.001", "1e+04", "250"). */
void chart_tick_label(double v, int log_axis, char *buf, size_t size);

#endif

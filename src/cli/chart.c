/* Charts: the series they hold, contour lines, and the SVG rendering. */
#define _POSIX_C_SOURCE 200809L
#include "cli/chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/png_write.h"
#include "cli/run_files.h"
#include "core/error.h"

uint32_t chart_color(int i)
{
    /* Okabe-Ito's colour-blind-safe set, then a few more */
    static const uint32_t colors[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00,
                                      0x56b4e9, 0x000000, 0x8c564b, 0x7f7f7f, 0xbcbd22};
    return colors[(unsigned)i % (sizeof colors / sizeof colors[0])];
}

static char *copy_text(const char *s, chart *c)
{
    if (!s)
        return NULL;
    char *t = strdup(s);
    if (!t)
        c->failed = 1;
    return t;
}

void chart_init(chart *c, const char *title, const char *xlabel, const char *ylabel)
{
    memset(c, 0, sizeof *c);
    c->title = copy_text(title, c);
    c->xlabel = copy_text(xlabel, c);
    c->ylabel = copy_text(ylabel, c);
}

void chart_free(chart *c)
{
    for (int i = 0; i < c->nseries; i++) {
        chart_series *s = &c->series[i];
        free(s->label), free(s->x), free(s->y), free(s->y2);
    }
    free(c->title), free(c->xlabel), free(c->ylabel);
    memset(c, 0, sizeof *c);
}

void chart_range_x(chart *c, double lo, double hi)
{
    c->fixed_x = 1, c->xmin = lo, c->xmax = hi;
}

void chart_range_y(chart *c, double lo, double hi)
{
    c->fixed_y = 1, c->ymin = lo, c->ymax = hi;
}

static double *copy_doubles(const double *v, int n, chart *c)
{
    if (!v)
        return NULL;
    double *d = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!d) {
        c->failed = 1;
        return NULL;
    }
    memcpy(d, v, sizeof(double) * (size_t)n);
    return d;
}

static chart_series *add(chart *c, chart_kind kind, const char *label, uint32_t color, int n,
                         const double *x, const double *y, const double *y2)
{
    if (c->nseries == CHART_MAX_SERIES || n < 0) {
        c->failed = 1;
        return NULL;
    }
    chart_series *s = &c->series[c->nseries++];
    memset(s, 0, sizeof *s);
    s->kind = kind, s->color = color, s->n = n;
    s->label = copy_text(label, c);
    s->x = copy_doubles(x, n, c);
    s->y = copy_doubles(y, n, c);
    s->y2 = copy_doubles(y2, n, c);
    return s;
}

void chart_line(chart *c, const char *label, uint32_t color, int n, const double *x,
                const double *y)
{
    add(c, CHART_LINE, label, color, n, x, y, NULL);
}

void chart_dashed(chart *c, const char *label, uint32_t color, int n, const double *x,
                  const double *y)
{
    chart_series *s = add(c, CHART_LINE, label, color, n, x, y, NULL);
    if (s)
        s->dashed = 1;
}

void chart_band(chart *c, const char *label, uint32_t color, int n, const double *x,
                const double *lo, const double *hi)
{
    add(c, CHART_BAND, label, color, n, x, lo, hi);
}

void chart_points(chart *c, const char *label, uint32_t color, int n, const double *x,
                  const double *y)
{
    add(c, CHART_POINTS, label, color, n, x, y, NULL);
}

/* ---- contours: marching squares, one segment per cell edge pair ---- */

typedef struct seg_buf {
    double *x, *y;
    int n, cap;
} seg_buf;

static int seg_push(seg_buf *b, double x, double y)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 1024;
        double *nx = realloc(b->x, sizeof(double) * (size_t)cap);
        if (!nx)
            return 0;
        b->x = nx;
        double *ny = realloc(b->y, sizeof(double) * (size_t)cap);
        if (!ny)
            return 0;
        b->y = ny, b->cap = cap;
    }
    b->x[b->n] = x, b->y[b->n] = y, b->n++;
    return 1;
}

void chart_contours(chart *c, int nx, int ny, double x0, double x1, double y0, double y1,
                    const double *z, int nlevels, const double *levels)
{
    seg_buf b = {0};
    int ok = nx >= 2 && ny >= 2;
    double dx = (x1 - x0) / (nx - 1), dy = (y1 - y0) / (ny - 1);
    for (int l = 0; ok && l < nlevels; l++) {
        double v = levels[l];
        for (int j = 0; ok && j + 1 < ny; j++)
            for (int i = 0; ok && i + 1 < nx; i++) {
                /* corners counter-clockwise from the lower left */
                double cz[4] = {z[j * nx + i], z[j * nx + i + 1], z[(j + 1) * nx + i + 1],
                                z[(j + 1) * nx + i]};
                double cx[4] = {x0 + i * dx, x0 + (i + 1) * dx, x0 + (i + 1) * dx, x0 + i * dx};
                double cy[4] = {y0 + j * dy, y0 + j * dy, y0 + (j + 1) * dy, y0 + (j + 1) * dy};
                double px[4], py[4];
                int np = 0;
                for (int e = 0; e < 4; e++) { /* where the level crosses each edge */
                    double a = cz[e], bz = cz[(e + 1) % 4];
                    if ((a < v) == (bz < v) || !isfinite(a) || !isfinite(bz))
                        continue;
                    double t = (v - a) / (bz - a);
                    px[np] = cx[e] + t * (cx[(e + 1) % 4] - cx[e]);
                    py[np] = cy[e] + t * (cy[(e + 1) % 4] - cy[e]);
                    np++;
                }
                /* two crossings: one segment; four (a saddle cell): two */
                for (int k = 0; ok && k + 1 < np; k += 2)
                    ok = seg_push(&b, px[k], py[k]) && seg_push(&b, px[k + 1], py[k + 1]);
            }
    }
    if (!ok && nx >= 2 && ny >= 2)
        c->failed = 1;
    chart_series *s = add(c, CHART_SEGMENTS, NULL, 0xb0b0b0, b.n, b.x, b.y, NULL);
    (void)s;
    free(b.x), free(b.y);
}

/* ---- SVG ---- */

static int usable(const chart_frame *f, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!f->log_x || x > 0) && (!f->log_y || y > 0);
}

static void svg_line(const chart_frame *f, const chart_series *s, strbuf *sb)
{
    int open = 0;
    for (int i = 0; i < s->n; i++) {
        if (!usable(f, s->x[i], s->y[i])) { /* a gap: the polyline ends here */
            if (open)
                strbuf_append(sb, "\"/>\n");
            open = 0;
            continue;
        }
        if (!open)
            strbuf_appendf(sb, "<polyline fill=\"none\" stroke=\"#%06x\" stroke-width=\"1.8\"%s "
                               "points=\"",
                           s->color, s->dashed ? " stroke-dasharray=\"6 4\"" : "");
        open = 1;
        strbuf_appendf(sb, "%.1f,%.1f ", chart_px(f, s->x[i]), chart_py(f, s->y[i]));
    }
    if (open)
        strbuf_append(sb, "\"/>\n");
}

static void svg_series(const chart_frame *f, const chart_series *s, strbuf *sb)
{
    switch (s->kind) {
    case CHART_LINE:
        svg_line(f, s, sb);
        break;
    case CHART_BAND: {
        /* the upper edge forwards, the lower backwards: one closed shape */
        strbuf_appendf(sb, "<polygon fill=\"#%06x\" fill-opacity=\"0.25\" stroke=\"none\" "
                           "points=\"", s->color);
        for (int i = 0; i < s->n; i++)
            if (usable(f, s->x[i], s->y2[i]))
                strbuf_appendf(sb, "%.1f,%.1f ", chart_px(f, s->x[i]), chart_py(f, s->y2[i]));
        for (int i = s->n - 1; i >= 0; i--)
            if (usable(f, s->x[i], s->y[i]))
                strbuf_appendf(sb, "%.1f,%.1f ", chart_px(f, s->x[i]), chart_py(f, s->y[i]));
        strbuf_append(sb, "\"/>\n");
        break;
    }
    case CHART_POINTS:
        for (int i = 0; i < s->n; i++)
            if (usable(f, s->x[i], s->y[i]))
                strbuf_appendf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#%06x\"/>\n",
                               chart_px(f, s->x[i]), chart_py(f, s->y[i]), s->color);
        break;
    case CHART_SEGMENTS:
        strbuf_appendf(sb, "<path fill=\"none\" stroke=\"#%06x\" stroke-width=\"0.8\" d=\"",
                       s->color);
        for (int i = 0; i + 1 < s->n; i += 2)
            if (usable(f, s->x[i], s->y[i]) && usable(f, s->x[i + 1], s->y[i + 1]))
                strbuf_appendf(sb, "M%.1f %.1fL%.1f %.1f", chart_px(f, s->x[i]),
                               chart_py(f, s->y[i]), chart_px(f, s->x[i + 1]),
                               chart_py(f, s->y[i + 1]));
        strbuf_append(sb, "\"/>\n");
        break;
    }
}

static void svg_axes(const chart *c, const chart_frame *f, strbuf *sb)
{
    char label[32];
    strbuf_append(sb, "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#333\">\n");
    for (int i = 0; i < f->nxticks; i++) {
        double x = chart_px(f, f->xticks[i]);
        chart_tick_label(f->xticks[i], f->log_x, label, sizeof label);
        strbuf_appendf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                           "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"middle\">%s</text>\n",
                       x, f->top, x, f->bottom, x, f->bottom + 15, label);
    }
    for (int i = 0; i < f->nyticks; i++) {
        double y = chart_py(f, f->yticks[i]);
        chart_tick_label(f->yticks[i], f->log_y, label, sizeof label);
        strbuf_appendf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                           "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"end\">%s</text>\n",
                       f->left, y, f->right, y, f->left - 5, y + 4, label);
    }
    strbuf_appendf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"none\" stroke=\"#888\"/>\n",
                   f->left, f->top, f->right - f->left, f->bottom - f->top);
    strbuf_appendf(sb, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                   (f->left + f->right) / 2, f->height - 8);
    strbuf_append_xml_text(sb, c->xlabel);
    strbuf_appendf(sb, "</text>\n<text transform=\"translate(14,%.1f) rotate(-90)\" "
                       "text-anchor=\"middle\">",
                   (f->top + f->bottom) / 2);
    strbuf_append_xml_text(sb, c->ylabel);
    strbuf_appendf(sb, "</text>\n<text x=\"%.1f\" y=\"18\" text-anchor=\"middle\" "
                       "font-size=\"14\" font-weight=\"bold\">",
                   (f->left + f->right) / 2);
    strbuf_append_xml_text(sb, c->title);
    strbuf_append(sb, "</text>\n</g>\n");
}

static void svg_legend(const chart *c, const chart_frame *f, strbuf *sb)
{
    int row = 0, rows = 0;
    for (int i = 0; i < c->nseries; i++)
        rows += c->series[i].label != NULL;
    if (rows) /* a white box, so that the lines under it do not cross the text */
        strbuf_appendf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"164\" height=\"%d\" "
                           "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ddd\"/>\n",
                       f->right - 166, f->top + 2, 15 * rows + 6);
    for (int i = 0; i < c->nseries; i++) {
        const chart_series *s = &c->series[i];
        if (!s->label)
            continue;
        double y = f->top + 14 + 15 * row++, x = f->right - 160;
        if (s->kind == CHART_BAND)
            strbuf_appendf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"8\" "
                               "fill=\"#%06x\" fill-opacity=\"0.35\"/>\n",
                           x, y - 7, s->color);
        else
            strbuf_appendf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                               "stroke=\"#%06x\" stroke-width=\"2.5\"%s/>\n",
                           x, y - 3, x + 18, y - 3, s->color,
                           s->dashed ? " stroke-dasharray=\"4 3\"" : "");
        strbuf_appendf(sb, "<text x=\"%.1f\" y=\"%.1f\" font-family=\"sans-serif\" "
                           "font-size=\"11\">",
                       x + 24, y + 1);
        strbuf_append_xml_text(sb, s->label);
        strbuf_append(sb, "</text>\n");
    }
}

soma_status chart_svg(const chart *c, int width, int height, int id, strbuf *out)
{
    if (c->failed)
        return soma_error(SOMA_ERR_MEMORY, "chart '%s': out of memory or too many series",
                          c->title ? c->title : "");
    chart_frame f;
    strbuf_appendf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
                        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                   width, height, width, height);
    if (!chart_frame_fit(c, width, height, &f)) {
        strbuf_appendf(out, "<text x=\"20\" y=\"30\" font-family=\"sans-serif\">");
        strbuf_append_xml_text(out, c->title);
        strbuf_append(out, ": no data</text>\n</svg>\n");
        return SOMA_OK;
    }
    svg_axes(c, &f, out);
    strbuf_appendf(out, "<clipPath id=\"plot%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\"/></clipPath>\n<g clip-path=\"url(#plot%d)\">\n",
                   id, f.left, f.top, f.right - f.left, f.bottom - f.top, id);
    for (int i = 0; i < c->nseries; i++) /* shaded ranges and contours under the lines */
        if (c->series[i].kind == CHART_BAND || c->series[i].kind == CHART_SEGMENTS)
            svg_series(&f, &c->series[i], out);
    for (int i = 0; i < c->nseries; i++)
        if (c->series[i].kind == CHART_LINE || c->series[i].kind == CHART_POINTS)
            svg_series(&f, &c->series[i], out);
    strbuf_append(out, "</g>\n");
    svg_legend(c, &f, out);
    strbuf_append(out, "</svg>\n");
    return out->failed ? soma_error(SOMA_ERR_MEMORY, "out of memory") : SOMA_OK;
}

soma_status chart_write(const chart *c, const char *dir, const char *name)
{
    char file[512];
    strbuf svg;
    strbuf_init(&svg);
    soma_status st = chart_svg(c, 720, 450, 0, &svg);
    snprintf(file, sizeof file, "%s/%s.svg", dir, name);
    if (st == SOMA_OK)
        st = cli_write_file_atomic(file, svg.data, svg.len);
    strbuf_free(&svg);
    uint8_t *png = NULL;
    size_t len = 0;
    if (st == SOMA_OK)
        st = chart_png(c, 720, 450, &png, &len);
    snprintf(file, sizeof file, "%s/%s.png", dir, name);
    if (st == SOMA_OK)
        st = cli_write_file_atomic(file, (const char *)png, len);
    free(png);
    return st;
}

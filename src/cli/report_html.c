/* `soma report`'s page: charts over the runs, then each run in detail. */
#define _POSIX_C_SOURCE 200809L
#include "cli/report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/test_analysis.h"
#include "core/error.h"

#define CHART_W 720
#define CHART_H 400

void append_base64(strbuf *sb, const uint8_t *data, size_t len)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        char out[4] = {digits[v >> 18 & 63], digits[v >> 12 & 63],
                       i + 1 < len ? digits[v >> 6 & 63] : '=', i + 2 < len ? digits[v & 63] : '='};
        strbuf_append_n(sb, out, 4);
    }
}

/* A JSON value as a table cell's text. */
static void json_cell(strbuf *sb, const json_value *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_NULL: strbuf_append(sb, "&ndash;"); break;
    case JSON_BOOL: strbuf_append(sb, json_bool(v) ? "true" : "false"); break;
    case JSON_NUMBER:
        snprintf(num, sizeof num, "%.10g", json_number(v));
        strbuf_append(sb, num);
        break;
    case JSON_STRING: strbuf_append_xml_text(sb, json_string(v)); break;
    default: {
        strbuf_append(sb, json_typeof(v) == JSON_ARRAY ? "[" : "{");
        for (size_t i = 0; i < json_count(v); i++) {
            if (i)
                strbuf_append(sb, ", ");
            if (json_typeof(v) == JSON_OBJECT) {
                strbuf_append_xml_text(sb, json_key_at(v, i));
                strbuf_append(sb, ": ");
            }
            json_cell(sb, json_at(v, i));
        }
        strbuf_append(sb, json_typeof(v) == JSON_ARRAY ? "]" : "}");
    }
    }
}

static void json_table(strbuf *sb, const json_value *obj, const char *skip, const char *cls)
{
    strbuf_appendf(sb, "<table class=\"%s\">\n", cls);
    for (size_t i = 0; i < json_count(obj); i++) {
        if (skip && strcmp(json_key_at(obj, i), skip) == 0)
            continue;
        strbuf_append(sb, "<tr><th>");
        strbuf_append_xml_text(sb, json_key_at(obj, i));
        strbuf_append(sb, "</th><td>");
        json_cell(sb, json_at(obj, i));
        strbuf_append(sb, "</td></tr>\n");
    }
    strbuf_append(sb, "</table>\n");
}

static double summary_number(const run_record *r, const char *key)
{
    return json_number(json_object_get(r->summary, key));
}

/* A fraction as a percentage cell; a dash when the run has none (no test split). */
static void percent_cell(strbuf *sb, double v)
{
    if (isfinite(v))
        strbuf_appendf(sb, "<td>%.2f%%</td>", 100 * v);
    else
        strbuf_append(sb, "<td>&ndash;</td>");
}

static const char *summary_text(const run_record *r, const char *key)
{
    const char *s = json_string(json_object_get(r->summary, key));
    return s ? s : "";
}

/* ---- the charts over all runs ---- */

typedef double (*epoch_field)(const epoch_row *e);
static double f_train_loss(const epoch_row *e) { return e->train_loss; }
static double f_val_loss(const epoch_row *e) { return e->val_loss; }
static double f_train_acc(const epoch_row *e) { return e->train_accuracy; }
static double f_val_acc(const epoch_row *e) { return e->val_accuracy; }
static double f_lr(const epoch_row *e) { return e->lr; }

static void epoch_series(chart *c, const run_record *r, int color, const char *what,
                         epoch_field field, int dashed)
{
    double *x = malloc(sizeof(double) * (size_t)r->nepochs);
    double *y = malloc(sizeof(double) * (size_t)r->nepochs);
    if (!x || !y) {
        c->failed = 1;
    } else {
        for (int i = 0; i < r->nepochs; i++)
            x[i] = r->epochs[i].epoch, y[i] = field(&r->epochs[i]);
        char label[160];
        snprintf(label, sizeof label, "%s %s", r->name, what);
        if (dashed)
            chart_dashed(c, label, chart_color(color), r->nepochs, x, y);
        else
            chart_line(c, label, chart_color(color), r->nepochs, x, y);
    }
    free(x), free(y);
}

typedef double (*step_field)(const step_row *s);
static double s_loss(const step_row *s) { return s->loss; }
static double s_lr(const step_row *s) { return s->lr; }
static double s_grad(const step_row *s) { return s->grad_norm; }

static void step_series(chart *c, const run_record *r, int color, step_field field)
{
    size_t n = r->steps.n;
    double *x = malloc(sizeof(double) * (n ? n : 1)), *y = malloc(sizeof(double) * (n ? n : 1));
    if (!x || !y) {
        c->failed = 1;
    } else {
        for (size_t i = 0; i < n; i++)
            x[i] = (double)r->steps.rows[i].step, y[i] = field(&r->steps.rows[i]);
        chart_line(c, r->name, chart_color(color), (int)n, x, y);
    }
    free(x), free(y);
}

static void emit_chart(strbuf *sb, chart *c, int *id)
{
    strbuf_append(sb, "<figure>");
    if (chart_svg(c, CHART_W, CHART_H, (*id)++, sb) != SOMA_OK)
        strbuf_append(sb, "<p>(chart failed: out of memory)</p>");
    strbuf_append(sb, "</figure>\n");
    chart_free(c);
}

static void overview_charts(const run_record *runs, int nruns, strbuf *sb, int *id)
{
    chart c;
    chart_init(&c, "Loss", "epoch", "cross-entropy");
    for (int i = 0; i < nruns; i++) {
        epoch_series(&c, &runs[i], i, "train", f_train_loss, 0);
        epoch_series(&c, &runs[i], i, "val", f_val_loss, 1);
    }
    emit_chart(sb, &c, id);
    chart_init(&c, "Accuracy", "epoch", "accuracy");
    for (int i = 0; i < nruns; i++) {
        epoch_series(&c, &runs[i], i, "train", f_train_acc, 0);
        epoch_series(&c, &runs[i], i, "val", f_val_acc, 1);
    }
    emit_chart(sb, &c, id);
    int any_steps = 0;
    for (int i = 0; i < nruns; i++)
        any_steps |= runs[i].steps.n > 0;
    chart_init(&c, "Learning rate", any_steps ? "step" : "epoch", "learning rate");
    for (int i = 0; i < nruns; i++) {
        if (runs[i].steps.n)
            step_series(&c, &runs[i], i, s_lr);
        else
            epoch_series(&c, &runs[i], i, "", f_lr, 0);
    }
    emit_chart(sb, &c, id);
    if (!any_steps)
        return;
    chart_init(&c, "Loss of each step (steps.csv)", "step", "batch loss (log)");
    c.log_y = 1;
    for (int i = 0; i < nruns; i++)
        if (runs[i].steps.n)
            step_series(&c, &runs[i], i, s_loss);
    emit_chart(sb, &c, id);
    chart_init(&c, "Gradient norm of each step", "step", "l2 norm (log)");
    c.log_y = 1;
    for (int i = 0; i < nruns; i++)
        if (runs[i].steps.n)
            step_series(&c, &runs[i], i, s_grad);
    emit_chart(sb, &c, id);
}

/* ---- one run in detail ---- */

static void class_label(strbuf *sb, const run_record *r, int k)
{
    if (r->class_names && k < r->classes && r->class_names[k])
        strbuf_append_xml_text(sb, r->class_names[k]);
    else
        strbuf_appendf(sb, "%d", k);
}

static void confusion_table(strbuf *sb, const run_record *r)
{
    long long max = 1;
    for (int i = 0; i < r->classes * r->classes; i++)
        if (i % (r->classes + 1) != 0 && r->confusion[i] > max)
            max = r->confusion[i];
    strbuf_append(sb, "<h3>Confusion matrix (rows: true class, columns: predicted)</h3>\n"
                      "<table class=\"confusion\"><tr><th></th>");
    for (int k = 0; k < r->classes; k++) {
        strbuf_append(sb, "<th>");
        class_label(sb, r, k);
        strbuf_append(sb, "</th>");
    }
    strbuf_append(sb, "</tr>\n");
    for (int t = 0; t < r->classes; t++) {
        strbuf_append(sb, "<tr><th>");
        class_label(sb, r, t);
        strbuf_append(sb, "</th>");
        for (int k = 0; k < r->classes; k++) {
            long long v = r->confusion[(size_t)t * r->classes + k];
            /* mistakes in red by their share of the largest; the diagonal green */
            double a = t == k ? 0.35 : 0.85 * (double)v / (double)max;
            strbuf_appendf(sb, "<td style=\"background:rgba(%s,%.2f)\">%lld</td>",
                           t == k ? "0,158,115" : "213,94,0", v ? a : 0.0, v);
        }
        strbuf_append(sb, "</tr>\n");
    }
    strbuf_append(sb, "</table>\n<h3>Accuracy per class</h3>\n<table class=\"perclass\">\n");
    for (int t = 0; t < r->classes; t++) {
        long long right = r->confusion[(size_t)t * r->classes + t], all = 0;
        for (int k = 0; k < r->classes; k++)
            all += r->confusion[(size_t)t * r->classes + k];
        double acc = all ? (double)right / (double)all : NAN;
        strbuf_append(sb, "<tr><th>");
        class_label(sb, r, t);
        strbuf_append(sb, "</th>");
        percent_cell(sb, acc);
        strbuf_appendf(sb, "<td><div class=\"bar\" style=\"width:%.0fpx\"></div></td>"
                           "<td>%lld / %lld</td></tr>\n",
                       isnan(acc) ? 0 : 300 * acc, right, all);
    }
    strbuf_append(sb, "</table>\n");
}

/* The grid as tiles cut from the one embedded PNG by CSS, each labelled. */
static void mistakes_grid(strbuf *sb, const run_record *r, int run_index)
{
    int tiles = r->nmistakes < MISCLASSIFIED_GRID ? r->nmistakes : MISCLASSIFIED_GRID;
    strbuf_appendf(sb, "<h3>Misclassified test images (%d; the %d most confident "
                       "mistakes)</h3>\n",
                   r->nmistakes, tiles);
    if (tiles == 0 || !r->grid_png)
        return;
    int cols = tiles < MISCLASSIFIED_COLUMNS ? tiles : MISCLASSIFIED_COLUMNS;
    int rows = (tiles + cols - 1) / cols;
    int tw = (r->grid_w - 2) / cols - 2, th = (r->grid_h - 2) / rows - 2;
    if (tw < 1 || th < 1)
        return;
    int scale = tw < 48 ? 3 : 1;
    strbuf_appendf(sb, "<style>.grid%d{background-image:url(data:image/png;base64,", run_index);
    append_base64(sb, r->grid_png, r->grid_len);
    strbuf_appendf(sb, ");background-size:%dpx %dpx;width:%dpx;height:%dpx;"
                       "image-rendering:pixelated}</style>\n<div class=\"tiles\">\n",
                   r->grid_w * scale, r->grid_h * scale, tw * scale, th * scale);
    for (int t = 0; t < tiles; t++) {
        const mistake_row *m = &r->mistakes[t];
        int x = 2 + (t % cols) * (tw + 2), y = 2 + (t / cols) * (th + 2);
        strbuf_appendf(sb, "<div class=\"tile\"><div class=\"grid%d\" style=\"background-"
                           "position:-%dpx -%dpx\"></div><span>true ",
                       run_index, x * scale, y * scale);
        class_label(sb, r, m->truth);
        strbuf_append(sb, "<br>said ");
        class_label(sb, r, m->predicted);
        strbuf_appendf(sb, " (%.0f%%)<br>#%d</span></div>\n", 100 * m->confidence, m->index);
    }
    strbuf_append(sb, "</div>\n");
}

static void run_section(strbuf *sb, const run_record *r, int i)
{
    strbuf_appendf(sb, "<section class=\"run\" id=\"run%d\">\n<h2 style=\"color:#%06x\">", i,
                   chart_color(i));
    strbuf_append_xml_text(sb, r->name);
    strbuf_append(sb, "</h2>\n<p class=\"where\">");
    strbuf_append_xml_text(sb, r->dir);
    strbuf_append(sb, "</p>\n");
    double wall = summary_number(r, "wall_seconds"), seconds = 0;
    for (int e = 0; e < r->nepochs; e++)
        seconds += r->epochs[e].seconds;
    strbuf_appendf(sb, "<h3>Timing</h3>\n<p>%.1f s in all (%.1f s training over %d epochs, "
                       "%.1f s per epoch), %.0f images/s on average</p>\n",
                   wall, seconds, r->nepochs, r->nepochs ? seconds / r->nepochs : 0.0,
                   summary_number(r, "images_per_second"));
    if (r->classes)
        confusion_table(sb, r);
    if (r->mistakes)
        mistakes_grid(sb, r, i);
    if (r->model_summary) {
        strbuf_append(sb, "<h3>Model</h3>\n<pre>");
        strbuf_append_xml_text(sb, r->model_summary);
        strbuf_append(sb, "</pre>\n");
    }
    strbuf_append(sb, "<h3>Settings</h3>\n");
    json_table(sb, json_object_get(r->summary, "settings"), NULL, "settings");
    strbuf_append(sb, "<h3>Outcome (summary.json)</h3>\n");
    json_table(sb, r->summary, "settings", "settings");
    strbuf_append(sb, "</section>\n");
}

static const char style[] =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1500px}"
    "h1{margin-bottom:4px}figure{display:inline-block;margin:8px}"
    "table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;"
    "font-size:13px;text-align:right}th{background:#f6f6f6}table.settings td,"
    "table.settings th{text-align:left}.bar{background:#0072b2;height:10px}"
    "pre{background:#f6f6f6;padding:8px;font-size:12px;overflow-x:auto}"
    ".tiles{display:flex;flex-wrap:wrap;gap:6px}.tile{font-size:11px;text-align:center}"
    ".where{color:#777;font-size:12px}section.run{border-top:2px solid #ddd;margin-top:24px}";

soma_status report_html(const run_record *runs, int nruns, strbuf *out)
{
    strbuf_appendf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                        "<title>soma report</title>\n<style>%s</style>\n</head><body>\n"
                        "<h1>soma report</h1>\n<table class=\"runs\"><tr><th>run</th>"
                        "<th>model</th><th>data</th><th>optimizer</th><th>epochs</th>"
                        "<th>best val accuracy</th><th>test accuracy</th><th>wall s</th></tr>\n",
                   style);
    for (int i = 0; i < nruns; i++) {
        const run_record *r = &runs[i];
        strbuf_appendf(out, "<tr><td style=\"color:#%06x\"><a href=\"#run%d\">", chart_color(i),
                       i);
        strbuf_append_xml_text(out, r->name);
        strbuf_append(out, "</a></td><td>");
        strbuf_append_xml_text(out, summary_text(r, "model"));
        strbuf_append(out, "</td><td>");
        strbuf_append_xml_text(out, summary_text(r, "data"));
        strbuf_append(out, "</td><td>");
        strbuf_append_xml_text(out, summary_text(r, "optimizer"));
        strbuf_appendf(out, "</td><td>%d</td>", r->nepochs);
        percent_cell(out, summary_number(r, "best_val_accuracy"));
        percent_cell(out, summary_number(r, "test_accuracy"));
        strbuf_appendf(out, "<td>%.1f</td></tr>\n", summary_number(r, "wall_seconds"));
    }
    strbuf_append(out, "</table>\n<p>Solid lines: training; dashed: validation.</p>\n");
    int id = 0;
    overview_charts(runs, nruns, out, &id);
    for (int i = 0; i < nruns; i++)
        run_section(out, &runs[i], i);
    strbuf_append(out, "</body></html>\n");
    return out->failed ? soma_error(SOMA_ERR_MEMORY, "out of memory") : SOMA_OK;
}

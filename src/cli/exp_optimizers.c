/*
 * soma experiment optimizers: the paths of the six optimizers on three 2-D
 * functions over their contour lines, and LeNet-5's training loss with each.
 * The updates are the library's own (soma_optimizer_step, the code soma_train
 * runs), on a two-float parameter array.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/experiment.h"
#include "core/error.h"

#define NKINDS 6
#define GRID 121
#define MAX_STEPS 1000

static const soma_optimizer_kind kinds[NKINDS] = {SOMA_OPT_SGD,     SOMA_OPT_MOMENTUM,
                                                  SOMA_OPT_NESTEROV, SOMA_OPT_ADAGRAD,
                                                  SOMA_OPT_RMSPROP, SOMA_OPT_ADAM};

typedef struct toy {
    const char *name, *title;
    double (*f)(double x, double y);
    void (*grad)(double x, double y, double *gx, double *gy);
    double x0, y0, xmin, ymin;        /* start, and the minimum the paths head for */
    double xlo, xhi, ylo, yhi;        /* the picture */
    int steps;
    float lr[NKINDS];                 /* per optimizer, in the order of kinds[] */
    int log_levels;                   /* contour levels spaced by factors (f >= 0) */
} toy;

/* f = 0.025 x^2 + 2.5 y^2: curvature 0.05 along x, 5 along y (condition 100) */
static double quad_f(double x, double y) { return 0.025 * x * x + 2.5 * y * y; }
static void quad_g(double x, double y, double *gx, double *gy) { *gx = 0.05 * x, *gy = 5 * y; }
/* Rosenbrock's banana valley, minimum at (1, 1) */
static double rosen_f(double x, double y)
{
    return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
}
static void rosen_g(double x, double y, double *gx, double *gy)
{
    *gx = -2 * (1 - x) - 400 * x * (y - x * x), *gy = 200 * (y - x * x);
}
/* A saddle at the origin (x^2 - y^2 near it), minima at (0, +-sqrt 2) */
static double saddle_f(double x, double y) { return x * x - y * y + 0.25 * y * y * y * y; }
static void saddle_g(double x, double y, double *gx, double *gy)
{
    *gx = 2 * x, *gy = -2 * y + y * y * y;
}

static const toy toys[] = {
    {"quadratic", "Ill-conditioned quadratic 0.025x^2 + 2.5y^2", quad_f, quad_g, -9, 2, 0, 0,
     -10, 2, -2.5, 2.5, 60, {0.38f, 0.06f, 0.06f, 1.0f, 0.1f, 0.3f}, 1},
    {"rosenbrock", "Rosenbrock (1-x)^2 + 100(y-x^2)^2", rosen_f, rosen_g, -1.2, 1, 1, 1, -2,
     2, -1, 3, 600, {1e-3f, 1e-3f, 1e-3f, 0.5f, 0.01f, 0.05f}, 1},
    {"saddle", "Saddle x^2 - y^2 + y^4/4 (start 0.001 off the ridge)", saddle_f, saddle_g, 1.5,
     1e-3, 0, 1.41421356, -2, 2, -2, 2, 80, {0.05f, 0.05f, 0.05f, 0.1f, 0.02f, 0.05f}, 0},
};

typedef struct path {
    double x[MAX_STEPS + 1], y[MAX_STEPS + 1], f[MAX_STEPS + 1];
    int n; /* points recorded (steps + 1 unless it diverged) */
} path;

static soma_status run_path(const toy *t, int k, path *p)
{
    soma_optimizer_config c = soma_optimizer_defaults(kinds[k]);
    c.lr = t->lr[k];
    soma_optimizer *o = NULL;
    SOMA_TRY(soma_optimizer_create(&c, 2, &o));
    float w[2] = {(float)t->x0, (float)t->y0};
    p->n = 0;
    soma_status st = SOMA_OK;
    for (int s = 0; s <= t->steps && st == SOMA_OK; s++) {
        double x = w[0], y = w[1];
        if (!isfinite(x) || !isfinite(y) || fabs(x) > 1e6 || fabs(y) > 1e6)
            break; /* diverged: the path ends where it left */
        p->x[p->n] = x, p->y[p->n] = y, p->f[p->n] = t->f(x, y), p->n++;
        double gx, gy;
        t->grad(x, y, &gx, &gy);
        float g[2] = {(float)gx, (float)gy};
        if (s < t->steps)
            st = soma_optimizer_step(o, w, g);
    }
    soma_optimizer_free(o);
    return st;
}

/* Times the y coordinate's step turned round: the zig-zag across a valley. */
static int reversals(const path *p)
{
    int n = 0;
    for (int i = 2; i < p->n; i++)
        n += (p->y[i] - p->y[i - 1]) * (p->y[i - 1] - p->y[i - 2]) < 0;
    return n;
}

static void add_contours(chart *c, const toy *t)
{
    double *z = malloc(sizeof(double) * GRID * GRID);
    if (!z) {
        c->failed = 1;
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < GRID; j++)
        for (int i = 0; i < GRID; i++) {
            double x = t->xlo + (t->xhi - t->xlo) * i / (GRID - 1);
            double y = t->ylo + (t->yhi - t->ylo) * j / (GRID - 1);
            z[j * GRID + i] = t->f(x, y);
            lo = fmin(lo, z[j * GRID + i]), hi = fmax(hi, z[j * GRID + i]);
        }
    double levels[24];
    int n = 0;
    if (t->log_levels) /* factors of 2.5 up from near the minimum */
        for (double v = fmax(hi * 1e-5, 1e-3); v < hi && n < 24; v *= 2.5)
            levels[n++] = v;
    else
        for (n = 0; n < 16; n++)
            levels[n] = lo + (hi - lo) * (n + 0.5) / 16;
    chart_contours(c, GRID, GRID, t->xlo, t->xhi, t->ylo, t->yhi, z, n, levels);
    free(z);
}

static soma_status toy_experiment(const experiment_args *a, const toy *t, strbuf *text)
{
    static path paths[NKINDS];
    strbuf csv;
    strbuf_init(&csv);
    strbuf_append(&csv, "optimizer,lr,step,x,y,f\n");
    chart c;
    chart_init(&c, t->title, "x", "y");
    chart_range_x(&c, t->xlo, t->xhi);
    chart_range_y(&c, t->ylo, t->yhi);
    add_contours(&c, t);
    soma_status st = SOMA_OK;
    strbuf_appendf(text, "%s, %d steps from (%g, %g):\n", t->title, t->steps, t->x0, t->y0);
    for (int k = 0; k < NKINDS && st == SOMA_OK; k++) {
        path *p = &paths[k];
        st = run_path(t, k, p);
        if (st != SOMA_OK)
            break;
        const char *name = soma_optimizer_name(kinds[k]);
        for (int i = 0; i < p->n; i++)
            strbuf_appendf(&csv, "%s,%g,%d,%.9g,%.9g,%.9g\n", name, (double)t->lr[k], i, p->x[i],
                           p->y[i], p->f[i]);
        char label[64];
        snprintf(label, sizeof label, "%s lr %g", name, (double)t->lr[k]);
        chart_line(&c, label, chart_color(k), p->n, p->x, p->y);
        int last = p->n - 1;
        double dist = hypot(p->x[last] - t->xmin, fabs(p->y[last]) - t->ymin);
        strbuf_appendf(text, "  %-9s f %-10.4g distance to the minimum %-8.3g", name, p->f[last],
                       dist);
        if (strcmp(t->name, "quadratic") == 0)
            strbuf_appendf(text, " y turned round %d times", reversals(p));
        strbuf_appendf(text, "%s\n", p->n <= t->steps ? " (diverged)" : "");
    }
    double sx[1] = {t->x0}, sy[1] = {t->y0}, mx[1] = {t->xmin}, my[1] = {t->ymin};
    chart_points(&c, "start", 0x000000, 1, sx, sy);
    chart_points(&c, "minimum", 0x888888, 1, mx, my);
    char name[64];
    snprintf(name, sizeof name, "paths_%s", t->name);
    if (st == SOMA_OK)
        st = chart_write(&c, a->out, name);
    snprintf(name, sizeof name, "paths_%s.csv", t->name);
    if (st == SOMA_OK)
        st = experiment_write(a->out, name, &csv);
    strbuf_free(&csv);
    chart_free(&c);
    return st;
}

/* ---- LeNet-5 on Fashion-MNIST with each optimizer ---- */

typedef struct loss_log {
    double *step, *loss;
    int n, cap;
} loss_log;

static void on_step(const soma_progress *p, void *user)
{
    loss_log *l = user;
    if (p->epoch_done || l->n == l->cap)
        return;
    l->step[l->n] = (double)p->global_step, l->loss[l->n] = p->step_loss, l->n++;
}

static soma_status lenet_experiment(const experiment_args *a, strbuf *text)
{
    soma_dataset *all = NULL, *train = NULL;
    const char *data;
    SOMA_TRY(experiment_fashion("train", &all, &data));
    int images = a->quick ? 640 : 10000, batch = 64, steps = (images + batch - 1) / batch;
    soma_status st = experiment_subset(all, images, a->seed, &train);
    soma_dataset_free(all);
    SOMA_TRY(st);
    loss_log logs[NKINDS];
    memset(logs, 0, sizeof logs);
    strbuf csv;
    strbuf_init(&csv);
    strbuf_append(&csv, "optimizer,lr,step,loss\n");
    chart c;
    char title[160];
    snprintf(title, sizeof title, "LeNet-5 on %s: training loss, %d images, batch %d", data,
             images, batch);
    chart_init(&c, title, "step", "batch loss (mean of the last 5 steps)");
    strbuf_appendf(text, "%s (each optimizer at its default learning rate, the same "
                         "initial weights and batches):\n", title);
    for (int k = 0; k < NKINDS && st == SOMA_OK; k++) {
        loss_log *l = &logs[k];
        l->cap = steps;
        l->step = calloc((size_t)steps, sizeof(double));
        l->loss = calloc((size_t)steps, sizeof(double));
        soma_model *m = NULL;
        if (!l->step || !l->loss)
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
        if (st == SOMA_OK)
            st = soma_model_open("lenet5", &m);
        if (st == SOMA_OK)
            st = soma_model_init(m, SOMA_INIT_HE, a->seed);
        soma_train_config cfg = soma_train_defaults();
        cfg.opt = soma_optimizer_defaults(kinds[k]);
        cfg.schedule = SOMA_SCHEDULE_CONST;
        cfg.epochs = 1, cfg.batch = batch, cfg.seed = a->seed;
        if (st == SOMA_OK)
            st = soma_train(m, train, NULL, &cfg, on_step, l, NULL);
        soma_model_free(m);
        if (st != SOMA_OK)
            break;
        const char *name = soma_optimizer_name(kinds[k]);
        double *smooth = malloc(sizeof(double) * (size_t)(l->n ? l->n : 1)), tail = 0;
        if (!smooth) {
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
            break;
        }
        int tail_n = 0;
        for (int i = 0; i < l->n; i++) {
            strbuf_appendf(&csv, "%s,%g,%.0f,%.6g\n", name, (double)cfg.opt.lr, l->step[i],
                           l->loss[i]);
            double sum = 0;
            int from = i >= 4 ? i - 4 : 0;
            for (int j = from; j <= i; j++)
                sum += l->loss[j];
            smooth[i] = sum / (i - from + 1);
            if (i >= l->n - (l->n + 4) / 5)
                tail += l->loss[i], tail_n++;
        }
        char label[64];
        snprintf(label, sizeof label, "%s lr %g", name, (double)cfg.opt.lr);
        chart_line(&c, label, chart_color(k), l->n, l->step, smooth);
        strbuf_appendf(text, "  %-9s first loss %.3f, mean of the last fifth of the steps %.3f\n",
                       name, l->n ? l->loss[0] : NAN, tail_n ? tail / tail_n : NAN);
        free(smooth);
    }
    if (st == SOMA_OK)
        st = chart_write(&c, a->out, "lenet_loss");
    if (st == SOMA_OK)
        st = experiment_write(a->out, "lenet_loss.csv", &csv);
    strbuf_free(&csv);
    chart_free(&c);
    for (int k = 0; k < NKINDS; k++)
        free(logs[k].step), free(logs[k].loss);
    soma_dataset_free(train);
    return st;
}

soma_status experiment_optimizers(const experiment_args *a)
{
    strbuf text;
    strbuf_init(&text);
    soma_status st = SOMA_OK;
    for (size_t i = 0; i < sizeof toys / sizeof toys[0] && st == SOMA_OK; i++)
        st = toy_experiment(a, &toys[i], &text);
    if (st == SOMA_OK) {
        strbuf_append(&text,
                      "What the paths show: on the quadratic, SGD's step is limited by the steep "
                      "y direction\n(lr x 5 near 2), so it zig-zags across the valley and creeps "
                      "along x; momentum averages\nthe alternating y steps away and keeps the "
                      "consistent x steps, so it turns round far less and\nends nearer the "
                      "minimum. Adam and RMSProp scale each coordinate by its own gradient size,"
                      "\nso their first steps go diagonally (Adam's first step is lr x sign(g)). "
                      "In Rosenbrock's\nvalley plain SGD crawls along the floor; at the saddle "
                      "the gradient along y starts at\n0.001, so SGD and momentum leave the ridge "
                      "late while the adaptive methods leave at once.\n\n");
        st = lenet_experiment(a, &text);
    }
    if (st == SOMA_OK)
        fputs(text.data ? text.data : "", stdout);
    strbuf_free(&text);
    return st;
}

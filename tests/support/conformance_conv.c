/*
 * Conformance of conv2d_workspace, conv2d_forward and conv2d_backward: the
 * definition in double over geometries chosen so that every algorithm of
 * the CPU backend runs each pass (the test's coverage check asks which ran):
 * odd sizes, batch 1, padding (also more than k-1), strides 2 to 4,
 * non-square inputs and filters, 1x1 to 11x11, channel counts on both sides
 * of 16 and its multiples, the fused ReLU on and off, grouped convolutions
 * (weights [k][c / groups][kh][kw], as in PyTorch).
 *
 * A 3x3 stride-1 convolution may run Winograd's F(4x4, 3x3) (the CPU backend
 * does for some shapes, cuDNN does too), whose error is not a plain sum's:
 * there each output may err by the larger of the sum's tolerance and
 * Winograd's bound (tests/support/winograd_bound.h, derived in
 * tests/ops/conv_winograd_test.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/conformance.h"
#include "support/winograd_bound.h"

#define GEOMG(n, c, h, w, k, kh, kw, s, p, relu, groups)                                     \
    {n, c, h, w, k, kh, kw, s, p, ((h) + 2 * (p) - (kh)) / (s) + 1,                             \
     ((w) + 2 * (p) - (kw)) / (s) + 1, relu, groups}
#define GEOM(n, c, h, w, k, kh, kw, s, p, relu) GEOMG(n, c, h, w, k, kh, kw, s, p, relu, 1)

static const conv_geom geometries[] = {
    GEOM(2, 1, 28, 28, 6, 5, 5, 1, 2, 1),    /* LeNet's first layer: few filters */
    GEOM(3, 6, 14, 14, 16, 5, 5, 1, 0, 0),   /* LeNet's second: 16 filters, 6 in */
    GEOM(2, 17, 7, 9, 33, 3, 3, 1, 1, 1),    /* channels past 16, not multiples */
    GEOM(2, 32, 6, 5, 32, 3, 3, 1, 1, 0),    /* multiples of 16 both sides */
    GEOM(1, 3, 9, 8, 4, 3, 3, 1, 0, 0),      /* batch 1, no padding */
    GEOM(2, 2, 13, 13, 20, 1, 1, 1, 0, 1),   /* 1x1 */
    GEOM(2, 5, 13, 15, 24, 3, 3, 2, 1, 1),   /* stride 2, many filters */
    GEOM(2, 3, 11, 10, 7, 3, 3, 2, 1, 0),    /* stride 2, few filters */
    GEOM(1, 4, 9, 8, 5, 4, 4, 3, 0, 1),      /* stride 3, an even filter */
    GEOM(2, 3, 8, 10, 5, 3, 2, 1, 1, 0),     /* a non-square filter */
    GEOM(2, 16, 8, 8, 16, 3, 3, 1, 1, 1),    /* 16 in, 16 out, padded */
    GEOM(2, 3, 12, 11, 17, 7, 7, 1, 3, 0),   /* 7x7 */
    GEOM(2, 3, 6, 17, 1, 3, 3, 1, 2, 1),     /* one filter, padding past k-1 */
    GEOM(2, 3, 31, 29, 16, 11, 11, 4, 2, 0), /* 11x11 stride 4 (AlexNet's first) */
    GEOM(2, 2, 5, 50, 15, 3, 3, 1, 1, 0),    /* wide rows */
    GEOM(2, 14, 9, 8, 5, 3, 3, 1, 1, 1),     /* 14 in: dx by rowvec, not batch-lane */
    GEOMG(2, 4, 9, 9, 6, 3, 3, 1, 1, 1, 2),  /* two groups, few channels */
    GEOMG(2, 32, 7, 7, 64, 3, 3, 1, 1, 0, 2), /* two groups of 16 in, 32 out (AlexNet's conv4) */
    GEOMG(1, 6, 11, 11, 9, 5, 5, 2, 2, 1, 3), /* three groups, stride 2 */
    GEOM(2, 64, 8, 8, 64, 3, 3, 1, 1, 1),     /* 64 in, 64 out: Winograd's shapes */
};
#define GEOMETRIES ((int)(sizeof geometries / sizeof geometries[0]))

int conf_conv_geometries(const conv_geom **out)
{
    *out = geometries;
    return GEOMETRIES;
}

static size_t x_index(const conv_geom *g, int n, int c, int iy, int ix)
{
    return (((size_t)n * g->c + c) * g->h + iy) * g->w + ix;
}

static int group_channels(const conv_geom *g) { return g->c / conv_groups(g); }

/* c: an input channel of filter f's group */
static size_t w_index(const conv_geom *g, int f, int c, int i, int j)
{
    int cg = group_channels(g), first = f / (g->k / conv_groups(g)) * cg;
    return (((size_t)f * cg + (c - first)) * g->kh + i) * g->kw + j;
}

/* the input channels filter f sees: [*c0, *c1) */
static void filter_channels(const conv_geom *g, int f, int *c0, int *c1)
{
    int cg = group_channels(g);
    *c0 = f / (g->k / conv_groups(g)) * cg;
    *c1 = *c0 + cg;
}

static size_t y_index(const conv_geom *g, int n, int f, int oy, int ox)
{
    return (((size_t)n * g->k + f) * g->oh + oy) * g->ow + ox;
}

void conf_conv_reference_forward(const conv_geom *g, const float *x, const float *w,
                                 const float *b, double *y, double *mag)
{
    for (int n = 0; n < g->n; n++)
        for (int f = 0; f < g->k; f++)
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    double acc = b[f], m = fabs(b[f]);
                    int c0, c1;
                    filter_channels(g, f, &c0, &c1);
                    for (int c = c0; c < c1; c++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                int iy = oy * g->stride - g->pad + i;
                                int ix = ox * g->stride - g->pad + j;
                                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                                    continue;
                                double t = (double)w[w_index(g, f, c, i, j)] *
                                           x[x_index(g, n, c, iy, ix)];
                                acc += t;
                                m += fabs(t);
                            }
                    size_t yi = y_index(g, n, f, oy, ox);
                    y[yi] = g->relu && !(acc > 0.0) ? 0.0 : acc;
                    mag[yi] = m;
                }
}

void conf_conv_reference_backward(const conv_geom *g, const float *x, const float *w,
                                  const float *dz, const float *dw0, const float *db0,
                                  conf_conv_grads *r)
{
    size_t nx = (size_t)g->n * g->c * g->h * g->w;
    size_t nw = (size_t)g->k * group_channels(g) * g->kh * g->kw;
    memset(r->dx, 0, sizeof *r->dx * nx);
    memset(r->dx_mag, 0, sizeof *r->dx_mag * nx);
    for (size_t i = 0; i < nw; i++)
        r->dw[i] = dw0[i], r->dw_mag[i] = fabs(dw0[i]);
    for (int f = 0; f < g->k; f++)
        r->db[f] = db0[f], r->db_mag[f] = fabs(db0[f]);
    for (int n = 0; n < g->n; n++)
        for (int f = 0; f < g->k; f++)
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    double d = dz[y_index(g, n, f, oy, ox)];
                    r->db[f] += d;
                    r->db_mag[f] += fabs(d);
                    int c0, c1;
                    filter_channels(g, f, &c0, &c1);
                    for (int c = c0; c < c1; c++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                int iy = oy * g->stride - g->pad + i;
                                int ix = ox * g->stride - g->pad + j;
                                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                                    continue;
                                size_t xi = x_index(g, n, c, iy, ix), wi = w_index(g, f, c, i, j);
                                r->dw[wi] += d * x[xi];
                                r->dw_mag[wi] += fabs(d * x[xi]);
                                r->dx[xi] += d * w[wi];
                                r->dx_mag[xi] += fabs(d * w[wi]);
                            }
                }
}

static void describe(const conv_geom *g, int index, int threads, char *buf, size_t size)
{
    char groups[16] = "";
    if (conv_groups(g) > 1)
        snprintf(groups, sizeof groups, " g%d", conv_groups(g));
    snprintf(buf, size, "#%d n%d c%d %dx%d k%d %dx%d s%d p%d%s%s, %d thread%s", index, g->n,
             g->c, g->h, g->w, g->k, g->kh, g->kw, g->stride, g->pad, groups,
             g->relu ? " relu" : "", threads, threads == 1 ? "" : "s");
}

static int winograd_may_run(const conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride == 1;
}

/* mag[i] raised so that tol * mag[i] covers gamma * wino[i] too */
static void allow_winograd(double *mag, const double *wino, size_t n, double gamma, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (gamma * wino[i] > tol * mag[i])
            mag[i] = gamma * wino[i] / tol;
}

static void check_geometry(const conf_target *t, const conv_geom *g, int index)
{
    const soma_backend *be = t->be;
    size_t nx = (size_t)g->n * g->c * g->h * g->w, ny = (size_t)g->n * g->k * g->oh * g->ow;
    size_t nw = (size_t)g->k * group_channels(g) * g->kh * g->kw;
    uint64_t s = 100 + 10 * (uint64_t)index;
    float *x = host_normal(nx, s, 1.0f), *w = host_normal(nw, s + 1, 0.5f);
    float *b = host_normal(g->k, s + 2, 0.5f), *dy = host_normal(ny, s + 3, 1.0f);
    float *dw0 = host_normal(nw, s + 4, 1.0f), *db0 = host_normal(g->k, s + 5, 1.0f);
    double *ry = host_doubles(ny), *ry_mag = host_doubles(ny);
    conf_conv_grads r = {host_doubles(nx), host_doubles(nx), host_doubles(nw),
                    host_doubles(nw), host_doubles(g->k), host_doubles(g->k)};
    float *dz = host_floats(ny);
    conf_conv_reference_forward(g, x, w, b, ry, ry_mag);
    double taps = (double)group_channels(g) * g->kh * g->kw, outputs = (double)g->n * g->oh * g->ow;
    int wino = winograd_may_run(g);
    double *wino_mag = wino ? host_doubles(nx > ny ? (nx > nw ? nx : nw) : (ny > nw ? ny : nw))
                            : NULL;
    double *filters = wino ? wino_dense_filters(g, w, 0) : NULL;
    double *filters_t = wino ? wino_dense_filters(g, w, 1) : NULL;
    if (wino) {
        wino_forward_mag(g->n, g->c, g->h, g->w, g->k, g->oh, g->ow, g->pad, filters, x, wino_mag);
        for (size_t i = 0; i < ny; i++)
            wino_mag[i] += fabs(b[i / ((size_t)g->oh * g->ow) % g->k]);
        allow_winograd(ry_mag, wino_mag, ny,
                       wino_gamma(WINO_STAGES_FORWARD + group_channels(g)),
                       conf_tolerance(TOL_SUM, taps + 1));
    }

    CONF_FOR_THREADS(t, ti) {
        char name[120];
        describe(g, index, t->threads[ti], name, sizeof name);
        float *d_x = dev_from_host(be, x, nx), *d_w = dev_from_host(be, w, nw);
        float *d_b = dev_from_host(be, b, g->k), *d_dy = dev_from_host(be, dy, ny);
        /* outputs and workspace start as NaN: every output written, no workspace read
         * before it is written */
        float *d_y = dev_filled(be, ny, NAN), *d_dx = dev_filled(be, nx, NAN);
        size_t ws_floats = run_conv_workspace(be, g);
        float *d_ws = dev_filled(be, ws_floats ? ws_floats : 1, NAN);
        float *d_dw = dev_from_host(be, dw0, nw), *d_db = dev_from_host(be, db0, g->k);

        conf_case k;
        case_begin(&k, t, "conv2d_forward", "%s", name);
        case_status(&k, run_conv_forward(be, g, d_x, d_w, d_b, d_y, d_ws), "conv2d_forward");
        float *y = host_from_dev(be, d_y, ny);
        case_close(&k, "y", y, ry, ry_mag, ny, conf_tolerance(TOL_SUM, taps + 1));
        case_end(&k);

        /* the fused ReLU's backward masks dy where the y it is given is not positive */
        for (size_t i = 0; i < ny; i++)
            dz[i] = g->relu && !(y[i] > 0.0f) ? 0.0f : dy[i];
        conf_conv_reference_backward(g, x, w, dz, dw0, db0, &r);
        int kg = g->k / conv_groups(g);
        if (wino && g->pad <= 2) {
            wino_forward_mag(g->n, g->k, g->oh, g->ow, g->c, g->h, g->w, 2 - g->pad, filters_t,
                             dz, wino_mag);
            allow_winograd(r.dx_mag, wino_mag, nx, wino_gamma(WINO_STAGES_FORWARD + kg),
                           conf_tolerance(TOL_SUM, (double)kg * g->kh * g->kw));
        }
        if (wino) { /* the sums over tiles, chunks and parts, and the initial dw */
            wino_dw_mag(g, x, dz, wino_mag);
            int sums = (int)outputs + g->n + t->threads[ti] + 1;
            for (size_t i = 0; i < nw; i++)
                wino_mag[i] += fabs(dw0[i]);
            allow_winograd(r.dw_mag, wino_mag, nw, wino_gamma(WINO_STAGES_DW + sums),
                           conf_tolerance(TOL_SUM, outputs + 1));
        }
        case_begin(&k, t, "conv2d_backward", "%s", name);
        case_status(&k, run_conv_backward(be, g, d_x, d_w, d_y, d_dy, d_dx, d_dw, d_db, d_ws),
                    "conv2d_backward");
        float *dx = host_from_dev(be, d_dx, nx), *dw = host_from_dev(be, d_dw, nw);
        float *db = host_from_dev(be, d_db, g->k);
        case_close(&k, "dx", dx, r.dx, r.dx_mag, nx,
                   conf_tolerance(TOL_SUM, (double)(g->k / conv_groups(g)) * g->kh * g->kw));
        case_close(&k, "dw", dw, r.dw, r.dw_mag, nw, conf_tolerance(TOL_SUM, outputs + 1));
        case_close(&k, "db", db, r.db, r.db_mag, g->k, conf_tolerance(TOL_SUM, outputs + 1));
        case_end(&k);

        /* dx not needed: the filter gradients alone, accumulating onto the first call's */
        conf_conv_reference_backward(g, x, w, dz, dw, db, &r);
        if (wino) {
            wino_dw_mag(g, x, dz, wino_mag);
            int sums = (int)outputs + g->n + t->threads[ti] + 1;
            for (size_t i = 0; i < nw; i++)
                wino_mag[i] += fabs(dw[i]);
            allow_winograd(r.dw_mag, wino_mag, nw, wino_gamma(WINO_STAGES_DW + sums),
                           conf_tolerance(TOL_SUM, outputs + 1));
        }
        case_begin(&k, t, "conv2d_backward dx=NULL", "%s", name);
        case_status(&k, run_conv_backward(be, g, d_x, d_w, d_y, d_dy, NULL, d_dw, d_db, d_ws),
                    "conv2d_backward");
        float *dw2 = host_from_dev(be, d_dw, nw), *db2 = host_from_dev(be, d_db, g->k);
        case_close(&k, "dw", dw2, r.dw, r.dw_mag, nw, conf_tolerance(TOL_SUM, outputs + 1));
        case_close(&k, "db", db2, r.db, r.db_mag, g->k, conf_tolerance(TOL_SUM, outputs + 1));
        case_end(&k);

        free(y), free(dx), free(dw), free(db), free(dw2), free(db2);
        void *bufs[] = {d_x, d_w, d_b, d_dy, d_y, d_dx, d_ws, d_dw, d_db};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            dev_release(be, bufs[i]);
    }
    free(x), free(w), free(b), free(dy), free(dw0), free(db0), free(ry), free(ry_mag), free(dz);
    free(wino_mag), free(filters), free(filters_t);
    free(r.dx), free(r.dx_mag), free(r.dw), free(r.dw_mag), free(r.db), free(r.db_mag);
}

void conf_conv(const conf_target *t)
{
    for (int i = 0; i < GEOMETRIES; i++)
        check_geometry(t, &geometries[i], i);
}

/*
 * Conformance of linear_forward/backward, max and average pooling, and the
 * activations, against the definitions in double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/conformance.h"

static const char *plural(int n) { return n == 1 ? "" : "s"; }

/* ---- linear ---- */

typedef struct linear_case {
    int n, in, out, relu;
} linear_case;

static const linear_case linear_cases[] = {
    {1, 7, 3, 0},   {5, 16, 32, 1}, {4, 33, 17, 1},
    {3, 1, 1, 0},   {17, 64, 10, 0},
    /* over 2^20 multiply-adds: the CPU splits these over threads */
    {64, 130, 127, 1},
    {1, 1100, 960, 0}, /* batch 1 */
    /* batches 16..64, 32 units or more: the CPU's units-by-samples product,
     * transposed back in 16x16 blocks (edges of both), the units in blocks
     * of 8192 / n (rounded down to 16) */
    {16, 40, 33, 1},
    {64, 30, 150, 1},
    {48, 21, 200, 0},
    {65, 12, 40, 1}, /* one past, and too few units: x W^T */
    {32, 20, 31, 1},
};

static void linear_reference_forward(const linear_case *c, const float *x, const float *w,
                                     const float *b, double *y, double *mag)
{
    for (int r = 0; r < c->n; r++)
        for (int o = 0; o < c->out; o++) {
            double acc = b[o], m = fabs(b[o]);
            for (int i = 0; i < c->in; i++) {
                double t = (double)x[(size_t)r * c->in + i] * w[(size_t)o * c->in + i];
                acc += t;
                m += fabs(t);
            }
            y[(size_t)r * c->out + o] = c->relu && !(acc > 0.0) ? 0.0 : acc;
            mag[(size_t)r * c->out + o] = m;
        }
}

static void check_linear(const conf_target *t, const linear_case *c, int index)
{
    const soma_backend *be = t->be;
    size_t nx = (size_t)c->n * c->in, nw = (size_t)c->out * c->in, ny = (size_t)c->n * c->out;
    uint64_t s = 300 + 10 * (uint64_t)index;
    float *x = host_normal(nx, s, 1.0f), *w = host_normal(nw, s + 1, 0.3f);
    float *b = host_normal(c->out, s + 2, 0.5f), *dy = host_normal(ny, s + 3, 1.0f);
    float *dw0 = host_normal(nw, s + 4, 1.0f), *db0 = host_normal(c->out, s + 5, 1.0f);
    double *ry = host_doubles(ny), *ry_mag = host_doubles(ny);
    double *rdx = host_doubles(nx), *rdx_mag = host_doubles(nx);
    double *rdw = host_doubles(nw), *rdw_mag = host_doubles(nw);
    double *rdb = host_doubles(c->out), *rdb_mag = host_doubles(c->out);
    float *dz = host_floats(ny);
    linear_reference_forward(c, x, w, b, ry, ry_mag);

    CONF_FOR_THREADS(t, ti) {
        char name[96];
        snprintf(name, sizeof name, "#%d n%d in%d out%d%s, %d thread%s", index, c->n, c->in,
                 c->out, c->relu ? " relu" : "", t->threads[ti], plural(t->threads[ti]));
        float *d_x = dev_from_host(be, x, nx), *d_w = dev_from_host(be, w, nw);
        float *d_b = dev_from_host(be, b, c->out), *d_dy = dev_from_host(be, dy, ny);
        float *d_y = dev_filled(be, ny, NAN), *d_dx = dev_filled(be, nx, NAN);
        float *d_dw = dev_from_host(be, dw0, nw), *d_db = dev_from_host(be, db0, c->out);
        float *d_ws = c->relu ? dev_filled(be, ny, NAN) : NULL;

        conf_case k;
        case_begin(&k, t, "linear_forward", "%s", name);
        case_status(&k, run_linear_forward(be, d_x, d_w, d_b, d_y, c->n, c->in, c->out, c->relu),
                    "linear_forward");
        float *y = host_from_dev(be, d_y, ny);
        case_close(&k, "y", y, ry, ry_mag, ny, conf_tolerance(TOL_SUM, c->in + 1.0));
        case_end(&k);

        for (size_t i = 0; i < ny; i++)
            dz[i] = c->relu && !(y[i] > 0.0f) ? 0.0f : dy[i];
        for (size_t i = 0; i < nx; i++)
            rdx[i] = rdx_mag[i] = 0.0;
        for (size_t i = 0; i < nw; i++)
            rdw[i] = dw0[i], rdw_mag[i] = fabs(dw0[i]);
        for (int o = 0; o < c->out; o++)
            rdb[o] = db0[o], rdb_mag[o] = fabs(db0[o]);
        for (int r = 0; r < c->n; r++)
            for (int o = 0; o < c->out; o++) {
                double d = dz[(size_t)r * c->out + o];
                rdb[o] += d;
                rdb_mag[o] += fabs(d);
                for (int i = 0; i < c->in; i++) {
                    double xv = x[(size_t)r * c->in + i], wv = w[(size_t)o * c->in + i];
                    rdx[(size_t)r * c->in + i] += d * wv;
                    rdx_mag[(size_t)r * c->in + i] += fabs(d * wv);
                    rdw[(size_t)o * c->in + i] += d * xv;
                    rdw_mag[(size_t)o * c->in + i] += fabs(d * xv);
                }
            }
        case_begin(&k, t, "linear_backward", "%s", name);
        case_status(&k,
                    run_linear_backward(be, d_x, d_w, c->relu ? d_y : NULL, d_dy, d_dx, d_dw,
                                        d_db, c->n, c->in, c->out, d_ws),
                    "linear_backward");
        float *dx = host_from_dev(be, d_dx, nx), *dw = host_from_dev(be, d_dw, nw);
        float *db = host_from_dev(be, d_db, c->out);
        case_close(&k, "dx", dx, rdx, rdx_mag, nx, conf_tolerance(TOL_SUM, c->out));
        case_close(&k, "dw", dw, rdw, rdw_mag, nw, conf_tolerance(TOL_SUM, c->n + 1.0));
        case_close(&k, "db", db, rdb, rdb_mag, c->out, conf_tolerance(TOL_SUM, c->n + 1.0));
        case_end(&k);

        /* dx not needed: dw and db accumulate once more onto the first call's */
        for (size_t i = 0; i < nw; i++)
            rdw[i] += (double)dw[i] - dw0[i], rdw_mag[i] += fabs(dw[i]);
        for (int o = 0; o < c->out; o++)
            rdb[o] += (double)db[o] - db0[o], rdb_mag[o] += fabs(db[o]);
        case_begin(&k, t, "linear_backward dx=NULL", "%s", name);
        case_status(&k,
                    run_linear_backward(be, d_x, d_w, c->relu ? d_y : NULL, d_dy, NULL, d_dw,
                                        d_db, c->n, c->in, c->out, d_ws),
                    "linear_backward");
        float *dw2 = host_from_dev(be, d_dw, nw), *db2 = host_from_dev(be, d_db, c->out);
        case_close(&k, "dw", dw2, rdw, rdw_mag, nw, conf_tolerance(TOL_SUM, 2.0 * c->n + 2.0));
        case_close(&k, "db", db2, rdb, rdb_mag, c->out,
                   conf_tolerance(TOL_SUM, 2.0 * c->n + 2.0));
        case_end(&k);

        free(y), free(dx), free(dw), free(db), free(dw2), free(db2);
        void *bufs[] = {d_x, d_w, d_b, d_dy, d_y, d_dx, d_dw, d_db, d_ws};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            dev_release(be, bufs[i]);
    }
    free(x), free(w), free(b), free(dy), free(dw0), free(db0), free(dz);
    free(ry), free(ry_mag), free(rdx), free(rdx_mag), free(rdw), free(rdw_mag), free(rdb),
        free(rdb_mag);
}

void conf_linear(const conf_target *t)
{
    for (size_t i = 0; i < sizeof linear_cases / sizeof linear_cases[0]; i++)
        check_linear(t, &linear_cases[i], (int)i);
}

/* ---- pooling ---- */

typedef enum pool_inputs {
    INPUTS_NORMAL,
    INPUTS_TIES, /* from {-1, 0, 1}: windows hold equal maxima */
    INPUTS_NAN   /* some NaNs: they propagate, as PyTorch's pooling */
} pool_inputs;

typedef struct pool_case {
    pool_geom g;
    pool_inputs inputs;
} pool_case;

#define POOL_RELU(n, c, h, w, size, stride, pad, inputs, relu)                                \
    {{n, c, h, w, size, stride, pad, ((h) + 2 * (pad) - (size)) / (stride) + 1,                \
      ((w) + 2 * (pad) - (size)) / (stride) + 1, relu},                                       \
     inputs}
#define POOL(n, c, h, w, size, stride, pad, inputs)                                           \
    POOL_RELU(n, c, h, w, size, stride, pad, inputs, 0)

static const pool_case pool_cases[] = {
    POOL(2, 3, 16, 16, 2, 2, 0, INPUTS_NORMAL),  /* LeNet's 2x2/2, 8 outputs a row */
    POOL(1, 16, 17, 35, 2, 2, 0, INPUTS_NORMAL), /* batch 1, odd sizes: a row, a column over */
    POOL(2, 17, 13, 11, 3, 2, 0, INPUTS_NORMAL), /* overlapping windows (AlexNet's 3x3/2) */
    POOL(2, 5, 9, 10, 3, 1, 1, INPUTS_NORMAL),   /* padding, stride 1 */
    POOL(1, 2, 7, 8, 3, 2, 1, INPUTS_NORMAL),    /* padding, stride 2 */
    POOL(2, 3, 12, 40, 2, 2, 0, INPUTS_NORMAL),  /* wide rows: 20 outputs */
    POOL(2, 4, 6, 6, 6, 1, 0, INPUTS_NORMAL),    /* the whole plane */
    POOL(1, 3, 11, 9, 5, 3, 2, INPUTS_NORMAL),   /* 5x5/3 pad 2 */
    /* ties: the first maximum in row-major order takes the gradient */
    POOL(2, 3, 16, 16, 2, 2, 0, INPUTS_TIES),
    POOL(2, 17, 13, 11, 3, 2, 0, INPUTS_TIES),
    POOL(2, 5, 9, 10, 3, 1, 1, INPUTS_TIES),
    /* NaN wins over numbers, a later NaN over an earlier one (PyTorch's rule) */
    POOL(2, 3, 16, 16, 2, 2, 0, INPUTS_NAN),
    POOL(2, 17, 13, 11, 3, 2, 0, INPUTS_NAN),
    POOL(2, 5, 9, 10, 3, 1, 1, INPUTS_NAN),
    /* the ReLU before the pool applied by maxpool (pool_geom.relu): the
     * maximum of x > 0 ? x : +0, and no gradient where that is +0 */
    POOL_RELU(2, 3, 16, 16, 2, 2, 0, INPUTS_NORMAL, 1),
    POOL_RELU(2, 17, 13, 11, 3, 2, 0, INPUTS_NORMAL, 1),
    POOL_RELU(1, 2, 7, 8, 3, 2, 1, INPUTS_TIES, 1),
    POOL_RELU(2, 5, 9, 10, 3, 1, 1, INPUTS_NAN, 1),
};

/* The clipped window of output (oy, ox). */
static void window(const pool_geom *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * g->stride - g->pad, *x0 = ox * g->stride - g->pad;
    *y1 = *y0 + g->size, *x1 = *x0 + g->size;
    *y0 = *y0 < 0 ? 0 : *y0, *x0 = *x0 < 0 ? 0 : *x0;
    *y1 = *y1 > g->h ? g->h : *y1, *x1 = *x1 > g->w ? g->w : *x1;
}

typedef struct pool_reference {
    double *max_y, *avg_y, *avg_y_mag;
    double *max_dx, *max_dx_mag, *avg_dx, *avg_dx_mag;
} pool_reference;

/* max (the first in row-major order wins, a NaN over numbers and a later NaN
 * over an earlier one; padding is not a value) and the
 * average over in-bounds elements (count_include_pad = 0), and their gradients.
 * With g->relu, x is the ReLU's output and the max passes a gradient only
 * where it is positive (the ReLU's mask). */
static void pool_reference_run(const pool_geom *g, const float *x, const float *dy,
                               pool_reference *r)
{
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    size_t nx = in_plane * g->n * g->c;
    memset(r->max_dx, 0, sizeof(double) * nx);
    memset(r->max_dx_mag, 0, sizeof(double) * nx);
    memset(r->avg_dx, 0, sizeof(double) * nx);
    memset(r->avg_dx_mag, 0, sizeof(double) * nx);
    for (int p = 0; p < g->n * g->c; p++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                size_t o = out_plane * p + (size_t)oy * g->ow + ox;
                int y0, y1, x0, x1;
                window(g, oy, ox, &y0, &y1, &x0, &x1);
                size_t best = 0;
                double sum = 0.0, mag = 0.0, count = (double)(y1 - y0) * (x1 - x0);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        size_t i = in_plane * p + (size_t)iy * g->w + ix;
                        if ((iy == y0 && ix == x0) || x[i] > x[best] || isnan(x[i]))
                            best = i;
                        sum += x[i];
                        mag += fabs(x[i]);
                    }
                r->max_y[o] = x[best];
                if (!g->relu || x[best] > 0.0f) {
                    r->max_dx[best] += dy[o];
                    r->max_dx_mag[best] += fabs(dy[o]);
                }
                r->avg_y[o] = sum / count;
                r->avg_y_mag[o] = mag / count;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        size_t i = in_plane * p + (size_t)iy * g->w + ix;
                        r->avg_dx[i] += dy[o] / count;
                        r->avg_dx_mag[i] += fabs(dy[o]) / count;
                    }
            }
}

static void check_pool(const conf_target *t, const pool_case *c, int index)
{
    const soma_backend *be = t->be;
    const pool_geom *g = &c->g;
    size_t nx = (size_t)g->n * g->c * g->h * g->w, ny = (size_t)g->n * g->c * g->oh * g->ow;
    uint64_t s = 500 + 10 * (uint64_t)index;
    float *x = host_normal(nx, s, 1.0f), *dy = host_normal(ny, s + 1, 1.0f);
    for (size_t i = 0; i < nx; i++)
        if (c->inputs == INPUTS_TIES)
            x[i] = x[i] > 0.5f ? 1.0f : x[i] < -0.5f ? -1.0f : 0.0f;
        else if (c->inputs == INPUTS_NAN && i % 23 < 2) /* pairs of NaNs, now and then */
            x[i] = NAN;
    pool_reference r = {host_doubles(ny), host_doubles(ny), host_doubles(ny), host_doubles(nx),
                        host_doubles(nx), host_doubles(nx), host_doubles(nx)};
    float *relu_x = malloc(sizeof *relu_x * nx); /* what the reference pools */
    for (size_t i = 0; i < nx; i++)
        relu_x[i] = !g->relu ? x[i] : x[i] > 0.0f ? x[i] : 0.0f;
    pool_reference_run(g, relu_x, dy, &r);
    free(relu_x);
    /* windows overlapping one input; the average adds a division */
    double overlap = ceil((double)g->size / g->stride) * ceil((double)g->size / g->stride);

    CONF_FOR_THREADS(t, ti) {
        char name[112];
        snprintf(name, sizeof name, "#%d n%d c%d %dx%d %dx%d/%d pad %d%s%s, %d thread%s", index,
                 g->n, g->c, g->h, g->w, g->size, g->size, g->stride, g->pad,
                 c->inputs == INPUTS_TIES ? " ties" : c->inputs == INPUTS_NAN ? " NaNs" : "",
                 g->relu ? " relu" : "", t->threads[ti], plural(t->threads[ti]));
        float *d_x = dev_from_host(be, x, nx), *d_dy = dev_from_host(be, dy, ny);
        float *d_y = dev_filled(be, ny, NAN), *d_dx = dev_filled(be, nx, NAN);
        int32_t *d_arg = dev_bytes(be, NULL, sizeof(int32_t) * ny);

        conf_case k;
        case_begin(&k, t, "maxpool_forward", "%s", name);
        case_status(&k, run_maxpool_forward(be, g, d_x, d_y, d_arg), "maxpool_forward");
        float *y = host_from_dev(be, d_y, ny);
        case_close(&k, "y", y, r.max_y, NULL, ny, conf_tolerance(TOL_EXACT, 0));
        case_end(&k);
        free(y);

        /* the argmax's format is the backend's own: checked through backward */
        case_begin(&k, t, "maxpool_backward", "%s", name);
        case_status(&k, run_maxpool_backward(be, g, d_dy, d_arg, d_dx), "maxpool_backward");
        float *dx = host_from_dev(be, d_dx, nx);
        case_close(&k, "dx", dx, r.max_dx, r.max_dx_mag, nx, conf_tolerance(TOL_SUM, overlap));
        case_end(&k);
        free(dx);

        if (c->inputs != INPUTS_TIES && !g->relu) { /* average pooling has no ReLU */
            float *d_avg_y = dev_filled(be, ny, NAN), *d_avg_dx = dev_filled(be, nx, NAN);
            case_begin(&k, t, "avgpool_forward", "%s", name);
            case_status(&k, run_avgpool_forward(be, g, d_x, d_avg_y), "avgpool_forward");
            y = host_from_dev(be, d_avg_y, ny);
            case_close(&k, "y", y, r.avg_y, r.avg_y_mag, ny,
                       conf_tolerance(TOL_SUM, (double)g->size * g->size + 1.0));
            case_end(&k);
            case_begin(&k, t, "avgpool_backward", "%s", name);
            case_status(&k, run_avgpool_backward(be, g, d_dy, d_avg_dx), "avgpool_backward");
            dx = host_from_dev(be, d_avg_dx, nx);
            case_close(&k, "dx", dx, r.avg_dx, r.avg_dx_mag, nx,
                       conf_tolerance(TOL_SUM, 2.0 * overlap));
            case_end(&k);
            free(y), free(dx);
            dev_release(be, d_avg_y), dev_release(be, d_avg_dx);
        }
        void *bufs[] = {d_x, d_dy, d_y, d_dx, d_arg};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            dev_release(be, bufs[i]);
    }
    free(x), free(dy), free(r.max_y), free(r.avg_y), free(r.avg_y_mag), free(r.max_dx);
    free(r.max_dx_mag), free(r.avg_dx), free(r.avg_dx_mag);
}

void conf_pool(const conf_target *t)
{
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++)
        check_pool(t, &pool_cases[i], (int)i);
}

/* ---- activations ---- */

static const size_t activation_sizes[] = {1, 17, 1000,
                                          70001}; /* the last one split over threads */

static const char *activation_name(activation_kind kind)
{
    return kind == ACT_RELU ? "relu" : kind == ACT_TANH ? "tanh" : "sigmoid";
}

static void check_activation(const conf_target *t, activation_kind kind, size_t n, int index)
{
    const soma_backend *be = t->be;
    float *x = host_normal(n, 700 + (uint64_t)index, 3.0f), *dy = host_normal(n, 800, 1.0f);
    if (n > 3) /* zeros of both signs, and saturation */
        x[0] = 0.0f, x[1] = -0.0f, x[2] = 20.0f, x[3] = -20.0f;
    if (n > 4 && kind == ACT_RELU) /* x > 0 ? x : 0 (backend.h): 0 for NaN */
        x[4] = NAN;
    double *want = host_doubles(n), *dwant = host_doubles(n), *dmag = host_doubles(n);
    for (size_t i = 0; i < n; i++)
        want[i] = kind == ACT_RELU   ? (x[i] > 0.0f ? x[i] : 0.0)
                  : kind == ACT_TANH ? tanh((double)x[i])
                                     : 1.0 / (1.0 + exp(-(double)x[i]));
    conf_tol fwd_tol = kind == ACT_RELU ? TOL_EXACT : TOL_LIBM;
    conf_tol bwd_tol = kind == ACT_RELU ? TOL_EXACT : TOL_ROUNDED;

    CONF_FOR_THREADS(t, ti) {
        char name[64];
        snprintf(name, sizeof name, "%s n%zu, %d thread%s", activation_name(kind), n,
                 t->threads[ti], plural(t->threads[ti]));
        float *d_x = dev_from_host(be, x, n), *d_y = dev_filled(be, n, NAN);
        float *d_dy = dev_from_host(be, dy, n), *d_dx = dev_filled(be, n, NAN);
        conf_case k;
        case_begin(&k, t, "activation_forward", "%s", name);
        case_status(&k, run_activation_forward(be, kind, d_x, d_y, n), "activation_forward");
        float *y = host_from_dev(be, d_y, n);
        case_close(&k, "y", y, want, NULL, n, conf_tolerance(fwd_tol, 0));
        case_end(&k);

        /* in place (x == y), as the layers may call it */
        case_begin(&k, t, "activation_forward in place", "%s", name);
        case_status(&k, run_activation_forward(be, kind, d_x, d_x, n), "activation_forward");
        float *y_in_place = host_from_dev(be, d_x, n);
        case_close(&k, "y", y_in_place, want, NULL, n, conf_tolerance(fwd_tol, 0));
        case_end(&k);

        /* backward from the output alone: the y the forward gave */
        for (size_t i = 0; i < n; i++) {
            double yi = y[i], d = dy[i];
            dwant[i] = kind == ACT_RELU   ? (y[i] > 0.0f ? d : 0.0)
                       : kind == ACT_TANH ? d * (1.0 - yi * yi)
                                          : d * yi * (1.0 - yi);
            dmag[i] = kind == ACT_RELU   ? fabs(dwant[i])
                      : kind == ACT_TANH ? fabs(d) * (1.0 + yi * yi)
                                         : fabs(d * yi) * (1.0 + fabs(yi));
        }
        case_begin(&k, t, "activation_backward", "%s", name);
        case_status(&k, run_activation_backward(be, kind, d_y, d_dy, d_dx, n),
                    "activation_backward");
        float *dx = host_from_dev(be, d_dx, n);
        case_close(&k, "dx", dx, dwant, dmag, n, conf_tolerance(bwd_tol, 0));
        case_end(&k);

        free(y), free(y_in_place), free(dx);
        dev_release(be, d_x), dev_release(be, d_y), dev_release(be, d_dy), dev_release(be, d_dx);
    }
    free(x), free(dy), free(want), free(dwant), free(dmag);
}

void conf_activation(const conf_target *t)
{
    static const activation_kind kinds[] = {ACT_RELU, ACT_TANH, ACT_SIGMOID};
    for (int kk = 0; kk < 3; kk++)
        for (size_t s = 0; s < sizeof activation_sizes / sizeof activation_sizes[0]; s++)
            check_activation(t, kinds[kk], activation_sizes[s], (int)(kk * 10 + s));
}

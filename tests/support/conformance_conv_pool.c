/*
 * Conformance of the optional conv_pool_* operations: a convolution and the
 * 2x2 stride-2 max-pool of its output in one pass (backend.h). A backend
 * whose table has none, or that does not take a geometry, says SKIP.
 *
 * The reference is the definition in double: the convolution, then the
 * pool (the first maximum in scan order wins; with the ReLU before the pool,
 * a window with nothing positive passes no gradient), then the pool's
 * gradient through the convolution's filter, bias and input gradients. Inputs,
 * filters and biases are small integers, so that every convolution output is
 * exact in float as in double: the windows' maxima, and their ties, are the
 * same on both sides, and the pooled output is compared for equality.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/conformance.h"

#define CP_GEOM(n, c, h, w, k, size, pad)                                                    \
    {n, c, h, w, k, size, size, 1, pad, (h) + 2 * (pad) - (size) + 1,                         \
     (w) + 2 * (pad) - (size) + 1, 0, 1}

static const conv_geom geometries[] = {
    CP_GEOM(2, 1, 28, 28, 6, 5, 2),  /* LeNet-5's first layer */
    CP_GEOM(3, 3, 12, 12, 8, 3, 1),  /* 8 filters, 12x12 */
    CP_GEOM(2, 1, 40, 40, 6, 3, 1),  /* rows of more than 32 outputs */
    CP_GEOM(1, 2, 10, 6, 5, 3, 1),   /* not square, a partial block of filters */
    CP_GEOM(3, 6, 14, 14, 16, 5, 0), /* LeNet-5's second layer */
    CP_GEOM(2, 14, 30, 30, 16, 3, 1), /* tiles of 10 pixels, padded */
    CP_GEOM(1, 4, 26, 26, 16, 3, 1), /* tiles of 14 and 12 */
};
#define GEOMETRIES ((int)(sizeof geometries / sizeof geometries[0]))

/* integers in [-2, 2] */
static float *small_ints(size_t n, uint64_t stream)
{
    float *p = host_uniform(n, stream, -2.0f, 3.0f);
    for (size_t i = 0; i < n; i++)
        p[i] = floorf(p[i]);
    return p;
}

/* The pool of conv (y), and the gradient it passes to each convolution
 * output (dconv) for the pooled gradient dy: one of dy's values or 0, the
 * windows not overlapping. */
static void pool_reference(const pool_geom *p, const double *conv, const float *dy, double *y,
                           float *dconv)
{
    size_t in_plane = (size_t)p->h * p->w, out_plane = (size_t)p->oh * p->ow;
    memset(dconv, 0, sizeof *dconv * in_plane * p->n * p->c);
    for (int q = 0; q < p->n * p->c; q++)
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                size_t best = in_plane * q + (size_t)2 * oy * p->w + 2 * ox;
                double v = p->relu && !(conv[best] > 0.0) ? 0.0 : conv[best];
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) {
                        size_t at = in_plane * q + (size_t)(2 * oy + i) * p->w + 2 * ox + j;
                        double u = p->relu && !(conv[at] > 0.0) ? 0.0 : conv[at];
                        if (u > v)
                            v = u, best = at;
                    }
                size_t o = out_plane * q + (size_t)oy * p->ow + ox;
                y[o] = v;
                if (!p->relu || v > 0.0)
                    dconv[best] = dy[o];
            }
}

static void check_geometry(const conf_target *t, const conv_geom *g, int relu, int index)
{
    const soma_backend *be = t->be;
    pool_geom p = {g->n, g->k, g->oh, g->ow, 2, 2, 0, g->oh / 2, g->ow / 2, relu};
    char name[96];
    snprintf(name, sizeof name, "#%d %dx%dx%dx%d -> %d@%dx%d pad %d, pool 2x2%s", index, g->n,
             g->c, g->h, g->w, g->k, g->kh, g->kw, g->pad, relu ? ", ReLU before" : "");
    if (!run_conv_pool_supported(be, g, &p)) {
        conf_skip(t->label, "conv_pool", name, "the backend does not fuse this pair");
        return;
    }
    size_t nx = (size_t)g->n * g->c * g->h * g->w, nc = (size_t)g->n * g->k * g->oh * g->ow;
    size_t ny = (size_t)g->n * g->k * p.oh * p.ow, nw = (size_t)g->k * g->c * g->kh * g->kw;
    uint64_t s = 900 + 10 * (uint64_t)index + 5 * (uint64_t)relu;
    float *x = small_ints(nx, s), *w = small_ints(nw, s + 1), *b = small_ints(g->k, s + 2);
    float *dy = host_normal(ny, s + 3, 1.0f), *dw0 = host_normal(nw, s + 4, 1.0f);
    float *db0 = host_normal(g->k, s + 5, 1.0f);
    double *conv = host_doubles(nc), *conv_mag = host_doubles(nc), *ry = host_doubles(ny);
    float *dconv = calloc(nc, sizeof *dconv);
    conf_conv_grads r = {host_doubles(nx), host_doubles(nx), host_doubles(nw),
                         host_doubles(nw), host_doubles(g->k), host_doubles(g->k)};
    conf_conv_reference_forward(g, x, w, b, conv, conv_mag);
    pool_reference(&p, conv, dy, ry, dconv);
    conf_conv_reference_backward(g, x, w, dconv, dw0, db0, &r);
    double sums = (double)g->n * g->oh * g->ow + 1;
    CONF_FOR_THREADS(t, ti) {
        float *d_x = dev_from_host(be, x, nx), *d_w = dev_from_host(be, w, nw);
        float *d_b = dev_from_host(be, b, g->k), *d_dy = dev_from_host(be, dy, ny);
        float *d_y = dev_filled(be, ny, NAN);
        int32_t *d_arg = dev_bytes(be, NULL, sizeof(int32_t) * ny);
        size_t ws_floats = run_conv_pool_workspace(be, g, &p, 0);
        float *d_ws = dev_filled(be, ws_floats ? ws_floats : 1, NAN);

        conf_case k;
        case_begin(&k, t, "conv_pool_forward", "%s", name);
        case_status(&k, run_conv_pool_forward(be, g, &p, d_x, d_w, d_b, d_y, d_arg, d_ws),
                    "conv_pool_forward");
        float *y = host_from_dev(be, d_y, ny);
        case_close(&k, "y", y, ry, NULL, ny, conf_tolerance(TOL_EXACT, 0));
        case_end(&k);

        /* the argmax's format is the backend's own: checked through backward,
         * with the input gradient and without (a first layer) */
        for (int with_dx = 1; with_dx >= 0; with_dx--) {
            float *d_dw = dev_from_host(be, dw0, nw), *d_db = dev_from_host(be, db0, g->k);
            float *d_dx = with_dx ? dev_filled(be, nx, NAN) : NULL;
            size_t ws_bwd = run_conv_pool_workspace(be, g, &p, with_dx);
            float *d_wsb = dev_filled(be, ws_bwd ? ws_bwd : 1, NAN);
            case_begin(&k, t, "conv_pool_backward", "%s%s", name, with_dx ? "" : ", no dx");
            case_status(&k,
                        run_conv_pool_backward(be, g, &p, d_x, d_w, d_dy, d_arg, d_dx, d_dw,
                                               d_db, d_wsb),
                        "conv_pool_backward");
            float *dw = host_from_dev(be, d_dw, nw), *db = host_from_dev(be, d_db, g->k);
            case_close(&k, "dw", dw, r.dw, r.dw_mag, nw, conf_tolerance(TOL_SUM, sums));
            case_close(&k, "db", db, r.db, r.db_mag, g->k, conf_tolerance(TOL_SUM, sums));
            if (with_dx) {
                float *dx = host_from_dev(be, d_dx, nx);
                case_close(&k, "dx", dx, r.dx, r.dx_mag, nx,
                           conf_tolerance(TOL_SUM, (double)g->k * g->kh * g->kw + 1));
                free(dx);
                dev_release(be, d_dx);
            }
            case_end(&k);
            free(dw), free(db);
            dev_release(be, d_dw), dev_release(be, d_db), dev_release(be, d_wsb);
        }

        free(y);
        void *bufs[] = {d_x, d_w, d_b, d_dy, d_y, d_arg, d_ws};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            dev_release(be, bufs[i]);
    }
    free(x), free(w), free(b), free(dy), free(dw0), free(db0), free(conv), free(conv_mag);
    free(ry), free(dconv), free(r.dx), free(r.dx_mag), free(r.dw), free(r.dw_mag), free(r.db);
    free(r.db_mag);
}

void conf_conv_pool(const conf_target *t)
{
    for (int i = 0; i < GEOMETRIES; i++)
        for (int relu = 0; relu <= 1; relu++)
            check_geometry(t, &geometries[i], relu, i);
}

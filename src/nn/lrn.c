/*
 * lrn: local response normalisation across channels, as in AlexNet
 * (Krizhevsky et al. 2012, section 3.3) with the paper's defaults n = 5,
 * alpha = 1e-4, beta = 0.75, k = 2, and the paper's formula: alpha is not
 * divided by n (PyTorch's LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)
 * is this layer; docs/model-format.md).
 */
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"size", "alpha", "beta", "k", NULL};

static lrn_geom geom(const layer *l, int batch)
{
    lrn_geom g = {batch, l->in.c, l->in.h * l->in.w, l->u.lrn.size, l->u.lrn.alpha,
                  l->u.lrn.beta, l->u.lrn.k};
    return g;
}

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_int(s, "size", 0, 5, 1, 1024, &l->u.lrn.size));
    SOMA_TRY(spec_float(s, "alpha", 0, 1e-4f, 0.0f, 1e6f, &l->u.lrn.alpha));
    SOMA_TRY(spec_float(s, "beta", 0, 0.75f, 0.0f, 100.0f, &l->u.lrn.beta));
    /* k > 0 keeps the divisor away from 0 */
    SOMA_TRY(spec_float(s, "k", 0, 2.0f, 1e-6f, 1e6f, &l->u.lrn.k));
    l->out = l->in;
    return SOMA_OK;
}

/* the divisor's base s of every element, saved for backward */
static size_t cache_floats(const layer *l, int batch) { return shape_size(l->in) * batch; }

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    lrn_geom g = geom(l, ctx->batch);
    return ctx->be->lrn_forward(&g, x, y, layer_sample_cache(l, ctx));
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    lrn_geom g = geom(l, ctx->batch);
    if (dx)
        return ctx->be->lrn_backward(&g, x, y, layer_sample_cache(l, ctx), dy, dx);
    return SOMA_OK;
}

/* a multiply-add per square in the window, then the power and the product */
static double flops(const layer *l) { return (2.0 * l->u.lrn.size + 3.0) * shape_size(l->in); }

/* n and alpha (which differs from PyTorch's); beta and k where not the paper's */
static void describe(const layer *l, char *buf, size_t size)
{
    int n = snprintf(buf, size, "n=%d a=%g", l->u.lrn.size, l->u.lrn.alpha);
    if (l->u.lrn.beta != 0.75f && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - n, " b=%g", l->u.lrn.beta);
    if (l->u.lrn.k != 2.0f && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - n, " k=%g", l->u.lrn.k);
}

const layer_class lrn_class = {
    .name = "lrn", .keys = keys, .configure = configure, .cache_floats = cache_floats,
    .workspace_floats = layer_no_workspace, .forward = forward, .backward = backward,
    .flops = flops, .describe = describe,
};

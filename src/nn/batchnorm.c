/*
 * batchnorm (Ioffe & Szegedy 2015): per channel over N*H*W for feature maps
 * (BatchNorm2d), per feature over N for flat inputs (BatchNorm1d). Training
 * normalises with batch statistics and updates the running ones; evaluation
 * uses the running ones. eps 1e-5 and momentum 0.1 as in PyTorch.
 */
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"eps", "momentum", NULL};

static bn_geom geom(const layer *l, const run_ctx *ctx)
{
    bn_geom g = {ctx->batch, l->in.c, l->in.h * l->in.w, l->u.bn.eps, l->u.bn.momentum,
                 l->fused_relu, NULL, NULL};
    if (ctx->training && ctx->bn_sync) { /* statistics over every process's batch */
        g.sync = ctx->bn_sync;
        g.scratch = (double *)ctx->workspace;
    }
    return g;
}

/* synchronised statistics: 2c + 1 doubles of sums (backend.h) */
static size_t workspace_floats(const layer *l, const soma_backend *be, int batch)
{
    (void)be, (void)batch;
    return 2 * (2 * (size_t)l->in.c + 1);
}

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_float(s, "eps", 0, 1e-5f, 1e-12f, 1.0f, &l->u.bn.eps));
    SOMA_TRY(spec_float(s, "momentum", 0, 0.1f, 0.0f, 1.0f, &l->u.bn.momentum));
    l->out = l->in;
    int c = l->in.c;
    layer_add_param(l, "weight", 1, &c, INIT_ONE, 0, 0);
    layer_add_param(l, "bias", 1, &c, INIT_ZERO, 0, 0);
    layer_add_buffer(l, "running_mean", 1, &c, INIT_ZERO);
    layer_add_buffer(l, "running_var", 1, &c, INIT_ONE);
    return SOMA_OK;
}

/* saved mean and 1/std per channel */
static size_t cache_floats(const layer *l, int batch) { (void)batch; return 2 * (size_t)l->in.c; }

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    bn_geom g = geom(l, ctx);
    if (ctx->training)
        return ctx->be->batchnorm_forward_train(&g, x, l->param[0], l->param[1], y, l->cache,
                                                l->cache + l->in.c, l->buffer[0], l->buffer[1]);
    return ctx->be->batchnorm_forward_eval(&g, x, l->param[0], l->param[1], l->buffer[0],
                                           l->buffer[1], y);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    bn_geom g = geom(l, ctx);
    if (ctx->training)
        return ctx->be->batchnorm_backward(&g, x, l->param[0], l->param[1], l->cache,
                                           l->cache + l->in.c, dy, dx, layer_grad(l, ctx, 0),
                                           layer_grad(l, ctx, 1));
    return ctx->be->batchnorm_backward_eval(&g, x, l->param[0], y, l->buffer[0], l->buffer[1], dy,
                                            dx, layer_grad(l, ctx, 0), layer_grad(l, ctx, 1));
}

static double flops(const layer *l) { return 4.0 * shape_size(l->in); }

static void describe(const layer *l, char *buf, size_t size)
{
    snprintf(buf, size, "%s", l->in.h * l->in.w > 1 ? "per channel" : "per feature");
}

const layer_class batchnorm_class = {
    .name = "batchnorm", .keys = keys, .configure = configure, .cache_floats = cache_floats,
    .workspace_floats = workspace_floats, .forward = forward, .backward = backward,
    .flops = flops, .describe = describe, .fuses_relu = 1,
    .mixes_samples = 1, .has_running_stats = 1,
};

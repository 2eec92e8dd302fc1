/* flatten: C x H x W -> (C*H*W) x 1 x 1; the data is already in that order. */
#include <stdio.h>

#include "nn/layer.h"

static const char *const no_keys[] = {NULL};

static soma_status configure(layer *l, const layer_spec *s)
{
    (void)s;
    l->out = (shape3){(int)shape_size(l->in), 1, 1};
    return SOMA_OK;
}

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    return ctx->be->copy(y, x, shape_size(l->in) * ctx->batch);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    (void)x, (void)y;
    if (dx)
        return ctx->be->copy(dx, dy, shape_size(l->in) * ctx->batch);
    return SOMA_OK;
}

static double flops(const layer *l) { (void)l; return 0.0; }


const layer_class flatten_class = {
    .name = "flatten", .keys = no_keys, .configure = configure, .cache_floats = layer_no_cache,
    .workspace_floats = layer_no_workspace, .forward = forward, .backward = backward,
    .flops = flops, .describe = layer_no_description,
};

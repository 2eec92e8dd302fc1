/*
 * dropout p=P: inverted dropout (Srivastava et al. 2014, scaled at training
 * time). P is the probability of DROPPING a unit, as in PyTorch; kept units
 * are scaled by 1/(1-P) in training, and evaluation is the identity. (The
 * lecture's p is the keep probability.)
 */
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"p", NULL};

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_float(s, "p", 0, 0.5f, 0.0f, 0.999f, &l->u.dropout.p));
    l->out = l->in;
    return SOMA_OK;
}

static size_t mask_floats(const layer *l, int batch) { return shape_size(l->in) * batch; }

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    size_t n = shape_size(l->in) * ctx->batch;
    if (ctx->training && l->u.dropout.p > 0.0f)
        return ctx->be->dropout_forward(x, y, layer_sample_cache(l, ctx), n, l->u.dropout.p,
                                        ctx->seed, (uint64_t)ctx->step, l->index,
                                        shape_size(l->in) * (size_t)(ctx->sample_base + ctx->first));
    return ctx->be->copy(y, x, n);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    (void)x, (void)y;
    size_t n = shape_size(l->in) * ctx->batch;
    if (!dx)
        return SOMA_OK;
    if (l->u.dropout.p > 0.0f)
        return ctx->be->dropout_backward(dy, layer_sample_cache(l, ctx), dx, n);
    return ctx->be->copy(dx, dy, n);
}

static double flops(const layer *l) { return (double)shape_size(l->in); }

static void describe(const layer *l, char *buf, size_t size)
{
    snprintf(buf, size, "p=%g", l->u.dropout.p);
}

const layer_class dropout_class = {
    .name = "dropout", .keys = keys, .configure = configure, .cache_floats = mask_floats,
    .workspace_floats = layer_no_workspace, .forward = forward, .backward = backward,
    .flops = flops, .describe = describe,
};

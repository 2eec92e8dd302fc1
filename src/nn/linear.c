/* linear: y = x W^T + b on flat inputs (PyTorch's nn.Linear). */
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"units", NULL};

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_int(s, "units", 1, 0, 1, 1 << 24, &l->u.linear.units));
    if (l->in.h != 1 || l->in.w != 1)
        return spec_error(s, "needs a flat input, got %dx%dx%d: add 'flatten' before it",
                          l->in.c, l->in.h, l->in.w);
    int in = l->in.c, out = l->u.linear.units;
    if ((long long)in * out > (1ll << 31))
        return spec_error(s, "%d x %d weights are too many", out, in);
    l->out = (shape3){out, 1, 1};
    int wdims[2] = {out, in};
    layer_add_param(l, "weight", 2, wdims, INIT_WEIGHT, in, out);
    layer_add_param(l, "bias", 1, &out, INIT_ZERO, in, out);
    return SOMA_OK;
}

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    return ctx->be->linear_forward(x, l->param[0], l->param[1], y, ctx->batch, l->in.c, l->out.c,
                                   l->fused_relu);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    return ctx->be->linear_backward(x, l->param[0], l->fused_relu ? y : NULL, dy, dx,
                                    layer_grad(l, ctx, 0), layer_grad(l, ctx, 1), ctx->batch,
                                    l->in.c, l->out.c, ctx->workspace);
}

/* a fused ReLU's masked dy */
static size_t workspace_floats(const layer *l, const soma_backend *be, int batch)
{
    (void)be;
    return l->fused_relu ? (size_t)batch * l->out.c : 0;
}

static double flops(const layer *l) { return 2.0 * l->in.c * l->out.c; }

static void describe(const layer *l, char *buf, size_t size)
{
    snprintf(buf, size, "%d -> %d", l->in.c, l->out.c);
}

const layer_class linear_class = {
    .name = "linear", .keys = keys, .configure = configure, .cache_floats = layer_no_cache,
    .workspace_floats = workspace_floats, .forward = forward, .backward = backward,
    .flops = flops, .describe = describe, .fuses_relu = 1, .multiply_adds = 1,
};

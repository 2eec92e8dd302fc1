/* relu, tanh, sigmoid: elementwise, no parameters; backward reads the output. */
#include <stdio.h>

#include "nn/layer.h"

static const char *const no_keys[] = {NULL};

static soma_status configure(layer *l, const layer_spec *s)
{
    (void)s;
    l->out = l->in;
    return SOMA_OK;
}

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    return ctx->be->activation_forward(l->u.act.kind, x, y, shape_size(l->in) * ctx->batch);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    (void)x;
    if (dx)
        return ctx->be->activation_backward(l->u.act.kind, y, dy, dx,
                                            shape_size(l->in) * ctx->batch);
    return SOMA_OK;
}

static double flops(const layer *l) { return (double)shape_size(l->in); }


#define ACTIVATION_CLASS(NAME, KIND, IS_RELU)                                              \
    static soma_status configure_##NAME(layer *l, const layer_spec *s)                     \
    {                                                                                      \
        l->u.act.kind = KIND;                                                              \
        return configure(l, s);                                                            \
    }                                                                                      \
    const layer_class NAME##_class = {                                                     \
        .name = #NAME, .keys = no_keys, .configure = configure_##NAME,                     \
        .cache_floats = layer_no_cache, .workspace_floats = layer_no_workspace, .forward = forward,   \
        .backward = backward, .flops = flops, .describe = layer_no_description,                        \
        .is_relu = IS_RELU,                                                                \
    };

ACTIVATION_CLASS(relu, ACT_RELU, 1)
ACTIVATION_CLASS(tanh, ACT_TANH, 0)
ACTIVATION_CLASS(sigmoid, ACT_SIGMOID, 0)

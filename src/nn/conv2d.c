/* conv2d: filters x (in_channels / groups x size x size), stride, zero
 * padding, bias; groups split inputs and filters into blocks (AlexNet's towers). */
#include <limits.h>
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"filters", "size", "stride", "pad", "groups", NULL};

conv_geom conv2d_geometry(const layer *l, int batch)
{
    conv_geom g = {batch, l->in.c, l->in.h, l->in.w, l->u.conv.filters, l->u.conv.size,
                   l->u.conv.size, l->u.conv.stride, l->u.conv.pad, l->out.h, l->out.w, l->fused_relu,
                   l->u.conv.groups};
    return g;
}

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_int(s, "filters", 1, 0, 1, 65536, &l->u.conv.filters));
    SOMA_TRY(spec_int(s, "size", 1, 0, 1, 1024, &l->u.conv.size));
    SOMA_TRY(spec_int(s, "stride", 0, 1, 1, 1024, &l->u.conv.stride));
    SOMA_TRY(spec_int(s, "pad", 0, 0, 0, 1024, &l->u.conv.pad));
    SOMA_TRY(spec_int(s, "groups", 0, 1, 1, 65536, &l->u.conv.groups));
    int k = l->u.conv.size, p = l->u.conv.pad, st = l->u.conv.stride, groups = l->u.conv.groups;
    if (l->in.c % groups)
        return spec_error(s, "groups=%d does not divide the %d input channels", groups, l->in.c);
    if (l->u.conv.filters % groups)
        return spec_error(s, "groups=%d does not divide the %d filters", groups,
                          l->u.conv.filters);
    if (l->in.h + 2 * p < k || l->in.w + 2 * p < k)
        return spec_error(s, "a %dx%d filter does not fit the %dx%d input (pad %d)", k, k,
                          l->in.h, l->in.w, p);
    /* fans in int (a weight of more than 2^30 values is refused later anyway) */
    if ((long long)l->in.c * k * k > INT_MAX || (long long)l->u.conv.filters * k * k > INT_MAX)
        return spec_error(s, "%d filters of %dx%dx%d are too many weights", l->u.conv.filters,
                          l->in.c, k, k);
    l->out.c = l->u.conv.filters;
    l->out.h = (l->in.h + 2 * p - k) / st + 1;
    l->out.w = (l->in.w + 2 * p - k) / st + 1;
    /* a filter sees its group's channels; fan_out as PyTorch counts it */
    int fan_in = l->in.c / groups * k * k, fan_out = l->out.c * k * k;
    int wdims[4] = {l->out.c, l->in.c / groups, k, k};
    layer_add_param(l, "weight", 4, wdims, INIT_WEIGHT, fan_in, fan_out);
    layer_add_param(l, "bias", 1, &l->out.c, INIT_ZERO, fan_in, fan_out);
    return SOMA_OK;
}

/* computing the max-pool after it (layer.h's pooled): the pool's argmax */
static size_t cache_floats(const layer *l, int batch)
{
    return l->pooled ? shape_size(l->pooled->out) * (size_t)batch : 0;
}

static size_t workspace_floats(const layer *l, const soma_backend *be, int batch)
{
    conv_geom g = conv2d_geometry(l, batch);
    if (l->pooled) {
        pool_geom p = pool_geometry(l->pooled, batch);
        return be->conv_pool_workspace(&g, &p, l->index > 0); /* the first: no dx */
    }
    return be->conv2d_workspace(&g);
}

static soma_status forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    conv_geom g = conv2d_geometry(l, ctx->batch);
    if (l->pooled) {
        pool_geom p = pool_geometry(l->pooled, ctx->batch);
        return ctx->be->conv_pool_forward(&g, &p, x, l->param[0], l->param[1], y,
                                          (int32_t *)layer_sample_cache(l, ctx), ctx->workspace);
    }
    return ctx->be->conv2d_forward(&g, x, l->param[0], l->param[1], y, ctx->workspace);
}

static soma_status backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx)
{
    conv_geom g = conv2d_geometry(l, ctx->batch);
    if (l->pooled) {
        pool_geom p = pool_geometry(l->pooled, ctx->batch);
        const int32_t *argmax = (const int32_t *)layer_sample_cache(l, ctx);
        return ctx->be->conv_pool_backward(&g, &p, x, l->param[0], dy, argmax, dx,
                                           layer_grad(l, ctx, 0), layer_grad(l, ctx, 1),
                                           ctx->workspace);
    }
    return ctx->be->conv2d_backward(&g, x, l->param[0], y, dy, dx, layer_grad(l, ctx, 0),
                                    layer_grad(l, ctx, 1), ctx->workspace);
}

static double flops(const layer *l)
{
    return 2.0 * l->out.c * l->out.h * l->out.w * (double)(l->in.c / l->u.conv.groups) *
           l->u.conv.size * l->u.conv.size;
}

/* "96@11x11 /4 pad 2"; grouped: "2x128@5x5 pad 2" (groups x filters per group) */
static void describe(const layer *l, char *buf, size_t size)
{
    int groups = l->u.conv.groups, n;
    if (groups > 1)
        n = snprintf(buf, size, "%dx%d@%dx%d", groups, l->u.conv.filters / groups,
                     l->u.conv.size, l->u.conv.size);
    else
        n = snprintf(buf, size, "%d@%dx%d", l->u.conv.filters, l->u.conv.size, l->u.conv.size);
    if (l->u.conv.stride != 1 && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - n, " /%d", l->u.conv.stride);
    if (l->u.conv.pad && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - n, " pad %d", l->u.conv.pad);
}

const layer_class conv2d_class = {
    .name = "conv2d", .keys = keys, .configure = configure, .cache_floats = cache_floats,
    .workspace_floats = workspace_floats, .forward = forward, .backward = backward,
    .flops = flops, .describe = describe, .fuses_relu = 1, .multiply_adds = 1,
    .fuses_pool = 1,
};

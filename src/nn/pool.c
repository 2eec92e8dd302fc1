/* maxpool and avgpool: size x size windows, stride (default = size), zero padding. */
#include <stdio.h>

#include "nn/layer.h"

static const char *const keys[] = {"size", "stride", "pad", NULL};

pool_geom pool_geometry(const layer *l, int batch)
{
    pool_geom g = {batch, l->in.c, l->in.h, l->in.w, l->u.pool.size, l->u.pool.stride,
                   l->u.pool.pad, l->out.h, l->out.w, l->relu_before};
    return g;
}

static soma_status configure(layer *l, const layer_spec *s)
{
    SOMA_TRY(spec_int(s, "size", 1, 0, 1, 1024, &l->u.pool.size));
    SOMA_TRY(spec_int(s, "stride", 0, l->u.pool.size, 1, 1024, &l->u.pool.stride));
    SOMA_TRY(spec_int(s, "pad", 0, 0, 0, 1024, &l->u.pool.pad));
    int k = l->u.pool.size, p = l->u.pool.pad, st = l->u.pool.stride;
    if (2 * p > k)
        return spec_error(s, "pad %d is more than half the window %d", p, k);
    if (l->in.h + 2 * p < k || l->in.w + 2 * p < k)
        return spec_error(s, "a %dx%d window does not fit the %dx%d input", k, k, l->in.h,
                          l->in.w);
    /* floor mode, as PyTorch's default */
    l->out = (shape3){l->in.c, (l->in.h + 2 * p - k) / st + 1, (l->in.w + 2 * p - k) / st + 1};
    return SOMA_OK;
}

/* maxpool keeps the argmax of each output (int32 stored in float slots);
 * computed by the layer before (fused_away), that layer keeps it */
static size_t max_cache(const layer *l, int batch)
{
    return l->fused_away ? 0 : shape_size(l->out) * batch;
}

static soma_status max_forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    pool_geom g = pool_geometry(l, ctx->batch);
    return ctx->be->maxpool_forward(&g, x, y, (int32_t *)layer_sample_cache(l, ctx));
}

static soma_status max_backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                                const float *dy, float *dx)
{
    (void)x, (void)y;
    pool_geom g = pool_geometry(l, ctx->batch);
    if (dx)
        return ctx->be->maxpool_backward(&g, dy, (const int32_t *)layer_sample_cache(l, ctx), dx);
    return SOMA_OK;
}

static soma_status avg_forward(layer *l, const run_ctx *ctx, const float *x, float *y)
{
    pool_geom g = pool_geometry(l, ctx->batch);
    return ctx->be->avgpool_forward(&g, x, y);
}

static soma_status avg_backward(layer *l, const run_ctx *ctx, const float *x, const float *y,
                                const float *dy, float *dx)
{
    (void)x, (void)y;
    pool_geom g = pool_geometry(l, ctx->batch);
    if (dx)
        return ctx->be->avgpool_backward(&g, dy, dx);
    return SOMA_OK;
}

static double flops(const layer *l)
{
    return (double)shape_size(l->out) * l->u.pool.size * l->u.pool.size;
}

static void describe(const layer *l, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%dx%d", l->u.pool.size, l->u.pool.size);
    if (l->u.pool.stride != l->u.pool.size && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - n, " /%d", l->u.pool.stride);
    if (l->u.pool.pad && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - n, " pad %d", l->u.pool.pad);
}

const layer_class maxpool_class = {
    .name = "maxpool", .keys = keys, .configure = configure, .cache_floats = max_cache,
    .workspace_floats = layer_no_workspace, .forward = max_forward, .backward = max_backward,
    .flops = flops, .describe = describe, .takes_relu = 1, .is_maxpool = 1,
};

const layer_class avgpool_class = {
    .name = "avgpool", .keys = keys, .configure = configure, .cache_floats = layer_no_cache,
    .workspace_floats = layer_no_workspace, .forward = avg_forward, .backward = avg_backward,
    .flops = flops, .describe = describe,
};

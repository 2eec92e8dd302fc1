/* Max and average pooling on the CPU, one (sample, channel) plane per iteration. */
#include <float.h>
#include <string.h>

#include "ops/cpu/cpu.h"
#include "ops/cpu/pool_fast.h"
#include "ops/cpu/team.h"

/* The window of output (oy, ox) clipped to the input. */
static void window(const pool_geom *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * g->stride - g->pad;
    *x0 = ox * g->stride - g->pad;
    *y1 = *y0 + g->size;
    *x1 = *x0 + g->size;
    if (*y0 < 0) *y0 = 0;
    if (*x0 < 0) *x0 = 0;
    if (*y1 > g->h) *y1 = g->h;
    if (*x1 > g->w) *x1 = g->w;
}

/* the ReLU layer's value: x > 0 ? x : +0 (NaN and -0 give +0) */
static inline float relu_of(float v) { return v > 0.0f ? v : 0.0f; }

static void max_forward_plane(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const int relu = g->relu;
    const float *xp = j->x + (size_t)p * g->h * g->w;
    float *yp = j->y + (size_t)p * g->oh * g->ow;
    int32_t *ap = j->argmax_out + (size_t)p * g->oh * g->ow;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            float best = -FLT_MAX;
            int best_i = -1;
            if (y0 < y1 && x0 < x1) { /* the window's first element, then the rest */
                best_i = y0 * g->w + x0;
                best = relu ? relu_of(xp[best_i]) : xp[best_i];
            }
            for (int iy = y0; iy < y1; iy++) {
                const float *row = xp + iy * g->w;
                for (int ix = x0; ix < x1; ix++) {
                    float v = relu ? relu_of(row[ix]) : row[ix];
                    /* '>' keeps the first maximum; NaN propagates like PyTorch */
                    if (v > best || v != v) {
                        best = v;
                        best_i = iy * g->w + ix;
                    }
                }
            }
            yp[oy * g->ow + ox] = best;
            /* a ReLU's +0 passes no gradient (pool_geom) */
            ap[oy * g->ow + ox] = relu && !(best > 0.0f) ? -1 : best_i;
        }
}

void maxpool_forward_generic(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                             int threads)
{
    pool_job job = {.g = g, .x = x, .y = y, .argmax_out = argmax};
    cpu_team_for(threads, g->n * g->c, max_forward_plane, &job);
}

static void max_backward_plane(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    float *dxp = j->dx + (size_t)p * g->h * g->w;
    const float *dyp = j->dy + (size_t)p * g->oh * g->ow;
    const int32_t *ap = j->argmax + (size_t)p * g->oh * g->ow;
    memset(dxp, 0, sizeof *dxp * g->h * g->w);
    for (int o = 0; o < g->oh * g->ow; o++)
        if (ap[o] >= 0)
            dxp[ap[o]] += dyp[o];
}

void maxpool_backward_generic(const pool_geom *g, const float *dy, const int32_t *argmax,
                              float *dx, int threads)
{
    pool_job job = {.g = g, .dy = dy, .argmax = argmax, .dx = dx};
    cpu_team_for(threads, g->n * g->c, max_backward_plane, &job);
}

soma_status cpu_maxpool_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax)
{
    if (!maxpool_2x2_small_forward(g, x, y, argmax, cpu_threads()) &&
        !maxpool_s2_forward(g, x, y, argmax, cpu_threads()))
        maxpool_forward_generic(g, x, y, argmax, cpu_threads());
    return SOMA_OK;
}

soma_status cpu_maxpool_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                                 float *dx)
{
    if (maxpool_2x2_small_backward(g, dy, argmax, dx, cpu_threads()))
        return SOMA_OK;
    /* on other narrow planes the scalar scatter is as fast as the row kernel */
    if (g->ow < 8 || !maxpool_2x2_backward(g, dy, argmax, dx, cpu_threads()))
        maxpool_backward_generic(g, dy, argmax, dx, cpu_threads());
    return SOMA_OK;
}

static void avg_forward_plane(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const float *xp = j->x + (size_t)p * g->h * g->w;
    float *yp = j->y + (size_t)p * g->oh * g->ow;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            float s = 0.0f;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    s += xp[iy * g->w + ix];
            int count = (y1 - y0) * (x1 - x0);
            yp[oy * g->ow + ox] = count > 0 ? s / (float)count : 0.0f;
        }
}

soma_status cpu_avgpool_forward(const pool_geom *g, const float *x, float *y)
{
    pool_job job = {.g = g, .x = x, .y = y};
    cpu_team_for(cpu_threads(), g->n * g->c, avg_forward_plane, &job);
    return SOMA_OK;
}

static void avg_backward_plane(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    float *dxp = j->dx + (size_t)p * g->h * g->w;
    const float *dyp = j->dy + (size_t)p * g->oh * g->ow;
    memset(dxp, 0, sizeof *dxp * g->h * g->w);
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            int count = (y1 - y0) * (x1 - x0);
            if (count <= 0)
                continue;
            float share = dyp[oy * g->ow + ox] / (float)count;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    dxp[iy * g->w + ix] += share;
        }
}

soma_status cpu_avgpool_backward(const pool_geom *g, const float *dy, float *dx)
{
    pool_job job = {.g = g, .dy = dy, .dx = dx};
    cpu_team_for(cpu_threads(), g->n * g->c, avg_backward_plane, &job);
    return SOMA_OK;
}

/*
 * Local response normalisation on the CPU (backend.h has the formula), one
 * sample per iteration, threads over the batch. Each channel's window sum is
 * taken afresh from its own few squares, in channel order, rather than
 * slid along by adding one channel and subtracting another: a sliding sum
 * loses the small channels next to a large one to cancellation, and this
 * way every s is the same whatever the thread count.
 *
 * Backward: with t_i = dy_i * y_i / s_i,
 *   dx_j = dy_j * s_j^-beta - 2 * alpha * beta * x_j * (sum of t_i over the
 *          channels i whose window holds j: j - (size - 1) / 2 .. j + size / 2)
 *
 * s^-beta by powf costs more than AlexNet's first convolution; for beta
 * 0.75 (the paper's), 0.5 and 1 it is taken from square roots and a
 * division instead, which vectorise (to within a few ulp of powf). The same
 * loops are compiled a second time for AVX-512, chosen at run time (every
 * element is computed alone, by the same operations in the same order).
 */
#include <math.h>

#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"

#define LRN_INLINE static inline __attribute__((always_inline))

typedef enum power { POW_3_4, POW_1_2, POW_1, POW_ANY } power;

static power power_of(float beta)
{
    return beta == 0.75f ? POW_3_4 : beta == 0.5f ? POW_1_2 : beta == 1.0f ? POW_1 : POW_ANY;
}

/* s^-beta; `p` is power_of(beta), the same for a whole loop (unswitched) */
static inline float neg_pow(float s, power p, float beta)
{
    if (p == POW_3_4) {
        float r = 1.0f / sqrtf(s); /* s^-1/2, then s^-1/2 * s^-1/4 */
        return r * sqrtf(r);
    }
    if (p == POW_1_2)
        return 1.0f / sqrtf(s);
    if (p == POW_1)
        return 1.0f / s;
    return powf(s, -beta);
}

/* The window of channel c, or the channels whose windows hold c (mirrored). */
static void channel_range(const lrn_geom *g, int c, int before, int after, int *c0, int *c1)
{
    *c0 = c - before < 0 ? 0 : c - before;
    *c1 = c + after > g->c - 1 ? g->c - 1 : c + after;
}

LRN_INLINE void forward_sample(const lrn_geom *g, const float *x, float *y, float *scale)
{
    size_t plane = (size_t)g->spatial;
    power pw = power_of(g->beta);
    for (int c = 0; c < g->c; c++) {
        float *s = scale + plane * c;
        const float *xc = x + plane * c;
        float *yc = y + plane * c;
        int c0, c1;
        channel_range(g, c, g->size / 2, (g->size - 1) / 2, &c0, &c1);
        for (size_t p = 0; p < plane; p++)
            s[p] = 0.0f;
        for (int j = c0; j <= c1; j++) {
            const float *xj = x + plane * j;
            for (size_t p = 0; p < plane; p++)
                s[p] += xj[p] * xj[p];
        }
        for (size_t p = 0; p < plane; p++) {
            s[p] = g->k + g->alpha * s[p];
            yc[p] = xc[p] * neg_pow(s[p], pw, g->beta);
        }
    }
}

LRN_INLINE void backward_sample(const lrn_geom *g, const float *x, const float *y,
                                const float *scale, const float *dy, float *dx)
{
    size_t plane = (size_t)g->spatial;
    power pw = power_of(g->beta);
    float two_ab = 2.0f * g->alpha * g->beta;
    for (int c = 0; c < g->c; c++) {
        float *d = dx + plane * c;
        const float *xc = x + plane * c, *sc = scale + plane * c, *dyc = dy + plane * c;
        int c0, c1;
        channel_range(g, c, (g->size - 1) / 2, g->size / 2, &c0, &c1);
        for (size_t p = 0; p < plane; p++)
            d[p] = 0.0f;
        /* t_i recomputed per window: no workspace, and a fixed order */
        for (int i = c0; i <= c1; i++) {
            const float *yi = y + plane * i, *si = scale + plane * i, *dyi = dy + plane * i;
            for (size_t p = 0; p < plane; p++)
                d[p] += dyi[p] * yi[p] / si[p];
        }
        for (size_t p = 0; p < plane; p++)
            d[p] = dyc[p] * neg_pow(sc[p], pw, g->beta) - two_ab * xc[p] * d[p];
    }
}

static void forward_portable(const lrn_geom *g, const float *x, float *y, float *scale)
{
    forward_sample(g, x, y, scale);
}

static void backward_portable(const lrn_geom *g, const float *x, const float *y,
                              const float *scale, const float *dy, float *dx)
{
    backward_sample(g, x, y, scale, dy, dx);
}

#if SIMD_AVX512
static AVX512_FN void forward_avx512(const lrn_geom *g, const float *x, float *y, float *scale)
{
    forward_sample(g, x, y, scale);
}

static AVX512_FN void backward_avx512(const lrn_geom *g, const float *x, const float *y,
                                      const float *scale, const float *dy, float *dx)
{
    backward_sample(g, x, y, scale, dy, dx);
}
#endif

soma_status cpu_lrn_forward(const lrn_geom *g, const float *x, float *y, float *scale)
{
    void (*run)(const lrn_geom *, const float *, float *, float *) = forward_portable;
#if SIMD_AVX512
    if (cpu_has_avx512())
        run = forward_avx512;
#endif
    size_t sample = (size_t)g->c * g->spatial;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int n = 0; n < g->n; n++)
        run(g, x + sample * n, y + sample * n, scale + sample * n);
    return SOMA_OK;
}

soma_status cpu_lrn_backward(const lrn_geom *g, const float *x, const float *y, const float *scale,
                             const float *dy, float *dx)
{
    void (*run)(const lrn_geom *, const float *, const float *, const float *, const float *,
                float *) = backward_portable;
#if SIMD_AVX512
    if (cpu_has_avx512())
        run = backward_avx512;
#endif
    size_t sample = (size_t)g->c * g->spatial;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int n = 0; n < g->n; n++)
        run(g, x + sample * n, y + sample * n, scale + sample * n, dy + sample * n,
            dx + sample * n);
    return SOMA_OK;
}

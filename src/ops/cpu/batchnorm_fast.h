/* Batch-norm: the AVX-512 passes over a group of channels [c0, c1), walked
 * sample by sample so memory streams (see batchnorm_cpu.c). Each returns 0
 * where it does not apply (no AVX-512, or fewer than 16 values per sample
 * and channel) and the caller runs its plain loops; per channel they add in
 * the same order as before grouping, so the results do not depend on c0, c1. */
#ifndef SOMA_OPS_CPU_BATCHNORM_FAST_H
#define SOMA_OPS_CPU_BATCHNORM_FAST_H

#include "ops/backend.h"

/* Most channels in a group (the callers' per-channel arrays). */
#define BN_GROUP_MAX 64

/* sample b, channel c of x, a tensor of g's shape */
#define BN_AT(g, t, b, ch) ((t) + ((size_t)(b) * (g)->c + (ch)) * (g)->spatial)

/* A channel's affine map y = x * scale + shift (before a fused ReLU), from
 * the statistics saved for backward, in float: forward applies it, and
 * backward rebuilds a fused ReLU's mask with it (the same expressions, so
 * the same bits; the AVX-512 kernels multiply, then add, as these do). */
static inline void bn_scale_shift(float gamma, float beta, float mean, float invstd,
                                  float *scale, float *shift)
{
    *scale = gamma * invstd;
    *shift = beta - mean * *scale;
}

static inline float bn_affine_at(float x, float scale, float shift)
{
    float product = x * scale;
    return product + shift;
}

/* sum[c - c0] and sumsq[c - c0]: sum and sum of squares of channel c, in double */
int bn_stats_avx512(const bn_geom *g, const float *x, int c0, int c1, double *sum,
                    double *sumsq);

/* y = x * scale + shift (a product, then a sum, as the plain loop), then the fused ReLU */
int bn_affine_avx512(const bn_geom *g, const float *x, int c0, int c1, const float *scale,
                     const float *shift, float *y);

/* sum(dz) and sum(dz * xhat) per channel, xhat = (x - mean) * invstd in double,
 * dz = dy masked by a fused ReLU: zero where bn_affine_at(x, scale, shift) is
 * not positive (scale and shift indexed from c0; NULL: no ReLU) */
int bn_grad_sums_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                        const float *shift, int c0, int c1, const float *mean,
                        const float *invstd, double *sum_dy, double *sum_dy_xhat);

/* dx = a * dz - b - xhat * t per channel, in float, xhat = (x - mean) * invstd */
int bn_grad_input_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                         const float *shift, int c0, int c1, const float *mean,
                         const float *invstd, const float *a, const float *b, const float *t,
                         float *dx);

#endif

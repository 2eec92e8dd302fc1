/*
 * Batch normalisation on the CPU (Ioffe & Szegedy 2015), PyTorch's
 * conventions: the biased batch variance normalises, the unbiased one
 * (x n/(n-1)) enters running_var; running = (1-m) running + m batch.
 * Statistics are accumulated in double, one channel per iteration; with
 * AVX-512 in 16 double lanes (a scalar double sum is bound by the adder's
 * latency), reduced in a fixed order.
 */
#include <math.h>

#include "ops/cpu/cpu.h"
#include "ops/cpu/relu_fused.h"
#include "ops/cpu/simd.h"

#define AT(g, x, b, c) ((x) + ((size_t)(b) * (g)->c + (c)) * (g)->spatial)

/* Below this many values per sample and channel the vector loops do not pay. */
#define BN_VECTOR_MIN 16

#if SIMD_AVX512
/* the 16 floats at p (lanes past n zero) as two vectors of doubles */
AVX512_INLINE void load_doubles(const float *p, int n, __m512d *lo, __m512d *hi)
{
    __m512 v = _mm512_maskz_loadu_ps(lanes(n), p);
    *lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    *hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
}

static AVX512_FN void stats_avx512(const bn_geom *g, const float *x, int c, double *sum,
                                   double *sumsq)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, q0 = s0, q1 = s0;
    for (int b = 0; b < g->n; b++) {
        const float *xp = AT(g, x, b, c);
        for (int i = 0; i < g->spatial; i += 16) {
            __m512d lo, hi;
            load_doubles(xp + i, g->spatial - i, &lo, &hi);
            s0 = _mm512_add_pd(s0, lo);
            s1 = _mm512_add_pd(s1, hi);
            q0 = _mm512_fmadd_pd(lo, lo, q0);
            q1 = _mm512_fmadd_pd(hi, hi, q1);
        }
    }
    *sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    *sumsq = _mm512_reduce_add_pd(_mm512_add_pd(q0, q1));
}

/* dy (lanes past n zero), masked by a fused ReLU's output y when y != NULL */
AVX512_INLINE __m512 load_dy(const float *dy, const float *y, int n)
{
    __mmask16 m = lanes(n);
    if (y)
        m &= _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, y), _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_maskz_loadu_ps(m, dy);
}

static AVX512_FN void grad_sums_avx512(const bn_geom *g, const float *x, const float *dy,
                                       const float *y, int c, double mean, double invstd,
                                       double *sum_dy, double *sum_dy_xhat)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, t0 = s0, t1 = s0;
    __m512d m = _mm512_set1_pd(mean), k = _mm512_set1_pd(invstd);
    for (int b = 0; b < g->n; b++) {
        const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
        const float *yp = y ? AT(g, y, b, c) : NULL;
        for (int i = 0; i < g->spatial; i += 16) {
            __m512d xlo, xhi;
            load_doubles(xp + i, g->spatial - i, &xlo, &xhi);
            __m512 d = load_dy(dyp + i, yp ? yp + i : NULL, g->spatial - i);
            __m512d dlo = _mm512_cvtps_pd(_mm512_castps512_ps256(d));
            __m512d dhi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(d, 1));
            s0 = _mm512_add_pd(s0, dlo);
            s1 = _mm512_add_pd(s1, dhi);
            t0 = _mm512_fmadd_pd(dlo, _mm512_mul_pd(_mm512_sub_pd(xlo, m), k), t0);
            t1 = _mm512_fmadd_pd(dhi, _mm512_mul_pd(_mm512_sub_pd(xhi, m), k), t1);
        }
    }
    *sum_dy = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    *sum_dy_xhat = _mm512_reduce_add_pd(_mm512_add_pd(t0, t1));
}

/* dx = a*dz - b - xhat*t over channel c, in float: xhat = (x - mean) * invstd
 * (the difference first, so a large mean does not cancel) */
static AVX512_FN void grad_input_avx512(const bn_geom *g, const float *x, const float *dy,
                                        const float *y, int c, float mean, float invstd,
                                        float a, float b, float t, float *dx)
{
    __m512 vm = _mm512_set1_ps(mean), vk = _mm512_set1_ps(invstd);
    __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b), vt = _mm512_set1_ps(t);
    for (int n = 0; n < g->n; n++) {
        const float *xp = AT(g, x, n, c), *dyp = AT(g, dy, n, c);
        const float *yp = y ? AT(g, y, n, c) : NULL;
        float *dxp = AT(g, dx, n, c);
        for (int i = 0; i < g->spatial; i += 16) {
            __mmask16 m = lanes(g->spatial - i);
            __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xp + i), vm), vk);
            __m512 d = load_dy(dyp + i, yp ? yp + i : NULL, g->spatial - i);
            __m512 r = _mm512_fnmadd_ps(xhat, vt, _mm512_fmsub_ps(va, d, vb));
            _mm512_mask_storeu_ps(dxp + i, m, r);
        }
    }
}
#endif

/* sum and sum of squares of channel c over the batch */
static void channel_stats(const bn_geom *g, const float *x, int c, double *sum, double *sumsq)
{
#if SIMD_AVX512
    if (g->spatial >= BN_VECTOR_MIN && cpu_has_avx512()) {
        stats_avx512(g, x, c, sum, sumsq);
        return;
    }
#endif
    double s = 0.0, q = 0.0;
    for (int b = 0; b < g->n; b++) {
        const float *xp = AT(g, x, b, c);
        for (int i = 0; i < g->spatial; i++) {
            s += xp[i];
            q += (double)xp[i] * xp[i];
        }
    }
    *sum = s;
    *sumsq = q;
}

/* dy at i, or 0 where a fused ReLU's output y is not positive (relu_mask) */
static inline float masked_dy(const float *dy, const float *y, int i)
{
    return y && !(y[i] > 0.0f) ? 0.0f : dy[i];
}

/* sum(dz) and sum(dz * xhat) of channel c, xhat = (x - mean) * invstd, dz =
 * dy masked by a fused ReLU (y != NULL) */
static void channel_grad_sums(const bn_geom *g, const float *x, const float *dy, const float *y,
                              int c, double mean, double invstd, double *sum_dy,
                              double *sum_dy_xhat)
{
#if SIMD_AVX512
    if (g->spatial >= BN_VECTOR_MIN && cpu_has_avx512()) {
        grad_sums_avx512(g, x, dy, y, c, mean, invstd, sum_dy, sum_dy_xhat);
        return;
    }
#endif
    double s = 0.0, t = 0.0;
    for (int b = 0; b < g->n; b++) {
        const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
        const float *yp = y ? AT(g, y, b, c) : NULL;
        for (int i = 0; i < g->spatial; i++) {
            float d = masked_dy(dyp, yp, i);
            s += d;
            t += d * ((xp[i] - mean) * invstd);
        }
    }
    *sum_dy = s;
    *sum_dy_xhat = t;
}

/* y = x * scale + shift over one channel of every sample, then the fused ReLU */
static void affine(const bn_geom *g, const float *x, int c, float scale, float shift, float *y)
{
    for (int b = 0; b < g->n; b++) {
        const float *xp = AT(g, x, b, c);
        float *yp = AT(g, y, b, c);
        if (g->relu)
            for (int s = 0; s < g->spatial; s++) {
                float v = xp[s] * scale + shift;
                yp[s] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int s = 0; s < g->spatial; s++)
                yp[s] = xp[s] * scale + shift;
    }
}

void cpu_batchnorm_forward_train(const bn_geom *g, const float *x, const float *gamma,
                                 const float *beta, float *y, float *save_mean,
                                 float *save_invstd, float *running_mean, float *running_var)
{
    double count = (double)g->n * g->spatial;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double sum, sumsq;
        channel_stats(g, x, c, &sum, &sumsq);
        double mean = sum / count;
        double var = sumsq / count - mean * mean;
        if (var < 0.0)
            var = 0.0;
        double invstd = 1.0 / sqrt(var + g->eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        double unbiased = count > 1.0 ? var * count / (count - 1.0) : var;
        running_mean[c] = (float)((1.0 - g->momentum) * running_mean[c] + g->momentum * mean);
        running_var[c] = (float)((1.0 - g->momentum) * running_var[c] + g->momentum * unbiased);
        float scale = (float)(gamma[c] * invstd), shift = (float)(beta[c] - mean * scale);
        affine(g, x, c, scale, shift, y);
    }
}

void cpu_batchnorm_forward_eval(const bn_geom *g, const float *x, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float *y)
{
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        float scale = gamma[c] / sqrtf(running_var[c] + g->eps);
        float shift = beta[c] - running_mean[c] * scale;
        affine(g, x, c, scale, shift, y);
    }
}

/* dx = gamma*invstd/m * (m*dz - sum(dz) - xhat*sum(dz*xhat)), dz = dy masked by a fused ReLU */
void cpu_batchnorm_backward(const bn_geom *g, const float *x, const float *gamma,
                            const float *y, const float *save_mean, const float *save_invstd,
                            const float *dy, float *dx, float *dgamma, float *dbeta)
{
    double count = (double)g->n * g->spatial;
    if (!g->relu)
        y = NULL;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy, sum_dy_xhat;
        channel_grad_sums(g, x, dy, y, c, mean, invstd, &sum_dy, &sum_dy_xhat);
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
        if (!dx)
            continue;
        double k = gamma[c] * invstd / count;
#if SIMD_AVX512
        if (g->spatial >= BN_VECTOR_MIN && cpu_has_avx512()) {
            grad_input_avx512(g, x, dy, y, c, (float)mean, (float)invstd, (float)(k * count),
                              (float)(k * sum_dy), (float)(k * sum_dy_xhat), dx);
            continue;
        }
#endif
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
            const float *yp = y ? AT(g, y, b, c) : NULL;
            float *dxp = AT(g, dx, b, c);
            for (int s = 0; s < g->spatial; s++) {
                double xhat = (xp[s] - mean) * invstd;
                dxp[s] = (float)(k * (count * masked_dy(dyp, yp, s) - sum_dy - xhat * sum_dy_xhat));
            }
        }
    }
}

/* y = gamma * (x - rm) / sqrt(rv + eps) + beta is affine in x: dx = dz * scale. */
void cpu_batchnorm_backward_eval(const bn_geom *g, const float *x, const float *gamma,
                                 const float *y, const float *running_mean,
                                 const float *running_var, const float *dy, float *dx,
                                 float *dgamma, float *dbeta)
{
    if (!g->relu)
        y = NULL;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + g->eps);
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
            const float *yp = y ? AT(g, y, b, c) : NULL;
            float *dxp = dx ? AT(g, dx, b, c) : NULL;
            for (int s = 0; s < g->spatial; s++) {
                float d = masked_dy(dyp, yp, s);
                sum_dy += d;
                sum_dy_xhat += d * ((xp[s] - running_mean[c]) * invstd);
                if (dxp)
                    dxp[s] = (float)(d * gamma[c] * invstd);
            }
        }
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
    }
}

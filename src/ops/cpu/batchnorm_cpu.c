/*
 * Batch normalisation on the CPU (Ioffe & Szegedy 2015), PyTorch's
 * conventions: the biased batch variance normalises, the unbiased one
 * (x n/(n-1)) enters running_var; running = (1-m) running + m batch.
 *
 * Each pass works on a group of channels, sample by sample: a sample's
 * channels of the group are one contiguous run, so memory streams, and the
 * group's slice of the batch is small enough to be still in cache for the
 * second pass (the affine map, or dx). Threads take whole groups. Statistics
 * are accumulated in double, per channel in the same order whatever the
 * grouping or thread count (batchnorm_avx512.c with AVX-512).
 */
#include <math.h>

#include "core/error.h"
#include "ops/cpu/batchnorm_fast.h"
#include "ops/cpu/cpu.h"

/* The group's slice of the tensors a pass reads stays under this (L2 is 2 MB). */
#define BN_GROUP_BYTES (512 * 1024)

typedef struct channel_groups {
    int size, count;
} channel_groups;

/* Channel groups for a pass over `streams` tensors: small enough for
 * BN_GROUP_BYTES, and a multiple of the thread count where there are enough. */
static channel_groups plan_groups(const bn_geom *g, int streams)
{
    if (g->c < 1)
        return (channel_groups){1, 0};
    size_t per_channel = (size_t)g->n * g->spatial * sizeof(float) * streams;
    size_t fit = BN_GROUP_BYTES / (per_channel ? per_channel : 1);
    int size = fit < 1 ? 1 : fit > BN_GROUP_MAX ? BN_GROUP_MAX : (int)fit;
    int count = (g->c + size - 1) / size, threads = cpu_parts();
    if (count % threads)
        count += threads - count % threads;
    if (count > g->c)
        count = g->c;
    size = (g->c + count - 1) / count;
    /* rounding the size up can undo the multiple (6 channels, 2 threads:
     * 4 groups of 2 are 3 groups): smaller groups until it holds */
    while (size > 1 && ((g->c + size - 1) / size) % threads)
        size--;
    count = (g->c + size - 1) / size;
    return (channel_groups){size, count};
}

/* sum and sum of squares of channels [c0, c1) over the batch */
static void group_stats(const bn_geom *g, const float *x, int c0, int c1, double *sum,
                        double *sumsq)
{
    if (bn_stats_avx512(g, x, c0, c1, sum, sumsq))
        return;
    for (int k = 0; k < c1 - c0; k++)
        sum[k] = sumsq[k] = 0.0;
    if (g->spatial == 1) { /* per feature: across the sample's channels, which vectorises */
        for (int b = 0; b < g->n; b++) {
            const float *xp = BN_AT(g, x, b, c0);
            for (int k = 0; k < c1 - c0; k++) {
                sum[k] += xp[k];
                sumsq[k] += (double)xp[k] * xp[k];
            }
        }
        return;
    }
    for (int b = 0; b < g->n; b++)
        for (int k = 0; k < c1 - c0; k++) {
            const float *xp = BN_AT(g, x, b, c0 + k);
            double s = sum[k], q = sumsq[k];
            for (int i = 0; i < g->spatial; i++) {
                s += xp[i];
                q += (double)xp[i] * xp[i];
            }
            sum[k] = s, sumsq[k] = q;
        }
}

/* y = x * scale + shift over channels [c0, c1) of every sample, then the fused ReLU */
static void group_affine(const bn_geom *g, const float *x, int c0, int c1, const float *scale,
                         const float *shift, float *y)
{
    if (bn_affine_avx512(g, x, c0, c1, scale, shift, y))
        return;
    if (g->spatial == 1) {
        for (int b = 0; b < g->n; b++) {
            const float *xp = BN_AT(g, x, b, c0);
            float *yp = BN_AT(g, y, b, c0);
            for (int k = 0; k < c1 - c0; k++) {
                float v = bn_affine_at(xp[k], scale[k], shift[k]);
                yp[k] = g->relu && !(v > 0.0f) ? 0.0f : v;
            }
        }
        return;
    }
    for (int b = 0; b < g->n; b++)
        for (int k = 0; k < c1 - c0; k++) {
            const float *xp = BN_AT(g, x, b, c0 + k);
            float *yp = BN_AT(g, y, b, c0 + k);
            if (g->relu)
                for (int s = 0; s < g->spatial; s++) {
                    float v = bn_affine_at(xp[s], scale[k], shift[k]);
                    yp[s] = v > 0.0f ? v : 0.0f;
                }
            else
                for (int s = 0; s < g->spatial; s++)
                    yp[s] = bn_affine_at(xp[s], scale[k], shift[k]);
        }
}

/* Channel c's mean and 1/std from its sums over `count` values: saved for
 * backward, blended into the running statistics, and the affine map's scale
 * and shift. */
static void channel_stats(const bn_geom *g, int c, double sum, double sumsq, double count,
                          const float *gamma, const float *beta, float *save_mean,
                          float *save_invstd, float *running_mean, float *running_var,
                          float *scale, float *shift)
{
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
    bn_scale_shift(gamma[c], beta[c], save_mean[c], save_invstd[c], scale, shift);
}

/* Synchronised statistics: every group's sums first, then one sum across
 * the processes, then the affine map with the global mean and variance. */
static soma_status forward_train_synced(const bn_geom *g, const float *x, const float *gamma,
                                        const float *beta, float *y, float *save_mean,
                                        float *save_invstd, float *running_mean,
                                        float *running_var)
{
    channel_groups groups = plan_groups(g, 1);
    double *sum = g->scratch, *sumsq = g->scratch + g->c;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        group_stats(g, x, c0, c1, sum + c0, sumsq + c0);
    }
    g->scratch[2 * g->c] = (double)g->n * g->spatial;
    SOMA_TRY(g->sync->sum(g->sync->arg, g->scratch, 2 * g->c + 1));
    double count = g->scratch[2 * g->c];
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        float scale[BN_GROUP_MAX], shift[BN_GROUP_MAX];
        for (int c = c0; c < c1; c++)
            channel_stats(g, c, sum[c], sumsq[c], count, gamma, beta, save_mean, save_invstd,
                          running_mean, running_var, &scale[c - c0], &shift[c - c0]);
        group_affine(g, x, c0, c1, scale, shift, y);
    }
    return SOMA_OK;
}

soma_status cpu_batchnorm_forward_train(const bn_geom *g, const float *x, const float *gamma,
                                        const float *beta, float *y, float *save_mean,
                                        float *save_invstd, float *running_mean, float *running_var)
{
    if (g->sync)
        return forward_train_synced(g, x, gamma, beta, y, save_mean, save_invstd, running_mean,
                                    running_var);
    double count = (double)g->n * g->spatial;
    channel_groups groups = plan_groups(g, 1);
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        double sum[BN_GROUP_MAX], sumsq[BN_GROUP_MAX];
        float scale[BN_GROUP_MAX], shift[BN_GROUP_MAX];
        group_stats(g, x, c0, c1, sum, sumsq);
        for (int c = c0; c < c1; c++)
            channel_stats(g, c, sum[c - c0], sumsq[c - c0], count, gamma, beta, save_mean,
                          save_invstd, running_mean, running_var, &scale[c - c0],
                          &shift[c - c0]);
        group_affine(g, x, c0, c1, scale, shift, y);
    }
    return SOMA_OK;
}

soma_status cpu_batchnorm_forward_eval(const bn_geom *g, const float *x, const float *gamma,
                                       const float *beta, const float *running_mean,
                                       const float *running_var, float *y)
{
    channel_groups groups = plan_groups(g, 1);
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        float scale[BN_GROUP_MAX], shift[BN_GROUP_MAX];
        for (int c = c0; c < c1; c++) {
            scale[c - c0] = gamma[c] / sqrtf(running_var[c] + g->eps);
            shift[c - c0] = beta[c] - running_mean[c] * scale[c - c0];
        }
        group_affine(g, x, c0, c1, scale, shift, y);
    }
    return SOMA_OK;
}

/* dy at i, or 0 where a fused ReLU's output y is not positive (relu_mask) */
static inline float masked_dy(const float *dy, const float *y, int i)
{
    return y && !(y[i] > 0.0f) ? 0.0f : dy[i];
}

/* The fused ReLU's mask of a training-mode backward, rebuilt from x: the
 * channel's scale and shift, or none (relu 0). */
typedef struct relu_mask {
    int relu;
    float scale, shift;
} relu_mask;

/* dy, or 0 where the fused ReLU's forward output was not positive */
static inline float masked_by_x(float dy, float x, relu_mask m)
{
    return m.relu && !(bn_affine_at(x, m.scale, m.shift) > 0.0f) ? 0.0f : dy;
}

static inline relu_mask mask_of(const float *scale, const float *shift, int k)
{
    relu_mask m = {scale != NULL, scale ? scale[k] : 0.0f, scale ? shift[k] : 0.0f};
    return m;
}

/* sum(dz) and sum(dz * xhat) of channels [c0, c1), xhat = (x - mean) * invstd,
 * dz = dy masked by a fused ReLU (scale, shift from c0; NULL: none) */
static void group_grad_sums(const bn_geom *g, const float *x, const float *dy,
                            const float *scale, const float *shift, int c0, int c1,
                            const float *mean, const float *invstd, double *sum_dy,
                            double *sum_dy_xhat)
{
    if (bn_grad_sums_avx512(g, x, dy, scale, shift, c0, c1, mean, invstd, sum_dy, sum_dy_xhat))
        return;
    for (int k = 0; k < c1 - c0; k++)
        sum_dy[k] = sum_dy_xhat[k] = 0.0;
    if (g->spatial == 1) {
        for (int b = 0; b < g->n; b++) {
            const float *xp = BN_AT(g, x, b, c0), *dyp = BN_AT(g, dy, b, c0);
            for (int k = 0; k < c1 - c0; k++) {
                float d = masked_by_x(dyp[k], xp[k], mask_of(scale, shift, k));
                sum_dy[k] += d;
                sum_dy_xhat[k] += d * ((xp[k] - (double)mean[c0 + k]) * invstd[c0 + k]);
            }
        }
        return;
    }
    for (int b = 0; b < g->n; b++)
        for (int k = 0; k < c1 - c0; k++) {
            int c = c0 + k;
            const float *xp = BN_AT(g, x, b, c), *dyp = BN_AT(g, dy, b, c);
            relu_mask m = mask_of(scale, shift, k);
            double s = sum_dy[k], t = sum_dy_xhat[k], mu = mean[c], is = invstd[c];
            for (int i = 0; i < g->spatial; i++) {
                float d = masked_by_x(dyp[i], xp[i], m);
                s += d;
                t += d * ((xp[i] - mu) * is);
            }
            sum_dy[k] = s, sum_dy_xhat[k] = t;
        }
}

/* dx of channels [c0, c1) from the sums, in double:
 * k * (m * dz - sum(dz) - xhat * sum(dz * xhat)), k = gamma * invstd / m */
static inline float grad_input_at(double count, float gamma, float mean, float invstd,
                                  double sum_dy, double sum_dy_xhat, float x, float dz)
{
    double k = gamma * (double)invstd / count, xhat = (x - (double)mean) * invstd;
    return (float)(k * (count * dz - sum_dy - xhat * sum_dy_xhat));
}

static void group_grad_input(const bn_geom *g, double count, const float *x, const float *gamma,
                             const float *scale, const float *shift, int c0, int c1,
                             const float *mean, const float *invstd, const float *dy,
                             const double *sum_dy, const double *sum_dy_xhat, float *dx)
{
    for (int n = 0; n < g->n; n++) {
        if (g->spatial == 1) { /* per feature: across channels, as in group_stats */
            const float *xp = BN_AT(g, x, n, c0), *dyp = BN_AT(g, dy, n, c0);
            float *dxp = BN_AT(g, dx, n, c0);
            for (int k = 0; k < c1 - c0; k++)
                dxp[k] = grad_input_at(count, gamma[c0 + k], mean[c0 + k], invstd[c0 + k],
                                       sum_dy[k], sum_dy_xhat[k], xp[k],
                                       masked_by_x(dyp[k], xp[k], mask_of(scale, shift, k)));
            continue;
        }
        for (int c = c0; c < c1; c++) {
            const float *xp = BN_AT(g, x, n, c), *dyp = BN_AT(g, dy, n, c);
            float *dxp = BN_AT(g, dx, n, c);
            relu_mask m = mask_of(scale, shift, c - c0);
            for (int s = 0; s < g->spatial; s++)
                dxp[s] = grad_input_at(count, gamma[c], mean[c], invstd[c], sum_dy[c - c0],
                                       sum_dy_xhat[c - c0], xp[s], masked_by_x(dyp[s], xp[s], m));
        }
    }
}

/* The fused ReLU's scale and shift of channels [c0, c1) into scale_buf and
 * shift_buf; *scale and *shift point at them, or are NULL without one. */
static void relu_scale_shift(const bn_geom *g, const float *gamma, const float *beta,
                             const float *save_mean, const float *save_invstd, int c0, int c1,
                             float *scale_buf, float *shift_buf, const float **scale,
                             const float **shift)
{
    *scale = *shift = NULL;
    if (!g->relu)
        return;
    for (int c = c0; c < c1; c++)
        bn_scale_shift(gamma[c], beta[c], save_mean[c], save_invstd[c], &scale_buf[c - c0],
                       &shift_buf[c - c0]);
    *scale = scale_buf, *shift = shift_buf;
}

/* dx of channels [c0, c1) from the sums over `count` values (k = gamma * invstd / count) */
static void group_dx(const bn_geom *g, double count, const float *x, const float *gamma,
                     const float *scale, const float *shift, int c0, int c1,
                     const float *save_mean, const float *save_invstd, const float *dy,
                     const double *sum_dy, const double *sum_dy_xhat, float *dx)
{
    float a[BN_GROUP_MAX], b[BN_GROUP_MAX], t[BN_GROUP_MAX];
    for (int c = c0; c < c1; c++) {
        double k = gamma[c] * (double)save_invstd[c] / count;
        a[c - c0] = (float)(k * count);
        b[c - c0] = (float)(k * sum_dy[c - c0]);
        t[c - c0] = (float)(k * sum_dy_xhat[c - c0]);
    }
    if (!bn_grad_input_avx512(g, x, dy, scale, shift, c0, c1, save_mean, save_invstd, a, b, t,
                              dx))
        group_grad_input(g, count, x, gamma, scale, shift, c0, c1, save_mean, save_invstd, dy,
                         sum_dy, sum_dy_xhat, dx);
}

/* Synchronised: this process's sums into dgamma and dbeta, then the sums
 * over every process for dx. */
static soma_status backward_synced(const bn_geom *g, const float *x, const float *gamma,
                                   const float *beta, const float *save_mean,
                                   const float *save_invstd, const float *dy, float *dx,
                                   float *dgamma, float *dbeta)
{
    channel_groups groups = plan_groups(g, 2);
    double *sum_dy = g->scratch, *sum_dy_xhat = g->scratch + g->c;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        float scale_buf[BN_GROUP_MAX], shift_buf[BN_GROUP_MAX];
        const float *scale, *shift;
        relu_scale_shift(g, gamma, beta, save_mean, save_invstd, c0, c1, scale_buf, shift_buf,
                         &scale, &shift);
        group_grad_sums(g, x, dy, scale, shift, c0, c1, save_mean, save_invstd, sum_dy + c0,
                        sum_dy_xhat + c0);
        for (int c = c0; c < c1; c++) {
            dgamma[c] += (float)sum_dy_xhat[c];
            dbeta[c] += (float)sum_dy[c];
        }
    }
    g->scratch[2 * g->c] = (double)g->n * g->spatial;
    SOMA_TRY(g->sync->sum(g->sync->arg, g->scratch, 2 * g->c + 1));
    double count = g->scratch[2 * g->c];
    if (!dx)
        return SOMA_OK;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        float scale_buf[BN_GROUP_MAX], shift_buf[BN_GROUP_MAX];
        const float *scale, *shift;
        relu_scale_shift(g, gamma, beta, save_mean, save_invstd, c0, c1, scale_buf, shift_buf,
                         &scale, &shift);
        group_dx(g, count, x, gamma, scale, shift, c0, c1, save_mean, save_invstd, dy,
                 sum_dy + c0, sum_dy_xhat + c0, dx);
    }
    return SOMA_OK;
}

/* dx = gamma*invstd/m * (m*dz - sum(dz) - xhat*sum(dz*xhat)), dz = dy masked
 * by a fused ReLU, its mask rebuilt from x (one stream less than reading y) */
soma_status cpu_batchnorm_backward(const bn_geom *g, const float *x, const float *gamma,
                                   const float *beta, const float *save_mean,
                                   const float *save_invstd, const float *dy, float *dx,
                                   float *dgamma, float *dbeta)
{
    if (g->sync)
        return backward_synced(g, x, gamma, beta, save_mean, save_invstd, dy, dx, dgamma,
                               dbeta);
    double count = (double)g->n * g->spatial;
    channel_groups groups = plan_groups(g, 2);
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int q = 0; q < groups.count; q++) {
        int c0 = q * groups.size, c1 = c0 + groups.size < g->c ? c0 + groups.size : g->c;
        float scale_buf[BN_GROUP_MAX], shift_buf[BN_GROUP_MAX];
        const float *scale, *shift;
        relu_scale_shift(g, gamma, beta, save_mean, save_invstd, c0, c1, scale_buf, shift_buf,
                         &scale, &shift);
        double sum_dy[BN_GROUP_MAX], sum_dy_xhat[BN_GROUP_MAX];
        group_grad_sums(g, x, dy, scale, shift, c0, c1, save_mean, save_invstd, sum_dy,
                        sum_dy_xhat);
        for (int c = c0; c < c1; c++) {
            dgamma[c] += (float)sum_dy_xhat[c - c0];
            dbeta[c] += (float)sum_dy[c - c0];
        }
        if (dx)
            group_dx(g, count, x, gamma, scale, shift, c0, c1, save_mean, save_invstd, dy,
                     sum_dy, sum_dy_xhat, dx);
    }
    return SOMA_OK;
}

/* y = gamma * (x - rm) / sqrt(rv + eps) + beta is affine in x: dx = dz * scale. */
soma_status cpu_batchnorm_backward_eval(const bn_geom *g, const float *x, const float *gamma,
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
            const float *xp = BN_AT(g, x, b, c), *dyp = BN_AT(g, dy, b, c);
            const float *yp = y ? BN_AT(g, y, b, c) : NULL;
            float *dxp = dx ? BN_AT(g, dx, b, c) : NULL;
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
    return SOMA_OK;
}

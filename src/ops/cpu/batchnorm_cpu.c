/*
 * Batch normalisation on the CPU (Ioffe & Szegedy 2015), PyTorch's
 * conventions: the biased batch variance normalises, the unbiased one
 * (x n/(n-1)) enters running_var; running = (1-m) running + m batch.
 * Statistics are accumulated in double, one channel per iteration.
 */
#include <math.h>

#include "ops/cpu/cpu.h"

#define AT(g, x, b, c) ((x) + ((size_t)(b) * (g)->c + (c)) * (g)->spatial)

void cpu_batchnorm_forward_train(const bn_geom *g, const float *x, const float *gamma,
                                 const float *beta, float *y, float *save_mean,
                                 float *save_invstd, float *running_mean, float *running_var)
{
    double count = (double)g->n * g->spatial;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double sum = 0.0, sumsq = 0.0;
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c);
            for (int s = 0; s < g->spatial; s++) {
                sum += xp[s];
                sumsq += (double)xp[s] * xp[s];
            }
        }
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
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c);
            float *yp = AT(g, y, b, c);
            for (int s = 0; s < g->spatial; s++)
                yp[s] = xp[s] * scale + shift;
        }
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
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c);
            float *yp = AT(g, y, b, c);
            for (int s = 0; s < g->spatial; s++)
                yp[s] = xp[s] * scale + shift;
        }
    }
}

/* dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)) */
void cpu_batchnorm_backward(const bn_geom *g, const float *x, const float *gamma,
                            const float *save_mean, const float *save_invstd, const float *dy,
                            float *dx, float *dgamma, float *dbeta)
{
    double count = (double)g->n * g->spatial;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
            for (int s = 0; s < g->spatial; s++) {
                sum_dy += dyp[s];
                sum_dy_xhat += dyp[s] * ((xp[s] - mean) * invstd);
            }
        }
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
        if (!dx)
            continue;
        double k = gamma[c] * invstd / count;
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
            float *dxp = AT(g, dx, b, c);
            for (int s = 0; s < g->spatial; s++) {
                double xhat = (xp[s] - mean) * invstd;
                dxp[s] = (float)(k * (count * dyp[s] - sum_dy - xhat * sum_dy_xhat));
            }
        }
    }
}

/* y = gamma * (x - rm) / sqrt(rv + eps) + beta is affine in x: dx = dy * scale. */
void cpu_batchnorm_backward_eval(const bn_geom *g, const float *x, const float *gamma,
                                 const float *running_mean, const float *running_var,
                                 const float *dy, float *dx, float *dgamma, float *dbeta)
{
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int c = 0; c < g->c; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + g->eps);
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int b = 0; b < g->n; b++) {
            const float *xp = AT(g, x, b, c), *dyp = AT(g, dy, b, c);
            float *dxp = dx ? AT(g, dx, b, c) : NULL;
            for (int s = 0; s < g->spatial; s++) {
                sum_dy += dyp[s];
                sum_dy_xhat += dyp[s] * ((xp[s] - running_mean[c]) * invstd);
                if (dxp)
                    dxp[s] = (float)(dyp[s] * gamma[c] * invstd);
            }
        }
        dgamma[c] += (float)sum_dy_xhat;
        dbeta[c] += (float)sum_dy;
    }
}

/*
 * Batch-norm backward in training mode against a double-precision reference
 * written out here from the formula: dz = dy (masked by the fused ReLU's
 * output when relu is on), xhat = (x - mean) * invstd,
 *   dgamma = sum(dz * xhat), dbeta = sum(dz),
 *   dx = gamma * invstd / m * (m dz - sum(dz) - xhat sum(dz xhat)).
 * Shapes cover the vector path (spatial >= 16, with and without a tail),
 * the scalar one, per-feature statistics and several channel groups; a
 * channel mean far from zero checks that xhat does not lose its digits to
 * cancellation.
 */
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "ops/backend.h"
#include "support/check.h"

static const soma_backend *be = &soma_cpu_backend;

static void check_shape(int n, int c, int spatial, int relu, float offset)
{
    bn_geom g = {n, c, spatial, 1e-5f, 0.1f, relu, NULL, NULL};
    size_t nx = (size_t)n * c * spatial;
    rng r;
    rng_init(&r, 5, RNG_TEST, (uint64_t)(n * 1000 + spatial), 0);
    float *x = malloc(sizeof *x * nx), *dy = malloc(sizeof *dy * nx);
    float *y = malloc(sizeof *y * nx), *dx = malloc(sizeof *dx * nx);
    float *gamma = malloc(sizeof *gamma * c), *beta = malloc(sizeof *beta * c);
    float *st = calloc(4 * (size_t)c, sizeof *st); /* mean, invstd, running mean, var */
    float *dgamma = calloc((size_t)c, sizeof *dgamma), *dbeta = calloc((size_t)c, sizeof *dbeta);
    for (size_t i = 0; i < nx; i++)
        x[i] = offset + rng_normal(&r), dy[i] = rng_normal(&r);
    for (int i = 0; i < c; i++)
        gamma[i] = 0.5f + rng_uniform(&r), beta[i] = rng_normal(&r);
    CHECK(be->batchnorm_forward_train(&g, x, gamma, beta, y, st, st + c, st + 2 * c,
                                      st + 3 * c) == SOMA_OK);
    CHECK(be->batchnorm_backward(&g, x, gamma, beta, st, st + c, dy, dx, dgamma, dbeta) == SOMA_OK);

    double m = (double)n * spatial, worst = 0.0;
    for (int ch = 0; ch < c; ch++) {
        double mean = 0.0, var = 0.0, sdz = 0.0, sdzx = 0.0;
        for (int b = 0; b < n; b++)
            for (int s = 0; s < spatial; s++)
                mean += x[((size_t)b * c + ch) * spatial + s];
        mean /= m;
        for (int b = 0; b < n; b++)
            for (int s = 0; s < spatial; s++) {
                double d = x[((size_t)b * c + ch) * spatial + s] - mean;
                var += d * d;
            }
        double invstd = 1.0 / sqrt(var / m + g.eps);
        for (int pass = 0; pass < 2; pass++)
            for (int b = 0; b < n; b++)
                for (int s = 0; s < spatial; s++) {
                    size_t i = ((size_t)b * c + ch) * spatial + s;
                    double xhat = (x[i] - mean) * invstd;
                    double yv = gamma[ch] * xhat + beta[ch];
                    double dz = relu && !(yv > 0.0) ? 0.0 : dy[i];
                    if (pass == 0) {
                        sdz += dz, sdzx += dz * xhat;
                        continue;
                    }
                    /* skip values on the ReLU's edge, where float and double may disagree */
                    if (relu && fabs(yv) < 1e-4)
                        continue;
                    double want = gamma[ch] * invstd / m * (m * dz - sdz - xhat * sdzx);
                    double err = fabs(dx[i] - want) / (1.0 + fabs(want));
                    worst = err > worst ? err : worst;
                }
        CHECK_CLOSE(dbeta[ch], sdz, 1e-4);
        CHECK_CLOSE(dgamma[ch], sdzx, 1e-4);
    }
    CHECK_MSG(worst < 1e-4, "batchnorm backward %dx%dx%d relu %d offset %g: dx off by %g", n, c,
              spatial, relu, offset, worst);
    free(x), free(dy), free(y), free(dx), free(gamma), free(beta), free(st);
    free(dgamma), free(dbeta);
}

int main(void)
{
    for (int relu = 0; relu <= 1; relu++) {
        check_shape(8, 3, 196, relu, 0.0f); /* vector path with a tail of 4 */
        check_shape(4, 2, 64, relu, 0.0f);  /* vector path, whole vectors */
        check_shape(5, 3, 7, relu, 0.0f);   /* scalar path */
        check_shape(6, 2, 49, relu, 30.0f); /* mean far from zero */
        check_shape(16, 12, 1000, relu, 0.0f); /* several channel groups, vectors across planes */
        check_shape(9, 70, 1, relu, 0.0f);     /* per feature, two groups */
    }
    return check_finish("bn_backward");
}

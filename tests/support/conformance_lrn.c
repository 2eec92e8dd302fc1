/*
 * Conformance of lrn_forward and lrn_backward (AlexNet's local response
 * normalisation, the paper's alpha: backend.h) against the double reference
 * of tests/support/lrn_reference.c. The magnitude of dx is the sum of its
 * terms' sizes (the own term and every window it is in), so a dx that
 * cancels is held only to what float arithmetic can give.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/conformance.h"
#include "support/lrn_reference.h"

/* |dy_j| s_j^-beta + sum over windows i holding j of |dy_i x_i| beta s_i^(-beta-1) 2 alpha |x_j| */
static void dx_magnitude(const lrn_geom *g, const float *x, const float *dy, double *mag)
{
    size_t sample = (size_t)g->c * g->spatial;
    for (int n = 0; n < g->n; n++)
        for (int p = 0; p < g->spatial; p++) {
            double *s = malloc(sizeof *s * (size_t)g->c);
            for (int c = 0; c < g->c; c++) {
                double sum = 0.0;
                for (int j = c - g->size / 2; j <= c + (g->size - 1) / 2; j++)
                    if (j >= 0 && j < g->c) {
                        double v = x[sample * n + (size_t)j * g->spatial + p];
                        sum += v * v;
                    }
                s[c] = g->k + (double)g->alpha * sum;
            }
            for (int j = 0; j < g->c; j++) {
                size_t at = sample * n + (size_t)j * g->spatial + p;
                double m = fabs(dy[at]) * pow(s[j], -g->beta);
                for (int i = j - (g->size - 1) / 2; i <= j + g->size / 2; i++)
                    if (i >= 0 && i < g->c) {
                        size_t ai = sample * n + (size_t)i * g->spatial + p;
                        m += fabs(dy[ai] * x[ai]) * g->beta * pow(s[i], -g->beta - 1.0) * 2.0 *
                             g->alpha * fabs(x[at]);
                    }
                mag[at] = m;
            }
            free(s);
        }
}

static void check_lrn(const conf_target *t, lrn_geom g, float scale, int index)
{
    const soma_backend *be = t->be;
    size_t n = (size_t)g.n * g.c * g.spatial;
    float *x = host_normal(n, 300 + index, scale), *dy = host_normal(n, 310 + index, 1.0f);
    double *ry = host_doubles(n), *rdx = host_doubles(n), *dx_mag = host_doubles(n);
    lrn_reference(&g, x, dy, ry, rdx);
    dx_magnitude(&g, x, dy, dx_mag);
    /* s is at least k: a window sum of `size` squares, a power, a product */
    double tol = conf_tolerance(TOL_LIBM, 0) + conf_tolerance(TOL_SUM, g.size);
    CONF_FOR_THREADS(t, ti) {
        conf_case k;
        case_begin(&k, t, "lrn",
                   "#%d n%d c%d spatial %d size %d alpha %g beta %g k %g, %d thread%s", index,
                   g.n, g.c, g.spatial, g.size, (double)g.alpha, (double)g.beta, (double)g.k,
                   t->threads[ti], t->threads[ti] == 1 ? "" : "s");
        float *d_x = dev_from_host(be, x, n), *d_dy = dev_from_host(be, dy, n);
        float *d_y = dev_filled(be, n, NAN), *d_s = dev_filled(be, n, NAN);
        float *d_dx = dev_filled(be, n, NAN); /* overwritten, not accumulated */
        case_status(&k, run_lrn_forward(be, &g, d_x, d_y, d_s), "lrn_forward");
        case_status(&k, run_lrn_backward(be, &g, d_x, d_y, d_s, d_dy, d_dx), "lrn_backward");
        float *y = host_from_dev(be, d_y, n), *dx = host_from_dev(be, d_dx, n);
        case_close(&k, "y", y, ry, NULL, n, tol);
        case_close(&k, "dx", dx, rdx, dx_mag, n, tol + conf_tolerance(TOL_SUM, 2 * g.size));
        case_end(&k);
        free(y), free(dx);
        dev_release(be, d_x), dev_release(be, d_dy), dev_release(be, d_y);
        dev_release(be, d_s), dev_release(be, d_dx);
    }
    free(x), free(dy), free(ry), free(rdx), free(dx_mag);
}

void conf_lrn(const conf_target *t)
{
    /* AlexNet's, with activations large enough for the sum to matter */
    check_lrn(t, (lrn_geom){2, 96, 13, 5, 1e-4f, 0.75f, 2.0f}, 30.0f, 0);
    /* an even window, a window wider than the channels, beta outside the fast cases */
    check_lrn(t, (lrn_geom){1, 7, 9, 4, 1e-2f, 0.75f, 1.0f}, 3.0f, 1);
    check_lrn(t, (lrn_geom){3, 3, 17, 5, 0.1f, 0.6f, 2.0f}, 2.0f, 2);
    check_lrn(t, (lrn_geom){2, 16, 33, 3, 1e-3f, 0.5f, 1.5f}, 5.0f, 3);
    check_lrn(t, (lrn_geom){1, 20, 1, 5, 1e-3f, 1.0f, 2.0f}, 10.0f, 4);
}

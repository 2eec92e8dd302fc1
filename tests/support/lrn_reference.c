#include "support/lrn_reference.h"

#include <math.h>
#include <stdlib.h>

/* the window sum's base s of element (c, p) of one sample */
static double base(const lrn_geom *g, const float *x, int c, int p)
{
    double sum = 0.0;
    for (int j = c - g->size / 2; j <= c + (g->size - 1) / 2; j++)
        if (j >= 0 && j < g->c)
            sum += (double)x[(size_t)j * g->spatial + p] * x[(size_t)j * g->spatial + p];
    return (double)g->k + (double)g->alpha * sum;
}

void lrn_reference(const lrn_geom *g, const float *x, const float *dy, double *y, double *dx)
{
    size_t sample = (size_t)g->c * g->spatial;
    for (int n = 0; n < g->n; n++) {
        const float *xn = x + sample * n;
        for (int c = 0; c < g->c; c++)
            for (int p = 0; p < g->spatial; p++) {
                size_t at = sample * n + (size_t)c * g->spatial + p;
                y[at] = xn[(size_t)c * g->spatial + p] * pow(base(g, xn, c, p), -g->beta);
            }
        if (!dy || !dx)
            continue;
        /* dL/dx_j = sum over outputs i of dy_i * dy_i/dx_j: the own term,
         * and every output whose window holds channel j */
        for (int j = 0; j < g->c; j++)
            for (int p = 0; p < g->spatial; p++) {
                size_t at = sample * n + (size_t)j * g->spatial + p;
                double xj = xn[(size_t)j * g->spatial + p];
                double d = dy[at] * pow(base(g, xn, j, p), -g->beta);
                for (int i = 0; i < g->c; i++) {
                    if (j < i - g->size / 2 || j > i + (g->size - 1) / 2)
                        continue;
                    size_t ai = sample * n + (size_t)i * g->spatial + p;
                    double si = base(g, xn, i, p), xi = xn[(size_t)i * g->spatial + p];
                    d -= dy[ai] * xi * g->beta * pow(si, -g->beta - 1.0) * 2.0 * g->alpha * xj;
                }
                dx[at] = d;
            }
    }
}

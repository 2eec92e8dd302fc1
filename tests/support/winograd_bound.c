#include "support/winograd_bound.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double G[6][3] = {{1.0 / 4, 0, 0},
                               {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                               {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                               {1.0 / 24, 1.0 / 12, 1.0 / 6},
                               {1.0 / 24, -1.0 / 12, 1.0 / 6},
                               {0, 0, 1}};
static const double AT[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

double wino_gamma(int n)
{
    const double u = 1.0 / 16777216.0;
    return n * u / (1.0 - n * u);
}

/* out (rows x q) = |L| |X| |R|: L rows x m, X m x p, R p x q */
static void abs_sandwich(const double *l, const double *x, const double *r, int rows, int m, int p,
                         int q, double *out)
{
    double mid[6][6];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < p; j++) {
            double s = 0.0;
            for (int t = 0; t < m; t++)
                s += fabs(l[i * m + t]) * fabs(x[t * p + j]);
            mid[i][j] = s;
        }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < q; j++) {
            double s = 0.0;
            for (int t = 0; t < p; t++)
                s += mid[i][t] * fabs(r[t * q + j]);
            out[i * q + j] = s;
        }
}

static void transpose(const double *a, int rows, int cols, double *t)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            t[j * rows + i] = a[i * cols + j];
}

static double plane_at(const float *p, int h, int w, int iy, int ix)
{
    return iy < 0 || iy >= h || ix < 0 || ix >= w ? 0.0 : p[(size_t)iy * w + ix];
}

double *wino_dense_filters(const conv_geom *g, const float *w, int transposed)
{
    int cg = g->c / conv_groups(g), kg = g->k / conv_groups(g);
    double *f = calloc((size_t)g->k * g->c * 9, sizeof *f);
    for (int k = 0; f && k < g->k; k++)
        for (int cl = 0; cl < cg; cl++)
            for (int t = 0; t < 9; t++) {
                int c = k / kg * cg + cl;
                double v = w[((size_t)k * cg + cl) * 9 + t];
                if (transposed)
                    f[((size_t)c * g->k + k) * 9 + 8 - t] = v;
                else
                    f[((size_t)k * g->c + c) * 9 + t] = v;
            }
    return f;
}

void wino_forward_mag(int n, int ins, int h, int w, int outs, int oh, int ow, int pad,
                      const double *f, const float *x, double *mag)
{
    int th = (oh + 3) / 4, tw = (ow + 3) / 4;
    double gt[3][6], bm[6][6], am[6][4];
    transpose(&G[0][0], 6, 3, &gt[0][0]);
    transpose(&BT[0][0], 6, 6, &bm[0][0]);
    transpose(&AT[0][0], 4, 6, &am[0][0]);
    double *uabs = malloc(sizeof *uabs * 36 * outs * ins), *vabs = malloc(sizeof *vabs * 36 * ins);
    for (int o = 0; o < outs; o++)
        for (int i = 0; i < ins; i++)
            abs_sandwich(&G[0][0], f + ((size_t)o * ins + i) * 9, &gt[0][0], 6, 3, 3, 6,
                         uabs + ((size_t)o * ins + i) * 36);
    for (int s = 0; s < n; s++)
        for (int ti = 0; ti < th; ti++)
            for (int tj = 0; tj < tw; tj++) {
                for (int c = 0; c < ins; c++) {
                    const float *xc = x + ((size_t)s * ins + c) * h * w;
                    double d[36];
                    for (int r = 0; r < 36; r++)
                        d[r] = plane_at(xc, h, w, 4 * ti - pad + r / 6, 4 * tj - pad + r % 6);
                    abs_sandwich(&BT[0][0], d, &bm[0][0], 6, 6, 6, 6, vabs + (size_t)c * 36);
                }
                for (int o = 0; o < outs; o++) {
                    double m[36] = {0}, out[16];
                    for (int c = 0; c < ins; c++)
                        for (int e = 0; e < 36; e++)
                            m[e] += uabs[((size_t)o * ins + c) * 36 + e] * vabs[c * 36 + e];
                    abs_sandwich(&AT[0][0], m, &am[0][0], 4, 6, 6, 4, out);
                    for (int r = 0; r < 4 && 4 * ti + r < oh; r++)
                        for (int q = 0; q < 4 && 4 * tj + q < ow; q++)
                            mag[(((size_t)s * outs + o) * oh + 4 * ti + r) * ow + 4 * tj + q] =
                                out[r * 4 + q];
                }
            }
    free(uabs), free(vabs);
}

void wino_dw_mag(const conv_geom *g, const float *x, const float *dz, double *mag)
{
    int th = (g->oh + 3) / 4, tw = (g->ow + 3) / 4;
    int cg = g->c / conv_groups(g), kg = g->k / conv_groups(g);
    double gm[3][6], am[6][4], bm[6][6];
    transpose(&G[0][0], 6, 3, &gm[0][0]);
    transpose(&AT[0][0], 4, 6, &am[0][0]);
    transpose(&BT[0][0], 6, 6, &bm[0][0]);
    double *sum = calloc((size_t)g->k * cg * 36, sizeof *sum);
    for (int n = 0; n < g->n; n++)
        for (int ti = 0; ti < th; ti++)
            for (int tj = 0; tj < tw; tj++)
                for (int k = 0; k < g->k; k++) {
                    const float *dk = dz + ((size_t)n * g->k + k) * g->oh * g->ow;
                    double z[16], za[36];
                    for (int r = 0; r < 16; r++)
                        z[r] = plane_at(dk, g->oh, g->ow, 4 * ti + r / 4, 4 * tj + r % 4);
                    abs_sandwich(&am[0][0], z, &AT[0][0], 6, 4, 4, 6, za);
                    for (int cl = 0; cl < cg; cl++) {
                        const float *xc = x + ((size_t)n * g->c + k / kg * cg + cl) * g->h * g->w;
                        double d[36], va[36];
                        for (int r = 0; r < 36; r++)
                            d[r] = plane_at(xc, g->h, g->w, 4 * ti - g->pad + r / 6,
                                            4 * tj - g->pad + r % 6);
                        abs_sandwich(&BT[0][0], d, &bm[0][0], 6, 6, 6, 6, va);
                        for (int e = 0; e < 36; e++)
                            sum[((size_t)k * cg + cl) * 36 + e] += za[e] * va[e];
                    }
                }
    for (size_t i = 0; i < (size_t)g->k * cg; i++)
        abs_sandwich(&gm[0][0], sum + i * 36, &G[0][0], 3, 6, 6, 3, mag + i * 9);
    free(sum);
}

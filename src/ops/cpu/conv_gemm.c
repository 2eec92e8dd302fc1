/*
 * CONV_GEMM: im2col + sgemm, one sample at a time. Portable (BLAS does the
 * vector work, OpenBLAS picks its kernels for the CPU), any geometry; used
 * where no direct kernel applies and on CPUs without AVX-512. A 1x1,
 * stride-1, unpadded convolution needs no im2col at all: the input is the
 * column matrix.
 */
#include <cblas.h>
#include <string.h>

#include "ops/cpu/conv_algos.h"

static int is_pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

size_t gemm_scratch(const conv_geom *g, conv_pass pass)
{
    (void)pass;
    return is_pointwise(g) ? 0 : (size_t)g->c * g->kh * g->kw * g->oh * g->ow;
}

/* The output columns [lo, hi) whose input column ox*stride - pad + j is inside. */
static void valid_columns(const conv_geom *g, int j, int *lo, int *hi)
{
    int first = g->pad - j; /* ox*stride >= first */
    *lo = first <= 0 ? 0 : (first + g->stride - 1) / g->stride;
    int last = g->w - 1 + g->pad - j; /* ox*stride <= last */
    *hi = last < 0 ? 0 : last / g->stride + 1;
    if (*hi > g->ow)
        *hi = g->ow;
    if (*lo > *hi)
        *lo = *hi;
}

static void im2col(const conv_geom *g, const float *x, float *col)
{
    int plane = g->oh * g->ow;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + (size_t)((c * g->kh + i) * g->kw + j) * plane;
                const float *xc = x + (size_t)c * g->h * g->w;
                int lo, hi;
                valid_columns(g, j, &lo, &hi);
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->stride - g->pad + i;
                    float *out = row + oy * g->ow;
                    if (iy < 0 || iy >= g->h) {
                        memset(out, 0, sizeof *out * g->ow);
                        continue;
                    }
                    const float *src = xc + (size_t)iy * g->w;
                    int x0 = j - g->pad; /* input column of ox = 0; x0 + lo*stride >= 0 */
                    memset(out, 0, sizeof *out * lo);
                    if (g->stride == 1)
                        memcpy(out + lo, src + (x0 + lo), sizeof *out * (hi - lo));
                    else
                        for (int ox = lo; ox < hi; ox++)
                            out[ox] = src[x0 + ox * g->stride];
                    memset(out + hi, 0, sizeof *out * (g->ow - hi));
                }
            }
}

/* dx += col2im(dcol) */
static void col2im(const conv_geom *g, const float *col, float *dx)
{
    int plane = g->oh * g->ow;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const float *row = col + (size_t)((c * g->kh + i) * g->kw + j) * plane;
                float *dxc = dx + (size_t)c * g->h * g->w;
                int lo, hi;
                valid_columns(g, j, &lo, &hi);
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->stride - g->pad + i;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    float *dst = dxc + (size_t)iy * g->w;
                    const float *in = row + oy * g->ow;
                    int x0 = j - g->pad;
                    for (int ox = lo; ox < hi; ox++)
                        dst[x0 + ox * g->stride] += in[ox];
                }
            }
}

/* The column matrix of image x: x itself for a pointwise convolution, else
 * im2col into scratch. */
static const float *columns(const conv_geom *g, const float *x, float *scratch)
{
    if (is_pointwise(g))
        return x;
    im2col(g, x, scratch);
    return scratch;
}

void gemm_forward_image(const conv_geom *g, const float *x, const float *w, const float *b,
                        float *y, float *scratch)
{
    int kdim = g->c * g->kh * g->kw, plane = g->oh * g->ow;
    const float *col = columns(g, x, scratch);
    for (int k = 0; k < g->k; k++) {
        float bias = b ? b[k] : 0.0f;
        for (int p = 0; p < plane; p++)
            y[(size_t)k * plane + p] = bias;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->k, plane, kdim, 1.0f, w, kdim, col,
                plane, 1.0f, y, plane);
}

void gemm_dx_image(const conv_geom *g, const float *w, const float *dy, float *dx,
                   float *scratch)
{
    int kdim = g->c * g->kh * g->kw, plane = g->oh * g->ow;
    /* a pointwise convolution's column matrix is dx itself */
    float *dcol = is_pointwise(g) ? dx : scratch;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kdim, plane, g->k, 1.0f, w, kdim, dy,
                plane, 0.0f, dcol, plane);
    if (dcol != dx) {
        memset(dx, 0, sizeof *dx * (size_t)g->c * g->h * g->w);
        col2im(g, dcol, dx);
    }
}

void gemm_dw_image(const conv_geom *g, const float *x, const float *dy, float *dw_part,
                   float *db_part, float *scratch)
{
    int kdim = g->c * g->kh * g->kw, plane = g->oh * g->ow;
    const float *col = columns(g, x, scratch);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->k, kdim, plane, 1.0f, dy, plane, col,
                plane, 1.0f, dw_part, kdim);
    for (int k = 0; k < g->k; k++) {
        float s = 0.0f;
        for (int p = 0; p < plane; p++)
            s += dy[(size_t)k * plane + p];
        db_part[k] += s;
    }
}

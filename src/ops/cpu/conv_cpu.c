/*
 * 2-D convolution on the CPU as im2col + GEMM, one sample per thread at a
 * time. Filter gradients are summed per thread and then reduced in thread
 * order, so results are the same for the same thread count.
 */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops/cpu/cpu.h"

static size_t col_floats(const conv_geom *g)
{
    return (size_t)g->c * g->kh * g->kw * g->oh * g->ow;
}

/* Per thread: col, dcol, dw, db. */
static size_t thread_floats(const conv_geom *g)
{
    size_t kdim = (size_t)g->c * g->kh * g->kw;
    return 2 * col_floats(g) + (size_t)g->k * kdim + (size_t)g->k;
}

size_t cpu_conv2d_workspace(const conv_geom *g) { return thread_floats(g) * cpu_threads(); }

static void im2col(const conv_geom *g, const float *x, float *col)
{
    int plane = g->oh * g->ow;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + (size_t)((c * g->kh + i) * g->kw + j) * plane;
                const float *xc = x + (size_t)c * g->h * g->w;
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->stride - g->pad + i;
                    float *out = row + oy * g->ow;
                    if (iy < 0 || iy >= g->h) {
                        memset(out, 0, sizeof *out * g->ow);
                        continue;
                    }
                    const float *xrow = xc + (size_t)iy * g->w;
                    for (int ox = 0; ox < g->ow; ox++) {
                        int ix = ox * g->stride - g->pad + j;
                        out[ox] = (ix >= 0 && ix < g->w) ? xrow[ix] : 0.0f;
                    }
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
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->stride - g->pad + i;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    float *dxrow = dxc + (size_t)iy * g->w;
                    const float *in = row + oy * g->ow;
                    for (int ox = 0; ox < g->ow; ox++) {
                        int ix = ox * g->stride - g->pad + j;
                        if (ix >= 0 && ix < g->w)
                            dxrow[ix] += in[ox];
                    }
                }
            }
}

void cpu_conv2d_forward(const conv_geom *g, const float *x, const float *w, const float *b,
                        float *y, float *workspace)
{
    int kdim = g->c * g->kh * g->kw, plane = g->oh * g->ow;
    size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->k * plane;
#pragma omp parallel num_threads(cpu_threads())
    {
        float *col = workspace + thread_floats(g) * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int n = 0; n < g->n; n++) {
            float *yn = y + out_size * n;
            im2col(g, x + in_size * n, col);
            for (int k = 0; k < g->k; k++) {
                float bias = b ? b[k] : 0.0f;
                for (int p = 0; p < plane; p++)
                    yn[(size_t)k * plane + p] = bias;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->k, plane, kdim, 1.0f, w,
                        kdim, col, plane, 1.0f, yn, plane);
        }
    }
}

void cpu_conv2d_backward(const conv_geom *g, const float *x, const float *w, const float *dy,
                         float *dx, float *dw, float *db, float *workspace)
{
    int kdim = g->c * g->kh * g->kw, plane = g->oh * g->ow;
    size_t in_size = (size_t)g->c * g->h * g->w, out_size = (size_t)g->k * plane;
    size_t wsize = (size_t)g->k * kdim;
    int threads = cpu_threads();
#pragma omp parallel num_threads(threads)
    {
        float *col = workspace + thread_floats(g) * omp_get_thread_num();
        float *dcol = col + col_floats(g);
        float *dw_t = dcol + col_floats(g);
        float *db_t = dw_t + wsize;
        int used = omp_get_num_threads(); /* may be fewer than asked for */
        memset(dw_t, 0, sizeof *dw_t * (wsize + g->k));
#pragma omp for schedule(static)
        for (int n = 0; n < g->n; n++) {
            const float *dyn = dy + out_size * n;
            im2col(g, x + in_size * n, col);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->k, kdim, plane, 1.0f, dyn,
                        plane, col, plane, 1.0f, dw_t, kdim);
            for (int k = 0; k < g->k; k++) {
                float s = 0.0f;
                for (int p = 0; p < plane; p++)
                    s += dyn[(size_t)k * plane + p];
                db_t[k] += s;
            }
            if (dx) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kdim, plane, g->k, 1.0f, w,
                            kdim, dyn, plane, 0.0f, dcol, plane);
                float *dxn = dx + in_size * n;
                memset(dxn, 0, sizeof *dxn * in_size);
                col2im(g, dcol, dxn);
            }
        }
        /* Reduce the per-thread sums in thread order (deterministic). */
#pragma omp for schedule(static)
        for (size_t i = 0; i < wsize + (size_t)g->k; i++) {
            float s = 0.0f;
            for (int t = 0; t < used; t++)
                s += workspace[thread_floats(g) * t + 2 * col_floats(g) + i];
            if (i < wsize)
                dw[i] += s;
            else if (db)
                db[i - wsize] += s;
        }
    }
}

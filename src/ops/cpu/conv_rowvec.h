/*
 * CONV_ROWVEC's pieces shared by its kernels (conv_rowvec.c) and its pooled
 * variant (conv_rowvec_pool.c): tile sizes, the padded and flat layouts, the
 * forward tile's sums, and the filter gradient of one sample given a way to
 * write its flat dy.
 */
#ifndef SOMA_OPS_CPU_CONV_ROWVEC_H
#define SOMA_OPS_CPU_CONV_ROWVEC_H

#include <stddef.h>
#include <stdint.h>

#include "ops/backend.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

/* Output channels per tile: the candidate that wastes the fewest, larger first. */
static inline int rowvec_pick_block(int outs, const int *cands, int ncands)
{
    int best = cands[0], waste = 1 << 30;
    for (int i = 0; i < ncands; i++) {
        int w = (outs + cands[i] - 1) / cands[i] * cands[i] - outs;
        if (w < waste)
            best = cands[i], waste = w;
    }
    return best;
}

static inline int rowvec_fwd_block(int outs)
{
    static const int cands[] = {8, 6, 4, 3, 2};
    return rowvec_pick_block(outs, cands, 5);
}

/* Row stride of the padded copy: every vector load of every tap stays inside. */
static inline int rowvec_row_stride(const conv_geom *g)
{
    return round16((g->ow + 15) / 16 * 16 + g->kw - 1);
}

/* Rows per tile for OB channels and NV vectors: about 24 accumulators, and
 * OB broadcast weights beside them in the 32 vector registers. */
static inline int rowvec_tile_rows(int ob, int nv)
{
    int acc = (ob == 8 ? 16 : 24) / (ob * nv);
    return acc < 1 ? 1 : acc;
}

/* The flat layout of the filter gradient: row stride, rows and plane size
 * of the padded input, and the length of the flat pixel range (dy's rows in
 * that stride, rounded up to whole vectors). */
typedef struct flat_geom {
    int stride, rows;
    size_t plane, npix;
} flat_geom;

static inline flat_geom rowvec_flat(const conv_geom *g)
{
    flat_geom f;
    f.stride = g->w + 2 * g->pad;
    f.rows = g->h + 2 * g->pad + 1; /* + 1: the last vector's overrun stays in zeros */
    f.plane = round16z((size_t)f.rows * f.stride + 16);
    f.npix = round16z((size_t)g->oh * f.stride);
    return f;
}

/* Writes one sample's dy into the flat layout f (rows of f->stride, zeros
 * past each row's ow values and past the last row, up to f->npix per
 * filter) and adds each filter's sum over its flat vectors, in order, to
 * its 16 lanes of bias_part. */
typedef void (*rowvec_dy_writer)(const void *arg, const conv_geom *g, const flat_geom *f,
                                 float *dyp, float *bias_part);

/* rowvec_dw_image with dy written by `write(arg, ...)`. */
void rowvec_dw_image_with(const conv_geom *g, const float *x, rowvec_dy_writer write,
                          const void *arg, float *part, float *scratch);

/* The pooled variants (conv_rowvec_pool.c), for a stride-1 layer whose
 * forward and filter-gradient passes are rowvec's: the forward pass gives
 * y and argmax as maxpool_forward does (scratch: rowvec_scratch's forward),
 * the filter gradient takes the pooled dy and that argmax (scratch: its
 * filter gradient's). */
int rowvec_pool_supported(const conv_geom *g);
void rowvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                               int has_bias, const float *x, float *y, int32_t *argmax,
                               float *scratch);
void rowvec_pool_dw_image(const conv_geom *g, const pool_geom *p, const float *x,
                          const float *dy, const int32_t *argmax, float *part, float *scratch);

#if SIMD_AVX512

/* The accumulators of a tile of YB rows x OB channels x NV vectors from
 * output row oy0, column x0, the bias included. */
AVX512_INLINE void fwd_sums(const float *xr, size_t xplane, int ws, int h, int ins, int kh,
                            int kw, int pad, const float *wob, const float *bias, int oy0,
                            int rows, int x0, __m512 acc[12][8][2], const int OB, const int NV,
                            const int YB)
{
SIMD_UNROLL(12)
    for (int r = 0; r < YB; r++)
SIMD_UNROLL(8)
        for (int o = 0; o < OB; o++)
SIMD_UNROLL(2)
            for (int v = 0; v < NV; v++)
                acc[r][o][v] = bias ? _mm512_set1_ps(bias[o]) : _mm512_setzero_ps();
    for (int c = 0; c < ins; c++)
        for (int i = 0; i < kh; i++) {
            /* tile rows whose input row oy0 + yb - pad + i exists */
            int first = pad - i - oy0, last = h + pad - i - oy0; /* yb in [first, last) */
            if (first < 0)
                first = 0;
            if (last > rows)
                last = rows;
            if (first >= last)
                continue;
            /* input row of tile row yb: r0 + yb, in range for yb in [first, last) */
            const float *xc = xr + c * xplane + x0;
            int r0 = oy0 - pad + i;
            const float *wt = wob + (size_t)(c * kh + i) * kw * OB;
            for (int j = 0; j < kw; j++, wt += OB) {
                /* one tap: OB weights in registers, reused by every row */
                __m512 wb[8];
SIMD_UNROLL(8)
                for (int o = 0; o < OB; o++)
                    wb[o] = _mm512_set1_ps(wt[o]);
SIMD_UNROLL(12)
                for (int yb = 0; yb < YB; yb++) {
                    if (yb < first || yb >= last)
                        continue;
SIMD_UNROLL(2)
                    for (int v = 0; v < NV; v++) {
                        __m512 in = _mm512_loadu_ps(xc + (size_t)(r0 + yb) * ws + 16 * v + j);
SIMD_UNROLL(8)
                        for (int o = 0; o < OB; o++)
                            acc[yb][o][v] = _mm512_fmadd_ps(in, wb[o], acc[yb][o][v]);
                    }
                }
            }
        }
}

#endif /* SIMD_AVX512 */

#endif

/*
 * CONV_ROWVEC: direct stride-1 convolution with 16 output pixels of a row in
 * one AVX-512 vector, for layers with few output channels (LeNet's 6@5x5 on
 * one input channel, where a GEMM has K = 25 and a 16-channel vector would
 * be mostly empty). A tile is OB channels x YB rows x NV vectors; for each
 * input row and tap column the shifted input vectors are loaded once and
 * multiplied by broadcast weights into every output row they reach. The
 * input is copied once per sample into rows padded left and right; rows
 * above and below are skipped rather than padded.
 *
 * The filter gradient is a set of dot products over the pixels of dy and the
 * shifted input rows, kept as 16-lane partial sums and added up at the end.
 */
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

/* Output channels per tile: the candidate that wastes the fewest, larger first. */
static int pick_block(int outs, const int *cands, int ncands)
{
    int best = cands[0], waste = 1 << 30;
    for (int i = 0; i < ncands; i++) {
        int w = (outs + cands[i] - 1) / cands[i] * cands[i] - outs;
        if (w < waste)
            best = cands[i], waste = w;
    }
    return best;
}

static int fwd_block(int outs)
{
    static const int cands[] = {8, 6, 4, 3, 2};
    return pick_block(outs, cands, 5);
}

static int dw_block(int kw, int outs)
{
    static const int k3[] = {6, 4}, k5[] = {4, 3};
    return kw == 3 ? pick_block(outs, k3, 2) : pick_block(outs, k5, 2);
}

/* Row stride of the padded copy: every vector load of every tap stays inside. */
static int row_stride(const conv_geom *g) { return round16((g->ow + 15) / 16 * 16 + g->kw - 1); }

size_t rowvec_shared(const conv_geom *g)
{
    int ob = fwd_block(g->k), outs = (g->k + ob - 1) / ob * ob;
    return round16z((size_t)outs * g->c * g->kh * g->kw + outs);
}

size_t rowvec_scratch(const conv_geom *g, conv_pass pass)
{
    (void)pass;
    return round16z((size_t)g->c * g->h * row_stride(g));
}

size_t rowvec_dw_part(const conv_geom *g)
{
    return ((size_t)g->k * g->c * g->kh * g->kw + g->k) * 16;
}

void rowvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                 float *packed)
{
    int outs = g->k, ins = g->c, kk = g->kh * g->kw, ob_n = fwd_block(outs);
    int nob = (outs + ob_n - 1) / ob_n;
    for (int ob = 0; ob < nob; ob++)
        for (int i = 0; i < ins; i++)
            for (int t = 0; t < kk; t++) {
                float *dst = packed + (((size_t)ob * ins + i) * kk + t) * ob_n;
                for (int l = 0; l < ob_n; l++) {
                    int o = ob * ob_n + l;
                    dst[l] = o >= outs ? 0.0f
                             : transposed ? w[((size_t)i * outs + o) * kk + (kk - 1 - t)]
                                          : w[((size_t)o * ins + i) * kk + t];
                }
            }
    float *bias = packed + (size_t)nob * ob_n * ins * kk;
    for (int o = 0; o < nob * ob_n; o++)
        bias[o] = (b && o < outs) ? b[o] : 0.0f;
}

/* Rows per tile for OB channels and NV vectors: about 24 accumulators, and
 * OB broadcast weights beside them in the 32 vector registers. */
static int tile_rows(int ob, int nv)
{
    int acc = (ob == 8 ? 16 : 24) / (ob * nv);
    return acc < 1 ? 1 : acc;
}

int rowvec_dw_supported(const conv_geom *g) { return g->kw == 3 || g->kw == 5; }

#if SIMD_AVX512

AVX512_INLINE void fwd_tile(const float *xr, size_t xplane, int ws, int h, int ins, int kh,
                            int kw, int pad, const float *wob, const float *bias, float *y,
                            size_t oplane, int ow, int oy0, int rows, int x0, int no,
                            const int OB, const int NV, const int YB)
{
    __m512 acc[12][8][2];
#pragma GCC unroll 12
    for (int r = 0; r < YB; r++)
#pragma GCC unroll 8
        for (int o = 0; o < OB; o++)
#pragma GCC unroll 2
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
#pragma GCC unroll 8
                for (int o = 0; o < OB; o++)
                    wb[o] = _mm512_set1_ps(wt[o]);
#pragma GCC unroll 12
                for (int yb = 0; yb < YB; yb++) {
                    if (yb < first || yb >= last)
                        continue;
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++) {
                        __m512 in = _mm512_loadu_ps(xc + (size_t)(r0 + yb) * ws + 16 * v + j);
#pragma GCC unroll 8
                        for (int o = 0; o < OB; o++)
                            acc[yb][o][v] = _mm512_fmadd_ps(in, wb[o], acc[yb][o][v]);
                    }
                }
            }
        }
#pragma GCC unroll 12
    for (int yb = 0; yb < YB; yb++) {
        if (yb >= rows)
            break;
#pragma GCC unroll 8
        for (int o = 0; o < OB; o++) {
            if (o >= no)
                break;
            float *out = y + o * oplane + (size_t)(oy0 + yb) * ow + x0;
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                _mm512_mask_storeu_ps(out + 16 * v, lanes(ow - x0 - 16 * v), acc[yb][o][v]);
        }
    }
}

typedef void (*fwd_tile_fn)(const float *, size_t, int, int, int, int, int, int, const float *,
                            const float *, float *, size_t, int, int, int, int, int);
#define FWD_TILE(OB, NV, YB)                                                                \
    static AVX512_FN void fwd_tile_##OB##_##NV(                                             \
        const float *xr, size_t xplane, int ws, int h, int ins, int kh, int kw, int pad,    \
        const float *wob, const float *bias, float *y, size_t oplane, int ow, int oy0,      \
        int rows, int x0, int no)                                                           \
    {                                                                                       \
        fwd_tile(xr, xplane, ws, h, ins, kh, kw, pad, wob, bias, y, oplane, ow, oy0, rows,  \
                 x0, no, OB, NV, YB);                                                       \
    }
FWD_TILE(8, 1, 2) FWD_TILE(6, 1, 4) FWD_TILE(4, 1, 6) FWD_TILE(3, 1, 8) FWD_TILE(2, 1, 12)
FWD_TILE(8, 2, 1) FWD_TILE(6, 2, 2) FWD_TILE(4, 2, 3) FWD_TILE(3, 2, 4) FWD_TILE(2, 2, 6)

static fwd_tile_fn fwd_tile_for(int ob, int nv)
{
    switch (ob) {
    case 8: return nv == 1 ? fwd_tile_8_1 : fwd_tile_8_2;
    case 6: return nv == 1 ? fwd_tile_6_1 : fwd_tile_6_2;
    case 4: return nv == 1 ? fwd_tile_4_1 : fwd_tile_4_2;
    case 3: return nv == 1 ? fwd_tile_3_1 : fwd_tile_3_2;
    default: return nv == 1 ? fwd_tile_2_1 : fwd_tile_2_2;
    }
}

void rowvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                          const float *x, float *y, float *scratch)
{
    int ins = g->c, outs = g->k, kk = g->kh * g->kw, ws = row_stride(g);
    int ob_n = fwd_block(outs), nob = (outs + ob_n - 1) / ob_n;
    pad_planes(x, ins, g->h, g->w, 0, g->pad, g->h, ws, scratch);
    size_t xplane = (size_t)g->h * ws, oplane = (size_t)g->oh * g->ow;
    for (int ob = 0; ob < nob; ob++) {
        const float *wob = packed + (size_t)ob * ob_n * ins * kk;
        const float *bias = has_bias ? packed + (size_t)nob * ob_n * ins * kk + ob * ob_n : NULL;
        int no = outs - ob * ob_n < ob_n ? outs - ob * ob_n : ob_n;
        float *yo = y + (size_t)ob * ob_n * oplane;
        for (int x0 = 0; x0 < g->ow; x0 += 32) {
            int nv = g->ow - x0 > 16 ? 2 : 1, yb = tile_rows(ob_n, nv);
            fwd_tile_fn tile = fwd_tile_for(ob_n, nv);
            for (int oy0 = 0; oy0 < g->oh; oy0 += yb) {
                int rows = g->oh - oy0 < yb ? g->oh - oy0 : yb;
                tile(scratch, xplane, ws, g->h, ins, g->kh, g->kw, g->pad, wob, bias, yo,
                     oplane, g->ow, oy0, rows, x0, no);
            }
        }
    }
}

/* Partial filter gradients of OB filters x KK taps of one (channel, kernel
 * row), over one sample. */
AVX512_INLINE void dw_tile(const float *xc, int ws, int h, int pad, int i, const float *dy,
                           size_t oplane, int oh, int ow, int no, float *part,
                           size_t part_ostride, const int OB, const int KK)
{
    __m512 acc[6][5];
#pragma GCC unroll 6
    for (int o = 0; o < OB; o++)
#pragma GCC unroll 5
        for (int j = 0; j < KK; j++)
            acc[o][j] = _mm512_setzero_ps();
    int oy_lo = pad - i > 0 ? pad - i : 0, oy_hi = h + pad - i < oh ? h + pad - i : oh;
    for (int oy = oy_lo; oy < oy_hi; oy++) {
        const float *row = xc + (size_t)(oy - pad + i) * ws;
        const float *drow[6];
#pragma GCC unroll 6
        for (int o = 0; o < OB; o++)
            drow[o] = dy + (o < no ? o : no - 1) * oplane + (size_t)oy * ow;
        for (int x0 = 0; x0 < ow; x0 += 16) {
            __mmask16 m = lanes(ow - x0);
            __m512 d[6];
#pragma GCC unroll 6
            for (int o = 0; o < OB; o++)
                d[o] = _mm512_maskz_loadu_ps(m, drow[o] + x0);
#pragma GCC unroll 5
            for (int j = 0; j < KK; j++) {
                __m512 xv = _mm512_maskz_loadu_ps(m, row + x0 + j);
#pragma GCC unroll 6
                for (int o = 0; o < OB; o++)
                    acc[o][j] = _mm512_fmadd_ps(d[o], xv, acc[o][j]);
            }
        }
    }
#pragma GCC unroll 6
    for (int o = 0; o < OB; o++) {
        if (o >= no)
            break;
#pragma GCC unroll 5
        for (int j = 0; j < KK; j++) {
            float *p = part + o * part_ostride + j * 16;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[o][j]));
        }
    }
}

typedef void (*dw_tile_fn)(const float *, int, int, int, int, const float *, size_t, int, int,
                           int, float *, size_t);
#define DW_TILE(OB, KK)                                                                    \
    static AVX512_FN void dw_tile_##OB##_##KK(const float *xc, int ws, int h, int pad, int i, \
                                              const float *dy, size_t oplane, int oh, int ow, \
                                              int no, float *part, size_t part_ostride)      \
    {                                                                                       \
        dw_tile(xc, ws, h, pad, i, dy, oplane, oh, ow, no, part, part_ostride, OB, KK);     \
    }
DW_TILE(6, 3) DW_TILE(4, 3) DW_TILE(4, 5) DW_TILE(3, 5)

static dw_tile_fn dw_tile_for(int ob, int kw)
{
    if (kw == 3)
        return ob == 6 ? dw_tile_6_3 : dw_tile_4_3;
    return ob == 4 ? dw_tile_4_5 : dw_tile_3_5;
}

void rowvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                     float *scratch)
{
    int ws = row_stride(g), kk = g->kh * g->kw, ob_n = dw_block(g->kw, g->k);
    size_t xplane = (size_t)g->h * ws, oplane = (size_t)g->oh * g->ow;
    size_t ostride = (size_t)g->c * kk * 16;
    pad_planes(x, g->c, g->h, g->w, 0, g->pad, g->h, ws, scratch);
    dw_tile_fn tile = dw_tile_for(ob_n, g->kw);
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int o0 = 0; o0 < g->k; o0 += ob_n) {
                int no = g->k - o0 < ob_n ? g->k - o0 : ob_n;
                tile(scratch + c * xplane, ws, g->h, g->pad, i, dy + o0 * oplane, oplane, g->oh,
                     g->ow, no, part + o0 * ostride + ((size_t)c * kk + i * g->kw) * 16, ostride);
            }
    /* bias: lane sums of dy per filter */
    float *pb = part + (size_t)g->k * ostride;
    for (int o = 0; o < g->k; o++) {
        const float *d = dy + o * oplane;
        __m512 s = _mm512_loadu_ps(pb + o * 16);
        for (size_t p = 0; p < oplane; p += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(lanes((int)(oplane - p)), d + p));
        _mm512_storeu_ps(pb + o * 16, s);
    }
}

#else

void rowvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                          const float *x, float *y, float *scratch)
{
    (void)g, (void)packed, (void)has_bias, (void)x, (void)y, (void)scratch;
}

void rowvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                     float *scratch)
{
    (void)g, (void)x, (void)dy, (void)part, (void)scratch;
}

#endif

void rowvec_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                      int f0, int f1, float *dw, float *db)
{
    size_t taps = (size_t)g->c * g->kh * g->kw;
    for (int f = f0; f < f1; f++) {
        for (size_t t = 0; t < taps; t++) {
            float s = 0.0f;
            for (int p = 0; p < nparts; p++)
                for (int l = 0; l < 16; l++)
                    s += part0[stride * p + (f * taps + t) * 16 + l];
            dw[f * taps + t] += s;
        }
        if (db) {
            float s = 0.0f;
            for (int p = 0; p < nparts; p++)
                for (int l = 0; l < 16; l++)
                    s += part0[stride * p + (g->k * taps + f) * 16 + l];
            db[f] += s;
        }
    }
}

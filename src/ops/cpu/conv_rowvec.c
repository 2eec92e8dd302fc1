/*
 * CONV_ROWVEC: direct stride-1 convolution with 16 output pixels of a row in
 * one AVX-512 vector, for layers with few output channels (LeNet's 6@5x5 on
 * one input channel, where a GEMM has K = 25 and a 16-channel vector would
 * be mostly empty). A tile is OB channels x YB rows x NV vectors: for each
 * filter tap its OB weights are broadcast into registers once and reused by
 * every row of the tile (10 loads per 24 FMAs, where broadcasting from
 * memory needs 25). The input is copied once per sample into rows padded
 * left and right; rows above and below are skipped rather than padded.
 *
 * The filter gradient is a set of dot products over the pixels of dy and the
 * shifted input, kept as 16-lane partial sums and added up at the end. The
 * input and dy are copied with the same row stride (the padded width), so
 * that every tap is one constant offset and a tile is a single loop over
 * the whole plane: dy is zero in the extra columns, which makes their
 * products vanish (for finite inputs: a NaN or infinity there may reach
 * other taps' gradients, when training has diverged anyway).
 */
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/conv_rowvec.h"
#include "ops/cpu/simd.h"

/* filter-gradient tiles: OB filters x TT taps (OB + TT + OB*TT <= 31 registers) */
static int dw_block(int outs)
{
    static const int cands[] = {6, 4, 3, 2};
    return rowvec_pick_block(outs, cands, 4);
}

static int dw_taps(int ob) { return ob == 6 ? 4 : ob == 4 ? 5 : ob == 3 ? 7 : 10; }

size_t rowvec_shared(const conv_geom *g)
{
    int ob = rowvec_fwd_block(g->k), outs = (g->k + ob - 1) / ob * ob;
    return round16z((size_t)outs * g->c * g->kh * g->kw + outs);
}

size_t rowvec_scratch(const conv_geom *g, conv_pass pass)
{
    if (pass == CONV_DW) {
        flat_geom f = rowvec_flat(g);
        return (size_t)g->c * f.plane + (size_t)g->k * f.npix;
    }
    return round16z((size_t)g->c * g->h * rowvec_row_stride(g));
}

size_t rowvec_dw_part(const conv_geom *g)
{
    return ((size_t)g->k * g->c * g->kh * g->kw + g->k) * 16;
}

void rowvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                 float *packed)
{
    pack_filters(g, w, b, transposed, rowvec_fwd_block(g->k), packed);
}

int rowvec_dw_supported(const conv_geom *g) { return g->stride == 1; }

#if SIMD_AVX512

AVX512_INLINE void fwd_tile(const float *xr, size_t xplane, int ws, int h, int ins, int kh,
                            int kw, int pad, const float *wob, const float *bias, float *y,
                            size_t oplane, int ow, int oy0, int rows, int x0, int no,
                            const int OB, const int NV, const int YB)
{
    __m512 acc[12][8][2];
    fwd_sums(xr, xplane, ws, h, ins, kh, kw, pad, wob, bias, oy0, rows, x0, acc, OB, NV, YB);
SIMD_UNROLL(12)
    for (int yb = 0; yb < YB; yb++) {
        if (yb >= rows)
            break;
SIMD_UNROLL(8)
        for (int o = 0; o < OB; o++) {
            if (o >= no)
                break;
            float *out = y + o * oplane + (size_t)(oy0 + yb) * ow + x0;
SIMD_UNROLL(2)
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
    int ins = g->c, outs = g->k, kk = g->kh * g->kw, ws = rowvec_row_stride(g);
    int ob_n = rowvec_fwd_block(outs), nob = (outs + ob_n - 1) / ob_n;
    pad_planes(x, ins, g->h, g->w, 0, g->pad, g->h, ws, scratch);
    size_t xplane = (size_t)g->h * ws, oplane = (size_t)g->oh * g->ow;
    for (int ob = 0; ob < nob; ob++) {
        const float *wob = packed + (size_t)ob * ob_n * ins * kk;
        const float *bias = has_bias ? packed + (size_t)nob * ob_n * ins * kk + ob * ob_n : NULL;
        int no = outs - ob * ob_n < ob_n ? outs - ob * ob_n : ob_n;
        float *yo = y + (size_t)ob * ob_n * oplane;
        for (int x0 = 0; x0 < g->ow; x0 += 32) {
            int nv = g->ow - x0 > 16 ? 2 : 1, yb = rowvec_tile_rows(ob_n, nv);
            fwd_tile_fn tile = fwd_tile_for(ob_n, nv);
            for (int oy0 = 0; oy0 < g->oh; oy0 += yb) {
                int rows = g->oh - oy0 < yb ? g->oh - oy0 : yb;
                tile(scratch, xplane, ws, g->h, ins, g->kh, g->kw, g->pad, wob, bias, yo,
                     oplane, g->ow, oy0, rows, x0, no);
            }
        }
    }
}

/* Partial filter gradients of OB filters x TT taps (flat offsets) over the
 * flat pixel range of one sample. */
AVX512_INLINE void dw_tile(const float *xc, const float *dyp, size_t npix, const int *off,
                           int nt, int no, float *part, size_t part_ostride, const int OB,
                           const int TT)
{
    __m512 acc[6][10];
SIMD_UNROLL(6)
    for (int o = 0; o < OB; o++)
SIMD_UNROLL(10)
        for (int t = 0; t < TT; t++)
            acc[o][t] = _mm512_setzero_ps();
    const float *dyo[6];
SIMD_UNROLL(6)
    for (int o = 0; o < OB; o++) /* past the last filter: any row, results unused */
        dyo[o] = dyp + (o < no ? o : no - 1) * npix;
    const float *xt[10];
SIMD_UNROLL(10)
    for (int t = 0; t < TT; t++)
        xt[t] = xc + off[t < nt ? t : nt - 1];
    for (size_t q = 0; q < npix; q += 16) {
        __m512 d[6];
SIMD_UNROLL(6)
        for (int o = 0; o < OB; o++)
            d[o] = _mm512_load_ps(dyo[o] + q);
SIMD_UNROLL(10)
        for (int t = 0; t < TT; t++) {
            __m512 xv = _mm512_loadu_ps(xt[t] + q);
SIMD_UNROLL(6)
            for (int o = 0; o < OB; o++)
                acc[o][t] = _mm512_fmadd_ps(d[o], xv, acc[o][t]);
        }
    }
SIMD_UNROLL(6)
    for (int o = 0; o < OB; o++) {
        if (o >= no)
            break;
SIMD_UNROLL(10)
        for (int t = 0; t < TT; t++) {
            if (t >= nt)
                break;
            float *p = part + o * part_ostride + t * 16;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[o][t]));
        }
    }
}

typedef void (*dw_tile_fn)(const float *, const float *, size_t, const int *, int, int, float *,
                           size_t);
#define DW_TILE(OB, TT)                                                                    \
    static AVX512_FN void dw_tile_##OB##_##TT(const float *xc, const float *dyp, size_t npix, \
                                              const int *off, int nt, int no, float *part,  \
                                              size_t part_ostride)                          \
    {                                                                                       \
        dw_tile(xc, dyp, npix, off, nt, no, part, part_ostride, OB, TT);                    \
    }
DW_TILE(6, 4) DW_TILE(4, 5) DW_TILE(3, 7) DW_TILE(2, 10) DW_TILE(6, 1)

/* The tile for nt of a group's taps: an odd square kernel leaves one tap
 * over after groups of 4 (25 = 6 x 4 + 1), which the 6 x 1 tile takes
 * without 18 of 24 multiply-adds wasted (the same sums: each tap's
 * accumulators see the same products in the same order). */
static dw_tile_fn dw_tile_for(int ob, int nt)
{
    if (ob == 6)
        return nt == 1 ? dw_tile_6_1 : dw_tile_6_4;
    return ob == 4 ? dw_tile_4_5 : ob == 3 ? dw_tile_3_7 : dw_tile_2_10;
}

/* rowvec_dy_writer for a dy of the convolution's output shape. */
static AVX512_FN void flat_dy(const void *arg, const conv_geom *g, const flat_geom *f,
                              float *dyp, float *bias_part)
{
    const float *dy = arg;
    for (int o = 0; o < g->k; o++) {
        float *dst = dyp + o * f->npix;
        const float *src = dy + (size_t)o * g->oh * g->ow;
        __m512 s = _mm512_loadu_ps(bias_part + o * 16);
        for (int r = 0; r < g->oh; r++)
            for (int x0 = 0; x0 < f->stride; x0 += 16) {
                __m512 v = _mm512_maskz_loadu_ps(lanes(g->ow - x0), src + (size_t)r * g->ow + x0);
                _mm512_mask_storeu_ps(dst + (size_t)r * f->stride + x0, lanes(f->stride - x0), v);
                s = _mm512_add_ps(s, v);
            }
        for (size_t q = (size_t)g->oh * f->stride; q < f->npix; q++)
            dst[q] = 0.0f;
        _mm512_storeu_ps(bias_part + o * 16, s);
    }
}

void rowvec_dw_image_with(const conv_geom *g, const float *x, rowvec_dy_writer write,
                          const void *arg, float *part, float *scratch)
{
    flat_geom f = rowvec_flat(g);
    int kk = g->kh * g->kw, ob_n = dw_block(g->k), tt = dw_taps(ob_n);
    size_t ostride = (size_t)g->c * kk * 16;
    float *dyp = scratch + (size_t)g->c * f.plane;
    for (int c = 0; c < g->c; c++) {
        float *xc = scratch + c * f.plane;
        pad_planes(x + (size_t)c * g->h * g->w, 1, g->h, g->w, g->pad, g->pad, f.rows, f.stride,
                   xc);
        memset(xc + (size_t)f.rows * f.stride, 0,
               sizeof *xc * (f.plane - (size_t)f.rows * f.stride));
    }
    write(arg, g, &f, dyp, part + (size_t)g->k * ostride);
    int off[10];
    for (int c = 0; c < g->c; c++)
        for (int t0 = 0; t0 < kk; t0 += tt) {
            int nt = kk - t0 < tt ? kk - t0 : tt;
            for (int t = 0; t < nt; t++)
                off[t] = (t0 + t) / g->kw * f.stride + (t0 + t) % g->kw;
            dw_tile_fn tile = dw_tile_for(ob_n, nt);
            for (int o0 = 0; o0 < g->k; o0 += ob_n) {
                int no = g->k - o0 < ob_n ? g->k - o0 : ob_n;
                tile(scratch + c * f.plane, dyp + o0 * f.npix, f.npix, off, nt, no,
                     part + o0 * ostride + ((size_t)c * kk + t0) * 16, ostride);
            }
        }
}

void rowvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                     float *scratch)
{
    rowvec_dw_image_with(g, x, flat_dy, dy, part, scratch);
}

#else

void rowvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                          const float *x, float *y, float *scratch)
{
    (void)g, (void)packed, (void)has_bias, (void)x, (void)y, (void)scratch;
}

void rowvec_dw_image_with(const conv_geom *g, const float *x, rowvec_dy_writer write,
                          const void *arg, float *part, float *scratch)
{
    (void)g, (void)x, (void)write, (void)arg, (void)part, (void)scratch;
    (void)dw_block, (void)dw_taps;
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

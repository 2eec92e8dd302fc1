/*
 * CONV_CHANVEC: direct convolution with 16 output channels in one AVX-512
 * vector. A tile keeps 28 accumulators in registers: 14 output pixels of a
 * row x 32 channels (each broadcast input value then serves two vectors of
 * filters), or, for a last block of 16 channels, 2 rows x 14 pixels. For
 * every filter tap the weight vectors are loaded and each pixel's input
 * value is broadcast into them. No im2col: the input is read where it lies
 * (padded once per sample when pad > 0). Tiles are transposed 16x16 on the
 * way out to NCHW.
 *
 * The filter gradient is in conv_chanvec_dw.c.
 */
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_chanvec.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

#define TILE_W CHANVEC_TILE_W

size_t chanvec_shared(const conv_geom *g)
{
    size_t opad = (size_t)round16(g->k);
    return opad * g->c * g->kh * g->kw + opad;
}

size_t chanvec_scratch(const conv_geom *g, conv_pass pass)
{
    size_t padded = g->pad ? (size_t)g->c * (g->h + 2 * g->pad) * (g->w + 2 * g->pad) : 0;
    if (pass == CONV_DW)
        padded += (size_t)round16(g->k) * g->oh * g->ow; /* dy transposed */
    return round16z(padded);
}

void chanvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                  float *packed)
{
    pack_filters(g, w, b, transposed, 16, packed);
}

#if SIMD_AVX512

/* One tile: YB rows x XB pixels x 16 channels. */
AVX512_INLINE void fwd_tile(const float *in, size_t plane, int wp, int s, int ins, int kh,
                            int kw, const float *wpk, const float *bias16, float *out,
                            size_t oplane, int ow, int nf, const int XB, const int YB, const int S)
{
    __m512 acc[2][TILE_W];
    chanvec_fwd_sums(in, plane, wp, s, ins, kh, kw, wpk, bias16, acc, XB, YB, S);
SIMD_UNROLL(2)
    for (int y = 0; y < YB; y++)
        chanvec_store_transposed(acc[y], XB, out + (size_t)y * ow, oplane, nf);
}

typedef void (*fwd_tile_fn)(const float *, size_t, int, int, int, int, int, const float *,
                            const float *, float *, size_t, int, int);

#define FWD_TILE(XB, YB, S)                                                                 \
    static AVX512_FN void fwd_tile_##XB##_##YB##_##S(                                       \
        const float *in, size_t plane, int wp, int s, int ins, int kh, int kw,              \
        const float *wpk, const float *bias, float *out, size_t oplane, int ow, int nf)     \
    {                                                                                       \
        fwd_tile(in, plane, wp, s, ins, kh, kw, wpk, bias, out, oplane, ow, nf, XB, YB, S); \
    }
#define FWD_TILES(XB) FWD_TILE(XB, 1, 0) FWD_TILE(XB, 2, 0) FWD_TILE(XB, 1, 1) FWD_TILE(XB, 2, 1)
FWD_TILES(1) FWD_TILES(2) FWD_TILES(3) FWD_TILES(4) FWD_TILES(5) FWD_TILES(6) FWD_TILES(7)
FWD_TILES(8) FWD_TILES(9) FWD_TILES(10) FWD_TILES(11) FWD_TILES(12) FWD_TILES(13)
FWD_TILES(14)
#define FWD_ENTRY(XB)                                                                       \
    {{fwd_tile_##XB##_1_0, fwd_tile_##XB##_1_1}, {fwd_tile_##XB##_2_0, fwd_tile_##XB##_2_1}}
/* [XB - 1][YB - 1][stride is 1] */
static const fwd_tile_fn fwd_tiles[TILE_W][2][2] = {
    FWD_ENTRY(1), FWD_ENTRY(2), FWD_ENTRY(3), FWD_ENTRY(4), FWD_ENTRY(5),
    FWD_ENTRY(6), FWD_ENTRY(7), FWD_ENTRY(8), FWD_ENTRY(9), FWD_ENTRY(10),
    FWD_ENTRY(11), FWD_ENTRY(12), FWD_ENTRY(13), FWD_ENTRY(14)};

/* One row of XB pixels x 32 channels (two blocks of 16): each broadcast
 * input value serves both blocks. */
AVX512_INLINE void fwd_tile_pair(const float *in, size_t plane, int s, int ins, int kh, int kw,
                                 int wp, const float *wpk, size_t wstride, const float *bias32,
                                 float *out, size_t oplane, int nf, const int XB, const int S)
{
    __m512 acc[2][TILE_W];
    const int st = S ? 1 : s;
SIMD_UNROLL(2)
    for (int f = 0; f < 2; f++) {
        __m512 b = bias32 ? _mm512_loadu_ps(bias32 + 16 * f) : _mm512_setzero_ps();
SIMD_UNROLL(14)
        for (int x = 0; x < XB; x++)
            acc[f][x] = b;
    }
    for (int c = 0; c < ins; c++)
        for (int i = 0; i < kh; i++) {
            const float *r0 = in + c * plane + (size_t)i * wp;
            const float *wr = wpk + ((size_t)c * kh + i) * kw * 16;
            for (int j = 0; j < kw; j++) {
                __m512 w0 = _mm512_load_ps(wr + j * 16), w1 = _mm512_load_ps(wr + wstride + j * 16);
SIMD_UNROLL(14)
                for (int x = 0; x < XB; x++) {
                    __m512 b = _mm512_set1_ps(r0[x * st + j]);
                    acc[0][x] = _mm512_fmadd_ps(b, w0, acc[0][x]);
                    acc[1][x] = _mm512_fmadd_ps(b, w1, acc[1][x]);
                }
            }
        }
    chanvec_store_transposed(acc[0], XB, out, oplane, 16);
    chanvec_store_transposed(acc[1], XB, out + 16 * oplane, oplane, nf - 16);
}

typedef void (*pair_tile_fn)(const float *, size_t, int, int, int, int, int, const float *,
                             size_t, const float *, float *, size_t, int);
#define PAIR_TILE(XB, S)                                                                    \
    static AVX512_FN void pair_tile_##XB##_##S(                                             \
        const float *in, size_t plane, int s, int ins, int kh, int kw, int wp,              \
        const float *wpk, size_t wstride, const float *bias, float *out, size_t oplane,     \
        int nf)                                                                             \
    {                                                                                       \
        fwd_tile_pair(in, plane, s, ins, kh, kw, wp, wpk, wstride, bias, out, oplane, nf,   \
                      XB, S);                                                               \
    }
#define PAIR_TILES(XB) PAIR_TILE(XB, 0) PAIR_TILE(XB, 1)
PAIR_TILES(1) PAIR_TILES(2) PAIR_TILES(3) PAIR_TILES(4) PAIR_TILES(5) PAIR_TILES(6)
PAIR_TILES(7) PAIR_TILES(8) PAIR_TILES(9) PAIR_TILES(10) PAIR_TILES(11) PAIR_TILES(12)
PAIR_TILES(13) PAIR_TILES(14)
#define PAIR_ENTRY(XB) {pair_tile_##XB##_0, pair_tile_##XB##_1}
static const pair_tile_fn pair_tiles[TILE_W][2] = {
    PAIR_ENTRY(1), PAIR_ENTRY(2), PAIR_ENTRY(3), PAIR_ENTRY(4), PAIR_ENTRY(5),
    PAIR_ENTRY(6), PAIR_ENTRY(7), PAIR_ENTRY(8), PAIR_ENTRY(9), PAIR_ENTRY(10),
    PAIR_ENTRY(11), PAIR_ENTRY(12), PAIR_ENTRY(13), PAIR_ENTRY(14)};

AVX512_FN void chanvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                                     const float *x, float *y, float *scratch)
{
    int ins = g->c, outs = g->k, kk = g->kh * g->kw, s = g->stride;
    int hp = g->h + 2 * g->pad, wp = g->w + 2 * g->pad;
    const float *in = x;
    if (g->pad) {
        pad_planes(x, ins, g->h, g->w, g->pad, g->pad, hp, wp, scratch);
        in = scratch;
    }
    size_t plane = (size_t)hp * wp, oplane = (size_t)g->oh * g->ow;
    int nob = (outs + 15) / 16;
    int segs = (g->ow + TILE_W - 1) / TILE_W, xb = (g->ow + segs - 1) / segs;
    const float *bias = packed + (size_t)nob * 16 * ins * kk;
    size_t wstride = (size_t)ins * kk * 16; /* one block's packed filters */
    int ob = 0;
    for (; ob + 1 < nob; ob += 2) { /* 32 channels at a time, a row per tile */
        const float *bv = has_bias ? bias + ob * 16 : NULL;
        int nf = outs - ob * 16 < 32 ? outs - ob * 16 : 32;
        float *yo = y + (size_t)ob * 16 * oplane;
        for (int oy = 0; oy < g->oh; oy++)
            for (int x0 = 0; x0 < g->ow; x0 += xb) {
                int w_ = g->ow - x0 < xb ? g->ow - x0 : xb;
                pair_tiles[w_ - 1][s == 1](in + (size_t)oy * s * wp + (size_t)x0 * s, plane, s,
                                           ins, g->kh, g->kw, wp, packed + ob * wstride, wstride,
                                           bv, yo + (size_t)oy * g->ow + x0, oplane, nf);
            }
    }
    for (; ob < nob; ob++) {
        const float *wpk = packed + (size_t)ob * ins * kk * 16;
        const float *bv = has_bias ? bias + ob * 16 : NULL;
        int nf = outs - ob * 16 < 16 ? outs - ob * 16 : 16;
        float *yo = y + (size_t)ob * 16 * oplane;
        for (int oy = 0; oy < g->oh; oy += 2) {
            int rows = g->oh - oy < 2 ? 1 : 2;
            for (int x0 = 0; x0 < g->ow; x0 += xb) {
                int w_ = g->ow - x0 < xb ? g->ow - x0 : xb;
                fwd_tiles[w_ - 1][rows - 1][s == 1](
                    in + (size_t)oy * s * wp + (size_t)x0 * s, plane, wp, s, ins, g->kh, g->kw,
                    wpk, bv, yo + (size_t)oy * g->ow + x0, oplane, g->ow, nf);
            }
        }
    }
}

#else /* no AVX-512 at compile time: never chosen (conv_algo_usable says no) */

void chanvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                           const float *x, float *y, float *scratch)
{
    (void)g, (void)packed, (void)has_bias, (void)x, (void)y, (void)scratch;
}

#endif

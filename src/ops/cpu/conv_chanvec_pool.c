/*
 * CONV_CHANVEC's forward tiles with the 2x2 stride-2 max-pool after them
 * done in registers: backend.h's conv_pool_forward where the convolution's
 * forward pass is chanvec's (LeNet-5's second layer, 6x14x14 -> 16@5x5).
 * A tile of 2 rows x XB (even) pixels x 16 channels holds XB / 2 whole
 * windows with each channel in its own lane, so the pool is three compares
 * a window and only the XB / 2 pooled pixels and their argmax are
 * transposed to channel planes and stored: the 16x10x10 convolution output
 * of a LeNet-5 sample is never written, nor read back by the pool.
 *
 * The same bits as chanvec's forward then the pool (conv_pool_test): the
 * same sums (chanvec_fwd_sums), the pool kernels' rule (pool_simd.h).
 */
#include <stdint.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_chanvec.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/pool_simd.h"
#include "ops/cpu/simd.h"

int chanvec_pool_supported(const conv_geom *g)
{
    return g->k <= 16 && g->stride == 1; /* one block of filters, 2-row tiles */
}

/* Tile width: chanvec's, rounded up to whole windows (ow is even, so every
 * tile is too; an odd width is below CHANVEC_TILE_W, which is even). */
static int tile_width(const conv_geom *g)
{
    int segs = (g->ow + CHANVEC_TILE_W - 1) / CHANVEC_TILE_W, xb = (g->ow + segs - 1) / segs;
    return xb + (xb & 1);
}

#if SIMD_AVX512

/* One tile from conv output (oy, x0), oy and x0 even: at0 = oy * ow + x0,
 * the first window's first pixel in the convolution's plane. */
AVX512_INLINE void pool_tile(const float *in, size_t plane, int wp, int ins, int kh, int kw,
                             const float *wpk, const float *bias16, int relu, float *y,
                             int32_t *argmax, size_t pplane, int at0, int ow, int nf,
                             const int XB)
{
    __m512 acc[2][CHANVEC_TILE_W];
    chanvec_fwd_sums(in, plane, wp, 1, ins, kh, kw, wpk, bias16, acc, XB, 2, 1);
    __m512 best[CHANVEC_TILE_W / 2], arg[CHANVEC_TILE_W / 2];
SIMD_UNROLL(7)
    for (int q = 0; q < XB / 2; q++) {
        __m512i at = _mm512_set1_epi32(at0 + 2 * q), a = at;
        __m512 b = acc[0][2 * q];
        window_2x2_max(acc[0][2 * q + 1], acc[1][2 * q], acc[1][2 * q + 1],
                       _mm512_add_epi32(at, _mm512_set1_epi32(1)),
                       _mm512_add_epi32(at, _mm512_set1_epi32(ow)),
                       _mm512_add_epi32(at, _mm512_set1_epi32(ow + 1)), relu, &b, &a);
        best[q] = b;
        arg[q] = _mm512_castsi512_ps(a); /* moved bit for bit by the transpose */
    }
    chanvec_store_transposed(best, XB / 2, y, pplane, nf);
    chanvec_store_transposed(arg, XB / 2, (float *)argmax, pplane, nf);
}

typedef void (*pool_tile_fn)(const float *, size_t, int, int, int, int, const float *,
                             const float *, int, float *, int32_t *, size_t, int, int, int);
#define POOL_TILE(XB)                                                                        \
    static AVX512_FN void pool_tile_##XB(const float *in, size_t plane, int wp, int ins,     \
                                         int kh, int kw, const float *wpk,                   \
                                         const float *bias16, int relu, float *y,            \
                                         int32_t *argmax, size_t pplane, int at0, int ow,    \
                                         int nf)                                             \
    {                                                                                        \
        pool_tile(in, plane, wp, ins, kh, kw, wpk, bias16, relu, y, argmax, pplane, at0, ow, \
                  nf, XB);                                                                   \
    }
POOL_TILE(2) POOL_TILE(4) POOL_TILE(6) POOL_TILE(8) POOL_TILE(10) POOL_TILE(12) POOL_TILE(14)
/* [XB / 2 - 1] */
static const pool_tile_fn pool_tiles[CHANVEC_TILE_W / 2] = {
    pool_tile_2, pool_tile_4, pool_tile_6, pool_tile_8, pool_tile_10, pool_tile_12, pool_tile_14};

void chanvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                                int has_bias, const float *x, float *y, int32_t *argmax,
                                float *scratch)
{
    int ins = g->c, kk = g->kh * g->kw;
    int hp = g->h + 2 * g->pad, wp = g->w + 2 * g->pad;
    const float *in = x;
    if (g->pad) {
        pad_planes(x, ins, g->h, g->w, g->pad, g->pad, hp, wp, scratch);
        in = scratch;
    }
    size_t plane = (size_t)hp * wp, pplane = (size_t)p->oh * p->ow;
    int nf = g->k, xb = tile_width(g); /* one block: chanvec_pool_supported */
    const float *bias = has_bias ? packed + (size_t)16 * ins * kk : NULL;
    for (int oy = 0; oy < g->oh; oy += 2)
        for (int x0 = 0; x0 < g->ow; x0 += xb) {
            int w_ = g->ow - x0 < xb ? g->ow - x0 : xb;
            size_t out = (size_t)oy / 2 * p->ow + x0 / 2;
            pool_tiles[w_ / 2 - 1](in + (size_t)oy * wp + x0, plane, wp, ins, g->kh, g->kw,
                                   packed, bias, p->relu, y + out, argmax + out, pplane,
                                   oy * g->ow + x0, g->ow, nf);
        }
}

#else /* no AVX-512 at compile time: never chosen (cpu_conv_pool_supported says no) */

void chanvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                                int has_bias, const float *x, float *y, int32_t *argmax,
                                float *scratch)
{
    (void)g, (void)p, (void)packed, (void)has_bias, (void)x, (void)y, (void)argmax,
        (void)scratch;
    (void)tile_width;
}

#endif

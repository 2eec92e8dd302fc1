/*
 * CONV_CHANVEC's pieces shared by its forward kernel (conv_chanvec.c) and
 * its pooled variant (conv_chanvec_pool.c): a tile's sums and the 16x16
 * transpose that stores pixel vectors as channel planes.
 */
#ifndef SOMA_OPS_CPU_CONV_CHANVEC_H
#define SOMA_OPS_CPU_CONV_CHANVEC_H

#include <stddef.h>
#include <stdint.h>

#include "ops/backend.h"
#include "ops/cpu/simd.h"

#define CHANVEC_TILE_W 14 /* output pixels per tile row; 2 rows = 28 accumulators */

/* The pooled forward pass (conv_chanvec_pool.c): a layer of at most 16
 * filters, stride 1; y and argmax as maxpool_forward gives them, for one
 * sample, the filters packed by chanvec_pack, scratch chanvec_scratch's. */
int chanvec_pool_supported(const conv_geom *g);
void chanvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                                int has_bias, const float *x, float *y, int32_t *argmax,
                                float *scratch);

#if SIMD_AVX512

/* acc[r] holds 16 channels of pixel r: store channels [0, nf) of pixels [0, xb). */
AVX512_INLINE void chanvec_store_transposed(const __m512 *acc, int xb, float *out,
                                            size_t oplane, int nf)
{
    __m512 t[16];
    for (int r = 0; r < 16; r++)
        t[r] = r < xb ? acc[r] : _mm512_setzero_ps();
    transpose16(t);
    __mmask16 m = lanes(xb);
    for (int f = 0; f < nf; f++)
        _mm512_mask_storeu_ps(out + f * oplane, m, t[f]);
}

/* The sums of one tile, YB rows x XB pixels x 16 channels, the bias
 * included: `in` is the tile's first input pixel (row stride wp, plane
 * stride plane), wpk its block's packed filters. S = 1 fixes the stride at
 * 1 so that every broadcast address is a constant offset. */
AVX512_INLINE void chanvec_fwd_sums(const float *in, size_t plane, int wp, int s, int ins,
                                    int kh, int kw, const float *wpk, const float *bias16,
                                    __m512 acc[2][CHANVEC_TILE_W], const int XB, const int YB,
                                    const int S)
{
    const int st = S ? 1 : s;
    const __m512 bias = bias16 ? _mm512_loadu_ps(bias16) : _mm512_setzero_ps();
SIMD_UNROLL(2)
    for (int y = 0; y < YB; y++)
SIMD_UNROLL(14)
        for (int x = 0; x < XB; x++)
            acc[y][x] = bias;
    for (int c = 0; c < ins; c++)
        for (int i = 0; i < kh; i++) {
            const float *r0 = in + c * plane + (size_t)i * wp;
            const float *r1 = r0 + (size_t)st * wp;
            const float *wr = wpk + ((size_t)c * kh + i) * kw * 16;
            for (int j = 0; j < kw; j++) {
                __m512 wv = _mm512_load_ps(wr + j * 16);
SIMD_UNROLL(14)
                for (int x = 0; x < XB; x++) {
                    acc[0][x] = _mm512_fmadd_ps(_mm512_set1_ps(r0[x * st + j]), wv, acc[0][x]);
                    if (YB > 1)
                        acc[1][x] =
                            _mm512_fmadd_ps(_mm512_set1_ps(r1[x * st + j]), wv, acc[1][x]);
                }
            }
        }
}

#endif /* SIMD_AVX512 */

#endif

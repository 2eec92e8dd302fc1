/* The comparisons of the AVX-512 max-pooling kernels (pool_avx512.c,
 * pool_small_avx512.c): 16 windows at a time, the generic loop's rule
 * (pool_cpu.c: a later value wins if greater, or if NaN; with the ReLU
 * before the pool, pool_geom.relu). */
#ifndef SOMA_OPS_CPU_POOL_SIMD_H
#define SOMA_OPS_CPU_POOL_SIMD_H

#include "ops/cpu/simd.h"

#if SIMD_AVX512

/* pool_geom's ReLU before the pool: x > 0 ? x : +0, as relu_in_place */
AVX512_INLINE __m512 relu16(__m512 v)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
}

/* With that ReLU, a maximum that is not positive passes no gradient: argmax -1. */
AVX512_INLINE __m512i relu_argmax(__m512 best, __m512i arg)
{
    return _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(best, _mm512_setzero_ps(), _CMP_GT_OQ),
                                   _mm512_set1_epi32(-1), arg);
}

AVX512_INLINE void take_greater(__m512 v, __m512i at, __m512 *best, __m512i *arg)
{
    __mmask16 m = _mm512_cmp_ps_mask(v, *best, _CMP_GT_OQ);
    *best = _mm512_mask_blend_ps(m, *best, v);
    *arg = _mm512_mask_blend_epi32(m, *arg, at);
}

AVX512_INLINE void take(__m512 v, __m512i at, __m512 *best, __m512i *arg)
{
    __mmask16 m = _mm512_cmp_ps_mask(v, *best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    *best = _mm512_mask_blend_ps(m, *best, v);
    *arg = _mm512_mask_blend_epi32(m, *arg, at);
}

/* The maximum of each lane's 2x2 window, given its first candidate in
 * `best` (argmax `arg`) and the other three in scan order. */
AVX512_INLINE void window_2x2_max(__m512 c1, __m512 c2, __m512 c3, __m512i at1, __m512i at2,
                                  __m512i at3, int relu, __m512 *best, __m512i *arg)
{
    if (relu) {
        /* with the first candidate's ReLU (>= +0), a later raw value is
         * greater exactly when its ReLU is, and a NaN never is: the
         * ReLU'd window's maximum and first argmax */
        *best = relu16(*best);
        take_greater(c1, at1, best, arg);
        take_greater(c2, at2, best, arg);
        take_greater(c3, at3, best, arg);
        *arg = relu_argmax(*best, *arg);
    } else {
        take(c1, at1, best, arg);
        take(c2, at2, best, arg);
        take(c3, at3, best, arg);
    }
}

#endif /* SIMD_AVX512 */

#endif

/*
 * AVX-512 support for the CPU kernels: runtime detection and the helpers the
 * kernels share. Kernels are compiled for AVX-512 with a target attribute,
 * whatever -march says, and only run when cpu_has_avx512() is true: the
 * library stays portable and the portable path (im2col + BLAS) is the
 * fallback. SIMD_AVX512 is 1 where such kernels can be compiled at all.
 */
#ifndef SOMA_OPS_CPU_SIMD_H
#define SOMA_OPS_CPU_SIMD_H

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SIMD_AVX512 1
#else
#define SIMD_AVX512 0
#endif

/* 1 when the CPU and the OS support AVX-512 F/BW/DQ/VL (checked once), unless the
 * environment says SOMA_CPU=generic. */
int cpu_has_avx512(void);

#if SIMD_AVX512
#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))

/* GCC's -O3 predictive commoning turns the kernels' overlapping broadcast
 * loads into scalar values rotated through the stack: keep the loads. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-predictive-commoning")
#endif
#define AVX512_INLINE static inline __attribute__((always_inline)) AVX512_FN

/* Full unrolling turns the tile loops into register code. Sanitizer builds
 * skip it: there it only multiplies compile time (minutes per file). */
#if defined(SOMA_SANITIZE_BUILD)
#define SIMD_UNROLL(n)
#else
#define SIMD_PRAGMA(x) _Pragma(#x)
#define SIMD_UNROLL(n) SIMD_PRAGMA(GCC unroll n)
#endif

/* The lanes [0, n) of a 16-lane vector, n in 0..16. */
AVX512_INLINE __mmask16 lanes(int n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

/* In-place transpose of a 16x16 block held as 16 rows. */
AVX512_INLINE void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* t[2i]: a0 b0 a1 b1 | a4 b4 a5 b5 | ... per 128-bit lane (a = row 2i, b = 2i+1) */
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    /* r[4i+q]: column q (and q+4, q+8, q+12 in the upper 128-bit lanes) of rows 4i..4i+3 */
    for (int q = 0; q < 4; q++) {
        __m512 a = r[q], b = r[4 + q], c = r[8 + q], d = r[12 + q];
        __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44), ab_hi = _mm512_shuffle_f32x4(a, b, 0xee);
        __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x44), cd_hi = _mm512_shuffle_f32x4(c, d, 0xee);
        t[q] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);
        t[4 + q] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xdd);
        t[8 + q] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xdd);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

/* Sum of the 16 lanes in a fixed order (a tree), the same on every call. */
AVX512_INLINE float hsum16(__m512 v)
{
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* acc + a * b in the accumulator's own register: as an intrinsic, GCC picks
 * the 132/213 forms and then copies accumulators between registers (about
 * one vmovaps per three FMAs in the batch-lane tiles) */
AVX512_INLINE __m512 fma231(__m512 acc, __m512 a, __m512 b)
{
    __asm__("vfmadd231ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

/* Batch-lane layout back to samples: `elems` floats as [elems][16 lanes]
 * at src to `ns` samples `stride` floats apart at dst. */
AVX512_INLINE void from_lanes(const float *src, int elems, int ns, float *dst, size_t stride)
{
    for (int e = 0; e < elems; e += 16) {
        int cnt = elems - e < 16 ? elems - e : 16;
        __mmask16 m = lanes(cnt);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < cnt ? _mm512_loadu_ps(src + (size_t)(e + i) * 16) : _mm512_setzero_ps();
        transpose16(r);
        for (int s = 0; s < ns; s++)
            _mm512_mask_storeu_ps(dst + stride * s + e, m, r[s]);
    }
}
#endif

#endif

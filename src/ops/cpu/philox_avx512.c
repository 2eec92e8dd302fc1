/*
 * Philox4x32-10 (Salmon et al. 2011) on 16 counters at once: lane l of the
 * four state vectors is block first + l. The 32x32 -> 64-bit products come
 * from _mm512_mul_epu32 on the even lanes and on the odd lanes shifted
 * down; the low halves from _mm512_mullo_epi32. A 4x16 transpose puts the
 * words back in block order, so the output is rng_block's.
 */
#include "ops/cpu/philox.h"

#include "core/rng.h"
#include "ops/cpu/simd.h"

void philox_words_portable(const uint32_t key[2], uint64_t stream, uint64_t first, size_t count,
                           uint32_t *out)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t c = first + i;
        uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), (uint32_t)stream,
                           (uint32_t)(stream >> 32)};
        rng_philox4x32_10(key, ctr, out + 4 * i);
    }
}

#if SIMD_AVX512

/* The high 32 bits of the 64-bit products a x m, lane by lane. */
AVX512_INLINE __m512i mulhi_epu32(__m512i a, __m512i m)
{
    __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(a, m), 32);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, odd);
}

/* 16 blocks from `first`: 64 words in block order */
static AVX512_FN void blocks16(const uint32_t key[2], uint64_t stream, uint64_t first,
                               uint32_t *out)
{
    const __m512i m0 = _mm512_set1_epi32((int)0xD2511F53u), m1 = _mm512_set1_epi32((int)0xCD9E8D57u);
    /* counters first + l as 64-bit sums, split into low and high words */
    __m512i lo8 = _mm512_add_epi64(_mm512_set1_epi64((long long)first),
                                   _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
    __m512i hi8 = _mm512_add_epi64(lo8, _mm512_set1_epi64(8));
    const __m512i lo_words = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                               28, 30);
    const __m512i hi_words = _mm512_add_epi32(lo_words, _mm512_set1_epi32(1));
    __m512i c0 = _mm512_permutex2var_epi32(lo8, lo_words, hi8);
    __m512i c1 = _mm512_permutex2var_epi32(lo8, hi_words, hi8);
    __m512i c2 = _mm512_set1_epi32((int)(uint32_t)stream);
    __m512i c3 = _mm512_set1_epi32((int)(uint32_t)(stream >> 32));
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        __m512i hi0 = mulhi_epu32(c0, m0), lo0 = _mm512_mullo_epi32(c0, m0);
        __m512i hi1 = mulhi_epu32(c2, m1), lo1 = _mm512_mullo_epi32(c2, m1);
        c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32((int)k0));
        c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32((int)k1));
        c1 = lo1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    /* 4x4 transposes within 128-bit lanes: u0 holds blocks 0, 4, 8, 12 ... */
    __m512i t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    __m512i t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    /* ... then the 128-bit lanes in block order */
    __m512i a = _mm512_shuffle_i32x4(u0, u1, 0x44), b = _mm512_shuffle_i32x4(u2, u3, 0x44);
    __m512i c = _mm512_shuffle_i32x4(u0, u1, 0xee), d = _mm512_shuffle_i32x4(u2, u3, 0xee);
    _mm512_storeu_si512(out, _mm512_shuffle_i32x4(a, b, 0x88));
    _mm512_storeu_si512(out + 16, _mm512_shuffle_i32x4(a, b, 0xdd));
    _mm512_storeu_si512(out + 32, _mm512_shuffle_i32x4(c, d, 0x88));
    _mm512_storeu_si512(out + 48, _mm512_shuffle_i32x4(c, d, 0xdd));
}

void philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t count,
                  uint32_t *out)
{
    size_t i = 0;
    if (cpu_has_avx512())
        for (; i + 16 <= count; i += 16)
            blocks16(key, stream, first + i, out + 4 * i);
    philox_words_portable(key, stream, first + i, count - i, out + 4 * i);
}

#else

void philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t count,
                  uint32_t *out)
{
    philox_words_portable(key, stream, first, count, out);
}

#endif

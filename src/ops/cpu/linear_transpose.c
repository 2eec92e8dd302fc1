/* The transpose back of linear_transpose.h: 16x16 blocks in registers (AVX-512). */
#include "ops/cpu/linear_transpose.h"

#include "ops/cpu/simd.h"

static void store_portable(const float *yt, int units, int n, const float *b, int relu,
                           float *y, size_t ldy)
{
    for (int r = 0; r < n; r++)
        for (int i = 0; i < units; i++) {
            float v = yt[(size_t)i * n + r] + (b ? b[i] : 0.0f);
            y[(size_t)r * ldy + i] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
}

#if SIMD_AVX512

/* Units [i0, i0 + 16) of samples [r0, r0 + 16), both clipped at the edges:
 * rows past the units are zeros, lanes past the samples are never stored. */
static AVX512_FN void store_block(const float *yt, int units, int n, const float *b, int relu,
                                  float *y, size_t ldy, int i0, int r0)
{
    int ni = units - i0 < 16 ? units - i0 : 16, nr = n - r0 < 16 ? n - r0 : 16;
    __mmask16 mr = lanes(nr), mi = lanes(ni);
    __m512 v[16];
    for (int i = 0; i < 16; i++)
        v[i] = i < ni ? _mm512_maskz_loadu_ps(mr, yt + (size_t)(i0 + i) * n + r0)
                      : _mm512_setzero_ps();
    transpose16(v);
    /* + 0 where there is no bias, as the portable loop (-0 becomes +0) */
    __m512 bias = b ? _mm512_maskz_loadu_ps(mi, b + i0) : _mm512_setzero_ps();
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < nr; r++) {
        __m512 s = _mm512_add_ps(v[r], bias);
        if (relu)
            s = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(s, zero, _CMP_GT_OQ), s);
        _mm512_mask_storeu_ps(y + (size_t)(r0 + r) * ldy + i0, mi, s);
    }
}

static AVX512_FN void store_avx512(const float *yt, int units, int n, const float *b, int relu,
                                   float *y, size_t ldy)
{
    for (int r0 = 0; r0 < n; r0 += 16)
        for (int i0 = 0; i0 < units; i0 += 16)
            store_block(yt, units, n, b, relu, y, ldy, i0, r0);
}

#endif

void linear_store_transposed(const float *yt, int units, int n, const float *b, int relu,
                             float *y, size_t ldy)
{
#if SIMD_AVX512
    if (cpu_has_avx512()) {
        store_avx512(yt, units, n, b, relu, y, ldy);
        return;
    }
#endif
    store_portable(yt, units, n, b, relu, y, ldy);
}

/* The fused ReLU's loops (relu_fused.h): AVX-512 where the CPU has it. */
#include "ops/cpu/relu_fused.h"

#include "ops/cpu/simd.h"

static void relu_in_place_portable(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* dy is read unconditionally: read only where y > 0, gcc vectorises it as a
 * masked load whose other lanes it carries through the stack, a
 * store-to-load round trip every 16 values. */
static void relu_mask_portable(const float *y, const float *dy, float *dz, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = dy[i];
        dz[i] = y[i] > 0.0f ? d : 0.0f;
    }
}

#if SIMD_AVX512

/* maskz keeps the lanes where y > 0 (ordered: NaN is not) and writes +0 elsewhere */
static AVX512_FN void relu_in_place_avx512(float *y, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i < 16 ? (int)(n - i) : 16);
        __m512 v = _mm512_maskz_loadu_ps(m, y + i);
        _mm512_mask_storeu_ps(y + i, m,
                              _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v));
    }
}

static AVX512_FN void relu_mask_avx512(const float *y, const float *dy, float *dz, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i < 16 ? (int)(n - i) : 16);
        __mmask16 pos = _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, y + i), zero, _CMP_GT_OQ);
        _mm512_mask_storeu_ps(dz + i, m, _mm512_maskz_loadu_ps(m & pos, dy + i));
    }
}

void relu_in_place(float *y, size_t n)
{
    if (cpu_has_avx512())
        relu_in_place_avx512(y, n);
    else
        relu_in_place_portable(y, n);
}

void relu_mask(const float *y, const float *dy, float *dz, size_t n)
{
    if (cpu_has_avx512())
        relu_mask_avx512(y, dy, dz, n);
    else
        relu_mask_portable(y, dy, dz, n);
}

#else

void relu_in_place(float *y, size_t n) { relu_in_place_portable(y, n); }

void relu_mask(const float *y, const float *dy, float *dz, size_t n)
{
    relu_mask_portable(y, dy, dz, n);
}

#endif

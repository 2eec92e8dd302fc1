/* The sum of squares (sum_squares.h): 32 partial sums, AVX-512 where the CPU has it. */
#include "ops/cpu/sum_squares.h"

#include "ops/cpu/simd.h"

/* p[k] += p[k + half] for half = 16, 8, 4, 2, 1: the tree both paths fold by */
static double fold(double p[SUM_SQUARES_PARTS])
{
    for (int half = SUM_SQUARES_PARTS / 2; half >= 1; half /= 2)
        for (int k = 0; k < half; k++)
            p[k] += p[k + half];
    return p[0];
}

static double sum_squares_portable(const float *x, size_t n)
{
    double p[SUM_SQUARES_PARTS] = {0.0};
    size_t i = 0;
    for (; i + SUM_SQUARES_PARTS <= n; i += SUM_SQUARES_PARTS)
        for (int k = 0; k < SUM_SQUARES_PARTS; k++)
            p[k] += (double)x[i + k] * x[i + k];
    for (int k = 0; i + k < n; k++)
        p[k] += (double)x[i + k] * x[i + k];
    return fold(p);
}

#if SIMD_AVX512

/* Four vectors of 8 doubles: partials 0-7, 8-15, 16-23, 24-31. The lanes a
 * last short block does not reach add +0, which changes no sum of squares. */
static AVX512_FN double sum_squares_avx512(const float *x, size_t n)
{
    __m512d acc[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                      _mm512_setzero_pd()};
    size_t i = 0;
    for (; i + SUM_SQUARES_PARTS <= n; i += SUM_SQUARES_PARTS)
        for (int v = 0; v < 4; v++) {
            __m512d d = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8 * v));
            acc[v] = _mm512_fmadd_pd(d, d, acc[v]);
        }
    for (int v = 0; v < 4 && i + 8 * (size_t)v < n; v++) {
        size_t left = n - i - 8 * (size_t)v;
        __mmask8 m = (__mmask8)lanes(left < 8 ? (int)left : 8);
        __m512d d = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i + 8 * v));
        acc[v] = _mm512_fmadd_pd(d, d, acc[v]);
    }
    double p[SUM_SQUARES_PARTS];
    for (int v = 0; v < 4; v++)
        _mm512_storeu_pd(p + 8 * v, acc[v]);
    return fold(p);
}

#endif

double sum_squares_f32(const float *x, size_t n)
{
#if SIMD_AVX512
    if (cpu_has_avx512())
        return sum_squares_avx512(x, n);
#endif
    return sum_squares_portable(x, n);
}

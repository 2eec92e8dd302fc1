#include "ops/cpu/conv_common.h"

#include <string.h>

#include "ops/cpu/simd.h"

#if SIMD_AVX512
/* Each padded row in whole vectors: the lanes over the source row take its
 * values in order (an expanding load, which reads only as many as there are
 * such lanes), the others are zero. Rows are short (a 28-pixel row and its
 * border is two vectors), where three libc calls per row cost more than the
 * copying. */
static AVX512_FN void pad_planes_avx512(const float *x, int planes, int h, int w, int top,
                                        int left, int hp, int wp, float *out)
{
    const __m512 zero = _mm512_setzero_ps();
    for (int c = 0; c < planes; c++) {
        const float *src = x + (size_t)c * h * w;
        float *dst = out + (size_t)c * hp * wp;
        for (int r = 0; r < hp; r++) {
            float *row = dst + (size_t)r * wp;
            int sr = r - top; /* source row, when in range */
            for (int i = 0; i < wp; i += 16) {
                __mmask16 store = lanes(wp - i);
                __m512 v = zero;
                if (sr >= 0 && sr < h) {
                    /* lanes i + k with left <= i + k < left + w */
                    int lo = left - i, hi = left + w - i;
                    __mmask16 in = lanes(hi) & (__mmask16)~lanes(lo);
                    if (in)
                        v = _mm512_maskz_expandloadu_ps(
                            in, src + (size_t)sr * w + (i > left ? i - left : 0));
                }
                _mm512_mask_storeu_ps(row + i, store, v);
            }
        }
    }
}
#endif

void pad_planes(const float *x, int planes, int h, int w, int top, int left, int hp, int wp,
                float *out)
{
#if SIMD_AVX512
    if (cpu_has_avx512()) {
        pad_planes_avx512(x, planes, h, w, top, left, hp, wp, out);
        return;
    }
#endif
    for (int c = 0; c < planes; c++) {
        const float *src = x + (size_t)c * h * w;
        float *dst = out + (size_t)c * hp * wp;
        memset(dst, 0, sizeof *dst * (size_t)top * wp);
        for (int r = 0; r < h; r++) {
            float *row = dst + (size_t)(top + r) * wp;
            memset(row, 0, sizeof *row * left);
            memcpy(row + left, src + (size_t)r * w, sizeof *row * w);
            memset(row + left + w, 0, sizeof *row * (wp - left - w));
        }
        memset(dst + (size_t)(top + h) * wp, 0, sizeof *dst * (size_t)(hp - top - h) * wp);
    }
}

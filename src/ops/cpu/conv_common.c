#include "ops/cpu/conv_common.h"

#include <string.h>

#include "ops/cpu/simd.h"

#if SIMD_AVX512
/* Zeros over [p, p + n). */
AVX512_INLINE void zero_run(float *p, int n)
{
    for (int i = 0; i < n; i += 16)
        _mm512_mask_storeu_ps(p + i, lanes(n - i), _mm512_setzero_ps());
}

/* Row by row in vectors: the border's zeros, then the source row copied to
 * its place. Rows are short (a 28-pixel row and its border is two vectors),
 * where three libc calls per row cost more than the copying. */
static AVX512_FN void pad_planes_avx512(const float *x, int planes, int h, int w, int top,
                                        int left, int hp, int wp, float *out)
{
    int right = wp - left - w;
    for (int c = 0; c < planes; c++) {
        const float *src = x + (size_t)c * h * w;
        float *dst = out + (size_t)c * hp * wp;
        zero_run(dst, top * wp);
        for (int r = 0; r < h; r++) {
            float *row = dst + (size_t)(top + r) * wp;
            const float *sr = src + (size_t)r * w;
            zero_run(row, left);
            for (int i = 0; i < w; i += 16) {
                __mmask16 m = lanes(w - i);
                _mm512_mask_storeu_ps(row + left + i, m, _mm512_maskz_loadu_ps(m, sr + i));
            }
            zero_run(row + left + w, right);
        }
        zero_run(dst + (size_t)(top + h) * wp, (hp - top - h) * wp);
    }
}
#endif

void pack_filters(const conv_geom *g, const float *w, const float *b, int transposed, int block,
                  float *packed)
{
    int outs = g->k, ins = g->c, kk = g->kh * g->kw, nob = (outs + block - 1) / block;
    for (int ob = 0; ob < nob; ob++)
        for (int i = 0; i < ins; i++)
            for (int t = 0; t < kk; t++) {
                float *dst = packed + (((size_t)ob * ins + i) * kk + t) * block;
                for (int l = 0; l < block; l++) {
                    int o = ob * block + l;
                    dst[l] = o >= outs ? 0.0f
                             : transposed ? w[((size_t)i * outs + o) * kk + (kk - 1 - t)]
                                          : w[((size_t)o * ins + i) * kk + t];
                }
            }
    float *bias = packed + (size_t)nob * block * ins * kk;
    for (int o = 0; o < nob * block; o++)
        bias[o] = (b && o < outs) ? b[o] : 0.0f;
}

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

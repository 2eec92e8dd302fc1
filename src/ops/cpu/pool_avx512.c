/*
 * Stride-2 max-pooling with AVX-512: 2x2 (every CNN here pools that way)
 * and other windows, padded or not (AlexNet's 3x3, vgg-small's 3x3 pad 1).
 * 16 outputs at a time: two input rows of 32 values are split into even and
 * odd columns, and the four candidates are compared in the generic loop's
 * scan order with its rule (a later value wins if greater, or if NaN), so
 * values and argmax match pool_cpu.c's generic path bit for bit, with or
 * without the ReLU before the pool (pool_geom.relu); so do the input
 * gradients.
 */
#include <float.h>
#include <stdint.h>

#include "ops/cpu/pool_fast.h"
#include "ops/cpu/pool_simd.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/team.h"

#if SIMD_AVX512

/* 0, 2, 4, ..., 30: the even lanes of a 32-value run, and each output
 * lane's offset from the run's start */
AVX512_INLINE __m512i even_lanes(void)
{
    return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

static AVX512_FN void plane_2x2(const float *x, int w, int oh, int ow, int relu, float *y,
                                int32_t *argmax)
{
    const __m512i even = even_lanes(), lane2 = even;
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = x + (size_t)2 * oy * w, *r1 = r0 + w;
        for (int ox = 0; ox < ow; ox += 16) {
            int n = ow - ox < 16 ? ow - ox : 16;
            __mmask16 lo = lanes(2 * n), hi = lanes(2 * n - 16);
            __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ox);
            __m512 a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ox + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ox);
            __m512 b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ox + 16);
            __m512i at = _mm512_add_epi32(_mm512_set1_epi32(2 * oy * w + 2 * ox), lane2);
            __m512 best = _mm512_permutex2var_ps(a0, even, a1);
            __m512i arg = at;
            __m512 c1 = _mm512_permutex2var_ps(a0, odd, a1);
            __m512 c2 = _mm512_permutex2var_ps(b0, even, b1);
            __m512 c3 = _mm512_permutex2var_ps(b0, odd, b1);
            __m512i at1 = _mm512_add_epi32(at, _mm512_set1_epi32(1));
            __m512i at2 = _mm512_add_epi32(at, _mm512_set1_epi32(w));
            __m512i at3 = _mm512_add_epi32(at, _mm512_set1_epi32(w + 1));
            window_2x2_max(c1, c2, c3, at1, at2, at3, relu, &best, &arg);
            __mmask16 m = lanes(n);
            _mm512_mask_storeu_ps(y + (size_t)oy * ow + ox, m, best);
            _mm512_mask_storeu_epi32(argmax + (size_t)oy * ow + ox, m, arg);
        }
    }
}

/* Each output's gradient goes to the one of its four inputs its argmax
 * names; the four candidates are interleaved back into two input rows.
 * Inputs no window covers (an odd last row or column) get 0. */
static AVX512_FN void plane_2x2_backward(const float *dy, const int32_t *argmax, int h, int w,
                                         int oh, int ow, float *dx)
{
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                             7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    const __m512i lane2 = even_lanes();
    const __m512 zero = _mm512_setzero_ps();
    for (int oy = 0; oy < oh; oy++) {
        float *r0 = dx + (size_t)2 * oy * w, *r1 = r0 + w;
        for (int ox = 0; ox < ow; ox += 16) {
            int n = ow - ox < 16 ? ow - ox : 16;
            __mmask16 m = lanes(n), lo = lanes(2 * n), hi = lanes(2 * n - 16);
            __m512 d = _mm512_maskz_loadu_ps(m, dy + (size_t)oy * ow + ox);
            __m512i a = _mm512_maskz_loadu_epi32(m, argmax + (size_t)oy * ow + ox);
            __m512i at = _mm512_add_epi32(_mm512_set1_epi32(2 * oy * w + 2 * ox), lane2);
            /* 0 + d as the generic loop's accumulation gives (so -0 becomes +0) */
            __m512 v00 = _mm512_maskz_add_ps(_mm512_cmpeq_epi32_mask(a, at), zero, d);
            __m512 v01 = _mm512_maskz_add_ps(
                _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(at, _mm512_set1_epi32(1))), zero, d);
            __m512 v10 = _mm512_maskz_add_ps(
                _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(at, _mm512_set1_epi32(w))), zero, d);
            __m512 v11 = _mm512_maskz_add_ps(
                _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(at, _mm512_set1_epi32(w + 1))), zero,
                d);
            _mm512_mask_storeu_ps(r0 + 2 * ox, lo, _mm512_permutex2var_ps(v00, lo_idx, v01));
            _mm512_mask_storeu_ps(r0 + 2 * ox + 16, hi, _mm512_permutex2var_ps(v00, hi_idx, v01));
            _mm512_mask_storeu_ps(r1 + 2 * ox, lo, _mm512_permutex2var_ps(v10, lo_idx, v11));
            _mm512_mask_storeu_ps(r1 + 2 * ox + 16, hi, _mm512_permutex2var_ps(v10, hi_idx, v11));
        }
        if (w > 2 * ow)
            r0[w - 1] = r1[w - 1] = 0.0f;
    }
    for (int r = 2 * oh; r < h; r++)
        for (int c = 0; c < w; c++)
            dx[(size_t)r * w + c] = 0.0f;
}

static void backward_2x2(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    plane_2x2_backward(j->dy + out_plane * p, j->argmax + out_plane * p, g->h, g->w, g->oh, g->ow,
                       j->dx + in_plane * p);
}

int maxpool_2x2_backward(const pool_geom *g, const float *dy, const int32_t *argmax, float *dx,
                         int threads)
{
    if (!(g->size == 2 && g->stride == 2 && g->pad == 0 && cpu_has_avx512()))
        return 0;
    pool_job job = {.g = g, .dy = dy, .argmax = argmax, .dx = dx};
    cpu_team_for(threads, g->n * g->c, backward_2x2, &job);
    return 1;
}

/* Stride 2, any window and padding: for each window column j the inputs of
 * 16 outputs are every other value of a 32-value run. A lane whose input
 * falls in the padding skips that tap; its first tap inside the input
 * starts its maximum, as the generic loop's clipped window does. */
static AVX512_FN void plane_s2(const float *x, int h, int w, int k, int pad, int oh, int ow,
                               int relu, float *y, int32_t *argmax)
{
    const __m512i even = even_lanes(), lane2 = even;
    for (int oy = 0; oy < oh; oy++) {
        int i0 = pad - 2 * oy > 0 ? pad - 2 * oy : 0;
        int i1 = h + pad - 2 * oy < k ? h + pad - 2 * oy : k;
        for (int ox = 0; ox < ow; ox += 16) {
            int n = ow - ox < 16 ? ow - ox : 16;
            __m512 best = _mm512_setzero_ps();
            __m512i arg = _mm512_set1_epi32(-1);
            __mmask16 seen = 0;
            for (int i = i0; i < i1; i++) {
                int iy = 2 * oy - pad + i;
                const float *row = x + (size_t)iy * w;
                for (int j = 0; j < k; j++) {
                    int base = 2 * ox - pad + j; /* input column of lane 0 */
                    /* the run's values inside the row (masked lanes are never read) */
                    int first = base < 0 ? -base : 0, end = w - base < 32 ? w - base : 32;
                    if (end > 2 * n - 1)
                        end = 2 * n - 1; /* only the values the outputs use */
                    if (first >= end)
                        continue;
                    uint32_t run = (end >= 32 ? 0xffffffffu : (1u << end) - 1u) &
                                   ~((1u << first) - 1u);
                    const float *at_base = (const float *)((uintptr_t)row + (intptr_t)base * 4);
                    __m512 v = _mm512_permutex2var_ps(
                        _mm512_maskz_loadu_ps((__mmask16)run, at_base), even,
                        _mm512_maskz_loadu_ps((__mmask16)(run >> 16), at_base + 16));
                    if (relu)
                        v = relu16(v);
                    __m512i col = _mm512_add_epi32(_mm512_set1_epi32(base), lane2);
                    __mmask16 in = _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512()) &
                                   _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32(w)) & lanes(n);
                    __m512i at = _mm512_add_epi32(col, _mm512_set1_epi32(iy * w));
                    __mmask16 start = in & (__mmask16)~seen;
                    best = _mm512_mask_blend_ps(start, best, v);
                    arg = _mm512_mask_blend_epi32(start, arg, at);
                    __mmask16 m = in & seen &
                                  (_mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                   _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
                    best = _mm512_mask_blend_ps(m, best, v);
                    arg = _mm512_mask_blend_epi32(m, arg, at);
                    seen |= in;
                }
            }
            /* a window wholly in the padding: the generic loop's -FLT_MAX, -1 */
            best = _mm512_mask_blend_ps(seen, _mm512_set1_ps(-FLT_MAX), best);
            if (relu)
                arg = relu_argmax(best, arg);
            __mmask16 m = lanes(n);
            _mm512_mask_storeu_ps(y + (size_t)oy * ow + ox, m, best);
            _mm512_mask_storeu_epi32(argmax + (size_t)oy * ow + ox, m, arg);
        }
    }
}

static void forward_s2(void *arg, int p)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    size_t in_plane = (size_t)g->h * g->w, out_plane = (size_t)g->oh * g->ow;
    if (g->size == 2 && g->pad == 0)
        plane_2x2(j->x + in_plane * p, g->w, g->oh, g->ow, g->relu, j->y + out_plane * p,
                  j->argmax_out + out_plane * p);
    else
        plane_s2(j->x + in_plane * p, g->h, g->w, g->size, g->pad, g->oh, g->ow, g->relu,
                 j->y + out_plane * p, j->argmax_out + out_plane * p);
}

int maxpool_s2_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                        int threads)
{
    if (!(g->stride == 2 && cpu_has_avx512()))
        return 0;
    pool_job job = {.g = g, .x = x, .y = y, .argmax_out = argmax};
    cpu_team_for(threads, g->n * g->c, forward_s2, &job);
    return 1;
}

#else

int maxpool_s2_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                        int threads)
{
    (void)g, (void)x, (void)y, (void)argmax, (void)threads;
    return 0;
}

int maxpool_2x2_backward(const pool_geom *g, const float *dy, const int32_t *argmax, float *dx,
                         int threads)
{
    (void)g, (void)dy, (void)argmax, (void)dx, (void)threads;
    return 0;
}

#endif

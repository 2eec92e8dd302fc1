/*
 * CONV_ROWVEC's kernels with the 2x2 stride-2 max-pool after the
 * convolution (and the ReLU between them) folded in, for conv_pool_cpu.c.
 * LeNet-5's first layer writes 6x28x28 floats a sample that the pool reads
 * once and shrinks to 6x14x14; its backward writes them again, three zeros
 * in four, for the filter gradient to read once. At batch 64 those are
 * 1.2 MB each way, past a core's L2 (docs/design.md has the speed this
 * wins and the command that measures it).
 *
 * Forward: each tile of rowvec's forward kernel (rows in pairs) is pooled
 * in registers and only the pooled values and their argmax are stored.
 * Filter gradient: the flat dy is written straight from the pooled
 * gradient and the argmax, then rowvec's filter-gradient tiles run as for
 * any dy.
 *
 * The same bits as the passes one after another (conv_pool_test): the
 * pooled values and argmax are the pool kernels' rule (pool_simd.h) on the
 * same sums, and the flat dy is the one the pool's input gradient gives.
 */
#include <stdint.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/conv_rowvec.h"
#include "ops/cpu/pool_simd.h"
#include "ops/cpu/simd.h"

/* Tile rows of the pooled kernel: rowvec's, in whole pairs (0: none fits). */
static int pool_rows(int ob, int nv) { return rowvec_tile_rows(ob, nv) / 2 * 2; }

int rowvec_pool_supported(const conv_geom *g)
{
    if (g->w + 2 * g->pad > 1024) /* write_pooled_dy's chunks of a flat row */
        return 0;
    return pool_rows(rowvec_fwd_block(g->k), g->ow > 16 ? 2 : 1) > 0;
}

#if SIMD_AVX512

/* A tile of YB (even) rows x OB channels x NV vectors from row oy0 (even),
 * column x0 (a multiple of 32), pooled: y and argmax at the pooled size. */
AVX512_INLINE void pool_tile(const float *xr, size_t xplane, int ws, int h, int ins, int kh,
                             int kw, int pad, const float *wob, const float *bias, int relu,
                             float *y, int32_t *argmax, size_t pplane, int pw, int ow, int oy0,
                             int rows, int x0, int no, const int OB, const int NV, const int YB)
{
    __m512 acc[12][8][2];
    fwd_sums(xr, xplane, ws, h, ins, kh, kw, pad, wob, bias, oy0, rows, x0, acc, OB, NV, YB);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    int px0 = x0 / 2, cols = pw - px0 < 8 * NV ? pw - px0 : 8 * NV;
    __mmask16 m = lanes(cols);
SIMD_UNROLL(6)
    for (int yb = 0; yb < YB; yb += 2) {
        if (yb >= rows)
            break;
        /* each lane's window in the convolution's plane, in scan order */
        __m512i at0 = _mm512_add_epi32(even, _mm512_set1_epi32((oy0 + yb) * ow + x0));
        __m512i at1 = _mm512_add_epi32(at0, _mm512_set1_epi32(1));
        __m512i at2 = _mm512_add_epi32(at0, _mm512_set1_epi32(ow));
        __m512i at3 = _mm512_add_epi32(at0, _mm512_set1_epi32(ow + 1));
        size_t out = (size_t)(oy0 + yb) / 2 * pw + px0;
SIMD_UNROLL(8)
        for (int o = 0; o < OB; o++) {
            if (o >= no)
                break;
            __m512 c0, c1, c2, c3;
            if (NV == 2) {
                c0 = _mm512_permutex2var_ps(acc[yb][o][0], even, acc[yb][o][1]);
                c1 = _mm512_permutex2var_ps(acc[yb][o][0], odd, acc[yb][o][1]);
                c2 = _mm512_permutex2var_ps(acc[yb + 1][o][0], even, acc[yb + 1][o][1]);
                c3 = _mm512_permutex2var_ps(acc[yb + 1][o][0], odd, acc[yb + 1][o][1]);
            } else { /* lanes 8 to 15 pick leftovers, never stored */
                c0 = _mm512_permutexvar_ps(even, acc[yb][o][0]);
                c1 = _mm512_permutexvar_ps(odd, acc[yb][o][0]);
                c2 = _mm512_permutexvar_ps(even, acc[yb + 1][o][0]);
                c3 = _mm512_permutexvar_ps(odd, acc[yb + 1][o][0]);
            }
            __m512 best = c0;
            __m512i arg = at0;
            window_2x2_max(c1, c2, c3, at1, at2, at3, relu, &best, &arg);
            _mm512_mask_storeu_ps(y + o * pplane + out, m, best);
            _mm512_mask_storeu_epi32(argmax + o * pplane + out, m, arg);
        }
    }
}

typedef void (*pool_tile_fn)(const float *, size_t, int, int, int, int, int, int, const float *,
                             const float *, int, float *, int32_t *, size_t, int, int, int, int,
                             int, int);
#define POOL_TILE(OB, NV, YB)                                                                 \
    static AVX512_FN void pool_tile_##OB##_##NV(                                              \
        const float *xr, size_t xplane, int ws, int h, int ins, int kh, int kw, int pad,      \
        const float *wob, const float *bias, int relu, float *y, int32_t *argmax,             \
        size_t pplane, int pw, int ow, int oy0, int rows, int x0, int no)                     \
    {                                                                                         \
        pool_tile(xr, xplane, ws, h, ins, kh, kw, pad, wob, bias, relu, y, argmax, pplane, pw, \
                  ow, oy0, rows, x0, no, OB, NV, YB);                                         \
    }
POOL_TILE(8, 1, 2) POOL_TILE(6, 1, 4) POOL_TILE(4, 1, 6) POOL_TILE(3, 1, 8) POOL_TILE(2, 1, 12)
POOL_TILE(6, 2, 2) POOL_TILE(4, 2, 2) POOL_TILE(3, 2, 4) POOL_TILE(2, 2, 6)

/* pool_rows(ob, nv) gives each tile's YB above; (8, 2) has none */
static pool_tile_fn pool_tile_for(int ob, int nv)
{
    switch (ob) {
    case 8: return nv == 1 ? pool_tile_8_1 : NULL;
    case 6: return nv == 1 ? pool_tile_6_1 : pool_tile_6_2;
    case 4: return nv == 1 ? pool_tile_4_1 : pool_tile_4_2;
    case 3: return nv == 1 ? pool_tile_3_1 : pool_tile_3_2;
    default: return nv == 1 ? pool_tile_2_1 : pool_tile_2_2;
    }
}

/* One sample: rowvec_forward_image's tiles, pooled. */
void rowvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                          int has_bias, const float *x, float *y, int32_t *argmax,
                          float *scratch)
{
    int ins = g->c, outs = g->k, kk = g->kh * g->kw, ws = rowvec_row_stride(g);
    int ob_n = rowvec_fwd_block(outs), nob = (outs + ob_n - 1) / ob_n;
    pad_planes(x, ins, g->h, g->w, 0, g->pad, g->h, ws, scratch);
    size_t xplane = (size_t)g->h * ws, pplane = (size_t)p->oh * p->ow;
    for (int ob = 0; ob < nob; ob++) {
        const float *wob = packed + (size_t)ob * ob_n * ins * kk;
        const float *bias = has_bias ? packed + (size_t)nob * ob_n * ins * kk + ob * ob_n : NULL;
        int no = outs - ob * ob_n < ob_n ? outs - ob * ob_n : ob_n;
        size_t at = (size_t)ob * ob_n * pplane;
        for (int x0 = 0; x0 < g->ow; x0 += 32) {
            int nv = g->ow - x0 > 16 ? 2 : 1, yb = pool_rows(ob_n, nv);
            pool_tile_fn tile = pool_tile_for(ob_n, nv);
            for (int oy0 = 0; oy0 < g->oh; oy0 += yb) {
                int rows = g->oh - oy0 < yb ? g->oh - oy0 : yb;
                tile(scratch, xplane, ws, g->h, ins, g->kh, g->kw, g->pad, wob, bias, p->relu,
                     y + at, argmax + at, pplane, p->ow, g->ow, oy0, rows, x0, no);
            }
        }
    }
}

/* The pooled gradient and argmax of one sample, for rowvec_dw_image_with. */
typedef struct pooled_dy {
    const pool_geom *p;
    const float *dy;
    const int32_t *argmax;
} pooled_dy;

/* rowvec_dy_writer: each lane of a flat row takes its window's gradient
 * where it is the window's argmax, 0 + dy as the pool's input gradient
 * gives it (-0 becomes +0), and +0 elsewhere. A pooled row's gradient and
 * argmax are loaded once for its two rows; the bias sum still adds the
 * vectors row by row, as flat_dy does (the odd row's kept for after). */
static AVX512_FN void write_pooled_dy(const void *arg, const conv_geom *g, const flat_geom *f,
                                      float *dyp, float *bias_part)
{
    const pooled_dy *q = arg;
    /* locals: the stores to dst may alias anything the compiler cannot see */
    const int pw = q->p->ow, ph = q->p->oh, ow = g->ow, stride = f->stride;
    const size_t pplane = (size_t)ph * pw, npix = f->npix, used = (size_t)g->oh * stride;
    const __m512i pair = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i next_row = _mm512_set1_epi32(ow);
    const __m512 zero = _mm512_setzero_ps();
    /* per chunk of 16 flat columns: its 8 pooled columns' load mask, its store mask */
    enum { MAX_CHUNKS = 64 };
    __mmask16 load_m[MAX_CHUNKS], store_m[MAX_CHUNKS];
    __m512 odd_v[MAX_CHUNKS];
    int chunks = (stride + 15) / 16;
    for (int c = 0; c < chunks && c < MAX_CHUNKS; c++) {
        int left = pw - 8 * c;
        load_m[c] = lanes(left < 0 ? 0 : left < 8 ? left : 8);
        store_m[c] = lanes(stride - 16 * c);
    }
    for (int o = 0; o < g->k; o++) {
        float *dst = dyp + o * npix;
        const float *dy = q->dy + o * pplane;
        const int32_t *am = q->argmax + o * pplane;
        __m512 s = _mm512_loadu_ps(bias_part + o * 16);
        for (int pr = 0; pr < ph; pr++) {
            float *even = dst + (size_t)(2 * pr) * stride, *odd = even + stride;
            __m512i here = _mm512_add_epi32(lane, _mm512_set1_epi32(2 * pr * ow));
            for (int c = 0; c < chunks; c++) {
                /* stride <= 16 * MAX_CHUNKS (1024): cpu_conv_pool_supported */
                __mmask16 lm = load_m[c], sm = store_m[c];
                const float *src = dy + (size_t)pr * pw + 8 * c;
                __m512 d = _mm512_permutexvar_ps(pair, _mm512_maskz_loadu_ps(lm, src));
                __m512i a = _mm512_permutexvar_epi32(
                    pair, _mm512_maskz_loadu_epi32(lm, am + (size_t)pr * pw + 8 * c));
                /* past the plane's last column the argmax loaded is 0, never here */
                __m512 ve = _mm512_maskz_add_ps(_mm512_cmpeq_epi32_mask(a, here), zero, d);
                __m512 vo = _mm512_maskz_add_ps(
                    _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(here, next_row)), zero, d);
                _mm512_mask_storeu_ps(even + 16 * c, sm, ve);
                _mm512_mask_storeu_ps(odd + 16 * c, sm, vo);
                s = _mm512_add_ps(s, ve);
                odd_v[c] = vo;
                here = _mm512_add_epi32(here, _mm512_set1_epi32(16));
            }
            for (int c = 0; c < chunks; c++)
                s = _mm512_add_ps(s, odd_v[c]);
        }
        for (size_t i = used; i < npix; i++)
            dst[i] = 0.0f;
        _mm512_storeu_ps(bias_part + o * 16, s);
    }
}

#else

void rowvec_pool_forward_image(const conv_geom *g, const pool_geom *p, const float *packed,
                               int has_bias, const float *x, float *y, int32_t *argmax,
                               float *scratch)
{
    (void)g, (void)p, (void)packed, (void)has_bias, (void)x, (void)y, (void)argmax,
        (void)scratch;
}

typedef struct pooled_dy {
    const pool_geom *p;
    const float *dy;
    const int32_t *argmax;
} pooled_dy;

static void write_pooled_dy(const void *arg, const conv_geom *g, const flat_geom *f,
                            float *dyp, float *bias_part)
{
    (void)arg, (void)g, (void)f, (void)dyp, (void)bias_part;
}

#endif

void rowvec_pool_dw_image(const conv_geom *g, const pool_geom *p, const float *x,
                          const float *dy, const int32_t *argmax, float *part, float *scratch)
{
    pooled_dy q = {p, dy, argmax};
    rowvec_dw_image_with(g, x, write_pooled_dy, &q, part, scratch);
}

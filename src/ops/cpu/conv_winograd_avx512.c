/*
 * CONV_WINOGRAD's AVX-512 elementwise stage: M[e] = U[e] . V[e] for the 36
 * elements e, by a register-blocked kernel of its own instead of sgemm. The
 * transformed filters are packed once per call as [e][K/16][C][16] (16
 * output channels to a vector, as CONV_CHANVEC holds them), so no sgemm
 * repacks them for every chunk of samples: that repacking cost as much as
 * the products themselves at AlexNet's 13x13 (16 tiles a sample).
 *
 * A tile of the kernel: up to 14 Winograd tiles x 32 output channels, 28
 * accumulators; for each input channel two filter vectors are loaded and
 * each tile's value broadcast into both. Every sum runs over the channels in
 * order, one FMA each: the result does not depend on the chunk.
 *
 * Products are stored as [e][tile][K rounded up to 16], so the output
 * transform takes 16 output channels a vector.
 */
#include "core/partition.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/winograd_transforms.h"

#define TILE_T 14 /* Winograd tiles per kernel tile */

size_t winograd512_shared(const conv_geom *g)
{
    return (size_t)ELEMS * round16(g->k) * g->c;
}

size_t winograd512_products(const conv_geom *g, int tc)
{
    return (size_t)ELEMS * tc * round16(g->k);
}

#if SIMD_AVX512

/* U[e][kb][i][16] = (G g G^T)[e], 16 outputs o = kb*16 + lane at a time;
 * the blocks kb of part `part` of `parts` */
AVX512_FN void winograd512_pack(const conv_geom *g, const float *w, int transposed,
                                float *packed, int part, int parts)
{
    int outs = g->k, ins = g->c, kb_count = (outs + 15) / 16, kb0, kb1;
    size_t estride = (size_t)kb_count * ins * 16;
    partition(kb_count, parts, part, &kb0, &kb1);
    for (int kb = kb0; kb < kb1; kb++)
        for (int i = 0; i < ins; i++) {
            float f[9 * LANES] = {0}, u[ELEMS * LANES];
            for (int l = 0; l < LANES && kb * 16 + l < outs; l++)
                for (int t = 0; t < 9; t++) {
                    int o = kb * 16 + l;
                    f[t * LANES + l] = transposed ? w[((size_t)i * outs + o) * 9 + 8 - t]
                                                  : w[((size_t)o * ins + i) * 9 + t];
                }
            TRANSFORM_2D(filter_1d, 3, 3, 6, 6, f, u);
            store_lanes(u, ELEMS, packed + ((size_t)kb * ins + i) * 16, estride, LANES);
        }
}

/* NT tiles x (16 or 32) channels: m[t][0..16) (and [16..32) when TWO) */
AVX512_INLINE void product_tile(const float *v, size_t vstride, const float *u0,
                                const float *u1, int ins, float *m, int kpad, const int NT,
                                const int TWO)
{
    __m512 acc[2][TILE_T];
SIMD_UNROLL(14)
    for (int t = 0; t < NT; t++) {
        acc[0][t] = _mm512_setzero_ps();
        if (TWO)
            acc[1][t] = _mm512_setzero_ps();
    }
    for (int c = 0; c < ins; c++) {
        const float *vc = v + vstride * c;
        __m512 w0 = _mm512_load_ps(u0 + (size_t)c * 16);
        __m512 w1 = TWO ? _mm512_load_ps(u1 + (size_t)c * 16) : w0;
SIMD_UNROLL(14)
        for (int t = 0; t < NT; t++) {
            __m512 b = _mm512_set1_ps(vc[t]);
            acc[0][t] = _mm512_fmadd_ps(b, w0, acc[0][t]);
            if (TWO)
                acc[1][t] = _mm512_fmadd_ps(b, w1, acc[1][t]);
        }
    }
SIMD_UNROLL(14)
    for (int t = 0; t < NT; t++) {
        _mm512_storeu_ps(m + (size_t)t * kpad, acc[0][t]);
        if (TWO)
            _mm512_storeu_ps(m + (size_t)t * kpad + 16, acc[1][t]);
    }
}

typedef void (*product_fn)(const float *, size_t, const float *, const float *, int, float *,
                           int);
#define PRODUCT(NT, TWO)                                                                     \
    static AVX512_FN void product_##NT##_##TWO(const float *v, size_t vstride,              \
                                               const float *u0, const float *u1, int ins,   \
                                               float *m, int kpad)                          \
    {                                                                                        \
        product_tile(v, vstride, u0, u1, ins, m, kpad, NT, TWO);                             \
    }
#define PRODUCTS(NT) PRODUCT(NT, 0) PRODUCT(NT, 1)
PRODUCTS(1) PRODUCTS(2) PRODUCTS(3) PRODUCTS(4) PRODUCTS(5) PRODUCTS(6) PRODUCTS(7)
PRODUCTS(8) PRODUCTS(9) PRODUCTS(10) PRODUCTS(11) PRODUCTS(12) PRODUCTS(13) PRODUCTS(14)
#define PRODUCT_ENTRY(NT) {product_##NT##_0, product_##NT##_1}
/* [NT - 1][two blocks] */
static const product_fn products[TILE_T][2] = {
    PRODUCT_ENTRY(1),  PRODUCT_ENTRY(2),  PRODUCT_ENTRY(3),  PRODUCT_ENTRY(4),
    PRODUCT_ENTRY(5),  PRODUCT_ENTRY(6),  PRODUCT_ENTRY(7),  PRODUCT_ENTRY(8),
    PRODUCT_ENTRY(9),  PRODUCT_ENTRY(10), PRODUCT_ENTRY(11), PRODUCT_ENTRY(12),
    PRODUCT_ENTRY(13), PRODUCT_ENTRY(14)};

/* M[e][t][k] = sum over c of U[e][k][c] V[e][c][t] */
void winograd512_multiply(const conv_geom *g, const float *packed, const float *v, int tc,
                          float *m)
{
    int ins = g->c, kb_count = (g->k + 15) / 16, kpad = kb_count * 16;
    for (int e = 0; e < ELEMS; e++) {
        const float *ve = v + (size_t)e * ins * tc;
        const float *ue = packed + (size_t)e * kb_count * ins * 16;
        float *me = m + (size_t)e * tc * kpad;
        for (int t0 = 0; t0 < tc; t0 += TILE_T) {
            int nt = tc - t0 < TILE_T ? tc - t0 : TILE_T;
            for (int kb = 0; kb < kb_count; kb += 2) {
                int two = kb + 1 < kb_count;
                const float *u0 = ue + (size_t)kb * ins * 16;
                products[nt - 1][two](ve + t0, (size_t)tc, u0, u0 + (size_t)ins * 16, ins,
                                      me + (size_t)t0 * kpad + kb * 16, kpad);
            }
        }
    }
}

/* y = A^T M A (+ bias, then the fused ReLU), 16 output channels a vector */
AVX512_FN void winograd512_output(const conv_geom *g, const float *m, const float *b, int count,
                                  float *y, size_t y_stride)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles, kpad = round16(g->k);
    size_t oplane = (size_t)g->oh * g->ow, estride = (size_t)tc * kpad;
    for (int t = 0; t < tc; t++) {
        int n = t / d.tiles, oy = t % d.tiles / d.tw * 4, ox = t % d.tiles % d.tw * 4;
        int rows = g->oh - oy < 4 ? g->oh - oy : 4, cols = g->ow - ox < 4 ? g->ow - ox : 4;
        for (int k0 = 0; k0 < g->k; k0 += LANES) {
            float blk[ELEMS * LANES], out[16 * LANES];
            for (int e = 0; e < ELEMS; e++)
                _mm512_storeu_ps(blk + e * LANES,
                                 _mm512_loadu_ps(m + estride * e + (size_t)t * kpad + k0));
            TRANSFORM_2D(output_1d, 6, 6, 4, 4, blk, out);
            int nk = g->k - k0 < LANES ? g->k - k0 : LANES;
            __m512 bias = b ? _mm512_maskz_loadu_ps(lanes(nk), b + k0) : _mm512_setzero_ps();
            for (int p = 0; p < 16; p++) {
                __m512 val = _mm512_add_ps(_mm512_loadu_ps(out + p * LANES), bias);
                if (g->relu) /* x > 0 ? x : 0, as the ReLU layer */
                    val = _mm512_maskz_mov_ps(
                        _mm512_cmp_ps_mask(val, _mm512_setzero_ps(), _CMP_GT_OQ), val);
                _mm512_storeu_ps(out + p * LANES, val);
            }
            for (int l = 0; l < nk; l++) {
                float *yk = y + y_stride * n + oplane * (k0 + l) + (size_t)oy * g->ow + ox;
                for (int r = 0; r < rows; r++)
                    for (int q = 0; q < cols; q++)
                        yk[(size_t)r * g->ow + q] = out[(r * 4 + q) * LANES + l];
            }
        }
    }
}

#else /* no AVX-512 at compile time: never called (cpu_has_avx512 says no) */

void winograd512_pack(const conv_geom *g, const float *w, int transposed, float *packed,
                      int part, int parts)
{
    (void)g, (void)w, (void)transposed, (void)packed, (void)part, (void)parts;
}

void winograd512_multiply(const conv_geom *g, const float *packed, const float *v, int tc,
                          float *m)
{
    (void)g, (void)packed, (void)v, (void)tc, (void)m;
}

void winograd512_output(const conv_geom *g, const float *m, const float *b, int count, float *y,
                        size_t y_stride)
{
    (void)g, (void)m, (void)b, (void)count, (void)y, (void)y_stride;
}

#endif

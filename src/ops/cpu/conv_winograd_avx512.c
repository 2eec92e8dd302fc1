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


/* ---- the filter gradient: P[e][c][k] += sum over tiles of D[e][k][t] V[e][c][t] ---- */

/* Vt[e][t][c] = (B^T x B)[e], 16 input channels of one tile at a time */
static AVX512_FN void input_by_channel(const conv_geom *g, const float *x, size_t x_stride,
                                       int count, float *vt)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles;
    size_t plane = (size_t)g->h * g->w, estride = (size_t)tc * g->c;
    for (int t = 0; t < tc; t++) {
        int n = t / d.tiles, y0 = t % d.tiles / d.tw * 4, x0 = t % d.tiles % d.tw * 4;
        for (int c0 = 0; c0 < g->c; c0 += LANES) {
            int nl = g->c - c0 < LANES ? g->c - c0 : LANES;
            float blk[ELEMS * LANES] = {0}, out[ELEMS * LANES];
            for (int l = 0; l < nl; l++)
                load_lane(x + x_stride * n + plane * (c0 + l), NULL, g->h, g->w, y0 - g->pad,
                          x0 - g->pad, 6, blk, l);
            TRANSFORM_2D(input_1d, 6, 6, 6, 6, blk, out);
            store_lanes(out, ELEMS, vt + (size_t)t * g->c + c0, estride, nl);
        }
    }
}

/* Dk[e][kb][t][16] = (A dz A^T)[e], 16 output channels of one tile at a time
 * (channels past K are zero) */
static AVX512_FN void dy_by_channel(const conv_geom *g, const float *dy, const float *y,
                                    size_t y_stride, int count, float *dk)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles, kb_count = (g->k + 15) / 16;
    size_t oplane = (size_t)g->oh * g->ow, estride = (size_t)kb_count * tc * 16;
    for (int t = 0; t < tc; t++) {
        int n = t / d.tiles, y0 = t % d.tiles / d.tw * 4, x0 = t % d.tiles % d.tw * 4;
        for (int kb = 0; kb < kb_count; kb++) {
            int nl = g->k - kb * 16 < LANES ? g->k - kb * 16 : LANES;
            float blk[16 * LANES] = {0}, out[ELEMS * LANES];
            for (int l = 0; l < nl; l++) {
                size_t at = y_stride * n + oplane * (kb * 16 + l);
                load_lane(dy + at, y ? y + at : NULL, g->oh, g->ow, y0, x0, 4, blk, l);
            }
            TRANSFORM_2D(dy_1d, 4, 4, 6, 6, blk, out);
            store_lanes(out, ELEMS, dk + ((size_t)kb * tc + t) * 16, estride, LANES);
        }
    }
}

/* NC channels x (16 or 32) filters: p[j][0..16) (and [16..32) when TWO) += the
 * sum over the tiles, in order */
AVX512_INLINE void dw_product_tile(const float *vt, int ins, const float *d0, const float *d1,
                                   int tc, float *p, int kpad, const int NC, const int TWO)
{
    __m512 acc[2][TILE_T];
SIMD_UNROLL(14)
    for (int j = 0; j < NC; j++) {
        acc[0][j] = _mm512_loadu_ps(p + (size_t)j * kpad);
        if (TWO)
            acc[1][j] = _mm512_loadu_ps(p + (size_t)j * kpad + 16);
    }
    for (int t = 0; t < tc; t++) {
        const float *vr = vt + (size_t)t * ins;
        __m512 w0 = _mm512_load_ps(d0 + (size_t)t * 16);
        __m512 w1 = TWO ? _mm512_load_ps(d1 + (size_t)t * 16) : w0;
SIMD_UNROLL(14)
        for (int j = 0; j < NC; j++) {
            __m512 b = _mm512_set1_ps(vr[j]);
            acc[0][j] = _mm512_fmadd_ps(b, w0, acc[0][j]);
            if (TWO)
                acc[1][j] = _mm512_fmadd_ps(b, w1, acc[1][j]);
        }
    }
SIMD_UNROLL(14)
    for (int j = 0; j < NC; j++) {
        _mm512_storeu_ps(p + (size_t)j * kpad, acc[0][j]);
        if (TWO)
            _mm512_storeu_ps(p + (size_t)j * kpad + 16, acc[1][j]);
    }
}

typedef void (*dw_product_fn)(const float *, int, const float *, const float *, int, float *,
                              int);
#define DW_PRODUCT(NC, TWO)                                                                  \
    static AVX512_FN void dw_product_##NC##_##TWO(const float *vt, int ins, const float *d0,  \
                                                  const float *d1, int tc, float *p,         \
                                                  int kpad)                                  \
    {                                                                                        \
        dw_product_tile(vt, ins, d0, d1, tc, p, kpad, NC, TWO);                              \
    }
#define DW_PRODUCTS(NC) DW_PRODUCT(NC, 0) DW_PRODUCT(NC, 1)
DW_PRODUCTS(1) DW_PRODUCTS(2) DW_PRODUCTS(3) DW_PRODUCTS(4) DW_PRODUCTS(5) DW_PRODUCTS(6)
DW_PRODUCTS(7) DW_PRODUCTS(8) DW_PRODUCTS(9) DW_PRODUCTS(10) DW_PRODUCTS(11) DW_PRODUCTS(12)
DW_PRODUCTS(13) DW_PRODUCTS(14)
#define DW_PRODUCT_ENTRY(NC) {dw_product_##NC##_0, dw_product_##NC##_1}
static const dw_product_fn dw_products[TILE_T][2] = {
    DW_PRODUCT_ENTRY(1),  DW_PRODUCT_ENTRY(2),  DW_PRODUCT_ENTRY(3),  DW_PRODUCT_ENTRY(4),
    DW_PRODUCT_ENTRY(5),  DW_PRODUCT_ENTRY(6),  DW_PRODUCT_ENTRY(7),  DW_PRODUCT_ENTRY(8),
    DW_PRODUCT_ENTRY(9),  DW_PRODUCT_ENTRY(10), DW_PRODUCT_ENTRY(11), DW_PRODUCT_ENTRY(12),
    DW_PRODUCT_ENTRY(13), DW_PRODUCT_ENTRY(14)};

size_t winograd512_dw_part(const conv_geom *g)
{
    return (size_t)ELEMS * g->c * round16(g->k) + round16(g->k);
}

size_t winograd512_dw_scratch(const conv_geom *g, int tc)
{
    return round16z((size_t)ELEMS * tc * g->c) + (size_t)ELEMS * tc * round16(g->k);
}

void winograd512_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                          const float *dy, size_t y_stride, int count, float *part,
                          float *scratch)
{
    int tc = count * dims_of(g).tiles, kb_count = (g->k + 15) / 16, kpad = kb_count * 16;
    int ins = g->c;
    float *vt = scratch, *dk = vt + round16z((size_t)ELEMS * tc * ins); /* aligned */
    input_by_channel(g, x, x_stride, count, vt);
    dy_by_channel(g, dy, y, y_stride, count, dk);
    for (int e = 0; e < ELEMS; e++) {
        const float *ve = vt + (size_t)e * tc * ins;
        const float *de = dk + (size_t)e * kb_count * tc * 16;
        float *pe = part + (size_t)e * ins * kpad;
        for (int c0 = 0; c0 < ins; c0 += TILE_T) {
            int nc = ins - c0 < TILE_T ? ins - c0 : TILE_T;
            for (int kb = 0; kb < kb_count; kb += 2) {
                const float *d0 = de + (size_t)kb * tc * 16;
                dw_products[nc - 1][kb + 1 < kb_count](ve + c0, ins, d0, d0 + (size_t)tc * 16,
                                                       tc, pe + (size_t)c0 * kpad + kb * 16,
                                                       kpad);
            }
        }
    }
}

/* dw[k][c] += G^T (the parts' P[e][c][k], summed in part order) G, for the
 * filters [f0, f1), 16 of them a vector */
AVX512_FN void winograd512_dw_reduce(const conv_geom *g, const float *part0, size_t stride,
                                     int nparts, int f0, int f1, float *dw)
{
    int kpad = round16(g->k);
    size_t estride = (size_t)g->c * kpad;
    /* channel by channel, so that each of the 36 elements is read in order */
    for (int c = 0; c < g->c; c++)
        for (int k0 = f0; k0 < f1; k0 += LANES) {
            int nl = f1 - k0 < LANES ? f1 - k0 : LANES;
            float s[ELEMS * LANES], out[9 * LANES];
            for (int e = 0; e < ELEMS; e++) {
                __m512 acc = _mm512_setzero_ps();
                for (int q = 0; q < nparts; q++) /* in part order */
                    acc = _mm512_add_ps(acc, _mm512_loadu_ps(part0 + stride * q + estride * e +
                                                             (size_t)c * kpad + k0));
                _mm512_storeu_ps(s + e * LANES, acc);
            }
            TRANSFORM_2D(dw_1d, 6, 6, 3, 3, s, out);
            for (int l = 0; l < nl; l++) {
                float *w = dw + ((size_t)(k0 + l) * g->c + c) * 9;
                for (int i = 0; i < 9; i++)
                    w[i] += out[i * LANES + l];
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

void winograd512_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                          const float *dy, size_t y_stride, int count, float *part,
                          float *scratch)
{
    (void)g, (void)x, (void)x_stride, (void)y, (void)dy, (void)y_stride, (void)count;
    (void)part, (void)scratch;
}

void winograd512_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                           int f0, int f1, float *dw)
{
    (void)g, (void)part0, (void)stride, (void)nparts, (void)f0, (void)f1, (void)dw;
}

size_t winograd512_dw_part(const conv_geom *g)
{
    return (size_t)ELEMS * g->c * round16(g->k) + round16(g->k);
}

size_t winograd512_dw_scratch(const conv_geom *g, int tc)
{
    return round16z((size_t)ELEMS * tc * g->c) + (size_t)ELEMS * tc * round16(g->k);
}

#endif

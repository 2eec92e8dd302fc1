/*
 * CONV_CHANVEC: direct convolution with 16 output channels in one AVX-512
 * vector. A tile of up to 2 rows x 14 output pixels keeps 28 accumulators in
 * registers; for every filter tap one vector of 16 weights is loaded and
 * each pixel's input value is broadcast into it. No im2col: the input is read
 * where it lies (padded once per sample when pad > 0). Tiles are transposed
 * 16x16 on the way out to NCHW.
 *
 * The filter gradient holds 16 filters in a vector too: dy is transposed to
 * pixel-major [P][16] once per sample, then for a block of (channel, row)
 * taps each pixel's dy vector is multiplied by the broadcast input values.
 */
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

#define TILE_W 14 /* output pixels per tile row; 2 rows = 28 accumulators */

size_t chanvec_shared(const conv_geom *g)
{
    size_t opad = (size_t)round16(g->k);
    return opad * g->c * g->kh * g->kw + opad;
}

size_t chanvec_scratch(const conv_geom *g, conv_pass pass)
{
    size_t padded = g->pad ? (size_t)g->c * (g->h + 2 * g->pad) * (g->w + 2 * g->pad) : 0;
    if (pass == CONV_DW)
        padded += (size_t)round16(g->k) * g->oh * g->ow; /* dy transposed */
    return round16z(padded);
}

size_t chanvec_dw_part(const conv_geom *g)
{
    return ((size_t)g->c * g->kh * g->kw + 1) * round16(g->k);
}

void chanvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                  float *packed)
{
    int outs = g->k, ins = g->c, kk = g->kh * g->kw, nob = (outs + 15) / 16;
    for (int ob = 0; ob < nob; ob++)
        for (int i = 0; i < ins; i++)
            for (int t = 0; t < kk; t++) {
                float *dst = packed + (((size_t)ob * ins + i) * kk + t) * 16;
                for (int l = 0; l < 16; l++) {
                    int o = ob * 16 + l;
                    dst[l] = o >= outs ? 0.0f
                             : transposed ? w[((size_t)i * outs + o) * kk + (kk - 1 - t)]
                                          : w[((size_t)o * ins + i) * kk + t];
                }
            }
    float *bias = packed + (size_t)nob * 16 * ins * kk;
    for (int o = 0; o < nob * 16; o++)
        bias[o] = (b && o < outs) ? b[o] : 0.0f;
}

#if SIMD_AVX512

/* acc[r] holds 16 channels of pixel r: store channels [0, nf) of pixels [0, xb). */
AVX512_INLINE void store_transposed(const __m512 *acc, int xb, float *out, size_t oplane,
                                    int nf)
{
    __m512 t[16];
    for (int r = 0; r < 16; r++)
        t[r] = r < xb ? acc[r] : _mm512_setzero_ps();
    transpose16(t);
    __mmask16 m = lanes(xb);
    for (int f = 0; f < nf; f++)
        _mm512_mask_storeu_ps(out + f * oplane, m, t[f]);
}

/* One tile: YB rows x XB pixels x 16 channels. S = 1 fixes the stride at 1
 * so that every broadcast address is a constant offset. */
AVX512_INLINE void fwd_tile(const float *in, size_t plane, int wp, int s, int ins, int kh,
                            int kw, const float *wpk, __m512 bias, float *out, size_t oplane,
                            int ow, int nf, const int XB, const int YB, const int S)
{
    __m512 acc[2][TILE_W];
    const int st = S ? 1 : s;
#pragma GCC unroll 2
    for (int y = 0; y < YB; y++)
#pragma GCC unroll 14
        for (int x = 0; x < XB; x++)
            acc[y][x] = bias;
    for (int c = 0; c < ins; c++)
        for (int i = 0; i < kh; i++) {
            const float *r0 = in + c * plane + (size_t)i * wp;
            const float *r1 = r0 + (size_t)st * wp;
            const float *wr = wpk + ((size_t)c * kh + i) * kw * 16;
            for (int j = 0; j < kw; j++) {
                __m512 wv = _mm512_load_ps(wr + j * 16);
#pragma GCC unroll 14
                for (int x = 0; x < XB; x++) {
                    acc[0][x] = _mm512_fmadd_ps(_mm512_set1_ps(r0[x * st + j]), wv, acc[0][x]);
                    if (YB > 1)
                        acc[1][x] =
                            _mm512_fmadd_ps(_mm512_set1_ps(r1[x * st + j]), wv, acc[1][x]);
                }
            }
        }
#pragma GCC unroll 2
    for (int y = 0; y < YB; y++)
        store_transposed(acc[y], XB, out + (size_t)y * ow, oplane, nf);
}

typedef void (*fwd_tile_fn)(const float *, size_t, int, int, int, int, int, const float *,
                            __m512, float *, size_t, int, int);

#define FWD_TILE(XB, YB, S)                                                                 \
    static AVX512_FN void fwd_tile_##XB##_##YB##_##S(                                       \
        const float *in, size_t plane, int wp, int s, int ins, int kh, int kw,              \
        const float *wpk, __m512 bias, float *out, size_t oplane, int ow, int nf)           \
    {                                                                                       \
        fwd_tile(in, plane, wp, s, ins, kh, kw, wpk, bias, out, oplane, ow, nf, XB, YB, S); \
    }
#define FWD_TILES(XB) FWD_TILE(XB, 1, 0) FWD_TILE(XB, 2, 0) FWD_TILE(XB, 1, 1) FWD_TILE(XB, 2, 1)
FWD_TILES(1) FWD_TILES(2) FWD_TILES(3) FWD_TILES(4) FWD_TILES(5) FWD_TILES(6) FWD_TILES(7)
FWD_TILES(8) FWD_TILES(9) FWD_TILES(10) FWD_TILES(11) FWD_TILES(12) FWD_TILES(13)
FWD_TILES(14)
#define FWD_ENTRY(XB)                                                                       \
    {{fwd_tile_##XB##_1_0, fwd_tile_##XB##_1_1}, {fwd_tile_##XB##_2_0, fwd_tile_##XB##_2_1}}
/* [XB - 1][YB - 1][stride is 1] */
static const fwd_tile_fn fwd_tiles[TILE_W][2][2] = {
    FWD_ENTRY(1), FWD_ENTRY(2), FWD_ENTRY(3), FWD_ENTRY(4), FWD_ENTRY(5),
    FWD_ENTRY(6), FWD_ENTRY(7), FWD_ENTRY(8), FWD_ENTRY(9), FWD_ENTRY(10),
    FWD_ENTRY(11), FWD_ENTRY(12), FWD_ENTRY(13), FWD_ENTRY(14)};

void chanvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                           const float *x, float *y, float *scratch)
{
    int ins = g->c, outs = g->k, kk = g->kh * g->kw, s = g->stride;
    int hp = g->h + 2 * g->pad, wp = g->w + 2 * g->pad;
    const float *in = x;
    if (g->pad) {
        pad_planes(x, ins, g->h, g->w, g->pad, g->pad, hp, wp, scratch);
        in = scratch;
    }
    size_t plane = (size_t)hp * wp, oplane = (size_t)g->oh * g->ow;
    int nob = (outs + 15) / 16;
    int segs = (g->ow + TILE_W - 1) / TILE_W, xb = (g->ow + segs - 1) / segs;
    const float *bias = packed + (size_t)nob * 16 * ins * kk;
    for (int ob = 0; ob < nob; ob++) {
        const float *wpk = packed + (size_t)ob * ins * kk * 16;
        __m512 bv = has_bias ? _mm512_loadu_ps(bias + ob * 16) : _mm512_setzero_ps();
        int nf = outs - ob * 16 < 16 ? outs - ob * 16 : 16;
        float *yo = y + (size_t)ob * 16 * oplane;
        for (int oy = 0; oy < g->oh; oy += 2) {
            int rows = g->oh - oy < 2 ? 1 : 2;
            for (int x0 = 0; x0 < g->ow; x0 += xb) {
                int w_ = g->ow - x0 < xb ? g->ow - x0 : xb;
                fwd_tiles[w_ - 1][rows - 1][s == 1](
                    in + (size_t)oy * s * wp + (size_t)x0 * s, plane, wp, s, ins, g->kh, g->kw,
                    wpk, bv, yo + (size_t)oy * g->ow + x0, oplane, g->ow, nf);
            }
        }
    }
}

/* dy [K][P] -> dyT [K/16][P][16] (channels past K zero); adds the pixel sums to dbias. */
static AVX512_FN void transpose_dy(const float *dy, int outs, int npix, float *dyt, float *dbias)
{
    int nob = (outs + 15) / 16;
    for (int ob = 0; ob < nob; ob++) {
        __m512 bsum = _mm512_setzero_ps();
        float *dst = dyt + (size_t)ob * npix * 16;
        for (int p0 = 0; p0 < npix; p0 += 16) {
            __m512 t[16];
            __mmask16 m = lanes(npix - p0);
            for (int l = 0; l < 16; l++) {
                int f = ob * 16 + l;
                t[l] = f < outs ? _mm512_maskz_loadu_ps(m, dy + (size_t)f * npix + p0)
                                : _mm512_setzero_ps();
            }
            transpose16(t);
            int np = npix - p0 < 16 ? npix - p0 : 16;
            for (int q = 0; q < np; q++) {
                _mm512_store_ps(dst + (size_t)(p0 + q) * 16, t[q]);
                bsum = _mm512_add_ps(bsum, t[q]);
            }
        }
        _mm512_storeu_ps(dbias + ob * 16, _mm512_add_ps(_mm512_loadu_ps(dbias + ob * 16), bsum));
    }
}

/* Filter gradient of NR (channel, kernel row) tap rows x KK columns for FB
 * blocks of 16 filters, summed over all pixels of one sample. With FB > 1
 * each broadcast input value serves FB blocks (NR is then one channel's
 * rows, so three row pointers suffice). */
AVX512_INLINE void dw_tile(const float *in, size_t plane, int wp, int s, int kh, int oh, int ow,
                           const float *dyt, size_t fstride, int q0, float *part, int kpad,
                           const int KK, const int NR, const int FB)
{
    size_t off[9];
#pragma GCC unroll 9
    for (int q = 0; q < NR; q++)
        off[q] = (size_t)((q0 + q) / kh) * plane + (size_t)((q0 + q) % kh) * wp;
    __m512 acc[3][9][11];
#pragma GCC unroll 3
    for (int f = 0; f < FB; f++)
#pragma GCC unroll 9
        for (int q = 0; q < NR; q++)
#pragma GCC unroll 11
            for (int j = 0; j < KK; j++)
                acc[f][q][j] = _mm512_setzero_ps();
    const float *d = dyt;
    for (int oy = 0; oy < oh; oy++) {
        const float *base = in + (size_t)oy * s * wp;
        for (int ox = 0; ox < ow; ox++, base += s, d += 16) {
            __m512 dv[3];
#pragma GCC unroll 3
            for (int f = 0; f < FB; f++)
                dv[f] = _mm512_load_ps(d + f * fstride);
#pragma GCC unroll 9
            for (int q = 0; q < NR; q++)
#pragma GCC unroll 11
                for (int j = 0; j < KK; j++) {
                    if (FB == 1) {
                        acc[0][q][j] =
                            _mm512_fmadd_ps(_mm512_set1_ps(base[off[q] + j]), dv[0], acc[0][q][j]);
                    } else {
                        __m512 b = _mm512_set1_ps(base[off[q] + j]);
#pragma GCC unroll 3
                        for (int f = 0; f < FB; f++)
                            acc[f][q][j] = _mm512_fmadd_ps(b, dv[f], acc[f][q][j]);
                    }
                }
        }
    }
#pragma GCC unroll 3
    for (int f = 0; f < FB; f++)
#pragma GCC unroll 9
        for (int q = 0; q < NR; q++)
#pragma GCC unroll 11
            for (int j = 0; j < KK; j++) {
                float *p = part + ((size_t)(q0 + q) * KK + j) * kpad + 16 * f;
                _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[f][q][j]));
            }
}

typedef void (*dw_tile_fn)(const float *, size_t, int, int, int, int, int, const float *, size_t,
                           int, float *, int);
#define DW_TILE(KK, NR, FB)                                                                 \
    static AVX512_FN void dw_tile_##KK##_##NR##_##FB(                                       \
        const float *in, size_t plane, int wp, int s, int kh, int oh, int ow,               \
        const float *dyt, size_t fstride, int q0, float *part, int kpad)                     \
    {                                                                                       \
        dw_tile(in, plane, wp, s, kh, oh, ow, dyt, fstride, q0, part, kpad, KK, NR, FB);    \
    }
DW_TILE(3, 1, 1) DW_TILE(3, 2, 1) DW_TILE(3, 3, 1) DW_TILE(3, 4, 1) DW_TILE(3, 5, 1)
DW_TILE(3, 6, 1) DW_TILE(3, 7, 1) DW_TILE(3, 8, 1) DW_TILE(3, 9, 1)
DW_TILE(3, 3, 2) DW_TILE(3, 3, 3)
DW_TILE(5, 1, 1) DW_TILE(5, 2, 1) DW_TILE(5, 3, 1) DW_TILE(5, 4, 1) DW_TILE(5, 5, 1)
DW_TILE(7, 1, 1) DW_TILE(7, 2, 1) DW_TILE(7, 3, 1) DW_TILE(7, 4, 1)
DW_TILE(11, 1, 1) DW_TILE(11, 2, 1)

/* rows per tile for each supported kernel width, and the tiles by row count */
static int dw_rows(int kw) { return kw == 3 ? 9 : kw == 5 ? 5 : kw == 7 ? 4 : kw == 11 ? 2 : 0; }

static dw_tile_fn dw_tile_for(int kw, int nr)
{
    static const dw_tile_fn k3[9] = {dw_tile_3_1_1, dw_tile_3_2_1, dw_tile_3_3_1,
                                     dw_tile_3_4_1, dw_tile_3_5_1, dw_tile_3_6_1,
                                     dw_tile_3_7_1, dw_tile_3_8_1, dw_tile_3_9_1};
    static const dw_tile_fn k5[5] = {dw_tile_5_1_1, dw_tile_5_2_1, dw_tile_5_3_1, dw_tile_5_4_1,
                                     dw_tile_5_5_1};
    static const dw_tile_fn k7[4] = {dw_tile_7_1_1, dw_tile_7_2_1, dw_tile_7_3_1, dw_tile_7_4_1};
    static const dw_tile_fn k11[2] = {dw_tile_11_1_1, dw_tile_11_2_1};
    switch (kw) {
    case 3: return k3[nr - 1];
    case 5: return k5[nr - 1];
    case 7: return k7[nr - 1];
    default: return k11[nr - 1];
    }
}

/* Filter blocks a 3x3 tile serves at once: 3 or 2 when they divide the blocks. */
static int dw_blocks_per_tile(const conv_geom *g)
{
    int nob = round16(g->k) / 16;
    if (g->kw != 3 || g->kh != 3)
        return 1;
    return nob % 3 == 0 ? 3 : nob % 2 == 0 ? 2 : 1;
}

void chanvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                      float *scratch)
{
    int hp = g->h + 2 * g->pad, wp = g->w + 2 * g->pad, kpad = round16(g->k);
    int npix = g->oh * g->ow, rows = g->c * g->kh, nr_max = dw_rows(g->kw);
    const float *in = x;
    float *dyt = scratch;
    if (g->pad) {
        pad_planes(x, g->c, g->h, g->w, g->pad, g->pad, hp, wp, scratch);
        in = scratch;
        dyt = scratch + round16z((size_t)g->c * hp * wp);
    }
    size_t plane = (size_t)hp * wp;
    float *dbias = part + (size_t)g->c * g->kh * g->kw * kpad;
    transpose_dy(dy, g->k, npix, dyt, dbias);
    int fb = dw_blocks_per_tile(g);
    size_t fstride = (size_t)npix * 16;
    if (fb > 1) {
        dw_tile_fn tile = fb == 3 ? dw_tile_3_3_3 : dw_tile_3_3_2;
        for (int ob = 0; ob < kpad / 16; ob += fb)
            for (int q0 = 0; q0 < rows; q0 += 3)
                tile(in, plane, wp, g->stride, g->kh, g->oh, g->ow, dyt + ob * fstride, fstride,
                     q0, part + ob * 16, kpad);
        return;
    }
    for (int ob = 0; ob < kpad / 16; ob++)
        for (int q0 = 0; q0 < rows; q0 += nr_max) {
            int nr = rows - q0 < nr_max ? rows - q0 : nr_max;
            dw_tile_for(g->kw, nr)(in, plane, wp, g->stride, g->kh, g->oh, g->ow,
                                   dyt + ob * fstride, fstride, q0, part + ob * 16, kpad);
        }
}

int chanvec_dw_supported(const conv_geom *g) { return dw_rows(g->kw) > 0; }

#else /* no AVX-512 at compile time: never chosen (conv_algo_usable says no) */

void chanvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                           const float *x, float *y, float *scratch)
{
    (void)g, (void)packed, (void)has_bias, (void)x, (void)y, (void)scratch;
}

void chanvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                      float *scratch)
{
    (void)g, (void)x, (void)dy, (void)part, (void)scratch;
}

int chanvec_dw_supported(const conv_geom *g) { (void)g; return 0; }

#endif

void chanvec_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                       int f0, int f1, float *dw, float *db)
{
    int kpad = round16(g->k);
    size_t taps = (size_t)g->c * g->kh * g->kw;
    for (int f = f0; f < f1; f++) {
        for (size_t t = 0; t < taps; t++) {
            float s = 0.0f;
            for (int p = 0; p < nparts; p++)
                s += part0[stride * p + t * kpad + f];
            dw[f * taps + t] += s;
        }
        if (db) {
            float s = 0.0f;
            for (int p = 0; p < nparts; p++)
                s += part0[stride * p + taps * kpad + f];
            db[f] += s;
        }
    }
}

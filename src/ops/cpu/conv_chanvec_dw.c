/*
 * CONV_CHANVEC's filter gradient: 16 filters in a vector, as the forward
 * pass. dy is transposed to pixel-major [P][16] once per sample; then for a
 * block of (channel, kernel row) taps, each pixel's dy vector is multiplied
 * by the broadcast input values under those taps and summed over the
 * sample's pixels. For 3x3 filters a tile serves 2 or 3 blocks of 16
 * filters, so that each broadcast value is used more than once.
 */
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

size_t chanvec_dw_part(const conv_geom *g)
{
    return ((size_t)g->c * g->kh * g->kw + 1) * round16(g->k);
}

#if SIMD_AVX512

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
SIMD_UNROLL(9)
    for (int q = 0; q < NR; q++)
        off[q] = (size_t)((q0 + q) / kh) * plane + (size_t)((q0 + q) % kh) * wp;
    __m512 acc[3][9][11];
SIMD_UNROLL(3)
    for (int f = 0; f < FB; f++)
SIMD_UNROLL(9)
        for (int q = 0; q < NR; q++)
SIMD_UNROLL(11)
            for (int j = 0; j < KK; j++)
                acc[f][q][j] = _mm512_setzero_ps();
    const float *d = dyt;
    for (int oy = 0; oy < oh; oy++) {
        /* one pointer per tap row, stepped along the output row: the taps of
         * a row are then constant displacements from it (indexing base by
         * off[q] + j made the compiler keep NR x KK offsets, spilled) */
        const float *row[9];
SIMD_UNROLL(9)
        for (int q = 0; q < NR; q++)
            row[q] = in + (size_t)oy * s * wp + off[q];
        for (int ox = 0; ox < ow; ox++, d += 16) {
            __m512 dv[3];
SIMD_UNROLL(3)
            for (int f = 0; f < FB; f++)
                dv[f] = _mm512_load_ps(d + f * fstride);
SIMD_UNROLL(9)
            for (int q = 0; q < NR; q++) {
SIMD_UNROLL(11)
                for (int j = 0; j < KK; j++) {
                    __m512 b = _mm512_set1_ps(row[q][j]);
SIMD_UNROLL(3)
                    for (int f = 0; f < FB; f++)
                        acc[f][q][j] = _mm512_fmadd_ps(b, dv[f], acc[f][q][j]);
                }
                row[q] += s;
            }
        }
    }
SIMD_UNROLL(3)
    for (int f = 0; f < FB; f++)
SIMD_UNROLL(9)
        for (int q = 0; q < NR; q++)
SIMD_UNROLL(11)
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

/*
 * CONV_BATCHLANE: direct stride-1 convolution with 16 SAMPLES of the batch in
 * the 16 lanes of an AVX-512 vector (bench/kernels/batchlane_bench.c was its
 * prototype). Each block of up to 16 samples is transposed to
 * [channel][y][x][16] (missing samples of a last partial block are zero
 * lanes, never written back), the weights are broadcast, and every lane does
 * useful work whatever the channel count or row width. Taps that fall
 * outside the input are skipped exactly, rows by the loop bounds and
 * columns by a check in the edge tiles, so a 'full' convolution (the input
 * gradient, padded by k-1-pad) multiplies no padding zeros.
 *
 * It is a forward kernel like rowvec's and chanvec's: the library runs it
 * for the input gradient only (conv_algo_usable), on the geometry of
 * conv_dx_geometry with the filters packed transposed; there it pays for
 * layers with few input channels (LeNet-5's second conv: 16 channels of dy
 * in, 6 of dx out, where rowvec's 14-wide rows waste lanes on a mostly
 * padded input). forward_group runs it too, for stride-1 geometries, so that
 * the benches can time the input gradient as the forward of dy.
 *
 * One output row at a time: tiles of NC output channels x NJ output columns
 * (6 x 4 = 24 accumulators, 6 broadcast weights, one input vector), each
 * input vector loaded once per kernel column for all NC channels. Each row
 * goes back to NCHW through a row buffer while it is in L1; a fused ReLU's
 * mask on dy is applied while dy is transposed into the lane layout (dy
 * where y > 0, else +0: relu_mask's bits).
 *
 * Every output value is a sum over its own sample's taps in a fixed order
 * (input channel, kernel row, kernel column), whatever block or thread
 * computes it: the same bits for every thread count.
 */
#include <stdint.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"

/* Lane-layout floats of the input block and of the row buffer. */
static size_t input_floats(const conv_geom *g) { return (size_t)g->c * g->h * g->w * 16; }
static size_t row_floats(const conv_geom *g) { return (size_t)g->k * g->ow * 16; }

int batchlane_supported(const conv_geom *g)
{
    return g->stride == 1 && g->kh == g->kw && g->pad >= 0 && g->oh > 0 && g->ow > 0 &&
           g->oh == g->h + 2 * g->pad - g->kh + 1 && g->ow == g->w + 2 * g->pad - g->kw + 1;
}

size_t batchlane_shared(const conv_geom *g)
{
    return round16z((size_t)g->k * g->c * g->kh * g->kw + g->k);
}

size_t batchlane_scratch(const conv_geom *g)
{
    return round16z(input_floats(g)) + round16z(row_floats(g));
}

/* [in][k][k][out] (one block of all the output channels), then the bias */
void batchlane_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                    float *packed)
{
    pack_filters(g, w, b, transposed, g->k, packed);
}

#if SIMD_AVX512

/* A block of `ns` <= 16 samples (`stride` floats apart, `elems` floats
 * each) to [elems][16], missing samples as zero lanes; with `mask` (as far
 * from each sample), a value is read as +0 where its mask is not > 0. */
static AVX512_FN void to_lanes(const float *src, const float *mask, size_t stride, int ns,
                               size_t elems, float *dst)
{
    const __m512 zero = _mm512_setzero_ps();
    for (size_t e = 0; e < elems; e += 16) {
        int cnt = elems - e < 16 ? (int)(elems - e) : 16;
        __mmask16 m = lanes(cnt);
        __m512 r[16];
        for (int s = 0; s < 16; s++) {
            __mmask16 ms = s < ns ? m : 0;
            if (mask && ms)
                ms &= _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(ms, mask + stride * s + e), zero,
                                         _CMP_GT_OQ);
            r[s] = _mm512_maskz_loadu_ps(ms, src + stride * s + e);
        }
        transpose16(r);
        for (int i = 0; i < cnt; i++)
            _mm512_storeu_ps(dst + (e + i) * 16, r[i]);
    }
}

/* The shape a tile works on (the geometry the kernel runs). */
typedef struct bl_shape {
    int ih, iw, ow, pad, ks, cin, cout;
} bl_shape;

#define MAXC 6
#define MAXJ 8

/* One output row `oy`, output channels [co0, co0 + NC), columns [ox0, ox0 +
 * nj) (nj <= NJ) into the row buffer `out` ([cout][ow][16]): bias[co] + the
 * sum of in[ci][oy + a - pad][ox + b - pad] * wp[ci][a][b][co] over the taps
 * inside the input. EDGE 0: the caller knows every column tap is inside and
 * nj == NJ, no checks. KSC: the kernel size where it is a constant (the
 * kernel columns unrolled; the edge tiles' checks one bit test each, of a
 * mask made once per tile), 0 for any. */
AVX512_INLINE void tile(const float *in, const float *wp, const float *bias, float *out, int oy,
                        const bl_shape *s, int co0, int ox0, int nj, const int NC, const int NJ,
                        const int EDGE, const int KSC)
{
    const int IH = s->ih, IW = s->iw, PAD = s->pad, KS = KSC ? KSC : s->ks, COUT = s->cout;
    uint64_t inside = 0; /* bit j * KSC + b: column tap b of column j is inside */
    if (EDGE && KSC)
        for (int j = 0; j < nj; j++)
            for (int b = 0; b < KSC; b++)
                if ((unsigned)(ox0 - PAD + j + b) < (unsigned)IW)
                    inside |= (uint64_t)1 << (j * KSC + b);
    __m512 acc[MAXC][MAXJ];
    SIMD_UNROLL(8)
    for (int c = 0; c < NC; c++)
        SIMD_UNROLL(8)
        for (int j = 0; j < NJ; j++)
            acc[c][j] = bias ? _mm512_set1_ps(bias[co0 + c]) : _mm512_setzero_ps();
    int a_lo = PAD - oy > 0 ? PAD - oy : 0;
    int a_hi = IH - 1 + PAD - oy < KS - 1 ? IH - 1 + PAD - oy : KS - 1;
    for (int ci = 0; ci < s->cin; ci++)
        for (int a = a_lo; a <= a_hi; a++) {
            const float *row = in + (size_t)(ci * IH + oy + a - PAD) * IW * 16;
            const float *wr = wp + (size_t)((ci * KS + a) * KS) * COUT + co0;
            SIMD_UNROLL(8)
            for (int b = 0; b < KS; b++) {
                /* opaque: else the compiler keeps input vectors live across b */
                __asm__("" : "+r"(row));
                __m512 wv[MAXC];
                SIMD_UNROLL(8)
                for (int c = 0; c < NC; c++)
                    wv[c] = _mm512_set1_ps(wr[b * COUT + c]);
                int x0 = ox0 - PAD + b;
                SIMD_UNROLL(8)
                for (int j = 0; j < NJ; j++) {
                    if (EDGE && KSC && !(inside >> (j * KSC + b) & 1))
                        continue;
                    if (EDGE && !KSC && (j >= nj || (unsigned)(x0 + j) >= (unsigned)IW))
                        continue;
                    __m512 v = _mm512_loadu_ps(row + (size_t)(x0 + j) * 16);
                    __asm__("" : "+v"(v)); /* one load, not one per FMA */
                    SIMD_UNROLL(8)
                    for (int c = 0; c < NC; c++)
                        acc[c][j] = fma231(acc[c][j], wv[c], v);
                }
            }
        }
    SIMD_UNROLL(8)
    for (int c = 0; c < NC; c++)
        SIMD_UNROLL(8)
        for (int j = 0; j < NJ; j++)
            if (!EDGE || j < nj)
                _mm512_storeu_ps(out + ((size_t)(co0 + c) * s->ow + ox0 + j) * 16, acc[c][j]);
}

typedef void (*tile_fn)(const float *, const float *, const float *, float *, int,
                        const bl_shape *, int, int, int);
#define TILE(NC, NJ, KSC)                                                                    \
    static AVX512_FN void tile_##NC##_##KSC##_edge(const float *in, const float *wp,         \
                                                   const float *bias, float *out, int oy,     \
                                                   const bl_shape *s, int co0, int ox0,       \
                                                   int nj)                                    \
    {                                                                                        \
        tile(in, wp, bias, out, oy, s, co0, ox0, nj, NC, NJ, 1, KSC);                        \
    }                                                                                        \
    static AVX512_FN void tile_##NC##_##KSC##_inner(const float *in, const float *wp,        \
                                                    const float *bias, float *out, int oy,    \
                                                    const bl_shape *s, int co0, int ox0,      \
                                                    int nj)                                   \
    {                                                                                        \
        tile(in, wp, bias, out, oy, s, co0, ox0, nj, NC, NJ, 0, KSC);                        \
    }
/* NC x NJ accumulators + NC weights + 1 input within the 32 registers; for
 * any kernel size, and 3x3 and 5x5 unrolled */
#define TILES(KSC)                                                                           \
    TILE(1, 8, KSC) TILE(2, 8, KSC) TILE(3, 8, KSC) TILE(4, 6, KSC) TILE(5, 4, KSC)          \
    TILE(6, 4, KSC)
TILES(0) TILES(3) TILES(5)

typedef struct tile_pair {
    tile_fn edge, inner;
} tile_pair;
#define PAIR(NC, KSC) {tile_##NC##_##KSC##_edge, tile_##NC##_##KSC##_inner}
#define PAIRS(KSC)                                                                           \
    {{NULL, NULL}, PAIR(1, KSC), PAIR(2, KSC), PAIR(3, KSC), PAIR(4, KSC), PAIR(5, KSC),     \
     PAIR(6, KSC)}
static const tile_pair tiles_any[MAXC + 1] = PAIRS(0), tiles_3[MAXC + 1] = PAIRS(3),
                       tiles_5[MAXC + 1] = PAIRS(5);
static const int tile_columns[MAXC + 1] = {0, 8, 8, 8, 6, 4, 4}; /* NJ by NC */

/* The block in lane layout (`in`) convolved row by row; each row of every
 * output channel back to the `ns` samples of y from the row buffer. */
static AVX512_FN void block_rows(const conv_geom *g, const float *packed, int has_bias,
                                 const float *in, float *row, float *y, size_t y_stride, int ns)
{
    bl_shape s = {g->h, g->w, g->ow, g->pad, g->kh, g->c, g->k};
    const float *bias = has_bias ? packed + (size_t)g->k * g->c * g->kh * g->kw : NULL;
    /* channel blocks of at most MAXC, as even as they come (16: 6, 5, 5) */
    int ncb = (g->k + MAXC - 1) / MAXC;
    const tile_pair *tiles = g->kh == 5 ? tiles_5 : g->kh == 3 ? tiles_3 : tiles_any;
    for (int oy = 0; oy < g->oh; oy++) {
        for (int cb = 0, co0 = 0; cb < ncb; cb++) {
            int nc = g->k / ncb + (cb < g->k % ncb);
            int njmax = tile_columns[nc], nt = (g->ow + njmax - 1) / njmax;
            /* column tiles as even as they come (14 by 4: 4, 4, 3, 3) */
            for (int t = 0, ox0 = 0; t < nt; t++) {
                int nj = g->ow / nt + (t < g->ow % nt);
                int inside = nj == njmax && ox0 - g->pad >= 0 &&
                             ox0 + nj - 1 - g->pad + g->kw - 1 <= g->w - 1;
                (inside ? tiles[nc].inner : tiles[nc].edge)(in, packed, bias, row, oy, &s, co0,
                                                            ox0, nj);
                ox0 += nj;
            }
            co0 += nc;
        }
        size_t oplane = (size_t)g->oh * g->ow;
        for (int c = 0; c < g->k; c++)
            from_lanes(row + (size_t)c * g->ow * 16, g->ow, ns,
                       y + c * oplane + (size_t)oy * g->ow, y_stride);
    }
}

void batchlane_forward_block(const conv_geom *g, const float *packed, int has_bias,
                             const float *x, size_t x_stride, const float *mask, float *y,
                             size_t y_stride, int count, float *scratch)
{
    float *in = scratch, *row = scratch + round16z(input_floats(g));
    to_lanes(x, mask, x_stride, count, (size_t)g->c * g->h * g->w, in);
    block_rows(g, packed, has_bias, in, row, y, y_stride, count);
}

#else

void batchlane_forward_block(const conv_geom *g, const float *packed, int has_bias,
                             const float *x, size_t x_stride, const float *mask, float *y,
                             size_t y_stride, int count, float *scratch)
{
    (void)g, (void)packed, (void)has_bias, (void)x, (void)x_stride, (void)mask, (void)y;
    (void)y_stride, (void)count, (void)scratch;
}

#endif

/*
 * bench/kernels/batchlane_bench: a prototype "batch-lane" direct convolution
 * for LeNet-5's small-channel layers, against the library's algorithm for
 * the same pass (conv_plan_auto's), one thread, batch 64.
 *
 * The library's direct kernels vectorise over the output pixels of a row
 * (rowvec: 14- or 28-wide rows waste lanes, and the input gradient as a
 * padded 'full' convolution multiplies many zeros) or over output channels
 * (chanvec: LeNet's 6 channels fill 6 of 16 lanes). Here the 16 lanes hold
 * 16 SAMPLES: each block of 16 samples is transposed to [channel][y][x][16]
 * (a last partial block has zero lanes), the weights are broadcast, and
 * every tap at a border is skipped exactly (the tile positions are
 * compile-time constants, so the skipped taps cost nothing).
 *   forward, dx  one output row at a time, tiles of output channels x
 *                output columns (6 x 4 = 24 zmm accumulators; lenet2
 *                forward 4 x 5): per kernel column the tile's weights are
 *                broadcast into registers and each input vector is loaded
 *                once for them (10 loads per 24 FMAs). dx is the forward of
 *                dy with the filters flipped and in/out swapped, 'padded'
 *                by k-1 but without the padding's taps.
 *   dw           tiles of output channels x kernel columns (3 x 5, lenet2
 *                4 x 5) per (input channel, kernel row); dy and x vectors
 *                are multiplied lane by lane, so each lane sums its own
 *                sample's terms, and the 16 lanes are added once at the end
 *                (hsum16, a fixed order: the same bits on every run).
 * The timings include the transposes into and out of that layout (the
 * library's tensors are NCHW): whole blocks, except lenet1's output
 * (forward) and dy (dw) and lenet2's dx, which go row by row through a
 * row buffer while it is in L1. The "kernels" column times the same
 * kernels without any transpose, on the buffers as they are (what a
 * network that kept its activations in this layout would pay); the
 * transposes' column is the difference of the medians, so it holds their
 * traffic to the NCHW tensors too.
 * Every pass is first checked against a plain double-precision reference
 * (max |a - b| / (1 + |b|), tolerance 1e-4) at batches 64, 37 and 5 (partial
 * blocks), the library's result too, and run twice for the same bits; then
 * timed in thread CPU time, each kernel after the other in turn, REPEATS
 * times (best and median), in useful GFLOP/s: 2 * the multiply-adds whose
 * input lies inside the image (the padding's taps are not counted, so
 * lenet1 reads lower than conv_bench).
 *   batchlane_bench [REPEATS]   (default 40)
 *   batchlane_bench --check     the checks alone (CTest batchlane_bench_check)
 * Build: see bench/kernels/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/simd.h"
#include "soma.h"

enum { FWD, DX, DW, BWD }; /* BWD: dx and dw together, dy transposed once */
static const char *const pass_names[] = {"forward", "dx", "dw", "dx+dw"};
static const char *const algo_names[] = {"gemm", "chanvec", "rowvec", "winograd", "batchlane"};

typedef struct layer {
    const char *name;
    int c, h, w, k, size, pad; /* stride 1; output (h + 2 pad - size + 1) square */
} layer;

static const layer lenet1 = {"lenet1", 1, 28, 28, 6, 5, 2};
static const layer lenet2 = {"lenet2", 6, 14, 14, 16, 5, 0};

/* ---- the batch-lane kernels ---- */
#if SIMD_AVX512

#define MAXC 8 /* accumulator tile bounds (fixed-size arrays: no VLAs) */
#define MAXJ 8

/* Transposes a block of `ns` <= 16 samples (`stride` floats apart, `elems`
 * floats each) to [elems][16]; missing samples are zero lanes. */
static AVX512_FN void to_lanes(const float *src, size_t stride, int ns, int elems, float *dst)
{
    for (int e = 0; e < elems; e += 16) {
        int cnt = elems - e < 16 ? elems - e : 16;
        __mmask16 m = lanes(cnt);
        __m512 r[16];
        for (int s = 0; s < 16; s++)
            r[s] = s < ns ? _mm512_maskz_loadu_ps(m, src + stride * s + e) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < cnt; i++)
            _mm512_store_ps(dst + (size_t)(e + i) * 16, r[i]);
    }
}

/* One output row `oy`, output channels [co0, co0 + NC), columns [ox0, ox0 +
 * NJ) of out[co][ox] = bias[co] + sum in[ci][oy + a - PAD][ox + b - PAD] *
 * wp[ci][a][b][co] over the taps inside the input; `out` is row oy of
 * channel 0, channels OPLANE vectors apart. Every argument but the pointers
 * and oy is a constant where it is called: the column checks fold away and
 * the loops unroll into register code. */
AVX512_INLINE void fwd_tile(const float *in, const float *wp, const float *bias, float *out,
                            int oy, const int IH, const int IW, const int OPLANE, const int PAD,
                            const int KS, const int CIN, const int COUT, const int co0,
                            const int NC, const int ox0, const int NJ)
{
    __m512 acc[MAXC][MAXJ];
    SIMD_UNROLL(8)
    for (int c = 0; c < NC; c++)
        SIMD_UNROLL(8)
        for (int j = 0; j < NJ; j++)
            acc[c][j] = bias ? _mm512_set1_ps(bias[co0 + c]) : _mm512_setzero_ps();
    int a_lo = PAD - oy > 0 ? PAD - oy : 0;
    int a_hi = IH - 1 + PAD - oy < KS - 1 ? IH - 1 + PAD - oy : KS - 1;
    for (int ci = 0; ci < CIN; ci++)
        for (int a = a_lo; a <= a_hi; a++) {
            const float *row = in + (size_t)((ci * IH + oy + a - PAD) * IW) * 16;
            const float *wr = wp + ((ci * KS + a) * KS) * COUT + co0;
            /* the NC weights of a kernel column in registers (NC x NJ + NC + 1
             * zmm), each input vector loaded once for them */
            SIMD_UNROLL(8)
            for (int b = 0; b < KS; b++) {
                /* opaque to the compiler: it would otherwise keep every input
                 * vector of the row live across the columns b, and spill */
                __asm__("" : "+r"(row));
                __m512 wv[MAXC];
                SIMD_UNROLL(8)
                for (int c = 0; c < NC; c++)
                    wv[c] = _mm512_set1_ps(wr[b * COUT + c]);
                SIMD_UNROLL(8)
                for (int j = 0; j < NJ; j++) {
                    int xi = ox0 - PAD + j + b;
                    if (xi < 0 || xi >= IW)
                        continue;
                    __m512 v = _mm512_load_ps(row + xi * 16);
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
            _mm512_store_ps(out + (size_t)((co0 + c) * OPLANE + ox0 + j) * 16, acc[c][j]);
}

/* Lane sums of dw[co][ci][a][b] (part: [COUT][CIN][KS][KS][16]) for output
 * channels [co0, co0 + NK), input channel ci, kernel row a, every b, over
 * the output rows [oy0, oy1): dy[co][oy][ox] * in[ci][oy + a - PAD][ox + b -
 * PAD], the taps inside the input; `dy` is row oy0 of channel 0, channels
 * DPLANE vectors apart. The accumulators stay in registers over the rows.
 * Constants as in fwd_tile. */
AVX512_INLINE void dw_rows(const float *in, const float *dy, float *part, int oy0, int oy1,
                           const int IH, const int IW, const int DPLANE, const int OW,
                           const int PAD, const int KS, const int CIN, int ci, const int co0,
                           const int NK, int a)
{
    __m512 acc[MAXC][MAXJ];
    float *p[MAXC];
    SIMD_UNROLL(8)
    for (int c = 0; c < NK; c++) {
        p[c] = part + (size_t)((((co0 + c) * CIN + ci) * KS + a) * KS) * 16;
        SIMD_UNROLL(8)
        for (int b = 0; b < KS; b++)
            acc[c][b] = _mm512_load_ps(p[c] + b * 16);
    }
    for (int oy = oy0; oy < oy1; oy++) {
        int iy = oy + a - PAD;
        if (iy < 0 || iy >= IH)
            continue;
        const float *row = in + (size_t)((ci * IH + iy) * IW) * 16;
        const float *drow = dy + (size_t)((co0 * DPLANE + (oy - oy0) * OW)) * 16;
        SIMD_UNROLL(32)
        for (int ox = 0; ox < OW; ox++) {
            __m512 d[MAXC];
            SIMD_UNROLL(8)
            for (int c = 0; c < NK; c++)
                d[c] = _mm512_load_ps(drow + (size_t)(c * DPLANE + ox) * 16);
            SIMD_UNROLL(8)
            for (int b = 0; b < KS; b++) {
                int xi = ox + b - PAD;
                if (xi < 0 || xi >= IW)
                    continue;
                __m512 v = _mm512_load_ps(row + xi * 16);
                SIMD_UNROLL(8)
                for (int c = 0; c < NK; c++)
                    acc[c][b] = fma231(acc[c][b], d[c], v);
            }
        }
    }
    SIMD_UNROLL(8)
    for (int c = 0; c < NK; c++)
        SIMD_UNROLL(8)
        for (int b = 0; b < KS; b++)
            _mm512_store_ps(p[c] + b * 16, acc[c][b]);
}

/* db's lane sums: dbp[co][16] += the sum of dy[co] over the pixels */
static AVX512_FN void db_lanes(const float *dy, int k, int pixels, float *dbp)
{
    for (int co = 0; co < k; co++) {
        __m512 s0 = _mm512_load_ps(dbp + co * 16), s1 = _mm512_setzero_ps();
        const float *d = dy + (size_t)co * pixels * 16;
        int i = 0;
        for (; i + 1 < pixels; i += 2) {
            s0 = _mm512_add_ps(s0, _mm512_load_ps(d + i * 16));
            s1 = _mm512_add_ps(s1, _mm512_load_ps(d + i * 16 + 16));
        }
        if (i < pixels)
            s0 = _mm512_add_ps(s0, _mm512_load_ps(d + i * 16));
        _mm512_store_ps(dbp + co * 16, _mm512_add_ps(s0, s1));
    }
}

/* lenet1 forward: 1x28x28 -> 6@28x28, pad 2; 6 channels x 4 columns (24 +
 * 6 + 1 zmm). Each output row goes out to NCHW (`y`: the block's first
 * sample, `ns` samples `ys` apart) from a row buffer while it is in L1;
 * `y` NULL: left in `row` (the kernels alone). */
static AVX512_FN void lenet1_fwd_block(const float *in, const float *wp, const float *b,
                                       float *row, float *y, int ns, size_t ys)
{
    for (int oy = 0; oy < 28; oy++) {
        fwd_tile(in, wp, b, row, oy, 28, 28, 28, 2, 5, 1, 6, 0, 6, 0, 4);
        /* the interior tiles are alike but for the offset */
        for (int off = 0; off <= 16; off += 4)
            fwd_tile(in + off * 16, wp, b, row + off * 16, oy, 28, 28, 28, 2, 5, 1, 6, 0, 6,
                     4, 4);
        fwd_tile(in, wp, b, row, oy, 28, 28, 28, 2, 5, 1, 6, 0, 6, 24, 4);
        for (int c = 0; c < 6 && y; c++)
            from_lanes(row + c * 28 * 16, 28, ns, y + c * 784 + oy * 28, ys);
    }
}

/* lenet2 dx: dy 16x10x10 -> dx 6@14x14 (the forward of dy with 'pad' 4);
 * 6 channels x 4 (3) columns; rows out to NCHW as lenet1_fwd_block's */
static AVX512_FN void lenet2_dx_block(const float *in, const float *wp, float *row, float *dx,
                                      int ns, size_t xs)
{
    for (int oy = 0; oy < 14; oy++) {
        fwd_tile(in, wp, NULL, row, oy, 10, 10, 14, 4, 5, 16, 6, 0, 6, 0, 4);
        fwd_tile(in, wp, NULL, row, oy, 10, 10, 14, 4, 5, 16, 6, 0, 6, 4, 4);
        fwd_tile(in, wp, NULL, row, oy, 10, 10, 14, 4, 5, 16, 6, 0, 6, 8, 3);
        fwd_tile(in, wp, NULL, row, oy, 10, 10, 14, 4, 5, 16, 6, 0, 6, 11, 3);
        for (int c = 0; c < 6 && dx; c++)
            from_lanes(row + c * 14 * 16, 14, ns, dx + c * 196 + oy * 14, xs);
    }
}

/* lenet2 forward: 6x14x14 -> 16@10x10, pad 0; 4 channels x 5 columns */
static AVX512_FN void lenet2_fwd_block(const float *in, const float *wp, const float *b,
                                       float *out)
{
    for (int oy = 0; oy < 10; oy++)
        for (int co0 = 0; co0 < 16; co0 += 4) {
            float *o = out + (size_t)(co0 * 100 + oy * 10) * 16;
            fwd_tile(in, wp + co0, b + co0, o, oy, 14, 14, 100, 0, 5, 6, 16, 0, 4, 0, 5);
            fwd_tile(in, wp + co0, b + co0, o, oy, 14, 14, 100, 0, 5, 6, 16, 0, 4, 5, 5);
        }
}

/* lenet1 dw: row by row, each row of dy in from NCHW (`dy`: the block's
 * first sample, `ns` samples `ys` apart; NULL: `row` as it is) into a row
 * buffer, 3 output channels x 5 kernel columns */
static AVX512_FN void lenet1_dw_block(const float *x, const float *dy, int ns, size_t ys,
                                      float *row, float *part)
{
    for (int oy = 0; oy < 28; oy++) {
        for (int c = 0; c < 6 && dy; c++)
            to_lanes(dy + c * 784 + oy * 28, ys, ns, 28, row + c * 28 * 16);
        db_lanes(row, 6, 28, part + 150 * 16);
        for (int a = 0; a < 5; a++) {
            dw_rows(x, row, part, oy, oy + 1, 28, 28, 28, 28, 2, 5, 1, 0, 0, 3, a);
            dw_rows(x, row, part, oy, oy + 1, 28, 28, 28, 28, 2, 5, 1, 0, 3, 3, a);
        }
    }
}

/* lenet2 dw: 4 output channels x 5 kernel columns over all 10 rows */
static AVX512_FN void lenet2_dw_block(const float *x, const float *dy, float *part)
{
    for (int ci = 0; ci < 6; ci++)
        for (int co0 = 0; co0 < 16; co0 += 4)
            for (int a = 0; a < 5; a++)
                dw_rows(x, dy + (size_t)co0 * 100 * 16, part + (size_t)co0 * 6 * 25 * 16, 0, 10,
                        14, 14, 100, 10, 0, 5, 6, ci, 0, 4, a);
    db_lanes(dy, 16, 100, part + 2400 * 16);
}

/* The pass over the batch, block by block. dw, db: written (not added to). */
static AVX512_FN void batchlane_run(const layer *L, int pass, int n, const float *x,
                                    const float *w, const float *b, const float *dy, float *y,
                                    float *dx, float *dw, float *db, float *wp, float *buf_in,
                                    float *buf_out, float *part, int kernels_only)
{
    int oh = L->h + 2 * L->pad - L->size + 1, ks = L->size;
    int xs = L->c * L->h * L->w, ys = L->k * oh * oh, taps = ks * ks;
    int wsize = L->k * L->c * taps;
    if (pass == FWD) /* wp[ci][a][b][co] */
        for (int co = 0; co < L->k; co++)
            for (int ci = 0; ci < L->c; ci++)
                for (int t = 0; t < taps; t++)
                    wp[(ci * taps + t) * L->k + co] = w[(co * L->c + ci) * taps + t];
    if (pass == DX || pass == BWD) /* dy's channels in: wp[k][a][b][c] = w[k][c][4-a][4-b] */
        for (int co = 0; co < L->k; co++)
            for (int ci = 0; ci < L->c; ci++)
                for (int t = 0; t < taps; t++)
                    wp[(co * taps + t) * L->c + ci] = w[(co * L->c + ci) * taps + taps - 1 - t];
    if (pass == DW || pass == BWD)
        memset(part, 0, sizeof *part * (size_t)(wsize + L->k) * 16);
    for (int n0 = 0; n0 < n; n0 += 16) {
        int ns = n - n0 < 16 ? n - n0 : 16;
        if (kernels_only) { /* the same kernels on the buffers as they are */
            if (pass == FWD && L == &lenet1)
                lenet1_fwd_block(buf_in, wp, b, buf_out, NULL, ns, ys);
            else if (pass == FWD)
                lenet2_fwd_block(buf_in, wp, b, buf_out);
            else if (pass == DX)
                lenet2_dx_block(buf_in, wp, buf_out, NULL, ns, xs);
            else if (pass == BWD) {
                lenet2_dw_block(buf_in, buf_out, part);
                lenet2_dx_block(buf_out, wp, buf_in, NULL, ns, xs);
            } else if (L == &lenet1)
                lenet1_dw_block(buf_in, NULL, ns, ys, buf_out, part);
            else
                lenet2_dw_block(buf_in, buf_out, part);
        } else if (pass == FWD && L == &lenet1) {
            to_lanes(x + (size_t)xs * n0, xs, ns, xs, buf_in);
            lenet1_fwd_block(buf_in, wp, b, buf_out, y + (size_t)ys * n0, ns, ys);
        } else if (pass == FWD) {
            to_lanes(x + (size_t)xs * n0, xs, ns, xs, buf_in);
            lenet2_fwd_block(buf_in, wp, b, buf_out);
            from_lanes(buf_out, ys, ns, y + (size_t)ys * n0, ys);
        } else if (pass == DX) {
            to_lanes(dy + (size_t)ys * n0, ys, ns, ys, buf_in);
            lenet2_dx_block(buf_in, wp, buf_out, dx + (size_t)xs * n0, ns, xs);
        } else if (pass == BWD) { /* x's buffer is dx's row buffer after dw */
            to_lanes(x + (size_t)xs * n0, xs, ns, xs, buf_in);
            to_lanes(dy + (size_t)ys * n0, ys, ns, ys, buf_out);
            lenet2_dw_block(buf_in, buf_out, part);
            lenet2_dx_block(buf_out, wp, buf_in, dx + (size_t)xs * n0, ns, xs);
        } else if (L == &lenet1) {
            to_lanes(x + (size_t)xs * n0, xs, ns, xs, buf_in);
            lenet1_dw_block(buf_in, dy + (size_t)ys * n0, ns, ys, buf_out, part);
        } else {
            to_lanes(x + (size_t)xs * n0, xs, ns, xs, buf_in);
            to_lanes(dy + (size_t)ys * n0, ys, ns, ys, buf_out);
            lenet2_dw_block(buf_in, buf_out, part);
        }
    }
    if (pass == DW || pass == BWD) {
        for (int i = 0; i < wsize; i++)
            dw[i] = hsum16(_mm512_load_ps(part + (size_t)i * 16));
        for (int co = 0; co < L->k; co++)
            db[co] = hsum16(_mm512_load_ps(part + (size_t)(wsize + co) * 16));
    }
}
#endif

/* ---- reference, data, library ---- */

static int out_size(const layer *L) { return L->h + 2 * L->pad - L->size + 1; }

/* Multiply-adds of the pass whose input lies inside the image (per sample;
 * dx and dw have the forward's). */
static double true_macs(const layer *L)
{
    int oh = out_size(L), in_x = 0;
    for (int o = 0; o < oh; o++)
        for (int t = 0; t < L->size; t++)
            in_x += o + t - L->pad >= 0 && o + t - L->pad < L->h;
    return (double)L->k * L->c * in_x * in_x;
}

static void reference(const layer *L, int pass, int n, const float *x, const float *w,
                      const float *b, const float *dy, double *out)
{
    int oh = out_size(L), ks = L->size;
    size_t nout = pass == FWD ? (size_t)n * L->k * oh * oh
                  : pass == DX ? (size_t)n * L->c * L->h * L->w
                               : (size_t)L->k * L->c * ks * ks + L->k;
    memset(out, 0, sizeof *out * nout);
    for (int s = 0; s < n; s++)
        for (int co = 0; co < L->k; co++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < oh; ox++) {
                    size_t yi = (((size_t)s * L->k + co) * oh + oy) * oh + ox;
                    if (pass == FWD)
                        out[yi] += b[co];
                    if (pass == DW)
                        out[(size_t)L->k * L->c * ks * ks + co] += dy[yi];
                    for (int ci = 0; ci < L->c; ci++)
                        for (int a = 0; a < ks; a++)
                            for (int bb = 0; bb < ks; bb++) {
                                int iy = oy + a - L->pad, ix = ox + bb - L->pad;
                                if (iy < 0 || iy >= L->h || ix < 0 || ix >= L->w)
                                    continue;
                                size_t xi = (((size_t)s * L->c + ci) * L->h + iy) * L->w + ix;
                                size_t wi = (((size_t)co * L->c + ci) * ks + a) * ks + bb;
                                if (pass == FWD)
                                    out[yi] += (double)x[xi] * w[wi];
                                else if (pass == DX)
                                    out[xi] += (double)dy[yi] * w[wi];
                                else
                                    out[wi] += (double)dy[yi] * x[xi];
                            }
                }
}

static double max_rel(const float *a, const double *ref, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - ref[i]) / (1.0 + fabs(ref[i]));
        worst = d > worst || d != d ? d : worst;
    }
    return worst;
}

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static float *aligned_floats(size_t n)
{
    size_t bytes = (sizeof(float) * n + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

typedef struct data {
    const layer *L;
    int n;
    conv_geom g, gt;
    conv_plan plan;
    float *x, *w, *b, *dy, *y, *dx, *dw, *db;
    float *wp, *buf_in, *buf_out, *part, *ws;
} data;

static void make(data *d, const layer *L, int n)
{
    int oh = out_size(L);
    size_t xs = (size_t)L->c * L->h * L->w, ys = (size_t)L->k * oh * oh;
    size_t wsize = (size_t)L->k * L->c * L->size * L->size;
    d->L = L, d->n = n;
    d->g = (conv_geom){n, L->c, L->h, L->w, L->k, L->size, L->size, 1, L->pad, oh, oh, 0, 1};
    d->gt = conv_dx_geometry(&d->g);
    d->plan = conv_plan_auto(&d->g);
    d->x = filled(xs * n, 1), d->w = filled(wsize, 2), d->b = filled(L->k, 3);
    d->dy = filled(ys * n, 4);
    d->y = malloc(sizeof(float) * ys * n), d->dx = malloc(sizeof(float) * xs * n);
    d->dw = malloc(sizeof(float) * wsize), d->db = malloc(sizeof(float) * L->k);
    d->wp = malloc(sizeof(float) * wsize);
    d->buf_in = aligned_floats((xs > ys ? xs : ys) * 16);
    d->buf_out = aligned_floats((xs > ys ? xs : ys) * 16);
    d->part = aligned_floats((wsize + L->k) * 16);
    conv_plan pt = {d->plan.dx, CONV_GEMM, CONV_GEMM};
    size_t a = conv_plan_workspace(&d->g, &d->plan, 1), t = conv_plan_workspace(&d->gt, &pt, 1);
    d->ws = malloc(sizeof(float) * (a > t ? a : t));
}

static void release(data *d)
{
    free(d->x), free(d->w), free(d->b), free(d->dy), free(d->y), free(d->dx), free(d->dw);
    free(d->db), free(d->wp), free(d->buf_in), free(d->buf_out), free(d->part), free(d->ws);
}

static int batchlane(data *d, int pass, int kernels_only)
{
#if SIMD_AVX512
    if (!cpu_has_avx512())
        return 0;
    batchlane_run(d->L, pass, d->n, d->x, d->w, d->b, d->dy, d->y, d->dx, d->dw, d->db, d->wp,
                  d->buf_in, d->buf_out, d->part, kernels_only);
    return 1;
#else
    (void)d, (void)pass, (void)kernels_only;
    return 0;
#endif
}

/* The library's algorithm for the pass, called as conv_bench calls it:
 * dx (timed) as the forward kernel on dy's geometry; `checked`: the whole
 * backward, which gives the right dx. */
static void library(data *d, int pass, int checked)
{
    size_t wsize = (size_t)d->L->k * d->L->c * d->L->size * d->L->size;
    if (pass == FWD) {
        conv_forward_planned(&d->g, &d->plan, 1, d->x, d->w, d->b, d->y, d->ws);
    } else if (pass == DX && !checked) {
        conv_plan pt = {d->plan.dx, CONV_GEMM, CONV_GEMM};
        conv_forward_planned(&d->gt, &pt, 1, d->dy, d->w, NULL, d->dx, d->ws);
    } else {
        memset(d->dw, 0, sizeof(float) * wsize); /* the library adds to dw, db */
        memset(d->db, 0, sizeof(float) * d->L->k);
        conv_backward_planned(&d->g, &d->plan, 1, d->x, d->w, NULL, d->dy,
                              pass == DW ? NULL : d->dx, d->dw, d->db, d->ws);
    }
}

/* max relative error of the pass's result against ref (BWD: dx's; dw's in ref_dw) */
static double error(const data *d, int pass, const double *ref, const double *ref_dw)
{
    const layer *L = d->L;
    size_t wsize = (size_t)L->k * L->c * L->size * L->size;
    if (pass == FWD)
        return max_rel(d->y, ref, (size_t)d->n * L->k * out_size(L) * out_size(L));
    if (pass == DX)
        return max_rel(d->dx, ref, (size_t)d->n * L->c * L->h * L->w);
    if (pass == BWD) {
        double ex = error(d, DX, ref, NULL), ew = error(d, DW, ref_dw, NULL);
        return ex > ew ? ex : ew;
    }
    double e = max_rel(d->dw, ref, wsize), eb = max_rel(d->db, ref + wsize, L->k);
    return e > eb ? e : eb;
}

static const double tolerance = 1e-4;

static const struct job {
    const layer *L;
    int pass;
} jobs[] = {{&lenet2, DX},  {&lenet1, FWD}, {&lenet1, DW},
            {&lenet2, FWD}, {&lenet2, DW},  {&lenet2, BWD}};
#define JOBS ((int)(sizeof jobs / sizeof jobs[0]))

/* The pass's results (y; dx; dw and db) one after the other into `to`
 * (NULL: only their count). */
static size_t results(const data *d, int pass, float *to)
{
    const layer *L = d->L;
    size_t ny = (size_t)d->n * L->k * out_size(L) * out_size(L);
    size_t nx = (size_t)d->n * L->c * L->h * L->w;
    size_t nw = (size_t)L->k * L->c * L->size * L->size, at = 0;
    const float *from[4] = {NULL, NULL, NULL, NULL};
    size_t count[4] = {0, 0, 0, 0};
    if (pass == FWD)
        from[0] = d->y, count[0] = ny;
    if (pass == DX || pass == BWD)
        from[1] = d->dx, count[1] = nx;
    if (pass == DW || pass == BWD)
        from[2] = d->dw, count[2] = nw, from[3] = d->db, count[3] = L->k;
    for (int i = 0; i < 4; i++) {
        if (to && count[i])
            memcpy(to + at, from[i], sizeof *to * count[i]);
        at += count[i];
    }
    return at;
}

/* 0 when the batch-lane result (or the library's) is off the reference, or
 * when a second batch-lane run gives other bits */
static int check(const struct job *j, int n, int verbose)
{
    data d;
    make(&d, j->L, n);
    const layer *L = j->L;
    size_t nref = (size_t)n * (L->c * L->h * L->w + L->k * out_size(L) * out_size(L)) +
                  (size_t)L->k * L->c * L->size * L->size + L->k;
    double *ref = malloc(sizeof *ref * nref), *ref_dw = malloc(sizeof *ref * nref);
    int bwd = j->pass == BWD;
    reference(L, bwd ? DX : j->pass, n, d.x, d.w, d.b, d.dy, ref);
    if (bwd)
        reference(L, DW, n, d.x, d.w, d.b, d.dy, ref_dw);
    int ran = batchlane(&d, j->pass, 0);
    double e_bl = ran ? error(&d, j->pass, ref, ref_dw) : 0.0;
    int same = 1;
    if (ran) {
        size_t nr = results(&d, j->pass, NULL);
        float *first = malloc(sizeof *first * nr), *second = malloc(sizeof *second * nr);
        results(&d, j->pass, first);
        batchlane(&d, j->pass, 0);
        results(&d, j->pass, second);
        same = memcmp(first, second, sizeof *first * nr) == 0;
        free(first), free(second);
    }
    library(&d, j->pass, 1);
    double e_lib = error(&d, j->pass, ref, ref_dw);
    int ok = e_bl <= tolerance && e_lib <= tolerance && same;
    if (verbose || !ok)
        printf("%s %-7s batch %2d: error batch-lane %s%.1e, library %.1e%s%s\n", L->name,
               pass_names[j->pass], n, ran ? "" : "(not run) ", e_bl, e_lib,
               same ? "" : "  NOT THE SAME BITS TWICE", ok ? "" : "  FAILED");
    free(ref), free(ref_dw);
    release(&d);
    return ok;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int check_only = argc > 1 && strcmp(argv[1], "--check") == 0;
    int repeats = argc > 1 && !check_only ? atoi(argv[1]) : 40, ok = 1;
    if (repeats < 1)
        repeats = 1;
    soma_select_blas_kernels(); /* OpenBLAS may take this CPU for an old one */
    soma_set_threads(1);
#if SIMD_AVX512
    int avx512 = cpu_has_avx512();
#else
    int avx512 = 0;
#endif
    if (!avx512)
        printf("no AVX-512 here: the batch-lane kernels are not run\n");
    static const int batches[] = {64, 37, 5};
    for (int i = 0; i < JOBS; i++)
        for (int bi = 0; bi < 3; bi++)
            ok &= check(&jobs[i], batches[bi], !check_only && bi == 0);
    if (!ok || check_only || !avx512)
        return !ok;
    printf("\nbatch 64, one thread, thread CPU time, best and median of %d; useful GFLOP/s\n",
           repeats);
    printf("%-6s %-7s  %-22s  %-36s  %-21s  %s\n", "layer", "pass", "batch-lane us/img GF/s",
           "library us/img GF/s", "ratio (median, best)", "kernels GF/s, transposes us/img");
    double *t = malloc(sizeof *t * 3 * repeats);
    for (int i = 0; i < JOBS; i++) {
        data d;
        make(&d, jobs[i].L, 64);
        double flop = 2.0 * true_macs(d.L) * d.n * (jobs[i].pass == BWD ? 2 : 1);
        batchlane(&d, jobs[i].pass, 0), library(&d, jobs[i].pass, 0); /* warm */
        for (int r = 0; r < repeats; r++)
            for (int k = 0; k < 3; k++) { /* each after the other in turn */
                int which = (k + r) % 3;
                double t0 = now();
                if (which == 1)
                    library(&d, jobs[i].pass, 0);
                else
                    batchlane(&d, jobs[i].pass, which == 2);
                t[which * repeats + r] = now() - t0;
            }
        for (int k = 0; k < 3; k++)
            qsort(t + k * repeats, repeats, sizeof *t, by_value);
        double bl_best = t[0], bl_med = t[repeats / 2];
        double lib_best = t[repeats], lib_med = t[repeats + repeats / 2];
        char algo[32];
        if (jobs[i].pass == BWD)
            snprintf(algo, sizeof algo, "%s+%s", algo_names[d.plan.dx], algo_names[d.plan.dw]);
        else
            snprintf(algo, sizeof algo, "%s", algo_names[(&d.plan.forward)[jobs[i].pass]]);
        printf("%-6s %-7s  %5.2f %5.2f %5.1f %5.1f  %-14s %5.2f %5.2f %5.1f %5.1f  %.2fx %.2fx"
               "  %5.1f %5.2f\n",
               d.L->name, pass_names[jobs[i].pass], bl_best * 1e6 / d.n, bl_med * 1e6 / d.n,
               flop / bl_best * 1e-9, flop / bl_med * 1e-9, algo,
               lib_best * 1e6 / d.n, lib_med * 1e6 / d.n, flop / lib_best * 1e-9,
               flop / lib_med * 1e-9, lib_med / bl_med, lib_best / bl_best,
               flop / t[2 * repeats + repeats / 2] * 1e-9,
               (bl_med - t[2 * repeats + repeats / 2]) * 1e6 / d.n);
        release(&d);
    }
    free(t);
    return 0;
}

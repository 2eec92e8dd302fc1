/*
 * CONV_WINOGRAD: Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray
 * 2016) for 3x3 stride-1 convolutions. Each 4x4 block of outputs ("tile")
 * comes from a 6x6 block of inputs: V = B^T d B (input transform), U = G g G^T
 * (filter transform), M = sum over input channels of U . V elementwise, and
 * y = A^T M A (output transform). The sum over channels is, for each of the
 * 36 elements, a matrix product [K x C] . [C x tiles] over a chunk of
 * samples, where 144 multiplications per tile and channel pair become 36:
 * here 36 sgemms (the portable path), with AVX-512 kernels of soma's own
 * (conv_winograd_avx512.c). The transforms are in winograd_transforms.h.
 *
 * Interpolation points 0, 1, -1, 2, -2 and infinity, Lavin's: the smallest
 * integers that give 6 points, so that B^T and A^T hold small integers
 * (up to 5 and 8) and G the fractions 1/4, 1/6, 1/12, 1/24. Larger points
 * (+-3, or F(6x6, 3x3)'s +-1/2 and +-3/2 besides) grow the entries of A^T
 * and B^T as powers of the point and with them the rounding error of every
 * output, quickly with the tile (Barabasz et al., "Error analysis and
 * improving the accuracy of Winograd convolution for deep neural networks",
 * 2020). With these points the error stays a few times the direct
 * algorithm's (docs/design.md; the bound: tests/ops/conv_winograd_test.c).
 *
 * The input gradient of a stride-1 convolution is the same algorithm on
 * conv_dx_geometry with the filters transposed and flipped. The filter
 * gradient is the transpose of the forward map: dw = G^T [sum over tiles of
 * (A dy A^T) . (B^T x B)] G, its sum over tiles again 36 matrix products
 * ([K x tiles] . [tiles x C]), accumulated per part of the batch in the
 * transformed domain and brought back to 3x3 once, at the reduction.
 *
 * Every sum has a fixed order for a given chunk size, and the chunks
 * (winograd_chunk) depend on the geometry only: the forward pass and the
 * input gradient are the same bits for any thread count, the filter
 * gradient for a given count of parts (summed per part, as elsewhere).
 */
#include <cblas.h>
#include <string.h>

#include "core/partition.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/winograd_transforms.h"

int winograd_supported(const conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride == 1;
}

int winograd_chunk(const conv_geom *g, conv_pass pass)
{
    int tiles = dims_of(g).tiles;
    if (pass == CONV_DW) /* within a part: as many tiles as the scratch allows */
        return (256 + tiles - 1) / tiles < 32 ? (256 + tiles - 1) / tiles : 32;
    /* the forward pass: each chunk streams all transformed filters once, so
     * enough tiles to use them well, and two chunks at least where the batch
     * allows, so that two threads share even a small batch; never the parts:
     * sums depend on the chunk (sgemm's), and the forward pass's results
     * would then depend on the thread count */
    int nb = (128 + tiles - 1) / tiles, half = (g->n + 1) / 2;
    nb = nb > 16 ? 16 : nb;
    nb = nb > half ? half : nb;
    return nb > 0 ? nb : 1;
}

size_t winograd_shared(const conv_geom *g)
{
    return cpu_has_avx512() ? winograd512_shared(g) : (size_t)ELEMS * g->k * g->c;
}

size_t winograd_scratch(const conv_geom *g, conv_pass pass, int chunk)
{
    size_t tc = (size_t)chunk * dims_of(g).tiles;
    /* V (inputs transformed) and M (products), or for dw V and dy transformed */
    size_t v = (size_t)ELEMS * tc * g->c, m = (size_t)ELEMS * tc * g->k;
    if (cpu_has_avx512())
        return pass == CONV_DW ? winograd512_dw_scratch(g, (int)tc)
                               : v + winograd512_products(g, (int)tc);
    return v + m;
}

size_t winograd_dw_part(const conv_geom *g)
{
    return cpu_has_avx512() ? winograd512_dw_part(g) : (size_t)ELEMS * g->k * g->c + g->k;
}

/* where a part's bias gradient sits */
static size_t dw_bias_at(const conv_geom *g)
{
    return winograd_dw_part(g) - (cpu_has_avx512() ? (size_t)round16(g->k) : (size_t)g->k);
}

/* U[o][e][i] = (G g G^T)[e], g the 3x3 filter from input i to output o: the
 * sgemm of element e reads U[.][e][.] as a matrix with rows 36 C apart */
static void pack_generic(const conv_geom *g, const float *w, int transposed, float *packed,
                         int part, int parts)
{
    int outs = g->k, ins = g->c, o0, o1;
    partition(outs, parts, part, &o0, &o1);
    for (int o = o0; o < o1; o++)
        for (int i0 = 0; i0 < ins; i0 += LANES) {
            int lanes = ins - i0 < LANES ? ins - i0 : LANES;
            float f[9 * LANES] = {0}, u[ELEMS * LANES];
            for (int l = 0; l < lanes; l++)
                for (int t = 0; t < 9; t++) {
                    int i = i0 + l;
                    f[t * LANES + l] = transposed ? w[((size_t)i * outs + o) * 9 + 8 - t]
                                                  : w[((size_t)o * ins + i) * 9 + t];
                }
            TRANSFORM_2D(filter_1d, 3, 3, 6, 6, f, u);
            store_lanes(u, ELEMS, packed + (size_t)o * ELEMS * ins + i0, (size_t)ins, lanes);
        }
}

/* V[e][c][t] = (B^T d B)[e] for the tiles of `count` samples of g's input */
ALWAYS_INLINE void input_body(const conv_geom *g, const float *x, size_t x_stride,
                              const float *mask, int count, float *v)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles;
    size_t plane = (size_t)g->h * g->w;
    for (int t0 = 0; t0 < tc; t0 += LANES) {
        tile_lanes tl = tiles_at(d, t0, tc);
        for (int c = 0; c < g->c; c++) {
            float blk[ELEMS * LANES] = {0}, out[ELEMS * LANES];
            for (int l = 0; l < tl.lanes; l++) {
                size_t at = x_stride * tl.n[l] + plane * c;
                load_lane(x + at, mask ? mask + at : NULL, g->h, g->w, tl.y[l] - g->pad,
                          tl.x[l] - g->pad, 6, blk, l);
            }
            TRANSFORM_2D(input_1d, 6, 6, 6, 6, blk, out);
            store_lanes(out, ELEMS, v + (size_t)c * tc + t0, (size_t)g->c * tc, tl.lanes);
        }
    }
}

/* y = A^T M A (+ bias, then the fused ReLU), clipped to the output */
ALWAYS_INLINE void output_body(const conv_geom *g, const float *m, const float *b, int count,
                               float *y, size_t y_stride)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles;
    size_t oplane = (size_t)g->oh * g->ow, estride = (size_t)g->k * tc;
    for (int t0 = 0; t0 < tc; t0 += LANES) {
        tile_lanes tl = tiles_at(d, t0, tc);
        for (int k = 0; k < g->k; k++) {
            float blk[ELEMS * LANES] = {0}, out[16 * LANES];
            for (int e = 0; e < ELEMS; e++)
                for (int l = 0; l < tl.lanes; l++)
                    blk[e * LANES + l] = m[estride * e + (size_t)k * tc + t0 + l];
            TRANSFORM_2D(output_1d, 6, 6, 4, 4, blk, out);
            float bias = b ? b[k] : 0.0f;
            for (int l = 0; l < tl.lanes; l++) {
                float *yk = y + y_stride * tl.n[l] + oplane * k;
                int rows = g->oh - tl.y[l] < 4 ? g->oh - tl.y[l] : 4;
                int cols = g->ow - tl.x[l] < 4 ? g->ow - tl.x[l] : 4;
                for (int r = 0; r < rows; r++)
                    for (int q = 0; q < cols; q++) {
                        float val = out[(r * 4 + q) * LANES + l] + bias;
                        if (g->relu)
                            val = val > 0.0f ? val : 0.0f;
                        yk[(size_t)(tl.y[l] + r) * g->ow + tl.x[l] + q] = val;
                    }
            }
        }
    }
}

/* D[e][k][t] = (A dz A^T)[e], dz the 4x4 blocks of dy (masked by y's ReLU) */
ALWAYS_INLINE void dy_body(const conv_geom *g, const float *dy, const float *y, size_t y_stride,
                           int count, float *dt)
{
    wino_dims d = dims_of(g);
    int tc = count * d.tiles;
    size_t oplane = (size_t)g->oh * g->ow;
    for (int t0 = 0; t0 < tc; t0 += LANES) {
        tile_lanes tl = tiles_at(d, t0, tc);
        for (int k = 0; k < g->k; k++) {
            float blk[16 * LANES] = {0}, out[ELEMS * LANES];
            for (int l = 0; l < tl.lanes; l++) {
                size_t at = y_stride * tl.n[l] + oplane * k;
                load_lane(dy + at, y ? y + at : NULL, g->oh, g->ow, tl.y[l], tl.x[l], 4, blk, l);
            }
            TRANSFORM_2D(dy_1d, 4, 4, 6, 6, blk, out);
            store_lanes(out, ELEMS, dt + (size_t)k * tc + t0, (size_t)g->k * tc, tl.lanes);
        }
    }
}

/* dw[f] += G^T (the parts' sum, in part order) G, 16 input channels at a time */
ALWAYS_INLINE void reduce_body(const conv_geom *g, const float *part0, size_t stride,
                               int nparts, int f0, int f1, float *dw)
{
    size_t estride = (size_t)g->k * g->c;
    for (int f = f0; f < f1; f++)
        for (int c0 = 0; c0 < g->c; c0 += LANES) {
            int lanes = g->c - c0 < LANES ? g->c - c0 : LANES;
            float s[ELEMS * LANES] = {0}, out[9 * LANES];
            for (int e = 0; e < ELEMS; e++)
                for (int q = 0; q < nparts; q++) { /* in part order */
                    const float *pq = part0 + stride * q + estride * e + (size_t)f * g->c + c0;
                    for (int l = 0; l < lanes; l++)
                        s[e * LANES + l] += pq[l];
                }
            TRANSFORM_2D(dw_1d, 6, 6, 3, 3, s, out);
            for (int l = 0; l < lanes; l++) {
                float *w = dw + ((size_t)f * g->c + c0 + l) * 9;
                for (int i = 0; i < 9; i++)
                    w[i] += out[i * LANES + l];
            }
        }
}

/* The portable path's transforms, and the input transform also for AVX-512
 * (the products and the rest have AVX-512 code of their own there). */
static void input_generic(const conv_geom *g, const float *x, size_t x_stride, const float *mask,
                          int count, float *v)
{
    input_body(g, x, x_stride, mask, count, v);
}

static void output_transform(const conv_geom *g, const float *m, const float *b, int count,
                             float *y, size_t y_stride)
{
    output_body(g, m, b, count, y, y_stride);
}

static void dy_generic(const conv_geom *g, const float *dy, const float *y, size_t y_stride,
                       int count, float *dt)
{
    dy_body(g, dy, y, y_stride, count, dt);
}

static void reduce_generic(const conv_geom *g, const float *part0, size_t stride, int nparts,
                           int f0, int f1, float *dw)
{
    reduce_body(g, part0, stride, nparts, f0, f1, dw);
}

#if SIMD_AVX512
static AVX512_FN void input_avx512(const conv_geom *g, const float *x, size_t x_stride,
                                   const float *mask, int count, float *v)
{
    input_body(g, x, x_stride, mask, count, v);
}
#endif

void winograd_pack(const conv_geom *g, const float *w, int transposed, float *packed, int part,
                   int parts)
{
    if (cpu_has_avx512())
        winograd512_pack(g, w, transposed, packed, part, parts);
    else
        pack_generic(g, w, transposed, packed, part, parts);
}

static void input_transform(const conv_geom *g, const float *x, size_t x_stride,
                            const float *mask, int count, float *v)
{
#if SIMD_AVX512
    if (cpu_has_avx512()) {
        input_avx512(g, x, x_stride, mask, count, v);
        return;
    }
#endif
    input_generic(g, x, x_stride, mask, count, v);
}

void winograd_forward_chunk(const conv_geom *g, const float *packed, const float *b,
                            const float *x, size_t x_stride, const float *mask, float *y,
                            size_t y_stride, int count, float *scratch)
{
    int tc = count * dims_of(g).tiles;
    float *v = scratch, *m = v + (size_t)ELEMS * g->c * tc;
    input_transform(g, x, x_stride, mask, count, v);
    if (cpu_has_avx512()) {
        winograd512_multiply(g, packed, v, tc, m);
        winograd512_output(g, m, b, count, y, y_stride);
        return;
    }
    for (int e = 0; e < ELEMS; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->k, tc, g->c, 1.0f,
                    packed + (size_t)e * g->c, ELEMS * g->c, v + (size_t)e * g->c * tc, tc, 0.0f,
                    m + (size_t)e * g->k * tc, tc);
    output_transform(g, m, b, count, y, y_stride);
}

void winograd_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                       const float *dy, size_t y_stride, int count, float *part, float *scratch)
{
    int tc = count * dims_of(g).tiles;
    size_t oplane = (size_t)g->oh * g->ow;
    if (cpu_has_avx512()) {
        winograd512_dw_chunk(g, x, x_stride, y, dy, y_stride, count, part, scratch);
    } else {
        float *v = scratch, *dt = v + (size_t)ELEMS * g->c * tc;
        input_transform(g, x, x_stride, NULL, count, v);
        dy_generic(g, dy, y, y_stride, count, dt);
        for (int e = 0; e < ELEMS; e++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->k, g->c, tc, 1.0f,
                        dt + (size_t)e * g->k * tc, tc, v + (size_t)e * g->c * tc, tc, 1.0f,
                        part + (size_t)e * g->k * g->c, g->c);
    }
    float *db = part + dw_bias_at(g);
    for (int n = 0; n < count; n++)
        for (int k = 0; k < g->k; k++) {
            const float *dk = dy + y_stride * n + oplane * k;
            const float *mk = y ? y + y_stride * n + oplane * k : NULL;
            float s = 0.0f;
            for (size_t i = 0; i < oplane; i++)
                s += mk && !(mk[i] > 0.0f) ? 0.0f : dk[i];
            db[k] += s;
        }
}

void winograd_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                        int f0, int f1, float *dw, float *db)
{
    if (cpu_has_avx512())
        winograd512_dw_reduce(g, part0, stride, nparts, f0, f1, dw);
    else
        reduce_generic(g, part0, stride, nparts, f0, f1, dw);
    size_t bias_at = dw_bias_at(g);
    for (int f = f0; f < f1 && db; f++) {
        float s = 0.0f;
        for (int q = 0; q < nparts; q++)
            s += part0[stride * q + bias_at + f];
        db[f] += s;
    }
}

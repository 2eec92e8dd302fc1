/*
 * CONV_WINOGRAD: Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray
 * 2016) for 3x3 stride-1 convolutions. Each 4x4 block of outputs ("tile")
 * comes from a 6x6 block of inputs: V = B^T d B (input transform), U = G g G^T
 * (filter transform), M = sum over input channels of U . V elementwise, and
 * y = A^T M A (output transform). The sum over channels is, for each of the
 * 36 elements, a matrix product [K x C] . [C x tiles]: 36 sgemms over a chunk
 * of images, where 144 multiplications per tile and channel pair become 36.
 *
 * Interpolation points 0, 1, -1, 2, -2 and infinity, Lavin's: the smallest
 * integers that give 6 points, so that B^T and A^T hold small integers
 * (up to 5 and 8) and G the fractions 1/4, 1/6, 1/12, 1/24. Larger points
 * (+-3, or F(6x6, 3x3)'s +-1/2 and +-3/2 besides) grow the entries of A^T
 * and B^T as powers of the point and with them the rounding error of every
 * output: F(4x4, 3x3) with these points is the largest tile whose error
 * stays within a small multiple of the direct algorithm's (docs/design.md,
 * tests/ops/conv_winograd_test.c).
 *
 * The input gradient of a stride-1 convolution is the same algorithm on
 * conv_dx_geometry with the filters transposed and flipped. The filter
 * gradient is the transpose of the forward map: dw = G^T [sum over tiles of
 * (A dy A^T) . (B^T x B)] G, its sum over tiles again 36 sgemms
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

#include "ops/cpu/conv_algos.h"

#define ALPHA 6 /* the transformed tile is 6x6 */
#define ELEMS 36

typedef struct wino_dims {
    int th, tw, tiles; /* tiles of one image: rows, columns, all */
} wino_dims;

static wino_dims dims_of(const conv_geom *g)
{
    wino_dims d = {(g->oh + 3) / 4, (g->ow + 3) / 4, 0};
    d.tiles = d.th * d.tw;
    return d;
}

int winograd_supported(const conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride == 1;
}

int winograd_chunk(const conv_geom *g)
{
    /* enough tiles for the sgemms to run near their peak, and at least four
     * chunks where the batch allows, so that up to four threads share even
     * a small batch; never the parts: sgemm's sums depend on its sizes, and
     * the forward pass's results would then depend on the thread count */
    int tiles = dims_of(g).tiles, nb = (128 + tiles - 1) / tiles;
    int quarter = (g->n + 3) / 4;
    nb = nb > 16 ? 16 : nb;
    nb = nb > quarter ? quarter : nb;
    return nb > 0 ? nb : 1;
}

size_t winograd_shared(const conv_geom *g)
{
    return (size_t)ELEMS * g->k * g->c;
}

size_t winograd_scratch(const conv_geom *g, conv_pass pass, int chunk)
{
    size_t tc = (size_t)chunk * dims_of(g).tiles;
    /* V (inputs transformed) and M (products), or for dw V and dy transformed */
    (void)pass;
    return (size_t)ELEMS * tc * (g->c + g->k);
}

size_t winograd_dw_part(const conv_geom *g)
{
    return (size_t)ELEMS * g->k * g->c + g->k;
}

/* ---- the transforms, one dimension at a time ---- */

/* t = B^T d for a column of 6 */
static inline void input_1d(const float d[6], float t[6])
{
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = -4.0f * d[1] - 4.0f * d[2] + d[3] + d[4];
    t[2] = 4.0f * d[1] - 4.0f * d[2] - d[3] + d[4];
    t[3] = -2.0f * d[1] - d[2] + 2.0f * d[3] + d[4];
    t[4] = 2.0f * d[1] - d[2] - 2.0f * d[3] + d[4];
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* u = G g for a column of 3 */
static inline void filter_1d(const float g[3], float u[6])
{
    u[0] = g[0] * (1.0f / 4.0f);
    u[1] = (g[0] + g[1] + g[2]) * (-1.0f / 6.0f);
    u[2] = (g[0] - g[1] + g[2]) * (-1.0f / 6.0f);
    u[3] = g[0] * (1.0f / 24.0f) + g[1] * (1.0f / 12.0f) + g[2] * (1.0f / 6.0f);
    u[4] = g[0] * (1.0f / 24.0f) - g[1] * (1.0f / 12.0f) + g[2] * (1.0f / 6.0f);
    u[5] = g[2];
}

/* y = A^T m for a column of 6 */
static inline void output_1d(const float m[6], float y[4])
{
    y[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    y[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    y[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
    y[3] = m[1] - m[2] + 8.0f * (m[3] - m[4]) + m[5];
}

/* a = A z for a column of 4 (the transpose of output_1d) */
static inline void dy_1d(const float z[4], float a[6])
{
    a[0] = z[0];
    a[1] = z[0] + z[1] + z[2] + z[3];
    a[2] = z[0] - z[1] + z[2] - z[3];
    a[3] = z[0] + 2.0f * z[1] + 4.0f * z[2] + 8.0f * z[3];
    a[4] = z[0] - 2.0f * z[1] + 4.0f * z[2] - 8.0f * z[3];
    a[5] = z[3];
}

/* w = G^T s for a column of 6 (the transpose of filter_1d) */
static inline void dw_1d(const float s[6], float w[3])
{
    w[0] = s[0] * (1.0f / 4.0f) - (s[1] + s[2]) * (1.0f / 6.0f) + (s[3] + s[4]) * (1.0f / 24.0f);
    w[1] = (s[2] - s[1]) * (1.0f / 6.0f) + (s[3] - s[4]) * (1.0f / 12.0f);
    w[2] = (s[3] + s[4] - s[1] - s[2]) * (1.0f / 6.0f) + s[5];
}

/* A 2-D transform: f on each column of `in` (rows x cols), then on each row
 * of the result. */
#define TRANSFORM_2D(f, IN_R, IN_C, OUT_R, OUT_C, in, out)                                   \
    do {                                                                                     \
        float col_[IN_R], res_[OUT_R], mid_[OUT_R][IN_C], row_[IN_C], rres_[OUT_C];          \
        for (int q_ = 0; q_ < (IN_C); q_++) {                                                \
            for (int r_ = 0; r_ < (IN_R); r_++)                                              \
                col_[r_] = (in)[r_][q_];                                                     \
            f(col_, res_);                                                                   \
            for (int r_ = 0; r_ < (OUT_R); r_++)                                             \
                mid_[r_][q_] = res_[r_];                                                     \
        }                                                                                    \
        for (int r_ = 0; r_ < (OUT_R); r_++) {                                               \
            for (int q_ = 0; q_ < (IN_C); q_++)                                              \
                row_[q_] = mid_[r_][q_];                                                     \
            f(row_, rres_);                                                                  \
            for (int q_ = 0; q_ < (OUT_C); q_++)                                             \
                (out)[r_][q_] = rres_[q_];                                                   \
        }                                                                                    \
    } while (0)

/* The size x size block of plane (h x w) at (y0, x0), zeros outside, and
 * zeros where mask (the plane's fused-ReLU output, may be NULL) is <= 0. */
static void load_block(const float *plane, const float *mask, int h, int w, int y0, int x0,
                       int size, float *out)
{
    int inside = y0 >= 0 && x0 >= 0 && y0 + size <= h && x0 + size <= w;
    for (int r = 0; r < size; r++)
        for (int q = 0; q < size; q++) {
            int iy = y0 + r, ix = x0 + q;
            float v = 0.0f;
            if (inside || (iy >= 0 && iy < h && ix >= 0 && ix < w)) {
                size_t i = (size_t)iy * w + ix;
                v = plane[i];
                if (mask && !(mask[i] > 0.0f))
                    v = 0.0f;
            }
            out[r * size + q] = v;
        }
}

void winograd_pack(const conv_geom *g, const float *w, int transposed, float *packed)
{
    int outs = g->k, ins = g->c;
    size_t estride = (size_t)outs * ins;
    for (int o = 0; o < outs; o++)
        for (int i = 0; i < ins; i++) {
            float f[3][3], u[6][6];
            for (int r = 0; r < 3; r++)
                for (int q = 0; q < 3; q++)
                    f[r][q] = transposed ? w[(((size_t)i * outs + o) * 3 + 2 - r) * 3 + 2 - q]
                                         : w[(((size_t)o * ins + i) * 3 + r) * 3 + q];
            TRANSFORM_2D(filter_1d, 3, 3, 6, 6, f, u);
            for (int e = 0; e < ELEMS; e++)
                packed[estride * e + (size_t)o * ins + i] = u[e / 6][e % 6];
        }
}

/* V[e][c][t] = (B^T d B)[e] for the tiles of `count` images of g's input */
static void input_transform(const conv_geom *g, const float *x, size_t x_stride,
                            const float *mask, int count, float *v)
{
    wino_dims d = dims_of(g);
    size_t tc = (size_t)count * d.tiles, plane = (size_t)g->h * g->w;
    for (int n = 0; n < count; n++)
        for (int c = 0; c < g->c; c++) {
            const float *xc = x + x_stride * n + plane * c;
            const float *mc = mask ? mask + x_stride * n + plane * c : NULL;
            for (int ti = 0; ti < d.th; ti++)
                for (int tj = 0; tj < d.tw; tj++) {
                    float blk[6][6], out[6][6];
                    load_block(xc, mc, g->h, g->w, 4 * ti - g->pad, 4 * tj - g->pad, 6,
                               &blk[0][0]);
                    TRANSFORM_2D(input_1d, 6, 6, 6, 6, blk, out);
                    size_t t = ((size_t)n * d.th + ti) * d.tw + tj;
                    for (int e = 0; e < ELEMS; e++)
                        v[(e * (size_t)g->c + c) * tc + t] = out[e / 6][e % 6];
                }
        }
}

/* y = A^T M A (+ bias, then the fused ReLU), clipped to the output */
static void output_transform(const conv_geom *g, const float *m, const float *b, int count,
                             float *y, size_t y_stride)
{
    wino_dims d = dims_of(g);
    size_t tc = (size_t)count * d.tiles, oplane = (size_t)g->oh * g->ow;
    for (int n = 0; n < count; n++)
        for (int k = 0; k < g->k; k++) {
            float *yk = y + y_stride * n + oplane * k;
            float bias = b ? b[k] : 0.0f;
            for (int ti = 0; ti < d.th; ti++)
                for (int tj = 0; tj < d.tw; tj++) {
                    size_t t = ((size_t)n * d.th + ti) * d.tw + tj;
                    float blk[6][6], out[4][4];
                    for (int e = 0; e < ELEMS; e++)
                        blk[e / 6][e % 6] = m[(e * (size_t)g->k + k) * tc + t];
                    TRANSFORM_2D(output_1d, 6, 6, 4, 4, blk, out);
                    int rows = g->oh - 4 * ti < 4 ? g->oh - 4 * ti : 4;
                    int cols = g->ow - 4 * tj < 4 ? g->ow - 4 * tj : 4;
                    for (int r = 0; r < rows; r++)
                        for (int q = 0; q < cols; q++) {
                            float v = out[r][q] + bias;
                            if (g->relu)
                                v = v > 0.0f ? v : 0.0f;
                            yk[(size_t)(4 * ti + r) * g->ow + 4 * tj + q] = v;
                        }
                }
        }
}

void winograd_forward_chunk(const conv_geom *g, const float *packed, const float *b,
                            const float *x, size_t x_stride, const float *mask, float *y,
                            size_t y_stride, int count, float *scratch)
{
    int tc = count * dims_of(g).tiles;
    float *v = scratch, *m = v + (size_t)ELEMS * g->c * tc;
    input_transform(g, x, x_stride, mask, count, v);
    for (int e = 0; e < ELEMS; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->k, tc, g->c, 1.0f,
                    packed + (size_t)e * g->k * g->c, g->c, v + (size_t)e * g->c * tc, tc, 0.0f,
                    m + (size_t)e * g->k * tc, tc);
    output_transform(g, m, b, count, y, y_stride);
}

/* D[e][k][t] = (A dz A^T)[e], dz the 4x4 blocks of dy (masked by y's ReLU) */
static void dy_transform(const conv_geom *g, const float *dy, const float *y, size_t y_stride,
                         int count, float *dt)
{
    wino_dims d = dims_of(g);
    size_t tc = (size_t)count * d.tiles, oplane = (size_t)g->oh * g->ow;
    for (int n = 0; n < count; n++)
        for (int k = 0; k < g->k; k++) {
            const float *dk = dy + y_stride * n + oplane * k;
            const float *mk = y ? y + y_stride * n + oplane * k : NULL;
            for (int ti = 0; ti < d.th; ti++)
                for (int tj = 0; tj < d.tw; tj++) {
                    float blk[4][4], out[6][6];
                    load_block(dk, mk, g->oh, g->ow, 4 * ti, 4 * tj, 4, &blk[0][0]);
                    TRANSFORM_2D(dy_1d, 4, 4, 6, 6, blk, out);
                    size_t t = ((size_t)n * d.th + ti) * d.tw + tj;
                    for (int e = 0; e < ELEMS; e++)
                        dt[(e * (size_t)g->k + k) * tc + t] = out[e / 6][e % 6];
                }
        }
}

void winograd_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                       const float *dy, size_t y_stride, int count, float *part, float *scratch)
{
    int tc = count * dims_of(g).tiles;
    size_t oplane = (size_t)g->oh * g->ow;
    float *v = scratch, *dt = v + (size_t)ELEMS * g->c * tc;
    input_transform(g, x, x_stride, NULL, count, v);
    dy_transform(g, dy, y, y_stride, count, dt);
    for (int e = 0; e < ELEMS; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->k, g->c, tc, 1.0f,
                    dt + (size_t)e * g->k * tc, tc, v + (size_t)e * g->c * tc, tc, 1.0f,
                    part + (size_t)e * g->k * g->c, g->c);
    float *db = part + (size_t)ELEMS * g->k * g->c;
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
    size_t estride = (size_t)g->k * g->c;
    for (int f = f0; f < f1; f++) {
        for (int c = 0; c < g->c; c++) {
            float s[6][6], out[3][3];
            for (int e = 0; e < ELEMS; e++) {
                float acc = 0.0f;
                for (int q = 0; q < nparts; q++)
                    acc += part0[stride * q + estride * e + (size_t)f * g->c + c];
                s[e / 6][e % 6] = acc;
            }
            TRANSFORM_2D(dw_1d, 6, 6, 3, 3, s, out);
            float *w = dw + ((size_t)f * g->c + c) * 9;
            for (int i = 0; i < 9; i++)
                w[i] += out[i / 3][i % 3];
        }
        if (db) {
            float s = 0.0f;
            for (int q = 0; q < nparts; q++)
                s += part0[stride * q + ELEMS * estride + f];
            db[f] += s;
        }
    }
}

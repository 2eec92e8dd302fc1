/*
 * Winograd F(4x4, 3x3)'s transforms (Lavin & Gray 2016; the points and why:
 * conv_winograd.c), shared by the portable and the AVX-512 code: each 1-D
 * transform maps a column of values, one row every `ds` floats, to a column
 * of results, one every `ts` floats, for LANES independent lanes side by
 * side (tiles, or channels): plain C that the compiler turns into vector
 * code wherever it is inlined, 16-wide in AVX-512 functions.
 */
#ifndef SOMA_OPS_CPU_WINOGRAD_TRANSFORMS_H
#define SOMA_OPS_CPU_WINOGRAD_TRANSFORMS_H

#include <stddef.h>

#include "ops/backend.h"

#define ELEMS 36 /* the transformed tile is 6x6 */

typedef struct wino_dims {
    int th, tw, tiles; /* tiles of one image: rows, columns, all */
} wino_dims;

static inline wino_dims dims_of(const conv_geom *g)
{
    wino_dims d = {(g->oh + 3) / 4, (g->ow + 3) / 4, 0};
    d.tiles = d.th * d.tw;
    return d;
}

#define LANES 16
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* t = B^T d */
ALWAYS_INLINE void input_1d(const float *d, int ds, float *t, int ts)
{
    for (int l = 0; l < LANES; l++) {
        float d0 = d[l], d1 = d[ds + l], d2 = d[2 * ds + l], d3 = d[3 * ds + l];
        float d4 = d[4 * ds + l], d5 = d[5 * ds + l];
        t[l] = 4.0f * d0 - 5.0f * d2 + d4;
        t[ts + l] = -4.0f * d1 - 4.0f * d2 + d3 + d4;
        t[2 * ts + l] = 4.0f * d1 - 4.0f * d2 - d3 + d4;
        t[3 * ts + l] = -2.0f * d1 - d2 + 2.0f * d3 + d4;
        t[4 * ts + l] = 2.0f * d1 - d2 - 2.0f * d3 + d4;
        t[5 * ts + l] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* u = G g */
ALWAYS_INLINE void filter_1d(const float *g, int gs, float *u, int us)
{
    for (int l = 0; l < LANES; l++) {
        float g0 = g[l], g1 = g[gs + l], g2 = g[2 * gs + l];
        u[l] = g0 * (1.0f / 4.0f);
        u[us + l] = (g0 + g1 + g2) * (-1.0f / 6.0f);
        u[2 * us + l] = (g0 - g1 + g2) * (-1.0f / 6.0f);
        u[3 * us + l] = g0 * (1.0f / 24.0f) + g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
        u[4 * us + l] = g0 * (1.0f / 24.0f) - g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
        u[5 * us + l] = g2;
    }
}

/* y = A^T m */
ALWAYS_INLINE void output_1d(const float *m, int ms, float *y, int ys)
{
    for (int l = 0; l < LANES; l++) {
        float m0 = m[l], m1 = m[ms + l], m2 = m[2 * ms + l], m3 = m[3 * ms + l];
        float m4 = m[4 * ms + l], m5 = m[5 * ms + l];
        y[l] = m0 + m1 + m2 + m3 + m4;
        y[ys + l] = m1 - m2 + 2.0f * (m3 - m4);
        y[2 * ys + l] = m1 + m2 + 4.0f * (m3 + m4);
        y[3 * ys + l] = m1 - m2 + 8.0f * (m3 - m4) + m5;
    }
}

/* a = A z (the transpose of output_1d) */
ALWAYS_INLINE void dy_1d(const float *z, int zs, float *a, int as)
{
    for (int l = 0; l < LANES; l++) {
        float z0 = z[l], z1 = z[zs + l], z2 = z[2 * zs + l], z3 = z[3 * zs + l];
        a[l] = z0;
        a[as + l] = z0 + z1 + z2 + z3;
        a[2 * as + l] = z0 - z1 + z2 - z3;
        a[3 * as + l] = z0 + 2.0f * z1 + 4.0f * z2 + 8.0f * z3;
        a[4 * as + l] = z0 - 2.0f * z1 + 4.0f * z2 - 8.0f * z3;
        a[5 * as + l] = z3;
    }
}

/* w = G^T s (the transpose of filter_1d) */
ALWAYS_INLINE void dw_1d(const float *s, int ss, float *w, int ws)
{
    for (int l = 0; l < LANES; l++) {
        float s0 = s[l], s1 = s[ss + l], s2 = s[2 * ss + l], s3 = s[3 * ss + l];
        float s4 = s[4 * ss + l], s5 = s[5 * ss + l];
        w[l] = s0 * (1.0f / 4.0f) - (s1 + s2) * (1.0f / 6.0f) + (s3 + s4) * (1.0f / 24.0f);
        w[ws + l] = (s2 - s1) * (1.0f / 6.0f) + (s3 - s4) * (1.0f / 12.0f);
        w[2 * ws + l] = (s3 + s4 - s1 - s2) * (1.0f / 6.0f) + s5;
    }
}

/* A 2-D transform of IR x IC blocks to OR x OC ones, lane by lane: f down
 * each column of `in`, then along each row of the result. */
#define TRANSFORM_2D(f, IR, IC, OR, OC, in, out)                                    \
    do {                                                                            \
        float mid_[(OR) * (IC) * LANES];                                            \
        for (int q_ = 0; q_ < (IC); q_++)                                           \
            f((in) + q_ * LANES, (IC) * LANES, mid_ + q_ * LANES, (IC) * LANES);    \
        for (int r_ = 0; r_ < (OR); r_++)                                           \
            f(mid_ + r_ * (IC) * LANES, LANES, (out) + r_ * (OC) * LANES, LANES);   \
    } while (0)

/* Lane l of blk (size x size, [r][q][lane]) = the block of plane (h x w) at
 * (y0, x0), zeros outside, and zeros where mask (may be NULL) is <= 0. */
ALWAYS_INLINE void load_lane(const float *plane, const float *mask, int h, int w, int y0, int x0,
                             int size, float *blk, int l)
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
            blk[(r * size + q) * LANES + l] = v;
        }
}

/* Where the tiles [t0, t0 + lanes) of a chunk start: sample, row, column. */
typedef struct tile_lanes {
    int lanes, n[LANES], y[LANES], x[LANES];
} tile_lanes;

static inline tile_lanes tiles_at(wino_dims d, int t0, int total)
{
    tile_lanes tl;
    tl.lanes = total - t0 < LANES ? total - t0 : LANES;
    for (int l = 0; l < tl.lanes; l++) {
        int t = t0 + l;
        tl.n[l] = t / d.tiles;
        tl.y[l] = t % d.tiles / d.tw * 4;
        tl.x[l] = t % d.tiles % d.tw * 4;
    }
    return tl;
}

/* rows[e][lane] stored to dst + e * estride, the first `lanes` lanes */
ALWAYS_INLINE void store_lanes(const float *rows, int count, float *dst, size_t estride,
                               int lanes)
{
    for (int e = 0; e < count; e++) {
        if (lanes == LANES) { /* one vector */
            for (int l = 0; l < LANES; l++)
                dst[estride * e + l] = rows[e * LANES + l];
            continue;
        }
        for (int l = 0; l < lanes; l++)
            dst[estride * e + l] = rows[e * LANES + l];
    }
}


/* The AVX-512 elementwise stage (conv_winograd_avx512.c): filters packed as
 * [e][K/16][C][16], products as [e][tile][K rounded up to 16]. */
size_t winograd512_shared(const conv_geom *g);
size_t winograd512_products(const conv_geom *g, int tc);
void winograd512_pack(const conv_geom *g, const float *w, int transposed, float *packed,
                      int part, int parts);
void winograd512_multiply(const conv_geom *g, const float *packed, const float *v, int tc,
                          float *m);
void winograd512_output(const conv_geom *g, const float *m, const float *b, int count, float *y,
                        size_t y_stride);
/* The filter gradient: parts as [e][C][K rounded up to 16], then the bias */
size_t winograd512_dw_part(const conv_geom *g);
size_t winograd512_dw_scratch(const conv_geom *g, int tc);
void winograd512_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                          const float *dy, size_t y_stride, int count, float *part,
                          float *scratch);
void winograd512_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                           int f0, int f1, float *dw);

#endif

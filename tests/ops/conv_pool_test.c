/*
 * The CPU's convolution with its max-pool fused (backend.h's conv_pool_*)
 * computes the same bits as the unfused passes one after another: the
 * convolution, the pool (with and without the ReLU between them), the
 * pool's input gradient and the convolution's filter, bias and input
 * gradients (the backward with dx and without, as for a first layer).
 * Checked on LeNet-5's two convolutions and shapes around them: every tile
 * rowvec's pooled kernel has (1 to 16 filters, planes of one and two
 * vectors, a width past one tile) and chanvec's (tiles of 2 to 14 pixels,
 * 1 to 16 filters, padded or not), an odd batch, 1 and 2 threads; with ties
 * (small integers, so that windows hold equal maxima and the first must
 * win), all-negative windows (no gradient through the ReLU) and a NaN.
 * Shapes the fused pass does not take are refused by conv_pool_supported.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"
#include "support/check.h"

static const soma_backend *be = &soma_cpu_backend;

enum values { NORMAL, TIES, NAN_IN };

static float *values(size_t n, uint64_t stream, enum values kind)
{
    rng r;
    rng_init(&r, 33, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = kind == TIES ? (float)((int)rng_below(&r, 5) - 2) : rng_normal(&r);
    if (kind == NAN_IN && n > 40)
        p[40] = NAN;
    return p;
}

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

static void check(int n, int c, int h, int w, int k, int size, int pad, int relu,
                  enum values kind)
{
    int oh = h + 2 * pad - size + 1, ow = w + 2 * pad - size + 1;
    conv_geom g = {n, c, h, w, k, size, size, 1, pad, oh, ow, 0, 1};
    pool_geom p = {n, k, oh, ow, 2, 2, 0, oh / 2, ow / 2, relu};
    size_t nx = (size_t)n * c * h * w, nc = (size_t)n * k * oh * ow;
    size_t np = (size_t)n * k * p.oh * p.ow, nw = (size_t)k * c * size * size;
    float *x = values(nx, 1, kind), *wt = values(nw, 2, kind == NAN_IN ? NORMAL : kind);
    float *b = values(k, 3, kind == NAN_IN ? NORMAL : kind), *dy = values(np, 4, NORMAL);
    float *conv = malloc(sizeof *conv * nc), *dconv = malloc(sizeof *dconv * nc);
    float *y0 = malloc(sizeof *y0 * np), *y1 = malloc(sizeof *y1 * np);
    int32_t *a0 = malloc(sizeof *a0 * np), *a1 = malloc(sizeof *a1 * np);
    float *dw0 = calloc(nw, sizeof *dw0), *dw1 = calloc(nw, sizeof *dw1);
    float *dx0 = malloc(sizeof *dx0 * nx), *dx1 = malloc(sizeof *dx1 * nx);
    float *db0 = calloc(k, sizeof *db0), *db1 = calloc(k, sizeof *db1);
    for (int threads = 1; threads <= 2; threads++) {
        soma_set_threads(threads);
        CHECK_MSG(be->conv_pool_supported(&g, &p), "%dx%dx%d -> %d@%d: not taken", c, h, w, k,
                  size);
        size_t wc = be->conv2d_workspace(&g), wp = be->conv_pool_workspace(&g, &p, 1);
        size_t wp0 = be->conv_pool_workspace(&g, &p, 0);
        CHECK(wp0 <= wp);
        float *ws = malloc(sizeof *ws * (wc > wp ? wc : wp)), *ws2 = malloc(sizeof *ws2 * (wc ? wc : 1));
        CHECK(be->conv2d_forward(&g, x, wt, b, conv, ws) == SOMA_OK);
        CHECK(be->maxpool_forward(&p, conv, y0, a0) == SOMA_OK);
        memset(y1, 0xff, sizeof *y1 * np);
        CHECK(be->conv_pool_forward(&g, &p, x, wt, b, y1, a1, ws) == SOMA_OK);
        CHECK_MSG(same(y0, y1, sizeof *y0 * np) && same(a0, a1, sizeof *a0 * np),
                  "%dx%dx%d -> %d@%d pad %d relu %d kind %d, %d threads: forward differs", c, h,
                  w, k, size, pad, relu, kind, threads);
        CHECK(be->maxpool_backward(&p, dy, a0, dconv) == SOMA_OK);
        CHECK(be->conv2d_backward(&g, x, wt, NULL, dconv, dx0, dw0, db0, ws2) == SOMA_OK);
        for (int with_dx = 1; with_dx >= 0; with_dx--) {
            memset(dw1, 0, sizeof *dw1 * nw), memset(db1, 0, sizeof *db1 * k);
            memset(dx1, 0xff, sizeof *dx1 * nx);
            CHECK(be->conv_pool_backward(&g, &p, x, wt, dy, a1, with_dx ? dx1 : NULL, dw1, db1,
                                         ws) == SOMA_OK);
            CHECK_MSG(same(dw0, dw1, sizeof *dw0 * nw) && same(db0, db1, sizeof *db0 * k) &&
                          (!with_dx || same(dx0, dx1, sizeof *dx0 * nx)),
                      "%dx%dx%d -> %d@%d pad %d relu %d kind %d, %d threads, dx %d: gradients "
                      "differ",
                      c, h, w, k, size, pad, relu, kind, threads, with_dx);
        }
        memset(dw0, 0, sizeof *dw0 * nw), memset(db0, 0, sizeof *db0 * k);
        free(ws), free(ws2);
    }
    soma_set_threads(0);
    free(x), free(wt), free(b), free(dy), free(conv), free(dconv), free(y0), free(y1);
    free(a0), free(a1), free(dw0), free(dw1), free(db0), free(db1), free(dx0), free(dx1);
}

/* Geometries the fused pass leaves to the unfused ones. */
static void refused(void)
{
    conv_geom g = {4, 1, 28, 28, 6, 5, 5, 1, 2, 28, 28, 0, 1};
    pool_geom p = {4, 6, 28, 28, 2, 2, 0, 14, 14, 1};
    CHECK(be->conv_pool_supported(&g, &p));
    conv_geom relu = g;
    relu.relu = 1; /* a ReLU the convolution applies itself */
    CHECK(!be->conv_pool_supported(&relu, &p));
    pool_geom p3 = p;
    p3.size = p3.stride = 3, p3.oh = p3.ow = 9;
    CHECK(!be->conv_pool_supported(&g, &p3));
    conv_geom odd = {4, 1, 27, 27, 6, 5, 5, 1, 2, 27, 27, 0, 1};
    pool_geom podd = {4, 6, 27, 27, 2, 2, 0, 13, 13, 1};
    CHECK(!be->conv_pool_supported(&odd, &podd)); /* an odd plane: floor mode drops a row */
    conv_geom wide = {4, 16, 14, 14, 32, 3, 3, 1, 1, 14, 14, 0, 1};
    pool_geom pwide = {4, 32, 14, 14, 2, 2, 0, 7, 7, 1};
    CHECK(!be->conv_pool_supported(&wide, &pwide)); /* chanvec's, two blocks of filters */
    conv_geom long_row = {1, 1, 4, 1024, 2, 3, 3, 1, 1, 4, 1024, 0, 1};
    pool_geom plong = {1, 2, 4, 1024, 2, 2, 0, 2, 512, 1};
    CHECK(!be->conv_pool_supported(&long_row, &plong)); /* a padded row past 1024 floats */
}

int main(void)
{
    if (!cpu_has_avx512()) { /* the fused pass needs AVX-512; nothing else runs it */
        conv_geom g = {4, 1, 28, 28, 6, 5, 5, 1, 2, 28, 28, 0, 1};
        pool_geom p = {4, 6, 28, 28, 2, 2, 0, 14, 14, 1};
        CHECK(!be->conv_pool_supported(&g, &p));
        return check_finish("conv_pool");
    }
    check(5, 1, 28, 28, 6, 5, 2, 1, NORMAL); /* LeNet-5's first layer */
    check(5, 1, 28, 28, 6, 5, 2, 1, TIES);
    check(3, 1, 28, 28, 6, 5, 2, 1, NAN_IN);
    check(5, 1, 28, 28, 6, 5, 2, 0, NORMAL); /* no ReLU between them */
    check(3, 1, 28, 28, 6, 5, 2, 0, TIES);
    check(4, 3, 12, 12, 8, 3, 1, 1, NORMAL); /* 8 filters, one vector a row */
    check(4, 2, 16, 16, 4, 3, 1, 1, TIES);
    check(3, 1, 20, 20, 3, 5, 2, 1, NORMAL);
    check(3, 2, 24, 24, 2, 5, 0, 1, TIES); /* no padding: 20x20 */
    check(2, 1, 40, 40, 6, 3, 1, 1, NORMAL); /* two tiles across, the second of 8 columns */
    check(2, 1, 8, 8, 12, 3, 1, 1, NORMAL);  /* 12 filters: blocks of 6 */
    check(3, 1, 10, 6, 5, 3, 1, 1, TIES);    /* not square, 5 filters (a partial block) */
    /* chanvec's: 16 filters, tiles of 2 to 14 pixels */
    check(5, 6, 14, 14, 16, 5, 0, 1, NORMAL); /* LeNet-5's second layer: tiles of 10 */
    check(5, 6, 14, 14, 16, 5, 0, 1, TIES);
    check(3, 6, 14, 14, 16, 5, 0, 1, NAN_IN);
    check(3, 6, 14, 14, 16, 5, 0, 0, TIES); /* no ReLU between them */
    check(2, 4, 26, 26, 16, 3, 1, 1, TIES); /* tiles of 14 and 12 */
    check(3, 4, 24, 24, 16, 3, 1, 1, NORMAL); /* 12 */
    check(2, 4, 8, 8, 16, 3, 1, 0, TIES);     /* 8 */
    check(3, 2, 6, 6, 16, 5, 2, 1, NORMAL);   /* 6 */
    check(2, 8, 4, 4, 16, 3, 1, 1, TIES);     /* 4 */
    check(3, 4, 2, 2, 16, 3, 1, 1, NORMAL);   /* 2 */
    refused();
    return check_finish("conv_pool");
}

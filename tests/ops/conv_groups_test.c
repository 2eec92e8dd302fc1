/*
 * A grouped convolution is `groups` separate convolutions: the backend's
 * operations with groups against one ungrouped call per group on that
 * group's channels copied out (inputs, filters, bias, output gradients) and
 * the results copied back, bit for bit: forward, dx, dw, db, with and
 * without a fused ReLU, on 1 and 2 threads, in shapes that take each
 * algorithm. (conv_algos_test.c checks grouped geometries against the
 * definition for every algorithm; gradcheck_test.c with finite differences.)
 */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/backend.h"
#include "support/check.h"

static float *randoms(size_t n, uint64_t stream)
{
    rng r;
    rng_init(&r, 17, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = rng_normal(&r);
    return p;
}

/* Copies `blocks` blocks of `len` floats, each `stride` apart from `from`. */
static void gather(float *dst, const float *src, int blocks, size_t len, size_t stride)
{
    for (int b = 0; b < blocks; b++)
        memcpy(dst + len * b, src + stride * b, sizeof(float) * len);
}

static void scatter(float *dst, const float *src, int blocks, size_t len, size_t stride)
{
    for (int b = 0; b < blocks; b++)
        memcpy(dst + stride * b, src + len * b, sizeof(float) * len);
}

static void run(const conv_geom *g, const float *x, const float *w, const float *b,
                const float *dy, float *y, float *dx, float *dw, float *db)
{
    const soma_backend *be = &soma_cpu_backend;
    float *ws = calloc(be->conv2d_workspace(g) + 1, sizeof(float));
    CHECK(be->conv2d_forward(g, x, w, b, y, ws) == SOMA_OK);
    CHECK(be->conv2d_backward(g, x, w, y, dy, dx, dw, db, ws) == SOMA_OK);
    free(ws);
}

static void check_groups(int n, int c, int hw, int k, int size, int stride, int pad, int groups,
                         int relu)
{
    int o = (hw + 2 * pad - size) / stride + 1, cg = c / groups, kg = k / groups;
    conv_geom g = {n, c, hw, hw, k, size, size, stride, pad, o, o, relu, groups};
    conv_geom s = g;
    s.c = cg, s.k = kg, s.groups = 1;
    size_t in_plane = (size_t)hw * hw, out_plane = (size_t)o * o;
    size_t nx = in_plane * c * n, ny = out_plane * k * n, nw = (size_t)k * cg * size * size;
    float *x = randoms(nx, 1), *w = randoms(nw, 2), *b = randoms(k, 3), *dy = randoms(ny, 4);
    float *y = malloc(sizeof *y * ny), *dx = malloc(sizeof *dx * nx);
    float *dw = calloc(nw, sizeof *dw), *db = calloc(k, sizeof *db);
    float *y2 = malloc(sizeof *y2 * ny), *dx2 = malloc(sizeof *dx2 * nx);
    float *dw2 = calloc(nw, sizeof *dw2), *db2 = calloc(k, sizeof *db2);
    /* one group's tensors */
    size_t gx = in_plane * cg * n, gy = out_plane * kg * n, gw = nw / groups;
    float *xs = malloc(sizeof *xs * gx), *dys = malloc(sizeof *dys * gy);
    float *ys = malloc(sizeof *ys * gy), *dxs = malloc(sizeof *dxs * gx);
    float *dws = malloc(sizeof *dws * gw), *dbs = malloc(sizeof *dbs * kg);
    for (int threads = 1; threads <= 2; threads++) {
        soma_set_threads(threads);
        run(&g, x, w, b, dy, y, dx, dw, db);
        for (int gi = 0; gi < groups; gi++) {
            gather(xs, x + in_plane * cg * gi, n, in_plane * cg, in_plane * c);
            gather(dys, dy + out_plane * kg * gi, n, out_plane * kg, out_plane * k);
            memset(dws, 0, sizeof *dws * gw);
            memset(dbs, 0, sizeof *dbs * kg);
            run(&s, xs, w + gw * gi, b + kg * gi, dys, ys, dxs, dws, dbs);
            scatter(y2 + out_plane * kg * gi, ys, n, out_plane * kg, out_plane * k);
            scatter(dx2 + in_plane * cg * gi, dxs, n, in_plane * cg, in_plane * c);
            memcpy(dw2 + gw * gi, dws, sizeof *dws * gw);
            memcpy(db2 + kg * gi, dbs, sizeof *dbs * kg);
        }
        CHECK_MSG(memcmp(y, y2, sizeof *y * ny) == 0, "c%d k%d size %d groups %d relu %d: y",
                  c, k, size, groups, relu);
        CHECK_MSG(memcmp(dx, dx2, sizeof *dx * nx) == 0, "c%d k%d size %d groups %d: dx", c, k,
                  size, groups);
        CHECK_MSG(memcmp(dw, dw2, sizeof *dw * nw) == 0, "c%d k%d size %d groups %d: dw", c, k,
                  size, groups);
        CHECK_MSG(memcmp(db, db2, sizeof *db * k) == 0, "c%d k%d size %d groups %d: db", c, k,
                  size, groups);
        memset(dw, 0, sizeof *dw * nw), memset(db, 0, sizeof *db * k);
    }
    soma_set_threads(0);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
    free(y2), free(dx2), free(dw2), free(db2);
    free(xs), free(dys), free(ys), free(dxs), free(dws), free(dbs);
}

int main(void)
{
    check_groups(3, 16, 13, 64, 5, 1, 2, 2, 1);  /* AlexNet's conv2, small */
    check_groups(2, 32, 9, 32, 3, 1, 1, 2, 0);   /* conv4/5: 16-channel blocks */
    check_groups(2, 6, 11, 9, 3, 1, 1, 3, 0);    /* few channels per group */
    check_groups(3, 6, 15, 32, 11, 4, 2, 2, 1);  /* a strided first layer */
    check_groups(2, 4, 10, 8, 1, 1, 0, 4, 0);    /* 1x1 */
    return check_finish("conv_groups");
}

/*
 * The portable path, as a CPU without AVX-512 runs it (SOMA_CPU=generic):
 * every convolution pass falls back to im2col + GEMM, pooling and batch-norm
 * to their plain loops, and the results still match the definitions. The
 * LeNet-5 shapes, through the backend table as the layers call it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/simd.h"
#include "soma.h"
#include "support/check.h"

static float *randoms(size_t n, uint64_t stream)
{
    rng r;
    rng_init(&r, 33, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * n);
    for (size_t i = 0; i < n; i++)
        p[i] = rng_normal(&r);
    return p;
}

/* conv forward and filter gradient against loops from the definition */
static void check_conv(conv_geom g)
{
    const soma_backend *be = &soma_cpu_backend;
    int k = g.kh;
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.k * g.oh * g.ow;
    size_t nw = (size_t)g.k * g.c * k * k;
    float *x = randoms(nx, 1), *w = randoms(nw, 2), *b = randoms(g.k, 3), *dy = randoms(ny, 4);
    float *y = malloc(sizeof *y * ny), *dx = malloc(sizeof *dx * nx);
    float *dw = calloc(nw, sizeof *dw), *db = calloc(g.k, sizeof *db);
    float *ws = malloc(sizeof *ws * be->conv2d_workspace(&g));
    CHECK(be->conv2d_forward(&g, x, w, b, y, ws) == SOMA_OK);
    CHECK(be->conv2d_backward(&g, x, w, y, dy, dx, dw, db, ws) == SOMA_OK);
    int bad_y = 0, bad_dw = 0;
    for (int f = 0; f < g.k; f++)
        for (int c = 0; c < g.c; c++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    double acc = 0.0;
                    for (int n = 0; n < g.n; n++)
                        for (int oy = 0; oy < g.oh; oy++)
                            for (int ox = 0; ox < g.ow; ox++) {
                                int iy = oy - g.pad + i, ix = ox - g.pad + j;
                                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                                    continue;
                                acc += (double)dy[(((size_t)n * g.k + f) * g.oh + oy) * g.ow + ox] *
                                       x[(((size_t)n * g.c + c) * g.h + iy) * g.w + ix];
                            }
                    double got = dw[(((size_t)f * g.c + c) * k + i) * k + j];
                    bad_dw += !(fabs(got - acc) <= 1e-3 * (1.0 + fabs(acc)));
                }
    for (int n = 0; n < g.n; n++)
        for (int f = 0; f < g.k; f++)
            for (int oy = 0; oy < g.oh; oy++)
                for (int ox = 0; ox < g.ow; ox++) {
                    double acc = b[f];
                    for (int c = 0; c < g.c; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = oy - g.pad + i, ix = ox - g.pad + j;
                                if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                                    acc += (double)w[(((size_t)f * g.c + c) * k + i) * k + j] *
                                           x[(((size_t)n * g.c + c) * g.h + iy) * g.w + ix];
                            }
                    double got = y[(((size_t)n * g.k + f) * g.oh + oy) * g.ow + ox];
                    bad_y += !(fabs(got - acc) <= 1e-4 * (1.0 + fabs(acc)));
                }
    CHECK_MSG(bad_y == 0, "conv c%d k%d: %d outputs differ", g.c, g.k, bad_y);
    CHECK_MSG(bad_dw == 0, "conv c%d k%d: %d filter gradients differ", g.c, g.k, bad_dw);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(ws);
}

static void check_maxpool(void)
{
    pool_geom g = {2, 3, 28, 28, 2, 2, 0, 14, 14, 0};
    size_t nx = 2 * 3 * 28 * 28, ny = 2 * 3 * 14 * 14;
    float *x = randoms(nx, 5), *y = malloc(sizeof *y * ny);
    int32_t *arg = malloc(sizeof *arg * ny);
    CHECK(soma_cpu_backend.maxpool_forward(&g, x, y, arg) == SOMA_OK);
    int bad = 0;
    for (size_t o = 0; o < ny; o++) {
        size_t plane = o / 196, q = o % 196;
        const float *xp = x + plane * 784;
        int at = (int)(q / 14) * 56 + (int)(q % 14) * 2;
        float m = fmaxf(fmaxf(xp[at], xp[at + 1]), fmaxf(xp[at + 28], xp[at + 29]));
        bad += y[o] != m || xp[arg[o]] != m;
    }
    CHECK_MSG(bad == 0, "maxpool: %d outputs differ", bad);
    free(x), free(y), free(arg);
}

int main(void)
{
    setenv("SOMA_CPU", "generic", 1); /* before anything asks */
    CHECK(cpu_has_avx512() == 0);
    conv_geom lenet1 = {3, 1, 28, 28, 6, 5, 5, 1, 2, 28, 28, 0, 1};
    conv_geom lenet2 = {3, 6, 14, 14, 16, 5, 5, 1, 0, 10, 10, 0, 1};
    for (int pass = 0; pass < 3; pass++) {
        CHECK(!conv_algo_usable(&lenet2, (conv_pass)pass, CONV_CHANVEC));
        CHECK(!conv_algo_usable(&lenet1, (conv_pass)pass, CONV_ROWVEC));
    }
    conv_plan p = conv_plan_auto(&lenet2);
    CHECK(p.forward == CONV_GEMM && p.dx == CONV_GEMM && p.dw == CONV_GEMM);
    check_conv(lenet1);
    check_conv(lenet2);
    check_maxpool();
    return check_finish("portable");
}

/*
 * Every convolution algorithm of the CPU backend (im2col + GEMM, and the
 * AVX-512 direct kernels where the CPU has them), each pass, against naive
 * loops written from the definition in double precision: odd sizes, widths
 * that are not multiples of 16, channel counts around 16, stride 2 and 4,
 * padding, 1, 3, 5, 7 and 11 wide filters, groups, 1 and 2 threads, batches
 * of 1 to 37 (batch-lane's blocks of 16 samples). Also: the same
 * call twice gives the same bits, and filter gradients accumulate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/conv_algos.h"
#include "support/check.h"

static conv_geom make_grouped(int n, int c, int h, int w, int k, int size, int stride, int pad,
                              int groups)
{
    conv_geom g = {n, c, h, w, k, size, size, stride, pad, (h + 2 * pad - size) / stride + 1,
                   (w + 2 * pad - size) / stride + 1, 0, groups};
    return g;
}

static conv_geom make_geom(int n, int c, int h, int w, int k, int size, int stride, int pad)
{
    return make_grouped(n, c, h, w, k, size, stride, pad, 1);
}

static float xval(const conv_geom *g, const float *x, int n, int c, int iy, int ix)
{
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
        return 0.0f;
    return x[(((size_t)n * g->c + c) * g->h + iy) * g->w + ix];
}

/* y, dx, dw, db from the definitions; filter f of a grouped convolution
 * sees the cg input channels of its group, weights [k][cg][kh][kw] */
static void reference(const conv_geom *g, const float *x, const float *w, const float *b,
                      const float *dy, double *y, double *dx, double *dw, double *db)
{
    int k = g->kh, cg = g->c / conv_groups(g), kg = g->k / conv_groups(g);
    size_t ny = (size_t)g->n * g->k * g->oh * g->ow;
    memset(dx, 0, sizeof *dx * (size_t)g->n * g->c * g->h * g->w);
    memset(dw, 0, sizeof *dw * (size_t)g->k * cg * k * k);
    memset(db, 0, sizeof *db * g->k);
    for (size_t i = 0; i < ny; i++)
        y[i] = 0.0;
    for (int n = 0; n < g->n; n++)
        for (int f = 0; f < g->k; f++)
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    size_t yi = (((size_t)n * g->k + f) * g->oh + oy) * g->ow + ox;
                    double acc = b[f], d = dy[yi];
                    db[f] += d;
                    for (int c = f / kg * cg; c < (f / kg + 1) * cg; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = oy * g->stride - g->pad + i;
                                int ix = ox * g->stride - g->pad + j;
                                size_t wi = (((size_t)f * cg + c % cg) * k + i) * k + j;
                                acc += (double)w[wi] * xval(g, x, n, c, iy, ix);
                                dw[wi] += d * xval(g, x, n, c, iy, ix);
                                if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                                    dx[(((size_t)n * g->c + c) * g->h + iy) * g->w + ix] +=
                                        d * w[wi];
                            }
                    y[yi] = acc;
                }
}

static int count_bad(const float *got, const double *want, size_t n, double tol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])));
    return bad;
}

static const char *algo_name(conv_algo a)
{
    return a == CONV_GEMM       ? "gemm"
           : a == CONV_CHANVEC  ? "chanvec"
           : a == CONV_ROWVEC   ? "rowvec"
           : a == CONV_WINOGRAD ? "winograd"
                                : "batchlane";
}

static float *randoms(size_t n, uint64_t stream)
{
    rng r;
    rng_init(&r, 5, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = rng_normal(&r);
    return p;
}

static int tested[3][CONV_ALGOS]; /* [pass][algo]: how often each ran */

static void check_geometry(conv_geom g)
{
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.k * g.oh * g.ow;
    size_t nw = (size_t)g.k * (g.c / conv_groups(&g)) * g.kh * g.kw;
    float *x = randoms(nx, 1), *w = randoms(nw, 2), *b = randoms(g.k, 3), *dy = randoms(ny, 4);
    double *ry = malloc(sizeof *ry * ny), *rdx = malloc(sizeof *rdx * nx);
    double *rdw = malloc(sizeof *rdw * nw), *rdb = malloc(sizeof *rdb * g.k);
    reference(&g, x, w, b, dy, ry, rdx, rdw, rdb);
    float *y = malloc(sizeof *y * ny), *y2 = malloc(sizeof *y2 * ny);
    float *dx = malloc(sizeof *dx * nx), *dx2 = malloc(sizeof *dx2 * nx);
    float *dw = malloc(sizeof *dw * nw), *dw2 = malloc(sizeof *dw2 * nw);
    float *db = malloc(sizeof *db * g.k), *db2 = malloc(sizeof *db2 * g.k);
    double tol = 1e-4;
    char what[160];
    for (int threads = 1; threads <= 2; threads++)
        for (int a = CONV_GEMM; a < CONV_ALGOS; a++) {
            conv_plan p = {(conv_algo)a, (conv_algo)a, (conv_algo)a};
            int use[3];
            for (int pass = 0; pass < 3; pass++) {
                use[pass] = conv_algo_usable(&g, (conv_pass)pass, (conv_algo)a);
                if (!use[pass])
                    (&p.forward)[pass] = CONV_GEMM;
                tested[pass][a] += use[pass];
            }
            snprintf(what, sizeof what, "%s n%d c%d %dx%d k%d size%d s%d p%d groups %d, %d threads",
                     algo_name((conv_algo)a), g.n, g.c, g.h, g.w, g.k, g.kh, g.stride, g.pad,
                     conv_groups(&g), threads);
            float *ws = malloc(sizeof *ws * conv_plan_workspace(&g, &p, threads));
            conv_forward_planned(&g, &p, threads, x, w, b, y, ws);
            /* Winograd's error grows with its transforms (bounded in
             * conv_winograd_test.c): a looser check here */
            double tol_y = a == CONV_WINOGRAD ? 1e-3 : tol;
            CHECK_MSG(count_bad(y, ry, ny, tol_y) == 0, "%s: forward differs", what);
            conv_forward_planned(&g, &p, threads, x, w, b, y2, ws);
            CHECK_MSG(memcmp(y, y2, sizeof *y * ny) == 0, "%s: forward not repeatable", what);
            /* gradients accumulate: start from 1 and subtract it */
            for (size_t i = 0; i < nw; i++)
                dw[i] = 1.0f;
            for (int i = 0; i < g.k; i++)
                db[i] = 1.0f;
            conv_backward_planned(&g, &p, threads, x, w, NULL, dy, dx, dw, db, ws);
            for (size_t i = 0; i < nw; i++)
                dw[i] -= 1.0f;
            for (int i = 0; i < g.k; i++)
                db[i] -= 1.0f;
            CHECK_MSG(count_bad(dx, rdx, nx, tol_y) == 0, "%s: dx differs", what);
            CHECK_MSG(count_bad(dw, rdw, nw, 1e-3) == 0, "%s: dw differs", what);
            CHECK_MSG(count_bad(db, rdb, g.k, 1e-3) == 0, "%s: db differs", what);
            memset(dw2, 0, sizeof *dw2 * nw);
            memset(db2, 0, sizeof *db2 * g.k);
            conv_backward_planned(&g, &p, threads, x, w, NULL, dy, dx2, dw2, db2, ws);
            CHECK_MSG(memcmp(dx, dx2, sizeof *dx * nx) == 0, "%s: dx not repeatable", what);
            /* without dx: the filter gradient alone */
            memset(dw, 0, sizeof *dw * nw);
            conv_backward_planned(&g, &p, threads, x, w, NULL, dy, NULL, dw, NULL, ws);
            CHECK_MSG(memcmp(dw, dw2, sizeof *dw * nw) == 0, "%s: dw not repeatable", what);
            free(ws);
        }
    free(x), free(w), free(b), free(dy), free(ry), free(rdx), free(rdw), free(rdb);
    free(y), free(y2), free(dx), free(dx2), free(dw), free(dw2), free(db), free(db2);
}

int main(void)
{
    /* LeNet-5's two layers */
    check_geometry(make_geom(3, 1, 28, 28, 6, 5, 1, 2));
    check_geometry(make_geom(3, 6, 14, 14, 16, 5, 1, 0));
    /* the BN CNN's: 3x3 pad 1, 32 and 64 channels */
    check_geometry(make_geom(2, 1, 28, 28, 32, 3, 1, 1));
    check_geometry(make_geom(2, 32, 14, 14, 32, 3, 1, 1));
    check_geometry(make_geom(2, 17, 7, 9, 33, 3, 1, 1));
    /* odd shapes: tails, channels around 16, rows of one pixel, wide rows */
    check_geometry(make_geom(3, 3, 9, 8, 4, 3, 1, 0));
    check_geometry(make_geom(2, 5, 11, 37, 7, 5, 1, 2));
    check_geometry(make_geom(2, 2, 5, 50, 15, 3, 1, 1));
    check_geometry(make_geom(2, 3, 6, 17, 1, 3, 1, 2));
    check_geometry(make_geom(2, 16, 3, 3, 16, 3, 1, 0));
    check_geometry(make_geom(2, 2, 13, 13, 20, 1, 1, 0));
    check_geometry(make_geom(2, 3, 12, 11, 17, 7, 1, 3));
    /* strides: dx falls back to GEMM, forward and dw stay direct */
    check_geometry(make_geom(2, 5, 13, 15, 24, 3, 2, 1));
    check_geometry(make_geom(2, 3, 31, 29, 16, 11, 4, 2));
    check_geometry(make_geom(1, 4, 9, 8, 5, 4, 3, 0));
    /* groups: AlexNet's two towers (conv2, 5x5), 3x3 with channel blocks of
     * 16 and of odd sizes, a stride, and one filter per input channel */
    check_geometry(make_grouped(2, 8, 9, 9, 32, 5, 1, 2, 2));
    check_geometry(make_grouped(2, 32, 7, 9, 32, 3, 1, 1, 2));
    check_geometry(make_grouped(2, 9, 8, 7, 6, 3, 1, 1, 3));
    check_geometry(make_grouped(2, 6, 11, 13, 34, 3, 2, 1, 2));
    check_geometry(make_grouped(2, 4, 6, 18, 4, 3, 1, 1, 4));
    /* batch-lane's blocks of 16 samples: batches of 1, 5, 17 and 37 (a
     * partial last block, with 2 threads one per part), LeNet-5's conv2 and
     * other shapes: kernel sizes 1 to 7, padding 0 to k-1, rows narrower
     * and wider than its column tiles, 1 to 16 output channels of dx (one
     * to three channel blocks), groups */
    check_geometry(make_geom(1, 6, 14, 14, 16, 5, 1, 0));
    check_geometry(make_geom(5, 6, 14, 14, 16, 5, 1, 0));
    check_geometry(make_geom(17, 6, 14, 14, 16, 5, 1, 0));
    check_geometry(make_geom(37, 6, 14, 14, 16, 5, 1, 0));
    check_geometry(make_geom(17, 2, 11, 19, 9, 5, 1, 2));
    check_geometry(make_geom(5, 4, 12, 11, 3, 7, 1, 3));
    check_geometry(make_geom(37, 1, 6, 9, 5, 3, 1, 1));
    check_geometry(make_geom(5, 16, 6, 7, 4, 3, 1, 1));
    check_geometry(make_geom(17, 13, 5, 23, 6, 3, 1, 2));
    check_geometry(make_geom(5, 7, 9, 3, 8, 3, 1, 0));
    check_geometry(make_geom(5, 2, 4, 4, 3, 5, 1, 2));
    check_geometry(make_geom(17, 3, 5, 6, 20, 1, 1, 0));
    check_geometry(make_grouped(17, 6, 8, 8, 4, 3, 1, 1, 2));
    /* every direct kernel ran, where the CPU has them */
    if (conv_algo_usable(&(conv_geom){1, 1, 8, 8, 16, 3, 3, 1, 1, 8, 8, 0, 1}, CONV_FORWARD,
                         CONV_CHANVEC))
        for (int pass = 0; pass < 3; pass++)
            for (int a = CONV_CHANVEC; a <= CONV_ROWVEC; a++)
                CHECK_MSG(tested[pass][a] > 0, "pass %d never ran %s", pass,
                          algo_name((conv_algo)a));
    /* batch-lane: the input gradient only */
    for (int pass = 0; pass < 3; pass++)
        CHECK_MSG((tested[pass][CONV_BATCHLANE] > 0) ==
                      (pass == CONV_DX && conv_algo_usable(&(conv_geom){1, 1, 8, 8, 16, 3, 3, 1,
                                                                        1, 8, 8, 0, 1},
                                                           CONV_FORWARD, CONV_CHANVEC)),
                  "pass %d ran batchlane %d times", pass, tested[pass][CONV_BATCHLANE]);
    return check_finish("conv_algos");
}

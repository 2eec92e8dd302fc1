/*
 * Winograd F(4x4, 3x3) (src/ops/cpu/conv_winograd.c) against the definition
 * in double precision, each pass, with an error bound derived for it rather
 * than a tolerance picked to pass.
 *
 * The bound. Each stage of the algorithm is a linear combination, computed
 * in float: a combination of L terms with coefficients that are exact or
 * rounded once errs by at most gamma(L + 1) times the same combination taken
 * with absolute values (Higham, Accuracy and Stability, 3.1), gamma(n) =
 * n u / (1 - n u), u = 2^-24. Composing the stages, and taking every matrix
 * and every value by its magnitude, an output y of the forward pass obeys
 *
 *     |y - y_exact| <= gamma(S + C) * mag,
 *     mag = |A^T| (sum over c of (|G| |g_c| |G^T|) . (|B^T| |d_c| |B|)) |A| + |b|
 *
 * with C the input channels (the sum over them, as sgemm runs it), S the
 * roundings of the transforms on one path: 2 x 6 for the filter transform (3
 * terms, a rounded coefficient, a product), 2 x 5 for the input transform
 * (4 terms, one inexact product), 1 for the elementwise product, 2 x 6 for
 * the output transform (6 terms, exact coefficients) and 1 for the bias:
 * S = 36 (WINO_STAGES_FORWARD, with room). The input gradient is the same on the
 * transposed problem (K channels summed). The filter gradient,
 * dw = G^T (sum over tiles of (A dy A^T) . (B^T x B)) G, sums
 * n x tiles products instead, plus one addition per chunk and per part, and
 * its transforms round 2 x 4 (dy), 2 x 5 (x), 1 and 2 x 8 (G^T) times:
 * WINO_STAGES_DW = 40 with the chunks and parts added. The magnitudes are
 * computed in tests/support/winograd_bound.c (the conformance suite allows
 * the same for 3x3 stride-1 convolutions).
 *
 * mag exceeds the direct algorithm's sum |w| |x| by the transforms' growth:
 * the test prints the largest error relative to both, per pass, so that the
 * error Winograd adds is on record next to the bound it keeps.
 *
 * Also: the chunked, threaded and grouped paths, batch tails, padding 0 to
 * 3 (past 2 the input gradient is not a Winograd convolution and falls back),
 * partial tiles, a fused ReLU; the same bits with 1 and 2 threads for the
 * forward and input-gradient passes; and conv_plan_choose's choices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/simd.h"
#include "support/check.h"
#include "support/winograd_bound.h"

/* A convolution as the test sees it: `ins` planes of h x w in, `outs`
 * planes of oh x ow out, 3x3 filters f[o][i] (zero where a group hides
 * them), padding pad. */
typedef struct problem {
    int n, ins, h, w, outs, oh, ow, pad;
    const double *f; /* [outs][ins][3][3] */
} problem;

static double in_at(const problem *p, const float *x, int n, int c, int iy, int ix)
{
    if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
        return 0.0;
    return x[(((size_t)n * p->ins + c) * p->h + iy) * p->w + ix];
}

/* The exact convolution and sum |f| |x| of every output */
static void forward_reference(const problem *p, const float *x, double *y, double *direct_mag)
{
    for (int n = 0; n < p->n; n++)
        for (int o = 0; o < p->outs; o++)
            for (int oy = 0; oy < p->oh; oy++)
                for (int ox = 0; ox < p->ow; ox++) {
                    double acc = 0.0, dm = 0.0;
                    for (int c = 0; c < p->ins; c++)
                        for (int t = 0; t < 9; t++) {
                            double v = p->f[((size_t)o * p->ins + c) * 9 + t] *
                                       in_at(p, x, n, c, oy - p->pad + t / 3, ox - p->pad + t % 3);
                            acc += v;
                            dm += fabs(v);
                        }
                    size_t yi = (((size_t)n * p->outs + o) * p->oh + oy) * p->ow + ox;
                    y[yi] = acc;
                    direct_mag[yi] = dm;
                }
}

static float *randoms(size_t n, uint64_t stream)
{
    rng r;
    rng_init(&r, 11, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = rng_normal(&r);
    return p;
}

typedef struct worst {
    double bound_ratio, direct_ratio; /* largest |err| / bound, |err| / sum |w||x| */
} worst;

/* Each element within gamma(s) * mag (+ the bias's |b|); the worst ratios */
static int check_bound(const float *got, const double *want, const double *mag,
                       const double *direct, size_t n, double gam, worst *w)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(got[i] - want[i]);
        bad += !(err <= gam * mag[i]);
        if (mag[i] > 0 && err / (gam * mag[i]) > w->bound_ratio)
            w->bound_ratio = err / (gam * mag[i]);
        if (direct[i] > 0 && err / direct[i] > w->direct_ratio)
            w->direct_ratio = err / direct[i];
    }
    return bad;
}

static worst worst_fwd, worst_dx, worst_dw;

static conv_geom geom(int n, int c, int h, int w, int k, int pad, int relu, int groups)
{
    conv_geom g = {n, c, h, w, k, 3, 3, 1, pad, h + 2 * pad - 2, w + 2 * pad - 2, relu, groups};
    return g;
}

static void check_geometry(conv_geom g)
{
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.k * g.oh * g.ow;
    int cg = g.c / conv_groups(&g);
    size_t nw = (size_t)g.k * cg * 9;
    float *x = randoms(nx, 1), *w = randoms(nw, 2), *b = randoms(g.k, 3), *dy = randoms(ny, 4);
    float *y = malloc(sizeof *y * ny), *dx = malloc(sizeof *dx * nx), *dw = malloc(sizeof *dw * nw);
    float *db = malloc(sizeof *db * g.k), *y1 = malloc(sizeof *y1 * ny);
    float *dx1 = malloc(sizeof *dx1 * nx);
    double *ry = malloc(sizeof *ry * ny), *ymag = malloc(sizeof *ymag * ny);
    double *ydir = malloc(sizeof *ydir * ny);
    double *rdx = malloc(sizeof *rdx * nx), *dxmag = malloc(sizeof *dxmag * nx);
    double *dxdir = malloc(sizeof *dxdir * nx);
    double *rdw = malloc(sizeof *rdw * nw), *dwmag = malloc(sizeof *dwmag * nw);
    double *dwdir = malloc(sizeof *dwdir * nw);
    char what[128];
    snprintf(what, sizeof what, "n%d c%d %dx%d k%d p%d relu%d groups%d", g.n, g.c, g.h, g.w, g.k,
             g.pad, g.relu, conv_groups(&g));

    /* forward: y before the ReLU, its magnitudes, then the bias */
    double *f = wino_dense_filters(&g, w, 0);
    problem pf = {g.n, g.c, g.h, g.w, g.k, g.oh, g.ow, g.pad, f};
    forward_reference(&pf, x, ry, ydir);
    wino_forward_mag(g.n, g.c, g.h, g.w, g.k, g.oh, g.ow, g.pad, f, x, ymag);
    for (size_t i = 0; i < ny; i++) {
        int k = (int)(i / ((size_t)g.oh * g.ow) % g.k);
        ry[i] += b[k];
        ymag[i] += fabs(b[k]);
        ydir[i] += fabs(b[k]);
        if (g.relu) /* exact: the bound holds before it and max(0, .) only shrinks errors */
            ry[i] = ry[i] > 0.0 ? ry[i] : 0.0;
    }

    int dx_ok = conv_algo_usable(&g, CONV_DX, CONV_WINOGRAD);
    CHECK_MSG(dx_ok == (g.pad <= 2), "%s: dx usable %d", what, dx_ok);
    for (int threads = 1; threads <= 2; threads++) {
        conv_plan p = {CONV_WINOGRAD, dx_ok ? CONV_WINOGRAD : CONV_GEMM, CONV_WINOGRAD};
        float *ws = malloc(sizeof *ws * conv_plan_workspace(&g, &p, threads));
        conv_forward_planned(&g, &p, threads, x, w, b, y, ws);
        double gam_y = wino_gamma(WINO_STAGES_FORWARD + cg);
        CHECK_MSG(check_bound(y, ry, ymag, ydir, ny, gam_y, &worst_fwd) == 0,
                  "%s, %d threads: forward outside the bound", what, threads);

        /* backward: dz = dy masked by the ReLU of this y */
        float *dz = malloc(sizeof *dz * ny);
        for (size_t i = 0; i < ny; i++)
            dz[i] = g.relu && !(y[i] > 0.0f) ? 0.0f : dy[i];
        double *ft = wino_dense_filters(&g, w, 1);
        problem pt = {g.n, g.k, g.oh, g.ow, g.c, g.h, g.w, 2 - g.pad, ft};
        if (dx_ok) {
            forward_reference(&pt, dz, rdx, dxdir);
            wino_forward_mag(g.n, g.k, g.oh, g.ow, g.c, g.h, g.w, 2 - g.pad, ft, dz, dxmag);
        }
        free(ft);
        memset(dw, 0, sizeof *dw * nw);
        memset(db, 0, sizeof *db * g.k);
        conv_backward_planned(&g, &p, threads, x, w, y, dy, dx, dw, db, ws);
        double gam_dx = wino_gamma(WINO_STAGES_FORWARD + g.k / conv_groups(&g));
        if (dx_ok)
            CHECK_MSG(check_bound(dx, rdx, dxmag, dxdir, nx, gam_dx, &worst_dx) == 0,
                      "%s, %d threads: dx outside the bound", what, threads);

        /* dw's reference and magnitudes */
        memset(rdw, 0, sizeof *rdw * nw);
        memset(dwdir, 0, sizeof *dwdir * nw);
        wino_dw_mag(&g, x, dz, dwmag);
        problem px = {g.n, g.c, g.h, g.w, g.k, g.oh, g.ow, g.pad, NULL};
        int kg = g.k / conv_groups(&g), th = (g.oh + 3) / 4, tw = (g.ow + 3) / 4;
        for (int k = 0; k < g.k; k++)
            for (int cl = 0; cl < cg; cl++) {
                size_t wi = ((size_t)k * cg + cl) * 9;
                int c = k / kg * cg + cl;
                for (int n = 0; n < g.n; n++)
                    for (int oy = 0; oy < g.oh; oy++)
                        for (int ox = 0; ox < g.ow; ox++) {
                            double d = dz[(((size_t)n * g.k + k) * g.oh + oy) * g.ow + ox];
                            for (int t = 0; t < 9; t++) {
                                double v =
                                    d * in_at(&px, x, n, c, oy - g.pad + t / 3, ox - g.pad + t % 3);
                                rdw[wi + t] += v;
                                dwdir[wi + t] += fabs(v);
                            }
                        }
            }
        int sums = g.n * th * tw + g.n + threads; /* products, chunks, parts */
        double gam_dw = wino_gamma(WINO_STAGES_DW + sums);
        CHECK_MSG(check_bound(dw, rdw, dwmag, dwdir, nw, gam_dw, &worst_dw) == 0,
                  "%s, %d threads: dw outside the bound", what, threads);
        for (int k = 0; k < g.k; k++) {
            double s = 0.0, m = 0.0;
            for (int n = 0; n < g.n; n++)
                for (int i = 0; i < g.oh * g.ow; i++) {
                    double d = dz[((size_t)n * g.k + k) * g.oh * g.ow + i];
                    s += d, m += fabs(d);
                }
            CHECK_MSG(fabs(db[k] - s) <= wino_gamma(g.n * g.oh * g.ow + threads) * m,
                      "%s: db[%d] %g, want %g", what, k, db[k], s);
        }
        /* the forward and input-gradient passes do not depend on the threads */
        if (threads == 1) {
            memcpy(y1, y, sizeof *y * ny);
            memcpy(dx1, dx, sizeof *dx * nx);
        } else {
            CHECK_MSG(memcmp(y, y1, sizeof *y * ny) == 0, "%s: forward differs by threads", what);
            CHECK_MSG(!dx_ok || memcmp(dx, dx1, sizeof *dx * nx) == 0,
                      "%s: dx differs by threads", what);
        }
        free(dz), free(ws);
    }
    free(f), free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
    free(y1), free(dx1), free(ry), free(ymag), free(ydir), free(rdx), free(dxmag), free(dxdir);
    free(rdw), free(dwmag), free(dwdir);
}

/* conv_plan_choose: Winograd only where it can run; every other pass and
 * every shape it cannot serve keeps the choice by shape. */
static void check_choices(void)
{
    static const conv_geom shapes[] = {
        {2, 64, 14, 14, 64, 3, 3, 1, 1, 14, 14, 0, 1},  {2, 8, 9, 9, 8, 3, 3, 1, 1, 9, 9, 0, 1},
        {2, 16, 11, 11, 32, 3, 3, 2, 1, 6, 6, 0, 1},    {2, 16, 9, 9, 32, 5, 5, 1, 2, 9, 9, 0, 1},
        {2, 32, 7, 7, 16, 3, 3, 1, 3, 11, 11, 0, 1},    {2, 16, 8, 8, 16, 1, 1, 1, 0, 8, 8, 0, 1},
        {2, 128, 13, 13, 128, 3, 3, 1, 1, 13, 13, 1, 2},
        {2, 6, 10, 12, 4, 3, 2, 1, 1, 10, 13, 0, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const conv_geom *g = &shapes[i];
        conv_plan fixed = conv_plan_fixed(g);
        conv_plan rule = conv_plan_choose(g, CHOICE_RULE, 2);
        conv_plan wino = conv_plan_choose(g, CHOICE_WINOGRAD, 2);
        conv_plan direct = conv_plan_choose(g, CHOICE_DIRECT, 2);
        conv_plan gemm = conv_plan_choose(g, CHOICE_GEMM, 2);
        for (int pass = 0; pass < 3; pass++) {
            int usable = conv_algo_usable(g, (conv_pass)pass, CONV_WINOGRAD);
            conv_algo f = (&fixed.forward)[pass];
            CHECK_MSG(f != CONV_WINOGRAD, "shape %zu: the choice by shape took winograd", i);
            CHECK_MSG((&wino.forward)[pass] == (usable ? CONV_WINOGRAD : f),
                      "shape %zu pass %d: forced winograd", i, pass);
            CHECK_MSG((&rule.forward)[pass] ==
                          (winograd_pays(g, (conv_pass)pass) ? CONV_WINOGRAD : f),
                      "shape %zu pass %d: the rule", i, pass);
            CHECK_MSG(!winograd_pays(g, (conv_pass)pass) || usable, "shape %zu: pays, unusable",
                      i);
            CHECK_MSG((&direct.forward)[pass] == f, "shape %zu pass %d: direct", i, pass);
            CHECK_MSG((&gemm.forward)[pass] == CONV_GEMM, "shape %zu pass %d: gemm", i, pass);
        }
        /* measured: Winograd or the choice by shape, the same on every call */
        conv_plan m1 = conv_plan_choose(g, CHOICE_MEASURE, 2);
        conv_plan m2 = conv_plan_choose(g, CHOICE_MEASURE, 2);
        CHECK_MSG(memcmp(&m1, &m2, sizeof m1) == 0, "shape %zu: measured twice, two plans", i);
        for (int pass = 0; pass < 3; pass++) {
            conv_algo a = (&m1.forward)[pass];
            CHECK_MSG(a == (&fixed.forward)[pass] ||
                          (a == CONV_WINOGRAD && conv_algo_usable(g, (conv_pass)pass, a)),
                      "shape %zu pass %d: measured %d", i, pass, (int)a);
        }
    }
    conv_choice c;
    CHECK(conv_choice_parse("winograd", &c) && c == CHOICE_WINOGRAD);
    CHECK(conv_choice_parse("measure", &c) && c == CHOICE_MEASURE);
    CHECK(!conv_choice_parse("winogradd", &c));
    /* SOMA_CONV_ALGO, as CTest's conv_winograd_test_forced sets it */
    const char *env = getenv("SOMA_CONV_ALGO");
    if (env && conv_choice_parse(env, &c))
        CHECK_MSG(conv_choice_get() == c, "SOMA_CONV_ALGO=%s not in force", env);
}

int main(void)
{
    printf("kernels: %s\n", cpu_has_avx512() ? "avx512" : "generic");
    check_geometry(geom(2, 8, 9, 9, 16, 1, 0, 1));    /* odd size, partial tiles */
    check_geometry(geom(3, 5, 7, 11, 6, 0, 1, 1));    /* no padding, ReLU, 3 samples */
    check_geometry(geom(2, 4, 6, 6, 5, 2, 0, 1));     /* padding 2 */
    check_geometry(geom(1, 3, 4, 4, 3, 1, 0, 1));     /* one tile */
    check_geometry(geom(2, 3, 3, 5, 2, 3, 1, 1));     /* padding 3: dx falls back */
    check_geometry(geom(5, 6, 10, 10, 7, 1, 0, 1));   /* 5 samples: chunk tails */
    check_geometry(geom(2, 32, 13, 13, 48, 1, 1, 2)); /* AlexNet-like, two groups */
    check_geometry(geom(2, 64, 8, 8, 64, 1, 1, 1));   /* 64 channels, sums of 64 */
    check_geometry(geom(3, 16, 5, 17, 20, 1, 0, 4));  /* four groups, a wide row */
    check_geometry(geom(2, 256, 6, 6, 24, 1, 0, 1));  /* long sums over channels */
    check_choices();
    printf("worst |err| / bound: forward %.3f, dx %.3f, dw %.3f\n", worst_fwd.bound_ratio,
           worst_dx.bound_ratio, worst_dw.bound_ratio);
    printf("worst |err| / sum |w||x| (direct's own is about C*9*u): forward %.2e, dx %.2e, "
           "dw %.2e\n",
           worst_fwd.direct_ratio, worst_dx.direct_ratio, worst_dw.direct_ratio);
    return check_finish("conv_winograd");
}

/*
 * bench/kernels/conv_bench: validate-and-time harness for the convolution algorithms
 * (src/ops/cpu/conv_algos.h), one layer shape at a time: every usable
 * algorithm for each pass, checked against the GEMM path, timed in CPU
 * seconds of this thread (robust when other jobs share the machine), in
 * useful GFLOP/s (2 * multiply-adds of the convolution, not of the work a
 * kernel wastes on padding).
 *   conv_bench [LAYER...]   LAYER: lenet1 lenet2 bn1 bn2 bn3 bn4 vgg1..vgg6 alex1..alex5
 *                           alex4g alex5g (AlexNet's two towers), default all
 *   CONV_BENCH_BATCH=N      the batch (default: each shape's)
 * "auto" is conv_plan_auto's choice, "by shape" conv_plan_fixed's (the
 * choice without Winograd); bench/winograd.sh tabulates Winograd against it.
 * Build: see bench/kernels/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/cpu/conv_algos.h"
#include "soma.h"

typedef struct shape {
    const char *name;
    int n, c, h, w, k, size, stride, pad, groups;
} shape;

static const shape shapes[] = {
    {"lenet1", 64, 1, 28, 28, 6, 5, 1, 2, 1},    {"lenet2", 64, 6, 14, 14, 16, 5, 1, 0, 1},
    {"bn1", 64, 1, 28, 28, 32, 3, 1, 1, 1},      {"bn2", 64, 32, 28, 28, 32, 3, 1, 1, 1},
    {"bn3", 64, 32, 14, 14, 64, 3, 1, 1, 1},     {"bn4", 64, 64, 14, 14, 64, 3, 1, 1, 1},
    {"alex1", 8, 3, 224, 224, 96, 11, 4, 2, 1},  {"alex2", 8, 96, 27, 27, 256, 5, 1, 2, 1},
    {"alex3", 8, 256, 13, 13, 384, 3, 1, 1, 1},  {"alex4", 8, 384, 13, 13, 384, 3, 1, 1, 1},
    {"alex5", 8, 384, 13, 13, 256, 3, 1, 1, 1},
    /* vgg-small (28x28) at batch 64; AlexNet's grouped layers as alexnet.cfg has them */
    {"vgg1", 64, 1, 28, 28, 32, 3, 1, 1, 1},     {"vgg2", 64, 32, 28, 28, 32, 3, 1, 1, 1},
    {"vgg3", 64, 32, 14, 14, 64, 3, 1, 1, 1},    {"vgg4", 64, 64, 14, 14, 64, 3, 1, 1, 1},
    {"vgg5", 64, 64, 7, 7, 128, 3, 1, 1, 1},     {"vgg6", 64, 128, 7, 7, 128, 3, 1, 1, 1},
    {"alex4g", 8, 384, 13, 13, 384, 3, 1, 1, 2}, {"alex5g", 8, 384, 13, 13, 256, 3, 1, 1, 2},
};

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc(sizeof *p * n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]) / (1.0 + fabs(b[i]));
        worst = d > worst ? d : worst;
    }
    return worst;
}

static const char *names[] = {"gemm", "chanvec", "rowvec", "winograd", "batchlane"};

static void run(const shape *s)
{
    const char *batch = getenv("CONV_BENCH_BATCH");
    conv_geom g = {batch ? atoi(batch) : s->n, s->c, s->h, s->w, s->k, s->size, s->size,
                   s->stride, s->pad, (s->h + 2 * s->pad - s->size) / s->stride + 1,
                   (s->w + 2 * s->pad - s->size) / s->stride + 1, 0, s->groups ? s->groups : 1};
    if (g.n < 1)
        g.n = 1;
    int cg = g.c / g.groups;
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.k * g.oh * g.ow;
    size_t nw = (size_t)g.k * cg * g.kh * g.kw;
    double flop = 2.0 * ny * cg * g.kh * g.kw;
    float *x = filled(nx, 1), *w = filled(nw, 2), *b = filled(g.k, 3), *dy = filled(ny, 4);
    float *y = malloc(sizeof *y * ny), *yref = malloc(sizeof *y * ny);
    float *dx = malloc(sizeof *dx * nx), *dxref = malloc(sizeof *dx * nx);
    float *dw = calloc(nw, sizeof *dw), *dwref = calloc(nw, sizeof *dw);
    float *db = calloc(g.k, sizeof *db);
    conv_plan auto_plan = conv_plan_auto(&g), fixed = conv_plan_fixed(&g);
    printf("%-6s n%d %dx%dx%d -> %d@%dx%d k%d s%d p%d g%d  auto: %s/%s/%s  by shape: %s/%s/%s\n",
           s->name, g.n, g.c, g.h, g.w, g.k, g.oh, g.ow, g.kh, g.stride, g.pad, g.groups,
           names[auto_plan.forward], names[auto_plan.dx], names[auto_plan.dw],
           names[fixed.forward], names[fixed.dx], names[fixed.dw]);
    int reps = flop < 2e9 ? (int)(2e9 / flop) + 1 : 2;
    static const int order[3] = {CONV_FORWARD, CONV_DW, CONV_DX};
    for (int oi = 0; oi < 3; oi++)
        for (int a = CONV_GEMM, pass = order[oi]; a < CONV_ALGOS; a++) {
            if (!conv_algo_usable(&g, (conv_pass)pass, (conv_algo)a))
                continue;
            conv_plan p = {CONV_GEMM, CONV_GEMM, auto_plan.dw};
            (&p.forward)[pass] = (conv_algo)a;
            /* dx is timed as what it is, the forward kernel on dy (stride 1 only) */
            int dx_alone = g.stride == 1 && g.groups == 1; /* else timed with dw */
            conv_geom gt = dx_alone ? conv_dx_geometry(&g) : g;
            conv_plan pt = {(conv_algo)a, CONV_GEMM, CONV_GEMM};
            size_t wsn = conv_plan_workspace(&g, &p, 1), wst = conv_plan_workspace(&gt, &pt, 1);
            float *ws = malloc(sizeof *ws * (wsn > wst ? wsn : wst));
            double best = 1e30;
            for (int r = 0; r < reps + (pass == CONV_DX); r++) {
                memset(dw, 0, sizeof *dw * nw);
                double t0 = cpu_now();
                if (pass == CONV_FORWARD)
                    conv_forward_planned(&g, &p, 1, x, w, b, y, ws);
                else if (pass == CONV_DX && r > 0 && dx_alone)
                    conv_forward_planned(&gt, &pt, 1, dy, w, NULL, dx, ws);
                else if (pass == CONV_DX) /* the first run checks dx */
                    conv_backward_planned(&g, &p, 1, x, w, NULL, dy, dx, dw, db, ws);
                else
                    conv_backward_planned(&g, &p, 1, x, w, NULL, dy, NULL, dw, db, ws);
                double t = cpu_now() - t0;
                if (pass != CONV_DX || r > 0)
                    best = t < best ? t : best;
            }
            double err = 0.0;
            if (pass == CONV_FORWARD) {
                if (a == CONV_GEMM)
                    memcpy(yref, y, sizeof *y * ny);
                err = max_rel(y, yref, ny);
            } else if (pass == CONV_DX) {
                if (a == CONV_GEMM)
                    memcpy(dxref, dx, sizeof *dx * nx);
                err = max_rel(dx, dxref, nx);
            } else {
                if (a == CONV_GEMM)
                    memcpy(dwref, dw, sizeof *dw * nw);
                err = max_rel(dw, dwref, nw);
            }
            /* strided: dx has no kernel of its own, timed with the dw it comes with */
            printf("  %-7s %-8s %8.3f ms  %6.1f GFLOP/s  err %.1e%s\n",
                   pass == 0 ? "forward" : pass == 2 ? "dw" : dx_alone ? "dx" : "dx+dw",
                   names[a], best * 1e3,
                   flop / best * 1e-9, err,
                   (int)(&auto_plan.forward)[pass] == a ? "  <- auto" : "");
            free(ws);
        }
    free(x), free(w), free(b), free(dy), free(y), free(yref), free(dx), free(dxref);
    free(dw), free(dwref), free(db);
}

int main(int argc, char **argv)
{
    soma_select_blas_kernels(); /* OpenBLAS may take this CPU for an old one */
    soma_set_threads(1);
    int n = (int)(sizeof shapes / sizeof shapes[0]);
    for (int i = 0; i < n; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], shapes[i].name) == 0;
        if (want)
            run(&shapes[i]);
    }
    return 0;
}

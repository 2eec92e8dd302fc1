/*
 * bench/kernels/linear_bench: a linear layer's forward pass, one thread, on
 * LeNet-5's three layers at batches 8 to 256: OpenBLAS's x W^T into outputs
 * preset to the bias (a copy of linear_cpu.c's forward_plain, which the
 * library keeps outside batches 16..64 and below 32 units) against the
 * library's cpu_linear_forward (inside them, W x^T transposed back:
 * linear_transpose.h). Both are checked against a double-precision sum
 * first; then each is timed, best of REPEATS, in thread CPU microseconds
 * per call, with the weights hot in cache.
 *   linear_bench [REPEATS]    (default 200; a few seconds in all)
 * Build: see bench/kernels/README.md.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops/cpu/cpu.h"
#include "soma.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* linear_cpu.c's forward_plain (static there), without the ReLU */
static void plain_forward(const float *x, const float *w, const float *b, float *y, int n,
                          int in, int out)
{
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++)
            y[(size_t)r * out + o] = b[o];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 1.0f,
                y, out);
}

/* 1 when every output is within 1e-4 (relative) of the double-precision sum */
static int check(const float *x, const float *w, const float *b, const float *y, int n, int in,
                 int out)
{
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++)
                s += (double)x[(size_t)r * in + i] * w[(size_t)o * in + i];
            if (fabs(y[(size_t)r * out + o] - s) > 1e-4 * (1.0 + fabs(s)))
                return 0;
        }
    return 1;
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 200;
    if (repeats < 1) {
        fprintf(stderr, "usage: linear_bench [REPEATS]\n");
        return 2;
    }
    soma_set_threads(1);
    static const int layers[][2] = {{400, 120}, {120, 84}, {84, 10}}; /* in, out */
    static const int batches[] = {8, 16, 32, 64, 128, 256};
    int failed = 0;
    printf("%-14s %6s %14s %14s %8s\n", "layer", "batch", "x W^T us", "library us", "speedup");
    for (int l = 0; l < 3; l++)
        for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
            int in = layers[l][0], out = layers[l][1], n = batches[k];
            float *x = malloc(sizeof(float) * n * in), *w = malloc(sizeof(float) * out * in);
            float *b = malloc(sizeof(float) * out), *y = malloc(sizeof(float) * n * out);
            for (int i = 0; i < n * in; i++)
                x[i] = (float)((i * 37 % 101) - 50) / 50.0f;
            for (int i = 0; i < out * in; i++)
                w[i] = (float)((i * 53 % 97) - 48) / 100.0f;
            for (int i = 0; i < out; i++)
                b[i] = (float)(i % 7) / 10.0f;
            double best[2] = {INFINITY, INFINITY};
            for (int kind = 0; kind < 2; kind++) {
                for (int rep = 0; rep < repeats; rep++) {
                    double t0 = now();
                    if (kind == 0)
                        plain_forward(x, w, b, y, n, in, out);
                    else
                        cpu_linear_forward(x, w, b, y, n, in, out, 0);
                    double t = now() - t0;
                    best[kind] = t < best[kind] ? t : best[kind];
                }
                if (!check(x, w, b, y, n, in, out)) {
                    fprintf(stderr, "%dx%d batch %d: %s differs from the double sum\n", in, out,
                            n, kind ? "the library" : "x W^T");
                    failed = 1;
                }
            }
            char name[32];
            snprintf(name, sizeof name, "%d -> %d", in, out);
            printf("%-14s %6d %14.2f %14.2f %7.2fx\n", name, n, best[0] * 1e6, best[1] * 1e6,
                   best[0] / best[1]);
            free(x), free(w), free(b), free(y);
        }
    return failed;
}

/*
 * The practical compute peak of this machine for the benchmark: OpenBLAS
 * sgemm, C = A.B with square N x N float matrices (default N = 2048), on the
 * number of threads asked for. Prints one JSON line:
 *   {"n": 2048, "threads": 1, "core": "SkylakeX", "gflops": 104.2, ...}
 * where gflops is the median of the timed repetitions (2 N^3 FLOP each).
 *
 * Debian's OpenBLAS 0.3.21 misdetects recent CPUs as "Prescott" (SSE3
 * kernels); bench/run.sh sets OPENBLAS_CORETYPE when the CPU has AVX-512, and
 * `core` reports the kernels that were really used.
 *
 * usage: sgemm_peak [threads] [n] [repetitions]
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);
void openblas_set_num_threads(int threads);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int n = argc > 2 ? atoi(argv[2]) : 2048;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (threads < 1 || n < 16 || n > 16384 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: sgemm_peak [threads>=1] [n 16..16384] [repetitions 1..1000]\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    size_t count = (size_t)n * (size_t)n;
    float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float));
    float *c = malloc(count * sizeof(float));
    double *seconds = malloc((size_t)reps * sizeof(double));
    if (!a || !b || !c || !seconds) {
        fprintf(stderr, "sgemm_peak: out of memory for n = %d\n", n);
        return 1;
    }
    for (size_t i = 0; i < count; i++) { /* small values: no overflow, no denormals */
        a[i] = (float)((i * 7u) % 13u) / 13.0f - 0.5f;
        b[i] = (float)((i * 5u) % 11u) / 11.0f - 0.5f;
        c[i] = 0.0f;
    }
    /* one untimed call: thread start-up, page faults, kernel warm-up */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        seconds[r] = now() - t0;
    }
    qsort(seconds, (size_t)reps, sizeof *seconds, compare_doubles);
    double median = reps % 2 ? seconds[reps / 2] : 0.5 * (seconds[reps / 2 - 1] + seconds[reps / 2]);
    double flop = 2.0 * (double)n * (double)n * (double)n;
    printf("{\"n\": %d, \"threads\": %d, \"core\": \"%s\", \"repetitions\": %d, "
           "\"gflops\": %.2f, \"best_gflops\": %.2f, \"check\": %.4f}\n",
           n, threads, openblas_get_corename(), reps, flop / median / 1e9,
           flop / seconds[0] / 1e9, (double)c[count / 2 + 1]);
    free(a), free(b), free(c), free(seconds);
    return 0;
}

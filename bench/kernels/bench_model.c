/*
 * bench/kernels/bench_model: images/s of training and inference for a model and thread
 * count, through the public API (median of soma_benchmark over `repeats`).
 *   bench_model MODEL THREADS [TRAIN_BATCH INFER_BATCH REPEATS STEPS]
 * Build: see bench/kernels/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "soma.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Median wall-clock images/s over `repeats` runs; *per_cpu: images per CPU
 * second of the process over all runs (robust on a shared machine when
 * single-threaded). */
static double median_ips(soma_model *m, int batch, int training, int repeats, int steps,
                         double *per_cpu)
{
    double r[64];
    if (repeats > 64)
        repeats = 64;
    double t0 = cpu_seconds();
    for (int i = 0; i < repeats; i++)
        if (soma_benchmark(m, batch, training, 3, steps, &r[i]) != SOMA_OK) {
            fprintf(stderr, "%s\n", soma_last_error());
            exit(1);
        }
    *per_cpu = (double)repeats * (steps + 3) * batch / (cpu_seconds() - t0);
    qsort(r, repeats, sizeof *r, cmp);
    return r[repeats / 2];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL THREADS [TRAIN_BATCH INFER_BATCH REPEATS STEPS]\n",
                argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]);
    int tb = argc > 3 ? atoi(argv[3]) : 64, ib = argc > 4 ? atoi(argv[4]) : 256;
    int repeats = argc > 5 ? atoi(argv[5]) : 5, steps = argc > 6 ? atoi(argv[6]) : 40;
    soma_select_blas_kernels(); /* as the CLI does: OpenBLAS may take this CPU for an old one */
    soma_set_threads(threads);
    soma_model *m;
    if (soma_model_open(argv[1], &m) != SOMA_OK || soma_model_init(m, SOMA_INIT_HE, 1) != SOMA_OK) {
        fprintf(stderr, "%s\n", soma_last_error());
        return 1;
    }
    double train_cpu = 0.0, infer_cpu = 0.0;
    double train = tb > 0 ? median_ips(m, tb, 1, repeats, steps, &train_cpu) : 0.0;
    double infer = ib > 0 ? median_ips(m, ib, 0, repeats, steps, &infer_cpu) : 0.0;
    printf("%s threads=%d train(b%d)=%.0f img/s [%.0f per cpu-s] infer(b%d)=%.0f img/s "
           "[%.0f per cpu-s]\n",
           argv[1], threads, tb, train, train_cpu, ib, infer, infer_cpu);
    soma_model_free(m);
    return 0;
}

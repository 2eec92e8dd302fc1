/* Fully connected layer on the CPU: BLAS on row blocks, one block per thread. */
#include <cblas.h>
#include <omp.h>

#include "ops/cpu/cpu.h"
#include "ops/cpu/partition.h"

/* Below this many multiply-adds a single thread is faster than waking others. */
#define LINEAR_PARALLEL_MIN 32768

static int threads_for(long long work)
{
    return work < LINEAR_PARALLEL_MIN ? 1 : cpu_threads();
}

void cpu_linear_forward(const float *x, const float *w, const float *b, float *y, int n, int in,
                        int out)
{
    int threads = threads_for((long long)n * in * out);
#pragma omp parallel num_threads(threads)
    {
        int r0, r1;
        partition(n, omp_get_num_threads(), omp_get_thread_num(), &r0, &r1);
        if (r1 > r0) {
            for (int r = r0; r < r1; r++)
                for (int o = 0; o < out; o++)
                    y[(size_t)r * out + o] = b ? b[o] : 0.0f;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0f,
                        x + (size_t)r0 * in, in, w, in, 1.0f, y + (size_t)r0 * out, out);
        }
    }
}

void cpu_linear_backward(const float *x, const float *w, const float *dy, float *dx, float *dw,
                         float *db, int n, int in, int out)
{
    int threads = threads_for((long long)n * in * out);
#pragma omp parallel num_threads(threads)
    {
        int parts = omp_get_num_threads(), part = omp_get_thread_num();
        int r0, r1, o0, o1;
        partition(n, parts, part, &r0, &r1);
        partition(out, parts, part, &o0, &o1);
        /* dx = dy . w, split over samples */
        if (dx && r1 > r0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, in, out, 1.0f,
                        dy + (size_t)r0 * out, out, w, in, 0.0f, dx + (size_t)r0 * in, in);
        /* dw += dy^T . x, split over output units: no reduction across threads */
        if (o1 > o0) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, in, n, 1.0f, dy + o0,
                        out, x, in, 1.0f, dw + (size_t)o0 * in, in);
            if (db)
                for (int o = o0; o < o1; o++) {
                    float s = 0.0f;
                    for (int r = 0; r < n; r++)
                        s += dy[(size_t)r * out + o];
                    db[o] += s;
                }
        }
    }
}

/* The CPU backend: host memory, OpenMP threads, OpenBLAS single-threaded per call. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/run_threads.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/sum_squares.h"
#include "soma.h"

/* soma_set_threads's count for runs that do not name their own; 0: all cores.
 * Atomic: any thread may set or read it. */
static _Atomic int default_threads;

void soma_set_threads(int threads)
{
    cpu_blas_setup();
    default_threads = threads > 0 ? threads : 0;
}

int soma_threads(void)
{
    cpu_blas_setup();
    int threads = run_threads_get(); /* a run's own count comes first */
    if (threads <= 0)
        threads = default_threads;
    return threads > 0 ? threads : omp_get_num_procs();
}

/* How many parts a kernel splits its work into: the run's thread count.
 * Inside a lane (a training step split into slices of samples, one per
 * thread) or any parallel region each kernel runs on the thread that calls
 * it. Every soma parallel region names its team size from here
 * (num_threads): soma never changes the caller's OpenMP settings
 * (omp_set_num_threads). */
int cpu_parts(void) { return cpu_in_lane() || omp_in_parallel() ? 1 : soma_threads(); }

/* Of those parts' threads, the ones that run now: a busy machine can leave
 * fewer (run_live_get), which then take several parts each. */
int cpu_threads(void)
{
    int parts = cpu_parts(), live = run_live_get();
    return live > 0 && live < parts ? live : parts;
}

const char *soma_build_info(void)
{
    static _Thread_local char info[128]; /* per thread: callers may ask at once */
    int threads = soma_threads();
#ifdef SOMA_HAVE_MPI
    const char *mpi = ", MPI"; /* distributed training (docs/distributed.md) */
#else
    const char *mpi = "";
#endif
    snprintf(info, sizeof info, "cpu: OpenBLAS %s kernels, OpenMP, %d thread%s%s",
             cpu_blas_kernels(), threads, threads == 1 ? "" : "s", mpi);
    return info;
}

static void *cpu_alloc(size_t bytes)
{
    /* 64-byte alignment for AVX-512 loads; zero-filled as the interface promises. */
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes)
        return NULL;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p)
        memset(p, 0, rounded ? rounded : 64);
    return p;
}

static void cpu_free(void *p) { free(p); }

static soma_status cpu_memcpy(void *dst, const void *src, size_t bytes)
{
    if (bytes)
        memcpy(dst, src, bytes);
    return SOMA_OK;
}

static soma_status cpu_fill(float *x, size_t n, float value)
{
    if (value == 0.0f && !signbit(value)) { /* zeroing the gradients: the common case */
        if (n)
            memset(x, 0, n * sizeof *x);
        return SOMA_OK;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = value;
    return SOMA_OK;
}

static soma_status cpu_copy(float *dst, const float *src, size_t n)
{
    if (n && dst != src)
        memcpy(dst, src, n * sizeof *dst);
    return SOMA_OK;
}

static soma_status cpu_add(float *dst, const float *src, size_t n)
{
    /* a lane's part of the gradients (the common call): no team to start */
    if (n < 65536 || cpu_threads() == 1) {
        for (size_t i = 0; i < n; i++)
            dst[i] += src[i];
        return SOMA_OK;
    }
#pragma omp parallel for simd schedule(static) num_threads(cpu_threads())
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
    return SOMA_OK;
}

static soma_status cpu_count_nonfinite(const float *x, size_t n, size_t *count)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !isfinite(x[i]);
    *count = bad;
    return SOMA_OK;
}

/* The same for any thread count: the order is fixed by n alone (sum_squares.h). */
static soma_status cpu_sum_squares(const float *x, size_t n, double *sum)
{
    *sum = sum_squares_f32(x, n);
    return SOMA_OK;
}

const soma_backend soma_cpu_backend = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_memcpy,
    .download = cpu_memcpy,
    .fill = cpu_fill,
    .copy = cpu_copy,
    .add = cpu_add,
    .count_nonfinite = cpu_count_nonfinite,
    .sum_squares = cpu_sum_squares,
    .lanes = cpu_lanes,
    .run_lanes = cpu_run_lanes,
    .linear_forward = cpu_linear_forward,
    .linear_backward = cpu_linear_backward,
    .conv2d_workspace = cpu_conv2d_workspace,
    .conv2d_forward = cpu_conv2d_forward,
    .conv2d_backward = cpu_conv2d_backward,
    .conv_pool_supported = cpu_conv_pool_supported,
    .conv_pool_workspace = cpu_conv_pool_workspace,
    .conv_pool_forward = cpu_conv_pool_forward,
    .conv_pool_backward = cpu_conv_pool_backward,
    .maxpool_forward = cpu_maxpool_forward,
    .maxpool_backward = cpu_maxpool_backward,
    .avgpool_forward = cpu_avgpool_forward,
    .avgpool_backward = cpu_avgpool_backward,
    .lrn_forward = cpu_lrn_forward,
    .lrn_backward = cpu_lrn_backward,
    .activation_forward = cpu_activation_forward,
    .activation_backward = cpu_activation_backward,
    .dropout_forward = cpu_dropout_forward,
    .dropout_backward = cpu_dropout_backward,
    .batchnorm_forward_train = cpu_batchnorm_forward_train,
    .batchnorm_forward_eval = cpu_batchnorm_forward_eval,
    .batchnorm_backward = cpu_batchnorm_backward,
    .batchnorm_backward_eval = cpu_batchnorm_backward_eval,
    .softmax_xent_forward = cpu_softmax_xent_forward,
    .softmax_xent_backward = cpu_softmax_xent_backward,
    .optimizer_step = cpu_optimizer_step,
};

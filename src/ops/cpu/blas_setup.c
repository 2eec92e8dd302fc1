/*
 * What soma asks of OpenBLAS, which has only process-wide settings.
 *
 * Threads: soma splits work over its own OpenMP threads and calls BLAS from
 * inside them, so each BLAS call must stay on its caller's thread. A
 * threaded OpenBLAS is therefore told once, at soma's first use, to run one
 * thread per call (openblas_set_num_threads(1)): the one process-wide setting
 * soma changes, because OpenBLAS offers no per-call count.
 *
 * Kernels (soma_select_blas_kernels, only when asked: it swaps OpenBLAS's
 * kernel table and sets OPENBLAS_CORETYPE for a moment, the one way
 * OpenBLAS takes a choice). Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not
 * know recent CPUs such as Sapphire Rapids and falls back to its SSE3
 * "Prescott" kernels, slower than its AVX-512 ones (docs/design.md says how
 * to compare them). When that happened and the user has not chosen a core with
 * OPENBLAS_CORETYPE, re-run OpenBLAS's own dynamic selection with the
 * newest kernel family the CPU supports. The entry points are weak so that a
 * BLAS without dynamic dispatch links and simply keeps its kernels.
 */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/cpu/cpu.h"
#include "soma.h"

char *openblas_get_corename(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));

static void select_kernels(void)
{
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit)
        return;
    if (getenv("OPENBLAS_CORETYPE") || strcmp(openblas_get_corename(), "Prescott") != 0)
        return;
    const char *core = NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        core = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        core = "Haswell";
    if (!core)
        return;
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE"); /* don't leak the choice into child processes */
}

void soma_select_blas_kernels(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, select_kernels);
}

static void single_threaded_blas(void)
{
    /* 0: OpenBLAS built sequential, nothing to set */
    if (openblas_get_parallel() != 0 && openblas_get_num_threads() != 1)
        openblas_set_num_threads(1);
}

void cpu_blas_setup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, single_threaded_blas);
}

const char *cpu_blas_kernels(void)
{
    return openblas_get_corename ? openblas_get_corename() : "unknown";
}

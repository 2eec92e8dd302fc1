/* Which vector extensions the kernels may use, decided once at run time. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/cpu/simd.h"

static int avx512 = 0;

static void detect(void)
{
    /* SOMA_CPU=generic keeps to the portable kernels: to test them, or to compare */
    const char *want = getenv("SOMA_CPU");
    if (want && strcmp(want, "generic") == 0)
        return;
#if SIMD_AVX512
    __builtin_cpu_init();
    /* libgcc and compiler-rt also check that the OS saves the ZMM state */
    avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
}

int cpu_has_avx512(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, detect);
    return avx512;
}

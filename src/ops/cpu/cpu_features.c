/* Which vector extensions the kernels may use, decided once at run time. */
#include "ops/cpu/simd.h"

int cpu_has_avx512(void)
{
#if SIMD_AVX512
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        /* libgcc and compiler-rt also check that the OS saves the ZMM state */
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    }
    return known;
#else
    return 0;
#endif
}

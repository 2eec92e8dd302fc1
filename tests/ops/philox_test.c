/* The many-block Philox fill (src/ops/cpu/philox_avx512.c) against rng_block,
 * word for word: both paths (AVX-512 where the CPU has it, and one block at a
 * time), counts that are and are not multiples of 16, first blocks at any
 * offset, and counters whose low word carries into the high one inside a
 * run of 16. */
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"
#include "ops/cpu/philox.h"
#include "ops/cpu/simd.h"
#include "support/check.h"

static void check_run(uint64_t seed, uint64_t a, uint64_t b, uint64_t first, size_t count)
{
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint64_t stream = rng_stream_id(RNG_DROPOUT, a, b);
    uint32_t *fast = malloc(sizeof *fast * 4 * (count + 1));
    uint32_t *slow = malloc(sizeof *slow * 4 * (count + 1));
    fast[4 * count] = slow[4 * count] = 0xdeadbeefu; /* nothing written past the end */
    philox_words(key, stream, first, count, fast);
    philox_words_portable(key, stream, first, count, slow);
    size_t bad_fast = 0, bad_slow = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t want[4];
        rng_block(seed, RNG_DROPOUT, a, b, first + i, want);
        for (int w = 0; w < 4; w++) {
            bad_fast += fast[4 * i + w] != want[w];
            bad_slow += slow[4 * i + w] != want[w];
        }
    }
    CHECK_MSG(bad_fast == 0, "first %llu count %zu: %zu words differ from rng_block",
              (unsigned long long)first, count, bad_fast);
    CHECK_MSG(bad_slow == 0, "portable, first %llu count %zu: %zu words differ",
              (unsigned long long)first, count, bad_slow);
    CHECK(fast[4 * count] == 0xdeadbeefu && slow[4 * count] == 0xdeadbeefu);
    free(fast), free(slow);
}

int main(void)
{
    printf("philox: AVX-512 path %s\n", cpu_has_avx512() ? "on" : "off (portable only)");
    static const size_t counts[] = {0, 1, 15, 16, 17, 33, 64, 100};
    static const uint64_t firsts[] = {0, 1, 7, 16, 1000003, 0xfffffff8ull, 0xfffffffaull,
                                      0x1fffffff5ull, 0xfffffffffffffff0ull};
    for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            check_run(42 + f, 1234567 + c, 3, firsts[f], counts[c]);
    check_run(0xfedcba9876543210ull, 0, 0, 5, 48); /* a key with both words set */
    return check_finish("philox");
}

/* The counter-based generator (src/core/rng.c): Philox4x32-10 against the
 * published known answers, the mapping of (seed, purpose, a, b, counter) onto
 * Philox's key and counter, and the draws built on it. */
#include <stdint.h>
#include <string.h>

#include "core/rng.h"
#include "support/check.h"

/* Philox4x32-10 known answers from the kat_vectors file of the Random123
 * distribution (D. E. Shaw Research; also in Random123-Boost's
 * libs/random/test/test_philox.cpp): counter[4], key[2] -> output[4]. */
static const struct {
    uint32_t counter[4], key[2], out[4];
} philox_kat[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

static void check_philox_known_answers(void)
{
    for (size_t i = 0; i < sizeof philox_kat / sizeof philox_kat[0]; i++) {
        uint32_t out[4];
        rng_philox4x32_10(philox_kat[i].key, philox_kat[i].counter, out);
        for (int w = 0; w < 4; w++)
            CHECK_MSG(out[w] == philox_kat[i].out[w], "vector %zu word %d: %08x, expected %08x",
                      i, w, (unsigned)out[w], (unsigned)philox_kat[i].out[w]);
    }
}

/* splitmix64's output for state x (Vigna's splitmix64.c: the state advances
 * by the golden gamma, then is mixed), written here from the published
 * algorithm to check rng.c's stream ids independently. */
static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* rng_block is Philox of key = the seed's halves and counter = (block index,
 * stream id), the id hashing purpose, a and b in turn: the mapping every
 * saved run's numbers depend on. */
static void check_stream_mapping(void)
{
    /* the first output of splitmix64 seeded with 0, as published */
    CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);
    const uint64_t seed = 0x0123456789abcdefull, a = 7, b = 3, counter = 0x100000002ull;
    const uint32_t purpose = RNG_DROPOUT;
    uint64_t id = splitmix64(splitmix64(splitmix64(purpose) ^ a) ^ b);
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)id,
                       (uint32_t)(id >> 32)};
    uint32_t want[4], got[4];
    rng_philox4x32_10(key, ctr, want);
    rng_block(seed, purpose, a, b, counter, got);
    CHECK(memcmp(want, got, sizeof want) == 0);

    /* the stateful stream draws the same words, block after block */
    rng r;
    rng_init(&r, seed, purpose, a, b);
    for (uint64_t blk = 0; blk < 3; blk++) {
        rng_block(seed, purpose, a, b, blk, want);
        for (int w = 0; w < 4; w++)
            CHECK_MSG(rng_u32(&r) == want[w], "block %llu word %d", (unsigned long long)blk, w);
    }
    /* another purpose, a or b is another stream */
    rng_block(seed, RNG_SHUFFLE, a, b, 0, got);
    rng_block(seed, purpose, a, b, 0, want);
    CHECK(memcmp(want, got, sizeof want) != 0);
    rng_block(seed, purpose, a, b + 1, 0, got);
    CHECK(memcmp(want, got, sizeof want) != 0);
}

static void check_draws(void)
{
    rng r;
    rng_init(&r, 42, RNG_TEST, 0, 0);
    int counts[5] = {0};
    double sum = 0.0, sumsq = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        float u = rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
        uint32_t k = rng_below(&r, 5);
        CHECK(k < 5);
        if (k < 5)
            counts[k]++;
        double z = rng_normal(&r);
        sum += z;
        sumsq += z * z;
    }
    for (int k = 0; k < 5; k++) /* 4000 expected, sd about 57 */
        CHECK_MSG(counts[k] > 3700 && counts[k] < 4300, "value %d drawn %d times", k, counts[k]);
    CHECK_CLOSE(sum / n, 0.0, 0.05);
    CHECK_CLOSE(sumsq / n, 1.0, 0.05);

    int idx[10], seen[10] = {0};
    for (int i = 0; i < 10; i++)
        idx[i] = i;
    rng_shuffle(&r, idx, 10);
    int moved = 0;
    for (int i = 0; i < 10; i++) {
        if (idx[i] >= 0 && idx[i] < 10)
            seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 10; i++)
        CHECK(seen[i] == 1); /* a permutation */
    CHECK(moved > 0);
}

int main(void)
{
    check_philox_known_answers();
    check_stream_mapping();
    check_draws();
    return check_finish("rng");
}

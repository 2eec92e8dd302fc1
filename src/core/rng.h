/*
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * A stream is keyed by (seed, purpose, a, b), e.g. (seed, RNG_DROPOUT,
 * global_step, layer): the numbers of any step can be regenerated from those
 * four values alone, so resuming a run needs no generator state beyond the
 * step counter, and results do not depend on the order layers or threads
 * draw in.
 */
#ifndef SOMA_CORE_RNG_H
#define SOMA_CORE_RNG_H

#include <stdint.h>

enum rng_purpose {
    RNG_INIT = 1,    /* parameter initialisation: a = layer */
    RNG_SHUFFLE,     /* epoch order: a = epoch */
    RNG_SPLIT,       /* validation split */
    RNG_DROPOUT,     /* masks: a = global step, b = layer */
    RNG_TEST,        /* tests and tools */
    RNG_AUGMENT,     /* data augmentation: a = epoch, b = sample index in the dataset */
    RNG_AUGMENT_CROP /* the random-resized crop of a decoded image: a = epoch, b = sample index */
};

typedef struct rng {
    uint32_t key[2];
    uint64_t counter_hi; /* identifies the stream */
    uint64_t counter;    /* block index within the stream */
    uint32_t block[4];
    int used;            /* words of `block` consumed */
} rng;

void rng_init(rng *r, uint64_t seed, uint32_t purpose, uint64_t a, uint64_t b);
uint32_t rng_u32(rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float rng_uniform(rng *r);
/* Standard normal (Box-Muller). */
float rng_normal(rng *r);
/* Uniform integer in [0, n), unbiased. */
uint32_t rng_below(rng *r, uint32_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void rng_shuffle(rng *r, int *idx, int n);
/* The 4 words of block `counter` of a stream, without state (for parallel fills). */
void rng_block(uint64_t seed, uint32_t purpose, uint64_t a, uint64_t b, uint64_t counter,
               uint32_t out[4]);
/* The 64-bit stream id of (purpose, a, b): block `counter` of stream
 * (seed, purpose, a, b) is Philox of key {seed low, seed high} and counter
 * {counter low, counter high, id low, id high}. For fills that draw many
 * blocks of one stream (ops/cpu/philox.h). */
uint64_t rng_stream_id(uint32_t purpose, uint64_t a, uint64_t b);
/* The Philox4x32-10 function itself, as Random123 defines it (words in the
 * order of its counter and key arrays). A stream's block `counter` is this
 * function of key {seed low, seed high} and counter {counter low, counter
 * high, stream id low, stream id high}, the stream id a splitmix64 hash of
 * (purpose, a, b). Exposed for the known-answer test (tests/core/rng_test.c). */
void rng_philox4x32_10(const uint32_t key[2], const uint32_t counter[4], uint32_t out[4]);

#endif

/* Many blocks of one counter-based stream (core/rng.h) at once, for the
 * fills that draw a number per element (dropout masks). */
#ifndef SOMA_OPS_CPU_PHILOX_H
#define SOMA_OPS_CPU_PHILOX_H

#include <stddef.h>
#include <stdint.h>

/* The words of blocks first .. first + count - 1 of the stream with Philox
 * key `key` and id `stream` (rng_stream_id), 4 per block in block order:
 * what rng_block gives, bit for bit. 16 blocks at a time with AVX-512 where
 * the CPU has it. */
void philox_words(const uint32_t key[2], uint64_t stream, uint64_t first, size_t count,
                  uint32_t *out);
/* The same one block at a time (the path without AVX-512; for tests). */
void philox_words_portable(const uint32_t key[2], uint64_t stream, uint64_t first,
                           size_t count, uint32_t *out);

#endif

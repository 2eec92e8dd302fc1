/* Elementwise activations and inverted dropout on the CPU. */
#include <math.h>

#include "core/rng.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/philox.h"

/* Elementwise loops smaller than this stay on one thread. */
#define ELEMENTWISE_PARALLEL_MIN 65536

static int threads_for(size_t n) { return n < ELEMENTWISE_PARALLEL_MIN ? 1 : cpu_threads(); }

soma_status cpu_activation_forward(activation_kind kind, const float *x, float *y, size_t n)
{
    switch (kind) {
    case ACT_RELU:
#pragma omp parallel for simd schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ACT_TANH:
#pragma omp parallel for schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case ACT_SIGMOID:
#pragma omp parallel for schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    }
    return SOMA_OK;
}

/* The derivative from the output alone, so the forward may run in place. */
soma_status cpu_activation_backward(activation_kind kind, const float *y, const float *dy,
                                    float *dx, size_t n)
{
    switch (kind) {
    case ACT_RELU:
#pragma omp parallel for simd schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++) {
            float d = dy[i]; /* read always: see relu_mask (relu_fused.h) */
            dx[i] = y[i] > 0.0f ? d : 0.0f;
        }
        break;
    case ACT_TANH:
#pragma omp parallel for simd schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case ACT_SIGMOID:
#pragma omp parallel for simd schedule(static) num_threads(threads_for(n))
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    }
    return SOMA_OK;
}

/* Element i of the batch (x[0] being element `offset`) draws its mask from
 * word i % 4 of block i / 4 of the stream (seed, DROPOUT, step, layer): the
 * same mask for any thread count, any split of the batch into slices, and
 * on resume. Chunks of 64 elements (16 blocks, one AVX-512 Philox call)
 * aligned to the batch's elements, not to x. */
soma_status cpu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                uint64_t seed, uint64_t step, int layer, size_t offset)
{
    enum { CHUNK = 64 };
    float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    /* keep when the 32-bit draw >= p * 2^32 (exact in a double), that is
     * >= its ceiling; none is when that ceiling is 2^32 */
    double threshold = ceil((double)p * 4294967296.0);
    int keep_none = threshold > 4294967295.0;
    uint32_t at_least = keep_none ? 0u : (uint32_t)threshold;
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint64_t stream = rng_stream_id(RNG_DROPOUT, step, (uint64_t)layer);
    size_t first = offset / CHUNK, end = (offset + n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) num_threads(threads_for(n))
    for (size_t chunk = first; chunk < end; chunk++) {
        uint32_t words[CHUNK];
        size_t e0 = chunk * CHUNK, e1 = e0 + CHUNK;
        philox_words(key, stream, e0 / 4, CHUNK / 4, words);
        size_t lo = e0 < offset ? offset : e0, hi = e1 < offset + n ? e1 : offset + n;
        for (size_t g = lo; g < hi; g++) { /* element g of the batch */
            float m = !keep_none && words[g - e0] >= at_least ? keep_scale : 0.0f;
            mask[g - offset] = m;
            y[g - offset] = x[g - offset] * m;
        }
    }
    return SOMA_OK;
}

soma_status cpu_dropout_backward(const float *dy, const float *mask, float *dx, size_t n)
{
#pragma omp parallel for simd schedule(static) num_threads(threads_for(n))
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * mask[i];
    return SOMA_OK;
}

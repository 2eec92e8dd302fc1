/* Elementwise activations and inverted dropout on the CPU. */
#include <math.h>

#include "core/rng.h"
#include "ops/cpu/cpu.h"

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
 * block i/4 of the stream (seed, DROPOUT, step, layer): the same mask for any
 * thread count, any split of the batch into slices, and on resume. */
soma_status cpu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                uint64_t seed, uint64_t step, int layer, size_t offset)
{
    float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    /* keep when the 32-bit draw >= p * 2^32 */
    double threshold = (double)p * 4294967296.0;
    size_t first = offset / 4, end = (offset + n + 3) / 4;
#pragma omp parallel for schedule(static) num_threads(threads_for(n))
    for (size_t blk = first; blk < end; blk++) {
        uint32_t r[4];
        rng_block(seed, RNG_DROPOUT, step, (uint64_t)layer, blk, r);
        for (size_t k = 0; k < 4; k++) {
            size_t g = blk * 4 + k; /* element of the batch */
            if (g < offset || g >= offset + n)
                continue;
            size_t i = g - offset;
            mask[i] = (double)r[k] >= threshold ? keep_scale : 0.0f;
            y[i] = x[i] * mask[i];
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

/*
 * The fused ReLU of conv2d, linear and batchnorm (backend.h): the same
 * expressions as the ReLU layer (activation_cpu.c), so fused and unfused
 * networks compute the same bits.
 */
#ifndef SOMA_OPS_CPU_RELU_FUSED_H
#define SOMA_OPS_CPU_RELU_FUSED_H

#include <stddef.h>

static inline void relu_in_place(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* dz = the gradient before the ReLU, from y (its output) and dy. dy is read
 * unconditionally: read only where y > 0, gcc vectorises it as a masked load
 * whose other lanes it carries through the stack, a store-to-load round trip
 * every 16 values. */
static inline void relu_mask(const float *y, const float *dy, float *dz, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = dy[i];
        dz[i] = y[i] > 0.0f ? d : 0.0f;
    }
}

#endif

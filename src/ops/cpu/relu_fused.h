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

/* dz = the gradient before the ReLU, from y (its output) and dy */
static inline void relu_mask(const float *y, const float *dy, float *dz, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

#endif

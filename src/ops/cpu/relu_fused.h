/*
 * The fused ReLU of conv2d, linear and batchnorm (backend.h): the same
 * results as the ReLU layer (activation_cpu.c), bit for bit, so fused and
 * unfused networks compute the same bits: y > 0 ? y : +0 (NaN and -0 give
 * +0), and the gradient dy where y > 0, else +0. AVX-512 where the CPU has
 * it (the library's baseline build would run these loops 4 floats wide).
 */
#ifndef SOMA_OPS_CPU_RELU_FUSED_H
#define SOMA_OPS_CPU_RELU_FUSED_H

#include <stddef.h>

void relu_in_place(float *y, size_t n);
/* dz = the gradient before the ReLU, from y (its output) and dy */
void relu_mask(const float *y, const float *dy, float *dz, size_t n);

#endif

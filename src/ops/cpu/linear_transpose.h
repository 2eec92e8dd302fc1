/*
 * A linear layer's outputs from the product the faster GEMM gives: for
 * batches of 16 to 64 samples and a few dozen units or more, OpenBLAS
 * computes W x^T (units by samples) faster than x W^T, by more than the
 * transpose back (with the bias and the fused ReLU) costs: 1.02-1.2x for
 * the call, more in a network, where the weights come from further away
 * (bench/kernels/README.md).
 */
#ifndef SOMA_OPS_CPU_LINEAR_TRANSPOSE_H
#define SOMA_OPS_CPU_LINEAR_TRANSPOSE_H

#include <stddef.h>

/* y[r * ldy + i] = yt[i * n + r] + b[i] (b NULL: no bias) for r < n, i < units,
 * then the fused ReLU's y > 0 ? y : +0 when relu. */
void linear_store_transposed(const float *yt, int units, int n, const float *b, int relu,
                             float *y, size_t ldy);

#endif

/*
 * The sum of squares of a float array in double (the gradient norm a
 * training step reports): 32 partial sums, element i in partial i % 32,
 * folded in a fixed tree. The order is fixed by n alone, so every thread
 * count and both paths (AVX-512 and portable) give the same bits; each
 * square of a float is exact in double, so a fused multiply-add rounds as
 * a multiply and an add do.
 */
#ifndef SOMA_OPS_CPU_SUM_SQUARES_H
#define SOMA_OPS_CPU_SUM_SQUARES_H

#include <stddef.h>

#define SUM_SQUARES_PARTS 32

double sum_squares_f32(const float *x, size_t n);

#endif

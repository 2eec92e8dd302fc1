/* Specialised pooling kernels; each returns 0 when it does not apply. */
#ifndef SOMA_OPS_CPU_POOL_FAST_H
#define SOMA_OPS_CPU_POOL_FAST_H

#include "ops/backend.h"

/* 2x2 windows, stride 2, no padding, AVX-512: same values and argmax as the generic loop. */
int maxpool_2x2_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                        int threads);

#endif

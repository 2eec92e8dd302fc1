/* Max-pooling: the generic loops, and specialised kernels that return 0
 * when they do not apply (cpu_maxpool_* try those first). */
#ifndef SOMA_OPS_CPU_POOL_FAST_H
#define SOMA_OPS_CPU_POOL_FAST_H

#include "ops/backend.h"

/* One pooling call's tensors, for the functions of one (sample, channel)
 * plane that team.h's cpu_team_for runs. */
typedef struct pool_job {
    const pool_geom *g;
    const float *x, *dy;
    float *y, *dx;
    int32_t *argmax_out;   /* forward */
    const int32_t *argmax; /* backward */
} pool_job;

/* Stride 2, any window and padding, AVX-512: same values and argmax as the generic loop. */
int maxpool_s2_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                        int threads);
/* dx from dy and the argmax of a forward pass of the same geometry; writes every element once. */
int maxpool_2x2_backward(const pool_geom *g, const float *dy, const int32_t *argmax, float *dx,
                         int threads);

/* 2x2, stride 2, no padding, small planes (pool_small_avx512.c). Forward:
 * planes of at most 8 output columns whose blocks of 16 / ow output rows
 * (2 or more) read at most 64 inputs; as maxpool_s2_forward. Input
 * gradient: at most 32 outputs a plane; as maxpool_2x2_backward. */
int maxpool_2x2_small_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                              int threads);
int maxpool_2x2_small(const pool_geom *g);
int maxpool_2x2_small_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                               float *dx, int threads);

/* Any window, stride and padding: the first maximum in row-major window
 * order wins, a NaN wins over numbers (and a later NaN over an earlier). */
void maxpool_forward_generic(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                             int threads);
void maxpool_backward_generic(const pool_geom *g, const float *dy, const int32_t *argmax,
                              float *dx, int threads);

#endif

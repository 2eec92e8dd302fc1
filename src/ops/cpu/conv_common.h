/* Small helpers shared by the convolution algorithms. */
#ifndef SOMA_OPS_CPU_CONV_COMMON_H
#define SOMA_OPS_CPU_CONV_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "ops/backend.h"

static inline int round16(int n) { return (n + 15) / 16 * 16; }
static inline size_t round16z(size_t n) { return (n + 15) / 16 * 16; }
/* the first 64-byte boundary at or after p (workspaces keep 16 floats of room) */
static inline float *aligned64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Filters (and bias, may be NULL) packed in blocks of `block` output
 * channels: [out/block][in][k][k][block], then the bias padded to whole
 * blocks; channels past the last filter are zero. transposed: the filters of
 * the input-gradient convolution (in and out swapped, taps reversed). */
void pack_filters(const conv_geom *g, const float *w, const float *b, int transposed, int block,
                  float *packed);

/* Copies `planes` planes of h x w into planes of hp x wp, each placed at row
 * `top`, column `left`, with zeros around. */
void pad_planes(const float *x, int planes, int h, int w, int top, int left, int hp, int wp,
                float *out);

#endif

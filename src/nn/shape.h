#ifndef SOMA_NN_SHAPE_H
#define SOMA_NN_SHAPE_H

#include <stddef.h>

/* The shape of one sample (the batch dimension is carried separately). */
typedef struct shape3 {
    int c, h, w;
} shape3;

static inline size_t shape_size(shape3 s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

#endif

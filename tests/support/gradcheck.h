/*
 * The shared finite-difference gradient checker: builds one layer from a
 * model-file line, runs forward and backward on host memory with the loss
 * L = sum(y * r) for a fixed random r (so dL/dy = r), and compares every
 * input and parameter gradient with central differences of L.
 */
#ifndef SOMA_TESTS_GRADCHECK_H
#define SOMA_TESTS_GRADCHECK_H

#include "nn/layer.h"

typedef struct layer_harness {
    layer l;
    int batch;
    float *x, *y, *dy, *dx;
    float *params, *grads, *buffers, *cache, *workspace;
    size_t nparams, nbuffers;
    run_ctx ctx;
} layer_harness;

/* Builds `line` (e.g. "conv2d filters=3 size=3 pad=1") on input `in`. */
int harness_make(layer_harness *h, const char *line, shape3 in, int batch, int training);
void harness_free(layer_harness *h);
void harness_forward(layer_harness *h);
/* zeroes grads, then forward + backward with dy = r */
void harness_backward(layer_harness *h);

/* Checks dx and every parameter gradient; returns the number of mismatches
 * and prints the first few. `eps` is the finite-difference step. */
int gradcheck(layer_harness *h, float eps, double rtol, double atol);

#endif

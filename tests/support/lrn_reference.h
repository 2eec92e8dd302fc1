/*
 * Local response normalisation from the definition, in double, for any
 * backend's tests: y = x / (k + alpha * sum of x^2 over the window)^beta, the
 * window being the channels c - size/2 .. c + (size-1)/2 (backend.h), and
 * dx for output weights dy by the chain rule summed term by term.
 */
#ifndef SOMA_TESTS_LRN_REFERENCE_H
#define SOMA_TESTS_LRN_REFERENCE_H

#include "ops/backend.h"

/* y and dx: n * c * spatial each; dy and dx may be NULL (forward only) */
void lrn_reference(const lrn_geom *g, const float *x, const float *dy, double *y, double *dx);

#endif

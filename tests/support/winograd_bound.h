/*
 * The magnitudes that bound Winograd F(4x4, 3x3)'s rounding error (Lavin &
 * Gray's matrices, src/ops/cpu/conv_winograd.c): every stage of the
 * algorithm taken with absolute values of its matrices and its data, in
 * double. An output computed in float then errs by at most
 * gamma(stages + terms summed) times its magnitude (the derivation is in
 * tests/ops/conv_winograd_test.c).
 */
#ifndef SOMA_TESTS_WINOGRAD_BOUND_H
#define SOMA_TESTS_WINOGRAD_BOUND_H

#include "ops/backend.h"

/* roundings on one path through the transforms, besides the sums */
#define WINO_STAGES_FORWARD 36
#define WINO_STAGES_DW 40

/* n u / (1 - n u), u = 2^-24 */
double wino_gamma(int n);

/* The filters of a whole (grouped) layer as [out][in][3][3] doubles, zero
 * across groups; transposed: the input gradient's (flipped, in and out
 * swapped, [c][k][3][3]). */
double *wino_dense_filters(const conv_geom *g, const float *w, int transposed);

/* mag[n][outs][oh][ow] of the convolution of x (n x ins x h x w, zero
 * padding pad) with filters f[outs][ins][3][3], before any bias */
void wino_forward_mag(int n, int ins, int h, int w, int outs, int oh, int ow, int pad,
                      const double *f, const float *x, double *mag);

/* mag[k][c / groups][3][3] of g's filter gradient from x and dz (dy already
 * masked by a fused ReLU) */
void wino_dw_mag(const conv_geom *g, const float *x, const float *dz, double *mag);

#endif

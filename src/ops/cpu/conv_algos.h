/*
 * The convolution algorithms of the CPU backend and how one is chosen.
 *
 *  CONV_GEMM     im2col + BLAS sgemm, one sample at a time: portable, any
 *                geometry; the fallback and the path for 1x1 and odd shapes.
 *  CONV_CHANVEC  direct AVX-512 convolution that holds 16 output channels in
 *                a vector and broadcasts input pixels (oneDNN's nChw16c idea,
 *                done on NCHW tensors with 16x16 transposes at the edges).
 *                For 16 or more output channels, any stride.
 *  CONV_ROWVEC   direct AVX-512 convolution that holds 16 output pixels of a
 *                row in a vector and broadcasts weights. For few output
 *                channels (LeNet's first layer), stride 1.
 *
 * The input gradient of a stride-1 convolution is itself a convolution (of
 * dy, padded by k-1-pad, with the filters flipped and in/out swapped), so
 * the same two direct kernels compute it. The filter gradient has kernels of
 * its own in each family.
 *
 * A grouped convolution runs its groups one after another, each as an
 * ungrouped convolution of its channel blocks (conv_group_geometry) read and
 * written in place with the whole tensors' sample strides: every algorithm
 * serves it, planned and sized for one group, the workspace reused.
 *
 * Every algorithm splits the batch statically over threads and reduces
 * per-thread filter gradients in thread order: for a given thread count the
 * results are the same bit for bit on every run.
 */
#ifndef SOMA_OPS_CPU_CONV_ALGOS_H
#define SOMA_OPS_CPU_CONV_ALGOS_H

#include <stddef.h>

#include "ops/backend.h"

typedef enum conv_algo { CONV_GEMM = 0, CONV_CHANVEC, CONV_ROWVEC } conv_algo;
typedef enum conv_pass { CONV_FORWARD = 0, CONV_DX, CONV_DW } conv_pass;

typedef struct conv_plan {
    conv_algo forward, dx, dw;
} conv_plan;

/* Whether `algo` can run `pass` of `g` on this CPU. CONV_GEMM always can. */
int conv_algo_usable(const conv_geom *g, conv_pass pass, conv_algo algo);
/* The fastest usable algorithm for each pass (by shape, measured choices). */
conv_plan conv_plan_auto(const conv_geom *g);
/* Workspace (floats) the plan needs with `threads` threads, for both directions. */
size_t conv_plan_workspace(const conv_geom *g, const conv_plan *p, int threads);
/* The backend's operations with an explicit plan; `threads` as sized. */
void conv_forward_planned(const conv_geom *g, const conv_plan *p, int threads, const float *x,
                          const float *w, const float *b, float *y, float *workspace);
void conv_backward_planned(const conv_geom *g, const conv_plan *p, int threads, const float *x,
                           const float *w, const float *y, const float *dy, float *dx, float *dw,
                           float *db, float *workspace);

/* The geometry of one group of `g`: c / groups inputs, k / groups filters,
 * groups 1 (g itself when it has one group). */
conv_geom conv_group_geometry(const conv_geom *g);

/* The geometry of the input gradient as a convolution of dy (stride 1 only):
 * dy's K channels in, C channels out, pad k-1-pad. */
conv_geom conv_dx_geometry(const conv_geom *g);

/* ---- the algorithms, per sample (conv_gemm.c, conv_chanvec.c, conv_rowvec.c) ----
 * X_shared: floats shared by all threads (packed filters), prepared once per
 * call by X_pack; X_scratch: floats each thread needs. A "forward" kernel
 * serves the input gradient too, on the geometry of conv_dx_geometry with
 * filters packed by X_pack(..., transposed = 1). */

size_t gemm_scratch(const conv_geom *g, conv_pass pass);
void gemm_forward_image(const conv_geom *g, const float *x, const float *w, const float *b,
                        float *y, float *scratch);
void gemm_dx_image(const conv_geom *g, const float *w, const float *dy, float *dx,
                   float *scratch);
/* dw_part[K][C*k*k] and db_part[K] accumulate */
void gemm_dw_image(const conv_geom *g, const float *x, const float *dy, float *dw_part,
                   float *db_part, float *scratch);

size_t chanvec_shared(const conv_geom *g);
size_t chanvec_scratch(const conv_geom *g, conv_pass pass);
/* filters (and bias, may be NULL) packed as [out/16][in][k][k][16] */
void chanvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                  float *packed);
void chanvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                           const float *x, float *y, float *scratch);
/* part: [C*k*k][Kpad] then [Kpad] for the bias, Kpad = K rounded up to 16 */
size_t chanvec_dw_part(const conv_geom *g);
void chanvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                      float *scratch);
/* dw[f] += the sum of the parts of filters [f0, f1), in part order */
void chanvec_dw_reduce(const conv_geom *g, const float *part0, size_t part_stride, int nparts,
                       int f0, int f1, float *dw, float *db);
int chanvec_dw_supported(const conv_geom *g); /* kernel widths with a tile */

size_t rowvec_shared(const conv_geom *g);
size_t rowvec_scratch(const conv_geom *g, conv_pass pass);
void rowvec_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                 float *packed);
void rowvec_forward_image(const conv_geom *g, const float *packed, int has_bias,
                          const float *x, float *y, float *scratch);
/* part: [K][C*k*k][16] then [K][16] for the bias, lane sums taken at the end */
size_t rowvec_dw_part(const conv_geom *g);
void rowvec_dw_image(const conv_geom *g, const float *x, const float *dy, float *part,
                     float *scratch);
void rowvec_dw_reduce(const conv_geom *g, const float *part0, size_t part_stride, int nparts,
                      int f0, int f1, float *dw, float *db);
int rowvec_dw_supported(const conv_geom *g);

#endif

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
 *  CONV_WINOGRAD Winograd F(4x4, 3x3): 3x3 stride-1 filters with a quarter
 *                of the multiplications, at the cost of transforms and a
 *                rounding error a few times the direct one's; on every CPU
 *                (AVX-512 kernels of its own, else OpenBLAS sgemms). Passes
 *                go to it by a rule per shape, or as measured (conv_select.c).
 *  CONV_BATCHLANE direct AVX-512 convolution that holds 16 SAMPLES of the
 *                batch in a vector (blocks of 16 transposed to
 *                [channel][y][x][16], a masked last block) and broadcasts
 *                weights, skipping every tap outside the input. For the
 *                input gradient only, stride 1: it pays where few input
 *                channels leave the other kernels' lanes empty (LeNet-5's
 *                second conv, conv_plan_fixed's rule).
 *
 * The input gradient of a stride-1 convolution is itself a convolution (of
 * dy, padded by k-1-pad, with the filters flipped and in/out swapped), so
 * the same direct kernels (and Winograd's) compute it. The filter gradient
 * has kernels of its own in each family.
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

typedef enum conv_algo {
    CONV_GEMM = 0, CONV_CHANVEC, CONV_ROWVEC, CONV_WINOGRAD, CONV_BATCHLANE
} conv_algo;
#define CONV_ALGOS 5
typedef enum conv_pass { CONV_FORWARD = 0, CONV_DX, CONV_DW } conv_pass;

typedef struct conv_plan {
    conv_algo forward, dx, dw;
} conv_plan;

/* Whether `algo` can run `pass` of `g` on this CPU. CONV_GEMM always can. */
int conv_algo_usable(const conv_geom *g, conv_pass pass, conv_algo algo);
/* The fastest usable algorithm for each pass (conv_select.c: by shape, by a
 * rule drawn from measurements, or measured in this process). */
conv_plan conv_plan_auto(const conv_geom *g);
/* The choice by shape among GEMM and the direct kernels (no Winograd). */
conv_plan conv_plan_fixed(const conv_geom *g);
/* How conv_plan_auto chooses: SOMA_CONV_ALGO=auto (the default: the rule),
 * measure, gemm, direct (the choice by shape, no Winograd) or winograd,
 * read once per process. */
typedef enum conv_choice {
    CHOICE_RULE = 0, CHOICE_MEASURE, CHOICE_GEMM, CHOICE_DIRECT, CHOICE_WINOGRAD
} conv_choice;
int conv_choice_parse(const char *text, conv_choice *out); /* 0: not a choice's name */
conv_choice conv_choice_get(void);
/* The plan `c` gives g, with `parts` parts (conv_plan_auto: the run's). */
conv_plan conv_plan_choose(const conv_geom *g, conv_choice c, int parts);
/* Whether the default rule gives `pass` of g to Winograd. */
int winograd_pays(const conv_geom *g, conv_pass pass);
/* Whether conv_plan_fixed gives g's input gradient to CONV_BATCHLANE. */
int batchlane_pays(const conv_geom *g);
/* conv_plan_fixed's plan with Winograd where it measured faster on this
 * machine, once per shape and part count in a process (conv_measure.c). */
conv_plan conv_plan_measured(const conv_geom *g, const conv_plan *fixed, int parts);
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

/* CONV_WINOGRAD (conv_winograd.c) works on chunks of `count` consecutive
 * samples, x_stride and y_stride floats apart; `chunk` samples at most, as
 * winograd_chunk(g, pass) says (it depends on the geometry only). */
int winograd_supported(const conv_geom *g); /* 3x3, stride 1 */
int winograd_chunk(const conv_geom *g, conv_pass pass);
/* the filters transformed (and packed for the products); each of `parts`
 * threads packs its part, all of them before any chunk runs */
size_t winograd_shared(const conv_geom *g);
void winograd_pack(const conv_geom *g, const float *w, int transposed, float *packed, int part,
                   int parts);
size_t winograd_scratch(const conv_geom *g, conv_pass pass, int chunk);
/* y (and the fused ReLU when g->relu); mask: x is read as 0 where mask <= 0
 * (the input gradient's dy under a fused ReLU), may be NULL */
void winograd_forward_chunk(const conv_geom *g, const float *packed, const float *b,
                            const float *x, size_t x_stride, const float *mask, float *y,
                            size_t y_stride, int count, float *scratch);
/* part: [36][K][C] in the transformed domain, then [K] for the bias; y: the
 * fused ReLU's output (dy is masked where y <= 0), NULL without one */
size_t winograd_dw_part(const conv_geom *g);
void winograd_dw_chunk(const conv_geom *g, const float *x, size_t x_stride, const float *y,
                       const float *dy, size_t y_stride, int count, float *part, float *scratch);
void winograd_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                        int f0, int f1, float *dw, float *db);

/* CONV_BATCHLANE (conv_batchlane.c): a stride-1 forward kernel on blocks of
 * up to 16 samples (`count`), x_stride and y_stride floats apart; for the
 * input gradient it runs on conv_dx_geometry's geometry with the filters
 * packed by batchlane_pack(..., transposed = 1). */
int batchlane_supported(const conv_geom *g); /* stride 1, square filters */
size_t batchlane_shared(const conv_geom *g);
size_t batchlane_scratch(const conv_geom *g);
void batchlane_pack(const conv_geom *g, const float *w, const float *b, int transposed,
                    float *packed);
/* mask: x is read as +0 where mask (x_stride apart too) is not > 0 (dy
 * under a fused ReLU), may be NULL */
void batchlane_forward_block(const conv_geom *g, const float *packed, int has_bias,
                             const float *x, size_t x_stride, const float *mask, float *y,
                             size_t y_stride, int count, float *scratch);

#endif

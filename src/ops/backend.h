/*
 * The device interface. Layers never touch tensor memory themselves: they
 * call these operations through a backend table, so a CUDA backend is one
 * more table (src/ops/cuda/), not an edit of every layer.
 *
 * Conventions: pointers are device memory of the backend; NCHW layout;
 * parameter gradients (dw, db, dgamma, dbeta) ACCUMULATE, input gradients
 * (dx) are OVERWRITTEN; a NULL dx means "not needed". Every operation
 * returns a status (SOMA_OK, or the failure with soma_error's message: a
 * device's launch or memory error); a backend may run operations
 * asynchronously in order, and report a failure at a later call.
 *
 * Threads, streams and how a kernel splits its work are the backend's own
 * business. What the network sees is "lanes": a training step whose layers
 * treat samples independently may run as several passes over slices of the
 * batch side by side (lanes(batch) of them), each with its own workspace
 * and gradient buffer (train/step.c). The CPU backend runs one lane per
 * thread, each kernel on one core; a GPU backend answers 1 and parallelises
 * inside each kernel.
 *
 * Fused ReLU: convolution, linear and batch-norm can apply the ReLU that
 * follows them (the `relu` fields and flags). Their output y is then
 * max(0, .) as the ReLU layer computes it (x > 0 ? x : 0), their backward
 * takes dy with respect to that output and y itself, and masks dy where
 * y <= 0 first: the results are bit for bit those of the unfused pair.
 */
#ifndef SOMA_OPS_BACKEND_H
#define SOMA_OPS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

/* A status that is dropped is a failure that goes unseen: the compiler
 * refuses it (-Werror). */
#if defined(__GNUC__)
#define BACKEND_STATUS __attribute__((warn_unused_result))
#else
#define BACKEND_STATUS
#endif

/* Grouped convolution (AlexNet's two towers, PyTorch's groups): the c input
 * channels and k filters split into `groups` consecutive blocks, block g of
 * the filters seeing only block g of the inputs; weights are
 * [k][c / groups][kh][kw] as in PyTorch. 0 counts as 1, so that geometries
 * written before groups existed keep their meaning. */
typedef struct conv_geom {
    int n, c, h, w;     /* input */
    int k, kh, kw;      /* filters and their size */
    int stride, pad;
    int oh, ow;         /* output */
    int relu;           /* a fused ReLU on the output (see above) */
    int groups;         /* c and k divisible by it */
} conv_geom;

static inline int conv_groups(const conv_geom *g) { return g->groups > 1 ? g->groups : 1; }

typedef struct pool_geom {
    int n, c, h, w;
    int size, stride, pad;
    int oh, ow;
    /* maxpool: a ReLU before the pool, applied to each input (x > 0 ? x : +0,
     * as the ReLU layer). A window whose maximum is then not positive gets
     * argmax -1, so that backward gives all its inputs +0: the same values
     * and input gradients as the ReLU layer and the pool one after the other. */
    int relu;
} pool_geom;

/* Local response normalisation across channels (Krizhevsky et al. 2012), the
 * paper's formula: y = x / s^beta with s = k + alpha * (sum of x^2 over the
 * `size` channels around, size / 2 before and (size - 1) / 2 after, clipped
 * at the edges: PyTorch's window). alpha is not divided by size, as PyTorch,
 * Caffe and ONNX do: their alpha is size times this one. */
typedef struct lrn_geom {
    int n, c, spatial;
    int size;
    float alpha, beta, k;
} lrn_geom;

typedef enum activation_kind { ACT_RELU, ACT_TANH, ACT_SIGMOID } activation_kind;

/* BatchNorm's batch statistics over several processes' batches together
 * (synchronised BatchNorm): sum(arg, x, n) adds x[0..n) over all of them in
 * place. The kernels call it on the calling thread, between their passes;
 * what carries the numbers (MPI) is the caller's business. */
typedef struct bn_sync {
    soma_status (*sum)(void *arg, double *x, int n);
    void *arg;
} bn_sync;

typedef struct bn_geom {
    int n, c, spatial; /* statistics per channel over n * spatial values */
    float eps, momentum;
    int relu;          /* a fused ReLU on the output (see above) */
    /* training with sync set: statistics (forward) and gradient sums
     * (backward) over every process's samples, summed through sync with
     * scratch's 2c + 1 doubles; dgamma and dbeta still get this process's
     * own sums (the caller sums gradients across processes) */
    const bn_sync *sync;
    double *scratch;
} bn_geom;

/* The optimizer update, one fused pass over the flat parameter buffer. */
typedef struct optim_step_args {
    int kind;            /* soma_optimizer_kind */
    float lr, momentum, alpha, beta1, beta2, eps, weight_decay;
    long long t;         /* 1-based step count (Adam's bias correction) */
} optim_step_args;

typedef struct soma_backend {
    const char *name;

    /* memory: alloc is zero-filled, NULL on failure */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    soma_status (*upload)(void *dst, const void *host_src, size_t bytes) BACKEND_STATUS;
    soma_status (*download)(void *host_dst, const void *src, size_t bytes) BACKEND_STATUS;
    soma_status (*fill)(float *x, size_t n, float value) BACKEND_STATUS;
    soma_status (*copy)(float *dst, const float *src, size_t n) BACKEND_STATUS;
    /* dst[i] += src[i]: the lanes' gradients summed into the step's */
    soma_status (*add)(float *dst, const float *src, size_t n) BACKEND_STATUS;
    /* a query, answered on the host when it returns */
    soma_status (*count_nonfinite)(const float *x, size_t n, size_t *count) BACKEND_STATUS;
    /* the sum of x[i]^2 in double, answered on the host (a gradient's norm
     * squared); a fixed summation order for a given n, so that it is the same
     * number on every run */
    soma_status (*sum_squares)(const float *x, size_t n, double *sum) BACKEND_STATUS;

    /* Lanes (see above): how many a training step of `batch` samples runs as. */
    int (*lanes)(int batch);
    /* Runs task(arg, lane) for lane 0 .. lanes - 1 side by side; when all
     * are done, finish(arg, part, parts) for each part of a split of the
     * remaining work the backend chooses (finish may be NULL). Operations
     * called inside task and finish run as one lane, and workspace queries
     * made inside them size for that. Returns the first failure of any;
     * finish does not run after a failed task. */
    soma_status (*run_lanes)(int lanes, soma_status (*task)(void *arg, int lane),
                             soma_status (*finish)(void *arg, int part, int parts),
                             void *arg) BACKEND_STATUS;

    /* y[n][out] = x[n][in] . w[out][in]^T + b, then max(0, .) when relu */
    soma_status (*linear_forward)(const float *x, const float *w, const float *b, float *y, int n,
                                  int in, int out, int relu) BACKEND_STATUS;
    /* y: the output, given only for a fused ReLU, which then needs n * out
     * floats of workspace (NULL otherwise) */
    soma_status (*linear_backward)(const float *x, const float *w, const float *y,
                                   const float *dy, float *dx, float *dw, float *db, int n,
                                   int in, int out, float *workspace) BACKEND_STATUS;

    /* floats of workspace for a call made from where this query is (inside a
     * lane or not: see run_lanes) */
    size_t (*conv2d_workspace)(const conv_geom *g);
    soma_status (*conv2d_forward)(const conv_geom *g, const float *x, const float *w,
                                  const float *b, float *y, float *workspace) BACKEND_STATUS;
    /* y: the output, read only when g->relu */
    soma_status (*conv2d_backward)(const conv_geom *g, const float *x, const float *w,
                                   const float *y, const float *dy, float *dx, float *dw,
                                   float *db, float *workspace) BACKEND_STATUS;

    /* A convolution and the max-pool of its output in one pass (p: the
     * pool's geometry, its relu the ReLU between them), where the backend
     * has one for the pair: conv_pool_supported non-zero (NULL: never). The
     * convolution's output is never stored: y and argmax are the pool's, as
     * maxpool_forward gives them, the results those of the two operations
     * one after the other. backward takes dy with respect to the pool's
     * output and gives the filter and bias gradients, and the input
     * gradient dx unless it is NULL (a first layer); the workspace is sized
     * for a backward with dx or without (with_dx). */
    int (*conv_pool_supported)(const conv_geom *g, const pool_geom *p);
    size_t (*conv_pool_workspace)(const conv_geom *g, const pool_geom *p, int with_dx);
    soma_status (*conv_pool_forward)(const conv_geom *g, const pool_geom *p, const float *x,
                                     const float *w, const float *b, float *y, int32_t *argmax,
                                     float *workspace) BACKEND_STATUS;
    soma_status (*conv_pool_backward)(const conv_geom *g, const pool_geom *p, const float *x,
                                      const float *w, const float *dy, const int32_t *argmax,
                                      float *dx, float *dw, float *db,
                                      float *workspace) BACKEND_STATUS;

    /* argmax: one int32 per output, saved for backward */
    soma_status (*maxpool_forward)(const pool_geom *g, const float *x, float *y,
                                   int32_t *argmax) BACKEND_STATUS;
    soma_status (*maxpool_backward)(const pool_geom *g, const float *dy, const int32_t *argmax,
                                    float *dx) BACKEND_STATUS;
    /* average over the window's in-bounds elements (count_include_pad = 0) */
    soma_status (*avgpool_forward)(const pool_geom *g, const float *x, float *y) BACKEND_STATUS;
    soma_status (*avgpool_backward)(const pool_geom *g, const float *dy, float *dx) BACKEND_STATUS;

    /* scale: s of every element (n * c * spatial floats), saved for backward */
    soma_status (*lrn_forward)(const lrn_geom *g, const float *x, float *y,
                               float *scale) BACKEND_STATUS;
    soma_status (*lrn_backward)(const lrn_geom *g, const float *x, const float *y,
                                const float *scale, const float *dy, float *dx) BACKEND_STATUS;

    /* may run in place (x == y); backward needs only the output y */
    soma_status (*activation_forward)(activation_kind kind, const float *x, float *y,
                                      size_t n) BACKEND_STATUS;
    soma_status (*activation_backward)(activation_kind kind, const float *y, const float *dy,
                                       float *dx, size_t n) BACKEND_STATUS;

    /* inverted dropout: mask[i] = 1/(1-p) kept, 0 dropped; drawn from the
     * counter-based stream (seed, RNG_DROPOUT, step, layer) at element
     * offset + i of the batch (x being a slice of it from element offset) */
    soma_status (*dropout_forward)(const float *x, float *y, float *mask, size_t n, float p,
                                   uint64_t seed, uint64_t step, int layer,
                                   size_t offset) BACKEND_STATUS;
    soma_status (*dropout_backward)(const float *dy, const float *mask, float *dx,
                                    size_t n) BACKEND_STATUS;

    /* training: batch statistics; saves mean and 1/sqrt(var+eps) per channel
     * and updates the running statistics (running_var unbiased) */
    soma_status (*batchnorm_forward_train)(const bn_geom *g, const float *x, const float *gamma,
                                           const float *beta, float *y, float *save_mean,
                                           float *save_invstd, float *running_mean,
                                           float *running_var) BACKEND_STATUS;
    soma_status (*batchnorm_forward_eval)(const bn_geom *g, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, float *y) BACKEND_STATUS;
    /* With a fused ReLU the mask (y > 0) is rebuilt from x, gamma, beta and
     * the saved statistics, exactly as forward computed y: y is not read. */
    soma_status (*batchnorm_backward)(const bn_geom *g, const float *x, const float *gamma,
                                      const float *beta, const float *save_mean,
                                      const float *save_invstd, const float *dy, float *dx,
                                      float *dgamma, float *dbeta) BACKEND_STATUS;
    /* gradients of the evaluation-mode (running statistics) transform */
    soma_status (*batchnorm_backward_eval)(const bn_geom *g, const float *x, const float *gamma,
                                           const float *y, const float *running_mean,
                                           const float *running_var, const float *dy,
                                           float *dx, float *dgamma, float *dbeta) BACKEND_STATUS;

    /* Softmax of the logits into probs; the summed cross-entropy and the
     * number of correct argmax predictions into metrics[0] and metrics[1]
     * (device memory: they stay there until the caller downloads them). */
    soma_status (*softmax_xent_forward)(const float *logits, const int32_t *labels, int n,
                                        int classes, float *probs, double *metrics) BACKEND_STATUS;
    /* dlogits = (probs - onehot) * scale */
    soma_status (*softmax_xent_backward)(const float *probs, const int32_t *labels, int n,
                                         int classes, float scale, float *dlogits) BACKEND_STATUS;

    /* one optimizer step over n parameters; state1/state2 as the kind needs */
    soma_status (*optimizer_step)(const optim_step_args *a, float *params, const float *grads,
                                  float *state1, float *state2, size_t n) BACKEND_STATUS;
} soma_backend;

extern const soma_backend soma_cpu_backend;

/* The backends this build has (src/ops/backends.c), NULL-terminated, the
 * default first; and one by name (NULL: none such). */
const soma_backend *const *backend_list(void);
const soma_backend *backend_find(const char *name);

#endif

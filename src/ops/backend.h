/*
 * The device interface. Layers never touch tensor memory themselves: they
 * call these operations through a backend table, so a CUDA backend is one
 * more table (src/ops/cuda/), not an edit of every layer.
 *
 * Conventions: pointers are device memory of the backend; NCHW layout;
 * parameter gradients (dw, db, dgamma, dbeta) ACCUMULATE, input gradients
 * (dx) are OVERWRITTEN; a NULL dx means "not needed".
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

typedef struct conv_geom {
    int n, c, h, w;     /* input */
    int k, kh, kw;      /* filters and their size */
    int stride, pad;
    int oh, ow;         /* output */
    int relu;           /* a fused ReLU on the output (see above) */
} conv_geom;

typedef struct pool_geom {
    int n, c, h, w;
    int size, stride, pad;
    int oh, ow;
} pool_geom;

typedef enum activation_kind { ACT_RELU, ACT_TANH, ACT_SIGMOID } activation_kind;

typedef struct bn_geom {
    int n, c, spatial; /* statistics per channel over n * spatial values */
    float eps, momentum;
    int relu;          /* a fused ReLU on the output (see above) */
} bn_geom;

/* The optimizer update, one fused pass over the flat parameter buffer. */
typedef struct optim_step_args {
    int kind;            /* soma_optimizer_kind */
    float lr, momentum, alpha, beta1, beta2, eps, weight_decay;
    long long t;         /* 1-based step count (Adam's bias correction) */
} optim_step_args;

typedef struct soma_backend {
    const char *name;

    /* memory */
    void *(*alloc)(size_t bytes); /* zero-filled; NULL on failure */
    void (*free)(void *p);
    void (*upload)(void *dst, const void *host_src, size_t bytes);
    void (*download)(void *host_dst, const void *src, size_t bytes);
    void (*fill)(float *x, size_t n, float value);
    void (*copy)(float *dst, const float *src, size_t n);
    size_t (*count_nonfinite)(const float *x, size_t n);

    /* y[n][out] = x[n][in] . w[out][in]^T + b, then max(0, .) when relu */
    void (*linear_forward)(const float *x, const float *w, const float *b, float *y, int n,
                           int in, int out, int relu);
    /* y: the output, given only for a fused ReLU, which then needs n * out
     * floats of workspace (NULL otherwise) */
    void (*linear_backward)(const float *x, const float *w, const float *y, const float *dy,
                            float *dx, float *dw, float *db, int n, int in, int out,
                            float *workspace);

    /* floats of workspace for calls made with `threads` threads (the
     * kernels' split: soma_get_threads(), or 1 within a slice of a step) */
    size_t (*conv2d_workspace)(const conv_geom *g, int threads);
    void (*conv2d_forward)(const conv_geom *g, const float *x, const float *w, const float *b,
                           float *y, float *workspace);
    /* y: the output, read only when g->relu */
    void (*conv2d_backward)(const conv_geom *g, const float *x, const float *w, const float *y,
                            const float *dy, float *dx, float *dw, float *db,
                            float *workspace);

    /* argmax: one int32 per output, saved for backward */
    void (*maxpool_forward)(const pool_geom *g, const float *x, float *y, int32_t *argmax);
    void (*maxpool_backward)(const pool_geom *g, const float *dy, const int32_t *argmax,
                             float *dx);
    /* average over the window's in-bounds elements (count_include_pad = 0) */
    void (*avgpool_forward)(const pool_geom *g, const float *x, float *y);
    void (*avgpool_backward)(const pool_geom *g, const float *dy, float *dx);

    /* may run in place (x == y); backward needs only the output y */
    void (*activation_forward)(activation_kind kind, const float *x, float *y, size_t n);
    void (*activation_backward)(activation_kind kind, const float *y, const float *dy,
                                float *dx, size_t n);

    /* inverted dropout: mask[i] = 1/(1-p) kept, 0 dropped; drawn from the
     * counter-based stream (seed, RNG_DROPOUT, step, layer) at element
     * offset + i of the batch (x being a slice of it from element offset) */
    void (*dropout_forward)(const float *x, float *y, float *mask, size_t n, float p,
                            uint64_t seed, uint64_t step, int layer, size_t offset);
    void (*dropout_backward)(const float *dy, const float *mask, float *dx, size_t n);

    /* training: batch statistics; saves mean and 1/sqrt(var+eps) per channel
     * and updates the running statistics (running_var unbiased) */
    void (*batchnorm_forward_train)(const bn_geom *g, const float *x, const float *gamma,
                                    const float *beta, float *y, float *save_mean,
                                    float *save_invstd, float *running_mean,
                                    float *running_var);
    void (*batchnorm_forward_eval)(const bn_geom *g, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float *y);
    /* With a fused ReLU the mask (y > 0) is rebuilt from x, gamma, beta and
     * the saved statistics, exactly as forward computed y: y is not read. */
    void (*batchnorm_backward)(const bn_geom *g, const float *x, const float *gamma,
                               const float *beta, const float *save_mean,
                               const float *save_invstd, const float *dy, float *dx,
                               float *dgamma, float *dbeta);
    /* gradients of the evaluation-mode (running statistics) transform */
    void (*batchnorm_backward_eval)(const bn_geom *g, const float *x, const float *gamma,
                                    const float *y, const float *running_mean,
                                    const float *running_var, const float *dy, float *dx,
                                    float *dgamma, float *dbeta);

    /* mean cross-entropy of softmax(logits); writes probabilities, returns
     * the summed loss and the number of correct argmax predictions */
    void (*softmax_xent_forward)(const float *logits, const int32_t *labels, int n,
                                 int classes, float *probs, double *loss_sum, int *correct);
    /* dlogits = (probs - onehot) * scale */
    void (*softmax_xent_backward)(const float *probs, const int32_t *labels, int n,
                                  int classes, float scale, float *dlogits);

    /* one optimizer step over n parameters; state1/state2 as the kind needs */
    void (*optimizer_step)(const optim_step_args *a, float *params, const float *grads,
                           float *state1, float *state2, size_t n);
} soma_backend;

extern const soma_backend soma_cpu_backend;

#endif

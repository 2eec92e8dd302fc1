/*
 * A layer: a small struct with the fields every layer has, a pointer to its
 * class (a table of functions) and private fields of its own kind.
 *
 * Memory is planned by the network (src/nn/network.c): parameters live in
 * one flat buffer, gradients in another with the same layout, running
 * statistics in a third; the network points each layer's `param`, `grad`
 * and `buffer` slots into them, and hands each layer its own cache (saved
 * for backward, sized by cache_floats) and a shared workspace.
 */
#ifndef SOMA_NN_LAYER_H
#define SOMA_NN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/modelfile.h"
#include "nn/shape.h"
#include "ops/backend.h"

#define LAYER_MAX_TENSORS 4

typedef enum tensor_init {
    INIT_WEIGHT, /* by the model's scheme (He, Xavier, LeCun) from fan_in / fan_out */
    INIT_ZERO,
    INIT_ONE
} tensor_init;

/* A named tensor of a layer, e.g. "weight" [16, 6, 5, 5]. */
typedef struct tensor_spec {
    const char *name;
    int ndim;
    int dims[4];
    tensor_init init;
    int fan_in, fan_out;
    size_t offset; /* into the network's flat buffer, set by the network */
} tensor_spec;

/* One pass of the network over `batch` samples. A training step split into
 * lanes (network_slices) runs one pass per slice: samples first ..
 * first + batch - 1 of the step's batch, with the slice's own workspace,
 * gradient buffer and metrics. */
struct layer;

typedef struct run_ctx {
    const soma_backend *be;
    int batch;
    int training;
    uint64_t seed;
    long long step;  /* global step, keys dropout masks */
    float *workspace;
    int first;       /* the first sample of this pass within the step's batch */
    float *grads;    /* flat buffer the parameter gradients accumulate into */
    double *metrics; /* device: the pass's loss sum and correct count (backend.h) */
    /* a step over several processes (train/comm.h): this process's first
     * sample within the global batch (dropout masks are keyed by the sample's
     * place in it), and BatchNorm's statistics across them (NULL: local) */
    int sample_base;
    const bn_sync *bn_sync;
    /* called after each layer's backward (NULL: none): the gradients of
     * layers `index` .. last are final then (overlapped sums) */
    soma_status (*layer_done)(void *arg, int index);
    void *layer_done_arg;
    /* when set, network_backward shows each layer's output y and the loss
     * gradient dy with respect to it (device memory, this pass's samples)
     * before the layer's backward runs: soma_model_probe's statistics */
    soma_status (*observe)(void *user, const struct layer *l, const float *y, const float *dy);
    void *observe_user;
} run_ctx;

typedef struct layer layer;

typedef struct layer_class {
    const char *name;
    const char *const *keys; /* accepted model-file keys, NULL-terminated */
    /* reads the spec's values, sets out shape, params and buffers */
    soma_status (*configure)(layer *l, const layer_spec *spec);
    /* floats saved between forward and backward, and scratch, for a batch */
    size_t (*cache_floats)(const layer *l, int batch);
    /* for a pass over `batch` samples, asked where the pass would run (inside
     * a lane or not: backend.h) */
    size_t (*workspace_floats)(const layer *l, const soma_backend *be, int batch);
    /* the backend's failure, if any */
    soma_status (*forward)(layer *l, const run_ctx *ctx, const float *x, float *y);
    /* dx may be NULL (first layer) */
    soma_status (*backward)(layer *l, const run_ctx *ctx, const float *x, const float *y,
                            const float *dy, float *dx);
    double (*flops)(const layer *l); /* forward multiply-adds x2, per sample */
    /* short description of the configuration, e.g. "6@5x5 pad 2" */
    void (*describe)(const layer *l, char *buf, size_t size);
    /* can apply the ReLU that follows it (backend.h, "fused ReLU") */
    int fuses_relu;
    /* is a ReLU, which the layer before may apply instead (fuses_relu) */
    int is_relu;
    /* can apply the ReLU before it to its inputs (maxpool: the maximum of the
     * ReLU's outputs, its gradient masked at the pooled size) */
    int takes_relu;
    /* can compute the max-pool after it in the same pass (backend.h's
     * conv_pool_*) */
    int fuses_pool;
    /* is a max-pool, which the layer before may compute (fuses_pool) */
    int is_maxpool;
    /* keeps running statistics in buffers (batchnorm): a checkpoint counts
     * the batches they have seen, as PyTorch's num_batches_tracked does */
    int has_running_stats;
    /* training couples the samples of a batch (batch statistics): the step
     * cannot be split into independent slices of samples */
    int mixes_samples;
    /* its flops are the multiply-adds of a convolution or a matrix product:
     * those soma_model_flops counts; its backward costs two forwards more */
    int multiply_adds;
} layer_class;

struct layer {
    const layer_class *cls;
    int index; /* position in the Sequential: names tensors "index.weight" */
    int line;  /* in the model file */
    shape3 in, out;
    /* set by network_build: this layer applies the ReLU after it
     * (fused_relu) or before it (relu_before), and that ReLU (fused_away) is
     * skipped, its output being the layer before's */
    int fused_relu, relu_before, fused_away;
    /* set by the network: the max-pool after this layer that it computes
     * too (fuses_pool), which is then fused_away like the ReLU between
     * them; this layer's activation is then the pool's output */
    struct layer *pooled;

    int nparams; /* trainable: weight, bias, gamma, beta */
    tensor_spec params[LAYER_MAX_TENSORS];
    float *param[LAYER_MAX_TENSORS]; /* gradients: layer_grad */

    int nbuffers; /* not trained, saved: running_mean, running_var */
    tensor_spec buffers[LAYER_MAX_TENSORS];
    float *buffer[LAYER_MAX_TENSORS];

    float *cache; /* cache_floats(batch) floats, planned by the network */

    union { /* the configuration of each kind */
        struct { int filters, size, stride, pad, groups; } conv;
        struct { int units; } linear;
        struct { int size, stride, pad; } pool;
        struct { activation_kind kind; } act;
        struct { float p; } dropout;
        struct { float eps, momentum; } bn;
        struct { int size; float alpha, beta, k; } lrn;
    } u;
};

/* The gradient of parameter k in the pass's gradient buffer (same layout as
 * the parameters). */
static inline float *layer_grad(const layer *l, const run_ctx *ctx, int k)
{
    return ctx->grads + l->params[k].offset;
}

/* The shape of what layer l leaves in its activation buffer: its output,
 * or the pooled output of the max-pool it computes too. */
static inline shape3 layer_stored_shape(const layer *l)
{
    return l->pooled ? l->pooled->out : l->out;
}

/* The geometries the conv2d and pooling layers run with, for `batch`
 * samples (conv2d.c, pool.c). */
conv_geom conv2d_geometry(const layer *l, int batch);
pool_geom pool_geometry(const layer *l, int batch);

/* This pass's part of a cache kept per sample (cache_floats proportional to
 * the batch): the slice's samples start at sample ctx->first. */
static inline float *layer_sample_cache(const layer *l, const run_ctx *ctx)
{
    return l->cache + l->cls->cache_floats(l, ctx->first);
}

/* Adds a trainable tensor to a layer during configure. */
void layer_add_param(layer *l, const char *name, int ndim, const int *dims, tensor_init init,
                     int fan_in, int fan_out);
/* Adds a saved non-trainable tensor (running statistics) during configure. */
void layer_add_buffer(layer *l, const char *name, int ndim, const int *dims, tensor_init init);
size_t tensor_spec_count(const tensor_spec *t);

/* Class slots shared by layers that need nothing there. */
size_t layer_no_cache(const layer *l, int batch);
size_t layer_no_workspace(const layer *l, const soma_backend *be, int batch);
void layer_no_description(const layer *l, char *buf, size_t size);

/* The class registry (src/nn/registry.c). */
const layer_class *layer_class_find(const char *name);
const layer_class *const *layer_classes(void); /* NULL-terminated */

#endif

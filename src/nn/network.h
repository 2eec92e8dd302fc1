/*
 * The network: an ordered list of layers with memory planned once.
 *
 * params / grads: one flat buffer each, same layout (one memset to zero the
 * gradients, one loop for the optimizer, one all-reduce later). buffers:
 * running statistics. Activations, caches and workspace are planned for a
 * batch size by network_plan and reused by every step: no allocation in the
 * training step.
 *
 * A built model has shapes, parameter counts and FLOPs but no memory for
 * them (soma info on a model of a billion parameters allocates nothing):
 * the weights come with soma_model_init, a checkpoint or the first plan or
 * save (network_ensure_weights: He, seed 1, as if soma_model_init had been
 * called at open), the gradients with the first plan.
 */
#ifndef SOMA_NN_NETWORK_H
#define SOMA_NN_NETWORK_H

#include <stdio.h>

#include "nn/layer.h"
#include "soma.h"

#define NETWORK_MAX_SLICES 64 /* slices (lanes) of a training step at most */
#define NETWORK_DEFAULT_SEED 1 /* a model never initialised gets He weights from it */

/* What network_plan allocates for `batch` samples, in floats, besides the
 * weights and gradients, as the backend's settings now have it (the CPU's
 * thread count: the run's, soma_train_config.threads, else soma_set_threads's). */
typedef struct plan_floats {
    size_t activations;     /* input, layer outputs, two gradient buffers, probabilities, labels,
                               metrics */
    size_t cache;           /* saved between forward and backward */
    size_t workspace;       /* shared scratch */
    size_t slice_grads;     /* gradient buffers of slices 1.. (network_slices) */
    size_t slice_workspace; /* per slice, within workspace */
    size_t max_activation;  /* per sample: the largest of the input and the stored outputs */
    int slices;             /* lanes a step runs in */
    int training;           /* planned for training: gradients too, not only forward passes */
} plan_floats;

struct soma_model {
    char *text;   /* the model definition as parsed */
    char *source; /* file name, or zoo name */
    const soma_backend *be;
    shape3 input;
    int nlayers;
    layer *layers;
    int classes;

    size_t nparams, nbuffers;
    float *params, *grads, *buffers; /* NULL until allocated (see above) */

    /* planned for `planned_batch` samples */
    int planned_batch;
    plan_floats plan;
    float *input_buf;  /* batch x input */
    float **acts;      /* acts[i]: output of layer i */
    float *dact[2];    /* ping-pong input-gradient buffers */
    size_t dact_sample; /* floats per sample in them: the largest activation */
    float *cache;
    float *workspace;
    float *probs;      /* softmax output, batch x classes */
    int32_t *labels;   /* batch labels on the device */
    double *metrics;   /* per slice: loss sum, correct count (backend.h) */
    /* a training step split into plan.slices slices of samples run side by
     * side (network_slices): slice s > 0 accumulates its gradients in its own
     * buffer, and uses workspace floats [s, s + 1) x plan.slice_workspace */
    float *slice_grads;    /* (plan.slices - 1) x nparams */
    double *chunk_sq;      /* host: a sliced step's gradient norm, a term per chunk of the
                              update (train/step.c allocates it at its first such step) */
    int step_slices;       /* the last step's: `metrics` holds that many */

    /* input normalisation, one (mean, std) per input channel (input.c of
     * each): inputs are (x/255 - mean[c]) / std[c]; std 0 until soma_train
     * derives them from the data, a checkpoint or the caller sets them
     * (nn/normalization.h) */
    float *norm_mean, *norm_std;
    char **class_names; /* nclass_names <= classes names (nn/class_names.h), or none */
    int nclass_names;

    /* per-layer timing when profiling (seconds, summed) */
    int profile;
    double *fwd_seconds, *bwd_seconds;
};

/* Builds a model from a parsed spec: shapes inferred, parameters laid out,
 * no memory for them yet. */
soma_status network_build(const model_spec *spec, const char *text, const char *source,
                          soma_model **out);
/* The same, refusing models with more than max_params parameters and
 * buffers (for models read from untrusted files), and with the weights
 * allocated for the caller to load. */
soma_status network_build_limited(const model_spec *spec, const char *text, const char *source,
                                  size_t max_params, soma_model **out);
/* Checks the layers of a spec as network_build does, except that the last
 * need not give class scores (a model being built in code); keeps nothing. */
soma_status network_check_layers(const model_spec *spec, const char *text, const char *source);
/* Allocates the parameters and running statistics, zero, unless they are
 * (for a caller that sets them all: soma_model_init, a checkpoint). */
soma_status network_alloc_weights(soma_model *m);
/* The weights the model has, or else He-initialised ones from seed
 * NETWORK_DEFAULT_SEED: what every use of the weights goes through. */
soma_status network_ensure_weights(soma_model *m);
/* Moves the model to another backend: the weights are copied over through
 * the host, the plan and gradients are dropped (made again at the next
 * use). On failure the model is as it was. */
soma_status network_move(soma_model *m, const soma_backend *be);
/* Whether the model has its weights (a model without parameters always has). */
int network_has_weights(const soma_model *m);
/* Allocates the weights and gradients unless they are, and plans
 * activation, cache and workspace memory for a batch size (idempotent). */
soma_status network_plan(soma_model *m, int batch);
/* The same for forward passes only (predict, evaluate): no gradient
 * buffers, which are as large as the weights (times the slices). A training
 * plan serves inference too; network_plan replaces an inference plan. */
soma_status network_plan_inference(soma_model *m, int batch);
/* What a training plan (network_plan) takes. */
soma_status network_plan_floats(const soma_model *m, int batch, plan_floats *out);
/* Whether the plan serves forward passes of up to `batch` samples under
 * the backend's present settings (training ones when it is a training plan). */
int network_plan_covers(const soma_model *m, int batch);



/* How many slices a training step of `batch` samples is split into (1: the
 * whole batch in one pass, each kernel splitting its work as the backend does). */
int network_slices(const soma_model *m, int batch);
/* The gradient buffer of slice s (slice 0: m->grads). */
float *network_slice_grads(const soma_model *m, int slice);

/* The passes below cover samples ctx->first .. ctx->first + ctx->batch - 1
 * of the planned buffers (all of a batch, or one slice of it). */

/* Forward from m->input_buf; *logits: the pass's (device memory). */
soma_status network_forward(soma_model *m, const run_ctx *ctx, const float **logits);
/* Softmax cross-entropy: labels_host holds the step's step_batch labels;
 * leaves the pass's loss sum and correct count in ctx->metrics on the
 * device, and puts the gradient of the step's mean loss where
 * network_backward starts. */
soma_status network_loss(soma_model *m, const run_ctx *ctx, int step_batch,
                         const int32_t *labels_host);
/* The loss sum and correct count of the last step's passes (step_slices of
 * them), fetched from the device and summed in slice order. */
soma_status network_metrics(const soma_model *m, double *loss_sum, long long *correct);
/* Gradients into ctx->grads (accumulating). */
soma_status network_backward(soma_model *m, const run_ctx *ctx);
soma_status network_zero_grads(soma_model *m);

/* Iterates named tensors in PyTorch state_dict order: for each layer, params
 * then buffers. Returns 0 when i is past the end. */
typedef struct named_tensor {
    char name[64];
    const tensor_spec *spec;
    float *data; /* device memory */
    int trainable;
} named_tensor;
int network_tensor(const soma_model *m, int i, named_tensor *out);

#endif

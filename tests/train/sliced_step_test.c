/*
 * A training step split into slices of samples, one per thread, against the
 * same step run whole on one thread: the same dropout masks, the same loss,
 * the same gradient norm and the same weights after several steps (up to the
 * order of the sums). The norm a step reports is that of the gradient it
 * left in m->grads.
 * Three slices over 25 samples (8, 8, 9) on a machine with fewer cores make
 * the threads interleave, so slices that wrote over each other's buffers
 * would show (the model has each kind of layer that keeps a per-sample
 * cache: max-pooling, LRN, dropout). Split runs are also bit-identical to
 * each other, and a model with batch normalisation (statistics over the
 * whole batch) is never split.
 * A backend operation that fails inside a lane fails the step, with its
 * message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"
#include "optim/optimizer.h"
#include "support/check.h"
#include "support/synthetic.h"
#include "train/step.h"

#define BATCH 25
#define STEPS 6

static const char *model_text =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=6 size=3 pad=1\nrelu\nlrn size=3 alpha=0.1\nmaxpool size=2\n"
    "conv2d filters=8 size=3 pad=1 groups=2\nrelu\n"
    "flatten\nlinear units=32\nrelu\ndropout p=0.3\nlinear units=3\n";

typedef struct result {
    float *params;
    double loss[STEPS];
    double grad_sq[STEPS]; /* as train_step counts it */
    long long correct[STEPS];
    int slices;
} result;

/* STEPS momentum steps on the same batches with `threads` threads. */
static result run(const char *text, const soma_dataset *ds, int threads)
{
    result r = {0};
    soma_set_threads(threads);
    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "sliced", &m) == SOMA_OK);
    CHECK(soma_model_init(m, SOMA_INIT_HE, 3) == SOMA_OK);
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK(network_plan(m, BATCH) == SOMA_OK);
    r.slices = network_slices(m, BATCH);
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_MOMENTUM);
    optimizer *opt = NULL;
    CHECK(optimizer_create(m->be, &cfg, m->nparams, &opt) == SOMA_OK);
    int indices[BATCH];
    float *host = malloc(sizeof(float) * 64 * BATCH);
    int32_t labels[BATCH];
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < BATCH; i++)
            indices[i] = (s * 7 + i * 3) % soma_dataset_count(ds);
        step_data data = {.ds = ds, .indices = indices, .host = host, .labels = labels};
        CHECK(train_step(m, opt, 0.05f, BATCH, &data, 11, s, &r.grad_sq[s]) == SOMA_OK);
        CHECK(network_metrics(m, &r.loss[s], &r.correct[s]) == SOMA_OK);
        double sq = 0.0; /* the gradient the step left, squared in another order */
        for (size_t i = 0; i < m->nparams; i++)
            sq += (double)m->grads[i] * m->grads[i];
        CHECK_MSG(fabs(r.grad_sq[s] - sq) <= 1e-12 * sq, "%d threads step %d: norm^2 %.17g, "
                  "the gradient's %.17g", threads, s, r.grad_sq[s], sq);
    }
    r.params = malloc(sizeof(float) * m->nparams);
    memcpy(r.params, m->params, sizeof(float) * m->nparams);
    free(host);
    optimizer_free(opt);
    soma_model_free(m);
    return r;
}

/* The CPU backend with a convolution backward that fails, as a device's
 * launch could. */
static soma_status failing_conv2d_backward(const conv_geom *g, const float *x, const float *w,
                                           const float *y, const float *dy, float *dx,
                                           float *dw, float *db, float *workspace)
{
    (void)g, (void)x, (void)w, (void)y, (void)dy, (void)dx, (void)dw, (void)db, (void)workspace;
    return soma_error(SOMA_ERR_UNSUPPORTED, "injected failure");
}

static void check_failure_propagates(const soma_dataset *ds, int threads)
{
    soma_backend failing = soma_cpu_backend;
    failing.conv2d_backward = failing_conv2d_backward;
    soma_set_threads(threads);
    soma_model *m = NULL;
    CHECK(soma_model_parse(model_text, "sliced", &m) == SOMA_OK);
    CHECK(soma_model_init(m, SOMA_INIT_HE, 3) == SOMA_OK);
    m->be = &failing; /* same memory as the CPU's: the weights stay valid */
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK(network_plan(m, BATCH) == SOMA_OK);
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_SGD);
    optimizer *opt = NULL;
    CHECK(optimizer_create(m->be, &cfg, m->nparams, &opt) == SOMA_OK);
    int indices[BATCH];
    for (int i = 0; i < BATCH; i++)
        indices[i] = i;
    float *host = malloc(sizeof(float) * 64 * BATCH);
    int32_t labels[BATCH];
    step_data data = {.ds = ds, .indices = indices, .host = host, .labels = labels};
    soma_error_clear();
    CHECK_MSG(train_step(m, opt, 0.05f, BATCH, &data, 11, 0, NULL) == SOMA_ERR_UNSUPPORTED,
              "%d threads", threads);
    CHECK_MSG(strcmp(soma_last_error(), "injected failure") == 0, "%d threads: message '%s'",
              threads, soma_last_error());
    free(host);
    optimizer_free(opt);
    soma_model_free(m);
}

int main(void)
{
    soma_dataset *ds = synthetic_patterns(100, 5, 1);
    soma_model *probe = NULL;
    CHECK(soma_model_parse(model_text, "sliced", &probe) == SOMA_OK);
    size_t n = probe->nparams;
    soma_model_free(probe);

    result whole = run(model_text, ds, 1);
    result split = run(model_text, ds, 3);
    result again = run(model_text, ds, 3);
    CHECK(whole.slices == 1);
    CHECK(split.slices == 3);

    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)split.params[i] - whole.params[i]));
        scale = fmax(scale, fabs((double)whole.params[i]));
    }
    CHECK_MSG(worst <= 1e-5 * scale, "weights after %d steps differ by %g (scale %g)", STEPS,
              worst, scale);
    for (int s = 0; s < STEPS; s++) {
        CHECK_MSG(fabs(split.loss[s] - whole.loss[s]) <= 1e-5 * fabs(whole.loss[s]),
                  "step %d: loss %.9g split, %.9g whole", s, split.loss[s], whole.loss[s]);
        CHECK(split.correct[s] == whole.correct[s]);
        CHECK_MSG(fabs(split.grad_sq[s] - whole.grad_sq[s]) <= 1e-5 * whole.grad_sq[s],
                  "step %d: norm^2 %.9g split, %.9g whole", s, split.grad_sq[s],
                  whole.grad_sq[s]);
        CHECK(split.grad_sq[s] > 0.0);
    }
    CHECK(memcmp(split.params, again.params, sizeof(float) * n) == 0);
    CHECK(split.loss[STEPS - 1] == again.loss[STEPS - 1]);
    CHECK(memcmp(split.grad_sq, again.grad_sq, sizeof split.grad_sq) == 0);

    /* batch statistics couple the samples: such a model runs its steps whole */
    soma_set_threads(3);
    soma_model *bn = NULL;
    CHECK(soma_model_parse("input channels=1 height=8 width=8\nconv2d filters=4 size=3\n"
                           "batchnorm\nrelu\nflatten\nlinear units=3\n",
                           "bn", &bn) == SOMA_OK);
    CHECK(network_plan(bn, BATCH) == SOMA_OK);
    CHECK(network_slices(bn, BATCH) == 1);
    soma_model_free(bn);

    check_failure_propagates(ds, 1);
    check_failure_propagates(ds, 3);

    free(whole.params), free(split.params), free(again.params);
    soma_dataset_free(ds);
    return check_finish("sliced_step_test");
}

/*
 * bench/kernels/denormals: do subnormal floats appear as training goes on,
 * and do they cost time? Trains MODEL on a dataset through soma_train on one
 * thread and, after every epoch, counts the subnormal values in what the
 * model holds: weights, BatchNorm running statistics, the last step's
 * gradients, layer outputs and input gradients (not the forward cache: it
 * holds max-pooling's int32 argmax, small integers that read as subnormal
 * floats); and the
 * gradients small enough (|g| < 2^-63) that Adam's g^2 would be subnormal.
 * Prints the epoch's images/s next to the counts. With FTZ=1 in the
 * environment the run sets flush-to-zero and denormals-are-zero (MXCSR) on
 * its thread first, so two runs show what flushing would change.
 *   denormals MODEL DATA EPOCHS [BATCH]
 * e.g. denormals lenet5 mnist 20; FTZ=1 denormals lenet5 mnist 20
 * Build: see bench/kernels/README.md.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <xmmintrin.h>

#include "nn/network.h"

typedef struct counts {
    size_t values, nonzero, subnormal;
} counts;

static void scan(counts *c, const float *x, size_t n)
{
    if (!x)
        return;
    for (size_t i = 0; i < n; i++) {
        int kind = fpclassify(x[i]);
        c->values++;
        c->nonzero += kind != FP_ZERO;
        c->subnormal += kind == FP_SUBNORMAL;
    }
}

typedef struct watch {
    soma_model *m;
    double t0;
} watch;

static void on_progress(const soma_progress *p, void *user)
{
    if (!p->epoch_done)
        return;
    const soma_model *m = ((watch *)user)->m;
    int batch = m->planned_batch;
    counts weights = {0}, grads = {0}, acts = {0}, dacts = {0};
    scan(&weights, m->params, m->nparams);
    scan(&weights, m->buffers, m->nbuffers);
    scan(&grads, m->grads, m->nparams);
    size_t tiny = 0; /* |g| < 2^-63: g * g underflows below FLT_MIN */
    for (size_t i = 0; i < m->nparams; i++)
        tiny += m->grads[i] != 0.0f && fabsf(m->grads[i]) < 0x1p-63f;
    for (int i = 0; i < m->nlayers; i++)
        if (!m->layers[i].fused_away)
            scan(&acts, m->acts[i], shape_size(m->layers[i].out) * batch);
    scan(&dacts, m->dact[0], m->dact_sample * batch);
    scan(&dacts, m->dact[1], m->dact_sample * batch);
    printf("%5d %10.0f %10zu %10zu %10zu %10zu %10zu\n", p->epoch, p->images_per_second,
           weights.subnormal, grads.subnormal, tiny, acts.subnormal, dacts.subnormal);
    if (p->epoch == p->epochs)
        printf("of   %10s %10zu %10zu %10s %10zu %10zu values\n", "", weights.values,
               grads.values, "", acts.values, dacts.values);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL DATA EPOCHS [BATCH]\n", argv[0]);
        return 2;
    }
    int ftz = getenv("FTZ") && atoi(getenv("FTZ")) > 0;
    if (ftz) /* FTZ (bit 15) and DAZ (bit 6) */
        _mm_setcsr(_mm_getcsr() | 0x8040);
    soma_select_blas_kernels(); /* as the CLI does: OpenBLAS may take this CPU for an old one */
    soma_set_threads(1);
    soma_model *m;
    soma_dataset *train, *test;
    if (soma_model_open(argv[1], &m) != SOMA_OK ||
        soma_dataset_find(argv[2], "train", &train) != SOMA_OK ||
        soma_dataset_find(argv[2], "test", &test) != SOMA_OK) {
        fprintf(stderr, "%s\n", soma_last_error());
        return 1;
    }
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = atoi(argv[3]);
    cfg.batch = argc > 4 ? atoi(argv[4]) : 32;
    cfg.threads = 1;
    watch w = {.m = m};
    printf("%s on %s, %d epochs, batch %d, one thread, flush to zero %s\n", argv[1], argv[2],
           cfg.epochs, cfg.batch, ftz ? "on" : "off");
    printf("subnormal values after each epoch (the last step's gradients and activations):\n");
    printf("%5s %10s %10s %10s %10s %10s %10s\n", "epoch", "img/s", "weights", "grads",
           "g^2<min", "outputs", "in-grads");
    soma_train_result r;
    if (soma_train(m, train, NULL, &cfg, on_progress, &w, &r) != SOMA_OK) {
        fprintf(stderr, "%s\n", soma_last_error());
        return 1;
    }
    double loss, acc;
    if (soma_evaluate(m, test, 256, &loss, &acc) == SOMA_OK)
        printf("test accuracy %.2f%%\n", 100.0 * acc);
    soma_dataset_free(train);
    soma_dataset_free(test);
    soma_model_free(m);
    return 0;
}

/*
 * bench/kernels/layer_profile: where a training step's time goes, layer by layer.
 * Runs train_step's sequence (zero grads, forward, loss, backward, Adam)
 * through the network's functions with its per-layer timers on (wall
 * clock), and prints the per-step minimum over the timed steps of each
 * piece (robust on a shared machine), in microseconds per image. The pieces
 * outside the layers use this thread's CPU clock on one thread (the wall
 * clock with "wall", or with more threads).
 *   layer_profile MODEL [BATCH STEPS TRAINING THREADS [wall]]
 * Build: see bench/kernels/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"
#include "nn/network.h"
#include "optim/optimizer.h"

static clockid_t clock_id = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* LAYER_PROFILE_MEAN=1 in the environment: means over the timed steps
 * instead of minima, to see what jitter costs with more threads */
static int mean_mode, warming_up;

static void keep_min(double *slot, double t)
{
    if (mean_mode)
        *slot = (*slot >= 1e8 ? 0.0 : *slot) + (warming_up ? 0.0 : t);
    else
        *slot = t < *slot ? t : *slot;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [BATCH STEPS TRAINING]\n", argv[0]);
        return 2;
    }
    int batch = argc > 2 ? atoi(argv[2]) : 64, steps = argc > 3 ? atoi(argv[3]) : 30;
    int training = argc > 4 ? atoi(argv[4]) : 1, threads = argc > 5 ? atoi(argv[5]) : 1;
    soma_select_blas_kernels(); /* as the CLI does: OpenBLAS may take this CPU for an old one */
    soma_set_threads(threads);
    mean_mode = getenv("LAYER_PROFILE_MEAN") && atoi(getenv("LAYER_PROFILE_MEAN")) > 0;
    if (threads > 1 || (argc > 6 && argv[6][0] == 'w'))
        clock_id = CLOCK_MONOTONIC;
    soma_model *m;
    if (soma_model_open(argv[1], &m) != SOMA_OK || soma_model_init(m, SOMA_INIT_HE, 1) ||
        network_plan(m, batch) != SOMA_OK) {
        fprintf(stderr, "%s\n", soma_last_error());
        return 1;
    }
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_ADAM);
    optimizer *opt;
    if (optimizer_create(m->be, &cfg, m->nparams, &opt) != SOMA_OK)
        return 1;
    rng r;
    rng_init(&r, 1, RNG_TEST, 0, 0);
    size_t in_size = shape_size(m->input) * batch;
    for (size_t i = 0; i < in_size; i++)
        m->input_buf[i] = rng_normal(&r);
    int32_t *labels = malloc(sizeof *labels * batch);
    for (int i = 0; i < batch; i++)
        labels[i] = (int32_t)rng_below(&r, (uint32_t)m->classes);
    int nl = m->nlayers;
    double *fwd = malloc(sizeof *fwd * nl), *bwd = malloc(sizeof *bwd * nl);
    double zero = 1e9, loss_t = 1e9, optim = 1e9, total = 1e9;
    for (int i = 0; i < nl; i++)
        fwd[i] = bwd[i] = 1e9;
    run_ctx ctx = {.be = m->be, .batch = batch, .training = training, .seed = 1,
                   .workspace = m->workspace, .grads = m->grads, .metrics = m->metrics};
    double *fwd_seen = calloc(nl, sizeof *fwd_seen), *bwd_seen = calloc(nl, sizeof *bwd_seen);
    m->profile = 1; /* the network's own per-layer timers (wall clock) */
    for (int s = 0; s < steps + 3; s++) {
        double t0 = now(), t;
        ctx.step = s;
        warming_up = s < 3;
        if (training) {
            network_zero_grads(m);
            keep_min(&zero, now() - t0);
        }
        const float *logits;
        network_forward(m, &ctx, &logits);
        if (training) {
            t = now();
            network_loss(m, &ctx, batch, labels);
            keep_min(&loss_t, now() - t);
            network_backward(m, &ctx);
            t = now();
            optimizer_step(opt, 1e-5f, m->params, m->grads);
            keep_min(&optim, now() - t);
        }
        keep_min(&total, now() - t0);
        for (int i = 0; i < nl; i++) {
            keep_min(&fwd[i], m->fwd_seconds[i] - fwd_seen[i]);
            keep_min(&bwd[i], m->bwd_seconds[i] - bwd_seen[i]);
            fwd_seen[i] = m->fwd_seconds[i];
            bwd_seen[i] = m->bwd_seconds[i];
        }
    }
    free(fwd_seen), free(bwd_seen);
    if (mean_mode) {
        double k = 1.0 / steps;
        zero *= k, loss_t *= k, optim *= k, total *= k;
        for (int i = 0; i < nl; i++)
            fwd[i] *= k, bwd[i] *= k;
    }
    double us = 1e6 / batch, sum = zero + loss_t + optim;
    printf("%-3s %-10s %-16s %9s %9s   (us/image, %s over %d steps)\n", "#", "layer", "", "fwd",
           "bwd", mean_mode ? "mean" : "min", steps);
    for (int i = 0; i < nl; i++) {
        char desc[64] = "";
        m->layers[i].cls->describe(&m->layers[i], desc, sizeof desc);
        printf("%-3d %-10s %-16s %9.2f %9.2f\n", i, m->layers[i].cls->name, desc, fwd[i] * us,
               training ? bwd[i] * us : 0.0);
        sum += fwd[i] + (training ? bwd[i] : 0.0);
    }
    printf("    zero grads %.2f, loss %.2f, optimizer %.2f\n", zero * us, loss_t * us, optim * us);
    printf("    sum of %s %.2f us/image; %s whole step %.2f us/image = %.0f images/s\n",
           mean_mode ? "means" : "minima", sum * us, mean_mode ? "mean" : "fastest", total * us,
           batch / total);
    optimizer_free(opt);
    soma_model_free(m);
    free(labels), free(fwd), free(bwd);
    return 0;
}

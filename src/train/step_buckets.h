/* Gradient sums across processes in buckets of layers, started as backward
 * finishes them (step_buckets.c). */
#ifndef SOMA_TRAIN_STEP_BUCKETS_H
#define SOMA_TRAIN_STEP_BUCKETS_H

#include "nn/network.h"
#include "train/comm.h"

#define MAX_BUCKETS 64

typedef struct grad_buckets {
    soma_model *m;
    const soma_comm *comm;
    size_t pending_end; /* gradients [.., pending_end) are not being summed yet */
    int count;
    comm_request requests[MAX_BUCKETS];
} grad_buckets;

void buckets_begin(grad_buckets *b, soma_model *m, const soma_comm *comm);
/* run_ctx.layer_done: a bucket starts when enough gradients are final */
soma_status buckets_layer_done(void *arg, int index);
/* The gradients not yet started, summed; then every bucket waited for. */
soma_status buckets_finish(grad_buckets *b);

#endif

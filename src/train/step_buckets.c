/*
 * Gradient sums across processes overlapped with backward (--overlap): the
 * parameters lie in the flat buffer in layer order and backward runs from
 * the last layer to the first, so after layer i the gradients from layer
 * i's first parameter to the end are final. Once at least BUCKET_FLOATS of
 * them wait, a non-blocking sum starts on them while the earlier layers
 * compute; the rest goes after backward, then all are waited for. The sums
 * are those of the single all-reduce (each element summed on its own), so
 * results do not change.
 */
#include "train/step_buckets.h"

#include "core/error.h"

/* 64 KiB: LeNet-5's 61,706 parameters make 3 buckets, AlexNet's hundreds
 * (merged into the last once MAX_BUCKETS are in flight) */
#define BUCKET_FLOATS ((size_t)1 << 14)

void buckets_begin(grad_buckets *b, soma_model *m, const soma_comm *comm)
{
    b->m = m, b->comm = comm;
    b->pending_end = m->nparams;
    b->count = 0;
}

static soma_status start(grad_buckets *b, size_t begin)
{
    if (b->count == MAX_BUCKETS) /* the rest waits for the last */
        return SOMA_OK;
    soma_status st = comm_sum_floats_start(b->comm, b->m->grads + begin,
                                           b->pending_end - begin, &b->requests[b->count]);
    b->count++;
    b->pending_end = begin;
    return st;
}

soma_status buckets_layer_done(void *arg, int index)
{
    grad_buckets *b = arg;
    const layer *l = &b->m->layers[index];
    for (int i = 0; i < b->count; i++) /* MPI moves data only inside its calls */
        SOMA_TRY(comm_progress(b->comm, &b->requests[i]));
    if (l->nparams == 0)
        return SOMA_OK;
    size_t begin = l->params[0].offset;
    return b->pending_end - begin >= BUCKET_FLOATS ? start(b, begin) : SOMA_OK;
}

soma_status buckets_finish(grad_buckets *b)
{
    soma_status st = SOMA_OK;
    if (b->pending_end > 0)
        st = comm_sum_floats(b->comm, b->m->grads, b->pending_end);
    for (int i = 0; i < b->count; i++) { /* all waited for, whatever failed */
        soma_status w = comm_wait(b->comm, &b->requests[i]);
        if (st == SOMA_OK)
            st = w;
    }
    b->count = 0;
    return st;
}

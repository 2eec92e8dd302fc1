/* One training step and evaluation passes, shared by soma_train, soma_evaluate
 * and soma_benchmark. */
#ifndef SOMA_TRAIN_STEP_H
#define SOMA_TRAIN_STEP_H

#include "nn/network.h"
#include "optim/optimizer.h"

/* A step's samples: gathered from ds (samples indices[0..batch-1]) inside
 * the step, each slice its own, through host staging into m->input_buf; or,
 * with ds NULL, already in m->input_buf with their labels in `labels`. */
typedef struct step_data {
    const soma_dataset *ds;
    const int *indices;
    float *host;     /* batch x sample floats */
    int32_t *labels; /* batch labels, filled when ds is set */
    int ready;       /* host and labels hold the batch already (augmented, normalised) */
    /* the next step's samples of ds (NULL: none known): asked for in the
     * middle of this step (dataset_prefetch), each pass its share */
    const int *next;
    int next_n;
} step_data;

/* Forward, loss, backward and the optimizer update of one batch. Its loss
 * sum and correct count stay on the device for network_metrics. grad_sq
 * (NULL: not wanted): the squared norm of the step's gradient (m->grads).
 * A step split into slices counts it chunk by chunk on the threads that sum
 * the chunks, while they are in their caches: counted by one thread after
 * the step, it would stall that thread on the lines the others wrote while
 * they wait for the next step. */
soma_status train_step(soma_model *m, optimizer *opt, float lr, int batch,
                       const step_data *data, uint64_t seed, long long global_step,
                       double *grad_sq);

/* This process's part of a step trained over several (train/comm.h). */
typedef struct step_dist {
    const soma_comm *comm;
    int batch;        /* this process's samples of the step (0 in a last batch smaller than
                         the processes) */
    int global_batch; /* the step's samples over all processes: the loss is their mean */
    int base;         /* this process's first sample within them */
    const bn_sync *bn_sync; /* BatchNorm statistics across processes, or NULL */
    int overlap;      /* sum the gradients in buckets as backward finishes them (a step
                         not split into slices) */
    /* summed across the processes with the gradients: sums[0] and sums[1]
     * are set to this process's loss sum and correct count, the rest (flags
     * that every process must agree on) are the caller's */
    double *sums;
    int nsums;
} step_dist;

/* train_step for one of several processes: forward and backward of this
 * process's samples, the gradients and d->sums summed across the processes,
 * then the same optimizer update in each. */
soma_status train_step_dist(soma_model *m, optimizer *opt, float lr, const step_data *data,
                            uint64_t seed, long long global_step, const step_dist *d);

/* What soma_evaluate and soma_evaluate_tta refuse: the batch, an empty
 * dataset, a model without input normalisation. */
soma_status evaluate_check_args(const soma_model *m, const soma_dataset *ds, int batch);
/* Samples of the model's input shape, labels within its classes. */
soma_status evaluate_check_fit(const soma_model *m, const soma_dataset *ds);

/* Evaluation-mode loss and accuracy over a whole dataset (checks the fit). */
soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy);
/* The same shared among the processes of comm, each evaluating its part of
 * ds; all get the totals. */
soma_status evaluate_dataset_comm(soma_model *m, const soma_dataset *ds, int batch,
                                  const soma_comm *comm, double *loss, double *accuracy);

#endif

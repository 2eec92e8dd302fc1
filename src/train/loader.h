/*
 * Background batch loading for augmented training: a thread gathers each
 * step's samples as raw pixels, augments them and normalises them into one
 * of two host buffers while the step before runs (double buffering). A
 * batch's contents depend only on (seed, epoch, the samples' indices), never
 * on threads or timing.
 */
#ifndef SOMA_TRAIN_LOADER_H
#define SOMA_TRAIN_LOADER_H

#include <stdint.h>

#include "data/augment.h"
#include "soma.h"

typedef struct batch_loader batch_loader;

/* A loader for batches of up to `batch` samples of `ds`; no thread yet. */
soma_status loader_create(const soma_dataset *ds, const augment_pipeline *aug, int batch,
                          batch_loader **out);
/* Over several processes: each batch loaded is only part `part` of `parts`
 * (partition.h) of the global batch's samples (the default: 0 of 1). */
void loader_set_part(batch_loader *l, int part, int parts);
/* Starts the thread on an epoch: steps first_step .. steps-1 of `order`
 * (which must stay unchanged until loader_end_epoch), normalised by mean, std. */
soma_status loader_begin_epoch(batch_loader *l, const int *order, int n, int first_step,
                               int steps, uint64_t seed, int epoch, const float *mean,
                               const float *std);
/* Waits for step `step`'s batch (steps are taken in order) and lends its buffers
 * until loader_release; a failure to load it (an image that does not decode)
 * is returned here, with its message. */
soma_status loader_next(batch_loader *l, int step, float **host, int32_t **labels);
/* The batch last taken may be overwritten. */
void loader_release(batch_loader *l, int step);
/* Stops and joins the thread (whatever it was doing); safe to call twice. */
void loader_end_epoch(batch_loader *l);
/* Ends the epoch and frees the loader (accepts NULL). */
void loader_free(batch_loader *l);

/* (x - mean[c]) / std[c] per channel over a batch of raw pixels: the one
 * place normalisation of augmented batches happens. */
void loader_normalize(float *x, int n, int c, size_t plane, const float *mean, const float *std);

/* Gathers, augments and normalises samples indices[0..n) into out and their
 * labels: what the thread does for each batch (scratch: augment_scratch_floats). */
soma_status loader_fill(const soma_dataset *ds, const augment_pipeline *aug, const int *indices,
                        int n, uint64_t seed, int epoch, const float *mean, const float *std,
                        float *out, int32_t *labels, float *scratch);

#endif

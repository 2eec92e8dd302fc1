/*
 * A training run's checkpoint: the model's part (nn/checkpoint.h) plus
 * everything else needed to resume exactly: the optimizer state as flat
 * tensors ("optimizer.exp_avg") and settings, the run's position (epoch,
 * step, seed), the early-stopping state and the training settings in the
 * metadata. See docs/checkpoint-format.md.
 */
#ifndef SOMA_TRAIN_RUN_STATE_H
#define SOMA_TRAIN_RUN_STATE_H

#include "nn/network.h"
#include "optim/optimizer.h"

/* Where a run stands: enough, with the weights and optimizer, to resume. */
typedef struct run_state {
    uint64_t seed;
    int epoch;              /* epochs completed */
    int step;               /* steps completed within epoch+1 (0 at a boundary) */
    long long global_step;  /* steps since the start of the run */
    int best_epoch;
    double best_val_accuracy;
    double best_val_loss;   /* breaks ties in accuracy (NaN in files of soma 0.1) */
    int epochs_since_best;
    double epoch_loss_sum;  /* running sums of the unfinished epoch */
    long long epoch_correct, epoch_seen;
    double seconds;         /* training time so far */
    /* host copies of the best weights, so that early stopping can restore
     * them after a resume; saved when they differ from the current ones */
    float *best_params, *best_buffers;
    int best_loaded;        /* set by checkpoint_restore when it filled them */
} run_state;

/* Writes model (+ optimizer, run state and config when not NULL) atomically. */
soma_status checkpoint_save(const char *path, const soma_model *m, optimizer *opt,
                            const run_state *rs, const soma_train_config *cfg);

/* Restores weights, optimizer state and run state into an existing model
 * and optimizer, checking that the checkpoint was made for the same model
 * text and optimizer kind and batch size. */
soma_status checkpoint_restore(const char *path, soma_model *m, optimizer *opt, run_state *rs,
                               const soma_train_config *cfg);

#endif

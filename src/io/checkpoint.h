/*
 * Checkpoints: a safetensors file with the model's tensors named as a
 * PyTorch nn.Sequential state_dict would name them ("0.weight",
 * "1.running_mean"), the optimizer state as flat tensors
 * ("optimizer.exp_avg"), and everything else needed to resume exactly in
 * the metadata (model text, epoch, step, seed, optimizer settings, early
 * stopping state). See docs/checkpoint-format.md.
 */
#ifndef SOMA_IO_CHECKPOINT_H
#define SOMA_IO_CHECKPOINT_H

#include "nn/network.h"
#include "optim/optimizer.h"

/* Version 2 is sealed with a CRC32 of the whole file; version 1 (still
 * read) with a CRC32 of the data section only. */
#define CHECKPOINT_FORMAT "soma-checkpoint-2"
#define CHECKPOINT_FORMAT_V1 "soma-checkpoint-1"

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

/* Checkpoints larger than this are refused before reading. */
#define CHECKPOINT_MAX_BYTES ((size_t)16 << 30)

/* Rebuilds the model stored in a checkpoint and loads its weights. */
soma_status checkpoint_load_model(const char *path, soma_model **out);
/* The same from bytes in memory (`name` starts error messages). */
soma_status checkpoint_parse_model(const uint8_t *bytes, size_t len, const char *name,
                                   soma_model **out);

/* Restores weights, optimizer state and run state into an existing model
 * and optimizer, checking that the checkpoint was made for the same model
 * text and optimizer kind and batch size. */
soma_status checkpoint_restore(const char *path, soma_model *m, optimizer *opt, run_state *rs,
                               const soma_train_config *cfg);

#endif

/*
 * What the values in a checkpoint must satisfy before soma uses them.
 *
 * The checksum proves that a file is what soma wrote; these checks catch a
 * file that is well formed but wrong (edited, or written by another tool or
 * a buggy program): a weight that is NaN, a zero input scale, a position
 * past the end of an epoch. Each failure is one line naming the file and the
 * tensor or metadata key. docs/checkpoint-format.md lists the checks.
 */
#ifndef SOMA_IO_CHECKPOINT_CHECKS_H
#define SOMA_IO_CHECKPOINT_CHECKS_H

#include <stddef.h>

#include "io/checkpoint.h"
#include "io/safetensors.h"

/* Every F32 tensor of the file is finite; running variances and the
 * optimizers' sums and averages of squares are >= 0. */
soma_status checkpoint_check_tensors(const st_file *f, const char *path);

/* 1 when the input normalisation is usable: mean in [0, 1] (the mean of
 * pixels scaled to [0, 1]), std positive, finite and a normal float. Else 0,
 * with why[0..size) saying which key is wrong ("'norm_std' = 0 is ..."). */
int checkpoint_normalization_ok(double mean, double std, char *why, size_t size);

/* The run's position against itself: epoch <= epochs, global_step counts
 * at least one step per epoch plus the current ones and equals the
 * optimizer's step count, the running sums fit the steps taken, the
 * early-stopping state lies within the epochs run. */
soma_status checkpoint_check_run_state(const char *path, const run_state *rs,
                                       long long optimizer_steps, int batch, long long epochs);

/* The run's position against the training set it resumes on: step within
 * the epoch, global_step = epoch * steps per epoch + step, and the images
 * seen in this epoch as many as those steps cover. */
soma_status checkpoint_check_position(const char *path, const run_state *rs, int train_images,
                                      int batch);

#endif

/*
 * What the values in a checkpoint must satisfy before soma uses them: the
 * file's tensors and the model's metadata (the run state's checks are in
 * train/run_state_checks.h).
 *
 * The checksum proves that a file is what soma wrote; these checks catch a
 * file that is well formed but wrong (edited, or written by another tool or
 * a buggy program): a weight that is NaN, a zero input scale. Each failure
 * is one line naming the file and the tensor or metadata key.
 * docs/checkpoint-format.md lists the checks.
 */
#ifndef SOMA_NN_CHECKPOINT_CHECKS_H
#define SOMA_NN_CHECKPOINT_CHECKS_H

#include <stddef.h>

#include "io/safetensors.h"

/* Every F32 tensor of the file is finite; running variances and the
 * optimizers' sums and averages of squares are >= 0. */
soma_status checkpoint_check_tensors(const st_file *f, const char *path);

/* 1 when one channel's input normalisation is usable: mean in [0, 1] (the
 * mean of pixels scaled to [0, 1]), std positive, finite and a normal float.
 * Else 0, with why[0..size) saying which key is wrong ("'norm_std' = 0 is
 * ...", or "'norm_std' channel 2 = 0 is ..." when channel >= 0). */
int checkpoint_normalization_ok(double mean, double std, int channel, char *why, size_t size);

#endif

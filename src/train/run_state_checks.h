/*
 * What a checkpoint's run state must satisfy before a resume uses it: a
 * position past the end of an epoch, a step count that disagrees with the
 * optimizer's, sums that do not fit the steps taken. Each failure is one
 * line naming the file and the metadata key. The checks of the model's part
 * are in nn/checkpoint_checks.h; docs/checkpoint-format.md lists them all.
 */
#ifndef SOMA_TRAIN_RUN_STATE_CHECKS_H
#define SOMA_TRAIN_RUN_STATE_CHECKS_H

#include "train/run_state.h"

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

/*
 * Learning-rate schedules: the rate of each global step, from the training
 * configuration alone (no state, so a resumed run gets the same rates).
 */
#ifndef SOMA_OPTIM_SCHEDULE_H
#define SOMA_OPTIM_SCHEDULE_H

#include "soma.h"

/* The learning rate of 0-based global step `step`, base lr = cfg->opt.lr:
 *   const:  lr
 *   step:   lr * step_gamma^floor(epoch / step_epochs), epoch = step / steps_per_epoch
 *   cosine: 0.5 * lr * (1 + cos(pi * step / total)), total = epochs * steps_per_epoch
 * With warmup_epochs > 0 the first warmup_steps = round(warmup_epochs *
 * steps_per_epoch) steps (at least 1) are multiplied by (step+1)/warmup_steps. */
double schedule_lr(const soma_train_config *cfg, long long step, long long steps_per_epoch);

/* Checks the schedule fields (step_epochs >= 1 and step_gamma in (0, 1] for
 * "step", warmup_epochs >= 0 and finite); the error names the field and value. */
soma_status schedule_check(const soma_train_config *cfg);


#endif

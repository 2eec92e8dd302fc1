/*
 * An optimizer: its configuration, a step counter and the per-parameter
 * state its kind needs, over the network's one flat parameter buffer.
 *
 * The update itself runs on the backend (be->optimizer_step, one fused pass);
 * this object only owns the state and counts steps. docs/optimizers.md gives
 * every update as implemented.
 */
#ifndef SOMA_OPTIM_OPTIMIZER_H
#define SOMA_OPTIM_OPTIMIZER_H

#include <stddef.h>

#include "ops/backend.h"
#include "soma.h"

#define OPTIMIZER_MAX_STATE 2

typedef struct optimizer {
    soma_optimizer_config cfg;
    const soma_backend *be;
    size_t n;       /* parameters */
    long long t;    /* steps taken; a checkpoint restores it with the state */
    float *state1;  /* backend memory, NULL when the kind needs none */
    float *state2;
} optimizer;

/* Checks `cfg` (lr > 0 and finite, momentum/alpha/betas in [0,1), eps > 0,
 * weight_decay >= 0, for the fields the kind uses) and allocates zeroed state
 * for n parameters with be->alloc. */
soma_status optimizer_create(const soma_backend *be, const soma_optimizer_config *cfg, size_t n,
                             optimizer **out);

/* Checks a configuration alone; the error names the field and its value. */
soma_status optimizer_config_check(const soma_optimizer_config *cfg);

/* One step at learning rate `lr` (the schedule's, in place of cfg.lr):
 * t += 1, then params -= update(grads). */
soma_status optimizer_step(optimizer *o, float lr, float *params, const float *grads);

/* The same step in parts, run side by side: step t + 1 on parameters
 * [begin, end) only; once every parameter has had its part, optimizer_count
 * the step. */
soma_status optimizer_step_range(const optimizer *o, float lr, float *params,
                                 const float *grads, size_t begin, size_t end);
void optimizer_count(optimizer *o);

/* Releases the state and the object (NULL is fine). */
void optimizer_free(optimizer *o);

/* The state tensors of a kind, named as in PyTorch's optimizer state
 * ("momentum_buffer", "sum", "square_avg", "exp_avg", "exp_avg_sq"), so that
 * checkpoints store them as "optimizer.exp_avg". */
int optimizer_state_count(soma_optimizer_kind kind);
const char *optimizer_state_name(soma_optimizer_kind kind, int i); /* NULL out of range */
/* State tensor i (0 or 1) of `o`, n floats of backend memory; NULL out of range. */
float *optimizer_state(optimizer *o, int i);

#endif

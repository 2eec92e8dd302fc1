/* One training step and evaluation passes, shared by soma_train, soma_evaluate
 * and soma_benchmark. */
#ifndef SOMA_TRAIN_STEP_H
#define SOMA_TRAIN_STEP_H

#include "nn/network.h"
#include "optim/optimizer.h"

/* Forward, loss, backward and the optimizer update on m->input_buf. */
void train_step(soma_model *m, optimizer *opt, float lr, int batch, const int32_t *labels,
                uint64_t seed, long long global_step, double *loss_sum, int *correct);

/* Evaluation-mode loss and accuracy over a whole dataset. */
soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy);

#endif

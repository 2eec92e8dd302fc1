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
} step_data;

/* Forward, loss, backward and the optimizer update of one batch. Its loss
 * sum and correct count stay on the device for network_metrics. */
soma_status train_step(soma_model *m, optimizer *opt, float lr, int batch,
                       const step_data *data, uint64_t seed, long long global_step);

/* What soma_evaluate and soma_evaluate_tta refuse: the batch, an empty
 * dataset, a model without input normalisation. */
soma_status evaluate_check_args(const soma_model *m, const soma_dataset *ds, int batch);
/* Samples of the model's input shape, labels within its classes. */
soma_status evaluate_check_fit(const soma_model *m, const soma_dataset *ds);

/* Evaluation-mode loss and accuracy over a whole dataset (checks the fit). */
soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy);

#endif

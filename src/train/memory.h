/*
 * What training a model needs in memory, stated before anything is
 * allocated (soma_train_memory_estimate, soma_train_memory_check in soma.h).
 */
#ifndef SOMA_TRAIN_MEMORY_H
#define SOMA_TRAIN_MEMORY_H

#include "soma.h"

/* The refusal for an estimate over its `available`: one line that names
 * the model, the batch, each part and what is available. */
soma_status memory_refusal(const soma_model *m, const soma_train_config *config,
                           const soma_memory_estimate *e);

#endif

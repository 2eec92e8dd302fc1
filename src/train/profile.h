/* Per-layer timing (soma train --profile). */
#ifndef SOMA_TRAIN_PROFILE_H
#define SOMA_TRAIN_PROFILE_H

#include "nn/network.h"

/* A table of forward/backward milliseconds per layer and their share; free(). */
char *profile_table(const soma_model *m, long long images);
void profile_reset(soma_model *m);

#endif

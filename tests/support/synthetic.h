/* A small synthetic classification set for training tests (no files needed). */
#ifndef SOMA_TESTS_SYNTHETIC_H
#define SOMA_TESTS_SYNTHETIC_H

#include <stdint.h>

#include "soma.h"

/* n noisy 1x8x8 images of three classes: bright top rows, bright left
 * columns, dark. `stream` picks an independent draw for the same seed. */
soma_dataset *synthetic_patterns(int n, uint64_t seed, uint64_t stream);

#endif

/*
 * `soma experiment NAME`: the lecture's pictures from real runs. Each
 * experiment writes its charts (SVG and PNG) and the CSV behind each into
 * its output directory, and prints what the charts show with the numbers
 * that show it. The shared parts are here.
 */
#ifndef SOMA_CLI_EXPERIMENT_H
#define SOMA_CLI_EXPERIMENT_H

#include "core/strbuf.h"
#include "soma.h"

typedef struct experiment_args {
    const char *out; /* the output directory (made if missing) */
    int quick;       /* CI-sized: fewer images and steps */
    uint64_t seed;
} experiment_args;

soma_status experiment_optimizers(const experiment_args *a);
soma_status experiment_init(const experiment_args *a);
soma_status experiment_dropout(const experiment_args *a);
soma_status experiment_batchnorm(const experiment_args *a);

/* Writes DIR/NAME from `sb` atomically and frees `sb`. */
soma_status experiment_write(const char *dir, const char *name, strbuf *sb);
/* The training split of Fashion-MNIST, or of MNIST (data/mnist, in the
 * repository) with a note on stdout when Fashion-MNIST is not installed;
 * *name says which. */
soma_status experiment_fashion(const char *split, soma_dataset **out, const char **name);
/* A seeded random subset of n samples of ds (all of it when n >= its size). */
soma_status experiment_subset(const soma_dataset *ds, int n, uint64_t seed, soma_dataset **out);

#endif

/* The options of `soma train`, parsed and checked, ready to fill a soma_train_config. */
#ifndef SOMA_CLI_TRAIN_OPTIONS_H
#define SOMA_CLI_TRAIN_OPTIONS_H

#include <stdint.h>

#include "soma.h"

typedef struct train_options {
    const char *model;
    const char *data;
    const char *out;    /* NULL: runs/<model>-<timestamp> (or the --resume checkpoint's directory) */
    const char *resume; /* NULL: fresh start */
    soma_train_config config; /* optimizer, schedule, epochs, batch, patience, seed, ... */
    int lr_given;
    soma_init init;
    const char *init_name;
    double val_split;
    int threads;
    int quiet;
} train_options;

/* Parses the arguments after "train". Returns -1 when they are fine, else
 * the exit status (0 after --help, 2 after a usage error, message printed). */
int train_options_parse(int argc, char **argv, train_options *out);

#endif

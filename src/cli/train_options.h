/* The options of `soma train`, resolved into the settings of a run. */
#ifndef SOMA_CLI_TRAIN_OPTIONS_H
#define SOMA_CLI_TRAIN_OPTIONS_H

#include <stdint.h>

#include "cli/run_settings.h"
#include "soma.h"

typedef struct train_options {
    /* every setting of the run: the defaults, or the --config file or the
     * --resume checkpoint, with the flags laid over them */
    run_settings s;
    soma_init init;      /* s.init, parsed */
    const char *out;     /* NULL: runs/<model>-<timestamp> (or the --resume checkpoint's directory) */
    const char *resume;  /* NULL: fresh start */
    const char *config;  /* the --config file, or NULL */
    run_position position; /* where the --resume checkpoint stands */
    int recorded_epochs;   /* the epochs its run was started with (or last resumed to) */
    const char *model_arg; /* MODEL as given, or NULL (a resume keeps s.model as recorded) */
    int legacy_resume;   /* the checkpoint records no settings: the flags are taken as given */
    int overwrite;       /* --overwrite: replace the run in --out */
    int threads;
    int tta;            /* --tta N: test-time augmentation copies (0: none) */
    const char *device; /* --device, checked against the build's; NULL: the default */
    int quiet;
    int profile;
    int overlap;         /* --overlap: bucketed gradient sums across processes */
    int skip_bad_images; /* --skip-bad-images */
} train_options;

/* Parses the arguments after "train" and resolves the settings (reading the
 * --config or --resume file). Returns -1 when all is fine, else the exit
 * status (0 after --help, 2 after a usage error, 1 after an error reading a
 * file; message printed). train_options_free releases what it holds either way. */
int train_options_parse(int argc, char **argv, train_options *out);
void train_options_free(train_options *o);

/* -1 when `tta` copies fit the run's canonical augmentation spec (25 at most,
 * 50 when it flips), else EXIT_USAGE after a message. */
int tta_check(const char *command, int tta, const char *augment);

#endif

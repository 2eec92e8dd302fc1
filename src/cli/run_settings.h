/*
 * Every setting that defines a training run, in one record: what `soma train`
 * resolves from its defaults, a --config file, a --resume checkpoint and its
 * flags. The same JSON object is stored in each checkpoint (metadata
 * "settings") and in summary.json ("settings"), so a run can be resumed with
 * exactly its settings and re-run with `soma train --config FILE`.
 */
#ifndef SOMA_CLI_RUN_SETTINGS_H
#define SOMA_CLI_RUN_SETTINGS_H

#include <stdint.h>

#include "io/json.h"
#include "soma.h"

typedef struct run_settings {
    char *model;      /* as named on the command line: a zoo name or a model file */
    char *data;       /* a dataset name or directory */
    double val_split; /* fraction of the training split held out for validation */
    char *init;       /* he, xavier or lecun */
    char *augment;    /* canonical augmentation spec (docs/augment.md), NULL: none */
    char *init_from;  /* the checkpoint whose weights the run started from (--init-from), or NULL */
    soma_train_config train; /* optimizer, schedule, epochs, batch, patience, seed,
                                checkpoint interval (its pointer fields are unused) */
    char *started_at; /* when the run began, UTC, ISO 8601 */
    char *command;    /* the command that began the run */
} run_settings;

/* Where a checkpoint stands, read with its settings. */
typedef struct run_position {
    int epoch;             /* epochs completed */
    int step;              /* steps completed within the next epoch */
    int epochs_since_best; /* for early stopping */
} run_position;

/* The defaults of `soma train` (model and command NULL). 0 or SOMA_ERR_MEMORY. */
soma_status run_settings_defaults(run_settings *s);
/* A deep copy. */
soma_status run_settings_copy(run_settings *dst, const run_settings *src);
void run_settings_free(run_settings *s);
/* Replaces a string field (NULL allowed) with a copy of `value`. */
soma_status run_settings_set(char **slot, const char *value);

/* The settings as one JSON object (malloc'd, NULL when out of memory). */
char *run_settings_to_json(const run_settings *s);
/* Reads the object written by run_settings_to_json; every key must be there
 * and known. `where` starts error messages. */
soma_status run_settings_from_json(const json_value *obj, const char *where, run_settings *s);

/*
 * Reads the settings stored in FILE: a checkpoint (metadata "settings"; its
 * position too when `pos` is not NULL) or a summary.json ("settings"). A
 * checkpoint written before settings were stored gives SOMA_ERR_UNSUPPORTED.
 */
soma_status run_settings_load(const char *path, run_settings *s, run_position *pos);

/* The value of the setting behind a `soma train` option ("seed", "lr", ...)
 * as text, for comparing and for messages; "" for an option that is not a
 * setting. */
void run_settings_option_text(const run_settings *s, const char *option, char *buf,
                              size_t size);

/* The `soma train` options that may differ when a run is resumed (NULL-terminated). */
extern const char *const resume_may_change[];
/* Makes `asked` the recorded settings, but for those resume_may_change lets
 * the command set (epochs, patience, checkpoint interval). */
soma_status run_settings_resumed(const run_settings *recorded, run_settings *asked);

#endif

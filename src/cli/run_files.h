/*
 * summary.json, which `soma train` writes atomically in its output directory
 * at the end of a run: the outcome and every setting (see metrics_csv.h for
 * the per-epoch rows).
 */
#ifndef SOMA_CLI_RUN_FILES_H
#define SOMA_CLI_RUN_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "soma.h"

/* What summary.json records. Doubles that are NaN are written as null. */
typedef struct run_summary {
    double test_accuracy, test_loss, test_error;
    int tta_copies;                           /* --tta N, 0 without */
    double test_accuracy_tta, test_loss_tta; /* NaN without --tta */
    int test_images;
    int epochs, epochs_run, best_epoch, stopped_early;
    double best_val_accuracy;
    size_t parameters;
    double wall_seconds, images_per_second;
    const char *model, *data, *data_source, *optimizer, *schedule;
    double lr;
    double weight_decay;
    int batch, threads, train_images, val_images;
    double threads_running; /* soma_train_result.threads_running */
    int processes;          /* training data-parallel over this many (mpirun -np) */
    const char *device;
    uint64_t seed;
    const char *command;    /* the command that began the run */
    const char *resumed_by; /* the command that finished it after a resume, or NULL */
    const char *init_from;  /* the checkpoint whose weights it started from, or NULL */
    const char *started_at;
    const char *settings;   /* the run's settings, a JSON object (run_settings_to_json) */
    double best_val_loss;
    const char *tested_checkpoint; /* the file holding the weights that were tested */
} run_summary;

soma_status summary_json_write(const char *dir, const run_summary *s);

/* Writes `len` bytes to `path` through a temporary file and a rename, so
 * readers see the old content or the new, never a part. */
soma_status cli_write_file_atomic(const char *path, const char *data, size_t len);

/* DIR + "/" + name, malloc'd (NULL when out of memory). */
char *cli_path_join(const char *dir, const char *name);

#endif

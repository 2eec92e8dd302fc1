/*
 * The files `soma train` writes in its output directory besides the
 * checkpoints: metrics.csv (one row per epoch, rewritten atomically as each
 * epoch ends, so an interrupted run keeps its rows) and summary.json (the
 * outcome, written atomically at the end).
 */
#ifndef SOMA_CLI_RUN_FILES_H
#define SOMA_CLI_RUN_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "soma.h"

#define METRICS_HEADER \
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_second\n"

typedef struct metrics_csv {
    char *path;
    strbuf rows;        /* data rows written so far (no header) */
    int drop_from_next; /* resumed: drop kept rows from the next row's epoch on */
} metrics_csv;

/* Starts DIR/metrics.csv. With `resume`, the rows already there are kept,
 * except those for epochs that the resumed run writes again. */
soma_status metrics_csv_open(metrics_csv *m, const char *dir, int resume);
/* Adds the row of an epoch that just ended and rewrites the file. */
soma_status metrics_csv_append(metrics_csv *m, const soma_progress *p);
void metrics_csv_close(metrics_csv *m);

/* What summary.json records. Doubles that are NaN are written as null. */
typedef struct run_summary {
    double test_accuracy, test_loss, test_error;
    int test_images;
    int epochs, epochs_run, best_epoch, stopped_early;
    double best_val_accuracy;
    size_t parameters;
    double wall_seconds, images_per_second;
    const char *model, *data, *data_source, *optimizer, *schedule;
    double lr;
    double weight_decay;
    int batch, threads, train_images, val_images;
    uint64_t seed;
    const char *command;
    const char *tested_checkpoint; /* the file holding the weights that were tested */
} run_summary;

soma_status summary_json_write(const char *dir, const run_summary *s);

/* Writes `len` bytes to `path` through a temporary file and a rename, so
 * readers see the old content or the new, never a part. */
soma_status cli_write_file_atomic(const char *path, const char *data, size_t len);

/* DIR + "/" + name, malloc'd (NULL when out of memory). */
char *cli_path_join(const char *dir, const char *name);

#endif

/*
 * What `soma report` reads from a run directory: metrics.csv and
 * summary.json (both required, read strictly), and where present steps.csv,
 * confusion.csv, misclassified.csv and .png, and the model of the tested
 * checkpoint.
 */
#ifndef SOMA_CLI_REPORT_DATA_H
#define SOMA_CLI_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "cli/steps_csv.h"
#include "io/json.h"

#define REPORT_MAX_CLASSES 1000
#define REPORT_MAX_FILE ((size_t)64 << 20)

typedef struct epoch_row {
    int epoch;
    double train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds, images_per_second;
} epoch_row;

typedef struct mistake_row {
    int index, truth, predicted;
    double confidence;
} mistake_row;

typedef struct run_record {
    char *dir, *name;     /* the directory, and its last component */
    epoch_row *epochs;
    int nepochs;
    json_value *summary;  /* summary.json */
    steps_log steps;      /* empty without steps.csv */
    int classes;          /* of confusion.csv; 0 without it */
    long long *confusion; /* [true][predicted] */
    char **class_names;   /* classes of them, from confusion.csv's header */
    mistake_row *mistakes;
    int nmistakes;
    uint8_t *grid_png;    /* misclassified.png, or NULL */
    size_t grid_len;
    int grid_w, grid_h;   /* its size in pixels */
    char *model_summary;  /* the tested checkpoint's layer table, or NULL */
} run_record;

/* Reads DIR; errors name the file and what is wrong with it. */
soma_status run_record_read(const char *dir, run_record *r);
void run_record_free(run_record *r);

#endif

/*
 * metrics.csv: one row per epoch, rewritten atomically as each epoch ends,
 * so an interrupted run keeps its rows. A resumed run reads the rows back,
 * strictly and with a size limit: a row that is not one soma wrote is an
 * error, never carried over.
 */
#ifndef SOMA_CLI_METRICS_CSV_H
#define SOMA_CLI_METRICS_CSV_H

#include <stddef.h>

#include "core/strbuf.h"
#include "soma.h"

#define METRICS_HEADER \
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_second\n"
/* 100,000 epochs of rows fit in well under this */
#define METRICS_MAX_BYTES ((size_t)16 << 20)

typedef struct metrics_csv {
    char *path;
    strbuf rows;        /* data rows written so far (no header) */
    int drop_from_next; /* resumed: drop kept rows from the next row's epoch on */
} metrics_csv;

/* Starts DIR/metrics.csv. With `resume_from` (a run directory), the rows of
 * its metrics.csv are kept, except those for epochs that the resumed run
 * writes again; a missing file counts as no rows. */
soma_status metrics_csv_open(metrics_csv *m, const char *dir, const char *resume_from);
/* Adds the row of an epoch that just ended and rewrites the file. */
soma_status metrics_csv_append(metrics_csv *m, const soma_progress *p);
void metrics_csv_close(metrics_csv *m);

/* Checks metrics.csv text (header and rows) and appends its rows to `rows`.
 * `name` starts error messages, which give the line: "NAME:3: ...". */
soma_status metrics_csv_parse(const char *text, size_t len, const char *name, strbuf *rows);

/* One field of a run's CSV files (metrics.csv, steps.csv): a finite number in
 * plain decimal or exponent form, or empty when `may_be_empty` (then NaN). */
int csv_number(const char *s, size_t n, int may_be_empty, double *out);

#endif

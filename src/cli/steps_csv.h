/*
 * steps.csv: one row per training step (step, epoch, loss, lr, grad_norm),
 * appended as each step ends and flushed before each checkpoint (the
 * report's `saving`) and at least every second, so that a killed run keeps
 * every row up to its last checkpoint, and a step costs no system call. A
 * resumed run keeps the rows before its first step and writes the rest
 * again, so its file equals the one an uninterrupted run writes.
 *
 * Bounded size: every step up to STEPS_DENSE, then every 10th up to ten
 * times that, every 100th up to a hundred times that, and so on (about
 * 9,000 rows per decade of steps). Which steps are kept depends on the step
 * number alone, so a resumed run keeps the same ones. A row is that step's
 * values, not an average over the steps left out.
 */
#ifndef SOMA_CLI_STEPS_CSV_H
#define SOMA_CLI_STEPS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "core/strbuf.h"
#include "soma.h"

#define STEPS_HEADER "step,epoch,loss,lr,grad_norm\n"
#define STEPS_DENSE 10000LL
/* far more than the thinned rows of any run reach */
#define STEPS_MAX_BYTES ((size_t)32 << 20)

typedef struct step_row {
    long long step; /* 1-based, over the whole run */
    int epoch;      /* 1-based */
    double loss;    /* the step's mean loss over its batch */
    double lr;
    double grad_norm; /* NaN (an empty field) when it was not finite */
} step_row;

typedef struct steps_log {
    step_row *rows;
    size_t n, cap;
} steps_log;

/* Whether step `step` (1-based) gets a row. */
int steps_csv_keeps(long long step);

/* Checks steps.csv text (the header, then rows of 5 numbers with steps
 * increasing) and appends its rows to `log`. A last row without its newline
 * (a run killed while writing it) is left out; any other bad row is an
 * error "NAME:LINE: ...". */
soma_status steps_csv_parse(const char *text, size_t len, const char *name, steps_log *log);
/* Reads and parses a file (size-limited). */
soma_status steps_csv_read(const char *path, steps_log *log);
void steps_log_free(steps_log *log);
/* A row as steps.csv holds it, newline included. */
void steps_csv_format(strbuf *sb, const step_row *r);

typedef struct steps_csv {
    char *path;
    FILE *file;     /* open for appending once the kept rows are written */
    steps_log kept; /* resumed: the old run's rows, until the first new step */
    int resumed;
    double flushed_at; /* cli_seconds() of the last flush */
} steps_csv;

/* Starts DIR/steps.csv; with `resume_from` (a run directory), its rows
 * before the resumed run's first step are kept (a missing file: none). */
soma_status steps_csv_open(steps_csv *s, const char *dir, const char *resume_from);
/* The row of a step that just ended (an epoch-end report adds none), and
 * the flush its `saving` asks for. */
soma_status steps_csv_append(steps_csv *s, const soma_progress *p);
void steps_csv_close(steps_csv *s);

#endif

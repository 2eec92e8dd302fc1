/*
 * How `soma train` shows progress. On a terminal (stderr is a tty), a bar
 * redrawn in place at most ten times a second; at each epoch end, one plain
 * line on stdout (the only output when stderr is not a terminal):
 *   epoch 3/10  loss 0.1234  acc 96.10%  val_loss 0.0567  val_acc 98.20%  lr 0.001  4.4s  13,600 img/s  *
 * where '*' marks a new best validation accuracy.
 */
#ifndef SOMA_CLI_PROGRESS_H
#define SOMA_CLI_PROGRESS_H

#include "soma.h"

typedef struct progress_view {
    int quiet;       /* print nothing */
    int live;        /* draw the bar on stderr */
    int profile;     /* print the per-layer table after each epoch */
    double last_draw; /* when the bar was last drawn (monotonic seconds) */
    int bar_visible;  /* a bar is on screen and must be erased before other output */
} progress_view;

void progress_init(progress_view *view, int quiet, int profile);
/* Called from the training callback: updates the bar or prints the epoch line. */
void progress_show(progress_view *view, const soma_progress *p);
/* Erases the bar, if one is shown (before printing anything else). */
void progress_clear(progress_view *view);

#endif

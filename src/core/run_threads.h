/* The thread count of the run on the calling thread (soma_train_config.threads). */
#ifndef SOMA_CORE_RUN_THREADS_H
#define SOMA_CORE_RUN_THREADS_H

/* Makes `threads` (0: none) the calling thread's count until the next call;
 * returns the one before, to be put back when the run ends. */
int run_threads_set(int threads);
/* The calling thread's run count, 0 outside a run that set one. */
int run_threads_get(void);

#endif

/* The thread count of the run on the calling thread (soma_train_config.threads). */
#ifndef SOMA_CORE_RUN_THREADS_H
#define SOMA_CORE_RUN_THREADS_H

/* Makes `threads` (0: none) the calling thread's count until the next call;
 * returns the one before, to be put back when the run ends. */
int run_threads_set(int threads);
/* The calling thread's run count, 0 outside a run that set one. */
int run_threads_get(void);

/* Of the run's threads, how many run its work now (0 or more than the run's
 * count: all of them). Work is still split for the run's count, so results
 * do not depend on it; train/thread_governor.c lowers it when other
 * programs keep a core busy. */
int run_live_set(int live);
int run_live_get(void);

#endif

/*
 * A run's thread count lives with the thread that runs it, not in a global:
 * two trainings started from two threads each keep their own count, and the
 * kernels they call (on that thread, or with one thread inside a slice) read
 * it without being passed it.
 */
#include "core/run_threads.h"

static _Thread_local int run_threads, run_live;

int run_threads_set(int threads)
{
    int before = run_threads;
    run_threads = threads;
    return before;
}

int run_threads_get(void) { return run_threads; }

int run_live_set(int live)
{
    int before = run_live;
    run_live = live;
    return before;
}

int run_live_get(void) { return run_live; }

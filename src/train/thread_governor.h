/*
 * How many of a run's threads run its steps, chosen from the steps' measured
 * times. On a machine where another program keeps a core busy, a thread
 * that shares that core makes every other thread wait for it at each
 * meeting point, and a step on all threads can take several times as long
 * as on one. The governor tries fewer threads when steps slow down, and more
 * again now and then, and keeps whichever runs more images per second.
 * Where the kernel says how busy the cores are (core/cpu_load.h), it also
 * starts on the threads there are free cores for, tries more only when
 * cores are free, and fewer as soon as other programs take one: a thread
 * on a busy core can make one step take many times a lone thread's.
 *
 * Results do not change with its choice: the work is still split into the
 * run's thread count of parts (cpu_parts), fewer threads just take several
 * parts each (run_live_set).
 */
#ifndef SOMA_TRAIN_THREAD_GOVERNOR_H
#define SOMA_TRAIN_THREAD_GOVERNOR_H

#define GOVERNOR_WINDOW 5 /* steps whose median speaks for the current count */
#define GOVERNOR_TRIAL 3  /* judged steps of a trial, after one to warm up */

typedef struct thread_governor {
    int threads;    /* the run's count: the most that may run */
    int live;       /* threads the steps run on now */
    int trial;      /* the count being tried for a few steps, 0 when none */
    int trial_warm; /* its first step, which warms up and is not judged, is done */
    double trial_times[GOVERNOR_TRIAL]; /* seconds per image of its judged steps */
    int trial_count;
    double trial_cost; /* seconds per image summed over all its steps */
    int trial_steps;
    double recent[GOVERNOR_WINDOW]; /* seconds per image of the latest steps at `live` */
    int nrecent, next_recent;
    double baseline;      /* the best median seen at `live` since it was chosen */
    long long steps;      /* steps recorded */
    long long settle;     /* no trial before this step: fresh times first */
    long long next_up;    /* step at which to try more threads again */
    long long up_every;   /* and the wait after that, doubled while more loses */
    long long next_down;  /* likewise for fewer threads, on a quiet machine */
    long long down_every;
    long long live_steps; /* sum over steps of the threads that ran them */
    double free;          /* cores other programs leave the run; below 0: unknown */
} thread_governor;

void governor_init(thread_governor *g, int threads);
/* The count for the next step; makes it the calling thread's live count. */
int governor_next(thread_governor *g);
/* The step just run took `seconds` for `images` images. */
void governor_record(thread_governor *g, double seconds, int images);
/* Cores other programs leave the run (below 0: unknown), as measured now.
 * Before the first step it sets the count to start on; later, a trial of
 * more threads waits until they have cores, a change to fewer cores than
 * threads starts a trial of fewer, and cores freeing up one of more. A look
 * while a trial runs is left out. */
void governor_set_free(thread_governor *g, double free_cores);
/* The mean number of threads that ran the recorded steps. */
double governor_mean_live(const thread_governor *g);

#endif

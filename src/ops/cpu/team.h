/*
 * A kernel's team of threads, or none. libgomp makes a futex call at the end
 * of every parallel region, even of one thread, and every kernel of a sliced
 * step runs on one thread in a region nested in its lane's (LeNet-5 on two
 * threads: 95 futex calls a step before this, 3 after; docs/design.md). So a
 * kernel that runs on one thread calls its work directly, with no region.
 */
#ifndef SOMA_OPS_CPU_TEAM_H
#define SOMA_OPS_CPU_TEAM_H

#include <omp.h>

/* fn(arg, t, team) on each thread t of a team of `threads` (the runtime may
 * give fewer: `team` says how many), or fn(arg, 0, 1) on the calling thread. */
static inline void cpu_team(int threads, void (*fn)(void *arg, int t, int team), void *arg)
{
    if (threads <= 1) {
        fn(arg, 0, 1);
        return;
    }
#pragma omp parallel num_threads(threads)
    fn(arg, omp_get_thread_num(), omp_get_num_threads());
}

/* The team's threads meet here (inside cpu_team's fn; nothing to wait for alone). */
static inline void cpu_team_barrier(int team)
{
    if (team > 1) {
#pragma omp barrier
    }
}

/* fn(arg, i) for each i in [0, n), split over `threads` as schedule(static)
 * splits a loop, or in order on the calling thread. */
static inline void cpu_team_for(int threads, int n, void (*fn)(void *arg, int i), void *arg)
{
    if (threads <= 1) {
        for (int i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int i = 0; i < n; i++)
        fn(arg, i);
}

#endif

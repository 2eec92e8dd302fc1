/*
 * Lanes on the CPU: one per thread. A training step of LeNet-5's size
 * split into one slice of samples per thread meets the other threads once
 * (before the gradients are summed), where a layer-by-layer step, each
 * kernel splitting its work, meets them at every layer: small layers leave
 * a thread waiting at each meeting.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "ops/cpu/cpu.h"

#define CPU_MAX_LANES 64     /* lanes of a step at most */
#define LANE_MIN_SAMPLES 4   /* samples per lane at least: fewer is all overhead */

static _Thread_local int in_lane;

int cpu_in_lane(void) { return in_lane; }

int cpu_lanes(int batch)
{
    int threads = cpu_parts(); /* not the live threads: the slices fix the sums */
    if (threads > CPU_MAX_LANES)
        threads = CPU_MAX_LANES;
    return threads < 2 || batch < LANE_MIN_SAMPLES * threads ? 1 : threads;
}

/* The first failure of a phase of the region, in lane (or part) order,
 * with its message (which soma_error left on the worker thread that failed). */
typedef struct lane_failure {
    soma_status status;
    int index;
    char message[1024];
} lane_failure;

/* A mutex of our own: an OpenMP critical section is a global symbol in
 * libsoma.so and a lock that the LLVM runtime never frees. */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

static void note(lane_failure *f, soma_status st, int index)
{
    if (st == SOMA_OK)
        return;
    pthread_mutex_lock(&failure_lock);
    if (f->status == SOMA_OK || index < f->index) {
        f->status = st;
        f->index = index;
        snprintf(f->message, sizeof f->message, "%s", soma_last_error());
    }
    pthread_mutex_unlock(&failure_lock);
}

soma_status cpu_run_lanes(int lanes, soma_status (*task)(void *arg, int lane),
                          soma_status (*finish)(void *arg, int part, int parts), void *arg)
{
    if (lanes < 1 || lanes > CPU_MAX_LANES)
        return soma_error(SOMA_ERR_ARGUMENT, "lanes must be in 1..%d, got %d", CPU_MAX_LANES,
                          lanes);
    /* Lanes are work, threads are the backend's: no more threads than run
     * now (cpu_threads). A thread may take several lanes (also should the
     * runtime give fewer threads: OMP_DYNAMIC, a thread limit); the lanes
     * and their sums stay the same. */
    int team = cpu_live_threads(lanes);
    int was = in_lane;
    if (team == 1) {
        /* The caller's thread takes every lane, in order. No region of one
         * thread: libgomp still makes a futex call at its barriers, and
         * every kernel's region inside it would be a nested team of its
         * own (team.h). */
        in_lane = 1;
        soma_status st = SOMA_OK;
        for (int s = 0; s < lanes && st == SOMA_OK; s++)
            st = task(arg, s);
        if (st == SOMA_OK && finish)
            st = finish(arg, 0, 1);
        in_lane = was;
        return st;
    }
    /* the tasks' failures, written before the barrier and read after it;
     * finish's, written after it */
    lane_failure failed = {SOMA_OK, 0, ""}, finish_failed = {SOMA_OK, 0, ""};
#pragma omp parallel num_threads(team)
    {
        int t = omp_get_thread_num(), threads = omp_get_num_threads();
        in_lane = 1;
        for (int s = t; s < lanes; s += threads)
            note(&failed, task(arg, s), s);
        if (finish) {
#pragma omp barrier
            /* a failed lane leaves the step unfinished: no partial update */
            if (failed.status == SOMA_OK)
                note(&finish_failed, finish(arg, t, threads), t);
        }
        in_lane = 0;
    }
    in_lane = was;
    const lane_failure *f = failed.status != SOMA_OK ? &failed : &finish_failed;
    if (f->status != SOMA_OK)
        return soma_error(f->status, "%s", f->message);
    return SOMA_OK;
}

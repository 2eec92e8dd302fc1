/*
 * The thread governor (thread_governor.h). A trial runs a few steps on
 * another count: half the threads when steps have slowed down (or, rarely,
 * just to check), twice as many now and then after a move down. The median
 * of the trial's seconds per image against the median of the latest steps
 * decides. A trial of more threads that is far slower from its first step
 * ends there, so that checking costs little while the machine stays busy,
 * and the wait before the next check doubles each time it loses, and is at
 * least 100 steps per step's worth of time the last one cost. Trials are
 * judged by their mean, not their median: one step stalled on a busy core
 * costs as much as many good ones, and the mean is what a run's speed is.
 * Where the free cores are known (governor_set_free), a trial of more
 * threads waits until they are there.
 */
#include "train/thread_governor.h"

#include <math.h>

#include "core/run_threads.h"

#define FIRST_CHECK 3       /* steps: the first (buffers, waking threads) and two timed */
#define SLOWER 1.3          /* a median this much above the best seen: try fewer */
#define BETTER 0.92         /* a trial must be this much faster to win */
#define ABANDON 2.0         /* a judged step of more threads this much slower ends the trial */
#define WARM_ABANDON 4.0    /* and a warm-up step this much slower (waking threads and moving
                             * data between caches cost less; a busy core far more) */
#define UP_FIRST 128        /* steps after a move down before trying more */
#define UP_MAX 4096
#define UP_COST_STEPS 100   /* steps between trials of more threads per step a lost one costs */
#define DOWN_FIRST 512      /* steps between checks of fewer threads on a steady machine */
#define DOWN_MAX 8192
#define FREE_MARGIN 0.6     /* n threads fit on n - this many free cores (the measure's noise) */

static double median(const double *v, int n)
{
    double s[GOVERNOR_WINDOW > GOVERNOR_TRIAL ? GOVERNOR_WINDOW : GOVERNOR_TRIAL];
    for (int i = 0; i < n; i++) { /* insertion sort: a handful of values */
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

void governor_init(thread_governor *g, int threads)
{
    *g = (thread_governor){0};
    g->threads = threads > 0 ? threads : 1;
    g->live = g->threads;
    g->baseline = INFINITY;
    g->up_every = UP_FIRST;
    g->down_every = DOWN_FIRST;
    g->next_down = FIRST_CHECK;
    g->free = -1.0;
}

static double mean(const double *v, int n)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    return sum / n;
}

static double current(const thread_governor *g) { return median(g->recent, g->nrecent); }

/* The count a trial of more threads tries: twice the live one, at most all. */
static int more_threads(const thread_governor *g)
{
    return g->live * 2 < g->threads ? g->live * 2 : g->threads;
}

/* Judge the current count by steps from now on only. */
static void fresh_times(thread_governor *g)
{
    g->nrecent = g->next_recent = 0;
    g->settle = g->steps + GOVERNOR_WINDOW;
}

/* Whether n threads would each have a core; unknown counts as yes. */
static int has_cores(const thread_governor *g, int n)
{
    return !(g->free >= 0.0) || g->free + FREE_MARGIN >= n;
}

static void start_trial(thread_governor *g, int count)
{
    g->trial = count;
    g->trial_warm = 0;
    g->trial_count = 0;
    g->trial_steps = 0;
    g->trial_cost = 0.0;
}

int governor_next(thread_governor *g)
{
    if (!g->trial && g->nrecent >= 2 && g->steps >= g->settle) {
        int more = more_threads(g);
        if (g->live > 1 && (g->steps >= g->next_down || current(g) > SLOWER * g->baseline))
            start_trial(g, (g->live + 1) / 2);
        else if (g->live < g->threads && g->steps >= g->next_up && has_cores(g, more))
            start_trial(g, more);
    }
    int n = g->trial ? g->trial : g->live;
    run_live_set(n < g->threads ? n : 0);
    return n;
}

/* Steps to wait before trying more threads again when the last trial (or
 * the move down) showed that trying costs `lost` steps' worth of time:
 * this keeps checking near 1% of the time. */
static long long up_wait(long long wait, double lost)
{
    double floor = UP_COST_STEPS * lost, w = floor > wait ? floor : wait; /* NaN: wait */
    return w < UP_MAX ? (long long)w : UP_MAX;
}

/* The trial is over: move to its count if its judged steps' mean won. */
static void end_trial(thread_governor *g, double trial_mean)
{
    double now = current(g);
    int up = g->trial > g->live;
    if (g->trial_count && trial_mean < BETTER * now) {
        g->live = g->trial;
        g->nrecent = g->next_recent = 0;
        g->baseline = INFINITY;
        /* fewer threads won by far: a step on more costs as much again */
        g->up_every = up ? UP_FIRST : up_wait(UP_FIRST, now / trial_mean - 1.0);
        g->next_up = g->steps + g->up_every;
        g->down_every = DOWN_FIRST, g->next_down = g->steps + DOWN_FIRST;
    } else if (up) {
        /* the trial's steps cost this many steps' worth over the current count */
        g->up_every = up_wait(g->up_every * 2, g->trial_cost / now - g->trial_steps);
        g->next_up = g->steps + g->up_every;
    } else {
        g->down_every = g->down_every * 2 < DOWN_MAX ? g->down_every * 2 : DOWN_MAX;
        g->next_down = g->steps + g->down_every;
        g->baseline = now; /* everything is slower now: no new trial for that */
    }
    g->trial = 0;
    g->settle = g->steps + GOVERNOR_WINDOW;
}

void governor_record(thread_governor *g, double seconds, int images)
{
    g->steps++;
    g->live_steps += g->trial ? g->trial : g->live;
    if (g->steps == 1 || images < 1 || !(seconds >= 0)) /* the first step sets up */
        return;
    double per = seconds / images;
    if (g->trial) {
        int up = g->trial > g->live;
        double now = current(g);
        g->trial_cost += per;
        g->trial_steps++;
        if (!g->trial_warm) { /* the first step on a new count warms up: not judged */
            g->trial_warm = 1;
            if (up && per > WARM_ABANDON * now)
                end_trial(g, per);
            return;
        }
        g->trial_times[g->trial_count++] = per;
        if ((up && per > ABANDON * now) || g->trial_count == GOVERNOR_TRIAL)
            end_trial(g, mean(g->trial_times, g->trial_count));
        return;
    }
    g->recent[g->next_recent] = per;
    g->next_recent = (g->next_recent + 1) % GOVERNOR_WINDOW;
    if (g->nrecent < GOVERNOR_WINDOW)
        g->nrecent++;
    if (g->nrecent >= 2 && current(g) < g->baseline)
        g->baseline = current(g);
}

void governor_set_free(thread_governor *g, double free_cores)
{
    if (g->trial)
        return; /* its steps' times speak; the next look sees what changed */
    int more = more_threads(g);
    int had = has_cores(g, g->live), had_more = has_cores(g, more);
    g->free = free_cores;
    if (!(free_cores >= 0.0))
        return;
    if (g->steps == 0) { /* start on the threads there are cores for */
        int n = (int)(free_cores + FREE_MARGIN);
        g->live = n < 1 ? 1 : n > g->threads ? g->threads : n;
        g->next_up = 0; /* and try more as soon as cores free up */
    } else if (had && !has_cores(g, g->live) && g->live > 1) {
        /* a core just got busy: check fewer against fresh times */
        g->next_down = g->steps;
        fresh_times(g);
    } else if (!had_more && has_cores(g, more) && g->live < g->threads) {
        /* cores just freed up: what the last trials showed is stale, and
         * the current count may be faster now too */
        g->up_every = UP_FIRST;
        g->next_up = g->steps;
        fresh_times(g);
    }
}

double governor_mean_live(const thread_governor *g)
{
    return g->steps ? (double)g->live_steps / g->steps : g->threads;
}

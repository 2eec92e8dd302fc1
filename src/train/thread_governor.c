/*
 * The thread governor (thread_governor.h). A trial runs a few steps on
 * another count: half the threads when steps have slowed down (or, rarely,
 * just to check), twice as many now and then after a move down. The median
 * of the trial's seconds per image against the median of the latest steps
 * decides. A trial of more threads that is far slower from its first step
 * ends there, so that checking costs little while the machine stays busy,
 * and the wait before the next check doubles each time it loses, and is at
 * least 100 steps per step's worth of time the last one cost.
 */
#include "train/thread_governor.h"

#include <math.h>

#include "core/run_threads.h"

#define TRIAL_STEPS 3
#define FIRST_CHECK 3       /* steps: the first (buffers, waking threads) and two timed */
#define SLOWER 1.3          /* a median this much above the best seen: try fewer */
#define BETTER 0.92         /* a trial must be this much faster to win */
#define ABANDON 2.0         /* a trial step this much slower ends the trial */
#define UP_FIRST 128        /* steps after a move down before trying more */
#define UP_MAX 4096
#define UP_COST_STEPS 100   /* steps between trials of more threads per step a lost one costs */
#define DOWN_FIRST 512      /* steps between checks of fewer threads on a steady machine */
#define DOWN_MAX 8192

static double median(const double *v, int n)
{
    double s[GOVERNOR_WINDOW > TRIAL_STEPS ? GOVERNOR_WINDOW : TRIAL_STEPS];
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
}

static double current(const thread_governor *g) { return median(g->recent, g->nrecent); }

static void start_trial(thread_governor *g, int count)
{
    g->trial = count;
    g->trial_left = TRIAL_STEPS;
    g->trial_count = 0;
}

int governor_next(thread_governor *g)
{
    if (!g->trial && g->nrecent >= 2 && g->steps >= g->settle) {
        if (g->live > 1 && (g->steps >= g->next_down || current(g) > SLOWER * g->baseline))
            start_trial(g, (g->live + 1) / 2);
        else if (g->live < g->threads && g->steps >= g->next_up)
            start_trial(g, g->live * 2 < g->threads ? g->live * 2 : g->threads);
    }
    int n = g->trial ? g->trial : g->live;
    run_live_set(n < g->threads ? n : 0);
    return n;
}

/* Steps to wait before trying more threads that ran `slower` times the
 * time per image of the current count: a lost trial costs about
 * (slower - 1) steps, so this keeps checking near 1% of the time. */
static long long up_wait(long long wait, double slower)
{
    double floor = UP_COST_STEPS * (slower - 1.0), w = floor > wait ? floor : wait; /* NaN: wait */
    return w < UP_MAX ? (long long)w : UP_MAX;
}

/* The trial is over: move to its count if it won. */
static void end_trial(thread_governor *g, double trial_median)
{
    double now = current(g);
    int up = g->trial > g->live;
    if (trial_median < BETTER * now) {
        g->live = g->trial;
        g->nrecent = g->next_recent = 0;
        g->baseline = INFINITY;
        /* fewer threads won by far: trying more again costs as much */
        g->up_every = up ? UP_FIRST : up_wait(UP_FIRST, now / trial_median);
        g->next_up = g->steps + g->up_every;
        g->down_every = DOWN_FIRST, g->next_down = g->steps + DOWN_FIRST;
    } else if (up) {
        g->up_every = up_wait(g->up_every * 2, trial_median / now);
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
        g->trial_times[g->trial_count++] = per;
        g->trial_left--;
        if (g->trial > g->live && g->trial_count == 1 && per > ABANDON * current(g))
            end_trial(g, per);
        else if (g->trial_left == 0)
            end_trial(g, median(g->trial_times, g->trial_count));
        return;
    }
    g->recent[g->next_recent] = per;
    g->next_recent = (g->next_recent + 1) % GOVERNOR_WINDOW;
    if (g->nrecent < GOVERNOR_WINDOW)
        g->nrecent++;
    if (g->nrecent >= 2 && current(g) < g->baseline)
        g->baseline = current(g);
}

double governor_mean_live(const thread_governor *g)
{
    return g->steps ? (double)g->live_steps / g->steps : g->threads;
}

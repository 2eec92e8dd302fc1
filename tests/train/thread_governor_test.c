/*
 * The thread governor (train/thread_governor.c).
 * 1. Fewer live threads do not change results: steps with the work split
 *    for 3 threads end with bit-identical weights whether 3, 2 or 1 of them
 *    run it, for a network split into slices and for one with batch
 *    normalisation (split kernel by kernel: the convolutions' filter
 *    gradients are summed per part, a wide linear layer's units split).
 * 2. Its choices, on simulated step times: it moves to one thread within a
 *    few steps when two are much slower (a busy core), back to two when the
 *    machine frees up, stays on two on a quiet machine with little time
 *    spent on trials, and ignores one slow step.
 * 3. With the free cores known: it starts on one thread when a core is busy
 *    and never tries two while it stays busy, tries two as soon as the core
 *    frees up (the first step on a new count, slow from waking threads, is
 *    not held against it), tries one as soon as a core gets busy even when
 *    two are only a little slower, and a wrong "busy" costs one trial, not
 *    one per look.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/run_threads.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "support/check.h"
#include "support/synthetic.h"
#include "train/step.h"
#include "train/thread_governor.h"

#define BATCH 25
#define STEPS 4

static const char *sliced_text =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=6 size=3 pad=1\nrelu\nmaxpool size=2\n"
    "conv2d filters=8 size=3 pad=1\nrelu\n"
    "flatten\nlinear units=16\nrelu\ndropout p=0.3\nlinear units=3\n";

static const char *batchnorm_text =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=6 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
    "conv2d filters=8 size=3 pad=1 groups=2\nbatchnorm\nrelu\n"
    "flatten\nlinear units=512\nbatchnorm\nrelu\nlinear units=3\n";

/* The weights after STEPS momentum steps, the work split for `parts`
 * threads and run on `live` of them. */
static float *run(const char *text, const soma_dataset *ds, int parts, int live, size_t *n)
{
    int threads_before = run_threads_set(parts), live_before = run_live_set(live);
    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "governed", &m) == SOMA_OK);
    CHECK(soma_model_init(m, SOMA_INIT_HE, 3) == SOMA_OK);
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK(network_plan(m, BATCH) == SOMA_OK);
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_MOMENTUM);
    optimizer *opt = NULL;
    CHECK(optimizer_create(m->be, &cfg, m->nparams, &opt) == SOMA_OK);
    int indices[BATCH];
    float *host = malloc(sizeof(float) * 64 * BATCH);
    int32_t labels[BATCH];
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < BATCH; i++)
            indices[i] = (s * 7 + i * 3) % soma_dataset_count(ds);
        step_data data = {.ds = ds, .indices = indices, .host = host, .labels = labels};
        CHECK(train_step(m, opt, 0.05f, BATCH, &data, 11, s, NULL) == SOMA_OK);
    }
    *n = m->nparams;
    float *params = malloc(sizeof(float) * m->nparams);
    memcpy(params, m->params, sizeof(float) * m->nparams);
    free(host);
    optimizer_free(opt);
    soma_model_free(m);
    run_live_set(live_before);
    run_threads_set(threads_before);
    return params;
}

static void check_live_invariance(const char *text, const char *what, const soma_dataset *ds)
{
    size_t n3, n;
    float *all = run(text, ds, 3, 0, &n3);
    for (int live = 1; live <= 2; live++) {
        float *fewer = run(text, ds, 3, live, &n);
        CHECK(n == n3);
        CHECK_MSG(memcmp(all, fewer, sizeof(float) * n) == 0,
                  "%s: 3 parts on %d live thread(s) differ from 3 on 3", what, live);
        free(fewer);
    }
    /* and the split matters, so the comparison above can fail */
    float *one = run(text, ds, 1, 0, &n);
    int differs = 0;
    for (size_t i = 0; i < n; i++)
        differs |= one[i] != all[i];
    CHECK_MSG(differs, "%s: 1 part and 3 parts gave the same bits: the test cannot tell", what);
    free(one);
    free(all);
}

/* Simulated machine: seconds per image of a step on `live` threads. */
typedef double (*speed_fn)(int live, long long step);

/* Runs `steps` governed steps; returns how many ran on one thread. */
static long long simulate(thread_governor *g, speed_fn speed, long long from, long long steps)
{
    long long on_one = 0;
    for (long long s = from; s < from + steps; s++) {
        int live = governor_next(g);
        on_one += live == 1;
        governor_record(g, speed(live, s) * 32, 32);
    }
    run_live_set(0);
    return on_one;
}

/* quiet: two threads take 0.55 of one's time */
static double quiet(int live, long long step)
{
    (void)step;
    return live == 2 ? 0.55e-5 : 1e-5;
}

/* a busy core: two threads take 8 times one's */
static double busy(int live, long long step)
{
    (void)step;
    return live == 2 ? 8e-5 : 1e-5;
}

/* quiet with one slow step in 50 */
static double hiccups(int live, long long step)
{
    return quiet(live, step) * (step % 50 == 25 ? 4.0 : 1.0);
}

static void check_choices(void)
{
    thread_governor g;
    /* a quiet machine: two threads, trials cost under 1% of the steps */
    governor_init(&g, 2);
    long long on_one = simulate(&g, quiet, 0, 5000);
    CHECK(g.live == 2);
    CHECK_MSG(on_one < 50, "%lld of 5000 steps on one thread on a quiet machine", on_one);
    /* a core gets busy: one thread within a dozen steps */
    simulate(&g, busy, 5000, 12);
    CHECK_MSG(g.live == 1, "still on %d threads 12 steps after a core got busy", g.live);
    /* it stays busy: trials of two threads cost little (each ends after one step) */
    double before = governor_mean_live(&g) * g.steps;
    simulate(&g, busy, 5012, 4000);
    double trial_steps = governor_mean_live(&g) * g.steps - before - 4000;
    CHECK_MSG(trial_steps <= 12, "%.0f steps on two threads while a core was busy", trial_steps);
    /* it frees up: back on two threads within the longest wait between trials */
    simulate(&g, quiet, 9012, 4096 + 10);
    CHECK(g.live == 2);

    /* busy from the start: one thread after the first check */
    governor_init(&g, 2);
    simulate(&g, busy, 0, 8);
    CHECK(g.live == 1);
    /* and over an epoch of LeNet-5's length, trials of two threads (8 times
     * slower) wait long enough to cost about 1%: the first check's steps and
     * one trial (a wait that only doubled from 128 steps made three) */
    simulate(&g, busy, 8, 992);
    double two = governor_mean_live(&g) * g.steps - g.steps;
    CHECK_MSG(two <= 4, "%.0f of the first 1000 steps on two threads while a core was busy", two);

    /* one slow step now and then is not a busy core */
    governor_init(&g, 2);
    on_one = simulate(&g, hiccups, 0, 5000);
    CHECK(g.live == 2);
    CHECK_MSG(on_one < 250, "%lld of 5000 steps on one thread with rare slow steps", on_one);

    /* one thread: nothing to choose */
    governor_init(&g, 1);
    simulate(&g, busy, 0, 100);
    CHECK(g.live == 1 && governor_mean_live(&g) == 1.0);
}

/* As simulate, telling the governor `free` cores every 100 steps (and
 * before the first). */
static long long simulate_free(thread_governor *g, speed_fn speed, long long from,
                               long long steps, double free)
{
    long long on_one = 0;
    for (long long s = from; s < from + steps; s++) {
        if (s % 100 == 0)
            governor_set_free(g, free);
        int live = governor_next(g);
        on_one += live == 1;
        governor_record(g, speed(live, s) * 32, 32);
    }
    run_live_set(0);
    return on_one;
}

/* quiet, but the first step after a change of thread count takes twice a
 * lone thread's time (threads waking up, data in the other core's cache) */
static int last_live;
static double cold_start(int live, long long step)
{
    double t = live != last_live ? 2.1e-5 : quiet(live, step);
    last_live = live;
    return t;
}

/* a core is a little busy: two threads take 1.2 times one's, too little to
 * look like a slowdown */
static double a_little_busy(int live, long long step)
{
    (void)step;
    return live == 2 ? 1.2e-5 : 1e-5;
}

static void check_free_cores(void)
{
    thread_governor g;
    /* a core busy from the start: one thread from the first step, and no
     * trial of two while the core stays busy */
    governor_init(&g, 2);
    long long on_one = simulate_free(&g, busy, 0, 2000, 1.0);
    CHECK_MSG(on_one == 2000, "%lld of 2000 steps on two threads with a core busy", 2000 - on_one);
    /* it frees up: two threads at the next look, although the first step on
     * them is twice as slow as one thread's */
    last_live = 1;
    simulate_free(&g, cold_start, 2000, 110, 2.0);
    CHECK_MSG(g.live == 2, "still on %d thread(s) 110 steps after the cores freed up", g.live);
    /* a core gets a little busy: one thread at the next look */
    simulate_free(&g, a_little_busy, 2200, 10, 1.0);
    CHECK_MSG(g.live == 1, "still on %d threads 10 steps after a core got busy", g.live);

    /* a wrong look ("busy" while two threads are faster): one trial of one
     * thread when the look changes, not one per look */
    governor_init(&g, 2);
    simulate_free(&g, quiet, 0, 1000, 2.0);
    CHECK(g.live == 2);
    on_one = simulate_free(&g, quiet, 1000, 2000, 1.0);
    CHECK(g.live == 2);
    CHECK_MSG(on_one <= 12, "%lld of 2000 steps on one thread after one wrong look", on_one);

    /* looks at every step, changing often, also while trials run: the
     * governor keeps to its counts (and, under AddressSanitizer, to its
     * arrays) */
    for (int period = 1; period <= 9; period++) {
        governor_init(&g, 2);
        for (long long s = 0; s < 600; s++) {
            governor_set_free(&g, (s / period) % 2 ? 1.0 : 2.0);
            int live = governor_next(&g);
            CHECK(live == 1 || live == 2);
            governor_record(&g, (s % 5 ? quiet(live, s) : busy(live, s)) * 32, 32);
        }
        run_live_set(0);
    }

    /* unknown (below 0): as without a look, all threads to start */
    governor_init(&g, 2);
    governor_set_free(&g, -1.0);
    CHECK(governor_next(&g) == 2);
    run_live_set(0);
}

int main(void)
{
    soma_dataset *ds = synthetic_patterns(100, 5, 1);
    check_live_invariance(sliced_text, "sliced network", ds);
    check_live_invariance(batchnorm_text, "batch-normalised network", ds);
    soma_dataset_free(ds);
    check_choices();
    check_free_cores();
    return check_finish("thread_governor_test");
}

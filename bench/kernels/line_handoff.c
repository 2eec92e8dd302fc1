/*
 * What it costs one core to touch cache lines another core used last: the
 * traffic of a 2-thread sliced step (train/step.c), where each core reads
 * the weights the other updated and sums the gradients the other wrote.
 *
 * CPU 1 prepares a buffer (writes it, or reads it after CPU 0 wrote it),
 * then CPU 0 times one pass over it; the median of the rounds, in us.
 *
 *   line_handoff [FLOATS [ROUNDS]]   (default: LeNet-5's 61,706 parameters, 400)
 *
 * Rows: reading lines modified in the other core; writing them; adding into
 * them (load then store of each line); writing lines both cores hold shared
 * (both read them since the last write: what an update of weights that
 * both slices read does); the same with a load first; writing lines only
 * this core holds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OTHER_WRITES, OTHER_READS, STOP };

static float *buf;
static size_t n;
static _Atomic int task = -1, done;
static volatile float sink, fill_value = 2.0f;

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static float sum(const float *x)
{
    float s[16] = {0};
    for (size_t i = 0; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            s[k] += x[i + k];
    float t = 0.0f;
    for (int k = 0; k < 16; k++)
        t += s[k];
    return t;
}

/* CPU 1: waits for a task, does it, says so */
static void *other_core(void *arg)
{
    (void)arg;
    if (pin(1) != 0)
        fprintf(stderr, "line_handoff: cannot pin to CPU 1\n");
    for (;;) {
        int t;
        while ((t = atomic_load(&task)) < 0)
            ;
        if (t == STOP)
            return NULL;
        if (t == OTHER_WRITES)
            for (size_t i = 0; i < n; i++)
                buf[i] = buf[i] * 0.5f + 1.0f;
        else
            sink = sum(buf);
        atomic_store(&task, -1);
        atomic_store(&done, 1);
    }
}

static void on_other(int t)
{
    atomic_store(&done, 0);
    atomic_store(&task, t);
    while (!atomic_load(&done))
        ;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    n = argc > 1 ? strtoul(argv[1], NULL, 10) : 61706;
    int rounds = argc > 2 ? atoi(argv[2]) : 400;
    if (n < 16 || n > (1u << 26) || rounds < 1 || rounds > 100000) {
        fprintf(stderr, "usage: line_handoff [FLOATS (16..2^26) [ROUNDS (1..100000)]]\n");
        return 2;
    }
    buf = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    double *times = malloc(sizeof(double) * (size_t)rounds);
    pthread_t thread;
    if (!buf || !times || pin(0) != 0 || pthread_create(&thread, NULL, other_core, NULL) != 0) {
        fprintf(stderr, "line_handoff: needs memory and CPUs 0 and 1\n");
        return 1;
    }
    memset(buf, 0, n * sizeof(float));
    static const char *rows[] = {
        "read, modified in the other core",  "write, modified in the other core",
        "add into, modified in the other core", "write, shared by both cores",
        "add into, shared by both cores",     "write, this core's alone",
    };
    printf("%zu floats (%.0f KB), CPU 0 after CPU 1, median of %d rounds\n", n,
           n * sizeof(float) / 1024.0, rounds);
    for (int row = 0; row < 6; row++) {
        for (int r = 0; r < rounds; r++) {
            if (row == 5) {
                memset(buf, 0, n * sizeof(float));
            } else if (row >= 3) {
                memset(buf, 0, n * sizeof(float)); /* this core writes, both read */
                sink = sum(buf);
                on_other(OTHER_READS);
            } else {
                on_other(OTHER_WRITES);
            }
            float value = fill_value;
            double t0 = now_us();
            if (row == 0)
                sink = sum(buf);
            else if (row == 2 || row == 4)
                for (size_t i = 0; i < n; i++)
                    buf[i] += 1.0f;
            else
                for (size_t i = 0; i < n; i++)
                    buf[i] = value;
            times[r] = now_us() - t0;
        }
        qsort(times, (size_t)rounds, sizeof *times, cmp);
        printf("  %-40s %7.1f us\n", rows[row], times[rounds / 2]);
    }
    atomic_store(&task, STOP);
    pthread_join(thread, NULL);
    free(times);
    free(buf);
    return 0;
}

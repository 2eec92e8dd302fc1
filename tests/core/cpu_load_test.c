/*
 * What other programs take of the cores (core/cpu_load.c), against a child
 * process that keeps a core busy and a thread of this process that does:
 * the child counts, this process's own work does not. Both measures are
 * compared with and without the child rather than with fixed values, so
 * that a little background load on the machine cannot fail the test
 * (CTest runs it alone: RUN_SERIAL).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cpu_load.h"
#include "support/check.h"

#define SPIN_SECONDS 0.4

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static atomic_int spinning;

static void *spin(void *arg)
{
    (void)arg;
    volatile unsigned long x = 0;
    while (atomic_load(&spinning))
        x++;
    return NULL;
}

/* The most cores an instant look saw free in 5 looks 10 ms apart: a task
 * of another program runnable for a moment (a daemon waking up) is gone in
 * some of them; the spinning thread or child of the test is in all. */
static double free_now_most(void)
{
    double most = cpu_load_free_now();
    for (int i = 0; i < 4; i++) {
        sleep_seconds(0.01);
        double f = cpu_load_free_now();
        most = f > most ? f : most;
    }
    return most;
}

/* Cores left free while a thread of this process spins: at an instant
 * (*now) and over SPIN_SECONDS. */
static double free_while_own_thread_spins(double *now)
{
    pthread_t t;
    atomic_store(&spinning, 1);
    CHECK(pthread_create(&t, NULL, spin, NULL) == 0);
    sleep_seconds(0.05); /* let it start */
    *now = free_now_most();
    cpu_load l;
    cpu_load_start(&l);
    sleep_seconds(SPIN_SECONDS);
    double free = cpu_load_free_since(&l);
    atomic_store(&spinning, 0);
    pthread_join(t, NULL);
    return free;
}

int main(void)
{
#ifdef __linux__
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double own_now, own = free_while_own_thread_spins(&own_now);
    CHECK_MSG(own >= 0.0 && own <= cpus + 0.01, "free cores %.2f of %ld", own, cpus);

    pid_t child = fork();
    if (child == 0) { /* another program that keeps a core busy */
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    CHECK(child > 0);
    sleep_seconds(0.05); /* let it start */
    double now = free_now_most();
    cpu_load l;
    cpu_load_start(&l);
    sleep_seconds(SPIN_SECONDS);
    CHECK_CLOSE(cpu_load_elapsed(&l), SPIN_SECONDS, 0.5);
    double other = cpu_load_free_since(&l);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    /* the child is runnable at every look, this process's thread is too but
     * does not count: one core fewer now */
    CHECK_MSG(now >= 0.0 && now <= cpus - 1 + 0.01, "free now %.2f of %ld with a busy child",
              now, cpus);
    if (own_now >= 1.0)
        CHECK_MSG(own_now - now >= 0.99,
                  "free now: %.2f while this process spins, %.2f while another does", own_now,
                  now);
    else /* other programs took every core already: the child cannot lower it further */
        fprintf(stderr, "cpu_load_test: no core free even without the child: instant look not "
                        "compared\n");
    /* and over the interval it took about a core that this process's own
     * spinning thread did not */
    CHECK_MSG(other >= 0.0 && own - other >= 0.6,
              "free cores: %.2f while this process spins, %.2f while another does", own,
              other);
    /* the look started the next interval: it is fresh */
    CHECK_MSG(cpu_load_elapsed(&l) < SPIN_SECONDS / 4, "%.3f s since the last look",
              cpu_load_elapsed(&l));
#else
    cpu_load l;
    cpu_load_start(&l);
    CHECK(cpu_load_free_now() < 0.0 && cpu_load_free_since(&l) < 0.0);
#endif
    return check_finish("cpu_load_test");
}

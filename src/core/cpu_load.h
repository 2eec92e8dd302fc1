/*
 * How much of the CPUs this process may run on other programs take, from
 * what the kernel says (Linux /proc; elsewhere nothing is known). The thread
 * governor (train/thread_governor.h) asks before it puts a thread on a core
 * that something else keeps busy: such a thread stalls the whole team at
 * every meeting point, and one step on it can take many times a lone thread's.
 */
#ifndef SOMA_CORE_CPU_LOAD_H
#define SOMA_CORE_CPU_LOAD_H

typedef struct cpu_load {
    unsigned long long busy; /* clock ticks the CPUs of this process's mask were busy */
    double own;              /* this process's CPU seconds */
    double wall;             /* seconds, monotonic */
    int cpus;                /* CPUs in the mask; 0: unknown (then nothing is measured) */
} cpu_load;

/* Cores of the mask that no other program runs on at this instant: the mask's
 * CPUs less the runnable tasks that are not this process's (the least of a
 * few looks, so that a task passing by does not count). Below 0: unknown,
 * also when the mask leaves out some of the machine's CPUs (the count of
 * runnable tasks is the whole machine's). */
double cpu_load_free_now(void);

/* Starts measuring over an interval. */
void cpu_load_start(cpu_load *l);
/* Seconds since the interval started. */
double cpu_load_elapsed(const cpu_load *l);
/* Cores of the mask that other programs left free on average since the
 * interval started (busy time, including time a hypervisor stole, less this
 * process's own), then starts the next interval. Below 0: unknown. The
 * kernel counts in clock ticks (10 ms): intervals of a quarter of a second
 * or more measure within about a tenth of a core. */
double cpu_load_free_since(cpu_load *l);

#endif

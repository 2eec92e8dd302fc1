/* What other programs take of this process's CPUs: see cpu_load.h. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ISSET */
#include "core/cpu_load.h"

#include <time.h>

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    return clock_gettime(id, &ts) == 0 ? ts.tv_sec + 1e-9 * ts.tv_nsec : 0.0;
}

double cpu_load_elapsed(const cpu_load *l)
{
    return clock_seconds(CLOCK_MONOTONIC) - l->wall;
}

#ifdef __linux__
#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOOKS 3             /* instant looks at the runnable tasks */
#define LOOK_GAP_NS 200000  /* between them */

static int mask_cpus(cpu_set_t *set)
{
    CPU_ZERO(set);
    return sched_getaffinity(0, sizeof *set, set) == 0 ? CPU_COUNT(set) : 0;
}

/* Clock ticks the CPUs of `set` have been busy since boot (user, nice,
 * system, irq, softirq and steal; guest time is inside user); the number of
 * them /proc/stat lists, 0 if unreadable. */
static int mask_busy(const cpu_set_t *set, unsigned long long *busy)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[512];
    int seen = 0;
    *busy = 0;
    while (fgets(line, sizeof line, f) && strncmp(line, "cpu", 3) == 0) { /* they come first */
        char *end;
        long cpu = strtol(line + 3, &end, 10);
        if (end == line + 3 || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, set))
            continue; /* the total line, or a CPU this process may not use */
        unsigned long long v[8] = {0}; /* user nice system idle iowait irq softirq steal */
        if (sscanf(end, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) < 4) {
            seen = 0;
            break;
        }
        *busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        seen++;
    }
    fclose(f);
    return seen;
}

/* The machine's runnable tasks now (/proc/loadavg's fourth field), -1 if unknown. */
static int runnable_tasks(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return -1;
    int running = -1;
    if (fscanf(f, "%*f %*f %*f %d/", &running) != 1)
        running = -1;
    fclose(f);
    return running;
}

/* This process's runnable threads now, -1 if unknown. */
static int own_runnable(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return -1;
    int running = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        char path[64], text[256];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* the thread ended meanwhile */
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        const char *paren = strrchr(text, ')'); /* the name may hold anything */
        running += paren && paren[1] == ' ' && paren[2] == 'R';
    }
    closedir(dir);
    return running;
}

double cpu_load_free_now(void)
{
    cpu_set_t set;
    int cpus = mask_cpus(&set);
    if (cpus <= 0 || cpus != sysconf(_SC_NPROCESSORS_ONLN))
        return -1.0;
    int least = INT_MAX;
    for (int look = 0; look < LOOKS; look++) {
        if (look)
            nanosleep(&(struct timespec){0, LOOK_GAP_NS}, NULL);
        int running = runnable_tasks(), own = own_runnable();
        if (running < 0 || own < 0)
            return -1.0;
        int others = running > own ? running - own : 0;
        least = others < least ? others : least;
    }
    return least < cpus ? cpus - least : 0.0;
}

void cpu_load_start(cpu_load *l)
{
    cpu_set_t set;
    int cpus = mask_cpus(&set);
    *l = (cpu_load){0};
    l->wall = clock_seconds(CLOCK_MONOTONIC);
    l->own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (cpus > 0 && mask_busy(&set, &l->busy) == cpus)
        l->cpus = cpus;
}

double cpu_load_free_since(cpu_load *l)
{
    cpu_load now;
    cpu_load_start(&now);
    double free = -1.0, seconds = now.wall - l->wall, ticks = (double)sysconf(_SC_CLK_TCK);
    if (l->cpus > 0 && now.cpus == l->cpus && seconds > 0.0 && ticks > 0.0 &&
        now.busy >= l->busy) {
        double others = ((now.busy - l->busy) / ticks - (now.own - l->own)) / seconds;
        others = others < 0.0 ? 0.0 : others; /* ticks are coarser than our own clock */
        free = others < l->cpus ? l->cpus - others : 0.0;
    }
    *l = now;
    return free;
}

#else /* no /proc: nothing is known, and the governor goes by step times alone */

double cpu_load_free_now(void) { return -1.0; }

void cpu_load_start(cpu_load *l)
{
    *l = (cpu_load){0};
    l->wall = clock_seconds(CLOCK_MONOTONIC);
}

double cpu_load_free_since(cpu_load *l)
{
    cpu_load_start(l);
    return -1.0;
}

#endif

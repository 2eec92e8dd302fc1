/* A trial start of the thread pool that --threads asks for. */
#include "cli/thread_check.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/error.h"

/* OMP_STACKSIZE as libgomp reads it: a number, then B, K, M or G (K if none). 0 if unset or unreadable. */
static size_t omp_stack_size(void)
{
    const char *s = getenv("OMP_STACKSIZE");
    if (!s)
        s = getenv("GOMP_STACKSIZE");
    if (!s)
        return 0;
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    unsigned long long unit = 1024;
    switch (toupper((unsigned char)*end)) {
    case 'B': unit = 1; break;
    case 'K': unit = 1024; break;
    case 'M': unit = 1024ull * 1024; break;
    case 'G': unit = 1024ull * 1024 * 1024; break;
    case '\0': break;
    default: return 0;
    }
    if (v > (unsigned long long)SIZE_MAX / unit)
        return 0;
    return (size_t)(v * unit);
}

static pthread_rwlock_t hold = PTHREAD_RWLOCK_INITIALIZER;

/* Waits until the main thread has started them all. */
static void *wait_for_all(void *unused)
{
    (void)unused;
    pthread_rwlock_rdlock(&hold);
    pthread_rwlock_unlock(&hold);
    return NULL;
}

int threads_check(int threads)
{
    if (threads <= 1)
        return -1;
    pthread_t *ids = malloc(sizeof(pthread_t) * (size_t)threads);
    if (!ids)
        return report_error(soma_error(SOMA_ERR_MEMORY, "--threads %d: out of memory", threads));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    size_t stack = omp_stack_size();
    if (stack)
        pthread_attr_setstacksize(&attr, stack);
    pthread_rwlock_wrlock(&hold);
    int started = 0, err = 0;
    while (started < threads - 1 &&
           (err = pthread_create(&ids[started], &attr, wait_for_all, NULL)) == 0)
        started++;
    pthread_rwlock_unlock(&hold);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    pthread_attr_destroy(&attr);
    free(ids);
    if (!err)
        return -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return report_error(soma_error(SOMA_ERR_UNSUPPORTED,
                                   "--threads %d: cannot start %d threads here (%s after %d); "
                                   "this machine has %ld cores, and --threads 0 uses them all",
                                   threads, threads, strerror(err), started + 1, cores));
}

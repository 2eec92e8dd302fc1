/* Static splitting of [0, n) over threads: the same split for the same thread
 * count, so reductions happen in a fixed order and results are reproducible. */
#ifndef SOMA_CORE_PARTITION_H
#define SOMA_CORE_PARTITION_H

static inline void partition(int n, int parts, int part, int *begin, int *end)
{
    long long b = (long long)n * part / parts, e = (long long)n * (part + 1) / parts;
    *begin = (int)b;
    *end = (int)e;
}

#endif

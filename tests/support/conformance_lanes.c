/*
 * Conformance of what the step's lanes use: add (the lanes' gradient sum),
 * lanes(batch) and run_lanes (every lane once, finish after all of them over
 * parts of its own split, failures carried back with their message, no
 * finish after a failed lane).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "support/conformance.h"

static void check_add(const conf_target *t, size_t n, int index)
{
    const soma_backend *be = t->be;
    float *dst = host_normal(n, 80 + index, 3.0f), *src = host_normal(n, 90 + index, 0.5f);
    CONF_FOR_THREADS(t, ti) {
        conf_case k;
        case_begin(&k, t, "add", "n%zu, %d thread%s", n, t->threads[ti],
                   t->threads[ti] == 1 ? "" : "s");
        float *d_dst = dev_from_host(be, dst, n), *d_src = dev_from_host(be, src, n);
        case_status(&k, run_add(be, d_dst, d_src, n), "add");
        float *got = host_from_dev(be, d_dst, n), *src_after = host_from_dev(be, d_src, n);
        float *want = host_floats(n);
        for (size_t i = 0; i < n; i++)
            want[i] = dst[i] + src[i]; /* one correctly rounded addition */
        case_same_bits(&k, "sum", got, want, sizeof(float) * n);
        case_same_bits(&k, "source", src_after, src, sizeof(float) * n);
        case_end(&k);
        free(got), free(src_after), free(want);
        dev_release(be, d_dst), dev_release(be, d_src);
    }
    free(dst), free(src);
}

/* What the tasks and finish calls of one run_lanes saw. */
typedef struct lane_log {
    int lanes, fail_lane; /* fail_lane: the lane that fails, or -1 */
    atomic_int task_calls[64], tasks_done, finish_calls, finish_early, parts_seen;
    atomic_int part_calls[64];
} lane_log;

static soma_status log_task(void *arg, int lane)
{
    lane_log *g = arg;
    if (lane >= 0 && lane < 64)
        atomic_fetch_add(&g->task_calls[lane], 1);
    atomic_fetch_add(&g->tasks_done, 1);
    if (lane == g->fail_lane)
        return soma_error(SOMA_ERR_IO, "lane %d failed on purpose", lane);
    return SOMA_OK;
}

static soma_status log_finish(void *arg, int part, int parts)
{
    lane_log *g = arg;
    atomic_fetch_add(&g->finish_calls, 1);
    if (atomic_load(&g->tasks_done) != g->lanes)
        atomic_fetch_add(&g->finish_early, 1);
    atomic_store(&g->parts_seen, parts);
    if (part >= 0 && part < 64)
        atomic_fetch_add(&g->part_calls[part], 1);
    return SOMA_OK;
}

static void check_run_lanes(const conf_target *t, int lanes, int fail_lane)
{
    CONF_FOR_THREADS(t, ti) {
        conf_case k;
        case_begin(&k, t, "run_lanes", "%d lane%s%s, %d thread%s", lanes, lanes == 1 ? "" : "s",
                   fail_lane >= 0 ? ", one failing" : "", t->threads[ti],
                   t->threads[ti] == 1 ? "" : "s");
        lane_log *g = calloc(1, sizeof *g);
        g->lanes = lanes, g->fail_lane = fail_lane;
        soma_error_clear();
        soma_status st = run_lanes(t->be, lanes, log_task, log_finish, g);
        for (int l = 0; l < lanes; l++)
            case_require(&k, atomic_load(&g->task_calls[l]) == 1, "lane %d ran %d times", l,
                         atomic_load(&g->task_calls[l]));
        if (fail_lane < 0) {
            case_status(&k, st, "run_lanes");
            int parts = atomic_load(&g->parts_seen);
            case_require(&k, parts >= 1 && atomic_load(&g->finish_calls) == parts,
                         "finish ran %d times for %d parts", atomic_load(&g->finish_calls), parts);
            for (int p = 0; p < parts && p < 64; p++)
                case_require(&k, atomic_load(&g->part_calls[p]) == 1, "part %d ran %d times", p,
                             atomic_load(&g->part_calls[p]));
            case_require(&k, atomic_load(&g->finish_early) == 0,
                         "finish ran before every lane was done");
        } else {
            char want[64];
            snprintf(want, sizeof want, "lane %d failed on purpose", fail_lane);
            case_require(&k, st == SOMA_ERR_IO, "status %s, expected i/o error",
                         soma_status_name(st));
            case_require(&k, strcmp(soma_last_error(), want) == 0,
                         "message '%s' on the caller's thread", soma_last_error());
            case_require(&k, atomic_load(&g->finish_calls) == 0,
                         "finish ran %d times after a failed lane",
                         atomic_load(&g->finish_calls));
        }
        case_end(&k);
        free(g);
    }
}

void conf_lanes(const conf_target *t)
{
    check_add(t, 17, 0);
    check_add(t, 70001, 1); /* split over threads */
    CONF_FOR_THREADS(t, ti) {
        conf_case k;
        case_begin(&k, t, "lanes", "batches 1..4096, %d thread%s", t->threads[ti],
                   t->threads[ti] == 1 ? "" : "s");
        for (int batch = 1; batch <= 4096; batch *= 2) {
            int n = run_lanes_for(t->be, batch);
            case_require(&k, n >= 1 && n <= batch && n <= 64, "lanes(%d) = %d", batch, n);
        }
        case_end(&k);
    }
    int counts[] = {1, 2, 3, 5};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        check_run_lanes(t, counts[i], -1);
        check_run_lanes(t, counts[i], counts[i] - 1);
    }
}

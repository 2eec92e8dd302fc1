/*
 * Two trainings in one process, from two threads at once: each keeps its own
 * thread count (config.threads) and its own stop flag (config.stop), and both
 * end bit-identical to the same two trainings run one after the other.
 * Stopping one stops that one only. soma leaves the caller's OpenMP setting
 * alone, and the error message belongs to the thread that raised it. A model
 * planned by a run of one thread is evaluated right with more.
 */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/network.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *with_bn =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
    "flatten\nlinear units=16\nrelu\ndropout p=0.25\nlinear units=3\n";
static const char *without_bn =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 pad=1\nrelu\nmaxpool size=2\n"
    "flatten\nlinear units=16\nrelu\ndropout p=0.25\nlinear units=3\n";

/* One training: what it is given, and what it leaves. Only its own thread
 * writes it while it runs (the CHECK counters are not shared from threads). */
typedef struct job {
    const char *text;
    const soma_dataset *train, *val;
    int threads;              /* config.threads */
    uint64_t seed;
    long long stop_at;        /* the progress callback sets the flag at this step (0: never) */
    long long request_at;     /* ... calls soma_request_stop() at this step (0: never) */
    long long wait_at;        /* ... waits at this step until another run has requested */
    volatile sig_atomic_t stop;
    pthread_barrier_t *start; /* both threads begin together (NULL: run alone) */
    /* results */
    soma_status status;
    char error[1024];
    int threads_seen;         /* soma_threads() inside the run, on its thread */
    int threads_wrong;        /* steps that saw another count */
    long long steps;
    float *weights;
    size_t n;
} job;

/* set once a run has called soma_request_stop(); runs past their first step */
static int stop_was_requested, runs_stepping;

/* Waits (up to 30 s, so that a failure cannot hang the test) until *flag >= value. */
static void wait_for(int *flag, int value)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 30000 && __atomic_load_n(flag, __ATOMIC_ACQUIRE) < value; i++)
        nanosleep(&ms, NULL);
}

static void on_progress(const soma_progress *p, void *user)
{
    job *j = user;
    int seen = soma_threads();
    if (j->threads_seen == 0)
        j->threads_seen = seen;
    j->threads_wrong += seen != j->threads_seen;
    j->steps = p->global_step;
    if (!p->epoch_done && p->global_step == 1)
        __atomic_fetch_add(&runs_stepping, 1, __ATOMIC_RELEASE);
    if (!p->epoch_done && j->stop_at && p->global_step == j->stop_at)
        j->stop = 1;
    if (!p->epoch_done && j->request_at && p->global_step == j->request_at) {
        /* both runs in progress: a run that ended before the other began
         * would clear the request (it is cleared when the last run ends) */
        wait_for(&runs_stepping, 2);
        soma_request_stop();
        __atomic_store_n(&stop_was_requested, 1, __ATOMIC_RELEASE);
    }
    if (!p->epoch_done && j->wait_at && p->global_step == j->wait_at)
        wait_for(&stop_was_requested, 1);
}

static void *run_job(void *arg)
{
    job *j = arg;
    soma_model *m = NULL;
    j->status = soma_model_parse(j->text, "concurrent_train_test", &m);
    if (j->status == SOMA_OK)
        j->status = soma_model_init(m, SOMA_INIT_HE, j->seed);
    if (j->start)
        pthread_barrier_wait(j->start);
    if (j->status == SOMA_OK) {
        soma_train_config cfg = soma_train_defaults();
        cfg.epochs = 4;
        cfg.batch = 32;
        cfg.seed = j->seed;
        cfg.threads = j->threads;
        cfg.stop = &j->stop;
        j->status = soma_train(m, j->train, j->val, &cfg, on_progress, j, NULL);
    }
    snprintf(j->error, sizeof j->error, "%s", soma_last_error());
    if (m) {
        j->n = m->nparams + m->nbuffers;
        j->weights = malloc(sizeof(float) * j->n);
        if (j->weights) {
            memcpy(j->weights, m->params, sizeof(float) * m->nparams);
            memcpy(j->weights + m->nparams, m->buffers, sizeof(float) * m->nbuffers);
        }
    }
    soma_model_free(m);
    return NULL;
}

static job make_job(const char *text, const soma_dataset *tr, const soma_dataset *val,
                    int threads, uint64_t seed, long long stop_at)
{
    job j;
    memset(&j, 0, sizeof j);
    j.text = text, j.train = tr, j.val = val;
    j.threads = threads, j.seed = seed, j.stop_at = stop_at;
    return j;
}

static void run_together(job *a, job *b)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    a->start = b->start = &start;
    pthread_t ta, tb;
    int ok = pthread_create(&ta, NULL, run_job, a) == 0;
    CHECK(ok);
    if (!ok) /* nobody to meet at the barrier */
        a->start = b->start = NULL;
    CHECK(pthread_create(&tb, NULL, run_job, b) == 0);
    if (ok)
        pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
}

static int same_weights(const job *a, const job *b)
{
    return a->weights && b->weights && a->n == b->n &&
           memcmp(a->weights, b->weights, sizeof(float) * a->n) == 0;
}

int main(void)
{
    /* the caller's OpenMP setting, which soma must leave as it is */
    omp_set_num_threads(3);
    soma_set_threads(1); /* the default; both runs name their own count */
    /* one training set read by both runs at once; each its own validation set */
    soma_dataset *tr = synthetic_patterns(256, 1, 2);
    soma_dataset *val_a = synthetic_patterns(64, 2, 2), *val_b = synthetic_patterns(64, 2, 2);
    CHECK(tr && val_a && val_b);

    /* one after the other */
    job a1 = make_job(with_bn, tr, val_a, 2, 11, 0), b1 = make_job(without_bn, tr, val_b, 3, 12, 0);
    run_job(&a1);
    run_job(&b1);
    CHECK_MSG(a1.status == SOMA_OK && b1.status == SOMA_OK, "%s / %s", a1.error, b1.error);
    CHECK_MSG(a1.threads_seen == 2 && b1.threads_seen == 3, "runs saw %d and %d threads",
              a1.threads_seen, b1.threads_seen);
    CHECK(soma_threads() == 1); /* the default is back after a run */

    /* at the same time: each its own count, and bit-identical weights */
    job a2 = make_job(with_bn, tr, val_a, 2, 11, 0), b2 = make_job(without_bn, tr, val_b, 3, 12, 0);
    run_together(&a2, &b2);
    CHECK_MSG(a2.status == SOMA_OK && b2.status == SOMA_OK, "%s / %s", a2.error, b2.error);
    CHECK_MSG(a2.threads_seen == 2 && b2.threads_seen == 3 && !a2.threads_wrong &&
                  !b2.threads_wrong,
              "concurrent runs saw %d and %d threads", a2.threads_seen, b2.threads_seen);
    CHECK_MSG(same_weights(&a1, &a2), "the run with batchnorm differs when run concurrently");
    CHECK_MSG(same_weights(&b1, &b2), "the run without batchnorm differs when run concurrently");

    /* stopping one (its flag, set after step 5) stops that one only */
    job a3 = make_job(with_bn, tr, val_a, 2, 11, 5), b3 = make_job(without_bn, tr, val_b, 3, 12, 0);
    run_together(&a3, &b3);
    CHECK_MSG(a3.status == SOMA_ERR_INTERRUPTED, "the stopped run: %s (%s)",
              soma_status_name(a3.status), a3.error);
    CHECK_MSG(a3.steps == 5, "the stopped run went on to step %lld", a3.steps);
    CHECK_MSG(strstr(a3.error, "stopped at epoch 1 step 5") != NULL, "%s", a3.error);
    CHECK_MSG(b3.status == SOMA_OK, "the other run: %s (%s)", soma_status_name(b3.status),
              b3.error);
    CHECK_MSG(b3.steps == b1.steps, "the other run did %lld steps, alone %lld", b3.steps,
              b1.steps);
    CHECK_MSG(same_weights(&b1, &b3), "the other run differs from its run alone");
    CHECK_MSG(strstr(b3.error, "stopped") == NULL, "the stop's message reached the other "
              "thread: %s", b3.error);
    CHECK_MSG(strstr(soma_last_error(), "stopped") == NULL, "and this thread: %s",
              soma_last_error());

    /* soma_request_stop() stops every run in progress: one run asks after its
     * step 5, the other waits after its step 2 until it has (it may see the
     * request after step 1 already), and both stop */
    job a4 = make_job(with_bn, tr, val_a, 2, 11, 0), b4 = make_job(without_bn, tr, val_b, 3, 12, 0);
    a4.request_at = 5, b4.wait_at = 2;
    __atomic_store_n(&runs_stepping, 0, __ATOMIC_RELEASE);
    run_together(&a4, &b4);
    CHECK_MSG(a4.status == SOMA_ERR_INTERRUPTED && a4.steps == 5, "the asking run: %s at %lld",
              soma_status_name(a4.status), a4.steps);
    CHECK_MSG(b4.status == SOMA_ERR_INTERRUPTED && b4.steps <= 2, "the other run: %s at %lld",
              soma_status_name(b4.status), b4.steps);
    /* the request ended with the last run: the next runs to the end */
    job c4 = make_job(without_bn, tr, val_b, 3, 12, 0);
    run_job(&c4);
    CHECK_MSG(c4.status == SOMA_OK && same_weights(&b1, &c4), "after the request: %s",
              c4.error);
    /* a request made before a run starts stops it after its first step */
    soma_request_stop();
    job d4 = make_job(without_bn, tr, val_b, 3, 12, 0);
    run_job(&d4);
    CHECK_MSG(d4.status == SOMA_ERR_INTERRUPTED && d4.steps == 1, "requested before: %s at %lld",
              soma_status_name(d4.status), d4.steps);

    /* planned for one thread by its run, then evaluated with the default of
     * three: the workspace is planned again for three (ASan sees the overflow
     * otherwise), and the result is the one thread's */
    soma_model *m;
    CHECK(soma_model_parse(with_bn, "concurrent_train_test", &m) == SOMA_OK);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 1, cfg.batch = 64, cfg.threads = 1;
    CHECK_MSG(soma_train(m, tr, NULL, &cfg, NULL, NULL, NULL) == SOMA_OK, "%s", soma_last_error());
    double loss1 = 0, acc1 = 0, loss3 = 0, acc3 = 0;
    soma_set_threads(1);
    CHECK(soma_evaluate(m, val_a, 64, &loss1, &acc1) == SOMA_OK);
    soma_model_free(m);
    CHECK(soma_model_parse(with_bn, "concurrent_train_test", &m) == SOMA_OK);
    CHECK(soma_train(m, tr, NULL, &cfg, NULL, NULL, NULL) == SOMA_OK);
    soma_set_threads(3);
    CHECK_MSG(soma_evaluate(m, val_a, 32, &loss3, &acc3) == SOMA_OK, "%s", soma_last_error());
    CHECK_CLOSE(loss3, loss1, 1e-5);
    CHECK(acc3 == acc1);
    /* the same for soma_model_predict: a model planned for one thread by a
     * run, asked with three (before: a workspace overflow, seen by ASan) */
    soma_model_free(m);
    CHECK(soma_model_parse(with_bn, "concurrent_train_test", &m) == SOMA_OK);
    soma_set_threads(1);
    CHECK(soma_train(m, tr, NULL, &cfg, NULL, NULL, NULL) == SOMA_OK);
    float mean, std, *in = malloc(sizeof(float) * 32 * 64), p1[32 * 3], p3[32 * 3];
    soma_model_normalization(m, &mean, &std);
    CHECK(in && soma_dataset_get(val_a, 0, 32, mean, std, in) == SOMA_OK);
    CHECK_MSG(soma_model_predict(m, in, 32, p1) == SOMA_OK, "%s", soma_last_error());
    soma_set_threads(3);
    CHECK_MSG(soma_model_predict(m, in, 32, p3) == SOMA_OK, "%s", soma_last_error());
    for (int i = 0; i < 32 * 3; i++)
        CHECK_CLOSE(p3[i], p1[i], 1e-5);
    free(in);
    soma_model_free(m);
    soma_set_threads(1);

    /* a thread count out of range is refused, naming the field */
    job bad = make_job(without_bn, tr, NULL, -1, 1, 0);
    run_job(&bad);
    CHECK_MSG(bad.status == SOMA_ERR_ARGUMENT && strstr(bad.error, "threads"), "%s", bad.error);

    CHECK_MSG(omp_get_max_threads() == 3, "soma changed the caller's OpenMP threads to %d",
              omp_get_max_threads());

    job *all[] = {&a1, &b1, &a2, &b2, &a3, &b3, &a4, &b4, &c4, &d4, &bad};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]->weights);
    soma_dataset_free(tr);
    soma_dataset_free(val_a);
    soma_dataset_free(val_b);
    return check_finish("concurrent_train");
}

/* soma_benchmark and soma_benchmark_run: images/s of training or inference
 * steps on random inputs, over a count of steps or for a time.
 * Training steps change the weights and BatchNorm statistics: they are
 * copied first and put back after, so that the caller's model is as it was. */
#include <omp.h>
#include <stdlib.h>

#include "core/rng.h"
#include "core/run_threads.h"
#include "train/step.h"

/* the most timed steps a time-based run keeps (a tiny model's second is a few thousand) */
#define BENCH_MAX_STEPS 1000000
/* the fewest timed steps a time-based run takes, so that the quartiles mean something */
#define BENCH_MIN_TIMED_STEPS 5

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parameters then running statistics, to `host` or back from it. */
static soma_status copy_weights(soma_model *m, float *host, int back)
{
    const soma_backend *be = m->be;
    if (back) {
        SOMA_TRY(be->upload(m->params, host, sizeof(float) * m->nparams));
        return be->upload(m->buffers, host + m->nparams, sizeof(float) * m->nbuffers);
    }
    SOMA_TRY(be->download(host, m->params, sizeof(float) * m->nparams));
    return be->download(host + m->nparams, m->buffers, sizeof(float) * m->nbuffers);
}

/* The q-quantile of sorted[0..n), linearly interpolated (numpy's default). */
static double quantile(const double *sorted, int n, double q)
{
    double at = q * (n - 1);
    int i = (int)at;
    if (i >= n - 1)
        return sorted[n - 1];
    return sorted[i] + (at - i) * (sorted[i + 1] - sorted[i]);
}

/* images per second of a step of `batch` taking `seconds` (0 when too short to time) */
static double per_second(int batch, double seconds)
{
    return seconds > 0 ? batch / seconds : 0.0;
}

/* What the timing loop needs. */
typedef struct bench_run {
    soma_model *m;
    optimizer *opt; /* NULL: inference */
    float lr;
    int batch;
    run_ctx ctx;
    step_data data;
    double *times; /* the timed steps' seconds, grown as needed */
    int ntimes, cap;
} bench_run;

static soma_status one_step(bench_run *b, long long s)
{
    const float *logits;
    if (b->opt)
        return train_step(b->m, b->opt, b->lr, b->batch, &b->data, 1, s, NULL);
    return network_forward(b->m, &b->ctx, &logits);
}

static soma_status keep_time(bench_run *b, double seconds)
{
    if (b->ntimes == b->cap) {
        int cap = b->cap ? 2 * b->cap : 256;
        double *grown = realloc(b->times, sizeof(double) * (size_t)cap);
        if (!grown)
            return soma_error(SOMA_ERR_MEMORY, "out of memory for %d step times", cap);
        b->times = grown;
        b->cap = cap;
    }
    b->times[b->ntimes++] = seconds;
    return SOMA_OK;
}

/* Warm-up, then timed steps, each timed on its own. */
static soma_status timed_steps(bench_run *b, const soma_benchmark_config *c,
                               soma_benchmark_result *r)
{
    long long s = 0;
    double start = omp_get_wtime();
    while (s < c->warmup_steps || omp_get_wtime() - start < c->warmup_seconds)
        SOMA_TRY(one_step(b, s++));
    r->warmup_steps = (int)s;
    double total = 0.0;
    for (;;) {
        if (c->steps > 0 ? b->ntimes >= c->steps
                         : (b->ntimes >= BENCH_MIN_TIMED_STEPS && total >= c->seconds) ||
                               b->ntimes >= BENCH_MAX_STEPS)
            break;
        double t0 = omp_get_wtime();
        SOMA_TRY(one_step(b, s++));
        double t = omp_get_wtime() - t0;
        total += t;
        SOMA_TRY(keep_time(b, t));
    }
    int n = b->ntimes;
    double *t = b->times;
    qsort(t, (size_t)n, sizeof *t, compare_doubles);
    r->steps = n;
    r->seconds = total;
    r->images_per_second = per_second(b->batch, quantile(t, n, 0.5));
    r->q1_images_per_second = per_second(b->batch, quantile(t, n, 0.75));
    r->q3_images_per_second = per_second(b->batch, quantile(t, n, 0.25));
    r->min_images_per_second = per_second(b->batch, t[n - 1]);
    r->max_images_per_second = per_second(b->batch, t[0]);
    r->flops_per_image = soma_model_flops(b->m, c->training);
    r->gflops_per_second = r->flops_per_image * r->images_per_second * 1e-9;
    return SOMA_OK;
}

/* Random inputs and labels, uploaded once: the steps reuse them. */
static soma_status random_batch(bench_run *b, float *host)
{
    soma_model *m = b->m;
    size_t in_size = shape_size(m->input) * b->batch;
    rng r;
    rng_init(&r, 1, RNG_TEST, 0, 0);
    for (size_t i = 0; i < in_size; i++)
        host[i] = rng_normal(&r);
    int32_t *labels = (int32_t *)b->data.labels;
    for (int i = 0; i < b->batch; i++)
        labels[i] = (int32_t)rng_below(&r, (uint32_t)m->classes);
    return m->be->upload(m->input_buf, host, sizeof(float) * in_size);
}

static soma_status benchmark(soma_model *m, const soma_benchmark_config *c,
                             soma_benchmark_result *r)
{
    SOMA_TRY(c->training ? network_plan(m, c->batch) : network_plan_inference(m, c->batch));
    size_t in_size = shape_size(m->input) * c->batch;
    float *host = malloc(sizeof(float) * in_size);
    int32_t *labels = malloc(sizeof(int32_t) * c->batch);
    /* the weights to put back after training steps */
    float *saved = c->training ? malloc(sizeof(float) * (m->nparams + m->nbuffers + 1)) : NULL;
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_ADAM);
    bench_run b = {.m = m, .lr = cfg.lr * 0.01f, .batch = c->batch};
    b.ctx = (run_ctx){.be = m->be, .batch = c->batch, .seed = 1, .workspace = m->workspace,
                      .grads = m->grads, .metrics = m->metrics};
    b.data = (step_data){.labels = labels}; /* the random inputs stay in place */
    soma_status st = (!host || !labels || (c->training && !saved))
                         ? soma_error(SOMA_ERR_MEMORY, "out of memory")
                         : SOMA_OK;
    if (st == SOMA_OK)
        st = random_batch(&b, host);
    if (st == SOMA_OK && c->training)
        st = copy_weights(m, saved, 0);
    if (st == SOMA_OK && c->training)
        st = optimizer_create(m->be, &cfg, m->nparams, &b.opt);
    if (st == SOMA_OK)
        st = timed_steps(&b, c, r);
    if (c->training && saved) { /* put back even after a failed step */
        soma_status back = copy_weights(m, saved, 1);
        if (back == SOMA_OK)
            back = network_zero_grads(m);
        if (st == SOMA_OK)
            st = back;
    }
    optimizer_free(b.opt);
    free(host), free(labels), free(saved), free(b.times);
    return st;
}

soma_status soma_benchmark_run(soma_model *m, const soma_benchmark_config *c,
                               soma_benchmark_result *r)
{
    if (!m || !c || !r)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_benchmark_run: no %s given",
                          !m ? "model" : !c ? "config" : "result");
    if (c->batch < 1 || c->batch > SOMA_MAX_BATCH || c->warmup_steps < 0 ||
        c->steps < 0 || c->steps > BENCH_MAX_STEPS || !(c->warmup_seconds >= 0) ||
        !(c->seconds >= 0) || c->warmup_seconds > 3600 || c->seconds > 3600)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "benchmark: batch %d, warm-up %d steps or %g s, %d steps or %g s "
                          "(batch 1..%d, steps 0..%d, seconds 0..3600)",
                          c->batch, c->warmup_steps, c->warmup_seconds, c->steps, c->seconds,
                          SOMA_MAX_BATCH, BENCH_MAX_STEPS);
    *r = (soma_benchmark_result){0};
    /* the thread count it starts with holds to its end, whatever
     * soma_set_threads does meanwhile */
    int threads_before = run_threads_set(soma_threads());
    soma_status st = benchmark(m, c, r);
    run_threads_set(threads_before);
    return st;
}

soma_status soma_benchmark(soma_model *m, int batch, int training, int warmup, int steps,
                           double *images_per_second)
{
    if (!m || !images_per_second)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_benchmark: no %s given",
                          m ? "output" : "model");
    if (steps < 1)
        return soma_error(SOMA_ERR_ARGUMENT, "benchmark: batch %d, warmup %d, steps %d", batch,
                          warmup, steps);
    soma_benchmark_config c = {.batch = batch, .training = training, .warmup_steps = warmup,
                               .steps = steps};
    soma_benchmark_result r;
    SOMA_TRY(soma_benchmark_run(m, &c, &r));
    *images_per_second = r.images_per_second;
    return SOMA_OK;
}

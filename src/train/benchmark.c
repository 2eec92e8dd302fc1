/* soma_benchmark: images/s of training or inference steps on random inputs.
 * Training steps change the weights and BatchNorm statistics: they are
 * copied first and put back after, so that the caller's model is as it was. */
#include <omp.h>
#include <stdlib.h>

#include "core/rng.h"
#include "core/run_threads.h"
#include "train/step.h"

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

/* warmup + steps steps, each timed; the median into *images_per_second */
static soma_status timed_steps(soma_model *m, optimizer *opt, float lr, int batch, int warmup,
                               int steps, float *host, int32_t *labels, double *times,
                               double *images_per_second)
{
    size_t in_size = shape_size(m->input) * batch;
    rng r;
    rng_init(&r, 1, RNG_TEST, 0, 0);
    for (size_t i = 0; i < in_size; i++)
        host[i] = rng_normal(&r);
    for (int i = 0; i < batch; i++)
        labels[i] = (int32_t)rng_below(&r, (uint32_t)m->classes);
    SOMA_TRY(m->be->upload(m->input_buf, host, sizeof(float) * in_size));
    run_ctx ctx = {.be = m->be, .batch = batch, .seed = 1, .workspace = m->workspace,
                   .grads = m->grads, .metrics = m->metrics};
    step_data data = {.labels = labels}; /* the random inputs stay in place */
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = omp_get_wtime();
        const float *logits;
        if (opt)
            SOMA_TRY(train_step(m, opt, lr, batch, &data, 1, s));
        else
            SOMA_TRY(network_forward(m, &ctx, &logits));
        if (s >= warmup)
            times[s - warmup] = omp_get_wtime() - t0;
    }
    qsort(times, steps, sizeof *times, compare_doubles);
    double median = steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
    *images_per_second = median > 0 ? batch / median : 0.0;
    return SOMA_OK;
}

static soma_status benchmark(soma_model *m, int batch, int training, int warmup, int steps,
                             double *images_per_second)
{
    SOMA_TRY(network_plan(m, batch));
    size_t in_size = shape_size(m->input) * batch;
    float *host = malloc(sizeof(float) * in_size);
    int32_t *labels = malloc(sizeof(int32_t) * batch);
    double *times = malloc(sizeof(double) * steps);
    /* the weights to put back after training steps */
    float *saved = training ? malloc(sizeof(float) * (m->nparams + m->nbuffers + 1)) : NULL;
    soma_optimizer_config cfg = soma_optimizer_defaults(SOMA_OPT_ADAM);
    optimizer *opt = NULL;
    soma_status st = (!host || !labels || !times || (training && !saved))
                         ? soma_error(SOMA_ERR_MEMORY, "out of memory")
                         : SOMA_OK;
    if (st == SOMA_OK && training)
        st = copy_weights(m, saved, 0);
    if (st == SOMA_OK && training)
        st = optimizer_create(m->be, &cfg, m->nparams, &opt);
    if (st == SOMA_OK)
        st = timed_steps(m, opt, cfg.lr * 0.01f, batch, warmup, steps, host, labels, times,
                         images_per_second);
    if (training && saved) { /* put back even after a failed step */
        soma_status back = copy_weights(m, saved, 1);
        if (back == SOMA_OK)
            back = network_zero_grads(m);
        if (st == SOMA_OK)
            st = back;
    }
    optimizer_free(opt);
    free(host), free(labels), free(times), free(saved);
    return st;
}

soma_status soma_benchmark(soma_model *m, int batch, int training, int warmup, int steps,
                           double *images_per_second)
{
    if (!m || !images_per_second)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_benchmark: no %s given",
                          m ? "output" : "model");
    if (batch < 1 || batch > SOMA_MAX_BATCH || warmup < 0 || steps < 1 || steps > 1000000)
        return soma_error(SOMA_ERR_ARGUMENT, "benchmark: batch %d, warmup %d, steps %d", batch,
                          warmup, steps);
    /* the thread count it starts with holds to its end, whatever
     * soma_set_threads does meanwhile */
    int threads_before = run_threads_set(soma_threads());
    soma_status st = benchmark(m, batch, training, warmup, steps, images_per_second);
    run_threads_set(threads_before);
    return st;
}

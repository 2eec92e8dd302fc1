/*
 * Looking inside a training pass (soma.h): the weights as one array, the
 * loss and gradient of a batch without a step, per-layer statistics. The
 * pass is train_step's unsliced one; BatchNorm's running statistics, which a
 * training-mode forward moves, are put back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/run_threads.h"
#include "nn/network.h"

soma_status soma_model_get_params(soma_model *m, float *out)
{
    if (!m || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_get_params: a NULL argument");
    SOMA_TRY(network_ensure_weights(m));
    return m->be->download(out, m->params, sizeof(float) * m->nparams);
}

soma_status soma_model_set_params(soma_model *m, const float *params)
{
    if (!m || !params)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_set_params: a NULL argument");
    SOMA_TRY(network_ensure_weights(m));
    return m->be->upload(m->params, params, sizeof(float) * m->nparams);
}

typedef struct probe_job {
    soma_layer_probe *probes;
    int max, count, batch;
    float *host; /* the largest layer output of the batch, twice */
    size_t host_floats;
    const soma_model *m;
} probe_job;

static void moments(const float *x, size_t n, double *mean, double *std)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = n ? s / n : NAN;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *std = n ? sqrt(ss / n) : NAN;
}

static soma_status observe(void *user, const layer *l, const float *y, const float *dy)
{
    probe_job *j = user;
    const soma_model *m = j->m;
    if (j->count >= j->max) /* backward runs last layer first: keep room, shift later */
        return SOMA_OK;
    size_t n = shape_size(layer_stored_shape(l)) * (size_t)j->batch;
    float *hy = j->host, *hdy = j->host + j->host_floats / 2;
    SOMA_TRY(m->be->download(hy, y, sizeof(float) * n));
    SOMA_TRY(m->be->download(hdy, dy, sizeof(float) * n));
    soma_layer_probe *p = &j->probes[j->count++];
    memset(p, 0, sizeof *p);
    p->layer = l->index;
    p->kind = l->cls->name;
    /* a convolution that computes the max-pool after it shows the pool's output */
    p->relu = l->fused_relu || (l->pooled && l->pooled->relu_before);
    moments(hy, n, &p->act_mean, &p->act_std);
    moments(hdy, n, &p->grad_mean, &p->grad_std);
    p->hist_lo = INFINITY, p->hist_hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        p->hist_lo = fmin(p->hist_lo, hy[i]), p->hist_hi = fmax(p->hist_hi, hy[i]);
    double width = p->hist_hi - p->hist_lo;
    for (size_t i = 0; i < n; i++) {
        int b = width > 0 ? (int)((hy[i] - p->hist_lo) / width * SOMA_PROBE_BINS) : 0;
        p->hist[b < SOMA_PROBE_BINS ? b : SOMA_PROBE_BINS - 1]++;
    }
    p->weight_std = p->weight_grad_std = NAN; /* after the pass: weight_stats */
    return SOMA_OK;
}

/* A layer's weight and its gradient, once backward has run through it. */
static soma_status weight_stats(const soma_model *m, soma_layer_probe *p)
{
    const layer *l = NULL;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].index == p->layer)
            l = &m->layers[i];
    if (!l || l->nparams == 0) /* the weight is a layer's first parameter */
        return SOMA_OK;
    size_t wn = tensor_spec_count(&l->params[0]);
    float *w = malloc(sizeof(float) * wn * 2);
    if (!w)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = m->be->download(w, l->param[0], sizeof(float) * wn);
    if (st == SOMA_OK)
        st = m->be->download(w + wn, m->grads + l->params[0].offset, sizeof(float) * wn);
    double mean;
    if (st == SOMA_OK) {
        moments(w, wn, &mean, &p->weight_std);
        moments(w + wn, wn, &mean, &p->weight_grad_std);
    }
    free(w);
    return st;
}

/* One training-mode pass over n samples; the running statistics put back. */
static soma_status pass(soma_model *m, const float *input, const int32_t *labels, int n,
                        uint64_t seed, long long step, double *loss, probe_job *job)
{
    if (!m || !input || !labels || !loss)
        return soma_error(SOMA_ERR_ARGUMENT, "a NULL argument");
    if (n < 1 || n > SOMA_MAX_BATCH)
        return soma_error(SOMA_ERR_ARGUMENT, "%d samples (1..%d)", n, SOMA_MAX_BATCH);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->classes)
            return soma_error(SOMA_ERR_ARGUMENT, "label %d of sample %d is outside 0..%d",
                              labels[i], i, m->classes - 1);
    int threads_before = run_threads_set(soma_threads());
    soma_status st = network_plan_covers(m, n) && m->plan.training ? SOMA_OK : network_plan(m, n);
    float *saved = malloc(sizeof(float) * (m->nbuffers + 1));
    if (st == SOMA_OK && !saved)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = m->be->download(saved, m->buffers, sizeof(float) * m->nbuffers);
    run_ctx ctx = {.be = m->be, .batch = n, .training = 1, .seed = seed, .step = step,
                   .workspace = m->workspace, .grads = m->grads, .metrics = m->metrics};
    if (job) {
        ctx.observe = observe, ctx.observe_user = job;
        job->m = m, job->batch = n;
    }
    const float *logits;
    if (st == SOMA_OK)
        st = m->be->upload(m->input_buf, input, sizeof(float) * shape_size(m->input) * n);
    if (st == SOMA_OK)
        st = m->be->fill(m->grads, m->nparams, 0.0f);
    if (st == SOMA_OK)
        st = network_forward(m, &ctx, &logits);
    if (st == SOMA_OK)
        st = network_loss(m, &ctx, n, labels);
    if (st == SOMA_OK)
        st = network_backward(m, &ctx);
    m->step_slices = 1;
    double sum = NAN;
    long long correct;
    if (st == SOMA_OK)
        st = network_metrics(m, &sum, &correct);
    *loss = sum / n;
    if (saved && m->buffers) { /* whatever happened, the statistics are as they were */
        soma_status put = m->be->upload(m->buffers, saved, sizeof(float) * m->nbuffers);
        if (st == SOMA_OK)
            st = put;
    }
    free(saved);
    run_threads_set(threads_before);
    return st;
}

soma_status soma_model_loss_grad(soma_model *m, const float *input, const int32_t *labels, int n,
                                 uint64_t seed, long long step, double *loss, float *grad)
{
    SOMA_TRY(pass(m, input, labels, n, seed, step, loss, NULL));
    return grad ? m->be->download(grad, m->grads, sizeof(float) * m->nparams) : SOMA_OK;
}

soma_status soma_model_probe(soma_model *m, const float *input, const int32_t *labels, int n,
                             soma_layer_probe *probes, int max, int *count, double *loss)
{
    if (!m || !probes || !count || max < 1)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_probe: a NULL argument or max < 1");
    *count = 0;
    size_t largest = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (shape_size(m->layers[i].out) > largest)
            largest = shape_size(m->layers[i].out);
    if (n < 1 || n > SOMA_MAX_BATCH)
        return soma_error(SOMA_ERR_ARGUMENT, "%d samples (1..%d)", n, SOMA_MAX_BATCH);
    probe_job job = {probes, max, 0, n, NULL, largest * (size_t)n * 2, m};
    job.host = malloc(sizeof(float) * job.host_floats);
    if (!job.host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = pass(m, input, labels, n, 1, 0, loss, &job);
    free(job.host);
    if (st != SOMA_OK)
        return st;
    for (int i = 0; i < job.count / 2; i++) { /* backward saw them last first */
        soma_layer_probe t = probes[i];
        probes[i] = probes[job.count - 1 - i];
        probes[job.count - 1 - i] = t;
    }
    for (int i = 0; i < job.count; i++)
        SOMA_TRY(weight_stats(m, &probes[i]));
    *count = job.count;
    return SOMA_OK;
}

#include "train/step.h"

#include <omp.h>
#include <stdlib.h>

#include "core/partition.h"
#include "core/run_threads.h"
#include "data/dataset.h"

/* The pass's samples into m->input_buf, their labels into data->labels. */
static void load(soma_model *m, const run_ctx *ctx, const step_data *data)
{
    if (!data->ds)
        return;
    size_t in = shape_size(m->input), first = (size_t)ctx->first;
    dataset_gather(data->ds, data->indices + first, ctx->batch, m->norm_mean, m->norm_std,
                   data->host + in * first, data->labels + first);
    m->be->upload(m->input_buf + in * first, data->host + in * first,
                  sizeof(float) * in * (size_t)ctx->batch);
}

/* Loading, forward, loss and backward of one pass: a whole batch, or a slice of it. */
static void pass(soma_model *m, const run_ctx *ctx, int batch, const step_data *data,
                 double *loss_sum, int *correct)
{
    load(m, ctx, data);
    m->be->fill(ctx->grads, m->nparams, 0.0f);
    network_forward(m, ctx);
    network_loss(m, ctx, batch, data->labels, loss_sum, correct);
    network_backward(m, ctx);
}

/* Parameters [begin, end): the slices' gradients added into slice 0's, in
 * slice order (the same sums for the same thread count). */
static void reduce_grads(const soma_model *m, int slices, size_t begin, size_t end)
{
    for (int s = 1; s < slices; s++) {
        const float *g = network_slice_grads(m, s);
        for (size_t i = begin; i < end; i++)
            m->grads[i] += g[i];
    }
}

/*
 * The step split into slices of samples, one per thread: each thread runs
 * its slice through the whole network on one core, then, after the one
 * barrier of the step, sums and applies its share of the gradients. A
 * layer-by-layer step instead meets the other threads at every layer, and
 * small layers (LeNet-5's) leave a thread waiting at each meeting. Should
 * the runtime give fewer threads (OMP_DYNAMIC), a thread takes several
 * slices; the sums, in slice order, stay the same.
 */
static void sliced_step(soma_model *m, optimizer *opt, float lr, int batch, int slices,
                        const step_data *data, uint64_t seed, long long global_step,
                        double *loss_sum, int *correct)
{
    double losses[NETWORK_MAX_SLICES];
    int rights[NETWORK_MAX_SLICES];
#pragma omp parallel num_threads(slices)
    {
        int t = omp_get_thread_num(), threads = omp_get_num_threads();
        for (int s = t; s < slices; s += threads) {
            int first, end;
            partition(batch, slices, s, &first, &end);
            run_ctx ctx = {.be = m->be, .batch = end - first, .training = 1, .seed = seed,
                           .step = global_step, .first = first,
                           .workspace = m->workspace + m->slice_workspace * s,
                           .grads = network_slice_grads(m, s)};
            pass(m, &ctx, batch, data, &losses[s], &rights[s]);
        }
#pragma omp barrier
        /* whole 64-byte lines per thread, the optimizer's vector loops aligned */
        size_t lines = (m->nparams + 15) / 16, b = lines * t / threads * 16,
               e = lines * (t + 1) / threads * 16;
        if (e > m->nparams)
            e = m->nparams;
        if (b < e) {
            reduce_grads(m, slices, b, e);
            optimizer_step_range(opt, lr, m->params, m->grads, b, e);
        }
    }
    optimizer_count(opt);
    *loss_sum = 0.0, *correct = 0;
    for (int s = 0; s < slices; s++)
        *loss_sum += losses[s], *correct += rights[s];
}

void train_step(soma_model *m, optimizer *opt, float lr, int batch, const step_data *data,
                uint64_t seed, long long global_step, double *loss_sum, int *correct)
{
    int slices = m->profile ? 1 : network_slices(m, batch);
    if (slices > 1) {
        sliced_step(m, opt, lr, batch, slices, data, seed, global_step, loss_sum, correct);
        return;
    }
    run_ctx ctx = {.be = m->be, .batch = batch, .training = 1, .seed = seed,
                   .step = global_step, .workspace = m->workspace, .grads = m->grads};
    pass(m, &ctx, batch, data, loss_sum, correct);
    optimizer_step(opt, lr, m->params, m->grads);
}

soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy)
{
    if (ds->c != m->input.c || ds->h != m->input.h || ds->w != m->input.w)
        return soma_error(SOMA_ERR_SHAPE, "%s: samples are %dx%dx%d, the model expects %dx%dx%d",
                          ds->source, ds->c, ds->h, ds->w, m->input.c, m->input.h, m->input.w);
    if (ds->classes > m->classes)
        return soma_error(SOMA_ERR_SHAPE, "%s: labels go up to %d, the model has %d classes",
                          ds->source, ds->classes - 1, m->classes);
    /* a plan for fewer threads has too little workspace for this call's kernels */
    if (m->planned_batch < batch || m->planned_threads != soma_get_threads())
        SOMA_TRY(network_plan(m, batch));
    batch = m->planned_batch;
    size_t in_size = shape_size(m->input);
    float *host = malloc(sizeof(float) * in_size * batch);
    int32_t *labels = malloc(sizeof(int32_t) * batch);
    int *indices = malloc(sizeof(int) * batch);
    if (!host || !labels || !indices) {
        free(host), free(labels), free(indices);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    run_ctx ctx = {.be = m->be, .workspace = m->workspace, .grads = m->grads};
    double loss_sum = 0.0;
    long long right = 0;
    for (int first = 0; first < ds->n; first += batch) {
        int count = ds->n - first < batch ? ds->n - first : batch;
        for (int i = 0; i < count; i++)
            indices[i] = first + i;
        dataset_gather(ds, indices, count, m->norm_mean, m->norm_std, host, labels);
        m->be->upload(m->input_buf, host, sizeof(float) * in_size * count);
        ctx.batch = count;
        const float *logits = network_forward(m, &ctx);
        double l;
        int c;
        m->be->upload(m->labels, labels, sizeof(int32_t) * count);
        m->be->softmax_xent_forward(logits, m->labels, count, m->classes, m->probs, &l, &c);
        loss_sum += l;
        right += c;
    }
    free(host), free(labels), free(indices);
    *loss = loss_sum / ds->n;
    *accuracy = (double)right / ds->n;
    return SOMA_OK;
}

soma_status soma_evaluate(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                          double *accuracy)
{
    if (batch <= 0 || batch > SOMA_MAX_BATCH)
        return soma_error(SOMA_ERR_ARGUMENT, "batch must be in 1..%d, got %d", SOMA_MAX_BATCH,
                          batch);
    if (ds->n <= 0)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: the dataset is empty", ds->source);
    if (m->norm_std <= 0.0f)
        return soma_error(SOMA_ERR_ARGUMENT, "the model has no input normalisation: "
                                             "train it or load it from a checkpoint");
    /* the count it starts with holds to its end, whatever soma_set_threads does meanwhile */
    int threads_before = run_threads_set(soma_get_threads());
    soma_status st = evaluate_dataset(m, ds, batch, loss, accuracy);
    run_threads_set(threads_before);
    return st;
}

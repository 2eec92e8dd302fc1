#include "train/step.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "core/partition.h"
#include "core/run_threads.h"
#include "data/dataset.h"
#include "nn/normalization.h"
#include "train/comm.h"
#include "train/step_buckets.h"

/* The pass's samples into m->input_buf, their labels into data->labels. */
static soma_status load(soma_model *m, const run_ctx *ctx, const step_data *data)
{
    if (!data->ds)
        return SOMA_OK;
    size_t in = shape_size(m->input), first = (size_t)ctx->first;
    if (!data->ready)
        SOMA_TRY(dataset_gather(data->ds, data->indices + first, ctx->batch, m->norm_mean,
                                m->norm_std, data->host + in * first, data->labels + first));
    return m->be->upload(m->input_buf + in * first, data->host + in * first,
                         sizeof(float) * in * (size_t)ctx->batch);
}

/* Share `part` of `parts` of the next step's samples, asked for from memory
 * between forward and backward: the backward's few hundred microseconds of
 * arithmetic hide the fetch that the next gather would otherwise wait for
 * (shuffled samples lie far apart: a cache miss each). */
static void prefetch_next(const step_data *data, int part, int parts)
{
    if (!data->ds || !data->next || data->ready)
        return;
    int b, e;
    partition(data->next_n, parts, part, &b, &e);
    dataset_prefetch(data->ds, data->next + b, e - b);
}

/* Loading, forward, loss and backward of one pass: a whole batch, or a
 * slice of it (part `part` of `parts`); `batch`: the step's samples (over
 * every process), whose mean the loss is. */
static soma_status pass(soma_model *m, const run_ctx *ctx, int batch, const step_data *data,
                        int part, int parts)
{
    const float *logits;
    SOMA_TRY(load(m, ctx, data));
    SOMA_TRY(m->be->fill(ctx->grads, m->nparams, 0.0f));
    SOMA_TRY(network_forward(m, ctx, &logits));
    SOMA_TRY(network_loss(m, ctx, batch, data->labels));
    prefetch_next(data, part, parts);
    return network_backward(m, ctx);
}

/* The optimizer's share of a sliced step (the slices' gradients added into
 * slice 0's, in slice order, then the update) goes in chunks of the
 * parameters, whole 64-byte lines each. */
#define FINISH_CHUNK 4096

typedef struct sliced_step sliced_step;

/* run_ctx.layer_done of one slice */
typedef struct slice_hook {
    sliced_step *job;
    int slice;
} slice_hook;

/* A step split into slices of samples, one per lane of the backend. */
struct sliced_step {
    soma_model *m;
    optimizer *opt; /* NULL: the slices' gradients summed, no update (a distributed step) */
    float lr;
    int batch, slices;
    const step_data *data;
    uint64_t seed;
    long long global_step;
    int loss_batch;  /* the loss's mean is over these samples (the global batch) */
    int sample_base; /* this process's first sample within the global batch */
    /* Each slice's thread has a home range of the chunks, [home[s], left[s])
     * still to do, taken from the top: the parameters lie in layer order and
     * backward ends the last layers first. A slice whose pass is over takes
     * chunks whose gradients are final in every slice (from final_from[s]
     * on in slice s) while the others still run backward: the time it would
     * wait for them goes to the update. It takes its own range's first, so
     * that from step to step the same core updates the same parameters and
     * optimizer state (they stay in its cache), then the others' from their
     * top (so a slow thread is left little to do: one core may be slower
     * than the other for minutes on a shared machine). */
    size_t home[NETWORK_MAX_SLICES];
    _Atomic size_t left[NETWORK_MAX_SLICES];
    _Atomic size_t final_from[NETWORK_MAX_SLICES];
    slice_hook hooks[NETWORK_MAX_SLICES];
    /* the squares of each chunk's summed gradients, counted on the core that
     * sums them (the norm's terms, added in chunk order after the step) */
    double *chunk_sq;
};

static void sliced_init(sliced_step *j, soma_model *m, optimizer *opt, float lr, int batch,
                        int slices, const step_data *data, uint64_t seed, long long global_step,
                        int loss_batch, int sample_base)
{
    j->m = m, j->opt = opt, j->lr = lr, j->batch = batch, j->slices = slices;
    j->data = data, j->seed = seed, j->global_step = global_step;
    j->loss_batch = loss_batch, j->sample_base = sample_base;
    int chunks = (int)((m->nparams + FINISH_CHUNK - 1) / FINISH_CHUNK);
    for (int s = 0; s < slices; s++) {
        int b, e;
        partition(chunks, slices, s, &b, &e);
        j->home[s] = (size_t)b;
        atomic_init(&j->left[s], (size_t)e);
        atomic_init(&j->final_from[s], m->nparams);
        j->hooks[s] = (slice_hook){j, s};
    }
}

/* Layer `index` of a slice ended its backward: its gradients and the later
 * layers' are final in that slice. */
static soma_status slice_layer_done(void *arg, int index)
{
    const slice_hook *h = arg;
    const layer *l = &h->job->m->layers[index];
    if (l->nparams > 0)
        atomic_store_explicit(&h->job->final_from[h->slice], l->params[0].offset,
                              memory_order_release);
    return SOMA_OK;
}

/* The highest chunk left of slice `home`'s range whose gradients are final
 * (from `final` on) in every slice; -1: none now. */
static long claim_in(sliced_step *j, int home, size_t final)
{
    size_t top = atomic_load(&j->left[home]);
    while (top > j->home[home] && (top - 1) * FINISH_CHUNK >= final)
        if (atomic_compare_exchange_weak(&j->left[home], &top, top - 1))
            return (long)(top - 1);
    return -1;
}

/* A chunk for slice s's thread, final in every slice (any, once all passes
 * are over: `all_final`): of its own range, else of the others'; -1: none now. */
static long claim_chunk(sliced_step *j, int s, int all_final)
{
    size_t final = 0; /* from here on final in every slice */
    for (int i = 0; i < j->slices && !all_final; i++) {
        size_t f = atomic_load_explicit(&j->final_from[i], memory_order_acquire);
        final = f > final ? f : final;
    }
    long c = claim_in(j, s, final);
    for (int i = 1; i < j->slices && c < 0; i++)
        c = claim_in(j, (s + i) % j->slices, final);
    return c;
}

/* A chunk's gradients summed into slice 0's in slice order (the same sums
 * for the same split, whoever does them), their squares, and its update. */
static soma_status finish_chunk(const sliced_step *j, long chunk)
{
    soma_model *m = j->m;
    size_t b = (size_t)chunk * FINISH_CHUNK, e = b + FINISH_CHUNK < m->nparams ? b + FINISH_CHUNK
                                                                              : m->nparams;
    for (int s = 1; s < j->slices; s++)
        SOMA_TRY(m->be->add(m->grads + b, network_slice_grads(m, s) + b, e - b));
    if (j->chunk_sq)
        SOMA_TRY(m->be->sum_squares(m->grads + b, e - b, &j->chunk_sq[chunk]));
    return j->opt ? optimizer_step_range(j->opt, j->lr, m->params, m->grads, b, e) : SOMA_OK;
}

static soma_status finish_chunks(sliced_step *j, int s, int all_final)
{
    for (long c; (c = claim_chunk(j, s, all_final)) >= 0;)
        SOMA_TRY(finish_chunk(j, c));
    return SOMA_OK;
}

/* Each lane runs its slice through the whole network, then takes the
 * chunks that are final everywhere (it never waits for them: a thread may
 * have another slice still to run). A slice failing after others took
 * chunks would leave those updated; backward kernels that cannot fail once
 * planned (the CPU's) make that moot. */
static soma_status slice_pass(void *arg, int s)
{
    sliced_step *j = arg;
    soma_model *m = j->m;
    int first, end;
    partition(j->batch, j->slices, s, &first, &end);
    run_ctx ctx = {.be = m->be, .batch = end - first, .training = 1, .seed = j->seed,
                   .step = j->global_step, .first = first,
                   .workspace = m->workspace + m->plan.slice_workspace * s,
                   .grads = network_slice_grads(m, s), .metrics = m->metrics + 2 * s,
                   .sample_base = j->sample_base, .layer_done = slice_layer_done,
                   .layer_done_arg = &j->hooks[s]};
    SOMA_TRY(pass(m, &ctx, j->loss_batch, j->data, s, j->slices));
    return finish_chunks(j, s, 0);
}

/* Once every pass is over, the chunks left, shared among the threads
 * (part t is slice t's thread: lanes go to threads in turn). */
static soma_status slice_finish(void *arg, int part, int parts)
{
    (void)parts;
    return finish_chunks(arg, part, 1);
}

/* `slices` from network_slices: at most NETWORK_MAX_SLICES (network_plan).
 * grad_sq: see train_step (NULL: not wanted). */
static soma_status run_sliced(soma_model *m, optimizer *opt, float lr, int batch, int slices,
                              const step_data *data, uint64_t seed, long long global_step,
                              int loss_batch, int sample_base, double *grad_sq)
{
    sliced_step job;
    sliced_init(&job, m, opt, lr, batch, slices, data, seed, global_step, loss_batch,
                sample_base);
    size_t chunks = (m->nparams + FINISH_CHUNK - 1) / FINISH_CHUNK;
    if (grad_sq && !m->chunk_sq) { /* once per plan: the chunks follow nparams */
        m->chunk_sq = malloc(sizeof(double) * (chunks ? chunks : 1));
        if (!m->chunk_sq)
            return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    job.chunk_sq = grad_sq ? m->chunk_sq : NULL;
    SOMA_TRY(m->be->run_lanes(slices, slice_pass, slice_finish, &job));
    if (grad_sq) {
        *grad_sq = 0.0;
        for (size_t c = 0; c < chunks; c++)
            *grad_sq += job.chunk_sq[c];
    }
    return SOMA_OK;
}

soma_status train_step(soma_model *m, optimizer *opt, float lr, int batch, const step_data *data,
                       uint64_t seed, long long global_step, double *grad_sq)
{
    int slices = m->profile ? 1 : network_slices(m, batch);
    m->step_slices = slices;
    if (slices > 1) {
        SOMA_TRY(run_sliced(m, opt, lr, batch, slices, data, seed, global_step, batch, 0,
                            grad_sq));
        optimizer_count(opt);
        return SOMA_OK;
    }
    run_ctx ctx = {.be = m->be, .batch = batch, .training = 1, .seed = seed,
                   .step = global_step, .workspace = m->workspace, .grads = m->grads,
                   .metrics = m->metrics};
    SOMA_TRY(pass(m, &ctx, batch, data, 0, 1));
    SOMA_TRY(optimizer_step(opt, lr, m->params, m->grads));
    return grad_sq ? m->be->sum_squares(m->grads, m->nparams, grad_sq) : SOMA_OK;
}

soma_status train_step_dist(soma_model *m, optimizer *opt, float lr, const step_data *data,
                            uint64_t seed, long long global_step, const step_dist *d)
{
    d->sums[0] = d->sums[1] = 0.0;
    grad_buckets buckets;
    int overlapped = 0;
    if (d->batch > 0) {
        int slices = m->profile ? 1 : network_slices(m, d->batch);
        m->step_slices = slices;
        if (slices > 1) {
            SOMA_TRY(run_sliced(m, NULL, lr, d->batch, slices, data, seed, global_step,
                                d->global_batch, d->base, NULL));
        } else {
            run_ctx ctx = {.be = m->be, .batch = d->batch, .training = 1, .seed = seed,
                           .step = global_step, .workspace = m->workspace, .grads = m->grads,
                           .metrics = m->metrics, .sample_base = d->base,
                           .bn_sync = d->bn_sync};
            if (d->overlap) { /* sums started as backward goes */
                buckets_begin(&buckets, m, d->comm);
                ctx.layer_done = buckets_layer_done, ctx.layer_done_arg = &buckets;
                overlapped = 1;
            }
            soma_status st = pass(m, &ctx, d->global_batch, data, 0, 1);
            if (st != SOMA_OK) {
                if (overlapped)
                    (void)buckets_finish(&buckets); /* none left in flight */
                return st;
            }
        }
        long long correct;
        SOMA_TRY(network_metrics(m, &d->sums[0], &correct));
        d->sums[1] = (double)correct;
    } else { /* a last batch smaller than the processes: none of its samples here */
        SOMA_TRY(m->be->fill(m->grads, m->nparams, 0.0f));
    }
    /* the loss was each sample's share of the global batch's mean: summed
     * over the processes, the gradients are the whole batch's */
    if (overlapped)
        SOMA_TRY(buckets_finish(&buckets));
    else
        SOMA_TRY(comm_sum_floats(d->comm, m->grads, m->nparams));
    SOMA_TRY(comm_sum_doubles(d->comm, d->sums, (size_t)d->nsums));
    return optimizer_step(opt, lr, m->params, m->grads);
}

/* One batch of an evaluation: its loss and correct count added to the sums. */
static soma_status eval_batch(soma_model *m, const run_ctx *ctx, const float *host,
                              const int32_t *labels, double *loss_sum, long long *right)
{
    size_t n = (size_t)ctx->batch;
    const float *logits;
    SOMA_TRY(m->be->upload(m->input_buf, host, sizeof(float) * shape_size(m->input) * n));
    SOMA_TRY(network_forward(m, ctx, &logits));
    SOMA_TRY(m->be->upload(m->labels, labels, sizeof(int32_t) * n));
    SOMA_TRY(m->be->softmax_xent_forward(logits, m->labels, ctx->batch, m->classes, m->probs,
                                         m->metrics));
    m->step_slices = 1;
    double l;
    long long c;
    SOMA_TRY(network_metrics(m, &l, &c));
    *loss_sum += l, *right += c;
    return SOMA_OK;
}

soma_status evaluate_check_args(const soma_model *m, const soma_dataset *ds, int batch)
{
    if (batch <= 0 || batch > SOMA_MAX_BATCH)
        return soma_error(SOMA_ERR_ARGUMENT, "batch must be in 1..%d, got %d", SOMA_MAX_BATCH,
                          batch);
    if (ds->n <= 0)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: the dataset is empty", ds->source);
    if (!normalization_is_set(m))
        return soma_error(SOMA_ERR_ARGUMENT, "the model has no input normalisation: "
                                             "train it or load it from a checkpoint");
    return SOMA_OK;
}

soma_status evaluate_check_fit(const soma_model *m, const soma_dataset *ds)
{
    if (ds->c != m->input.c || ds->h != m->input.h || ds->w != m->input.w)
        return soma_error(SOMA_ERR_SHAPE, "%s: samples are %dx%dx%d, the model expects %dx%dx%d",
                          ds->source, ds->c, ds->h, ds->w, m->input.c, m->input.h, m->input.w);
    if (ds->classes > m->classes)
        return soma_error(SOMA_ERR_SHAPE, "%s: labels go up to %d, the model has %d classes",
                          ds->source, ds->classes - 1, m->classes);
    return SOMA_OK;
}

/* Sums of the loss and the correct count over samples [begin, end) of ds. */
static soma_status evaluate_range(soma_model *m, const soma_dataset *ds, int batch, int begin,
                                  int end, double *loss_sum, long long *right)
{
    SOMA_TRY(evaluate_check_fit(m, ds));
    /* a plan for other settings (fewer threads) may not serve this call's kernels */
    if (!network_plan_covers(m, batch))
        SOMA_TRY(network_plan_inference(m, batch));
    batch = m->planned_batch;
    size_t in_size = shape_size(m->input);
    float *host = malloc(sizeof(float) * in_size * batch);
    int32_t *labels = malloc(sizeof(int32_t) * batch);
    int *indices = malloc(sizeof(int) * batch);
    if (!host || !labels || !indices) {
        free(host), free(labels), free(indices);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    run_ctx ctx = {.be = m->be, .workspace = m->workspace, .grads = m->grads,
                   .metrics = m->metrics};
    *loss_sum = 0.0;
    *right = 0;
    soma_status st = SOMA_OK;
    for (int first = begin; first < end && st == SOMA_OK; first += batch) {
        int count = end - first < batch ? end - first : batch;
        for (int i = 0; i < count; i++)
            indices[i] = first + i;
        st = dataset_gather(ds, indices, count, m->norm_mean, m->norm_std, host, labels);
        ctx.batch = count;
        if (st == SOMA_OK)
            st = eval_batch(m, &ctx, host, labels, loss_sum, right);
    }
    free(host), free(labels), free(indices);
    return st;
}

soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy)
{
    double loss_sum;
    long long right;
    SOMA_TRY(evaluate_range(m, ds, batch, 0, ds->n, &loss_sum, &right));
    *loss = loss_sum / ds->n;
    *accuracy = (double)right / ds->n;
    return SOMA_OK;
}

soma_status evaluate_dataset_comm(soma_model *m, const soma_dataset *ds, int batch,
                                  const soma_comm *comm, double *loss, double *accuracy)
{
    if (comm_size(comm) < 2)
        return evaluate_dataset(m, ds, batch, loss, accuracy);
    int begin, end;
    partition(ds->n, comm_size(comm), comm_rank(comm), &begin, &end);
    double sums[2] = {0.0, 0.0};
    long long right = 0;
    if (end > begin)
        SOMA_TRY(evaluate_range(m, ds, batch, begin, end, &sums[0], &right));
    sums[1] = (double)right; /* exact: counts below 2^53 */
    SOMA_TRY(comm_sum_doubles(comm, sums, 2));
    *loss = sums[0] / ds->n;
    *accuracy = sums[1] / ds->n;
    return SOMA_OK;
}

soma_status soma_evaluate(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                          double *accuracy)
{
    SOMA_TRY(evaluate_check_args(m, ds, batch));
    /* the count it starts with holds to its end, whatever soma_set_threads does meanwhile */
    int threads_before = run_threads_set(soma_threads());
    soma_status st = evaluate_dataset(m, ds, batch, loss, accuracy);
    run_threads_set(threads_before);
    return st;
}

soma_status soma_evaluate_comm(soma_model *m, const soma_dataset *ds, int batch,
                               const soma_comm *comm, double *loss, double *accuracy)
{
    SOMA_TRY(evaluate_check_args(m, ds, batch));
    int threads_before = run_threads_set(soma_threads());
    soma_status st = evaluate_dataset_comm(m, ds, batch, comm, loss, accuracy);
    run_threads_set(threads_before);
    return st;
}

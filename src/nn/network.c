/* Building a network from a spec, planning its memory, and running it. */
#include "nn/network.h"

#include "nn/class_names.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/sysmem.h"

/* Refuse models whose parameters alone would not fit a sane budget (4 GiB;
 * AlexNet has 62M), and batches whose activations would not (16 GiB). */
#define MAX_PARAMS ((size_t)1 << 30)
#define MAX_PLAN_FLOATS ((size_t)1 << 32)

/* A training step split into slices of samples run in the backend's lanes
 * (backend.h, train/step.c) needs layers that treat samples independently
 * and a gradient buffer per extra slice (at most this many floats in all:
 * 256 MiB). */
#define SLICE_GRADS_MAX ((size_t)1 << 26)

static soma_status alloc_floats(const soma_backend *be, size_t n, float **out)
{
    *out = be->alloc(n * sizeof(float));
    if (!*out && n)
        return soma_error(SOMA_ERR_MEMORY, "cannot allocate %zu MiB", n * sizeof(float) >> 20);
    return SOMA_OK;
}

/* Lays each layer's tensors out in the flat buffers and points the layer at them. */
static void point_tensors(soma_model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        for (int t = 0; t < l->nparams; t++)
            l->param[t] = m->params + l->params[t].offset;
        for (int t = 0; t < l->nbuffers; t++)
            l->buffer[t] = m->buffers + l->buffers[t].offset;
    }
}

/* A convolution that can compute the max-pool after it (fuses_pool) does,
 * where the backend can: its output, often the largest activation, is then
 * never stored (backend.h's conv_pool_*, the same bits), and the ReLU
 * between them goes with the pool. Decided again when the model moves to
 * another backend. */
static void fuse_pools(soma_model *m)
{
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].pooled) {
            m->layers[i].pooled->fused_away = 0;
            m->layers[i].pooled = NULL;
        }
    if (!m->be->conv_pool_supported)
        return;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        layer *conv = &m->layers[i];
        if (!conv->cls->fuses_pool || conv->fused_relu || conv->fused_away)
            continue;
        int j = i + 1;
        while (j < m->nlayers && m->layers[j].fused_away) /* the ReLU the pool takes */
            j++;
        if (j >= m->nlayers || !m->layers[j].cls->is_maxpool)
            continue;
        layer *pool = &m->layers[j];
        conv_geom g = conv2d_geometry(conv, 1);
        pool_geom p = pool_geometry(pool, 1);
        if (m->be->conv_pool_supported(&g, &p)) {
            conv->pooled = pool;
            pool->fused_away = 1;
        }
    }
}

/* Shapes, parameter layout and counts: no memory for parameters yet. A
 * partial model (the layers so far of one being built in code) need not end
 * in class scores. */
static soma_status build_shapes(const model_spec *spec, const char *text, const char *source,
                                size_t max_params, int partial, soma_model **out)
{
    *out = NULL;
    soma_model *m = calloc(1, sizeof *m);
    if (!m)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    m->be = backend_list()[0];
    m->input = spec->input;
    m->nlayers = spec->nlayers;
    m->layers = calloc((size_t)spec->nlayers, sizeof *m->layers);
    m->text = strdup(text);
    m->source = utf8_escaped(source); /* stored in checkpoints, whose metadata is UTF-8 */
    m->fwd_seconds = calloc((size_t)spec->nlayers, sizeof(double));
    m->bwd_seconds = calloc((size_t)spec->nlayers, sizeof(double));
    m->norm_mean = calloc((size_t)(spec->input.c > 0 ? spec->input.c : 1), sizeof(float));
    m->norm_std = calloc((size_t)(spec->input.c > 0 ? spec->input.c : 1), sizeof(float));
    if (!m->layers || !m->text || !m->source || !m->fwd_seconds || !m->bwd_seconds ||
        !m->norm_mean || !m->norm_std) {
        soma_model_free(m);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    shape3 shape = spec->input;
    for (int i = 0; i < spec->nlayers; i++) {
        const layer_spec *s = &spec->layers[i];
        layer *l = &m->layers[i];
        l->cls = layer_class_find(s->kind);
        l->index = i;
        l->line = s->line;
        l->in = shape;
        soma_status st = l->cls ? l->cls->configure(l, s)
                                : spec_error(s, "unknown layer '%s'", s->kind);
        if (st != SOMA_OK) {
            soma_model_free(m);
            return st;
        }
        if (shape_size(l->out) == 0 || shape_size(l->out) > ((size_t)1 << 28)) {
            shape3 bad = l->out; /* l goes with m */
            soma_model_free(m);
            return spec_error(s, "output of %dx%dx%d is empty or too large", bad.c, bad.h,
                              bad.w);
        }
        for (int t = 0; t < l->nparams; t++) {
            l->params[t].offset = m->nparams;
            m->nparams += tensor_spec_count(&l->params[t]);
        }
        for (int t = 0; t < l->nbuffers; t++) {
            l->buffers[t].offset = m->nbuffers;
            m->nbuffers += tensor_spec_count(&l->buffers[t]);
        }
        if (m->nparams + m->nbuffers > max_params) {
            soma_model_free(m);
            return spec_error(s, "the model has more than %zu parameters%s", max_params,
                              max_params < MAX_PARAMS ? ", more than the file holds" : "");
        }
        shape = l->out;
    }
    if (!partial && (shape.h != 1 || shape.w != 1 || shape.c < 2)) {
        soma_model_free(m);
        if (spec->nlayers == 0)
            return soma_error(SOMA_ERR_FORMAT, "%s: the model has no layers", spec->file);
        return spec_error(&spec->layers[spec->nlayers - 1],
                          "the last layer must give a flat vector of class scores "
                          "(at least 2), got %dx%dx%d",
                          shape.c, shape.h, shape.w);
    }
    m->classes = shape.c;
    /* A ReLU that a layer next to it can apply is applied by that layer: one
     * pass less over the activations each way, the same bits. The max-pool
     * after it first: it applies the ReLU in registers and masks the
     * gradient at the pooled size, a quarter of the ReLU's (or more). */
    for (int i = 1; i + 1 < m->nlayers; i++) {
        layer *relu = &m->layers[i], *next = &m->layers[i + 1];
        if (relu->cls->is_relu && next->cls->takes_relu) {
            next->relu_before = 1;
            relu->fused_away = 1;
        }
    }
    for (int i = 0; i + 1 < m->nlayers; i++) {
        layer *l = &m->layers[i], *next = &m->layers[i + 1];
        if (l->cls->fuses_relu && next->cls->is_relu && !next->fused_away) {
            l->fused_relu = 1;
            next->fused_away = 1;
        }
    }
    fuse_pools(m);
    *out = m;
    return SOMA_OK;
}

soma_status network_build(const model_spec *spec, const char *text, const char *source,
                          soma_model **out)
{
    return build_shapes(spec, text, source, MAX_PARAMS, 0, out);
}

soma_status network_check_layers(const model_spec *spec, const char *text, const char *source)
{
    soma_model *m;
    SOMA_TRY(build_shapes(spec, text, source, MAX_PARAMS, 1, &m));
    soma_model_free(m);
    return SOMA_OK;
}

soma_status network_build_limited(const model_spec *spec, const char *text, const char *source,
                                  size_t max_params, soma_model **out)
{
    SOMA_TRY(build_shapes(spec, text, source, max_params, 0, out));
    soma_status st = network_alloc_weights(*out);
    if (st != SOMA_OK) {
        soma_model_free(*out);
        *out = NULL;
    }
    return st;
}

int network_has_weights(const soma_model *m) { return m->params || m->nparams + m->nbuffers == 0; }

/* An allocation of the model's own memory that failed: what it was for, and
 * what the process had left. */
static soma_status out_of_memory(const soma_model *m, const char *what, size_t floats)
{
    char need[32], left[32];
    const char *limit = NULL;
    size_t available = memory_available(&limit);
    if (!limit)
        return soma_error(SOMA_ERR_MEMORY, "%s: cannot allocate %s for %s", m->source,
                          memory_text(floats * sizeof(float), need, sizeof need), what);
    return soma_error(SOMA_ERR_MEMORY, "%s: cannot allocate %s for %s; %s is available (%s)",
                      m->source, memory_text(floats * sizeof(float), need, sizeof need), what,
                      memory_text(available, left, sizeof left), limit);
}

soma_status network_alloc_weights(soma_model *m)
{
    if (m->params || m->nparams + m->nbuffers == 0)
        return SOMA_OK;
    if (alloc_floats(m->be, m->nparams, &m->params) != SOMA_OK)
        return out_of_memory(m, "the parameters", m->nparams);
    if (alloc_floats(m->be, m->nbuffers, &m->buffers) != SOMA_OK) {
        m->be->free(m->params);
        m->params = NULL;
        return out_of_memory(m, "the running statistics", m->nbuffers);
    }
    point_tensors(m);
    return SOMA_OK;
}

soma_status network_ensure_weights(soma_model *m)
{
    if (network_has_weights(m))
        return SOMA_OK;
    SOMA_TRY(network_alloc_weights(m));
    soma_status st = soma_model_init(m, SOMA_INIT_HE, NETWORK_DEFAULT_SEED);
    if (st != SOMA_OK) { /* no half-set weights taken for initialised ones */
        m->be->free(m->params);
        m->be->free(m->buffers);
        m->params = m->buffers = NULL;
    }
    return st;
}

static void release_plan(soma_model *m);

soma_status network_move(soma_model *m, const soma_backend *be)
{
    if (be == m->be)
        return SOMA_OK;
    float *params = NULL, *buffers = NULL;
    if (m->params) { /* through the host: devices need not see each other's memory */
        size_t n = m->nparams + m->nbuffers;
        float *host = malloc(sizeof(float) * (n + 1));
        if (!host)
            return soma_error(SOMA_ERR_MEMORY, "out of memory");
        soma_status st = m->be->download(host, m->params, sizeof(float) * m->nparams);
        if (st == SOMA_OK)
            st = m->be->download(host + m->nparams, m->buffers, sizeof(float) * m->nbuffers);
        if (st == SOMA_OK && (alloc_floats(be, m->nparams, &params) != SOMA_OK ||
                              alloc_floats(be, m->nbuffers, &buffers) != SOMA_OK))
            st = out_of_memory(m, "the weights", n);
        if (st == SOMA_OK)
            st = be->upload(params, host, sizeof(float) * m->nparams);
        if (st == SOMA_OK)
            st = be->upload(buffers, host + m->nparams, sizeof(float) * m->nbuffers);
        free(host);
        if (st != SOMA_OK) { /* the model stays where it was */
            be->free(params);
            be->free(buffers);
            return st;
        }
    }
    release_plan(m); /* planned again, on the new device, at the next use */
    m->be->free(m->grads);
    m->be->free(m->params);
    m->be->free(m->buffers);
    m->be = be;
    fuse_pools(m);
    m->grads = NULL;
    m->params = params;
    m->buffers = buffers;
    if (params || buffers)
        point_tensors(m);
    return SOMA_OK;
}

/* The gradients, the same layout as the parameters, come with the first plan. */
static soma_status alloc_grads(soma_model *m)
{
    if (m->grads || m->nparams == 0)
        return SOMA_OK;
    if (alloc_floats(m->be, m->nparams, &m->grads) != SOMA_OK)
        return out_of_memory(m, "the gradients", m->nparams);
    return SOMA_OK;
}

static void release_plan(soma_model *m)
{
    const soma_backend *be = m->be;
    if (m->acts)
        for (int i = 0; i < m->nlayers; i++)
            if (!m->layers[i].fused_away) /* those point at the layer before's */
                be->free(m->acts[i]);
    free(m->acts);
    be->free(m->input_buf);
    be->free(m->dact[0]);
    be->free(m->dact[1]);
    be->free(m->cache);
    be->free(m->workspace);
    be->free(m->probs);
    be->free(m->labels);
    be->free(m->slice_grads);
    free(m->chunk_sq);
    be->free(m->metrics);
    m->acts = NULL;
    m->input_buf = m->dact[0] = m->dact[1] = m->cache = m->workspace = m->probs = NULL;
    m->slice_grads = NULL;
    m->chunk_sq = NULL;
    m->labels = NULL;
    m->metrics = NULL;
    m->planned_batch = 0;
    memset(&m->plan, 0, sizeof m->plan);
}

static int plan_slices(const soma_model *m, int batch)
{
    int lanes = m->be->lanes(batch);
    if (lanes < 2 || lanes > NETWORK_MAX_SLICES ||
        m->nparams * (size_t)(lanes - 1) > SLICE_GRADS_MAX)
        return 1;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].cls->mixes_samples)
            return 1;
    return lanes;
}

static size_t max_workspace(const soma_model *m, int batch)
{
    size_t work = 0;
    for (int i = 0; i < m->nlayers; i++) {
        size_t w = m->layers[i].cls->workspace_floats(&m->layers[i], m->be, batch);
        if (w > work)
            work = w;
    }
    return (work + 15) & ~(size_t)15; /* slices' workspaces stay 64-byte aligned */
}

/* The workspace of one slice's pass, asked inside a lane, where its kernels run. */
typedef struct lane_workspace {
    const soma_model *m;
    int batch;
    size_t floats;
} lane_workspace;

static soma_status size_lane_workspace(void *arg, int lane)
{
    lane_workspace *q = arg;
    (void)lane;
    q->floats = max_workspace(q->m, q->batch);
    return SOMA_OK;
}

int network_slices(const soma_model *m, int batch)
{
    int lanes = m->be->lanes(batch);
    return lanes <= m->plan.slices ? lanes : 1;
}

float *network_slice_grads(const soma_model *m, int slice)
{
    return slice == 0 ? m->grads : m->slice_grads + (size_t)(slice - 1) * m->nparams;
}

static soma_status plan_floats_for(const soma_model *m, int batch, int training, plan_floats *p)
{
    size_t b = (size_t)batch, max_act = shape_size(m->input);
    memset(p, 0, sizeof *p);
    p->slices = plan_slices(m, batch);
    p->workspace = max_workspace(m, batch);
    if (p->slices > 1) {
        lane_workspace q = {m, (batch + p->slices - 1) / p->slices, 0};
        SOMA_TRY(m->be->run_lanes(1, size_lane_workspace, NULL, &q));
        p->slice_workspace = q.floats;
        if (p->slice_workspace * p->slices > p->workspace)
            p->workspace = p->slice_workspace * p->slices;
    }
    p->activations = shape_size(m->input) * b;
    for (int i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        p->cache += l->cls->cache_floats(l, batch);
        if (l->fused_away) /* those share the layer before's, gradients too */
            continue;
        size_t act = shape_size(layer_stored_shape(l));
        if (act > max_act)
            max_act = act;
        p->activations += act * b;
    }
    p->max_activation = max_act;
    /* two gradient buffers of the largest activation, the probabilities, the
     * labels, each slice's metrics (two doubles) */
    p->activations += 2 * max_act * b + (size_t)m->classes * b + b + 4 * (size_t)p->slices;
    p->training = training;
    p->slice_grads = training ? m->nparams * (size_t)(p->slices - 1) : 0;
    return SOMA_OK;
}

soma_status network_plan_floats(const soma_model *m, int batch, plan_floats *p)
{
    return plan_floats_for(m, batch, 1, p);
}

static int same_plan(const plan_floats *a, const plan_floats *b)
{
    return a->activations == b->activations && a->cache == b->cache &&
           a->workspace == b->workspace && a->slice_grads == b->slice_grads &&
           a->slice_workspace == b->slice_workspace && a->max_activation == b->max_activation &&
           a->slices == b->slices && a->training == b->training;
}

int network_plan_covers(const soma_model *m, int batch)
{
    plan_floats p;
    return m->acts && m->planned_batch >= batch &&
           plan_floats_for(m, m->planned_batch, m->plan.training, &p) == SOMA_OK &&
           same_plan(&p, &m->plan);
}

static soma_status make_plan(soma_model *m, int batch, int training)
{
    SOMA_TRY(network_ensure_weights(m));
    if (training)
        SOMA_TRY(alloc_grads(m));
    plan_floats plan;
    SOMA_TRY(plan_floats_for(m, batch, training, &plan));
    if (m->acts && m->planned_batch == batch && same_plan(&plan, &m->plan))
        return SOMA_OK; /* the kernels' settings (the thread count) have not changed it */
    release_plan(m);
    const soma_backend *be = m->be;
    size_t max_act = plan.max_activation, cache = plan.cache, work = plan.workspace;
    size_t slice_grads = plan.slice_grads;
    /* add up the plan before allocating any of it */
    if (plan.activations + plan.cache + plan.workspace + plan.slice_grads > MAX_PLAN_FLOATS)
        return soma_error(SOMA_ERR_MEMORY,
                          "%s: batch %d needs more than %zu GiB of activations; use a smaller "
                          "batch",
                          m->source, batch, MAX_PLAN_FLOATS * sizeof(float) >> 30);
    m->acts = calloc((size_t)m->nlayers, sizeof *m->acts);
    if (!m->acts)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = alloc_floats(be, shape_size(m->input) * batch, &m->input_buf);
    for (int i = 0; i < m->nlayers && st == SOMA_OK; i++) {
        const layer *l = &m->layers[i];
        if (l->fused_away)
            m->acts[i] = m->acts[i - 1];
        else
            st = alloc_floats(be, shape_size(layer_stored_shape(l)) * batch, &m->acts[i]);
    }
    m->dact_sample = max_act;
    if (st == SOMA_OK)
        st = alloc_floats(be, max_act * batch, &m->dact[0]);
    if (st == SOMA_OK)
        st = alloc_floats(be, max_act * batch, &m->dact[1]);
    if (st == SOMA_OK)
        st = alloc_floats(be, cache, &m->cache);
    if (st == SOMA_OK)
        st = alloc_floats(be, work, &m->workspace);
    if (st == SOMA_OK)
        st = alloc_floats(be, slice_grads, &m->slice_grads);
    if (st == SOMA_OK)
        st = alloc_floats(be, (size_t)m->classes * batch, &m->probs);
    if (st == SOMA_OK) {
        m->labels = be->alloc(sizeof(int32_t) * (size_t)batch);
        m->metrics = be->alloc(2 * sizeof(double) * (size_t)plan.slices);
        if (!m->labels || !m->metrics)
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    if (st != SOMA_OK) {
        release_plan(m);
        char what[64];
        snprintf(what, sizeof what, "the activations and workspace of batch %d", batch);
        return out_of_memory(m, what,
                             plan.activations + plan.cache + plan.workspace + plan.slice_grads);
    }
    size_t offset = 0;
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        l->cache = m->cache + offset;
        offset += l->cls->cache_floats(l, batch);
    }
    m->planned_batch = batch;
    m->plan = plan;
    return SOMA_OK;
}

soma_status network_plan(soma_model *m, int batch)
{
    return make_plan(m, batch, 1);
}

soma_status network_plan_inference(soma_model *m, int batch)
{
    return make_plan(m, batch, 0);
}

/* Where the pass's first sample starts in a batch buffer of samples of shape s. */
static size_t at(shape3 s, const run_ctx *ctx) { return shape_size(s) * (size_t)ctx->first; }

soma_status network_forward(soma_model *m, const run_ctx *ctx, const float **logits)
{
    const float *x = m->input_buf + at(m->input, ctx);
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        if (l->fused_away)
            continue; /* applied by the layer before: x is already its output */
        float *y = m->acts[i] + at(layer_stored_shape(l), ctx);
        double t0 = m->profile ? omp_get_wtime() : 0.0;
        SOMA_TRY(l->cls->forward(l, ctx, x, y));
        if (m->profile)
            m->fwd_seconds[i] += omp_get_wtime() - t0;
        x = y;
    }
    *logits = x;
    return SOMA_OK;
}

soma_status network_loss(soma_model *m, const run_ctx *ctx, int step_batch,
                         const int32_t *labels_host)
{
    const soma_backend *be = m->be;
    size_t first = (size_t)ctx->first, classes = (size_t)m->classes;
    int32_t *labels = m->labels + first;
    float *probs = m->probs + first * classes;
    SOMA_TRY(be->upload(labels, labels_host + first, sizeof(int32_t) * (size_t)ctx->batch));
    SOMA_TRY(be->softmax_xent_forward(m->acts[m->nlayers - 1] + first * classes, labels,
                                      ctx->batch, m->classes, probs, ctx->metrics));
    /* the loss is the step's batch mean: each sample's gradient is divided by it */
    return be->softmax_xent_backward(probs, labels, ctx->batch, m->classes,
                                     1.0f / (float)step_batch,
                                     m->dact[0] + m->dact_sample * first);
}

soma_status network_metrics(const soma_model *m, double *loss_sum, long long *correct)
{
    double host[2 * NETWORK_MAX_SLICES];
    int slices = m->step_slices;
    SOMA_TRY(m->be->download(host, m->metrics, 2 * sizeof(double) * (size_t)slices));
    *loss_sum = 0.0, *correct = 0;
    for (int s = 0; s < slices; s++) /* in slice order: the same sums for the same split */
        *loss_sum += host[2 * s], *correct += (long long)host[2 * s + 1];
    return SOMA_OK;
}

soma_status network_backward(soma_model *m, const run_ctx *ctx)
{
    /* the gradient buffers serve every layer: a slice keeps to its own
     * samples' part of them at the largest layer's size, whichever layer
     * each slice has reached */
    float *dact[2] = {m->dact[0] + m->dact_sample * ctx->first,
                      m->dact[1] + m->dact_sample * ctx->first};
    int cur = 0;
    for (int i = m->nlayers - 1; i >= 0; i--) {
        layer *l = &m->layers[i];
        if (l->fused_away)
            continue; /* the layer before masks dy itself; dy stays where it is */
        const float *x = (i > 0 ? m->acts[i - 1] : m->input_buf) + at(l->in, ctx);
        float *dx = i > 0 ? dact[1 - cur] : NULL;
        double t0 = m->profile ? omp_get_wtime() : 0.0;
        const float *y = m->acts[i] + at(layer_stored_shape(l), ctx);
        if (ctx->observe)
            SOMA_TRY(ctx->observe(ctx->observe_user, l, y, dact[cur]));
        SOMA_TRY(l->cls->backward(l, ctx, x, y, dact[cur], dx));
        if (m->profile)
            m->bwd_seconds[i] += omp_get_wtime() - t0;
        if (ctx->layer_done)
            SOMA_TRY(ctx->layer_done(ctx->layer_done_arg, i));
        cur = 1 - cur;
    }
    return SOMA_OK;
}

soma_status network_zero_grads(soma_model *m)
{
    return m->grads ? m->be->fill(m->grads, m->nparams, 0.0f) : SOMA_OK;
}

int network_tensor(const soma_model *m, int i, named_tensor *out)
{
    for (int li = 0; li < m->nlayers; li++) {
        const layer *l = &m->layers[li];
        if (i < l->nparams + l->nbuffers) {
            int is_param = i < l->nparams;
            const tensor_spec *t = is_param ? &l->params[i] : &l->buffers[i - l->nparams];
            snprintf(out->name, sizeof out->name, "%d.%s", l->index, t->name);
            out->spec = t;
            out->data = is_param ? l->param[i] : l->buffer[i - l->nparams];
            out->trainable = is_param;
            return 1;
        }
        i -= l->nparams + l->nbuffers;
    }
    return 0;
}

void soma_model_free(soma_model *m)
{
    if (!m)
        return;
    release_plan(m);
    m->be->free(m->params);
    m->be->free(m->grads);
    m->be->free(m->buffers);
    free(m->layers);
    free(m->text);
    free(m->source);
    free(m->fwd_seconds);
    free(m->bwd_seconds);
    free(m->norm_mean);
    free(m->norm_std);
    class_names_free(m);
    free(m);
}

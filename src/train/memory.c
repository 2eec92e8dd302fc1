/*
 * The memory a training run takes, part by part, from the model's shapes and
 * the configuration alone: soma_train refuses a run that cannot fit before
 * it allocates any of it, rather than failing in the middle, or being killed,
 * an epoch later.
 */
#include "train/memory.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/run_threads.h"
#include "core/sysmem.h"
#include "nn/network.h"
#include "optim/optimizer.h"
#include "train/comm.h"

#define BATCH_MAX SOMA_MAX_BATCH /* as soma_train checks */

/* The largest single tensor, which a checkpoint copies through host memory
 * on its own (the optimizer state is one flat tensor). */
static size_t largest_tensor(const soma_model *m, int optimizer_sets)
{
    size_t largest = optimizer_sets ? m->nparams : 0;
    named_tensor t;
    for (int i = 0; network_tensor(m, i, &t); i++)
        if (tensor_spec_count(t.spec) > largest)
            largest = tensor_spec_count(t.spec);
    return largest;
}

/* What the model holds already of what the estimate counts: training reuses it. */
static size_t held_bytes(const soma_model *m)
{
    size_t floats = 0;
    if (m->params)
        floats += m->nparams + m->nbuffers;
    if (m->grads)
        floats += m->nparams;
    if (m->planned_batch > 0)
        floats += m->plan.activations + m->plan.cache + m->plan.workspace + m->plan.slice_grads;
    return floats * sizeof(float);
}

soma_status soma_train_memory_estimate(const soma_model *m, const soma_train_config *c,
                                       soma_memory_estimate *e)
{
    memset(e, 0, sizeof *e);
    if (c->batch < 1 || c->batch > BATCH_MAX)
        return soma_error(SOMA_ERR_ARGUMENT, "batch must be in 1..%d, got %d", BATCH_MAX,
                          c->batch);
    size_t f = sizeof(float), weights = m->nparams + m->nbuffers;
    int sets = optimizer_state_count(c->opt.kind);
    plan_floats p;
    /* planned as the run will be: with its thread count */
    int threads_before = run_threads_set(c->threads > 0 ? c->threads : soma_threads());
    /* over several processes, each plans for its part of the batch */
    int processes = comm_size(c->comm);
    soma_status st = network_plan_floats(m, (c->batch + processes - 1) / processes, &p);
    run_threads_set(threads_before);
    SOMA_TRY(st);
    e->parameters = weights * f;
    e->gradients = (m->nparams + p.slice_grads) * f;
    e->optimizer = (size_t)sets * m->nparams * f;
    /* with the batch's host copy that each step fills, and the background
     * loader's two more when the run augments */
    int augments = c->augment && *c->augment && strcmp(c->augment, "none") != 0;
    e->activations = (p.activations + p.cache +
                      (augments ? 3 : 1) * shape_size(m->input) * (size_t)c->batch) * f;
    e->workspace = p.workspace * f;
    e->best = weights * f;
    /* a checkpoint is written from a copy of all it holds (weights, optimizer
     * state, best weights), and a resume reads the whole file */
    if (c->out_dir || c->resume)
        e->checkpoint = (2 * weights + (size_t)sets * m->nparams + largest_tensor(m, sets)) * f;
    e->total = e->parameters + e->gradients + e->optimizer + e->activations + e->workspace +
               e->best + e->checkpoint;
    size_t available = memory_available(&e->limit);
    size_t held = held_bytes(m);
    e->available = available > SIZE_MAX - held ? SIZE_MAX : available + held;
    return SOMA_OK;
}

/* ", name 3.0 GiB" for a part that is not empty */
static void append_part(char *buf, size_t size, const char *name, size_t bytes)
{
    char text[32];
    size_t used = strlen(buf);
    if (bytes > 0 && used < size)
        snprintf(buf + used, size - used, "%s%s %s", used ? ", " : "", name,
                 memory_text(bytes, text, sizeof text));
}

soma_status memory_refusal(const soma_model *m, const soma_train_config *c,
                           const soma_memory_estimate *e)
{
    char parts[512] = "", state[48], total[32], available[32];
    snprintf(state, sizeof state, "%s state", soma_optimizer_name(c->opt.kind));
    append_part(parts, sizeof parts, "parameters", e->parameters);
    append_part(parts, sizeof parts, "gradients", e->gradients);
    append_part(parts, sizeof parts, state, e->optimizer);
    append_part(parts, sizeof parts, "activations", e->activations);
    append_part(parts, sizeof parts, "workspace", e->workspace);
    append_part(parts, sizeof parts, "best weights", e->best);
    append_part(parts, sizeof parts, "checkpoint copy", e->checkpoint);
    return soma_error(SOMA_ERR_MEMORY,
                      "%s: training with batch %d needs about %s (%s), but %s is available (%s)",
                      m->source, c->batch, memory_text(e->total, total, sizeof total), parts,
                      memory_text(e->available, available, sizeof available),
                      e->limit ? e->limit : "no limit known");
}

soma_status soma_train_memory_check(const soma_model *m, const soma_train_config *c)
{
    soma_memory_estimate e;
    SOMA_TRY(soma_train_memory_estimate(m, c, &e));
    return e.total > e.available ? memory_refusal(m, c, &e) : SOMA_OK;
}

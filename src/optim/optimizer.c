/* The optimizer object, its configuration checks and the documented defaults. */
#include "optim/optimizer.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const optimizer_names[] = {
    [SOMA_OPT_SGD] = "sgd",
    [SOMA_OPT_MOMENTUM] = "momentum",
    [SOMA_OPT_NESTEROV] = "nesterov",
    [SOMA_OPT_ADAGRAD] = "adagrad",
    [SOMA_OPT_RMSPROP] = "rmsprop",
    [SOMA_OPT_ADAM] = "adam",
    [SOMA_OPT_ADAMW] = "adamw",
};
#define OPTIMIZER_KINDS ((int)(sizeof optimizer_names / sizeof optimizer_names[0]))

static int kind_valid(soma_optimizer_kind kind)
{
    return (int)kind >= 0 && (int)kind < OPTIMIZER_KINDS;
}

const char *soma_optimizer_name(soma_optimizer_kind kind)
{
    return kind_valid(kind) ? optimizer_names[kind] : "unknown";
}

soma_status soma_optimizer_parse(const char *name, soma_optimizer_kind *out)
{
    for (int k = 0; name && k < OPTIMIZER_KINDS; k++) {
        if (strcmp(name, optimizer_names[k]) == 0) {
            *out = (soma_optimizer_kind)k;
            return SOMA_OK;
        }
    }
    return soma_error(SOMA_ERR_ARGUMENT,
                      "unknown optimizer '%s' (valid: sgd, momentum, nesterov, adagrad, "
                      "rmsprop, adam, adamw)",
                      name ? name : "(null)");
}

/* Values chosen so that LeNet-5 trains well on Fashion-MNIST in 2 epochs at
 * batch 64; the adaptive methods keep the published/PyTorch defaults. Fields
 * a kind does not use stay 0. */
soma_optimizer_config soma_optimizer_defaults(soma_optimizer_kind kind)
{
    soma_optimizer_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    switch (kind) {
    case SOMA_OPT_SGD: c.lr = 0.05f; break;
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV:
        c.lr = 0.01f;
        c.momentum = 0.9f;
        break;
    case SOMA_OPT_ADAGRAD:
        c.lr = 0.01f;
        c.eps = 1e-10f;
        break;
    case SOMA_OPT_RMSPROP:
        c.lr = 1e-3f;
        c.alpha = 0.99f;
        c.eps = 1e-8f;
        break;
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW:
        c.lr = 1e-3f;
        c.beta1 = 0.9f;
        c.beta2 = 0.999f;
        c.eps = 1e-8f;
        c.weight_decay = kind == SOMA_OPT_ADAMW ? 0.01f : 0.0f;
        break;
    }
    return c;
}

/* x in [0, 1); false for NaN. */
static int unit_interval(float x) { return x >= 0.0f && x < 1.0f; }

soma_status optimizer_config_check(const soma_optimizer_config *c)
{
    if (!c)
        return soma_error(SOMA_ERR_ARGUMENT, "optimizer: no configuration given");
    if (!kind_valid(c->kind))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "optimizer: unknown kind %d (valid: sgd, momentum, nesterov, adagrad, "
                          "rmsprop, adam, adamw)",
                          (int)c->kind);
    const char *name = optimizer_names[c->kind];
    if (!(c->lr > 0.0f) || !isfinite(c->lr))
        return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: lr must be > 0 and finite, got %g",
                          name, (double)c->lr);
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "optimizer %s: weight_decay must be >= 0 and finite, got %g", name,
                          (double)c->weight_decay);

    switch (c->kind) {
    case SOMA_OPT_SGD: return SOMA_OK;
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV:
        if (!unit_interval(c->momentum))
            return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: momentum must be in [0, 1), got %g",
                              name, (double)c->momentum);
        /* as PyTorch: Nesterov with no momentum is a mistake, not plain SGD */
        if (c->kind == SOMA_OPT_NESTEROV && c->momentum == 0.0f)
            return soma_error(SOMA_ERR_ARGUMENT, "optimizer nesterov: momentum must be > 0, got 0");
        return SOMA_OK;
    case SOMA_OPT_RMSPROP:
        if (!unit_interval(c->alpha))
            return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: alpha must be in [0, 1), got %g",
                              name, (double)c->alpha);
        break;
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW:
        if (!unit_interval(c->beta1))
            return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: beta1 must be in [0, 1), got %g",
                              name, (double)c->beta1);
        if (!unit_interval(c->beta2))
            return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: beta2 must be in [0, 1), got %g",
                              name, (double)c->beta2);
        break;
    case SOMA_OPT_ADAGRAD: break;
    }
    /* the adaptive methods divide by sqrt(.) + eps */
    if (!(c->eps > 0.0f) || !isfinite(c->eps))
        return soma_error(SOMA_ERR_ARGUMENT, "optimizer %s: eps must be > 0 and finite, got %g",
                          name, (double)c->eps);
    return SOMA_OK;
}

int optimizer_state_count(soma_optimizer_kind kind)
{
    switch (kind) {
    case SOMA_OPT_SGD: return 0;
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV:
    case SOMA_OPT_ADAGRAD:
    case SOMA_OPT_RMSPROP: return 1;
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW: return 2;
    }
    return 0;
}

const char *optimizer_state_name(soma_optimizer_kind kind, int i)
{
    if (i < 0 || i >= optimizer_state_count(kind))
        return NULL;
    switch (kind) {
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV: return "momentum_buffer";
    case SOMA_OPT_ADAGRAD: return "sum";
    case SOMA_OPT_RMSPROP: return "square_avg";
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW: return i == 0 ? "exp_avg" : "exp_avg_sq";
    case SOMA_OPT_SGD: break;
    }
    return NULL;
}

float *optimizer_state(optimizer *o, int i)
{
    if (!o || i < 0 || i >= optimizer_state_count(o->cfg.kind))
        return NULL;
    return i == 0 ? o->state1 : o->state2;
}

soma_status optimizer_create(const soma_backend *be, const soma_optimizer_config *cfg, size_t n,
                             optimizer **out)
{
    if (!be || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "optimizer: no backend or output given");
    *out = NULL;
    SOMA_TRY(optimizer_config_check(cfg));
    if (n > SIZE_MAX / sizeof(float))
        return soma_error(SOMA_ERR_MEMORY, "optimizer %s: %zu parameters is beyond limits",
                          optimizer_names[cfg->kind], n);

    optimizer *o = calloc(1, sizeof *o);
    if (!o)
        return soma_error(SOMA_ERR_MEMORY, "optimizer: out of memory");
    o->cfg = *cfg;
    o->be = be;
    o->n = n;

    int states = optimizer_state_count(cfg->kind);
    float **slot[OPTIMIZER_MAX_STATE] = {&o->state1, &o->state2};
    for (int i = 0; i < states && n > 0; i++) {
        *slot[i] = be->alloc(n * sizeof(float)); /* zero-filled: the state starts at 0 */
        if (!*slot[i]) {
            optimizer_free(o);
            return soma_error(SOMA_ERR_MEMORY, "optimizer %s: cannot allocate %s (%zu floats)",
                              optimizer_names[cfg->kind], optimizer_state_name(cfg->kind, i), n);
        }
    }
    *out = o;
    return SOMA_OK;
}

soma_status optimizer_step_range(const optimizer *o, float lr, float *params,
                                 const float *grads, size_t begin, size_t end)
{
    optim_step_args a = {
        .kind = (int)o->cfg.kind,
        .lr = lr,
        .momentum = o->cfg.momentum,
        .alpha = o->cfg.alpha,
        .beta1 = o->cfg.beta1,
        .beta2 = o->cfg.beta2,
        .eps = o->cfg.eps,
        .weight_decay = o->cfg.weight_decay,
        .t = o->t + 1,
    };
    if (end <= begin)
        return SOMA_OK;
    return o->be->optimizer_step(&a, params + begin, grads + begin,
                                 o->state1 ? o->state1 + begin : NULL,
                                 o->state2 ? o->state2 + begin : NULL, end - begin);
}

void optimizer_count(optimizer *o) { o->t++; }

soma_status optimizer_step(optimizer *o, float lr, float *params, const float *grads)
{
    SOMA_TRY(optimizer_step_range(o, lr, params, grads, 0, o->n));
    optimizer_count(o);
    return SOMA_OK;
}

void optimizer_free(optimizer *o)
{
    if (!o)
        return;
    if (o->state1)
        o->be->free(o->state1);
    if (o->state2)
        o->be->free(o->state2);
    free(o);
}

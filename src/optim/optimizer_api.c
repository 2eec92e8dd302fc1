/* The optimizers on a caller's own flat array of parameters (soma.h):
 * the same object and update that soma_train runs, on the CPU backend. */
#include <stdlib.h>

#include "core/error.h"
#include "optim/optimizer.h"

struct soma_optimizer {
    optimizer *o;
};

soma_status soma_optimizer_create(const soma_optimizer_config *config, size_t n,
                                  soma_optimizer **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_optimizer_create: out is NULL");
    *out = NULL;
    if (!config)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_optimizer_create: config is NULL");
    if (n < 1 || n > ((size_t)1 << 40))
        return soma_error(SOMA_ERR_ARGUMENT, "soma_optimizer_create: %zu parameters "
                                             "(1..2^40)", n);
    soma_optimizer *s = calloc(1, sizeof *s);
    if (!s)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = optimizer_create(&soma_cpu_backend, config, n, &s->o);
    if (st != SOMA_OK) {
        free(s);
        return st;
    }
    *out = s;
    return SOMA_OK;
}

soma_status soma_optimizer_step(soma_optimizer *opt, float *params, const float *grads)
{
    if (!opt || !params || !grads)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_optimizer_step: a NULL argument");
    return optimizer_step(opt->o, opt->o->cfg.lr, params, grads);
}

void soma_optimizer_free(soma_optimizer *opt)
{
    if (!opt)
        return;
    optimizer_free(opt->o);
    free(opt);
}

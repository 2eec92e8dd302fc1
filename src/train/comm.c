/* The communicator's parts that do not depend on MPI (comm.h). */
#include "train/comm.h"

#include <stdlib.h>

#include "core/error.h"

int comm_launched_size(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) {
            long n = strtol(v, NULL, 10);
            if (n > 1)
                return n > 1 << 30 ? 1 << 30 : (int)n;
        }
    }
    return 1;
}

soma_status comm_single_world(int launched, soma_comm **out)
{
    *out = NULL;
    if (launched > 1)
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "distributed training needs a soma built with MPI: this one was "
                          "built without it, and started as one of %d processes "
                          "(install libopenmpi-dev and rebuild; docs/distributed.md)",
                          launched);
    soma_comm *c = calloc(1, sizeof *c);
    if (!c)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    c->rank = 0, c->size = 1;
    *out = c;
    return SOMA_OK;
}

soma_status soma_comm_world(soma_comm **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_comm_world: out is NULL");
    return comm_impl_world(out);
}

int soma_comm_rank(const soma_comm *comm) { return comm_rank(comm); }

int soma_comm_size(const soma_comm *comm) { return comm_size(comm); }

void soma_comm_free(soma_comm *comm)
{
    if (!comm)
        return;
    comm_impl_free(comm);
    free(comm);
}

soma_status comm_sum_floats(const soma_comm *c, float *x, size_t n)
{
    return comm_size(c) > 1 && n ? comm_impl_sum(c, x, n, 0) : SOMA_OK;
}

soma_status comm_sum_doubles(const soma_comm *c, double *x, size_t n)
{
    return comm_size(c) > 1 && n ? comm_impl_sum(c, x, n, 1) : SOMA_OK;
}

soma_status comm_sum_floats_start(const soma_comm *c, float *x, size_t n, comm_request *r)
{
    r->active = 0;
    return comm_size(c) > 1 && n ? comm_impl_sum_start(c, x, n, r) : SOMA_OK;
}

soma_status comm_progress(const soma_comm *c, comm_request *r)
{
    return r->active ? comm_impl_progress(c, r) : SOMA_OK;
}

soma_status comm_wait(const soma_comm *c, comm_request *r)
{
    if (!r->active)
        return SOMA_OK;
    r->active = 0;
    return comm_impl_wait(c, r);
}

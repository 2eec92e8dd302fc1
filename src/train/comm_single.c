/* The communicator of a build without MPI: one process (comm.h). Started by
 * a launcher as one of several, it says that this build cannot train with them. */
#include "train/comm.h"

#include "core/error.h"

soma_status comm_impl_world(soma_comm **out) { return comm_single_world(comm_launched_size(), out); }

void comm_impl_free(soma_comm *c) { (void)c; }

/* never called: a single process has nothing to sum */
soma_status comm_impl_sum(const soma_comm *c, void *x, size_t n, int is_double)
{
    (void)c, (void)x, (void)n, (void)is_double;
    return soma_error(SOMA_ERR_UNSUPPORTED, "this soma was built without MPI");
}

soma_status comm_impl_sum_start(const soma_comm *c, float *x, size_t n, comm_request *r)
{
    (void)r;
    return comm_impl_sum(c, x, n, 0);
}

soma_status comm_impl_progress(const soma_comm *c, comm_request *r)
{
    (void)c, (void)r;
    return SOMA_OK;
}

soma_status comm_impl_wait(const soma_comm *c, comm_request *r)
{
    (void)c, (void)r;
    return SOMA_OK;
}

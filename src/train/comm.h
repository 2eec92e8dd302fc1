/*
 * The processes a data-parallel run trains on (soma_comm, docs/distributed.md):
 * this one's rank among `size`, and in-place sums over all of them. A build
 * with MPI implements them with MPI (comm_mpi.c), one without it has only the
 * single process (comm_single.c); comm.c holds what both share. Nothing
 * outside these files sees an MPI type.
 */
#ifndef SOMA_TRAIN_COMM_H
#define SOMA_TRAIN_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

struct soma_comm {
    int rank, size;
    int owns_mpi; /* this library initialised MPI: soma_comm_free finalises it */
    uintptr_t handle; /* the implementation's (an MPI communicator), 0 for one process */
};

/* A sum started and not yet waited for (comm_sum_floats_start). */
typedef struct comm_request {
    uintptr_t handle[2];
    int active;
} comm_request;

/* How many processes the launcher started this one among (mpirun, srun, hydra:
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE), 1 when none says. */
int comm_launched_size(void);
/* The single-process communicator, or, when the launcher started more than
 * one process (`launched` > 1), SOMA_ERR_UNSUPPORTED: a build without MPI
 * cannot train with them. */
soma_status comm_single_world(int launched, soma_comm **out);

/* x[0..n) summed over every process of c, in place (all of them call it with
 * the same n); nothing to do for one process. comm NULL counts as one. */
soma_status comm_sum_floats(const soma_comm *c, float *x, size_t n);
soma_status comm_sum_doubles(const soma_comm *c, double *x, size_t n);
/* The same without waiting: x must stay untouched until comm_wait. */
soma_status comm_sum_floats_start(const soma_comm *c, float *x, size_t n, comm_request *r);
soma_status comm_wait(const soma_comm *c, comm_request *r);
/* Lets a started sum make progress (MPI moves data only inside its calls). */
soma_status comm_progress(const soma_comm *c, comm_request *r);

/* What each implementation provides (called only for size > 1, except
 * comm_impl_world and comm_impl_free). */
soma_status comm_impl_world(soma_comm **out);
void comm_impl_free(soma_comm *c);
soma_status comm_impl_sum(const soma_comm *c, void *x, size_t n, int is_double);
soma_status comm_impl_sum_start(const soma_comm *c, float *x, size_t n, comm_request *r);
soma_status comm_impl_wait(const soma_comm *c, comm_request *r);
soma_status comm_impl_progress(const soma_comm *c, comm_request *r);

static inline int comm_rank(const soma_comm *c) { return c ? c->rank : 0; }
static inline int comm_size(const soma_comm *c) { return c ? c->size : 1; }

#endif

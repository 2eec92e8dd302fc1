/*
 * The communicator over MPI (comm.h). MPI starts only for a process that a
 * launcher started among several, or when the program initialised MPI
 * itself; a plain `soma train` stays one process without it. Errors come
 * back as values (MPI_ERRORS_RETURN); a process that dies ends the job
 * through the launcher (Open MPI aborts the others).
 */
#include "train/comm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* the most elements one MPI call takes (its counts are int) */
#define CHUNK ((size_t)1 << 30)

static MPI_Comm comm_of(const soma_comm *c)
{
    MPI_Comm m;
    memcpy(&m, &c->handle, sizeof m);
    return m;
}

static soma_status mpi_failure(int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", code);
    return soma_error(SOMA_ERR_IO, "MPI: %s failed: %s", what, text);
}

_Static_assert(sizeof(MPI_Comm) <= sizeof(uintptr_t), "an MPI communicator fits a handle");
_Static_assert(sizeof(MPI_Request) <= sizeof(uintptr_t), "an MPI request fits a handle");

soma_status comm_impl_world(soma_comm **out)
{
    *out = NULL;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized)
        return soma_error(SOMA_ERR_UNSUPPORTED, "MPI was finalised in this process already");
    if (!initialized && comm_launched_size() < 2)
        return comm_single_world(1, out);
    soma_comm *c = calloc(1, sizeof *c);
    if (!c)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (!initialized) {
        int provided = 0;
        /* one thread at a time calls MPI (the one that runs soma_train) */
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
        if (rc != MPI_SUCCESS) {
            free(c);
            return soma_error(SOMA_ERR_IO, "MPI: initialisation failed (error %d)", rc);
        }
        c->owns_mpi = 1;
    }
    MPI_Comm dup;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &dup); /* soma's traffic apart from the program's */
    if (rc != MPI_SUCCESS) {
        soma_status st = mpi_failure(rc, "MPI_Comm_dup");
        free(c);
        return st;
    }
    MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
    MPI_Comm_rank(dup, &c->rank);
    MPI_Comm_size(dup, &c->size);
    memcpy(&c->handle, &dup, sizeof dup);
    *out = c;
    return SOMA_OK;
}

void comm_impl_free(soma_comm *c)
{
    if (c->handle) { /* a communicator of our own (not the single process's) */
        MPI_Comm m = comm_of(c);
        MPI_Comm_free(&m);
    }
    if (c->owns_mpi)
        MPI_Finalize();
}

soma_status comm_impl_sum(const soma_comm *c, void *x, size_t n, int is_double)
{
    size_t size = is_double ? sizeof(double) : sizeof(float);
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = (int)(n - at < CHUNK ? n - at : CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)x + at * size, count,
                               is_double ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, comm_of(c));
        if (rc != MPI_SUCCESS)
            return mpi_failure(rc, "MPI_Allreduce");
    }
    return SOMA_OK;
}

soma_status comm_impl_sum_start(const soma_comm *c, float *x, size_t n, comm_request *r)
{
    if (n > CHUNK) /* a bucket that large gains nothing from overlap */
        return comm_impl_sum(c, x, n, 0);
    MPI_Request q;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_SUM, comm_of(c), &q);
    if (rc != MPI_SUCCESS)
        return mpi_failure(rc, "MPI_Iallreduce");
    memcpy(&r->handle[0], &q, sizeof q);
    r->active = 1;
    return SOMA_OK;
}

soma_status comm_impl_progress(const soma_comm *c, comm_request *r)
{
    (void)c;
    MPI_Request q;
    int done = 0;
    memcpy(&q, &r->handle[0], sizeof q);
    int rc = MPI_Test(&q, &done, MPI_STATUS_IGNORE);
    memcpy(&r->handle[0], &q, sizeof q); /* MPI_REQUEST_NULL once done */
    if (rc != MPI_SUCCESS)
        return mpi_failure(rc, "MPI_Test");
    if (done)
        r->active = 0;
    return SOMA_OK;
}

soma_status comm_impl_wait(const soma_comm *c, comm_request *r)
{
    (void)c;
    MPI_Request q;
    memcpy(&q, &r->handle[0], sizeof q);
    int rc = MPI_Wait(&q, MPI_STATUS_IGNORE);
    return rc == MPI_SUCCESS ? SOMA_OK : mpi_failure(rc, "MPI_Wait");
}

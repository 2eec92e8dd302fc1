/*
 * The communicator without a launcher: one process, rank 0 of 1, whatever
 * the build; a process that a launcher started as one of several, in a
 * build without MPI, gets one line that says distributed training needs
 * MPI (what `soma train` prints under mpirun then). The sums of one process
 * leave the numbers as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "train/comm.h"

int main(void)
{
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("PMI_SIZE");
    unsetenv("PMIX_SIZE");
    CHECK(comm_launched_size() == 1);
    soma_comm *c = NULL;
    CHECK(soma_comm_world(&c) == SOMA_OK);
    CHECK(soma_comm_rank(c) == 0 && soma_comm_size(c) == 1);
    float x[3] = {1.5f, -2.0f, 3.25f};
    double d[2] = {0.1, 7.0};
    CHECK(comm_sum_floats(c, x, 3) == SOMA_OK && x[0] == 1.5f && x[2] == 3.25f);
    CHECK(comm_sum_doubles(c, d, 2) == SOMA_OK && d[0] == 0.1 && d[1] == 7.0);
    soma_comm_free(c);
    CHECK(soma_comm_rank(NULL) == 0 && soma_comm_size(NULL) == 1);
    soma_comm_free(NULL);

    setenv("PMI_SIZE", "4", 1);
    CHECK(comm_launched_size() == 4);
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    CHECK(comm_launched_size() == 3);
    c = NULL;
    CHECK(comm_single_world(comm_launched_size(), &c) == SOMA_ERR_UNSUPPORTED);
    CHECK(c == NULL);
    CHECK(strstr(soma_last_error(), "distributed training needs a soma built with MPI") != NULL);
    CHECK(strstr(soma_last_error(), "one of 3 processes") != NULL);
    CHECK(strchr(soma_last_error(), '\n') == NULL);
    setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
    unsetenv("PMI_SIZE");
    CHECK(comm_single_world(comm_launched_size(), &c) == SOMA_OK && soma_comm_size(c) == 1);
    soma_comm_free(c);
    return check_finish("comm_test");
}

#include "cli/experiment.h"
#include "core/error.h"
soma_status experiment_batchnorm(const experiment_args *a)
{
    (void)a;
    return soma_error(SOMA_ERR_UNSUPPORTED, "not yet");
}

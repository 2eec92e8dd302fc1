/* What the experiments share: files, data, subsets. */
#include "cli/experiment.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/run_files.h"
#include "core/error.h"

soma_status experiment_write(const char *dir, const char *name, strbuf *sb)
{
    char *path = cli_path_join(dir, name);
    soma_status st = !path || sb->failed ? soma_error(SOMA_ERR_MEMORY, "out of memory")
                                         : cli_write_file_atomic(path, sb->data ? sb->data : "",
                                                                 sb->len);
    free(path);
    strbuf_free(sb);
    return st;
}

soma_status experiment_fashion(const char *split, soma_dataset **out, const char **name)
{
    *name = "fashion-mnist";
    if (soma_dataset_find("fashion-mnist", split, out) == SOMA_OK)
        return SOMA_OK;
    printf("note: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
           "using MNIST instead\n");
    *name = "mnist";
    return soma_dataset_find("mnist", split, out);
}

soma_status experiment_subset(const soma_dataset *ds, int n, uint64_t seed, soma_dataset **out)
{
    int total = soma_dataset_count(ds);
    soma_dataset *rest = NULL;
    if (n >= total) /* a split must leave one sample on the other side */
        n = total - 1;
    soma_status st = soma_dataset_split(ds, (double)n / total, seed, &rest, out);
    soma_dataset_free(rest);
    return st;
}

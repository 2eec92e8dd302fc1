/*
 * libFuzzer harness for soma import's path: any bytes as a PyTorch
 * state_dict in safetensors, read into a small model (conv, BatchNorm,
 * linear) with and without a renaming. Each input must give the weights or
 * one error line that names it, never a crash, a leak or undefined
 * behaviour, and a failed import must leave the model's weights as they were.
 * Seeds: fuzz/corpus/import/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/import.h"
#include "nn/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char model_text[] = "input channels=1 height=4 width=4\n"
                                 "conv2d filters=2 size=3\n"
                                 "batchnorm\n"
                                 "relu\n"
                                 "flatten\n"
                                 "linear units=3\n";

/* The model's weights and statistics, copied out. */
static float *snapshot(const soma_model *m)
{
    size_t n = m->nparams + m->nbuffers;
    float *copy = malloc(n * sizeof *copy);
    if (!copy || m->be->download(copy, m->params, m->nparams * sizeof *copy) != SOMA_OK ||
        m->be->download(copy + m->nparams, m->buffers, m->nbuffers * sizeof *copy) != SOMA_OK)
        abort();
    return copy;
}

static void import_one(soma_model *m, const uint8_t *data, size_t size, const soma_name_map *map,
                       int nmap)
{
    float *before = snapshot(m);
    soma_status st = import_safetensors_memory(m, data, size, "fuzz", map, nmap);
    if (st != SOMA_OK) {
        const char *msg = soma_last_error();
        float *after = snapshot(m);
        size_t bytes = (m->nparams + m->nbuffers) * sizeof *before;
        if (strchr(msg, '\n') || strncmp(msg, "fuzz", 4) != 0 || memcmp(before, after, bytes))
            abort(); /* one line naming the input; the weights untouched */
        free(after);
    }
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static soma_model *model;
    if (!model && (soma_model_parse(model_text, "fuzz.cfg", &model) != SOMA_OK ||
                   network_ensure_weights(model) != SOMA_OK))
        abort();
    import_one(model, data, size, NULL, 0);
    static const soma_name_map map[] = {{"features", ""}, {"classifier.1", "4"}};
    import_one(model, data, size, map, 2);
    return 0;
}

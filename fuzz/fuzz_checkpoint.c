/*
 * libFuzzer harness for checkpoint loading from memory: the safetensors
 * reader, the metadata, the model text stored in it and the weights. Any
 * bytes must give either a model or one error line that names the input,
 * never a crash, a leak, undefined behaviour or an allocation the file does
 * not pay for. Seeds: fuzz/corpus/checkpoint/ (tools/make-bad-corpus.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    soma_model *model = (soma_model *)&model; /* must be reset on every path */
    soma_status st = checkpoint_parse_model(data, size, "fuzz", &model);
    if (st != SOMA_OK) {
        const char *msg = soma_last_error();
        if (model || strchr(msg, '\n') || strncmp(msg, "fuzz", 4) != 0)
            abort(); /* one line, naming the input, and nothing handed out */
        return 0;
    }
    /* a hostile model text may not ask for more parameters than the file holds */
    if (!model || model->nparams + model->nbuffers > size / sizeof(float) ||
        soma_model_classes(model) < 2)
        abort();
    char *summary = soma_model_summary(model); /* every layer describes itself */
    if (!summary)
        abort();
    free(summary);
    soma_model_free(model);
    return 0;
}

/*
 * libFuzzer harness for checkpoint loading from memory: the safetensors
 * reader, the metadata, the model text stored in it and the weights. Any
 * bytes must give either a model or one error line that names the input,
 * never a crash, a leak, undefined behaviour or an allocation the file does
 * not pay for. Seeds: fuzz/corpus/checkpoint/ (scripts/make-bad-corpus.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/checkpoint.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: a model, or one error line that names it. */
static void parse_one(const uint8_t *data, size_t size)
{
    soma_model *model = (soma_model *)&model; /* must be reset on every path */
    soma_status st = checkpoint_parse_model(data, size, "fuzz", &model);
    if (st != SOMA_OK) {
        const char *msg = soma_last_error();
        if (model || strchr(msg, '\n') || strncmp(msg, "fuzz", 4) != 0)
            abort(); /* one line, naming the input, and nothing handed out */
        return;
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
}

/* Each input as it is (the reader and the checksum), and, when it opens with
 * soma.crc32, resealed: a mutation almost always breaks the whole-file CRC,
 * and the copy lets it reach the checks after it (metadata, model, values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_one(data, size);
    if (size <= ST_CRC_AT + 8 || memcmp(data + 8, ST_CRC_PREFIX, ST_CRC_AT - 8) != 0)
        return 0;
    uint8_t *sealed = malloc(size);
    if (!sealed)
        abort();
    memcpy(sealed, data, size);
    if (st_seal(sealed, size) != SOMA_OK)
        abort();
    parse_one(sealed, size);
    free(sealed);
    return 0;
}

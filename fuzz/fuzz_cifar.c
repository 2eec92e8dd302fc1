/*
 * libFuzzer harness for the CIFAR-10/100 record parser (from memory). The
 * first byte picks the kind (even: CIFAR-10, odd: CIFAR-100), the rest is the
 * file.
 *
 *   scripts/fuzz.sh, or by hand: build-fuzz/fuzz_cifar fuzz/corpus/cifar
 *
 * Beyond crashes and sanitizer reports, it traps when a parsed dataset is
 * inconsistent (a label out of range, a count that does not match the
 * size) or an error message breaks the one-line, name-first rule.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/cifar.h"
#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cifar_kind kind = data[0] & 1 ? CIFAR_100 : CIFAR_10;
    soma_dataset *ds = NULL;
    if (cifar_parse(data + 1, size - 1, kind, "fuzz.bin", &ds) == SOMA_OK) {
        if (!ds || (size_t)ds->n * cifar_record_size(kind) != size - 1 || ds->c != 3 ||
            ds->h != 32 || ds->w != 32 || ds->classes != (kind == CIFAR_100 ? 100 : 10))
            __builtin_trap();
        for (int i = 0; i < ds->n; i++)
            if (ds->labels[i] < 0 || ds->labels[i] >= ds->classes)
                __builtin_trap();
        volatile uint8_t sink = ds->images[(size_t)ds->n * CIFAR_IMAGE_BYTES - 1];
        (void)sink;
        soma_dataset_free(ds);
    } else {
        const char *msg = soma_last_error();
        if (ds || strncmp(msg, "fuzz.bin: ", 10) != 0 || strchr(msg, '\n'))
            __builtin_trap();
    }
    return 0;
}

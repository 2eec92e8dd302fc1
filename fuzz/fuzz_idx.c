/*
 * libFuzzer harness for the IDX parser (raw and gzip, from memory).
 *
 *   cmake -S . -B build-fuzz -DSOMA_FUZZ=ON -DCMAKE_C_COMPILER=clang \
 *         -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
 *   cmake --build build-fuzz --target fuzz_idx
 *   build-fuzz/fuzz_idx -max_total_time=30 fuzz/corpus/idx
 *
 * Beyond crashes and sanitizer reports, it traps when a parsed array is
 * inconsistent or an error message breaks the one-line, name-first rule.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    idx_array a;
    if (idx_parse_memory(data, size, "fuzz.idx", &a) == SOMA_OK) {
        size_t items = 1;
        if (a.ndim < 1 || a.ndim > IDX_MAX_DIMS || !a.data)
            __builtin_trap();
        for (int i = 0; i < a.ndim; i++)
            items *= a.dims[i];
        if (items != a.size || a.size > IDX_MAX_BYTES || a.dims[0] > IDX_MAX_ITEMS)
            __builtin_trap();
        /* Touch both ends so ASan checks the buffer is as large as claimed. */
        volatile uint8_t sink = (uint8_t)(a.data[0] ^ a.data[a.size - 1]);
        (void)sink;
    } else {
        const char *msg = soma_last_error();
        if (strncmp(msg, "fuzz.idx: ", 10) != 0 || strchr(msg, '\n'))
            __builtin_trap();
        if (a.data || a.size || a.ndim)
            __builtin_trap();
    }
    idx_free(&a);
    return 0;
}

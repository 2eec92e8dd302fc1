/* libFuzzer harness for st_parse_memory: no crash, no leak, no read outside
 * the input; what parses must be rewritten by the writer and read back the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_safetensors: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f = NULL;
    if (st_parse_memory(data, size, "fuzz", &f) != SOMA_OK)
        return 0;
    st_writer *w = st_writer_create();
    check(w != NULL, "out of memory");
    unsigned sum = 0;
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor_info *t = st_tensor_at(f, i);
        check(t->data >= data && t->data + t->nbytes <= data + size, "tensor outside the input");
        for (size_t k = 0; k < t->nbytes; k++) /* ASan would catch a bad range */
            sum += t->data[k];
        check(st_writer_add(w, t->name, t->dtype, t->ndim, t->dims, t->data) == SOMA_OK,
              "writer refused a tensor the reader accepted");
    }
    for (int i = 0; i < st_meta_count(f); i++) {
        const char *key = st_meta_key_at(f, i);
        if (strcmp(key, ST_CHECKSUM_KEY) != 0 && strcmp(key, ST_CRC_KEY) != 0) /* the writer's */
            check(st_writer_set_meta(w, key, st_meta(f, key)) == SOMA_OK, "writer refused metadata");
    }
    uint8_t *bytes;
    size_t len;
    check(st_writer_serialize(w, &bytes, &len) == SOMA_OK, "serialize failed");
    st_file *g = NULL;
    check(st_parse_memory(bytes, len, "rewritten", &g) == SOMA_OK, "rewritten file rejected");
    check(st_count(g) == st_count(f) && st_meta_count(g) >= st_meta_count(f), "counts differ");
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor_info *a = st_tensor_at(f, i), *b = st_find(g, a->name);
        check(b && b->dtype == a->dtype && b->ndim == a->ndim && b->nbytes == a->nbytes &&
                  memcmp(a->dims, b->dims, sizeof a->dims[0] * (size_t)a->ndim) == 0 &&
                  (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0),
              "tensor differs after rewriting");
    }
    st_free(g);
    free(bytes);
    st_writer_free(w);
    st_free(f);
    return (int)(sum & 0); /* keep the reads */
}

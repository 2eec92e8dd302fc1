#define _POSIX_C_SOURCE 200809L /* strdup */

/* The safetensors writer: tensors in insertion order, metadata first and
 * opened by the whole-file CRC32 (ST_CRC_KEY), the header padded with spaces
 * so the data starts 8-byte aligned. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

typedef struct st_entry {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t dims[ST_MAX_DIMS];
    size_t nbytes;
    void *data;
} st_entry;

struct st_writer {
    st_entry *tensors;
    int ntensors, tensors_cap;
    size_t data_bytes; /* all tensors together */
    char **meta_keys, **meta_values;
    int nmeta, meta_cap;
};

st_writer *st_writer_create(void) { return calloc(1, sizeof(st_writer)); }

void st_writer_free(st_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->ntensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    for (int i = 0; i < w->nmeta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->tensors);
    free(w->meta_keys);
    free(w->meta_values);
    free(w);
}

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_length(s + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

soma_status st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim,
                          const int64_t *dims, const void *data)
{
    if (!w || !name)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: no writer or no name");
    char shown[80];
    str_sanitize(shown, sizeof shown, name);
    if (strcmp(name, "__metadata__") == 0 || !valid_utf8(name))
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: invalid tensor name '%s'", shown);
    if (!st_dtype_name(dtype) || ndim < 0 || ndim > ST_MAX_DIMS || (ndim > 0 && !dims))
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: tensor '%s': bad dtype or ndim",
                          shown);
    for (int i = 0; i < w->ntensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: tensor '%s' added twice",
                              shown);
    size_t nbytes;
    soma_status st = st_tensor_bytes(dtype, ndim, dims, &nbytes);
    if (st != SOMA_OK)
        return soma_error(st, "safetensors writer: tensor '%s': negative or huge shape", shown);
    if (nbytes > SIZE_MAX / 4 - w->data_bytes)
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: tensor '%s' is too large", shown);
    if (nbytes > 0 && !data)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: tensor '%s' has no data", shown);
    if (w->ntensors == w->tensors_cap) {
        if (w->tensors_cap > (1 << 28))
            return soma_error(SOMA_ERR_MEMORY, "safetensors writer: too many tensors");
        int cap = w->tensors_cap ? w->tensors_cap * 2 : 16;
        st_entry *grown = realloc(w->tensors, (size_t)cap * sizeof *grown);
        if (!grown)
            return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory");
        w->tensors = grown;
        w->tensors_cap = cap;
    }
    st_entry e = {.name = strdup(name), .dtype = dtype, .ndim = ndim, .nbytes = nbytes};
    e.data = malloc(nbytes ? nbytes : 1);
    if (!e.name || !e.data) {
        free(e.name);
        free(e.data);
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory for tensor '%s'",
                          shown);
    }
    if (ndim > 0)
        memcpy(e.dims, dims, (size_t)ndim * sizeof *dims);
    if (nbytes)
        memcpy(e.data, data, nbytes);
    w->tensors[w->ntensors++] = e;
    w->data_bytes += nbytes;
    return SOMA_OK;
}

soma_status st_writer_add_f32(st_writer *w, const char *name, int ndim, const int64_t *dims,
                              const float *data)
{
    return st_writer_add(w, name, ST_F32, ndim, dims, data);
}

soma_status st_writer_add_i64(st_writer *w, const char *name, int ndim, const int64_t *dims,
                              const int64_t *data)
{
    return st_writer_add(w, name, ST_I64, ndim, dims, data);
}

static soma_status set_meta(st_writer *w, const char *key, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory");
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_values[i]);
            w->meta_values[i] = copy;
            return SOMA_OK;
        }
    if (w->nmeta == w->meta_cap) {
        int cap = w->meta_cap ? w->meta_cap * 2 : 8;
        char **keys = realloc(w->meta_keys, (size_t)cap * sizeof *keys);
        if (keys)
            w->meta_keys = keys;
        char **values = keys ? realloc(w->meta_values, (size_t)cap * sizeof *values) : NULL;
        if (values)
            w->meta_values = values;
        if (!keys || !values) {
            free(copy);
            return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory");
        }
        w->meta_cap = cap;
    }
    char *key_copy = strdup(key);
    if (!key_copy) {
        free(copy);
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory");
    }
    w->meta_keys[w->nmeta] = key_copy;
    w->meta_values[w->nmeta++] = copy;
    return SOMA_OK;
}

soma_status st_writer_set_meta(st_writer *w, const char *key, const char *value)
{
    if (!w || !key || !value)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: no writer, key or value");
    char shown[80];
    str_sanitize(shown, sizeof shown, key);
    if (strcmp(key, ST_CRC_KEY) == 0 || strcmp(key, ST_CHECKSUM_KEY) == 0)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: metadata '%s' is reserved",
                          shown);
    if (!valid_utf8(key) || !valid_utf8(value))
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: metadata '%s' is not UTF-8",
                          shown);
    return set_meta(w, key, value);
}

/* The CRC32 of the whole file, its digits still '0', then written in. */
static void seal(const st_writer *w, const uint8_t length[8], char *header, size_t header_len)
{
    uint32_t crc = st_crc32(0, length, 8);
    crc = st_crc32(crc, header, header_len);
    for (int i = 0; i < w->ntensors; i++)
        crc = st_crc32(crc, w->tensors[i].data, w->tensors[i].nbytes);
    st_crc_digits(crc, header + ST_CRC_AT - 8);
}

/* Builds the 8-byte length and the padded, sealed header. */
static soma_status build_header(st_writer *w, uint8_t length[8], char **header, size_t *header_len)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, ST_CRC_PREFIX "00000000\"");
    for (int i = 0; i < w->nmeta; i++) {
        strbuf_append(&sb, ",");
        strbuf_append_json_string(&sb, w->meta_keys[i]);
        strbuf_append(&sb, ":");
        strbuf_append_json_string(&sb, w->meta_values[i]);
    }
    strbuf_append(&sb, "}");
    size_t offset = 0;
    for (int i = 0; i < w->ntensors; i++) {
        const st_entry *e = &w->tensors[i];
        strbuf_append(&sb, ",");
        strbuf_append_json_string(&sb, e->name);
        strbuf_appendf(&sb, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++)
            strbuf_appendf(&sb, d ? ",%lld" : "%lld", (long long)e->dims[d]);
        strbuf_appendf(&sb, "],\"data_offsets\":[%zu,%zu]}", offset, offset + e->nbytes);
        offset += e->nbytes;
    }
    strbuf_append(&sb, "}");
    while (!sb.failed && sb.len % 8 != 0)
        strbuf_append(&sb, " ");
    if (sb.failed) {
        strbuf_free(&sb);
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory for the header");
    }
    if (sb.len > ST_MAX_HEADER) {
        strbuf_free(&sb);
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: header over the 100 MiB limit");
    }
    for (int i = 0; i < 8; i++)
        length[i] = (uint8_t)((uint64_t)sb.len >> (8 * i));
    *header_len = sb.len;
    *header = strbuf_take(&sb);
    seal(w, length, *header, *header_len);
    return SOMA_OK;
}

/* The parts of the file in order: length, header, then each tensor's bytes. */
static soma_status gather_parts(st_writer *w, uint8_t length[8], char **header,
                                const void ***parts, size_t **sizes)
{
    size_t header_len = 0;
    SOMA_TRY(build_header(w, length, header, &header_len));
    int nparts = w->ntensors + 2;
    *parts = malloc((size_t)nparts * sizeof **parts);
    *sizes = malloc((size_t)nparts * sizeof **sizes);
    if (!*parts || !*sizes) {
        free(*parts);
        free(*sizes);
        free(*header);
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory");
    }
    (*parts)[0] = length;
    (*sizes)[0] = 8;
    (*parts)[1] = *header;
    (*sizes)[1] = header_len;
    for (int i = 0; i < w->ntensors; i++) {
        (*parts)[i + 2] = w->tensors[i].data;
        (*sizes)[i + 2] = w->tensors[i].nbytes;
    }
    return SOMA_OK;
}

soma_status st_writer_save(st_writer *w, const char *path)
{
    if (!w || !path)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: no writer or no path");
    uint8_t length[8];
    char *header;
    const void **parts;
    size_t *sizes;
    soma_status st = gather_parts(w, length, &header, &parts, &sizes);
    if (st != SOMA_OK)
        return soma_error_context(st, "%s", path);
    st = atomic_write(path, parts, sizes, w->ntensors + 2);
    free(parts);
    free(sizes);
    free(header);
    return st;
}

soma_status st_writer_serialize(st_writer *w, uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    if (!w)
        return soma_error(SOMA_ERR_ARGUMENT, "safetensors writer: no writer");
    uint8_t length[8];
    char *header;
    const void **parts;
    size_t *sizes;
    SOMA_TRY(gather_parts(w, length, &header, &parts, &sizes));
    size_t total = 0;
    for (int i = 0; i < w->ntensors + 2; i++)
        total += sizes[i];
    uint8_t *out = malloc(total ? total : 1);
    if (out) {
        size_t at = 0;
        for (int i = 0; i < w->ntensors + 2; i++) {
            if (sizes[i])
                memcpy(out + at, parts[i], sizes[i]);
            at += sizes[i];
        }
    }
    free(parts);
    free(sizes);
    free(header);
    if (!out)
        return soma_error(SOMA_ERR_MEMORY, "safetensors writer: out of memory for %zu bytes", total);
    *bytes = out;
    *len = total;
    return SOMA_OK;
}

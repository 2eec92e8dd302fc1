#define _POSIX_C_SOURCE 200809L /* strdup */

/* The safetensors reader and what reader and writer share; the writer is in
 * safetensors_write.c. */
#include "io/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "io/atomic_file.h"
#include "io/json.h"

struct st_file {
    char *name;      /* for messages */
    uint8_t *owned;  /* the file's bytes when st_read loaded them */
    json_value *header;
    const json_value *meta; /* the "__metadata__" object, or NULL */
    int ntensors;
    st_tensor_info *tensors;
    st_checksum checksum; /* the one verified */
};

static const struct { const char *name; size_t size; } dtypes[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},
    [ST_F8_E5M2] = {"F8_E5M2", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1},
    [ST_I16] = {"I16", 2},   [ST_U16] = {"U16", 2}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4}, [ST_U32] = {"U32", 4},
    [ST_F32] = {"F32", 4},   [ST_F64] = {"F64", 8}, [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},
};

const char *st_dtype_name(st_dtype dtype)
{
    return ((unsigned)dtype < ST_DTYPE_COUNT) ? dtypes[dtype].name : NULL;
}

size_t st_dtype_size(st_dtype dtype)
{
    return ((unsigned)dtype < ST_DTYPE_COUNT) ? dtypes[dtype].size : 0;
}

static int dtype_parse(const char *name, st_dtype *out)
{
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (name && strcmp(name, dtypes[i].name) == 0) {
            *out = (st_dtype)i;
            return 1;
        }
    return 0;
}

soma_status st_tensor_bytes(st_dtype dtype, int ndim, const int64_t *dims, size_t *out)
{
    uint64_t n = st_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return SOMA_ERR_SHAPE;
        if (dims[i] > 0 && n > SIZE_MAX / (uint64_t)dims[i])
            return SOMA_ERR_MEMORY;
        n *= (uint64_t)dims[i];
    }
    *out = (size_t)n;
    return SOMA_OK;
}

void st_format_shape(char *buf, size_t size, int ndim, const int64_t *dims)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "[");
    for (int i = 0; i < ndim; i++)
        strbuf_appendf(&sb, i ? ",%lld" : "%lld", (long long)dims[i]);
    strbuf_append(&sb, "]");
    snprintf(buf, size, "%s", sb.failed ? "[?]" : sb.data);
    strbuf_free(&sb);
}

uint32_t st_crc32(uint32_t crc, const void *data, size_t len)
{
    const Bytef *p = data;
    while (len > 0) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return crc;
}

void st_crc_digits(uint32_t crc, char digits[8])
{
    for (int i = 0; i < 8; i++)
        digits[i] = "0123456789abcdef"[(crc >> (28 - 4 * i)) & 0xF];
}

uint32_t st_sealed_crc(const uint8_t *bytes, size_t len)
{
    uint32_t crc = st_crc32(0, bytes, ST_CRC_AT);
    crc = st_crc32(crc, "00000000", 8);
    return st_crc32(crc, bytes + ST_CRC_AT + 8, len - ST_CRC_AT - 8);
}

soma_status st_seal(uint8_t *bytes, size_t len)
{
    if (len <= ST_CRC_AT + 8 || memcmp(bytes + 8, ST_CRC_PREFIX, ST_CRC_AT - 8) != 0)
        return soma_error(SOMA_ERR_FORMAT, "safetensors: the header does not start with %s",
                          ST_CRC_PREFIX);
    char digits[8];
    st_crc_digits(st_sealed_crc(bytes, len), digits);
    memcpy(bytes + ST_CRC_AT, digits, 8);
    return SOMA_OK;
}

void st_free(st_file *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->owned);
    json_free(f->header);
    free(f->tensors);
    free(f);
}

/* An error about one tensor: "NAME: tensor 'x' <what>". */
static soma_status tensor_error(const st_file *f, const char *tensor, const char *what)
{
    char shown[80];
    str_sanitize(shown, sizeof shown, tensor);
    return soma_error(SOMA_ERR_FORMAT, "%s: tensor '%s' %s", f->name, shown, what);
}

static soma_status parse_shape(const st_file *f, const char *name, const json_value *v,
                               st_tensor_info *t)
{
    if (json_typeof(v) != JSON_ARRAY)
        return tensor_error(f, name, "has a 'shape' that is not an array");
    if (json_count(v) > ST_MAX_DIMS)
        return tensor_error(f, name, "has more dimensions than the 16 supported");
    t->ndim = (int)json_count(v);
    for (int i = 0; i < t->ndim; i++)
        if (!json_get_int64(json_at(v, (size_t)i), &t->dims[i]) || t->dims[i] < 0)
            return tensor_error(f, name, "has a 'shape' entry that is not a non-negative integer");
    return SOMA_OK;
}

static soma_status parse_offsets(const st_file *f, const char *name, const json_value *v,
                                 int64_t offsets[2])
{
    if (json_typeof(v) != JSON_ARRAY || json_count(v) != 2 ||
        !json_get_int64(json_at(v, 0), &offsets[0]) ||
        !json_get_int64(json_at(v, 1), &offsets[1]) || offsets[0] < 0 || offsets[1] < 0)
        return tensor_error(f, name, "has 'data_offsets' that are not [begin, end] (integers >= 0)");
    if (offsets[1] < offsets[0])
        return tensor_error(f, name, "has 'data_offsets' with end before begin");
    return SOMA_OK;
}

/* Fills t from one header entry; begin/end are relative to the data section. */
static soma_status parse_entry(const st_file *f, const char *name, const json_value *v,
                               const uint8_t *data, size_t data_len, st_tensor_info *t,
                               size_t *begin)
{
    if (json_typeof(v) != JSON_OBJECT)
        return tensor_error(f, name, "is not an object");
    const json_value *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (size_t i = 0; i < json_count(v); i++) {
        const char *key = json_key_at(v, i);
        if (strcmp(key, "dtype") == 0)
            dtype = json_at(v, i);
        else if (strcmp(key, "shape") == 0)
            shape = json_at(v, i);
        else if (strcmp(key, "data_offsets") == 0)
            offsets = json_at(v, i);
        else
            return tensor_error(f, name, "has a field other than dtype, shape, data_offsets");
    }
    if (!dtype || !shape || !offsets)
        return tensor_error(f, name, "lacks one of 'dtype', 'shape', 'data_offsets'");
    t->name = name;
    if (!dtype_parse(json_string(dtype), &t->dtype))
        return tensor_error(f, name, "has an unknown dtype (not F32, I64, U8, BF16, ...)");
    SOMA_TRY(parse_shape(f, name, shape, t));
    int64_t range[2];
    SOMA_TRY(parse_offsets(f, name, offsets, range));
    if ((uint64_t)range[1] > data_len) {
        char what[160];
        snprintf(what, sizeof what, "has data_offsets [%lld, %lld] past the end of the data (%zu bytes)",
                 (long long)range[0], (long long)range[1], data_len);
        return tensor_error(f, name, what);
    }
    size_t need;
    if (st_tensor_bytes(t->dtype, t->ndim, t->dims, &need) != SOMA_OK ||
        need != (size_t)(range[1] - range[0])) {
        char what[200], shape_text[96];
        st_format_shape(shape_text, sizeof shape_text, t->ndim, t->dims);
        snprintf(what, sizeof what, "of shape %s and dtype %s does not fit its %lld bytes",
                 shape_text, st_dtype_name(t->dtype), (long long)(range[1] - range[0]));
        return tensor_error(f, name, what);
    }
    t->nbytes = need;
    t->data = data + range[0];
    *begin = (size_t)range[0];
    return SOMA_OK;
}

static soma_status parse_metadata(const st_file *f, const json_value *meta)
{
    if (json_typeof(meta) != JSON_OBJECT)
        return soma_error(SOMA_ERR_FORMAT, "%s: __metadata__ is not an object", f->name);
    for (size_t i = 0; i < json_count(meta); i++)
        if (json_typeof(json_at(meta, i)) != JSON_STRING) {
            char shown[80];
            str_sanitize(shown, sizeof shown, json_key_at(meta, i));
            return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not a string", f->name,
                              shown);
        }
    return SOMA_OK;
}

typedef struct span {
    size_t begin, end;
    int index;
} span;

static int compare_spans(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The tensors must tile the data section: no gap, no overlap, nothing left over. */
static soma_status check_tiling(const st_file *f, span *spans, size_t data_len)
{
    qsort(spans, (size_t)f->ntensors, sizeof *spans, compare_spans);
    size_t at = 0;
    for (int i = 0; i < f->ntensors; i++) {
        const span *s = &spans[i];
        if (s->begin > at)
            return soma_error(SOMA_ERR_FORMAT,
                              "%s: bytes %zu..%zu of the data are not part of any tensor",
                              f->name, at, s->begin);
        if (s->begin < at) {
            char a[80], b[80];
            str_sanitize(a, sizeof a, f->tensors[spans[i - 1].index].name);
            str_sanitize(b, sizeof b, f->tensors[s->index].name);
            return soma_error(SOMA_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", f->name, a,
                              b);
        }
        at = s->end;
    }
    if (at != data_len)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: the last %zu bytes of the data are not part of any tensor", f->name,
                          data_len - at);
    return SOMA_OK;
}

static int lowercase_hex(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* ST_CRC_KEY: the CRC32 of every byte of the file, so one flipped bit
 * anywhere is caught. It must open the header, where its digits have a
 * fixed place; they must be lowercase, or a flipped case bit ('a' to 'A')
 * would pass. */
static soma_status check_sealed(st_file *f, const uint8_t *bytes, size_t len, size_t header_len)
{
    const size_t prefix = ST_CRC_AT - 8;
    if (header_len < prefix + 9 || memcmp(bytes + 8, ST_CRC_PREFIX, prefix) != 0)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata '%s' is not the first entry of the header, where it "
                          "must be to be checked",
                          f->name, ST_CRC_KEY);
    const uint8_t *digits = bytes + ST_CRC_AT;
    if (!lowercase_hex(digits, 8) || digits[8] != '"')
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not 8 lowercase hex digits",
                          f->name, ST_CRC_KEY);
    uint32_t stored = 0;
    for (int i = 0; i < 8; i++) {
        int nibble = digits[i] <= '9' ? digits[i] - '0' : digits[i] - 'a' + 10;
        stored = (stored << 4) | (uint32_t)nibble;
    }
    if (stored != st_sealed_crc(bytes, len))
        return soma_error(SOMA_ERR_FORMAT, "%s: checksum mismatch (file is corrupt or was modified)",
                          f->name);
    f->checksum = ST_CHECKSUM_FILE;
    return SOMA_OK;
}

/* ST_CHECKSUM_KEY (soma-checkpoint-1): the CRC32 of the data section only. */
static soma_status check_data_checksum(st_file *f, const char *want, const uint8_t *data,
                                       size_t data_len)
{
    char *end;
    unsigned long stored = strtoul(want, &end, 16);
    if (strlen(want) != 8 || *end != '\0' || strspn(want, "0123456789abcdefABCDEF") != 8)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata %s is not 8 hex digits", f->name,
                          ST_CHECKSUM_KEY);
    if ((uint32_t)stored != st_crc32(0, data, data_len))
        return soma_error(SOMA_ERR_FORMAT, "%s: checksum mismatch (file is corrupt or was modified)",
                          f->name);
    if (f->checksum == ST_CHECKSUM_NONE)
        f->checksum = ST_CHECKSUM_DATA;
    return SOMA_OK;
}

static soma_status check_checksums(st_file *f, const uint8_t *bytes, size_t len,
                                   size_t header_len)
{
    if (st_meta(f, ST_CRC_KEY))
        SOMA_TRY(check_sealed(f, bytes, len, header_len));
    const char *data_crc = st_meta(f, ST_CHECKSUM_KEY);
    if (data_crc)
        SOMA_TRY(check_data_checksum(f, data_crc, bytes + 8 + header_len, len - 8 - header_len));
    return SOMA_OK;
}

/* Everything after the 8-byte length: header entries, tiling, checksum. */
static soma_status parse_header(st_file *f, const uint8_t *bytes, size_t len, size_t header_len)
{
    const uint8_t *data = bytes + 8 + header_len;
    size_t data_len = len - 8 - header_len;
    size_t nentries = json_count(f->header);
    f->meta = json_object_get(f->header, "__metadata__");
    if (f->meta)
        SOMA_TRY(parse_metadata(f, f->meta));
    size_t ntensors = nentries - (f->meta ? 1 : 0);
    f->tensors = calloc(ntensors ? ntensors : 1, sizeof *f->tensors);
    span *spans = calloc(ntensors ? ntensors : 1, sizeof *spans);
    if (!f->tensors || !spans) {
        free(spans);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %zu tensors", f->name, ntensors);
    }
    soma_status st = SOMA_OK;
    for (size_t i = 0; i < nentries && st == SOMA_OK; i++) {
        const char *key = json_key_at(f->header, i);
        if (strcmp(key, "__metadata__") == 0)
            continue;
        int k = f->ntensors++;
        st = parse_entry(f, key, json_at(f->header, i), data, data_len, &f->tensors[k],
                         &spans[k].begin);
        spans[k].end = spans[k].begin + f->tensors[k].nbytes;
        spans[k].index = k;
    }
    if (st == SOMA_OK)
        st = check_tiling(f, spans, data_len);
    free(spans);
    if (st == SOMA_OK)
        st = check_checksums(f, bytes, len, header_len);
    return st;
}

static soma_status parse_bytes(st_file *f, const uint8_t *bytes, size_t len)
{
    if (len < 8)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: file is %zu bytes, too short for a safetensors header", f->name, len);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = (header_len << 8) | bytes[i];
    if (header_len > ST_MAX_HEADER)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: header length %llu is over the 100 MiB limit (not a safetensors file?)",
                          f->name, (unsigned long long)header_len);
    if (header_len > len - 8)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: header length %llu runs past the end of the file (%zu bytes; truncated?)",
                          f->name, (unsigned long long)header_len, len);
    if (header_len < 2 || bytes[8] != '{')
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: header does not start with '{' (not a safetensors file?)", f->name);
    char *where = malloc(strlen(f->name) + 16);
    if (!where)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", f->name);
    sprintf(where, "%s: header", f->name);
    soma_status st = json_parse((const char *)bytes + 8, (size_t)header_len, where, &f->header);
    free(where);
    if (st != SOMA_OK)
        return st;
    return parse_header(f, bytes, len, (size_t)header_len);
}

soma_status st_parse_memory(const uint8_t *bytes, size_t len, const char *name, st_file **out)
{
    *out = NULL;
    if (!name)
        name = "safetensors";
    if (!bytes && len > 0)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: no bytes given", name);
    st_file *f = calloc(1, sizeof *f);
    if (f)
        f->name = strdup(name);
    if (!f || !f->name) {
        st_free(f);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", name);
    }
    soma_status st = parse_bytes(f, bytes, len);
    if (st != SOMA_OK) {
        st_free(f);
        return st;
    }
    *out = f;
    return SOMA_OK;
}

soma_status st_read(const char *path, st_file **out)
{
    *out = NULL;
    size_t limit = (size_t)16 << 30;
    if (limit > SIZE_MAX / 2)
        limit = SIZE_MAX / 2;
    uint8_t *bytes;
    size_t len;
    SOMA_TRY(st_read_file(path, limit, &bytes, &len));
    soma_status st = st_parse_memory(bytes, len, path, out);
    if (st != SOMA_OK) {
        free(bytes);
        return st;
    }
    (*out)->owned = bytes;
    return SOMA_OK;
}

/* ------------------------------------------------------------- accessors */

int st_count(const st_file *f) { return f ? f->ntensors : 0; }

const st_tensor_info *st_tensor_at(const st_file *f, int i)
{
    return (f && i >= 0 && i < f->ntensors) ? &f->tensors[i] : NULL;
}

const char *st_name(const st_file *f, int i)
{
    const st_tensor_info *t = st_tensor_at(f, i);
    return t ? t->name : NULL;
}

const st_tensor_info *st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < st_count(f); i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

st_checksum st_checksum_of(const st_file *f) { return f ? f->checksum : ST_CHECKSUM_NONE; }

const char *st_meta(const st_file *f, const char *key)
{
    return f ? json_string(json_object_get(f->meta, key)) : NULL;
}

int st_meta_count(const st_file *f) { return f ? (int)json_count(f->meta) : 0; }

const char *st_meta_key_at(const st_file *f, int i)
{
    return (f && i >= 0) ? json_key_at(f->meta, (size_t)i) : NULL;
}

static soma_status get_checked(const st_file *f, const char *name, st_dtype dtype, int ndim,
                               const int64_t *dims, void *out)
{
    char shown[80];
    str_sanitize(shown, sizeof shown, name);
    if (ndim < 0 || ndim > ST_MAX_DIMS)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: tensor '%s': %d dimensions asked for", f->name,
                          shown, ndim);
    const st_tensor_info *t = st_find(f, name);
    if (!t)
        return soma_error(SOMA_ERR_FORMAT, "%s: no tensor '%s'", f->name, shown);
    if (t->dtype != dtype)
        return soma_error(SOMA_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected %s", f->name,
                          shown, st_dtype_name(t->dtype), st_dtype_name(dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->dims[i] == dims[i];
    if (!same) {
        char have[96], want[96];
        st_format_shape(have, sizeof have, t->ndim, t->dims);
        st_format_shape(want, sizeof want, ndim, dims);
        return soma_error(SOMA_ERR_SHAPE, "%s: tensor '%s' has shape %s, the model expects %s",
                          f->name, shown, have, want);
    }
    if (t->nbytes)
        memcpy(out, t->data, t->nbytes);
    return SOMA_OK;
}

soma_status st_get_f32(const st_file *f, const char *name, int ndim, const int64_t *dims,
                       float *out)
{
    return get_checked(f, name, ST_F32, ndim, dims, out);
}

soma_status st_get_i64(const st_file *f, const char *name, int ndim, const int64_t *dims,
                       int64_t *out)
{
    return get_checked(f, name, ST_I64, ndim, dims, out);
}

/* The safetensors reader against hand-built files (the spec, not our writer),
 * the writer's output byte by byte, both checksums, and every kind of
 * corruption. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "support/check.h"

/* Bitwise CRC-32 (IEEE 802.3, reflected 0xEDB88320): independent of zlib. */
static uint32_t crc32_reference(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* The whole-file CRC (ST_CRC_KEY) by the reference: its 8 digits as '0'. */
static uint32_t sealed_crc_reference(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    memset(copy + ST_CRC_AT, '0', 8);
    uint32_t crc = crc32_reference(copy, n);
    free(copy);
    return crc;
}

/* 8-byte little-endian length + header + data. */
static uint8_t *make_file(const char *header, const uint8_t *data, size_t data_len, size_t *len)
{
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    if (data)
        memcpy(b + 8 + n, data, data_len);
    return b;
}

/* Parsing must fail with one line that names the file and says `want`. */
static void expect_error(const uint8_t *bytes, size_t len, const char *want, const char *what)
{
    st_file *f = (st_file *)1;
    soma_status st = st_parse_memory(bytes, len, "bad.safetensors", &f);
    const char *msg = soma_last_error();
    CHECK_MSG(st != SOMA_OK, "%s: accepted", what);
    CHECK(f == NULL);
    CHECK_MSG(strncmp(msg, "bad.safetensors: ", 17) == 0 && !strchr(msg, '\n'), "%s: '%s'", what,
              msg);
    CHECK_MSG(!want || strstr(msg, want), "%s: message '%s' lacks '%s'", what, msg, want);
}

static void expect_header_error(const char *header, size_t data_len, const char *want)
{
    size_t len;
    uint8_t *b = make_file(header, NULL, data_len, &len);
    expect_error(b, len, want, header);
    free(b);
}

static const char hand_header[] =
    "{\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
    "\"a\":{\"shape\":[2,1],\"dtype\":\"F32\",\"data_offsets\":[0,8]},"
    "\"__metadata__\":{\"format\":\"pt\"}}";
static const uint8_t hand_data[24] = {
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, /* 1.0f, -2.0f */
    0x05, 0, 0, 0, 0, 0, 0, 0,                      /* 5 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 */
};

static void test_hand_built(void)
{
    size_t len;
    uint8_t *b = make_file(hand_header, hand_data, sizeof hand_data, &len);
    st_file *f = NULL;
    CHECK_MSG(st_parse_memory(b, len, "hand", &f) == SOMA_OK, "%s", soma_last_error());
    if (f) {
        CHECK(st_count(f) == 2);
        CHECK(strcmp(st_name(f, 0), "b") == 0 && strcmp(st_name(f, 1), "a") == 0);
        CHECK(st_name(f, 2) == NULL && st_find(f, "c") == NULL);
        const st_tensor_info *a = st_find(f, "a");
        CHECK(a && a->dtype == ST_F32 && a->ndim == 2 && a->dims[0] == 2 && a->dims[1] == 1);
        CHECK(a && a->nbytes == 8 && a->data == b + 8 + strlen(hand_header));
        CHECK(st_checksum_of(f) == ST_CHECKSUM_NONE);
        float af[2];
        int64_t bi[2];
        CHECK(st_get_f32(f, "a", 2, (const int64_t[]){2, 1}, af) == SOMA_OK);
        CHECK(af[0] == 1.0f && af[1] == -2.0f);
        CHECK(st_get_i64(f, "b", 1, (const int64_t[]){2}, bi) == SOMA_OK);
        CHECK(bi[0] == 5 && bi[1] == -1);
        CHECK(strcmp(st_meta(f, "format"), "pt") == 0 && st_meta(f, "x") == NULL);
        CHECK(st_meta_count(f) == 1 && strcmp(st_meta_key_at(f, 0), "format") == 0);
        CHECK(st_get_f32(f, "b", 1, (const int64_t[]){2}, af) == SOMA_ERR_FORMAT);
        CHECK(strcmp(soma_last_error(), "hand: tensor 'b' has dtype I64, expected F32") == 0);
        CHECK(st_get_f32(f, "a", 1, (const int64_t[]){2}, af) == SOMA_ERR_SHAPE);
        CHECK(st_get_f32(f, "zz", 1, (const int64_t[]){2}, af) == SOMA_ERR_FORMAT);
        CHECK(strcmp(soma_last_error(), "hand: no tensor 'zz'") == 0);
    }
    st_free(f);
    free(b);

    /* the same header padded with spaces to a multiple of 8, as writers do */
    char padded[512];
    snprintf(padded, sizeof padded, "%s", hand_header);
    while (strlen(padded) % 8)
        strcat(padded, " ");
    b = make_file(padded, hand_data, sizeof hand_data, &len);
    f = NULL;
    CHECK_MSG(st_parse_memory(b, len, "padded", &f) == SOMA_OK, "%s", soma_last_error());
    CHECK(st_count(f) == 2 && st_find(f, "b") && st_find(f, "b")->data == b + len - 16);
    st_free(f);
    free(b);

    /* no tensors at all, and a zero-size tensor: both valid */
    b = make_file("{}", NULL, 0, &len);
    f = NULL;
    CHECK(st_parse_memory(b, len, "empty", &f) == SOMA_OK && st_count(f) == 0 && !st_meta(f, "x"));
    st_free(f);
    free(b);
    b = make_file("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}", NULL, 0, &len);
    f = NULL;
    CHECK(st_parse_memory(b, len, "zero", &f) == SOMA_OK && st_find(f, "z") &&
          st_find(f, "z")->nbytes == 0);
    st_free(f);
    free(b);
}

static void test_bad_headers(void)
{
#define T(name, dtype, shape, b, e) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 4, 12) "}", 12,
                        "tensors 'a' and 'b' overlap");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "}", 4, "past the end of the data (4 bytes)");
    expect_header_error("{" T("a", "F32", "[2]", 4, 12) "}", 12,
                        "bytes 0..4 of the data are not part of any tensor");
    expect_header_error("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 8, 12) "}", 12,
                        "bytes 4..8 of the data are not part of any tensor");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "}", 12,
                        "the last 4 bytes of the data are not part of any tensor");
    expect_header_error("{" T("a", "F32", "[3]", 0, 8) "}", 8,
                        "tensor 'a' of shape [3] and dtype F32 does not fit its 8 bytes");
    expect_header_error("{" T("a", "I64", "[2]", 0, 8) "}", 8, "does not fit");
    expect_header_error("{" T("a", "F32", "[4294967296,4294967296,16]", 0, 0) "}", 0, "does not fit");
    expect_header_error("{" T("a", "F31", "[2]", 0, 8) "}", 8, "tensor 'a' has an unknown dtype");
    expect_header_error("{" T("a", "f32", "[2]", 0, 8) "}", 8, "unknown dtype");
    expect_header_error("{" T("a", "F32", "[-2]", 0, 8) "}", 8, "not a non-negative integer");
    expect_header_error("{" T("a", "F32", "[2.0]", 0, 8) "}", 8, "not a non-negative integer");
    expect_header_error("{" T("a", "F32", "[\"2\"]", 0, 8) "}", 8, "not a non-negative integer");
    expect_header_error("{" T("a", "F32", "2", 0, 8) "}", 8, "'shape' that is not an array");
    expect_header_error("{" T("a", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2]", 0, 8) "}", 8,
                        "more dimensions");
    expect_header_error("{" T("a", "F32", "[2]", 8, 0) "}", 8, "end before begin");
    expect_header_error("{" T("a", "F32", "[2]", -8, 0) "}", 8, "not [begin, end]");
    expect_header_error("{" T("a", "F32", "[2]", 0, 1e20) "}", 8, "not [begin, end]");
    expect_header_error("{" T("a", "F32", "[2]", 0, 18446744073709551616) "}", 8, "not [begin, end]");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8,
                        "not [begin, end]");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "lacks one of");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
                        "has a field other than");
    expect_header_error("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype");
    expect_header_error("{\"a\":5}", 0, "tensor 'a' is not an object");
    expect_header_error("{\"__metadata__\":{\"epoch\":3}}", 0, "metadata 'epoch' is not a string");
    expect_header_error("{\"__metadata__\":[]}", 0, "__metadata__ is not an object");
    expect_header_error("{\"__metadata__\":{\"soma.checksum\":\"xyz\"}}", 0, "is not 8 hex digits");
    expect_header_error("{\"__metadata__\":{\"soma.checksum\":\"+1234567\"}}", 0, "8 hex digits");
    expect_header_error("{\"__metadata__\":{\"soma.checksum\":\"00000001\"}}", 0, "checksum mismatch");
    /* soma-checkpoint-1's CRC of the data section alone */
    char v1[160];
    snprintf(v1, sizeof v1,
             "{\"__metadata__\":{\"soma.checksum\":\"%08x\"},"
             "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}",
             crc32_reference((const uint8_t *)"abc", 3));
    size_t v1_len;
    uint8_t *v1_file = make_file(v1, (const uint8_t *)"abc", 3, &v1_len);
    st_file *v1_f = NULL;
    CHECK_MSG(st_parse_memory(v1_file, v1_len, "v1", &v1_f) == SOMA_OK, "%s", soma_last_error());
    CHECK(st_checksum_of(v1_f) == ST_CHECKSUM_DATA);
    st_free(v1_f);
    v1_file[v1_len - 1] = 'd';
    expect_error(v1_file, v1_len, "checksum mismatch", "v1 data changed");
    free(v1_file);
    /* the whole-file CRC is checked only where it has a fixed place */
    expect_header_error("{\"__metadata__\":{\"soma.crc32\":\"00000000\"}}", 0, "checksum mismatch");
    expect_header_error("{\"__metadata__\":{\"soma.crc32\":\"0000000A\"}}", 0,
                        "metadata 'soma.crc32' is not 8 lowercase hex digits");
    expect_header_error("{\"__metadata__\":{\"soma.crc32\":\"0000000\"}}", 0,
                        "not 8 lowercase hex digits");
    expect_header_error("{\"__metadata__\":{\"format\":\"x\",\"soma.crc32\":\"00000000\"}}", 0,
                        "metadata 'soma.crc32' is not the first entry of the header");
    expect_header_error("{\"__metadata__\": {\"soma.crc32\":\"00000000\"}}", 0,
                        "not the first entry");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                        "\"__metadata__\":{\"soma.crc32\":\"00000000\"}}",
                        0, "not the first entry");
    expect_header_error("{" T("a", "F32", "[1]", 0, 4) "," T("a", "F32", "[1]", 4, 8) "}", 8,
                        "header: JSON error at byte 54: duplicate key \"a\"");
    expect_header_error("{\"a\" 1}", 0, "bad.safetensors: header: JSON error at byte 5: expected ':'");
    expect_header_error("[]", 0, "does not start with '{'");
    expect_header_error(" {}", 0, "does not start with '{'");
    expect_header_error("{} x", 0, "after the value");
    expect_header_error("{\"a\\nb\":5}", 0, "tensor 'a?b' is not an object"); /* still one line */
#undef T

    /* the length field */
    uint8_t small[7] = {0};
    expect_error(small, sizeof small, "too short", "7 bytes");
    expect_error(NULL, 0, "too short", "no bytes");
    size_t len;
    uint8_t *b = make_file(hand_header, hand_data, sizeof hand_data, &len);
    b[7] = 0xff;
    expect_error(b, len, "over the 100 MiB limit", "huge length");
    b[7] = 0;
    b[3] = 0x07; /* 100 MiB + a bit */
    expect_error(b, len, "over the 100 MiB limit", "over 100 MiB");
    b[3] = 0;
    uint64_t past = len - 8 + 1;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(past >> (8 * i));
    expect_error(b, len, "runs past the end of the file", "length past the end");
    free(b);
}

/* Writes a small checkpoint-like file and checks every byte of it. */
static void test_writer(const char *path)
{
    float w[6], bias[3] = {0.5f, -0.25f, 3.0f};
    for (int i = 0; i < 6; i++)
        w[i] = (float)i * 0.5f - 1.0f;
    int64_t step = 42;
    uint8_t raw[5] = {1, 2, 3, 4, 250};
    const char *model_text = "input channels=1 height=28 width=28\nconv \"x\"\t\\ caf\xc3\xa9";

    st_writer *wr = st_writer_create();
    CHECK(st_writer_add_f32(wr, "0.weight", 2, (const int64_t[]){2, 3}, w) == SOMA_OK);
    CHECK(st_writer_add_f32(wr, "0.bias", 1, (const int64_t[]){3}, bias) == SOMA_OK);
    CHECK(st_writer_add_i64(wr, "optimizer.step", 0, NULL, &step) == SOMA_OK);
    CHECK(st_writer_add_f32(wr, "empty", 2, (const int64_t[]){0, 5}, NULL) == SOMA_OK);
    CHECK(st_writer_add(wr, "raw", ST_U8, 1, (const int64_t[]){5}, raw) == SOMA_OK);
    CHECK(st_writer_set_meta(wr, "soma.model", "placeholder") == SOMA_OK);
    CHECK(st_writer_set_meta(wr, "soma.model", model_text) == SOMA_OK); /* replaces */
    CHECK(st_writer_set_meta(wr, "epoch", "3") == SOMA_OK);
    /* rejected additions */
    CHECK(st_writer_add_f32(wr, "0.bias", 1, (const int64_t[]){3}, bias) == SOMA_ERR_ARGUMENT);
    CHECK(st_writer_add_f32(wr, "__metadata__", 1, (const int64_t[]){3}, bias) == SOMA_ERR_ARGUMENT);
    CHECK(st_writer_add_f32(wr, "bad\xff", 1, (const int64_t[]){3}, bias) == SOMA_ERR_ARGUMENT);
    CHECK(st_writer_add_f32(wr, "neg", 1, (const int64_t[]){-3}, bias) != SOMA_OK);
    CHECK(st_writer_add_f32(wr, "huge", 3, (const int64_t[]){1LL << 40, 1LL << 40, 1LL << 40}, bias) != SOMA_OK);
    CHECK(st_writer_set_meta(wr, ST_CHECKSUM_KEY, "00000000") == SOMA_ERR_ARGUMENT);
    CHECK(st_writer_set_meta(wr, ST_CRC_KEY, "00000000") == SOMA_ERR_ARGUMENT);
    CHECK(st_writer_save(wr, path) == SOMA_OK);

    uint8_t *file;
    size_t len;
    CHECK(read_whole_file(path, 1 << 20, &file, &len) == SOMA_OK);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | file[i];
    size_t data_len = 24 + 12 + 8 + 0 + 5;
    CHECK(n + 8 + data_len == len);
    CHECK((8 + n) % 8 == 0 && file[8] == '{');
    /* the whole-file CRC opens the header */
    CHECK(memcmp(file + 8, "{\"__metadata__\":{\"soma.crc32\":\"", 31) == 0 && ST_CRC_AT == 39);
    char crc[16];
    snprintf(crc, sizeof crc, "%08x", sealed_crc_reference(file, len));
    CHECK_MSG(memcmp(file + ST_CRC_AT, crc, 8) == 0 && file[ST_CRC_AT + 8] == '"', "want %s", crc);
    CHECK(st_sealed_crc(file, len) == sealed_crc_reference(file, len));
    /* the data section: tensors in insertion order, little-endian as in memory */
    const uint8_t *data = file + 8 + n;
    CHECK(memcmp(data, w, 24) == 0 && memcmp(data + 24, bias, 12) == 0);
    CHECK(data[36] == 42 && data[37] == 0 && memcmp(data + 44, raw, 5) == 0);
    /* the header, read with the JSON parser alone */
    json_value *h = NULL;
    CHECK(json_parse((const char *)file + 8, n, "header", &h) == SOMA_OK);
    CHECK(strcmp(json_key_at(h, 0), "__metadata__") == 0);
    CHECK(strcmp(json_key_at(h, 1), "0.weight") == 0 && strcmp(json_key_at(h, 5), "raw") == 0);
    const json_value *meta = json_object_get(h, "__metadata__");
    CHECK(strcmp(json_key_at(meta, 0), ST_CRC_KEY) == 0 && json_count(meta) == 3);
    CHECK(strcmp(json_string(json_object_get(meta, "soma.model")), model_text) == 0);
    CHECK(strcmp(json_string(json_object_get(meta, ST_CRC_KEY)), crc) == 0);
    CHECK(json_object_get(meta, ST_CHECKSUM_KEY) == NULL); /* v1's data-only CRC: not written */
    const json_value *offs = json_object_get(json_object_get(h, "0.bias"), "data_offsets");
    CHECK(json_number(json_at(offs, 0)) == 24 && json_number(json_at(offs, 1)) == 36);
    const json_value *shape = json_object_get(json_object_get(h, "optimizer.step"), "shape");
    CHECK(json_typeof(shape) == JSON_ARRAY && json_count(shape) == 0);
    json_free(h);

    /* serialize gives the same bytes */
    uint8_t *mem;
    size_t mem_len;
    CHECK(st_writer_serialize(wr, &mem, &mem_len) == SOMA_OK);
    CHECK(mem_len == len && memcmp(mem, file, len) == 0);
    free(mem);
    st_writer_free(wr);

    /* and the reader gives back what went in */
    st_file *f = NULL;
    CHECK_MSG(st_read(path, &f) == SOMA_OK, "%s", soma_last_error());
    if (f) {
        CHECK(st_count(f) == 5);
        float w2[6], b2[3];
        int64_t step2 = 0;
        CHECK(st_get_f32(f, "0.weight", 2, (const int64_t[]){2, 3}, w2) == SOMA_OK);
        CHECK(memcmp(w2, w, sizeof w) == 0);
        CHECK(st_get_f32(f, "0.bias", 1, (const int64_t[]){3}, b2) == SOMA_OK);
        CHECK(memcmp(b2, bias, sizeof bias) == 0);
        CHECK(st_get_i64(f, "optimizer.step", 0, NULL, &step2) == SOMA_OK && step2 == 42);
        CHECK(st_get_f32(f, "empty", 2, (const int64_t[]){0, 5}, b2) == SOMA_OK);
        CHECK(st_find(f, "raw")->dtype == ST_U8 && st_find(f, "raw")->data[4] == 250);
        CHECK(strcmp(st_meta(f, "soma.model"), model_text) == 0);
        CHECK(strcmp(st_meta(f, "epoch"), "3") == 0);
        CHECK(strcmp(st_meta(f, ST_CRC_KEY), crc) == 0);
        CHECK(st_checksum_of(f) == ST_CHECKSUM_FILE);
    }
    st_free(f);
    free(file);
}

/* "" is a tensor name like any other: files from PyTorch forward hooks carry
 * it (the root module), the reader accepts it, so the writer must write it.
 * Found by fuzz_safetensors (the writer refused what the reader read). */
static void test_empty_name(void)
{
    size_t len = 0;
    uint8_t *file = make_file("{\"\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                              (const uint8_t *)"xy", 2, &len);
    st_file *f = NULL;
    CHECK_MSG(st_parse_memory(file, len, "hooks", &f) == SOMA_OK, "%s", soma_last_error());
    const st_tensor_info *t = f ? st_find(f, "") : NULL;
    CHECK(t && t->nbytes == 2 && memcmp(t->data, "xy", 2) == 0);
    st_writer *wr = st_writer_create();
    CHECK(t && st_writer_add(wr, "", t->dtype, t->ndim, t->dims, t->data) == SOMA_OK);
    CHECK(st_writer_add(wr, "", ST_U8, 1, (const int64_t[]){2}, "ab") == SOMA_ERR_ARGUMENT);
    uint8_t *bytes = NULL;
    CHECK(st_writer_serialize(wr, &bytes, &len) == SOMA_OK);
    st_file *g = NULL;
    CHECK_MSG(st_parse_memory(bytes, len, "rewritten", &g) == SOMA_OK, "%s", soma_last_error());
    const st_tensor_info *u = g ? st_find(g, "") : NULL;
    CHECK(g && st_count(g) == 1 && u && u->nbytes == 2 && memcmp(u->data, "xy", 2) == 0);
    st_free(g);
    free(bytes);
    st_writer_free(wr);
    st_free(f);
    free(file);
}

static void test_shape_message(const char *path)
{
    int64_t dims[4] = {16, 6, 5, 5};
    float *w = calloc(16 * 6 * 5 * 5, sizeof *w);
    st_writer *wr = st_writer_create();
    CHECK(st_writer_add_f32(wr, "3.weight", 4, dims, w) == SOMA_OK);
    CHECK(st_writer_save(wr, path) == SOMA_OK);
    st_writer_free(wr);
    st_file *f = NULL;
    CHECK(st_read(path, &f) == SOMA_OK);
    CHECK(st_get_f32(f, "3.weight", 4, (const int64_t[]){16, 6, 3, 3}, w) == SOMA_ERR_SHAPE);
    char want[256];
    snprintf(want, sizeof want,
             "%s: tensor '3.weight' has shape [16,6,5,5], the model expects [16,6,3,3]", path);
    CHECK_MSG(strcmp(soma_last_error(), want) == 0, "%s", soma_last_error());
    st_free(f);
    free(w);

    CHECK(st_read("no/such/dir/x.safetensors", &f) == SOMA_ERR_IO && f == NULL);
    CHECK(strstr(soma_last_error(), "no/such/dir/x.safetensors: cannot open") != NULL);
}

/* A file written by another program (Python's struct, json and zlib: see the
 * fuzz seed corpus), read by ours. */
static void test_foreign_file(void)
{
    st_file *f = NULL;
    const char *path = source_path("fuzz/corpus/safetensors/checkpoint.safetensors");
    CHECK_MSG(st_read(path, &f) == SOMA_OK, "%s", soma_last_error());
    if (!f)
        return;
    float w[6], b[3];
    int64_t step;
    CHECK(st_get_f32(f, "0.weight", 2, (const int64_t[]){2, 3}, w) == SOMA_OK);
    for (int i = 0; i < 6; i++)
        CHECK(w[i] == (float)i * 0.5f - 1.0f);
    CHECK(st_get_f32(f, "0.bias", 1, (const int64_t[]){3}, b) == SOMA_OK);
    CHECK(b[0] == 0.5f && b[1] == -0.25f && b[2] == 3.0f);
    CHECK(st_get_i64(f, "optimizer.step", 0, NULL, &step) == SOMA_OK && step == 42);
    CHECK(strcmp(st_meta(f, "soma.model"), "input channels=1\nconv") == 0);
    CHECK(st_meta(f, ST_CRC_KEY) != NULL && st_checksum_of(f) == ST_CHECKSUM_FILE);
    st_free(f);
}

/* Every truncation, every flipped bit, random damage anywhere. */
static void test_corruption(void)
{
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t step = 7;
    st_writer *wr = st_writer_create();
    st_writer_add_f32(wr, "0.weight", 2, (const int64_t[]){2, 4}, w);
    st_writer_add_i64(wr, "optimizer.step", 1, (const int64_t[]){1}, &step);
    st_writer_set_meta(wr, "epoch", "1");
    uint8_t *good;
    size_t len;
    CHECK(st_writer_serialize(wr, &good, &len) == SOMA_OK);
    st_writer_free(wr);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | good[i];

    uint8_t *bad = malloc(len);
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(bad, good, cut);
        expect_error(bad, cut, NULL, "truncated");
    }
    for (size_t at = 8 + n; at < len; at++) {
        memcpy(bad, good, len);
        bad[at] ^= 0x10;
        expect_error(bad, len, "bad.safetensors: checksum mismatch (file is corrupt or was modified)",
                     "flipped data byte");
    }
    /* any single bit: refused, or (the key itself damaged) read as a file
     * without the whole-file CRC, which a checkpoint may not be
     * (checkpoint_test checks that refusal) */
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(bad, good, len);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        st_file *f = NULL;
        if (st_parse_memory(bad, len, "bad.safetensors", &f) == SOMA_OK)
            CHECK_MSG(st_checksum_of(f) != ST_CHECKSUM_FILE && bit / 8 >= 8 &&
                          bit / 8 < ST_CRC_AT,
                      "bit %zu flipped: accepted", bit);
        st_free(f);
    }
    /* st_seal makes an edited file whole again */
    memcpy(bad, good, len);
    bad[len - 1] ^= 1;
    CHECK(st_seal(bad, len) == SOMA_OK);
    st_file *sealed = NULL;
    CHECK_MSG(st_parse_memory(bad, len, "sealed", &sealed) == SOMA_OK, "%s", soma_last_error());
    st_free(sealed);
    CHECK(st_seal(bad, ST_CRC_AT + 8) == SOMA_ERR_FORMAT);
    bad[10] = 'x';
    CHECK(st_seal(bad, len) == SOMA_ERR_FORMAT);
    /* the header: any flip must give an error or a still-consistent file */
    rng r;
    rng_init(&r, 1, RNG_TEST, 0, 0);
    int accepted = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(bad, good, len);
        int flips = 1 + (int)rng_below(&r, 3);
        for (int k = 0; k < flips; k++)
            bad[rng_below(&r, (uint32_t)len)] = (uint8_t)rng_u32(&r);
        st_file *f = NULL;
        if (st_parse_memory(bad, len, "bad.safetensors", &f) == SOMA_OK) {
            accepted++;
            for (int i = 0; i < st_count(f); i++) /* offsets were checked: reading is safe */
                CHECK(st_tensor_at(f, i)->data + st_tensor_at(f, i)->nbytes <= bad + len);
        } else {
            const char *msg = soma_last_error();
            CHECK_MSG(strncmp(msg, "bad.safetensors: ", 17) == 0 && !strchr(msg, '\n'), "%s", msg);
        }
        st_free(f);
    }
    CHECK(accepted < 3000);
    free(bad);
    free(good);
}

int main(void)
{
    char path[64], path2[64];
    snprintf(path, sizeof path, "st_test_%ld.safetensors", (long)getpid());
    snprintf(path2, sizeof path2, "st_test_%ld_b.safetensors", (long)getpid());
    test_hand_built();
    test_bad_headers();
    test_writer(path);
    test_empty_name();
    test_shape_message(path2);
    test_corruption();
    test_foreign_file();
    remove(path);
    remove(path2);
    return check_finish("safetensors_test");
}

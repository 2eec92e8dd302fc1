/* soma_model_import_safetensors: names (prefix stripped, renamings), dtypes
 * converted, every problem named at once, and the model unchanged on failure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "nn/import.h"
#include "nn/network.h"
#include "support/check.h"

static const char model_text[] = "input channels=1 height=4 width=4\n"
                                 "conv2d filters=2 size=3\n" /* 0: 2@2x2 */
                                 "batchnorm\n"               /* 1 */
                                 "relu\n"                    /* 2 */
                                 "flatten\n"                 /* 3: 8 */
                                 "linear units=3\n";         /* 4 */

typedef struct tensor {
    const char *name;
    int ndim;
    int64_t dims[4];
} tensor;

static const tensor model_tensors[] = {
    {"0.weight", 4, {2, 1, 3, 3}}, {"0.bias", 1, {2}},        {"1.weight", 1, {2}},
    {"1.bias", 1, {2}},            {"1.running_mean", 1, {2}}, {"1.running_var", 1, {2}},
    {"4.weight", 2, {3, 8}},       {"4.bias", 1, {3}},
};
#define NTENSORS ((int)(sizeof model_tensors / sizeof model_tensors[0]))

/* value j of tensor i: exact in F16 and BF16 (a multiple of 1/8 below 8), > 0 */
static float value(int i, size_t j) { return (float)(1 + (i * 7 + (int)j) % 50) / 8.0f; }

static size_t count(const tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->dims[d];
    return n;
}

/* A state_dict of the model in `dtype`, names given `prefix`; `skip` left out. */
static uint8_t *state_dict(st_dtype dtype, const char *prefix, const char *skip, size_t *len)
{
    st_writer *w = st_writer_create();
    for (int i = 0; i < NTENSORS; i++) {
        const tensor *t = &model_tensors[i];
        if (skip && strcmp(t->name, skip) == 0)
            continue;
        size_t n = count(t);
        uint8_t *raw = malloc(n * 8);
        for (size_t j = 0; j < n; j++) {
            float v = value(i, j);
            uint32_t bits;
            memcpy(&bits, &v, 4);
            if (dtype == ST_F32)
                memcpy(raw + 4 * j, &v, 4);
            else if (dtype == ST_BF16) {
                uint16_t b = (uint16_t)(bits >> 16);
                memcpy(raw + 2 * j, &b, 2);
            } else if (dtype == ST_F16) { /* v = m/8, 1/8 <= v <= 50/8: normal halves */
                int e = (int)((bits >> 23) & 0xff) - 127;
                uint16_t h = (uint16_t)(((e + 15) << 10) | ((bits >> 13) & 0x3ff));
                memcpy(raw + 2 * j, &h, 2);
            } else {
                double d = v;
                memcpy(raw + 8 * j, &d, 8);
            }
        }
        char name[64];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        CHECK(st_writer_add(w, name, dtype, t->ndim, t->dims, raw) == SOMA_OK);
        free(raw);
    }
    int64_t tracked = 7;
    char name[64];
    snprintf(name, sizeof name, "%s1.num_batches_tracked", prefix);
    CHECK(st_writer_add_i64(w, name, 0, NULL, &tracked) == SOMA_OK);
    uint8_t *bytes = NULL;
    CHECK(st_writer_serialize(w, &bytes, len) == SOMA_OK);
    st_writer_free(w);
    return bytes;
}

/* 1 when every model tensor holds value(i, j) */
static int holds_values(const soma_model *m)
{
    named_tensor t;
    int ok = 1;
    for (int i = 0; network_tensor(m, i, &t); i++) {
        size_t n = tensor_spec_count(t.spec);
        float *host = malloc(n * sizeof *host);
        CHECK(m->be->download(host, t.data, n * sizeof *host) == SOMA_OK);
        CHECK_MSG(strcmp(t.name, model_tensors[i].name) == 0, "%s", t.name);
        for (size_t j = 0; j < n; j++)
            ok &= host[j] == value(i, j);
        free(host);
    }
    return ok;
}

static soma_model *fresh_model(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(model_text, "m.cfg", &m) == SOMA_OK);
    return m;
}

static void expect_import(st_dtype dtype, const char *prefix, const soma_name_map *map, int nmap)
{
    size_t len;
    uint8_t *bytes = state_dict(dtype, prefix, NULL, &len);
    soma_model *m = fresh_model();
    soma_status st = import_safetensors_memory(m, bytes, len, "w.safetensors", map, nmap);
    CHECK_MSG(st == SOMA_OK, "%s %s: %s", st_dtype_name(dtype), prefix, soma_last_error());
    CHECK_MSG(st != SOMA_OK || holds_values(m), "%s: values differ", st_dtype_name(dtype));
    soma_model_free(m);
    free(bytes);
}

int main(void)
{
    expect_import(ST_F32, "", NULL, 0);
    expect_import(ST_F16, "", NULL, 0);
    expect_import(ST_BF16, "", NULL, 0);
    expect_import(ST_F64, "", NULL, 0);
    expect_import(ST_F32, "module.net.", NULL, 0); /* shared prefixes stripped */
    soma_name_map map[] = {{"body", ""}};
    expect_import(ST_F16, "body.", map, 1);
    soma_name_map wrong[] = {{"classifier.1", "4"}};
    size_t len;
    uint8_t *bytes = state_dict(ST_F32, "", NULL, &len);
    soma_model *m = fresh_model();
    CHECK(import_safetensors_memory(m, bytes, len, "w.safetensors", wrong, 1) ==
          SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "'classifier.1=...' matches no tensor"), "%s",
              soma_last_error());
    free(bytes);

    /* every problem at once, and the weights as they were */
    float before;
    named_tensor t0;
    CHECK(network_ensure_weights(m) == SOMA_OK && network_tensor(m, 0, &t0));
    CHECK(m->be->download(&before, t0.data, sizeof before) == SOMA_OK);
    st_writer *w = st_writer_create();
    static const float zeros[64];
    int64_t wrong_conv[4] = {2, 1, 5, 5}, extra[1] = {4}, two[1] = {2};
    int64_t lin[2] = {3, 8};
    st_writer_add_f32(w, "0.weight", 4, wrong_conv, zeros);
    st_writer_add_f32(w, "0.bias", 1, two, zeros);
    st_writer_add(w, "1.weight", ST_I32, 1, two, zeros);
    st_writer_add_f32(w, "1.bias", 1, two, zeros);
    st_writer_add_f32(w, "1.running_mean", 1, two, zeros);
    float negative[2] = {1, -1};
    st_writer_add_f32(w, "1.running_var", 1, two, negative);
    st_writer_add_f32(w, "4.weight", 2, lin, zeros);
    st_writer_add_f32(w, "fc.bias", 1, extra, zeros);
    CHECK(st_writer_serialize(w, &bytes, &len) == SOMA_OK);
    st_writer_free(w);
    CHECK(import_safetensors_memory(m, bytes, len, "w.safetensors", NULL, 0) == SOMA_ERR_SHAPE);
    const char *msg = soma_last_error();
    static const char *const expected[] = {
        "5 problems",
        "tensor '0.weight' has shape [2,1,5,5], layer 0 (conv2d) expects [2,1,3,3]",
        "tensor '1.weight' has dtype I32",
        "tensor '1.running_var' holds -1 at index 1",
        "missing tensor '4.bias' (layer 4, linear, bias [3])",
        "unexpected tensor 'fc.bias' [4]",
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        CHECK_MSG(strstr(msg, expected[i]), "'%s' lacks '%s'", msg, expected[i]);
    CHECK(!strchr(msg, '\n'));
    float after;
    CHECK(m->be->download(&after, t0.data, sizeof after) == SOMA_OK);
    CHECK(before == after);
    free(bytes);

    /* names that all sit elsewhere: the hint to rename */
    soma_name_map odd[] = {{"1", "x.1"}, {"4", "y.4"}};
    bytes = state_dict(ST_F32, "", NULL, &len);
    CHECK(import_safetensors_memory(m, bytes, len, "w.safetensors", odd, 2) == SOMA_ERR_SHAPE);
    CHECK_MSG(strstr(soma_last_error(), "no tensor name matches") == NULL, "%s",
              soma_last_error()); /* "0.*" still match */
    free(bytes);
    bytes = state_dict(ST_F32, "a.", NULL, &len);
    soma_name_map all[] = {{"a", "b.a"}};
    CHECK(import_safetensors_memory(m, bytes, len, "w.safetensors", all, 1) == SOMA_ERR_SHAPE);
    CHECK_MSG(strstr(soma_last_error(), "the file has 'a.0.weight' where the model has "
                                        "'0.weight'"), "%s", soma_last_error());
    free(bytes);
    soma_model_free(m);
    return check_finish("import");
}

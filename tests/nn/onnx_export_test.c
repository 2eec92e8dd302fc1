/*
 * soma_model_export_onnx read back with a small protobuf decoder written
 * here from the encoding rules and onnx.proto's field numbers: the opset,
 * the operators in order with their attributes, the weights bit for bit,
 * the dynamic batch dimension, and an unsupported layer refused without a
 * file. (onnxruntime and onnx.checker check the same files in
 * tests/cli/onnx_runtime.sh when they are installed.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "nn/network.h"
#include "support/check.h"

typedef struct span {
    const uint8_t *p;
    size_t n;
} span;

static uint64_t varint(span *s)
{
    uint64_t v = 0;
    for (int shift = 0; s->n > 0 && shift < 64; shift += 7) {
        uint8_t b = *s->p++;
        s->n--;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return v;
}

/* The k-th (0-based) occurrence of `field` in a message: its value (varint,
 * fixed32) or its bytes (length-delimited). Returns 0 when absent. */
static int field_at(span msg, int field, int k, uint64_t *value, span *bytes)
{
    while (msg.n > 0) {
        uint64_t key = varint(&msg);
        int wire = (int)(key & 7), f = (int)(key >> 3);
        uint64_t v = 0;
        span b = {NULL, 0};
        if (wire == 0) {
            v = varint(&msg);
        } else if (wire == 2) {
            uint64_t len = varint(&msg);
            if (len > msg.n)
                return 0;
            b.p = msg.p;
            b.n = len;
            msg.p += len;
            msg.n -= len;
        } else if (wire == 5 && msg.n >= 4) {
            memcpy(&v, msg.p, 4);
            msg.p += 4;
            msg.n -= 4;
        } else {
            return 0;
        }
        if (f == field && k-- == 0) {
            if (value)
                *value = v;
            if (bytes)
                *bytes = b;
            return 1;
        }
    }
    return 0;
}

static int span_is(span s, const char *text)
{
    return s.n == strlen(text) && memcmp(s.p, text, s.n) == 0;
}

/* The attribute `name` of a node (AttributeProto: name 1, f 2, i 3, ints 8). */
static int attribute(span node, const char *name, span *attr)
{
    for (int k = 0; field_at(node, 5, k, NULL, attr); k++) {
        span n;
        if (field_at(*attr, 1, 0, NULL, &n) && span_is(n, name))
            return 1;
    }
    return 0;
}

static int64_t attr_int(span node, const char *name)
{
    span a;
    uint64_t v = 0;
    return attribute(node, name, &a) && field_at(a, 3, 0, &v, NULL) ? (int64_t)v : -999;
}

static int64_t attr_ints_at(span node, const char *name, int k)
{
    span a;
    uint64_t v = 0;
    return attribute(node, name, &a) && field_at(a, 8, k, &v, NULL) ? (int64_t)v : -999;
}

static float attr_float(span node, const char *name)
{
    span a;
    uint64_t v = 0;
    float f = -999.0f;
    uint32_t bits;
    if (attribute(node, name, &a) && field_at(a, 2, 0, &v, NULL)) {
        bits = (uint32_t)v;
        memcpy(&f, &bits, 4);
    }
    return f;
}

static const char model_text[] = "input channels=2 height=8 width=8\n"
                                 "conv2d filters=4 size=3 pad=1 stride=2 groups=2\n" /* 0 */
                                 "batchnorm eps=0.001\n"                             /* 1 */
                                 "relu\n"                                            /* 2 */
                                 "lrn size=3 alpha=0.01 beta=0.5 k=1.5\n"            /* 3 */
                                 "maxpool size=3 stride=2 pad=1\n"                   /* 4 */
                                 "avgpool size=2 stride=1\n"                         /* 5 */
                                 "flatten\n"                                         /* 6 */
                                 "dropout p=0.5\n"                                   /* 7 */
                                 "linear units=5\n"                                  /* 8 */
                                 "tanh\n"                                            /* 9 */
                                 "linear units=3\n"                                  /* 10 */
                                 "sigmoid\n";                                        /* 11 */

int main(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(model_text, "m.cfg", &m) == SOMA_OK);
    float mean[2] = {0.25f, 0.5f}, std[2] = {0.5f, 2.0f};
    CHECK(soma_model_set_normalization_channels(m, 2, mean, std) == SOMA_OK);
    char path[] = "onnx_export_test.onnx";
    CHECK_MSG(soma_model_export_onnx(m, path) == SOMA_OK, "%s", soma_last_error());
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK(read_whole_file(path, (size_t)1 << 24, &bytes, &len) == SOMA_OK);
    remove(path);
    span model = {bytes, len}, graph, opset, s;
    uint64_t v = 0;
    CHECK(field_at(model, 1, 0, &v, NULL) && v == 7);         /* ir_version */
    CHECK(field_at(model, 8, 0, NULL, &opset) && field_at(opset, 2, 0, &v, NULL) && v == 13);
    CHECK(field_at(model, 7, 0, NULL, &graph));

    static const char *const ops[] = {"Div", "Sub", "Div", "Conv", "BatchNormalization", "Relu",
                                      "LRN", "MaxPool", "AveragePool", "Flatten", "Gemm", "Tanh",
                                      "Gemm", "Sigmoid", "Identity"};
    int nops = (int)(sizeof ops / sizeof *ops);
    span nodes[32];
    int n = 0;
    while (n < 32 && field_at(graph, 1, n, NULL, &nodes[n]))
        n++;
    CHECK_MSG(n == nops, "%d nodes, want %d", n, nops);
    for (int i = 0; i < n && i < nops; i++)
        CHECK_MSG(field_at(nodes[i], 4, 0, NULL, &s) && span_is(s, ops[i]), "node %d: %.*s, want %s",
                  i, (int)s.n, (const char *)s.p, ops[i]);
    if (n == nops) {
        span conv = nodes[3], bn = nodes[4], lrn = nodes[6], maxpool = nodes[7], avg = nodes[8];
        CHECK(attr_int(conv, "group") == 2 && attr_ints_at(conv, "kernel_shape", 1) == 3);
        CHECK(attr_ints_at(conv, "strides", 0) == 2 && attr_ints_at(conv, "pads", 3) == 1);
        CHECK(attr_float(bn, "epsilon") == 0.001f);
        CHECK(attr_int(lrn, "size") == 3 && attr_float(lrn, "alpha") == 0.01f * 3);
        CHECK(attr_float(lrn, "beta") == 0.5f && attr_float(lrn, "bias") == 1.5f);
        CHECK(attr_ints_at(maxpool, "pads", 0) == 1 && attr_ints_at(maxpool, "strides", 1) == 2);
        CHECK(attr_int(avg, "count_include_pad") == 0 && attr_ints_at(avg, "strides", 0) == 1);
        CHECK(attr_int(nodes[10], "transB") == 1);
        CHECK(field_at(nodes[14], 2, 0, NULL, &s) && span_is(s, "logits"));
        CHECK(field_at(nodes[10], 1, 1, NULL, &s) && span_is(s, "8.weight"));
    }

    /* every weight, bit for bit, under its state_dict name (TensorProto: name 8, raw 9) */
    named_tensor t;
    for (int i = 0; network_tensor(m, i, &t); i++) {
        span init, name, raw = {NULL, 0};
        int found = 0;
        for (int k = 0; field_at(graph, 5, k, NULL, &init) && !found; k++)
            found = field_at(init, 8, 0, NULL, &name) && span_is(name, t.name) &&
                    field_at(init, 9, 0, NULL, &raw);
        size_t count = tensor_spec_count(t.spec);
        float *host = malloc(count * sizeof *host);
        CHECK(m->be->download(host, t.data, count * sizeof *host) == SOMA_OK);
        CHECK_MSG(found && raw.n == count * sizeof *host && memcmp(raw.p, host, raw.n) == 0,
                  "initializer %s", t.name);
        free(host);
    }
    /* the input: N x 2 x 8 x 8 with N a name (ValueInfo 11: name 1, type 2 > tensor 1 > shape 2) */
    span input, type, tensor, shape, dim, param;
    CHECK(field_at(graph, 11, 0, NULL, &input) && field_at(input, 1, 0, NULL, &s) &&
          span_is(s, "input"));
    CHECK(field_at(input, 2, 0, NULL, &type) && field_at(type, 1, 0, NULL, &tensor) &&
          field_at(tensor, 2, 0, NULL, &shape));
    CHECK(field_at(shape, 1, 0, NULL, &dim) && field_at(dim, 2, 0, NULL, &param) &&
          span_is(param, "N"));
    CHECK(field_at(shape, 1, 3, NULL, &dim) && field_at(dim, 1, 0, &v, NULL) && v == 8);
    free(bytes);
    soma_model_free(m);

    /* an even LRN window: refused, naming the layer, and no file left */
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nlrn size=2\nflatten\n"
                           "linear units=2\n", "even.cfg", &m) == SOMA_OK);
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK(soma_model_export_onnx(m, path) == SOMA_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(soma_last_error(), "layer 0 (lrn size=2)"), "%s", soma_last_error());
    FILE *fp = fopen(path, "rb");
    CHECK(fp == NULL);
    if (fp)
        fclose(fp);
    soma_model_free(m);
    return check_finish("onnx_export");
}

/*
 * soma_model_export_onnx: the network in evaluation mode as an ONNX graph.
 *
 * The graph takes what `soma predict` takes, raw pixels 0..255 as floats
 * (N x C x H x W, N dynamic), and normalises them first as soma does,
 * (x/255 - mean[c]) / std[c], with Div, Sub and Div nodes. Each layer kind
 * maps to one ONNX operator (opset 13) with PyTorch's meaning, which soma
 * shares: Conv with groups, MaxPool and AveragePool (padding not counted,
 * floor mode), BatchNormalization with the running statistics, LRN with
 * alpha x size (ONNX divides alpha by size, soma's is the paper's), Gemm
 * with transB for linear weights [out, in], Flatten; dropout is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/onnx.h"
#include "nn/network.h"
#include "nn/normalization.h"

extern const layer_class conv2d_class, linear_class, maxpool_class, avgpool_class, relu_class,
    tanh_class, sigmoid_class, dropout_class, batchnorm_class, flatten_class, lrn_class;

/* Where the export stands: the graph, the name and rank of the current tensor. */
typedef struct exporter {
    soma_model *m;
    onnx_graph g;
    char current[64];
    int rank; /* 4 (N, C, H, W) or 2 (N, features) */
} exporter;

typedef soma_status (*emit_fn)(exporter *e, const layer *l, const char *out);

static onnx_attr attr_int(const char *name, int64_t v)
{
    onnx_attr a = {.name = name, .kind = ONNX_ATTR_INT, .i = v};
    return a;
}

static onnx_attr attr_float(const char *name, float v)
{
    onnx_attr a = {.name = name, .kind = ONNX_ATTR_FLOAT, .f = v};
    return a;
}

static onnx_attr attr_ints(const char *name, int n, int64_t v)
{
    onnx_attr a = {.name = name, .kind = ONNX_ATTR_INTS, .nints = n};
    for (int k = 0; k < n; k++)
        a.ints[k] = v;
    return a;
}

/* A tensor of the layer (param or buffer slot k) as an initializer "I.name". */
static soma_status add_weight(exporter *e, const layer *l, const tensor_spec *t, const float *data,
                              char *name, size_t size)
{
    snprintf(name, size, "%d.%s", l->index, t->name);
    size_t n = tensor_spec_count(t);
    float *host = malloc(n * sizeof *host + 1);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = e->m->be->download(host, data, n * sizeof *host);
    int64_t dims[4];
    for (int d = 0; d < t->ndim; d++)
        dims[d] = t->dims[d];
    if (st == SOMA_OK)
        onnx_add_initializer(&e->g, name, t->ndim, dims, host);
    free(host);
    return st;
}

static void node(exporter *e, const char *op, int nin, const char *const *extra, const char *out,
                int nattrs, const onnx_attr *attrs)
{
    const char *inputs[5] = {e->current};
    for (int i = 1; i < nin; i++)
        inputs[i] = extra[i - 1];
    onnx_add_node(&e->g, op, nin, inputs, out, nattrs, attrs);
    snprintf(e->current, sizeof e->current, "%s", out);
}

static soma_status emit_conv(exporter *e, const layer *l, const char *out)
{
    char w[64], b[64];
    SOMA_TRY(add_weight(e, l, &l->params[0], l->param[0], w, sizeof w));
    SOMA_TRY(add_weight(e, l, &l->params[1], l->param[1], b, sizeof b));
    const char *extra[] = {w, b};
    onnx_attr attrs[] = {attr_ints("kernel_shape", 2, l->u.conv.size),
                         attr_ints("strides", 2, l->u.conv.stride),
                         attr_ints("pads", 4, l->u.conv.pad), attr_int("group", l->u.conv.groups)};
    node(e, "Conv", 3, extra, out, 4, attrs);
    return SOMA_OK;
}

static soma_status emit_pool(exporter *e, const layer *l, const char *out)
{
    onnx_attr attrs[] = {attr_ints("kernel_shape", 2, l->u.pool.size),
                         attr_ints("strides", 2, l->u.pool.stride),
                         attr_ints("pads", 4, l->u.pool.pad), attr_int("count_include_pad", 0)};
    int is_max = l->cls == &maxpool_class;
    node(e, is_max ? "MaxPool" : "AveragePool", 1, NULL, out, is_max ? 3 : 4, attrs);
    return SOMA_OK;
}

static soma_status emit_flatten(exporter *e, const layer *l, const char *out)
{
    (void)l;
    onnx_attr axis = attr_int("axis", 1);
    node(e, "Flatten", 1, NULL, out, 1, &axis);
    e->rank = 2;
    return SOMA_OK;
}

static soma_status emit_linear(exporter *e, const layer *l, const char *out)
{
    if (e->rank != 2) { /* a linear layer on a 1x1 feature map: flat first, as soma sees it */
        char flat[64];
        snprintf(flat, sizeof flat, "%d.flat", l->index);
        SOMA_TRY(emit_flatten(e, l, flat));
    }
    char w[64], b[64];
    SOMA_TRY(add_weight(e, l, &l->params[0], l->param[0], w, sizeof w));
    SOMA_TRY(add_weight(e, l, &l->params[1], l->param[1], b, sizeof b));
    const char *extra[] = {w, b};
    onnx_attr trans = attr_int("transB", 1);
    node(e, "Gemm", 3, extra, out, 1, &trans);
    return SOMA_OK;
}

static soma_status emit_batchnorm(exporter *e, const layer *l, const char *out)
{
    char names[4][64];
    SOMA_TRY(add_weight(e, l, &l->params[0], l->param[0], names[0], sizeof names[0]));
    SOMA_TRY(add_weight(e, l, &l->params[1], l->param[1], names[1], sizeof names[1]));
    SOMA_TRY(add_weight(e, l, &l->buffers[0], l->buffer[0], names[2], sizeof names[2]));
    SOMA_TRY(add_weight(e, l, &l->buffers[1], l->buffer[1], names[3], sizeof names[3]));
    const char *extra[] = {names[0], names[1], names[2], names[3]};
    onnx_attr eps = attr_float("epsilon", l->u.bn.eps);
    node(e, "BatchNormalization", 5, extra, out, 1, &eps);
    return SOMA_OK;
}

static soma_status emit_lrn(exporter *e, const layer *l, const char *out)
{
    /* ONNX centres an even window one channel later than soma and PyTorch do */
    if (l->u.lrn.size % 2 == 0)
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "layer %d (lrn size=%d): ONNX's LRN places an even window otherwise "
                          "than soma; only odd sizes export",
                          l->index, l->u.lrn.size);
    onnx_attr attrs[] = {attr_int("size", l->u.lrn.size),
                         attr_float("alpha", l->u.lrn.alpha * (float)l->u.lrn.size),
                         attr_float("beta", l->u.lrn.beta), attr_float("bias", l->u.lrn.k)};
    node(e, "LRN", 1, NULL, out, 4, attrs);
    return SOMA_OK;
}

static soma_status emit_activation(exporter *e, const layer *l, const char *out)
{
    const char *op = l->cls == &relu_class ? "Relu" : l->cls == &tanh_class ? "Tanh" : "Sigmoid";
    node(e, op, 1, NULL, out, 0, NULL);
    return SOMA_OK;
}

static const struct {
    const layer_class *cls;
    emit_fn emit; /* NULL: nothing in evaluation mode */
} emitters[] = {
    {&conv2d_class, emit_conv},       {&linear_class, emit_linear},
    {&maxpool_class, emit_pool},      {&avgpool_class, emit_pool},
    {&relu_class, emit_activation},   {&tanh_class, emit_activation},
    {&sigmoid_class, emit_activation}, {&dropout_class, NULL},
    {&batchnorm_class, emit_batchnorm}, {&flatten_class, emit_flatten},
    {&lrn_class, emit_lrn},
};

static soma_status emit_layer(exporter *e, const layer *l)
{
    for (size_t k = 0; k < sizeof emitters / sizeof *emitters; k++) {
        if (emitters[k].cls != l->cls)
            continue;
        if (!emitters[k].emit)
            return SOMA_OK;
        char out[64];
        snprintf(out, sizeof out, "%d.%s", l->index, l->cls->name);
        return emitters[k].emit(e, l, out);
    }
    return soma_error(SOMA_ERR_UNSUPPORTED, "layer %d (%s): no ONNX operator for this layer kind",
                      l->index, l->cls->name);
}

/* (x / 255 - mean) / std at the input, per channel. */
static void emit_normalization(exporter *e)
{
    int c = e->m->input.c;
    int64_t dims[4] = {1, c, 1, 1}, scalar_dims[1] = {1};
    float scale = 255.0f;
    onnx_add_initializer(&e->g, "input.scale", 1, scalar_dims, &scale);
    onnx_add_initializer(&e->g, "input.mean", 4, dims, e->m->norm_mean);
    onnx_add_initializer(&e->g, "input.std", 4, dims, e->m->norm_std);
    const char *scale_in[] = {"input.scale"}, *mean_in[] = {"input.mean"},
               *std_in[] = {"input.std"};
    snprintf(e->current, sizeof e->current, "input");
    node(e, "Div", 2, scale_in, "input.scaled", 0, NULL);
    node(e, "Sub", 2, mean_in, "input.centred", 0, NULL);
    node(e, "Div", 2, std_in, "input.normalised", 0, NULL);
}

static soma_status build(exporter *e)
{
    soma_model *m = e->m;
    if (!normalization_is_set(m))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: the model has no input normalisation (train it, or load or "
                          "import a checkpoint, first)",
                          m->source);
    SOMA_TRY(network_ensure_weights(m));
    emit_normalization(e);
    e->rank = 4;
    for (int i = 0; i < m->nlayers; i++)
        SOMA_TRY(emit_layer(e, &m->layers[i]));
    /* the class scores as N x classes, whatever the last layer's rank */
    if (e->rank == 4) {
        onnx_attr axis = attr_int("axis", 1);
        node(e, "Flatten", 1, NULL, "logits", 1, &axis);
    } else {
        node(e, "Identity", 1, NULL, "logits", 0, NULL);
    }
    return SOMA_OK;
}

soma_status soma_model_export_onnx(soma_model *model, const char *path)
{
    if (!model || !path)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_export_onnx: no %s given",
                          model ? "path" : "model");
    exporter e = {.m = model};
    onnx_graph_init(&e.g);
    soma_status st = build(&e);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (st == SOMA_OK) {
        int64_t in[4] = {-1, model->input.c, model->input.h, model->input.w};
        int64_t out[2] = {-1, model->classes};
        st = onnx_serialize(&e.g, model->source, "input", 4, in, "logits", 2, out, &bytes, &len);
    }
    if (st == SOMA_OK) {
        const void *parts[] = {bytes};
        st = atomic_write(path, parts, &len, 1);
    }
    free(bytes);
    onnx_graph_free(&e.g);
    return st;
}

#include "io/onnx.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* onnx.proto field numbers */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8,
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5,
    ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20,
    TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
    VALUE_NAME = 1, VALUE_TYPE = 2,
    TYPE_TENSOR = 1, TYPE_TENSOR_ELEM_TYPE = 1, TYPE_TENSOR_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
};
enum { ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7 };
enum { DATA_TYPE_FLOAT = 1 };

void onnx_graph_init(onnx_graph *g)
{
    pb_init(&g->body);
    g->nodes = 0;
}

void onnx_graph_free(onnx_graph *g) { pb_free(&g->body); }

void onnx_add_initializer(onnx_graph *g, const char *name, int ndim, const int64_t *dims,
                          const float *data)
{
    pb_buf t;
    pb_init(&t);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        pb_int(&t, TENSOR_DIMS, dims[d]);
        n *= (size_t)dims[d];
    }
    pb_int(&t, TENSOR_DATA_TYPE, DATA_TYPE_FLOAT);
    pb_string(&t, TENSOR_NAME, name);
    pb_bytes(&t, TENSOR_RAW_DATA, data, n * sizeof *data); /* little-endian floats */
    pb_message(&g->body, GRAPH_INITIALIZER, &t);
    pb_free(&t);
}

static void add_attr(pb_buf *node, const onnx_attr *a)
{
    pb_buf m;
    pb_init(&m);
    pb_string(&m, ATTR_NAME, a->name);
    if (a->kind == ONNX_ATTR_FLOAT) {
        pb_float(&m, ATTR_F, a->f);
        pb_int(&m, ATTR_TYPE, ATTR_TYPE_FLOAT);
    } else if (a->kind == ONNX_ATTR_INT) {
        pb_int(&m, ATTR_I, a->i);
        pb_int(&m, ATTR_TYPE, ATTR_TYPE_INT);
    } else {
        for (int k = 0; k < a->nints; k++)
            pb_int(&m, ATTR_INTS, a->ints[k]);
        pb_int(&m, ATTR_TYPE, ATTR_TYPE_INTS);
    }
    pb_message(node, NODE_ATTRIBUTE, &m);
    pb_free(&m);
}

void onnx_add_node(onnx_graph *g, const char *op_type, int ninputs, const char *const *inputs,
                   const char *output, int nattrs, const onnx_attr *attrs)
{
    pb_buf n;
    pb_init(&n);
    for (int i = 0; i < ninputs; i++)
        pb_string(&n, NODE_INPUT, inputs[i]);
    pb_string(&n, NODE_OUTPUT, output);
    pb_string(&n, NODE_NAME, output);
    pb_string(&n, NODE_OP_TYPE, op_type);
    for (int i = 0; i < nattrs; i++)
        add_attr(&n, &attrs[i]);
    pb_message(&g->body, GRAPH_NODE, &n);
    pb_free(&n);
    g->nodes++;
}

/* A ValueInfoProto of a float tensor; a negative dimension is the batch, "N". */
static void value_info(pb_buf *graph, int field, const char *name, int ndim, const int64_t *dims)
{
    pb_buf shape, tensor, type, info;
    pb_init(&shape);
    pb_init(&tensor);
    pb_init(&type);
    pb_init(&info);
    for (int d = 0; d < ndim; d++) {
        pb_buf dim;
        pb_init(&dim);
        if (dims[d] < 0)
            pb_string(&dim, DIM_PARAM, "N");
        else
            pb_int(&dim, DIM_VALUE, dims[d]);
        pb_message(&shape, SHAPE_DIM, &dim);
        pb_free(&dim);
    }
    pb_int(&tensor, TYPE_TENSOR_ELEM_TYPE, DATA_TYPE_FLOAT);
    pb_message(&tensor, TYPE_TENSOR_SHAPE, &shape);
    pb_message(&type, TYPE_TENSOR, &tensor);
    pb_string(&info, VALUE_NAME, name);
    pb_message(&info, VALUE_TYPE, &type);
    pb_message(graph, field, &info);
    pb_free(&shape);
    pb_free(&tensor);
    pb_free(&type);
    pb_free(&info);
}

soma_status onnx_serialize(const onnx_graph *g, const char *graph_name, const char *input,
                           int in_ndim, const int64_t *in_dims, const char *output,
                           int out_ndim, const int64_t *out_dims, uint8_t **bytes, size_t *len)
{
    pb_buf graph, opset, model;
    pb_init(&graph);
    pb_init(&opset);
    pb_init(&model);
    pb_raw(&graph, g->body.data, g->body.len);
    graph.failed |= g->body.failed;
    pb_string(&graph, GRAPH_NAME, graph_name);
    value_info(&graph, GRAPH_INPUT, input, in_ndim, in_dims);
    value_info(&graph, GRAPH_OUTPUT, output, out_ndim, out_dims);
    pb_string(&opset, OPSET_DOMAIN, "");
    pb_int(&opset, OPSET_VERSION, ONNX_OPSET);
    pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_string(&model, MODEL_PRODUCER_NAME, "soma");
    pb_string(&model, MODEL_PRODUCER_VERSION, SOMA_VERSION);
    pb_message(&model, MODEL_GRAPH, &graph);
    pb_message(&model, MODEL_OPSET_IMPORT, &opset);
    pb_free(&graph);
    pb_free(&opset);
    if (model.failed) {
        pb_free(&model);
        return soma_error(SOMA_ERR_MEMORY, "out of memory writing the ONNX model");
    }
    *bytes = model.data;
    *len = model.len;
    return SOMA_OK;
}

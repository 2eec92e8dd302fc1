/*
 * An ONNX model written with the protobuf encoder: a graph of nodes,
 * float initializers, one float input with a dynamic batch dimension and one
 * output. Field numbers from onnx/onnx.proto (github.com/onnx/onnx); IR
 * version 7, the default opset at 13.
 */
#ifndef SOMA_IO_ONNX_H
#define SOMA_IO_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "io/protobuf.h"
#include "soma.h"

#define ONNX_IR_VERSION 7
#define ONNX_OPSET 13
#define ONNX_MAX_DIMS 8

typedef struct onnx_graph {
    pb_buf body; /* GraphProto fields so far: nodes and initializers */
    int nodes;
} onnx_graph;

/* A node attribute: an int, a float or a list of ints. */
typedef enum onnx_attr_kind { ONNX_ATTR_INT, ONNX_ATTR_FLOAT, ONNX_ATTR_INTS } onnx_attr_kind;
typedef struct onnx_attr {
    const char *name;
    onnx_attr_kind kind;
    int64_t i;
    float f;
    int nints;
    int64_t ints[ONNX_MAX_DIMS];
} onnx_attr;

void onnx_graph_init(onnx_graph *g);
void onnx_graph_free(onnx_graph *g);
/* A float tensor of the graph (weights, constants), data[0..product of dims). */
void onnx_add_initializer(onnx_graph *g, const char *name, int ndim, const int64_t *dims,
                          const float *data);
/* A node `op_type` from inputs to one output; named after its output. */
void onnx_add_node(onnx_graph *g, const char *op_type, int ninputs, const char *const *inputs,
                   const char *output, int nattrs, const onnx_attr *attrs);
/* The ModelProto: the graph with input `input` (dims; dims[0] < 0 is the dynamic batch)
 * and output `output` (the same), malloc'd in *bytes. */
soma_status onnx_serialize(const onnx_graph *g, const char *graph_name, const char *input,
                           int in_ndim, const int64_t *in_dims, const char *output,
                           int out_ndim, const int64_t *out_dims, uint8_t **bytes, size_t *len);

#endif

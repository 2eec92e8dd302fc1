#include "nn/layer.h"

#include <string.h>

static void add_tensor(tensor_spec *t, const char *name, int ndim, const int *dims,
                       tensor_init init, int fan_in, int fan_out)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->dims[i] = dims[i];
    t->init = init;
    t->fan_in = fan_in;
    t->fan_out = fan_out;
}

void layer_add_param(layer *l, const char *name, int ndim, const int *dims, tensor_init init,
                     int fan_in, int fan_out)
{
    if (l->nparams < LAYER_MAX_TENSORS)
        add_tensor(&l->params[l->nparams++], name, ndim, dims, init, fan_in, fan_out);
}

void layer_add_buffer(layer *l, const char *name, int ndim, const int *dims, tensor_init init)
{
    if (l->nbuffers < LAYER_MAX_TENSORS)
        add_tensor(&l->buffers[l->nbuffers++], name, ndim, dims, init, 0, 0);
}

size_t tensor_spec_count(const tensor_spec *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->dims[i];
    return n;
}

size_t layer_no_cache(const layer *l, int batch)
{
    (void)l, (void)batch;
    return 0;
}

size_t layer_no_workspace(const layer *l, const soma_backend *be, int batch)
{
    (void)l, (void)be, (void)batch;
    return 0;
}

void layer_no_description(const layer *l, char *buf, size_t size)
{
    (void)l;
    if (size)
        buf[0] = '\0';
}

/* Every layer kind a model file may name. */
#include <string.h>

#include "nn/layer.h"

extern const layer_class conv2d_class, linear_class, maxpool_class, avgpool_class, relu_class,
    tanh_class, sigmoid_class, dropout_class, batchnorm_class, flatten_class, lrn_class;

static const layer_class *const classes[] = {
    &conv2d_class, &linear_class,  &maxpool_class, &avgpool_class,   &relu_class,
    &tanh_class,   &sigmoid_class, &dropout_class, &batchnorm_class, &flatten_class,
    &lrn_class,    NULL,
};

const layer_class *const *layer_classes(void) { return classes; }

const layer_class *layer_class_find(const char *name)
{
    for (int i = 0; classes[i]; i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

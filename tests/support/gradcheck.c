#include "support/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/modelfile.h"
#include "support/check.h"

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

int harness_make(layer_harness *h, const char *line, shape3 in, int batch, int training)
{
    memset(h, 0, sizeof *h);
    char text[512];
    snprintf(text, sizeof text, "input channels=%d height=%d width=%d\n%s\n", in.c, in.h, in.w,
             line);
    model_spec spec;
    if (modelfile_parse(text, "harness", &spec) != SOMA_OK) {
        fprintf(stderr, "harness: %s\n", soma_last_error());
        return 0;
    }
    h->l.cls = layer_class_find(spec.layers[0].kind);
    h->l.in = in;
    h->l.index = 3;
    soma_status st = h->l.cls->configure(&h->l, &spec.layers[0]);
    model_spec_free(&spec);
    if (st != SOMA_OK) {
        fprintf(stderr, "harness: %s\n", soma_last_error());
        return 0;
    }
    h->batch = batch;
    for (int t = 0; t < h->l.nparams; t++) {
        h->l.params[t].offset = h->nparams;
        h->nparams += tensor_spec_count(&h->l.params[t]);
    }
    for (int t = 0; t < h->l.nbuffers; t++) {
        h->l.buffers[t].offset = h->nbuffers;
        h->nbuffers += tensor_spec_count(&h->l.buffers[t]);
    }
    size_t nx = shape_size(in) * batch, ny = shape_size(h->l.out) * batch;
    h->x = zeros(nx), h->dx = zeros(nx), h->y = zeros(ny), h->dy = zeros(ny);
    h->params = zeros(h->nparams), h->grads = zeros(h->nparams);
    h->buffers = zeros(h->nbuffers);
    h->cache = zeros(h->l.cls->cache_floats(&h->l, batch));
    h->workspace = zeros(h->l.cls->workspace_floats(&h->l, &soma_cpu_backend, batch));
    for (int t = 0; t < h->l.nparams; t++)
        h->l.param[t] = h->params + h->l.params[t].offset;
    for (int t = 0; t < h->l.nbuffers; t++)
        h->l.buffer[t] = h->buffers + h->l.buffers[t].offset;
    h->l.cache = h->cache;
    /* random inputs, parameters and output weights r */
    rng r;
    rng_init(&r, 42, RNG_TEST, 1, 0);
    for (size_t i = 0; i < nx; i++)
        h->x[i] = rng_normal(&r);
    for (size_t i = 0; i < h->nparams; i++)
        h->params[i] = 0.5f * rng_normal(&r);
    for (size_t i = 0; i < h->nbuffers; i++)
        h->buffers[i] = 0.5f + rng_uniform(&r);
    for (size_t i = 0; i < ny; i++)
        h->dy[i] = rng_normal(&r);
    h->ctx = (run_ctx){.be = &soma_cpu_backend, .batch = batch, .training = training, .seed = 7,
                        .step = 11, .workspace = h->workspace, .grads = h->grads};
    return 1;
}

void harness_free(layer_harness *h)
{
    free(h->x), free(h->y), free(h->dx), free(h->dy);
    free(h->params), free(h->grads), free(h->buffers), free(h->cache), free(h->workspace);
}

void harness_forward(layer_harness *h)
{
    soma_status st = h->l.cls->forward(&h->l, &h->ctx, h->x, h->y);
    CHECK_MSG(st == SOMA_OK, "%s forward: %s", h->l.cls->name, soma_last_error());
}

void harness_backward(layer_harness *h)
{
    memset(h->grads, 0, sizeof(float) * h->nparams);
    harness_forward(h);
    soma_status st = h->l.cls->backward(&h->l, &h->ctx, h->x, h->y, h->dy, h->dx);
    CHECK_MSG(st == SOMA_OK, "%s backward: %s", h->l.cls->name, soma_last_error());
}

static double loss(layer_harness *h)
{
    harness_forward(h);
    double s = 0.0;
    size_t ny = shape_size(h->l.out) * h->batch;
    for (size_t i = 0; i < ny; i++)
        s += (double)h->y[i] * h->dy[i];
    return s;
}

static int compare(const char *what, size_t i, double analytic, double numeric, double rtol,
                   double atol, int *reported)
{
    double diff = fabs(analytic - numeric);
    double scale = fmax(fabs(analytic), fabs(numeric));
    if (diff <= atol + rtol * scale)
        return 0;
    if ((*reported)++ < 5)
        fprintf(stderr, "  %s[%zu]: analytic %.6g, numeric %.6g\n", what, i, analytic, numeric);
    return 1;
}

static int check_vector(layer_harness *h, const char *what, float *values, const float *grads,
                        size_t n, float eps, double rtol, double atol)
{
    int bad = 0, reported = 0;
    for (size_t i = 0; i < n; i++) {
        float saved = values[i];
        values[i] = saved + eps;
        double up = loss(h);
        values[i] = saved - eps;
        double down = loss(h);
        values[i] = saved;
        bad += compare(what, i, grads[i], (up - down) / (2.0 * eps), rtol, atol, &reported);
    }
    return bad;
}

int gradcheck(layer_harness *h, float eps, double rtol, double atol)
{
    harness_backward(h);
    size_t nx = shape_size(h->l.in) * h->batch;
    float *dx = malloc(sizeof(float) * nx), *grads = malloc(sizeof(float) * (h->nparams + 1));
    memcpy(dx, h->dx, sizeof(float) * nx);
    memcpy(grads, h->grads, sizeof(float) * h->nparams);
    int bad = check_vector(h, "dx", h->x, dx, nx, eps, rtol, atol);
    for (int t = 0; t < h->l.nparams; t++) {
        size_t off = h->l.params[t].offset, n = tensor_spec_count(&h->l.params[t]);
        bad += check_vector(h, h->l.params[t].name, h->params + off, grads + off, n, eps, rtol,
                            atol);
    }
    free(dx), free(grads);
    return bad;
}

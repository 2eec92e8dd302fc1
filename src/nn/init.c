/*
 * Parameter initialisation. Weights: He/Kaiming normal std sqrt(2/fan_in)
 * (He et al. 2015), Xavier/Glorot uniform a = sqrt(6/(fan_in+fan_out))
 * (Glorot & Bengio 2010), LeCun normal std sqrt(1/fan_in). Biases 0,
 * BatchNorm gamma 1 and beta 0, running statistics 0 and 1.
 * Each layer draws from its own stream (seed, INIT, layer index), so adding
 * a layer does not change the others' initial weights.
 */
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "nn/network.h"

#define INIT_CHUNK ((size_t)1 << 16) /* floats per upload */

/* Fills n values of a tensor, continuing the stream r where the last call
 * left it. */
static void fill_host(const tensor_spec *t, soma_init scheme, rng *r, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (t->init) {
        case INIT_ZERO: out[i] = 0.0f; break;
        case INIT_ONE: out[i] = 1.0f; break;
        case INIT_WEIGHT:
            if (scheme == SOMA_INIT_XAVIER) {
                float a = sqrtf(6.0f / (float)(t->fan_in + t->fan_out));
                out[i] = (2.0f * rng_uniform(r) - 1.0f) * a;
            } else {
                float gain = scheme == SOMA_INIT_HE ? 2.0f : 1.0f;
                out[i] = rng_normal(r) * sqrtf(gain / (float)t->fan_in);
            }
            break;
        }
    }
}

soma_status soma_model_init(soma_model *m, soma_init scheme, uint64_t seed)
{
    if (!m)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_init: no model given");
    if (scheme != SOMA_INIT_HE && scheme != SOMA_INIT_XAVIER && scheme != SOMA_INIT_LECUN)
        return soma_error(SOMA_ERR_ARGUMENT, "unknown initialisation %d", (int)scheme);
    SOMA_TRY(network_alloc_weights(m));
    /* through a small host buffer, so that a large tensor is not held twice */
    float *host = malloc(INIT_CHUNK * sizeof *host);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        rng r;
        rng_init(&r, seed, RNG_INIT, (uint64_t)l->index, 0);
        for (int k = 0; k < l->nparams + l->nbuffers; k++) {
            int is_param = k < l->nparams;
            const tensor_spec *t = is_param ? &l->params[k] : &l->buffers[k - l->nparams];
            float *dst = is_param ? l->param[k] : l->buffer[k - l->nparams];
            size_t n = tensor_spec_count(t);
            for (size_t done = 0; done < n; done += INIT_CHUNK) {
                size_t part = n - done < INIT_CHUNK ? n - done : INIT_CHUNK;
                fill_host(t, scheme, &r, host, part);
                soma_status st = m->be->upload(dst + done, host, part * sizeof *host);
                if (st != SOMA_OK) {
                    free(host);
                    return st;
                }
            }
        }
    }
    free(host);
    return network_zero_grads(m);
}

/*
 * The conformance suite's only calls into a backend table: one wrapper per
 * operation. When the interface changes (operations returning soma_status,
 * conv2d_workspace without its thread count, softmax_xent_forward writing
 * its loss and count to device memory), these bodies change and nothing
 * else does.
 */
#include "support/conformance.h"

void *run_alloc(const soma_backend *be, size_t bytes) { return be->alloc(bytes); }

void run_free(const soma_backend *be, void *p) { be->free(p); }

soma_status run_upload(const soma_backend *be, void *dst, const void *host_src, size_t bytes)
{
    be->upload(dst, host_src, bytes);
    return SOMA_OK;
}

soma_status run_download(const soma_backend *be, void *host_dst, const void *src, size_t bytes)
{
    be->download(host_dst, src, bytes);
    return SOMA_OK;
}

soma_status run_fill(const soma_backend *be, float *x, size_t n, float value)
{
    be->fill(x, n, value);
    return SOMA_OK;
}

soma_status run_copy(const soma_backend *be, float *dst, const float *src, size_t n)
{
    be->copy(dst, src, n);
    return SOMA_OK;
}

soma_status run_count_nonfinite(const soma_backend *be, const float *x, size_t n, size_t *count)
{
    *count = be->count_nonfinite(x, n);
    return SOMA_OK;
}

soma_status run_linear_forward(const soma_backend *be, const float *x, const float *w,
                               const float *b, float *y, int n, int in, int out, int relu)
{
    be->linear_forward(x, w, b, y, n, in, out, relu);
    return SOMA_OK;
}

soma_status run_linear_backward(const soma_backend *be, const float *x, const float *w,
                                const float *y, const float *dy, float *dx, float *dw, float *db,
                                int n, int in, int out, float *workspace)
{
    be->linear_backward(x, w, y, dy, dx, dw, db, n, in, out, workspace);
    return SOMA_OK;
}

size_t run_conv_workspace(const soma_backend *be, const conv_geom *g)
{
    return be->conv2d_workspace(g, soma_get_threads());
}

soma_status run_conv_forward(const soma_backend *be, const conv_geom *g, const float *x,
                             const float *w, const float *b, float *y, float *workspace)
{
    be->conv2d_forward(g, x, w, b, y, workspace);
    return SOMA_OK;
}

soma_status run_conv_backward(const soma_backend *be, const conv_geom *g, const float *x,
                              const float *w, const float *y, const float *dy, float *dx,
                              float *dw, float *db, float *workspace)
{
    be->conv2d_backward(g, x, w, y, dy, dx, dw, db, workspace);
    return SOMA_OK;
}

soma_status run_maxpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y, int32_t *argmax)
{
    be->maxpool_forward(g, x, y, argmax);
    return SOMA_OK;
}

soma_status run_maxpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 const int32_t *argmax, float *dx)
{
    be->maxpool_backward(g, dy, argmax, dx);
    return SOMA_OK;
}

soma_status run_avgpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y)
{
    be->avgpool_forward(g, x, y);
    return SOMA_OK;
}

soma_status run_avgpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 float *dx)
{
    be->avgpool_backward(g, dy, dx);
    return SOMA_OK;
}

soma_status run_activation_forward(const soma_backend *be, activation_kind kind, const float *x,
                                   float *y, size_t n)
{
    be->activation_forward(kind, x, y, n);
    return SOMA_OK;
}

soma_status run_activation_backward(const soma_backend *be, activation_kind kind,
                                    const float *y, const float *dy, float *dx, size_t n)
{
    be->activation_backward(kind, y, dy, dx, n);
    return SOMA_OK;
}

soma_status run_dropout_forward(const soma_backend *be, const float *x, float *y, float *mask,
                                size_t n, float p, uint64_t seed, uint64_t step, int layer,
                                size_t offset)
{
    be->dropout_forward(x, y, mask, n, p, seed, step, layer, offset);
    return SOMA_OK;
}

soma_status run_dropout_backward(const soma_backend *be, const float *dy, const float *mask,
                                 float *dx, size_t n)
{
    be->dropout_backward(dy, mask, dx, n);
    return SOMA_OK;
}

soma_status run_bn_forward_train(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *beta, float *y,
                                 float *save_mean, float *save_invstd, float *running_mean,
                                 float *running_var)
{
    be->batchnorm_forward_train(g, x, gamma, beta, y, save_mean, save_invstd, running_mean,
                                running_var);
    return SOMA_OK;
}

soma_status run_bn_forward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float *y)
{
    be->batchnorm_forward_eval(g, x, gamma, beta, running_mean, running_var, y);
    return SOMA_OK;
}

soma_status run_bn_backward(const soma_backend *be, const bn_geom *g, const float *x,
                            const float *gamma, const float *beta, const float *save_mean,
                            const float *save_invstd, const float *dy, float *dx, float *dgamma,
                            float *dbeta)
{
    be->batchnorm_backward(g, x, gamma, beta, save_mean, save_invstd, dy, dx, dgamma, dbeta);
    return SOMA_OK;
}

soma_status run_bn_backward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *y, const float *running_mean,
                                 const float *running_var, const float *dy, float *dx,
                                 float *dgamma, float *dbeta)
{
    be->batchnorm_backward_eval(g, x, gamma, y, running_mean, running_var, dy, dx, dgamma,
                                dbeta);
    return SOMA_OK;
}

soma_status run_softmax_xent_forward(const soma_backend *be, const float *logits,
                                     const int32_t *labels, int n, int classes, float *probs,
                                     double *loss_sum_host, int *correct_host)
{
    be->softmax_xent_forward(logits, labels, n, classes, probs, loss_sum_host, correct_host);
    return SOMA_OK;
}

soma_status run_softmax_xent_backward(const soma_backend *be, const float *probs,
                                      const int32_t *labels, int n, int classes, float scale,
                                      float *dlogits)
{
    be->softmax_xent_backward(probs, labels, n, classes, scale, dlogits);
    return SOMA_OK;
}

soma_status run_optimizer_step(const soma_backend *be, const optim_step_args *a, float *params,
                               const float *grads, float *state1, float *state2, size_t n)
{
    be->optimizer_step(a, params, grads, state1, state2, n);
    return SOMA_OK;
}

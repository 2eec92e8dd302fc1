/*
 * The conformance suite's only calls into a backend table: one wrapper per
 * operation. When the interface changes, these bodies change and nothing
 * else does.
 */
#include "core/error.h"
#include "support/conformance.h"

void *run_alloc(const soma_backend *be, size_t bytes) { return be->alloc(bytes); }

void run_free(const soma_backend *be, void *p) { be->free(p); }

soma_status run_upload(const soma_backend *be, void *dst, const void *host_src, size_t bytes)
{
    return be->upload(dst, host_src, bytes);
}

soma_status run_download(const soma_backend *be, void *host_dst, const void *src, size_t bytes)
{
    return be->download(host_dst, src, bytes);
}

soma_status run_fill(const soma_backend *be, float *x, size_t n, float value)
{
    return be->fill(x, n, value);
}

soma_status run_copy(const soma_backend *be, float *dst, const float *src, size_t n)
{
    return be->copy(dst, src, n);
}

soma_status run_count_nonfinite(const soma_backend *be, const float *x, size_t n, size_t *count)
{
    return be->count_nonfinite(x, n, count);
}

soma_status run_sum_squares(const soma_backend *be, const float *x, size_t n, double *sum)
{
    return be->sum_squares(x, n, sum);
}

soma_status run_add(const soma_backend *be, float *dst, const float *src, size_t n)
{
    return be->add(dst, src, n);
}

int run_lanes_for(const soma_backend *be, int batch) { return be->lanes(batch); }

soma_status run_lanes(const soma_backend *be, int lanes, soma_status (*task)(void *, int),
                      soma_status (*finish)(void *, int, int), void *arg)
{
    return be->run_lanes(lanes, task, finish, arg);
}

soma_status run_lrn_forward(const soma_backend *be, const lrn_geom *g, const float *x, float *y,
                            float *scale)
{
    return be->lrn_forward(g, x, y, scale);
}

soma_status run_lrn_backward(const soma_backend *be, const lrn_geom *g, const float *x,
                             const float *y, const float *scale, const float *dy, float *dx)
{
    return be->lrn_backward(g, x, y, scale, dy, dx);
}

soma_status run_linear_forward(const soma_backend *be, const float *x, const float *w,
                               const float *b, float *y, int n, int in, int out, int relu)
{
    return be->linear_forward(x, w, b, y, n, in, out, relu);
}

soma_status run_linear_backward(const soma_backend *be, const float *x, const float *w,
                                const float *y, const float *dy, float *dx, float *dw, float *db,
                                int n, int in, int out, float *workspace)
{
    return be->linear_backward(x, w, y, dy, dx, dw, db, n, in, out, workspace);
}

size_t run_conv_workspace(const soma_backend *be, const conv_geom *g)
{
    return be->conv2d_workspace(g);
}

soma_status run_conv_forward(const soma_backend *be, const conv_geom *g, const float *x,
                             const float *w, const float *b, float *y, float *workspace)
{
    return be->conv2d_forward(g, x, w, b, y, workspace);
}

soma_status run_conv_backward(const soma_backend *be, const conv_geom *g, const float *x,
                              const float *w, const float *y, const float *dy, float *dx,
                              float *dw, float *db, float *workspace)
{
    return be->conv2d_backward(g, x, w, y, dy, dx, dw, db, workspace);
}

int run_conv_pool_supported(const soma_backend *be, const conv_geom *g, const pool_geom *p)
{
    return be->conv_pool_supported && be->conv_pool_supported(g, p);
}

size_t run_conv_pool_workspace(const soma_backend *be, const conv_geom *g, const pool_geom *p,
                               int with_dx)
{
    return be->conv_pool_workspace(g, p, with_dx);
}

soma_status run_conv_pool_forward(const soma_backend *be, const conv_geom *g, const pool_geom *p,
                                  const float *x, const float *w, const float *b, float *y,
                                  int32_t *argmax, float *workspace)
{
    return be->conv_pool_forward(g, p, x, w, b, y, argmax, workspace);
}

soma_status run_conv_pool_backward(const soma_backend *be, const conv_geom *g,
                                   const pool_geom *p, const float *x, const float *w,
                                   const float *dy, const int32_t *argmax, float *dx,
                                   float *dw, float *db, float *workspace)
{
    return be->conv_pool_backward(g, p, x, w, dy, argmax, dx, dw, db, workspace);
}

soma_status run_maxpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y, int32_t *argmax)
{
    return be->maxpool_forward(g, x, y, argmax);
}

soma_status run_maxpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 const int32_t *argmax, float *dx)
{
    return be->maxpool_backward(g, dy, argmax, dx);
}

soma_status run_avgpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y)
{
    return be->avgpool_forward(g, x, y);
}

soma_status run_avgpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 float *dx)
{
    return be->avgpool_backward(g, dy, dx);
}

soma_status run_activation_forward(const soma_backend *be, activation_kind kind, const float *x,
                                   float *y, size_t n)
{
    return be->activation_forward(kind, x, y, n);
}

soma_status run_activation_backward(const soma_backend *be, activation_kind kind,
                                    const float *y, const float *dy, float *dx, size_t n)
{
    return be->activation_backward(kind, y, dy, dx, n);
}

soma_status run_dropout_forward(const soma_backend *be, const float *x, float *y, float *mask,
                                size_t n, float p, uint64_t seed, uint64_t step, int layer,
                                size_t offset)
{
    return be->dropout_forward(x, y, mask, n, p, seed, step, layer, offset);
}

soma_status run_dropout_backward(const soma_backend *be, const float *dy, const float *mask,
                                 float *dx, size_t n)
{
    return be->dropout_backward(dy, mask, dx, n);
}

soma_status run_bn_forward_train(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *beta, float *y,
                                 float *save_mean, float *save_invstd, float *running_mean,
                                 float *running_var)
{
    return be->batchnorm_forward_train(g, x, gamma, beta, y, save_mean, save_invstd, running_mean,
                                       running_var);
}

soma_status run_bn_forward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float *y)
{
    return be->batchnorm_forward_eval(g, x, gamma, beta, running_mean, running_var, y);
}

soma_status run_bn_backward(const soma_backend *be, const bn_geom *g, const float *x,
                            const float *gamma, const float *beta, const float *save_mean,
                            const float *save_invstd, const float *dy, float *dx, float *dgamma,
                            float *dbeta)
{
    return be->batchnorm_backward(g, x, gamma, beta, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

soma_status run_bn_backward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *y, const float *running_mean,
                                 const float *running_var, const float *dy, float *dx,
                                 float *dgamma, float *dbeta)
{
    return be->batchnorm_backward_eval(g, x, gamma, y, running_mean, running_var, dy, dx, dgamma,
                                       dbeta);
}

soma_status run_softmax_xent_forward(const soma_backend *be, const float *logits,
                                     const int32_t *labels, int n, int classes, float *probs,
                                     double *loss_sum_host, int *correct_host)
{
    /* the loss sum and correct count stay on the device until downloaded */
    double *metrics = be->alloc(2 * sizeof(double)), host[2];
    if (!metrics)
        return soma_error(SOMA_ERR_MEMORY, "softmax_xent_forward: no device memory for metrics");
    soma_status st = be->softmax_xent_forward(logits, labels, n, classes, probs, metrics);
    if (st == SOMA_OK)
        st = be->download(host, metrics, sizeof host);
    be->free(metrics);
    if (st == SOMA_OK && loss_sum_host)
        *loss_sum_host = host[0];
    if (st == SOMA_OK && correct_host)
        *correct_host = (int)host[1];
    return st;
}

soma_status run_softmax_xent_backward(const soma_backend *be, const float *probs,
                                      const int32_t *labels, int n, int classes, float scale,
                                      float *dlogits)
{
    return be->softmax_xent_backward(probs, labels, n, classes, scale, dlogits);
}

soma_status run_optimizer_step(const soma_backend *be, const optim_step_args *a, float *params,
                               const float *grads, float *state1, float *state2, size_t n)
{
    return be->optimizer_step(a, params, grads, state1, state2, n);
}

/* The CPU implementations behind soma_cpu_backend (one file per family). */
#ifndef SOMA_OPS_CPU_H
#define SOMA_OPS_CPU_H

#include "ops/backend.h"

/* parts the kernels split work into, which fix the order of every sum: the
 * run's count (soma_train_config.threads), else soma_set_threads's; 1 inside
 * a lane (run_lanes) or a parallel region */
int cpu_parts(void);
/* threads that run those parts now: cpu_parts(), or fewer while the run's
 * thread governor sees other programs take cores (run_live_get) */
int cpu_threads(void);
/* the threads that run `parts` parts now: cpu_threads(), no more than the parts */
static inline int cpu_live_threads(int parts)
{
    int live = cpu_threads();
    return live < parts ? live : parts;
}
/* the CPU backend's lanes (lanes_cpu.c): one per thread */
int cpu_lanes(int batch);
soma_status cpu_run_lanes(int lanes, soma_status (*task)(void *arg, int lane),
                          soma_status (*finish)(void *arg, int part, int parts), void *arg);
int cpu_in_lane(void);
/* makes OpenBLAS run each call on its caller's thread, once (blas_setup.c) */
void cpu_blas_setup(void);
/* the OpenBLAS kernel family in use, e.g. "SkylakeX" */
const char *cpu_blas_kernels(void);

soma_status cpu_linear_forward(const float *x, const float *w, const float *b, float *y, int n,
                               int in, int out, int relu);
soma_status cpu_linear_backward(const float *x, const float *w, const float *y, const float *dy,
                                float *dx, float *dw, float *db, int n, int in, int out,
                                float *workspace);

size_t cpu_conv2d_workspace(const conv_geom *g);
soma_status cpu_conv2d_forward(const conv_geom *g, const float *x, const float *w, const float *b,
                               float *y, float *workspace);
soma_status cpu_conv2d_backward(const conv_geom *g, const float *x, const float *w, const float *y,
                                const float *dy, float *dx, float *dw, float *db, float *workspace);

int cpu_conv_pool_supported(const conv_geom *g, const pool_geom *p);
size_t cpu_conv_pool_workspace(const conv_geom *g, const pool_geom *p, int with_dx);
soma_status cpu_conv_pool_forward(const conv_geom *g, const pool_geom *p, const float *x,
                                  const float *w, const float *b, float *y, int32_t *argmax,
                                  float *workspace);
soma_status cpu_conv_pool_backward(const conv_geom *g, const pool_geom *p, const float *x,
                                   const float *w, const float *dy, const int32_t *argmax,
                                   float *dx, float *dw, float *db, float *workspace);

soma_status cpu_maxpool_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax);
soma_status cpu_maxpool_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                                 float *dx);
soma_status cpu_avgpool_forward(const pool_geom *g, const float *x, float *y);
soma_status cpu_avgpool_backward(const pool_geom *g, const float *dy, float *dx);

soma_status cpu_lrn_forward(const lrn_geom *g, const float *x, float *y, float *scale);
soma_status cpu_lrn_backward(const lrn_geom *g, const float *x, const float *y, const float *scale,
                             const float *dy, float *dx);

soma_status cpu_activation_forward(activation_kind kind, const float *x, float *y, size_t n);
soma_status cpu_activation_backward(activation_kind kind, const float *y, const float *dy,
                                    float *dx, size_t n);
soma_status cpu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                uint64_t seed, uint64_t step, int layer, size_t offset);
soma_status cpu_dropout_backward(const float *dy, const float *mask, float *dx, size_t n);

soma_status cpu_batchnorm_forward_train(const bn_geom *g, const float *x, const float *gamma,
                                        const float *beta, float *y, float *save_mean,
                                        float *save_invstd, float *running_mean,
                                        float *running_var);
soma_status cpu_batchnorm_forward_eval(const bn_geom *g, const float *x, const float *gamma,
                                       const float *beta, const float *running_mean,
                                       const float *running_var, float *y);
soma_status cpu_batchnorm_backward(const bn_geom *g, const float *x, const float *gamma,
                                   const float *beta, const float *save_mean,
                                   const float *save_invstd, const float *dy, float *dx,
                                   float *dgamma, float *dbeta);
soma_status cpu_batchnorm_backward_eval(const bn_geom *g, const float *x, const float *gamma,
                                        const float *y, const float *running_mean,
                                        const float *running_var, const float *dy, float *dx,
                                        float *dgamma, float *dbeta);

soma_status cpu_softmax_xent_forward(const float *logits, const int32_t *labels, int n, int classes,
                                     float *probs, double *metrics);
soma_status cpu_softmax_xent_backward(const float *probs, const int32_t *labels, int n, int classes,
                                      float scale, float *dlogits);

soma_status cpu_optimizer_step(const optim_step_args *a, float *params, const float *grads,
                               float *state1, float *state2, size_t n);

#endif

/*
 * The backend conformance suite (tests/ops/backend_conformance_test.c): every
 * operation of a soma_backend table against a double-precision reference
 * written from the definition in the suite.
 *
 *  - conformance_ops.c      the ONLY place a backend operation is called: one
 *                           thin wrapper per operation (run_*), so a change of
 *                           the interface is a change of that wrapper alone
 *  - conformance_report.c   cases, comparisons, the tolerance table, the
 *                           PASS/FAIL/SKIP lines and their counts
 *  - the cases: conformance_conv.c (convolution), conformance_conv_pool.c
 *    (a convolution with its max-pool, where a backend fuses them), conformance_layers.c
 *    (linear, pooling, activations), conformance_batchnorm.c,
 *    conformance_misc.c (memory, dropout, softmax cross-entropy),
 *    conformance_lanes.c (add, lanes, run_lanes), conformance_lrn.c,
 *    conformance_optim.c (every optimizer kind)
 *
 * Device memory is only ever touched through the wrappers: alloc, upload,
 * download (and the operation under test); host code never reads it.
 */
#ifndef SOMA_TESTS_CONFORMANCE_H
#define SOMA_TESTS_CONFORMANCE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/backend.h"
#include "soma.h"

/* ---- the wrappers: one per operation of the table (conformance_ops.c) ----
 * Each returns SOMA_OK where the operation succeeded (today's operations
 * return nothing and always succeed). Pointers are device memory except
 * where a name says host. */

void *run_alloc(const soma_backend *be, size_t bytes);
void run_free(const soma_backend *be, void *p);
soma_status run_upload(const soma_backend *be, void *dst, const void *host_src, size_t bytes);
soma_status run_download(const soma_backend *be, void *host_dst, const void *src, size_t bytes);
soma_status run_fill(const soma_backend *be, float *x, size_t n, float value);
soma_status run_copy(const soma_backend *be, float *dst, const float *src, size_t n);
soma_status run_count_nonfinite(const soma_backend *be, const float *x, size_t n, size_t *count);
/* sum_host: the host result */
soma_status run_sum_squares(const soma_backend *be, const float *x, size_t n, double *sum_host);

soma_status run_add(const soma_backend *be, float *dst, const float *src, size_t n);
/* lanes(batch), and run_lanes: tasks and finish are host code */
int run_lanes_for(const soma_backend *be, int batch);
soma_status run_lanes(const soma_backend *be, int lanes, soma_status (*task)(void *, int),
                      soma_status (*finish)(void *, int, int), void *arg);
soma_status run_lrn_forward(const soma_backend *be, const lrn_geom *g, const float *x, float *y,
                            float *scale);
soma_status run_lrn_backward(const soma_backend *be, const lrn_geom *g, const float *x,
                             const float *y, const float *scale, const float *dy, float *dx);
soma_status run_linear_forward(const soma_backend *be, const float *x, const float *w,
                               const float *b, float *y, int n, int in, int out, int relu);
soma_status run_linear_backward(const soma_backend *be, const float *x, const float *w,
                                const float *y, const float *dy, float *dx, float *dw, float *db,
                                int n, int in, int out, float *workspace);

/* floats of workspace for the kernels' split at the current thread count */
size_t run_conv_workspace(const soma_backend *be, const conv_geom *g);
soma_status run_conv_forward(const soma_backend *be, const conv_geom *g, const float *x,
                             const float *w, const float *b, float *y, float *workspace);
soma_status run_conv_backward(const soma_backend *be, const conv_geom *g, const float *x,
                              const float *w, const float *y, const float *dy, float *dx,
                              float *dw, float *db, float *workspace);

/* the optional fused convolution and max-pool: supported 0 where the table has none */
int run_conv_pool_supported(const soma_backend *be, const conv_geom *g, const pool_geom *p);
size_t run_conv_pool_workspace(const soma_backend *be, const conv_geom *g, const pool_geom *p,
                               int with_dx);
soma_status run_conv_pool_forward(const soma_backend *be, const conv_geom *g, const pool_geom *p,
                                  const float *x, const float *w, const float *b, float *y,
                                  int32_t *argmax, float *workspace);
soma_status run_conv_pool_backward(const soma_backend *be, const conv_geom *g,
                                   const pool_geom *p, const float *x, const float *w,
                                   const float *dy, const int32_t *argmax, float *dx,
                                   float *dw, float *db, float *workspace);

soma_status run_maxpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y, int32_t *argmax);
soma_status run_maxpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 const int32_t *argmax, float *dx);
soma_status run_avgpool_forward(const soma_backend *be, const pool_geom *g, const float *x,
                                float *y);
soma_status run_avgpool_backward(const soma_backend *be, const pool_geom *g, const float *dy,
                                 float *dx);

soma_status run_activation_forward(const soma_backend *be, activation_kind kind, const float *x,
                                   float *y, size_t n);
soma_status run_activation_backward(const soma_backend *be, activation_kind kind,
                                    const float *y, const float *dy, float *dx, size_t n);

soma_status run_dropout_forward(const soma_backend *be, const float *x, float *y, float *mask,
                                size_t n, float p, uint64_t seed, uint64_t step, int layer,
                                size_t offset);
soma_status run_dropout_backward(const soma_backend *be, const float *dy, const float *mask,
                                 float *dx, size_t n);

soma_status run_bn_forward_train(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *beta, float *y,
                                 float *save_mean, float *save_invstd, float *running_mean,
                                 float *running_var);
soma_status run_bn_forward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float *y);
soma_status run_bn_backward(const soma_backend *be, const bn_geom *g, const float *x,
                            const float *gamma, const float *beta, const float *save_mean,
                            const float *save_invstd, const float *dy, float *dx, float *dgamma,
                            float *dbeta);
soma_status run_bn_backward_eval(const soma_backend *be, const bn_geom *g, const float *x,
                                 const float *gamma, const float *y, const float *running_mean,
                                 const float *running_var, const float *dy, float *dx,
                                 float *dgamma, float *dbeta);

/* loss_sum_host and correct_host: host results (NULL: not wanted) */
soma_status run_softmax_xent_forward(const soma_backend *be, const float *logits,
                                     const int32_t *labels, int n, int classes, float *probs,
                                     double *loss_sum_host, int *correct_host);
soma_status run_softmax_xent_backward(const soma_backend *be, const float *probs,
                                      const int32_t *labels, int n, int classes, float scale,
                                      float *dlogits);

soma_status run_optimizer_step(const soma_backend *be, const optim_step_args *a, float *params,
                               const float *grads, float *state1, float *state2, size_t n);

/* ---- where the suite runs (conformance_report.c) ---- */

typedef struct conf_target {
    const soma_backend *be;
    const char *label;      /* the backend and its variant, e.g. "cpu (avx512)" */
    const int *threads;     /* soma_set_threads counts to run every case with */
    int nthreads;
} conf_target;

/* Runs the body once per thread count of the target, soma_set_threads'ing it. */
#define CONF_FOR_THREADS(t, i)                                                   \
    for (int i = 0; i < (t)->nthreads && (soma_set_threads((t)->threads[i]), 1); i++)

/* ---- tolerances: one table (conformance_report.c) ----
 * Errors are measured against the double reference and divided by the size
 * of the terms that made the value (mag: the same formula with every term
 * taken in absolute value), which is what float arithmetic can promise: a
 * sum whose terms cancel is only as exact as its largest terms allow. A
 * tolerance is u * (fixed + per_term * K), u = 2^-24 the unit roundoff and K
 * the number of terms summed into one value. */
typedef enum conf_tol {
    TOL_EXACT,       /* bit-for-bit: moves, selections, one product */
    TOL_ROUNDED,     /* a handful of correctly rounded operations */
    TOL_LIBM,        /* tanhf/expf and the operations around them */
    TOL_SUM,         /* sums of K products (linear, conv, pooling) */
    TOL_BATCHNORM,   /* sums of K values and the statistics derived from them */
    TOL_SOFTMAX,     /* exp, a sum over the classes, log */
    TOL_OPTIMIZER,   /* one update step, a few operations per element */
    TOL_KINDS
} conf_tol;

double conf_tolerance(conf_tol kind, double terms);
const char *conf_tolerance_name(conf_tol kind);
void conf_print_tolerances(void);

/* A reference value and its magnitude (the size of the error float arithmetic
 * may make in it, in units of u): leaves carry |v|, each operation carries
 * its inputs' magnitudes through to first order (a running error bound). */
typedef struct dm {
    double v, m;
} dm;

static inline dm dm_of(double v) { return (dm){v, fabs(v)}; }
static inline dm dm_add(dm a, dm b) { return (dm){a.v + b.v, a.m + b.m}; }
static inline dm dm_sub(dm a, dm b) { return (dm){a.v - b.v, a.m + b.m}; }
static inline dm dm_mul(dm a, dm b)
{
    return (dm){a.v * b.v, a.m * fabs(b.v) + fabs(a.v) * b.m};
}
static inline dm dm_div(dm a, dm b)
{
    double q = a.v / b.v;
    return (dm){q, (a.m + fabs(q) * b.m) / fabs(b.v)};
}
static inline dm dm_sqrt(dm a)
{
    double r = sqrt(a.v);
    return (dm){r, r > 0.0 ? 0.5 * a.m / r + r : sqrt(a.m)};
}
static inline dm dm_exp(dm a)
{
    double e = exp(a.v);
    return (dm){e, e * (a.m + 1.0)};
}
static inline dm dm_log(dm a)
{
    double l = log(a.v);
    return (dm){l, a.m / a.v + fabs(l)};
}

/* ---- a case: one (backend, op, case) line ---- */

typedef struct conf_case {
    const conf_target *t;
    char op[40], name[160];
    int failed;
    char first_failure[320];
    double worst;           /* largest error / tolerance over the comparisons */
    char worst_what[48];
} conf_case;

void case_begin(conf_case *k, const conf_target *t, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* records a failure (the first message is kept for the line) */
void case_fail(conf_case *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void case_require(conf_case *k, int cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a wrapper's status: fails the case unless SOMA_OK */
void case_status(conf_case *k, soma_status s, const char *call);
/* |got - want| <= tol * mag elementwise (mag NULL: |want|); NaN fails unless
 * the reference is NaN there too; tol 0 asks for equal values */
void case_close(conf_case *k, const char *what, const float *got, const double *want,
                const double *mag, size_t n, double tol);
/* bit-for-bit equality of two host arrays */
void case_same_bits(conf_case *k, const char *what, const void *got, const void *want,
                    size_t bytes);
/* prints the PASS or FAIL line and counts it */
void case_end(conf_case *k);
/* prints and counts a SKIP line; op NULL: the whole variant ("label: SKIP, why") */
void conf_skip(const char *label, const char *op, const char *name, const char *why);

void conf_summary(int *pass, int *fail, int *skip);
/* per operation, the largest error seen as a fraction of its tolerance */
void conf_print_margins(void);

/* ---- host data and device buffers ---- */

/* host arrays of n normal (mean 0, sd `scale`) or uniform [lo, hi) floats */
float *host_normal(size_t n, uint64_t stream, float scale);
float *host_uniform(size_t n, uint64_t stream, float lo, float hi);
double *host_doubles(size_t n); /* zero-filled */
float *host_floats(size_t n);   /* zero-filled */

/* device buffers through the wrappers; exit(2) when the device is out of memory */
float *dev_from_host(const soma_backend *be, const float *host, size_t n);
float *dev_zeros(const soma_backend *be, size_t n);
float *dev_filled(const soma_backend *be, size_t n, float value); /* upload, not fill */
void *dev_bytes(const soma_backend *be, const void *host, size_t bytes);
/* a host copy of n device floats (free() it) */
float *host_from_dev(const soma_backend *be, const float *dev, size_t n);
void dev_release(const soma_backend *be, void *p);

/* ---- the suites ---- */
void conf_memory(const conf_target *t);
void conf_lanes(const conf_target *t); /* add, lanes, run_lanes (conformance_lanes.c) */
void conf_lrn(const conf_target *t);   /* conformance_lrn.c */
void conf_conv_pool(const conf_target *t); /* conformance_conv_pool.c */
void conf_linear(const conf_target *t);
void conf_conv(const conf_target *t);
void conf_pool(const conf_target *t);
void conf_activation(const conf_target *t);
void conf_dropout(const conf_target *t);
void conf_batchnorm(const conf_target *t);
void conf_softmax_xent(const conf_target *t);
void conf_optimizer(const conf_target *t);

/* The geometries conf_conv runs (for a backend's own coverage checks). */
int conf_conv_geometries(const conv_geom **out);

/* The convolution's definition in double (conformance_conv.c), with the
 * magnitude of each result's terms: y (after the fused ReLU when g->relu);
 * dx, and dw0 + dw, db0 + db, from dz (dy already masked by the ReLU). */
void conf_conv_reference_forward(const conv_geom *g, const float *x, const float *w,
                                 const float *b, double *y, double *mag);
typedef struct conf_conv_grads {
    double *dx, *dx_mag, *dw, *dw_mag, *db, *db_mag;
} conf_conv_grads;
void conf_conv_reference_backward(const conv_geom *g, const float *x, const float *w,
                                  const float *dz, const float *dw0, const float *db0,
                                  conf_conv_grads *r);

#endif

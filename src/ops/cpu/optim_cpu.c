/*
 * The optimizer update on the CPU: one fused pass per parameter.
 *
 * The formulas are PyTorch 1.13's (torch/optim/{sgd,adagrad,rmsprop,adam,
 * adamw}.py, single-tensor path), in the same order of float32 operations,
 * so a run can be compared with PyTorch step by step. docs/optimizers.md
 * writes each update out and says where the lecture's slides differ.
 *
 * Every element is updated independently, so splitting the loop over
 * threads cannot change a single bit: results do not depend on the thread
 * count.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/team.h"
#include "soma.h"

/* The loops are compiled twice (optim_range below): portable, and for
 * AVX-512 where the CPU has it (16 floats an instruction against SSE's 4:
 * Adam's two divisions and square root were half of its time). The
 * operations stay separate IEEE ones (no FMA contraction), so both give the
 * same bits. GCC contracts nothing in ISO C mode (-std=c11); clang does
 * within an expression unless told not to. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#define OPTIM_LOOP static inline __attribute__((always_inline))

/* Below this many parameters the loop is faster on one thread. */
#define OPTIM_PARALLEL_MIN 32768

/* Each loop below is elementwise and vectorised ("simd" also promises the
 * compiler that the buffers do not overlap); cpu_optimizer_step splits the
 * parameters over soma's threads when there are many. */
#define ELEMENTWISE_LOOP _Pragma("omp simd")

/* A loop that cannot be vectorised is still correct: sanitizer builds, and
 * the sqrtf loops unless the build passes -fno-math-errno (sqrtf may set
 * errno). clang warns about each such simd request; gcc is silent. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* SGD, momentum and Nesterov (torch.optim.SGD with dampening 0):
 *   g' = g + wd*w
 *   momentum:  b = mu*b + g' (b = g' on the first step),  w -= lr*b
 *   nesterov:  b as above,                               w -= lr*(g' + mu*b)
 * The loops hold no branches: compilers vectorise only one version of a loop
 * they unswitch. */
OPTIM_LOOP void sgd_step(const optim_step_args *a, float *w, const float *grads, float *buf,
                         size_t n)
{
    const float lr = a->lr, wd = a->weight_decay, mu = a->momentum;

    if (a->kind == SOMA_OPT_SGD) {
        ELEMENTWISE_LOOP
        for (size_t i = 0; i < n; i++) {
            float g = grads[i] + wd * w[i];
            w[i] -= lr * g;
        }
        return;
    }
    /* PyTorch starts the buffer at g'; mu*0 + g' is exactly that. */
    if (a->t <= 1)
        memset(buf, 0, n * sizeof *buf);
    if (a->kind == SOMA_OPT_MOMENTUM) {
        ELEMENTWISE_LOOP
        for (size_t i = 0; i < n; i++) {
            float g = grads[i] + wd * w[i];
            float b = mu * buf[i] + g;
            buf[i] = b;
            w[i] -= lr * b;
        }
        return;
    }
    ELEMENTWISE_LOOP
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + wd * w[i];
        float b = mu * buf[i] + g;
        buf[i] = b;
        w[i] -= lr * (g + mu * b);
    }
}

/* AdaGrad (Duchi et al. 2011; torch.optim.Adagrad, lr_decay 0, initial sum 0):
 *   G += g'^2;  w -= lr * g' / (sqrt(G) + eps) */
OPTIM_LOOP void adagrad_step(const optim_step_args *a, float *w, const float *grads,
                             float *sum, size_t n)
{
    const float lr = a->lr, wd = a->weight_decay, eps = a->eps;
    ELEMENTWISE_LOOP
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + wd * w[i];
        float s = sum[i] + g * g;
        sum[i] = s;
        w[i] -= lr * (g / (sqrtf(s) + eps));
    }
}

/* RMSProp (Tieleman & Hinton 2012; torch.optim.RMSprop, not centered, no momentum):
 *   v = alpha*v + (1-alpha)*g'^2;  w -= lr * g' / (sqrt(v) + eps) */
OPTIM_LOOP void rmsprop_step(const optim_step_args *a, float *w, const float *grads,
                             float *sq, size_t n)
{
    const float lr = a->lr, wd = a->weight_decay, eps = a->eps;
    const float alpha = a->alpha, one_minus_alpha = 1.0f - a->alpha;
    ELEMENTWISE_LOOP
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] + wd * w[i];
        float v = alpha * sq[i] + one_minus_alpha * (g * g);
        sq[i] = v;
        w[i] -= lr * (g / (sqrtf(v) + eps));
    }
}

/* Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (Loshchilov & Hutter 2019):
 *   AdamW first: w *= 1 - lr*wd  (and the gradient stays raw)
 *   Adam:        g' = g + wd*w   (L2 added to the gradient)
 *   m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
 *   w -= lr * mhat / (sqrt(vhat) + eps),  mhat = m/(1-b1^t), vhat = v/(1-b2^t)
 * computed as PyTorch does: w -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps),
 * with the bias corrections in double. */
OPTIM_LOOP void adam_step(const optim_step_args *a, float *w, const float *grads,
                          float *m_buf, float *v_buf, size_t n)
{
    const double t = (double)(a->t < 1 ? 1 : a->t);
    const double bc1 = 1.0 - pow((double)a->beta1, t);
    const double bc2 = 1.0 - pow((double)a->beta2, t);
    const float step_size = (float)((double)a->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = a->beta1, one_minus_b1 = 1.0f - a->beta1;
    const float b2 = a->beta2, one_minus_b2 = 1.0f - a->beta2;
    const float eps = a->eps;
    const int decoupled = a->kind == SOMA_OPT_ADAMW;
    /* AdamW decays the weights (shrink), Adam adds wd*w to the gradient (l2);
     * the other factor is 1 or 0, which changes nothing exactly. */
    const float shrink = decoupled ? (float)(1.0 - (double)a->lr * a->weight_decay) : 1.0f;
    const float l2 = decoupled ? 0.0f : a->weight_decay;

    ELEMENTWISE_LOOP
    for (size_t i = 0; i < n; i++) {
        float wi = w[i] * shrink;
        float g = grads[i] + l2 * wi;
        float m = b1 * m_buf[i] + one_minus_b1 * g;
        float v = b2 * v_buf[i] + one_minus_b2 * (g * g);
        m_buf[i] = m;
        v_buf[i] = v;
        w[i] = wi - step_size * (m / (sqrtf(v) / bc2_sqrt + eps));
    }
}

typedef struct optim_job {
    const optim_step_args *a;
    float *params, *state1, *state2;
    const float *grads;
    size_t n;
} optim_job;

static float *offset(float *p, size_t i) { return p ? p + i : NULL; }

/* The update of n parameters from w on (the states from s1, s2 on). */
OPTIM_LOOP void optim_range(const optim_step_args *a, float *w, const float *g, float *s1,
                            float *s2, size_t n)
{
    switch ((soma_optimizer_kind)a->kind) {
    case SOMA_OPT_SGD:
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV: sgd_step(a, w, g, s1, n); break;
    case SOMA_OPT_ADAGRAD: adagrad_step(a, w, g, s1, n); break;
    case SOMA_OPT_RMSPROP: rmsprop_step(a, w, g, s1, n); break;
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW: adam_step(a, w, g, s1, s2, n); break;
    }
}

static void optim_range_portable(const optim_step_args *a, float *w, const float *g, float *s1,
                                 float *s2, size_t n)
{
    optim_range(a, w, g, s1, s2, n);
}

#if SIMD_AVX512
static AVX512_FN void optim_range_avx512(const optim_step_args *a, float *w, const float *g,
                                         float *s1, float *s2, size_t n)
{
    optim_range(a, w, g, s1, s2, n);
}
#endif

/* Thread t's share of the parameters, in whole 64-byte lines. */
static void optim_share(void *arg, int t, int team)
{
    const optim_job *j = arg;
    size_t b = j->n * t / team & ~(size_t)15;
    size_t e = t + 1 == team ? j->n : j->n * (t + 1) / team & ~(size_t)15;
    float *w = j->params + b, *s1 = offset(j->state1, b), *s2 = offset(j->state2, b);
    const float *g = j->grads + b;
#if SIMD_AVX512
    if (cpu_has_avx512()) {
        optim_range_avx512(j->a, w, g, s1, s2, e - b);
        return;
    }
#endif
    optim_range_portable(j->a, w, g, s1, s2, e - b);
}

soma_status cpu_optimizer_step(const optim_step_args *a, float *params, const float *grads,
                               float *state1, float *state2, size_t n)
{
    optim_job job = {a, params, state1, state2, grads, n};
    cpu_team(n < OPTIM_PARALLEL_MIN ? 1 : cpu_threads(), optim_share, &job);
    return SOMA_OK;
}

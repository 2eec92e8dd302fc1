/*
 * Conformance of optimizer_step: every optimizer kind, step by step, against
 * the published update computed in double (REFERENCE-NOTES.md, "Optimizers";
 * docs/optimizers.md): SGD, momentum and Nesterov as PyTorch writes them
 * (b = mu*b + g, b = g on the first step), AdaGrad, RMSProp, Adam with its
 * bias correction (Kingma & Ba, Algorithm 1) and AdamW, each with and without
 * weight decay. Each step starts from the parameters and state the backend
 * left (exact inputs), so every step is checked on its own, t = 1, 2, 3, 50.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/conformance.h"

static const char *kind_name(soma_optimizer_kind kind)
{
    static const char *const names[] = {"sgd",     "momentum", "nesterov", "adagrad",
                                        "rmsprop", "adam",     "adamw"};
    return names[kind];
}

static int state_count(soma_optimizer_kind kind)
{
    return kind == SOMA_OPT_SGD ? 0 : kind == SOMA_OPT_ADAM || kind == SOMA_OPT_ADAMW ? 2 : 1;
}

/* one element's update: w, s1, s2 in place (values and magnitudes) */
static void reference_step(const optim_step_args *a, double g_in, dm *w, dm *s1, dm *s2)
{
    dm g = dm_of(g_in), lr = dm_of(a->lr), wd = dm_of(a->weight_decay), eps = dm_of(a->eps);
    dm one = {1.0, 0.0};
    /* L2 weight decay enters the gradient, except for AdamW */
    dm gp = a->kind == SOMA_OPT_ADAMW ? g : dm_add(g, dm_mul(wd, *w));
    switch ((soma_optimizer_kind)a->kind) {
    case SOMA_OPT_SGD: *w = dm_sub(*w, dm_mul(lr, gp)); break;
    case SOMA_OPT_MOMENTUM:
    case SOMA_OPT_NESTEROV: {
        dm mu = dm_of(a->momentum);
        *s1 = a->t <= 1 ? gp : dm_add(dm_mul(mu, *s1), gp);
        dm dir = a->kind == SOMA_OPT_MOMENTUM ? *s1 : dm_add(gp, dm_mul(mu, *s1));
        *w = dm_sub(*w, dm_mul(lr, dir));
        break;
    }
    case SOMA_OPT_ADAGRAD:
        *s1 = dm_add(*s1, dm_mul(gp, gp));
        *w = dm_sub(*w, dm_mul(lr, dm_div(gp, dm_add(dm_sqrt(*s1), eps))));
        break;
    case SOMA_OPT_RMSPROP: {
        dm alpha = dm_of(a->alpha), rest = dm_of(1.0 - (double)a->alpha);
        *s1 = dm_add(dm_mul(alpha, *s1), dm_mul(rest, dm_mul(gp, gp)));
        *w = dm_sub(*w, dm_mul(lr, dm_div(gp, dm_add(dm_sqrt(*s1), eps))));
        break;
    }
    case SOMA_OPT_ADAM:
    case SOMA_OPT_ADAMW: {
        if (a->kind == SOMA_OPT_ADAMW) /* decoupled: w *= 1 - lr*wd first */
            *w = dm_mul(*w, dm_sub(one, dm_mul(lr, wd)));
        dm b1 = dm_of(a->beta1), b2 = dm_of(a->beta2);
        *s1 = dm_add(dm_mul(b1, *s1), dm_mul(dm_of(1.0 - (double)a->beta1), gp));
        *s2 = dm_add(dm_mul(b2, *s2), dm_mul(dm_of(1.0 - (double)a->beta2), dm_mul(gp, gp)));
        dm bc1 = dm_of(1.0 - pow(a->beta1, (double)a->t));
        dm bc2 = dm_of(1.0 - pow(a->beta2, (double)a->t));
        dm mhat = dm_div(*s1, bc1), vhat = dm_div(*s2, bc2);
        *w = dm_sub(*w, dm_mul(lr, dm_div(mhat, dm_add(dm_sqrt(vhat), eps))));
        break;
    }
    }
}

static void check_optimizer(const conf_target *t, soma_optimizer_kind kind, size_t n,
                            float weight_decay, int index)
{
    const soma_backend *be = t->be;
    optim_step_args a = {.kind = (int)kind, .lr = 0.05f, .momentum = 0.9f, .alpha = 0.99f,
                         .beta1 = 0.9f, .beta2 = 0.999f,
                         .eps = kind == SOMA_OPT_ADAGRAD ? 1e-10f : 1e-8f,
                         .weight_decay = weight_decay, .t = 0};
    static const long long steps[] = {1, 2, 3, 50};
    int states = state_count(kind);
    float *w0 = host_normal(n, 1500 + (uint64_t)index, 1.0f);
    dm *w = malloc(sizeof *w * n), *s1 = malloc(sizeof *s1 * n), *s2 = malloc(sizeof *s2 * n);
    double *want = host_doubles(n), *mag = host_doubles(n);
    double tol = conf_tolerance(TOL_OPTIMIZER, 0);

    CONF_FOR_THREADS(t, ti) {
        conf_case k;
        case_begin(&k, t, "optimizer_step", "%s n%zu wd %g, t = 1, 2, 3, 50, %d thread%s",
                   kind_name(kind), n, (double)weight_decay, t->threads[ti],
                   t->threads[ti] == 1 ? "" : "s");
        float *d_w = dev_from_host(be, w0, n);
        float *d_s1 = states >= 1 ? dev_zeros(be, n) : NULL; /* state starts at 0 */
        float *d_s2 = states >= 2 ? dev_zeros(be, n) : NULL;
        float *params = host_floats(n), *st1 = host_floats(n), *st2 = host_floats(n);
        memcpy(params, w0, sizeof *params * n);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            a.t = steps[s];
            float *g = host_normal(n, 1600 + s, 1.0f);
            for (size_t i = 0; i < n; i++) {
                w[i] = dm_of(params[i]), s1[i] = dm_of(st1[i]), s2[i] = dm_of(st2[i]);
                reference_step(&a, g[i], &w[i], &s1[i], &s2[i]);
            }
            float *d_g = dev_from_host(be, g, n);
            case_status(&k, run_optimizer_step(be, &a, d_w, d_g, d_s1, d_s2, n),
                        "optimizer_step");
            free(params);
            params = host_from_dev(be, d_w, n);
            char what[32];
            for (size_t i = 0; i < n; i++)
                want[i] = w[i].v, mag[i] = w[i].m;
            snprintf(what, sizeof what, "params (t=%lld)", a.t);
            case_close(&k, what, params, want, mag, n, tol);
            if (states >= 1) {
                free(st1);
                st1 = host_from_dev(be, d_s1, n);
                for (size_t i = 0; i < n; i++)
                    want[i] = s1[i].v, mag[i] = s1[i].m;
                snprintf(what, sizeof what, "state1 (t=%lld)", a.t);
                case_close(&k, what, st1, want, mag, n, tol);
            }
            if (states >= 2) {
                free(st2);
                st2 = host_from_dev(be, d_s2, n);
                for (size_t i = 0; i < n; i++)
                    want[i] = s2[i].v, mag[i] = s2[i].m;
                snprintf(what, sizeof what, "state2 (t=%lld)", a.t);
                case_close(&k, what, st2, want, mag, n, tol);
            }
            free(g);
            dev_release(be, d_g);
        }
        case_end(&k);
        free(params), free(st1), free(st2);
        dev_release(be, d_w), dev_release(be, d_s1), dev_release(be, d_s2);
    }
    free(w0), free(w), free(s1), free(s2), free(want), free(mag);
}

void conf_optimizer(const conf_target *t)
{
    static const size_t sizes[] = {17, 40001}; /* the second split over threads */
    static const float decays[] = {0.0f, 0.05f};
    int index = 0;
    for (int kind = SOMA_OPT_SGD; kind <= SOMA_OPT_ADAMW; kind++)
        for (size_t s = 0; s < 2; s++)
            for (size_t d = 0; d < 2; d++)
                check_optimizer(t, (soma_optimizer_kind)kind, sizes[s], decays[d], index++);
}

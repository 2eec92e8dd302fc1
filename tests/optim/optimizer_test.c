/*
 * Optimizer updates against the published formulas, written out again here
 * in double precision (ref_step), independently of src/ops/cpu/optim_cpu.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/cpu.h"
#include "optim/optimizer.h"
#include "support/check.h"

/* the float formulas below stay separate IEEE operations, as in the kernel */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define N 5
#define STEPS 3
#define TOL 1e-6

static const float w0[N] = {0.5f, -1.25f, 2.0f, 0.03f, -0.7f};
static const float grads[STEPS][N] = {
    {0.1f, -0.4f, 1.5f, -0.02f, 0.8f},
    {-0.3f, 0.2f, 1.1f, 0.05f, -0.6f},
    {0.25f, -0.9f, 0.4f, -0.01f, 0.3f},
};

static const soma_optimizer_kind all_kinds[] = {SOMA_OPT_SGD,     SOMA_OPT_MOMENTUM,
                                                SOMA_OPT_NESTEROV, SOMA_OPT_ADAGRAD,
                                                SOMA_OPT_RMSPROP, SOMA_OPT_ADAM,
                                                SOMA_OPT_ADAMW};
#define KINDS ((int)(sizeof all_kinds / sizeof all_kinds[0]))

/* ------------------------------------------------------------ reference */

typedef struct ref_state {
    double w[N], s1[N], s2[N];
    long long t;
} ref_state;

static void ref_init(ref_state *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < N; i++)
        r->w[i] = w0[i];
}

/* One step of each published algorithm (PyTorch 1.13's form), in double. */
static void ref_step(const soma_optimizer_config *c, double lr, ref_state *r, const float *g_in)
{
    const double mu = c->momentum, alpha = c->alpha, b1 = c->beta1, b2 = c->beta2;
    const double eps = c->eps, wd = c->weight_decay;
    r->t++;
    for (int i = 0; i < N; i++) {
        double g = g_in[i], *w = &r->w[i], *s1 = &r->s1[i], *s2 = &r->s2[i];
        if (c->kind == SOMA_OPT_ADAMW)
            *w = *w * (1.0 - lr * wd); /* decoupled decay, before the moments */
        else
            g = g + wd * *w; /* L2 in the gradient */
        switch (c->kind) {
        case SOMA_OPT_SGD: *w -= lr * g; break;
        case SOMA_OPT_MOMENTUM:
            *s1 = r->t == 1 ? g : mu * *s1 + g;
            *w -= lr * *s1;
            break;
        case SOMA_OPT_NESTEROV:
            *s1 = r->t == 1 ? g : mu * *s1 + g;
            *w -= lr * (g + mu * *s1);
            break;
        case SOMA_OPT_ADAGRAD:
            *s1 += g * g;
            *w -= lr * g / (sqrt(*s1) + eps);
            break;
        case SOMA_OPT_RMSPROP:
            *s1 = alpha * *s1 + (1 - alpha) * g * g;
            *w -= lr * g / (sqrt(*s1) + eps);
            break;
        case SOMA_OPT_ADAM:
        case SOMA_OPT_ADAMW: {
            *s1 = b1 * *s1 + (1 - b1) * g;
            *s2 = b2 * *s2 + (1 - b2) * g * g;
            double mhat = *s1 / (1 - pow(b1, (double)r->t));
            double vhat = *s2 / (1 - pow(b2, (double)r->t));
            *w -= lr * mhat / (sqrt(vhat) + eps);
            break;
        }
        }
    }
}

/* A config with visible steps: lr 0.1 for every kind, weight decay 0 or 0.1. */
static soma_optimizer_config test_config(soma_optimizer_kind kind, float wd)
{
    soma_optimizer_config c = soma_optimizer_defaults(kind);
    c.lr = 0.1f;
    c.weight_decay = wd;
    return c;
}

static optim_step_args args_of(const soma_optimizer_config *c, float lr, long long t)
{
    optim_step_args a = {(int)c->kind, lr,   c->momentum, c->alpha, c->beta1,
                         c->beta2,     c->eps, c->weight_decay, t};
    return a;
}

static void check_against_reference(const float *w, const float *s1, const float *s2,
                                    const ref_state *r, soma_optimizer_kind kind, const char *how,
                                    int step)
{
    int states = optimizer_state_count(kind);
    for (int i = 0; i < N; i++) {
        CHECK_MSG(fabs(w[i] - r->w[i]) <= TOL * fmax(1.0, fabs(r->w[i])),
                  "%s %s step %d: w[%d] = %.9g, expected %.9g", soma_optimizer_name(kind), how,
                  step, i, (double)w[i], r->w[i]);
        if (states >= 1)
            CHECK_MSG(fabs(s1[i] - r->s1[i]) <= TOL * fmax(1.0, fabs(r->s1[i])),
                      "%s %s step %d: %s[%d] = %.9g, expected %.9g", soma_optimizer_name(kind),
                      how, step, optimizer_state_name(kind, 0), i, (double)s1[i], r->s1[i]);
        if (states >= 2)
            CHECK_MSG(fabs(s2[i] - r->s2[i]) <= TOL * fmax(1.0, fabs(r->s2[i])),
                      "%s %s step %d: %s[%d] = %.9g, expected %.9g", soma_optimizer_name(kind),
                      how, step, optimizer_state_name(kind, 1), i, (double)s2[i], r->s2[i]);
    }
}

/* --------------------------------------------------------------- tests */

/* Three steps of every kind, with and without weight decay, through the
 * kernel directly and through the optimizer object on the CPU backend. */
static void test_against_formulas(void)
{
    for (int k = 0; k < KINDS; k++) {
        for (int with_wd = 0; with_wd < 2; with_wd++) {
            soma_optimizer_config c = test_config(all_kinds[k], with_wd ? 0.1f : 0.0f);
            const char *how = with_wd ? "wd" : "no-wd";
            ref_state r;
            ref_init(&r);

            float w[N], s1[N] = {0}, s2[N] = {0};
            memcpy(w, w0, sizeof w);
            /* PyTorch creates the momentum buffer from g' on the first step,
             * so what it held before must not matter */
            if (c.kind == SOMA_OPT_MOMENTUM || c.kind == SOMA_OPT_NESTEROV)
                for (int i = 0; i < N; i++)
                    s1[i] = 7.0f;
            optimizer *o = NULL;
            CHECK(optimizer_create(&soma_cpu_backend, &c, N, &o) == SOMA_OK);
            if (!o)
                continue;
            float *ow = soma_cpu_backend.alloc(N * sizeof(float));
            memcpy(ow, w0, sizeof w);

            for (int s = 0; s < STEPS; s++) {
                optim_step_args a = args_of(&c, c.lr, s + 1);
                cpu_optimizer_step(&a, w, grads[s], s1, s2, N);
                optimizer_step(o, c.lr, ow, grads[s]);
                ref_step(&c, c.lr, &r, grads[s]);
                check_against_reference(w, s1, s2, &r, c.kind, how, s + 1);
                check_against_reference(ow, o->state1, o->state2, &r, c.kind, how, s + 1);
            }
            CHECK(o->t == STEPS);
            /* the parameters must have moved: the test can tell a no-op apart */
            CHECK(fabs(w[2] - w0[2]) > 1e-3);
            soma_cpu_backend.free(ow);
            optimizer_free(o);
        }
    }
}

/* The public soma_optimizer on the caller's own array: the same steps as the
 * reference, its configuration checked, NULLs refused. */
static void test_public_api(void)
{
    for (int k = 0; k < KINDS; k++) {
        soma_optimizer_config c = test_config(all_kinds[k], 0.1f);
        soma_optimizer *o = NULL;
        CHECK(soma_optimizer_create(&c, N, &o) == SOMA_OK);
        if (!o)
            continue;
        ref_state r;
        ref_init(&r);
        float w[N], s1[N], s2[N];
        memcpy(w, w0, sizeof w);
        for (int s = 0; s < STEPS; s++) {
            CHECK(soma_optimizer_step(o, w, grads[s]) == SOMA_OK);
            ref_step(&c, c.lr, &r, grads[s]);
            for (int i = 0; i < N; i++) /* the states are not visible: the weights say all */
                s1[i] = (float)r.s1[i], s2[i] = (float)r.s2[i];
            check_against_reference(w, s1, s2, &r, c.kind, "public", s + 1);
        }
        CHECK(fabs(w[2] - w0[2]) > 1e-3);
        soma_optimizer_free(o);
    }
    soma_optimizer_config bad = soma_optimizer_defaults(SOMA_OPT_ADAM);
    bad.beta1 = 1.5f;
    soma_optimizer *o = (soma_optimizer *)&bad;
    CHECK(soma_optimizer_create(&bad, 4, &o) == SOMA_ERR_ARGUMENT && o == NULL);
    CHECK(soma_optimizer_create(NULL, 4, &o) == SOMA_ERR_ARGUMENT);
    CHECK(soma_optimizer_create(&bad, 0, &o) == SOMA_ERR_ARGUMENT);
    CHECK(soma_optimizer_step(NULL, NULL, NULL) == SOMA_ERR_ARGUMENT);
    soma_optimizer_free(NULL);
}

/* PyTorch's momentum (lr outside the buffer) equals the lecture's
 * h = a*h + lr*g, w -= h at constant lr, and differs when lr changes. */
static void test_momentum_lecture_form(void)
{
    soma_optimizer_config c = test_config(SOMA_OPT_MOMENTUM, 0.0f);
    const float lrs[2][STEPS] = {{0.1f, 0.1f, 0.1f}, {0.1f, 0.05f, 0.01f}};
    for (int changing = 0; changing < 2; changing++) {
        float w[N], buf[N] = {0};
        double lw[N], h[N] = {0};
        memcpy(w, w0, sizeof w);
        for (int i = 0; i < N; i++)
            lw[i] = w0[i];
        for (int s = 0; s < STEPS; s++) {
            double lr = lrs[changing][s];
            optim_step_args a = args_of(&c, lrs[changing][s], s + 1);
            cpu_optimizer_step(&a, w, grads[s], buf, NULL, N);
            for (int i = 0; i < N; i++) {
                h[i] = (double)c.momentum * h[i] + lr * grads[s][i];
                lw[i] -= h[i];
            }
        }
        double max_diff = 0;
        for (int i = 0; i < N; i++)
            max_diff = fmax(max_diff, fabs(w[i] - lw[i]));
        if (!changing)
            CHECK_MSG(max_diff < TOL, "constant lr: lecture form differs by %g", max_diff);
        else
            CHECK_MSG(max_diff > 1e-3, "changing lr: forms should differ, by %g", max_diff);
    }
}

/* The lecture folds Adam's bias correction into the recursion, which
 * compounds it: from the second step on the update is not Algorithm 1. */
static void test_adam_lecture_form_differs(void)
{
    soma_optimizer_config c = test_config(SOMA_OPT_ADAM, 0.0f);
    float w[N], m[N] = {0}, v[N] = {0};
    double lw[N], lm[N] = {0}, lv[N] = {0};
    memcpy(w, w0, sizeof w);
    for (int i = 0; i < N; i++)
        lw[i] = w0[i];
    const double b1 = c.beta1, b2 = c.beta2;
    for (int s = 0; s < STEPS; s++) {
        optim_step_args a = args_of(&c, c.lr, s + 1);
        cpu_optimizer_step(&a, w, grads[s], m, v, N);
        double t = s + 1;
        for (int i = 0; i < N; i++) {
            double g = grads[s][i];
            lm[i] = (b1 * lm[i] + (1 - b1) * g) / (1 - pow(b1, t));
            lv[i] = (b2 * lv[i] + (1 - b2) * g * g) / (1 - pow(b2, t));
            lw[i] -= c.lr * lm[i] / (sqrt(lv[i]) + c.eps);
        }
        double max_diff = 0;
        for (int i = 0; i < N; i++)
            max_diff = fmax(max_diff, fabs(w[i] - lw[i]));
        if (s == 0) /* identical on the first step (both corrections are exact) */
            CHECK_MSG(max_diff < TOL, "step 1: lecture Adam differs by %g", max_diff);
        else
            CHECK_MSG(max_diff > 1e-3, "step %d: lecture Adam should differ, by %g", s + 1,
                      max_diff);
    }
}

/* Every optimizer, at its default lr, lowers f(w) = 0.5 w^2 in 50 steps. */
static void test_quadratic_descent(void)
{
    for (int k = 0; k < KINDS; k++) {
        soma_optimizer_config c = soma_optimizer_defaults(all_kinds[k]);
        float w[3] = {1.0f, -2.0f, 0.5f}, g[3], s1[3] = {0}, s2[3] = {0};
        const float start[3] = {1.0f, -2.0f, 0.5f};
        for (int s = 0; s < 50; s++) {
            for (int i = 0; i < 3; i++)
                g[i] = w[i]; /* f'(w) = w */
            optim_step_args a = args_of(&c, c.lr, s + 1);
            cpu_optimizer_step(&a, w, g, s1, s2, 3);
        }
        for (int i = 0; i < 3; i++)
            CHECK_MSG(isfinite(w[i]) && 0.5 * w[i] * w[i] < 0.5 * start[i] * start[i],
                      "%s: f(%g) -> f(%g) after 50 steps", soma_optimizer_name(c.kind),
                      (double)start[i], (double)w[i]);
    }
}

/* Splitting the update over threads changes no bit: one call over a large
 * buffer equals small (single-threaded) calls over its pieces. */
static void test_parallel_is_elementwise(void)
{
    enum { BIG = 100003, PIECE = 997 };
    soma_set_threads(3);
    float *x = malloc(6 * BIG * sizeof(float));
    if (!x) {
        CHECK(!"out of memory");
        return;
    }
    float *w = x, *g = x + BIG, *s1 = x + 2 * BIG, *s2 = x + 3 * BIG;
    float *pw = x + 4 * BIG, *ps = x + 5 * BIG; /* piecewise copies: w, then s1 (s2 below) */
    float *ps2 = malloc(BIG * sizeof(float));
    for (int k = 0; k < KINDS && ps2; k++) {
        soma_optimizer_config c = test_config(all_kinds[k], 0.01f);
        rng r;
        rng_init(&r, 7, RNG_TEST, (uint64_t)k, 0);
        for (int i = 0; i < BIG; i++) {
            w[i] = pw[i] = rng_normal(&r);
            s1[i] = ps[i] = 0;
            s2[i] = ps2[i] = 0;
        }
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < BIG; i++)
                g[i] = rng_normal(&r);
            optim_step_args a = args_of(&c, c.lr, t);
            cpu_optimizer_step(&a, w, g, s1, s2, BIG);
            for (int i = 0; i < BIG; i += PIECE) {
                size_t len = BIG - i < PIECE ? (size_t)(BIG - i) : PIECE;
                cpu_optimizer_step(&a, pw + i, g + i, ps + i, ps2 + i, len);
            }
        }
        CHECK_MSG(memcmp(w, pw, BIG * sizeof(float)) == 0, "%s: threaded params differ",
                  soma_optimizer_name(c.kind));
        CHECK_MSG(memcmp(s1, ps, BIG * sizeof(float)) == 0, "%s: threaded state differs",
                  soma_optimizer_name(c.kind));
        CHECK_MSG(memcmp(s2, ps2, BIG * sizeof(float)) == 0, "%s: threaded state differs",
                  soma_optimizer_name(c.kind));
    }
    free(ps2);
    free(x);
}

/* One step of each kind in float, in PyTorch's order of operations, as
 * src/ops/cpu/optim_cpu.c promises it (and the kernel, vectorised or not,
 * must give these bits). */
static void float_step(const optim_step_args *a, float *w, const float *gr, float *s1,
                       float *s2, size_t n)
{
    const double t = (double)a->t;
    const float step_size = (float)((double)a->lr / (1.0 - pow((double)a->beta1, t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow((double)a->beta2, t));
    const int adamw = a->kind == SOMA_OPT_ADAMW;
    for (size_t i = 0; i < n; i++) {
        float wi = adamw ? w[i] * (float)(1.0 - (double)a->lr * a->weight_decay) : w[i];
        float g = adamw ? gr[i] : gr[i] + a->weight_decay * wi;
        switch ((soma_optimizer_kind)a->kind) {
        case SOMA_OPT_SGD: wi -= a->lr * g; break;
        case SOMA_OPT_MOMENTUM:
        case SOMA_OPT_NESTEROV:
            s1[i] = a->t == 1 ? g : a->momentum * s1[i] + g;
            wi -= a->lr * (a->kind == SOMA_OPT_MOMENTUM ? s1[i] : g + a->momentum * s1[i]);
            break;
        case SOMA_OPT_ADAGRAD:
            s1[i] = s1[i] + g * g;
            wi -= a->lr * (g / (sqrtf(s1[i]) + a->eps));
            break;
        case SOMA_OPT_RMSPROP:
            s1[i] = a->alpha * s1[i] + (1.0f - a->alpha) * (g * g);
            wi -= a->lr * (g / (sqrtf(s1[i]) + a->eps));
            break;
        case SOMA_OPT_ADAM:
        case SOMA_OPT_ADAMW:
            s1[i] = a->beta1 * s1[i] + (1.0f - a->beta1) * g;
            s2[i] = a->beta2 * s2[i] + (1.0f - a->beta2) * (g * g);
            wi = wi - step_size * (s1[i] / (sqrtf(s2[i]) / bc2_sqrt + a->eps));
            break;
        }
        w[i] = wi;
    }
}

/* The kernel's vector loops (AVX-512 where the CPU has it, else the portable
 * ones: optimizer_test_portable) and their remainders give exactly the float
 * formula's bits: no contraction into FMAs, no reordering. */
static void test_bits_of_float_formula(void)
{
    enum { LEN = 1003 }; /* many vectors and a remainder of every path */
    static float w[LEN], s1[LEN], s2[LEN], fw[LEN], fs1[LEN], fs2[LEN], g[LEN];
    for (int k = 0; k < KINDS; k++) {
        soma_optimizer_config c = test_config(all_kinds[k], 0.01f);
        rng r;
        rng_init(&r, 11, RNG_TEST, (uint64_t)k, 0);
        for (int i = 0; i < LEN; i++) {
            w[i] = fw[i] = rng_normal(&r);
            s1[i] = fs1[i] = s2[i] = fs2[i] = 0.0f;
        }
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < LEN; i++)
                g[i] = rng_normal(&r);
            optim_step_args a = args_of(&c, c.lr, t);
            cpu_optimizer_step(&a, w, g, s1, s2, LEN);
            float_step(&a, fw, g, fs1, fs2, LEN);
        }
        int states = optimizer_state_count(c.kind);
        CHECK_MSG(memcmp(w, fw, sizeof w) == 0, "%s: params differ from the float formula",
                  soma_optimizer_name(c.kind));
        CHECK_MSG(states < 1 || memcmp(s1, fs1, sizeof s1) == 0,
                  "%s: state differs from the float formula", soma_optimizer_name(c.kind));
        CHECK_MSG(states < 2 || memcmp(s2, fs2, sizeof s2) == 0,
                  "%s: state differs from the float formula", soma_optimizer_name(c.kind));
    }
}

/* -------------------------------------------------- configuration checks */

static void expect_config_error(soma_optimizer_config c, const char *field, const char *value)
{
    optimizer *o = (optimizer *)&c; /* any non-NULL: create must reset it */
    soma_status st = optimizer_create(&soma_cpu_backend, &c, N, &o);
    const char *msg = soma_last_error();
    CHECK_MSG(st == SOMA_ERR_ARGUMENT, "%s=%s accepted", field, value);
    CHECK(o == NULL);
    CHECK_MSG(strstr(msg, field) && strstr(msg, value), "message '%s' should name %s and %s", msg,
              field, value);
    CHECK_MSG(!strchr(msg, '\n'), "message '%s' is not one line", msg);
}

static void test_config_validation(void)
{
    soma_optimizer_config c;
    c = soma_optimizer_defaults(SOMA_OPT_ADAM), c.lr = 0;
    expect_config_error(c, "lr", "0");
    c = soma_optimizer_defaults(SOMA_OPT_SGD), c.lr = -0.5f;
    expect_config_error(c, "lr", "-0.5");
    c = soma_optimizer_defaults(SOMA_OPT_SGD), c.lr = NAN;
    expect_config_error(c, "lr", "nan");
    c = soma_optimizer_defaults(SOMA_OPT_SGD), c.lr = INFINITY;
    expect_config_error(c, "lr", "inf");
    c = soma_optimizer_defaults(SOMA_OPT_MOMENTUM), c.momentum = 1.0f;
    expect_config_error(c, "momentum", "1");
    c = soma_optimizer_defaults(SOMA_OPT_MOMENTUM), c.momentum = -0.25f;
    expect_config_error(c, "momentum", "-0.25");
    c = soma_optimizer_defaults(SOMA_OPT_NESTEROV), c.momentum = 0.0f;
    expect_config_error(c, "momentum", "0");
    c = soma_optimizer_defaults(SOMA_OPT_RMSPROP), c.alpha = 1.5f;
    expect_config_error(c, "alpha", "1.5");
    c = soma_optimizer_defaults(SOMA_OPT_ADAM), c.beta1 = 1.0f;
    expect_config_error(c, "beta1", "1");
    c = soma_optimizer_defaults(SOMA_OPT_ADAMW), c.beta2 = -0.125f;
    expect_config_error(c, "beta2", "-0.125");
    c = soma_optimizer_defaults(SOMA_OPT_ADAGRAD), c.eps = 0.0f;
    expect_config_error(c, "eps", "0");
    c = soma_optimizer_defaults(SOMA_OPT_RMSPROP), c.eps = -1e-8f;
    expect_config_error(c, "eps", "-1e-08");
    c = soma_optimizer_defaults(SOMA_OPT_SGD), c.weight_decay = -1.0f;
    expect_config_error(c, "weight_decay", "-1");
    c = soma_optimizer_defaults(SOMA_OPT_SGD), c.kind = (soma_optimizer_kind)42;
    expect_config_error(c, "kind", "42");

    /* every default is valid, with state allocated only where the kind needs it */
    for (int k = 0; k < KINDS; k++) {
        c = soma_optimizer_defaults(all_kinds[k]);
        optimizer *o = NULL;
        CHECK_MSG(optimizer_create(&soma_cpu_backend, &c, N, &o) == SOMA_OK, "%s defaults: %s",
                  soma_optimizer_name(c.kind), soma_last_error());
        if (!o)
            continue;
        int states = optimizer_state_count(c.kind);
        CHECK((o->state1 != NULL) == (states >= 1));
        CHECK((o->state2 != NULL) == (states >= 2));
        CHECK(optimizer_state(o, 0) == (states >= 1 ? o->state1 : NULL));
        CHECK(optimizer_state(o, states) == NULL);
        CHECK(o->t == 0);
        optimizer_free(o);
    }
    /* no parameters is not an error */
    optimizer *empty = NULL;
    c = soma_optimizer_defaults(SOMA_OPT_ADAM);
    CHECK(optimizer_create(&soma_cpu_backend, &c, 0, &empty) == SOMA_OK);
    if (empty)
        optimizer_step(empty, c.lr, NULL, NULL);
    optimizer_free(empty);
    optimizer_free(NULL);
}

static void test_names_and_defaults(void)
{
    const char *names[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"};
    for (int k = 0; k < KINDS; k++) {
        soma_optimizer_kind kind = (soma_optimizer_kind)-1;
        CHECK(soma_optimizer_parse(names[k], &kind) == SOMA_OK && kind == all_kinds[k]);
        CHECK(strcmp(soma_optimizer_name(all_kinds[k]), names[k]) == 0);
        CHECK(soma_optimizer_defaults(all_kinds[k]).kind == all_kinds[k]);
    }
    soma_optimizer_kind kind;
    CHECK(soma_optimizer_parse("adm", &kind) == SOMA_ERR_ARGUMENT);
    const char *msg = soma_last_error();
    CHECK_MSG(strstr(msg, "'adm'") && strstr(msg, "sgd") && strstr(msg, "adamw"),
              "message '%s' should quote the name and list the valid ones", msg);
    CHECK(soma_optimizer_parse(NULL, &kind) == SOMA_ERR_ARGUMENT);
    CHECK(strcmp(soma_optimizer_name((soma_optimizer_kind)99), "unknown") == 0);

    /* the documented defaults (docs/optimizers.md) */
    soma_optimizer_config c = soma_optimizer_defaults(SOMA_OPT_SGD);
    CHECK(c.lr == 0.05f && c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_MOMENTUM);
    CHECK(c.lr == 0.01f && c.momentum == 0.9f && c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_NESTEROV);
    CHECK(c.lr == 0.01f && c.momentum == 0.9f && c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_ADAGRAD);
    CHECK(c.lr == 0.01f && c.eps == 1e-10f && c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_RMSPROP);
    CHECK(c.lr == 1e-3f && c.alpha == 0.99f && c.eps == 1e-8f && c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_ADAM);
    CHECK(c.lr == 1e-3f && c.beta1 == 0.9f && c.beta2 == 0.999f && c.eps == 1e-8f &&
          c.weight_decay == 0);
    c = soma_optimizer_defaults(SOMA_OPT_ADAMW);
    CHECK(c.lr == 1e-3f && c.beta1 == 0.9f && c.beta2 == 0.999f && c.eps == 1e-8f &&
          c.weight_decay == 0.01f);

    /* PyTorch's state names */
    CHECK(optimizer_state_count(SOMA_OPT_SGD) == 0);
    CHECK(optimizer_state_name(SOMA_OPT_SGD, 0) == NULL);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_MOMENTUM, 0), "momentum_buffer") == 0);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_NESTEROV, 0), "momentum_buffer") == 0);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_ADAGRAD, 0), "sum") == 0);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_RMSPROP, 0), "square_avg") == 0);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_ADAM, 0), "exp_avg") == 0);
    CHECK(strcmp(optimizer_state_name(SOMA_OPT_ADAMW, 1), "exp_avg_sq") == 0);
    CHECK(optimizer_state_name(SOMA_OPT_ADAM, 2) == NULL);
    CHECK(optimizer_state_name(SOMA_OPT_ADAM, -1) == NULL);
}

int main(void)
{
    test_against_formulas();
    test_public_api();
    test_momentum_lecture_form();
    test_adam_lecture_form_differs();
    test_quadratic_descent();
    test_parallel_is_elementwise();
    test_bits_of_float_formula();
    test_config_validation();
    test_names_and_defaults();
    return check_finish("optimizer_test");
}

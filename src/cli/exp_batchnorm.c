/*
 * soma experiment batchnorm: Santurkar, Tsipras, Ilyas & Madry (2018), "How
 * does batch normalization help optimization?", on vgg-small with and
 * without its BatchNorm layers, on Fashion-MNIST, at two learning rates
 * (plain SGD). Every `every` steps, from the weights w and the batch's
 * gradient g, the loss and gradient are measured at w - eta g for several
 * step sizes eta on the same batch:
 *   loss landscape          the range (min to max) of L(w - eta g)
 *   gradient predictiveness the range of || grad L(w) - grad L(w - eta g) ||
 *   effective beta-smoothness max over eta of that change / || eta g ||
 * and "noisy BN": after each BatchNorm a random scale and shift per channel,
 * drawn anew every step, which moves every later layer's input
 * distribution around (the paper's covariate shift) and still trains.
 * The training loop is the library's: soma_model_loss_grad for a step's
 * loss and gradient, soma_optimizer_step for the update.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/experiment.h"
#include "core/error.h"

#define NETAS 4
#define MAX_MEASURES 256
#define NCONV 6

/* eta = lr x these */
static const double eta_factors[NETAS] = {0.5, 1, 2, 4};
/* vgg-small's convolutions: filters and input channels, each followed by BatchNorm */
static const int conv_filters[NCONV] = {32, 32, 64, 64, 128, 128};
static const int conv_inputs[NCONV] = {1, 32, 32, 64, 64, 128};

typedef struct run_log {
    char label[64];
    int bn, noisy;
    double lr;
    int steps, diverged_at;          /* diverged_at: 0, or the step whose loss was not finite */
    double *loss;                    /* per step */
    int nm;                          /* measurements */
    double m_step[MAX_MEASURES];
    double loss_lo[MAX_MEASURES], loss_hi[MAX_MEASURES];
    double grad_lo[MAX_MEASURES], grad_hi[MAX_MEASURES];
    double beta[MAX_MEASURES];
} run_log;

typedef struct setup {
    const soma_dataset *train;
    int batch, steps, every;
    uint64_t seed;
    float *x;   /* all the batches of the subset, normalised */
    int32_t *y;
    int nbatches;
} setup;

static char *vgg_text(int bn)
{
    soma_model *m = NULL;
    if (soma_model_open("vgg-small", &m) != SOMA_OK)
        return NULL;
    strbuf sb;
    strbuf_init(&sb);
    const char *t = soma_model_text(m);
    while (*t) { /* the same model, its batchnorm lines left out for the plain one */
        const char *end = strchr(t, '\n');
        size_t len = end ? (size_t)(end - t + 1) : strlen(t);
        if (bn || strncmp(t, "batchnorm", 9) != 0)
            strbuf_append_n(&sb, t, len);
        t += len;
    }
    soma_model_free(m);
    return strbuf_take(&sb);
}

static double norm_diff(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}

/* Noisy BN: gamma' = s gamma, beta' = s beta + m per channel (the BN output
 * scaled and shifted), and the gradients taken back through the same map. */
typedef struct bn_noise {
    size_t gamma_at[NCONV];
    float scale[128], shift[128];
} bn_noise;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double uniform(uint64_t key) { return (mix(key) >> 11) * (1.0 / 9007199254740992.0); }

static void noise_apply(const bn_noise *nz, uint64_t seed, int step, float *w, int forward,
                        float *g)
{
    for (int k = 0; k < NCONV; k++) {
        float *gamma = w + nz->gamma_at[k], *beta = gamma + conv_filters[k];
        for (int c = 0; c < conv_filters[k]; c++) {
            uint64_t key = seed * 1000003u + (uint64_t)step * 4096u + (uint64_t)k * 256u + c;
            double s = exp(log(4.0) * (uniform(key * 2) - 0.5)); /* 0.5 .. 2 */
            double m = 2 * uniform(key * 2 + 1) - 1;             /* -1 .. 1 */
            if (forward == 1) {
                gamma[c] = (float)(s * gamma[c]);
                beta[c] = (float)(s * beta[c] + m);
            } else if (forward == 0) {
                gamma[c] = (float)(gamma[c] / s);
                beta[c] = (float)((beta[c] - m) / s);
            } else { /* the gradients: d/dgamma = s d/dgamma', d/dbeta = s d/dbeta' */
                float *gg = g + nz->gamma_at[k], *gb = gg + conv_filters[k];
                gg[c] = (float)(s * gg[c]);
                gb[c] = (float)(s * gb[c]);
            }
        }
    }
}

static soma_status noise_layout(soma_model *m, bn_noise *nz)
{
    size_t at = 0;
    for (int k = 0; k < NCONV; k++) {
        at += (size_t)conv_filters[k] * conv_inputs[k] * 9 + conv_filters[k];
        nz->gamma_at[k] = at;
        at += 2 * (size_t)conv_filters[k];
    }
    at += 2048 * 10 + 10;
    if (at != soma_model_param_count(m))
        return soma_error(SOMA_ERR_SHAPE, "vgg-small has %zu parameters, the noisy BN layout "
                                          "expects %zu", soma_model_param_count(m), at);
    return SOMA_OK;
}

static soma_status train_run(const setup *s, run_log *r)
{
    char *text = vgg_text(r->bn);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_model *m = NULL;
    soma_status st = soma_model_parse(text, r->bn ? "vgg-small" : "vgg-small-no-bn", &m);
    free(text);
    if (st == SOMA_OK)
        st = soma_model_init(m, SOMA_INIT_HE, s->seed);
    if (st == SOMA_OK)
        soma_model_set_normalization(m, 0.2860f, 0.3530f);
    size_t np = st == SOMA_OK ? soma_model_param_count(m) : 0;
    float *w = malloc(sizeof(float) * (np + 1) * 4);
    float *g = w + np + 1, *w2 = g + np + 1, *g2 = w2 + np + 1;
    r->loss = calloc((size_t)s->steps, sizeof(double));
    if (st == SOMA_OK && (!w || !r->loss))
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    bn_noise nz;
    if (st == SOMA_OK && r->noisy)
        st = noise_layout(m, &nz);
    if (st == SOMA_OK)
        st = soma_model_get_params(m, w);
    soma_optimizer_config oc = soma_optimizer_defaults(SOMA_OPT_SGD);
    oc.lr = (float)r->lr;
    soma_optimizer *opt = NULL;
    if (st == SOMA_OK)
        st = soma_optimizer_create(&oc, np, &opt);
    size_t in = 784;
    for (int t = 0; st == SOMA_OK && t < s->steps; t++) {
        int b = t % s->nbatches;
        const float *x = s->x + in * (size_t)s->batch * b;
        const int32_t *y = s->y + (size_t)s->batch * b;
        double loss;
        if (r->noisy)
            noise_apply(&nz, s->seed, t, w, 1, NULL);
        st = soma_model_set_params(m, w);
        if (st == SOMA_OK)
            st = soma_model_loss_grad(m, x, y, s->batch, s->seed, t, &loss, g);
        if (r->noisy) {
            noise_apply(&nz, s->seed, t, w, 0, NULL);
            noise_apply(&nz, s->seed, t, w, -1, g);
        }
        if (st != SOMA_OK)
            break;
        r->loss[t] = loss;
        r->steps = t + 1;
        if (!isfinite(loss)) {
            r->diverged_at = t + 1;
            break;
        }
        if (!r->noisy && t % s->every == 0 && r->nm < MAX_MEASURES) {
            /* along the gradient, on the same batch (and dropout mask) */
            double gn = 0, lo = INFINITY, hi = -INFINITY;
            double glo = INFINITY, ghi = -INFINITY, beta = 0;
            for (size_t i = 0; i < np; i++)
                gn += (double)g[i] * g[i];
            gn = sqrt(gn);
            for (int k = 0; k < NETAS && st == SOMA_OK; k++) {
                double eta = r->lr * eta_factors[k], l2;
                for (size_t i = 0; i < np; i++)
                    w2[i] = (float)(w[i] - eta * g[i]);
                st = soma_model_set_params(m, w2);
                if (st == SOMA_OK)
                    st = soma_model_loss_grad(m, x, y, s->batch, s->seed, t, &l2, g2);
                double d = norm_diff(g, g2, np);
                lo = fmin(lo, l2), hi = fmax(hi, l2);
                glo = fmin(glo, d), ghi = fmax(ghi, d);
                if (gn > 0)
                    beta = fmax(beta, d / (eta * gn));
            }
            int i = r->nm++;
            r->m_step[i] = t + 1;
            r->loss_lo[i] = lo, r->loss_hi[i] = hi;
            r->grad_lo[i] = glo, r->grad_hi[i] = ghi;
            r->beta[i] = beta;
        }
        if (st == SOMA_OK)
            st = soma_optimizer_step(opt, w, g);
    }
    soma_optimizer_free(opt);
    soma_model_free(m);
    free(w);
    return st;
}

/* the mean over a window of steps, for readable curves */
static void smooth(const double *v, int n, int window, double *out)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        int from = i >= window - 1 ? i - window + 1 : 0;
        for (int j = from; j <= i; j++)
            s += v[j];
        out[i] = s / (i - from + 1);
    }
}

static double tail_mean(const run_log *r)
{
    int n = r->steps, from = n - (n + 4) / 5;
    double s = 0;
    for (int i = from; i < n; i++)
        s += r->loss[i];
    return n ? s / (n - from) : NAN;
}

static soma_status write_outputs(const experiment_args *a, run_log *runs, int nruns,
                                 const double *lrs, const char *data, const setup *s)
{
    strbuf csv, mcsv, text;
    strbuf_init(&csv), strbuf_init(&mcsv), strbuf_init(&text);
    strbuf_append(&csv, "run,bn,noisy,lr,step,loss\n");
    strbuf_append(&mcsv, "run,lr,step,loss_min,loss_max,grad_change_min,grad_change_max,"
                         "beta_smoothness\n");
    chart ct;
    char title[160];
    snprintf(title, sizeof title, "vgg-small on %s, SGD, batch %d: training loss", data,
             s->batch);
    chart_init(&ct, title, "step", "batch loss (mean of 10 steps, log)");
    ct.log_y = 1;
    double *sm = malloc(sizeof(double) * (size_t)(s->steps + 1));
    double *steps = malloc(sizeof(double) * (size_t)(s->steps + 1));
    if (!sm || !steps)
        ct.failed = 1;
    for (int i = 0; steps && i <= s->steps; i++)
        steps[i] = i + 1;
    strbuf_appendf(&text, "vgg-small with and without BatchNorm on %s, plain SGD, batch %d, "
                          "%d steps; every %d steps the loss and gradient at w - eta g, eta = "
                          "lr x 0.5, 1, 2, 4:\n",
                   data, s->batch, s->steps, s->every);
    for (int i = 0; i < nruns; i++) {
        run_log *r = &runs[i];
        for (int t = 0; t < r->steps; t++)
            strbuf_appendf(&csv, "%s,%d,%d,%g,%d,%.6g\n", r->label, r->bn, r->noisy, r->lr, t + 1,
                           r->loss[t]);
        for (int k = 0; k < r->nm; k++)
            strbuf_appendf(&mcsv, "%s,%g,%.0f,%.6g,%.6g,%.6g,%.6g,%.6g\n", r->label, r->lr,
                           r->m_step[k], r->loss_lo[k], r->loss_hi[k], r->grad_lo[k],
                           r->grad_hi[k], r->beta[k]);
        if (sm) {
            smooth(r->loss, r->steps, 10, sm);
            if (r->noisy)
                chart_dashed(&ct, r->label, chart_color(i), r->steps, steps, sm);
            else
                chart_line(&ct, r->label, chart_color(i), r->steps, steps, sm);
        }
        double lr_range = 0, gr = 0, beta = 0;
        for (int k = 0; k < r->nm; k++) {
            lr_range += r->loss_hi[k] - r->loss_lo[k];
            gr += r->grad_hi[k];
            beta = fmax(beta, r->beta[k]);
        }
        strbuf_appendf(&text, "  %-22s loss %.3f -> %.3f (mean of the last fifth)", r->label,
                       r->steps ? r->loss[0] : NAN, tail_mean(r));
        if (r->nm)
            strbuf_appendf(&text, "; loss range %.3g, gradient change %.3g (means), "
                                  "beta-smoothness %.3g (max)",
                           lr_range / r->nm, gr / r->nm, beta);
        if (r->diverged_at)
            strbuf_appendf(&text, "; diverged at step %d", r->diverged_at);
        strbuf_append(&text, "\n");
    }
    soma_status st = chart_write(&ct, a->out, "bn_training");
    chart_free(&ct);
    /* Figure 4 of the paper: one chart per measure and learning rate */
    static const char *const what[3] = {"loss landscape: L(w - eta g) over eta",
                                        "gradient predictiveness: ||g - g(w - eta g)||",
                                        "effective beta-smoothness"};
    static const char *const file[3] = {"bn_landscape", "bn_predictiveness", "bn_smoothness"};
    for (int q = 0; q < 3 && st == SOMA_OK; q++)
        for (int l = 0; l < 2 && st == SOMA_OK; l++) {
            chart c;
            snprintf(title, sizeof title, "%s, lr %g", what[q], lrs[l]);
            chart_init(&c, title, "step", q == 0 ? "loss (log)" : q == 1 ? "l2 change (log)"
                                                                         : "max ratio (log)");
            c.log_y = 1;
            for (int i = 0; i < nruns; i++) {
                run_log *r = &runs[i];
                if (r->noisy || r->lr != lrs[l] || !r->nm)
                    continue;
                if (q == 0)
                    chart_band(&c, r->label, chart_color(i), r->nm, r->m_step, r->loss_lo,
                               r->loss_hi);
                else if (q == 1)
                    chart_band(&c, r->label, chart_color(i), r->nm, r->m_step, r->grad_lo,
                               r->grad_hi);
                else
                    chart_line(&c, r->label, chart_color(i), r->nm, r->m_step, r->beta);
            }
            char name[64];
            snprintf(name, sizeof name, "%s_lr%d", file[q], l + 1);
            st = chart_write(&c, a->out, name);
            chart_free(&c);
        }
    /* what this run measured, BN against none at each learning rate (runs 2l and 2l + 1) */
    for (int l = 0; l < 2; l++) {
        const run_log *bn = &runs[2 * l], *plain = &runs[2 * l + 1];
        double lb = 0, lp = 0, gb = 0, gp = 0, bb = 0, bp = 0;
        for (int k = 0; k < bn->nm; k++)
            lb += bn->loss_hi[k] - bn->loss_lo[k], gb += bn->grad_hi[k], bb = fmax(bb, bn->beta[k]);
        for (int k = 0; k < plain->nm; k++)
            lp += plain->loss_hi[k] - plain->loss_lo[k], gp += plain->grad_hi[k],
                bp = fmax(bp, plain->beta[k]);
        if (bn->nm && plain->nm)
            strbuf_appendf(&text, "  lr %g, without BN / with BN: loss range x%.3g, gradient "
                                  "change x%.3g, beta-smoothness x%.3g%s\n",
                           lrs[l], (lp / plain->nm) / (lb / bn->nm),
                           (gp / plain->nm) / (gb / bn->nm), bp / bb, plain->diverged_at ? " (without BN diverged)" : "");
    }
    strbuf_appendf(&text, "  noisy BN at lr %g: loss %.3f at the end against BN's %.3f\n",
                   runs[nruns - 1].lr, tail_mean(&runs[nruns - 1]), tail_mean(&runs[2]));
    strbuf_append(&text,
                  "What the charts show (factors above 1: BN smoother): Santurkar et al. found "
                  "that with\nBatchNorm the loss along the gradient varies over a narrower "
                  "range (bn_landscape, the\nshaded band), the gradient changes less along "
                  "the step (bn_predictiveness) and the\neffective beta-smoothness is lower "
                  "(bn_smoothness), so larger steps are safe; and that\nnoisy BN, whose "
                  "random per-step scale and shift after every BatchNorm keep moving each\n"
                  "layer's input distribution, trains about as well as BN (bn_training, "
                  "dashed): reducing\ninternal covariate shift is not what makes BN work. "
                  "Short runs (--quick) are dominated by\nthe first, noisiest steps.\n");
    if (st == SOMA_OK)
        st = experiment_write(a->out, "bn_training.csv", &csv);
    if (st == SOMA_OK)
        st = experiment_write(a->out, "bn_measures.csv", &mcsv);
    if (st == SOMA_OK)
        fputs(text.data, stdout);
    strbuf_free(&csv), strbuf_free(&mcsv), strbuf_free(&text);
    free(sm), free(steps);
    return st;
}

soma_status experiment_batchnorm(const experiment_args *a)
{
    soma_dataset *all = NULL, *train = NULL;
    const char *data;
    SOMA_TRY(experiment_fashion("train", &all, &data));
    setup s = {0};
    s.batch = a->quick ? 8 : 32;
    s.steps = a->quick ? 8 : 200;
    s.every = a->quick ? 4 : 10;
    s.seed = a->seed;
    s.nbatches = a->quick ? 8 : 100; /* then the batches come round again */
    int images = s.batch * s.nbatches;
    soma_status st = experiment_subset(all, images, a->seed, &train);
    soma_dataset_free(all);
    SOMA_TRY(st);
    s.train = train;
    s.x = malloc(sizeof(float) * 784 * (size_t)images);
    s.y = malloc(sizeof(int32_t) * (size_t)images);
    if (!s.x || !s.y)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = soma_dataset_get(train, 0, images, 0.2860f, 0.3530f, s.x);
    for (int i = 0; st == SOMA_OK && i < images; i++) {
        int label;
        st = soma_dataset_label(train, i, &label);
        s.y[i] = label;
    }
    static const double lrs[2] = {0.02, 0.1};
    run_log runs[6];
    memset(runs, 0, sizeof runs);
    int nruns = 0;
    for (int l = 0; l < 2; l++)
        for (int bn = 1; bn >= 0; bn--) {
            run_log *r = &runs[nruns++];
            r->bn = bn, r->lr = lrs[l];
            snprintf(r->label, sizeof r->label, "%s lr %g", bn ? "BN" : "no BN", lrs[l]);
        }
    run_log *noisy = &runs[nruns++];
    noisy->bn = 1, noisy->noisy = 1, noisy->lr = lrs[1];
    snprintf(noisy->label, sizeof noisy->label, "noisy BN lr %g", lrs[1]);
    for (int i = 0; i < nruns && st == SOMA_OK; i++)
        st = train_run(&s, &runs[i]);
    if (st == SOMA_OK)
        st = write_outputs(a, runs, nruns, lrs, data, &s);
    for (int i = 0; i < nruns; i++)
        free(runs[i].loss);
    free(s.x), free(s.y);
    soma_dataset_free(train);
    return st;
}

/*
 * soma experiment init: a deep plain network (10 hidden layers of 256 units,
 * ReLU or tanh) on a batch of Fashion-MNIST, its activations and gradients
 * layer by layer (soma_model_probe) under zero, too small, He, Xavier and
 * LeCun initialisation, before any training.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/experiment.h"
#include "core/error.h"

#define DEPTH 10
#define WIDTH 256
#define NINITS 5
#define MAX_PROBES 32

static const char *const init_names[NINITS] = {"zero", "too small (He/10)", "He", "Xavier",
                                               "LeCun"};
static const char *const init_keys[NINITS] = {"zero", "small", "he", "xavier", "lecun"};

/* The model text: input, flatten, DEPTH x (linear, act), linear 10 */
static char *model_text(const char *act)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "input channels=1 height=28 width=28\nflatten\n");
    for (int i = 0; i < DEPTH; i++)
        strbuf_appendf(&sb, "linear units=%d\n%s\n", WIDTH, act);
    strbuf_append(&sb, "linear units=10\n");
    return strbuf_take(&sb);
}

static soma_status set_init(soma_model *m, int which, uint64_t seed)
{
    static const soma_init kinds[NINITS] = {SOMA_INIT_HE, SOMA_INIT_HE, SOMA_INIT_HE,
                                            SOMA_INIT_XAVIER, SOMA_INIT_LECUN};
    SOMA_TRY(soma_model_init(m, kinds[which], seed));
    if (which > 1)
        return SOMA_OK;
    size_t n = soma_model_param_count(m);
    float *w = malloc(sizeof(float) * n);
    if (!w)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = soma_model_get_params(m, w);
    for (size_t i = 0; i < n; i++) /* biases are 0 already */
        w[i] = which == 0 ? 0.0f : w[i] * 0.1f;
    if (st == SOMA_OK)
        st = soma_model_set_params(m, w);
    free(w);
    return st;
}

/* The entries that describe a hidden layer's activation: after its tanh or ReLU. */
static int hidden(const soma_layer_probe *p, const char *act)
{
    return strcmp(act, "relu") == 0 ? (strcmp(p->kind, "linear") == 0 && p->relu)
                                    : strcmp(p->kind, act) == 0;
}

typedef struct series {
    double act_std[DEPTH], grad_std[DEPTH], act_mean[DEPTH];
    soma_layer_probe last; /* the deepest hidden layer, with its histogram */
    int n;
} series;

static soma_status probe_net(const char *act, int which, const float *x, const int32_t *y,
                             int batch, uint64_t seed, series *s, strbuf *csv)
{
    char *text = model_text(act);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_model *m = NULL;
    soma_status st = soma_model_parse(text, "deep-plain", &m);
    free(text);
    if (st == SOMA_OK)
        soma_model_set_normalization(m, 0.2860f, 0.3530f); /* the data is normalised already */
    if (st == SOMA_OK)
        st = set_init(m, which, seed);
    soma_layer_probe p[MAX_PROBES];
    int count = 0;
    double loss;
    if (st == SOMA_OK)
        st = soma_model_probe(m, x, y, batch, p, MAX_PROBES, &count, &loss);
    s->n = 0;
    for (int i = 0; st == SOMA_OK && i < count; i++) {
        if (!hidden(&p[i], act) || s->n == DEPTH)
            continue;
        s->act_std[s->n] = p[i].act_std, s->act_mean[s->n] = p[i].act_mean;
        s->grad_std[s->n] = p[i].grad_std;
        s->last = p[i];
        s->n++;
        /* the weight gradient is the linear layer's: this entry for ReLU (fused), the one
         * before for tanh */
        double wg = strcmp(act, "relu") == 0 ? p[i].weight_grad_std : p[i - 1].weight_grad_std;
        strbuf_appendf(csv, "%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", act, init_keys[which], s->n,
                       p[i].act_mean, p[i].act_std, p[i].grad_mean, p[i].grad_std, wg);
    }
    soma_model_free(m);
    return st;
}

static soma_status charts_for(const experiment_args *a, const char *act, series *s)
{
    double layer[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        layer[i] = i + 1;
    chart ca, cg, ch;
    char title[128], name[64];
    snprintf(title, sizeof title, "%s network: activation std per layer (log)", act);
    chart_init(&ca, title, "hidden layer", "std of the activations");
    snprintf(title, sizeof title, "%s network: gradient std per layer (log)", act);
    chart_init(&cg, title, "hidden layer", "std of d loss / d activation");
    snprintf(title, sizeof title, "%s network: activations of hidden layer %d", act, DEPTH);
    chart_init(&ch, title, "activation", "share of the values (log)");
    ca.log_y = cg.log_y = ch.log_y = 1;
    for (int k = 0; k < NINITS; k++) {
        chart_line(&ca, init_names[k], chart_color(k), s[k].n, layer, s[k].act_std);
        chart_line(&cg, init_names[k], chart_color(k), s[k].n, layer, s[k].grad_std);
        const soma_layer_probe *p = &s[k].last;
        double hx[SOMA_PROBE_BINS], hy[SOMA_PROBE_BINS], total = 0;
        for (int b = 0; b < SOMA_PROBE_BINS; b++)
            total += p->hist[b];
        for (int b = 0; b < SOMA_PROBE_BINS; b++) {
            hx[b] = p->hist_lo + (p->hist_hi - p->hist_lo) * (b + 0.5) / SOMA_PROBE_BINS;
            hy[b] = total > 0 && p->hist[b] ? p->hist[b] / total : NAN;
        }
        if (p->hist_hi > p->hist_lo)
            chart_line(&ch, init_names[k], chart_color(k), SOMA_PROBE_BINS, hx, hy);
        else /* every value the same (zero init): one point */
            chart_points(&ch, init_names[k], chart_color(k), 1, hx, (double[]){1.0});
    }
    snprintf(name, sizeof name, "init_activations_%s", act);
    soma_status st = chart_write(&ca, a->out, name);
    snprintf(name, sizeof name, "init_gradients_%s", act);
    if (st == SOMA_OK)
        st = chart_write(&cg, a->out, name);
    snprintf(name, sizeof name, "init_histogram_%s", act);
    if (st == SOMA_OK)
        st = chart_write(&ch, a->out, name);
    chart_free(&ca), chart_free(&cg), chart_free(&ch);
    return st;
}

soma_status experiment_init(const experiment_args *a)
{
    soma_dataset *ds = NULL;
    const char *data;
    SOMA_TRY(experiment_fashion("train", &ds, &data));
    int batch = a->quick ? 64 : 512;
    float *x = malloc(sizeof(float) * 784 * (size_t)batch);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)batch);
    soma_status st = x && y ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = soma_dataset_get(ds, 0, batch, 0.2860f, 0.3530f, x);
    for (int i = 0; st == SOMA_OK && i < batch; i++) {
        int label;
        st = soma_dataset_label(ds, i, &label);
        y[i] = label;
    }
    strbuf csv, text;
    strbuf_init(&csv);
    strbuf_init(&text);
    strbuf_append(&csv, "network,init,layer,act_mean,act_std,grad_mean,grad_std,weight_grad_std\n");
    strbuf_appendf(&text, "%d hidden layers of %d units on %d %s images, before training:\n",
                   DEPTH, WIDTH, batch, data);
    static const char *const acts[2] = {"relu", "tanh"};
    for (int n = 0; n < 2 && st == SOMA_OK; n++) {
        series s[NINITS];
        for (int k = 0; k < NINITS && st == SOMA_OK; k++)
            st = probe_net(acts[n], k, x, y, batch, a->seed, &s[k], &csv);
        if (st == SOMA_OK)
            st = charts_for(a, acts[n], s);
        strbuf_appendf(&text, "  %s network   activation std layer 1 -> %d   gradient std "
                              "layer 1 -> %d\n",
                       acts[n], DEPTH, DEPTH);
        for (int k = 0; k < NINITS && st == SOMA_OK; k++)
            strbuf_appendf(&text, "    %-21s %10.3g -> %-10.3g   %10.3g -> %-10.3g\n",
                           init_names[k], s[k].act_std[0], s[k].act_std[s[k].n - 1],
                           s[k].grad_std[0], s[k].grad_std[s[k].n - 1]);
    }
    if (st == SOMA_OK)
        st = experiment_write(a->out, "init_stats.csv", &csv);
    strbuf_append(&text,
                  "What the charts show: zero weights make every activation and every gradient "
                  "below the\noutput 0 (nothing to learn from, and all units alike); weights too "
                  "small shrink the\nactivations by a constant factor per layer until they "
                  "vanish, and the gradients of the\nfirst layers with them; He keeps the ReLU "
                  "network's activations and gradients at one scale\nthrough all 10 layers; "
                  "Xavier and LeCun (variance about 1/fan_in) lose about half the\nvariance "
                  "per ReLU layer, and in the tanh network keep the activations unsaturated,\n"
                  "shrinking slowly with depth.\n");
    if (st == SOMA_OK)
        fputs(text.data, stdout);
    strbuf_free(&csv);
    strbuf_free(&text);
    free(x), free(y);
    soma_dataset_free(ds);
    return st;
}

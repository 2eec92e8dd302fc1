/*
 * soma experiment dropout: a wide MLP trained on a small subset of
 * Fashion-MNIST until it overfits, with and without dropout (p = 0.5 after
 * each hidden layer); training and validation curves of both.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/chart.h"
#include "cli/experiment.h"
#include "core/error.h"

#define MAX_EPOCHS 100

typedef struct curves {
    double epoch[MAX_EPOCHS], train_loss[MAX_EPOCHS], val_loss[MAX_EPOCHS];
    double train_acc[MAX_EPOCHS], val_acc[MAX_EPOCHS];
    int n;
} curves;

static void on_epoch(const soma_progress *p, void *user)
{
    curves *c = user;
    if (!p->epoch_done || c->n == MAX_EPOCHS)
        return;
    c->epoch[c->n] = p->epoch, c->train_loss[c->n] = p->loss, c->val_loss[c->n] = p->val_loss;
    c->train_acc[c->n] = p->accuracy, c->val_acc[c->n] = p->val_accuracy;
    c->n++;
}

static char *mlp_text(int width, int dropout)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "input channels=1 height=28 width=28\nflatten\n");
    for (int i = 0; i < 2; i++) {
        strbuf_appendf(&sb, "linear units=%d\nrelu\n", width);
        if (dropout)
            strbuf_append(&sb, "dropout p=0.5\n");
    }
    strbuf_append(&sb, "linear units=10\n");
    return strbuf_take(&sb);
}

/* Two disjoint seeded subsets: n_train to train on, n_val to validate on. */
static soma_status subsets(const soma_dataset *all, int n_train, int n_val, uint64_t seed,
                           soma_dataset **train, soma_dataset **val)
{
    soma_dataset *rest = NULL, *rest2 = NULL;
    int total = soma_dataset_count(all);
    soma_status st = soma_dataset_split(all, (double)n_train / total, seed, &rest, train);
    if (st == SOMA_OK)
        st = soma_dataset_split(rest, (double)n_val / soma_dataset_count(rest), seed + 1,
                                &rest2, val);
    soma_dataset_free(rest);
    soma_dataset_free(rest2);
    return st;
}

static soma_status train_one(int dropout, int width, const soma_dataset *train,
                             const soma_dataset *val, int epochs, uint64_t seed, curves *c)
{
    char *text = mlp_text(width, dropout);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_model *m = NULL;
    soma_status st = soma_model_parse(text, dropout ? "mlp-dropout" : "mlp", &m);
    free(text);
    if (st == SOMA_OK)
        st = soma_model_init(m, SOMA_INIT_HE, seed);
    soma_train_config cfg = soma_train_defaults();
    cfg.opt = soma_optimizer_defaults(SOMA_OPT_ADAM);
    cfg.schedule = SOMA_SCHEDULE_CONST;
    cfg.epochs = epochs, cfg.batch = 32, cfg.seed = seed;
    memset(c, 0, sizeof *c);
    if (st == SOMA_OK)
        st = soma_train(m, train, val, &cfg, on_epoch, c, NULL);
    soma_model_free(m);
    return st;
}

soma_status experiment_dropout(const experiment_args *a)
{
    soma_dataset *all = NULL, *train = NULL, *val = NULL;
    const char *data;
    SOMA_TRY(experiment_fashion("train", &all, &data));
    int n_train = a->quick ? 300 : 1000, n_val = a->quick ? 1000 : 2000;
    int epochs = a->quick ? 12 : 40, width = a->quick ? 512 : 1024;
    soma_status st = subsets(all, n_train, n_val, a->seed, &train, &val);
    soma_dataset_free(all);
    curves c[2];
    for (int d = 0; d < 2 && st == SOMA_OK; d++)
        st = train_one(d, width, train, val, epochs, a->seed, &c[d]);
    soma_dataset_free(train);
    soma_dataset_free(val);
    SOMA_TRY(st);

    static const char *const names[2] = {"no dropout", "dropout 0.5"};
    strbuf csv, text;
    strbuf_init(&csv);
    strbuf_init(&text);
    strbuf_append(&csv, "model,epoch,train_loss,train_accuracy,val_loss,val_accuracy\n");
    chart cl, ca;
    char title[160];
    snprintf(title, sizeof title, "MLP 784-%d-%d-10 on %d %s images: loss", width, width,
             n_train, data);
    chart_init(&cl, title, "epoch", "cross-entropy (log)");
    cl.log_y = 1;
    snprintf(title, sizeof title, "MLP 784-%d-%d-10 on %d %s images: accuracy", width, width,
             n_train, data);
    chart_init(&ca, title, "epoch", "accuracy");
    strbuf_appendf(&text, "A 784-%d-%d-10 MLP on %d %s images for %d epochs (Adam, lr 0.001), "
                          "validated on %d others:\n",
                   width, width, n_train, data, epochs, n_val);
    for (int d = 0; d < 2; d++) {
        for (int e = 0; e < c[d].n; e++)
            strbuf_appendf(&csv, "%s,%.0f,%.6g,%.6g,%.6g,%.6g\n", d ? "dropout" : "plain",
                           c[d].epoch[e], c[d].train_loss[e], c[d].train_acc[e], c[d].val_loss[e],
                           c[d].val_acc[e]);
        char label[64];
        snprintf(label, sizeof label, "%s train", names[d]);
        chart_line(&cl, label, chart_color(d), c[d].n, c[d].epoch, c[d].train_loss);
        chart_line(&ca, label, chart_color(d), c[d].n, c[d].epoch, c[d].train_acc);
        snprintf(label, sizeof label, "%s val", names[d]);
        chart_dashed(&cl, label, chart_color(d), c[d].n, c[d].epoch, c[d].val_loss);
        chart_dashed(&ca, label, chart_color(d), c[d].n, c[d].epoch, c[d].val_acc);
        int last = c[d].n - 1;
        double best = 0;
        for (int e = 0; e < c[d].n; e++)
            best = fmax(best, c[d].val_acc[e]);
        strbuf_appendf(&text, "  %-11s final train loss %.4f, validation loss %.4f (gap %.4f); "
                              "train accuracy %.2f%%, validation %.2f%% (best %.2f%%)\n",
                       names[d], c[d].train_loss[last], c[d].val_loss[last],
                       c[d].val_loss[last] - c[d].train_loss[last], 100 * c[d].train_acc[last],
                       100 * c[d].val_acc[last], 100 * best);
    }
    strbuf_append(&text, "What the charts show: without dropout the network learns the small "
                         "training set by heart\n(training loss towards 0, accuracy 100%) while "
                         "the validation loss turns round and rises:\nthe gap between the solid "
                         "and dashed lines is overfitting. With dropout the training\nloss stays "
                         "higher (each step trains a thinned network), the validation loss stays "
                         "lower,\nand the gap is much smaller.\n");
    st = chart_write(&cl, a->out, "dropout_loss");
    if (st == SOMA_OK)
        st = chart_write(&ca, a->out, "dropout_accuracy");
    if (st == SOMA_OK)
        st = experiment_write(a->out, "dropout.csv", &csv);
    if (st == SOMA_OK)
        fputs(text.data, stdout);
    chart_free(&cl), chart_free(&ca);
    strbuf_free(&csv), strbuf_free(&text);
    return st;
}

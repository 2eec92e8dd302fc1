/* `soma train`: its help text and the parsing and checking of its options. */
#include "cli/train_options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

static const char train_help[] =
    "usage: soma train MODEL [options]\n"
    "\n"
    "Trains MODEL (a zoo name such as lenet5, or a model file) on a dataset, then\n"
    "evaluates it on the test split. Writes best.safetensors, last.safetensors,\n"
    "metrics.csv and summary.json in the output directory.\n"
    "\n"
    "data:\n"
    "  --data NAME|DIR         mnist, fashion-mnist or a directory of IDX files (default mnist)\n"
    "  --val-split F           fraction held out for validation, in [0, 1) (default 0.1;\n"
    "                          0 = none)\n"
    "training:\n"
    "  --epochs N              epochs, 1..100000 (default 20)\n"
    "  --batch N               mini-batch size, 1..65536 (default 32)\n"
    "  --opt NAME              sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw\n"
    "                          (default adamw: lr 0.002, weight decay 0.05)\n"
    "  --lr X                  learning rate (default: the optimizer's, e.g. 0.001 for adam)\n"
    "  --momentum X            momentum coefficient in [0, 1) for momentum, nesterov (0.9)\n"
    "  --weight-decay X        L2 penalty (decoupled for adamw) (default: the optimizer's)\n"
    "  --schedule NAME         const, step, cosine (default cosine)\n"
    "  --step-epochs N         step schedule: epochs between decays (default 10)\n"
    "  --step-gamma X          step schedule: decay factor in (0, 1] (default 0.1)\n"
    "  --warmup EPOCHS         linear warm-up of the learning rate (default 0)\n"
    "  --init NAME             he, xavier, lecun (default he)\n"
    "  --patience N            stop after N epochs without better validation accuracy\n"
    "                          (default 0 = never; needs --val-split > 0)\n"
    "  --seed N                seed for initialisation, shuffling, dropout (default 1)\n"
    "  --threads N             threads, 0 = all cores (default 0)\n"
    "output:\n"
    "  --out DIR               output directory (default runs/MODEL-YYYYmmdd-HHMMSS)\n"
    "  --resume CKPT           continue from a checkpoint (e.g. OUT/last.safetensors);\n"
    "                          the output directory defaults to the checkpoint's\n"
    "  --checkpoint-every N    also write last.safetensors every N steps, or every N\n"
    "                          minutes with a suffix m, e.g. 10m (default 0 = at\n"
    "                          epoch ends only)\n"
    "  --profile               print per-layer forward/backward times after each epoch\n"
    "  --quiet                 print only errors and the final test accuracy\n"
    "  -h, --help              show this help\n"
    "\n"
    "examples:\n"
    "  soma train lenet5 --epochs 10\n"
    "  soma train lenet5-bn --data fashion-mnist --opt momentum --lr 0.05 --schedule cosine\n"
    "  soma train mlp --epochs 1 --out /tmp/run --quiet\n"
    "\n"
    "Ctrl-C stops after the current step, saves OUT/last.safetensors and prints the\n"
    "command that resumes (exit status 130).\n";

/* "500" = every 500 steps, "10m" = every 10 minutes */
static int parse_checkpoint_every(const char *text, soma_train_config *c)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v) || v < 0)
        return 0;
    if (strcmp(end, "m") == 0 && v <= 1e6) {
        c->checkpoint_minutes = v;
        return 1;
    }
    if (*end || v != floor(v) || v > INT_MAX)
        return 0;
    c->checkpoint_every = (int)v;
    return 1;
}

static int parse_init(const char *name, soma_init *out)
{
    static const char *const names[] = {"he", "xavier", "lecun"};
    static const soma_init inits[] = {SOMA_INIT_HE, SOMA_INIT_XAVIER, SOMA_INIT_LECUN};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = inits[i];
            return 1;
        }
    return 0;
}

int train_options_parse(int argc, char **argv, train_options *o)
{
    memset(o, 0, sizeof *o);
    soma_train_config defaults = soma_train_defaults();
    const char *data = "mnist", *opt = NULL, *schedule = NULL, *init = "he";
    const char *out = NULL, *resume = NULL;
    int epochs = defaults.epochs, batch = defaults.batch, patience = 0, threads = 0;
    int step_epochs = defaults.step_epochs > 0 ? defaults.step_epochs : 10;
    int profile = 0, quiet = 0;
    const char *checkpoint_every = NULL;
    double lr = 0, momentum = 0, weight_decay = 0, warmup = 0, val_split = 0.1;
    double step_gamma = defaults.step_gamma > 0 ? defaults.step_gamma : 0.1;
    uint64_t seed = 1;

    cli_option options[] = {
        {"data", OPT_STRING, &data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"val-split", OPT_NUMBER, &val_split, 0, 1, 0, 1, "a fraction in [0, 1)", 0},
        {"epochs", OPT_INT, &epochs, 1, 100000, 0, 0, "a whole number from 1 to 100000", 0},
        {"batch", OPT_INT, &batch, 1, 65536, 0, 0, "a whole number from 1 to 65536", 0},
        {"opt", OPT_STRING, &opt, 0, 0, 0, 0, "an optimizer name", 0},
        {"lr", OPT_NUMBER, &lr, 0, HUGE_VAL, 1, 0, "a positive number", 0},
        {"momentum", OPT_NUMBER, &momentum, 0, 1, 0, 1, "a number in [0, 1)", 0},
        {"weight-decay", OPT_NUMBER, &weight_decay, 0, HUGE_VAL, 0, 0, "a number >= 0", 0},
        {"schedule", OPT_STRING, &schedule, 0, 0, 0, 0, "const, step or cosine", 0},
        {"step-epochs", OPT_INT, &step_epochs, 1, 100000, 0, 0, "a whole number from 1 to 100000",
         0},
        {"step-gamma", OPT_NUMBER, &step_gamma, 0, 1, 1, 0, "a number in (0, 1]", 0},
        {"warmup", OPT_NUMBER, &warmup, 0, 100000, 0, 0, "a number of epochs >= 0", 0},
        {"init", OPT_STRING, &init, 0, 0, 0, 0, "he, xavier or lecun", 0},
        {"patience", OPT_INT, &patience, 0, 100000, 0, 0, "a whole number >= 0", 0},
        {"seed", OPT_U64, &seed, 0, 0, 0, 0, "a whole number >= 0", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"out", OPT_STRING, &out, 0, 0, 0, 0, "a directory", 0},
        {"resume", OPT_STRING, &resume, 0, 0, 0, 0, "a checkpoint file", 0},
        {"checkpoint-every", OPT_STRING, &checkpoint_every, 0, 0, 0, 0,
         "N steps or Nm minutes", 0},
        {"profile", OPT_FLAG, &profile, 0, 0, 0, 0, NULL, 0},
        {"quiet", OPT_FLAG, &quiet, 0, 0, 0, 0, NULL, 0},
    };
    int noptions = ARGS_COUNT(options);
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("train", argc, argv, options, noptions, positional, 1,
                                &npositional);
    int outcome = args_outcome(r, train_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 1) {
        fprintf(stderr, "usage: soma train MODEL [options]  (see soma train --help)\n");
        return EXIT_USAGE;
    }

    soma_optimizer_kind kind = defaults.opt.kind;
    if (opt && soma_optimizer_parse(opt, &kind) != SOMA_OK)
        return usage_error("train",
                           "--opt expects sgd, momentum, nesterov, adagrad, rmsprop, adam or "
                           "adamw, got '%s'",
                           opt);
    soma_schedule sched = defaults.schedule;
    if (schedule && soma_schedule_parse(schedule, &sched) != SOMA_OK)
        return usage_error("train", "--schedule expects const, step or cosine, got '%s'",
                           schedule);
    if (!parse_init(init, &o->init))
        return usage_error("train", "--init expects he, xavier or lecun, got '%s'", init);
    if (args_find(options, noptions, "momentum")->given && kind != SOMA_OPT_MOMENTUM &&
        kind != SOMA_OPT_NESTEROV)
        return usage_error("train", "--momentum applies to --opt momentum or nesterov, not %s",
                           soma_optimizer_name(kind));
    if (patience > 0 && val_split == 0)
        return usage_error("train", "--patience needs a validation set (--val-split > 0)");
    if (sched != SOMA_SCHEDULE_STEP && (args_find(options, noptions, "step-epochs")->given ||
                                        args_find(options, noptions, "step-gamma")->given))
        return usage_error("train", "--step-epochs and --step-gamma need --schedule step");
    if (warmup > epochs)
        return usage_error("train", "--warmup (%g epochs) is longer than --epochs (%d)", warmup,
                           epochs);

    soma_train_config *c = &o->config;
    *c = defaults;
    /* the default optimizer comes with the default recipe's settings; another
     * starts from its own documented defaults */
    c->opt = kind == defaults.opt.kind ? defaults.opt : soma_optimizer_defaults(kind);
    o->lr_given = args_find(options, noptions, "lr")->given;
    if (o->lr_given)
        c->opt.lr = (float)lr;
    if (args_find(options, noptions, "momentum")->given)
        c->opt.momentum = (float)momentum;
    if (args_find(options, noptions, "weight-decay")->given)
        c->opt.weight_decay = (float)weight_decay;
    c->schedule = sched;
    c->step_epochs = step_epochs;
    c->step_gamma = (float)step_gamma;
    c->warmup_epochs = (float)warmup;
    c->epochs = epochs;
    c->batch = batch;
    c->patience = patience;
    c->seed = seed;
    if (checkpoint_every && !parse_checkpoint_every(checkpoint_every, c))
        return usage_error("train",
                           "--checkpoint-every expects N (steps) or Nm (minutes), got '%s'",
                           checkpoint_every);
    c->profile = profile;

    o->model = positional[0];
    o->data = data;
    o->out = out;
    o->resume = resume;
    o->init_name = init;
    o->val_split = val_split;
    o->threads = threads;
    o->quiet = quiet;
    return -1;
}

/* `soma train`: its help text and the parsing and checking of its options. */
#include "cli/train_options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/thread_check.h"
#include "core/error.h"

static const char train_help[] =
    "usage: soma train MODEL [options]\n"
    "\n"
    "Trains MODEL (a zoo name such as lenet5, or a model file) on a dataset, then\n"
    "evaluates it on the test split. Writes best.safetensors, last.safetensors,\n"
    "metrics.csv and summary.json in the output directory.\n"
    "\n"
    "data:\n"
    "  --data NAME|DIR         mnist, fashion-mnist, cifar-10, cifar-100, or a directory of\n"
    "                          IDX or CIFAR files or an image folder (DIR/train/CLASS/*.png|jpg,\n"
    "                          fitted to the model's input by a centre crop) (default mnist)\n"
    "  --val-split F           fraction held out for validation, in [0, 1) (default 0.1;\n"
    "                          0 = none); an image folder's val/ folder, when there is one,\n"
    "                          is the validation set instead (with any F > 0)\n"
    "training:\n"
    "  --epochs N              epochs, 1..100000 (default 20)\n"
    "  --batch N               mini-batch size, 1..65536 (default 32)\n"
    "  --opt NAME              sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw;\n"
    "                          a named optimizer starts from its own defaults (adamw:\n"
    "                          lr 0.001, weight decay 0.01, as in PyTorch). Without\n"
    "                          --opt: adamw with lr 0.002, weight decay 0.05, the\n"
    "                          recipe tuned for the zoo models\n"
    "  --lr X                  learning rate (default: the optimizer's, e.g. 0.001 for adam)\n"
    "  --momentum X            momentum coefficient in [0, 1) for momentum, nesterov (0.9)\n"
    "  --weight-decay X        L2 penalty (decoupled for adamw) (default: the optimizer's)\n"
    "  --schedule NAME         const, step, cosine (default cosine)\n"
    "  --step-epochs N         step schedule: epochs between decays (default 10)\n"
    "  --step-gamma X          step schedule: decay factor in (0, 1] (default 0.1)\n"
    "  --warmup EPOCHS         linear warm-up of the learning rate (default 0)\n"
    "  --init NAME             he, xavier, lecun (default he)\n"
    "  --augment SPEC          augment training batches, e.g. \"shift=2,rotate=10,p=0.8\"\n"
    "                          (docs/augment.md; default none)\n"
    "  --tta N                 test with the softmax averaged over N shifted copies\n"
    "                          (flipped too when SPEC flips); 1..25 (50 with flip)\n"
    "  --patience N            stop after N epochs without better validation accuracy\n"
    "                          (default 0 = never; needs --val-split > 0)\n"
    "  --seed N                seed for initialisation, shuffling, dropout (default 1)\n"
    "  --threads N             threads, 0 = all cores (default 0)\n"
    "  --device NAME           where to train: cpu (soma --version lists this build's)\n"
    "distributed (mpirun -np N soma train ...; docs/distributed.md):\n"
    "  --sync-bn               BatchNorm statistics over the global batch (one sum across\n"
    "                          the processes per layer); default: each process's own\n"
    "  --overlap               sum gradients across the processes in buckets of layers\n"
    "                          while backward goes on (default: once after backward)\n"
    "runs:\n"
    "  --out DIR               output directory (default runs/MODEL-YYYYmmdd-HHMMSS); it\n"
    "                          must be empty or new\n"
    "  --overwrite             replace the run in --out DIR (its checkpoints, metrics.csv\n"
    "                          and summary.json are removed first)\n"
    "  --resume CKPT           continue the run of a checkpoint (e.g. OUT/last.safetensors)\n"
    "                          with the settings it was started with; MODEL may be\n"
    "                          left out. Only --epochs, --patience, --checkpoint-every,\n"
    "                          --threads, --device and --out may change; the output\n"
    "                          directory defaults to the checkpoint's\n"
    "  --init-from CKPT        start from the weights (and input normalisation) of any\n"
    "                          checkpoint of the same model, e.g. one soma import made;\n"
    "                          the optimizer starts afresh (unlike --resume)\n"
    "  --config FILE           take every setting from a summary.json or checkpoint of an\n"
    "                          earlier run (MODEL may be left out); flags given override\n"
    "  --checkpoint-every N    also write last.safetensors every N steps, or every N\n"
    "                          minutes with a suffix m, e.g. 10m (default 0 = at\n"
    "                          epoch ends only)\n"
    "  --profile               print per-layer forward/backward times after each epoch\n"
    "  --quiet                 print only errors and the final test accuracy\n"
    "  --skip-bad-images       image folders: leave out images that do not decode\n"
    "                          (checked once when opened; a warning counts them)\n"
    "                          instead of stopping at the first with an error\n"
    "  -h, --help              show this help\n"
    "\n"
    "examples:\n"
    "  soma train lenet5 --epochs 10\n"
    "  soma train lenet5-bn --data fashion-mnist --opt momentum --lr 0.05 --schedule cosine\n"
    "  soma train mlp --epochs 1 --out /tmp/run --quiet\n"
    "  soma train lenet5 --augment \"shift=2,rotate=10,elastic=34:4,p=0.8\" --tta 5\n"
    "  soma train --resume runs/lenet5-20260101-120000/last.safetensors --epochs 30\n"
    "  soma train --config runs/lenet5-20260101-120000/summary.json --seed 2\n"
    "\n"
    "Ctrl-C stops after the current step, saves OUT/last.safetensors and prints the\n"
    "command that resumes (exit status 130).\n";

/* "500" = every 500 steps, "10m" = every 10 minutes */
static int parse_checkpoint_every(const char *text, soma_train_config *c)
{
    char number[64];
    size_t n = strlen(text);
    int minutes = n > 0 && text[n - 1] == 'm';
    if (minutes)
        n--;
    /* plain decimal digits: no sign, no hex, no inf */
    if (n == 0 || n >= sizeof number || !(text[0] == '.' || (text[0] >= '0' && text[0] <= '9')))
        return 0;
    memcpy(number, text, n);
    number[n] = '\0';
    if (!args_is_decimal(number))
        return 0;
    double v = strtod(number, NULL);
    if (minutes) {
        if (!(v > 0) || v > 1e6) /* 0m would mean "never" in a roundabout way */
            return 0;
        c->checkpoint_minutes = v;
        return 1;
    }
    if (v != floor(v) || v > INT_MAX)
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

/* The flags as given, before they are laid over the base settings. */
typedef struct flag_values {
    const char *data, *opt, *schedule, *init, *checkpoint_every, *augment, *init_from;
    int epochs, batch, patience, step_epochs, sync_bn;
    double lr, momentum, weight_decay, warmup, val_split, step_gamma;
    uint64_t seed;
} flag_values;

static int given(cli_option *options, int n, const char *name)
{
    return args_find(options, n, name)->given;
}

/* Lays the given flags over `s`. Naming an optimizer starts from its own
 * documented defaults (AdamW's are lr 0.001, weight decay 0.01, as in
 * PyTorch); the recipe's settings apply only when no --opt is given. */
static int apply_flags(cli_option *options, int n, const flag_values *v, run_settings *s)
{
    soma_train_config *c = &s->train;
    /* names are taken in any case and with their aliases (cli/choices.c),
     * and recorded as the one name they stand for */
    if (given(options, n, "data")) {
        const char *data = data_choice("train", v->data);
        if (!data)
            return EXIT_USAGE;
        if (run_settings_set(&s->data, data) != SOMA_OK)
            return report_error(SOMA_ERR_MEMORY);
    }
    if (given(options, n, "opt")) {
        const char *name = choice_parse("train", &optimizer_choices, v->opt);
        soma_optimizer_kind kind;
        if (!name)
            return EXIT_USAGE;
        if (soma_optimizer_parse(name, &kind) != SOMA_OK)
            return report_error(SOMA_ERR_ARGUMENT);
        c->opt = soma_optimizer_defaults(kind);
    }
    if (given(options, n, "schedule")) {
        const char *name = choice_parse("train", &schedule_choices, v->schedule);
        if (!name)
            return EXIT_USAGE;
        if (soma_schedule_parse(name, &c->schedule) != SOMA_OK)
            return report_error(SOMA_ERR_ARGUMENT);
    }
    if (given(options, n, "init")) {
        const char *name = choice_parse("train", &init_choices, v->init);
        if (!name)
            return EXIT_USAGE;
        if (run_settings_set(&s->init, name) != SOMA_OK)
            return report_error(SOMA_ERR_MEMORY);
    }
    if (given(options, n, "augment")) {
        char *canonical = NULL;
        if (soma_augment_parse(v->augment, &canonical) != SOMA_OK)
            return usage_error("train", "--augment: %s", soma_last_error());
        /* recorded as the canonical spec; none as null */
        soma_status st = run_settings_set(&s->augment,
                                          strcmp(canonical, "none") ? canonical : NULL);
        free(canonical);
        if (st != SOMA_OK)
            return report_error(st);
    }
    if (given(options, n, "init-from") && run_settings_set(&s->init_from, v->init_from) != SOMA_OK)
        return report_error(SOMA_ERR_MEMORY);
    if (given(options, n, "lr"))
        c->opt.lr = (float)v->lr;
    if (given(options, n, "momentum"))
        c->opt.momentum = (float)v->momentum;
    if (given(options, n, "weight-decay"))
        c->opt.weight_decay = (float)v->weight_decay;
    if (given(options, n, "step-epochs"))
        c->step_epochs = v->step_epochs;
    if (given(options, n, "step-gamma"))
        c->step_gamma = (float)v->step_gamma;
    if (given(options, n, "warmup"))
        c->warmup_epochs = (float)v->warmup;
    if (given(options, n, "epochs"))
        c->epochs = v->epochs;
    if (given(options, n, "batch"))
        c->batch = v->batch;
    if (given(options, n, "patience"))
        c->patience = v->patience;
    if (given(options, n, "seed"))
        c->seed = v->seed;
    if (given(options, n, "val-split"))
        s->val_split = v->val_split;
    if (given(options, n, "sync-bn"))
        c->sync_bn = v->sync_bn;
    if (v->checkpoint_every) {
        c->checkpoint_every = 0;
        c->checkpoint_minutes = 0;
        if (!parse_checkpoint_every(v->checkpoint_every, c))
            return usage_error("train",
                               "--checkpoint-every expects N steps (0 = at epoch ends only) "
                               "or Nm minutes with N > 0 (e.g. 10m), got '%s'",
                               v->checkpoint_every);
    }
    return -1;
}

/* room for any setting's text: a canonical augmentation spec is the longest (< 4 KiB) */
#define AUGMENT_TEXT_MAX_CLI 4096

static int may_change_on_resume(const char *option)
{
    for (const char *const *p = resume_may_change; *p; p++)
        if (strcmp(*p, option) == 0)
            return 1;
    return 0;
}

/* A resumed run keeps its settings: a flag that says otherwise is an error
 * that names both values. */
static int check_resume_flags(cli_option *options, int n, const run_settings *recorded,
                              const run_settings *asked, const char *checkpoint)
{
    for (int i = 0; i < n; i++) {
        if (!options[i].given || may_change_on_resume(options[i].name))
            continue;
        char was[AUGMENT_TEXT_MAX_CLI], now[AUGMENT_TEXT_MAX_CLI];
        run_settings_option_text(recorded, options[i].name, was, sizeof was);
        run_settings_option_text(asked, options[i].name, now, sizeof now);
        if (*was && strcmp(was, now) != 0)
            return usage_error("train",
                               "--%s %s contradicts %s, which was trained with --%s %s; a resumed "
                               "run keeps its settings (only --epochs, --patience, "
                               "--checkpoint-every, --threads, --device and --out may "
                               "change)",
                               options[i].name, now, checkpoint, options[i].name, was);
    }
    return -1;
}

/* The base the flags go over: the defaults, a --config file or the --resume checkpoint. */
static int load_base(train_options *o, run_settings *base)
{
    const char *from = o->resume ? o->resume : o->config;
    if (!from)
        return run_settings_defaults(base) == SOMA_OK ? -1 : report_error(SOMA_ERR_MEMORY);
    soma_status st = run_settings_load(from, base, o->resume ? &o->position : NULL);
    if (st == SOMA_ERR_UNSUPPORTED && o->resume) {
        /* a checkpoint from before settings were recorded: the flags say it all */
        if (!o->quiet)
            printf("note: %s records no run settings (an older soma wrote it); using the "
                   "command's flags, which must match the run's\n",
                   o->resume);
        soma_error_clear();
        o->legacy_resume = 1;
        return run_settings_defaults(base) == SOMA_OK ? -1 : report_error(SOMA_ERR_MEMORY);
    }
    return st == SOMA_OK ? -1 : report_error(st);
}

int tta_check(const char *command, int tta, const char *augment)
{
    /* the canonical spec names each transform followed by '=' or '@' */
    int flips = augment && strstr(augment, "flip@") != NULL, most = flips ? 50 : 25;
    if (tta > most)
        return usage_error(command, "--tta %d: the copies are 1..%d %s", tta, most,
                           flips ? "(shifts by up to 2 pixels, each also flipped)"
                                 : "(shifts by up to 2 pixels; 50 when the run's --augment "
                                   "flips)");
    return -1;
}

/* Checks that hold whatever the settings came from. */
static int check_settings(cli_option *options, int n, const run_settings *s, int tta)
{
    const soma_train_config *c = &s->train;
    if (tta_check("train", tta, s->augment) >= 0)
        return EXIT_USAGE;
    if (given(options, n, "momentum") && c->opt.kind != SOMA_OPT_MOMENTUM &&
        c->opt.kind != SOMA_OPT_NESTEROV)
        return usage_error("train", "--momentum applies to --opt momentum or nesterov, not %s",
                           soma_optimizer_name(c->opt.kind));
    if (c->patience > 0 && s->val_split == 0)
        return usage_error("train", "--patience needs a validation set (--val-split > 0)");
    if (c->schedule != SOMA_SCHEDULE_STEP &&
        (given(options, n, "step-epochs") || given(options, n, "step-gamma")))
        return usage_error("train", "--step-epochs and --step-gamma need --schedule step");
    if (c->warmup_epochs > c->epochs)
        return usage_error("train", "--warmup (%g epochs) is longer than --epochs (%d)",
                           (double)c->warmup_epochs, c->epochs);
    return -1;
}

/* Fills o->s: base settings, the flags over them, then what only a run knows. */
static int resolve(train_options *o, cli_option *options, int n, const flag_values *v,
                   const char *model)
{
    run_settings base;
    int rc = load_base(o, &base);
    if (rc >= 0)
        return rc;
    rc = run_settings_copy(&o->s, &base) == SOMA_OK ? -1 : report_error(SOMA_ERR_MEMORY);
    if (rc < 0)
        rc = apply_flags(options, n, v, &o->s);
    if (rc < 0 && model && run_settings_set(&o->s.model, model) != SOMA_OK)
        rc = report_error(SOMA_ERR_MEMORY);
    o->recorded_epochs = base.train.epochs;
    if (rc < 0 && o->resume && !o->legacy_resume) {
        rc = check_resume_flags(options, n, &base, &o->s, o->resume);
        /* keep the recorded settings, with only what may change taken from the flags */
        if (rc < 0 && run_settings_resumed(&base, &o->s) != SOMA_OK)
            rc = report_error(SOMA_ERR_MEMORY);
    }
    run_settings_free(&base);
    if (rc < 0 && (!o->s.model || (o->legacy_resume && !o->model_arg)))
        rc = usage_error("train", "no MODEL given (usage: soma train MODEL [options])");
    if (rc < 0)
        rc = check_settings(options, n, &o->s, o->tta);
    if (rc < 0)
        parse_init(o->s.init, &o->init);
    return rc;
}

int train_options_parse(int argc, char **argv, train_options *o)
{
    memset(o, 0, sizeof *o);
    flag_values v;
    memset(&v, 0, sizeof v);
    int profile = 0, quiet = 0, overwrite = 0, threads = 0, tta = 0, skip_bad = 0, overlap = 0;
    const char *out = NULL, *resume = NULL, *config = NULL, *device = NULL;

    cli_option options[] = {
        {"data", OPT_STRING, &v.data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"val-split", OPT_NUMBER, &v.val_split, 0, 1, 0, 1, "a fraction in [0, 1)", 0},
        {"epochs", OPT_INT, &v.epochs, 1, 100000, 0, 0, "a whole number from 1 to 100000", 0},
        {"batch", OPT_INT, &v.batch, 1, SOMA_MAX_BATCH, 0, 0, "a whole number from 1 to 65536", 0},
        {"opt", OPT_STRING, &v.opt, 0, 0, 0, 0, "an optimizer name", 0},
        {"lr", OPT_NUMBER, &v.lr, 0, HUGE_VAL, 1, 0, "a positive number", 0},
        {"momentum", OPT_NUMBER, &v.momentum, 0, 1, 0, 1, "a number in [0, 1)", 0},
        {"weight-decay", OPT_NUMBER, &v.weight_decay, 0, HUGE_VAL, 0, 0, "a number >= 0", 0},
        {"schedule", OPT_STRING, &v.schedule, 0, 0, 0, 0, "const, step or cosine", 0},
        {"step-epochs", OPT_INT, &v.step_epochs, 1, 100000, 0, 0,
         "a whole number from 1 to 100000", 0},
        {"step-gamma", OPT_NUMBER, &v.step_gamma, 0, 1, 1, 0, "a number in (0, 1]", 0},
        {"warmup", OPT_NUMBER, &v.warmup, 0, 100000, 0, 0, "a number of epochs >= 0", 0},
        {"init", OPT_STRING, &v.init, 0, 0, 0, 0, "he, xavier or lecun", 0},
        {"augment", OPT_STRING, &v.augment, 0, 0, 0, 0, "an augmentation spec", 0},
        {"tta", OPT_INT, &tta, 1, 50, 0, 0, "a whole number from 1 to 50", 0},
        {"patience", OPT_INT, &v.patience, 0, 100000, 0, 0, "a whole number >= 0", 0},
        {"seed", OPT_U64, &v.seed, 0, 0, 0, 0, "a whole number >= 0", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"device", OPT_STRING, &device, 0, 0, 0, 0, "a device name", 0},
        {"out", OPT_STRING, &out, 0, 0, 0, 0, "a directory", 0},
        {"overwrite", OPT_FLAG, &overwrite, 0, 0, 0, 0, NULL, 0},
        {"resume", OPT_STRING, &resume, 0, 0, 0, 0, "a checkpoint file", 0},
        {"init-from", OPT_STRING, &v.init_from, 0, 0, 0, 0, "a checkpoint file", 0},
        {"config", OPT_STRING, &config, 0, 0, 0, 0, "a summary.json or checkpoint", 0},
        {"checkpoint-every", OPT_STRING, &v.checkpoint_every, 0, 0, 0, 0,
         "N steps or Nm minutes", 0},
        {"profile", OPT_FLAG, &profile, 0, 0, 0, 0, NULL, 0},
        {"quiet", OPT_FLAG, &quiet, 0, 0, 0, 0, NULL, 0},
        {"skip-bad-images", OPT_FLAG, &skip_bad, 0, 0, 0, 0, NULL, 0},
        {"sync-bn", OPT_FLAG, &v.sync_bn, 0, 0, 0, 0, NULL, 0},
        {"overlap", OPT_FLAG, &overlap, 0, 0, 0, 0, NULL, 0},
    };
    int noptions = ARGS_COUNT(options);
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("train", argc, argv, options, noptions, positional, 1,
                                &npositional);
    int outcome = args_outcome(r, train_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 1 && !resume && !config) {
        fprintf(stderr, "usage: soma train MODEL [options]  (see soma train --help)\n");
        return EXIT_USAGE;
    }
    if (resume && config)
        return usage_error("train", "--resume and --config exclude each other (a resumed run "
                                    "takes its settings from its checkpoint)");
    if (resume && v.init_from)
        return usage_error("train", "--resume and --init-from exclude each other (a resumed run "
                                    "continues from its own checkpoint)");
    if (overwrite && !out)
        return usage_error("train", "--overwrite needs --out DIR");
    o->out = out;
    o->resume = resume;
    o->config = config;
    o->overwrite = overwrite;
    o->threads = threads;
    o->tta = tta;
    o->device = device ? device_choice("train", device) : NULL;
    if (device && !o->device)
        return EXIT_USAGE;
    o->quiet = quiet;
    o->skip_bad_images = skip_bad;
    o->profile = profile;
    o->overlap = overlap;
    o->model_arg = npositional > 0 ? positional[0] : NULL;
    int rc = resolve(o, options, noptions, &v, npositional ? positional[0] : NULL);
    /* before any data is loaded or directory made */
    return rc >= 0 ? rc : threads_check(threads);
}

void train_options_free(train_options *o)
{
    run_settings_free(&o->s);
}

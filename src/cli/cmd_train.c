/* `soma train`: load data, train with a progress display, test, record the run. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/out_dir.h"
#include "cli/progress.h"
#include "cli/run_files.h"
#include "cli/train_options.h"
#include "core/error.h"
#include "core/strbuf.h"

#define EVAL_BATCH 256

/* Everything a run holds, released in one place. */
typedef struct train_run {
    soma_model *model;
    soma_dataset *all, *train, *val, *test;
    char *name, *out_dir, *command;
    metrics_csv metrics;
    int metrics_open;
    progress_view view;
    int metrics_warned;
} train_run;

static void train_run_free(train_run *r)
{
    soma_model_free(r->model);
    if (r->train != r->all)
        soma_dataset_free(r->train);
    soma_dataset_free(r->all);
    soma_dataset_free(r->val);
    soma_dataset_free(r->test);
    free(r->name);
    free(r->out_dir);
    free(r->command);
    if (r->metrics_open)
        metrics_csv_close(&r->metrics);
}

/* Set by the signal handler: a signal during loading ends the command before
 * training starts (run()); one during training reaches soma_train through
 * soma_request_stop(), whose flag stays set until a run ends. */
static volatile sig_atomic_t stop_signalled;

static void on_progress(const soma_progress *p, void *user)
{
    train_run *r = user;
    progress_show(&r->view, p);
    if (p->epoch_done && !r->metrics_warned && metrics_csv_append(&r->metrics, p) != SOMA_OK) {
        progress_clear(&r->view);
        fprintf(stderr, "soma: warning: %s (metrics.csv is no longer updated)\n",
                soma_last_error());
        r->metrics_warned = 1;
    }
}

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_signalled = 1;
    soma_request_stop();
}

/* The first Ctrl-C (or SIGTERM) asks training to checkpoint and stop; the
 * handler then resets itself, so a second one ends the process at once. */
static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The original command with "--resume CHECKPOINT" in place of any earlier --resume. */
static char *resume_command(const command_line *full, const char *checkpoint)
{
    strbuf sb;
    strbuf_init(&sb);
    for (int i = 0; i < full->argc; i++) {
        const char *arg = full->argv[i];
        if (strcmp(arg, "--resume") == 0) {
            i++;
            continue;
        }
        if (strncmp(arg, "--resume=", 9) == 0)
            continue;
        if (i)
            strbuf_append(&sb, " ");
        append_shell_word(&sb, arg);
    }
    strbuf_append(&sb, " --resume ");
    append_shell_word(&sb, checkpoint);
    return strbuf_take(&sb);
}

static int report_interrupted(train_run *r, const command_line *full)
{
    progress_clear(&r->view);
    char *checkpoint = cli_path_join(r->out_dir, "last.safetensors");
    if (checkpoint && access(checkpoint, R_OK) == 0) {
        char *again = resume_command(full, checkpoint);
        fprintf(stderr, "soma: interrupted; resume with: %s\n", again ? again : "");
        free(again);
    } else {
        fprintf(stderr, "soma: interrupted before the first checkpoint\n");
    }
    free(checkpoint);
    return EXIT_INTERRUPTED;
}

/* Loads the splits: train (split into train + validation) and, if present, test. */
static soma_status load_data(const train_options *o, train_run *r)
{
    SOMA_TRY(soma_dataset_find(o->data, "train", &r->all));
    SOMA_TRY(check_model_fits_data(r->model, o->model, r->all, o->data));
    if (o->val_split > 0) {
        SOMA_TRY(soma_dataset_split(r->all, o->val_split, o->config.seed, &r->train, &r->val));
    } else {
        r->train = r->all;
    }
    soma_status st = soma_dataset_find(o->data, "test", &r->test);
    if (st == SOMA_ERR_IO) {
        /* a directory with training data only: train anyway, skip the test */
        if (!o->quiet)
            printf("note: no test split (%s); the test evaluation is skipped\n",
                   soma_last_error());
        r->test = NULL;
        return SOMA_OK;
    }
    if (st == SOMA_OK)
        st = check_model_fits_data(r->model, o->model, r->test, o->data);
    return st;
}

static soma_status prepare_out_dir(const train_options *o, train_run *r)
{
    if (o->out) {
        r->out_dir = strdup(o->out);
    } else if (o->resume) {
        r->out_dir = dir_name(o->resume); /* continue where the checkpoint lives */
    } else {
        return create_default_out_dir(r->name, &r->out_dir);
    }
    if (!r->out_dir)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    return make_dirs(r->out_dir);
}

static void print_header(const train_options *o, const train_run *r)
{
    char *table = soma_model_summary(r->model);
    if (table) {
        fputs(table, stdout);
        if (*table && table[strlen(table) - 1] != '\n')
            putchar('\n');
        free(table);
    }
    char a[32], b[32], n[32];
    int c, h, w;
    soma_dataset_shape(r->all, &c, &h, &w);
    printf("data       %s: %s training + %s validation images, %dx%dx%d, %d classes\n", o->data,
           format_count(soma_dataset_count(r->train), a, sizeof a),
           format_count(r->val ? soma_dataset_count(r->val) : 0, b, sizeof b), c, h, w,
           soma_dataset_classes(r->all));
    printf("           from %s\n", soma_dataset_source(r->all));
    if (r->test)
        printf("test       %s images from %s\n", format_count(soma_dataset_count(r->test), n, sizeof n),
               soma_dataset_source(r->test));
    const soma_train_config *cfg = &o->config;
    printf("optimizer  %s  lr %g  weight decay %g  schedule %s  batch %d  epochs %d\n",
           soma_optimizer_name(cfg->opt.kind), (double)cfg->opt.lr, (double)cfg->opt.weight_decay,
           soma_schedule_name(cfg->schedule), cfg->batch, cfg->epochs);
    if (o->resume)
        printf("resume     %s\n", o->resume);
    else
        printf("init       %s  seed %llu\n", o->init_name, (unsigned long long)cfg->seed);
    printf("threads    %d\n", soma_get_threads());
    printf("output     %s\n", r->out_dir);
    fflush(stdout);
}

/* A float setting as the user wrote it (0.001, not 0.001000000047). */
static double as_written(float x)
{
    char text[32];
    snprintf(text, sizeof text, "%.7g", (double)x);
    return strtod(text, NULL);
}

static soma_status write_summary(const train_options *o, const train_run *r,
                                 const soma_train_config *cfg, const soma_train_result *result,
                                 double test_loss, double test_accuracy, double wall_seconds)
{
    run_summary s;
    memset(&s, 0, sizeof s);
    s.test_accuracy = test_accuracy;
    s.test_loss = test_loss;
    s.test_error = 1.0 - test_accuracy;
    s.test_images = r->test ? soma_dataset_count(r->test) : 0;
    s.epochs = cfg->epochs;
    s.epochs_run = result->epochs_run;
    s.best_epoch = result->best_epoch;
    s.best_val_accuracy = result->best_val_accuracy;
    s.stopped_early = result->stopped_early;
    s.parameters = soma_model_param_count(r->model);
    s.wall_seconds = wall_seconds;
    s.images_per_second = result->images_per_second;
    s.model = o->model;
    s.data = o->data;
    s.data_source = soma_dataset_source(r->all);
    s.train_images = soma_dataset_count(r->train);
    s.val_images = r->val ? soma_dataset_count(r->val) : 0;
    s.optimizer = soma_optimizer_name(cfg->opt.kind);
    s.schedule = soma_schedule_name(cfg->schedule);
    s.lr = as_written(cfg->opt.lr);
    s.weight_decay = as_written(cfg->opt.weight_decay);
    /* soma_train leaves the best weights in the model (without validation the last are best) */
    s.tested_checkpoint = result->best_epoch > 0 ? "best.safetensors" : "last.safetensors";
    s.batch = cfg->batch;
    s.seed = cfg->seed;
    s.threads = soma_get_threads();
    s.command = r->command;
    return summary_json_write(r->out_dir, &s);
}

static int run(const train_options *o, const command_line *full, train_run *r)
{
    double started = cli_seconds();
    install_stop_handlers();
    soma_set_threads(o->threads);
    r->name = model_short_name(o->model);
    if (!r->name)
        return report_error(soma_error(SOMA_ERR_MEMORY, "out of memory"));
    soma_status st = SOMA_OK;
    if (o->resume && access(o->resume, R_OK) != 0) /* before creating its directory */
        st = soma_error(SOMA_ERR_IO, "%s: cannot open: %s", o->resume, strerror(errno));
    if (st == SOMA_OK)
        st = soma_model_open(o->model, &r->model);
    if (st == SOMA_OK)
        st = load_data(o, r);
    if (st == SOMA_OK && !o->resume)
        st = soma_model_init(r->model, o->init, o->config.seed);
    if (st == SOMA_OK)
        st = prepare_out_dir(o, r);
    if (st == SOMA_OK) {
        st = metrics_csv_open(&r->metrics, r->out_dir, o->resume != NULL);
        r->metrics_open = st == SOMA_OK;
    }
    r->command = join_command(full->argc, full->argv);
    if (st == SOMA_OK && !r->command)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st != SOMA_OK)
        return report_error(st);

    progress_init(&r->view, o->quiet, o->config.profile);
    if (!o->quiet)
        print_header(o, r);

    soma_train_config cfg = o->config;
    cfg.out_dir = r->out_dir;
    cfg.resume = o->resume;
    cfg.command = r->command;
    soma_train_result result;
    memset(&result, 0, sizeof result);
    if (stop_signalled) {
        fprintf(stderr, "soma: interrupted before training started\n");
        return EXIT_INTERRUPTED;
    }
    st = soma_train(r->model, r->train, r->val, &cfg, on_progress, r, &result);
    progress_clear(&r->view);
    if (st == SOMA_ERR_INTERRUPTED)
        return report_interrupted(r, full);
    if (st != SOMA_OK)
        return report_error(st);

    double test_loss = NAN, test_accuracy = NAN;
    if (r->test) {
        st = soma_evaluate(r->model, r->test, EVAL_BATCH, &test_loss, &test_accuracy);
        if (st != SOMA_OK)
            return report_error(st);
        print_accuracy_line("test", test_accuracy, test_loss, soma_dataset_count(r->test));
    }

    st = write_summary(o, r, &cfg, &result, test_loss, test_accuracy, cli_seconds() - started);
    if (st != SOMA_OK)
        return report_error(st);
    if (!o->quiet) {
        if (result.stopped_early)
            printf("stopped early after epoch %d; best validation accuracy %.2f%% at epoch %d\n",
                   result.epochs_run, 100.0 * result.best_val_accuracy, result.best_epoch);
        printf("wrote      %s/: %slast.safetensors, metrics.csv, summary.json\n", r->out_dir,
               result.best_epoch > 0 ? "best.safetensors, " : "");
    }
    return EXIT_OK;
}

int cmd_train(int argc, char **argv, const command_line *full)
{
    train_options o;
    int rc = train_options_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    train_run r;
    memset(&r, 0, sizeof r);
    rc = run(&o, full, &r);
    train_run_free(&r);
    return rc;
}

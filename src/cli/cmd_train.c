/* `soma train`: load data, train with a progress display, test, record the run. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/metrics_csv.h"
#include "cli/out_dir.h"
#include "cli/progress.h"
#include "cli/run_dir.h"
#include "cli/run_files.h"
#include "cli/steps_csv.h"
#include "cli/test_analysis.h"
#include "cli/train_options.h"
#include "core/error.h"
#include "core/strbuf.h"

#define EVAL_BATCH 256

/* Everything a run holds, released in one place. */
typedef struct train_run {
    soma_model *model;
    soma_dataset *all, *train, *val, *test;
    char *name, *out_dir, *command, *settings;
    int lock_fd;     /* the run directory's lock, held while the run writes there */
    int created_dir; /* this run made out_dir */
    metrics_csv metrics;
    int metrics_open;
    steps_csv steps;
    int steps_open;
    progress_view view;
    int metrics_warned, steps_warned;
    /* data parallelism: the processes training together; rank 0 alone
     * prints and writes the run's files */
    soma_comm *comm;
    int rank, size;
    int agreed; /* training ended the same way in every process (done, stopped, diverged) */
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
    free(r->command);
    free(r->settings);
    if (r->steps_open)
        steps_csv_close(&r->steps);
    run_dir_unlock(r->out_dir, r->lock_fd, r->created_dir);
    if (r->metrics_open)
        metrics_csv_close(&r->metrics);

    free(r->out_dir);
}

/* Set by the signal handler: a signal during loading ends the command before
 * training starts (run()); one during training stops the run, which polls it
 * (its config.stop). */
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
    /* a signal that came during the step stops the run after it: its
     * checkpoint needs the rows too, announced or not */
    soma_progress row = *p;
    row.saving |= stop_signalled != 0;
    if (!r->steps_warned && steps_csv_append(&r->steps, &row) != SOMA_OK) {
        progress_clear(&r->view);
        fprintf(stderr, "soma: warning: %s (steps.csv is no longer updated)\n",
                soma_last_error());
        r->steps_warned = 1;
    }
}

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_signalled = 1;
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

/* The command that continues a run: the checkpoint holds its settings, so
 * only the thread count (which results depend on) needs repeating. */
static char *resume_command(const command_line *full, const char *checkpoint, int threads,
                            int processes)
{
    strbuf sb;
    strbuf_init(&sb);
    if (processes > 1)
        strbuf_appendf(&sb, "mpirun -np %d ", processes);
    append_shell_word(&sb, full->argv[0]);
    strbuf_append(&sb, " train --resume ");
    append_shell_word(&sb, checkpoint);
    if (threads)
        strbuf_appendf(&sb, " --threads %d", threads);
    return strbuf_take(&sb);
}

static int report_interrupted(train_run *r, const command_line *full, int threads)
{
    progress_clear(&r->view);
    char *checkpoint = cli_path_join(r->out_dir, "last.safetensors");
    if (checkpoint && access(checkpoint, R_OK) == 0) {
        char *again = resume_command(full, checkpoint, threads, r->size);
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
    const run_settings *s = &o->s;
    const char *model = o->model_arg ? o->model_arg : s->model;
    SOMA_TRY(find_data_for_model(s->data, "train", r->model, o->skip_bad_images, s->augment, &r->all));
    SOMA_TRY(check_model_fits_data(r->model, model, r->all, s->data));
    SOMA_TRY(soma_augment_check(s->augment, r->all)); /* before the run's directory */
    if (s->val_split > 0 && has_val_folder(s->data)) { /* DIR/val is the validation set */
        r->train = r->all;
        SOMA_TRY(find_data_for_model(s->data, "val", r->model, o->skip_bad_images, s->augment, &r->val));
        SOMA_TRY(check_model_fits_data(r->model, model, r->val, s->data));
    } else if (s->val_split > 0) {
        SOMA_TRY(soma_dataset_split(r->all, s->val_split, s->train.seed, &r->train, &r->val));
    } else {
        r->train = r->all;
    }
    soma_status st = find_data_for_model(s->data, "test", r->model, o->skip_bad_images, s->augment, &r->test);
    if (st == SOMA_ERR_IO) {
        /* a directory with training data only: train anyway, skip the test */
        if (!o->quiet)
            printf("note: no test split (%s); the test evaluation is skipped\n",
                   soma_last_error());
        r->test = NULL;
        return SOMA_OK;
    }
    if (st == SOMA_OK)
        st = check_model_fits_data(r->model, model, r->test, s->data);
    return st;
}

/* A run resumed into a new directory brings its best checkpoint along, so
 * that the directory holds the whole run. */
static soma_status copy_best_checkpoint(const char *from_dir, const char *to_dir)
{
    char *from = cli_path_join(from_dir, "best.safetensors");
    char *to = cli_path_join(to_dir, "best.safetensors");
    soma_status st = SOMA_OK;
    if (!from || !to)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    else if (access(from, F_OK) == 0)
        st = run_dir_copy_file(from, to);
    free(from);
    free(to);
    return st;
}

/* The run directory: created, locked, and empty unless this run continues
 * the one in it. A run resumed into another directory takes its records along. */
static soma_status prepare_out_dir(const train_options *o, train_run *r)
{
    char *checkpoint_dir = o->resume ? dir_name(o->resume) : NULL;
    soma_status st = SOMA_OK;
    if (o->out)
        r->out_dir = strdup(o->out);
    else if (o->resume)
        r->out_dir = checkpoint_dir ? strdup(checkpoint_dir) : NULL;
    else
        st = create_default_out_dir(r->name, &r->out_dir);
    r->created_dir = !o->out && !o->resume;
    if (st == SOMA_OK && (!r->out_dir || (o->resume && !checkpoint_dir)))
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK && (o->out || o->resume) && access(r->out_dir, F_OK) != 0)
        r->created_dir = 1;
    if (st == SOMA_OK)
        st = make_dirs(r->out_dir);
    if (st == SOMA_OK)
        st = run_dir_lock(r->out_dir, &r->lock_fd);
    int same_dir = o->resume && st == SOMA_OK && run_dir_same(checkpoint_dir, r->out_dir);
    if (st == SOMA_OK && !same_dir)
        st = run_dir_require_empty(r->out_dir, o->overwrite);
    if (st == SOMA_OK && o->resume && !same_dir)
        st = copy_best_checkpoint(checkpoint_dir, r->out_dir);
    if (st == SOMA_OK)
        st = metrics_csv_open(&r->metrics, r->out_dir, o->resume ? checkpoint_dir : NULL);
    r->metrics_open = st == SOMA_OK;
    if (st == SOMA_OK)
        st = steps_csv_open(&r->steps, r->out_dir, o->resume ? checkpoint_dir : NULL);
    r->steps_open = st == SOMA_OK;
    free(checkpoint_dir);
    return st;
}

/* The configuration soma_train will run, as far as its memory goes: with a
 * run directory, so that the copy a checkpoint is written from counts. */
static soma_train_config planned_config(const train_options *o)
{
    soma_train_config c = o->s.train;
    c.out_dir = o->out ? o->out : "runs";
    return c;
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
    const run_settings *s = &o->s;
    char a[32], b[32], n[32];
    int c, h, w;
    soma_dataset_shape(r->all, &c, &h, &w);
    printf("data       %s: %s training + %s validation images, %dx%dx%d, %d classes\n", s->data,
           format_count(soma_dataset_count(r->train), a, sizeof a),
           format_count(r->val ? soma_dataset_count(r->val) : 0, b, sizeof b), c, h, w,
           soma_dataset_classes(r->all));
    printf("           from %s\n", soma_dataset_source(r->all));
    if (r->test)
        printf("test       %s images from %s\n", format_count(soma_dataset_count(r->test), n, sizeof n),
               soma_dataset_source(r->test));
    const soma_train_config *cfg = &s->train;
    printf("optimizer  %s  lr %g  weight decay %g  schedule %s  batch %d  epochs %d\n",
           soma_optimizer_name(cfg->opt.kind), (double)cfg->opt.lr, (double)cfg->opt.weight_decay,
           soma_schedule_name(cfg->schedule), cfg->batch, cfg->epochs);
    if (o->s.init_from && !o->resume)
        printf("init from  %s (weights and input normalisation)\n", o->s.init_from);
    if (o->resume)
        printf("resume     %s (epoch %d, step %d)\n", o->resume, o->position.epoch + 1,
               o->position.step);
    else
        printf("init       %s  seed %llu\n", s->init, (unsigned long long)cfg->seed);
    if (s->augment)
        printf("augment    %s\n", s->augment);
    printf("device     %s  threads %d\n", soma_model_device(r->model), soma_threads());
    if (r->size > 1)
        printf("processes  %d, each with about %d samples of every batch of %d%s\n", r->size,
               (cfg->batch + r->size - 1) / r->size, cfg->batch,
               cfg->sync_bn ? "; BatchNorm statistics over the whole batch" : "");
    soma_train_config planned = planned_config(o);
    soma_memory_estimate e;
    if (soma_train_memory_estimate(r->model, &planned, &e) == SOMA_OK)
        printf("memory     about %.1f MiB\n", (double)e.total / (1 << 20));
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

/* The test evaluation: plain, and with --tta N averaged over N copies. */
typedef struct test_result {
    double loss, accuracy, loss_tta, accuracy_tta;
} test_result;

static soma_status write_summary(const train_options *o, const train_run *r,
                                 const soma_train_result *result, const test_result *test,
                                 double wall_seconds)
{
    const run_settings *set = &o->s;
    const soma_train_config *cfg = &set->train;
    double test_accuracy = test->accuracy;
    run_summary s;
    memset(&s, 0, sizeof s);
    s.test_accuracy = test_accuracy;
    s.test_loss = test->loss;
    s.tta_copies = o->tta;
    s.test_accuracy_tta = test->accuracy_tta;
    s.test_loss_tta = test->loss_tta;
    s.test_error = 1.0 - test_accuracy;
    s.test_images = r->test ? soma_dataset_count(r->test) : 0;
    s.epochs = cfg->epochs;
    s.epochs_run = result->epochs_run;
    s.best_epoch = result->best_epoch;
    s.best_val_accuracy = result->best_val_accuracy;
    s.best_val_loss = result->best_val_loss;
    s.stopped_early = result->stopped_early;
    s.parameters = soma_model_param_count(r->model);
    s.wall_seconds = wall_seconds;
    s.images_per_second = result->images_per_second;
    s.model = set->model;
    s.data = set->data;
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
    s.threads = soma_threads();
    s.threads_running = result->threads_running;
    s.processes = r->size;
    s.device = soma_model_device(r->model);
    s.command = set->command;
    s.resumed_by = o->resume ? r->command : NULL;
    s.init_from = o->s.init_from;
    s.started_at = set->started_at;
    s.settings = r->settings;
    return summary_json_write(r->out_dir, &s);
}

/* A run that has done all its epochs (or stopped early) has nothing left to do. */
static int already_complete(const train_options *o)
{
    const soma_train_config *c = &o->s.train;
    const run_position *p = &o->position;
    /* a position past the run's own epoch count is not a finished run but a
     * damaged file: the checks of the resume refuse it */
    if (!o->resume || p->step != 0 || p->epoch > o->recorded_epochs)
        return 0;
    if (p->epoch == c->epochs) {
        printf("%s: the run is already complete (%d of %d epochs); nothing changed. Train "
               "longer with --epochs N.\n",
               o->resume, p->epoch, c->epochs);
        return 1;
    }
    if (p->epoch > c->epochs) {
        printf("%s: the run is already complete (%d epochs done, more than --epochs %d); "
               "nothing changed.\n",
               o->resume, p->epoch, c->epochs);
        return 1;
    }
    if (c->patience > 0 && p->epochs_since_best >= c->patience) {
        printf("%s: the run already stopped early (no better validation accuracy in %d "
               "epochs); nothing changed. Continue with a larger --patience.\n",
               o->resume, p->epochs_since_best);
        return 1;
    }
    return 0;
}

/* Fixes what only the start of a run knows: when it began and the command. */
static soma_status record_start(train_options *o, train_run *r, const command_line *full)
{
    r->command = join_command(full->argc, full->argv);
    if (!r->command)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (!o->resume || o->legacy_resume) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm utc;
        gmtime_r(&now, &utc);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
        SOMA_TRY(run_settings_set(&o->s.started_at, stamp));
        SOMA_TRY(run_settings_set(&o->s.command, r->command));
    }
    r->settings = run_settings_to_json(&o->s);
    return r->settings ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
}

/* The model: from the checkpoint when resuming without naming one (the
 * checkpoint holds its definition), else as named. */
static soma_status open_model(const train_options *o, train_run *r)
{
    if (o->resume && !o->model_arg)
        return soma_checkpoint_load_model(o->resume, &r->model);
    SOMA_TRY(soma_model_open(o->model_arg ? o->model_arg : o->s.model, &r->model));
    if (!o->resume)
        return SOMA_OK;
    /* a model named on resume must be the checkpoint's */
    char *text = NULL;
    soma_status st = soma_checkpoint_metadata(o->resume, "model", &text);
    if (st == SOMA_OK && (!text || strcmp(text, soma_model_text(r->model)) != 0))
        st = soma_error(SOMA_ERR_ARGUMENT, "%s: the checkpoint holds a different model than %s",
                        o->resume, o->model_arg);
    free(text);
    return st;
}

/* What soma_train will check, before the weights and the run directory are
 * made: the same configuration, checkpoints included. */
static soma_status check_memory(const train_options *o, const train_run *r)
{
    soma_train_config planned = planned_config(o);
    return soma_train_memory_check(r->model, &planned);
}

/* A stop request while loading ends the command before training starts. */
static soma_status stop_check(soma_status st)
{
    return st == SOMA_OK && stop_signalled ? SOMA_ERR_INTERRUPTED : st;
}

static int run(train_options *o, const command_line *full, train_run *r)
{
    double started = cli_seconds();
    install_stop_handlers();
    soma_set_threads(o->threads);
    if (already_complete(o)) {
        r->agreed = 1; /* every process read the same checkpoint */
        return EXIT_OK;
    }
    r->name = model_short_name(o->s.model);
    if (!r->name)
        return report_error(soma_error(SOMA_ERR_MEMORY, "out of memory"));
    soma_status st = SOMA_OK;
    if (o->resume && access(o->resume, R_OK) != 0) /* before creating its directory */
        st = soma_error(SOMA_ERR_IO, "%s: cannot open: %s", o->resume, strerror(errno));
    if (st == SOMA_OK)
        st = stop_check(open_model(o, r));
    if (st == SOMA_OK && o->device)
        st = soma_model_set_device(r->model, o->device);
    if (st == SOMA_OK)
        st = stop_check(load_data(o, r));
    if (st == SOMA_OK) /* before any weight or directory: a run that cannot fit is refused */
        st = check_memory(o, r);
    if (st == SOMA_OK && !o->resume)
        st = soma_model_init(r->model, o->init, o->s.train.seed);
    /* its input normalisation too: the weights expect it (a resumed run has its own weights) */
    if (st == SOMA_OK && o->s.init_from && !o->resume)
        st = soma_model_load_weights(r->model, o->s.init_from);
    if (st == SOMA_OK)
        st = record_start(o, r, full);
    if (st == SOMA_OK && r->rank == 0) /* the run's files are rank 0's */
        st = stop_check(prepare_out_dir(o, r));
    if (st == SOMA_ERR_INTERRUPTED) {
        fprintf(stderr, "soma: interrupted before training started\n");
        return EXIT_INTERRUPTED;
    }
    if (st != SOMA_OK)
        return report_error(st);

    progress_init(&r->view, o->quiet, o->profile);
    if (!o->quiet)
        print_header(o, r);

    soma_train_config cfg = o->s.train;
    cfg.out_dir = r->rank == 0 ? r->out_dir : NULL;
    cfg.comm = r->comm;
    cfg.overlap = o->overlap;
    cfg.resume = o->resume;
    cfg.command = r->command;
    cfg.settings = r->settings;
    cfg.augment = o->s.augment;
    cfg.profile = o->profile;
    cfg.stop = &stop_signalled;
    soma_train_result result;
    memset(&result, 0, sizeof result);
    if (stop_signalled) {
        fprintf(stderr, "soma: interrupted before training started\n");
        return EXIT_INTERRUPTED;
    }
    st = soma_train(r->model, r->train, r->val, &cfg, r->rank == 0 ? on_progress : NULL, r,
                    &result);
    progress_clear(&r->view);
    r->agreed = st == SOMA_OK || st == SOMA_ERR_INTERRUPTED || st == SOMA_ERR_DIVERGED;
    if (st == SOMA_ERR_INTERRUPTED)
        return r->rank == 0 ? report_interrupted(r, full, o->threads) : EXIT_INTERRUPTED;
    if (st == SOMA_ERR_DIVERGED && r->rank != 0) /* agreed by all: rank 0 says it */
        return EXIT_ERROR;
    if (st != SOMA_OK)
        return report_error(st);

    test_result test = {NAN, NAN, NAN, NAN};
    if (r->test) {
        st = soma_evaluate_comm(r->model, r->test, EVAL_BATCH, r->comm, &test.loss,
                                &test.accuracy);
        if (r->rank != 0) /* the rest is rank 0's */
            return st == SOMA_OK ? EXIT_OK : report_error(st);
        if (st == SOMA_OK && o->tta)
            st = soma_evaluate_tta(r->model, r->test, EVAL_BATCH, o->tta, o->s.augment,
                                   &test.loss_tta, &test.accuracy_tta);
        if (st != SOMA_OK)
            return report_error(st);
        print_accuracy_line("test", test.accuracy, test.loss, soma_dataset_count(r->test));
        if (o->tta) {
            char label[32];
            snprintf(label, sizeof label, "test TTA %d", o->tta);
            print_accuracy_line(label, test.accuracy_tta, test.loss_tta,
                                soma_dataset_count(r->test));
        }
    }

    if (r->rank != 0)
        return EXIT_OK;
    if (r->test) { /* a run that cannot write them is still a run: a warning */
        st = test_analysis_write(r->model, r->test, o->s.data, r->out_dir);
        if (st != SOMA_OK)
            fprintf(stderr, "soma: warning: %s (no confusion.csv or misclassified files)\n",
                    soma_last_error());
    }
    st = write_summary(o, r, &result, &test, cli_seconds() - started);
    if (st != SOMA_OK)
        return report_error(st);
    if (!o->quiet) {
        if (result.stopped_early)
            printf("stopped early after epoch %d; best validation accuracy %.2f%% at epoch %d\n",
                   result.epochs_run, 100.0 * result.best_val_accuracy, result.best_epoch);
        printf("wrote      %s/: %slast.safetensors, metrics.csv, steps.csv, summary.json%s\n",
               r->out_dir, result.best_epoch > 0 ? "best.safetensors, " : "",
               r->test ? ", confusion.csv, misclassified.csv, misclassified.png" : "");
    }
    return EXIT_OK;
}

/* Cores for each process on this machine: its share of them (Open MPI's
 * count of the processes here), at least 1. */
static int cores_per_process(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long here = local ? strtol(local, NULL, 10) : 1;
    if (cores < 1)
        cores = 1;
    if (here < 1)
        here = 1;
    return cores / here > 1 ? (int)(cores / here) : 1;
}

/* Under a launcher (mpirun): the processes training together. Ranks other
 * than 0 print nothing but their own errors; without --threads each process
 * takes its share of the machine's cores. */
static int join_processes(train_options *o, train_run *r)
{
    soma_status st = soma_comm_world(&r->comm);
    if (st != SOMA_OK)
        return report_error(st);
    r->rank = soma_comm_rank(r->comm);
    r->size = soma_comm_size(r->comm);
    if (r->size < 2)
        return -1;
    if (r->rank != 0 && !freopen("/dev/null", "w", stdout))
        return report_error(soma_error(SOMA_ERR_IO, "cannot silence rank %d's output", r->rank));
    if (o->threads == 0)
        o->threads = cores_per_process();
    return -1;
}

int cmd_train(int argc, char **argv, const command_line *full)
{
    train_options o;
    int rc = train_options_parse(argc, argv, &o);
    if (rc < 0) {
        train_run r;
        memset(&r, 0, sizeof r);
        r.lock_fd = -1;
        r.size = 1;
        rc = join_processes(&o, &r);
        if (rc < 0)
            rc = run(&o, full, &r);
        train_run_free(&r);
        /* A process that failed alone leaves MPI running: the launcher
         * then ends the others, which would wait for it forever. */
        if (r.size < 2 || r.agreed)
            soma_comm_free(r.comm);
    }
    train_options_free(&o);
    return rc;
}

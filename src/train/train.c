/*
 * The training loop: seeded shuffles, mini-batch steps, validation and early
 * stopping, checkpoints at epoch ends (and every N steps), exact resume,
 * divergence detection and clean stops on request.
 */
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu_load.h"
#include "core/partition.h"
#include "core/rng.h"
#include "core/run_threads.h"
#include "data/dataset.h"
#include "nn/class_names.h"
#include "nn/normalization.h"
#include "optim/schedule.h"
#include "train/comm.h"
#include "train/loader.h"
#include "train/profile.h"
#include "train/run_state.h"
#include "train/run_state_checks.h"
#include "train/step.h"
#include "train/thread_governor.h"

/* soma_request_stop's flag, for every run of the process; it stays set until
 * the last run in progress ends. A lock-free atomic: safe in a signal handler
 * and from any thread. */
static atomic_int stop_requested, runs_in_progress;

void soma_request_stop(void) { atomic_store(&stop_requested, 1); }

/* soma_train_config.threads at most: far above any core count, low enough
 * that a stray value fails here and not when OpenMP starts the threads */
#define SOMA_MAX_RUN_THREADS 4096
/* Seconds between looks at how busy the cores are: the kernel counts in
 * 10 ms ticks, so shorter would only measure noise. */
#define LOAD_INTERVAL 0.25

/* The run's own flag (config.stop), read as an atomic so that another thread
 * may set it, or the process-wide request. */
static int stop_asked(const soma_train_config *c)
{
    return (c->stop && __atomic_load_n(c->stop, __ATOMIC_RELAXED)) ||
           atomic_load(&stop_requested);
}

soma_train_config soma_train_defaults(void)
{
    soma_train_config c;
    memset(&c, 0, sizeof c);
    /* The recipe that gets LeNet-5 + BN under 2% test error on the 10k MNIST
     * subset (1.6% measured by scripts/acceptance.sh): AdamW at 2e-3 with
     * weight decay 0.05, cosine decay over 20 epochs of batch 32. */
    c.opt = soma_optimizer_defaults(SOMA_OPT_ADAMW);
    c.opt.lr = 2e-3f;
    c.opt.weight_decay = 0.05f;
    c.schedule = SOMA_SCHEDULE_COSINE;
    c.step_epochs = 10;
    c.step_gamma = 0.1f;
    c.epochs = 20;
    c.batch = 32;
    c.seed = 1;
    return c;
}

typedef struct trainer {
    soma_model *m;
    const soma_dataset *train, *val;
    const soma_train_config *cfg;
    optimizer *opt;
    run_state rs;
    int steps_per_epoch;
    int *order;            /* this epoch's sample order */
    float *batch_host;
    int32_t *labels;
    char path_last[4096], path_best[4096];
    double last_save; /* omp_get_wtime() of the last checkpoint */
    int saved_last;   /* this run has written path_last */
    augment_pipeline augment;
    batch_loader *loader; /* with augmentation: batches prepared by a background thread */
    thread_governor governor; /* how many of the run's threads run the steps */
    cpu_load load;            /* what other programs take of the cores, for the governor */
    /* rs.epoch_seen when this process began the epoch (non-zero in an epoch
     * resumed mid-way): speeds count only the images trained since */
    long long seen_at_start;
    /* data parallelism (comm.h): this process's rank among `size` (1: alone) */
    const soma_comm *comm;
    int rank, size;
    int plan_batch; /* the most samples of a step this process takes */
    bn_sync bn;     /* BatchNorm statistics across the processes (--sync-bn) */
} trainer;

static soma_status check_config(const soma_train_config *c, const soma_model *m,
                                const soma_dataset *train)
{
    if (c->epochs < 1 || c->epochs > 1000000)
        return soma_error(SOMA_ERR_ARGUMENT, "epochs must be in 1..1000000, got %d", c->epochs);
    if (c->batch < 1 || c->batch > SOMA_MAX_BATCH)
        return soma_error(SOMA_ERR_ARGUMENT, "batch must be in 1..%d, got %d", SOMA_MAX_BATCH,
                          c->batch);
    if (c->threads < 0 || c->threads > SOMA_MAX_RUN_THREADS)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "threads must be in 0..%d (0: soma_threads()), got %d",
                          SOMA_MAX_RUN_THREADS, c->threads);
    if (c->patience < 0 || c->checkpoint_every < 0 || !(c->checkpoint_minutes >= 0))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "patience, checkpoint_every and checkpoint_minutes must be >= 0");
    augment_pipeline aug;
    if (augment_parse(c->augment, &aug) != SOMA_OK)
        return soma_error_context(SOMA_ERR_ARGUMENT, "augment");
    SOMA_TRY(optimizer_config_check(&c->opt));
    SOMA_TRY(schedule_check(c));
    if (!train || train->n < 1)
        return soma_error(SOMA_ERR_ARGUMENT, "the training set is empty");
    if (augment_check_data(&aug, train) != SOMA_OK)
        return soma_error_context(SOMA_ERR_ARGUMENT, "augment");
    if (train->c != m->input.c || train->h != m->input.h || train->w != m->input.w)
        return soma_error(SOMA_ERR_SHAPE, "%s: samples are %dx%dx%d, the model %s expects %dx%dx%d",
                          train->source, train->c, train->h, train->w, m->source, m->input.c,
                          m->input.h, m->input.w);
    if (train->classes > m->classes)
        return soma_error(SOMA_ERR_SHAPE, "%s: labels go up to %d, the model has only %d outputs",
                          train->source, train->classes - 1, m->classes);
    int size = comm_size(c->comm);
    if (size > 1 && strcmp(m->be->name, "cpu") != 0) /* the sums read host memory */
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "training over several processes runs on the cpu device only, not %s",
                          m->be->name);
    /* synchronised BatchNorm needs every process in every step's sums */
    int last = train->n % c->batch ? train->n % c->batch : c->batch;
    if (size > 1 && c->sync_bn && (last < size || c->batch < size))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "sync-bn: every one of the %d processes needs a sample of each batch, "
                          "and the last batch of an epoch has %d; choose another batch size",
                          size, last < c->batch ? last : c->batch);
    return SOMA_OK;
}

/* BatchNorm's sums across the processes (backend.h's bn_sync). */
static soma_status bn_sum(void *arg, double *x, int n)
{
    return comm_sum_doubles(arg, x, (size_t)n);
}

static soma_status keep_best(trainer *t)
{
    soma_model *m = t->m;
    SOMA_TRY(m->be->download(t->rs.best_params, m->params, sizeof(float) * m->nparams));
    return m->be->download(t->rs.best_buffers, m->buffers, sizeof(float) * m->nbuffers);
}

static soma_status restore_best(trainer *t)
{
    soma_model *m = t->m;
    SOMA_TRY(m->be->upload(m->params, t->rs.best_params, sizeof(float) * m->nparams));
    return m->be->upload(m->buffers, t->rs.best_buffers, sizeof(float) * m->nbuffers);
}

static soma_status setup(trainer *t)
{
    const soma_train_config *c = t->cfg;
    soma_model *m = t->m;
    t->steps_per_epoch = (t->train->n + c->batch - 1) / c->batch;
    SOMA_TRY(soma_train_memory_check(m, c)); /* before allocating any of it */
    /* each process takes its part of every global batch */
    t->plan_batch = (c->batch + t->size - 1) / t->size;
    SOMA_TRY(network_plan(m, t->plan_batch));
    SOMA_TRY(optimizer_create(m->be, &c->opt, m->nparams, &t->opt));
    size_t in_size = shape_size(m->input);
    t->order = malloc(sizeof(int) * t->train->n);
    t->batch_host = malloc(sizeof(float) * in_size * c->batch);
    t->labels = malloc(sizeof(int32_t) * c->batch);
    /* host copies of the best weights (early stopping), kept in the run state */
    t->rs.best_params = malloc(sizeof(float) * (m->nparams + 1));
    t->rs.best_buffers = malloc(sizeof(float) * (m->nbuffers + 1));
    if (!t->order || !t->batch_host || !t->labels || !t->rs.best_params || !t->rs.best_buffers)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (c->out_dir) {
        snprintf(t->path_last, sizeof t->path_last, "%s/last.safetensors", c->out_dir);
        snprintf(t->path_best, sizeof t->path_best, "%s/best.safetensors", c->out_dir);
    }
    t->rs.seed = c->seed;
    t->rs.best_val_accuracy = NAN;
    t->rs.best_val_loss = NAN;
    if (c->resume) {
        SOMA_TRY(checkpoint_restore(c->resume, m, t->opt, &t->rs, c));
        SOMA_TRY(checkpoint_check_position(c->resume, &t->rs, t->train->n, c->batch));
        if (!t->rs.best_loaded && t->rs.best_epoch > 0)
            SOMA_TRY(keep_best(t)); /* saved at the best epoch's end: the weights are the best */
    } else if (!normalization_is_set(m)) {
        SOMA_TRY(dataset_pixel_stats(t->train, m->norm_mean, m->norm_std));
    }
    if (t->train->class_names) /* an image folder's: kept in the checkpoints */
        SOMA_TRY(class_names_set(m, t->train->class_names, t->train->classes));
    SOMA_TRY(augment_parse(c->augment, &t->augment));
    if (t->augment.n > 0) {
        SOMA_TRY(loader_create(t->train, &t->augment, c->batch, &t->loader));
        loader_set_part(t->loader, t->rank, t->size);
    }
    return SOMA_OK;
}

/* Checkpoints are rank 0's to write (the others have the same weights). */
static soma_status save_checkpoint(const trainer *t, const char *path)
{
    return t->rank == 0 ? checkpoint_save(path, t->m, t->opt, &t->rs, t->cfg) : SOMA_OK;
}

/* Over several processes, each keeps running statistics of its own
 * batches (unless they are synchronised): their mean, the same in all,
 * before anything reads or saves them. */
static soma_status average_buffers(trainer *t)
{
    soma_model *m = t->m;
    if (t->size < 2 || t->cfg->sync_bn || m->nbuffers == 0)
        return SOMA_OK;
    SOMA_TRY(comm_sum_floats(t->comm, m->buffers, m->nbuffers));
    for (size_t i = 0; i < m->nbuffers; i++)
        m->buffers[i] /= (float)t->size;
    return SOMA_OK;
}

/* Every process should hold the same weights (the same summed gradients,
 * the same updates); an MPI whose sums differed between processes would let
 * them drift apart unseen. Checked at each epoch's end: a 20-bit digest of
 * the weights in each, whose sum and sum of squares (exact in doubles) show
 * whether all are equal. */
static soma_status check_same_weights(const trainer *t)
{
    const soma_model *m = t->m;
    if (t->size < 2)
        return SOMA_OK;
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the weights' bytes */
    const unsigned char *p = (const unsigned char *)m->params;
    for (size_t i = 0; i < m->nparams * sizeof(float); i++)
        h = (h ^ p[i]) * 1099511628211ull;
    double d = (double)(h >> 44), sums[2] = {d, d * d};
    SOMA_TRY(comm_sum_doubles(t->comm, sums, 2));
    if (sums[1] * t->size != sums[0] * sums[0])
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "the %d processes' weights differ after epoch %d: the MPI library's "
                          "sums were not the same in every process",
                          t->size, t->rs.epoch + 1);
    return SOMA_OK;
}

static soma_status save_last(trainer *t)
{
    if (!t->cfg->out_dir)
        return SOMA_OK;
    t->last_save = omp_get_wtime();
    SOMA_TRY(save_checkpoint(t, t->path_last));
    t->saved_last = 1;
    return SOMA_OK;
}

/* --checkpoint-minutes: N minutes since the last checkpoint (over several
 * processes, rank 0's clock decides for all) */
static int checkpoint_time(const trainer *t, double now)
{
    const soma_train_config *c = t->cfg;
    return c->checkpoint_minutes > 0 && now - t->last_save >= c->checkpoint_minutes * 60.0;
}

/* --checkpoint-every: N steps or (time_due) N minutes since the last checkpoint */
static int checkpoint_due(const trainer *t, int time_due)
{
    const soma_train_config *c = t->cfg;
    if (t->rs.step >= t->steps_per_epoch) /* the epoch end saves anyway */
        return 0;
    return (c->checkpoint_every && t->rs.global_step % c->checkpoint_every == 0) || time_due;
}

/* `step` is 1-based within the epoch: the step that produced the value. The
 * checkpoint is named only when one exists (a run can diverge before its first). */
static soma_status diverged(trainer *t, const char *what, int step)
{
    /* only a checkpoint of this run counts: an old file under the same name does not */
    const char *good = t->saved_last ? t->path_last : t->cfg->resume;
    return soma_error(SOMA_ERR_DIVERGED,
                      "training diverged at epoch %d step %d: %s is not finite; "
                      "try a lower learning rate (now %g)%s%s",
                      t->rs.epoch + 1, step, what, (double)t->cfg->opt.lr,
                      good ? "; the last good checkpoint is " : "", good ? good : "");
}

/* Whether the n floats at x (device memory) are all finite; a failed query
 * counts as not finite (the run stops, and says why). */
static int all_finite(const soma_model *m, const float *x, size_t n)
{
    size_t bad = 0;
    return m->be->count_nonfinite(x, n, &bad) == SOMA_OK && bad == 0;
}

/* What a checkpoint would hold that is not finite (adaptive methods'
 * squared-gradient sums overflow to inf while the weights stay finite);
 * NULL when all is finite. */
static const char *nonfinite_state(const trainer *t)
{
    const soma_model *m = t->m;
    if (!all_finite(m, m->params, m->nparams))
        return "a weight";
    if (!all_finite(m, m->buffers, m->nbuffers))
        return "a running statistic";
    for (int i = 0; i < optimizer_state_count(t->opt->cfg.kind); i++)
        if (!all_finite(m, optimizer_state(t->opt, i), t->opt->n))
            return "the optimizer state";
    return NULL;
}

/* Images per second of the epoch so far in this process: a resumed epoch's
 * images trained before the stop took none of `seconds`. */
static double epoch_speed(const trainer *t, double seconds)
{
    return seconds > 0 ? (double)(t->rs.epoch_seen - t->seen_at_start) / seconds : 0.0;
}

/* Runs the rest of the current epoch from step rs.step. */
/* The samples of the step whose first is `first`: a batch, or the epoch's rest. */
static int step_samples(const trainer *t, int first)
{
    int left = t->train->n - first;
    return left < t->cfg->batch ? left : t->cfg->batch;
}

static soma_status run_epoch(trainer *t, soma_progress_fn progress, void *user,
                             double epoch_start)
{
    const soma_train_config *c = t->cfg;
    soma_model *m = t->m;
    run_state *rs = &t->rs;
    for (int i = 0; i < t->train->n; i++)
        t->order[i] = i;
    rng r;
    rng_init(&r, rs->seed, RNG_SHUFFLE, (uint64_t)rs->epoch, 0);
    rng_shuffle(&r, t->order, t->train->n);
    if (t->loader) /* joined by soma_train after this returns, however it returns */
        SOMA_TRY(loader_begin_epoch(t->loader, t->order, t->train->n, rs->step,
                                    t->steps_per_epoch, rs->seed, rs->epoch, m->norm_mean,
                                    m->norm_std));
    while (rs->step < t->steps_per_epoch) {
        int first = rs->step * c->batch;
        int count = step_samples(t, first);
        /* this process's samples of the global batch: [part, part_end) */
        int part, part_end;
        partition(count, t->size, t->rank, &part, &part_end);
        step_data data = {.ds = t->train, .indices = t->order + first + part,
                          .host = t->batch_host, .labels = t->labels};
        if (!t->loader && first + count < t->train->n) { /* this process's part of the next */
            int next, next_end;
            partition(step_samples(t, first + count), t->size, t->rank, &next, &next_end);
            data.next = t->order + first + count + next;
            data.next_n = next_end - next;
        }
        governor_next(&t->governor);
        double step_start = omp_get_wtime(); /* waiting for the loader counts too */
        if (t->loader) {
            soma_status loaded = loader_next(t->loader, rs->step, &data.host, &data.labels);
            if (loaded != SOMA_OK) {
                loader_release(t->loader, rs->step);
                return loaded;
            }
            data.ready = 1;
        }
        double lr = schedule_lr(c, rs->global_step, t->steps_per_epoch);
        double loss_sum, grad_sq = NAN;
        long long correct;
        int stop, time_due;
        soma_status st;
        if (t->size > 1) {
            /* what every process must agree on travels with the gradients */
            double sums[4] = {0.0, 0.0, stop_asked(c),
                              t->rank == 0 && checkpoint_time(t, omp_get_wtime())};
            step_dist d = {t->comm, part_end - part, count, part,
                           c->sync_bn ? &t->bn : NULL, c->overlap, sums, 4};
            st = train_step_dist(m, t->opt, (float)lr, &data, rs->seed, rs->global_step, &d);
            loss_sum = sums[0], correct = (long long)sums[1];
            stop = sums[2] > 0.0, time_due = sums[3] > 0.0;
        } else {
            st = train_step(m, t->opt, (float)lr, count, &data, rs->seed, rs->global_step,
                            progress ? &grad_sq : NULL);
            stop = time_due = -1; /* read after the step */
        }
        if (t->loader)
            loader_release(t->loader, rs->step);
        SOMA_TRY(st);
        governor_record(&t->governor, omp_get_wtime() - step_start, part_end - part);
        if (t->governor.threads > 1 && cpu_load_elapsed(&t->load) >= LOAD_INTERVAL)
            governor_set_free(&t->governor, cpu_load_free_since(&t->load));
        if (t->size < 2)
            SOMA_TRY(network_metrics(m, &loss_sum, &correct));
        if (!isfinite(loss_sum))
            return diverged(t, "the loss", rs->step + 1);
        /* the step's gradient, summed over the processes, before the next
         * step overwrites it: only when someone is told (the step of one
         * process counts it itself) */
        if (progress && t->size > 1)
            SOMA_TRY(m->be->sum_squares(m->grads, m->nparams, &grad_sq));
        rs->step++;
        rs->global_step++;
        rs->epoch_loss_sum += loss_sum;
        rs->epoch_correct += correct;
        rs->epoch_seen += count;
        double now = omp_get_wtime();
        /* decided before the report, which says whether a checkpoint follows */
        if (stop < 0)
            stop = stop_asked(c), time_due = checkpoint_time(t, now);
        int saving = stop || checkpoint_due(t, time_due);
        if (progress) {
            soma_progress p = {0};
            p.epoch = rs->epoch + 1, p.epochs = c->epochs;
            p.step = rs->step, p.steps = t->steps_per_epoch;
            p.global_step = rs->global_step;
            p.loss = rs->epoch_loss_sum / rs->epoch_seen;
            p.accuracy = (double)rs->epoch_correct / rs->epoch_seen;
            p.lr = lr;
            p.seconds = now - epoch_start;
            p.images_per_second = epoch_speed(t, p.seconds);
            p.val_loss = p.val_accuracy = NAN;
            p.step_loss = loss_sum / count;
            p.grad_norm = sqrt(grad_sq);
            p.saving = saving;
            progress(&p, user);
        }
        /* a stop asked for during the report (by the callback, say) still
         * ends the run after this step, as soma_request_stop promises */
        if (!stop && t->size < 2 && stop_asked(c))
            stop = 1;
        const char *bad;
        if (stop || saving) {
            SOMA_TRY(average_buffers(t));
            if ((bad = nonfinite_state(t)))
                return diverged(t, bad, rs->step);
            SOMA_TRY(save_last(t));
        }
        if (stop)
            return soma_error(SOMA_ERR_INTERRUPTED, "stopped at epoch %d step %d%s%s",
                              rs->epoch + 1, rs->step, c->out_dir ? "; saved " : "",
                              c->out_dir ? t->path_last : "");
    }
    SOMA_TRY(average_buffers(t)); /* before validation and the checkpoints */
    SOMA_TRY(check_same_weights(t));
    const char *bad = nonfinite_state(t);
    return bad ? diverged(t, bad, rs->step) : SOMA_OK;
}

/* Validation, best-model bookkeeping and the end-of-epoch report. */
static soma_status end_epoch(trainer *t, soma_progress_fn progress, void *user, double seconds,
                             int *stop)
{
    const soma_train_config *c = t->cfg;
    run_state *rs = &t->rs;
    soma_progress p = {0};
    p.epoch = rs->epoch + 1, p.epochs = c->epochs;
    p.step = p.steps = t->steps_per_epoch;
    p.global_step = rs->global_step;
    p.loss = rs->epoch_loss_sum / rs->epoch_seen;
    p.accuracy = (double)rs->epoch_correct / rs->epoch_seen;
    p.lr = schedule_lr(c, rs->global_step - 1, t->steps_per_epoch);
    p.seconds = seconds;
    p.images_per_second = epoch_speed(t, seconds);
    p.epoch_done = 1;
    p.val_loss = p.val_accuracy = NAN;
    p.step_loss = p.grad_norm = NAN;
    p.saving = 1; /* last.safetensors (and best, when improved) */
    if (t->val && t->val->n > 0) {
        SOMA_TRY(evaluate_dataset_comm(t->m, t->val, c->batch, t->comm, &p.val_loss,
                                       &p.val_accuracy));
        SOMA_TRY(network_plan(t->m, t->plan_batch));
    }
    /* without validation, the latest epoch counts as the best; equal accuracy
     * (common on small validation sets) is broken by the lower loss */
    p.improved = isnan(p.val_accuracy) || isnan(rs->best_val_accuracy) ||
                 p.val_accuracy > rs->best_val_accuracy ||
                 (p.val_accuracy == rs->best_val_accuracy &&
                  (isnan(rs->best_val_loss) || p.val_loss < rs->best_val_loss));
    rs->epoch++;
    rs->step = 0;
    rs->seconds += seconds;
    if (p.improved) {
        rs->best_val_accuracy = p.val_accuracy;
        rs->best_val_loss = p.val_loss;
        rs->best_epoch = rs->epoch;
        rs->epochs_since_best = 0;
        SOMA_TRY(keep_best(t));
    } else {
        rs->epochs_since_best++;
    }
    char *profile = t->m->profile ? profile_table(t->m, rs->epoch_seen) : NULL;
    p.profile = profile;
    rs->epoch_loss_sum = 0.0;
    rs->epoch_correct = rs->epoch_seen = 0;
    /* The epoch's report (metrics.csv's row) first, then best, then last: a
     * crash between any two leaves last.safetensors the oldest, and the run
     * resumed from it redoes the others identically. */
    if (progress)
        progress(&p, user);
    soma_status st = SOMA_OK;
    if (p.improved && c->out_dir)
        st = save_checkpoint(t, t->path_best);
    if (st == SOMA_OK)
        st = save_last(t);
    free(profile);
    profile_reset(t->m);
    *stop = c->patience > 0 && t->val && rs->epochs_since_best >= c->patience;
    return st;
}

static void trainer_free(trainer *t)
{
    loader_free(t->loader);
    optimizer_free(t->opt);
    free(t->order);
    free(t->batch_host);
    free(t->labels);
    free(t->rs.best_params);
    free(t->rs.best_buffers);
}

soma_status soma_train(soma_model *m, const soma_dataset *train, const soma_dataset *val,
                       const soma_train_config *cfg, soma_progress_fn progress, void *user,
                       soma_train_result *result)
{
    SOMA_TRY(check_config(cfg, m, train));
    /* this run's thread count, for everything it calls on this thread */
    int threads_before = run_threads_set(cfg->threads ? cfg->threads : soma_threads());
    atomic_fetch_add(&runs_in_progress, 1);
    trainer t = {0};
    t.m = m, t.train = train, t.val = val, t.cfg = cfg;
    t.comm = cfg->comm, t.rank = comm_rank(cfg->comm), t.size = comm_size(cfg->comm);
    t.bn.sum = bn_sum, t.bn.arg = (void *)cfg->comm;
    governor_init(&t.governor, soma_threads());
    int live_before = run_live_set(0);
    m->profile = cfg->profile;
    soma_status st = setup(&t);
    if (t.governor.threads > 1) { /* how busy the cores are, where the kernel says */
        governor_set_free(&t.governor, cpu_load_free_now());
        cpu_load_start(&t.load);
    }
    double run_start = omp_get_wtime(), seconds_before = t.rs.seconds;
    t.last_save = run_start;
    long long images = 0;
    int stop = 0;
    double last_loss = NAN, last_acc = NAN;
    while (st == SOMA_OK && !stop && t.rs.epoch < cfg->epochs) {
        double epoch_start = omp_get_wtime();
        t.seen_at_start = t.rs.epoch_seen;
        st = run_epoch(&t, progress, user, epoch_start);
        loader_end_epoch(t.loader);
        if (st != SOMA_OK)
            break;
        images += t.rs.epoch_seen - t.seen_at_start;
        last_loss = t.rs.epoch_loss_sum / t.rs.epoch_seen;
        last_acc = (double)t.rs.epoch_correct / t.rs.epoch_seen;
        st = end_epoch(&t, progress, user, omp_get_wtime() - epoch_start, &stop);
    }
    if (st == SOMA_OK && val && t.rs.best_epoch > 0 && t.rs.best_epoch != t.rs.epoch)
        st = restore_best(&t);
    if (result) {
        double wall = omp_get_wtime() - run_start;
        result->epochs_run = t.rs.epoch;
        result->best_epoch = t.rs.best_epoch;
        result->best_val_accuracy = t.rs.best_val_accuracy;
        result->best_val_loss = t.rs.best_val_loss;
        result->final_train_loss = last_loss;
        result->final_train_accuracy = last_acc;
        result->seconds = seconds_before + wall;
        result->images_per_second = wall > 0 ? images / wall : 0.0;
        result->stopped_early = stop && t.rs.epoch < cfg->epochs;
        result->threads_running = governor_mean_live(&t.governor);
    }
    trainer_free(&t);
    /* cleared when the last run in progress ends, so that a stop requested
     * before a run began still counts and every run in progress sees it */
    if (atomic_fetch_sub(&runs_in_progress, 1) == 1)
        atomic_store(&stop_requested, 0);
    run_live_set(live_before);
    run_threads_set(threads_before);
    return st;
}

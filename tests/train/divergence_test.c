/*
 * Divergence: training with an absurd learning rate stops with
 * SOMA_ERR_DIVERGED and a message that names the epoch and step where the
 * loss or a weight stopped being finite and suggests a lower learning rate;
 * the checkpoint left in the output directory is the last good one: it
 * loads, every number in it (weights, running statistics, optimizer state)
 * is finite, and the diverged state never overwrote it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "io/atomic_file.h"
#include "nn/checkpoint.h"
#include "io/safetensors.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *model_text =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
    "flatten\nlinear units=16\nrelu\nlinear units=3\n";

static soma_dataset *make_data(int n, uint64_t seed)
{
    return synthetic_patterns(n, seed, 3);
}

/* The last step the progress callback saw: the step after it is the one
 * whose loss was not finite. */
typedef struct seen {
    int epoch, step, steps;
    int finished_epochs;
} seen;

static void record(const soma_progress *p, void *user)
{
    seen *s = user;
    if (p->epoch_done) {
        s->finished_epochs = p->epoch;
        return;
    }
    s->epoch = p->epoch;
    s->step = p->step;
    s->steps = p->steps;
}

typedef struct run {
    soma_status status;
    char message[1024];
    seen progress;
} run;

static run train(const soma_dataset *ds, soma_optimizer_kind kind, float lr, int epochs,
                 int checkpoint_every, const char *out, const char *resume)
{
    run r;
    memset(&r, 0, sizeof r);
    soma_model *m;
    if (soma_model_parse(model_text, "divergence_test", &m) != SOMA_OK) {
        r.status = SOMA_ERR_ARGUMENT;
        return r;
    }
    soma_model_init(m, SOMA_INIT_HE, 3);
    soma_train_config cfg = soma_train_defaults();
    cfg.opt = soma_optimizer_defaults(kind);
    cfg.opt.lr = lr;
    cfg.schedule = SOMA_SCHEDULE_CONST;
    cfg.epochs = epochs;
    cfg.batch = 16;
    cfg.seed = 9;
    cfg.checkpoint_every = checkpoint_every;
    cfg.out_dir = out;
    cfg.resume = resume;
    r.status = soma_train(m, ds, NULL, &cfg, record, &r.progress, NULL);
    snprintf(r.message, sizeof r.message, "%s", soma_last_error());
    soma_model_free(m);
    return r;
}

/* Every float in every F32 tensor of the file. */
static size_t count_nonfinite_in_file(const char *path, size_t *checked)
{
    st_file *f;
    size_t bad = 0;
    *checked = 0;
    if (st_read(path, &f) != SOMA_OK)
        return (size_t)-1;
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor_info *t = st_tensor_at(f, i);
        if (t->dtype != ST_F32)
            continue;
        for (size_t k = 0; k < t->nbytes / 4; k++) {
            float v;
            memcpy(&v, t->data + 4 * k, 4);
            bad += !isfinite(v);
            (*checked)++;
        }
    }
    st_free(f);
    return bad;
}

/* The checkpoint loads as a model and holds only finite numbers. */
static void check_good_checkpoint(const char *path, const char *what)
{
    soma_model *m = NULL;
    soma_status st = checkpoint_load_model(path, &m);
    CHECK_MSG(st == SOMA_OK, "%s: %s does not load: %s", what, path, soma_last_error());
    soma_model_free(m);
    size_t checked, bad = count_nonfinite_in_file(path, &checked);
    CHECK_MSG(bad == 0 && checked > 0, "%s: %zu of %zu numbers in %s are not finite", what, bad,
              checked, path);
}

/* "epoch E step S" with E and S as the progress reports counted them, and
 * a hint to lower the learning rate. */
static void check_message(const run *r, const char *what)
{
    CHECK_MSG(r->status == SOMA_ERR_DIVERGED, "%s: status %s (%s)", what,
              soma_status_name(r->status), r->message);
    CHECK_MSG(!strchr(r->message, '\n'), "%s: message is not one line", what);
    CHECK_MSG(strstr(r->message, "lower learning rate"), "%s: no hint in '%s'", what, r->message);
    /* a non-finite loss stops before its step is reported: it is the next one */
    int loss = strstr(r->message, "the loss") != NULL;
    int epoch = r->progress.epoch, step = r->progress.step + loss;
    if (epoch == 0) { /* no step was reported: the very first one */
        epoch = 1;
        step = 1;
    } else if (loss && r->progress.step == r->progress.steps) { /* first step of the next epoch */
        epoch++;
        step = 1;
    }
    char want[64];
    snprintf(want, sizeof want, "epoch %d step %d", epoch, step);
    CHECK_MSG(strstr(r->message, want), "%s: '%s' does not say '%s'", what, r->message, want);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    uint8_t *bytes = NULL;
    if (read_whole_file(path, (size_t)1 << 30, &bytes, len) != SOMA_OK)
        return NULL;
    return bytes;
}

int main(void)
{
    soma_set_threads(2);
    soma_dataset *ds = make_data(160, 1); /* 10 steps per epoch of 16 */
    CHECK(ds != NULL);
    char dir[] = "/tmp/soma-diverge-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char last[600];
    snprintf(last, sizeof last, "%s/last.safetensors", dir);

    /* SGD at lr 1e6 with a checkpoint after every step: the loss overflows
     * within a few steps; what was written before is good. */
    run r = train(ds, SOMA_OPT_SGD, 1e6f, 3, 1, dir, NULL);
    check_message(&r, "sgd 1e6");
    CHECK_MSG(access(last, F_OK) == 0, "sgd 1e6: no checkpoint before step %d", r.progress.step);
    check_good_checkpoint(last, "sgd 1e6");
    CHECK_MSG(strstr(r.message, last), "sgd 1e6: '%s' does not name %s", r.message, last);

    /* At lr 1e30 the first step diverges: nothing was saved, so the message
     * names no checkpoint and none appears. */
    unlink(last);
    r = train(ds, SOMA_OPT_SGD, 1e30f, 3, 0, dir, NULL);
    check_message(&r, "sgd 1e30");
    CHECK_MSG(access(last, F_OK) != 0, "sgd 1e30: a diverged checkpoint was written");
    CHECK_MSG(!strstr(r.message, "checkpoint"), "sgd 1e30: '%s' names a checkpoint that does not "
              "exist", r.message);

    /* Adam at lr 1e10 with BatchNorm: the weights stay finite (each step is
     * about lr) and BatchNorm keeps the loss finite, but the squared
     * gradients overflow the second-moment state to inf. That is divergence
     * too, and such state must not reach a checkpoint. */
    r = train(ds, SOMA_OPT_ADAM, 1e10f, 3, 1, dir, NULL);
    check_message(&r, "adam 1e10");
    if (access(last, F_OK) == 0)
        check_good_checkpoint(last, "adam 1e10");

    /* A sane first epoch, then the run resumed at lr 1e6: it diverges in
     * epoch 2, and the epoch-1 checkpoint is left exactly as it was. */
    unlink(last);
    r = train(ds, SOMA_OPT_MOMENTUM, 0.01f, 1, 0, dir, NULL);
    CHECK_MSG(r.status == SOMA_OK, "sane epoch: %s", r.message);
    check_good_checkpoint(last, "after a sane epoch");
    size_t before_len = 0, after_len = 0;
    uint8_t *before = read_all(last, &before_len);
    r = train(ds, SOMA_OPT_MOMENTUM, 1e6f, 5, 0, dir, last);
    check_message(&r, "resumed at 1e6");
    CHECK_MSG(r.progress.epoch == 2, "diverged in epoch %d, expected 2", r.progress.epoch);
    uint8_t *after = read_all(last, &after_len);
    CHECK_MSG(before && after && before_len == after_len &&
                  memcmp(before, after, before_len) == 0,
              "the diverged run changed %s", last);
    check_good_checkpoint(last, "after the divergence");
    free(before);
    free(after);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    soma_dataset_free(ds);
    return check_finish("divergence");
}

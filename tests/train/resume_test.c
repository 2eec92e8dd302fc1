/*
 * Reproducibility: the same seed and threads give bit-identical weights; a
 * run stopped (at an epoch boundary or mid-epoch) and resumed from its
 * checkpoint ends bit-identical to the run that was never stopped. Both with
 * batch normalisation (steps run whole) and without (two threads split each
 * step into slices, the last batch of an epoch too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "nn/network.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *with_bn =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
    "flatten\nlinear units=16\nrelu\ndropout p=0.25\nlinear units=3\n";
static const char *without_bn =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 pad=1\nrelu\nmaxpool size=2\n"
    "flatten\nlinear units=16\nrelu\ndropout p=0.25\nlinear units=3\n";
static const char *model_text; /* the one being tested */
static const char *augment;    /* the augmentation spec of the runs, or NULL */
static float *last_batch;      /* a copy of the last batch a run trained on (its first 8 samples) */

static soma_dataset *make_data(int n, uint64_t seed)
{
    return synthetic_patterns(n, seed, 2);
}

typedef struct stopper { long long stop_at; } stopper;

static void stop_at_step(const soma_progress *p, void *user)
{
    stopper *s = user;
    if (!p->epoch_done && p->global_step == s->stop_at)
        soma_request_stop();
}

/* Trains from scratch (or resumes) and returns a copy of the weights. */
static float *train(const soma_dataset *tr, const soma_dataset *val, soma_schedule schedule,
                    soma_optimizer_kind opt, const char *out, const char *resume,
                    long long stop_at, soma_status *status, size_t *n)
{
    soma_model *m;
    if (soma_model_parse(model_text, "resume_test", &m) != SOMA_OK)
        return NULL;
    soma_model_init(m, SOMA_INIT_HE, 5);
    soma_train_config cfg = soma_train_defaults();
    cfg.opt = soma_optimizer_defaults(opt);
    cfg.schedule = schedule;
    cfg.epochs = 3;
    cfg.batch = 32;
    cfg.seed = 77;
    cfg.out_dir = out;
    cfg.resume = resume;
    cfg.augment = augment;
    stopper s = {stop_at};
    *status = soma_train(m, tr, val, &cfg, stop_at ? stop_at_step : NULL, &s, NULL);
    /* the CPU backend's input buffer is host memory: without validation, the
     * epoch's last batch (8 samples) is still there */
    free(last_batch);
    last_batch = calloc(8 * 64, sizeof(float));
    if (m->input_buf)
        memcpy(last_batch, m->input_buf, sizeof(float) * 8 * 64);
    *n = m->nparams + m->nbuffers;
    float *w = malloc(sizeof(float) * *n);
    memcpy(w, m->params, sizeof(float) * m->nparams);
    memcpy(w + m->nparams, m->buffers, sizeof(float) * m->nbuffers);
    soma_model_free(m);
    return w;
}

static void check_resume(const soma_dataset *tr, const soma_dataset *val, soma_schedule sched,
                         soma_optimizer_kind opt, long long stop_at, const char *dir)
{
    char path[512];
    soma_status st;
    size_t n1, n2;
    float *full = train(tr, val, sched, opt, NULL, NULL, 0, &st, &n1);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    float *part = train(tr, val, sched, opt, dir, NULL, stop_at, &st, &n2);
    CHECK_MSG(st == SOMA_ERR_INTERRUPTED, "stop at %lld: %s", stop_at, soma_last_error());
    free(part);
    snprintf(path, sizeof path, "%s/last.safetensors", dir);
    float *resumed = train(tr, val, sched, opt, dir, path, 0, &st, &n2);
    CHECK_MSG(st == SOMA_OK, "resume: %s", soma_last_error());
    CHECK(n1 == n2);
    CHECK_MSG(memcmp(full, resumed, sizeof(float) * n1) == 0,
              "resumed at step %lld (%s, %s) differs from the uninterrupted run", stop_at,
              soma_optimizer_name(opt), sched == SOMA_SCHEDULE_COSINE ? "cosine" : "const");
    free(full);
    free(resumed);
}

int main(void)
{
    soma_set_threads(2);
    model_text = with_bn;
    soma_dataset *tr = make_data(200, 1), *val = make_data(64, 2);
    CHECK(tr && val);
    char dir[] = "/tmp/soma-resume-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);

    /* same seed twice: identical; the model actually learned something */
    soma_status st;
    size_t n;
    float *a = train(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n);
    float *b = train(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n);
    CHECK(memcmp(a, b, sizeof(float) * n) == 0);
    free(a), free(b);

    /* 7 steps per epoch: stop at the boundary after epoch 1, and mid-epoch 2 */
    check_resume(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, 7, dir);
    check_resume(tr, val, SOMA_SCHEDULE_COSINE, SOMA_OPT_MOMENTUM, 10, dir);
    check_resume(tr, val, SOMA_SCHEDULE_COSINE, SOMA_OPT_RMSPROP, 16, dir);

    /* sliced steps: batches of 32 and the epoch's last of 8 in two slices */
    model_text = without_bn;
    soma_model *probe;
    CHECK(soma_model_parse(model_text, "resume_test", &probe) == SOMA_OK);
    CHECK(network_plan(probe, 32) == SOMA_OK);
    CHECK(network_slices(probe, 32) == 2 && network_slices(probe, 8) == 2);
    soma_model_free(probe);
    check_resume(tr, val, SOMA_SCHEDULE_COSINE, SOMA_OPT_ADAMW, 10, dir);

    /* augmented runs: the batches come from the background loader, keyed by
     * (seed, epoch, sample); stopped and resumed they stay bit-identical */
    float *plain = train(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n);
    augment = "shift=1,rotate=15,elastic=8:2,noise=0.05,flip,p=0.8";
    check_resume(tr, val, SOMA_SCHEDULE_COSINE, SOMA_OPT_ADAMW, 10, dir);
    model_text = with_bn;
    check_resume(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, 7, dir);
    check_resume(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, 11, dir);
    /* augmentation changed what was learned */
    model_text = without_bn;
    float *augmented = train(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n);
    CHECK(st == SOMA_OK && memcmp(plain, augmented, sizeof(float) * n) != 0);
    free(plain), free(augmented);
    /* the same augmented batch bytes with one thread (whole steps) as with two (slices) */
    float batch2[8 * 64];
    free(train(tr, NULL, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n));
    memcpy(batch2, last_batch, sizeof batch2);
    soma_set_threads(1);
    free(train(tr, NULL, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n));
    CHECK(st == SOMA_OK && memcmp(batch2, last_batch, sizeof batch2) == 0);
    augment = NULL;
    free(train(tr, NULL, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n));
    CHECK(st == SOMA_OK && memcmp(batch2, last_batch, sizeof batch2) != 0);
    /* a bad spec is refused before anything runs, with its column */
    augment = "shift=2,rotat=10";
    free(train(tr, val, SOMA_SCHEDULE_CONST, SOMA_OPT_ADAM, NULL, NULL, 0, &st, &n));
    CHECK(st == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strcmp(soma_last_error(), "augment: 1:9: unknown transform 'rotat' (did you mean "
                                        "'rotate'?)") == 0, "%s", soma_last_error());
    augment = NULL;
    free(last_batch);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    soma_dataset_free(tr);
    soma_dataset_free(val);
    return check_finish("resume");
}

/* What training needs, stated before it is allocated: the estimate against
 * what network_plan and the optimizer really allocate (through a backend
 * that counts), the refusal's message, and soma_train refusing a run that
 * cannot fit before it allocates anything. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nn/network.h"
#include "optim/optimizer.h"
#include "support/check.h"
#include "support/synthetic.h"
#include "train/memory.h"

static size_t counted; /* bytes asked of the backend */
static void *counting_alloc(size_t bytes)
{
    counted += bytes;
    return soma_cpu_backend.alloc(bytes);
}
static soma_backend counting;

static const char *const with_bn = "input channels=1 height=8 width=8\n"
                                   "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
                                   "flatten\nlinear units=16\nrelu\ndropout p=0.5\nlinear units=3\n";
static const char *const without_bn = "input channels=1 height=8 width=8\n"
                                      "conv2d filters=4 size=3\nrelu\nflatten\nlinear units=3\n";

/* Plans `text` for `batch` on `threads` through the counting backend and
 * compares each part with the estimate. */
static void check_estimate(const char *text, soma_optimizer_kind kind, int batch, int threads)
{
    soma_set_threads(threads);
    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "m.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    m->be = &counting;
    soma_train_config c = soma_train_defaults();
    c.opt = soma_optimizer_defaults(kind);
    c.batch = batch;
    soma_memory_estimate e;
    CHECK(soma_train_memory_estimate(m, &c, &e) == SOMA_OK);
    size_t f = sizeof(float), weights = m->nparams + m->nbuffers;
    size_t host_batch = 64 * (size_t)batch * f; /* the trainer's copy of a batch, 1x8x8 */
    CHECK(e.parameters == weights * f);
    CHECK(e.best == weights * f);
    CHECK(e.checkpoint == 0); /* no out_dir, no resume */

    counted = 0;
    CHECK(network_plan(m, batch) == SOMA_OK);
    size_t planned = e.parameters + e.gradients + e.activations - host_batch + e.workspace;
    CHECK_MSG(counted == planned, "threads %d batch %d: the plan allocated %zu bytes, the "
              "estimate says %zu", threads, batch, counted, planned);
    CHECK(e.gradients == (size_t)network_slices(m, batch) * m->nparams * f);

    counted = 0;
    optimizer *opt = NULL;
    CHECK(optimizer_create(m->be, &c.opt, m->nparams, &opt) == SOMA_OK);
    CHECK_MSG(counted == e.optimizer, "%s: %zu bytes of state, the estimate says %zu",
              soma_optimizer_name(kind), counted, e.optimizer);
    optimizer_free(opt);

    c.out_dir = "runs"; /* checkpoints: a copy of weights, state and best weights */
    CHECK(soma_train_memory_estimate(m, &c, &e) == SOMA_OK);
    CHECK(e.checkpoint >= 2 * e.parameters + e.optimizer);
    CHECK(e.total == e.parameters + e.gradients + e.optimizer + e.activations + e.workspace +
                         e.best + e.checkpoint);
    soma_model_free(m);
}

static void test_estimate_is_what_is_allocated(void)
{
    counting = soma_cpu_backend;
    counting.alloc = counting_alloc;
    check_estimate(with_bn, SOMA_OPT_ADAMW, 32, 1);
    check_estimate(with_bn, SOMA_OPT_MOMENTUM, 7, 2);
    check_estimate(without_bn, SOMA_OPT_SGD, 32, 3); /* split into 3 slices */
    check_estimate(without_bn, SOMA_OPT_RMSPROP, 5, 3);
    soma_set_threads(1);
}

static void test_message(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(without_bn, "m.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    soma_train_config c = soma_train_defaults();
    soma_memory_estimate e = {.parameters = (size_t)3 << 30,
                              .gradients = (size_t)3 << 30,
                              .optimizer = (size_t)6 << 30,
                              .activations = (size_t)12 << 20,
                              .best = (size_t)3 << 30,
                              .available = (size_t)51 << 27,
                              .limit = "ulimit -v"};
    e.total = e.parameters + e.gradients + e.optimizer + e.activations + e.best;
    CHECK(memory_refusal(m, &c, &e) == SOMA_ERR_MEMORY);
    const char *want = "m.cfg: training with batch 32 needs about 15.0 GiB (parameters 3.0 GiB, "
                       "gradients 3.0 GiB, adamw state 6.0 GiB, activations 12 MiB, best weights "
                       "3.0 GiB), but 6.4 GiB is available (ulimit -v)";
    CHECK_MSG(strcmp(soma_last_error(), want) == 0, "got '%s'", soma_last_error());
    CHECK(soma_train_memory_check(m, &c) == SOMA_OK); /* a few KiB */
    c.batch = 0;
    CHECK(soma_train_memory_estimate(m, &c, &e) == SOMA_ERR_ARGUMENT);
    soma_model_free(m);
}

/* 60 planes of 2052 x 2052 per sample: 185 TiB of activations at batch
 * 65536, which no machine has. soma_train says so before it allocates. */
static void test_train_refuses_first(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse("input channels=1 height=8 width=8\n"
                           "conv2d filters=60 size=1 pad=1020\nmaxpool size=1024\n"
                           "flatten\nlinear units=3\n",
                           "huge.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    soma_dataset *ds = synthetic_patterns(40, 1, 0);
    soma_train_config c = soma_train_defaults();
    c.batch = 65536;
    c.epochs = 1;
    soma_status st = soma_train(m, ds, NULL, &c, NULL, NULL, NULL);
    CHECK_MSG(st == SOMA_ERR_MEMORY, "status %d: %s", (int)st, soma_last_error());
    CHECK_MSG(strncmp(soma_last_error(), "huge.cfg: training with batch 65536 needs about ", 48) == 0 &&
                  strstr(soma_last_error(), " TiB, ") && strstr(soma_last_error(), " is available ("),
              "%s", soma_last_error());
    CHECK(m->params == NULL && m->grads == NULL && m->planned_batch == 0);
    soma_dataset_free(ds);
    soma_model_free(m);
}

int main(void)
{
    test_estimate_is_what_is_allocated();
    test_message();
    test_train_refuses_first();
    return check_finish("memory_test");
}

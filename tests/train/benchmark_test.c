/* soma_benchmark leaves the caller's model as it was: training steps run on
 * its weights and BatchNorm statistics and are undone; it refuses a batch
 * above SOMA_MAX_BATCH and missing arguments with a status. soma_benchmark_run
 * times for as long as asked (or exactly the steps asked), its spread is
 * ordered, its GFLOP/s is soma_model_flops' count (model_flops_test) at the
 * median. */
#include <math.h>
#include <string.h>

#include "nn/network.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *const text = "input channels=1 height=8 width=8\n"
                                "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\n"
                                "maxpool size=2\nflatten\nlinear units=3\n";

static void test_weights_unchanged(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "bench.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK(soma_model_init(m, SOMA_INIT_HE, 4) == SOMA_OK);
    size_t np = m->nparams, nb = m->nbuffers;
    float before[512];
    CHECK(np + nb <= 512);
    memcpy(before, m->params, sizeof(float) * np);
    memcpy(before + np, m->buffers, sizeof(float) * nb);
    double ips = 0;
    CHECK_MSG(soma_benchmark(m, 8, 1, 1, 3, &ips) == SOMA_OK, "%s", soma_last_error());
    CHECK(ips > 0);
    CHECK(memcmp(before, m->params, sizeof(float) * np) == 0);
    CHECK(memcmp(before + np, m->buffers, sizeof(float) * nb) == 0);
    CHECK(soma_benchmark(m, 8, 0, 1, 3, &ips) == SOMA_OK && ips > 0);
    CHECK(memcmp(before, m->params, sizeof(float) * np) == 0);

    CHECK(soma_benchmark(m, SOMA_MAX_BATCH + 1, 0, 0, 1, &ips) == SOMA_ERR_ARGUMENT);
    CHECK(soma_benchmark(m, 0, 0, 0, 1, &ips) == SOMA_ERR_ARGUMENT);
    CHECK(soma_benchmark(m, 8, 0, 0, 1, NULL) == SOMA_ERR_ARGUMENT);
    CHECK(soma_benchmark(NULL, 8, 0, 0, 1, &ips) == SOMA_ERR_ARGUMENT);
    soma_model_free(m);
}

/* SOMA_MAX_BATCH is the limit of every function that takes a batch */
static void test_max_batch(void)
{
    soma_model *m = NULL;
    soma_dataset *ds = synthetic_patterns(16, 1, 0);
    CHECK(soma_model_parse(text, "bench.cfg", &m) == SOMA_OK);
    if (!m || !ds)
        goto done;
    soma_model_set_normalization(m, 0.5f, 0.25f);
    double loss, acc;
    CHECK(soma_evaluate(m, ds, SOMA_MAX_BATCH + 1, &loss, &acc) == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "batch must be in 1..65536, got 65537"), "%s",
              soma_last_error());
    CHECK(soma_evaluate(m, ds, SOMA_MAX_BATCH, &loss, &acc) == SOMA_OK);
    soma_train_config cfg = soma_train_defaults();
    cfg.batch = SOMA_MAX_BATCH + 1;
    CHECK(soma_train(m, ds, NULL, &cfg, NULL, NULL, NULL) == SOMA_ERR_ARGUMENT);
    soma_memory_estimate e;
    CHECK(soma_train_memory_estimate(m, &cfg, &e) == SOMA_ERR_ARGUMENT);
done:
    soma_model_free(m);
    soma_dataset_free(ds);
}

static void test_benchmark_run(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "bench.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK(soma_model_init(m, SOMA_INIT_HE, 4) == SOMA_OK);
    soma_benchmark_result r;
    /* for a time: at least that long warming up and timing */
    soma_benchmark_config c = {.batch = 4, .training = 1, .warmup_steps = 1,
                               .warmup_seconds = 0.05, .seconds = 0.05};
    CHECK_MSG(soma_benchmark_run(m, &c, &r) == SOMA_OK, "%s", soma_last_error());
    CHECK_MSG(r.seconds >= 0.05 && r.steps >= 5 && r.warmup_steps >= 1,
              "timed %d steps in %g s after %d warm-up steps", r.steps, r.seconds,
              r.warmup_steps);
    CHECK(r.min_images_per_second > 0);
    CHECK_MSG(r.min_images_per_second <= r.q1_images_per_second &&
                  r.q1_images_per_second <= r.images_per_second &&
                  r.images_per_second <= r.q3_images_per_second &&
                  r.q3_images_per_second <= r.max_images_per_second,
              "spread out of order: %g %g %g %g %g", r.min_images_per_second,
              r.q1_images_per_second, r.images_per_second, r.q3_images_per_second,
              r.max_images_per_second);
    CHECK(r.flops_per_image == soma_model_flops(m, 1));
    CHECK(fabs(r.gflops_per_second - r.flops_per_image * r.images_per_second * 1e-9) <=
          1e-12 * r.gflops_per_second);
    /* a count of steps: exactly that many, whatever the time */
    c = (soma_benchmark_config){.batch = 4, .warmup_steps = 2, .steps = 3, .seconds = 100};
    CHECK(soma_benchmark_run(m, &c, &r) == SOMA_OK);
    CHECK_MSG(r.steps == 3 && r.warmup_steps == 2, "%d steps, %d warm-up", r.steps,
              r.warmup_steps);
    CHECK(r.flops_per_image == soma_model_flops(m, 0));
    /* out of range */
    c.seconds = -1;
    CHECK(soma_benchmark_run(m, &c, &r) == SOMA_ERR_ARGUMENT);
    c.seconds = NAN;
    CHECK(soma_benchmark_run(m, &c, &r) == SOMA_ERR_ARGUMENT);
    c = (soma_benchmark_config){.batch = 0, .steps = 1};
    CHECK(soma_benchmark_run(m, &c, &r) == SOMA_ERR_ARGUMENT);
    c.batch = 1, c.steps = -1;
    CHECK(soma_benchmark_run(m, &c, &r) == SOMA_ERR_ARGUMENT);
    CHECK(soma_benchmark_run(m, NULL, &r) == SOMA_ERR_ARGUMENT);
    CHECK(soma_benchmark_run(m, &c, NULL) == SOMA_ERR_ARGUMENT);
    soma_model_free(m);
}

int main(void)
{
    soma_set_threads(2);
    test_weights_unchanged();
    test_max_batch();
    test_benchmark_run();
    return check_finish("benchmark_test");
}

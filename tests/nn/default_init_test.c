/* A model opened and never given soma_model_init is initialised all the same
 * (He, seed 1), as in PyTorch: it trains exactly like one initialised
 * explicitly with He and seed 1, not from zeros; opening it allocates
 * nothing; saving it saves those weights; and soma_model_init re-initialises. */
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *const text = "input channels=1 height=8 width=8\n"
                                "conv2d filters=4 size=3 pad=1\nbatchnorm\nrelu\n"
                                "maxpool size=2\nflatten\nlinear units=3\n";

static soma_model *open_model(void)
{
    soma_model *m = NULL;
    CHECK_MSG(soma_model_parse(text, "default.cfg", &m) == SOMA_OK, "%s", soma_last_error());
    return m;
}

static double train(soma_model *m, const soma_dataset *ds)
{
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 2;
    cfg.batch = 8;
    cfg.seed = 5;
    soma_train_result res = {0};
    CHECK_MSG(soma_train(m, ds, NULL, &cfg, NULL, NULL, &res) == SOMA_OK, "%s",
              soma_last_error());
    return res.final_train_loss;
}

static int same_weights(const soma_model *a, const soma_model *b)
{
    return a->params && b->params && a->nparams == b->nparams &&
           memcmp(a->params, b->params, sizeof(float) * a->nparams) == 0 &&
           memcmp(a->buffers, b->buffers, sizeof(float) * a->nbuffers) == 0;
}

static void test_trains_like_he_seed_1(void)
{
    soma_dataset *ds = synthetic_patterns(64, 11, 0);
    soma_model *implicit = open_model(), *explicit_he = open_model(), *other = open_model();
    if (!ds || !implicit || !explicit_he || !other)
        goto done;
    CHECK(implicit->params == NULL); /* opening allocates no weights */
    CHECK(soma_model_init(explicit_he, SOMA_INIT_HE, 1) == SOMA_OK);
    CHECK(soma_model_init(other, SOMA_INIT_HE, 2) == SOMA_OK);
    double loss_implicit = train(implicit, ds), loss_explicit = train(explicit_he, ds);
    double loss_other = train(other, ds);
    CHECK(loss_implicit == loss_explicit && same_weights(implicit, explicit_he));
    CHECK(loss_implicit != loss_other && !same_weights(implicit, other));
done:
    soma_model_free(implicit), soma_model_free(explicit_he), soma_model_free(other);
    soma_dataset_free(ds);
}

static void test_not_zeros_and_reinit(void)
{
    soma_model *m = open_model(), *he1 = open_model();
    if (!m || !he1)
        goto done;
    float x[64] = {0}, p[3];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i % 7) - 3.0f;
    CHECK(soma_model_predict(m, x, 1, p) == SOMA_OK); /* first use: He, seed 1 */
    CHECK(soma_model_init(he1, SOMA_INIT_HE, 1) == SOMA_OK);
    CHECK(same_weights(m, he1));
    size_t zeros = 0;
    for (size_t i = 0; i < m->nparams; i++)
        zeros += m->params[i] == 0.0f;
    CHECK(zeros < m->nparams / 2); /* biases and beta are 0; the weights are not */
    CHECK(soma_model_init(m, SOMA_INIT_XAVIER, 1) == SOMA_OK && !same_weights(m, he1));
done:
    soma_model_free(m), soma_model_free(he1);
}

static void test_save_without_init(void)
{
    const char *path = "default_init_test.tmp.safetensors";
    soma_model *m = open_model(), *loaded = NULL, *he1 = open_model();
    if (!m || !he1)
        goto done;
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK_MSG(soma_checkpoint_save_model(path, m) == SOMA_OK, "%s", soma_last_error());
    CHECK(soma_checkpoint_load_model(path, &loaded) == SOMA_OK);
    CHECK(soma_model_init(he1, SOMA_INIT_HE, 1) == SOMA_OK);
    CHECK(loaded && same_weights(loaded, he1));
done:
    remove(path);
    soma_model_free(m), soma_model_free(loaded), soma_model_free(he1);
}

int main(void)
{
    soma_set_threads(2);
    test_trains_like_he_seed_1();
    test_not_zeros_and_reinit();
    test_save_without_init();
    return check_finish("default_init_test");
}

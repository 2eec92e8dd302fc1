/* A model built in code is the model its text gives: the same text, summary,
 * parameter count and training result for the same seed; and a bad value
 * is an error naming the layer by its index, at the call and again at
 * finish, never a crash or a model without the layer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "soma.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *const lenet5_text =
    "input channels=1 height=28 width=28\n"
    "conv2d filters=6 size=5 stride=1 pad=2\n"
    "relu\n"
    "maxpool size=2 stride=2 pad=0\n"
    "conv2d filters=16 size=5 stride=1 pad=0\n"
    "relu\n"
    "maxpool size=2 stride=2 pad=0\n"
    "flatten\n"
    "linear units=120\n"
    "relu\n"
    "linear units=84\n"
    "relu\n"
    "linear units=10\n";

static soma_model *lenet5_in_code(const char *name)
{
    soma_model_builder *b = NULL;
    soma_model *m = NULL;
    CHECK(soma_model_builder_create(name, 1, 28, 28, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 6, 5, 1, 2) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_maxpool(b, 2, 2, 0) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 16, 5, 1, 0) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_maxpool(b, 2, 2, 0) == SOMA_OK);
    CHECK(soma_model_builder_flatten(b) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 120) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 84) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 10) == SOMA_OK);
    CHECK_MSG(strcmp(soma_model_builder_text(b), lenet5_text) == 0, "%s",
              soma_model_builder_text(b));
    CHECK_MSG(soma_model_builder_finish(b, &m) == SOMA_OK, "%s", soma_last_error());
    soma_model_builder_free(b);
    return m;
}

static void test_lenet5_equals_zoo(void)
{
    soma_model *code = lenet5_in_code("lenet5"), *zoo = NULL, *text = NULL;
    CHECK(soma_model_open("lenet5", &zoo) == SOMA_OK);
    CHECK(soma_model_parse(lenet5_text, "lenet5", &text) == SOMA_OK);
    if (code && zoo && text) {
        CHECK(soma_model_param_count(code) == 61706);
        CHECK(soma_model_param_count(code) == soma_model_param_count(zoo));
        char *a = soma_model_summary(code), *b = soma_model_summary(text),
             *c = soma_model_summary(zoo);
        CHECK(a && b && strcmp(a, b) == 0);
        /* the zoo's source name is models/lenet5.cfg: the table below it is the same */
        CHECK(a && c && strcmp(strchr(a, '\n'), strchr(c, '\n')) == 0);
        free(a), free(b), free(c);
        CHECK(strcmp(soma_model_text(code), lenet5_text) == 0);
    }
    soma_model_free(code), soma_model_free(zoo), soma_model_free(text);
}

/* Every layer kind on the 1x8x8 synthetic patterns. */
static const char *const all_kinds_text =
    "input channels=1 height=8 width=8\n"
    "conv2d filters=4 size=3 stride=1 pad=1\n"
    "batchnorm\n"
    "relu\n"
    "lrn size=3 alpha=0.01 beta=0.75 k=2\n"
    "maxpool size=2 stride=2 pad=0\n"
    "conv2d filters=6 size=3 stride=1 pad=1 groups=2\n"
    "tanh\n"
    "avgpool size=2 stride=1 pad=1\n"
    "flatten\n"
    "dropout p=0.25\n"
    "linear units=16\n"
    "batchnorm eps=0.001 momentum=0.2\n"
    "sigmoid\n"
    "linear units=3\n";

static soma_model *all_kinds_in_code(void)
{
    soma_model_builder *b = NULL;
    soma_model *m = NULL;
    CHECK(soma_model_builder_create("all", 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 4, 3, 1, 1) == SOMA_OK);
    CHECK(soma_model_builder_batchnorm(b) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_lrn(b, 3, 0.01f, 0.75f, 2.0f) == SOMA_OK);
    CHECK(soma_model_builder_maxpool(b, 2, 2, 0) == SOMA_OK);
    CHECK(soma_model_builder_conv2d_grouped(b, 6, 3, 1, 1, 2) == SOMA_OK);
    CHECK(soma_model_builder_tanh(b) == SOMA_OK);
    CHECK(soma_model_builder_avgpool(b, 2, 1, 1) == SOMA_OK);
    CHECK(soma_model_builder_flatten(b) == SOMA_OK);
    CHECK(soma_model_builder_dropout(b, 0.25f) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 16) == SOMA_OK);
    CHECK(soma_model_builder_batchnorm_ex(b, 1e-3f, 0.2f) == SOMA_OK);
    CHECK(soma_model_builder_sigmoid(b) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 3) == SOMA_OK);
    CHECK_MSG(strcmp(soma_model_builder_text(b), all_kinds_text) == 0, "%s",
              soma_model_builder_text(b));
    CHECK_MSG(soma_model_builder_finish(b, &m) == SOMA_OK, "%s", soma_last_error());
    soma_model_builder_free(b);
    return m;
}

/* Trains for two epochs with seed 7 and returns the probabilities on the set. */
static float *train_and_predict(soma_model *m, const soma_dataset *ds, double *loss)
{
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 2;
    cfg.batch = 8;
    cfg.seed = 7;
    soma_train_result res;
    CHECK_MSG(soma_train(m, ds, NULL, &cfg, NULL, NULL, &res) == SOMA_OK, "%s",
              soma_last_error());
    *loss = res.final_train_loss;
    int n = soma_dataset_count(ds);
    float mean, std;
    soma_model_normalization(m, &mean, &std);
    float *x = malloc(sizeof(float) * 64 * (size_t)n), *p = malloc(sizeof(float) * 3 * (size_t)n);
    if (!x || !p) {
        free(x), free(p);
        return NULL;
    }
    CHECK(soma_dataset_get(ds, 0, n, mean, std, x) == SOMA_OK);
    CHECK(soma_model_predict(m, x, n, p) == SOMA_OK);
    free(x);
    return p;
}

static void test_trains_like_text(void)
{
    soma_dataset *ds = synthetic_patterns(64, 3, 0);
    soma_model *code = all_kinds_in_code(), *text = NULL;
    CHECK(soma_model_parse(all_kinds_text, "all", &text) == SOMA_OK);
    if (!ds || !code || !text) {
        soma_model_free(code), soma_model_free(text), soma_dataset_free(ds);
        return;
    }
    char *a = soma_model_summary(code), *b = soma_model_summary(text);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a), free(b);
    CHECK(soma_model_param_count(code) == soma_model_param_count(text));
    double loss_code = 0, loss_text = 1;
    float *p_code = train_and_predict(code, ds, &loss_code);
    float *p_text = train_and_predict(text, ds, &loss_text);
    CHECK(isfinite(loss_code) && loss_code == loss_text);
    CHECK(p_code && p_text && memcmp(p_code, p_text, sizeof(float) * 3 * 64) == 0);
    free(p_code), free(p_text);
    soma_model_free(code), soma_model_free(text), soma_dataset_free(ds);
}

static int has(const char *needle)
{
    return strstr(soma_last_error(), needle) != NULL;
}

static void test_errors_name_the_layer(void)
{
    soma_model_builder *b = NULL;
    soma_model *m = (soma_model *)&b; /* finish must set it to NULL */

    CHECK(soma_model_builder_create("net", 0, 28, 28, &b) == SOMA_ERR_FORMAT && b == NULL);
    CHECK_MSG(has("net: input: 'channels' must be between 1 and 65536, got 0"), "%s",
              soma_last_error());
    CHECK(soma_model_builder_create("net", 1, 28, 28, NULL) == SOMA_ERR_ARGUMENT);

    CHECK(soma_model_builder_create(NULL, 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 0, 3, 1, 0) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("model: layer 1: conv2d: 'filters' must be between 1 and 65536, got 0"), "%s",
              soma_last_error());
    /* sticky: a later call and finish report it again; no model comes out */
    CHECK(soma_model_builder_flatten(b) == SOMA_ERR_FORMAT && has("layer 1: conv2d"));
    CHECK(soma_model_builder_finish(b, &m) == SOMA_ERR_FORMAT && m == NULL);
    CHECK(has("layer 1: conv2d: 'filters'"));
    CHECK(strcmp(soma_model_builder_text(b), "input channels=1 height=8 width=8\nrelu\n") == 0);
    soma_model_builder_free(b);

    /* shapes: the window does not fit; a value that is not a number */
    CHECK(soma_model_builder_create("net", 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 2, 9, 1, 0) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: conv2d: "), "%s", soma_last_error());
    soma_model_builder_free(b);
    CHECK(soma_model_builder_create("net", 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_dropout(b, NAN) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: dropout: 'p' must be a number, got 'nan'"), "%s",
              soma_last_error());
    soma_model_builder_free(b);
    CHECK(soma_model_builder_create("net", 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_dropout(b, 1.0f) == SOMA_ERR_FORMAT && has("layer 0: dropout"));
    soma_model_builder_free(b);

    /* groups that do not divide the channels or the filters; an LRN with k = 0 */
    CHECK(soma_model_builder_create("net", 3, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d_grouped(b, 4, 3, 1, 1, 2) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: conv2d: groups=2 does not divide the 3 input channels"), "%s",
              soma_last_error());
    soma_model_builder_free(b);
    CHECK(soma_model_builder_create("net", 4, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d_grouped(b, 6, 3, 1, 1, 4) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: conv2d: groups=4 does not divide the 6 filters"), "%s",
              soma_last_error());
    soma_model_builder_free(b);
    CHECK(soma_model_builder_create("net", 4, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_lrn(b, 5, 1e-4f, 0.75f, 0.0f) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: lrn: 'k' must be between"), "%s", soma_last_error());
    soma_model_builder_free(b);

    /* an output of more than 2^28 values (its message read the freed layer once) */
    CHECK(soma_model_builder_create("net", 1, 100, 100, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 65536, 1, 1, 0) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: conv2d: output of 65536x100x100 is empty or too large"), "%s",
              soma_last_error());
    soma_model_builder_free(b);

    /* fans beyond int (undefined behaviour once) */
    CHECK(soma_model_builder_create("net", 1, 1024, 1024, &b) == SOMA_OK);
    CHECK(soma_model_builder_conv2d(b, 2052, 1024, 1, 0) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("net: layer 0: conv2d: 2052 filters of 1x1024x1024 are too many weights"),
              "%s", soma_last_error());
    soma_model_builder_free(b);

    /* finish: no layers; a last layer that gives no class scores */
    CHECK(soma_model_builder_create("net", 1, 8, 8, &b) == SOMA_OK);
    CHECK(soma_model_builder_finish(b, &m) == SOMA_ERR_ARGUMENT && m == NULL);
    CHECK(has("net: the model has no layers"));
    CHECK(soma_model_builder_conv2d(b, 2, 3, 1, 0) == SOMA_OK);
    CHECK(soma_model_builder_finish(b, &m) == SOMA_ERR_FORMAT && m == NULL);
    CHECK_MSG(has("net: layer 0: conv2d: the last layer must give a flat vector"), "%s",
              soma_last_error());
    /* not sticky: the model can still be completed */
    CHECK(soma_model_builder_flatten(b) == SOMA_OK);
    CHECK(soma_model_builder_linear(b, 2) == SOMA_OK);
    CHECK(soma_model_builder_finish(b, &m) == SOMA_OK && m != NULL);
    soma_model_free(m);
    soma_model_builder_free(b);

    /* no builder */
    CHECK(soma_model_builder_relu(NULL) == SOMA_ERR_ARGUMENT);
    CHECK(has("soma_model_builder_relu: no builder"));
    CHECK(soma_model_builder_finish(NULL, &m) == SOMA_ERR_ARGUMENT && m == NULL);
    CHECK(soma_model_builder_finish(NULL, NULL) == SOMA_ERR_ARGUMENT);
    CHECK(strcmp(soma_model_builder_text(NULL), "") == 0);
    soma_model_builder_free(NULL);
}

/* SOMA_MAX_LAYERS layers and no more, the next refused by its index */
static void test_layer_limit(void)
{
    soma_model_builder *b = NULL;
    soma_model *m = NULL;
    CHECK(soma_model_builder_create("deep", 2, 1, 1, &b) == SOMA_OK);
    int ok = 1;
    for (int i = 0; i < SOMA_MAX_LAYERS - 1; i++)
        ok &= soma_model_builder_relu(b) == SOMA_OK;
    CHECK(ok && soma_model_builder_linear(b, 2) == SOMA_OK);
    CHECK(soma_model_builder_relu(b) == SOMA_ERR_FORMAT);
    CHECK_MSG(has("deep: layer 1024: too many layers (at most 1024)"), "%s", soma_last_error());
    soma_model_builder_free(b);
    CHECK(soma_model_builder_create("deep", 2, 1, 1, &b) == SOMA_OK);
    for (int i = 0; i < SOMA_MAX_LAYERS - 1; i++)
        soma_model_builder_relu(b);
    soma_model_builder_linear(b, 2);
    CHECK_MSG(soma_model_builder_finish(b, &m) == SOMA_OK, "%s", soma_last_error());
    soma_model_free(m);
    soma_model_builder_free(b);
}

int main(void)
{
    soma_set_threads(2);
    test_lenet5_equals_zoo();
    test_trains_like_text();
    test_errors_name_the_layer();
    test_layer_limit();
    return check_finish("model_builder_test");
}

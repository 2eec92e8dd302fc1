/* A built model has shapes, counts and FLOPs but no parameter memory: the
 * weights come with soma_model_init (or a checkpoint, or the first plan,
 * which gives them He from seed 1), the gradients with the first plan.
 * And the model's source name, stored in
 * checkpoints, is UTF-8 whatever bytes the file name has. */
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"
#include "support/check.h"

/* 805,519,370 parameters: 3 GiB of weights, as many of gradients */
static const char *const big = "input channels=1 height=128 width=128\nflatten\n"
                               "linear units=16384\nrelu\nlinear units=16384\nrelu\n"
                               "linear units=16384\nrelu\nlinear units=10\n";

static void test_shapes_without_memory(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(big, "big.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK(soma_model_param_count(m) == 805519370);
    CHECK(m->params == NULL && m->grads == NULL && m->buffers == NULL);
    CHECK(!network_has_weights(m));
    char *summary = soma_model_summary(m);
    CHECK(summary && strstr(summary, "parameters: 805,519,370 "));
    free(summary);
    CHECK(m->params == NULL); /* the summary allocates nothing either */
    soma_model_free(m);
}

static void test_memory_comes_when_needed(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse("input channels=1 height=4 width=4\nconv2d filters=2 size=3\n"
                           "batchnorm\nrelu\nflatten\nlinear units=3\n",
                           "small.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK(m->params == NULL && m->grads == NULL);
    CHECK(soma_model_init(m, SOMA_INIT_HE, 1) == SOMA_OK);
    CHECK(m->params && m->buffers && m->grads == NULL && network_has_weights(m));
    named_tensor t;
    CHECK(network_tensor(m, 0, &t) && t.data == m->params);
    CHECK(network_tensor(m, 4, &t) && t.data == m->buffers); /* 2.running_mean */
    float first = m->params[0];
    CHECK(first != 0.0f);
    /* predicting needs no gradients: none are allocated, not even per slice */
    float x[2 * 16] = {0}, probs[2 * 3];
    CHECK(soma_model_predict(m, x, 2, probs) == SOMA_OK);
    CHECK(m->acts && !m->plan.training);
    CHECK(m->grads == NULL);
    CHECK(m->plan.slice_grads == 0);
    CHECK(network_plan(m, 4) == SOMA_OK);
    CHECK(m->plan.training);
    CHECK(m->grads != NULL && m->params[0] == first); /* planning keeps the weights */
    soma_model_free(m);

    /* a model planned without init gets He weights from seed 1, not zeros */
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nflatten\nlinear units=2\n",
                           "plan.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK(network_plan(m, 2) == SOMA_OK);
    CHECK(m->params && m->grads && m->params[0] != 0.0f);
    float planned = m->params[0];
    CHECK(soma_model_init(m, SOMA_INIT_HE, 1) == SOMA_OK && m->params[0] == planned);
    soma_model_free(m);
}

static void test_source_is_utf8(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nflatten\nlinear units=2\n",
                           "gr\xc3\xb6\xc3\x9f" "e-\xff.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    CHECK_MSG(strcmp(m->source, "gr\xc3\xb6\xc3\x9f" "e-\\xff.cfg") == 0, "source '%s'", m->source);
    char *summary = soma_model_summary(m);
    const char *head = "model gr\xc3\xb6\xc3\x9f" "e-\\xff.cfg ";
    CHECK(summary && strncmp(summary, head, strlen(head)) == 0);
    free(summary);
    soma_model_free(m);
}

int main(void)
{
    test_shapes_without_memory();
    test_memory_comes_when_needed();
    test_source_is_utf8();
    return check_finish("lazy_build_test");
}

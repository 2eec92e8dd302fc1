/* The model functions that return a status refuse a missing handle, text or
 * output with SOMA_ERR_ARGUMENT and a message naming the function, instead
 * of crashing; a missing name is "<model>" in messages. The getters give 0,
 * "" or NULL for a NULL model, as the dataset's do, and take NULL outputs. */
#include <string.h>

#include "soma.h"
#include "support/check.h"

int main(void)
{
    soma_model *m = NULL;
    float x[4] = {0}, p[2];
    CHECK(soma_model_parse(NULL, "x.cfg", &m) == SOMA_ERR_ARGUMENT && m == NULL);
    CHECK(strstr(soma_last_error(), "soma_model_parse: no text given"));
    CHECK(soma_model_parse("input channels=1 height=2 width=2\n", "x.cfg", NULL) ==
          SOMA_ERR_ARGUMENT);
    CHECK(soma_model_load_file(NULL, &m) == SOMA_ERR_ARGUMENT && m == NULL);
    CHECK(soma_model_load_file("x.cfg", NULL) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_open(NULL, &m) == SOMA_ERR_ARGUMENT && m == NULL);
    CHECK(soma_model_open("lenet5", NULL) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_init(NULL, SOMA_INIT_HE, 1) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_predict(NULL, x, 1, p) == SOMA_ERR_ARGUMENT);
    /* a missing name: "<model>" in the message */
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nrelu\n", NULL, &m) ==
          SOMA_ERR_FORMAT);
    CHECK_MSG(strncmp(soma_last_error(), "<model>:2:1: relu: the last layer", 33) == 0, "%s",
              soma_last_error());
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nflatten\nlinear units=2\n", NULL,
                           &m) == SOMA_OK);
    CHECK(soma_model_predict(m, NULL, 1, p) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_predict(m, x, 1, NULL) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_predict(m, x, 1, p) == SOMA_OK);
    /* getters */
    int c = -1, h = -1, w = -1;
    float mean = -1.0f, std = -1.0f;
    CHECK(soma_model_param_count(NULL) == 0 && soma_model_classes(NULL) == 0);
    soma_model_input_shape(NULL, &c, &h, &w);
    CHECK(c == 0 && h == 0 && w == 0);
    soma_model_input_shape(m, &c, NULL, NULL);
    CHECK(c == 1);
    CHECK(strcmp(soma_model_text(NULL), "") == 0 && soma_model_summary(NULL) == NULL);
    CHECK(soma_model_device(NULL) == NULL);
    soma_model_normalization(NULL, &mean, &std);
    CHECK(mean == 0.0f && std == 0.0f);
    soma_model_normalization(m, NULL, &std);
    CHECK(soma_dataset_count(NULL) == 0 && soma_dataset_classes(NULL) == 0);
    soma_model_free(m);
    soma_model_free(NULL);
    return check_finish("model_null_test");
}

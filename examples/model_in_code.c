/*
 * LeNet-5 built in code with the model builder (no model file), through
 * libsoma's public API only: prints the model's table, then, given data,
 * trains it for one epoch and reports the accuracy on the test set.
 *
 * Usage: model_in_code [DATA]
 *   DATA  a dataset name ("mnist", "fashion-mnist") or a directory of IDX
 *         files; without it the model is built and shown, not trained.
 *
 * The model needs no soma_model_init: a model is He-initialised from seed 1
 * when it is built, as one opened from a file is.
 */
#include <soma.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints what failed and soma's one-line reason; returns 1 (the exit status). */
static int fail(const char *what, soma_status st)
{
    fprintf(stderr, "model_in_code: %s: %s (%s)\n", what, soma_last_error(),
            soma_status_name(st));
    return 1;
}

/* LeNet-5 for 28x28 digits, layer by layer as in models/lenet5.cfg. A call
 * that fails leaves its error in the builder, and finish reports it. */
static soma_status build_lenet5(soma_model **out)
{
    soma_model_builder *b = NULL;
    soma_status st = soma_model_builder_create("lenet5-in-code", 1, 28, 28, &b);
    if (st != SOMA_OK)
        return st;
    soma_model_builder_conv2d(b, 6, 5, 1, 2); /* 6@28x28 */
    soma_model_builder_relu(b);
    soma_model_builder_maxpool(b, 2, 2, 0);   /* 6@14x14 */
    soma_model_builder_conv2d(b, 16, 5, 1, 0); /* 16@10x10 */
    soma_model_builder_relu(b);
    soma_model_builder_maxpool(b, 2, 2, 0);   /* 16@5x5 */
    soma_model_builder_flatten(b);            /* 400 */
    soma_model_builder_linear(b, 120);
    soma_model_builder_relu(b);
    soma_model_builder_linear(b, 84);
    soma_model_builder_relu(b);
    soma_model_builder_linear(b, 10);         /* class scores */
    st = soma_model_builder_finish(b, out);
    soma_model_builder_free(b);
    return st;
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: model_in_code [DATA]\n");
        return 2;
    }
    soma_model *model = NULL;
    soma_dataset *train = NULL, *test = NULL;
    int rc = 1;
    soma_status st = build_lenet5(&model);
    if (st != SOMA_OK)
        return fail("model", st);
    char *summary = soma_model_summary(model);
    if (summary)
        fputs(summary, stdout);
    free(summary);
    if (argc < 2) {
        printf("no DATA given: not trained (try: model_in_code mnist)\n");
        rc = 0;
        goto done;
    }
    if ((st = soma_dataset_find(argv[1], "train", &train)) != SOMA_OK) {
        rc = fail("training data", st);
        goto done;
    }
    if ((st = soma_dataset_find(argv[1], "test", &test)) != SOMA_OK) {
        rc = fail("test data", st);
        goto done;
    }
    soma_train_config config = soma_train_defaults();
    config.epochs = 1;
    soma_train_result result;
    if ((st = soma_train(model, train, NULL, &config, NULL, NULL, &result)) != SOMA_OK) {
        rc = fail("training", st);
        goto done;
    }
    double loss, accuracy;
    if ((st = soma_evaluate(model, test, 256, &loss, &accuracy)) != SOMA_OK) {
        rc = fail("evaluation", st);
        goto done;
    }
    printf("one epoch on %d images: train loss %.4f; test accuracy %.2f%% (loss %.4f, %d "
           "images)\n",
           soma_dataset_count(train), result.final_train_loss, 100.0 * accuracy, loss,
           soma_dataset_count(test));
    rc = 0;
done:
    soma_model_free(model);
    soma_dataset_free(train);
    soma_dataset_free(test);
    return rc;
}

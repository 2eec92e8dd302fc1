/*
 * Trains LeNet-5 on MNIST through libsoma's public API only, then reports the
 * accuracy on the test set. Checkpoints go to OUT_DIR (best.safetensors,
 * last.safetensors), which examples/classify.c reads.
 *
 * Usage: train_lenet5 [DATA [EPOCHS [OUT_DIR]]]
 *   DATA     a dataset name ("mnist", "fashion-mnist") or a directory of IDX files (default mnist)
 *   EPOCHS   default 5
 *   OUT_DIR  default lenet5-run
 */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include <errno.h>
#include <soma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One line per epoch: soma_train calls this after every step, too. */
static void on_progress(const soma_progress *p, void *user)
{
    (void)user;
    if (p->epoch_done)
        printf("epoch %d/%d  loss %.4f  train acc %.2f%%  val acc %.2f%%  %.0f img/s\n", p->epoch,
               p->epochs, p->loss, 100.0 * p->accuracy, 100.0 * p->val_accuracy,
               p->images_per_second);
}

/* Prints what failed and soma's one-line reason; returns 1 (the exit status). */
static int fail(const char *what, soma_status st)
{
    fprintf(stderr, "train_lenet5: %s: %s (%s)\n", what, soma_last_error(), soma_status_name(st));
    return 1;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 5;
    const char *out_dir = argc > 3 ? argv[3] : "lenet5-run";
    if (argc > 4 || epochs < 1) {
        fprintf(stderr, "usage: train_lenet5 [DATA [EPOCHS [OUT_DIR]]]  (EPOCHS >= 1)\n");
        return 2;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "train_lenet5: %s: cannot create: %s\n", out_dir, strerror(errno));
        return 1;
    }

    soma_dataset *all = NULL, *test = NULL, *train = NULL, *val = NULL;
    soma_model *model = NULL;
    int rc = 1;
    soma_status st;
    if ((st = soma_dataset_find(data, "train", &all)) != SOMA_OK) {
        rc = fail("training data", st);
        goto done;
    }
    if ((st = soma_dataset_find(data, "test", &test)) != SOMA_OK) {
        rc = fail("test data", st);
        goto done;
    }
    /* 10% of the training images watch for overfitting; the test set is only for the end. */
    soma_train_config config = soma_train_defaults();
    config.epochs = epochs;
    config.out_dir = out_dir;
    if ((st = soma_dataset_split(all, 0.1, config.seed, &train, &val)) != SOMA_OK) {
        rc = fail("validation split", st);
        goto done;
    }
    if ((st = soma_model_open("lenet5", &model)) != SOMA_OK) {
        rc = fail("model", st);
        goto done;
    }
    if ((st = soma_model_init(model, SOMA_INIT_HE, config.seed)) != SOMA_OK) {
        rc = fail("init", st);
        goto done;
    }
    printf("LeNet-5, %zu parameters, %d training and %d validation images from %s\n",
           soma_model_param_count(model), soma_dataset_count(train), soma_dataset_count(val),
           soma_dataset_source(all));

    soma_train_result result;
    if ((st = soma_train(model, train, val, &config, on_progress, NULL, &result)) != SOMA_OK) {
        rc = fail("training", st);
        goto done;
    }
    double loss, accuracy;
    if ((st = soma_evaluate(model, test, 256, &loss, &accuracy)) != SOMA_OK) {
        rc = fail("evaluation", st);
        goto done;
    }
    printf("test accuracy %.2f%% (loss %.4f, %d images); checkpoints in %s/\n", 100.0 * accuracy,
           loss, soma_dataset_count(test), out_dir);
    rc = 0;
done:
    soma_model_free(model);
    soma_dataset_free(val);
    soma_dataset_free(train);
    soma_dataset_free(test);
    soma_dataset_free(all);
    return rc;
}

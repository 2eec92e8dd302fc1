/* End to end: one epoch of LeNet-5 on the MNIST subset reaches >= 95% test accuracy. */
#include <stdio.h>
#include <stdlib.h>

#include "soma.h"
#include "support/check.h"

int main(void)
{
    setenv("SOMA_DATA", source_path("data"), 1);
    soma_set_threads(2);
    soma_dataset *train = NULL, *test = NULL;
    soma_model *m = NULL;
    CHECK_MSG(soma_dataset_find("mnist", "train", &train) == SOMA_OK, "%s", soma_last_error());
    CHECK_MSG(soma_dataset_find("mnist", "test", &test) == SOMA_OK, "%s", soma_last_error());
    CHECK_MSG(soma_model_open("lenet5", &m) == SOMA_OK, "%s", soma_last_error());
    if (!train || !test || !m)
        return check_finish("lenet5_mnist");
    CHECK(soma_model_init(m, SOMA_INIT_HE, 1) == SOMA_OK);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 1;
    cfg.batch = 16; /* 625 steps in the epoch */
    cfg.opt = soma_optimizer_defaults(SOMA_OPT_ADAM);
    cfg.opt.lr = 3e-3f;
    cfg.schedule = SOMA_SCHEDULE_COSINE;
    soma_train_result res;
    soma_status st = soma_train(m, train, NULL, &cfg, NULL, NULL, &res);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    double loss, acc;
    CHECK(soma_evaluate(m, test, 256, &loss, &acc) == SOMA_OK);
    printf("lenet5, 1 epoch on %d images: test accuracy %.2f%%, loss %.4f, %.0f images/s\n",
           soma_dataset_count(train), 100 * acc, loss, res.images_per_second);
    CHECK_MSG(acc >= 0.95, "test accuracy %.4f", acc);
    CHECK(res.epochs_run == 1);
    soma_model_free(m);
    soma_dataset_free(train);
    soma_dataset_free(test);
    return check_finish("lenet5_mnist");
}

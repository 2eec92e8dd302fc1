/*
 * AlexNet (the zoo's, the paper's layout) trains on an image folder of real
 * images: Fashion-MNIST's trousers and bags (MNIST's ones and eights when
 * Fashion-MNIST is not installed), written out as PGM files, read back
 * through the folder reader, which makes them RGB and upscales them to
 * 224x224. After a few epochs the training loss has fallen and the test
 * accuracy is far above chance (50%). Through the public API only, with no
 * run directory (a checkpoint of AlexNet and Adam is 700 MiB).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soma.h"
#include "support/check.h"

#define PER_CLASS 60 /* training images per class; the test split gets half */
#define EPOCHS 4

static const int kept[2] = {1, 8}; /* trouser and bag; digits one and eight */

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

/* The first `per_class` images of each kept class of an IDX pair, as PGM files. */
static int write_split(const char *images, const char *labels, const char *dir, int per_class)
{
    soma_dataset *ds = NULL;
    if (soma_dataset_load_idx(images, labels, &ds) != SOMA_OK) {
        fprintf(stderr, "%s\n", soma_last_error());
        return 0;
    }
    make_dir(dir);
    int written[2] = {0, 0}, c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    uint8_t *pixels = malloc((size_t)c * h * w);
    char path[4096];
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%d", dir, kept[k]);
        make_dir(path);
    }
    for (int i = 0; i < soma_dataset_count(ds) && written[0] + written[1] < 2 * per_class; i++) {
        int label;
        CHECK(soma_dataset_label(ds, i, &label) == SOMA_OK);
        int k = label == kept[0] ? 0 : label == kept[1] ? 1 : -1;
        if (k < 0 || written[k] >= per_class)
            continue;
        CHECK(soma_dataset_image(ds, i, pixels) == SOMA_OK);
        snprintf(path, sizeof path, "%s/%d/%05d.pgm", dir, kept[k], i);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (!f)
            break;
        fprintf(f, "P5\n%d %d\n255\n", w, h);
        fwrite(pixels, 1, (size_t)w * h, f);
        fclose(f);
        written[k]++;
    }
    free(pixels);
    soma_dataset_free(ds);
    return written[0] == per_class && written[1] == per_class;
}

static double epoch_loss[EPOCHS + 1];

static void on_progress(const soma_progress *p, void *user)
{
    (void)user;
    if (p->epoch_done && p->epoch >= 1 && p->epoch <= EPOCHS)
        epoch_loss[p->epoch] = p->loss;
}

int main(void)
{
    const char *fm = "/usr/share/datasets/fashion-mnist";
    char images[4096], labels[4096], timages[4096], tlabels[4096];
    if (access(fm, R_OK) == 0) {
        snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", fm);
        snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", fm);
        snprintf(timages, sizeof timages, "%s/t10k-images-idx3-ubyte.gz", fm);
        snprintf(tlabels, sizeof tlabels, "%s/t10k-labels-idx1-ubyte.gz", fm);
    } else {
        const char *mnist[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
        char *paths[4] = {images, labels, timages, tlabels};
        for (int i = 0; i < 4; i++) {
            char rel[128];
            snprintf(rel, sizeof rel, "data/mnist/%s", mnist[i]);
            snprintf(paths[i], 4096, "%s", source_path(rel));
        }
    }
    char root[] = "/tmp/soma-alexnet-XXXXXX", train_dir[4096], test_dir[4096];
    CHECK(mkdtemp(root) != NULL);
    snprintf(train_dir, sizeof train_dir, "%s/train", root);
    snprintf(test_dir, sizeof test_dir, "%s/test", root);
    CHECK(write_split(images, labels, train_dir, PER_CLASS));
    CHECK(write_split(timages, tlabels, test_dir, PER_CLASS / 2));

    soma_model *m = NULL;
    CHECK(soma_model_open("alexnet", &m) == SOMA_OK);
    soma_data_options opt = {0};
    soma_model_input_shape(m, &opt.channels, &opt.height, &opt.width);
    opt.fit = SOMA_FIT_RESIZE; /* 28x28 gray up to 224x224 RGB */
    soma_dataset *train = NULL, *test = NULL;
    CHECK(soma_dataset_find_ex(root, "train", &opt, &train) == SOMA_OK);
    CHECK(soma_dataset_find_ex(root, "test", &opt, &test) == SOMA_OK);
    if (!m || !train || !test) {
        fprintf(stderr, "%s\n", soma_last_error());
        return check_finish("alexnet_folder_test");
    }
    CHECK(soma_dataset_count(train) == 2 * PER_CLASS && soma_dataset_classes(train) == 2);

    soma_train_config cfg = soma_train_defaults();
    cfg.opt = soma_optimizer_defaults(SOMA_OPT_ADAM);
    cfg.opt.lr = 1e-4f;
    cfg.epochs = EPOCHS;
    cfg.batch = 16;
    cfg.threads = 2;
    soma_status st = soma_train(m, train, NULL, &cfg, on_progress, NULL, NULL);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    double loss = 0, accuracy = 0;
    CHECK(soma_evaluate(m, test, 32, &loss, &accuracy) == SOMA_OK);
    printf("alexnet on %d images of 2 classes: training loss %.4f -> %.4f, test accuracy "
           "%.1f%% on %d images\n",
           2 * PER_CLASS, epoch_loss[1], epoch_loss[EPOCHS], 100.0 * accuracy,
           soma_dataset_count(test));
    CHECK_MSG(epoch_loss[EPOCHS] < 0.5 * epoch_loss[1], "the loss went %.4f -> %.4f",
              epoch_loss[1], epoch_loss[EPOCHS]);
    CHECK_MSG(accuracy >= 0.8, "test accuracy %.3f, chance is 0.5", accuracy);

    soma_dataset_free(train);
    soma_dataset_free(test);
    soma_model_free(m);
    char command[4200];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    CHECK(system(command) == 0);
    return check_finish("alexnet_folder_test");
}

/* soma_dataset_find: directories, preference order, errors, and the real data. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/idx_fixture.h"
#include "support/check.h"

static void test_find_in_directories(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/pref", tmpdir);
    mkdir(dir, 0700);
    write_pair(tmp_path("pref/train-images-idx3-ubyte.gz"), tmp_path("pref/train-labels-idx1-ubyte"),
               3, 4, 4, 2, 0);
    write_pair(tmp_path("pref/train10k-images-idx3-ubyte.gz"),
               tmp_path("pref/train10k-labels-idx1-ubyte.gz"), 5, 4, 4, 2, 0);
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find(dir, "train", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(soma_dataset_count(ds) == 3); /* the full set wins over the subset */
    soma_dataset_free(ds);
    check_one_line_error(soma_dataset_find(dir, "test", &ds), dir, "no test files");
    CHECK(strstr(soma_last_error(), "t10k-images-idx3-ubyte") != NULL);
    check_one_line_error(soma_dataset_find(dir, "valid", &ds), "unknown split", "bad split");

    snprintf(dir, sizeof dir, "%s/sub", tmpdir);
    mkdir(dir, 0700);
    write_pair(tmp_path("sub/train10k-images-idx3-ubyte.gz"),
               tmp_path("sub/train10k-labels-idx1-ubyte.gz"), 5, 4, 4, 2, 0);
    write_pair(tmp_path("sub/t10k-images-idx3-ubyte"), tmp_path("sub/t10k-labels-idx1-ubyte"),
               4, 4, 4, 2, 0);
    CHECK_MSG(soma_dataset_find(dir, "train", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(soma_dataset_count(ds) == 5);
    soma_dataset_free(ds);
    CHECK_MSG(soma_dataset_find(dir, "test", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(soma_dataset_count(ds) == 4);
    soma_dataset_free(ds);

    snprintf(dir, sizeof dir, "%s/half", tmpdir);
    mkdir(dir, 0700);
    write_pair(tmp_path("half/train-images-idx3-ubyte"), tmp_path("half-labels"), 3, 4, 4, 2, 0);
    check_one_line_error(soma_dataset_find(dir, "train", &ds), "train-labels-idx1-ubyte",
                         "labels missing");
    CHECK(strstr(soma_last_error(), dir) != NULL);

    const char *nowhere = tmp_path("no-such-dir");
    check_one_line_error(soma_dataset_find(nowhere, "train", &ds), nowhere, "missing dir");
    CHECK(ds == NULL);
}

static void check_mnist_split(soma_dataset *ds, int train)
{
    int c, h, w, counts[10] = {0}, in_range = 1;
    soma_dataset_shape(ds, &c, &h, &w);
    CHECK(soma_dataset_count(ds) == 10000);
    CHECK(c == 1 && h == 28 && w == 28);
    CHECK(soma_dataset_classes(ds) == 10);
    for (int i = 0; i < soma_dataset_count(ds); i++) {
        int label = -1;
        in_range &= soma_dataset_label(ds, i, &label) == SOMA_OK;
        in_range &= label >= 0 && label <= 9;
        if (label >= 0 && label <= 9)
            counts[label]++;
    }
    CHECK(in_range);
    if (!train) { /* the official test set's class counts */
        static const int expected[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
        for (int k = 0; k < 10; k++)
            CHECK_MSG(counts[k] == expected[k], "class %d: %d", k, counts[k]);
    }
    float mean, std;
    CHECK(dataset_pixel_stats(ds, &mean, &std) == SOMA_OK); /* MNIST's well-known 0.1307 / 0.3081 */
    CHECK_CLOSE(mean, 0.1307, 0.01);
    CHECK_CLOSE(std, 0.3081, 0.01);
}

static void test_find_mnist(void)
{
    char mnist[PATH_MAX];
    snprintf(mnist, sizeof mnist, "%s", source_path("data/mnist"));
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find(mnist, "train", &ds) == SOMA_OK, "%s", soma_last_error());
    if (ds) {
        check_mnist_split(ds, 1);
        CHECK(strstr(soma_dataset_source(ds), "train10k-images-idx3-ubyte.gz") != NULL);
        soma_dataset_free(ds);
    }
    CHECK_MSG(soma_dataset_find(mnist, "test", &ds) == SOMA_OK, "%s", soma_last_error());
    if (ds) {
        check_mnist_split(ds, 0);
        soma_dataset_free(ds);
    }

    /* By name through $SOMA_DATA. */
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s", source_path("data"));
    setenv("SOMA_DATA", data, 1);
    CHECK_MSG(soma_dataset_find("mnist", "test", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(strncmp(soma_dataset_source(ds), data, strlen(data)) == 0);
    soma_dataset_free(ds);
    unsetenv("SOMA_DATA");

    /* By name from an unrelated cwd: found beside the executable (build dirs
     * inside the repository), unless an installed copy comes first. */
    char cwd[PATH_MAX], exe[PATH_MAX], probe[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!getcwd(cwd, sizeof cwd) || len <= 0 || chdir(tmpdir) != 0) {
        printf("skipping the executable-relative search\n");
        return;
    }
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    *strrchr(exe, '/') = '\0'; /* the build dir's parent */
    snprintf(probe, sizeof probe, "%s/data/mnist/t10k-images-idx3-ubyte.gz", exe);
    struct stat st;
    if (stat(probe, &st) == 0 && stat("/usr/share/datasets/mnist", &st) != 0) {
        CHECK_MSG(soma_dataset_find("mnist", "test", &ds) == SOMA_OK, "%s", soma_last_error());
        CHECK(strncmp(soma_dataset_source(ds), exe, strlen(exe)) == 0);
        soma_dataset_free(ds);
    } else {
        printf("skipping the executable-relative search (no %s)\n", probe);
    }
    if (chdir(cwd) != 0)
        perror("chdir");
}

static void test_find_fashion(void)
{
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist", &st) != 0) {
        printf("skipping Fashion-MNIST: /usr/share/datasets/fashion-mnist is not installed "
               "(apt-get install dataset-fashion-mnist)\n");
        return;
    }
    const char *splits[2] = {"train", "test"};
    const int sizes[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        soma_dataset *ds = NULL;
        CHECK_MSG(soma_dataset_find("fashion-mnist", splits[s], &ds) == SOMA_OK, "%s",
                  soma_last_error());
        if (!ds)
            continue;
        int counts[10] = {0}, c, h, w;
        soma_dataset_shape(ds, &c, &h, &w);
        CHECK(soma_dataset_count(ds) == sizes[s] && c == 1 && h == 28 && w == 28);
        CHECK(soma_dataset_classes(ds) == 10);
        CHECK(strstr(soma_dataset_source(ds), "fashion-mnist") != NULL);
        for (int i = 0; i < ds->n; i++)
            counts[ds->labels[i] % 10]++;
        for (int k = 0; k < 10; k++) /* balanced: 6000 / 1000 per class */
            CHECK_MSG(counts[k] == sizes[s] / 10, "%s class %d: %d", splits[s], k, counts[k]);
        soma_dataset_free(ds);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-find-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    unsetenv("SOMA_DATA");
    test_find_in_directories();
    test_find_mnist();
    test_find_fashion();
    remove_tmpdir();
    return check_finish("dataset_find_test");
}

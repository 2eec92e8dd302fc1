/* CIFAR-10/100 binary files: records, splits, locating, and every way a file can be wrong. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/idx_fixture.h"
#include "support/check.h"

/* The pixel of record `id` at byte k of its image. */
static uint8_t pixel(int id, int k) { return (uint8_t)(id * 31 + k * 7); }

/* Writes n records with ids first.. (label id % classes; CIFAR-100: coarse id % 20),
 * then `extra` stray bytes. */
static void write_records(const char *path, cifar_kind kind, int first, int n, int extra)
{
    FILE *fp = fopen(path, "wb");
    CHECK_MSG(fp != NULL, "cannot write %s", path);
    if (!fp)
        return;
    for (int id = first; id < first + n; id++) {
        if (kind == CIFAR_100) {
            fputc(id % 20, fp);
            fputc(id % 100, fp);
        } else {
            fputc(id % 10, fp);
        }
        for (int k = 0; k < CIFAR_IMAGE_BYTES; k++)
            fputc(pixel(id, k), fp);
    }
    for (int k = 0; k < extra; k++)
        fputc(0, fp);
    fclose(fp);
}

/* Samples 0..n of ds are records first.. in order, with their labels. */
static void check_records(const soma_dataset *ds, int first, int n, int classes)
{
    CHECK(ds && soma_dataset_count(ds) == n);
    if (!ds || soma_dataset_count(ds) != n)
        return;
    int c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    CHECK(c == 3 && h == 32 && w == 32);
    CHECK(soma_dataset_classes(ds) == classes);
    int same = 1;
    for (int i = 0; i < n; i++) {
        int label = -1;
        CHECK(soma_dataset_label(ds, i, &label) == SOMA_OK);
        same &= label == (first + i) % classes;
        for (int k = 0; k < CIFAR_IMAGE_BYTES; k++)
            same &= ds->images[(size_t)i * CIFAR_IMAGE_BYTES + k] == pixel(first + i, k);
    }
    CHECK_MSG(same, "records %d..%d were not read back as written", first, first + n - 1);
}

static const char *make_dir(const char *name)
{
    const char *dir = tmp_path(name);
    mkdir(dir, 0700);
    return dir;
}

static void test_cifar10(void)
{
    const char *dir = make_dir("c10");
    write_records(tmp_path("c10/data_batch_1.bin"), CIFAR_10, 0, 3, 0);
    write_records(tmp_path("c10/data_batch_2.bin"), CIFAR_10, 3, 9, 0);
    write_records(tmp_path("c10/test_batch.bin"), CIFAR_10, 100, 4, 0);
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find(dir, "train", &ds) == SOMA_OK, "%s", soma_last_error());
    check_records(ds, 0, 12, 10); /* both batches, in order */
    soma_dataset_free(ds);
    ds = NULL;
    CHECK_MSG(soma_dataset_find(dir, "test", &ds) == SOMA_OK, "%s", soma_last_error());
    check_records(ds, 100, 4, 10);
    soma_dataset_free(ds);

    /* the folder the official archive unpacks to, named by its parent */
    make_dir("parent");
    make_dir("parent/cifar-10-batches-bin");
    write_records(tmp_path("parent/cifar-10-batches-bin/test_batch.bin"), CIFAR_10, 7, 2, 0);
    ds = NULL;
    CHECK_MSG(soma_dataset_find(tmp_path("parent"), "test", &ds) == SOMA_OK, "%s",
              soma_last_error());
    check_records(ds, 7, 2, 10);
    soma_dataset_free(ds);

    /* by name, through SOMA_DATA */
    make_dir("named");
    make_dir("named/cifar-10");
    write_records(tmp_path("named/cifar-10/test_batch.bin"), CIFAR_10, 5, 3, 0);
    setenv("SOMA_DATA", tmp_path("named"), 1);
    ds = NULL;
    CHECK_MSG(soma_dataset_find("cifar-10", "test", &ds) == SOMA_OK, "%s", soma_last_error());
    check_records(ds, 5, 3, 10);
    soma_dataset_free(ds);
    check_one_line_error(soma_dataset_find("cifar-100", "test", &ds), "train.bin or test.bin",
                         "cifar-100 not there");
    CHECK(strstr(soma_last_error(), "download-cifar.sh") != NULL);
    unsetenv("SOMA_DATA");
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* The archives' class-name files, one name a line, become the class names. */
static void test_class_names(void)
{
    char dir[512]; /* tmp_path's buffers are reused */
    snprintf(dir, sizeof dir, "%s", make_dir("names"));
    write_records(tmp_path("names/test_batch.bin"), CIFAR_10, 0, 2, 0);
    write_text(tmp_path("names/batches.meta.txt"), "airplane\nautomobile\r\nbird\ncat\ndeer\n"
                                                   "dog\nfrog\nhorse\nship\ntruck\n\n\n");
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find(dir, "test", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(ds && strcmp(soma_dataset_class_name(ds, 1), "automobile") == 0 &&
          strcmp(soma_dataset_class_name(ds, 9), "truck") == 0);
    soma_dataset_free(ds);
    write_text(tmp_path("names/batches.meta.txt"), "airplane\nautomobile\n");
    check_one_line_error(soma_dataset_find(dir, "test", &ds),
                         "batches.meta.txt: 2 class names; CIFAR-10 has 10", "too few names");
    write_text(tmp_path("names/batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n");
    check_one_line_error(soma_dataset_find(dir, "test", &ds),
                         "batches.meta.txt: more than the 10 class names", "too many names");
    CHECK(ds == NULL);

    snprintf(dir, sizeof dir, "%s", make_dir("names100"));
    write_records(tmp_path("names100/test.bin"), CIFAR_100, 0, 1, 0);
    char text[1200] = "";
    for (int k = 0; k < 100; k++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "c%d\n", k);
    write_text(tmp_path("names100/fine_label_names.txt"), text);
    write_text(tmp_path("names100/batches.meta.txt"), "ignored for CIFAR-100\n");
    CHECK_MSG(soma_dataset_find(dir, "test", &ds) == SOMA_OK, "%s", soma_last_error());
    CHECK(ds && strcmp(soma_dataset_class_name(ds, 99), "c99") == 0);
    soma_dataset_free(ds);
}

static void test_cifar100(void)
{
    const char *dir = make_dir("c100");
    write_records(tmp_path("c100/train.bin"), CIFAR_100, 95, 6, 0);
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find(dir, "train", &ds) == SOMA_OK, "%s", soma_last_error());
    check_records(ds, 95, 6, 100); /* fine labels, 95..99 then 0 */
    soma_dataset_free(ds);
    check_one_line_error(soma_dataset_find(dir, "test", &ds), "no test.bin", "no test split");
    CHECK(strstr(soma_last_error(), dir) != NULL);
}

static void test_bad_files(void)
{
    soma_dataset *ds = NULL;
    const char *dir = make_dir("bad");
    const char *batch = tmp_path("bad/data_batch_1.bin");
    write_records(batch, CIFAR_10, 0, 2, 100); /* truncated third record */
    check_one_line_error(soma_dataset_find(dir, "train", &ds),
                         "is not a whole number of 3073-byte CIFAR-10 records (2 records and "
                         "100 bytes over)",
                         "truncated");
    CHECK(strstr(soma_last_error(), batch) != NULL);
    write_records(batch, CIFAR_10, 0, 0, 0);
    check_one_line_error(soma_dataset_find(dir, "train", &ds), "empty file", "empty");
    write_records(batch, CIFAR_10, 0, 2, 0);
    write_records(tmp_path("bad/data_batch_3.bin"), CIFAR_10, 0, 2, 0);
    check_one_line_error(soma_dataset_find(dir, "train", &ds),
                         "found data_batch_3.bin but no data_batch_2.bin", "a gap");
    CHECK(ds == NULL);
    check_one_line_error(soma_dataset_find(dir, "test", &ds), "no test_batch.bin", "no test");

    /* labels out of range, from memory and from a file */
    size_t len = cifar_record_size(CIFAR_10) * 2, len100 = cifar_record_size(CIFAR_100) * 2;
    uint8_t *bytes = calloc(1, len100);
    if (!bytes)
        return;
    bytes[cifar_record_size(CIFAR_10)] = 10;
    check_one_line_error(cifar_parse(bytes, len, CIFAR_10, "mem.bin", &ds),
                         "mem.bin: record 1: label 10 is out of range (CIFAR-10 has 10 classes)",
                         "label 10");
    bytes[0] = 20;
    check_one_line_error(cifar_parse(bytes, len100, CIFAR_100, "mem.bin", &ds),
                         "record 0: coarse label 20 is out of range", "coarse 20");
    bytes[0] = 19;
    bytes[1] = 100;
    check_one_line_error(cifar_parse(bytes, len100, CIFAR_100, "mem.bin", &ds),
                         "record 0: label 100 is out of range (CIFAR-100 has 100 classes)",
                         "fine 100");
    bytes[1] = 99;
    bytes[cifar_record_size(CIFAR_100) + 1] = 0;
    CHECK_MSG(cifar_parse(bytes, len100, CIFAR_100, "mem.bin", &ds) == SOMA_OK, "%s",
              soma_last_error());
    CHECK(ds && ds->labels[0] == 99 && ds->labels[1] == 0);
    soma_dataset_free(ds);
    ds = NULL;
    CHECK(cifar_parse(bytes, len100, CIFAR_10, "mem.bin", &ds) != SOMA_OK); /* 2 x 3074 bytes */
    memset(bytes, 0, len100);
    bytes[cifar_record_size(CIFAR_10)] = 10;
    check_one_line_error(cifar_parse(bytes, len - 1, CIFAR_10, "mem.bin", &ds),
                         "6145 bytes is not a whole number", "odd size");
    CHECK(ds == NULL);
    FILE *fp = fopen(tmp_path("bad/test_batch.bin"), "wb");
    if (fp) {
        fwrite(bytes, 1, len, fp);
        fclose(fp);
    }
    check_one_line_error(soma_dataset_find(dir, "test", &ds), "test_batch.bin: record 1: label 10",
                         "label in a file");
    free(bytes);
    CHECK(ds == NULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-cifar-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_cifar10();
    test_cifar100();
    test_class_names();
    test_bad_files();
    remove_tmpdir();
    return check_finish("cifar_test");
}

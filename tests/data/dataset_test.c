/* Datasets: loading, accessors, split, normalisation. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/idx_fixture.h"
#include "support/check.h"

static void test_load(void)
{
    const char *im = tmp_path("a-images-idx3-ubyte.gz"), *lb = tmp_path("a-labels-idx1-ubyte");
    write_pair(im, lb, 7, 2, 3, 3, 11);
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_load_idx(im, lb, &ds) == SOMA_OK, "%s", soma_last_error());
    if (!ds)
        return;
    int c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    CHECK(soma_dataset_count(ds) == 7);
    CHECK(c == 1 && h == 2 && w == 3);
    CHECK(soma_dataset_classes(ds) == 3);
    CHECK(strcmp(soma_dataset_source(ds), im) == 0);
    for (int i = 0; i < 7; i++) {
        int label = -1;
        CHECK(soma_dataset_label(ds, i, &label) == SOMA_OK && label == i % 3);
    }
    /* out of range: a status and a message, the output untouched */
    int label = 42;
    CHECK(soma_dataset_label(ds, 7, &label) == SOMA_ERR_ARGUMENT && label == 42);
    CHECK_MSG(strstr(soma_last_error(), "sample 7 is out of range (7 samples)"), "%s",
              soma_last_error());
    CHECK(soma_dataset_label(ds, -1, &label) == SOMA_ERR_ARGUMENT && label == 42);
    CHECK(soma_dataset_label(NULL, 0, &label) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_label(ds, 0, NULL) == SOMA_ERR_ARGUMENT);
    int same = 1;
    for (size_t k = 0; k < 42; k++)
        same &= ds->images[k] == (uint8_t)((k * 7 + 11) % 256);
    CHECK(same);
    soma_dataset_free(ds);

    /* idx4: N x C x H x W, and classes = max label + 1 even if some are absent. */
    uint8_t pix[5 * 3 * 2 * 2], lab[5] = {0, 6, 2, 2, 1};
    for (size_t k = 0; k < sizeof pix; k++)
        pix[k] = (uint8_t)k;
    uint32_t idims[4] = {5, 3, 2, 2}, ldims[1] = {5};
    const char *im4 = tmp_path("b-images-idx4"), *lb4 = tmp_path("b-labels");
    write_idx(im4, 4, idims, pix);
    write_idx(lb4, 1, ldims, lab);
    CHECK_MSG(soma_dataset_load_idx(im4, lb4, &ds) == SOMA_OK, "%s", soma_last_error());
    if (ds) {
        soma_dataset_shape(ds, &c, &h, &w);
        CHECK(soma_dataset_count(ds) == 5 && c == 3 && h == 2 && w == 2);
        CHECK(soma_dataset_classes(ds) == 7);
        label = -1;
        CHECK(soma_dataset_label(ds, 1, &label) == SOMA_OK && label == 6);
        CHECK(memcmp(ds->images, pix, sizeof pix) == 0);
        soma_dataset_free(ds);
    }
}

static void test_load_errors(void)
{
    const char *im = tmp_path("c-images"), *lb = tmp_path("c-labels");
    write_pair(im, lb, 7, 2, 3, 3, 0);
    const char *lb6 = tmp_path("c6-labels");
    uint8_t six[6] = {0};
    uint32_t ldims[1] = {6};
    write_idx(lb6, 1, ldims, six);
    soma_dataset *ds = (soma_dataset *)1;
    check_one_line_error(soma_dataset_load_idx(im, lb6, &ds), "7 images", "count mismatch");
    CHECK(strstr(soma_last_error(), lb6) != NULL && strstr(soma_last_error(), "6 labels"));
    CHECK(ds == NULL);
    check_one_line_error(soma_dataset_load_idx(lb, im, &ds), lb, "swapped files");
    check_one_line_error(soma_dataset_load_idx(im, im, &ds), "labels with 1 dimension",
                         "images as labels");
    const char *missing = tmp_path("missing-labels");
    check_one_line_error(soma_dataset_load_idx(im, missing, &ds), missing, "missing labels");
    CHECK(ds == NULL);
}

/* A synthetic dataset whose first pixel of sample i is i (mod 256), label i % 10. */
static soma_dataset *numbered(int n)
{
    soma_dataset *ds = NULL;
    if (dataset_create(n, 1, 2, 2, 10, "numbered", &ds) != SOMA_OK)
        return NULL;
    for (int i = 0; i < n; i++) {
        ds->images[(size_t)i * 4] = (uint8_t)i;
        ds->images[(size_t)i * 4 + 1] = (uint8_t)(i * 3);
        ds->images[(size_t)i * 4 + 2] = 255;
        ds->labels[i] = i % 10;
    }
    return ds;
}

static void test_split(void)
{
    const int n = 100;
    soma_dataset *ds = numbered(n), *train = NULL, *val = NULL;
    CHECK(ds != NULL);
    if (!ds)
        return;
    CHECK_MSG(soma_dataset_split(ds, 0.2, 42, &train, &val) == SOMA_OK, "%s", soma_last_error());
    CHECK(train && val);
    if (!train || !val)
        return;
    CHECK(soma_dataset_count(train) == 80 && soma_dataset_count(val) == 20);
    CHECK(soma_dataset_classes(train) == 10 && soma_dataset_classes(val) == 10);

    /* Which samples went where, through their first pixel; the validation set
     * must be the first 20 of the seeded permutation. */
    int where[100] = {0}, perm[100];
    for (int i = 0; i < n; i++)
        perm[i] = i;
    rng r;
    rng_init(&r, 42, RNG_SPLIT, 0, 0);
    rng_shuffle(&r, perm, n);
    int ascending = 1, labels_ok = 1, prev = -1;
    for (int i = 0; i < 20; i++) {
        int id = val->images[(size_t)i * 4];
        where[id] += 2;
        ascending &= id > prev;
        labels_ok &= val->labels[i] == id % 10 && val->images[(size_t)i * 4 + 1] == (uint8_t)(id * 3);
        prev = id;
    }
    prev = -1;
    for (int i = 0; i < 80; i++) {
        int id = train->images[(size_t)i * 4];
        where[id] += 1;
        ascending &= id > prev;
        labels_ok &= train->labels[i] == id % 10;
        prev = id;
    }
    int covered = 1, matches_perm = 1;
    for (int i = 0; i < n; i++)
        covered &= where[i] == 1 || where[i] == 2;
    for (int i = 0; i < 20; i++)
        matches_perm &= where[perm[i]] == 2;
    CHECK_MSG(covered, "train and validation are not a partition");
    CHECK(ascending);
    CHECK(labels_ok);
    CHECK(matches_perm);

    /* Same seed, same split; another seed, another split. */
    soma_dataset *train2, *val2, *train3, *val3;
    CHECK(soma_dataset_split(ds, 0.2, 42, &train2, &val2) == SOMA_OK);
    CHECK(soma_dataset_split(ds, 0.2, 43, &train3, &val3) == SOMA_OK);
    CHECK(memcmp(val2->images, val->images, 20 * 4) == 0);
    CHECK(memcmp(train2->images, train->images, 80 * 4) == 0);
    CHECK(memcmp(val3->images, val->images, 20 * 4) != 0);
    soma_dataset_free(train2);
    soma_dataset_free(val2);
    soma_dataset_free(train3);
    soma_dataset_free(val3);
    soma_dataset_free(train);
    soma_dataset_free(val);

    CHECK(soma_dataset_split(ds, 0.0, 1, &train, &val) == SOMA_OK);
    CHECK(val == NULL && soma_dataset_count(train) == n);
    CHECK(train && memcmp(train->images, ds->images, (size_t)n * 4) == 0);
    soma_dataset_free(train);
    check_one_line_error(soma_dataset_split(ds, 1.0, 1, &train, &val), "[0, 1)", "fraction 1");
    check_one_line_error(soma_dataset_split(ds, -0.1, 1, &train, &val), "[0, 1)", "negative");
    check_one_line_error(soma_dataset_split(ds, 0.001, 1, &train, &val), "empty", "rounds to 0");
    check_one_line_error(soma_dataset_split(ds, 0.999, 1, &train, &val), "no training",
                         "rounds to all");
    CHECK(train == NULL && val == NULL);
    soma_dataset_free(ds);
}

static float expected_value(uint8_t x, float mean, float std)
{
    return (float)(((double)x / 255.0 - mean) / std);
}

static void test_conversion(void)
{
    soma_dataset *ds = numbered(6);
    if (!ds)
        return;
    const float mean = 0.1307f, std = 0.3081f;
    float out[6 * 4 + 1];
    out[12] = -999.0f;
    CHECK(soma_dataset_get(ds, 1, 3, mean, std, out) == SOMA_OK);
    for (int i = 0; i < 12; i++)
        CHECK_CLOSE(out[i], expected_value(ds->images[4 + i], mean, std), 1e-6);
    CHECK(out[12] == -999.0f); /* nothing past n samples */
    out[0] = -999.0f;
    /* out of range, no samples, no std: an error, and nothing written */
    CHECK(soma_dataset_get(ds, 4, 3, mean, std, out) == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "samples 4..6 are out of range (6 samples)"), "%s",
              soma_last_error());
    CHECK(soma_dataset_get(ds, -1, 2, mean, std, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(ds, 0, 0, mean, std, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(ds, 2147483647, 2, mean, std, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(ds, 0, 1, mean, 0.0f, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(ds, 0, 1, mean, NAN, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(NULL, 0, 1, mean, std, out) == SOMA_ERR_ARGUMENT);
    CHECK(soma_dataset_get(ds, 0, 1, mean, std, NULL) == SOMA_ERR_ARGUMENT);
    CHECK(out[0] == -999.0f);

    int indices[3] = {5, 0, 2};
    int32_t labels[3] = {-1, -1, -1};
    dataset_prefetch(ds, indices, 3); /* a hint: the gather below is unchanged */
    CHECK(dataset_gather(ds, indices, 3, &mean, &std, out, labels) == SOMA_OK);
    for (int i = 0; i < 3; i++) {
        CHECK(labels[i] == indices[i] % 10);
        for (int k = 0; k < 4; k++)
            CHECK_CLOSE(out[i * 4 + k], expected_value(ds->images[indices[i] * 4 + k], mean, std),
                        1e-6);
    }
    CHECK_CLOSE(out[4], (0.0 - mean) / std, 1e-6); /* sample 0, pixel 0 is 0 */
    CHECK_CLOSE(out[2], (1.0 - mean) / std, 1e-6); /* pixel 2 is 255 */

    /* Statistics against a naive two-pass computation. */
    double sum = 0, sq = 0;
    for (int k = 0; k < 24; k++)
        sum += ds->images[k] / 255.0;
    double m = sum / 24;
    for (int k = 0; k < 24; k++)
        sq += (ds->images[k] / 255.0 - m) * (ds->images[k] / 255.0 - m);
    float got_mean, got_std;
    CHECK(dataset_pixel_stats(ds, &got_mean, &got_std) == SOMA_OK);
    CHECK_CLOSE(got_mean, m, 1e-6);
    CHECK_CLOSE(got_std, sqrt(sq / 24), 1e-6);
    memset(ds->images, 51, 24);
    CHECK(dataset_pixel_stats(ds, &got_mean, &got_std) == SOMA_OK);
    CHECK_CLOSE(got_mean, 0.2, 1e-7);
    CHECK(got_std == 1.0f);
    soma_dataset_free(ds);
}

/* Three channels, each with its own (mean, std): gather, get and the statistics. */
static void test_channels(void)
{
    soma_dataset *ds;
    CHECK(dataset_create(2, 3, 1, 2, 1000, "rgb", &ds) == SOMA_OK);
    if (!ds)
        return;
    /* sample i, channel c, pixel k = 10 * (c + 1) + 100 * i + k */
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 2; k++)
                ds->images[i * 6 + c * 2 + k] = (uint8_t)(10 * (c + 1) + 100 * i + k);
    ds->labels[0] = 999; /* wider than a byte: kept whole */
    ds->labels[1] = 256;
    const float mean[3] = {0.1f, 0.2f, 0.3f}, std[3] = {0.5f, 0.25f, 2.0f};
    float out[12], all_same[12];
    int indices[2] = {1, 0};
    int32_t labels[2] = {0, 0};
    CHECK(dataset_gather(ds, indices, 2, mean, std, out, labels) == SOMA_OK);
    CHECK(labels[0] == 256 && labels[1] == 999);
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 2; k++)
                CHECK_CLOSE(out[i * 6 + c * 2 + k],
                            expected_value(ds->images[indices[i] * 6 + c * 2 + k], mean[c],
                                           std[c]), 1e-6);
    CHECK(soma_dataset_get_channels(ds, 0, 2, 3, mean, std, out) == SOMA_OK);
    CHECK_CLOSE(out[5], expected_value(ds->images[5], mean[2], std[2]), 1e-6);
    CHECK_CLOSE(out[6], expected_value(ds->images[6], mean[0], std[0]), 1e-6);
    /* one pair for every channel: soma_dataset_get */
    CHECK(soma_dataset_get(ds, 0, 2, 0.5f, 0.5f, all_same) == SOMA_OK);
    CHECK_CLOSE(all_same[5], expected_value(ds->images[5], 0.5f, 0.5f), 1e-6);
    check_one_line_error(soma_dataset_get_channels(ds, 0, 2, 1, mean, std, out),
                         "3 channels, 1 normalisation pairs", "wrong channel count");
    const float bad_std[3] = {1.0f, 0.0f, 1.0f};
    check_one_line_error(soma_dataset_get_channels(ds, 0, 2, 3, mean, bad_std, out),
                         "of channel 1", "zero std");
    CHECK(soma_dataset_classes(ds) == 1000);
    int label = -1;
    CHECK(soma_dataset_label(ds, 0, &label) == SOMA_OK && label == 999);

    /* per-channel statistics against a direct computation */
    float got_mean[3], got_std[3];
    CHECK(dataset_pixel_stats(ds, got_mean, got_std) == SOMA_OK);
    for (int c = 0; c < 3; c++) {
        double v[4] = {10 * (c + 1), 10 * (c + 1) + 1, 10 * (c + 1) + 100, 10 * (c + 1) + 101};
        double m = (v[0] + v[1] + v[2] + v[3]) / 4 / 255, sq = 0;
        for (int k = 0; k < 4; k++)
            sq += (v[k] / 255 - m) * (v[k] / 255 - m);
        CHECK_CLOSE(got_mean[c], m, 1e-6);
        CHECK_CLOSE(got_std[c], sqrt(sq / 4), 1e-6);
    }

    /* wide labels survive a split */
    soma_dataset *train = NULL, *val = NULL;
    CHECK(soma_dataset_split(ds, 0.5, 3, &train, &val) == SOMA_OK);
    if (train && val)
        CHECK((train->labels[0] == 999 && val->labels[0] == 256) ||
              (train->labels[0] == 256 && val->labels[0] == 999));
    soma_dataset_free(train);
    soma_dataset_free(val);
    soma_dataset_free(ds);
    check_one_line_error(dataset_create(1, 1, 1, 1, DATASET_MAX_CLASSES + 1, "many", &ds),
                         "classes", "too many classes");
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-dataset-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_load();
    test_load_errors();
    test_split();
    test_conversion();
    test_channels();
    remove_tmpdir();
    return check_finish("dataset_test");
}

/*
 * Augmentation specs (parsing, errors with columns, canonical text) and the
 * transforms (what each does to a known image; determinism by stream key).
 */
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"
#include "data/dataset.h"
#include "support/check.h"
#include "support/synthetic.h"

static void canonical_is(const char *spec, const char *expected)
{
    augment_pipeline p;
    char text[AUGMENT_TEXT_MAX] = "";
    soma_status st = augment_parse(spec, &p);
    CHECK_MSG(st == SOMA_OK, "'%s': %s", spec, soma_last_error());
    augment_canonical(&p, text, sizeof text);
    CHECK_MSG(strcmp(text, expected) == 0, "'%s' gave '%s', expected '%s'", spec, text,
              expected);
    /* the canonical text reads back to itself */
    augment_pipeline again;
    char text2[AUGMENT_TEXT_MAX] = "";
    CHECK(augment_parse(text, &again) == SOMA_OK);
    augment_canonical(&again, text2, sizeof text2);
    CHECK_MSG(strcmp(text, text2) == 0, "'%s' read back as '%s'", text, text2);
}

static void error_is(const char *spec, const char *expected)
{
    augment_pipeline p;
    soma_status st = augment_parse(spec, &p);
    CHECK_MSG(st == SOMA_ERR_ARGUMENT, "'%s' was accepted", spec);
    CHECK_MSG(strcmp(soma_last_error(), expected) == 0, "'%s': got '%s', expected '%s'", spec,
              soma_last_error(), expected);
}

static void test_specs(void)
{
    canonical_is("shift=2,rotate=10,elastic=34:4,p=0.8",
                 "shift=2@0.8,rotate=10@0.8,elastic=34:4@0.8");
    canonical_is("flip", "flip@0.5");
    canonical_is("crop", "crop=4:zero@1");
    canonical_is(" crop=2:reflect , flip@1 ", "crop=2:reflect@1,flip@1");
    canonical_is("elastic=:6", "elastic=34:6@1");
    canonical_is("p=0.5,noise=0.1@0.25,cutout", "noise=0.1@0.25,cutout=8@0.5");
    canonical_is("scale,brightness,contrast", "scale=0.1@1,brightness=0.2@1,contrast=0.2@1");
    canonical_is("", "none");
    canonical_is("none", "none");
    canonical_is(NULL, "none");
    error_is("shift=2,rotat=10", "1:9: unknown transform 'rotat' (did you mean 'rotate'?)");
    error_is("shift=2,,flip", "1:9: expected a transform name, got ','");
    error_is("shift=2,", "1:9: expected a transform name at the end");
    error_is("rotate=200", "1:8: rotate degrees must be in (0, 180], got 200");
    error_is("shift=2.5", "1:7: shift pixels must be a whole number in 1..64, got 2.5");
    error_is("rotate=x", "1:8: rotate degrees expects a number, got 'x'");
    error_is("rotate=-5", "1:8: rotate degrees expects a number, got '-5'");
    error_is("elastic=34:4:1", "1:13: 'elastic' takes at most 2 values");
    error_is("flip=1", "1:5: 'flip' takes no values");
    error_is("flip@2", "1:6: a probability must be a number in [0, 1], got '2'");
    error_is("crop=4:mirror", "1:8: crop mode must be zero or reflect, got 'mirror'");
    error_is("flip,p=0.5,p=0.4", "1:12: 'p' is given twice");
    error_is("flip none", "1:6: expected ',' or the end of the spec, got 'n'");
    error_is("flip,none", "1:6: 'none' stands alone: it cannot be combined with transforms");
    error_is("p=0.5", "1:1: 'p' without a transform to apply to");
    error_is("zzzzzzzz", "1:1: unknown transform 'zzzzzzzz' (expected shift, crop, flip, rotate, "
                         "scale, elastic, brightness, contrast, cutout, noise, resized-crop or p)");
    error_is("flip;", "1:5: expected ',' or the end of the spec, got ';'");
    error_is("rotate=1.0000000000000000000000000000000001",
             "1:8: '1.0000000000...' is too long (32 characters at most)");
    /* 32 characters whose canonical text ("0" first) would be 33: refused, not
     * written back as a spec that does not parse (found by fuzz_augment_spec) */
    error_is("noise=.0000000000000000000000000800085",
             "1:7: '.00000000000...' is too small to write back in 32 characters");
    error_is("flip@.0000000000000000000000000800085",
             "1:6: '.00000000000...' is too small to write back in 32 characters");
    canonical_is("noise=.000000000000000000000000080008", "noise=0.000000000000000000000000080008@1");
    /* resized-crop: torchvision's RandomResizedCrop defaults, (min, max) pairs, first only */
    canonical_is("resized-crop", "resized-crop=0.08:1:0.75:1.3333334@1");
    canonical_is("resized-crop=0.25,flip", "resized-crop=0.25:1:0.75:1.3333334@1,flip@0.5");
    canonical_is("resized-crop=::0.5:2@0.9", "resized-crop=0.08:1:0.5:2@0.9");
    canonical_is("resized-crop=1:1:1:1", "resized-crop=1:1:1:1@1");
    error_is("resized-crop=0.5:0.3", "1:18: resized-crop scale-min 0.5 is above its scale-max 0.3");
    error_is("resized-crop=::2", "1:16: resized-crop ratio-min 2 is above its ratio-max 1.33333");
    error_is("resized-crop=0", "1:14: resized-crop scale-min must be in (0, 1], got 0");
    error_is("resized-crop=0.1:1:0.5:11", "1:24: resized-crop ratio-max must be in (0, 10], got 11");
    error_is("resized-crop=0.1:1:0.5:2:3", "1:25: 'resized-crop' takes at most 4 values");
    error_is("flip,resized-crop", "1:6: resized-crop must come first: it cuts the decoded image, "
                                  "before the other transforms");
    error_is("resized-crop,resized-crop", "1:14: resized-crop must come first: it cuts the "
                                          "decoded image, before the other transforms");
    error_is("resized_crop", "1:1: unknown transform 'resized_crop' (did you mean 'resized-crop'?)");
    /* tiny numbers are written without an exponent (the grammar has none) */
    canonical_is("flip@0.000000000001", "flip@0.000000000001");
    canonical_is("noise=0.00001", "noise=0.00001@1");
    char many[256] = "flip";
    for (int i = 0; i < AUGMENT_MAX_STEPS; i++)
        strcat(many, ",flip");
    error_is(many, "1:81: more than 16 transforms");
}

/* A 1 x 4 x 5 image with pixel (i, j) = (5i + j + 1) / 32. */
static void ramp(float *x)
{
    for (int i = 0; i < 20; i++)
        x[i] = (float)(i + 1) / 32.0f;
}

static void run(const char *spec, int epoch, int index, float *x)
{
    augment_pipeline p;
    float scratch[1024];
    CHECK(augment_scratch_floats(1, 4, 5) <= 1024);
    CHECK(augment_parse(spec, &p) == SOMA_OK);
    ramp(x);
    augment_sample(&p, 9, epoch, index, 1, 4, 5, x, scratch);
}

static void test_transforms(void)
{
    float x[20], y[20], orig[20], scratch[64];
    ramp(orig);
    run("flip@1", 0, 0, x);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
            CHECK(x[i * 5 + j] == orig[i * 5 + 4 - j]);
    run("flip@0", 0, 0, x);
    CHECK(memcmp(x, orig, sizeof x) == 0);
    /* a shift by (1, 0): column 0 zero, the rest one column to the right */
    memcpy(x, orig, sizeof x);
    augment_translate(x, 1, 4, 5, 1, 0, 0, scratch);
    for (int i = 0; i < 4; i++) {
        CHECK(x[i * 5] == 0.0f);
        for (int j = 1; j < 5; j++)
            CHECK(x[i * 5 + j] == orig[i * 5 + j - 1]);
    }
    /* shift=1 moves the image by one pixel or none: every pixel is a neighbour's or 0 */
    run("shift=1", 0, 3, x);
    int moved = 0;
    for (int i = 0; i < 20; i++)
        moved += x[i] != orig[i];
    run("shift=1", 0, 3, y);
    CHECK(memcmp(x, y, sizeof x) == 0); /* same key, same result */
    /* a tiny rotation changes the image a little, keeps pixels in [0, 1] */
    run("rotate=20", 1, 2, x);
    double diff = 0.0;
    for (int i = 0; i < 20; i++) {
        CHECK(x[i] >= 0.0f && x[i] <= 1.0f);
        diff += fabs(x[i] - orig[i]);
    }
    CHECK(diff > 0.0);
    /* different epochs or samples draw different numbers */
    int differ = 0;
    for (int e = 0; e < 8; e++) {
        run("elastic=8:1", e, 0, x);
        run("elastic=8:1", e, 1, y);
        differ += memcmp(x, y, sizeof x) != 0;
        for (int i = 0; i < 20; i++)
            CHECK(x[i] >= 0.0f && x[i] <= 1.0f);
    }
    CHECK(differ == 8);
    run("brightness=1@1", 0, 5, x);
    for (int i = 0; i < 20; i++)
        CHECK(x[i] >= 0.0f && x[i] <= 1.0f);
    run("cutout=2@1", 0, 1, x);
    int zeros = 0;
    for (int i = 0; i < 20; i++)
        zeros += x[i] == 0.0f;
    CHECK(zeros >= 1 && zeros <= 4);
    /* contrast keeps the mean of an image that does not clip */
    run("contrast=0.5@1", 0, 4, x);
    double before = 0, after = 0;
    for (int i = 0; i < 20; i++)
        before += orig[i], after += x[i];
    CHECK_CLOSE(after, before, 1e-5);
    run("noise=0.1@1", 0, 0, x);
    CHECK(memcmp(x, orig, sizeof x) != 0);
    /* reflect padding never leaves zeros in a positive image */
    for (int e = 0; e < 8; e++) {
        run("crop=3:reflect@1", e, 0, x);
        for (int i = 0; i < 20; i++)
            CHECK(x[i] > 0.0f);
    }
    (void)moved;
}

/* soma_augment_get: the same bytes for any thread count, raw pixels in [0, 1]. */
static void test_get(void)
{
    soma_dataset *ds = synthetic_patterns(16, 3, 1);
    CHECK(ds != NULL);
    size_t n = 16 * dataset_sample_size(ds);
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    soma_set_threads(1);
    CHECK(soma_augment_get(ds, "shift=2,rotate=10,elastic=34:4,p=0.8", 5, 2, 0, 16, a) == SOMA_OK);
    soma_set_threads(2);
    CHECK(soma_augment_get(ds, "shift=2,rotate=10,elastic=34:4,p=0.8", 5, 2, 0, 16, b) == SOMA_OK);
    CHECK(memcmp(a, b, sizeof(float) * n) == 0);
    CHECK(soma_augment_get(ds, "shift=2,rotate=10,elastic=34:4,p=0.8", 5, 3, 0, 16, b) == SOMA_OK);
    CHECK(memcmp(a, b, sizeof(float) * n) != 0);
    CHECK(soma_augment_get(ds, "rotat=1", 5, 3, 0, 16, b) == SOMA_ERR_ARGUMENT);
    CHECK(strstr(soma_last_error(), "augment: 1:1: unknown transform 'rotat'") != NULL);
    char *canonical = NULL;
    CHECK(soma_augment_parse("flip", &canonical) == SOMA_OK);
    CHECK(canonical && strcmp(canonical, "flip@0.5") == 0);
    free(canonical);
    free(a), free(b);
    soma_dataset_free(ds);
}

int main(void)
{
    test_specs();
    test_transforms();
    test_get();
    return check_finish("augment_test");
}

/*
 * Random-resized crops (resized-crop) and the evaluation centre crop that goes
 * with them: boxes inside the image, whole pixels, their area and ratio
 * within bounds and spread as torchvision draws them (uniform area,
 * log-uniform ratio, uniform position), the fallback after 10 misses; the
 * 87.5% centre crop and the resize of a box against values worked out by
 * hand on a linear ramp (bilinear sampling reproduces a ramp exactly); and
 * augmented image-folder samples: the same bytes on 1 and 2 threads, cut
 * where the stream (seed, RNG_AUGMENT_CROP, epoch, index) says; a run
 * stopped mid-epoch and resumed ends with the same weights as one never stopped.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/idx_fixture.h"
#include "data/image_file.h"
#include "data/resize.h"
#include "nn/network.h"
#include "support/check.h"

/* Every box inside the image, in whole pixels, area and ratio within the bounds
 * (up to the rounding of w and h to whole pixels). */
static void test_bounds(void)
{
    static const int sizes[][2] = {{200, 200}, {64, 17}, {17, 64}, {1, 1}, {3, 500}};
    resized_crop rc = {{0.08f, 1.0f}, {0.75f, 4.0f / 3.0f}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int iw = sizes[s][0], ih = sizes[s][1], bad = 0;
        for (int i = 0; i < 2000; i++) {
            rng r;
            rng_init(&r, 9, RNG_AUGMENT_CROP, (uint64_t)s, (uint64_t)i);
            crop_box b = crop_box_random(iw, ih, &rc, &r);
            int whole = b.x == floor(b.x) && b.y == floor(b.y) && b.w == floor(b.w) &&
                        b.h == floor(b.h);
            int inside = b.x >= 0 && b.y >= 0 && b.w >= 1 && b.h >= 1 && b.x + b.w <= iw &&
                         b.y + b.h <= ih;
            if (!whole || !inside) {
                if (!bad++)
                    fprintf(stderr, "%dx%d: box %g,%g %gx%g\n", iw, ih, b.x, b.y, b.w, b.h);
            }
        }
        CHECK_MSG(bad == 0, "%dx%d: %d boxes outside the image or not whole", iw, ih, bad);
    }
}

/* On 200x200 with scale (0.1, 0.5), every first draw fits: the area fraction
 * is uniform on [0.1, 0.5], the log-ratio uniform on [log 3/4, log 4/3], the
 * position uniform over the room left. */
static void test_distribution(void)
{
    resized_crop rc = {{0.1f, 0.5f}, {0.75f, 4.0f / 3.0f}};
    enum { N = 4000 };
    double area_sum = 0, log_ratio_sum = 0, x_sum = 0, lo_ratio = 1e9, hi_ratio = 0;
    double lo_area = 1, hi_area = 0;
    int low_quarter = 0;
    for (int i = 0; i < N; i++) {
        rng r;
        rng_init(&r, 4, RNG_AUGMENT_CROP, 0, (uint64_t)i);
        crop_box b = crop_box_random(200, 200, &rc, &r);
        double area = b.w * b.h / 40000.0, ratio = b.w / b.h;
        area_sum += area;
        low_quarter += area < 0.2;
        log_ratio_sum += log(ratio);
        if (b.w < 200)
            x_sum += b.x / (200 - b.w);
        else
            x_sum += 0.5;
        lo_ratio = ratio < lo_ratio ? ratio : lo_ratio;
        hi_ratio = ratio > hi_ratio ? ratio : hi_ratio;
        lo_area = area < lo_area ? area : lo_area;
        hi_area = area > hi_area ? area : hi_area;
    }
    /* rounding w and h to whole pixels moves area and ratio by about 1/w */
    CHECK_MSG(lo_area > 0.1 - 0.015 && hi_area < 0.5 + 0.015, "area %g..%g", lo_area, hi_area);
    CHECK_MSG(lo_ratio > 0.75 - 0.02 && hi_ratio < 4.0 / 3.0 + 0.02, "ratio %g..%g", lo_ratio,
              hi_ratio);
    /* the means of uniform variables, within 4 standard errors (sd/sqrt(N)) */
    double se_area = 0.4 / sqrt(12.0 * N), se_log = log(16.0 / 9.0) / sqrt(12.0 * N);
    CHECK_CLOSE(area_sum / N, 0.3, 4 * se_area + 0.002);
    CHECK_CLOSE(log_ratio_sum / N, 0.0, 4 * se_log + 0.002);
    CHECK_CLOSE(x_sum / N, 0.5, 4 / sqrt(12.0 * N) + 0.01);
    /* a quarter of the area range below 0.2 */
    CHECK_CLOSE((double)low_quarter / N, 0.25, 4 * sqrt(0.25 * 0.75 / N));
    /* the whole range is reached */
    CHECK(lo_area < 0.11 && hi_area > 0.49 && lo_ratio < 0.77 && hi_ratio > 1.30);
}

/* 10 misses: the centre crop with the ratio clamped into range. */
static void test_fallback(void)
{
    rng r;
    rng_init(&r, 1, RNG_AUGMENT_CROP, 0, 0);
    /* a square image cannot hold 99% of its area at ratio 2..3: w = 100, h = 50, centred */
    resized_crop wide = {{0.99f, 1.0f}, {2.0f, 3.0f}};
    crop_box b = crop_box_random(100, 100, &wide, &r);
    CHECK_MSG(b.x == 0 && b.y == 25 && b.w == 100 && b.h == 50, "%g,%g %gx%g", b.x, b.y, b.w,
              b.h);
    /* too narrow: ratio 1/3..1/2 on 90x30 (3:1): h = 30, w = 30 * 1/2 = 15, x = (90-15)/2 = 37 */
    resized_crop tall = {{0.99f, 1.0f}, {1.0f / 3.0f, 0.5f}};
    b = crop_box_random(90, 30, &tall, &r);
    CHECK_MSG(b.x == 37 && b.y == 0 && b.w == 15 && b.h == 30, "%g,%g %gx%g", b.x, b.y, b.w, b.h);
    /* the image's own ratio in range: the whole image (an area above the
     * image's, which no spec allows, makes sure that all 10 draws miss) */
    resized_crop any = {{1.05f, 1.1f}, {0.5f, 3.0f}};
    b = crop_box_random(100, 50, &any, &r);
    CHECK_MSG(b.x == 0 && b.y == 0 && b.w == 100 && b.h == 50, "%g,%g %gx%g", b.x, b.y, b.w,
              b.h);
}

/* A ramp image: pixel (x, y) = 10x + 3y (bilinear sampling returns a ramp's
 * value at the sampled point). */
static image ramp_image(int w, int h, uint8_t *px)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[y * w + x] = (uint8_t)(10 * x + 3 * y);
    return (image){w, h, 1, px};
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* What a box resized to ow x oh gives on the ramp, worked out from the
 * definition: output pixel o samples start + (o + 0.5) * len / n - 0.5
 * (pixel centres aligned), clamped to the image. */
static void ramp_reference(const crop_box *b, int iw, int ih, int ow, int oh, double *out)
{
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            double sx = clampd(b->x + (ox + 0.5) * b->w / ow - 0.5, 0, iw - 1);
            double sy = clampd(b->y + (oy + 0.5) * b->h / oh - 0.5, 0, ih - 1);
            out[oy * ow + ox] = 10 * sx + 3 * sy;
        }
}

/* The evaluation crop on a 16x8 ramp to 4x4: crop_box_center takes the
 * centred 8x8 square (x 4..12); its central 7/8 is 7x7 at (4.5, 0.5): torchvision's
 * Resize(4 * 256/224) + CenterCrop(4) without the intermediate rounding.
 * Output column ox samples x = 4.5 + 1.75 (ox + 0.5) - 0.5 = 4.875 + 1.75 ox,
 * row oy samples y = 0.875 + 1.75 oy. */
static void test_center_crop(void)
{
    crop_box b = crop_box_center_fraction(16, 8, 4, 4, 224.0 / 256.0);
    CHECK_MSG(b.x == 4.5 && b.y == 0.5 && b.w == 7 && b.h == 7, "%g,%g %gx%g", b.x, b.y, b.w,
              b.h);
    uint8_t px[16 * 8], out[16];
    image img = ramp_image(16, 8, px);
    image_sample(&img, &b, 1, 4, 4, out);
    for (int oy = 0; oy < 4; oy++)
        for (int ox = 0; ox < 4; ox++) {
            double want = 10 * (4.875 + 1.75 * ox) + 3 * (0.875 + 1.75 * oy);
            CHECK_MSG(fabs(out[oy * 4 + ox] - want) <= 0.5 + 1e-9, "(%d, %d): %d, by hand %g",
                      ox, oy, out[oy * 4 + ox], want);
        }
    /* a tall image: the centred square is 8x8 at y 4; its 7/8 is at (0.5, 4.5) */
    b = crop_box_center_fraction(8, 16, 4, 4, 224.0 / 256.0);
    CHECK_MSG(b.x == 0.5 && b.y == 4.5 && b.w == 7 && b.h == 7, "%g,%g %gx%g", b.x, b.y, b.w,
              b.h);
}

/* A binary PGM file. */
static void write_pgm(const char *path, int w, int h, const uint8_t *px)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    fprintf(fp, "P5\n%d %d\n255\n", w, h);
    fwrite(px, 1, (size_t)w * h, fp);
    fclose(fp);
}

/* A folder of 12 ramps of 40x30 (two classes), read as 8x8 samples. */
static soma_dataset *ramp_folder(soma_image_fit fit)
{
    static const char *const dirs[] = {"train", "train/a", "train/b"};
    for (int i = 0; i < 3; i++)
        mkdir(tmp_path(dirs[i]), 0700);
    uint8_t px[40 * 30]; /* the ramp 4x + 3y (10x would overflow a byte at this width) */
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++)
            px[y * 40 + x] = (uint8_t)(4 * x + 3 * y);
    char name[64];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "train/%s/%02d.pgm", i % 2 ? "b" : "a", i);
        write_pgm(tmp_path(name), 40, 30, px);
    }
    soma_data_options opt = {1, 8, 8, fit, 0};
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmpdir, "train", &opt, &ds) == SOMA_OK, "%s",
              soma_last_error());
    return ds;
}

/* Augmented folder samples: the crop the stream draws, resized; the same on
 * any thread count; other epochs other crops; in-memory data refused. */
static void test_folder_samples(void)
{
    soma_dataset *ds = ramp_folder(SOMA_FIT_CENTER_CROP);
    if (!ds)
        return;
    int n = soma_dataset_count(ds);
    size_t sample = 64;
    float *a = malloc(sizeof(float) * sample * n), *b = malloc(sizeof(float) * sample * n);
    const char *spec = "resized-crop=0.2:0.9:0.5:2";
    soma_set_threads(1);
    CHECK_MSG(soma_augment_get(ds, spec, 7, 3, 0, n, a) == SOMA_OK, "%s", soma_last_error());
    soma_set_threads(2);
    CHECK(soma_augment_get(ds, spec, 7, 3, 0, n, b) == SOMA_OK);
    CHECK(memcmp(a, b, sizeof(float) * sample * n) == 0);
    /* each sample is the ramp 4x + 3y sampled over the box its stream draws */
    resized_crop rc = {{0.2f, 0.9f}, {0.5f, 2.0f}};
    int off = 0;
    for (int i = 0; i < n; i++) {
        rng r;
        rng_init(&r, 7, RNG_AUGMENT_CROP, 3, (uint64_t)i);
        CHECK(rng_uniform(&r) < 1.0f); /* the coin, p = 1 */
        crop_box box = crop_box_random(40, 30, &rc, &r);
        for (int oy = 0; oy < 8; oy++)
            for (int ox = 0; ox < 8; ox++) {
                double sx = clampd(box.x + (ox + 0.5) * box.w / 8 - 0.5, 0, 39);
                double sy = clampd(box.y + (oy + 0.5) * box.h / 8 - 0.5, 0, 29);
                double want = (4 * sx + 3 * sy) / 255.0;
                off += fabs(a[i * sample + oy * 8 + ox] - want) > 0.5 / 255.0 + 1e-6;
            }
    }
    CHECK_MSG(off == 0, "%d pixels differ from the ramp over the drawn box", off);
    /* another epoch, other crops; without the crop, the centre-crop fit */
    CHECK(soma_augment_get(ds, spec, 7, 4, 0, n, b) == SOMA_OK);
    CHECK(memcmp(a, b, sizeof(float) * sample * n) != 0);
    CHECK(soma_augment_get(ds, "resized-crop@0", 7, 3, 0, n, b) == SOMA_OK);
    float *plain = malloc(sizeof(float) * sample * n);
    CHECK(soma_augment_get(ds, NULL, 7, 3, 0, n, plain) == SOMA_OK);
    CHECK(memcmp(plain, b, sizeof(float) * sample * n) == 0);
    CHECK(memcmp(plain, a, sizeof(float) * sample * n) != 0);
    /* the resized output of one box against the hand reference on a ramp */
    uint8_t px[16 * 8], out[5 * 3];
    image img = ramp_image(16, 8, px);
    crop_box box = {3, 1, 10, 6};
    double ref[5 * 3];
    image_sample(&img, &box, 1, 3, 5, out);
    ramp_reference(&box, 16, 8, 5, 3, ref);
    for (int k = 0; k < 15; k++)
        CHECK_MSG(fabs(out[k] - ref[k]) <= 0.5 + 1e-9, "pixel %d: %d, reference %g", k, out[k],
                  ref[k]);
    free(a), free(b), free(plain);
    soma_dataset_free(ds);

    /* the evaluation fit of a folder: the 87.5% centre crop of the 30x30 square */
    ds = ramp_folder(SOMA_FIT_CENTER_CROP_875);
    float got[64];
    CHECK(ds && soma_augment_get(ds, NULL, 1, 0, 0, 1, got) == SOMA_OK);
    crop_box centre = {5 + 30 / 16.0, 30 / 16.0, 30 * 0.875, 30 * 0.875};
    for (int oy = 0; ds && oy < 8; oy++)
        for (int ox = 0; ox < 8; ox++) {
            double sx = centre.x + (ox + 0.5) * centre.w / 8 - 0.5;
            double sy = centre.y + (oy + 0.5) * centre.h / 8 - 0.5;
            CHECK_CLOSE(got[oy * 8 + ox], (4 * sx + 3 * sy) / 255.0, 0.5 / 255.0 + 1e-6);
        }
    soma_dataset_free(ds);

    /* in-memory data: refused, naming the reason */
    soma_dataset *mem = NULL;
    CHECK(dataset_create(2, 1, 8, 8, 2, "mem.idx", &mem) == SOMA_OK);
    CHECK(soma_augment_check("resized-crop", mem) == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "augment: resized-crop needs an image folder") != NULL,
              "%s", soma_last_error());
    CHECK(soma_augment_get(mem, "resized-crop", 1, 0, 0, 2, got) == SOMA_ERR_ARGUMENT);
    CHECK(soma_augment_check("flip", mem) == SOMA_OK);
    soma_dataset_free(mem);
}

static void stop_at(const soma_progress *p, void *user)
{
    if (!p->epoch_done && p->global_step == *(const long long *)user)
        soma_request_stop();
}

/* Trains a tiny model on the folder with resized-crop (stopping after global
 * step `stop`, or resuming from `resume`); its weights into w. */
static soma_status train_tiny(const soma_dataset *ds, const char *resume, long long stop,
                              float *w, size_t n)
{
    soma_model *m = NULL;
    soma_status st = soma_model_parse("input channels=1 height=8 width=8\n"
                                      "conv2d filters=2 size=3 pad=1\nrelu\nflatten\n"
                                      "linear units=2\n",
                                      "tiny.cfg", &m);
    if (st != SOMA_OK)
        return st;
    soma_model_init(m, SOMA_INIT_HE, 2);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 2;
    cfg.batch = 4; /* 3 steps an epoch */
    cfg.seed = 11;
    cfg.augment = "resized-crop=0.2:1,flip";
    cfg.out_dir = tmpdir;
    cfg.resume = resume;
    st = soma_train(m, ds, NULL, &cfg, stop ? stop_at : NULL, &stop, NULL);
    CHECK(m->nparams <= n);
    memcpy(w, m->params, sizeof(float) * (m->nparams < n ? m->nparams : n));
    soma_model_free(m);
    return st;
}

static void test_resume(void)
{
    soma_dataset *ds = ramp_folder(SOMA_FIT_CENTER_CROP);
    if (!ds)
        return;
    float full[512] = {0}, resumed[512] = {0};
    char last[600];
    snprintf(last, sizeof last, "%s/last.safetensors", tmpdir);
    CHECK_MSG(train_tiny(ds, NULL, 0, full, 512) == SOMA_OK, "%s", soma_last_error());
    CHECK(train_tiny(ds, NULL, 4, resumed, 512) == SOMA_ERR_INTERRUPTED);
    CHECK_MSG(train_tiny(ds, last, 0, resumed, 512) == SOMA_OK, "%s", soma_last_error());
    CHECK_MSG(memcmp(full, resumed, sizeof full) == 0,
              "resumed mid-epoch 2 with resized-crop: other weights");
    soma_dataset_free(ds);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-random-crop-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    test_bounds();
    test_distribution();
    test_fallback();
    test_center_crop();
    test_folder_samples();
    test_resume();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0);
    return check_finish("random_crop_test");
}

/*
 * Image folders: classes from folder names, labels, decoding (PNG, JPEG,
 * PGM), fitting (exact size, centre crop, resize), bad files (an error
 * naming the file, or skipped), splits, and memory: a folder far larger than
 * a cap is read with the peak RSS (VmHWM) growing by less than the cap.
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h> /* after stdio.h and stddef.h, which it needs */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/idx_fixture.h"
#include "data/resize.h"
#include "support/check.h"

static void write_png(const char *path, int w, int h, int c, const uint8_t *hwc, int fast)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)w;
    png.height = (png_uint_32)h;
    png.format = c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png.flags = fast ? PNG_IMAGE_FLAG_FAST : 0;
    CHECK_MSG(png_image_write_to_file(&png, path, 0, hwc, 0, NULL), "%s: %s", path, png.message);
}

static void write_jpeg(const char *path, int w, int h, const uint8_t *gray)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(gray + (size_t)cinfo.next_scanline * w);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(fp);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(data, 1, n, fp);
        fclose(fp);
    }
}

static void mkdirs(const char *const *dirs, int n)
{
    for (int i = 0; i < n; i++)
        mkdir(tmp_path(dirs[i]), 0700);
}

static soma_data_options gray4 = {1, 4, 4, SOMA_FIT_CENTER_CROP, 0};

/* A 4x4 gray image whose pixel (x, y) is base + 4y + x. */
static void gray_image(uint8_t *px, int base)
{
    for (int k = 0; k < 16; k++)
        px[k] = (uint8_t)(base + k);
}

static void test_folder(void)
{
    static const char *const dirs[] = {"f", "f/train", "f/train/zebra", "f/train/cat",
                                       "f/train/dog", "f/test", "f/test/dog", "f/test/zebra"};
    mkdirs(dirs, 8);
    uint8_t px[16], rgb[48];
    gray_image(px, 10);
    write_png(tmp_path("f/train/cat/b.png"), 4, 4, 1, px, 0);
    gray_image(px, 100);
    write_png(tmp_path("f/train/cat/a.PNG"), 4, 4, 1, px, 0); /* sorted: a.PNG first */
    for (int k = 0; k < 16; k++) /* pure red: luma 0.299 * 200 = 59.8 -> 60 */
        rgb[3 * k] = 200, rgb[3 * k + 1] = 0, rgb[3 * k + 2] = 0;
    write_png(tmp_path("f/train/dog/red.png"), 4, 4, 3, rgb, 0);
    memset(px, 128, 16);
    write_jpeg(tmp_path("f/train/zebra/z.jpg"), 4, 4, px);
    write_bytes(tmp_path("f/train/zebra/notes.txt"), "not an image", 12); /* ignored */
    write_bytes(tmp_path("f/train/zebra/z.pgm"), "P5\n4 4\n255\n0123456789abcdef", 27);
    gray_image(px, 50);
    write_png(tmp_path("f/test/zebra/t.png"), 4, 4, 1, px, 0);

    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmp_path("f"), "train", &gray4, &ds) == SOMA_OK, "%s",
              soma_last_error());
    if (!ds)
        return;
    CHECK(soma_dataset_count(ds) == 5 && soma_dataset_classes(ds) == 3);
    static const char *const names[3] = {"cat", "dog", "zebra"};
    for (int k = 0; k < 3; k++)
        CHECK(soma_dataset_class_name(ds, k) && strcmp(soma_dataset_class_name(ds, k),
                                                       names[k]) == 0);
    CHECK(soma_dataset_class_name(ds, 3) == NULL);
    static const int want_labels[5] = {0, 0, 1, 2, 2};
    uint8_t got[16];
    for (int i = 0; i < 5; i++) {
        int label = -1;
        CHECK(soma_dataset_label(ds, i, &label) == SOMA_OK && label == want_labels[i]);
    }
    CHECK(ds->images == NULL); /* streamed: nothing decoded yet */
    CHECK(soma_dataset_image(ds, 0, got) == SOMA_OK && got[0] == 100 && got[15] == 115);
    CHECK(soma_dataset_image(ds, 1, got) == SOMA_OK && got[0] == 10 && got[5] == 15);
    CHECK(soma_dataset_image(ds, 2, got) == SOMA_OK && got[0] == 60 && got[15] == 60);
    CHECK(soma_dataset_image(ds, 3, got) == SOMA_OK && abs(got[7] - 128) <= 1);
    CHECK(soma_dataset_image(ds, 4, got) == SOMA_OK && got[0] == '0' && got[15] == 'f');

    /* the gather of a training step, normalised */
    float mean = 0.0f, std = 1.0f, out[2 * 16];
    int indices[2] = {4, 0};
    int32_t labels[2];
    CHECK(dataset_gather(ds, indices, 2, &mean, &std, out, labels) == SOMA_OK);
    CHECK(labels[0] == 2 && labels[1] == 0);
    CHECK_CLOSE(out[0], '0' / 255.0, 1e-6);
    CHECK_CLOSE(out[16 + 3], 103 / 255.0, 1e-6);
    float m, s;
    CHECK(dataset_pixel_stats(ds, &m, &s) == SOMA_OK && m > 0.0f && s > 0.0f);
    /* decoded side by side: the same floats and labels for any thread count */
    float one[5 * 16], two[5 * 16];
    int every[5] = {3, 1, 4, 0, 2};
    int32_t l1[5], l2[5];
    soma_set_threads(1);
    CHECK(dataset_gather(ds, every, 5, &mean, &std, one, l1) == SOMA_OK);
    soma_set_threads(3);
    CHECK(dataset_gather(ds, every, 5, &mean, &std, two, l2) == SOMA_OK);
    soma_set_threads(0);
    CHECK(memcmp(one, two, sizeof one) == 0 && memcmp(l1, l2, sizeof l1) == 0);
    CHECK(l1[0] == 2 && l1[3] == 0);

    /* a validation split keeps streaming, with the labels and names */
    soma_dataset *train = NULL, *val = NULL;
    CHECK(soma_dataset_split(ds, 0.4, 1, &train, &val) == SOMA_OK);
    if (train && val) {
        CHECK(soma_dataset_count(train) == 3 && soma_dataset_count(val) == 2);
        CHECK(val->stream && strcmp(soma_dataset_class_name(val, 1), "dog") == 0);
        for (int i = 0; i < 2; i++)
            CHECK(soma_dataset_image(val, i, got) == SOMA_OK);
    }
    soma_dataset_free(train);
    soma_dataset_free(val);
    soma_dataset_free(ds);

    /* the test split numbers its classes as the train split does */
    ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmp_path("f"), "test", &gray4, &ds) == SOMA_OK, "%s",
              soma_last_error());
    int label = -1;
    CHECK(ds && soma_dataset_count(ds) == 1 && soma_dataset_classes(ds) == 3);
    CHECK(ds && soma_dataset_label(ds, 0, &label) == SOMA_OK && label == 2);
    soma_dataset_free(ds);

    check_one_line_error(soma_dataset_find(tmp_path("f"), "train", &ds),
                         "needs the sample shape", "no shape");
    check_one_line_error(soma_dataset_find_ex(tmp_path("f"), "val", &gray4, &ds),
                         "without a val split", "no val folder");
    mkdir(tmp_path("f/test/horse"), 0700);
    check_one_line_error(soma_dataset_find_ex(tmp_path("f"), "test", &gray4, &ds),
                         "f/test/horse: class 'horse' is not among the 3 classes", "new class");
    CHECK(ds == NULL);
}

/* Fitting another size: exact refuses, centre crop cuts the sides, resize averages. */
static void test_fit(void)
{
    uint8_t wide[4 * 8], big[8 * 8], out[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++)
            wide[y * 8 + x] = (uint8_t)(10 * x + y);
    write_png(tmp_path("wide.png"), 8, 4, 1, wide, 0);
    check_one_line_error(soma_image_read(tmp_path("wide.png"), 1, 4, 4, SOMA_FIT_EXACT, out),
                         "image is 8x4 but the model expects 4x4", "exact");
    CHECK(soma_image_read(tmp_path("wide.png"), 1, 4, 4, SOMA_FIT_CENTER_CROP, out) == SOMA_OK);
    int same = 1; /* columns 2..5, unscaled */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            same &= out[y * 4 + x] == wide[y * 8 + x + 2];
    CHECK_MSG(same, "the centre crop of an 8x4 image is not its columns 2..5");
    for (int k = 0; k < 64; k++)
        big[k] = (uint8_t)(k % 2 ? 100 : 50); /* columns alternate 50, 100 */
    write_png(tmp_path("big.png"), 8, 8, 1, big, 0);
    CHECK(soma_image_read(tmp_path("big.png"), 1, 4, 4, SOMA_FIT_RESIZE, out) == SOMA_OK);
    CHECK(out[0] == 75 && out[15] == 75); /* each output pixel between two columns */
    uint8_t rgb[3 * 16];
    CHECK(soma_image_read(tmp_path("big.png"), 3, 4, 4, SOMA_FIT_RESIZE, rgb) == SOMA_OK);
    CHECK(rgb[0] == 75 && rgb[16] == 75 && rgb[32 + 15] == 75); /* gray repeated */
    crop_box b = crop_box_center(4, 8, 4, 4); /* tall: top and bottom cut */
    CHECK(b.x == 0 && b.w == 4 && b.y == 2 && b.h == 4);
    check_one_line_error(soma_image_read(tmp_path("big.png"), 2, 4, 4, SOMA_FIT_RESIZE, out),
                         "images give 1 or 3", "two channels");
}

static void test_bad_images(void)
{
    static const char *const dirs[] = {"bad", "bad/train", "bad/train/a", "bad/train/b"};
    mkdirs(dirs, 4);
    uint8_t px[16];
    gray_image(px, 0);
    write_png(tmp_path("bad/train/a/good.png"), 4, 4, 1, px, 0);
    write_png(tmp_path("bad/train/b/good.png"), 4, 4, 1, px, 0);
    /* a PNG cut in its data, a text file named .jpg, an empty .png */
    const char *cut = tmp_path("bad/train/a/cut.png");
    write_png(cut, 4, 4, 1, px, 0);
    FILE *fp = fopen(cut, "rb");
    uint8_t whole[512];
    size_t n = fp ? fread(whole, 1, sizeof whole, fp) : 0;
    if (fp)
        fclose(fp);
    write_bytes(cut, whole, n - 20);
    write_bytes(tmp_path("bad/train/b/text.jpg"), "hello", 5);
    write_bytes(tmp_path("bad/train/b/empty.png"), "", 0);
    uint8_t jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    write_bytes(tmp_path("bad/train/b/cut.jpeg"), jpeg_head, sizeof jpeg_head);

    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmp_path("bad"), "train", &gray4, &ds) == SOMA_OK, "%s",
              soma_last_error());
    if (!ds)
        return;
    CHECK(soma_dataset_count(ds) == 6 && soma_dataset_skipped(ds) == 0);
    uint8_t got[16];
    check_one_line_error(soma_dataset_image(ds, 0, got), "bad/train/a/cut.png: truncated PNG",
                         "cut PNG");
    check_one_line_error(soma_dataset_image(ds, 2, got), "cut.jpeg: corrupt or truncated JPEG",
                         "cut JPEG");
    check_one_line_error(soma_dataset_image(ds, 3, got), "empty.png: not an image", "empty");
    check_one_line_error(soma_dataset_image(ds, 5, got), "text.jpg: not an image", "text");
    float mean = 0.0f, std = 1.0f, out[16 * 6];
    int all[6] = {1, 0, 2, 3, 4, 5};
    check_one_line_error(dataset_gather(ds, all, 6, &mean, &std, out, NULL), "cut.png",
                         "gather with a bad image");
    soma_dataset_free(ds);

    soma_data_options skip = gray4;
    skip.skip_bad_images = 1;
    ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmp_path("bad"), "train", &skip, &ds) == SOMA_OK, "%s",
              soma_last_error());
    CHECK(ds && soma_dataset_count(ds) == 2 && soma_dataset_skipped(ds) == 4);
    CHECK(ds && dataset_gather(ds, all, 2, &mean, &std, out, NULL) == SOMA_OK);
    soma_dataset_free(ds);
}

/* Peak resident memory so far (VmHWM), in KiB. */
static long peak_rss_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (fp)
        fclose(fp);
    return kib;
}

/* 400 RGB images of 256x256 (75 MiB decoded) read as 3x64x64 samples in
 * batches of 32: the peak RSS grows by less than 16 MiB. */
static void test_bounded_memory(void)
{
    enum { IMAGES = 400, SIDE = 256, CAP_KIB = 16 * 1024 };
    static const char *const dirs[] = {"mem", "mem/train", "mem/train/a", "mem/train/b"};
    mkdirs(dirs, 4);
    uint8_t *px = malloc((size_t)SIDE * SIDE * 3);
    if (!px)
        return;
    char name[64];
    for (int i = 0; i < IMAGES; i++) {
        for (int k = 0; k < SIDE * SIDE * 3; k++)
            px[k] = (uint8_t)(k / 3 % SIDE + i);
        snprintf(name, sizeof name, "mem/train/%c/%04d.png", i % 2 ? 'b' : 'a', i);
        write_png(tmp_path(name), SIDE, SIDE, 3, px, 1);
    }
    free(px);
    soma_data_options rgb64 = {3, 64, 64, SOMA_FIT_CENTER_CROP, 0};
    float *batch = malloc(sizeof(float) * 32 * 3 * 64 * 64);
    long before = peak_rss_kib();
    soma_dataset *ds = NULL;
    CHECK_MSG(soma_dataset_find_ex(tmp_path("mem"), "train", &rgb64, &ds) == SOMA_OK, "%s",
              soma_last_error());
    float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.25f, 0.25f, 0.25f};
    int indices[32], read = 0;
    for (int first = 0; ds && batch && first < IMAGES; first += 32) {
        int n = IMAGES - first < 32 ? IMAGES - first : 32;
        for (int i = 0; i < n; i++)
            indices[i] = first + i;
        CHECK(dataset_gather(ds, indices, n, mean, std, batch, NULL) == SOMA_OK);
        read += n;
    }
    float m[3], s[3];
    CHECK(ds && dataset_pixel_stats(ds, m, s) == SOMA_OK);
    long after = peak_rss_kib();
    printf("image_folder_test: %d images of %dx%d RGB (%d MiB decoded) streamed; peak RSS "
           "(VmHWM) %ld -> %ld KiB, +%ld KiB (cap %d KiB)\n",
           read, SIDE, SIDE, IMAGES * SIDE * SIDE * 3 >> 20, before, after, after - before,
           CAP_KIB);
    CHECK(read == IMAGES);
#ifdef SOMA_SANITIZE_BUILD
    /* ASan keeps freed memory in quarantine (256 MiB): the RSS says nothing here */
    printf("image_folder_test: sanitizer build, the peak RSS is not checked\n");
#else
    CHECK(before > 0 && after - before < CAP_KIB);
#endif
    soma_dataset_free(ds);
    free(batch);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-folder-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_bounded_memory(); /* first: the lowest peak to grow from */
    test_folder();
    test_fit();
    test_bad_images();
    remove_tmpdir();
    return check_finish("image_folder_test");
}

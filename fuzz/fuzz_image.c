/*
 * libFuzzer harness for the image decoders (binary PGM, PNG through libpng,
 * JPEG through libjpeg), from memory through fmemopen, and the resampling of
 * a decoded image into samples (centre crop and plain resize, gray and RGB).
 *
 * Each input is read twice, as for a 4x4 and for a 28x28 model: an image of
 * another size must be refused from its header (with no size expected, a
 * header could make every run take 768 MiB). Beyond crashes
 * and sanitizer reports, it traps when an accepted image is inconsistent or
 * an error message breaks the one-line, name-first rule.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/image_decode.h"
#include "data/resize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, int want_width, int want_height)
{
    if (size == 0)
        return; /* fmemopen refuses an empty buffer */
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return;
    image img;
    soma_status st = image_read_stream(fp, "fuzz.img", want_width, want_height, &img);
    fclose(fp);
    if (st == SOMA_OK) {
        if (img.width < 1 || img.height < 1 || img.width > 16384 || img.height > 16384 ||
            (img.channels != 1 && img.channels != 3) || !img.pixels)
            __builtin_trap();
        if (img.width != want_width || img.height != want_height)
            __builtin_trap();
        /* touch both ends so ASan checks the buffer is as large as claimed */
        size_t n = (size_t)img.width * (size_t)img.height * (size_t)img.channels;
        volatile uint8_t sink = (uint8_t)(img.pixels[0] ^ img.pixels[n - 1]);
        (void)sink;
        /* and the resampling into samples of other shapes, gray and RGB */
        static uint8_t sample[3 * 28 * 28];
        for (int c = 1; c <= 3; c += 2) {
            crop_box center = crop_box_center(img.width, img.height, 5, 3);
            crop_box full = crop_box_full(img.width, img.height);
            image_sample(&img, &center, c, 3, 5, sample);
            image_sample(&img, &full, c, 28, 7, sample);
        }
    } else {
        const char *msg = soma_last_error();
        if (strncmp(msg, "fuzz.img: ", 10) != 0 || strchr(msg, '\n'))
            __builtin_trap();
        if (img.pixels || img.width || img.height)
            __builtin_trap();
    }
    image_free(&img);
    soma_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, 4, 4);
    check(data, size, 28, 28);
    return 0;
}

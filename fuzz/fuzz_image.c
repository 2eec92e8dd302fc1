/*
 * libFuzzer harness for the image readers of soma predict (binary PGM, and
 * PNG through libpng), from memory through fmemopen.
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

#include "cli/image_read.h"
#include "core/error.h"

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
        /* and the conversion to a model's input, both ways */
        static float input[3 * 28 * 28];
        static const float mean[3] = {0.1f, 0.2f, 0.3f}, std[3] = {0.3f, 0.2f, 0.1f};
        for (int c = 1; c <= 3; c += 2)
            if (image_to_input(&img, "fuzz.img", c, want_height, want_width, mean, std, input) !=
                SOMA_OK)
                __builtin_trap();
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

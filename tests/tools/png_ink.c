/*
 * png_ink FILE.png [RRGGBB...]: how much of a picture is drawn. Prints the
 * size, the number of pixels that are not white, and for each colour given
 * the number of pixels within 40 of it in every channel. For tests that
 * check a rendering (a screenshot of a report) without looking at it.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: png_ink FILE.png [RRGGBB...]\n");
        return 2;
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, argv[1])) {
        fprintf(stderr, "png_ink: %s: %s\n", argv[1], img.message);
        return 1;
    }
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        fprintf(stderr, "png_ink: %s: %s\n", argv[1], px ? img.message : "out of memory");
        return 1;
    }
    size_t n = (size_t)img.width * img.height, ink = 0;
    for (size_t i = 0; i < n; i++)
        ink += px[3 * i] < 245 || px[3 * i + 1] < 245 || px[3 * i + 2] < 245;
    printf("%u %u %zu", img.width, img.height, ink);
    for (int a = 2; a < argc; a++) {
        unsigned long c = strtoul(argv[a], NULL, 16);
        int want[3] = {(int)(c >> 16 & 255), (int)(c >> 8 & 255), (int)(c & 255)};
        size_t near = 0;
        for (size_t i = 0; i < n; i++) {
            int close = 1;
            for (int k = 0; k < 3; k++)
                close &= abs(px[3 * i + k] - want[k]) <= 40;
            near += close;
        }
        printf(" %zu", near);
    }
    printf("\n");
    free(px);
    return 0;
}

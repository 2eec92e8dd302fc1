/*
 * Decoding single image files: binary PGM (P5) always, PNG when built with
 * libpng (alpha composited onto black), JPEG when built with libjpeg
 * (libjpeg-turbo). The result is 8-bit pixels, rows top to bottom, channels
 * interleaved (HWC), gray or RGB. Every error is one line that starts with
 * the path: "x.png: truncated PNG (...)".
 */
#ifndef SOMA_DATA_IMAGE_DECODE_H
#define SOMA_DATA_IMAGE_DECODE_H

#include <stdint.h>
#include <stdio.h>

#include "soma.h"

/* The largest width or height soma decodes (a 16384x16384 RGB image is 768 MiB). */
#define IMAGE_MAX_SIDE 16384

typedef struct image {
    int width, height, channels; /* channels: 1 gray, 3 RGB */
    uint8_t *pixels;             /* width * height * channels bytes, HWC */
} image;

/*
 * Reads an image file. With want_width and want_height > 0, an image of
 * another size is refused from its header, before a pixel is decoded or
 * memory for them taken; 0, 0 takes any size up to IMAGE_MAX_SIDE.
 */
soma_status image_read(const char *path, int want_width, int want_height, image *out);

/* image_read from an open stream (e.g. fmemopen); `name` stands in for the path. */
soma_status image_read_stream(FILE *fp, const char *name, int want_width, int want_height,
                              image *out);

void image_free(image *img);

/* "x.pgm: image is 28x28 but the model expects 4x4 ...", from the header alone (decoders). */
soma_status image_check_size(const char *path, long width, long height, int want_width,
                             int want_height);

/* The JPEG decoder (jpeg_decode.c), for image_read_stream; fp at the file's start. */
soma_status jpeg_read(FILE *fp, const char *path, int want_width, int want_height, image *out);

#endif

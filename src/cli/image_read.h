/*
 * Reading inputs for `soma predict`: single images (binary PGM always, PNG
 * when built with libpng) and IDX files of many images (gzip or raw), and
 * turning pixels into the normalised float input a model expects.
 */
#ifndef SOMA_CLI_IMAGE_READ_H
#define SOMA_CLI_IMAGE_READ_H

#include <stdint.h>
#include <stdio.h>

#include "soma.h"

/* 8-bit pixels, rows top to bottom, channels interleaved (HWC). */
typedef struct image {
    int width, height, channels; /* channels: 1 gray, 3 RGB */
    uint8_t *pixels;
} image;

/*
 * Reads a binary PGM (P5, maxval <= 255) or, with libpng, a PNG (alpha
 * composited onto black). With want_width and want_height > 0, an image of
 * another size is refused from its header, before a pixel is decoded or
 * memory for them taken (a 16384x16384 PNG is 768 MiB of RGB). Errors are one
 * line that starts with the path: "x.png: truncated PNG (...)".
 */
soma_status image_read(const char *path, int want_width, int want_height, image *out);

/* image_read from an open stream (e.g. fmemopen); `name` stands in for the path. */
soma_status image_read_stream(FILE *fp, const char *name, int want_width, int want_height,
                              image *out);
void image_free(image *img);

/*
 * Writes the image as one c x h x w input, channel k (x/255 - mean[k]) /
 * std[k], converting gray <-> RGB as needed. The size must match exactly (no
 * resizing).
 */
soma_status image_to_input(const image *img, const char *path, int c, int h, int w,
                           const float *mean, const float *std, float *out);

/* 1 if the file starts like a raw IDX file of bytes, or a gzip stream. */
int looks_like_idx(const char *path);

/* The image shape (CxHxW) an IDX file's header declares, read without the
 * data; 0 when the header is not that of an IDX file of uint8 images (the
 * full reader then says what is wrong). */
int idx_image_shape(const char *path, int *c, int *h, int *w);

#endif

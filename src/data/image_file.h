/* One image file as one sample: decoded, converted to gray or RGB, fitted to a size. */
#ifndef SOMA_DATA_IMAGE_FILE_H
#define SOMA_DATA_IMAGE_FILE_H

#include <stdint.h>

#include "data/resize.h"
#include "soma.h"

/* Reads `path` as c (1 or 3) x h x w bytes, CHW, into `out`, fitted as `fit` says
 * (SOMA_FIT_EXACT refuses another size from the header, before decoding). */
soma_status image_file_sample(const char *path, int c, int h, int w, soma_image_fit fit,
                              uint8_t *out);

/* The same from a random-resized crop of the image at full resolution, the
 * box drawn from `r` (crop_box_random). */
soma_status image_file_sample_random(const char *path, int c, int h, int w,
                                     const resized_crop *rc, rng *r, uint8_t *out);

#endif

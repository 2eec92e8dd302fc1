/* Writing 8-bit PNG images (libpng): soma augment --preview, soma convert. */
#ifndef SOMA_CLI_PNG_WRITE_H
#define SOMA_CLI_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

/* Writes a width x height image of `channels` (1: gray, 3: RGB) interleaved
 * bytes, rows top to bottom. */
soma_status png_write(const char *path, const uint8_t *pixels, int width, int height,
                      int channels);

/* The same image as PNG bytes in memory (*png malloc'd), for files written
 * atomically and for data URIs. */
soma_status png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t **png,
                       size_t *len);

#endif

/*
 * Reading inputs for `soma predict`: single image files (PNG, JPEG, binary
 * PGM, decoded by the library's soma_image_read) and IDX files of many
 * images (gzip or raw), and turning pixels into the normalised float input a
 * model expects.
 */
#ifndef SOMA_CLI_IMAGE_READ_H
#define SOMA_CLI_IMAGE_READ_H

#include "soma.h"

/*
 * Reads the image at `path` as one c x h x w input, channel k (x/255 -
 * mean[k]) / std[k], gray <-> RGB converted, fitted as `fit` says
 * (SOMA_FIT_EXACT: another size is refused from the file's header).
 */
soma_status image_to_input(const char *path, int c, int h, int w, soma_image_fit fit,
                           const float *mean, const float *std, float *out);

/* 1 if the file starts like a raw IDX file of bytes, or a gzip stream. */
int looks_like_idx(const char *path);

/* The image shape (CxHxW) an IDX file's header declares, read without the
 * data; 0 when the header is not that of an IDX file of uint8 images (the
 * full reader then says what is wrong). */
int idx_image_shape(const char *path, int *c, int *h, int *w);

#endif

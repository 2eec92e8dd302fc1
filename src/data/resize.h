/*
 * From a decoded image to one sample of a model's input: a region of the
 * image (a crop box) resampled bilinearly to the sample's size, with gray and
 * RGB converted. The box is the hook for augmentation: evaluation takes the
 * centre crop (or the whole image), a training-time random-resized crop only
 * has to choose another box.
 */
#ifndef SOMA_DATA_RESIZE_H
#define SOMA_DATA_RESIZE_H

#include <stdint.h>

#include "data/image_decode.h"

/* A region of the source image in its pixel coordinates: [x, x + w) x [y, y + h). */
typedef struct crop_box {
    double x, y, w, h;
} crop_box;

/* The whole image (a plain resize, the aspect ratio not kept). */
crop_box crop_box_full(int image_width, int image_height);

/* The largest centred region with the aspect ratio of out_width x out_height:
 * resizing it gives torchvision's Resize(shorter side) + CenterCrop. */
crop_box crop_box_center(int image_width, int image_height, int out_width, int out_height);

/*
 * Writes the box of `img` as out_channels (1 or 3) x out_height x out_width
 * bytes, CHW. Bilinear with pixel centres aligned (PyTorch's
 * align_corners=False, no antialiasing), edges clamped, rounded to nearest;
 * RGB to gray by ITU-R BT.601 luma, gray to RGB by repeating it.
 */
void image_sample(const image *img, const crop_box *box, int out_channels, int out_height,
                  int out_width, uint8_t *out);

#endif

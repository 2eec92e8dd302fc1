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

#include "core/rng.h"
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

/* The centred box of `fraction` (0, 1] of crop_box_center's sides: with 224/256,
 * torchvision's Resize(size * 256/224) + CenterCrop(size). */
crop_box crop_box_center_fraction(int image_width, int image_height, int out_width,
                                  int out_height, double fraction);

/* The evaluation fraction that goes with training on random-resized crops. */
#define CROP_EVAL_FRACTION (224.0 / 256.0)

/* torchvision's RandomResizedCrop(scale, ratio): the box's area a fraction
 * in [scale[0], scale[1]] of the image's, its width / height in
 * [ratio[0], ratio[1]] (log-uniform). */
typedef struct resized_crop {
    float scale[2], ratio[2];
} resized_crop;

/* RandomResizedCrop.get_params: up to 10 draws of an area and a log-ratio,
 * the first whose whole-pixel box fits taken at a uniform position; after 10
 * misses the centre crop of the ratio clamped into range (the whole image
 * when its own ratio is in range). Draws from `r` only. */
crop_box crop_box_random(int image_width, int image_height, const resized_crop *rc, rng *r);

/*
 * Writes the box of `img` as out_channels (1 or 3) x out_height x out_width
 * bytes, CHW. Bilinear with pixel centres aligned (PyTorch's
 * align_corners=False, no antialiasing), edges clamped, rounded to nearest;
 * RGB to gray by ITU-R BT.601 luma, gray to RGB by repeating it.
 */
void image_sample(const image *img, const crop_box *box, int out_channels, int out_height,
                  int out_width, uint8_t *out);

#endif

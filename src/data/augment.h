/*
 * Data augmentation: random transforms of one float image (CHW, pixels in
 * [0, 1], before normalisation), composed in the order a spec names them
 * (docs/augment.md). augment_spec.c parses and prints specs, augment.c
 * applies them.
 *
 * The randomness of sample `index` in epoch `epoch` is the counter-based
 * stream (seed, RNG_AUGMENT, epoch, index): the same for any thread count,
 * lane split or resume point.
 */
#ifndef SOMA_DATA_AUGMENT_H
#define SOMA_DATA_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

enum augment_kind {
    AUG_SHIFT,      /* arg[0]: max pixels, integer shifts in [-N, N], zero fill */
    AUG_CROP,       /* arg[0]: padding, arg[1]: 0 zero / 1 reflect padding */
    AUG_FLIP,       /* horizontal */
    AUG_ROTATE,     /* arg[0]: max degrees */
    AUG_SCALE,      /* arg[0]: factor in [1 - s, 1 + s] */
    AUG_ELASTIC,    /* arg[0]: alpha, arg[1]: sigma (Simard et al. 2003) */
    AUG_BRIGHTNESS, /* arg[0]: added offset in [-b, b] */
    AUG_CONTRAST,   /* arg[0]: factor in [1 - c, 1 + c] around the image mean */
    AUG_CUTOUT,     /* arg[0]: side of the erased square, pixels */
    AUG_NOISE,      /* arg[0]: standard deviation of added Gaussian noise */
    AUG_RESIZED_CROP, /* arg[0..1]: area scale range, arg[2..3]: ratio range; first only,
                         on the decoded image (image folders): augment_gather */
    AUG_KINDS
};

enum { AUG_PAD_ZERO = 0, AUG_PAD_REFLECT = 1 };

typedef struct augment_step {
    enum augment_kind kind;
    float arg[4];
    float p; /* probability that the step applies to a sample */
} augment_step;

#define AUGMENT_MAX_STEPS 16
/* longest canonical text of a pipeline: 16 steps of a name and up to five
 * numbers (four values and p) of at most 32 characters each */
#define AUGMENT_TEXT_MAX 4096

typedef struct augment_pipeline {
    int n; /* 0: no augmentation */
    augment_step steps[AUGMENT_MAX_STEPS];
} augment_pipeline;

/* Parses a spec (NULL or "" or "none": no transforms). Errors read
 * "1:COL: message", COL the 1-based column of the offending character. */
soma_status augment_parse(const char *spec, augment_pipeline *out);
/* The canonical spec: every transform with all its values and its
 * probability ("none" for an empty pipeline); augment_parse reads it back to
 * the same pipeline. */
void augment_canonical(const augment_pipeline *p, char *buf, size_t size);
/* Whether the pipeline has a step of `kind`. */
int augment_has(const augment_pipeline *p, enum augment_kind kind);

/* Scratch floats augment_sample needs for a c x h x w image. */
size_t augment_scratch_floats(int c, int h, int w);
/* Applies the pipeline to image x (c x h x w floats in [0, 1]) in place,
 * with the stream of (seed, epoch, index); a resized-crop step is skipped
 * (it was applied at decoding, on a stream of its own: augment_gather).
 * scratch: augment_scratch_floats. */
void augment_sample(const augment_pipeline *p, uint64_t seed, int epoch, int index, int c, int h,
                    int w, float *x, float *scratch);
/* Whether the pipeline can apply to `ds`: a resized-crop needs samples cut
 * from decoded images (an image folder), else SOMA_ERR_ARGUMENT saying so. */
soma_status augment_check_data(const augment_pipeline *p, const soma_dataset *ds);
/* Samples indices[0..n) as training sees them in `epoch`: gathered as raw
 * pixels in [0, 1] (cut by the pipeline's resized-crop, if any, at decoding),
 * then augment_sample, into out (n samples, NCHW) and their labels (may be NULL). */
soma_status augment_gather(const augment_pipeline *p, const soma_dataset *ds, uint64_t seed,
                           int epoch, const int *indices, int n, float *out, int32_t *labels,
                           float *scratch);
/* Integer translation by (dx, dy) pixels with zero fill, after a horizontal
 * flip when `flip`; the deterministic copies of test-time augmentation.
 * scratch: c*h*w floats. */
void augment_translate(float *x, int c, int h, int w, int dx, int dy, int flip, float *scratch);

#endif

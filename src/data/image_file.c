/* One image file as one sample (soma_image_read, and each sample of an image folder). */
#include "data/image_file.h"

#include "core/error.h"
#include "data/image_decode.h"

static soma_status check_channels(const char *path, int c)
{
    if (c != 1 && c != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: the model takes %d channels; images give 1 or 3", path, c);
    return SOMA_OK;
}

/* The region of the image a fit takes. */
static crop_box fit_box(const image *img, int h, int w, soma_image_fit fit)
{
    switch (fit) {
    case SOMA_FIT_CENTER_CROP: return crop_box_center(img->width, img->height, w, h);
    case SOMA_FIT_CENTER_CROP_875:
        return crop_box_center_fraction(img->width, img->height, w, h, CROP_EVAL_FRACTION);
    default: return crop_box_full(img->width, img->height);
    }
}

soma_status image_file_sample(const char *path, int c, int h, int w, soma_image_fit fit,
                              uint8_t *out)
{
    SOMA_TRY(check_channels(path, c));
    int exact = fit == SOMA_FIT_EXACT;
    image img;
    SOMA_TRY(image_read(path, exact ? w : 0, exact ? h : 0, &img));
    crop_box box = fit_box(&img, h, w, fit);
    image_sample(&img, &box, c, h, w, out);
    image_free(&img);
    return SOMA_OK;
}

soma_status image_file_sample_random(const char *path, int c, int h, int w,
                                     const resized_crop *rc, rng *r, uint8_t *out)
{
    SOMA_TRY(check_channels(path, c));
    image img;
    SOMA_TRY(image_read(path, 0, 0, &img));
    crop_box box = crop_box_random(img.width, img.height, rc, r);
    image_sample(&img, &box, c, h, w, out);
    image_free(&img);
    return SOMA_OK;
}

soma_status soma_image_read(const char *path, int channels, int height, int width,
                            soma_image_fit fit, uint8_t *out)
{
    if (!path || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_image_read: no %s given",
                          path ? "output" : "path");
    if (height < 1 || width < 1 || height > IMAGE_MAX_SIDE || width > IMAGE_MAX_SIDE)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: sample size %dx%d is out of range", path,
                          width, height);
    if (fit != SOMA_FIT_EXACT && fit != SOMA_FIT_CENTER_CROP && fit != SOMA_FIT_RESIZE &&
        fit != SOMA_FIT_CENTER_CROP_875)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: unknown image fit %d", path, (int)fit);
    return image_file_sample(path, channels, height, width, fit, out);
}

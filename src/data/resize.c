/* Crop boxes and bilinear resampling of decoded images into samples. */
#include "data/resize.h"

#include <math.h>

crop_box crop_box_full(int image_width, int image_height)
{
    return (crop_box){0.0, 0.0, image_width, image_height};
}

crop_box crop_box_center(int image_width, int image_height, int out_width, int out_height)
{
    double want = (double)out_width / out_height, have = (double)image_width / image_height;
    crop_box b = crop_box_full(image_width, image_height);
    if (have > want) { /* too wide: cut the sides */
        b.w = image_height * want;
        b.x = (image_width - b.w) / 2.0;
    } else { /* too tall: cut top and bottom */
        b.h = image_width / want;
        b.y = (image_height - b.h) / 2.0;
    }
    return b;
}

crop_box crop_box_center_fraction(int image_width, int image_height, int out_width,
                                  int out_height, double fraction)
{
    crop_box b = crop_box_center(image_width, image_height, out_width, out_height);
    double w = b.w * fraction, h = b.h * fraction;
    return (crop_box){b.x + (b.w - w) / 2.0, b.y + (b.h - h) / 2.0, w, h};
}

/* A uniform number in [lo, hi) */
static double uniform_between(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

crop_box crop_box_random(int image_width, int image_height, const resized_crop *rc, rng *r)
{
    double area = (double)image_width * image_height;
    double log_lo = log(rc->ratio[0]), log_hi = log(rc->ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * uniform_between(r, rc->scale[0], rc->scale[1]);
        double aspect = exp(uniform_between(r, log_lo, log_hi));
        long w = lround(sqrt(target * aspect)), h = lround(sqrt(target / aspect));
        if (w > 0 && w <= image_width && h > 0 && h <= image_height) {
            long y = (long)rng_below(r, (uint32_t)(image_height - h + 1));
            long x = (long)rng_below(r, (uint32_t)(image_width - w + 1));
            return (crop_box){(double)x, (double)y, (double)w, (double)h};
        }
    }
    /* the fallback: the whole image, cut to the nearest ratio in range */
    double have = (double)image_width / image_height;
    long w = image_width, h = image_height;
    if (have < rc->ratio[0])
        h = lround(w / (double)rc->ratio[0]);
    else if (have > rc->ratio[1])
        w = lround(h * (double)rc->ratio[1]);
    h = h < 1 ? 1 : h > image_height ? image_height : h;
    w = w < 1 ? 1 : w > image_width ? image_width : w;
    return (crop_box){(double)((image_width - w) / 2), (double)((image_height - h) / 2),
                      (double)w, (double)h};
}

/* Source index and weight of the next one, for output position o of n over [start, start + len). */
static void source_position(int o, int n, double start, double len, int size, int *i0, int *i1,
                            float *frac)
{
    double s = start + (o + 0.5) * len / n - 0.5;
    if (s < 0.0)
        s = 0.0;
    if (s > size - 1)
        s = size - 1;
    int i = (int)floor(s);
    *i0 = i;
    *i1 = i + 1 < size ? i + 1 : i;
    *frac = (float)(s - i);
}

static uint8_t to_byte(float v)
{
    v = floorf(v + 0.5f);
    return (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
}

void image_sample(const image *img, const crop_box *box, int out_channels, int out_height,
                  int out_width, uint8_t *out)
{
    int ic = img->channels;
    size_t plane = (size_t)out_height * (size_t)out_width;
    for (int oy = 0; oy < out_height; oy++) {
        int y0, y1;
        float fy;
        source_position(oy, out_height, box->y, box->h, img->height, &y0, &y1, &fy);
        const uint8_t *r0 = img->pixels + (size_t)y0 * img->width * ic;
        const uint8_t *r1 = img->pixels + (size_t)y1 * img->width * ic;
        for (int ox = 0; ox < out_width; ox++) {
            int x0, x1;
            float fx, v[3];
            source_position(ox, out_width, box->x, box->w, img->width, &x0, &x1, &fx);
            for (int k = 0; k < ic; k++) {
                float top = r0[x0 * ic + k] + fx * (r0[x1 * ic + k] - r0[x0 * ic + k]);
                float bottom = r1[x0 * ic + k] + fx * (r1[x1 * ic + k] - r1[x0 * ic + k]);
                v[k] = top + fy * (bottom - top);
            }
            size_t at = (size_t)oy * out_width + ox;
            if (out_channels == ic) {
                for (int k = 0; k < ic; k++)
                    out[plane * k + at] = to_byte(v[k]);
            } else if (out_channels == 1) { /* RGB -> gray */
                out[at] = to_byte(0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2]);
            } else { /* gray -> RGB */
                for (int k = 0; k < 3; k++)
                    out[plane * k + at] = to_byte(v[0]);
            }
        }
    }
}

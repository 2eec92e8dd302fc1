/* Applying an augmentation pipeline to one image (transforms: augment.h). */
#include "data/augment.h"

#include <math.h>
#include <string.h>

#include "core/rng.h"

/* a Gaussian kernel's radius: 3 sigma (sigma <= 100, see augment_spec.c) */
#define ELASTIC_MAX_RADIUS 300

size_t augment_scratch_floats(int c, int h, int w)
{
    size_t plane = (size_t)h * (size_t)w;
    return (size_t)c * plane + 3 * plane + 2 * ELASTIC_MAX_RADIUS + 1;
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* Mirrors i into [0, n) (reflect without repeating the edge, as numpy's "reflect"). */
static int reflect_index(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* x shifted by (dx, dy): out(y, x) = in(y - dy, x - dx), outside filled by `pad`. */
static void translate(float *x, int c, int h, int w, int dx, int dy, int pad, float *copy)
{
    size_t plane = (size_t)h * (size_t)w;
    memcpy(copy, x, sizeof(float) * c * plane);
    for (int ch = 0; ch < c; ch++) {
        const float *src = copy + ch * plane;
        float *dst = x + ch * plane;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int si = i - dy, sj = j - dx;
                if (pad == AUG_PAD_REFLECT) {
                    si = reflect_index(si, h);
                    sj = reflect_index(sj, w);
                } else if (si < 0 || si >= h || sj < 0 || sj >= w) {
                    dst[(size_t)i * w + j] = 0.0f;
                    continue;
                }
                dst[(size_t)i * w + j] = src[(size_t)si * w + sj];
            }
    }
}

static void flip(float *x, int c, int h, int w)
{
    for (int r = 0; r < c * h; r++) {
        float *row = x + (size_t)r * w;
        for (int a = 0, b = w - 1; a < b; a++, b--) {
            float t = row[a];
            row[a] = row[b];
            row[b] = t;
        }
    }
}

/* Bilinear sample of a plane at (y, x), zero outside. */
static float bilinear(const float *src, int h, int w, float y, float x)
{
    float fy = floorf(y), fx = floorf(x);
    int y0 = (int)fy, x0 = (int)fx;
    float ay = y - fy, ax = x - fx, sum = 0.0f;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int yy = y0 + dy, xx = x0 + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                continue;
            float wy = dy ? ay : 1.0f - ay, wx = dx ? ax : 1.0f - ax;
            sum += wy * wx * src[(size_t)yy * w + xx];
        }
    return clamp01(sum); /* the weights' sum can round to just above 1 */
}

/* out(p) = in(A (p - centre) + centre): rotation by `degrees` and scaling by
 * `factor` about the image centre, A the inverse of that map. */
static void affine(float *x, int c, int h, int w, float degrees, float factor, float *copy)
{
    size_t plane = (size_t)h * (size_t)w;
    memcpy(copy, x, sizeof(float) * c * plane);
    double t = degrees * 3.14159265358979323846 / 180.0;
    float cs = (float)(cos(t) / factor), sn = (float)(sin(t) / factor);
    float cy = 0.5f * (float)(h - 1), cx = 0.5f * (float)(w - 1);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float py = (float)i - cy, px = (float)j - cx;
            float sy = cs * py - sn * px + cy, sx = sn * py + cs * px + cx;
            for (int ch = 0; ch < c; ch++)
                x[ch * plane + (size_t)i * w + j] = bilinear(copy + ch * plane, h, w, sy, sx);
        }
}

/* Separable Gaussian smoothing of a plane in place (zero outside, as
 * scipy.ndimage.gaussian_filter with mode "constant"). */
static void smooth(float *f, int h, int w, const float *kernel, int radius, float *tmp)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float s = 0.0f;
            for (int k = -radius; k <= radius; k++)
                if (j + k >= 0 && j + k < w)
                    s += kernel[k + radius] * f[(size_t)i * w + j + k];
            tmp[(size_t)i * w + j] = s;
        }
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            float s = 0.0f;
            for (int k = -radius; k <= radius; k++)
                if (i + k >= 0 && i + k < h)
                    s += kernel[k + radius] * tmp[(size_t)(i + k) * w + j];
            f[(size_t)i * w + j] = s;
        }
}

/* Simard et al. 2003: uniform random displacements in [-1, 1] per pixel,
 * smoothed by a Gaussian of `sigma`, scaled by `alpha`, then each pixel
 * sampled bilinearly at its displaced position. */
static void elastic(float *x, int c, int h, int w, float alpha, float sigma, rng *r,
                    float *scratch)
{
    size_t plane = (size_t)h * (size_t)w;
    float *copy = scratch, *fy = copy + c * plane, *fx = fy + plane, *tmp = fx + plane;
    float *kernel = tmp + plane;
    int radius = (int)ceilf(3.0f * sigma);
    if (radius > ELASTIC_MAX_RADIUS)
        radius = ELASTIC_MAX_RADIUS;
    float total = 0.0f;
    for (int k = -radius; k <= radius; k++)
        total += kernel[k + radius] = expf(-0.5f * (float)(k * k) / (sigma * sigma));
    for (int k = 0; k <= 2 * radius; k++)
        kernel[k] /= total;
    for (size_t i = 0; i < plane; i++)
        fy[i] = 2.0f * rng_uniform(r) - 1.0f;
    for (size_t i = 0; i < plane; i++)
        fx[i] = 2.0f * rng_uniform(r) - 1.0f;
    smooth(fy, h, w, kernel, radius, tmp);
    smooth(fx, h, w, kernel, radius, tmp);
    memcpy(copy, x, sizeof(float) * c * plane);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            size_t at = (size_t)i * w + j;
            float sy = (float)i + alpha * fy[at], sx = (float)j + alpha * fx[at];
            for (int ch = 0; ch < c; ch++)
                x[ch * plane + at] = bilinear(copy + ch * plane, h, w, sy, sx);
        }
}

/* A uniform integer in [-n, n]. */
static int offset_in(rng *r, int n)
{
    return (int)rng_below(r, (uint32_t)(2 * n + 1)) - n;
}

/* A uniform float in [-a, a]. */
static float uniform_in(rng *r, float a)
{
    return (2.0f * rng_uniform(r) - 1.0f) * a;
}

static void apply(const augment_step *s, int c, int h, int w, float *x, rng *r, float *scratch)
{
    size_t n = (size_t)c * h * w;
    switch (s->kind) {
    case AUG_SHIFT: {
        int dx = offset_in(r, (int)s->arg[0]), dy = offset_in(r, (int)s->arg[0]);
        translate(x, c, h, w, dx, dy, AUG_PAD_ZERO, scratch);
        break;
    }
    case AUG_CROP: {
        /* pad by N, crop h x w at a random offset in [0, 2N]: a shift by N - offset */
        int dx = offset_in(r, (int)s->arg[0]), dy = offset_in(r, (int)s->arg[0]);
        translate(x, c, h, w, dx, dy, (int)s->arg[1], scratch);
        break;
    }
    case AUG_FLIP: flip(x, c, h, w); break;
    case AUG_ROTATE: affine(x, c, h, w, uniform_in(r, s->arg[0]), 1.0f, scratch); break;
    case AUG_SCALE: affine(x, c, h, w, 0.0f, 1.0f + uniform_in(r, s->arg[0]), scratch); break;
    case AUG_ELASTIC: elastic(x, c, h, w, s->arg[0], s->arg[1], r, scratch); break;
    case AUG_BRIGHTNESS: {
        float b = uniform_in(r, s->arg[0]);
        for (size_t i = 0; i < n; i++)
            x[i] = clamp01(x[i] + b);
        break;
    }
    case AUG_CONTRAST: {
        float f = 1.0f + uniform_in(r, s->arg[0]);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += x[i];
        float mean = (float)(sum / (double)n);
        for (size_t i = 0; i < n; i++)
            x[i] = clamp01((x[i] - mean) * f + mean);
        break;
    }
    case AUG_CUTOUT: {
        /* DeVries & Taylor 2017: the centre anywhere in the image, the square clipped */
        int side = (int)s->arg[0];
        int cy = (int)rng_below(r, (uint32_t)h), cx = (int)rng_below(r, (uint32_t)w);
        int y0 = cy - side / 2, x0 = cx - side / 2;
        for (int ch = 0; ch < c; ch++)
            for (int i = y0 < 0 ? 0 : y0; i < y0 + side && i < h; i++)
                for (int j = x0 < 0 ? 0 : x0; j < x0 + side && j < w; j++)
                    x[((size_t)ch * h + i) * w + j] = 0.0f;
        break;
    }
    case AUG_NOISE:
        for (size_t i = 0; i < n; i++)
            x[i] = clamp01(x[i] + s->arg[0] * rng_normal(r));
        break;
    case AUG_KINDS: break;
    }
}

void augment_sample(const augment_pipeline *p, uint64_t seed, int epoch, int index, int c, int h,
                    int w, float *x, float *scratch)
{
    rng r;
    rng_init(&r, seed, RNG_AUGMENT, (uint64_t)epoch, (uint64_t)index);
    for (int i = 0; i < p->n; i++) {
        /* one coin per step, drawn even when p is 1; a skipped step draws nothing more */
        if (rng_uniform(&r) < p->steps[i].p)
            apply(&p->steps[i], c, h, w, x, &r, scratch);
    }
}

void augment_translate(float *x, int c, int h, int w, int dx, int dy, int do_flip, float *scratch)
{
    if (do_flip)
        flip(x, c, h, w);
    if (dx || dy)
        translate(x, c, h, w, dx, dy, AUG_PAD_ZERO, scratch);
}

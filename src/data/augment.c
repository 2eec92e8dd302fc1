/* Applying an augmentation pipeline to one image (transforms: augment.h). */
#include "data/augment.h"

#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "data/dataset.h"

/* a Gaussian kernel's radius: 3 sigma (sigma <= 100, see augment_spec.c) */
#define ELASTIC_MAX_RADIUS 300

size_t augment_scratch_floats(int c, int h, int w)
{
    size_t plane = (size_t)h * (size_t)w;
    return (size_t)c * plane + 4 * plane + 2 * ELASTIC_MAX_RADIUS + 1;
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
    if (!(y > -1.0f && y < (float)h && x > -1.0f && x < (float)w))
        return 0.0f; /* all four neighbours outside (and NaN) */
    /* y, x > -1: truncation of y + 1 is a floor, without a libm call */
    int y0 = (int)(y + 1.0f) - 1, x0 = (int)(x + 1.0f) - 1;
    float ay = y - (float)y0, ax = x - (float)x0, sum = 0.0f;
    if (y0 >= 0 && x0 >= 0 && y0 + 1 < h && x0 + 1 < w) { /* the common case: all inside */
        const float *p = src + (size_t)y0 * w + x0;
        float top = p[0] + ax * (p[1] - p[0]), bottom = p[w] + ax * (p[w + 1] - p[w]);
        return clamp01(top + ay * (bottom - top));
    }
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

/* Separable Gaussian smoothing in place (zero outside, as
 * scipy.ndimage.gaussian_filter with mode "constant") of a field of h x w
 * points with two interleaved values each (the y and x displacements). Tap
 * by tap over whole rows, so that the inner loops run over contiguous floats. */
/* an AVX2 copy next to the portable one, chosen when the program loads */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMOOTH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SMOOTH_CLONES
#endif

SMOOTH_CLONES
static void smooth(float *restrict f, int h, int w, const float *kernel, int radius,
                   float *restrict tmp)
{
    int row = 2 * w;
    for (int i = 0; i < h; i++) {
        const float *restrict in = f + (size_t)i * row;
        float *restrict out = tmp + (size_t)i * row;
        for (int j = 0; j < row; j++)
            out[j] = 0.0f;
        for (int k = -radius; k <= radius; k++) {
            int j0 = k < 0 ? -k : 0, j1 = k > 0 ? w - k : w; /* 0 <= j + k < w */
            if (j0 >= j1)
                continue;
            float c = kernel[k + radius];
            const float *restrict src = in + 2 * k;
#pragma omp simd
            for (int j = 2 * j0; j < 2 * j1; j++)
                out[j] += c * src[j];
        }
    }
    for (int i = 0; i < h; i++) {
        float *restrict out = f + (size_t)i * row;
        for (int j = 0; j < row; j++)
            out[j] = 0.0f;
        int k0 = -i > -radius ? -i : -radius, k1 = h - 1 - i < radius ? h - 1 - i : radius;
        for (int k = k0; k <= k1; k++) {
            const float *restrict in = tmp + (size_t)(i + k) * row;
            float c = kernel[k + radius];
#pragma omp simd
            for (int j = 0; j < row; j++)
                out[j] += c * in[j];
        }
    }
}

/* Two uniforms in [-1, 1) from the 16-bit halves of a random word: plenty
 * of resolution for a field that is smoothed next, at half the draws. */
static void signed_units(uint32_t u, float *a, float *b)
{
    *a = (float)(u & 0xffff) * (2.0f / 65536.0f) - 1.0f;
    *b = (float)(u >> 16) * (2.0f / 65536.0f) - 1.0f;
}

/* n standard normals from the stream, two per pair of words (Box-Muller, in float). */
static void normals(rng *r, float *out, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        float u1 = 1.0f - (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f); /* (0, 1] */
        float u2 = (float)(rng_u32(r) >> 8) * (6.2831853f / 16777216.0f);
        float radius = sqrtf(-2.0f * logf(u1));
        out[i] = radius * cosf(u2);
        if (i + 1 < n)
            out[i + 1] = radius * sinf(u2);
    }
}

/* Simard et al. 2003: uniform random displacements in [-1, 1] per pixel,
 * smoothed by a Gaussian of `sigma`, scaled by `alpha`, then each pixel
 * sampled bilinearly at its displaced position. */
static void elastic(float *x, int c, int h, int w, float alpha, float sigma, rng *r,
                    float *scratch)
{
    size_t plane = (size_t)h * (size_t)w;
    /* the field: (dy, dx) interleaved per pixel */
    float *copy = scratch, *field = copy + c * plane, *tmp = field + 2 * plane;
    float *kernel = tmp + 2 * plane;
    int radius = (int)ceilf(3.0f * sigma);
    if (radius > ELASTIC_MAX_RADIUS)
        radius = ELASTIC_MAX_RADIUS;
    float total = 0.0f;
    for (int k = -radius; k <= radius; k++)
        total += kernel[k + radius] = expf(-0.5f * (float)(k * k) / (sigma * sigma));
    for (int k = 0; k <= 2 * radius; k++)
        kernel[k] /= total;
    for (size_t i = 0; i < plane; i++)
        signed_units(rng_u32(r), &field[2 * i], &field[2 * i + 1]);
    smooth(field, h, w, kernel, radius, tmp);
    memcpy(copy, x, sizeof(float) * c * plane);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            size_t at = (size_t)i * w + j;
            float sy = (float)i + alpha * field[2 * at], sx = (float)j + alpha * field[2 * at + 1];
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
        normals(r, scratch, n);
        for (size_t i = 0; i < n; i++)
            x[i] = clamp01(x[i] + s->arg[0] * scratch[i]);
        break;
    case AUG_RESIZED_CROP: /* applied at decoding (augment_gather) */
    case AUG_KINDS: break;
    }
}

void augment_sample(const augment_pipeline *p, uint64_t seed, int epoch, int index, int c, int h,
                    int w, float *x, float *scratch)
{
    rng r;
    rng_init(&r, seed, RNG_AUGMENT, (uint64_t)epoch, (uint64_t)index);
    for (int i = 0; i < p->n; i++) {
        if (p->steps[i].kind == AUG_RESIZED_CROP) /* done at decoding, from its own stream */
            continue;
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

/*
 * pad_planes (the zero border the direct convolutions read around each input
 * plane) against a naive copy, for widths that end anywhere in a vector,
 * borders from 0 to 17 (wider than a vector) and rows that need one, two or
 * three vectors; the output buffer starts full of garbage, so a border left
 * unwritten shows.
 */
#include <math.h>
#include <stdlib.h>

#include "ops/cpu/conv_common.h"
#include "support/check.h"

static void check_shape(int planes, int h, int w, int top, int left, int bottom, int right)
{
    int hp = h + top + bottom, wp = w + left + right;
    size_t n = (size_t)planes * h * w, np = (size_t)planes * hp * wp;
    float *x = malloc(sizeof *x * n), *out = malloc(sizeof *out * np);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)i + 1.0f;
    for (size_t i = 0; i < np; i++)
        out[i] = NAN;
    pad_planes(x, planes, h, w, top, left, hp, wp, out);
    int bad = 0;
    for (int c = 0; c < planes; c++)
        for (int r = 0; r < hp; r++)
            for (int k = 0; k < wp; k++) {
                int sr = r - top, sk = k - left;
                float want = sr >= 0 && sr < h && sk >= 0 && sk < w
                                 ? x[((size_t)c * h + sr) * w + sk]
                                 : 0.0f;
                float got = out[((size_t)c * hp + r) * wp + k];
                bad += !(got == want);
            }
    CHECK_MSG(bad == 0, "%d planes %dx%d, border %d %d %d %d: %d values wrong", planes, h, w, top,
              left, bottom, right, bad);
    free(x), free(out);
}

int main(void)
{
    int widths[] = {1, 5, 13, 14, 15, 16, 17, 27, 28, 31, 32, 33, 55};
    int borders[] = {0, 1, 2, 5, 16, 17};
    for (size_t a = 0; a < sizeof widths / sizeof *widths; a++)
        for (size_t b = 0; b < sizeof borders / sizeof *borders; b++) {
            int w = widths[a], p = borders[b];
            check_shape(3, 4, w, p, p, p, p);
            check_shape(2, 3, w, 0, p, 0, (p + 3) % 7); /* rowvec's shape: side borders only */
            check_shape(1, 2, w, p, 0, 1, p);
        }
    return check_finish("pad_planes");
}

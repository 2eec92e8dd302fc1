#include "ops/cpu/conv_common.h"

#include <string.h>

void pad_planes(const float *x, int planes, int h, int w, int top, int left, int hp, int wp,
                float *out)
{
    for (int c = 0; c < planes; c++) {
        const float *src = x + (size_t)c * h * w;
        float *dst = out + (size_t)c * hp * wp;
        memset(dst, 0, sizeof *dst * (size_t)top * wp);
        for (int r = 0; r < h; r++) {
            float *row = dst + (size_t)(top + r) * wp;
            memset(row, 0, sizeof *row * left);
            memcpy(row + left, src + (size_t)r * w, sizeof *row * w);
            memset(row + left + w, 0, sizeof *row * (wp - left - w));
        }
        memset(dst + (size_t)(top + h) * wp, 0, sizeof *dst * (size_t)(hp - top - h) * wp);
    }
}

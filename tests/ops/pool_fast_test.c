/*
 * The specialised stride-2 max-pooling kernels against the generic loops,
 * bit for bit: values and argmax for 1x1 to 4x4 windows, unpadded and with
 * padding up to half the window (PyTorch's limit), input gradients for
 * 2x2, on inputs with ties, NaN, infinities and signed zeros (and such
 * gradients), odd heights and widths (an input row or column no window
 * covers), widths around multiples of 16, 1 and 2 threads; with and without
 * the ReLU before the pool (pool_geom.relu); every plane shape the
 * small-plane kernels take. The generic loop itself is
 * checked against a window scanned by hand. The kernel checks pass trivially
 * without AVX-512.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/pool_fast.h"
#include "ops/cpu/simd.h"
#include "support/check.h"

/* planes of 10x10 (LeNet-5's second pool) the small-plane forward kernel took */
static int lenet_pool2_taken;

static float relu_of(float v) { return v > 0.0f ? v : 0.0f; }

static void check_relu(int n, int c, int h, int w, int size, int pad, int threads, int relu)
{
    pool_geom g = {n, c, h, w, size, 2, pad, (h + 2 * pad - size) / 2 + 1,
                   (w + 2 * pad - size) / 2 + 1, relu};
    size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * g.oh * g.ow;
    float *x = malloc(sizeof *x * nx), *dy = malloc(sizeof *dy * ny);
    float *y1 = malloc(sizeof *y1 * ny), *y2 = malloc(sizeof *y2 * ny);
    float *dx1 = malloc(sizeof *dx1 * nx), *dx2 = malloc(sizeof *dx2 * nx);
    int32_t *a1 = malloc(sizeof *a1 * ny), *a2 = malloc(sizeof *a2 * ny);
    rng r;
    rng_init(&r, 9, RNG_TEST, (uint64_t)h * 100 + w, 0);
    static const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, 1.0f};
    for (size_t i = 0; i < nx; i++) {
        uint32_t u = rng_below(&r, 20);
        /* small integers make ties common; a few special values */
        x[i] = u < 7 ? specials[u] : (float)rng_below(&r, 4) - 2.0f;
    }
    static const float dy_specials[] = {-0.0f, 0.0f, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < ny; i++) {
        uint32_t u = rng_below(&r, 40);
        dy[i] = u < 5 ? dy_specials[u] : u < 10 ? -0.0f : rng_normal(&r);
    }
    /* poison the outputs: every element must be written */
    memset(dx1, 0x7f, sizeof *dx1 * nx);
    memset(dx2, 0x55, sizeof *dx2 * nx);
    maxpool_forward_generic(&g, x, y1, a1, threads);
    maxpool_backward_generic(&g, dy, a1, dx1, threads);
    if (maxpool_s2_forward(&g, x, y2, a2, threads)) {
        CHECK_MSG(memcmp(y1, y2, sizeof *y1 * ny) == 0, "%dx%d/%d relu %d: values differ", h, w,
                  size, relu);
        CHECK_MSG(memcmp(a1, a2, sizeof *a1 * ny) == 0, "%dx%d/%d relu %d: argmax differs", h,
                  w, size, relu);
    }
    memset(y2, 0x55, sizeof *y2 * ny);
    memset(a2, 0x55, sizeof *a2 * ny);
    if (maxpool_2x2_small_forward(&g, x, y2, a2, threads)) {
        lenet_pool2_taken += h == 10 && w == 10;
        CHECK_MSG(memcmp(y1, y2, sizeof *y1 * ny) == 0,
                  "%dx%d relu %d: values of the small-plane kernel differ", h, w, relu);
        CHECK_MSG(memcmp(a1, a2, sizeof *a1 * ny) == 0,
                  "%dx%d relu %d: argmax of the small-plane kernel differs", h, w, relu);
    }
    if (size == 2 && maxpool_2x2_backward(&g, dy, a1, dx2, threads))
        CHECK_MSG(memcmp(dx1, dx2, sizeof *dx1 * nx) == 0, "%dx%d relu %d: gradients differ", h,
                  w, relu);
    memset(dx2, 0x55, sizeof *dx2 * nx);
    if (maxpool_2x2_small_backward(&g, dy, a1, dx2, threads))
        CHECK_MSG(memcmp(dx1, dx2, sizeof *dx1 * nx) == 0,
                  "%dx%d relu %d: gradients of the small-plane kernel differ", h, w, relu);
    /* the generic loop itself on a window by hand: first maximum, NaN wins;
     * with the ReLU, of x > 0 ? x : +0, and no argmax where that is +0 */
    for (size_t o = 0; o < ny; o++) {
        size_t plane = o / ((size_t)g.oh * g.ow), q = o % ((size_t)g.oh * g.ow);
        int oy = (int)(q / g.ow), ox = (int)(q % g.ow);
        const float *xp = x + plane * h * w;
        int best = -1;
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++) {
                int iy = 2 * oy - pad + i, ix = 2 * ox - pad + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    continue;
                int at = iy * w + ix;
                float v = relu ? relu_of(xp[at]) : xp[at];
                if (best < 0 || v > (relu ? relu_of(xp[best]) : xp[best]) || isnan(v))
                    best = at;
            }
        if (relu && best >= 0 && !(relu_of(xp[best]) > 0.0f))
            best = -1;
        CHECK_MSG(a1[o] == best, "%dx%d relu %d: output %zu argmax %d, want %d", h, w, relu, o,
                  a1[o], best);
    }
    free(x), free(dy), free(y1), free(y2), free(dx1), free(dx2), free(a1), free(a2);
}

static void check_padded(int n, int c, int h, int w, int size, int pad, int threads)
{
    check_relu(n, c, h, w, size, pad, threads, 0);
    check_relu(n, c, h, w, size, pad, threads, 1);
}

static void check_shape(int n, int c, int h, int w, int size, int threads)
{
    check_padded(n, c, h, w, size, 0, threads);
}

int main(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        check_shape(3, 2, 28, 28, 2, threads);
        check_shape(2, 3, 10, 10, 2, threads);
        check_shape(2, 2, 7, 7, 2, threads);
        check_shape(1, 3, 2, 2, 2, threads);
        check_shape(1, 2, 3, 65, 2, threads);
        check_shape(2, 3, 55, 55, 3, threads); /* AlexNet's */
        check_shape(1, 2, 13, 13, 3, threads);
        check_shape(2, 2, 27, 27, 3, threads); /* AlexNet's second and third */
        check_shape(1, 3, 40, 35, 3, threads);
        check_shape(1, 2, 3, 3, 3, threads);   /* one window */
        check_padded(2, 3, 7, 7, 3, 1, threads); /* vgg-small's last pool */
        check_padded(2, 3, 8, 8, 3, 1, threads);
        check_padded(1, 2, 55, 55, 3, 1, threads);
        /* every plane the small-plane kernels take: 1 to 32 outputs (the
         * gradient), at most 8 output columns, 2 rows of at most 16 (forward) */
        for (int h = 2; h <= 65; h++)
            for (int w = 2; w <= 65; w++)
                if (w <= 17 || (h / 2) * (w / 2) <= 32)
                    check_padded(1, 3, h, w, 2, 0, threads);
        for (int size = 1; size <= 4; size++)
            for (int pad = 0; pad <= size / 2; pad++)
                for (int w = size > 2 * pad ? size - 2 * pad : 1; w <= 36; w++)
                    check_padded(1, 2, size + 3, w, size, pad, threads);
    }
    CHECK_MSG(lenet_pool2_taken > 0 || !cpu_has_avx512(),
              "the small-plane forward kernel did not take 10x10 planes");
    return check_finish("pool_fast");
}

/*
 * The gradient's sum of squares (sum_squares.h) in its documented order,
 * bit for bit: element i in partial i % 32, partials folded in halves. The
 * reference here spells that order out with scalar doubles; the library's
 * path (AVX-512, or the portable loop under SOMA_CPU=generic: the _portable
 * twin of this test) must match it for every length around the block size,
 * and at offsets that misalign the loads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/sum_squares.h"
#include "support/check.h"

static double reference(const float *x, size_t n)
{
    double p[SUM_SQUARES_PARTS] = {0.0};
    for (size_t i = 0; i < n; i++)
        p[i % SUM_SQUARES_PARTS] += (double)x[i] * (double)x[i];
    for (int half = SUM_SQUARES_PARTS / 2; half >= 1; half /= 2)
        for (int k = 0; k < half; k++)
            p[k] += p[k + half];
    return p[0];
}

/* The naive left-to-right sum: it must differ from the reference on these
 * values, or the test could not tell one order from another. */
static double in_order(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return s;
}

int main(void)
{
    enum { MAX = 70001 };
    float *x = malloc(sizeof *x * (MAX + 3));
    rng r;
    rng_init(&r, 5, RNG_TEST, 0, 0);
    /* magnitudes within a few powers of two: every addition rounds, and
     * rounds differently in another order (a wide spread would leave the
     * small squares lost in any order) */
    for (size_t i = 0; i < MAX + 3; i++)
        x[i] = ldexpf(rng_normal(&r), (int)rng_below(&r, 5) - 2);
    static const size_t lengths[] = {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 1000, 61706, MAX};
    int differs = 0;
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
        for (size_t off = 0; off < 3; off++) {
            size_t n = lengths[l];
            double got = sum_squares_f32(x + off, n), want = reference(x + off, n);
            CHECK_MSG(memcmp(&got, &want, sizeof got) == 0, "n %zu offset %zu: %.17g, want %.17g",
                      n, off, got, want);
            differs |= in_order(x + off, n) != want;
        }
    CHECK_MSG(differs, "the order is not observable on these values");
    /* zeros and a NaN */
    float z[40] = {0};
    z[3] = -0.0f;
    CHECK(sum_squares_f32(z, 40) == 0.0 && !signbit(sum_squares_f32(z, 40)));
    z[37] = NAN;
    CHECK(isnan(sum_squares_f32(z, 40)));
    free(x);
    return check_finish("sum_squares_test");
}

/*
 * bench/kernels/pool_bench: max-pooling kernels against the generic loops,
 * one thread, on the pooling layers of LeNet-5, the BN CNN and AlexNet:
 * the library's AVX-512 forward (stride 2 rows; 2x2 small-plane blocks)
 * and 2x2 backward, and two
 * experimental AVX-512 backward kernels for AlexNet's overlapping 3x3
 * stride-2 windows, where an input sums up to four gradients. The library
 * keeps the generic scatter for those: neither kernel was reliably faster
 * (bench/kernels/README.md).
 *   rows    each input row written once from registers: even columns take
 *           tap 2 of the output before, then tap 0 of their own; odd, tap 1
 *   gather  the generic scatter 16 outputs at a time (gather, add, scatter;
 *           neighbours naming the same input add both in the later lane)
 * Every kernel is first checked bit for bit against the generic loop on
 * tie-heavy inputs with NaN, infinities and signed zeros (and such
 * gradients) in odd sizes; then each is timed, best of REPEATS, in thread
 * CPU microseconds per image.
 *   pool_bench [REPEATS]    (default 20; a few seconds in all)
 *   pool_bench --check      the checks alone (CTest pool_bench_check)
 * Build: see bench/kernels/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "ops/cpu/pool_fast.h"
#include "ops/cpu/simd.h"

#if SIMD_AVX512

/* 0, 2, ..., 30: output lane l's leftmost input column, 2l */
AVX512_INLINE __m512i even_lanes(void)
{
    return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

/* rows: the taps of 16 outputs of one output row on the input row at `at`.
 * Adding the +0 of a tap that is not the argmax changes nothing: a sum
 * that starts at +0 is never -0. */
AVX512_INLINE void add_taps(const float *dy, const int32_t *argmax, int ox, int ow, __m512i at,
                            __m512 *even, __m512 *odd)
{
    int n = ow - ox < 16 ? ow - ox : 16;
    __mmask16 m = lanes(n);
    /* outputs ox - 1 .. ox + 14, those that exist */
    __mmask16 mb = (__mmask16)(lanes(ow - ox + 1) & (ox == 0 ? 0xfffe : 0xffff));
    __m512 d = _mm512_maskz_loadu_ps(m, dy + ox);
    __m512i a = _mm512_maskz_loadu_epi32(m, argmax + ox);
    __m512 db = _mm512_maskz_loadu_ps(mb, dy + ox - 1);
    __m512i ab = _mm512_maskz_loadu_epi32(mb, argmax + ox - 1);
    __m512 t2_before = _mm512_maskz_mov_ps(_mm512_mask_cmpeq_epi32_mask(mb, ab, at), db);
    __m512 t0 = _mm512_maskz_mov_ps(_mm512_mask_cmpeq_epi32_mask(m, a, at), d);
    __m512 t1 = _mm512_maskz_mov_ps(
        _mm512_mask_cmpeq_epi32_mask(m, a, _mm512_add_epi32(at, _mm512_set1_epi32(1))), d);
    *even = _mm512_add_ps(_mm512_add_ps(*even, t2_before), t0);
    *odd = _mm512_add_ps(*odd, t1);
}

/* rows: input row r is tap row r - 2 oy of output rows r/2 - 1 (r even) and
 * r/2, in that order; blocks run over the ow + 1 even columns. */
static AVX512_FN void plane_rows(const float *dy, const int32_t *argmax, int h, int w, int oh,
                                 int ow, float *dx)
{
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                             7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < h; r++) {
        int above = r % 2 == 0 && r >= 2 && r / 2 - 1 < oh, own = r / 2 < oh;
        size_t o_above = (size_t)(r / 2 - 1) * ow, o_own = (size_t)(r / 2) * ow;
        float *row = dx + (size_t)r * w;
        for (int ox = 0; ox <= ow; ox += 16) {
            int cols = w - 2 * ox < 32 ? w - 2 * ox : 32;
            __m512i at = _mm512_add_epi32(_mm512_set1_epi32(r * w + 2 * ox), even_lanes());
            __m512 even = zero, odd = zero;
            if (above)
                add_taps(dy + o_above, argmax + o_above, ox, ow, at, &even, &odd);
            if (own)
                add_taps(dy + o_own, argmax + o_own, ox, ow, at, &even, &odd);
            _mm512_mask_storeu_ps(row + 2 * ox, lanes(cols),
                                  _mm512_permutex2var_ps(even, lo_idx, odd));
            _mm512_mask_storeu_ps(row + 2 * ox + 16, lanes(cols - 16),
                                  _mm512_permutex2var_ps(even, hi_idx, odd));
        }
    }
}

/* gather: within an output row only neighbours can name the same input
 * (column 2m is tap 2 of output m - 1 and tap 0 of output m); the later
 * lane adds both, in order, and lands last (a scatter writes its lanes in
 * order). */
static AVX512_FN void plane_gather(const float *dy, const int32_t *argmax, int h, int w, int oh,
                                   int ow, float *dx)
{
    const __m512i minus_one = _mm512_set1_epi32(-1);
    memset(dx, 0, sizeof *dx * h * w);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox += 16) {
            __mmask16 m = lanes(ow - ox);
            size_t o = (size_t)oy * ow + ox;
            __m512 d = _mm512_maskz_loadu_ps(m, dy + o);
            __m512i a = _mm512_mask_loadu_epi32(minus_one, m, argmax + o);
            /* lane l - 1's argmax and gradient in lane l (none in lane 0) */
            __m512i a_before = _mm512_alignr_epi32(a, minus_one, 15);
            __m512 d_before = _mm512_castsi512_ps(
                _mm512_alignr_epi32(_mm512_castps_si512(d), _mm512_setzero_si512(), 15));
            __mmask16 shared = _mm512_mask_cmpeq_epi32_mask(m, a, a_before);
            __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, a, dx, 4);
            v = _mm512_mask_add_ps(v, shared, v, d_before);
            v = _mm512_add_ps(v, d);
            _mm512_mask_i32scatter_ps(dx, m, a, v, 4);
        }
}

#endif

enum { GENERIC, LIBRARY, ROWS, GATHER, KINDS };
static const char *const kind_names[] = {"generic", "library", "rows", "gather"};

/* Backward by `kind`; 0 when it does not apply here. */
static int backward(int kind, const pool_geom *g, const float *dy, const int32_t *a, float *dx)
{
    if (kind == GENERIC) {
        maxpool_backward_generic(g, dy, a, dx, 1);
        return 1;
    }
    if (kind == LIBRARY) /* as cpu_maxpool_backward picks */
        return maxpool_2x2_small_backward(g, dy, a, dx, 1) ||
               maxpool_2x2_backward(g, dy, a, dx, 1);
#if SIMD_AVX512
    /* (they know no argmax -1: no ReLU before the pool) */
    if (g->relu || g->size != 3 || g->stride != 2 || g->pad != 0 || !cpu_has_avx512())
        return 0;
    size_t in = (size_t)g->h * g->w, out = (size_t)g->oh * g->ow;
    for (int p = 0; p < g->n * g->c; p++)
        (kind == ROWS ? plane_rows : plane_gather)(dy + out * p, a + out * p, g->h, g->w, g->oh,
                                                   g->ow, dx + in * p);
    return 1;
#else
    return 0;
#endif
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct layer_data {
    pool_geom g;
    float *x, *y, *dy, *dx, *dx_generic, *dx_kind[KINDS];
    int32_t *a;
} layer_data;

/* ties: small integers and special values; `plain`: normal values */
static void make(layer_data *d, int n, int c, int h, int w, int size, int relu, int plain)
{
    int oh = (h - size) / 2 + 1, ow = (w - size) / 2 + 1;
    d->g = (pool_geom){n, c, h, w, size, 2, 0, oh, ow, relu};
    size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    d->x = malloc(sizeof(float) * nx), d->y = malloc(sizeof(float) * ny);
    d->dy = malloc(sizeof(float) * ny), d->a = malloc(sizeof(int32_t) * ny);
    d->dx = malloc(sizeof(float) * nx), d->dx_generic = malloc(sizeof(float) * nx);
    for (int k = 0; k < KINDS; k++) /* one per kind, touched */
        d->dx_kind[k] = calloc(nx, sizeof(float));
    rng r;
    rng_init(&r, 4, RNG_TEST, (uint64_t)h * 1000 + w, 0);
    static const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
    for (size_t i = 0; i < nx; i++) {
        uint32_t u = rng_below(&r, 20);
        d->x[i] = plain ? rng_normal(&r) : u < 5 ? specials[u] : (float)rng_below(&r, 3);
    }
    for (size_t i = 0; i < ny; i++) {
        uint32_t u = rng_below(&r, 20);
        d->dy[i] = plain || u >= 5 ? rng_normal(&r) : specials[u];
    }
    maxpool_forward_generic(&d->g, d->x, d->y, d->a, 1);
    maxpool_backward_generic(&d->g, d->dy, d->a, d->dx_generic, 1);
}

static void release(layer_data *d)
{
    free(d->x), free(d->y), free(d->dy), free(d->a), free(d->dx), free(d->dx_generic);
    for (int k = 0; k < KINDS; k++)
        free(d->dx_kind[k]);
}

/* 0 when a kernel that applies gives other bits than the generic loop */
static int validate(int n, int c, int h, int w, int size, int relu)
{
    layer_data d;
    make(&d, n, c, h, w, size, relu, 0);
    size_t nx = (size_t)n * c * h * w;
    int ok = 1;
    for (int k = LIBRARY; k < KINDS; k++) {
        memset(d.dx, 0x7f, sizeof(float) * nx); /* every input must be written */
        if (backward(k, &d.g, d.dy, d.a, d.dx) &&
            memcmp(d.dx, d.dx_generic, sizeof(float) * nx) != 0) {
            printf("MISMATCH: %s on %dx%d, %dx%d windows\n", kind_names[k], h, w, size, size);
            ok = 0;
        }
    }
    release(&d);
    return ok;
}

static const struct {
    const char *name;
    int n, c, h, size;
    /* the ReLU before the pool (pool_geom) where the network plans one; not
     * on AlexNet's pool5, which the experimental kernels could not take */
    int relu;
} layers[] = {
    {"lenet5 pool1 6x28x28 2x2 (batch 64)", 64, 6, 28, 2, 1},
    {"lenet5 pool2 16x10x10 2x2 (batch 64)", 64, 16, 10, 2, 1},
    {"bn-cnn pool1 32x28x28 2x2 (batch 32)", 32, 32, 28, 2, 1},
    {"alexnet pool1 96x55x55 3x3/2 (batch 8)", 8, 96, 55, 3, 0},
    {"alexnet pool2 256x27x27 3x3/2 (batch 8)", 8, 256, 27, 3, 0},
    {"alexnet pool5 256x13x13 3x3/2 (batch 8)", 8, 256, 13, 3, 0},
};

int main(int argc, char **argv)
{
    int check_only = argc > 1 && strcmp(argv[1], "--check") == 0;
    int repeats = argc > 1 && !check_only ? atoi(argv[1]) : 20, ok = 1;
    for (int size = 2; size <= 3; size++)
        for (int h = size; h <= size + 5; h++)
            for (int w = size; w <= 70; w++)
                for (int relu = 0; relu <= 1; relu++)
                    ok &= validate(1, 2, h, w, size, relu);
    ok &= validate(2, 3, 55, 55, 3, 0) & validate(2, 3, 27, 27, 3, 0) &
          validate(2, 3, 13, 13, 3, 0);
    if (!ok || check_only)
        return !ok;
    printf("%-42s %6s %6s  backward us per image (speedup)\n", "layer", "rows", "small");
    for (size_t s = 0; s < sizeof layers / sizeof layers[0]; s++) {
        layer_data d;
        make(&d, layers[s].n, layers[s].c, layers[s].h, layers[s].h, layers[s].size,
             layers[s].relu, 1);
        double best[KINDS + 3];
        for (int k = 0; k < KINDS + 3; k++)
            best[k] = 1e30;
        for (int rep = 0; rep < repeats; rep++) {
            double t0 = now();
            maxpool_forward_generic(&d.g, d.x, d.y, d.a, 1);
            double t1 = now();
            int fwd = maxpool_s2_forward(&d.g, d.x, d.y, d.a, 1);
            double t2 = now();
            int small = maxpool_2x2_small_forward(&d.g, d.x, d.y, d.a, 1);
            double t3 = now();
            best[KINDS] = fmin(best[KINDS], t1 - t0);
            best[KINDS + 1] = fwd ? fmin(best[KINDS + 1], t2 - t1) : 0.0;
            best[KINDS + 2] = small ? fmin(best[KINDS + 2], t3 - t2) : 0.0;
            for (int j = 0; j < KINDS; j++) {
                int k = (j + rep) % KINDS; /* each kind after each other in turn */
                double t = now();
                int ran = backward(k, &d.g, d.dy, d.a, d.dx_kind[k]);
                best[k] = ran ? fmin(best[k], now() - t) : 0.0;
            }
        }
        double per = 1e6 / d.g.n;
        printf("%-42s %5.2fx %5.2fx ", layers[s].name,
               best[KINDS + 1] > 0 ? best[KINDS] / best[KINDS + 1] : 0.0,
               best[KINDS + 2] > 0 ? best[KINDS] / best[KINDS + 2] : 0.0);
        for (int k = 0; k < KINDS; k++)
            if (best[k] > 0)
                printf(" %s %.1f (%.2fx)", kind_names[k], best[k] * per, best[GENERIC] / best[k]);
        printf("\n");
        release(&d);
    }
    return 0;
}

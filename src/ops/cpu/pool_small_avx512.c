/*
 * 2x2 stride-2 max-pooling of small planes (LeNet-5's second pool: 16
 * planes of 10x10 into 5x5), where pool_avx512.c's row kernels would fill
 * 5 of 16 lanes.
 *
 * Forward: blocks of 16 / ow output rows (3 rows, 15 lanes in LeNet-5)
 * whose input rows, at most 64 values, sit in four vectors; each lane's
 * four candidates are picked from them with permutes. Same values and
 * argmax as the generic loop (pool_fast_test).
 *
 * Input gradient, for planes whose outputs fit in two vectors: the
 * generic scatter branches on every output's argmax, which the ReLU before
 * the pool makes unpredictable (-1 for a window with nothing positive):
 * once the slowest pass of a LeNet-5 layer. Every input lane looks up
 * its window's output in registers and takes that gradient when it is the
 * argmax, a plane at a time with all 16 lanes busy. Same bits as the
 * generic loop (pool_fast_test).
 */
#include <stdint.h>

#include "ops/cpu/pool_fast.h"
#include "ops/cpu/pool_simd.h"
#include "ops/cpu/team.h"

/* Outputs per plane: two vectors, which one permute picks from. */
#define SMALL_OUT 32
/* Inputs per plane; 2x2 windows of at most SMALL_OUT outputs cover fewer. */
#define SMALL_IN 256

int maxpool_2x2_small(const pool_geom *g)
{
    return g->size == 2 && g->stride == 2 && g->pad == 0 && g->oh * g->ow <= SMALL_OUT &&
           g->h * g->w <= SMALL_IN;
}

#if SIMD_AVX512

/* Input values a forward block may span: four vectors. */
#define BLOCK_IN 64

/* Output rows per forward block, 0 where the block kernel does not apply
 * (fewer than 2 rows a block gain nothing over the row kernel). */
static int block_rows(const pool_geom *g)
{
    if (!(g->size == 2 && g->stride == 2 && g->pad == 0 && g->ow >= 1 && g->ow <= 8))
        return 0;
    int rows = 16 / g->ow < g->oh ? 16 / g->ow : g->oh;
    return rows >= 2 && 2 * rows * g->w <= BLOCK_IN ? rows : 0;
}

typedef struct block_job {
    const pool_geom *g;
    const float *x;
    float *y;
    int32_t *argmax;
    int rows;
    /* each lane's window's first input, from the block's first input row */
    int32_t first[16];
} block_job;

/* Lane i: value idx[i] of the 64 in v0..v3 (a permute reads the low 5 bits). */
AVX512_INLINE __m512 pick64(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512i idx)
{
    __mmask16 upper = _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(32));
    return _mm512_mask_blend_ps(upper, _mm512_permutex2var_ps(v0, idx, v1),
                                _mm512_permutex2var_ps(v2, idx, v3));
}

static AVX512_FN void plane_forward(void *job, int p)
{
    const block_job *j = job;
    const int w = j->g->w, oh = j->g->oh, ow = j->g->ow, relu = j->g->relu;
    const int in = j->g->h * w, out = oh * ow;
    const float *x = j->x + (size_t)in * p;
    float *y = j->y + (size_t)out * p;
    int32_t *argmax = j->argmax + (size_t)out * p;
    const __m512i i0 = _mm512_loadu_si512(j->first);
    const __m512i i1 = _mm512_add_epi32(i0, _mm512_set1_epi32(1));
    const __m512i i2 = _mm512_add_epi32(i0, _mm512_set1_epi32(w));
    const __m512i i3 = _mm512_add_epi32(i0, _mm512_set1_epi32(w + 1));
    for (int oy = 0; oy < oh; oy += j->rows) {
        int base = 2 * oy * w, left = in - base;
        const float *xb = x + base;
        __m512 v0 = _mm512_maskz_loadu_ps(lanes(left), xb);
        __m512 v1 = _mm512_maskz_loadu_ps(lanes(left - 16), xb + 16);
        __m512 v2 = _mm512_maskz_loadu_ps(lanes(left - 32), xb + 32);
        __m512 v3 = _mm512_maskz_loadu_ps(lanes(left - 48), xb + 48);
        __m512i at = _mm512_add_epi32(i0, _mm512_set1_epi32(base));
        __m512 best = pick64(v0, v1, v2, v3, i0);
        __m512i arg = at;
        window_2x2_max(pick64(v0, v1, v2, v3, i1), pick64(v0, v1, v2, v3, i2),
                       pick64(v0, v1, v2, v3, i3), _mm512_add_epi32(at, _mm512_set1_epi32(1)),
                       _mm512_add_epi32(at, _mm512_set1_epi32(w)),
                       _mm512_add_epi32(at, _mm512_set1_epi32(w + 1)), relu, &best, &arg);
        __mmask16 m = lanes((oh - oy < j->rows ? oh - oy : j->rows) * ow);
        _mm512_mask_storeu_ps(y + oy * ow, m, best);
        _mm512_mask_storeu_epi32(argmax + oy * ow, m, arg);
    }
}

int maxpool_2x2_small_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                              int threads)
{
    int rows = block_rows(g);
    if (!(rows && cpu_has_avx512()))
        return 0;
    block_job job = {.g = g, .x = x, .y = y, .argmax = argmax, .rows = rows};
    for (int i = 0; i < rows * g->ow; i++)
        job.first[i] = (i / g->ow) * 2 * g->w + (i % g->ow) * 2;
    cpu_team_for(threads, g->n * g->c, plane_forward, &job);
    return 1;
}

typedef struct small_job {
    const pool_geom *g;
    const float *dy;
    const int32_t *argmax;
    float *dx;
    /* the output whose window holds each input; for an input no window
     * holds (an odd last row or column), a neighbour's, whose argmax is
     * never that input */
    int32_t owner[SMALL_IN];
} small_job;

static AVX512_FN void plane_backward(void *arg, int p)
{
    const small_job *j = arg;
    int out = j->g->oh * j->g->ow, in = j->g->h * j->g->w;
    const float *dy = j->dy + (size_t)out * p;
    const int32_t *argmax = j->argmax + (size_t)out * p;
    float *dx = j->dx + (size_t)in * p;
    __mmask16 lo = lanes(out), hi = lanes(out - 16);
    __m512 d0 = _mm512_maskz_loadu_ps(lo, dy), d1 = _mm512_maskz_loadu_ps(hi, dy + 16);
    __m512i a0 = _mm512_maskz_loadu_epi32(lo, argmax);
    __m512i a1 = _mm512_maskz_loadu_epi32(hi, argmax + 16);
    __m512i at = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    const __m512 zero = _mm512_setzero_ps();
    for (int i = 0; i < in; i += 16) {
        __m512i own = _mm512_loadu_si512(j->owner + i);
        __m512 d = _mm512_permutex2var_ps(d0, own, d1);
        __mmask16 hit = _mm512_cmpeq_epi32_mask(_mm512_permutex2var_epi32(a0, own, a1), at);
        /* 0 + d as the generic loop's accumulation gives (so -0 becomes +0) */
        _mm512_mask_storeu_ps(dx + i, lanes(in - i), _mm512_maskz_add_ps(hit, zero, d));
        at = _mm512_add_epi32(at, step);
    }
}

int maxpool_2x2_small_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                               float *dx, int threads)
{
    if (!(maxpool_2x2_small(g) && cpu_has_avx512()))
        return 0;
    small_job job = {.g = g, .dy = dy, .argmax = argmax, .dx = dx};
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            int oy = y / 2 < g->oh ? y / 2 : g->oh - 1, ox = x / 2 < g->ow ? x / 2 : g->ow - 1;
            job.owner[y * g->w + x] = oy * g->ow + ox;
        }
    cpu_team_for(threads, g->n * g->c, plane_backward, &job);
    return 1;
}

#else

int maxpool_2x2_small_forward(const pool_geom *g, const float *x, float *y, int32_t *argmax,
                              int threads)
{
    (void)g, (void)x, (void)y, (void)argmax, (void)threads;
    return 0;
}

int maxpool_2x2_small_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                               float *dx, int threads)
{
    (void)g, (void)dy, (void)argmax, (void)dx, (void)threads;
    return 0;
}

#endif

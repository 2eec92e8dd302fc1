/*
 * The input gradient of 2x2 stride-2 max-pooling for planes whose outputs
 * fit in two vectors (LeNet-5's second pool: 16 planes of 10x10 into 5x5).
 * pool_avx512.c's row kernel would fill 5 of 16 lanes there, and the
 * generic scatter branches on every output's argmax, which the ReLU before
 * the pool makes unpredictable (-1 for a window with nothing positive):
 * once the slowest pass of a LeNet-5 layer. Here every input lane looks up
 * its window's output in registers and takes that gradient when it is the
 * argmax, a plane at a time with all 16 lanes busy. Same bits as the
 * generic loop (pool_fast_test).
 */
#include <stdint.h>

#include "ops/cpu/pool_fast.h"
#include "ops/cpu/simd.h"
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

int maxpool_2x2_small_backward(const pool_geom *g, const float *dy, const int32_t *argmax,
                               float *dx, int threads)
{
    (void)g, (void)dy, (void)argmax, (void)dx, (void)threads;
    return 0;
}

#endif

/*
 * Batch-norm's passes with AVX-512 over a group of channels, sample by
 * sample: a sample's channels [c0, c1) are one contiguous run, so memory
 * streams, and the next sample's run is prefetched while this one is read
 * (runs are a few KB apart by a whole sample: the hardware prefetchers stop
 * at each). Statistics and gradient sums accumulate in 16 double lanes per
 * channel (a scalar double sum is bound by the adder's latency) kept in
 * memory between samples, then reduced in a fixed order: per channel the
 * same additions as a channel-at-a-time loop.
 */
#include "ops/cpu/batchnorm_fast.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"
#include <stdint.h>

/* Below this many values per sample and channel the vector loops do not pay. */
#define BN_VECTOR_MIN 16

/* How far ahead the first passes prefetch, in samples: a run is a few KB,
 * and memory needs more than that in flight. */
#define BN_PREFETCH_SAMPLES 2

#if SIMD_AVX512

static int applies(const bn_geom *g)
{
    return g->spatial >= BN_VECTOR_MIN && cpu_has_avx512();
}

/* the line at p in the next sample, fetched while this one is read */
AVX512_INLINE void prefetch_next(const float *p)
{
    _mm_prefetch((const char *)p, _MM_HINT_T0);
}

/* the 16 floats at p (lanes past n zero) as two vectors of doubles */
AVX512_INLINE void load_doubles(const float *p, int n, __m512d *lo, __m512d *hi)
{
    __m512 v = _mm512_maskz_loadu_ps(lanes(n), p);
    *lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    *hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
}

/* dy (lanes past n zero), zero where a fused ReLU's forward output was not
 * positive: x * scale + shift, a product then a sum as bn_affine_at */
AVX512_INLINE __m512 load_dz(const float *dy, __m512 x, int relu, __m512 scale, __m512 shift,
                             int n)
{
    __mmask16 m = lanes(n);
    if (relu)
        m &= _mm512_cmp_ps_mask(_mm512_add_ps(_mm512_mul_ps(x, scale), shift),
                                _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_maskz_loadu_ps(m, dy);
}

/* two sums per channel, each in two vectors of 8 doubles */
typedef struct lane_sums {
    __m512d s0, s1, t0, t1;
} lane_sums;

static AVX512_FN void zero_sums(lane_sums *acc, int channels)
{
    for (int k = 0; k < channels; k++)
        acc[k].s0 = acc[k].s1 = acc[k].t0 = acc[k].t1 = _mm512_setzero_pd();
}

static AVX512_FN void reduce_sums(const lane_sums *acc, int channels, double *s, double *t)
{
    for (int k = 0; k < channels; k++) {
        s[k] = _mm512_reduce_add_pd(_mm512_add_pd(acc[k].s0, acc[k].s1));
        t[k] = _mm512_reduce_add_pd(_mm512_add_pd(acc[k].t0, acc[k].t1));
    }
}

/* one sample's run of one channel: sum and sum of squares into a */
AVX512_INLINE void stats_run(const float *xp, size_t ahead, int spatial, lane_sums *a)
{
    __m512d s0 = a->s0, s1 = a->s1, q0 = a->t0, q1 = a->t1;
    for (int i = 0; i < spatial; i += 16) {
        prefetch_next(xp + i + ahead);
        __m512d lo, hi;
        load_doubles(xp + i, spatial - i, &lo, &hi);
        s0 = _mm512_add_pd(s0, lo);
        s1 = _mm512_add_pd(s1, hi);
        q0 = _mm512_fmadd_pd(lo, lo, q0);
        q1 = _mm512_fmadd_pd(hi, hi, q1);
    }
    a->s0 = s0, a->s1 = s1, a->t0 = q0, a->t1 = q1;
}

static AVX512_FN void stats(const bn_geom *g, const float *x, int c0, int c1, double *sum,
                            double *sumsq)
{
    lane_sums acc[BN_GROUP_MAX];
    int channels = c1 - c0;
    size_t sample = (size_t)g->c * g->spatial;
    zero_sums(acc, channels);
    for (int b = 0; b < g->n; b++) {
        size_t ahead = b + BN_PREFETCH_SAMPLES < g->n ? sample * BN_PREFETCH_SAMPLES : 0;
        for (int k = 0; k < channels; k++)
            stats_run(BN_AT(g, x, b, c0 + k), ahead, g->spatial, &acc[k]);
    }
    reduce_sums(acc, channels, sum, sumsq);
}

int bn_stats_avx512(const bn_geom *g, const float *x, int c0, int c1, double *sum,
                    double *sumsq)
{
    if (!applies(g))
        return 0;
    stats(g, x, c0, c1, sum, sumsq);
    return 1;
}

/*
 * The second passes walk a sample's run of channels [c0, c1) as one flat
 * array, in vectors aligned on the output (no store splits a line, and a
 * 7x7 or 14x14 plane's tail shares its vector with the next plane). A
 * vector holds the end of one channel and the start of the next at most
 * (spatial >= 16): `first` marks the lanes of the earlier one.
 */
typedef struct run_walk {
    int at, n;         /* this vector: flat offsets [at, at + n) of the run */
    int k, next;       /* its channels in the group (next == k if it holds one) */
    __mmask16 first;   /* lanes of channel k */
} run_walk;

/* the first vector of a run of `len` values whose output starts at out */
AVX512_INLINE run_walk walk_start(const float *out, int len, int spatial)
{
    int head = (int)(((64 - ((uintptr_t)out & 63)) & 63) / sizeof(float));
    run_walk w = {0, head ? head : 16, 0, 0, 0};
    if (w.n > len)
        w.n = len;
    w.next = w.n > spatial ? 1 : 0;
    w.first = lanes(spatial);
    return w;
}

AVX512_INLINE void walk_advance(run_walk *w, int len, int spatial)
{
    w->at += w->n;
    w->n = len - w->at < 16 ? len - w->at : 16;
    int end = (w->k + 1) * spatial; /* where channel k ends */
    if (w->at >= end)
        w->k++, end += spatial;
    w->first = lanes(end - w->at);
    w->next = w->at + w->n > end ? w->k + 1 : w->k;
}

/* per lane: p[k] on the lanes of channel k, p[next] on the others */
AVX512_INLINE __m512 per_lane(const float *p, const run_walk *w)
{
    return _mm512_mask_blend_ps(w->first, _mm512_set1_ps(p[w->next]), _mm512_set1_ps(p[w->k]));
}

/* Samples in reverse: the stats pass read them forwards, so the last ones
 * are the likeliest still in cache. */
static AVX512_FN void affine(const bn_geom *g, const float *x, int c0, int c1,
                             const float *scale, const float *shift, float *y)
{
    const __m512 zero = _mm512_setzero_ps();
    int len = (c1 - c0) * g->spatial;
    for (int b = g->n - 1; b >= 0; b--) {
        const float *xr = BN_AT(g, x, b, c0);
        float *yr = BN_AT(g, y, b, c0);
        for (run_walk w = walk_start(yr, len, g->spatial); w.at < len;
             walk_advance(&w, len, g->spatial)) {
            __m512 v = _mm512_maskz_loadu_ps(lanes(w.n), xr + w.at);
            v = _mm512_add_ps(_mm512_mul_ps(v, per_lane(scale, &w)), per_lane(shift, &w));
            if (g->relu)
                v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
            _mm512_mask_storeu_ps(yr + w.at, lanes(w.n), v);
        }
    }
}

int bn_affine_avx512(const bn_geom *g, const float *x, int c0, int c1, const float *scale,
                     const float *shift, float *y)
{
    if (!applies(g))
        return 0;
    affine(g, x, c0, c1, scale, shift, y);
    return 1;
}

/* one sample's run of one channel: sum(dz) and sum(dz * xhat) into a */
AVX512_INLINE void grad_sums_run(const float *xp, const float *dyp, int relu, __m512 scale,
                                 __m512 shift, size_t ahead, int spatial, __m512d m, __m512d k,
                                 lane_sums *a)
{
    __m512d s0 = a->s0, s1 = a->s1, t0 = a->t0, t1 = a->t1;
    for (int i = 0; i < spatial; i += 16) {
        prefetch_next(xp + i + ahead);
        prefetch_next(dyp + i + ahead);
        __m512 x = _mm512_maskz_loadu_ps(lanes(spatial - i), xp + i);
        __m512d xlo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
        __m512d xhi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1));
        __m512 d = load_dz(dyp + i, x, relu, scale, shift, spatial - i);
        __m512d dlo = _mm512_cvtps_pd(_mm512_castps512_ps256(d));
        __m512d dhi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(d, 1));
        s0 = _mm512_add_pd(s0, dlo);
        s1 = _mm512_add_pd(s1, dhi);
        t0 = _mm512_fmadd_pd(dlo, _mm512_mul_pd(_mm512_sub_pd(xlo, m), k), t0);
        t1 = _mm512_fmadd_pd(dhi, _mm512_mul_pd(_mm512_sub_pd(xhi, m), k), t1);
    }
    a->s0 = s0, a->s1 = s1, a->t0 = t0, a->t1 = t1;
}

static AVX512_FN void grad_sums(const bn_geom *g, const float *x, const float *dy,
                                const float *scale, const float *shift, int c0, int c1,
                                const float *mean, const float *invstd, double *sum_dy,
                                double *sum_dy_xhat)
{
    lane_sums acc[BN_GROUP_MAX];
    int channels = c1 - c0;
    size_t sample = (size_t)g->c * g->spatial;
    zero_sums(acc, channels);
    for (int b = 0; b < g->n; b++) {
        size_t ahead = b + BN_PREFETCH_SAMPLES < g->n ? sample * BN_PREFETCH_SAMPLES : 0;
        for (int k = 0; k < channels; k++) {
            int c = c0 + k;
            grad_sums_run(BN_AT(g, x, b, c), BN_AT(g, dy, b, c), scale != NULL,
                          _mm512_set1_ps(scale ? scale[k] : 0.0f),
                          _mm512_set1_ps(scale ? shift[k] : 0.0f), ahead, g->spatial,
                          _mm512_set1_pd(mean[c]), _mm512_set1_pd(invstd[c]), &acc[k]);
        }
    }
    reduce_sums(acc, channels, sum_dy, sum_dy_xhat);
}

int bn_grad_sums_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                        const float *shift, int c0, int c1, const float *mean,
                        const float *invstd, double *sum_dy, double *sum_dy_xhat)
{
    if (!applies(g))
        return 0;
    grad_sums(g, x, dy, scale, shift, c0, c1, mean, invstd, sum_dy, sum_dy_xhat);
    return 1;
}

/* xhat = (x - mean) * invstd, the difference first so a large mean does not
 * cancel; samples in reverse, as in affine() */
static AVX512_FN void grad_input(const bn_geom *g, const float *x, const float *dy,
                                 const float *scale, const float *shift, int c0, int c1,
                                 const float *mean, const float *invstd, const float *a,
                                 const float *b, const float *t, float *dx)
{
    int len = (c1 - c0) * g->spatial, relu = scale != NULL;
    const __m512 zero = _mm512_setzero_ps();
    for (int n = g->n - 1; n >= 0; n--) {
        const float *xr = BN_AT(g, x, n, c0), *dyr = BN_AT(g, dy, n, c0);
        float *dxr = BN_AT(g, dx, n, c0);
        for (run_walk w = walk_start(dxr, len, g->spatial); w.at < len;
             walk_advance(&w, len, g->spatial)) {
            __m512 v = _mm512_maskz_loadu_ps(lanes(w.n), xr + w.at);
            __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(v, per_lane(mean + c0, &w)),
                                        per_lane(invstd + c0, &w));
            __m512 d = load_dz(dyr + w.at, v, relu, relu ? per_lane(scale, &w) : zero,
                               relu ? per_lane(shift, &w) : zero, w.n);
            __m512 r = _mm512_fnmadd_ps(xhat, per_lane(t, &w),
                                        _mm512_fmsub_ps(per_lane(a, &w), d, per_lane(b, &w)));
            _mm512_mask_storeu_ps(dxr + w.at, lanes(w.n), r);
        }
    }
}

int bn_grad_input_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                         const float *shift, int c0, int c1, const float *mean,
                         const float *invstd, const float *a, const float *b, const float *t,
                         float *dx)
{
    if (!applies(g))
        return 0;
    grad_input(g, x, dy, scale, shift, c0, c1, mean, invstd, a, b, t, dx);
    return 1;
}

#else

int bn_stats_avx512(const bn_geom *g, const float *x, int c0, int c1, double *sum,
                    double *sumsq)
{
    (void)g, (void)x, (void)c0, (void)c1, (void)sum, (void)sumsq;
    return 0;
}

int bn_affine_avx512(const bn_geom *g, const float *x, int c0, int c1, const float *scale,
                     const float *shift, float *y)
{
    (void)g, (void)x, (void)c0, (void)c1, (void)scale, (void)shift, (void)y;
    return 0;
}

int bn_grad_sums_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                        const float *shift, int c0, int c1, const float *mean,
                        const float *invstd, double *sum_dy, double *sum_dy_xhat)
{
    (void)g, (void)x, (void)dy, (void)scale, (void)shift, (void)c0, (void)c1, (void)mean;
    (void)invstd, (void)sum_dy, (void)sum_dy_xhat;
    return 0;
}

int bn_grad_input_avx512(const bn_geom *g, const float *x, const float *dy, const float *scale,
                         const float *shift, int c0, int c1, const float *mean,
                         const float *invstd, const float *a, const float *b, const float *t,
                         float *dx)
{
    (void)g, (void)x, (void)dy, (void)scale, (void)shift, (void)c0, (void)c1, (void)mean;
    (void)invstd, (void)a, (void)b, (void)t, (void)dx;
    return 0;
}

#endif

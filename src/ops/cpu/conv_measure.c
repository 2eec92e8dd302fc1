/*
 * SOMA_CONV_ALGO=measure (conv_select.c): for each pass Winograd can run, the
 * shape's default algorithm and Winograd timed on the layer's own geometry,
 * once per process and shape; the choice is kept for every later call, so
 * the workspace a plan was sized for always fits the kernels that run.
 *
 * A measurement: a batch of one chunk per part (random inputs), one warm-up
 * run of each, then REPEATS runs alternating between the two, the median
 * of each kept. Winograd must beat the default by MARGIN: a noisy machine
 * then errs toward the algorithm the rule would have chosen, never toward a
 * slower one by chance.
 */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/cpu/conv_algos.h"

#define REPEATS 5
#define MARGIN 0.90 /* Winograd's median must be under 90% of the other's */
#define CACHED 64   /* distinct shapes remembered; past that, the default rule */

typedef struct measured {
    conv_geom g;
    int parts;
    conv_plan plan;
} measured;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static measured cache[CACHED];
static int cached;

static int same_shape(const conv_geom *a, const conv_geom *b)
{
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w && a->k == b->k &&
           a->kh == b->kh && a->kw == b->kw && a->stride == b->stride && a->pad == b->pad &&
           a->oh == b->oh && a->ow == b->ow && a->relu == b->relu &&
           conv_groups(a) == conv_groups(b);
}

static float *noise(size_t n, unsigned seed)
{
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; p && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

typedef struct bench_io {
    float *x, *w, *b, *y, *dy, *dx, *dw, *db, *ws;
} bench_io;

static double run_once(const conv_geom *g, const conv_plan *p, int parts, conv_pass pass,
                       bench_io *io)
{
    double t0 = omp_get_wtime();
    if (pass == CONV_FORWARD)
        conv_forward_planned(g, p, parts, io->x, io->w, io->b, io->y, io->ws);
    else
        conv_backward_planned(g, p, parts, io->x, io->w, io->y, io->dy,
                              pass == CONV_DX ? io->dx : NULL, io->dw, io->db, io->ws);
    return omp_get_wtime() - t0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether Winograd wins `pass` of g against plan `base` (which runs the
 * other passes of both). 0 when the buffers cannot be had. */
static int winograd_wins(const conv_geom *layer, const conv_plan *base, int parts,
                         conv_pass pass)
{
    conv_geom g = *layer;
    conv_geom s = conv_group_geometry(layer);
    int nb = winograd_chunk(&s, CONV_FORWARD), n = nb * parts;
    g.n = n < layer->n ? n : layer->n;
    conv_plan cand[2] = {*base, *base};
    (&cand[1].forward)[pass] = CONV_WINOGRAD;
    size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.k * g.oh * g.ow;
    size_t nw = (size_t)g.k * s.c * g.kh * g.kw;
    size_t ws0 = conv_plan_workspace(&g, &cand[0], parts);
    size_t ws1 = conv_plan_workspace(&g, &cand[1], parts);
    bench_io io = {noise(nx, 1), noise(nw, 2), noise(g.k, 3), noise(ny, 4), noise(ny, 5),
                   malloc(sizeof(float) * (nx ? nx : 1)), calloc(nw, sizeof(float)),
                   calloc(g.k, sizeof(float)), malloc(sizeof(float) * (ws0 > ws1 ? ws0 : ws1))};
    int wins = 0;
    if (io.x && io.w && io.b && io.y && io.dy && io.dx && io.dw && io.db && io.ws) {
        double t[2][REPEATS];
        for (int c = 0; c < 2; c++)
            run_once(&g, &cand[c], parts, pass, &io); /* warm-up */
        for (int r = 0; r < REPEATS; r++)
            for (int c = 0; c < 2; c++)
                t[c][r] = run_once(&g, &cand[c], parts, pass, &io);
        qsort(t[0], REPEATS, sizeof t[0][0], by_value);
        qsort(t[1], REPEATS, sizeof t[1][0], by_value);
        wins = t[1][REPEATS / 2] < MARGIN * t[0][REPEATS / 2];
    }
    free(io.x), free(io.w), free(io.b), free(io.y), free(io.dy), free(io.dx), free(io.dw);
    free(io.db), free(io.ws);
    return wins;
}

conv_plan conv_plan_measured(const conv_geom *g, const conv_plan *fixed, int parts)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < cached; i++)
        if (cache[i].parts == parts && same_shape(&cache[i].g, g)) {
            conv_plan p = cache[i].plan;
            pthread_mutex_unlock(&lock);
            return p;
        }
    conv_plan p = *fixed;
    /* a choice must be the same at every call (the workspace was sized for
     * it): with the cache full, the one chosen by shape, kept nowhere */
    for (int pass = 0; pass < 3 && cached < CACHED; pass++)
        if ((&p.forward)[pass] != CONV_WINOGRAD &&
            conv_algo_usable(g, (conv_pass)pass, CONV_WINOGRAD) &&
            winograd_wins(g, &p, parts, (conv_pass)pass))
            (&p.forward)[pass] = CONV_WINOGRAD;
    if (cached < CACHED)
        cache[cached++] = (measured){*g, parts, p};
    pthread_mutex_unlock(&lock);
    return p;
}

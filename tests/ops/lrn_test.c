/*
 * Local response normalisation: the layer against PyTorch's
 * nn.LocalResponseNorm (values in fixtures/lrn_fixture.h, made by
 * fixtures/make_lrn_fixture.py; PyTorch ran with alpha * size, so these
 * checks also pin the paper's alpha), and the CPU backend's operations
 * against the double-precision reference (support/lrn_reference.c, itself
 * checked against PyTorch here) on odd shapes, windows wider than the
 * channels, even windows, 1 and 2 threads, which give the same bits.
 * CTest lrn_test_portable runs it again on the portable loops
 * (SOMA_CPU=generic). Finite differences: gradcheck_test.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fixtures/lrn_fixture.h"
#include "ops/cpu/simd.h"
#include "support/check.h"
#include "support/gradcheck.h"
#include "support/lrn_reference.h"

static int count_bad(const float *got, const float *want, size_t n, double rtol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(fabs((double)got[i] - want[i]) <= rtol * (1.0 + fabs((double)want[i])));
    return bad;
}

static int count_bad_double(const float *got, const double *want, size_t n, double rtol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(fabs((double)got[i] - want[i]) <= rtol * (1.0 + fabs(want[i])));
    return bad;
}

/* The layer, built from a model-file line, on PyTorch's inputs. */
static void check_against_pytorch(const lrn_case *t)
{
    char line[160];
    snprintf(line, sizeof line, "lrn size=%d alpha=%.9g beta=%.9g k=%.9g", t->size, t->alpha,
             t->beta, t->k);
    layer_harness h;
    CHECK_MSG(harness_make(&h, line, (shape3){t->c, t->h, t->w}, t->n, 1), "%s", line);
    if (!h.l.cls)
        return;
    size_t n = (size_t)t->n * t->c * t->h * t->w;
    memcpy(h.x, t->x, sizeof(float) * n);
    memcpy(h.dy, t->dy, sizeof(float) * n);
    harness_backward(&h);
    CHECK_MSG(count_bad(h.y, t->y, n, 2e-6) == 0, "%s: y differs from PyTorch's", line);
    CHECK_MSG(count_bad(h.dx, t->dx, n, 2e-5) == 0, "%s: dx differs from PyTorch's", line);
    /* and the reference that other backends' tests use */
    lrn_geom g = {t->n, t->c, t->h * t->w, t->size, t->alpha, t->beta, t->k};
    double *ry = malloc(sizeof *ry * n), *rdx = malloc(sizeof *rdx * n);
    lrn_reference(&g, t->x, t->dy, ry, rdx);
    float *fy = malloc(sizeof *fy * n), *fdx = malloc(sizeof *fdx * n);
    for (size_t i = 0; i < n; i++)
        fy[i] = (float)ry[i], fdx[i] = (float)rdx[i];
    CHECK_MSG(count_bad(fy, t->y, n, 2e-6) == 0, "%s: reference y differs", line);
    CHECK_MSG(count_bad(fdx, t->dx, n, 2e-5) == 0, "%s: reference dx differs", line);
    free(ry), free(rdx), free(fy), free(fdx);
    harness_free(&h);
}

static float *randoms(size_t n, uint64_t stream, float scale)
{
    rng r;
    rng_init(&r, 3, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * n);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rng_normal(&r);
    return p;
}

/* The backend's operations on 1 and 2 threads against the reference. */
static void check_backend(lrn_geom g, float scale)
{
    size_t n = (size_t)g.n * g.c * g.spatial;
    float *x = randoms(n, 1, scale), *dy = randoms(n, 2, 1.0f);
    double *ry = malloc(sizeof *ry * n), *rdx = malloc(sizeof *rdx * n);
    lrn_reference(&g, x, dy, ry, rdx);
    float *y[2], *s[2], *dx[2];
    for (int t = 0; t < 2; t++) {
        y[t] = malloc(sizeof(float) * n), s[t] = malloc(sizeof(float) * n);
        dx[t] = malloc(sizeof(float) * n);
        memset(dx[t], 0x7f, sizeof(float) * n); /* overwritten, not accumulated */
        soma_set_threads(t + 1);
        CHECK(soma_cpu_backend.lrn_forward(&g, x, y[t], s[t]) == SOMA_OK);
        CHECK(soma_cpu_backend.lrn_backward(&g, x, y[t], s[t], dy, dx[t]) == SOMA_OK);
    }
    soma_set_threads(0);
    char what[128];
    snprintf(what, sizeof what, "n%d c%d spatial %d size %d alpha %g beta %g k %g", g.n, g.c,
             g.spatial, g.size, g.alpha, g.beta, g.k);
    CHECK_MSG(count_bad_double(y[0], ry, n, 1e-5) == 0, "%s: y differs", what);
    CHECK_MSG(count_bad_double(dx[0], rdx, n, 1e-4) == 0, "%s: dx differs", what);
    CHECK_MSG(memcmp(y[0], y[1], sizeof(float) * n) == 0, "%s: y depends on threads", what);
    CHECK_MSG(memcmp(dx[0], dx[1], sizeof(float) * n) == 0, "%s: dx depends on threads", what);
    /* the saved scale is s = k + alpha * sum: y = x * s^-beta */
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(fabs(x[i] * pow(s[0][i], -g.beta) - ry[i]) <= 1e-5 * (1.0 + fabs(ry[i])));
    CHECK_MSG(bad == 0, "%s: saved scale wrong", what);
    free(x), free(dy), free(ry), free(rdx);
    for (int t = 0; t < 2; t++)
        free(y[t]), free(s[t]), free(dx[t]);
}

int main(void)
{
    const char *cpu = getenv("SOMA_CPU");
    if (cpu && strcmp(cpu, "generic") == 0) /* the portable loops are what runs */
        CHECK(cpu_has_avx512() == 0);
    for (size_t i = 0; i < sizeof lrn_cases / sizeof lrn_cases[0]; i++)
        check_against_pytorch(&lrn_cases[i]);
    /* AlexNet's layer on a 96-channel map, strong and weak normalisation */
    check_backend((lrn_geom){3, 96, 5 * 7, 5, 1e-4f, 0.75f, 2.0f}, 30.0f);
    check_backend((lrn_geom){2, 17, 3 * 5, 5, 0.3f, 0.75f, 1.0f}, 2.0f);
    check_backend((lrn_geom){3, 4, 9, 6, 0.1f, 0.5f, 2.0f}, 2.0f);  /* even, wider than c */
    check_backend((lrn_geom){2, 5, 1, 1, 0.5f, 1.5f, 0.5f}, 1.0f);  /* size 1: per element */
    check_backend((lrn_geom){5, 1, 33, 3, 0.2f, 0.75f, 2.0f}, 3.0f); /* one channel */
    return check_finish("lrn");
}

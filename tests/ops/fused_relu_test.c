/*
 * A ReLU fused into conv2d, linear and batchnorm (backend.h) computes the
 * same bits as the unfused pair: the layer, then the backend's ReLU forward
 * and backward; so does the ReLU before a max-pool that the pool applies
 * (pool_geom.relu). Checked for every convolution algorithm the CPU has, 1 and
 * 2 threads, batch-norm in training and evaluation mode, and with NaN and
 * zeros among the values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/relu_fused.h"
#include "support/check.h"

static const soma_backend *be = &soma_cpu_backend;

static float *randoms(size_t n, uint64_t stream)
{
    rng r;
    rng_init(&r, 21, RNG_TEST, stream, 0);
    float *p = malloc(sizeof *p * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = rng_below(&r, 16) == 0 ? 0.0f : rng_normal(&r);
    return p;
}

static int same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, sizeof *a * n) == 0;
}

static void check_conv(int c, int h, int k, int size, int stride, int pad)
{
    conv_geom g = {3, c, h, h, k, size, size, stride, pad, (h + 2 * pad - size) / stride + 1,
                   (h + 2 * pad - size) / stride + 1, 0, 1};
    conv_geom gr = g;
    gr.relu = 1;
    size_t nx = (size_t)g.n * c * h * h, ny = (size_t)g.n * k * g.oh * g.ow;
    size_t nw = (size_t)k * c * size * size;
    float *x = randoms(nx, 1), *w = randoms(nw, 2), *b = randoms(k, 3), *dy = randoms(ny, 4);
    float *y0 = malloc(sizeof *y0 * ny), *y1 = malloc(sizeof *y1 * ny);
    float *dz = malloc(sizeof *dz * ny);
    float *dx0 = malloc(sizeof *dx0 * nx), *dx1 = malloc(sizeof *dx1 * nx);
    float *dw0 = calloc(nw, sizeof *dw0), *dw1 = calloc(nw, sizeof *dw1);
    float *db0 = calloc(k, sizeof *db0), *db1 = calloc(k, sizeof *db1);
    for (int threads = 1; threads <= 2; threads++)
        for (int a = CONV_GEMM; a < CONV_ALGOS; a++) {
            conv_plan p = {(conv_algo)a, (conv_algo)a, (conv_algo)a};
            for (int pass = 0; pass < 3; pass++)
                if (!conv_algo_usable(&g, (conv_pass)pass, (conv_algo)a))
                    (&p.forward)[pass] = CONV_GEMM;
            float *ws = malloc(sizeof *ws * conv_plan_workspace(&gr, &p, threads));
            conv_forward_planned(&g, &p, threads, x, w, b, y0, ws);
            CHECK(be->activation_forward(ACT_RELU, y0, y0, ny) == SOMA_OK);
            conv_forward_planned(&gr, &p, threads, x, w, b, y1, ws);
            CHECK_MSG(same(y0, y1, ny), "conv %d threads algo %d: forward differs", threads, a);
            CHECK(be->activation_backward(ACT_RELU, y0, dy, dz, ny) == SOMA_OK);
            conv_backward_planned(&g, &p, threads, x, w, NULL, dz, dx0, dw0, db0, ws);
            conv_backward_planned(&gr, &p, threads, x, w, y1, dy, dx1, dw1, db1, ws);
            CHECK_MSG(same(dx0, dx1, nx) && same(dw0, dw1, nw) && same(db0, db1, k),
                      "conv c%d k%d size %d, %d threads, algo %d: gradients differ", c, k, size,
                      threads, a);
            free(ws);
        }
    free(x), free(w), free(b), free(dy), free(y0), free(y1), free(dz);
    free(dx0), free(dx1), free(dw0), free(dw1), free(db0), free(db1);
}

static void check_linear(int n, int in, int out)
{
    float *x = randoms((size_t)n * in, 5), *w = randoms((size_t)out * in, 6);
    float *b = randoms(out, 7), *dy = randoms((size_t)n * out, 8);
    size_t ny = (size_t)n * out, nx = (size_t)n * in, nw = (size_t)out * in;
    float *y0 = malloc(sizeof *y0 * ny), *y1 = malloc(sizeof *y1 * ny), *dz = malloc(sizeof *dz * ny);
    float *ws = malloc(sizeof *ws * ny);
    float *dx0 = malloc(sizeof *dx0 * nx), *dx1 = malloc(sizeof *dx1 * nx);
    float *dw0 = calloc(nw, sizeof *dw0), *dw1 = calloc(nw, sizeof *dw1);
    float *db0 = calloc(out, sizeof *db0), *db1 = calloc(out, sizeof *db1);
    CHECK(be->linear_forward(x, w, b, y0, n, in, out, 0) == SOMA_OK);
    CHECK(be->activation_forward(ACT_RELU, y0, y0, ny) == SOMA_OK);
    CHECK(be->linear_forward(x, w, b, y1, n, in, out, 1) == SOMA_OK);
    CHECK_MSG(same(y0, y1, ny), "linear %dx%dx%d: forward differs", n, in, out);
    CHECK(be->activation_backward(ACT_RELU, y0, dy, dz, ny) == SOMA_OK);
    CHECK(be->linear_backward(x, w, NULL, dz, dx0, dw0, db0, n, in, out, NULL) == SOMA_OK);
    CHECK(be->linear_backward(x, w, y1, dy, dx1, dw1, db1, n, in, out, ws) == SOMA_OK);
    CHECK_MSG(same(dx0, dx1, nx) && same(dw0, dw1, nw) && same(db0, db1, out),
              "linear %dx%dx%d: gradients differ", n, in, out);
    free(x), free(w), free(b), free(dy), free(y0), free(y1), free(dz), free(ws);
    free(dx0), free(dx1), free(dw0), free(dw1), free(db0), free(db1);
}

/* ties: inputs 1, 3, 5 over and over and beta 0, so that a third of them sit
 * exactly on the ReLU's threshold (x == mean gives x * scale + shift == 0):
 * backward's mask, rebuilt from x, must round as forward did to agree there */
static void check_batchnorm(int n, int c, int spatial, int training, int ties)
{
    bn_geom g = {n, c, spatial, 1e-5f, 0.1f, 0, NULL, NULL}, gr = g;
    gr.relu = 1;
    size_t nx = (size_t)n * c * spatial;
    float *x = randoms(nx, 9), *dy = randoms(nx, 10), *gamma = randoms(c, 11);
    float *beta = randoms(c, 12);
    if (ties) {
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)(1 + 2 * (i % 3));
        for (int i = 0; i < c; i++)
            beta[i] = 0.0f;
    } else if (nx > 5) {
        x[5] = NAN; /* a NaN input: its channel is NaN either way */
    }
    float *y0 = malloc(sizeof *y0 * nx), *y1 = malloc(sizeof *y1 * nx), *dz = malloc(sizeof *dz * nx);
    float *dx0 = malloc(sizeof *dx0 * nx), *dx1 = malloc(sizeof *dx1 * nx);
    float *st = calloc(8 * (size_t)c, sizeof *st); /* mean, invstd, rm, rv, twice */
    float *grads = calloc(4 * (size_t)c, sizeof *grads);
    for (int i = 0; i < c; i++)
        st[2 * c + i] = st[6 * c + i] = 0.5f, st[3 * c + i] = st[7 * c + i] = 1.5f;
    float *s0 = st, *s1 = st + 4 * c;
    if (training) {
        CHECK(be->batchnorm_forward_train(&g, x, gamma, beta, y0, s0, s0 + c, s0 + 2 * c,
                                          s0 + 3 * c) == SOMA_OK);
        CHECK(be->batchnorm_forward_train(&gr, x, gamma, beta, y1, s1, s1 + c, s1 + 2 * c,
                                          s1 + 3 * c) == SOMA_OK);
    } else {
        CHECK(be->batchnorm_forward_eval(&g, x, gamma, beta, s0 + 2 * c, s0 + 3 * c,
                                         y0) == SOMA_OK);
        CHECK(be->batchnorm_forward_eval(&gr, x, gamma, beta, s1 + 2 * c, s1 + 3 * c,
                                         y1) == SOMA_OK);
    }
    CHECK(be->activation_forward(ACT_RELU, y0, y0, nx) == SOMA_OK);
    CHECK_MSG(same(y0, y1, nx) && same(s0, s1, 4 * (size_t)c),
              "batchnorm %dx%dx%d (%d): forward differs", n, c, spatial, training);
    CHECK(be->activation_backward(ACT_RELU, y0, dy, dz, nx) == SOMA_OK);
    if (training) {
        CHECK(be->batchnorm_backward(&g, x, gamma, beta, s0, s0 + c, dz, dx0, grads,
                                     grads + c) == SOMA_OK);
        CHECK(be->batchnorm_backward(&gr, x, gamma, beta, s1, s1 + c, dy, dx1, grads + 2 * c,
                                     grads + 3 * c) == SOMA_OK);
    } else {
        CHECK(be->batchnorm_backward_eval(&g, x, gamma, NULL, s0 + 2 * c, s0 + 3 * c, dz, dx0,
                                          grads, grads + c) == SOMA_OK);
        CHECK(be->batchnorm_backward_eval(&gr, x, gamma, y1, s1 + 2 * c, s1 + 3 * c, dy, dx1,
                                          grads + 2 * c, grads + 3 * c) == SOMA_OK);
    }
    CHECK_MSG(same(dx0, dx1, nx) && same(grads, grads + 2 * c, 2 * (size_t)c),
              "batchnorm %dx%dx%d (%d): gradients differ", n, c, spatial, training);
    free(x), free(dy), free(gamma), free(beta), free(y0), free(y1), free(dz);
    free(dx0), free(dx1), free(st), free(grads);
}

/* The fused loops themselves against the ReLU layer's, on special values
 * (NaN of both signs, signed zeros, infinities, subnormals) at every length
 * up to 40 (whole vectors and tails) */
static void check_loops(void)
{
    static const float specials[] = {NAN, -NAN, 0.0f, -0.0f, INFINITY, -INFINITY, 1e-40f,
                                     -1e-40f, 1.0f, -2.5f, 3e38f};
    enum { MAX = 40, NS = sizeof specials / sizeof specials[0] };
    float y[MAX + 1], dy[MAX + 1], a[MAX + 1], b[MAX + 1];
    for (int n = 0; n <= MAX; n++) {
        for (int i = 0; i <= MAX; i++) {
            y[i] = specials[(i * 7 + n) % NS];
            dy[i] = specials[(i * 3 + n + 1) % NS];
        }
        memcpy(a, y, sizeof a);
        a[n] = b[n] = 42.0f; /* past the end: left alone */
        relu_in_place(a, (size_t)n);
        CHECK(be->activation_forward(ACT_RELU, y, b, (size_t)n) == SOMA_OK);
        CHECK_MSG(same(a, b, (size_t)n) && a[n] == 42.0f, "relu_in_place, n = %d", n);
        a[n] = b[n] = 42.0f;
        relu_mask(y, dy, a, (size_t)n);
        CHECK(be->activation_backward(ACT_RELU, y, dy, b, (size_t)n) == SOMA_OK);
        CHECK_MSG(same(a, b, (size_t)n) && a[n] == 42.0f, "relu_mask, n = %d", n);
    }
}

/* ReLU then max-pool, against the pool with the ReLU in it: values and
 * input gradients bit for bit (the argmax may differ: -1 where the ReLU's
 * +0 passes nothing). Inputs with ties, zeros of both signs and NaN. */
static void check_pool(int c, int h, int size, int stride, int pad)
{
    int o = (h + 2 * pad - size) / stride + 1;
    pool_geom g = {3, c, h, h, size, stride, pad, o, o, 0}, gr = g;
    gr.relu = 1;
    size_t nx = (size_t)g.n * c * h * h, ny = (size_t)g.n * c * o * o;
    float *x = randoms(nx, 5), *dy = randoms(ny, 6), *xr = malloc(sizeof *xr * nx);
    float *y0 = malloc(sizeof *y0 * ny), *y1 = malloc(sizeof *y1 * ny);
    float *d = malloc(sizeof *d * nx), *dx0 = malloc(sizeof *dx0 * nx);
    float *dx1 = malloc(sizeof *dx1 * nx);
    int32_t *a0 = malloc(sizeof *a0 * ny), *a1 = malloc(sizeof *a1 * ny);
    for (size_t i = 0; i < nx; i += 7) /* ties of the ReLU's zeros, and negative ones */
        x[i] = i % 3 == 0 ? -0.0f : i % 3 == 1 ? NAN : -1.0f;
    for (int threads = 1; threads <= 2; threads++) {
        soma_set_threads(threads);
        CHECK(be->activation_forward(ACT_RELU, x, xr, nx) == SOMA_OK);
        CHECK(be->maxpool_forward(&g, xr, y0, a0) == SOMA_OK);
        CHECK(be->maxpool_backward(&g, dy, a0, d) == SOMA_OK);
        CHECK(be->activation_backward(ACT_RELU, xr, d, dx0, nx) == SOMA_OK);
        CHECK(be->maxpool_forward(&gr, x, y1, a1) == SOMA_OK);
        CHECK(be->maxpool_backward(&gr, dy, a1, dx1) == SOMA_OK);
        CHECK_MSG(same(y0, y1, ny), "pool %d/%d pad %d, %d threads: forward differs", size,
                  stride, pad, threads);
        CHECK_MSG(same(dx0, dx1, nx), "pool %d/%d pad %d, %d threads: backward differs", size,
                  stride, pad, threads);
    }
    free(x), free(dy), free(xr), free(y0), free(y1), free(d), free(dx0), free(dx1);
    free(a0), free(a1);
}

int main(void)
{
    check_loops();
    check_pool(6, 28, 2, 2, 0); /* LeNet-5's */
    check_pool(4, 13, 3, 2, 0); /* AlexNet's, overlapping */
    check_pool(3, 9, 3, 2, 1);  /* vgg-small's last, padded */
    check_pool(2, 11, 3, 1, 1); /* stride 1 (the generic loop) */
    check_pool(2, 7, 2, 2, 0);  /* an input row and column no window covers */
    check_conv(1, 28, 6, 5, 1, 2);
    check_conv(6, 14, 16, 5, 1, 0);
    check_conv(5, 11, 32, 3, 1, 1);
    check_conv(3, 13, 16, 3, 2, 1);
    check_linear(5, 13, 7);
    check_linear(64, 400, 120); /* large enough for threads */
    for (int training = 0; training <= 1; training++) {
        check_batchnorm(4, 3, 49, training, 0);
        check_batchnorm(3, 5, 7, training, 0);
        check_batchnorm(6, 9, 1, training, 0);
        check_batchnorm(4, 3, 48, training, 1);
        check_batchnorm(3, 5, 9, training, 1);
        check_batchnorm(6, 9, 1, training, 1);
    }
    return check_finish("fused_relu");
}

/*
 * Fast paths against naive reference implementations written here from the
 * definitions: convolution (direct 7-loop), pooling, linear, the loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "support/check.h"
#include "support/gradcheck.h"

static void conv_reference(const layer_harness *h, double *out)
{
    const layer *l = &h->l;
    int k = l->u.conv.size, s = l->u.conv.stride, p = l->u.conv.pad;
    int cg = l->in.c / l->u.conv.groups, fg = l->out.c / l->u.conv.groups; /* per group */
    const float *w = l->param[0], *b = l->param[1];
    for (int n = 0; n < h->batch; n++)
        for (int f = 0; f < l->out.c; f++)
            for (int oy = 0; oy < l->out.h; oy++)
                for (int ox = 0; ox < l->out.w; ox++) {
                    double acc = b[f];
                    for (int c = f / fg * cg; c < (f / fg + 1) * cg; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = oy * s - p + i, ix = ox * s - p + j;
                                if (iy < 0 || iy >= l->in.h || ix < 0 || ix >= l->in.w)
                                    continue;
                                acc += (double)w[((f * cg + c % cg) * k + i) * k + j] *
                                       h->x[((n * l->in.c + c) * l->in.h + iy) * l->in.w + ix];
                            }
                    *out++ = acc;
                }
}

static void pool_reference(const layer_harness *h, int is_max, double *out)
{
    const layer *l = &h->l;
    int k = l->u.pool.size, s = l->u.pool.stride, p = l->u.pool.pad;
    for (int n = 0; n < h->batch; n++)
        for (int c = 0; c < l->in.c; c++)
            for (int oy = 0; oy < l->out.h; oy++)
                for (int ox = 0; ox < l->out.w; ox++) {
                    double best = -INFINITY, sum = 0.0;
                    int count = 0;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int iy = oy * s - p + i, ix = ox * s - p + j;
                            if (iy < 0 || iy >= l->in.h || ix < 0 || ix >= l->in.w)
                                continue;
                            double v = h->x[((n * l->in.c + c) * l->in.h + iy) * l->in.w + ix];
                            best = v > best ? v : best;
                            sum += v;
                            count++;
                        }
                    *out++ = is_max ? best : sum / count;
                }
}

static void linear_reference(const layer_harness *h, double *out)
{
    const layer *l = &h->l;
    for (int n = 0; n < h->batch; n++)
        for (int o = 0; o < l->out.c; o++) {
            double acc = l->param[1][o];
            for (int i = 0; i < l->in.c; i++)
                acc += (double)l->param[0][o * l->in.c + i] * h->x[n * l->in.c + i];
            *out++ = acc;
        }
}

static void compare_outputs(const char *line, shape3 in, int batch, int which)
{
    layer_harness h;
    CHECK_MSG(harness_make(&h, line, in, batch, 1), "%s", line);
    if (!h.l.cls)
        return;
    size_t ny = shape_size(h.l.out) * batch;
    double *ref = malloc(sizeof(double) * ny);
    harness_forward(&h);
    if (which == 0)
        conv_reference(&h, ref);
    else if (which == 3)
        linear_reference(&h, ref);
    else
        pool_reference(&h, which == 1, ref);
    int bad = 0;
    for (size_t i = 0; i < ny; i++)
        bad += fabs(h.y[i] - ref[i]) > 1e-4 * (1.0 + fabs(ref[i]));
    CHECK_MSG(bad == 0, "%s: %d of %zu outputs differ from the reference", line, bad, ny);
    free(ref);
    harness_free(&h);
}

/* softmax cross-entropy against the textbook formula, and its gradient */
static void check_loss(void)
{
    enum { N = 3, K = 4 };
    float logits[N * K] = {1, 2, 3, 4, -1, 0, 1000, 2, 0.5f, 0.5f, 0.5f, 0.5f};
    int32_t labels[N] = {3, 0, 2};
    float probs[N * K], grad[N * K];
    double metrics[2]; /* loss sum, correct count: device memory, the host's on the CPU */
    CHECK(soma_cpu_backend.softmax_xent_forward(logits, labels, N, K, probs, metrics) == SOMA_OK);
    double loss = metrics[0];
    int correct = (int)metrics[1];
    double expect = 0.0;
    for (int r = 0; r < N; r++) {
        double mx = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++)
            mx = fmax(mx, logits[r * K + k]);
        for (int k = 0; k < K; k++)
            sum += exp(logits[r * K + k] - mx);
        expect += -(logits[r * K + labels[r]] - mx - log(sum));
        for (int k = 0; k < K; k++)
            CHECK_CLOSE(probs[r * K + k], exp(logits[r * K + k] - mx) / sum, 1e-6);
    }
    CHECK_CLOSE(loss, expect, 1e-6);
    CHECK(isfinite(loss)); /* the 1000 logit must not overflow */
    CHECK(correct == 1);   /* row 0 right; row 1 predicts 2; row 2 ties -> class 0 */
    CHECK(soma_cpu_backend.softmax_xent_backward(probs, labels, N, K, 1.0f / N, grad) == SOMA_OK);
    /* finite differences of the mean loss */
    for (int i = 0; i < N * K; i++) {
        float saved = logits[i];
        double up[2], down[2];
        logits[i] = saved + 1e-2f;
        CHECK(soma_cpu_backend.softmax_xent_forward(logits, labels, N, K, probs, up) == SOMA_OK);
        logits[i] = saved - 1e-2f;
        CHECK(soma_cpu_backend.softmax_xent_forward(logits, labels, N, K, probs, down) == SOMA_OK);
        logits[i] = saved;
        CHECK_CLOSE(grad[i], (up[0] - down[0]) / (2e-2 * N), 2e-3);
    }
}

int main(void)
{
    shape3 img = {3, 9, 8};
    compare_outputs("conv2d filters=4 size=3", img, 2, 0);
    compare_outputs("conv2d filters=5 size=3 stride=2 pad=1", img, 3, 0);
    compare_outputs("conv2d filters=6 size=5 pad=2", img, 2, 0);
    compare_outputs("conv2d filters=2 size=4 stride=3", img, 2, 0);
    compare_outputs("conv2d filters=6 size=3 pad=1 groups=3", img, 2, 0);
    compare_outputs("conv2d filters=3 size=3 stride=2 groups=3", img, 2, 0);
    compare_outputs("maxpool size=2", img, 2, 1);
    compare_outputs("maxpool size=3 stride=2", img, 2, 1);
    compare_outputs("maxpool size=3 stride=2 pad=1", img, 2, 1);
    compare_outputs("avgpool size=2", img, 2, 2);
    compare_outputs("avgpool size=3 stride=2 pad=1", img, 2, 2);
    compare_outputs("linear units=7", (shape3){13, 1, 1}, 5, 3);
    check_loss();
    return check_finish("reference");
}

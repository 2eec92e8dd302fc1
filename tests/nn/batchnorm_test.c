/* BatchNorm: normalised training outputs, running statistics, evaluation mode. */
#include <math.h>

#include "support/check.h"
#include "support/gradcheck.h"

static void check_training_statistics(shape3 in, int batch)
{
    layer_harness h;
    CHECK(harness_make(&h, "batchnorm momentum=0.1", in, batch, 1));
    int c = in.c, spatial = in.h * in.w;
    for (int k = 0; k < c; k++) {
        h.l.param[0][k] = 1.0f; /* gamma */
        h.l.param[1][k] = 0.0f; /* beta */
        h.l.buffer[0][k] = 0.0f;
        h.l.buffer[1][k] = 1.0f;
    }
    for (size_t i = 0; i < shape_size(in) * batch; i++)
        h.x[i] = 3.0f + 2.0f * h.x[i]; /* mean ~3, std ~2 */
    harness_forward(&h);
    double count = (double)batch * spatial;
    for (int k = 0; k < c; k++) {
        double sum = 0, sumsq = 0, xsum = 0, xsumsq = 0;
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < spatial; s++) {
                size_t i = ((size_t)b * c + k) * spatial + s;
                sum += h.y[i];
                sumsq += (double)h.y[i] * h.y[i];
                xsum += h.x[i];
                xsumsq += (double)h.x[i] * h.x[i];
            }
        double mean = sum / count, var = sumsq / count - mean * mean;
        CHECK_CLOSE(mean, 0.0, 1e-5);
        double xmean = xsum / count, xvar = xsumsq / count - xmean * xmean;
        CHECK_CLOSE(var, xvar / (xvar + 1e-5), 1e-4); /* 1 up to eps */
        /* running = 0.9 * initial + 0.1 * batch (unbiased variance) */
        CHECK_CLOSE(h.l.buffer[0][k], 0.1 * xmean, 1e-5);
        CHECK_CLOSE(h.l.buffer[1][k], 0.9 + 0.1 * xvar * count / (count - 1), 1e-5);
    }
    harness_free(&h);
}

static void check_eval_uses_running_statistics(void)
{
    shape3 in = {2, 3, 3};
    layer_harness h;
    CHECK(harness_make(&h, "batchnorm eps=0.001", in, 2, 0));
    float gamma[2] = {1.5f, -0.5f}, beta[2] = {0.25f, 2.0f};
    float rmean[2] = {0.3f, -1.0f}, rvar[2] = {4.0f, 0.25f};
    for (int k = 0; k < 2; k++) {
        h.l.param[0][k] = gamma[k], h.l.param[1][k] = beta[k];
        h.l.buffer[0][k] = rmean[k], h.l.buffer[1][k] = rvar[k];
    }
    harness_forward(&h);
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 2; k++)
            for (int s = 0; s < 9; s++) {
                size_t i = ((size_t)b * 2 + k) * 9 + s;
                double expect = gamma[k] * (h.x[i] - rmean[k]) / sqrt(rvar[k] + 0.001) + beta[k];
                CHECK_CLOSE(h.y[i], expect, 1e-5);
            }
    /* evaluation must not move the running statistics */
    CHECK(h.l.buffer[0][0] == rmean[0] && h.l.buffer[1][1] == rvar[1]);
    harness_free(&h);
}

int main(void)
{
    check_training_statistics((shape3){3, 5, 4}, 6);
    check_training_statistics((shape3){7, 1, 1}, 16);
    check_eval_uses_running_statistics();
    return check_finish("batchnorm");
}

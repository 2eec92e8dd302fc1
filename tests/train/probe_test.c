/* The inspection API (soma.h): get/set of the flat parameters, a pass's loss
 * and gradient against central finite differences, nothing left changed by a
 * pass (weights, BatchNorm statistics), and the probe's statistics against
 * the same numbers computed here from the weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soma.h"
#include "support/check.h"

#define N 8
#define IN 12

static const char model_text[] = "input channels=1 height=3 width=4\n"
                                 "flatten\n"
                                 "linear units=6\n"
                                 "tanh\n"
                                 "linear units=5\n"
                                 "batchnorm\n"
                                 "relu\n"
                                 "linear units=3\n";

int main(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse(model_text, "probe", &m) == SOMA_OK);
    if (!m)
        return check_finish("probe_test");
    CHECK(soma_model_init(m, SOMA_INIT_XAVIER, 3) == SOMA_OK);
    size_t np = soma_model_param_count(m);
    float *w = malloc(sizeof(float) * np), *w2 = malloc(sizeof(float) * np);
    float *g = malloc(sizeof(float) * np);
    float x[N * IN], probs[N * 3], probs2[N * 3];
    int32_t y[N];
    for (int i = 0; i < N * IN; i++)
        x[i] = (float)sin(0.7 * i + 0.3);
    for (int i = 0; i < N; i++)
        y[i] = i % 3;

    /* get/set round trip */
    CHECK(soma_model_get_params(m, w) == SOMA_OK);
    for (size_t i = 0; i < np; i++)
        w2[i] = w[i] * 2;
    CHECK(soma_model_set_params(m, w2) == SOMA_OK);
    CHECK(soma_model_get_params(m, w2) == SOMA_OK);
    CHECK(w2[5] == w[5] * 2);
    CHECK(soma_model_set_params(m, w) == SOMA_OK);

    /* a pass changes nothing: evaluation before and after is the same */
    CHECK(soma_model_predict(m, x, N, probs) == SOMA_OK);
    double loss = NAN;
    CHECK(soma_model_loss_grad(m, x, y, N, 1, 0, &loss, g) == SOMA_OK);
    CHECK(isfinite(loss) && loss > 0);
    CHECK(soma_model_predict(m, x, N, probs2) == SOMA_OK);
    CHECK(memcmp(probs, probs2, sizeof probs) == 0);
    CHECK(soma_model_get_params(m, w2) == SOMA_OK);
    CHECK(memcmp(w, w2, sizeof(float) * np) == 0);

    /* the gradient against central differences of the loss (in float: h 1e-2) */
    int checked = 0;
    for (size_t i = 0; i < np; i += np / 13 + 1) {
        double lp, lm, h = 1e-2;
        memcpy(w2, w, sizeof(float) * np);
        w2[i] = (float)(w[i] + h);
        soma_model_set_params(m, w2);
        soma_model_loss_grad(m, x, y, N, 1, 0, &lp, NULL);
        w2[i] = (float)(w[i] - h);
        soma_model_set_params(m, w2);
        soma_model_loss_grad(m, x, y, N, 1, 0, &lm, NULL);
        double fd = (lp - lm) / (2 * h);
        CHECK_MSG(fabs(fd - g[i]) <= 2e-3 + 0.03 * fabs(fd), "param %zu: gradient %g, finite "
                  "difference %g", i, (double)g[i], fd);
        checked++;
    }
    CHECK(checked >= 10);
    soma_model_set_params(m, w);

    /* the probe: one entry per layer but the fused ReLU, in order */
    soma_layer_probe p[16];
    int count = 0;
    double ploss = NAN;
    CHECK(soma_model_probe(m, x, y, N, p, 16, &count, &ploss) == SOMA_OK);
    CHECK(ploss == loss);
    CHECK_MSG(count == 6, "%d probes", count); /* flatten linear tanh linear bn(+relu) linear */
    if (count == 6) {
        CHECK(strcmp(p[1].kind, "linear") == 0 && p[1].layer == 1);
        CHECK(strcmp(p[4].kind, "batchnorm") == 0 && p[4].relu);
        CHECK(isnan(p[2].weight_std) && !isnan(p[1].weight_std));
        /* the first linear layer's output, computed here: weight 6x12 then bias 6 */
        double s = 0, ss = 0, lo = INFINITY, hi = -INFINITY;
        for (int n = 0; n < N; n++)
            for (int o = 0; o < 6; o++) {
                double v = w[6 * IN + o];
                for (int k = 0; k < IN; k++)
                    v += (double)w[o * IN + k] * x[n * IN + k];
                s += v, ss += v * v, lo = fmin(lo, v), hi = fmax(hi, v);
            }
        double mean = s / (N * 6), std = sqrt(ss / (N * 6) - mean * mean);
        CHECK_CLOSE(p[1].act_mean, mean, 1e-5);
        CHECK_CLOSE(p[1].act_std, std, 1e-5);
        CHECK_CLOSE(p[1].hist_lo, lo, 1e-5);
        CHECK_CLOSE(p[1].hist_hi, hi, 1e-5);
        int total = 0;
        for (int b = 0; b < SOMA_PROBE_BINS; b++)
            total += p[1].hist[b];
        CHECK(total == N * 6);
        /* BatchNorm then ReLU: about half the outputs are 0, none below */
        CHECK(p[4].hist_lo == 0 && p[4].hist[0] >= N * 5 / 4);
        CHECK(p[5].grad_std > 0 && p[1].weight_grad_std > 0);
    }
    int32_t bad[N] = {0, 1, 2, 3};
    CHECK(soma_model_loss_grad(m, x, bad, N, 1, 0, &loss, g) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_loss_grad(m, x, y, 0, 1, 0, &loss, g) == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_probe(m, x, y, N, p, 0, &count, &loss) == SOMA_ERR_ARGUMENT);
    free(w), free(w2), free(g);
    soma_model_free(m);
    return check_finish("probe_test");
}

/* Softmax cross-entropy, fused and stable: log-sum-exp after subtracting the row max. */
#include <math.h>

#include "ops/cpu/cpu.h"

soma_status cpu_softmax_xent_forward(const float *logits, const int32_t *labels, int n, int classes,
                                     float *probs, double *metrics)
{
    double loss = 0.0;
    int right = 0;
    for (int r = 0; r < n; r++) {
        const float *z = logits + (size_t)r * classes;
        float *p = probs + (size_t)r * classes;
        int best = 0;
        for (int k = 1; k < classes; k++)
            if (z[k] > z[best])
                best = k;
        double sum = 0.0;
        for (int k = 0; k < classes; k++) {
            p[k] = expf(z[k] - z[best]);
            sum += p[k];
        }
        for (int k = 0; k < classes; k++)
            p[k] = (float)(p[k] / sum);
        if (labels) {
            int y = labels[r];
            loss += log(sum) - (double)(z[y] - z[best]);
            right += best == y;
        }
    }
    if (metrics) {
        metrics[0] = loss;
        metrics[1] = right;
    }
    return SOMA_OK;
}

soma_status cpu_softmax_xent_backward(const float *probs, const int32_t *labels, int n, int classes,
                                      float scale, float *dlogits)
{
    for (int r = 0; r < n; r++)
        for (int k = 0; k < classes; k++) {
            size_t i = (size_t)r * classes + k;
            dlogits[i] = (probs[i] - (k == labels[r] ? 1.0f : 0.0f)) * scale;
        }
    return SOMA_OK;
}

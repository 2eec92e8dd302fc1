/* Finite-difference checks of every layer's input and parameter gradients. */
#include <math.h>
#include <stdlib.h>

#include "support/check.h"
#include "support/gradcheck.h"

/* Keeps inputs away from the kinks of ReLU and max (|x| and gaps >= margin),
 * where a finite difference would straddle a corner. */
static void spread_inputs(layer_harness *h, float margin)
{
    size_t n = shape_size(h->l.in) * h->batch;
    for (size_t i = 0; i < n; i++) {
        /* distinct values: a permutation-like spread plus the sign of the draw */
        float v = (float)((i * 7919) % n) * margin + margin;
        h->x[i] = h->x[i] < 0 ? -v : v;
    }
}

static void check_layer(const char *line, shape3 in, int batch, int training, float eps,
                        int spread)
{
    layer_harness h;
    CHECK_MSG(harness_make(&h, line, in, batch, training), "%s", line);
    if (!h.l.cls)
        return;
    if (spread)
        spread_inputs(&h, 0.05f);
    int bad = gradcheck(&h, eps, 2e-2, 2e-3);
    CHECK_MSG(bad == 0, "%s: %d gradients differ from finite differences", line, bad);
    harness_free(&h);
}

int main(void)
{
    shape3 img = {3, 7, 6}, flat = {10, 1, 1};
    check_layer("linear units=4", flat, 3, 1, 1e-2f, 0);
    check_layer("conv2d filters=4 size=3", img, 2, 1, 1e-2f, 0);
    check_layer("conv2d filters=2 size=3 stride=2 pad=1", img, 2, 1, 1e-2f, 0);
    check_layer("conv2d filters=3 size=5 pad=2", img, 2, 1, 1e-2f, 0);
    check_layer("conv2d filters=2 size=1", img, 2, 1, 1e-2f, 0);
    check_layer("conv2d filters=6 size=3 pad=1 groups=3", img, 2, 1, 1e-2f, 0);
    check_layer("conv2d filters=3 size=3 stride=2 groups=3", img, 2, 1, 1e-2f, 0);
    check_layer("maxpool size=2", img, 2, 1, 1e-3f, 1);
    check_layer("maxpool size=3 stride=2 pad=1", img, 2, 1, 1e-3f, 1);
    check_layer("avgpool size=2", img, 2, 1, 1e-2f, 0);
    check_layer("avgpool size=3 stride=2 pad=1", img, 2, 1, 1e-2f, 0);
    check_layer("relu", img, 2, 1, 1e-3f, 1);
    check_layer("tanh", img, 2, 1, 1e-2f, 0);
    check_layer("sigmoid", img, 2, 1, 1e-2f, 0);
    check_layer("dropout p=0.3", img, 2, 1, 1e-2f, 0); /* the mask is fixed by (seed, step) */
    check_layer("batchnorm", img, 4, 1, 1e-2f, 0);
    check_layer("batchnorm", flat, 5, 1, 1e-2f, 0);
    check_layer("batchnorm momentum=0.5 eps=0.001", img, 3, 1, 1e-2f, 0);
    check_layer("batchnorm", img, 2, 0, 1e-2f, 0); /* evaluation mode */
    check_layer("flatten", img, 2, 1, 1e-2f, 0);
    /* strong normalisation, so that the window's terms count in the gradient */
    check_layer("lrn size=3 alpha=0.5 beta=0.75 k=1", img, 2, 1, 1e-2f, 0);
    check_layer("lrn size=2 alpha=0.3 beta=1.5 k=2", img, 2, 1, 1e-2f, 0);
    check_layer("lrn", (shape3){7, 2, 3}, 2, 1, 1e-2f, 0);
    check_layer("lrn size=5 alpha=0.2", (shape3){7, 2, 3}, 2, 0, 1e-2f, 0);
    return check_finish("gradcheck");
}

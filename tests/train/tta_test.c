/*
 * Test-time augmentation: one copy is soma_evaluate exactly; more copies
 * average the softmax of the shifted (and, with flip, mirrored) copies, which
 * is checked against soma_model_predict on copies made here; the result is
 * the same every time and for any thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *model_text = "input channels=1 height=8 width=8\n"
                                "conv2d filters=4 size=3 pad=1\nrelu\nmaxpool size=2\n"
                                "flatten\nlinear units=3\n";

/* (dx, dy, flip) of copy k: the order soma_evaluate_tta documents */
static void copy_at(float *x, int dx, int dy, int flip)
{
    float t[64];
    memcpy(t, x, sizeof t);
    if (flip)
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                t[i * 8 + j] = x[i * 8 + 7 - j];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            int si = i - dy, sj = j - dx;
            x[i * 8 + j] = si < 0 || si >= 8 || sj < 0 || sj >= 8 ? 0.0f : t[si * 8 + sj];
        }
}

/* Loss and accuracy of the mean softmax over the given copies, computed
 * with soma_model_predict one sample at a time. */
static void reference(soma_model *m, const soma_dataset *ds, const int (*copies)[3], int n,
                      double *loss, double *accuracy)
{
    float mean, std;
    soma_model_normalization(m, &mean, &std);
    double loss_sum = 0;
    int right = 0;
    for (int s = 0; s < ds->n; s++) {
        double sum[3] = {0, 0, 0};
        for (int k = 0; k < n; k++) {
            float x[64], p[3];
            CHECK(soma_dataset_get(ds, s, 1, 0.0f, 1.0f, x) == SOMA_OK);
            copy_at(x, copies[k][0], copies[k][1], copies[k][2]);
            for (int i = 0; i < 64; i++)
                x[i] = (x[i] - mean) * (1.0f / std);
            CHECK(soma_model_predict(m, x, 1, p) == SOMA_OK);
            for (int c = 0; c < 3; c++)
                sum[c] += p[c];
        }
        int best = 0;
        for (int c = 1; c < 3; c++)
            if (sum[c] > sum[best])
                best = c;
        right += best == ds->labels[s];
        loss_sum -= log(sum[ds->labels[s]] / n);
    }
    *loss = loss_sum / ds->n;
    *accuracy = (double)right / ds->n;
}

int main(void)
{
    soma_set_threads(2);
    soma_dataset *tr = synthetic_patterns(200, 1, 2), *te = synthetic_patterns(70, 2, 2);
    soma_model *m = NULL;
    CHECK(tr && te && soma_model_parse(model_text, "tta_test", &m) == SOMA_OK);
    if (!m)
        return check_finish("tta_test");
    CHECK(soma_model_init(m, SOMA_INIT_HE, 3) == SOMA_OK);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 2;
    CHECK(soma_train(m, tr, NULL, &cfg, NULL, NULL, NULL) == SOMA_OK);

    double loss, acc, loss1, acc1, loss5, acc5, again_loss, again_acc;
    CHECK(soma_evaluate(m, te, 32, &loss, &acc) == SOMA_OK);
    CHECK(soma_evaluate_tta(m, te, 32, 1, NULL, &loss1, &acc1) == SOMA_OK);
    CHECK(loss1 == loss && acc1 == acc);

    /* 5 copies: the sample and its four 1-pixel shifts */
    static const int five[5][3] = {{0, 0, 0}, {1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}};
    double ref_loss, ref_acc;
    CHECK(soma_evaluate_tta(m, te, 32, 5, "shift=2", &loss5, &acc5) == SOMA_OK);
    reference(m, te, five, 5, &ref_loss, &ref_acc);
    CHECK_CLOSE(loss5, ref_loss, 1e-5);
    CHECK(acc5 == ref_acc);
    CHECK(loss5 != loss);
    soma_set_threads(1);
    CHECK(soma_evaluate_tta(m, te, 32, 5, NULL, &again_loss, &again_acc) == SOMA_OK);
    CHECK(again_loss == loss5 && again_acc == acc5);

    /* with flip in the run's spec: the sample, mirrored, shifted, mirrored and shifted */
    static const int four[4][3] = {{0, 0, 0}, {0, 0, 1}, {1, 0, 0}, {1, 0, 1}};
    CHECK(soma_evaluate_tta(m, te, 32, 4, "shift=1,flip", &loss5, &acc5) == SOMA_OK);
    reference(m, te, four, 4, &ref_loss, &ref_acc);
    CHECK_CLOSE(loss5, ref_loss, 1e-5);
    CHECK(acc5 == ref_acc);

    /* the number of copies there are, and a spec that is not one */
    CHECK(soma_evaluate_tta(m, te, 32, 26, "shift=1", &loss, &acc) == SOMA_ERR_ARGUMENT);
    CHECK(soma_evaluate_tta(m, te, 32, 50, "flip", &loss, &acc) == SOMA_OK);
    CHECK(soma_evaluate_tta(m, te, 32, 51, "flip", &loss, &acc) == SOMA_ERR_ARGUMENT);
    CHECK(soma_evaluate_tta(m, te, 32, 0, NULL, &loss, &acc) == SOMA_ERR_ARGUMENT);
    CHECK(soma_evaluate_tta(m, te, 32, 2, "flip=", &loss, &acc) == SOMA_ERR_ARGUMENT);
    soma_model_free(m);
    soma_dataset_free(tr);
    soma_dataset_free(te);
    return check_finish("tta_test");
}

/* soma_model_flops: the convolution and linear layers' multiply-adds x2, as
 * bench/cfg.py counts them, against LeNet-5's worked out by hand layer by
 * layer (forward, and training: 3x forward but 2x for the first layer), and
 * a grouped convolution's C/groups. */
#include "soma.h"
#include "support/check.h"

/* LeNet-5 (28x28, pad 2) layer by layer: 2 * K * (C/groups) * kh * kw * OH * OW
 * per convolution, 2 * in * out per linear layer (bench/cfg.py's count). */
static void test_lenet5(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_open("lenet5", &m) == SOMA_OK);
    if (!m)
        return;
    double conv1 = 2.0 * 6 * 1 * 5 * 5 * 28 * 28;   /* 6@5x5 pad 2: 28x28 out */
    double conv2 = 2.0 * 16 * 6 * 5 * 5 * 10 * 10;  /* 16@5x5 on 14x14: 10x10 out */
    double fc = 2.0 * (16 * 5 * 5 * 120 + 120 * 84 + 84 * 10);
    double forward = conv1 + conv2 + fc, training = 2 * conv1 + 3 * (conv2 + fc);
    CHECK_MSG(soma_model_flops(m, 0) == forward, "forward %.0f, by hand %.0f",
              soma_model_flops(m, 0), forward);
    CHECK_MSG(soma_model_flops(m, 1) == training, "training %.0f, by hand %.0f",
              soma_model_flops(m, 1), training);
    CHECK(soma_model_flops(NULL, 0) == 0.0);
    soma_model_free(m);

    /* a grouped convolution counts C/groups input channels */
    const char *grouped = "input channels=4 height=6 width=6\n"
                          "conv2d filters=8 size=3 groups=2\nflatten\nlinear units=3\n";
    CHECK(soma_model_parse(grouped, "grouped.cfg", &m) == SOMA_OK);
    if (!m)
        return;
    double g = 2.0 * 8 * (4 / 2) * 3 * 3 * 4 * 4, l = 2.0 * 8 * 4 * 4 * 3;
    CHECK(soma_model_flops(m, 0) == g + l);
    CHECK(soma_model_flops(m, 1) == 2 * g + 3 * l);
    soma_model_free(m);
}

int main(void)
{
    test_lenet5();
    return check_finish("model_flops_test");
}

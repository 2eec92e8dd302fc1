/*
 * Which algorithm each pass of a convolution runs: conv_plan_auto.
 *
 * The direct kernels and GEMM are chosen by shape (conv_plan_fixed; the
 * input gradient goes to CONV_BATCHLANE by batchlane_pays). Winograd
 * (3x3, stride 1) replaces them for a pass where it was measured faster:
 *
 *  - by default, by a fixed rule per layer shape (winograd_pays), drawn from
 *    bench/kernels/conv_bench's measurements per pass and shape. Fixed, so
 *    that a run resumed in another process takes the same algorithms and
 *    its results stay the same bit for bit: the algorithms agree only to
 *    rounding.
 *  - with SOMA_CONV_ALGO=measure, by timing both on the layer's own shape
 *    once per process (conv_measure.c) and keeping the choice for every later
 *    call with that shape. Faster on a machine unlike the one the rule was
 *    drawn on, but another process may measure otherwise: a resume is then
 *    exact only if it makes the same choices.
 *  - SOMA_CONV_ALGO=gemm, direct or winograd forces an algorithm wherever it
 *    can run (others keep the default): for tests and comparisons.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"

static conv_choice choice = CHOICE_RULE;

int conv_choice_parse(const char *text, conv_choice *out)
{
    static const struct {
        const char *name;
        conv_choice c;
    } names[] = {{"auto", CHOICE_RULE},  {"measure", CHOICE_MEASURE}, {"gemm", CHOICE_GEMM},
                 {"direct", CHOICE_DIRECT}, {"winograd", CHOICE_WINOGRAD}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i].name) == 0) {
            *out = names[i].c;
            return 1;
        }
    return 0;
}

static void read_choice(void)
{
    const char *want = getenv("SOMA_CONV_ALGO");
    /* anything unknown: the default, as for an unset variable */
    if (want && !conv_choice_parse(want, &choice))
        choice = CHOICE_RULE;
}

conv_choice conv_choice_get(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_choice);
    return choice;
}

int winograd_pays(const conv_geom *layer, conv_pass pass)
{
    conv_geom s = conv_group_geometry(layer);
    const conv_geom *g = &s;
    if (!conv_algo_usable(layer, pass, CONV_WINOGRAD))
        return 0;
    /* the dx pass is a convolution from K channels to C */
    int in = pass == CONV_DX ? g->k : g->c, out = pass == CONV_DX ? g->c : g->k;
    /* bench/kernels/conv_bench, one thread (docs/design.md has the figures):
     * against the AVX-512 direct kernels Winograd wins the forward pass and
     * the input gradient on small images with 64 channels or more on both
     * sides (7x7, 8x8: 1.4-2.0x); at 13x13 and 14x14 single layers gained
     * 0.8-1.26x, but whole networks gained nothing from them (AlexNet
     * 0.98-1.03x; vgg-small's gain comes from its 7x7 layers), so they keep
     * the direct kernels. Its filter gradient loses to
     * CONV_CHANVEC's. Against im2col + sgemm it wins every pass from 16
     * channels on both sides. */
    if (cpu_has_avx512())
        return in >= 64 && out >= 64 && g->h * g->w <= 64 &&
               (pass == CONV_FORWARD || pass == CONV_DX);
    return in >= 16 && out >= 16;
}

int batchlane_pays(const conv_geom *layer)
{
    conv_geom s = conv_group_geometry(layer);
    if (!conv_algo_usable(layer, CONV_DX, CONV_BATCHLANE))
        return 0;
    /* The input gradient of a layer with few input channels is a convolution
     * with few output channels: rowvec's rows waste lanes on its padded
     * input, chanvec's 16-channel vectors are mostly empty. Measured (one
     * thread, batch 64, us per image, batch-lane against the choice by
     * shape): LeNet-5's conv2 (6x14x14 -> 16, 5x5) 3.8 against rowvec's
     * 5.9; 2 to 12 input channels, 2x2 to 7x7, 7x7 to 64x64 images: 1.2x to
     * 2.9x faster, but 'same'-padded 5x5 on 6 channels (14x14, 28x28, 56x56),
     * where rowvec's rows are full: 0.99x to 1.06x, a tie; 14 and 15 input
     * channels to 16 and 32 filters lose to chanvec (0.95x to 0.97x).
     * Its scratch holds a block of dy in lanes, 16 samples: at most 4 MB
     * (the largest measured) per thread, so that a large first layer, whose
     * input gradient no one asks for, does not grow every workspace. */
    return s.c <= 12 && s.kh > 1 && (size_t)s.k * s.oh * s.ow <= 65536;
}

conv_plan conv_plan_choose(const conv_geom *g, conv_choice c, int parts)
{
    conv_plan p = conv_plan_fixed(g);
    if (c == CHOICE_MEASURE)
        return conv_plan_measured(g, &p, parts);
    for (int pass = 0; pass < 3; pass++) {
        conv_algo *a = &(&p.forward)[pass];
        if (c == CHOICE_GEMM)
            *a = CONV_GEMM;
        else if (c == CHOICE_WINOGRAD && conv_algo_usable(g, (conv_pass)pass, CONV_WINOGRAD))
            *a = CONV_WINOGRAD;
        else if (c == CHOICE_RULE && winograd_pays(g, (conv_pass)pass))
            *a = CONV_WINOGRAD;
    }
    return p;
}

conv_plan conv_plan_auto(const conv_geom *g)
{
    return conv_plan_choose(g, conv_choice_get(), cpu_parts());
}

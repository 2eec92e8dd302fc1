/*
 * Backend conformance: every operation of every backend table against
 * double-precision references written from the definitions
 * (tests/support/conformance*.c), with 1 and 2 threads. One line per
 * (backend, operation, case): PASS, FAIL or SKIP, then a summary; the exit
 * status is non-zero on any FAIL.
 *
 * The CPU backend picks its AVX-512 kernels at run time, once per process:
 * this executable covers the variant the process got, and CTest runs it a
 * second time with SOMA_CPU=generic for the portable kernels
 * (backend_conformance_test_generic). A variant that cannot run here says
 * SKIP and why, never PASS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/simd.h"
#include "support/conformance.h"

/* The backends under test: a new backend is one more entry here. */
static const soma_backend *const backends[] = {&soma_cpu_backend};
#define BACKENDS ((int)(sizeof backends / sizeof backends[0]))

/* Every case runs with each of these (the kernels split work over threads). */
static const int thread_counts[] = {1, 2};

typedef struct variant {
    char label[40];
    const char *skip; /* why it cannot run in this process; NULL: it runs */
} variant;

/* The CPU backend's kernel families: AVX-512 where the CPU has it (and
 * SOMA_CPU does not say generic), else the portable ones. */
static int cpu_variants(variant out[2])
{
    const char *want = getenv("SOMA_CPU");
    int generic_forced = want && strcmp(want, "generic") == 0;
    int avx512 = cpu_has_avx512();
    snprintf(out[0].label, sizeof out[0].label, "cpu (avx512)");
    out[0].skip = avx512           ? NULL
                  : generic_forced ? "SOMA_CPU=generic keeps this process to the portable kernels"
                                   : "this CPU has no AVX-512";
    snprintf(out[1].label, sizeof out[1].label, "cpu (generic)");
    out[1].skip = avx512 ? "AVX-512 in use in this process: the run with SOMA_CPU=generic "
                           "(backend_conformance_test_generic) covers the portable kernels"
                         : NULL;
    return 2;
}

static int variants_of(const soma_backend *be, variant out[2])
{
    if (be == &soma_cpu_backend)
        return cpu_variants(out);
    snprintf(out[0].label, sizeof out[0].label, "%s", be->name);
    out[0].skip = NULL;
    return 1;
}

static const char *algo_name(conv_algo a)
{
    return a == CONV_GEMM       ? "gemm"
           : a == CONV_CHANVEC  ? "chanvec"
           : a == CONV_ROWVEC   ? "rowvec"
           : a == CONV_WINOGRAD ? "winograd"
                                : "batchlane";
}

/* The convolution geometries reached every algorithm of each pass (AVX-512),
 * or only the portable ones, im2col + GEMM and Winograd (generic): the cases
 * checked what ran. */
static void cpu_conv_coverage(const conf_target *t, int avx512)
{
    const conv_geom *g;
    int n = conf_conv_geometries(&g), ran[3][CONV_ALGOS] = {{0}};
    char which[3][CONV_ALGOS][160] = {{""}}; /* the geometries' numbers, for the log */
    for (int i = 0; i < n; i++) {
        conv_plan p = conv_plan_auto(&g[i]);
        conv_algo algo[3] = {p.forward, p.dx, p.dw};
        for (int pass = 0; pass < 3; pass++) {
            char *list = which[pass][algo[pass]];
            size_t used = strlen(list);
            snprintf(list + used, sizeof which[0][0] - used, " #%d", i);
            ran[pass][algo[pass]]++;
        }
    }
    static const char *const pass_names[3] = {"forward", "dx", "dw"};
    for (int pass = 0; pass < 3; pass++)
        for (int a = CONV_GEMM; a < CONV_ALGOS; a++)
            if (ran[pass][a])
                printf("%-13s conv2d %-7s ran %-7s for geometries%s\n", t->label,
                       pass_names[pass], algo_name((conv_algo)a), which[pass][a]);
    conf_case k;
    case_begin(&k, t, "conv2d algorithms", "%s",
               avx512 ? "each pass ran gemm, chanvec, rowvec, winograd (not dw), "
                        "batchlane (dx only)"
                      : "every pass ran gemm and winograd only");
    for (int pass = 0; pass < 3; pass++)
        for (int a = CONV_GEMM; a < CONV_ALGOS; a++) {
            int portable = a == CONV_GEMM || a == CONV_WINOGRAD;
            /* with AVX-512, CONV_CHANVEC's filter gradient beats Winograd's,
             * which the backend then never picks (conv_winograd_test runs it) */
            if (avx512 && a == CONV_WINOGRAD && pass == CONV_DW)
                case_require(&k, ran[pass][a] == 0, "%d geometries ran dw's winograd kernel",
                             ran[pass][a]);
            /* batch-lane serves the input gradient only */
            else if (avx512 && a == CONV_BATCHLANE && pass != CONV_DX)
                case_require(&k, ran[pass][a] == 0, "%d geometries ran %s's batchlane kernel",
                             ran[pass][a], pass_names[pass]);
            else if (avx512 || portable)
                case_require(&k, ran[pass][a] > 0, "no geometry ran %s's %s kernel",
                             pass_names[pass], algo_name((conv_algo)a));
            else
                case_require(&k, ran[pass][a] == 0, "%d geometries ran %s's %s kernel",
                             ran[pass][a], pass_names[pass], algo_name((conv_algo)a));
        }
    case_end(&k);
}

static void run_suites(const conf_target *t)
{
    conf_memory(t);
    conf_lanes(t);
    conf_linear(t);
    conf_conv(t);
    conf_conv_pool(t);
    conf_pool(t);
    conf_lrn(t);
    conf_activation(t);
    conf_dropout(t);
    conf_batchnorm(t);
    conf_softmax_xent(t);
    conf_optimizer(t);
}

int main(void)
{
    conf_print_tolerances();
    for (int b = 0; b < BACKENDS; b++) {
        variant v[2];
        int nv = variants_of(backends[b], v);
        for (int i = 0; i < nv; i++) {
            if (v[i].skip) {
                conf_skip(v[i].label, NULL, NULL, v[i].skip);
                continue;
            }
            conf_target t = {backends[b], v[i].label, thread_counts,
                             (int)(sizeof thread_counts / sizeof thread_counts[0])};
            run_suites(&t);
            if (backends[b] == &soma_cpu_backend)
                cpu_conv_coverage(&t, cpu_has_avx512());
        }
    }
    conf_print_margins();
    int pass, fail, skip;
    conf_summary(&pass, &fail, &skip);
    printf("backend conformance: %d passed, %d failed, %d skipped\n", pass, fail, skip);
    return fail ? 1 : 0;
}

/* `soma bench`: images per second of training and inference steps on random data. */
#include <stdio.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/thread_check.h"

static const char bench_help[] =
    "usage: soma bench MODEL [options]\n"
    "\n"
    "Times training steps (forward, backward, optimizer) and inference on random\n"
    "inputs, each step on its own, and prints the median images per second, the\n"
    "spread of the steps (interquartile range, and slowest to fastest) and GFLOP/s\n"
    "(convolution and linear layers' multiply-adds x2). Needs no dataset.\n"
    "\n"
    "  --batch N      samples per step, 1..65536 (default 64)\n"
    "  --threads N    threads, 0 = all cores (default 0)\n"
    "  --device NAME  where to run: cpu (soma --version lists this build's)\n"
    "  --seconds S    warm up for S seconds, then time steps for S seconds\n"
    "                 (at least 5 steps), 0.01..600 (default 1)\n"
    "  --steps N      time exactly N steps instead, 1..100000 (warm-up: N/5\n"
    "                 steps, at least 2)\n"
    "  --training     time training\n"
    "  --inference    time inference (neither or both: both)\n"
    "  -h, --help     show this help\n"
    "\n"
    "examples:\n"
    "  soma bench lenet5\n"
    "  soma bench lenet5 --batch 256 --threads 1 --inference\n";

/* images/s as printed: whole and grouped, or with a decimal for large models
 * (whole images hide 4% steps) */
static const char *rate_text(double images_per_second, char *buf, size_t size)
{
    if (images_per_second < 100.0)
        snprintf(buf, size, "%.1f", images_per_second);
    else
        format_count((long long)(images_per_second + 0.5), buf, size);
    return buf;
}

/* One line: "train  25,301 img/s  (2.53 ms per batch of 64)  IQR ...": bench/report.py
 * reads its beginning, up to the closing parenthesis. */
static soma_status bench_one(soma_model *model, const char *label, int training,
                             const soma_benchmark_config *base)
{
    soma_benchmark_config c = *base;
    c.training = training;
    soma_benchmark_result r;
    SOMA_TRY(soma_benchmark_run(model, &c, &r));
    char median[32], q1[32], q3[32], lo[32], hi[32];
    double ms = r.images_per_second > 0 ? 1000.0 * c.batch / r.images_per_second : 0;
    printf("%-10s %10s img/s  (%.2f ms per batch of %d)  IQR %s-%s  range %s-%s  "
           "%.2f GFLOP/s  %d steps in %.2f s\n",
           label, rate_text(r.images_per_second, median, sizeof median), ms, c.batch,
           rate_text(r.q1_images_per_second, q1, sizeof q1),
           rate_text(r.q3_images_per_second, q3, sizeof q3),
           rate_text(r.min_images_per_second, lo, sizeof lo),
           rate_text(r.max_images_per_second, hi, sizeof hi), r.gflops_per_second, r.steps,
           r.seconds);
    fflush(stdout);
    return SOMA_OK;
}

int cmd_bench(int argc, char **argv, const command_line *full)
{
    (void)full;
    int batch = 64, threads = 0, steps = 0, inference = 0, training = 0;
    double seconds = 0; /* 0: not given (1 s) */
    const char *device = NULL;
    cli_option options[] = {
        {"device", OPT_STRING, &device, 0, 0, 0, 0, "a device name", 0},
        {"batch", OPT_INT, &batch, 1, SOMA_MAX_BATCH, 0, 0, "a whole number from 1 to 65536", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"steps", OPT_INT, &steps, 1, 100000, 0, 0, "a whole number from 1 to 100000", 0},
        {"seconds", OPT_NUMBER, &seconds, 0.01, 600, 0, 0, "a number of seconds from 0.01 to 600",
         0},
        {"inference", OPT_FLAG, &inference, 0, 0, 0, 0, NULL, 0},
        {"training", OPT_FLAG, &training, 0, 0, 0, 0, NULL, 0},
    };
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("bench", argc, argv, options, ARGS_COUNT(options), positional, 1,
                                &npositional);
    int outcome = args_outcome(r, bench_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 1) {
        fprintf(stderr, "usage: soma bench MODEL [options]  (see soma bench --help)\n");
        return EXIT_USAGE;
    }
    if (steps && seconds > 0) {
        fprintf(stderr, "soma bench: --steps and --seconds exclude each other "
                        "(a count of steps, or a time)\n");
        return EXIT_USAGE;
    }
    if (device && !(device = device_choice("bench", device)))
        return EXIT_USAGE;
    if (threads_check(threads) >= 0)
        return EXIT_ERROR;
    if (!seconds)
        seconds = 1.0;
    if (!training && !inference) /* neither named: both */
        training = inference = 1;
    soma_benchmark_config c = {.batch = batch};
    if (steps) /* a fixed count: warm-up a fifth of it, at least 2 */
        c.warmup_steps = steps / 5 < 2 ? 2 : steps / 5, c.steps = steps;
    else
        c.warmup_steps = 1, c.warmup_seconds = seconds, c.seconds = seconds;
    soma_set_threads(threads);
    soma_model *model = NULL;
    soma_status st = soma_model_open(positional[0], &model);
    if (st == SOMA_OK && device)
        st = soma_model_set_device(model, device);
    if (st == SOMA_OK)
        st = soma_model_init(model, SOMA_INIT_HE, 1);
    if (st == SOMA_OK) {
        char count[32], timing[64];
        if (steps)
            snprintf(timing, sizeof timing, "%d timed steps", steps);
        else
            snprintf(timing, sizeof timing, "%g s warm-up, %g s timed", seconds, seconds);
        printf("model      %s (%s parameters)  batch %d  %s  threads %d  %s\n", positional[0],
               format_count((long long)soma_model_param_count(model), count, sizeof count), batch,
               soma_model_device(model), soma_threads(), timing);
        printf("compute    %s\n", soma_build_info());
        if (training)
            st = bench_one(model, "train", 1, &c);
    }
    if (st == SOMA_OK && inference)
        st = bench_one(model, "inference", 0, &c);
    soma_model_free(model);
    return st == SOMA_OK ? EXIT_OK : report_error(st);
}

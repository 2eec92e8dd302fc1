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
    "inputs and prints the median images per second. Needs no dataset.\n"
    "\n"
    "  --batch N      samples per step, 1..65536 (default 64)\n"
    "  --threads N    threads, 0 = all cores (default 0)\n"
    "  --device NAME  where to run: cpu (soma --version lists this build's)\n"
    "  --steps N      timed steps, 1..100000 (default 20; a few untimed warm-up\n"
    "                 steps come first)\n"
    "  --inference    time inference only\n"
    "  --training     time training only\n"
    "  -h, --help     show this help\n"
    "\n"
    "examples:\n"
    "  soma bench lenet5\n"
    "  soma bench lenet5 --batch 256 --threads 1 --inference\n";

static soma_status bench_one(soma_model *model, const char *label, int batch, int training,
                             int steps)
{
    int warmup = steps / 5 < 2 ? 2 : steps / 5;
    double images_per_second = 0;
    SOMA_TRY(soma_benchmark(model, batch, training, warmup, steps, &images_per_second));
    char rate[32];
    if (images_per_second < 100.0) /* large models: whole images hide 4% steps */
        snprintf(rate, sizeof rate, "%.1f", images_per_second);
    else
        format_count((long long)(images_per_second + 0.5), rate, sizeof rate);
    double ms = images_per_second > 0 ? 1000.0 * batch / images_per_second : 0;
    printf("%-10s %10s img/s  (%.2f ms per batch of %d)\n", label, rate, ms, batch);
    fflush(stdout);
    return SOMA_OK;
}

int cmd_bench(int argc, char **argv, const command_line *full)
{
    (void)full;
    int batch = 64, threads = 0, steps = 20, inference = 0, training = 0;
    const char *device = NULL;
    cli_option options[] = {
        {"device", OPT_STRING, &device, 0, 0, 0, 0, "a device name", 0},
        {"batch", OPT_INT, &batch, 1, SOMA_MAX_BATCH, 0, 0, "a whole number from 1 to 65536", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"steps", OPT_INT, &steps, 1, 100000, 0, 0, "a whole number from 1 to 100000", 0},
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
    if (device && !(device = device_choice("bench", device)))
        return EXIT_USAGE;
    if (threads_check(threads) >= 0)
        return EXIT_ERROR;
    soma_set_threads(threads);
    soma_model *model = NULL;
    soma_status st = soma_model_open(positional[0], &model);
    if (st == SOMA_OK && device)
        st = soma_model_set_device(model, device);
    if (st == SOMA_OK)
        st = soma_model_init(model, SOMA_INIT_HE, 1);
    if (st == SOMA_OK) {
        char count[32];
        printf("model      %s (%s parameters)  batch %d  %s  threads %d  %d timed steps\n",
               positional[0],
               format_count((long long)soma_model_param_count(model), count, sizeof count), batch,
               soma_model_device(model), soma_threads(), steps);
        printf("compute    %s\n", soma_build_info());
        if (!inference)
            st = bench_one(model, "train", batch, 1, steps);
    }
    if (st == SOMA_OK && !training)
        st = bench_one(model, "inference", batch, 0, steps);
    soma_model_free(model);
    return st == SOMA_OK ? EXIT_OK : report_error(st);
}

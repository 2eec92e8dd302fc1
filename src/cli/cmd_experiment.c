/* `soma experiment NAME`: runs one of the experiments of experiment.h. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/experiment.h"
#include "cli/out_dir.h"
#include "cli/run_files.h"
#include "core/error.h"

static const char experiment_help[] =
    "usage: soma experiment NAME [--quick] [--out DIR] [--seed N] [--threads N]\n"
    "\n"
    "Draws a picture of the lecture from real runs, as SVG and PNG with the CSV behind\n"
    "each chart, and says what it shows (docs/experiments.md):\n"
    "  optimizers  SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on an\n"
    "              ill-conditioned quadratic, Rosenbrock's valley and a saddle point,\n"
    "              over the contour lines; and LeNet-5's training loss on Fashion-MNIST\n"
    "              with each\n"
    "  init        activations and gradients layer by layer in a deep plain network\n"
    "              under zero, too small, He, Xavier and LeCun initialisation\n"
    "  dropout     training and validation curves with and without dropout on a\n"
    "              network that overfits a small subset\n"
    "  batchnorm   Santurkar et al. (2018): VGG with and without BatchNorm, the loss\n"
    "              landscape, gradient predictiveness, effective beta-smoothness, and\n"
    "              noisy BatchNorm\n"
    "\n"
    "options:\n"
    "  --quick       a CI-sized run (seconds): fewer images and steps\n"
    "  --out DIR     where the files go (default experiments/NAME)\n"
    "  --seed N      the seed of data subsets, initialisation and shuffles (default 1)\n"
    "  --threads N   threads (default: all cores)\n";

typedef struct experiment {
    const char *name;
    soma_status (*run)(const experiment_args *a);
} experiment;

static const experiment experiments[] = {
    {"optimizers", experiment_optimizers},
    {"init", experiment_init},
    {"dropout", experiment_dropout},
    {"batchnorm", experiment_batchnorm},
};
#define NEXPERIMENTS ((int)(sizeof experiments / sizeof experiments[0]))

int cmd_experiment(int argc, char **argv, const command_line *full)
{
    (void)full;
    experiment_args a = {NULL, 0, 1};
    int threads = 0;
    cli_option options[] = {
        {"quick", OPT_FLAG, &a.quick, 0, 0, 0, 0, NULL, 0},
        {"out", OPT_STRING, &a.out, 0, 0, 0, 0, "a directory", 0},
        {"seed", OPT_U64, &a.seed, 0, 0, 0, 0, "a whole number >= 0", 0},
        {"threads", OPT_INT, &threads, 0, 4096, 0, 0, "a thread count (0: all cores)", 0},
    };
    const char *positional[1];
    int npositional = 0;
    parse_result r = args_parse("experiment", argc, argv, options, ARGS_COUNT(options),
                                positional, 1, &npositional);
    int outcome = args_outcome(r, experiment_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 1)
        return usage_error("experiment", "name an experiment: optimizers, init, dropout or "
                                         "batchnorm (see soma experiment --help)");
    const experiment *e = NULL;
    const char *names[NEXPERIMENTS];
    for (int i = 0; i < NEXPERIMENTS; i++) {
        names[i] = experiments[i].name;
        if (strcmp(positional[0], experiments[i].name) == 0)
            e = &experiments[i];
    }
    if (!e) {
        const char *hint = suggest_word(positional[0], names, NEXPERIMENTS);
        return usage_error("experiment", "unknown experiment '%s'%s%s%s (optimizers, init, "
                                         "dropout, batchnorm)",
                           positional[0], hint ? " (did you mean '" : "", hint ? hint : "",
                           hint ? "'?)" : "");
    }
    char out[1024];
    snprintf(out, sizeof out, "experiments/%s", e->name);
    if (!a.out)
        a.out = out;
    soma_set_threads(threads);
    soma_status st = make_dirs(a.out);
    if (st == SOMA_OK)
        st = e->run(&a);
    if (st != SOMA_OK)
        return report_error(st);
    printf("wrote %s/\n", a.out);
    return EXIT_OK;
}

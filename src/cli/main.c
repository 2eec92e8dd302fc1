/* soma: train, evaluate and inspect convolutional networks from the command line. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "soma.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv, const command_line *full);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train a model on a dataset, writing checkpoints and metrics"},
    {"eval", cmd_eval, "evaluate a checkpoint on a dataset split"},
    {"predict", cmd_predict, "classify images (PNG, JPEG, PGM, IDX) with a checkpoint"},
    {"info", cmd_info, "show a model's or checkpoint's layers, parameters and FLOPs"},
    {"bench", cmd_bench, "time training and inference steps of a model"},
    {"zoo", cmd_zoo, "list the built-in models"},
    {"augment", cmd_augment, "preview data augmentation as a PNG grid"},
    {"convert", cmd_convert, "write a dataset out as an image folder of PNG files"},
    {"report", cmd_report, "write an HTML report of one or more runs"},
    {"import", cmd_import, "make a checkpoint of PyTorch weights (safetensors)"},
    {"experiment", cmd_experiment, "draw the lecture's pictures from real runs"},
    {"export", cmd_export, "write a checkpoint's network as an ONNX model"},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void print_help(FILE *out)
{
    fprintf(out, "usage: soma COMMAND [ARGS...]\n\n"
                 "Train convolutional networks from scratch on the CPU.\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'soma COMMAND --help' for a command's options.\n"
                 "  soma --version    print the version\n"
                 "\nexamples:\n"
                 "  soma train lenet5 --epochs 10\n"
                 "  soma eval runs/lenet5-20250101-120000/best.safetensors\n"
                 "  soma info lenet5\n");
}

static int unknown_command(const char *name)
{
    const char *names[NCOMMANDS + 1];
    for (int i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    names[NCOMMANDS] = "help";
    const char *hint = suggest_word(name, names, NCOMMANDS + 1);
    if (hint)
        fprintf(stderr, "soma: unknown command '%s' (did you mean '%s'?)\n", name, hint);
    else
        fprintf(stderr, "soma: unknown command '%s' (see soma --help)\n", name);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    command_line full = {argc, argv};
    soma_select_blas_kernels(); /* the CLI owns its process: best BLAS kernels for the CPU */
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("soma %s (%s)\ndevices:", SOMA_VERSION, soma_build_info());
        for (const char *const *d = soma_devices(); *d; d++)
            printf(" %s", *d);
        printf("\n");
        return EXIT_OK;
    }
    /* "soma help train" is "soma train --help" */
    if (strcmp(name, "help") == 0) {
        if (argc < 3 || strcmp(argv[2], "help") == 0) {
            print_help(stdout);
            return EXIT_OK;
        }
        for (int i = 0; i < NCOMMANDS; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char help_flag[] = "--help";
                char *help_argv[] = {help_flag, NULL};
                return commands[i].run(1, help_argv, &full);
            }
        return unknown_command(argv[2]);
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2, &full);

    if (name[0] == '-') {
        fprintf(stderr, "soma: unknown option '%s' (see soma --help)\n", name);
        return EXIT_USAGE;
    }
    return unknown_command(name);
}

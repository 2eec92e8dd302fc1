/* soma: train, evaluate and inspect convolutional networks from the command line. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv, const command_line *full);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train a model on a dataset, writing checkpoints and metrics"},
    {"eval", cmd_eval, "evaluate a checkpoint on a dataset split"},
    {"predict", cmd_predict, "classify images (PGM, PNG, IDX) with a checkpoint"},
    {"info", cmd_info, "show a model's or checkpoint's layers, parameters and FLOPs"},
    {"bench", cmd_bench, "time training and inference steps of a model"},
    {"zoo", cmd_zoo, "list the built-in models"},
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

int report_error(soma_status status)
{
    const char *message = soma_last_error();
    if (!message || !*message)
        message = soma_status_name(status);
    fprintf(stderr, "soma: error: %s\n", message);
    return status == SOMA_ERR_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ERROR;
}

void print_accuracy_line(const char *split, double accuracy, double loss, int images)
{
    printf("%s accuracy %.2f%%  (error %.2f%%, loss %.4f)  on %d images\n", split,
           100.0 * accuracy, 100.0 * (1.0 - accuracy), loss, images);
    fflush(stdout);
}

soma_status check_model_fits_data(const soma_model *model, const char *model_name,
                                  const soma_dataset *ds, const char *data_name)
{
    int mc, mh, mw, dc, dh, dw;
    soma_model_input_shape(model, &mc, &mh, &mw);
    soma_dataset_shape(ds, &dc, &dh, &dw);
    if (mc != dc || mh != dh || mw != dw)
        return soma_error(SOMA_ERR_SHAPE,
                          "model %s takes %dx%dx%d inputs (CxHxW) but %s has %dx%dx%d images",
                          model_name, mc, mh, mw, data_name, dc, dh, dw);
    int model_classes = soma_model_classes(model);
    int data_classes = soma_dataset_classes(ds);
    if (data_classes > model_classes)
        return soma_error(SOMA_ERR_SHAPE,
                          "model %s has %d outputs but %s has labels up to %d (%d classes)",
                          model_name, model_classes, data_name, data_classes - 1, data_classes);
    return SOMA_OK;
}

int main(int argc, char **argv)
{
    command_line full = {argc, argv};
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
        printf("soma %s (%s)\n", SOMA_VERSION, soma_build_info());
        return EXIT_OK;
    }
    /* "soma help train" is "soma train --help" */
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return EXIT_OK;
        }
        for (int i = 0; i < NCOMMANDS; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char help_flag[] = "--help";
                char *help_argv[] = {help_flag, NULL};
                return commands[i].run(1, help_argv, &full);
            }
        fprintf(stderr, "soma: unknown command '%s' (see soma --help)\n", argv[2]);
        return EXIT_USAGE;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2, &full);

    if (name[0] == '-') {
        fprintf(stderr, "soma: unknown option '%s' (see soma --help)\n", name);
        return EXIT_USAGE;
    }
    const char *names[NCOMMANDS];
    for (int i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    const char *hint = suggest_word(name, names, NCOMMANDS);
    if (hint)
        fprintf(stderr, "soma: unknown command '%s' (did you mean '%s'?)\n", name, hint);
    else
        fprintf(stderr, "soma: unknown command '%s' (see soma --help)\n", name);
    return EXIT_USAGE;
}

/* `soma eval`: the accuracy and loss of a checkpoint on a dataset split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/thread_check.h"

static const char eval_help[] =
    "usage: soma eval CHECKPOINT [options]\n"
    "\n"
    "Evaluates a checkpoint written by soma train and prints its accuracy, error\n"
    "and mean cross-entropy loss.\n"
    "\n"
    "  --data NAME|DIR   mnist, fashion-mnist or a directory of IDX files\n"
    "                    (default: the --data of the command recorded in the checkpoint,\n"
    "                    else mnist)\n"
    "  --split NAME      test or train (default test)\n"
    "  --batch N         images per forward pass, 1..65536 (default 256)\n"
    "  --threads N       threads, 0 = all cores (default 0)\n"
    "  -h, --help        show this help\n"
    "\n"
    "example:\n"
    "  soma eval runs/lenet5-20250101-120000/best.safetensors --data mnist\n";

int cmd_eval(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *data = NULL, *split = "test";
    int batch = 256, threads = 0;
    cli_option options[] = {
        {"data", OPT_STRING, &data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"split", OPT_STRING, &split, 0, 0, 0, 0, "test or train", 0},
        {"batch", OPT_INT, &batch, 1, 65536, 0, 0, "a whole number from 1 to 65536", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
    };
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("eval", argc, argv, options, ARGS_COUNT(options), positional, 1,
                                &npositional);
    int outcome = args_outcome(r, eval_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 1) {
        fprintf(stderr, "usage: soma eval CHECKPOINT [options]  (see soma eval --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(split, "test") != 0 && strcmp(split, "train") != 0)
        return usage_error("eval", "--split expects test or train, got '%s'", split);

    const char *path = positional[0];
    if (checkpoint_argument_check("eval", path) >= 0)
        return EXIT_USAGE;
    if (threads_check(threads) >= 0)
        return EXIT_ERROR;
    soma_set_threads(threads);
    /* the command recorded in the checkpoint says what it was trained on */
    char *recorded = NULL;
    if (!data) {
        char *command = soma_checkpoint_metadata(path, "command");
        recorded = command_option_value(command, "--data");
        free(command);
    }
    if (data) {
        /* any case and the aliases, as for soma train */
        data = data_choice("eval", data);
        if (!data) {
            free(recorded);
            return EXIT_USAGE;
        }
    } else {
        data = recorded && *recorded ? recorded : "mnist";
        /* an older run's command may hold an alias (--data MNIST); a
         * recorded directory that is gone is the loader's error, not a usage one */
        struct stat sb;
        const char *name = choice_match(&dataset_choices, data);
        if (name && stat(data, &sb) != 0)
            data = name;
    }

    soma_model *model = NULL;
    soma_dataset *ds = NULL;
    double loss = 0, accuracy = 0;
    soma_status st = soma_checkpoint_load_model(path, &model);
    if (st == SOMA_OK)
        st = soma_dataset_find(data, split, &ds);
    if (st == SOMA_OK)
        st = check_model_fits_data(model, path, ds, data);
    if (st == SOMA_OK)
        st = soma_evaluate(model, ds, batch, &loss, &accuracy);
    int rc = EXIT_OK;
    if (st == SOMA_OK) {
        char count[32];
        printf("checkpoint %s\n", path);
        printf("data       %s (%s split, %s images) from %s\n", data, split,
               format_count(soma_dataset_count(ds), count, sizeof count),
               soma_dataset_source(ds));
        print_accuracy_line(split, accuracy, loss, soma_dataset_count(ds));
    } else {
        rc = report_error(st);
    }
    soma_dataset_free(ds);
    soma_model_free(model);
    free(recorded);
    return rc;
}

/* `soma eval`: the accuracy and loss of a checkpoint on a dataset split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/run_settings.h"
#include "core/error.h"
#include "cli/thread_check.h"
#include "cli/train_options.h"

static const char eval_help[] =
    "usage: soma eval CHECKPOINT [options]\n"
    "\n"
    "Evaluates a checkpoint written by soma train and prints its accuracy, error\n"
    "and mean cross-entropy loss.\n"
    "\n"
    "  --data NAME|DIR   mnist, fashion-mnist, cifar-10, cifar-100, or a directory of\n"
    "                    IDX or CIFAR files or an image folder\n"
    "                    (default: the data the checkpoint was trained on, else mnist;\n"
    "                    another one is evaluated with a warning)\n"
    "  --split NAME      test, val or train (default test): val is the validation part\n"
    "                    that soma train held out (the same images, from the run's\n"
    "                    seed and --val-split), train the rest of the training split\n"
    "  --batch N         images per forward pass, 1..65536 (default 256)\n"
    "  --threads N       threads, 0 = all cores (default 0)\n"
    "  --device NAME     where to run: cpu (soma --version lists this build's)\n"
    "  --tta N           also test-time augmentation: the softmax averaged over N\n"
    "                    copies shifted by up to 2 pixels (flipped too when the run's\n"
    "                    --augment flips), 1..25 (50 with flip)\n"
    "  --skip-bad-images image folders: leave out images that do not decode\n"
    "  -h, --help        show this help\n"
    "\n"
    "example:\n"
    "  soma eval runs/lenet5-20250101-120000/best.safetensors --data mnist\n";

static const char *const split_names[] = {"test", "val", "train"};
static const value_alias split_aliases[] = {{"validation", "val"}, {"valid", "val"}};
static const value_choices split_choices = {"split", split_names, 3, split_aliases, 2, NULL};

/* The settings recorded in a checkpoint; 0 (and `s` empty) when it has
 * none or cannot be read (loading the model then says why). */
static int recorded_settings(const char *path, run_settings *s)
{
    memset(s, 0, sizeof *s);
    /* a pipe can be read once: the model is read from it, not the settings */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    run_position pos;
    if (run_settings_load(path, s, &pos) == SOMA_OK)
        return 1;
    soma_error_clear();
    return 0;
}

/* The images of a split. "val" and "train" are the two parts soma train
 * made of the training split: the same seeded split, from the settings. */
static soma_status load_split(const char *path, const char *data, const char *split,
                              const run_settings *trained, const soma_model *model, int skip_bad,
                              soma_dataset **out)
{
    *out = NULL;
    /* fitted as the run evaluated: a resized-crop run on its 87.5% centre crop */
    const char *augment = trained ? trained->augment : NULL;
    if (strcmp(split, "test") == 0)
        return find_data_for_model(data, "test", model, skip_bad, augment, out);
    if (!trained || trained->val_split <= 0) {
        if (strcmp(split, "val") == 0)
            return soma_error(SOMA_ERR_ARGUMENT, "%s: the run had no validation split%s", path,
                              trained ? "" : " recorded (an older soma wrote it)");
        return find_data_for_model(data, "train", model, skip_bad, augment, out);
    }
    if (has_val_folder(data)) /* the run validated on DIR/val and trained on all of DIR/train */
        return find_data_for_model(data, split, model, skip_bad, augment, out);
    soma_dataset *all = NULL, *train = NULL, *val = NULL;
    SOMA_TRY(find_data_for_model(data, "train", model, skip_bad, augment, &all));
    soma_status st = soma_dataset_split(all, trained->val_split, trained->train.seed, &train, &val);
    soma_dataset_free(all);
    int want_val = strcmp(split, "val") == 0;
    *out = want_val ? val : train;
    soma_dataset_free(want_val ? train : val);
    return st;
}

int cmd_eval(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *data = NULL, *split = "test", *device = NULL;
    int batch = 256, threads = 0, tta = 0, skip_bad = 0;
    cli_option options[] = {
        {"skip-bad-images", OPT_FLAG, &skip_bad, 0, 0, 0, 0, NULL, 0},
        {"data", OPT_STRING, &data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"split", OPT_STRING, &split, 0, 0, 0, 0, "test, val or train", 0},
        {"batch", OPT_INT, &batch, 1, SOMA_MAX_BATCH, 0, 0, "a whole number from 1 to 65536", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"device", OPT_STRING, &device, 0, 0, 0, 0, "a device name", 0},
        {"tta", OPT_INT, &tta, 1, 50, 0, 0, "a whole number from 1 to 50", 0},
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
    split = choice_parse("eval", &split_choices, split);
    if (!split || (device && !(device = device_choice("eval", device))))
        return EXIT_USAGE;

    const char *path = positional[0];
    if (checkpoint_argument_check("eval", path) >= 0)
        return EXIT_USAGE;
    if (threads_check(threads) >= 0)
        return EXIT_ERROR;
    soma_set_threads(threads);
    /* the checkpoint's settings say what it was trained on, and how the
     * validation part was split off */
    run_settings trained;
    int have_settings = recorded_settings(path, &trained);
    if (tta_check("eval", tta, have_settings ? trained.augment : NULL) >= 0) {
        run_settings_free(&trained);
        return EXIT_USAGE;
    }
    const char *trained_on = have_settings ? trained.data : NULL;
    char *legacy = NULL; /* an older checkpoint: the --data of its recorded command */
    if (!have_settings && !data) {
        char *command = NULL; /* a file that cannot be read is the load's error, below */
        (void)soma_checkpoint_metadata(path, "command", &command);
        legacy = command_option_value(command, "--data");
        trained_on = legacy && *legacy ? legacy : NULL;
        free(command);
    }
    if (data) {
        /* any case and the aliases, as for soma train */
        data = data_choice("eval", data);
        if (!data) {
            run_settings_free(&trained);
            free(legacy);
            return EXIT_USAGE;
        }
    } else {
        data = trained_on ? trained_on : "mnist";
        /* an older run's command may hold an alias (--data MNIST); a
         * recorded directory that is gone is the loader's error, not a usage one */
        struct stat sb;
        const char *name = choice_match(&dataset_choices, data);
        if (name && stat(data, &sb) != 0)
            data = name;
    }
    soma_model *model = NULL;
    soma_dataset *ds = NULL;
    double loss = 0, accuracy = 0, loss_tta = 0, accuracy_tta = 0;
    soma_status st = soma_checkpoint_load_model(path, &model);
    if (st == SOMA_OK && device)
        st = soma_model_set_device(model, device);
    if (st == SOMA_OK)
        st = load_split(path, data, split, have_settings ? &trained : NULL, model, skip_bad, &ds);
    if (st == SOMA_OK)
        st = check_model_fits_data(model, path, ds, data);
    if (st == SOMA_OK)
        st = soma_evaluate(model, ds, batch, &loss, &accuracy);
    if (st == SOMA_OK && tta) /* flips only when the run's augmentation flipped */
        st = soma_evaluate_tta(model, ds, batch, tta, have_settings ? trained.augment : NULL,
                               &loss_tta, &accuracy_tta);
    int rc = EXIT_OK;
    if (st == SOMA_OK) {
        char count[32];
        /* after the evaluation: when it fails, its error is the one line */
        if (trained_on && strcmp(data, trained_on) != 0)
            fprintf(stderr, "soma: warning: %s was trained on %s; evaluating it on %s\n", path,
                    trained_on, data);
        printf("checkpoint %s\n", path);
        printf("data       %s (%s split, %s images) from %s\n", data, split,
               format_count(soma_dataset_count(ds), count, sizeof count),
               soma_dataset_source(ds));
        print_accuracy_line(split, accuracy, loss, soma_dataset_count(ds));
        if (tta) {
            char label[48];
            snprintf(label, sizeof label, "%s TTA %d", split, tta);
            print_accuracy_line(label, accuracy_tta, loss_tta, soma_dataset_count(ds));
        }
    } else {
        rc = report_error(st);
    }
    soma_dataset_free(ds);
    soma_model_free(model);
    run_settings_free(&trained);
    free(legacy);
    return rc;
}

/*
 * The subcommands of `soma`. Each takes the arguments after its name
 * (argv[0] is the first of them) plus the whole command line (for records),
 * and returns the process exit status: 0 ok, 1 error, 2 bad usage,
 * 130 interrupted.
 */
#ifndef SOMA_CLI_COMMANDS_H
#define SOMA_CLI_COMMANDS_H

#include "soma.h"

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_INTERRUPTED 130

typedef struct command_line {
    int argc;
    char **argv; /* the full argv of the process, for summary.json and hints */
} command_line;

int cmd_train(int argc, char **argv, const command_line *full);
int cmd_eval(int argc, char **argv, const command_line *full);
int cmd_predict(int argc, char **argv, const command_line *full);
int cmd_info(int argc, char **argv, const command_line *full);
int cmd_bench(int argc, char **argv, const command_line *full);
int cmd_zoo(int argc, char **argv, const command_line *full);
int cmd_augment(int argc, char **argv, const command_line *full);
int cmd_convert(int argc, char **argv, const command_line *full);
int cmd_report(int argc, char **argv, const command_line *full);
int cmd_import(int argc, char **argv, const command_line *full);
int cmd_export(int argc, char **argv, const command_line *full);
int cmd_experiment(int argc, char **argv, const command_line *full);

/* Prints "soma: error: <soma_last_error()>" on stderr; returns EXIT_ERROR
 * (or EXIT_INTERRUPTED for SOMA_ERR_INTERRUPTED). */
int report_error(soma_status status);

/* Checks that a dataset's images fit a model's input (one clear error otherwise). */
soma_status check_model_fits_data(const soma_model *model, const char *model_name,
                                  const soma_dataset *ds, const char *data_name);

/* Finds a split of a dataset for a model: image folders are fitted to the
 * model's input (centre crop; the central 87.5% of it when the run's
 * augmentation spec `augment`, or NULL, has a resized-crop: eval_fit); with
 * skip_bad, unreadable images are left out and counted in a warning on stderr. */
soma_status find_data_for_model(const char *data, const char *split, const soma_model *model,
                                int skip_bad, const char *augment, soma_dataset **out);
/* How a run's image folders are fitted for evaluation: torchvision's
 * Resize(size x 256/224) + CenterCrop(size) after training on
 * random-resized crops, else the plain centre crop. */
soma_image_fit eval_fit(const char *augment);

/* 1 when `data` is an image folder with a val/ folder beside train/: with a
 * validation split asked for (--val-split > 0), that folder is the validation
 * set and train/ is trained on whole. */
int has_val_folder(const char *data);

/* Prints "SPLIT accuracy 98.91%  (error 1.09%, loss 0.0345)  on 10000 images". */
void print_accuracy_line(const char *split, double accuracy, double loss, int images);

#endif

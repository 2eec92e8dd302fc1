/* `soma info` and `soma zoo`: what a model or checkpoint holds, and the built-in models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "core/sysmem.h"

static const char info_help[] =
    "usage: soma info MODEL|CHECKPOINT [--batch N]\n"
    "\n"
    "Prints the comment a model file opens with (for the zoo: what the model is and\n"
    "how its parameters add up), the layers with their output shapes, parameters and\n"
    "FLOPs, and the memory that soma train would need for it (its default optimizer\n"
    "and threads, batch N) beside what is available. MODEL is a zoo name (see soma zoo)\n"
    "or a model file; for a checkpoint written by soma train, its metadata follows\n"
    "(epoch, optimizer, the command, ...). Without an argument, lists the zoo.\n"
    "\n"
    "  --batch N     the batch of the memory estimate (default 32)\n"
    "  -h, --help    show this help\n"
    "\n"
    "examples:\n"
    "  soma info lenet5\n"
    "  soma info runs/lenet5-20250101-120000/last.safetensors\n";

static const char zoo_help[] =
    "usage: soma zoo\n"
    "\n"
    "Lists the built-in models with their parameters and input shapes.\n"
    "\n"
    "  -h, --help    show this help\n";

/* Checkpoint metadata worth showing, in this order. */
static const char *const shown_metadata[] = {
    "format",       "model_source", "epoch", "step", "global_step", "best_epoch",
    "best_val_accuracy", "best_val_loss", "optimizer", "optimizer.lr", "optimizer.weight_decay",
    "batch",        "epochs", "seed", "threads", "norm_mean", "norm_std", "seconds", "command",
    "soma.crc32",   "soma.checksum"};
#define NSHOWN ((int)(sizeof shown_metadata / sizeof shown_metadata[0]))

/* A safetensors file: 8-byte little-endian header size, then a JSON object.
 * A damaged one is still recognised by its name, so that its error comes
 * from the checkpoint reader rather than the model-file parser. */
static int looks_like_checkpoint(const char *path)
{
    static const char suffix[] = ".safetensors";
    size_t n = strlen(path), k = sizeof suffix - 1;
    if (n > k && strcmp(path + n - k, suffix) == 0)
        return 1;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char head[9];
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    return got == sizeof head && head[8] == '{';
}

/* The comment block a model's text opens with (the zoo's files say there
 * what the model is, where it comes from and how its parameters add up). */
static void print_description(const soma_model *model)
{
    const char *line = soma_model_text(model);
    while (line && *line == '#') {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n && line[n - 1] == '\r')
            n--;
        printf("%.*s\n", (int)n, line);
        line = end ? end + 1 : NULL;
    }
}

static void print_model(const soma_model *model)
{
    char *table = soma_model_summary(model);
    if (table) {
        fputs(table, stdout);
        if (*table && table[strlen(table) - 1] != '\n')
            putchar('\n');
        free(table);
    }
}

/* What soma train needs for the model with its defaults and `batch`: a
 * total beside what is available, then the parts. */
static void print_memory(const soma_model *model, int batch)
{
    soma_train_config cfg = soma_train_defaults();
    cfg.batch = batch;
    cfg.out_dir = "."; /* soma train always writes checkpoints */
    soma_memory_estimate e;
    if (soma_train_memory_estimate(model, &cfg, &e) != SOMA_OK)
        return;
    const char *opt = soma_optimizer_name(cfg.opt.kind);
    char total[32], available[32], t[7][32];
    int threads = soma_threads();
    printf("memory     soma train --batch %d (%s, %d thread%s) needs about %s; ", batch, opt,
           threads, threads == 1 ? "" : "s", memory_text(e.total, total, sizeof total));
    if (e.limit)
        printf("%s is available (%s)%s\n", memory_text(e.available, available, sizeof available),
               e.limit, e.total > e.available ? ": it would be refused" : "");
    else
        printf("no limit is known\n");
    printf("           parameters %s, gradients %s, %s state %s, activations %s, workspace %s, "
           "best weights %s, checkpoint copy %s\n",
           memory_text(e.parameters, t[0], sizeof t[0]), memory_text(e.gradients, t[1], sizeof t[1]),
           opt, memory_text(e.optimizer, t[2], sizeof t[2]),
           memory_text(e.activations, t[3], sizeof t[3]),
           memory_text(e.workspace, t[4], sizeof t[4]), memory_text(e.best, t[5], sizeof t[5]),
           memory_text(e.checkpoint, t[6], sizeof t[6]));
}

/* One read of the file for all the keys (a checkpoint can be hundreds of MB). */
static void print_metadata(const char *path)
{
    char *values[NSHOWN];
    printf("checkpoint %s\n", path);
    soma_checkpoint_metadata_get(path, shown_metadata, NSHOWN, values);
    for (int i = 0; i < NSHOWN; i++) {
        if (values[i])
            printf("  %-24s %s\n", shown_metadata[i], values[i]);
        free(values[i]);
    }
}

static int list_zoo(void)
{
    printf("%-16s %12s  %-10s %s\n", "model", "parameters", "input", "classes");
    for (const char *const *name = soma_zoo_names(); name && *name; name++) {
        soma_model *model = NULL;
        if (soma_model_open(*name, &model) != SOMA_OK) {
            printf("%-16s (cannot build: %s)\n", *name, soma_last_error());
            continue;
        }
        int c, h, w;
        char count[32], shape[48];
        soma_model_input_shape(model, &c, &h, &w);
        snprintf(shape, sizeof shape, "%dx%dx%d", c, h, w);
        printf("%-16s %12s  %-10s %d\n", *name,
               format_count((long long)soma_model_param_count(model), count, sizeof count), shape,
               soma_model_classes(model));
        soma_model_free(model);
    }
    return EXIT_OK;
}

int cmd_zoo(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("zoo", argc, argv, NULL, 0, positional, 0, &npositional);
    int outcome = args_outcome(r, zoo_help);
    if (outcome >= 0)
        return outcome;
    return list_zoo();
}

int cmd_info(int argc, char **argv, const command_line *full)
{
    (void)full;
    int batch = soma_train_defaults().batch;
    cli_option options[] = {
        {"batch", OPT_INT, &batch, 1, SOMA_MAX_BATCH, 0, 0, "a whole number from 1 to 65536", 0},
    };
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("info", argc, argv, options, ARGS_COUNT(options), positional, 1,
                                &npositional);
    int outcome = args_outcome(r, info_help);
    if (outcome >= 0)
        return outcome;
    if (npositional == 0)
        return list_zoo();

    const char *what = positional[0];
    int checkpoint = looks_like_checkpoint(what);
    soma_model *model = NULL;
    soma_status st = checkpoint ? soma_checkpoint_load_model(what, &model)
                                : soma_model_open(what, &model);
    if (st != SOMA_OK)
        return report_error(st);
    print_description(model);
    print_model(model);
    print_memory(model, batch);
    if (checkpoint)
        print_metadata(what);
    soma_model_free(model);
    return EXIT_OK;
}

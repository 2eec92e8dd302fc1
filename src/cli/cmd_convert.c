/* `soma convert`: writes a dataset soma reads out as an image folder of PNG files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/out_dir.h"
#include "cli/png_write.h"
#include "core/error.h"

static const char convert_help[] =
    "usage: soma convert --data NAME|DIR --to-folder DIR [options]\n"
    "\n"
    "Writes a dataset soma reads (mnist, fashion-mnist, cifar-10, cifar-100, or a\n"
    "directory of IDX or CIFAR files) as an image folder: DIR/train/CLASS/N.png and\n"
    "DIR/test/CLASS/N.png, gray or RGB PNG files, that `soma train --data DIR` reads\n"
    "back. CLASS is the class name when the dataset has names that sort in label\n"
    "order, else the label zero-padded (and '_NAME' when it has one), so that the\n"
    "folders sort in label order. Every class gets its folder, even one that\n"
    "--limit leaves empty, so that labels keep their numbers.\n"
    "\n"
    "  --data NAME|DIR   the dataset to convert\n"
    "  --to-folder DIR   where to write (made if missing; existing files are replaced)\n"
    "  --limit N         the first N images of each split (default: all)\n"
    "  --split WHICH     train, test or both (default both; a missing test split is skipped)\n"
    "  -h, --help        show this help\n"
    "\n"
    "example:\n"
    "  soma convert --data fashion-mnist --to-folder /tmp/fm --limit 500\n";

/* A name usable as a folder name. */
static int folder_safe(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
           name[0] != '.';
}

/* 1 when the class names can be the folder names: all usable and in strictly
 * increasing bytewise order, so that the folder, its classes sorted, numbers
 * them as the dataset does. */
static int names_keep_order(const soma_dataset *ds)
{
    for (int k = 0; k < soma_dataset_classes(ds); k++) {
        const char *name = soma_dataset_class_name(ds, k);
        if (!folder_safe(name) || (k > 0 && strcmp(soma_dataset_class_name(ds, k - 1), name) >= 0))
            return 0;
    }
    return 1;
}

/* The folder name of class k: its name when names keep the order, else the
 * label zero-padded to the width of the largest (then "_name" if it has one). */
static void class_folder(const soma_dataset *ds, int k, int by_name, char *buf, size_t cap)
{
    const char *name = soma_dataset_class_name(ds, k);
    if (by_name) {
        snprintf(buf, cap, "%s", name);
        return;
    }
    int width = snprintf(NULL, 0, "%d", soma_dataset_classes(ds) - 1);
    if (folder_safe(name))
        snprintf(buf, cap, "%0*d_%s", width, k, name);
    else
        snprintf(buf, cap, "%0*d", width, k);
}

/* One sample (CHW bytes) as a PNG file (HWC). */
static soma_status write_png(const char *path, const uint8_t *chw, int c, int h, int w,
                             uint8_t *hwc)
{
    size_t plane = (size_t)h * (size_t)w;
    for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < c; k++)
            hwc[i * (size_t)c + k] = chw[(size_t)k * plane + i];
    return png_write(path, hwc, w, h, c);
}

static soma_status convert_split(const soma_dataset *ds, const char *root, const char *split,
                                 int limit, int *written)
{
    int c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    if (c != 1 && c != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "%s: %d channels; PNG files hold 1 or 3",
                          soma_dataset_source(ds), c);
    size_t sample = (size_t)c * h * w, cap = strlen(root) + strlen(split) + 4096;
    uint8_t *chw = malloc(sample), *hwc = malloc(sample);
    char *path = malloc(cap), name[1024];
    soma_status st = chw && hwc && path ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
    int by_name = names_keep_order(ds);
    for (int k = 0; k < soma_dataset_classes(ds) && st == SOMA_OK; k++) {
        class_folder(ds, k, by_name, name, sizeof name);
        snprintf(path, cap, "%s/%s/%s", root, split, name);
        st = make_dirs(path);
    }
    int n = soma_dataset_count(ds);
    if (limit > 0 && limit < n)
        n = limit;
    for (int i = 0; i < n && st == SOMA_OK; i++) {
        int label = 0;
        st = soma_dataset_label(ds, i, &label);
        if (st == SOMA_OK)
            st = soma_dataset_image(ds, i, chw);
        if (st != SOMA_OK)
            break;
        class_folder(ds, label, by_name, name, sizeof name);
        snprintf(path, cap, "%s/%s/%s/%06d.png", root, split, name, i);
        st = write_png(path, chw, c, h, w, hwc);
    }
    *written = st == SOMA_OK ? n : 0;
    free(chw);
    free(hwc);
    free(path);
    return st;
}

int cmd_convert(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *data = NULL, *to = NULL, *which = "both";
    int limit = 0;
    cli_option options[] = {
        {"data", OPT_STRING, &data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"to-folder", OPT_STRING, &to, 0, 0, 0, 0, "a directory", 0},
        {"limit", OPT_INT, &limit, 1, 2147483647, 0, 0, "a whole number >= 1", 0},
        {"split", OPT_STRING, &which, 0, 0, 0, 0, "train, test or both", 0},
    };
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("convert", argc, argv, options, ARGS_COUNT(options), positional,
                                1, &npositional);
    int outcome = args_outcome(r, convert_help);
    if (outcome >= 0)
        return outcome;
    if (npositional > 0 || !data || !to) {
        fprintf(stderr, "usage: soma convert --data NAME|DIR --to-folder DIR [--limit N]  "
                        "(see soma convert --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(which, "both") && strcmp(which, "train") && strcmp(which, "test"))
        return usage_error("convert", "--split '%s': expected train, test or both", which);
    if (!(data = data_choice("convert", data)))
        return EXIT_USAGE;
    static const char *const splits[] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        if (strcmp(which, "both") && strcmp(which, splits[s]))
            continue;
        soma_dataset *ds = NULL;
        soma_status st = soma_dataset_find(data, splits[s], &ds);
        if (st == SOMA_ERR_IO && s == 1 && strcmp(which, "both") == 0) {
            printf("note: no test split (%s); skipped\n", soma_last_error());
            continue;
        }
        int written = 0;
        if (st == SOMA_OK)
            st = convert_split(ds, to, splits[s], limit, &written);
        if (st == SOMA_OK)
            printf("%s: %d images from %s into %s/%s/\n", splits[s], written,
                   soma_dataset_source(ds), to, splits[s]);
        soma_dataset_free(ds);
        if (st != SOMA_OK)
            return report_error(st);
    }
    return EXIT_OK;
}

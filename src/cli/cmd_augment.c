/* `soma augment`: a PNG grid of samples and their augmented copies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/png_write.h"
#include "core/error.h"

static const char augment_help[] =
    "usage: soma augment --augment SPEC --preview FILE.png [options]\n"
    "\n"
    "Writes a PNG grid: one row per sample, the original in the first column, then\n"
    "the augmented copies training with SPEC and --seed sees in epochs 1, 2, ...\n"
    "(pixels before normalisation). docs/augment.md describes SPEC.\n"
    "\n"
    "  --augment SPEC    the transforms, e.g. \"shift=2,rotate=10,elastic=34:4,p=0.8\"\n"
    "  --preview FILE    the PNG to write\n"
    "  --data NAME|DIR   mnist, fashion-mnist, a directory of IDX files, or an image\n"
    "                    folder with --model (default mnist)\n"
    "  --model MODEL     fit an image folder's images to MODEL's input (a zoo name or\n"
    "                    a .cfg file): what training it would see, resized-crop too\n"
    "  --samples N       rows: the first N images of the training split, 1..64 (default 8)\n"
    "  --copies N        augmented copies per row, 1..64 (default 7)\n"
    "  --seed N          the run's seed (default 1)\n"
    "  -h, --help        show this help\n"
    "\n"
    "example:\n"
    "  soma augment --data mnist --augment \"shift=2,rotate=10,elastic=34:4,p=0.8\" "
    "--preview grid.png\n"
    "  soma augment --data DIR --model alexnet --augment resized-crop,flip --preview grid.png\n";

#define GAP 2 /* pixels between cells */

/* Cell (row, col) of the grid from floats in [0, 1] (c x h x w). */
static void put_cell(uint8_t *grid, int grid_w, int row, int col, const float *x, int c, int h,
                     int w)
{
    int y0 = GAP + row * (h + GAP), x0 = GAP + col * (w + GAP);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
            for (int ch = 0; ch < c; ch++) {
                float v = x[((size_t)ch * h + i) * w + j];
                v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                grid[((size_t)(y0 + i) * grid_w + x0 + j) * c + ch] = (uint8_t)lroundf(v * 255.0f);
            }
}

static soma_status write_grid(const soma_dataset *ds, const char *spec, uint64_t seed,
                              int samples, int copies, const char *path)
{
    int c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    int grid_w = (copies + 1) * (w + GAP) + GAP, grid_h = samples * (h + GAP) + GAP;
    size_t sample = (size_t)c * h * w;
    uint8_t *grid = malloc((size_t)grid_w * grid_h * c);
    float *x = malloc(sizeof(float) * sample);
    soma_status st = grid && x ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (grid)
        memset(grid, 128, (size_t)grid_w * grid_h * c);
    for (int r = 0; r < samples && st == SOMA_OK; r++) {
        st = soma_dataset_get(ds, r, 1, 0.0f, 1.0f, x);
        if (st == SOMA_OK)
            put_cell(grid, grid_w, r, 0, x, c, h, w);
        for (int k = 0; k < copies && st == SOMA_OK; k++) {
            st = soma_augment_get(ds, spec, seed, k, r, 1, x);
            if (st == SOMA_OK)
                put_cell(grid, grid_w, r, k + 1, x, c, h, w);
        }
    }
    if (st == SOMA_OK)
        st = png_write(path, grid, grid_w, grid_h, c);
    free(grid);
    free(x);
    return st;
}

int cmd_augment(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *data = "mnist", *spec = NULL, *preview = NULL, *model_name = NULL;
    int samples = 8, copies = 7;
    uint64_t seed = 1;
    cli_option options[] = {
        {"augment", OPT_STRING, &spec, 0, 0, 0, 0, "an augmentation spec", 0},
        {"preview", OPT_STRING, &preview, 0, 0, 0, 0, "a PNG file to write", 0},
        {"data", OPT_STRING, &data, 0, 0, 0, 0, "a dataset name or directory", 0},
        {"samples", OPT_INT, &samples, 1, 64, 0, 0, "a whole number from 1 to 64", 0},
        {"copies", OPT_INT, &copies, 1, 64, 0, 0, "a whole number from 1 to 64", 0},
        {"seed", OPT_U64, &seed, 0, 0, 0, 0, "a whole number >= 0", 0},
        {"model", OPT_STRING, &model_name, 0, 0, 0, 0, "a model name or file", 0},
    };
    const char *positional[1];
    int npositional;
    parse_result r = args_parse("augment", argc, argv, options, ARGS_COUNT(options), positional,
                                0, &npositional);
    int outcome = args_outcome(r, augment_help);
    if (outcome >= 0)
        return outcome;
    if (!spec || !preview)
        return usage_error("augment", "%s is required (usage: soma augment --augment SPEC "
                                      "--preview FILE.png)",
                           spec ? "--preview" : "--augment");
    if (soma_augment_parse(spec, NULL) != SOMA_OK)
        return usage_error("augment", "--augment: %s", soma_last_error());
    data = data_choice("augment", data);
    if (!data)
        return EXIT_USAGE;
    soma_dataset *ds = NULL;
    soma_model *model = NULL; /* with --model: its input shape fits an image folder */
    soma_status st = model_name ? soma_model_open(model_name, &model) : SOMA_OK;
    if (st == SOMA_OK)
        st = model ? find_data_for_model(data, "train", model, 0, spec, &ds)
                   : soma_dataset_find(data, "train", &ds);
    soma_model_free(model);
    if (st == SOMA_OK && samples > soma_dataset_count(ds))
        samples = soma_dataset_count(ds);
    if (st == SOMA_OK)
        st = write_grid(ds, spec, seed, samples, copies, preview);
    soma_dataset_free(ds);
    if (st != SOMA_OK)
        return report_error(st);
    printf("wrote %s: %d samples, each with %d augmented copies\n", preview, samples, copies);
    return EXIT_OK;
}

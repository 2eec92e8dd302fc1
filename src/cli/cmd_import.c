/* `soma import`: a PyTorch state_dict in safetensors made into a soma checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/name_map.h"
#include "core/error.h"

#define MAX_CHANNELS 4096

static const char import_help[] =
    "usage: soma import WEIGHTS.safetensors --model MODEL --out CKPT\n"
    "                   (--input-scale S | --mean M[,M...] --std S[,S...]) [--map MAP]\n"
    "\n"
    "Makes a soma checkpoint of weights trained elsewhere: a PyTorch state_dict saved\n"
    "with safetensors (safetensors.torch.save_file(model.state_dict(), ...)) of the\n"
    "nn.Sequential that MODEL describes. Tensors are matched by name ('0.weight',\n"
    "'4.running_var'); a module prefix all names share ('module.', 'features.') is\n"
    "stripped; F32, F16, BF16 and F64 are read. Every missing, unexpected or misshapen\n"
    "tensor is named in one message, and no checkpoint is written then. The checkpoint\n"
    "works with soma eval, predict, info, export and train --init-from.\n"
    "\n"
    "How the network's inputs were made from pixels 0..255 (required; soma stores it\n"
    "and applies it to every input):\n"
    "  --input-scale S  inputs were pixels x S, e.g. 1/255 (transforms.ToTensor())\n"
    "                   or 1 (raw pixel values)\n"
    "  --mean M --std S inputs were (x/255 - M) / S (ToTensor + Normalize(M, S)); one\n"
    "                   value, or one per input channel separated by commas\n"
    "\n"
    "  --model MODEL    a zoo name or a model file (see soma zoo)\n"
    "  --out CKPT       the checkpoint to write (replaced atomically)\n"
    "  --map MAP        renamings FROM=TO, comma-separated, or a file of one per line:\n"
    "                   FROM is a tensor name or a module path ('classifier.1=9' reads\n"
    "                   'classifier.1.weight' as '9.weight'; 'features=' strips it)\n"
    "  -h, --help       show this help\n"
    "\n"
    "examples:\n"
    "  soma import lenet5.safetensors --model lenet5 --out lenet5.safetensors \\\n"
    "      --mean 0.1307 --std 0.3081\n"
    "  soma import vgg.safetensors --model vgg-small --out vgg-soma.safetensors \\\n"
    "      --input-scale 1/255 --map classifier.1=15,classifier.4=18\n";

/* "1/255", "0.00392156", "1": a positive finite scale. */
static int parse_scale(const char *text, double *out)
{
    const char *slash = strchr(text, '/');
    char num[64];
    if (strlen(text) >= sizeof num)
        return 0;
    snprintf(num, sizeof num, "%.*s", slash ? (int)(slash - text) : (int)strlen(text), text);
    if (!args_is_decimal(num) || (slash && !args_is_decimal(slash + 1)))
        return 0;
    double value = strtod(num, NULL);
    if (slash)
        value /= strtod(slash + 1, NULL);
    *out = value;
    return isfinite(value) && value > 0;
}

/* "0.485,0.456,0.406" into values[0..*n). */
static int parse_list(const char *text, double *values, int max, int *n)
{
    *n = 0;
    const char *at = text;
    while (*n < max) {
        const char *comma = strchr(at, ',');
        size_t len = comma ? (size_t)(comma - at) : strlen(at);
        char num[64];
        if (len == 0 || len >= sizeof num)
            return 0;
        memcpy(num, at, len);
        num[len] = '\0';
        if (!args_is_decimal(num))
            return 0;
        values[(*n)++] = strtod(num, NULL);
        if (!comma)
            return 1;
        at = comma + 1;
    }
    return 0;
}

typedef struct import_args {
    const char *weights, *model, *out, *scale, *mean, *std, *map;
} import_args;

/* The per-channel normalisation the options describe; an exit status on error, else -1. */
static int normalization_from_options(const import_args *a, int channels, float *mean,
                                      float *std)
{
    if (a->scale && (a->mean || a->std))
        return usage_error("import", "give --input-scale or --mean and --std, not both");
    if (a->scale) {
        double scale;
        if (!parse_scale(a->scale, &scale))
            return usage_error("import", "--input-scale '%s': expected a positive number or "
                                         "a fraction such as 1/255", a->scale);
        for (int c = 0; c < channels; c++) { /* x * S = (x/255 - 0) / (1 / (255 S)) */
            mean[c] = 0.0f;
            std[c] = (float)(1.0 / (255.0 * scale));
        }
        return -1;
    }
    if (!a->mean || !a->std)
        return usage_error("import",
                           "say how the inputs were scaled: --input-scale 1/255 (ToTensor) or "
                           "--mean M --std S (ToTensor + Normalize)");
    static double means[MAX_CHANNELS], stds[MAX_CHANNELS];
    int nm, ns;
    if (!parse_list(a->mean, means, MAX_CHANNELS, &nm) ||
        !parse_list(a->std, stds, MAX_CHANNELS, &ns))
        return usage_error("import", "--mean and --std take numbers separated by commas");
    if ((nm != 1 && nm != channels) || (ns != 1 && ns != channels))
        return usage_error("import",
                           "--mean has %d value%s and --std %d: the model has %d input "
                           "channel%s (give one value or one per channel)",
                           nm, nm == 1 ? "" : "s", ns, channels, channels == 1 ? "" : "s");
    for (int c = 0; c < channels; c++) {
        mean[c] = (float)means[nm == 1 ? 0 : c];
        std[c] = (float)stds[ns == 1 ? 0 : c];
    }
    return -1;
}

static int run_import(const import_args *a)
{
    soma_model *model = NULL;
    name_map map = {0};
    float *mean = NULL, *std = NULL;
    soma_status st = soma_model_open(a->model, &model);
    int rc = -1, c = 0;
    if (st == SOMA_OK) {
        soma_model_input_shape(model, &c, NULL, NULL);
        mean = malloc(sizeof *mean * (size_t)c);
        std = malloc(sizeof *std * (size_t)c);
        if (!mean || !std)
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    if (st == SOMA_OK)
        rc = normalization_from_options(a, c, mean, std);
    if (st == SOMA_OK && rc < 0 && a->map)
        st = name_map_load(a->map, &map);
    if (st == SOMA_OK && rc < 0)
        st = soma_model_set_normalization_channels(model, c, mean, std);
    if (st == SOMA_OK && rc < 0)
        st = soma_model_import_safetensors(model, a->weights, map.pairs, map.count);
    if (st == SOMA_OK && rc < 0)
        st = soma_checkpoint_save_model(a->out, model);
    if (st == SOMA_OK && rc < 0) {
        printf("imported %zu parameters of %s from %s\nwrote    %s\n",
               soma_model_param_count(model), a->model, a->weights, a->out);
        rc = EXIT_OK;
    }
    if (st != SOMA_OK)
        rc = report_error(st);
    name_map_free(&map);
    free(mean);
    free(std);
    soma_model_free(model);
    return rc;
}

int cmd_import(int argc, char **argv, const command_line *full)
{
    (void)full;
    import_args a = {0};
    cli_option options[] = {
        {"model", OPT_STRING, &a.model, 0, 0, 0, 0, "a zoo name or model file", 0},
        {"out", OPT_STRING, &a.out, 0, 0, 0, 0, "a checkpoint path", 0},
        {"input-scale", OPT_STRING, &a.scale, 0, 0, 0, 0, "a scale such as 1/255", 0},
        {"mean", OPT_STRING, &a.mean, 0, 0, 0, 0, "numbers separated by commas", 0},
        {"std", OPT_STRING, &a.std, 0, 0, 0, 0, "numbers separated by commas", 0},
        {"map", OPT_STRING, &a.map, 0, 0, 0, 0, "FROM=TO,... or a file", 0},
    };
    const char *positional[2];
    int npositional;
    parse_result r = args_parse("import", argc, argv, options, ARGS_COUNT(options), positional,
                                2, &npositional);
    int outcome = args_outcome(r, import_help);
    if (outcome >= 0)
        return outcome;
    if (npositional != 1 || !a.model || !a.out) {
        fprintf(stderr, "usage: soma import WEIGHTS.safetensors --model MODEL --out CKPT "
                        "(--input-scale S | --mean M --std S)  (see soma import --help)\n");
        return EXIT_USAGE;
    }
    a.weights = positional[0];
    return run_import(&a);
}

/* Every models/NAME.cfg parses; the zoo models have the published structure,
 * checked by walking shapes and counting parameters here, independently of
 * the layer code. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/modelfile.h"
#include "support/check.h"

static int get(const layer_spec *l, const char *key, int def)
{
    for (int i = 0; i < l->nvalues; i++)
        if (strcmp(l->values[i].key, key) == 0)
            return atoi(l->values[i].value);
    return def;
}

/* Parameters of a Sequential per docs/model-format.md (defaults included);
 * sets the flat output size. */
static long count_params(const model_spec *s, long *outputs)
{
    long c = s->input.c, h = s->input.h, w = s->input.w, params = 0;
    for (int i = 0; i < s->nlayers; i++) {
        const layer_spec *l = &s->layers[i];
        if (strcmp(l->kind, "conv2d") == 0) {
            long f = get(l, "filters", 0), k = get(l, "size", 0);
            long st = get(l, "stride", 1), pad = get(l, "pad", 0);
            params += f * c * k * k + f;
            h = (h + 2 * pad - k) / st + 1;
            w = (w + 2 * pad - k) / st + 1;
            c = f;
        } else if (strcmp(l->kind, "maxpool") == 0 || strcmp(l->kind, "avgpool") == 0) {
            long k = get(l, "size", 0), st = get(l, "stride", (int)k), pad = get(l, "pad", 0);
            h = (h + 2 * pad - k) / st + 1;
            w = (w + 2 * pad - k) / st + 1;
        } else if (strcmp(l->kind, "linear") == 0) {
            long units = get(l, "units", 0);
            params += c * h * w * units + units;
            c = units;
            h = w = 1;
        } else if (strcmp(l->kind, "flatten") == 0) {
            c = c * h * w;
            h = w = 1;
        } else if (strcmp(l->kind, "batchnorm") == 0) {
            params += 2 * c; /* gamma and beta */
        }
    }
    *outputs = c * h * w;
    return params;
}

static void check_kinds(const model_spec *s, const char *const *kinds, int n, const char *name)
{
    CHECK_MSG(s->nlayers == n, "%s: %d layers, want %d", name, s->nlayers, n);
    for (int i = 0; i < n && i < s->nlayers; i++)
        CHECK_MSG(strcmp(s->layers[i].kind, kinds[i]) == 0, "%s: layer %d is %s, want %s", name,
                  i, s->layers[i].kind, kinds[i]);
}

static void check_zoo_model(const char *name, const model_spec *s)
{
    long outputs = 0, params = count_params(s, &outputs);
    if (strncmp(name, "lenet5", 6) == 0 || strcmp(name, "mlp") == 0)
        CHECK_MSG(s->input.c == 1 && s->input.h == 28 && s->input.w == 28, "%s", name);
    if (strcmp(name, "lenet5") == 0) {
        /* tensors are named 0.weight, 3.weight, 7.weight, 9.weight, 11.weight */
        const char *kinds[] = {"conv2d", "relu",   "maxpool", "conv2d", "relu", "maxpool",
                               "flatten", "linear", "relu",   "linear", "relu", "linear"};
        check_kinds(s, kinds, 12, name);
        CHECK_MSG(params == 61706, "lenet5: %ld parameters", params); /* LeCun et al. 1998 */
        CHECK(outputs == 10);
    } else if (strcmp(name, "lenet5-bn") == 0) {
        const char *kinds[] = {"conv2d", "batchnorm", "relu",      "maxpool", "conv2d",
                               "batchnorm", "relu",  "maxpool",   "flatten", "linear",
                               "batchnorm", "relu",  "linear",    "batchnorm", "relu",
                               "linear"};
        check_kinds(s, kinds, 16, name);
        CHECK_MSG(params == 61706 + 2 * (6 + 16 + 120 + 84), "lenet5-bn: %ld parameters", params);
        CHECK(outputs == 10);
    } else if (strcmp(name, "mlp") == 0) {
        const char *kinds[] = {"flatten", "linear", "relu", "dropout", "linear", "relu", "linear"};
        check_kinds(s, kinds, 7, name);
        CHECK_MSG(params == 784L * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10,
                  "mlp: %ld parameters", params);
        CHECK(outputs == 10);
    }
}

int main(void)
{
    const char *dir = source_path("models");
    char dirname[4096];
    snprintf(dirname, sizeof dirname, "%s", dir);
    DIR *d = opendir(dirname);
    CHECK_MSG(d != NULL, "cannot open %s", dirname);
    if (!d)
        return check_finish("zoo_models");
    int files = 0, zoo = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".cfg") != 0)
            continue;
        char path[4600], name[256];
        snprintf(path, sizeof path, "%s/%s", dirname, e->d_name);
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), e->d_name);
        model_spec spec;
        char *text = NULL;
        soma_status st = modelfile_load(path, &spec, &text);
        CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
        files++;
        if (st == SOMA_OK) {
            zoo += !strcmp(name, "lenet5") || !strcmp(name, "lenet5-bn") || !strcmp(name, "mlp");
            check_zoo_model(name, &spec);
        }
        free(text);
        model_spec_free(&spec);
    }
    closedir(d);
    CHECK_MSG(zoo == 3, "found %d of the 3 zoo models among %d files", zoo, files);
    return check_finish("zoo_models");
}

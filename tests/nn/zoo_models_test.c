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
            long f = get(l, "filters", 0), k = get(l, "size", 0), groups = get(l, "groups", 1);
            long st = get(l, "stride", 1), pad = get(l, "pad", 0);
            params += f * (c / groups) * k * k + f; /* a filter sees its group's channels */
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

/* AlexNet's 23 layers; the towers' groups on conv2, conv4 and conv5 */
static void check_alexnet(const char *name, const model_spec *s, int grouped, long params)
{
    const char *kinds[] = {"conv2d",  "relu",    "lrn",    "maxpool", "conv2d",  "relu",
                           "lrn",     "maxpool", "conv2d", "relu",    "conv2d",  "relu",
                           "conv2d",  "relu",    "maxpool", "flatten", "dropout", "linear",
                           "relu",    "dropout", "linear", "relu",    "linear"};
    check_kinds(s, kinds, 23, name);
    CHECK_MSG(s->input.c == 3 && s->input.h == 224 && s->input.w == 224, "%s", name);
    static const int conv_at[] = {0, 4, 8, 10, 12}, groups[] = {1, 2, 1, 2, 2};
    for (int i = 0; i < 5 && s->nlayers == 23; i++)
        CHECK_MSG(get(&s->layers[conv_at[i]], "groups", 1) == (grouped ? groups[i] : 1),
                  "%s: layer %d groups", name, conv_at[i]);
    /* 96x3x11x11, 256x48x5x5, 384x256x3x3, 384x192x3x3, 256x192x3x3 + biases;
     * 9216x4096, 4096x4096, 4096x1000 + biases */
    long want = grouped ? 60965224L : 62378344L;
    CHECK_MSG(params == want, "%s: %ld parameters, want %ld", name, params, want);
}

/* Three stages of conv-bn-relu x2 and a pool; dropout; one linear layer. */
static void check_vgg_small(const char *name, const model_spec *s, long params)
{
    const char *kinds[24];
    for (int stage = 0; stage < 3; stage++) {
        const char *block[] = {"conv2d", "batchnorm", "relu", "conv2d", "batchnorm", "relu",
                               "maxpool"};
        for (int i = 0; i < 7; i++)
            kinds[7 * stage + i] = block[i];
    }
    kinds[21] = "flatten", kinds[22] = "dropout", kinds[23] = "linear";
    check_kinds(s, kinds, 24, name);
    /* 3x3 convolutions 32, 32, 64, 64, 128, 128 with biases, gamma and beta;
     * 128x4x4 -> 10 */
    long convs = 32 * 9 + 32 + 32 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 64 * 64 * 9 + 64 +
                 64 * 128 * 9 + 128 + 128 * 128 * 9 + 128;
    long want = convs + 2 * (32 + 32 + 64 + 64 + 128 + 128) + 2048 * 10 + 10;
    if (s->input.c == 3)
        want += 2 * 32 * 9; /* two more input channels */
    CHECK_MSG(params == want, "%s: %ld parameters, want %ld", name, params, want);
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
    } else if (strcmp(name, "alexnet") == 0 || strcmp(name, "alexnet-1tower") == 0) {
        check_alexnet(name, s, strcmp(name, "alexnet") == 0, params);
        CHECK(outputs == 1000);
    } else if (strcmp(name, "vgg-small") == 0) {
        CHECK_MSG(s->input.c == 1 && s->input.h == 28 && s->input.w == 28, "%s", name);
        check_vgg_small(name, s, params);
        CHECK(outputs == 10);
    } else if (strcmp(name, "vgg-small-32") == 0) {
        CHECK_MSG(s->input.c == 3 && s->input.h == 32 && s->input.w == 32, "%s", name);
        check_vgg_small(name, s, params);
        CHECK(outputs == 10);
    }
}

/* The models whose structure is checked here. */
static const char *const checked[] = {"lenet5",         "lenet5-bn", "mlp",         "alexnet",
                                      "alexnet-1tower", "vgg-small", "vgg-small-32"};
#define NCHECKED ((int)(sizeof checked / sizeof checked[0]))

/* Two models whose entries (comments aside) differ in their input line alone. */
static void check_one_line_apart(const char *a, const char *b)
{
    char path_a[4600], path_b[4600];
    snprintf(path_a, sizeof path_a, "%s/%s.cfg", source_path("models"), a);
    snprintf(path_b, sizeof path_b, "%s/%s.cfg", source_path("models"), b);
    model_spec sa, sb;
    char *ta = NULL, *tb = NULL;
    int ok_a = modelfile_load(path_a, &sa, &ta) == SOMA_OK;
    int ok_b = modelfile_load(path_b, &sb, &tb) == SOMA_OK;
    CHECK_MSG(ok_a && ok_b, "%s", soma_last_error());
    if (ok_a && ok_b) {
        CHECK_MSG(sa.nlayers == sb.nlayers, "%s and %s: layer counts differ", a, b);
        for (int i = 0; i < sa.nlayers && i < sb.nlayers; i++) {
            const layer_spec *la = &sa.layers[i], *lb = &sb.layers[i];
            int same = strcmp(la->kind, lb->kind) == 0 && la->nvalues == lb->nvalues;
            for (int v = 0; same && v < la->nvalues; v++)
                same = strcmp(la->values[v].key, lb->values[v].key) == 0 &&
                       strcmp(la->values[v].value, lb->values[v].value) == 0;
            CHECK_MSG(same, "%s and %s differ at layer %d", a, b, i);
        }
    }
    if (ok_a)
        model_spec_free(&sa);
    if (ok_b)
        model_spec_free(&sb);
    free(ta), free(tb);
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
            for (int i = 0; i < NCHECKED; i++)
                zoo += strcmp(name, checked[i]) == 0;
            check_zoo_model(name, &spec);
        }
        free(text);
        model_spec_free(&spec);
    }
    closedir(d);
    CHECK_MSG(zoo == NCHECKED, "found %d of the %d zoo models among %d files", zoo, NCHECKED,
              files);
    check_one_line_apart("vgg-small", "vgg-small-32");
    return check_finish("zoo_models");
}

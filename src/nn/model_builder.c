/*
 * soma_model_builder: a model built in code, one call per layer.
 *
 * The builder writes the canonical model text (docs/model-format.md) and
 * the finished model goes through the same parser and network build as a
 * model file, so a model built in code is the model that its text would
 * give: the same layers, checks, summary and weights, and checkpoints store
 * its text as they store any other.
 *
 * Each call checks its layer at once (the text so far, parsed and built
 * without memory); finish checks the whole. The first error sticks: later
 * calls and finish return it again, so that a program that checks only
 * finish still learns of it and never gets a model without the layer that
 * failed.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "nn/network.h"

#define BUILDER_MESSAGE_LEN 1024

struct soma_model_builder {
    char *name;   /* the model's source name: summaries, messages, checkpoints */
    strbuf text;  /* the canonical text of the layers added so far */
    int nlayers;
    soma_status failed; /* the first error (sticky), SOMA_OK if none */
    char message[BUILDER_MESSAGE_LEN];
};

/* Turns the parser's "name:line:col: rest" into "name: layer I: rest" (line
 * 1 is the input, line 2 + i layer i); other messages pass unchanged. */
static soma_status restate(soma_status st, const char *name)
{
    const char *msg = soma_last_error();
    size_t n = strlen(name);
    int line, col, used = 0;
    if (strncmp(msg, name, n) != 0 || sscanf(msg + n, ":%d:%d: %n", &line, &col, &used) != 2 ||
        used == 0)
        return st;
    char rest[BUILDER_MESSAGE_LEN];
    snprintf(rest, sizeof rest, "%s", msg + n + used);
    if (line <= 1)
        return soma_error(st, "%s: %s", name, rest);
    return soma_error(st, "%s: layer %d: %s", name, line - 2, rest);
}

/* The builder's first error, raised again for a later call. */
static soma_status fail_again(const soma_model_builder *b)
{
    return soma_error(b->failed, "%s", b->message);
}

static soma_status remember(soma_model_builder *b, soma_status st)
{
    b->failed = st;
    snprintf(b->message, sizeof b->message, "%s", soma_last_error());
    return st;
}

/* Parses `text` and builds it: in full (class scores at the end, the model
 * kept in *out) or as the layers so far (out NULL). */
static soma_status build_text(const char *text, const char *name, soma_model **out)
{
    model_spec spec;
    SOMA_TRY(modelfile_parse(text, name, &spec));
    soma_status st = out ? network_build(&spec, text, name, out)
                         : network_check_layers(&spec, text, name);
    model_spec_free(&spec);
    return st;
}

/* Adds one line of text after checking it with the layers before it. */
static soma_status add_line(soma_model_builder *b, const char *func, const char *line)
{
    if (!b)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: no builder", func);
    if (b->failed != SOMA_OK)
        return fail_again(b);
    strbuf trial;
    strbuf_init(&trial);
    strbuf_append(&trial, b->text.data);
    strbuf_append(&trial, line);
    strbuf_append(&trial, "\n");
    char *text = strbuf_take(&trial);
    if (!text)
        return remember(b, soma_error(SOMA_ERR_MEMORY, "%s: out of memory", b->name));
    soma_status st = build_text(text, b->name, NULL);
    free(text);
    if (st != SOMA_OK)
        return remember(b, restate(st, b->name));
    strbuf_append(&b->text, line);
    strbuf_append(&b->text, "\n");
    if (b->text.failed)
        return remember(b, soma_error(SOMA_ERR_MEMORY, "%s: out of memory", b->name));
    b->nlayers++;
    return SOMA_OK;
}

/* The shortest decimal that reads back as the same float, with '.' as the
 * point in every locale (what the model file's numbers are). NaN and
 * infinities come out as words, which the parser refuses with the key. */
static void format_real(float x, char *buf, size_t size)
{
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)x);
        if (strtof(buf, NULL) == x)
            break;
    }
    const char *point = localeconv()->decimal_point;
    char *p = point && point[0] && point[0] != '.' ? strchr(buf, point[0]) : NULL;
    if (p)
        *p = '.';
}

soma_status soma_model_builder_create(const char *name, int channels, int height, int width,
                                      soma_model_builder **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_builder_create: no output given");
    *out = NULL;
    soma_model_builder *b = calloc(1, sizeof *b);
    if (!b || !(b->name = strdup(name ? name : "model"))) {
        free(b);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    strbuf_init(&b->text);
    strbuf_appendf(&b->text, "input channels=%d height=%d width=%d\n", channels, height, width);
    /* the parser wants a layer after the input: flatten fits every input */
    strbuf trial;
    strbuf_init(&trial);
    strbuf_appendf(&trial, "%sflatten\n", b->text.data ? b->text.data : "");
    char *text = strbuf_take(&trial);
    soma_status st = !text || b->text.failed
                         ? soma_error(SOMA_ERR_MEMORY, "out of memory")
                         : build_text(text, b->name, NULL);
    free(text);
    if (st != SOMA_OK) {
        st = restate(st, b->name);
        soma_model_builder_free(b);
        return st;
    }
    *out = b;
    return SOMA_OK;
}

void soma_model_builder_free(soma_model_builder *b)
{
    if (!b)
        return;
    strbuf_free(&b->text);
    free(b->name);
    free(b);
}

soma_status soma_model_builder_conv2d(soma_model_builder *b, int filters, int size, int stride,
                                      int pad)
{
    char line[128];
    snprintf(line, sizeof line, "conv2d filters=%d size=%d stride=%d pad=%d", filters, size,
             stride, pad);
    return add_line(b, __func__, line);
}

soma_status soma_model_builder_conv2d_grouped(soma_model_builder *b, int filters, int size,
                                              int stride, int pad, int groups)
{
    char line[160];
    snprintf(line, sizeof line, "conv2d filters=%d size=%d stride=%d pad=%d groups=%d", filters,
             size, stride, pad, groups);
    return add_line(b, __func__, line);
}

static soma_status pool(soma_model_builder *b, const char *func, const char *kind, int size,
                        int stride, int pad)
{
    char line[128];
    snprintf(line, sizeof line, "%s size=%d stride=%d pad=%d", kind, size, stride, pad);
    return add_line(b, func, line);
}

soma_status soma_model_builder_maxpool(soma_model_builder *b, int size, int stride, int pad)
{
    return pool(b, __func__, "maxpool", size, stride, pad);
}

soma_status soma_model_builder_avgpool(soma_model_builder *b, int size, int stride, int pad)
{
    return pool(b, __func__, "avgpool", size, stride, pad);
}

soma_status soma_model_builder_batchnorm(soma_model_builder *b)
{
    return add_line(b, __func__, "batchnorm");
}

soma_status soma_model_builder_batchnorm_ex(soma_model_builder *b, float eps, float momentum)
{
    char line[128], e[32], m[32];
    format_real(eps, e, sizeof e);
    format_real(momentum, m, sizeof m);
    snprintf(line, sizeof line, "batchnorm eps=%s momentum=%s", e, m);
    return add_line(b, __func__, line);
}

soma_status soma_model_builder_lrn(soma_model_builder *b, int size, float alpha, float beta,
                                   float k)
{
    char line[192], a[32], be[32], kk[32];
    format_real(alpha, a, sizeof a);
    format_real(beta, be, sizeof be);
    format_real(k, kk, sizeof kk);
    snprintf(line, sizeof line, "lrn size=%d alpha=%s beta=%s k=%s", size, a, be, kk);
    return add_line(b, __func__, line);
}

soma_status soma_model_builder_relu(soma_model_builder *b) { return add_line(b, __func__, "relu"); }

soma_status soma_model_builder_tanh(soma_model_builder *b) { return add_line(b, __func__, "tanh"); }

soma_status soma_model_builder_sigmoid(soma_model_builder *b)
{
    return add_line(b, __func__, "sigmoid");
}

soma_status soma_model_builder_dropout(soma_model_builder *b, float p)
{
    char line[64], v[32];
    format_real(p, v, sizeof v);
    snprintf(line, sizeof line, "dropout p=%s", v);
    return add_line(b, __func__, line);
}

soma_status soma_model_builder_flatten(soma_model_builder *b)
{
    return add_line(b, __func__, "flatten");
}

soma_status soma_model_builder_linear(soma_model_builder *b, int units)
{
    char line[64];
    snprintf(line, sizeof line, "linear units=%d", units);
    return add_line(b, __func__, line);
}

const char *soma_model_builder_text(const soma_model_builder *b)
{
    return b && b->text.data ? b->text.data : "";
}

soma_status soma_model_builder_finish(soma_model_builder *b, soma_model **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_builder_finish: no output given");
    *out = NULL;
    if (!b)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_builder_finish: no builder");
    if (b->failed != SOMA_OK)
        return fail_again(b);
    if (b->nlayers == 0)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: the model has no layers", b->name);
    soma_status st = build_text(b->text.data, b->name, out);
    return st == SOMA_OK ? SOMA_OK : restate(st, b->name);
}

/* The model-file parser: fields of a good file, and one exact, one-line,
 * positioned message for each kind of mistake. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/modelfile.h"
#include "support/check.h"

#define INPUT "input channels=1 height=28 width=28\n"

/* 1-based column of the first byte after `what` in `line` (the column of a value). */
static int col_after(const char *line, const char *what)
{
    const char *p = strstr(line, what);
    return p ? (int)(p - line) + (int)strlen(what) + 1 : -1;
}

static int one_line(const char *msg) { return !strchr(msg, '\n') && !strchr(msg, '\r'); }

/* Parses `text` as "x.cfg" and checks that it fails at line:col with a
 * one-line message containing `words`. */
static void expect_error(const char *text, int line, int col, const char *words, int src_line)
{
    model_spec spec;
    char prefix[64];
    soma_status st = modelfile_parse(text, "x.cfg", &spec);
    const char *msg = soma_last_error();
    snprintf(prefix, sizeof prefix, "x.cfg:%d:%d: ", line, col);
    CHECK_MSG(st == SOMA_ERR_FORMAT, "test line %d: status %d", src_line, (int)st);
    CHECK_MSG(one_line(msg), "test line %d: '%s' is not one line", src_line, msg);
    CHECK_MSG(strncmp(msg, prefix, strlen(prefix)) == 0, "test line %d: '%s' does not start '%s'",
              src_line, msg, prefix);
    CHECK_MSG(strstr(msg, words) != NULL, "test line %d: '%s' lacks '%s'", src_line, msg, words);
    CHECK_MSG(spec.layers == NULL && spec.file == NULL && spec.nlayers == 0,
              "test line %d: spec not cleared after an error", src_line);
    model_spec_free(&spec);
}
#define EXPECT_ERROR(text, line, col, words) expect_error(text, line, col, words, __LINE__)

/* Parses `text` as "x.cfg" and checks the whole message. */
static void expect_message(const char *text, const char *message, int src_line)
{
    model_spec spec;
    soma_status st = modelfile_parse(text, "x.cfg", &spec);
    CHECK_MSG(st != SOMA_OK, "test line %d: parsed", src_line);
    CHECK_MSG(strcmp(soma_last_error(), message) == 0, "test line %d: got '%s', want '%s'",
              src_line, soma_last_error(), message);
    model_spec_free(&spec);
}
#define EXPECT_MESSAGE(text, message) expect_message(text, message, __LINE__)

static const char *value_of(const layer_spec *l, const char *key)
{
    for (int i = 0; i < l->nvalues; i++)
        if (strcmp(l->values[i].key, key) == 0)
            return l->values[i].value;
    return NULL;
}

static void test_good_file(void)
{
    const char *line4 = "\tconv2d filters=8 size=3 pad=1";
    const char *line6 = "   maxpool size=2 stride=2";
    char text[1024];
    snprintf(text, sizeof text,
             "# a comment, with UTF-8: \xc3\xa9\n"
             "\n"
             "input channels=3  height=32\twidth=30   # trailing comment\n"
             "%s\n"
             "relu\n"
             "%s\n"
             "flatten# no space before the comment\n"
             "  \t  \n"
             "dropout p=0.25\n"
             "linear units=10#c\n",
             line4, line6);
    model_spec spec;
    soma_status st = modelfile_parse(text, "good.cfg", &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    if (st != SOMA_OK)
        return;
    CHECK(strcmp(spec.file, "good.cfg") == 0);
    CHECK(spec.input.c == 3 && spec.input.h == 32 && spec.input.w == 30);
    CHECK(spec.nlayers == 6);
    const char *kinds[] = {"conv2d", "relu", "maxpool", "flatten", "dropout", "linear"};
    const int lines[] = {4, 5, 6, 7, 9, 10};
    const int cols[] = {2, 1, 4, 1, 1, 1};
    const int counts[] = {3, 0, 2, 0, 1, 1};
    for (int i = 0; i < 6 && i < spec.nlayers; i++) {
        const layer_spec *l = &spec.layers[i];
        CHECK_MSG(strcmp(l->kind, kinds[i]) == 0, "layer %d is '%s'", i, l->kind);
        CHECK_MSG(l->line == lines[i], "layer %d line %d", i, l->line);
        CHECK_MSG(l->col == cols[i], "layer %d col %d", i, l->col);
        CHECK_MSG(l->nvalues == counts[i], "layer %d has %d values", i, l->nvalues);
        CHECK(l->file && strcmp(l->file, "good.cfg") == 0);
    }
    const layer_spec *conv = &spec.layers[0];
    const char *keys[] = {"filters", "size", "pad"}, *values[] = {"8", "3", "1"};
    const char *find[] = {"filters=", "size=", "pad="};
    for (int i = 0; i < 3 && i < conv->nvalues; i++) {
        CHECK(strcmp(conv->values[i].key, keys[i]) == 0);
        CHECK(strcmp(conv->values[i].value, values[i]) == 0);
        CHECK(conv->values[i].line == 4);
        CHECK_MSG(conv->values[i].col == col_after(line4, find[i]), "value %d at col %d", i,
                  conv->values[i].col);
    }
    const layer_spec *pool = &spec.layers[2];
    CHECK(pool->nvalues == 2 && pool->values[1].col == col_after(line6, "stride="));
    CHECK(value_of(pool, "stride") && strcmp(value_of(pool, "stride"), "2") == 0);
    CHECK(value_of(&spec.layers[4], "p") && strcmp(value_of(&spec.layers[4], "p"), "0.25") == 0);
    CHECK(value_of(&spec.layers[5], "units") && strcmp(value_of(&spec.layers[5], "units"), "10") == 0);
    model_spec_free(&spec);
    CHECK(spec.file == NULL && spec.layers == NULL && spec.nlayers == 0);
    model_spec_free(&spec); /* twice is harmless */
    model_spec_free(NULL);
}

static void test_line_endings(void)
{
    model_spec spec;
    /* CRLF, a byte-order mark, no final newline */
    soma_status st = modelfile_parse("\xEF\xBB\xBFinput channels=1 height=4 width=4\r\n"
                                     "linear units=3\r\n"
                                     "relu",
                                     NULL, &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    if (st == SOMA_OK) {
        CHECK(spec.nlayers == 2);
        CHECK(strcmp(spec.layers[0].values[0].value, "3") == 0);
        CHECK(strcmp(spec.layers[1].kind, "relu") == 0 && spec.layers[1].line == 3);
        CHECK(strcmp(spec.file, "<model>") == 0);
    }
    model_spec_free(&spec);

    /* a name that would break the one-line message is made printable */
    st = modelfile_parse("input channels=1 height=1 width=1\nbogus\n", "a\nb.cfg", &spec);
    CHECK(st != SOMA_OK && one_line(soma_last_error()));
    CHECK(strncmp(soma_last_error(), "a?b.cfg:2:1: ", 13) == 0);
}

static void test_messages(void)
{
    /* a few in full */
    EXPECT_MESSAGE(INPUT "conv2d filers=6 size=5\n",
                   "x.cfg:2:8: unknown key 'filers' for conv2d (did you mean 'filters'?)");
    EXPECT_MESSAGE(INPUT "convv filters=6 size=5\n",
                   "x.cfg:2:1: unknown layer 'convv' (did you mean 'conv2d'?)");
    EXPECT_MESSAGE(INPUT "conv2d filters=6 size=5 filters=8\n",
                   "x.cfg:2:25: duplicate key 'filters' (first given at column 8)");
    EXPECT_MESSAGE("input channels=0 height=28 width=28\nrelu\n",
                   "x.cfg:1:16: input: 'channels' must be between 1 and 65536, got 0");
    EXPECT_MESSAGE("input channels=1 height=28\nrelu\n",
                   "x.cfg:1:1: input: missing required key 'width'");
    EXPECT_MESSAGE(INPUT "linear units=\n", "x.cfg:2:14: missing value for 'units'");
}

static void test_names(void)
{
    EXPECT_ERROR(INPUT "batch\n", 2, 1, "did you mean 'batchnorm'?");      /* prefix */
    EXPECT_ERROR(INPUT "MaxPool size=2\n", 2, 1, "did you mean 'maxpool'?"); /* case */
    EXPECT_ERROR(INPUT "  lineer units=3\n", 2, 3, "did you mean 'linear'?");
    EXPECT_ERROR(INPUT "zzzzzzzz\n", 2, 1, "unknown layer 'zzzzzzzz'");
    EXPECT_ERROR(INPUT "conv2d filters=6 sz=5\n", 2, 18, "did you mean 'size'?");
    EXPECT_ERROR(INPUT "conv2d filters=6 size=5 strdie=2\n", 2, 25, "did you mean 'stride'?");
    EXPECT_ERROR(INPUT "linear bananas=3\n", 2, 8, "unknown key 'bananas' for linear (keys: units)");
    EXPECT_ERROR(INPUT "relu x=1\n", 2, 6, "unknown key 'x' for relu (it takes no keys)");
    EXPECT_ERROR("input chanels=1 height=2 width=2\n", 1, 7, "did you mean 'channels'?");
    EXPECT_ERROR("inptu channels=1 height=2 width=2\n", 1, 1, "did you mean 'input'?");
}

static void test_syntax(void)
{
    EXPECT_ERROR(INPUT "linear units 10\n", 2, 8, "missing '=' in 'units'");
    EXPECT_ERROR(INPUT "linear units = 10\n", 2, 8, "without spaces");
    EXPECT_ERROR(INPUT "linear =10\n", 2, 8, "missing key before '='");
    EXPECT_ERROR(INPUT "linear units=1=0\n", 2, 15, "unexpected '=' in value '1=0'");
    EXPECT_ERROR(INPUT "units=10\n", 2, 1, "expected a layer name");
    EXPECT_ERROR(INPUT "linear units=1\xc3\xa9\n", 2, 15, "bad character (byte 0xc3)");
    EXPECT_ERROR(INPUT "linear\x01 units=1\n", 2, 7, "not a text file");
    EXPECT_ERROR(INPUT "relu # a comment with a bell \x07\n", 2, 30, "control byte 0x07");
    EXPECT_ERROR("\x1f\x8b\x08\x00", 1, 1, "not a text file"); /* gzip magic */

    char key[SPEC_KEY_LEN + 1], text[512];
    memset(key, 'k', SPEC_KEY_LEN);
    key[SPEC_KEY_LEN] = '\0';
    snprintf(text, sizeof text, INPUT "linear %s=1\n", key);
    EXPECT_ERROR(text, 2, 8, "is too long (at most 31 characters)");
    snprintf(text, sizeof text, INPUT "linear units=%0*d\n", SPEC_VALUE_LEN, 7);
    EXPECT_ERROR(text, 2, 14, "value for 'units' is too long (at most 63 characters)");
    snprintf(text, sizeof text, INPUT "%s\n", key);
    EXPECT_ERROR(text, 2, 1, "layer name");
    snprintf(text, sizeof text, INPUT "linear units=%0*d\n", SPEC_VALUE_LEN - 1, 7);
    model_spec spec;
    CHECK_MSG(modelfile_parse(text, "x.cfg", &spec) == SOMA_OK, "%s", soma_last_error());
    model_spec_free(&spec);

    /* 17 keys on a line: the limit is hit before the names are checked */
    strcpy(text, INPUT "conv2d");
    for (int i = 0; i <= SPEC_MAX_VALUES; i++)
        sprintf(text + strlen(text), " k%c=1", 'a' + i); /* at columns 8, 13, ... */
    strcat(text, "\n");
    EXPECT_ERROR(text, 2, 8 + 5 * SPEC_MAX_VALUES, "too many keys");
}

/* Comments may hold any UTF-8, and only UTF-8: the text goes into every
 * checkpoint's metadata, which a stray byte would make unwritable. */
static void test_utf8_in_comments(void)
{
    model_spec spec;
    soma_status st = modelfile_parse("# Gr\xc3\xb6\xc3\x9f" "e, \xe6\x97\xa5\xe6\x9c\xac, "
                                     "\xf0\x9f\x99\x82\r\n" INPUT "relu # \xe2\x82\xac",
                                     "x.cfg", &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    CHECK(st != SOMA_OK || spec.nlayers == 1);
    model_spec_free(&spec);

    EXPECT_MESSAGE(INPUT "relu # Gr\xf6\xdf" "e (Latin-1)\n",
                   "x.cfg:2:10: invalid UTF-8 byte 0xf6 in a comment (a byte that never occurs "
                   "in UTF-8): save the file as UTF-8");
    EXPECT_ERROR("# \xc0\xaf\n" INPUT "relu\n", 1, 3, "byte 0xc0 in a comment (an overlong");
    EXPECT_ERROR("# \xe0\x80\xaf\n" INPUT "relu\n", 1, 3, "byte 0xe0 in a comment (an overlong");
    EXPECT_ERROR(INPUT "relu # \xe2\x82\n", 2, 8, "byte 0xe2 in a comment (a truncated");
    EXPECT_ERROR(INPUT "relu # \xe2\x82", 2, 8, "a truncated sequence"); /* at the end */
    EXPECT_ERROR(INPUT "relu # \xc3x\n", 2, 8, "byte 0xc3 in a comment (a truncated");
    EXPECT_ERROR(INPUT "relu # \x80\n", 2, 8, "0x80 in a comment (a continuation byte");
    EXPECT_ERROR(INPUT "relu # \xed\xa0\x80\n", 2, 8, "0xed in a comment (a UTF-16 surrogate");
    EXPECT_ERROR(INPUT "relu # \xf4\x90\x80\x80\n", 2, 8, "0xf4 in a comment (beyond U+10FFFF");
    /* columns count bytes, past good characters too */
    EXPECT_ERROR(INPUT "relu # \xc3\xa9\xff\n", 2, 10, "invalid UTF-8 byte 0xff");
}

static void test_limits(void)
{
    /* a line of exactly 1024 characters is fine, 1025 is not */
    char *text = malloc(4096);
    strcpy(text, INPUT "relu ");
    size_t start = strlen(INPUT);
    while (strlen(text) - start < 1024)
        strcat(text, "#");
    strcat(text, "\n");
    model_spec spec;
    CHECK_MSG(modelfile_parse(text, "x.cfg", &spec) == SOMA_OK, "%s", soma_last_error());
    model_spec_free(&spec);
    text[strlen(text) - 1] = '#';
    strcat(text, "\n");
    EXPECT_ERROR(text, 2, 1025, "line is longer than 1024 characters");
    free(text);

    /* SPEC_MAX_LAYERS layers are fine, one more is not */
    size_t size = strlen(INPUT) + 5 * (SPEC_MAX_LAYERS + 1) + 1;
    text = malloc(size);
    strcpy(text, INPUT);
    char *p = text + strlen(text);
    for (int i = 0; i < SPEC_MAX_LAYERS; i++, p += 5)
        memcpy(p, "relu\n", 5);
    *p = '\0';
    soma_status st = modelfile_parse(text, "x.cfg", &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    CHECK(spec.nlayers == SPEC_MAX_LAYERS);
    CHECK(st != SOMA_OK || spec.layers[SPEC_MAX_LAYERS - 1].line == SPEC_MAX_LAYERS + 1);
    model_spec_free(&spec);
    strcpy(p, "relu\n");
    EXPECT_ERROR(text, SPEC_MAX_LAYERS + 2, 1, "too many layers (at most 1024)");
    free(text);

    /* more than 1 MiB of text (of comments) */
    size = (1u << 20) + 2;
    text = malloc(size);
    strcpy(text, INPUT "relu\n");
    for (size_t i = strlen(text); i < size - 1; i++)
        text[i] = i % 100 == 99 ? '\n' : '#';
    text[size - 1] = '\0';
    EXPECT_ERROR(text, 1, 1, "too large");
    text[(1u << 20) - 1] = '\n';
    text[1u << 20] = '\0'; /* exactly 1 MiB */
    CHECK_MSG(modelfile_parse(text, "x.cfg", &spec) == SOMA_OK, "%s", soma_last_error());
    model_spec_free(&spec);
    free(text);

    EXPECT_ERROR("input channels=1024 height=1024 width=1024\nrelu\n", 1, 1, "too many");
    EXPECT_ERROR("input channels=1 height=65537 width=1\nrelu\n", 1, 25, "between 1 and 65536");
}

static void test_structure(void)
{
    EXPECT_ERROR("", 1, 1, "no 'input' line");
    EXPECT_ERROR("# only a comment\n\n", 1, 1, "no 'input' line");
    EXPECT_ERROR("conv2d filters=6 size=5\n" INPUT, 1, 1, "expected 'input channels=C");
    EXPECT_ERROR("\n" INPUT "relu\n" INPUT, 4, 1, "second 'input' line (the first is line 2)");
    EXPECT_ERROR("# c\n" INPUT "# no layers\n", 2, 1, "no layers");
}

/* Writes `n` bytes to a file in the working directory and loads it. */
static soma_status load_bytes(const char *path, const char *bytes, size_t n, model_spec *spec,
                              char **text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return SOMA_ERR_IO;
    fwrite(bytes, 1, n, f);
    fclose(f);
    soma_status st = modelfile_load(path, spec, text);
    remove(path);
    return st;
}

static void test_load(void)
{
    const char good[] = INPUT "relu\n";
    const char nul[] = INPUT "re\0lu\n";
    const char *path = "modelfile_test.tmp.cfg";
    model_spec spec;
    char *text;
    soma_status st = load_bytes(path, good, sizeof good - 1, &spec, &text);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    CHECK(text && strcmp(text, good) == 0);
    CHECK(st != SOMA_OK || (spec.nlayers == 1 && strcmp(spec.file, path) == 0));
    free(text);
    model_spec_free(&spec);

    st = load_bytes(path, nul, sizeof nul - 1, &spec, &text);
    CHECK(st == SOMA_ERR_FORMAT && text == NULL && spec.layers == NULL);
    CHECK_MSG(strcmp(soma_last_error(),
                     "modelfile_test.tmp.cfg:2:3: NUL byte: this is not a text file") == 0,
              "%s", soma_last_error());

    st = modelfile_load("no/such/file.cfg", &spec, &text);
    CHECK(st == SOMA_ERR_IO && text == NULL);
    CHECK(strncmp(soma_last_error(), "no/such/file.cfg: cannot open", 29) == 0);
    CHECK(one_line(soma_last_error()));
}

static void test_spec_int(void)
{
    model_spec spec;
    const char *line2 = "conv2d filters=6 size=0 stride=5.0 pad=99999999999";
    char text[256];
    snprintf(text, sizeof text, INPUT "%s\nlinear units=+7 # c\nmaxpool size=0x10 pad=-3\n",
             line2);
    soma_status st = modelfile_parse(text, "x.cfg", &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    if (st != SOMA_OK)
        return;
    const layer_spec *conv = &spec.layers[0], *lin = &spec.layers[1], *pool = &spec.layers[2];
    int v = -1;
    CHECK(spec_int(conv, "filters", 1, 0, 1, 1024, &v) == SOMA_OK && v == 6);
    v = -1;
    CHECK(spec_int(conv, "dilation", 0, 1, 1, 8, &v) == SOMA_OK && v == 1); /* default */

    char want[128];
    v = -1;
    CHECK(spec_int(conv, "size", 1, 0, 1, 1024, &v) == SOMA_ERR_FORMAT && v == -1);
    snprintf(want, sizeof want, "x.cfg:2:%d: conv2d: 'size' must be between 1 and 1024, got 0",
             col_after(line2, "size="));
    CHECK_MSG(strcmp(soma_last_error(), want) == 0, "%s", soma_last_error());

    CHECK(spec_int(conv, "stride", 0, 1, 1, 64, &v) == SOMA_ERR_FORMAT);
    snprintf(want, sizeof want, "x.cfg:2:%d: conv2d: 'stride' must be an integer, got '5.0'",
             col_after(line2, "stride="));
    CHECK_MSG(strcmp(soma_last_error(), want) == 0, "%s", soma_last_error());

    CHECK(spec_int(conv, "pad", 0, 0, 0, 64, &v) == SOMA_ERR_FORMAT); /* beyond int */
    CHECK(strstr(soma_last_error(), "between 0 and 64, got 99999999999") != NULL);

    CHECK(spec_int(lin, "units", 1, 0, 1, 100, &v) == SOMA_OK && v == 7);
    CHECK(spec_int(lin, "units", 1, 0, 8, 100, &v) == SOMA_ERR_FORMAT);
    CHECK(spec_int(pool, "size", 1, 0, 1, 100, &v) == SOMA_ERR_FORMAT);
    CHECK(strstr(soma_last_error(), "must be an integer, got '0x10'") != NULL);
    CHECK(spec_int(pool, "pad", 0, 0, -5, 5, &v) == SOMA_OK && v == -3);
    CHECK(spec_int(pool, "pad", 0, 0, 0, 5, &v) == SOMA_ERR_FORMAT);

    CHECK(spec_int(pool, "stride", 1, 0, 1, 5, &v) == SOMA_ERR_FORMAT);
    CHECK_MSG(strcmp(soma_last_error(), "x.cfg:4:1: maxpool: missing required key 'stride'") == 0,
              "%s", soma_last_error());
    CHECK(spec_error(lin, "%d inputs is too many", 42) == SOMA_ERR_FORMAT);
    CHECK_MSG(strcmp(soma_last_error(), "x.cfg:3:1: linear: 42 inputs is too many") == 0, "%s",
              soma_last_error());
    model_spec_free(&spec);
}

static void test_spec_float(void)
{
    model_spec spec;
    const char *text = INPUT "dropout p=0.25\nbatchnorm eps=1e-5 momentum=1.5\n"
                             "dropout p=nan\ndropout p=inf\ndropout p=1e99\ndropout p=0.5x\n"
                             "dropout p=0x1p-2\ndropout p=0.2.5\ndropout p=3\ndropout p=-.5e-1\n";
    soma_status st = modelfile_parse(text, "x.cfg", &spec);
    CHECK_MSG(st == SOMA_OK, "%s", soma_last_error());
    if (st != SOMA_OK)
        return;
    const layer_spec *l = spec.layers;
    float x = -1;
    CHECK(spec_float(&l[0], "p", 0, 0.5f, 0, 1, &x) == SOMA_OK && x == 0.25f);
    CHECK(spec_float(&l[1], "eps", 0, 0, 0, 1, &x) == SOMA_OK && x == 1e-5f);
    CHECK(spec_float(&l[1], "decay", 0, 0.125f, 0, 1, &x) == SOMA_OK && x == 0.125f);
    CHECK(spec_float(&l[1], "decay", 1, 0, 0, 1, &x) == SOMA_ERR_FORMAT);
    CHECK(spec_float(&l[1], "momentum", 0, 0.1f, 0, 1, &x) == SOMA_ERR_FORMAT);
    CHECK_MSG(strcmp(soma_last_error(),
                     "x.cfg:3:29: batchnorm: 'momentum' must be between 0 and 1, got 1.5") == 0,
              "%s", soma_last_error());
    const char *bad[] = {"nan", "inf", NULL, "0.5x", "0x1p-2", "0.2.5"};
    for (int i = 2; i <= 7; i++) {
        CHECK_MSG(spec_float(&l[i], "p", 0, 0.5f, 0, 1, &x) == SOMA_ERR_FORMAT, "layer %d", i);
        const char *words = bad[i - 2] ? "must be a number" : "must be between 0 and 1, got 1e99";
        CHECK_MSG(strstr(soma_last_error(), words) != NULL, "%s", soma_last_error());
        CHECK(strncmp(soma_last_error(), "x.cfg:", 6) == 0 && one_line(soma_last_error()));
    }
    CHECK(spec_float(&l[8], "p", 0, 0.5f, 0, 10, &x) == SOMA_OK && x == 3.0f);
    CHECK(spec_float(&l[9], "p", 0, 0.5f, -1, 1, &x) == SOMA_OK && x == -0.05f);

    /* a locale with a decimal comma must not change how files read */
    const char *comma[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", NULL};
    for (int i = 0; comma[i]; i++) {
        if (!setlocale(LC_NUMERIC, comma[i]))
            continue;
        x = -1;
        CHECK(spec_float(&l[0], "p", 0, 0.5f, 0, 1, &x) == SOMA_OK && x == 0.25f);
        setlocale(LC_NUMERIC, "C");
        break;
    }
    model_spec_free(&spec);
}

int main(void)
{
    test_good_file();
    test_line_endings();
    test_messages();
    test_names();
    test_syntax();
    test_utf8_in_comments();
    test_limits();
    test_structure();
    test_load();
    test_spec_int();
    test_spec_float();
    return check_finish("modelfile");
}

/*
 * The model-file parser: text -> model_spec (see docs/model-format.md).
 *
 * Syntax is checked here, and every name against the layer registry, so a
 * typo is reported with its line and column before any layer is built; the
 * values themselves are read and range-checked by the layer classes through
 * spec_int / spec_float, which phrase their errors the same way.
 */
#include "nn/modelfile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/edit_distance.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "nn/layer.h"

#define MODELFILE_MAX_BYTES (1u << 20)
#define MODELFILE_MAX_LINE 1024
#define INPUT_MAX_DIM 65536
#define INPUT_MAX_SIZE (1ull << 28)
#define QUOTE_MAX 40 /* longest piece of user text quoted in a message */

static const char *const input_keys[] = {"channels", "height", "width", NULL};

typedef struct parser {
    model_spec *spec;
    int capacity;  /* of spec->layers */
    int input_line; /* 0 until the input line is seen */
} parser;

/* ------------------------------------------------------------ messages */

static soma_status error_at(const char *file, int line, int col, const char *fmt, ...)
    SOMA_PRINTF(4, 5);

static soma_status error_at(const char *file, int line, int col, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return soma_error(SOMA_ERR_FORMAT, "%s:%d:%d: %s", file, line, col, msg);
}

/* Quotes at most QUOTE_MAX bytes of a token (the line check made it printable). */
static const char *quote(const char *s, size_t n, char buf[QUOTE_MAX + 4])
{
    size_t k = n > QUOTE_MAX ? QUOTE_MAX : n;
    memcpy(buf, s, k);
    strcpy(buf + k, n > k ? "..." : "");
    return buf;
}

typedef struct suggestion {
    const char *name;
    int distance;
} suggestion;

/* A candidate is close if it is at most 2 edits away (and the edits are not
 * most of the word), or if the word, 2+ characters long, starts it. */
static void consider(suggestion *best, const char *word, const char *candidate)
{
    size_t lw = strlen(word), lc = strlen(candidate);
    size_t longest = lw > lc ? lw : lc;
    int d = edit_distance(word, candidate);
    int close = d <= 2 && (size_t)(2 * d) <= longest;
    int prefix = lw >= 2 && lw < lc;
    for (size_t i = 0; prefix && i < lw; i++)
        prefix = tolower((unsigned char)word[i]) == candidate[i];
    if ((close || prefix) && (!best->name || d < best->distance)) {
        best->name = candidate;
        best->distance = d;
    }
}

/* Appends ", name" (or "name" first) while it fits. */
static void list_append(char *buf, size_t size, const char *name)
{
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
}

/* --------------------------------------------------------------- lines */

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Why the bytes at s[0..n), which utf8_char_length refused, are not UTF-8. */
static const char *utf8_problem(const unsigned char *s, size_t n)
{
    if (s[0] < 0xC0)
        return "a continuation byte without a lead byte";
    if (s[0] > 0xF4)
        return "a byte that never occurs in UTF-8";
    size_t len = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    for (size_t i = 1; i < len; i++)
        if (i >= n || (s[i] & 0xC0) != 0x80)
            return "a truncated sequence";
    if (s[0] == 0xED)
        return "a UTF-16 surrogate";
    if (s[0] == 0xF4)
        return "beyond U+10FFFF";
    return "an overlong encoding";
}

/* Checks a line's bytes and returns where its code ends (at '#' or n).
 * Control bytes are errors anywhere; non-ASCII bytes only outside comments,
 * and in comments they must be UTF-8: the text is stored in checkpoints,
 * whose metadata is UTF-8, so a stray byte would fail the first checkpoint. */
static soma_status check_bytes(const char *file, const char *s, size_t n, int line,
                               size_t *code_end)
{
    *code_end = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int col = (int)i + 1;
        if (c == 0)
            return error_at(file, line, col, "NUL byte: this is not a text file");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return error_at(file, line, col, "control byte 0x%02x: this is not a text file", c);
        if (c == '#' && *code_end == n)
            *code_end = i;
        if (c >= 0x80 && i < *code_end)
            return error_at(file, line, col,
                            "bad character (byte 0x%02x): only ASCII is allowed outside comments",
                            c);
        if (c >= 0x80) {
            size_t len = utf8_char_length(s + i, n - i);
            if (len == 0)
                return error_at(file, line, col,
                                "invalid UTF-8 byte 0x%02x in a comment (%s): save the file "
                                "as UTF-8",
                                c, utf8_problem((const unsigned char *)s + i, n - i));
            i += len - 1;
        }
    }
    return SOMA_OK;
}

/* Reads one "key=value" token at column `col` into the layer spec. */
static soma_status parse_pair(const char *file, layer_spec *ls, const char *tok, size_t n,
                              int line, int col)
{
    char q[QUOTE_MAX + 4];
    const char *eq = memchr(tok, '=', n);
    if (!eq)
        return error_at(file, line, col, "missing '=' in '%s' (write key=value, without spaces)",
                        quote(tok, n, q));
    size_t klen = (size_t)(eq - tok), vlen = n - klen - 1;
    const char *val = eq + 1;
    int vcol = col + (int)klen + 1;
    if (klen == 0)
        return error_at(file, line, col, "missing key before '=' in '%s'", quote(tok, n, q));
    if (klen >= SPEC_KEY_LEN)
        return error_at(file, line, col, "key '%s' is too long (at most %d characters)",
                        quote(tok, klen, q), SPEC_KEY_LEN - 1);
    if (vlen == 0)
        return error_at(file, line, vcol, "missing value for '%.*s'", (int)klen, tok);
    const char *eq2 = memchr(val, '=', vlen);
    if (eq2)
        return error_at(file, line, vcol + (int)(eq2 - val), "unexpected '=' in value '%s'",
                        quote(val, vlen, q));
    if (vlen >= SPEC_VALUE_LEN)
        return error_at(file, line, vcol, "value for '%.*s' is too long (at most %d characters)",
                        (int)klen, tok, SPEC_VALUE_LEN - 1);
    if (ls->nvalues == SPEC_MAX_VALUES)
        return error_at(file, line, col, "too many keys on one line (at most %d)",
                        SPEC_MAX_VALUES);
    for (int i = 0; i < ls->nvalues; i++) {
        const spec_value *v = &ls->values[i];
        if (strlen(v->key) == klen && memcmp(v->key, tok, klen) == 0)
            return error_at(file, line, col, "duplicate key '%s' (first given at column %d)",
                            v->key, v->col - (int)klen - 1);
    }
    spec_value *v = &ls->values[ls->nvalues++];
    memcpy(v->key, tok, klen);
    v->key[klen] = '\0';
    memcpy(v->value, val, vlen);
    v->value[vlen] = '\0';
    v->line = line;
    v->col = vcol;
    return SOMA_OK;
}

/* Every key must be one the layer kind accepts (keys: NULL-terminated). */
static soma_status check_keys(const layer_spec *ls, const char *const *keys)
{
    for (int i = 0; i < ls->nvalues; i++) {
        const spec_value *v = &ls->values[i];
        int known = 0;
        suggestion best = {NULL, 0};
        char all[256] = "";
        for (const char *const *k = keys; k && *k && !known; k++) {
            known = strcmp(*k, v->key) == 0;
            consider(&best, v->key, *k);
            list_append(all, sizeof all, *k);
        }
        if (known)
            continue;
        int kcol = v->col - (int)strlen(v->key) - 1;
        if (best.name)
            return error_at(ls->file, v->line, kcol, "unknown key '%s' for %s (did you mean '%s'?)",
                            v->key, ls->kind, best.name);
        if (!all[0])
            return error_at(ls->file, v->line, kcol, "unknown key '%s' for %s (it takes no keys)",
                            v->key, ls->kind);
        return error_at(ls->file, v->line, kcol, "unknown key '%s' for %s (keys: %s)", v->key,
                        ls->kind, all);
    }
    return SOMA_OK;
}

static soma_status unknown_kind(const parser *p, const layer_spec *ls)
{
    suggestion best = {NULL, 0};
    char all[256] = "";
    if (!p->input_line)
        consider(&best, ls->kind, "input");
    for (const layer_class *const *c = layer_classes(); c && *c; c++) {
        consider(&best, ls->kind, (*c)->name);
        list_append(all, sizeof all, (*c)->name);
    }
    if (best.name)
        return error_at(ls->file, ls->line, ls->col, "unknown layer '%s' (did you mean '%s'?)",
                        ls->kind, best.name);
    return error_at(ls->file, ls->line, ls->col, "unknown layer '%s' (layers: %s)", ls->kind, all);
}

static soma_status set_input(parser *p, const layer_spec *ls)
{
    int dims[3];
    SOMA_TRY(check_keys(ls, input_keys));
    for (int i = 0; i < 3; i++)
        SOMA_TRY(spec_int(ls, input_keys[i], 1, 0, 1, INPUT_MAX_DIM, &dims[i]));
    unsigned long long size = (unsigned long long)dims[0] * (unsigned)dims[1] * (unsigned)dims[2];
    if (size > INPUT_MAX_SIZE)
        return spec_error(ls, "%d x %d x %d = %llu values per sample is too many (at most %llu)",
                          dims[0], dims[1], dims[2], size, INPUT_MAX_SIZE);
    p->spec->input = (shape3){dims[0], dims[1], dims[2]};
    p->input_line = ls->line;
    return SOMA_OK;
}

static soma_status add_layer(parser *p, const layer_spec *ls)
{
    model_spec *spec = p->spec;
    if (spec->nlayers == p->capacity) {
        int cap = p->capacity ? 2 * p->capacity : 16;
        if (cap > SPEC_MAX_LAYERS)
            cap = SPEC_MAX_LAYERS;
        layer_spec *grown = realloc(spec->layers, (size_t)cap * sizeof *grown);
        if (!grown)
            return soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %d layers", spec->file, cap);
        spec->layers = grown;
        p->capacity = cap;
    }
    spec->layers[spec->nlayers++] = *ls;
    return SOMA_OK;
}

/* One line, without its '\n' (and '\r'): blank, or "kind key=value ...". */
static soma_status parse_line(parser *p, const char *s, size_t n, int line)
{
    const char *file = p->spec->file;
    char q[QUOTE_MAX + 4];
    size_t end, i = 0;
    if (n > MODELFILE_MAX_LINE)
        return error_at(file, line, MODELFILE_MAX_LINE + 1,
                        "line is longer than %d characters", MODELFILE_MAX_LINE);
    SOMA_TRY(check_bytes(file, s, n, line, &end));
    while (i < end && is_blank(s[i]))
        i++;
    if (i == end)
        return SOMA_OK;

    size_t k0 = i;
    while (i < end && !is_blank(s[i]))
        i++;
    size_t klen = i - k0;
    int kcol = (int)k0 + 1;
    if (memchr(s + k0, '=', klen))
        return error_at(file, line, kcol, "expected a layer name before '%s'",
                        quote(s + k0, klen, q));
    if (klen >= SPEC_KEY_LEN)
        return error_at(file, line, kcol, "layer name '%s' is too long (at most %d characters)",
                        quote(s + k0, klen, q), SPEC_KEY_LEN - 1);

    layer_spec ls;
    memset(&ls, 0, sizeof ls);
    memcpy(ls.kind, s + k0, klen);
    ls.file = file;
    ls.line = line;
    ls.col = kcol;

    int is_input = strcmp(ls.kind, "input") == 0;
    const layer_class *cls = NULL;
    if (is_input && p->input_line)
        return error_at(file, line, kcol, "a second 'input' line (the first is line %d)",
                        p->input_line);
    if (!is_input) {
        cls = layer_class_find(ls.kind);
        if (!cls)
            return unknown_kind(p, &ls);
        if (!p->input_line)
            return error_at(file, line, kcol, "expected 'input channels=C height=H width=W' "
                                              "before the first layer");
        if (p->spec->nlayers == SPEC_MAX_LAYERS)
            return error_at(file, line, kcol, "too many layers (at most %d)", SPEC_MAX_LAYERS);
    }

    for (;;) {
        while (i < end && is_blank(s[i]))
            i++;
        if (i == end)
            break;
        size_t t0 = i;
        while (i < end && !is_blank(s[i]))
            i++;
        SOMA_TRY(parse_pair(file, &ls, s + t0, i - t0, line, (int)t0 + 1));
    }
    if (is_input)
        return set_input(p, &ls);
    SOMA_TRY(check_keys(&ls, cls->keys));
    return add_layer(p, &ls);
}

/* A copy of the name that is safe to print on one line. */
static char *printable_name(const char *name)
{
    char *copy = malloc(strlen(name) + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0;; i++) {
        unsigned char c = (unsigned char)name[i];
        copy[i] = (c && (c < 0x20 || c == 0x7f)) ? '?' : (char)c;
        if (!c)
            return copy;
    }
}

static soma_status parse_text(const char *text, size_t len, const char *name, model_spec *out)
{
    parser p = {out, 0, 0};
    memset(out, 0, sizeof *out);
    out->file = printable_name(name ? name : "<model>");
    if (!out->file)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = SOMA_OK;
    if (len > MODELFILE_MAX_BYTES) {
        st = error_at(out->file, 1, 1, "model text is too large (more than %u bytes)",
                      MODELFILE_MAX_BYTES);
        goto fail;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 byte-order mark */
        text += 3;
        len -= 3;
    }
    int line = 1;
    for (size_t start = 0; start < len; line++) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t stop = nl ? (size_t)(nl - text) : len;
        size_t n = stop - start;
        if (n > 0 && text[stop - 1] == '\r') /* CRLF */
            n--;
        st = parse_line(&p, text + start, n, line);
        if (st != SOMA_OK)
            goto fail;
        start = stop + 1;
    }
    if (!p.input_line) {
        st = error_at(out->file, 1, 1,
                      "no 'input' line: a model starts with 'input channels=C height=H width=W'");
        goto fail;
    }
    if (out->nlayers == 0) {
        st = error_at(out->file, p.input_line, 1, "the model has no layers after 'input'");
        goto fail;
    }
    return SOMA_OK;
fail:
    model_spec_free(out);
    return st;
}

soma_status modelfile_parse(const char *text, const char *file, model_spec *out)
{
    /* a bounded length: past the limit the size is an error, not a scan */
    const char *nul = memchr(text, '\0', MODELFILE_MAX_BYTES + 1);
    size_t len = nul ? (size_t)(nul - text) : MODELFILE_MAX_BYTES + 1;
    return parse_text(text, len, file, out);
}

soma_status modelfile_load(const char *path, model_spec *out, char **text)
{
    *text = NULL;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(MODELFILE_MAX_BYTES + 2);
    if (!buf) {
        fclose(f);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, MODELFILE_MAX_BYTES + 1, f);
    int failed = ferror(f);
    int err = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return soma_error(SOMA_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    }
    soma_status st = parse_text(buf, n, path, out);
    if (st != SOMA_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    char *shrunk = realloc(buf, n + 1);
    *text = shrunk ? shrunk : buf;
    return SOMA_OK;
}

void model_spec_free(model_spec *spec)
{
    if (!spec)
        return;
    free(spec->file);
    free(spec->layers);
    memset(spec, 0, sizeof *spec);
}

/* ------------------------------------------------------------- getters */

static const spec_value *find_value(const layer_spec *s, const char *key)
{
    for (int i = 0; i < s->nvalues; i++)
        if (strcmp(s->values[i].key, key) == 0)
            return &s->values[i];
    return NULL;
}

static const char *spec_file(const layer_spec *s) { return s->file ? s->file : "<model>"; }

static soma_status value_error(const layer_spec *s, const spec_value *v, const char *fmt, ...)
    SOMA_PRINTF(3, 4);

static soma_status value_error(const layer_spec *s, const spec_value *v, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return soma_error(SOMA_ERR_FORMAT, "%s:%d:%d: %s: %s", spec_file(s), v->line, v->col,
                      s->kind, msg);
}

soma_status spec_error(const layer_spec *s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return soma_error(SOMA_ERR_FORMAT, "%s:%d:%d: %s: %s", spec_file(s), s->line, s->col,
                      s->kind, msg);
}

soma_status spec_int(const layer_spec *s, const char *key, int required, int def, int min,
                     int max, int *out)
{
    const spec_value *v = find_value(s, key);
    if (!v) {
        if (required)
            return spec_error(s, "missing required key '%s'", key);
        *out = def;
        return SOMA_OK;
    }
    char *end;
    errno = 0;
    long x = strtol(v->value, &end, 10);
    if (end == v->value || *end != '\0' || !(isdigit((unsigned char)v->value[0]) ||
                                             v->value[0] == '-' || v->value[0] == '+'))
        return value_error(s, v, "'%s' must be an integer, got '%s'", key, v->value);
    if (errno == ERANGE || x < min || x > max)
        return value_error(s, v, "'%s' must be between %d and %d, got %s", key, min, max,
                           v->value);
    *out = (int)x;
    return SOMA_OK;
}

/* Decimal numbers only ("0.5", "1e-5"): no hex, "inf" or "nan", and the
 * same in every locale. */
static int parse_decimal(const char *text, float *out)
{
    char buf[SPEC_VALUE_LEN];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof buf || strspn(text, "0123456789.eE+-") != n)
        return 0;
    memcpy(buf, text, n + 1);
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && !point[1]) {
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = point[0];
    }
    char *end;
    *out = strtof(buf, &end);
    return end != buf && *end == '\0';
}

soma_status spec_float(const layer_spec *s, const char *key, int required, float def, float min,
                       float max, float *out)
{
    const spec_value *v = find_value(s, key);
    if (!v) {
        if (required)
            return spec_error(s, "missing required key '%s'", key);
        *out = def;
        return SOMA_OK;
    }
    float x;
    if (!parse_decimal(v->value, &x))
        return value_error(s, v, "'%s' must be a number, got '%s'", key, v->value);
    if (!isfinite(x) || x < min || x > max)
        return value_error(s, v, "'%s' must be between %g and %g, got %s", key, (double)min,
                           (double)max, v->value);
    *out = x;
    return SOMA_OK;
}

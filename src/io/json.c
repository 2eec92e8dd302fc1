#include "io/json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"

#define JSON_MAX_NUMBER 511 /* characters in one number token */

typedef struct parser {
    const char *text;
    size_t len, pos;
    const char *name;
    size_t values;
    int depth;
} parser;

static soma_status parse_value(parser *p, json_value *out);

static soma_status fail_at(const parser *p, soma_status status, size_t at, const char *fmt, ...)
    SOMA_PRINTF(4, 5);

static soma_status fail_at(const parser *p, soma_status status, size_t at, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return soma_error(status, "%s: JSON error at byte %zu: %s", p->name, at, what);
}

#define FAIL(p, at, ...) fail_at((p), SOMA_ERR_FORMAT, (at), __VA_ARGS__)

static void skip_space(parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Names the byte at `at` for a message: "'x'", "byte 0x01" or "end of input". */
static const char *describe_byte(const parser *p, size_t at, char buf[16])
{
    if (at >= p->len)
        return "end of input";
    unsigned char c = (unsigned char)p->text[at];
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static soma_status expected(const parser *p, const char *what)
{
    char buf[16];
    return FAIL(p, p->pos, "expected %s, found %s", what, describe_byte(p, p->pos, buf));
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the \u escape at text[at] (a "\uXXXX", or a surrogate pair of two)
 * ending before `end`; returns the code point and advances *at past it. */
static soma_status unicode_escape(const parser *p, size_t *at, size_t end, unsigned *cp)
{
    const char *t = p->text;
    size_t j = *at;
    unsigned hi, lo;
    if (j + 6 > end || !hex4(t + j + 2, &hi))
        return FAIL(p, j, "\\u must be followed by 4 hex digits");
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return FAIL(p, j, "lone low surrogate \\u%04X", hi);
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (j + 12 > end || t[j + 6] != '\\' || t[j + 7] != 'u' || !hex4(t + j + 8, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return FAIL(p, j, "lone high surrogate \\u%04X (needs a \\uDC00-\\uDFFF after it)", hi);
        *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        *at = j + 12;
        return SOMA_OK;
    }
    if (hi == 0)
        return FAIL(p, j, "\\u0000 is not allowed in strings");
    *cp = hi;
    *at = j + 6;
    return SOMA_OK;
}

/* Parses the string starting at the '"' at p->pos into a malloc'd C string. */
static soma_status parse_string(parser *p, char **out, size_t *out_len)
{
    const char *t = p->text;
    size_t start = p->pos + 1, end = start;
    while (end < p->len && t[end] != '"')
        end += (t[end] == '\\') ? 2 : 1;
    if (end >= p->len)
        return FAIL(p, p->pos, "unterminated string");

    char *s = malloc(end - start + 1); /* decoding never lengthens */
    if (!s)
        return fail_at(p, SOMA_ERR_MEMORY, p->pos, "out of memory for a string");
    size_t n = 0, j = start;
    soma_status st = SOMA_OK;
    while (j < end && st == SOMA_OK) {
        unsigned char c = (unsigned char)t[j];
        if (c < 0x20) {
            st = FAIL(p, j, "control character 0x%02x in a string (must be escaped)", c);
        } else if (c == '\\') {
            char e = t[j + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e == 'u') {
                unsigned cp = 0;
                st = unicode_escape(p, &j, end, &cp);
                if (st == SOMA_OK)
                    n += put_utf8(s + n, cp);
            } else if (e != '\0' && simple) {
                s[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
                j += 2;
            } else {
                char buf[16];
                st = FAIL(p, j, "invalid escape: backslash followed by %s",
                          describe_byte(p, j + 1, buf));
            }
        } else if (c >= 0x80) {
            size_t len = utf8_char_length(t + j, end - j);
            if (len == 0) {
                st = FAIL(p, j, "invalid UTF-8 in a string");
            } else {
                memcpy(s + n, t + j, len);
                n += len;
                j += len;
            }
        } else {
            s[n++] = (char)c;
            j++;
        }
    }
    if (st != SOMA_OK) {
        free(s);
        return st;
    }
    s[n] = '\0';
    *out = s;
    *out_len = n;
    p->pos = end + 1;
    return SOMA_OK;
}

static int is_digit(const parser *p, size_t at)
{
    return at < p->len && p->text[at] >= '0' && p->text[at] <= '9';
}

static soma_status parse_number(parser *p, json_value *out)
{
    const char *t = p->text;
    size_t start = p->pos, j = start;
    int integer = 1;
    if (t[j] == '-')
        j++;
    if (!is_digit(p, j))
        return FAIL(p, j, "expected a digit after '-'");
    if (t[j] == '0' && is_digit(p, j + 1))
        return FAIL(p, j, "leading zero in a number");
    while (is_digit(p, j))
        j++;
    if (j < p->len && t[j] == '.') {
        integer = 0;
        if (!is_digit(p, ++j))
            return FAIL(p, j, "expected a digit after '.'");
        while (is_digit(p, j))
            j++;
    }
    if (j < p->len && (t[j] == 'e' || t[j] == 'E')) {
        integer = 0;
        j++;
        if (j < p->len && (t[j] == '+' || t[j] == '-'))
            j++;
        if (!is_digit(p, j))
            return FAIL(p, j, "expected a digit in the exponent");
        while (is_digit(p, j))
            j++;
    }
    if (j - start > JSON_MAX_NUMBER)
        return FAIL(p, start, "number longer than %d characters", JSON_MAX_NUMBER);

    /* strtod follows the locale's decimal point, so write that in place of '.' */
    char buf[JSON_MAX_NUMBER * 4 + 1];
    const char *point = localeconv()->decimal_point;
    size_t point_len = (point && point[0] && strlen(point) <= 4) ? strlen(point) : 0;
    size_t n = 0;
    for (size_t i = start; i < j; i++) {
        if (t[i] == '.' && point_len) {
            memcpy(buf + n, point, point_len);
            n += point_len;
        } else {
            buf[n++] = t[i];
        }
    }
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (isinf(d))
        return FAIL(p, start, "number out of range");
    out->type = JSON_NUMBER;
    out->number = d;
    out->integer = integer;
    p->pos = j;
    return SOMA_OK;
}

static soma_status parse_literal(parser *p, json_value *out)
{
    static const struct { const char *word; json_type type; int boolean; } literals[] = {
        {"true", JSON_BOOL, 1}, {"false", JSON_BOOL, 0}, {"null", JSON_NULL, 0}};
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        size_t n = strlen(literals[i].word);
        if (p->len - p->pos >= n && memcmp(p->text + p->pos, literals[i].word, n) == 0) {
            out->type = literals[i].type;
            out->boolean = literals[i].boolean;
            p->pos += n;
            return SOMA_OK;
        }
    }
    return expected(p, "a value");
}

/* Makes room for one more item (and key) in an array or object. */
static soma_status grow(parser *p, json_value *v, size_t *cap, size_t **offsets)
{
    if (v->count < *cap)
        return SOMA_OK;
    size_t cap2 = *cap ? *cap * 2 : 4;
    json_value *items = realloc(v->items, cap2 * sizeof *items);
    if (!items)
        return fail_at(p, SOMA_ERR_MEMORY, p->pos, "out of memory");
    v->items = items;
    if (v->type == JSON_OBJECT) {
        char **keys = realloc(v->keys, cap2 * sizeof *keys);
        if (!keys)
            return fail_at(p, SOMA_ERR_MEMORY, p->pos, "out of memory");
        v->keys = keys;
        size_t *offs = realloc(*offsets, cap2 * sizeof *offs);
        if (!offs)
            return fail_at(p, SOMA_ERR_MEMORY, p->pos, "out of memory");
        *offsets = offs;
    }
    *cap = cap2;
    return SOMA_OK;
}

static soma_status parse_array(parser *p, json_value *out)
{
    size_t cap = 0;
    out->type = JSON_ARRAY;
    p->pos++; /* '[' */
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        return SOMA_OK;
    }
    for (;;) {
        SOMA_TRY(grow(p, out, &cap, NULL));
        memset(&out->items[out->count++], 0, sizeof *out->items);
        SOMA_TRY(parse_value(p, &out->items[out->count - 1]));
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ']') {
            p->pos++;
            return SOMA_OK;
        }
        if (p->pos >= p->len || p->text[p->pos] != ',')
            return expected(p, "',' or ']'");
        p->pos++;
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ']')
            return FAIL(p, p->pos, "trailing comma before ']'");
    }
}

typedef struct key_at {
    const char *key;
    size_t offset;
} key_at;

static int compare_keys(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Sorting finds duplicates in O(n log n): hostile objects with many keys
 * cannot make the parser quadratic. */
static soma_status check_duplicates(parser *p, const json_value *obj, const size_t *offsets)
{
    if (obj->count < 2)
        return SOMA_OK;
    key_at *sorted = malloc(obj->count * sizeof *sorted);
    if (!sorted)
        return fail_at(p, SOMA_ERR_MEMORY, p->pos, "out of memory");
    for (size_t i = 0; i < obj->count; i++)
        sorted[i] = (key_at){obj->keys[i], offsets[i]};
    qsort(sorted, obj->count, sizeof *sorted, compare_keys);
    size_t first = 0;
    const char *dup = NULL;
    for (size_t i = 1; i < obj->count; i++) {
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0 && (!dup || sorted[i].offset < first)) {
            dup = sorted[i].key;
            first = sorted[i].offset;
        }
    }
    soma_status st = SOMA_OK;
    if (dup) {
        char shown[64];
        str_sanitize(shown, sizeof shown, dup);
        st = FAIL(p, first, "duplicate key \"%s\"", shown);
    }
    free(sorted);
    return st;
}

static soma_status parse_object_members(parser *p, json_value *out, size_t **offsets)
{
    size_t cap = 0;
    for (;;) {
        if (p->pos >= p->len || p->text[p->pos] != '"')
            return expected(p, "a string key");
        SOMA_TRY(grow(p, out, &cap, offsets));
        size_t i = out->count++;
        memset(&out->items[i], 0, sizeof *out->items);
        out->keys[i] = NULL;
        (*offsets)[i] = p->pos;
        size_t key_len;
        SOMA_TRY(parse_string(p, &out->keys[i], &key_len));
        skip_space(p);
        if (p->pos >= p->len || p->text[p->pos] != ':')
            return expected(p, "':'");
        p->pos++;
        SOMA_TRY(parse_value(p, &out->items[i]));
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == '}') {
            p->pos++;
            return check_duplicates(p, out, *offsets);
        }
        if (p->pos >= p->len || p->text[p->pos] != ',')
            return expected(p, "',' or '}'");
        p->pos++;
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == '}')
            return FAIL(p, p->pos, "trailing comma before '}'");
    }
}

static soma_status parse_object(parser *p, json_value *out)
{
    out->type = JSON_OBJECT;
    p->pos++; /* '{' */
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        return SOMA_OK;
    }
    size_t *offsets = NULL; /* where each key starts, for messages */
    soma_status st = parse_object_members(p, out, &offsets);
    free(offsets);
    return st;
}

static soma_status parse_value(parser *p, json_value *out)
{
    skip_space(p);
    if (p->pos >= p->len)
        return expected(p, "a value");
    if (++p->values > JSON_MAX_VALUES)
        return fail_at(p, SOMA_ERR_MEMORY, p->pos, "more than %zu values", JSON_MAX_VALUES);
    char c = p->text[p->pos];
    if (c == '{' || c == '[') {
        if (++p->depth > JSON_MAX_DEPTH)
            return FAIL(p, p->pos, "nested deeper than %d levels", JSON_MAX_DEPTH);
        soma_status st = (c == '{') ? parse_object(p, out) : parse_array(p, out);
        p->depth--;
        return st;
    }
    if (c == '"') {
        out->type = JSON_STRING;
        return parse_string(p, &out->string, &out->length);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, out);
    return parse_literal(p, out);
}

soma_status json_parse(const char *text, size_t len, const char *name, json_value **out)
{
    *out = NULL;
    if (!name)
        name = "JSON";
    if (len > JSON_MAX_INPUT)
        return soma_error(SOMA_ERR_FORMAT, "%s: JSON text is %zu bytes, more than the limit of %zu",
                          name, len, JSON_MAX_INPUT);
    if (!text)
        len = 0;
    parser p = {text, len, 0, name, 0, 0};
    json_value *root = calloc(1, sizeof *root);
    if (!root)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory parsing JSON", name);
    soma_status st = parse_value(&p, root);
    if (st == SOMA_OK) {
        skip_space(&p);
        if (p.pos < p.len) {
            char buf[16];
            st = FAIL(&p, p.pos, "unexpected %s after the value", describe_byte(&p, p.pos, buf));
        }
    }
    if (st != SOMA_OK) {
        json_free(root);
        return st;
    }
    *out = root;
    return SOMA_OK;
}

/*
 * Augmentation specs (docs/augment.md): parsing with errors that point at a
 * column, and the canonical text a run records.
 *
 *   spec  := "none" | item ("," item)*
 *   item  := "p=" NUMBER | NAME ["=" [value] (":" [value])*] ["@" NUMBER]
 *   value := NUMBER | WORD
 */
#include "data/augment.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/edit_distance.h"
#include "core/error.h"
#include "core/strbuf.h"

#define SPEC_MAX_LEN 4096
/* longest name or value: bounds the canonical text (AUGMENT_TEXT_MAX) */
#define TOKEN_MAX_LEN 32

#define KIND_MAX_ARGS 4

typedef struct kind_info {
    const char *name;
    int nargs;
    const char *arg_name[KIND_MAX_ARGS];
    float def[KIND_MAX_ARGS]; /* default values */
    float lo[KIND_MAX_ARGS];  /* lowest value (excluded when lo_open) */
    float hi[KIND_MAX_ARGS];
    int lo_open[KIND_MAX_ARGS];
    int integer[KIND_MAX_ARGS]; /* 1: whole numbers; 2: the word zero or reflect */
    float p;                    /* default probability */
    int ranges;                 /* values come in (min, max) pairs: min <= max */
} kind_info;

/* In enum augment_kind's order. */
static const kind_info kinds[AUG_KINDS] = {
    {"shift", 1, {"pixels", NULL}, {2, 0}, {1, 0}, {64, 0}, {0, 0}, {1, 0}, 1.0f, 0},
    {"crop", 2, {"padding", "mode"}, {4, AUG_PAD_ZERO}, {1, 0}, {64, 1}, {0, 0}, {1, 2}, 1.0f, 0},
    {"flip", 0, {NULL, NULL}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, 0.5f, 0},
    {"rotate", 1, {"degrees", NULL}, {10, 0}, {0, 0}, {180, 0}, {1, 0}, {0, 0}, 1.0f, 0},
    {"scale", 1, {"range", NULL}, {0.1f, 0}, {0, 0}, {0.9f, 0}, {1, 0}, {0, 0}, 1.0f, 0},
    {"elastic", 2, {"alpha", "sigma"}, {34, 4}, {0, 0}, {1000, 100}, {1, 1}, {0, 0}, 1.0f, 0},
    {"brightness", 1, {"range", NULL}, {0.2f, 0}, {0, 0}, {1, 0}, {1, 0}, {0, 0}, 1.0f, 0},
    {"contrast", 1, {"range", NULL}, {0.2f, 0}, {0, 0}, {1, 0}, {1, 0}, {0, 0}, 1.0f, 0},
    {"cutout", 1, {"size", NULL}, {8, 0}, {1, 0}, {1024, 0}, {0, 0}, {1, 0}, 1.0f, 0},
    {"noise", 1, {"std", NULL}, {0.05f, 0}, {0, 0}, {1, 0}, {1, 0}, {0, 0}, 1.0f, 0},
    /* torchvision's RandomResizedCrop defaults: scale (0.08, 1), ratio (3/4, 4/3) */
    {"resized-crop", 4, {"scale-min", "scale-max", "ratio-min", "ratio-max"},
     {0.08f, 1.0f, 0.75f, 4.0f / 3.0f}, {0, 0, 0, 0}, {1, 1, 10, 10}, {1, 1, 1, 1},
     {0, 0, 0, 0}, 1.0f, 1},
};

static const char *const pad_names[] = {"zero", "reflect"};

typedef struct cursor {
    const char *text;
    size_t at;
} cursor;

static void skip_spaces(cursor *c)
{
    while (c->text[c->at] == ' ' || c->text[c->at] == '\t')
        c->at++;
}

static int is_word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == '+';
}

/* The token at the cursor (a word or number) into buf (TOKEN_MAX_LEN + 1
 * bytes at least), returning its length: longer ones are cut short here and
 * refused by the caller. */
static size_t token(cursor *c, char *buf, size_t size)
{
    size_t n = 0;
    while (is_word_char(c->text[c->at + n]))
        n++;
    size_t copy = n < size - 1 ? n : size - 1;
    memcpy(buf, c->text + c->at, copy);
    buf[copy] = '\0';
    c->at += n;
    return n;
}

/* The shortest plain decimal (no exponent: the grammar has none) that reads
 * back as the same float. */
static void number_text(float x, char *buf, size_t size)
{
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)x);
        if (!strchr(buf, 'e') && (float)strtod(buf, NULL) == x)
            return;
    }
    /* tiny values: as many decimals as it takes (no more than the value was written with) */
    for (int decimals = 1; decimals <= 48; decimals++) {
        snprintf(buf, size, "%.*f", decimals, (double)x);
        if ((float)strtod(buf, NULL) == x)
            return;
    }
}

enum { NUMBER_BAD = 0, NUMBER_OK = 1, NUMBER_TOO_FINE = 2 };

/* Plain decimal: digits with an optional fraction; no sign, exponent, inf or
 * nan. NUMBER_TOO_FINE: a value so small that the canonical text would need
 * more than TOKEN_MAX_LEN characters (".000...0008" reads back as "0.000...0008",
 * which the parser would refuse). */
static int parse_number(const char *s, float *out)
{
    int digits = 0, dot = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '.' && !dot)
            dot = 1;
        else
            return NUMBER_BAD;
    }
    if (!digits)
        return NUMBER_BAD;
    double v = strtod(s, NULL);
    if (!(v <= 1e9))
        return NUMBER_BAD;
    char back[64];
    number_text((float)v, back, sizeof back);
    if (strlen(back) > TOKEN_MAX_LEN)
        return NUMBER_TOO_FINE;
    *out = (float)v;
    return NUMBER_OK;
}

static soma_status bad(size_t at, const char *fmt, ...) SOMA_PRINTF(2, 3);

/* An error at column at + 1 of the spec. */
static soma_status bad(size_t at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return soma_error(SOMA_ERR_ARGUMENT, "1:%d: %s", (int)at + 1, msg);
}

static soma_status too_long(size_t at, const char *start)
{
    return bad(at, "'%.*s...' is too long (%d characters at most)", 12, start, TOKEN_MAX_LEN);
}

static soma_status too_fine(size_t at, const char *start)
{
    return bad(at, "'%.*s...' is too small to write back in %d characters", 12, start,
               TOKEN_MAX_LEN);
}

/* A character of the spec for a message: itself when printable, else its code. */
static const char *char_text(char ch, char buf[8])
{
    unsigned char u = (unsigned char)ch;
    if (u >= 0x20 && u < 0x7f)
        snprintf(buf, 8, "'%c'", ch);
    else
        snprintf(buf, 8, "0x%02x", u);
    return buf;
}

static soma_status unknown_name(size_t at, const char *name)
{
    const char *words[AUG_KINDS + 2];
    for (int k = 0; k < AUG_KINDS; k++)
        words[k] = kinds[k].name;
    words[AUG_KINDS] = "p";
    words[AUG_KINDS + 1] = "none";
    const char *near = suggest_word(name, words, AUG_KINDS + 2);
    if (near)
        return soma_error(SOMA_ERR_ARGUMENT, "1:%d: unknown transform '%s' (did you mean '%s'?)",
                          (int)at + 1, name, near);
    return soma_error(SOMA_ERR_ARGUMENT,
                      "1:%d: unknown transform '%s' (expected shift, crop, flip, rotate, scale, "
                      "elastic, brightness, contrast, cutout, noise, resized-crop or p)",
                      (int)at + 1, name);
}

/* One value of a step: a number in its range, or crop's padding mode. */
static soma_status parse_value(const kind_info *k, int i, size_t at, const char *text, float *out)
{
    char what[80];
    snprintf(what, sizeof what, "%s %s", k->name, k->arg_name[i]);
    if (k->integer[i] == 2) {
        for (int m = 0; m < 2; m++)
            if (strcmp(text, pad_names[m]) == 0) {
                *out = (float)m;
                return SOMA_OK;
            }
        const char *near = suggest_word(text, pad_names, 2);
        char hint[64] = "";
        if (near)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
        return soma_error(SOMA_ERR_ARGUMENT, "1:%d: %s must be zero or reflect, got '%s'%s",
                          (int)at + 1, what, text, hint);
    }
    float v;
    int number = parse_number(text, &v);
    if (number == NUMBER_TOO_FINE)
        return too_fine(at, text);
    if (number != NUMBER_OK)
        return bad(at, "%s expects a number, got '%s'", what, text);
    int below = k->lo_open[i] ? !(v > k->lo[i]) : !(v >= k->lo[i]);
    if (k->integer[i] && (v != floorf(v) || below || v > k->hi[i]))
        return soma_error(SOMA_ERR_ARGUMENT, "1:%d: %s must be a whole number in %g..%g, got %s",
                          (int)at + 1, what, (double)k->lo[i], (double)k->hi[i], text);
    if (below || v > k->hi[i])
        return soma_error(SOMA_ERR_ARGUMENT, "1:%d: %s must be in %s%g, %g], got %s",
                          (int)at + 1, what, k->lo_open[i] ? "(" : "[", (double)k->lo[i],
                          (double)k->hi[i], text);
    *out = v;
    return SOMA_OK;
}

static soma_status parse_probability(cursor *c, float *p)
{
    char buf[64];
    skip_spaces(c);
    size_t at = c->at;
    size_t n = token(c, buf, sizeof buf);
    if (!n)
        return bad(at, "expected a probability in [0, 1]");
    if (n > TOKEN_MAX_LEN)
        return too_long(at, buf);
    int number = parse_number(buf, p);
    if (number == NUMBER_TOO_FINE)
        return too_fine(at, buf);
    if (number != NUMBER_OK || *p > 1.0f)
        return bad(at, "a probability must be a number in [0, 1], got '%s'", buf);
    return SOMA_OK;
}

/* NAME ["=" values] ["@" p] at the cursor; *own_p: an "@" was given. */
static soma_status parse_step(cursor *c, const char *name, size_t name_at, augment_step *s,
                              int *own_p)
{
    int kind = -1;
    for (int k = 0; k < AUG_KINDS; k++)
        if (strcmp(name, kinds[k].name) == 0)
            kind = k;
    if (kind < 0)
        return unknown_name(name_at, name);
    const kind_info *k = &kinds[kind];
    s->kind = (enum augment_kind)kind;
    size_t value_at[KIND_MAX_ARGS] = {0};
    for (int a = 0; a < KIND_MAX_ARGS; a++)
        s->arg[a] = k->def[a];
    s->p = k->p;
    skip_spaces(c);
    if (c->text[c->at] == '=') {
        if (k->nargs == 0)
            return bad(c->at, "'%s' takes no values", k->name);
        int i = 0;
        do {
            c->at++; /* '=' or ':' */
            if (i == k->nargs) {
                char count[32];
                snprintf(count, sizeof count, "%d value%s", k->nargs, k->nargs > 1 ? "s" : "");
                return bad(c->at - 1, "'%s' takes at most %s", k->name, count);
            }
            skip_spaces(c);
            char buf[64];
            size_t at = c->at;
            size_t n = token(c, buf, sizeof buf);
            if (n > TOKEN_MAX_LEN)
                return too_long(at, buf);
            if (n) /* empty: the default */
                SOMA_TRY(parse_value(k, i, at, buf, &s->arg[i]));
            value_at[i] = n ? at : name_at;
            skip_spaces(c);
            i++;
        } while (c->text[c->at] == ':');
    }
    for (int a = 0; k->ranges && a + 1 < k->nargs; a += 2)
        if (s->arg[a] > s->arg[a + 1])
            return bad(value_at[a + 1] > value_at[a] ? value_at[a + 1] : value_at[a],
                       "%s %s %g is above its %s %g", k->name, k->arg_name[a],
                       (double)s->arg[a], k->arg_name[a + 1], (double)s->arg[a + 1]);
    *own_p = 0;
    if (c->text[c->at] == '@') {
        c->at++;
        SOMA_TRY(parse_probability(c, &s->p));
        *own_p = 1;
    }
    return SOMA_OK;
}

soma_status augment_parse(const char *spec, augment_pipeline *out)
{
    memset(out, 0, sizeof *out);
    if (!spec)
        return SOMA_OK;
    if (strlen(spec) > SPEC_MAX_LEN)
        return soma_error(SOMA_ERR_ARGUMENT, "1:%d: the spec is longer than %d characters",
                          SPEC_MAX_LEN + 1, SPEC_MAX_LEN);
    cursor c = {spec, 0};
    skip_spaces(&c);
    if (!spec[c.at])
        return SOMA_OK;
    char first[8];
    cursor look = c;
    if (token(&look, first, sizeof first) == 4 && strcmp(first, "none") == 0) {
        skip_spaces(&look);
        if (!spec[look.at])
            return SOMA_OK;
    }
    int own_p[AUGMENT_MAX_STEPS] = {0}, have_p = 0;
    char ch[8];
    float p = 1.0f;
    for (;;) {
        char name[64];
        skip_spaces(&c);
        size_t at = c.at;
        size_t n = token(&c, name, sizeof name);
        if (!n)
            return spec[at] ? bad(at, "expected a transform name, got %s", char_text(spec[at], ch))
                            : bad(at, "expected a transform name at the end");
        if (n > TOKEN_MAX_LEN)
            return too_long(at, name);
        if (strcmp(name, "none") == 0)
            return bad(at, "'none' stands alone: it cannot be combined with transforms");
        if (strcmp(name, "p") == 0) {
            skip_spaces(&c);
            if (spec[c.at] != '=')
                return bad(c.at, "expected '=' after p (p=PROBABILITY)");
            if (have_p)
                return bad(at, "'p' is given twice");
            c.at++;
            SOMA_TRY(parse_probability(&c, &p));
            have_p = 1;
        } else {
            if (out->n == AUGMENT_MAX_STEPS)
                return soma_error(SOMA_ERR_ARGUMENT, "1:%d: more than %d transforms", (int)at + 1,
                                  AUGMENT_MAX_STEPS);
            SOMA_TRY(parse_step(&c, name, at, &out->steps[out->n], &own_p[out->n]));
            if (out->steps[out->n].kind == AUG_RESIZED_CROP && out->n > 0)
                return bad(at, "resized-crop must come first: it cuts the decoded image, "
                               "before the other transforms");
            out->n++;
        }
        skip_spaces(&c);
        if (!spec[c.at])
            break;
        if (spec[c.at] != ',')
            return bad(c.at, "expected ',' or the end of the spec, got %s",
                       char_text(spec[c.at], ch));
        c.at++;
    }
    if (have_p)
        for (int i = 0; i < out->n; i++)
            if (!own_p[i])
                out->steps[i].p = p;
    if (out->n == 0 && have_p)
        return bad(0, "'p' without a transform to apply to");
    return SOMA_OK;
}

void augment_canonical(const augment_pipeline *p, char *buf, size_t size)
{
    strbuf sb;
    strbuf_init(&sb);
    if (p->n == 0)
        strbuf_append(&sb, "none");
    for (int i = 0; i < p->n; i++) {
        const augment_step *s = &p->steps[i];
        const kind_info *k = &kinds[s->kind];
        char num[64];
        strbuf_appendf(&sb, "%s%s", i ? "," : "", k->name);
        for (int a = 0; a < k->nargs; a++) {
            if (k->integer[a] == 2)
                snprintf(num, sizeof num, "%s", pad_names[(int)s->arg[a]]);
            else
                number_text(s->arg[a], num, sizeof num);
            strbuf_appendf(&sb, "%s%s", a ? ":" : "=", num);
        }
        number_text(s->p, num, sizeof num);
        strbuf_appendf(&sb, "@%s", num);
    }
    snprintf(buf, size, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
}

int augment_has(const augment_pipeline *p, enum augment_kind kind)
{
    for (int i = 0; i < p->n; i++)
        if (p->steps[i].kind == kind)
            return 1;
    return 0;
}

/* The strict option parser: every value is checked in full before use. */
#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/edit_distance.h"

int usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "soma %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int args_outcome(parse_result r, const char *help)
{
    if (r == PARSE_HELP) {
        fputs(help, stdout);
        return 0;
    }
    return r == PARSE_ERROR ? EXIT_USAGE : -1;
}

cli_option *args_find(cli_option *options, int noptions, const char *name)
{
    for (int i = 0; i < noptions; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

const char *args_suggest(const cli_option *options, int noptions, const char *unknown)
{
    enum { MAX_NAMES = 64 };
    const char *names[MAX_NAMES];
    int n = noptions < MAX_NAMES ? noptions : MAX_NAMES;
    for (int i = 0; i < n; i++)
        names[i] = options[i].name;
    return suggest_word(unknown, names, n);
}

/* Whole-token checks: no leading blanks (strtod/strtol would skip them). */
static int parse_long_long(const char *s, long long *out)
{
    if (!*s || isspace((unsigned char)*s))
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int digits(const char **s)
{
    int n = 0;
    for (; isdigit((unsigned char)**s); (*s)++)
        n++;
    return n;
}

int args_is_decimal(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    int mantissa = digits(&s);
    if (*s == '.') {
        s++;
        mantissa += digits(&s);
    }
    if (mantissa == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (digits(&s) == 0)
            return 0;
    }
    return *s == '\0';
}

static int parse_double(const char *s, double *out)
{
    /* strtod would also take hex (0x10), inf, nan and leading blanks */
    if (!args_is_decimal(s))
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int in_range(const cli_option *o, double v)
{
    if (o->min_exclusive ? !(v > o->min) : !(v >= o->min))
        return 0;
    if (o->max_exclusive ? !(v < o->max) : !(v <= o->max))
        return 0;
    return 1;
}

/* Stores `value` into the option's destination; 0 and a message if invalid. */
static int set_value(const char *command, cli_option *o, const char *value)
{
    int ok = 1;
    switch (o->type) {
    case OPT_FLAG:
        *(int *)o->dest = 1;
        break;
    case OPT_STRING:
        if (!*value)
            ok = 0;
        else
            *(const char **)o->dest = value;
        break;
    case OPT_INT: {
        long long v;
        ok = parse_long_long(value, &v) && in_range(o, (double)v);
        if (ok)
            *(int *)o->dest = (int)v;
        break;
    }
    case OPT_U64: {
        uint64_t v;
        ok = parse_u64(value, &v);
        if (ok)
            *(uint64_t *)o->dest = v;
        break;
    }
    case OPT_NUMBER: {
        double v;
        ok = parse_double(value, &v) && in_range(o, v);
        if (ok)
            *(double *)o->dest = v;
        break;
    }
    }
    if (!ok) {
        usage_error(command, "--%s expects %s, got '%s'", o->name,
                    o->expects ? o->expects : "a value", value);
        return 0;
    }
    o->given = 1;
    return 1;
}

static int is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

parse_result args_parse(const char *command, int argc, char **argv, cli_option *options,
                        int noptions, const char **positional, int max_positional,
                        int *npositional)
{
    *npositional = 0;
    /* Help wins over every other problem, so `soma train --help` needs no MODEL. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i]))
            return PARSE_HELP;

    int options_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        int is_option = !options_done && arg[0] == '-' && arg[1] != '\0';
        if (!is_option) {
            if (*npositional >= max_positional) {
                usage_error(command, "unexpected argument '%s'", arg);
                return PARSE_ERROR;
            }
            positional[(*npositional)++] = arg;
            continue;
        }
        if (arg[1] != '-') {
            usage_error(command, "unknown option '%s' (options are spelled --name)", arg);
            return PARSE_ERROR;
        }
        /* "--name" or "--name=value" */
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        if (len >= sizeof name)
            len = sizeof name - 1;
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        cli_option *o = args_find(options, noptions, name);
        if (!o) {
            const char *hint = args_suggest(options, noptions, name);
            if (hint)
                usage_error(command, "unknown option '--%s' (did you mean '--%s'?)", name, hint);
            else
                usage_error(command, "unknown option '--%s' (see soma %s --help)", name,
                            command);
            return PARSE_ERROR;
        }
        if (o->type == OPT_FLAG) {
            if (eq) {
                usage_error(command, "option '--%s' takes no value", name);
                return PARSE_ERROR;
            }
            set_value(command, o, "");
            continue;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else {
            /* The next token is the value, unless it is another option. */
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-')) {
                usage_error(command, "option '--%s' needs a value (%s)", name,
                            o->expects ? o->expects : "a value");
                return PARSE_ERROR;
            }
            value = argv[++i];
        }
        if (!set_value(command, o, value))
            return PARSE_ERROR;
    }
    return PARSE_OK;
}

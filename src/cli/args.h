/*
 * A small, strict command-line parser for the soma subcommands.
 *
 * Each subcommand declares a table of options; args_parse walks argv once,
 * accepting "--name value", "--name=value", "--" (end of options) and
 * "-h"/"--help", and fills each option's destination with a value checked
 * in full (whole token, finite, in range). Errors are one line on stderr,
 * "soma CMD: ...", and the caller exits with status 2.
 */
#ifndef SOMA_CLI_ARGS_H
#define SOMA_CLI_ARGS_H

#include <stdint.h>

#include "core/edit_distance.h" /* suggest_word */

#define EXIT_USAGE 2

typedef enum option_type {
    OPT_FLAG,   /* int*: set to 1; takes no value */
    OPT_STRING, /* const char**: the token as given */
    OPT_INT,    /* int*: a whole number in [min, max] */
    OPT_U64,    /* uint64_t*: a whole number >= 0 */
    OPT_NUMBER  /* double*: a finite number in [min, max] (or (min, max] with min_exclusive) */
} option_type;

typedef struct cli_option {
    const char *name; /* without the leading "--", e.g. "epochs" */
    option_type type;
    void *dest;
    double min, max;
    int min_exclusive; /* the value must be > min rather than >= min */
    int max_exclusive; /* the value must be < max rather than <= max */
    const char *expects; /* for messages: "a positive number" */
    int given;           /* set by args_parse when the option appears */
} cli_option;

/* The outcome of args_parse. */
typedef enum parse_result {
    PARSE_OK = 0,
    PARSE_HELP, /* -h or --help was given: print help and exit 0 */
    PARSE_ERROR /* a message was printed: exit 2 */
} parse_result;

/*
 * Parses argv[0..argc) (the arguments after the subcommand name). Options
 * may appear anywhere; the other tokens go to positional[0..*npositional),
 * at most max_positional of them. `command` names the subcommand in
 * messages ("train" -> "soma train: ...").
 */
parse_result args_parse(const char *command, int argc, char **argv, cli_option *options,
                        int noptions, const char **positional, int max_positional,
                        int *npositional);

/* The number of entries of an option table (an array, not a pointer). */
#define ARGS_COUNT(options) ((int)(sizeof(options) / sizeof((options)[0])))

/* What a command does after parsing: -1 to go on; otherwise the exit status,
 * after printing `help` for -h/--help (a parse error was already reported). */
int args_outcome(parse_result r, const char *help);

/* Finds an option by name in a table (NULL if absent). */
cli_option *args_find(cli_option *options, int noptions, const char *name);

/* The closest option name to `unknown` (for "did you mean"), or NULL. */
const char *args_suggest(const cli_option *options, int noptions, const char *unknown);

/* 1 if `s` is a whole decimal number, [+-]digits[.digits][e[+-]digits]:
 * not hex (0x10), inf, nan, or blank-padded, which strtod would accept. */
int args_is_decimal(const char *s);

/* Prints "soma CMD: message" on stderr as one line. Returns EXIT_USAGE. */
int usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif

/*
 * libFuzzer harness for the option parser: the input, split at newlines, is
 * the argv of `soma train` (an option table of every kind, as train's), and
 * the named values go through the choices of --opt, --schedule, --init and
 * --data. train_options_parse itself is not called: it reads --config and
 * --resume files.
 *
 * Beyond crashes and sanitizer reports, it traps when a value that parsed is
 * out of its range, or args_is_decimal accepts what strtod does not read whole.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "core/error.h"

#define MAX_TOKENS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decimal(const char *s)
{
    if (!args_is_decimal(s))
        return;
    char *end;
    strtod(s, &end);
    if (*end || end == s)
        __builtin_trap();
}

static void check_choices(const char *value)
{
    const value_choices *all[] = {&optimizer_choices, &schedule_choices, &init_choices,
                                  &dataset_choices};
    for (int i = 0; i < 4; i++) {
        const char *name = choice_parse("train", all[i], value);
        if (name && choice_match(all[i], name) != name)
            __builtin_trap(); /* a name stands for itself */
    }
    (void)data_choice("train", value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_TOKENS + 1];
    int argc = 0;
    /* one exact-size copy per token, so that ASan sees a read past its end */
    for (size_t start = 0; start <= size && argc < MAX_TOKENS;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        char *token = malloc(end - start + 1);
        if (!token)
            break;
        memcpy(token, data + start, end - start);
        token[end - start] = '\0';
        argv[argc++] = token;
        start = end + 1;
    }
    argv[argc] = NULL;

    const char *strings[4] = {NULL, NULL, NULL, NULL};
    int epochs = 20, threads = 0, quiet = 0;
    double lr = 0, momentum = 0, val_split = 0.1;
    uint64_t seed = 1;
    cli_option options[] = {
        {"data", OPT_STRING, &strings[0], 0, 0, 0, 0, "a dataset name or directory", 0},
        {"opt", OPT_STRING, &strings[1], 0, 0, 0, 0, "an optimizer name", 0},
        {"schedule", OPT_STRING, &strings[2], 0, 0, 0, 0, "const, step or cosine", 0},
        {"init", OPT_STRING, &strings[3], 0, 0, 0, 0, "he, xavier or lecun", 0},
        {"epochs", OPT_INT, &epochs, 1, 100000, 0, 0, "a whole number from 1 to 100000", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"lr", OPT_NUMBER, &lr, 0, HUGE_VAL, 1, 0, "a positive number", 0},
        {"momentum", OPT_NUMBER, &momentum, 0, 1, 0, 1, "a number in [0, 1)", 0},
        {"val-split", OPT_NUMBER, &val_split, 0, 1, 0, 1, "a fraction in [0, 1)", 0},
        {"seed", OPT_U64, &seed, 0, 0, 0, 0, "a whole number >= 0", 0},
        {"quiet", OPT_FLAG, &quiet, 0, 0, 0, 0, NULL, 0},
    };
    const char *positional[2];
    int npositional = -1;
    parse_result r = args_parse("train", argc, argv, options, ARGS_COUNT(options), positional, 2,
                                &npositional);
    if (npositional < 0 || npositional > 2)
        __builtin_trap();
    if (r == PARSE_OK) {
        if (epochs < 1 || epochs > 100000 || threads < 0 || threads > 1024 || !(lr >= 0) ||
            !isfinite(lr) || !(momentum >= 0 && momentum < 1) ||
            !(val_split >= 0 && val_split < 1) || (quiet != 0 && quiet != 1))
            __builtin_trap();
        for (int i = 0; i < 4; i++)
            if (strings[i]) {
                if (!*strings[i])
                    __builtin_trap(); /* an empty value is refused */
                check_choices(strings[i]);
            }
    }
    for (int i = 0; i < argc; i++) {
        check_decimal(argv[i]);
        free(argv[i]);
    }
    soma_error_clear();
    return 0;
}

/*
 * Option values that are names: --opt, --schedule, --init, --data. Each
 * accepts its names in any case, with '-' and '_' alike, plus the aliases a
 * PyTorch or Keras user would type (kaiming = he, glorot = xavier, ...);
 * anything else is one usage error that lists the names and suggests the
 * nearest: "soma train: --opt expects sgd, ..., got 'adma' (did you mean 'adam'?)".
 */
#ifndef SOMA_CLI_CHOICES_H
#define SOMA_CLI_CHOICES_H

/* Another spelling of a name, e.g. {"kaiming", "he"}. */
typedef struct value_alias {
    const char *alias;
    const char *name;
} value_alias;

/* The values of one option: its names (listed in messages) and their aliases. */
typedef struct value_choices {
    const char *option; /* without "--", e.g. "opt" */
    const char *const *names;
    int nnames;
    const value_alias *aliases;
    int naliases;
    const char *other; /* what else is accepted, for messages ("a directory"), or NULL */
} value_choices;

extern const value_choices optimizer_choices, schedule_choices, init_choices, dataset_choices;

/* The name `value` stands for (case ignored, '-' = '_', aliases), or NULL. */
const char *choice_match(const value_choices *c, const char *value);

/* choice_match, or NULL after printing "soma COMMAND: --OPTION expects A, B
 * or C, got 'VALUE' (did you mean 'X'?)" (the caller exits with status 2). */
const char *choice_parse(const char *command, const value_choices *c, const char *value);

/*
 * --data: a dataset name or alias (returned as its name), else a path that
 * exists or contains '/' (returned as given; the library reports what is
 * wrong with it). NULL after a usage error for a word that is neither, with
 * the nearest dataset name as suggestion.
 */
const char *data_choice(const char *command, const char *value);

/*
 * For commands that take a CHECKPOINT (eval, predict): a zoo model's name
 * given in its place, with no such file, is a usage error that says what is
 * expected. Returns -1 when `path` may be a checkpoint, else EXIT_USAGE
 * after the message.
 */
int checkpoint_argument_check(const char *command, const char *path);

/* --device: one of the devices this build has (soma_devices()), or NULL
 * after a usage error that lists them. */
const char *device_choice(const char *command, const char *value);

#endif

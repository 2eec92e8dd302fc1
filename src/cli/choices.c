/* Named option values: their spellings, aliases and "did you mean" errors. */
#include "cli/choices.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "soma.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The names match what soma_optimizer_parse, soma_schedule_parse and
 * soma_dataset_find accept; an alias only where it means the very same thing
 * (kaiming_uniform is not he, which draws from a normal distribution). */
static const char *const optimizer_names[] = {"sgd",     "momentum", "nesterov", "adagrad",
                                              "rmsprop", "adam",     "adamw"};
static const value_alias optimizer_aliases[] = {{"sgdm", "momentum"}, {"nag", "nesterov"}};
const value_choices optimizer_choices = {"opt", optimizer_names, COUNT(optimizer_names),
                                         optimizer_aliases, COUNT(optimizer_aliases), NULL};

static const char *const schedule_names[] = {"const", "step", "cosine"};
static const value_alias schedule_aliases[] = {
    {"constant", "const"},        {"fixed", "const"},         {"none", "const"},
    {"steplr", "step"},           {"step-lr", "step"},        {"cos", "cosine"},
    {"cosine-annealing", "cosine"}, {"cosineannealing", "cosine"}, {"cosineannealinglr", "cosine"},
};
const value_choices schedule_choices = {"schedule", schedule_names, COUNT(schedule_names),
                                        schedule_aliases, COUNT(schedule_aliases), NULL};

static const char *const init_names[] = {"he", "xavier", "lecun"};
static const value_alias init_aliases[] = {
    {"kaiming", "he"},        {"kaiming-normal", "he"},        {"he-normal", "he"},
    {"glorot", "xavier"},     {"glorot-uniform", "xavier"},    {"xavier-uniform", "xavier"},
    {"lecun-normal", "lecun"},
};
const value_choices init_choices = {"init", init_names, COUNT(init_names), init_aliases,
                                    COUNT(init_aliases), NULL};

static const char *const dataset_names[] = {"mnist", "fashion-mnist", "cifar-10", "cifar-100"};
static const value_alias dataset_aliases[] = {
    {"fashion", "fashion-mnist"}, {"fashionmnist", "fashion-mnist"}, {"fmnist", "fashion-mnist"}};
const value_choices dataset_choices = {"data", dataset_names, COUNT(dataset_names),
                                       dataset_aliases, COUNT(dataset_aliases),
                                       "a directory of IDX, CIFAR or image-folder files"};

/* Case ignored, '-' and '_' alike: "Fashion_MNIST" is "fashion-mnist". */
static int same_spelling(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x == '_')
            x = '-';
        if (y == '_')
            y = '-';
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

const char *choice_match(const value_choices *c, const char *value)
{
    for (int i = 0; i < c->nnames; i++)
        if (same_spelling(value, c->names[i]))
            return c->names[i];
    for (int i = 0; i < c->naliases; i++)
        if (same_spelling(value, c->aliases[i].alias))
            return c->aliases[i].name;
    return NULL;
}

/* "sgd, momentum or adam" (and ", or a directory ..." when there is more). */
static void list_names(const value_choices *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->nnames && used < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 < c->nnames || c->other ? ", " : " or ";
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, c->names[i]);
    }
    if (c->other && used < size)
        snprintf(buf + used, size - used, " or %s", c->other);
}

/* The name or alias nearest to `value`, or NULL. */
static const char *nearest(const value_choices *c, const char *value)
{
    enum { MAX_WORDS = 32 };
    const char *words[MAX_WORDS];
    int n = 0;
    for (int i = 0; i < c->nnames && n < MAX_WORDS; i++)
        words[n++] = c->names[i];
    for (int i = 0; i < c->naliases && n < MAX_WORDS; i++)
        words[n++] = c->aliases[i].alias;
    return suggest_word(value, words, n);
}

static void choice_error(const char *command, const value_choices *c, const char *value,
                         const char *otherwise)
{
    char names[256];
    list_names(c, names, sizeof names);
    const char *hint = nearest(c, value);
    if (hint)
        usage_error(command, "--%s expects %s, got '%s' (did you mean '%s'?)", c->option, names,
                    value, hint);
    else
        usage_error(command, "--%s expects %s, got '%s'%s", c->option, names, value, otherwise);
}

const char *choice_parse(const char *command, const value_choices *c, const char *value)
{
    const char *name = choice_match(c, value);
    if (!name)
        choice_error(command, c, value, "");
    return name;
}

const char *data_choice(const char *command, const char *value)
{
    /* an exact name first: a directory called mnist/ in the working
     * directory does not shadow the dataset */
    for (int i = 0; i < dataset_choices.nnames; i++)
        if (strcmp(value, dataset_choices.names[i]) == 0)
            return value;
    struct stat st;
    if (strchr(value, '/') || stat(value, &st) == 0)
        return value;
    const char *name = choice_match(&dataset_choices, value);
    if (!name)
        choice_error(command, &dataset_choices, value, " (no such directory)");
    return name;
}

const char *device_choice(const char *command, const char *value)
{
    /* the devices are the build's: a "cuda" build lists it, others do not */
    const char *const *names = soma_devices();
    int n = 0;
    while (names[n])
        n++;
    static const value_alias device_aliases[] = {{"gpu", "cuda"}, {"host", "cpu"}};
    value_choices devices = {"device", names, n, device_aliases, COUNT(device_aliases), NULL};
    const char *name = choice_match(&devices, value);
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return name;
    if (!name) {
        choice_error(command, &devices, value, "");
        return NULL;
    }
    char list[256]; /* a device this build lacks ("gpu" without CUDA) */
    list_names(&devices, list, sizeof list);
    usage_error(command, "--device %s: this build has no %s backend, only %s", value, name, list);
    return NULL;
}

int checkpoint_argument_check(const char *command, const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".cfg") == 0)
        return usage_error(command,
                           "'%s' is a model file, not a checkpoint: %s takes a checkpoint file "
                           "written by soma train, e.g. runs/MODEL-DATE/best.safetensors",
                           path, command);
    struct stat st;
    if (stat(path, &st) == 0)
        return -1;
    for (const char *const *name = soma_zoo_names(); name && *name; name++)
        if (strcmp(path, *name) == 0)
            return usage_error(command,
                               "'%s' is a zoo model, not a checkpoint: %s takes a checkpoint "
                               "file written by soma train, e.g. runs/%s-DATE/best.safetensors",
                               path, command, path);
    return -1;
}

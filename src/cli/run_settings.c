/* A run's settings as one JSON object: written, read back, compared. */
#define _POSIX_C_SOURCE 200809L
#include "cli/run_settings.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "io/atomic_file.h"

/* summary.json is small: anything larger is not one */
#define SETTINGS_FILE_MAX ((size_t)1 << 20)

enum field_type { F_STRING, F_DOUBLE, F_FLOAT, F_INT, F_SEED, F_OPTIMIZER, F_SCHEDULE };

typedef struct field {
    const char *key;    /* in the JSON object */
    const char *option; /* the `soma train` option that sets it (NULL: none) */
    enum field_type type;
    size_t offset;
    int optional; /* absent from settings written before it existed; written only when set */
} field;

#define AT(member) offsetof(run_settings, member)

/* In the order they are written. */
static const field fields[] = {
    {"model", NULL, F_STRING, AT(model), 0},
    {"data", "data", F_STRING, AT(data), 0},
    {"val_split", "val-split", F_DOUBLE, AT(val_split), 0},
    {"init", "init", F_STRING, AT(init), 0},
    {"augment", "augment", F_STRING, AT(augment), 0}, /* null without; absent before it */
    {"init_from", "init-from", F_STRING, AT(init_from), 1},
    {"seed", "seed", F_SEED, AT(train.seed), 0},
    {"optimizer", "opt", F_OPTIMIZER, AT(train.opt.kind), 0},
    {"lr", "lr", F_FLOAT, AT(train.opt.lr), 0},
    {"momentum", "momentum", F_FLOAT, AT(train.opt.momentum), 0},
    {"alpha", NULL, F_FLOAT, AT(train.opt.alpha), 0},
    {"beta1", NULL, F_FLOAT, AT(train.opt.beta1), 0},
    {"beta2", NULL, F_FLOAT, AT(train.opt.beta2), 0},
    {"eps", NULL, F_FLOAT, AT(train.opt.eps), 0},
    {"weight_decay", "weight-decay", F_FLOAT, AT(train.opt.weight_decay), 0},
    {"schedule", "schedule", F_SCHEDULE, AT(train.schedule), 0},
    {"step_epochs", "step-epochs", F_INT, AT(train.step_epochs), 0},
    {"step_gamma", "step-gamma", F_FLOAT, AT(train.step_gamma), 0},
    {"warmup_epochs", "warmup", F_FLOAT, AT(train.warmup_epochs), 0},
    {"epochs", "epochs", F_INT, AT(train.epochs), 0},
    {"batch", "batch", F_INT, AT(train.batch), 0},
    {"patience", "patience", F_INT, AT(train.patience), 0},
    {"checkpoint_every", "checkpoint-every", F_INT, AT(train.checkpoint_every), 0},
    {"checkpoint_minutes", NULL, F_DOUBLE, AT(train.checkpoint_minutes), 0},
    {"sync_bn", "sync-bn", F_INT, AT(train.sync_bn), 1}, /* BatchNorm across processes */
    {"started_at", NULL, F_STRING, AT(started_at), 0},
    {"command", NULL, F_STRING, AT(command), 0},
};
#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

const char *const resume_may_change[] = {"epochs", "patience", "checkpoint-every", "threads",
                                         "out", "quiet", "profile", NULL};

/* The settings of resume_may_change (threads, out, quiet and profile are
 * not settings: they stay with the command). */
soma_status run_settings_resumed(const run_settings *recorded, run_settings *asked)
{
    soma_train_config keep = asked->train;
    run_settings_free(asked);
    SOMA_TRY(run_settings_copy(asked, recorded));
    asked->train.epochs = keep.epochs;
    asked->train.patience = keep.patience;
    asked->train.checkpoint_every = keep.checkpoint_every;
    asked->train.checkpoint_minutes = keep.checkpoint_minutes;
    return SOMA_OK;
}

#define FIELD(s, f, T) ((T *)((char *)(s) + (f)->offset))
#define CFIELD(s, f, T) ((const T *)((const char *)(s) + (f)->offset))

soma_status run_settings_set(char **slot, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    free(*slot);
    *slot = copy;
    return SOMA_OK;
}

soma_status run_settings_defaults(run_settings *s)
{
    memset(s, 0, sizeof *s);
    s->train = soma_train_defaults();
    s->val_split = 0.1;
    SOMA_TRY(run_settings_set(&s->data, "mnist"));
    return run_settings_set(&s->init, "he");
}

void run_settings_free(run_settings *s)
{
    for (int i = 0; i < NFIELDS; i++)
        if (fields[i].type == F_STRING)
            free(*FIELD(s, &fields[i], char *));
    memset(s, 0, sizeof *s);
}

soma_status run_settings_copy(run_settings *dst, const run_settings *src)
{
    *dst = *src;
    for (int i = 0; i < NFIELDS; i++)
        if (fields[i].type == F_STRING)
            *FIELD(dst, &fields[i], char *) = NULL;
    soma_status st = SOMA_OK;
    for (int i = 0; i < NFIELDS && st == SOMA_OK; i++)
        if (fields[i].type == F_STRING)
            st = run_settings_set(FIELD(dst, &fields[i], char *),
                                  *CFIELD(src, &fields[i], char *const));
    if (st != SOMA_OK)
        run_settings_free(dst);
    return st;
}

/* The shortest decimal that reads back as the same float (0.002, not 0.0020000001). */
static void float_text(float x, char *buf, size_t size)
{
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)x);
        if ((float)strtod(buf, NULL) == x)
            return;
    }
}

static void double_text(double x, char *buf, size_t size)
{
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* A field's value as JSON text (strings quoted) or, with `plain`, as a person reads it. */
static void field_text(const run_settings *s, const field *f, int plain, strbuf *out)
{
    char buf[64];
    switch (f->type) {
    case F_STRING: {
        const char *v = *CFIELD(s, f, char *const);
        if (plain)
            strbuf_append(out, v ? v : "(none)");
        else if (v)
            strbuf_append_json_string(out, v);
        else
            strbuf_append(out, "null");
        return;
    }
    case F_DOUBLE: double_text(*CFIELD(s, f, double), buf, sizeof buf); break;
    case F_FLOAT: float_text(*CFIELD(s, f, float), buf, sizeof buf); break;
    case F_INT: snprintf(buf, sizeof buf, "%d", *CFIELD(s, f, int)); break;
    case F_SEED: {
        /* JSON numbers are exact to 2^53; larger seeds go as strings */
        unsigned long long seed = *CFIELD(s, f, uint64_t);
        snprintf(buf, sizeof buf, plain || seed < (1ULL << 53) ? "%llu" : "\"%llu\"", seed);
        break;
    }
    case F_OPTIMIZER:
    case F_SCHEDULE: {
        const char *name = f->type == F_OPTIMIZER
                               ? soma_optimizer_name(*CFIELD(s, f, soma_optimizer_kind))
                               : soma_schedule_name(*CFIELD(s, f, soma_schedule));
        if (plain)
            strbuf_append(out, name);
        else
            strbuf_append_json_string(out, name);
        return;
    }
    }
    strbuf_append(out, buf);
}

/* Whether an optional field holds a value (a string, or a nonzero number). */
static int field_set(const run_settings *s, const field *f)
{
    return f->type == F_STRING ? *CFIELD(s, f, char *const) != NULL : *CFIELD(s, f, int) != 0;
}

char *run_settings_to_json(const run_settings *s)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "{");
    for (int i = 0; i < NFIELDS; i++) {
        if (fields[i].optional && !field_set(s, &fields[i]))
            continue; /* as runs before the setting existed recorded them */
        strbuf_appendf(&sb, "%s\"%s\": ", i ? ", " : "", fields[i].key);
        field_text(s, &fields[i], 0, &sb);
    }
    strbuf_append(&sb, "}");
    return strbuf_take(&sb);
}

void run_settings_option_text(const run_settings *s, const char *option, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    for (int i = 0; i < NFIELDS; i++)
        if (fields[i].option && strcmp(fields[i].option, option) == 0) {
            strbuf sb;
            strbuf_init(&sb);
            field_text(s, &fields[i], 1, &sb);
            snprintf(buf, size, "%s", sb.data ? sb.data : "");
            strbuf_free(&sb);
            return;
        }
}

static const field *find_field(const char *key)
{
    for (int i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

static soma_status read_seed(const json_value *v, const char *where, uint64_t *out)
{
    int64_t n;
    if (json_get_int64(v, &n) && n >= 0) {
        *out = (uint64_t)n;
        return SOMA_OK;
    }
    const char *text = json_string(v);
    char *end = NULL;
    unsigned long long x = text && *text >= '0' && *text <= '9' ? strtoull(text, &end, 10) : 0;
    if (!end || *end)
        return soma_error(SOMA_ERR_FORMAT, "%s: settings: 'seed' is not a whole number >= 0",
                          where);
    *out = x;
    return SOMA_OK;
}

static soma_status read_field(const field *f, const json_value *v, const char *where,
                              run_settings *s)
{
    double x = json_number(v);
    int64_t n;
    switch (f->type) {
    case F_STRING:
        if (json_typeof(v) != JSON_STRING && json_typeof(v) != JSON_NULL)
            break;
        return run_settings_set(FIELD(s, f, char *), json_string(v));
    case F_DOUBLE:
        if (!isfinite(x))
            break;
        *FIELD(s, f, double) = x;
        return SOMA_OK;
    case F_FLOAT:
        if (!isfinite(x) || fabs(x) > 3e38)
            break;
        *FIELD(s, f, float) = (float)x;
        return SOMA_OK;
    case F_INT:
        if (!json_get_int64(v, &n) || n < 0 || n > 1000000000)
            break;
        *FIELD(s, f, int) = (int)n;
        return SOMA_OK;
    case F_SEED: return read_seed(v, where, FIELD(s, f, uint64_t));
    case F_OPTIMIZER:
        if (!json_string(v) || soma_optimizer_parse(json_string(v),
                                                    FIELD(s, f, soma_optimizer_kind)) != SOMA_OK)
            break;
        return SOMA_OK;
    case F_SCHEDULE:
        if (!json_string(v) ||
            soma_schedule_parse(json_string(v), FIELD(s, f, soma_schedule)) != SOMA_OK)
            break;
        return SOMA_OK;
    }
    soma_error_clear();
    return soma_error(SOMA_ERR_FORMAT, "%s: settings: '%s' has a value out of range or of the "
                                       "wrong type",
                      where, f->key);
}

/* A recorded augmentation spec, checked and made canonical ("none": NULL). */
static soma_status canonical_augment(const char *where, char **spec)
{
    char *canonical = NULL;
    if (soma_augment_parse(*spec, &canonical) != SOMA_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", soma_last_error());
        return soma_error(SOMA_ERR_FORMAT, "%s: settings: 'augment': %s", where, message);
    }
    soma_status st = run_settings_set(spec, strcmp(canonical, "none") ? canonical : NULL);
    free(canonical);
    return st;
}

soma_status run_settings_from_json(const json_value *obj, const char *where, run_settings *s)
{
    if (json_typeof(obj) != JSON_OBJECT)
        return soma_error(SOMA_ERR_FORMAT, "%s: settings are not a JSON object", where);
    SOMA_TRY(run_settings_defaults(s));
    soma_status st = SOMA_OK;
    for (size_t i = 0; i < json_count(obj) && st == SOMA_OK; i++) {
        const field *f = find_field(json_key_at(obj, i));
        if (!f) {
            char key[64];
            str_sanitize(key, sizeof key, json_key_at(obj, i));
            st = soma_error(SOMA_ERR_FORMAT,
                            "%s: settings: unknown key '%s' (written by a newer soma?)", where,
                            key);
        } else {
            st = read_field(f, json_at(obj, i), where, s);
        }
    }
    for (int i = 0; i < NFIELDS && st == SOMA_OK; i++)
        if (!json_object_get(obj, fields[i].key) && !fields[i].optional &&
            fields[i].offset != AT(augment))
            st = soma_error(SOMA_ERR_FORMAT, "%s: settings: '%s' is missing", where,
                            fields[i].key);
    if (st == SOMA_OK && !s->model)
        st = soma_error(SOMA_ERR_FORMAT, "%s: settings: 'model' is null", where);
    if (st == SOMA_OK && s->augment)
        st = canonical_augment(where, &s->augment);
    if (st != SOMA_OK)
        run_settings_free(s);
    return st;
}

/* summary.json: its "settings" object. */
static soma_status load_summary(const char *path, run_settings *s)
{
    uint8_t *text;
    size_t len;
    SOMA_TRY(read_whole_file(path, SETTINGS_FILE_MAX, &text, &len));
    json_value *doc = NULL;
    soma_status st = json_parse((const char *)text, len, path, &doc);
    free(text);
    if (st != SOMA_OK)
        return st;
    const json_value *obj = json_object_get(doc, "settings");
    if (!obj)
        st = soma_error(SOMA_ERR_FORMAT, "%s: no \"settings\" object (not a summary.json of "
                                         "soma train?)",
                        path);
    else
        st = run_settings_from_json(obj, path, s);
    json_free(doc);
    return st;
}

static soma_status meta_count(const char *text, const char *path, const char *key, int *out)
{
    char *end = NULL;
    long v = text ? strtol(text, &end, 10) : -1;
    if (!text || end == text || *end || v < 0 || v > 1000000000)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing or not a count", path,
                          key);
    *out = (int)v;
    return SOMA_OK;
}

static soma_status load_checkpoint(const char *path, run_settings *s, run_position *pos)
{
    static const char *const keys[] = {"settings", "epoch", "step", "epochs_since_best"};
    char *values[4];
    SOMA_TRY(soma_checkpoint_metadata_get(path, keys, 4, values));
    soma_status st = SOMA_OK;
    if (!values[0]) {
        st = soma_error(SOMA_ERR_UNSUPPORTED, "%s: the checkpoint records no run settings "
                                              "(written by soma 0.1)",
                        path);
    } else {
        json_value *obj = NULL;
        char where[512];
        snprintf(where, sizeof where, "%s[settings]", path);
        st = json_parse(values[0], strlen(values[0]), where, &obj);
        if (st == SOMA_OK)
            st = run_settings_from_json(obj, where, s);
        json_free(obj);
    }
    if (st == SOMA_OK && pos) {
        st = meta_count(values[1], path, keys[1], &pos->epoch);
        if (st == SOMA_OK)
            st = meta_count(values[2], path, keys[2], &pos->step);
        if (st == SOMA_OK)
            st = meta_count(values[3], path, keys[3], &pos->epochs_since_best);
        if (st != SOMA_OK)
            run_settings_free(s);
    }
    for (int i = 0; i < 4; i++)
        free(values[i]);
    return st;
}

soma_status run_settings_load(const char *path, run_settings *s, run_position *pos)
{
    memset(s, 0, sizeof *s);
    if (pos)
        memset(pos, 0, sizeof *pos);
    /* a pipe can be read only once: it must be a summary.json */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode) && !pos)
        return load_summary(path, s);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int first = fgetc(fp);
    fclose(fp);
    /* a safetensors file starts with its 8-byte header length, JSON with '{' */
    if (first == '{' && !pos)
        return load_summary(path, s);
    return load_checkpoint(path, s, pos);
}

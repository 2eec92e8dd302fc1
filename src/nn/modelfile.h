/*
 * The model file format: one layer per line, "kind key=value ...", '#'
 * comments, blank lines ignored; the first entry is
 * "input channels=C height=H width=W". See docs/model-format.md.
 *
 * The parser checks syntax, layer kinds and key names (against each layer
 * class's key list); the layer classes check values and shapes through the
 * spec_* getters, which phrase errors as "file:line:col: message".
 */
#ifndef SOMA_NN_MODELFILE_H
#define SOMA_NN_MODELFILE_H

#include "core/error.h"
#include "nn/shape.h"
#include "soma.h"

#define SPEC_MAX_VALUES 16
#define SPEC_MAX_LAYERS SOMA_MAX_LAYERS
#define SPEC_KEY_LEN 32
#define SPEC_VALUE_LEN 64

typedef struct spec_value {
    char key[SPEC_KEY_LEN];
    char value[SPEC_VALUE_LEN];
    int line, col; /* of the value, 1-based */
} spec_value;

typedef struct layer_spec {
    char kind[SPEC_KEY_LEN];
    const char *file; /* for messages; points into model_spec.file */
    int line, col;    /* of the kind word */
    int nvalues;
    spec_value values[SPEC_MAX_VALUES];
} layer_spec;

typedef struct model_spec {
    char *file;  /* name used in messages */
    shape3 input;
    int nlayers;
    layer_spec *layers;
} model_spec;

/* Parses `text`; on error the message is "file:line:col: what is wrong". */
soma_status modelfile_parse(const char *text, const char *file, model_spec *out);
void model_spec_free(model_spec *spec);
/* Reads a model file (text, at most 1 MiB, no NUL bytes) and parses it with
 * `path` as the name in messages. On success *text holds the file's text
 * (free() it); on failure *text is NULL. */
soma_status modelfile_load(const char *path, model_spec *out, char **text);

/* Typed getters. A missing key takes `def`, unless `required`; values out of
 * [min, max] or not numbers are errors naming the value's position. */
soma_status spec_int(const layer_spec *s, const char *key, int required, int def, int min,
                     int max, int *out);
soma_status spec_float(const layer_spec *s, const char *key, int required, float def, float min,
                       float max, float *out);
/* An error at the layer's position: "file:line:col: <kind>: message". */
soma_status spec_error(const layer_spec *s, const char *fmt, ...) SOMA_PRINTF(2, 3);

#endif

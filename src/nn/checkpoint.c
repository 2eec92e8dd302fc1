#include "nn/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "nn/checkpoint_checks.h"
#include "nn/class_names.h"
#include "nn/modelfile.h"
#include "nn/normalization.h"

static void tensor_dims(const tensor_spec *t, int64_t *dims)
{
    for (int i = 0; i < t->ndim; i++)
        dims[i] = t->dims[i];
}

soma_status checkpoint_add_device_tensor(st_writer *w, const soma_backend *be, const char *name,
                                         int ndim, const int64_t *dims, const float *data,
                                         size_t n)
{
    float *host = malloc(n * sizeof *host + 1);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = be->download(host, data, n * sizeof *host);
    if (st == SOMA_OK)
        st = st_writer_add_f32(w, name, ndim, dims, host);
    free(host);
    return st;
}

soma_status checkpoint_load_device_tensor(const st_file *f, const soma_backend *be,
                                          const char *name, int ndim, const int64_t *dims,
                                          float *dst, size_t n)
{
    float *host = malloc(n * sizeof *host + 1);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = st_get_f32(f, name, ndim, dims, host);
    if (st == SOMA_OK)
        st = be->upload(dst, host, n * sizeof *host);
    free(host);
    return st;
}

soma_status checkpoint_add_model_meta(st_writer *w, const char *path, const soma_model *m)
{
    SOMA_TRY(st_writer_set_meta(w, "format", CHECKPOINT_FORMAT));
    SOMA_TRY(st_writer_set_meta(w, "soma_version", SOMA_VERSION));
    SOMA_TRY(st_writer_set_meta(w, "model", m->text));
    SOMA_TRY(st_writer_set_meta(w, "model_source", m->source));
    SOMA_TRY(class_names_write_meta(w, m));
    return normalization_write_meta(w, path, m);
}

soma_status checkpoint_add_model_tensors(st_writer *w, const soma_model *m,
                                         long long batches_tracked)
{
    named_tensor t;
    for (int i = 0; network_tensor(m, i, &t); i++) {
        int64_t dims[4];
        tensor_dims(t.spec, dims);
        SOMA_TRY(checkpoint_add_device_tensor(w, m->be, t.name, t.spec->ndim, dims, t.data,
                                              tensor_spec_count(t.spec)));
    }
    /* PyTorch's BatchNorm keeps a step counter; writing it lets a strict
     * load_state_dict accept the file as it is. */
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].cls->has_running_stats) {
            char name[64];
            int64_t tracked = batches_tracked;
            snprintf(name, sizeof name, "%d.num_batches_tracked", m->layers[i].index);
            SOMA_TRY(st_writer_add_i64(w, name, 0, NULL, &tracked));
        }
    return SOMA_OK;
}

soma_status checkpoint_load_weights(const st_file *f, const char *path, soma_model *m)
{
    named_tensor t;
    for (int i = 0; network_tensor(m, i, &t); i++) {
        int64_t dims[4];
        tensor_dims(t.spec, dims);
        SOMA_TRY(checkpoint_load_device_tensor(f, m->be, t.name, t.spec->ndim, dims, t.data,
                                               tensor_spec_count(t.spec)));
    }
    SOMA_TRY(class_names_read_meta(f, path, m));
    return normalization_read_meta(f, path, m);
}

/* The format's version, and the checksum that version must carry: a file
 * that soma wrote is never read unchecked. */
static soma_status check_format(st_file *f, const char *path)
{
    static const char family[] = "soma-checkpoint-";
    const char *format = st_meta(f, "format");
    if (!format || strncmp(format, family, sizeof family - 1) != 0)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: not a soma checkpoint (metadata 'format' is not '%s')", path,
                          CHECKPOINT_FORMAT);
    st_checksum have = st_checksum_of(f);
    if (strcmp(format, CHECKPOINT_FORMAT) == 0 && have != ST_CHECKSUM_FILE)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: has no checksum (metadata '%s' must open the header of a %s "
                          "file): it was damaged or edited",
                          path, ST_CRC_KEY, CHECKPOINT_FORMAT);
    if (strcmp(format, CHECKPOINT_FORMAT_V1) == 0 && have == ST_CHECKSUM_NONE)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: has no checksum (metadata '%s' of a %s file is missing): it was "
                          "damaged or edited",
                          path, ST_CHECKSUM_KEY, CHECKPOINT_FORMAT_V1);
    if (strcmp(format, CHECKPOINT_FORMAT) != 0 && strcmp(format, CHECKPOINT_FORMAT_V1) != 0) {
        char shown[64];
        str_sanitize(shown, sizeof shown, format);
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: format '%s' is not one this soma reads (%s, %s): written by a "
                          "newer soma?",
                          path, shown, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_V1);
    }
    return SOMA_OK;
}

soma_status checkpoint_open(const char *path, st_file **f)
{
    SOMA_TRY(st_read(path, f));
    soma_status st = check_format(*f, path);
    if (st == SOMA_OK)
        st = checkpoint_check_tensors(*f, path);
    if (st != SOMA_OK) {
        st_free(*f);
        *f = NULL;
    }
    return st;
}

/* Rebuilds the stored model; the file must hold every one of its parameters,
 * so a hostile model text cannot make us allocate more than the file holds. */
static soma_status model_from_checkpoint(const st_file *f, const char *path, size_t file_bytes,
                                         soma_model **out)
{
    *out = NULL;
    const char *text = st_meta(f, "model");
    if (!text)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata 'model' is missing", path);
    char name[512];
    snprintf(name, sizeof name, "%s[model]", path);
    model_spec spec;
    SOMA_TRY(modelfile_parse(text, name, &spec));
    soma_status st = network_build_limited(&spec, text, name, file_bytes / sizeof(float), out);
    model_spec_free(&spec);
    if (st == SOMA_OK)
        st = checkpoint_load_weights(f, path, *out);
    if (st != SOMA_OK) {
        soma_model_free(*out);
        *out = NULL;
    }
    return st;
}

soma_status checkpoint_load_model(const char *path, soma_model **out)
{
    *out = NULL;
    uint8_t *bytes;
    size_t len;
    SOMA_TRY(st_read_file(path, CHECKPOINT_MAX_BYTES, &bytes, &len));
    soma_status st = checkpoint_parse_model(bytes, len, path, out);
    free(bytes);
    return st;
}

soma_status checkpoint_parse_model(const uint8_t *bytes, size_t len, const char *name,
                                   soma_model **out)
{
    *out = NULL;
    st_file *f;
    SOMA_TRY(st_parse_memory(bytes, len, name, &f));
    soma_status st = check_format(f, name);
    if (st == SOMA_OK)
        st = checkpoint_check_tensors(f, name);
    if (st == SOMA_OK)
        st = model_from_checkpoint(f, name, len, out);
    st_free(f);
    return st;
}

soma_status soma_checkpoint_load_model(const char *path, soma_model **out)
{
    return checkpoint_load_model(path, out);
}

soma_status soma_checkpoint_save_model(const char *path, const soma_model *m)
{
    /* A model never initialised, trained or loaded has its default weights
     * (He, seed 1) all the same: they are made now, as its first use would. */
    SOMA_TRY(network_ensure_weights((soma_model *)m));
    st_writer *w = st_writer_create();
    if (!w)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = checkpoint_add_model_meta(w, path, m);
    if (st == SOMA_OK)
        st = checkpoint_add_model_tensors(w, m, 0);
    if (st == SOMA_OK)
        st = st_writer_save(w, path);
    st_writer_free(w);
    return st;
}

soma_status soma_checkpoint_metadata_get(const char *path, const char *const *keys, int n,
                                         char **values)
{
    if (n < 0 || (n > 0 && (!keys || !values)) || !path)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_checkpoint_metadata_get: no %s given",
                          !path ? "path" : n < 0 ? "count" : "keys or values");
    for (int i = 0; i < n; i++)
        values[i] = NULL;
    st_file *f;
    SOMA_TRY(st_read(path, &f));
    soma_status st = check_format(f, path); /* a damaged file's metadata is not shown */
    for (int i = 0; i < n && st == SOMA_OK; i++) {
        const char *v = st_meta(f, keys[i]);
        if (v && !(values[i] = strdup(v)))
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    st_free(f);
    if (st != SOMA_OK)
        for (int i = 0; i < n; i++) {
            free(values[i]);
            values[i] = NULL;
        }
    return st;
}

soma_status soma_checkpoint_metadata(const char *path, const char *key, char **value)
{
    if (!value)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_checkpoint_metadata: no output given");
    *value = NULL;
    if (!path || !key)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_checkpoint_metadata: no %s given",
                          path ? "key" : "path");
    return soma_checkpoint_metadata_get(path, &key, 1, value);
}

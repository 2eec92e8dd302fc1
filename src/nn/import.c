/*
 * Weights from elsewhere: a PyTorch state_dict saved as safetensors
 * (soma_model_import_safetensors) and another checkpoint's weights
 * (soma_model_load_weights, for fine-tuning).
 *
 * soma names and lays out its tensors as nn.Sequential does (conv weights
 * [out, in/groups, kh, kw], linear weights [out, in] after an NCHW flatten,
 * BatchNorm's running_mean and running_var), so an import is a matter of
 * names, dtypes and checks. Every problem of a file is found before any
 * weight changes and reported in one line, so that a user fixes them all
 * at once; on any error the model keeps the weights it had.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "io/float_convert.h"
#include "nn/checkpoint.h"
#include "nn/import.h"
#include "nn/import_names.h"
#include "nn/network.h"
#include "nn/normalization.h"

#define IMPORT_SHOWN_PROBLEMS 8

/* The problems of one import, counted all and the first few kept for the message. */
typedef struct problems {
    strbuf text;
    int count;
} problems;

static void problem(problems *p, const char *fmt, ...) SOMA_PRINTF(2, 3);
static void problem(problems *p, const char *fmt, ...)
{
    if (p->count++ >= IMPORT_SHOWN_PROBLEMS)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    strbuf_append(&p->text, p->count > 1 ? "; " : "");
    strbuf_append(&p->text, line);
}

/* One model tensor: where it lives and which layer it belongs to. */
typedef struct model_tensor {
    const layer *owner;
    const tensor_spec *spec;
    float *data; /* device memory */
    char name[64];
} model_tensor;

static int model_tensor_at(const soma_model *m, int i, model_tensor *out)
{
    for (int li = 0; li < m->nlayers; li++) {
        const layer *l = &m->layers[li];
        if (i < l->nparams + l->nbuffers) {
            int is_param = i < l->nparams;
            out->owner = l;
            out->spec = is_param ? &l->params[i] : &l->buffers[i - l->nparams];
            out->data = is_param ? l->param[i] : l->buffer[i - l->nparams];
            snprintf(out->name, sizeof out->name, "%d.%s", l->index, out->spec->name);
            return 1;
        }
        i -= l->nparams + l->nbuffers;
    }
    return 0;
}

static int same_shape(const st_tensor_info *t, const tensor_spec *spec)
{
    if (t->ndim != spec->ndim)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->dims[d] != spec->dims[d])
            return 0;
    return 1;
}

static void spec_shape(char *buf, size_t size, const tensor_spec *spec)
{
    int64_t dims[4];
    for (int d = 0; d < spec->ndim; d++)
        dims[d] = spec->dims[d];
    st_format_shape(buf, size, spec->ndim, dims);
}

/* BatchNorm's step counter: PyTorch saves it, soma has no use for it. */
static int is_batches_tracked(const char *renamed)
{
    const char *dot = strrchr(renamed, '.');
    return dot && strcmp(dot + 1, "num_batches_tracked") == 0;
}

/* A soma checkpoint's training state (optimizer.*, best.*): not weights, left alone. */
static int is_run_state(const st_file *f, const char *name)
{
    const char *format = st_meta(f, "format");
    return format && strncmp(format, "soma-checkpoint-", 16) == 0 &&
           (strncmp(name, "optimizer.", 10) == 0 || strncmp(name, "best.", 5) == 0);
}

/* Checks one model tensor against the file and converts it into `host`. */
static void take_tensor(const st_tensor_info *t, const model_tensor *mt, const char *shown,
                        float *host, problems *p)
{
    char want[96], have[96];
    spec_shape(want, sizeof want, mt->spec);
    if (!float_dtype_supported(t->dtype)) {
        problem(p, "tensor '%s' has dtype %s (F32, F16, BF16 or F64 are read)", shown,
                st_dtype_name(t->dtype));
        return;
    }
    if (!same_shape(t, mt->spec)) {
        st_format_shape(have, sizeof have, t->ndim, t->dims);
        problem(p, "tensor '%s' has shape %s, layer %d (%s) expects %s", shown, have,
                mt->owner->index, mt->owner->cls->name, want);
        return;
    }
    size_t n = tensor_spec_count(mt->spec);
    float_convert_array(t->dtype, t->data, n, host);
    int is_var = strcmp(mt->spec->name, "running_var") == 0;
    for (size_t i = 0; i < n; i++)
        if (!(host[i] - host[i] == 0.0f) || (is_var && host[i] < 0.0f)) {
            problem(p, "tensor '%s' holds %g at index %zu: %s", shown, (double)host[i], i,
                    is_var ? "a variance is finite and >= 0" : "weights must be finite");
            return;
        }
}

/* Stages every tensor of the model from the file (host floats, in model
 * tensor order), collecting the problems. */
static soma_status stage(const soma_model *m, const st_file *f, const char *path,
                         const import_names *names, float *host)
{
    problems p = {.count = 0};
    strbuf_init(&p.text);
    char *used = calloc((size_t)st_count(f) + 1, 1);
    if (!used)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    model_tensor mt;
    size_t at = 0;
    for (int i = 0; model_tensor_at(m, i, &mt); i++) {
        int index = import_names_find(names, mt.name);
        const st_tensor_info *t = index >= 0 ? st_tensor_at(f, index) : NULL;
        char want[96];
        spec_shape(want, sizeof want, mt.spec);
        if (!t) {
            problem(&p, "missing tensor '%s' (layer %d, %s, %s %s)", mt.name, mt.owner->index,
                    mt.owner->cls->name, mt.spec->name, want);
        } else {
            used[index] = 1;
            char shown[128];
            import_names_shown(names, f, index, shown, sizeof shown);
            take_tensor(t, &mt, shown, host + at, &p);
        }
        at += tensor_spec_count(mt.spec);
    }
    for (int i = 0; i < st_count(f); i++) {
        if (used[i] || is_batches_tracked(names->renamed[i]) || is_run_state(f, st_name(f, i)))
            continue;
        char shown[128], have[96];
        const st_tensor_info *t = st_tensor_at(f, i);
        import_names_shown(names, f, i, shown, sizeof shown);
        st_format_shape(have, sizeof have, t->ndim, t->dims);
        problem(&p, "unexpected tensor '%s' %s (the model has no such tensor)", shown, have);
    }
    int matched = 0;
    for (int i = 0; i < st_count(f); i++)
        matched += used[i];
    free(used);
    soma_status st = SOMA_OK;
    model_tensor first;
    if (matched == 0 && st_count(f) > 0 && model_tensor_at(m, 0, &first)) {
        char given[96];
        str_sanitize(given, sizeof given, st_name(f, 0));
        st = soma_error(SOMA_ERR_SHAPE,
                        "%s: no tensor name matches the model %s: the file has '%s' where the "
                        "model has '%s' (rename with FROM=TO renamings, soma import --map)",
                        path, m->source, given, first.name);
    } else if (p.count > 0) {
        char *text = strbuf_take(&p.text);
        if (p.count > IMPORT_SHOWN_PROBLEMS)
            st = soma_error(SOMA_ERR_SHAPE, "%s: %d problems with the model %s: %s; and %d more",
                            path, p.count, m->source, text ? text : "",
                            p.count - IMPORT_SHOWN_PROBLEMS);
        else
            st = soma_error(SOMA_ERR_SHAPE, "%s: %d problem%s with the model %s: %s", path,
                            p.count, p.count == 1 ? "" : "s", m->source, text ? text : "");
        free(text);
    }
    strbuf_free(&p.text);
    return st;
}

/* Uploads the staged tensors into the model's weights. */
static soma_status upload(soma_model *m, const float *host)
{
    model_tensor mt;
    size_t at = 0;
    for (int i = 0; model_tensor_at(m, i, &mt); i++) {
        size_t n = tensor_spec_count(mt.spec);
        SOMA_TRY(m->be->upload(mt.data, host + at, n * sizeof *host));
        at += n;
    }
    return SOMA_OK;
}

/* The weights of an open file, under the renaming, into the model. */
static soma_status import_file(soma_model *m, const st_file *f, const char *path,
                               const soma_name_map *map, int nmap)
{
    import_names names;
    SOMA_TRY(import_names_resolve(f, path, map, nmap, &names));
    /* the model's weights as they are (He from seed 1 when it has none yet), so
     * that a failure leaves them so */
    soma_status st = network_ensure_weights(m);
    float *host = st == SOMA_OK ? malloc((m->nparams + m->nbuffers) * sizeof *host + 1) : NULL;
    if (st == SOMA_OK && !host)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = stage(m, f, path, &names, host);
    if (st == SOMA_OK)
        st = upload(m, host);
    free(host);
    import_names_free(&names);
    return st;
}

/* torch.save writes a zip archive (or, before PyTorch 1.6, a pickle): say so
 * rather than what the safetensors reader makes of it. */
static soma_status explain_torch_save(soma_status st, const char *path)
{
    unsigned char head[4] = {0};
    FILE *fp = fopen(path, "rb");
    size_t got = fp ? fread(head, 1, sizeof head, fp) : 0;
    if (fp)
        fclose(fp);
    int zip = got == 4 && memcmp(head, "PK\3\4", 4) == 0;
    int pickle = got >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
    if (!zip && !pickle)
        return st;
    return soma_error(SOMA_ERR_FORMAT,
                      "%s: a file of torch.save (a %s), not safetensors: save the weights with "
                      "safetensors.torch.save_file(model.state_dict(), \"weights.safetensors\")",
                      path, zip ? "zip archive" : "pickle");
}

soma_status soma_model_import_safetensors(soma_model *model, const char *path,
                                          const soma_name_map *map, int nmap)
{
    if (!model || !path || nmap < 0 || (nmap > 0 && !map))
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_import_safetensors: no %s given",
                          !model ? "model" : !path ? "path" : "name map");
    st_file *f;
    soma_status st = st_read(path, &f);
    if (st != SOMA_OK)
        return explain_torch_save(st, path);
    st = import_file(model, f, path, map, nmap);
    st_free(f);
    return st;
}

soma_status import_safetensors_memory(soma_model *model, const uint8_t *bytes, size_t len,
                                      const char *name, const soma_name_map *map, int nmap)
{
    st_file *f;
    SOMA_TRY(st_parse_memory(bytes, len, name, &f));
    soma_status st = import_file(model, f, name, map, nmap);
    st_free(f);
    return st;
}

soma_status soma_model_load_weights(soma_model *model, const char *checkpoint)
{
    if (!model || !checkpoint)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_load_weights: no %s given",
                          model ? "checkpoint" : "model");
    st_file *f;
    SOMA_TRY(checkpoint_open(checkpoint, &f));
    /* the first layer that does not fit, named, before anything changes */
    model_tensor mt;
    soma_status st = SOMA_OK;
    for (int i = 0; st == SOMA_OK && model_tensor_at(model, i, &mt); i++) {
        const st_tensor_info *t = st_find(f, mt.name);
        char want[96], have[96];
        spec_shape(want, sizeof want, mt.spec);
        if (!t)
            st = soma_error(SOMA_ERR_SHAPE,
                            "%s: layer %d (%s) of %s does not fit: the checkpoint has no '%s' %s",
                            checkpoint, mt.owner->index, mt.owner->cls->name, model->source,
                            mt.name, want);
        else if (t->dtype != ST_F32 || !same_shape(t, mt.spec)) {
            st_format_shape(have, sizeof have, t->ndim, t->dims);
            st = soma_error(SOMA_ERR_SHAPE,
                            "%s: layer %d (%s) of %s does not fit: '%s' is %s %s in the "
                            "checkpoint, the model's is F32 %s",
                            checkpoint, mt.owner->index, mt.owner->cls->name, model->source,
                            mt.name, st_dtype_name(t->dtype), have, want);
        }
    }
    if (st == SOMA_OK)
        st = network_ensure_weights(model);
    if (st == SOMA_OK)
        st = checkpoint_load_weights(f, checkpoint, model);
    st_free(f);
    return st;
}

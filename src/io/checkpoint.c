#include "io/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "io/atomic_file.h"
#include "io/checkpoint_checks.h"
#include "io/safetensors.h"

static void tensor_dims(const tensor_spec *t, int64_t *dims)
{
    for (int i = 0; i < t->ndim; i++)
        dims[i] = t->dims[i];
}

/* Device -> host copy, then into the writer. */
static soma_status add_device_tensor(st_writer *w, const soma_backend *be, const char *name,
                                     int ndim, const int64_t *dims, const float *data, size_t n)
{
    float *host = malloc(n * sizeof *host + 1);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    be->download(host, data, n * sizeof *host);
    soma_status st = st_writer_add_f32(w, name, ndim, dims, host);
    free(host);
    return st;
}

static soma_status set_meta_fmt(st_writer *w, const char *key, const char *fmt, ...)
    SOMA_PRINTF(3, 4);
static soma_status set_meta_fmt(st_writer *w, const char *key, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return st_writer_set_meta(w, key, buf);
}

/* A command line holds file names, which may be any bytes: stored as UTF-8,
 * the other bytes as \xNN, so that no name keeps a run from its checkpoint. */
static soma_status set_meta_escaped(st_writer *w, const char *key, const char *value)
{
    char *text = utf8_escaped(value);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = st_writer_set_meta(w, key, text);
    free(text);
    return st;
}

static soma_status write_meta(st_writer *w, const soma_model *m, optimizer *opt,
                              const run_state *rs, const soma_train_config *cfg)
{
    SOMA_TRY(st_writer_set_meta(w, "format", CHECKPOINT_FORMAT));
    SOMA_TRY(st_writer_set_meta(w, "soma_version", SOMA_VERSION));
    SOMA_TRY(st_writer_set_meta(w, "model", m->text));
    SOMA_TRY(st_writer_set_meta(w, "model_source", m->source));
    /* %.9g round-trips a float exactly */
    SOMA_TRY(set_meta_fmt(w, "norm_mean", "%.9g", m->norm_mean));
    SOMA_TRY(set_meta_fmt(w, "norm_std", "%.9g", m->norm_std));
    if (opt) {
        const soma_optimizer_config *c = &opt->cfg;
        SOMA_TRY(st_writer_set_meta(w, "optimizer", soma_optimizer_name(c->kind)));
        SOMA_TRY(set_meta_fmt(w, "optimizer.t", "%lld", opt->t));
        SOMA_TRY(set_meta_fmt(w, "optimizer.lr", "%.9g", c->lr));
        SOMA_TRY(set_meta_fmt(w, "optimizer.momentum", "%.9g", c->momentum));
        SOMA_TRY(set_meta_fmt(w, "optimizer.alpha", "%.9g", c->alpha));
        SOMA_TRY(set_meta_fmt(w, "optimizer.beta1", "%.9g", c->beta1));
        SOMA_TRY(set_meta_fmt(w, "optimizer.beta2", "%.9g", c->beta2));
        SOMA_TRY(set_meta_fmt(w, "optimizer.eps", "%.9g", c->eps));
        SOMA_TRY(set_meta_fmt(w, "optimizer.weight_decay", "%.9g", c->weight_decay));
    }
    if (rs) {
        SOMA_TRY(set_meta_fmt(w, "seed", "%" PRIu64, rs->seed));
        SOMA_TRY(set_meta_fmt(w, "epoch", "%d", rs->epoch));
        SOMA_TRY(set_meta_fmt(w, "step", "%d", rs->step));
        SOMA_TRY(set_meta_fmt(w, "global_step", "%lld", rs->global_step));
        SOMA_TRY(set_meta_fmt(w, "best_epoch", "%d", rs->best_epoch));
        SOMA_TRY(set_meta_fmt(w, "best_val_accuracy", "%.17g", rs->best_val_accuracy));
        SOMA_TRY(set_meta_fmt(w, "best_val_loss", "%.17g", rs->best_val_loss));
        SOMA_TRY(set_meta_fmt(w, "epochs_since_best", "%d", rs->epochs_since_best));
        SOMA_TRY(set_meta_fmt(w, "epoch_loss_sum", "%.17g", rs->epoch_loss_sum));
        SOMA_TRY(set_meta_fmt(w, "epoch_correct", "%lld", rs->epoch_correct));
        SOMA_TRY(set_meta_fmt(w, "epoch_seen", "%lld", rs->epoch_seen));
        SOMA_TRY(set_meta_fmt(w, "seconds", "%.17g", rs->seconds));
    }
    if (cfg) {
        SOMA_TRY(set_meta_fmt(w, "batch", "%d", cfg->batch));
        SOMA_TRY(set_meta_fmt(w, "epochs", "%d", cfg->epochs));
        SOMA_TRY(set_meta_fmt(w, "threads", "%d", soma_get_threads()));
        if (cfg->command)
            SOMA_TRY(set_meta_escaped(w, "command", cfg->command));
        if (cfg->settings)
            SOMA_TRY(st_writer_set_meta(w, "settings", cfg->settings));
    }
    return SOMA_OK;
}

soma_status checkpoint_save(const char *path, const soma_model *m, optimizer *opt,
                            const run_state *rs, const soma_train_config *cfg)
{
    char why[160];
    if (!checkpoint_normalization_ok(m->norm_mean, m->norm_std, why, sizeof why))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: not saved: the model's input normalisation %s (train the model "
                          "or set it with soma_model_set_normalization)",
                          path, why);
    st_writer *w = st_writer_create();
    if (!w)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = write_meta(w, m, opt, rs, cfg);
    named_tensor t;
    for (int i = 0; st == SOMA_OK && network_tensor(m, i, &t); i++) {
        int64_t dims[4];
        tensor_dims(t.spec, dims);
        st = add_device_tensor(w, m->be, t.name, t.spec->ndim, dims, t.data,
                               tensor_spec_count(t.spec));
    }
    /* PyTorch's BatchNorm keeps a step counter; writing it lets a strict
     * load_state_dict accept the file as it is. */
    for (int i = 0; st == SOMA_OK && i < m->nlayers; i++)
        if (strcmp(m->layers[i].cls->name, "batchnorm") == 0) {
            char name[64];
            int64_t tracked = rs ? rs->global_step : 0;
            snprintf(name, sizeof name, "%d.num_batches_tracked", m->layers[i].index);
            st = st_writer_add_i64(w, name, 0, NULL, &tracked);
        }
    for (int i = 0; opt && st == SOMA_OK && i < optimizer_state_count(opt->cfg.kind); i++) {
        char name[64];
        snprintf(name, sizeof name, "optimizer.%s", optimizer_state_name(opt->cfg.kind, i));
        int64_t dims[1] = {(int64_t)opt->n};
        st = add_device_tensor(w, m->be, name, 1, dims, optimizer_state(opt, i), opt->n);
    }
    if (rs && rs->best_params && rs->best_epoch > 0 &&
        !(rs->best_epoch == rs->epoch && rs->step == 0)) {
        int64_t np[1] = {(int64_t)m->nparams}, nb[1] = {(int64_t)m->nbuffers};
        if (st == SOMA_OK)
            st = st_writer_add_f32(w, "best.params", 1, np, rs->best_params);
        if (st == SOMA_OK)
            st = st_writer_add_f32(w, "best.buffers", 1, nb, rs->best_buffers);
    }
    if (st == SOMA_OK)
        st = st_writer_save(w, path);
    st_writer_free(w);
    return st;
}

/* Strict number parsing of a metadata value. */
static soma_status meta_number(const st_file *f, const char *path, const char *key,
                               double *out)
{
    const char *v = st_meta(f, key);
    if (!v)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || *end || errno == ERANGE)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not a number: '%.40s'", path,
                          key, v);
    return SOMA_OK;
}

static soma_status meta_int(const st_file *f, const char *path, const char *key, double min,
                            double max, long long *out)
{
    double v = 0.0;
    SOMA_TRY(meta_number(f, path, key, &v));
    if (!(v >= min && v <= max) || v != floor(v))
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' = %g is out of range", path, key,
                          v);
    *out = (long long)v;
    return SOMA_OK;
}

/* 64-bit integers do not survive a trip through double: parse the text. */
static soma_status meta_u64(const st_file *f, const char *path, const char *key, uint64_t *out)
{
    const char *v = st_meta(f, key);
    if (!v)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || errno == ERANGE || v[0] == '-')
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not an unsigned integer", path,
                          key);
    *out = (uint64_t)x;
    return SOMA_OK;
}

static soma_status load_device_tensor(const st_file *f, const soma_backend *be,
                                      const char *name, int ndim, const int64_t *dims,
                                      float *dst, size_t n)
{
    float *host = malloc(n * sizeof *host + 1);
    if (!host)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = st_get_f32(f, name, ndim, dims, host);
    if (st == SOMA_OK)
        be->upload(dst, host, n * sizeof *host);
    free(host);
    return st;
}

static soma_status load_weights(const st_file *f, const char *path, soma_model *m)
{
    named_tensor t;
    for (int i = 0; network_tensor(m, i, &t); i++) {
        int64_t dims[4];
        tensor_dims(t.spec, dims);
        SOMA_TRY(load_device_tensor(f, m->be, t.name, t.spec->ndim, dims, t.data,
                                    tensor_spec_count(t.spec)));
    }
    double mean, std;
    SOMA_TRY(meta_number(f, path, "norm_mean", &mean));
    SOMA_TRY(meta_number(f, path, "norm_std", &std));
    char why[160];
    if (!checkpoint_normalization_ok(mean, std, why, sizeof why))
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata %s", path, why);
    m->norm_mean = (float)mean;
    m->norm_std = (float)std;
    return SOMA_OK;
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

static soma_status open_checkpoint(const char *path, st_file **f)
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
        st = load_weights(f, path, *out);
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

static soma_status restore_state(const st_file *f, const char *path, optimizer *opt,
                                 run_state *rs, soma_train_config const *cfg, soma_model *m)
{
    const char *kind = st_meta(f, "optimizer");
    if (!kind || strcmp(kind, soma_optimizer_name(opt->cfg.kind)) != 0)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: the checkpoint was trained with optimizer '%s', not '%s'", path,
                          kind ? kind : "(none)", soma_optimizer_name(opt->cfg.kind));
    long long v;
    SOMA_TRY(meta_int(f, path, "batch", 1, 1 << 20, &v));
    if (v != cfg->batch)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: the checkpoint was trained with batch %lld, not %d", path, v,
                          cfg->batch);
    SOMA_TRY(meta_int(f, path, "optimizer.t", 0, 1e15, &opt->t));
    for (int i = 0; i < optimizer_state_count(opt->cfg.kind); i++) {
        char name[64];
        snprintf(name, sizeof name, "optimizer.%s", optimizer_state_name(opt->cfg.kind, i));
        int64_t dims[1] = {(int64_t)opt->n};
        SOMA_TRY(load_device_tensor(f, m->be, name, 1, dims, optimizer_state(opt, i), opt->n));
    }
    SOMA_TRY(meta_u64(f, path, "seed", &rs->seed));
    SOMA_TRY(meta_int(f, path, "epoch", 0, 1e9, &v));
    rs->epoch = (int)v;
    SOMA_TRY(meta_int(f, path, "step", 0, 1e9, &v));
    rs->step = (int)v;
    SOMA_TRY(meta_int(f, path, "global_step", 0, 1e15, &rs->global_step));
    SOMA_TRY(meta_int(f, path, "best_epoch", 0, 1e9, &v));
    rs->best_epoch = (int)v;
    SOMA_TRY(meta_int(f, path, "epochs_since_best", 0, 1e9, &v));
    rs->epochs_since_best = (int)v;
    SOMA_TRY(meta_number(f, path, "best_val_accuracy", &rs->best_val_accuracy));
    rs->best_val_loss = NAN; /* absent from files of soma 0.1 */
    if (st_meta(f, "best_val_loss"))
        SOMA_TRY(meta_number(f, path, "best_val_loss", &rs->best_val_loss));
    SOMA_TRY(meta_number(f, path, "epoch_loss_sum", &rs->epoch_loss_sum));
    SOMA_TRY(meta_int(f, path, "epoch_correct", 0, 1e15, &rs->epoch_correct));
    SOMA_TRY(meta_int(f, path, "epoch_seen", 0, 1e15, &rs->epoch_seen));
    SOMA_TRY(meta_number(f, path, "seconds", &rs->seconds));
    rs->best_loaded = 0;
    if (rs->best_params && st_find(f, "best.params")) {
        int64_t np[1] = {(int64_t)m->nparams}, nb[1] = {(int64_t)m->nbuffers};
        SOMA_TRY(st_get_f32(f, "best.params", 1, np, rs->best_params));
        SOMA_TRY(st_get_f32(f, "best.buffers", 1, nb, rs->best_buffers));
        rs->best_loaded = 1;
    }
    return SOMA_OK;
}

soma_status checkpoint_restore(const char *path, soma_model *m, optimizer *opt, run_state *rs,
                               const soma_train_config *cfg)
{
    st_file *f;
    SOMA_TRY(open_checkpoint(path, &f));
    const char *text = st_meta(f, "model");
    soma_status st = SOMA_OK;
    if (!text || strcmp(text, m->text) != 0)
        st = soma_error(SOMA_ERR_ARGUMENT,
                        "%s: the checkpoint holds a different model than %s", path, m->source);
    if (st == SOMA_OK)
        st = load_weights(f, path, m);
    if (st == SOMA_OK)
        st = restore_state(f, path, opt, rs, cfg, m);
    long long epochs = 0;
    if (st == SOMA_OK)
        st = meta_int(f, path, "epochs", 1, 1e6, &epochs);
    if (st == SOMA_OK)
        st = checkpoint_check_run_state(path, rs, opt->t, cfg->batch, epochs);
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
    return checkpoint_save(path, m, NULL, NULL, NULL);
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

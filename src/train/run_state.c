/*
 * The run state in a checkpoint: the optimizer's settings and state tensors,
 * the run's position and early-stopping state, and the training settings,
 * written beside the model's part (nn/checkpoint.h).
 */
#include "train/run_state.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "nn/checkpoint.h"
#include "train/run_state_checks.h"

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

static soma_status write_meta(st_writer *w, const char *path, const soma_model *m,
                              optimizer *opt, const run_state *rs, const soma_train_config *cfg)
{
    SOMA_TRY(checkpoint_add_model_meta(w, path, m));
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
        SOMA_TRY(set_meta_fmt(w, "threads", "%d", soma_threads()));
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
    st_writer *w = st_writer_create();
    if (!w)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = write_meta(w, path, m, opt, rs, cfg);
    if (st == SOMA_OK)
        st = checkpoint_add_model_tensors(w, m, rs ? rs->global_step : 0);
    for (int i = 0; opt && st == SOMA_OK && i < optimizer_state_count(opt->cfg.kind); i++) {
        char name[64];
        snprintf(name, sizeof name, "optimizer.%s", optimizer_state_name(opt->cfg.kind, i));
        int64_t dims[1] = {(int64_t)opt->n};
        st = checkpoint_add_device_tensor(w, m->be, name, 1, dims, optimizer_state(opt, i),
                                          opt->n);
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

static soma_status restore_state(const st_file *f, const char *path, optimizer *opt,
                                 run_state *rs, soma_train_config const *cfg, soma_model *m)
{
    const char *kind = st_meta(f, "optimizer");
    if (!kind || strcmp(kind, soma_optimizer_name(opt->cfg.kind)) != 0)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: the checkpoint was trained with optimizer '%s', not '%s'", path,
                          kind ? kind : "(none)", soma_optimizer_name(opt->cfg.kind));
    long long v;
    SOMA_TRY(st_meta_int(f, path, "batch", 1, 1 << 20, &v));
    if (v != cfg->batch)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: the checkpoint was trained with batch %lld, not %d", path, v,
                          cfg->batch);
    SOMA_TRY(st_meta_int(f, path, "optimizer.t", 0, 1e15, &opt->t));
    for (int i = 0; i < optimizer_state_count(opt->cfg.kind); i++) {
        char name[64];
        snprintf(name, sizeof name, "optimizer.%s", optimizer_state_name(opt->cfg.kind, i));
        int64_t dims[1] = {(int64_t)opt->n};
        SOMA_TRY(checkpoint_load_device_tensor(f, m->be, name, 1, dims, optimizer_state(opt, i),
                                               opt->n));
    }
    SOMA_TRY(st_meta_u64(f, path, "seed", &rs->seed));
    SOMA_TRY(st_meta_int(f, path, "epoch", 0, 1e9, &v));
    rs->epoch = (int)v;
    SOMA_TRY(st_meta_int(f, path, "step", 0, 1e9, &v));
    rs->step = (int)v;
    SOMA_TRY(st_meta_int(f, path, "global_step", 0, 1e15, &rs->global_step));
    SOMA_TRY(st_meta_int(f, path, "best_epoch", 0, 1e9, &v));
    rs->best_epoch = (int)v;
    SOMA_TRY(st_meta_int(f, path, "epochs_since_best", 0, 1e9, &v));
    rs->epochs_since_best = (int)v;
    SOMA_TRY(st_meta_number(f, path, "best_val_accuracy", &rs->best_val_accuracy));
    rs->best_val_loss = NAN; /* absent from files of soma 0.1 */
    if (st_meta(f, "best_val_loss"))
        SOMA_TRY(st_meta_number(f, path, "best_val_loss", &rs->best_val_loss));
    SOMA_TRY(st_meta_number(f, path, "epoch_loss_sum", &rs->epoch_loss_sum));
    SOMA_TRY(st_meta_int(f, path, "epoch_correct", 0, 1e15, &rs->epoch_correct));
    SOMA_TRY(st_meta_int(f, path, "epoch_seen", 0, 1e15, &rs->epoch_seen));
    SOMA_TRY(st_meta_number(f, path, "seconds", &rs->seconds));
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
    SOMA_TRY(checkpoint_open(path, &f));
    const char *text = st_meta(f, "model");
    soma_status st = SOMA_OK;
    if (!text || strcmp(text, m->text) != 0)
        st = soma_error(SOMA_ERR_ARGUMENT,
                        "%s: the checkpoint holds a different model than %s", path, m->source);
    if (st == SOMA_OK)
        st = checkpoint_load_weights(f, path, m);
    if (st == SOMA_OK)
        st = restore_state(f, path, opt, rs, cfg, m);
    long long epochs = 0;
    if (st == SOMA_OK)
        st = st_meta_int(f, path, "epochs", 1, 1e6, &epochs);
    if (st == SOMA_OK)
        st = checkpoint_check_run_state(path, rs, opt->t, cfg->batch, epochs);
    st_free(f);
    return st;
}


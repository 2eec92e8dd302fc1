#include "io/checkpoint_checks.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"

/* Optimizer states that accumulate squares (AdaGrad, RMSProp, Adam/AdamW). */
static const char *const squares_states[] = {"optimizer.sum", "optimizer.square_avg",
                                             "optimizer.exp_avg_sq"};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* What a tensor holds when it may not be negative, or NULL. */
static const char *nonnegative_kind(const char *name)
{
    if (ends_with(name, ".running_var"))
        return "a variance";
    for (size_t i = 0; i < sizeof squares_states / sizeof squares_states[0]; i++)
        if (strcmp(name, squares_states[i]) == 0)
            return "a sum of squares";
    return NULL;
}

soma_status checkpoint_check_tensors(const st_file *f, const char *path)
{
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor_info *t = st_tensor_at(f, i);
        if (t->dtype != ST_F32)
            continue;
        const char *kind = nonnegative_kind(t->name);
        for (size_t k = 0; k < t->nbytes / sizeof(float); k++) {
            float v;
            memcpy(&v, t->data + k * sizeof v, sizeof v); /* may be unaligned */
            if (isfinite(v) && !(kind && v < 0.0f))
                continue;
            char shown[80];
            str_sanitize(shown, sizeof shown, t->name);
            if (!isfinite(v))
                return soma_error(SOMA_ERR_FORMAT,
                                  "%s: tensor '%s' holds %g at index %zu: a checkpoint holds "
                                  "only finite values",
                                  path, shown, (double)v, k);
            return soma_error(SOMA_ERR_FORMAT,
                              "%s: tensor '%s' holds %g at index %zu, but it is %s, never "
                              "negative",
                              path, shown, (double)v, k, kind);
        }
    }
    return SOMA_OK;
}

int checkpoint_normalization_ok(double mean, double std, char *why, size_t size)
{
    /* the model keeps floats: a std that is a double but not a normal float
     * would scale the inputs to infinity */
    float s = (float)std;
    if (!(isfinite(s) && s >= FLT_MIN)) {
        snprintf(why, size, "'norm_std' = %g is not a positive finite number", std);
        return 0;
    }
    if (!(mean >= 0.0 && mean <= 1.0)) {
        snprintf(why, size,
                 "'norm_mean' = %g is outside [0, 1], where the mean of pixels scaled to "
                 "[0, 1] lies",
                 mean);
        return 0;
    }
    return 1;
}

soma_status checkpoint_check_run_state(const char *path, const run_state *rs,
                                       long long optimizer_steps, int batch, long long epochs)
{
    if (rs->epoch > epochs)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata 'epoch' = %d is past 'epochs' = %lld",
                          path, rs->epoch, epochs);
    if (rs->global_step < (long long)rs->epoch + rs->step)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'global_step' = %lld is fewer than 'epoch' = %d plus "
                          "'step' = %d (every epoch takes a step)",
                          path, rs->global_step, rs->epoch, rs->step);
    if (optimizer_steps != rs->global_step)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'optimizer.t' = %lld differs from 'global_step' = %lld "
                          "(one optimizer step per training step)",
                          path, optimizer_steps, rs->global_step);
    if (rs->epoch_seen > (long long)rs->step * batch)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'epoch_seen' = %lld is more than 'step' = %d steps of "
                          "batch %d see",
                          path, rs->epoch_seen, rs->step, batch);
    if (rs->epoch_correct > rs->epoch_seen)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'epoch_correct' = %lld is more than 'epoch_seen' = %lld",
                          path, rs->epoch_correct, rs->epoch_seen);
    if (!(isfinite(rs->epoch_loss_sum) && rs->epoch_loss_sum >= 0.0))
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'epoch_loss_sum' = %g is not a finite sum of losses >= 0",
                          path, rs->epoch_loss_sum);
    if (!(isfinite(rs->seconds) && rs->seconds >= 0.0))
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata 'seconds' = %g is not a time >= 0", path,
                          rs->seconds);
    if (rs->best_epoch > rs->epoch || rs->epochs_since_best > rs->epoch)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'best_epoch' = %d or 'epochs_since_best' = %d is past "
                          "'epoch' = %d",
                          path, rs->best_epoch, rs->epochs_since_best, rs->epoch);
    if (!isnan(rs->best_val_accuracy) &&
        !(rs->best_val_accuracy >= 0.0 && rs->best_val_accuracy <= 1.0))
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'best_val_accuracy' = %g is not in [0, 1] (nor nan)",
                          path, rs->best_val_accuracy);
    return SOMA_OK;
}

soma_status checkpoint_check_position(const char *path, const run_state *rs, int train_images,
                                      int batch)
{
    long long steps = ((long long)train_images + batch - 1) / batch;
    /* step == steps: stopped after an epoch's last step, before its end */
    if (rs->step > steps)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'step' = %d is past the end of an epoch (%lld steps of "
                          "batch %d over %d training images): was the checkpoint made on other "
                          "data?",
                          path, rs->step, steps, batch, train_images);
    if (rs->global_step != rs->epoch * steps + rs->step)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'global_step' = %lld does not match 'epoch' = %d and "
                          "'step' = %d at %lld steps per epoch (batch %d, %d training images): "
                          "was the checkpoint made on other data?",
                          path, rs->global_step, rs->epoch, rs->step, steps, batch, train_images);
    long long seen = (long long)rs->step * batch;
    if (seen > train_images)
        seen = train_images;
    if (rs->epoch_seen != seen)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'epoch_seen' = %lld, but 'step' = %d steps of batch %d "
                          "see %lld of the %d training images",
                          path, rs->epoch_seen, rs->step, batch, seen, train_images);
    return SOMA_OK;
}

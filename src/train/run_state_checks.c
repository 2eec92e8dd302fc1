#include "train/run_state_checks.h"

#include <math.h>

#include "core/error.h"

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

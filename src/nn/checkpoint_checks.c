#include "nn/checkpoint_checks.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"

/* Optimizer states that accumulate squares (AdaGrad, RMSProp, Adam/AdamW),
 * by the names optim/optimizer.c gives them: checked here, with the rest of
 * the file, so that loading only the model refuses what a resume refuses. */
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

int checkpoint_normalization_ok(double mean, double std, int channel, char *why, size_t size)
{
    char which[16] = "";
    if (channel >= 0)
        snprintf(which, sizeof which, " channel %d", channel);
    /* the model keeps floats: a std that is a double but not a normal float
     * would scale the inputs to infinity */
    float s = (float)std;
    if (!(isfinite(s) && s >= FLT_MIN)) {
        snprintf(why, size, "'norm_std'%s = %g is not a positive finite number", which, std);
        return 0;
    }
    if (!(mean >= 0.0 && mean <= 1.0)) {
        snprintf(why, size,
                 "'norm_mean'%s = %g is outside [0, 1], where the mean of pixels scaled to "
                 "[0, 1] lies",
                 which, mean);
        return 0;
    }
    return 1;
}

/* Learning-rate schedules: step decay (PyTorch StepLR per epoch), cosine
 * annealing per step to 0 (CosineAnnealingLR, eta_min 0), linear warm-up. */
#include "optim/schedule.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

static const char *const schedule_names[] = {
    [SOMA_SCHEDULE_CONST] = "const",
    [SOMA_SCHEDULE_STEP] = "step",
    [SOMA_SCHEDULE_COSINE] = "cosine",
};
#define SCHEDULE_KINDS ((int)(sizeof schedule_names / sizeof schedule_names[0]))

/* M_PI is not ISO C */
static const double pi = 3.14159265358979323846;

static double scheduled_lr(const soma_train_config *cfg, long long step, long long spe)
{
    const double lr = cfg->opt.lr;
    switch (cfg->schedule) {
    case SOMA_SCHEDULE_CONST: break;
    case SOMA_SCHEDULE_STEP: {
        if (cfg->step_epochs <= 0)
            break;
        long long epoch = step / spe;
        return lr * pow((double)cfg->step_gamma, (double)(epoch / cfg->step_epochs));
    }
    case SOMA_SCHEDULE_COSINE: {
        long long total = (long long)cfg->epochs * spe;
        if (total <= 0)
            break;
        if (step > total)
            step = total; /* past the end: stay at 0 */
        return 0.5 * lr * (1.0 + cos(pi * (double)step / (double)total));
    }
    }
    return lr;
}

double schedule_lr(const soma_train_config *cfg, long long step, long long steps_per_epoch)
{
    if (steps_per_epoch < 1)
        steps_per_epoch = 1;
    if (step < 0)
        step = 0;
    double lr = scheduled_lr(cfg, step, steps_per_epoch);
    if (cfg->warmup_epochs > 0.0f) {
        long long warmup_steps = llround((double)cfg->warmup_epochs * (double)steps_per_epoch);
        if (warmup_steps < 1)
            warmup_steps = 1;
        if (step < warmup_steps)
            lr *= (double)(step + 1) / (double)warmup_steps;
    }
    return lr;
}

soma_status schedule_check(const soma_train_config *cfg)
{
    if ((int)cfg->schedule < 0 || (int)cfg->schedule >= SCHEDULE_KINDS)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "schedule: unknown kind %d (valid: const, step, cosine)",
                          (int)cfg->schedule);
    if (cfg->schedule == SOMA_SCHEDULE_STEP) {
        if (cfg->step_epochs < 1)
            return soma_error(SOMA_ERR_ARGUMENT, "schedule step: step_epochs must be >= 1, got %d",
                              cfg->step_epochs);
        /* the factor lr is multiplied by; 10 meaning "divide by 10" is a mistake */
        if (!(cfg->step_gamma > 0.0f && cfg->step_gamma <= 1.0f))
            return soma_error(SOMA_ERR_ARGUMENT,
                              "schedule step: step_gamma must be in (0, 1], got %g",
                              (double)cfg->step_gamma);
    }
    if (!(cfg->warmup_epochs >= 0.0f) || !isfinite(cfg->warmup_epochs))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "schedule: warmup_epochs must be >= 0 and finite, got %g",
                          (double)cfg->warmup_epochs);
    return SOMA_OK;
}

soma_status soma_schedule_parse(const char *name, soma_schedule *out)
{
    for (int s = 0; name && s < SCHEDULE_KINDS; s++) {
        if (strcmp(name, schedule_names[s]) == 0) {
            *out = (soma_schedule)s;
            return SOMA_OK;
        }
    }
    return soma_error(SOMA_ERR_ARGUMENT, "unknown schedule '%s' (valid: const, step, cosine)",
                      name ? name : "(null)");
}

const char *soma_schedule_name(soma_schedule s)
{
    return (int)s >= 0 && (int)s < SCHEDULE_KINDS ? schedule_names[s] : "unknown";
}

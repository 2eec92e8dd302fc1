/*
 * The progress report's `saving` (soma.h): 1 exactly when a checkpoint is
 * written as the callback returns: each checkpoint_every-th step (not the
 * epoch's last, whose end saves) and every epoch-end report. A stop asked
 * for in the callback (soma_request_stop or config.stop) still ends the run
 * after that step, as soma_train promises.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/check.h"
#include "support/synthetic.h"

static const char *model_text = "input channels=1 height=8 width=8\n"
                                "conv2d filters=4 size=3 pad=1\nrelu\nmaxpool size=2\n"
                                "flatten\nlinear units=3\n";

typedef struct seen {
    long long stop_in_report; /* ask for a stop inside this step's report (0: never) */
    volatile sig_atomic_t stop_flag; /* config.stop */
    long long stop_before;    /* set stop_flag in this step's report */
    long long last_step;      /* the last step reported */
    int wrong;                /* reports whose saving was not what they should be */
    int epoch_reports, epoch_saving;
    long long saving_steps[64];
    int nsaving;
} seen;

static void on_progress(const soma_progress *p, void *user)
{
    seen *s = user;
    if (p->epoch_done) {
        s->epoch_reports++;
        s->epoch_saving += p->saving == 1;
        return;
    }
    s->last_step = p->global_step;
    if (p->saving && s->nsaving < 64)
        s->saving_steps[s->nsaving++] = p->global_step;
    if (s->stop_in_report && p->global_step == s->stop_in_report)
        soma_request_stop();
    if (s->stop_before && p->global_step == s->stop_before)
        s->stop_flag = 1;
}

static soma_status run(const soma_dataset *tr, const char *dir, seen *s)
{
    soma_model *m;
    CHECK(soma_model_parse(model_text, "progress_saving_test", &m) == SOMA_OK);
    soma_model_init(m, SOMA_INIT_HE, 5);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 2;
    cfg.batch = 16; /* 100 samples: 7 steps per epoch */
    cfg.seed = 3;
    cfg.out_dir = dir;
    cfg.checkpoint_every = 3;
    cfg.stop = &s->stop_flag;
    soma_status st = soma_train(m, tr, NULL, &cfg, on_progress, s, NULL);
    soma_model_free(m);
    return st;
}

int main(void)
{
    soma_set_threads(1);
    soma_dataset *tr = synthetic_patterns(100, 1, 2);
    char dir[] = "/tmp/soma-saving-XXXXXX";
    CHECK(tr && mkdtemp(dir));

    /* steps 1..14: every 3rd saves (none is an epoch's last, 7 or 14: the
     * epoch-end reports cover those) */
    seen a = {0};
    CHECK(run(tr, dir, &a) == SOMA_OK);
    static const long long want[] = {3, 6, 9, 12};
    CHECK_MSG(a.nsaving == 4, "%d steps announced a checkpoint", a.nsaving);
    for (int i = 0; i < a.nsaving && i < 4; i++)
        CHECK_MSG(a.saving_steps[i] == want[i], "announced at step %lld, want %lld",
                  a.saving_steps[i], want[i]);
    CHECK(a.epoch_reports == 2 && a.epoch_saving == 2);

    /* a stop asked for in step 5's report: the run ends after step 5, unannounced */
    seen b = {.stop_in_report = 5};
    CHECK(run(tr, dir, &b) == SOMA_ERR_INTERRUPTED);
    CHECK_MSG(b.last_step == 5, "stopped after step %lld", b.last_step);
    CHECK(b.nsaving == 1 && b.saving_steps[0] == 3);

    /* config.stop set in step 9's report: the same, through the config */
    seen c = {.stop_before = 9};
    CHECK(run(tr, dir, &c) == SOMA_ERR_INTERRUPTED);
    CHECK_MSG(c.last_step == 9, "stopped after step %lld", c.last_step);
    CHECK(c.nsaving == 3 && c.saving_steps[2] == 9);
    soma_dataset_free(tr);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_finish("progress_saving_test");
}

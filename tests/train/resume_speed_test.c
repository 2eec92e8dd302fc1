/*
 * A resumed epoch reports its speed over the images it trained in this
 * process: images_per_second x seconds is the images since the resume, not
 * the epoch's count so far (which once gave a resumed epoch 60-93k img/s on
 * one thread: the images trained before the stop divided by the time after).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "support/check.h"
#include "support/synthetic.h"

static const char *model_text = "input channels=1 height=8 width=8\n"
                                "conv2d filters=4 size=3 pad=1\nrelu\nmaxpool size=2\n"
                                "flatten\nlinear units=3\n";

enum { SAMPLES = 200, BATCH = 32, STOP_AT = 3 }; /* 7 steps per epoch, the last of 8 */

typedef struct watch {
    long long stop_at;   /* global step to stop after (0: never) */
    int first_step;      /* the epoch's step the process began at, 0-based */
    int reports, wrong;  /* progress reports seen, and those whose speed was off */
} watch;

static void on_progress(const soma_progress *p, void *user)
{
    watch *w = user;
    if (w->stop_at && !p->epoch_done && p->global_step == w->stop_at) {
        soma_request_stop();
        return;
    }
    if (w->stop_at || p->epoch != 1)
        return;
    /* the images of steps first_step .. p->step - 1 of epoch 1 */
    int steps_done = p->step - w->first_step;
    long long images = (long long)steps_done * BATCH;
    if (p->step == p->steps)
        images -= (long long)p->steps * BATCH - SAMPLES;
    double trained = p->images_per_second * p->seconds;
    w->reports++;
    if (!(fabs(trained - (double)images) <= 1e-6 * (double)images)) {
        w->wrong++;
        fprintf(stderr, "step %d%s: %.1f img/s x %.6f s = %.1f images, trained %lld here\n",
                p->step, p->epoch_done ? " (epoch end)" : "", p->images_per_second,
                p->seconds, trained, images);
    }
}

static soma_status run(const soma_dataset *tr, const char *out, const char *resume, watch *w)
{
    soma_model *m;
    if (soma_model_parse(model_text, "resume_speed_test", &m) != SOMA_OK)
        return SOMA_ERR_ARGUMENT;
    soma_model_init(m, SOMA_INIT_HE, 5);
    soma_train_config cfg = soma_train_defaults();
    cfg.epochs = 1;
    cfg.batch = BATCH;
    cfg.seed = 3;
    cfg.out_dir = out;
    cfg.resume = resume;
    soma_status st = soma_train(m, tr, NULL, &cfg, on_progress, w, NULL);
    soma_model_free(m);
    return st;
}

int main(void)
{
    soma_set_threads(1);
    soma_dataset *tr = synthetic_patterns(SAMPLES, 1, 2);
    CHECK(tr != NULL);
    char dir[] = "/tmp/soma-resume-speed-XXXXXX", path[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/last.safetensors", dir);

    /* not resumed: every report counts the whole epoch so far */
    watch fresh = {0, 0, 0, 0};
    CHECK_MSG(run(tr, NULL, NULL, &fresh) == SOMA_OK, "%s", soma_last_error());
    CHECK(fresh.reports == 8 && fresh.wrong == 0); /* 7 steps and the epoch's end */

    /* stopped after step 3 of epoch 1, resumed: steps 4..7 are this process's */
    watch stop = {STOP_AT, 0, 0, 0};
    CHECK(run(tr, dir, NULL, &stop) == SOMA_ERR_INTERRUPTED);
    watch resumed = {0, STOP_AT, 0, 0};
    CHECK_MSG(run(tr, dir, path, &resumed) == SOMA_OK, "%s", soma_last_error());
    CHECK_MSG(resumed.reports == 5 && resumed.wrong == 0, "%d of %d reports off",
              resumed.wrong, resumed.reports);

    unlink(path);
    snprintf(path, sizeof path, "%s/best.safetensors", dir);
    unlink(path);
    rmdir(dir);
    soma_dataset_free(tr);
    return check_finish("resume_speed");
}

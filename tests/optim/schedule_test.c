/* Learning-rate schedules against their formulas, worked out by hand. */
#include <math.h>
#include <string.h>

#include "optim/schedule.h"
#include "support/check.h"

#define TOL 1e-12

static const double pi = 3.14159265358979323846;

static soma_train_config base(soma_schedule s)
{
    soma_train_config c;
    memset(&c, 0, sizeof c);
    c.opt.lr = 0.5f; /* exact in float, so expected values are exact too */
    c.schedule = s;
    c.epochs = 4;
    c.step_epochs = 2;
    c.step_gamma = 0.5f;
    return c;
}

static void test_const(void)
{
    soma_train_config c = base(SOMA_SCHEDULE_CONST);
    CHECK_CLOSE(schedule_lr(&c, 0, 10), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 39, 10), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 1000, 10), 0.5, TOL);
}

static void test_step(void)
{
    /* 10 steps per epoch, halve every 2 epochs: epochs 0-1 0.5, 2-3 0.25, 4-5 0.125 */
    soma_train_config c = base(SOMA_SCHEDULE_STEP);
    CHECK_CLOSE(schedule_lr(&c, 0, 10), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 19, 10), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 20, 10), 0.25, TOL);
    CHECK_CLOSE(schedule_lr(&c, 39, 10), 0.25, TOL);
    CHECK_CLOSE(schedule_lr(&c, 40, 10), 0.125, TOL);
    CHECK_CLOSE(schedule_lr(&c, 59, 10), 0.125, TOL);
    CHECK_CLOSE(schedule_lr(&c, 60, 10), 0.0625, TOL);
    /* gamma 0.1 every epoch (AlexNet-like), 3 steps per epoch */
    c.step_epochs = 1;
    c.step_gamma = 0.1f;
    CHECK_CLOSE(schedule_lr(&c, 2, 3), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 3, 3), 0.5 * (double)0.1f, TOL);
    CHECK_CLOSE(schedule_lr(&c, 7, 3), 0.5 * (double)0.1f * (double)0.1f, TOL);
}

static void test_cosine(void)
{
    /* 4 epochs x 25 steps: total 100 */
    soma_train_config c = base(SOMA_SCHEDULE_COSINE);
    CHECK_CLOSE(schedule_lr(&c, 0, 25), 0.5, TOL);
    /* a quarter of the way: 0.25 * (1 + cos(pi/4)) = 0.25 * (1 + sqrt(2)/2) */
    CHECK_CLOSE(schedule_lr(&c, 25, 25), 0.25 * (1 + sqrt(2.0) / 2), TOL);
    CHECK_CLOSE(schedule_lr(&c, 50, 25), 0.25, TOL);
    CHECK_CLOSE(schedule_lr(&c, 75, 25), 0.25 * (1 - sqrt(2.0) / 2), TOL);
    /* the last step is near 0: 0.25 * (1 - cos(pi/100)) = 0.5 * sin^2(pi/200) */
    double last = schedule_lr(&c, 99, 25);
    CHECK_CLOSE(last, 0.5 * sin(pi / 200) * sin(pi / 200), TOL);
    CHECK(last > 0 && last < 1e-3);
    CHECK_CLOSE(schedule_lr(&c, 100, 25), 0.0, TOL);
    CHECK_CLOSE(schedule_lr(&c, 500, 25), 0.0, TOL);
    double prev = INFINITY;
    int monotone = 1;
    for (long long s = 0; s < 100; s++) {
        double lr = schedule_lr(&c, s, 25);
        monotone &= lr <= prev;
        prev = lr;
    }
    CHECK(monotone);
}

static void test_warmup(void)
{
    /* half an epoch of 10 steps: 5 warm-up steps, factors 1/5 .. 5/5 */
    soma_train_config c = base(SOMA_SCHEDULE_CONST);
    c.warmup_epochs = 0.5f;
    CHECK_CLOSE(schedule_lr(&c, 0, 10), 0.1, TOL);
    CHECK_CLOSE(schedule_lr(&c, 1, 10), 0.2, TOL);
    CHECK_CLOSE(schedule_lr(&c, 3, 10), 0.4, TOL);
    CHECK_CLOSE(schedule_lr(&c, 4, 10), 0.5, TOL);
    CHECK_CLOSE(schedule_lr(&c, 5, 10), 0.5, TOL);

    /* the factor multiplies the schedule's own value: cosine over 40 steps */
    c.schedule = SOMA_SCHEDULE_COSINE;
    c.epochs = 4;
    CHECK_CLOSE(schedule_lr(&c, 2, 10), 3.0 / 5 * 0.25 * (1 + cos(pi * 2 / 40)), TOL);
    CHECK_CLOSE(schedule_lr(&c, 20, 10), 0.25, TOL);

    /* a warm-up shorter than a step still takes one step at factor 1 */
    c.schedule = SOMA_SCHEDULE_CONST;
    c.warmup_epochs = 0.01f;
    CHECK_CLOSE(schedule_lr(&c, 0, 10), 0.5, TOL);
    /* two epochs of 3 steps: 6 warm-up steps, spanning the epoch boundary */
    c.warmup_epochs = 2;
    CHECK_CLOSE(schedule_lr(&c, 4, 3), 0.5 * 5 / 6, TOL);
    CHECK_CLOSE(schedule_lr(&c, 6, 3), 0.5, TOL);
}

static void test_parse_and_check(void)
{
    const char *names[] = {"const", "step", "cosine"};
    const soma_schedule kinds[] = {SOMA_SCHEDULE_CONST, SOMA_SCHEDULE_STEP, SOMA_SCHEDULE_COSINE};
    for (int i = 0; i < 3; i++) {
        soma_schedule s = (soma_schedule)-1;
        CHECK(soma_schedule_parse(names[i], &s) == SOMA_OK && s == kinds[i]);
        CHECK(strcmp(soma_schedule_name(kinds[i]), names[i]) == 0);
    }
    soma_schedule s;
    CHECK(soma_schedule_parse("cosin", &s) == SOMA_ERR_ARGUMENT);
    const char *msg = soma_last_error();
    CHECK_MSG(strstr(msg, "'cosin'") && strstr(msg, "const") && strstr(msg, "cosine"),
              "message '%s' should quote the name and list the valid ones", msg);
    CHECK(soma_schedule_parse(NULL, &s) == SOMA_ERR_ARGUMENT);
    CHECK(strcmp(soma_schedule_name((soma_schedule)7), "unknown") == 0);

    soma_train_config c = base(SOMA_SCHEDULE_STEP);
    CHECK(schedule_check(&c) == SOMA_OK);
    c.step_epochs = 0;
    CHECK(schedule_check(&c) == SOMA_ERR_ARGUMENT);
    CHECK(strstr(soma_last_error(), "step_epochs") && strstr(soma_last_error(), "0"));
    c = base(SOMA_SCHEDULE_STEP);
    c.step_gamma = 10;
    CHECK(schedule_check(&c) == SOMA_ERR_ARGUMENT);
    CHECK(strstr(soma_last_error(), "step_gamma") && strstr(soma_last_error(), "10"));
    c = base(SOMA_SCHEDULE_CONST);
    c.step_gamma = 10; /* unused by const: fine */
    CHECK(schedule_check(&c) == SOMA_OK);
    c.warmup_epochs = -1;
    CHECK(schedule_check(&c) == SOMA_ERR_ARGUMENT);
    CHECK(strstr(soma_last_error(), "warmup_epochs") && strstr(soma_last_error(), "-1"));
    c.warmup_epochs = NAN;
    CHECK(schedule_check(&c) == SOMA_ERR_ARGUMENT);
}

int main(void)
{
    test_const();
    test_step();
    test_cosine();
    test_warmup();
    test_parse_and_check();
    return check_finish("schedule_test");
}

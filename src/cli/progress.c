/* The live progress bar and the per-epoch lines of `soma train`. */
#include "cli/progress.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/format.h"

#define BAR_WIDTH 20
#define REDRAW_SECONDS 0.1

void progress_init(progress_view *view, int quiet, int profile)
{
    view->quiet = quiet;
    view->live = !quiet && isatty(STDERR_FILENO);
    view->profile = profile && !quiet;
    view->last_draw = -1e9;
    view->bar_visible = 0;
}

void progress_clear(progress_view *view)
{
    if (view->bar_visible) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        view->bar_visible = 0;
    }
}

static int digits_of(int n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void draw_bar(progress_view *view, const soma_progress *p)
{
    double fraction = p->steps > 0 ? (double)p->step / p->steps : 0.0;
    if (fraction > 1.0)
        fraction = 1.0;
    char bar[BAR_WIDTH + 1];
    int filled = (int)(fraction * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[BAR_WIDTH] = '\0';

    double eta = p->step > 0 ? p->seconds / p->step * (p->steps - p->step) : NAN;
    char rate[32], eta_text[32];
    format_count(llround(p->images_per_second), rate, sizeof rate);
    format_duration(eta, eta_text, sizeof eta_text);
    fprintf(stderr, "\repoch %*d/%d [%s] %3d%% %s img/s loss %.4f acc %.1f%% ETA %s\033[K",
            digits_of(p->epochs), p->epoch, p->epochs, bar, (int)(fraction * 100), rate,
            p->loss, 100.0 * p->accuracy, eta_text);
    fflush(stderr);
    view->bar_visible = 1;
}

static void print_epoch_line(const soma_progress *p)
{
    char rate[32];
    format_count(llround(p->images_per_second), rate, sizeof rate);
    printf("epoch %*d/%d  loss %.4f  acc %.2f%%", digits_of(p->epochs), p->epoch, p->epochs,
           p->loss, 100.0 * p->accuracy);
    if (!isnan(p->val_loss))
        printf("  val_loss %.4f  val_acc %.2f%%", p->val_loss, 100.0 * p->val_accuracy);
    /* '*': validation improved (without validation every epoch is "best": no mark) */
    int mark = p->improved && !isnan(p->val_accuracy);
    printf("  lr %.3g  %.1fs  %s img/s%s\n", p->lr, p->seconds, rate, mark ? "  *" : "");
}

void progress_show(progress_view *view, const soma_progress *p)
{
    if (view->quiet)
        return;
    if (!p->epoch_done) {
        double now = cli_seconds();
        if (view->live && (now - view->last_draw >= REDRAW_SECONDS || p->step == p->steps)) {
            view->last_draw = now;
            draw_bar(view, p);
        }
        return;
    }
    progress_clear(view);
    print_epoch_line(p);
    if (view->profile && p->profile)
        fputs(p->profile, stdout);
    fflush(stdout);
    view->last_draw = -1e9;
}

#include "train/profile.h"

#include <string.h>

#include "core/strbuf.h"

char *profile_table(const soma_model *m, long long images)
{
    double total = 0.0;
    for (int i = 0; i < m->nlayers; i++)
        total += m->fwd_seconds[i] + m->bwd_seconds[i];
    if (total <= 0.0)
        total = 1e-12;
    strbuf sb;
    strbuf_init(&sb);
    strbuf_appendf(&sb, "%3s  %-10s %12s %12s %7s %10s\n", "#", "layer", "forward ms",
                   "backward ms", "share", "us/image");
    for (int i = 0; i < m->nlayers; i++) {
        double f = m->fwd_seconds[i], b = m->bwd_seconds[i];
        strbuf_appendf(&sb, "%3d  %-10s %12.1f %12.1f %6.1f%% %10.2f\n", i,
                       m->layers[i].cls->name, f * 1e3, b * 1e3, 100.0 * (f + b) / total,
                       images > 0 ? (f + b) * 1e6 / images : 0.0);
    }
    strbuf_appendf(&sb, "     %-10s %25.1f ms in layers\n", "total", total * 1e3);
    return strbuf_take(&sb);
}

void profile_reset(soma_model *m)
{
    memset(m->fwd_seconds, 0, sizeof(double) * m->nlayers);
    memset(m->bwd_seconds, 0, sizeof(double) * m->nlayers);
}

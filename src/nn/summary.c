/* soma_model_summary: a Keras-like table of layers, shapes, parameters, FLOPs; soma_model_flops. */
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "nn/network.h"

/* 61706 -> "61,706" */
static const char *grouped(double value, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", value);
    size_t n = strlen(digits), j = 0;
    for (size_t i = 0; i < n && j + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && j + 2 < size)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

char *soma_model_summary(const soma_model *m)
{
    if (!m)
        return NULL;
    strbuf sb;
    strbuf_init(&sb);
    char a[32], b[32], desc[64], shape[48];
    double total_flops = 0.0;
    strbuf_appendf(&sb, "model %s  (input %dx%dx%d, %d classes)\n", m->source, m->input.c,
                   m->input.h, m->input.w, m->classes);
    strbuf_appendf(&sb, "%3s  %-10s %-16s %-14s %12s %14s\n", "#", "layer", "config", "output",
                   "params", "FLOPs");
    for (int i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        size_t params = 0;
        for (int t = 0; t < l->nparams; t++)
            params += tensor_spec_count(&l->params[t]);
        l->cls->describe(l, desc, sizeof desc);
        if (l->out.h == 1 && l->out.w == 1)
            snprintf(shape, sizeof shape, "%d", l->out.c);
        else
            snprintf(shape, sizeof shape, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
        double flops = l->cls->flops(l);
        total_flops += flops;
        strbuf_appendf(&sb, "%3d  %-10s %-16s %-14s %12s %14s\n", l->index, l->cls->name, desc,
                       shape, grouped((double)params, a, sizeof a),
                       grouped(flops, b, sizeof b));
    }
    strbuf_appendf(&sb, "parameters: %s   forward FLOPs per sample: %s\n",
                   grouped((double)m->nparams, a, sizeof a),
                   grouped(total_flops, b, sizeof b));
    return strbuf_take(&sb);
}

double soma_model_flops(const soma_model *m, int training)
{
    if (!m)
        return 0.0;
    double total = 0.0;
    int first = 1;
    for (int i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        if (!l->cls->multiply_adds)
            continue;
        double forward = l->cls->flops(l);
        /* backward: the weight gradient, and the input gradient but for the first */
        total += training ? (first ? 2.0 : 3.0) * forward : forward;
        first = 0;
    }
    return total;
}

/* Per-channel input normalisation: the public accessors and the checkpoint metadata. */
#include "nn/normalization.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/strbuf.h"
#include "nn/checkpoint_checks.h"

int normalization_is_set(const soma_model *m)
{
    for (int c = 0; c < m->input.c; c++)
        if (!(m->norm_std[c] > 0.0f))
            return 0;
    return 1;
}

/* as the other getters: 0 for a NULL model, NULL outputs not written */
void soma_model_normalization(const soma_model *m, float *mean, float *std)
{
    if (mean)
        *mean = m ? m->norm_mean[0] : 0.0f;
    if (std)
        *std = m ? m->norm_std[0] : 0.0f;
}

void soma_model_set_normalization(soma_model *m, float mean, float std)
{
    if (!m)
        return;
    for (int c = 0; c < m->input.c; c++) {
        m->norm_mean[c] = mean;
        m->norm_std[c] = std;
    }
}

static soma_status check_channels(const soma_model *m, int channels, const char *fn)
{
    if (channels != m->input.c)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: the model %s has %d input channel%s, not %d", fn,
                          m->source, m->input.c, m->input.c == 1 ? "" : "s", channels);
    return SOMA_OK;
}

soma_status soma_model_normalization_channels(const soma_model *m, int channels, float *mean,
                                              float *std)
{
    if (!m || !mean || !std)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_normalization_channels: no %s given",
                          m ? "output" : "model");
    SOMA_TRY(check_channels(m, channels, "soma_model_normalization_channels"));
    for (int c = 0; c < channels; c++) {
        mean[c] = m->norm_mean[c];
        std[c] = m->norm_std[c];
    }
    return SOMA_OK;
}

soma_status soma_model_set_normalization_channels(soma_model *m, int channels, const float *mean,
                                                  const float *std)
{
    if (!m || !mean || !std)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_set_normalization_channels: no %s given",
                          m ? "values" : "model");
    SOMA_TRY(check_channels(m, channels, "soma_model_set_normalization_channels"));
    for (int c = 0; c < channels; c++) {
        char why[160];
        if (!checkpoint_normalization_ok(mean[c], std[c], channels > 1 ? c : -1, why, sizeof why))
            return soma_error(SOMA_ERR_ARGUMENT, "soma_model_set_normalization_channels: %s",
                              why);
    }
    for (int c = 0; c < channels; c++) {
        m->norm_mean[c] = mean[c];
        m->norm_std[c] = std[c];
    }
    return SOMA_OK;
}

/* "v0,v1,...": %.9g round-trips a float exactly. */
static soma_status write_list(st_writer *w, const char *key, const float *v, int n)
{
    strbuf sb;
    strbuf_init(&sb);
    for (int c = 0; c < n; c++)
        strbuf_appendf(&sb, "%s%.9g", c ? "," : "", (double)v[c]);
    char *text = strbuf_take(&sb);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = st_writer_set_meta(w, key, text);
    free(text);
    return st;
}

soma_status normalization_write_meta(st_writer *w, const char *path, const soma_model *m)
{
    int n = m->input.c;
    for (int c = 0; c < n; c++) {
        char why[160];
        if (!checkpoint_normalization_ok(m->norm_mean[c], m->norm_std[c], n > 1 ? c : -1, why,
                                         sizeof why))
            return soma_error(SOMA_ERR_ARGUMENT,
                              "%s: not saved: the model's input normalisation %s (train the "
                              "model or set it with soma_model_set_normalization)",
                              path, why);
    }
    SOMA_TRY(write_list(w, "norm_mean", m->norm_mean, n));
    return write_list(w, "norm_std", m->norm_std, n);
}

/* One number (every channel's) or exactly n, comma-separated, into out[0..n). */
static soma_status read_list(const st_file *f, const char *path, const char *key, int n,
                             double *out)
{
    const char *v = st_meta(f, key);
    if (!v)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    const char *p = v;
    int count = 0;
    for (;;) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno == ERANGE || (*end && *end != ',') || count == n)
            break;
        out[count++] = x;
        if (!*end) {
            if (count == 1)
                for (int c = 1; c < n; c++)
                    out[c] = x;
            if (count == 1 || count == n)
                return SOMA_OK;
            break;
        }
        p = end + 1;
    }
    if (n == 1)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not a number: '%.40s'", path,
                          key, v);
    return soma_error(SOMA_ERR_FORMAT,
                      "%s: metadata '%s' is not a number or a list of %d comma-separated numbers "
                      "(one per input channel): '%.40s'",
                      path, key, n, v);
}

soma_status normalization_read_meta(const st_file *f, const char *path, soma_model *m)
{
    int n = m->input.c;
    double *mean = malloc(sizeof(double) * 2 * (size_t)n);
    if (!mean)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    double *std = mean + n;
    soma_status st = read_list(f, path, "norm_mean", n, mean);
    if (st == SOMA_OK)
        st = read_list(f, path, "norm_std", n, std);
    for (int c = 0; c < n && st == SOMA_OK; c++) {
        char why[160];
        if (!checkpoint_normalization_ok(mean[c], std[c], n > 1 ? c : -1, why, sizeof why))
            st = soma_error(SOMA_ERR_FORMAT, "%s: metadata %s", path, why);
    }
    for (int c = 0; c < n && st == SOMA_OK; c++) {
        m->norm_mean[c] = (float)mean[c];
        m->norm_std[c] = (float)std[c];
    }
    free(mean);
    return st;
}

/* metrics.csv and summary.json: the record of a training run. */
#define _POSIX_C_SOURCE 200809L
#include "cli/run_files.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

char *cli_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *path = malloc(a + b + 2);
    if (!path)
        return NULL;
    memcpy(path, dir, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    return path;
}

soma_status cli_write_file_atomic(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    int ok = fwrite(data, 1, len, fp) == len && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    int saved_errno = errno;
    ok = (fclose(fp) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        saved_errno = errno;
        ok = 0;
    }
    if (!ok) {
        remove(tmp);
        free(tmp);
        return soma_error(SOMA_ERR_IO, "%s: cannot write: %s", path, strerror(saved_errno));
    }
    free(tmp);
    return SOMA_OK;
}

/* Reads a whole (small) file; NULL if it does not exist or cannot be read. */
static char *read_small_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    strbuf sb;
    strbuf_init(&sb);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        strbuf_append_n(&sb, chunk, got);
    fclose(fp);
    return strbuf_take(&sb);
}

soma_status metrics_csv_open(metrics_csv *m, const char *dir, int resume)
{
    memset(m, 0, sizeof *m);
    strbuf_init(&m->rows);
    m->path = cli_path_join(dir, "metrics.csv");
    if (!m->path)
        return soma_error(SOMA_ERR_MEMORY, "%s/metrics.csv: out of memory", dir);
    if (!resume)
        return cli_write_file_atomic(m->path, METRICS_HEADER, strlen(METRICS_HEADER));
    char *old = read_small_file(m->path);
    if (old) {
        /* keep the data rows, skip the header line */
        const char *body = strncmp(old, "epoch,", 6) == 0 ? strchr(old, '\n') : old;
        if (body && *body == '\n')
            body++;
        if (body)
            strbuf_append(&m->rows, body);
        free(old);
        m->drop_from_next = 1;
    }
    return SOMA_OK;
}

/* Keeps only the rows whose epoch is below `epoch` (a resumed run rewrites the rest). */
static void drop_rows_from(strbuf *rows, int epoch)
{
    if (!rows->data)
        return;
    strbuf kept;
    strbuf_init(&kept);
    const char *line = rows->data;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (atoi(line) < epoch && len > 1) {
            strbuf_append_n(&kept, line, len);
            if (!end)
                strbuf_append(&kept, "\n");
        }
        line += len;
    }
    strbuf_free(rows);
    *rows = kept;
}

static void append_csv_number(strbuf *sb, double v, const char *fmt)
{
    if (!isnan(v))
        strbuf_appendf(sb, fmt, v);
}

soma_status metrics_csv_append(metrics_csv *m, const soma_progress *p)
{
    if (m->drop_from_next) {
        drop_rows_from(&m->rows, p->epoch);
        m->drop_from_next = 0;
    }
    strbuf *r = &m->rows;
    strbuf_appendf(r, "%d,%.6g,%.6g,", p->epoch, p->loss, p->accuracy);
    append_csv_number(r, p->val_loss, "%.6g");
    strbuf_append(r, ",");
    append_csv_number(r, p->val_accuracy, "%.6g");
    strbuf_appendf(r, ",%.6g,%.3f,%.1f\n", p->lr, p->seconds, p->images_per_second);

    strbuf file;
    strbuf_init(&file);
    strbuf_append(&file, METRICS_HEADER);
    if (r->data)
        strbuf_append(&file, r->data);
    if (r->failed || file.failed) {
        strbuf_free(&file);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", m->path);
    }
    soma_status st = cli_write_file_atomic(m->path, file.data, file.len);
    strbuf_free(&file);
    return st;
}

void metrics_csv_close(metrics_csv *m)
{
    free(m->path);
    strbuf_free(&m->rows);
    memset(m, 0, sizeof *m);
}

/* JSON has no NaN: an unknown number is null. */
static void json_number(strbuf *sb, const char *key, double v, int last)
{
    strbuf_appendf(sb, "  \"%s\": ", key);
    if (isfinite(v))
        strbuf_appendf(sb, "%.10g", v);
    else
        strbuf_append(sb, "null");
    strbuf_append(sb, last ? "\n" : ",\n");
}

static void json_integer(strbuf *sb, const char *key, long long v)
{
    strbuf_appendf(sb, "  \"%s\": %lld,\n", key, v);
}

static void json_string(strbuf *sb, const char *key, const char *v)
{
    strbuf_appendf(sb, "  \"%s\": ", key);
    if (v)
        strbuf_append_json_string(sb, v);
    else
        strbuf_append(sb, "null");
    strbuf_append(sb, ",\n");
}

soma_status summary_json_write(const char *dir, const run_summary *s)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "{\n");
    json_number(&sb, "test_accuracy", s->test_accuracy, 0);
    json_number(&sb, "test_loss", s->test_loss, 0);
    json_number(&sb, "test_error", s->test_error, 0);
    json_integer(&sb, "test_images", s->test_images);
    json_string(&sb, "tested_checkpoint", s->tested_checkpoint);
    json_integer(&sb, "epochs", s->epochs);
    json_integer(&sb, "epochs_run", s->epochs_run);
    json_integer(&sb, "best_epoch", s->best_epoch);
    json_number(&sb, "best_val_accuracy", s->best_val_accuracy, 0);
    strbuf_appendf(&sb, "  \"stopped_early\": %s,\n", s->stopped_early ? "true" : "false");
    json_integer(&sb, "parameters", (long long)s->parameters);
    json_number(&sb, "wall_seconds", s->wall_seconds, 0);
    json_number(&sb, "images_per_second", s->images_per_second, 0);
    json_string(&sb, "model", s->model);
    json_string(&sb, "data", s->data);
    json_string(&sb, "data_source", s->data_source);
    json_integer(&sb, "train_images", s->train_images);
    json_integer(&sb, "val_images", s->val_images);
    json_string(&sb, "optimizer", s->optimizer);
    json_number(&sb, "lr", s->lr, 0);
    json_number(&sb, "weight_decay", s->weight_decay, 0);
    json_string(&sb, "schedule", s->schedule);
    json_integer(&sb, "batch", s->batch);
    strbuf_appendf(&sb, "  \"seed\": %llu,\n", (unsigned long long)s->seed);
    json_integer(&sb, "threads", s->threads);
    json_string(&sb, "command", s->command);
    strbuf_append(&sb, "  \"soma_version\": ");
    strbuf_append_json_string(&sb, SOMA_VERSION);
    strbuf_append(&sb, "\n}\n");

    char *path = cli_path_join(dir, "summary.json");
    size_t len = sb.len;
    char *text = strbuf_take(&sb);
    if (!path || !text) {
        free(path);
        free(text);
        return soma_error(SOMA_ERR_MEMORY, "%s/summary.json: out of memory", dir);
    }
    soma_status st = cli_write_file_atomic(path, text, len);
    free(path);
    free(text);
    return st;
}

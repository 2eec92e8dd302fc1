/* summary.json, the record of a training run, and small file helpers. */
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
    json_integer(&sb, "tta_copies", s->tta_copies);
    json_number(&sb, "test_accuracy_tta", s->test_accuracy_tta, 0);
    json_number(&sb, "test_loss_tta", s->test_loss_tta, 0);
    json_integer(&sb, "test_images", s->test_images);
    json_string(&sb, "tested_checkpoint", s->tested_checkpoint);
    json_integer(&sb, "epochs", s->epochs);
    json_integer(&sb, "epochs_run", s->epochs_run);
    json_integer(&sb, "best_epoch", s->best_epoch);
    json_number(&sb, "best_val_accuracy", s->best_val_accuracy, 0);
    json_number(&sb, "best_val_loss", s->best_val_loss, 0);
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
    json_number(&sb, "threads_running", s->threads_running, 0);
    json_integer(&sb, "processes", s->processes > 1 ? s->processes : 1);
    json_string(&sb, "device", s->device);
    json_string(&sb, "command", s->command);
    json_string(&sb, "resumed_by", s->resumed_by);
    json_string(&sb, "init_from", s->init_from);
    json_string(&sb, "started_at", s->started_at);
    /* everything that defines the run: `soma train --config summary.json` re-runs it */
    strbuf_appendf(&sb, "  \"settings\": %s,\n", s->settings ? s->settings : "null");
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

/* steps.csv: appended step by step, read back strictly. */
#define _POSIX_C_SOURCE 200809L
#include "cli/steps_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/format.h"
#include "cli/metrics_csv.h"
#include "cli/run_files.h"
#include "core/error.h"
#include "io/atomic_file.h"

#define STEPS_FIELDS 5

int steps_csv_keeps(long long step)
{
    long long limit = STEPS_DENSE, stride = 1;
    while (step > limit && limit < (long long)1e17) {
        limit *= 10;
        stride *= 10;
    }
    return step >= 1 && step % stride == 0;
}

static int parse_row(const char *line, size_t len, long long after, step_row *r)
{
    const char *p = line, *end = line + len;
    double v[STEPS_FIELDS];
    for (int i = 0; i < STEPS_FIELDS; i++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (i < STEPS_FIELDS - 1 && !comma)
            return 0;
        const char *stop = i < STEPS_FIELDS - 1 ? comma : end;
        if (!csv_number(p, (size_t)(stop - p), i == 4, &v[i]))
            return 0;
        p = stop + 1;
    }
    if (v[0] != floor(v[0]) || v[0] <= (double)after || v[0] > 1e15 || v[1] != floor(v[1]) ||
        v[1] < 1 || v[1] > 1e7 || (!(v[4] >= 0) && !isnan(v[4])))
        return 0;
    r->step = (long long)v[0];
    r->epoch = (int)v[1];
    r->loss = v[2], r->lr = v[3], r->grad_norm = v[4];
    return 1;
}

static int log_push(steps_log *log, const step_row *r)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 256;
        step_row *grown = realloc(log->rows, cap * sizeof *grown);
        if (!grown)
            return 0;
        log->rows = grown, log->cap = cap;
    }
    log->rows[log->n++] = *r;
    return 1;
}

soma_status steps_csv_parse(const char *text, size_t len, const char *name, steps_log *log)
{
    size_t header = strlen(STEPS_HEADER);
    if (len < header || memcmp(text, STEPS_HEADER, header) != 0)
        return soma_error(SOMA_ERR_FORMAT, "%s:1: not the header soma writes (%.*s)", name,
                          (int)(header - 1), STEPS_HEADER);
    int line_no = 1;
    long long last = 0;
    for (size_t at = header; at < len;) {
        line_no++;
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        if (!nl) /* cut short by a kill mid-write: the step after the last checkpoint */
            break;
        size_t n = (size_t)(nl - line);
        step_row r;
        if (!parse_row(line, n, last, &r))
            return soma_error(SOMA_ERR_FORMAT,
                              "%s:%d: not a steps row (step,epoch,loss,lr,grad_norm with "
                              "steps increasing)",
                              name, line_no);
        if (!log_push(log, &r))
            return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", name);
        last = r.step;
        at += n + 1;
    }
    return SOMA_OK;
}

soma_status steps_csv_read(const char *path, steps_log *log)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return soma_error(SOMA_ERR_FORMAT, "%s: not a regular file", path);
    uint8_t *text = NULL;
    size_t len;
    soma_status st = read_whole_file(path, STEPS_MAX_BYTES, &text, &len);
    if (st == SOMA_OK)
        st = steps_csv_parse((const char *)text, len, path, log);
    free(text);
    return st;
}

void steps_log_free(steps_log *log)
{
    free(log->rows);
    memset(log, 0, sizeof *log);
}

void steps_csv_format(strbuf *sb, const step_row *r)
{
    strbuf_appendf(sb, "%lld,%d,%.6g,%.6g,", r->step, r->epoch, r->loss, r->lr);
    if (isfinite(r->grad_norm))
        strbuf_appendf(sb, "%.6g", r->grad_norm);
    strbuf_append(sb, "\n");
}

soma_status steps_csv_open(steps_csv *s, const char *dir, const char *resume_from)
{
    memset(s, 0, sizeof *s);
    s->path = cli_path_join(dir, "steps.csv");
    if (!s->path)
        return soma_error(SOMA_ERR_MEMORY, "%s/steps.csv: out of memory", dir);
    if (!resume_from) {
        SOMA_TRY(cli_write_file_atomic(s->path, STEPS_HEADER, strlen(STEPS_HEADER)));
        s->file = fopen(s->path, "a");
        return s->file ? SOMA_OK
                       : soma_error(SOMA_ERR_IO, "%s: cannot open: %s", s->path, strerror(errno));
    }
    s->resumed = 1;
    char *old = cli_path_join(resume_from, "steps.csv");
    if (!old)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = SOMA_OK;
    if (access(old, F_OK) == 0) /* a run from before steps.csv existed has none */
        st = steps_csv_read(old, &s->kept);
    free(old);
    return st;
}

/* The kept rows before `first` (the resumed run's first step), written at once. */
static soma_status write_kept(steps_csv *s, long long first)
{
    strbuf file;
    strbuf_init(&file);
    strbuf_append(&file, STEPS_HEADER);
    for (size_t i = 0; i < s->kept.n && s->kept.rows[i].step < first; i++)
        steps_csv_format(&file, &s->kept.rows[i]);
    soma_status st = file.failed ? soma_error(SOMA_ERR_MEMORY, "%s: out of memory", s->path)
                                 : cli_write_file_atomic(s->path, file.data, file.len);
    strbuf_free(&file);
    steps_log_free(&s->kept);
    s->resumed = 0;
    if (st == SOMA_OK && !(s->file = fopen(s->path, "a")))
        st = soma_error(SOMA_ERR_IO, "%s: cannot open: %s", s->path, strerror(errno));
    return st;
}

/* Every row so far on disk when a checkpoint follows; else once a second,
 * for whoever follows the file. */
static soma_status flush_if_due(steps_csv *s, const soma_progress *p)
{
    double now = cli_seconds();
    if (!s->file || (!p->saving && now - s->flushed_at < 1.0))
        return SOMA_OK;
    s->flushed_at = now;
    return fflush(s->file) == 0
               ? SOMA_OK
               : soma_error(SOMA_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
}

soma_status steps_csv_append(steps_csv *s, const soma_progress *p)
{
    if (p->epoch_done)
        return flush_if_due(s, p);
    if (s->resumed)
        SOMA_TRY(write_kept(s, p->global_step));
    if (!s->file)
        return SOMA_OK;
    if (steps_csv_keeps(p->global_step)) {
        step_row r = {p->global_step, p->epoch, p->step_loss, p->lr, p->grad_norm};
        strbuf line;
        strbuf_init(&line);
        steps_csv_format(&line, &r);
        int ok = !line.failed && fputs(line.data, s->file) >= 0;
        strbuf_free(&line);
        if (!ok)
            return soma_error(SOMA_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
    }
    return flush_if_due(s, p);
}

void steps_csv_close(steps_csv *s)
{
    if (s->file)
        fclose(s->file);
    free(s->path);
    steps_log_free(&s->kept);
    memset(s, 0, sizeof *s);
}

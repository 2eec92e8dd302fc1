/* metrics.csv: written row by row, read back strictly on resume. */
#define _POSIX_C_SOURCE 200809L
#include "cli/metrics_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/run_files.h"
#include "core/error.h"
#include "io/atomic_file.h"

#define METRICS_FIELDS 8

int csv_number(const char *s, size_t n, int may_be_empty, double *out)
{
    char buf[64];
    if (n == 0) {
        *out = NAN;
        return may_be_empty;
    }
    if (n >= sizeof buf)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.-+eE", s[i]) || s[i] == '\0')
            return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return *end == '\0' && errno != ERANGE && isfinite(*out);
}

/* Checks one data row: 8 fields, a whole epoch number after the last one. */
static int parse_row(const char *line, size_t len, int *epoch)
{
    const char *p = line, *end = line + len;
    for (int i = 0; i < METRICS_FIELDS; i++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma && i < METRICS_FIELDS - 1 ? comma : end;
        if (i < METRICS_FIELDS - 1 && !comma)
            return 0;
        double v;
        int may_be_empty = i == 3 || i == 4; /* val_loss, val_accuracy */
        if (!csv_number(p, (size_t)(stop - p), may_be_empty, &v))
            return 0;
        if (i == 0) {
            if (v != floor(v) || v <= *epoch || v > 1e7)
                return 0;
            *epoch = (int)v;
        }
        p = stop + 1;
    }
    return 1;
}

soma_status metrics_csv_parse(const char *text, size_t len, const char *name, strbuf *rows)
{
    size_t header = strlen(METRICS_HEADER);
    if (len < header || memcmp(text, METRICS_HEADER, header) != 0)
        return soma_error(SOMA_ERR_FORMAT, "%s:1: not the header soma writes (%.*s)", name,
                          (int)(header - 1), METRICS_HEADER);
    int line_no = 1, epoch = 0;
    for (size_t at = header; at < len;) {
        line_no++;
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        if (!nl)
            return soma_error(SOMA_ERR_FORMAT, "%s:%d: the last row is cut short (no newline)",
                              name, line_no);
        if (!parse_row(line, n, &epoch))
            return soma_error(SOMA_ERR_FORMAT,
                              "%s:%d: not a metrics row (8 numbers, epochs increasing); "
                              "fix or remove the file to resume",
                              name, line_no);
        strbuf_append_n(rows, line, n + 1);
        at += n + 1;
    }
    if (rows->failed)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", name);
    return SOMA_OK;
}

/* Reads DIR/metrics.csv of the run being resumed, if there is one. */
static soma_status read_old_rows(const char *dir, strbuf *rows)
{
    char *path = cli_path_join(dir, "metrics.csv");
    if (!path)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    struct stat sb;
    soma_status st = SOMA_OK;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            st = soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        st = soma_error(SOMA_ERR_FORMAT, "%s: not a regular file", path);
    } else {
        uint8_t *text = NULL;
        size_t len;
        st = read_whole_file(path, METRICS_MAX_BYTES, &text, &len);
        if (st == SOMA_OK)
            st = metrics_csv_parse((const char *)text, len, path, rows);
        free(text);
    }
    free(path);
    return st;
}

soma_status metrics_csv_open(metrics_csv *m, const char *dir, const char *resume_from)
{
    memset(m, 0, sizeof *m);
    strbuf_init(&m->rows);
    m->path = cli_path_join(dir, "metrics.csv");
    if (!m->path)
        return soma_error(SOMA_ERR_MEMORY, "%s/metrics.csv: out of memory", dir);
    if (!resume_from)
        return cli_write_file_atomic(m->path, METRICS_HEADER, strlen(METRICS_HEADER));
    m->drop_from_next = 1;
    return read_old_rows(resume_from, &m->rows);
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
        if (atoi(line) < epoch)
            strbuf_append_n(&kept, line, len);
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

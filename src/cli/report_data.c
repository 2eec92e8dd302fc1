/* Reading a run directory for `soma report`. */
#define _POSIX_C_SOURCE 200809L
#include "cli/report_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/metrics_csv.h"
#include "cli/run_files.h"
#include "core/error.h"
#include "io/atomic_file.h"

/* DIR/NAME read whole; a missing file is SOMA_ERR_IO with `missing` 1. */
static soma_status read_file(const char *dir, const char *name, size_t max, uint8_t **data,
                             size_t *len, char **path_out)
{
    char *path = cli_path_join(dir, name);
    if (!path)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    struct stat sb;
    soma_status st;
    if (stat(path, &sb) != 0)
        st = soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = soma_error(SOMA_ERR_FORMAT, "%s: not a regular file", path);
    else
        st = read_whole_file(path, max, data, len);
    if (path_out && st == SOMA_OK)
        *path_out = path;
    else
        free(path);
    return st;
}

static int exists(const char *dir, const char *name)
{
    char *path = cli_path_join(dir, name);
    int yes = path && access(path, F_OK) == 0;
    free(path);
    return yes;
}

static soma_status read_metrics(run_record *r)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char *path = NULL;
    SOMA_TRY(read_file(r->dir, "metrics.csv", METRICS_MAX_BYTES, &text, &len, &path));
    strbuf rows;
    strbuf_init(&rows);
    soma_status st = metrics_csv_parse((const char *)text, len, path, &rows);
    free(text);
    if (st == SOMA_OK && !rows.data)
        st = soma_error(SOMA_ERR_FORMAT, "%s: no epochs recorded yet", path);
    int n = 0;
    for (const char *p = rows.data; st == SOMA_OK && *p; p++)
        n += *p == '\n';
    if (st == SOMA_OK && !(r->epochs = calloc((size_t)n, sizeof *r->epochs)))
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    /* the rows are checked: 8 numbers each, validation fields possibly empty */
    const char *line = rows.data;
    for (int i = 0; st == SOMA_OK && i < n; i++) {
        double v[8];
        const char *p = line;
        for (int k = 0; k < 8; k++) {
            char *end;
            v[k] = (*p == ',' || *p == '\n') ? NAN : strtod(p, &end);
            p = strpbrk(p, ",\n") + 1;
        }
        epoch_row *e = &r->epochs[i];
        e->epoch = (int)v[0], e->train_loss = v[1], e->train_accuracy = v[2];
        e->val_loss = v[3], e->val_accuracy = v[4], e->lr = v[5], e->seconds = v[6];
        e->images_per_second = v[7];
        line = strchr(line, '\n') + 1;
    }
    r->nepochs = st == SOMA_OK ? n : 0;
    strbuf_free(&rows);
    free(path);
    return st;
}

static soma_status read_summary(run_record *r)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char *path = NULL;
    SOMA_TRY(read_file(r->dir, "summary.json", JSON_MAX_INPUT, &text, &len, &path));
    soma_status st = json_parse((const char *)text, len, path, &r->summary);
    free(text);
    if (st == SOMA_OK && (json_typeof(r->summary) != JSON_OBJECT ||
                          json_typeof(json_object_get(r->summary, "settings")) != JSON_OBJECT))
        st = soma_error(SOMA_ERR_FORMAT, "%s: not a run summary (an object with \"settings\")",
                        path);
    free(path);
    return st;
}

/* confusion.csv: a header of class names, then a row per true class. */
static soma_status read_confusion(run_record *r)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char *path = NULL;
    SOMA_TRY(read_file(r->dir, "confusion.csv", REPORT_MAX_FILE, &text, &len, &path));
    soma_status st = SOMA_OK;
    char *s = (char *)text;
    if (!memchr(s, '\0', len) && len > 0 && s[len - 1] == '\n') {
        s[len - 1] = '\0'; /* read_whole_file keeps a NUL after the data */
    } else {
        st = soma_error(SOMA_ERR_FORMAT, "%s: not a confusion matrix soma wrote", path);
    }
    int classes = 0;
    for (char *p = s; st == SOMA_OK && *p && *p != '\n'; p++)
        classes += *p == ',';
    if (st == SOMA_OK && (classes < 1 || classes > REPORT_MAX_CLASSES))
        st = soma_error(SOMA_ERR_FORMAT, "%s: %d classes (1..%d)", path, classes,
                        REPORT_MAX_CLASSES);
    if (st == SOMA_OK) {
        r->confusion = calloc((size_t)classes * classes, sizeof *r->confusion);
        r->class_names = calloc((size_t)classes, sizeof *r->class_names);
        if (!r->confusion || !r->class_names)
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
        else
            r->classes = classes;
    }
    char *save = NULL, *line = st == SOMA_OK ? strtok_r(s, "\n", &save) : NULL;
    for (int row = -1; st == SOMA_OK && row < classes; row++) {
        if (!line) {
            st = soma_error(SOMA_ERR_FORMAT, "%s: %d rows, want %d", path, row + 1, classes);
            break;
        }
        char *cells = strchr(line, ',');
        for (int k = 0; st == SOMA_OK && k < classes; k++) {
            if (!cells) {
                st = soma_error(SOMA_ERR_FORMAT, "%s:%d: too few cells", path, row + 2);
                break;
            }
            char *cell = cells + 1, *next = strchr(cell, ',');
            if (next)
                *next = '\0';
            if (row < 0) {
                if (!(r->class_names[k] = strdup(cell)))
                    st = soma_error(SOMA_ERR_MEMORY, "out of memory");
            } else {
                char *end;
                errno = 0;
                long long v = strtoll(cell, &end, 10);
                if (end == cell || *end || v < 0 || errno)
                    st = soma_error(SOMA_ERR_FORMAT, "%s:%d: '%s' is not a count", path,
                                    row + 2, cell);
                r->confusion[(size_t)row * classes + k] = v;
            }
            cells = next;
        }
        if (st == SOMA_OK && cells)
            st = soma_error(SOMA_ERR_FORMAT, "%s:%d: too many cells", path, row + 2);
        line = strtok_r(NULL, "\n", &save);
    }
    if (st == SOMA_OK && line)
        st = soma_error(SOMA_ERR_FORMAT, "%s: more rows than classes", path);
    free(text);
    free(path);
    return st;
}

static soma_status read_mistakes(run_record *r)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char *path = NULL;
    SOMA_TRY(read_file(r->dir, "misclassified.csv", REPORT_MAX_FILE, &text, &len, &path));
    const char *header = "index,true,predicted,confidence\n";
    soma_status st = SOMA_OK;
    if (len < strlen(header) || memcmp(text, header, strlen(header)) != 0)
        st = soma_error(SOMA_ERR_FORMAT, "%s:1: not the header soma writes", path);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (st == SOMA_OK && !(r->mistakes = calloc(lines + 1, sizeof *r->mistakes)))
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    const char *p = (const char *)text + strlen(header);
    int line_no = 1;
    while (st == SOMA_OK && p < (const char *)text + len) {
        line_no++;
        mistake_row m;
        int used = 0;
        if (sscanf(p, "%d,%d,%d,%lf%n", &m.index, &m.truth, &m.predicted, &m.confidence, &used) !=
                4 ||
            p[used] != '\n' || m.truth < 0 || m.predicted < 0 || m.index < 0 ||
            (r->classes && (m.truth >= r->classes || m.predicted >= r->classes)) ||
            !(m.confidence >= 0 && m.confidence <= 1)) {
            st = soma_error(SOMA_ERR_FORMAT, "%s:%d: not a misclassified row", path, line_no);
            break;
        }
        r->mistakes[r->nmistakes++] = m;
        p += used + 1;
    }
    free(text);
    free(path);
    return st;
}

static soma_status read_grid(run_record *r)
{
    char *path = NULL;
    SOMA_TRY(read_file(r->dir, "misclassified.png", REPORT_MAX_FILE, &r->grid_png, &r->grid_len,
                       &path));
    static const uint8_t sig[8] = {137, 'P', 'N', 'G', 13, 10, 26, 10};
    soma_status st = SOMA_OK;
    const uint8_t *p = r->grid_png;
    /* the size from the IHDR chunk, which a PNG starts with */
    if (r->grid_len < 24 || memcmp(p, sig, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0)
        st = soma_error(SOMA_ERR_FORMAT, "%s: not a PNG file", path);
    else {
        r->grid_w = (int)((uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | p[18] << 8 | p[19]);
        r->grid_h = (int)((uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | p[22] << 8 | p[23]);
        if (r->grid_w < 1 || r->grid_h < 1 || r->grid_w > 100000 || r->grid_h > 100000)
            st = soma_error(SOMA_ERR_FORMAT, "%s: a %dx%d image", path, r->grid_w, r->grid_h);
    }
    free(path);
    return st;
}

/* The layer table of the tested checkpoint; a run without one is still reported. */
static void read_model(run_record *r)
{
    const char *tested = json_string(json_object_get(r->summary, "tested_checkpoint"));
    char *path = cli_path_join(r->dir, tested && !strchr(tested, '/') ? tested
                                                                      : "last.safetensors");
    soma_model *m = NULL;
    if (path && access(path, R_OK) == 0 && soma_checkpoint_load_model(path, &m) == SOMA_OK)
        r->model_summary = soma_model_summary(m);
    soma_error_clear();
    soma_model_free(m);
    free(path);
}

soma_status run_record_read(const char *dir, run_record *r)
{
    memset(r, 0, sizeof *r);
    r->dir = strdup(dir);
    if (!r->dir)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    size_t n = strlen(r->dir);
    while (n > 1 && r->dir[n - 1] == '/')
        r->dir[--n] = '\0';
    const char *base = strrchr(r->dir, '/');
    r->name = strdup(base ? base + 1 : r->dir);
    if (!r->name)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return soma_error(SOMA_ERR_ARGUMENT, "%s: not a run directory", dir);
    SOMA_TRY(read_metrics(r));
    SOMA_TRY(read_summary(r));
    if (exists(r->dir, "steps.csv")) {
        char *path = cli_path_join(r->dir, "steps.csv");
        soma_status st = path ? steps_csv_read(path, &r->steps)
                              : soma_error(SOMA_ERR_MEMORY, "out of memory");
        free(path);
        SOMA_TRY(st);
    }
    if (exists(r->dir, "confusion.csv"))
        SOMA_TRY(read_confusion(r));
    if (exists(r->dir, "misclassified.csv"))
        SOMA_TRY(read_mistakes(r));
    if (exists(r->dir, "misclassified.png"))
        SOMA_TRY(read_grid(r));
    read_model(r);
    return SOMA_OK;
}

void run_record_free(run_record *r)
{
    free(r->dir), free(r->name), free(r->epochs);
    json_free(r->summary);
    steps_log_free(&r->steps);
    for (int k = 0; k < r->classes && r->class_names; k++)
        free(r->class_names[k]);
    free(r->class_names), free(r->confusion), free(r->mistakes), free(r->grid_png);
    free(r->model_summary);
    memset(r, 0, sizeof *r);
}

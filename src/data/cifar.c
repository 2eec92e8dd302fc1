/* CIFAR-10/100 binary record files: reading, checking and locating them. */
#define _POSIX_C_SOURCE 200809L

#include "data/cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/dataset.h"

size_t cifar_record_size(cifar_kind kind)
{
    return (kind == CIFAR_100 ? 2 : 1) + CIFAR_IMAGE_BYTES;
}

const char *cifar_name(cifar_kind kind) { return kind == CIFAR_100 ? "CIFAR-100" : "CIFAR-10"; }

static int cifar_classes(cifar_kind kind) { return kind == CIFAR_100 ? 100 : 10; }

/* The number of records a file of `len` bytes holds, or an error naming it. */
static soma_status count_records(size_t len, cifar_kind kind, const char *name, size_t *records)
{
    size_t record = cifar_record_size(kind);
    if (len == 0)
        return soma_error(SOMA_ERR_FORMAT, "%s: empty file: not a %s record file", name,
                          cifar_name(kind));
    if (len % record != 0)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: %zu bytes is not a whole number of %zu-byte %s records (%zu "
                          "records and %zu bytes over): truncated or not a %s file",
                          name, len, record, cifar_name(kind), len / record, len % record,
                          cifar_name(kind));
    if (len / record > CIFAR_MAX_RECORDS)
        return soma_error(SOMA_ERR_MEMORY, "%s: %zu records; the limit is %d", name,
                          len / record, CIFAR_MAX_RECORDS);
    *records = len / record;
    return SOMA_OK;
}

/* One record into sample i of ds. */
static soma_status take_record(const uint8_t *rec, cifar_kind kind, const char *name,
                               size_t index, soma_dataset *ds, int i)
{
    int label = rec[kind == CIFAR_100 ? 1 : 0];
    if (kind == CIFAR_100 && rec[0] >= 20)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: record %zu: coarse label %d is out of range (CIFAR-100 has 20 "
                          "superclasses)",
                          name, index, rec[0]);
    if (label >= ds->classes)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: record %zu: label %d is out of range (%s has %d classes)", name,
                          index, label, cifar_name(kind), ds->classes);
    ds->labels[i] = label;
    memcpy(ds->images + (size_t)i * CIFAR_IMAGE_BYTES, rec + (kind == CIFAR_100 ? 2 : 1),
           CIFAR_IMAGE_BYTES);
    return SOMA_OK;
}

soma_status cifar_parse(const uint8_t *bytes, size_t len, cifar_kind kind, const char *name,
                        soma_dataset **out)
{
    *out = NULL;
    size_t records = 0;
    SOMA_TRY(count_records(len, kind, name, &records));
    SOMA_TRY(dataset_create((int)records, 3, 32, 32, cifar_classes(kind), name, out));
    size_t record = cifar_record_size(kind);
    for (size_t r = 0; r < records; r++) {
        soma_status st = take_record(bytes + r * record, kind, name, r, *out, (int)r);
        if (st != SOMA_OK) {
            soma_dataset_free(*out);
            *out = NULL;
            return st;
        }
    }
    return SOMA_OK;
}

static soma_status file_size(const char *path, size_t *len)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return soma_error(SOMA_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return soma_error(SOMA_ERR_IO, "%s: not a regular file", path);
    *len = (size_t)st.st_size;
    return SOMA_OK;
}

/* Reads one file's records into samples first.. of ds. */
static soma_status read_file(const char *path, cifar_kind kind, size_t records, soma_dataset *ds,
                             int first)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return soma_error(SOMA_ERR_IO, "%s: %s", path, strerror(errno));
    size_t record = cifar_record_size(kind);
    uint8_t rec[2 + CIFAR_IMAGE_BYTES];
    soma_status st = SOMA_OK;
    for (size_t r = 0; r < records && st == SOMA_OK; r++) {
        if (fread(rec, 1, record, fp) != record)
            st = soma_error(SOMA_ERR_IO, "%s: read failed or file shrank at record %zu of %zu",
                            path, r, records);
        else
            st = take_record(rec, kind, path, r, ds, first + (int)r);
    }
    fclose(fp);
    return st;
}

soma_status cifar_read(const char *const *paths, int nfiles, cifar_kind kind, const char *source,
                       soma_dataset **out)
{
    *out = NULL;
    size_t counts[CIFAR_MAX_FILES] = {0}, total = 0;
    if (nfiles < 1 || nfiles > CIFAR_MAX_FILES)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: %d CIFAR files (1 to %d)", source, nfiles,
                          CIFAR_MAX_FILES);
    for (int f = 0; f < nfiles; f++) {
        size_t len = 0;
        SOMA_TRY(file_size(paths[f], &len));
        SOMA_TRY(count_records(len, kind, paths[f], &counts[f]));
        total += counts[f];
    }
    if (total > CIFAR_MAX_RECORDS)
        return soma_error(SOMA_ERR_MEMORY, "%s: %zu records; the limit is %d", source, total,
                          CIFAR_MAX_RECORDS);
    SOMA_TRY(dataset_create((int)total, 3, 32, 32, cifar_classes(kind), source, out));
    int first = 0;
    for (int f = 0; f < nfiles; f++) {
        soma_status st = read_file(paths[f], kind, counts[f], *out, first);
        if (st != SOMA_OK) {
            soma_dataset_free(*out);
            *out = NULL;
            return st;
        }
        first += (int)counts[f];
    }
    return SOMA_OK;
}

static int exists(const char *dir, const char *name, char *path, size_t cap)
{
    struct stat st;
    int len = snprintf(path, cap, "%s/%s", dir, name);
    return len > 0 && (size_t)len < cap && stat(path, &st) == 0;
}

#define CIFAR_PATH_MAX 4096

static soma_status load_split(const char *const *list, int n, cifar_kind kind, const char *dir,
                              soma_dataset **out);

/* CIFAR-10's training files: data_batch_1.bin, data_batch_2.bin, ... with no gap. */
static soma_status cifar10_train(const char *dir, soma_dataset **out)
{
    char(*paths)[CIFAR_PATH_MAX] = malloc(sizeof *paths * (CIFAR_MAX_FILES + 1));
    const char *list[CIFAR_MAX_FILES];
    if (!paths)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    int n = 0;
    char name[32];
    soma_status st = SOMA_OK;
    for (int i = 1; i <= CIFAR_MAX_FILES; i++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", i);
        if (!exists(dir, name, paths[n], CIFAR_PATH_MAX))
            break;
        list[n] = paths[n];
        n++;
    }
    if (n == 0) {
        st = soma_error(SOMA_ERR_IO, "%s: CIFAR-10 train split: no data_batch_1.bin here", dir);
    } else {
        /* a later batch without the one before it: a partly copied dataset */
        for (int i = n + 2; i <= CIFAR_MAX_FILES + 1 && st == SOMA_OK; i++) {
            snprintf(name, sizeof name, "data_batch_%d.bin", i);
            if (exists(dir, name, paths[CIFAR_MAX_FILES], CIFAR_PATH_MAX))
                st = soma_error(SOMA_ERR_IO, "%s: found %s but no data_batch_%d.bin before it",
                                dir, name, n + 1);
        }
    }
    if (st == SOMA_OK)
        st = load_split(list, n, CIFAR_10, dir, out);
    free(paths);
    return st;
}

#define CIFAR_NAMES_MAX_BYTES 65536

/* The class names of the archive's text file (batches.meta.txt,
 * fine_label_names.txt), one a line, when the file is there. */
static soma_status read_class_names(const char *dir, cifar_kind kind, soma_dataset *ds)
{
    char path[CIFAR_PATH_MAX];
    const char *name = kind == CIFAR_100 ? "fine_label_names.txt" : "batches.meta.txt";
    if (!exists(dir, name, path, sizeof path))
        return SOMA_OK;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return soma_error(SOMA_ERR_IO, "%s: %s", path, strerror(errno));
    char *text = malloc(CIFAR_NAMES_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, CIFAR_NAMES_MAX_BYTES + 1, fp) : 0;
    fclose(fp);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = SOMA_OK;
    char *names[100];
    int count = 0;
    if (len > CIFAR_NAMES_MAX_BYTES)
        st = soma_error(SOMA_ERR_FORMAT, "%s: longer than %d bytes: not a list of class names",
                        path, CIFAR_NAMES_MAX_BYTES);
    text[len < CIFAR_NAMES_MAX_BYTES ? len : CIFAR_NAMES_MAX_BYTES] = '\0';
    for (char *line = text; st == SOMA_OK && line && *line;) {
        char *end = strchr(line, '\n'), *next = end ? end + 1 : NULL;
        if (!end)
            end = line + strlen(line);
        while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        if (*line) { /* blank lines (the file ends with some) are not names */
            if (count == ds->classes) {
                st = soma_error(SOMA_ERR_FORMAT, "%s: more than the %d class names of %s", path,
                                ds->classes, cifar_name(kind));
                break;
            }
            names[count++] = line;
        }
        line = next;
    }
    if (st == SOMA_OK && count != ds->classes)
        st = soma_error(SOMA_ERR_FORMAT, "%s: %d class names; %s has %d", path, count,
                        cifar_name(kind), ds->classes);
    if (st == SOMA_OK)
        st = dataset_set_class_names(ds, names);
    free(text);
    return st;
}

/* Loads the files, then the class names beside them. */
static soma_status load_split(const char *const *list, int n, cifar_kind kind, const char *dir,
                              soma_dataset **out)
{
    SOMA_TRY(cifar_read(list, n, kind, dir, out));
    soma_status st = read_class_names(dir, kind, *out);
    if (st != SOMA_OK) {
        soma_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

int cifar_find(const char *dir, const char *split, soma_status *status, soma_dataset **out)
{
    char path[CIFAR_PATH_MAX];
    int train = strcmp(split, "train") == 0;
    int is10 = exists(dir, "data_batch_1.bin", path, sizeof path) ||
               exists(dir, "test_batch.bin", path, sizeof path);
    int is100 = exists(dir, "train.bin", path, sizeof path) ||
                exists(dir, "test.bin", path, sizeof path);
    if (!is10 && !is100)
        return 0;
    if (is10 && train) {
        *status = cifar10_train(dir, out);
        return 1;
    }
    const char *file = is10 ? "test_batch.bin" : train ? "train.bin" : "test.bin";
    cifar_kind kind = is10 ? CIFAR_10 : CIFAR_100;
    if (!exists(dir, file, path, sizeof path)) {
        *status = soma_error(SOMA_ERR_IO, "%s: %s %s split: no %s here", dir, cifar_name(kind),
                             split, file);
        return 1;
    }
    const char *list[1] = {path};
    *status = load_split(list, 1, kind, dir, out);
    return 1;
}

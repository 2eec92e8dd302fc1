/*
 * soma_dataset_find: turns "mnist", "fashion-mnist", "cifar-10", "cifar-100"
 * or a directory into the files of a split (a pair of IDX files, or CIFAR
 * record files), searching the usual places in a fixed order.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "data/cifar.h"
#include "data/dataset.h"
#include "data/image_folder.h"

#define FIND_PATH_MAX 4096
#define FIND_MAX_PLACES 8

typedef struct file_pair {
    const char *images, *labels;
} file_pair;

/* In order of preference: the full training set, then the 10k subset. */
static const file_pair train_files[] = {
    {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
    {"train10k-images-idx3-ubyte", "train10k-labels-idx1-ubyte"},
};
static const file_pair test_files[] = {
    {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
};

typedef struct known_dataset {
    const char *name;
    const char *how_to_get;
    const char *wanted; /* the files looked for, when not IDX files */
} known_dataset;

static const known_dataset known_datasets[] = {
    {"mnist", "to get it, run scripts/download-mnist.sh (it fills data/mnist/)", NULL},
    {"fashion-mnist", "to get it, apt-get install dataset-fashion-mnist "
                      "(it fills /usr/share/datasets/fashion-mnist/)", NULL},
    {"cifar-10", "to get it, run scripts/download-cifar.sh (it fills data/cifar-10/; see "
                 "docs/data.md)", "data_batch_1.bin or test_batch.bin"},
    {"cifar-100", "to get it, run scripts/download-cifar.sh 100 (it fills data/cifar-100/; see "
                  "docs/data.md)", "train.bin or test.bin"},
};

/* CIFAR record files in dir, or in the folder their archive unpacks to. */
static int find_cifar(const char *dir, const char *split, soma_status *st, soma_dataset **out)
{
    static const char *const unpacked[] = {"cifar-10-batches-bin", "cifar-100-binary"};
    if (cifar_find(dir, split, st, out))
        return 1;
    char sub[FIND_PATH_MAX];
    for (int i = 0; i < 2; i++) {
        int len = snprintf(sub, sizeof sub, "%s/%s", dir, unpacked[i]);
        if (len > 0 && (size_t)len < sizeof sub && cifar_find(sub, split, st, out))
            return 1;
    }
    return 0;
}

typedef struct places {
    int count;
    char path[FIND_MAX_PLACES][FIND_PATH_MAX];
} places;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static void add_place(places *p, const char *prefix, const char *name)
{
    if (p->count >= FIND_MAX_PLACES)
        return;
    int len = snprintf(p->path[p->count], FIND_PATH_MAX, "%s/%s", prefix, name);
    if (len > 0 && len < FIND_PATH_MAX)
        p->count++;
}

/* Cuts the last component off a path in place; 0 when nothing is left. */
static int strip_last(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    if (slash == path)
        slash[1] = '\0'; /* keep the root */
    else
        *slash = '\0';
    return 1;
}

/* The places a named dataset may be, in search order. The last two follow
 * the executable, so build/soma finds the repository's data/ from any cwd. */
static void named_places(const char *name, places *p)
{
    const char *env = getenv("SOMA_DATA");
    if (env && *env)
        add_place(p, env, name);
    add_place(p, "./data", name);
    add_place(p, "../shared/data", name);
    add_place(p, "/usr/share/datasets", name);

    char exe[FIND_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return;
    exe[len] = '\0';
    char data[FIND_PATH_MAX + 8];
    if (!strip_last(exe)) /* the executable's directory */
        return;
    for (int up = 0; up < 2; up++) { /* its parent, then its grandparent */
        if (strcmp(exe, "/") == 0 || !strip_last(exe))
            return;
        snprintf(data, sizeof data, "%s/data", strcmp(exe, "/") == 0 ? "" : exe);
        add_place(p, data, name);
    }
}

/* Sets `out` to dir/base.gz or dir/base, whichever exists (gzip first). */
static int find_file(const char *dir, const char *base, char *out, size_t cap)
{
    static const char *const suffixes[] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        int len = snprintf(out, cap, "%s/%s%s", dir, base, suffixes[i]);
        if (len > 0 && (size_t)len < cap && is_file(out))
            return 1;
    }
    return 0;
}

enum found { FOUND_NONE, FOUND_PARTIAL, FOUND_PAIR };

/* Looks for a split's files in one directory, in order of preference. The
 * first file found without its partner is described in `partial` (if still
 * empty), so a half-copied dataset gets a precise error. */
static enum found look_in_dir(const char *dir, const file_pair *pairs, int npairs,
                              char *images, char *labels, char *partial, size_t cap)
{
    enum found found = FOUND_NONE;
    for (int i = 0; i < npairs; i++) {
        int has_images = find_file(dir, pairs[i].images, images, cap);
        int has_labels = find_file(dir, pairs[i].labels, labels, cap);
        if (has_images && has_labels)
            return FOUND_PAIR;
        if (has_images || has_labels) {
            found = FOUND_PARTIAL;
            if (!partial[0])
                snprintf(partial, cap, "found %s but no %s[.gz] beside it",
                         has_images ? images : labels,
                         has_images ? pairs[i].labels : pairs[i].images);
        }
    }
    return found;
}

/* "train-images-idx3-ubyte[.gz] or train10k-images-idx3-ubyte[.gz]" */
static void describe_files(const file_pair *pairs, int npairs, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < npairs && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s[.gz]", i ? " or " : "",
                                pairs[i].images);
}

static soma_status find_named(const known_dataset *known, const char *split,
                              const file_pair *pairs, int npairs, soma_dataset **out)
{
    places *p = calloc(1, sizeof *p);
    char *images = malloc(FIND_PATH_MAX), *labels = malloc(FIND_PATH_MAX);
    char *partial = calloc(1, FIND_PATH_MAX), *msg = malloc(1024);
    soma_status st = SOMA_OK;
    if (!p || !images || !labels || !partial || !msg) {
        st = soma_error(SOMA_ERR_MEMORY, "out of memory looking for '%s'", known->name);
        goto done;
    }
    named_places(known->name, p);
    for (int i = 0; i < p->count; i++) {
        if (find_cifar(p->path[i], split, &st, out))
            goto done;
        if (look_in_dir(p->path[i], pairs, npairs, images, labels, partial, FIND_PATH_MAX) ==
            FOUND_PAIR) {
            st = soma_dataset_load_idx(images, labels, out);
            goto done;
        }
    }
    if (partial[0]) {
        st = soma_error(SOMA_ERR_IO, "dataset '%s' (%s split): %s", known->name, split, partial);
        goto done;
    }
    char wanted[256];
    describe_files(pairs, npairs, wanted, sizeof wanted);
    size_t len = (size_t)snprintf(msg, 1024, "dataset '%s' (%s split) not found: looked for %s "
                                  "%s in", known->name, split, known->wanted ? known->wanted
                                  : wanted, known->wanted ? "" : "with its labels");
    for (int i = 0; i < p->count && len < 1024; i++)
        len += (size_t)snprintf(msg + len, 1024 - len, "%s %s", i ? "," : "", p->path[i]);
    const char *env = getenv("SOMA_DATA");
    if (env && *env)
        st = soma_error(SOMA_ERR_IO, "%s; %s", msg, known->how_to_get);
    else
        st = soma_error(SOMA_ERR_IO, "%s; %s, or set SOMA_DATA to a folder holding %s/", msg,
                        known->how_to_get, known->name);
done:
    free(p);
    free(images);
    free(labels);
    free(partial);
    free(msg);
    return st;
}

static soma_status find_in_directory(const char *dir, const char *split, const file_pair *pairs,
                                     int npairs, const soma_data_options *options,
                                     soma_dataset **out)
{
    if (!is_dir(dir))
        return soma_error(SOMA_ERR_IO,
                          "%s: %s, and not a dataset name (mnist, fashion-mnist, cifar-10, "
                          "cifar-100)",
                          dir, is_file(dir) ? "not a directory" : "no such directory");
    soma_status cifar_status;
    if (pairs && find_cifar(dir, split, &cifar_status, out))
        return cifar_status;
    if (image_folder_detect(dir))
        return image_folder_open(dir, split, options, out);
    if (!pairs)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: split '%s' is for image folders (DIR/%s/CLASS/...); this is not one",
                          dir, split, split);
    char *images = malloc(FIND_PATH_MAX), *labels = malloc(FIND_PATH_MAX);
    char *partial = calloc(1, FIND_PATH_MAX);
    soma_status st;
    if (!images || !labels || !partial) {
        st = soma_error(SOMA_ERR_MEMORY, "out of memory looking in %s", dir);
    } else {
        enum found found = look_in_dir(dir, pairs, npairs, images, labels, partial,
                                       FIND_PATH_MAX);
        if (found == FOUND_PAIR) {
            st = soma_dataset_load_idx(images, labels, out);
        } else if (found == FOUND_PARTIAL) {
            st = soma_error(SOMA_ERR_IO, "%s: %s split: %s", dir, split, partial);
        } else {
            char wanted[256];
            describe_files(pairs, npairs, wanted, sizeof wanted);
            st = soma_error(SOMA_ERR_IO, "%s: no %s split here: expected %s with its labels", dir,
                            split, wanted);
        }
    }
    free(images);
    free(labels);
    free(partial);
    return st;
}

soma_status soma_dataset_find_ex(const char *name_or_dir, const char *split,
                                 const soma_data_options *options, soma_dataset **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_find: no output given");
    *out = NULL;
    if (!name_or_dir || !*name_or_dir)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_find: no dataset name given");
    const file_pair *pairs = NULL;
    int npairs = 0;
    if (split && strcmp(split, "train") == 0) {
        pairs = train_files;
        npairs = (int)(sizeof train_files / sizeof train_files[0]);
    } else if (split && strcmp(split, "test") == 0) {
        pairs = test_files;
        npairs = (int)(sizeof test_files / sizeof test_files[0]);
    } else if (!split || strcmp(split, "val") != 0) { /* val: image folders only */
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: unknown split '%s' (expected train, test, or val for an image "
                          "folder)",
                          name_or_dir, split ? split : "(null)");
    }
    for (size_t i = 0; i < sizeof known_datasets / sizeof known_datasets[0]; i++)
        if (strcmp(name_or_dir, known_datasets[i].name) == 0) {
            if (!pairs)
                return soma_error(SOMA_ERR_ARGUMENT, "%s: no split 'val' (train or test)",
                                  name_or_dir);
            return find_named(&known_datasets[i], split, pairs, npairs, out);
        }
    return find_in_directory(name_or_dir, split, pairs, npairs, options, out);
}

soma_status soma_dataset_find(const char *name_or_dir, const char *split, soma_dataset **out)
{
    return soma_dataset_find_ex(name_or_dir, split, NULL, out);
}

/* Image folders as streamed datasets: scanning the tree, loading one sample at a time. */
#define _POSIX_C_SOURCE 200809L

#include "data/image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_file.h"

/* What the stream holds: the files, and how to make each a sample. */
typedef struct folder {
    int n, c, h, w;
    soma_image_fit fit;
    char **paths;
} folder;

static void folder_free(void *state)
{
    folder *f = state;
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free(f->paths[i]);
    free(f->paths);
    free(f);
}

static soma_status folder_load(const void *state, int index, uint8_t *out)
{
    const folder *f = state;
    return image_file_sample(f->paths[index], f->c, f->h, f->w, f->fit, out);
}

static soma_status folder_load_random(const void *state, int index, const resized_crop *rc,
                                      rng *r, uint8_t *out)
{
    const folder *f = state;
    return image_file_sample_random(f->paths[index], f->c, f->h, f->w, rc, r, out);
}

static folder *folder_new(int n, const folder *like)
{
    folder *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    *f = (folder){0, like->c, like->h, like->w, like->fit, calloc((size_t)n + 1, sizeof(char *))};
    if (!f->paths) {
        free(f);
        return NULL;
    }
    return f;
}

static soma_status folder_subset(const void *state, const int *indices, int n, void **out)
{
    const folder *f = state;
    folder *s = folder_new(n, f);
    if (!s)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    for (; s->n < n; s->n++)
        if (!(s->paths[s->n] = strdup(f->paths[indices[s->n]]))) {
            folder_free(s);
            return soma_error(SOMA_ERR_MEMORY, "out of memory");
        }
    *out = s;
    return SOMA_OK;
}

static const dataset_stream folder_stream = {folder_load, folder_subset, folder_free,
                                             folder_load_random};

/* ---------------------------------------------------------------- scanning */

typedef struct names {
    int count, cap;
    char **items;
} names;

static void names_free(names *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int names_add(names *l, const char *s)
{
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, sizeof *items * (size_t)cap);
        if (!items)
            return 0;
        l->items = items;
        l->cap = cap;
    }
    return (l->items[l->count] = strdup(s)) ? (l->count++, 1) : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_image_name(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".pgm"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

/* The entries of `dir` that are folders (want_dirs) or image files, sorted;
 * hidden names are skipped. */
static soma_status list_dir(const char *dir, int want_dirs, names *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    char path[4096];
    soma_status st = SOMA_OK;
    struct dirent *e;
    while (st == SOMA_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int keep = want_dirs ? is_dir(path) : is_image_name(e->d_name) && !is_dir(path);
        if (keep && !names_add(out, e->d_name))
            st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory listing it", dir);
        if (out->count > IMAGE_FOLDER_MAX_FILES)
            st = soma_error(SOMA_ERR_MEMORY, "%s: more than %d entries", dir,
                            IMAGE_FOLDER_MAX_FILES);
    }
    closedir(d);
    if (st == SOMA_OK && out->count > 1)
        qsort(out->items, (size_t)out->count, sizeof *out->items, by_name);
    return st;
}

int image_folder_detect(const char *root)
{
    static const char *const splits[] = {"train", "test", "val"};
    char path[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", root, splits[i]);
        if (is_dir(path))
            return 1;
    }
    return 0;
}

static int find_class(const names *classes, const char *name)
{
    char *const *hit = bsearch(&name, classes->items, (size_t)classes->count,
                               sizeof *classes->items, by_name);
    return hit ? (int)(hit - classes->items) : -1;
}

/* Every image of split_dir, with its label, into files and labels (grown as needed). */
static soma_status scan_split(const char *split_dir, const names *classes, names *files,
                              int32_t **labels)
{
    names here = {0};
    SOMA_TRY(list_dir(split_dir, 1, &here));
    soma_status st = SOMA_OK;
    char path[4096];
    size_t cap = 0;
    for (int k = 0; k < here.count && st == SOMA_OK; k++) {
        int label = find_class(classes, here.items[k]);
        snprintf(path, sizeof path, "%s/%s", split_dir, here.items[k]);
        if (label < 0) {
            st = soma_error(SOMA_ERR_FORMAT,
                            "%s: class '%s' is not among the %d classes of the train folder",
                            path, here.items[k], classes->count);
            break;
        }
        names images = {0};
        st = list_dir(path, 0, &images);
        for (int i = 0; i < images.count && st == SOMA_OK; i++) {
            char file[8192];
            snprintf(file, sizeof file, "%s/%s", path, images.items[i]);
            if ((size_t)files->count >= cap) {
                cap = cap ? cap * 2 : 1024;
                int32_t *grown = realloc(*labels, sizeof **labels * cap);
                if (!grown) {
                    st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory", split_dir);
                    break;
                }
                *labels = grown;
            }
            (*labels)[files->count] = label;
            if (!names_add(files, file))
                st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory", split_dir);
            else if (files->count > IMAGE_FOLDER_MAX_FILES)
                st = soma_error(SOMA_ERR_MEMORY, "%s: more than %d images", split_dir,
                                IMAGE_FOLDER_MAX_FILES);
        }
        names_free(&images);
    }
    names_free(&here);
    return st;
}

/* skip_bad: decodes every file once, and keeps those that decode. */
static soma_status drop_bad(const soma_data_options *opt, names *files, int32_t *labels,
                            int *skipped)
{
    uint8_t *buf = malloc((size_t)opt->channels * opt->height * opt->width);
    if (!buf)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    int kept = 0;
    for (int i = 0; i < files->count; i++) {
        if (image_file_sample(files->items[i], opt->channels, opt->height, opt->width,
                              opt->fit, buf) != SOMA_OK) {
            free(files->items[i]);
            continue;
        }
        files->items[kept] = files->items[i];
        labels[kept++] = labels[i];
    }
    *skipped = files->count - kept;
    files->count = kept;
    free(buf);
    soma_error_clear();
    return SOMA_OK;
}

static soma_status check_options(const char *root, const soma_data_options *opt)
{
    if (!opt || opt->height < 1 || opt->width < 1)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: an image folder needs the sample shape to fit its images to "
                          "(soma_dataset_find_ex with the model's input shape)",
                          root);
    if (opt->channels != 1 && opt->channels != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: the model takes %d channels; images give 1 (gray) or 3 (RGB)",
                          root, opt->channels);
    return SOMA_OK;
}

/* The folder's classes: those of ROOT/train, else those of the split. */
static soma_status read_classes(const char *root, const char *split_dir, names *classes)
{
    char train[4096];
    snprintf(train, sizeof train, "%s/train", root);
    const char *from = is_dir(train) ? train : split_dir;
    SOMA_TRY(list_dir(from, 1, classes));
    if (classes->count < 1)
        return soma_error(SOMA_ERR_FORMAT, "%s: no class folders (expected %s/CLASS/*.png|jpg)",
                          from, from);
    return SOMA_OK;
}

soma_status image_folder_open(const char *root, const char *split, const soma_data_options *opt,
                              soma_dataset **out)
{
    *out = NULL;
    SOMA_TRY(check_options(root, opt));
    soma_data_options o = *opt;
    if (o.fit == SOMA_FIT_EXACT)
        o.fit = SOMA_FIT_CENTER_CROP;
    char split_dir[4096];
    snprintf(split_dir, sizeof split_dir, "%s/%s", root, split);
    if (!is_dir(split_dir))
        return soma_error(SOMA_ERR_IO, "%s: image folder without a %s split (no %s/)", root,
                          split, split_dir);
    names classes = {0}, files = {0};
    int32_t *labels = NULL;
    int skipped = 0;
    soma_status st = read_classes(root, split_dir, &classes);
    if (st == SOMA_OK)
        st = scan_split(split_dir, &classes, &files, &labels);
    if (st == SOMA_OK && o.skip_bad_images)
        st = drop_bad(&o, &files, labels, &skipped);
    if (st == SOMA_OK && files.count == 0)
        st = soma_error(SOMA_ERR_FORMAT, "%s: no images%s (expected %s/CLASS/*.png|jpg|jpeg|pgm)",
                        split_dir, skipped ? " that decode" : "", split_dir);
    folder *f = NULL;
    if (st == SOMA_OK) {
        folder like = {0, o.channels, o.height, o.width, o.fit, NULL};
        f = folder_new(0, &like);
        if (!f)
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    if (st == SOMA_OK) {
        free(f->paths);
        f->paths = files.items; /* the folder takes the paths */
        f->n = files.count;
        int n = files.count;
        files = (names){0};
        st = dataset_create_streamed(n, o.channels, o.height, o.width, classes.count, split_dir,
                                     &folder_stream, f, out);
        if (st == SOMA_OK) {
            memcpy((*out)->labels, labels, sizeof *labels * (size_t)n);
            (*out)->skipped = skipped;
            st = dataset_set_class_names(*out, classes.items);
        }
        if (st != SOMA_OK) {
            soma_dataset_free(*out);
            *out = NULL;
        }
    }
    free(labels);
    names_free(&files);
    names_free(&classes);
    return st;
}

/* Datasets: creating, loading from IDX, accessors, validation split. */
#define _POSIX_C_SOURCE 200809L

#include "data/dataset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/idx.h"

static void free_names(soma_dataset *ds)
{
    if (ds->class_names)
        for (int k = 0; k < ds->classes; k++)
            free(ds->class_names[k]);
    free(ds->class_names);
    ds->class_names = NULL;
}

/* The checks and the struct shared by in-memory and streamed datasets. */
static soma_status dataset_shell(int n, int c, int h, int w, int classes, const char *source,
                                 soma_dataset **out)
{
    *out = NULL;
    if (n < 1 || c < 1 || h < 1 || w < 1 || classes < 1 || classes > DATASET_MAX_CLASSES)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: bad dataset shape %d x %d x %d x %d with %d classes",
                          source ? source : "dataset", n, c, h, w, classes);
    size_t sample = (size_t)c * (size_t)h * (size_t)w;
    if (sample > INT_MAX || (size_t)n > SIZE_MAX / sample)
        return soma_error(SOMA_ERR_MEMORY, "%s: dataset of %d x %d x %d x %d is too large",
                          source ? source : "dataset", n, c, h, w);
    soma_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return soma_error(SOMA_ERR_MEMORY, "out of memory for a dataset");
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->classes = classes;
    ds->labels = calloc((size_t)n, sizeof *ds->labels);
    ds->source = strdup(source ? source : "");
    if (!ds->labels || !ds->source) {
        soma_dataset_free(ds);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %d labels",
                          source ? source : "dataset", n);
    }
    *out = ds;
    return SOMA_OK;
}

soma_status dataset_create(int n, int c, int h, int w, int classes, const char *source,
                           soma_dataset **out)
{
    SOMA_TRY(dataset_shell(n, c, h, w, classes, source, out));
    size_t sample = dataset_sample_size(*out);
    (*out)->images = calloc((size_t)n, sample);
    if (!(*out)->images) {
        soma_dataset_free(*out);
        *out = NULL;
        return soma_error(SOMA_ERR_MEMORY, "%s: cannot allocate %zu bytes of images",
                          source ? source : "dataset", (size_t)n * sample);
    }
    return SOMA_OK;
}

soma_status dataset_create_streamed(int n, int c, int h, int w, int classes, const char *source,
                                    const dataset_stream *stream, void *state,
                                    soma_dataset **out)
{
    soma_status st = dataset_shell(n, c, h, w, classes, source, out);
    if (st != SOMA_OK) {
        stream->free(state);
        return st;
    }
    (*out)->stream = stream;
    (*out)->stream_state = state;
    return SOMA_OK;
}

soma_status dataset_set_class_names(soma_dataset *ds, char *const *names)
{
    char **copy = calloc((size_t)ds->classes, sizeof *copy);
    if (!copy)
        return soma_error(SOMA_ERR_MEMORY, "out of memory for %d class names", ds->classes);
    for (int k = 0; k < ds->classes; k++)
        if (!(copy[k] = strdup(names[k] ? names[k] : ""))) {
            for (int j = 0; j < k; j++)
                free(copy[j]);
            free(copy);
            return soma_error(SOMA_ERR_MEMORY, "out of memory for %d class names", ds->classes);
        }
    free_names(ds);
    ds->class_names = copy;
    return SOMA_OK;
}

size_t dataset_sample_size(const soma_dataset *ds)
{
    return (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
}

/* Builds the dataset around the two arrays, taking their buffers. */
static soma_status dataset_from_arrays(const char *images_path, const char *labels_path,
                                       idx_array *images, idx_array *labels, soma_dataset **out)
{
    if (images->ndim != 3 && images->ndim != 4)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: expected images with 3 (N x H x W) or 4 (N x C x H x W) "
                          "dimensions, got %d (is it a label file?)", images_path, images->ndim);
    if (!labels_path) { /* images only (prediction): all labels 0, no classes */
        labels->ndim = 1;
        labels->dims[0] = images->dims[0];
        labels->size = images->dims[0];
        labels->data = calloc(labels->size ? labels->size : 1, 1);
        if (!labels->data)
            return soma_error(SOMA_ERR_MEMORY, "out of memory for %zu labels", labels->size);
    }
    if (labels->ndim != 1)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: expected labels with 1 dimension, got %d (is it an image file?)",
                          labels_path, labels->ndim);
    if (images->dims[0] != labels->dims[0])
        return soma_error(SOMA_ERR_SHAPE, "%s has %u images but %s has %u labels", images_path,
                          (unsigned)images->dims[0], labels_path, (unsigned)labels->dims[0]);
    soma_dataset *ds = calloc(1, sizeof *ds);
    char *source = strdup(images_path);
    /* IDX labels are bytes; the dataset keeps int32 labels (wider datasets) */
    int32_t *wide = malloc((labels->size ? labels->size : 1) * sizeof *wide);
    if (!ds || !source || !wide) {
        free(ds);
        free(source);
        free(wide);
        return soma_error(SOMA_ERR_MEMORY, "out of memory for a dataset");
    }
    int four = images->ndim == 4;
    /* The IDX limits (1 GiB, 1e8 items) keep every count within int. */
    ds->n = (int)images->dims[0];
    ds->c = four ? (int)images->dims[1] : 1;
    ds->h = (int)images->dims[1 + four];
    ds->w = (int)images->dims[2 + four];
    int max_label = 0;
    for (size_t i = 0; i < labels->size; i++) {
        wide[i] = labels->data[i];
        if (labels->data[i] > max_label)
            max_label = labels->data[i];
    }
    ds->classes = labels_path ? max_label + 1 : 0;
    ds->images = images->data;
    ds->labels = wide;
    ds->source = source;
    images->data = NULL;
    *out = ds;
    return SOMA_OK;
}

soma_status soma_dataset_load_idx(const char *images_path, const char *labels_path,
                                  soma_dataset **out)
{
    if (!out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_load_idx: no output given");
    *out = NULL;
    if (!images_path)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_load_idx: missing file path");
    idx_array images, labels = {0};
    SOMA_TRY(idx_read(images_path, &images));
    soma_status st = labels_path ? idx_read(labels_path, &labels) : SOMA_OK;
    if (st == SOMA_OK)
        st = dataset_from_arrays(images_path, labels_path, &images, &labels, out);
    idx_free(&images);
    idx_free(&labels);
    return st;
}

void soma_dataset_free(soma_dataset *ds)
{
    if (!ds)
        return;
    free(ds->images);
    free(ds->labels);
    free(ds->source);
    free_names(ds);
    if (ds->stream)
        ds->stream->free(ds->stream_state);
    free(ds);
}

int soma_dataset_count(const soma_dataset *ds) { return ds ? ds->n : 0; }

void soma_dataset_shape(const soma_dataset *ds, int *c, int *h, int *w)
{
    if (c)
        *c = ds ? ds->c : 0;
    if (h)
        *h = ds ? ds->h : 0;
    if (w)
        *w = ds ? ds->w : 0;
}

int soma_dataset_classes(const soma_dataset *ds) { return ds ? ds->classes : 0; }

soma_status soma_dataset_label(const soma_dataset *ds, int i, int *label)
{
    if (!ds || !label)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_label: no %s given",
                          ds ? "output" : "dataset");
    if (i < 0 || i >= ds->n)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: sample %d is out of range (%d samples)",
                          ds->source, i, ds->n);
    *label = ds->labels[i];
    return SOMA_OK;
}

const char *soma_dataset_source(const soma_dataset *ds)
{
    return ds && ds->source ? ds->source : "";
}

const char *soma_dataset_class_name(const soma_dataset *ds, int label)
{
    if (!ds || !ds->class_names || label < 0 || label >= ds->classes)
        return NULL;
    return ds->class_names[label];
}

int soma_dataset_skipped(const soma_dataset *ds) { return ds ? ds->skipped : 0; }

/* A new dataset holding samples indices[0..n) of `ds`, in that order. */
static soma_status dataset_subset(const soma_dataset *ds, const int *indices, int n,
                                  soma_dataset **out)
{
    if (ds->stream) {
        void *state;
        SOMA_TRY(ds->stream->subset(ds->stream_state, indices, n, &state));
        SOMA_TRY(dataset_create_streamed(n, ds->c, ds->h, ds->w, ds->classes, ds->source,
                                         ds->stream, state, out));
    } else {
        SOMA_TRY(dataset_create(n, ds->c, ds->h, ds->w, ds->classes, ds->source, out));
        size_t sample = dataset_sample_size(ds);
        for (int i = 0; i < n; i++)
            memcpy((*out)->images + (size_t)i * sample,
                   ds->images + (size_t)indices[i] * sample, sample);
    }
    for (int i = 0; i < n; i++)
        (*out)->labels[i] = ds->labels[indices[i]];
    soma_status st = ds->class_names ? dataset_set_class_names(*out, ds->class_names) : SOMA_OK;
    if (st != SOMA_OK) {
        soma_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

soma_status soma_dataset_split(const soma_dataset *ds, double fraction, uint64_t seed,
                               soma_dataset **train, soma_dataset **val)
{
    if (!ds || !train || !val)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_split: missing dataset or output");
    *train = *val = NULL;
    if (!(fraction >= 0.0 && fraction < 1.0))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: validation fraction %g is outside [0, 1)", ds->source, fraction);
    long long n_val = llround(fraction * ds->n);
    if (fraction > 0.0 && n_val == 0)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: validation fraction %g of %d samples is an empty validation set",
                          ds->source, fraction, ds->n);
    if (n_val >= ds->n)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: validation fraction %g of %d samples leaves no training samples",
                          ds->source, fraction, ds->n);

    int n = ds->n;
    int *perm = malloc((size_t)n * sizeof *perm);
    unsigned char *in_val = calloc((size_t)n, 1);
    if (!perm || !in_val) {
        free(perm);
        free(in_val);
        return soma_error(SOMA_ERR_MEMORY, "out of memory splitting %d samples", n);
    }
    for (int i = 0; i < n; i++)
        perm[i] = i;
    rng r;
    rng_init(&r, seed, RNG_SPLIT, 0, 0);
    rng_shuffle(&r, perm, n);
    for (long long i = 0; i < n_val; i++)
        in_val[perm[i]] = 1;
    /* Reuse perm for the index lists, ascending so the order is stable:
     * validation indices first, then training indices. */
    int nv = 0, nt = (int)n_val;
    for (int i = 0; i < n; i++)
        perm[in_val[i] ? nv++ : nt++] = i;
    free(in_val);

    soma_status st = dataset_subset(ds, perm + n_val, n - (int)n_val, train);
    if (st == SOMA_OK && n_val > 0)
        st = dataset_subset(ds, perm, (int)n_val, val);
    free(perm);
    if (st != SOMA_OK) {
        soma_dataset_free(*train);
        *train = NULL;
    }
    return st;
}

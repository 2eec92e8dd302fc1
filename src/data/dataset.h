/*
 * Image classification datasets: uint8 images (NCHW) with int32 labels
 * (ImageNet's 1000 classes and more). The images are in memory (IDX, CIFAR)
 * or streamed: decoded from files a batch at a time (image folders), through
 * a dataset_stream. The public soma_dataset_* functions live in dataset.c (loading,
 * splitting, conversion) and dataset_find.c (locating named datasets).
 */
#ifndef SOMA_DATA_DATASET_H
#define SOMA_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "data/resize.h"
#include "soma.h"

/* Where a streamed dataset's samples come from. `load` may run on several
 * threads at once (the slices of a training step). */
typedef struct dataset_stream {
    /* Sample `index` as c * h * w bytes, CHW, into `out`. */
    soma_status (*load)(const void *state, int index, uint8_t *out);
    /* A new state holding samples indices[0..n) of `state`, in that order. */
    soma_status (*subset)(const void *state, const int *indices, int n, void **out);
    void (*free)(void *state);
    /* Sample `index` from a random-resized crop of its image at full
     * resolution, the box drawn from `r`; NULL when samples are not cut from
     * larger images (in-memory data has no such hook either). */
    soma_status (*load_random)(const void *state, int index, const resized_crop *rc, rng *r,
                               uint8_t *out);
} dataset_stream;

struct soma_dataset {
    int n;           /* samples */
    int c, h, w;     /* shape of one sample */
    int classes;     /* max label + 1 (kept by subsets, even if a class is absent there) */
    uint8_t *images; /* n * c * h * w bytes, sample-major NCHW; NULL when streamed */
    int32_t *labels; /* n labels, each in [0, classes) */
    char *source;    /* where the images came from (the image file's path) */
    char **class_names;           /* `classes` names, or NULL */
    const dataset_stream *stream; /* how samples are loaded when not in memory */
    void *stream_state;
    int skipped;                  /* unreadable images left out when opened */
};

/* A new dataset with zeroed images and labels for the caller to fill (loaders,
 * subsets, synthetic data in tests). `source` is copied. */
soma_status dataset_create(int n, int c, int h, int w, int classes, const char *source,
                           soma_dataset **out);

/* The most classes a dataset may have (labels 0 .. DATASET_MAX_CLASSES - 1). */
#define DATASET_MAX_CLASSES 1000000

/* A streamed dataset: labels zeroed, no images in memory; takes `state`
 * (freed through the stream, also on failure). */
soma_status dataset_create_streamed(int n, int c, int h, int w, int classes, const char *source,
                                    const dataset_stream *stream, void *state,
                                    soma_dataset **out);

/* Copies names[0..ds->classes) as the class names. */
soma_status dataset_set_class_names(soma_dataset *ds, char *const *names);

/* Sample i's bytes, CHW, in *bytes: in memory, or loaded into `buf` (sample
 * size bytes) when streamed. */
soma_status dataset_sample_bytes(const soma_dataset *ds, int i, uint8_t *buf,
                                 const uint8_t **bytes);

/* Bytes per sample (c * h * w). */
size_t dataset_sample_size(const soma_dataset *ds);

/* Converts samples indices[0..n) to normalised floats, channel c of each
 * (x/255 - mean[c]) / std[c] (mean and std hold one value per channel), NCHW,
 * in `out` (n * c*h*w floats), and their labels into `labels` (may be NULL).
 * Indices must be valid; this runs every training step. */
soma_status dataset_gather(const soma_dataset *ds, const int *indices, int n, const float *mean,
                           const float *std, float *out, int32_t *labels);
/* Asks the memory system for samples indices[0..n) (the first bytes of each,
 * as dataset_gather's own look-ahead does, and their labels) without
 * waiting: shuffled samples come from main memory, and a gather of them a
 * few hundred microseconds later finds them in the caches. Nothing for a
 * streamed dataset. */
void dataset_prefetch(const soma_dataset *ds, const int *indices, int n);
/* The same as raw pixels x/255 in [0, 1]: what augmentation starts from. */
soma_status dataset_gather_raw(const soma_dataset *ds, const int *indices, int n, float *out,
                               int32_t *labels);

/* A random-resized crop of each sample's decoded image, drawn per sample
 * from the stream (seed, RNG_AUGMENT_CROP, epoch, sample index): first a
 * coin that applies it with probability p, then the box. */
typedef struct dataset_crop {
    resized_crop rc;
    float p;
    uint64_t seed;
    int epoch;
} dataset_crop;

/* Whether the dataset's samples can be cut by a random-resized crop (a
 * stream with load_random: image folders). */
int dataset_can_crop(const soma_dataset *ds);

/* dataset_gather_raw with a random-resized crop of each sample (samples
 * whose coin fails are fitted as usual); dataset_can_crop must hold. */
soma_status dataset_gather_raw_cropped(const soma_dataset *ds, const int *indices, int n,
                                       const dataset_crop *crop, float *out, int32_t *labels);

/* Per channel, the mean and (population) standard deviation of x/255 over
 * every pixel of the dataset in mean[0..c) and std[0..c), accumulated exactly
 * through byte histograms. A streamed dataset is sampled: at most
 * DATASET_STATS_SAMPLES images, evenly spaced. A channel whose pixels are
 * all equal gets std 1, so normalising never divides by zero. */
#define DATASET_STATS_SAMPLES 2000
soma_status dataset_pixel_stats(const soma_dataset *ds, float *mean, float *std);

#endif

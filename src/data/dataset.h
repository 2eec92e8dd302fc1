/*
 * In-memory image classification datasets: uint8 images (NCHW) with int32
 * labels (ImageNet's 1000 classes and more). The public soma_dataset_* functions live in dataset.c (loading,
 * splitting, conversion) and dataset_find.c (locating named datasets).
 */
#ifndef SOMA_DATA_DATASET_H
#define SOMA_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

struct soma_dataset {
    int n;           /* samples */
    int c, h, w;     /* shape of one sample */
    int classes;     /* max label + 1 (kept by subsets, even if a class is absent there) */
    uint8_t *images; /* n * c * h * w bytes, sample-major NCHW */
    int32_t *labels; /* n labels, each in [0, classes) */
    char *source;    /* where the images came from (the image file's path) */
};

/* A new dataset with zeroed images and labels for the caller to fill (loaders,
 * subsets, synthetic data in tests). `source` is copied. */
soma_status dataset_create(int n, int c, int h, int w, int classes, const char *source,
                           soma_dataset **out);

/* The most classes a dataset may have (labels 0 .. DATASET_MAX_CLASSES - 1). */
#define DATASET_MAX_CLASSES 1000000

/* Bytes per sample (c * h * w). */
size_t dataset_sample_size(const soma_dataset *ds);

/* Converts samples indices[0..n) to normalised floats, channel c of each
 * (x/255 - mean[c]) / std[c] (mean and std hold one value per channel), NCHW,
 * in `out` (n * c*h*w floats), and their labels into `labels` (may be NULL).
 * Indices must be valid; this runs every training step. */
soma_status dataset_gather(const soma_dataset *ds, const int *indices, int n, const float *mean,
                           const float *std, float *out, int32_t *labels);

/* Per channel, the mean and (population) standard deviation of x/255 over
 * every pixel of the dataset in mean[0..c) and std[0..c), accumulated exactly
 * through byte histograms. A channel whose pixels are all equal gets std 1,
 * so normalising never divides by zero. */
soma_status dataset_pixel_stats(const soma_dataset *ds, float *mean, float *std);

#endif

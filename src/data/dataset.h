/*
 * In-memory image classification datasets: uint8 images (NCHW) with uint8
 * labels. The public soma_dataset_* functions live in dataset.c (loading,
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
    uint8_t *labels; /* n labels, each < classes */
    char *source;    /* where the images came from (the image file's path) */
};

/* A new dataset with zeroed images and labels for the caller to fill (loaders,
 * subsets, synthetic data in tests). `source` is copied. */
soma_status dataset_create(int n, int c, int h, int w, int classes, const char *source,
                           soma_dataset **out);

/* Bytes per sample (c * h * w). */
size_t dataset_sample_size(const soma_dataset *ds);

/* Converts samples indices[0..n) to normalised floats (x/255 - mean) / std,
 * NCHW, in `out` (n * c*h*w floats), and their labels into `labels` (may be
 * NULL). Indices must be valid; this runs every training step. */
void dataset_gather(const soma_dataset *ds, const int *indices, int n, float mean, float std,
                    float *out, int32_t *labels);

/* Mean and (population) standard deviation of x/255 over every pixel of the
 * dataset, accumulated exactly through a byte histogram. A dataset whose
 * pixels are all equal gets std 1, so normalising never divides by zero. */
void dataset_pixel_stats(const soma_dataset *ds, float *mean, float *std);

#endif

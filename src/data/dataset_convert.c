/* Datasets to model inputs: normalised floats per channel, and the statistics behind them. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"

soma_status dataset_sample_bytes(const soma_dataset *ds, int i, uint8_t *buf,
                                 const uint8_t **bytes)
{
    if (!ds->stream) {
        *bytes = ds->images + (size_t)i * dataset_sample_size(ds);
        return SOMA_OK;
    }
    *bytes = buf;
    return ds->stream->load(ds->stream_state, i, buf);
}

/* out = x * scale + offset equals (x/255 - mean) / std up to rounding, and
 * vectorises (the loop runs over every batch). */
static void convert(const uint8_t *src, size_t count, float scale, float offset, float *dst)
{
    for (size_t j = 0; j < count; j++)
        dst[j] = (float)src[j] * scale + offset;
}

/* One sample, channel by channel: channel c takes mean[c * step], std[c * step]
 * (step 0: one pair for every channel). */
static void convert_sample(const soma_dataset *ds, const uint8_t *src, const float *mean,
                           const float *std, int step, float *dst)
{
    size_t plane = (size_t)ds->h * (size_t)ds->w;
    for (int c = 0; c < ds->c; c++) {
        double m = mean[c * step], s = std[c * step];
        convert(src + plane * (size_t)c, plane, (float)(1.0 / (255.0 * s)), (float)(-m / s),
                dst + plane * (size_t)c);
    }
}

/* A streamed dataset's statistics decode into a buffer of one sample. */
static soma_status stream_buffer(const soma_dataset *ds, uint8_t **buf)
{
    *buf = NULL;
    if (!ds->stream)
        return SOMA_OK;
    *buf = malloc(dataset_sample_size(ds));
    return *buf ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "%s: out of memory", ds->source);
}

/*
 * Streamed samples indices[i] (or first + i), decoded side by side on the
 * run's threads (one sample buffer each; one thread inside a lane of a split
 * step, which is parallel already). Each sample's floats depend on it alone,
 * so the result is the same for any thread count; the error reported is the
 * one of the lowest failing sample, as a serial loop would give.
 */
/* The first failure one thread met (no lock: one slot per thread). */
typedef struct failure_slot {
    int at; /* the sample's position in the batch; n when none failed */
    soma_status status;
    char message[512];
} failure_slot;

/* Sample `index` into buf: with a crop, cut at random when its coin says so. */
static soma_status stream_load(const soma_dataset *ds, int index, const dataset_crop *crop,
                               uint8_t *buf)
{
    if (crop) {
        rng r;
        rng_init(&r, crop->seed, RNG_AUGMENT_CROP, (uint64_t)crop->epoch, (uint64_t)index);
        /* one coin, drawn even when p is 1 (as augment_sample's steps do) */
        if (rng_uniform(&r) < crop->p)
            return ds->stream->load_random(ds->stream_state, index, &crop->rc, &r, buf);
    }
    return ds->stream->load(ds->stream_state, index, buf);
}

static soma_status stream_convert(const soma_dataset *ds, const int *indices, int first, int n,
                                  const dataset_crop *crop, const float *mean, const float *std,
                                  int step, float *out, int32_t *labels)
{
    size_t sample = dataset_sample_size(ds);
    int threads = omp_in_parallel() ? 1 : soma_threads();
    threads = threads > n ? n : threads < 1 ? 1 : threads;
    uint8_t *bufs = malloc(sample * (size_t)threads);
    failure_slot *slots = malloc(sizeof *slots * (size_t)threads);
    if (!bufs || !slots) {
        free(bufs);
        free(slots);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", ds->source);
    }
    for (int t = 0; t < threads; t++)
        slots[t].at = n;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n; i++) {
        int t = omp_get_thread_num();
        uint8_t *buf = bufs + sample * (size_t)t;
        int index = indices ? indices[i] : first + i;
        soma_status st = stream_load(ds, index, crop, buf);
        if (st == SOMA_OK) {
            convert_sample(ds, buf, mean, std, step, out + (size_t)i * sample);
            if (labels)
                labels[i] = ds->labels[index];
        } else if (i < slots[t].at) {
            slots[t].at = i;
            slots[t].status = st;
            snprintf(slots[t].message, sizeof slots[t].message, "%s", soma_last_error());
        }
    }
    int worst = 0;
    for (int t = 1; t < threads; t++)
        if (slots[t].at < slots[worst].at)
            worst = t;
    soma_status st = slots[worst].at < n ? soma_error(slots[worst].status, "%s",
                                                      slots[worst].message)
                                         : SOMA_OK;
    free(bufs);
    free(slots);
    return st;
}

/* Shuffled samples lie far apart in memory, where the hardware prefetchers
 * do not follow: without a hint, each sample's bytes and label are fetched
 * one cache miss after another (about 5% of a LeNet-5 step on one thread).
 * Samples this many ahead are asked for while one is converted: their
 * first bytes (past those, the prefetchers follow) and their label. */
#define GATHER_AHEAD 4
#define GATHER_AHEAD_BYTES 4096

static void prefetch_sample(const soma_dataset *ds, int index, size_t sample)
{
    const uint8_t *p = ds->images + (size_t)index * sample;
    size_t bytes = sample < GATHER_AHEAD_BYTES ? sample : GATHER_AHEAD_BYTES;
    for (size_t at = 0; at < bytes; at += 64)
        __builtin_prefetch(p + at);
    __builtin_prefetch(p + bytes - 1);
    __builtin_prefetch(ds->labels + index);
}

void dataset_prefetch(const soma_dataset *ds, const int *indices, int n)
{
    if (ds->stream)
        return;
    size_t sample = dataset_sample_size(ds);
    for (int i = 0; i < n; i++)
        prefetch_sample(ds, indices[i], sample);
}

/* mean[c * step], std[c * step] for channel c, as convert_sample takes them */
static soma_status gather(const soma_dataset *ds, const int *indices, int n, const float *mean,
                          const float *std, int step, float *out, int32_t *labels)
{
    if (ds->stream)
        return stream_convert(ds, indices, 0, n, NULL, mean, std, step, out, labels);
    size_t sample = dataset_sample_size(ds);
    for (int i = 0; i < n; i++) {
        if (i + GATHER_AHEAD < n)
            prefetch_sample(ds, indices[i + GATHER_AHEAD], sample);
        convert_sample(ds, ds->images + (size_t)indices[i] * sample, mean, std, step,
                       out + (size_t)i * sample);
        if (labels)
            labels[i] = ds->labels[indices[i]];
    }
    return SOMA_OK;
}

soma_status dataset_gather(const soma_dataset *ds, const int *indices, int n, const float *mean,
                           const float *std, float *out, int32_t *labels)
{
    return gather(ds, indices, n, mean, std, 1, out, labels);
}

soma_status dataset_gather_raw(const soma_dataset *ds, const int *indices, int n, float *out,
                               int32_t *labels)
{
    static const float zero = 0.0f, one = 1.0f; /* (x/255 - 0) / 1 in every channel */
    return gather(ds, indices, n, &zero, &one, 0, out, labels);
}

int dataset_can_crop(const soma_dataset *ds)
{
    return ds->stream && ds->stream->load_random;
}

soma_status dataset_gather_raw_cropped(const soma_dataset *ds, const int *indices, int n,
                                       const dataset_crop *crop, float *out, int32_t *labels)
{
    static const float zero = 0.0f, one = 1.0f;
    return stream_convert(ds, indices, 0, n, crop, &zero, &one, 0, out, labels);
}

static soma_status check_get(const soma_dataset *ds, int first, int n, const float *out,
                             const char *fn)
{
    if (!ds || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: no %s given", fn, ds ? "output" : "dataset");
    if (first < 0 || n <= 0 || first > ds->n - n)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: samples %d..%lld are out of range (%d samples)", ds->source,
                          first, (long long)first + n - 1, ds->n);
    return SOMA_OK;
}

static soma_status check_pair(const soma_dataset *ds, int channel, float mean, float std)
{
    if (!(std > 0.0f) || !isfinite(std) || !isfinite(mean)) {
        char which[24] = "";
        if (channel >= 0)
            snprintf(which, sizeof which, " of channel %d", channel);
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: normalisation mean %g, std %g%s: std must be a positive number",
                          ds->source, (double)mean, (double)std, which);
    }
    return SOMA_OK;
}

static soma_status get_samples(const soma_dataset *ds, int first, int n, const float *mean,
                               const float *std, int step, float *out)
{
    if (ds->stream)
        return stream_convert(ds, NULL, first, n, NULL, mean, std, step, out, NULL);
    size_t sample = dataset_sample_size(ds);
    for (int i = 0; i < n; i++)
        convert_sample(ds, ds->images + (size_t)(first + i) * sample, mean, std, step,
                       out + (size_t)i * sample);
    return SOMA_OK;
}

soma_status soma_dataset_image(const soma_dataset *ds, int i, uint8_t *out)
{
    if (!ds || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_image: no %s given",
                          ds ? "output" : "dataset");
    if (i < 0 || i >= ds->n)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: sample %d is out of range (%d samples)",
                          ds->source, i, ds->n);
    const uint8_t *bytes;
    SOMA_TRY(dataset_sample_bytes(ds, i, out, &bytes));
    if (bytes != out)
        memcpy(out, bytes, dataset_sample_size(ds));
    return SOMA_OK;
}

soma_status soma_dataset_get(const soma_dataset *ds, int first, int n, float mean, float std,
                             float *out)
{
    SOMA_TRY(check_get(ds, first, n, out, "soma_dataset_get"));
    SOMA_TRY(check_pair(ds, -1, mean, std));
    return get_samples(ds, first, n, &mean, &std, 0, out);
}

soma_status soma_dataset_get_channels(const soma_dataset *ds, int first, int n, int channels,
                                      const float *mean, const float *std, float *out)
{
    SOMA_TRY(check_get(ds, first, n, out, "soma_dataset_get_channels"));
    if (!mean || !std)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_dataset_get_channels: no mean or std given");
    if (channels != ds->c)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: samples have %d channel%s, %d normalisation "
                          "pairs given", ds->source, ds->c, ds->c == 1 ? "" : "s", channels);
    for (int c = 0; c < channels; c++)
        SOMA_TRY(check_pair(ds, c, mean[c], std[c]));
    return get_samples(ds, first, n, mean, std, 1, out);
}

/* Mean and population std of x/255 from a byte histogram of `count` values. */
static void histogram_stats(const uint64_t *hist, uint64_t count, float *mean, float *std)
{
    double sum = 0.0;
    for (int v = 0; v < 256; v++)
        sum += (double)hist[v] * (v / 255.0);
    double m = count ? sum / (double)count : 0.0, var = 0.0;
    for (int v = 0; v < 256; v++) {
        double d = v / 255.0 - m;
        var += (double)hist[v] * d * d;
    }
    double s = count ? sqrt(var / (double)count) : 0.0;
    *mean = (float)m;
    *std = s > 1e-12 ? (float)s : 1.0f;
}

soma_status dataset_pixel_stats(const soma_dataset *ds, float *mean, float *std)
{
    size_t plane = (size_t)ds->h * (size_t)ds->w;
    int count = ds->stream && ds->n > DATASET_STATS_SAMPLES ? DATASET_STATS_SAMPLES : ds->n;
    uint64_t *hist = calloc((size_t)ds->c * 256, sizeof *hist);
    uint8_t *buf;
    soma_status st = stream_buffer(ds, &buf);
    if (!hist && st == SOMA_OK)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory for %d channel histograms", ds->c);
    for (int s = 0; s < count && st == SOMA_OK; s++) {
        /* evenly spaced over the dataset when sampled */
        int i = (int)((long long)s * ds->n / count);
        const uint8_t *p;
        st = dataset_sample_bytes(ds, i, buf, &p);
        if (st != SOMA_OK)
            break;
        for (int c = 0; c < ds->c; c++) {
            uint64_t *h = hist + (size_t)c * 256;
            for (size_t k = 0; k < plane; k++)
                h[*p++]++;
        }
    }
    for (int c = 0; c < ds->c && st == SOMA_OK; c++)
        histogram_stats(hist + (size_t)c * 256, (uint64_t)count * plane, &mean[c], &std[c]);
    free(hist);
    free(buf);
    return st;
}

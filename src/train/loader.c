/* Background batch loading: one producer thread, two host buffers (loader.h). */
#include "train/loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/partition.h"
#include "data/dataset.h"

typedef struct slot {
    float *host;
    int32_t *labels;
    int step; /* the step whose batch it holds, -1 when free */
    soma_status status;  /* of loading it: a failure is the step's */
    char message[1024];  /* soma_error's, left on the loading thread */
} slot;

struct batch_loader {
    const soma_dataset *ds;
    augment_pipeline aug;
    int batch;
    float *scratch;
    slot slots[2];
    /* the epoch being loaded */
    const int *order;
    int n, first_step, steps, epoch;
    int part, parts; /* this process's part of each global batch */
    uint64_t seed;
    const float *mean, *std; /* per channel, the model's: unchanged during an epoch */
    pthread_t thread;
    int running, stop;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

void loader_normalize(float *x, int n, int c, size_t plane, const float *mean, const float *std)
{
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            float *p = x + ((size_t)i * c + ch) * plane, m = mean[ch], inv = 1.0f / std[ch];
            for (size_t k = 0; k < plane; k++)
                p[k] = (p[k] - m) * inv;
        }
}

soma_status loader_fill(const soma_dataset *ds, const augment_pipeline *aug, const int *indices,
                        int n, uint64_t seed, int epoch, const float *mean, const float *std,
                        float *out, int32_t *labels, float *scratch)
{
    SOMA_TRY(augment_gather(aug, ds, seed, epoch, indices, n, out, labels, scratch));
    loader_normalize(out, n, ds->c, (size_t)ds->h * ds->w, mean, std);
    return SOMA_OK;
}

static void *produce(void *arg)
{
    batch_loader *l = arg;
    for (int step = l->first_step; step < l->steps; step++) {
        slot *s = &l->slots[step & 1];
        pthread_mutex_lock(&l->lock);
        while (s->step != -1 && !l->stop)
            pthread_cond_wait(&l->changed, &l->lock);
        int stop = l->stop;
        pthread_mutex_unlock(&l->lock);
        if (stop)
            break;
        /* the slot is this thread's until it is marked filled */
        int first = step * l->batch, begin, end;
        int count = l->n - first < l->batch ? l->n - first : l->batch;
        partition(count, l->parts, l->part, &begin, &end);
        s->status = loader_fill(l->ds, &l->aug, l->order + first + begin, end - begin, l->seed,
                                l->epoch, l->mean, l->std, s->host, s->labels, l->scratch);
        if (s->status != SOMA_OK)
            snprintf(s->message, sizeof s->message, "%s", soma_last_error());
        pthread_mutex_lock(&l->lock);
        s->step = step;
        pthread_cond_broadcast(&l->changed);
        pthread_mutex_unlock(&l->lock);
    }
    return NULL;
}

static void free_buffers(batch_loader *l)
{
    free(l->scratch);
    for (int i = 0; i < 2; i++)
        free(l->slots[i].host), free(l->slots[i].labels);
    free(l);
}

soma_status loader_create(const soma_dataset *ds, const augment_pipeline *aug, int batch,
                          batch_loader **out)
{
    *out = NULL;
    batch_loader *l = calloc(1, sizeof *l);
    if (!l)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    l->ds = ds;
    l->aug = *aug;
    l->batch = batch;
    l->part = 0, l->parts = 1;
    size_t in = dataset_sample_size(ds) * (size_t)batch;
    l->scratch = malloc(sizeof(float) * augment_scratch_floats(ds->c, ds->h, ds->w));
    int ok = l->scratch != NULL;
    for (int i = 0; i < 2; i++) {
        l->slots[i].host = malloc(sizeof(float) * in);
        l->slots[i].labels = malloc(sizeof(int32_t) * batch);
        ok = ok && l->slots[i].host && l->slots[i].labels;
    }
    if (!ok) {
        free_buffers(l);
        return soma_error(SOMA_ERR_MEMORY, "out of memory for the batch loader");
    }
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        free_buffers(l);
        return soma_error(SOMA_ERR_MEMORY, "cannot create the batch loader's lock");
    }
    if (pthread_cond_init(&l->changed, NULL) != 0) {
        pthread_mutex_destroy(&l->lock);
        free_buffers(l);
        return soma_error(SOMA_ERR_MEMORY, "cannot create the batch loader's condition");
    }
    *out = l;
    return SOMA_OK;
}

void loader_set_part(batch_loader *l, int part, int parts)
{
    l->part = part, l->parts = parts;
}

soma_status loader_begin_epoch(batch_loader *l, const int *order, int n, int first_step,
                               int steps, uint64_t seed, int epoch, const float *mean,
                               const float *std)
{
    loader_end_epoch(l);
    l->order = order, l->n = n, l->first_step = first_step, l->steps = steps;
    l->seed = seed, l->epoch = epoch, l->mean = mean, l->std = std;
    l->stop = 0;
    l->slots[0].step = l->slots[1].step = -1;
    if (pthread_create(&l->thread, NULL, produce, l) != 0)
        return soma_error(SOMA_ERR_MEMORY, "cannot start the batch loading thread");
    l->running = 1;
    return SOMA_OK;
}

soma_status loader_next(batch_loader *l, int step, float **host, int32_t **labels)
{
    slot *s = &l->slots[step & 1];
    pthread_mutex_lock(&l->lock);
    while (s->step != step)
        pthread_cond_wait(&l->changed, &l->lock);
    pthread_mutex_unlock(&l->lock);
    *host = s->host;
    *labels = s->labels;
    if (s->status != SOMA_OK) /* the loading thread's failure, with its message */
        return soma_error(s->status, "%s", s->message);
    return SOMA_OK;
}

void loader_release(batch_loader *l, int step)
{
    pthread_mutex_lock(&l->lock);
    l->slots[step & 1].step = -1;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
}

void loader_end_epoch(batch_loader *l)
{
    if (!l || !l->running)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    l->running = 0;
}

void loader_free(batch_loader *l)
{
    if (!l)
        return;
    loader_end_epoch(l);
    pthread_cond_destroy(&l->changed);
    pthread_mutex_destroy(&l->lock);
    free_buffers(l);
}

/*
 * Test-time augmentation: each sample's softmax averaged over deterministic
 * copies (the sample, its shifts by 1 and 2 pixels, and their horizontal
 * flips when the run's augmentation flips).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/run_threads.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "nn/normalization.h"
#include "train/loader.h"
#include "train/step.h"

/* The shifts (dx, dy) of the copies, nearest first. */
static const int shifts[][2] = {
    {0, 0},   {1, 0},  {-1, 0},  {0, 1},   {0, -1}, {1, 1},  {1, -1}, {-1, 1}, {-1, -1},
    {2, 0},   {-2, 0}, {0, 2},   {0, -2},  {2, 1},  {2, -1}, {-2, 1}, {-2, -1}, {1, 2},
    {-1, 2},  {1, -2}, {-1, -2}, {2, 2},   {2, -2}, {-2, 2}, {-2, -2}};
#define NSHIFTS ((int)(sizeof shifts / sizeof shifts[0]))

typedef struct tta_buffers {
    float *raw, *host, *scratch, *probs;
    double *sum;
    int32_t *labels;
    int *indices;
} tta_buffers;

/* Softmax probabilities of the `n` samples in host, into b->probs. */
static soma_status probabilities(soma_model *m, int n, const tta_buffers *b)
{
    run_ctx ctx = {.be = m->be, .batch = n, .workspace = m->workspace, .grads = m->grads,
                   .metrics = m->metrics};
    const float *logits;
    SOMA_TRY(m->be->upload(m->input_buf, b->host, sizeof(float) * shape_size(m->input) * n));
    SOMA_TRY(network_forward(m, &ctx, &logits));
    SOMA_TRY(m->be->upload(m->labels, b->labels, sizeof(int32_t) * n));
    SOMA_TRY(m->be->softmax_xent_forward(logits, m->labels, n, m->classes, m->probs, m->metrics));
    m->step_slices = 1;
    return m->be->download(b->probs, m->probs, sizeof(float) * (size_t)n * m->classes);
}

static soma_status tta_dataset(soma_model *m, const soma_dataset *ds, int batch, int copies,
                               int flips, const tta_buffers *b, double *loss, double *accuracy)
{
    size_t in = shape_size(m->input);
    int k = m->classes;
    double loss_sum = 0.0;
    long long right = 0;
    for (int first = 0; first < ds->n; first += batch) {
        int count = ds->n - first < batch ? ds->n - first : batch;
        for (int i = 0; i < count; i++)
            b->indices[i] = first + i;
        SOMA_TRY(dataset_gather_raw(ds, b->indices, count, b->raw, b->labels));
        memset(b->sum, 0, sizeof(double) * (size_t)count * k);
        for (int copy = 0; copy < copies; copy++) {
            const int *d = shifts[flips ? copy / 2 : copy];
            memcpy(b->host, b->raw, sizeof(float) * in * count);
            for (int i = 0; i < count; i++)
                augment_translate(b->host + in * i, ds->c, ds->h, ds->w, d[0], d[1],
                                  flips && copy % 2, b->scratch);
            loader_normalize(b->host, count, ds->c, (size_t)ds->h * ds->w, m->norm_mean,
                             m->norm_std);
            SOMA_TRY(probabilities(m, count, b));
            for (size_t j = 0; j < (size_t)count * k; j++)
                b->sum[j] += b->probs[j];
        }
        for (int i = 0; i < count; i++) {
            const double *p = b->sum + (size_t)i * k;
            int best = 0;
            for (int c = 1; c < k; c++)
                if (p[c] > p[best])
                    best = c;
            right += best == b->labels[i];
            double mean = p[b->labels[i]] / copies;
            loss_sum -= log(mean > 1e-300 ? mean : 1e-300);
        }
    }
    *loss = loss_sum / ds->n;
    *accuracy = (double)right / ds->n;
    return SOMA_OK;
}

soma_status soma_evaluate_tta(soma_model *m, const soma_dataset *ds, int batch, int copies,
                              const char *augment, double *loss, double *accuracy)
{
    if (!m || !ds || !loss || !accuracy)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_evaluate_tta: no %s given",
                          !m ? "model" : !ds ? "dataset" : "output");
    augment_pipeline aug;
    if (augment_parse(augment, &aug) != SOMA_OK)
        return soma_error_context(SOMA_ERR_ARGUMENT, "augment");
    int flips = augment_has(&aug, AUG_FLIP), most = flips ? 2 * NSHIFTS : NSHIFTS;
    if (copies < 1 || copies > most)
        return soma_error(SOMA_ERR_ARGUMENT, "TTA copies must be in 1..%d%s, got %d", most,
                          flips ? "" : " (50 when the augmentation flips)", copies);
    if (copies == 1)
        return soma_evaluate(m, ds, batch, loss, accuracy);
    SOMA_TRY(evaluate_check_args(m, ds, batch));
    SOMA_TRY(evaluate_check_fit(m, ds));
    int threads_before = run_threads_set(soma_threads());
    soma_status st = SOMA_OK;
    if (!network_plan_covers(m, batch))
        st = network_plan_inference(m, batch);
    batch = m->planned_batch;
    size_t in = shape_size(m->input), out = (size_t)batch * m->classes;
    tta_buffers b = {malloc(sizeof(float) * in * batch), malloc(sizeof(float) * in * batch),
                     malloc(sizeof(float) * in), malloc(sizeof(float) * out),
                     malloc(sizeof(double) * out), malloc(sizeof(int32_t) * batch),
                     malloc(sizeof(int) * batch)};
    if (st == SOMA_OK && (!b.raw || !b.host || !b.scratch || !b.probs || !b.sum || !b.labels ||
                          !b.indices))
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = tta_dataset(m, ds, batch, copies, flips, &b, loss, accuracy);
    free(b.raw), free(b.host), free(b.scratch), free(b.probs), free(b.sum), free(b.labels);
    free(b.indices);
    run_threads_set(threads_before);
    return st;
}

#include "train/step.h"

#include <stdlib.h>

#include "data/dataset.h"

void train_step(soma_model *m, optimizer *opt, float lr, int batch, const int32_t *labels,
                uint64_t seed, long long global_step, double *loss_sum, int *correct)
{
    run_ctx ctx = {.be = m->be, .batch = batch, .training = 1, .seed = seed,
                   .step = global_step, .workspace = m->workspace, .grads = m->grads};
    network_zero_grads(m);
    network_forward(m, &ctx);
    network_loss(m, batch, labels, loss_sum, correct);
    network_backward(m, &ctx);
    optimizer_step(opt, lr, m->params, m->grads);
}

soma_status evaluate_dataset(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                             double *accuracy)
{
    if (ds->c != m->input.c || ds->h != m->input.h || ds->w != m->input.w)
        return soma_error(SOMA_ERR_SHAPE, "%s: samples are %dx%dx%d, the model expects %dx%dx%d",
                          ds->source, ds->c, ds->h, ds->w, m->input.c, m->input.h, m->input.w);
    if (ds->classes > m->classes)
        return soma_error(SOMA_ERR_SHAPE, "%s: labels go up to %d, the model has %d classes",
                          ds->source, ds->classes - 1, m->classes);
    if (m->planned_batch < batch)
        SOMA_TRY(network_plan(m, batch));
    batch = m->planned_batch;
    size_t in_size = shape_size(m->input);
    float *host = malloc(sizeof(float) * in_size * batch);
    int32_t *labels = malloc(sizeof(int32_t) * batch);
    int *indices = malloc(sizeof(int) * batch);
    if (!host || !labels || !indices) {
        free(host), free(labels), free(indices);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    run_ctx ctx = {.be = m->be, .workspace = m->workspace, .grads = m->grads};
    double loss_sum = 0.0;
    long long right = 0;
    for (int first = 0; first < ds->n; first += batch) {
        int count = ds->n - first < batch ? ds->n - first : batch;
        for (int i = 0; i < count; i++)
            indices[i] = first + i;
        dataset_gather(ds, indices, count, m->norm_mean, m->norm_std, host, labels);
        m->be->upload(m->input_buf, host, sizeof(float) * in_size * count);
        ctx.batch = count;
        const float *logits = network_forward(m, &ctx);
        double l;
        int c;
        m->be->upload(m->labels, labels, sizeof(int32_t) * count);
        m->be->softmax_xent_forward(logits, m->labels, count, m->classes, m->probs, &l, &c);
        loss_sum += l;
        right += c;
    }
    free(host), free(labels), free(indices);
    *loss = loss_sum / ds->n;
    *accuracy = (double)right / ds->n;
    return SOMA_OK;
}

soma_status soma_evaluate(soma_model *m, const soma_dataset *ds, int batch, double *loss,
                          double *accuracy)
{
    if (batch <= 0 || batch > 65536)
        return soma_error(SOMA_ERR_ARGUMENT, "batch must be in 1..65536, got %d", batch);
    if (ds->n <= 0)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: the dataset is empty", ds->source);
    if (m->norm_std <= 0.0f)
        return soma_error(SOMA_ERR_ARGUMENT, "the model has no input normalisation: "
                                             "train it or load it from a checkpoint");
    return evaluate_dataset(m, ds, batch, loss, accuracy);
}

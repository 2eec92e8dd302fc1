/* The public model API: opening models, accessors, prediction. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/edit_distance.h"
#include "core/run_threads.h"
#include "nn/network.h"

/* generated from the files in models/ (cmake/embed_models.cmake) */
extern const struct {
    const char *name;
    const char *text;
} soma_zoo_table[];

soma_status soma_model_parse(const char *text, const char *name, soma_model **out)
{
    if (!out || !text)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_parse: no %s given",
                          out ? "text" : "output");
    *out = NULL;
    if (!name)
        name = "<model>";
    model_spec spec;
    SOMA_TRY(modelfile_parse(text, name, &spec));
    soma_status st = network_build(&spec, text, name, out);
    model_spec_free(&spec);
    return st;
}

soma_status soma_model_load_file(const char *path, soma_model **out)
{
    if (!out || !path)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_load_file: no %s given",
                          out ? "path" : "output");
    *out = NULL;
    model_spec spec;
    char *text;
    SOMA_TRY(modelfile_load(path, &spec, &text));
    soma_status st = network_build(&spec, text, path, out);
    model_spec_free(&spec);
    free(text);
    return st;
}

const char *const *soma_zoo_names(void)
{
    static const char *names[64];
    if (!names[0])
        for (int i = 0; soma_zoo_table[i].name && i < 63; i++)
            names[i] = soma_zoo_table[i].name;
    return names;
}

/* The zoo model that a name which is none may have meant: "lenet" for
 * lenet5, and "lenet5.cfg" or "models/lenet5.cfg" (the zoo's own file, given
 * from outside the repository) as well; NULL if none is close. */
static const char *zoo_suggestion(const char *name, int *exact)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".cfg") == 0)
        n -= 4;
    char stem[EDIT_DISTANCE_MAX_LEN + 1];
    if (n > EDIT_DISTANCE_MAX_LEN)
        return NULL;
    memcpy(stem, base, n);
    stem[n] = '\0';
    const char *const *names = soma_zoo_names();
    int count = 0;
    while (names[count])
        count++;
    const char *hint = suggest_word(stem, names, count);
    *exact = hint && strcmp(hint, stem) == 0;
    return hint;
}

soma_status soma_model_open(const char *name_or_path, soma_model **out)
{
    if (!out || !name_or_path)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_open: no %s given",
                          out ? "model name or path" : "output");
    for (int i = 0; soma_zoo_table[i].name; i++)
        if (strcmp(soma_zoo_table[i].name, name_or_path) == 0) {
            char file[128];
            snprintf(file, sizeof file, "models/%s.cfg", name_or_path);
            return soma_model_parse(soma_zoo_table[i].text, file, out);
        }
    int exact = 0;
    const char *hint = zoo_suggestion(name_or_path, &exact);
    if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.')) {
        char list[512] = "";
        for (int i = 0; soma_zoo_table[i].name; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, soma_zoo_table[i].name, sizeof list - strlen(list) - 1);
        }
        if (hint)
            return soma_error(SOMA_ERR_ARGUMENT,
                              "unknown model '%s' (did you mean '%s'?): expected one of %s, or a "
                              "model file path",
                              name_or_path, hint, list);
        return soma_error(SOMA_ERR_ARGUMENT,
                          "unknown model '%s': expected one of %s, or a model file path",
                          name_or_path, list);
    }
    soma_status st = soma_model_load_file(name_or_path, out);
    if (st != SOMA_ERR_IO || !hint || access(name_or_path, F_OK) == 0)
        return st;
    char message[512];
    snprintf(message, sizeof message, "%s", soma_last_error());
    if (exact)
        return soma_error(st, "%s (the zoo model '%s' is built in: give its name, %s, without a "
                          "path or .cfg)",
                          message, hint, hint);
    return soma_error(st, "%s (did you mean the zoo model '%s'?)", message, hint);
}

/* Getters give 0, "" or NULL for a NULL model, as the dataset's do. */
size_t soma_model_param_count(const soma_model *m) { return m ? m->nparams : 0; }

void soma_model_input_shape(const soma_model *m, int *c, int *h, int *w)
{
    if (c)
        *c = m ? m->input.c : 0;
    if (h)
        *h = m ? m->input.h : 0;
    if (w)
        *w = m ? m->input.w : 0;
}

int soma_model_classes(const soma_model *m) { return m ? m->classes : 0; }

const char *soma_model_text(const soma_model *m) { return m ? m->text : ""; }

/* The forward passes of soma_model_predict, planned_batch samples at a time:
 * probabilities, or the logits before the softmax. */
static soma_status predict_planned(soma_model *m, const float *input, int n, float *probs,
                                   int logits_only)
{
    int batch = m->planned_batch;
    run_ctx ctx = {.be = m->be, .workspace = m->workspace, .grads = m->grads};
    size_t in_size = shape_size(m->input);
    for (int first = 0; first < n; first += batch) {
        int count = n - first < batch ? n - first : batch;
        const float *logits;
        ctx.batch = count;
        SOMA_TRY(m->be->upload(m->input_buf, input + in_size * first,
                               sizeof(float) * in_size * count));
        SOMA_TRY(network_forward(m, &ctx, &logits));
        if (!logits_only)
            SOMA_TRY(m->be->softmax_xent_forward(logits, NULL, count, m->classes, m->probs,
                                                 NULL));
        SOMA_TRY(m->be->download(probs + (size_t)m->classes * first,
                                 logits_only ? logits : m->probs,
                                 sizeof(float) * (size_t)m->classes * count));
    }
    return SOMA_OK;
}

/* Evaluation-mode forward of up to 256 samples at a time. */
static soma_status predict(soma_model *m, const float *input, int n, float *probs,
                           int logits_only)
{
    if (!m || !input || !probs)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_%s: no %s given",
                          logits_only ? "logits" : "predict",
                          !m ? "model" : !input ? "input" : "output");
    if (n <= 0)
        return soma_error(SOMA_ERR_ARGUMENT, "predict: %d samples", n);
    int batch = n < 256 ? n : 256;
    /* the thread count it starts with holds to its end, whatever
     * soma_set_threads does meanwhile; a plan made for another count (by a
     * run with its own) is made again, or its workspace is too small */
    int threads_before = run_threads_set(soma_threads());
    soma_status st = SOMA_OK;
    if (!network_plan_covers(m, batch))
        st = network_plan_inference(m, batch);
    if (st == SOMA_OK)
        st = predict_planned(m, input, n, probs, logits_only);
    run_threads_set(threads_before);
    return st;
}

soma_status soma_model_predict(soma_model *m, const float *input, int n, float *probs)
{
    return predict(m, input, n, probs, 0);
}

soma_status soma_model_logits(soma_model *m, const float *input, int n, float *logits)
{
    return predict(m, input, n, logits, 1);
}

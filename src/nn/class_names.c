/* Class names of a model: set from the training data, saved and loaded with checkpoints. */
#include "nn/class_names.h"

#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "io/json.h"

void class_names_free(soma_model *m)
{
    for (int k = 0; k < m->nclass_names; k++)
        free(m->class_names[k]);
    free(m->class_names);
    m->class_names = NULL;
    m->nclass_names = 0;
}

soma_status class_names_set(soma_model *m, char *const *names, int n)
{
    if (n > m->classes)
        n = m->classes;
    char **copy = calloc((size_t)n + 1, sizeof *copy);
    if (!copy)
        return soma_error(SOMA_ERR_MEMORY, "out of memory for %d class names", n);
    for (int k = 0; k < n; k++)
        if (!(copy[k] = strdup(names[k] ? names[k] : ""))) {
            for (int j = 0; j < k; j++)
                free(copy[j]);
            free(copy);
            return soma_error(SOMA_ERR_MEMORY, "out of memory for %d class names", n);
        }
    class_names_free(m);
    m->class_names = copy;
    m->nclass_names = n;
    return SOMA_OK;
}

const char *soma_model_class_name(const soma_model *m, int k)
{
    if (!m || k < 0 || k >= m->nclass_names)
        return NULL;
    return m->class_names[k];
}

soma_status class_names_write_meta(st_writer *w, const soma_model *m)
{
    if (m->nclass_names == 0)
        return SOMA_OK;
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "[");
    for (int k = 0; k < m->nclass_names; k++) {
        if (k)
            strbuf_append(&sb, ",");
        strbuf_append_json_string(&sb, m->class_names[k]);
    }
    strbuf_append(&sb, "]");
    char *text = strbuf_take(&sb);
    if (!text)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    soma_status st = st_writer_set_meta(w, "class_names", text);
    free(text);
    return st;
}

soma_status class_names_read_meta(const st_file *f, const char *path, soma_model *m)
{
    const char *text = st_meta(f, "class_names");
    if (!text)
        return SOMA_OK;
    json_value *v = NULL;
    if (json_parse(text, strlen(text), path, &v) != SOMA_OK || json_typeof(v) != JSON_ARRAY ||
        json_count(v) > (size_t)m->classes) {
        json_free(v);
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: metadata 'class_names' is not a JSON array of at most %d strings "
                          "(one per class)",
                          path, m->classes);
    }
    int n = (int)json_count(v);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    soma_status st = names ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
    for (int k = 0; k < n && st == SOMA_OK; k++)
        if (!(names[k] = json_string(json_at(v, (size_t)k))))
            st = soma_error(SOMA_ERR_FORMAT, "%s: metadata 'class_names': item %d is not a string",
                            path, k);
    if (st == SOMA_OK)
        st = class_names_set(m, (char *const *)names, n);
    free(names);
    json_free(v);
    return st;
}

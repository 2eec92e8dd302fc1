/* The public face of augmentation: checking a spec, and samples as training sees them. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"

soma_status soma_augment_parse(const char *spec, char **canonical)
{
    if (canonical)
        *canonical = NULL;
    augment_pipeline p;
    SOMA_TRY(augment_parse(spec, &p));
    if (!canonical)
        return SOMA_OK;
    char text[AUGMENT_TEXT_MAX];
    augment_canonical(&p, text, sizeof text);
    *canonical = malloc(strlen(text) + 1);
    if (!*canonical)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    memcpy(*canonical, text, strlen(text) + 1);
    return SOMA_OK;
}

soma_status soma_augment_check(const char *spec, const soma_dataset *ds)
{
    if (!ds)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_augment_check: no dataset given");
    augment_pipeline p;
    soma_status st = augment_parse(spec, &p);
    if (st == SOMA_OK)
        st = augment_check_data(&p, ds);
    return st == SOMA_OK ? SOMA_OK : soma_error_context(st, "augment");
}

soma_status soma_augment_get(const soma_dataset *ds, const char *spec, uint64_t seed, int epoch,
                             int first, int n, float *out)
{
    if (!ds || !out)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_augment_get: no %s given",
                          ds ? "output" : "dataset");
    if (first < 0 || n <= 0 || first > ds->n - n)
        return soma_error(SOMA_ERR_ARGUMENT,
                          "%s: samples %d..%lld are out of range (%d samples)", ds->source,
                          first, (long long)first + n - 1, ds->n);
    if (epoch < 0)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_augment_get: epoch %d is negative", epoch);
    SOMA_TRY(soma_augment_check(spec, ds));
    augment_pipeline p;
    soma_status st = augment_parse(spec, &p);
    if (st != SOMA_OK)
        return st;
    float *scratch = malloc(sizeof(float) * augment_scratch_floats(ds->c, ds->h, ds->w));
    int *indices = malloc(sizeof(int) * (size_t)n);
    if (!scratch || !indices) {
        free(scratch);
        free(indices);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < n; i++)
        indices[i] = first + i;
    st = augment_gather(&p, ds, seed, epoch, indices, n, out, NULL, scratch);
    free(scratch);
    free(indices);
    return st;
}

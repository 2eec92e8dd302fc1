/* One image file as a model's normalised input, for `soma predict`. */
#include <stdint.h>
#include <stdlib.h>

#include "cli/image_read.h"
#include "core/error.h"

soma_status image_to_input(const char *path, int c, int h, int w, soma_image_fit fit,
                           const float *mean, const float *std, float *out)
{
    size_t plane = (size_t)h * (size_t)w;
    uint8_t *bytes = malloc(plane * (size_t)(c > 0 ? c : 1));
    if (!bytes)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    soma_status st = soma_image_read(path, c, h, w, fit, bytes);
    /* std > 0: a checkpoint with any other normalisation is refused at load */
    for (int k = 0; k < c && st == SOMA_OK; k++)
        for (size_t i = 0; i < plane; i++)
            out[(size_t)k * plane + i] = (bytes[(size_t)k * plane + i] / 255.0f - mean[k]) / std[k];
    free(bytes);
    return st;
}

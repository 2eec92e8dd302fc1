/*
 * Loads a checkpoint written by soma_train (or `soma train`) and classifies
 * one grayscale image, through libsoma's public API only. The image reader is
 * part of the example: a binary PGM (P5, 8-bit) of the model's input size.
 *
 * Usage: classify CHECKPOINT IMAGE.pgm
 */
#include <soma.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads a P5 PGM with maxval 255 into a new width*height buffer; NULL (and a
 * message on stderr) when the file is not one. */
static unsigned char *read_pgm(const char *path, int *width, int *height)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    int maxval = 0;
    unsigned char *pixels = NULL;
    /* "P5", width, height, maxval, then one whitespace byte before the pixels
     * (header comments are not handled: this is an example, not a library). */
    if (fscanf(f, "P5 %d %d %d", width, height, &maxval) != 3 || fgetc(f) == EOF ||
        *width < 1 || *height < 1 || *width > 4096 || *height > 4096 || maxval != 255) {
        fprintf(stderr, "%s: not an 8-bit binary PGM (P5, maxval 255)\n", path);
    } else {
        size_t n = (size_t)*width * (size_t)*height;
        pixels = malloc(n);
        if (pixels && fread(pixels, 1, n, f) != n) {
            fprintf(stderr, "%s: truncated: expected %zu pixels\n", path, n);
            free(pixels);
            pixels = NULL;
        }
    }
    fclose(f);
    return pixels;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: classify CHECKPOINT IMAGE.pgm\n");
        return 2;
    }
    soma_model *model = NULL;
    soma_status st = soma_checkpoint_load_model(argv[1], &model);
    if (st != SOMA_OK) {
        fprintf(stderr, "classify: %s\n", soma_last_error());
        return 1;
    }
    int c, h, w, width, height, rc = 1;
    soma_model_input_shape(model, &c, &h, &w);
    int classes = soma_model_classes(model);
    unsigned char *pixels = read_pgm(argv[2], &width, &height);
    float *input = malloc(sizeof(float) * (size_t)h * (size_t)w);
    float *probs = malloc(sizeof(float) * (size_t)classes);
    if (!pixels || !input || !probs)
        goto done;
    if (c != 1 || width != w || height != h) {
        fprintf(stderr, "classify: %s is %dx%d; the model takes %d channel(s) of %dx%d\n", argv[2],
                width, height, c, w, h);
        goto done;
    }
    /* The normalisation the model was trained with, per input channel (one
     * here): (x/255 - mean) / std. */
    float mean, std;
    if ((st = soma_model_normalization_channels(model, 1, &mean, &std)) != SOMA_OK) {
        fprintf(stderr, "classify: %s\n", soma_last_error());
        goto done;
    }
    for (int i = 0; i < h * w; i++)
        input[i] = ((float)pixels[i] / 255.0f - mean) / std;
    if ((st = soma_model_predict(model, input, 1, probs)) != SOMA_OK) {
        fprintf(stderr, "classify: %s\n", soma_last_error());
        goto done;
    }
    int best = 0;
    for (int k = 1; k < classes; k++)
        if (probs[k] > probs[best])
            best = k;
    printf("%s: class %d, probability %.4f\n", argv[2], best, probs[best]);
    rc = 0;
done:
    free(probs);
    free(input);
    free(pixels);
    soma_model_free(model);
    return rc;
}

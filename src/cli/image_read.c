/* Single images for `soma predict`: binary PGM, and PNG when libpng is there. */
#include "cli/image_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#ifdef SOMA_HAVE_PNG
#include <png.h>
#endif

#define IMAGE_MAX_SIDE 16384

void image_free(image *img)
{
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* Reads one unsigned decimal header field of a PGM, skipping blanks and '#' comments. */
static int pgm_field(FILE *fp, long *value)
{
    int c = fgetc(fp);
    for (;;) {
        while (c != EOF && isspace(c))
            c = fgetc(fp);
        if (c != '#')
            break;
        while (c != EOF && c != '\n')
            c = fgetc(fp);
    }
    if (c == EOF || !isdigit(c))
        return 0;
    long v = 0;
    while (c != EOF && isdigit(c)) {
        if (v > 1000000)
            return 0;
        v = v * 10 + (c - '0');
        c = fgetc(fp);
    }
    /* exactly one whitespace byte ends the field (it may precede binary data) */
    if (c == EOF || !isspace(c))
        return 0;
    *value = v;
    return 1;
}

static soma_status read_pgm(FILE *fp, const char *path, image *out)
{
    long width, height, maxval;
    if (!pgm_field(fp, &width) || !pgm_field(fp, &height) || !pgm_field(fp, &maxval))
        return soma_error(SOMA_ERR_FORMAT, "%s: malformed PGM header", path);
    if (width < 1 || height < 1 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE)
        return soma_error(SOMA_ERR_FORMAT, "%s: PGM size %ldx%ld is out of range", path, width,
                          height);
    if (maxval < 1 || maxval > 255)
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: PGM maxval %ld is not supported (8-bit images only)", path, maxval);
    size_t n = (size_t)width * (size_t)height;
    uint8_t *pixels = malloc(n);
    if (!pixels)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    if (fread(pixels, 1, n, fp) != n) {
        free(pixels);
        return soma_error(SOMA_ERR_FORMAT, "%s: PGM data is truncated (expected %zu bytes)", path,
                          n);
    }
    if (maxval != 255)
        for (size_t i = 0; i < n; i++)
            pixels[i] = (uint8_t)(pixels[i] > maxval ? 255 : pixels[i] * 255 / maxval);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = 1;
    out->pixels = pixels;
    return SOMA_OK;
}

#ifdef SOMA_HAVE_PNG
static soma_status read_png(const char *path, image *out)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path))
        return soma_error(SOMA_ERR_FORMAT, "%s: %s", path, png.message);
    if (png.width > IMAGE_MAX_SIDE || png.height > IMAGE_MAX_SIDE) {
        png_image_free(&png);
        return soma_error(SOMA_ERR_FORMAT, "%s: PNG size %ux%u is out of range", path,
                          png.width, png.height);
    }
    int color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    png.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY; /* alpha is composited away */
    size_t size = PNG_IMAGE_SIZE(png);
    uint8_t *pixels = malloc(size);
    if (!pixels) {
        png_image_free(&png);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    }
    if (!png_image_finish_read(&png, NULL, pixels, 0, NULL)) {
        free(pixels);
        return soma_error(SOMA_ERR_FORMAT, "%s: %s", path, png.message);
    }
    out->width = (int)png.width;
    out->height = (int)png.height;
    out->channels = color ? 3 : 1;
    out->pixels = pixels;
    return SOMA_OK;
}
#endif

soma_status image_read(const char *path, image *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, 2, fp);
    if (got == 2 && magic[0] == 'P' && magic[1] == '5') {
        soma_status st = read_pgm(fp, path, out);
        fclose(fp);
        return st;
    }
    got += fread(magic + 2, 1, 6, fp);
    fclose(fp);
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got == 8 && memcmp(magic, png_magic, 8) == 0) {
#ifdef SOMA_HAVE_PNG
        return read_png(path, out);
#else
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: PNG images need a soma built with libpng; convert to PGM (P5)",
                          path);
#endif
    }
    if (got >= 2 && magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '6')
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: only binary 8-bit PGM (P5) is supported among the netpbm formats",
                          path);
    return soma_error(SOMA_ERR_FORMAT, "%s: not an image soma can read (PGM P5, PNG, IDX)", path);
}

soma_status image_to_input(const image *img, const char *path, int c, int h, int w, float mean,
                           float std, float *out)
{
    if (img->width != w || img->height != h)
        return soma_error(SOMA_ERR_SHAPE,
                          "%s: image is %dx%d but the model expects %dx%d (width x height); "
                          "resize it first",
                          path, img->width, img->height, w, h);
    if (c != 1 && c != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "%s: the model takes %d channels; images give 1 or 3",
                          path, c);
    if (!(std > 0))
        std = 1.0f;
    size_t plane = (size_t)h * (size_t)w;
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *px = img->pixels + i * (size_t)img->channels;
        for (int ch = 0; ch < c; ch++) {
            float v;
            if (img->channels == c)
                v = px[ch];
            else if (img->channels == 3) /* RGB -> gray: ITU-R BT.601 luma */
                v = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
            else /* gray -> RGB */
                v = px[0];
            out[(size_t)ch * plane + i] = (v / 255.0f - mean) / std;
        }
    }
    return SOMA_OK;
}

/* Decoding image files: binary PGM always, PNG with libpng, JPEG with libjpeg. */
#define _POSIX_C_SOURCE 200809L

#include "data/image_decode.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#include <png.h>

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

/* "x.pgm: image is 28x28 but the model expects 4x4", from the header alone. */
soma_status image_check_size(const char *path, long width, long height, int want_width,
                              int want_height)
{
    if (want_width > 0 && want_height > 0 && (width != want_width || height != want_height))
        return soma_error(SOMA_ERR_SHAPE,
                          "%s: image is %ldx%ld but the model expects %dx%d (width x height); "
                          "resize it first",
                          path, width, height, want_width, want_height);
    return SOMA_OK;
}

/* Bytes left in the stream from here, or -1 if it cannot tell (a pipe). */
static long long bytes_left(FILE *fp)
{
    long here = ftell(fp);
    if (here < 0 || fseek(fp, 0, SEEK_END) != 0)
        return -1;
    long end = ftell(fp);
    if (end < 0 || fseek(fp, here, SEEK_SET) != 0)
        return -1;
    return end - here;
}

static soma_status read_pgm(FILE *fp, const char *path, int want_width, int want_height,
                            image *out)
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
    SOMA_TRY(image_check_size(path, width, height, want_width, want_height));
    size_t n = (size_t)width * (size_t)height;
    long long left = bytes_left(fp);
    if (left >= 0 && (unsigned long long)left < n) /* before taking memory for pixels not there */
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: PGM data is truncated (expected %zu bytes, the file holds %lld)",
                          path, n, left);
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

/* libpng says "Read Error" when the file ends early: say which file, and that it is cut short. */
static soma_status png_failure(FILE *fp, const char *path, const png_image *png)
{
    if (feof(fp))
        return soma_error(SOMA_ERR_FORMAT, "%s: truncated PNG (the file ends early: %s)", path,
                          png->message);
    if (ferror(fp))
        return soma_error(SOMA_ERR_IO, "%s: cannot read: %s", path, png->message);
    return soma_error(SOMA_ERR_FORMAT, "%s: corrupt PNG: %s", path, png->message);
}

static soma_status read_png(FILE *fp, const char *path, int want_width, int want_height,
                            image *out)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    /* reads the signature and the header chunks only */
    if (!png_image_begin_read_from_stdio(&png, fp))
        return png_failure(fp, path, &png);
    soma_status st = SOMA_OK;
    if (png.width > IMAGE_MAX_SIDE || png.height > IMAGE_MAX_SIDE)
        st = soma_error(SOMA_ERR_FORMAT, "%s: PNG size %ux%u is out of range", path, png.width,
                        png.height);
    if (st == SOMA_OK)
        st = image_check_size(path, (long)png.width, (long)png.height, want_width, want_height);
    if (st != SOMA_OK) {
        png_image_free(&png);
        return st;
    }
    int color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    png.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    /* zeroed: libpng composites any alpha onto what the buffer holds, so black */
    uint8_t *pixels = calloc(1, PNG_IMAGE_SIZE(png));
    if (!pixels) {
        png_image_free(&png);
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    }
    if (!png_image_finish_read(&png, NULL, pixels, 0, NULL)) {
        free(pixels);
        return png_failure(fp, path, &png); /* finish_read has freed png */
    }
    out->width = (int)png.width;
    out->height = (int)png.height;
    out->channels = color ? 3 : 1;
    out->pixels = pixels;
    return SOMA_OK;
}

soma_status image_read_stream(FILE *fp, const char *path, int want_width, int want_height,
                              image *out)
{
    memset(out, 0, sizeof *out);
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, 2, fp);
    if (got == 2 && magic[0] == 'P' && magic[1] == '5')
        return read_pgm(fp, path, want_width, want_height, out);
    got += fread(magic + 2, 1, 6, fp);
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got == 8 && memcmp(magic, png_magic, 8) == 0) {
        rewind(fp);
        return read_png(fp, path, want_width, want_height, out);
    }
    if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
        rewind(fp);
        return jpeg_read(fp, path, want_width, want_height, out);
    }
    if (got >= 2 && magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '6')
        return soma_error(SOMA_ERR_UNSUPPORTED,
                          "%s: only binary 8-bit PGM (P5) is supported among the netpbm formats",
                          path);
    return soma_error(SOMA_ERR_FORMAT, "%s: not an image soma can read (PGM P5, PNG, JPEG, IDX)",
                      path);
}

soma_status image_read(const char *path, int want_width, int want_height, image *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    soma_status st = image_read_stream(fp, path, want_width, want_height, out);
    fclose(fp);
    return st;
}

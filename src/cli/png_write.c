/* PNG output through libpng (when the build found it). */
#include "cli/png_write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#ifdef SOMA_HAVE_PNG
#include <png.h>

/* libpng reports errors by longjmp; the message is kept for soma_error. */
static void on_png_error(png_structp png, png_const_charp message)
{
    char *buf = png_get_error_ptr(png);
    snprintf(buf, 256, "%s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png, (void)message;
}

/* Everything libpng touches after setjmp lives here, not in locals that a
 * longjmp could leave indeterminate. */
typedef struct png_job {
    const uint8_t *pixels;
    int width, height, channels;
    FILE *fp;
    char message[256];
} png_job;

static int write_rows(png_structp png, png_infop info, png_job *job)
{
    if (setjmp(png_jmpbuf(png)))
        return 0;
    png_init_io(png, job->fp);
    png_set_IHDR(png, info, (png_uint_32)job->width, (png_uint_32)job->height, 8,
                 job->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < job->height; y++)
        png_write_row(png, job->pixels + (size_t)y * job->width * job->channels);
    png_write_end(png, NULL);
    return 1;
}

soma_status png_write(const char *path, const uint8_t *pixels, int width, int height,
                      int channels)
{
    if (channels != 1 && channels != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "%s: PNG previews take 1 or 3 channels, not %d",
                          path, channels);
    png_job job = {pixels, width, height, channels, NULL, ""};
    job.fp = fopen(path, "wb");
    if (!job.fp)
        return soma_error(SOMA_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job.message, on_png_error,
                                              on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int ok = png && info && write_rows(png, info, &job);
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    int closed = fclose(job.fp) == 0;
    if (!ok)
        return soma_error(SOMA_ERR_IO, "%s: cannot write PNG: %s", path,
                          job.message[0] ? job.message : "out of memory");
    if (!closed)
        return soma_error(SOMA_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return SOMA_OK;
}
#else
soma_status png_write(const char *path, const uint8_t *pixels, int width, int height,
                      int channels)
{
    (void)pixels, (void)width, (void)height, (void)channels;
    return soma_error(SOMA_ERR_UNSUPPORTED,
                      "%s: this soma was built without libpng (install libpng-dev, rebuild)",
                      path);
}
#endif

/* JPEG files through libjpeg (libjpeg-turbo): errors are values, never exit(). */
#define _POSIX_C_SOURCE 200809L

#include "data/image_decode.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "core/error.h"

/* libjpeg's default error handler calls exit(): this one jumps back instead,
 * keeping the message. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static void on_error(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    f->mgr.format_message(cinfo, f->message);
    longjmp(f->back, 1);
}

/* Warnings (a corrupt entropy stream, data cut short) are errors: a
 * half-grey image would train silently. */
static void on_warning(j_common_ptr cinfo, int level)
{
    if (level < 0)
        on_error(cinfo);
}

/* The decode, apart so that nothing it changes lives across the longjmp. */
static soma_status decode(struct jpeg_decompress_struct *cinfo, const char *path,
                          int want_width, int want_height, uint8_t *volatile *pixels,
                          image *out)
{
    jpeg_read_header(cinfo, TRUE);
    if (cinfo->image_width > IMAGE_MAX_SIDE || cinfo->image_height > IMAGE_MAX_SIDE)
        return soma_error(SOMA_ERR_FORMAT, "%s: JPEG size %ux%u is out of range", path,
                          cinfo->image_width, cinfo->image_height);
    SOMA_TRY(image_check_size(path, (long)cinfo->image_width, (long)cinfo->image_height,
                              want_width, want_height));
    int gray = cinfo->jpeg_color_space == JCS_GRAYSCALE;
    cinfo->out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB; /* CMYK: libjpeg refuses */
    jpeg_start_decompress(cinfo);
    int channels = cinfo->output_components;
    if (channels != 1 && channels != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "%s: JPEG with %d components", path, channels);
    size_t row = (size_t)cinfo->output_width * (size_t)channels;
    uint8_t *buf = malloc(row * cinfo->output_height);
    *pixels = buf; /* freed by the caller, also after a jump */
    if (!buf)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW rows[1] = {buf + row * cinfo->output_scanline};
        jpeg_read_scanlines(cinfo, rows, 1);
    }
    jpeg_finish_decompress(cinfo);
    out->width = (int)cinfo->output_width;
    out->height = (int)cinfo->output_height;
    out->channels = channels;
    return SOMA_OK;
}

soma_status jpeg_read(FILE *fp, const char *path, int want_width, int want_height, image *out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    uint8_t *volatile pixels = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_error;
    failure.mgr.emit_message = on_warning;
    if (setjmp(failure.back)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        memset(out, 0, sizeof *out);
        return soma_error(SOMA_ERR_FORMAT, "%s: corrupt or truncated JPEG: %s", path,
                          failure.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, fp);
    soma_status st = decode(&cinfo, path, want_width, want_height, &pixels, out);
    jpeg_destroy_decompress(&cinfo);
    if (st != SOMA_OK) {
        free(pixels);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->pixels = pixels;
    return SOMA_OK;
}

/* PNG output through libpng's simplified API. */
#include "cli/png_write.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* libpng's description of 8-bit gray (1 channel) or RGB (3) pixels. */
static png_image image_of(int width, int height, int channels)
{
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    return image;
}

soma_status png_write(const char *path, const uint8_t *pixels, int width, int height,
                      int channels)
{
    if (channels != 1 && channels != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "%s: PNG files hold 1 or 3 channels, not %d",
                          path, channels);
    png_image png = image_of(width, height, channels);
    if (!png_image_write_to_file(&png, path, 0, pixels, 0, NULL))
        return soma_error(SOMA_ERR_IO, "%s: cannot write the PNG: %s", path, png.message);
    return SOMA_OK;
}

soma_status png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t **png,
                       size_t *len)
{
    *png = NULL, *len = 0;
    if (channels != 1 && channels != 3)
        return soma_error(SOMA_ERR_UNSUPPORTED, "PNG images hold 1 or 3 channels, not %d",
                          channels);
    png_image image = image_of(width, height, channels);
    png_alloc_size_t size = 0;
    /* the first call measures, the second writes */
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL))
        return soma_error(SOMA_ERR_IO, "cannot encode the PNG: %s", image.message);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (!png_image_write_to_memory(&image, buf, &size, 0, pixels, 0, NULL)) {
        free(buf);
        return soma_error(SOMA_ERR_IO, "cannot encode the PNG: %s", image.message);
    }
    *png = buf, *len = size;
    return SOMA_OK;
}

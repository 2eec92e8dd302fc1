/* Telling IDX files (gzip or raw) from images for `soma predict`, and their shape. */
#include <stdio.h>
#include <zlib.h>

#include "cli/image_read.h"

int looks_like_idx(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char m[4] = {0};
    size_t got = fread(m, 1, 4, fp);
    fclose(fp);
    if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b) /* gzip */
        return 1;
    return got == 4 && m[0] == 0 && m[1] == 0 && m[2] == 0x08 && m[3] >= 1 && m[3] <= 4;
}

int idx_image_shape(const char *path, int *c, int *h, int *w)
{
    gzFile gz = gzopen(path, "rb"); /* reads raw files as they are */
    if (!gz)
        return 0;
    unsigned char head[4 + 4 * 4];
    int got = gzread(gz, head, 4);
    int ndim = got == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 ? head[3] : 0;
    int ok = (ndim == 3 || ndim == 4) && gzread(gz, head + 4, 4u * (unsigned)ndim) == 4 * ndim;
    gzclose(gz);
    if (!ok)
        return 0;
    long dims[4];
    for (int i = 0; i < ndim; i++) {
        const unsigned char *b = head + 4 + 4 * i;
        dims[i] = (long)b[0] << 24 | (long)b[1] << 16 | (long)b[2] << 8 | b[3];
        if (dims[i] > 1 << 30)
            return 0;
    }
    *c = ndim == 4 ? (int)dims[1] : 1;
    *h = (int)dims[ndim - 2];
    *w = (int)dims[ndim - 1];
    return 1;
}

/* Telling IDX files (gzip or raw) from images for `soma predict`. */
#include <stdio.h>

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
